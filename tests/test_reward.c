/* Unit tests of rewards (lib/decide.c, lib/reward.c) through the public
 * API: explicit rewards and what one reward teaches the policy, rejected
 * rewards (which change nothing), the attribution window and the default
 * reward, implicit rewards through the built-in reward modules (also from
 * derived rage clicks), custom reward modules, the bounded pending buffer
 * and pacing_forget. */
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

#define T0 1000000
#define WINDOW 60000 /* attribution_ms of the test points */

static const char *const ACTIONS2[] = {"show", "skip"};

static pacing_ctx *ctx_opts(const pacing_options *o)
{
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(o, &ctx), PACING_OK);
    assert_non_null(ctx);
    return track(ctx);
}

static pacing_ctx *new_ctx(void)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.seed = 99;
    o.capacity = 1024;
    return ctx_opts(&o);
}

/* thompson, two actions, a 60 s window */
static pacing_point_spec spec(const char *name)
{
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    sp.name = name;
    sp.actions = ACTIONS2;
    sp.n_actions = 2;
    sp.policy = "thompson";
    sp.attribution_ms = WINDOW;
    return sp;
}

static uint32_t add(pacing_ctx *ctx, const pacing_point_spec *sp)
{
    uint32_t id = 12345;
    int rc = pacing_point_add(ctx, sp, &id);
    if (rc != PACING_OK)
        fail_msg("point_add %s: %d (%s)", sp->name, rc, pacing_errmsg(ctx));
    return id;
}

static uint32_t add_rules(pacing_ctx *ctx, const char *name,
                          const pacing_reward_rule *rules, uint32_t n)
{
    pacing_point_spec sp = spec(name);
    sp.rewards = rules;
    sp.n_rewards = n;
    return add(ctx, &sp);
}

static pacing_decision decide(pacing_ctx *ctx, uint32_t point, const char *user,
                              int64_t now)
{
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = point;
    rq.user = user;
    rq.user_len = strlen(user);
    rq.now_ms = now;
    pacing_decision d = PACING_DECISION_INIT;
    int rc = pacing_decide(ctx, &rq, &d);
    if (rc != PACING_OK)
        fail_msg("decide: %d (%s)", rc, pacing_errmsg(ctx));
    assert_true(d.id != 0);
    return d;
}

static pacing_arm_stats arm(pacing_ctx *ctx, uint32_t point, uint32_t action)
{
    pacing_arm_stats a = PACING_ARM_STATS_INIT;
    assert_int_equal(pacing_arm_stats_get(ctx, point, action, &a), PACING_OK);
    return a;
}

static pacing_decision_stats dstats(pacing_ctx *ctx)
{
    pacing_decision_stats s = PACING_DECISION_STATS_INIT;
    assert_int_equal(pacing_decision_stats_get(ctx, &s), PACING_OK);
    return s;
}

static void push_ev(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                    double value, uint64_t target)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    ev.target = target;
    int rc = pacing_push(ctx, &ev);
    if (rc != PACING_OK)
        fail_msg("push %s type %u at %lld: %d (%s)", user, type, (long long)t,
                 rc, pacing_errmsg(ctx));
}

static void push(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                 double value)
{
    push_ev(ctx, user, type, t, value, 0);
}

static void assert_arm_equal(const pacing_arm_stats *a, const pacing_arm_stats *b)
{
    assert_int_equal(a->decisions, b->decisions);
    assert_int_equal(a->rewards, b->rewards);
    assert_true(a->pulls == b->pulls);
    assert_true(a->reward_sum == b->reward_sum);
    assert_true(a->param_a == b->param_a);
    assert_true(a->param_b == b->param_b);
    assert_true(a->last_update_ms == b->last_update_ms);
}

/* Both arms of point p unchanged since *before (two actions). */
static void assert_arms_unchanged(pacing_ctx *ctx, uint32_t p,
                                  const pacing_arm_stats before[2])
{
    for (uint32_t a = 0; a < 2; a++) {
        pacing_arm_stats now = arm(ctx, p, a);
        assert_arm_equal(&before[a], &now);
    }
}

static void snap_arms(pacing_ctx *ctx, uint32_t p, pacing_arm_stats out[2])
{
    out[0] = arm(ctx, p, 0);
    out[1] = arm(ctx, p, 1);
}

/* The arm got exactly one observation of reward r since `before`. */
static void assert_one_observation(pacing_ctx *ctx, uint32_t p, uint32_t a,
                                   const pacing_arm_stats *before, double r)
{
    pacing_arm_stats now = arm(ctx, p, a);
    assert_int_equal(now.rewards, before->rewards + 1);
    if (fabs(now.pulls - (before->pulls + 1.0)) > 1e-12 ||
        fabs(now.reward_sum - (before->reward_sum + r)) > 1e-12 ||
        fabs(now.param_a - (before->param_a + r)) > 1e-12 ||
        fabs(now.param_b - (before->param_b + 1.0 - r)) > 1e-12)
        fail_msg("arm %u: pulls %g -> %g, sum %g -> %g, alpha %g -> %g, "
                 "beta %g -> %g (reward %g)", a, before->pulls, now.pulls,
                 before->reward_sum, now.reward_sum, before->param_a,
                 now.param_a, before->param_b, now.param_b, r);
}

/* ------------------------------------------------------------------ */
/* Explicit rewards                                                    */
/* ------------------------------------------------------------------ */

