/* Unit tests of consent and opt-out (lib/event.c, lib/decide.c,
 * lib/user.c):
 *  - with PACING_OPT_REQUIRE_CONSENT, events without consent store
 *    nothing; PACING_EVF_NO_CONSENT events never do;
 *  - decisions without consent (PACING_REQ_NO_CONSENT, no
 *    PACING_REQ_CONSENT under REQUIRE_CONSENT, PACING_REQ_OPTED_OUT) come
 *    from the non-personalised default (PACING_DR_NO_USER, scores 0),
 *    use no user state and create none;
 *  - an OPT_OUT event, or CONSENT with value 0, erases the user: the
 *    table holds nothing about the user afterwards (checked by scanning
 *    every stripe's slots and pending decisions, including their raw
 *    bytes, for the pseudonym, through lib/internal.h), the user's
 *    pending decisions are gone and teach nothing;
 *  - after a new CONSENT 1 event, state is kept again (from scratch).
 * docs/safety.md ("Consent and opt-out") states these semantics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define T0 ((int64_t)1700000000000)
#define HOUR ((int64_t)3600000)

#define MAX_TRACKED 4
static pacing_ctx *tracked[MAX_TRACKED];

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < MAX_TRACKED; i++) {
        pacing_ctx_free(tracked[i]);
        tracked[i] = NULL;
    }
    return 0;
}

static pacing_ctx *new_ctx_opts(uint32_t flags, uint64_t capacity,
                                uint32_t stripes)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.seed = 5;
    o.flags = flags;
    o.capacity = capacity;
    o.stripes = stripes;
    o.pending_capacity = 256;
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
    for (int i = 0; i < MAX_TRACKED; i++)
        if (!tracked[i]) {
            tracked[i] = ctx;
            return ctx;
        }
    fail_msg("too many contexts");
    return NULL;
}

static pacing_ctx *new_ctx(uint32_t flags)
{
    return new_ctx_opts(flags, 256, 0);
}

static const char *const SHOW_SKIP[] = {"show", "skip"};

/* {show, skip}, thompson, skip quiet and safe; optionally settling
 * unrewarded decisions with a default reward of 1. */
static uint32_t add_point(pacing_ctx *ctx, const char *name, uint32_t flags)
{
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    sp.name = name;
    sp.actions = SHOW_SKIP;
    sp.n_actions = 2;
    sp.policy = "thompson";
    sp.quiet_actions = 2;
    sp.safe_action = 1;
    sp.flags = flags;
    sp.default_reward = 1.0;
    sp.attribution_ms = HOUR;
    uint32_t id;
    int rc = pacing_point_add(ctx, &sp, &id);
    if (rc != PACING_OK)
        fail_msg("point_add: %d (%s)", rc, pacing_errmsg(ctx));
    return id;
}

static int push_f(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                  double value, uint32_t flags)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.flags = flags;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    return pacing_push(ctx, &ev);
}

/* A consenting user with some history: fatigue and load above 0. */
static void history(pacing_ctx *ctx, const char *user, int64_t t)
{
    const uint32_t types[] = {
        PACING_EV_SESSION_START, PACING_EV_EXPOSURE, PACING_EV_DISMISS,
        PACING_EV_TAB_HIDDEN, PACING_EV_ERROR, PACING_EV_FORM_START,
        PACING_EV_RAGE_CLICK, PACING_EV_UNDO};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        assert_int_equal(push_f(ctx, user, types[i], t + (int64_t)i * 100, 0,
                                PACING_EVF_CONSENT),
                         PACING_OK);
    assert_int_equal(push_f(ctx, user, PACING_EV_INPUT_LATENCY, t + 900, 450,
                            PACING_EVF_CONSENT),
                     PACING_OK);
}

static int decide_f(pacing_ctx *ctx, uint32_t pt, const char *user,
                    int64_t now, uint32_t flags, pacing_decision *d)
{
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = pt;
    rq.flags = flags;
    rq.user = user;
    rq.user_len = strlen(user);
    rq.now_ms = now;
    rq.ineligible = 2; /* show, unless a rule objects */
    pacing_decision init = PACING_DECISION_INIT;
    *d = init;
    return pacing_decide(ctx, &rq, d);
}

