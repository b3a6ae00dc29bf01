/* Helpers shared by the unit tests (header-only; every function is static
 * inline, so a test that uses only part of it compiles warning-free).
 *
 *  - Live contexts: track(ctx) remembers a context of the running test,
 *    release(ctx) frees one early, live_free_all() frees the rest and
 *    teardown() is a cmocka teardown doing just that (so ASan and valgrind
 *    report only real leaks, also when an assertion fails half way).
 *    A test may #define MAX_LIVE before including this header (default 4).
 *    A test with a teardown of its own #defines HELPERS_OWN_TEARDOWN before
 *    including it and calls live_free_all() from it.
 *  - In-memory snapshots: membuf and mem_write (a growing buffer for
 *    pacing_snapshot_write, optionally failing from its fail_at_call-th
 *    call), reader and mem_read (for pacing_snapshot_read, optionally in
 *    chunks and failing once fail_after bytes were read).
 *  - next_rand: splitmix64.
 *
 * Include it after cmocka.h's prerequisites and pacing.h (or internal.h);
 * it includes them itself too. */
#ifndef PACING_TESTS_HELPERS_H
#define PACING_TESTS_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pacing.h"

/* ------------------------------------------------------------------ */
/* Contexts freed by the teardown, also when an assertion fails        */
/* ------------------------------------------------------------------ */

#ifndef MAX_LIVE
#define MAX_LIVE 4
#endif

static pacing_ctx *live[MAX_LIVE];

static inline pacing_ctx *track(pacing_ctx *ctx)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (!live[i]) {
            live[i] = ctx;
            return ctx;
        }
    pacing_ctx_free(ctx);
    fail_msg("more than %d live contexts", MAX_LIVE);
    return NULL;
}

static inline void release(pacing_ctx *ctx)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == ctx)
            live[i] = NULL;
    pacing_ctx_free(ctx);
}

static inline void live_free_all(void)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        pacing_ctx_free(live[i]);
        live[i] = NULL;
    }
}

#ifndef HELPERS_OWN_TEARDOWN
static inline int teardown(void **state)
{
    (void)state;
    live_free_all();
    return 0;
}
#endif

/* ------------------------------------------------------------------ */
/* Snapshots in memory                                                 */
/* ------------------------------------------------------------------ */

/* Start with {0} (or set every field): p, len, cap; fail_at_call 0. */
typedef struct membuf {
    uint8_t *p;
    size_t len, cap;
    int fail_at_call; /* write: fail on this call (1-based), 0: never */
    int calls;
} membuf;

static inline int mem_write(void *opaque, const void *buf, size_t len)
{
    membuf *m = opaque;
    m->calls++;
    if (m->fail_at_call && m->calls >= m->fail_at_call)
        return -1;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->len + len)
            cap *= 2;
        uint8_t *np = realloc(m->p, cap);
        if (!np)
            return -1;
        m->p = np;
        m->cap = cap;
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return 0;
}

/* {p, len, 0, 0, -1} reads p[0..len) in as few calls as the library
 * asks for, never failing. */
typedef struct reader {
    const uint8_t *p;
    size_t len, pos;
    size_t chunk;      /* at most this many bytes per call, 0: any */
    long fail_after;   /* return -1 once pos >= fail_after (< 0: never) */
} reader;

static inline long mem_read(void *opaque, void *buf, size_t len)
{
    reader *r = opaque;
    if (r->fail_after >= 0 && r->pos >= (size_t)r->fail_after)
        return -1;
    size_t n = r->len - r->pos;
    if (n > len)
        n = len;
    if (r->chunk && n > r->chunk)
        n = r->chunk;
    if (r->fail_after >= 0 && r->pos + n > (size_t)r->fail_after)
        n = (size_t)r->fail_after - r->pos;
    memcpy(buf, r->p + r->pos, n);
    r->pos += n;
    return (long)n;
}

/* ------------------------------------------------------------------ */
/* Random numbers                                                      */
/* ------------------------------------------------------------------ */

/* splitmix64 */
static inline uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#endif
