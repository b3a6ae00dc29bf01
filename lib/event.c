/* Ingest: validation, drops (bots, consent, debounce), derived clicks, and
 * the application of each event type to a user's features. */
#include "internal.h"

#include <math.h>
#include <string.h>

enum { K_COUNT, K_VALUE };

static const struct {
    uint8_t kind;
    double lo, hi;
    const char *name;
} ev_info[PACING_EV_TYPE_MAX + 1] = {
    [PACING_EV_SESSION_START] = {K_COUNT, 0, 0, "session_start"},
    [PACING_EV_SESSION_END] = {K_COUNT, 0, 0, "session_end"},
    [PACING_EV_DWELL] = {K_VALUE, 0, 86400000.0, "dwell"},
    [PACING_EV_SCROLL_DEPTH] = {K_VALUE, 0, 1, "scroll_depth"},
    [PACING_EV_HOVER] = {K_VALUE, 0, 86400000.0, "hover"},
    [PACING_EV_READING_SPEED] = {K_VALUE, 0, 10000, "reading_speed"},
    [PACING_EV_INPUT_LATENCY] = {K_VALUE, 0, 600000, "input_latency"},
    [PACING_EV_CLICK] = {K_VALUE, 0, 600000, "click"},
    [PACING_EV_RAGE_CLICK] = {K_COUNT, 0, 0, "rage_click"},
    [PACING_EV_DEAD_CLICK] = {K_COUNT, 0, 0, "dead_click"},
    [PACING_EV_CURSOR_BACKTRACK] = {K_COUNT, 0, 0, "cursor_backtrack"},
    [PACING_EV_UNDO] = {K_COUNT, 0, 0, "undo"},
    [PACING_EV_ERROR] = {K_COUNT, 0, 0, "error"},
    [PACING_EV_FORM_START] = {K_COUNT, 0, 0, "form_start"},
    [PACING_EV_FORM_SUBMIT] = {K_COUNT, 0, 0, "form_submit"},
    [PACING_EV_FORM_ABANDON] = {K_COUNT, 0, 0, "form_abandon"},
    [PACING_EV_TAB_HIDDEN] = {K_COUNT, 0, 0, "tab_hidden"},
    [PACING_EV_TAB_VISIBLE] = {K_COUNT, 0, 0, "tab_visible"},
    [PACING_EV_MEDIA_PAUSE] = {K_COUNT, 0, 0, "media_pause"},
    [PACING_EV_MEDIA_RESUME] = {K_COUNT, 0, 0, "media_resume"},
    [PACING_EV_EXPOSURE] = {K_COUNT, 0, 0, "exposure"},
    [PACING_EV_DISMISS] = {K_COUNT, 0, 0, "dismiss"},
    [PACING_EV_MICRO_CONVERSION] = {K_COUNT, 0, 0, "micro_conversion"},
    [PACING_EV_CONVERSION] = {K_VALUE, 0, 1e12, "conversion"},
    [PACING_EV_CONSENT] = {K_VALUE, 0, 1, "consent"},
    [PACING_EV_OPT_OUT] = {K_COUNT, 0, 0, "opt_out"},
    [PACING_EV_CUSTOM] = {K_COUNT, 0, 0, "custom"},
};

PACING_API const char *pacing_event_type_name(int type)
{
    if (type < 1 || type > PACING_EV_TYPE_MAX)
        return NULL;
    return ev_info[type].name;
}

