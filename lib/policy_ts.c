/* Thompson sampling: Beta-Bernoulli ("thompson") and Gaussian with known
 * noise variance ("gaussian_thompson"), both with optional discounting.
 *
 * Beta sampler. A draw of Beta(alpha, beta) is made one of two ways:
 *   - exactly, as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta)
 *     (Marsaglia-Tsang), while alpha + beta < PC_TS_EXACT_BELOW or either
 *     parameter is below 1 (the first observations of an action);
 *   - otherwise by the signed-root (likelihood-ratio) normal approximation:
 *     with N = alpha + beta - 1 and p = (alpha - 1/2) / N, the draw is the
 *     theta with sign(theta - p) sqrt(2 N d(p, theta)) = Z, Z ~ N(0, 1),
 *     d the Bernoulli KL divergence. Its tails decay as exp(-N d(p, q)),
 *     the large-deviation rate of the exact posterior, which is what
 *     Thompson sampling's regret depends on (a plain normal approximation
 *     gets the upper tail of a skewed posterior far too thin and would
 *     under-explore). Measured: the upper tail of a low-mean posterior
 *     within -12%..0% of the exact one down to 1e-5, the short tail
 *     heavier than exact (more exploration, never less); see
 *     docs/quality.md.
 * The approximation also makes a step cheap; see ts_draw. */
#include "policy_impl.h"

#include <stddef.h>
#include <string.h>

#define PC_TS_EXACT_BELOW 16.0
#define PC_INV_2LN2 0.72134752044448170 /* 1 / (2 ln 2) */

enum { SAMPLER_APPROX = 0, SAMPLER_MT = 1, SAMPLER_GENERAL = 2 };

typedef struct ts_arm {
    pc_cf_stats st;      /* must be first (pc_cf_discount) */
    double alpha, beta;  /* posterior */
    double mean;         /* alpha / (alpha + beta) */
    /* signed-root approximation: p, N, ln p, ln(1 - p), negent(p) */
    double p, N, lp, l1p, negent;
    /* Z^2 / (2 ln 2) needed to reach m is kc0 - kc1 ln m - kc2 ln(1 - m)
     * (= N d(p, m) / ln 2) */
    double kc0, kc1, kc2;
    /* the inverse near p: theta - p = w (s1 + w (s2 + w s3)) + O(w^4),
     * w = Z / sqrt(N) = Z isn */
    double isn, s1, s2, s3;
    double da, ca, db, cb; /* Marsaglia-Tsang constants */
    int32_t sampler;
    /* k of the bit test against any maximum >= the state's m_ref
     * (floor(N d(p, m_ref) / ln 2) + 1, at most 54); 0: no shortcut */
    int32_t kref;
} ts_arm; /* no padding: snapshots compare it bytewise */

typedef struct ts_state {
    uint32_t k;
    uint32_t draws;      /* propensity_draws */
    double prior_a, prior_b, gamma;
    uint64_t updates;
    uint32_t best;       /* the action with the highest posterior mean */
    double second;       /* >= the highest mean of the other actions */
    int ref;             /* m_ref is set */
    /* a reference maximum: about 5 posterior standard deviations below
     * the centre of action ref_arm (the best), with its logarithms, and
     * the Z of ref_arm's signed-root sampler for which theta = m_ref */
    double m_ref, lm_ref, l1m_ref, z_ref;
    uint32_t ref_arm;
    uint32_t pad;
    ts_arm arm[];
} ts_state;

static const pc_param_def ts_params[] = {
    {"prior_alpha", 1.0, 1e-3, 1e6},
    {"prior_beta", 1.0, 1e-3, 1e6},
    {"discount", 1.0, 0.5, 1.0},
    {"propensity_draws", 16.0, 0.0, 1024.0},
};

static size_t ts_size(uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    (void)p;
    if (k == 0 || k > PC_MAX_ARMS)
        return 0;
    return sizeof(ts_state) + (size_t)k * sizeof(ts_arm);
}

static void ts_refresh(const ts_state *s, ts_arm *a)
{
    double f = a->st.n - a->st.s;
    a->alpha = s->prior_a + a->st.s;
    a->beta = s->prior_b + (f > 0.0 ? f : 0.0);
    a->mean = a->alpha / (a->alpha + a->beta);
    if (a->alpha >= 1.0 && a->beta >= 1.0) {
        if (a->alpha + a->beta >= PC_TS_EXACT_BELOW) {
            a->sampler = SAMPLER_APPROX;
            double N = a->alpha + a->beta - 1.0;
            double p = (a->alpha - 0.5) / N;
            a->N = N;
            a->p = p;
            a->lp = pc_log(p);
            a->l1p = pc_log(1.0 - p);
            a->negent = p * a->lp + (1.0 - p) * a->l1p;
            double c = N / 0.69314718055994531;
            a->kc0 = c * a->negent;
            a->kc1 = c * p;
            a->kc2 = c * (1.0 - p);
            a->isn = 1.0 / sqrt(N);
            double v = p * (1.0 - p), sv = sqrt(v);
            a->s1 = sv;
            a->s2 = (1.0 - 2.0 * p) / 3.0;
            a->s3 = (1.0 - 13.0 * v) / (36.0 * sv);
        } else {
            a->sampler = SAMPLER_MT;
            a->da = a->alpha - 1.0 / 3.0;
            a->ca = 1.0 / sqrt(9.0 * a->da);
            a->db = a->beta - 1.0 / 3.0;
            a->cb = 1.0 / sqrt(9.0 * a->db);
        }
    } else {
        a->sampler = SAMPLER_GENERAL;
    }
}

static void ts_kref(const ts_state *s, ts_arm *a)
{
    a->kref = 0;
    if (!s->ref || a->sampler != SAMPLER_APPROX || !(s->m_ref > a->p))
        return;
    double kd = a->kc0 - a->kc1 * s->lm_ref - a->kc2 * s->l1m_ref;
    a->kref = kd >= 53.0 ? 54 : (kd > 0.0 ? (int)kd + 1 : 1);
}

/* The Z of ref_arm's sampler whose theta is m_ref (< its centre). */
static double ts_zref(const ts_state *s)
{
    const ts_arm *b = &s->arm[s->ref_arm];
    double dd = b->negent - b->p * s->lm_ref - (1.0 - b->p) * s->l1m_ref;
    return -sqrt(2.0 * b->N * (dd > 0.0 ? dd : 0.0));
}

/* Keep `best` and the reference maximum current after the statistics of
 * action a (or of all actions, a == PC_NONE) changed. */
static void ts_maintain(ts_state *s, uint32_t a)
{
    uint32_t old = s->best;
    if (a == PC_NONE ||
        (a == s->best && s->arm[a].mean < s->second)) {
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
    const ts_arm *b = &s->arm[s->best];
    int all = a == PC_NONE || s->best != old;
    if (b->sampler == SAMPLER_APPROX) {
        double sd = b->s1 * b->isn; /* sqrt(p (1 - p) / N) */
        double lo = b->p - 8.0 * sd, hi = b->p - 3.0 * sd;
        if (!s->ref || all || s->m_ref < lo || s->m_ref > hi) {
            double m = b->p - 5.0 * sd;
            if (m > 0.0) {
                s->ref = 1;
                s->m_ref = m;
                s->lm_ref = pc_log(m);
                s->l1m_ref = pc_log(1.0 - m);
                s->ref_arm = s->best;
            } else {
                s->ref = 0;
            }
            all = 1;
        }
    } else if (s->ref) {
        s->ref = 0;
        all = 1;
    }
    if (all) {
        for (uint32_t i = 0; i < s->k; i++)
            ts_kref(s, &s->arm[i]);
    } else {
        ts_kref(s, &s->arm[a]);
    }
    s->z_ref = s->ref ? ts_zref(s) : 0.0;
}

static void ts_init(void *st, uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    ts_state *s = st;
    s->k = k;
    s->prior_a = p[0];
    s->prior_b = p[1];
    s->gamma = p[2];
    s->draws = pc_param_count(p[3]);
    for (uint32_t a = 0; a < k; a++)
        ts_refresh(s, &s->arm[a]);
    ts_maintain(s, PC_NONE);
}

/* An exact Beta draw (small parameters). */
static double ts_exact(const ts_arm *a, pc_rng *r)
{
    if (a->sampler == SAMPLER_MT) {
        double x = pc_rng_gamma_mt_i(r, a->da, a->ca);
        double y = pc_rng_gamma_mt_i(r, a->db, a->cb);
        return x / (x + y);
    }
    pc_rng t = *r; /* (keeps the caller's copy in registers) */
    double v = pc_rng_beta(&t, a->alpha, a->beta);
    *r = t;
    return v;
}

/* theta for Z (the signed-root inverse), with ln theta and ln(1 - theta).
 * Within 5% of min(p, 1 - p) of p (the usual case for an action with many
 * observations) this needs no transcendental call: the third-order series
 * of the inverse, then one Newton step on N d(p, theta) = Z^2 / 2 with the
 * logarithms taken as series around p. Elsewhere: pc_kl_solve. */
static double ts_invert(const ts_arm *x, double z, double *lq, double *l1q)
{
    double w = z * x->isn;
    double dl = w * (x->s1 + w * (x->s2 + w * x->s3));
    double q = x->p < 0.5 ? x->p : 1.0 - x->p;
    if (fabs(dl) <= 0.05 * q && w != 0.0) {
        double th = x->p + dl;
        double a = x->lp + pc_log1p_series(dl / x->p);
        double b = x->l1p + pc_log1p_series(-dl / (1.0 - x->p));
        double g = x->negent - x->p * a - (1.0 - x->p) * b - 0.5 * w * w;
        double step = -g * th * (1.0 - th) / dl;
        if (fabs(step) <= 0.1 * fabs(dl)) {
            *lq = a + step / th;
            *l1q = b - step / (1.0 - th);
            return th + step;
        }
    }
    return pc_kl_solve(x->p, x->negent, x->N, 0.5 * z * z, z > 0.0, -1.0, lq,
                       l1q);
}

/* Z with P(N(0,1) > Z) = u, for u < P(N(0,1) > 2): Abramowitz & Stegun
 * 26.2.23 as a start, then Halley steps on the complementary CDF. */
static double normal_tail_inv(double u)
{
    double t = sqrt(-2.0 * log(u));
    double z = t - (2.515517 + t * (0.802853 + t * 0.010328)) /
                       (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308)));
    for (int i = 0; i < 4; i++) {
        double q = 0.5 * erfc(z * 0.70710678118654752);
        double phi = 0.39894228040143268 * exp(-0.5 * z * z);
        if (!(phi > 0.0))
            break;
        double e = (q - u) / phi;            /* Newton step */
        double dz = e / (1.0 - 0.5 * z * e); /* Halley */
        z += dz;
        if (fabs(dz) <= 1e-13 * z)
            break;
    }
    return z;
}

