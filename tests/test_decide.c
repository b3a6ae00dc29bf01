/* Unit tests of the decision layer (lib/decide.c) through the public API:
 * pacing_point_add validation (one test per error, each leaving the
 * context unchanged and naming the field in the message), point and
 * action lookup, pacing_decide validation (nothing recorded on error),
 * ineligible actions, determinism by seed, propensities, reason flags,
 * recovering arms, the scores a decision carries, contextual points and
 * pacing_arm_stats_get. */
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

static const char *const ACTIONS3[] = {"show", "delay", "skip"};
static const char *const ACTIONS2[] = {"show", "skip"};

static pacing_ctx *ctx_opts(const pacing_options *o)
{
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(o, &ctx), PACING_OK);
    assert_non_null(ctx);
    return track(ctx);
}

static pacing_ctx *ctx_seeded(uint64_t seed)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.seed = seed;
    o.capacity = 4096;
    return ctx_opts(&o);
}

static pacing_ctx *ctx_default(void) { return ctx_seeded(1); }

/* A valid spec: "pt", actions show/delay/skip, thompson. */
static pacing_point_spec spec3(const char *name)
{
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    sp.name = name;
    sp.actions = ACTIONS3;
    sp.n_actions = 3;
    sp.policy = "thompson";
    return sp;
}

static uint32_t add(pacing_ctx *ctx, const pacing_point_spec *sp)
{
    uint32_t id = 12345;
    int rc = pacing_point_add(ctx, sp, &id);
    if (rc != PACING_OK)
        fail_msg("point_add %s: %d (%s)", sp->name ? sp->name : "(null)", rc,
                 pacing_errmsg(ctx));
    return id;
}

/* The add fails with `status`, *point_id is untouched, and the message
 * contains `needle`. */
static void expect_add_fail(pacing_ctx *ctx, const pacing_point_spec *sp,
                            int status, const char *needle)
{
    uint32_t id = 777;
    int rc = pacing_point_add(ctx, sp, &id);
    if (rc != status)
        fail_msg("point_add: status %d, expected %d (%s)", rc, status,
                 pacing_errmsg(ctx));
    assert_int_equal(id, 777);
    const char *m = pacing_errmsg(ctx);
    assert_non_null(m);
    if (!strstr(m, needle))
        fail_msg("point_add message '%s' does not mention '%s'", m, needle);
}

/* Nothing was added: the next valid point gets id `next`, and no point of
 * the failed spec's name exists. */
static void expect_unchanged(pacing_ctx *ctx, uint32_t next, const char *failed)
{
    uint32_t id = 999;
    if (failed && pacing_point_find(ctx, failed, &id) != PACING_E_NOTFOUND)
        fail_msg("point '%s' exists after a failed add", failed);
    assert_null(pacing_action_name(ctx, next, 0));
    pacing_point_spec sp = spec3("ok_after");
    assert_int_equal(add(ctx, &sp), next);
    assert_int_equal(pacing_point_find(ctx, "ok_after", &id), PACING_OK);
    assert_int_equal(id, next);
}

static pacing_request req(uint32_t point, const char *user, int64_t now)
{
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = point;
    rq.user = user;
    rq.user_len = user ? strlen(user) : 0;
    rq.now_ms = now;
    return rq;
}

static pacing_decision decide_ok(pacing_ctx *ctx, const pacing_request *rq)
{
    pacing_decision d = PACING_DECISION_INIT;
    int rc = pacing_decide(ctx, rq, &d);
    if (rc != PACING_OK)
        fail_msg("decide: %d (%s)", rc, pacing_errmsg(ctx));
    return d;
}

static pacing_decision decide_at(pacing_ctx *ctx, uint32_t point,
                                 const char *user, int64_t now, uint64_t mask)
{
    pacing_request rq = req(point, user, now);
    rq.ineligible = mask;
    return decide_ok(ctx, &rq);
}

static pacing_decision_stats dstats(pacing_ctx *ctx)
{
    pacing_decision_stats s = PACING_DECISION_STATS_INIT;
    assert_int_equal(pacing_decision_stats_get(ctx, &s), PACING_OK);
    return s;
}

static pacing_stats cstats(pacing_ctx *ctx)
{
    pacing_stats s = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &s), PACING_OK);
    return s;
}

static pacing_arm_stats arm(pacing_ctx *ctx, uint32_t point, uint32_t action)
{
    pacing_arm_stats a = PACING_ARM_STATS_INIT;
    assert_int_equal(pacing_arm_stats_get(ctx, point, action, &a), PACING_OK);
    return a;
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
        fail_msg("push %s type %u: %d (%s)", user, type, rc, pacing_errmsg(ctx));
}

static int popcount(uint32_t x) { return __builtin_popcount(x); }

/* ------------------------------------------------------------------ */
/* pacing_point_add: one test per error                                */
/* ------------------------------------------------------------------ */

static void test_add_ok_ids_in_order(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec a = spec3("first"), b = spec3("second");
    assert_int_equal(add(ctx, &a), 0);
    assert_int_equal(add(ctx, &b), 1);
    expect_unchanged(ctx, 2, NULL);
    release(ctx);
}

static void test_add_null(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    uint32_t id = 777;
    assert_int_equal(pacing_point_add(ctx, NULL, &id), PACING_E_NULL);
    assert_int_equal(id, 777);
    assert_true(strlen(pacing_errmsg(ctx)) > 0);
    assert_int_equal(pacing_point_add(ctx, &sp, NULL), PACING_E_NULL);
    assert_int_equal(pacing_point_add(NULL, &sp, &id), PACING_E_NULL);
    assert_int_equal(id, 777);
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_wrong_size(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.size = sizeof sp - 8;
    expect_add_fail(ctx, &sp, PACING_E_SIZE, "size");
    sp.size = sizeof sp + 8;
    expect_add_fail(ctx, &sp, PACING_E_SIZE, "size");
    sp.size = 0;
    expect_add_fail(ctx, &sp, PACING_E_SIZE, "size");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_bad_name(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    const char *bad[] = {"", "Checkout", "check-out", "check out", "caf\xc3\xa9",
                         "a23456789012345678901234567890123" /* 32 */};
    pacing_point_spec sp = spec3(NULL);
    uint32_t id = 777;
    int rc = pacing_point_add(ctx, &sp, &id);
    assert_true(rc == PACING_E_INVAL || rc == PACING_E_NULL);
    assert_int_equal(id, 777);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sp.name = bad[i];
        expect_add_fail(ctx, &sp, PACING_E_INVAL, "name");
    }
    /* 31 chars is the longest valid name */
    sp.name = "a234567890123456789012345678901";
    assert_int_equal(add(ctx, &sp), 0);
    expect_unchanged(ctx, 1, NULL);
    release(ctx);
}

static void test_add_duplicate_name(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    assert_int_equal(add(ctx, &sp), 0);
    pacing_point_spec dup = spec3("pt");
    dup.actions = ACTIONS2;
    dup.n_actions = 2;
    expect_add_fail(ctx, &dup, PACING_E_EXISTS, "pt");
    /* the first keeps its three actions */
    assert_string_equal(pacing_action_name(ctx, 0, 2), "skip");
    expect_unchanged(ctx, 1, NULL);
    release(ctx);
}

static void test_add_one_action(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.n_actions = 1;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "n_actions");
    sp.n_actions = 0;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "n_actions");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_65_actions(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    static char names[65][8];
    const char *acts[65];
    for (int i = 0; i < 65; i++) {
        snprintf(names[i], sizeof names[i], "a%d", i);
        acts[i] = names[i];
    }
    pacing_point_spec sp = spec3("pt");
    sp.actions = acts;
    sp.n_actions = 65;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "n_actions");
    /* 64 is allowed */
    sp.n_actions = 64;
    sp.name = "pt64";
    assert_int_equal(add(ctx, &sp), 0);
    assert_string_equal(pacing_action_name(ctx, 0, 63), "a63");
    assert_null(pacing_action_name(ctx, 0, 64));
    expect_unchanged(ctx, 1, "pt");
    release(ctx);
}

