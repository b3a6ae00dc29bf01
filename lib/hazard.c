/* Drop-off risk: an online discrete-time hazard model.
 *
 * Session age is cut into steps of hazard_bin_ms (the last step is open
 * ended). For step j the baseline hazard h0_j = events_j / at_risk_j is the
 * share of sessions alive at the start of step j that ended in it: the
 * Nelson-Aalen increment of the discretised data, so the baseline is exact
 * rather than fitted. Users' scores shift it on the logit scale:
 *     logit h_j(x) = logit h0_j + beta . (x - mean x),
 * with x = (fatigue, cognitive load, attention, engagement) and beta
 * learned by stochastic gradient ascent on the Bernoulli likelihood of each
 * (step, ended?) observation. The risk reported is the probability that the
 * session ends within the next hazard_horizon_ms:
 *     1 - prod over the steps in (age, age + H] of (1 - h_j(x)).
 *
 * A session opens at SESSION_START or at a user's first event (or the first
 * after SESSION_TIMEOUT_MS of silence) and closes at SESSION_END; a session
 * replaced by a new one is censored at its last event: its unfinished step
 * is not counted. */
#include "internal.h"
#include "fastexp.h"

#include <math.h>
#include <string.h>

#define SESSION_TIMEOUT_MS 1800000
#define MAX_BINS 4096
#define LEARNING_RATE 0.01
#define HMIN 1e-6

int pc_hazard_init(pacing_ctx *ctx)
{
    pc_hazard *h = &ctx->hazard;
    int64_t n = (SESSION_TIMEOUT_MS + ctx->hazard_bin_ms - 1) / ctx->hazard_bin_ms;
    if (n < 2)
        n = 2;
    if (n > MAX_BINS)
        n = MAX_BINS;
    h->n_bins = (uint32_t)n;
    h->at_risk = pc_alloc(ctx, sizeof(double) * h->n_bins);
    h->events = pc_alloc(ctx, sizeof(double) * h->n_bins);
    h->lbase = pc_alloc(ctx, sizeof(double) * h->n_bins);
    if (!h->at_risk || !h->events || !h->lbase)
        return PACING_E_NOMEM;
    pc_hazard_loaded(h);
    pthread_rwlock_init(&h->lock, NULL);
    h->ready = 1;
    return PACING_OK;
}

void pc_hazard_free(pacing_ctx *ctx)
{
    pc_hazard *h = &ctx->hazard;
    pc_free(ctx, h->at_risk, sizeof(double) * h->n_bins);
    pc_free(ctx, h->events, sizeof(double) * h->n_bins);
    pc_free(ctx, h->lbase, sizeof(double) * h->n_bins);
    h->at_risk = h->events = h->lbase = NULL;
    if (h->ready)
        pthread_rwlock_destroy(&h->lock);
    h->ready = 0;
}

/* Reads (risks, baselines) share the model's lock; updates take it alone. */
static void hz_lock(pacing_ctx *ctx, bool write)
{
    if (ctx->flags & PACING_OPT_SINGLE_THREAD)
        return;
    if (write)
        pthread_rwlock_wrlock(&ctx->hazard.lock);
    else
        pthread_rwlock_rdlock(&ctx->hazard.lock);
}
static void hz_unlock(pacing_ctx *ctx)
{
    if (!(ctx->flags & PACING_OPT_SINGLE_THREAD))
        pthread_rwlock_unlock(&ctx->hazard.lock);
}

/* Steps past the last are all counted in the last, open-ended one. */
static inline uint32_t cap(const pc_hazard *h, int64_t step)
{
    return step >= (int64_t)h->n_bins ? h->n_bins - 1 : (uint32_t)step;
}
static inline uint32_t bin_of(const pc_hazard *h, int64_t bin_ms, int64_t age)
{
    return cap(h, age / bin_ms);
}

/* Baseline hazard of step j; caller holds the lock. */
static double baseline(const pc_hazard *h, uint32_t j)
{
    if (h->at_risk[j] >= 1.0)
        return h->events[j] / h->at_risk[j];
    /* no data for this step: the pooled rate (running totals) */
    return h->total_at_risk > 0.0 ? h->total_events / h->total_at_risk : 0.0;
}

