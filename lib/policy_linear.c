/* Contextual linear policies with one ridge regression per action
 * (disjoint models, Li et al. 2010): A_a = lambda I + sum x x^T,
 * b_a = sum r x, theta_a = A_a^-1 b_a. With `intercept` set (default) a
 * constant 1 is appended to the context, so that D = d + 1 features are
 * learnt (an action's base rate needs it).
 *
 * linucb:          index = theta.x + alpha sqrt(x^T A^-1 x); A^-1 is kept
 *                  by Sherman-Morrison rank-one updates, O(D^2) each, in
 *                  packed symmetric storage (its upper triangle, row by
 *                  row). The quadratic form of every action is one dot
 *                  product of that triangle with the packed outer product
 *                  x x^T (built once per decision, off-diagonal terms
 *                  doubled): D(D+1)/2 multiply-adds per action instead of
 *                  D^2. theta follows each update by the rank-one
 *                  correction theta += (r - x.theta) A_new^-1 x (exactly
 *                  A_new^-1 b_new in exact arithmetic), and every
 *                  LIN_REFRESH-th update of an action recomputes it as
 *                  A^-1 b, which bounds the rounding drift.
 * linear_thompson: value = theta~.x with theta~ ~ N(theta, v^2 A^-1)
 *                  (Agrawal & Goyal 2013). The lower Cholesky factor L of
 *                  A is kept by rank-one updates (O(D^2)); since only
 *                  theta~.x enters the decision, it is drawn directly as
 *                  theta.x + v |L^-1 x| Z, Z ~ N(0, 1), which has exactly
 *                  the distribution of theta~.x (Var = v^2 x^T A^-1 x =
 *                  v^2 |L^-1 x|^2), at the cost of one triangular solve.
 * No decision inverts or factorises a matrix.
 *
 * The inner loops are written with two or four independent partial sums
 * on consecutive elements so that gcc's SLP vectoriser (on at -O2 since
 * gcc 12) turns them into SSE2 pairs; the summation order is fixed by the
 * source, so results do not depend on whether it does. */
#include "policy_impl.h"

#include <stddef.h>
#include <string.h>

#define PC_MAX_D (PC_MAX_DIM + 1)
/* packed triangle of PC_MAX_D, rounded up to an even length */
#define PC_MAX_TRI ((PC_MAX_D * (PC_MAX_D + 1) / 2 + 1) & ~1)
/* linucb: theta is recomputed as A^-1 b at every LIN_REFRESH-th update of
 * an action, by rank-one corrections in between */
#define LIN_REFRESH 16

