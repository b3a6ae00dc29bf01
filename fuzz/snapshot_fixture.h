/* The fixed context of the snapshot harness (fuzz/fuzz_snapshot.c) and of
 * the seed-corpus generator (fuzz/gen_snapshot_corpus.c): one
 * configuration (every built-in policy, recovery, reward rules, safety
 * rules, two stripes, small tables), a fixed secret and seed, and a few
 * deterministic histories. Snapshots of any history load into a context
 * built with any other, since the configuration is the same.
 *
 * SPDX-License-Identifier: MIT */
#ifndef PACING_SNAPSHOT_FIXTURE_H
#define PACING_SNAPSHOT_FIXTURE_H

#include "pacing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#if defined(__GNUC__) || defined(__clang__)
#define FX_UNUSED __attribute__((unused))
#else
#define FX_UNUSED
#endif

#define FX_N_USERS 12
#define FX_T0 1700000000000LL

enum { FX_EMPTY = 0, FX_BASIC = 1, FX_BUSY = 2, FX_SETTLED = 3, FX_N_HISTORIES };

static FX_UNUSED const char *const fx_history_name[FX_N_HISTORIES] = {"empty", "basic",
                                                            "busy", "settled"};

static FX_UNUSED void fx_options(pacing_options *o, const pacing_allocator *alloc)
{
    pacing_options_init(o);
    o->flags = PACING_OPT_SINGLE_THREAD | PACING_OPT_SECRET;
    memcpy(o->secret, "fuzz-snapshot-k!", 16);
    o->seed = 42;
    o->stripes = 2;
    o->capacity = 8;          /* 4 per stripe: the busy history evicts */
    o->pending_capacity = 16; /* 8 per stripe: the busy history settles early */
    o->log_capacity = 32;
    o->user_ttl_ms = 7LL * 24 * 3600 * 1000;
    if (alloc)
        o->allocator = *alloc;
}

#define FX_TRY(call)                                                           \
    do {                                                                       \
        int fx_rc_ = (call);                                                   \
        if (fx_rc_ != PACING_OK) {                                             \
            fprintf(stderr, "snapshot fixture: %s: %d %s\n", #call, fx_rc_,   \
                    pacing_errmsg(ctx));                                       \
            return fx_rc_;                                                     \
        }                                                                      \
    } while (0)

