/* Unit tests of lib/event.c through the public API: validation of
 * pacing_push (each error path gives its own status and changes nothing),
 * the reorder window, exactness of out-of-order events, drops (bot,
 * consent, debounce), opt-out, derived rage/dead clicks, event type names
 * and pacing_push_batch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacing.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static const char ALICE[] = "alice";
#define ALICE_LEN (sizeof ALICE - 1)

/* Options as given (NULL: all defaults), but a small user table: the
 * default of 100000 users only costs time here. */
static pacing_ctx *ctx_with(const pacing_options *o)
{
    pacing_options opts = PACING_OPTIONS_INIT;
    if (o)
        opts = *o;
    if (opts.capacity == 0)
        opts.capacity = 1024;
    pacing_ctx *ctx = NULL;
    int rc = pacing_ctx_new(&opts, &ctx);
    assert_int_equal(rc, PACING_OK);
    assert_non_null(ctx);
    return ctx;
}

static pacing_ctx *ctx_default(void) { return ctx_with(NULL); }

static pacing_event mkev(const char *user, uint32_t type, int64_t t,
                         double value)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    return ev;
}

static int push(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                double value)
{
    pacing_event ev = mkev(user, type, t, value);
    return pacing_push(ctx, &ev);
}

static int push_click(pacing_ctx *ctx, const char *user, int64_t t,
                      double value, uint64_t target, uint32_t flags)
{
    pacing_event ev = mkev(user, PACING_EV_CLICK, t, value);
    ev.target = target;
    ev.flags = flags;
    return pacing_push(ctx, &ev);
}

static pacing_stats stats(pacing_ctx *ctx)
{
    pacing_stats s = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &s), PACING_OK);
    return s;
}

/* Every counter equal, except events_rejected which must have grown by
 * `rejected`. */
static void assert_stats_same(const pacing_stats *a, const pacing_stats *b,
                              uint64_t rejected)
{
    assert_int_equal(a->users, b->users);
    assert_int_equal(a->capacity, b->capacity);
    assert_int_equal(a->events_applied, b->events_applied);
    assert_int_equal(a->events_dropped_bot, b->events_dropped_bot);
    assert_int_equal(a->events_dropped_debounce, b->events_dropped_debounce);
    assert_int_equal(a->events_dropped_consent, b->events_dropped_consent);
    assert_int_equal(a->events_rejected + rejected, b->events_rejected);
    assert_int_equal(a->derived_rage_clicks, b->derived_rage_clicks);
    assert_int_equal(a->derived_dead_clicks, b->derived_dead_clicks);
    assert_int_equal(a->users_created, b->users_created);
    assert_int_equal(a->users_evicted_lru, b->users_evicted_lru);
    assert_int_equal(a->users_expired, b->users_expired);
    assert_int_equal(a->users_forgotten, b->users_forgotten);
    assert_int_equal(a->bytes_allocated, b->bytes_allocated);
}

/* Everything observable about one user at one time. */
typedef struct snapshot {
    int rc;
    pacing_scores sc;
    size_t n[4];
    pacing_contribution c[4][PACING_INPUT_COUNT];
} snapshot;

static void take(pacing_ctx *ctx, const char *user, int64_t now, snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->sc.size = sizeof s->sc;
    s->rc = pacing_scores_get(ctx, user, strlen(user), now, &s->sc);
    if (s->rc != PACING_OK)
        return;
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < PACING_INPUT_COUNT; i++)
            s->c[k][i].size = sizeof(pacing_contribution);
        assert_int_equal(pacing_contributions(ctx, user, strlen(user), now, k,
                                              s->c[k], PACING_INPUT_COUNT,
                                              &s->n[k]),
                         PACING_OK);
    }
}

static void assert_snap_same(const snapshot *a, const snapshot *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_memory_equal(&a->sc, &b->sc, sizeof a->sc);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(a->n[k], b->n[k]);
        assert_memory_equal(a->c[k], b->c[k],
                            sizeof(pacing_contribution) * a->n[k]);
    }
}

/* The raw value of one input of one score kind. */
static double input_raw(pacing_ctx *ctx, const char *user, int64_t now,
                        int kind, int input)
{
    pacing_contribution c[PACING_INPUT_COUNT];
    size_t n = 0;
    for (int i = 0; i < PACING_INPUT_COUNT; i++)
        c[i].size = sizeof c[i];
    assert_int_equal(pacing_contributions(ctx, user, strlen(user), now, kind,
                                          c, PACING_INPUT_COUNT, &n),
                     PACING_OK);
    for (size_t i = 0; i < n; i++)
        if (c[i].input == input)
            return c[i].raw;
    fail_msg("input %d not in score kind %d", input, kind);
    return 0;
}

static int scores_rc(pacing_ctx *ctx, const char *user, int64_t now)
{
    pacing_scores sc = PACING_SCORES_INIT;
    return pacing_scores_get(ctx, user, strlen(user), now, &sc);
}

/* Deterministic generator (xorshift64*), so runs are reproducible. */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s ? s : 1; }
static uint64_t rng_u64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static double rng_unit(void) { return (double)(rng_u64() >> 11) * 0x1p-53; }
static uint32_t rng_below(uint32_t n) { return (uint32_t)(rng_u64() % n); }

/* Relative agreement, with an absolute floor for values that are zero up to
 * rounding (a difference of nearly equal numbers). */
/* ------------------------------------------------------------------ */
/* Validation: each bad event gets its own status and changes nothing  */
/* ------------------------------------------------------------------ */

#define T0 100000

/* A context with alice (several events, latest at T0) and bob. */
static pacing_ctx *ctx_with_alice(const pacing_options *o)
{
    pacing_ctx *ctx = ctx_with(o);
    int64_t t = T0 - 50000;
    for (int i = 0; i < 10; i++, t += 5000) {
        assert_int_equal(push(ctx, ALICE, PACING_EV_INPUT_LATENCY, t, 400 + i),
                         PACING_OK);
        assert_int_equal(push(ctx, ALICE, PACING_EV_READING_SPEED, t + 100,
                              250 - i),
                         PACING_OK);
    }
    assert_int_equal(push(ctx, ALICE, PACING_EV_EXPOSURE, T0 - 3000, 0), PACING_OK);
    assert_int_equal(push(ctx, ALICE, PACING_EV_DISMISS, T0 - 2000, 0), PACING_OK);
    assert_int_equal(push(ctx, ALICE, PACING_EV_ERROR, T0 - 1000, 0), PACING_OK);
    assert_int_equal(push(ctx, ALICE, PACING_EV_SCROLL_DEPTH, T0, 0.5), PACING_OK);
    assert_int_equal(push(ctx, "bob", PACING_EV_EXPOSURE, T0, 0), PACING_OK);
    return ctx;
}