/* The bit test with the reference's k is used from this k on (a fallback
 * to erfc in at most 1/8 of the cases); below, Z is drawn as a normal. */
#define PC_TS_KREF_MIN 3

/* Below this (Z needed to win < 3) an action's Z is drawn as a normal. */
#define PC_TS_DIRECT_KD (9.0 * PC_INV_2LN2)

/* One Thompson draw over the n candidates idx[]; returns the winner.
 * `anchor` (a position in idx) is the candidate with the highest scaled
 * posterior mean: it is drawn first. Every other action is then only asked
 * whether it beats the running maximum m: with the signed-root sampler it
 * does iff its Z exceeds z_m = sqrt(2 N d(p, m)). When that is unlikely
 * (z_m >= 3) Z is drawn by inversion: Z > z_m iff U < Q(z_m), Q the
 * normal upper tail, and since Q(z) <= exp(-z^2/2) / 2 <= 2^-k for
 * k = floor(z^2 / (2 ln 2) + 1), U >= 2^-k (the top k bits of one 64-bit
 * draw are not all zero) settles the usual case with one generator call
 * and a shift; Q itself (erfc) and the tail inverse are computed only in
 * the remaining cases, and an action with Q(z_m) below the resolution of
 * U (k > 53) draws nothing. The result has exactly the distribution of
 * drawing every Z. theta is solved for only for an action that beats the
 * maximum. Exact ties (only degenerate values produce them) are broken
 * uniformly at random. */
/* Whether an action with centre p beats the threshold thr (< 1) whose
 * logarithms are lm, l1m; *z receives its Z when it does. */
static int ts_beats(const ts_arm *x, pc_rng *r, double thr, double lm,
                    double l1m, double *z)
{
    double kd = x->kc0 - x->kc1 * lm - x->kc2 * l1m; /* z_m^2 / (2 ln 2) */
    if (thr > x->p && kd >= PC_TS_DIRECT_KD) {
        if (kd >= 53.0)
            return 0; /* Q(z_m) < 2^-54 <= U */
        int k = (int)kd + 1;
        uint64_t b = pc_rng_next_i(r);
        if (b >> (64 - k))
            return 0; /* U >= 2^-k >= Q(z_m): loses */
        double u = ((double)(b >> 11) + 0.5) * 0x1.0p-53;
        double zm = sqrt(kd / PC_INV_2LN2);
        if (u >= 0.5 * erfc(zm * 0.70710678118654752))
            return 0;
        double t = normal_tail_inv(u);
        *z = t < zm ? zm : t;
        return 1;
    }
    double need = (kd > 0.0 ? kd : 0.0) / PC_INV_2LN2;
    double v = pc_rng_normal_i(r);
    *z = v;
    return thr > x->p ? (v > 0.0 && v * v >= need)
                      : (v >= 0.0 || v * v <= need);
}

/* One Thompson draw over the n candidates idx[]; returns the winner.
 * `anchor` (a position in idx) is the candidate with the highest scaled
 * posterior mean: it is drawn first. Every other action is then only asked
 * whether it beats the running maximum m: with the signed-root sampler it
 * does iff its Z exceeds z_m = sqrt(2 N d(p, m)). When that is unlikely
 * (z_m >= 3) Z is drawn by inversion: Z > z_m iff U < Q(z_m), Q the
 * normal upper tail, and since Q(z) <= exp(-z^2/2) / 2 <= 2^-k for
 * k = floor(z^2 / (2 ln 2) + 1), U >= 2^-k (the top k bits of one 64-bit
 * draw are not all zero) settles the usual case with one generator call
 * and a shift; Q itself (erfc) and the tail inverse are computed only in
 * the remaining cases, and an action with Q(z_m) below the resolution of
 * U (k > 53) draws nothing. Without a scale, once the maximum is at least
 * the state's reference m_ref, each action's k for m_ref (kref, kept by
 * ts_maintain; a lower bound of k since d(p, m) grows with m > p) serves
 * without computing anything. The result has exactly the distribution of
 * drawing every Z. theta is solved for only for an action that beats the
 * maximum. Exact ties (only degenerate values produce them) are broken
 * uniformly at random. */
/* The running maximum of a draw and the logarithms of a threshold. */
typedef struct ts_run {
    pc_argmax m;
    double mkey, lm, l1m; /* ln mkey, ln(1 - mkey) */
} ts_run;

static inline void ts_run_logs(ts_run *u, double thr)
{
    if (thr != u->mkey) {
        u->mkey = thr;
        u->lm = pc_log(thr);
        u->l1m = pc_log(1.0 - thr);
    }
}

/* Enter theta = ts_invert(z) of action a (scale sc) into the maximum. */
static void ts_enter(ts_run *u, pc_rng *r, uint32_t a, const ts_arm *x,
                     double sc, double z)
{
    double lq, l1q;
    double th = ts_invert(x, z, &lq, &l1q);
    pc_argmax_add(&u->m, r, a, sc * th);
    if (sc == 1.0 && u->m.best == th) { /* logs for the next ones */
        u->mkey = th;
        u->lm = lq;
        u->l1m = l1q;
    }
}

/* The general case of one action (first: the anchor). */
static void ts_consider(const ts_state *s, ts_run *u, pc_rng *r, uint32_t a,
                        const double *scale, int first)
{
    const ts_arm *x = &s->arm[a];
    double sc = 1.0, thr = u->m.best; /* theta needed to win */
    if (scale) {
        sc = pc_scale_of(scale, a);
        if (!first && sc <= u->m.best)
            return; /* sc * theta < sc <= best: cannot win */
        thr = u->m.best / sc;
    }
    if (x->sampler != SAMPLER_APPROX) {
        pc_argmax_add(&u->m, r, a, sc * ts_exact(x, r));
        return;
    }
    double z;
    if (first) {
        z = pc_rng_normal_i(r);
    } else {
        if (thr >= 1.0)
            return; /* theta < 1 */
        ts_run_logs(u, thr);
        if (!ts_beats(x, r, thr, u->lm, u->l1m, &z))
            return;
    }
    ts_enter(u, r, a, x, sc, z);
}

/* One Thompson draw over the n candidates idx[]; returns the winner.
 * `anchor` (a position in idx) is the candidate with the highest scaled
 * posterior mean: it is drawn first. Every other action is then only asked
 * whether it beats the running maximum m: with the signed-root sampler it
 * does iff its Z exceeds z_m = sqrt(2 N d(p, m)). When that is unlikely
 * (z_m >= 3) Z is drawn by inversion: Z > z_m iff U < Q(z_m), Q the
 * normal upper tail, and since Q(z) <= exp(-z^2/2) / 2 <= 2^-k for
 * k = floor(z^2 / (2 ln 2) + 1), U >= 2^-k (the top k bits of U are not
 * all zero) settles the usual case with a few bits of the generator and a
 * shift; Q itself (erfc) and the tail inverse are computed only in the
 * remaining cases, and an action with Q(z_m) below the resolution of U
 * (k > 53) draws nothing. Without a scale, once the maximum is at least
 * the state's reference m_ref, each action's k for m_ref (kref, kept by
 * ts_maintain; a lower bound of k since d(p, m) grows with m > p) serves
 * without computing anything, and the bits come from a pool (one 64-bit
 * draw serves several actions; when an action's k bits are all zero, the
 * rest of its U is drawn afresh, which is exact). The result has exactly
 * the distribution of drawing every Z; theta is solved for only for an
 * action that beats the maximum. Exact ties (only degenerate values
 * produce them) are broken uniformly at random. */
