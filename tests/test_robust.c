/* Robustness over a long run: 10^7 events (PACING_ROBUST_EVENTS overrides
 * the count; under valgrind the default is 10^6) from 10^5 users, chosen at random with a fixed seed, into a
 * context with room for 10^4 users, with a decision every 100 events, a
 * short TTL (so users both expire and are evicted), pacing_expire and some
 * pacing_forget calls along the way.
 *
 * At every checkpoint: the memory the context holds, as counted by the
 * allocator hooks, is exactly what it held once configured (nothing is
 * allocated at all after configuration), pacing_stats' bytes_allocated
 * agrees, users <= capacity, users_created = users + users_evicted_lru +
 * users_expired + users_forgotten, and every pushed event is accounted
 * for (applied, dropped or rejected). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pacing.h"
#define HELPERS_OWN_TEARDOWN
#include "helpers.h"

typedef struct counter {
    size_t bytes, peak;
    uint64_t allocs, frees;
    int bad;
} counter;

/* Every block carries its size in front of it, to check the size given
 * back to free. */
typedef union hdr {
    size_t size;
    max_align_t align;
} hdr;

static void *c_alloc(void *opaque, size_t size)
{
    counter *c = opaque;
    hdr *h = malloc(sizeof(hdr) + size);
    if (!h)
        return NULL;
    h->size = size;
    c->bytes += size;
    if (c->bytes > c->peak)
        c->peak = c->bytes;
    c->allocs++;
    return h + 1;
}

static void c_free(void *opaque, void *ptr, size_t size)
{
    counter *c = opaque;
    hdr *h = (hdr *)ptr - 1;
    if (h->size != size)
        c->bad++;
    c->bytes -= h->size;
    c->frees++;
    free(h);
}

static counter cnt;
static pacing_ctx *ctx;

static int teardown(void **state)
{
    (void)state;
    pacing_ctx_free(ctx);
    ctx = NULL;
    return cnt.bytes == 0 && cnt.bad == 0 ? 0 : -1;
}

/* next_rand: helpers.h */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define CAPACITY 10000
#define USERS 100000
#define T0 1000000000LL
#define TTL_MS 5000

static const char *const ACT3[] = {"show", "delay", "skip"};

