/* Decision points, decisions, rewards and the pending buffer.
 *
 * A point owns a policy state behind its own read-write lock. A decision
 * is made under the lock of the user's stripe (user state, scores,
 * recovery times, the pending entry) and, inside it, the point's lock
 * taken shared (policy select: many threads select at once); a reward
 * takes it alone (policy update). Lock
 * order is always stripe, then point (or stripe, then hazard); no code
 * holds a point lock and a hazard lock together.
 *
 * Pending decisions live in a ring per stripe, allocated at creation, so
 * a decision never allocates. An id is (stripe << 54) | (slot << 32) | seq
 * with seq >= 1, so it is never 0 and names its slot without a search.
 * The ring is filled in order; a slot that is still live when the ring
 * comes round to it is the oldest live decision and is settled early. */
#include "internal.h"
#include "point.h"

#include <math.h>
#include <string.h>


#define ID_STRIPE_SHIFT 54
#define ID_SLOT_SHIFT 32
#define ID_SLOT_MASK ((1u << 22) - 1)
#define DEFAULT_ATTRIBUTION_MS 3600000

void pc_point_lock(pacing_ctx *ctx, pc_point *p, bool write)
{
    if (ctx->flags & PACING_OPT_SINGLE_THREAD)
        return;
    if (write)
        pthread_rwlock_wrlock(&p->lock);
    else
        pthread_rwlock_rdlock(&p->lock);
}
void pc_point_unlock(pacing_ctx *ctx, pc_point *p)
{
    if (!(ctx->flags & PACING_OPT_SINGLE_THREAD))
        pthread_rwlock_unlock(&p->lock);
}

void pc_point_loaded(pc_point *p)
{
    uint64_t n = 0;
    for (uint32_t a = 0; a < p->k; a++)
        n += p->decisions[a];
    p->n_select = n;
}

/* The generator of the point's n-th select: a stream of its own, so that
 * selects need not write the point (they run under its shared lock) and a
 * single thread still makes the same decisions for the same seed. */
static void select_rng(const pc_point *p, uint64_t n, pc_rng *r)
{
    uint64_t z = p->rng.s[0] ^ (n + 0x632BE59BD9B4E019ULL);
    z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCDULL; /* a 64-bit finaliser */
    z = (z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53ULL;
    z ^= z >> 33;
    pc_rng_seed(r, z ^ p->rng.s[1]);
}

bool pc_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= PACING_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* ---- pending buffer ---- */

int pc_pending_init(pacing_ctx *ctx)
{
    uint32_t per = (ctx->pending_capacity + ctx->n_stripes - 1) / ctx->n_stripes;
    if (per < 1)
        per = 1;
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        pc_stripe *s = &ctx->stripes[i];
        s->pend = pc_alloc(ctx, sizeof(pc_pending) * per);
        if (!s->pend)
            return PACING_E_NOMEM;
        s->n_pend = per;
    }
    return PACING_OK;
}

void pc_points_free(pacing_ctx *ctx)
{
    if (ctx->stripes)
        for (uint32_t i = 0; i < ctx->n_stripes; i++) {
            pc_stripe *s = &ctx->stripes[i];
            pc_free(ctx, s->pend, sizeof(pc_pending) * s->n_pend);
            s->pend = NULL;
        }
    if (!ctx->points)
        return;
    for (uint32_t i = 0; i < ctx->n_points; i++) {
        pc_point *p = ctx->points[i];
        pthread_rwlock_destroy(&p->lock);
        pc_free(ctx, p->state, p->state_size);
        pc_free(ctx, p, sizeof *p);
    }
    pc_free(ctx, ctx->points, sizeof(pc_point *) * ctx->max_points);
    ctx->points = NULL;
}

static void unchain(pc_stripe *s, pc_pending *e, uint32_t slot)
{
    if (!e->chained)
        return;
    pc_user *u = pc_user_find(s, e->pseudo);
    if (u) {
        uint32_t *link = &u->pending_head;
        while (*link != NONE32 && *link != slot)
            link = &s->pend[*link].next;
        if (*link == slot)
            *link = e->next;
    }
    e->chained = 0;
}

static void pending_free(pc_stripe *s, pc_pending *e)
{
    unchain(s, e, (uint32_t)(e - s->pend));
    memset(e, 0, sizeof *e);
    s->pend_used--;
}

static double clamp_reward(const pc_point *p, double r)
{
    return r < p->r_lo ? p->r_lo : (r > p->r_hi ? p->r_hi : r);
}

/* Teach the point's policy one reward. Caller holds the stripe lock. */
static void learn(pacing_ctx *ctx, pc_pending *e, double r, int64_t now)
{
    pc_point *p = ctx->points[e->point];
    if (r < p->r_lo)
        r = p->r_lo;
    if (r > p->r_hi)
        r = p->r_hi;
    pc_point_lock(ctx, p, true);
    p->vt->update(p->state, e->action, r, p->vt->contextual ? e->x : NULL);
    p->rewards[e->action]++;
    p->n_learned++;
    p->last_update[e->action] = now;
    pc_point_unlock(ctx, p);
}

/* The window ended (or the buffer needs the slot): apply what is due, log
 * the outcome, free the slot. */
static void settle(pacing_ctx *ctx, pc_stripe *s, pc_pending *e, int64_t now,
                   bool early)
{
    pc_point *p = ctx->points[e->point];
    if (e->matched) {
        learn(ctx, e, e->acc, now);
        s->st.rw_implicit++;
        pc_log_settled(ctx, e, PACING_OUT_IMPLICIT, clamp_reward(p, e->acc), now,
                       early);
    } else if (p->flags & PACING_PT_DEFAULT_REWARD) {
        learn(ctx, e, p->default_reward, now);
        s->st.rw_default++;
        pc_log_settled(ctx, e, PACING_OUT_DEFAULT, p->default_reward, now, early);
    } else {
        s->st.rw_none++;
        pc_log_settled(ctx, e, PACING_OUT_EXPIRED, 0.0, now, early);
    }
    pending_free(s, e);
}

