/* The bandit policies (lib/policy*.c) through their vtables: learning,
 * propensities, eligibility, scales, updates, discounting, the linear
 * algebra of the contextual policies, arm_info and snapshot checks.
 * Fixed seeds throughout; the margins are wide enough never to flake yet
 * fail for a broken algorithm. Horizons are kept small enough for a run
 * under AddressSanitizer or valgrind (the regret claims at T = 1e5 are
 * checked at that horizon; see docs/quality.md for the benchmark). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CF[] = {"thompson",       "gaussian_thompson",
                                 "ucb1",           "kl_ucb",
                                 "epsilon_greedy", "softmax"};
#define N_CF (sizeof CF / sizeof CF[0])
static const char *const LIN[] = {"linucb", "linear_thompson"};

/* ---- helpers ---- */

typedef struct pol {
    const pc_policy_vt *vt;
    void *st;
    size_t size;
    uint32_t k, d;
    double p[PC_MAX_PARAMS];
} pol;

static const pc_policy_vt *find(const char *name)
{
    const pc_policy_vt *vt = pc_policy_find(name);
    if (!vt)
        fail_msg("no policy %s", name);
    return vt;
}

static int param_index(const pc_policy_vt *vt, const char *name)
{
    for (uint32_t i = 0; i < vt->n_params; i++)
        if (!strcmp(vt->params[i].name, name))
            return (int)i;
    return -1;
}

/* A policy with default parameters but for name=value pairs (NULL-ended). */
static void pol_new(pol *q, const char *name, uint32_t k, uint32_t d, ...)
{
    memset(q, 0, sizeof *q);
    q->vt = find(name);
    q->k = k;
    q->d = d;
    for (uint32_t i = 0; i < q->vt->n_params; i++)
        q->p[i] = q->vt->params[i].def;
    va_list ap;
    va_start(ap, d);
    for (const char *n; (n = va_arg(ap, const char *));) {
        double v = va_arg(ap, double);
        int i = param_index(q->vt, n);
        if (i < 0)
            fail_msg("%s has no parameter %s", name, n);
        q->p[i] = v;
    }
    va_end(ap);
    q->size = q->vt->state_size(k, d, q->p);
    assert_true(q->size > 0);
    q->st = calloc(1, q->size);
    assert_non_null(q->st);
    q->vt->init(q->st, k, d, q->p);
}

static void pol_free(pol *q) { free(q->st); }

static void pol_copy(pol *dst, const pol *src)
{
    *dst = *src;
    dst->st = malloc(src->size);
    assert_non_null(dst->st);
    memcpy(dst->st, src->st, src->size);
}

static uint32_t sel(pol *q, pc_rng *r, uint64_t elig, const double *scale,
                    const double *x, double *prop, uint32_t *flags)
{
    uint32_t fl = 0;
    uint32_t a = q->vt->select(q->st, r, elig, scale, x, prop, &fl);
    assert_true(a < q->k);
    assert_true(fl == PC_SEL_EXPLORED || fl == PC_SEL_EXPLOITED);
    if (prop)
        assert_true(*prop > 0.0 && *prop <= 1.0);
    if (flags)
        *flags = fl;
    return a;
}

static uint64_t all_mask(uint32_t k)
{
    return k >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << k) - 1);
}

/* K = 10 Bernoulli arms, nine at 0.1 and arm `best` at 0.2: T steps, the
 * rewards from their own generator. Returns the expected regret; counts[]
 * (if not NULL) receives how often each arm was chosen. */
static double run_bernoulli(pol *q, uint64_t seed, long T, uint32_t best,
                            long *counts)
{
    pc_rng r, env;
    pc_rng_seed(&r, seed);
    pc_rng_seed(&env, seed ^ 0xabcdef);
    double regret = 0.0;
    for (long t = 0; t < T; t++) {
        uint32_t a = sel(q, &r, all_mask(q->k), NULL, NULL, NULL, NULL);
        double mu = a == best ? 0.2 : 0.1;
        q->vt->update(q->st, a, pc_rng_uniform(&env) < mu ? 1.0 : 0.0, NULL);
        regret += 0.2 - mu;
        if (counts)
            counts[a]++;
    }
    return regret;
}

static double mean_regret(const char *name, long T, int seeds)
{
    double s = 0.0;
    for (int i = 0; i < seeds; i++) {
        pol q;
        pol_new(&q, name, 10, 0, NULL);
        s += run_bernoulli(&q, 1000 + (uint64_t)i, T, (uint32_t)(i * 3) % 10,
                           NULL);
        pol_free(&q);
    }
    return s / seeds;
}

/* ---- registry and parameters ---- */

static void test_registry(void **state)
{
    (void)state;
    size_t n = 0;
    for (; pc_policies[n]; n++) {
        const pc_policy_vt *vt = pc_policies[n];
        assert_ptr_equal(pc_policy_find(vt->name), vt);
        assert_non_null(vt->param_a_name);
        assert_non_null(vt->param_b_name);
        assert_non_null(vt->check_state);
        assert_true(vt->n_params <= PC_MAX_PARAMS);
        double p[PC_MAX_PARAMS];
        for (uint32_t i = 0; i < vt->n_params; i++) {
            const pc_param_def *d = &vt->params[i];
            assert_true(d->lo <= d->def && d->def <= d->hi);
            for (uint32_t j = 0; j < i; j++)
                assert_string_not_equal(d->name, vt->params[j].name);
            p[i] = d->def;
        }
        uint32_t d = vt->contextual ? 3 : 0;
        assert_int_equal(vt->state_size(0, d, p), 0);
        assert_true(vt->state_size(2, d, p) > 0);
        assert_true(vt->state_size(64, d, p) > vt->state_size(2, d, p));
        if (vt->contextual) {
            assert_int_equal(vt->state_size(2, 0, p), 0);
            assert_int_equal(vt->state_size(2, PC_MAX_DIM + 1, p), 0);
            assert_true(vt->state_size(2, PC_MAX_DIM, p) > 0);
            assert_int_equal(vt->state_size(65, d, p), 0);
        }
    }
    assert_int_equal(n, 8);
    for (size_t i = 0; i < N_CF; i++)
        assert_false(find(CF[i])->contextual);
    assert_true(find("linucb")->contextual);
    assert_true(find("linear_thompson")->contextual);
    assert_null(pc_policy_find("thompson_sampling"));
    assert_null(pc_policy_find(NULL));
    /* the documented defaults */
    const pc_policy_vt *vt = find("ucb1");
    assert_true(fabs(vt->params[param_index(vt, "c")].def - sqrt(2.0)) < 1e-15);
    vt = find("thompson");
    assert_true(vt->params[param_index(vt, "propensity_draws")].def == 16.0);
    assert_true(vt->params[param_index(vt, "discount")].def == 1.0);
    vt = find("epsilon_greedy");
    assert_true(vt->params[param_index(vt, "epsilon")].def == 0.1);
    vt = find("softmax");
    assert_true(vt->params[param_index(vt, "temperature")].def == 0.1);
    vt = find("kl_ucb");
    assert_true(vt->params[param_index(vt, "c")].def == 0.0);
}

