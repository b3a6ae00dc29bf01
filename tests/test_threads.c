/* Threads (docs/api.md, threading contract): one context shared by several
 * threads, each making a randomized mix of the shared calls (push and
 * push_batch, decide, reward of its own and of other threads' decision
 * ids, forget, expire, scores and contributions, the counters, arm
 * statistics and the hazard baseline, settle, log reads, explain and
 * snapshot writes to memory) on users drawn from one pool, so the threads
 * collide on stripes and on users. Run it under ThreadSanitizer with
 * `make test-tsan`.
 *
 * Checked afterwards: every call returned one of the statuses it may
 * return; the counters add up (users_created = users + evicted + expired
 * + forgotten, also in the middle of the run; decisions = the decides
 * that succeeded; explicit rewards and rejected rewards = the rewards that
 * returned OK and NOTFOUND; the arm statistics = the decisions and the
 * rewards learned; events accounted = events pushed); scores, decisions
 * and log entries are in range; bytes_allocated is back to its value after
 * setup; a snapshot taken in the middle of the run and one taken at the end
 * load into fresh contexts of the same configuration, and the latter
 * reproduces the counters, arm statistics and scores.
 *
 * A second test runs one thread's script on a PACING_OPT_SINGLE_THREAD
 * context and on a default (locking) context and requires identical
 * results, call by call, and identical snapshot bytes.
 *
 * PACING_STRESS_OPS sets the operations per thread (default 200000;
 * `make test-tsan` and `make valgrind` set fewer). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pacing.h"
#include "helpers.h"

#define N_THREADS 5
#define POOL 1536          /* users drawn from; more than the capacity */
#define HOT 96             /* most operations go to these */
#define CAPACITY 1024
#define PENDING 512
#define LOG_CAP 64
#define TTL_MS 300000
#define SHARED_IDS 256     /* recent decision ids, shared by all threads */
#define OWN_IDS 32
#define T0 1000000000LL
#define SNAPSHOTS_PER_THREAD 16
#define DEFAULT_OPS 200000L
#define N_POINTS 3

static const uint8_t SECRET[16] = {0x70, 0x61, 0x63, 0x69, 0x6e, 0x67, 0x2d, 0x74,
                                   0x68, 0x72, 0x65, 0x61, 0x64, 0x73, 0x21, 0x01};
static const uint32_t point_k[N_POINTS] = {3, 3, 4};
static const int32_t point_safe[N_POINTS] = {1, -1, 3};

static long stress_ops(void)
{
    const char *s = getenv("PACING_STRESS_OPS");
    if (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end == '\0' && v > 0)
            return v;
    }
    return DEFAULT_OPS;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* The configuration: three points, three rules                        */
/* ------------------------------------------------------------------ */

static pacing_ctx *new_ctx(uint32_t extra_flags, uint32_t stripes)
{
    pacing_options o;
    pacing_options_init(&o);
    o.flags = PACING_OPT_SECRET | extra_flags;
    memcpy(o.secret, SECRET, sizeof o.secret);
    o.seed = 20240607;
    o.stripes = stripes;
    o.capacity = CAPACITY;
    o.pending_capacity = PENDING;
    o.log_capacity = LOG_CAP;
    o.user_ttl_ms = TTL_MS;
    pacing_ctx *ctx = NULL;
    int rc = pacing_ctx_new(&o, &ctx);
    if (rc != PACING_OK)
        fail_msg("ctx_new: %d (%s)", rc, pacing_errmsg(NULL));

    static const char *const banner_actions[] = {"show_now", "delay", "skip"};
    static const char *const tip_actions[] = {"card", "toast", "none"};
    static const char *const offer_actions[] = {"coupon", "bundle", "trial", "later"};
    static const pacing_reward_rule banner_rewards[] = {{"conversion", 1.0},
                                                        {"dismiss", -1.0}};
    static const pacing_reward_rule tip_rewards[] = {{"micro_conversion", 0.5},
                                                     {"dwell", 1.0}};
    static const pacing_reward_rule offer_rewards[] = {{"conversion", 1.0}};
    static const pacing_param offer_params[] = {{"epsilon", 0.2}};
    uint32_t id;

    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    sp.name = "banner";
    sp.actions = banner_actions;
    sp.n_actions = 3;
    sp.policy = "thompson";
    sp.quiet_actions = 0x6; /* delay, skip */
    sp.safe_action = 1;
    sp.attribution_ms = 60000;
    sp.rewards = banner_rewards;
    sp.n_rewards = 2;
    rc = pacing_point_add(ctx, &sp, &id);
    if (rc != PACING_OK || id != 0)
        fail_msg("point_add banner: %d (%s)", rc, pacing_errmsg(ctx));

    pacing_point_spec tp = PACING_POINT_SPEC_INIT;
    tp.name = "tip";
    tp.actions = tip_actions;
    tp.n_actions = 3;
    tp.policy = "linucb";
    tp.context_dim = 2;
    tp.flags = PACING_PT_SCORES_CONTEXT | PACING_PT_DEFAULT_REWARD;
    tp.default_reward = 0.0;
    tp.quiet_actions = 0x4; /* none */
    tp.safe_action = -1;
    tp.attribution_ms = 90000;
    tp.rewards = tip_rewards;
    tp.n_rewards = 2;
    rc = pacing_point_add(ctx, &tp, &id);
    if (rc != PACING_OK || id != 1)
        fail_msg("point_add tip: %d (%s)", rc, pacing_errmsg(ctx));

    pacing_point_spec op = PACING_POINT_SPEC_INIT;
    op.name = "offer";
    op.actions = offer_actions;
    op.n_actions = 4;
    op.policy = "epsilon_greedy";
    op.params = offer_params;
    op.n_params = 1;
    op.flags = PACING_PT_DEFAULT_REWARD;
    op.default_reward = 0.1;
    op.quiet_actions = 0x8; /* later */
    op.safe_action = 3;
    op.recovery_decay = "exponential";
    op.attribution_ms = 45000;
    op.rewards = offer_rewards;
    op.n_rewards = 1;
    rc = pacing_point_add(ctx, &op, &id);
    if (rc != PACING_OK || id != 2)
        fail_msg("point_add offer: %d (%s)", rc, pacing_errmsg(ctx));

    static const pacing_param gap[] = {{"gap_ms", 5000}};
    static const pacing_param cap[] = {{"max", 4}, {"window_ms", 3600000}};
    static const pacing_param fat[] = {{"max", 0.9}, {"delay_ms", 10000}};
    pacing_rule_spec r1 = PACING_RULE_SPEC_INIT;
    r1.module = "min_gap";
    r1.params = gap;
    r1.n_params = 1;
    pacing_rule_spec r2 = PACING_RULE_SPEC_INIT;
    r2.module = "frequency_cap";
    r2.point = "banner";
    r2.params = cap;
    r2.n_params = 2;
    pacing_rule_spec r3 = PACING_RULE_SPEC_INIT;
    r3.module = "fatigue_ceiling";
    r3.params = fat;
    r3.n_params = 2;
    if ((rc = pacing_rule_add(ctx, &r1, NULL)) != PACING_OK ||
        (rc = pacing_rule_add(ctx, &r2, NULL)) != PACING_OK ||
        (rc = pacing_rule_add(ctx, &r3, NULL)) != PACING_OK)
        fail_msg("rule_add: %d (%s)", rc, pacing_errmsg(ctx));
    return ctx;
}

