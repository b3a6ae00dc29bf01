/* End-to-end acceptance scenarios, through the public API only:
 *  (a) prompt fatigue: a user shown a prompt every 10 s who dismisses each
 *      one, reacting ever more slowly, gets fatigued, and recovers when
 *      left alone;
 *  (b) cognitive load: reading speed halves and errors appear;
 *  (c) a user who is never prompted is not fatigued.
 * The thresholds are margins on the behaviour the issue asks for, not the
 * current exact values; each scenario also has a control that must differ,
 * so a broken input (e.g. dismissals ignored) fails. The figures are
 * printed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pacing.h"

#define SEC 1000LL
#define MIN (60 * SEC)

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s ? s : 1; }
static uint64_t rng_u64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
/* noise in [-a, a] */
static double jitter(double a)
{
    return a * (2.0 * ((double)(rng_u64() >> 11) * 0x1p-53) - 1.0);
}

static pacing_ctx *new_ctx(void)
{
    pacing_options o = PACING_OPTIONS_INIT; /* defaults, a small table */
    o.capacity = 256;
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
    return ctx;
}

static void push(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                 double value, uint64_t target)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    ev.target = target;
    ev.channel = PACING_CH_WEB;
    int rc = pacing_push(ctx, &ev);
    if (rc != PACING_OK)
        fail_msg("push %s %s at %lld: %s", user, pacing_event_type_name((int)type),
                 (long long)t, pacing_errmsg(ctx));
}

static pacing_scores scores(pacing_ctx *ctx, const char *user, int64_t now)
{
    pacing_scores sc = PACING_SCORES_INIT;
    int rc = pacing_scores_get(ctx, user, strlen(user), now, &sc);
    if (rc != PACING_OK)
        fail_msg("scores %s at %lld: %s", user, (long long)now, pacing_errmsg(ctx));
    return sc;
}

static void print_contributions(pacing_ctx *ctx, const char *user, int64_t now,
                                int kind, const char *label)
{
    pacing_contribution c[PACING_INPUT_COUNT];
    size_t n = 0;
    for (int i = 0; i < PACING_INPUT_COUNT; i++)
        c[i].size = sizeof c[i];
    assert_int_equal(pacing_contributions(ctx, user, strlen(user), now, kind, c,
                                          PACING_INPUT_COUNT, &n),
                     PACING_OK);
    printf("    %s:", label);
    for (size_t i = 0; i < n; i++)
        printf(" %s %.3f (raw %.3g)", pacing_input_name(c[i].input),
               c[i].contribution, c[i].raw);
    printf("\n");
}

/* Ordinary use between t_from and t_to: every 10 s an input latency of
 * ~latency ms and a reading speed of ~wpm, and now and then a scroll, a
 * dwell and a click on some element (each on its own target). */
static uint64_t next_target = 1000;
static void normal_activity(pacing_ctx *ctx, const char *user, int64_t t_from,
                            int64_t t_to, double latency, double wpm)
{
    int i = 0;
    for (int64_t t = t_from; t < t_to; t += 10 * SEC, i++) {
        push(ctx, user, PACING_EV_INPUT_LATENCY, t, latency * (1 + jitter(0.08)), 0);
        push(ctx, user, PACING_EV_READING_SPEED, t + 300, wpm * (1 + jitter(0.08)), 0);
        if (i % 3 == 0)
            push(ctx, user, PACING_EV_SCROLL_DEPTH, t + 600, 0.5 + jitter(0.3), 0);
        if (i % 4 == 0)
            push(ctx, user, PACING_EV_DWELL, t + 900, 15000 * (1 + jitter(0.3)), 0);
        if (i % 2 == 0)
            push(ctx, user, PACING_EV_CLICK, t + 1200, 120 * (1 + jitter(0.3)),
                 next_target++);
    }
}

/* ------------------------------------------------------------------ */
/* (a) prompt fatigue                                                  */
/* ------------------------------------------------------------------ */

/* 30 prompts, one every 10 s from t_p; with `dismiss` each is dismissed
 * ~1.5 s later. Reactions slow from ~450 to ~900 ms either way. Samples
 * the fatigue 2 s after each prompt into f[30]. */
static void prompts(pacing_ctx *ctx, const char *user, int64_t t_p, int dismiss,
                    double f[30])
{
    for (int k = 0; k < 30; k++) {
        int64_t te = t_p + k * 10 * SEC;
        push(ctx, user, PACING_EV_EXPOSURE, te, 0, 77);
        double react = 1500 * (1 + k / 30.0) * (1 + jitter(0.1));
        double latency = 450 * (1 + k / 30.0) * (1 + jitter(0.05));
        push(ctx, user, PACING_EV_INPUT_LATENCY, te + (int64_t)(react / 2), latency, 0);
        if (dismiss)
            push(ctx, user, PACING_EV_DISMISS, te + (int64_t)react, 0, 77);
        push(ctx, user, PACING_EV_READING_SPEED, te + 5 * SEC,
             250 * (1 + jitter(0.08)), 0);
        f[k] = scores(ctx, user, te + 2 * SEC + 500).fatigue;
    }
}

