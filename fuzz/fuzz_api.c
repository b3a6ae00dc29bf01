/* libFuzzer harness: sequences of API calls.
 *
 * The input is a program. Its first byte picks the context's options
 * (stripes, capacity, pending buffer, consent, TTL, debounce, log size);
 * the context then gets the decision points and rules of the snapshot
 * fixture (every policy) plus a point without a safe action and more
 * rules. Each following instruction is an opcode byte and its operands:
 *
 *   push, push_batch, decide, reward, forget, settle, save, load (of an
 *   earlier save, possibly damaged), scores_get, explain (of the last
 *   decision, possibly altered), expire, contributions, log_read,
 *   arm_stats_get, hazard_baseline, and a clock jump.
 *
 * Operands are drawn so that most calls are valid and some are invalid on
 * purpose (unknown types and flags, NaN, out-of-range values and times,
 * unknown ids and points). After every call:
 *   - the status is one the call may return, and for an argument list the
 *     harness built to be valid it is one of the documented outcomes (a
 *     valid push is applied, dropped or too old; an invalid one fails);
 *   - scores are in range (micro_velocity >= 0), decisions pass
 *     fz_check_decision (propensity in (0, 1], action eligible, ...), and
 *     pacing_explain returns >= 0 and NUL-terminates at every length;
 *   - users_created == users + evicted + expired + forgotten;
 *   - a user just pushed exists; a user just forgotten does not; a decision
 *     just rewarded cannot be rewarded again; a saved snapshot loads and a
 *     damaged one fails and leaves the context untouched.
 * abort() on any violation.
 *
 * Reproducible: single thread, fixed secret and seed.
 *
 * SPDX-License-Identifier: MIT */
#include "fuzz_common.h"
#include "snapshot_fixture.h"

#include <float.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FZ_MAX_INPUT 4096
#define MAX_OPS 400
#define N_USERS 16
#define MAX_TIME ((int64_t)1 << 53)

/* FUZZ_TRACE=1 in the environment prints every call and its status. */
static int g_trace;
#define TRACE(...)                                                             \
    do {                                                                       \
        if (g_trace)                                                           \
            fprintf(stderr, __VA_ARGS__);                                      \
    } while (0)

/* ---- the program reader ---- */

typedef struct prog {
    const uint8_t *p;
    size_t left;
} prog;

static uint8_t u8(prog *g)
{
    if (!g->left)
        return 0;
    g->left--;
    return *g->p++;
}
static uint16_t u16(prog *g) { return (uint16_t)(u8(g) | (u8(g) << 8)); }
static uint32_t u32(prog *g) { return (uint32_t)u16(g) | ((uint32_t)u16(g) << 16); }
static uint64_t u64(prog *g) { return (uint64_t)u32(g) | ((uint64_t)u32(g) << 32); }
static double f64(prog *g)
{
    uint64_t b = u64(g);
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* ---- the world the program acts on ---- */

typedef struct world {
    pacing_ctx *ctx;
    fz_alloc_state as;
    uint32_t n_points;
    uint32_t pending_total; /* pending capacity, rounded up per stripe */
    int require_consent;
    int64_t now;
    uint64_t ids[16];       /* recent decision ids */
    unsigned n_ids;
    pacing_decision last;   /* the latest decision made */
    uint32_t last_point;
    int have_last;
    fz_buf saved[2];
    int n_saved[2];
    char names[N_USERS][24];
    uint64_t pseudo[N_USERS];
} world;

static const double interesting[] = {
    0.0, 1.0, -1.0, 0.5, 2.0, 1e12, 1e13, 86400000.0, 86400001.0, 600000.0,
    600001.0, 10000.0, 10001.0, -0.0, 1e-310, DBL_MAX, -DBL_MAX, 1e6, -1e6,
    1e6 + 1, 0.999999, 1.0000001, 3.0, 1e300,
};
#define N_INTERESTING (sizeof interesting / sizeof interesting[0])

static double special(uint8_t k)
{
    switch (k % 4) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    default: return -NAN;
    }
}

/* A value: mostly sensible for `type`, sometimes from the table of edge
 * values, sometimes non-finite or raw bits. */
static double value_for(prog *g, uint32_t type)
{
    uint8_t v = u8(g);
    if (v < 128) {
        double f = v / 127.0;
        switch (type) {
        case PACING_EV_DWELL:
        case PACING_EV_HOVER: return f * 60000.0;
        case PACING_EV_SCROLL_DEPTH: return f;
        case PACING_EV_READING_SPEED: return f * 600.0;
        case PACING_EV_INPUT_LATENCY:
        case PACING_EV_CLICK: return f * 5000.0;
        case PACING_EV_CONVERSION: return f * 100.0;
        case PACING_EV_CONSENT: return v & 1;
        default: return f;
        }
    }
    if (v < 200)
        return interesting[v % N_INTERESTING];
    if (v < 216)
        return special(v);
    return f64(g);
}

