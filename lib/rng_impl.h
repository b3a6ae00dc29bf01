/* Inline fast paths of the random generator (lib/rng.c), for the policies'
 * inner loops. Internal to lib/; the out-of-line functions of policy.h do
 * the same thing and return the same numbers. */
#ifndef PACING_RNG_IMPL_H
#define PACING_RNG_IMPL_H

#include "policy.h"

#include <math.h>
#include <stdint.h>

/* Ziggurat tables (256 layers, Marsaglia & Tsang 2000), in rng.c. */
extern const double pc_zig_x[257];
extern const double pc_zig_f[257];
/* Slow path of the ziggurat: layer i, signed uniform u in [-1, 1). */
double pc_rng_normal_slow(pc_rng *r, unsigned i, double u);

static inline uint64_t pc_rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman & Vigna). */
static inline uint64_t pc_rng_next_i(pc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = pc_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = pc_rotl64(s[3], 45);
    return out;
}

/* 53 random bits, centred in their cell: never 0, never 1. */
static inline double pc_rng_uniform_i(pc_rng *r)
{
    return ((double)(pc_rng_next_i(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* N(0, 1) by the ziggurat: one 64-bit draw gives the layer (low 8 bits)
 * and a signed 53-bit uniform (high bits); about 99.3% of the calls end
 * on the first comparison. */
static inline double pc_rng_normal_i(pc_rng *r)
{
    uint64_t b = pc_rng_next_i(r);
    unsigned i = (unsigned)(b & 0xffu);
    double u = (double)((int64_t)b >> 11) * 0x1.0p-52; /* [-1, 1) */
    double z = u * pc_zig_x[i];
    if (fabs(z) < pc_zig_x[i + 1])
        return z;
    /* Through a copy, so that a caller's local generator does not escape
     * and can live in registers. */
    pc_rng t = *r;
    z = pc_rng_normal_slow(&t, i, u);
    *r = t;
    return z;
}

/* Uniform in [0, n), n >= 1 (Lemire; the same numbers as pc_rng_below). */
static inline uint32_t pc_rng_below_i(pc_rng *r, uint32_t n)
{
    if (n <= 1)
        return 0;
    uint64_t m = (pc_rng_next_i(r) >> 32) * (uint64_t)n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) {
            m = (pc_rng_next_i(r) >> 32) * (uint64_t)n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Gamma(d + 1/3) by Marsaglia & Tsang (2000) for shape >= 1, given
 * d = shape - 1/3 and c = 1 / sqrt(9 d) (cached by the callers). */
static inline double pc_rng_gamma_mt_i(pc_rng *r, double d, double c)
{
    for (;;) {
        double x, v;
        do {
            x = pc_rng_normal_i(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = pc_rng_uniform_i(r);
        double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2)
            return d * v;
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v)))
            return d * v;
    }
}

#endif
