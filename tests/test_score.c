/* Unit tests of lib/score.c through the public API: score ranges on a
 * random event stream, contributions (sum, order, counts, cap, errors),
 * weights, input names, read errors, exposure windows and monotonicity. */
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

#define F PACING_SCORE_FATIGUE
#define L PACING_SCORE_COGNITIVE_LOAD
#define A PACING_SCORE_ATTENTION
#define E PACING_SCORE_ENGAGEMENT

static const size_t kind_n[4] = {6, 5, 3, 4};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

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
    assert_int_equal(pacing_ctx_new(&opts, &ctx), PACING_OK);
    assert_non_null(ctx);
    return ctx;
}

static int push(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                double value)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    return pacing_push(ctx, &ev);
}

static pacing_scores scores(pacing_ctx *ctx, const char *user, int64_t now)
{
    pacing_scores sc = PACING_SCORES_INIT;
    int rc = pacing_scores_get(ctx, user, strlen(user), now, &sc);
    if (rc != PACING_OK)
        fail_msg("scores_get(%s, %lld): %s", user, (long long)now,
                 pacing_errmsg(ctx));
    return sc;
}

static size_t contribs(pacing_ctx *ctx, const char *user, int64_t now, int kind,
                       pacing_contribution *c)
{
    size_t n = 0;
    for (int i = 0; i < PACING_INPUT_COUNT; i++)
        c[i].size = sizeof c[i];
    assert_int_equal(pacing_contributions(ctx, user, strlen(user), now, kind, c,
                                          PACING_INPUT_COUNT, &n),
                     PACING_OK);
    return n;
}

static double score_of_kind(const pacing_scores *sc, int kind)
{
    switch (kind) {
    case F: return sc->fatigue;
    case L: return sc->cognitive_load;
    case A: return sc->attention;
    default: return sc->engagement;
    }
}

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

/* Everything that must hold of one user's scores at one time. */
static void check_user(pacing_ctx *ctx, const char *user, int64_t now)
{
    pacing_scores sc = scores(ctx, user, now);
    const char *names[4] = {"fatigue", "cognitive_load", "attention", "engagement"};
    for (int k = 0; k < 4; k++) {
        double s = score_of_kind(&sc, k);
        if (!(s >= 0.0 && s <= 1.0))
            fail_msg("%s of %s at %lld is %.17g", names[k], user, (long long)now, s);
    }
    assert_true(isfinite(sc.micro_velocity) && sc.micro_velocity >= 0.0);
    assert_true(sc.exposures_1m <= sc.exposures_1h);
    assert_true(sc.exposures_1h <= sc.exposures_1d);

    for (int k = 0; k < 4; k++) {
        pacing_contribution c[PACING_INPUT_COUNT];
        size_t n = contribs(ctx, user, now, k, c);
        assert_int_equal(n, kind_n[k]);
        double sum = 0.0, wsum = 0.0;
        unsigned seen = 0;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(c[i].size, sizeof c[i]);
            assert_true(c[i].input >= 0 && c[i].input < PACING_INPUT_COUNT);
            assert_false(seen & (1u << c[i].input));
            seen |= 1u << c[i].input;
            assert_true(isfinite(c[i].raw));
            assert_true(c[i].normalized >= 0.0 && c[i].normalized <= 1.0);
            assert_true(c[i].contribution >= 0.0);
            if (i > 0 && c[i - 1].contribution < c[i].contribution)
                fail_msg("%s contributions not sorted: %.17g before %.17g",
                         names[k], c[i - 1].contribution, c[i].contribution);
            double w;
            assert_int_equal(pacing_weight_get(ctx, k, c[i].input, &w), PACING_OK);
            assert_true(w == c[i].weight);
            sum += c[i].contribution;
            wsum += c[i].weight;
        }
        double s = score_of_kind(&sc, k);
        if (fabs(sum - s) > 1e-12)
            fail_msg("%s of %s at %lld: contributions sum to %.17g, score %.17g",
                     names[k], user, (long long)now, sum, s);
        for (size_t i = 0; i < n; i++) {
            double want = c[i].weight * c[i].normalized / wsum;
            if (fabs(c[i].contribution - want) > 1e-15)
                fail_msg("%s input %s: contribution %.17g, w x / sum w = %.17g",
                         names[k], pacing_input_name(c[i].input),
                         c[i].contribution, want);
        }
    }
}

