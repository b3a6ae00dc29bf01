/* Scores. Each score is a weighted mean of inputs normalised to [0, 1]:
 *   score = sum_i w_i x_i / sum_i w_i,
 * so it lies in [0, 1] and splits exactly into the contributions
 * w_i x_i / sum w. The inputs and their normalisations are documented in
 * docs/scores.md; keep the two in step. */
#include "internal.h"
#include "fastexp.h"

#include <math.h>
#include <string.h>

static const char *const input_names[PACING_INPUT_COUNT] = {
    "slower_reactions", "dismissals",     "recent_exposures",
    "undo_rate",        "error_rate",     "incomplete_forms",
    "reading_slowdown", "pauses",         "focus_switches",
    "misclicks",        "scroll_depth",   "dwell_ratio",
    "visibility",       "click_rate",     "hover",
    "micro_conversions", "dwell",
};

PACING_API const char *pacing_input_name(int input)
{
    if (input < 0 || input >= PACING_INPUT_COUNT)
        return NULL;
    return input_names[input];
}

#define F PACING_SCORE_FATIGUE
#define L PACING_SCORE_COGNITIVE_LOAD
#define A PACING_SCORE_ATTENTION
#define E PACING_SCORE_ENGAGEMENT

const uint8_t pc_input_kind_member[N_KIND][PACING_INPUT_COUNT] = {
    [F] = {[PACING_IN_SLOWER_REACTIONS] = 1, [PACING_IN_DISMISSALS] = 1,
           [PACING_IN_RECENT_EXPOSURES] = 1, [PACING_IN_UNDO_RATE] = 1,
           [PACING_IN_ERROR_RATE] = 1, [PACING_IN_INCOMPLETE_FORMS] = 1},
    [L] = {[PACING_IN_READING_SLOWDOWN] = 1, [PACING_IN_PAUSES] = 1,
           [PACING_IN_FOCUS_SWITCHES] = 1, [PACING_IN_MISCLICKS] = 1,
           [PACING_IN_ERROR_RATE] = 1},
    [A] = {[PACING_IN_SCROLL_DEPTH] = 1, [PACING_IN_DWELL_RATIO] = 1,
           [PACING_IN_VISIBILITY] = 1},
    [E] = {[PACING_IN_CLICK_RATE] = 1, [PACING_IN_HOVER] = 1,
           [PACING_IN_MICRO_CONVERSIONS] = 1, [PACING_IN_DWELL] = 1},
};

void pc_weights_default(double w[N_KIND][PACING_INPUT_COUNT])
{
    memset(w, 0, sizeof(double) * N_KIND * PACING_INPUT_COUNT);
    w[F][PACING_IN_SLOWER_REACTIONS] = 0.20;
    w[F][PACING_IN_DISMISSALS] = 0.30;
    w[F][PACING_IN_RECENT_EXPOSURES] = 0.25;
    w[F][PACING_IN_UNDO_RATE] = 0.05;
    w[F][PACING_IN_ERROR_RATE] = 0.10;
    w[F][PACING_IN_INCOMPLETE_FORMS] = 0.10;
    w[L][PACING_IN_READING_SLOWDOWN] = 0.35;
    w[L][PACING_IN_PAUSES] = 0.10;
    w[L][PACING_IN_FOCUS_SWITCHES] = 0.15;
    w[L][PACING_IN_MISCLICKS] = 0.20;
    w[L][PACING_IN_ERROR_RATE] = 0.20;
    w[A][PACING_IN_SCROLL_DEPTH] = 0.35;
    w[A][PACING_IN_DWELL_RATIO] = 0.35;
    w[A][PACING_IN_VISIBILITY] = 0.30;
    w[E][PACING_IN_CLICK_RATE] = 0.30;
    w[E][PACING_IN_HOVER] = 0.20;
    w[E][PACING_IN_MICRO_CONVERSIONS] = 0.30;
    w[E][PACING_IN_DWELL] = 0.20;
}

