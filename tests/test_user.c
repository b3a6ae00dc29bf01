/* The user table: capacity and LRU eviction, TTL expiry, forget, index
 * integrity under churn, and pseudonym-addressed events. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pacing.h"

static pacing_ctx *new_ctx(uint64_t capacity, uint32_t stripes, int64_t ttl)
{
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = capacity;
    o.stripes = stripes;
    o.user_ttl_ms = ttl;
    /* a fixed secret: the same pseudonyms, stripes and index slots on
     * every run */
    o.flags = PACING_OPT_SECRET;
    for (int i = 0; i < 16; i++)
        o.secret[i] = (uint8_t)(0x51 * i + 7);
    pacing_ctx *c = NULL;
    assert_int_equal(pacing_ctx_new(&o, &c), PACING_OK);
    assert_non_null(c);
    return c;
}

static const char *uid(int i)
{
    static char buf[4][32];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "user-%05d", i);
    return buf[k];
}

static int push(pacing_ctx *c, const char *user, uint32_t type, int64_t t)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = (double)t; /* distinct events: never debounced */
    return pacing_push(c, &ev);
}

static int lookup(pacing_ctx *c, const char *user, int64_t now)
{
    pacing_scores sc = PACING_SCORES_INIT;
    return pacing_scores_get(c, user, strlen(user), now, &sc);
}

static pacing_stats stats(pacing_ctx *c)
{
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(c, &st), PACING_OK);
    return st;
}

/* users_created = users + evicted + expired + forgotten */
static void assert_balance(pacing_ctx *c)
{
    pacing_stats st = stats(c);
    if (st.users_created != st.users + st.users_evicted_lru +
                                st.users_expired + st.users_forgotten)
        fail_msg("created %llu != users %llu + evicted %llu + expired %llu + "
                 "forgotten %llu",
                 (unsigned long long)st.users_created,
                 (unsigned long long)st.users,
                 (unsigned long long)st.users_evicted_lru,
                 (unsigned long long)st.users_expired,
                 (unsigned long long)st.users_forgotten);
}

/* ---- capacity and LRU ---- */

static void test_capacity_and_eviction(void **state)
{
    (void)state;
    pacing_ctx *c = new_ctx(256, 1, 0);
    assert_int_equal(stats(c).capacity, 256);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(push(c, uid(i), PACING_EV_SESSION_START, 10 * i),
                         PACING_OK);
    pacing_stats st = stats(c);
    assert_int_equal(st.users, 256);
    assert_int_equal(st.capacity, 256);
    assert_int_equal(st.users_created, 1000);
    assert_int_equal(st.users_evicted_lru, 744);
    assert_int_equal(st.users_expired, 0);
    assert_int_equal(st.events_applied, 1000);
    assert_balance(c);
    const int64_t now = 10000;
    for (int i = 0; i < 1000; i++) {
        int rc = lookup(c, uid(i), now);
        int want = i >= 744 ? PACING_OK : PACING_E_NOTFOUND;
        if (rc != want)
            fail_msg("user %d: status %d, expected %d", i, rc, want);
    }
    pacing_ctx_free(c);
}

/* With several stripes the capacity is at least the one asked for, and a
 * table below its capacity evicts nobody. */
static void test_capacity_striped(void **state)
{
    (void)state;
    pacing_ctx *c = new_ctx(1000, 8, 0);
    pacing_stats st = stats(c);
    assert_true(st.capacity >= 1000);
    /* well below capacity: with 8 stripes of >= 125 slots, 300 users fit
     * unless the hash is badly skewed */
    for (int i = 0; i < 300; i++)
        assert_int_equal(push(c, uid(i), PACING_EV_SESSION_START, i), PACING_OK);
    st = stats(c);
    assert_int_equal(st.users, 300);
    assert_int_equal(st.users_evicted_lru, 0);
    for (int i = 0; i < 300; i++)
        assert_int_equal(lookup(c, uid(i), 1000), PACING_OK);
    for (int i = 0; i < 300; i++)
        assert_int_equal(pacing_forget(c, uid(i), strlen(uid(i))), PACING_OK);
    st = stats(c);
    assert_int_equal(st.users, 0);
    assert_int_equal(st.users_forgotten, 300);
    for (int i = 0; i < 300; i++)
        assert_int_equal(lookup(c, uid(i), 1000), PACING_E_NOTFOUND);
    assert_balance(c);
    pacing_ctx_free(c);
}

