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
static double ts_invert_from(const ts_arm *x, double z, double *lq,
                             double *l1q, int hint);

static double ts_invert(const ts_arm *x, double z, double *lq, double *l1q)
{
    return ts_invert_from(x, z, lq, l1q, 0);
}

/* hint: start pc_kl_solve from the series value (the same root to within
 * its tolerance; used by the propensity draws, whose thetas need not be
 * bit-identical to the decision's) */
static double ts_invert_from(const ts_arm *x, double z, double *lq,
                             double *l1q, int hint)
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
    return pc_kl_solve(x->p, x->negent, x->N, 0.5 * z * z, z > 0.0,
                       hint ? x->p + dl : -1.0, lq, l1q);
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

/* The bit test of a reference draw: k (1..53) fresh random bits from a
 * pool refilled 64 at a time; nonzero when any is set (U >= 2^-k). */
static inline int pool_bits(pc_rng *r, uint64_t *pool, int *bits, int k)
{
    if (*bits < k) {
        *pool = pc_rng_next_i(r);
        *bits = 64;
    }
    uint64_t top = *pool >> (64 - k);
    *pool <<= k;
    *bits -= k;
    return top != 0;
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
            if (pool_bits(r, &pool, &bits, k))
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

/* Whether an action with centre p draws theta >= thr (< 1), thr's
 * logarithms lm, l1m: the test of ts_beats without the Z itself. */
static int ts_reaches(const ts_arm *x, pc_rng *r, double thr, double lm,
                      double l1m)
{
    double kd = x->kc0 - x->kc1 * lm - x->kc2 * l1m; /* z_m^2 / (2 ln 2) */
    if (thr > x->p && kd >= PC_TS_DIRECT_KD) {
        if (kd >= 53.0)
            return 0; /* Q(z_m) < 2^-54 <= U */
        int k = (int)kd + 1;
        uint64_t b = pc_rng_next_i(r);
        if (b >> (64 - k))
            return 0; /* U >= 2^-k >= Q(z_m) */
        double u = ((double)(b >> 11) + 0.5) * 0x1.0p-53;
        double zm = sqrt(kd / PC_INV_2LN2);
        return u < 0.5 * erfc(zm * 0.70710678118654752);
    }
    double need = (kd > 0.0 ? kd : 0.0) / PC_INV_2LN2;
    double v = pc_rng_normal_i(r);
    return thr > x->p ? (v > 0.0 && v * v >= need)
                      : (v >= 0.0 || v * v <= need);
}

/* Whether action a wins one further Thompson draw over the candidates
 * idx[] (the propensity estimate). Equivalent in distribution to a whole
 * draw followed by "is the winner a" (ties, of probability 0, count as
 * losses): a's theta is drawn first, then each other action is only asked
 * whether it reaches a's scaled value -- the anchor (highest scaled mean)
 * first, as the likeliest -- and the draw stops at the first that does.
 * No other action's theta is solved for. */
static int ts_wins(const ts_state *s, pc_rng *r, const uint32_t *idx,
                   uint32_t n, const double *scale, uint32_t a,
                   uint32_t anchor)
{
    const ts_arm *xa = &s->arm[a];
    double sca = pc_scale_of(scale, a), th, lq = 0.0, l1q = 0.0;
    if (xa->sampler == SAMPLER_APPROX)
        th = ts_invert_from(xa, pc_rng_normal_i(r), &lq, &l1q, 1);
    else
        th = ts_exact(xa, r);
    double ya = sca * th, lkey = xa->sampler == SAMPLER_APPROX ? th : -1.0;
    for (uint32_t i = 0; i < n; i++) {
        /* the anchor first, then the others in order */
        uint32_t pos = i == 0 ? anchor : (i <= anchor ? i - 1 : i);
        uint32_t j = idx[pos];
        if (j == a)
            continue;
        const ts_arm *x = &s->arm[j];
        double sc = pc_scale_of(scale, j);
        if (sc <= ya)
            continue; /* sc * theta < sc <= ya */
        if (x->sampler != SAMPLER_APPROX) {
            if (sc * ts_exact(x, r) >= ya)
                return 0;
            continue;
        }
        double thr = ya / sc;
        if (thr != lkey) {
            lkey = thr;
            lq = pc_log(thr);
            l1q = pc_log(1.0 - thr);
        }
        if (ts_reaches(x, r, thr, lq, l1q))
            return 0;
    }
    return 1;
}

/* ts_wins for the anchor when it is the reference's action (no scale):
 * as in ts_draw, when its Z >= z_ref its theta >= m_ref and each other
 * action's bit test with kref settles most cases without any theta; a's
 * theta is solved for only when some action needs the exact comparison. */
static int ts_wins_ref(const ts_state *s, pc_rng *r, const uint32_t *idx,
                       uint32_t n, uint32_t anchor)
{
    const ts_arm *xa = &s->arm[idx[anchor]];
    double z0 = pc_rng_normal_i(r), th = 0.0, lq = 0.0, l1q = 0.0;
    int use_ref = z0 >= s->z_ref, pending = 1;
    uint64_t pool = 0;
    int bits = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (j == anchor)
            continue;
        const ts_arm *x = &s->arm[idx[j]];
        int k = x->kref;
        if (!use_ref || k < PC_TS_KREF_MIN) {
            if (pending) {
                pending = 0;
                th = ts_invert_from(xa, z0, &lq, &l1q, 1);
            }
            if (x->sampler != SAMPLER_APPROX) {
                if (ts_exact(x, r) >= th)
                    return 0;
            } else if (ts_reaches(x, r, th, lq, l1q)) {
                return 0;
            }
            continue;
        }
        if (k > 53)
            continue; /* Q(z_m) < 2^-54 <= U */
        if (pool_bits(r, &pool, &bits, k))
            continue; /* U >= 2^-k >= Q(z_m) */
        if (pending) {
            pending = 0;
            th = ts_invert_from(xa, z0, &lq, &l1q, 1);
        }
        /* U = 2^-k V, V uniform */
        uint64_t b = pc_rng_next_i(r);
        double v = ((double)(b >> 11) + 0.5) * 0x1.0p-53;
        double kd = x->kc0 - x->kc1 * lq - x->kc2 * l1q;
        double zm = sqrt((kd > 0.0 ? kd : 0.0) / PC_INV_2LN2);
        if (ldexp(v, -k) < 0.5 * erfc(zm * 0.70710678118654752))
            return 0;
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
    const ts_state *s = st;
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
    if (propensity) {
        /* (wins + 1/n) / (M + 1) over M further draws: in (0, 1], and
         * summing to 1 over the n candidates. */
        uint32_t wins = 0;
        pc_rng f;
        pc_rng_fork(r, &f);
        if (!sc && s->ref && a == idx[anchor] && a == s->ref_arm &&
            s->arm[a].sampler == SAMPLER_APPROX) {
            for (uint32_t i = 0; i < s->draws; i++)
                wins += ts_wins_ref(s, &f, idx, n, anchor);
        } else {
            for (uint32_t i = 0; i < s->draws; i++)
                wins += ts_wins(s, &f, idx, n, sc, a, anchor);
        }
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
    ts_check, 0,
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
    const gts_state *s = st;
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
    gts_update, gts_info, gts_check, 0,
};