/* Normalisation constants (docs/scores.md). */
#define BASELINE_MIN_WEIGHT 3.0   /* observations before a baseline counts */
#define EXPO_SCALE 3.0            /* decay-weighted exposures */
#define UNDO_SCALE 1.0            /* per minute */
#define ERROR_SCALE 0.5
#define PAUSE_SCALE 0.5
#define FOCUS_SCALE 0.5
#define MISCLICK_SCALE 1.0
#define CLICK_SCALE 10.0
#define MICRO_SCALE 1.0
#define HOVER_SCALE_MS 2000.0
#define DWELL_SCALE_MS 30000.0
#define NEUTRAL 0.5               /* attention inputs without data */

static inline double clamp01(double x)
{
    return x > 0.0 ? (x < 1.0 ? x : 1.0) : 0.0; /* NaN -> 0 */
}
static inline double conf(double w) { return w < 1.0 ? w : 1.0; }
static inline double saturate(double x, double scale)
{
    return 1.0 - pc_exp(-x / scale);
}


void pc_inputs_compute(const pacing_ctx *ctx, const pc_user *u, int64_t now,
                       pc_inputs *in)
{
    const pc_features *f = &u->feat;
    const pc_halflives *h = &ctx->hl;
    double *raw = in->raw, *x = in->norm;
    double m = 0.0, mw = 0.0, b = 0.0, bw = 0.0;
    /* the decay factors from the user's reference time to now, computed
     * once for all the reads below (they are what each pc_features_* read
     * would compute) */
    const double as = pc_features_age(f, h->short_lambda, now);
    const double al = pc_features_age(f, h->long_lambda, now);
    memset(in, 0, sizeof *in);

    /* fatigue */
    if (pc_features_mean_af(f, MEAN_LATENCY, as, &m, &mw) &&
        pc_features_base_af(f, BASE_LATENCY, al, &b, &bw) &&
        bw >= BASELINE_MIN_WEIGHT && b > 0.0) {
        raw[PACING_IN_SLOWER_REACTIONS] = m / b - 1.0;
        x[PACING_IN_SLOWER_REACTIONS] =
            clamp01(raw[PACING_IN_SLOWER_REACTIONS]) * conf(mw);
    }
    double expo = pc_features_count_af(f, SIG_EXPOSURE, as);
    raw[PACING_IN_DISMISSALS] =
        pc_features_count_af(f, SIG_DISMISS, as) / (expo + 1.0);
    x[PACING_IN_DISMISSALS] = clamp01(raw[PACING_IN_DISMISSALS]);
    double load = 0.0;
    for (int i = 0; i < f->n_expo; i++)
        if (f->expo[i] <= now)
            load += pc_decay_weight(&ctx->decay[ctx->expo_decay],
                                    ctx->expo_decay_params,
                                    (double)(now - f->expo[i]));
    raw[PACING_IN_RECENT_EXPOSURES] = load;
    x[PACING_IN_RECENT_EXPOSURES] = saturate(load, EXPO_SCALE);
    raw[PACING_IN_UNDO_RATE] = pc_features_rate_af(f, h, SIG_UNDO, as);
    x[PACING_IN_UNDO_RATE] = saturate(raw[PACING_IN_UNDO_RATE], UNDO_SCALE);
    raw[PACING_IN_ERROR_RATE] = pc_features_rate_af(f, h, SIG_ERROR, as);
    x[PACING_IN_ERROR_RATE] = saturate(raw[PACING_IN_ERROR_RATE], ERROR_SCALE);
    raw[PACING_IN_INCOMPLETE_FORMS] =
        pc_features_count_af(f, SIG_FORM_ABANDON, as) /
        (pc_features_count_af(f, SIG_FORM_START, as) + 1.0);
    x[PACING_IN_INCOMPLETE_FORMS] = clamp01(raw[PACING_IN_INCOMPLETE_FORMS]);

    /* cognitive load */
    if (pc_features_mean_af(f, MEAN_READING, as, &m, &mw) &&
        pc_features_base_af(f, BASE_READING, al, &b, &bw) &&
        bw >= BASELINE_MIN_WEIGHT && b > 0.0) {
        raw[PACING_IN_READING_SLOWDOWN] = 1.0 - m / b;
        x[PACING_IN_READING_SLOWDOWN] =
            clamp01(2.0 * raw[PACING_IN_READING_SLOWDOWN]) * conf(mw);
    }
    raw[PACING_IN_PAUSES] = pc_features_rate_af(f, h, SIG_MEDIA_PAUSE, as);
    x[PACING_IN_PAUSES] = saturate(raw[PACING_IN_PAUSES], PAUSE_SCALE);
    raw[PACING_IN_FOCUS_SWITCHES] =
        pc_features_rate_af(f, h, SIG_TAB_HIDDEN, as);
    x[PACING_IN_FOCUS_SWITCHES] =
        saturate(raw[PACING_IN_FOCUS_SWITCHES], FOCUS_SCALE);
    raw[PACING_IN_MISCLICKS] = pc_features_rate_af(f, h, SIG_MISCLICK, as);
    x[PACING_IN_MISCLICKS] = saturate(raw[PACING_IN_MISCLICKS], MISCLICK_SCALE);

    /* attention: inputs without data sit at NEUTRAL */
    if (pc_features_mean_af(f, MEAN_SCROLL, as, &m, &mw)) {
        raw[PACING_IN_SCROLL_DEPTH] = m;
        x[PACING_IN_SCROLL_DEPTH] = conf(mw) * clamp01(m) + (1 - conf(mw)) * NEUTRAL;
    } else {
        x[PACING_IN_SCROLL_DEPTH] = NEUTRAL;
    }
    if (pc_features_mean_af(f, MEAN_DWELL, as, &m, &mw) &&
        pc_features_base_af(f, BASE_DWELL, al, &b, &bw) &&
        bw >= BASELINE_MIN_WEIGHT && b > 0.0) {
        raw[PACING_IN_DWELL_RATIO] = m / b;
        double r = clamp01(0.5 * raw[PACING_IN_DWELL_RATIO]);
        x[PACING_IN_DWELL_RATIO] = conf(mw) * r + (1 - conf(mw)) * NEUTRAL;
    } else {
        x[PACING_IN_DWELL_RATIO] = NEUTRAL;
    }
    raw[PACING_IN_VISIBILITY] = raw[PACING_IN_FOCUS_SWITCHES];
    x[PACING_IN_VISIBILITY] = 1.0 - x[PACING_IN_FOCUS_SWITCHES];

    /* engagement */
    raw[PACING_IN_CLICK_RATE] = pc_features_rate_af(f, h, SIG_CLICK, as);
    x[PACING_IN_CLICK_RATE] = saturate(raw[PACING_IN_CLICK_RATE], CLICK_SCALE);
    if (pc_features_mean_af(f, MEAN_HOVER, as, &m, &mw)) {
        raw[PACING_IN_HOVER] = m;
        x[PACING_IN_HOVER] = saturate(m, HOVER_SCALE_MS) * conf(mw);
    }
    raw[PACING_IN_MICRO_CONVERSIONS] =
        pc_features_rate_af(f, h, SIG_MICRO, as);
    x[PACING_IN_MICRO_CONVERSIONS] =
        saturate(raw[PACING_IN_MICRO_CONVERSIONS], MICRO_SCALE);
    if (pc_features_mean_af(f, MEAN_DWELL, as, &m, &mw)) {
        raw[PACING_IN_DWELL] = m;
        x[PACING_IN_DWELL] = saturate(m, DWELL_SCALE_MS) * conf(mw);
    }
}