typedef struct lin_state {
    uint32_t k, d, D;   /* D = d + intercept */
    uint32_t draws;     /* linear_thompson propensity_draws */
    int intercept;
    uint32_t mat;       /* doubles of the matrix per action */
    double width;       /* alpha (linucb) or v (linear_thompson) */
    double lambda;
    uint64_t updates;
    size_t stride;      /* doubles per action */
    /* per action: M[mat], b[D], theta[D], n, s, and for linucb c, e:
     * linucb:          M = the upper triangle of A^-1, packed by rows
     *                  (row i: A^-1[i][i..D-1]), then a 0 if D(D+1)/2 is
     *                  odd; c = rank-one theta corrections since theta was
     *                  last computed as A^-1 b, e = the sum of their
     *                  largest components (the scale of their rounding).
     * linear_thompson: M = L, D x D row-major, upper triangle 0. */
    double data[];
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

static uint32_t tri_len(uint32_t D)
{
    uint32_t t = D * (D + 1) / 2;
    return t + (t & 1u);
}
/* The linucb stride differs from the earlier full-matrix layout's
 * (D^2 + 2D + 2) for every D, so that check_state refuses such states. */
static size_t linucb_stride(uint32_t D) { return tri_len(D) + 2u * D + 4u; }
static size_t lints_stride(uint32_t D) { return (size_t)D * D + 2u * D + 2u; }

static uint32_t lin_D(uint32_t k, uint32_t d, const double *p)
{
    if (k == 0 || k > PC_MAX_ACTIONS || d == 0 || d > PC_MAX_DIM)
        return 0;
    return d + (p[2] >= 0.5 ? 1u : 0u);
}

static size_t linucb_size(uint32_t k, uint32_t d, const double *p)
{
    uint32_t D = lin_D(k, d, p);
    return D ? sizeof(lin_state) + (size_t)k * linucb_stride(D) * sizeof(double)
             : 0;
}

static size_t lints_size(uint32_t k, uint32_t d, const double *p)
{
    uint32_t D = lin_D(k, d, p);
    return D ? sizeof(lin_state) + (size_t)k * lints_stride(D) * sizeof(double)
             : 0;
}

static double *lin_M(const lin_state *s, uint32_t a)
{
    return (double *)s->data + (size_t)a * s->stride;
}
static double *lin_b(const lin_state *s, uint32_t a)
{
    return lin_M(s, a) + s->mat;
}
static double *lin_theta(const lin_state *s, uint32_t a)
{
    return lin_b(s, a) + s->D;
}
static double *lin_ns(const lin_state *s, uint32_t a)
{
    return lin_theta(s, a) + s->D;
}

static void lin_init_common(lin_state *s, uint32_t k, uint32_t d,
                            const double *p, int packed)
{
    s->k = k;
    s->d = d;
    s->intercept = p[2] >= 0.5;
    s->D = d + (uint32_t)s->intercept;
    s->width = p[0];
    s->lambda = p[1];
    s->mat = packed ? tri_len(s->D) : s->D * s->D;
    s->stride = packed ? linucb_stride(s->D) : lints_stride(s->D);
}

/* The context as the model sees it (zeros for NULL, the intercept last).
 * Returns 0 if a value is not finite (x - x is 0 for a finite x, NaN
 * otherwise, and a NaN stays in the sums). */
static int lin_x(const lin_state *s, const double *restrict x,
                 double *restrict xx)
{
    size_t d = s->d;
    if (!x) {
        memset(xx, 0, sizeof(double) * d);
    } else {
        double t0 = 0.0, t1 = 0.0;
        size_t i = 0;
        for (; i + 2 <= d; i += 2) {
            xx[i] = x[i];
            xx[i + 1] = x[i + 1];
            t0 += x[i] - x[i];
            t1 += x[i + 1] - x[i + 1];
        }
        if (i < d) {
            xx[i] = x[i];
            t0 += x[i] - x[i];
        }
        if (!(t0 + t1 == 0.0))
            return 0;
    }
    if (s->intercept)
        xx[d] = 1.0;
    return 1;
}

/* a.b with four partial sums (size_t indices: with 32-bit ones gcc cannot
 * prove a[i], a[i + 1] adjacent and does not pair them) */
static inline double dot(const double *restrict a, const double *restrict b,
                         size_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    if (i + 2 <= n) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        i += 2;
    }
    if (i < n)
        s0 += a[i] * b[i];
    return (s0 + s2) + (s1 + s3);
}

/* a.b with eight partial sums, n even (the packed triangles) */
static inline double dot_long(const double *restrict a,
                              const double *restrict b, size_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    double s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
        s4 += a[i + 4] * b[i + 4];
        s5 += a[i + 5] * b[i + 5];
        s6 += a[i + 6] * b[i + 6];
        s7 += a[i + 7] * b[i + 7];
    }
    for (; i + 2 <= n; i += 2) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
    }
    return ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
}

/* The packed upper triangle is walked two rows at a time: rows i and
 * i + 1 share columns i + 1.. (row i + 1 starts at its diagonal, the
 * element after row i's last), so the loops over columns i + 2.. load
 * each column's vector elements once for both rows and the per-row loop
 * overhead is halved. A single last row (D odd) is its diagonal alone. */

/* z = x x^T packed like the linucb triangle, off-diagonal terms doubled
 * (2 x_i x_j, exactly), so that x^T M x = P.z for M's packed triangle P. */