/* ---- learning ---- */

static void test_best_arm_most_often(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CF; i++) {
        pol q;
        pol_new(&q, CF[i], 10, 0, NULL);
        long counts[10] = {0};
        run_bernoulli(&q, 7, 100000, 6, counts);
        for (uint32_t a = 0; a < 10; a++)
            if (a != 6 && counts[a] >= counts[6])
                fail_msg("%s: arm %u chosen %ld times, the best %ld", CF[i], a,
                         counts[a], counts[6]);
        pol_free(&q);
    }
}

static void test_thompson_regret(void **state)
{
    (void)state;
    /* the benchmark's claims at T = 1e5 (five seeds): Thompson sampling
     * below 300 and below UCB1; KL-UCB below 400 */
    double ts = mean_regret("thompson", 100000, 5);
    double ucb = mean_regret("ucb1", 100000, 5);
    double kl = mean_regret("kl_ucb", 100000, 5);
    print_message("regret at 1e5: thompson %.1f, kl_ucb %.1f, ucb1 %.1f\n", ts,
                  kl, ucb);
    assert_true(ts < 300.0);
    assert_true(ts < ucb);
    assert_true(kl < 400.0);
    assert_true(kl < ucb);
}

/* The fast Beta sampler against exact Beta draws: the probability that a
 * weaker action wins, for several gaps (exercising the bit test and its
 * tail inversion). */
static void test_thompson_sampler(void **state)
{
    (void)state;
    /* (successes, failures) of a strong and a weak action */
    const double cases[][4] = {
        {400, 1600, 12, 88},  /* P(weak wins) ~ 1e-2 */
        {400, 1600, 8, 92},   /* ~ 1e-3 */
        {2000, 8000, 20, 180}, /* ~ 1e-4 */
        {30, 70, 25, 75},     /* close */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        pol q;
        pol_new(&q, "thompson", 3, 0, NULL);
        /* arm 0 strong, arms 1 and 2 weak (identical) */
        for (uint32_t a = 0; a < 3; a++) {
            double s = a ? cases[c][2] : cases[c][0];
            double f = a ? cases[c][3] : cases[c][1];
            for (int i = 0; i < (int)s; i++)
                q.vt->update(q.st, a, 1.0, NULL);
            for (int i = 0; i < (int)f; i++)
                q.vt->update(q.st, a, 0.0, NULL);
        }
        long T = 200000, wins = 0, exact = 0;
        pc_rng r, e;
        pc_rng_seed(&r, 11 + c);
        pc_rng_seed(&e, 99 + c);
        for (long t = 0; t < T; t++) {
            wins += sel(&q, &r, 7, NULL, NULL, NULL, NULL) != 0;
            double t0 = pc_rng_beta(&e, 1 + cases[c][0], 1 + cases[c][1]);
            double t1 = pc_rng_beta(&e, 1 + cases[c][2], 1 + cases[c][3]);
            double t2 = pc_rng_beta(&e, 1 + cases[c][2], 1 + cases[c][3]);
            exact += t1 > t0 || t2 > t0;
        }
        /* the signed-root approximation is within ~20% in these tails */
        double pw = (double)wins / T, pe = (double)exact / T;
        double tol = 0.25 * pe + 5 * sqrt(pe / T) + 5.0 / T;
        print_message("case %zu: P(weak wins) %.5f, exact %.5f\n", c, pw, pe);
        if (fabs(pw - pe) > tol)
            fail_msg("case %zu: weak arms win %.5f, exact Beta %.5f", c, pw,
                     pe);
        pol_free(&q);
    }
}

/* ---- propensities ---- */

/* Exact policies: the propensity reported with each arm sums to 1 over the
 * eligible arms and matches the frequencies. */
static void test_propensity_exact(void **state)
{
    (void)state;
    const char *names[] = {"epsilon_greedy", "softmax"};
    for (size_t i = 0; i < 2; i++) {
        pol q;
        pol_new(&q, names[i], 6, 0, NULL);
        /* some history: arm 2 best, 1 and 4 tied */
        const double rates[6] = {0.1, 0.4, 0.6, 0.2, 0.4, 0.3};
        for (uint32_t a = 0; a < 6; a++)
            for (int j = 0; j < 10; j++)
                q.vt->update(q.st, a, j < rates[a] * 10 ? 1.0 : 0.0, NULL);
        const double scale[6] = {1, 1, 0.5, 1, 1, 0.7};
        for (int variant = 0; variant < 2; variant++) {
            const double *sc = variant ? scale : NULL;
            uint64_t elig = 0x3b; /* arms 0, 1, 3, 4, 5 */
            double prop[6] = {0};
            long cnt[6] = {0}, T = 200000;
            pc_rng r;
            pc_rng_seed(&r, 5);
            for (long t = 0; t < T; t++) {
                double p;
                uint32_t a = sel(&q, &r, elig, sc, NULL, &p, NULL);
                assert_true((elig >> a) & 1u);
                if (prop[a] == 0.0)
                    prop[a] = p;
                else
                    assert_true(prop[a] == p); /* a function of the state */
                cnt[a]++;
            }
            double sum = 0.0;
            for (uint32_t a = 0; a < 6; a++) {
                sum += prop[a];
                double f = (double)cnt[a] / T;
                if (fabs(f - prop[a]) > 5 * sqrt(prop[a] / T) + 1e-9)
                    fail_msg("%s: arm %u frequency %g, propensity %g",
                             names[i], a, f, prop[a]);
            }
            if (fabs(sum - 1.0) > 1e-12)
                fail_msg("%s: propensities sum to %.17g", names[i], sum);
        }
        pol_free(&q);
    }
}

