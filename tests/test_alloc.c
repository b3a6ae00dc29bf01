/* Allocator hooks: failure injection in pacing_ctx_new, no leaks, sizes
 * passed to free, no allocation after creation, bytes_allocated. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* pc_stripe: to check the alignment it needs */

#define MAX_LIVE 4096
#define MAGIC 0x5EED1234u

/* A counting allocator that fails its fail_at-th call (0-based) and keeps a
 * table of live blocks with the size asked for each. */
typedef struct counter {
    unsigned magic;
    size_t fail_at;           /* SIZE_MAX: never */
    size_t alloc_calls, free_calls;
    size_t outstanding;       /* bytes */
    size_t n_live;
    struct { void *p; size_t size; } live[MAX_LIVE];
    int unknown_free, size_mismatch, zero_size;
} counter;

/* Calls that did not receive our opaque pointer. */
static int wrong_opaque;

static void *count_alloc(void *opaque, size_t size)
{
    counter *c = opaque;
    if (!c || c->magic != MAGIC) {
        wrong_opaque++;
        return NULL;
    }
    size_t idx = c->alloc_calls++;
    if (idx == c->fail_at)
        return NULL;
    if (size == 0)
        c->zero_size++;
    if (c->n_live == MAX_LIVE)
        return NULL;
    void *p = malloc(size ? size : 1);
    if (!p)
        return NULL;
    c->live[c->n_live].p = p;
    c->live[c->n_live].size = size;
    c->n_live++;
    c->outstanding += size;
    return p;
}

static void count_free(void *opaque, void *ptr, size_t size)
{
    counter *c = opaque;
    if (!c || c->magic != MAGIC) {
        wrong_opaque++;
        return; /* leaked rather than risk freeing twice */
    }
    c->free_calls++;
    for (size_t i = 0; i < c->n_live; i++) {
        if (c->live[i].p == ptr) {
            if (c->live[i].size != size)
                c->size_mismatch++;
            c->outstanding -= c->live[i].size;
            c->live[i] = c->live[--c->n_live];
            free(ptr);
            return;
        }
    }
    c->unknown_free++; /* never allocated here, or freed twice */
}

static void counter_init(counter *c, size_t fail_at)
{
    memset(c, 0, sizeof *c);
    c->magic = MAGIC;
    c->fail_at = fail_at;
}

static void counter_assert_clean(const counter *c)
{
    assert_int_equal(wrong_opaque, 0);
    assert_int_equal(c->unknown_free, 0);
    assert_int_equal(c->size_mismatch, 0);
    assert_int_equal(c->zero_size, 0);
}

static void options_with(pacing_options *o, counter *c, uint64_t capacity,
                         uint32_t stripes)
{
    pacing_options_init(o);
    o->capacity = capacity;
    o->stripes = stripes;
    o->allocator.alloc = count_alloc;
    o->allocator.free = count_free;
    o->allocator.opaque = c;
    o->flags = PACING_OPT_SECRET; /* deterministic placement of users */
    memset(o->secret, 0x5A, sizeof o->secret);
}

/* Fail the 0th, 1st, 2nd ... allocation of pacing_ctx_new until it
 * succeeds; every failure must be NOMEM with nothing leaked. Returns the
 * context of the first success; *calls receives its number of allocations. */
static pacing_ctx *new_with_failures(counter *c, uint64_t capacity,
                                     uint32_t stripes, size_t *calls)
{
    for (size_t n = 0; n < 10000; n++) {
        counter_init(c, n);
        pacing_options o;
        options_with(&o, c, capacity, stripes);
        pacing_ctx *ctx = (pacing_ctx *)(void *)c; /* non-NULL garbage */
        int rc = pacing_ctx_new(&o, &ctx);
        if (rc == PACING_OK) {
            assert_non_null(ctx);
            /* the n-th allocation was never asked for: success used n */
            assert_int_equal(c->alloc_calls, n);
            *calls = n;
            return ctx;
        }
        if (rc != PACING_E_NOMEM)
            fail_msg("stripes %u: failing allocation %zu gave status %d (%s)",
                     stripes, n, rc, pacing_strerror(rc));
        assert_null(ctx);
        assert_true(strlen(pacing_errmsg(NULL)) > 0);
        if (c->outstanding != 0 || c->n_live != 0)
            fail_msg("stripes %u: failing allocation %zu leaks %zu bytes in "
                     "%zu blocks",
                     stripes, n, c->outstanding, c->n_live);
        counter_assert_clean(c);
        /* the failure was injected on a call that was made */
        assert_true(c->alloc_calls > n);
    }
    fail_msg("pacing_ctx_new never succeeded");
    return NULL;
}

static void test_ctx_new_alloc_failures_one_stripe(void **state)
{
    (void)state;
    static counter c;
    size_t calls = 0;
    pacing_ctx *ctx = new_with_failures(&c, 256, 1, &calls);
    assert_true(calls >= 2);
    pacing_ctx_free(ctx);
    assert_int_equal(c.outstanding, 0);
    assert_int_equal(c.n_live, 0);
    assert_int_equal(c.free_calls, calls);
    counter_assert_clean(&c);
}

