/* Context: version, status strings, options validation, error messages,
 * counters and score weights. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "pacing.h"

/* A non-NULL value to preset out-pointers with, so that a test sees whether
 * a failing call reset them to NULL. */
static int sentinel_storage;
#define SENTINEL ((pacing_ctx *)(void *)&sentinel_storage)

static int push(pacing_ctx *c, const char *user, uint32_t type, uint32_t flags,
                int64_t t, double v)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.flags = flags;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = v;
    return pacing_push(c, &ev);
}

/* ---- version and status strings ---- */

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(pacing_version_number(), PACING_VERSION_NUMBER);
    assert_int_equal(PACING_VERSION_NUMBER,
                     PACING_VERSION_MAJOR * 10000 + PACING_VERSION_MINOR * 100 +
                         PACING_VERSION_PATCH);
    const char *s = pacing_version_string();
    assert_non_null(s);
    assert_string_equal(s, PACING_VERSION_STRING);
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", PACING_VERSION_MAJOR,
             PACING_VERSION_MINOR, PACING_VERSION_PATCH);
    assert_string_equal(s, buf);
    assert_true(PACING_AT_LEAST_VERSION(PACING_VERSION_MAJOR,
                                        PACING_VERSION_MINOR,
                                        PACING_VERSION_PATCH));
    assert_true(PACING_AT_LEAST_VERSION(0, 99, 99));
    assert_false(PACING_AT_LEAST_VERSION(PACING_VERSION_MAJOR + 1, 0, 0));
    assert_false(PACING_AT_LEAST_VERSION(PACING_VERSION_MAJOR,
                                         PACING_VERSION_MINOR,
                                         PACING_VERSION_PATCH + 1));
}

static const int all_statuses[] = {
    PACING_OK,        PACING_DROPPED,    PACING_E_INVAL,   PACING_E_NULL,
    PACING_E_SIZE,    PACING_E_TYPE,     PACING_E_NAN,     PACING_E_RANGE,
    PACING_E_TOO_OLD, PACING_E_NOMEM,    PACING_E_FULL,    PACING_E_NOTFOUND,
    PACING_E_EXISTS,  PACING_E_CONFIG,   PACING_E_CORRUPT, PACING_E_IO,
    PACING_E_TIME,    PACING_E_VETOED,   PACING_E_VERSION,
};
#define N_STATUSES (sizeof all_statuses / sizeof all_statuses[0])