static void outer_packed(const double *restrict x, size_t D,
                         double *restrict z)
{
    size_t i = 0;
    for (; i + 2 <= D; i += 2) {
        double *z0 = z - i, *z1 = z + (D - i) - (i + 1);
        double x0 = x[i], x1 = x[i + 1], d0 = x0 + x0, d1 = x1 + x1;
        z0[i] = x0 * x0;
        z0[i + 1] = d0 * x1;
        z1[i + 1] = x1 * x1;
        size_t j = i + 2;
        for (; j + 2 <= D; j += 2) {
            z0[j] = d0 * x[j];
            z0[j + 1] = d0 * x[j + 1];
            z1[j] = d1 * x[j];
            z1[j + 1] = d1 * x[j + 1];
        }
        if (j < D) {
            z0[j] = d0 * x[j];
            z1[j] = d1 * x[j];
        }
        z += 2 * (D - i) - 1;
    }
    if (i < D)
        *z++ = x[i] * x[i];
    if ((D * (D + 1) / 2) & 1u)
        *z = 0.0;
}

/* u = M v for M symmetric with its packed upper triangle P. */
static void symv_packed(const double *restrict P, size_t D,
                        const double *restrict v, double *restrict u)
{
    for (size_t i = 0; i < D; i++)
        u[i] = 0.0;
    size_t i = 0;
    for (; i + 2 <= D; i += 2) {
        /* r0[j] = M[i][j] (j >= i), r1[j] = M[i + 1][j] (j > i) */
        const double *r0 = P - i, *r1 = P + (D - i) - (i + 1);
        double v0 = v[i], v1 = v[i + 1];
        double a0 = r0[i] * v0 + r0[i + 1] * v1;
        double a1 = r0[i + 1] * v0 + r1[i + 1] * v1;
        double s0 = 0.0, s1 = 0.0, q0 = 0.0, q1 = 0.0;
        size_t j = i + 2;
        for (; j + 2 <= D; j += 2) {
            s0 += r0[j] * v[j];
            s1 += r0[j + 1] * v[j + 1];
            q0 += r1[j] * v[j];
            q1 += r1[j + 1] * v[j + 1];
            u[j] += r0[j] * v0 + r1[j] * v1;
            u[j + 1] += r0[j + 1] * v0 + r1[j + 1] * v1;
        }
        if (j < D) {
            s0 += r0[j] * v[j];
            q0 += r1[j] * v[j];
            u[j] += r0[j] * v0 + r1[j] * v1;
        }
        u[i] += a0 + (s0 + s1);
        u[i + 1] += a1 + (q0 + q1);
        P += 2 * (D - i) - 1;
    }
    if (i < D)
        u[i] += P[0] * v[i];
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
    lin_state *s = st;
    lin_init_common(s, k, d, p, 1);
    for (uint32_t a = 0; a < k; a++) {
        double *P = lin_M(s, a);
        for (uint32_t i = 0; i < s->D; i++) {
            *P = 1.0 / p[1];
            P += s->D - i;
        }
    }
}

static void linucb_update(void *st, uint32_t a, double r, const double *x)
{
    lin_state *s = st;
    double xx[PC_MAX_D], u[PC_MAX_D];
    if (a >= s->k || !isfinite(r) || !lin_x(s, x, xx))
        return;
    uint32_t D = s->D;
    double *P = lin_M(s, a), *b = lin_b(s, a), *th = lin_theta(s, a);
    double *ns = lin_ns(s, a);
    symv_packed(P, D, xx, u);
    double den = 1.0 + dot(xx, u, D);
    /* A^-1 <- A^-1 - u u^T / (1 + x^T A^-1 x), on the upper triangle,
     * two rows at a time */
    double *row = P;
    size_t i = 0;
    for (; i + 2 <= D; i += 2) {
        double c0 = u[i] / den, c1 = u[i + 1] / den;
        double *r0 = row - i, *r1 = row + (D - i) - (i + 1);
        r0[i] -= c0 * u[i];
        r0[i + 1] -= c0 * u[i + 1];
        r1[i + 1] -= c1 * u[i + 1];
        size_t j = i + 2;
        for (; j + 2 <= D; j += 2) {
            r0[j] -= c0 * u[j];
            r0[j + 1] -= c0 * u[j + 1];
            r1[j] -= c1 * u[j];
            r1[j + 1] -= c1 * u[j + 1];
        }
        if (j < D) {
            r0[j] -= c0 * u[j];
            r1[j] -= c1 * u[j];
        }
        row += 2 * (D - i) - 1;
    }
    if (i < D)
        row[0] -= u[i] / den * u[i];
    for (uint32_t i = 0; i < D; i++)
        b[i] += r * xx[i];
    if (!(ns[2] < LIN_REFRESH - 1)) { /* c = LIN_REFRESH - 1 at most */
        symv_packed(P, D, b, th);
        ns[2] = 0.0;
        ns[3] = 0.0;
    } else {
        /* theta_new = A_new^-1 b_new = theta + (r - x.theta) A_new^-1 x,
         * A_new^-1 x = u / den */
        double g = (r - dot(xx, th, D)) / den, m = 0.0;
        for (uint32_t i = 0; i < D; i++) {
            double c = g * u[i];
            th[i] += c;
            m = fabs(c) > m ? fabs(c) : m;
        }
        ns[2] += 1.0;
        ns[3] += m;
    }
    ns[0] += 1.0;
    ns[1] += r;
    s->updates++;
}