void pc_weights_summed(pacing_ctx *ctx)
{
    for (int k = 0; k < N_KIND; k++) {
        double den = 0.0;
        for (int i = 0; i < PACING_INPUT_COUNT; i++)
            den += ctx->weights[k][i];
        ctx->weight_sum[k] = den;
    }
}

double pc_score_of(const pacing_ctx *ctx, int kind, const pc_inputs *in)
{
    double num = 0.0, den = ctx->weight_sum[kind];
    for (int i = 0; i < PACING_INPUT_COUNT; i++)
        num += ctx->weights[kind][i] * in->norm[i];
    return den > 0.0 ? clamp01(num / den) : 0.0;
}

/* ---- public reads ---- */

static int check_read(pacing_ctx *ctx, int64_t now, const char *what)
{
    if (now < 0 || now > PACING_MAX_TIME_MS)
        return pc_fail(ctx, PACING_E_TIME, "%s: time %lld not in [0, 2^53]",
                       what, (long long)now);
    return PACING_OK;
}

/* Look the user up under its stripe lock, check the time, compute inputs;
 * fills *in and optionally scores. */
static int read_user(pacing_ctx *ctx, uint64_t pseudo, int64_t now,
                     const char *what, pc_inputs *in, pacing_scores *sc)
{
    int rc = check_read(ctx, now, what);
    if (rc != PACING_OK)
        return rc;
    pc_stripe *s = pc_stripe_of(ctx, pseudo);
    pc_lock(ctx, s);
    pc_user *u = pc_user_find(s, pseudo);
    if (!u || pc_user_expired(ctx, u, now)) {
        pc_unlock(ctx, s);
        return pc_fail(ctx, PACING_E_NOTFOUND, "%s: no such user", what);
    }
    if (now < u->last_seen_ms - ctx->reorder_window_ms) {
        int64_t last = u->last_seen_ms;
        pc_unlock(ctx, s);
        return pc_fail(ctx, PACING_E_TOO_OLD,
                       "%s: time %lld is more than %lld ms before the user's "
                       "latest event at %lld",
                       what, (long long)now, (long long)ctx->reorder_window_ms,
                       (long long)last);
    }
    pc_inputs_compute(ctx, u, now, in);
    if (sc) {
        sc->last_seen_ms = u->last_seen_ms;
        uint32_t wc[N_WIN];
        pc_features_window_counts(&u->feat, now, wc);
        sc->exposures_1m = wc[WIN_MINUTE];
        sc->exposures_1h = wc[WIN_HOUR];
        sc->exposures_1d = wc[WIN_DAY];
        sc->micro_velocity =
            pc_features_rate_per_min(&u->feat, &ctx->hl, SIG_MICRO, now);
        sc->session_age_ms = (u->flags & USER_IN_SESSION) && now >= u->session_start_ms
                                 ? now - u->session_start_ms
                                 : -1;
        sc->drop_off_risk = pc_hazard_risk(ctx, u, in, now);
    }
    pc_unlock(ctx, s);
    return PACING_OK;
}

