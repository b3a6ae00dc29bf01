/* The user table. Users are keyed by their 64-bit pseudonym; the table is
 * split into stripes (chosen by the pseudonym's high bits), each with its
 * own lock, a fixed array of slots allocated at creation, an open-addressing
 * index (linear probing, backward-shift deletion) and an LRU list. Nothing
 * here allocates after pacing_ctx_new(). */
#include "internal.h"

#include <string.h>

#define NONE UINT32_MAX

pc_stripe *pc_stripe_of(pacing_ctx *ctx, uint64_t pseudo)
{
    /* mixed first, so caller-chosen pseudonyms spread over the stripes */
    return &ctx->stripes[ctx->n_stripes == 1
                             ? 0
                             : (pseudo * 0xD6E8FEB86659FD93ULL) >> ctx->stripe_shift];
}

void pc_lock(pacing_ctx *ctx, pc_stripe *s)
{
    if (!(ctx->flags & PACING_OPT_SINGLE_THREAD))
        pthread_mutex_lock(&s->lock);
}

void pc_unlock(pacing_ctx *ctx, pc_stripe *s)
{
    if (!(ctx->flags & PACING_OPT_SINGLE_THREAD))
        pthread_mutex_unlock(&s->lock);
}

static inline uint32_t home(const pc_stripe *s, uint64_t pseudo)
{
    /* a second multiplicative mix, independent of the stripe's */
    return (uint32_t)(pseudo * 0x9E3779B97F4A7C15ULL >> 32) & s->index_mask;
}

int pc_users_init(pacing_ctx *ctx)
{
    uint32_t n = ctx->n_stripes;
    uint32_t bits = 0;
    while ((1u << bits) < n)
        bits++;
    ctx->stripe_shift = 64 - bits;
    /* each stripe on cache lines of its own: no false sharing between
     * threads that use neighbouring stripes */
    ctx->stripes_mem = pc_alloc(ctx, sizeof(pc_stripe) * n + PC_CACHE_LINE);
    if (!ctx->stripes_mem)
        return PACING_E_NOMEM;
    uintptr_t at = (uintptr_t)ctx->stripes_mem;
    at = (at + PC_CACHE_LINE - 1) & ~(uintptr_t)(PC_CACHE_LINE - 1);
    ctx->stripes = (pc_stripe *)at;
    /* exactly `capacity` slots: the first capacity % n stripes get one more */
    uint64_t per = ctx->capacity / n, extra = ctx->capacity % n;
    uint32_t isize = 4;
    while (isize < 2 * (per + (extra != 0)))
        isize <<= 1;
    for (uint32_t i = 0; i < n; i++) {
        pc_stripe *s = &ctx->stripes[i];
        s->n_slots = (uint32_t)(per + (i < extra));
        s->index_mask = isize - 1;
        s->lru_head = s->lru_tail = NONE;
        s->free_head = NONE;
        pthread_mutex_init(&s->lock, NULL);
    }
    for (uint32_t i = 0; i < n; i++) {
        pc_stripe *s = &ctx->stripes[i];
        s->slots = pc_alloc(ctx, sizeof(pc_user) * s->n_slots);
        s->index = pc_alloc(ctx, sizeof(uint32_t) * isize);
        if (!s->slots || !s->index)
            return PACING_E_NOMEM;
        /* free list in slot order */
        for (uint32_t k = 0; k < s->n_slots; k++)
            s->slots[k].lru_next = k + 1 < s->n_slots ? k + 1 : NONE;
        s->free_head = 0;
    }
    return PACING_OK;
}

void pc_users_free(pacing_ctx *ctx)
{
    if (!ctx->stripes_mem)
        return;
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        pc_stripe *s = &ctx->stripes[i];
        if (s->slots) {
            memset(s->slots, 0, sizeof(pc_user) * s->n_slots);
            pc_free(ctx, s->slots, sizeof(pc_user) * s->n_slots);
        }
        pc_free(ctx, s->index, sizeof(uint32_t) * (s->index_mask + 1));
        pthread_mutex_destroy(&s->lock);
    }
    pc_free(ctx, ctx->stripes_mem, sizeof(pc_stripe) * ctx->n_stripes + PC_CACHE_LINE);
    ctx->stripes = NULL;
    ctx->stripes_mem = NULL;
}

pc_user *pc_user_find(pc_stripe *s, uint64_t pseudo)
{
    uint32_t i = home(s, pseudo);
    for (;;) {
        uint32_t e = s->index[i];
        if (e == 0)
            return NULL;
        if (s->slots[e - 1].pseudo == pseudo)
            return &s->slots[e - 1];
        i = (i + 1) & s->index_mask;
    }
}

static void lru_unlink(pc_stripe *s, uint32_t k)
{
    pc_user *u = &s->slots[k];
    if (u->lru_prev != NONE)
        s->slots[u->lru_prev].lru_next = u->lru_next;
    else
        s->lru_head = u->lru_next;
    if (u->lru_next != NONE)
        s->slots[u->lru_next].lru_prev = u->lru_prev;
    else
        s->lru_tail = u->lru_prev;
}

