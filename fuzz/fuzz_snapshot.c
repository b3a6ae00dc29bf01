/* libFuzzer harness: loading snapshots (pacing_snapshot_read).
 *
 * Every input is loaded into a fresh context of the fixture
 * (fuzz/snapshot_fixture.h: every policy, rules, two stripes, users and
 * pending decisions). Two kinds of input:
 *
 *   - starting with "PACINGSN": a whole snapshot file, read as it is
 *     (headers, checksums, lengths, zlib);
 *   - anything else: a snapshot *payload* (the uncompressed body). The
 *     harness wraps it in the fixture's valid header, compresses it and
 *     writes a correct trailer, so the fuzzer reaches the record checks
 *     (users, pending decisions, policy states, hazard model) instead of
 *     stopping at a checksum.
 *
 * Checked:
 *   - the status is OK, CORRUPT, VERSION, CONFIG or NOMEM;
 *   - no single allocation is far larger than the data can expand to
 *     (zlib expands at most ~1032:1);
 *   - on failure the context is exactly as before: its snapshot is byte for
 *     byte the one it had, and its counters are unchanged;
 *   - on success: stats invariants, decisions at every point for known and
 *     new users (fz_check_decision), scores of every fixture user in range,
 *     settle; and the loaded state must save and load again.
 *
 * SPDX-License-Identifier: MIT */
#include "fuzz_common.h"
#include "snapshot_fixture.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#define FZ_MAX_INPUT (1u << 20)

/* The largest single allocation during a load. */
static size_t g_max_alloc;
static fz_alloc_state g_as;

static void *track_alloc(void *opaque, size_t size)
{
    if (size > g_max_alloc)
        g_max_alloc = size;
    return fz_alloc(opaque, size);
}

static pacing_allocator track_allocator(void)
{
    pacing_allocator a = {track_alloc, fz_free, &g_as};
    return a;
}

/* The snapshot of the fixture's history FX_BASIC, made once; and the
 * snapshot of a context that loaded it (what every input starts from). */
static fz_buf g_snap, g_base;

/* header of g_snap + zlib(payload) + trailer. */
static int wrap_payload(const uint8_t *payload, size_t plen, fz_buf *out)
{
    size_t len;
    unsigned char *f = fx_wrap(g_snap.data, payload, plen, &len);
    if (!f)
        return -1;
    int rc = fz_buf_write(out, f, len);
    free(f);
    return rc;
}

