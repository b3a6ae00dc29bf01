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
#include <string.h>

typedef struct ucb_arm {
    pc_cf_stats st;
    double mean;   /* s / n, 0 when n == 0 */
    double inv_n;  /* 1 / n */
    /* kl_ucb: n negent(mean), n mean, n (1 - mean): the test
     * n d(mean, m) > bound is ka - kb ln m - kc ln(1 - m) > bound */
    double negent, ka, kb, kc;
    /* kl_ucb: the last index (a warm start; 0: none), its logarithms and
     * how many times they were carried by series since computed */
    double q, lq, l1q;
    uint32_t age;
    uint32_t pad;
} ucb_arm;

typedef struct ucb_state {
    uint32_t k;
    uint32_t untried; /* actions with n == 0 */
    double c, gamma;
    double total;  /* sum of the actions' n */
    double ltotal; /* ln total (0 while total <= 1) */
    uint64_t updates;
    uint32_t best;  /* the action with the highest mean */
    uint32_t pad;
    double second;  /* >= the highest mean of the other actions */
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

static void ucb_refresh(ucb_arm *a);

static void ucb_init(void *st, uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    ucb_state *s = st;
    s->k = k;
    s->c = p[0];
    s->gamma = p[1];
    s->untried = k;
    s->second = 0.0;
    for (uint32_t a = 0; a < k; a++)
        ucb_refresh(&s->arm[a]);
}

static void ucb_refresh(ucb_arm *a)
{
    double n = a->st.n;
    a->mean = n > 0.0 ? a->st.s / n : 0.0;
    if (a->mean > 1.0)
        a->mean = 1.0;
    a->inv_n = n > 0.0 ? 1.0 / n : 0.0;
    a->negent = pc_negent(a->mean);
    a->ka = n * a->negent;
    a->kb = n * a->mean;
    a->kc = n - a->kb;
    /* a->q stays: a good start for the next index computation */
}

/* Keep best / second after action a (PC_NONE: all) changed. */
static void ucb_best(ucb_state *s, uint32_t a)
{
    if (a == PC_NONE || (a == s->best && s->arm[a].mean < s->second)) {
        uint32_t b = 0;
        for (uint32_t i = 1; i < s->k; i++)
            if (s->arm[i].mean > s->arm[b].mean)
                b = i;
        double sec = -INFINITY;
        for (uint32_t i = 0; i < s->k; i++)
            if (i != b && s->arm[i].mean > sec)
                sec = s->arm[i].mean;
        s->best = b;
        s->second = sec;
    } else if (a != s->best) {
        double m = s->arm[a].mean;
        if (m > s->arm[s->best].mean) {
            s->second = s->arm[s->best].mean;
            s->best = a;
        } else if (m > s->second) {
            s->second = m;
        }
    }
}

static void ucb_update(void *st, uint32_t a, double r, const double *x)
{
    (void)x;
    ucb_state *s = st;
    r = pc_unit_reward(r);
    if (a >= s->k || r < 0.0)
        return;
    s->updates++;
    double old = s->total;
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
        ucb_best(s, PC_NONE);
    } else {
        if (s->arm[a].st.n <= 0.0 && s->untried)
            s->untried--;
        s->arm[a].st.n += 1.0;
        s->arm[a].st.s += r;
        s->total += 1.0;
        ucb_refresh(&s->arm[a]);
        ucb_best(s, a);
    }
    /* ln total: carried by its series while the steps are small, computed
     * afresh every 1024 updates (bounded drift) */
    if (s->total <= 1.0)
        s->ltotal = 0.0;
    else if (s->gamma == 1.0 && old >= 64.0 && (s->updates & 1023u))
        s->ltotal += pc_log1p_series(1.0 / old);
    else
        s->ltotal = pc_log(s->total);
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

/* The candidates; *anchor receives the one with the highest scaled mean
 * and *amean its scaled mean. */
static uint32_t ucb_cands(const ucb_state *s, uint64_t eligible,
                          const double *scale, uint32_t *buf,
                          const uint32_t **idx, const double **sc,
                          uint32_t *anchor, double *amean)
{
    if (pc_all_candidates(s->k, eligible, scale)) {
        *idx = pc_identity;
        *sc = NULL;
        *anchor = s->best;
        *amean = s->arm[s->best].mean;
        return s->k;
    }
    uint32_t n = pc_candidates(s->k, eligible, scale, buf, sc);
    *idx = buf;
    *anchor = buf[0];
    *amean = -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        double v = pc_scale_of(*sc, buf[j]) * s->arm[buf[j]].mean;
        if (v > *amean) {
            *amean = v;
            *anchor = buf[j];
        }
    }
    return n;
}

