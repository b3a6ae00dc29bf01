/*
 * libpacing: an embeddable attention-pacing engine.
 *
 * Hosts push their users' interaction events; the library keeps per-user
 * decaying features and reads out fatigue, cognitive-load and related
 * scores, each decomposable into the contributions of its inputs.
 *
 * Conventions of this header
 *  - Every exported name starts with pacing_ / PACING_.
 *  - Every fallible call returns a pacing_status; PACING_OK is 0, errors are
 *    negative, and a failed call leaves the context exactly as it was.
 *  - Every struct that crosses the ABI starts with a `size` field that the
 *    caller sets to sizeof(the struct) (the *_INIT macros do it). Fields are
 *    only ever appended. Version 1.0 accepts exactly its own sizes; a later
 *    1.x library will also accept the sizes of every earlier 1.x header, so
 *    programs built against an older header keep working.
 *  - The library never reads a clock: every call that needs the time takes
 *    it from the caller, in milliseconds.
 *  - Thread-safety is stated on each function; see docs/api.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PACING_H
#define PACING_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define PACING_API __attribute__((visibility("default")))
#else
#define PACING_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Version                                                             */
/* ------------------------------------------------------------------ */

#define PACING_VERSION_MAJOR 1
#define PACING_VERSION_MINOR 0
#define PACING_VERSION_PATCH 0
#define PACING_VERSION_NUMBER                                                  \
    (PACING_VERSION_MAJOR * 10000 + PACING_VERSION_MINOR * 100 +               \
     PACING_VERSION_PATCH)
#define PACING_VERSION_STRING "1.0.0"
#define PACING_AT_LEAST_VERSION(x, y, z)                                       \
    (PACING_VERSION_NUMBER >= ((x) * 10000 + (y) * 100 + (z)))

/* The version of the library actually loaded, as MAJOR*10000+MINOR*100+PATCH.
 * Compare it with PACING_VERSION_NUMBER to detect a header/library mismatch.
 * Thread-safe. */
PACING_API unsigned pacing_version_number(void);
/* The same as a static string, e.g. "1.0.0". Thread-safe. */
PACING_API const char *pacing_version_string(void);

/* ------------------------------------------------------------------ */
/* Status codes (never renumbered; new codes are appended)             */
/* ------------------------------------------------------------------ */

typedef enum pacing_status {
    PACING_OK = 0,
    /* The call succeeded but the event was deliberately not applied:
     * bot-flagged, a debounced duplicate, or without consent. It is counted
     * in pacing_stats. Not an error. */
    PACING_DROPPED = 1,

    PACING_E_INVAL = -1,    /* an argument is invalid (see message) */
    PACING_E_NULL = -2,     /* a required pointer is NULL */
    PACING_E_SIZE = -3,     /* a struct's size field is wrong */
    PACING_E_TYPE = -4,     /* unknown event type */
    PACING_E_NAN = -5,      /* a number is NaN or infinite */
    PACING_E_RANGE = -6,    /* a value is out of range for its type */
    PACING_E_TOO_OLD = -7,  /* event older than the reorder window */
    PACING_E_NOMEM = -8,    /* an allocation failed */
    PACING_E_FULL = -9,     /* a bounded table is full */
    PACING_E_NOTFOUND = -10, /* no such user, module or name */
    PACING_E_EXISTS = -11,  /* the name is already registered */
    PACING_E_CONFIG = -12,  /* configuration error (see message) */
    PACING_E_CORRUPT = -13, /* damaged input data */
    PACING_E_IO = -14,      /* an I/O operation failed */
    PACING_E_TIME = -15,    /* a time is out of range (negative, > 2^53) */
    PACING_E_VETOED = -16,  /* safety vetoed every eligible action and the
                               point has no safe action */
    PACING_E_VERSION = -17  /* data of an unsupported format version */
} pacing_status;

/* A static English description of a status code; never NULL, also for
 * unknown codes. Thread-safe. */
PACING_API const char *pacing_strerror(int status);

/* ------------------------------------------------------------------ */
/* Allocator hooks                                                     */
/* ------------------------------------------------------------------ */

/* Custom allocation. `alloc` returns memory aligned for any type or NULL;
 * `free` receives the pointer and the size that was asked for it (free is
 * never called with NULL). All three fields must be set, or all NULL for the
 * C library's malloc/free. */
typedef struct pacing_allocator {
    void *(*alloc)(void *opaque, size_t size);
    void (*free)(void *opaque, void *ptr, size_t size);
    void *opaque;
} pacing_allocator;

/* ------------------------------------------------------------------ */
/* Context                                                             */
/* ------------------------------------------------------------------ */

typedef struct pacing_ctx pacing_ctx;

/* Option flags. */
#define PACING_OPT_SINGLE_THREAD 0x1u /* no locking: one thread at a time */
#define PACING_OPT_SECRET 0x2u        /* use options.secret for pseudonyms */
#define PACING_OPT_REQUIRE_CONSENT 0x4u /* drop events without CONSENT flag */
#define PACING_OPT_RANDOM_SEED 0x8u  /* seed decisions from the OS, not .seed */

/* Options for pacing_ctx_new(). Zero in any field means "the default" (the
 * defaults are listed in docs/config-reference.md). Initialise with
 * pacing_options_init() or PACING_OPTIONS_INIT. */
typedef struct pacing_options {
    size_t size;                /* sizeof(pacing_options) */
    uint32_t flags;             /* PACING_OPT_* */
    uint32_t stripes;           /* lock stripes, power of two <= 1024 */
    uint64_t capacity;          /* max users held (default 100000) */
    uint8_t secret[16];         /* pseudonym key if PACING_OPT_SECRET */
    int64_t user_ttl_ms;        /* idle users expire (default 30 days);
                                   any negative value: never */
    int64_t reorder_window_ms;  /* accepted lateness (default 60000) */
    int64_t debounce_ms;        /* identical-event debounce (default 50);
                                   any negative value: off */
    int64_t rage_window_ms;     /* rage-click window (default 1000) */
    uint32_t rage_clicks;       /* clicks on one target within the window,
                                   [2, 5] (default 3) */
    uint32_t reserved0;         /* must be 0 */
    int64_t dead_click_ms;      /* click with no response this long is dead
                                   (default 1000) */
    double feature_half_life_ms;  /* short-term features (default 120000) */
    double baseline_half_life_ms; /* per-user baseline (default 7 days) */
    pacing_allocator allocator;   /* all NULL: malloc/free */
    uint64_t seed;              /* decision generator seed (0 is a seed) */
    uint32_t max_points;        /* decision points (default 64, max 4096) */
    uint32_t pending_capacity;  /* decisions awaiting reward (default 16384) */
    int64_t hazard_horizon_ms;  /* drop-off risk horizon H (default 60000,
                                   at most 1024 steps of hazard_bin_ms) */
    int64_t hazard_bin_ms;      /* hazard model time step (default 10000) */
    uint32_t log_capacity;      /* decision log entries (default 4096,
                                   max 2^24) */
    uint32_t reserved1;         /* must be 0 */
} pacing_options;