static FX_UNUSED int fx_points(pacing_ctx *ctx)
{
    static const char *const act3[] = {"show_now", "delay", "skip"};
    static const char *const act2[] = {"a", "b"};
    static const char *const act4[] = {"v1", "v2", "v3", "none"};
    uint32_t id;

    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    pacing_param ts[] = {{"prior_alpha", 1.0}, {"prior_beta", 2.0},
                         {"discount", 0.99}, {"propensity_draws", 8}};
    pacing_reward_rule rr[] = {{"conversion", 1.0}, {"dismiss", -0.5},
                               {"rage_click", -0.25}};
    sp.name = "cta";
    sp.actions = act3;
    sp.n_actions = 3;
    sp.flags = PACING_PT_DEFAULT_REWARD;
    sp.policy = "thompson";
    sp.params = ts;
    sp.n_params = 4;
    sp.attribution_ms = 600000;
    sp.default_reward = 0.0;
    sp.rewards = rr;
    sp.n_rewards = 3;
    sp.quiet_actions = 0x6; /* delay, skip */
    sp.safe_action = 1;
    FX_TRY(pacing_point_add(ctx, &sp, &id));

    pacing_point_spec u = PACING_POINT_SPEC_INIT;
    pacing_param up[] = {{"c", 1.0}, {"discount", 0.999}};
    double rec[4] = {300000.0, 0, 0, 0};
    u.name = "banner";
    u.actions = act4;
    u.n_actions = 4;
    u.policy = "ucb1";
    u.params = up;
    u.n_params = 2;
    u.recovery_decay = "exponential";
    u.recovery_params = rec;
    u.attribution_ms = 1800000;
    u.quiet_actions = 0x8;
    u.safe_action = 3;
    FX_TRY(pacing_point_add(ctx, &u, &id));

    pacing_point_spec l = PACING_POINT_SPEC_INIT;
    l.name = "lin";
    l.actions = act2;
    l.n_actions = 2;
    l.flags = PACING_PT_SCORES_CONTEXT;
    l.policy = "linucb";
    l.context_dim = 2;
    FX_TRY(pacing_point_add(ctx, &l, &id));

    pacing_point_spec lt = PACING_POINT_SPEC_INIT;
    lt.name = "lints";
    lt.actions = act2;
    lt.n_actions = 2;
    lt.policy = "linear_thompson";
    lt.context_dim = 1;
    FX_TRY(pacing_point_add(ctx, &lt, &id));

    static const char *const pols[] = {"gaussian_thompson", "kl_ucb",
                                       "epsilon_greedy", "softmax"};
    static const char *const names[] = {"gts", "klucb", "eps", "soft"};
    for (int i = 0; i < 4; i++) {
        pacing_point_spec g = PACING_POINT_SPEC_INIT;
        pacing_reward_rule mr[] = {{"micro_conversion", 1.0}, {"dwell", 0.5}};
        g.name = names[i];
        g.actions = act3;
        g.n_actions = 3;
        g.policy = pols[i];
        g.rewards = mr;
        g.n_rewards = 2;
        g.attribution_ms = 120000 * (i + 1);
        FX_TRY(pacing_point_add(ctx, &g, &id));
    }

    pacing_rule_spec r = PACING_RULE_SPEC_INIT;
    pacing_param gap[] = {{"gap_ms", 20000}};
    r.module = "min_gap";
    r.point = "cta";
    r.params = gap;
    r.n_params = 1;
    FX_TRY(pacing_rule_add(ctx, &r, NULL));
    pacing_rule_spec c = PACING_RULE_SPEC_INIT;
    pacing_param cap[] = {{"max", 2}, {"window_ms", 3600000}};
    c.module = "frequency_cap";
    c.point = "banner";
    c.params = cap;
    c.n_params = 2;
    FX_TRY(pacing_rule_add(ctx, &c, NULL));
    pacing_rule_spec f = PACING_RULE_SPEC_INIT;
    pacing_param fat[] = {{"max", 0.8}, {"delay_ms", 300000}};
    f.module = "fatigue_ceiling";
    f.params = fat;
    f.n_params = 2;
    FX_TRY(pacing_rule_add(ctx, &f, NULL));
    pacing_rule_spec s = PACING_RULE_SPEC_INIT;
    s.module = "sensitive_state";
    FX_TRY(pacing_rule_add(ctx, &s, NULL));
    pacing_rule_spec b = PACING_RULE_SPEC_INIT;
    b.module = "session_budget";
    FX_TRY(pacing_rule_add(ctx, &b, NULL));
    return PACING_OK;
}

static FX_UNUSED void fx_user(int i, char *buf, size_t len)
{
    snprintf(buf, len, "user-%02d", i);
}

static FX_UNUSED int fx_push(pacing_ctx *ctx, int user, uint32_t type, int64_t t,
                   double value)
{
    char name[24];
    fx_user(user, name, sizeof name);
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = name;
    ev.user_len = strlen(name);
    ev.time_ms = t;
    ev.value = value;
    ev.target = (uint64_t)(user % 3);
    ev.channel = (uint32_t)(user % 2 ? PACING_CH_WEB : PACING_CH_APP);
    return pacing_push(ctx, &ev);
}

/* Context values for the contextual points (lin: 2, lints: 1). */
static FX_UNUSED const double fx_cv[2] = {0.25, -1.5};