/* Static checks of one event; no state is read. */
static int check_event(const pacing_ctx *ctx, const pacing_event *ev,
                       size_t size)
{
    if (!ev)
        return pc_fail(ctx, PACING_E_NULL, "push: event is NULL");
    if (ev->size != size || size != sizeof(pacing_event))
        return pc_fail(ctx, PACING_E_SIZE, "push: event size is %zu, expected %zu",
                       ev->size, sizeof(pacing_event));
    if (ev->type < 1 || ev->type > PACING_EV_TYPE_MAX)
        return pc_fail(ctx, PACING_E_TYPE, "push: unknown event type %u",
                       ev->type);
    const char *tn = ev_info[ev->type].name;
    if (ev->flags & ~PACING_EVF_ALL)
        return pc_fail(ctx, PACING_E_INVAL, "push %s: unknown flag bits 0x%x",
                       tn, ev->flags & ~PACING_EVF_ALL);
    if ((ev->flags & PACING_EVF_CONSENT) && (ev->flags & PACING_EVF_NO_CONSENT))
        return pc_fail(ctx, PACING_E_INVAL,
                       "push %s: both CONSENT and NO_CONSENT flags", tn);
    if (ev->reserved0 != 0)
        return pc_fail(ctx, PACING_E_INVAL, "push %s: reserved0 must be 0", tn);
    if (ev->time_ms < 0 || ev->time_ms > PACING_MAX_TIME_MS)
        return pc_fail(ctx, PACING_E_TIME, "push %s: time %lld not in [0, 2^53]",
                       tn, (long long)ev->time_ms);
    if (!isfinite(ev->value))
        return pc_fail(ctx, PACING_E_NAN, "push %s: value is not finite", tn);
    if (ev_info[ev->type].kind == K_VALUE &&
        (ev->value < ev_info[ev->type].lo || ev->value > ev_info[ev->type].hi))
        return pc_fail(ctx, PACING_E_RANGE, "push %s: value %g not in [%g, %g]",
                       tn, ev->value, ev_info[ev->type].lo,
                       ev_info[ev->type].hi);
    if (ev->type == PACING_EV_CONSENT && ev->value != 0.0 && ev->value != 1.0)
        return pc_fail(ctx, PACING_E_RANGE, "push consent: value %g is neither 0 "
                       "(withdrawn) nor 1 (given)", ev->value);
    if (ev->channel > PACING_CH_MAX)
        return pc_fail(ctx, PACING_E_RANGE, "push %s: channel %u not in [0, 255]",
                       tn, ev->channel);
    if (ev->flags & PACING_EVF_PSEUDONYM) {
        if (ev->pseudonym == 0)
            return pc_fail(ctx, PACING_E_INVAL,
                           "push %s: PSEUDONYM flag with pseudonym 0", tn);
    } else {
        if (!ev->user)
            return pc_fail(ctx, PACING_E_NULL, "push %s: user is NULL", tn);
        if (ev->user_len == 0 || ev->user_len > PACING_MAX_USER_LEN)
            return pc_fail(ctx, PACING_E_RANGE,
                           "push %s: user id length %zu not in [1, 1024]", tn,
                           ev->user_len);
    }
    return PACING_OK;
}

static uint64_t pseudo_of(const pacing_ctx *ctx, const pacing_event *ev)
{
    if (ev->flags & PACING_EVF_PSEUDONYM)
        return ev->pseudonym;
    uint64_t h = pc_siphash24(ctx->secret, ev->user, ev->user_len);
    return h ? h : 1;
}

