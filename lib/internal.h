/* Internal declarations shared by the files of lib/. Nothing here is
 * exported: the library is built with -fvisibility=hidden and a version
 * script, so only PACING_API functions of pacing.h are visible. */
#ifndef PACING_INTERNAL_H
#define PACING_INTERNAL_H

#include "pacing.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PACING_LN2 0.69314718055994530942
#define PACING_MAX_TIME_MS ((int64_t)1 << 53)
#define PACING_MAX_USER_LEN 1024u
#define PACING_MAX_DECAY_MODULES 32
#define PACING_NAME_MAX 32 /* including the NUL */
#define PACING_RAGE_MAX 5  /* clicks in a rage-click run, at most */

/* ---- allocation: the one choke point ---- */
void *pc_alloc(pacing_ctx *ctx, size_t size);   /* zeroed */
void *pc_alloc_raw(pacing_ctx *ctx, size_t size); /* not zeroed (buffers filled at once) */
void pc_free(pacing_ctx *ctx, void *ptr, size_t size);

/* ---- error reporting: per-thread message, returns status ---- */
int pc_fail(const pacing_ctx *ctx, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- SipHash-2-4 ---- */
uint64_t pc_siphash24(const uint8_t key[16], const void *data, size_t len);

/* ---- features (feature.c) ---- */

/* Rate signals: exponentially decayed counts with the short half-life. */
enum {
    SIG_EXPOSURE,
    SIG_DISMISS,
    SIG_UNDO,
    SIG_ERROR,
    SIG_FORM_START,
    SIG_FORM_ABANDON,
    SIG_TAB_HIDDEN,
    SIG_MEDIA_PAUSE,
    SIG_MISCLICK,
    SIG_CLICK,
    SIG_MICRO,
    SIG_CONVERSION,
    SIG_SESSION_END,
    N_SIG
};

/* Mean signals: decayed sum and weight (short half-life). */
enum { MEAN_LATENCY, MEAN_READING, MEAN_DWELL, MEAN_SCROLL, MEAN_HOVER, N_MEAN };
/* Baselines: decayed sum and weight with the long half-life. */
enum { BASE_LATENCY, BASE_READING, BASE_DWELL, N_BASE };

/* rate[], mean_sum[], mean_w[] and a spare: a multiple of 4, so that
 * ageing them is one loop the compiler can vectorise */
#define N_ACC_SHORT 24
#define EXPO_RING 8
#define WIN_BUCKETS 12
enum { WIN_MINUTE, WIN_HOUR, WIN_DAY, N_WIN };

/* Exposure counts per bucket of a window (saturating). The newest bucket
 * is that of the user's latest exposure, the last time of the exposure
 * ring: the windows need no head of their own. */
typedef struct pc_window {
    uint16_t bucket[WIN_BUCKETS];
} pc_window;

/* The accumulators are stored in single precision (relative rounding
 * 6e-8 per update) to keep a user record under 512 bytes; every
 * computation on them is done in double. */
typedef struct pc_features {
    int64_t t_ref;                 /* time the accumulators refer to */
    int64_t expo[EXPO_RING];       /* latest exposures, ascending */
    union { /* the accumulators with the short half-life, as one array */
        float acc_short[N_ACC_SHORT];
        struct {
            float rate[N_SIG];
            float mean_sum[N_MEAN], mean_w[N_MEAN];
        };
    };
    union { /* and with the long one */
        float acc_long[2 * N_BASE];
        struct {
            float base_sum[N_BASE], base_w[N_BASE];
        };
    };
    uint16_t expo_point[EXPO_RING]; /* point id + 1; 0: pushed EXPOSURE */
    pc_window win[N_WIN];
    uint8_t expo_channel[EXPO_RING];
    uint8_t n_expo;
} pc_features;

/* Decay factors for the context's half-lives. */
typedef struct pc_halflives {
    double short_lambda; /* ln2 / feature half-life, per ms */
    double long_lambda;  /* ln2 / baseline half-life, per ms */
} pc_halflives;

void pc_features_init(pc_features *f, int64_t t);
void pc_features_add_rate(pc_features *f, const pc_halflives *h, int64_t t,
                          int sig, double amount);
void pc_features_add_mean(pc_features *f, const pc_halflives *h, int64_t t,
                          int mean, int base, double value);
void pc_features_add_exposure(pc_features *f, const pc_halflives *h,
                              int64_t t);
/* The same, recording which point (id + 1, 0: none) and channel. */
void pc_features_add_exposure_at(pc_features *f, const pc_halflives *h,
                                 int64_t t, uint16_t point, uint8_t channel);
/* Reads at time now (no mutation). */
double pc_features_rate_per_min(const pc_features *f, const pc_halflives *h,
                                int sig, int64_t now);
double pc_features_count(const pc_features *f, const pc_halflives *h, int sig,
                         int64_t now);
/* mean and its decayed weight (confidence); returns 0 if no observation */
int pc_features_mean(const pc_features *f, const pc_halflives *h, int mean,
                     int64_t now, double *value, double *weight);
int pc_features_base(const pc_features *f, const pc_halflives *h, int base,
                     int64_t now, double *value, double *weight);
uint32_t pc_features_window_count(const pc_features *f, int win, int64_t now);
/* The three windows' counts at once (out[WIN_MINUTE], ...). */
void pc_features_window_counts(const pc_features *f, int64_t now,
                               uint32_t out[N_WIN]);

/* The same reads with the decay factor from t_ref to now given (as
 * pc_features_age computes it): what the reads above compute, for a
 * caller that reads many accumulators at one time (pc_inputs_compute)
 * and so computes each factor once instead of once per read. */
double pc_features_age(const pc_features *f, double lambda, int64_t now);
static inline double pc_features_count_af(const pc_features *f, int sig,
                                          double as)
{
    return f->rate[sig] * as;
}
static inline double pc_features_rate_af(const pc_features *f,
                                         const pc_halflives *h, int sig,
                                         double as)
{
    /* a steady rate r per ms gives a decayed count of r / lambda */
    return pc_features_count_af(f, sig, as) * h->short_lambda * 60000.0;
}
static inline int pc_features_mean_af(const pc_features *f, int mean,
                                      double as, double *value,
                                      double *weight)
{
    if (f->mean_w[mean] <= 0.0)
        return 0;
    *value = f->mean_sum[mean] / f->mean_w[mean];
    *weight = f->mean_w[mean] * as;
    return 1;
}
static inline int pc_features_base_af(const pc_features *f, int base,
                                      double al, double *value,
                                      double *weight)
{
    if (f->base_w[base] <= 0.0)
        return 0;
    *value = f->base_sum[base] / f->base_w[base];
    *weight = f->base_w[base] * al;
    return 1;
}

/* ---- users (user.c) ---- */

#define USER_IN_SESSION 0x2u
#define RECENT_ARMS 4


typedef struct pc_user {
    uint64_t pseudo;
    int64_t last_seen_ms;          /* latest event time (max) */
    uint32_t lru_prev, lru_next;   /* slot indices, UINT32_MAX = none */
    uint32_t flags;
    uint32_t click_n;              /* clicks kept in click_t */
    uint64_t click_target;         /* target of the clicks in click_t */
    int64_t click_t[PACING_RAGE_MAX - 1]; /* latest clicks, ascending */
    uint64_t last_ev_hash;         /* debounce */
    int64_t last_ev_ms;
    int64_t session_start_ms;      /* with USER_IN_SESSION */
    int64_t last_error_ms;         /* -1: none */
    int64_t form_started_ms;       /* a form in progress since, -1: none */
    int64_t last_form_end_ms;      /* latest submit or abandon, -1: none */
    uint32_t session_exposures;    /* exposures since the session began */
    uint32_t hazard_bins;          /* session bins already counted */
    uint32_t pending_head;         /* chain of pending decisions, or NONE */
    /* when this user last got an action of a point (recovering arms) */
    int64_t recent_t[RECENT_ARMS];
    uint16_t recent_point[RECENT_ARMS]; /* point id + 1; 0 = unused */
    uint16_t recent_action[RECENT_ARMS];
    pc_features feat;
} pc_user;

/* A decision awaiting its reward; lives in its user's stripe. */
typedef struct pc_pending {
    uint64_t id;          /* 0 = free */
    uint64_t pseudo;      /* 0 when decided without user state */
    int64_t t_ms, deadline_ms;
    double acc;           /* implicit reward so far */
    uint32_t point;
    uint16_t action;
    uint8_t matched;      /* an implicit rule counted an event */
    uint8_t chained;      /* linked in its user's pending chain */
    uint32_t next;        /* user chain */
    uint32_t reasons;     /* PACING_DR_* of the decision */
    double propensity;
    uint64_t policy_version;
    double x[35];         /* context used (contextual policies) */
} pc_pending;

typedef struct pc_stripe_stats {
    uint64_t applied, dropped_bot, dropped_debounce, dropped_consent;
    uint64_t rage, dead, created, evicted, expired, forgotten;
    uint64_t decisions, rw_explicit, rw_implicit, rw_default, rw_none;
    uint64_t settled_early, rw_rejected, safe;
} pc_stripe_stats;

#define PC_CACHE_LINE 64

/* A stripe of the user table. Its first cache line holds what every call
 * on it writes (the lock, the LRU ends, counts); the stripes are aligned
 * to cache lines (pc_users_init). */
typedef struct pc_stripe {
    pthread_mutex_t lock;
    uint32_t lru_head, lru_tail; /* head = most recent */
    uint32_t used;         /* users held */
    uint32_t free_head;    /* free list through lru_next */
    uint32_t pend_used;
    uint32_t seq;          /* decision id sequence */
    /* set at creation */
    pc_user *slots;
    uint32_t *index;       /* open addressing: slot + 1, 0 = empty */
    uint32_t n_slots;      /* capacity of this stripe */
    uint32_t index_mask;
    pc_pending *pend;      /* ring of pending decisions */
    uint32_t n_pend;       /* its capacity */
    uint32_t pend_head;    /* next slot to allocate */
    uint32_t pend_tail;    /* oldest slot that may be live */
    pc_stripe_stats st;
} pc_stripe;
_Static_assert(sizeof(pc_stripe) % PC_CACHE_LINE == 0, "stripes share lines");

/* Find a user; NULL if absent. Caller holds the stripe lock. */
pc_user *pc_user_find(pc_stripe *s, uint64_t pseudo);
/* Find or create (evicting an expired or the LRU user when full). Never
 * fails. *created says whether it is new. Caller holds the lock. */
pc_user *pc_user_get(pacing_ctx *ctx, pc_stripe *s, uint64_t pseudo,
                     int64_t now, bool *created);
void pc_user_touch(pc_stripe *s, pc_user *u);
/* Put a checked record, whose pseudonym s does not hold, into a free slot
 * of s as its most recent user (no pending chain). Caller holds the lock
 * and made sure a slot is free. */
pc_user *pc_user_insert(pc_stripe *s, const pc_user *rec);
/* Drop every user of s (the caller clears the pending decisions); the
 * n_new slots the caller fills next with pc_user_insert, which overwrites
 * them, are not wiped, every other slot is. */
void pc_users_clear(pacing_ctx *ctx, pc_stripe *s, uint32_t n_new);
bool pc_user_expired(const pacing_ctx *ctx, const pc_user *u, int64_t now);

pc_stripe *pc_stripe_of(pacing_ctx *ctx, uint64_t pseudo);
/* Remove a user. Its pending decisions are dropped unlearned with the
 * log entries (DROP_FORGET), kept but unlinked (DROP_EVICT: capacity), or
 * kept and anonymised (DROP_EXPIRE: retention TTL). */
enum { DROP_FORGET, DROP_EVICT, DROP_EXPIRE };
void pc_user_drop(pacing_ctx *ctx, pc_stripe *s, pc_user *u, int mode);
/* Erase everything about a pseudonym in its stripe (user, pending
 * decisions, log entries); true if the user was in the table. */
bool pc_forget(pacing_ctx *ctx, pc_stripe *s, uint64_t pseudo);
void pc_lock(pacing_ctx *ctx, pc_stripe *s);
void pc_unlock(pacing_ctx *ctx, pc_stripe *s);

int pc_users_init(pacing_ctx *ctx);
void pc_users_free(pacing_ctx *ctx);

/* ---- decay modules (decay.c) ---- */
typedef struct pc_decay {
    char name[PACING_NAME_MAX];
    double (*weight)(const double params[4], double age_ms);
    int (*check)(const double params[4]);
    double default_params[4];
} pc_decay;

void pc_decay_builtins(pacing_ctx *ctx);
const pc_decay *pc_decay_find(const pacing_ctx *ctx, const char *name);
/* w(age) of module d, clamped to [0, 1] (a custom module may misbehave). */
double pc_decay_weight(const pc_decay *d, const double params[4], double age);

/* ---- scores (score.c) ---- */
#define N_KIND 4
void pc_weights_default(double w[N_KIND][PACING_INPUT_COUNT]);
extern const uint8_t pc_input_kind_member[N_KIND][PACING_INPUT_COUNT];

/* Per-input values of a user at time now. */
typedef struct pc_inputs {
    double raw[PACING_INPUT_COUNT];
    double norm[PACING_INPUT_COUNT];
} pc_inputs;

void pc_inputs_compute(const pacing_ctx *ctx, const pc_user *u, int64_t now,
                       pc_inputs *in);
double pc_score_of(const pacing_ctx *ctx, int kind, const pc_inputs *in);
/* After ctx->weights changed: ctx->weight_sum from them. */
void pc_weights_summed(pacing_ctx *ctx);

/* ---- decisions (decide.c), rewards (reward.c), hazard (hazard.c) ---- */
#define NONE32 UINT32_MAX
#define PACING_MAX_REWARD_MODULES 32
#define PACING_MAX_RULES 8

struct pc_point;
typedef struct pc_point pc_point;

typedef struct pc_reward_mod {
    char name[PACING_NAME_MAX];
    int (*on_event)(void *opaque, const pacing_reward_input *in, double *value,
                    int *final);
    void *opaque;
} pc_reward_mod;

void pc_reward_builtins(pacing_ctx *ctx);
const pc_reward_mod *pc_reward_find(const pacing_ctx *ctx, const char *name);
/* An event (or a derived one) of user u: feed its pending decisions'
 * reward rules. Caller holds the stripe lock. */
void pc_reward_on_event(pacing_ctx *ctx, pc_stripe *s, pc_user *u,
                        const pacing_event *ev);
/* Settle expired decisions of a stripe, oldest first (lazy path). */
void pc_settle_stripe(pacing_ctx *ctx, pc_stripe *s, int64_t now, bool full,
                      uint64_t *n);
int pc_pending_init(pacing_ctx *ctx);
void pc_points_free(pacing_ctx *ctx);
bool pc_valid_name(const char *s);

/* The drop-off hazard model. */
typedef struct pc_hazard {
    pthread_rwlock_t lock;
    uint32_t n_bins;
    double *at_risk;       /* per bin */
    double *events;        /* per bin */
    double beta[4];        /* covariate weights */
    double x_mean[4];      /* running mean of covariates */
    double n_updates;
    double total_at_risk, total_events; /* sums over the bins */
    double *lbase;         /* per bin: logit of its rate, when at_risk >= 1 */
    double lpool;          /* logit of the pooled rate */
    int ready;
} pc_hazard;
/* After a snapshot load replaced at_risk[] and events[]: the totals and
 * the logits from them. */
void pc_hazard_loaded(pc_hazard *h);

int pc_hazard_init(pacing_ctx *ctx);
void pc_hazard_free(pacing_ctx *ctx);
/* Session bookkeeping for an event of u at t (caller holds stripe lock). */
void pc_hazard_on_event(pacing_ctx *ctx, pc_user *u, int type, int64_t t);
bool pc_hazard_user_ok(const pacing_ctx *ctx, const pc_user *u);
/* P(session ends within the horizon) at now; 0 with no open session. */
double pc_hazard_risk(pacing_ctx *ctx, const pc_user *u, const pc_inputs *in,
                      int64_t now);
/* The same with the covariates (fatigue, cognitive load, attention,
 * engagement: the scores of in) already computed by the caller. */
double pc_hazard_risk_x(pacing_ctx *ctx, const pc_user *u, const double x[4],
                        int64_t now);

/* ---- safety rules (safety.c) ---- */
#define PACING_MAX_RULE_MODULES 32
#define PACING_MAX_RULE_INSTANCES 64
#define PACING_MAX_RULE_PARAMS 8

typedef struct pc_rule_mod {
    char name[PACING_NAME_MAX];
    char param_names[PACING_MAX_RULE_PARAMS][PACING_NAME_MAX];
    double param_defaults[PACING_MAX_RULE_PARAMS];
    double param_lo[PACING_MAX_RULE_PARAMS], param_hi[PACING_MAX_RULE_PARAMS];
    uint32_t n_params;
    int (*check)(void *opaque, const double *params, const pacing_rule_view *v,
                 pacing_rule_result *out);
    void (*explain)(void *opaque, const double *params, const pacing_veto *veto,
                    char *buf, size_t len);
    int (*validate)(const double *params, char *why, size_t len); /* built-ins */
    int validate_bool; /* built-ins: same_* and delay must be 0 or 1 */
    /* The verdict depends on nothing but the view's user, point, channel,
     * time and scores (not the action): checked once per decision and
     * applied to every showing action. The built-ins; a registered module
     * is checked for each action. */
    int same_for_all_actions;
    void *opaque;
} pc_rule_mod;

typedef struct pc_rule {
    uint32_t mod;
    int32_t point;                 /* -1: every point */
    double params[PACING_MAX_RULE_PARAMS];
} pc_rule;

void pc_rule_builtins(pacing_ctx *ctx);
const char *pc_point_name(const pacing_ctx *ctx, uint32_t point);
/* Fill the user-dependent part of a rule view (caller holds the stripe
 * lock); u may be NULL. */
void pc_rule_view_user(const pacing_ctx *ctx, const pc_user *u, int64_t now,
                       pacing_rule_view *v);

/* ---- decision log (log.c) ---- */
typedef struct pc_log {
    pthread_mutex_t lock;
    pacing_log_entry *ring;
    uint32_t cap, head, count; /* head: next write */
    uint64_t dropped;
    int ready;
} pc_log;

int pc_log_init(pacing_ctx *ctx);
void pc_log_free(pacing_ctx *ctx);
void pc_log_append(pacing_ctx *ctx, const pacing_log_entry *e);
/* A settled pending decision: outcome, reward learned (if any) and when. */
void pc_log_settled(pacing_ctx *ctx, const pc_pending *e, uint32_t outcome,
                    double reward, int64_t when, bool early);
void pc_log_forget(pacing_ctx *ctx, uint64_t pseudo);

/* ---- snapshots (snapshot.c) ---- */
uint64_t pc_config_hash(const pacing_ctx *ctx);

/* ---- the context ---- */
struct pacing_ctx {
    pacing_allocator alloc;
    uint32_t flags;
    uint8_t secret[16];
    uint64_t capacity;
    int64_t user_ttl_ms;          /* < 0: never */
    int64_t reorder_window_ms;
    int64_t debounce_ms;          /* < 0: off */
    int64_t rage_window_ms;
    uint32_t rage_clicks;
    int64_t dead_click_ms;
    double feature_half_life_ms, baseline_half_life_ms;
    pc_halflives hl;

    uint32_t n_stripes;
    uint32_t stripe_shift;        /* pseudo >> shift selects the stripe */
    pc_stripe *stripes;           /* aligned to a cache line in ... */
    void *stripes_mem;            /* ... this allocation */

    pc_decay decay[PACING_MAX_DECAY_MODULES];
    uint32_t n_decay;
    uint32_t expo_decay;          /* index into decay[] */
    double expo_decay_params[4];

    double weights[N_KIND][PACING_INPUT_COUNT];
    double weight_sum[N_KIND];    /* of each kind's weights, in input order */

    uint64_t seed;
    uint32_t max_points, n_points;
    uint32_t pending_capacity;
    pc_point **points;
    pc_reward_mod rmods[PACING_MAX_REWARD_MODULES];
    uint32_t n_rmods;
    int64_t hazard_horizon_ms, hazard_bin_ms;
    pc_hazard hazard;

    pc_rule_mod rule_mods[PACING_MAX_RULE_MODULES];
    uint32_t n_rule_mods;
    pc_rule rules[PACING_MAX_RULE_INSTANCES];
    uint32_t n_rules;

    pc_log log;

    _Atomic uint64_t rejected;
    _Atomic uint64_t bytes;
};

#endif