static uint32_t ts_draw(const ts_state *s, pc_rng *rng, const uint32_t *idx,
                        uint32_t n, const double *scale, uint32_t anchor)
{
    pc_rng lr = *rng, *r = &lr; /* a local copy stays in registers */
    ts_run u;
    pc_argmax_init(&u.m);
    u.mkey = -1.0;
    u.lm = u.l1m = 0.0;
    const uint32_t aa = idx[anchor];
    const ts_arm *xa = &s->arm[aa];
    if (scale || !s->ref || aa != s->ref_arm || xa->sampler != SAMPLER_APPROX) {
        ts_consider(s, &u, r, aa, scale, 1);
        for (uint32_t j = 0; j < n; j++)
            if (j != anchor)
                ts_consider(s, &u, r, idx[j], scale, 0);
    } else {
        /* The anchor is the reference's action: its theta >= m_ref iff its
         * Z >= z_ref, and then the other actions' bit tests need no theta:
         * theta is solved for (`pending` cleared) only when some action
         * needs the actual maximum. */
        double z0 = pc_rng_normal_i(r);
        int pending = 1, use_ref = z0 >= s->z_ref;
        uint64_t pool = 0;
        int bits = 0;
        for (uint32_t j = 0; j < n; j++) {
            if (j == anchor)
                continue;
            uint32_t a = idx[j];
            const ts_arm *x = &s->arm[a];
            int k = x->kref;
            if (!use_ref || k < PC_TS_KREF_MIN) {
                if (pending) {
                    pending = 0;
                    ts_enter(&u, r, aa, xa, 1.0, z0);
                }
                ts_consider(s, &u, r, a, NULL, 0);
                continue;
            }
            /* max >= m_ref > p: the bit test with kref <= k(max) bits */
            if (k > 53)
                continue; /* Q(z_m) < 2^-54 <= U */
            if (bits < k) {
                pool = pc_rng_next_i(r);
                bits = 64;
            }
            uint64_t top = pool >> (64 - k);
            pool <<= k;
            bits -= k;
            if (top)
                continue; /* U >= 2^-k >= Q(z_m): loses */
            if (pending) {
                pending = 0;
                ts_enter(&u, r, aa, xa, 1.0, z0);
            }
            /* U = 2^-k V, V uniform */
            uint64_t b = pc_rng_next_i(r);
            double v = ((double)(b >> 11) + 0.5) * 0x1.0p-53;
            ts_run_logs(&u, u.m.best);
            double kd = x->kc0 - x->kc1 * u.lm - x->kc2 * u.l1m;
            double zm = sqrt((kd > 0.0 ? kd : 0.0) / PC_INV_2LN2);
            double uu = ldexp(v, -k);
            if (uu >= 0.5 * erfc(zm * 0.70710678118654752))
                continue;
            double z = normal_tail_inv(uu);
            ts_enter(&u, r, a, x, 1.0, z < zm ? zm : z);
        }
    }
    *rng = lr;
    if (u.m.arm == PC_NONE) /* pending, or only NaN values */
        u.m.arm = idx[anchor];
    return u.m.arm;
}

/* Tables of the propensity quadrature (below), computed in long double:
 * pq_lam[i] = {ln Q(t) + t^2/2, its derivative t - phi(t)/Q(t)} and
 * pq_psi[i] = {ln Phi(t), phi(t)/Phi(t)} at t = i/16 (Q the upper normal
 * tail); pq_gl: the 12-point Gauss-Legendre rule on [-1, 1] {node,
 * weight}. */
