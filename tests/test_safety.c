/* Unit tests of the safety layer (lib/safety.c, and its use in
 * lib/decide.c) through the public API:
 *  - pacing_rule_add / pacing_rule_register validation;
 *  - one or more tests per built-in rule, with boundaries (min_gap,
 *    frequency_cap per point / across points / per channel / across
 *    channels, quiet_hours with UTC offsets, the three ceilings,
 *    session_budget, sensitive_state, consent, opt_out);
 *  - order and combination of rules, point scopes, custom rules and the
 *    view they see;
 *  - policy and safety together: vetoed arms sleep before the policy
 *    samples (propensities over the allowed arms), safe decisions, the
 *    all-vetoed error;
 *  - the acceptance test: a 20 s min_gap against a policy that always
 *    wants to show;
 *  - pacing_explain (snprintf semantics, errors, sentence content).
 *
 * docs/safety.md states the semantics tested here. Every test uses fixed
 * seeds and fixed times, so it is deterministic. */
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

#define DAY ((int64_t)86400000)
#define HOUR ((int64_t)3600000)
#define MIN ((int64_t)60000)
/* A UTC midnight, far from 0 and far below 2^53. */
#define T0 ((int64_t)20000 * DAY)
/* Training decisions happen long before the tests' times. */
#define T_TRAIN (T0 - 40 * DAY)

/* |a - b| <= eps (cmocka 1.1 has no double assertion) */
#define assert_near(a, b, eps)                                                 \
    do {                                                                       \
        double a_ = (a), b_ = (b);                                             \
        if (!(fabs(a_ - b_) <= (eps)))                                         \
            fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);               \
    } while (0)

#define MAX_TRACKED 8
static pacing_ctx *tracked[MAX_TRACKED];

/* Contexts made by a test are freed by the teardown, also when an
 * assertion fails half way (so valgrind sees no leak). */
static pacing_ctx *track(pacing_ctx *ctx)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (!tracked[i]) {
            tracked[i] = ctx;
            return ctx;
        }
    fail_msg("too many contexts in one test");
    return NULL;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < MAX_TRACKED; i++) {
        pacing_ctx_free(tracked[i]);
        tracked[i] = NULL;
    }
    return 0;
}

static pacing_ctx *new_ctx(uint64_t seed, uint32_t flags)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.seed = seed;
    o.flags = flags;
    o.capacity = 1024;
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
    assert_non_null(ctx);
    return track(ctx);
}

static const char *const SHOW_SKIP[] = {"show", "skip"};
static const char *const SHOW_WAIT[] = {"show", "wait"};
static const char *const SA_SB_SKIP[] = {"show_a", "show_b", "skip"};
static const char *const SHOW_LATER_NEVER[] = {"show", "later", "never"};

/* A point of epsilon-greedy with the given epsilon; quiet and safe as
 * given. */
static uint32_t add_point_eps(pacing_ctx *ctx, const char *name,
                              const char *const *actions, uint32_t n,
                              uint64_t quiet, int32_t safe, double epsilon)
{
    pacing_param pp[1] = {{"epsilon", epsilon}};
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    sp.name = name;
    sp.actions = actions;
    sp.n_actions = n;
    sp.policy = "epsilon_greedy";
    sp.params = pp;
    sp.n_params = 1;
    sp.quiet_actions = quiet;
    sp.safe_action = safe;
    uint32_t id = 9999;
    int rc = pacing_point_add(ctx, &sp, &id);
    if (rc != PACING_OK)
        fail_msg("point_add %s: %d (%s)", name, rc, pacing_errmsg(ctx));
    return id;
}

static int decide_full(pacing_ctx *ctx, uint32_t pt, const char *user,
                       int64_t now, uint32_t flags, uint32_t channel,
                       int32_t utc_offset_min, uint64_t ineligible,
                       pacing_decision *d)
{
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = pt;
    rq.flags = flags;
    rq.user = user;
    rq.user_len = strlen(user);
    rq.now_ms = now;
    rq.channel = channel;
    rq.utc_offset_min = utc_offset_min;
    rq.ineligible = ineligible;
    pacing_decision init = PACING_DECISION_INIT;
    *d = init;
    return pacing_decide(ctx, &rq, d);
}

static pacing_decision ask_full(pacing_ctx *ctx, uint32_t pt, const char *user,
                                int64_t now, uint32_t flags, uint32_t channel,
                                int32_t off)
{
    pacing_decision d;
    int rc = decide_full(ctx, pt, user, now, flags, channel, off, 0, &d);
    if (rc != PACING_OK)
        fail_msg("decide %s at %lld: %d (%s)", user, (long long)now, rc,
                 pacing_errmsg(ctx));
    return d;
}

static pacing_decision ask(pacing_ctx *ctx, uint32_t pt, const char *user,
                           int64_t now)
{
    return ask_full(ctx, pt, user, now, 0, PACING_CH_WEB, 0);
}

static pacing_decision ask_ch(pacing_ctx *ctx, uint32_t pt, const char *user,
                              int64_t now, uint32_t channel)
{
    return ask_full(ctx, pt, user, now, 0, channel, 0);
}

/* Train a point so that the policy's estimates are r[a]: each action is
 * forced once (all others ineligible) and rewarded r[a]. With epsilon 0
 * and r[0] the largest, the policy then always picks action 0 when it is
 * eligible (P = 1), so "the policy always wants to show". Call before any
 * rule is added. */
static void train(pacing_ctx *ctx, uint32_t pt, uint32_t k, const double *r)
{
    uint64_t all = (1ULL << k) - 1;
    for (uint32_t a = 0; a < k; a++) {
        pacing_decision d;
        int rc = decide_full(ctx, pt, "trainer", T_TRAIN + a, PACING_REQ_CONSENT,
                             0, 0, all & ~(1ULL << a), &d);
        assert_int_equal(rc, PACING_OK);
        assert_int_equal(d.action, a);
        assert_int_equal(pacing_reward(ctx, d.id, r[a], T_TRAIN + a), PACING_OK);
    }
}

/* A {show, skip} point (skip quiet and safe) whose policy always wants to
 * show (epsilon 0, show rewarded 1, skip 0). */
static uint32_t show_point(pacing_ctx *ctx, const char *name)
{
    uint32_t pt = add_point_eps(ctx, name, SHOW_SKIP, 2, 2, 1, 0.0);
    const double r[2] = {1.0, 0.0};
    train(ctx, pt, 2, r);
    return pt;
}

static uint32_t add_rule(pacing_ctx *ctx, const char *module, const char *point,
                         const pacing_param *params, uint32_t n)
{
    pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
    rs.module = module;
    rs.point = point;
    rs.params = params;
    rs.n_params = n;
    uint32_t id = 9999;
    int rc = pacing_rule_add(ctx, &rs, &id);
    if (rc != PACING_OK)
        fail_msg("rule_add %s: %d (%s)", module, rc, pacing_errmsg(ctx));
    return id;
}

static int try_rule(pacing_ctx *ctx, const char *module, const char *point,
                    const pacing_param *params, uint32_t n, uint32_t *id)
{
    pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
    rs.module = module;
    rs.point = point;
    rs.params = params;
    rs.n_params = n;
    return pacing_rule_add(ctx, &rs, id);
}

static void push_ev(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                    double value, uint32_t channel)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    ev.channel = channel;
    int rc = pacing_push(ctx, &ev);
    if (rc != PACING_OK)
        fail_msg("push %s type %u at %lld: %d (%s)", user, type, (long long)t,
                 rc, pacing_errmsg(ctx));
}

static const char *explain(const pacing_ctx *ctx, const pacing_decision *d)
{
    static char buf[1024];
    int n = pacing_explain(ctx, d, buf, sizeof buf);
    if (n < 0)
        fail_msg("explain: %d", n);
    assert_true((size_t)n < sizeof buf);
    assert_int_equal(strlen(buf), (size_t)n);
    return buf;
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' does not contain '%s'", text, needle);
}

/* The policy's show was given (and is an exposure). */
static void expect_shown(const pacing_decision *d)
{
    if ((d->reasons & PACING_DR_SAFE) || d->action != 0)
        fail_msg("expected show, got action %u reasons 0x%x at %lld", d->action,
                 d->reasons, (long long)d->time_ms);
    assert_int_equal(d->reasons & PACING_DR_VETOED, 0);
    assert_int_equal(d->n_vetoes, 0);
    assert_true(d->id != 0);
}

/* Every showing action was held back: the safe action (index `safe`),
 * with one verdict of rule `rule` against action 0. */
static void expect_safe(const pacing_decision *d, uint32_t safe, uint32_t rule,
                        uint32_t verdict, int64_t retry)
{
    if (!(d->reasons & PACING_DR_SAFE))
        fail_msg("expected a safe decision, got action %u reasons 0x%x at %lld",
                 d->action, d->reasons, (long long)d->time_ms);
    assert_true(d->reasons & PACING_DR_VETOED);
    assert_int_equal(d->action, safe);
    assert_true(d->propensity == 1.0);
    assert_int_equal(d->id, 0);
    assert_true(d->n_vetoes >= 1);
    assert_int_equal(d->vetoes[0].rule, rule);
    assert_int_equal(d->vetoes[0].action, 0);
    assert_int_equal(d->vetoes[0].verdict, verdict);
    if (verdict == PACING_DELAY)
        assert_int_equal(d->vetoes[0].retry_after_ms, retry);
    else
        assert_int_equal(d->vetoes[0].retry_after_ms, 0);
    assert_int_equal(d->retry_after_ms, retry);
}

static pacing_decision_stats dstats(pacing_ctx *ctx)
{
    pacing_decision_stats s = PACING_DECISION_STATS_INIT;
    assert_int_equal(pacing_decision_stats_get(ctx, &s), PACING_OK);
    return s;
}

static pacing_arm_stats arm(pacing_ctx *ctx, uint32_t pt, uint32_t a)
{
    pacing_arm_stats s = PACING_ARM_STATS_INIT;
    assert_int_equal(pacing_arm_stats_get(ctx, pt, a, &s), PACING_OK);
    return s;
}

static uint64_t users_held(pacing_ctx *ctx)
{
    pacing_stats s = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &s), PACING_OK);
    return s.users;
}

/* ------------------------------------------------------------------ */
/* Custom modules used by several tests                                */
/* ------------------------------------------------------------------ */

/* "by_action": params a0..a3 say what to answer for action 0..3:
 * 0 allow, > 0 delay until now + value, < 0 veto with reason -value.
 * detail = {action, value}. */
static const char *const BY_ACTION_PARAMS[] = {"a0", "a1", "a2", "a3"};
static const double BY_ACTION_DEFAULTS[] = {0, 0, 0, 0};

static int by_action_check(void *o, const double *p, const pacing_rule_view *v,
                           pacing_rule_result *r)
{
    (void)o;
    double x = v->action < 4 ? p[v->action] : 0.0;
    if (x > 0) {
        r->verdict = PACING_DELAY;
        r->reason = 7;
        r->retry_after_ms = v->now_ms + (int64_t)x;
    } else if (x < 0) {
        r->verdict = PACING_VETO;
        r->reason = (uint32_t)-x;
    }
    r->detail[0] = v->action;
    r->detail[1] = x;
    return 0;
}

static void by_action_explain(void *o, const double *p, const pacing_veto *x,
                              char *buf, size_t len)
{
    (void)o;
    (void)p;
    snprintf(buf, len, "by_action says %s for action %g",
             x->verdict == PACING_DELAY ? "wait" : "no", x->detail[0]);
}

static void register_by_action(pacing_ctx *ctx)
{
    pacing_rule_module m = {
        .size = sizeof(pacing_rule_module),
        .name = "by_action",
        .param_names = BY_ACTION_PARAMS,
        .param_defaults = BY_ACTION_DEFAULTS,
        .n_params = 4,
        .check = by_action_check,
        .explain = by_action_explain,
    };
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_OK);
}

/* "counter": counts calls per action in an int[4] opaque; allows. */
static int counter_check(void *o, const double *p, const pacing_rule_view *v,
                         pacing_rule_result *r)
{
    (void)p;
    (void)r;
    int *calls = o;
    if (v->action < 4)
        calls[v->action]++;
    return 0;
}

static void register_counter(pacing_ctx *ctx, const char *name, int *calls)
{
    pacing_rule_module m = {
        .size = sizeof(pacing_rule_module),
        .name = name,
        .check = counter_check,
        .opaque = calls,
    };
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_OK);
}

/* ------------------------------------------------------------------ */
/* pacing_rule_add validation                                          */
/* ------------------------------------------------------------------ */

static void expect_rule_fail(pacing_ctx *ctx, const char *module,
                             const char *point, const pacing_param *params,
                             uint32_t n, int status)
{
    uint32_t id = 4242;
    int rc = try_rule(ctx, module, point, params, n, &id);
    if (rc != status)
        fail_msg("rule_add %s: status %d, expected %d (%s)", module, rc, status,
                 pacing_errmsg(ctx));
    assert_int_equal(id, 4242);
    assert_true(pacing_errmsg(ctx)[0] != '\0');
}

