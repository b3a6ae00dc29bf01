/* The context: options, creation and teardown, allocation, errors,
 * version, counters and score weights. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* ---- version and status strings ---- */

PACING_API unsigned pacing_version_number(void) { return PACING_VERSION_NUMBER; }
PACING_API const char *pacing_version_string(void) { return PACING_VERSION_STRING; }

PACING_API const char *pacing_strerror(int status)
{
    switch (status) {
    case PACING_OK: return "success";
    case PACING_DROPPED: return "event dropped (bot, debounced or no consent)";
    case PACING_E_INVAL: return "invalid argument";
    case PACING_E_NULL: return "required pointer is NULL";
    case PACING_E_SIZE: return "struct size field is wrong";
    case PACING_E_TYPE: return "unknown event type";
    case PACING_E_NAN: return "number is NaN or infinite";
    case PACING_E_RANGE: return "value out of range";
    case PACING_E_TOO_OLD: return "event older than the reorder window";
    case PACING_E_NOMEM: return "out of memory";
    case PACING_E_FULL: return "table is full";
    case PACING_E_NOTFOUND: return "not found";
    case PACING_E_EXISTS: return "name already exists";
    case PACING_E_CONFIG: return "configuration error";
    case PACING_E_CORRUPT: return "damaged data";
    case PACING_E_IO: return "I/O error";
    case PACING_E_TIME: return "time out of range";
    case PACING_E_VETOED: return "safety vetoed every action";
    case PACING_E_VERSION: return "unsupported format version";
    default: return "unknown status";
    }
}

/* ---- per-thread error messages ---- */

static _Thread_local struct {
    const pacing_ctx *ctx;
    char msg[256];
} last_error;

int pc_fail(const pacing_ctx *ctx, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error.msg, sizeof last_error.msg, fmt, ap);
    va_end(ap);
    last_error.ctx = ctx;
    return status;
}

PACING_API const char *pacing_errmsg(const pacing_ctx *ctx)
{
    return last_error.ctx == ctx ? last_error.msg : "";
}

/* ---- allocation ---- */

static void *default_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return malloc(size);
}
static void default_free(void *opaque, void *ptr, size_t size)
{
    (void)opaque;
    (void)size;
    free(ptr);
}

void *pc_alloc_raw(pacing_ctx *ctx, size_t size)
{
    void *p = ctx->alloc.alloc(ctx->alloc.opaque, size);
    if (p)
        atomic_fetch_add_explicit(&ctx->bytes, size, memory_order_relaxed);
    return p;
}