static void test_strerror(void **state)
{
    (void)state;
    const char *unknown = pacing_strerror(-1000);
    assert_non_null(unknown);
    assert_true(strlen(unknown) > 0);
    for (size_t i = 0; i < N_STATUSES; i++) {
        const char *s = pacing_strerror(all_statuses[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        /* every known status has its own description */
        assert_string_not_equal(s, unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, pacing_strerror(all_statuses[j]));
    }
    const int others[] = {2, 1000, -18, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        const char *s = pacing_strerror(others[i]);
        assert_non_null(s);
        assert_string_equal(s, unknown);
    }
}

/* ---- options ---- */

static void test_options_init(void **state)
{
    (void)state;
    pacing_options o;
    memset(&o, 0xAB, sizeof o);
    pacing_options_init(&o);
    assert_int_equal(o.size, sizeof(pacing_options));
    assert_int_equal(o.flags, 0);
    assert_int_equal(o.capacity, 0);
    assert_int_equal(o.user_ttl_ms, 0);
    assert_true(o.feature_half_life_ms == 0.0);
    assert_null(o.allocator.alloc);
    pacing_options_init(NULL); /* no crash */

    pacing_options m = PACING_OPTIONS_INIT;
    assert_int_equal(m.size, sizeof(pacing_options));
    assert_int_equal(m.stripes, 0);
}

static void test_ctx_new_null_opts_defaults(void **state)
{
    (void)state;
    pacing_ctx *c = SENTINEL;
    assert_int_equal(pacing_ctx_new(NULL, &c), PACING_OK);
    assert_non_null(c);
    assert_ptr_not_equal(c, SENTINEL);
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(c, &st), PACING_OK);
    assert_true(st.capacity >= 100000); /* documented default */
    assert_int_equal(st.users, 0);
    assert_int_equal(st.events_applied, 0);
    pacing_ctx_free(c);

    assert_int_equal(pacing_ctx_new(NULL, NULL), PACING_E_NULL);
}

static void test_ctx_new_wrong_size(void **state)
{
    (void)state;
    const size_t sizes[] = {0, sizeof(pacing_options) - 1,
                            sizeof(pacing_options) + 8, 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        pacing_options o;
        pacing_options_init(&o);
        o.size = sizes[i];
        pacing_ctx *c = SENTINEL;
        assert_int_equal(pacing_ctx_new(&o, &c), PACING_E_SIZE);
        assert_null(c);
        assert_true(strlen(pacing_errmsg(NULL)) > 0);
    }
}

/* One invalid option: a change to the defaults, the expected status and a
 * word the message must contain. */
typedef struct bad_option {
    const char *what;
    void (*set)(pacing_options *o);
    int status;
    const char *word;
} bad_option;

static void *dummy_alloc(void *op, size_t n) { (void)op; (void)n; return NULL; }
static void dummy_free(void *op, void *p, size_t n) { (void)op; (void)p; (void)n; }

/* Every flag the header documents. */
#ifdef PACING_OPT_RANDOM_SEED
#define KNOWN_FLAGS (PACING_OPT_SINGLE_THREAD | PACING_OPT_SECRET | \
                     PACING_OPT_REQUIRE_CONSENT | PACING_OPT_RANDOM_SEED)
#else
#define KNOWN_FLAGS (PACING_OPT_SINGLE_THREAD | PACING_OPT_SECRET | \
                     PACING_OPT_REQUIRE_CONSENT)
#endif

/* The lowest bit that is not a documented flag. */
static uint32_t first_unknown_flag(void)
{
    uint32_t b = 1;
    while (b & KNOWN_FLAGS)
        b <<= 1;
    return b;
}

static void set_flags_unknown(pacing_options *o) { o->flags = first_unknown_flag(); }
static void set_flags_high(pacing_options *o) { o->flags = PACING_OPT_SECRET | 0x80000000u; }
static void set_reserved0(pacing_options *o) { o->reserved0 = 1; }
static void set_alloc_only(pacing_options *o) { o->allocator.alloc = dummy_alloc; }
static void set_free_only(pacing_options *o) { o->allocator.free = dummy_free; }
static void set_capacity_big(pacing_options *o) { o->capacity = ((uint64_t)1 << 31) + 1; }
static void set_capacity_max(pacing_options *o) { o->capacity = UINT64_MAX; }
static void set_stripes_3(pacing_options *o) { o->stripes = 3; o->capacity = 1024; }
static void set_stripes_1023(pacing_options *o) { o->stripes = 1023; o->capacity = 4096; }
static void set_stripes_2048(pacing_options *o) { o->stripes = 2048; o->capacity = 4096; }
static void set_stripes_over_cap(pacing_options *o) { o->stripes = 8; o->capacity = 4; }
static void set_rage_1(pacing_options *o) { o->rage_clicks = 1; }
static void set_rage_6(pacing_options *o) { o->rage_clicks = 6; }
static void set_rage_101(pacing_options *o) { o->rage_clicks = 101; }
static void set_max_points(pacing_options *o) { o->max_points = 4097; }
static void set_pending(pacing_options *o) { o->pending_capacity = (1u << 22) + 1; }
static void set_horizon_neg(pacing_options *o) { o->hazard_horizon_ms = -1; }
static void set_bin_neg(pacing_options *o) { o->hazard_bin_ms = -10; }
static void set_reorder_neg(pacing_options *o) { o->reorder_window_ms = -1; }
static void set_reorder_huge(pacing_options *o) { o->reorder_window_ms = ((int64_t)1 << 53) + 1; }
static void set_rage_window_neg(pacing_options *o) { o->rage_window_ms = -5; }
static void set_dead_click_neg(pacing_options *o) { o->dead_click_ms = -1; }
static void set_ttl_huge(pacing_options *o) { o->user_ttl_ms = INT64_MAX; }
static void set_debounce_huge(pacing_options *o) { o->debounce_ms = ((int64_t)1 << 53) + 1; }
static void set_fhl_nan(pacing_options *o) { o->feature_half_life_ms = NAN; }
static void set_fhl_inf(pacing_options *o) { o->feature_half_life_ms = INFINITY; }
static void set_fhl_ninf(pacing_options *o) { o->feature_half_life_ms = -INFINITY; }
static void set_fhl_small(pacing_options *o) { o->feature_half_life_ms = 0.5; }
static void set_fhl_neg(pacing_options *o) { o->feature_half_life_ms = -1000.0; }
static void set_fhl_huge(pacing_options *o) { o->feature_half_life_ms = 1e300; }
static void set_bhl_nan(pacing_options *o) { o->baseline_half_life_ms = NAN; }
static void set_bhl_inf(pacing_options *o) { o->baseline_half_life_ms = INFINITY; }
static void set_bhl_small(pacing_options *o) { o->baseline_half_life_ms = 0.25; }