#define PACING_OPTIONS_INIT {sizeof(pacing_options), 0, 0, 0, {0}, 0, 0, 0, \
                             0, 0, 0, 0, 0.0, 0.0, {0, 0, 0}, 0, 0, 0, 0, 0, \
                             0, 0}

/* Fill *opts with the defaults (every field zero, size set). */
PACING_API void pacing_options_init(pacing_options *opts);

/* Create a context. opts may be NULL for all defaults. On success *out holds
 * the new context; on failure *out is NULL and nothing is leaked.
 * Statuses: PACING_E_NULL (out), PACING_E_SIZE (opts->size), PACING_E_RANGE,
 * PACING_E_NAN or PACING_E_INVAL (an option, see the message),
 * PACING_E_NOMEM, PACING_E_IO (no random secret or seed from the OS).
 * The table of `capacity` users and the pending-decision buffer are
 * allocated here; afterwards only configuration calls (pacing_point_add),
 * snapshots and YAML loading allocate; push, decide, reward and settle
 * never do.
 * Thread-safe (creates independent contexts). */
PACING_API int pacing_ctx_new(const pacing_options *opts, pacing_ctx **out);

/* Free a context and everything it owns. NULL is a no-op. Not to be called
 * while another thread uses the context. */
PACING_API void pacing_ctx_free(pacing_ctx *ctx);

/* A message describing the last failed call made by the calling thread on
 * ctx (pass NULL for a failed pacing_ctx_new). Messages are kept per thread,
 * so threads sharing a context never see each other's. Never NULL; "" when
 * the thread's last failure was on another context or there was none. Valid
 * until the thread's next failing call. (Messages are matched by context
 * address: a new context at a freed one's address may show its last
 * message until it fails itself.) Thread-safe. */