static void test_rule_add_validation(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(1, 0);
    add_point_eps(ctx, "pt", SHOW_SKIP, 2, 2, 1, 0.0);

    /* NULL and size */
    uint32_t id = 4242;
    assert_int_equal(pacing_rule_add(NULL, NULL, &id), PACING_E_NULL);
    assert_int_equal(pacing_rule_add(ctx, NULL, &id), PACING_E_NULL);
    pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
    rs.module = "min_gap";
    rs.size = sizeof rs - 1;
    assert_int_equal(pacing_rule_add(ctx, &rs, &id), PACING_E_SIZE);
    rs.size = sizeof rs;
    rs.module = NULL;
    assert_int_equal(pacing_rule_add(ctx, &rs, &id), PACING_E_NULL);
    rs.module = "min_gap";
    rs.reserved0 = 1;
    assert_int_equal(pacing_rule_add(ctx, &rs, &id), PACING_E_INVAL);
    rs.reserved0 = 0;
    rs.n_params = 1; /* params NULL */
    assert_int_equal(pacing_rule_add(ctx, &rs, &id), PACING_E_NULL);
    assert_int_equal(id, 4242);

    /* unknown module, unknown point */
    expect_rule_fail(ctx, "min_gapp", NULL, NULL, 0, PACING_E_NOTFOUND);
    expect_rule_fail(ctx, "", NULL, NULL, 0, PACING_E_NOTFOUND);
    expect_rule_fail(ctx, "min_gap", "no_such_point", NULL, 0, PACING_E_NOTFOUND);

    /* unknown parameter, NULL name, NaN, infinity, out of range */
    pacing_param bad_name[1] = {{"gap", 1000}};
    expect_rule_fail(ctx, "min_gap", NULL, bad_name, 1, PACING_E_INVAL);
    pacing_param null_name[1] = {{NULL, 1000}};
    expect_rule_fail(ctx, "min_gap", NULL, null_name, 1, PACING_E_NULL);
    pacing_param nan_p[1] = {{"gap_ms", NAN}};
    expect_rule_fail(ctx, "min_gap", NULL, nan_p, 1, PACING_E_NAN);
    pacing_param inf_p[1] = {{"max", INFINITY}};
    expect_rule_fail(ctx, "fatigue_ceiling", NULL, inf_p, 1, PACING_E_NAN);
    pacing_param range[][1] = {
        {{"gap_ms", 0}},        /* min_gap: [1, 366 d] */
        {{"gap_ms", 366.0 * DAY + 1}},
        {{"same_point", 2}},
        {{"same_channel", -1}},
    };
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++)
        expect_rule_fail(ctx, "min_gap", NULL, range[i], 1, PACING_E_RANGE);
    pacing_param q_range[1] = {{"start_min", 1440}};
    expect_rule_fail(ctx, "quiet_hours", NULL, q_range, 1, PACING_E_RANGE);
    pacing_param f_range[1] = {{"max", 1.5}};
    expect_rule_fail(ctx, "fatigue_ceiling", NULL, f_range, 1, PACING_E_RANGE);
    expect_rule_fail(ctx, "load_ceiling", NULL, f_range, 1, PACING_E_RANGE);
    expect_rule_fail(ctx, "dropoff_ceiling", NULL, f_range, 1, PACING_E_RANGE);
    pacing_param d_range[1] = {{"delay_ms", -1}};
    expect_rule_fail(ctx, "fatigue_ceiling", NULL, d_range, 1, PACING_E_RANGE);
    pacing_param b_range[1] = {{"max", -1}};
    expect_rule_fail(ctx, "session_budget", NULL, b_range, 1, PACING_E_RANGE);
    pacing_param s_range[1] = {{"after_error_ms", -1}};
    expect_rule_fail(ctx, "sensitive_state", NULL, s_range, 1, PACING_E_RANGE);
    pacing_param c_range[1] = {{"max", 0}};
    expect_rule_fail(ctx, "frequency_cap", NULL, c_range, 1, PACING_E_RANGE);
    /* consent and opt_out take no parameters */
    pacing_param any[1] = {{"max", 1}};
    expect_rule_fail(ctx, "consent", NULL, any, 1, PACING_E_INVAL);
    expect_rule_fail(ctx, "opt_out", NULL, any, 1, PACING_E_INVAL);

    /* nothing was added: the first good rule gets id 0, then 1, 2 */
    assert_int_equal(add_rule(ctx, "min_gap", NULL, NULL, 0), 0);
    assert_int_equal(add_rule(ctx, "consent", "pt", NULL, 0), 1);
    pacing_param ok[2] = {{"gap_ms", 1}, {"same_point", 1}};
    assert_int_equal(add_rule(ctx, "min_gap", "pt", ok, 2), 2);
    /* rule_id may be NULL */
    assert_int_equal(try_rule(ctx, "opt_out", NULL, NULL, 0, NULL), PACING_OK);
    assert_int_equal(add_rule(ctx, "opt_out", NULL, NULL, 0), 4);
}

/* Scoped frequency caps count exposures in the user's ring of 8: max > 8
 * is only accepted for a global cap over 1 min, 1 h or 1 d. */
static void test_rule_add_frequency_cap_limits(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(1, 0);
    pacing_param p9[1] = {{"max", 9}}; /* same_point defaults to 1 */
    expect_rule_fail(ctx, "frequency_cap", NULL, p9, 1, PACING_E_RANGE);
    pacing_param p9ch[3] = {{"max", 9}, {"same_point", 0}, {"same_channel", 1}};
    expect_rule_fail(ctx, "frequency_cap", NULL, p9ch, 3, PACING_E_RANGE);
    pacing_param p9w[3] = {{"max", 9}, {"same_point", 0}, {"window_ms", 120000}};
    expect_rule_fail(ctx, "frequency_cap", NULL, p9w, 3, PACING_E_RANGE);

    pacing_param p8[1] = {{"max", 8}};
    assert_int_equal(add_rule(ctx, "frequency_cap", NULL, p8, 1), 0);
    pacing_param g9[2] = {{"max", 9}, {"same_point", 0}};
    assert_int_equal(add_rule(ctx, "frequency_cap", NULL, g9, 2), 1);
    const double windows[] = {60000, 3600000, 86400000};
    for (int i = 0; i < 3; i++) {
        pacing_param g[3] = {{"max", 1e6}, {"same_point", 0}, {"window_ms", windows[i]}};
        assert_int_equal(add_rule(ctx, "frequency_cap", NULL, g, 3), (uint32_t)(2 + i));
    }
    pacing_param too_many[2] = {{"max", 1e6 + 1}, {"same_point", 0}};
    expect_rule_fail(ctx, "frequency_cap", NULL, too_many, 2, PACING_E_RANGE);
}

static void test_rule_add_full(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(1, 0);
    for (uint32_t i = 0; i < 64; i++)
        assert_int_equal(add_rule(ctx, "opt_out", NULL, NULL, 0), i);
    expect_rule_fail(ctx, "opt_out", NULL, NULL, 0, PACING_E_FULL);
    expect_rule_fail(ctx, "min_gap", NULL, NULL, 0, PACING_E_FULL);
    /* the 64 rules still work */
    uint32_t pt = show_point(ctx, "pt");
    pacing_decision d = ask_full(ctx, pt, "u", T0, PACING_REQ_OPTED_OUT, 0, 0);
    expect_safe(&d, 1, 0, PACING_VETO, 0);
    /* the first veto ends the checks of an action: one verdict */
    assert_int_equal(d.n_vetoes, 1);
    assert_int_equal(d.reasons & PACING_DR_MORE_VETOES, 0);
}

/* ------------------------------------------------------------------ */
/* pacing_rule_register validation                                     */
/* ------------------------------------------------------------------ */

static int allow_check(void *o, const double *p, const pacing_rule_view *v,
                       pacing_rule_result *r)
{
    (void)o;
    (void)p;
    (void)v;
    (void)r;
    return 0;
}

static pacing_rule_module module_named(const char *name)
{
    pacing_rule_module m = {
        .size = sizeof(pacing_rule_module),
        .name = name,
        .check = allow_check,
    };
    return m;
}

static void test_rule_register_validation(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(1, 0);
    pacing_rule_module m = module_named("mine");
    assert_int_equal(pacing_rule_register(NULL, &m), PACING_E_NULL);
    assert_int_equal(pacing_rule_register(ctx, NULL), PACING_E_NULL);
    m.size = sizeof m + 8;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_SIZE);
    m.size = 0;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_SIZE);

    const char *bad_names[] = {NULL, "", "Mine", "my-rule", "a b",
                               "abcdefghijklmnopqrstuvwxyz012345" /* 32 */};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        m = module_named(bad_names[i]);
        assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_INVAL);
    }
    m = module_named("abcdefghijklmnopqrstuvwxyz01234"); /* 31: fine */
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_OK);

    m = module_named("nocheck");
    m.check = NULL;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_INVAL);

    static const char *const nine[] = {"p0", "p1", "p2", "p3", "p4",
                                       "p5", "p6", "p7", "p8"};
    static const double nine_d[9] = {0};
    m = module_named("toomany");
    m.param_names = nine;
    m.param_defaults = nine_d;
    m.n_params = 9;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_INVAL);
    m.n_params = 8;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_OK);

    m = module_named("nullnames");
    m.n_params = 1;
    m.param_defaults = nine_d;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_NULL);
    m.param_names = nine;
    m.param_defaults = NULL;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_NULL);

    static const char *const bad_param[] = {"ok", "Bad"};
    static const char *const null_param[] = {"ok", NULL};
    static const char *const dup_param[] = {"same", "same"};
    static const double two_d[2] = {1, 2};
    m = module_named("badparams");
    m.param_defaults = two_d;
    m.n_params = 2;
    m.param_names = bad_param;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_INVAL);
    m.param_names = null_param;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_INVAL);
    m.param_names = dup_param;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_INVAL);
    static const char *const good_param[] = {"lo", "hi"};
    static const double nan_d[2] = {1, NAN};
    static const double inf_d[2] = {-INFINITY, 1};
    m.param_names = good_param;
    m.param_defaults = nan_d;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_NAN);
    m.param_defaults = inf_d;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_NAN);
    m.param_defaults = two_d;
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_OK);

    /* a name taken by a built-in or by an earlier registration */
    const char *taken[] = {"min_gap", "frequency_cap", "consent", "opt_out",
                           "badparams"};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        m = module_named(taken[i]);
        assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_EXISTS);
    }
    /* none of the failed registrations exists */
    pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
    uint32_t id;
    rs.module = "nocheck";
    assert_int_equal(pacing_rule_add(ctx, &rs, &id), PACING_E_NOTFOUND);
    rs.module = "nullnames";
    assert_int_equal(pacing_rule_add(ctx, &rs, &id), PACING_E_NOTFOUND);
    /* the good ones do, with their parameters; custom parameters take any
     * finite value */
    pacing_param p[2] = {{"hi", -1e300}, {"lo", 1e300}};
    assert_int_equal(add_rule(ctx, "badparams", NULL, p, 2), 0);
    pacing_param pn[1] = {{"hi", NAN}};
    expect_rule_fail(ctx, "badparams", NULL, pn, 1, PACING_E_NAN);
    pacing_param pu[1] = {{"mid", 0}};
    expect_rule_fail(ctx, "badparams", NULL, pu, 1, PACING_E_INVAL);
}

/* 10 built-in modules + 22 registered = 32: the 33rd is FULL. */
static void test_rule_register_full(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(1, 0);
    char names[23][8];
    for (int i = 0; i < 22; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        pacing_rule_module m = module_named(names[i]);
        int rc = pacing_rule_register(ctx, &m);
        if (rc != PACING_OK)
            fail_msg("register %s: %d", names[i], rc);
    }
    snprintf(names[22], sizeof names[22], "m22");
    pacing_rule_module m = module_named(names[22]);
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_FULL);
    /* EXISTS is reported before FULL for a taken name */
    m = module_named("m0");
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_E_EXISTS);
    /* the names were copied: the registered modules are usable */
    memset(names, 0, sizeof names);
    assert_int_equal(add_rule(ctx, "m21", NULL, NULL, 0), 0);
    expect_rule_fail(ctx, "m22", NULL, NULL, 0, PACING_E_NOTFOUND);
}

/* ------------------------------------------------------------------ */
/* min_gap                                                             */
/* ------------------------------------------------------------------ */

static void test_min_gap_boundary(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(7, 0);
    uint32_t pt = show_point(ctx, "pt");
    pacing_param p[1] = {{"gap_ms", 20000}};
    uint32_t gap = add_rule(ctx, "min_gap", NULL, p, 1);

    /* no exposure yet: allowed */
    pacing_decision d = ask(ctx, pt, "u", T0);
    expect_shown(&d);

    /* 19.999 s later: delayed until exactly 20 s after the last one */
    d = ask(ctx, pt, "u", T0 + 19999);
    expect_safe(&d, 1, gap, PACING_DELAY, T0 + 20000);
    assert_int_equal(d.n_vetoes, 1);
    assert_int_equal(d.vetoes[0].reason, 1);
    assert_true(d.vetoes[0].detail[0] == 20000.0);
    assert_true(d.vetoes[0].detail[1] == 19999.0);
    assert_int_equal(d.time_ms, T0 + 19999);
    const char *t = explain(ctx, &d);
    expect_in(t, "delayed pt");
    expect_in(t, "min_gap needs 20 s");

    /* 1 ms after the start too */
    d = ask(ctx, pt, "u", T0 + 1);
    expect_safe(&d, 1, gap, PACING_DELAY, T0 + 20000);
    assert_true(d.vetoes[0].detail[1] == 1.0);

    /* exactly 20 s: allowed, and it is the new last exposure */
    d = ask(ctx, pt, "u", T0 + 20000);
    expect_shown(&d);
    d = ask(ctx, pt, "u", T0 + 39999);
    expect_safe(&d, 1, gap, PACING_DELAY, T0 + 40000);
    d = ask(ctx, pt, "u", T0 + 40000);
    expect_shown(&d);

    /* another user is not affected */
    d = ask(ctx, pt, "v", T0 + 40001);
    expect_shown(&d);
}

/* A gap that is not a whole number of ms: the retry-after must be a time
 * at which asking again is allowed (not the same delay again). */
static void test_min_gap_fractional_retry(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(7, 0);
    uint32_t pt = show_point(ctx, "pt");
    pacing_param p[1] = {{"gap_ms", 20000.5}};
    add_rule(ctx, "min_gap", NULL, p, 1);
    pacing_decision d = ask(ctx, pt, "u", T0);
    expect_shown(&d);
    d = ask(ctx, pt, "u", T0 + 20000); /* 20000 < 20000.5: delayed */
    assert_true(d.reasons & PACING_DR_SAFE);
    int64_t retry = d.retry_after_ms;
    if (retry <= T0 + 20000)
        fail_msg("min_gap 20000.5 ms: retry_after %lld is not after now %lld "
                 "(lib/safety.c r_gap truncates the gap)",
                 (long long)retry, (long long)(T0 + 20000));
    d = ask(ctx, pt, "u", retry);
    expect_shown(&d);
}

