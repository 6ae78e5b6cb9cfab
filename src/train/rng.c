/* The training PRNG: xoshiro256** seeded through splitmix64, so every seed (0 included) gives a good stream. */
#include "vnp/train.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void vnp_rng_seed(vnp_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t vnp_rng_next(vnp_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double vnp_rng_uniform(vnp_rng *r) { return (double)(vnp_rng_next(r) >> 11) * 0x1.0p-53; }

size_t vnp_rng_below(vnp_rng *r, size_t n)
{
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the top partial block: no modulo bias */
    uint64_t v;
    do v = vnp_rng_next(r);
    while (v >= limit);
    return (size_t)(v % n);
}