static void test_explicit_reward(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);

    pacing_arm_stats a0 = arm(ctx, p, 0);
    assert_string_equal(a0.param_a_name, "alpha");
    assert_string_equal(a0.param_b_name, "beta");
    assert_true(a0.param_a == 1.0 && a0.param_b == 1.0);

    /* reward 1 */
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats before = arm(ctx, p, d.action);
    pacing_arm_stats other = arm(ctx, p, 1 - d.action);
    assert_int_equal(dstats(ctx).pending, 1);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 500), PACING_OK);
    assert_one_observation(ctx, p, d.action, &before, 1.0);
    pacing_arm_stats after = arm(ctx, p, d.action);
    assert_true(after.param_b == before.param_b); /* beta unchanged */
    assert_true(after.last_update_ms == T0 + 500);
    assert_true(fabs(after.mean - after.reward_sum / after.pulls) < 1e-12);
    pacing_arm_stats o2 = arm(ctx, p, 1 - d.action);
    assert_arm_equal(&other, &o2);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_explicit, 1);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.decisions, 1);

    /* reward 0: beta + 1, alpha unchanged */
    d = decide(ctx, p, "u", T0 + 1000);
    before = arm(ctx, p, d.action);
    assert_int_equal(pacing_reward(ctx, d.id, 0.0, T0 + 1500), PACING_OK);
    assert_one_observation(ctx, p, d.action, &before, 0.0);
    after = arm(ctx, p, d.action);
    assert_true(after.param_a == before.param_a);

    /* a fractional reward is still exactly one observation */
    d = decide(ctx, p, "v", T0 + 2000);
    before = arm(ctx, p, d.action);
    assert_int_equal(pacing_reward(ctx, d.id, 0.25, T0 + 2000), PACING_OK);
    assert_one_observation(ctx, p, d.action, &before, 0.25);

    /* the window is [t, t + attribution_ms): its last millisecond is in,
     * t + attribution_ms is out */
    d = decide(ctx, p, "w", T0 + 3000);
    before = arm(ctx, p, d.action);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 3000 + WINDOW - 1),
                     PACING_OK);
    assert_one_observation(ctx, p, d.action, &before, 1.0);
    assert_int_equal(dstats(ctx).rewards_explicit, 4);
    d = decide(ctx, p, "w", T0 + 4000);
    before = arm(ctx, p, d.action);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 4000 + WINDOW),
                     PACING_E_NOTFOUND);
    after = arm(ctx, p, d.action);
    assert_arm_equal(&before, &after);
    assert_int_equal(dstats(ctx).rewards_explicit, 4);
    release(ctx);
}

static void test_reward_twice(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);
    pacing_decision d = decide(ctx, p, "u", T0);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 10), PACING_OK);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    pacing_decision_stats s0 = dstats(ctx);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 20), PACING_E_NOTFOUND);
    assert_int_equal(pacing_reward(ctx, d.id, 0.0, T0 + 30), PACING_E_NOTFOUND);
    assert_true(strlen(pacing_errmsg(ctx)) > 0);
    assert_arms_unchanged(ctx, p, before);
    pacing_decision_stats s1 = dstats(ctx);
    assert_int_equal(s1.rewards_explicit, s0.rewards_explicit);
    assert_int_equal(s1.reward_rejected, s0.reward_rejected + 2);
    assert_int_equal(s1.pending, 0);
    release(ctx);
}

static void test_reward_unknown_id(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    uint64_t bad[] = {0, 1, 0x123456789ULL, d.id + 1, d.id - 1,
                      d.id ^ (1ULL << 40), ~(uint64_t)0, (uint64_t)1 << 63};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i] == d.id)
            continue;
        int rc = pacing_reward(ctx, bad[i], 1.0, T0 + 10);
        if (rc != PACING_E_NOTFOUND)
            fail_msg("reward of id %llx: %d", (unsigned long long)bad[i], rc);
    }
    assert_arms_unchanged(ctx, p, before);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_explicit, 0);
    assert_int_equal(s.pending, 1);
    /* the real one still works */
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 10), PACING_OK);
    assert_int_equal(pacing_reward(NULL, d.id, 1.0, T0 + 10), PACING_E_NULL);
    release(ctx);
}

static void test_reward_bad_value(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    assert_int_equal(pacing_reward(ctx, d.id, NAN, T0 + 10), PACING_E_NAN);
    assert_int_equal(pacing_reward(ctx, d.id, INFINITY, T0 + 10), PACING_E_NAN);
    assert_int_equal(pacing_reward(ctx, d.id, 1.5, T0 + 10), PACING_E_RANGE);
    assert_non_null(strstr(pacing_errmsg(ctx), "thompson"));
    assert_int_equal(pacing_reward(ctx, d.id, -0.01, T0 + 10), PACING_E_RANGE);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, -1), PACING_E_TIME);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, ((int64_t)1 << 53) + 1),
                     PACING_E_TIME);
    assert_arms_unchanged(ctx, p, before);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.pending, 1);
    assert_int_equal(s.rewards_explicit, 0);
    /* still pending: a valid reward works */
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 20), PACING_OK);
    assert_one_observation(ctx, p, d.action, &before[d.action], 1.0);
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* The attribution window and the default reward                       */
/* ------------------------------------------------------------------ */

static void test_reward_after_window(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + WINDOW + 1),
                     PACING_E_NOTFOUND);
    assert_non_null(strstr(pacing_errmsg(ctx), "expired"));
    /* nothing learned, the decision is gone */
    assert_arms_unchanged(ctx, p, before);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.rewards_explicit, 0);
    assert_int_equal(s.expired_unrewarded, 1);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 10), PACING_E_NOTFOUND);
    assert_arms_unchanged(ctx, p, before);
    release(ctx);
}