static void test_add_null_actions(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.actions = NULL;
    expect_add_fail(ctx, &sp, PACING_E_NULL, "actions");
    const char *with_null[] = {"show", NULL, "skip"};
    sp.actions = with_null;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "action 1");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_duplicate_action(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    const char *dup[] = {"show", "delay", "show"};
    pacing_point_spec sp = spec3("pt");
    sp.actions = dup;
    expect_add_fail(ctx, &sp, PACING_E_EXISTS, "show");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_bad_action_name(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    const char *bad[][3] = {{"show", "Delay", "skip"},
                            {"show", "", "skip"},
                            {"show", "delay", "sk ip"},
                            {"a23456789012345678901234567890123", "b", "c"}};
    pacing_point_spec sp = spec3("pt");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sp.actions = bad[i];
        expect_add_fail(ctx, &sp, PACING_E_INVAL, "action");
    }
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_unknown_policy(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.policy = "thompsonn";
    expect_add_fail(ctx, &sp, PACING_E_NOTFOUND, "thompsonn");
    sp.policy = "";
    expect_add_fail(ctx, &sp, PACING_E_NOTFOUND, "policy");
    sp.policy = NULL;
    expect_add_fail(ctx, &sp, PACING_E_NULL, "policy");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_unknown_param(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_param p[] = {{"prior_alpha", 2.0}, {"alpha_prior", 1.0}};
    pacing_point_spec sp = spec3("pt");
    sp.params = p;
    sp.n_params = 2;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "alpha_prior");
    /* a parameter of another policy is unknown here */
    pacing_param e[] = {{"epsilon", 0.1}};
    sp.params = e;
    sp.n_params = 1;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "epsilon");
    /* params NULL with n_params > 0 */
    sp.params = NULL;
    expect_add_fail(ctx, &sp, PACING_E_NULL, "params");
    pacing_param unnamed[] = {{NULL, 1.0}};
    sp.params = unnamed;
    expect_add_fail(ctx, &sp, PACING_E_NULL, "name");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_nan_param(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_param p[] = {{"prior_beta", NAN}};
    pacing_point_spec sp = spec3("pt");
    sp.params = p;
    sp.n_params = 1;
    expect_add_fail(ctx, &sp, PACING_E_NAN, "prior_beta");
    p[0].value = INFINITY;
    expect_add_fail(ctx, &sp, PACING_E_NAN, "prior_beta");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_param_out_of_range(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_param p[] = {{"prior_alpha", 0.0}};
    pacing_point_spec sp = spec3("pt");
    sp.params = p;
    sp.n_params = 1;
    expect_add_fail(ctx, &sp, PACING_E_RANGE, "prior_alpha");
    p[0].value = -1.0;
    expect_add_fail(ctx, &sp, PACING_E_RANGE, "prior_alpha");
    pacing_point_spec eg = spec3("eg");
    eg.policy = "epsilon_greedy";
    pacing_param e[] = {{"epsilon", 1.5}};
    eg.params = e;
    eg.n_params = 1;
    expect_add_fail(ctx, &eg, PACING_E_RANGE, "epsilon");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_context_with_context_free_policy(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.context_dim = 2;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "context");
    sp.context_dim = 0;
    sp.flags = PACING_PT_SCORES_CONTEXT;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "context");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_contextual_without_dim(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.policy = "linucb";
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "context_dim");
    sp.policy = "linear_thompson";
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "context_dim");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_context_dim_33(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.policy = "linucb";
    sp.context_dim = 33;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "context_dim");
    /* 32 is the maximum, also with the scores appended */
    sp.context_dim = 32;
    sp.flags = PACING_PT_SCORES_CONTEXT;
    sp.name = "pt32";
    assert_int_equal(add(ctx, &sp), 0);
    expect_unchanged(ctx, 1, "pt");
    release(ctx);
}