PACING_API const char *pacing_errmsg(const pacing_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

/* Event types and the meaning and range of their `value`. Count events
 * ignore the value (it must still be finite). Never renumbered. */
typedef enum pacing_event_type {
    PACING_EV_SESSION_START = 1,  /* count */
    PACING_EV_SESSION_END = 2,    /* count */
    PACING_EV_DWELL = 3,          /* ms on a piece of content, [0, 86400000] */
    PACING_EV_SCROLL_DEPTH = 4,   /* fraction of the page, [0, 1] */
    PACING_EV_HOVER = 5,          /* ms, [0, 86400000] */
    PACING_EV_READING_SPEED = 6,  /* words per minute, [0, 10000] */
    PACING_EV_INPUT_LATENCY = 7,  /* reaction time in ms, [0, 600000] */
    PACING_EV_CLICK = 8,          /* ms until the UI responded, [0, 600000];
                                     flag NO_RESPONSE if it never did */
    PACING_EV_RAGE_CLICK = 9,     /* count (also derived from clicks) */
    PACING_EV_DEAD_CLICK = 10,    /* count (also derived from clicks) */
    PACING_EV_CURSOR_BACKTRACK = 11, /* count */
    PACING_EV_UNDO = 12,          /* count */
    PACING_EV_ERROR = 13,         /* count */
    PACING_EV_FORM_START = 14,    /* count */
    PACING_EV_FORM_SUBMIT = 15,   /* count */
    PACING_EV_FORM_ABANDON = 16,  /* count */
    PACING_EV_TAB_HIDDEN = 17,    /* count */
    PACING_EV_TAB_VISIBLE = 18,   /* count */
    PACING_EV_MEDIA_PAUSE = 19,   /* count */
    PACING_EV_MEDIA_RESUME = 20,  /* count */
    PACING_EV_EXPOSURE = 21,      /* a prompt was shown; count */
    PACING_EV_DISMISS = 22,       /* a prompt was dismissed; count */
    PACING_EV_MICRO_CONVERSION = 23, /* count */
    PACING_EV_CONVERSION = 24,    /* value of the conversion, [0, 1e12] */
    PACING_EV_CONSENT = 25,       /* 1 consent given, 0 withdrawn (only) */
    PACING_EV_OPT_OUT = 26,       /* count */
    PACING_EV_CUSTOM = 27         /* any finite value */
} pacing_event_type;

#define PACING_EV_TYPE_MAX 27

/* The stable snake_case name of an event type ("rage_click"), or NULL for
 * an unknown type. Thread-safe. */
PACING_API const char *pacing_event_type_name(int type);

/* Channels. Values 64..255 are free for the caller's own channels. */
typedef enum pacing_channel {
    PACING_CH_UNSPECIFIED = 0,
    PACING_CH_WEB = 1,
    PACING_CH_APP = 2,
    PACING_CH_EMAIL = 3,
    PACING_CH_PUSH = 4,
    PACING_CH_KIOSK = 5,
    PACING_CH_GAME = 6,
    PACING_CH_CUSTOM_FIRST = 64,
    PACING_CH_MAX = 255
} pacing_channel;

/* Event flags. */
#define PACING_EVF_BOT 0x1u          /* flagged as a bot: dropped, counted */
#define PACING_EVF_CONSENT 0x2u      /* the user consents to personalisation */
#define PACING_EVF_NO_CONSENT 0x4u   /* the user does not: dropped, counted */
#define PACING_EVF_NO_RESPONSE 0x8u  /* CLICK: the UI never responded */
#define PACING_EVF_PSEUDONYM 0x10u   /* use `pseudonym`, not user/user_len */
#define PACING_EVF_ALL 0x1Fu

/* One interaction event. Initialise with PACING_EVENT_INIT. */
typedef struct pacing_event {
    size_t size;          /* sizeof(pacing_event) */
    uint32_t type;        /* pacing_event_type */
    uint32_t flags;       /* PACING_EVF_* */
    const void *user;     /* caller's user id bytes (not stored) */
    size_t user_len;      /* 1..1024 bytes */
    uint64_t pseudonym;   /* with PACING_EVF_PSEUDONYM instead of user */
    int64_t time_ms;      /* caller's clock, [0, 2^53] */
    double value;         /* see pacing_event_type */
    uint64_t target;      /* caller's id of the UI element, 0 = none */
    uint32_t channel;     /* pacing_channel, [0, 255] */
    uint32_t reserved0;   /* must be 0 */
} pacing_event;

#define PACING_EVENT_INIT {sizeof(pacing_event), 0, 0, NULL, 0, 0, 0, 0.0, 0, 0, 0}

/* Push one event. Validates everything before changing anything.
 * Returns PACING_OK (applied), PACING_DROPPED (bot, debounced, no consent;
 * counted), or: PACING_E_NULL (ctx, ev, or user bytes), PACING_E_SIZE
 * (ev->size), PACING_E_TYPE, PACING_E_NAN, PACING_E_RANGE (value, channel,
 * user_len), PACING_E_INVAL (unknown flags, CONSENT with NO_CONSENT,
 * reserved0 not 0, PSEUDONYM with pseudonym 0), PACING_E_TIME,
 * PACING_E_TOO_OLD (older than the user's latest event minus the reorder
 * window).
 * Never allocates: a new user takes a free slot or evicts an expired, else
 * the least recently used, user. Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_push(pacing_ctx *ctx, const pacing_event *ev);

/* Push n events in order. First every event is checked (fields, and age
 * against the table as it is); if one fails, nothing is applied, *n_done (if
 * not NULL) is set to its index and its status is returned. Otherwise all
 * are applied in order, *n_done is n and PACING_OK is returned. Drops are
 * counted, not reported; an event made too old by an earlier event of the
 * same batch is skipped and counted in events_rejected. Every element's
 * size field must equal events[0].size, which is taken as the stride.
 * Thread-safe unless SINGLE_THREAD; a batch is not atomic with respect to
 * other threads' pushes. */
PACING_API int pacing_push_batch(pacing_ctx *ctx, const pacing_event *events,
                                 size_t n, size_t *n_done);

/* ------------------------------------------------------------------ */
/* Users                                                               */
/* ------------------------------------------------------------------ */

/* The 64-bit pseudonym of a user id under this context's secret (keyed
 * SipHash-2-4). Never 0. Statuses: PACING_E_NULL, PACING_E_RANGE (len not in
 * 1..1024). Thread-safe. */
PACING_API int pacing_pseudonym(const pacing_ctx *ctx, const void *user,
                                size_t user_len, uint64_t *out);

/* Remove a user's state. PACING_OK if it was there, PACING_E_NOTFOUND if
 * not. Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_forget(pacing_ctx *ctx, const void *user,
                             size_t user_len);
/* The same by pseudonym. */
PACING_API int pacing_forget_pseudonym(pacing_ctx *ctx, uint64_t pseudonym);

/* Drop every user idle for longer than the TTL at now_ms; *n_expired (if
 * not NULL) receives how many. Expiry also happens lazily when a slot is
 * needed. Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_expire(pacing_ctx *ctx, int64_t now_ms,
                             uint64_t *n_expired);

/* Counters. Initialise with PACING_STATS_INIT. */
typedef struct pacing_stats {
    size_t size;
    uint64_t users;            /* users held now */
    uint64_t capacity;         /* users the table can hold */
    uint64_t events_applied;
    uint64_t events_dropped_bot;
    uint64_t events_dropped_debounce;
    uint64_t events_dropped_consent;
    uint64_t events_rejected;  /* invalid or too old */
    uint64_t derived_rage_clicks;
    uint64_t derived_dead_clicks;
    uint64_t users_created;
    uint64_t users_evicted_lru;
    uint64_t users_expired;    /* by TTL, lazily or by pacing_expire */
    uint64_t users_forgotten;
    uint64_t bytes_allocated;  /* held by the context now */
} pacing_stats;

#define PACING_STATS_INIT {sizeof(pacing_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/* Read the counters. users_created = users + users_evicted_lru +
 * users_expired + users_forgotten at any quiescent moment.
 * Statuses: PACING_E_NULL, PACING_E_SIZE. Thread-safe unless
 * SINGLE_THREAD. */
PACING_API int pacing_stats_get(pacing_ctx *ctx, pacing_stats *out);

/* ------------------------------------------------------------------ */
/* Features and scores                                                 */
/* ------------------------------------------------------------------ */

/* Scores of one user at one time. Initialise with PACING_SCORES_INIT.
 * Formulas and default weights: docs/scores.md. */
typedef struct pacing_scores {
    size_t size;
    double fatigue;          /* [0, 1] */
    double cognitive_load;   /* [0, 1] */
    double attention;        /* attention retention, [0, 1] */
    double engagement;       /* [0, 1] */
    double micro_velocity;   /* micro-conversions per minute, [0, inf) */
    int64_t last_seen_ms;    /* time of the user's latest event */
    uint32_t exposures_1m;   /* exposures in the last minute */
    uint32_t exposures_1h;   /* ... hour */
    uint32_t exposures_1d;   /* ... day */
    uint32_t reserved0;
    double drop_off_risk;    /* P(session ends within the hazard horizon),
                                [0, 1]; see docs/scores.md */
    int64_t session_age_ms;  /* time since the session began, -1 if none */
} pacing_scores;

#define PACING_SCORES_INIT {sizeof(pacing_scores), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/* Read a user's scores at now_ms (which may not be older than the user's
 * latest event minus the reorder window). Read-only: state is not changed.
 * Statuses: PACING_E_NULL, PACING_E_SIZE, PACING_E_RANGE (user_len),
 * PACING_E_TIME, PACING_E_TOO_OLD, PACING_E_NOTFOUND (unknown user).
 * Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_scores_get(pacing_ctx *ctx, const void *user,
                                 size_t user_len, int64_t now_ms,
                                 pacing_scores *out);
/* The same by pseudonym. */
PACING_API int pacing_scores_get_pseudonym(pacing_ctx *ctx, uint64_t pseudonym,
                                           int64_t now_ms, pacing_scores *out);

/* Scores that decompose into inputs. */
typedef enum pacing_score_kind {
    PACING_SCORE_FATIGUE = 0,
    PACING_SCORE_COGNITIVE_LOAD = 1,
    PACING_SCORE_ATTENTION = 2,
    PACING_SCORE_ENGAGEMENT = 3
} pacing_score_kind;

/* Score inputs (signals). Never renumbered. */
typedef enum pacing_input {
    /* fatigue */
    PACING_IN_SLOWER_REACTIONS = 0, /* input latency vs the user's baseline */
    PACING_IN_DISMISSALS = 1,       /* dismissals per exposure */
    PACING_IN_RECENT_EXPOSURES = 2, /* decay-weighted recent exposures */
    PACING_IN_UNDO_RATE = 3,
    PACING_IN_ERROR_RATE = 4,       /* also in cognitive load */
    PACING_IN_INCOMPLETE_FORMS = 5,
    /* cognitive load */
    PACING_IN_READING_SLOWDOWN = 6, /* reading speed vs the user's baseline */
    PACING_IN_PAUSES = 7,           /* media pauses per minute */
    PACING_IN_FOCUS_SWITCHES = 8,   /* tab hidden per minute */
    PACING_IN_MISCLICKS = 9,        /* dead + rage clicks + backtracks */
    /* attention */
    PACING_IN_SCROLL_DEPTH = 10,
    PACING_IN_DWELL_RATIO = 11,     /* dwell vs the user's baseline */
    PACING_IN_VISIBILITY = 12,      /* 1 - focus switches */
    /* engagement */
    PACING_IN_CLICK_RATE = 13,
    PACING_IN_HOVER = 14,
    PACING_IN_MICRO_CONVERSIONS = 15,
    PACING_IN_DWELL = 16
} pacing_input;