static double logit(double p)
{
    if (p < HMIN)
        p = HMIN;
    if (p > 1.0 - HMIN)
        p = 1.0 - HMIN;
    return log(p / (1.0 - p));
}

static void covariates(const pacing_ctx *ctx, const pc_inputs *in, double x[4])
{
    x[0] = pc_score_of(ctx, PACING_SCORE_FATIGUE, in);
    x[1] = pc_score_of(ctx, PACING_SCORE_COGNITIVE_LOAD, in);
    x[2] = pc_score_of(ctx, PACING_SCORE_ATTENTION, in);
    x[3] = pc_score_of(ctx, PACING_SCORE_ENGAGEMENT, in);
}

/* The logits of the per-step rates, kept with the counts they come from
 * (a risk reads several steps; each would otherwise cost a log). */
static void refresh_step(pc_hazard *h, uint32_t j)
{
    if (h->at_risk[j] >= 1.0)
        h->lbase[j] = logit(baseline(h, j));
}
static void refresh_pool(pc_hazard *h)
{
    h->lpool = logit(h->total_at_risk > 0.0 ? h->total_events / h->total_at_risk
                                            : 0.0);
}

void pc_hazard_loaded(pc_hazard *h)
{
    h->total_at_risk = h->total_events = 0.0;
    for (uint32_t i = 0; i < h->n_bins; i++) {
        h->total_at_risk += h->at_risk[i];
        h->total_events += h->events[i];
    }
    for (uint32_t i = 0; i < h->n_bins; i++)
        refresh_step(h, i);
    refresh_pool(h);
}

static inline double base_logit(const pc_hazard *h, uint32_t j)
{
    return h->at_risk[j] >= 1.0 ? h->lbase[j] : h->lpool;
}

/* The covariates' part of the log-odds, the same at every step. */
static double cov_term(const pc_hazard *h, const double x[4])
{
    double z = 0.0;
    for (int i = 0; i < 4; i++)
        z += h->beta[i] * (x[i] - h->x_mean[i]);
    return z;
}

static inline double sigmoid(double z) { return 1.0 / (1.0 + pc_exp(-z)); }

static double hazard_x(const pc_hazard *h, uint32_t j, const double x[4])
{
    return sigmoid(base_logit(h, j) + cov_term(h, x));
}

/* One observation: at risk in step j, ended (y = 1) or survived it. */
static void observe(pc_hazard *h, uint32_t j, int y, const double x[4])
{
    double p = hazard_x(h, j, x);
    h->at_risk[j] += 1.0;
    h->total_at_risk += 1.0;
    if (y) {
        h->events[j] += 1.0;
        h->total_events += 1.0;
    }
    refresh_step(h, j);
    refresh_pool(h);
    h->n_updates += 1.0;
    double rate = 1.0 / (h->n_updates < 1000.0 ? h->n_updates : 1000.0);
    for (int i = 0; i < 4; i++) {
        h->beta[i] += LEARNING_RATE * ((double)y - p) * (x[i] - h->x_mean[i]);
        h->x_mean[i] += rate * (x[i] - h->x_mean[i]);
    }
}

/* Count the steps [u->hazard_bins, upto) of the session as survived. */
static void survive(pacing_ctx *ctx, pc_user *u, int64_t upto, const double x[4])
{
    pc_hazard *h = &ctx->hazard;
    for (int64_t j = u->hazard_bins; j < upto; j++)
        observe(h, cap(h, j), 0, x);
    if (upto > (int64_t)u->hazard_bins)
        u->hazard_bins = (uint32_t)upto;
}

