/* The decision log (lib/log.c and the settle paths of lib/decide.c)
 * through the public API: an entry per settled decision with the right
 * outcome (explicit reward, implicit reward, default reward at the
 * window's end, expired, settled early, safe), every field checked against
 * the decision (id, time, pseudonym, point, actions, reasons, propensity,
 * reward and its time, policy version); the bounded ring (the oldest
 * overwritten, *dropped counts them, a read empties it, a callback that
 * stops keeps the rest) and pacing_forget removing a user's entries. */
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

#include "helpers.h" /* track, teardown */

#define T0 5000000

static const char *const ACT3[] = {"show", "delay", "skip"};

static pacing_ctx *new_ctx(uint32_t log_capacity, uint32_t pending)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.flags = PACING_OPT_SECRET;
    memcpy(o.secret, "log-test-secret!", 16);
    o.seed = 7;
    o.capacity = 256;
    o.stripes = 1; /* pending_capacity is then the buffer's exact size */
    o.log_capacity = log_capacity;
    o.pending_capacity = pending;
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
    return track(ctx);
}

/* A thompson point; flags and default reward as given. */
static uint32_t point(pacing_ctx *ctx, const char *name, uint32_t flags,
                      double default_reward, int64_t attribution,
                      const pacing_reward_rule *rules, uint32_t n_rules)
{
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    sp.name = name;
    sp.actions = ACT3;
    sp.n_actions = 3;
    sp.policy = "thompson";
    sp.flags = flags;
    sp.default_reward = default_reward;
    sp.attribution_ms = attribution;
    sp.rewards = rules;
    sp.n_rewards = n_rules;
    sp.quiet_actions = 0x6; /* delay, skip */
    sp.safe_action = 2;
    uint32_t id = 99;
    int rc = pacing_point_add(ctx, &sp, &id);
    if (rc != PACING_OK)
        fail_msg("point_add: %d (%s)", rc, pacing_errmsg(ctx));
    return id;
}

static pacing_decision decide(pacing_ctx *ctx, uint32_t pt, const char *user,
                              int64_t now)
{
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = pt;
    rq.user = user;
    rq.user_len = strlen(user);
    rq.now_ms = now;
    pacing_decision d = PACING_DECISION_INIT;
    int rc = pacing_decide(ctx, &rq, &d);
    if (rc != PACING_OK)
        fail_msg("decide: %d (%s)", rc, pacing_errmsg(ctx));
    return d;
}

static void push(pacing_ctx *ctx, const char *user, uint32_t type, double value,
                 int64_t t)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    int rc = pacing_push(ctx, &ev);
    if (rc != PACING_OK)
        fail_msg("push: %d (%s)", rc, pacing_errmsg(ctx));
}

static uint64_t pseudo(pacing_ctx *ctx, const char *user)
{
    uint64_t p = 0;
    assert_int_equal(pacing_pseudonym(ctx, user, strlen(user), &p), PACING_OK);
    return p;
}

#define MAX_E 64
typedef struct entries {
    pacing_log_entry e[MAX_E];
    size_t n;
    size_t stop_after; /* return nonzero from the callback on this entry
                          (1-based); 0: never */
    size_t calls;
} entries;

static int collect(void *opaque, const pacing_log_entry *e)
{
    entries *l = opaque;
    l->calls++;
    assert_int_equal(e->size, sizeof(pacing_log_entry));
    if (l->n < MAX_E)
        l->e[l->n++] = *e;
    return l->stop_after && l->calls == l->stop_after;
}

static entries read_log(pacing_ctx *ctx, uint64_t *dropped)
{
    entries l;
    memset(&l, 0, sizeof l);
    uint64_t d = 12345;
    assert_int_equal(pacing_log_read(ctx, collect, &l, &d), PACING_OK);
    if (dropped)
        *dropped = d;
    else
        assert_int_equal(d, 0);
    return l;
}

