/* Value-estimate policies with exact propensities: epsilon-greedy and
 * softmax (Boltzmann) exploration, with optional discounting.
 *
 * Both estimate an action's value by its (discounted) empirical mean,
 * multiplied by its scale. An action never updated is tried first: while
 * some candidates are untried, the choice is uniform among them
 * (propensity 1 / their number, flagged explored). */
#include "policy_impl.h"

#include <stddef.h>

typedef struct gr_arm {
    pc_cf_stats st;
    double mean;
} gr_arm;

typedef struct gr_state {
    uint32_t k;
    uint32_t pad;
    double p0, p1, gamma; /* epsilon/temperature, decay, discount */
    uint64_t updates;
    uint32_t untried; /* actions with n == 0 */
    uint32_t pad2;
    gr_arm arm[];
} gr_state;

static const pc_param_def eg_params[] = {
    {"epsilon", 0.1, 0.0, 1.0},
    {"epsilon_decay", 0.0, 0.0, 1e9},
    {"discount", 1.0, 0.5, 1.0},
};

static const pc_param_def sm_params[] = {
    {"temperature", 0.1, 1e-4, 1e3},
    {"temperature_decay", 0.0, 0.0, 1e9},
    {"discount", 1.0, 0.5, 1.0},
};

static size_t gr_size(uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    (void)p;
    if (k == 0 || k > PC_MAX_ARMS)
        return 0;
    return sizeof(gr_state) + (size_t)k * sizeof(gr_arm);
}

static void gr_init(void *st, uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    gr_state *s = st;
    s->k = k;
    s->p0 = p[0];
    s->p1 = p[1];
    s->gamma = p[2];
    s->untried = k;
}

static void gr_update(void *st, uint32_t a, double r, const double *x)
{
    (void)x;
    gr_state *s = st;
    r = pc_unit_reward(r);
    if (a >= s->k || r < 0.0)
        return;
    s->updates++;
    if (s->gamma < 1.0)
        pc_cf_discount(&s->arm[0].st, s->k, sizeof(gr_arm), s->gamma);
    if (s->arm[a].st.n <= 0.0 && s->untried)
        s->untried--;
    s->arm[a].st.n += 1.0;
    s->arm[a].st.s += r;
    if (s->gamma < 1.0) {
        s->untried = 0;
        for (uint32_t i = 0; i < s->k; i++)
            s->untried += s->arm[i].st.n <= 0.0;
    }
    uint32_t lo = s->gamma < 1.0 ? 0 : a, hi = s->gamma < 1.0 ? s->k : a + 1;
    for (uint32_t i = lo; i < hi; i++) {
        gr_arm *y = &s->arm[i];
        y->mean = y->st.n > 0.0 ? y->st.s / y->st.n : 0.0;
    }
}

/* Candidates never updated, into u[]; returns how many. */
static uint32_t gr_untried(const gr_state *s, const uint32_t *idx, uint32_t n,
                           uint32_t *u)
{
    uint32_t nu = 0;
    if (!s->untried)
        return 0;
    for (uint32_t j = 0; j < n; j++)
        if (s->arm[idx[j]].st.n <= 0.0)
            u[nu++] = idx[j];
    return nu;
}

/* The greedy set: candidates whose scaled mean is maximal, into g[];
 * returns how many. */
static uint32_t gr_greedy(const gr_state *s, const uint32_t *idx, uint32_t n,
                          const double *sc, uint32_t *g, double *best_out)
{
    double best = -INFINITY;
    uint32_t ng = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t a = idx[j];
        double v = pc_scale_of(sc, a) * s->arm[a].mean;
        if (v > best) {
            best = v;
            ng = 0;
        }
        if (v == best)
            g[ng++] = a;
    }
    if (!ng) { /* NaN means: cannot happen, be safe */
        for (uint32_t j = 0; j < n; j++)
            g[j] = idx[j];
        ng = n;
    }
    if (best_out)
        *best_out = best;
    return ng;
}

static uint32_t gr_all(const gr_state *s, uint32_t *idx)
{
    for (uint32_t a = 0; a < s->k; a++)
        idx[a] = a;
    return s->k;
}