static const bad_option bad_options[] = {
    {"unknown flag", set_flags_unknown, PACING_E_INVAL, "flags"},
    {"high flag bit", set_flags_high, PACING_E_INVAL, "flags"},
    {"reserved0", set_reserved0, PACING_E_INVAL, "reserved0"},
    {"alloc without free", set_alloc_only, PACING_E_INVAL, "allocator"},
    {"free without alloc", set_free_only, PACING_E_INVAL, "allocator"},
    {"capacity 2^31+1", set_capacity_big, PACING_E_RANGE, "capacity"},
    {"capacity UINT64_MAX", set_capacity_max, PACING_E_RANGE, "capacity"},
    {"stripes 3", set_stripes_3, PACING_E_RANGE, "stripes"},
    {"stripes 1023", set_stripes_1023, PACING_E_RANGE, "stripes"},
    {"stripes 2048", set_stripes_2048, PACING_E_RANGE, "stripes"},
    {"stripes > capacity", set_stripes_over_cap, PACING_E_RANGE, "stripes"},
    {"rage_clicks 1", set_rage_1, PACING_E_RANGE, "rage_clicks"},
    {"rage_clicks 6", set_rage_6, PACING_E_RANGE, "rage_clicks"},
    {"rage_clicks 101", set_rage_101, PACING_E_RANGE, "rage_clicks"},
    {"max_points 4097", set_max_points, PACING_E_RANGE, "max_points"},
    {"pending_capacity 2^22+1", set_pending, PACING_E_RANGE, "pending_capacity"},
    {"negative hazard horizon", set_horizon_neg, PACING_E_RANGE, "hazard_horizon_ms"},
    {"negative hazard bin", set_bin_neg, PACING_E_RANGE, "hazard_bin_ms"},
    {"negative reorder window", set_reorder_neg, PACING_E_RANGE, "reorder_window_ms"},
    {"reorder window > 2^53", set_reorder_huge, PACING_E_RANGE, "reorder_window_ms"},
    {"negative rage window", set_rage_window_neg, PACING_E_RANGE, "rage_window_ms"},
    {"negative dead click", set_dead_click_neg, PACING_E_RANGE, "dead_click_ms"},
    {"ttl > 2^53", set_ttl_huge, PACING_E_RANGE, "user_ttl_ms"},
    {"debounce > 2^53", set_debounce_huge, PACING_E_RANGE, "debounce_ms"},
    {"feature half-life NaN", set_fhl_nan, PACING_E_NAN, "feature_half_life_ms"},
    {"feature half-life inf", set_fhl_inf, PACING_E_NAN, "feature_half_life_ms"},
    {"feature half-life -inf", set_fhl_ninf, PACING_E_NAN, "feature_half_life_ms"},
    {"feature half-life 0.5", set_fhl_small, PACING_E_RANGE, "feature_half_life_ms"},
    {"feature half-life < 0", set_fhl_neg, PACING_E_RANGE, "feature_half_life_ms"},
    {"feature half-life 1e300", set_fhl_huge, PACING_E_RANGE, "feature_half_life_ms"},
    {"baseline half-life NaN", set_bhl_nan, PACING_E_NAN, "baseline_half_life_ms"},
    {"baseline half-life inf", set_bhl_inf, PACING_E_NAN, "baseline_half_life_ms"},
    {"baseline half-life 0.25", set_bhl_small, PACING_E_RANGE, "baseline_half_life_ms"},
};