/* Deterministic index policies: 1 / (number of tied maxima). */
static void test_propensity_ties(void **state)
{
    (void)state;
    const char *names[] = {"ucb1", "kl_ucb", "linucb"};
    for (size_t i = 0; i < 3; i++) {
        pol q;
        uint32_t d = i == 2 ? 2 : 0;
        pol_new(&q, names[i], 4, d, NULL);
        const double x[2] = {0.5, -1.0};
        const double *xp = d ? x : NULL;
        pc_rng r;
        pc_rng_seed(&r, 3);
        double p;
        /* untried: uniform among the untried candidates */
        if (!d) {
            sel(&q, &r, 0xf, NULL, NULL, &p, NULL);
            assert_true(fabs(p - 0.25) < 1e-15);
        }
        /* arms 1 and 3 identical and best, 0 and 2 worse */
        for (uint32_t a = 0; a < 4; a++)
            for (int j = 0; j < 20; j++)
                q.vt->update(q.st, a, (a & 1) ? (j % 2) : (j % 5 == 0), xp);
        long c1 = 0, c3 = 0, T = 4000;
        for (long t = 0; t < T; t++) {
            uint32_t a = sel(&q, &r, 0xf, NULL, xp, &p, NULL);
            assert_true(a == 1 || a == 3);
            assert_true(fabs(p - 0.5) < 1e-15);
            c1 += a == 1;
            c3 += a == 3;
        }
        assert_true(labs(c1 - c3) < 5 * sqrt((double)T));
        /* a single maximum: propensity 1 */
        sel(&q, &r, 0x7, NULL, xp, &p, NULL);
        assert_true(p == 1.0);
        pol_free(&q);
    }
}

/* Thompson-type estimates: (wins + 1/n) / (M + 1), in (0, 1]; exactly 1
 * for a single candidate; their mean matches what the M draws estimate. */
static void test_propensity_thompson(void **state)
{
    (void)state;
    const char *names[] = {"thompson", "gaussian_thompson", "linear_thompson"};
    for (size_t i = 0; i < 3; i++) {
        pol q;
        uint32_t d = i == 2 ? 2 : 0;
        pol_new(&q, names[i], 3, d, NULL);
        const double x[2] = {1.0, 0.5};
        const double *xp = d ? x : NULL;
        for (int j = 0; j < 40; j++) {
            q.vt->update(q.st, 0, j % 2, xp);       /* 0.5 */
            q.vt->update(q.st, 1, (j % 5) < 2, xp); /* 0.4 */
            q.vt->update(q.st, 2, j % 5 == 0, xp);  /* 0.2 */
        }
        pc_rng r;
        pc_rng_seed(&r, 8);
        double p;
        uint32_t a = sel(&q, &r, 0x2, NULL, xp, &p, NULL);
        assert_int_equal(a, 1);
        assert_true(p == 1.0);
        /* with M = 16 draws: p = (wins + 1/3) / 17, so 17 p - 1/3 is an
         * integer in [0, 16] */
        long T = 20000, cnt[3] = {0};
        double psum[3] = {0};
        for (long t = 0; t < T; t++) {
            a = sel(&q, &r, 0x7, NULL, xp, &p, NULL);
            double w = 17.0 * p - 1.0 / 3.0;
            assert_true(fabs(w - floor(w + 0.5)) < 1e-9);
            assert_true(w > -0.5 && w < 16.5);
            cnt[a]++;
            psum[a] += p;
        }
        /* E[p | a chosen] = (16 P(a) + 1/3) / 17 (draws independent of
         * the choice) */
        for (uint32_t b = 0; b < 3; b++) {
            if (cnt[b] < 500)
                continue;
            double f = (double)cnt[b] / T;
            double expect = (16.0 * f + 1.0 / 3.0) / 17.0;
            double got = psum[b] / cnt[b];
            if (fabs(got - expect) > 0.03)
                fail_msg("%s: arm %u mean propensity %g, expected %g",
                         names[i], b, got, expect);
        }
        pol_free(&q);
    }
}

/* Asking for a propensity does not change the decisions. */
static void test_propensity_no_side_effect(void **state)
{
    (void)state;
    const char *names[] = {"thompson", "gaussian_thompson", "linear_thompson",
                           "epsilon_greedy"};
    for (size_t i = 0; i < 4; i++) {
        uint32_t d = i == 2 ? 3 : 0;
        pol a, b;
        pol_new(&a, names[i], 5, d, NULL);
        pol_new(&b, names[i], 5, d, NULL);
        pc_rng ra, rb, env;
        pc_rng_seed(&ra, 21);
        pc_rng_seed(&rb, 21);
        pc_rng_seed(&env, 22);
        for (int t = 0; t < 3000; t++) {
            double x[3] = {pc_rng_normal(&env), pc_rng_normal(&env), 1.0};
            double p;
            uint32_t ca = sel(&a, &ra, 0x1f, NULL, d ? x : NULL, &p, NULL);
            uint32_t cb = sel(&b, &rb, 0x1f, NULL, d ? x : NULL, NULL, NULL);
            assert_int_equal(ca, cb);
            double rw = pc_rng_uniform(&env) < 0.1 * (ca + 1) ? 1.0 : 0.0;
            a.vt->update(a.st, ca, rw, d ? x : NULL);
            b.vt->update(b.st, cb, rw, d ? x : NULL);
        }
        assert_memory_equal(a.st, b.st, a.size);
        pol_free(&a);
        pol_free(&b);
    }
}