static FX_UNUSED int fx_decide(pacing_ctx *ctx, uint32_t point, int user, int64_t t,
                     pacing_decision *d)
{
    char name[24];
    fx_user(user, name, sizeof name);
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = point;
    rq.user = name;
    rq.user_len = strlen(name);
    rq.now_ms = t;
    rq.channel = (uint32_t)(user % 2 ? PACING_CH_WEB : PACING_CH_APP);
    if (point == 2) {
        rq.context = fx_cv;
        rq.context_len = 2;
    } else if (point == 3) {
        rq.context = fx_cv;
        rq.context_len = 1;
    }
    *d = (pacing_decision)PACING_DECISION_INIT;
    return pacing_decide(ctx, &rq, d);
}

#define FX_N_POINTS 8

/* Play history h on a fresh context. */
static FX_UNUSED int fx_history(pacing_ctx *ctx, int h)
{
    if (h == FX_EMPTY)
        return PACING_OK;
    int n_users = h == FX_BASIC ? 6 : FX_N_USERS;
    int rounds = h == FX_BASIC ? 2 : 6;
    int64_t t = FX_T0;
    for (int r = 0; r < rounds; r++) {
        for (int u = 0; u < n_users; u++) {
            t += 1000;
            if (r == 0)
                fx_push(ctx, u, PACING_EV_SESSION_START, t, 0);
            fx_push(ctx, u, PACING_EV_DWELL, t + 10, 1000.0 * (u + 1));
            fx_push(ctx, u, PACING_EV_INPUT_LATENCY, t + 20, 300.0 + 50 * u);
            fx_push(ctx, u, PACING_EV_READING_SPEED, t + 30, 180.0 + u);
            fx_push(ctx, u, PACING_EV_SCROLL_DEPTH, t + 40, 0.1 * (u % 10));
            fx_push(ctx, u, PACING_EV_CLICK, t + 50, 100.0);
            if (u % 3 == 0)
                fx_push(ctx, u, PACING_EV_ERROR, t + 60, 0);
            if (u % 4 == 1)
                fx_push(ctx, u, PACING_EV_FORM_START, t + 70, 0);
            for (uint32_t p = 0; p < FX_N_POINTS; p++) {
                pacing_decision d;
                int rc = fx_decide(ctx, p, u, t + 100 + p, &d);
                if (rc != PACING_OK && rc != PACING_E_VETOED) {
                    fprintf(stderr, "snapshot fixture: decide %u: %d %s\n", p, rc,
                            pacing_errmsg(ctx));
                    return rc;
                }
                /* reward some, leave the others pending */
                if (rc == PACING_OK && d.id && (u + (int)p + r) % 3 == 0) {
                    double v = p == 2 || p == 3 || p == 4 ? 2.5 : 1.0;
                    pacing_reward(ctx, d.id, v, t + 200);
                }
            }
            if (u % 2 == 0)
                fx_push(ctx, u, PACING_EV_DISMISS, t + 300, 0);
            if (u % 5 == 1)
                fx_push(ctx, u, PACING_EV_MICRO_CONVERSION, t + 310, 0);
            if (u % 5 == 2)
                fx_push(ctx, u, PACING_EV_CONVERSION, t + 320, 25.0);
            if (r == rounds - 1 && u % 3 == 2)
                fx_push(ctx, u, PACING_EV_SESSION_END, t + 400, 0);
        }
        t += 60000;
    }
    if (h == FX_SETTLED) {
        uint64_t n;
        FX_TRY(pacing_settle(ctx, t + 3600000, &n));
        char name[24];
        fx_user(1, name, sizeof name);
        pacing_forget(ctx, name, strlen(name));
    }
    return PACING_OK;
}