/* ------------------------------------------------------------------ */
/* Memory snapshots                                                    */
/* ------------------------------------------------------------------ */

/* membuf, mem_write, reader, mem_read: helpers.h */

static int load_into(pacing_ctx *ctx, const membuf *m)
{
    reader r = {m->p, m->len, 0, 0, -1};
    return pacing_snapshot_read(ctx, mem_read, &r);
}

/* ------------------------------------------------------------------ */
/* One worker: a randomized mix of calls                               */
/* ------------------------------------------------------------------ */

/* What the threads share besides the context: the clock (every operation
 * advances it) and a lock-free array of recent decision ids. */
typedef struct shared {
    _Atomic int64_t clock;
    _Atomic uint64_t ids[SHARED_IDS];
    atomic_uint pos;
} shared;

typedef struct worker {
    int idx;
    pacing_ctx *ctx;
    shared *sh;
    uint64_t rng;
    long ops;
    long snap_every;
    uint64_t *trace;      /* determinism test: digest after each op */
    uint64_t h;           /* running digest */
    uint64_t own[OWN_IDS];
    pacing_decision last;
    int have_last;
    membuf snap;          /* the latest snapshot written */

    /* outcomes */
    uint64_t events;      /* events pushed (batch elements included) */
    uint64_t push_ok, push_dropped, push_old;
    uint64_t decide_ok, decide_safe, decide_vetoed, decide_old;
    uint64_t reward_ok, reward_notfound, reward_own, reward_shared;
    uint64_t forget_ok, forget_notfound;
    uint64_t scores_ok, scores_notfound, scores_old;
    uint64_t settled, log_entries, log_dropped, snapshots, explains, reads;
    uint64_t errors;
    char first_error[320];
} worker;

static void note(worker *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void note(worker *w, const char *fmt, ...)
{
    if (w->errors++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->first_error, sizeof w->first_error, fmt, ap);
        va_end(ap);
    }
}