/* ---- eligibility and scales ---- */

static void test_ineligible_never_chosen(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CF + 2; i++) {
        const char *name = i < N_CF ? CF[i] : LIN[i - N_CF];
        uint32_t d = i < N_CF ? 0 : 2;
        pol q;
        pol_new(&q, name, 12, d, NULL);
        pc_rng r, env;
        pc_rng_seed(&r, 31);
        pc_rng_seed(&env, 32);
        for (int t = 0; t < 4000; t++) {
            uint64_t elig = pc_rng_next(&env) & 0xfff;
            if (!elig)
                elig = 1u << (t % 12);
            double x[2] = {pc_rng_normal(&env), 1.0};
            double p;
            uint32_t a = sel(&q, &r, elig, NULL, d ? x : NULL, &p, NULL);
            if (!((elig >> a) & 1u))
                fail_msg("%s chose ineligible arm %u", name, a);
            /* rewards favour the high arms: eligibility must not starve
             * them of learning */
            q.vt->update(q.st, a, pc_rng_uniform(&env) < a / 12.0, d ? x : NULL);
        }
        /* bits beyond k are ignored */
        sel(&q, &r, ~(uint64_t)0, NULL, d ? (double[]){0.1, 0.2} : NULL, NULL,
            NULL);
        pol_free(&q);
    }
}

static void test_scale(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CF + 2; i++) {
        const char *name = i < N_CF ? CF[i] : LIN[i - N_CF];
        uint32_t d = i < N_CF ? 0 : 2;
        const double x[2] = {0.3, -0.2};
        const double *xp = d ? x : NULL;
        pol q;
        pol_new(&q, name, 5, d, NULL);
        for (uint32_t a = 0; a < 5; a++)
            for (int j = 0; j < 30; j++)
                q.vt->update(q.st, a, j % 10 < 2 + 2 * (int)a ? 1.0 : 0.0, xp);
        pc_rng r;
        pc_rng_seed(&r, 41);
        /* scale 0 never chosen while another eligible action has scale > 0 */
        const double sc[5] = {0.5, 1.0, 0.0, 0.2, 0.0};
        for (int t = 0; t < 2000; t++) {
            uint32_t a = sel(&q, &r, 0x1f, sc, xp, NULL, NULL);
            assert_true(sc[a] > 0.0);
            a = sel(&q, &r, 0x14 | 0x1, sc, xp, NULL, NULL); /* 0, 2, 4 */
            assert_int_equal(a, 0);
        }
        /* every eligible scale 0: the scale is ignored, exactly as NULL */
        const double zero[5] = {0, 0, 0, 0, 0};
        for (int t = 0; t < 200; t++) {
            pol c1, c2;
            pol_copy(&c1, &q);
            pol_copy(&c2, &q);
            pc_rng r1 = r, r2 = r;
            double p1, p2;
            uint32_t f1, f2;
            uint32_t a1 = sel(&c1, &r1, 0x1f, zero, xp, &p1, &f1);
            uint32_t a2 = sel(&c2, &r2, 0x1f, NULL, xp, &p2, &f2);
            assert_int_equal(a1, a2);
            assert_true(p1 == p2);
            assert_int_equal(f1, f2);
            assert_memory_equal(&r1, &r2, sizeof r1);
            pc_rng_next(&r);
            pol_free(&c1);
            pol_free(&c2);
        }
        pol_free(&q);
    }
    /* scales move the choice: the best action (arm 4) scaled down to 0.1
     * loses to the runner-up for the greedy policies */
    const char *greedy[] = {"epsilon_greedy", "kl_ucb", "ucb1", "thompson"};
    for (size_t i = 0; i < 4; i++) {
        pol q;
        if (i == 0)
            pol_new(&q, greedy[i], 5, 0, "epsilon", 0.0, NULL);
        else
            pol_new(&q, greedy[i], 5, 0, NULL);
        for (uint32_t a = 0; a < 5; a++)
            for (int j = 0; j < 200; j++)
                q.vt->update(q.st, a, j % 10 < 1 + 2 * (int)a ? 1.0 : 0.0,
                             NULL);
        const double sc[5] = {1, 1, 1, 1, 0.1};
        pc_rng r;
        pc_rng_seed(&r, 51);
        long n3 = 0;
        for (int t = 0; t < 1000; t++)
            n3 += sel(&q, &r, 0x1f, sc, NULL, NULL, NULL) == 3;
        if (n3 < 900)
            fail_msg("%s: runner-up chosen %ld / 1000 with the best scaled",
                     greedy[i], n3);
        pol_free(&q);
    }
}

/* ---- updates ---- */

