/* Regret and speed of the built-in bandit policies on standard problems.
 *
 *   build/bench/regret [--horizon N] [--seeds N] [--problem NAME]
 *                      [--policy NAME] [--propensity] [--cpu-clock]
 *
 * Prints one line per (problem, policy):
 *   problem=... policy=... horizon=... seeds=... regret_mean=...
 *   regret_sd=... ns_per_step=... lai_robbins=...
 *
 * Problems (each seed draws the index of the best action at random):
 *   bernoulli_k10            nine actions at 0.1, one at 0.2
 *   chapelle_k10_e0.1 ...    Chapelle & Li (2011): best 0.5, others 0.5-e,
 *   chapelle_k100_e0.02      K in {10, 100}, e in {0.1, 0.02}
 *   linear_logistic_d10_k5   x ~ N(0, I_10), theta_a ~ N(0, I/10),
 *                            reward ~ Bernoulli(sigmoid(theta_a . x)), K=5
 * The context-free problems run every context-free policy (default
 * horizon 1e5 for bernoulli_k10, 1e6 for the Chapelle & Li settings),
 * the contextual one linucb and linear_thompson (2e4). --horizon sets
 * every problem's horizon.
 *
 * Common random numbers: for a given seed every policy sees the same
 * rewards: the reward of action a at step t is u(seed, t, a) < p_a(t), with
 * u a counter-based hash, and the same contexts; the policy's own generator
 * is seeded the same way for every policy.
 *
 * regret: expected (pseudo-)regret, sum over t of max_a p_a(t) -
 * p_chosen(t); mean and sample standard deviation over the seeds.
 * lai_robbins: sum over suboptimal a of (mu* - mu_a) / KL(mu_a, mu*) ln T,
 * "na" for the contextual problem.
 * ns_per_step: CLOCK_MONOTONIC time of the select + update loop divided by
 * the horizon, median over seeds. The rewards (and contexts) of a block of
 * 1024 steps are generated once for all policies before their clocks
 * start; what is timed is select (propensity not asked unless
 * --propensity), update, reading the reward and adding up the regret.
 * --cpu-clock times with CLOCK_THREAD_CPUTIME_ID instead: the same work
 * without the time the process was not running (on a loaded machine). */
#include "policy.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK 1024

typedef struct problem {
    const char *name;
    int contextual;
    uint32_t k, d;
    double eps;     /* chapelle gap; bernoulli_k10: see mu_of */
    long horizon;   /* default */
} problem;

static const problem problems[] = {
    {"bernoulli_k10", 0, 10, 0, 0.0, 100000},
    {"chapelle_k10_e0.1", 0, 10, 0, 0.1, 1000000},
    {"chapelle_k10_e0.02", 0, 10, 0, 0.02, 1000000},
    {"chapelle_k100_e0.1", 0, 100, 0, 0.1, 1000000},
    {"chapelle_k100_e0.02", 0, 100, 0, 0.02, 1000000},
    {"linear_logistic_d10_k5", 1, 5, 10, 0.0, 20000},
};

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* u(seed, t, a) in (0, 1) */
static double crn_uniform(uint64_t seed, uint64_t t, uint64_t a)
{
    uint64_t h = mix64(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull);
    h = mix64(h ^ (t * 0xd6e8feb86659fd93ull));
    h = mix64(h ^ (a + 0x1234567ull) * 0xa0761d6478bd642full);
    return ((double)(h >> 11) + 0.5) * 0x1.0p-53;
}

/* CLOCK_MONOTONIC (wall time), or with --cpu-clock the thread's CPU time,
 * which leaves out the time the process waited on a loaded machine */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double bern_kl(double p, double q)
{
    double r = 0.0;
    if (p > 0.0)
        r += p * log(p / q);
    if (p < 1.0)
        r += (1.0 - p) * log((1.0 - p) / (1.0 - q));
    return r;
}

/* Means of a context-free problem for one seed. */
static void mu_of(const problem *pb, uint64_t seed, double *mu, double *best)
{
    uint32_t bi = (uint32_t)(mix64(seed ^ 0xbe57u) % pb->k);
    for (uint32_t a = 0; a < pb->k; a++) {
        if (pb->eps > 0.0)
            mu[a] = a == bi ? 0.5 : 0.5 - pb->eps;
        else
            mu[a] = a == bi ? 0.2 : 0.1;
    }
    *best = mu[bi];
}