static int stats_equal(const pacing_stats *a, const pacing_stats *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

static int dstats_equal(const pacing_decision_stats *a, const pacing_decision_stats *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

static void snapshot_of(pacing_ctx *ctx, fz_buf *b)
{
    int rc = pacing_snapshot_write(ctx, fz_buf_write, b);
    FZ_CHECK(rc == PACING_OK, "pacing_snapshot_write: %d %s", rc, pacing_errmsg(ctx));
}

/* A context with the fixture's configuration and history FX_BASIC, made
 * by loading g_snap (much cheaper than playing the history each time). */
static pacing_ctx *fresh(void)
{
    pacing_allocator a = track_allocator();
    pacing_options o;
    fx_options(&o, &a);
    pacing_ctx *ctx = NULL;
    int rc = pacing_ctx_new(&o, &ctx);
    FZ_CHECK(rc == PACING_OK && ctx, "ctx_new: %d", rc);
    rc = fx_points(ctx);
    FZ_CHECK(rc == PACING_OK, "fixture points: %d", rc);
    if (g_snap.len) {
        rc = fz_read_bytes(ctx, g_snap.data, g_snap.len, 0);
        FZ_CHECK(rc == PACING_OK, "the fixture's snapshot does not load: %d %s", rc,
                 pacing_errmsg(ctx));
    }
    return ctx;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_as.budget = 256u << 20;
    fz_strict_text = 1;
    pacing_allocator a = track_allocator();
    pacing_ctx *ctx = NULL;
    int rc = fx_build(&ctx, &a, FX_BASIC);
    FZ_CHECK(rc == PACING_OK && ctx, "fixture: %d", rc);
    snapshot_of(ctx, &g_snap);
    pacing_ctx_free(ctx);

    ctx = fresh();
    snapshot_of(ctx, &g_base);
    /* the harness's idea of the file layout must match the library's */
    size_t plen = 0, len = 0;
    unsigned char *p = fx_unwrap(g_snap.data, g_snap.len, &plen);
    FZ_CHECK(p != NULL, "cannot take the fixture's snapshot apart: the file layout "
             "of fuzz/snapshot_fixture.h is out of date with lib/snapshot.c");
    unsigned char *f = fx_wrap(g_snap.data, p, plen, &len);
    FZ_CHECK(f != NULL, "fx_wrap");
    rc = fz_read_bytes(ctx, f, len, 0);
    FZ_CHECK(rc == PACING_OK, "a re-wrapped payload does not load (%d %s): the "
             "file layout of fuzz/snapshot_fixture.h is out of date with "
             "lib/snapshot.c", rc, pacing_errmsg(ctx));
    free(f);
    free(p);
    pacing_ctx_free(ctx);
    /* deterministic: another context made the same way has the same state
     * (a failed load is checked against g_base) */
    ctx = fresh();
    fz_buf b2 = {0};
    snapshot_of(ctx, &b2);
    FZ_CHECK(b2.len == g_base.len && memcmp(b2.data, g_base.data, b2.len) == 0,
             "two fixture contexts give different snapshots");
    fz_buf_free(&b2);
    pacing_ctx_free(ctx);
    FZ_CHECK(g_as.outstanding == 0, "fixture leaked %zu bytes", g_as.outstanding);
    return 0;
}

static void after_success(pacing_ctx *ctx)
{
    fz_check_stats(ctx, NULL);
    pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
    FZ_CHECK(pacing_decision_stats_get(ctx, &ds) == PACING_OK, "decision stats");
    FZ_CHECK(ds.pending <= 16, "%llu pending, capacity 16",
             (unsigned long long)ds.pending);

    int64_t t = FX_T0 + 3600000;
    /* every fixture user first, user by user (the table is small: later
     * users evict earlier ones): events that may repeat the last one
     * (debounce), extend a click run, feed the loaded pending decisions'
     * reward rules; then the recovering point (the user's recent arms) */
    for (int u = 0; u <= FX_N_USERS; u++) {
        fx_push(ctx, u, PACING_EV_DISMISS, t - 310, 0.0);
        fx_push(ctx, u, PACING_EV_CLICK, t - 305, 100.0);
        fx_push(ctx, u, PACING_EV_CONVERSION, t - 300, 5.0);
        fx_push(ctx, u, PACING_EV_RAGE_CLICK, t - 290, 0);
        fx_push(ctx, u, PACING_EV_DWELL, t - 280, 3000.0);
        pacing_decision d;
        int rc = fx_decide(ctx, 1, u, t - 270, &d);
        FZ_EXPECT("pacing_decide", rc, ctx, PACING_OK, PACING_E_VETOED,
                  PACING_E_TOO_OLD);
        if (rc == PACING_OK)
            fz_check_decision(ctx, &d, 1, 0);
    }
    /* users of every history (some evicted in the busy one) and a new one */
    static const int users[] = {0, 3, 6, 9, 11, FX_N_USERS + 1};
    for (size_t ui = 0; ui < sizeof users / sizeof users[0]; ui++) {
        int u = users[ui];
        char name[24];
        fx_user(u, name, sizeof name);
        pacing_scores sc = PACING_SCORES_INIT;
        int rc = pacing_scores_get(ctx, name, strlen(name), t, &sc);
        FZ_EXPECT("pacing_scores_get", rc, ctx, PACING_OK, PACING_E_NOTFOUND,
                  PACING_E_TOO_OLD);
        if (rc == PACING_OK)
            fz_check_scores(&sc);
        for (int kind = 0; kind < 4 && rc == PACING_OK; kind++) {
            pacing_contribution c[17];
            for (int i = 0; i < 17; i++)
                c[i] = (pacing_contribution)PACING_CONTRIBUTION_INIT;
            size_t n = 0;
            int r2 = pacing_contributions(ctx, name, strlen(name), t, kind, c, 17, &n);
            FZ_CHECK(r2 == PACING_OK, "pacing_contributions: %d", r2);
            FZ_CHECK(n <= 17, "contributions n %zu", n);
            for (size_t i = 0; i < n; i++)
                FZ_CHECK(isfinite(c[i].contribution) && fz_unit(c[i].normalized),
                         "contribution %zu: normalized %g contribution %g", i,
                         c[i].normalized, c[i].contribution);
        }
        for (uint32_t p = 0; p < FX_N_POINTS; p++) {
            pacing_decision d;
            rc = fx_decide(ctx, p, u, t + p, &d);
            FZ_EXPECT("pacing_decide", rc, ctx, PACING_OK, PACING_E_VETOED,
                      PACING_E_TOO_OLD);
            if (rc == PACING_OK) {
                fz_check_decision(ctx, &d, p, 0);
                if (d.id && u % 2 == 0) {
                    rc = pacing_reward(ctx, d.id, 1.0, t + 100);
                    FZ_EXPECT("pacing_reward", rc, ctx, PACING_OK, PACING_E_NOTFOUND);
                }
            }
        }
    }
    for (uint32_t p = 0; p < FX_N_POINTS; p++) {
        uint32_t k = fz_point_k(ctx, p);
        for (uint32_t a = 0; a < k; a++) {
            pacing_arm_stats as = PACING_ARM_STATS_INIT;
            int rc = pacing_arm_stats_get(ctx, p, a, &as);
            FZ_CHECK(rc == PACING_OK, "arm_stats_get %u %u: %d", p, a, rc);
        }
    }
    double hz = 0, ar = 0;
    FZ_CHECK(pacing_hazard_baseline(ctx, 25000, &hz, &ar) == PACING_OK, "hazard");
    FZ_CHECK(isfinite(hz) && hz >= 0.0 && hz <= 1.0 && ar >= 0.0,
             "hazard baseline %g at risk %g", hz, ar);
    fz_check_stats(ctx, NULL);

    /* what was accepted must save and load again */
    fz_buf b = {0};
    snapshot_of(ctx, &b);
    int rc = fz_read_bytes(ctx, b.data, b.len, 1000);
    FZ_CHECK(rc == PACING_OK, "a loaded, used state does not load again: %d %s", rc,
             pacing_errmsg(ctx));
    fz_buf_free(&b);

    uint64_t n = 0;
    FZ_CHECK(pacing_settle(ctx, t + 400LL * 24 * 3600 * 1000, &n) == PACING_OK,
             "settle");
    FZ_CHECK(pacing_decision_stats_get(ctx, &ds) == PACING_OK, "decision stats");
    FZ_CHECK(ds.pending == 0, "%llu pending after settling everything",
             (unsigned long long)ds.pending);
    fz_check_stats(ctx, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FZ_MAX_INPUT)
        return 0;
    fz_buf in = {0};
    const uint8_t *bytes = data;
    size_t len = size;
    if (!(size >= 8 && memcmp(data, "PACINGSN", 8) == 0)) {
        if (wrap_payload(data, size, &in) != 0)
            return 0;
        bytes = in.data;
        len = in.len;
    }

    pacing_ctx *ctx = fresh();
    pacing_stats s0;
    fz_check_stats(ctx, &s0);
    pacing_decision_stats d0 = PACING_DECISION_STATS_INIT;
    pacing_decision_stats_get(ctx, &d0);

    g_max_alloc = 0;
    int rc = fz_read_bytes(ctx, bytes, len, (size_t)4093);
    FZ_EXPECT("pacing_snapshot_read", rc, ctx, PACING_OK, PACING_E_CORRUPT,
              PACING_E_VERSION, PACING_E_CONFIG, PACING_E_NOMEM);
    /* the read buffer doubles from 64 KiB; the payload is at most ~1032
     * times its compressed size (zlib's limit; lib/ allows 1100) */
    size_t bound = 1200 * (size_t)len + (1u << 20);
    FZ_CHECK(g_max_alloc <= bound,
             "one allocation of %zu bytes while loading %zu bytes of snapshot "
             "(status %d)", g_max_alloc, len, rc);
    if (rc != PACING_OK) {
        /* untouched: same snapshot bytes, same counters */
        fz_buf after = {0};
        snapshot_of(ctx, &after);
        FZ_CHECK(after.len == g_base.len && memcmp(after.data, g_base.data, after.len) == 0,
                 "a failed load (%d: %s) changed the context", rc, pacing_errmsg(ctx));
        fz_buf_free(&after);
        pacing_stats s1;
        fz_check_stats(ctx, &s1);
        pacing_decision_stats d1 = PACING_DECISION_STATS_INIT;
        pacing_decision_stats_get(ctx, &d1);
        FZ_CHECK(stats_equal(&s0, &s1) && dstats_equal(&d0, &d1),
                 "a failed load changed the counters");
    } else {
        after_success(ctx);
    }
    pacing_ctx_free(ctx);
    fz_buf_free(&in);
    FZ_CHECK(g_as.outstanding == 0 && g_as.blocks == 0,
             "pacing_ctx_free left %zu bytes in %zu blocks", g_as.outstanding,
             g_as.blocks);
    return 0;
}