/* ------------------------------------------------------------------ */
/* A random event stream                                               */
/* ------------------------------------------------------------------ */

static double random_value(uint32_t type)
{
    double u = rng_unit();
    int edge = rng_below(20) == 0; /* sometimes a range boundary */
    switch (type) {
    case PACING_EV_DWELL:
    case PACING_EV_HOVER:
        return edge ? (rng_below(2) ? 86400000.0 : 0.0) : 60000.0 * u * u;
    case PACING_EV_SCROLL_DEPTH: return edge ? (double)rng_below(2) : u;
    case PACING_EV_READING_SPEED:
        return edge ? (rng_below(2) ? 10000.0 : 0.0) : 50 + 400 * u;
    case PACING_EV_INPUT_LATENCY:
    case PACING_EV_CLICK:
        return edge ? (rng_below(2) ? 600000.0 : 0.0) : 2000 * u * u;
    case PACING_EV_CONVERSION: return edge ? 1e12 : 500 * u;
    case PACING_EV_CONSENT: return 1.0; /* 0 would erase the user */
    case PACING_EV_CUSTOM: return (u - 0.5) * 1e6;
    default: return edge ? -1e300 : 0.0; /* count events: any finite value */
    }
}

static void test_scores_random_stream(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with(NULL);
    static const char *const users[] = {"u0", "u1", "u2", "u3"};
    int64_t latest[4] = {0, 0, 0, 0};
    rng_seed(20240601);
    int64_t clock = 1000000;
    size_t checks = 0, dropped = 0;
    for (int i = 0; i < 10000; i++) {
        int u = (int)rng_below(4);
        uint32_t type;
        do
            type = 1 + rng_below(PACING_EV_TYPE_MAX);
        while (type == PACING_EV_OPT_OUT);
        /* bursts, pauses and late events */
        uint32_t r = rng_below(100);
        if (r < 70)
            clock += rng_below(3000);
        else if (r < 95)
            clock += rng_below(60000);
        else
            clock += rng_below(1800000);
        int64_t t = clock;
        if (latest[u] > 0 && rng_below(10) == 0)
            t = latest[u] - (int64_t)rng_below(59000);
        if (t < 0)
            t = 0;
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = type;
        ev.user = users[u];
        ev.user_len = 2;
        ev.time_ms = t;
        ev.value = random_value(type);
        ev.target = rng_below(4);
        ev.channel = rng_below(256);
        if (type == PACING_EV_CLICK && rng_below(5) == 0)
            ev.flags |= PACING_EVF_NO_RESPONSE;
        if (rng_below(50) == 0)
            ev.flags |= PACING_EVF_CONSENT;
        int rc = pacing_push(ctx, &ev);
        if (rc == PACING_DROPPED)
            dropped++;
        else if (rc != PACING_OK)
            fail_msg("event %d (type %u, t %lld, latest %lld): %s", i, type,
                     (long long)t, (long long)latest[u], pacing_errmsg(ctx));
        if (t > latest[u])
            latest[u] = t;
        /* sometimes a duplicate (debounced) or a burst of clicks on one
         * target (rage) */
        if (rng_below(30) == 0) {
            ev.time_ms += rng_below(40);
            rc = pacing_push(ctx, &ev);
            assert_true(rc == PACING_OK || rc == PACING_DROPPED);
            dropped += rc == PACING_DROPPED;
            if (ev.time_ms > latest[u])
                latest[u] = ev.time_ms;
            i++;
        }
        if (rng_below(50) == 0) {
            int k = 3 + (int)rng_below(4);
            for (int j = 0; j < k; j++, i++) {
                ev = (pacing_event)PACING_EVENT_INIT;
                ev.type = PACING_EV_CLICK;
                ev.user = users[u];
                ev.user_len = 2;
                ev.time_ms = latest[u] + 100 + 200 * j;
                ev.value = 50 + j;
                ev.target = 9;
                assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
            }
            latest[u] += 100 + 200 * (k - 1);
        }
        if (i % 37 == 0) {
            /* now, later, and earlier inside the reorder window */
            check_user(ctx, users[u], latest[u]);
            check_user(ctx, users[u], latest[u] + (int64_t)rng_below(3600000));
            check_user(ctx, users[u], latest[u] - (int64_t)rng_below(60001));
            checks += 3;
        }
    }
    for (int u = 0; u < 4; u++) {
        check_user(ctx, users[u], latest[u] + 86400000LL * 20);
        checks++;
    }
    pacing_stats s = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &s), PACING_OK);
    printf("random stream: %llu applied, %zu dropped, %llu rage, %llu dead "
           "clicks; %zu checks\n",
           (unsigned long long)s.events_applied, dropped,
           (unsigned long long)s.derived_rage_clicks,
           (unsigned long long)s.derived_dead_clicks, checks);
    assert_true(s.events_applied > 9000);
    assert_true(s.events_dropped_debounce > 0);
    assert_true(s.derived_rage_clicks > 0);
    assert_true(s.derived_dead_clicks > 0);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Contributions                                                       */
