/* Internal interface between the decision layer (lib/decide.c) and the
 * bandit policies (lib/policy_*.c), and the random generator they share.
 * Nothing here is exported. */
#ifndef PACING_POLICY_H
#define PACING_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* ---- random numbers (lib/rng.c): xoshiro256** seeded by splitmix64 ---- */
typedef struct pc_rng {
    uint64_t s[4];
} pc_rng;

void pc_rng_seed(pc_rng *r, uint64_t seed);
uint64_t pc_rng_next(pc_rng *r);
double pc_rng_uniform(pc_rng *r);              /* in (0, 1) */
uint32_t pc_rng_below(pc_rng *r, uint32_t n);  /* uniform in [0, n), n >= 1 */
double pc_rng_normal(pc_rng *r);               /* N(0, 1) */
double pc_rng_gamma(pc_rng *r, double shape);  /* Gamma(shape, 1), shape > 0 */
double pc_rng_beta(pc_rng *r, double a, double b);

/* ---- policies ---- */

#define PC_MAX_ACTIONS 64
/* Internal extension, for benchmarks only: the context-free policies also
 * accept k up to PC_MAX_ARMS; `eligible` then covers actions 0..63, and
 * actions 64 and above are always eligible. */
#define PC_MAX_ARMS 256
#define PC_MAX_DIM 35      /* 32 caller features + 3 appended scores */
#define PC_MAX_PARAMS 8

/* Select reason flags (the same bits as PACING_DR_* in pacing.h). */
#define PC_SEL_EXPLORED 0x1u  /* the choice was not the current greedy one */
#define PC_SEL_EXPLOITED 0x2u /* the choice was the current greedy one */

typedef struct pc_param_def {
    const char *name;   /* snake_case, as in the YAML config */
    double def, lo, hi; /* default and inclusive range */
} pc_param_def;

/* What a dashboard reads about one action. */
typedef struct pc_arm_info {
    double pulls;      /* (discounted) number of updates */
    double reward_sum; /* (discounted) sum of rewards */
    double mean;       /* reward_sum / pulls, 0 with no pulls */
    double param_a;    /* posterior / confidence parameters, see docs */
    double param_b;
} pc_arm_info;

typedef struct pc_policy_vt {
    const char *name;            /* "thompson", "ucb1", ... */
    int contextual;              /* needs a context vector of dim d >= 1 */
    const pc_param_def *params;  /* n_params definitions */
    uint32_t n_params;
    const char *param_a_name, *param_b_name; /* meaning of pc_arm_info a/b */

    /* Bytes of state for k actions and context dimension d (0 when not
     * contextual), with params p (already range-checked, in the order of
     * `params`). The state is zeroed memory the caller allocates.
     * state_size returns 0 when k or d is out of range (k = 0, k > 64 for
     * the contextual policies and k > PC_MAX_ARMS for the others, d = 0
     * or d > PC_MAX_DIM for the contextual ones). */
    size_t (*state_size)(uint32_t k, uint32_t d, const double *p);
    void (*init)(void *st, uint32_t k, uint32_t d, const double *p);

    /* Choose one action among those whose bit is set in `eligible`
     * (never 0). scale[a] in [0, 1] multiplies the value of action a
     * (recovering arms); NULL means all 1. x is the context (d values) or
     * NULL when not contextual. If propensity is not NULL it receives the
     * probability that this call picks the returned action given the
     * state, eligible set and scale (exact where the policy allows,
     * otherwise the documented estimate), in (0, 1]. *flags receives
     * PC_SEL_* bits. */
    uint32_t (*select)(void *st, pc_rng *rng, uint64_t eligible,
                       const double *scale, const double *x,
                       double *propensity, uint32_t *flags);

    /* Learn reward r for action a taken with context x (NULL if not
     * contextual). */
    void (*update)(void *st, uint32_t a, double r, const double *x);

    void (*arm_info)(const void *st, uint32_t a, pc_arm_info *out);

    /* A state read from a snapshot (state_size bytes): return 0 if it can
     * be used with (k, d, p) -- every stored size and index consistent with
     * them and in range, every number finite where it must be -- else
     * nonzero. Never crashes on arbitrary bytes. */
    int (*check_state)(const void *st, uint32_t k, uint32_t d, const double *p);

    /* Nonzero if select writes the state (a cache): the caller then
     * holds the point's lock alone for it, else shared. */
    int select_writes;
} pc_policy_vt;

/* All built-in policies, NULL-terminated. */
extern const pc_policy_vt *const pc_policies[];
const pc_policy_vt *pc_policy_find(const char *name);

/* The learnt model of a linear policy (linucb, linear_thompson), for tests
 * and explanations: copies action a's coefficients theta (D values) and
 * its D*D matrix, row-major (A^-1 for linucb; the lower Cholesky factor L
 * of A = L L^T for linear_thompson), where the pointers are not NULL.
 * D = d + 1 when the policy's `intercept` parameter is set (the last
 * feature is then the constant 1), else d. Returns D, or -1 if vt is
 * another policy or a is out of range. */
int pc_policy_linear_get(const pc_policy_vt *vt, const void *st, uint32_t a,
                         double *theta, double *matrix);

#endif