static uint32_t ucb1_select(void *st, pc_rng *r, uint64_t eligible,
                            const double *scale, const double *x,
                            double *propensity, uint32_t *flags)
{
    (void)x;
    const ucb_state *s = st;
    const double *sc;
    const uint32_t *idx;
    uint32_t buf[PC_MAX_ARMS], a, anchor;
    double amean;
    uint32_t n = ucb_cands(s, eligible, scale, buf, &idx, &sc, &anchor, &amean);
    if (ucb_untried(s, r, idx, n, &a, propensity, flags))
        return a;
    double cl = s->c * s->c * s->ltotal;
    pc_argmax m;
    pc_argmax_init(&m);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = idx[j];
        const ucb_arm *y = &s->arm[i];
        pc_argmax_add(&m, r, i,
                      pc_scale_of(sc, i) * (y->mean + sqrt(cl * y->inv_n)));
    }
    a = m.arm == PC_NONE ? idx[0] : m.arm;
    if (propensity)
        *propensity = 1.0 / (m.ties ? m.ties : 1);
    if (flags)
        *flags = pc_scale_of(sc, a) * s->arm[a].mean >= amean
                     ? PC_SEL_EXPLOITED
                     : PC_SEL_EXPLORED;
    return a;
}

/* param_a, param_b: the confidence interval mean -/+ the bonus, clipped
 * to the reward range [0, 1] ([0, 1] with no observation). */
static void ucb1_info(const void *st, uint32_t a, pc_arm_info *out)
{
    const ucb_state *s = st;
    const ucb_arm *x = &s->arm[a];
    out->pulls = x->st.n;
    out->reward_sum = x->st.s;
    out->mean = x->mean;
    if (x->st.n > 0.0) {
        double w = sqrt(s->c * s->c * s->ltotal * x->inv_n);
        out->param_a = x->mean + w < 1.0 ? x->mean + w : 1.0;
        out->param_b = x->mean - w > 0.0 ? x->mean - w : 0.0;
    } else {
        out->param_a = 1.0;
        out->param_b = 0.0;
    }
}

/* A snapshot's state: header as ucb_init writes it for (k, p), the
 * statistics finite and consistent, the caches exactly what ucb_refresh
 * computes; the kl_ucb warm start in range; ln total close to its value
 * (it is carried by series between exact recomputations). */
static int ucb_check(const void *st, uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    const ucb_state *s = st;
    if (k == 0 || k > PC_MAX_ARMS || s->k != k || s->c != p[0] || s->gamma != p[1] || s->best >= k ||
        s->second != s->second)
        return -1;
    double total = 0.0;
    uint32_t untried = 0;
    for (uint32_t a = 0; a < k; a++) {
        const ucb_arm *x = &s->arm[a];
        if (!pc_stats_ok(x->st.n, x->st.s, 1))
            return -1;
        total += x->st.n;
        untried += x->st.n <= 0.0;
        ucb_arm t;
        memcpy(&t, x, sizeof t);
        ucb_refresh(&t);
        if (memcmp(&t, x, sizeof t) != 0)
            return -1;
        if (!(x->q >= 0.0 && x->q <= 1.0) || x->lq != x->lq ||
            x->l1q != x->l1q || x->lq > 1e-9 || x->l1q > 1e-9)
            return -1;
    }
    if (untried != s->untried || !isfinite(s->total) ||
        fabs(total - s->total) > 1e-9 * (total + 1.0) || !isfinite(s->ltotal))
        return -1;
    double lt = s->total > 1.0 ? log(s->total) : 0.0;
    return fabs(lt - s->ltotal) <= 1e-6 ? 0 : -1;
}

const pc_policy_vt pc_policy_ucb1 = {
    "ucb1", 0, ucb1_params, sizeof ucb1_params / sizeof ucb1_params[0],
    "ucb", "lcb", ucb_size, ucb_init, ucb1_select, ucb_update, ucb1_info,
    ucb_check, 0,
};