static double lai_robbins(const problem *pb, long T)
{
    double mu[128], best;
    mu_of(pb, 1, mu, &best);
    double s = 0.0;
    for (uint32_t a = 0; a < pb->k; a++)
        if (mu[a] < best)
            s += (best - mu[a]) / bern_kl(mu[a], best);
    return s * log((double)T);
}

typedef struct run_state {
    const pc_policy_vt *vt;
    void *st;
    pc_rng rng;
    double regret, ns;
} run_state;

/* One seed of one problem for n policies at once: each block of the
 * environment (rewards of every action, contexts) is generated once, then
 * every policy runs through it with its own clock. */
static int run_seed(const problem *pb, const pc_policy_vt *const *vts, int n,
                    long T, uint64_t seed, int want_prop, double *regret,
                    double *ns_per_step)
{
    run_state rs[16];
    uint32_t K = pb->k, d = pb->contextual ? pb->d : 0;
    for (int i = 0; i < n; i++) {
        double params[PC_MAX_PARAMS];
        for (uint32_t j = 0; j < vts[i]->n_params; j++)
            params[j] = vts[i]->params[j].def;
        size_t sz = vts[i]->state_size(K, d, params);
        rs[i].vt = vts[i];
        rs[i].st = sz ? calloc(1, sz) : NULL;
        if (!rs[i].st) {
            while (i--)
                free(rs[i].st);
            return -1;
        }
        vts[i]->init(rs[i].st, K, d, params);
        /* the same policy generator for every policy */
        pc_rng_seed(&rs[i].rng, mix64(seed + 0x51ed));
        rs[i].regret = rs[i].ns = 0.0;
    }
    /* every action eligible (with K > 64, actions 64.. always are) */
    uint64_t all = K >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << K) - 1);

    double mu[128], best = 0.0;
    double theta[8][16];
    if (!pb->contextual) {
        mu_of(pb, seed, mu, &best);
    } else {
        pc_rng tr;
        pc_rng_seed(&tr, mix64(seed ^ 0x7e7au));
        for (uint32_t a = 0; a < K; a++)
            for (uint32_t j = 0; j < pb->d; j++)
                theta[a][j] = pc_rng_normal(&tr) / sqrt((double)pb->d);
    }
    /* one block of precomputed environment */
    static unsigned char rew[BLOCK][128];
    static double xs[BLOCK][16], pr[BLOCK][8], pbest[BLOCK];
    for (long t0 = 0; t0 < T; t0 += BLOCK) {
        long nb = T - t0 < BLOCK ? T - t0 : BLOCK;
        if (pb->contextual) {
            pc_rng cr;
            pc_rng_seed(&cr, mix64(seed * 0x100000001b3ull ^
                                   (uint64_t)(t0 / BLOCK)));
            for (long i = 0; i < nb; i++) {
                double mx = 0.0;
                for (uint32_t j = 0; j < pb->d; j++)
                    xs[i][j] = pc_rng_normal(&cr);
                for (uint32_t a = 0; a < K; a++) {
                    double z = 0.0;
                    for (uint32_t j = 0; j < pb->d; j++)
                        z += theta[a][j] * xs[i][j];
                    pr[i][a] = 1.0 / (1.0 + exp(-z));
                    if (pr[i][a] > mx)
                        mx = pr[i][a];
                    rew[i][a] = crn_uniform(seed, (uint64_t)(t0 + i), a) <
                                pr[i][a];
                }
                pbest[i] = mx;
            }
        } else {
            for (long i = 0; i < nb; i++)
                for (uint32_t a = 0; a < K; a++)
                    rew[i][a] =
                        crn_uniform(seed, (uint64_t)(t0 + i), a) < mu[a];
        }
        for (int k = 0; k < n; k++) {
            run_state *r = &rs[k];
            const pc_policy_vt *vt = r->vt;
            double prop, *pp = want_prop ? &prop : NULL, reg = 0.0;
            uint32_t flags;
            double t_start = now_ns();
            if (pb->contextual) {
                for (long i = 0; i < nb; i++) {
                    uint32_t a = vt->select(r->st, &r->rng, all, NULL, xs[i], pp,
                                            &flags);
                    vt->update(r->st, a, rew[i][a], xs[i]);
                    reg += pbest[i] - pr[i][a];
                }
            } else {
                for (long i = 0; i < nb; i++) {
                    uint32_t a = vt->select(r->st, &r->rng, all, NULL, NULL, pp,
                                            &flags);
                    vt->update(r->st, a, rew[i][a], NULL);
                    reg += best - mu[a];
                }
            }
            r->ns += now_ns() - t_start;
            r->regret += reg;
        }
    }
    for (int k = 0; k < n; k++) {
        regret[k] = rs[k].regret;
        ns_per_step[k] = rs[k].ns / (double)T;
        free(rs[k].st);
    }
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: regret [--horizon N] [--seeds N] [--problem NAME] "
               "[--policy NAME] [--propensity] [--cpu-clock]\nproblems:");
    for (size_t i = 0; i < sizeof problems / sizeof problems[0]; i++)
        fprintf(f, " %s", problems[i].name);
    fprintf(f, "\npolicies:");
    for (size_t i = 0; pc_policies[i]; i++)
        fprintf(f, " %s", pc_policies[i]->name);
    fprintf(f, "\n");
}

