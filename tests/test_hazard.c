/* Unit tests of lib/hazard.c through the public API: the drop-off model's
 * baseline (pacing_hazard_baseline) against a life-table / Nelson-Aalen
 * estimate computed here from synthetic sessions of known hazard, and the
 * drop-off risk and session age that pacing_scores_get reports.
 *
 * The library's convention (lib/hazard.c): session age is cut into steps of
 * hazard_bin_ms; a step counts as at risk and survived once an event of
 * the session at or after the step's end was seen; the step a SESSION_END
 * falls in counts at risk with one event; a session replaced by a new
 * SESSION_START (censored) counts only the steps that ended at or before
 * its last event. The estimate below is computed with exactly that
 * convention, so the two must agree exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacing.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Contexts of the running test (track, release, teardown): helpers.h. */
#include "helpers.h"

#define BIN 10000          /* hazard_bin_ms */
#define STEP_EV 5000       /* activity every 5 s */
#define LATENCY 400.0      /* constant activity value: neutral covariates */
#define T0 1000000         /* every session starts here (users differ) */
#define MAX_STEPS 100      /* sessions are forced to end by this step */

/* Deterministic generator (splitmix64), so runs are reproducible. */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s; }
static uint64_t rng_u64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_u64() >> 11) * 0x1p-53; }
static int64_t rng_below(int64_t n) { return (int64_t)(rng_u64() % (uint64_t)n); }

static pacing_ctx *new_ctx(void)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.hazard_bin_ms = BIN;
    o.hazard_horizon_ms = 60000;
    o.capacity = 8192;
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
    assert_non_null(ctx);
    return track(ctx);
}

static void push(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                 double value)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    int rc = pacing_push(ctx, &ev);
    if (rc != PACING_OK)
        fail_msg("push %s type %u at %lld: %d (%s)", user, type, (long long)t,
                 rc, pacing_errmsg(ctx));
}

static pacing_scores scores(pacing_ctx *ctx, const char *user, int64_t now)
{
    pacing_scores sc = PACING_SCORES_INIT;
    int rc = pacing_scores_get(ctx, user, strlen(user), now, &sc);
    if (rc != PACING_OK)
        fail_msg("scores_get %s at %lld: %d (%s)", user, (long long)now, rc,
                 pacing_errmsg(ctx));
    return sc;
}

static double baseline(pacing_ctx *ctx, int64_t age, double *at_risk)
{
    double h = -1.0, n = -1.0;
    assert_int_equal(pacing_hazard_baseline(ctx, age, &h, &n), PACING_OK);
    if (at_risk)
        *at_risk = n;
    return h;
}

/* The true hazard of step j of the synthetic sessions. */
static double true_hazard(int j) { return j < 6 ? 0.05 : 0.15; }

/* The estimate of the test: per step, sessions at risk and sessions that
 * ended there. */
typedef struct life_table {
    double at_risk[MAX_STEPS + 1];
    double events[MAX_STEPS + 1];
    int sessions, censored;
} life_table;

/* One synthetic session of `user`, starting at T0: SESSION_START at age 0,
 * INPUT_LATENCY every 5 s; it ends in step E (drawn with the true hazard)
 * with a SESSION_END at a random time inside that step, unless it is
 * censored first (probability 0.3, censoring age uniform in [0, 300 s)):
 * then a new SESSION_START follows its last activity and no SESSION_END
 * is ever pushed. */
static void simulate_session(pacing_ctx *ctx, const char *user, life_table *lt)
{
    int e = 0;
    while (e < MAX_STEPS && rng_unit() >= true_hazard(e))
        e++;
    int64_t end_age = (int64_t)e * BIN + 1 + rng_below(BIN - 1);
    int censor = rng_unit() < 0.3;
    int64_t c_age = rng_below(300000);
    lt->sessions++;

    push(ctx, user, PACING_EV_SESSION_START, T0, 0);
    if (censor && c_age < end_age) {
        int64_t last = 0;
        for (int64_t a = STEP_EV; a <= c_age; a += STEP_EV) {
            push(ctx, user, PACING_EV_INPUT_LATENCY, T0 + a, LATENCY);
            last = a;
        }
        /* a new session replaces it: censored at its last event */
        push(ctx, user, PACING_EV_SESSION_START, T0 + c_age + 1, 0);
        for (int j = 0; j < last / BIN; j++)
            lt->at_risk[j] += 1.0;
        lt->censored++;
        return;
    }
    for (int64_t a = STEP_EV; a < end_age; a += STEP_EV)
        push(ctx, user, PACING_EV_INPUT_LATENCY, T0 + a, LATENCY);
    push(ctx, user, PACING_EV_SESSION_END, T0 + end_age, 0);
    for (int j = 0; j < e; j++)
        lt->at_risk[j] += 1.0;
    lt->at_risk[e] += 1.0;
    lt->events[e] += 1.0;
}