#define PQ_NODES 12
static const double pq_lam[145][2] = {
    {-0x1.62e42fefa39efp-1, -0x1.9884533d43651p-1},
    {-0x1.7c1095dd2ee18p-1, -0x1.8d1ab6a7490c2p-1},
    {-0x1.9489c67f7ece1p-1, -0x1.821d0d328d552p-1},
    {-0x1.ac5663b39e253p-1, -0x1.7787acfa4ff3p-1},
    {-0x1.c37cd4e62f097p-1, -0x1.6d56f27b0c586p-1},
    {-0x1.da03479718557p-1, -0x1.638744310cc2p-1},
    {-0x1.efefb0134ecc8p-1, -0x1.5a1515be65e6ap-1},
    {-0x1.02a3e52eb3509p+0, -0x1.50fcea9f3bbccp-1},
    {-0x1.0d088d9f06be4p+0, -0x1.483b5873d8cc7p-1},
    {-0x1.172878bb04a89p+0, -0x1.3fcd08e88876ep-1},
    {-0x1.21063385ec829p+0, -0x1.37aebb4353955p-1},
    {-0x1.2aa43157cb1a6p+0, -0x1.2fdd459fbf78p-1},
    {-0x1.3404cc981c29cp+0, -0x1.285595e08a804p-1},
    {-0x1.3d2a477eeb9afp+0, -0x1.2114b25f1f646p-1},
    {-0x1.4616ccda81fb3p+0, -0x1.1a17ba601fc24p-1},
    {-0x1.4ecc70d7e0ffbp+0, -0x1.135be653fe2dfp-1},
    {-0x1.574d31cc8afc1p+0, -0x1.0cde87ea2cb83p-1},
    {-0x1.5f9af900426eap+0, -0x1.069d09fceb65fp-1},
    {-0x1.67b79b759d31dp+0, -0x1.0094f05b45e49p-1},
    {-0x1.6fa4dab0716c3p+0, -0x1.f587aeeca7bccp-2},
    {-0x1.77646579490cap+0, -0x1.ea4ee7ecabed1p-2},
    {-0x1.7ef7d89d2b969p+0, -0x1.df7b2477a8cdfp-2},
    {-0x1.8660bfa92d6b6p+0, -0x1.d5082ba0e982bp-2},
    {-0x1.8da095a14fbe7p+0, -0x1.caf1f195a6a34p-2},
    {-0x1.94b8c5b2553a6p+0, -0x1.c13496509543ap-2},
    {-0x1.9baaabde4541ap+0, -0x1.b7cc643e71df2p-2},
    {-0x1.a27795a36ae0fp+0, -0x1.aeb5ced8002d2p-2},
    {-0x1.a920c29dad3a6p+0, -0x1.a5ed713560ea4p-2},
    {-0x1.afa765222d996p+0, -0x1.9d700c9e14cd7p-2},
    {-0x1.b60ca2d523c3bp+0, -0x1.953a871887aaep-2},
    {-0x1.bc519539fba07p+0, -0x1.8d49e9fb8f61cp-2},
    {-0x1.c2774a3dc0351p+0, -0x1.859b6083e6de5p-2},
    {-0x1.c87ec4bbe7649p+0, -0x1.7e2c366f5550dp-2},
    {-0x1.ce68fcfd97fe5p+0, -0x1.76f9d69ee3de5p-2},
    {-0x1.d436e13388a73p+0, -0x1.7001c9c13fa62p-2},
    {-0x1.d9e955ea9a258p+0, -0x1.6941b5062a1fbp-2},
    {-0x1.df81367b52b52p+0, -0x1.62b758dba5c32p-2},
    {-0x1.e4ff55746263fp+0, -0x1.5c608fb55fda4p-2},
    {-0x1.ea647d005a2c5p+0, -0x1.563b4cdeb189cp-2},
    {-0x1.efb16f46c0a58p+0, -0x1.50459b5770e7dp-2},
    {-0x1.f4e6e6c8afcc9p+0, -0x1.4a7d9cbbaeb6bp-2},
    {-0x1.fa0596b927a92p+0, -0x1.44e18836657a7p-2},
    {-0x1.ff0e2b51417a1p+0, -0x1.3f6fa97f0aa73p-2},
    {-0x1.0200a510375c8p+1, -0x1.3a265fe1e20ccp-2},
    {-0x1.046fc92c77532p+1, -0x1.35041d52e605fp-2},
    {-0x1.06d4ce8c5220fp+1, -0x1.3007658b0beep-2},
    {-0x1.092ffed73ad2p+1, -0x1.2b2ecd2fa392dp-2},
    {-0x1.0b81a0ee2e48ep+1, -0x1.2678f90389874p-2},
    {-0x1.0dc9f90b27805p+1, -0x1.21e49d21df0aap-2},
    {-0x1.100948df127f5p+1, -0x1.1d707c41f67dep-2},
    {-0x1.123fcfae50152p+1, -0x1.191b670420d9p-2},
    {-0x1.146dca6bdbca2p+1, -0x1.14e43b4707139p-2},
    {-0x1.169373d324c85p+1, -0x1.10c9e38539d4dp-2},
    {-0x1.18b10480a9d24p+1, -0x1.0ccb563aa1d7dp-2},
    {-0x1.1ac6b30967b45p+1, -0x1.08e795517c23ap-2},
    {-0x1.1cd4b41128f46p+1, -0x1.051dad968e68ep-2},
    {-0x1.1edb3a5fc4de5p+1, -0x1.016cb634416d9p-2},
    {-0x1.20da76f55b67ep+1, -0x1.fba7a068a2b02p-3},
    {-0x1.22d2991d9ac9ep+1, -0x1.f4a44c0f8ba7ap-3},
    {-0x1.24c3ce821b129p+1, -0x1.edcdd629ccc67p-3},
    {-0x1.26ae433bdb5f5p+1, -0x1.e722b695c35f7p-3},
    {-0x1.289221e3ebdcep+1, -0x1.e0a17575c27c4p-3},
    {-0x1.2a6f93a34f22ep+1, -0x1.da48aa6c8b27p-3},
    {-0x1.2c46c0421cf95p+1, -0x1.d416fbe393069p-3},
    {-0x1.2e17ce35f016ep+1, -0x1.ce0b1e5a9c1bdp-3},
    {-0x1.2fe2e2afa7ee8p+1, -0x1.c823d3c025c29p-3},
    {-0x1.31a821a887296p+1, -0x1.c25fead2445c5p-3},
    {-0x1.3367adeeb6ff5p+1, -0x1.bcbe3e8772353p-3},
    {-0x1.3521a931372ffp+1, -0x1.b73db57ef1435p-3},
    {-0x1.36d6340b41fcdp+1, -0x1.b1dd41785a489p-3},
    {-0x1.38856e0f2b223p+1, -0x1.ac9bded1faa77p-3},
    {-0x1.3a2f75d0c06e3p+1, -0x1.a778940da6d6ep-3},
    {-0x1.3bd468ef3241ep+1, -0x1.a272715babd6ap-3},
    {-0x1.3d74641e89f0dp+1, -0x1.9d88902b8e4bep-3},
    {-0x1.3f0f8330b3a5fp+1, -0x1.98ba12c24a0dap-3},
    {-0x1.40a5e11e212a2p+1, -0x1.940623d5c8d6fp-3},
    {-0x1.4237980e0a9f5p+1, -0x1.8f6bf62d4a9d2p-3},
    {-0x1.43c4c15e5201ap+1, -0x1.8aeac4467da1ep-3},
    {-0x1.454d75ab0dfe1p+1, -0x1.8681cfff07c93p-3},
    {-0x1.46d1ccd5c0723p+1, -0x1.8230624246039p-3},
    {-0x1.4851de0c3caf5p+1, -0x1.7df5cabb09baep-3},
    {-0x1.49cdbfcf41633p+1, -0x1.79d15f891f28fp-3},
    {-0x1.4b4587f8c9d71p+1, -0x1.75c27cfa6a50ap-3},
    {-0x1.4cb94bc21a02ap+1, -0x1.71c885476b009p-3},
    {-0x1.4e291fc988c3cp+1, -0x1.6de2e052fad1cp-3},
    {-0x1.4f9518180b5f9p+1, -0x1.6a10fb6d1a7c5p-3},
    {-0x1.50fd482685476p+1, -0x1.66524918a627ep-3},
    {-0x1.5261c2e2def55p+1, -0x1.62a640d3ca862p-3},
    {-0x1.53c29ab4e68fap+1, -0x1.5f0c5ee31692bp-3},
    {-0x1.551fe182fcdd9p+1, -0x1.5b84241f07c68p-3},
    {-0x1.5679a8b690f82p+1, -0x1.580d15c3f0613p-3},
    {-0x1.57d001406d015p+1, -0x1.54a6bd441929p-3},
    {-0x1.5922fb9cd60eap+1, -0x1.5150a81c01a6dp-3},
    {-0x1.5a72a7d78157ep+1, -0x1.4e0a67a8a370ap-3},
    {-0x1.5bbf158f609f9p+1, -0x1.4ad390ff9e8fcp-3},
    {-0x1.5d0853fa47b21p+1, -0x1.47abbcc9367p-3},
    {-0x1.5e4e71e86cc06p+1, -0x1.4492871c0818bp-3},
    {-0x1.5f917dc7c5446p+1, -0x1.41878f5a63ac4p-3},
    {-0x1.60d185a741077p+1, -0x1.3e8a781134579p-3},
    {-0x1.620e9739e4d04p+1, -0x1.3b9ae6d862f67p-3},
    {-0x1.6348bfd9c6287p+1, -0x1.38b88434a0be2p-3},
    {-0x1.64800c8ae9998p+1, -0x1.35e2fb7a883c3p-3},
    {-0x1.65b489fe04af3p+1, -0x1.3319fab303e7cp-3},
    {-0x1.66e6449324fc3p+1, -0x1.305d3280ea64p-3},
    {-0x1.6815485c3d502p+1, -0x1.2dac5607c16a6p-3},
    {-0x1.6941a11f9a3cfp+1, -0x1.2b071ad3991a4p-3},
    {-0x1.6a6b5a5a3eff5p+1, -0x1.286d38c1f22d1p-3},
    {-0x1.6b927f422bcc5p+1, -0x1.25de69eba2405p-3},
    {-0x1.6cb71ac88e7e1p+1, -0x1.235a6a8faa122p-3},
    {-0x1.6dd9379bde8a1p+1, -0x1.20e0f8fef22dp-3},
    {-0x1.6ef8e029e523cp+1, -0x1.1e71d588e3191p-3},
    {-0x1.70161ea1b25f9p+1, -0x1.1c0cc268ceb7fp-3},
    {-0x1.7130fcf58024fp+1, -0x1.19b183b420f74p-3},
    {-0x1.724984dc83bp+1, -0x1.175fdf494e89bp-3},
    {-0x1.735fbfd4ae5dap+1, -0x1.15179cbf78cb8p-3},
    {-0x1.7473b7245e723p+1, -0x1.12d88556be6fp-3},
    {-0x1.758573dc00849p+1, -0x1.10a263e930f63p-3},
    {-0x1.7694fed7a22d4p+1, -0x1.0e7504dc6768ap-3},
    {-0x1.77a260c076942p+1, -0x1.0c503613a7142p-3},
    {-0x1.78ada20e4d6eep+1, -0x1.0a33c6e29b83ap-3},
    {-0x1.79b6cb08fcfcep+1, -0x1.081f8800972efp-3},
    {-0x1.7abde3c9bf84ap+1, -0x1.06134b7c56b7dp-3},
    {-0x1.7bc2f43c84d4p+1, -0x1.040ee4b040d81p-3},
    {-0x1.7cc60421383c2p+1, -0x1.021228371d6cbp-3},
    {-0x1.7dc71b0cfb7dap+1, -0x1.001cebe13e51fp-3},
    {-0x1.7ec6406b57148p+1, -0x1.fc5e0d542a0a6p-4},
    {-0x1.7fc37b7f604e5p+1, -0x1.f890a15c6081fp-4},
    {-0x1.80bed364d58fap+1, -0x1.f4d146433a04cp-4},
    {-0x1.81b84f11312aap+1, -0x1.f11fb08d4d41cp-4},
    {-0x1.82aff554b323cp+1, -0x1.ed7b96c9e3aa5p-4},
    {-0x1.83a5ccdb623cbp+1, -0x1.e9e4b181dd807p-4},
    {-0x1.8499dc2e049bcp+1, -0x1.e65abb273c647p-4},
    {-0x1.858c29b31060bp+1, -0x1.e2dd70054d3fep-4},
    {-0x1.867cbbaf9474ap+1, -0x1.df6c8e316abebp-4},
    {-0x1.876b984819dffp+1, -0x1.dc07d57c51dc9p-4},
    {-0x1.8858c5817dee4p+1, -0x1.d8af076402572p-4},
    {-0x1.89444941c5639p+1, -0x1.d561e70625235p-4},
    {-0x1.8a2e2950e9057p+1, -0x1.d2203912f347p-4},
    {-0x1.8b166b599bb6bp+1, -0x1.cee9c3c097bc5p-4},
    {-0x1.8bfd14ea0a612p+1, -0x1.cbbe4ebf0743bp-4},
    {-0x1.8ce22b7495e88p+1, -0x1.c89da32c49441p-4},
    {-0x1.8dc5b450875c6p+1, -0x1.c5878b892d13dp-4},
    {-0x1.8ea7b4babe9f3p+1, -0x1.c27bd3ae67395p-4},
    {-0x1.8f8831d65bb56p+1, -0x1.bf7a48c212676p-4},
    {-0x1.906730ad62ec3p+1, -0x1.bc82b92d90292p-4},
};
static const double pq_psi[145][2] = {
    {-0x1.62e42fefa39efp-1, 0x1.9884533d43651p-1},
    {-0x1.49fdb8239277dp-1, 0x1.845d8f1d630c8p-1},
    {-0x1.3256172f7f1bep-1, 0x1.70aa14147e5a6p-1},
    {-0x1.1be5fb61faedbp-1, 0x1.5d6d846d102f3p-1},
    {-0x1.06a5d946812dbp-1, 0x1.4aab7541f90ecp-1},
    {-0x1.e51bd952ab531p-2, 0x1.3867684bee8d9p-1},
    {-0x1.bf2c740535475p-2, 0x1.26a4c52e2ceeap-1},
    {-0x1.9b6d20a0dde6dp-2, 0x1.1566d24a5f9c4p-1},
    {-0x1.79cd16ce909a5p-2, 0x1.04b0ad277e95p-1},
    {-0x1.5a3b2d7dc2078p-2, 0x1.e90a84f709038p-2},
    {-0x1.3ca5e181de6b4p-2, 0x1.c9ce8bd89f223p-2},
    {-0x1.20fb5d3ae2fc2p-2, 0x1.abb2534136b9ep-2},
    {-0x1.0729814d5233ep-2, 0x1.8eba2b7d51f19p-2},
    {-0x1.de3bdcd36e807p-3, 0x1.72e9bff5618a8p-2},
    {-0x1.b18c203eca063p-3, 0x1.584406b6daa7ap-2},
    {-0x1.881e51622dba1p-3, 0x1.3ecb30bd6dd7bp-2},
    {-0x1.61ccbbb9543afp-3, 0x1.26809b560eaa5p-2},
    {-0x1.3e718d02d6b2fp-3, 0x1.0f64c2f92e6f1p-2},
    {-0x1.1de6f2151f49ap-3, 0x1.f2ee6ff57590ap-3},
    {-0x1.000734fb251f7p-3, 0x1.c96d2ad95a58ep-3},
    {-0x1.c959b81a23309p-4, 0x1.a240f517d7e09p-3},
    {-0x1.9765935cec1a3p-4, 0x1.7d630e0d5d893p-3},
    {-0x1.69e8b8a516e7fp-4, 0x1.5acab4beea314p-3},
    {-0x1.409b1cbf09397p-4, 0x1.3a6d2d3fff89bp-3},
    {-0x1.1b362b09643d6p-4, 0x1.1c3dccf9ed163p-3},
    {-0x1.f2ea0451cba5dp-5, 0x1.002e0deadf4b9p-3},
    {-0x1.b6295bcbdfd74p-5, 0x1.cc5b5188a1af4p-4},
    {-0x1.7fa8bab7b746cp-5, 0x1.9c556b3f0bfb5p-4},
    {-0x1.4eeb295cf908cp-5, 0x1.7023a59b44419p-4},
    {-0x1.2378b318ff16cp-5, 0x1.479ca233b9128p-4},
    {-0x1.f9bd6774eea48p-6, 0x1.2294c95320f14p-4},
    {-0x1.b5603055b1f0dp-6, 0x1.00deb302ea883p-4},
    {-0x1.790b233d099bfp-6, 0x1.c4972a6c2a47p-5},
    {-0x1.43fb75985b778p-6, 0x1.8d57698a90972p-5},
    {-0x1.157a5dee91099p-6, 0x1.5b9dadb9c80a5p-5},
    {-0x1.d9ba4b941fabap-7, 0x1.2f09610717927p-5},
    {-0x1.930a407478275p-7, 0x1.073aa3f5db2c7p-5},
    {-0x1.55bf0c720e2f2p-7, 0x1.c7a62fae94e45p-6},
    {-0x1.20ca757a34e1fp-7, 0x1.88ed3235e5874p-6},
    {-0x1.e669e2ad6f8fbp-8, 0x1.5197cd2d5226fp-6},
    {-0x1.9839b4bf6a86ep-8, 0x1.20fa66e8e3203p-6},
    {-0x1.556b05133fde4p-8, 0x1.ece288bd3a28fp-7},
    {-0x1.1c8c5555ca7bfp-8, 0x1.a2c29f115227cp-7},
    {-0x1.d8a38fd1944afp-9, 0x1.62715bce2ea32p-7},
    {-0x1.8725862e57978p-9, 0x1.2ade505331528p-7},
    {-0x1.428f000428065p-9, 0x1.f61994cfd20f2p-8},
    {-0x1.090d201df5328p-9, 0x1.a427eeab1fce9p-8},
    {-0x1.b2098ae7a30b7p-10, 0x1.5e3d77ef2f4d5p-8},
    {-0x1.621b527ca0146p-10, 0x1.22d6958d03f61p-8},
    {-0x1.1fdb3d8cc769dp-10, 0x1.e12a063f7ed5bp-9},
    {-0x1.d250071dfcd5bp-11, 0x1.8c7c635d3d119p-9},
    {-0x1.785576ed5e49ep-11, 0x1.4572bb24e8a7dp-9},
    {-0x1.2e9d57dce6d19p-11, 0x1.0a1add18eeb68p-9},
    {-0x1.e4e6a1a17b7d4p-12, 0x1.b17acf648d19cp-10},
    {-0x1.831407d9a7e95p-12, 0x1.5fb2319ae8994p-10},
    {-0x1.33dc3c3c942cep-12, 0x1.1c3c25c8e4ad8p-10},
    {-0x1.e7ea5096f411ap-13, 0x1.c9a4be1ee83dep-11},
    {-0x1.81381cce613b9p-13, 0x1.6efdcd774a4b7p-11},
    {-0x1.2f051a65b3d72p-13, 0x1.2526cf6595fb5p-11},
    {-0x1.daf7042759b35p-14, 0x1.d283d7a19ecc4p-12},
    {-0x1.72dd88cd50957p-14, 0x1.71c18d594a76fp-12},
    {-0x1.2082ebc0ea10ep-14, 0x1.23ecb6372509cp-12},
    {-0x1.bf3a7383e9134p-15, 0x1.cb284b6a92075p-13},
    {-0x1.595847a03862cp-15, 0x1.67b06edc48e68p-13},
    {-0x1.09ae8d0ec846fp-15, 0x1.18abd4bc2c028p-13},
    {-0x1.97457bfb4c579p-16, 0x1.b451531e75f83p-14},
    {-0x1.36ff6bb50c785p-16, 0x1.51d1404fd511cp-14},
    {-0x1.d931d6ba5e412p-17, 0x1.0488d726527b1p-14},
    {-0x1.66a63a5c5cc49p-17, 0x1.904c164554734p-15},
    {-0x1.0ed1297173ce7p-17, 0x1.3251a068c1d7cp-15},
    {-0x1.9776056d2b406p-18, 0x1.d2fafe195e7aap-16},
    {-0x1.3160ef0b6b634p-18, 0x1.6290f617894d5p-16},
    {-0x1.c8075ba2daa99p-19, 0x1.0c29e0ea13ceep-16},
    {-0x1.533912c78e5eap-19, 0x1.940cfb274fac8p-17},
    {-0x1.f6c726add6fb5p-20, 0x1.2f3620553b023p-17},
    {-0x1.7332494a06ce9p-20, 0x1.c54da4836761ep-18},
    {-0x1.110576b9a1bf4p-20, 0x1.51865d7b27e46p-18},
    {-0x1.901d14608fe87p-21, 0x1.f4ace633f693fp-19},
    {-0x1.24149f101743cp-21, 0x1.71e584a3ed318p-19},
    {-0x1.a8d4062fbb0e7p-22, 0x1.10365f497d8abp-19},
    {-0x1.33ca320550a5cp-22, 0x1.8f169dcbdd162p-20},
    {-0x1.bc4edbbe2a3eep-23, 0x1.2368d717491cfp-20},
    {-0x1.3f7a8f1d851a2p-23, 0x1.a7e88bb9caf87p-21},
    {-0x1.c9b4b869e179dp-24, 0x1.331fc0ac6387cp-21},
    {-0x1.46a16da817198p-24, 0x1.bb4a8e17ff45ap-22},
    {-0x1.d06bc3a24f2b9p-25, 0x1.3eaaed404ce2fp-22},
    {-0x1.48eb8d145ee8ep-25, 0x1.c85f9f2b3b451p-23},
    {-0x1.d024987aa3888p-26, 0x1.4584e00d97771p-23},
    {-0x1.463cfad077ba2p-26, 0x1.ce8ec425ae965p-24},
    {-0x1.c8e0581c5c195p-27, 0x1.475ccd1687002p-24},
    {-0x1.3eb3453d3c8a3p-27, 0x1.cd8ea2fbf2485p-25},
    {-0x1.baf0b9ad155aap-28, 0x1.441cc4eb42ce9p-25},
    {-0x1.32a35e3ed86a6p-28, 0x1.c56b24e727762p-26},
    {-0x1.a6f21245c8836p-29, 0x1.3beb65611284dp-26},
    {-0x1.2293637cac591p-29, 0x1.b6848b395a32cp-27},
    {-0x1.8dbff0d5d92aap-30, 0x1.2f28e0c707aa9p-27},
    {-0x1.0f30ef02d165dp-30, 0x1.a1880fc3f1bb2p-28},
    {-0x1.706576a6b6b5ep-31, 0x1.1e67ad224011fp-28},
    {-0x1.f289d488f4b4ap-32, 0x1.8762da32dbacep-29},
    {-0x1.500afb59fb3abp-32, 0x1.0a61a1cbea7a3p-29},
    {-0x1.c34c28f42587cp-33, 0x1.6930a86638a5dp-30},
    {-0x1.2de2be7fee387p-33, 0x1.e7d54777c6fa5p-31},
    {-0x1.9256fc313e2bdp-34, 0x1.4827ed8b3de92p-31},
    {-0x1.0b166503528d6p-34, 0x1.b7c4692fce534p-32},
    {-0x1.61404b2dbe903p-35, 0x1.258556ae7a886p-32},
    {-0x1.d16d9327e5a46p-36, 0x1.864a824d625d2p-33},
    {-0x1.317156a78b172p-36, 0x1.0278913778145p-33},
    {-0x1.8f5e8ff573a11p-37, 0x1.5502d5273f914p-34},
    {-0x1.041789eb78bbp-37, 0x1.c027cdafe9b96p-35},
    {-0x1.517a675e7c51dp-38, 0x1.2555852506889p-35},
    {-0x1.b437009ea5552p-39, 0x1.7e7fa233a6baap-36},
    {-0x1.18d757bdec279p-39, 0x1.f0d263530f82cp-37},
    {-0x1.683c36759b41bp-40, 0x1.41663f31dcd8fp-37},
    {-0x1.cc4e2c3dd5a37p-41, 0x1.9e3659616e2fdp-38},
    {-0x1.24f60a258d773p-41, 0x1.09df86034ca7fp-38},
    {-0x1.737b4f60f616fp-42, 0x1.53fc1a03141b2p-39},
    {-0x1.d53e3e82dad22p-43, 0x1.b10f57d25ae39p-40},
    {-0x1.273afc26d1ff7p-43, 0x1.12bb8721812bcp-40},
    {-0x1.721278ef40c2ap-44, 0x1.5b3884a6c207p-41},
    {-0x1.ce1ba487394ccp-45, 0x1.b51fcbb39a2d2p-42},
    {-0x1.1f68f3dbb81dap-45, 0x1.121483257ec3ap-42},
    {-0x1.6423e83b1d83fp-46, 0x1.565c4fe54ad91p-43},
    {-0x1.b79cff2b8cae9p-47, 0x1.a9fbf74f54d07p-44},
    {-0x1.0e48be68a86b4p-47, 0x1.07fbc8e673865p-44},
    {-0x1.4b13ea9a9f5dp-48, 0x1.45e8308d25d9ep-45},
    {-0x1.93fd039c0ebcfp-49, 0x1.90c9928499bb5p-46},
    {-0x1.eb0fed119b109p-50, 0x1.eaf366efc119p-47},
    {-0x1.294e2d05d701ap-50, 0x1.2b86d020828d8p-47},
    {-0x1.669d2c90d55dp-51, 0x1.6c0df3a094838p-48},
    {-0x1.aee7279e13604p-52, 0x1.b8c23c49a4f77p-49},
    {-0x1.01e30a1d54c78p-52, 0x1.09c5986479c5ep-49},
    {-0x1.337e60292dbcap-53, 0x1.3f43b435b5a7cp-50},
    {-0x1.6d3ba010ac79ap-54, 0x1.7e07497086508p-51},
    {-0x1.b02549ac155a3p-55, 0x1.c759589606853p-52},
    {-0x1.fd59ae3f7142ep-56, 0x1.0e50138b69fbap-52},
    {-0x1.2b04e18d608d8p-56, 0x1.3faf60c4c56e3p-53},
    {-0x1.5dbbaccf1a4ep-57, 0x1.7899e4c2ad3a6p-54},
    {-0x1.97795639a458dp-58, 0x1.b9ebba9ba1abbp-55},
    {-0x1.d8eb99f7f7726p-59, 0x1.02462a0797463p-55},
    {-0x1.1161eda52cd13p-59, 0x1.2cb643b119678p-56},
    {-0x1.3ada639cabc7ap-60, 0x1.5cc20ab7773eap-57},
    {-0x1.6937c8409fa23p-61, 0x1.92e750847f723p-58},
    {-0x1.9cd063226c868p-62, 0x1.cfa409f1a6a97p-59},
    {-0x1.d5f6652152293p-63, 0x1.09ba1c352fd85p-59},
    {-0x1.0a7afbb1ee67cp-63, 0x1.2f67c5e7a9a39p-60},
};
static const double pq_gl[12][2] = {
    {0x1.f68f1d8e42e81p-1, 0x1.8275d9dea6d8fp-5},
    {0x1.cee874ffb88b4p-1, 0x1.b60602bce6181p-4},
    {0x1.8a30aeed88f36p-1, 0x1.47d7258f22d8fp-3},
    {0x1.2cb4f05c077f9p-1, 0x1.a0163e6b1ab72p-3},
    {0x1.78a8d20a8b19dp-2, 0x1.de3155c256ab5p-3},
    {0x1.007a5f8f630e4p-3, 0x1.fe40ce6d4f025p-3},
    {-0x1.007a5f8f630e4p-3, 0x1.fe40ce6d4f025p-3},
    {-0x1.78a8d20a8b19dp-2, 0x1.de3155c256ab5p-3},
    {-0x1.2cb4f05c077f9p-1, 0x1.a0163e6b1ab72p-3},
    {-0x1.8a30aeed88f36p-1, 0x1.47d7258f22d8fp-3},
    {-0x1.cee874ffb88b4p-1, 0x1.b60602bce6181p-4},
    {-0x1.f68f1d8e42e81p-1, 0x1.8275d9dea6d8fp-5},
};

