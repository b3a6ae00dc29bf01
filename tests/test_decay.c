/* Decay modules: the built-ins, registration of custom modules, and the
 * decay of the recent-exposures fatigue input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pacing.h"

#define LN2 0.69314718055994530942

/* |a - b| <= eps (cmocka 1.1 has no double comparison). */
#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), __FILE__, __LINE__)
static void assert_near_at(double a, double b, double eps, const char *file,
                           int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.17g != %.17g (tolerance %g)\n", a, b, eps);
        _fail(file, line);
    }
}

static int new_ctx(void **state)
{
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 64;
    pacing_ctx *c = NULL;
    if (pacing_ctx_new(&o, &c) != PACING_OK)
        return -1;
    *state = c;
    return 0;
}

static int free_ctx(void **state)
{
    pacing_ctx_free(*state);
    return 0;
}

static double eval(pacing_ctx *c, const char *name, const double *p, double age)
{
    double w = -123.0;
    int rc = pacing_decay_eval(c, name, p, age, &w);
    if (rc != PACING_OK)
        fail_msg("decay_eval(%s, age %g): %s: %s", name, age,
                 pacing_strerror(rc), pacing_errmsg(c));
    return w;
}

/* ---- built-ins ---- */

static void test_exponential(void **state)
{
    pacing_ctx *c = *state;
    const double p[4] = {1000.0, 0, 0, 0};
    assert_near(eval(c, "exponential", p, 0.0), 1.0, 1e-15);
    assert_near(eval(c, "exponential", p, 1000.0), 0.5, 1e-12);
    assert_near(eval(c, "exponential", p, 2000.0), 0.25, 1e-12);
    assert_near(eval(c, "exponential", p, 500.0), sqrt(0.5), 1e-12);
    /* default half-life: 120000 ms */
    assert_near(eval(c, "exponential", NULL, 120000.0), 0.5, 1e-12);
    const double dflt[4] = {120000.0, 0, 0, 0};
    assert_near(eval(c, "exponential", NULL, 31415.0),
                        eval(c, "exponential", dflt, 31415.0), 0.0);
}

static void test_linear(void **state)
{
    pacing_ctx *c = *state;
    const double p[4] = {1000.0, 0, 0, 0};
    assert_near(eval(c, "linear", p, 0.0), 1.0, 1e-15);
    assert_near(eval(c, "linear", p, 250.0), 0.75, 1e-12);
    assert_near(eval(c, "linear", p, 500.0), 0.5, 1e-12);
    assert_near(eval(c, "linear", p, 1000.0), 0.0, 1e-15);
    assert_true(eval(c, "linear", p, 1000.0) >= 0.0);
    assert_true(eval(c, "linear", p, 5000.0) == 0.0); /* not negative */
    /* default span: 600000 ms */
    assert_near(eval(c, "linear", NULL, 300000.0), 0.5, 1e-12);
    assert_true(eval(c, "linear", NULL, 600000.0) == 0.0);
}

static void test_power_law(void **state)
{
    pacing_ctx *c = *state;
    const double p[4] = {1000.0, 2.0, 0, 0};
    assert_near(eval(c, "power_law", p, 0.0), 1.0, 1e-15);
    assert_near(eval(c, "power_law", p, 1000.0), 0.25, 1e-12);
    assert_near(eval(c, "power_law", p, 3000.0), 1.0 / 16, 1e-12);
    const double q[4] = {60000.0, 1.5, 0, 0};
    for (double age = 0; age <= 1e6; age += 12345.0)
        assert_near(eval(c, "power_law", q, age),
                            pow(1.0 + age / 60000.0, -1.5), 1e-12);
    /* defaults: scale 60000 ms, exponent 1.5 */
    assert_near(eval(c, "power_law", NULL, 60000.0), pow(2.0, -1.5),
                        1e-12);
}

/* w(0) = 1, w in [0, 1] and non-increasing for every built-in. */
static void test_builtins_monotone(void **state)
{
    pacing_ctx *c = *state;
    const char *names[] = {"exponential", "linear", "power_law"};
    const double params[][4] = {
        {1.0, 0, 0, 0}, {120000.0, 0, 0, 0}, {1e9, 0, 0, 0},
    };
    const double pl[][4] = {{1.0, 0.1, 0, 0}, {60000.0, 1.5, 0, 0},
                            {1e6, 100.0, 0, 0}};
    for (int m = 0; m < 3; m++) {
        for (int k = 0; k < 3; k++) {
            const double *p = m == 2 ? pl[k] : params[k];
            double prev = eval(c, names[m], p, 0.0);
            assert_true(prev == 1.0);
            for (double age = 1.0; age < 1e10; age *= 1.7) {
                double w = eval(c, names[m], p, age);
                if (!(w >= 0.0 && w <= 1.0 && w <= prev))
                    fail_msg("%s param %g: w(%g) = %g after %g", names[m], p[0],
                             age, w, prev);
                prev = w;
            }
        }
    }
}