void pc_settle_stripe(pacing_ctx *ctx, pc_stripe *s, int64_t now, bool full,
                      uint64_t *n)
{
    if (s->pend_used == 0)
        return;
    if (full) {
        for (uint32_t i = 0; i < s->n_pend; i++) {
            pc_pending *e = &s->pend[i];
            if (e->id != 0 && e->deadline_ms <= now) {
                settle(ctx, s, e, now, false);
                if (n)
                    (*n)++;
            }
        }
        return;
    }
    /* lazy: oldest first, stop at the first live decision still open */
    for (uint32_t steps = 0; steps < s->n_pend && s->pend_used > 0; steps++) {
        pc_pending *e = &s->pend[s->pend_tail];
        if (e->id != 0) {
            if (e->deadline_ms > now)
                break;
            settle(ctx, s, e, now, false);
            if (n)
                (*n)++;
        }
        if (s->pend_tail == s->pend_head && s->pend_used == 0)
            break;
        s->pend_tail = (s->pend_tail + 1) % s->n_pend;
    }
}

/* ---- reward rules fed by events ---- */

void pc_reward_on_event(pacing_ctx *ctx, pc_stripe *s, pc_user *u,
                        const pacing_event *ev)
{
    uint32_t k = u->pending_head;
    double dwell_base = 0.0, w;
    if (!pc_features_base(&u->feat, &ctx->hl, BASE_DWELL, ev->time_ms,
                          &dwell_base, &w))
        dwell_base = 0.0;
    pacing_event copy = *ev;
    copy.user = NULL;
    copy.user_len = 0;
    copy.flags |= PACING_EVF_PSEUDONYM;
    copy.pseudonym = u->pseudo;
    while (k != NONE32) {
        pc_pending *e = &s->pend[k];
        uint32_t next = e->next;
        pc_point *p = ctx->points[e->point];
        if (ev->time_ms >= e->t_ms && ev->time_ms < e->deadline_ms) {
            pacing_reward_input in;
            memset(&in, 0, sizeof in);
            in.size = sizeof in;
            in.event = &copy;
            in.since_decision_ms = ev->time_ms - e->t_ms;
            in.point = e->point;
            in.action = e->action;
            in.dwell_baseline_ms = dwell_base;
            int final = 0;
            for (uint32_t r = 0; r < p->n_rules; r++) {
                const pc_reward_mod *m = &ctx->rmods[p->rules[r].mod];
                double v = 0.0;
                int fin = 0;
                if (m->on_event(m->opaque, &in, &v, &fin) && isfinite(v)) {
                    e->acc += p->rules[r].weight * v;
                    e->matched = 1;
                    final |= fin;
                }
            }
            if (final) {
                learn(ctx, e, e->acc, ev->time_ms);
                s->st.rw_implicit++;
                pc_log_settled(ctx, e, PACING_OUT_IMPLICIT, clamp_reward(p, e->acc),
                               ev->time_ms, false);
                pending_free(s, e);
            }
        }
        k = next;
    }
}

/* ---- points ---- */

static bool bernoulli_policy(const pc_policy_vt *vt)
{
    return strcmp(vt->name, "gaussian_thompson") != 0 &&
           strcmp(vt->name, "linucb") != 0 &&
           strcmp(vt->name, "linear_thompson") != 0;
}