static void test_add_unknown_recovery_decay(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.recovery_decay = "exponentiall";
    expect_add_fail(ctx, &sp, PACING_E_NOTFOUND, "exponentiall");
    /* known module, bad parameters */
    double nanp[4] = {NAN, 0, 0, 0};
    sp.recovery_decay = "exponential";
    sp.recovery_params = nanp;
    expect_add_fail(ctx, &sp, PACING_E_NAN, "recovery_params");
    double zero[4] = {0, 0, 0, 0};
    sp.recovery_params = zero;
    expect_add_fail(ctx, &sp, PACING_E_RANGE, "recovery_params");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_negative_attribution(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.attribution_ms = -1;
    expect_add_fail(ctx, &sp, PACING_E_RANGE, "attribution_ms");
    sp.attribution_ms = ((int64_t)1 << 53) + 1;
    expect_add_fail(ctx, &sp, PACING_E_RANGE, "attribution_ms");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_default_reward_range(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.flags = PACING_PT_DEFAULT_REWARD;
    sp.default_reward = 1.5;
    expect_add_fail(ctx, &sp, PACING_E_RANGE, "default_reward");
    sp.default_reward = -0.25;
    expect_add_fail(ctx, &sp, PACING_E_RANGE, "default_reward");
    sp.default_reward = NAN;
    expect_add_fail(ctx, &sp, PACING_E_NAN, "default_reward");
    /* real-valued policies accept it */
    pacing_point_spec g = spec3("gauss");
    g.policy = "gaussian_thompson";
    g.flags = PACING_PT_DEFAULT_REWARD;
    g.default_reward = -1.5;
    assert_int_equal(add(ctx, &g), 0);
    expect_unchanged(ctx, 1, "pt");
    release(ctx);
}

static void test_add_unknown_reward_module(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_reward_rule r[] = {{"conversion", 1.0}, {"converted", 1.0}};
    pacing_point_spec sp = spec3("pt");
    sp.rewards = r;
    sp.n_rewards = 2;
    expect_add_fail(ctx, &sp, PACING_E_NOTFOUND, "converted");
    /* weight checks */
    r[1].module = "dismiss";
    r[1].weight = 1000.5;
    expect_add_fail(ctx, &sp, PACING_E_RANGE, "weight");
    r[1].weight = NAN;
    expect_add_fail(ctx, &sp, PACING_E_NAN, "weight");
    r[1].module = NULL;
    r[1].weight = 1.0;
    expect_add_fail(ctx, &sp, PACING_E_NULL, "module");
    sp.rewards = NULL;
    expect_add_fail(ctx, &sp, PACING_E_NULL, "rewards");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_too_many_rules(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_reward_rule r[9];
    for (int i = 0; i < 9; i++) {
        r[i].module = "conversion";
        r[i].weight = 1.0;
    }
    pacing_point_spec sp = spec3("pt");
    sp.rewards = r;
    sp.n_rewards = 9;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "reward");
    /* 8 is allowed */
    sp.n_rewards = 8;
    sp.name = "pt8";
    assert_int_equal(add(ctx, &sp), 0);
    expect_unchanged(ctx, 1, "pt");
    release(ctx);
}

static void test_add_bad_flags_reserved(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    sp.flags = 0x100;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "flags");
    sp.flags = 0;
    sp.reserved0 = 1;
    expect_add_fail(ctx, &sp, PACING_E_INVAL, "reserved0");
    expect_unchanged(ctx, 0, "pt");
    release(ctx);
}

static void test_add_full(void **state)
{
    (void)state;
    pacing_options o = PACING_OPTIONS_INIT;
    o.max_points = 2;
    o.capacity = 256;
    pacing_ctx *ctx = ctx_opts(&o);
    pacing_point_spec a = spec3("a"), b = spec3("b"), c = spec3("c");
    assert_int_equal(add(ctx, &a), 0);
    assert_int_equal(add(ctx, &b), 1);
    expect_add_fail(ctx, &c, PACING_E_FULL, "points");
    uint32_t id = 999;
    assert_int_equal(pacing_point_find(ctx, "c", &id), PACING_E_NOTFOUND);
    assert_null(pacing_action_name(ctx, 2, 0));
    /* still full, the two points still work */
    expect_add_fail(ctx, &c, PACING_E_FULL, "points");
    pacing_decision d = decide_at(ctx, 1, "u", T0, 0);
    assert_int_equal(d.point, 1);
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* Lookup                                                              */
/* ------------------------------------------------------------------ */

static void test_point_find_and_action_name(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec a = spec3("checkout_cta"), b = spec3("tip");
    b.actions = ACTIONS2;
    b.n_actions = 2;
    assert_int_equal(add(ctx, &a), 0);
    assert_int_equal(add(ctx, &b), 1);
    uint32_t id = 99;
    assert_int_equal(pacing_point_find(ctx, "tip", &id), PACING_OK);
    assert_int_equal(id, 1);
    assert_int_equal(pacing_point_find(ctx, "checkout_cta", &id), PACING_OK);
    assert_int_equal(id, 0);
    id = 99;
    assert_int_equal(pacing_point_find(ctx, "checkout", &id), PACING_E_NOTFOUND);
    assert_int_equal(id, 99);
    assert_non_null(strstr(pacing_errmsg(ctx), "checkout"));
    assert_int_equal(pacing_point_find(ctx, "", &id), PACING_E_NOTFOUND);
    assert_int_equal(pacing_point_find(ctx, NULL, &id), PACING_E_NULL);
    assert_int_equal(pacing_point_find(ctx, "tip", NULL), PACING_E_NULL);
    assert_int_equal(pacing_point_find(NULL, "tip", &id), PACING_E_NULL);

    assert_string_equal(pacing_action_name(ctx, 0, 0), "show");
    assert_string_equal(pacing_action_name(ctx, 0, 1), "delay");
    assert_string_equal(pacing_action_name(ctx, 0, 2), "skip");
    assert_string_equal(pacing_action_name(ctx, 1, 1), "skip");
    assert_null(pacing_action_name(ctx, 1, 2));
    assert_null(pacing_action_name(ctx, 0, 3));
    assert_null(pacing_action_name(ctx, 2, 0));
    assert_null(pacing_action_name(ctx, UINT32_MAX, 0));
    assert_null(pacing_action_name(NULL, 0, 0));
    release(ctx);
}

/* Names are copied: the caller's buffers may change after the add. */
static void test_names_copied(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    char name[16] = "promo", a0[8] = "on", a1[8] = "off";
    const char *acts[2] = {a0, a1};
    pacing_point_spec sp = spec3(name);
    sp.actions = acts;
    sp.n_actions = 2;
    assert_int_equal(add(ctx, &sp), 0);
    strcpy(name, "xxxxx");
    strcpy(a0, "zz");
    strcpy(a1, "yy");
    uint32_t id = 9;
    assert_int_equal(pacing_point_find(ctx, "promo", &id), PACING_OK);
    assert_int_equal(id, 0);
    assert_string_equal(pacing_action_name(ctx, 0, 0), "on");
    assert_string_equal(pacing_action_name(ctx, 0, 1), "off");
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* pacing_decide validation: each error records nothing                */
/* ------------------------------------------------------------------ */

static void assert_dstats_equal(const pacing_decision_stats *a,
                                const pacing_decision_stats *b)
{
    assert_int_equal(a->decisions, b->decisions);
    assert_int_equal(a->rewards_explicit, b->rewards_explicit);
    assert_int_equal(a->rewards_implicit, b->rewards_implicit);
    assert_int_equal(a->rewards_default, b->rewards_default);
    assert_int_equal(a->expired_unrewarded, b->expired_unrewarded);
    assert_int_equal(a->settled_early, b->settled_early);
    assert_int_equal(a->pending, b->pending);
    assert_int_equal(a->reward_rejected, b->reward_rejected);
}

static void expect_decide_fail(pacing_ctx *ctx, const pacing_request *rq,
                               int status)
{
    pacing_decision_stats before = dstats(ctx);
    pacing_stats cb = cstats(ctx);
    pacing_decision d = PACING_DECISION_INIT;
    int rc = pacing_decide(ctx, rq, &d);
    if (rc != status)
        fail_msg("decide: status %d, expected %d (%s)", rc, status,
                 pacing_errmsg(ctx));
    assert_true(strlen(pacing_errmsg(ctx)) > 0);
    pacing_decision_stats after = dstats(ctx);
    assert_dstats_equal(&before, &after);
    pacing_stats ca = cstats(ctx);
    assert_int_equal(cb.users, ca.users);
    assert_int_equal(cb.users_created, ca.users_created);
}

static void test_decide_validation(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    assert_int_equal(add(ctx, &sp), 0);
    pacing_point_spec lc = spec3("ctxpt");
    lc.policy = "linucb";
    lc.context_dim = 2;
    assert_int_equal(add(ctx, &lc), 1);
    /* one good decision first, so counters are not all zero */
    decide_at(ctx, 0, "alice", T0, 0);

    pacing_request rq = req(0, "bob", T0);
    pacing_decision d = PACING_DECISION_INIT;

    /* sizes */
    rq.size = sizeof rq - 8;
    expect_decide_fail(ctx, &rq, PACING_E_SIZE);
    rq.size = sizeof rq;
    d.size = 0;
    assert_int_equal(pacing_decide(ctx, &rq, &d), PACING_E_SIZE);
    /* NULLs */
    d.size = sizeof d;
    assert_int_equal(pacing_decide(ctx, NULL, &d), PACING_E_NULL);
    assert_int_equal(pacing_decide(ctx, &rq, NULL), PACING_E_NULL);
    assert_int_equal(pacing_decide(NULL, &rq, &d), PACING_E_NULL);
    /* unknown point */
    rq.point = 2;
    expect_decide_fail(ctx, &rq, PACING_E_NOTFOUND);
    rq.point = UINT32_MAX;
    expect_decide_fail(ctx, &rq, PACING_E_NOTFOUND);
    rq.point = 0;
    /* every action ineligible */
    rq.ineligible = 0x7;
    expect_decide_fail(ctx, &rq, PACING_E_INVAL);
    rq.ineligible = ~(uint64_t)0;
    expect_decide_fail(ctx, &rq, PACING_E_INVAL);
    rq.ineligible = 0;
    /* context on a context-free point */
    double x2[2] = {0.5, 0.25};
    rq.context = x2;
    rq.context_len = 2;
    expect_decide_fail(ctx, &rq, PACING_E_INVAL);
    rq.context = NULL;
    rq.context_len = 0;
    /* contextual point: length mismatch, NULL, NaN, infinity */
    rq.point = 1;
    expect_decide_fail(ctx, &rq, PACING_E_INVAL);
    rq.context = x2;
    rq.context_len = 1;
    expect_decide_fail(ctx, &rq, PACING_E_INVAL);
    rq.context_len = 3;
    expect_decide_fail(ctx, &rq, PACING_E_INVAL);
    rq.context_len = 2;
    rq.context = NULL;
    expect_decide_fail(ctx, &rq, PACING_E_NULL);
    double xn[2] = {0.5, NAN};
    rq.context = xn;
    expect_decide_fail(ctx, &rq, PACING_E_NAN);
    double xi[2] = {-INFINITY, 0.0};
    rq.context = xi;
    expect_decide_fail(ctx, &rq, PACING_E_NAN);
    rq.context = NULL;
    rq.context_len = 0;
    rq.point = 0;
    /* time */
    rq.now_ms = -1;
    expect_decide_fail(ctx, &rq, PACING_E_TIME);
    rq.now_ms = ((int64_t)1 << 53) + 1;
    expect_decide_fail(ctx, &rq, PACING_E_TIME);
    rq.now_ms = T0;
    /* user */
    rq.user = NULL;
    expect_decide_fail(ctx, &rq, PACING_E_NULL);
    rq.user = "bob";
    rq.user_len = 0;
    expect_decide_fail(ctx, &rq, PACING_E_RANGE);
    static char big[1025];
    memset(big, 'x', sizeof big);
    rq.user = big;
    rq.user_len = 1025;
    expect_decide_fail(ctx, &rq, PACING_E_RANGE);
    rq.user = "bob";
    rq.user_len = 3;
    /* channel and flags */
    rq.channel = 256;
    expect_decide_fail(ctx, &rq, PACING_E_RANGE);
    rq.channel = 0;
    rq.flags = 0x100;
    expect_decide_fail(ctx, &rq, PACING_E_INVAL);
    rq.flags = PACING_REQ_CONSENT | PACING_REQ_NO_CONSENT;
    expect_decide_fail(ctx, &rq, PACING_E_INVAL);
    rq.flags = PACING_REQ_PSEUDONYM;
    rq.pseudonym = 0;
    expect_decide_fail(ctx, &rq, PACING_E_INVAL);
    rq.flags = 0;

    /* only alice's decision was recorded; bob does not exist */
    pacing_decision_stats s = dstats(ctx);
    assert_int_equal(s.decisions, 1);
    assert_int_equal(s.pending, 1);
    uint64_t sum = 0;
    for (uint32_t a = 0; a < 3; a++)
        sum += arm(ctx, 0, a).decisions;
    assert_int_equal(sum, 1);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "bob", 3, T0, &sc), PACING_E_NOTFOUND);
    /* and the request as fixed works */
    d = decide_ok(ctx, &rq);
    assert_true(d.action < 3);
    assert_int_equal(dstats(ctx).decisions, 2);
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* Decisions                                                           */
/* ------------------------------------------------------------------ */

static void test_ineligible_never_chosen(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_seeded(7);
    static const char *const acts[] = {"a", "b", "c", "d"};
    pacing_point_spec sp = spec3("pt");
    sp.actions = acts;
    sp.n_actions = 4;
    assert_int_equal(add(ctx, &sp), 0);
    pacing_point_spec eg = spec3("eg");
    eg.actions = acts;
    eg.n_actions = 4;
    eg.policy = "epsilon_greedy";
    pacing_param e[] = {{"epsilon", 0.5}};
    eg.params = e;
    eg.n_params = 1;
    assert_int_equal(add(ctx, &eg), 1);

    /* make action 1 clearly best for both points */
    for (int i = 0; i < 300; i++) {
        for (uint32_t p = 0; p < 2; p++) {
            pacing_decision d = decide_at(ctx, p, "trainer", T0 + i, 0);
            assert_int_equal(
                pacing_reward(ctx, d.id, d.action == 1 ? 1.0 : 0.0, T0 + i),
                PACING_OK);
        }
    }
    char user[16];
    for (uint32_t p = 0; p < 2; p++) {
        int seen[4] = {0, 0, 0, 0};
        for (int i = 0; i < 600; i++) {
            snprintf(user, sizeof user, "u%d", i % 37);
            uint64_t mask = (i % 2) ? 0xAu /* b, d asleep */ : 0x2u /* b */;
            pacing_decision d = decide_at(ctx, p, user, T0 + 1000 + i, mask);
            assert_true(d.action < 4);
            assert_false((mask >> d.action) & 1u);
            assert_true(d.reasons & PACING_DR_INELIGIBLE);
            assert_true(d.propensity > 0.0 && d.propensity <= 1.0);
            seen[d.action]++;
        }
        assert_int_equal(seen[1], 0);
        assert_true(seen[0] > 0 && seen[2] > 0);
        /* without a mask, the best action is chosen again */
        int best = 0;
        for (int i = 0; i < 100; i++) {
            pacing_decision d = decide_at(ctx, p, "free", T0 + 5000 + i, 0);
            assert_false(d.reasons & PACING_DR_INELIGIBLE);
            best += d.action == 1;
        }
        /* thompson: nearly always; epsilon 0.5: 0.625 of 100 */
        assert_true(best > 40);
    }
    release(ctx);
}

/* With mask 0xA (b and d asleep) only a and c come out, about equally
 * (no rewards yet); with 0xB only c. */
static void test_ineligible_two_masks(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_seeded(8);
    static const char *const acts[] = {"a", "b", "c", "d"};
    pacing_point_spec sp = spec3("pt");
    sp.actions = acts;
    sp.n_actions = 4;
    assert_int_equal(add(ctx, &sp), 0);
    int seen[4] = {0, 0, 0, 0};
    for (int i = 0; i < 400; i++) {
        pacing_decision d = decide_at(ctx, 0, "u", T0 + i, 0xAu);
        seen[d.action]++;
    }
    assert_int_equal(seen[1], 0);
    assert_int_equal(seen[3], 0);
    assert_true(seen[0] > 100 && seen[2] > 100);
    /* one eligible action: always that one */
    for (int i = 0; i < 50; i++) {
        pacing_decision d = decide_at(ctx, 0, "u", T0 + 1000 + i, 0xBu);
        assert_int_equal(d.action, 2);
    }
    release(ctx);
}

typedef struct rec {
    uint64_t id;
    uint32_t action, reasons, point;
    double propensity;
} rec;

#define N_DET 200

/* A fixed script of decisions and rewards on two points. */
static void run_script(uint64_t seed, rec *out)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.seed = seed;
    o.capacity = 4096;
    o.flags = PACING_OPT_SECRET;
    memcpy(o.secret, "0123456789abcdef", 16);
    pacing_ctx *ctx = ctx_opts(&o);
    pacing_point_spec a = spec3("ts");
    assert_int_equal(add(ctx, &a), 0);
    pacing_point_spec b = spec3("eg");
    b.policy = "epsilon_greedy";
    pacing_param e[] = {{"epsilon", 0.3}};
    b.params = e;
    b.n_params = 1;
    assert_int_equal(add(ctx, &b), 1);
    char user[16];
    for (int i = 0; i < N_DET; i++) {
        snprintf(user, sizeof user, "user%d", i % 17);
        uint64_t mask = (i % 5 == 0) ? (1u << (i % 3)) : 0;
        pacing_decision d = decide_at(ctx, (uint32_t)(i % 2), user, T0 + 100 * i,
                                      mask);
        out[i].id = d.id;
        out[i].action = d.action;
        out[i].reasons = d.reasons;
        out[i].point = d.point;
        out[i].propensity = d.propensity;
        if (i % 3 != 2)
            assert_int_equal(pacing_reward(ctx, d.id,
                                           d.action == 0 ? 1.0 : (i % 4 == 0),
                                           T0 + 100 * i + 50),
                             PACING_OK);
    }
    release(ctx);
}

static void test_determinism(void **state)
{
    (void)state;
    static rec a[N_DET], b[N_DET], c[N_DET];
    run_script(42, a);
    run_script(42, b);
    run_script(43, c);
    int differ = 0;
    for (int i = 0; i < N_DET; i++) {
        assert_true(a[i].id != 0);
        assert_int_equal(a[i].id, b[i].id);
        assert_int_equal(a[i].action, b[i].action);
        assert_int_equal(a[i].reasons, b[i].reasons);
        assert_int_equal(a[i].point, b[i].point);
        assert_true(a[i].propensity == b[i].propensity);
        if (a[i].action != c[i].action || a[i].propensity != c[i].propensity)
            differ++;
        /* ids are unique */
        for (int j = 0; j < i; j++)
            assert_true(a[i].id != a[j].id);
    }
    assert_true(differ > 0);
}

/* Determinism does not depend on the (random) pseudonym secret when the
 * context has a single stripe. */
static void test_determinism_random_secret(void **state)
{
    (void)state;
    uint64_t ids[2][50];
    uint32_t acts[2][50];
    for (int r = 0; r < 2; r++) {
        pacing_options o = PACING_OPTIONS_INIT;
        o.seed = 5;
        o.capacity = 256;
        o.stripes = 1;
        pacing_ctx *ctx = ctx_opts(&o);
        pacing_point_spec sp = spec3("pt");
        assert_int_equal(add(ctx, &sp), 0);
        char user[16];
        for (int i = 0; i < 50; i++) {
            snprintf(user, sizeof user, "u%d", i % 7);
            pacing_decision d = decide_at(ctx, 0, user, T0 + i, 0);
            ids[r][i] = d.id;
            acts[r][i] = d.action;
        }
        release(ctx);
    }
    for (int i = 0; i < 50; i++) {
        assert_int_equal(ids[0][i], ids[1][i]);
        assert_int_equal(acts[0][i], acts[1][i]);
    }
}

/* PACING_OPT_RANDOM_SEED: the seed comes from the OS, so two contexts
 * (same options.seed) decide differently somewhere. */
static void test_random_seed_option(void **state)
{
    (void)state;
    uint32_t acts[2][200];
    for (int r = 0; r < 2; r++) {
        pacing_options o = PACING_OPTIONS_INIT;
        o.flags = PACING_OPT_RANDOM_SEED;
        o.seed = 42;
        o.capacity = 256;
        pacing_ctx *ctx = NULL;
        int rc = pacing_ctx_new(&o, &ctx);
        if (rc != PACING_OK)
            fail_msg("ctx_new with PACING_OPT_RANDOM_SEED: %d (%s)", rc,
                     pacing_errmsg(NULL));
        track(ctx);
        pacing_point_spec sp = spec3("pt");
        assert_int_equal(add(ctx, &sp), 0);
        for (int i = 0; i < 200; i++)
            acts[r][i] = decide_at(ctx, 0, "u", T0 + i, 0).action;
        release(ctx);
    }
    int differ = 0;
    for (int i = 0; i < 200; i++)
        differ += acts[0][i] != acts[1][i];
    assert_true(differ > 0);
}

/* Every policy: propensity in (0, 1], exactly one of EXPLORED/EXPLOITED,
 * a valid action, a nonzero unique id, time and point echoed. */
static void test_propensity_all_policies(void **state)
{
    (void)state;
    static const char *const pol[] = {"thompson", "gaussian_thompson", "ucb1",
                                      "kl_ucb", "epsilon_greedy", "softmax",
                                      "linucb", "linear_thompson"};
    pacing_ctx *ctx = ctx_seeded(11);
    for (uint32_t p = 0; p < 8; p++) {
        char name[32];
        snprintf(name, sizeof name, "p_%s", pol[p]);
        pacing_point_spec sp = spec3(name);
        sp.policy = pol[p];
        int ctxl = strcmp(pol[p], "linucb") == 0 ||
                   strcmp(pol[p], "linear_thompson") == 0;
        if (ctxl) {
            sp.context_dim = 2;
            sp.flags = PACING_PT_SCORES_CONTEXT;
        }
        assert_int_equal(add(ctx, &sp), p);
        uint64_t prev = 0;
        for (int i = 0; i < 150; i++) {
            char user[16];
            snprintf(user, sizeof user, "u%d", i % 13);
            pacing_request rq = req(p, user, T0 + 10 * i);
            double x[2] = {(double)(i % 3) - 1.0, 0.5};
            if (ctxl) {
                rq.context = x;
                rq.context_len = 2;
            }
            if (i % 7 == 3)
                rq.ineligible = 1u << (i % 3);
            pacing_decision d = decide_ok(ctx, &rq);
            if (!(d.propensity > 0.0 && d.propensity <= 1.0))
                fail_msg("%s: propensity %g", pol[p], d.propensity);
            assert_true(d.action < 3);
            assert_int_equal(d.point, p);
            assert_true(d.time_ms == T0 + 10 * i);
            assert_true(d.id != 0 && d.id != prev);
            prev = d.id;
            uint32_t ee = d.reasons & (PACING_DR_EXPLORED | PACING_DR_EXPLOITED);
            if (popcount(ee) != 1)
                fail_msg("%s: reasons 0x%x", pol[p], d.reasons);
            double r = d.action == 2 ? 1.0 : 0.0;
            assert_int_equal(pacing_reward(ctx, d.id, r, T0 + 10 * i + 1),
                             PACING_OK);
        }
    }
    release(ctx);
}

static void test_epsilon_greedy_exact_propensity(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_seeded(3);
    pacing_point_spec sp = spec3("eg");
    sp.policy = "epsilon_greedy";
    pacing_param e[] = {{"epsilon", 0.3}};
    sp.params = e;
    sp.n_params = 1;
    assert_int_equal(add(ctx, &sp), 0);
    /* action 0 always rewarded 1, the others 0 */
    for (int i = 0; i < 200; i++) {
        pacing_decision d = decide_at(ctx, 0, "trainer", T0 + i, 0);
        assert_int_equal(pacing_reward(ctx, d.id, d.action == 0 ? 1.0 : 0.0,
                                       T0 + i),
                         PACING_OK);
    }
    for (uint32_t a = 0; a < 3; a++)
        assert_true(arm(ctx, 0, a).pulls >= 1.0);
    int greedy = 0, explored = 0;
    for (int i = 0; i < 400; i++) {
        pacing_decision d = decide_at(ctx, 0, "u", T0 + 1000 + i, 0);
        if (d.action == 0) {
            if (fabs(d.propensity - (0.7 + 0.1)) > 1e-12)
                fail_msg("greedy choice: propensity %.17g", d.propensity);
            assert_true(d.reasons & PACING_DR_EXPLOITED);
            assert_false(d.reasons & PACING_DR_EXPLORED);
            greedy++;
        } else {
            if (fabs(d.propensity - 0.1) > 1e-12)
                fail_msg("exploring choice: propensity %.17g", d.propensity);
            assert_true(d.reasons & PACING_DR_EXPLORED);
            assert_false(d.reasons & PACING_DR_EXPLOITED);
            explored++;
        }
        assert_int_equal(pacing_reward(ctx, d.id, d.action == 0 ? 1.0 : 0.0,
                                       T0 + 1000 + i),
                         PACING_OK);
    }
    /* 0.8 / 0.2 of 400: far inside these bounds */
    assert_in_range(greedy, 260, 380);
    assert_in_range(explored, 20, 140);
    /* with one action asleep: 0.7 + 0.15 and 0.15 */
    for (int i = 0; i < 100; i++) {
        pacing_decision d = decide_at(ctx, 0, "u", T0 + 2000 + i, 0x4u);
        assert_true(d.action != 2);
        double want = d.action == 0 ? 0.85 : 0.15;
        assert_true(fabs(d.propensity - want) < 1e-12);
    }
    release(ctx);
}

static void test_reasons_no_user_and_consent(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    assert_int_equal(add(ctx, &sp), 0);

    /* a new user */
    pacing_decision d = decide_at(ctx, 0, "new", T0, 0);
    assert_true(d.reasons & PACING_DR_NO_USER);
    assert_false(d.reasons & PACING_DR_INELIGIBLE);
    assert_false(d.reasons & PACING_DR_PENDING_FULL);
    assert_true(d.fatigue == 0.0 && d.cognitive_load == 0.0 &&
                d.attention == 0.0 && d.engagement == 0.0 &&
                d.drop_off_risk == 0.0);
    assert_int_equal(cstats(ctx).users, 1);
    /* known now */
    d = decide_at(ctx, 0, "new", T0 + 10, 0);
    assert_false(d.reasons & PACING_DR_NO_USER);
    /* a mask gives INELIGIBLE */
    d = decide_at(ctx, 0, "new", T0 + 20, 0x1u);
    assert_true(d.reasons & PACING_DR_INELIGIBLE);

    /* no consent: no user state used or created */
    pacing_stats before = cstats(ctx);
    pacing_request rq = req(0, "private", T0 + 30);
    rq.flags = PACING_REQ_NO_CONSENT;
    d = decide_ok(ctx, &rq);
    assert_true(d.reasons & PACING_DR_NO_USER);
    assert_true(d.id != 0);
    pacing_stats after = cstats(ctx);
    assert_int_equal(after.users, before.users);
    assert_int_equal(after.users_created, before.users_created);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "private", 7, T0 + 30, &sc),
                     PACING_E_NOTFOUND);
    /* an existing user without consent: also NO_USER, zero scores */
    push(ctx, "new", PACING_EV_EXPOSURE, T0 + 40, 0);
    push(ctx, "new", PACING_EV_DISMISS, T0 + 41, 0);
    rq = req(0, "new", T0 + 50);
    rq.flags = PACING_REQ_NO_CONSENT;
    d = decide_ok(ctx, &rq);
    assert_true(d.reasons & PACING_DR_NO_USER);
    assert_true(d.fatigue == 0.0);
    /* with consent the same user has fatigue */
    rq.flags = PACING_REQ_CONSENT;
    d = decide_ok(ctx, &rq);
    assert_false(d.reasons & PACING_DR_NO_USER);
    assert_true(d.fatigue > 0.0);
    assert_int_equal(cstats(ctx).users, 1);
    release(ctx);
}

