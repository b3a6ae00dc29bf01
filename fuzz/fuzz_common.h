/* Shared helpers of the libFuzzer harnesses in fuzz/: invariant checks that
 * abort() on violation, a checking allocator with a budget, and in-memory
 * snapshot buffers. Header-only (static functions), so each harness is one
 * translation unit plus the library sources.
 *
 * Only the public API (include/pacing.h) is used: the harnesses check what
 * the header promises, not how lib/ keeps it.
 *
 * SPDX-License-Identifier: MIT */
#ifndef PACING_FUZZ_COMMON_H
#define PACING_FUZZ_COMMON_H

#include "pacing.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define FZ_UNUSED __attribute__((unused))
#else
#define FZ_UNUSED
#endif

/* ---- failure ---------------------------------------------------------- */

#define FZ_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "\nFUZZ INVARIANT VIOLATED at %s:%d: %s\n  ",      \
                    __FILE__, __LINE__, #cond);                                \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* A status any call may return: PACING_OK, PACING_DROPPED, or a known
 * negative code. */
static FZ_UNUSED int fz_known_status(int rc)
{
    return rc == PACING_OK || rc == PACING_DROPPED ||
           (rc <= PACING_E_INVAL && rc >= PACING_E_VERSION);
}

/* rc must be one of the n statuses listed. */
static FZ_UNUSED void fz_expect_in(const char *call, int rc, const int *ok,
                                   size_t n, const pacing_ctx *ctx)
{
    FZ_CHECK(fz_known_status(rc), "%s returned unknown status %d", call, rc);
    for (size_t i = 0; i < n; i++)
        if (ok[i] == rc)
            return;
    FZ_CHECK(0, "%s returned %d (%s) which it may not return here; errmsg: %s",
             call, rc, pacing_strerror(rc), pacing_errmsg(ctx));
}
#define FZ_EXPECT(call, rc, ctx, ...)                                          \
    do {                                                                       \
        const int fz_ok_[] = {__VA_ARGS__};                                    \
        fz_expect_in(call, rc, fz_ok_, sizeof fz_ok_ / sizeof fz_ok_[0], ctx); \
    } while (0)

/* ---- a checking allocator with a budget -------------------------------- *
 * Every block carries a header with its size; free must be given the size
 * that was asked (the allocator contract of pacing.h). Beyond the budget,
 * allocations fail, so huge configured capacities give PACING_E_NOMEM
 * quickly instead of an out-of-memory kill. */

typedef struct fz_alloc_state {
    size_t budget;      /* bytes that may be outstanding */
    size_t outstanding; /* bytes outstanding now */
    size_t blocks;
    size_t fail_after;  /* 0: never; else the n-th allocation from now fails */
} fz_alloc_state;

#define FZ_ALLOC_MAGIC 0x70616369u

static FZ_UNUSED void *fz_alloc(void *opaque, size_t size)
{
    fz_alloc_state *st = opaque;
    if (st->fail_after) {
        if (--st->fail_after == 0)
            return NULL;
    }
    if (size > st->budget || st->outstanding > st->budget - size)
        return NULL;
    unsigned char *p = malloc(size + 32);
    if (!p)
        return NULL;
    uint32_t magic = FZ_ALLOC_MAGIC;
    memcpy(p, &size, sizeof size);
    memcpy(p + 8, &magic, sizeof magic);
    st->outstanding += size;
    st->blocks++;
    return p + 32;
}

static FZ_UNUSED void fz_free(void *opaque, void *ptr, size_t size)
{
    fz_alloc_state *st = opaque;
    FZ_CHECK(ptr != NULL, "allocator free() called with NULL");
    unsigned char *p = (unsigned char *)ptr - 32;
    size_t asked;
    uint32_t magic;
    memcpy(&asked, p, sizeof asked);
    memcpy(&magic, p + 8, sizeof magic);
    FZ_CHECK(magic == FZ_ALLOC_MAGIC, "allocator free() of a block it did not give");
    FZ_CHECK(asked == size, "allocator free() given size %zu, block was %zu",
             size, asked);
    magic = 0;
    memcpy(p + 8, &magic, sizeof magic);
    st->outstanding -= size;
    st->blocks--;
    free(p);
}