static void test_update_one_observation(void **state)
{
    (void)state;
    pol q;
    pol_new(&q, "thompson", 3, 0, "prior_alpha", 2.0, "prior_beta", 3.0, NULL);
    pc_arm_info in;
    q.vt->arm_info(q.st, 1, &in);
    assert_true(in.pulls == 0 && in.reward_sum == 0 && in.mean == 0);
    assert_true(in.param_a == 2.0 && in.param_b == 3.0);
    q.vt->update(q.st, 1, 1.0, NULL);
    q.vt->arm_info(q.st, 1, &in);
    assert_true(in.param_a == 3.0 && in.param_b == 3.0 && in.pulls == 1.0);
    q.vt->update(q.st, 1, 0.0, NULL);
    q.vt->arm_info(q.st, 1, &in);
    assert_true(in.param_a == 3.0 && in.param_b == 4.0 && in.pulls == 2.0);
    q.vt->update(q.st, 1, 0.25, NULL); /* a fractional reward */
    q.vt->arm_info(q.st, 1, &in);
    assert_true(in.param_a == 3.25 && in.param_b == 4.75 && in.pulls == 3.0);
    assert_true(in.reward_sum == 1.25 && fabs(in.mean - 1.25 / 3) < 1e-15);
    /* out-of-range rewards clamp, NaN and bad arms are ignored */
    q.vt->update(q.st, 1, 7.0, NULL);
    q.vt->update(q.st, 1, NAN, NULL);
    q.vt->update(q.st, 3, 1.0, NULL);
    q.vt->arm_info(q.st, 1, &in);
    assert_true(in.param_a == 4.25 && in.pulls == 4.0);
    q.vt->arm_info(q.st, 0, &in);
    assert_true(in.pulls == 0.0);
    pol_free(&q);

    /* every policy: pulls + 1 and reward_sum + r, the others unchanged */
    for (size_t i = 0; i < N_CF + 2; i++) {
        const char *name = i < N_CF ? CF[i] : LIN[i - N_CF];
        uint32_t d = i < N_CF ? 0 : 2;
        const double x[2] = {1.0, 2.0};
        pol_new(&q, name, 3, d, NULL);
        for (int j = 0; j < 5; j++) {
            pc_arm_info b0, b2, a0, a2;
            q.vt->arm_info(q.st, 0, &b0);
            q.vt->arm_info(q.st, 2, &b2);
            q.vt->update(q.st, 2, 0.5, d ? x : NULL);
            q.vt->arm_info(q.st, 0, &a0);
            q.vt->arm_info(q.st, 2, &a2);
            assert_true(a2.pulls == b2.pulls + 1.0);
            assert_true(a2.reward_sum == b2.reward_sum + 0.5);
            assert_true(a2.mean == 0.5);
            /* (param_a/b may depend on every arm: ucb's ln t, ...) */
            assert_true(a0.pulls == b0.pulls &&
                        a0.reward_sum == b0.reward_sum && a0.mean == b0.mean);
        }
        pol_free(&q);
    }
    /* gaussian_thompson: the conjugate normal update */
    pol_new(&q, "gaussian_thompson", 2, 0, "prior_mean", 1.0, "prior_var", 4.0,
            "noise_var", 2.0, NULL);
    q.vt->update(q.st, 0, 3.0, NULL);
    q.vt->update(q.st, 0, -1.0, NULL);
    q.vt->arm_info(q.st, 0, &in);
    double prec = 1.0 / 4.0 + 2.0 / 2.0;
    assert_true(fabs(in.param_b - 1.0 / prec) < 1e-15);
    assert_true(fabs(in.param_a - (1.0 / 4.0 + 2.0 / 2.0) / prec) < 1e-15);
    pol_free(&q);
}

static void test_discount(void **state)
{
    (void)state;
    const double g = 0.9;
    for (size_t i = 0; i < N_CF; i++) {
        pol q;
        pol_new(&q, CF[i], 3, 0, "discount", g, NULL);
        for (int j = 0; j < 10; j++)
            q.vt->update(q.st, 1, 1.0, NULL);
        pc_arm_info in;
        q.vt->arm_info(q.st, 1, &in);
        double expect = (1.0 - pow(g, 10)) / (1.0 - g); /* sum of g^j */
        assert_true(fabs(in.pulls - expect) < 1e-12);
        for (int j = 0; j < 5; j++)
            q.vt->update(q.st, 0, 0.0, NULL);
        pc_arm_info after;
        q.vt->arm_info(q.st, 1, &after);
        assert_true(fabs(after.pulls - expect * pow(g, 5)) < 1e-12);
        assert_true(fabs(after.reward_sum - expect * pow(g, 5)) < 1e-12);
        if (!strcmp(CF[i], "thompson")) {
            /* priors are kept apart: alpha = 1 + discounted successes */
            assert_true(fabs(after.param_a - (1.0 + expect * pow(g, 5))) <
                        1e-12);
            assert_true(after.param_b == 1.0);
        }
        pol_free(&q);
    }
    /* non-stationary: after 20000 steps the best arm changes; with
     * discounting the policy follows within a few hundred steps, without
     * it stays with the old arm (thousands of observations) far longer */
    const char *names[] = {"thompson", "kl_ucb", "ucb1", "epsilon_greedy"};
    for (size_t i = 0; i < 4; i++) {
        long after_switch[2] = {0, 0};
        for (int disc = 0; disc < 2; disc++) {
            pol q;
            pol_new(&q, names[i], 2, 0, "discount", disc ? 0.99 : 1.0, NULL);
            pc_rng r, env;
            pc_rng_seed(&r, 61);
            pc_rng_seed(&env, 62);
            for (int t = 0; t < 21500; t++) {
                uint32_t a = sel(&q, &r, 3, NULL, NULL, NULL, NULL);
                /* arm 0 falls from 0.8 to 0.3, arm 1 stays at 0.5 */
                double mu = a == 1 ? 0.5 : (t < 20000 ? 0.8 : 0.3);
                q.vt->update(q.st, a, pc_rng_uniform(&env) < mu, NULL);
                if (t >= 20500)
                    after_switch[disc] += a == 1;
            }
            pol_free(&q);
        }
        print_message("%s: new best chosen %ld / 1000 discounted, %ld not\n",
                      names[i], after_switch[1], after_switch[0]);
        if (!(after_switch[1] > 600 && after_switch[0] < 300))
            fail_msg("%s: new best arm chosen %ld / 1000 (discounted) vs %ld",
                     names[i], after_switch[1], after_switch[0]);
    }
}

/* ---- flags ---- */