/* ---- The propensity by quadrature ----
 * P(a) = P(a's scaled draw is the largest) = integral over y of
 * f_a(y) prod_{j != a} F_j(y), f and F the density and CDF of each
 * candidate's scaled draw (ties have probability 0). Each candidate has a
 * window [lo, hi] outside which its draw falls with probability below
 * Q(6.5) = 4e-11 (z of its sampler within [-7, 7], +-0.5). The integral
 * is split into pieces so that the integrand is smooth on each piece's
 * scale: the candidates narrower than half of a's window, narrowest first,
 * each give the piece [their lo, their hi] (left of it their F is ~0,
 * right of it ~1, so the rest of the integral lies to its right); a's own
 * window, from the last such hi on, is the last piece; when no other
 * candidate remains there, that piece is a's upper tail, exactly. Each
 * piece is a PQ_NODES-point Gauss-Legendre rule; F is evaluated in log
 * space from tables of ln Phi (one exp per node). */

#define PQ_ZC 7.0
#define PQ_FLOOR 1e-9 /* below the method's accuracy */
#define PQ_INV_SQRT_2PI 0.39894228040143268
#define PQ_HALF_LN_2PI 0.91893853320467274

/* Hermite cubic on the tables (t in [0, 9)). */
static inline double pq_interp(const double (*tab)[2], double t)
{
    double u = t * 16.0;
    int i = (int)u;
    double s = u - (double)i, s2 = s * s;
    const double *a = tab[i], *b = tab[i + 1];
    return a[0] + s2 * (3.0 - 2.0 * s) * (b[0] - a[0]) +
           (1.0 / 16.0) * s * ((s - 1.0) * (s - 1.0) * a[1] + s * (s - 1.0) * b[1]);
}

