/* The hot path never allocates (docs/api.md, allocation contract): with a
 * counting allocator in the options, once the points and rules are added
 * and every user exists, 10^5 calls each of pacing_push, pacing_decide (on
 * thompson, linucb and epsilon_greedy points with safety and reward
 * rules), pacing_reward, pacing_scores_get, pacing_explain and
 * pacing_settle make no allocator call at all, and neither do the other
 * calls documented as not allocating (push_batch, the reads, log_read,
 * forget, expire, and pushes that create users by evicting others). The
 * allocator's counts are checked after every call, so a failure names the
 * call that allocated. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacing.h"

#define CALLS 100000L
#define USERS 1000
#define CAPACITY 4096
#define T0 1700000000000LL

typedef struct counting {
    size_t allocs, frees;
    size_t held; /* bytes */
} counting;

static void *c_alloc(void *opaque, size_t size)
{
    counting *c = opaque;
    c->allocs++;
    void *p = malloc(size ? size : 1);
    if (p)
        c->held += size;
    return p;
}

static void c_free(void *opaque, void *ptr, size_t size)
{
    counting *c = opaque;
    c->frees++;
    c->held -= size;
    free(ptr);
}

static counting cnt;
static size_t seen_allocs, seen_frees;
static const char *culprit;
static long culprit_iter = -1;

/* Did the call just made touch the allocator? Remember the first one. */
static void after(const char *call, long iter)
{
    if ((cnt.allocs != seen_allocs || cnt.frees != seen_frees) && !culprit) {
        culprit = call;
        culprit_iter = iter;
    }
    seen_allocs = cnt.allocs;
    seen_frees = cnt.frees;
}

static uint64_t rng_state = 0x0A110CULL;
static uint32_t below(uint32_t n)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (uint32_t)((z ^ (z >> 31)) % n);
}
static double unit(void) { return below(1000001) / 1e6; }

static size_t user_id(char *buf, uint32_t u)
{
    return (size_t)snprintf(buf, 24, "noalloc-user-%05u", u);
}

