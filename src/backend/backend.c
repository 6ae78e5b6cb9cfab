/* Backend-independent pieces: releasing a backend, the ALiBi slopes and the reference GELU. */
#include "vnp/backend.h"

#include <math.h>

void vnp_backend_free(vnp_backend *be)
{
    if (be && be->ops && be->ops->destroy) be->ops->destroy(be);
}

/* get_slopes_power_of_2(n) of the MosaicBERT code: start = 2^(-2^-(log2 n - 3)), slope_i = start * start^i,
 * evaluated in double as Python does, then rounded to float as torch.tensor does. */
static void slopes_pow2(int n, double *out)
{
    double start = pow(2.0, -pow(2.0, -(log2((double)n) - 3.0)));
    for (int i = 0; i < n; i++) out[i] = start * pow(start, (double)i);
}

void vnp_alibi_slopes(int heads, float *slopes)
{
    if (heads <= 0) return;
    int c = 1;
    while (c * 2 <= heads) c *= 2; /* closest power of two <= heads */
    double tmp[2 * 4096];
    if (heads > 4096) heads = 4096; /* far beyond any real model; keeps tmp bounded */
    slopes_pow2(c, tmp);
    for (int h = 0; h < c; h++) slopes[h] = (float)tmp[h];
    if (c == heads) return;
    slopes_pow2(2 * c, tmp);
    for (int h = c, i = 0; h < heads; h++, i += 2) slopes[h] = (float)tmp[i]; /* [0::2][:heads-c] */
}

float vnp_gelu_ref(float x)
{
    return (x * 0.5f) * (1.0f + erff(x / 1.41421356f));
}