#define PACING_INPUT_COUNT 17

/* The stable snake_case name of an input ("dismissals"), or NULL. */
PACING_API const char *pacing_input_name(int input);

/* One input's part in a score: score = sum of `contribution` over inputs,
 * contribution = weight * normalized / (sum of the score's weights). */
typedef struct pacing_contribution {
    size_t size;           /* sizeof(pacing_contribution), set by caller */
    int32_t input;         /* pacing_input */
    uint32_t reserved0;
    double raw;            /* the input in its own unit (ratio, per minute) */
    double normalized;     /* mapped to [0, 1] */
    double weight;         /* the score's weight for this input */
    double contribution;   /* its share of the score, in score units */
} pacing_contribution;

#define PACING_CONTRIBUTION_INIT {sizeof(pacing_contribution), 0, 0, 0.0, 0.0, 0.0, 0.0}

/* Write the inputs of one score, largest contribution first, into out[0..cap)
 * (every element's size field set by the caller); *n receives the number of
 * inputs of that score, which may exceed cap (then only cap are written).
 * Statuses: as pacing_scores_get, plus PACING_E_INVAL (kind).
 * Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_contributions(pacing_ctx *ctx, const void *user,
                                    size_t user_len, int64_t now_ms,
                                    int kind, pacing_contribution *out,
                                    size_t cap, size_t *n);
/* The same by pseudonym. */
PACING_API int pacing_contributions_pseudonym(pacing_ctx *ctx,
                                              uint64_t pseudonym,
                                              int64_t now_ms, int kind,
                                              pacing_contribution *out,
                                              size_t cap, size_t *n);

/* Set the weight of an input within a score (weights are relative; a score's
 * weights must not all be zero). Statuses: PACING_E_INVAL (kind or an input
 * not part of that score), PACING_E_NAN, PACING_E_RANGE (weight not in
 * [0, 1000], or it would make all weights of the score zero).
 * Call before sharing the context between threads. */
PACING_API int pacing_weight_set(pacing_ctx *ctx, int kind, int input,
                                 double weight);
/* Read a weight; PACING_E_INVAL as above. Thread-safe. */
PACING_API int pacing_weight_get(const pacing_ctx *ctx, int kind, int input,
                                 double *out);

/* ------------------------------------------------------------------ */
/* Decay modules                                                       */
/* ------------------------------------------------------------------ */

/* A decay curve: the weight w(age) in [0, 1] of an observation of a given
 * age, with w(0) = 1 and w non-increasing. Modules are named, carry up to
 * four parameters, and are used wherever the library weights past events
 * by age with a configurable shape (the recent-exposures input of fatigue).
 * The built-ins: "exponential" (params[0] = half-life ms), "linear"
 * (params[0] = span ms: w = max(0, 1 - age/span)), "power_law" (params[0]
 * = scale ms, params[1] = exponent: w = (1 + age/scale)^-exponent).
 * A new version of this struct only appends fields. */
typedef struct pacing_decay_module {
    size_t size;          /* sizeof(pacing_decay_module) */
    const char *name;     /* unique, [a-z0-9_], 1..31 chars; copied */
    /* w(age_ms) for age_ms >= 0 with the instance's parameters. Must be
     * thread-safe and must not call back into the library. */
    double (*weight)(const double params[4], double age_ms);
    /* Validate parameters; return 0 if they are usable, else nonzero.
     * May be NULL (every finite parameter set is accepted). */
    int (*check)(const double params[4]);
    double default_params[4];
} pacing_decay_module;

#define PACING_DECAY_MODULE_INIT {sizeof(pacing_decay_module), NULL, NULL, NULL, {0, 0, 0, 0}}

/* Register a custom decay module (copied; the name is copied too).
 * Statuses: PACING_E_NULL, PACING_E_SIZE, PACING_E_INVAL (name or NULL
 * weight), PACING_E_EXISTS, PACING_E_FULL (32 modules at most),
 * PACING_E_NAN/PACING_E_RANGE (default parameters rejected by check).
 * Call before sharing the context between threads. */
PACING_API int pacing_decay_register(pacing_ctx *ctx,
                                     const pacing_decay_module *module);

/* Evaluate a registered module: *out = w(age_ms) with the given params
 * (NULL: the module's defaults). Statuses: PACING_E_NULL, PACING_E_NOTFOUND,
 * PACING_E_NAN, PACING_E_RANGE (negative age or rejected params).
 * Thread-safe. */
PACING_API int pacing_decay_eval(const pacing_ctx *ctx, const char *name,
                                 const double *params, double age_ms,
                                 double *out);

/* Choose the decay of the recent-exposures fatigue input: module name and
 * parameters (NULL: the module's defaults). The default is "exponential"
 * with a 120000 ms half-life. Statuses as pacing_decay_eval.
 * Call before sharing the context between threads. */
PACING_API int pacing_exposure_decay_set(pacing_ctx *ctx, const char *name,
                                         const double *params);

/* ------------------------------------------------------------------ */
/* Decisions                                                           */
/* ------------------------------------------------------------------ */

/* A named numeric parameter, e.g. {"prior_alpha", 1.0}. */
typedef struct pacing_param {
    const char *name;
    double value;
} pacing_param;

/* An implicit reward rule: events after a decision, judged by a reward
 * module, add weight * value to the decision's reward. */
typedef struct pacing_reward_rule {
    const char *module;   /* "conversion", "micro_conversion", "dismiss",
                             "rage_click", "dwell", or a registered one */
    double weight;        /* [-1000, 1000] */
} pacing_reward_rule;

/* Point flags. */
#define PACING_PT_SCORES_CONTEXT 0x1u /* append fatigue, cognitive load and
                                         drop-off risk to the context */
#define PACING_PT_DEFAULT_REWARD 0x2u /* settle unrewarded decisions with
                                         default_reward when the window ends */

/* A decision point: where the host asks "show, delay or skip?" (or which
 * variant). Initialise with PACING_POINT_SPEC_INIT. Every pointer is read
 * during pacing_point_add() only; names are copied. */