static void test_reward_after_window_default(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_point_spec sp = spec("pt");
    sp.flags = PACING_PT_DEFAULT_REWARD;
    sp.default_reward = 0.0;
    uint32_t p = add(ctx, &sp);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + WINDOW + 1),
                     PACING_E_NOTFOUND);
    /* the default reward (0), not the late 1, was learned */
    assert_one_observation(ctx, p, d.action, &before[d.action], 0.0);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_default, 1);
    assert_int_equal(s.rewards_explicit, 0);
    assert_int_equal(s.pending, 0);
    release(ctx);
}

static void test_default_reward_at_settle(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_point_spec sp = spec("pt");
    sp.flags = PACING_PT_DEFAULT_REWARD;
    sp.default_reward = 0.0;
    uint32_t p = add(ctx, &sp);
    pacing_point_spec sp1 = spec("pt_one");
    sp1.flags = PACING_PT_DEFAULT_REWARD;
    sp1.default_reward = 1.0;
    uint32_t p1 = add(ctx, &sp1);

    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_decision d1 = decide(ctx, p1, "u", T0);
    pacing_arm_stats before[2], before1[2];
    snap_arms(ctx, p, before);
    snap_arms(ctx, p1, before1);
    uint64_t n = 99;
    assert_int_equal(pacing_settle(ctx, T0 + WINDOW - 1, &n), PACING_OK);
    assert_int_equal(n, 0);
    assert_arms_unchanged(ctx, p, before);
    assert_int_equal(dstats(ctx).pending, 2);
    /* the window ended at T0 + WINDOW: settled "at or before now" */
    assert_int_equal(pacing_settle(ctx, T0 + WINDOW, &n), PACING_OK);
    assert_int_equal(n, 2);
    assert_one_observation(ctx, p, d.action, &before[d.action], 0.0);
    assert_one_observation(ctx, p1, d1.action, &before1[d1.action], 1.0);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_default, 2);
    assert_int_equal(s.expired_unrewarded, 0);
    assert_int_equal(s.pending, 0);
    /* settled: a reward is now rejected */
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 10), PACING_E_NOTFOUND);
    assert_int_equal(pacing_settle(ctx, T0 + 2 * WINDOW, NULL), PACING_OK);
    assert_int_equal(dstats(ctx).rewards_default, 2);
    assert_int_equal(pacing_settle(ctx, -1, &n), PACING_E_TIME);
    assert_int_equal(pacing_settle(NULL, T0, &n), PACING_E_NULL);
    release(ctx);
}

static void test_no_default_reward_at_settle(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_point_spec sp = spec("pt");
    sp.default_reward = 1.0; /* ignored without the flag */
    uint32_t p = add(ctx, &sp);
    decide(ctx, p, "u", T0);
    decide(ctx, p, "v", T0 + 5);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    uint64_t n = 0;
    assert_int_equal(pacing_settle(ctx, T0 + WINDOW + 5, &n), PACING_OK);
    assert_int_equal(n, 2);
    assert_arms_unchanged(ctx, p, before);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.expired_unrewarded, 2);
    assert_int_equal(s.rewards_default, 0);
    assert_int_equal(s.pending, 0);
    release(ctx);
}

/* Decisions settle lazily too: a later decision of the same stripe past
 * the window settles the expired one. */
static void test_lazy_settle(void **state)
{
    (void)state;
    pacing_options o = PACING_OPTIONS_INIT;
    o.flags = PACING_OPT_SINGLE_THREAD;
    o.capacity = 256;
    pacing_ctx *ctx = ctx_opts(&o);
    pacing_point_spec sp = spec("pt");
    sp.flags = PACING_PT_DEFAULT_REWARD;
    sp.default_reward = 1.0;
    uint32_t p = add(ctx, &sp);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats before = arm(ctx, p, d.action);
    decide(ctx, p, "v", T0 + WINDOW + 1);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_default, 1);
    assert_int_equal(s.pending, 1);
    assert_one_observation(ctx, p, d.action, &before, 1.0);
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* Implicit rewards                                                    */
/* ------------------------------------------------------------------ */

static void test_implicit_conversion(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_rule r[] = {{"conversion", 1.0}};
    uint32_t p = add_rules(ctx, "pt", r, 1);
    pacing_decision d = decide(ctx, p, "u", T0);
    decide(ctx, p, "other", T0);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    /* another user's conversion and u's unrelated events do not count */
    push(ctx, "other2", PACING_EV_CONVERSION, T0 + 100, 5.0);
    push(ctx, "u", PACING_EV_CLICK, T0 + 200, 80);
    push(ctx, "u", PACING_EV_MICRO_CONVERSION, T0 + 300, 0);
    assert_arms_unchanged(ctx, p, before);
    assert_int_equal(dstats(ctx).pending, 2);
    /* u converts: settled at once with reward 1 */
    push(ctx, "u", PACING_EV_CONVERSION, T0 + 2000, 10.0);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_implicit, 1);
    assert_int_equal(s.pending, 1);
    assert_one_observation(ctx, p, d.action, &before[d.action], 1.0);
    assert_true(arm(ctx, p, d.action).last_update_ms == T0 + 2000);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 2100), PACING_E_NOTFOUND);
    /* a second conversion changes nothing */
    pacing_arm_stats mid[2];
    snap_arms(ctx, p, mid);
    push(ctx, "u", PACING_EV_CONVERSION, T0 + 3000, 10.0);
    assert_arms_unchanged(ctx, p, mid);
    assert_int_equal(dstats(ctx).rewards_implicit, 1);
    release(ctx);
}

