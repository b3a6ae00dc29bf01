/* Contextual linear policies with one ridge regression per action
 * (disjoint models, Li et al. 2010): A_a = lambda I + sum x x^T,
 * b_a = sum r x, theta_a = A_a^-1 b_a. With `intercept` set (default) a
 * constant 1 is appended to the context, so that D = d + 1 features are
 * learnt (an action's base rate needs it).
 *
 * linucb:          index = theta.x + alpha sqrt(x^T A^-1 x); A^-1 is kept
 *                  by Sherman-Morrison rank-one updates, O(D^2) each.
 * linear_thompson: value = theta~.x with theta~ ~ N(theta, v^2 A^-1)
 *                  (Agrawal & Goyal 2013). The lower Cholesky factor L of
 *                  A is kept by rank-one updates (O(D^2)); since only
 *                  theta~.x enters the decision, it is drawn directly as
 *                  theta.x + v |L^-1 x| Z, Z ~ N(0, 1), which has exactly
 *                  the distribution of theta~.x (Var = v^2 x^T A^-1 x =
 *                  v^2 |L^-1 x|^2), at the cost of one triangular solve.
 * No decision inverts or factorises a matrix. */
#include "policy_impl.h"

#include <stddef.h>
#include <string.h>

#define PC_MAX_D (PC_MAX_DIM + 1)

typedef struct lin_state {
    uint32_t k, d, D;   /* D = d + intercept */
    uint32_t draws;     /* linear_thompson propensity_draws */
    int intercept;
    double width;       /* alpha (linucb) or v (linear_thompson) */
    double lambda;
    uint64_t updates;
    size_t stride;      /* doubles per action */
    double data[];      /* per action: M[D*D], b[D], theta[D], n, s */
} lin_state;

static const pc_param_def linucb_params[] = {
    {"alpha", 1.0, 0.0, 100.0},
    {"lambda", 1.0, 1e-6, 1e6},
    {"intercept", 1.0, 0.0, 1.0},
};

static const pc_param_def lints_params[] = {
    {"v", 0.5, 0.0, 100.0},
    {"lambda", 1.0, 1e-6, 1e6},
    {"intercept", 1.0, 0.0, 1.0},
    {"propensity_draws", 16.0, 0.0, 1024.0},
};

static size_t lin_stride(uint32_t D) { return (size_t)D * D + 2u * D + 2u; }

static size_t lin_size(uint32_t k, uint32_t d, const double *p)
{
    if (k == 0 || k > PC_MAX_ACTIONS || d == 0 || d > PC_MAX_DIM)
        return 0;
    uint32_t D = d + (p[2] >= 0.5 ? 1u : 0u);
    return sizeof(lin_state) + (size_t)k * lin_stride(D) * sizeof(double);
}

static double *lin_M(const lin_state *s, uint32_t a)
{
    return (double *)s->data + (size_t)a * s->stride;
}
static double *lin_b(const lin_state *s, uint32_t a)
{
    return lin_M(s, a) + (size_t)s->D * s->D;
}
static double *lin_theta(const lin_state *s, uint32_t a)
{
    return lin_b(s, a) + s->D;
}
static double *lin_ns(const lin_state *s, uint32_t a)
{
    return lin_theta(s, a) + s->D;
}

/* M = diag(diag) */
static void lin_init_common(lin_state *s, uint32_t k, uint32_t d,
                            const double *p, double diag)
{
    s->k = k;
    s->d = d;
    s->intercept = p[2] >= 0.5;
    s->D = d + (uint32_t)s->intercept;
    s->width = p[0];
    s->lambda = p[1];
    s->stride = lin_stride(s->D);
    for (uint32_t a = 0; a < k; a++) {
        double *M = lin_M(s, a);
        for (uint32_t i = 0; i < s->D; i++)
            M[(size_t)i * s->D + i] = diag;
    }
}