/* ln Phi(z), given kd = z^2 / 2. */
static inline double pq_log_cdf(double z, double kd)
{
    if (z >= 0.0)
        return z >= 9.0 ? 0.0 : pq_interp(pq_psi, z);
    double t = -z;
    if (t < 9.0)
        return pq_interp(pq_lam, t) - kd;
    double it2 = 1.0 / (t * t);
    return -kd - PQ_HALF_LN_2PI - pc_log(t) - it2 + 2.5 * it2 * it2;
}

typedef struct pq_cand {
    double lo, hi;  /* window of the scaled draw */
    /* Beta: theta = 1 / (1 + exp(-t)), t = t0 + sg s + cp s^2 (s >= 0),
     * t0 + sg s - cm s^2 (s < 0): a map of s that is close to the
     * sampler's own z (the integrand in s is close to phi(s) G), with
     * the window [slo, shi] in s */
    double t0, sg, cp, cm, slo, shi;
    double isc, sc; /* 1 / scale, scale */
    /* Beta (signed-root): p, N, negent, 1/p, 1/(1-p), the series radius;
     * Gaussian: the posterior mean as p, 1 / sd as N, the scale as ip */
    double p, N, negent, ip, i1p, near;
} pq_cand;

/* ln theta and ln(1 - theta), computed when needed, shared by the
 * candidates with the same scale. */
typedef struct pq_logs {
    double x, lx, l1x;
} pq_logs;

/* (u - ln(1 + u)) / u^2 for |u| <= 0.05 (relative error < 1e-11). */
static inline double pq_h(double u)
{
    return 0.5 - u * (1.0 / 3.0 - u * (1.0 / 4.0 - u * (1.0 / 5.0 -
           u * (1.0 / 6.0 - u * (1.0 / 7.0 - u * (1.0 / 8.0 - u * (1.0 / 9.0)))))));
}

/* The signed root z at theta = x of a Beta candidate, kd = z^2 / 2, and
 * if jac is not NULL dz/dt = x (1 - x) dz/dx (t the logit of x). Near p by
 * the series of d(p, x) (no cancellation), elsewhere by the logarithms. */
static inline double pq_bz(const pq_cand *c, double x, double *kd,
                           double *jac, pq_logs *L)
{
    double dl = x - c->p;
    if (fabs(dl) <= c->near) {
        double g = pq_h(dl * c->ip) * c->ip + pq_h(-dl * c->i1p) * c->i1p;
        double r = sqrt(2.0 * c->N * g);
        *kd = c->N * g * dl * dl;
        if (jac)
            *jac = c->N / r;
        return dl * r;
    }
    if (x != L->x) {
        L->x = x;
        L->lx = pc_log(x);
        L->l1x = pc_log(1.0 - x);
    }
    double nd = c->N * (c->negent - c->p * L->lx - (1.0 - c->p) * L->l1x);
    if (!(nd > 0.0))
        nd = 0.0;
    double z = sqrt(2.0 * nd);
    if (dl < 0.0)
        z = -z;
    *kd = nd;
    if (jac)
        *jac = z != 0.0 ? c->N * dl / z : 0.0;
    return z;
}


static inline double pq_t_of(const pq_cand *c, double s, double *dtds)
{
    double q = s >= 0.0 ? c->cp : -c->cm;
    *dtds = c->sg + 2.0 * q * s;
    return c->t0 + s * (c->sg + q * s);
}

static inline double pq_s_of_t(const pq_cand *c, double t)
{
    double d = t - c->t0;
    if (d >= 0.0)
        return 2.0 * d / (c->sg + sqrt(c->sg * c->sg + 4.0 * c->cp * d));
    return 2.0 * d / (c->sg + sqrt(c->sg * c->sg - 4.0 * c->cm * d));
}

/* theta, its logarithms and dt/ds at s */
static inline double pq_x_of(const pq_cand *c, double s, pq_logs *L,
                             double *dtds)
{
    double t = pq_t_of(c, s, dtds);
    double e = exp(-t), x = 1.0 / (1.0 + e);
    L->x = x;
    L->lx = -pc_log(1.0 + e);
    L->l1x = L->lx - t;
    return x;
}

/* s with z(theta(s)) = zt (+-0.5), by Newton steps from s = zt. */
static double pq_bedge(const pq_cand *c, double zt)
{
    double s = zt;
    for (int i = 0; i < 30; i++) {
        pq_logs L;
        double dtds, kd, dzdt;
        double x = pq_x_of(c, s, &L, &dtds);
        double z = pq_bz(c, x, &kd, &dzdt, &L);
        double err = z - zt;
        if (fabs(err) <= 0.5 || !(dzdt * dtds > 0.0))
            break;
        double step = err / (dzdt * dtds);
        if (!(fabs(step) < 4.0))
            step = step > 0.0 ? 4.0 : -4.0;
        s -= step;
    }
    return s;
}

/* The integral of f_a prod_{j in act} F_j over [lo, hi], a piece of the
 * candidate cc's window. */
typedef double (*pq_piece_fn)(const pq_cand *cand, const pq_cand *cc,
                              const uint32_t *act, uint32_t na, uint32_t a,
                              double lo, double hi);