/* Scopes: same_point, same_channel; pushed EXPOSURE events (point
 * unknown) count only for unscoped-by-point gaps. */
static void test_min_gap_scopes(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(7, 0);
    uint32_t a = show_point(ctx, "a");
    uint32_t b = show_point(ctx, "b");
    pacing_param pp[2] = {{"gap_ms", 10000}, {"same_point", 1}};
    uint32_t r_point = add_rule(ctx, "min_gap", "a", pp, 2);
    pacing_param pc[3] = {{"gap_ms", 10000}, {"same_point", 0}, {"same_channel", 1}};
    uint32_t r_chan = add_rule(ctx, "min_gap", "b", pc, 3);

    /* point a: only a's own exposures count */
    pacing_decision d = ask(ctx, b, "u", T0); /* b on WEB */
    expect_shown(&d);
    d = ask(ctx, a, "u", T0 + 1000);
    expect_shown(&d);
    d = ask(ctx, a, "u", T0 + 2000);
    expect_safe(&d, 1, r_point, PACING_DELAY, T0 + 11000);
    assert_true(d.vetoes[0].detail[1] == 1000.0);
    push_ev(ctx, "u", PACING_EV_EXPOSURE, T0 + 12000, 0, PACING_CH_WEB);
    d = ask(ctx, a, "u", T0 + 12500); /* the pushed exposure has no point */
    expect_shown(&d);

    /* point b: exposures of any point on the same channel count */
    d = ask_ch(ctx, b, "u", T0 + 13000, PACING_CH_WEB); /* a at 12500 on WEB */
    expect_safe(&d, 1, r_chan, PACING_DELAY, T0 + 22500);
    d = ask_ch(ctx, b, "u", T0 + 13000, PACING_CH_APP);
    expect_shown(&d);
    d = ask_ch(ctx, b, "u", T0 + 14000, PACING_CH_APP);
    expect_safe(&d, 1, r_chan, PACING_DELAY, T0 + 23000);
    push_ev(ctx, "u", PACING_EV_EXPOSURE, T0 + 15000, 0, PACING_CH_EMAIL);
    d = ask_ch(ctx, b, "u", T0 + 16000, PACING_CH_EMAIL);
    expect_safe(&d, 1, r_chan, PACING_DELAY, T0 + 25000);
    d = ask_ch(ctx, b, "u", T0 + 25000, PACING_CH_EMAIL);
    expect_shown(&d);

    /* unscoped: pushed exposures count */
    pacing_ctx *c2 = new_ctx(7, 0);
    uint32_t p2 = show_point(c2, "pt");
    pacing_param g[1] = {{"gap_ms", 5000}};
    uint32_t r2 = add_rule(c2, "min_gap", NULL, g, 1);
    push_ev(c2, "w", PACING_EV_EXPOSURE, T0, 0, PACING_CH_PUSH);
    d = ask(c2, p2, "w", T0 + 4999);
    expect_safe(&d, 1, r2, PACING_DELAY, T0 + 5000);
    d = ask(c2, p2, "w", T0 + 5000);
    expect_shown(&d);
}

/* ------------------------------------------------------------------ */
/* frequency_cap                                                       */
/* ------------------------------------------------------------------ */

static void test_frequency_cap_per_point(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(3, 0);
    uint32_t a = show_point(ctx, "a");
    uint32_t b = show_point(ctx, "b");
    /* 2 per minute per point (same_point defaults to 1) */
    pacing_param p[2] = {{"max", 2}, {"window_ms", 60000}};
    uint32_t cap = add_rule(ctx, "frequency_cap", NULL, p, 2);

    pacing_decision d = ask(ctx, a, "u", T0);
    expect_shown(&d);
    d = ask(ctx, a, "u", T0 + 1000);
    expect_shown(&d);
    d = ask(ctx, a, "u", T0 + 2000);
    /* two in (now - 60 s, now]: wait until the oldest leaves the window */
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 60000);
    assert_true(d.vetoes[0].detail[0] == 2.0); /* counted */
    assert_true(d.vetoes[0].detail[1] == 2.0); /* max */
    assert_int_equal(d.vetoes[0].reason, 1);
    expect_in(explain(ctx, &d), "frequency_cap allows 2 per 1 min here, 2 shown");

    /* point b has its own count */
    d = ask(ctx, b, "u", T0 + 3000);
    expect_shown(&d);
    d = ask(ctx, b, "u", T0 + 4000);
    expect_shown(&d);
    d = ask(ctx, b, "u", T0 + 5000);
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 63000);

    /* pushed exposures have no point: they do not count per point */
    push_ev(ctx, "v", PACING_EV_EXPOSURE, T0, 0, PACING_CH_WEB);
    push_ev(ctx, "v", PACING_EV_EXPOSURE, T0 + 1000, 0, PACING_CH_WEB);
    push_ev(ctx, "v", PACING_EV_EXPOSURE, T0 + 2000, 0, PACING_CH_WEB);
    d = ask(ctx, a, "v", T0 + 3000);
    expect_shown(&d);

    /* boundary: the window is (now - 60 s, now] */
    d = ask(ctx, a, "u", T0 + 59999);
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 60000);
    d = ask(ctx, a, "u", T0 + 60000); /* the one at T0 left */
    expect_shown(&d);
    d = ask(ctx, a, "u", T0 + 60001); /* 1000 and 60000 in the window */
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 61000);
}

static void test_frequency_cap_across_points(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(3, 0);
    uint32_t a = show_point(ctx, "a");
    uint32_t b = show_point(ctx, "b");
    pacing_param p[3] = {{"max", 2}, {"window_ms", 600000}, {"same_point", 0}};
    uint32_t cap = add_rule(ctx, "frequency_cap", NULL, p, 3);

    pacing_decision d = ask_ch(ctx, a, "u", T0, PACING_CH_WEB);
    expect_shown(&d);
    d = ask_ch(ctx, b, "u", T0 + 1000, PACING_CH_APP);
    expect_shown(&d);
    d = ask_ch(ctx, a, "u", T0 + 2000, PACING_CH_EMAIL);
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 600000);
    d = ask_ch(ctx, b, "u", T0 + 2000, PACING_CH_WEB);
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 600000);
    /* the explanation does not say "here" for a cap across points */
    const char *t = explain(ctx, &d);
    expect_in(t, "frequency_cap allows 2 per 10 min, 2 shown");
    d = ask_ch(ctx, b, "u", T0 + 600000, PACING_CH_WEB);
    expect_shown(&d);

    /* pushed exposures count across points */
    push_ev(ctx, "v", PACING_EV_EXPOSURE, T0, 0, PACING_CH_WEB);
    d = ask(ctx, a, "v", T0 + 1000);
    expect_shown(&d);
    d = ask(ctx, b, "v", T0 + 2000);
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 600000);
}

static void test_frequency_cap_per_channel(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(3, 0);
    uint32_t a = show_point(ctx, "a");
    uint32_t b = show_point(ctx, "b");
    /* 1 per 10 min per channel, any point */
    pacing_param p[4] = {{"max", 1}, {"window_ms", 600000}, {"same_point", 0},
                         {"same_channel", 1}};
    uint32_t cap = add_rule(ctx, "frequency_cap", NULL, p, 4);

    pacing_decision d = ask_ch(ctx, a, "u", T0, PACING_CH_WEB);
    expect_shown(&d);
    d = ask_ch(ctx, a, "u", T0 + 1000, PACING_CH_WEB);
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 600000);
    d = ask_ch(ctx, b, "u", T0 + 1000, PACING_CH_WEB);
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 600000);
    d = ask_ch(ctx, a, "u", T0 + 1000, PACING_CH_APP);
    expect_shown(&d);
    d = ask_ch(ctx, b, "u", T0 + 2000, PACING_CH_APP);
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 601000);
    /* custom channel numbers, and pushed exposures on a channel */
    d = ask_ch(ctx, b, "u", T0 + 2000, 200);
    expect_shown(&d);
    push_ev(ctx, "u", PACING_EV_EXPOSURE, T0 + 3000, 0, PACING_CH_EMAIL);
    d = ask_ch(ctx, a, "u", T0 + 4000, PACING_CH_EMAIL);
    expect_safe(&d, 1, cap, PACING_DELAY, T0 + 603000);
    d = ask_ch(ctx, a, "u", T0 + 4000, PACING_CH_PUSH);
    expect_shown(&d);
}

static void test_frequency_cap_across_channels(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(3, 0);
    uint32_t a = show_point(ctx, "a");
    uint32_t b = show_point(ctx, "b");
    /* point a: 1 per 10 min on this point, any channel (the default
     * same_channel 0); point b: 1 per 10 min on this point and channel */
    pacing_param pa[2] = {{"max", 1}, {"window_ms", 600000}};
    uint32_t ra = add_rule(ctx, "frequency_cap", "a", pa, 2);
    pacing_param pb[3] = {{"max", 1}, {"window_ms", 600000}, {"same_channel", 1}};
    uint32_t rb = add_rule(ctx, "frequency_cap", "b", pb, 3);

    pacing_decision d = ask_ch(ctx, a, "u", T0, PACING_CH_WEB);
    expect_shown(&d);
    d = ask_ch(ctx, a, "u", T0 + 1000, PACING_CH_APP);
    expect_safe(&d, 1, ra, PACING_DELAY, T0 + 600000);
    d = ask_ch(ctx, a, "u", T0 + 1000, PACING_CH_KIOSK);
    expect_safe(&d, 1, ra, PACING_DELAY, T0 + 600000);

    d = ask_ch(ctx, b, "u", T0 + 2000, PACING_CH_WEB); /* a's do not count */
    expect_shown(&d);
    d = ask_ch(ctx, b, "u", T0 + 3000, PACING_CH_APP); /* other channel */
    expect_shown(&d);
    d = ask_ch(ctx, b, "u", T0 + 4000, PACING_CH_WEB);
    expect_safe(&d, 1, rb, PACING_DELAY, T0 + 602000);
    d = ask_ch(ctx, b, "u", T0 + 4000, PACING_CH_APP);
    expect_safe(&d, 1, rb, PACING_DELAY, T0 + 603000);
}

/* A global cap over a standard window also counts exposures that left the
 * ring of 8, from the user's window counters. */
static void test_frequency_cap_beyond_ring(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(3, 0);
    uint32_t a = show_point(ctx, "a");
    pacing_param p[3] = {{"max", 10}, {"window_ms", 3600000}, {"same_point", 0}};
    uint32_t cap = add_rule(ctx, "frequency_cap", NULL, p, 3);
    int64_t t = T0; /* an hour boundary */
    for (int i = 0; i < 9; i++)
        push_ev(ctx, "u", PACING_EV_EXPOSURE, t + i * 1000, 0, PACING_CH_WEB);
    pacing_decision d = ask(ctx, a, "u", t + 9000); /* 9 < 10 */
    expect_shown(&d);
    d = ask(ctx, a, "u", t + 10000); /* 10: the ring holds only 8 */
    assert_true(d.reasons & PACING_DR_SAFE);
    assert_int_equal(d.vetoes[0].rule, cap);
    assert_true(d.vetoes[0].detail[0] == 10.0);
    assert_true(d.vetoes[0].detail[1] == 10.0);
    assert_true(d.retry_after_ms > t + 10000);
    assert_true(d.retry_after_ms <= t + 9000 + HOUR);
}

/* When the count comes from the window counters (more exposures than the
 * ring holds), the retry-after must still be the time the count drops
 * below max: here 10 exposures one minute apart against max 3 per hour,
 * so 8 must leave: the 8th oldest leaves at t + 7 min + 1 h. */
static void test_frequency_cap_retry_beyond_ring(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(3, 0);
    uint32_t a = show_point(ctx, "a");
    pacing_param p[3] = {{"max", 3}, {"window_ms", 3600000}, {"same_point", 0}};
    add_rule(ctx, "frequency_cap", NULL, p, 3);
    int64_t t = T0;
    for (int i = 0; i < 10; i++)
        push_ev(ctx, "u", PACING_EV_EXPOSURE, t + i * MIN, 0, PACING_CH_WEB);
    pacing_decision d = ask(ctx, a, "u", t + 10 * MIN);
    assert_true(d.reasons & PACING_DR_SAFE);
    assert_true(d.vetoes[0].detail[0] == 10.0);
    /* asking at t + 7 min + 1 h is allowed (2 in the window) ... */
    pacing_decision d2 = ask(ctx, a, "u", t + 7 * MIN + HOUR);
    expect_shown(&d2);
    /* ... so that is the earliest time worth asking again */
    if (d.retry_after_ms != t + 7 * MIN + HOUR)
        fail_msg("frequency_cap retry_after = t + %lld ms, expected t + %lld ms "
                 "(lib/safety.c r_cap indexes the ring with the excess over "
                 "the whole count)",
                 (long long)(d.retry_after_ms - t), (long long)(7 * MIN + HOUR));
}

/* ------------------------------------------------------------------ */
/* quiet_hours                                                         */
/* ------------------------------------------------------------------ */

#define HM(h, m) ((int64_t)((h) * 60 + (m)) * MIN)

typedef struct {
    int64_t utc;    /* time of day, ms after T0 (may exceed a day) */
    int32_t offset; /* minutes */
    int64_t retry;  /* 0: allowed; else the retry, ms after T0 */
} quiet_case;

