/* exp() for the hot paths: the same function as the C library's to within
 * 2 ulp over |x| <= 700 (tests/test_fastexp.c checks 10^6 points against
 * it), at a fraction of the cost; outside that range, and for NaN, it is
 * the C library's exp. Internal. */
#ifndef PACING_FASTEXP_H
#define PACING_FASTEXP_H

#include <math.h>
#include <stdint.h>
#include <string.h>

extern const double pc_exp2_tab[64]; /* 2^(j/64), correctly rounded */

/* exp(x) = 2^m * 2^(j/64) * exp(r), k = 64 m + j the integer nearest to
 * x * 64 / ln2, r = x - k ln2 / 64 (|r| <= ln2 / 128, with ln2 / 64 in two
 * parts so that k * hi is exact), exp(r) - 1 by its Taylor polynomial of
 * degree 5 (truncation below 2^-60). */
static inline double pc_exp(double x)
{
    if (!(x >= -700.0 && x <= 700.0))
        return exp(x);
    const double inv = 0x1.71547652b82fep+6;  /* 64 / ln2 */
    const double hi = 0x1.62e42fee00000p-7;   /* ln2 / 64, high bits */
    const double lo = 0x1.a39ef35793c76p-39;  /* and the rest */
    const double shift = 0x1.8p52;
    double kd = x * inv + shift; /* rounds to the nearest integer */
    kd -= shift;
    int64_t k = (int64_t)kd;
    double r = (x - kd * hi) - kd * lo;
    int64_t j = k & 63;
    int64_t m = (k - j) / 64;
    double q = r + r * r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120))));
    double t = pc_exp2_tab[j];
    uint64_t bits = (uint64_t)(m + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return (t + t * q) * scale;
}

#endif