typedef struct bad_case {
    const char *what;
    int expect;
    uint32_t type;   /* 0: keep EXPOSURE */
    void (*mut)(pacing_event *ev);
} bad_case;

static void m_size_small(pacing_event *e) { e->size = sizeof *e - 8; }
static void m_size_big(pacing_event *e) { e->size = sizeof *e + 8; }
static void m_size_zero(pacing_event *e) { e->size = 0; }
static void m_type0(pacing_event *e) { e->type = 0; }
static void m_type28(pacing_event *e) { e->type = 28; }
static void m_type_huge(pacing_event *e) { e->type = UINT32_MAX; }
static void m_nan(pacing_event *e) { e->value = NAN; }
static void m_pinf(pacing_event *e) { e->value = INFINITY; }
static void m_ninf(pacing_event *e) { e->value = -INFINITY; }
static void m_neg1(pacing_event *e) { e->value = -1.0; }
static void m_neg_tiny(pacing_event *e) { e->value = -1e-9; }
static void m_dwell_hi(pacing_event *e) { e->value = 86400000.0 + 1; }
static void m_scroll_hi(pacing_event *e) { e->value = 1.01; }
static void m_reading_hi(pacing_event *e) { e->value = 10000.5; }
static void m_latency_hi(pacing_event *e) { e->value = 600001; }
static void m_conversion_hi(pacing_event *e) { e->value = 1.1e12; }
static void m_two(pacing_event *e) { e->value = 2.0; }
static void m_channel(pacing_event *e) { e->channel = 256; }
static void m_channel_huge(pacing_event *e) { e->channel = UINT32_MAX; }
static void m_user_null(pacing_event *e) { e->user = NULL; }
static void m_len0(pacing_event *e) { e->user_len = 0; }
static void m_len1025(pacing_event *e)
{
    static char big[2048];
    memset(big, 'x', sizeof big);
    e->user = big;
    e->user_len = 1025;
}
static void m_flag_unknown(pacing_event *e) { e->flags = 0x20; }
static void m_flag_high(pacing_event *e) { e->flags = 0x80000000u; }
static void m_flag_both(pacing_event *e)
{
    e->flags = PACING_EVF_CONSENT | PACING_EVF_NO_CONSENT;
}
static void m_reserved(pacing_event *e) { e->reserved0 = 1; }
static void m_pseudo0(pacing_event *e)
{
    e->flags = PACING_EVF_PSEUDONYM;
    e->pseudonym = 0;
}
static void m_time_neg(pacing_event *e) { e->time_ms = -1; }
static void m_time_big(pacing_event *e) { e->time_ms = ((int64_t)1 << 53) + 1; }
static void m_time_min(pacing_event *e) { e->time_ms = INT64_MIN; }

static const bad_case bad_cases[] = {
    {"size too small", PACING_E_SIZE, 0, m_size_small},
    {"size too big", PACING_E_SIZE, 0, m_size_big},
    {"size 0", PACING_E_SIZE, 0, m_size_zero},
    {"type 0", PACING_E_TYPE, 0, m_type0},
    {"type 28", PACING_E_TYPE, 0, m_type28},
    {"type UINT32_MAX", PACING_E_TYPE, 0, m_type_huge},
    {"count NaN", PACING_E_NAN, 0, m_nan},
    {"count +Inf", PACING_E_NAN, 0, m_pinf},
    {"count -Inf", PACING_E_NAN, 0, m_ninf},
    {"dwell NaN", PACING_E_NAN, PACING_EV_DWELL, m_nan},
    {"latency +Inf", PACING_E_NAN, PACING_EV_INPUT_LATENCY, m_pinf},
    {"custom -Inf", PACING_E_NAN, PACING_EV_CUSTOM, m_ninf},
    {"dwell -1", PACING_E_RANGE, PACING_EV_DWELL, m_neg1},
    {"dwell > 1 day", PACING_E_RANGE, PACING_EV_DWELL, m_dwell_hi},
    {"scroll depth 1.01", PACING_E_RANGE, PACING_EV_SCROLL_DEPTH, m_scroll_hi},
    {"scroll depth -1e-9", PACING_E_RANGE, PACING_EV_SCROLL_DEPTH, m_neg_tiny},
    {"hover -1", PACING_E_RANGE, PACING_EV_HOVER, m_neg1},
    {"hover > 1 day", PACING_E_RANGE, PACING_EV_HOVER, m_dwell_hi},
    {"reading speed 10000.5", PACING_E_RANGE, PACING_EV_READING_SPEED,
     m_reading_hi},
    {"reading speed -1", PACING_E_RANGE, PACING_EV_READING_SPEED, m_neg1},
    {"input latency 600001", PACING_E_RANGE, PACING_EV_INPUT_LATENCY,
     m_latency_hi},
    {"input latency -1", PACING_E_RANGE, PACING_EV_INPUT_LATENCY, m_neg1},
    {"click 600001", PACING_E_RANGE, PACING_EV_CLICK, m_latency_hi},
    {"click -1", PACING_E_RANGE, PACING_EV_CLICK, m_neg1},
    {"conversion -1", PACING_E_RANGE, PACING_EV_CONVERSION, m_neg1},
    {"conversion 1.1e12", PACING_E_RANGE, PACING_EV_CONVERSION, m_conversion_hi},
    {"consent 2", PACING_E_RANGE, PACING_EV_CONSENT, m_two},
    {"consent -1", PACING_E_RANGE, PACING_EV_CONSENT, m_neg1},
    {"channel 256", PACING_E_RANGE, 0, m_channel},
    {"channel UINT32_MAX", PACING_E_RANGE, 0, m_channel_huge},
    {"user NULL", PACING_E_NULL, 0, m_user_null},
    {"user_len 0", PACING_E_RANGE, 0, m_len0},
    {"user_len 1025", PACING_E_RANGE, 0, m_len1025},
    {"unknown flag 0x20", PACING_E_INVAL, 0, m_flag_unknown},
    {"unknown flag 0x80000000", PACING_E_INVAL, 0, m_flag_high},
    {"CONSENT|NO_CONSENT", PACING_E_INVAL, 0, m_flag_both},
    {"reserved0 1", PACING_E_INVAL, 0, m_reserved},
    {"PSEUDONYM with 0", PACING_E_INVAL, 0, m_pseudo0},
    {"time -1", PACING_E_TIME, 0, m_time_neg},
    {"time 2^53+1", PACING_E_TIME, 0, m_time_big},
    {"time INT64_MIN", PACING_E_TIME, 0, m_time_min},
};