static void run_quiet(pacing_ctx *ctx, uint32_t pt, uint32_t rule,
                      const quiet_case *c, size_t n, uint32_t verdict)
{
    static unsigned run; /* a fresh user per case and run: decisions may
                            not go back in a user's time */
    run++;
    for (size_t i = 0; i < n; i++) {
        char user[32];
        snprintf(user, sizeof user, "q%u_%zu", run, i);
        pacing_decision d = ask_full(ctx, pt, user, T0 + c[i].utc, 0,
                                     PACING_CH_WEB, c[i].offset);
        if (c[i].retry == 0) {
            if (d.reasons & PACING_DR_SAFE)
                fail_msg("case %zu (utc +%lld ms, offset %d): held back", i,
                         (long long)c[i].utc, c[i].offset);
            expect_shown(&d);
        } else {
            if (!(d.reasons & PACING_DR_SAFE))
                fail_msg("case %zu (utc +%lld ms, offset %d): shown", i,
                         (long long)c[i].utc, c[i].offset);
            expect_safe(&d, 1, rule, verdict,
                        verdict == PACING_DELAY ? T0 + c[i].retry : 0);
        }
    }
}

static void test_quiet_hours_utc(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(5, 0);
    uint32_t pt = show_point(ctx, "pt");
    /* the defaults: 22:00-07:00 local, delay */
    uint32_t q = add_rule(ctx, "quiet_hours", NULL, NULL, 0);
    const quiet_case c[] = {
        {HM(21, 59) + 59999, 0, 0},
        {HM(22, 0), 0, DAY + HM(7, 0)},
        {HM(23, 59) + 59999, 0, DAY + HM(7, 0)},
        {DAY + HM(0, 0), 0, DAY + HM(7, 0)},
        {HM(0, 30), 0, HM(7, 0)},
        {HM(6, 59) + 59999, 0, HM(7, 0)},
        {HM(7, 0), 0, 0},
        {HM(12, 0), 0, 0},
    };
    run_quiet(ctx, pt, q, c, sizeof c / sizeof c[0], PACING_DELAY);

    pacing_decision d = ask(ctx, pt, "x", T0 + HM(23, 30));
    assert_true(d.vetoes[0].detail[0] == 23 * 60 + 30); /* local minute */
    assert_true(d.vetoes[0].detail[1] == 420);          /* end minute */
    const char *t = explain(ctx, &d);
    expect_in(t, "delayed pt (skip)");
    expect_in(t, "quiet hours 22:00-07:00 (local time 23:30)");
}

static void test_quiet_hours_offsets(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(5, 0);
    uint32_t pt = show_point(ctx, "pt");
    uint32_t q = add_rule(ctx, "quiet_hours", NULL, NULL, 0);
    const quiet_case c[] = {
        /* UTC+2 */
        {HM(19, 59), 120, 0},
        {HM(20, 0), 120, DAY + HM(5, 0)},
        {HM(4, 59), 120, HM(5, 0)},
        {HM(5, 0), 120, 0},
        /* UTC-5 */
        {HM(2, 59), -300, 0},
        {HM(3, 0), -300, HM(12, 0)},
        {HM(11, 59) + 59999, -300, HM(12, 0)},
        {HM(12, 0), -300, 0},
        /* UTC-0:30 */
        {HM(22, 29), -30, 0},
        {HM(22, 30), -30, DAY + HM(7, 30)},
        /* local time on the next day: 23:30 UTC at UTC+1 is 00:30 */
        {HM(23, 30), 60, DAY + HM(6, 0)},
        /* local time on the previous day: 01:00 UTC at UTC-4 is 21:00 */
        {HM(1, 0), -240, 0},
        {HM(2, 0), -240, HM(11, 0)},
        /* +-1440 minutes: the same local time of day as UTC */
        {HM(22, 0), 1440, DAY + HM(7, 0)},
        {HM(21, 0), -1440, 0},
        {HM(3, 0), -1440, HM(7, 0)},
        /* UTC+14: 07:59 UTC is 21:59 local, 08:00 UTC is 22:00 local */
        {HM(7, 59), 840, 0},
        {HM(8, 0), 840, HM(17, 0)},
    };
    run_quiet(ctx, pt, q, c, sizeof c / sizeof c[0], PACING_DELAY);

    pacing_decision d = ask_full(ctx, pt, "y", T0 + HM(3, 0), 0, 0, -300);
    assert_true(d.vetoes[0].detail[0] == 22 * 60);
    expect_in(explain(ctx, &d), "(local time 22:00)");

    /* an offset out of [-1440, 1440] is rejected */
    pacing_decision e;
    assert_int_equal(decide_full(ctx, pt, "y", T0, 0, 0, 1441, 0, &e),
                     PACING_E_RANGE);
    assert_int_equal(decide_full(ctx, pt, "y", T0, 0, 0, -1441, 0, &e),
                     PACING_E_RANGE);
}

static void test_quiet_hours_veto_and_windows(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(5, 0);
    uint32_t a = show_point(ctx, "a");
    uint32_t b = show_point(ctx, "b");
    uint32_t c = show_point(ctx, "c");
    /* a: 13:00-14:00, veto (delay 0) */
    pacing_param pa[3] = {{"start_min", 780}, {"end_min", 840}, {"delay", 0}};
    uint32_t ra = add_rule(ctx, "quiet_hours", "a", pa, 3);
    /* b: start == end: an empty window, never quiet */
    pacing_param pb[2] = {{"start_min", 600}, {"end_min", 600}};
    add_rule(ctx, "quiet_hours", "b", pb, 2);
    /* c: 23:00-01:00 across midnight, delay */
    pacing_param pc[2] = {{"start_min", 1380}, {"end_min", 60}};
    uint32_t rc_ = add_rule(ctx, "quiet_hours", "c", pc, 2);

    const quiet_case ca[] = {
        {HM(12, 59) + 59999, 0, 0},
        {HM(13, 0), 0, 1},
        {HM(13, 59) + 59999, 0, 1},
        {HM(14, 0), 0, 0},
        {HM(11, 0), 120, 1}, /* local 13:00 */
    };
    run_quiet(ctx, a, ra, ca, sizeof ca / sizeof ca[0], PACING_VETO);
    pacing_decision d = ask(ctx, a, "z", T0 + HM(13, 5));
    assert_int_equal(d.retry_after_ms, 0);
    assert_true(d.vetoes[0].detail[0] == 785);
    assert_true(d.vetoes[0].detail[1] == 840);
    const char *t = explain(ctx, &d);
    expect_in(t, "held back a (skip)");
    expect_in(t, "quiet hours 13:00-14:00 (local time 13:05)");

    for (int h = 0; h < 24; h++) {
        char user[16];
        snprintf(user, sizeof user, "b%d", h);
        d = ask(ctx, b, user, T0 + HM(h, 0));
        expect_shown(&d);
    }

    const quiet_case cc[] = {
        {HM(22, 59), 0, 0},
        {HM(23, 0), 0, DAY + HM(1, 0)},
        {HM(0, 59), 0, HM(1, 0)},
        {HM(1, 0), 0, 0},
        /* local 23:30 at UTC+1:30: quiet until local 01:00 = 23:30 UTC */
        {HM(22, 0), 90, HM(23, 30)},
    };
    run_quiet(ctx, c, rc_, cc, sizeof cc / sizeof cc[0], PACING_DELAY);
}

/* ------------------------------------------------------------------ */
/* Ceilings                                                            */
/* ------------------------------------------------------------------ */

/* The same history for every user in names[]. */
static void tired_history(pacing_ctx *ctx, const char *user, int64_t t)
{
    push_ev(ctx, user, PACING_EV_SESSION_START, t, 0, 0);
    for (int i = 0; i < 6; i++) {
        push_ev(ctx, user, PACING_EV_EXPOSURE, t + 1000 + i * 2000, 0, 0);
        push_ev(ctx, user, PACING_EV_DISMISS, t + 2000 + i * 2000, 0, 0);
        push_ev(ctx, user, PACING_EV_UNDO, t + 2500 + i * 2000, 0, 0);
        push_ev(ctx, user, PACING_EV_TAB_HIDDEN, t + 2600 + i * 2000, 0, 0);
        push_ev(ctx, user, PACING_EV_MEDIA_PAUSE, t + 2700 + i * 2000, 0, 0);
        push_ev(ctx, user, PACING_EV_RAGE_CLICK, t + 2800 + i * 2000, 0, 0);
    }
}

typedef enum { C_FATIGUE, C_LOAD, C_DROPOFF } ceiling_kind;

static double score_of(const pacing_scores *s, ceiling_kind k)
{
    return k == C_FATIGUE ? s->fatigue
         : k == C_LOAD ? s->cognitive_load : s->drop_off_risk;
}

static double decision_score(const pacing_decision *d, ceiling_kind k)
{
    return k == C_FATIGUE ? d->fatigue
         : k == C_LOAD ? d->cognitive_load : d->drop_off_risk;
}

/* Three points: "at" with max = the user's score (allowed: the ceiling is
 * inclusive), "below" with max just below (veto), "delayed" with max just
 * below and delay_ms 5000 (delay until now + 5 s). Each is asked for a
 * different user with the same history, so the scores are equal. */
static void run_ceiling(const char *module, ceiling_kind kind,
                        const char *phrase)
{
    pacing_ctx *ctx = new_ctx(11, 0);
    uint32_t p_at = show_point(ctx, "at");
    uint32_t p_below = show_point(ctx, "below");
    uint32_t p_delay = show_point(ctx, "delayed");
    uint32_t p_fresh = show_point(ctx, "fresh");
    if (kind == C_DROPOFF) {
        /* other users' sessions give the hazard model a baseline */
        for (int i = 0; i < 30; i++) {
            char o[16];
            snprintf(o, sizeof o, "other%d", i);
            /* a third end within 10 s, a third at 35 s, a third at
             * 200 s; they are seen every 10 s */
            int64_t s0 = T0 - 3 * HOUR + i * 300000;
            int64_t len = i % 3 == 0 ? 3000 : i % 3 == 1 ? 35000 : 200000;
            push_ev(ctx, o, PACING_EV_SESSION_START, s0, 0, 0);
            for (int64_t k = 10000; k < len; k += 10000)
                push_ev(ctx, o, PACING_EV_CLICK, s0 + k, 100, 0);
            push_ev(ctx, o, PACING_EV_SESSION_END, s0 + len, 0, 0);
        }
    }
    const char *users[3] = {"u_at", "u_below", "u_delay"};
    for (int i = 0; i < 3; i++)
        tired_history(ctx, users[i], T0);
    int64_t now = T0 + 14000;
    pacing_scores s = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "u_at", 4, now, &s), PACING_OK);
    double v = score_of(&s, kind);
    if (!(v > 0.01 && v < 1.0))
        fail_msg("%s: score %g, the history should give a score in (0.01, 1)",
                 module, v);
    for (int i = 1; i < 3; i++) {
        pacing_scores s2 = PACING_SCORES_INIT;
        assert_int_equal(pacing_scores_get(ctx, users[i], strlen(users[i]), now, &s2),
                         PACING_OK);
        assert_true(score_of(&s2, kind) == v);
    }

    pacing_param p_eq[1] = {{"max", v}};
    add_rule(ctx, module, "at", p_eq, 1);
    double below = v - 1e-9;
    pacing_param p_lt[1] = {{"max", below}};
    uint32_t r_below = add_rule(ctx, module, "below", p_lt, 1);
    pacing_param p_dl[2] = {{"max", below}, {"delay_ms", 5000}};
    uint32_t r_delay = add_rule(ctx, module, "delayed", p_dl, 2);
    pacing_param p_zero[1] = {{"max", 0}};
    add_rule(ctx, module, "fresh", p_zero, 1);

    pacing_decision d = ask(ctx, p_below, "u_below", now);
    expect_safe(&d, 1, r_below, PACING_VETO, 0);
    assert_true(decision_score(&d, kind) == v);
    assert_true(d.vetoes[0].detail[0] == v);
    assert_true(d.vetoes[0].detail[1] == below);
    const char *t = explain(ctx, &d);
    expect_in(t, "held back below (skip)");
    char want[96];
    snprintf(want, sizeof want, "%s %.2f above %.2f", phrase, v, below);
    expect_in(t, want);

    d = ask(ctx, p_delay, "u_delay", now);
    expect_safe(&d, 1, r_delay, PACING_DELAY, now + 5000);
    expect_in(explain(ctx, &d), "delayed delayed (skip)");

    d = ask(ctx, p_at, "u_at", now); /* value == max: allowed */
    expect_shown(&d);
    assert_true(decision_score(&d, kind) == v);

    /* a new user has scores of 0: allowed even by a ceiling of 0 */
    d = ask(ctx, p_fresh, "newcomer", now);
    expect_shown(&d);
    assert_true(d.reasons & PACING_DR_NO_USER);
}

static void test_fatigue_ceiling(void **state)
{
    (void)state;
    run_ceiling("fatigue_ceiling", C_FATIGUE, "fatigue");
}

static void test_load_ceiling(void **state)
{
    (void)state;
    run_ceiling("load_ceiling", C_LOAD, "cognitive load");
}

static void test_dropoff_ceiling(void **state)
{
    (void)state;
    run_ceiling("dropoff_ceiling", C_DROPOFF, "drop-off risk");
}

/* The defaults: fatigue_ceiling max 0.7, delay_ms 0 (a veto). Fatigue is
 * made to depend on dismissals only (weights), so 5 dismissals for 1
 * exposure give fatigue 1. */
static void test_ceiling_defaults(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(11, 0);
    uint32_t pt = show_point(ctx, "pt");
    for (int i = 0; i < PACING_INPUT_COUNT; i++)
        if (i != PACING_IN_DISMISSALS)
            pacing_weight_set(ctx, PACING_SCORE_FATIGUE, i, 0.0);
    uint32_t r = add_rule(ctx, "fatigue_ceiling", NULL, NULL, 0);
    push_ev(ctx, "u", PACING_EV_EXPOSURE, T0, 0, 0);
    for (int i = 1; i <= 5; i++)
        push_ev(ctx, "u", PACING_EV_DISMISS, T0 + i * 100, 0, 0);
    pacing_decision d = ask(ctx, pt, "u", T0 + 1000);
    expect_safe(&d, 1, r, PACING_VETO, 0);
    assert_true(d.fatigue == 1.0);
    assert_true(d.vetoes[0].detail[1] == 0.7);
    const char *t = explain(ctx, &d);
    expect_in(t, "held back pt (skip): fatigue 1.00 above 0.70; fatigue 1.00 "
                 "(dismissals 100%)");
    /* 1 dismissal for 1 exposure: fatigue 0.5, allowed */
    push_ev(ctx, "v", PACING_EV_EXPOSURE, T0, 0, 0);
    push_ev(ctx, "v", PACING_EV_DISMISS, T0 + 100, 0, 0);
    d = ask(ctx, pt, "v", T0 + 100);
    expect_shown(&d);
    assert_near(d.fatigue, 0.5, 1e-3); /* decay between the two events */
}