typedef struct pacing_point_spec {
    size_t size;                  /* sizeof(pacing_point_spec) */
    const char *name;             /* unique, [a-z0-9_], 1..31 chars */
    const char *const *actions;   /* n_actions names, unique, like name */
    uint32_t n_actions;           /* 2..64 */
    uint32_t flags;               /* PACING_PT_* */
    const char *policy;           /* see docs/quality.md: "thompson",
                                     "gaussian_thompson", "ucb1", "kl_ucb",
                                     "epsilon_greedy", "softmax", "linucb",
                                     "linear_thompson" */
    const pacing_param *params;   /* the policy's parameters by name; the
                                     others keep their defaults */
    uint32_t n_params;
    uint32_t context_dim;         /* caller features, 0..32 (contextual
                                     policies only) */
    const char *recovery_decay;   /* NULL: none; else a decay module: an
                                     action's value for a user is scaled by
                                     1 - w(time since that user got it) */
    const double *recovery_params; /* 4 values, NULL: module defaults */
    int64_t attribution_ms;       /* reward window [t, t + attribution_ms)
                                     (default 3600000) */
    double default_reward;        /* with PACING_PT_DEFAULT_REWARD */
    const pacing_reward_rule *rewards; /* implicit reward rules */
    uint32_t n_rewards;           /* 0..8 */
    uint32_t reserved0;           /* must be 0 */
    uint64_t quiet_actions;       /* bit a: action a shows nothing (delay,
                                     skip); safety rules never veto it and
                                     choosing it records no exposure */
    int32_t safe_action;          /* a quiet action returned when safety
                                     vetoes every eligible showing action
                                     (if the request leaves it eligible);
                                     -1: none (the policy then picks among
                                     eligible quiet actions, and with none
                                     the call fails with PACING_E_VETOED) */
    uint32_t reserved1;           /* must be 0 */
} pacing_point_spec;

#define PACING_POINT_SPEC_INIT {sizeof(pacing_point_spec), NULL, NULL, 0, 0, \
    NULL, NULL, 0, 0, NULL, NULL, 0, 0.0, NULL, 0, 0, 0, -1, 0}

/* Create a decision point; *point_id receives its id (0, 1, 2, ... in
 * order of creation). Statuses: PACING_E_NULL, PACING_E_SIZE,
 * PACING_E_INVAL (a name, the number of actions, an unknown policy
 * parameter, context_dim with a context-free policy or 0 with a contextual
 * one, the flags), PACING_E_NAN / PACING_E_RANGE (a parameter or weight),
 * PACING_E_NOTFOUND (policy, decay or reward module), PACING_E_EXISTS
 * (name), PACING_E_FULL (max_points), PACING_E_NOMEM (the point's policy
 * state is allocated here). The message names the offending field. Call
 * before sharing the context between threads. */
PACING_API int pacing_point_add(pacing_ctx *ctx, const pacing_point_spec *spec,
                                uint32_t *point_id);

/* Look a point up by name. PACING_E_NOTFOUND if there is none.
 * Thread-safe. */
PACING_API int pacing_point_find(const pacing_ctx *ctx, const char *name,
                                 uint32_t *point_id);

/* The number of decision points (ids are 0 .. count-1). Thread-safe once
 * configuration is done. */
PACING_API uint32_t pacing_point_count(const pacing_ctx *ctx);

/* The name of a point, or NULL for an unknown id. Thread-safe. */
PACING_API const char *pacing_point_name(const pacing_ctx *ctx, uint32_t point);

/* The number of actions of a point, 0 for an unknown id. Thread-safe. */
PACING_API uint32_t pacing_point_actions(const pacing_ctx *ctx, uint32_t point);

/* The name of action `action` of a point, or NULL. Thread-safe. */
PACING_API const char *pacing_action_name(const pacing_ctx *ctx,
                                          uint32_t point, uint32_t action);

/* Request flags. */
#define PACING_REQ_PSEUDONYM 0x10u  /* use `pseudonym`, not user/user_len
                                       (the same bit as PACING_EVF_PSEUDONYM) */
#define PACING_REQ_CONSENT 0x2u     /* as PACING_EVF_CONSENT */
#define PACING_REQ_NO_CONSENT 0x4u  /* as PACING_EVF_NO_CONSENT: the decision
                                       uses no and keeps no user state */
#define PACING_REQ_OPTED_OUT 0x20u  /* the user opted out (the host keeps
                                       that fact; the library forgets the
                                       user): as NO_CONSENT, and the
                                       "opt_out" rule vetoes showing */

/* One question to a decision point. Initialise with PACING_REQUEST_INIT. */
typedef struct pacing_request {
    size_t size;              /* sizeof(pacing_request) */
    uint32_t point;           /* from pacing_point_add / pacing_point_find */
    uint32_t flags;           /* PACING_REQ_* */
    const void *user;         /* caller's user id bytes (not stored) */
    size_t user_len;          /* 1..1024 */
    uint64_t pseudonym;       /* with PACING_REQ_PSEUDONYM */
    int64_t now_ms;           /* caller's clock, [0, 2^53] */
    uint64_t ineligible;      /* bit a set: action a is asleep for this call
                                 (not chosen, not penalised) */
    const double *context;    /* context_len finite values, or NULL */
    uint32_t context_len;     /* must equal the point's context_dim */
    uint32_t channel;         /* pacing_channel */
    int32_t utc_offset_min;   /* the user's local time minus UTC, minutes,
                                 [-1440, 1440] (quiet hours) */
    uint32_t reserved0;       /* must be 0 */
} pacing_request;

#define PACING_REQUEST_INIT {sizeof(pacing_request), 0, 0, NULL, 0, 0, 0, 0, NULL, 0, 0, 0, 0}

/* Decision reason flags. */
#define PACING_DR_EXPLORED 0x1u     /* not the action the policy rates best */
#define PACING_DR_EXPLOITED 0x2u    /* the action the policy rates best */
#define PACING_DR_INELIGIBLE 0x4u   /* some actions were asleep */
#define PACING_DR_RECOVERING 0x8u   /* some actions were scaled down by
                                       recovery */
#define PACING_DR_NO_USER 0x10u     /* no user state (new, or no consent):
                                       non-personalised scores of 0 */
#define PACING_DR_PENDING_FULL 0x20u /* the pending buffer was full: the
                                        oldest decision was settled early */
#define PACING_DR_VETOED 0x40u      /* safety vetoed or delayed some actions */
#define PACING_DR_SAFE 0x80u        /* every showing action was vetoed: the
                                       safe action was returned, not the
                                       policy's choice (propensity 1, not
                                       pending, nothing learned) */
#define PACING_DR_MORE_VETOES 0x100u /* more vetoes than vetoes[] holds */

/* Verdicts of safety rules. */
#define PACING_ALLOW 0
#define PACING_VETO 1
#define PACING_DELAY 2