static void test_push_validation(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with_alice(NULL);
    const int64_t q = T0 + 1000;
    snapshot a0, b0, a1, b1;
    take(ctx, ALICE, q, &a0);
    take(ctx, "bob", q, &b0);
    assert_int_equal(a0.rc, PACING_OK);
    assert_int_equal(b0.rc, PACING_OK);

    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *bc = &bad_cases[i];
        /* a valid event for alice that would change her state ... */
        uint32_t type = bc->type ? bc->type : PACING_EV_EXPOSURE;
        double v = type == PACING_EV_CONSENT ? 1.0 : 700.0;
        if (type == PACING_EV_SCROLL_DEPTH)
            v = 0.9;
        pacing_event ev = mkev(ALICE, type, q, v);
        /* ... is first pushed to a scratch context: it must be accepted */
        pacing_ctx *scratch = ctx_with_alice(NULL);
        assert_int_equal(pacing_push(scratch, &ev), PACING_OK);
        pacing_ctx_free(scratch);

        bc->mut(&ev);
        pacing_stats s0 = stats(ctx);
        int rc = pacing_push(ctx, &ev);
        if (rc != bc->expect)
            fail_msg("case '%s': status %d (%s), expected %d (%s)", bc->what,
                     rc, pacing_strerror(rc), bc->expect,
                     pacing_strerror(bc->expect));
        assert_true(pacing_errmsg(ctx)[0] != '\0');
        pacing_stats s1 = stats(ctx);
        assert_stats_same(&s0, &s1, 1);
        take(ctx, ALICE, q, &a1);
        take(ctx, "bob", q, &b1);
        assert_snap_same(&a0, &a1);
        assert_snap_same(&b0, &b1);
    }

    /* NULL event */
    pacing_stats s0 = stats(ctx);
    assert_int_equal(pacing_push(ctx, NULL), PACING_E_NULL);
    pacing_stats s1 = stats(ctx);
    assert_stats_same(&s0, &s1, 1);
    take(ctx, ALICE, q, &a1);
    assert_snap_same(&a0, &a1);

    /* NULL context */
    pacing_event ev = mkev(ALICE, PACING_EV_EXPOSURE, q, 0);
    assert_int_equal(pacing_push(NULL, &ev), PACING_E_NULL);
    assert_int_equal(pacing_push(NULL, NULL), PACING_E_NULL);
    s1 = stats(ctx);
    assert_stats_same(&s0, &s1, 1);

    /* the boundaries themselves are accepted */
    assert_int_equal(push(ctx, "edge", PACING_EV_DWELL, 0, 86400000.0), PACING_OK);
    assert_int_equal(push(ctx, "edge", PACING_EV_SCROLL_DEPTH, 100, 1.0), PACING_OK);
    assert_int_equal(push(ctx, "edge", PACING_EV_READING_SPEED, 200, 10000), PACING_OK);
    assert_int_equal(push(ctx, "edge", PACING_EV_INPUT_LATENCY, 300, 600000), PACING_OK);
    assert_int_equal(push(ctx, "edge", PACING_EV_CONVERSION, 400, 1e12), PACING_OK);
    assert_int_equal(push(ctx, "edge", PACING_EV_CUSTOM, 500, -1e300), PACING_OK);
    assert_int_equal(push(ctx, "edge", PACING_EV_ERROR, 600, -5.0), PACING_OK);
    pacing_event e2 = mkev("edge", PACING_EV_EXPOSURE, 700, 0);
    e2.channel = 255;
    e2.flags = PACING_EVF_CONSENT | PACING_EVF_NO_RESPONSE;
    assert_int_equal(pacing_push(ctx, &e2), PACING_OK);
    static char big[1024];
    memset(big, 'y', sizeof big);
    e2 = mkev("x", PACING_EV_EXPOSURE, 800, 0);
    e2.user = big;
    e2.user_len = 1024;
    assert_int_equal(pacing_push(ctx, &e2), PACING_OK);
    e2 = mkev("x", PACING_EV_EXPOSURE, (int64_t)1 << 53, 0);
    assert_int_equal(pacing_push(ctx, &e2), PACING_OK);
    /* with PSEUDONYM, user may be NULL */
    e2 = mkev("x", PACING_EV_EXPOSURE, 900, 0);
    e2.user = NULL;
    e2.user_len = 0;
    e2.flags = PACING_EVF_PSEUDONYM;
    e2.pseudonym = 42;
    assert_int_equal(pacing_push(ctx, &e2), PACING_OK);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get_pseudonym(ctx, 42, 900, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1m, 1);

    pacing_ctx_free(ctx);
}

/* A pseudonym event and a user-id event for the same user reach the same
 * state. */
static void test_push_pseudonym_same_user(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    uint64_t p = 0;
    assert_int_equal(pacing_pseudonym(ctx, ALICE, ALICE_LEN, &p), PACING_OK);
    assert_int_equal(push(ctx, ALICE, PACING_EV_EXPOSURE, 1000, 0), PACING_OK);
    pacing_event ev = mkev(ALICE, PACING_EV_EXPOSURE, 2000, 0);
    ev.user = NULL;
    ev.user_len = 0;
    ev.flags = PACING_EVF_PSEUDONYM;
    ev.pseudonym = p;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, ALICE, ALICE_LEN, 2000, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1m, 2);
    assert_int_equal(stats(ctx).users, 1);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Reorder window                                                      */
/* ------------------------------------------------------------------ */