/* While some candidates are untried: one of them, uniformly. */
static int gr_pick_untried(const gr_state *s, pc_rng *r, const uint32_t *idx,
                           uint32_t n, uint32_t *arm, double *propensity,
                           uint32_t *flags)
{
    uint32_t u[PC_MAX_ARMS];
    uint32_t nu = gr_untried(s, idx, n, u);
    if (!nu)
        return 0;
    *arm = u[pc_rng_below(r, nu)];
    if (propensity)
        *propensity = 1.0 / nu;
    if (flags)
        *flags = PC_SEL_EXPLORED;
    return 1;
}

/* param_a with untried actions: 1 / their number for them, else 0. */
static int gr_untried_info(const gr_state *s, uint32_t a, double *pa)
{
    uint32_t all[PC_MAX_ARMS], u[PC_MAX_ARMS];
    uint32_t nu = gr_untried(s, all, gr_all(s, all), u);
    if (!nu)
        return 0;
    *pa = s->arm[a].st.n <= 0.0 ? 1.0 / nu : 0.0;
    return 1;
}

static void gr_info_common(const gr_state *s, uint32_t a, pc_arm_info *out)
{
    const gr_arm *x = &s->arm[a];
    out->pulls = x->st.n;
    out->reward_sum = x->st.s;
    out->mean = x->mean;
}

/* ---- epsilon-greedy ----
 * epsilon_t = epsilon                                  (epsilon_decay = 0)
 * epsilon_t = epsilon * min(1, epsilon_decay / t)      (epsilon_decay > 0)
 * with t the number of updates so far. With probability epsilon_t the
 * choice is uniform over the n candidates, otherwise uniform over the g
 * greedy ones (ties of the highest scaled mean), so
 * P(a) = (1 - epsilon_t) [a greedy] / g + epsilon_t / n exactly. */

static double eg_epsilon(const gr_state *s)
{
    double e = s->p0;
    if (s->p1 > 0.0 && (double)s->updates > s->p1)
        e *= s->p1 / (double)s->updates;
    return e;
}

static uint32_t eg_select(void *st, pc_rng *r, uint64_t eligible,
                          const double *scale, const double *x,
                          double *propensity, uint32_t *flags)
{
    (void)x;
    const gr_state *s = st;
    const double *sc;
    uint32_t idx[PC_MAX_ARMS], g[PC_MAX_ARMS], a;
    uint32_t n = pc_candidates(s->k, eligible, scale, idx, &sc);
    if (gr_pick_untried(s, r, idx, n, &a, propensity, flags))
        return a;
    uint32_t ng = gr_greedy(s, idx, n, sc, g, NULL);
    double eps = eg_epsilon(s);
    if (eps > 0.0 && pc_rng_uniform_i(r) < eps)
        a = idx[pc_rng_below(r, n)];
    else
        a = g[pc_rng_below(r, ng)];
    int greedy = 0;
    for (uint32_t j = 0; j < ng; j++)
        greedy |= g[j] == a;
    if (propensity)
        *propensity = (greedy ? (1.0 - eps) / ng : 0.0) + eps / n;
    if (flags)
        *flags = greedy ? PC_SEL_EXPLOITED : PC_SEL_EXPLORED;
    return a;
}

/* param_a: the probability of choosing the action now with every action
 * eligible and no scale; param_b: epsilon_t. */
static void eg_info(const void *st, uint32_t a, pc_arm_info *out)
{
    const gr_state *s = st;
    gr_info_common(s, a, out);
    double eps = eg_epsilon(s);
    if (!gr_untried_info(s, a, &out->param_a)) {
        uint32_t all[PC_MAX_ARMS], g[PC_MAX_ARMS];
        uint32_t ng = gr_greedy(s, all, gr_all(s, all), NULL, g, NULL);
        int greedy = 0;
        for (uint32_t j = 0; j < ng; j++)
            greedy |= g[j] == a;
        out->param_a = (greedy ? (1.0 - eps) / ng : 0.0) + eps / s->k;
    }
    out->param_b = eps;
}

/* A snapshot's state: header as gr_init writes it for (k, p), the
 * statistics finite and consistent, the means exactly s / n. */