/* The entry describes decision d of `user` with this outcome. */
static void expect_entry(pacing_ctx *ctx, const pacing_log_entry *e,
                         const pacing_decision *d, const char *user,
                         uint32_t outcome, double reward, int64_t reward_time,
                         uint64_t version)
{
    assert_int_equal(e->size, sizeof *e);
    assert_int_equal(e->id, d->id);
    assert_int_equal(e->time_ms, d->time_ms);
    assert_int_equal(e->pseudonym, user ? pseudo(ctx, user) : 0);
    assert_int_equal(e->point, d->point);
    assert_int_equal(e->final_action, d->action);
    if (outcome == PACING_OUT_SAFE)
        assert_int_equal(e->proposed_action, UINT32_MAX);
    else
        assert_int_equal(e->proposed_action, d->action);
    assert_int_equal(e->reasons, d->reasons);
    assert_memory_equal(&e->propensity, &d->propensity, sizeof(double));
    assert_int_equal(e->outcome, outcome);
    assert_true(e->reward == reward);
    assert_int_equal(e->reward_time_ms, reward_time);
    assert_int_equal(e->policy_version, version);
}

/* ------------------------------------------------------------------ */

static void test_outcomes(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(64, 64);
    static const pacing_reward_rule conv[] = {{"conversion", 1.0}};
    uint32_t p_def = point(ctx, "with_default", PACING_PT_DEFAULT_REWARD, 0.25,
                           1000, NULL, 0);
    uint32_t p_none = point(ctx, "no_default", 0, 0.0, 1000, NULL, 0);
    uint32_t p_impl = point(ctx, "implicit", 0, 0.0, 10000, conv, 1);

    assert_int_equal(read_log(ctx, NULL).n, 0);

    /* explicit reward: REWARDED, the value, its time */
    int64_t t = T0;
    pacing_decision d1 = decide(ctx, p_none, "alice", t);
    assert_true(d1.id != 0);
    assert_int_equal(read_log(ctx, NULL).n, 0); /* not settled yet */
    assert_int_equal(pacing_reward(ctx, d1.id, 0.75, t + 300), PACING_OK);
    entries l = read_log(ctx, NULL);
    assert_int_equal(l.n, 1);
    expect_entry(ctx, &l.e[0], &d1, "alice", PACING_OUT_REWARDED, 0.75, t + 300, 0);
    assert_int_equal(l.e[0].settled_early, 0);
    assert_int_equal(read_log(ctx, NULL).n, 0); /* the read removed it */

    /* the window ends with a default reward: DEFAULT */
    t += 10000;
    pacing_decision d2 = decide(ctx, p_def, "bob", t);
    uint64_t n = 0;
    assert_int_equal(pacing_settle(ctx, t + 999, &n), PACING_OK);
    assert_int_equal(n, 0);
    assert_int_equal(read_log(ctx, NULL).n, 0);
    assert_int_equal(pacing_settle(ctx, t + 1000, &n), PACING_OK);
    assert_int_equal(n, 1);
    l = read_log(ctx, NULL);
    assert_int_equal(l.n, 1);
    expect_entry(ctx, &l.e[0], &d2, "bob", PACING_OUT_DEFAULT, 0.25, t + 1000, 0);

    /* ... without one: EXPIRED, no reward, never */
    t += 10000;
    pacing_decision d3 = decide(ctx, p_none, "carol", t);
    assert_int_equal(pacing_settle(ctx, t + 5000, &n), PACING_OK);
    assert_int_equal(n, 1);
    l = read_log(ctx, NULL);
    assert_int_equal(l.n, 1);
    expect_entry(ctx, &l.e[0], &d3, "carol", PACING_OUT_EXPIRED, 0.0, -1, 1);
    /* a late reward is refused and logs nothing more */
    assert_int_equal(pacing_reward(ctx, d3.id, 1.0, t + 6000), PACING_E_NOTFOUND);
    assert_int_equal(read_log(ctx, NULL).n, 0);

    /* a reward after the window, before any settle: refused, the decision
     * settles as the window ending */
    t += 10000;
    pacing_decision d4 = decide(ctx, p_def, "dave", t);
    assert_int_equal(pacing_reward(ctx, d4.id, 1.0, t + 1000), PACING_E_NOTFOUND);
    l = read_log(ctx, NULL);
    assert_int_equal(l.n, 1);
    expect_entry(ctx, &l.e[0], &d4, "dave", PACING_OUT_DEFAULT, 0.25, t + 1000, 1);

    /* an implicit reward (a conversion inside the window): IMPLICIT */
    t += 10000;
    pacing_decision d5 = decide(ctx, p_impl, "erin", t);
    push(ctx, "erin", PACING_EV_CONVERSION, 3.0, t + 2000);
    l = read_log(ctx, NULL);
    assert_int_equal(l.n, 1);
    expect_entry(ctx, &l.e[0], &d5, "erin", PACING_OUT_IMPLICIT, 1.0, t + 2000, 0);

    /* a decision without user state: pseudonym 0 */
    t += 10000;
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = p_none;
    rq.user = "frank";
    rq.user_len = 5;
    rq.now_ms = t;
    rq.flags = PACING_REQ_NO_CONSENT;
    pacing_decision d6 = PACING_DECISION_INIT;
    assert_int_equal(pacing_decide(ctx, &rq, &d6), PACING_OK);
    assert_int_equal(pacing_reward(ctx, d6.id, 0.0, t + 1), PACING_OK);
    l = read_log(ctx, NULL);
    assert_int_equal(l.n, 1);
    /* p_none learned d1 only (d3 expired unlearned) */
    expect_entry(ctx, &l.e[0], &d6, NULL, PACING_OUT_REWARDED, 0.0, t + 1, 1);
}

