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

void pc_candidates(uint32_t k, uint64_t eligible, const double *scale,
                   pc_set *out, const double **use_scale)
{
    if (k > PC_MAX_ARMS)
        k = PC_MAX_ARMS;
    pc_set_clear(out);
    for (uint32_t a = 64; a < k; a++) /* benchmarks: always eligible */
        pc_set_add(out, a);
    uint64_t all = k >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << k) - 1);
    out->w[0] = eligible & all;
    if (pc_set_empty(out))
        out->w[0] = all;
    *use_scale = NULL;
    if (!scale)
        return;
    pc_set pos;
    pc_set_clear(&pos);
    PC_SET_FOR(out, a)
        if (scale[a] > 0.0) /* false for NaN */
            pc_set_add(&pos, a);
    if (pc_set_empty(&pos))
        return; /* every candidate at 0: scale ignored */
    *out = pos;
    *use_scale = scale;
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

double pc_kl_solve(double p, double negent, double n, double target, int up,
                   double q0)
{
    if (!(target > 0.0) || !(n > 0.0))
        return p;
    double t = target / n; /* d(p, q) = t */
    if (up) {
        if (p >= 1.0)
            return 1.0;
        if (p <= 0.0)
            return -expm1(-t);
    } else {
        if (p <= 0.0)
            return 0.0;
        if (p >= 1.0)
            return exp(-t);
    }
    double lo = up ? p : 0.0, hi = up ? 1.0 : p;
    double q;
    if (q0 > lo && q0 < hi) {
        q = q0;
    } else {
        /* second-order inversion of sqrt(2 d(p, q)) around p */
        double w = sqrt(2.0 * t);
        if (!up)
            w = -w;
        q = p + sqrt(p * (1.0 - p)) * w + (1.0 - 2.0 * p) * w * w / 3.0;
        if (!(q > lo && q < hi))
            q = 0.5 * (lo + hi);
    }
    for (int it = 0; it < 60; it++) {
        double g = negent - p * log(q) - (1.0 - p) * log1p(-q) - t;
        /* d(p, .) grows away from p: g > 0 means q is beyond the root */
        if ((g > 0.0) == (up != 0))
            hi = q;
        else
            lo = q;
        double gp = (q - p) / (q * (1.0 - q));
        double qn = gp != 0.0 ? q - g / gp : 0.5 * (lo + hi);
        if (!(qn > lo && qn < hi))
            qn = 0.5 * (lo + hi);
        if (fabs(qn - q) <= 1e-13 || hi - lo <= 1e-15)
            return qn;
        q = qn;
    }
    return q;
}