static pacing_stats stats(pacing_ctx *ctx)
{
    pacing_stats s = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &s), PACING_OK);
    /* the invariant of pacing.h */
    assert_int_equal(s.users_created,
                     s.users + s.users_evicted_lru + s.users_expired +
                         s.users_forgotten);
    return s;
}

static pacing_decision_stats dstats(pacing_ctx *ctx)
{
    pacing_decision_stats s = PACING_DECISION_STATS_INIT;
    assert_int_equal(pacing_decision_stats_get(ctx, &s), PACING_OK);
    return s;
}

static uint64_t pseudo_of(pacing_ctx *ctx, const char *user)
{
    uint64_t p = 0;
    assert_int_equal(pacing_pseudonym(ctx, user, strlen(user), &p), PACING_OK);
    assert_true(p != 0);
    return p;
}

static int scores_rc(pacing_ctx *ctx, const char *user, int64_t now)
{
    pacing_scores sc = PACING_SCORES_INIT;
    return pacing_scores_get(ctx, user, strlen(user), now, &sc);
}

/* Occurrences of the 8 bytes of p in [mem, mem + n). */
static size_t bytes_found(const void *mem, size_t n, uint64_t p)
{
    const unsigned char *m = mem;
    size_t c = 0;
    for (size_t i = 0; i + sizeof p <= n; i++)
        if (memcmp(m + i, &p, sizeof p) == 0)
            c++;
    return c;
}

/* Everything in the context that names pseudonym p: user slots with it,
 * an index entry finding it, pending decisions with it, decision-log
 * entries with it, and its bytes anywhere in the slots, the pending
 * buffers or the log. */
static size_t traces(pacing_ctx *ctx, uint64_t p)
{
    size_t n = 0;
    const pc_log *l = &ctx->log;
    for (uint32_t k = 0; k < l->cap; k++)
        n += l->ring[k].pseudonym == p;
    n += bytes_found(l->ring, sizeof(pacing_log_entry) * l->cap, p);
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        pc_stripe *s = &ctx->stripes[i];
        for (uint32_t k = 0; k < s->n_slots; k++)
            n += s->slots[k].pseudo == p;
        n += bytes_found(s->slots, sizeof(pc_user) * s->n_slots, p);
        for (uint32_t k = 0; k < s->n_pend; k++)
            n += s->pend[k].id != 0 && s->pend[k].pseudo == p;
        n += bytes_found(s->pend, sizeof(pc_pending) * s->n_pend, p);
        n += pc_user_find(s, p) != NULL;
    }
    return n;
}

/* Reads (and so empties) the decision log: entries of pseudonym p, and
 * all entries. */
typedef struct {
    uint64_t p;
    size_t of_p, all;
} log_count;

static int count_entry(void *opaque, const pacing_log_entry *e)
{
    log_count *c = opaque;
    c->of_p += e->pseudonym == c->p;
    c->all++;
    return 0;
}

static log_count read_log(pacing_ctx *ctx, uint64_t p)
{
    log_count c = {p, 0, 0};
    assert_int_equal(pacing_log_read(ctx, count_entry, &c, NULL), PACING_OK);
    return c;
}

/* ------------------------------------------------------------------ */
/* Events without consent                                              */
/* ------------------------------------------------------------------ */

