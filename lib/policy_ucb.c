/* Index policies: UCB1 and KL-UCB, with optional discounting (D-UCB,
 * Garivier & Moulines 2011: every statistic, including the total count in
 * the logarithm, is the discounted one).
 *
 * ucb1:   index = mean + c sqrt(ln t / n)            (Auer et al. 2002 with
 *         c = sqrt(2))
 * kl_ucb: index = max { q in [mean, 1] : n d(mean, q) <= ln t + c ln ln t }
 *         (Garivier & Cappe 2011), d the Bernoulli KL divergence
 * with n the action's (discounted) count and t the (discounted) total.
 * An action never updated has an infinite index: untried candidates are
 * tried first, uniformly at random. Ties between maximal indices are broken
 * uniformly at random and the propensity is 1 / (number of tied maxima). */
#include "policy_impl.h"

#include <stddef.h>

typedef struct ucb_arm {
    pc_cf_stats st;
    double mean;   /* s / n, 0 when n == 0 */
    double negent; /* pc_negent(mean), kl_ucb */
    double q;      /* kl_ucb: last index computed (warm start), 0: none */
} ucb_arm;

typedef struct ucb_state {
    uint32_t k;
    uint32_t pad;
    double c, gamma;
    double total; /* sum of the actions' n */
    uint64_t updates;
    uint32_t untried; /* actions with n == 0 */
    uint32_t pad2;
    ucb_arm arm[];
} ucb_state;

static const pc_param_def ucb1_params[] = {
    {"c", 1.4142135623730951, 0.0, 100.0},
    {"discount", 1.0, 0.5, 1.0},
};

static const pc_param_def klucb_params[] = {
    {"c", 0.0, 0.0, 10.0},
    {"discount", 1.0, 0.5, 1.0},
};

static size_t ucb_size(uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    (void)p;
    if (k == 0 || k > PC_MAX_ARMS)
        return 0;
    return sizeof(ucb_state) + (size_t)k * sizeof(ucb_arm);
}

static void ucb_init(void *st, uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    ucb_state *s = st;
    s->k = k;
    s->c = p[0];
    s->gamma = p[1];
    s->untried = k;
}

static void ucb_refresh(ucb_arm *a)
{
    a->mean = a->st.n > 0.0 ? a->st.s / a->st.n : 0.0;
    if (a->mean > 1.0)
        a->mean = 1.0;
    a->negent = pc_negent(a->mean);
    /* a->q stays: a good start for the next index computation */
}

static void ucb_update(void *st, uint32_t a, double r, const double *x)
{
    (void)x;
    ucb_state *s = st;
    r = pc_unit_reward(r);
    if (a >= s->k || r < 0.0)
        return;
    s->updates++;
    if (s->gamma < 1.0) {
        pc_cf_discount(&s->arm[0].st, s->k, sizeof(ucb_arm), s->gamma);
        s->arm[a].st.n += 1.0;
        s->arm[a].st.s += r;
        s->total = 0.0;
        s->untried = 0;
        for (uint32_t i = 0; i < s->k; i++) {
            s->total += s->arm[i].st.n;
            s->untried += s->arm[i].st.n <= 0.0;
            ucb_refresh(&s->arm[i]);
        }
    } else {
        if (s->arm[a].st.n <= 0.0 && s->untried)
            s->untried--;
        s->arm[a].st.n += 1.0;
        s->arm[a].st.s += r;
        s->total += 1.0;
        ucb_refresh(&s->arm[a]);
    }
}

/* Untried candidates: if there are any, pick one uniformly. Returns 1 if
 * it did. */
static int ucb_untried(const ucb_state *s, pc_rng *r, const uint32_t *idx,
                       uint32_t n, uint32_t *arm, double *propensity,
                       uint32_t *flags)
{
    if (!s->untried)
        return 0;
    uint32_t u[PC_MAX_ARMS], nu = 0;
    for (uint32_t j = 0; j < n; j++)
        if (s->arm[idx[j]].st.n <= 0.0)
            u[nu++] = idx[j];
    if (!nu)
        return 0;
    *arm = u[pc_rng_below(r, nu)];
    if (propensity)
        *propensity = 1.0 / nu;
    if (flags)
        *flags = PC_SEL_EXPLORED; /* no estimate yet */
    return 1;
}

/* Flags of a choice among tried candidates: exploited iff its scaled
 * empirical mean is the highest. */
static uint32_t ucb_flags(const ucb_state *s, const uint32_t *idx,
                          uint32_t n, const double *sc, uint32_t a)
{
    double best = -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        double v = pc_scale_of(sc, idx[j]) * s->arm[idx[j]].mean;
        if (v > best)
            best = v;
    }
    return pc_scale_of(sc, a) * s->arm[a].mean >= best ? PC_SEL_EXPLOITED
                                                        : PC_SEL_EXPLORED;
}

static double ucb1_bonus(const ucb_state *s, double lt, const ucb_arm *x)
{
    return s->c * sqrt(lt / x->st.n);
}

static double log_total(const ucb_state *s)
{
    return s->total > 1.0 ? log(s->total) : 0.0;
}

static uint32_t ucb1_select(void *st, pc_rng *r, uint64_t eligible,
                            const double *scale, const double *x,
                            double *propensity, uint32_t *flags)
{
    (void)x;
    ucb_state *s = st;
    const double *sc;
    uint32_t idx[PC_MAX_ARMS], a;
    uint32_t n = pc_candidates(s->k, eligible, scale, idx, &sc);
    if (ucb_untried(s, r, idx, n, &a, propensity, flags))
        return a;
    double lt = log_total(s);
    pc_argmax m;
    pc_argmax_init(&m);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = idx[j];
        const ucb_arm *y = &s->arm[i];
        pc_argmax_add(&m, r, i,
                      pc_scale_of(sc, i) * (y->mean + ucb1_bonus(s, lt, y)));
    }
    a = m.arm == PC_NONE ? idx[0] : m.arm;
    if (propensity)
        *propensity = 1.0 / (m.ties ? m.ties : 1);
    if (flags)
        *flags = ucb_flags(s, idx, n, sc, a);
    return a;
}