/* A final event settles every pending decision of the user. */
static void test_implicit_settles_all_of_user(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_rule r[] = {{"conversion", 1.0}};
    uint32_t p = add_rules(ctx, "pt", r, 1);
    uint32_t q = add_rules(ctx, "pt2", r, 1);
    decide(ctx, p, "u", T0);
    decide(ctx, q, "u", T0 + 10);
    decide(ctx, p, "u", T0 + 20);
    decide(ctx, p, "v", T0 + 30);
    assert_int_equal(dstats(ctx).pending, 4);
    push(ctx, "u", PACING_EV_CONVERSION, T0 + 100, 1.0);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_implicit, 3);
    assert_int_equal(s.pending, 1);
    assert_true(arm(ctx, p, 0).pulls + arm(ctx, p, 1).pulls == 2.0);
    assert_true(arm(ctx, q, 0).pulls + arm(ctx, q, 1).pulls == 1.0);
    release(ctx);
}

static void test_implicit_dismiss_penalty(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_rule r[] = {{"dismiss", 0.5}};
    uint32_t p = add_rules(ctx, "pt", r, 1);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    push(ctx, "u", PACING_EV_DISMISS, T0 + 1000, 0);
    /* not final: still pending, nothing learned yet */
    assert_int_equal(dstats(ctx).pending, 1);
    assert_arms_unchanged(ctx, p, before);
    uint64_t n = 0;
    assert_int_equal(pacing_settle(ctx, T0 + WINDOW, &n), PACING_OK);
    assert_int_equal(n, 1);
    /* -0.5 clamped to the thompson range: 0 */
    assert_one_observation(ctx, p, d.action, &before[d.action], 0.0);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_implicit, 1);
    assert_int_equal(s.expired_unrewarded, 0);
    assert_int_equal(s.pending, 0);
    release(ctx);
}

/* Non-final rewards add up: two micro-conversions at 0.25 each. */
static void test_implicit_accumulates(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_rule r[] = {{"micro_conversion", 0.25}, {"dismiss", 0.125}};
    uint32_t p = add_rules(ctx, "pt", r, 2);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats before = arm(ctx, p, d.action);
    push(ctx, "u", PACING_EV_MICRO_CONVERSION, T0 + 1000, 0);
    push(ctx, "u", PACING_EV_MICRO_CONVERSION, T0 + 2000, 0);
    push(ctx, "u", PACING_EV_MICRO_CONVERSION, T0 + 3000, 0);
    push(ctx, "u", PACING_EV_DISMISS, T0 + 4000, 0);
    assert_int_equal(pacing_settle(ctx, T0 + WINDOW, NULL), PACING_OK);
    /* 3 * 0.25 - 0.125 */
    assert_one_observation(ctx, p, d.action, &before, 0.625);
    release(ctx);
}

/* Events before the decision time (late, inside the reorder window) and
 * after the deadline do not count. */
static void test_implicit_outside_window(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_rule r[] = {{"conversion", 1.0}};
    uint32_t p = add_rules(ctx, "pt", r, 1);
    push(ctx, "u", PACING_EV_CLICK, T0, 50);
    pacing_decision d = decide(ctx, p, "u", T0 + 10000);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    /* 1 s before the decision: applied, but not attributed */
    push(ctx, "u", PACING_EV_CONVERSION, T0 + 9000, 1.0);
    assert_int_equal(dstats(ctx).pending, 1);
    assert_int_equal(dstats(ctx).rewards_implicit, 0);
    assert_arms_unchanged(ctx, p, before);
    /* 1 ms after the deadline */
    push(ctx, "u", PACING_EV_CONVERSION, T0 + 10000 + WINDOW + 1, 1.0);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_implicit, 0);
    assert_int_equal(s.expired_unrewarded, 1);
    assert_int_equal(s.pending, 0);
    assert_arms_unchanged(ctx, p, before);
    (void)d;
    release(ctx);
}

/* The window is [t, t + attribution_ms) for events as for explicit
 * rewards (test_explicit_reward): an event in its last millisecond
 * counts, one at t + attribution_ms does not. */
static void test_implicit_window_edges(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_rule r[] = {{"conversion", 1.0}};
    uint32_t p = add_rules(ctx, "pt", r, 1);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats before = arm(ctx, p, d.action);
    push(ctx, "u", PACING_EV_CONVERSION, T0 + WINDOW - 1, 1.0);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_implicit, 1);
    assert_one_observation(ctx, p, d.action, &before, 1.0);

    d = decide(ctx, p, "v", T0);
    pacing_arm_stats b2[2];
    snap_arms(ctx, p, b2);
    push(ctx, "v", PACING_EV_CONVERSION, T0 + WINDOW, 1.0);
    s = dstats(ctx);
    if (s.rewards_implicit != 1 || s.expired_unrewarded != 1)
        fail_msg("conversion at t + attribution_ms: rewards_implicit %llu, "
                 "expired_unrewarded %llu",
                 (unsigned long long)s.rewards_implicit,
                 (unsigned long long)s.expired_unrewarded);
    assert_arms_unchanged(ctx, p, b2);
    release(ctx);
}

/* Three clicks on one target within 1 s make a derived rage click, which
 * the rage_click module sees. */