/* One safety verdict against one action, as recorded in a decision. */
typedef struct pacing_veto {
    uint32_t rule;            /* rule id, from pacing_rule_add */
    uint32_t action;
    uint32_t verdict;         /* PACING_VETO or PACING_DELAY */
    uint32_t reason;          /* the rule's reason code */
    int64_t retry_after_ms;   /* DELAY: earliest time worth asking again */
    double detail[2];         /* the rule's numbers (docs/safety.md) */
} pacing_veto;

/* The two inputs that contribute most to a score. */
typedef struct pacing_top_inputs {
    int32_t input[2];         /* pacing_input, -1 if none */
    double share[2];          /* contribution / score, [0, 1] */
} pacing_top_inputs;

/* The answer. Initialise with PACING_DECISION_INIT. */
typedef struct pacing_decision {
    size_t size;              /* sizeof(pacing_decision) */
    uint64_t id;              /* for pacing_reward; 0 only for a safe
                                 decision (PACING_DR_SAFE), which takes none */
    uint32_t point;
    uint32_t action;          /* index into the point's actions */
    uint32_t reasons;         /* PACING_DR_* */
    uint32_t reserved0;
    double propensity;        /* P(this action | state), (0, 1]; exact for
                                 epsilon-greedy and softmax, an estimate for
                                 Thompson sampling (docs/quality.md) */
    int64_t time_ms;          /* the request's now_ms */
    double fatigue;           /* the scores used */
    double cognitive_load;
    double drop_off_risk;
    double attention;
    double engagement;
    int64_t retry_after_ms;   /* with PACING_DR_SAFE: when to ask again: for
                                 each delayed showing action the latest
                                 retry-after of its delays, and the earliest
                                 of those over the actions; 0 if every
                                 showing action was vetoed outright */
    uint32_t n_vetoes;        /* entries of vetoes[] used */
    uint32_t reserved1;
    pacing_veto vetoes[4];
    pacing_top_inputs fatigue_top;
    pacing_top_inputs load_top;
} pacing_decision;

#define PACING_DECISION_INIT {sizeof(pacing_decision), 0, 0, 0, 0, 0, 0.0, 0, \
    0, 0, 0, 0, 0, 0, 0, 0, {{0, 0, 0, 0, 0, {0, 0}}}, {{-1, -1}, {0, 0}},   \
    {{-1, -1}, {0, 0}}}

/* Ask a decision point. Reads the user's scores, removes ineligible
 * actions, scales recovering ones, lets the policy choose, records the
 * decision as pending (for rewards within the attribution window) and
 * remembers, for the user, when each action was given. Same seed and same
 * calls in the same order give the same decisions.
 * Statuses: PACING_E_NULL, PACING_E_SIZE, PACING_E_NOTFOUND (point),
 * PACING_E_INVAL (flags, reserved0, every action ineligible, context_len),
 * PACING_E_NAN (context), PACING_E_RANGE (user_len, channel,
 * utc_offset_min), PACING_E_TIME, PACING_E_TOO_OLD (now_ms older than
 * the user's latest event minus the reorder window), PACING_E_VETOED
 * (safety vetoed every
 * eligible action and no safe action was available: the point has none or
 * the request made it ineligible).
 * Decision ids encode the user's stripe, so identical ids across runs
 * also need the same pseudonym secret (PACING_OPT_SECRET) or one stripe.
 * Never allocates. Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_decide(pacing_ctx *ctx, const pacing_request *req,
                             pacing_decision *out);

/* Reward a pending decision explicitly. The value must lie in the policy's
 * reward range ([0, 1] for thompson, kl_ucb, ucb1, epsilon_greedy and
 * softmax; [-1e6, 1e6] for gaussian_thompson, linucb, linear_thompson).
 * The policy learns one observation and the decision is settled.
 * Statuses: PACING_E_NULL, PACING_E_NAN, PACING_E_RANGE (value),
 * PACING_E_TIME (also: before the decision), PACING_E_NOTFOUND (unknown
 * id or already settled: rewarded, expired or forgotten). Nothing changes
 * on failure, except that a reward arriving after the window ended
 * settles the decision as its window's end would have (then NOTFOUND).
 * Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_reward(pacing_ctx *ctx, uint64_t decision_id,
                             double value, int64_t now_ms);

/* Settle every pending decision whose attribution window, the half-open
 * interval [decision time, decision time + attribution_ms), ended at or
 * before now_ms (implicit rewards or the default reward are applied, or
 * the decision is dropped). This also happens lazily in push, decide and
 * reward for the stripe they touch. *n_settled (if not NULL) receives how
 * many. Statuses: PACING_E_NULL, PACING_E_TIME. Thread-safe unless
 * SINGLE_THREAD. */
PACING_API int pacing_settle(pacing_ctx *ctx, int64_t now_ms,
                             uint64_t *n_settled);

/* What a dashboard reads about one action of a point. */
typedef struct pacing_arm_stats {
    size_t size;              /* sizeof(pacing_arm_stats) */
    uint64_t decisions;       /* times chosen */
    uint64_t rewards;         /* rewards learned (explicit and implicit) */
    double pulls;             /* the policy's (discounted) observation count */
    double reward_sum;        /* (discounted) sum of rewards */
    double mean;              /* reward_sum / pulls */
    double param_a;           /* posterior or confidence parameters, named */
    double param_b;           /* by param_a_name / param_b_name */
    const char *param_a_name; /* e.g. "alpha"; static strings */
    const char *param_b_name;
    int64_t last_update_ms;   /* time of the last reward, -1 if none */
} pacing_arm_stats;

#define PACING_ARM_STATS_INIT {sizeof(pacing_arm_stats), 0, 0, 0, 0, 0, 0, 0, NULL, NULL, 0}

/* Read one action's statistics. Statuses: PACING_E_NULL, PACING_E_SIZE,
 * PACING_E_NOTFOUND (point or action). Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_arm_stats_get(pacing_ctx *ctx, uint32_t point,
                                    uint32_t action, pacing_arm_stats *out);

/* Decision-layer counters. */
typedef struct pacing_decision_stats {
    size_t size;
    uint64_t decisions;
    uint64_t rewards_explicit;
    uint64_t rewards_implicit;    /* settled with a rule's reward */
    uint64_t rewards_default;     /* settled with the default reward */
    uint64_t expired_unrewarded;  /* window ended, nothing learned */
    uint64_t settled_early;       /* pushed out of a full pending buffer */
    uint64_t pending;             /* awaiting reward now */
    uint64_t reward_rejected;     /* unknown, settled or bad rewards */
    uint64_t safe_decisions;      /* safe actions returned (PACING_DR_SAFE) */
} pacing_decision_stats;

#define PACING_DECISION_STATS_INIT {sizeof(pacing_decision_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0}