static void test_eval_errors(void **state)
{
    pacing_ctx *c = *state;
    double w = 7.0;
    const double nan_p[4] = {NAN, 0, 0, 0};
    const double inf_p[4] = {1000.0, 0, 0, INFINITY};
    const double neg_p[4] = {-1000.0, 0, 0, 0};
    const double zero_p[4] = {0.0, 0, 0, 0};
    const double pl_zero_exp[4] = {1000.0, 0.0, 0, 0};
    const double pl_big_exp[4] = {1000.0, 101.0, 0, 0};
    assert_int_equal(pacing_decay_eval(c, "exponential", nan_p, 1.0, &w),
                     PACING_E_NAN);
    assert_int_equal(pacing_decay_eval(c, "exponential", inf_p, 1.0, &w),
                     PACING_E_NAN);
    assert_int_equal(pacing_decay_eval(c, "exponential", neg_p, 1.0, &w),
                     PACING_E_RANGE);
    assert_int_equal(pacing_decay_eval(c, "exponential", zero_p, 1.0, &w),
                     PACING_E_RANGE);
    assert_int_equal(pacing_decay_eval(c, "linear", neg_p, 1.0, &w),
                     PACING_E_RANGE);
    assert_int_equal(pacing_decay_eval(c, "power_law", pl_zero_exp, 1.0, &w),
                     PACING_E_RANGE);
    assert_int_equal(pacing_decay_eval(c, "power_law", pl_big_exp, 1.0, &w),
                     PACING_E_RANGE);
    assert_int_equal(pacing_decay_eval(c, "exponential", NULL, -1.0, &w),
                     PACING_E_RANGE);
    assert_int_equal(pacing_decay_eval(c, "linear", NULL, -1e-9, &w),
                     PACING_E_RANGE);
    assert_int_equal(pacing_decay_eval(c, "exponential", NULL, NAN, &w),
                     PACING_E_NAN);
    assert_int_equal(pacing_decay_eval(c, "exponential", NULL, INFINITY, &w),
                     PACING_E_NAN);
    assert_int_equal(pacing_decay_eval(c, "nope", NULL, 1.0, &w),
                     PACING_E_NOTFOUND);
    assert_true(strstr(pacing_errmsg(c), "nope") != NULL);
    assert_int_equal(pacing_decay_eval(c, "", NULL, 1.0, &w), PACING_E_NOTFOUND);
    assert_int_equal(pacing_decay_eval(c, "Exponential", NULL, 1.0, &w),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_decay_eval(NULL, "linear", NULL, 1.0, &w),
                     PACING_E_NULL);
    assert_int_equal(pacing_decay_eval(c, NULL, NULL, 1.0, &w), PACING_E_NULL);
    assert_int_equal(pacing_decay_eval(c, "linear", NULL, 1.0, NULL),
                     PACING_E_NULL);
    assert_true(w == 7.0); /* untouched by the failures */
}

/* ---- custom modules ---- */

/* step: 1 before params[0] ms, 0 after. */
static double step_weight(const double p[4], double age)
{
    return age < p[0] ? 1.0 : 0.0;
}
static int step_check(const double p[4]) { return !(p[0] > 0.0); }

static double nan_weight(const double p[4], double age)
{
    (void)p;
    (void)age;
    return NAN;
}
static double five_weight(const double p[4], double age)
{
    (void)p;
    (void)age;
    return 5.0;
}
static double minus_weight(const double p[4], double age)
{
    (void)p;
    (void)age;
    return -3.0;
}
static int reject_all(const double p[4]) { (void)p; return 1; }

static pacing_decay_module step_module(void)
{
    pacing_decay_module m;
    memset(&m, 0, sizeof m);
    m.size = sizeof m;
    m.name = "step";
    m.weight = step_weight;
    m.check = step_check;
    m.default_params[0] = 1000.0;
    return m;
}

