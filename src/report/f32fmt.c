/* Shortest round-trip number printing for the result files: numpy's float32 text (Dragon4 in numpy's "unique"
 * mode, laid out by numpy's scalar rule) for the original layout, and Python's float64 repr for broad's. */
#include "vnp/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shortest significant digits of x (> 0, finite) that parse back to the same value (a float32 when f32, else a
 * float64): fills digits (no dot, no trailing zeros) and sets exp10 so that x ~ d1.d2d3... * 10^exp10. */
static int shortest_digits(double x, int f32, char *digits, int *exp10)
{
    for (int prec = 1; prec <= (f32 ? 9 : 17); prec++) {
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, (double)x);
        /* The correctly rounded prec-digit decimal is the closest one; at a power of two the rounding interval
         * is lopsided, so a neighbour one unit away may round-trip where it does not: try it too. */
        char *e = strchr(tmp, 'e');
        int ex = atoi(e + 1);
        char mant[24];
        int m = 0;
        for (char *p = tmp; p < e; p++)
            if (*p >= '0' && *p <= '9') mant[m++] = *p;
        mant[m] = '\0';
        long base = strtol(mant, NULL, 10);
        /* glibc rounds exactly, half to even, which is numpy's tie rule: the correctly rounded candidate wins
         * whenever it round-trips. Only at a power of two, where the rounding interval is lopsided, can a
         * neighbour one unit away round-trip when it does not. */
        static const int order[3] = {0, -1, 1};
        long best = -1;
        int best_ex = ex;
        for (int k = 0; k < 3 && best < 0; k++) {
            long cand = base + order[k];
            int cex = ex;
            long lo = 1;
            for (int i = 1; i < prec; i++) lo *= 10;
            if (cand < lo) continue; /* one digit fewer: covered by a lower precision */
            if (cand >= lo * 10) {
                cand /= 10;
                cex++;
            }
            char s[40];
            snprintf(s, sizeof s, "%lde%d", cand, cex - (prec - 1));
            if (f32 ? strtof(s, NULL) != (float)x : strtod(s, NULL) != x) continue;
            best = cand;
            best_ex = cex;
        }
        if (best >= 0) {
            char s[24];
            int n = snprintf(s, sizeof s, "%ld", best);
            while (n > 1 && s[n - 1] == '0') s[--n] = '\0';
            memcpy(digits, s, (size_t)n + 1);
            *exp10 = best_ex;
            return n;
        }
    }
    /* Unreachable for a finite value (9 digits always round-trip a float32, 17 a float64). */
    snprintf(digits, 2, "0");
    *exp10 = 0;
    return 1;
}

int vnp_format_f32(float x, char *buf)
{
    if (isnan(x)) return snprintf(buf, VNP_F32_STR_MAX, "nan");
    if (isinf(x)) return snprintf(buf, VNP_F32_STR_MAX, x < 0 ? "-inf" : "inf");
    char *out = buf;
    if (signbit(x)) *out++ = '-';
    float a = fabsf(x);
    if (a == 0.0f) return (int)(out - buf) + snprintf(out, VNP_F32_STR_MAX - 1, "0.0");

    char d[24];
    int e;
    int nd = shortest_digits(a, 1, d, &e);
    if ((double)a >= 1e-4 && (double)a < 1e6) {
        if (e >= 0) {
            /* integer part = first e+1 digits (zero-filled), fraction = the rest or "0" */
            for (int i = 0; i <= e; i++) *out++ = i < nd ? d[i] : '0';
            *out++ = '.';
            if (nd > e + 1)
                for (int i = e + 1; i < nd; i++) *out++ = d[i];
            else
                *out++ = '0';
        } else {
            *out++ = '0';
            *out++ = '.';
            for (int i = 0; i < -e - 1; i++) *out++ = '0';
            for (int i = 0; i < nd; i++) *out++ = d[i];
        }
        *out = '\0';
        return (int)(out - buf);
    }
    *out++ = d[0];
    if (nd > 1) {
        *out++ = '.';
        for (int i = 1; i < nd; i++) *out++ = d[i];
    }
    out += sprintf(out, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    return (int)(out - buf);
}

int vnp_format_f64(double x, char *buf)
{
    if (isnan(x)) return snprintf(buf, VNP_F32_STR_MAX, "nan");
    if (isinf(x)) return snprintf(buf, VNP_F32_STR_MAX, x < 0 ? "-inf" : "inf");
    char *out = buf;
    if (signbit(x)) *out++ = '-';
    double a = fabs(x);
    if (a == 0.0) return (int)(out - buf) + snprintf(out, VNP_F32_STR_MAX - 1, "0.0");
    char d[24];
    int e;
    int nd = shortest_digits(a, 0, d, &e);
    int decpt = e + 1; /* x = 0.d1d2... * 10^decpt, CPython's float_repr_style 'short' rule */
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            *out++ = '0';
            *out++ = '.';
            for (int i = 0; i < -decpt; i++) *out++ = '0';
            for (int i = 0; i < nd; i++) *out++ = d[i];
        } else {
            for (int i = 0; i < decpt; i++) *out++ = i < nd ? d[i] : '0';
            *out++ = '.';
            if (nd > decpt)
                for (int i = decpt; i < nd; i++) *out++ = d[i];
            else
                *out++ = '0';
        }
        *out = '\0';
        return (int)(out - buf);
    }
    *out++ = d[0];
    if (nd > 1) {
        *out++ = '.';
        for (int i = 1; i < nd; i++) *out++ = d[i];
    }
    out += sprintf(out, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    return (int)(out - buf);
}