static int value_ok(uint32_t type, double v)
{
    if (!isfinite(v))
        return 0;
    switch (type) {
    case PACING_EV_DWELL:
    case PACING_EV_HOVER: return v >= 0 && v <= 86400000.0;
    case PACING_EV_SCROLL_DEPTH: return v >= 0 && v <= 1;
    case PACING_EV_READING_SPEED: return v >= 0 && v <= 10000.0;
    case PACING_EV_INPUT_LATENCY:
    case PACING_EV_CLICK: return v >= 0 && v <= 600000.0;
    case PACING_EV_CONVERSION: return v >= 0 && v <= 1e12;
    case PACING_EV_CONSENT: return v == 0.0 || v == 1.0;
    default: return 1;
    }
}

/* A time: mostly now (advancing), sometimes in the past (reordered or too
 * old), sometimes hours ahead, sometimes outside [0, 2^53]. Sets *ok. */
static int64_t time_for(world *w, prog *g, int *ok)
{
    uint8_t d = u8(g);
    *ok = 1;
    if (d < 200) {
        w->now += (int64_t)d * 37;
    } else if (d < 240) {
        int64_t t = w->now - (int64_t)(d - 200) * 5000;
        return t < 0 ? 0 : t;
    } else if (d < 250) {
        w->now += (int64_t)(d - 240) * 3600000;
    } else {
        static const int64_t odd[] = {-1, MAX_TIME + 1, INT64_MIN, INT64_MAX, 0,
                                      MAX_TIME};
        int64_t t = odd[(d - 250) % 6];
        *ok = t >= 0 && t <= MAX_TIME;
        return t;
    }
    if (w->now > MAX_TIME)
        w->now = MAX_TIME;
    return w->now;
}

static uint32_t channel_for(prog *g, int *ok)
{
    uint8_t c = u8(g);
    *ok = 1;
    if (c >= 250) {
        *ok = 0;
        return 256u + c;
    }
    return c % 8;
}

/* ---- building the context ---- */

static int extra_points(pacing_ctx *ctx)
{
    static const char *const act[] = {"go", "wait"};
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    sp.name = "nosafe";
    sp.actions = act;
    sp.n_actions = 2;
    sp.policy = "thompson";
    sp.attribution_ms = 5000;
    sp.flags = PACING_PT_DEFAULT_REWARD;
    sp.default_reward = 0.25;
    uint32_t id;
    int rc = pacing_point_add(ctx, &sp, &id);
    if (rc != PACING_OK)
        return rc;
    /* 64 actions, the largest point */
    static char names[64][16];
    static const char *acts[64];
    for (int i = 0; i < 64; i++) {
        snprintf(names[i], sizeof names[i], "a%d", i);
        acts[i] = names[i];
    }
    pacing_point_spec big = PACING_POINT_SPEC_INIT;
    big.name = "wide";
    big.actions = acts;
    big.n_actions = 64;
    big.policy = "softmax";
    big.quiet_actions = 1ULL << 63;
    big.safe_action = 63;
    if ((rc = pacing_point_add(ctx, &big, &id)) != PACING_OK)
        return rc;

    pacing_rule_spec r = PACING_RULE_SPEC_INIT;
    pacing_param g[] = {{"gap_ms", 3000}, {"same_point", 1}};
    r.module = "min_gap";
    r.point = "nosafe";
    r.params = g;
    r.n_params = 2;
    if ((rc = pacing_rule_add(ctx, &r, NULL)) != PACING_OK)
        return rc;
    static const char *const mods[] = {"quiet_hours", "consent", "opt_out",
                                       "load_ceiling", "dropoff_ceiling"};
    for (int i = 0; i < 5; i++) {
        pacing_rule_spec m = PACING_RULE_SPEC_INIT;
        m.module = mods[i];
        if ((rc = pacing_rule_add(ctx, &m, NULL)) != PACING_OK)
            return rc;
    }
    pacing_rule_spec f = PACING_RULE_SPEC_INIT;
    pacing_param fc[] = {{"max", 1}, {"window_ms", 60000}, {"same_point", 0}};
    f.module = "frequency_cap";
    f.point = "wide";
    f.params = fc;
    f.n_params = 3;
    return pacing_rule_add(ctx, &f, NULL);
}