static void test_register_and_eval(void **state)
{
    pacing_ctx *c = *state;
    /* the name is copied: register from a buffer that is then reused */
    char name[16];
    snprintf(name, sizeof name, "step");
    pacing_decay_module m = step_module();
    m.name = name;
    assert_int_equal(pacing_decay_register(c, &m), PACING_OK);
    snprintf(name, sizeof name, "xxxx");

    assert_true(eval(c, "step", NULL, 0.0) == 1.0);
    assert_true(eval(c, "step", NULL, 999.0) == 1.0);
    assert_true(eval(c, "step", NULL, 1000.0) == 0.0);
    const double p[4] = {5000.0, 0, 0, 0};
    assert_true(eval(c, "step", p, 4999.0) == 1.0);
    assert_true(eval(c, "step", p, 5000.0) == 0.0);
    double w = 7.0;
    const double bad[4] = {-1.0, 0, 0, 0};
    assert_int_equal(pacing_decay_eval(c, "step", bad, 1.0, &w), PACING_E_RANGE);
    const double nan_p[4] = {1.0, NAN, 0, 0};
    assert_int_equal(pacing_decay_eval(c, "step", nan_p, 1.0, &w), PACING_E_NAN);
    assert_int_equal(pacing_decay_eval(c, "xxxx", NULL, 1.0, &w),
                     PACING_E_NOTFOUND);
    assert_true(w == 7.0);

    /* a module without check accepts any finite parameters */
    pacing_decay_module n = step_module();
    n.name = "step_unchecked";
    n.check = NULL;
    n.default_params[0] = -5.0;
    assert_int_equal(pacing_decay_register(c, &n), PACING_OK);
    assert_true(eval(c, "step_unchecked", NULL, 0.0) == 0.0);
}

static void test_register_errors(void **state)
{
    pacing_ctx *c = *state;
    pacing_decay_module m = step_module();
    assert_int_equal(pacing_decay_register(NULL, &m), PACING_E_NULL);
    assert_int_equal(pacing_decay_register(c, NULL), PACING_E_NULL);

    m.size = sizeof m - 1;
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_SIZE);
    m.size = 0;
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_SIZE);
    m.size = sizeof m;

    static const char *bad_names[] = {
        "", "Step", "STEP", "step-1", "step 1", "st.ep", "\xc3\xa9tape",
        "abcdefghijklmnopqrstuvwxyz012345", /* 32 chars */
        "abcdefghijklmnopqrstuvwxyz0123456789",
    };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        m.name = bad_names[i];
        int rc = pacing_decay_register(c, &m);
        if (rc != PACING_E_INVAL)
            fail_msg("name \"%s\": status %d", bad_names[i], rc);
    }
    m.name = NULL;
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_INVAL);

    m.name = "no_weight";
    m.weight = NULL;
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_INVAL);
    m.weight = step_weight;

    /* default parameters rejected by the module's check, or not finite */
    m.name = "bad_defaults";
    m.default_params[0] = -1.0;
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_RANGE);
    m.check = reject_all;
    m.default_params[0] = 1.0;
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_RANGE);
    m.check = NULL;
    m.default_params[2] = NAN;
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_NAN);
    m.default_params[2] = 0.0;
    m.default_params[3] = -INFINITY;
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_NAN);

    /* none of the failures registered anything */
    double w;
    assert_int_equal(pacing_decay_eval(c, "bad_defaults", NULL, 0.0, &w),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_decay_eval(c, "no_weight", NULL, 0.0, &w),
                     PACING_E_NOTFOUND);

    /* 31 characters is the longest name */
    m = step_module();
    m.name = "abcdefghijklmnopqrstuvwxyz01234";
    assert_int_equal(pacing_decay_register(c, &m), PACING_OK);
    assert_true(eval(c, "abcdefghijklmnopqrstuvwxyz01234", NULL, 0.0) == 1.0);
    m.name = "a";
    assert_int_equal(pacing_decay_register(c, &m), PACING_OK);
    m.name = "0_9";
    assert_int_equal(pacing_decay_register(c, &m), PACING_OK);

    /* duplicates, of a custom module and of a built-in */
    m.name = "a";
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_EXISTS);
    m.name = "linear";
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_EXISTS);
    /* the built-in was not replaced */
    const double p[4] = {1000.0, 0, 0, 0};
    assert_near(eval(c, "linear", p, 500.0), 0.5, 1e-12);
}

