/* Shared pieces of the built-in policies (lib/policy*.c). Internal. */
#ifndef PACING_POLICY_IMPL_H
#define PACING_POLICY_IMPL_H

#include "policy.h"
#include "rng_impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

extern const pc_policy_vt pc_policy_thompson;
extern const pc_policy_vt pc_policy_gaussian_thompson;
extern const pc_policy_vt pc_policy_ucb1;
extern const pc_policy_vt pc_policy_kl_ucb;
extern const pc_policy_vt pc_policy_epsilon_greedy;
extern const pc_policy_vt pc_policy_softmax;
extern const pc_policy_vt pc_policy_linucb;
extern const pc_policy_vt pc_policy_linear_thompson;

/* ---- a fast natural logarithm for the inner loops ----
 * x = 2^e m, m in [1, 2); with c = pc_log_c[i] ~ 1 / m (i the top 7 bits
 * of m) and r = m c - 1 in [-1/257, 1/257]: ln x = e ln 2 - ln c +
 * log1p(r), log1p by its degree-6 series (truncation < 2e-18). Absolute
 * error about 2e-16 (the rounding of m c); about 30 instructions where
 * glibc's log takes over 50 and a function call. Positive normal x only;
 * anything else goes to log(). */
extern const double pc_log_c[128], pc_log_t[128]; /* c_i, -ln c_i */

static inline double pc_log(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    uint64_t ex = b >> 52; /* sign and exponent */
    if (ex - 1u >= 0x7feu)  /* <= 0, subnormal, inf, NaN */
        return log(x);
    if (b == 0x3ff0000000000000ull) /* ln 1 = 0 exactly */
        return 0.0;
    int e = (int)ex - 1023;
    uint64_t mb = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double m;
    memcpy(&m, &mb, sizeof m);
    unsigned i = (unsigned)((b >> 45) & 127u);
    double r = m * pc_log_c[i] - 1.0, r2 = r * r;
    /* r - r^2/2 + r^3/3 - r^4/4 + r^5/5 - r^6/6, evaluated in parallel */
    double p = r + r2 * (-1.0 / 2.0 + r * (1.0 / 3.0)) +
               (r2 * r2) * (-1.0 / 4.0 + r * (1.0 / 5.0) - r2 * (1.0 / 6.0));
    return ((double)e * 0x1.62e42fefa3800p-1 + pc_log_t[i]) +
           ((double)e * 0x1.ef35793c76730p-45 + p);
}

/* ln(1 + u) by its series, for |u| <= 0.05 (error < 5e-12). */
static inline double pc_log1p_series(double u)
{
    return u * (1.0 - u * (1.0 / 2.0 - u * (1.0 / 3.0 - u * (1.0 / 4.0 -
           u * (1.0 / 5.0 - u * (1.0 / 6.0 - u * (1.0 / 7.0)))))));
}

/* Values below this are flushed to 0 by discounting (no denormals). */
#define PC_TINY 1e-300

#define PC_NONE UINT32_MAX

/* The candidates of one select(), as a list of action indices (ascending):
 *   - eligible is masked to the k actions (if nothing is left, all k
 *     actions are eligible: the caller promised a non-empty set); with
 *     k > 64 (benchmarks only) actions 64 and above are always eligible;
 *   - with a scale, the candidates are the eligible actions whose scale is
 *     > 0; when every eligible action has scale 0 (or NaN) the scale is
 *     ignored for this call (*use_scale = NULL) and all eligible actions
 *     compete on their unscaled values.
 * idx receives the candidates (room for PC_MAX_ARMS); returns how many
 * (>= 1). *use_scale receives the scale to apply (NULL: none). */
uint32_t pc_candidates(uint32_t k, uint64_t eligible, const double *scale,
                       uint32_t *idx, const double **use_scale);

/* 0, 1, 2, ...: the candidate list when every action is a candidate. */
extern const uint32_t pc_identity[PC_MAX_ARMS];

/* The common case of pc_candidates: no scale and every action eligible. */
static inline int pc_all_candidates(uint32_t k, uint64_t eligible,
                                    const double *scale)
{
    return !scale && k <= 64 &&
           (k == 64 ? eligible == ~(uint64_t)0
                    : (eligible & (((uint64_t)1 << k) - 1)) ==
                          (((uint64_t)1 << k) - 1));
}