static void test_implicit_derived_rage_click(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    /* a negative weight turns the penalty (-1) into a visible reward 1 */
    pacing_reward_rule r[] = {{"rage_click", -1.0}};
    uint32_t p = add_rules(ctx, "pt", r, 1);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_decision dv = decide(ctx, p, "v", T0);

    /* v: only two clicks on the target, and a third elsewhere */
    push_ev(ctx, "v", PACING_EV_CLICK, T0 + 100, 60, 7);
    push_ev(ctx, "v", PACING_EV_CLICK, T0 + 300, 60, 7);
    push_ev(ctx, "v", PACING_EV_CLICK, T0 + 500, 60, 8);
    /* u: three on target 7 within 1 s */
    push_ev(ctx, "u", PACING_EV_CLICK, T0 + 100, 60, 7);
    push_ev(ctx, "u", PACING_EV_CLICK, T0 + 300, 60, 7);
    push_ev(ctx, "u", PACING_EV_CLICK, T0 + 500, 60, 7);
    pacing_stats cs = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &cs), PACING_OK);
    assert_int_equal(cs.derived_rage_clicks, 1);

    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    assert_int_equal(pacing_settle(ctx, T0 + WINDOW, NULL), PACING_OK);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_implicit, 1);   /* u */
    assert_int_equal(s.expired_unrewarded, 1); /* v */
    /* u's arm learned 1 once; v's decision taught nothing */
    assert_one_observation(ctx, p, d.action, &before[d.action], 1.0);
    if (dv.action != d.action) {
        pacing_arm_stats now = arm(ctx, p, dv.action);
        assert_arm_equal(&before[dv.action], &now);
    }
    release(ctx);
}

/* An explicit RAGE_CLICK event counts as well. */
static void test_implicit_explicit_rage_event(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_rule r[] = {{"rage_click", -1.0}};
    uint32_t p = add_rules(ctx, "pt", r, 1);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_arm_stats bu = arm(ctx, p, d.action);
    push(ctx, "u", PACING_EV_RAGE_CLICK, T0 + 100, 0);
    assert_int_equal(pacing_settle(ctx, T0 + WINDOW, NULL), PACING_OK);
    assert_one_observation(ctx, p, d.action, &bu, 1.0);
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* Custom reward modules                                               */
/* ------------------------------------------------------------------ */

typedef struct probe {
    int calls, counted;
    uint32_t type;
    const void *user;
    size_t user_len;
    int64_t since;
    uint32_t point, action;
    int64_t time_ms;
    void *opaque;
} probe;

static int probe_on_event(void *opaque, const pacing_reward_input *in,
                          double *value, int *final)
{
    probe *p = opaque;
    p->calls++;
    p->opaque = opaque;
    p->type = in->event->type;
    p->user = in->event->user;
    p->user_len = in->event->user_len;
    p->since = in->since_decision_ms;
    p->point = in->point;
    p->action = in->action;
    p->time_ms = in->event->time_ms;
    if (in->size != sizeof(pacing_reward_input) ||
        in->event->type != PACING_EV_CUSTOM)
        return 0;
    p->counted++;
    *value = 0.75;
    *final = 1;
    return 1;
}

static int never_on_event(void *opaque, const pacing_reward_input *in,
                          double *value, int *final)
{
    (void)opaque;
    (void)in;
    (void)value;
    (void)final;
    return 0;
}

static void test_custom_module_called(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    static probe pr;
    memset(&pr, 0, sizeof pr);
    pacing_reward_module m = {sizeof m, "probe_mod", probe_on_event, &pr};
    assert_int_equal(pacing_reward_register(ctx, &m), PACING_OK);
    pacing_reward_rule r[] = {{"probe_mod", 1.0}};
    add_rules(ctx, "first", r, 1);
    uint32_t p = add_rules(ctx, "pt", r, 1);
    assert_int_equal(p, 1);
    pacing_decision d = decide(ctx, p, "user_x", T0);
    pacing_arm_stats before = arm(ctx, p, d.action);

    push(ctx, "user_x", PACING_EV_EXPOSURE, T0 + 100, 0);
    assert_int_equal(pr.calls, 1);
    assert_int_equal(pr.counted, 0);
    assert_int_equal(pr.type, PACING_EV_EXPOSURE);
    assert_int_equal(dstats(ctx).pending, 1);

    push(ctx, "user_x", PACING_EV_CUSTOM, T0 + 700, 3.0);
    assert_int_equal(pr.calls, 2);
    assert_int_equal(pr.counted, 1);
    assert_ptr_equal(pr.opaque, &pr);
    assert_int_equal(pr.type, PACING_EV_CUSTOM);
    assert_null(pr.user);
    assert_int_equal(pr.user_len, 0);
    assert_true(pr.since == 700);
    assert_true(pr.time_ms == T0 + 700);
    assert_int_equal(pr.point, p);
    assert_int_equal(pr.action, d.action);
    /* final: settled now with 0.75 * weight 1 */
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.rewards_implicit, 1);
    assert_int_equal(s.pending, 0);
    assert_one_observation(ctx, p, d.action, &before, 0.75);
    /* no pending decision: not called any more */
    push(ctx, "user_x", PACING_EV_CUSTOM, T0 + 800, 4.0);
    assert_int_equal(pr.calls, 2);
    /* other users' events never reach it */
    decide(ctx, p, "user_y", T0 + 900);
    push(ctx, "user_z", PACING_EV_CUSTOM, T0 + 1000, 1.0);
    assert_int_equal(pr.calls, 2);
    release(ctx);
}