static int world_init(world *w, uint8_t cfg)
{
    memset(w, 0, sizeof *w);
    w->as.budget = 64u << 20;
    pacing_options o;
    pacing_allocator a = fz_allocator(&w->as);
    fx_options(&o, &a);
    o.stripes = cfg & 1 ? 4 : 1;
    o.capacity = cfg & 2 ? 64 : 4;
    o.pending_capacity = cfg & 4 ? 64 : 4;
    if (cfg & 8) {
        o.flags |= PACING_OPT_REQUIRE_CONSENT;
        w->require_consent = 1;
    }
    o.user_ttl_ms = cfg & 16 ? 600000 : -1;
    o.debounce_ms = cfg & 32 ? -1 : 0;
    o.log_capacity = cfg & 64 ? 2 : 64;
    o.reorder_window_ms = cfg & 128 ? 1 : 0;
    uint32_t per = (o.pending_capacity + o.stripes - 1) / o.stripes;
    w->pending_total = per * o.stripes;
    int rc = pacing_ctx_new(&o, &w->ctx);
    FZ_CHECK(rc == PACING_OK, "ctx_new: %d %s", rc, pacing_errmsg(NULL));
    pacing_ctx *ctx = w->ctx;
    FZ_CHECK(fx_points(ctx) == PACING_OK, "fixture points: %s", pacing_errmsg(ctx));
    FZ_CHECK(extra_points(ctx) == PACING_OK, "extra points: %s", pacing_errmsg(ctx));
    while (w->n_points < 64 && pacing_action_name(ctx, w->n_points, 0))
        w->n_points++;
    for (int i = 0; i < N_USERS; i++) {
        snprintf(w->names[i], sizeof w->names[i], "user-%02d", i);
        rc = pacing_pseudonym(ctx, w->names[i], strlen(w->names[i]), &w->pseudo[i]);
        FZ_CHECK(rc == PACING_OK && w->pseudo[i] != 0, "pseudonym");
    }
    w->now = FX_T0 + 14 * 3600000LL; /* 12:13 UTC: outside the quiet hours */
    return 0;
}

static void world_free(world *w)
{
    pacing_ctx_free(w->ctx);
    for (int i = 0; i < 2; i++)
        fz_buf_free(&w->saved[i]);
    FZ_CHECK(w->as.outstanding == 0 && w->as.blocks == 0,
             "pacing_ctx_free left %zu bytes in %zu blocks", w->as.outstanding,
             w->as.blocks);
}

static void check_world(world *w)
{
    fz_check_stats(w->ctx, NULL);
    pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
    FZ_CHECK(pacing_decision_stats_get(w->ctx, &ds) == PACING_OK, "decision stats");
    FZ_CHECK(ds.pending <= w->pending_total, "%llu pending, capacity %u",
             (unsigned long long)ds.pending, w->pending_total);
}

/* ---- operations ---- */

typedef struct gen_event {
    pacing_event ev;
    int valid;  /* every field valid by construction */
    int user;
    int erases; /* a valid CONSENT 0 or OPT_OUT: the user is erased */
    int consented;
} gen_event;

static void gen_event_make(world *w, prog *g, gen_event *ge)
{
    pacing_event ev = PACING_EVENT_INIT;
    int valid = 1, ok;
    uint8_t b = u8(g);
    ev.type = b % 32;
    if (ev.type == 0 || ev.type > PACING_EV_TYPE_MAX)
        valid = 0;
    int user = u8(g) % N_USERS;
    uint8_t fl = u8(g);
    uint32_t flags = PACING_EVF_CONSENT;
    if ((fl & 3) == 3)
        flags |= PACING_EVF_BOT;
    if (fl & 4)
        flags = (flags & ~PACING_EVF_CONSENT) | PACING_EVF_NO_CONSENT;
    if (fl & 8)
        flags |= PACING_EVF_NO_RESPONSE;
    if (fl & 0x40)
        flags &= ~PACING_EVF_CONSENT;
    if (fl & 0x10) {
        flags |= PACING_EVF_PSEUDONYM;
        ev.pseudonym = fl & 0x20 ? 0 : w->pseudo[user];
        if (fl & 0x20)
            valid = 0;
    } else {
        ev.user = w->names[user];
        ev.user_len = strlen(w->names[user]);
    }
    if ((fl & 0xC0) == 0xC0) {
        flags |= 0x40u; /* an unknown flag */
        valid = 0;
    }
    ev.flags = flags;
    ev.time_ms = time_for(w, g, &ok);
    valid &= ok;
    ev.value = value_for(g, ev.type);
    if (valid && !value_ok(ev.type, ev.value))
        valid = 0;
    if (!isfinite(ev.value))
        valid = 0;
    ev.target = u8(g) % 4;
    ev.channel = channel_for(g, &ok);
    valid &= ok;
    ge->ev = ev;
    ge->valid = valid;
    ge->user = user;
    ge->consented = (flags & PACING_EVF_CONSENT) != 0 ||
                    (ev.type == PACING_EV_CONSENT && ev.value == 1.0);
    ge->erases = valid &&
                 ((ev.type == PACING_EV_CONSENT && ev.value == 0.0) ||
                  ev.type == PACING_EV_OPT_OUT);
}

