/* pc_exp (lib/fastexp.h), the exp() of the hot paths: within 2 ulp of the
 * C library's exp() everywhere on [-700, 700], exact where exp is exact,
 * and the C library's own result outside that range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "fastexp.h"

static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static double unit(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 11) * 0x1p-53;
}

static double ulps(double a, double b)
{
    if (a == b)
        return 0.0;
    double u = nextafter(fabs(b), INFINITY) - fabs(b);
    return fabs(a - b) / u;
}

static void check_range(double lo, double hi, int n)
{
    double worst = 0.0, at = 0.0;
    for (int i = 0; i < n; i++) {
        double x = lo + (hi - lo) * unit();
        double e = ulps(pc_exp(x), exp(x));
        if (e > worst) {
            worst = e;
            at = x;
        }
    }
    if (worst > 2.0)
        fail_msg("pc_exp differs from exp by %.2f ulp at %.17g", worst, at);
}

static void test_ranges(void **state)
{
    (void)state;
    check_range(-700.0, 700.0, 400000);
    check_range(-20.0, 0.0, 300000);   /* decay factors */
    check_range(-1e-3, 1e-3, 200000);  /* short ages */
    check_range(-1e-12, 1e-12, 50000);
    /* every table entry and its neighbourhood: x near k ln2 / 64 */
    for (int k = -64 * 30; k <= 64 * 30; k++) {
        double x = k * (0.69314718055994530942 / 64);
        for (int d = -2; d <= 2; d++) {
            double y = x + d * 1e-17 * (1 + fabs(x));
            if (ulps(pc_exp(y), exp(y)) > 2.0)
                fail_msg("pc_exp(%.17g) = %.17g, exp = %.17g", y, pc_exp(y), exp(y));
        }
    }
}

static void test_special(void **state)
{
    (void)state;
    assert_true(pc_exp(0.0) == 1.0);
    assert_true(pc_exp(-0.0) == 1.0);
    assert_true(pc_exp(-0.69314718055994530942) == 0.5 ||
                ulps(pc_exp(-0.69314718055994530942), 0.5) <= 1.0);
    assert_true(isnan(pc_exp(NAN)));
    assert_true(pc_exp(INFINITY) == INFINITY);
    assert_true(pc_exp(-INFINITY) == 0.0);
    assert_true(pc_exp(800.0) == exp(800.0));    /* overflow, as exp */
    assert_true(pc_exp(-745.5) == exp(-745.5));  /* underflow, as exp */
    assert_true(pc_exp(-720.0) == exp(-720.0));  /* subnormal, as exp */
    assert_true(pc_exp(700.0) == exp(700.0) || ulps(pc_exp(700.0), exp(700.0)) <= 2.0);
    /* monotone across the table's steps */
    double prev = pc_exp(-1.0);
    for (int i = 1; i <= 200000; i++) {
        double v = pc_exp(-1.0 + i * 1e-5);
        assert_true(v >= prev);
        prev = v;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_special),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