static int gr_check(const void *st, uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    const gr_state *s = st;
    if (k == 0 || k > PC_MAX_ARMS || s->k != k || s->p0 != p[0] || s->p1 != p[1] || s->gamma != p[2])
        return -1;
    uint32_t untried = 0;
    for (uint32_t a = 0; a < k; a++) {
        const gr_arm *x = &s->arm[a];
        if (!pc_stats_ok(x->st.n, x->st.s, 1))
            return -1;
        untried += x->st.n <= 0.0;
        double m = x->st.n > 0.0 ? x->st.s / x->st.n : 0.0;
        if (m != x->mean)
            return -1;
    }
    return untried == s->untried ? 0 : -1;
}

const pc_policy_vt pc_policy_epsilon_greedy = {
    "epsilon_greedy", 0, eg_params, sizeof eg_params / sizeof eg_params[0],
    "probability", "epsilon", gr_size, gr_init, eg_select, gr_update, eg_info,
    gr_check, 0,
};

/* ---- softmax ----
 * P(a) = exp(v_a / tau_t) / sum_b exp(v_b / tau_t) over the candidates,
 * v the scaled means, with
 * tau_t = temperature                                  (decay = 0)
 * tau_t = temperature / (1 + ln(1 + t / temperature_decay))  (decay > 0)
 * The propensity is that probability (exact up to rounding). */

static double sm_tau(const gr_state *s)
{
    double tau = s->p0;
    if (s->p1 > 0.0)
        tau /= 1.0 + log1p((double)s->updates / s->p1);
    return tau;
}

/* Weights exp((v - max) / tau) of the candidates into w[] (by position);
 * returns their sum (>= 1: the maximum has weight 1). */
static double sm_weights(const gr_state *s, const uint32_t *idx, uint32_t n,
                         const double *sc, double *w, double *best_out)
{
    double best = -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        double v = pc_scale_of(sc, idx[j]) * s->arm[idx[j]].mean;
        if (v > best)
            best = v;
    }
    double inv = 1.0 / sm_tau(s), sum = 0.0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t a = idx[j];
        w[j] = exp((pc_scale_of(sc, a) * s->arm[a].mean - best) * inv);
        sum += w[j];
    }
    *best_out = best;
    return sum;
}

static uint32_t sm_select(void *st, pc_rng *r, uint64_t eligible,
                          const double *scale, const double *x,
                          double *propensity, uint32_t *flags)
{
    (void)x;
    const gr_state *s = st;
    const double *sc;
    uint32_t idx[PC_MAX_ARMS], a;
    uint32_t n = pc_candidates(s->k, eligible, scale, idx, &sc);
    if (gr_pick_untried(s, r, idx, n, &a, propensity, flags))
        return a;
    double w[PC_MAX_ARMS], best;
    double sum = sm_weights(s, idx, n, sc, w, &best);
    double t = pc_rng_uniform_i(r) * sum;
    uint32_t j = 0, last = 0;
    for (; j < n; j++) {
        if (w[j] > 0.0)
            last = j;
        if (t < w[j])
            break;
        t -= w[j];
    }
    if (j == n) /* rounding left t past the end */
        j = last;
    a = idx[j];
    if (propensity)
        *propensity = w[j] / sum;
    if (flags)
        *flags = pc_scale_of(sc, a) * s->arm[a].mean >= best
                     ? PC_SEL_EXPLOITED
                     : PC_SEL_EXPLORED;
    return a;
}

/* param_a: the probability of choosing the action now with every action
 * eligible and no scale; param_b: tau_t. */
static void sm_info(const void *st, uint32_t a, pc_arm_info *out)
{
    const gr_state *s = st;
    gr_info_common(s, a, out);
    if (!gr_untried_info(s, a, &out->param_a)) {
        uint32_t all[PC_MAX_ARMS];
        double w[PC_MAX_ARMS], best;
        uint32_t n = gr_all(s, all);
        double sum = sm_weights(s, all, n, NULL, w, &best);
        out->param_a = w[a] / sum;
    }
    out->param_b = sm_tau(s);
}

const pc_policy_vt pc_policy_softmax = {
    "softmax", 0, sm_params, sizeof sm_params / sizeof sm_params[0],
    "probability", "temperature", gr_size, gr_init, sm_select, gr_update,
    sm_info, gr_check, 0,
};