static void op_push(world *w, prog *g)
{
    gen_event ge;
    gen_event_make(w, g, &ge);
    int rc = pacing_push(w->ctx, &ge.ev);
    TRACE("push type %u user %d flags 0x%x t %lld value %g ch %u: %d%s\n", ge.ev.type,
          ge.user, ge.ev.flags, (long long)ge.ev.time_ms, ge.ev.value, ge.ev.channel,
          rc, ge.valid ? "" : " (invalid)");
    if (ge.valid)
        FZ_EXPECT("pacing_push (valid)", rc, w->ctx, PACING_OK, PACING_DROPPED,
                  PACING_E_TOO_OLD);
    else
        FZ_EXPECT("pacing_push (invalid)", rc, w->ctx, PACING_E_NULL, PACING_E_TYPE,
                  PACING_E_NAN, PACING_E_RANGE, PACING_E_INVAL, PACING_E_TIME);
    if (rc == PACING_OK && !ge.erases) {
        /* the user exists now */
        pacing_scores sc = PACING_SCORES_INIT;
        int r2 = pacing_scores_get_pseudonym(w->ctx, w->pseudo[ge.user],
                                             ge.ev.time_ms, &sc);
        FZ_CHECK(r2 == PACING_OK, "user pushed at %lld not found at that time: %d %s",
                 (long long)ge.ev.time_ms, r2, pacing_errmsg(w->ctx));
        fz_check_scores(&sc);
        FZ_CHECK(sc.last_seen_ms >= ge.ev.time_ms, "last_seen %lld < event %lld",
                 (long long)sc.last_seen_ms, (long long)ge.ev.time_ms);
    }
    if (rc == PACING_OK && ge.valid && ge.ev.type == PACING_EV_OPT_OUT) {
        pacing_scores sc = PACING_SCORES_INIT;
        int r2 = pacing_scores_get_pseudonym(w->ctx, w->pseudo[ge.user],
                                             ge.ev.time_ms, &sc);
        FZ_CHECK(r2 == PACING_E_NOTFOUND, "user still there after OPT_OUT: %d", r2);
    }
    if (rc == PACING_OK && w->require_consent && !ge.erases)
        FZ_CHECK(ge.consented, "an event without CONSENT applied under "
                               "require_consent");
}

static void op_push_batch(world *w, prog *g)
{
    gen_event ge[5];
    pacing_event evs[5];
    size_t n = u8(g) % 5 + 1;
    int all_valid = 1;
    for (size_t i = 0; i < n; i++) {
        gen_event_make(w, g, &ge[i]);
        evs[i] = ge[i].ev;
        all_valid &= ge[i].valid;
    }
    size_t done = 99;
    int rc = pacing_push_batch(w->ctx, evs, n, &done);
    TRACE("push_batch %zu: %d done %zu\n", n, rc, done);
    FZ_EXPECT("pacing_push_batch", rc, w->ctx, PACING_OK, PACING_E_NULL, PACING_E_TYPE,
              PACING_E_NAN, PACING_E_RANGE, PACING_E_INVAL, PACING_E_TIME,
              PACING_E_TOO_OLD);
    if (rc == PACING_OK)
        FZ_CHECK(done == n, "push_batch OK with n_done %zu of %zu", done, n);
    else
        FZ_CHECK(done < n && (!ge[done].valid || rc == PACING_E_TOO_OLD),
                 "push_batch %d with n_done %zu of %zu (event valid: %d)", rc, done,
                 n, done < n ? ge[done].valid : -1);
    if (!all_valid)
        FZ_CHECK(rc != PACING_OK, "push_batch accepted an invalid event");
}