static void test_require_consent_drops_events(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(PACING_OPT_REQUIRE_CONSENT);
    const uint32_t types[] = {PACING_EV_SESSION_START, PACING_EV_DWELL,
                              PACING_EV_EXPOSURE, PACING_EV_ERROR,
                              PACING_EV_DISMISS};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        assert_int_equal(push_f(ctx, "alice", types[i], T0 + (int64_t)i * 100,
                                types[i] == PACING_EV_DWELL ? 1000 : 0, 0),
                         PACING_DROPPED);
        assert_int_equal(push_f(ctx, "alice", types[i], T0 + (int64_t)i * 100 + 50,
                                types[i] == PACING_EV_DWELL ? 1000 : 0,
                                PACING_EVF_NO_CONSENT),
                         PACING_DROPPED);
    }
    pacing_stats s = stats(ctx);
    assert_int_equal(s.users, 0);
    assert_int_equal(s.users_created, 0);
    assert_int_equal(s.events_applied, 0);
    assert_int_equal(s.events_dropped_consent, 10);
    assert_int_equal(scores_rc(ctx, "alice", T0 + 1000), PACING_E_NOTFOUND);
    assert_int_equal(traces(ctx, pseudo_of(ctx, "alice")), 0);
    /* a batch without consent: the same */
    pacing_event evs[3];
    for (int i = 0; i < 3; i++) {
        pacing_event e = PACING_EVENT_INIT;
        e.type = PACING_EV_CLICK;
        e.user = "alice";
        e.user_len = 5;
        e.time_ms = T0 + 2000 + i * 100;
        evs[i] = e;
    }
    size_t done = 0;
    assert_int_equal(pacing_push_batch(ctx, evs, 3, &done), PACING_OK);
    assert_int_equal(done, 3);
    assert_int_equal(stats(ctx).users, 0);
    assert_int_equal(traces(ctx, pseudo_of(ctx, "alice")), 0);

    /* with consent: stored */
    assert_int_equal(push_f(ctx, "alice", PACING_EV_DWELL, T0 + 3000, 1000,
                            PACING_EVF_CONSENT),
                     PACING_OK);
    s = stats(ctx);
    assert_int_equal(s.users, 1);
    assert_int_equal(s.events_applied, 1);
    assert_int_equal(scores_rc(ctx, "alice", T0 + 3000), PACING_OK);
    assert_true(traces(ctx, pseudo_of(ctx, "alice")) > 0);
}

/* PACING_EVF_NO_CONSENT drops an event also without REQUIRE_CONSENT, and
 * leaves an existing user's state as it was. */
static void test_no_consent_flag_drops(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(0);
    assert_int_equal(push_f(ctx, "bob", PACING_EV_ERROR, T0, 0,
                            PACING_EVF_NO_CONSENT),
                     PACING_DROPPED);
    assert_int_equal(stats(ctx).users, 0);
    assert_int_equal(push_f(ctx, "bob", PACING_EV_DWELL, T0 + 100, 500, 0),
                     PACING_OK);
    assert_int_equal(stats(ctx).users, 1);
    pacing_scores a = PACING_SCORES_INIT, b = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "bob", 3, T0 + 1000, &a), PACING_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(push_f(ctx, "bob", PACING_EV_DISMISS, T0 + 200 + i * 100,
                                0, PACING_EVF_NO_CONSENT),
                         PACING_DROPPED);
    assert_int_equal(pacing_scores_get(ctx, "bob", 3, T0 + 1000, &b), PACING_OK);
    assert_memory_equal(&a, &b, sizeof a);
    pacing_stats s = stats(ctx);
    assert_int_equal(s.events_dropped_consent, 6);
    assert_int_equal(s.events_applied, 1);
}

/* ------------------------------------------------------------------ */
/* Decisions without consent                                           */
/* ------------------------------------------------------------------ */

static void expect_default_decision(const pacing_decision *d)
{
    assert_true(d->reasons & PACING_DR_NO_USER);
    assert_true(d->fatigue == 0.0);
    assert_true(d->cognitive_load == 0.0);
    assert_true(d->drop_off_risk == 0.0);
    assert_true(d->attention == 0.0);
    assert_true(d->engagement == 0.0);
    assert_int_equal(d->fatigue_top.input[0], -1);
    assert_int_equal(d->load_top.input[0], -1);
}