/* The context as the model sees it (zeros for NULL, the intercept last).
 * Returns 0 if a value is not finite. */
static int lin_x(const lin_state *s, const double *x, double *xx)
{
    for (uint32_t i = 0; i < s->d; i++) {
        xx[i] = x ? x[i] : 0.0;
        if (!isfinite(xx[i]))
            return 0;
    }
    if (s->intercept)
        xx[s->d] = 1.0;
    return 1;
}

static double dot(const double *a, const double *b, uint32_t n)
{
    double r = 0.0;
    for (uint32_t i = 0; i < n; i++)
        r += a[i] * b[i];
    return r;
}

static void lin_info_common(const lin_state *s, uint32_t a, pc_arm_info *out)
{
    const double *ns = lin_ns(s, a), *th = lin_theta(s, a);
    out->pulls = ns[0];
    out->reward_sum = ns[1];
    out->mean = ns[0] > 0.0 ? ns[1] / ns[0] : 0.0;
    out->param_a = sqrt(dot(th, th, s->D));
}

/* ---- LinUCB ---- */

static void linucb_init(void *st, uint32_t k, uint32_t d, const double *p)
{
    lin_init_common(st, k, d, p, 1.0 / p[1]);
}

static void linucb_update(void *st, uint32_t a, double r, const double *x)
{
    lin_state *s = st;
    double xx[PC_MAX_D], u[PC_MAX_D];
    if (a >= s->k || !isfinite(r) || !lin_x(s, x, xx))
        return;
    uint32_t D = s->D;
    double *M = lin_M(s, a), *b = lin_b(s, a), *th = lin_theta(s, a);
    for (uint32_t i = 0; i < D; i++)
        u[i] = dot(M + (size_t)i * D, xx, D);
    double den = 1.0 + dot(xx, u, D);
    /* A^-1 <- A^-1 - u u^T / (1 + x^T A^-1 x); u_i u_j is symmetric, so
     * A^-1 stays exactly symmetric. */
    for (uint32_t i = 0; i < D; i++) {
        double ui = u[i] / den;
        double *row = M + (size_t)i * D;
        for (uint32_t j = 0; j < D; j++)
            row[j] -= ui * u[j];
    }
    for (uint32_t i = 0; i < D; i++)
        b[i] += r * xx[i];
    for (uint32_t i = 0; i < D; i++)
        th[i] = dot(M + (size_t)i * D, b, D);
    double *ns = lin_ns(s, a);
    ns[0] += 1.0;
    ns[1] += r;
    s->updates++;
}

static uint32_t linucb_select(void *st, pc_rng *r, uint64_t eligible,
                              const double *scale, const double *x,
                              double *propensity, uint32_t *flags)
{
    lin_state *s = st;
    const double *sc;
    uint32_t idx[PC_MAX_ARMS];
    uint32_t n = pc_candidates(s->k, eligible, scale, idx, &sc);
    double xx[PC_MAX_D], mean[PC_MAX_ACTIONS];
    if (!lin_x(s, x, xx))
        memset(xx, 0, sizeof xx); /* the caller rejects such contexts */
    uint32_t D = s->D;
    pc_argmax m;
    pc_argmax_init(&m);
    double best_mean = -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t a = idx[j];
        const double *M = lin_M(s, a);
        double var = 0.0;
        for (uint32_t i = 0; i < D; i++)
            var += xx[i] * dot(M + (size_t)i * D, xx, D);
        double sa = pc_scale_of(sc, a);
        mean[a] = pc_scaled(dot(lin_theta(s, a), xx, D), sa);
        if (mean[a] > best_mean)
            best_mean = mean[a];
        double idx = dot(lin_theta(s, a), xx, D) +
                     s->width * sqrt(var > 0.0 ? var : 0.0);
        pc_argmax_add(&m, r, a, pc_scaled(idx, sa));
    }
    uint32_t a = m.arm == PC_NONE ? idx[0] : m.arm;
    if (propensity)
        *propensity = 1.0 / (m.ties ? m.ties : 1);
    if (flags)
        *flags = mean[a] >= best_mean ? PC_SEL_EXPLOITED : PC_SEL_EXPLORED;
    return a;
}