static void test_ctx_new_alloc_failures_many_stripes(void **state)
{
    (void)state;
    static counter c;
    const uint32_t stripes[] = {4, 64};
    for (size_t i = 0; i < 2; i++) {
        size_t calls = 0;
        pacing_ctx *ctx = new_with_failures(&c, 4096, stripes[i], &calls);
        /* per stripe memory is allocated and must be freed on failure
         * halfway through; at least one allocation per stripe */
        assert_true(calls >= stripes[i]);
        pacing_stats st = PACING_STATS_INIT;
        assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
        assert_int_equal(st.bytes_allocated, c.outstanding);
        pacing_ctx_free(ctx);
        assert_int_equal(c.outstanding, 0);
        assert_int_equal(c.n_live, 0);
        counter_assert_clean(&c);
    }
}

static int push(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                double v)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = v;
    return pacing_push(ctx, &ev);
}

static double step_weight(const double p[4], double age)
{
    return age < p[0] ? 1.0 : 0.0;
}

/* Once created, nothing allocates: pushes for new and existing users (with
 * evictions), reads, forget, expire, weights, decay modules. */
static void test_no_allocation_after_creation(void **state)
{
    (void)state;
    static counter c;
    counter_init(&c, SIZE_MAX);
    pacing_options o;
    options_with(&o, &c, 1024, 0);
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
    const size_t calls = c.alloc_calls, frees = c.free_calls;
    const size_t bytes = c.outstanding;
    assert_true(calls > 0);

    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.bytes_allocated, c.outstanding);

    static const uint32_t types[] = {
        PACING_EV_EXPOSURE,      PACING_EV_DISMISS,  PACING_EV_INPUT_LATENCY,
        PACING_EV_CLICK,         PACING_EV_DWELL,    PACING_EV_READING_SPEED,
        PACING_EV_TAB_HIDDEN,    PACING_EV_UNDO,     PACING_EV_MICRO_CONVERSION,
        PACING_EV_SCROLL_DEPTH,
    };
    char id[32];
    int64_t t = 1000;
    /* 10^4 pushes: half to 50 existing users, half to 5000 new ones (the
     * table holds 1024, so most of those evict) */
    for (int i = 0; i < 10000; i++) {
        if (i % 2 == 0)
            snprintf(id, sizeof id, "regular-%d", (i / 2) % 50);
        else
            snprintf(id, sizeof id, "new-%d", i);
        uint32_t type = types[i % 10];
        double v = type == PACING_EV_SCROLL_DEPTH ? 0.5 : (double)(i % 300);
        t += 7;
        int rc = push(ctx, id, type, t, v);
        assert_true(rc == PACING_OK || rc == PACING_DROPPED);
        if (i % 100 == 0) {
            pacing_scores sc = PACING_SCORES_INIT;
            assert_int_equal(pacing_scores_get(ctx, "regular-0", 9, t, &sc),
                             PACING_OK);
            pacing_contribution out[6];
            for (int k = 0; k < 6; k++) {
                memset(&out[k], 0, sizeof out[k]);
                out[k].size = sizeof out[k];
            }
            size_t n = 0;
            assert_int_equal(pacing_contributions(ctx, "regular-0", 9, t,
                                                  PACING_SCORE_FATIGUE, out, 6,
                                                  &n),
                             PACING_OK);
        }
    }
    pacing_event batch[16];
    for (int i = 0; i < 16; i++) {
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = PACING_EV_HOVER;
        ev.user = "batch";
        ev.user_len = 5;
        ev.time_ms = t + i * 100;
        ev.value = 100.0 * i;
        batch[i] = ev;
    }
    size_t done = 0;
    assert_int_equal(pacing_push_batch(ctx, batch, 16, &done), PACING_OK);
    assert_int_equal(done, 16);
    t += 2000;

    uint64_t p;
    assert_int_equal(pacing_pseudonym(ctx, "regular-1", 9, &p), PACING_OK);
    assert_int_equal(pacing_forget_pseudonym(ctx, p), PACING_OK);
    assert_int_equal(pacing_forget(ctx, "regular-2", 9), PACING_OK);
    assert_int_equal(pacing_forget(ctx, "nobody", 6), PACING_E_NOTFOUND);
    uint64_t n_exp = 0;
    assert_int_equal(pacing_expire(ctx, t, &n_exp), PACING_OK);
    assert_int_equal(pacing_weight_set(ctx, PACING_SCORE_FATIGUE,
                                       PACING_IN_DISMISSALS, 2.0),
                     PACING_OK);
    pacing_decay_module m = {sizeof m, "step", step_weight, NULL,
                             {1000.0, 0, 0, 0}};
    assert_int_equal(pacing_decay_register(ctx, &m), PACING_OK);
    assert_int_equal(pacing_exposure_decay_set(ctx, "step", NULL), PACING_OK);
    double w;
    assert_int_equal(pacing_decay_eval(ctx, "power_law", NULL, 5.0, &w),
                     PACING_OK);
    /* failures do not allocate either (the message is not heap memory) */
    assert_int_equal(push(ctx, "x", 999, t, 0), PACING_E_TYPE);

    assert_int_equal(c.alloc_calls, calls);
    assert_int_equal(c.free_calls, frees);
    assert_int_equal(c.outstanding, bytes);

    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.bytes_allocated, c.outstanding);
    assert_true(st.users_evicted_lru > 0); /* the new users did evict */
    assert_int_equal(st.users, st.capacity - 2); /* two were forgotten */

    pacing_ctx_free(ctx);
    assert_int_equal(c.outstanding, 0);
    assert_int_equal(c.n_live, 0);
    assert_int_equal(c.free_calls, calls);
    counter_assert_clean(&c);
}