/* 32 modules at most, the 3 built-ins included. */
static void test_register_full(void **state)
{
    pacing_ctx *c = *state;
    pacing_decay_module m = step_module();
    char name[8];
    for (int i = 0; i < 29; i++) {
        snprintf(name, sizeof name, "m%02d", i);
        m.name = name;
        int rc = pacing_decay_register(c, &m);
        if (rc != PACING_OK)
            fail_msg("module %d (%s): status %d: %s", i + 4, name, rc,
                     pacing_errmsg(c));
    }
    m.name = "one_too_many";
    assert_int_equal(pacing_decay_register(c, &m), PACING_E_FULL);
    assert_true(strlen(pacing_errmsg(c)) > 0);
    double w;
    assert_int_equal(pacing_decay_eval(c, "one_too_many", NULL, 0.0, &w),
                     PACING_E_NOTFOUND);
    /* every registered one still works */
    for (int i = 0; i < 29; i++) {
        snprintf(name, sizeof name, "m%02d", i);
        assert_true(eval(c, name, NULL, 10.0) == 1.0);
    }
    assert_true(eval(c, "exponential", NULL, 0.0) == 1.0);
}

/* ---- the recent-exposures input ---- */

#define N_EXPO 12
#define EXPO_GAP 7000
#define NOW ((N_EXPO - 1) * EXPO_GAP + 3000)

static void push_exposures(pacing_ctx *c, const char *user)
{
    for (int i = 0; i < N_EXPO; i++) {
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = PACING_EV_EXPOSURE;
        ev.user = user;
        ev.user_len = strlen(user);
        ev.time_ms = (int64_t)i * EXPO_GAP;
        assert_int_equal(pacing_push(c, &ev), PACING_OK);
    }
}

/* The expected raw input: sum of w(age) over the (at most) 8 latest
 * exposures. */
static double expected_raw(double (*w)(const double *, double), const double *p)
{
    double sum = 0.0;
    for (int i = N_EXPO - 8; i < N_EXPO; i++)
        sum += w(p, (double)(NOW - (int64_t)i * EXPO_GAP));
    return sum;
}

static double ref_exponential(const double *p, double age)
{
    return exp(-LN2 * age / p[0]);
}
static double ref_linear(const double *p, double age)
{
    return age < p[0] ? 1.0 - age / p[0] : 0.0;
}
static double ref_step(const double *p, double age)
{
    return age < p[0] ? 1.0 : 0.0;
}

/* The recent_exposures contribution of user u at NOW; checks the invariants
 * of a contribution on the way. */
static pacing_contribution recent_exposures(pacing_ctx *c, const char *u)
{
    pacing_contribution out[PACING_INPUT_COUNT];
    for (int i = 0; i < PACING_INPUT_COUNT; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].size = sizeof out[i];
    }
    size_t n = 0;
    int rc = pacing_contributions(c, u, strlen(u), NOW, PACING_SCORE_FATIGUE,
                                  out, PACING_INPUT_COUNT, &n);
    if (rc != PACING_OK)
        fail_msg("contributions: %s: %s", pacing_strerror(rc), pacing_errmsg(c));
    assert_true(n > 0 && n <= PACING_INPUT_COUNT);
    for (size_t i = 0; i < n; i++) {
        if (out[i].input != PACING_IN_RECENT_EXPOSURES)
            continue;
        assert_true(isfinite(out[i].raw));
        assert_true(out[i].normalized >= 0.0 && out[i].normalized <= 1.0);
        assert_true(out[i].contribution >= 0.0 && out[i].contribution <= 1.0);
        return out[i];
    }
    fail_msg("no recent_exposures input in the fatigue contributions");
    return out[0];
}

static void assert_scores_in_range(pacing_ctx *c, const char *u)
{
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(c, u, strlen(u), NOW, &sc), PACING_OK);
    const double v[] = {sc.fatigue, sc.cognitive_load, sc.attention,
                        sc.engagement};
    for (int i = 0; i < 4; i++)
        if (!(v[i] >= 0.0 && v[i] <= 1.0))
            fail_msg("score %d = %g out of [0, 1]", i, v[i]);
}