/* A fresh context of the fixture's configuration with history h. */
static FX_UNUSED int fx_build(pacing_ctx **out, const pacing_allocator *alloc, int h)
{
    pacing_options o;
    fx_options(&o, alloc);
    pacing_ctx *ctx = NULL;
    *out = NULL;
    int rc = pacing_ctx_new(&o, &ctx);
    if (rc != PACING_OK)
        return rc;
    rc = fx_points(ctx);
    if (rc == PACING_OK)
        rc = fx_history(ctx, h);
    if (rc != PACING_OK) {
        pacing_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return PACING_OK;
}

#undef FX_TRY

/* ---- the snapshot file layout (lib/snapshot.c, docs/snapshot-format.md) --
 * Needed to wrap a fuzzed payload in a valid file and to take a file
 * apart. fuzz_snapshot checks at start-up that wrapping the fixture's own
 * payload gives a file that loads, so a change of the layout in lib/ shows
 * up as a clear start-up failure rather than a silently useless fuzzer.
 *
 *   header  64 bytes (magic, version, ..., CRC32 of bytes 0..59 at 60)
 *   body    raw deflate stream (RFC 1951) of the payload
 *   trailer 32 bytes: u64 payload length, u64 compressed length,
 *           u32 CRC32 of the payload, u32 CRC32 of the body, u32 0,
 *           u32 CRC32 of trailer bytes 0..27 */
#define FX_SNAP_HEADER 64
#define FX_SNAP_TRAILER 32

static FX_UNUSED void fx_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static FX_UNUSED void fx_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static FX_UNUSED uint64_t fx_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Fill trailer t for a payload and its compressed body. */
static FX_UNUSED void fx_trailer(unsigned char t[FX_SNAP_TRAILER], const void *payload,
                                 size_t plen, const void *body, size_t clen)
{
    memset(t, 0, FX_SNAP_TRAILER);
    fx_put64(t, plen);
    fx_put64(t + 8, clen);
    fx_put32(t + 16, (uint32_t)crc32(crc32(0, NULL, 0), payload, (uInt)plen));
    fx_put32(t + 20, (uint32_t)crc32(crc32(0, NULL, 0), body, (uInt)clen));
    fx_put32(t + 28, (uint32_t)crc32(0, t, 28));
}

/* Recompute the trailer's own checksum after editing it. */
static FX_UNUSED void fx_trailer_fix(unsigned char t[FX_SNAP_TRAILER])
{
    fx_put32(t + 28, (uint32_t)crc32(0, t, 28));
}

/* A whole file: header (FX_SNAP_HEADER bytes of a valid snapshot of the
 * same configuration) + raw deflate(payload) + trailer, in a malloc'd
 * buffer. */
static FX_UNUSED unsigned char *fx_wrap(const unsigned char *header, const void *payload,
                                        size_t plen, size_t *len)
{
    uLong clen = compressBound((uLong)plen) + 16;
    unsigned char *out = malloc(FX_SNAP_HEADER + clen + FX_SNAP_TRAILER);
    if (!out)
        return NULL;
    unsigned char *body = out + FX_SNAP_HEADER;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(out);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)payload;
    z.avail_in = (uInt)plen;
    z.next_out = body;
    z.avail_out = (uInt)clen;
    int zr = deflate(&z, Z_FINISH);
    clen = z.total_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    memcpy(out, header, FX_SNAP_HEADER);
    fx_trailer(body + clen, payload, plen, body, clen);
    *len = FX_SNAP_HEADER + clen + FX_SNAP_TRAILER;
    return out;
}

/* The payload of a whole file (malloc'd), or NULL. */
static FX_UNUSED unsigned char *fx_unwrap(const unsigned char *file, size_t len,
                                          size_t *plen)
{
    if (len < FX_SNAP_HEADER + FX_SNAP_TRAILER)
        return NULL;
    const unsigned char *t = file + len - FX_SNAP_TRAILER;
    uint64_t n = fx_get64(t);
    unsigned char *p = malloc(n ? n : 1);
    if (!p)
        return NULL;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK) {
        free(p);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)(file + FX_SNAP_HEADER);
    z.avail_in = (uInt)(len - FX_SNAP_HEADER - FX_SNAP_TRAILER);
    z.next_out = p;
    z.avail_out = (uInt)n;
    int zr = inflate(&z, Z_FINISH);
    uint64_t got = z.total_out;
    uInt left = z.avail_in;
    inflateEnd(&z);
    if (zr != Z_STREAM_END || left != 0 || got != n) {
        free(p);
        return NULL;
    }
    *plen = (size_t)n;
    return p;
}

#endif