PACING_API int pacing_scores_get_pseudonym(pacing_ctx *ctx, uint64_t pseudonym,
                                           int64_t now_ms, pacing_scores *out)
{
    if (!ctx || !out)
        return pc_fail(ctx, PACING_E_NULL, "scores_get: NULL argument");
    if (out->size != sizeof(pacing_scores))
        return pc_fail(ctx, PACING_E_SIZE,
                       "scores_get: size is %zu, expected %zu", out->size,
                       sizeof(pacing_scores));
    pacing_scores sc;
    memset(&sc, 0, sizeof sc);
    sc.size = sizeof sc;
    pc_inputs in;
    int rc = read_user(ctx, pseudonym, now_ms, "scores_get", &in, &sc);
    if (rc != PACING_OK)
        return rc;
    sc.fatigue = pc_score_of(ctx, PACING_SCORE_FATIGUE, &in);
    sc.cognitive_load = pc_score_of(ctx, PACING_SCORE_COGNITIVE_LOAD, &in);
    sc.attention = pc_score_of(ctx, PACING_SCORE_ATTENTION, &in);
    sc.engagement = pc_score_of(ctx, PACING_SCORE_ENGAGEMENT, &in);
    *out = sc;
    return PACING_OK;
}

PACING_API int pacing_scores_get(pacing_ctx *ctx, const void *user,
                                 size_t user_len, int64_t now_ms,
                                 pacing_scores *out)
{
    uint64_t p = 0;
    if (!out)
        return pc_fail(ctx, PACING_E_NULL, "scores_get: out is NULL");
    int rc = pacing_pseudonym(ctx, user, user_len, &p);
    if (rc != PACING_OK)
        return rc;
    return pacing_scores_get_pseudonym(ctx, p, now_ms, out);
}

PACING_API int pacing_contributions(pacing_ctx *ctx, const void *user,
                                    size_t user_len, int64_t now_ms, int kind,
                                    pacing_contribution *out, size_t cap,
                                    size_t *n)
{
    uint64_t p = 0;
    int rc = pacing_pseudonym(ctx, user, user_len, &p);
    if (rc != PACING_OK)
        return rc;
    return pacing_contributions_pseudonym(ctx, p, now_ms, kind, out, cap, n);
}