/* ------------------------------------------------------------------ */
/* session_budget                                                      */
/* ------------------------------------------------------------------ */

static void test_session_budget(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(13, 0);
    uint32_t pt = show_point(ctx, "pt");
    pacing_param p[1] = {{"max", 2}};
    uint32_t r = add_rule(ctx, "session_budget", NULL, p, 1);

    push_ev(ctx, "u", PACING_EV_SESSION_START, T0, 0, 0);
    pacing_decision d = ask(ctx, pt, "u", T0 + 1000);
    expect_shown(&d);
    d = ask(ctx, pt, "u", T0 + 2000);
    expect_shown(&d);
    d = ask(ctx, pt, "u", T0 + 3000);
    expect_safe(&d, 1, r, PACING_VETO, 0); /* a veto, no retry */
    assert_true(d.vetoes[0].detail[0] == 2.0); /* shown this session */
    assert_true(d.vetoes[0].detail[1] == 2.0); /* max */
    const char *t = explain(ctx, &d);
    expect_in(t, "held back pt (skip)");
    expect_in(t, "session budget of 2 prompts used (2 shown)");
    d = ask(ctx, pt, "u", T0 + 3 * HOUR);
    expect_safe(&d, 1, r, PACING_VETO, 0); /* time alone does not reset it */

    /* a new session resets the budget */
    push_ev(ctx, "u", PACING_EV_SESSION_START, T0 + 3 * HOUR + 1000, 0, 0);
    d = ask(ctx, pt, "u", T0 + 3 * HOUR + 2000);
    expect_shown(&d);
    /* pushed exposures count towards it too */
    push_ev(ctx, "u", PACING_EV_EXPOSURE, T0 + 3 * HOUR + 3000, 0, 0);
    d = ask(ctx, pt, "u", T0 + 3 * HOUR + 4000);
    expect_safe(&d, 1, r, PACING_VETO, 0);

    /* a user without an open session (state created by decide only) */
    for (int i = 0; i < 4; i++) {
        d = ask(ctx, pt, "nosession", T0 + i * 1000);
        expect_shown(&d);
    }

    /* max 0: nothing in a session */
    pacing_ctx *c2 = new_ctx(13, 0);
    uint32_t p2 = show_point(c2, "pt");
    pacing_param z[1] = {{"max", 0}};
    uint32_t r2 = add_rule(c2, "session_budget", NULL, z, 1);
    push_ev(c2, "w", PACING_EV_SESSION_START, T0, 0, 0);
    d = ask(c2, p2, "w", T0);
    expect_safe(&d, 1, r2, PACING_VETO, 0);
}

/* ------------------------------------------------------------------ */
/* sensitive_state                                                     */
/* ------------------------------------------------------------------ */

static void test_sensitive_after_error(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(17, 0);
    uint32_t pt = show_point(ctx, "pt");
    uint32_t r = add_rule(ctx, "sensitive_state", NULL, NULL, 0); /* 30 s */

    push_ev(ctx, "u", PACING_EV_ERROR, T0, 0, 0);
    pacing_decision d = ask(ctx, pt, "u", T0);
    expect_safe(&d, 1, r, PACING_DELAY, T0 + 30000);
    assert_int_equal(d.vetoes[0].reason, 1);
    assert_true(d.vetoes[0].detail[0] == 30000.0);
    assert_true(d.vetoes[0].detail[1] == 0.0);
    d = ask(ctx, pt, "u", T0 + 12300);
    expect_safe(&d, 1, r, PACING_DELAY, T0 + 30000);
    assert_true(d.vetoes[0].detail[1] == 12300.0);
    const char *t = explain(ctx, &d);
    expect_in(t, "delayed pt (skip)");
    expect_in(t, "sensitive moment: an error 12.3 s ago");
    d = ask(ctx, pt, "u", T0 + 29999);
    expect_safe(&d, 1, r, PACING_DELAY, T0 + 30000);
    d = ask(ctx, pt, "u", T0 + 30000);
    expect_shown(&d);

    /* a later error starts over; an earlier (late-arriving) one does not
     * move the time back */
    push_ev(ctx, "u", PACING_EV_ERROR, T0 + 40000, 0, 0);
    push_ev(ctx, "u", PACING_EV_ERROR, T0 + 35000, 0, 0);
    d = ask(ctx, pt, "u", T0 + 69999);
    expect_safe(&d, 1, r, PACING_DELAY, T0 + 70000);
    d = ask(ctx, pt, "u", T0 + 70000);
    expect_shown(&d);

    /* after_error_ms 0: errors do not matter */
    pacing_ctx *c2 = new_ctx(17, 0);
    uint32_t p2 = show_point(c2, "pt");
    pacing_param z[1] = {{"after_error_ms", 0}};
    add_rule(c2, "sensitive_state", NULL, z, 1);
    push_ev(c2, "u", PACING_EV_ERROR, T0, 0, 0);
    d = ask(c2, p2, "u", T0);
    expect_shown(&d);
}

static void test_sensitive_form(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(17, 0);
    uint32_t pt = show_point(ctx, "pt");
    pacing_param p[1] = {{"form_ms", 120000}};
    uint32_t r = add_rule(ctx, "sensitive_state", NULL, p, 1);

    /* form started, then submitted */
    push_ev(ctx, "u", PACING_EV_FORM_START, T0, 0, 0);
    pacing_decision d = ask(ctx, pt, "u", T0 + 1000);
    expect_safe(&d, 1, r, PACING_DELAY, T0 + 120000);
    assert_int_equal(d.vetoes[0].reason, 2);
    assert_true(d.vetoes[0].detail[0] == 120000.0);
    assert_true(d.vetoes[0].detail[1] == 1000.0);
    expect_in(explain(ctx, &d), "sensitive moment: a form in progress for 1 s");
    push_ev(ctx, "u", PACING_EV_FORM_SUBMIT, T0 + 5000, 0, 0);
    d = ask(ctx, pt, "u", T0 + 5000);
    expect_shown(&d);

    /* form started, then abandoned */
    push_ev(ctx, "u", PACING_EV_FORM_START, T0 + 10000, 0, 0);
    d = ask(ctx, pt, "u", T0 + 11000);
    expect_safe(&d, 1, r, PACING_DELAY, T0 + 130000);
    push_ev(ctx, "u", PACING_EV_FORM_ABANDON, T0 + 12000, 0, 0);
    d = ask(ctx, pt, "u", T0 + 12000);
    expect_shown(&d);

    /* a form never finished: blocked for form_ms only */
    push_ev(ctx, "u", PACING_EV_FORM_START, T0 + 20000, 0, 0);
    d = ask(ctx, pt, "u", T0 + 20000 + 119999);
    expect_safe(&d, 1, r, PACING_DELAY, T0 + 140000);
    d = ask(ctx, pt, "u", T0 + 140000);
    expect_shown(&d);

    /* an error inside a form: the error is reported (reason 1) */
    pacing_ctx *c2 = new_ctx(17, 0);
    uint32_t p2 = show_point(c2, "pt");
    uint32_t r2 = add_rule(c2, "sensitive_state", NULL, NULL, 0);
    push_ev(c2, "w", PACING_EV_FORM_START, T0, 0, 0);
    push_ev(c2, "w", PACING_EV_ERROR, T0 + 1000, 0, 0);
    d = ask(c2, p2, "w", T0 + 2000);
    expect_safe(&d, 1, r2, PACING_DELAY, T0 + 31000);
    assert_int_equal(d.vetoes[0].reason, 1);
    d = ask(c2, p2, "w", T0 + 31000); /* then the form (default 10 min) */
    expect_safe(&d, 1, r2, PACING_DELAY, T0 + 600000);
    assert_int_equal(d.vetoes[0].reason, 2);
    /* form_ms 0: forms do not matter */
    pacing_ctx *c3 = new_ctx(17, 0);
    uint32_t p3 = show_point(c3, "pt");
    pacing_param z[1] = {{"form_ms", 0}};
    add_rule(c3, "sensitive_state", NULL, z, 1);
    push_ev(c3, "w", PACING_EV_FORM_START, T0, 0, 0);
    d = ask(c3, p3, "w", T0 + 1);
    expect_shown(&d);
}

/* ------------------------------------------------------------------ */
/* consent and opt_out                                                 */
/* ------------------------------------------------------------------ */

static void test_consent_rule(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(19, 0);
    uint32_t pt = show_point(ctx, "pt");
    uint32_t r = add_rule(ctx, "consent", NULL, NULL, 0);

    pacing_decision d = ask_full(ctx, pt, "u", T0, 0, 0, 0);
    expect_safe(&d, 1, r, PACING_VETO, 0);
    const char *t = explain(ctx, &d);
    expect_in(t, "held back pt (skip): no consent");
    d = ask_full(ctx, pt, "u", T0, PACING_REQ_NO_CONSENT, 0, 0);
    expect_safe(&d, 1, r, PACING_VETO, 0);
    assert_true(d.reasons & PACING_DR_NO_USER);
    expect_in(explain(ctx, &d), "no personal data used");
    d = ask_full(ctx, pt, "u", T0, PACING_REQ_CONSENT, 0, 0);
    expect_shown(&d);
    /* the consent rule is about the request, not about stored state */
    d = ask_full(ctx, pt, "u", T0 + HOUR, PACING_REQ_OPTED_OUT, 0, 0);
    expect_safe(&d, 1, r, PACING_VETO, 0);
}

static void test_opt_out_rule(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(19, 0);
    uint32_t pt = show_point(ctx, "pt");
    uint32_t r = add_rule(ctx, "opt_out", NULL, NULL, 0);

    pacing_decision d = ask_full(ctx, pt, "u", T0, PACING_REQ_OPTED_OUT, 0, 0);
    expect_safe(&d, 1, r, PACING_VETO, 0);
    assert_true(d.reasons & PACING_DR_NO_USER);
    const char *t = explain(ctx, &d);
    expect_in(t, "held back pt (skip): the user opted out");
    assert_int_equal(users_held(ctx), 1); /* the trainer only */

    d = ask_full(ctx, pt, "u", T0, 0, 0, 0);
    expect_shown(&d);
    d = ask_full(ctx, pt, "v", T0, PACING_REQ_CONSENT, 0, 0);
    expect_shown(&d);
    d = ask_full(ctx, pt, "w", T0, PACING_REQ_NO_CONSENT, 0, 0);
    expect_shown(&d); /* no consent is not an opt-out */
}

/* ------------------------------------------------------------------ */
/* Order, combination, scopes                                          */
/* ------------------------------------------------------------------ */

/* Rules run in the order added, per showing action, until the first veto;
 * quiet actions are never checked. */
static void test_rule_order_first_veto_stops(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(23, 0);
    int before[4] = {0}, after[4] = {0};
    register_counter(ctx, "before", before);
    register_counter(ctx, "after", after);
    register_by_action(ctx);
    uint32_t pt = add_point_eps(ctx, "pt", SA_SB_SKIP, 3, 4, 2, 0.0);
    const double r[3] = {1.0, 0.9, 0.0};
    train(ctx, pt, 3, r);

    add_rule(ctx, "before", NULL, NULL, 0);
    /* show_a: veto (reason 3); show_b: delay 4 s */
    pacing_param p[2] = {{"a0", -3}, {"a1", 4000}};
    uint32_t rb = add_rule(ctx, "by_action", NULL, p, 2);
    add_rule(ctx, "after", NULL, NULL, 0);

    pacing_decision d = ask(ctx, pt, "u", T0);
    assert_true(d.reasons & PACING_DR_SAFE);
    assert_int_equal(d.action, 2);
    /* before ran for both showing actions, after only for the delayed one */
    assert_int_equal(before[0], 1);
    assert_int_equal(before[1], 1);
    assert_int_equal(before[2], 0); /* quiet: never checked */
    assert_int_equal(after[0], 0);
    assert_int_equal(after[1], 1);
    assert_int_equal(after[2], 0);
    /* the verdicts, in order of action then rule */
    assert_int_equal(d.n_vetoes, 2);
    assert_int_equal(d.vetoes[0].rule, rb);
    assert_int_equal(d.vetoes[0].action, 0);
    assert_int_equal(d.vetoes[0].verdict, PACING_VETO);
    assert_int_equal(d.vetoes[0].reason, 3);
    assert_int_equal(d.vetoes[0].retry_after_ms, 0);
    assert_int_equal(d.vetoes[1].rule, rb);
    assert_int_equal(d.vetoes[1].action, 1);
    assert_int_equal(d.vetoes[1].verdict, PACING_DELAY);
    assert_int_equal(d.vetoes[1].reason, 7);
    assert_int_equal(d.vetoes[1].retry_after_ms, T0 + 4000);
    assert_true(d.vetoes[1].detail[0] == 1.0);
    assert_true(d.vetoes[1].detail[1] == 4000.0);
    /* the retry is the delayed action's */
    assert_int_equal(d.retry_after_ms, T0 + 4000);
    const char *t = explain(ctx, &d);
    expect_in(t, "delayed pt (skip)");
    expect_in(t, "by_action says no for action 0");
    /* the same rule and reason once: the delay has another reason */
    expect_in(t, "by_action says wait for action 1");
}

/* Delays of one action: the latest retry; of the decision: the earliest
 * among the actions that were only delayed. */