/* scale[a] clamped to [0, 1]; 1 without a scale. */
static inline double pc_scale_of(const double *scale, uint32_t a)
{
    if (!scale)
        return 1.0;
    double s = scale[a];
    return s >= 1.0 ? 1.0 : (s > 0.0 ? s : 0.0);
}

/* The value of an action with scale s: s * v for v >= 0 (the multiplicative
 * rule of the contract), and v * (2 - s) for v < 0, so that a lower scale
 * always lowers the value, also for real-valued rewards. */
static inline double pc_scaled(double v, double s)
{
    return v >= 0.0 ? s * v : v * (2.0 - s);
}

/* Arg-max with ties broken uniformly at random (reservoir sampling: the
 * j-th tied maximum replaces the current one with probability 1/j). */
typedef struct pc_argmax {
    double best;
    uint32_t arm;  /* UINT32_MAX until a comparable value was seen */
    uint32_t ties; /* number of actions that share `best` */
} pc_argmax;

static inline void pc_argmax_init(pc_argmax *m)
{
    m->best = -INFINITY;
    m->arm = UINT32_MAX;
    m->ties = 0;
}

static inline void pc_argmax_add(pc_argmax *m, pc_rng *r, uint32_t a, double v)
{
    if (v > m->best) {
        m->best = v;
        m->arm = a;
        m->ties = 1;
    } else if (v == m->best) {
        m->ties++;
        if (pc_rng_below_i(r, m->ties) == 0)
            m->arm = a;
    }
}

/* Context-free statistics of one action. */
typedef struct pc_cf_stats {
    double n; /* discounted number of observations */
    double s; /* discounted reward sum */
} pc_cf_stats;

/* Statistics read from a snapshot: n >= 0 and s finite; with unit
 * rewards also 0 <= s <= n (up to rounding). */
static inline int pc_stats_ok(double n, double s, int unit)
{
    if (!(n >= 0.0) || !isfinite(n) || !isfinite(s))
        return 0;
    return !unit || (s >= 0.0 && s <= n * (1.0 + 1e-12) + 1e-300);
}

/* Multiply every action's n and s by gamma (< 1), flushing tiny values. */
void pc_cf_discount(pc_cf_stats *st, uint32_t k, size_t stride, double gamma);

/* A reward for the [0, 1] policies: clamped; NaN gives -1 (ignored). */
static inline double pc_unit_reward(double r)
{
    if (r != r)
        return -1.0;
    return r < 0.0 ? 0.0 : (r > 1.0 ? 1.0 : r);
}

/* Non-negative integer parameter (propensity_draws). */
static inline uint32_t pc_param_count(double p)
{
    if (!(p > 0.0))
        return 0;
    if (p > 1e6)
        return 1000000u;
    return (uint32_t)(p + 0.5);
}

/* A generator for the propensity estimates, derived from (but not
 * advancing) the main one: asking for a propensity never changes the
 * decisions that follow. */
void pc_rng_fork(const pc_rng *r, pc_rng *out);

/* Bernoulli KL divergence d(p, q) = p ln(p/q) + (1-p) ln((1-p)/(1-q))
 * written as negent(p) - p ln q - (1-p) ln(1-q), with
 * negent(p) = p ln p + (1-p) ln(1-p) cached by the callers. */
static inline double pc_negent(double p)
{
    if (!(p > 0.0 && p < 1.0))
        return 0.0;
    return p * pc_log(p) + (1.0 - p) * pc_log(1.0 - p);
}

/* Solve n * d(p, q) = target for q on the side of p given by `up`
 * (q in [p, 1] if up, else q in [0, p]); safeguarded Newton, started from
 * q0 if it lies strictly on the right side (else from a series guess).
 * If lq is not NULL, *lq and *l1q receive ln q and ln(1 - q) (to within
 * rounding; -inf at the ends). */
double pc_kl_solve(double p, double negent, double n, double target, int up,
                   double q0, double *lq, double *l1q);

#endif