static void test_decide_without_consent(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(PACING_OPT_REQUIRE_CONSENT);
    uint32_t pt = add_point(ctx, "pt", 0);
    history(ctx, "alice", T0);
    int64_t now = T0 + 2000;
    pacing_scores before = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "alice", 5, now, &before), PACING_OK);
    assert_true(before.fatigue > 0.0);
    assert_true(before.cognitive_load > 0.0);
    uint64_t users = stats(ctx).users;
    assert_int_equal(users, 1);

    /* NO_CONSENT, no flag (REQUIRE_CONSENT), OPTED_OUT: the default */
    const uint32_t flags[] = {PACING_REQ_NO_CONSENT, 0, PACING_REQ_OPTED_OUT,
                              PACING_REQ_OPTED_OUT | PACING_REQ_CONSENT};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        pacing_decision d;
        assert_int_equal(decide_f(ctx, pt, "alice", now, flags[i], &d), PACING_OK);
        expect_default_decision(&d);
        assert_int_equal(d.action, 0); /* shown, but no exposure stored */
        assert_true(d.id != 0);
    }
    /* the user's state was neither used nor changed */
    pacing_scores after = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "alice", 5, now, &after), PACING_OK);
    assert_memory_equal(&before, &after, sizeof before);
    assert_int_equal(after.exposures_1m, 1);

    /* new users: nothing created, and their pending decisions carry no
     * pseudonym */
    for (size_t i = 0; i < 3; i++) {
        pacing_decision d;
        assert_int_equal(decide_f(ctx, pt, "stranger", now, flags[i], &d),
                         PACING_OK);
        expect_default_decision(&d);
    }
    assert_int_equal(stats(ctx).users, users);
    assert_int_equal(scores_rc(ctx, "stranger", now), PACING_E_NOTFOUND);
    assert_int_equal(traces(ctx, pseudo_of(ctx, "stranger")), 0);
    assert_int_equal(dstats(ctx).pending, 7);

    /* with consent: personal */
    pacing_decision d;
    assert_int_equal(decide_f(ctx, pt, "alice", now, PACING_REQ_CONSENT, &d),
                     PACING_OK);
    assert_int_equal(d.reasons & PACING_DR_NO_USER, 0);
    assert_true(d.fatigue == before.fatigue);
    assert_true(d.cognitive_load == before.cognitive_load);
    assert_true(d.fatigue_top.input[0] >= 0);
    pacing_scores later = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "alice", 5, now, &later), PACING_OK);
    assert_int_equal(later.exposures_1m, 2); /* this one was stored */
    /* and a new consenting user is created */
    assert_int_equal(decide_f(ctx, pt, "carol", now, PACING_REQ_CONSENT, &d),
                     PACING_OK);
    assert_true(d.reasons & PACING_DR_NO_USER); /* new: no state yet */
    assert_int_equal(stats(ctx).users, users + 1);
}

/* Without REQUIRE_CONSENT, requests are personal unless they say
 * otherwise. */
static void test_decide_consent_default_personal(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(0);
    uint32_t pt = add_point(ctx, "pt", 0);
    pacing_decision d;
    assert_int_equal(decide_f(ctx, pt, "dave", T0, 0, &d), PACING_OK);
    assert_int_equal(stats(ctx).users, 1);
    assert_int_equal(decide_f(ctx, pt, "erin", T0, PACING_REQ_NO_CONSENT, &d),
                     PACING_OK);
    expect_default_decision(&d);
    assert_int_equal(decide_f(ctx, pt, "erin", T0, PACING_REQ_OPTED_OUT, &d),
                     PACING_OK);
    expect_default_decision(&d);
    assert_int_equal(stats(ctx).users, 1);
    assert_int_equal(traces(ctx, pseudo_of(ctx, "erin")), 0);
    /* CONSENT and NO_CONSENT together are invalid */
    assert_int_equal(decide_f(ctx, pt, "erin", T0,
                              PACING_REQ_CONSENT | PACING_REQ_NO_CONSENT, &d),
                     PACING_E_INVAL);
}

/* ------------------------------------------------------------------ */
/* Erasure                                                             */
/* ------------------------------------------------------------------ */

/* Erase "alice" with the event (type, value) and check that nothing about
 * her remains, while "bob" is untouched. */