static void test_ctx_new_invalid_options(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        const bad_option *b = &bad_options[i];
        pacing_options o;
        pacing_options_init(&o);
        o.capacity = 1024;
        b->set(&o);
        pacing_ctx *c = SENTINEL;
        int rc = pacing_ctx_new(&o, &c);
        if (rc != b->status)
            fail_msg("%s: status %d (%s), expected %d", b->what, rc,
                     pacing_strerror(rc), b->status);
        if (c != NULL)
            fail_msg("%s: *out not reset to NULL", b->what);
        const char *msg = pacing_errmsg(NULL);
        assert_non_null(msg);
        if (strstr(msg, b->word) == NULL)
            fail_msg("%s: message \"%s\" does not name %s", b->what, msg,
                     b->word);
        pacing_ctx_free(c); /* NULL: no-op */
    }
}

/* Boundary values that are valid. */
static void test_ctx_new_valid_edges(void **state)
{
    (void)state;
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 1024;
    o.stripes = 1024;
    o.rage_clicks = 2;
    o.feature_half_life_ms = 1.0;
    o.baseline_half_life_ms = (double)((int64_t)1 << 53);
    o.user_ttl_ms = -1;
    o.debounce_ms = -1;
    o.reorder_window_ms = (int64_t)1 << 53;
    o.flags = PACING_OPT_SINGLE_THREAD | PACING_OPT_SECRET |
              PACING_OPT_REQUIRE_CONSENT;
    o.max_points = 4096;
    o.pending_capacity = 1u << 22;
    pacing_ctx *c = NULL;
    assert_int_equal(pacing_ctx_new(&o, &c), PACING_OK);
    assert_non_null(c);
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(c, &st), PACING_OK);
    assert_int_equal(st.capacity, 1024);
    pacing_ctx_free(c);

    pacing_options_init(&o);
    o.capacity = 16;
    o.stripes = 16; /* stripes == capacity is allowed */
    o.rage_clicks = 5; /* the header: [2, 5] */
    c = NULL;
    assert_int_equal(pacing_ctx_new(&o, &c), PACING_OK);
    pacing_ctx_free(c);

    pacing_options_init(&o);
    o.capacity = 1; /* the smallest table */
    c = NULL;
    assert_int_equal(pacing_ctx_new(&o, &c), PACING_OK);
    assert_int_equal(push(c, "a", PACING_EV_SESSION_START, 0, 0, 0), PACING_OK);
    assert_int_equal(push(c, "b", PACING_EV_SESSION_START, 0, 10, 0), PACING_OK);
    assert_int_equal(pacing_stats_get(c, &st), PACING_OK);
    assert_int_equal(st.users, 1);
    assert_int_equal(st.users_evicted_lru, 1);
    pacing_ctx_free(c);
}

