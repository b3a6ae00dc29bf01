/* The registry of built-in policies and the helpers they share. */
#include "policy_impl.h"

#include <string.h>

const pc_policy_vt *const pc_policies[] = {
    &pc_policy_thompson,
    &pc_policy_gaussian_thompson,
    &pc_policy_ucb1,
    &pc_policy_kl_ucb,
    &pc_policy_epsilon_greedy,
    &pc_policy_softmax,
    &pc_policy_linucb,
    &pc_policy_linear_thompson,
    NULL,
};

const pc_policy_vt *pc_policy_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; pc_policies[i]; i++)
        if (strcmp(pc_policies[i]->name, name) == 0)
            return pc_policies[i];
    return NULL;
}

uint32_t pc_candidates(uint32_t k, uint64_t eligible, const double *scale,
                       uint32_t *idx, const double **use_scale)
{
    if (k > PC_MAX_ARMS)
        k = PC_MAX_ARMS;
    uint64_t all = k >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << k) - 1);
    uint64_t m = eligible & all;
    if (!m && k <= 64)
        m = all;
    uint32_t n = 0;
    for (; m; m &= m - 1)
        idx[n++] = (uint32_t)__builtin_ctzll(m);
    for (uint32_t a = 64; a < k; a++) /* benchmarks: always eligible */
        idx[n++] = a;
    *use_scale = NULL;
    if (!scale)
        return n;
    uint32_t pos = 0;
    for (uint32_t i = 0; i < n; i++)
        pos += scale[idx[i]] > 0.0; /* false for NaN */
    if (!pos)
        return n; /* every candidate at 0: scale ignored */
    uint32_t j = 0;
    for (uint32_t i = 0; i < n; i++)
        if (scale[idx[i]] > 0.0)
            idx[j++] = idx[i];
    *use_scale = scale;
    return j;
}

void pc_cf_discount(pc_cf_stats *st, uint32_t k, size_t stride, double gamma)
{
    unsigned char *p = (unsigned char *)st;
    for (uint32_t a = 0; a < k; a++, p += stride) {
        pc_cf_stats *s = (pc_cf_stats *)(void *)p;
        s->n *= gamma;
        s->s *= gamma;
        if (s->n < PC_TINY) {
            s->n = 0.0;
            s->s = 0.0;
        }
    }
}

void pc_rng_fork(const pc_rng *r, pc_rng *out)
{
    pc_rng_seed(out, r->s[0] ^ pc_rotl64(r->s[1], 17) ^
                         pc_rotl64(r->s[2], 31) ^ pc_rotl64(r->s[3], 47) ^
                         0x5851f42d4c957f2dull);
}

static double set_logs(double q, double *lq, double *l1q)
{
    if (lq) {
        *lq = log(q);
        *l1q = log(1.0 - q);
    }
    return q;
}

double pc_kl_solve(double p, double negent, double n, double target, int up,
                   double q0, double *lq, double *l1q)
{
    if (!(target > 0.0) || !(n > 0.0))
        return set_logs(p, lq, l1q);
    double t = target / n; /* d(p, q) = t */
    if (up) {
        if (p >= 1.0)
            return set_logs(1.0, lq, l1q);
        if (p <= 0.0)
            return set_logs(-expm1(-t), lq, l1q);
    } else {
        if (p <= 0.0)
            return set_logs(0.0, lq, l1q);
        if (p >= 1.0)
            return set_logs(exp(-t), lq, l1q);
    }
    double lo = up ? p : 0.0, hi = up ? 1.0 : p;
    double q;
    if (q0 > lo && q0 < hi) {
        q = q0;
    } else {
        /* third-order inversion of w = sign(q - p) sqrt(2 d(p, q)):
         * q - p = sv w + (1 - 2p) w^2 / 3 + (1 - 13 v) w^3 / (36 sv),
         * v = p (1 - p), sv = sqrt(v) */
        double w = up ? sqrt(2.0 * t) : -sqrt(2.0 * t);
        double v = p * (1.0 - p), sv = sqrt(v);
        q = p + w * (sv + w * ((1.0 - 2.0 * p) / 3.0 +
                               w * (1.0 - 13.0 * v) / (36.0 * sv)));
        if (!(q > lo && q < hi))
            q = 0.5 * (lo + hi);
    }
    for (int it = 0; it < 60; it++) {
        double a = log(q), b = log(1.0 - q);
        double g = negent - p * a - (1.0 - p) * b - t;
        /* d(p, .) grows away from p: g > 0 means q is beyond the root */
        if ((g > 0.0) == (up != 0))
            hi = q;
        else
            lo = q;
        double gp = (q - p) / (q * (1.0 - q));
        double step = gp != 0.0 ? -g / gp : 0.0;
        double qn = q + step;
        if (gp == 0.0 || !(qn > lo && qn < hi)) {
            q = 0.5 * (lo + hi); /* bisection */
            if (hi - lo <= 1e-15)
                return set_logs(q, lq, l1q);
            continue;
        }
        /* Newton's error after this step is about step^2 / (2 |q - p|)
         * (the curvature of d(p, .) relative to its slope). */
        double dq = fabs(q - p);
        if (fabs(step) <= 1e-13 ||
            (fabs(step) <= 0.1 * dq && step * step <= 2e-13 * dq)) {
            if (lq) {
                *lq = a + step / q;
                *l1q = b - step / (1.0 - q);
            }
            return qn;
        }
        q = qn;
    }
    return set_logs(q, lq, l1q);
}