static void test_delays_combine(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(23, 0);
    register_by_action(ctx);
    uint32_t pt = add_point_eps(ctx, "pt", SA_SB_SKIP, 3, 4, 2, 0.0);
    const double r[3] = {1.0, 0.9, 0.0};
    train(ctx, pt, 3, r);
    pacing_param p1[2] = {{"a0", 5000}, {"a1", 9000}};
    uint32_t r1 = add_rule(ctx, "by_action", NULL, p1, 2);
    pacing_param p2[1] = {{"a0", 7000}};
    uint32_t r2 = add_rule(ctx, "by_action", NULL, p2, 1);

    pacing_decision d = ask(ctx, pt, "u", T0);
    assert_true(d.reasons & PACING_DR_SAFE);
    assert_int_equal(d.n_vetoes, 3);
    assert_int_equal(d.vetoes[0].rule, r1);
    assert_int_equal(d.vetoes[0].action, 0);
    assert_int_equal(d.vetoes[0].retry_after_ms, T0 + 5000);
    assert_int_equal(d.vetoes[1].rule, r2);
    assert_int_equal(d.vetoes[1].action, 0);
    assert_int_equal(d.vetoes[1].retry_after_ms, T0 + 7000);
    assert_int_equal(d.vetoes[2].rule, r1);
    assert_int_equal(d.vetoes[2].action, 1);
    assert_int_equal(d.vetoes[2].retry_after_ms, T0 + 9000);
    /* show_a may show from T0 + 7 s (both its delays over), show_b from
     * T0 + 9 s: the decision says the earliest, T0 + 7 s */
    assert_int_equal(d.retry_after_ms, T0 + 7000);

    /* a veto after a delay: the action is vetoed, its delay is no retry */
    pacing_ctx *c2 = new_ctx(23, 0);
    register_by_action(c2);
    uint32_t p = add_point_eps(c2, "pt", SA_SB_SKIP, 3, 4, 2, 0.0);
    train(c2, p, 3, r);
    pacing_param q1[2] = {{"a0", 5000}, {"a1", 9000}};
    add_rule(c2, "by_action", NULL, q1, 2);
    pacing_param q2[1] = {{"a0", -1}};
    add_rule(c2, "by_action", NULL, q2, 1);
    d = ask(c2, p, "u", T0);
    assert_true(d.reasons & PACING_DR_SAFE);
    assert_int_equal(d.n_vetoes, 3);
    assert_int_equal(d.vetoes[1].verdict, PACING_VETO);
    assert_int_equal(d.retry_after_ms, T0 + 9000);

    /* only vetoes: no retry */
    pacing_ctx *c3 = new_ctx(23, 0);
    register_by_action(c3);
    p = add_point_eps(c3, "pt", SA_SB_SKIP, 3, 4, 2, 0.0);
    train(c3, p, 3, r);
    pacing_param q3[2] = {{"a0", -1}, {"a1", -2}};
    add_rule(c3, "by_action", NULL, q3, 2);
    d = ask(c3, p, "u", T0);
    assert_true(d.reasons & PACING_DR_SAFE);
    assert_int_equal(d.retry_after_ms, 0);
    expect_in(explain(c3, &d), "held back pt (skip)");
}

/* Only one of two showing actions vetoed: the policy picks among the rest
 * and the decision says what was vetoed. */
static void test_partial_veto(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(23, 0);
    register_by_action(ctx);
    uint32_t pt = add_point_eps(ctx, "pt", SA_SB_SKIP, 3, 4, 2, 0.0);
    const double r[3] = {1.0, 0.9, 0.0};
    train(ctx, pt, 3, r);
    pacing_param p[1] = {{"a0", 3000}};
    uint32_t rid = add_rule(ctx, "by_action", NULL, p, 1);
    pacing_decision d = ask(ctx, pt, "u", T0);
    assert_int_equal(d.reasons & PACING_DR_SAFE, 0);
    assert_true(d.reasons & PACING_DR_VETOED);
    assert_int_equal(d.action, 1); /* show_b, the best allowed */
    assert_true(d.propensity == 1.0);
    assert_true(d.id != 0);
    assert_int_equal(d.n_vetoes, 1);
    assert_int_equal(d.vetoes[0].rule, rid);
    assert_int_equal(d.vetoes[0].action, 0);
    assert_int_equal(d.retry_after_ms, 0); /* not a safe decision */
    const char *t = explain(ctx, &d);
    expect_in(t, "pt: show_b (best estimate, p=1.00)");
    expect_in(t, "by_action says wait for action 0 (not show_a)");
}

/* One rule against several actions for the same reason is told once. */
static void test_explain_each_veto_once(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(23, 0);
    uint32_t pt = add_point_eps(ctx, "pt", SA_SB_SKIP, 3, 4, 2, 0.0);
    const double r[3] = {1.0, 0.9, 0.0};
    train(ctx, pt, 3, r);
    uint32_t rc = add_rule(ctx, "consent", NULL, NULL, 0);
    pacing_decision d = ask(ctx, pt, "u", T0);
    expect_safe(&d, 2, rc, PACING_VETO, 0);
    assert_int_equal(d.n_vetoes, 2);
    assert_int_equal(d.vetoes[1].action, 1);
    const char *t = explain(ctx, &d);
    const char *first = strstr(t, "no consent");
    assert_non_null(first);
    assert_null(strstr(first + 1, "no consent"));
}

/* A rule for one point does not touch another; a global one does. */
static void test_point_scope(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(29, 0);
    int calls_a[4] = {0}, calls_all[4] = {0};
    register_counter(ctx, "count_a", calls_a);
    register_counter(ctx, "count_all", calls_all);
    uint32_t a = show_point(ctx, "a");
    uint32_t b = show_point(ctx, "b");
    add_rule(ctx, "count_a", "a", NULL, 0);
    add_rule(ctx, "count_all", NULL, NULL, 0);
    pacing_param g[1] = {{"gap_ms", 60000}};
    uint32_t gap_b = add_rule(ctx, "min_gap", "b", g, 1);

    pacing_decision d = ask(ctx, b, "u", T0);
    expect_shown(&d);
    d = ask(ctx, a, "u", T0 + 1000); /* the gap is b's only */
    expect_shown(&d);
    d = ask(ctx, b, "u", T0 + 2000);
    expect_safe(&d, 1, gap_b, PACING_DELAY, T0 + 61000);
    assert_int_equal(calls_a[0], 1);
    assert_int_equal(calls_all[0], 3);
}

/* More verdicts than vetoes[] holds: 4 kept, the flag set. */
static void test_more_vetoes(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(31, 0);
    register_by_action(ctx);
    uint32_t pt = show_point(ctx, "pt");
    for (int i = 0; i < 5; i++) {
        pacing_param p[1] = {{"a0", 1000.0 * (i + 1)}};
        assert_int_equal(add_rule(ctx, "by_action", NULL, p, 1), (uint32_t)i);
    }
    pacing_decision d = ask(ctx, pt, "u", T0);
    assert_true(d.reasons & PACING_DR_SAFE);
    assert_true(d.reasons & PACING_DR_MORE_VETOES);
    assert_int_equal(d.n_vetoes, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(d.vetoes[i].rule, i);
    /* all five delays count for the retry, also the one not kept */
    assert_int_equal(d.retry_after_ms, T0 + 5000);
    expect_in(explain(ctx, &d), "; more rules objected");

    /* four: no flag */
    pacing_ctx *c2 = new_ctx(31, 0);
    register_by_action(c2);
    pt = show_point(c2, "pt");
    for (int i = 0; i < 4; i++) {
        pacing_param p[1] = {{"a0", 1000.0}};
        add_rule(c2, "by_action", NULL, p, 1);
    }
    d = ask(c2, pt, "u", T0);
    assert_int_equal(d.n_vetoes, 4);
    assert_int_equal(d.reasons & PACING_DR_MORE_VETOES, 0);
}

/* ------------------------------------------------------------------ */
/* Custom rules                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
    pacing_rule_view v;
    char point_name[32], action_name[32];
    double params[2];
    size_t result_size;
    uint32_t result_verdict;
} spy_call;

typedef struct {
    int n;
    spy_call calls[8];
    /* what to answer */
    uint32_t verdict;
    int ret;
} spy;

static const char *const SPY_PARAMS[] = {"limit", "mode"};
static const double SPY_DEFAULTS[] = {5, 0};

static int spy_check(void *o, const double *p, const pacing_rule_view *v,
                     pacing_rule_result *r)
{
    spy *s = o;
    if (s->n < 8) {
        spy_call *c = &s->calls[s->n];
        c->v = *v;
        snprintf(c->point_name, sizeof c->point_name, "%s",
                 v->point_name ? v->point_name : "(null)");
        snprintf(c->action_name, sizeof c->action_name, "%s",
                 v->action_name ? v->action_name : "(null)");
        c->params[0] = p[0];
        c->params[1] = p[1];
        c->result_size = r->size;
        c->result_verdict = r->verdict;
    }
    s->n++;
    r->verdict = s->verdict;
    r->reason = 42;
    r->retry_after_ms = v->now_ms + 1000;
    return s->ret;
}

static void register_spy(pacing_ctx *ctx, spy *s)
{
    pacing_rule_module m = {
        .size = sizeof(pacing_rule_module),
        .name = "spy",
        .param_names = SPY_PARAMS,
        .param_defaults = SPY_DEFAULTS,
        .n_params = 2,
        .check = spy_check,
        .explain = NULL, /* the library words it */
        .opaque = s,
    };
    assert_int_equal(pacing_rule_register(ctx, &m), PACING_OK);
}

static void test_custom_rule_view(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(37, 0);
    spy s;
    memset(&s, 0, sizeof s);
    register_spy(ctx, &s);
    uint32_t a = add_point_eps(ctx, "alpha", SA_SB_SKIP, 3, 4, 2, 0.0);
    const double r[3] = {1.0, 0.9, 0.0};
    train(ctx, a, 3, r);
    uint32_t b = show_point(ctx, "beta");
    pacing_param p[1] = {{"mode", 2.5}};
    add_rule(ctx, "spy", "alpha", p, 1);

    /* history */
    push_ev(ctx, "u", PACING_EV_SESSION_START, T0, 0, PACING_CH_WEB);
    push_ev(ctx, "u", PACING_EV_INPUT_LATENCY, T0 + 100, 300, PACING_CH_WEB);
    push_ev(ctx, "u", PACING_EV_DWELL, T0 + 200, 5000, PACING_CH_WEB);
    push_ev(ctx, "u", PACING_EV_TAB_HIDDEN, T0 + 300, 0, PACING_CH_WEB);
    push_ev(ctx, "u", PACING_EV_ERROR, T0 + 1000, 0, PACING_CH_WEB);
    push_ev(ctx, "u", PACING_EV_FORM_START, T0 + 2000, 0, PACING_CH_WEB);
    push_ev(ctx, "u", PACING_EV_EXPOSURE, T0 + 3000, 0, PACING_CH_APP);
    push_ev(ctx, "u", PACING_EV_DISMISS, T0 + 3500, 0, PACING_CH_APP);
    pacing_decision d = ask_ch(ctx, b, "u", T0 + 4000, PACING_CH_WEB);
    expect_shown(&d);
    assert_int_equal(s.n, 0); /* the rule is alpha's only */

    int64_t now = T0 + 5000;
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, "u", 1, now, &sc), PACING_OK);
    d = ask_full(ctx, a, "u", now, PACING_REQ_CONSENT, PACING_CH_APP, -90);
    assert_int_equal(s.n, 2); /* show_a and show_b, not skip */
    for (int i = 0; i < 2; i++) {
        const spy_call *c = &s.calls[i];
        const pacing_rule_view *v = &c->v;
        assert_int_equal(v->size, sizeof(pacing_rule_view));
        assert_int_equal(c->result_size, sizeof(pacing_rule_result));
        assert_int_equal(c->result_verdict, PACING_ALLOW);
        assert_int_equal(v->point, a);
        assert_string_equal(c->point_name, "alpha");
        assert_int_equal(v->action, (uint32_t)i);
        assert_string_equal(c->action_name, SA_SB_SKIP[i]);
        assert_int_equal(v->channel, PACING_CH_APP);
        assert_int_equal(v->request_flags, PACING_REQ_CONSENT);
        assert_int_equal(v->now_ms, now);
        assert_int_equal(v->utc_offset_min, -90);
        assert_int_equal(v->has_user, 1);
        /* the scores are exactly pacing_scores_get's at the same time */
        assert_true(v->fatigue == sc.fatigue);
        assert_true(v->cognitive_load == sc.cognitive_load);
        assert_true(v->drop_off_risk == sc.drop_off_risk);
        assert_true(v->attention == sc.attention);
        assert_true(v->engagement == sc.engagement);
        assert_true(sc.fatigue > 0.0);
        assert_true(sc.cognitive_load > 0.0);
        assert_int_equal(v->last_error_ms, T0 + 1000);
        assert_int_equal(v->form_started_ms, T0 + 2000);
        assert_int_equal(v->session_start_ms, T0);
        assert_int_equal(v->session_exposures, 2);
        assert_int_equal(v->n_exposures, 2);
        assert_int_equal(v->exposure_ms[0], T0 + 3000);
        assert_int_equal(v->exposure_point[0], UINT32_MAX); /* pushed */
        assert_int_equal(v->exposure_channel[0], PACING_CH_APP);
        assert_int_equal(v->exposure_ms[1], T0 + 4000);
        assert_int_equal(v->exposure_point[1], b);
        assert_int_equal(v->exposure_channel[1], PACING_CH_WEB);
        assert_int_equal(v->exposures_1m, sc.exposures_1m);
        assert_int_equal(v->exposures_1h, sc.exposures_1h);
        assert_int_equal(v->exposures_1d, sc.exposures_1d);
        assert_int_equal(v->exposures_1m, 2);
        /* the instance's parameters in the module's order */
        assert_true(c->params[0] == 5.0);
        assert_true(c->params[1] == 2.5);
    }
    assert_true(d.fatigue == sc.fatigue);
    assert_int_equal(d.action, 0);

    /* without user state: has_user 0, scores 0, times -1, no exposures */
    s.n = 0;
    d = ask_full(ctx, a, "u", now + 1000, PACING_REQ_NO_CONSENT, PACING_CH_WEB, 0);
    assert_int_equal(s.n, 2);
    const pacing_rule_view *v = &s.calls[0].v;
    assert_int_equal(v->has_user, 0);
    assert_true(v->fatigue == 0.0 && v->cognitive_load == 0.0 &&
                v->drop_off_risk == 0.0 && v->attention == 0.0 &&
                v->engagement == 0.0);
    assert_int_equal(v->last_error_ms, -1);
    assert_int_equal(v->form_started_ms, -1);
    assert_int_equal(v->session_start_ms, -1);
    assert_int_equal(v->session_exposures, 0);
    assert_int_equal(v->n_exposures, 0);
    assert_int_equal(v->exposures_1d, 0);
    assert_int_equal(v->request_flags, PACING_REQ_NO_CONSENT);

}