static void test_reorder_window(void **state)
{
    (void)state;
    pacing_options o = PACING_OPTIONS_INIT;
    o.reorder_window_ms = 5000;
    pacing_ctx *ctx = ctx_with_alice(&o);
    const int64_t q = T0 + 1000;
    snapshot a0, a1;
    take(ctx, ALICE, q, &a0);
    pacing_stats s0 = stats(ctx);

    /* 5001 ms before the latest: too old, nothing changes */
    assert_int_equal(push(ctx, ALICE, PACING_EV_EXPOSURE, T0 - 5001, 0),
                     PACING_E_TOO_OLD);
    assert_int_equal(push(ctx, ALICE, PACING_EV_INPUT_LATENCY, T0 - 5001, 900),
                     PACING_E_TOO_OLD);
    assert_int_equal(push(ctx, ALICE, PACING_EV_EXPOSURE, 0, 0), PACING_E_TOO_OLD);
    pacing_stats s1 = stats(ctx);
    assert_stats_same(&s0, &s1, 3);
    take(ctx, ALICE, q, &a1);
    assert_snap_same(&a0, &a1);

    /* other users are not affected by alice's latest time */
    assert_int_equal(push(ctx, "carol", PACING_EV_EXPOSURE, 10, 0), PACING_OK);

    /* exactly at the window edge: accepted and applied */
    assert_int_equal(push(ctx, ALICE, PACING_EV_EXPOSURE, T0 - 5000, 0), PACING_OK);
    take(ctx, ALICE, q, &a1);
    assert_int_equal(a1.sc.exposures_1m, a0.sc.exposures_1m + 1);
    assert_int_equal(a1.sc.last_seen_ms, T0);
    assert_true(a1.sc.fatigue > a0.sc.fatigue);

    /* the window follows the latest event */
    assert_int_equal(push(ctx, ALICE, PACING_EV_UNDO, T0 + 10000, 0), PACING_OK);
    assert_int_equal(push(ctx, ALICE, PACING_EV_UNDO, T0 + 4999, 0),
                     PACING_E_TOO_OLD);
    assert_int_equal(push(ctx, ALICE, PACING_EV_UNDO, T0 + 5000, 0), PACING_OK);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Out-of-order exactness                                              */
/* ------------------------------------------------------------------ */

typedef struct gen_ev {
    uint32_t type;
    int64_t t;
    double v;
    uint64_t target;
    double key;
    size_t idx;
} gen_ev;

static int by_key(const void *a, const void *b)
{
    const gen_ev *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* a and b agree within rel of the larger of their sizes and 1 */
static int close_store(double a, double b, double rel)
{
    double m = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= rel * m;
}

static void assert_users_agree(pacing_ctx *ctx, const char *u1, const char *u2,
                               int64_t now)
{
    pacing_scores a = PACING_SCORES_INIT, b = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, u1, strlen(u1), now, &a), PACING_OK);
    assert_int_equal(pacing_scores_get(ctx, u2, strlen(u2), now, &b), PACING_OK);
    /* the features are floats: the two users' accumulators went through
     * their updates in different orders, each rounding once (see
     * STORE_REL in test_feature.c); the scores are smooth functions of
     * them, so agree to the same bound for this test's 1500 events,
     * relative to their size or to 1 (several inputs are differences
     * of ratios near 1, e.g. a mean over its baseline minus 1) */
    const double rel = 2 * 1500 * FLT_EPSILON;
    if (!close_store(a.fatigue, b.fatigue, rel) ||
        !close_store(a.cognitive_load, b.cognitive_load, rel) ||
        !close_store(a.attention, b.attention, rel) ||
        !close_store(a.engagement, b.engagement, rel) ||
        !close_store(a.micro_velocity, b.micro_velocity, rel))
        fail_msg("scores differ at %lld: F %.17g/%.17g L %.17g/%.17g "
                 "A %.17g/%.17g E %.17g/%.17g MV %.17g/%.17g",
                 (long long)now, a.fatigue, b.fatigue, a.cognitive_load,
                 b.cognitive_load, a.attention, b.attention, a.engagement,
                 b.engagement, a.micro_velocity, b.micro_velocity);
    assert_int_equal(a.last_seen_ms, b.last_seen_ms);
    assert_int_equal(a.exposures_1m, b.exposures_1m);
    assert_int_equal(a.exposures_1h, b.exposures_1h);
    assert_int_equal(a.exposures_1d, b.exposures_1d);

    for (int k = 0; k < 4; k++) {
        double ra[PACING_INPUT_COUNT] = {0}, rb[PACING_INPUT_COUNT] = {0};
        double na[PACING_INPUT_COUNT] = {0}, nb[PACING_INPUT_COUNT] = {0};
        pacing_contribution c[PACING_INPUT_COUNT];
        size_t n = 0, m = 0;
        for (int i = 0; i < PACING_INPUT_COUNT; i++)
            c[i].size = sizeof c[i];
        assert_int_equal(pacing_contributions(ctx, u1, strlen(u1), now, k, c,
                                              PACING_INPUT_COUNT, &n),
                         PACING_OK);
        for (size_t i = 0; i < n; i++) {
            ra[c[i].input] = c[i].raw;
            na[c[i].input] = c[i].normalized;
        }
        assert_int_equal(pacing_contributions(ctx, u2, strlen(u2), now, k, c,
                                              PACING_INPUT_COUNT, &m),
                         PACING_OK);
        assert_int_equal(n, m);
        for (size_t i = 0; i < m; i++) {
            rb[c[i].input] = c[i].raw;
            nb[c[i].input] = c[i].normalized;
        }
        for (int i = 0; i < PACING_INPUT_COUNT; i++)
            if (!close_store(ra[i], rb[i], rel) || !close_store(na[i], nb[i], rel))
                fail_msg("kind %d input %s at %lld: raw %.17g vs %.17g, "
                         "normalized %.17g vs %.17g",
                         k, pacing_input_name(i), (long long)now, ra[i], rb[i],
                         na[i], nb[i]);
    }
}

