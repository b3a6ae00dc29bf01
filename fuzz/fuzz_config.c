/* libFuzzer harness: the YAML configuration loader.
 *
 * The input is a YAML document given to pacing_ctx_new_from_yaml_string().
 * Checked:
 *  - the status is PACING_OK, PACING_E_CONFIG or PACING_E_NOMEM (the budget
 *    allocator refuses huge tables), and on failure *out is NULL, nothing
 *    allocated through the base allocator is left, and the error is a
 *    NUL-terminated message with a line inside the text;
 *  - on success, a short workload on the new context: events for a few
 *    users, a decision at every point (invariants of fz_check_decision), a
 *    reward, scores, settle, a snapshot round trip through memory that must
 *    load and leave the counters as they were, and then the context frees
 *    everything it allocated.
 *
 * Reproducible: single thread, fixed secret and seed in the base options
 * (a file may override them; files asking for random_seed are skipped).
 *
 * SPDX-License-Identifier: MIT */
#include "fuzz_common.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FZ_MAX_INPUT (64 * 1024)

static void base_options(pacing_options *o, fz_alloc_state *as)
{
    pacing_options_init(o);
    o->flags = PACING_OPT_SINGLE_THREAD | PACING_OPT_SECRET;
    memcpy(o->secret, "fuzz-config-key!", 16);
    o->seed = 0x5eed;
    /* defaults the file may override: keep the tables small so a file that
     * does not set capacity is cheap to load */
    o->capacity = 256;
    o->pending_capacity = 256;
    o->log_capacity = 256;
    o->allocator = fz_allocator(as);
}

static int stats_equal(const pacing_stats *a, const pacing_stats *b)
{
    return a->users == b->users && a->users_created == b->users_created &&
           a->users_evicted_lru == b->users_evicted_lru &&
           a->users_expired == b->users_expired &&
           a->users_forgotten == b->users_forgotten &&
           a->events_applied == b->events_applied &&
           a->bytes_allocated == b->bytes_allocated;
}

static int dstats_equal(const pacing_decision_stats *a, const pacing_decision_stats *b)
{
    return a->decisions == b->decisions && a->pending == b->pending &&
           a->rewards_explicit == b->rewards_explicit &&
           a->rewards_implicit == b->rewards_implicit &&
           a->rewards_default == b->rewards_default &&
           a->expired_unrewarded == b->expired_unrewarded &&
           a->settled_early == b->settled_early &&
           a->reward_rejected == b->reward_rejected;
}

static int push(pacing_ctx *ctx, const char *user, uint32_t type, int64_t t,
                double value)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.flags = PACING_EVF_CONSENT;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    ev.target = 7;
    ev.channel = PACING_CH_WEB;
    int rc = pacing_push(ctx, &ev);
    FZ_EXPECT("pacing_push", rc, ctx, PACING_OK, PACING_DROPPED);
    return rc;
}