/* bytes_allocated is what the hook holds, for several table shapes. */
static void test_bytes_allocated_matches_hook(void **state)
{
    (void)state;
    static counter c;
    const struct { uint64_t cap; uint32_t stripes; } shapes[] = {
        {1, 1}, {100, 1}, {1000, 0}, {1000, 8}, {5000, 1024},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        counter_init(&c, SIZE_MAX);
        pacing_options o;
        options_with(&o, &c, shapes[i].cap, shapes[i].stripes);
        pacing_ctx *ctx = NULL;
        assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
        pacing_stats st = PACING_STATS_INIT;
        assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
        if (st.bytes_allocated != c.outstanding)
            fail_msg("capacity %llu stripes %u: bytes_allocated %llu, hook "
                     "holds %zu",
                     (unsigned long long)shapes[i].cap, shapes[i].stripes,
                     (unsigned long long)st.bytes_allocated, c.outstanding);
        assert_true(st.capacity >= shapes[i].cap);
        pacing_ctx_free(ctx);
        assert_int_equal(c.outstanding, 0);
        counter_assert_clean(&c);
    }
}

/* Options that fail validation allocate nothing. */
static void test_invalid_options_allocate_nothing(void **state)
{
    (void)state;
    static counter c;
    counter_init(&c, SIZE_MAX);
    pacing_options o;
    options_with(&o, &c, 1024, 3); /* stripes not a power of two */
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_E_RANGE);
    assert_null(ctx);
    assert_int_equal(c.alloc_calls, 0);
}

/* An allocator that honours the header's contract ("aligned for any type",
 * i.e. alignof(max_align_t)) and no more: every block starts at
 * alignof(max_align_t) modulo 64. */
#define OVER 64
static void *minimal_align_alloc(void *opaque, size_t size)
{
    (void)opaque;
    size_t a = _Alignof(max_align_t);
    char *raw = malloc(size + 2 * OVER);
    if (!raw)
        return NULL;
    uintptr_t base = ((uintptr_t)raw + OVER) & ~(uintptr_t)(OVER - 1);
    char *p = (char *)base + a;
    memcpy(p - sizeof raw, &raw, sizeof raw); /* a <= OVER - sizeof raw */
    return p;
}
static void minimal_align_free(void *opaque, void *ptr, size_t size)
{
    (void)opaque;
    (void)size;
    char *raw;
    memcpy(&raw, (char *)ptr - sizeof raw, sizeof raw);
    free(raw);
}

/* The library must not need more alignment than the allocator promises:
 * the stripe array must be aligned for its type whatever the allocator
 * returns within its contract. */
static void test_allocator_minimal_alignment(void **state)
{
    (void)state;
    if (_Alignof(max_align_t) < sizeof(char *))
        skip();
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 256;
    o.stripes = 4;
    o.allocator.alloc = minimal_align_alloc;
    o.allocator.free = minimal_align_free;
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new(&o, &ctx), PACING_OK);
    uintptr_t stripes = (uintptr_t)ctx->stripes;
    if (stripes % _Alignof(pc_stripe) != 0)
        fail_msg("ctx->stripes = %p is not aligned for pc_stripe (%zu bytes); "
                 "the allocator only promises %zu",
                 (void *)ctx->stripes, (size_t)_Alignof(pc_stripe),
                 (size_t)_Alignof(max_align_t));
    /* and the table works */
    char id[16];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "u%d", i);
        assert_int_equal(push(ctx, id, PACING_EV_EXPOSURE, 10 * i, 0),
                         PACING_OK);
    }
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.users, 100);
    pacing_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctx_new_alloc_failures_one_stripe),
        cmocka_unit_test(test_ctx_new_alloc_failures_many_stripes),
        cmocka_unit_test(test_no_allocation_after_creation),
        cmocka_unit_test(test_bytes_allocated_matches_hook),
        cmocka_unit_test(test_invalid_options_allocate_nothing),
        cmocka_unit_test(test_allocator_minimal_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