/* ------------------------------------------------------------------ */

/* A user with something in most inputs. */
static void busy_user(pacing_ctx *ctx, const char *u, int64_t t0)
{
    int64_t t = t0;
    for (int i = 0; i < 40; i++, t += 5000) {
        assert_int_equal(push(ctx, u, PACING_EV_INPUT_LATENCY, t, 400 + 10 * i), PACING_OK);
        assert_int_equal(push(ctx, u, PACING_EV_READING_SPEED, t + 1, 300 - 4 * i), PACING_OK);
        assert_int_equal(push(ctx, u, PACING_EV_DWELL, t + 2, 20000 - 300 * i), PACING_OK);
        if (i % 3 == 0) {
            assert_int_equal(push(ctx, u, PACING_EV_EXPOSURE, t + 3, 0), PACING_OK);
            assert_int_equal(push(ctx, u, PACING_EV_DISMISS, t + 4, 0), PACING_OK);
            assert_int_equal(push(ctx, u, PACING_EV_SCROLL_DEPTH, t + 5, 0.3), PACING_OK);
        }
        if (i % 4 == 0) {
            assert_int_equal(push(ctx, u, PACING_EV_ERROR, t + 6, 0), PACING_OK);
            assert_int_equal(push(ctx, u, PACING_EV_UNDO, t + 7, 0), PACING_OK);
            assert_int_equal(push(ctx, u, PACING_EV_TAB_HIDDEN, t + 8, 0), PACING_OK);
            assert_int_equal(push(ctx, u, PACING_EV_HOVER, t + 9, 800), PACING_OK);
        }
        if (i % 5 == 0) {
            assert_int_equal(push(ctx, u, PACING_EV_MEDIA_PAUSE, t + 10, 0), PACING_OK);
            assert_int_equal(push(ctx, u, PACING_EV_FORM_START, t + 11, 0), PACING_OK);
            assert_int_equal(push(ctx, u, PACING_EV_CURSOR_BACKTRACK, t + 12, 0), PACING_OK);
            assert_int_equal(push(ctx, u, PACING_EV_MICRO_CONVERSION, t + 13, 0), PACING_OK);
        }
        if (i % 7 == 0)
            assert_int_equal(push(ctx, u, PACING_EV_FORM_ABANDON, t + 14, 0), PACING_OK);
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = PACING_EV_CLICK;
        ev.user = u;
        ev.user_len = strlen(u);
        ev.time_ms = t + 15;
        ev.value = 150;
        ev.target = (uint64_t)i + 1;
        assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    }
}