/* Every flag the header documents is accepted, alone and together. */
static void test_ctx_new_documented_flags(void **state)
{
    (void)state;
    for (uint32_t b = 1; b != 0; b <<= 1) {
        if (!(KNOWN_FLAGS & b))
            continue;
        pacing_options o;
        pacing_options_init(&o);
        o.capacity = 64;
        o.flags = b;
        pacing_ctx *c = SENTINEL;
        int rc = pacing_ctx_new(&o, &c);
        if (rc != PACING_OK)
            fail_msg("documented flag 0x%x rejected: %s: %s", b,
                     pacing_strerror(rc), pacing_errmsg(NULL));
        pacing_ctx_free(c);
    }
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 64;
    o.flags = KNOWN_FLAGS;
    pacing_ctx *c = SENTINEL;
    int rc = pacing_ctx_new(&o, &c);
    if (rc != PACING_OK)
        fail_msg("flags 0x%x rejected: %s", (unsigned)KNOWN_FLAGS,
                 pacing_errmsg(NULL));
    pacing_ctx_free(c);
}

/* The header documents user_ttl_ms and debounce_ms: "any negative value:
 * never / off", not only -1. */
static void test_ctx_new_any_negative_ttl_debounce(void **state)
{
    (void)state;
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 64;
    o.user_ttl_ms = -2;
    pacing_ctx *c = SENTINEL;
    int rc = pacing_ctx_new(&o, &c);
    if (rc != PACING_OK)
        fail_msg("user_ttl_ms = -2 rejected (%s: %s); the header says "
                 "negative means never",
                 pacing_strerror(rc), pacing_errmsg(NULL));
    pacing_ctx_free(c);

    pacing_options_init(&o);
    o.capacity = 64;
    o.debounce_ms = -1000;
    c = SENTINEL;
    rc = pacing_ctx_new(&o, &c);
    if (rc != PACING_OK)
        fail_msg("debounce_ms = -1000 rejected (%s: %s); the header says "
                 "negative means off",
                 pacing_strerror(rc), pacing_errmsg(NULL));
    pacing_ctx_free(c);
}

static void test_ctx_free_null(void **state)
{
    (void)state;
    pacing_ctx_free(NULL);
}

/* ---- error messages ---- */

typedef struct thread_arg {
    pacing_ctx *ctx;
    char before[64];
    char after[256];
    int rc;
} thread_arg;

static void *fail_in_thread(void *p)
{
    thread_arg *a = p;
    snprintf(a->before, sizeof a->before, "%s", pacing_errmsg(a->ctx));
    a->rc = pacing_weight_set(a->ctx, PACING_SCORE_ATTENTION,
                              PACING_IN_SCROLL_DEPTH, -1.0);
    snprintf(a->after, sizeof a->after, "%s", pacing_errmsg(a->ctx));
    return NULL;
}

static void test_errmsg_per_context_and_thread(void **state)
{
    (void)state;
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 64;
    pacing_ctx *a = NULL, *b = NULL;
    assert_int_equal(pacing_ctx_new(&o, &a), PACING_OK);
    assert_int_equal(pacing_ctx_new(&o, &b), PACING_OK);

    assert_non_null(pacing_errmsg(a));
    assert_string_equal(pacing_errmsg(a), "");
    assert_string_equal(pacing_errmsg(b), "");

    /* a failure on a is reported for a only */
    assert_int_equal(pacing_weight_set(a, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, NAN),
                     PACING_E_NAN);
    assert_true(strlen(pacing_errmsg(a)) > 0);
    assert_string_equal(pacing_errmsg(b), "");
    assert_string_equal(pacing_errmsg(NULL), "");

    /* then one on b: now a's is gone for this thread */
    double w;
    assert_int_equal(pacing_weight_get(b, 99, 0, &w), PACING_E_INVAL);
    assert_true(strlen(pacing_errmsg(b)) > 0);
    assert_string_equal(pacing_errmsg(a), "");

    /* a failing pacing_ctx_new is reported for NULL, not for a context */
    pacing_options bad = o;
    bad.reserved0 = 7;
    pacing_ctx *c = SENTINEL;
    assert_int_equal(pacing_ctx_new(&bad, &c), PACING_E_INVAL);
    assert_true(strlen(pacing_errmsg(NULL)) > 0);
    assert_string_equal(pacing_errmsg(b), "");

    /* messages are per thread */
    assert_int_equal(pacing_weight_set(a, PACING_SCORE_FATIGUE, 123, 1.0),
                     PACING_E_INVAL);
    char mine[256];
    snprintf(mine, sizeof mine, "%s", pacing_errmsg(a));
    assert_true(strlen(mine) > 0);

    thread_arg ta;
    memset(&ta, 0, sizeof ta);
    ta.ctx = a;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fail_in_thread, &ta), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(ta.rc, PACING_E_RANGE);
    assert_string_equal(ta.before, ""); /* a new thread has no failure */
    assert_true(strlen(ta.after) > 0);
    assert_string_not_equal(ta.after, mine);
    /* the other thread's failure did not replace this thread's message */
    assert_string_equal(pacing_errmsg(a), mine);

    pacing_ctx_free(a);
    pacing_ctx_free(b);
}