/* ---- KL-UCB ---- */

static double klucb_bound(const ucb_state *s)
{
    double b = s->ltotal;
    if (s->c > 0.0 && b > 1.0)
        b += s->c * pc_log(b);
    return b;
}

/* The index of a tried action, with ln q and ln(1 - q). Newton from the
 * previous index (which moves little from one call to the next), the
 * logarithms carried along by their series while the steps are small
 * (recomputed every 32 calls); pc_kl_solve (safeguarded) otherwise. */
static double klucb_index(ucb_arm *x, double bound, double *lq, double *l1q)
{
    double p = x->mean, q = x->q, a = x->lq, b = x->l1q;
    double t = bound * x->inv_n;
    if (p > 0.0 && p < 1.0 && t > 0.0 && q > p && q < 1.0 && x->age < 32) {
        for (int it = 0; it < 8; it++) {
            double g = x->negent - p * a - (1.0 - p) * b - t;
            double step = -g * q * (1.0 - q) / (q - p);
            double qn = q + step, u = step / q, v = -step / (1.0 - q);
            if (!(qn > p && qn < 1.0) || fabs(u) > 0.05 || fabs(v) > 0.05)
                break;
            a += pc_log1p_series(u);
            b += pc_log1p_series(v);
            q = qn;
            /* Newton's remaining error ~ step^2 / (2 (q - p)): stop at a
             * relative precision of 1e-10 of the index's width q - p */
            double dq = q - p;
            if (fabs(step) <= 1e-15 || step * step <= 2e-10 * dq * dq) {
                x->q = q;
                x->lq = *lq = a;
                x->l1q = *l1q = b;
                x->age++;
                return q;
            }
        }
    }
    q = pc_kl_solve(p, x->negent, x->st.n, bound, 1, x->q, lq, l1q);
    x->q = q;
    x->lq = *lq;
    x->l1q = *l1q;
    x->age = 0;
    return q;
}

static uint32_t klucb_select(void *st, pc_rng *r, uint64_t eligible,
                             const double *scale, const double *x,
                             double *propensity, uint32_t *flags)
{
    (void)x;
    ucb_state *s = st;
    const double *sc;
    const uint32_t *idx;
    uint32_t buf[PC_MAX_ARMS], a, anchor;
    double amean;
    uint32_t n = ucb_cands(s, eligible, scale, buf, &idx, &sc, &anchor, &amean);
    if (ucb_untried(s, r, idx, n, &a, propensity, flags))
        return a;
    double bound = klucb_bound(s);

    /* The anchor (best scaled mean) first; any other action whose index
     * cannot reach the running maximum m is dismissed by
     * n d(mean, m) > bound without solving for its index. */
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
    if (!sc) {
        /* the same loop without a scale: thr = m */
        for (uint32_t j = 0; j < n; j++) {
            uint32_t i = idx[j];
            ucb_arm *y = &s->arm[i];
            if (i == anchor)
                continue;
            if (y->mean < m.best && m.best < 1.0 &&
                y->ka - y->kb * lm - y->kc * l1m > bound)
                continue;
            if (y->mean < m.best && m.best > 1.0)
                continue;
            double q = klucb_index(y, bound, &lq, &l1q);
            pc_argmax_add(&m, r, i, q);
            if (m.best == q) {
                lm = lq;
                l1m = l1q;
            }
        }
        n = 0; /* done */
    }
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = idx[j];
        if (i == anchor)
            continue;
        ucb_arm *y = &s->arm[i];
        double thr = m.best; /* index needed to reach the maximum */
        double si = 1.0;
        if (sc) {
            si = pc_scale_of(sc, i);
            thr /= si;
        }
        if (y->mean < thr) {
            if (thr > 1.0)
                continue; /* index <= 1 < thr */
            if (thr < 1.0) {
                if (thr != mkey) {
                    mkey = thr;
                    lm = pc_log(thr);
                    l1m = pc_log(1.0 - thr);
                }
                if (y->ka - y->kb * lm - y->kc * l1m > bound)
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

/* param_a, param_b: the upper (the index) and lower KL confidence bounds;
 * [0, 1] with no observation. */
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
    ucb_check,
    1, /* select keeps each arm's latest index as the next one's start */
};