/* Read the decision-layer counters. Statuses: PACING_E_NULL, PACING_E_SIZE.
 * Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_decision_stats_get(pacing_ctx *ctx,
                                         pacing_decision_stats *out);

/* The drop-off model's baseline for sessions of age age_ms: *hazard is the
 * share of sessions alive at the start of that time step (hazard_bin_ms
 * wide) that ended within it, as learned so far (the Nelson-Aalen
 * increment; the pooled rate where a step has no data), *at_risk (if not
 * NULL) the number of sessions observed at risk there. Statuses:
 * PACING_E_NULL, PACING_E_TIME. Thread-safe unless SINGLE_THREAD. */
PACING_API int pacing_hazard_baseline(pacing_ctx *ctx, int64_t age_ms,
                                      double *hazard, double *at_risk);


/* ------------------------------------------------------------------ */
/* Safety rules                                                        */
/* ------------------------------------------------------------------ */

/* What a safety rule sees: a read-only view of one proposed action for one
 * user at one time. Times are -1 when unknown. */
typedef struct pacing_rule_view {
    size_t size;
    uint32_t point, action;
    const char *point_name, *action_name;
    uint32_t channel;
    uint32_t request_flags;    /* PACING_REQ_* */
    int64_t now_ms;
    int32_t utc_offset_min;
    uint32_t has_user;         /* 0: no user state (new or no consent) */
    double fatigue, cognitive_load, drop_off_risk, attention, engagement;
    int64_t last_error_ms;
    int64_t form_started_ms;   /* a form in progress since, or -1 */
    int64_t session_start_ms;
    uint32_t session_exposures;
    uint32_t n_exposures;      /* entries in the arrays below, newest last */
    int64_t exposure_ms[8];    /* the user's latest exposures */
    uint32_t exposure_point[8];   /* point id, or UINT32_MAX for pushed
                                     EXPOSURE events */
    uint32_t exposure_channel[8];
    uint32_t exposures_1m, exposures_1h, exposures_1d; /* all points */
} pacing_rule_view;

/* A rule's answer. */
typedef struct pacing_rule_result {
    size_t size;
    uint32_t verdict;          /* PACING_ALLOW, PACING_VETO, PACING_DELAY */
    uint32_t reason;           /* the rule's own code, for explanations */
    int64_t retry_after_ms;    /* with DELAY */
    double detail[2];
} pacing_rule_result;

/* A safety-rule module. check() fills *out (verdict ALLOW by default) and
 * returns 0; nonzero means the rule failed and counts as a veto. explain()
 * (may be NULL) writes a short phrase for a veto it gave, e.g. "min_gap
 * needs 20 s, last shown 12.3 s ago". Both must be thread-safe and must not
 * call back into the library. params holds the instance's parameters in
 * the order of param_names. */
typedef struct pacing_rule_module {
    size_t size;                    /* sizeof(pacing_rule_module) */
    const char *name;               /* unique, [a-z0-9_], 1..31; copied */
    const char *const *param_names; /* n_params names (copied) */
    const double *param_defaults;   /* n_params defaults (copied) */
    uint32_t n_params;              /* 0..8 */
    uint32_t reserved0;
    int (*check)(void *opaque, const double *params,
                 const pacing_rule_view *view, pacing_rule_result *out);
    void (*explain)(void *opaque, const double *params,
                    const pacing_veto *veto, char *buf, size_t len);
    void *opaque;
} pacing_rule_module;

/* Register a rule module. Statuses: PACING_E_NULL, PACING_E_SIZE,
 * PACING_E_INVAL (name, check NULL, n_params > 8, a parameter name),
 * PACING_E_NAN (a default), PACING_E_EXISTS, PACING_E_FULL (32 modules).
 * Call before sharing the context between threads. */
PACING_API int pacing_rule_register(pacing_ctx *ctx,
                                    const pacing_rule_module *module);

/* An instance of a rule module. Initialise with PACING_RULE_SPEC_INIT. */
typedef struct pacing_rule_spec {
    size_t size;              /* sizeof(pacing_rule_spec) */
    const char *module;       /* "frequency_cap", "min_gap", "quiet_hours",
                                 "fatigue_ceiling", "load_ceiling",
                                 "dropoff_ceiling", "session_budget",
                                 "sensitive_state", "consent", "opt_out",
                                 or a registered module */
    const char *point;        /* apply to this point only; NULL: all */
    const pacing_param *params; /* by name; the rest keep their defaults */
    uint32_t n_params;
    uint32_t reserved0;
} pacing_rule_spec;

#define PACING_RULE_SPEC_INIT {sizeof(pacing_rule_spec), NULL, NULL, NULL, 0, 0}

/* Add a rule; *rule_id (if not NULL) receives its id (0, 1, ... in order).
 * Rules run in the order they were added, for every showing action of
 * the points they apply to; see docs/safety.md. Statuses: PACING_E_NULL,
 * PACING_E_SIZE, PACING_E_NOTFOUND (module or point), PACING_E_INVAL
 * (unknown parameter), PACING_E_NAN, PACING_E_RANGE (a parameter outside
 * the module's range), PACING_E_FULL (64 rules). Call before sharing the
 * context between threads. */
PACING_API int pacing_rule_add(pacing_ctx *ctx, const pacing_rule_spec *spec,
                               uint32_t *rule_id);

/* Write a short human sentence explaining decision *d into buf (always
 * NUL-terminated when len > 0), e.g. "delayed checkout_cta: min_gap needs
 * 20 s, last shown 12.3 s ago; fatigue 0.71 (dismissals 48%, slower
 * reactions 30%)". Returns the length the full sentence needs (excluding
 * the NUL), like snprintf, or a negative status: PACING_E_NULL,
 * PACING_E_SIZE, PACING_E_NOTFOUND (the decision names a point, action,
 * rule or veto count this context does not have). Thread-safe. */
PACING_API int pacing_explain(const pacing_ctx *ctx, const pacing_decision *d,
                              char *buf, size_t len);


/* ------------------------------------------------------------------ */
/* YAML configuration                                                  */
/* ------------------------------------------------------------------ */

/* Where and why a configuration was rejected. */
typedef struct pacing_config_error {
    size_t size;               /* sizeof(pacing_config_error) */
    uint32_t line, column;     /* 1-based; 0 when not tied to a place */
    char file[256];            /* the path given, or "<string>" */
    char message[256];         /* e.g. "points[0].policy: no policy 'thompsn'" */
} pacing_config_error;

#define PACING_CONFIG_ERROR_INIT {sizeof(pacing_config_error), 0, 0, {0}, {0}}