static uint64_t rnd(worker *w)
{
    /* splitmix64 */
    uint64_t z = (w->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static uint32_t below(worker *w, uint32_t n) { return (uint32_t)(rnd(w) % n); }
static double unit(worker *w) { return (double)(rnd(w) >> 11) / 9007199254740992.0; }

static int64_t tick(worker *w)
{
    int64_t d = 1 + below(w, 40);
    return atomic_fetch_add_explicit(&w->sh->clock, d, memory_order_relaxed) + d;
}

static void mix(worker *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        w->h = (w->h ^ b[i]) * 0x100000001B3ULL;
}
static void mix_u64(worker *w, uint64_t v) { mix(w, &v, sizeof v); }
static void mix_dbl(worker *w, double v) { mix(w, &v, sizeof v); }

/* A user of the pool: mostly hot ones. */
static size_t pick_user(worker *w, char *buf)
{
    uint32_t u = below(w, 4) ? below(w, HOT) : below(w, POOL);
    return (size_t)snprintf(buf, 16, "user-%04u", u);
}

static int in01(double v) { return v >= 0.0 && v <= 1.0; }

static void check_scores(worker *w, const pacing_scores *s)
{
    if (!in01(s->fatigue) || !in01(s->cognitive_load) || !in01(s->attention) ||
        !in01(s->engagement) || !in01(s->drop_off_risk) ||
        !(s->micro_velocity >= 0.0 && isfinite(s->micro_velocity)) ||
        s->session_age_ms < -1)
        note(w, "scores out of range: fatigue %g load %g attention %g "
             "engagement %g risk %g velocity %g age %lld", s->fatigue,
             s->cognitive_load, s->attention, s->engagement, s->drop_off_risk,
             s->micro_velocity, (long long)s->session_age_ms);
    mix_dbl(w, s->fatigue);
    mix_dbl(w, s->cognitive_load);
    mix_dbl(w, s->attention);
    mix_dbl(w, s->engagement);
    mix_dbl(w, s->micro_velocity);
    mix_dbl(w, s->drop_off_risk);
    mix_u64(w, (uint64_t)s->last_seen_ms);
    mix_u64(w, (uint64_t)s->session_age_ms);
    mix_u64(w, s->exposures_1m | (uint64_t)s->exposures_1h << 20 |
                   (uint64_t)s->exposures_1d << 40);
}

static void fill_event(worker *w, pacing_event *ev, const char *user, size_t len,
                       int64_t t)
{
    static const uint32_t types[] = {
        PACING_EV_SESSION_START, PACING_EV_SESSION_END, PACING_EV_DWELL,
        PACING_EV_DWELL, PACING_EV_SCROLL_DEPTH, PACING_EV_HOVER,
        PACING_EV_READING_SPEED, PACING_EV_INPUT_LATENCY, PACING_EV_CLICK,
        PACING_EV_CLICK, PACING_EV_CLICK, PACING_EV_DISMISS, PACING_EV_EXPOSURE,
        PACING_EV_MICRO_CONVERSION, PACING_EV_CONVERSION, PACING_EV_ERROR,
        PACING_EV_TAB_HIDDEN, PACING_EV_FORM_START, PACING_EV_FORM_ABANDON,
        PACING_EV_UNDO, PACING_EV_MEDIA_PAUSE};
    pacing_event e = PACING_EVENT_INIT;
    e.user = user;
    e.user_len = len;
    e.time_ms = t;
    e.channel = below(w, 3);
    uint32_t r = below(w, 1000);
    if (r < 2) {
        e.type = PACING_EV_OPT_OUT; /* erases the user */
    } else if (r < 4) {
        e.type = PACING_EV_CONSENT;
        e.value = 0.0; /* withdrawn: erases the user */
    } else {
        e.type = types[below(w, sizeof types / sizeof types[0])];
        switch (e.type) {
        case PACING_EV_DWELL: e.value = 200 + below(w, 60000); break;
        case PACING_EV_SCROLL_DEPTH: e.value = unit(w); break;
        case PACING_EV_HOVER: e.value = below(w, 5000); break;
        case PACING_EV_READING_SPEED: e.value = 100 + below(w, 300); break;
        case PACING_EV_INPUT_LATENCY: e.value = 100 + below(w, 2000); break;
        case PACING_EV_CLICK:
            e.value = below(w, 1500);
            e.target = 1 + below(w, 3);
            break;
        case PACING_EV_CONVERSION: e.value = 1 + below(w, 100); break;
        default: break;
        }
    }
    uint32_t f = below(w, 100);
    if (f == 0)
        e.flags = PACING_EVF_BOT;
    else if (f == 1)
        e.flags = PACING_EVF_NO_CONSENT;
    else if (f < 20)
        e.flags = PACING_EVF_CONSENT;
    *ev = e;
}

static void op_push(worker *w)
{
    char user[16];
    size_t len = pick_user(w, user);
    pacing_event ev;
    fill_event(w, &ev, user, len, tick(w));
    int rc = pacing_push(w->ctx, &ev);
    w->events++;
    mix_u64(w, (uint64_t)rc);
    if (rc == PACING_OK)
        w->push_ok++;
    else if (rc == PACING_DROPPED)
        w->push_dropped++;
    else if (rc == PACING_E_TOO_OLD)
        w->push_old++;
    else
        note(w, "push type %u: %d (%s)", ev.type, rc, pacing_errmsg(w->ctx));
}

static void op_push_batch(worker *w)
{
    char user[16];
    size_t len = pick_user(w, user);
    pacing_event evs[4];
    size_t n = 1 + below(w, 4);
    for (size_t i = 0; i < n; i++)
        fill_event(w, &evs[i], user, len, tick(w));
    size_t done = 99;
    int rc = pacing_push_batch(w->ctx, evs, n, &done);
    mix_u64(w, (uint64_t)rc);
    mix_u64(w, done);
    if (rc == PACING_OK && done == n)
        w->events += n; /* each applied, dropped or rejected */
    else if (rc == PACING_E_TOO_OLD && done < n)
        w->events++; /* the one that failed is rejected, the rest never seen */
    else
        note(w, "push_batch: %d, done %zu of %zu (%s)", rc, done, n,
             pacing_errmsg(w->ctx));
}

static void remember_id(worker *w, uint64_t id)
{
    w->own[below(w, OWN_IDS)] = id;
    unsigned i = atomic_fetch_add_explicit(&w->sh->pos, 1, memory_order_relaxed);
    atomic_store_explicit(&w->sh->ids[i % SHARED_IDS], id, memory_order_release);
}

static void check_decision(worker *w, const pacing_request *rq,
                           const pacing_decision *d)
{
    uint32_t p = rq->point;
    if (d->point != p || d->action >= point_k[p] || !(d->propensity > 0.0) ||
        d->propensity > 1.0 || d->time_ms != rq->now_ms || d->n_vetoes > 4 ||
        !in01(d->fatigue) || !in01(d->cognitive_load) || !in01(d->drop_off_risk) ||
        !in01(d->attention) || !in01(d->engagement) ||
        (rq->ineligible >> d->action) & 1)
        note(w, "decision out of range: point %u action %u propensity %g "
             "n_vetoes %u", d->point, d->action, d->propensity, d->n_vetoes);
    if (d->reasons & PACING_DR_SAFE) {
        if (d->id != 0 || (int32_t)d->action != point_safe[p] || d->propensity != 1.0)
            note(w, "safe decision: id %llu action %u", (unsigned long long)d->id,
                 d->action);
    } else if (d->id == 0) {
        note(w, "decision without an id (reasons 0x%x)", d->reasons);
    }
    mix_u64(w, d->id);
    mix_u64(w, d->action | (uint64_t)d->reasons << 32);
    mix_dbl(w, d->propensity);
    mix_dbl(w, d->fatigue);
    mix_dbl(w, d->cognitive_load);
    mix_dbl(w, d->drop_off_risk);
    mix_dbl(w, d->attention);
    mix_dbl(w, d->engagement);
    mix_u64(w, (uint64_t)d->retry_after_ms);
    mix_u64(w, d->n_vetoes);
    for (uint32_t i = 0; i < d->n_vetoes && i < 4; i++) {
        const pacing_veto *v = &d->vetoes[i];
        mix_u64(w, v->rule | (uint64_t)v->action << 16 | (uint64_t)v->verdict << 32 |
                       (uint64_t)v->reason << 48);
        mix_u64(w, (uint64_t)v->retry_after_ms);
        mix_dbl(w, v->detail[0]);
        mix_dbl(w, v->detail[1]);
    }
}

static void op_decide(worker *w, int anonymous)
{
    char user[16];
    size_t len = pick_user(w, user);
    double x[2] = {unit(w), unit(w)};
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = below(w, N_POINTS);
    rq.user = user;
    rq.user_len = len;
    rq.channel = below(w, 3);
    if (rq.point == 1) {
        rq.context = x;
        rq.context_len = 2;
    }
    if (below(w, 10) == 0)
        rq.ineligible = 1ULL << below(w, point_k[rq.point]);
    if (anonymous) {
        uint32_t r = below(w, 3);
        if (r == 0) {
            rq.flags = PACING_REQ_NO_CONSENT;
        } else if (r == 1) {
            rq.flags = PACING_REQ_OPTED_OUT;
        } else {
            uint64_t ps = 0;
            int prc = pacing_pseudonym(w->ctx, user, len, &ps);
            if (prc != PACING_OK || ps == 0)
                note(w, "pseudonym: %d", prc);
            rq.flags = PACING_REQ_PSEUDONYM;
            rq.pseudonym = ps;
            rq.user = NULL;
            rq.user_len = 0;
        }
    }
    rq.now_ms = tick(w);
    pacing_decision d = PACING_DECISION_INIT;
    int rc = pacing_decide(w->ctx, &rq, &d);
    mix_u64(w, (uint64_t)rc);
    if (rc == PACING_OK) {
        w->decide_ok++;
        check_decision(w, &rq, &d);
        if (d.reasons & PACING_DR_SAFE)
            w->decide_safe++;
        else
            remember_id(w, d.id);
        w->last = d;
        w->have_last = 1;
    } else if (rc == PACING_E_VETOED) {
        w->decide_vetoed++;
        if (rq.ineligible == 0 && rq.point != 1)
            note(w, "decide %u: VETOED with a quiet action eligible", rq.point);
    } else if (rc == PACING_E_TOO_OLD) {
        w->decide_old++;
    } else {
        note(w, "decide %u: %d (%s)", rq.point, rc, pacing_errmsg(w->ctx));
    }
}

static void op_explain(worker *w)
{
    if (!w->have_last)
        return;
    char buf[512];
    int n = pacing_explain(w->ctx, &w->last, buf, sizeof buf);
    w->explains++;
    if (n <= 0 || strlen(buf) != ((size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1))
        note(w, "explain: %d (%s)", n, n < 0 ? pacing_errmsg(w->ctx) : buf);
    mix(w, buf, strlen(buf));
}

static void op_reward(worker *w)
{
    uint64_t id;
    int shared_id = below(w, 10) < 3;
    if (shared_id)
        id = atomic_load_explicit(&w->sh->ids[below(w, SHARED_IDS)],
                                  memory_order_acquire);
    else
        id = w->own[below(w, OWN_IDS)];
    if (id == 0)
        return;
    /* after the id was seen, so after its decision's time */
    int64_t t = tick(w);
    int rc = pacing_reward(w->ctx, id, unit(w), t);
    mix_u64(w, (uint64_t)rc);
    if (shared_id)
        w->reward_shared++;
    else
        w->reward_own++;
    if (rc == PACING_OK) {
        w->reward_ok++;
    } else if (rc == PACING_E_NOTFOUND) {
        w->reward_notfound++;
        if (strstr(pacing_errmsg(w->ctx), "reward") == NULL)
            note(w, "reward NOTFOUND with message '%s'", pacing_errmsg(w->ctx));
    } else {
        note(w, "reward %llu: %d (%s)", (unsigned long long)id, rc,
             pacing_errmsg(w->ctx));
    }
}

static void op_forget(worker *w)
{
    char user[16];
    size_t len = pick_user(w, user);
    int rc = pacing_forget(w->ctx, user, len);
    mix_u64(w, (uint64_t)rc);
    if (rc == PACING_OK)
        w->forget_ok++;
    else if (rc == PACING_E_NOTFOUND)
        w->forget_notfound++;
    else
        note(w, "forget: %d (%s)", rc, pacing_errmsg(w->ctx));
}

static void op_scores(worker *w)
{
    char user[16];
    size_t len = pick_user(w, user);
    pacing_scores s = PACING_SCORES_INIT;
    int rc = pacing_scores_get(w->ctx, user, len, tick(w), &s);
    mix_u64(w, (uint64_t)rc);
    if (rc == PACING_OK) {
        w->scores_ok++;
        check_scores(w, &s);
    } else if (rc == PACING_E_NOTFOUND) {
        w->scores_notfound++;
    } else if (rc == PACING_E_TOO_OLD) {
        w->scores_old++;
    } else {
        note(w, "scores_get: %d (%s)", rc, pacing_errmsg(w->ctx));
    }
}

static void op_contributions(worker *w)
{
    char user[16];
    size_t len = pick_user(w, user);
    pacing_contribution c[8];
    for (int i = 0; i < 8; i++) {
        pacing_contribution z = PACING_CONTRIBUTION_INIT;
        c[i] = z;
    }
    size_t n = 0;
    int kind = (int)below(w, 4);
    int rc = pacing_contributions(w->ctx, user, len, tick(w), kind, c, 8, &n);
    mix_u64(w, (uint64_t)rc);
    if (rc == PACING_OK) {
        double sum = 0.0;
        for (size_t i = 0; i < n && i < 8; i++) {
            if (!in01(c[i].normalized) || !(c[i].contribution >= 0.0))
                note(w, "contribution out of range: input %d normalized %g",
                     c[i].input, c[i].normalized);
            sum += c[i].contribution;
            mix_dbl(w, c[i].contribution);
        }
        if (n <= 8 && !(sum <= 1.0 + 1e-9))
            note(w, "contributions sum to %g", sum);
    } else if (rc != PACING_E_NOTFOUND && rc != PACING_E_TOO_OLD) {
        note(w, "contributions: %d (%s)", rc, pacing_errmsg(w->ctx));
    }
}

static void op_stats(worker *w)
{
    pacing_stats s = PACING_STATS_INIT;
    pacing_decision_stats d = PACING_DECISION_STATS_INIT;
    int rc1 = pacing_stats_get(w->ctx, &s);
    int rc2 = pacing_decision_stats_get(w->ctx, &d);
    w->reads++;
    if (rc1 != PACING_OK || rc2 != PACING_OK) {
        note(w, "stats_get: %d, decision_stats_get: %d", rc1, rc2);
        return;
    }
    /* each stripe is read under its lock, so the sums balance even now */
    if (s.users_created != s.users + s.users_evicted_lru + s.users_expired +
                               s.users_forgotten || s.users > s.capacity ||
        s.capacity != CAPACITY)
        note(w, "stats mid-run: created %llu users %llu evicted %llu expired "
             "%llu forgotten %llu", (unsigned long long)s.users_created,
             (unsigned long long)s.users, (unsigned long long)s.users_evicted_lru,
             (unsigned long long)s.users_expired,
             (unsigned long long)s.users_forgotten);
    if (d.pending > PENDING + 64 || d.safe_decisions > d.decisions)
        note(w, "decision stats mid-run: pending %llu safe %llu decisions %llu",
             (unsigned long long)d.pending, (unsigned long long)d.safe_decisions,
             (unsigned long long)d.decisions);
    mix_u64(w, s.users);
    mix_u64(w, s.users_created);
    mix_u64(w, s.events_applied);
    mix_u64(w, s.events_rejected);
    mix_u64(w, s.bytes_allocated);
    mix_u64(w, d.decisions);
    mix_u64(w, d.pending);
    mix_u64(w, d.rewards_implicit);
    mix_u64(w, d.settled_early);
}

static void op_model_reads(worker *w)
{
    uint32_t p = below(w, N_POINTS);
    pacing_arm_stats a = PACING_ARM_STATS_INIT;
    int rc = pacing_arm_stats_get(w->ctx, p, below(w, point_k[p]), &a);
    if (rc != PACING_OK || !isfinite(a.pulls) || !isfinite(a.mean) ||
        a.rewards > a.decisions + 1000000)
        note(w, "arm_stats_get: %d", rc);
    mix_u64(w, a.decisions);
    mix_u64(w, a.rewards);
    mix_dbl(w, a.pulls);
    mix_dbl(w, a.reward_sum);
    double hz = -1, at = -1;
    rc = pacing_hazard_baseline(w->ctx, (int64_t)below(w, 2000000), &hz, &at);
    if (rc != PACING_OK || !in01(hz) || !(at >= 0.0))
        note(w, "hazard_baseline: %d, %g, %g", rc, hz, at);
    mix_dbl(w, hz);
    mix_dbl(w, at);
    w->reads++;
}

static void op_settle(worker *w)
{
    uint64_t n = 0;
    int rc = pacing_settle(w->ctx, tick(w), &n);
    mix_u64(w, (uint64_t)rc);
    mix_u64(w, n);
    if (rc != PACING_OK)
        note(w, "settle: %d (%s)", rc, pacing_errmsg(w->ctx));
    w->settled += n;
}

static void op_expire(worker *w)
{
    uint64_t n = 0;
    int rc = pacing_expire(w->ctx, tick(w), &n);
    mix_u64(w, (uint64_t)rc);
    mix_u64(w, n);
    if (rc != PACING_OK)
        note(w, "expire: %d (%s)", rc, pacing_errmsg(w->ctx));
}

/* Runs under the log lock: must not call the library. */
static int log_entry(void *opaque, const pacing_log_entry *e)
{
    worker *w = opaque;
    w->log_entries++;
    if (e->size != sizeof *e || e->outcome < PACING_OUT_REWARDED ||
        e->outcome > PACING_OUT_SAFE || e->point >= N_POINTS ||
        e->final_action >= point_k[e->point] || !(e->propensity > 0.0) ||
        e->propensity > 1.0 || (e->outcome == PACING_OUT_SAFE) != (e->id == 0))
        note(w, "log entry: outcome %u point %u action %u propensity %g id %llu",
             e->outcome, e->point, e->final_action, e->propensity,
             (unsigned long long)e->id);
    mix_u64(w, e->id);
    mix_u64(w, e->pseudonym);
    mix_u64(w, e->outcome | (uint64_t)e->final_action << 8 |
                   (uint64_t)e->settled_early << 16);
    mix_dbl(w, e->reward);
    mix_u64(w, (uint64_t)e->reward_time_ms);
    mix_u64(w, e->policy_version);
    return 0;
}

static void op_log(worker *w)
{
    uint64_t dropped = 0;
    int rc = pacing_log_read(w->ctx, log_entry, w, &dropped);
    if (rc != PACING_OK)
        note(w, "log_read: %d", rc);
    w->log_dropped += dropped;
    mix_u64(w, dropped);
}

static void op_snapshot(worker *w)
{
    w->snap.len = 0;
    int rc = pacing_snapshot_write(w->ctx, mem_write, &w->snap);
    if (rc != PACING_OK || w->snap.len < 96)
        note(w, "snapshot_write: %d, %zu bytes (%s)", rc, w->snap.len,
             pacing_errmsg(w->ctx));
    w->snapshots++;
    mix(w, w->snap.p, w->snap.len);
}

static void run_ops(worker *w)
{
    for (long i = 0; i < w->ops; i++) {
        if (w->snap_every && i % w->snap_every == w->snap_every / 2) {
            op_snapshot(w);
        } else {
            uint32_t r = below(w, 1000);
            if (r < 380)
                op_push(w);
            else if (r < 400)
                op_push_batch(w);
            else if (r < 600) {
                op_decide(w, 0);
                if (r & 1)
                    op_explain(w);
            } else if (r < 620)
                op_decide(w, 1);
            else if (r < 770)
                op_reward(w);
            else if (r < 780)
                op_forget(w);
            else if (r < 850)
                op_scores(w);
            else if (r < 865)
                op_contributions(w);
            else if (r < 880)
                op_stats(w);
            else if (r < 895)
                op_model_reads(w);
            else if (r < 915)
                op_settle(w);
            else if (r < 935)
                op_log(w);
            else if (r < 937)
                op_expire(w);
            else
                op_push(w);
        }
        if (w->trace)
            w->trace[i] = w->h;
    }
}

static void *thread_main(void *arg)
{
    run_ops(arg);
    return NULL;
}

static void worker_init(worker *w, int idx, pacing_ctx *ctx, shared *sh, long ops)
{
    memset(w, 0, sizeof *w);
    w->idx = idx;
    w->ctx = ctx;
    w->sh = sh;
    w->rng = 0x5EED0000ULL + (uint64_t)idx * 7919;
    w->ops = ops;
    w->snap_every = ops >= SNAPSHOTS_PER_THREAD ? ops / SNAPSHOTS_PER_THREAD : 0;
    w->h = 0xCBF29CE484222325ULL;
}

static void shared_init(shared *sh)
{
    atomic_init(&sh->clock, T0);
    for (int i = 0; i < SHARED_IDS; i++)
        atomic_init(&sh->ids[i], 0);
    atomic_init(&sh->pos, 0);
}

/* ------------------------------------------------------------------ */
/* Checks on a quiescent context                                       */
/* ------------------------------------------------------------------ */

static void get_stats(pacing_ctx *ctx, pacing_stats *s, pacing_decision_stats *d)
{
    pacing_stats s0 = PACING_STATS_INIT;
    pacing_decision_stats d0 = PACING_DECISION_STATS_INIT;
    *s = s0;
    *d = d0;
    assert_int_equal(pacing_stats_get(ctx, s), PACING_OK);
    assert_int_equal(pacing_decision_stats_get(ctx, d), PACING_OK);
}

/* Two contexts hold the same learned state: counters, arm statistics and
 * every pool user's scores at time t. */
static void assert_same_state(pacing_ctx *a, pacing_ctx *b, int64_t t)
{
    pacing_stats sa, sb;
    pacing_decision_stats da, db;
    get_stats(a, &sa, &da);
    get_stats(b, &sb, &db);
    assert_int_equal(sa.users, sb.users);
    assert_int_equal(sa.users_created, sb.users_created);
    assert_int_equal(sa.users_evicted_lru, sb.users_evicted_lru);
    assert_int_equal(sa.users_expired, sb.users_expired);
    assert_int_equal(sa.users_forgotten, sb.users_forgotten);
    assert_int_equal(sa.events_applied, sb.events_applied);
    assert_int_equal(sa.events_rejected, sb.events_rejected);
    assert_int_equal(sa.events_dropped_debounce, sb.events_dropped_debounce);
    assert_int_equal(da.decisions, db.decisions);
    assert_int_equal(da.rewards_explicit, db.rewards_explicit);
    assert_int_equal(da.rewards_implicit, db.rewards_implicit);
    assert_int_equal(da.rewards_default, db.rewards_default);
    assert_int_equal(da.expired_unrewarded, db.expired_unrewarded);
    assert_int_equal(da.pending, db.pending);
    assert_int_equal(da.safe_decisions, db.safe_decisions);
    for (uint32_t p = 0; p < N_POINTS; p++)
        for (uint32_t k = 0; k < point_k[p]; k++) {
            pacing_arm_stats x = PACING_ARM_STATS_INIT, y = PACING_ARM_STATS_INIT;
            assert_int_equal(pacing_arm_stats_get(a, p, k, &x), PACING_OK);
            assert_int_equal(pacing_arm_stats_get(b, p, k, &y), PACING_OK);
            assert_int_equal(x.decisions, y.decisions);
            assert_int_equal(x.rewards, y.rewards);
            assert_true(x.pulls == y.pulls && x.reward_sum == y.reward_sum &&
                        x.param_a == y.param_a && x.param_b == y.param_b);
        }
    for (uint32_t u = 0; u < POOL; u++) {
        char user[16];
        size_t len = (size_t)snprintf(user, sizeof user, "user-%04u", u);
        pacing_scores x = PACING_SCORES_INIT, y = PACING_SCORES_INIT;
        int ra = pacing_scores_get(a, user, len, t, &x);
        int rb = pacing_scores_get(b, user, len, t, &y);
        assert_int_equal(ra, rb);
        if (ra == PACING_OK)
            assert_true(x.fatigue == y.fatigue && x.cognitive_load == y.cognitive_load &&
                        x.attention == y.attention && x.engagement == y.engagement &&
                        x.drop_off_risk == y.drop_off_risk &&
                        x.last_seen_ms == y.last_seen_ms &&
                        x.exposures_1d == y.exposures_1d);
    }
}

/* ------------------------------------------------------------------ */
/* The stress test                                                     */
/* ------------------------------------------------------------------ */

static void test_stress(void **state)
{
    (void)state;
    long ops = stress_ops();
    pacing_ctx *ctx = new_ctx(0, 0); /* default stripes: 16 for 1024 users */
    pacing_stats s0 = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &s0), PACING_OK);

    static shared sh;
    shared_init(&sh);
    worker *w = calloc(N_THREADS, sizeof *w);
    assert_non_null(w);
    pthread_t th[N_THREADS];
    double t0 = now_s();
    for (int i = 0; i < N_THREADS; i++) {
        worker_init(&w[i], i, ctx, &sh, ops);
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    double secs = now_s() - t0;

    worker tot;
    memset(&tot, 0, sizeof tot);
    for (int i = 0; i < N_THREADS; i++) {
        if (w[i].errors)
            fail_msg("thread %d: %llu errors, the first: %s", i,
                     (unsigned long long)w[i].errors, w[i].first_error);
        tot.events += w[i].events;
        tot.push_ok += w[i].push_ok;
        tot.push_dropped += w[i].push_dropped;
        tot.push_old += w[i].push_old;
        tot.decide_ok += w[i].decide_ok;
        tot.decide_safe += w[i].decide_safe;
        tot.decide_vetoed += w[i].decide_vetoed;
        tot.decide_old += w[i].decide_old;
        tot.reward_ok += w[i].reward_ok;
        tot.reward_notfound += w[i].reward_notfound;
        tot.reward_own += w[i].reward_own;
        tot.reward_shared += w[i].reward_shared;
        tot.forget_ok += w[i].forget_ok;
        tot.forget_notfound += w[i].forget_notfound;
        tot.scores_ok += w[i].scores_ok;
        tot.scores_notfound += w[i].scores_notfound;
        tot.scores_old += w[i].scores_old;
        tot.settled += w[i].settled;
        tot.log_entries += w[i].log_entries;
        tot.log_dropped += w[i].log_dropped;
        tot.snapshots += w[i].snapshots;
        tot.explains += w[i].explains;
    }
    /* what is still in the log */
    worker rest;
    memset(&rest, 0, sizeof rest);
    uint64_t dropped = 0;
    assert_int_equal(pacing_log_read(ctx, log_entry, &rest, &dropped), PACING_OK);
    if (rest.errors)
        fail_msg("log: %s", rest.first_error);
    tot.log_entries += rest.log_entries;
    tot.log_dropped += dropped;

    printf("test_threads: %d threads x %ld ops in %.2f s (%.0f ops/s)\n", N_THREADS,
           ops, secs, N_THREADS * ops / (secs > 0 ? secs : 1e-9));
    printf("  push: %llu events, %llu ok, %llu dropped, %llu too old\n",
           (unsigned long long)tot.events, (unsigned long long)tot.push_ok,
           (unsigned long long)tot.push_dropped, (unsigned long long)tot.push_old);
    printf("  decide: %llu ok (%llu safe), %llu vetoed, %llu too old; "
           "%llu explained\n", (unsigned long long)tot.decide_ok,
           (unsigned long long)tot.decide_safe, (unsigned long long)tot.decide_vetoed,
           (unsigned long long)tot.decide_old, (unsigned long long)tot.explains);
    printf("  reward: %llu ok, %llu not found (%llu own ids, %llu other threads')\n",
           (unsigned long long)tot.reward_ok, (unsigned long long)tot.reward_notfound,
           (unsigned long long)tot.reward_own, (unsigned long long)tot.reward_shared);
    printf("  forget: %llu ok, %llu not found; scores: %llu ok, %llu not found, "
           "%llu too old\n", (unsigned long long)tot.forget_ok,
           (unsigned long long)tot.forget_notfound, (unsigned long long)tot.scores_ok,
           (unsigned long long)tot.scores_notfound, (unsigned long long)tot.scores_old);
    printf("  settled %llu; log %llu entries read, %llu overwritten; %llu snapshots\n",
           (unsigned long long)tot.settled, (unsigned long long)tot.log_entries,
           (unsigned long long)tot.log_dropped, (unsigned long long)tot.snapshots);

    pacing_stats s;
    pacing_decision_stats d;
    get_stats(ctx, &s, &d);
    printf("  users %llu, created %llu, evicted %llu, expired %llu, forgotten %llu\n",
           (unsigned long long)s.users, (unsigned long long)s.users_created,
           (unsigned long long)s.users_evicted_lru, (unsigned long long)s.users_expired,
           (unsigned long long)s.users_forgotten);
    printf("  decisions %llu: explicit %llu, implicit %llu, default %llu, "
           "expired %llu, early %llu, pending %llu, safe %llu\n",
           (unsigned long long)d.decisions, (unsigned long long)d.rewards_explicit,
           (unsigned long long)d.rewards_implicit, (unsigned long long)d.rewards_default,
           (unsigned long long)d.expired_unrewarded, (unsigned long long)d.settled_early,
           (unsigned long long)d.pending, (unsigned long long)d.safe_decisions);

    /* users */
    assert_int_equal(s.users_created,
                     s.users + s.users_evicted_lru + s.users_expired + s.users_forgotten);
    assert_true(s.users <= CAPACITY);
    /* events: each pushed one applied, dropped or rejected */
    assert_int_equal(s.events_applied + s.events_dropped_bot +
                         s.events_dropped_debounce + s.events_dropped_consent +
                         s.events_rejected,
                     tot.events);
    /* decisions and rewards */
    assert_int_equal(d.decisions, tot.decide_ok);
    assert_int_equal(d.safe_decisions, tot.decide_safe);
    assert_int_equal(d.rewards_explicit, tot.reward_ok);
    assert_int_equal(d.reward_rejected, tot.reward_notfound);
    assert_true(d.rewards_explicit + d.rewards_implicit + d.rewards_default +
                    d.expired_unrewarded + d.pending <=
                d.decisions - d.safe_decisions);
    assert_true(d.settled_early <= d.rewards_implicit + d.rewards_default +
                                       d.expired_unrewarded);
    assert_true(d.pending <= PENDING);
    assert_true(tot.log_entries + tot.log_dropped <= d.decisions);
    /* the arms: decided = decisions that were not safe, learned = rewards */
    uint64_t arm_dec = 0, arm_rw = 0;
    for (uint32_t p = 0; p < N_POINTS; p++)
        for (uint32_t k = 0; k < point_k[p]; k++) {
            pacing_arm_stats a = PACING_ARM_STATS_INIT;
            assert_int_equal(pacing_arm_stats_get(ctx, p, k, &a), PACING_OK);
            arm_dec += a.decisions;
            arm_rw += a.rewards;
        }
    assert_int_equal(arm_dec, d.decisions - d.safe_decisions);
    assert_int_equal(arm_rw, d.rewards_explicit + d.rewards_implicit + d.rewards_default);
    /* every snapshot's buffers were given back */
    assert_int_equal(s.bytes_allocated, s0.bytes_allocated);
    /* the mix did what it is for (given enough operations) */
    if (ops >= 5000)
        assert_true(tot.decide_safe > 0 && tot.reward_ok > 0 &&
                    tot.reward_notfound > 0 && tot.forget_ok > 0 &&
                    tot.scores_ok > 0 && tot.snapshots > 0);
    if (ops >= 20000)
        assert_true(s.users_evicted_lru > 0 && s.users_expired > 0 &&
                    d.settled_early + d.rewards_implicit > 0);

    /* a snapshot written while the others worked loads */
    int rc;
    if (w[0].snap.len > 0) {
        pacing_ctx *mid = new_ctx(0, 0);
        rc = load_into(mid, &w[0].snap);
        if (rc != PACING_OK)
            fail_msg("mid-run snapshot (%zu bytes): %d (%s)", w[0].snap.len, rc,
                     pacing_errmsg(mid));
        pacing_ctx_free(mid);
    }

    /* the final snapshot restores the same state into a fresh context */
    membuf m = {0};
    assert_int_equal(pacing_snapshot_write(ctx, mem_write, &m), PACING_OK);
    pacing_ctx *copy = new_ctx(0, 0);
    rc = load_into(copy, &m);
    if (rc != PACING_OK)
        fail_msg("final snapshot: %d (%s)", rc, pacing_errmsg(copy));
    int64_t t_end = atomic_load(&sh.clock);
    assert_same_state(ctx, copy, t_end);
    /* and both go on deciding alike */
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = 0;
    rq.user = "user-0001";
    rq.user_len = 9;
    rq.now_ms = t_end + 1;
    pacing_decision da = PACING_DECISION_INIT, db = PACING_DECISION_INIT;
    assert_int_equal(pacing_decide(ctx, &rq, &da), PACING_OK);
    assert_int_equal(pacing_decide(copy, &rq, &db), PACING_OK);
    assert_int_equal(da.id, db.id);
    assert_int_equal(da.action, db.action);
    assert_true(da.propensity == db.propensity);

    pacing_ctx_free(copy);
    free(m.p);
    for (int i = 0; i < N_THREADS; i++)
        free(w[i].snap.p);
    free(w);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* SINGLE_THREAD and locking contexts agree                            */
/* ------------------------------------------------------------------ */

typedef struct script_result {
    uint64_t *trace;
    membuf snap;
    pacing_stats stats;
    pacing_decision_stats dstats;
    uint64_t errors;
    char first_error[320];
} script_result;

static void run_script(uint32_t flags, long ops, script_result *res)
{
    /* the same stripes in both: ids and table geometry depend on them */
    pacing_ctx *ctx = new_ctx(flags, 8);
    static shared sh;
    shared_init(&sh);
    worker *w = calloc(1, sizeof *w);
    assert_non_null(w);
    worker_init(w, 7, ctx, &sh, ops);
    w->trace = calloc((size_t)ops, sizeof(uint64_t));
    assert_non_null(w->trace);
    run_ops(w);
    res->trace = w->trace;
    res->errors = w->errors;
    memcpy(res->first_error, w->first_error, sizeof res->first_error);
    res->snap = (membuf){0};
    assert_int_equal(pacing_snapshot_write(ctx, mem_write, &res->snap), PACING_OK);
    get_stats(ctx, &res->stats, &res->dstats);
    free(w->snap.p);
    free(w);
    pacing_ctx_free(ctx);
}

static void test_modes_agree(void **state)
{
    (void)state;
    long ops = stress_ops() / 4;
    if (ops < 1000)
        ops = 1000;
    script_result a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    double t0 = now_s();
    run_script(0, ops, &a);
    run_script(PACING_OPT_SINGLE_THREAD, ops, &b);
    printf("test_threads: single-thread vs locking context, %ld ops each in "
           "%.2f s; %llu decisions, %llu users created, snapshot %zu bytes\n",
           ops, now_s() - t0, (unsigned long long)a.dstats.decisions,
           (unsigned long long)a.stats.users_created, a.snap.len);
    if (a.errors)
        fail_msg("locking context: %s", a.first_error);
    if (b.errors)
        fail_msg("single-thread context: %s", b.first_error);
    for (long i = 0; i < ops; i++)
        if (a.trace[i] != b.trace[i])
            fail_msg("results differ from operation %ld on", i);
    assert_memory_equal(&a.stats, &b.stats, sizeof a.stats);
    assert_memory_equal(&a.dstats, &b.dstats, sizeof a.dstats);
    assert_int_equal(a.snap.len, b.snap.len);
    assert_memory_equal(a.snap.p, b.snap.p, a.snap.len);
    assert_true(a.dstats.decisions > 0 && a.dstats.safe_decisions > 0);
    free(a.trace);
    free(b.trace);
    free(a.snap.p);
    free(b.snap.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress),
        cmocka_unit_test(test_modes_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