static void lru_push_head(pc_stripe *s, uint32_t k)
{
    pc_user *u = &s->slots[k];
    u->lru_prev = NONE;
    u->lru_next = s->lru_head;
    if (s->lru_head != NONE)
        s->slots[s->lru_head].lru_prev = k;
    s->lru_head = k;
    if (s->lru_tail == NONE)
        s->lru_tail = k;
}

void pc_user_touch(pc_stripe *s, pc_user *u)
{
    uint32_t k = (uint32_t)(u - s->slots);
    if (s->lru_head == k)
        return;
    lru_unlink(s, k);
    lru_push_head(s, k);
}

/* Remove from the index with backward-shift deletion, then from the LRU
 * list, wipe the slot and put it on the free list. */
static void pc_user_remove(pc_stripe *s, pc_user *u)
{
    uint32_t k = (uint32_t)(u - s->slots);
    uint32_t i = home(s, u->pseudo);
    while (s->index[i] != k + 1)
        i = (i + 1) & s->index_mask;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & s->index_mask;
        uint32_t e = s->index[j];
        if (e == 0)
            break;
        uint32_t h = home(s, s->slots[e - 1].pseudo);
        /* move e to the hole at i if its home is not in (i, j] cyclically */
        if (((j - h) & s->index_mask) >= ((j - i) & s->index_mask)) {
            s->index[i] = e;
            i = j;
        }
    }
    s->index[i] = 0;
    lru_unlink(s, k);
    memset(u, 0, sizeof *u);
    u->lru_next = s->free_head;
    s->free_head = k;
    s->used--;
}

void pc_user_drop(pacing_ctx *ctx, pc_stripe *s, pc_user *u, int mode)
{
    uint32_t k = u->pending_head;
    while (k != NONE) {
        pc_pending *p = &s->pend[k];
        uint32_t next = p->next;
        p->chained = 0;
        p->next = NONE;
        if (mode == DROP_FORGET) {
            memset(p, 0, sizeof *p);
            s->pend_used--;
        } else if (mode == DROP_EXPIRE) {
            p->pseudo = 0; /* the decision stays, no longer linked to anyone */
        }
        k = next;
    }
    u->pending_head = NONE;
    if (mode == DROP_FORGET)
        pc_log_forget(ctx, u->pseudo);
    pc_user_remove(s, u);
}

/* A user just written into slot k (taken from the free list): into the
 * index and at the head of the LRU list. */
static void link_new(pc_stripe *s, uint32_t k, uint64_t pseudo)
{
    uint32_t i = home(s, pseudo);
    while (s->index[i] != 0)
        i = (i + 1) & s->index_mask;
    s->index[i] = k + 1;
    lru_push_head(s, k);
    s->used++;
}

bool pc_user_expired(const pacing_ctx *ctx, const pc_user *u, int64_t now)
{
    return ctx->user_ttl_ms >= 0 && now - u->last_seen_ms > ctx->user_ttl_ms;
}

pc_user *pc_user_get(pacing_ctx *ctx, pc_stripe *s, uint64_t pseudo,
                     int64_t now, bool *created)
{
    pc_user *u = pc_user_find(s, pseudo);
    if (u && !pc_user_expired(ctx, u, now)) {
        *created = false;
        pc_user_touch(s, u);
        return u;
    }
    if (u) { /* idle past its TTL: it starts over */
        pc_user_drop(ctx, s, u, DROP_EXPIRE);
        s->st.expired++;
    }
    if (s->free_head == NONE) {
        pc_user *old = &s->slots[s->lru_tail];
        bool expired = pc_user_expired(ctx, old, now);
        if (expired)
            s->st.expired++;
        else
            s->st.evicted++;
        pc_user_drop(ctx, s, old, expired ? DROP_EXPIRE : DROP_EVICT);
    }
    uint32_t k = s->free_head;
    s->free_head = s->slots[k].lru_next;
    u = &s->slots[k];
    memset(u, 0, sizeof *u);
    u->pseudo = pseudo;
    u->last_seen_ms = now;
    u->pending_head = NONE;
    u->last_error_ms = -1;
    u->form_started_ms = -1;
    u->last_form_end_ms = -1;
    pc_features_init(&u->feat, now);
    link_new(s, k, pseudo);
    s->st.created++;
    *created = true;
    return u;
}

pc_user *pc_user_insert(pc_stripe *s, const pc_user *rec)
{
    uint32_t k = s->free_head;
    s->free_head = s->slots[k].lru_next;
#if defined(__GNUC__)
    if (s->free_head != NONE) /* bulk loads fill the free slots in a row */
        for (size_t off = 0; off < sizeof(pc_user); off += PC_CACHE_LINE)
            __builtin_prefetch((const char *)&s->slots[s->free_head] + off, 1);
#endif
    pc_user *u = &s->slots[k];
    memcpy(u, rec, sizeof *u);
    u->pending_head = NONE;
    link_new(s, k, rec->pseudo);
    return u;
}