PACING_API int pacing_point_add(pacing_ctx *ctx, const pacing_point_spec *sp,
                                uint32_t *point_id)
{
    if (!ctx || !sp || !point_id)
        return pc_fail(ctx, PACING_E_NULL, "point_add: NULL argument");
    if (sp->size != sizeof(pacing_point_spec))
        return pc_fail(ctx, PACING_E_SIZE, "point_add: spec size is %zu, expected %zu",
                       sp->size, sizeof(pacing_point_spec));
    if (!sp->name || !pc_valid_name(sp->name))
        return pc_fail(ctx, PACING_E_INVAL,
                       "point_add: name must be 1..31 chars of [a-z0-9_]");
    const char *pn = sp->name;
    for (uint32_t i = 0; i < ctx->n_points; i++)
        if (strcmp(ctx->points[i]->name, pn) == 0)
            return pc_fail(ctx, PACING_E_EXISTS,
                           "point_add: point '%s' already exists", pn);
    if (ctx->n_points >= ctx->max_points)
        return pc_fail(ctx, PACING_E_FULL, "point_add %s: at most %u points",
                       pn, ctx->max_points);
    if (sp->n_actions < 2 || sp->n_actions > PC_MAX_ACTIONS)
        return pc_fail(ctx, PACING_E_INVAL,
                       "point_add %s: n_actions %u not in [2, 64]", pn,
                       sp->n_actions);
    if (!sp->actions)
        return pc_fail(ctx, PACING_E_NULL, "point_add %s: actions is NULL", pn);
    for (uint32_t a = 0; a < sp->n_actions; a++) {
        if (!sp->actions[a] || !pc_valid_name(sp->actions[a]))
            return pc_fail(ctx, PACING_E_INVAL,
                           "point_add %s: action %u name must be 1..31 chars "
                           "of [a-z0-9_]", pn, a);
        for (uint32_t b = 0; b < a; b++)
            if (strcmp(sp->actions[a], sp->actions[b]) == 0)
                return pc_fail(ctx, PACING_E_EXISTS,
                               "point_add %s: action '%s' appears twice", pn,
                               sp->actions[a]);
    }
    if (sp->flags & ~(PACING_PT_SCORES_CONTEXT | PACING_PT_DEFAULT_REWARD))
        return pc_fail(ctx, PACING_E_INVAL, "point_add %s: unknown flags 0x%x",
                       pn, sp->flags);
    if (sp->reserved0 != 0 || sp->reserved1 != 0)
        return pc_fail(ctx, PACING_E_INVAL,
                       "point_add %s: reserved0 and reserved1 must be 0", pn);
    uint64_t all_k = sp->n_actions == 64 ? ~0ULL : ((1ULL << sp->n_actions) - 1);
    if (sp->quiet_actions & ~all_k)
        return pc_fail(ctx, PACING_E_INVAL,
                       "point_add %s: quiet_actions names actions beyond %u", pn,
                       sp->n_actions);
    if (sp->quiet_actions == all_k)
        return pc_fail(ctx, PACING_E_INVAL,
                       "point_add %s: every action is quiet: nothing would show", pn);
    if (sp->safe_action < -1 || sp->safe_action >= (int32_t)sp->n_actions)
        return pc_fail(ctx, PACING_E_INVAL,
                       "point_add %s: safe_action %d not an action index or -1", pn,
                       sp->safe_action);
    if (sp->safe_action >= 0 && !(sp->quiet_actions & (1ULL << sp->safe_action)))
        return pc_fail(ctx, PACING_E_INVAL,
                       "point_add %s: safe_action '%s' must be a quiet action", pn,
                       sp->actions[sp->safe_action]);
    if (!sp->policy)
        return pc_fail(ctx, PACING_E_NULL, "point_add %s: policy is NULL", pn);
    const pc_policy_vt *vt = pc_policy_find(sp->policy);
    if (!vt)
        return pc_fail(ctx, PACING_E_NOTFOUND, "point_add %s: no policy '%s'",
                       pn, sp->policy);

    double params[PC_MAX_PARAMS] = {0};
    for (uint32_t i = 0; i < vt->n_params; i++)
        params[i] = vt->params[i].def;
    if (sp->n_params && !sp->params)
        return pc_fail(ctx, PACING_E_NULL, "point_add %s: params is NULL", pn);
    for (uint32_t j = 0; j < sp->n_params; j++) {
        const pacing_param *pp = &sp->params[j];
        uint32_t i = 0;
        if (!pp->name)
            return pc_fail(ctx, PACING_E_NULL, "point_add %s: params[%u].name is NULL",
                           pn, j);
        while (i < vt->n_params && strcmp(vt->params[i].name, pp->name) != 0)
            i++;
        if (i == vt->n_params)
            return pc_fail(ctx, PACING_E_INVAL,
                           "point_add %s: policy %s has no parameter '%s'", pn,
                           vt->name, pp->name);
        if (!isfinite(pp->value))
            return pc_fail(ctx, PACING_E_NAN,
                           "point_add %s: parameter %s is not finite", pn, pp->name);
        if (pp->value < vt->params[i].lo || pp->value > vt->params[i].hi)
            return pc_fail(ctx, PACING_E_RANGE,
                           "point_add %s: parameter %s = %g not in [%g, %g]", pn,
                           pp->name, pp->value, vt->params[i].lo,
                           vt->params[i].hi);
        params[i] = pp->value;
    }

    uint32_t d_user = sp->context_dim, d = 0;
    if (vt->contextual) {
        if (d_user > 32)
            return pc_fail(ctx, PACING_E_INVAL,
                           "point_add %s: context_dim %u not in [0, 32]", pn, d_user);
        d = d_user + ((sp->flags & PACING_PT_SCORES_CONTEXT) ? 3 : 0);
        if (d == 0)
            return pc_fail(ctx, PACING_E_INVAL,
                           "point_add %s: policy %s needs context_dim >= 1 or "
                           "PACING_PT_SCORES_CONTEXT", pn, vt->name);
    } else if (d_user != 0 || (sp->flags & PACING_PT_SCORES_CONTEXT)) {
        return pc_fail(ctx, PACING_E_INVAL,
                       "point_add %s: policy %s takes no context", pn, vt->name);
    }

    int recovery = 0;
    uint32_t rec_decay = 0;
    double rec_params[4] = {0};
    if (sp->recovery_decay) {
        const pc_decay *dm = pc_decay_find(ctx, sp->recovery_decay);
        if (!dm)
            return pc_fail(ctx, PACING_E_NOTFOUND,
                           "point_add %s: no decay module '%s'", pn,
                           sp->recovery_decay);
        const double *rp = sp->recovery_params ? sp->recovery_params
                                               : dm->default_params;
        for (int i = 0; i < 4; i++)
            if (!isfinite(rp[i]))
                return pc_fail(ctx, PACING_E_NAN,
                               "point_add %s: recovery_params[%d] is not finite",
                               pn, i);
        if (dm->check && dm->check(rp) != 0)
            return pc_fail(ctx, PACING_E_RANGE,
                           "point_add %s: recovery_params rejected by '%s'", pn,
                           dm->name);
        recovery = 1;
        rec_decay = (uint32_t)(dm - ctx->decay);
        memcpy(rec_params, rp, sizeof rec_params);
    }
    int64_t attribution = sp->attribution_ms ? sp->attribution_ms
                                             : DEFAULT_ATTRIBUTION_MS;
    if (attribution < 1 || attribution > PACING_MAX_TIME_MS)
        return pc_fail(ctx, PACING_E_RANGE,
                       "point_add %s: attribution_ms %lld not in [1, 2^53]", pn,
                       (long long)attribution);
    double r_lo = bernoulli_policy(vt) ? 0.0 : -1e6;
    double r_hi = bernoulli_policy(vt) ? 1.0 : 1e6;
    if (!isfinite(sp->default_reward))
        return pc_fail(ctx, PACING_E_NAN, "point_add %s: default_reward is not finite",
                       pn);
    if (sp->default_reward < r_lo || sp->default_reward > r_hi)
        return pc_fail(ctx, PACING_E_RANGE,
                       "point_add %s: default_reward %g not in [%g, %g]", pn,
                       sp->default_reward, r_lo, r_hi);
    if (sp->n_rewards > PACING_MAX_RULES)
        return pc_fail(ctx, PACING_E_INVAL, "point_add %s: at most %d reward rules",
                       pn, PACING_MAX_RULES);
    if (sp->n_rewards && !sp->rewards)
        return pc_fail(ctx, PACING_E_NULL, "point_add %s: rewards is NULL", pn);
    for (uint32_t r = 0; r < sp->n_rewards; r++) {
        const pacing_reward_rule *rr = &sp->rewards[r];
        if (!rr->module)
            return pc_fail(ctx, PACING_E_NULL, "point_add %s: rewards[%u].module is NULL",
                           pn, r);
        if (!pc_reward_find(ctx, rr->module))
            return pc_fail(ctx, PACING_E_NOTFOUND,
                           "point_add %s: no reward module '%s'", pn, rr->module);
        if (!isfinite(rr->weight))
            return pc_fail(ctx, PACING_E_NAN,
                           "point_add %s: reward '%s' weight is not finite", pn,
                           rr->module);
        if (rr->weight < -1000 || rr->weight > 1000)
            return pc_fail(ctx, PACING_E_RANGE,
                           "point_add %s: reward '%s' weight %g not in "
                           "[-1000, 1000]", pn, rr->module, rr->weight);
    }

    /* everything checked: allocate, then commit */
    if (!ctx->points) {
        ctx->points = pc_alloc(ctx, sizeof(pc_point *) * ctx->max_points);
        if (!ctx->points)
            return pc_fail(ctx, PACING_E_NOMEM, "point_add %s: out of memory", pn);
    }
    pc_point *p = pc_alloc(ctx, sizeof *p);
    if (!p)
        return pc_fail(ctx, PACING_E_NOMEM, "point_add %s: out of memory", pn);
    p->state_size = vt->state_size(sp->n_actions, d, params);
    p->state = pc_alloc(ctx, p->state_size);
    if (!p->state) {
        pc_free(ctx, p, sizeof *p);
        return pc_fail(ctx, PACING_E_NOMEM, "point_add %s: out of memory", pn);
    }
    strcpy(p->name, pn);
    for (uint32_t a = 0; a < sp->n_actions; a++) {
        strcpy(p->actions[a], sp->actions[a]);
        p->last_update[a] = -1;
    }
    p->id = ctx->n_points;
    p->k = sp->n_actions;
    p->d_user = vt->contextual ? d_user : 0;
    p->d = d;
    p->flags = sp->flags;
    p->quiet = sp->quiet_actions;
    p->safe_action = sp->safe_action;
    p->vt = vt;
    memcpy(p->params, params, sizeof params);
    p->r_lo = r_lo;
    p->r_hi = r_hi;
    p->recovery = recovery;
    p->rec_decay = rec_decay;
    memcpy(p->rec_params, rec_params, sizeof rec_params);
    p->attribution_ms = attribution;
    p->default_reward = sp->default_reward;
    p->n_rules = sp->n_rewards;
    for (uint32_t r = 0; r < sp->n_rewards; r++) {
        p->rules[r].mod =
            (uint32_t)(pc_reward_find(ctx, sp->rewards[r].module) - ctx->rmods);
        p->rules[r].weight = sp->rewards[r].weight;
    }
    pthread_rwlock_init(&p->lock, NULL);
    pc_rng_seed(&p->rng, ctx->seed ^ (0x9E3779B97F4A7C15ULL * (p->id + 1)));
    vt->init(p->state, p->k, d, p->params);
    ctx->points[ctx->n_points++] = p;
    *point_id = p->id;
    return PACING_OK;
}