static uint32_t linucb_select(void *st, pc_rng *r, uint64_t eligible,
                              const double *scale, const double *x,
                              double *propensity, uint32_t *flags)
{
    const lin_state *s = st;
    const double *sc;
    uint32_t idx[PC_MAX_ARMS];
    uint32_t n = pc_candidates(s->k, eligible, scale, idx, &sc);
    double xx[PC_MAX_D], z[PC_MAX_TRI], mean[PC_MAX_ACTIONS];
    if (!lin_x(s, x, xx))
        memset(xx, 0, sizeof xx); /* the caller rejects such contexts */
    uint32_t D = s->D, T = s->mat;
    outer_packed(xx, D, z);
    double width = s->width;
    pc_argmax m;
    pc_argmax_init(&m);
    double best_mean = -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t a = idx[j];
        double var = dot_long(lin_M(s, a), z, T);
        double mu = dot(lin_theta(s, a), xx, D);
        double sa = pc_scale_of(sc, a);
        mean[a] = pc_scaled(mu, sa);
        if (mean[a] > best_mean)
            best_mean = mean[a];
        double v = mu + width * sqrt(var > 0.0 ? var : 0.0);
        pc_argmax_add(&m, r, a, pc_scaled(v, sa));
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
    const double *P = lin_M(s, a);
    double t = 0.0;
    for (uint32_t i = 0; i < s->D; i++) {
        t += *P;
        P += s->D - i;
    }
    out->param_b = t;
}

/* The full D x D matrix of a packed triangle. */
static void unpack(const double *P, uint32_t D, double *M)
{
    for (uint32_t i = 0; i < D; i++) {
        for (uint32_t j = i; j < D; j++)
            M[(size_t)i * D + j] = M[(size_t)j * D + i] = P[j - i];
        P += D - i;
    }
}

static int lin_header_ok(const lin_state *s, uint32_t k, uint32_t d,
                         const double *p, int cholesky);
static int spd(const double *M, uint32_t D);

/* A snapshot's linucb state: the header as linucb_init writes it for
 * (k, d, p), every number finite, counts >= 0, the triangle's padding 0,
 * A^-1 positive definite with no entry above 1 / lambda; theta exactly
 * A^-1 b after c = 0 corrections, else within the rounding that c
 * corrections of sizes summing to e can leave. */