static void test_scenario_prompt_fatigue(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    rng_seed(11);
    const int64_t t0 = 8 * 3600 * SEC;
    const int64_t t_p = t0 + 10 * MIN;

    /* 10 minutes of normal activity */
    normal_activity(ctx, "tired", t0, t_p, 400, 250);
    normal_activity(ctx, "control", t0, t_p, 400, 250);
    double pre = scores(ctx, "tired", t_p).fatigue;
    double pre_c = scores(ctx, "control", t_p).fatigue;

    /* 5 minutes of prompts; "tired" dismisses each, "control" does not */
    double f[30], fc[30];
    prompts(ctx, "tired", t_p, 1, f);
    prompts(ctx, "control", t_p, 0, fc);
    const int64_t t_end = t_p + 30 * 10 * SEC;
    double end = scores(ctx, "tired", t_end).fatigue;
    double end_c = scores(ctx, "control", t_end).fatigue;
    double peak = pre;
    for (int k = 0; k < 30; k++)
        peak = fmax(peak, f[k]);
    peak = fmax(peak, end);

    printf("(a) prompt fatigue\n");
    printf("    before the prompts: fatigue %.3f (control %.3f)\n", pre, pre_c);
    printf("    during (each minute, 2.5 s after the prompt):");
    for (int k = 5; k < 30; k += 6)
        printf(" %.3f", f[k]);
    printf("\n    control without dismissals:                 ");
    for (int k = 5; k < 30; k += 6)
        printf(" %.3f", fc[k]);
    printf("\n    after 5 min of prompts: fatigue %.3f (control %.3f), peak %.3f\n",
           end, end_c, peak);
    print_contributions(ctx, "tired", t_end, PACING_SCORE_FATIGUE, "contributions");

    /* the quiet period: nothing at all for 10 minutes */
    double quiet[11];
    for (int m = 0; m <= 10; m++)
        quiet[m] = scores(ctx, "tired", t_end + m * MIN).fatigue;
    printf("    quiet, each minute:");
    for (int m = 0; m <= 10; m++)
        printf(" %.3f", quiet[m]);
    printf("\n    after 10 quiet minutes: %.3f (%.0f%% of the peak)\n", quiet[10],
           100 * quiet[10] / peak);
    print_contributions(ctx, "tired", t_end + 10 * MIN, PACING_SCORE_FATIGUE,
                        "contributions");

    /* normal use is not fatiguing */
    assert_true(pre < 0.1);
    assert_true(pre_c < 0.1);
    /* it rises, roughly monotonically: every sample at least the one a
     * minute before, and no sample far below its predecessor */
    for (int k = 1; k < 30; k++)
        if (f[k] < f[k - 1] - 0.03)
            fail_msg("fatigue fell from %.3f to %.3f after prompt %d", f[k - 1],
                     f[k], k);
    for (int k = 6; k < 30; k++)
        if (f[k] < f[k - 6])
            fail_msg("fatigue %.3f after prompt %d is below %.3f a minute "
                     "earlier", f[k], k, f[k - 6]);
    assert_true(f[29] > f[0] + 0.2);
    /* and ends high */
    if (!(end >= 0.4 && end >= pre + 0.3))
        fail_msg("fatigue after the prompts %.3f (before %.3f): want >= 0.4 and "
                 ">= before + 0.3", end, pre);
    /* dismissing is what makes the difference to the control */
    if (!(end >= end_c + 0.15))
        fail_msg("fatigue with dismissals %.3f, without %.3f: want a gap >= 0.15",
                 end, end_c);
    /* recovery: falls every minute, to under half the peak after 10 */
    for (int m = 1; m <= 10; m++)
        assert_true(quiet[m] < quiet[m - 1]);
    if (!(quiet[10] < 0.5 * peak))
        fail_msg("after 10 quiet minutes fatigue is %.3f, peak %.3f: want < half",
                 quiet[10], peak);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* (b) cognitive load                                                  */
/* ------------------------------------------------------------------ */

static void test_scenario_cognitive_load(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    rng_seed(22);
    const int64_t t0 = 9 * 3600 * SEC;
    const int64_t t_s = t0 + 10 * MIN;

    normal_activity(ctx, "loaded", t0, t_s, 400, 250);
    normal_activity(ctx, "slow_only", t0, t_s, 400, 250);
    double pre = scores(ctx, "loaded", t_s).cognitive_load;

    /* 5 minutes: reading at half speed, an error every 20 s; the control
     * "slow_only" reads slowly but makes no errors */
    double samples[5];
    for (int i = 0; i < 30; i++) {
        int64_t t = t_s + i * 10 * SEC;
        const char *users[2] = {"loaded", "slow_only"};
        for (int u = 0; u < 2; u++) {
            push(ctx, users[u], PACING_EV_INPUT_LATENCY, t, 400 * (1 + jitter(0.08)), 0);
            push(ctx, users[u], PACING_EV_READING_SPEED, t + 300,
                 125 * (1 + jitter(0.08)), 0);
            if (u == 0 && i % 2 == 1)
                push(ctx, users[u], PACING_EV_ERROR, t + 5 * SEC, 0, 0);
        }
        if (i % 6 == 5)
            samples[i / 6] = scores(ctx, "loaded", t + 5 * SEC + 1).cognitive_load;
    }
    const int64_t t_end = t_s + 30 * 10 * SEC;
    double end = scores(ctx, "loaded", t_end).cognitive_load;
    double end_c = scores(ctx, "slow_only", t_end).cognitive_load;

    printf("(b) cognitive load\n");
    printf("    baseline: load %.3f\n", pre);
    printf("    each minute of slow reading and errors:");
    for (int m = 0; m < 5; m++)
        printf(" %.3f", samples[m]);
    printf("\n    after 5 minutes: load %.3f (slow reading, no errors: %.3f)\n",
           end, end_c);
    print_contributions(ctx, "loaded", t_end, PACING_SCORE_COGNITIVE_LOAD,
                        "contributions");

    pacing_contribution c[PACING_INPUT_COUNT];
    size_t n = 0;
    for (int i = 0; i < PACING_INPUT_COUNT; i++)
        c[i].size = sizeof c[i];
    assert_int_equal(pacing_contributions(ctx, "loaded", 6, t_end,
                                          PACING_SCORE_COGNITIVE_LOAD, c, 2, &n),
                     PACING_OK);
    assert_int_equal(n, 5);

    assert_true(pre < 0.1);
    if (!(end >= 0.35))
        fail_msg("cognitive load after slow reading and errors is %.3f, want "
                 ">= 0.35", end);
    int top_reading = c[0].input == PACING_IN_READING_SLOWDOWN ||
                      c[1].input == PACING_IN_READING_SLOWDOWN;
    int top_errors = c[0].input == PACING_IN_ERROR_RATE ||
                     c[1].input == PACING_IN_ERROR_RATE;
    if (!(top_reading && top_errors))
        fail_msg("top two contributions are %s and %s, want reading_slowdown "
                 "and error_rate", pacing_input_name(c[0].input),
                 pacing_input_name(c[1].input));
    assert_true(c[1].contribution > 0.05);
    /* errors matter: the control without them is clearly lower */
    assert_true(end >= end_c + 0.1);
    /* and slow reading alone is already above the baseline */
    assert_true(end_c >= pre + 0.1);
    /* it rises over the minutes */
    for (int m = 1; m < 5; m++)
        assert_true(samples[m] >= samples[m - 1] - 0.02);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* (c) no prompts, no fatigue                                          */
/* ------------------------------------------------------------------ */

static void test_scenario_no_prompts(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    rng_seed(33);
    const int64_t t0 = 10 * 3600 * SEC;
    double worst = 0;
    /* 30 minutes of use, read every 30 s, then 10 idle minutes */
    for (int64_t t = t0; t < t0 + 30 * MIN; t += 30 * SEC) {
        normal_activity(ctx, "calm", t, t + 30 * SEC, 400, 250);
        worst = fmax(worst, scores(ctx, "calm", t + 30 * SEC).fatigue);
    }
    for (int64_t t = t0 + 30 * MIN; t <= t0 + 40 * MIN; t += 30 * SEC)
        worst = fmax(worst, scores(ctx, "calm", t).fatigue);
    /* a session with some form and media use, still no prompts */
    int64_t t = t0 + 40 * MIN;
    push(ctx, "calm", PACING_EV_SESSION_START, t, 0, 0);
    push(ctx, "calm", PACING_EV_FORM_START, t + 5 * SEC, 0, 0);
    push(ctx, "calm", PACING_EV_FORM_SUBMIT, t + 60 * SEC, 0, 0);
    push(ctx, "calm", PACING_EV_MEDIA_PAUSE, t + 90 * SEC, 0, 0);
    push(ctx, "calm", PACING_EV_MEDIA_RESUME, t + 100 * SEC, 0, 0);
    normal_activity(ctx, "calm", t + 110 * SEC, t + 15 * MIN, 400, 250);
    double f_end = scores(ctx, "calm", t + 15 * MIN).fatigue;
    worst = fmax(worst, f_end);
    printf("(c) no prompts: fatigue at most %.4f over 55 minutes, %.4f at the "
           "end\n", worst, f_end);
    print_contributions(ctx, "calm", t + 15 * MIN, PACING_SCORE_FATIGUE,
                        "contributions");
    pacing_scores sc = scores(ctx, "calm", t + 15 * MIN);
    assert_int_equal(sc.exposures_1d, 0);
    if (!(worst < 0.05))
        fail_msg("fatigue of a user never prompted reached %.4f, want < 0.05",
                 worst);
    pacing_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_prompt_fatigue),
        cmocka_unit_test(test_scenario_cognitive_load),
        cmocka_unit_test(test_scenario_no_prompts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