void *pc_alloc(pacing_ctx *ctx, size_t size)
{
    void *p = pc_alloc_raw(ctx, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void pc_free(pacing_ctx *ctx, void *ptr, size_t size)
{
    if (!ptr)
        return;
    atomic_fetch_sub_explicit(&ctx->bytes, size, memory_order_relaxed);
    ctx->alloc.free(ctx->alloc.opaque, ptr, size);
}

/* ---- options ---- */

PACING_API void pacing_options_init(pacing_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
}

#define DEFAULT_CAPACITY 100000u
#define MAX_CAPACITY ((uint64_t)1 << 31)
#define DEFAULT_TTL_MS (30LL * 24 * 3600 * 1000)
#define DEFAULT_REORDER_MS 60000
#define DEFAULT_DEBOUNCE_MS 50
#define DEFAULT_RAGE_WINDOW_MS 1000
#define DEFAULT_RAGE_CLICKS 3
#define DEFAULT_DEAD_CLICK_MS 1000
#define DEFAULT_FEATURE_HL_MS 120000.0
#define DEFAULT_BASELINE_HL_MS (7.0 * 24 * 3600 * 1000)
#define MAX_MS (PACING_MAX_TIME_MS)
#define RAGE_MAX PACING_RAGE_MAX
#define DEFAULT_MAX_POINTS 64
#define DEFAULT_PENDING 16384
#define DEFAULT_HAZARD_HORIZON_MS 60000
#define DEFAULT_HAZARD_BIN_MS 10000

static int check_ms(int64_t v, int64_t lo, const char *name)
{
    if (v < lo || v > MAX_MS) {
        if (lo == INT64_MIN)
            return pc_fail(NULL, PACING_E_RANGE,
                           "options.%s = %lld is out of range (-inf, 2^53]",
                           name, (long long)v);
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.%s = %lld is out of range [%lld, 2^53]", name,
                       (long long)v, (long long)lo);
    }
    return PACING_OK;
}

static int check_hl(double v, const char *name)
{
    if (isnan(v) || isinf(v))
        return pc_fail(NULL, PACING_E_NAN, "options.%s is not finite", name);
    if (v < 0 || (v != 0 && (v < 1.0 || v > (double)MAX_MS)))
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.%s = %g is out of range [1, 2^53] ms", name, v);
    return PACING_OK;
}

/* Validate o and fill the context's settings; nothing allocated yet. */
static int apply_options(pacing_ctx *c, const pacing_options *o)
{
    int rc;
    if (o->flags & ~(uint32_t)(PACING_OPT_SINGLE_THREAD | PACING_OPT_SECRET |
                               PACING_OPT_REQUIRE_CONSENT |
                               PACING_OPT_RANDOM_SEED))
        return pc_fail(NULL, PACING_E_INVAL, "options.flags has unknown bits 0x%x",
                       o->flags);
    if (o->reserved0 != 0 || o->reserved1 != 0)
        return pc_fail(NULL, PACING_E_INVAL,
                       "options.reserved0 and reserved1 must be 0");
    if (o->log_capacity > (1u << 24))
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.log_capacity = %u is out of range [1, 2^24]",
                       o->log_capacity);
    const pacing_allocator *a = &o->allocator;
    int set = (a->alloc != NULL) + (a->free != NULL);
    if (set == 1)
        return pc_fail(NULL, PACING_E_INVAL,
                       "options.allocator: alloc and free must both be set");
    if (o->capacity > MAX_CAPACITY)
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.capacity = %llu exceeds 2^31",
                       (unsigned long long)o->capacity);
    if (o->stripes != 0 &&
        (o->stripes > 1024 || (o->stripes & (o->stripes - 1)) != 0))
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.stripes = %u is not a power of two <= 1024",
                       o->stripes);
    if (o->rage_clicks > RAGE_MAX || o->rage_clicks == 1)
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.rage_clicks = %u is out of range [2, %d]",
                       o->rage_clicks, RAGE_MAX);
    if (o->max_points > 4096)
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.max_points = %u is out of range [1, 4096]",
                       o->max_points);
    if (o->pending_capacity > (1u << 22))
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.pending_capacity = %u is out of range [1, 2^22]",
                       o->pending_capacity);
    if ((rc = check_ms(o->reorder_window_ms, 0, "reorder_window_ms")) ||
        (rc = check_ms(o->rage_window_ms, 0, "rage_window_ms")) ||
        (rc = check_ms(o->dead_click_ms, 0, "dead_click_ms")) ||
        (rc = check_ms(o->hazard_horizon_ms, 0, "hazard_horizon_ms")) ||
        (rc = check_ms(o->hazard_bin_ms, 0, "hazard_bin_ms")) ||
        (rc = check_ms(o->user_ttl_ms, INT64_MIN, "user_ttl_ms")) ||
        (rc = check_ms(o->debounce_ms, INT64_MIN, "debounce_ms")) ||
        (rc = check_hl(o->feature_half_life_ms, "feature_half_life_ms")) ||
        (rc = check_hl(o->baseline_half_life_ms, "baseline_half_life_ms")))
        return rc;

    c->flags = o->flags;
    if (set == 2) {
        c->alloc = *a;
    } else {
        c->alloc.alloc = default_alloc;
        c->alloc.free = default_free;
        c->alloc.opaque = NULL;
    }
    c->capacity = o->capacity ? o->capacity : DEFAULT_CAPACITY;
    c->user_ttl_ms = o->user_ttl_ms < 0 ? -1
                     : o->user_ttl_ms ? o->user_ttl_ms : DEFAULT_TTL_MS;
    c->reorder_window_ms = o->reorder_window_ms ? o->reorder_window_ms
                                                : DEFAULT_REORDER_MS;
    c->debounce_ms = o->debounce_ms < 0 ? -1
                     : o->debounce_ms ? o->debounce_ms : DEFAULT_DEBOUNCE_MS;
    c->rage_window_ms = o->rage_window_ms ? o->rage_window_ms
                                          : DEFAULT_RAGE_WINDOW_MS;
    c->rage_clicks = o->rage_clicks ? o->rage_clicks : DEFAULT_RAGE_CLICKS;
    c->dead_click_ms = o->dead_click_ms ? o->dead_click_ms
                                        : DEFAULT_DEAD_CLICK_MS;
    c->feature_half_life_ms = o->feature_half_life_ms != 0
                                  ? o->feature_half_life_ms
                                  : DEFAULT_FEATURE_HL_MS;
    c->baseline_half_life_ms = o->baseline_half_life_ms != 0
                                   ? o->baseline_half_life_ms
                                   : DEFAULT_BASELINE_HL_MS;
    c->seed = o->seed;
    c->log.cap = o->log_capacity ? o->log_capacity : 4096;
    c->max_points = o->max_points ? o->max_points : DEFAULT_MAX_POINTS;
    c->pending_capacity = o->pending_capacity ? o->pending_capacity
                                              : DEFAULT_PENDING;
    c->hazard_horizon_ms = o->hazard_horizon_ms ? o->hazard_horizon_ms
                                                : DEFAULT_HAZARD_HORIZON_MS;
    c->hazard_bin_ms = o->hazard_bin_ms ? o->hazard_bin_ms : DEFAULT_HAZARD_BIN_MS;
    if (c->hazard_horizon_ms / c->hazard_bin_ms > 1024)
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.hazard_horizon_ms = %lld is more than 1024 steps "
                       "of hazard_bin_ms = %lld", (long long)c->hazard_horizon_ms,
                       (long long)c->hazard_bin_ms);
    c->hl.short_lambda = PACING_LN2 / c->feature_half_life_ms;
    c->hl.long_lambda = PACING_LN2 / c->baseline_half_life_ms;

    if (o->stripes) {
        c->n_stripes = o->stripes;
    } else if (c->flags & PACING_OPT_SINGLE_THREAD) {
        c->n_stripes = 1;
    } else {
        /* 64 stripes, fewer for small tables so each holds >= 64 users */
        c->n_stripes = 64;
        while (c->n_stripes > 1 && c->capacity / c->n_stripes < 64)
            c->n_stripes >>= 1;
    }
    if (c->capacity / c->n_stripes > ((uint64_t)1 << 30))
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.capacity = %llu with %u stripes: at most 2^30 "
                       "users per stripe", (unsigned long long)c->capacity,
                       c->n_stripes);
    if (c->n_stripes > c->capacity)
        return pc_fail(NULL, PACING_E_RANGE,
                       "options.stripes = %u exceeds capacity %llu",
                       c->n_stripes, (unsigned long long)c->capacity);
    return PACING_OK;
}