#define N_SESSIONS 4000

static pacing_ctx *simulated(life_table *lt)
{
    pacing_ctx *ctx = new_ctx();
    memset(lt, 0, sizeof *lt);
    rng_seed(20240611);
    char user[32];
    for (int i = 0; i < N_SESSIONS; i++) {
        snprintf(user, sizeof user, "s%05d", i);
        simulate_session(ctx, user, lt);
    }
    /* the generator did what it should: enough of both kinds */
    assert_int_equal(lt->sessions, N_SESSIONS);
    assert_in_range(lt->censored, N_SESSIONS / 20, N_SESSIONS / 2);
    return ctx;
}

/* ------------------------------------------------------------------ */
/* Baseline against the life table                                     */
/* ------------------------------------------------------------------ */

#define ENOUGH 200.0 /* sessions at risk for a step to be checked */

/* The brief's check: the library's baseline is the test's estimate within
 * 0.02, and both lie within 0.02 + 4 sigma of the true hazard. */
static void test_baseline_matches_life_table(void **state)
{
    (void)state;
    life_table lt;
    pacing_ctx *ctx = simulated(&lt);
    int checked = 0, high_checked = 0;
    for (int j = 0; j < MAX_STEPS; j++) {
        if (lt.at_risk[j] < ENOUGH)
            continue;
        double n_lib = 0.0;
        /* the middle of the step, its first and its last millisecond */
        double h_mid = baseline(ctx, (int64_t)j * BIN + BIN / 2, &n_lib);
        double h_first = baseline(ctx, (int64_t)j * BIN, NULL);
        double h_last = baseline(ctx, (int64_t)j * BIN + BIN - 1, NULL);
        assert_true(h_first == h_mid && h_last == h_mid);
        double h_test = lt.events[j] / lt.at_risk[j];
        double p = true_hazard(j);
        double sigma = sqrt(p * (1.0 - p) / lt.at_risk[j]);
        if (fabs(h_mid - h_test) > 0.02)
            fail_msg("step %d: library %.5f (at risk %.0f), life table %.5f "
                     "(at risk %.0f)", j, h_mid, n_lib, h_test, lt.at_risk[j]);
        if (fabs(h_test - p) > 0.02 + 4.0 * sigma)
            fail_msg("step %d: life table %.5f vs true %.3f (sigma %.4f)", j,
                     h_test, p, sigma);
        if (fabs(h_mid - p) > 0.02 + 4.0 * sigma)
            fail_msg("step %d: library %.5f vs true %.3f (sigma %.4f)", j,
                     h_mid, p, sigma);
        checked++;
        if (j >= 6)
            high_checked++;
    }
    /* both phases were checked, not a handful of steps */
    assert_true(checked >= 14);
    assert_true(high_checked >= 8);
    release(ctx);
}