typedef double (*pq_tail_fn)(const pq_cand *ca, double y);

/* P(a) given the windows; see above. */
static double pq_integrate(const pq_cand *cand, uint32_t n, uint32_t a,
                           pq_piece_fn piece, pq_tail_fn tail)
{
    const pq_cand *ca = &cand[a];
    uint32_t act[PC_MAX_ARMS], na = 0, narrow[PC_MAX_ARMS], nn = 0;
    double wa = ca->hi - ca->lo, rlo = ca->lo;
    for (uint32_t j = 0; j < n; j++) {
        if (j == a)
            continue;
        const pq_cand *c = &cand[j];
        if (c->lo >= ca->hi)
            return 0.0; /* j beats a's whole window */
        if (c->hi <= ca->lo)
            continue; /* F_j ~ 1 wherever f_a is not ~0 */
        if (c->lo > rlo)
            rlo = c->lo;
        if (c->hi - c->lo < 0.5 * wa)
            narrow[nn++] = j;
        else
            act[na++] = j;
    }
    if (na + nn == 0)
        return 1.0;
    /* narrowest first (insertion sort; nn is small) */
    for (uint32_t i = 1; i < nn; i++) {
        uint32_t v = narrow[i], k = i;
        double w = cand[v].hi - cand[v].lo;
        while (k > 0 && cand[narrow[k - 1]].hi - cand[narrow[k - 1]].lo > w) {
            narrow[k] = narrow[k - 1];
            k--;
        }
        narrow[k] = v;
    }
    double P = 0.0;
    uint32_t sub[PC_MAX_ARMS];
    for (uint32_t i = 0; i <= nn; i++) {
        const pq_cand *cc = i < nn ? &cand[narrow[i]] : ca;
        double lo = cc->lo > rlo ? cc->lo : rlo;
        double hi = cc->hi < ca->hi ? cc->hi : ca->hi;
        if (hi > lo) {
            /* the arms whose F is not ~1 on [lo, hi] (a last) */
            uint32_t ns = 0;
            int zero = 0;
            for (uint32_t k = i; k < nn && !zero; k++) {
                const pq_cand *c = &cand[narrow[k]];
                if (c->lo >= hi)
                    zero = 1;
                else if (c->hi > lo)
                    sub[ns++] = narrow[k];
            }
            for (uint32_t k = 0; k < na && !zero; k++) {
                const pq_cand *c = &cand[act[k]];
                if (c->lo >= hi)
                    zero = 1;
                else if (c->hi > lo)
                    sub[ns++] = act[k];
            }
            if (!zero) {
                if (i == nn && ns == 0) {
                    P += tail(ca, lo);
                } else {
                    P += piece(cand, cc, sub, ns, a, lo, hi);
                }
            }
        }
        if (i < nn && cc->hi > rlo)
            rlo = cc->hi;
        if (rlo >= ca->hi)
            break;
    }
    return P;
}

static double pq_clamp(double P)
{
    return P > 1.0 ? 1.0 : (P > PQ_FLOOR ? P : PQ_FLOOR);
}

/* The integrand at s of the piece's candidate cc:
 * f_a(y) dy/ds prod F_j(y), y = sc_cc theta_cc(s). */
static inline double pq_beta_node(const pq_cand *cand, const pq_cand *cc,
                                  const uint32_t *act, uint32_t na, uint32_t a,
                                  double sv)
{
    pq_logs L;
    double dtds, kd, z;
    double x = pq_x_of(cc, sv, &L, &dtds);
    double y = cc->sc * x, s = 0.0;
    for (uint32_t k = 0; k < na; k++) {
        const pq_cand *c = &cand[act[k]];
        double xj = c == cc ? x : y * c->isc;
        if (xj >= 1.0)
            continue;
        z = pq_bz(c, xj, &kd, NULL, &L);
        s += pq_log_cdf(z, kd);
    }
    if (s < -700.0)
        return 0.0;
    const pq_cand *c = &cand[a];
    double jac;
    if (c == cc) {
        z = pq_bz(c, x, &kd, &jac, &L);
        return exp(s - kd) * jac * dtds * PQ_INV_SQRT_2PI;
    }
    /* dz_a/ds = dz_a/dt_a dt_a/dt dt/ds, t_a the logit of y / sc_a */
    double xa = y * c->isc;
    if (xa >= 1.0)
        return 0.0;
    z = pq_bz(c, xa, &kd, &jac, &L);
    return exp(s - kd) * jac * dtds * (x * (1.0 - x)) /
           (xa * (1.0 - xa) * (c->sc * cc->isc)) * PQ_INV_SQRT_2PI;
}

static double pq_logit(double x) { return pc_log(x) - pc_log(1.0 - x); }

static double pq_gl_sum(const pq_cand *cand, const pq_cand *cc,
                        const uint32_t *act, uint32_t na, uint32_t a,
                        double lo, double hi)
{
    double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo), sum = 0.0;
    for (uint32_t k = 0; k < PQ_NODES; k++)
        sum += pq_gl[k][1] *
               pq_beta_node(cand, cc, act, na, a, mid + half * pq_gl[k][0]);
    return half * sum;
}

/* The piece [lo, hi] (scaled values) of cc's window, in cc's s, as two
 * halves split at s = 0 (t(s) has a jump in its second derivative). */
static double pq_beta_piece(const pq_cand *cand, const pq_cand *cc,
                            const uint32_t *act, uint32_t na, uint32_t a,
                            double lo, double hi)
{
    double slo = lo <= cc->lo ? cc->slo : pq_s_of_t(cc, pq_logit(lo * cc->isc));
    double shi = hi >= cc->hi || hi * cc->isc >= 1.0
                     ? cc->shi
                     : pq_s_of_t(cc, pq_logit(hi * cc->isc));
    if (!(shi > slo))
        return 0.0;
    if (slo < 0.0 && shi > 0.0)
        return pq_gl_sum(cand, cc, act, na, a, slo, 0.0) +
               pq_gl_sum(cand, cc, act, na, a, 0.0, shi);
    return pq_gl_sum(cand, cc, act, na, a, slo, shi);
}

static double pq_beta_tail(const pq_cand *c, double y)
{
    pq_logs L = {-1.0, 0.0, 0.0};
    double kd, x = y * c->isc;
    double z = pq_bz(c, x, &kd, NULL, &L);
    return exp(pq_log_cdf(-z, kd));
}


/* The candidates' windows for the Beta quadrature; 0 when some candidate
 * is on the exact sampler (then the estimate is the Monte Carlo one). */
#define PQ_MAX 64

static int ts_pq_setup(const ts_state *s, const uint32_t *idx, uint32_t n,
                       const double *scale, pq_cand *cand)
{
    if (n > PQ_MAX)
        return 0;
    for (uint32_t j = 0; j < n; j++) {
        const ts_arm *x = &s->arm[idx[j]];
        if (x->sampler != SAMPLER_APPROX)
            return 0;
        pq_cand *c = &cand[j];
        double sc = pc_scale_of(scale, idx[j]);
        c->p = x->p;
        c->N = x->N;
        c->negent = x->negent;
        c->ip = 1.0 / x->p;
        c->i1p = 1.0 / (1.0 - x->p);
        c->near = 0.05 * (x->p < 0.5 ? x->p : 1.0 - x->p);
        c->isc = 1.0 / sc;
        c->sc = sc;
        c->t0 = pc_log(x->p) - pc_log(1.0 - x->p);
        c->sg = 1.0 / sqrt(x->N * x->p * (1.0 - x->p));
        c->cp = 0.5 / (x->N * (1.0 - x->p));
        c->cm = 0.5 / (x->N * x->p);
        double d;
        c->slo = pq_bedge(c, -PQ_ZC);
        c->shi = pq_bedge(c, PQ_ZC);
        c->lo = sc / (1.0 + exp(-pq_t_of(c, c->slo, &d)));
        c->hi = sc / (1.0 + exp(-pq_t_of(c, c->shi, &d)));
    }
    return 1;
}

/* The position in idx of the candidate with the highest scaled posterior
 * mean (first on ties). */
static uint32_t ts_anchor(const ts_state *s, const uint32_t *idx, uint32_t n,
                          const double *scale, double *best_out)
{
    uint32_t best = 0;
    double bv = -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t a = idx[j];
        double v = pc_scale_of(scale, a) * s->arm[a].mean;
        if (v > bv) {
            bv = v;
            best = j;
        }
    }
    *best_out = bv;
    return best;
}

static uint32_t ts_select(void *st, pc_rng *r, uint64_t eligible,
                          const double *scale, const double *x,
                          double *propensity, uint32_t *flags)
{
    (void)x;
    ts_state *s = st;
    const double *sc = NULL;
    uint32_t buf[PC_MAX_ARMS], n, anchor;
    const uint32_t *idx = pc_identity;
    double best_mean;
    if (pc_all_candidates(s->k, eligible, scale)) {
        n = s->k;
        anchor = s->best;
        best_mean = s->arm[anchor].mean;
    } else {
        n = pc_candidates(s->k, eligible, scale, buf, &sc);
        idx = buf;
        anchor = ts_anchor(s, idx, n, sc, &best_mean);
    }
    uint32_t a = ts_draw(s, r, idx, n, sc, anchor);
    if (flags)
        *flags = pc_scale_of(sc, a) * s->arm[a].mean >= best_mean
                     ? PC_SEL_EXPLOITED
                     : PC_SEL_EXPLORED;
    if (propensity && s->draws > 0 && n > 1) {
        pq_cand cand[PQ_MAX];
        if (ts_pq_setup(s, idx, n, sc, cand)) {
            uint32_t pos = 0;
            while (idx[pos] != a)
                pos++;
            *propensity = pq_clamp(
                pq_integrate(cand, n, pos, pq_beta_piece, pq_beta_tail));
            return a;
        }
    }
    if (propensity) {
        /* (wins + 1/n) / (M + 1) over M further draws: in (0, 1], and
         * summing to 1 over the n candidates. */
        uint32_t wins = 0;
        pc_rng f;
        pc_rng_fork(r, &f);
        for (uint32_t i = 0; i < s->draws; i++)
            wins += ts_draw(s, &f, idx, n, sc, anchor) == a;
        *propensity = ((double)wins + 1.0 / n) / ((double)s->draws + 1.0);
    }
    return a;
}