static pacing_ctx *setup_ctx(void)
{
    pacing_options o;
    pacing_options_init(&o);
    o.flags = PACING_OPT_SECRET;
    memset(o.secret, 0x42, sizeof o.secret);
    o.seed = 77;
    o.capacity = CAPACITY;
    o.pending_capacity = 256;
    o.log_capacity = 128;
    o.allocator.alloc = c_alloc;
    o.allocator.free = c_free;
    o.allocator.opaque = &cnt;
    pacing_ctx *ctx = NULL;
    int rc = pacing_ctx_new(&o, &ctx);
    if (rc != PACING_OK)
        fail_msg("ctx_new: %d (%s)", rc, pacing_errmsg(NULL));

    static const char *const a3[] = {"show", "delay", "skip"};
    static const char *const a4[] = {"v1", "v2", "v3", "later"};
    static const pacing_reward_rule rw1[] = {{"conversion", 1.0}, {"dismiss", -1.0},
                                             {"rage_click", -0.5}};
    static const pacing_reward_rule rw2[] = {{"micro_conversion", 0.5},
                                             {"dwell", 1.0}};
    static const pacing_param eg[] = {{"epsilon", 0.3}, {"discount", 0.99}};
    uint32_t id;

    pacing_point_spec ts = PACING_POINT_SPEC_INIT;
    ts.name = "ts_point";
    ts.actions = a3;
    ts.n_actions = 3;
    ts.policy = "thompson";
    ts.quiet_actions = 0x6;
    ts.safe_action = 1;
    ts.attribution_ms = 60000;
    ts.recovery_decay = "exponential";
    ts.rewards = rw1;
    ts.n_rewards = 3;
    assert_int_equal(pacing_point_add(ctx, &ts, &id), PACING_OK);

    pacing_point_spec lin = PACING_POINT_SPEC_INIT;
    lin.name = "lin_point";
    lin.actions = a3;
    lin.n_actions = 3;
    lin.policy = "linucb";
    lin.context_dim = 3;
    lin.flags = PACING_PT_SCORES_CONTEXT | PACING_PT_DEFAULT_REWARD;
    lin.default_reward = 0.0;
    lin.quiet_actions = 0x4;
    lin.attribution_ms = 30000;
    lin.rewards = rw2;
    lin.n_rewards = 2;
    assert_int_equal(pacing_point_add(ctx, &lin, &id), PACING_OK);

    pacing_point_spec gr = PACING_POINT_SPEC_INIT;
    gr.name = "eg_point";
    gr.actions = a4;
    gr.n_actions = 4;
    gr.policy = "epsilon_greedy";
    gr.params = eg;
    gr.n_params = 2;
    gr.flags = PACING_PT_DEFAULT_REWARD;
    gr.default_reward = 0.2;
    gr.quiet_actions = 0x8;
    gr.safe_action = 3;
    gr.attribution_ms = 90000;
    gr.rewards = rw1;
    gr.n_rewards = 1;
    assert_int_equal(pacing_point_add(ctx, &gr, &id), PACING_OK);

    static const pacing_param gap[] = {{"gap_ms", 3000}};
    static const pacing_param cap[] = {{"max", 5}, {"window_ms", 60000}};
    static const pacing_param fat[] = {{"max", 0.8}, {"delay_ms", 5000}};
    static const pacing_param sens[] = {{"after_error_ms", 2000}};
    static const pacing_param bud[] = {{"max", 20}};
    struct {
        const char *module, *point;
        const pacing_param *params;
        uint32_t n;
    } rules[] = {
        {"min_gap", NULL, gap, 1},
        {"frequency_cap", "ts_point", cap, 2},
        {"fatigue_ceiling", NULL, fat, 2},
        {"sensitive_state", NULL, sens, 1},
        {"session_budget", "eg_point", bud, 1},
        {"quiet_hours", NULL, NULL, 0},
        {"opt_out", NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        pacing_rule_spec r = PACING_RULE_SPEC_INIT;
        r.module = rules[i].module;
        r.point = rules[i].point;
        r.params = rules[i].params;
        r.n_params = rules[i].n;
        rc = pacing_rule_add(ctx, &r, NULL);
        if (rc != PACING_OK)
            fail_msg("rule_add %s: %d (%s)", rules[i].module, rc, pacing_errmsg(ctx));
    }
    return ctx;
}

static void random_event(pacing_event *ev, const char *user, size_t len, int64_t t)
{
    static const uint32_t types[] = {
        PACING_EV_SESSION_START, PACING_EV_DWELL, PACING_EV_SCROLL_DEPTH,
        PACING_EV_HOVER, PACING_EV_READING_SPEED, PACING_EV_INPUT_LATENCY,
        PACING_EV_CLICK, PACING_EV_CLICK, PACING_EV_DISMISS, PACING_EV_EXPOSURE,
        PACING_EV_MICRO_CONVERSION, PACING_EV_CONVERSION, PACING_EV_ERROR,
        PACING_EV_TAB_HIDDEN, PACING_EV_FORM_START, PACING_EV_FORM_SUBMIT,
        PACING_EV_UNDO, PACING_EV_MEDIA_PAUSE, PACING_EV_SESSION_END,
        PACING_EV_CUSTOM};
    pacing_event e = PACING_EVENT_INIT;
    e.user = user;
    e.user_len = len;
    e.time_ms = t;
    e.type = types[below(sizeof types / sizeof types[0])];
    e.channel = below(3);
    switch (e.type) {
    case PACING_EV_DWELL: e.value = 100 + below(60000); break;
    case PACING_EV_SCROLL_DEPTH: e.value = unit(); break;
    case PACING_EV_HOVER: e.value = below(4000); break;
    case PACING_EV_READING_SPEED: e.value = 100 + below(300); break;
    case PACING_EV_INPUT_LATENCY: e.value = 50 + below(3000); break;
    case PACING_EV_CLICK:
        e.value = below(2000);
        e.target = 1 + below(2);
        break;
    case PACING_EV_CONVERSION: e.value = 1 + below(50); break;
    case PACING_EV_CUSTOM: e.value = unit() * 100 - 50; break;
    default: break;
    }
    if (below(50) == 0)
        e.flags = PACING_EVF_BOT;
    *ev = e;
}

static int log_sink(void *opaque, const pacing_log_entry *e)
{
    (void)e;
    (*(uint64_t *)opaque)++;
    return 0;
}

static void test_no_allocation_after_setup(void **state)
{
    (void)state;
    memset(&cnt, 0, sizeof cnt);
    pacing_ctx *ctx = setup_ctx();
    char user[24];
    int64_t t = T0;
    for (uint32_t u = 0; u < USERS; u++) {
        size_t len = user_id(user, u);
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = PACING_EV_SESSION_START;
        ev.user = user;
        ev.user_len = len;
        ev.time_ms = t++;
        assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
    }
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.users, USERS);
    size_t setup_allocs = cnt.allocs, setup_frees = cnt.frees, setup_held = cnt.held;
    assert_int_equal(st.bytes_allocated, setup_held);
    seen_allocs = cnt.allocs;
    seen_frees = cnt.frees;
    culprit = NULL;

    uint64_t ids[64] = {0};
    long n_push = 0, n_decide = 0, n_reward = 0, n_scores = 0, n_explain = 0,
         n_settle = 0, n_other = 0;
    long decide_ok = 0, safe = 0, reward_ok = 0, push_ok = 0;
    uint64_t settled = 0, logged = 0;
    pacing_decision last = PACING_DECISION_INIT;
    int have_last = 0;
    char buf[400];

    for (long i = 0; i < CALLS; i++) {
        t += 1 + below(20);
        uint32_t u = below(USERS);
        size_t len = user_id(user, u);

        pacing_event ev;
        random_event(&ev, user, len, t);
        int rc = pacing_push(ctx, &ev);
        after("pacing_push", i);
        n_push++;
        if (rc == PACING_OK)
            push_ok++;
        else if (rc != PACING_DROPPED)
            fail_msg("push: %d (%s)", rc, pacing_errmsg(ctx));

        double x[3] = {unit(), unit(), unit()};
        pacing_request rq = PACING_REQUEST_INIT;
        rq.point = (uint32_t)(i % 3);
        rq.user = user;
        rq.user_len = len;
        rq.now_ms = t;
        rq.channel = below(3);
        rq.utc_offset_min = (int32_t)below(1441);
        if (rq.point == 1) {
            rq.context = x;
            rq.context_len = 3;
        }
        pacing_decision d = PACING_DECISION_INIT;
        rc = pacing_decide(ctx, &rq, &d);
        after("pacing_decide", i);
        n_decide++;
        if (rc == PACING_OK) {
            decide_ok++;
            if (d.id)
                ids[below(64)] = d.id;
            else
                safe++;
            last = d;
            have_last = 1;
        } else {
            fail_msg("decide point %u: %d (%s)", rq.point, rc, pacing_errmsg(ctx));
        }

        uint64_t rid = ids[below(64)];
        rc = pacing_reward(ctx, rid ? rid : 12345, unit(), t);
        after("pacing_reward", i);
        n_reward++;
        if (rc == PACING_OK)
            reward_ok++;
        else if (rc != PACING_E_NOTFOUND)
            fail_msg("reward: %d (%s)", rc, pacing_errmsg(ctx));

        pacing_scores sc = PACING_SCORES_INIT;
        rc = pacing_scores_get(ctx, user, len, t, &sc);
        after("pacing_scores_get", i);
        n_scores++;
        if (rc != PACING_OK)
            fail_msg("scores_get: %d (%s)", rc, pacing_errmsg(ctx));

        if (have_last) {
            rc = pacing_explain(ctx, &last, buf, sizeof buf);
            after("pacing_explain", i);
            n_explain++;
            if (rc <= 0)
                fail_msg("explain: %d", rc);
        }

        uint64_t n = 0;
        rc = pacing_settle(ctx, t - below(1000), &n);
        after("pacing_settle", i);
        n_settle++;
        assert_int_equal(rc, PACING_OK);
        settled += n;

        if (i % 10 == 0) {
            /* the other calls documented as not allocating */
            pacing_event batch[3];
            for (int k = 0; k < 3; k++)
                random_event(&batch[k], user, len, t);
            size_t done = 0;
            rc = pacing_push_batch(ctx, batch, 3, &done);
            after("pacing_push_batch", i);
            pacing_stats s2 = PACING_STATS_INIT;
            rc |= pacing_stats_get(ctx, &s2);
            after("pacing_stats_get", i);
            pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
            rc |= pacing_decision_stats_get(ctx, &ds);
            after("pacing_decision_stats_get", i);
            pacing_contribution c[8];
            for (int k = 0; k < 8; k++) {
                pacing_contribution z = PACING_CONTRIBUTION_INIT;
                c[k] = z;
            }
            size_t nc = 0;
            rc |= pacing_contributions(ctx, user, len, t, (int)(i / 10 % 4), c, 8, &nc);
            after("pacing_contributions", i);
            pacing_arm_stats as = PACING_ARM_STATS_INIT;
            rc |= pacing_arm_stats_get(ctx, (uint32_t)(i % 3), 0, &as);
            after("pacing_arm_stats_get", i);
            double hz, ar;
            rc |= pacing_hazard_baseline(ctx, (int64_t)below(100000), &hz, &ar);
            after("pacing_hazard_baseline", i);
            rc |= pacing_log_read(ctx, log_sink, &logged, NULL);
            after("pacing_log_read", i);
            uint64_t ps = 0;
            rc |= pacing_pseudonym(ctx, user, len, &ps);
            pacing_scores sc2 = PACING_SCORES_INIT;
            rc |= pacing_scores_get_pseudonym(ctx, ps, t, &sc2);
            after("pacing_scores_get_pseudonym", i);
            if (rc != PACING_OK)
                fail_msg("iteration %ld: a read failed (%s)", i, pacing_errmsg(ctx));
            if (i % 1000 == 0) {
                uint64_t ne = 0;
                assert_int_equal(pacing_expire(ctx, t, &ne), PACING_OK);
                after("pacing_expire", i);
            }
            n_other += 9;
        }
    }
    if (culprit)
        fail_msg("%s allocated or freed (iteration %ld): %zu allocs, %zu frees since "
                 "setup", culprit, culprit_iter, cnt.allocs - setup_allocs,
                 cnt.frees - setup_frees);

    /* users come and go without allocating either: forget some, then
     * create many new ones (slots freed, then LRU evictions) */
    for (uint32_t u = 0; u < 100; u++) {
        size_t len = user_id(user, u);
        assert_int_equal(pacing_forget(ctx, user, len), PACING_OK);
        after("pacing_forget", u);
    }
    for (uint32_t u = USERS; u < USERS + 3 * CAPACITY; u++) {
        size_t len = user_id(user, u);
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = PACING_EV_SESSION_START;
        ev.user = user;
        ev.user_len = len;
        ev.time_ms = ++t;
        assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
        after("pacing_push (new user)", u);
        if (u % 2 == 0) {
            pacing_request rq = PACING_REQUEST_INIT;
            rq.point = 2;
            rq.user = user;
            rq.user_len = len;
            rq.now_ms = t;
            pacing_decision d = PACING_DECISION_INIT;
            assert_int_equal(pacing_decide(ctx, &rq, &d), PACING_OK);
            after("pacing_decide (new user)", u);
        }
    }
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
    assert_int_equal(pacing_decision_stats_get(ctx, &ds), PACING_OK);

    printf("test_noalloc: setup %zu allocs, %zu frees, %zu bytes held; then "
           "%ld calls each of push, decide, reward, scores_get, settle, %ld of "
           "explain, %ld others, 100 forgets, %d pushes creating users "
           "(%llu evicted): %zu allocs, %zu frees\n",
           setup_allocs, setup_frees, setup_held, n_push, n_explain, n_other,
           3 * CAPACITY, (unsigned long long)st.users_evicted_lru,
           cnt.allocs - setup_allocs, cnt.frees - setup_frees);
    printf("  push %ld ok; decide %ld ok (%ld safe); reward %ld ok; settled %llu; "
           "%llu log entries; %llu settled early\n", push_ok, decide_ok, safe,
           reward_ok, (unsigned long long)settled, (unsigned long long)logged,
           (unsigned long long)ds.settled_early);
    if (culprit)
        fail_msg("%s allocated or freed", culprit);
    assert_int_equal(cnt.allocs, setup_allocs);
    assert_int_equal(cnt.frees, setup_frees);
    assert_int_equal(st.bytes_allocated, setup_held);
    assert_int_equal(n_push, CALLS);
    assert_int_equal(n_decide, CALLS);
    assert_int_equal(n_reward, CALLS);
    assert_int_equal(n_scores, CALLS);
    assert_int_equal(n_settle, CALLS);
    assert_true(n_explain >= CALLS - 1);
    /* the calls went through the interesting paths */
    assert_true(safe > 0 && reward_ok > 0 && settled > 0 && logged > 0);
    assert_true(st.users_evicted_lru > 0 && ds.settled_early > 0);
    assert_true(ds.rewards_implicit > 0 && ds.rewards_default > 0);

    pacing_ctx_free(ctx);
    assert_int_equal(cnt.frees, cnt.allocs);
    assert_int_equal(cnt.held, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_allocation_after_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