static void test_custom_module_register_errors(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_module m = {sizeof m, "mine", never_on_event, NULL};
    pacing_reward_module bad = m;
    assert_int_equal(pacing_reward_register(ctx, NULL), PACING_E_NULL);
    assert_int_equal(pacing_reward_register(NULL, &m), PACING_E_NULL);
    bad.size = sizeof bad - 8;
    assert_int_equal(pacing_reward_register(ctx, &bad), PACING_E_SIZE);
    bad.size = 0;
    assert_int_equal(pacing_reward_register(ctx, &bad), PACING_E_SIZE);
    bad = m;
    const char *names[] = {"", "Mine", "my-mod", "my mod",
                           "a23456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bad.name = names[i];
        assert_int_equal(pacing_reward_register(ctx, &bad), PACING_E_INVAL);
        assert_non_null(strstr(pacing_errmsg(ctx), "name"));
    }
    bad.name = NULL;
    int rc = pacing_reward_register(ctx, &bad);
    assert_true(rc == PACING_E_INVAL || rc == PACING_E_NULL);
    bad = m;
    bad.on_event = NULL;
    assert_int_equal(pacing_reward_register(ctx, &bad), PACING_E_INVAL);
    assert_non_null(strstr(pacing_errmsg(ctx), "on_event"));
    /* built-in names are taken */
    const char *builtin[] = {"conversion", "micro_conversion", "dismiss",
                             "rage_click", "dwell"};
    for (size_t i = 0; i < 5; i++) {
        bad.on_event = never_on_event;
        bad.name = builtin[i];
        assert_int_equal(pacing_reward_register(ctx, &bad), PACING_E_EXISTS);
    }
    /* none of the failures registered anything: "mine" is free, then taken */
    pacing_reward_rule r[] = {{"mine", 1.0}};
    pacing_point_spec sp = spec("pt");
    sp.rewards = r;
    sp.n_rewards = 1;
    uint32_t id = 0;
    assert_int_equal(pacing_point_add(ctx, &sp, &id), PACING_E_NOTFOUND);
    assert_int_equal(pacing_reward_register(ctx, &m), PACING_OK);
    assert_int_equal(pacing_reward_register(ctx, &m), PACING_E_EXISTS);
    assert_non_null(strstr(pacing_errmsg(ctx), "mine"));
    assert_int_equal(pacing_point_add(ctx, &sp, &id), PACING_OK);
    release(ctx);
}

static void test_custom_module_full(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    char name[32];
    /* 5 built-ins + 27 = 32 */
    for (int i = 0; i < 27; i++) {
        snprintf(name, sizeof name, "mod%02d", i);
        pacing_reward_module m = {sizeof m, name, never_on_event, NULL};
        assert_int_equal(pacing_reward_register(ctx, &m), PACING_OK);
    }
    pacing_reward_module m = {sizeof m, "mod27", never_on_event, NULL};
    assert_int_equal(pacing_reward_register(ctx, &m), PACING_E_FULL);
    /* the name was copied: the 27th registered one is usable */
    snprintf(name, sizeof name, "garbage");
    pacing_reward_rule r[] = {{"mod26", 1.0}, {"dwell", 1.0}};
    pacing_point_spec sp = spec("pt");
    sp.rewards = r;
    sp.n_rewards = 2;
    uint32_t id = 9;
    assert_int_equal(pacing_point_add(ctx, &sp, &id), PACING_OK);
    r[0].module = "mod27";
    sp.name = "pt2";
    assert_int_equal(pacing_point_add(ctx, &sp, &id), PACING_E_NOTFOUND);
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* Pending buffer                                                      */
/* ------------------------------------------------------------------ */

static pacing_ctx *small_pending_ctx(void)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.flags = PACING_OPT_SINGLE_THREAD;
    o.stripes = 1;
    o.pending_capacity = 4;
    o.capacity = 256;
    return ctx_opts(&o);
}

static void test_pending_bounded(void **state)
{
    (void)state;
    pacing_ctx *ctx = small_pending_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);
    pacing_decision d[6];
    char user[8];
    for (int i = 0; i < 6; i++) {
        snprintf(user, sizeof user, "u%d", i);
        d[i] = decide(ctx, p, user, T0 + i);
        if (i < 4)
            assert_false(d[i].reasons & PACING_DR_PENDING_FULL);
        else
            assert_true(d[i].reasons & PACING_DR_PENDING_FULL);
    }
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.decisions, 6);
    assert_int_equal(s.settled_early, 2);
    assert_int_equal(s.pending, 4);
    /* the two oldest are gone, without learning */
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    assert_int_equal(before[0].rewards + before[1].rewards, 0);
    assert_int_equal(pacing_reward(ctx, d[0].id, 1.0, T0 + 10), PACING_E_NOTFOUND);
    assert_int_equal(pacing_reward(ctx, d[1].id, 1.0, T0 + 10), PACING_E_NOTFOUND);
    assert_arms_unchanged(ctx, p, before);
    for (int i = 2; i < 6; i++)
        assert_int_equal(pacing_reward(ctx, d[i].id, 1.0, T0 + 10), PACING_OK);
    s = dstats(ctx);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.rewards_explicit, 4);
    release(ctx);
}