PACING_API int pacing_point_find(const pacing_ctx *ctx, const char *name,
                                 uint32_t *point_id)
{
    if (!ctx || !name || !point_id)
        return pc_fail(ctx, PACING_E_NULL, "point_find: NULL argument");
    for (uint32_t i = 0; i < ctx->n_points; i++)
        if (strcmp(ctx->points[i]->name, name) == 0) {
            *point_id = i;
            return PACING_OK;
        }
    return pc_fail(ctx, PACING_E_NOTFOUND, "point_find: no point '%s'", name);
}

const char *pc_point_name(const pacing_ctx *ctx, uint32_t point)
{
    return point < ctx->n_points ? ctx->points[point]->name : "?";
}

PACING_API uint32_t pacing_point_count(const pacing_ctx *ctx)
{
    return ctx ? ctx->n_points : 0;
}

PACING_API const char *pacing_point_name(const pacing_ctx *ctx, uint32_t point)
{
    return ctx && point < ctx->n_points ? ctx->points[point]->name : NULL;
}

PACING_API uint32_t pacing_point_actions(const pacing_ctx *ctx, uint32_t point)
{
    return ctx && point < ctx->n_points ? ctx->points[point]->k : 0;
}

PACING_API const char *pacing_action_name(const pacing_ctx *ctx, uint32_t point,
                                          uint32_t action)
{
    if (!ctx || point >= ctx->n_points || action >= ctx->points[point]->k)
        return NULL;
    return ctx->points[point]->actions[action];
}

/* ---- decide ---- */