/* ---- counters ---- */

static void test_stats(void **state)
{
    (void)state;
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 1001;
    pacing_ctx *c = NULL;
    assert_int_equal(pacing_ctx_new(&o, &c), PACING_OK);

    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(NULL, &st), PACING_E_NULL);
    assert_int_equal(pacing_stats_get(c, NULL), PACING_E_NULL);
    st.size = sizeof st - 1;
    assert_int_equal(pacing_stats_get(c, &st), PACING_E_SIZE);
    st.size = 0;
    assert_int_equal(pacing_stats_get(c, &st), PACING_E_SIZE);
    st.size = sizeof st + 8;
    assert_int_equal(pacing_stats_get(c, &st), PACING_E_SIZE);

    pacing_stats st0 = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(c, &st0), PACING_OK);
    assert_int_equal(st0.size, sizeof(pacing_stats));
    assert_int_equal(st0.users, 0);
    assert_true(st0.capacity >= 1001);
    assert_true(st0.bytes_allocated > 0);

    const char *users[] = {"alice", "bob", "carol"};
    int64_t t = 1000;
    for (int round = 0; round < 3; round++)
        for (int u = 0; u < 3; u++) {
            t += 100;
            assert_int_equal(push(c, users[u], PACING_EV_EXPOSURE, 0, t, 0),
                             PACING_OK);
        }
    t += 100;
    assert_int_equal(push(c, "dave", PACING_EV_DWELL, 0, t, 5000.0), PACING_OK);
    /* a bot event is dropped and counted; an invalid one is rejected */
    assert_int_equal(push(c, "eve", PACING_EV_CLICK, PACING_EVF_BOT, t, 10.0),
                     PACING_DROPPED);
    assert_int_equal(push(c, "eve", PACING_EV_DWELL, 0, t, -1.0),
                     PACING_E_RANGE);

    pacing_stats st1 = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(c, &st1), PACING_OK);
    assert_int_equal(st1.users, 4);
    assert_int_equal(st1.users_created, 4);
    assert_int_equal(st1.capacity, st0.capacity);
    assert_int_equal(st1.events_applied, 10);
    assert_int_equal(st1.events_dropped_bot, 1);
    assert_int_equal(st1.events_rejected, 1);
    assert_int_equal(st1.users_evicted_lru, 0);
    assert_int_equal(st1.users_expired, 0);
    assert_int_equal(st1.users_forgotten, 0);
    /* pushing never allocates */
    assert_int_equal(st1.bytes_allocated, st0.bytes_allocated);
    pacing_ctx_free(c);
}

/* ---- weights ---- */

static pacing_ctx *small_ctx(void)
{
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 64;
    pacing_ctx *c = NULL;
    assert_int_equal(pacing_ctx_new(&o, &c), PACING_OK);
    return c;
}