static void ts_update(void *st, uint32_t a, double r, const double *x)
{
    (void)x;
    ts_state *s = st;
    r = pc_unit_reward(r);
    if (a >= s->k || r < 0.0)
        return;
    s->updates++;
    if (s->gamma < 1.0)
        pc_cf_discount(&s->arm[0].st, s->k, sizeof(ts_arm), s->gamma);
    s->arm[a].st.n += 1.0;
    s->arm[a].st.s += r;
    if (s->gamma < 1.0) {
        for (uint32_t i = 0; i < s->k; i++)
            ts_refresh(s, &s->arm[i]);
        ts_maintain(s, PC_NONE);
    } else {
        ts_refresh(s, &s->arm[a]);
        ts_maintain(s, a);
    }
}

static void ts_info(const void *st, uint32_t a, pc_arm_info *out)
{
    const ts_state *s = st;
    const ts_arm *x = &s->arm[a];
    out->pulls = x->st.n;
    out->reward_sum = x->st.s;
    out->mean = x->st.n > 0.0 ? x->st.s / x->st.n : 0.0;
    out->param_a = x->alpha;
    out->param_b = x->beta;
}

/* A snapshot's state: the header must be what ts_init writes for
 * (k, p), the statistics finite and consistent, and every cached value
 * exactly what ts_refresh / ts_maintain compute from them. */
static int ts_check(const void *st, uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    const ts_state *s = st;
    if (k == 0 || k > PC_MAX_ARMS || s->k != k || s->draws != pc_param_count(p[3]) ||
        s->prior_a != p[0] || s->prior_b != p[1] || s->gamma != p[2] ||
        s->best >= k || (s->ref != 0 && s->ref != 1) || s->second != s->second)
        return -1;
    if (s->ref && !(s->m_ref > 0.0 && s->m_ref < 1.0 && s->ref_arm < k &&
                    s->arm[s->ref_arm].sampler == SAMPLER_APPROX &&
                    s->lm_ref == pc_log(s->m_ref) &&
                    s->l1m_ref == pc_log(1.0 - s->m_ref)))
        return -1;
    for (uint32_t a = 0; a < k; a++) {
        const ts_arm *x = &s->arm[a];
        if (!pc_stats_ok(x->st.n, x->st.s, 1))
            return -1;
        ts_arm t;
        memcpy(&t, x, sizeof t);
        ts_refresh(s, &t);
        ts_kref(s, &t);
        if (memcmp(&t, x, sizeof t) != 0)
            return -1;
    }
    /* (after the arms: ts_zref reads ref_arm's checked statistics) */
    if (s->z_ref != (s->ref ? ts_zref(s) : 0.0))
        return -1;
    return 0;
}

const pc_policy_vt pc_policy_thompson = {
    "thompson", 0, ts_params, sizeof ts_params / sizeof ts_params[0],
    "alpha", "beta", ts_size, ts_init, ts_select, ts_update, ts_info,
    ts_check,
};

/* ---- Gaussian Thompson sampling ----
 * Reward ~ N(mu_a, noise_var), prior mu_a ~ N(prior_mean, prior_var):
 * posterior precision 1/prior_var + n/noise_var, mean
 * (prior_mean/prior_var + s/noise_var) / precision, with n and s the
 * (discounted) count and sum. */

typedef struct gts_arm {
    pc_cf_stats st;
    double pm, psd; /* posterior mean and standard deviation */
} gts_arm;

typedef struct gts_state {
    uint32_t k;
    uint32_t draws;
    double prior_mean, prior_var, noise_var, gamma;
    uint64_t updates;
    gts_arm arm[];
} gts_state;

static const pc_param_def gts_params[] = {
    {"prior_mean", 0.0, -1e6, 1e6},
    {"prior_var", 1.0, 1e-6, 1e6},
    {"noise_var", 1.0, 1e-6, 1e6},
    {"discount", 1.0, 0.5, 1.0},
    {"propensity_draws", 16.0, 0.0, 1024.0},
};

static size_t gts_size(uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    (void)p;
    if (k == 0 || k > PC_MAX_ARMS)
        return 0;
    return sizeof(gts_state) + (size_t)k * sizeof(gts_arm);
}

static void gts_refresh(const gts_state *s, gts_arm *a)
{
    double prec = 1.0 / s->prior_var + a->st.n / s->noise_var;
    a->pm = (s->prior_mean / s->prior_var + a->st.s / s->noise_var) / prec;
    a->psd = sqrt(1.0 / prec);
}

static void gts_init(void *st, uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    gts_state *s = st;
    s->k = k;
    s->prior_mean = p[0];
    s->prior_var = p[1];
    s->noise_var = p[2];
    s->gamma = p[3];
    s->draws = pc_param_count(p[4]);
    for (uint32_t a = 0; a < k; a++)
        gts_refresh(s, &s->arm[a]);
}

static uint32_t gts_draw(const gts_state *s, pc_rng *rng, const uint32_t *idx,
                         uint32_t n, const double *scale)
{
    pc_rng lr = *rng, *r = &lr; /* a local copy stays in registers */
    pc_argmax m;
    pc_argmax_init(&m);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t a = idx[j];
        const gts_arm *x = &s->arm[a];
        double v = x->pm + x->psd * pc_rng_normal_i(r);
        pc_argmax_add(&m, r, a, pc_scaled(v, pc_scale_of(scale, a)));
    }
    *rng = lr;
    return m.arm == PC_NONE ? idx[0] : m.arm;
}

static uint32_t gts_select(void *st, pc_rng *r, uint64_t eligible,
                           const double *scale, const double *x,
                           double *propensity, uint32_t *flags)
{
    (void)x;
    gts_state *s = st;
    const double *sc;
    uint32_t idx[PC_MAX_ARMS];
    uint32_t n = pc_candidates(s->k, eligible, scale, idx, &sc);
    uint32_t a = gts_draw(s, r, idx, n, sc);
    if (flags) {
        double best = -INFINITY;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t i = idx[j];
            double v = pc_scaled(s->arm[i].pm, pc_scale_of(sc, i));
            if (v > best)
                best = v;
        }
        *flags = pc_scaled(s->arm[a].pm, pc_scale_of(sc, a)) >= best
                     ? PC_SEL_EXPLOITED
                     : PC_SEL_EXPLORED;
    }
    if (propensity) {
        uint32_t wins = 0;
        pc_rng f;
        pc_rng_fork(r, &f);
        for (uint32_t i = 0; i < s->draws; i++)
            wins += gts_draw(s, &f, idx, n, sc) == a;
        *propensity = ((double)wins + 1.0 / n) / ((double)s->draws + 1.0);
    }
    return a;
}

static void gts_update(void *st, uint32_t a, double r, const double *x)
{
    (void)x;
    gts_state *s = st;
    if (a >= s->k || !isfinite(r))
        return;
    s->updates++;
    if (s->gamma < 1.0)
        pc_cf_discount(&s->arm[0].st, s->k, sizeof(gts_arm), s->gamma);
    s->arm[a].st.n += 1.0;
    s->arm[a].st.s += r;
    if (s->gamma < 1.0) {
        for (uint32_t i = 0; i < s->k; i++)
            gts_refresh(s, &s->arm[i]);
    } else {
        gts_refresh(s, &s->arm[a]);
    }
}

static void gts_info(const void *st, uint32_t a, pc_arm_info *out)
{
    const gts_state *s = st;
    const gts_arm *x = &s->arm[a];
    out->pulls = x->st.n;
    out->reward_sum = x->st.s;
    out->mean = x->st.n > 0.0 ? x->st.s / x->st.n : 0.0;
    out->param_a = x->pm;
    out->param_b = x->psd * x->psd;
}

static int gts_check(const void *st, uint32_t k, uint32_t d, const double *p)
{
    (void)d;
    const gts_state *s = st;
    if (k == 0 || k > PC_MAX_ARMS || s->k != k || s->draws != pc_param_count(p[4]) ||
        s->prior_mean != p[0] || s->prior_var != p[1] ||
        s->noise_var != p[2] || s->gamma != p[3])
        return -1;
    for (uint32_t a = 0; a < k; a++) {
        const gts_arm *x = &s->arm[a];
        if (!pc_stats_ok(x->st.n, x->st.s, 0))
            return -1;
        gts_arm t;
        memcpy(&t, x, sizeof t);
        gts_refresh(s, &t);
        if (memcmp(&t, x, sizeof t) != 0)
            return -1;
    }
    return 0;
}

const pc_policy_vt pc_policy_gaussian_thompson = {
    "gaussian_thompson", 0, gts_params,
    sizeof gts_params / sizeof gts_params[0],
    "posterior_mean", "posterior_var", gts_size, gts_init, gts_select,
    gts_update, gts_info, gts_check,
};