static int check_request(pacing_ctx *ctx, const pacing_request *rq)
{
    if (rq->size != sizeof(pacing_request))
        return pc_fail(ctx, PACING_E_SIZE, "decide: request size is %zu, expected %zu",
                       rq->size, sizeof(pacing_request));
    if (rq->point >= ctx->n_points)
        return pc_fail(ctx, PACING_E_NOTFOUND, "decide: no point %u", rq->point);
    const pc_point *p = ctx->points[rq->point];
    uint32_t known = PACING_REQ_PSEUDONYM | PACING_REQ_CONSENT |
                     PACING_REQ_NO_CONSENT | PACING_REQ_OPTED_OUT;
    if (rq->flags & ~known)
        return pc_fail(ctx, PACING_E_INVAL, "decide %s: unknown flags 0x%x",
                       p->name, rq->flags & ~known);
    if ((rq->flags & PACING_REQ_CONSENT) && (rq->flags & PACING_REQ_NO_CONSENT))
        return pc_fail(ctx, PACING_E_INVAL,
                       "decide %s: both CONSENT and NO_CONSENT flags", p->name);
    if (rq->now_ms < 0 || rq->now_ms > PACING_MAX_TIME_MS)
        return pc_fail(ctx, PACING_E_TIME, "decide %s: time %lld not in [0, 2^53]",
                       p->name, (long long)rq->now_ms);
    if (rq->flags & PACING_REQ_PSEUDONYM) {
        if (rq->pseudonym == 0)
            return pc_fail(ctx, PACING_E_INVAL,
                           "decide %s: PSEUDONYM flag with pseudonym 0", p->name);
    } else {
        if (!rq->user)
            return pc_fail(ctx, PACING_E_NULL, "decide %s: user is NULL", p->name);
        if (rq->user_len == 0 || rq->user_len > PACING_MAX_USER_LEN)
            return pc_fail(ctx, PACING_E_RANGE,
                           "decide %s: user id length %zu not in [1, 1024]",
                           p->name, rq->user_len);
    }
    if (rq->channel > PACING_CH_MAX)
        return pc_fail(ctx, PACING_E_RANGE, "decide %s: channel %u not in [0, 255]",
                       p->name, rq->channel);
    if (rq->utc_offset_min < -1440 || rq->utc_offset_min > 1440)
        return pc_fail(ctx, PACING_E_RANGE,
                       "decide %s: utc_offset_min %d not in [-1440, 1440]", p->name,
                       rq->utc_offset_min);
    if (rq->reserved0 != 0)
        return pc_fail(ctx, PACING_E_INVAL, "decide %s: reserved0 must be 0", p->name);
    uint64_t all = p->k == 64 ? ~0ULL : ((1ULL << p->k) - 1);
    if ((rq->ineligible & all) == all)
        return pc_fail(ctx, PACING_E_INVAL, "decide %s: every action is ineligible",
                       p->name);
    if (rq->context_len != p->d_user)
        return pc_fail(ctx, PACING_E_INVAL,
                       "decide %s: context_len %u, the point takes %u", p->name,
                       rq->context_len, p->d_user);
    if (rq->context_len && !rq->context)
        return pc_fail(ctx, PACING_E_NULL, "decide %s: context is NULL", p->name);
    for (uint32_t i = 0; i < rq->context_len; i++)
        if (!isfinite(rq->context[i]))
            return pc_fail(ctx, PACING_E_NAN, "decide %s: context[%u] is not finite",
                           p->name, i);
    return PACING_OK;
}

/* Take a free slot: the next free one from the head on, or, when every
 * slot is live, the oldest decision's (smallest time, then sequence),
 * settled early. Free slots are reused out of order, so slot order is not
 * age order: the full case scans, which only happens when full. */
static pc_pending *pending_take(pacing_ctx *ctx, pc_stripe *s, int64_t now,
                                uint32_t *reasons)
{
    uint32_t slot;
    if (s->pend_used == s->n_pend) /* free what has expired first */
        pc_settle_stripe(ctx, s, now, true, NULL);
    if (s->pend_used == s->n_pend) {
        slot = 0;
        for (uint32_t i = 1; i < s->n_pend; i++) {
            const pc_pending *a = &s->pend[i], *b = &s->pend[slot];
            if (a->t_ms < b->t_ms ||
                (a->t_ms == b->t_ms && (uint32_t)a->id < (uint32_t)b->id))
                slot = i;
        }
        settle(ctx, s, &s->pend[slot], now, true);
        s->st.settled_early++;
        *reasons |= PACING_DR_PENDING_FULL;
    } else {
        slot = s->pend_head;
        while (s->pend[slot].id != 0)
            slot = (slot + 1) % s->n_pend;
    }
    if (s->pend_used == 0)
        s->pend_tail = slot;
    s->pend_head = (slot + 1) % s->n_pend;
    s->pend_used++;
    return &s->pend[slot];
}


/* The two largest contributions to a score, as shares of it. */
static void top_inputs(const pacing_ctx *ctx, int kind, const pc_inputs *in,
                       double score, pacing_top_inputs *top)
{
    double den = ctx->weight_sum[kind];
    top->input[0] = top->input[1] = -1;
    top->share[0] = top->share[1] = 0.0;
    if (den <= 0.0 || score <= 0.0)
        return;
    for (int i = 0; i < PACING_INPUT_COUNT; i++) {
        if (!pc_input_kind_member[kind][i])
            continue;
        double share = ctx->weights[kind][i] * in->norm[i] / den / score;
        if (share <= 0.0)
            continue;
        if (top->input[0] < 0 || share > top->share[0]) {
            top->input[1] = top->input[0];
            top->share[1] = top->share[0];
            top->input[0] = i;
            top->share[0] = share;
        } else if (top->input[1] < 0 || share > top->share[1]) {
            top->input[1] = i;
            top->share[1] = share;
        }
    }
}

/* Run the safety rules of point p on every eligible showing action; vetoed
 * and delayed actions are removed from *eligible and recorded in d.
 * Returns the mask of showing actions that were checked. */
static uint64_t apply_rules(pacing_ctx *ctx, const pc_point *p,
                            pacing_rule_view *v, uint64_t *eligible,
                            pacing_decision *d, int64_t *retry)
{
    uint64_t showing = *eligible & ~p->quiet;
    *retry = INT64_MAX;
    if (ctx->n_rules == 0)
        return showing;
    /* rules whose verdict is the same for every action and that allowed
     * the first action they saw: they allow the others too (the other
     * verdicts are rare and are asked again, for their details) */
    uint64_t allowed_all = 0;
    for (uint32_t a = 0; a < p->k; a++) {
        if (!(showing & (1ULL << a)))
            continue;
        v->action = a;
        v->action_name = p->actions[a];
        int64_t act_retry = 0;
        bool vetoed = false, delayed = false;
        for (uint32_t ri = 0; ri < ctx->n_rules && !vetoed; ri++) {
            const pc_rule *r = &ctx->rules[ri];
            if ((r->point >= 0 && (uint32_t)r->point != p->id) ||
                (allowed_all >> ri & 1))
                continue;
            const pc_rule_mod *m = &ctx->rule_mods[r->mod];
            pacing_rule_result res;
            memset(&res, 0, sizeof res);
            res.size = sizeof res;
            int fail = m->check(m->opaque, r->params, v, &res);
            uint32_t verdict = fail ? PACING_VETO : res.verdict;
            if (verdict == PACING_ALLOW) {
                if (m->same_for_all_actions)
                    allowed_all |= 1ULL << ri;
                continue;
            }
            if (verdict != PACING_DELAY)
                verdict = PACING_VETO; /* anything else a rule says is a veto */
            if (verdict == PACING_VETO)
                vetoed = true;
            else {
                delayed = true;
                if (res.retry_after_ms > act_retry)
                    act_retry = res.retry_after_ms;
            }
            if (d->n_vetoes < 4) {
                pacing_veto *x = &d->vetoes[d->n_vetoes++];
                x->rule = ri;
                x->action = a;
                x->verdict = verdict;
                x->reason = fail ? 0 : res.reason;
                x->retry_after_ms = verdict == PACING_DELAY ? res.retry_after_ms : 0;
                x->detail[0] = isfinite(res.detail[0]) ? res.detail[0] : 0.0;
                x->detail[1] = isfinite(res.detail[1]) ? res.detail[1] : 0.0;
            } else {
                d->reasons |= PACING_DR_MORE_VETOES;
            }
        }
        if (vetoed || delayed) {
            *eligible &= ~(1ULL << a);
            d->reasons |= PACING_DR_VETOED;
            /* the earliest time some showing action may be allowed */
            if (!vetoed && act_retry > 0 && act_retry < *retry)
                *retry = act_retry;
        }
    }
    return showing;
}