static void test_contributions(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with(NULL);
    busy_user(ctx, "busy", 1000000);
    const int64_t now = 1000000 + 40 * 5000;
    check_user(ctx, "busy", now);

    /* every input of a kind appears once; the union is all 17 inputs plus
     * error_rate twice */
    unsigned all = 0;
    for (int k = 0; k < 4; k++) {
        pacing_contribution c[PACING_INPUT_COUNT];
        size_t n = contribs(ctx, "busy", now, k, c);
        for (size_t i = 0; i < n; i++)
            all |= 1u << c[i].input;
        /* several inputs are nonzero for this user */
        size_t nz = 0;
        for (size_t i = 0; i < n; i++)
            nz += c[i].contribution > 0.0;
        assert_true(nz >= 2);
    }
    assert_int_equal(all, (1u << PACING_INPUT_COUNT) - 1);

    /* cap smaller than n: only cap elements written, *n is still n */
    for (int k = 0; k < 4; k++) {
        pacing_contribution full[PACING_INPUT_COUNT];
        size_t nfull = contribs(ctx, "busy", now, k, full);
        for (size_t cap = 0; cap <= nfull; cap++) {
            pacing_contribution c[PACING_INPUT_COUNT + 1];
            memset(c, 0xA5, sizeof c);
            for (size_t i = 0; i < cap; i++)
                c[i].size = sizeof c[i];
            size_t n = 999;
            assert_int_equal(pacing_contributions(ctx, "busy", 4, now, k,
                                                  cap ? c : NULL, cap, &n),
                             PACING_OK);
            assert_int_equal(n, nfull);
            assert_memory_equal(c, full, sizeof c[0] * cap);
            unsigned char pat[sizeof c[0]];
            memset(pat, 0xA5, sizeof pat);
            for (size_t i = cap; i < PACING_INPUT_COUNT + 1; i++)
                assert_memory_equal(&c[i], pat, sizeof pat);
        }
    }

    /* errors */
    pacing_contribution c[PACING_INPUT_COUNT];
    size_t n = 777;
    for (int i = 0; i < PACING_INPUT_COUNT; i++)
        c[i].size = sizeof c[i];
    c[2].size = sizeof c[2] - 8;
    assert_int_equal(pacing_contributions(ctx, "busy", 4, now, F, c, 6, &n),
                     PACING_E_SIZE);
    assert_int_equal(pacing_contributions(ctx, "busy", 4, now, F, c, 2, &n),
                     PACING_OK); /* only out[0..cap) is looked at */
    c[2].size = sizeof c[2];
    c[0].size = 0;
    assert_int_equal(pacing_contributions(ctx, "busy", 4, now, F, c, 1, &n),
                     PACING_E_SIZE);
    c[0].size = sizeof c[0];
    assert_int_equal(pacing_contributions(ctx, "busy", 4, now, 4, c, 6, &n),
                     PACING_E_INVAL);
    assert_int_equal(pacing_contributions(ctx, "busy", 4, now, -1, c, 6, &n),
                     PACING_E_INVAL);
    assert_int_equal(pacing_contributions(ctx, "nobody", 6, now, F, c, 6, &n),
                     PACING_E_NOTFOUND);
    const int64_t last = scores(ctx, "busy", now).last_seen_ms;
    assert_int_equal(pacing_contributions(ctx, "busy", 4, last - 60001, F, c, 6, &n),
                     PACING_E_TOO_OLD);
    assert_int_equal(pacing_contributions(ctx, "busy", 4, last - 60000, F, c, 6, &n),
                     PACING_OK);
    assert_int_equal(pacing_contributions(ctx, "busy", 4, -5, F, c, 6, &n),
                     PACING_E_TIME);
    assert_int_equal(pacing_contributions(ctx, "busy", 0, now, F, c, 6, &n),
                     PACING_E_RANGE);
    assert_int_equal(pacing_contributions(ctx, NULL, 4, now, F, c, 6, &n),
                     PACING_E_NULL);
    assert_int_equal(pacing_contributions(ctx, "busy", 4, now, F, c, 6, NULL),
                     PACING_E_NULL);
    assert_int_equal(pacing_contributions(ctx, "busy", 4, now, F, NULL, 6, &n),
                     PACING_E_NULL);
    assert_int_equal(pacing_contributions(NULL, "busy", 4, now, F, c, 6, &n),
                     PACING_E_NULL);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Weights                                                             */
/* ------------------------------------------------------------------ */

static void test_weights(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with(NULL);
    busy_user(ctx, "busy", 1000000);
    const int64_t now = 1000000 + 40 * 5000 + 3000;

    /* defaults: members positive, non-members INVAL */
    for (int k = 0; k < 4; k++) {
        pacing_contribution c[PACING_INPUT_COUNT];
        size_t n = contribs(ctx, "busy", now, k, c);
        unsigned members = 0;
        for (size_t i = 0; i < n; i++)
            members |= 1u << c[i].input;
        for (int i = 0; i < PACING_INPUT_COUNT; i++) {
            double w = -1;
            int rc = pacing_weight_get(ctx, k, i, &w);
            if (members & (1u << i)) {
                assert_int_equal(rc, PACING_OK);
                assert_true(w > 0.0 && w <= 1000.0);
            } else {
                assert_int_equal(rc, PACING_E_INVAL);
                assert_int_equal(pacing_weight_set(ctx, k, i, 1.0), PACING_E_INVAL);
            }
        }
    }

    /* changing one weight moves the score as sum w x / sum w says */
    static const struct { int kind, input; double w; } changes[] = {
        {F, PACING_IN_DISMISSALS, 3.0},    {F, PACING_IN_SLOWER_REACTIONS, 0.0},
        {F, PACING_IN_ERROR_RATE, 50.0},   {L, PACING_IN_ERROR_RATE, 0.01},
        {L, PACING_IN_READING_SLOWDOWN, 1000.0}, {L, PACING_IN_PAUSES, 0.0},
        {A, PACING_IN_SCROLL_DEPTH, 2.5},  {A, PACING_IN_VISIBILITY, 0.0},
        {E, PACING_IN_CLICK_RATE, 0.7},    {E, PACING_IN_DWELL, 9.0},
    };
    for (size_t j = 0; j < sizeof changes / sizeof changes[0]; j++) {
        int k = changes[j].kind, in = changes[j].input;
        pacing_scores before = scores(ctx, "busy", now);
        pacing_contribution c[PACING_INPUT_COUNT];
        size_t n = contribs(ctx, "busy", now, k, c);
        double W = 0, S = 0, x_in = -1, w_old = -1;
        for (size_t i = 0; i < n; i++) {
            W += c[i].weight;
            S += c[i].weight * c[i].normalized;
            if (c[i].input == in) {
                x_in = c[i].normalized;
                w_old = c[i].weight;
            }
        }
        assert_true(x_in >= 0.0);
        assert_true(fabs(S / W - score_of_kind(&before, k)) <= 1e-12);

        assert_int_equal(pacing_weight_set(ctx, k, in, changes[j].w), PACING_OK);
        double got;
        assert_int_equal(pacing_weight_get(ctx, k, in, &got), PACING_OK);
        assert_true(got == changes[j].w);

        pacing_scores after = scores(ctx, "busy", now);
        double dw = changes[j].w - w_old;
        double want = (S + dw * x_in) / (W + dw);
        if (fabs(score_of_kind(&after, k) - want) > 1e-12)
            fail_msg("kind %d, %s weight %g -> %g: score %.17g, formula %.17g",
                     k, pacing_input_name(in), w_old, changes[j].w,
                     score_of_kind(&after, k), want);
        /* the other scores do not move */
        for (int o = 0; o < 4; o++)
            if (o != k)
                assert_true(score_of_kind(&after, o) == score_of_kind(&before, o));
        /* recompute from the new contributions */
        n = contribs(ctx, "busy", now, k, c);
        double W2 = 0, S2 = 0;
        for (size_t i = 0; i < n; i++) {
            W2 += c[i].weight;
            S2 += c[i].weight * c[i].normalized;
        }
        assert_true(fabs(S2 / W2 - score_of_kind(&after, k)) <= 1e-12);
        check_user(ctx, "busy", now);
    }

    /* a score dominated by one input tends to that input's value */
    assert_int_equal(pacing_weight_set(ctx, F, PACING_IN_DISMISSALS, 1000.0), PACING_OK);
    for (int i = 0; i < 6; i++)
        if (i != PACING_IN_DISMISSALS)
            assert_int_equal(pacing_weight_set(ctx, F, i, 0.0), PACING_OK);
    pacing_contribution c[PACING_INPUT_COUNT];
    contribs(ctx, "busy", now, F, c);
    assert_int_equal(c[0].input, PACING_IN_DISMISSALS);
    assert_true(fabs(scores(ctx, "busy", now).fatigue - c[0].normalized) <= 1e-12);
    /* the last nonzero weight cannot be set to zero */
    assert_int_equal(pacing_weight_set(ctx, F, PACING_IN_DISMISSALS, 0.0), PACING_E_RANGE);
    double w;
    assert_int_equal(pacing_weight_get(ctx, F, PACING_IN_DISMISSALS, &w), PACING_OK);
    assert_true(w == 1000.0);

    /* errors, which leave the weight as it was */
    assert_int_equal(pacing_weight_set(ctx, A, PACING_IN_SCROLL_DEPTH, NAN), PACING_E_NAN);
    assert_int_equal(pacing_weight_set(ctx, A, PACING_IN_SCROLL_DEPTH, INFINITY), PACING_E_NAN);
    assert_int_equal(pacing_weight_set(ctx, A, PACING_IN_SCROLL_DEPTH, -0.001), PACING_E_RANGE);
    assert_int_equal(pacing_weight_set(ctx, A, PACING_IN_SCROLL_DEPTH, 1000.001), PACING_E_RANGE);
    assert_int_equal(pacing_weight_get(ctx, A, PACING_IN_SCROLL_DEPTH, &w), PACING_OK);
    assert_true(w == 2.5);
    assert_int_equal(pacing_weight_set(ctx, 4, 0, 1.0), PACING_E_INVAL);
    assert_int_equal(pacing_weight_set(ctx, -1, 0, 1.0), PACING_E_INVAL);
    assert_int_equal(pacing_weight_set(ctx, F, PACING_INPUT_COUNT, 1.0), PACING_E_INVAL);
    assert_int_equal(pacing_weight_set(ctx, F, -1, 1.0), PACING_E_INVAL);
    assert_int_equal(pacing_weight_set(ctx, F, PACING_IN_READING_SLOWDOWN, 1.0), PACING_E_INVAL);
    assert_int_equal(pacing_weight_set(NULL, F, 0, 1.0), PACING_E_NULL);
    assert_int_equal(pacing_weight_get(ctx, 7, 0, &w), PACING_E_INVAL);
    assert_int_equal(pacing_weight_get(ctx, F, 0, NULL), PACING_E_NULL);
    assert_int_equal(pacing_weight_get(NULL, F, 0, &w), PACING_E_NULL);
    /* weights are per context */
    pacing_ctx *other = ctx_with(NULL);
    assert_int_equal(pacing_weight_get(other, F, PACING_IN_DISMISSALS, &w), PACING_OK);
    assert_true(w != 1000.0);
    pacing_ctx_free(other);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Names, read errors, exposure windows                                */
/* ------------------------------------------------------------------ */

static void test_input_names(void **state)
{
    (void)state;
    static const char *const names[PACING_INPUT_COUNT] = {
        "slower_reactions", "dismissals",   "recent_exposures", "undo_rate",
        "error_rate",       "incomplete_forms", "reading_slowdown", "pauses",
        "focus_switches",   "misclicks",    "scroll_depth",    "dwell_ratio",
        "visibility",       "click_rate",   "hover",           "micro_conversions",
        "dwell",
    };
    for (int i = 0; i < PACING_INPUT_COUNT; i++) {
        assert_non_null(pacing_input_name(i));
        assert_string_equal(pacing_input_name(i), names[i]);
    }
    assert_int_equal(PACING_IN_DWELL + 1, PACING_INPUT_COUNT);
    assert_null(pacing_input_name(-1));
    assert_null(pacing_input_name(PACING_INPUT_COUNT));
    assert_null(pacing_input_name(1000));
}

static void test_scores_errors(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with(NULL);
    const int64_t T = 10000000;
    assert_int_equal(push(ctx, "u", PACING_EV_EXPOSURE, T, 0), PACING_OK);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "u", 1, T, &sc), PACING_OK);
    assert_int_equal(sc.last_seen_ms, T);
    /* the reorder window (default 60000 ms) bounds how far back one reads */
    assert_int_equal(pacing_scores_get(ctx, "u", 1, T - 60000, &sc), PACING_OK);
    assert_int_equal(pacing_scores_get(ctx, "u", 1, T - 60001, &sc), PACING_E_TOO_OLD);
    assert_int_equal(pacing_scores_get(ctx, "u", 1, 0, &sc), PACING_E_TOO_OLD);
    assert_int_equal(pacing_scores_get(ctx, "u", 1, -1, &sc), PACING_E_TIME);
    assert_int_equal(pacing_scores_get(ctx, "u", 1, INT64_MIN, &sc), PACING_E_TIME);
    assert_int_equal(pacing_scores_get(ctx, "u", 1, ((int64_t)1 << 53) + 1, &sc),
                     PACING_E_TIME);
    /* 2^53 itself is a valid time (the user has expired by then) */
    assert_int_equal(pacing_scores_get(ctx, "u", 1, (int64_t)1 << 53, &sc),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_scores_get(ctx, "nobody", 6, T, &sc), PACING_E_NOTFOUND);
    assert_int_equal(pacing_scores_get(ctx, "u", 0, T, &sc), PACING_E_RANGE);
    assert_int_equal(pacing_scores_get(ctx, "u", 1025, T, &sc), PACING_E_RANGE);
    assert_int_equal(pacing_scores_get(ctx, NULL, 1, T, &sc), PACING_E_NULL);
    assert_int_equal(pacing_scores_get(ctx, "u", 1, T, NULL), PACING_E_NULL);
    assert_int_equal(pacing_scores_get(NULL, "u", 1, T, &sc), PACING_E_NULL);
    sc.size = sizeof sc - 8;
    assert_int_equal(pacing_scores_get(ctx, "u", 1, T, &sc), PACING_E_SIZE);
    sc.size = 0;
    assert_int_equal(pacing_scores_get_pseudonym(ctx, 1, T, &sc), PACING_E_SIZE);
    sc.size = sizeof sc;
    uint64_t p;
    assert_int_equal(pacing_pseudonym(ctx, "u", 1, &p), PACING_OK);
    pacing_scores sp = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get_pseudonym(ctx, p, T, &sp), PACING_OK);
    assert_int_equal(pacing_scores_get(ctx, "u", 1, T, &sc), PACING_OK);
    assert_memory_equal(&sc, &sp, sizeof sc);
    assert_int_equal(pacing_scores_get_pseudonym(ctx, p + 1, T, &sp), PACING_E_NOTFOUND);
    /* a failed read leaves *out alone */
    pacing_scores keep = sc;
    assert_int_equal(pacing_scores_get(ctx, "u", 1, T - 70000, &sc), PACING_E_TOO_OLD);
    assert_memory_equal(&sc, &keep, sizeof sc);
    /* reads are read-only */
    pacing_stats s0 = PACING_STATS_INIT, s1 = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &s0), PACING_OK);
    for (int i = 0; i < 10; i++)
        (void)scores(ctx, "u", T + 1000 * i);
    assert_int_equal(pacing_stats_get(ctx, &s1), PACING_OK);
    assert_memory_equal(&s0, &s1, sizeof s0);
    assert_int_equal(pacing_scores_get(ctx, "u", 1, T - 60000, &sc), PACING_OK);
    pacing_ctx_free(ctx);
}

