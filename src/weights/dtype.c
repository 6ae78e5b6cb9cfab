/* Dtypes: names and sizes, half/bfloat16 bit conversions, and copying a (strided) tensor into another dtype. */
#include "table.h"

#include <string.h>

static const struct {
    const char *name;
    size_t size;
} dtypes[VNP_DT_COUNT] = {
    [VNP_DT_F32] = {"F32", 4}, [VNP_DT_F16] = {"F16", 2}, [VNP_DT_BF16] = {"BF16", 2}, [VNP_DT_F64] = {"F64", 8},
    [VNP_DT_I64] = {"I64", 8}, [VNP_DT_I32] = {"I32", 4}, [VNP_DT_I16] = {"I16", 2},   [VNP_DT_I8] = {"I8", 1},
    [VNP_DT_U8] = {"U8", 1},   [VNP_DT_BOOL] = {"BOOL", 1},
};

const char *vnp_dtype_name(vnp_dtype dt) { return (unsigned)dt < VNP_DT_COUNT ? dtypes[dt].name : "?"; }
size_t vnp_dtype_size(vnp_dtype dt) { return (unsigned)dt < VNP_DT_COUNT ? dtypes[dt].size : 0; }

int vnp_dtype_from_name(const char *name, vnp_dtype *out)
{
    for (int i = 0; i < VNP_DT_COUNT; i++) {
        if (strcmp(name, dtypes[i].name) == 0) {
            *out = (vnp_dtype)i;
            return VNP_OK;
        }
    }
    return VNP_ERR_UNSUPPORTED;
}

int vnp_dtype_is_float(vnp_dtype dt)
{
    return dt == VNP_DT_F32 || dt == VNP_DT_F16 || dt == VNP_DT_BF16 || dt == VNP_DT_F64;
}