static void test_flags(void **state)
{
    (void)state;
    pol q;
    pol_new(&q, "epsilon_greedy", 4, 0, "epsilon", 0.0, NULL);
    pc_rng r;
    pc_rng_seed(&r, 71);
    uint32_t f;
    sel(&q, &r, 0xf, NULL, NULL, NULL, &f);
    assert_int_equal(f, PC_SEL_EXPLORED); /* untried */
    for (uint32_t a = 0; a < 4; a++)
        q.vt->update(q.st, a, a == 2 ? 1.0 : 0.0, NULL);
    for (int t = 0; t < 100; t++) {
        assert_int_equal(sel(&q, &r, 0xf, NULL, NULL, NULL, &f), 2);
        assert_int_equal(f, PC_SEL_EXPLOITED);
    }
    pol_free(&q);
    /* epsilon 1: explored unless it happens to pick the best */
    pol_new(&q, "epsilon_greedy", 4, 0, "epsilon", 1.0, NULL);
    for (uint32_t a = 0; a < 4; a++)
        q.vt->update(q.st, a, a == 2 ? 1.0 : 0.0, NULL);
    for (int t = 0; t < 200; t++) {
        uint32_t a = sel(&q, &r, 0xf, NULL, NULL, NULL, &f);
        assert_int_equal(f, a == 2 ? PC_SEL_EXPLOITED : PC_SEL_EXPLORED);
    }
    pol_free(&q);
    /* every policy: exploited iff the chosen action has the best (scaled)
     * posterior or empirical mean */
    for (size_t i = 0; i < N_CF; i++) {
        pol_new(&q, CF[i], 3, 0, NULL);
        long exploited = 0;
        run_bernoulli(&q, 3, 2000, 1, NULL);
        for (int t = 0; t < 500; t++) {
            uint32_t a = sel(&q, &r, 7, NULL, NULL, NULL, &f);
            pc_arm_info in[3];
            for (uint32_t b = 0; b < 3; b++)
                q.vt->arm_info(q.st, b, &in[b]);
            double best = -INFINITY;
            for (uint32_t b = 0; b < 3; b++) {
                double m = in[b].mean;
                if (!strcmp(CF[i], "thompson"))
                    m = in[b].param_a / (in[b].param_a + in[b].param_b);
                if (!strcmp(CF[i], "gaussian_thompson"))
                    m = in[b].param_a;
                in[b].mean = m;
                if (m > best)
                    best = m;
            }
            uint32_t expect =
                in[a].mean >= best ? PC_SEL_EXPLOITED : PC_SEL_EXPLORED;
            assert_int_equal(f, expect);
            exploited += f == PC_SEL_EXPLOITED;
        }
        if (strcmp(CF[i], "softmax"))
            assert_true(exploited > 250);
        pol_free(&q);
    }
}

/* ---- arm_info ---- */

static double kl(double p, double q)
{
    double r = 0.0;
    if (p > 0)
        r += p * log(p / q);
    if (p < 1)
        r += (1 - p) * log((1 - p) / (1 - q));
    return r;
}

static void test_arm_info(void **state)
{
    (void)state;
    for (size_t i = 0; pc_policies[i]; i++) {
        const pc_policy_vt *vt = pc_policies[i];
        pol q;
        uint32_t d = vt->contextual ? 2 : 0;
        pol_new(&q, vt->name, 4, d, NULL);
        const double x[2] = {0.5, 1.5};
        for (uint32_t a = 0; a < 3; a++)
            for (int j = 0; j < 10 * (int)(a + 1); j++)
                vt->update(q.st, a, j % 3 == 0 ? 1.0 : 0.0, d ? x : NULL);
        double psum = 0.0;
        for (uint32_t a = 0; a < 4; a++) {
            pc_arm_info in;
            memset(&in, 0xff, sizeof in);
            vt->arm_info(q.st, a, &in);
            assert_true(in.pulls == (a < 3 ? 10.0 * (a + 1) : 0.0));
            assert_true(isfinite(in.param_a) && isfinite(in.param_b));
            if (in.pulls > 0)
                assert_true(fabs(in.mean - in.reward_sum / in.pulls) < 1e-15);
            else
                assert_true(in.mean == 0.0 && in.reward_sum == 0.0);
            psum += in.param_a;
            if (!strcmp(vt->name, "ucb1") || !strcmp(vt->name, "kl_ucb")) {
                assert_true(in.param_b <= in.mean && in.mean <= in.param_a);
                assert_true(in.param_b >= 0.0 && in.param_a <= 1.0);
            }
            if (!strcmp(vt->name, "kl_ucb") && in.pulls > 0) {
                /* the index solves n d(mean, q) = ln t by bisection */
                double t = 60.0, lo = in.mean, hi = 1.0;
                for (int it = 0; it < 200; it++) {
                    double mid = 0.5 * (lo + hi);
                    if (in.pulls * kl(in.mean, mid) > log(t))
                        hi = mid;
                    else
                        lo = mid;
                }
                assert_true(fabs(in.param_a - lo) < 1e-9);
                lo = 0.0;
                hi = in.mean;
                for (int it = 0; it < 200; it++) {
                    double mid = 0.5 * (lo + hi);
                    if (in.pulls * kl(in.mean, mid) > log(t))
                        lo = mid;
                    else
                        hi = mid;
                }
                assert_true(fabs(in.param_b - hi) < 1e-9);
            }
            if (vt->contextual)
                assert_true(in.param_a >= 0.0 && in.param_b > 0.0);
        }
        if (!strcmp(vt->name, "epsilon_greedy") || !strcmp(vt->name, "softmax"))
            assert_true(fabs(psum - 1.0) < 1e-12); /* all tried? no: 1/1 */
        pol_free(&q);
    }
}

/* ---- contextual ---- */

/* d = 10, K = 5, x ~ N(0, I), theta_a ~ N(0, I/d), reward ~
 * Bernoulli(sigmoid(theta_a . x)); expected regret over T steps. */
static double run_logistic(pol *q, uint64_t seed, long T, int uniform)
{
    pc_rng env, r;
    pc_rng_seed(&env, seed);
    pc_rng_seed(&r, seed + 1);
    double theta[5][10];
    for (int a = 0; a < 5; a++)
        for (int j = 0; j < 10; j++)
            theta[a][j] = pc_rng_normal(&env) / sqrt(10.0);
    double regret = 0.0;
    for (long t = 0; t < T; t++) {
        double x[10], p[5], best = 0.0;
        for (int j = 0; j < 10; j++)
            x[j] = pc_rng_normal(&env);
        for (int a = 0; a < 5; a++) {
            double z = 0.0;
            for (int j = 0; j < 10; j++)
                z += theta[a][j] * x[j];
            p[a] = 1.0 / (1.0 + exp(-z));
            best = p[a] > best ? p[a] : best;
        }
        uint32_t a = uniform ? pc_rng_below(&r, 5)
                             : sel(q, &r, 0x1f, NULL, x, NULL, NULL);
        double u = pc_rng_uniform(&env);
        if (!uniform)
            q->vt->update(q->st, a, u < p[a] ? 1.0 : 0.0, x);
        regret += best - p[a];
    }
    return regret;
}