static void test_out_of_order_exact(void **state)
{
    (void)state;
    static const uint32_t types[] = {
        PACING_EV_EXPOSURE,      PACING_EV_EXPOSURE,     PACING_EV_DISMISS,
        PACING_EV_INPUT_LATENCY, PACING_EV_INPUT_LATENCY, PACING_EV_READING_SPEED,
        PACING_EV_READING_SPEED, PACING_EV_ERROR,        PACING_EV_UNDO,
        PACING_EV_TAB_HIDDEN,    PACING_EV_MEDIA_PAUSE,  PACING_EV_DWELL,
        PACING_EV_SCROLL_DEPTH,  PACING_EV_HOVER,        PACING_EV_FORM_START,
        PACING_EV_FORM_ABANDON,  PACING_EV_MICRO_CONVERSION, PACING_EV_CLICK,
        PACING_EV_CURSOR_BACKTRACK, PACING_EV_CONVERSION, PACING_EV_SESSION_END,
    };
    enum { N = 1500 };
    static gen_ev evs[N];
    rng_seed(0x5EED1234ABCDULL);
    int64_t t = 1000000;
    for (size_t i = 0; i < N; i++) {
        gen_ev *g = &evs[i];
        g->type = types[rng_below(sizeof types / sizeof types[0])];
        t += 100 + rng_below(2900);
        g->t = t;
        g->target = 1000 + i; /* unique: no debounce, no rage clicks */
        g->idx = i;
        switch (g->type) {
        case PACING_EV_INPUT_LATENCY: g->v = 300 + 500 * rng_unit(); break;
        case PACING_EV_READING_SPEED: g->v = 150 + 150 * rng_unit(); break;
        case PACING_EV_DWELL: g->v = 60000 * rng_unit(); break;
        case PACING_EV_SCROLL_DEPTH: g->v = rng_unit(); break;
        case PACING_EV_HOVER: g->v = 3000 * rng_unit(); break;
        case PACING_EV_CLICK: g->v = 1500 * rng_unit(); break;
        case PACING_EV_CONVERSION: g->v = 100 * rng_unit(); break;
        default: g->v = 0; break;
        }
    }
    const int64_t t_last = t;
    pacing_ctx *ctx = ctx_default(); /* reorder window 60000 ms */

    for (size_t i = 0; i < N; i++) {
        const gen_ev *g = &evs[i];
        pacing_event ev = mkev("ordered", g->type, g->t, g->v);
        ev.target = g->target;
        assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    }
    /* shuffle within the reorder window: sort by time + U[0, 50 s) */
    for (size_t i = 0; i < N; i++)
        evs[i].key = (double)evs[i].t + 50000.0 * rng_unit();
    qsort(evs, N, sizeof evs[0], by_key);
    size_t late = 0;
    int64_t latest = 0;
    for (size_t i = 0; i < N; i++) {
        const gen_ev *g = &evs[i];
        if (g->t < latest)
            late++;
        if (g->t > latest)
            latest = g->t;
        pacing_event ev = mkev("shuffled", g->type, g->t, g->v);
        ev.target = g->target;
        int rc = pacing_push(ctx, &ev);
        if (rc != PACING_OK)
            fail_msg("shuffled event %zu (t=%lld, latest %lld): %s", i,
                     (long long)g->t, (long long)latest, pacing_errmsg(ctx));
    }
    /* the shuffle really did deliver many events late */
    printf("out-of-order: %zu of %d events arrived late\n", late, N);
    assert_true(late > N / 4);

    pacing_stats s = stats(ctx);
    assert_int_equal(s.events_applied, 2 * N);
    assert_int_equal(s.events_dropped_debounce, 0);
    assert_int_equal(s.derived_rage_clicks, 0);

    const int64_t at[] = {t_last - 59000, t_last - 20000, t_last, t_last + 1,
                          t_last + 30000, t_last + 600000, t_last + 7200000};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        assert_users_agree(ctx, "ordered", "shuffled", at[i]);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Drops                                                               */
/* ------------------------------------------------------------------ */

static void test_drop_bot(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with_alice(NULL);
    snapshot a0, a1;
    take(ctx, ALICE, T0 + 1000, &a0);
    pacing_stats s0 = stats(ctx);
    pacing_event ev = mkev(ALICE, PACING_EV_EXPOSURE, T0 + 1000, 0);
    ev.flags = PACING_EVF_BOT;
    assert_int_equal(pacing_push(ctx, &ev), PACING_DROPPED);
    /* a bot event for a new user creates nothing */
    ev = mkev("robot", PACING_EV_CLICK, T0 + 1000, 10);
    ev.flags = PACING_EVF_BOT | PACING_EVF_CONSENT;
    assert_int_equal(pacing_push(ctx, &ev), PACING_DROPPED);
    /* even a too-old bot event is dropped, not rejected */
    ev = mkev(ALICE, PACING_EV_EXPOSURE, 0, 0);
    ev.flags = PACING_EVF_BOT;
    assert_int_equal(pacing_push(ctx, &ev), PACING_DROPPED);
    pacing_stats s1 = stats(ctx);
    assert_int_equal(s1.events_dropped_bot, s0.events_dropped_bot + 3);
    s1.events_dropped_bot = s0.events_dropped_bot;
    assert_stats_same(&s0, &s1, 0);
    take(ctx, ALICE, T0 + 1000, &a1);
    assert_snap_same(&a0, &a1);
    assert_int_equal(scores_rc(ctx, "robot", T0 + 1000), PACING_E_NOTFOUND);
    pacing_ctx_free(ctx);
}

static void test_drop_no_consent(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with_alice(NULL);
    snapshot a0, a1;
    take(ctx, ALICE, T0 + 1000, &a0);
    pacing_stats s0 = stats(ctx);
    pacing_event ev = mkev("dave", PACING_EV_EXPOSURE, T0, 0);
    ev.flags = PACING_EVF_NO_CONSENT;
    assert_int_equal(pacing_push(ctx, &ev), PACING_DROPPED);
    ev = mkev(ALICE, PACING_EV_DISMISS, T0 + 1000, 0);
    ev.flags = PACING_EVF_NO_CONSENT;
    assert_int_equal(pacing_push(ctx, &ev), PACING_DROPPED);
    pacing_stats s1 = stats(ctx);
    assert_int_equal(s1.events_dropped_consent, s0.events_dropped_consent + 2);
    s1.events_dropped_consent = s0.events_dropped_consent;
    assert_stats_same(&s0, &s1, 0);
    assert_int_equal(scores_rc(ctx, "dave", T0), PACING_E_NOTFOUND);
    take(ctx, ALICE, T0 + 1000, &a1);
    assert_snap_same(&a0, &a1);
    pacing_ctx_free(ctx);
}

static void test_require_consent(void **state)
{
    (void)state;
    pacing_options o = PACING_OPTIONS_INIT;
    o.flags = PACING_OPT_REQUIRE_CONSENT;
    pacing_ctx *ctx = ctx_with(&o);
    assert_int_equal(push(ctx, "erin", PACING_EV_EXPOSURE, 1000, 0), PACING_DROPPED);
    pacing_stats s = stats(ctx);
    assert_int_equal(s.events_dropped_consent, 1);
    assert_int_equal(s.events_applied, 0);
    assert_int_equal(s.users, 0);
    assert_int_equal(scores_rc(ctx, "erin", 1000), PACING_E_NOTFOUND);

    pacing_event ev = mkev("erin", PACING_EV_EXPOSURE, 2000, 0);
    ev.flags = PACING_EVF_CONSENT;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "erin", 4, 2000, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1m, 1);

    /* still dropped without the flag for a user that exists */
    assert_int_equal(push(ctx, "erin", PACING_EV_EXPOSURE, 3000, 0), PACING_DROPPED);
    assert_int_equal(pacing_scores_get(ctx, "erin", 4, 3000, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1m, 1);
    s = stats(ctx);
    assert_int_equal(s.events_dropped_consent, 2);
    assert_int_equal(s.events_applied, 1);
    pacing_ctx_free(ctx);
}

static void test_debounce(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default(); /* debounce 50 ms */
    pacing_event ev = mkev("fred", PACING_EV_INPUT_LATENCY, 10000, 500);
    ev.target = 7;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    /* identical, within 50 ms (also at the same time) */
    assert_int_equal(pacing_push(ctx, &ev), PACING_DROPPED);
    ev.time_ms = 10030;
    assert_int_equal(pacing_push(ctx, &ev), PACING_DROPPED);
    pacing_stats s = stats(ctx);
    assert_int_equal(s.events_dropped_debounce, 2);
    assert_int_equal(s.events_applied, 1);
    /* after the debounce interval: applied */
    ev.time_ms = 10051;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    /* a different value, target or channel is not a duplicate */
    ev.time_ms = 10060;
    ev.value = 501;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    ev.time_ms = 10070;
    ev.target = 8;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    ev.time_ms = 10080;
    ev.channel = PACING_CH_APP;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    /* a different type is not a duplicate */
    ev.time_ms = 10085;
    ev.type = PACING_EV_HOVER;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    /* another user's identical event is not a duplicate */
    ev.user = "gina";
    ev.user_len = 4;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    s = stats(ctx);
    assert_int_equal(s.events_dropped_debounce, 2);
    assert_int_equal(s.events_applied, 7);

    /* a dropped duplicate changes nothing */
    snapshot a0, a1;
    take(ctx, "fred", 10100, &a0);
    ev.user = "fred";
    ev.user_len = 4;
    ev.time_ms = 10095;
    assert_int_equal(pacing_push(ctx, &ev), PACING_DROPPED);
    take(ctx, "fred", 10100, &a1);
    assert_snap_same(&a0, &a1);
    pacing_ctx_free(ctx);

    /* configured interval */
    pacing_options o = PACING_OPTIONS_INIT;
    o.debounce_ms = 500;
    ctx = ctx_with(&o);
    assert_int_equal(push(ctx, "h", PACING_EV_EXPOSURE, 1000, 0), PACING_OK);
    assert_int_equal(push(ctx, "h", PACING_EV_EXPOSURE, 1400, 0), PACING_DROPPED);
    assert_int_equal(push(ctx, "h", PACING_EV_EXPOSURE, 1501, 0), PACING_OK);
    pacing_ctx_free(ctx);

    /* negative: off */
    o.debounce_ms = -1;
    ctx = ctx_with(&o);
    for (int i = 0; i < 5; i++)
        assert_int_equal(push(ctx, "h", PACING_EV_EXPOSURE, 1000, 0), PACING_OK);
    s = stats(ctx);
    assert_int_equal(s.events_dropped_debounce, 0);
    assert_int_equal(s.events_applied, 5);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "h", 1, 1000, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1m, 5);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Opt-out and consent withdrawal                                      */
/* ------------------------------------------------------------------ */

static void test_opt_out(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with_alice(NULL);
    pacing_stats s0 = stats(ctx);
    assert_int_equal(scores_rc(ctx, "bob", T0), PACING_OK);
    assert_int_equal(push(ctx, ALICE, PACING_EV_OPT_OUT, T0 + 10, 0), PACING_OK);
    assert_int_equal(scores_rc(ctx, ALICE, T0 + 10), PACING_E_NOTFOUND);
    assert_int_equal(scores_rc(ctx, "bob", T0 + 10), PACING_OK);
    pacing_stats s1 = stats(ctx);
    assert_int_equal(s1.users_forgotten, s0.users_forgotten + 1);
    assert_int_equal(s1.users, s0.users - 1);
    assert_int_equal(s1.users_created,
                     s1.users + s1.users_evicted_lru + s1.users_expired +
                         s1.users_forgotten);

    /* consent withdrawn (value 0) */
    assert_int_equal(push(ctx, "bob", PACING_EV_CONSENT, T0 + 20, 0), PACING_OK);
    assert_int_equal(scores_rc(ctx, "bob", T0 + 20), PACING_E_NOTFOUND);
    pacing_stats s2 = stats(ctx);
    assert_int_equal(s2.users_forgotten, s0.users_forgotten + 2);
    assert_int_equal(s2.users, 0);

    /* opting out a user that is not there creates nobody */
    assert_int_equal(push(ctx, "nobody", PACING_EV_OPT_OUT, T0, 0), PACING_OK);
    pacing_stats s3 = stats(ctx);
    assert_int_equal(s3.users, 0);
    assert_int_equal(s3.users_created, s2.users_created);
    assert_int_equal(s3.users_forgotten, s2.users_forgotten);
    assert_int_equal(scores_rc(ctx, "nobody", T0), PACING_E_NOTFOUND);

    /* consent given (value 1) keeps/creates the user */
    assert_int_equal(push(ctx, "ivan", PACING_EV_CONSENT, T0, 1), PACING_OK);
    assert_int_equal(scores_rc(ctx, "ivan", T0), PACING_OK);

    /* a returning user starts from nothing */
    assert_int_equal(push(ctx, ALICE, PACING_EV_SESSION_START, T0 + 30, 0),
                     PACING_OK);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, ALICE, ALICE_LEN, T0 + 30, &sc),
                     PACING_OK);
    assert_int_equal(sc.exposures_1m, 0);
    assert_true(sc.fatigue == 0.0);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Derived rage and dead clicks                                        */