static void test_exposure_windows(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with(NULL);
    const int64_t T = 10LL * 86400000;
    /* 7 exposures: 25 h, 23 h, 2 h, 30 min, 70 s, 50 s and 10 s before T */
    const int64_t ago[] = {25 * 3600000LL, 23 * 3600000LL, 2 * 3600000LL,
                           30 * 60000LL,   70000,          50000,
                           10000};
    for (size_t i = 0; i < sizeof ago / sizeof ago[0]; i++)
        assert_int_equal(push(ctx, "w", PACING_EV_EXPOSURE, T - ago[i], 0), PACING_OK);
    pacing_scores sc = scores(ctx, "w", T);
    assert_int_equal(sc.exposures_1m, 2);
    assert_int_equal(sc.exposures_1h, 4);
    assert_int_equal(sc.exposures_1d, 6);
    sc = scores(ctx, "w", T + 45000); /* the 50 s one is now 95 s old */
    assert_int_equal(sc.exposures_1m, 1);
    assert_int_equal(sc.exposures_1h, 4);
    sc = scores(ctx, "w", T + 50000); /* the 10 s one is exactly 60 s old */
    assert_int_equal(sc.exposures_1m, 0);
    assert_int_equal(sc.exposures_1h, 4);
    sc = scores(ctx, "w", T + 3600000);
    assert_int_equal(sc.exposures_1m, 0);
    assert_int_equal(sc.exposures_1h, 0);
    assert_int_equal(sc.exposures_1d, 5);
    /* other events do not count */
    assert_int_equal(push(ctx, "w", PACING_EV_DISMISS, T + 1000, 0), PACING_OK);
    assert_int_equal(push(ctx, "w", PACING_EV_CLICK, T + 1100, 10), PACING_OK);
    sc = scores(ctx, "w", T + 2000);
    assert_int_equal(sc.exposures_1m, 2);
    assert_int_equal(sc.exposures_1d, 6);

    /* 20 more in the last 40 s (more than the 8 kept exactly) */
    for (int i = 0; i < 20; i++)
        assert_int_equal(push(ctx, "w", PACING_EV_EXPOSURE, T + 20000 + 2000 * i, 0),
                         PACING_OK);
    sc = scores(ctx, "w", T + 60000);
    assert_int_equal(sc.exposures_1m, 20);
    /* + 30 min, 70 s, 50 s, 10 s before T (all well inside the hour) */
    assert_int_equal(sc.exposures_1h, 20 + 4);
    /* + 23 h and 2 h before T; the 23 h one may sit in the day's oldest,
     * partly counted bucket */
    assert_true(sc.exposures_1d >= 25 && sc.exposures_1d <= 26);
    pacing_ctx_free(ctx);
}