float vnp_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13); /* inf / nan (payload kept) */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else { /* subnormal: normalise the mantissa */
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while (!(man & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t vnp_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xff, man = x & 0x7fffff;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000;
        unsigned shift = (unsigned)(14 - e);
        uint32_t r = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++; /* a carry into the exponent (even to inf) is right */
    return (uint16_t)(sign | r);
}

float vnp_bf16_to_f32(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t vnp_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* quiet nan */
    x += 0x7fffu + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

/* One element at p (any alignment) as a double. */
static double load(const unsigned char *p, vnp_dtype dt)
{
    switch (dt) {
    case VNP_DT_F32: { float v; memcpy(&v, p, 4); return v; }
    case VNP_DT_F16: { uint16_t v; memcpy(&v, p, 2); return vnp_f16_to_f32(v); }
    case VNP_DT_BF16: { uint16_t v; memcpy(&v, p, 2); return vnp_bf16_to_f32(v); }
    case VNP_DT_F64: { double v; memcpy(&v, p, 8); return v; }
    case VNP_DT_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case VNP_DT_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case VNP_DT_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case VNP_DT_I8: return (int8_t)p[0];
    case VNP_DT_U8: return p[0];
    case VNP_DT_BOOL: return p[0] != 0;
    default: return 0;
    }
}

static void store(unsigned char *p, vnp_dtype dt, double v)
{
    switch (dt) {
    case VNP_DT_F32: { float f = (float)v; memcpy(p, &f, 4); break; }
    case VNP_DT_F16: { uint16_t h = vnp_f32_to_f16((float)v); memcpy(p, &h, 2); break; }
    case VNP_DT_BF16: { uint16_t h = vnp_f32_to_bf16((float)v); memcpy(p, &h, 2); break; }
    case VNP_DT_F64: memcpy(p, &v, 8); break;
    default: break;
    }
}

/* A contiguous run of n elements from src (dtype sd) to dst (dtype dd). */
static void convert_run(const unsigned char *src, vnp_dtype sd, unsigned char *dst, vnp_dtype dd, size_t n)
{
    size_t ss = vnp_dtype_size(sd), ds = vnp_dtype_size(dd);
    if (sd == dd) {
        memcpy(dst, src, n * ss);
    } else if (sd == VNP_DT_F16 && dd == VNP_DT_F32) {
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            float f = vnp_f16_to_f32(h);
            memcpy(dst + 4 * i, &f, 4);
        }
    } else if (sd == VNP_DT_F32 && dd == VNP_DT_F16) {
        for (size_t i = 0; i < n; i++) {
            float f;
            memcpy(&f, src + 4 * i, 4);
            uint16_t h = vnp_f32_to_f16(f);
            memcpy(dst + 2 * i, &h, 2);
        }
    } else {
        for (size_t i = 0; i < n; i++) store(dst + i * ds, dd, load(src + i * ss, sd));
    }
}

int vnp_tensor_convert(const vnp_tensor *t, vnp_dtype to, int64_t first, int64_t count, void *dst)
{
    if (!t || (unsigned)t->dtype >= VNP_DT_COUNT || t->ndim < 0 || t->ndim > VNP_MAX_DIMS) return VNP_ERR_USAGE;
    if (!vnp_dtype_is_float(to) && to != t->dtype) {
        vnp_error("tensor '%s': cannot convert %s to %s", t->name ? t->name : "?", vnp_dtype_name(t->dtype),
                  vnp_dtype_name(to));
        return VNP_ERR_UNSUPPORTED;
    }
    if (first < 0 || count < 0 || first > t->numel || count > t->numel - first) return VNP_ERR_USAGE;
    if (count == 0) return VNP_OK;
    if (!t->data || !dst) return VNP_ERR_USAGE;
    const unsigned char *src = t->data;
    unsigned char *out = dst;
    size_t ss = vnp_dtype_size(t->dtype), ds = vnp_dtype_size(to);
    if (t->contiguous) {
        convert_run(src + (size_t)first * ss, t->dtype, out, to, (size_t)count);
        return VNP_OK;
    }
    /* Strided: walk the logical index of `first` forward, one innermost row at a time. */
    int nd = t->ndim;
    int64_t idx[VNP_MAX_DIMS], rem = first;
    for (int d = nd - 1; d >= 0; d--) {
        idx[d] = t->shape[d] ? rem % t->shape[d] : 0;
        rem = t->shape[d] ? rem / t->shape[d] : 0;
    }
    int64_t done = 0;
    while (done < count) {
        int64_t off = 0;
        for (int d = 0; d < nd; d++) off += idx[d] * t->strides[d];
        int64_t inner = nd ? t->shape[nd - 1] - idx[nd - 1] : 1, step = nd ? t->strides[nd - 1] : 1;
        if (inner > count - done) inner = count - done;
        if (step == 1) {
            convert_run(src + (size_t)off * ss, t->dtype, out + (size_t)done * ds, to, (size_t)inner);
        } else {
            for (int64_t i = 0; i < inner; i++) {
                const unsigned char *p = src + (size_t)(off + i * step) * ss;
                convert_run(p, t->dtype, out + (size_t)(done + i) * ds, to, 1);
            }
        }
        done += inner;
        if (nd == 0) break;
        idx[nd - 1] += inner;
        for (int d = nd - 1; d > 0 && idx[d] >= t->shape[d]; d--) {
            idx[d] = 0;
            idx[d - 1]++;
        }
    }
    return VNP_OK;
}

int vnp_tensor_to_f32(const vnp_tensor *t, float *dst)
{
    return vnp_tensor_convert(t, VNP_DT_F32, 0, t ? t->numel : 0, dst);
}

int vnp_tensor_to_f16(const vnp_tensor *t, uint16_t *dst)
{
    return vnp_tensor_convert(t, VNP_DT_F16, 0, t ? t->numel : 0, dst);
}

int vnp_tensor_init(vnp_tensor *t, const char *name, vnp_dtype dt, int ndim, const int64_t *shape, const void *data)
{
    if (!t || (unsigned)dt >= VNP_DT_COUNT || ndim < 0 || ndim > VNP_MAX_DIMS || (ndim && !shape))
        return VNP_ERR_USAGE;
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = dt;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    if (vnp_shape_numel(ndim, t->shape, vnp_dtype_size(dt), &t->numel) != VNP_OK) return VNP_ERR_USAGE;
    vnp_contig_strides(ndim, t->shape, t->strides);
    t->data = data;
    t->contiguous = 1;
    return VNP_OK;
}