PACING_API int pacing_decide(pacing_ctx *ctx, const pacing_request *rq,
                             pacing_decision *out)
{
    if (!ctx || !rq || !out)
        return pc_fail(ctx, PACING_E_NULL, "decide: NULL argument");
    if (out->size != sizeof(pacing_decision))
        return pc_fail(ctx, PACING_E_SIZE, "decide: decision size is %zu, expected %zu",
                       out->size, sizeof(pacing_decision));
    int rc = check_request(ctx, rq);
    if (rc != PACING_OK)
        return rc;
    pc_point *p = ctx->points[rq->point];
    int64_t now = rq->now_ms;
    bool personal = !(rq->flags & (PACING_REQ_NO_CONSENT | PACING_REQ_OPTED_OUT)) &&
                    (!(ctx->flags & PACING_OPT_REQUIRE_CONSENT) ||
                     (rq->flags & PACING_REQ_CONSENT));
    uint64_t pseudo;
    if (rq->flags & PACING_REQ_PSEUDONYM) {
        pseudo = rq->pseudonym;
    } else {
        uint64_t h = pc_siphash24(ctx->secret, rq->user, rq->user_len);
        pseudo = h ? h : 1;
    }
    pc_stripe *s = pc_stripe_of(ctx, pseudo);

    pacing_decision d;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    d.point = p->id;
    d.time_ms = now;
    d.fatigue_top.input[0] = d.fatigue_top.input[1] = -1;
    d.load_top.input[0] = d.load_top.input[1] = -1;

    double x[PC_MAX_DIM];
    double scale[PC_MAX_ACTIONS];
    bool scaled = false;
    if (p->d_user)
        memcpy(x, rq->context, sizeof(double) * p->d_user);

    pacing_rule_view view;
    memset(&view, 0, sizeof view);
    view.size = sizeof view;
    view.point = p->id;
    view.point_name = p->name;
    view.channel = rq->channel;
    view.request_flags = rq->flags;
    view.now_ms = now;
    view.utc_offset_min = rq->utc_offset_min;

    pc_lock(ctx, s);
    pc_settle_stripe(ctx, s, now, false, NULL);
    /* an existing user is read now; a new one is created only once the
     * decision stands, so a failed call leaves no trace */
    pc_user *u = NULL;
    if (personal) {
        u = pc_user_find(s, pseudo);
        if (u && pc_user_expired(ctx, u, now))
            u = NULL; /* pc_user_get below starts it over */
        if (u && now < u->last_seen_ms - ctx->reorder_window_ms) {
            int64_t last = u->last_seen_ms;
            pc_unlock(ctx, s);
            return pc_fail(ctx, PACING_E_TOO_OLD,
                           "decide %s: time %lld is more than %lld ms before the "
                           "user's latest event at %lld", p->name, (long long)now,
                           (long long)ctx->reorder_window_ms, (long long)last);
        }
        if (!u) {
            d.reasons |= PACING_DR_NO_USER;
        } else {
            pc_inputs in;
            pc_inputs_compute(ctx, u, now, &in);
            d.fatigue = pc_score_of(ctx, PACING_SCORE_FATIGUE, &in);
            d.cognitive_load = pc_score_of(ctx, PACING_SCORE_COGNITIVE_LOAD, &in);
            d.attention = pc_score_of(ctx, PACING_SCORE_ATTENTION, &in);
            d.engagement = pc_score_of(ctx, PACING_SCORE_ENGAGEMENT, &in);
            /* the model's covariates are these four scores */
            const double cov[4] = {d.fatigue, d.cognitive_load, d.attention,
                                   d.engagement};
            d.drop_off_risk = pc_hazard_risk_x(ctx, u, cov, now);
            top_inputs(ctx, PACING_SCORE_FATIGUE, &in, d.fatigue, &d.fatigue_top);
            top_inputs(ctx, PACING_SCORE_COGNITIVE_LOAD, &in, d.cognitive_load,
                       &d.load_top);
        }
        if (u && p->recovery) {
            for (uint32_t a = 0; a < p->k; a++)
                scale[a] = 1.0;
            for (int i = 0; i < RECENT_ARMS; i++) {
                uint32_t ra = u->recent_action[i];
                int64_t rt = u->recent_t[i];
                if (u->recent_point[i] == p->id + 1 && ra < p->k && rt <= now) {
                    scale[ra] =
                        1.0 - pc_decay_weight(&ctx->decay[p->rec_decay], p->rec_params,
                                      (double)(now - rt));
                    scaled = true;
                }
            }
        }
    } else {
        d.reasons |= PACING_DR_NO_USER;
    }
    if (p->flags & PACING_PT_SCORES_CONTEXT) {
        x[p->d_user] = d.fatigue;
        x[p->d_user + 1] = d.cognitive_load;
        x[p->d_user + 2] = d.drop_off_risk;
    }
    uint64_t all = p->k == 64 ? ~0ULL : ((1ULL << p->k) - 1);
    uint64_t eligible = all & ~rq->ineligible;
    if (eligible != all)
        d.reasons |= PACING_DR_INELIGIBLE;
    if (scaled)
        d.reasons |= PACING_DR_RECOVERING;

    /* safety first: vetoed actions sleep, so the policy's propensity is the
     * true probability of what it picks among the allowed ones */
    view.fatigue = d.fatigue;
    view.cognitive_load = d.cognitive_load;
    view.drop_off_risk = d.drop_off_risk;
    view.attention = d.attention;
    view.engagement = d.engagement;
    pc_rule_view_user(ctx, u, now, &view);
    int64_t retry;
    uint64_t showing = apply_rules(ctx, p, &view, &eligible, &d, &retry);
    bool all_vetoed = showing != 0 && (eligible & showing) == 0;
    if (all_vetoed && p->safe_action >= 0 && (eligible & (1ULL << p->safe_action))) {
        d.action = (uint32_t)p->safe_action;
        d.propensity = 1.0;
        d.reasons |= PACING_DR_SAFE;
        d.retry_after_ms = retry == INT64_MAX ? 0 : retry;
        d.id = 0;
        s->st.decisions++;
        s->st.safe++;
        pacing_log_entry le;
        memset(&le, 0, sizeof le);
        le.size = sizeof le;
        le.time_ms = now;
        le.pseudonym = u ? pseudo : 0;
        le.point = p->id;
        le.proposed_action = UINT32_MAX;
        le.final_action = d.action;
        le.reasons = d.reasons;
        le.propensity = 1.0;
        le.outcome = PACING_OUT_SAFE;
        le.reward_time_ms = -1;
        /* n_learned changes under the point's lock (learn() of rewards
         * in other stripes): read it under that lock, and let it go
         * before the log's (no code holds a point and the log lock) */
        pc_point_lock(ctx, p, false);
        le.policy_version = p->n_learned;
        pc_point_unlock(ctx, p);
        pc_log_append(ctx, &le);
        pc_unlock(ctx, s);
        *out = d;
        return PACING_OK;
    }
    if (eligible == 0) {
        pc_unlock(ctx, s);
        return pc_fail(ctx, PACING_E_VETOED,
                       "decide %s: safety vetoed every eligible action and no "
                       "safe action is available (%s)", p->name,
                       p->safe_action < 0 ? "the point has none"
                                          : "the request made it ineligible");
    }
    if (personal) {
        bool created;
        u = pc_user_get(ctx, s, pseudo, now, &created);
    }

    uint32_t sel_flags = 0;
    pc_rng rng;
    pc_point_lock(ctx, p, p->vt->select_writes != 0);
    select_rng(p, __atomic_fetch_add(&p->n_select, 1, __ATOMIC_RELAXED), &rng);
    uint32_t a = p->vt->select(p->state, &rng, eligible, scaled ? scale : NULL,
                               p->vt->contextual ? x : NULL, &d.propensity,
                               &sel_flags);
    __atomic_fetch_add(&p->decisions[a], 1, __ATOMIC_RELAXED);
    uint64_t version = p->n_learned;
    pc_point_unlock(ctx, p);
    d.action = a;
    if (sel_flags & PC_SEL_EXPLORED)
        d.reasons |= PACING_DR_EXPLORED;
    if (sel_flags & PC_SEL_EXPLOITED)
        d.reasons |= PACING_DR_EXPLOITED;

    if (u && !(p->quiet & (1ULL << a))) {
        /* a showing action is an exposure */
        pc_features_add_exposure_at(&u->feat, &ctx->hl, now, (uint16_t)(p->id + 1),
                                    (uint8_t)rq->channel);
        u->session_exposures++;
    }
    if (u && p->recovery) {
        /* remember when this user got this action: in its own entry if it
         * has one, else in an unused or the oldest entry */
        int slot = -1, oldest = 0;
        for (int i = 0; i < RECENT_ARMS && slot < 0; i++) {
            if (u->recent_point[i] == p->id + 1 && u->recent_action[i] == a)
                slot = i;
            else if (u->recent_point[i] == 0 ||
                     (u->recent_point[oldest] != 0 &&
                      u->recent_t[i] < u->recent_t[oldest]))
                oldest = i;
        }
        int r = slot >= 0 ? slot : oldest;
        if (slot < 0 || now > u->recent_t[r])
            u->recent_t[r] = now;
        u->recent_point[r] = (uint16_t)(p->id + 1);
        u->recent_action[r] = (uint16_t)a;
    }

    pc_pending *e = pending_take(ctx, s, now, &d.reasons);
    uint32_t slot = (uint32_t)(e - s->pend);
    if (++s->seq == 0)
        s->seq = 1;
    e->id = ((uint64_t)(s - ctx->stripes) << ID_STRIPE_SHIFT) |
            ((uint64_t)slot << ID_SLOT_SHIFT) | s->seq;
    e->pseudo = u ? pseudo : 0;
    e->t_ms = now;
    e->deadline_ms = now + p->attribution_ms;
    e->point = p->id;
    e->action = (uint16_t)a;
    e->acc = 0.0;
    e->matched = 0;
    e->policy_version = version;
    if (p->vt->contextual)
        memcpy(e->x, x, sizeof(double) * p->d);
    if (u) {
        e->next = u->pending_head;
        e->chained = 1;
        u->pending_head = slot;
    } else {
        e->next = NONE32;
        e->chained = 0;
    }
    s->st.decisions++;
    d.id = e->id;
    e->reasons = d.reasons;
    e->propensity = d.propensity;
    pc_unlock(ctx, s);
    *out = d;
    return PACING_OK;
}