/* With PACING_OPT_REQUIRE_CONSENT, a request without the CONSENT flag is
 * not personalised either. */
static void test_require_consent_option(void **state)
{
    (void)state;
    pacing_options o = PACING_OPTIONS_INIT;
    o.flags = PACING_OPT_REQUIRE_CONSENT;
    o.capacity = 256;
    pacing_ctx *ctx = ctx_opts(&o);
    pacing_point_spec sp = spec3("pt");
    assert_int_equal(add(ctx, &sp), 0);
    pacing_decision d = decide_at(ctx, 0, "u", T0, 0);
    assert_true(d.reasons & PACING_DR_NO_USER);
    assert_int_equal(cstats(ctx).users, 0);
    pacing_request rq = req(0, "u", T0 + 1);
    rq.flags = PACING_REQ_CONSENT;
    d = decide_ok(ctx, &rq);
    assert_int_equal(cstats(ctx).users, 1);
    release(ctx);
}

/* Recovering arms: right after a user got action a, a decision at the same
 * time never gives a again unless a is the only eligible action. */
static void test_recovering_arms(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_seeded(17);
    pacing_point_spec sp = spec3("pt");
    sp.actions = ACTIONS2;
    sp.n_actions = 2;
    sp.recovery_decay = "exponential";
    double hl[4] = {600000.0, 0, 0, 0};
    sp.recovery_params = hl;
    assert_int_equal(add(ctx, &sp), 0);
    /* a point without recovery, for contrast */
    pacing_point_spec plain = spec3("plain");
    plain.actions = ACTIONS2;
    plain.n_actions = 2;
    assert_int_equal(add(ctx, &plain), 1);

    char user[16];
    int first_counts[2] = {0, 0}, plain_repeats = 0;
    for (int i = 0; i < 300; i++) {
        snprintf(user, sizeof user, "r%d", i);
        int64_t t = T0 + 1000 * i;
        pacing_decision d1 = decide_at(ctx, 0, user, t, 0);
        assert_false(d1.reasons & PACING_DR_RECOVERING);
        first_counts[d1.action]++;
        pacing_decision d2 = decide_at(ctx, 0, user, t, 0);
        assert_true(d2.action != d1.action);
        assert_true(d2.reasons & PACING_DR_RECOVERING);
        assert_true(d2.propensity > 0.0 && d2.propensity <= 1.0);
        /* now only the just-given (recovering) action is eligible */
        pacing_decision d3 = decide_at(ctx, 0, user, t, 1ull << d2.action);
        assert_int_equal(d3.action, d1.action);
        assert_true(d3.reasons & PACING_DR_RECOVERING);
        assert_true(d3.reasons & PACING_DR_INELIGIBLE);

        pacing_decision p1 = decide_at(ctx, 1, user, t, 0);
        pacing_decision p2 = decide_at(ctx, 1, user, t, 0);
        assert_false(p2.reasons & PACING_DR_RECOVERING);
        plain_repeats += p1.action == p2.action;
    }
    /* the first choice was not forced */
    assert_true(first_counts[0] > 50 && first_counts[1] > 50);
    /* without recovery, repeats happen */
    assert_true(plain_repeats > 50);

    /* after many half-lives the action has recovered: repeats again */
    int repeats = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(user, sizeof user, "late%d", i);
        int64_t t = T0 + 1000 * i;
        pacing_decision d1 = decide_at(ctx, 0, user, t, 0);
        pacing_decision d2 = decide_at(ctx, 0, user, t + 40 * 600000LL, 0);
        repeats += d1.action == d2.action;
    }
    assert_true(repeats > 40 && repeats < 160);

    /* every action just given (scale 0 for all): the policy ignores the
     * scale (lib/policy_impl.h, pc_candidates) and both still come out */
    int both[2] = {0, 0};
    for (int i = 0; i < 200; i++) {
        snprintf(user, sizeof user, "both%d", i);
        int64_t t = T0 + 1000 * i;
        assert_int_equal(decide_at(ctx, 0, user, t, 0x2u).action, 0);
        assert_int_equal(decide_at(ctx, 0, user, t, 0x1u).action, 1);
        pacing_decision d3 = decide_at(ctx, 0, user, t, 0);
        assert_true(d3.reasons & PACING_DR_RECOVERING);
        assert_true(d3.propensity > 0.0 && d3.propensity <= 1.0);
        both[d3.action]++;
    }
    assert_true(both[0] > 40 && both[1] > 40);

    /* other users are not affected by one user's recovery */
    pacing_decision o1 = decide_at(ctx, 0, "other", T0, 0);
    assert_false(o1.reasons & PACING_DR_RECOVERING);
    release(ctx);
}