static void test_exposure_decay_default_and_set(void **state)
{
    pacing_ctx *c = *state;
    push_exposures(c, "u");

    /* default: exponential, 120000 ms half-life */
    const double dflt[4] = {120000.0, 0, 0, 0};
    pacing_contribution e = recent_exposures(c, "u");
    assert_near(e.raw, expected_raw(ref_exponential, dflt), 1e-9);

    const double fast[4] = {10000.0, 0, 0, 0};
    assert_int_equal(pacing_exposure_decay_set(c, "exponential", fast),
                     PACING_OK);
    pacing_contribution f = recent_exposures(c, "u");
    assert_near(f.raw, expected_raw(ref_exponential, fast), 1e-9);
    assert_true(f.raw < e.raw);
    assert_true(f.normalized < e.normalized);

    const double lin[4] = {40000.0, 0, 0, 0};
    assert_int_equal(pacing_exposure_decay_set(c, "linear", lin), PACING_OK);
    pacing_contribution l = recent_exposures(c, "u");
    assert_near(l.raw, expected_raw(ref_linear, lin), 1e-9);

    /* a custom module */
    pacing_decay_module m = step_module();
    assert_int_equal(pacing_decay_register(c, &m), PACING_OK);
    const double st[4] = {30000.0, 0, 0, 0};
    assert_int_equal(pacing_exposure_decay_set(c, "step", st), PACING_OK);
    pacing_contribution s = recent_exposures(c, "u");
    /* ages of the 8 latest: 3000, 10000, ..., 52000 -> 4 under 30000 */
    assert_near(expected_raw(ref_step, st), 4.0, 0.0);
    assert_near(s.raw, 4.0, 1e-12);
    /* its defaults (1000 ms) keep only the exposure 3000 ms old: none */
    assert_int_equal(pacing_exposure_decay_set(c, "step", NULL), PACING_OK);
    assert_near(recent_exposures(c, "u").raw, 0.0, 1e-12);
    assert_int_equal(pacing_exposure_decay_set(c, "step", st), PACING_OK);

    /* failed sets keep the step curve */
    const double bad[4] = {-1.0, 0, 0, 0};
    const double nan_p[4] = {NAN, 0, 0, 0};
    assert_int_equal(pacing_exposure_decay_set(c, "step", bad), PACING_E_RANGE);
    assert_int_equal(pacing_exposure_decay_set(c, "exponential", nan_p),
                     PACING_E_NAN);
    assert_int_equal(pacing_exposure_decay_set(c, "nope", NULL),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_exposure_decay_set(c, NULL, NULL), PACING_E_NULL);
    assert_int_equal(pacing_exposure_decay_set(NULL, "step", NULL),
                     PACING_E_NULL);
    assert_near(recent_exposures(c, "u").raw, 4.0, 1e-12);

    /* and back to the built-in defaults */
    assert_int_equal(pacing_exposure_decay_set(c, "exponential", NULL),
                     PACING_OK);
    assert_near(recent_exposures(c, "u").raw,
                        expected_raw(ref_exponential, dflt), 1e-9);
    assert_scores_in_range(c, "u");
}

/* Misbehaving curves (NaN, > 1, < 0) do not push anything out of range. */
static void test_exposure_decay_misbehaving_module(void **state)
{
    pacing_ctx *c = *state;
    push_exposures(c, "u");
    double (*const fns[])(const double[4], double) = {nan_weight, five_weight,
                                                      minus_weight};
    const char *names[] = {"nan_curve", "five_curve", "minus_curve"};
    for (int i = 0; i < 3; i++) {
        pacing_decay_module m = step_module();
        m.name = names[i];
        m.weight = fns[i];
        m.check = NULL;
        assert_int_equal(pacing_decay_register(c, &m), PACING_OK);
        assert_int_equal(pacing_exposure_decay_set(c, names[i], NULL),
                         PACING_OK);
        pacing_contribution e = recent_exposures(c, "u");
        /* each of the 8 exposures weighs at most 1 */
        if (!(e.raw >= 0.0 && e.raw <= 8.0))
            fail_msg("%s: raw %g", names[i], e.raw);
        assert_scores_in_range(c, "u");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exponential, new_ctx, free_ctx),
        cmocka_unit_test_setup_teardown(test_linear, new_ctx, free_ctx),
        cmocka_unit_test_setup_teardown(test_power_law, new_ctx, free_ctx),
        cmocka_unit_test_setup_teardown(test_builtins_monotone, new_ctx,
                                        free_ctx),
        cmocka_unit_test_setup_teardown(test_eval_errors, new_ctx, free_ctx),
        cmocka_unit_test_setup_teardown(test_register_and_eval, new_ctx,
                                        free_ctx),
        cmocka_unit_test_setup_teardown(test_register_errors, new_ctx, free_ctx),
        cmocka_unit_test_setup_teardown(test_register_full, new_ctx, free_ctx),
        cmocka_unit_test_setup_teardown(test_exposure_decay_default_and_set,
                                        new_ctx, free_ctx),
        cmocka_unit_test_setup_teardown(test_exposure_decay_misbehaving_module,
                                        new_ctx, free_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