static int fill_secret_n(uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = getrandom(buf + got, len - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static int fill_secret(uint8_t secret[16]) { return fill_secret_n(secret, 16); }

/* Everything the context owns but itself; safe on a partial context. */
static void free_parts(pacing_ctx *c)
{
    pc_points_free(c);
    pc_hazard_free(c);
    pc_log_free(c);
    pc_users_free(c);
}

PACING_API int pacing_ctx_new(const pacing_options *opts, pacing_ctx **out)
{
    if (!out)
        return pc_fail(NULL, PACING_E_NULL, "ctx_new: out is NULL");
    *out = NULL;
    pacing_options defaults;
    if (!opts) {
        pacing_options_init(&defaults);
        opts = &defaults;
    }
    if (opts->size != sizeof(pacing_options))
        return pc_fail(NULL, PACING_E_SIZE,
                       "ctx_new: options.size is %zu, expected %zu",
                       opts->size, sizeof(pacing_options));

    pacing_ctx tmp;
    memset(&tmp, 0, sizeof tmp);
    int rc = apply_options(&tmp, opts);
    if (rc != PACING_OK)
        return rc;
    pacing_ctx *c = tmp.alloc.alloc(tmp.alloc.opaque, sizeof *c);
    if (!c)
        return pc_fail(NULL, PACING_E_NOMEM, "ctx_new: cannot allocate context");
    memcpy(c, &tmp, sizeof *c);
    atomic_init(&c->rejected, 0);
    atomic_init(&c->bytes, sizeof *c);

    if (opts->flags & PACING_OPT_SECRET) {
        memcpy(c->secret, opts->secret, sizeof c->secret);
    } else if (fill_secret(c->secret) != 0) {
        c->alloc.free(c->alloc.opaque, c, sizeof *c);
        return pc_fail(NULL, PACING_E_IO, "ctx_new: no random secret: %s",
                       strerror(errno));
    }
    if (opts->flags & PACING_OPT_RANDOM_SEED) {
        uint8_t b[8];
        if (fill_secret_n(b, sizeof b) != 0) {
            c->alloc.free(c->alloc.opaque, c, sizeof *c);
            return pc_fail(NULL, PACING_E_IO, "ctx_new: no random seed: %s",
                           strerror(errno));
        }
        memcpy(&c->seed, b, sizeof b);
    }
    pc_decay_builtins(c);
    pc_reward_builtins(c);
    pc_rule_builtins(c);
    pc_weights_default(c->weights);
    pc_weights_summed(c);

    rc = pc_users_init(c);
    if (rc == PACING_OK)
        rc = pc_pending_init(c);
    if (rc == PACING_OK)
        rc = pc_hazard_init(c);
    if (rc == PACING_OK)
        rc = pc_log_init(c);
    if (rc != PACING_OK) {
        free_parts(c);
        c->alloc.free(c->alloc.opaque, c, sizeof *c);
        return pc_fail(NULL, rc, "ctx_new: cannot allocate the context's tables "
                       "(%llu users)", (unsigned long long)tmp.capacity);
    }
    *out = c;
    return PACING_OK;
}

PACING_API void pacing_ctx_free(pacing_ctx *ctx)
{
    if (!ctx)
        return;
    free_parts(ctx);
    pacing_allocator a = ctx->alloc;
    memset(ctx->secret, 0, sizeof ctx->secret);
    a.free(a.opaque, ctx, sizeof *ctx);
}

/* ---- counters ---- */

PACING_API int pacing_stats_get(pacing_ctx *ctx, pacing_stats *out)
{
    if (!ctx || !out)
        return pc_fail(ctx, PACING_E_NULL, "stats_get: NULL argument");
    if (out->size != sizeof(pacing_stats))
        return pc_fail(ctx, PACING_E_SIZE, "stats_get: size is %zu, expected %zu",
                       out->size, sizeof(pacing_stats));
    pacing_stats s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        pc_stripe *st = &ctx->stripes[i];
        pc_lock(ctx, st);
        s.users += st->used;
        s.capacity += st->n_slots;
        s.events_applied += st->st.applied;
        s.events_dropped_bot += st->st.dropped_bot;
        s.events_dropped_debounce += st->st.dropped_debounce;
        s.events_dropped_consent += st->st.dropped_consent;
        s.derived_rage_clicks += st->st.rage;
        s.derived_dead_clicks += st->st.dead;
        s.users_created += st->st.created;
        s.users_evicted_lru += st->st.evicted;
        s.users_expired += st->st.expired;
        s.users_forgotten += st->st.forgotten;
        pc_unlock(ctx, st);
    }
    s.events_rejected = atomic_load_explicit(&ctx->rejected, memory_order_relaxed);
    s.bytes_allocated = atomic_load_explicit(&ctx->bytes, memory_order_relaxed);
    *out = s;
    return PACING_OK;
}