/* policy_version: the rewards the point had learned before the decision */
static void test_policy_version(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(64, 64);
    uint32_t p = point(ctx, "pv", 0, 0.0, 100000, NULL, 0);
    uint32_t q = point(ctx, "other", 0, 0.0, 100000, NULL, 0);
    int64_t t = T0;
    pacing_decision d1 = decide(ctx, p, "u1", t);
    assert_int_equal(pacing_reward(ctx, d1.id, 1.0, t + 1), PACING_OK);
    pacing_decision d2 = decide(ctx, p, "u2", t + 10);
    assert_int_equal(pacing_reward(ctx, d2.id, 0.0, t + 11), PACING_OK);
    /* two decisions before either is rewarded share a version */
    pacing_decision d3 = decide(ctx, p, "u3", t + 20);
    pacing_decision d4 = decide(ctx, p, "u4", t + 30);
    /* another point's rewards do not count */
    pacing_decision o1 = decide(ctx, q, "u5", t + 40);
    assert_int_equal(pacing_reward(ctx, o1.id, 1.0, t + 41), PACING_OK);
    assert_int_equal(pacing_reward(ctx, d4.id, 1.0, t + 50), PACING_OK);
    assert_int_equal(pacing_reward(ctx, d3.id, 1.0, t + 60), PACING_OK);
    pacing_decision d5 = decide(ctx, p, "u1", t + 70);
    assert_int_equal(pacing_reward(ctx, d5.id, 1.0, t + 80), PACING_OK);
    entries l = read_log(ctx, NULL);
    assert_int_equal(l.n, 6);
    expect_entry(ctx, &l.e[0], &d1, "u1", PACING_OUT_REWARDED, 1.0, t + 1, 0);
    expect_entry(ctx, &l.e[1], &d2, "u2", PACING_OUT_REWARDED, 0.0, t + 11, 1);
    expect_entry(ctx, &l.e[2], &o1, "u5", PACING_OUT_REWARDED, 1.0, t + 41, 0);
    expect_entry(ctx, &l.e[3], &d4, "u4", PACING_OUT_REWARDED, 1.0, t + 50, 2);
    expect_entry(ctx, &l.e[4], &d3, "u3", PACING_OUT_REWARDED, 1.0, t + 60, 2);
    expect_entry(ctx, &l.e[5], &d5, "u1", PACING_OUT_REWARDED, 1.0, t + 80, 4);
}

/* A veto of every showing action: the safe action, logged at once as
 * SAFE with no proposed action. */
static int veto_all(void *opaque, const double *params, const pacing_rule_view *v,
                    pacing_rule_result *out)
{
    (void)opaque;
    (void)params;
    (void)v;
    out->verdict = PACING_VETO;
    out->reason = 7;
    return 0;
}