/* The scores in a decision are the user's scores at that time. */
static void test_decision_scores(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    assert_int_equal(add(ctx, &sp), 0);
    /* some finished sessions so the hazard model has data */
    char u[16];
    for (int i = 0; i < 20; i++) {
        snprintf(u, sizeof u, "s%d", i);
        push(ctx, u, PACING_EV_SESSION_START, T0, 0);
        push(ctx, u, PACING_EV_CLICK, T0 + 1000, 100);
        push(ctx, u, PACING_EV_SESSION_END, T0 + 3000 + 4000 * i, 0);
    }
    const char *al = "alice";
    push(ctx, al, PACING_EV_SESSION_START, T0, 0);
    for (int i = 0; i < 8; i++) {
        push(ctx, al, PACING_EV_INPUT_LATENCY, T0 + 1000 * i, 300 + 40 * i);
        push(ctx, al, PACING_EV_READING_SPEED, T0 + 1000 * i + 10, 300 - 20 * i);
        push(ctx, al, PACING_EV_EXPOSURE, T0 + 1000 * i + 20, 0);
    }
    push(ctx, al, PACING_EV_DISMISS, T0 + 9000, 0);
    push(ctx, al, PACING_EV_ERROR, T0 + 9100, 0);
    push(ctx, al, PACING_EV_SCROLL_DEPTH, T0 + 9200, 0.3);
    push(ctx, al, PACING_EV_TAB_HIDDEN, T0 + 9300, 0);
    push(ctx, al, PACING_EV_CLICK, T0 + 9400, 120);
    push(ctx, al, PACING_EV_DWELL, T0 + 9500, 8000);

    for (int k = 0; k < 3; k++) {
        int64_t t = T0 + 12000 + 7000 * k;
        /* the scores the decision will use: read just before (reads change
         * nothing; the decision itself then records an exposure) */
        pacing_scores sc = PACING_SCORES_INIT;
        assert_int_equal(pacing_scores_get(ctx, al, strlen(al), t, &sc), PACING_OK);
        pacing_decision d = decide_at(ctx, 0, al, t, 0);
        assert_false(d.reasons & PACING_DR_NO_USER);
        assert_true(d.fatigue == sc.fatigue);
        assert_true(d.cognitive_load == sc.cognitive_load);
        assert_true(d.attention == sc.attention);
        assert_true(d.engagement == sc.engagement);
        assert_true(d.drop_off_risk == sc.drop_off_risk);
        assert_true(d.time_ms == t);
        /* not trivially zero */
        assert_true(sc.fatigue > 0.0 && sc.cognitive_load > 0.0);
        assert_true(sc.attention > 0.0 && sc.engagement > 0.0);
        assert_true(sc.drop_off_risk > 0.0);
    }
    release(ctx);
}

