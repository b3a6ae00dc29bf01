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
    if (k == 0 || k > PC_MAX_ACTIONS)
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
    s->arm[a].st.n += 1.0;
    s->arm[a].st.s += r;
    uint32_t lo = s->gamma < 1.0 ? 0 : a, hi = s->gamma < 1.0 ? s->k : a + 1;
    for (uint32_t i = lo; i < hi; i++) {
        gr_arm *y = &s->arm[i];
        y->mean = y->st.n > 0.0 ? y->st.s / y->st.n : 0.0;
    }
}

static uint64_t gr_untried(const gr_state *s, uint64_t cand)
{
    uint64_t u = 0;
    for (uint64_t b = cand; b; b &= b - 1) {
        uint32_t a = pc_ctz(b);
        if (s->arm[a].st.n <= 0.0)
            u |= (uint64_t)1 << a;
    }
    return u;
}

/* The j-th (from 0) set bit of m. */
static uint32_t nth_bit(uint64_t m, uint32_t j)
{
    while (j--)
        m &= m - 1;
    return pc_ctz(m);
}

/* The greedy set: candidates whose scaled mean is maximal. */
static uint64_t gr_greedy(const gr_state *s, uint64_t cand, const double *sc,
                          double *best_out)
{
    double best = -INFINITY;
    uint64_t g = 0;
    for (uint64_t b = cand; b; b &= b - 1) {
        uint32_t a = pc_ctz(b);
        double v = pc_scale_of(sc, a) * s->arm[a].mean;
        if (v > best) {
            best = v;
            g = 0;
        }
        if (v == best)
            g |= (uint64_t)1 << a;
    }
    if (!g)
        g = cand;
    if (best_out)
        *best_out = best;
    return g;
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
    gr_state *s = st;
    const double *sc;
    uint64_t cand = pc_candidates(s->k, eligible, scale, &sc);
    uint64_t u = gr_untried(s, cand);
    if (u) {
        uint32_t n = pc_popcount(u);
        uint32_t a = nth_bit(u, pc_rng_below(r, n));
        if (propensity)
            *propensity = 1.0 / n;
        if (flags)
            *flags = PC_SEL_EXPLORED;
        return a;
    }
    uint64_t g = gr_greedy(s, cand, sc, NULL);
    double eps = eg_epsilon(s);
    uint32_t n = pc_popcount(cand), ng = pc_popcount(g), a;
    if (eps > 0.0 && pc_rng_uniform_i(r) < eps)
        a = nth_bit(cand, pc_rng_below(r, n));
    else
        a = nth_bit(g, pc_rng_below(r, ng));
    int greedy = (g >> a) & 1u;
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
    uint64_t all = pc_kmask(s->k), u = gr_untried(s, all);
    double eps = eg_epsilon(s);
    if (u)
        out->param_a = ((u >> a) & 1u) ? 1.0 / pc_popcount(u) : 0.0;
    else {
        uint64_t g = gr_greedy(s, all, NULL, NULL);
        out->param_a = (((g >> a) & 1u) ? (1.0 - eps) / pc_popcount(g) : 0.0) +
                       eps / s->k;
    }
    out->param_b = eps;
}

const pc_policy_vt pc_policy_epsilon_greedy = {
    "epsilon_greedy", 0, eg_params, sizeof eg_params / sizeof eg_params[0],
    "probability", "epsilon", gr_size, gr_init, eg_select, gr_update, eg_info,
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

/* Weights exp((v - max) / tau) of the candidates into w[]; returns their
 * sum (>= 1: the maximum has weight 1). */
static double sm_weights(const gr_state *s, uint64_t cand, const double *sc,
                         double *w, double *best_out)
{
    double best = -INFINITY;
    for (uint64_t b = cand; b; b &= b - 1) {
        uint32_t a = pc_ctz(b);
        double v = pc_scale_of(sc, a) * s->arm[a].mean;
        if (v > best)
            best = v;
    }
    double inv = 1.0 / sm_tau(s), sum = 0.0;
    for (uint64_t b = cand; b; b &= b - 1) {
        uint32_t a = pc_ctz(b);
        w[a] = exp((pc_scale_of(sc, a) * s->arm[a].mean - best) * inv);
        sum += w[a];
    }
    *best_out = best;
    return sum;
}

static uint32_t sm_select(void *st, pc_rng *r, uint64_t eligible,
                          const double *scale, const double *x,
                          double *propensity, uint32_t *flags)
{
    (void)x;
    gr_state *s = st;
    const double *sc;
    uint64_t cand = pc_candidates(s->k, eligible, scale, &sc);
    uint64_t u = gr_untried(s, cand);
    if (u) {
        uint32_t n = pc_popcount(u);
        uint32_t a = nth_bit(u, pc_rng_below(r, n));
        if (propensity)
            *propensity = 1.0 / n;
        if (flags)
            *flags = PC_SEL_EXPLORED;
        return a;
    }
    double w[PC_MAX_ACTIONS], best;
    double sum = sm_weights(s, cand, sc, w, &best);
    double t = pc_rng_uniform_i(r) * sum;
    uint32_t a = UINT32_MAX, last = UINT32_MAX;
    for (uint64_t b = cand; b; b &= b - 1) {
        uint32_t i = pc_ctz(b);
        if (w[i] > 0.0)
            last = i;
        if (t < w[i]) {
            a = i;
            break;
        }
        t -= w[i];
    }
    if (a == UINT32_MAX) /* rounding left t past the end */
        a = last;
    if (propensity)
        *propensity = w[a] / sum;
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
    uint64_t all = pc_kmask(s->k), u = gr_untried(s, all);
    if (u) {
        out->param_a = ((u >> a) & 1u) ? 1.0 / pc_popcount(u) : 0.0;
    } else {
        double w[PC_MAX_ACTIONS], best;
        double sum = sm_weights(s, all, NULL, w, &best);
        out->param_a = w[a] / sum;
    }
    out->param_b = sm_tau(s);
}

const pc_policy_vt pc_policy_softmax = {
    "softmax", 0, sm_params, sizeof sm_params / sizeof sm_params[0],
    "probability", "temperature", gr_size, gr_init, sm_select, gr_update,
    sm_info,
};