static void test_micro_velocity(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with(NULL);
    int64_t t = 1000000;
    for (int i = 0; i < 400; i++, t += 10000)
        assert_int_equal(push(ctx, "m", PACING_EV_MICRO_CONVERSION, t, 0), PACING_OK);
    pacing_scores sc = scores(ctx, "m", t - 5000);
    assert_true(fabs(sc.micro_velocity - 6.0) <= 0.3);
    pacing_contribution c[PACING_INPUT_COUNT];
    size_t n = contribs(ctx, "m", t - 5000, E, c);
    for (size_t i = 0; i < n; i++)
        if (c[i].input == PACING_IN_MICRO_CONVERSIONS)
            assert_true(fabs(c[i].raw - sc.micro_velocity) <= 1e-12);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Monotonicity                                                        */
/* ------------------------------------------------------------------ */

static void test_monotone_dismissals(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with(NULL);
    const int64_t t0 = 5000000;
    double prev = -1;
    for (int d = 0; d <= 10; d += 2) {
        char u[16];
        snprintf(u, sizeof u, "d%d", d);
        /* 10 exposures, 10 s apart; the first d of them dismissed */
        for (int i = 0; i < 10; i++) {
            int64_t t = t0 + 10000 * i;
            assert_int_equal(push(ctx, u, PACING_EV_EXPOSURE, t, 0), PACING_OK);
            if (i < d)
                assert_int_equal(push(ctx, u, PACING_EV_DISMISS, t + 1500, 0),
                                 PACING_OK);
        }
        double f = scores(ctx, u, t0 + 100000).fatigue;
        printf("10 exposures, %2d dismissed: fatigue %.4f\n", d, f);
        assert_true(f > prev);
        prev = f;
    }
    pacing_ctx_free(ctx);
}

static void test_monotone_errors(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with(NULL);
    const int64_t t0 = 5000000;
    const int counts[] = {0, 1, 3, 6, 12, 24};
    double prev_l = -1, prev_f = -1;
    for (size_t j = 0; j < sizeof counts / sizeof counts[0]; j++) {
        char u[16];
        snprintf(u, sizeof u, "e%d", counts[j]);
        assert_int_equal(push(ctx, u, PACING_EV_SESSION_START, t0, 0), PACING_OK);
        for (int i = 0; i < counts[j]; i++)
            assert_int_equal(push(ctx, u, PACING_EV_ERROR,
                                  t0 + 1000 + 240000 * i / counts[j], 0),
                             PACING_OK);
        pacing_scores sc = scores(ctx, u, t0 + 300000);
        printf("%2d errors in 4 min: load %.4f, fatigue %.4f\n", counts[j],
               sc.cognitive_load, sc.fatigue);
        assert_true(sc.cognitive_load > prev_l);
        assert_true(sc.fatigue > prev_f);
        prev_l = sc.cognitive_load;
        prev_f = sc.fatigue;
    }
    pacing_ctx_free(ctx);
}

/* Scores decay back when nothing happens. */
static void test_fatigue_recovers(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_with(NULL);
    int64_t t = 5000000;
    for (int i = 0; i < 20; i++, t += 10000) {
        assert_int_equal(push(ctx, "r", PACING_EV_EXPOSURE, t, 0), PACING_OK);
        assert_int_equal(push(ctx, "r", PACING_EV_DISMISS, t + 1000, 0), PACING_OK);
    }
    double prev = 2;
    for (int m = 0; m <= 60; m += 5) {
        double f = scores(ctx, "r", t + 60000LL * m).fatigue;
        assert_true(f <= prev + 1e-12);
        prev = f;
    }
    assert_true(prev < 0.05);
    pacing_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores_random_stream),
        cmocka_unit_test(test_contributions),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_input_names),
        cmocka_unit_test(test_scores_errors),
        cmocka_unit_test(test_exposure_windows),
        cmocka_unit_test(test_micro_velocity),
        cmocka_unit_test(test_monotone_dismissals),
        cmocka_unit_test(test_monotone_errors),
        cmocka_unit_test(test_fatigue_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