/* Contextual policies: caller features plus the appended scores. */
static void test_contextual_point(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_seeded(23);
    pacing_point_spec sp = spec3("lin");
    sp.policy = "linucb";
    sp.context_dim = 2;
    sp.flags = PACING_PT_SCORES_CONTEXT;
    assert_int_equal(add(ctx, &sp), 0);
    pacing_point_spec lt = spec3("lts");
    lt.policy = "linear_thompson";
    lt.flags = PACING_PT_SCORES_CONTEXT; /* scores only, no caller features */
    assert_int_equal(add(ctx, &lt), 1);

    double x[2] = {1.0, -0.5};
    for (int i = 0; i < 60; i++) {
        pacing_request rq = req(0, "u", T0 + i);
        x[0] = (double)(i % 2);
        rq.context = x;
        rq.context_len = 2;
        pacing_decision d = decide_ok(ctx, &rq);
        assert_true(d.action < 3);
        /* real-valued rewards outside [0, 1] are accepted */
        double r = (d.action == (uint32_t)(i % 2)) ? 5.0 : -2.0;
        assert_int_equal(pacing_reward(ctx, d.id, r, T0 + i), PACING_OK);

        pacing_request r2 = req(1, "u", T0 + i);
        d = decide_ok(ctx, &r2);
        assert_true(d.action < 3);
        assert_int_equal(pacing_reward(ctx, d.id, 2.5, T0 + i), PACING_OK);
    }
    double pulls = 0.0, sum = 0.0;
    for (uint32_t a = 0; a < 3; a++) {
        pacing_arm_stats s = arm(ctx, 0, a);
        pulls += s.pulls;
        sum += (double)s.rewards;
    }
    assert_true(fabs(pulls - 60.0) < 1e-9);
    assert_true(sum == 60.0);
    /* context_len 0 on the first, 2 on the second: rejected */
    pacing_request bad = req(0, "u", T0 + 100);
    pacing_decision d = PACING_DECISION_INIT;
    assert_int_equal(pacing_decide(ctx, &bad, &d), PACING_E_INVAL);
    bad = req(1, "u", T0 + 100);
    bad.context = x;
    bad.context_len = 2;
    assert_int_equal(pacing_decide(ctx, &bad, &d), PACING_E_INVAL);
    /* out of the real-valued range */
    pacing_request ok = req(0, "u", T0 + 200);
    ok.context = x;
    ok.context_len = 2;
    d = decide_ok(ctx, &ok);
    assert_int_equal(pacing_reward(ctx, d.id, 2e6, T0 + 200), PACING_E_RANGE);
    assert_int_equal(pacing_reward(ctx, d.id, -1e6, T0 + 200), PACING_OK);
    release(ctx);
}