int main(int argc, char **argv)
{
    long horizon = 0;
    int seeds = 5, want_prop = 0;
    const char *only_problem = NULL, *only_policy = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--horizon") && i + 1 < argc)
            horizon = strtol(argv[++i], NULL, 10);
        else if (!strcmp(a, "--seeds") && i + 1 < argc)
            seeds = atoi(argv[++i]);
        else if (!strcmp(a, "--problem") && i + 1 < argc)
            only_problem = argv[++i];
        else if (!strcmp(a, "--policy") && i + 1 < argc)
            only_policy = argv[++i];
        else if (!strcmp(a, "--propensity"))
            want_prop = 1;
        else if (!strcmp(a, "--cpu-clock"))
            bench_clock = CLOCK_THREAD_CPUTIME_ID;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (seeds < 1 || seeds > 1000 || horizon < 0) {
        usage(stderr);
        return 2;
    }
    if (only_policy && !pc_policy_find(only_policy)) {
        fprintf(stderr, "regret: unknown policy %s\n", only_policy);
        return 2;
    }
    int matched = 0;
    for (size_t p = 0; p < sizeof problems / sizeof problems[0]; p++) {
        const problem *pb = &problems[p];
        if (only_problem && strcmp(only_problem, pb->name))
            continue;
        long T = horizon ? horizon : pb->horizon;
        const pc_policy_vt *vts[16];
        int n = 0;
        for (size_t q = 0; pc_policies[q] && n < 16; q++) {
            const pc_policy_vt *vt = pc_policies[q];
            if ((only_policy && strcmp(only_policy, vt->name)) ||
                vt->contextual != pb->contextual)
                continue;
            vts[n++] = vt;
        }
        if (!n)
            continue;
        matched += n;
        static double reg[16][1000], nsv[16][1000];
        for (int s = 0; s < seeds; s++) {
            double r[16], ns[16];
            if (run_seed(pb, vts, n, T, (uint64_t)s + 1, want_prop, r, ns)) {
                fprintf(stderr, "regret: %s failed\n", pb->name);
                return 1;
            }
            for (int k = 0; k < n; k++) {
                reg[k][s] = r[k];
                nsv[k][s] = ns[k];
            }
        }
        for (int k = 0; k < n; k++) {
            double sum = 0.0, sq = 0.0;
            for (int s = 0; s < seeds; s++)
                sum += reg[k][s];
            double mean = sum / seeds;
            for (int s = 0; s < seeds; s++)
                sq += (reg[k][s] - mean) * (reg[k][s] - mean);
            double sd = seeds > 1 ? sqrt(sq / (seeds - 1)) : 0.0;
            qsort(nsv[k], (size_t)seeds, sizeof nsv[k][0], cmp_double);
            double med = seeds % 2 ? nsv[k][seeds / 2]
                                   : 0.5 * (nsv[k][seeds / 2 - 1] +
                                            nsv[k][seeds / 2]);
            char lr[32];
            if (pb->contextual)
                snprintf(lr, sizeof lr, "na");
            else
                snprintf(lr, sizeof lr, "%.1f", lai_robbins(pb, T));
            printf("problem=%s policy=%s horizon=%ld seeds=%d regret_mean=%.1f "
                   "regret_sd=%.1f ns_per_step=%.1f lai_robbins=%s\n",
                   pb->name, vts[k]->name, T, seeds, mean, sd, med, lr);
        }
        fflush(stdout);
    }
    if (!matched) {
        fprintf(stderr, "regret: nothing matches\n");
        return 2;
    }
    return 0;
}