/* Settled early with a default reward: it is learned. */
static void test_pending_full_default_reward(void **state)
{
    (void)state;
    pacing_ctx *ctx = small_pending_ctx();
    pacing_point_spec sp = spec("pt");
    sp.flags = PACING_PT_DEFAULT_REWARD;
    sp.default_reward = 1.0;
    uint32_t p = add(ctx, &sp);
    for (int i = 0; i < 5; i++)
        decide(ctx, p, "u", T0 + i);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.settled_early, 1);
    assert_int_equal(s.rewards_default, 1);
    assert_true(arm(ctx, p, 0).pulls + arm(ctx, p, 1).pulls == 1.0);
    release(ctx);
}

/* PACING_DR_PENDING_FULL says "the pending buffer was full". With a free
 * slot (one of four decisions rewarded), a new decision must not push the
 * oldest one out. */
static void test_pending_not_full_after_reward(void **state)
{
    (void)state;
    pacing_ctx *ctx = small_pending_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);
    pacing_decision d[5];
    char user[8];
    for (int i = 0; i < 4; i++) {
        snprintf(user, sizeof user, "u%d", i);
        d[i] = decide(ctx, p, user, T0 + i);
    }
    assert_int_equal(pacing_reward(ctx, d[2].id, 1.0, T0 + 5), PACING_OK);
    assert_int_equal(dstats(ctx).pending, 3);
    d[4] = decide(ctx, p, "u4", T0 + 6);
    pacing_decision_stats s = dstats(ctx);
    if ((d[4].reasons & PACING_DR_PENDING_FULL) || s.settled_early != 0)
        fail_msg("3 of 4 pending: reasons 0x%x, settled_early %llu, pending %llu",
                 d[4].reasons, (unsigned long long)s.settled_early,
                 (unsigned long long)s.pending);
    assert_int_equal(s.pending, 4);
    assert_int_equal(pacing_reward(ctx, d[0].id, 1.0, T0 + 7), PACING_OK);
    release(ctx);
}

/* When the buffer is full the oldest pending decision is settled early,
 * also after a freed slot was reused out of ring order: d1..d4, d2
 * rewarded, d5 takes the free slot, d6 pushes out d1, d7 must push out d3
 * (the oldest left), not d5. */
static void test_pending_full_settles_oldest(void **state)
{
    (void)state;
    pacing_ctx *ctx = small_pending_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);
    pacing_decision d[7];
    char user[8];
    for (int i = 0; i < 4; i++) {
        snprintf(user, sizeof user, "u%d", i);
        d[i] = decide(ctx, p, user, T0 + i);
    }
    assert_int_equal(pacing_reward(ctx, d[1].id, 1.0, T0 + 10), PACING_OK);
    d[4] = decide(ctx, p, "u4", T0 + 20);
    assert_false(d[4].reasons & PACING_DR_PENDING_FULL);
    d[5] = decide(ctx, p, "u5", T0 + 30);
    assert_true(d[5].reasons & PACING_DR_PENDING_FULL);
    d[6] = decide(ctx, p, "u6", T0 + 40);
    assert_true(d[6].reasons & PACING_DR_PENDING_FULL);
    assert_int_equal(dstats(ctx).settled_early, 2);
    /* d1 and d3 are gone; d4, d5, d6, d7 are pending */
    int rc0 = pacing_reward(ctx, d[0].id, 1.0, T0 + 50);
    int rc2 = pacing_reward(ctx, d[2].id, 1.0, T0 + 50);
    int rc4 = pacing_reward(ctx, d[4].id, 1.0, T0 + 50);
    if (rc0 != PACING_E_NOTFOUND || rc2 != PACING_E_NOTFOUND || rc4 != PACING_OK)
        fail_msg("rewards of d1 %d, d3 %d, d5 %d: expected %d, %d, %d (the "
                 "oldest, d3, settled early)", rc0, rc2, rc4, PACING_E_NOTFOUND,
                 PACING_E_NOTFOUND, PACING_OK);
    assert_int_equal(pacing_reward(ctx, d[3].id, 1.0, T0 + 50), PACING_OK);
    assert_int_equal(pacing_reward(ctx, d[5].id, 1.0, T0 + 50), PACING_OK);
    assert_int_equal(pacing_reward(ctx, d[6].id, 1.0, T0 + 50), PACING_OK);
    release(ctx);
}

/* Lazy settling after the ring wrapped: d1..d4 fill the buffer, d5 (30 s
 * later) pushes d1 out early. When d2..d4 have expired and d5 has not, a
 * decision settles d2..d4 lazily as expired (it touches their stripe): the
 * buffer is then not full, so nothing is settled early and the decision
 * does not report PENDING_FULL. */
static void test_pending_lazy_settle_after_wrap(void **state)
{
    (void)state;
    pacing_ctx *ctx = small_pending_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);
    pacing_decision d[6];
    char user[8];
    for (int i = 0; i < 4; i++) {
        snprintf(user, sizeof user, "u%d", i);
        d[i] = decide(ctx, p, user, T0);
    }
    d[4] = decide(ctx, p, "u4", T0 + 30000);
    assert_true(d[4].reasons & PACING_DR_PENDING_FULL);
    assert_int_equal(dstats(ctx).settled_early, 1);
    /* d2..d4 expired at T0 + WINDOW, d5 expires at T0 + 30000 + WINDOW */
    d[5] = decide(ctx, p, "u5", T0 + WINDOW + 10000);
    pacing_decision_stats s = dstats(ctx);
    if ((d[5].reasons & PACING_DR_PENDING_FULL) || s.settled_early != 1 ||
        s.pending != 2)
        fail_msg("after expiry of d2..d4: reasons 0x%x, settled_early %llu, "
                 "pending %llu, expired_unrewarded %llu", d[5].reasons,
                 (unsigned long long)s.settled_early,
                 (unsigned long long)s.pending,
                 (unsigned long long)s.expired_unrewarded);
    /* d5 is still open */
    assert_int_equal(pacing_reward(ctx, d[4].id, 1.0, T0 + WINDOW + 10001),
                     PACING_OK);
    release(ctx);
}