static void test_long_run(void **state)
{
    (void)state;
    uint64_t n_events = 10000000;
    /* under valgrind (which preloads its vgpreload_*.so) 10^7 events take
     * minutes: 10^6 there, unless PACING_ROBUST_EVENTS says otherwise */
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload"))
        n_events = 1000000;
    const char *env = getenv("PACING_ROBUST_EVENTS");
    if (env && strtoull(env, NULL, 10) > 0)
        n_events = strtoull(env, NULL, 10);

    memset(&cnt, 0, sizeof cnt);
    pacing_options o = PACING_OPTIONS_INIT;
    o.capacity = CAPACITY; /* stripes: the default */
    o.user_ttl_ms = TTL_MS;
    o.seed = 1;
    o.allocator.alloc = c_alloc;
    o.allocator.free = c_free;
    o.allocator.opaque = &cnt;
    assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    sp.name = "banner";
    sp.actions = ACT3;
    sp.n_actions = 3;
    sp.policy = "thompson";
    sp.quiet_actions = 0x6;
    sp.safe_action = 2;
    sp.attribution_ms = 20000;
    sp.flags = PACING_PT_DEFAULT_REWARD;
    uint32_t point;
    assert_int_equal(pacing_point_add(ctx, &sp, &point), PACING_OK);
    pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
    rs.module = "frequency_cap";
    assert_int_equal(pacing_rule_add(ctx, &rs, NULL), PACING_OK);

    const size_t held = cnt.bytes;
    const uint64_t allocs = cnt.allocs;
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.bytes_allocated, held);
    /* (test_capacity_exact checks that it is exactly CAPACITY) */
    const uint64_t cap = st.capacity;
    assert_true(cap >= CAPACITY && cap < CAPACITY + 1024);

    static const uint32_t types[] = {
        PACING_EV_DWELL,      PACING_EV_SCROLL_DEPTH, PACING_EV_HOVER,
        PACING_EV_TAB_HIDDEN, PACING_EV_TAB_VISIBLE,  PACING_EV_UNDO,
        PACING_EV_MICRO_CONVERSION, PACING_EV_EXPOSURE};
    uint64_t rng = 2024, pushed = 0, other = 0, decisions = 0, forgotten = 0;
    int64_t t = T0;
    const uint64_t checkpoint = n_events >= 10 ? n_events / 10 : 1;
    double t_start = now_s();
    for (uint64_t i = 0; i < n_events; i++) {
        uint64_t r = next_rand(&rng);
        uint64_t u = (r >> 20) % USERS + 1;
        uint8_t id[8];
        memcpy(id, &u, sizeof id);
        t += (int64_t)(r & 1); /* about 0.5 ms per event */
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = types[r % 8];
        ev.user = id;
        ev.user_len = sizeof id;
        ev.time_ms = t;
        ev.value = ev.type == PACING_EV_SCROLL_DEPTH ? 0.5 : 250.0;
        int rc = pacing_push(ctx, &ev);
        pushed++;
        if (rc != PACING_OK && rc != PACING_DROPPED)
            fail_msg("push %llu: %d (%s)", (unsigned long long)i, rc,
                     pacing_errmsg(ctx));
        if (i % 100 == 99) {
            pacing_request rq = PACING_REQUEST_INIT;
            rq.point = point;
            rq.user = id;
            rq.user_len = sizeof id;
            rq.now_ms = t;
            pacing_decision d = PACING_DECISION_INIT;
            assert_int_equal(pacing_decide(ctx, &rq, &d), PACING_OK);
            decisions++;
            if (d.id && (r >> 8) % 2)
                (void)pacing_reward(ctx, d.id, 1.0, t);
        }
        if (i % 100000 == 50000) {
            /* forget a few users, known or not */
            for (int k = 0; k < 10; k++) {
                uint64_t v = next_rand(&rng) % USERS + 1;
                memcpy(id, &v, sizeof id);
                int frc = pacing_forget(ctx, id, sizeof id);
                assert_true(frc == PACING_OK || frc == PACING_E_NOTFOUND);
                forgotten += frc == PACING_OK;
                other++;
            }
        }
        if ((i + 1) % checkpoint == 0 || i + 1 == n_events) {
            if (((i + 1) / checkpoint) % 2 == 0) {
                uint64_t n = 0;
                assert_int_equal(pacing_expire(ctx, t, &n), PACING_OK);
            }
            assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
            if (cnt.bytes != held || cnt.allocs != allocs)
                fail_msg("after %llu events: the context holds %zu bytes in %llu "
                         "allocations, %zu in %llu after configuration",
                         (unsigned long long)(i + 1), cnt.bytes,
                         (unsigned long long)cnt.allocs, held,
                         (unsigned long long)allocs);
            assert_int_equal(st.bytes_allocated, held);
            assert_true(st.users <= cap);
            assert_int_equal(st.capacity, cap);
            if (st.users_created != st.users + st.users_evicted_lru +
                                        st.users_expired + st.users_forgotten)
                fail_msg("after %llu events: created %llu != users %llu + evicted "
                         "%llu + expired %llu + forgotten %llu",
                         (unsigned long long)(i + 1),
                         (unsigned long long)st.users_created,
                         (unsigned long long)st.users,
                         (unsigned long long)st.users_evicted_lru,
                         (unsigned long long)st.users_expired,
                         (unsigned long long)st.users_forgotten);
            assert_int_equal(st.users_forgotten, forgotten);
            assert_int_equal(st.events_applied + st.events_dropped_bot +
                                 st.events_dropped_debounce +
                                 st.events_dropped_consent + st.events_rejected,
                             pushed);
            pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
            assert_int_equal(pacing_decision_stats_get(ctx, &ds), PACING_OK);
            assert_int_equal(ds.decisions, decisions);
        }
    }
    double secs = now_s() - t_start;
    print_message("%llu events, %llu decisions in %.2f s: %llu users held, %llu "
                  "created, %llu evicted, %llu expired, %llu forgotten; %zu bytes "
                  "held throughout\n",
                  (unsigned long long)pushed, (unsigned long long)decisions, secs,
                  (unsigned long long)st.users, (unsigned long long)st.users_created,
                  (unsigned long long)st.users_evicted_lru,
                  (unsigned long long)st.users_expired,
                  (unsigned long long)st.users_forgotten, held);
    (void)other;
    if (n_events >= 1000000) {
        /* the table filled up and turned over in every way */
        assert_true(st.users > cap / 2);
        assert_true(st.users_evicted_lru > 0);
        assert_true(st.users_expired > 0);
        assert_true(st.users_forgotten > 0);
        assert_true(st.users_created > USERS);
    }
    assert_int_equal(cnt.bad, 0);
}

/* options.capacity is "max users held": the table holds no more than
 * that, also when the stripes do not divide it. */
static void test_capacity_exact(void **state)
{
    (void)state;
    static const uint64_t caps[] = {10000, 1000, 100, 4097};
    for (int k = 0; k < 4; k++) {
        memset(&cnt, 0, sizeof cnt);
        pacing_options o = PACING_OPTIONS_INIT;
        o.capacity = caps[k];
        o.allocator.alloc = c_alloc;
        o.allocator.free = c_free;
        o.allocator.opaque = &cnt;
        assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
        for (uint64_t u = 1; u <= 3 * caps[k]; u++) {
            pacing_event ev = PACING_EVENT_INIT;
            ev.type = PACING_EV_UNDO;
            ev.user = &u;
            ev.user_len = sizeof u;
            ev.time_ms = T0 + (int64_t)u;
            assert_int_equal(pacing_push(ctx, &ev), PACING_OK);
        }
        pacing_stats st = PACING_STATS_INIT;
        assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
        if (st.capacity != caps[k] || st.users > caps[k])
            fail_msg("options.capacity %llu: the table holds up to %llu users "
                     "(%llu held after %llu distinct users)",
                     (unsigned long long)caps[k], (unsigned long long)st.capacity,
                     (unsigned long long)st.users,
                     (unsigned long long)(3 * caps[k]));
        pacing_ctx_free(ctx);
        ctx = NULL;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_long_run, teardown),
        cmocka_unit_test_teardown(test_capacity_exact, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