static void test_lru_order(void **state)
{
    (void)state;
    pacing_ctx *c = new_ctx(256, 1, 0);
    int64_t t = 0;
    for (int i = 0; i < 256; i++)
        assert_int_equal(push(c, uid(i), PACING_EV_SESSION_START, t += 10),
                         PACING_OK);
    assert_int_equal(stats(c).users_evicted_lru, 0);

    /* touching the oldest user (an event) makes it the most recent */
    assert_int_equal(push(c, uid(0), PACING_EV_DWELL, t += 10), PACING_OK);
    assert_int_equal(push(c, uid(256), PACING_EV_SESSION_START, t += 10),
                     PACING_OK);
    assert_int_equal(stats(c).users_evicted_lru, 1);
    assert_int_equal(lookup(c, uid(0), t), PACING_OK);
    assert_int_equal(lookup(c, uid(1), t), PACING_E_NOTFOUND);
    assert_int_equal(lookup(c, uid(2), t), PACING_OK);

    /* reading scores is read-only: it does not protect user 2 */
    assert_int_equal(lookup(c, uid(2), t), PACING_OK);
    assert_int_equal(push(c, uid(257), PACING_EV_SESSION_START, t += 10),
                     PACING_OK);
    assert_int_equal(lookup(c, uid(2), t), PACING_E_NOTFOUND);
    assert_int_equal(lookup(c, uid(3), t), PACING_OK);

    /* a late event (inside the reorder window) also counts as a use */
    assert_int_equal(push(c, uid(3), PACING_EV_DWELL, t - 1000), PACING_OK);
    assert_int_equal(push(c, uid(258), PACING_EV_SESSION_START, t += 10),
                     PACING_OK);
    assert_int_equal(lookup(c, uid(3), t), PACING_OK);
    assert_int_equal(lookup(c, uid(4), t), PACING_E_NOTFOUND);

    pacing_stats st = stats(c);
    assert_int_equal(st.users, 256);
    assert_int_equal(st.users_evicted_lru, 3);
    assert_balance(c);
    pacing_ctx_free(c);
}

/* ---- TTL ---- */

static void test_ttl_expiry(void **state)
{
    (void)state;
    pacing_ctx *c = new_ctx(64, 1, 1000);
    assert_int_equal(push(c, "a", PACING_EV_SESSION_START, 0), PACING_OK);
    assert_int_equal(push(c, "b", PACING_EV_SESSION_START, 500), PACING_OK);

    /* idle exactly the TTL: still there; one ms more: gone */
    assert_int_equal(lookup(c, "a", 1000), PACING_OK);
    assert_int_equal(lookup(c, "a", 1001), PACING_E_NOTFOUND);
    assert_int_equal(lookup(c, "b", 1001), PACING_OK);
    /* a read does not remove it: it is still counted */
    assert_int_equal(stats(c).users, 2);

    uint64_t n = 99;
    assert_int_equal(pacing_expire(c, 1001, &n), PACING_OK);
    assert_int_equal(n, 1);
    pacing_stats st = stats(c);
    assert_int_equal(st.users, 1);
    assert_int_equal(st.users_expired, 1);
    assert_balance(c);
    /* nothing more to expire at the same time; n_expired may be NULL */
    assert_int_equal(pacing_expire(c, 1001, &n), PACING_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pacing_expire(c, 1501, NULL), PACING_OK);
    st = stats(c);
    assert_int_equal(st.users, 0);
    assert_int_equal(st.users_expired, 2);
    assert_int_equal(lookup(c, "b", 1501), PACING_E_NOTFOUND);

    /* a returning user starts over */
    assert_int_equal(push(c, "a", PACING_EV_SESSION_START, 2000), PACING_OK);
    assert_int_equal(lookup(c, "a", 2000), PACING_OK);
    st = stats(c);
    assert_int_equal(st.users_created, 3);
    assert_balance(c);

    assert_int_equal(pacing_expire(NULL, 0, &n), PACING_E_NULL);
    assert_int_equal(pacing_expire(c, -1, &n), PACING_E_TIME);
    assert_int_equal(pacing_expire(c, ((int64_t)1 << 53) + 1, &n),
                     PACING_E_TIME);
    pacing_ctx_free(c);
}