/* ---- explicit rewards ---- */

PACING_API int pacing_reward(pacing_ctx *ctx, uint64_t id, double value,
                             int64_t now_ms)
{
    if (!ctx)
        return pc_fail(ctx, PACING_E_NULL, "reward: ctx is NULL");
    if (!isfinite(value))
        return pc_fail(ctx, PACING_E_NAN, "reward: value is not finite");
    if (now_ms < 0 || now_ms > PACING_MAX_TIME_MS)
        return pc_fail(ctx, PACING_E_TIME, "reward: time %lld not in [0, 2^53]",
                       (long long)now_ms);
    uint64_t si = id >> ID_STRIPE_SHIFT;
    uint32_t slot = (uint32_t)((id >> ID_SLOT_SHIFT) & ID_SLOT_MASK);
    if (id == 0 || si >= ctx->n_stripes || slot >= ctx->stripes[si].n_pend)
        return pc_fail(ctx, PACING_E_NOTFOUND, "reward: unknown decision id %llu",
                       (unsigned long long)id);
    pc_stripe *s = &ctx->stripes[si];
    pc_lock(ctx, s);
    pc_pending *e = &s->pend[slot];
    if (e->id != id) {
        s->st.rw_rejected++;
        pc_unlock(ctx, s);
        return pc_fail(ctx, PACING_E_NOTFOUND,
                       "reward: decision %llu is unknown or already settled",
                       (unsigned long long)id);
    }
    pc_point *p = ctx->points[e->point];
    if (value < p->r_lo || value > p->r_hi) {
        s->st.rw_rejected++;
        pc_unlock(ctx, s);
        return pc_fail(ctx, PACING_E_RANGE,
                       "reward: value %g not in [%g, %g] for policy %s", value,
                       p->r_lo, p->r_hi, p->vt->name);
    }
    if (now_ms < e->t_ms) {
        s->st.rw_rejected++;
        pc_unlock(ctx, s);
        return pc_fail(ctx, PACING_E_TIME,
                       "reward: time %lld is before the decision at %lld",
                       (long long)now_ms, (long long)e->t_ms);
    }
    if (now_ms >= e->deadline_ms) {
        /* too late: the window already ended */
        settle(ctx, s, e, e->deadline_ms, false);
        s->st.rw_rejected++;
        pc_unlock(ctx, s);
        return pc_fail(ctx, PACING_E_NOTFOUND,
                       "reward: decision %llu expired at %lld",
                       (unsigned long long)id, (long long)e->deadline_ms);
    }
    learn(ctx, e, value, now_ms);
    s->st.rw_explicit++;
    pc_log_settled(ctx, e, PACING_OUT_REWARDED, value, now_ms, false);
    pending_free(s, e);
    pc_settle_stripe(ctx, s, now_ms, false, NULL);
    pc_unlock(ctx, s);
    return PACING_OK;
}