static void test_linear_learns(void **state)
{
    (void)state;
    long T = 20000;
    double rnd = run_logistic(NULL, 5, T, 1);
    for (size_t i = 0; i < 2; i++) {
        pol q;
        pol_new(&q, LIN[i], 5, 10, NULL);
        double reg = run_logistic(&q, 5, T, 0);
        print_message("%s regret %.1f, uniform %.1f\n", LIN[i], reg, rnd);
        if (!(reg < 0.2 * rnd))
            fail_msg("%s: regret %g, uniform %g", LIN[i], reg, rnd);
        pol_free(&q);
    }
}

/* Gauss-Jordan inverse with partial pivoting (n <= 8). */
static void invert(const double *A, double *out, int n)
{
    double m[8][16];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 2 * n; j++)
            m[i][j] = j < n ? A[i * n + j] : (j - n == i);
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(m[i][c]) > fabs(m[p][c]))
                p = i;
        for (int j = 0; j < 2 * n; j++) {
            double t = m[c][j];
            m[c][j] = m[p][j];
            m[p][j] = t;
        }
        double v = m[c][c];
        for (int j = 0; j < 2 * n; j++)
            m[c][j] /= v;
        for (int i = 0; i < n; i++) {
            if (i == c)
                continue;
            double f = m[i][c];
            for (int j = 0; j < 2 * n; j++)
                m[i][j] -= f * m[c][j];
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            out[i * n + j] = m[i][j + n];
}

static void test_linear_algebra(void **state)
{
    (void)state;
    for (int icpt = 0; icpt < 2; icpt++) {
        const int d = 5, D = d + icpt;
        pol u, t;
        pol_new(&u, "linucb", 2, d, "lambda", 0.7, "intercept", (double)icpt,
                NULL);
        pol_new(&t, "linear_thompson", 2, d, "lambda", 0.7, "intercept",
                (double)icpt, NULL);
        double A[64] = {0}, b[8] = {0};
        for (int i = 0; i < D; i++)
            A[i * D + i] = 0.7;
        pc_rng env;
        pc_rng_seed(&env, 81 + icpt);
        for (int n = 0; n < 1000; n++) {
            double x[8], xx[8], r = pc_rng_uniform(&env);
            for (int j = 0; j < d; j++)
                xx[j] = x[j] = pc_rng_normal(&env) * (1 + j);
            if (icpt)
                xx[d] = 1.0;
            for (int i = 0; i < D; i++) {
                b[i] += r * xx[i];
                for (int j = 0; j < D; j++)
                    A[i * D + j] += xx[i] * xx[j];
            }
            u.vt->update(u.st, 1, r, x);
            t.vt->update(t.st, 1, r, x);
        }
        double Ainv[64], M[64], th[8];
        invert(A, Ainv, D);
        /* linucb: A^-1 by Sherman-Morrison equals the direct inverse */
        assert_int_equal(pc_policy_linear_get(u.vt, u.st, 1, th, M), D);
        for (int i = 0; i < D * D; i++)
            if (fabs(M[i] - Ainv[i]) > 1e-9)
                fail_msg("A^-1[%d]: %g vs %g", i, M[i], Ainv[i]);
        for (int i = 0; i < D; i++) {
            double e = 0.0;
            for (int j = 0; j < D; j++)
                e += Ainv[i * D + j] * b[j];
            assert_true(fabs(th[i] - e) < 1e-9);
        }
        /* linear_thompson: L L^T equals A, L lower triangular */
        assert_int_equal(pc_policy_linear_get(t.vt, t.st, 1, th, M), D);
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) {
                if (j > i)
                    assert_true(M[i * D + j] == 0.0);
                double e = 0.0;
                for (int k = 0; k < D; k++)
                    e += M[i * D + k] * M[j * D + k];
                if (fabs(e - A[i * D + j]) > 1e-9 * (1 + fabs(A[i * D + j])))
                    fail_msg("LL^T[%d][%d] %g vs A %g", i, j, e, A[i * D + j]);
            }
        for (int i = 0; i < D; i++) {
            double e = 0.0;
            for (int j = 0; j < D; j++)
                e += Ainv[i * D + j] * b[j];
            assert_true(fabs(th[i] - e) < 1e-9);
        }
        /* the untouched arm still has A = lambda I */
        pc_policy_linear_get(u.vt, u.st, 0, th, M);
        for (int i = 0; i < D; i++)
            assert_true(fabs(M[i * D + i] - 1.0 / 0.7) < 1e-15 && th[i] == 0.0);
        assert_int_equal(pc_policy_linear_get(u.vt, u.st, 2, NULL, NULL), -1);
        assert_int_equal(
            pc_policy_linear_get(find("thompson"), u.st, 0, NULL, NULL), -1);
        pol_free(&u);
        pol_free(&t);
    }
}

/* ---- determinism and snapshots ---- */

static void test_determinism(void **state)
{
    (void)state;
    for (size_t i = 0; pc_policies[i]; i++) {
        const pc_policy_vt *vt = pc_policies[i];
        uint32_t d = vt->contextual ? 2 : 0;
        uint32_t seq[2][500];
        for (int rep = 0; rep < 2; rep++) {
            pol q;
            pol_new(&q, vt->name, 6, d, NULL);
            pc_rng r, env;
            pc_rng_seed(&r, 91);
            pc_rng_seed(&env, 92);
            for (int t = 0; t < 500; t++) {
                double x[2] = {pc_rng_normal(&env), pc_rng_normal(&env)};
                double p;
                seq[rep][t] = sel(&q, &r, 0x3f, NULL, d ? x : NULL, &p, NULL);
                vt->update(q.st, seq[rep][t], pc_rng_uniform(&env) < 0.3,
                           d ? x : NULL);
            }
            pol_free(&q);
        }
        assert_memory_equal(seq[0], seq[1], sizeof seq[0]);
    }
}