/* A user first seen in this decision has no state: the view says
 * has_user 0 ("0: no user state (new or no consent)", pacing.h). */
static void test_custom_rule_view_new_user(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(37, 0);
    spy s;
    memset(&s, 0, sizeof s);
    register_spy(ctx, &s);
    uint32_t pt = show_point(ctx, "pt");
    add_rule(ctx, "spy", NULL, NULL, 0);
    pacing_decision d = ask(ctx, pt, "newcomer", T0);
    assert_true(d.reasons & PACING_DR_NO_USER);
    assert_int_equal(s.n, 1);
    const pacing_rule_view *v = &s.calls[0].v;
    assert_int_equal(v->n_exposures, 0);
    assert_true(v->fatigue == 0.0);
    assert_int_equal(v->session_start_ms, -1);
    assert_int_equal(v->last_error_ms, -1);
    if (v->has_user != 0)
        fail_msg("view.has_user = %u for a user created by this decision "
                 "(PACING_DR_NO_USER); pacing.h says 0 for a new user",
                 v->has_user);
    /* known from then on */
    s.n = 0;
    d = ask(ctx, pt, "newcomer", T0 + 1);
    assert_int_equal(d.reasons & PACING_DR_NO_USER, 0);
    assert_int_equal(s.calls[0].v.has_user, 1);
    assert_int_equal(s.calls[0].v.n_exposures, 1);
}

/* A check returning nonzero is a veto (reason 0), whatever it wrote; an
 * unknown verdict is a veto too; without explain() the library words it. */
static void test_custom_rule_failure_is_veto(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(41, 0);
    spy s;
    memset(&s, 0, sizeof s);
    register_spy(ctx, &s);
    uint32_t pt = show_point(ctx, "pt");
    uint32_t rid = add_rule(ctx, "spy", NULL, NULL, 0);

    s.verdict = PACING_ALLOW;
    s.ret = -1; /* failed, though it said allow */
    pacing_decision d = ask(ctx, pt, "u", T0);
    expect_safe(&d, 1, rid, PACING_VETO, 0);
    assert_int_equal(d.vetoes[0].reason, 0);
    expect_in(explain(ctx, &d), "held back pt (skip): spy vetoed");

    s.ret = 1;
    s.verdict = PACING_DELAY; /* failed: not a delay */
    d = ask(ctx, pt, "u", T0 + 1);
    expect_safe(&d, 1, rid, PACING_VETO, 0);

    s.ret = 0;
    s.verdict = 7; /* not a verdict */
    d = ask(ctx, pt, "u", T0 + 2);
    expect_safe(&d, 1, rid, PACING_VETO, 0);
    assert_int_equal(d.vetoes[0].reason, 42);

    s.verdict = PACING_DELAY;
    d = ask(ctx, pt, "u", T0 + 3);
    expect_safe(&d, 1, rid, PACING_DELAY, T0 + 1003);
    expect_in(explain(ctx, &d), "delayed pt (skip): spy asks to wait");

    s.verdict = PACING_ALLOW;
    d = ask(ctx, pt, "u", T0 + 4);
    expect_shown(&d);
}

/* ------------------------------------------------------------------ */
/* Policy and safety together                                          */
/* ------------------------------------------------------------------ */

/* The acceptance test. Point checkout_cta {show, wait}, wait quiet and
 * safe, epsilon-greedy with epsilon 0, trained so that show's estimate is
 * 1 and wait's 0: with epsilon 0 the policy picks the best estimate with
 * probability 1, so whenever show is allowed it is chosen (and every show
 * is rewarded 1, so it stays the best). A 20 s min_gap rule; one user
 * asks every 1-3 s (random, fixed seed) for 10 minutes. Exposures are
 * never closer than 20 s, show is given as soon as 20 s have passed, and
 * every held-back decision explains itself with min_gap and its numbers. */
static void test_acceptance_min_gap_20s(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(2024, 0);
    uint32_t pt = add_point_eps(ctx, "checkout_cta", SHOW_WAIT, 2, 2, 1, 0.0);
    const double r[2] = {1.0, 0.0};
    train(ctx, pt, 2, r);
    pacing_param g[1] = {{"gap_ms", 20000}};
    uint32_t gap = add_rule(ctx, "min_gap", NULL, g, 1);
    pacing_arm_stats show0 = arm(ctx, pt, 0), wait0 = arm(ctx, pt, 1);

    uint64_t lcg = 0x2545F4914F6CDD1DULL;
    int64_t now = T0, end = T0 + 10 * MIN, last = -1;
    int shows = 0, held = 0;
    while (now < end) {
        pacing_decision_stats before = dstats(ctx);
        pacing_decision d = ask(ctx, pt, "alice", now);
        if (!(d.reasons & PACING_DR_SAFE)) {
            /* shown: never closer than 20 s to the previous exposure */
            assert_int_equal(d.action, 0);
            if (last >= 0 && now - last < 20000)
                fail_msg("exposure at +%lld ms only %lld ms after the last",
                         (long long)(now - T0), (long long)(now - last));
            assert_true(d.propensity == 1.0);
            assert_true(d.reasons & PACING_DR_EXPLOITED);
            assert_int_equal(d.n_vetoes, 0);
            assert_int_equal(pacing_reward(ctx, d.id, 1.0, now), PACING_OK);
            last = now;
            shows++;
        } else {
            /* held back: only because of the gap, and it says so */
            if (last < 0 || now - last >= 20000)
                fail_msg("held back at +%lld ms though the gap is over",
                         (long long)(now - T0));
            held++;
            assert_int_equal(d.action, 1);
            assert_true(d.propensity == 1.0);
            assert_int_equal(d.id, 0);
            assert_int_equal(d.retry_after_ms, last + 20000);
            assert_int_equal(d.n_vetoes, 1);
            assert_int_equal(d.vetoes[0].rule, gap);
            assert_int_equal(d.vetoes[0].action, 0);
            assert_int_equal(d.vetoes[0].verdict, PACING_DELAY);
            assert_true(d.vetoes[0].detail[0] == 20000.0);
            assert_true(d.vetoes[0].detail[1] == (double)(now - last));
            pacing_decision_stats after = dstats(ctx);
            assert_int_equal(after.pending, before.pending);
            assert_int_equal(after.decisions, before.decisions + 1);
            const char *t = explain(ctx, &d);
            expect_in(t, "delayed checkout_cta");
            expect_in(t, "min_gap needs 20 s, last shown ");
            double ago = 0;
            const char *at = strstr(t, "last shown ");
            assert_non_null(at);
            assert_int_equal(sscanf(at, "last shown %lf s ago", &ago), 1);
            if (fabs(ago - (double)(now - last) / 1000.0) > 0.05)
                fail_msg("'%s': %g s, really %lld ms", t, ago,
                         (long long)(now - last));
        }
        lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
        now += 1000 + (int64_t)((lcg >> 33) % 2001); /* 1..3 s */
    }
    /* each gap is in [20 s, 23 s): 10 min hold 27..30 exposures */
    assert_in_range(shows, 27, 31);
    assert_true(held > 100);
    /* held-back decisions were not the policy's: wait was never pulled or
     * counted, show only for the exposures */
    pacing_arm_stats show1 = arm(ctx, pt, 0), wait1 = arm(ctx, pt, 1);
    assert_int_equal(wait1.decisions, wait0.decisions);
    assert_true(wait1.pulls == wait0.pulls);
    assert_int_equal(show1.decisions, show0.decisions + (uint64_t)shows);
    assert_true(show1.pulls == show0.pulls + shows);
}

/* At the boundary the explanation must not contradict itself: 19.999 s is
 * less than the 20 s needed, and it should not read "last shown 20 s". */
static void test_explain_min_gap_just_below(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(7, 0);
    uint32_t pt = show_point(ctx, "pt");
    pacing_param p[1] = {{"gap_ms", 20000}};
    add_rule(ctx, "min_gap", NULL, p, 1);
    pacing_decision d = ask(ctx, pt, "u", T0);
    expect_shown(&d);
    d = ask(ctx, pt, "u", T0 + 19999);
    assert_true(d.reasons & PACING_DR_SAFE);
    const char *t = explain(ctx, &d);
    const char *at = strstr(t, "last shown ");
    assert_non_null(at);
    double ago = 0;
    assert_int_equal(sscanf(at, "last shown %lf s ago", &ago), 1);
    if (!(ago < 20.0))
        fail_msg("'%s': says %g s ago, which is not less than the 20 s needed "
                 "(lib/safety.c fmt_dur rounds with %%.3g)", t, ago);
}

/* Vetoed arms sleep before the policy samples: with show vetoed, the
 * propensities are those of the policy over {later, never}. Epsilon-greedy
 * (epsilon 0.3) trained to show 1, later 0.5, never 0: over {later, never}
 * the greedy one is later, so P(later) = 0.7 + 0.3/2 = 0.85 and
 * P(never) = 0.15, summing to 1; with show allowed they would be 0.1 and
 * 0.1 (and show 0.8). */
static void test_propensity_over_allowed_arms(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(99, 0);
    uint32_t pt = add_point_eps(ctx, "pt", SHOW_LATER_NEVER, 3, 6, -1, 0.3);
    const double r[3] = {1.0, 0.5, 0.0};
    train(ctx, pt, 3, r);
    uint32_t rc = add_rule(ctx, "consent", NULL, NULL, 0);
    pacing_arm_stats a0 = arm(ctx, pt, 0);

    const int n = 4000;
    int later = 0, never = 0;
    uint64_t first_id = 0;
    for (int i = 0; i < n; i++) {
        char user[16];
        snprintf(user, sizeof user, "p%d", i % 50);
        pacing_decision d = ask(ctx, pt, user, T0 + i);
        assert_int_equal(d.reasons & PACING_DR_SAFE, 0);
        assert_true(d.reasons & PACING_DR_VETOED);
        assert_int_equal(d.n_vetoes, 1);
        assert_int_equal(d.vetoes[0].rule, rc);
        assert_int_equal(d.vetoes[0].action, 0);
        assert_true(d.id != 0);
        if (d.action == 1) {
            assert_near(d.propensity, 0.85, 1e-12);
            assert_true(d.reasons & PACING_DR_EXPLOITED);
            later++;
        } else if (d.action == 2) {
            assert_near(d.propensity, 0.15, 1e-12);
            assert_true(d.reasons & PACING_DR_EXPLORED);
            never++;
        } else {
            fail_msg("decision %d chose the vetoed show", i);
        }
        if (i == 0)
            first_id = d.id;
    }
    assert_int_equal(later + never, n);
    /* the propensities are the true frequencies: 0.85 +- 0.02 (> 3.5 sd) */
    assert_in_range(later, (int)(0.83 * n), (int)(0.87 * n));

    /* the vetoed show was neither counted nor pulled */
    pacing_arm_stats a1 = arm(ctx, pt, 0);
    assert_int_equal(a1.decisions, a0.decisions);
    assert_true(a1.pulls == a0.pulls);
    assert_int_equal(a1.rewards, a0.rewards);
    /* a reward for a decision goes to the action taken, not to show */
    pacing_arm_stats l0 = arm(ctx, pt, 1), v0 = arm(ctx, pt, 2);
    assert_int_equal(l0.decisions + v0.decisions, 2 + (uint64_t)n);
    assert_int_equal(pacing_reward(ctx, first_id, 1.0, T0 + n), PACING_OK);
    a1 = arm(ctx, pt, 0);
    assert_true(a1.pulls == a0.pulls);
    pacing_arm_stats l1 = arm(ctx, pt, 1), v1 = arm(ctx, pt, 2);
    assert_true(l1.pulls + v1.pulls == l0.pulls + v0.pulls + 1.0);

    /* with consent, show is allowed: the propensities are over all three */
    pacing_decision d = ask_full(ctx, pt, "c", T0 + n + 1, PACING_REQ_CONSENT, 0, 0);
    assert_int_equal(d.n_vetoes, 0);
    if (d.action == 0)
        assert_near(d.propensity, 0.8, 1e-12);
    else
        assert_near(d.propensity, 0.1, 1e-12);
}

/* A safe decision: the safe action with propensity 1, id 0, not pending,
 * not counted for the arm, not rewardable. */
