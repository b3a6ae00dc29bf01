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

#define ID8(b) b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7
#define ID64(b) ID8(b), ID8(b + 8), ID8(b + 16), ID8(b + 24), ID8(b + 32), \
    ID8(b + 40), ID8(b + 48), ID8(b + 56)
const uint32_t pc_identity[PC_MAX_ARMS] = {ID64(0), ID64(64), ID64(128),
                                           ID64(192)};

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
        *lq = pc_log(q);
        *l1q = pc_log(1.0 - q);
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
        double a = pc_log(q), b = pc_log(1.0 - q);
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

/* pc_log tables: c_i = 1 / (1 + (i + 1/2) / 128) rounded to a double, and
 * -ln c_i correctly rounded (computed with 50 significant digits). */
const double pc_log_c[128] = {
    0x1.fe01fe01fe020p-1, 0x1.fa11caa01fa12p-1, 0x1.f6310aca0dbb5p-1,
    0x1.f25f644230ab5p-1, 0x1.ee9c7f8458e02p-1, 0x1.eae807aba01ebp-1,
    0x1.e741aa59750e4p-1, 0x1.e3a9179dc1a73p-1, 0x1.e01e01e01e01ep-1,
    0x1.dca01dca01dcap-1, 0x1.d92f2231e7f8ap-1, 0x1.d5cac807572b2p-1,
    0x1.d272ca3fc5b1ap-1, 0x1.cf26e5c44bfc6p-1, 0x1.cbe6d9601cbe7p-1,
    0x1.c8b265afb8a42p-1, 0x1.c5894d10d4986p-1, 0x1.c26b5392ea01cp-1,
    0x1.bf583ee868d8bp-1, 0x1.bc4fd65883e7bp-1, 0x1.b951e2b18ff23p-1,
    0x1.b65e2e3beee05p-1, 0x1.b37484ad806cep-1, 0x1.b094b31d922a4p-1,
    0x1.adbe87f94905ep-1, 0x1.aaf1d2f87ebfdp-1, 0x1.a82e65130e159p-1,
    0x1.a574107688a4ap-1, 0x1.a2c2a87c51ca0p-1, 0x1.a01a01a01a01ap-1,
    0x1.9d79f176b682dp-1, 0x1.9ae24ea5510dap-1, 0x1.9852f0d8ec0ffp-1,
    0x1.95cbb0be377aep-1, 0x1.934c67f9b2ce6p-1, 0x1.90d4f120190d5p-1,
    0x1.8e6527af1373fp-1, 0x1.8bfce8062ff3ap-1, 0x1.899c0f601899cp-1,
    0x1.87427bcc092b9p-1, 0x1.84f00c2780614p-1, 0x1.82a4a0182a4a0p-1,
    0x1.8060180601806p-1, 0x1.7e225515a4f1dp-1, 0x1.7beb3922e017cp-1,
    0x1.79baa6bb6398bp-1, 0x1.77908119ac60dp-1, 0x1.756cac201756dp-1,
    0x1.734f0c541fe8dp-1, 0x1.713786d9c7c09p-1, 0x1.6f26016f26017p-1,
    0x1.6d1a62681c861p-1, 0x1.6b1490aa31a3dp-1, 0x1.691473a88d0c0p-1,
    0x1.6719f3601671ap-1, 0x1.6524f853b4aa3p-1, 0x1.63356b88ac0dep-1,
    0x1.614b36831ae94p-1, 0x1.5f66434292dfcp-1, 0x1.5d867c3ece2a5p-1,
    0x1.5babcc647fa91p-1, 0x1.59d61f123ccaap-1, 0x1.5805601580560p-1,
    0x1.56397ba7c52e2p-1, 0x1.54725e6bb82fep-1, 0x1.52aff56a8054bp-1,
    0x1.50f22e111c4c5p-1, 0x1.4f38f62dd4c9bp-1, 0x1.4d843bedc2c4cp-1,
    0x1.4bd3edda68fe1p-1, 0x1.4a27fad76014ap-1, 0x1.4880522014880p-1,
    0x1.46dce34596066p-1, 0x1.453d9e2c776cap-1, 0x1.43a2730abee4dp-1,
    0x1.420b5265e5951p-1, 0x1.40782d10e6566p-1, 0x1.3ee8f42a5af07p-1,
    0x1.3d5d991aa75c6p-1, 0x1.3bd60d9232955p-1, 0x1.3a524387ac822p-1,
    0x1.38d22d366088ep-1, 0x1.3755bd1c945eep-1, 0x1.35dce5f9f2af8p-1,
    0x1.34679ace01346p-1, 0x1.32f5ced6a1dfap-1, 0x1.3187758e9ebb6p-1,
    0x1.301c82ac40260p-1, 0x1.2eb4ea1fed14bp-1, 0x1.2d50a012d50a0p-1,
    0x1.2bef98e5a3711p-1, 0x1.2a91c92f3c105p-1, 0x1.293725bb804a5p-1,
    0x1.27dfa38a1ce4dp-1, 0x1.268b37cd60127p-1, 0x1.2539d7e9177b2p-1,
    0x1.23eb79717605bp-1, 0x1.22a0122a0122ap-1, 0x1.21579804855e6p-1,
    0x1.2012012012012p-1, 0x1.1ecf43c7fb84cp-1, 0x1.1d8f5672e4abdp-1,
    0x1.1c522fc1ce059p-1, 0x1.1b17c67f2bae3p-1, 0x1.19e0119e0119ep-1,
    0x1.18ab083902bdbp-1, 0x1.1778a191bd684p-1, 0x1.1648d50fc3201p-1,
    0x1.151b9a3fdd5c9p-1, 0x1.13f0e8d344724p-1, 0x1.12c8b89edc0acp-1,
    0x1.11a3019a74826p-1, 0x1.107fbbe011080p-1, 0x1.0f5edfab325a2p-1,
    0x1.0e40655826011p-1, 0x1.0d24456359e3ap-1, 0x1.0c0a7868b4171p-1,
    0x1.0af2f722eecb5p-1, 0x1.09ddba6af8360p-1, 0x1.08cabb37565e2p-1,
    0x1.07b9f29b8eae2p-1, 0x1.06ab59c7912fbp-1, 0x1.059eea0727586p-1,
    0x1.04949cc1664c5p-1, 0x1.038c6b78247fcp-1, 0x1.02864fc7729e9p-1,
    0x1.0182436517a37p-1, 0x1.0080402010080p-1,
};
const double pc_log_t[128] = {
    0x1.ff00aa2b10ba0p-9, 0x1.7dc475f810a69p-7, 0x1.3cea44346a584p-6,
    0x1.b9fc027af919ap-6, 0x1.1b0d98923d97fp-5, 0x1.58a5bafc8e4d3p-5,
    0x1.95c830ec8e3f2p-5, 0x1.d276b8adb0b56p-5, 0x1.075983598e471p-4,
    0x1.253f62f0a1417p-4, 0x1.42edcbea646eep-4, 0x1.60658a93750c4p-4,
    0x1.7da766d7b12d0p-4, 0x1.9ab42462033aep-4, 0x1.b78c82bb0eda0p-4,
    0x1.d4313d66cb35dp-4, 0x1.f0a30c01162a4p-4, 0x1.0671512ca596fp-3,
    0x1.14785846742acp-3, 0x1.2266f190a5acdp-3, 0x1.303d718e47fd5p-3,
    0x1.3dfc2b0ecc62ap-3, 0x1.4ba36f39a55e5p-3, 0x1.59338d9982085p-3,
    0x1.66acd4272ad51p-3, 0x1.740f8f54037a3p-3, 0x1.815c0a14357e9p-3,
    0x1.8e928de886d41p-3, 0x1.9bb362e7dfb85p-3, 0x1.a8becfc882f19p-3,
    0x1.b5b519e8fb5a6p-3, 0x1.c2968558c18c2p-3, 0x1.cf6354e09c5ddp-3,
    0x1.dc1bca0abec7bp-3, 0x1.e8c0252aa5a60p-3, 0x1.f550a564b7b37p-3,
    0x1.00e6c45ad501dp-2, 0x1.071b85fcd590dp-2, 0x1.0d46b579ab74bp-2,
    0x1.136870293a8b0p-2, 0x1.1980d2dd4236fp-2, 0x1.1f8ff9e48a2f3p-2,
    0x1.2596010df763ap-2, 0x1.2b9303ab89d25p-2, 0x1.31871c9544185p-2,
    0x1.3772662bfd85cp-2, 0x1.3d54fa5c1f710p-2, 0x1.432ef2a04e813p-2,
    0x1.49006804009d0p-2, 0x1.4ec9732600269p-2, 0x1.548a2c3add263p-2,
    0x1.5a42ab0f4cfe2p-2, 0x1.5ff3070a793d4p-2, 0x1.659b57303e1f2p-2,
    0x1.6b3bb2235943dp-2, 0x1.70d42e2789236p-2, 0x1.7664e1239dbcfp-2,
    0x1.7bede0a37afbfp-2, 0x1.816f41da0d495p-2, 0x1.86e919a330ba1p-2,
    0x1.8c5b7c858b48bp-2, 0x1.91c67eb45a83ep-2, 0x1.972a341135159p-2,
    0x1.9c86b02dc0862p-2, 0x1.a1dc064d5b995p-2, 0x1.a72a4966bd9e9p-2,
    0x1.ac718c258b0e5p-2, 0x1.b1b1e0ebdfc5ap-2, 0x1.b6eb59d3cf35cp-2,
    0x1.bc1e08b0dad0ap-2, 0x1.c149ff115f027p-2, 0x1.c66f4e3ff6ff9p-2,
    0x1.cb8e0744d7acap-2, 0x1.d0a63ae721e64p-2, 0x1.d5b7f9ae2c684p-2,
    0x1.dac353e2c5955p-2, 0x1.dfc859906d5b5p-2, 0x1.e4c71a8687704p-2,
    0x1.e9bfa659861f5p-2, 0x1.eeb20c640ddf3p-2, 0x1.f39e5bc811e5dp-2,
    0x1.f884a36fe9ec1p-2, 0x1.fd64f20f61571p-2, 0x1.011fab125ff8ap-1,
    0x1.0389eefce633cp-1, 0x1.05f14bd26459cp-1, 0x1.0855c884b450ep-1,
    0x1.0ab76bece14d2p-1, 0x1.0d163ccb9d6b8p-1, 0x1.0f7241c9b497dp-1,
    0x1.11cb81787ccf8p-1, 0x1.1422025243d45p-1, 0x1.1675cababa60ep-1,
    0x1.18c6e0ff5cf07p-1, 0x1.1b154b57da29ep-1, 0x1.1d610fe677003p-1,
    0x1.1faa34b87094cp-1, 0x1.21f0bfc65beecp-1, 0x1.2434b6f483934p-1,
    0x1.26762013430e0p-1, 0x1.28b500df60783p-1, 0x1.2af15f02640acp-1,
    0x1.2d2b4012edc9dp-1, 0x1.2f62a99509546p-1, 0x1.3197a0fa7fe6ap-1,
    0x1.33ca2ba328994p-1, 0x1.35fa4edd36ea0p-1, 0x1.38280fe58797fp-1,
    0x1.3a5373e7ebdf9p-1, 0x1.3c7c7fff73206p-1, 0x1.3ea33936b2f5bp-1,
    0x1.40c7a4880dceap-1, 0x1.42e9c6ddf80bfp-1, 0x1.4509a5133bb0ap-1,
    0x1.472743f33aaadp-1, 0x1.4942a83a2fc07p-1, 0x1.4b5bd6956e273p-1,
    0x1.4d72d3a39fd01p-1, 0x1.4f87a3f5026e9p-1, 0x1.519a4c0ba3446p-1,
    0x1.53aad05b99b7cp-1, 0x1.55b9354b40bcep-1, 0x1.57c57f336f191p-1,
    0x1.59cfb25fae87fp-1, 0x1.5bd7d30e71c73p-1, 0x1.5ddde57149923p-1,
    0x1.5fe1edad18919p-1, 0x1.61e3efda46467p-1,
};