static void ucb1_info(const void *st, uint32_t a, pc_arm_info *out)
{
    const ucb_state *s = st;
    const ucb_arm *x = &s->arm[a];
    out->pulls = x->st.n;
    out->reward_sum = x->st.s;
    out->mean = x->mean;
    if (x->st.n > 0.0) {
        double w = ucb1_bonus(s, log_total(s), x);
        out->param_a = x->mean + w < 1.0 ? x->mean + w : 1.0;
        out->param_b = x->mean - w > 0.0 ? x->mean - w : 0.0;
    } else {
        out->param_a = 1.0;
        out->param_b = 0.0;
    }
}

const pc_policy_vt pc_policy_ucb1 = {
    "ucb1", 0, ucb1_params, sizeof ucb1_params / sizeof ucb1_params[0],
    "ucb", "lcb", ucb_size, ucb_init, ucb1_select, ucb_update, ucb1_info,
};

/* ---- KL-UCB ---- */

static double klucb_bound(const ucb_state *s)
{
    double lt = log_total(s);
    double b = lt;
    if (s->c > 0.0 && lt > 1.0)
        b += s->c * log(lt);
    return b;
}

/* The index of a tried action, warm-started from its previous value;
 * *lq, *l1q receive ln q and ln(1 - q). */
static double klucb_index(ucb_arm *x, double bound, double *lq, double *l1q)
{
    double q = pc_kl_solve(x->mean, x->negent, x->st.n, bound, 1, x->q, lq,
                           l1q);
    x->q = q;
    return q;
}

static uint32_t klucb_select(void *st, pc_rng *r, uint64_t eligible,
                             const double *scale, const double *x,
                             double *propensity, uint32_t *flags)
{
    (void)x;
    ucb_state *s = st;
    const double *sc;
    uint32_t idx[PC_MAX_ARMS], a;
    uint32_t n = pc_candidates(s->k, eligible, scale, idx, &sc);
    if (ucb_untried(s, r, idx, n, &a, propensity, flags))
        return a;
    double bound = klucb_bound(s);

    /* Anchor: the best scaled mean; its index is computed first, and an
     * action whose index cannot reach the running maximum m is dismissed
     * by n d(mean, m) > bound without solving for its index. */
    uint32_t anchor = idx[0];
    double amean = -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        double v = pc_scale_of(sc, idx[j]) * s->arm[idx[j]].mean;
        if (v > amean) {
            amean = v;
            anchor = idx[j];
        }
    }
    pc_argmax m;
    pc_argmax_init(&m);
    /* ln m and ln(1 - m) for the threshold m = mkey */
    double mkey = -1.0, lm = 0.0, l1m = 0.0, lq, l1q;
    double sa = pc_scale_of(sc, anchor);
    double qa = klucb_index(&s->arm[anchor], bound, &lq, &l1q);
    pc_argmax_add(&m, r, anchor, sa * qa);
    if (sa == 1.0) {
        mkey = qa;
        lm = lq;
        l1m = l1q;
    }
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = idx[j];
        if (i == anchor)
            continue;
        ucb_arm *y = &s->arm[i];
        double si = pc_scale_of(sc, i);
        double thr = m.best / si; /* index needed to reach the maximum */
        if (y->mean < thr) {
            if (thr > 1.0)
                continue; /* index <= 1 < thr */
            if (thr < 1.0) {
                if (thr != mkey) {
                    mkey = thr;
                    lm = log(thr);
                    l1m = log(1.0 - thr);
                }
                double d = y->negent - y->mean * lm - (1.0 - y->mean) * l1m;
                if (y->st.n * d > bound)
                    continue; /* index < thr */
            }
        }
        double q = klucb_index(y, bound, &lq, &l1q);
        pc_argmax_add(&m, r, i, si * q);
        if (si == 1.0 && m.best == q) {
            mkey = q;
            lm = lq;
            l1m = l1q;
        }
    }
    a = m.arm == PC_NONE ? anchor : m.arm;
    if (propensity)
        *propensity = 1.0 / (m.ties ? m.ties : 1);
    if (flags)
        *flags = pc_scale_of(sc, a) * s->arm[a].mean >= amean
                     ? PC_SEL_EXPLOITED
                     : PC_SEL_EXPLORED;
    return a;
}

static void klucb_info(const void *st, uint32_t a, pc_arm_info *out)
{
    const ucb_state *s = st;
    const ucb_arm *x = &s->arm[a];
    out->pulls = x->st.n;
    out->reward_sum = x->st.s;
    out->mean = x->mean;
    if (x->st.n > 0.0) {
        double bound = klucb_bound(s);
        out->param_a =
            pc_kl_solve(x->mean, x->negent, x->st.n, bound, 1, -1.0, NULL, NULL);
        out->param_b =
            pc_kl_solve(x->mean, x->negent, x->st.n, bound, 0, -1.0, NULL, NULL);
    } else {
        out->param_a = 1.0;
        out->param_b = 0.0;
    }
}

const pc_policy_vt pc_policy_kl_ucb = {
    "kl_ucb", 0, klucb_params, sizeof klucb_params / sizeof klucb_params[0],
    "ucb", "lcb", ucb_size, ucb_init, klucb_select, ucb_update, klucb_info,
};