static uint64_t event_hash(const pacing_event *ev)
{
    uint64_t v;
    memcpy(&v, &ev->value, sizeof v);
    uint64_t h = ev->type * 0x9E3779B97F4A7C15ULL;
    h ^= (ev->target + 0x632BE59BD9B4E019ULL) * 0xBF58476D1CE4E5B9ULL;
    h ^= (v ^ ((uint64_t)ev->channel << 40) ^ ((uint64_t)ev->flags << 56)) *
         0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

/* Events settled before any look at the user's state: bot drops, consent
 * drops and erasures. They are never too old. */
enum { PRE_NONE, PRE_BOT, PRE_ERASE, PRE_NO_CONSENT };
static int pre_disposition(const pacing_ctx *ctx, const pacing_event *ev)
{
    if (ev->flags & PACING_EVF_BOT)
        return PRE_BOT;
    if (ev->type == PACING_EV_OPT_OUT ||
        (ev->type == PACING_EV_CONSENT && ev->value == 0.0))
        return PRE_ERASE;
    if ((ev->flags & PACING_EVF_NO_CONSENT) ||
        ((ctx->flags & PACING_OPT_REQUIRE_CONSENT) &&
         !(ev->flags & PACING_EVF_CONSENT) &&
         !(ev->type == PACING_EV_CONSENT && ev->value == 1.0)))
        return PRE_NO_CONSENT;
    return PRE_NONE;
}

static bool too_old(const pacing_ctx *ctx, const pc_user *u, int64_t t)
{
    return u && !pc_user_expired(ctx, u, t) &&
           t < u->last_seen_ms - ctx->reorder_window_ms;
}

/* Rage clicks: ctx->rage_clicks clicks on one target within a sliding
 * window of rage_window_ms. The latest clicks on the current target are
 * kept; a click on another target starts over. Returns true when this
 * click completes a run (which then starts afresh). */
static bool rage_click(const pacing_ctx *ctx, pc_user *u, uint64_t target,
                       int64_t t)
{
    uint32_t keep = ctx->rage_clicks - 1;
    if (target != u->click_target) {
        u->click_target = target;
        u->click_n = 0;
    }
    /* clicks still inside the window that ends at t */
    uint32_t in = 0;
    for (uint32_t i = 0; i < u->click_n; i++)
        if (u->click_t[i] <= t && t - u->click_t[i] <= ctx->rage_window_ms)
            in++;
    if (in + 1 >= ctx->rage_clicks) {
        u->click_n = 0;
        return true;
    }
    /* remember t, dropping the oldest when full (times kept ascending) */
    if (u->click_n == keep) {
        memmove(u->click_t, u->click_t + 1, sizeof(int64_t) * (keep - 1));
        u->click_n--;
    }
    uint32_t i = u->click_n++;
    while (i > 0 && u->click_t[i - 1] > t) {
        u->click_t[i] = u->click_t[i - 1];
        i--;
    }
    u->click_t[i] = t;
    return false;
}

/* Apply an event to user u; returns true if it completed a rage click. */
static bool apply(pacing_ctx *ctx, pc_stripe *s, pc_user *u,
                  const pacing_event *ev)
{
    const pc_halflives *h = &ctx->hl;
    pc_features *f = &u->feat;
    int64_t t = ev->time_ms;
    double v = ev->value;
    bool derived_rage = false;

    pc_hazard_on_event(ctx, u, (int)ev->type, t);

    switch (ev->type) {
    case PACING_EV_SESSION_END:
        pc_features_add_rate(f, h, t, SIG_SESSION_END, 1.0);
        break;
    case PACING_EV_DWELL:
        pc_features_add_mean(f, h, t, MEAN_DWELL, BASE_DWELL, v);
        break;
    case PACING_EV_SCROLL_DEPTH:
        pc_features_add_mean(f, h, t, MEAN_SCROLL, -1, v);
        break;
    case PACING_EV_HOVER:
        pc_features_add_mean(f, h, t, MEAN_HOVER, -1, v);
        break;
    case PACING_EV_READING_SPEED:
        pc_features_add_mean(f, h, t, MEAN_READING, BASE_READING, v);
        break;
    case PACING_EV_INPUT_LATENCY:
        pc_features_add_mean(f, h, t, MEAN_LATENCY, BASE_LATENCY, v);
        break;
    case PACING_EV_CLICK:
        pc_features_add_rate(f, h, t, SIG_CLICK, 1.0);
        if ((ev->flags & PACING_EVF_NO_RESPONSE) || v >= (double)ctx->dead_click_ms) {
            pc_features_add_rate(f, h, t, SIG_MISCLICK, 1.0);
            s->st.dead++;
        }
        if (ev->target != 0)
            derived_rage = rage_click(ctx, u, ev->target, t);
        if (derived_rage) {
            pc_features_add_rate(f, h, t, SIG_MISCLICK, 1.0);
            s->st.rage++;
        }
        break;
    case PACING_EV_RAGE_CLICK:
    case PACING_EV_DEAD_CLICK:
    case PACING_EV_CURSOR_BACKTRACK:
        pc_features_add_rate(f, h, t, SIG_MISCLICK, 1.0);
        break;
    case PACING_EV_UNDO:
        pc_features_add_rate(f, h, t, SIG_UNDO, 1.0);
        break;
    case PACING_EV_ERROR:
        pc_features_add_rate(f, h, t, SIG_ERROR, 1.0);
        if (t > u->last_error_ms)
            u->last_error_ms = t;
        break;
    case PACING_EV_FORM_START:
        pc_features_add_rate(f, h, t, SIG_FORM_START, 1.0);
        if (t >= u->last_form_end_ms)
            u->form_started_ms = t;
        break;
    case PACING_EV_FORM_SUBMIT:
        if (t >= u->form_started_ms) {
            u->form_started_ms = -1;
            u->last_form_end_ms = t;
        }
        break;
    case PACING_EV_FORM_ABANDON:
        pc_features_add_rate(f, h, t, SIG_FORM_ABANDON, 1.0);
        if (t >= u->form_started_ms) {
            u->form_started_ms = -1;
            u->last_form_end_ms = t;
        }
        break;
    case PACING_EV_TAB_HIDDEN:
        pc_features_add_rate(f, h, t, SIG_TAB_HIDDEN, 1.0);
        break;
    case PACING_EV_MEDIA_PAUSE:
        pc_features_add_rate(f, h, t, SIG_MEDIA_PAUSE, 1.0);
        break;
    case PACING_EV_EXPOSURE:
        pc_features_add_exposure_at(f, h, t, 0, (uint8_t)ev->channel);
        if (!(u->flags & USER_IN_SESSION) || t >= u->session_start_ms)
            u->session_exposures++;
        break;
    case PACING_EV_DISMISS:
        pc_features_add_rate(f, h, t, SIG_DISMISS, 1.0);
        break;
    case PACING_EV_MICRO_CONVERSION:
        pc_features_add_rate(f, h, t, SIG_MICRO, 1.0);
        break;
    case PACING_EV_CONVERSION:
        pc_features_add_rate(f, h, t, SIG_CONVERSION, 1.0);
        break;
    default: /* session start, form submit, tab visible, media resume,
                consent given, custom: they refresh last-seen only */
        break;
    }
    if (t > u->last_seen_ms)
        u->last_seen_ms = t;
    u->last_ev_ms = t;
    return derived_rage;
}

/* Everything after the static checks: drops, state checks, apply. The
 * stripe lock is held only here. */
static int push_checked(pacing_ctx *ctx, const pacing_event *ev)
{
    uint64_t pseudo = pseudo_of(ctx, ev);
    pc_stripe *s = pc_stripe_of(ctx, pseudo);
    int64_t t = ev->time_ms;
    int rc = PACING_OK;

    pc_lock(ctx, s);
    pc_settle_stripe(ctx, s, t, false, NULL);
    int pre = pre_disposition(ctx, ev);
    if (pre == PRE_BOT) {
        s->st.dropped_bot++;
        rc = PACING_DROPPED;
        goto out;
    }
    pc_user *u = pc_user_find(s, pseudo);
    if (pre == PRE_ERASE) { /* withdrawn consent or opt-out erases the user */
        pc_forget(ctx, s, pseudo);
        s->st.applied++;
        goto out;
    }
    if (pre == PRE_NO_CONSENT) {
        s->st.dropped_consent++;
        rc = PACING_DROPPED;
        goto out;
    }
    if (too_old(ctx, u, t)) {
        int64_t last = u->last_seen_ms;
        pc_unlock(ctx, s);
        atomic_fetch_add_explicit(&ctx->rejected, 1, memory_order_relaxed);
        return pc_fail(ctx, PACING_E_TOO_OLD,
                       "push %s: time %lld is more than %lld ms before the "
                       "user's latest event at %lld",
                       ev_info[ev->type].name, (long long)t,
                       (long long)ctx->reorder_window_ms, (long long)last);
    }
    uint64_t hash = event_hash(ev); /* once: debounce check and record */
    if (u && ctx->debounce_ms >= 0 && !pc_user_expired(ctx, u, t) &&
        u->last_ev_hash == hash &&
        (t >= u->last_ev_ms ? t - u->last_ev_ms : u->last_ev_ms - t) <=
            ctx->debounce_ms) {
        s->st.dropped_debounce++;
        rc = PACING_DROPPED;
        goto out;
    }
    bool created;
    u = pc_user_get(ctx, s, pseudo, t, &created);
    bool rage = apply(ctx, s, u, ev);
    u->last_ev_hash = hash;
    s->st.applied++;
    if (u->pending_head != NONE32) {
        pc_reward_on_event(ctx, s, u, ev);
        if (rage && u->pending_head != NONE32) {
            pacing_event derived = *ev;
            derived.type = PACING_EV_RAGE_CLICK;
            derived.value = 0.0;
            pc_reward_on_event(ctx, s, u, &derived);
        }
    }
out:
    pc_unlock(ctx, s);
    return rc;
}

PACING_API int pacing_push(pacing_ctx *ctx, const pacing_event *ev)
{
    if (!ctx)
        return pc_fail(ctx, PACING_E_NULL, "push: ctx is NULL");
    int rc = check_event(ctx, ev, ev ? ev->size : 0);
    if (rc != PACING_OK) {
        atomic_fetch_add_explicit(&ctx->rejected, 1, memory_order_relaxed);
        return rc;
    }
    return push_checked(ctx, ev);
}

/* Read-only check against the table: would this event be too old now? */
static int check_age(pacing_ctx *ctx, const pacing_event *ev)
{
    uint64_t pseudo = pseudo_of(ctx, ev);
    pc_stripe *s = pc_stripe_of(ctx, pseudo);
    pc_lock(ctx, s);
    pc_user *u = pc_user_find(s, pseudo);
    bool old = pre_disposition(ctx, ev) == PRE_NONE && too_old(ctx, u, ev->time_ms);
    int64_t last = u ? u->last_seen_ms : 0;
    pc_unlock(ctx, s);
    if (old)
        return pc_fail(ctx, PACING_E_TOO_OLD,
                       "push %s: time %lld is more than %lld ms before the "
                       "user's latest event at %lld",
                       ev_info[ev->type].name, (long long)ev->time_ms,
                       (long long)ctx->reorder_window_ms, (long long)last);
    return PACING_OK;
}

PACING_API int pacing_push_batch(pacing_ctx *ctx, const pacing_event *events,
                                 size_t n, size_t *n_done)
{
    if (n_done)
        *n_done = 0;
    if (!ctx)
        return pc_fail(ctx, PACING_E_NULL, "push_batch: ctx is NULL");
    if (n == 0)
        return PACING_OK;
    if (!events)
        return pc_fail(ctx, PACING_E_NULL, "push_batch: events is NULL");
    size_t stride = events[0].size;
    if (stride != sizeof(pacing_event))
        return pc_fail(ctx, PACING_E_SIZE,
                       "push_batch: events[0].size is %zu, expected %zu",
                       stride, sizeof(pacing_event));
    const char *base = (const char *)events;
    for (size_t i = 0; i < n; i++) {
        const pacing_event *ev = (const pacing_event *)(base + i * stride);
        int rc = check_event(ctx, ev, stride);
        if (rc == PACING_OK)
            rc = check_age(ctx, ev);
        if (rc != PACING_OK) {
            atomic_fetch_add_explicit(&ctx->rejected, 1, memory_order_relaxed);
            if (n_done)
                *n_done = i;
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const pacing_event *ev = (const pacing_event *)(base + i * stride);
        /* an event made too old by an earlier one of the same batch is
         * skipped and counted in events_rejected */
        (void)push_checked(ctx, ev);
    }
    if (n_done)
        *n_done = n;
    return PACING_OK;
}