void pc_hazard_on_event(pacing_ctx *ctx, pc_user *u, int type, int64_t t)
{
    pc_hazard *h = &ctx->hazard;
    int64_t bin = ctx->hazard_bin_ms;
    bool open = (u->flags & USER_IN_SESSION) != 0;
    if (open && t < u->session_start_ms)
        return; /* a late event from before this session */
    bool restart = type == PACING_EV_SESSION_START ||
                   (open && t - u->last_seen_ms > SESSION_TIMEOUT_MS);
    if (!open && type == PACING_EV_SESSION_END)
        return;
    double x[4] = {0, 0, 0, 0};
    if (open) {
        /* the common case: an event inside the current step changes
         * nothing here, and costs no score computation */
        int64_t step = (t - u->session_start_ms) / bin;
        if (!restart && type != PACING_EV_SESSION_END &&
            step <= (int64_t)u->hazard_bins)
            return;
        pc_inputs in;
        pc_inputs_compute(ctx, u, t, &in);
        covariates(ctx, &in, x);
        hz_lock(ctx, true);
        if (restart) {
            /* censor at the last event: only its whole steps survived */
            int64_t last = u->last_seen_ms > u->session_start_ms
                               ? u->last_seen_ms : u->session_start_ms;
            survive(ctx, u, (last - u->session_start_ms) / bin, x);
        } else {
            int64_t k = (t - u->session_start_ms) / bin; /* the current step */
            survive(ctx, u, k, x);
            if (type == PACING_EV_SESSION_END) {
                if (k >= (int64_t)u->hazard_bins)
                    observe(h, cap(h, k), 1, x);
                u->flags &= ~USER_IN_SESSION;
            }
        }
        hz_unlock(ctx);
        if (!restart)
            return;
    }
    u->flags |= USER_IN_SESSION;
    u->session_start_ms = t;
    u->hazard_bins = 0;
    u->session_exposures = 0;
}

double pc_hazard_risk(pacing_ctx *ctx, const pc_user *u, const pc_inputs *in,
                      int64_t now)
{
    if (!(u->flags & USER_IN_SESSION) || now < u->session_start_ms)
        return 0.0;
    double x[4];
    covariates(ctx, in, x);
    return pc_hazard_risk_x(ctx, u, x, now);
}

double pc_hazard_risk_x(pacing_ctx *ctx, const pc_user *u, const double x[4],
                        int64_t now)
{
    if (!(u->flags & USER_IN_SESSION) || now < u->session_start_ms)
        return 0.0;
    pc_hazard *h = &ctx->hazard;
    int64_t bin = ctx->hazard_bin_ms;
    int64_t age = now - u->session_start_ms;
    int64_t steps = (ctx->hazard_horizon_ms + bin - 1) / bin;
    double survive_p = 1.0;
    hz_lock(ctx, false);
    double c = cov_term(h, x);
    for (int64_t i = 0; i < steps; i++) {
        survive_p *= 1.0 - sigmoid(base_logit(h, bin_of(h, bin, age + i * bin)) + c);
    }
    hz_unlock(ctx);
    double r = 1.0 - survive_p;
    return r < 0.0 ? 0.0 : (r > 1.0 ? 1.0 : r);
}

/* A user's session fields as the code above leaves them: a session starts
 * at or before the user's latest event, and the steps counted trail that
 * event by at most the silence that would have restarted the session.
 * Bounds the survival loops of a user read from a snapshot. */
bool pc_hazard_user_ok(const pacing_ctx *ctx, const pc_user *u)
{
    if (!(u->flags & USER_IN_SESSION))
        return true;
    if (u->session_start_ms < 0 || u->session_start_ms > u->last_seen_ms)
        return false;
    int64_t steps = (u->last_seen_ms - u->session_start_ms) / ctx->hazard_bin_ms;
    return steps <= (int64_t)u->hazard_bins + SESSION_TIMEOUT_MS / ctx->hazard_bin_ms + 2;
}

PACING_API int pacing_hazard_baseline(pacing_ctx *ctx, int64_t age_ms,
                                      double *hazard, double *at_risk)
{
    if (!ctx || !hazard)
        return pc_fail(ctx, PACING_E_NULL, "hazard_baseline: NULL argument");
    if (age_ms < 0 || age_ms > PACING_MAX_TIME_MS)
        return pc_fail(ctx, PACING_E_TIME, "hazard_baseline: age %lld not in [0, 2^53]",
                       (long long)age_ms);
    pc_hazard *h = &ctx->hazard;
    hz_lock(ctx, false);
    uint32_t j = bin_of(h, ctx->hazard_bin_ms, age_ms);
    *hazard = baseline(h, j);
    if (at_risk)
        *at_risk = h->at_risk[j];
    hz_unlock(ctx);
    return PACING_OK;
}