static void test_safe_decisions(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(64, 64);
    uint32_t p = point(ctx, "guarded", 0, 0.0, 1000, NULL, 0);
    uint32_t q = point(ctx, "free", 0, 0.0, 1000, NULL, 0);
    pacing_rule_module m;
    memset(&m, 0, sizeof m);
    m.size = sizeof m;
    m.name = "veto_all";
    m.check = veto_all;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_OK);
    pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
    rs.module = "veto_all";
    rs.point = "guarded";
    assert_int_equal(pacing_rule_add(ctx, &rs, NULL), PACING_OK);

    push(ctx, "gina", PACING_EV_SESSION_START, 0, T0 - 10);
    pacing_decision d = decide(ctx, p, "gina", T0);
    assert_true(d.reasons & PACING_DR_SAFE);
    assert_int_equal(d.action, 2);
    assert_int_equal(d.id, 0);
    entries l = read_log(ctx, NULL);
    assert_int_equal(l.n, 1);
    expect_entry(ctx, &l.e[0], &d, "gina", PACING_OUT_SAFE, 0.0, -1, 0);
    assert_true(l.e[0].propensity == 1.0);
    assert_int_equal(l.e[0].settled_early, 0);

    /* a safe decision is not pending: settling adds nothing */
    uint64_t n = 9;
    assert_int_equal(pacing_settle(ctx, T0 + 100000, &n), PACING_OK);
    assert_int_equal(n, 0);
    assert_int_equal(read_log(ctx, NULL).n, 0);
    /* the other point is not vetoed */
    pacing_decision e = decide(ctx, q, "gina", T0 + 200000);
    assert_false(e.reasons & PACING_DR_SAFE);
    assert_true(e.id != 0);
}

/* A full pending buffer settles its oldest decision early. */
static void test_settled_early(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(64, 1); /* one pending slot */
    uint32_t p = point(ctx, "busy", PACING_PT_DEFAULT_REWARD, 0.5, 100000, NULL, 0);
    pacing_decision d1 = decide(ctx, p, "hal", T0);
    pacing_decision d2 = decide(ctx, p, "ian", T0 + 10);
    assert_true(d2.reasons & PACING_DR_PENDING_FULL);
    entries l = read_log(ctx, NULL);
    assert_int_equal(l.n, 1);
    expect_entry(ctx, &l.e[0], &d1, "hal", PACING_OUT_DEFAULT, 0.5, T0 + 10, 0);
    assert_int_equal(l.e[0].settled_early, 1);
    assert_int_equal(pacing_reward(ctx, d1.id, 1.0, T0 + 20), PACING_E_NOTFOUND);
    assert_int_equal(pacing_reward(ctx, d2.id, 1.0, T0 + 20), PACING_OK);
    l = read_log(ctx, NULL);
    assert_int_equal(l.n, 1);
    expect_entry(ctx, &l.e[0], &d2, "ian", PACING_OUT_REWARDED, 1.0, T0 + 20, 0);
    assert_int_equal(l.e[0].settled_early, 0);
}

/* log_capacity 4: six settled decisions, the last four are read and two
 * were dropped; the count restarts after a read. */