/* Expiry also happens lazily: an event for an expired user, or a new user
 * arriving at a full table whose LRU user has expired. */
static void test_ttl_lazy(void **state)
{
    (void)state;
    pacing_ctx *c = new_ctx(2, 1, 1000);
    assert_int_equal(push(c, "x", PACING_EV_EXPOSURE, 0), PACING_OK);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(c, "x", 1, 10, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1d, 1);

    /* x idle 5000 ms > TTL: its old state is dropped, it starts over */
    assert_int_equal(push(c, "x", PACING_EV_SESSION_START, 5000), PACING_OK);
    pacing_stats st = stats(c);
    assert_int_equal(st.users_expired, 1);
    assert_int_equal(st.users_created, 2);
    assert_int_equal(st.users, 1);
    assert_int_equal(pacing_scores_get(c, "x", 1, 5000, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1d, 0);
    assert_int_equal(sc.last_seen_ms, 5000);

    /* fill the table (x, y), let both expire, add z: the LRU user is
     * expired, not evicted */
    assert_int_equal(push(c, "y", PACING_EV_SESSION_START, 5100), PACING_OK);
    assert_int_equal(push(c, "z", PACING_EV_SESSION_START, 9000), PACING_OK);
    st = stats(c);
    assert_int_equal(st.users_evicted_lru, 0);
    assert_int_equal(st.users_expired, 2);
    assert_int_equal(st.users, 2);
    assert_balance(c);
    pacing_ctx_free(c);
}

/* A negative TTL (any) means users never expire. */
static void test_ttl_never(void **state)
{
    (void)state;
    const int64_t ttls[] = {-1, -12345, INT64_MIN};
    for (int i = 0; i < 3; i++) {
        pacing_ctx *c = new_ctx(16, 1, ttls[i]);
        assert_int_equal(push(c, "a", PACING_EV_SESSION_START, 0), PACING_OK);
        const int64_t far = (int64_t)1 << 52;
        assert_int_equal(lookup(c, "a", far), PACING_OK);
        uint64_t n = 99;
        assert_int_equal(pacing_expire(c, far, &n), PACING_OK);
        assert_int_equal(n, 0);
        /* an event much later finds the same user */
        assert_int_equal(push(c, "a", PACING_EV_SESSION_START, far), PACING_OK);
        pacing_stats st = stats(c);
        assert_int_equal(st.users, 1);
        assert_int_equal(st.users_created, 1);
        assert_int_equal(st.users_expired, 0);
        pacing_ctx_free(c);
    }
}

/* ---- forget ---- */

static void test_forget(void **state)
{
    (void)state;
    pacing_ctx *c = new_ctx(64, 1, 0);
    assert_int_equal(push(c, "alice", PACING_EV_EXPOSURE, 100), PACING_OK);
    assert_int_equal(push(c, "bob", PACING_EV_EXPOSURE, 100), PACING_OK);
    assert_int_equal(lookup(c, "alice", 200), PACING_OK);

    assert_int_equal(pacing_forget(c, "alice", 5), PACING_OK);
    assert_int_equal(lookup(c, "alice", 200), PACING_E_NOTFOUND);
    pacing_contribution out[8];
    for (int i = 0; i < 8; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].size = sizeof out[i];
    }
    size_t n = 0;
    assert_int_equal(pacing_contributions(c, "alice", 5, 200,
                                          PACING_SCORE_FATIGUE, out, 8, &n),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_forget(c, "alice", 5), PACING_E_NOTFOUND);
    assert_int_equal(pacing_forget(c, "nobody", 6), PACING_E_NOTFOUND);
    assert_true(strlen(pacing_errmsg(c)) > 0);
    /* bob is untouched */
    assert_int_equal(lookup(c, "bob", 200), PACING_OK);

    uint64_t p;
    assert_int_equal(pacing_pseudonym(c, "bob", 3, &p), PACING_OK);
    assert_int_equal(pacing_forget_pseudonym(c, p), PACING_OK);
    assert_int_equal(lookup(c, "bob", 200), PACING_E_NOTFOUND);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get_pseudonym(c, p, 200, &sc),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_forget_pseudonym(c, p), PACING_E_NOTFOUND);
    assert_int_equal(pacing_forget_pseudonym(c, 0), PACING_E_INVAL);

    /* a forgotten user comes back fresh */
    assert_int_equal(push(c, "alice", PACING_EV_SESSION_START, 300), PACING_OK);
    assert_int_equal(pacing_scores_get(c, "alice", 5, 300, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1d, 0);

    pacing_stats st = stats(c);
    assert_int_equal(st.users_forgotten, 2);
    assert_int_equal(st.users, 1);
    assert_balance(c);

    assert_int_equal(pacing_forget(NULL, "a", 1), PACING_E_NULL);
    assert_int_equal(pacing_forget(c, NULL, 1), PACING_E_NULL);
    assert_int_equal(pacing_forget(c, "a", 0), PACING_E_RANGE);
    assert_int_equal(pacing_forget_pseudonym(NULL, 1), PACING_E_NULL);
    pacing_ctx_free(c);
}