static int linucb_check(const void *st, uint32_t k, uint32_t d,
                        const double *p)
{
    const lin_state *s = st;
    if (lin_header_ok(s, k, d, p, 0) != 0 || s->mat != tri_len(s->D) ||
        s->stride != linucb_stride(s->D))
        return -1;
    uint32_t D = s->D, T = D * (D + 1) / 2;
    double M[PC_MAX_D * PC_MAX_D], th[PC_MAX_D];
    /* A = lambda I + sum x x^T, so A^-1 <= I / lambda: no entry of a real
     * A^-1 exceeds 1 / lambda */
    double bound = (1.0 + 1e-9) / s->lambda;
    for (uint32_t a = 0; a < k; a++) {
        const double *P = lin_M(s, a), *b = lin_b(s, a);
        const double *theta = lin_theta(s, a), *ns = lin_ns(s, a);
        for (size_t i = 0; i < s->stride; i++)
            if (!isfinite(P[i]))
                return -1;
        if (!pc_stats_ok(ns[0], ns[1], 0))
            return -1;
        for (uint32_t i = 0; i < T; i++)
            if (!(fabs(P[i]) <= bound))
                return -1;
        if (T < s->mat && P[T] != 0.0)
            return -1;
        unpack(P, D, M);
        for (uint32_t i = 0; i < D; i++)
            if (!(M[(size_t)i * D + i] > 0.0))
                return -1;
        if (!spd(M, D))
            return -1; /* A^-1 must be positive definite, or the rank-one
                          updates that follow lose their meaning */
        double c = ns[2], e = ns[3];
        if (!(c >= 0.0 && c < LIN_REFRESH) || c != (double)(int)c ||
            !(e >= 0.0) || (c == 0.0 && e != 0.0))
            return -1;
        symv_packed(P, D, b, th);
        if (c == 0.0) {
            if (memcmp(th, theta, sizeof(double) * D) != 0)
                return -1;
        } else {
            /* |A^-1 b| <= |b|_1 / lambda entrywise; each correction's
             * rounding is a few ulps of that and of its own size */
            double tol = 0.0;
            for (uint32_t i = 0; i < D; i++)
                tol += fabs(b[i]);
            tol = 1e-9 * (tol * bound + e);
            for (uint32_t i = 0; i < D; i++)
                if (!(fabs(th[i] - theta[i]) <= tol))
                    return -1;
        }
    }
    return 0;
}

const pc_policy_vt pc_policy_linucb = {
    "linucb", 1, linucb_params, sizeof linucb_params / sizeof linucb_params[0],
    "theta_norm", "cov_trace", linucb_size, linucb_init, linucb_select,
    linucb_update, linucb_info, linucb_check, 0,
};

/* ---- linear Thompson sampling ---- */

static void lints_init(void *st, uint32_t k, uint32_t d, const double *p)
{
    lin_state *s = st;
    lin_init_common(s, k, d, p, 0);
    for (uint32_t a = 0; a < k; a++) {
        double *M = lin_M(s, a);
        for (uint32_t i = 0; i < s->D; i++)
            M[(size_t)i * s->D + i] = sqrt(p[1]);
    }
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
    const lin_state *s = st;
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

static int lin_header_ok(const lin_state *s, uint32_t k, uint32_t d,
                         const double *p, int cholesky)
{
    int icpt = p[2] >= 0.5;
    uint32_t D = d + (uint32_t)icpt;
    if (k == 0 || k > PC_MAX_ACTIONS || d == 0 || d > PC_MAX_DIM ||
        s->k != k || s->d != d || s->intercept != icpt || s->D != D ||
        s->width != p[0] || s->lambda != p[1] ||
        (cholesky && s->draws != pc_param_count(p[3])) ||
        (!cholesky && s->draws != 0))
        return -1;
    return 0;
}

/* A snapshot's linear_thompson state: the header as lints_init writes it
 * for (k, d, p), every number finite, counts >= 0, L's diagonal > 0 and
 * upper triangle 0, theta exactly what the two triangular solves give. */
static int lints_check_state(const lin_state *s, uint32_t k, uint32_t d,
                             const double *p)
{
    if (lin_header_ok(s, k, d, p, 1) != 0 || s->mat != s->D * s->D ||
        s->stride != lints_stride(s->D))
        return -1;
    uint32_t D = s->D;
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
            for (uint32_t j = i + 1; j < D; j++)
                if (M[(size_t)i * D + j] != 0.0)
                    return -1;
        }
        lower_solve(M, D, b, y);
        upper_solve_t(M, D, y, th);
        if (memcmp(th, theta, sizeof(double) * D) != 0)
            return -1;
    }
    return 0;
}

static int lints_check(const void *st, uint32_t k, uint32_t d,
                       const double *p)
{
    return lints_check_state(st, k, d, p);
}

const pc_policy_vt pc_policy_linear_thompson = {
    "linear_thompson", 1, lints_params,
    sizeof lints_params / sizeof lints_params[0],
    "theta_norm", "cov_trace", lints_size, lints_init, lints_select,
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
    if (matrix && vt == &pc_policy_linucb)
        unpack(lin_M(s, a), s->D, matrix);
    else if (matrix)
        memcpy(matrix, lin_M(s, a), sizeof(double) * DD);
    return (int)s->D;
}