PACING_API int pacing_contributions_pseudonym(pacing_ctx *ctx, uint64_t p,
                                              int64_t now_ms, int kind,
                                              pacing_contribution *out,
                                              size_t cap, size_t *n)
{
    if (!ctx || !n || (cap > 0 && !out))
        return pc_fail(ctx, PACING_E_NULL, "contributions: NULL argument");
    if (kind < 0 || kind >= N_KIND)
        return pc_fail(ctx, PACING_E_INVAL, "contributions: unknown score kind %d",
                       kind);
    for (size_t i = 0; i < cap; i++)
        if (out[i].size != sizeof(pacing_contribution))
            return pc_fail(ctx, PACING_E_SIZE,
                           "contributions: out[%zu].size is %zu, expected %zu",
                           i, out[i].size, sizeof(pacing_contribution));
    int rc;
    pc_inputs in;
    rc = read_user(ctx, p, now_ms, "contributions", &in, NULL);
    if (rc != PACING_OK)
        return rc;

    pacing_contribution all[PACING_INPUT_COUNT];
    size_t m = 0;
    double den = 0.0;
    for (int i = 0; i < PACING_INPUT_COUNT; i++)
        if (pc_input_kind_member[kind][i])
            den += ctx->weights[kind][i];
    for (int i = 0; i < PACING_INPUT_COUNT; i++) {
        if (!pc_input_kind_member[kind][i])
            continue;
        pacing_contribution c;
        memset(&c, 0, sizeof c);
        c.size = sizeof c;
        c.input = i;
        c.raw = in.raw[i];
        c.normalized = in.norm[i];
        c.weight = ctx->weights[kind][i];
        c.contribution = den > 0.0 ? c.weight * c.normalized / den : 0.0;
        /* insertion sort, largest contribution first, stable by input */
        size_t j = m++;
        while (j > 0 && all[j - 1].contribution < c.contribution) {
            all[j] = all[j - 1];
            j--;
        }
        all[j] = c;
    }
    for (size_t i = 0; i < m && i < cap; i++)
        out[i] = all[i];
    *n = m;
    return PACING_OK;
}

PACING_API int pacing_weight_set(pacing_ctx *ctx, int kind, int input,
                                 double weight)
{
    if (!ctx)
        return pc_fail(ctx, PACING_E_NULL, "weight_set: ctx is NULL");
    if (kind < 0 || kind >= N_KIND || input < 0 || input >= PACING_INPUT_COUNT ||
        !pc_input_kind_member[kind][input])
        return pc_fail(ctx, PACING_E_INVAL,
                       "weight_set: input %d is not part of score kind %d",
                       input, kind);
    if (!isfinite(weight))
        return pc_fail(ctx, PACING_E_NAN, "weight_set: weight is not finite");
    if (weight < 0.0 || weight > 1000.0)
        return pc_fail(ctx, PACING_E_RANGE,
                       "weight_set: weight %g not in [0, 1000]", weight);
    double others = 0.0;
    for (int i = 0; i < PACING_INPUT_COUNT; i++)
        if (i != input)
            others += ctx->weights[kind][i];
    if (others + weight <= 0.0)
        return pc_fail(ctx, PACING_E_RANGE,
                       "weight_set: the weights of a score cannot all be 0");
    ctx->weights[kind][input] = weight;
    pc_weights_summed(ctx);
    return PACING_OK;
}

PACING_API int pacing_weight_get(const pacing_ctx *ctx, int kind, int input,
                                 double *out)
{
    if (!ctx || !out)
        return pc_fail(ctx, PACING_E_NULL, "weight_get: NULL argument");
    if (kind < 0 || kind >= N_KIND || input < 0 || input >= PACING_INPUT_COUNT ||
        !pc_input_kind_member[kind][input])
        return pc_fail(ctx, PACING_E_INVAL,
                       "weight_get: input %d is not part of score kind %d",
                       input, kind);
    *out = ctx->weights[kind][input];
    return PACING_OK;
}