static void test_check_state(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2 * N_CF + 2; i++) {
        /* every policy, and the context-free ones also discounted */
        const pc_policy_vt *vt = pc_policies[i % (N_CF + 2)];
        int disc = i >= N_CF + 2;
        if (disc && vt->contextual)
            continue;
        uint32_t d = vt->contextual ? 3 : 0;
        pol q;
        if (disc)
            pol_new(&q, vt->name, 5, d, "discount", 0.95, NULL);
        else
            pol_new(&q, vt->name, 5, d, NULL);
        if (vt->check_state(q.st, 5, d, q.p))
            fail_msg("%s rejects its initial state", vt->name);
        pc_rng r, env;
        pc_rng_seed(&r, 101);
        pc_rng_seed(&env, 102);
        for (int t = 0; t < 3000; t++) {
            double x[3] = {pc_rng_normal(&env), pc_rng_normal(&env), 0.5};
            uint32_t a = sel(&q, &r, 0x1f, NULL, d ? x : NULL, NULL, NULL);
            vt->update(q.st, a, pc_rng_uniform(&env) < 0.1 * (a + 1),
                       d ? x : NULL);
        }
        if (vt->check_state(q.st, 5, d, q.p))
            fail_msg("%s rejects its own state", vt->name);
        {
            /* extreme statistics: means of exactly 1 and 0 */
            pol e;
            if (disc)
                pol_new(&e, vt->name, 5, d, "discount", 0.95, NULL);
            else
                pol_new(&e, vt->name, 5, d, NULL);
            double x[3] = {0.5, -0.5, 1.0};
            for (int j = 0; j < 3; j++) {
                vt->update(e.st, 0, 1.0, d ? x : NULL);
                vt->update(e.st, 1, 0.0, d ? x : NULL);
                double p;
                sel(&e, &r, 0x3, NULL, d ? x : NULL, &p, NULL);
                if (vt->check_state(e.st, 5, d, e.p))
                    fail_msg("%s rejects its state with means 1 and 0",
                             vt->name);
            }
            pol_free(&e);
        }
        /* other k or parameters */
        assert_true(vt->check_state(q.st, 4, d, q.p) != 0);
        double p2[PC_MAX_PARAMS];
        memcpy(p2, q.p, sizeof p2);
        p2[0] = q.p[0] == q.vt->params[0].lo ? q.vt->params[0].hi
                                             : q.vt->params[0].lo;
        assert_true(vt->check_state(q.st, 5, d, p2) != 0);
        /* any single corrupted double is rejected or harmless: then
         * selecting and updating still works */
        size_t nd = q.size / sizeof(double);
        for (size_t j = 0; j < nd; j++) {
            pol c;
            pol_copy(&c, &q);
            double bad[3] = {NAN, -1.0, 1e300};
            for (int b = 0; b < 3; b++) {
                memcpy(c.st, q.st, q.size);
                memcpy((char *)c.st + j * sizeof(double), &bad[b], sizeof(double));
                if (vt->check_state(c.st, 5, d, q.p) == 0) {
                    double x[3] = {0.1, 0.2, 0.3}, p;
                    uint32_t a = sel(&c, &r, 0x1f, NULL, d ? x : NULL, &p, NULL);
                    vt->update(c.st, a, 1.0, d ? x : NULL);
                }
            }
            pol_free(&c);
        }
        /* random bytes never crash the check */
        pol c;
        pol_copy(&c, &q);
        for (int rep = 0; rep < 50; rep++) {
            for (size_t j = 0; j < q.size; j++)
                ((unsigned char *)c.st)[j] = (unsigned char)pc_rng_next(&env);
            assert_true(vt->check_state(c.st, 5, d, q.p) != 0);
        }
        pol_free(&c);
        pol_free(&q);
    }
}

/* the contextual policies accept their own state after every update (the
 * linucb state goes through every value of its theta-correction count) */
static void test_linear_check_every_update(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        pol q;
        pol_new(&q, LIN[i], 2, 3, NULL);
        pc_rng env;
        pc_rng_seed(&env, 121);
        for (int t = 0; t < 200; t++) {
            double x[3] = {pc_rng_normal(&env), pc_rng_normal(&env), 0.5};
            q.vt->update(q.st, (uint32_t)(t % 3 == 0), pc_rng_uniform(&env), x);
            if (q.vt->check_state(q.st, 2, 3, q.p))
                fail_msg("%s rejects its state after update %d", LIN[i], t);
        }
        pol_free(&q);
    }
}

/* k above 64 (benchmarks only): actions 64.. always eligible */
static void test_many_arms(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CF; i++) {
        pol q;
        pol_new(&q, CF[i], 100, 0, NULL);
        pc_rng r;
        pc_rng_seed(&r, 111);
        int high = 0;
        for (int t = 0; t < 1000; t++) {
            uint32_t a = sel(&q, &r, 0x5, NULL, NULL, NULL, NULL);
            assert_true(a == 0 || a == 2 || a >= 64);
            high += a >= 64;
            q.vt->update(q.st, a, a == 99 ? 1.0 : 0.0, NULL);
        }
        assert_true(high > 0);
        pol_free(&q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_best_arm_most_often),
        cmocka_unit_test(test_thompson_regret),
        cmocka_unit_test(test_thompson_sampler),
        cmocka_unit_test(test_propensity_exact),
        cmocka_unit_test(test_propensity_ties),
        cmocka_unit_test(test_propensity_thompson),
        cmocka_unit_test(test_propensity_no_side_effect),
        cmocka_unit_test(test_ineligible_never_chosen),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_update_one_observation),
        cmocka_unit_test(test_discount),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_arm_info),
        cmocka_unit_test(test_linear_learns),
        cmocka_unit_test(test_linear_algebra),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_check_state),
        cmocka_unit_test(test_linear_check_every_update),
        cmocka_unit_test(test_many_arms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