static FZ_UNUSED pacing_allocator fz_allocator(fz_alloc_state *st)
{
    pacing_allocator a = {fz_alloc, fz_free, st};
    return a;
}

/* ---- memory snapshot buffers ------------------------------------------ */

typedef struct fz_buf {
    unsigned char *data;
    size_t len, cap;
} fz_buf;

static FZ_UNUSED int fz_buf_write(void *opaque, const void *buf, size_t len)
{
    fz_buf *b = opaque;
    if (len > SIZE_MAX / 2 - b->len)
        return -1;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        unsigned char *n = realloc(b->data, cap);
        if (!n)
            return -1;
        b->data = n;
        b->cap = cap;
    }
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    return 0;
}

static FZ_UNUSED void fz_buf_free(fz_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

typedef struct fz_reader {
    const unsigned char *data;
    size_t len, off;
    size_t chunk; /* at most this many bytes per call (0: any) */
} fz_reader;

static FZ_UNUSED long fz_buf_read(void *opaque, void *buf, size_t len)
{
    fz_reader *r = opaque;
    size_t n = r->len - r->off;
    if (n > len)
        n = len;
    if (r->chunk && n > r->chunk)
        n = r->chunk;
    memcpy(buf, r->data + r->off, n);
    r->off += n;
    return (long)n;
}

static FZ_UNUSED int fz_read_bytes(pacing_ctx *ctx, const void *data, size_t len,
                                   size_t chunk)
{
    fz_reader r = {data, len, 0, chunk};
    return pacing_snapshot_read(ctx, fz_buf_read, &r);
}

/* ---- invariants -------------------------------------------------------- */

static FZ_UNUSED int fz_unit(double x) { return x >= 0.0 && x <= 1.0; }

/* users_created = users + evicted + expired + forgotten; users <= capacity. */
static FZ_UNUSED void fz_check_stats(pacing_ctx *ctx, pacing_stats *out)
{
    pacing_stats st = PACING_STATS_INIT;
    int rc = pacing_stats_get(ctx, &st);
    FZ_CHECK(rc == PACING_OK, "pacing_stats_get: %d", rc);
    FZ_CHECK(st.users <= st.capacity, "users %llu > capacity %llu",
             (unsigned long long)st.users, (unsigned long long)st.capacity);
    FZ_CHECK(st.users_created ==
                 st.users + st.users_evicted_lru + st.users_expired +
                     st.users_forgotten,
             "users_created %llu != users %llu + evicted %llu + expired %llu + "
             "forgotten %llu",
             (unsigned long long)st.users_created, (unsigned long long)st.users,
             (unsigned long long)st.users_evicted_lru,
             (unsigned long long)st.users_expired,
             (unsigned long long)st.users_forgotten);
    pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
    rc = pacing_decision_stats_get(ctx, &ds);
    FZ_CHECK(rc == PACING_OK, "pacing_decision_stats_get: %d", rc);
    if (out)
        *out = st;
}

/* Scores read with PACING_OK. */
static FZ_UNUSED void fz_check_scores(const pacing_scores *s)
{
    FZ_CHECK(fz_unit(s->fatigue), "fatigue %g", s->fatigue);
    FZ_CHECK(fz_unit(s->cognitive_load), "cognitive_load %g", s->cognitive_load);
    FZ_CHECK(fz_unit(s->attention), "attention %g", s->attention);
    FZ_CHECK(fz_unit(s->engagement), "engagement %g", s->engagement);
    FZ_CHECK(s->micro_velocity >= 0.0 && isfinite(s->micro_velocity),
             "micro_velocity %g", s->micro_velocity);
    FZ_CHECK(fz_unit(s->drop_off_risk), "drop_off_risk %g", s->drop_off_risk);
    FZ_CHECK(s->exposures_1m <= s->exposures_1h && s->exposures_1h <= s->exposures_1d,
             "exposure windows %u %u %u not nested", s->exposures_1m,
             s->exposures_1h, s->exposures_1d);
    FZ_CHECK(s->session_age_ms >= -1, "session_age_ms %lld",
             (long long)s->session_age_ms);
}

/* The number of actions of a point (0: no such point). */
static FZ_UNUSED uint32_t fz_point_k(const pacing_ctx *ctx, uint32_t point)
{
    uint32_t k = 0;
    while (k < 64 && pacing_action_name(ctx, point, k))
        k++;
    return k;
}

static FZ_UNUSED void fz_check_top(const char *what, const pacing_top_inputs *t)
{
    for (int i = 0; i < 2; i++) {
        FZ_CHECK(t->input[i] >= -1 && t->input[i] < PACING_INPUT_COUNT,
                 "%s_top.input[%d] = %d", what, i, t->input[i]);
        FZ_CHECK(t->share[i] >= 0.0 && t->share[i] <= 1.0 + 1e-9,
                 "%s_top.share[%d] = %g", what, i, t->share[i]);
    }
}

#define FZ_DR_ALL 0x1FFu

/* Set by a harness whose point, action and rule names are its own: then an
 * explanation must not contain "nan" or "inf" (a non-finite number). */
static int fz_strict_text;

/* Explain d with buffers of several sizes; each must NUL-terminate and
 * agree on the length. Returns the full length. */
static FZ_UNUSED int fz_check_explain(const pacing_ctx *ctx, const pacing_decision *d,
                                      size_t small)
{
    char buf[1024];
    int n = pacing_explain(ctx, d, buf, sizeof buf);
    FZ_CHECK(n >= 0, "pacing_explain: %d (%s)", n, pacing_errmsg(ctx));
    FZ_CHECK(memchr(buf, '\0', sizeof buf) != NULL, "explain: no NUL");
    size_t want = (size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 1;
    FZ_CHECK(strlen(buf) == want, "explain: strlen %zu, returned %d", strlen(buf), n);
    FZ_CHECK(strstr(buf, "(null)") == NULL, "explain printed a NULL string: %s", buf);
    FZ_CHECK(!fz_strict_text ||
                 (strstr(buf, "nan") == NULL && strstr(buf, "inf") == NULL),
             "explain printed a non-finite number: %s", buf);
    /* truncated */
    if (small > sizeof buf)
        small = sizeof buf;
    char tb[1024 + 8];
    memset(tb, 'X', sizeof tb);
    int m = pacing_explain(ctx, d, tb, small);
    FZ_CHECK(m == n, "explain: %d with len %zu, %d with len %zu", m, small, n,
             sizeof buf);
    if (small > 0) {
        size_t w = (size_t)n < small - 1 ? (size_t)n : small - 1;
        FZ_CHECK(tb[w] == '\0' && strlen(tb) == w,
                 "explain: truncation to %zu bytes wrong (strlen %zu)", small,
                 strlen(tb));
        FZ_CHECK(memcmp(tb, buf, w) == 0, "explain: truncated text differs");
    }
    for (size_t i = small; i < sizeof tb; i++)
        FZ_CHECK(tb[i] == 'X', "explain wrote byte %zu beyond len %zu", i, small);
    /* length only */
    m = pacing_explain(ctx, d, NULL, 0);
    FZ_CHECK(m == n, "explain(NULL, 0) = %d, expected %d", m, n);
    return n;
}

/* A decision returned with PACING_OK by pacing_decide(). ineligible: the
 * request's mask. */
static FZ_UNUSED void fz_check_decision(const pacing_ctx *ctx, const pacing_decision *d,
                                        uint32_t point, uint64_t ineligible)
{
    uint32_t k = fz_point_k(ctx, point);
    FZ_CHECK(d->size == sizeof *d, "decision size");
    FZ_CHECK(d->point == point, "decision point %u, asked %u", d->point, point);
    FZ_CHECK(d->action < k, "action %u of %u", d->action, k);
    FZ_CHECK(d->propensity > 0.0 && d->propensity <= 1.0, "propensity %.17g",
             d->propensity);
    FZ_CHECK((d->reasons & ~FZ_DR_ALL) == 0, "unknown reason bits 0x%x", d->reasons);
    FZ_CHECK(d->n_vetoes <= 4, "n_vetoes %u", d->n_vetoes);
    FZ_CHECK(fz_unit(d->fatigue), "decision fatigue %g", d->fatigue);
    FZ_CHECK(fz_unit(d->cognitive_load), "decision cognitive_load %g", d->cognitive_load);
    FZ_CHECK(fz_unit(d->drop_off_risk), "decision drop_off_risk %g", d->drop_off_risk);
    FZ_CHECK(fz_unit(d->attention), "decision attention %g", d->attention);
    FZ_CHECK(fz_unit(d->engagement), "decision engagement %g", d->engagement);
    fz_check_top("fatigue", &d->fatigue_top);
    fz_check_top("load", &d->load_top);
    for (uint32_t i = 0; i < d->n_vetoes; i++) {
        const pacing_veto *v = &d->vetoes[i];
        FZ_CHECK(v->action < k, "veto %u action %u of %u", i, v->action, k);
        FZ_CHECK(v->verdict == PACING_VETO || v->verdict == PACING_DELAY,
                 "veto %u verdict %u", i, v->verdict);
        FZ_CHECK(isfinite(v->detail[0]) && isfinite(v->detail[1]),
                 "veto %u detail not finite", i);
        FZ_CHECK(v->retry_after_ms >= 0, "veto %u retry_after %lld", i,
                 (long long)v->retry_after_ms);
    }
    if (d->reasons & PACING_DR_SAFE) {
        FZ_CHECK(d->id == 0, "safe decision with id %llu", (unsigned long long)d->id);
        FZ_CHECK(d->propensity == 1.0, "safe decision propensity %g", d->propensity);
        FZ_CHECK(d->reasons & PACING_DR_VETOED, "safe decision without VETOED");
        FZ_CHECK(d->retry_after_ms >= 0, "retry_after_ms %lld",
                 (long long)d->retry_after_ms);
    } else {
        FZ_CHECK(d->id != 0, "decision id 0");
        FZ_CHECK(!(ineligible & (1ULL << d->action)),
                 "chose ineligible action %u (mask 0x%llx)", d->action,
                 (unsigned long long)ineligible);
        FZ_CHECK(!(d->reasons & PACING_DR_EXPLORED) ||
                     !(d->reasons & PACING_DR_EXPLOITED),
                 "both EXPLORED and EXPLOITED");
        if (ineligible & ((k == 64 ? ~0ULL : (1ULL << k) - 1)))
            FZ_CHECK(d->reasons & PACING_DR_INELIGIBLE, "INELIGIBLE not set");
    }
    fz_check_explain(ctx, d, (size_t)(d->id % 97));
}

/* Decide with the context length the point takes (found by trying: the
 * public API does not tell it). Returns the status of the last try. */
static FZ_UNUSED int fz_decide_any_dim(pacing_ctx *ctx, pacing_request *rq,
                                       pacing_decision *d, const double ctxv[32])
{
    int rc = PACING_E_INVAL;
    for (uint32_t n = 0; n <= 32; n++) {
        rq->context = n ? ctxv : NULL;
        rq->context_len = n;
        rc = pacing_decide(ctx, rq, d);
        if (rc != PACING_E_INVAL)
            break;
    }
    return rc;
}

#endif