static void run_erasure(uint32_t ctx_flags, uint32_t type, double value,
                        uint32_t ev_flags)
{
    pacing_ctx *ctx = new_ctx(ctx_flags);
    uint32_t pt = add_point(ctx, "pt", PACING_PT_DEFAULT_REWARD);
    history(ctx, "alice", T0);
    history(ctx, "bob", T0);
    uint64_t pa = pseudo_of(ctx, "alice"), pb = pseudo_of(ctx, "bob");

    /* a settled decision of alice's (in the decision log) */
    pacing_decision d;
    assert_int_equal(decide_f(ctx, pt, "alice", T0 + 1500, PACING_REQ_CONSENT, &d),
                     PACING_OK);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 1600), PACING_OK);
    /* pending decisions of both */
    uint64_t ida[3], idb;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(decide_f(ctx, pt, "alice", T0 + 2000 + i,
                                  PACING_REQ_CONSENT, &d),
                         PACING_OK);
        assert_int_equal(d.reasons & PACING_DR_NO_USER, 0);
        ida[i] = d.id;
    }
    assert_int_equal(decide_f(ctx, pt, "bob", T0 + 2000, PACING_REQ_CONSENT, &d),
                     PACING_OK);
    idb = d.id;
    pacing_stats s0 = stats(ctx);
    pacing_decision_stats ds0 = dstats(ctx);
    assert_int_equal(s0.users, 2);
    assert_int_equal(ds0.pending, 4);
    /* before: alice is in the table (slot, index, pending, log) */
    size_t before = traces(ctx, pa);
    if (before < 7)
        fail_msg("only %zu traces of alice before the erasure", before);
    pacing_scores bob0 = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "bob", 3, T0 + 3000, &bob0), PACING_OK);

    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.value = value;
    ev.flags = ev_flags;
    if (ev_flags & PACING_EVF_PSEUDONYM) {
        ev.pseudonym = pa;
    } else {
        ev.user = "alice";
        ev.user_len = 5;
    }
    ev.time_ms = T0 + 3000;
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);

    /* alice is gone */
    pacing_stats s1 = stats(ctx);
    assert_int_equal(s1.users, 1);
    assert_int_equal(s1.users_forgotten, s0.users_forgotten + 1);
    assert_int_equal(s1.events_applied, s0.events_applied + 1);
    assert_int_equal(scores_rc(ctx, "alice", T0 + 3000), PACING_E_NOTFOUND);
    pacing_contribution c[6];
    for (int i = 0; i < 6; i++) {
        pacing_contribution ci = PACING_CONTRIBUTION_INIT;
        c[i] = ci;
    }
    size_t n = 0;
    assert_int_equal(pacing_contributions(ctx, "alice", 5, T0 + 3000,
                                          PACING_SCORE_FATIGUE, c, 6, &n),
                     PACING_E_NOTFOUND);
    assert_int_equal(traces(ctx, pa), 0);
    /* her pending decisions are gone: not rewardable, not pending */
    pacing_decision_stats ds1 = dstats(ctx);
    assert_int_equal(ds1.pending, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pacing_reward(ctx, ida[i], 1.0, T0 + 3001),
                         PACING_E_NOTFOUND);
    /* and when the windows end, only bob's decision is learned from (the
     * point settles unrewarded decisions with a default reward) */
    pacing_arm_stats a0 = PACING_ARM_STATS_INIT;
    assert_int_equal(pacing_arm_stats_get(ctx, pt, 0, &a0), PACING_OK);
    uint64_t settled = 0;
    assert_int_equal(pacing_settle(ctx, T0 + 2 * HOUR, &settled), PACING_OK);
    assert_int_equal(settled, 1);
    pacing_arm_stats a1 = PACING_ARM_STATS_INIT;
    assert_int_equal(pacing_arm_stats_get(ctx, pt, 0, &a1), PACING_OK);
    assert_int_equal(a1.rewards, a0.rewards + 1);
    assert_int_equal(dstats(ctx).rewards_default, ds0.rewards_default + 1);
    assert_int_equal(pacing_reward(ctx, idb, 1.0, T0 + 2 * HOUR),
                     PACING_E_NOTFOUND); /* settled by then */

    /* bob is untouched */
    assert_true(traces(ctx, pb) > 0);
    pacing_scores bob1 = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "bob", 3, T0 + 3000, &bob1), PACING_OK);
    assert_memory_equal(&bob0, &bob1, sizeof bob0);

    /* erasing again: nothing there, nothing happens */
    assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    assert_int_equal(stats(ctx).users_forgotten, s1.users_forgotten);
    assert_int_equal(stats(ctx).users, 1);

    /* the public log has bob's settled decision and nothing of alice */
    log_count lc = read_log(ctx, pa);
    assert_int_equal(lc.of_p, 0);
    assert_int_equal(lc.all, 1); /* bob's, settled with the default reward */
}

