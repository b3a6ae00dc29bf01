/* The policies' random generator (lib/rng.c): determinism and the
 * distributions. Fixed seeds; tolerances of 5 standard errors or more. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "policy.h"

#include <math.h>
#include <string.h>

#define N_DRAWS 400000

static void test_determinism(void **state)
{
    (void)state;
    pc_rng a, b, c;
    pc_rng_seed(&a, 42);
    pc_rng_seed(&b, 42);
    pc_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = pc_rng_next(&a), y = pc_rng_next(&b), z = pc_rng_next(&c);
        assert_true(x == y);
        differ += x != z;
    }
    assert_true(differ > 990);
    /* every distribution is a function of the stream */
    pc_rng_seed(&a, 7);
    pc_rng_seed(&b, 7);
    for (int i = 0; i < 2000; i++) {
        assert_true(pc_rng_normal(&a) == pc_rng_normal(&b));
        assert_true(pc_rng_gamma(&a, 0.5) == pc_rng_gamma(&b, 0.5));
        assert_true(pc_rng_beta(&a, 2.0, 3.0) == pc_rng_beta(&b, 2.0, 3.0));
        assert_true(pc_rng_below(&a, 17) == pc_rng_below(&b, 17));
    }
    /* seed 0 is a valid seed */
    pc_rng_seed(&a, 0);
    assert_true((a.s[0] | a.s[1] | a.s[2] | a.s[3]) != 0);
}

static void test_uniform(void **state)
{
    (void)state;
    pc_rng r;
    pc_rng_seed(&r, 1);
    double s = 0, s2 = 0, lo = 1, hi = 0;
    for (int i = 0; i < N_DRAWS; i++) {
        double u = pc_rng_uniform(&r);
        assert_true(u > 0.0 && u < 1.0);
        s += u;
        s2 += u * u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    double m = s / N_DRAWS, v = s2 / N_DRAWS - m * m;
    assert_true(fabs(m - 0.5) < 5 * sqrt(1.0 / 12 / N_DRAWS));
    assert_true(fabs(v - 1.0 / 12) < 0.001);
    assert_true(lo < 1e-4 && hi > 1 - 1e-4);
}

static void test_normal(void **state)
{
    (void)state;
    pc_rng r;
    pc_rng_seed(&r, 2);
    double s = 0, s2 = 0, s3 = 0, s4 = 0;
    long tail2 = 0, tail_r = 0, neg = 0;
    for (int i = 0; i < N_DRAWS; i++) {
        double z = pc_rng_normal(&r);
        assert_true(isfinite(z));
        s += z;
        s2 += z * z;
        s3 += z * z * z;
        s4 += z * z * z * z;
        tail2 += fabs(z) > 2.0;
        tail_r += fabs(z) > 3.7; /* beyond the ziggurat's base strip */
        neg += z < 0.0;
    }
    double n = N_DRAWS;
    assert_true(fabs(s / n) < 5 / sqrt(n));
    assert_true(fabs(s2 / n - 1.0) < 5 * sqrt(2.0 / n));
    assert_true(fabs(s3 / n) < 5 * sqrt(15.0 / n));
    assert_true(fabs(s4 / n - 3.0) < 5 * sqrt(96.0 / n));
    /* P(|Z| > 2) = 0.0455003, P(|Z| > 3.7) = 2.156e-4 */
    double p2 = 0.0455003, pr = 2.156e-4;
    assert_true(fabs(tail2 - p2 * n) < 5 * sqrt(p2 * n));
    assert_true(fabs(tail_r - pr * n) < 5 * sqrt(pr * n) + 2);
    assert_true(fabs(neg - 0.5 * n) < 5 * sqrt(0.25 * n));
}

static void check_moments(const char *what, double shape_or_a, double b,
                          double (*draw)(pc_rng *, double, double),
                          double mean, double var, uint64_t seed)
{
    pc_rng r;
    pc_rng_seed(&r, seed);
    double s = 0, s2 = 0;
    int n = N_DRAWS / 4;
    for (int i = 0; i < n; i++) {
        double x = draw(&r, shape_or_a, b);
        if (!(x >= 0.0 && isfinite(x)))
            fail_msg("%s(%g, %g) drew %g", what, shape_or_a, b, x);
        s += x;
        s2 += x * x;
    }
    double m = s / n, v = s2 / n - m * m;
    /* the sample variance's error: sqrt(mu4 - var^2) / sqrt(n); bound
     * mu4 by a generous 10 var^2 (these shapes have kurtosis < 10) */
    if (fabs(m - mean) > 5 * sqrt(var / n))
        fail_msg("%s(%g, %g): mean %g, expected %g", what, shape_or_a, b, m,
                 mean);
    if (fabs(v - var) > 5 * 3.0 * var / sqrt(n) * 2.0)
        fail_msg("%s(%g, %g): variance %g, expected %g", what, shape_or_a, b,
                 v, var);
}

static double draw_gamma(pc_rng *r, double k, double unused)
{
    (void)unused;
    return pc_rng_gamma(r, k);
}

static double draw_beta(pc_rng *r, double a, double b)
{
    double x = pc_rng_beta(r, a, b);
    assert_true(x >= 0.0 && x <= 1.0);
    return x;
}

static void test_gamma(void **state)
{
    (void)state;
    const double shapes[] = {0.1, 0.3, 0.9, 1.0, 2.5, 10.0, 150.0};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_moments("gamma", shapes[i], 0, draw_gamma, shapes[i], shapes[i],
                      100 + i);
    pc_rng r;
    pc_rng_seed(&r, 9);
    assert_true(pc_rng_gamma(&r, 0.0) == 0.0);
    assert_true(pc_rng_gamma(&r, -1.0) == 0.0);
    assert_true(pc_rng_gamma(&r, NAN) == 0.0);
}

static void test_beta(void **state)
{
    (void)state;
    const double ab[][2] = {{0.5, 0.5}, {1, 1},   {2, 5},      {20, 180},
                            {0.2, 3},   {3, 0.2}, {1e4, 4e4}, {0.05, 0.05}};
    for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++) {
        double a = ab[i][0], b = ab[i][1];
        double m = a / (a + b), v = a * b / ((a + b) * (a + b) * (a + b + 1));
        check_moments("beta", a, b, draw_beta, m, v, 200 + i);
    }
}