/* Same convention, so the counts agree exactly (not only within 0.02). */
static void test_baseline_counts_exact(void **state)
{
    (void)state;
    life_table lt;
    pacing_ctx *ctx = simulated(&lt);
    for (int j = 0; j < 40; j++) {
        double n_lib = -1.0;
        double h = baseline(ctx, (int64_t)j * BIN + 1234, &n_lib);
        if (n_lib != lt.at_risk[j])
            fail_msg("step %d: library at risk %.0f, life table %.0f", j, n_lib,
                     lt.at_risk[j]);
        if (lt.at_risk[j] >= 1.0) {
            double want = lt.events[j] / lt.at_risk[j];
            if (fabs(h - want) > 1e-12)
                fail_msg("step %d: library %.12f, life table %.12f", j, h, want);
        }
    }
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* Small hand-made cases                                               */
/* ------------------------------------------------------------------ */

static void test_baseline_empty_and_pooled(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    double n = -1.0;
    /* no data at all: 0, nobody at risk */
    assert_true(baseline(ctx, 0, &n) == 0.0);
    assert_true(n == 0.0);
    assert_true(baseline(ctx, 123456, &n) == 0.0);
    assert_true(n == 0.0);

    /* a ends in step 0; b survives step 0 and ends in step 1 */
    push(ctx, "a", PACING_EV_SESSION_START, T0, 0);
    push(ctx, "a", PACING_EV_SESSION_END, T0 + 3000, 0);
    push(ctx, "b", PACING_EV_SESSION_START, T0, 0);
    push(ctx, "b", PACING_EV_INPUT_LATENCY, T0 + 5000, LATENCY);
    push(ctx, "b", PACING_EV_INPUT_LATENCY, T0 + 10000, LATENCY);
    push(ctx, "b", PACING_EV_SESSION_END, T0 + 12000, 0);

    assert_true(fabs(baseline(ctx, 0, &n) - 0.5) < 1e-15);
    assert_true(n == 2.0);
    assert_true(fabs(baseline(ctx, 19999, &n) - 1.0) < 1e-15);
    assert_true(n == 1.0);
    /* a step without data gets the pooled rate: 2 events / 3 at risk */
    assert_true(fabs(baseline(ctx, 70000, &n) - 2.0 / 3.0) < 1e-15);
    assert_true(n == 0.0);
    /* the last step is open ended: any huge age is valid */
    assert_true(fabs(baseline(ctx, (int64_t)1 << 53, &n) - 2.0 / 3.0) < 1e-15);
    assert_true(n == 0.0);
    release(ctx);
}

/* A step counts as survived only once an event at or after its end was
 * seen; an event exactly at the end of step 0 counts it. */
static void test_step_survival_boundary(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    double n = -1.0;
    push(ctx, "u", PACING_EV_SESSION_START, T0, 0);
    push(ctx, "u", PACING_EV_INPUT_LATENCY, T0 + BIN - 1, LATENCY);
    baseline(ctx, 0, &n);
    assert_true(n == 0.0);
    /* (another value: identical events 1 ms apart are debounced) */
    push(ctx, "u", PACING_EV_INPUT_LATENCY, T0 + BIN, LATENCY + 1);
    baseline(ctx, 0, &n);
    assert_true(n == 1.0);
    baseline(ctx, BIN, &n);
    assert_true(n == 0.0);
    /* the event skipped steps 1 and 2: both survived at once */
    push(ctx, "u", PACING_EV_INPUT_LATENCY, T0 + 3 * BIN + 5, LATENCY);
    baseline(ctx, BIN, &n);
    assert_true(n == 1.0);
    baseline(ctx, 2 * BIN, &n);
    assert_true(n == 1.0);
    baseline(ctx, 3 * BIN, &n);
    assert_true(n == 0.0);
    /* censored by a new session: step 3 (unfinished) is not counted */
    push(ctx, "u", PACING_EV_SESSION_START, T0 + 3 * BIN + 9000, 0);
    baseline(ctx, 3 * BIN, &n);
    assert_true(n == 0.0);
    assert_true(baseline(ctx, 0, &n) == 0.0); /* no event anywhere */
    assert_true(n == 1.0);
    release(ctx);
}

static void test_baseline_errors(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    double h = 7.0, n = 7.0;
    assert_int_equal(pacing_hazard_baseline(NULL, 0, &h, &n), PACING_E_NULL);
    assert_int_equal(pacing_hazard_baseline(ctx, 0, NULL, &n), PACING_E_NULL);
    assert_int_equal(pacing_hazard_baseline(ctx, -1, &h, &n), PACING_E_TIME);
    assert_int_equal(pacing_hazard_baseline(ctx, ((int64_t)1 << 53) + 1, &h, &n),
                     PACING_E_TIME);
    assert_true(strlen(pacing_errmsg(ctx)) > 0);
    assert_true(h == 7.0 && n == 7.0); /* untouched on failure */
    /* at_risk may be NULL */
    assert_int_equal(pacing_hazard_baseline(ctx, 0, &h, NULL), PACING_OK);
    assert_true(h == 0.0);
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* Drop-off risk and session age in pacing_scores                      */
/* ------------------------------------------------------------------ */

/* Push a neutral probe session from T0 with activity every 5 s up to and
 * including T0 + age (age a multiple of 5000, or 0). */
static void probe(pacing_ctx *ctx, const char *user, int64_t age)
{
    push(ctx, user, PACING_EV_SESSION_START, T0, 0);
    for (int64_t a = STEP_EV; a <= age; a += STEP_EV)
        push(ctx, user, PACING_EV_INPUT_LATENCY, T0 + a, LATENCY);
}

/* 1 - prod over the 6 steps of the horizon of (1 - baseline). */
static double risk_from_baseline(pacing_ctx *ctx, int64_t age)
{
    double s = 1.0;
    for (int i = 0; i < 6; i++)
        s *= 1.0 - baseline(ctx, age + (int64_t)i * BIN, NULL);
    return 1.0 - s;
}

static void test_risk_in_phases(void **state)
{
    (void)state;
    life_table lt;
    pacing_ctx *ctx = simulated(&lt);
    const int64_t low_age = 5000, high_age = 105000;
    probe(ctx, "probe_low", low_age);
    probe(ctx, "probe_high", high_age);

    pacing_scores lo = scores(ctx, "probe_low", T0 + low_age);
    pacing_scores hi = scores(ctx, "probe_high", T0 + high_age);
    assert_true(lo.session_age_ms == low_age);
    assert_true(hi.session_age_ms == high_age);
    assert_true(lo.drop_off_risk >= 0.0 && lo.drop_off_risk <= 1.0);
    assert_true(hi.drop_off_risk >= 0.0 && hi.drop_off_risk <= 1.0);
    /* high-hazard phase is riskier */
    assert_true(hi.drop_off_risk > lo.drop_off_risk + 0.2);

    /* a neutral user: 1 - (1 - h)^6 with the true hazards ... */
    double want_lo = 1.0 - pow(1.0 - 0.05, 6);
    double want_hi = 1.0 - pow(1.0 - 0.15, 6);
    if (fabs(lo.drop_off_risk - want_lo) > 0.05)
        fail_msg("low phase: risk %.4f, 1-(1-h)^6 = %.4f", lo.drop_off_risk,
                 want_lo);
    if (fabs(hi.drop_off_risk - want_hi) > 0.05)
        fail_msg("high phase: risk %.4f, 1-(1-h)^6 = %.4f", hi.drop_off_risk,
                 want_hi);
    /* ... and, closely, with the learned baseline (covariates constant) */
    double b_lo = risk_from_baseline(ctx, low_age);
    double b_hi = risk_from_baseline(ctx, high_age);
    if (fabs(lo.drop_off_risk - b_lo) > 1e-3 || fabs(hi.drop_off_risk - b_hi) > 1e-3)
        fail_msg("risk %.6f / %.6f, from the baseline %.6f / %.6f",
                 lo.drop_off_risk, hi.drop_off_risk, b_lo, b_hi);

    release(ctx);
}

static void test_risk_without_session(void **state)
{
    (void)state;
    life_table lt;
    pacing_ctx *ctx = simulated(&lt);
    /* an open session has a risk and an age */
    probe(ctx, "p", 20000);
    pacing_scores sc = scores(ctx, "p", T0 + 20000);
    assert_true(sc.session_age_ms == 20000);
    assert_true(sc.drop_off_risk > 0.0 && sc.drop_off_risk <= 1.0);
    /* later reads (no event) age the session */
    sc = scores(ctx, "p", T0 + 27000);
    assert_true(sc.session_age_ms == 27000);

    /* closed: no risk, no age */
    push(ctx, "p", PACING_EV_SESSION_END, T0 + 28000, 0);
    sc = scores(ctx, "p", T0 + 28000);
    assert_true(sc.session_age_ms == -1);
    assert_true(sc.drop_off_risk == 0.0);
    sc = scores(ctx, "p", T0 + 90000);
    assert_true(sc.session_age_ms == -1);
    assert_true(sc.drop_off_risk == 0.0);

    /* the next event opens a new session */
    push(ctx, "p", PACING_EV_INPUT_LATENCY, T0 + 100000, LATENCY);
    sc = scores(ctx, "p", T0 + 103000);
    assert_true(sc.session_age_ms == 3000);
    assert_true(sc.drop_off_risk > 0.0);
    release(ctx);
}

/* A fresh model (no data) gives risk 0 but still a session age. */
static void test_risk_fresh_model(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    push(ctx, "u", PACING_EV_SESSION_START, T0, 0);
    pacing_scores sc = scores(ctx, "u", T0 + 4000);
    assert_true(sc.session_age_ms == 4000);
    /* the pooled rate of no data is 0, floored at 1e-6 per step */
    assert_true(sc.drop_off_risk >= 0.0 && sc.drop_off_risk < 1e-4);
    release(ctx);
}

/* 30 minutes of silence start a new session; the old one is censored. */
static void test_session_timeout(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    double n = -1.0;
    push(ctx, "u", PACING_EV_SESSION_START, T0, 0);
    push(ctx, "u", PACING_EV_INPUT_LATENCY, T0 + 15000, LATENCY);
    baseline(ctx, 0, &n);
    assert_true(n == 1.0);
    int64_t t = T0 + 15000 + 1800001;
    push(ctx, "u", PACING_EV_INPUT_LATENCY, t, LATENCY);
    pacing_scores sc = scores(ctx, "u", t + 2000);
    assert_true(sc.session_age_ms == 2000);
    /* step 1 (unfinished at the last event) was not counted, nor were the
     * 30 silent minutes */
    baseline(ctx, BIN, &n);
    assert_true(n == 0.0);
    baseline(ctx, 0, &n);
    assert_true(n == 1.0);
    release(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_baseline_matches_life_table, teardown),
        cmocka_unit_test_teardown(test_baseline_counts_exact, teardown),
        cmocka_unit_test_teardown(test_baseline_empty_and_pooled, teardown),
        cmocka_unit_test_teardown(test_step_survival_boundary, teardown),
        cmocka_unit_test_teardown(test_baseline_errors, teardown),
        cmocka_unit_test_teardown(test_risk_in_phases, teardown),
        cmocka_unit_test_teardown(test_risk_without_session, teardown),
        cmocka_unit_test_teardown(test_risk_fresh_model, teardown),
        cmocka_unit_test_teardown(test_session_timeout, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
