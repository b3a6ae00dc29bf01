/* The decision log: a bounded ring of settled decisions for audits and
 * off-policy evaluation. Appends take the log's own lock, always after a
 * stripe lock (never the other way round). */
#include "internal.h"

#include <string.h>

static void log_lock(pacing_ctx *ctx)
{
    if (!(ctx->flags & PACING_OPT_SINGLE_THREAD))
        pthread_mutex_lock(&ctx->log.lock);
}
static void log_unlock(pacing_ctx *ctx)
{
    if (!(ctx->flags & PACING_OPT_SINGLE_THREAD))
        pthread_mutex_unlock(&ctx->log.lock);
}

int pc_log_init(pacing_ctx *ctx)
{
    pc_log *l = &ctx->log;
    l->ring = pc_alloc(ctx, sizeof(pacing_log_entry) * l->cap);
    if (!l->ring)
        return PACING_E_NOMEM;
    pthread_mutex_init(&l->lock, NULL);
    l->ready = 1;
    return PACING_OK;
}

void pc_log_free(pacing_ctx *ctx)
{
    pc_log *l = &ctx->log;
    if (l->ring) {
        memset(l->ring, 0, sizeof(pacing_log_entry) * l->cap);
        pc_free(ctx, l->ring, sizeof(pacing_log_entry) * l->cap);
    }
    l->ring = NULL;
    if (l->ready)
        pthread_mutex_destroy(&l->lock);
    l->ready = 0;
}

void pc_log_append(pacing_ctx *ctx, const pacing_log_entry *e)
{
    pc_log *l = &ctx->log;
    log_lock(ctx);
    l->ring[l->head] = *e;
    l->head = (l->head + 1) % l->cap;
    if (l->count == l->cap)
        l->dropped++; /* the oldest was overwritten */
    else
        l->count++;
    log_unlock(ctx);
}

void pc_log_settled(pacing_ctx *ctx, const pc_pending *p, uint32_t outcome,
                    double reward, int64_t when, bool early)
{
    pacing_log_entry e;
    memset(&e, 0, sizeof e);
    e.size = sizeof e;
    e.id = p->id;
    e.time_ms = p->t_ms;
    e.pseudonym = p->pseudo;
    e.point = p->point;
    e.proposed_action = p->action;
    e.final_action = p->action;
    e.reasons = p->reasons;
    e.propensity = p->propensity;
    e.outcome = outcome;
    e.settled_early = early;
    e.reward = outcome == PACING_OUT_EXPIRED ? 0.0 : reward;
    e.reward_time_ms = outcome == PACING_OUT_EXPIRED ? -1 : when;
    e.policy_version = p->policy_version;
    pc_log_append(ctx, &e);
}

/* Remove a user's entries: the ring is compacted in order. */
void pc_log_forget(pacing_ctx *ctx, uint64_t pseudo)
{
    pc_log *l = &ctx->log;
    log_lock(ctx);
    uint32_t start = (l->head + l->cap - l->count) % l->cap, kept = 0;
    for (uint32_t i = 0; i < l->count; i++) {
        pacing_log_entry *e = &l->ring[(start + i) % l->cap];
        if (e->pseudonym == pseudo)
            continue;
        if (kept != i)
            l->ring[(start + kept) % l->cap] = *e;
        kept++;
    }
    for (uint32_t i = kept; i < l->count; i++)
        memset(&l->ring[(start + i) % l->cap], 0, sizeof(pacing_log_entry));
    l->count = kept;
    l->head = (start + kept) % l->cap;
    log_unlock(ctx);
}

PACING_API int pacing_log_read(pacing_ctx *ctx, pacing_log_fn fn, void *opaque,
                               uint64_t *dropped)
{
    if (!ctx || !fn)
        return pc_fail(ctx, PACING_E_NULL, "log_read: NULL argument");
    pc_log *l = &ctx->log;
    log_lock(ctx);
    uint32_t start = (l->head + l->cap - l->count) % l->cap;
    uint32_t done = 0;
    while (done < l->count) {
        pacing_log_entry *e = &l->ring[(start + done) % l->cap];
        done++;
        int stop = fn(opaque, e);
        memset(e, 0, sizeof *e);
        if (stop)
            break;
    }
    l->count -= done;
    if (dropped)
        *dropped = l->dropped;
    l->dropped = 0;
    log_unlock(ctx);
    return PACING_OK;
}