static void test_forget_drops_pending(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_rule r[] = {{"conversion", 1.0}};
    uint32_t p = add_rules(ctx, "pt", r, 1);
    pacing_decision du = decide(ctx, p, "u", T0);
    pacing_decision du2 = decide(ctx, p, "u", T0 + 1);
    pacing_decision dv = decide(ctx, p, "v", T0 + 2);
    pacing_arm_stats before[2];
    snap_arms(ctx, p, before);
    assert_int_equal(dstats(ctx).pending, 3);
    assert_int_equal(pacing_forget(ctx, "u", 1), PACING_OK);
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.pending, 1);
    assert_int_equal(pacing_reward(ctx, du.id, 1.0, T0 + 10), PACING_E_NOTFOUND);
    assert_int_equal(pacing_reward(ctx, du2.id, 1.0, T0 + 10), PACING_E_NOTFOUND);
    /* nothing learned from the forgotten decisions, also not at settle */
    assert_int_equal(pacing_settle(ctx, T0 + 10 * WINDOW, NULL), PACING_OK);
    assert_arms_unchanged(ctx, p, before);
    /* a reborn u has no pending decision to convert */
    push(ctx, "u", PACING_EV_CONVERSION, T0 + 10 * WINDOW + 5, 1.0);
    assert_int_equal(dstats(ctx).rewards_implicit, 0);
    (void)dv;
    release(ctx);
}

/* Opting out (or withdrawing consent) erases pending decisions too. */
static void test_opt_out_drops_pending(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_point_spec sp = spec("pt");
    uint32_t p = add(ctx, &sp);
    pacing_decision d = decide(ctx, p, "u", T0);
    pacing_decision e = decide(ctx, p, "w", T0);
    push(ctx, "u", PACING_EV_OPT_OUT, T0 + 10, 0);
    push(ctx, "w", PACING_EV_CONSENT, T0 + 10, 0.0);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 20), PACING_E_NOTFOUND);
    assert_int_equal(pacing_reward(ctx, e.id, 1.0, T0 + 20), PACING_E_NOTFOUND);
    assert_int_equal(dstats(ctx).pending, 0);
    release(ctx);
}

/* A decision made without user state is rewarded explicitly only. */
static void test_no_consent_decision_reward(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx();
    pacing_reward_rule r[] = {{"conversion", 1.0}};
    uint32_t p = add_rules(ctx, "pt", r, 1);
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = p;
    rq.user = "anon";
    rq.user_len = 4;
    rq.now_ms = T0;
    rq.flags = PACING_REQ_NO_CONSENT;
    pacing_decision d = PACING_DECISION_INIT;
    assert_int_equal(pacing_decide(ctx, &rq, &d), PACING_OK);
    push(ctx, "anon", PACING_EV_CONVERSION, T0 + 100, 1.0);
    assert_int_equal(dstats(ctx).rewards_implicit, 0);
    pacing_arm_stats before = arm(ctx, p, d.action);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 200), PACING_OK);
    assert_one_observation(ctx, p, d.action, &before, 1.0);
    release(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_explicit_reward, teardown),
        cmocka_unit_test_teardown(test_reward_twice, teardown),
        cmocka_unit_test_teardown(test_reward_unknown_id, teardown),
        cmocka_unit_test_teardown(test_reward_bad_value, teardown),
        cmocka_unit_test_teardown(test_reward_after_window, teardown),
        cmocka_unit_test_teardown(test_reward_after_window_default, teardown),
        cmocka_unit_test_teardown(test_default_reward_at_settle, teardown),
        cmocka_unit_test_teardown(test_no_default_reward_at_settle, teardown),
        cmocka_unit_test_teardown(test_lazy_settle, teardown),
        cmocka_unit_test_teardown(test_implicit_conversion, teardown),
        cmocka_unit_test_teardown(test_implicit_settles_all_of_user, teardown),
        cmocka_unit_test_teardown(test_implicit_dismiss_penalty, teardown),
        cmocka_unit_test_teardown(test_implicit_accumulates, teardown),
        cmocka_unit_test_teardown(test_implicit_outside_window, teardown),
        cmocka_unit_test_teardown(test_implicit_window_edges, teardown),
        cmocka_unit_test_teardown(test_implicit_derived_rage_click, teardown),
        cmocka_unit_test_teardown(test_implicit_explicit_rage_event, teardown),
        cmocka_unit_test_teardown(test_custom_module_called, teardown),
        cmocka_unit_test_teardown(test_custom_module_register_errors, teardown),
        cmocka_unit_test_teardown(test_custom_module_full, teardown),
        cmocka_unit_test_teardown(test_pending_bounded, teardown),
        cmocka_unit_test_teardown(test_pending_full_default_reward, teardown),
        cmocka_unit_test_teardown(test_pending_not_full_after_reward, teardown),
        cmocka_unit_test_teardown(test_pending_full_settles_oldest, teardown),
        cmocka_unit_test_teardown(test_pending_lazy_settle_after_wrap, teardown),
        cmocka_unit_test_teardown(test_forget_drops_pending, teardown),
        cmocka_unit_test_teardown(test_opt_out_drops_pending, teardown),
        cmocka_unit_test_teardown(test_no_consent_decision_reward, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