static void test_weight_set_get(void **state)
{
    (void)state;
    pacing_ctx *c = small_ctx();
    double w = -1;
    assert_int_equal(pacing_weight_get(c, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, &w),
                     PACING_OK);
    assert_true(w > 0.0 && w <= 1000.0);

    assert_int_equal(pacing_weight_set(c, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, 0.75),
                     PACING_OK);
    assert_int_equal(pacing_weight_get(c, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, &w),
                     PACING_OK);
    assert_true(w == 0.75);
    /* the bounds are inclusive */
    assert_int_equal(pacing_weight_set(c, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, 1000.0),
                     PACING_OK);
    assert_int_equal(pacing_weight_set(c, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, 0.0),
                     PACING_OK);
    assert_int_equal(pacing_weight_get(c, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, &w),
                     PACING_OK);
    assert_true(w == 0.0);

    /* error_rate belongs to fatigue and cognitive load, with own weights */
    double load_w;
    assert_int_equal(pacing_weight_get(c, PACING_SCORE_COGNITIVE_LOAD,
                                       PACING_IN_ERROR_RATE, &load_w),
                     PACING_OK);
    assert_int_equal(pacing_weight_set(c, PACING_SCORE_FATIGUE,
                                       PACING_IN_ERROR_RATE, 7.0),
                     PACING_OK);
    assert_int_equal(pacing_weight_get(c, PACING_SCORE_COGNITIVE_LOAD,
                                       PACING_IN_ERROR_RATE, &w),
                     PACING_OK);
    assert_true(w == load_w);
    assert_int_equal(pacing_weight_get(c, PACING_SCORE_FATIGUE,
                                       PACING_IN_ERROR_RATE, &w),
                     PACING_OK);
    assert_true(w == 7.0);

    /* NULLs */
    assert_int_equal(pacing_weight_get(c, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, NULL),
                     PACING_E_NULL);
    assert_int_equal(pacing_weight_get(NULL, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, &w),
                     PACING_E_NULL);
    assert_int_equal(pacing_weight_set(NULL, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, 1.0),
                     PACING_E_NULL);
    pacing_ctx_free(c);
}