/* param_b: trace of A^-1. */
static void linucb_info(const void *st, uint32_t a, pc_arm_info *out)
{
    const lin_state *s = st;
    lin_info_common(s, a, out);
    const double *M = lin_M(s, a);
    double t = 0.0;
    for (uint32_t i = 0; i < s->D; i++)
        t += M[(size_t)i * s->D + i];
    out->param_b = t;
}

/* A snapshot's state: the header as lin_init_common writes it for
 * (k, d, p), every number finite, counts >= 0, the matrix's diagonal > 0.
 * With `cholesky`, the upper triangle of L is 0 and theta must be exactly
 * what the two triangular solves give; else theta = A^-1 b exactly. */
static int lin_check_common(const lin_state *s, uint32_t k, uint32_t d,
                            const double *p, int cholesky);

static int linucb_check(const void *st, uint32_t k, uint32_t d,
                        const double *p)
{
    return lin_check_common(st, k, d, p, 0);
}

const pc_policy_vt pc_policy_linucb = {
    "linucb", 1, linucb_params, sizeof linucb_params / sizeof linucb_params[0],
    "theta_norm", "cov_trace", lin_size, linucb_init, linucb_select,
    linucb_update, linucb_info, linucb_check, 0,
};

/* ---- linear Thompson sampling ---- */

static void lints_init(void *st, uint32_t k, uint32_t d, const double *p)
{
    lin_state *s = st;
    lin_init_common(s, k, d, p, sqrt(p[1]));
    s->draws = pc_param_count(p[3]);
}

/* Solve L y = v (forward), L lower triangular, row-major. */
static void lower_solve(const double *L, uint32_t D, const double *v,
                        double *y)
{
    for (uint32_t i = 0; i < D; i++) {
        const double *row = L + (size_t)i * D;
        double t = v[i];
        for (uint32_t j = 0; j < i; j++)
            t -= row[j] * y[j];
        y[i] = t / row[i];
    }
}

/* Solve L^T y = v (backward). */
static void upper_solve_t(const double *L, uint32_t D, const double *v,
                          double *y)
{
    for (uint32_t i = D; i-- > 0;) {
        double t = v[i];
        for (uint32_t j = i + 1; j < D; j++)
            t -= L[(size_t)j * D + i] * y[j];
        y[i] = t / L[(size_t)i * D + i];
    }
}

static void lints_update(void *st, uint32_t a, double r, const double *x)
{
    lin_state *s = st;
    double xx[PC_MAX_D], w[PC_MAX_D], y[PC_MAX_D];
    if (a >= s->k || !isfinite(r) || !lin_x(s, x, xx))
        return;
    uint32_t D = s->D;
    double *L = lin_M(s, a), *b = lin_b(s, a), *th = lin_theta(s, a);
    /* Rank-one Cholesky update: L L^T + x x^T (Givens-like sweep). */
    memcpy(w, xx, sizeof(double) * D);
    for (uint32_t k = 0; k < D; k++) {
        double lkk = L[(size_t)k * D + k];
        double rr = sqrt(lkk * lkk + w[k] * w[k]);
        double c = rr / lkk, sn = w[k] / lkk;
        L[(size_t)k * D + k] = rr;
        for (uint32_t i = k + 1; i < D; i++) {
            double *lik = &L[(size_t)i * D + k];
            *lik = (*lik + sn * w[i]) / c;
            w[i] = c * w[i] - sn * *lik;
        }
    }
    for (uint32_t i = 0; i < D; i++)
        b[i] += r * xx[i];
    lower_solve(L, D, b, y);
    upper_solve_t(L, D, y, th);
    double *ns = lin_ns(s, a);
    ns[0] += 1.0;
    ns[1] += r;
    s->updates++;
}