static void op_decide(world *w, prog *g)
{
    pacing_request rq = PACING_REQUEST_INIT;
    int valid = 1, ok;
    uint8_t pb = u8(g);
    rq.point = pb % (w->n_points + 1);
    if (rq.point == w->n_points) {
        rq.point = pb & 0x80 ? UINT32_MAX : w->n_points;
        valid = 0;
    }
    int user = u8(g) % N_USERS;
    uint8_t fl = u8(g);
    uint32_t flags = PACING_REQ_CONSENT;
    if (fl & 1)
        flags = PACING_REQ_NO_CONSENT;
    if (fl & 2)
        flags |= PACING_REQ_OPTED_OUT;
    if (fl & 4)
        flags &= ~PACING_REQ_CONSENT;
    if (fl & 8) {
        flags |= PACING_REQ_PSEUDONYM;
        rq.pseudonym = fl & 0x10 ? 0 : w->pseudo[user];
        if (fl & 0x10)
            valid = 0;
    } else {
        rq.user = w->names[user];
        rq.user_len = fl & 0x10 ? 0 : strlen(w->names[user]);
        if (fl & 0x10)
            valid = 0;
    }
    if ((fl & 0x60) == 0x60) {
        flags |= 0x100u;
        valid = 0;
    }
    if ((fl & 0x81) == 0x81) {
        flags |= PACING_REQ_CONSENT | PACING_REQ_NO_CONSENT;
        valid = 0;
    }
    rq.flags = flags;
    uint8_t ie = u8(g);
    uint32_t k = fz_point_k(w->ctx, rq.point);
    uint64_t all = k == 64 ? ~0ULL : (k ? (1ULL << k) - 1 : 0);
    if (ie == 0xFF) {
        rq.ineligible = ~0ULL;
        valid = 0;
    } else {
        rq.ineligible = ie & 0x7F;
        if (ie & 0x80)
            rq.ineligible |= 0xF0F0000000000000ULL;
        if (k && (rq.ineligible & all) == all)
            valid = 0;
    }
    double cv[32];
    uint8_t cb = u8(g);
    for (int i = 0; i < 32; i++)
        cv[i] = (i + 1) * 0.1 * ((cb >> (i % 8)) & 1 ? 1.0 : -1.0);
    if (cb >= 0xF0) {
        cv[cb & 1] = special(cb);
        valid = 0; /* only if the point reads cv[0..1] */
    }
    if (cb >= 0xE0 && cb < 0xF0)
        cv[0] = interesting[cb % N_INTERESTING];
    uint8_t uo = u8(g);
    rq.utc_offset_min = (int32_t)(int8_t)uo * 12;
    if (rq.utc_offset_min < -1440 || rq.utc_offset_min > 1440)
        valid = 0;
    rq.channel = channel_for(g, &ok);
    valid &= ok;
    rq.now_ms = time_for(w, g, &ok);
    valid &= ok;

    pacing_decision d = PACING_DECISION_INIT;
    int rc;
    uint8_t dim = u8(g);
    if (dim < 200) {
        /* the right context length */
        rc = fz_decide_any_dim(w->ctx, &rq, &d, cv);
        if (cb >= 0xF0 && rc == PACING_OK)
            valid = 1; /* the point did not read the bad value */
    } else {
        rq.context = dim & 1 ? NULL : cv;
        rq.context_len = dim % 40;
        rc = pacing_decide(w->ctx, &rq, &d);
        valid = 0;
    }
    TRACE("decide point %u user %d flags 0x%x inel 0x%llx t %lld: %d action %u "
          "p %g reasons 0x%x id %llu%s\n", rq.point, user, rq.flags,
          (unsigned long long)rq.ineligible, (long long)rq.now_ms, rc, d.action,
          d.propensity, d.reasons, (unsigned long long)d.id, valid ? "" : " (invalid)");
    if (valid && cb < 0xF0)
        FZ_EXPECT("pacing_decide (valid)", rc, w->ctx, PACING_OK, PACING_E_VETOED,
                  PACING_E_TOO_OLD);
    else
        FZ_EXPECT("pacing_decide", rc, w->ctx, PACING_OK, PACING_E_VETOED,
                  PACING_E_NULL, PACING_E_NOTFOUND, PACING_E_INVAL, PACING_E_NAN,
                  PACING_E_RANGE, PACING_E_TIME, PACING_E_TOO_OLD);
    if (rc != PACING_OK)
        return;
    fz_check_decision(w->ctx, &d, rq.point, rq.ineligible);
    if (flags & (PACING_REQ_NO_CONSENT | PACING_REQ_OPTED_OUT))
        FZ_CHECK(d.reasons & PACING_DR_NO_USER, "no-consent decision used user state");
    w->last = d;
    w->last_point = rq.point;
    w->have_last = 1;
    if (d.id)
        w->ids[w->n_ids++ % 16] = d.id;
}

static void op_reward(world *w, prog *g)
{
    uint8_t sel = u8(g);
    uint64_t id;
    if (sel < 200)
        id = w->ids[(w->n_ids + 15 - sel % 16) % 16];
    else if (sel < 230)
        id = w->ids[sel % 16] ^ (1ULL << (sel % 64));
    else
        id = u64(g);
    uint8_t v = u8(g);
    double value = v < 128 ? v / 127.0 : v < 200 ? interesting[v % N_INTERESTING]
                                                 : special(v);
    int ok;
    int64_t t = time_for(w, g, &ok);
    int rc = pacing_reward(w->ctx, id, value, t);
    TRACE("reward %llu value %g t %lld: %d\n", (unsigned long long)id, value,
          (long long)t, rc);
    FZ_EXPECT("pacing_reward", rc, w->ctx, PACING_OK, PACING_E_NAN, PACING_E_RANGE,
              PACING_E_TIME, PACING_E_NOTFOUND);
    if (!isfinite(value))
        FZ_CHECK(rc == PACING_E_NAN || rc == PACING_E_TIME, "reward NaN: %d", rc);
    if (!ok)
        FZ_CHECK(rc == PACING_E_TIME || rc == PACING_E_NAN, "reward bad time: %d", rc);
    if (id == 0)
        FZ_CHECK(rc != PACING_OK, "reward of id 0 accepted");
    if (rc == PACING_OK) {
        rc = pacing_reward(w->ctx, id, value, t);
        FZ_CHECK(rc == PACING_E_NOTFOUND, "second reward of %llu: %d",
                 (unsigned long long)id, rc);
    }
}