static void workload(pacing_ctx *ctx)
{
    static const char *users[3] = {"alice", "bob", "carol"};
    int64_t t = 1700000000000LL;
    for (int u = 0; u < 3; u++) {
        push(ctx, users[u], PACING_EV_SESSION_START, t, 0);
        push(ctx, users[u], PACING_EV_CLICK, t + 100, 120);
        push(ctx, users[u], PACING_EV_DISMISS, t + 200, 0);
        push(ctx, users[u], PACING_EV_INPUT_LATENCY, t + 300, 800);
        push(ctx, users[u], PACING_EV_ERROR, t + 400, 0);
    }
    double cv[32];
    for (int i = 0; i < 32; i++)
        cv[i] = (i % 5) * 0.25 - 0.5;

    uint32_t n_points = 0;
    while (n_points < 64 && pacing_action_name(ctx, n_points, 0))
        n_points++;
    for (uint32_t p = 0; p < n_points && p < 16; p++) {
        for (int u = 0; u < 3; u++) {
            pacing_request rq = PACING_REQUEST_INIT;
            rq.point = p;
            rq.flags = PACING_REQ_CONSENT;
            rq.user = users[u];
            rq.user_len = strlen(users[u]);
            rq.now_ms = t + 1000 + 1000 * u;
            rq.channel = PACING_CH_WEB;
            rq.utc_offset_min = 60 * u;
            rq.ineligible = u == 2 ? 1 : 0;
            pacing_decision d = PACING_DECISION_INIT;
            int rc = fz_decide_any_dim(ctx, &rq, &d, cv);
            FZ_EXPECT("pacing_decide", rc, ctx, PACING_OK, PACING_E_VETOED,
                      PACING_E_TOO_OLD);
            if (rc != PACING_OK)
                continue;
            fz_check_decision(ctx, &d, p, rq.ineligible);
            if (d.id && u != 1) {
                /* 0.5 is in every policy's reward range */
                rc = pacing_reward(ctx, d.id, 0.5, rq.now_ms + 10);
                FZ_EXPECT("pacing_reward", rc, ctx, PACING_OK, PACING_E_NOTFOUND);
            }
        }
    }
    /* implicit rewards through events */
    push(ctx, users[1], PACING_EV_CONVERSION, t + 5000, 10);
    push(ctx, users[1], PACING_EV_MICRO_CONVERSION, t + 5100, 0);
    for (int u = 0; u < 3; u++) {
        pacing_scores sc = PACING_SCORES_INIT;
        int rc = pacing_scores_get(ctx, users[u], strlen(users[u]), t + 6000, &sc);
        FZ_EXPECT("pacing_scores_get", rc, ctx, PACING_OK, PACING_E_NOTFOUND);
        if (rc == PACING_OK)
            fz_check_scores(&sc);
    }
    fz_check_stats(ctx, NULL);

    /* snapshot round trip: must load, and change no counter */
    pacing_stats s0;
    fz_check_stats(ctx, &s0);
    pacing_decision_stats d0 = PACING_DECISION_STATS_INIT;
    pacing_decision_stats_get(ctx, &d0);
    fz_buf b = {0};
    int rc = pacing_snapshot_write(ctx, fz_buf_write, &b);
    FZ_EXPECT("pacing_snapshot_write", rc, ctx, PACING_OK, PACING_E_NOMEM);
    if (rc == PACING_OK) {
        rc = fz_read_bytes(ctx, b.data, b.len, 0);
        FZ_EXPECT("pacing_snapshot_read (own snapshot)", rc, ctx, PACING_OK,
                  PACING_E_NOMEM);
        pacing_stats s1;
        fz_check_stats(ctx, &s1);
        pacing_decision_stats d1 = PACING_DECISION_STATS_INIT;
        pacing_decision_stats_get(ctx, &d1);
        FZ_CHECK(stats_equal(&s0, &s1), "stats changed by loading the context's "
                 "own snapshot");
        FZ_CHECK(dstats_equal(&d0, &d1), "decision stats changed by loading the "
                 "context's own snapshot");
    }
    fz_buf_free(&b);

    uint64_t n = 0;
    rc = pacing_settle(ctx, t + 400LL * 24 * 3600 * 1000, &n);
    FZ_CHECK(rc == PACING_OK, "pacing_settle: %d", rc);
    pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
    pacing_decision_stats_get(ctx, &ds);
    FZ_CHECK(ds.pending == 0, "%llu pending after settling everything",
             (unsigned long long)ds.pending);
    uint64_t expired = 0;
    rc = pacing_expire(ctx, t + 400LL * 24 * 3600 * 1000, &expired);
    FZ_CHECK(rc == PACING_OK, "pacing_expire: %d", rc);
    fz_check_stats(ctx, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FZ_MAX_INPUT)
        return 0;
    /* a random seed would make runs irreproducible */
    static const char rs[] = "random_seed";
    for (size_t i = 0; i + sizeof rs - 1 <= size; i++)
        if (memcmp(data + i, rs, sizeof rs - 1) == 0)
            return 0;

    fz_alloc_state as = {16u << 20, 0, 0, 0};
    pacing_options base;
    base_options(&base, &as);
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    pacing_ctx *ctx = (pacing_ctx *)&as; /* must be overwritten */
    int rc = pacing_ctx_new_from_yaml_string((const char *)data, size, &base, &ctx,
                                             &err);
    FZ_EXPECT("pacing_ctx_new_from_yaml_string", rc, NULL, PACING_OK,
              PACING_E_CONFIG, PACING_E_NOMEM);
    if (rc != PACING_OK) {
        FZ_CHECK(ctx == NULL, "failed load left *out = %p", (void *)ctx);
        FZ_CHECK(as.outstanding == 0 && as.blocks == 0,
                 "failed load leaked %zu bytes in %zu blocks of the base allocator",
                 as.outstanding, as.blocks);
        FZ_CHECK(memchr(err.message, '\0', sizeof err.message) != NULL,
                 "err.message not NUL-terminated");
        FZ_CHECK(memchr(err.file, '\0', sizeof err.file) != NULL,
                 "err.file not NUL-terminated");
        FZ_CHECK(strcmp(err.file, "<string>") == 0, "err.file '%s'", err.file);
        FZ_CHECK(err.message[0] != '\0', "empty error message (status %d)", rc);
        /* an upper bound on the lines as libyaml counts them: \n, \r,
         * and the UTF-8 NEL, LS and PS breaks (their last bytes) */
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 ||
                     data[i] == 0xA8 || data[i] == 0xA9;
        FZ_CHECK(err.line <= lines + 1, "error line %u, text has %zu lines",
                 err.line, lines);
        FZ_CHECK(err.line != 0 || err.column == 0, "column %u without a line",
                 err.column);
        return 0;
    }
    FZ_CHECK(ctx != NULL, "PACING_OK without a context");
    workload(ctx);
    pacing_ctx_free(ctx);
    FZ_CHECK(as.outstanding == 0 && as.blocks == 0,
             "pacing_ctx_free left %zu bytes in %zu blocks", as.outstanding,
             as.blocks);
    return 0;
}