static uint32_t lints_draw(pc_rng *r, const uint32_t *idx, uint32_t n,
                           const double *sc, const double *mean,
                           const double *sd)
{
    pc_argmax m;
    pc_argmax_init(&m);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t a = idx[j];
        double v = mean[a] + sd[a] * pc_rng_normal_i(r);
        pc_argmax_add(&m, r, a, pc_scaled(v, pc_scale_of(sc, a)));
    }
    return m.arm == PC_NONE ? idx[0] : m.arm;
}

static uint32_t lints_select(void *st, pc_rng *r, uint64_t eligible,
                             const double *scale, const double *x,
                             double *propensity, uint32_t *flags)
{
    lin_state *s = st;
    const double *sc;
    uint32_t idx[PC_MAX_ARMS];
    uint32_t n = pc_candidates(s->k, eligible, scale, idx, &sc);
    double xx[PC_MAX_D], y[PC_MAX_D];
    double mean[PC_MAX_ACTIONS], sd[PC_MAX_ACTIONS];
    if (!lin_x(s, x, xx))
        memset(xx, 0, sizeof xx);
    uint32_t D = s->D;
    double best_mean = -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t a = idx[j];
        lower_solve(lin_M(s, a), D, xx, y);
        mean[a] = dot(lin_theta(s, a), xx, D);
        sd[a] = s->width * sqrt(dot(y, y, D));
        double g = pc_scaled(mean[a], pc_scale_of(sc, a));
        if (g > best_mean)
            best_mean = g;
    }
    uint32_t a = lints_draw(r, idx, n, sc, mean, sd);
    if (flags)
        *flags = pc_scaled(mean[a], pc_scale_of(sc, a)) >= best_mean
                     ? PC_SEL_EXPLOITED
                     : PC_SEL_EXPLORED;
    if (propensity) {
        uint32_t wins = 0;
        pc_rng f;
        pc_rng_fork(r, &f);
        for (uint32_t i = 0; i < s->draws; i++)
            wins += lints_draw(&f, idx, n, sc, mean, sd) == a;
        *propensity = ((double)wins + 1.0 / n) / ((double)s->draws + 1.0);
    }
    return a;
}

/* param_b: trace of the sampling covariance v^2 A^-1 = v^2 |L^-1|_F^2. */
static void lints_info(const void *st, uint32_t a, pc_arm_info *out)
{
    const lin_state *s = st;
    lin_info_common(s, a, out);
    const double *L = lin_M(s, a);
    uint32_t D = s->D;
    double e[PC_MAX_D], y[PC_MAX_D], t = 0.0;
    for (uint32_t j = 0; j < D; j++) {
        memset(e, 0, sizeof e);
        e[j] = 1.0;
        lower_solve(L, D, e, y);
        t += dot(y, y, D);
    }
    out->param_b = s->width * s->width * t;
}

/* M (D x D, row-major) symmetric (to rounding: the rank-one updates
 * round each half on its own) and positive definite: a Cholesky
 * factorisation of its symmetric part (in scratch memory) meets only
 * positive pivots. */
static int spd(const double *M, uint32_t D)
{
    double L[PC_MAX_D * PC_MAX_D];
    for (uint32_t i = 0; i < D; i++)
        for (uint32_t j = 0; j < i; j++) {
            double a = M[(size_t)i * D + j], b = M[(size_t)j * D + i];
            double scale = fabs(M[(size_t)i * D + i]) + fabs(M[(size_t)j * D + j]);
            if (!(fabs(a - b) <= 1e-9 * scale))
                return 0;
        }
    for (uint32_t j = 0; j < D; j++) {
        double t = M[(size_t)j * D + j];
        for (uint32_t q = 0; q < j; q++)
            t -= L[j * PC_MAX_D + q] * L[j * PC_MAX_D + q];
        if (!(t > 1e-300) || !isfinite(t))
            return 0;
        double ljj = sqrt(t);
        L[j * PC_MAX_D + j] = ljj;
        for (uint32_t i = j + 1; i < D; i++) {
            double u = 0.5 * (M[(size_t)i * D + j] + M[(size_t)j * D + i]);
            for (uint32_t q = 0; q < j; q++)
                u -= L[i * PC_MAX_D + q] * L[j * PC_MAX_D + q];
            L[i * PC_MAX_D + j] = u / ljj;
            if (!isfinite(L[i * PC_MAX_D + j]))
                return 0;
        }
    }
    return 1;
}