static void test_opt_out_erases_user(void **state)
{
    (void)state;
    run_erasure(0, PACING_EV_OPT_OUT, 0, 0);
}

static void test_opt_out_erases_user_require_consent(void **state)
{
    (void)state;
    /* the opt-out needs no consent flag to be honoured */
    run_erasure(PACING_OPT_REQUIRE_CONSENT, PACING_EV_OPT_OUT, 0, 0);
}

static void test_opt_out_by_pseudonym(void **state)
{
    (void)state;
    run_erasure(0, PACING_EV_OPT_OUT, 0, PACING_EVF_PSEUDONYM);
}

static void test_consent_withdrawn_erases_user(void **state)
{
    (void)state;
    run_erasure(0, PACING_EV_CONSENT, 0.0, 0);
}

static void test_consent_withdrawn_erases_user_flagged(void **state)
{
    (void)state;
    /* withdrawal wins over the event's own consent flag */
    run_erasure(PACING_OPT_REQUIRE_CONSENT, PACING_EV_CONSENT, 0.0,
                PACING_EVF_CONSENT);
}

/* An opt-out of a user the table does not hold changes nothing. */
static void test_opt_out_unknown_user(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(0);
    assert_int_equal(push_f(ctx, "ghost", PACING_EV_OPT_OUT, T0, 0, 0), PACING_OK);
    pacing_stats s = stats(ctx);
    assert_int_equal(s.users, 0);
    assert_int_equal(s.users_created, 0);
    assert_int_equal(s.users_forgotten, 0);
    assert_int_equal(traces(ctx, pseudo_of(ctx, "ghost")), 0);
}

/* After an erasure, a new CONSENT 1 event makes the library keep state
 * again, from scratch. Under REQUIRE_CONSENT the CONSENT 1 event itself
 * needs no flag; the events after it need PACING_EVF_CONSENT. */
static void test_consent_given_again(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(PACING_OPT_REQUIRE_CONSENT);
    uint32_t pt = add_point(ctx, "pt", 0);
    history(ctx, "alice", T0);
    assert_int_equal(push_f(ctx, "alice", PACING_EV_OPT_OUT, T0 + 1000, 0, 0),
                     PACING_OK);
    assert_int_equal(stats(ctx).users, 0);
    /* without consent: still nothing */
    assert_int_equal(push_f(ctx, "alice", PACING_EV_DISMISS, T0 + 2000, 0, 0),
                     PACING_DROPPED);
    pacing_decision d;
    assert_int_equal(decide_f(ctx, pt, "alice", T0 + 2000, 0, &d), PACING_OK);
    expect_default_decision(&d);
    assert_int_equal(stats(ctx).users, 0);
    assert_int_equal(traces(ctx, pseudo_of(ctx, "alice")), 0);

    /* consent given again */
    assert_int_equal(push_f(ctx, "alice", PACING_EV_CONSENT, T0 + 3000, 1.0, 0),
                     PACING_OK);
    assert_int_equal(stats(ctx).users, 1);
    assert_int_equal(scores_rc(ctx, "alice", T0 + 3000), PACING_OK);
    assert_int_equal(push_f(ctx, "alice", PACING_EV_EXPOSURE, T0 + 4000, 0,
                            PACING_EVF_CONSENT),
                     PACING_OK);
    assert_int_equal(push_f(ctx, "alice", PACING_EV_DISMISS, T0 + 4100, 0, 0),
                     PACING_DROPPED); /* each event carries its consent */
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "alice", 5, T0 + 5000, &sc), PACING_OK);
    /* from scratch: one exposure (the old one was erased), no dismissal */
    assert_int_equal(sc.exposures_1d, 1);
    assert_int_equal(sc.last_seen_ms, T0 + 4000);
    pacing_contribution c = PACING_CONTRIBUTION_INIT;
    pacing_contribution cs[6];
    for (int i = 0; i < 6; i++)
        cs[i] = c;
    size_t n = 0;
    assert_int_equal(pacing_contributions(ctx, "alice", 5, T0 + 5000,
                                          PACING_SCORE_FATIGUE, cs, 6, &n),
                     PACING_OK);
    for (size_t i = 0; i < n && i < 6; i++)
        if (cs[i].input == PACING_IN_DISMISSALS)
            assert_true(cs[i].raw == 0.0);
    /* and decisions with consent are personal again */
    assert_int_equal(decide_f(ctx, pt, "alice", T0 + 5000, PACING_REQ_CONSENT, &d),
                     PACING_OK);
    assert_int_equal(d.reasons & PACING_DR_NO_USER, 0);
}