static void test_below(void **state)
{
    (void)state;
    pc_rng r;
    pc_rng_seed(&r, 3);
    assert_int_equal(pc_rng_below(&r, 1), 0);
    assert_int_equal(pc_rng_below(&r, 0), 0);
    const uint32_t ns[] = {2, 3, 10, 1000};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        uint32_t n = ns[k];
        long cnt[1000] = {0};
        long draws = 200L * n < 400000 ? 400000 : 200L * n;
        for (long i = 0; i < draws; i++) {
            uint32_t x = pc_rng_below(&r, n);
            assert_true(x < n);
            cnt[x]++;
        }
        double e = (double)draws / n;
        for (uint32_t i = 0; i < n; i++)
            if (fabs(cnt[i] - e) > 5.5 * sqrt(e))
                fail_msg("below(%u): value %u drawn %ld times, expected %g", n,
                         i, cnt[i], e);
    }
    /* a large n, where the bias of a plain modulo of 32 bits would be
     * gross: n = 3 * 2^30, P(x < 2^30) = 1/3 exactly */
    uint32_t n = 3u << 30;
    long lo = 0, draws = 300000;
    for (long i = 0; i < draws; i++)
        lo += pc_rng_below(&r, n) < (1u << 30);
    assert_true(fabs(lo - draws / 3.0) < 5 * sqrt(draws * 2.0 / 9.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism), cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_normal),      cmocka_unit_test(test_gamma),
        cmocka_unit_test(test_beta),        cmocka_unit_test(test_below),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