void pc_users_clear(pacing_ctx *ctx, pc_stripe *s, uint32_t n_new)
{
    if (s->used < 64 || s->used < s->n_slots / 16) {
        while (s->lru_head != NONE) /* few users: one by one */
            pc_user_drop(ctx, s, &s->slots[s->lru_head], DROP_EVICT);
        return;
    }
    /* in one pass over the slots, in slot order (the records' lines are
     * read and written in a row, not in LRU order): the free list becomes
     * 0, 1, 2, ..., so the n_new users inserted next fill the first n_new
     * slots, overwriting them whole; every other used slot is wiped here
     * (a free slot is all zero but for its free-list link) */
    for (uint32_t k = 0; k < s->n_slots; k++) {
        pc_user *u = &s->slots[k];
        if (k >= n_new && u->pseudo != 0)
            memset(u, 0, sizeof *u);
        u->lru_next = k + 1 < s->n_slots ? k + 1 : NONE;
    }
    s->free_head = s->n_slots ? 0 : NONE;
    memset(s->index, 0, sizeof(uint32_t) * ((size_t)s->index_mask + 1));
    s->used = 0;
    s->lru_head = s->lru_tail = NONE;
}

/* ---- public user calls ---- */

PACING_API int pacing_pseudonym(const pacing_ctx *ctx, const void *user,
                                size_t user_len, uint64_t *out)
{
    if (!ctx || !user || !out)
        return pc_fail(ctx, PACING_E_NULL, "pseudonym: NULL argument");
    if (user_len == 0 || user_len > PACING_MAX_USER_LEN)
        return pc_fail(ctx, PACING_E_RANGE,
                       "pseudonym: user id length %zu not in [1, 1024]",
                       user_len);
    uint64_t h = pc_siphash24(ctx->secret, user, user_len);
    *out = h ? h : 1; /* 0 is never a pseudonym */
    return PACING_OK;
}

bool pc_forget(pacing_ctx *ctx, pc_stripe *s, uint64_t pseudo)
{
    pc_user *u = pc_user_find(s, pseudo);
    if (u) {
        pc_user_drop(ctx, s, u, DROP_FORGET);
        s->st.forgotten++;
    }
    /* decisions of an evicted or expired incarnation are unchained: scrub
     * them too, and the log */
    for (uint32_t k = 0; k < s->n_pend && s->pend_used > 0; k++)
        if (s->pend[k].id != 0 && s->pend[k].pseudo == pseudo) {
            memset(&s->pend[k], 0, sizeof s->pend[k]);
            s->pend_used--;
        }
    pc_log_forget(ctx, pseudo);
    return u != NULL;
}

PACING_API int pacing_forget_pseudonym(pacing_ctx *ctx, uint64_t pseudonym)
{
    if (!ctx)
        return pc_fail(ctx, PACING_E_NULL, "forget: ctx is NULL");
    if (pseudonym == 0) /* 0 marks anonymous decisions: never a user */
        return pc_fail(ctx, PACING_E_INVAL, "forget: pseudonym 0 is never a user");
    pc_stripe *s = pc_stripe_of(ctx, pseudonym);
    pc_lock(ctx, s);
    bool u = pc_forget(ctx, s, pseudonym);
    pc_unlock(ctx, s);
    if (!u)
        return pc_fail(ctx, PACING_E_NOTFOUND, "forget: no such user");
    return PACING_OK;
}

PACING_API int pacing_forget(pacing_ctx *ctx, const void *user, size_t user_len)
{
    uint64_t p = 0;
    int rc = pacing_pseudonym(ctx, user, user_len, &p);
    if (rc != PACING_OK)
        return rc;
    return pacing_forget_pseudonym(ctx, p);
}

PACING_API int pacing_expire(pacing_ctx *ctx, int64_t now_ms, uint64_t *n_expired)
{
    if (!ctx)
        return pc_fail(ctx, PACING_E_NULL, "expire: ctx is NULL");
    if (now_ms < 0 || now_ms > PACING_MAX_TIME_MS)
        return pc_fail(ctx, PACING_E_TIME, "expire: time %lld out of [0, 2^53]",
                       (long long)now_ms);
    uint64_t n = 0;
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        pc_stripe *s = &ctx->stripes[i];
        pc_lock(ctx, s);
        for (uint32_t k = 0; k < s->n_slots; k++) {
            pc_user *u = &s->slots[k];
            if (u->pseudo != 0 && pc_user_expired(ctx, u, now_ms)) {
                pc_user_drop(ctx, s, u, DROP_EXPIRE);
                s->st.expired++;
                n++;
            }
        }
        /* decisions of users evicted earlier and idle past the TTL since
         * then: no longer linked to anyone */
        if (ctx->user_ttl_ms >= 0)
            for (uint32_t k = 0; k < s->n_pend; k++) {
                pc_pending *e = &s->pend[k];
                if (e->id != 0 && e->pseudo != 0 && !e->chained &&
                    now_ms - e->t_ms > ctx->user_ttl_ms &&
                    !pc_user_find(s, e->pseudo))
                    e->pseudo = 0;
            }
        pc_unlock(ctx, s);
    }
    if (n_expired)
        *n_expired = n;
    return PACING_OK;
}