/* Forgetting frees the slot: the next new user takes it, evicting nobody. */
static void test_forget_frees_slot(void **state)
{
    (void)state;
    pacing_ctx *c = new_ctx(256, 1, 0);
    for (int i = 0; i < 256; i++)
        assert_int_equal(push(c, uid(i), PACING_EV_SESSION_START, i), PACING_OK);
    assert_int_equal(pacing_forget(c, uid(100), strlen(uid(100))), PACING_OK);
    assert_int_equal(stats(c).users, 255);
    assert_int_equal(push(c, uid(1000), PACING_EV_SESSION_START, 500),
                     PACING_OK);
    pacing_stats st = stats(c);
    assert_int_equal(st.users, 256);
    assert_int_equal(st.users_evicted_lru, 0);
    for (int i = 0; i < 256; i++)
        assert_int_equal(lookup(c, uid(i), 600),
                         i == 100 ? PACING_E_NOTFOUND : PACING_OK);
    assert_int_equal(lookup(c, uid(1000), 600), PACING_OK);
    assert_balance(c);
    pacing_ctx_free(c);
}

/* ---- index integrity under churn ---- */

static uint64_t rng_state;
static uint64_t rng(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#define POOL 160

/* Random inserts and forgets, never more than `limit` users at once (at
 * most one stripe's size, so nothing is evicted), against a reference set.
 * Users are
 * addressed by pseudonym, drawn from a fixed random pool; every 8th op
 * uses a byte id instead, to cover both paths. */
static void churn(uint64_t capacity, uint32_t stripes, uint64_t limit,
                  uint64_t seed, int ops)
{
    pacing_ctx *c = new_ctx(capacity, stripes, 0);
    rng_state = seed;
    uint64_t pool[POOL];
    char ids[POOL][16];
    for (int i = 0; i < POOL; i++) {
        snprintf(ids[i], sizeof ids[i], "churn%03d", i);
        if (i % 8 == 0) /* the pseudonym of a byte id */
            assert_int_equal(pacing_pseudonym(c, ids[i], strlen(ids[i]),
                                              &pool[i]),
                             PACING_OK);
        else
            pool[i] = rng() | 1; /* never 0 */
    }
    int present[POOL] = {0};
    uint64_t count = 0, forgotten = 0;
    int64_t t = 0;
    for (int op = 0; op < ops; op++) {
        int k = (int)(rng() % POOL);
        int insert = rng() % 100 < 55;
        t += 1;
        if (insert && !present[k] && count == limit) {
            /* full: forget a present user instead */
            while (!present[k])
                k = (k + 1) % POOL;
            insert = 0;
        }
        if (insert) {
            pacing_event ev = PACING_EVENT_INIT;
            ev.type = PACING_EV_SESSION_START;
            ev.time_ms = t;
            ev.value = (double)op;
            if (k % 8 == 0) {
                ev.user = ids[k];
                ev.user_len = strlen(ids[k]);
            } else {
                ev.flags = PACING_EVF_PSEUDONYM;
                ev.pseudonym = pool[k];
            }
            assert_int_equal(pacing_push(c, &ev), PACING_OK);
            if (!present[k]) {
                present[k] = 1;
                count++;
            }
        } else {
            int rc = k % 8 == 0 ? pacing_forget(c, ids[k], strlen(ids[k]))
                                : pacing_forget_pseudonym(c, pool[k]);
            if (rc != (present[k] ? PACING_OK : PACING_E_NOTFOUND))
                fail_msg("op %d: forget %d (present %d): status %d", op, k,
                         present[k], rc);
            if (present[k]) {
                present[k] = 0;
                count--;
                forgotten++;
            }
        }
        /* the whole reference set against the table */
        for (int i = 0; i < POOL; i++) {
            pacing_scores sc = PACING_SCORES_INIT;
            int rc = pacing_scores_get_pseudonym(c, pool[i], t, &sc);
            if (rc != (present[i] ? PACING_OK : PACING_E_NOTFOUND))
                fail_msg("capacity %llu seed %llu op %d: user %d (present %d): "
                         "status %d",
                         (unsigned long long)capacity,
                         (unsigned long long)seed, op, i, present[i], rc);
        }
    }
    pacing_stats st = stats(c);
    assert_int_equal(st.users, count);
    assert_int_equal(st.users_evicted_lru, 0);
    assert_int_equal(st.users_forgotten, forgotten);
    assert_balance(c);
    pacing_ctx_free(c);
}

static void test_index_churn(void **state)
{
    (void)state;
    churn(16, 1, 16, 1, 3000);
    churn(64, 1, 64, 2, 3000);
    churn(7, 1, 7, 3, 2000);
    churn(1, 1, 1, 4, 200);
    churn(64, 4, 16, 5, 3000); /* striped: 16 slots per stripe */
}

/* ---- pseudonym-addressed events ---- */

static void test_pseudonym_events(void **state)
{
    (void)state;
    pacing_ctx *c = new_ctx(64, 1, 0);
    uint64_t p;
    assert_int_equal(pacing_pseudonym(c, "alice", 5, &p), PACING_OK);

    assert_int_equal(push(c, "alice", PACING_EV_EXPOSURE, 1000), PACING_OK);
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = PACING_EV_EXPOSURE;
    ev.flags = PACING_EVF_PSEUDONYM;
    ev.pseudonym = p;
    ev.time_ms = 2000;
    /* user bytes are ignored with the flag, even if set */
    ev.user = "mallory";
    ev.user_len = 7;
    assert_int_equal(pacing_push(c, &ev), PACING_OK);

    pacing_stats st = stats(c);
    assert_int_equal(st.users, 1);
    assert_int_equal(st.users_created, 1);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(c, "alice", 5, 2000, &sc), PACING_OK);
    assert_int_equal(sc.exposures_1m, 2);
    assert_int_equal(sc.last_seen_ms, 2000);
    assert_int_equal(lookup(c, "mallory", 2000), PACING_E_NOTFOUND);

    /* a user first seen by pseudonym is found by its id */
    uint64_t q;
    assert_int_equal(pacing_pseudonym(c, "bob", 3, &q), PACING_OK);
    ev.pseudonym = q;
    ev.user = NULL;
    ev.user_len = 0;
    assert_int_equal(pacing_push(c, &ev), PACING_OK);
    assert_int_equal(lookup(c, "bob", 2000), PACING_OK);
    assert_int_equal(pacing_forget(c, "bob", 3), PACING_OK);
    assert_int_equal(pacing_scores_get_pseudonym(c, q, 2000, &sc),
                     PACING_E_NOTFOUND);

    /* pseudonym 0 is never valid */
    ev.pseudonym = 0;
    assert_int_equal(pacing_push(c, &ev), PACING_E_INVAL);
    assert_int_equal(stats(c).users, 1);
    pacing_ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_and_eviction),
        cmocka_unit_test(test_capacity_striped),
        cmocka_unit_test(test_lru_order),
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_ttl_lazy),
        cmocka_unit_test(test_ttl_never),
        cmocka_unit_test(test_forget),
        cmocka_unit_test(test_forget_frees_slot),
        cmocka_unit_test(test_index_churn),
        cmocka_unit_test(test_pseudonym_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