static void test_ring(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(4, 64);
    uint32_t p = point(ctx, "ring", 0, 0.0, 100000, NULL, 0);
    pacing_decision d[12];
    char user[16];
    for (int i = 0; i < 6; i++) {
        snprintf(user, sizeof user, "r%d", i);
        d[i] = decide(ctx, p, user, T0 + i * 100);
        assert_int_equal(pacing_reward(ctx, d[i].id, 1.0, T0 + i * 100 + 1),
                         PACING_OK);
    }
    uint64_t dropped = 0;
    entries l = read_log(ctx, &dropped);
    assert_int_equal(dropped, 2);
    assert_int_equal(l.n, 4);
    for (int i = 0; i < 4; i++) {
        snprintf(user, sizeof user, "r%d", i + 2);
        expect_entry(ctx, &l.e[i], &d[i + 2], user, PACING_OUT_REWARDED, 1.0,
                     T0 + (i + 2) * 100 + 1, (uint64_t)(i + 2));
    }
    l = read_log(ctx, &dropped);
    assert_int_equal(l.n, 0);
    assert_int_equal(dropped, 0);

    /* a callback that stops: entries after the stopping one stay */
    for (int i = 6; i < 10; i++) {
        snprintf(user, sizeof user, "r%d", i);
        d[i] = decide(ctx, p, user, T0 + i * 100);
        assert_int_equal(pacing_reward(ctx, d[i].id, 0.0, T0 + i * 100 + 1),
                         PACING_OK);
    }
    entries s;
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    assert_int_equal(pacing_log_read(ctx, collect, &s, &dropped), PACING_OK);
    assert_int_equal(dropped, 0);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.e[0].id, d[6].id);
    assert_int_equal(s.e[1].id, d[7].id);
    l = read_log(ctx, NULL);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.e[0].id, d[8].id);
    assert_int_equal(l.e[1].id, d[9].id);
    assert_int_equal(read_log(ctx, NULL).n, 0);

    /* wrapped many times over: still the newest four, in order */
    for (int i = 0; i < 11; i++) {
        snprintf(user, sizeof user, "w%d", i);
        pacing_decision x = decide(ctx, p, user, T0 + 5000 + i * 100);
        assert_int_equal(pacing_reward(ctx, x.id, 1.0, T0 + 5000 + i * 100 + 1),
                         PACING_OK);
        if (i >= 7)
            d[i - 7] = x;
    }
    l = read_log(ctx, &dropped);
    assert_int_equal(dropped, 7);
    assert_int_equal(l.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(l.e[i].id, d[i].id);

    assert_int_equal(pacing_log_read(NULL, collect, &l, NULL), PACING_E_NULL);
    assert_int_equal(pacing_log_read(ctx, NULL, NULL, NULL), PACING_E_NULL);
}

/* pacing_forget removes the user's entries and keeps the others, in
 * order, also when the ring has wrapped. */
static void test_forget(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(8, 64);
    uint32_t p = point(ctx, "fg", 0, 0.0, 100000, NULL, 0);
    const char *who[] = {"kim", "lee", "kim", "max", "kim", "lee",
                         "kim", "max", "lee", "kim"};
    pacing_decision d[10];
    for (int i = 0; i < 10; i++) {
        d[i] = decide(ctx, p, who[i], T0 + i * 100);
        assert_int_equal(pacing_reward(ctx, d[i].id, 1.0, T0 + i * 100 + 1),
                         PACING_OK);
    }
    /* a pending decision of kim, too */
    pacing_decision pend = decide(ctx, p, "kim", T0 + 2000);
    assert_int_equal(pacing_forget(ctx, "kim", 3), PACING_OK);
    assert_int_equal(pacing_reward(ctx, pend.id, 1.0, T0 + 2001), PACING_E_NOTFOUND);
    uint64_t dropped = 0;
    entries l = read_log(ctx, &dropped);
    assert_int_equal(dropped, 2); /* entries 0 and 1 were overwritten */
    uint64_t kim = pseudo(ctx, "kim");
    size_t k = 0;
    for (int i = 2; i < 10; i++) {
        if (strcmp(who[i], "kim") == 0)
            continue;
        assert_true(k < l.n);
        assert_int_equal(l.e[k].id, d[i].id);
        k++;
    }
    assert_int_equal(l.n, k);
    for (size_t i = 0; i < l.n; i++)
        assert_true(l.e[i].pseudonym != kim);

    /* the ring keeps working after the compaction */
    for (int i = 0; i < 3; i++) {
        pacing_decision x = decide(ctx, p, "nia", T0 + 3000 + i * 100);
        assert_int_equal(pacing_reward(ctx, x.id, 1.0, T0 + 3001 + i * 100),
                         PACING_OK);
    }
    l = read_log(ctx, NULL);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.e[0].pseudonym, pseudo(ctx, "nia"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_outcomes, teardown),
        cmocka_unit_test_teardown(test_policy_version, teardown),
        cmocka_unit_test_teardown(test_safe_decisions, teardown),
        cmocka_unit_test_teardown(test_settled_early, teardown),
        cmocka_unit_test_teardown(test_ring, teardown),
        cmocka_unit_test_teardown(test_forget, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