/* Create a context from a YAML file describing a whole deployment:
 * options, score weights, the exposure decay, decision points and safety
 * rules (docs/config-reference.md). Strict: unknown keys, wrong types,
 * out-of-range numbers, unknown module names and duplicate names fail with
 * PACING_E_CONFIG and *err (if not NULL) says file:line:column and what;
 * nothing is half-applied (no context is returned). base (may be NULL)
 * supplies what YAML cannot: the allocator, and defaults the file
 * overrides. Statuses: PACING_E_NULL, PACING_E_SIZE, PACING_E_IO (cannot
 * read the file), PACING_E_CONFIG, PACING_E_NOMEM. Thread-safe. */
PACING_API int pacing_ctx_new_from_yaml(const char *path,
                                        const pacing_options *base,
                                        pacing_ctx **out,
                                        pacing_config_error *err);

/* The same from a string of len bytes (hosts without files). */
PACING_API int pacing_ctx_new_from_yaml_string(const char *yaml, size_t len,
                                               const pacing_options *base,
                                               pacing_ctx **out,
                                               pacing_config_error *err);


/* ------------------------------------------------------------------ */
/* Snapshots                                                           */
/* ------------------------------------------------------------------ */

/* Write callback: take len bytes; return 0 on success, nonzero to abort. */
typedef int (*pacing_write_fn)(void *opaque, const void *buf, size_t len);
/* Read callback: fill up to len bytes; return the number read, 0 at the
 * end of the data, or a negative number on error. */
typedef long (*pacing_read_fn)(void *opaque, void *buf, size_t len);

/* Save the whole learned state (users, decision-point statistics and
 * policy states, pending decisions, the drop-off model, counters, and a
 * hash of the configuration) in the format of docs/snapshot-format.md.
 * Atomic: written to a temporary file in the same directory, fsync'd,
 * renamed over path, and the directory fsync'd; on failure path is
 * untouched. Each stripe is captured under its lock, so a snapshot taken
 * while other threads work is consistent per user. Statuses: PACING_E_NULL,
 * PACING_E_IO (see the message), PACING_E_NOMEM. Thread-safe unless
 * SINGLE_THREAD. */
PACING_API int pacing_snapshot_save(pacing_ctx *ctx, const char *path);
/* The same through a write callback (not atomic: that is the callback's
 * business). PACING_E_IO if the callback fails. */
PACING_API int pacing_snapshot_write(pacing_ctx *ctx, pacing_write_fn write,
                                     void *opaque);

/* Replace the context's learned state with a snapshot's. Everything is
 * read and checked before the context is touched: damaged or truncated
 * data gives PACING_E_CORRUPT, another format version PACING_E_VERSION, a
 * snapshot of a different configuration (points, rules, weights, table
 * geometry) or pseudonym secret PACING_E_CONFIG, and in every such case the
 * context is exactly as before. Statuses also: PACING_E_NULL, PACING_E_IO,
 * PACING_E_NOMEM. Not to be called while other threads use the context. */
PACING_API int pacing_snapshot_load(pacing_ctx *ctx, const char *path);
/* The same through a read callback. */
PACING_API int pacing_snapshot_read(pacing_ctx *ctx, pacing_read_fn read,
                                    void *opaque);


/* ------------------------------------------------------------------ */
/* Decision log                                                        */
/* ------------------------------------------------------------------ */

/* How a logged decision ended. */
#define PACING_OUT_REWARDED 1   /* explicit pacing_reward() */
#define PACING_OUT_IMPLICIT 2   /* a reward rule's reward */
#define PACING_OUT_DEFAULT 3    /* the default reward at the window's end */
#define PACING_OUT_EXPIRED 4    /* the window ended, nothing was learned */
#define PACING_OUT_SAFE 5       /* a safe decision (nothing to learn) */

/* One decision and its outcome: what audits and off-policy evaluation
 * read. Pseudonyms only; raw user ids are never stored. */
typedef struct pacing_log_entry {
    size_t size;
    uint64_t id;                /* the decision id (0 for safe decisions) */
    int64_t time_ms;
    uint64_t pseudonym;         /* 0: decided without user state */
    uint32_t point;
    uint32_t proposed_action;   /* the policy's pick; UINT32_MAX if safety
                                   left it nothing to pick (SAFE) */
    uint32_t final_action;
    uint32_t reasons;           /* PACING_DR_* */
    double propensity;
    uint32_t outcome;           /* PACING_OUT_* */
    uint32_t settled_early;     /* 1: pushed out of a full pending buffer */
    double reward;              /* the reward learned; 0 if none */
    int64_t reward_time_ms;     /* when it was learned, -1 if never */
    uint64_t policy_version;    /* rewards the point had learned before
                                   this decision */
} pacing_log_entry;

/* Called once per entry, oldest first; return nonzero to stop (the entries
 * not passed stay in the log). */
typedef int (*pacing_log_fn)(void *opaque, const pacing_log_entry *entry);

/* Pass the log's entries to fn and remove them. Entries are appended when
 * a decision is settled (rewarded, expired, settled early) or, for a safe
 * decision, when it is made. When the log is full the oldest entry is
 * overwritten; *dropped (if not NULL) receives how many were lost that
 * way since the previous read. pacing_forget removes a user's entries.
 * Statuses: PACING_E_NULL. fn must not call back into the library.
 * Thread-safe unless SINGLE_THREAD (fn runs under the log's lock). */
PACING_API int pacing_log_read(pacing_ctx *ctx, pacing_log_fn fn, void *opaque,
                               uint64_t *dropped);

/* ------------------------------------------------------------------ */
/* Reward modules                                                      */
/* ------------------------------------------------------------------ */

/* What a reward module sees: one event of the decided user, pushed after
 * the decision and inside its attribution window. */
typedef struct pacing_reward_input {
    size_t size;
    const pacing_event *event;   /* user/user_len are NULL/0 here */
    int64_t since_decision_ms;   /* event time - decision time, >= 0 */
    uint32_t point, action;
    double dwell_baseline_ms;    /* the user's baseline dwell, 0 if none */
} pacing_reward_input;

/* A reward module. on_event returns nonzero if the event counts, with
 * *value its reward (multiplied by the rule's weight) and *final nonzero
 * if attribution ends with it (the decision settles now). It must be
 * thread-safe and must not call back into the library. */
typedef struct pacing_reward_module {
    size_t size;               /* sizeof(pacing_reward_module) */
    const char *name;          /* unique, [a-z0-9_], 1..31; copied */
    int (*on_event)(void *opaque, const pacing_reward_input *in,
                    double *value, int *final);
    void *opaque;
} pacing_reward_module;

/* Register a reward module. Statuses: PACING_E_NULL, PACING_E_SIZE,
 * PACING_E_INVAL (name, on_event NULL), PACING_E_EXISTS, PACING_E_FULL
 * (32 modules). Call before sharing the context between threads. */
PACING_API int pacing_reward_register(pacing_ctx *ctx,
                                      const pacing_reward_module *module);

#ifdef __cplusplus
}
#endif

#endif /* PACING_H */