static void op_forget(world *w, prog *g)
{
    uint8_t b = u8(g);
    int user = b % N_USERS;
    int rc = b & 0x80 ? pacing_forget_pseudonym(w->ctx, w->pseudo[user])
                      : pacing_forget(w->ctx, w->names[user], strlen(w->names[user]));
    FZ_EXPECT("pacing_forget", rc, w->ctx, PACING_OK, PACING_E_NOTFOUND);
    pacing_scores sc = PACING_SCORES_INIT;
    rc = pacing_scores_get_pseudonym(w->ctx, w->pseudo[user], w->now, &sc);
    FZ_CHECK(rc == PACING_E_NOTFOUND, "forgotten user still has scores: %d", rc);
    rc = pacing_forget_pseudonym(w->ctx, w->pseudo[user]);
    FZ_CHECK(rc == PACING_E_NOTFOUND, "second forget: %d", rc);
    if (b & 0x40) {
        rc = pacing_forget_pseudonym(w->ctx, 0);
        FZ_EXPECT("pacing_forget_pseudonym(0)", rc, w->ctx, PACING_E_NOTFOUND,
                  PACING_E_INVAL);
    }
}

static void op_settle(world *w, prog *g)
{
    int ok;
    int64_t t = time_for(w, g, &ok);
    uint64_t n = 77;
    int rc = pacing_settle(w->ctx, t, &n);
    if (ok)
        FZ_CHECK(rc == PACING_OK, "settle(%lld): %d", (long long)t, rc);
    else
        FZ_CHECK(rc == PACING_E_TIME, "settle(%lld): %d", (long long)t, rc);
    if (rc == PACING_OK) {
        /* nothing left whose window ended; settling again finds none */
        uint64_t m = 99;
        FZ_CHECK(pacing_settle(w->ctx, t, &m) == PACING_OK && m == 0,
                 "second settle at the same time settled %llu",
                 (unsigned long long)m);
    }
}

static void snap(world *w, fz_buf *b)
{
    b->len = 0;
    int rc = pacing_snapshot_write(w->ctx, fz_buf_write, b);
    FZ_CHECK(rc == PACING_OK, "snapshot_write: %d %s", rc, pacing_errmsg(w->ctx));
}

static void op_save(world *w, prog *g)
{
    int slot = u8(g) & 1;
    snap(w, &w->saved[slot]);
    w->n_saved[slot] = 1;
    pacing_stats s0, s1;
    fz_check_stats(w->ctx, &s0);
    int rc = fz_read_bytes(w->ctx, w->saved[slot].data, w->saved[slot].len,
                           (size_t)(u8(g) + 1) * 64);
    FZ_CHECK(rc == PACING_OK, "own snapshot does not load: %d %s", rc,
             pacing_errmsg(w->ctx));
    fz_check_stats(w->ctx, &s1);
    FZ_CHECK(memcmp(&s0, &s1, sizeof s0) == 0, "loading the own snapshot changed "
                                               "the counters");
}

static void op_load(world *w, prog *g)
{
    int slot = u8(g) & 1;
    if (!w->n_saved[slot])
        return;
    uint8_t c = u8(g);
    uint16_t pos = u16(g);
    uint8_t x = u8(g) | 1;
    fz_buf *s = &w->saved[slot];
    unsigned char *copy = malloc(s->len);
    FZ_CHECK(copy != NULL, "malloc");
    memcpy(copy, s->data, s->len);
    size_t len = s->len;
    int damaged = 0;
    if (c & 1) {
        copy[pos % len] ^= x;
        damaged = 1;
    }
    if (c & 2) {
        len = pos % len;
        damaged = 1;
    }
    fz_buf before = {0};
    if (damaged)
        snap(w, &before);
    int rc = fz_read_bytes(w->ctx, copy, len, 0);
    if (!damaged) {
        FZ_CHECK(rc == PACING_OK, "an earlier snapshot does not load: %d %s", rc,
                 pacing_errmsg(w->ctx));
    } else {
        FZ_EXPECT("pacing_snapshot_read (damaged)", rc, w->ctx, PACING_E_CORRUPT,
                  PACING_E_VERSION, PACING_E_CONFIG);
        fz_buf after = {0};
        snap(w, &after);
        FZ_CHECK(after.len == before.len && memcmp(after.data, before.data, after.len) == 0,
                 "a failed load changed the context");
        fz_buf_free(&after);
    }
    fz_buf_free(&before);
    free(copy);
}

static void op_scores(world *w, prog *g)
{
    uint8_t b = u8(g);
    int user = b % N_USERS;
    int ok;
    int64_t t = time_for(w, g, &ok);
    pacing_scores sc = PACING_SCORES_INIT;
    int rc = b & 0x80 ? pacing_scores_get_pseudonym(w->ctx, w->pseudo[user], t, &sc)
                      : pacing_scores_get(w->ctx, w->names[user],
                                          strlen(w->names[user]), t, &sc);
    FZ_EXPECT("pacing_scores_get", rc, w->ctx, PACING_OK, PACING_E_TIME,
              PACING_E_TOO_OLD, PACING_E_NOTFOUND);
    if (!ok)
        FZ_CHECK(rc == PACING_E_TIME, "scores at bad time: %d", rc);
    if (rc == PACING_OK)
        fz_check_scores(&sc);
}

