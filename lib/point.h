/* The decision point, shared by decide.c and snapshot.c. Internal. */
#ifndef PACING_POINT_H
#define PACING_POINT_H

#include "internal.h"
#include "policy.h"

struct pc_point {
    char name[PACING_NAME_MAX];
    char actions[PC_MAX_ACTIONS][PACING_NAME_MAX];
    uint32_t id, k;
    uint32_t d_user, d;          /* caller features, total dimension */
    uint32_t flags;
    const pc_policy_vt *vt;
    double params[PC_MAX_PARAMS];
    double r_lo, r_hi;           /* reward range */
    uint64_t quiet;              /* actions that show nothing */
    int32_t safe_action;         /* -1: none */
    int recovery;
    uint32_t rec_decay;
    double rec_params[4];
    int64_t attribution_ms;
    double default_reward;
    uint32_t n_rules;
    struct {
        uint32_t mod;
        double weight;
    } rules[PACING_MAX_RULES];
    /* Readers (select, stats) share the lock; a reward's update takes it
     * alone, and so does a select of a policy whose select writes its
     * state (vt->select_writes). A select draws from a
     * generator of its own, seeded from `rng` (fixed after creation)
     * and the number of selects made before it, n_select (= the sum of
     * decisions[], and so restored from a snapshot). decisions[] and
     * n_select are updated atomically under the shared lock. */
    pthread_rwlock_t lock;
    pc_rng rng;
    uint64_t n_select;
    uint64_t decisions[PC_MAX_ACTIONS], rewards[PC_MAX_ACTIONS];
    uint64_t n_learned;          /* rewards learned: the policy version */
    int64_t last_update[PC_MAX_ACTIONS];
    void *state;
    size_t state_size;
};

/* Take a point's lock shared (write false) or alone (no-ops in a
 * single-thread context). */
void pc_point_lock(pacing_ctx *ctx, pc_point *p, bool write);
void pc_point_unlock(pacing_ctx *ctx, pc_point *p);
/* After a snapshot load replaced decisions[]: n_select from them. */
void pc_point_loaded(pc_point *p);

#endif