/* A user whose state was evicted (LRU) while a decision of theirs was
 * still pending, and who then opts out: the erasure must also reach that
 * decision. Nothing about the user may remain in the table, and the
 * decision must not be rewardable (learned from) any more. */
static void test_opt_out_after_eviction_leaves_no_trace(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx_opts(0, 2, 1); /* one stripe of 2 users */
    uint32_t pt = add_point(ctx, "pt", 0);
    pacing_decision d;
    /* one decision settled (in the decision log), one pending */
    assert_int_equal(decide_f(ctx, pt, "alice", T0 - 1000, PACING_REQ_CONSENT, &d),
                     PACING_OK);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 - 900), PACING_OK);
    assert_int_equal(decide_f(ctx, pt, "alice", T0, PACING_REQ_CONSENT, &d),
                     PACING_OK);
    uint64_t id = d.id;
    assert_int_equal(push_f(ctx, "bob", PACING_EV_CLICK, T0 + 100, 10, 0), PACING_OK);
    assert_int_equal(push_f(ctx, "carol", PACING_EV_CLICK, T0 + 200, 10, 0),
                     PACING_OK);
    pacing_stats s = stats(ctx);
    assert_int_equal(s.users_evicted_lru, 1);
    assert_int_equal(scores_rc(ctx, "alice", T0 + 300), PACING_E_NOTFOUND);
    assert_int_equal(dstats(ctx).pending, 1); /* her decision stays */

    assert_int_equal(push_f(ctx, "alice", PACING_EV_OPT_OUT, T0 + 300, 0, 0),
                     PACING_OK);
    uint64_t pa = pseudo_of(ctx, "alice");
    size_t left = traces(ctx, pa);
    int rc = pacing_reward(ctx, id, 1.0, T0 + 400);
    log_count lc = read_log(ctx, pa);
    if (left != 0 || rc != PACING_E_NOTFOUND || lc.of_p != 0)
        fail_msg("after opt-out of an evicted user: %zu traces of the "
                 "pseudonym remain, her pending decision can still be "
                 "rewarded (reward -> %d), and the decision log still holds "
                 "%zu of her entries. lib/event.c (PRE_ERASE) erases only a "
                 "user present in the table (pc_user_drop, which also calls "
                 "pc_log_forget), while eviction (lib/user.c pc_user_drop "
                 "with drop_pending false) keeps the pseudonym in unchained "
                 "pending entries",
                 left, rc, lc.of_p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_require_consent_drops_events, teardown),
        cmocka_unit_test_teardown(test_no_consent_flag_drops, teardown),
        cmocka_unit_test_teardown(test_decide_without_consent, teardown),
        cmocka_unit_test_teardown(test_decide_consent_default_personal, teardown),
        cmocka_unit_test_teardown(test_opt_out_erases_user, teardown),
        cmocka_unit_test_teardown(test_opt_out_erases_user_require_consent,
                                  teardown),
        cmocka_unit_test_teardown(test_opt_out_by_pseudonym, teardown),
        cmocka_unit_test_teardown(test_consent_withdrawn_erases_user, teardown),
        cmocka_unit_test_teardown(test_consent_withdrawn_erases_user_flagged,
                                  teardown),
        cmocka_unit_test_teardown(test_opt_out_unknown_user, teardown),
        cmocka_unit_test_teardown(test_consent_given_again, teardown),
        cmocka_unit_test_teardown(test_opt_out_after_eviction_leaves_no_trace,
                                  teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