/* ------------------------------------------------------------------ */

static void test_rage_clicks(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    const int L = PACING_SCORE_COGNITIVE_LOAD;
    assert_int_equal(push_click(ctx, "k", 10000, 100, 5, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "k", 10400, 100, 5, 0), PACING_OK);
    double before = input_raw(ctx, "k", 10800, L, PACING_IN_MISCLICKS);
    assert_true(before == 0.0);
    assert_int_equal(stats(ctx).derived_rage_clicks, 0);
    assert_int_equal(push_click(ctx, "k", 10800, 100, 5, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 1);
    double after = input_raw(ctx, "k", 10800, L, PACING_IN_MISCLICKS);
    assert_true(after > 0.0);
    assert_int_equal(stats(ctx).derived_dead_clicks, 0);

    /* spread over more than the window: none */
    assert_int_equal(push_click(ctx, "m", 10000, 100, 5, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "m", 10600, 100, 5, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "m", 11001, 100, 5, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 1);
    assert_true(input_raw(ctx, "m", 11001, L, PACING_IN_MISCLICKS) == 0.0);

    /* different targets: none */
    assert_int_equal(push_click(ctx, "n", 10000, 100, 1, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "n", 10100, 100, 2, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "n", 10200, 100, 3, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "n", 10300, 100, 1, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 1);

    /* different users on the same target: none */
    assert_int_equal(push_click(ctx, "p1", 10000, 100, 9, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "p2", 10100, 100, 9, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "p3", 10200, 100, 9, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 1);

    /* exactly at the window's end still counts */
    assert_int_equal(push_click(ctx, "q", 20000, 100, 4, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "q", 20500, 100, 4, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "q", 21000, 100, 4, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 2);

    /* six fast clicks are two rage clicks */
    for (int i = 0; i < 6; i++)
        assert_int_equal(push_click(ctx, "r", 30000 + 100 * i, 100, 4, 0),
                         PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 4);
    pacing_ctx_free(ctx);
}

/* Clicks 0, 900, 1500, 1800 ms on one target contain three clicks within
 * 1000 ms (900, 1500, 1800): that is a rage click, whatever happened
 * before the run. */
static void test_rage_clicks_sliding_window(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    assert_int_equal(push_click(ctx, "s", 100000, 100, 5, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "s", 100900, 100, 5, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "s", 101500, 100, 5, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "s", 101800, 100, 5, 0), PACING_OK);
    pacing_stats s = stats(ctx);
    pacing_ctx_free(ctx);
    if (s.derived_rage_clicks != 1)
        fail_msg("clicks at 0, 900, 1500, 1800 ms on one target: %llu rage "
                 "clicks derived, expected 1 (900..1800 is 3 clicks in 900 ms)",
                 (unsigned long long)s.derived_rage_clicks);
}

static void test_rage_clicks_configured(void **state)
{
    (void)state;
    pacing_options o = PACING_OPTIONS_INIT;
    o.rage_clicks = 5;
    o.rage_window_ms = 2000;
    pacing_ctx *ctx = ctx_with(&o);
    for (int i = 0; i < 4; i++)
        assert_int_equal(push_click(ctx, "k", 10000 + 400 * i, 100, 5, 0),
                         PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 0);
    assert_int_equal(push_click(ctx, "k", 12000, 100, 5, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 1);
    /* 5 clicks over 2500 ms: none */
    for (int i = 0; i < 5; i++)
        assert_int_equal(push_click(ctx, "m", 10000 + 625 * i, 100, 5, 0),
                         PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 1);
    pacing_ctx_free(ctx);

    /* 2 clicks within 200 ms */
    o.rage_clicks = 2;
    o.rage_window_ms = 200;
    ctx = ctx_with(&o);
    assert_int_equal(push_click(ctx, "k", 10000, 100, 5, 0), PACING_OK);
    assert_int_equal(push_click(ctx, "k", 10300, 100, 5, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 0);
    assert_int_equal(push_click(ctx, "k", 10450, 100, 5, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_rage_clicks, 1);
    pacing_ctx_free(ctx);
}

static void test_dead_clicks(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default(); /* dead_click_ms 1000 */
    const int L = PACING_SCORE_COGNITIVE_LOAD;
    assert_int_equal(push_click(ctx, "d", 10000, 999, 1, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_dead_clicks, 0);
    assert_true(input_raw(ctx, "d", 10000, L, PACING_IN_MISCLICKS) == 0.0);
    assert_int_equal(push_click(ctx, "d", 12000, 1000, 2, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_dead_clicks, 1);
    assert_true(input_raw(ctx, "d", 12000, L, PACING_IN_MISCLICKS) > 0.0);
    assert_int_equal(push_click(ctx, "d", 14000, 600000, 3, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_dead_clicks, 2);
    assert_int_equal(push_click(ctx, "d", 16000, 0, 4, PACING_EVF_NO_RESPONSE),
                     PACING_OK);
    assert_int_equal(stats(ctx).derived_dead_clicks, 3);
    /* the flag on another event type derives nothing */
    pacing_event ev = mkev("d", PACING_EV_HOVER, 18000, 10);
    ev.flags = PACING_EVF_NO_RESPONSE;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    assert_int_equal(stats(ctx).derived_dead_clicks, 3);
    pacing_ctx_free(ctx);

    pacing_options o = PACING_OPTIONS_INIT;
    o.dead_click_ms = 300;
    ctx = ctx_with(&o);
    assert_int_equal(push_click(ctx, "d", 10000, 299, 1, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_dead_clicks, 0);
    assert_int_equal(push_click(ctx, "d", 11000, 300, 1, 0), PACING_OK);
    assert_int_equal(stats(ctx).derived_dead_clicks, 1);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

static void test_event_type_names(void **state)
{
    (void)state;
    static const char *const names[PACING_EV_TYPE_MAX + 1] = {
        NULL,           "session_start",  "session_end",   "dwell",
        "scroll_depth", "hover",          "reading_speed", "input_latency",
        "click",        "rage_click",     "dead_click",    "cursor_backtrack",
        "undo",         "error",          "form_start",    "form_submit",
        "form_abandon", "tab_hidden",     "tab_visible",   "media_pause",
        "media_resume", "exposure",       "dismiss",       "micro_conversion",
        "conversion",   "consent",        "opt_out",       "custom",
    };
    for (int t = 1; t <= PACING_EV_TYPE_MAX; t++) {
        const char *n = pacing_event_type_name(t);
        assert_non_null(n);
        assert_string_equal(n, names[t]);
    }
    assert_int_equal(PACING_EV_CUSTOM, PACING_EV_TYPE_MAX);
    assert_null(pacing_event_type_name(0));
    assert_null(pacing_event_type_name(28));
    assert_null(pacing_event_type_name(-1));
    assert_null(pacing_event_type_name(1000));
}

/* ------------------------------------------------------------------ */
/* Batches                                                             */
/* ------------------------------------------------------------------ */

static void fill_batch(pacing_event *b, size_t n, const char *user, int64_t t0)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = mkev(user, i % 2 ? PACING_EV_DISMISS : PACING_EV_EXPOSURE,
                    t0 + 1000 * (int64_t)i, 0);
    }
}

static void test_batch(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with_alice(NULL);
    pacing_event b[6];
    size_t done = 12345;
    snapshot a0, a1;
    take(ctx, ALICE, T0 + 10000, &a0);

    /* a bad event in the middle: its status, its index, nothing applied */
    fill_batch(b, 6, ALICE, T0 + 1000);
    b[3].value = NAN;
    pacing_stats s0 = stats(ctx);
    assert_int_equal(pacing_push_batch(ctx, b, 6, &done), PACING_E_NAN);
    assert_int_equal(done, 3);
    pacing_stats s1 = stats(ctx);
    assert_stats_same(&s0, &s1, 1);
    take(ctx, ALICE, T0 + 10000, &a1);
    assert_snap_same(&a0, &a1);

    fill_batch(b, 6, "newbie", T0);
    b[4].type = 99;
    s0 = stats(ctx);
    assert_int_equal(pacing_push_batch(ctx, b, 6, &done), PACING_E_TYPE);
    assert_int_equal(done, 4);
    s1 = stats(ctx);
    assert_stats_same(&s0, &s1, 1);
    assert_int_equal(scores_rc(ctx, "newbie", T0), PACING_E_NOTFOUND);

    /* too old against the table */
    fill_batch(b, 6, ALICE, T0 + 1000);
    b[2].time_ms = T0 - 60001;
    s0 = stats(ctx);
    assert_int_equal(pacing_push_batch(ctx, b, 6, &done), PACING_E_TOO_OLD);
    assert_int_equal(done, 2);
    s1 = stats(ctx);
    assert_stats_same(&s0, &s1, 1);
    take(ctx, ALICE, T0 + 10000, &a1);
    assert_snap_same(&a0, &a1);

    /* the last one bad; n_done may be NULL */
    fill_batch(b, 6, ALICE, T0 + 1000);
    b[5].reserved0 = 3;
    assert_int_equal(pacing_push_batch(ctx, b, 6, NULL), PACING_E_INVAL);
    take(ctx, ALICE, T0 + 10000, &a1);
    assert_snap_same(&a0, &a1);

    /* a wrong size in the middle */
    fill_batch(b, 6, ALICE, T0 + 1000);
    b[1].size = sizeof(pacing_event) + 8;
    s0 = stats(ctx);
    assert_int_equal(pacing_push_batch(ctx, b, 6, &done), PACING_E_SIZE);
    assert_int_equal(done, 1);
    s1 = stats(ctx);
    assert_int_equal(s1.events_applied, s0.events_applied);
    assert_int_equal(s1.users, s0.users);
    /* a wrong stride (first element) */
    fill_batch(b, 6, ALICE, T0 + 1000);
    b[0].size = sizeof(pacing_event) - 8;
    done = 99;
    assert_int_equal(pacing_push_batch(ctx, b, 6, &done), PACING_E_SIZE);
    assert_int_equal(done, 0);
    s1 = stats(ctx);
    assert_int_equal(s1.events_applied, s0.events_applied);
    take(ctx, ALICE, T0 + 10000, &a1);
    assert_snap_same(&a0, &a1);

    /* n == 0 */
    done = 99;
    assert_int_equal(pacing_push_batch(ctx, b, 0, &done), PACING_OK);
    assert_int_equal(done, 0);
    assert_int_equal(pacing_push_batch(ctx, NULL, 0, &done), PACING_OK);
    assert_int_equal(done, 0);
    /* events NULL with n > 0, ctx NULL */
    assert_int_equal(pacing_push_batch(ctx, NULL, 3, &done), PACING_E_NULL);
    assert_int_equal(done, 0);
    assert_int_equal(pacing_push_batch(NULL, b, 1, &done), PACING_E_NULL);
    take(ctx, ALICE, T0 + 10000, &a1);
    assert_snap_same(&a0, &a1);

    /* all good: all applied, in order, like single pushes */
    fill_batch(b, 6, ALICE, T0 + 1000);
    s0 = stats(ctx);
    assert_int_equal(pacing_push_batch(ctx, b, 6, &done), PACING_OK);
    assert_int_equal(done, 6);
    s1 = stats(ctx);
    assert_int_equal(s1.events_applied, s0.events_applied + 6);
    assert_int_equal(s1.events_rejected, s0.events_rejected);

    pacing_ctx *ref = ctx_with_alice(NULL);
    for (int i = 0; i < 6; i++)
        assert_int_equal(pacing_push(ref, &b[i]), PACING_OK);
    take(ctx, ALICE, T0 + 10000, &a0);
    take(ref, ALICE, T0 + 10000, &a1);
    assert_snap_same(&a0, &a1);
    pacing_ctx_free(ref);

    /* drops inside a batch are counted, not reported */
    fill_batch(b, 3, "zed", T0);
    b[1].flags = PACING_EVF_BOT;
    s0 = stats(ctx);
    assert_int_equal(pacing_push_batch(ctx, b, 3, &done), PACING_OK);
    assert_int_equal(done, 3);
    s1 = stats(ctx);
    assert_int_equal(s1.events_applied, s0.events_applied + 2);
    assert_int_equal(s1.events_dropped_bot, s0.events_dropped_bot + 1);

    /* an event made too old by an earlier one of the same batch is skipped
     * and counted as rejected */
    b[0] = mkev("yan", PACING_EV_EXPOSURE, 500000, 0);
    b[1] = mkev("yan", PACING_EV_EXPOSURE, 500000 - 60001, 0);
    b[2] = mkev("yan", PACING_EV_DISMISS, 500001, 0);
    s0 = stats(ctx);
    assert_int_equal(pacing_push_batch(ctx, b, 3, &done), PACING_OK);
    assert_int_equal(done, 3);
    s1 = stats(ctx);
    assert_int_equal(s1.events_applied, s0.events_applied + 2);
    assert_int_equal(s1.events_rejected, s0.events_rejected + 1);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "yan", 3, 500001, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1d, 1);
    pacing_ctx_free(ctx);
}

/* A batch accepts what single pushes accept: pacing_push applies a late
 * opt-out / consent withdrawal (erasure is never too old) and drops a late
 * NO_CONSENT event; a batch holding them must not fail with TOO_OLD. */
static void test_batch_late_erasure_and_drops(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_event b[2];
    size_t done = 99;
    assert_int_equal(push(ctx, "v", PACING_EV_EXPOSURE, 1000000, 0), PACING_OK);
    assert_int_equal(push(ctx, "w", PACING_EV_EXPOSURE, 1000000, 0), PACING_OK);
    /* single pushes, for reference */
    pacing_event e = mkev("w", PACING_EV_EXPOSURE, 1000000 - 70000, 0);
    e.flags = PACING_EVF_NO_CONSENT;
    assert_int_equal(pacing_push(ctx, &e), PACING_DROPPED);
    e = mkev("w", PACING_EV_OPT_OUT, 1000000 - 70000, 0);
    assert_int_equal(pacing_push(ctx, &e), PACING_OK);
    assert_int_equal(scores_rc(ctx, "w", 1000000), PACING_E_NOTFOUND);

    /* the same as a batch */
    b[0] = mkev("v", PACING_EV_EXPOSURE, 1000000 - 70000, 0);
    b[0].flags = PACING_EVF_NO_CONSENT;
    b[1] = mkev("v", PACING_EV_OPT_OUT, 1000000 - 70000, 0);
    pacing_stats s0 = stats(ctx);
    int rc = pacing_push_batch(ctx, b, 2, &done);
    int still_there = scores_rc(ctx, "v", 1000000) == PACING_OK;
    pacing_stats s1 = stats(ctx);
    pacing_ctx_free(ctx);
    if (rc != PACING_OK || done != 2 || still_there)
        fail_msg("batch [late NO_CONSENT event, late opt-out]: status %d (%s), "
                 "n_done %zu, user %s; pacing_push accepts both (DROPPED, OK)",
                 rc, pacing_strerror(rc), done,
                 still_there ? "still there" : "removed");
    assert_int_equal(s1.events_dropped_consent, s0.events_dropped_consent + 1);
    assert_int_equal(s1.users_forgotten, s0.users_forgotten + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_validation),
        cmocka_unit_test(test_push_pseudonym_same_user),
        cmocka_unit_test(test_reorder_window),
        cmocka_unit_test(test_out_of_order_exact),
        cmocka_unit_test(test_drop_bot),
        cmocka_unit_test(test_drop_no_consent),
        cmocka_unit_test(test_require_consent),
        cmocka_unit_test(test_debounce),
        cmocka_unit_test(test_opt_out),
        cmocka_unit_test(test_rage_clicks),
        cmocka_unit_test(test_rage_clicks_sliding_window),
        cmocka_unit_test(test_rage_clicks_configured),
        cmocka_unit_test(test_dead_clicks),
        cmocka_unit_test(test_event_type_names),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_batch_late_erasure_and_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