static void test_safe_decision(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(43, 0);
    uint32_t pt = show_point(ctx, "pt");
    uint32_t gap = add_rule(ctx, "min_gap", NULL, NULL, 0); /* 20 s */
    pacing_decision d = ask(ctx, pt, "u", T0);
    expect_shown(&d);
    pacing_decision_stats s0 = dstats(ctx);
    pacing_arm_stats show0 = arm(ctx, pt, 0), skip0 = arm(ctx, pt, 1);

    d = ask(ctx, pt, "u", T0 + 12300);
    expect_safe(&d, 1, gap, PACING_DELAY, T0 + 20000);
    assert_int_equal(d.reasons & (PACING_DR_EXPLORED | PACING_DR_EXPLOITED), 0);
    assert_int_equal(d.point, pt);
    assert_int_equal(d.time_ms, T0 + 12300);
    pacing_decision_stats s1 = dstats(ctx);
    assert_int_equal(s1.pending, s0.pending);
    assert_int_equal(s1.decisions, s0.decisions + 1);
    pacing_arm_stats show1 = arm(ctx, pt, 0), skip1 = arm(ctx, pt, 1);
    assert_int_equal(show1.decisions, show0.decisions);
    assert_int_equal(skip1.decisions, skip0.decisions);
    assert_true(show1.pulls == show0.pulls && skip1.pulls == skip0.pulls);
    assert_int_equal(pacing_reward(ctx, d.id, 1.0, T0 + 12300), PACING_E_NOTFOUND);
    /* no exposure was recorded by the safe decision: 20 s after the first
     * show is allowed */
    d = ask(ctx, pt, "u", T0 + 20000);
    expect_shown(&d);
    const char *t;
    d = ask(ctx, pt, "u", T0 + 32300);
    t = explain(ctx, &d);
    expect_in(t, "delayed pt (skip): min_gap needs 20 s, last shown 12.3 s ago; "
                 "fatigue ");

    /* ... but not when the request marked it ineligible: with nothing else
     * eligible the call fails and records nothing */
    pacing_decision e;
    pacing_decision_stats s2 = dstats(ctx);
    assert_int_equal(decide_full(ctx, pt, "u", T0 + 32400, 0, 0, 0, 2, &e),
                     PACING_E_VETOED);
    pacing_decision_stats s3 = dstats(ctx);
    assert_int_equal(s3.decisions, s2.decisions);

    /* the safe action is returned even with other quiet actions eligible */
    pacing_ctx *c2 = new_ctx(43, 0);
    uint32_t p2 = add_point_eps(c2, "pt", SHOW_LATER_NEVER, 3, 6, 2, 0.0);
    const double r[3] = {1.0, 0.9, 0.0};
    train(c2, p2, 3, r);
    uint32_t rc = add_rule(c2, "consent", NULL, NULL, 0);
    d = ask(c2, p2, "u", T0);
    expect_safe(&d, 2, rc, PACING_VETO, 0);
}

/* No safe action, every showing action vetoed and no quiet action
 * eligible: PACING_E_VETOED, *out untouched, nothing recorded. */
static void test_vetoed_without_safe_action(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(47, 0);
    uint32_t pt = add_point_eps(ctx, "pt", SHOW_LATER_NEVER, 3, 6, -1, 0.0);
    const double r[3] = {1.0, 0.5, 0.0};
    train(ctx, pt, 3, r);
    add_rule(ctx, "consent", NULL, NULL, 0);
    pacing_decision_stats s0 = dstats(ctx);
    pacing_arm_stats a[3];
    for (uint32_t i = 0; i < 3; i++)
        a[i] = arm(ctx, pt, i);

    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = pt;
    rq.user = "trainer"; /* a known user */
    rq.user_len = 7;
    rq.now_ms = T0;
    rq.ineligible = 6; /* later, never asleep */
    pacing_decision d = PACING_DECISION_INIT;
    d.action = 77;
    assert_int_equal(pacing_decide(ctx, &rq, &d), PACING_E_VETOED);
    assert_int_equal(d.action, 77);
    assert_int_equal(d.id, 0);
    assert_int_equal(d.n_vetoes, 0);
    expect_in(pacing_errmsg(ctx), "pt");
    pacing_decision_stats s1 = dstats(ctx);
    assert_memory_equal(&s0, &s1, sizeof s0);
    for (uint32_t i = 0; i < 3; i++) {
        pacing_arm_stats b = arm(ctx, pt, i);
        assert_int_equal(b.decisions, a[i].decisions);
        assert_true(b.pulls == a[i].pulls);
    }
    /* one quiet action eligible: the policy takes it */
    rq.ineligible = 4;
    assert_int_equal(pacing_decide(ctx, &rq, &d), PACING_OK);
    assert_int_equal(d.action, 1);
    assert_true(d.propensity == 1.0);
    assert_true(d.reasons & PACING_DR_VETOED);
    assert_int_equal(d.reasons & PACING_DR_SAFE, 0);
}

/* The same failure must not create state for a user that had none ("a
 * failed call leaves the context exactly as it was"). */
static void test_vetoed_creates_no_user(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(47, 0);
    uint32_t pt = add_point_eps(ctx, "pt", SHOW_LATER_NEVER, 3, 6, -1, 0.0);
    const double r[3] = {1.0, 0.5, 0.0};
    train(ctx, pt, 3, r);
    add_rule(ctx, "consent", NULL, NULL, 0);
    uint64_t before = users_held(ctx);
    pacing_decision d;
    assert_int_equal(decide_full(ctx, pt, "stranger", T0, 0, 0, 0, 6, &d),
                     PACING_E_VETOED);
    pacing_scores sc = PACING_SCORES_INIT;
    int rc = pacing_scores_get(ctx, "stranger", 8, T0, &sc);
    if (users_held(ctx) != before || rc != PACING_E_NOTFOUND)
        fail_msg("a decide that failed with PACING_E_VETOED created user state "
                 "(users %llu -> %llu, scores_get %d): lib/decide.c creates "
                 "the user before the rules run",
                 (unsigned long long)before,
                 (unsigned long long)users_held(ctx), rc);
    /* a safe decision for an unknown user does not create state either
     * (the state is created only once the policy's decision stands) */
    pacing_ctx *c2 = new_ctx(47, 0);
    uint32_t p2 = show_point(c2, "pt");
    add_rule(c2, "consent", NULL, NULL, 0);
    before = users_held(c2);
    pacing_decision e = ask(c2, p2, "stranger", T0);
    assert_true(e.reasons & PACING_DR_SAFE);
    assert_true(e.reasons & PACING_DR_NO_USER);
    assert_int_equal(users_held(c2), before);
    e = ask_full(c2, p2, "stranger", T0, PACING_REQ_CONSENT, 0, 0);
    expect_shown(&e);
    assert_int_equal(users_held(c2), before + 1);
}

/* ------------------------------------------------------------------ */
/* pacing_explain                                                      */
/* ------------------------------------------------------------------ */

static void test_explain_snprintf(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(53, 0);
    uint32_t pt = show_point(ctx, "checkout_cta");
    add_rule(ctx, "min_gap", NULL, NULL, 0);
    push_ev(ctx, "u", PACING_EV_EXPOSURE, T0 - 5000, 0, 0);
    push_ev(ctx, "u", PACING_EV_DISMISS, T0 - 4000, 0, 0);
    push_ev(ctx, "u", PACING_EV_UNDO, T0 - 3000, 0, 0);
    pacing_decision d = ask(ctx, pt, "u", T0 + 7300);
    assert_true(d.reasons & PACING_DR_SAFE);

    int need = pacing_explain(ctx, &d, NULL, 0);
    assert_true(need > 40);
    char full[512];
    assert_int_equal(pacing_explain(ctx, &d, full, sizeof full), need);
    assert_int_equal(strlen(full), (size_t)need);
    expect_in(full, "delayed checkout_cta (skip): min_gap needs 20 s, last "
                    "shown 12.3 s ago; fatigue ");
    assert_true(d.fatigue > 0.0);
    char fat[64];
    snprintf(fat, sizeof fat, "fatigue %.2f (", d.fatigue);
    expect_in(full, fat);
    expect_in(full, "dismissals ");

    /* every buffer size: a NUL-terminated prefix, the same return, and
     * nothing written past len */
    char buf[600];
    for (size_t len = 1; len <= (size_t)need + 2; len++) {
        memset(buf, 'X', sizeof buf);
        assert_int_equal(pacing_explain(ctx, &d, buf, len), need);
        size_t got = len - 1 < (size_t)need ? len - 1 : (size_t)need;
        assert_int_equal(strlen(buf), got);
        assert_memory_equal(buf, full, got);
        for (size_t k = len; k < sizeof buf; k++)
            if (buf[k] != 'X')
                fail_msg("len %zu: byte %zu written", len, k);
    }
    /* len 0 with a buffer: nothing written */
    memset(buf, 'X', sizeof buf);
    assert_int_equal(pacing_explain(ctx, &d, buf, 0), need);
    assert_int_equal(buf[0], 'X');

    /* errors */
    assert_int_equal(pacing_explain(NULL, &d, buf, sizeof buf), PACING_E_NULL);
    assert_int_equal(pacing_explain(ctx, NULL, buf, sizeof buf), PACING_E_NULL);
    assert_int_equal(pacing_explain(ctx, &d, NULL, 5), PACING_E_NULL);
    pacing_decision bad = d;
    bad.size = sizeof bad - 8;
    assert_int_equal(pacing_explain(ctx, &bad, buf, sizeof buf), PACING_E_SIZE);
    bad = d;
    bad.point = 99;
    assert_int_equal(pacing_explain(ctx, &bad, buf, sizeof buf), PACING_E_NOTFOUND);
    bad = d;
    bad.action = 2;
    assert_int_equal(pacing_explain(ctx, &bad, buf, sizeof buf), PACING_E_NOTFOUND);
    bad = d;
    bad.n_vetoes = 5;
    assert_int_equal(pacing_explain(ctx, &bad, buf, sizeof buf), PACING_E_NOTFOUND);
    /* a veto naming an unknown rule or action is not this context's */
    bad = d;
    bad.vetoes[0].rule = 60;
    assert_int_equal(pacing_explain(ctx, &bad, buf, sizeof buf), PACING_E_NOTFOUND);
    bad = d;
    bad.vetoes[0].action = 7;
    assert_int_equal(pacing_explain(ctx, &bad, buf, sizeof buf), PACING_E_NOTFOUND);
    (void)need;
}

/* Sentences of policy decisions and of decisions without user data. */
static void test_explain_sentences(void **state)
{
    (void)state;
    pacing_ctx *ctx = new_ctx(59, 0);
    uint32_t pt = show_point(ctx, "banner");
    pacing_decision d = ask(ctx, pt, "newcomer", T0);
    const char *t = explain(ctx, &d);
    assert_string_equal(t, "banner: show (best estimate, p=1.00); no personal "
                           "data used");
    push_ev(ctx, "u", PACING_EV_SESSION_START, T0, 0, 0);
    d = ask(ctx, pt, "u", T0 + 1000);
    t = explain(ctx, &d);
    assert_string_equal(t, "banner: show (best estimate, p=1.00); fatigue 0.00");
    d = ask_full(ctx, pt, "u", T0 + 2000, PACING_REQ_NO_CONSENT, 0, 0);
    t = explain(ctx, &d);
    expect_in(t, "no personal data used");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_rule_add_validation, teardown),
        cmocka_unit_test_teardown(test_rule_add_frequency_cap_limits, teardown),
        cmocka_unit_test_teardown(test_rule_add_full, teardown),
        cmocka_unit_test_teardown(test_rule_register_validation, teardown),
        cmocka_unit_test_teardown(test_rule_register_full, teardown),
        cmocka_unit_test_teardown(test_min_gap_boundary, teardown),
        cmocka_unit_test_teardown(test_min_gap_fractional_retry, teardown),
        cmocka_unit_test_teardown(test_min_gap_scopes, teardown),
        cmocka_unit_test_teardown(test_frequency_cap_per_point, teardown),
        cmocka_unit_test_teardown(test_frequency_cap_across_points, teardown),
        cmocka_unit_test_teardown(test_frequency_cap_per_channel, teardown),
        cmocka_unit_test_teardown(test_frequency_cap_across_channels, teardown),
        cmocka_unit_test_teardown(test_frequency_cap_beyond_ring, teardown),
        cmocka_unit_test_teardown(test_frequency_cap_retry_beyond_ring, teardown),
        cmocka_unit_test_teardown(test_quiet_hours_utc, teardown),
        cmocka_unit_test_teardown(test_quiet_hours_offsets, teardown),
        cmocka_unit_test_teardown(test_quiet_hours_veto_and_windows, teardown),
        cmocka_unit_test_teardown(test_fatigue_ceiling, teardown),
        cmocka_unit_test_teardown(test_load_ceiling, teardown),
        cmocka_unit_test_teardown(test_dropoff_ceiling, teardown),
        cmocka_unit_test_teardown(test_ceiling_defaults, teardown),
        cmocka_unit_test_teardown(test_session_budget, teardown),
        cmocka_unit_test_teardown(test_sensitive_after_error, teardown),
        cmocka_unit_test_teardown(test_sensitive_form, teardown),
        cmocka_unit_test_teardown(test_consent_rule, teardown),
        cmocka_unit_test_teardown(test_opt_out_rule, teardown),
        cmocka_unit_test_teardown(test_rule_order_first_veto_stops, teardown),
        cmocka_unit_test_teardown(test_delays_combine, teardown),
        cmocka_unit_test_teardown(test_partial_veto, teardown),
        cmocka_unit_test_teardown(test_explain_each_veto_once, teardown),
        cmocka_unit_test_teardown(test_point_scope, teardown),
        cmocka_unit_test_teardown(test_more_vetoes, teardown),
        cmocka_unit_test_teardown(test_custom_rule_view, teardown),
        cmocka_unit_test_teardown(test_custom_rule_view_new_user, teardown),
        cmocka_unit_test_teardown(test_custom_rule_failure_is_veto, teardown),
        cmocka_unit_test_teardown(test_acceptance_min_gap_20s, teardown),
        cmocka_unit_test_teardown(test_explain_min_gap_just_below, teardown),
        cmocka_unit_test_teardown(test_propensity_over_allowed_arms, teardown),
        cmocka_unit_test_teardown(test_safe_decision, teardown),
        cmocka_unit_test_teardown(test_vetoed_without_safe_action, teardown),
        cmocka_unit_test_teardown(test_vetoed_creates_no_user, teardown),
        cmocka_unit_test_teardown(test_explain_snprintf, teardown),
        cmocka_unit_test_teardown(test_explain_sentences, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