static void op_explain(world *w, prog *g)
{
    if (!w->have_last)
        return;
    uint8_t m = u8(g);
    uint8_t len = u8(g);
    if (m < 128) {
        fz_check_explain(w->ctx, &w->last, len);
        return;
    }
    /* an altered decision: explain must not crash, must NUL-terminate */
    pacing_decision d = w->last;
    uint8_t a = u8(g), b = u8(g);
    switch (m % 12) {
    case 0: d.action = a; break;
    case 1: d.point = a; break;
    case 2: d.n_vetoes = a % 6; break;
    case 3: d.vetoes[a % 4].rule = b; d.n_vetoes = 4; break;
    case 4: d.vetoes[a % 4].action = b; d.n_vetoes = 4; break;
    case 5: d.vetoes[a % 4].reason = b; d.vetoes[a % 4].verdict = b % 4; d.n_vetoes = 4; break;
    case 6: d.vetoes[a % 4].detail[b & 1] = b & 2 ? special(b) : interesting[b % N_INTERESTING];
            d.vetoes[a % 4].retry_after_ms = (int64_t)b << 40; break;
    case 7: d.reasons = (uint32_t)a << (b % 24); break;
    case 8: d.fatigue_top.input[a & 1] = (int8_t)b; d.load_top.input[a & 1] = (int8_t)a; break;
    case 9: d.fatigue = b & 1 ? special(b) : interesting[b % N_INTERESTING];
            d.cognitive_load = interesting[a % N_INTERESTING]; break;
    case 10: d.propensity = b & 1 ? special(b) : interesting[b % N_INTERESTING]; break;
    default: d.size = a; break;
    }
    char buf[256];
    memset(buf, 'X', sizeof buf);
    size_t l = len % sizeof buf;
    int rc = pacing_explain(w->ctx, &d, buf, l);
    FZ_CHECK(rc >= 0 || rc == PACING_E_NOTFOUND || rc == PACING_E_SIZE,
             "explain of an altered decision: %d", rc);
    if (l > 0 && rc >= 0) {
        size_t want = (size_t)rc < l - 1 ? (size_t)rc : l - 1;
        FZ_CHECK(buf[want] == '\0' && strlen(buf) == want, "explain: bad termination");
        FZ_CHECK(strstr(buf, "(null)") == NULL, "explain printed a NULL string: %s",
                 buf);
    }
    for (size_t i = l; i < sizeof buf; i++)
        FZ_CHECK(buf[i] == 'X', "explain wrote beyond len");
}

static void op_expire(world *w, prog *g)
{
    int ok;
    int64_t t = time_for(w, g, &ok);
    uint64_t n = 0;
    pacing_stats s0, s1;
    fz_check_stats(w->ctx, &s0);
    int rc = pacing_expire(w->ctx, t, &n);
    FZ_CHECK(ok ? rc == PACING_OK : rc == PACING_E_TIME, "expire(%lld): %d",
             (long long)t, rc);
    fz_check_stats(w->ctx, &s1);
    if (rc == PACING_OK)
        FZ_CHECK(s1.users_expired == s0.users_expired + n && s1.users + n == s0.users,
                 "expire counted %llu, users %llu -> %llu",
                 (unsigned long long)n, (unsigned long long)s0.users,
                 (unsigned long long)s1.users);
}

static void op_contrib(world *w, prog *g)
{
    uint8_t b = u8(g);
    int user = b % N_USERS;
    int kind = u8(g) % 6;
    size_t cap = u8(g) % 20;
    pacing_contribution c[20];
    for (int i = 0; i < 20; i++)
        c[i] = (pacing_contribution)PACING_CONTRIBUTION_INIT;
    size_t n = 0;
    int rc = pacing_contributions_pseudonym(w->ctx, w->pseudo[user], w->now, kind, c,
                                            cap, &n);
    FZ_EXPECT("pacing_contributions", rc, w->ctx, PACING_OK, PACING_E_INVAL,
              PACING_E_TOO_OLD, PACING_E_NOTFOUND);
    if (kind > 3)
        FZ_CHECK(rc != PACING_OK, "contributions of kind %d", kind);
    if (rc != PACING_OK)
        return;
    FZ_CHECK(n <= PACING_INPUT_COUNT, "n %zu", n);
    double sum = 0;
    size_t shown = n < cap ? n : cap;
    for (size_t i = 0; i < shown; i++) {
        FZ_CHECK(c[i].input >= 0 && c[i].input < PACING_INPUT_COUNT, "input %d",
                 c[i].input);
        FZ_CHECK(fz_unit(c[i].normalized), "normalized %g", c[i].normalized);
        FZ_CHECK(isfinite(c[i].contribution) && c[i].contribution >= 0,
                 "contribution %g", c[i].contribution);
        FZ_CHECK(i == 0 || c[i].contribution <= c[i - 1].contribution + 1e-12,
                 "contributions not sorted");
        sum += c[i].contribution;
    }
    FZ_CHECK(sum <= 1.0 + 1e-9, "contributions sum to %g", sum);
}