/* Every failing weight_set returns the right status and leaves the weight. */
static void test_weight_set_errors(void **state)
{
    (void)state;
    pacing_ctx *c = small_ctx();
    const int kind = PACING_SCORE_ENGAGEMENT, in = PACING_IN_HOVER;
    assert_int_equal(pacing_weight_set(c, kind, in, 2.5), PACING_OK);

    static const struct {
        int kind, input;
        double w;
        int status;
    } cases[] = {
        {-1, PACING_IN_HOVER, 1.0, PACING_E_INVAL},
        {4, PACING_IN_HOVER, 1.0, PACING_E_INVAL},
        {PACING_SCORE_ENGAGEMENT, -1, 1.0, PACING_E_INVAL},
        {PACING_SCORE_ENGAGEMENT, PACING_INPUT_COUNT, 1.0, PACING_E_INVAL},
        /* inputs that are not part of the kind */
        {PACING_SCORE_FATIGUE, PACING_IN_HOVER, 1.0, PACING_E_INVAL},
        {PACING_SCORE_ATTENTION, PACING_IN_DISMISSALS, 1.0, PACING_E_INVAL},
        {PACING_SCORE_ENGAGEMENT, PACING_IN_ERROR_RATE, 1.0, PACING_E_INVAL},
        {PACING_SCORE_COGNITIVE_LOAD, PACING_IN_VISIBILITY, 1.0, PACING_E_INVAL},
        {PACING_SCORE_ENGAGEMENT, PACING_IN_HOVER, NAN, PACING_E_NAN},
        {PACING_SCORE_ENGAGEMENT, PACING_IN_HOVER, INFINITY, PACING_E_NAN},
        {PACING_SCORE_ENGAGEMENT, PACING_IN_HOVER, -INFINITY, PACING_E_NAN},
        {PACING_SCORE_ENGAGEMENT, PACING_IN_HOVER, -0.001, PACING_E_RANGE},
        {PACING_SCORE_ENGAGEMENT, PACING_IN_HOVER, -5.0, PACING_E_RANGE},
        {PACING_SCORE_ENGAGEMENT, PACING_IN_HOVER, 1000.001, PACING_E_RANGE},
        {PACING_SCORE_ENGAGEMENT, PACING_IN_HOVER, 1e9, PACING_E_RANGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = pacing_weight_set(c, cases[i].kind, cases[i].input, cases[i].w);
        if (rc != cases[i].status)
            fail_msg("case %zu: status %d, expected %d", i, rc, cases[i].status);
        assert_true(strlen(pacing_errmsg(c)) > 0);
        double w = 0;
        assert_int_equal(pacing_weight_get(c, kind, in, &w), PACING_OK);
        assert_true(w == 2.5);
    }
    /* weight_get of an input outside the kind */
    double w;
    assert_int_equal(pacing_weight_get(c, PACING_SCORE_FATIGUE, PACING_IN_HOVER,
                                       &w),
                     PACING_E_INVAL);
    assert_int_equal(pacing_weight_get(c, -1, PACING_IN_HOVER, &w),
                     PACING_E_INVAL);
    pacing_ctx_free(c);
}

/* Zeroing every weight of a score is refused at the last one, and that
 * weight keeps its value. */
static void test_weight_all_zero_refused(void **state)
{
    (void)state;
    pacing_ctx *c = small_ctx();
    const int kind = PACING_SCORE_ATTENTION;
    const int ins[] = {PACING_IN_SCROLL_DEPTH, PACING_IN_DWELL_RATIO,
                       PACING_IN_VISIBILITY};
    double last_before;
    assert_int_equal(pacing_weight_get(c, kind, ins[2], &last_before), PACING_OK);
    assert_true(last_before > 0.0);

    assert_int_equal(pacing_weight_set(c, kind, ins[0], 0.0), PACING_OK);
    assert_int_equal(pacing_weight_set(c, kind, ins[1], 0.0), PACING_OK);
    assert_int_equal(pacing_weight_set(c, kind, ins[2], 0.0), PACING_E_RANGE);
    assert_true(strlen(pacing_errmsg(c)) > 0);

    double w;
    assert_int_equal(pacing_weight_get(c, kind, ins[0], &w), PACING_OK);
    assert_true(w == 0.0);
    assert_int_equal(pacing_weight_get(c, kind, ins[1], &w), PACING_OK);
    assert_true(w == 0.0);
    assert_int_equal(pacing_weight_get(c, kind, ins[2], &w), PACING_OK);
    assert_true(w == last_before);

    /* a tiny positive weight is enough */
    assert_int_equal(pacing_weight_set(c, kind, ins[2], 1e-9), PACING_OK);
    /* and once another weight is back, the last one may become zero */
    assert_int_equal(pacing_weight_set(c, kind, ins[0], 1.0), PACING_OK);
    assert_int_equal(pacing_weight_set(c, kind, ins[2], 0.0), PACING_OK);
    assert_int_equal(pacing_weight_set(c, kind, ins[0], 0.0), PACING_E_RANGE);
    assert_int_equal(pacing_weight_get(c, kind, ins[0], &w), PACING_OK);
    assert_true(w == 1.0);

    /* the other kinds were not touched */
    assert_int_equal(pacing_weight_get(c, PACING_SCORE_ENGAGEMENT,
                                       PACING_IN_CLICK_RATE, &w),
                     PACING_OK);
    assert_true(w > 0.0);
    pacing_ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_options_init),
        cmocka_unit_test(test_ctx_new_null_opts_defaults),
        cmocka_unit_test(test_ctx_new_wrong_size),
        cmocka_unit_test(test_ctx_new_invalid_options),
        cmocka_unit_test(test_ctx_new_valid_edges),
        cmocka_unit_test(test_ctx_new_documented_flags),
        cmocka_unit_test(test_ctx_new_any_negative_ttl_debounce),
        cmocka_unit_test(test_ctx_free_null),
        cmocka_unit_test(test_errmsg_per_context_and_thread),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_weight_set_get),
        cmocka_unit_test(test_weight_set_errors),
        cmocka_unit_test(test_weight_all_zero_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