/* ------------------------------------------------------------------ */
/* pacing_arm_stats_get                                                */
/* ------------------------------------------------------------------ */

static void test_arm_stats(void **state)
{
    (void)state;
    pacing_ctx *ctx = ctx_default();
    pacing_point_spec sp = spec3("pt");
    assert_int_equal(add(ctx, &sp), 0);
    pacing_point_spec sp2 = spec3("two");
    sp2.actions = ACTIONS2;
    sp2.n_actions = 2;
    assert_int_equal(add(ctx, &sp2), 1);

    pacing_arm_stats a = arm(ctx, 0, 0);
    assert_int_equal(a.decisions, 0);
    assert_int_equal(a.rewards, 0);
    assert_true(a.pulls == 0.0 && a.reward_sum == 0.0);
    assert_true(a.last_update_ms == -1);
    assert_string_equal(a.param_a_name, "alpha");
    assert_string_equal(a.param_b_name, "beta");
    assert_true(a.param_a == 1.0 && a.param_b == 1.0); /* the prior */

    uint64_t counts[3] = {0, 0, 0};
    int n0 = 0, n1 = 0;
    char user[16];
    for (int i = 0; i < 250; i++) {
        snprintf(user, sizeof user, "u%d", i % 11);
        uint32_t p = (i % 5 == 0) ? 1 : 0;
        pacing_decision d = decide_at(ctx, p, user, T0 + i, 0);
        if (p == 0) {
            counts[d.action]++;
            n0++;
        } else {
            n1++;
        }
    }
    uint64_t sum = 0;
    for (uint32_t k = 0; k < 3; k++) {
        a = arm(ctx, 0, k);
        assert_int_equal(a.decisions, counts[k]);
        sum += a.decisions;
    }
    assert_int_equal(sum, n0);
    assert_int_equal(arm(ctx, 1, 0).decisions + arm(ctx, 1, 1).decisions, n1);
    assert_int_equal(dstats(ctx).decisions, 250);

    /* errors */
    pacing_arm_stats bad = PACING_ARM_STATS_INIT;
    bad.size = 0;
    assert_int_equal(pacing_arm_stats_get(ctx, 0, 0, &bad), PACING_E_SIZE);
    bad.size = sizeof bad + 1;
    assert_int_equal(pacing_arm_stats_get(ctx, 0, 0, &bad), PACING_E_SIZE);
    bad.size = sizeof bad;
    assert_int_equal(pacing_arm_stats_get(ctx, 2, 0, &bad), PACING_E_NOTFOUND);
    assert_int_equal(pacing_arm_stats_get(ctx, 0, 3, &bad), PACING_E_NOTFOUND);
    assert_int_equal(pacing_arm_stats_get(ctx, 1, 2, &bad), PACING_E_NOTFOUND);
    assert_int_equal(pacing_arm_stats_get(ctx, UINT32_MAX, 0, &bad),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_arm_stats_get(ctx, 0, 0, NULL), PACING_E_NULL);
    assert_int_equal(pacing_arm_stats_get(NULL, 0, 0, &bad), PACING_E_NULL);
    pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
    ds.size = 1;
    assert_int_equal(pacing_decision_stats_get(ctx, &ds), PACING_E_SIZE);
    assert_int_equal(pacing_decision_stats_get(ctx, NULL), PACING_E_NULL);
    release(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_add_ok_ids_in_order, teardown),
        cmocka_unit_test_teardown(test_add_null, teardown),
        cmocka_unit_test_teardown(test_add_wrong_size, teardown),
        cmocka_unit_test_teardown(test_add_bad_name, teardown),
        cmocka_unit_test_teardown(test_add_duplicate_name, teardown),
        cmocka_unit_test_teardown(test_add_one_action, teardown),
        cmocka_unit_test_teardown(test_add_65_actions, teardown),
        cmocka_unit_test_teardown(test_add_null_actions, teardown),
        cmocka_unit_test_teardown(test_add_duplicate_action, teardown),
        cmocka_unit_test_teardown(test_add_bad_action_name, teardown),
        cmocka_unit_test_teardown(test_add_unknown_policy, teardown),
        cmocka_unit_test_teardown(test_add_unknown_param, teardown),
        cmocka_unit_test_teardown(test_add_nan_param, teardown),
        cmocka_unit_test_teardown(test_add_param_out_of_range, teardown),
        cmocka_unit_test_teardown(test_add_context_with_context_free_policy, teardown),
        cmocka_unit_test_teardown(test_add_contextual_without_dim, teardown),
        cmocka_unit_test_teardown(test_add_context_dim_33, teardown),
        cmocka_unit_test_teardown(test_add_unknown_recovery_decay, teardown),
        cmocka_unit_test_teardown(test_add_negative_attribution, teardown),
        cmocka_unit_test_teardown(test_add_default_reward_range, teardown),
        cmocka_unit_test_teardown(test_add_unknown_reward_module, teardown),
        cmocka_unit_test_teardown(test_add_too_many_rules, teardown),
        cmocka_unit_test_teardown(test_add_bad_flags_reserved, teardown),
        cmocka_unit_test_teardown(test_add_full, teardown),
        cmocka_unit_test_teardown(test_point_find_and_action_name, teardown),
        cmocka_unit_test_teardown(test_names_copied, teardown),
        cmocka_unit_test_teardown(test_decide_validation, teardown),
        cmocka_unit_test_teardown(test_ineligible_never_chosen, teardown),
        cmocka_unit_test_teardown(test_ineligible_two_masks, teardown),
        cmocka_unit_test_teardown(test_determinism, teardown),
        cmocka_unit_test_teardown(test_determinism_random_secret, teardown),
        cmocka_unit_test_teardown(test_random_seed_option, teardown),
        cmocka_unit_test_teardown(test_propensity_all_policies, teardown),
        cmocka_unit_test_teardown(test_epsilon_greedy_exact_propensity, teardown),
        cmocka_unit_test_teardown(test_reasons_no_user_and_consent, teardown),
        cmocka_unit_test_teardown(test_require_consent_option, teardown),
        cmocka_unit_test_teardown(test_recovering_arms, teardown),
        cmocka_unit_test_teardown(test_decision_scores, teardown),
        cmocka_unit_test_teardown(test_contextual_point, teardown),
        cmocka_unit_test_teardown(test_arm_stats, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