typedef struct log_ctx {
    world *w;
    unsigned stop_after, seen;
} log_ctx;

static int log_cb(void *opaque, const pacing_log_entry *e)
{
    log_ctx *lc = opaque;
    world *w = lc->w;
    FZ_CHECK(e->size == sizeof *e, "log entry size");
    FZ_CHECK(e->point < w->n_points, "log point %u", e->point);
    uint32_t k = fz_point_k(w->ctx, e->point);
    FZ_CHECK(e->final_action < k, "log final_action %u", e->final_action);
    FZ_CHECK(e->proposed_action < k || e->proposed_action == UINT32_MAX,
             "log proposed_action %u", e->proposed_action);
    FZ_CHECK(e->outcome >= PACING_OUT_REWARDED && e->outcome <= PACING_OUT_SAFE,
             "log outcome %u", e->outcome);
    FZ_CHECK(e->propensity > 0.0 && e->propensity <= 1.0, "log propensity %g",
             e->propensity);
    FZ_CHECK(isfinite(e->reward), "log reward %g", e->reward);
    FZ_CHECK((e->outcome == PACING_OUT_SAFE) == (e->id == 0), "log id %llu outcome %u",
             (unsigned long long)e->id, e->outcome);
    return ++lc->seen >= lc->stop_after;
}

static void op_log(world *w, prog *g)
{
    log_ctx lc = {w, (unsigned)u8(g) % 8 + 1, 0};
    uint64_t dropped = 0;
    int rc = pacing_log_read(w->ctx, log_cb, &lc, &dropped);
    FZ_CHECK(rc == PACING_OK, "log_read: %d", rc);
}

static void op_arm(world *w, prog *g)
{
    uint32_t p = u8(g) % (w->n_points + 1);
    uint32_t a = u8(g) % 66;
    pacing_arm_stats as = PACING_ARM_STATS_INIT;
    int rc = pacing_arm_stats_get(w->ctx, p, a, &as);
    FZ_EXPECT("pacing_arm_stats_get", rc, w->ctx, PACING_OK, PACING_E_NOTFOUND);
    if (rc == PACING_OK) {
        FZ_CHECK(isfinite(as.pulls) && as.pulls >= 0, "pulls %g", as.pulls);
        FZ_CHECK(isfinite(as.mean) && isfinite(as.reward_sum), "mean %g sum %g",
                 as.mean, as.reward_sum);
        FZ_CHECK(as.rewards <= as.decisions, "rewards %llu > decisions %llu",
                 (unsigned long long)as.rewards, (unsigned long long)as.decisions);
    }
}

static void op_hazard(world *w, prog *g)
{
    uint8_t b = u8(g);
    int64_t age = b < 240 ? (int64_t)b * 1000 : b < 250 ? (int64_t)u32(g) * 1000
                                                        : -(int64_t)b;
    double hz = -1, ar = -1;
    int rc = pacing_hazard_baseline(w->ctx, age, &hz, &ar);
    if (age < 0)
        FZ_CHECK(rc == PACING_E_TIME, "hazard at age %lld: %d", (long long)age, rc);
    else
        FZ_CHECK(rc == PACING_OK, "hazard at age %lld: %d", (long long)age, rc);
    if (rc == PACING_OK)
        FZ_CHECK(isfinite(hz) && hz >= 0 && hz <= 1 && isfinite(ar) && ar >= 0,
                 "hazard %g at risk %g", hz, ar);
}

static void op_jump(world *w, prog *g)
{
    uint8_t b = u8(g);
    if (b < 250)
        w->now += (int64_t)b * 60000;
    else
        w->now += (int64_t)u32(g) * 1000;
    if (w->now > MAX_TIME)
        w->now = MAX_TIME;
}

typedef void (*op_fn)(world *, prog *);
static const op_fn ops[] = {
    op_push,   op_push,    op_push,   op_push_batch, op_decide, op_decide,
    op_decide, op_reward,  op_reward, op_forget,     op_settle, op_save,
    op_load,   op_scores,  op_explain, op_expire,    op_contrib, op_log,
    op_arm,    op_hazard,  op_jump,
};
#define N_OPS (sizeof ops / sizeof ops[0])

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_strict_text = 1;
    const char *t = getenv("FUZZ_TRACE");
    g_trace = t && *t && *t != '0';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FZ_MAX_INPUT)
        return 0;
    prog g = {data + 1, size - 1};
    world *w = calloc(1, sizeof *w);
    FZ_CHECK(w != NULL, "calloc");
    world_init(w, data[0]);
    check_world(w);
    for (int n = 0; g.left > 0 && n < MAX_OPS; n++) {
        unsigned op = u8(&g) % N_OPS;
        TRACE("[%d] op %u\n", n, op);
        ops[op](w, &g);
        check_world(w);
    }
    world_free(w);
    free(w);
    return 0;
}