PACING_API int pacing_settle(pacing_ctx *ctx, int64_t now_ms, uint64_t *n_settled)
{
    if (!ctx)
        return pc_fail(ctx, PACING_E_NULL, "settle: ctx is NULL");
    if (now_ms < 0 || now_ms > PACING_MAX_TIME_MS)
        return pc_fail(ctx, PACING_E_TIME, "settle: time %lld not in [0, 2^53]",
                       (long long)now_ms);
    uint64_t n = 0;
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        pc_stripe *s = &ctx->stripes[i];
        pc_lock(ctx, s);
        pc_settle_stripe(ctx, s, now_ms, true, &n);
        pc_unlock(ctx, s);
    }
    if (n_settled)
        *n_settled = n;
    return PACING_OK;
}

/* ---- queries ---- */

PACING_API int pacing_arm_stats_get(pacing_ctx *ctx, uint32_t point,
                                    uint32_t action, pacing_arm_stats *out)
{
    if (!ctx || !out)
        return pc_fail(ctx, PACING_E_NULL, "arm_stats_get: NULL argument");
    if (out->size != sizeof(pacing_arm_stats))
        return pc_fail(ctx, PACING_E_SIZE, "arm_stats_get: size is %zu, expected %zu",
                       out->size, sizeof(pacing_arm_stats));
    if (point >= ctx->n_points || action >= ctx->points[point]->k)
        return pc_fail(ctx, PACING_E_NOTFOUND,
                       "arm_stats_get: no point %u action %u", point, action);
    pc_point *p = ctx->points[point];
    pacing_arm_stats a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    pc_arm_info info;
    memset(&info, 0, sizeof info);
    pc_point_lock(ctx, p, false);
    p->vt->arm_info(p->state, action, &info);
    a.decisions = __atomic_load_n(&p->decisions[action], __ATOMIC_RELAXED);
    a.rewards = p->rewards[action];
    a.last_update_ms = p->last_update[action];
    pc_point_unlock(ctx, p);
    a.pulls = info.pulls;
    a.reward_sum = info.reward_sum;
    a.mean = info.mean;
    a.param_a = info.param_a;
    a.param_b = info.param_b;
    a.param_a_name = p->vt->param_a_name;
    a.param_b_name = p->vt->param_b_name;
    *out = a;
    return PACING_OK;
}

PACING_API int pacing_decision_stats_get(pacing_ctx *ctx,
                                         pacing_decision_stats *out)
{
    if (!ctx || !out)
        return pc_fail(ctx, PACING_E_NULL, "decision_stats_get: NULL argument");
    if (out->size != sizeof(pacing_decision_stats))
        return pc_fail(ctx, PACING_E_SIZE,
                       "decision_stats_get: size is %zu, expected %zu", out->size,
                       sizeof(pacing_decision_stats));
    pacing_decision_stats d;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        pc_stripe *s = &ctx->stripes[i];
        pc_lock(ctx, s);
        d.decisions += s->st.decisions;
        d.rewards_explicit += s->st.rw_explicit;
        d.rewards_implicit += s->st.rw_implicit;
        d.rewards_default += s->st.rw_default;
        d.expired_unrewarded += s->st.rw_none;
        d.settled_early += s->st.settled_early;
        d.safe_decisions += s->st.safe;
        d.pending += s->pend_used;
        d.reward_rejected += s->st.rw_rejected;
        pc_unlock(ctx, s);
    }
    *out = d;
    return PACING_OK;
}