static int lin_check_common(const lin_state *s, uint32_t k, uint32_t d,
                            const double *p, int cholesky)
{
    int icpt = p[2] >= 0.5;
    uint32_t D = d + (uint32_t)icpt;
    if (k == 0 || k > PC_MAX_ACTIONS || d == 0 || d > PC_MAX_DIM || s->k != k || s->d != d || s->intercept != icpt || s->D != D ||
        s->width != p[0] || s->lambda != p[1] ||
        s->stride != lin_stride(D) ||
        (cholesky && s->draws != pc_param_count(p[3])) ||
        (!cholesky && s->draws != 0))
        return -1;
    double y[PC_MAX_D], th[PC_MAX_D];
    for (uint32_t a = 0; a < k; a++) {
        const double *M = lin_M(s, a), *b = lin_b(s, a);
        const double *theta = lin_theta(s, a), *ns = lin_ns(s, a);
        for (size_t i = 0; i < s->stride; i++)
            if (!isfinite(M[i]))
                return -1;
        if (!pc_stats_ok(ns[0], ns[1], 0))
            return -1;
        for (uint32_t i = 0; i < D; i++) {
            if (!(M[(size_t)i * D + i] > 0.0))
                return -1;
            for (uint32_t j = i + 1; cholesky && j < D; j++)
                if (M[(size_t)i * D + j] != 0.0)
                    return -1;
        }
        if (!cholesky) {
            /* A = lambda I + sum x x^T, so A^-1 <= I / lambda: no entry of
             * a real A^-1 exceeds 1 / lambda */
            double bound = (1.0 + 1e-9) / s->lambda;
            for (size_t i = 0; i < (size_t)D * D; i++)
                if (!(fabs(M[i]) <= bound))
                    return -1;
        }
        if (!cholesky && !spd(M, D))
            return -1; /* A^-1 must be symmetric positive definite, or the
                          rank-one updates that follow lose their meaning */
        if (cholesky) {
            lower_solve(M, D, b, y);
            upper_solve_t(M, D, y, th);
        } else {
            for (uint32_t i = 0; i < D; i++)
                th[i] = dot(M + (size_t)i * D, b, D);
        }
        if (memcmp(th, theta, sizeof(double) * D) != 0)
            return -1;
    }
    return 0;
}

static int lints_check(const void *st, uint32_t k, uint32_t d,
                       const double *p)
{
    return lin_check_common(st, k, d, p, 1);
}

const pc_policy_vt pc_policy_linear_thompson = {
    "linear_thompson", 1, lints_params,
    sizeof lints_params / sizeof lints_params[0],
    "theta_norm", "cov_trace", lin_size, lints_init, lints_select,
    lints_update, lints_info, lints_check, 0,
};

int pc_policy_linear_get(const pc_policy_vt *vt, const void *st, uint32_t a,
                         double *theta, double *matrix)
{
    const lin_state *s = st;
    if ((vt != &pc_policy_linucb && vt != &pc_policy_linear_thompson) ||
        a >= s->k)
        return -1;
    size_t DD = (size_t)s->D * s->D;
    if (theta)
        memcpy(theta, lin_theta(s, a), sizeof(double) * s->D);
    if (matrix)
        memcpy(matrix, lin_M(s, a), sizeof(double) * DD);
    return (int)s->D;
}
