/* Shared pieces of the `pacing` command's sub-commands (the files of tools/).
 *
 *   tools/pacing.c   main, the command table, validate
 *   tools/common.c   configuration loading, CSV, the row engine
 *   tools/sim.c      pacing sim
 *   tools/replay.c   pacing replay (and off-policy estimates)
 *   tools/inspect.c  pacing inspect
 *
 * SPDX-License-Identifier: MIT */
#ifndef PACING_TOOLS_H
#define PACING_TOOLS_H

#include <pacing.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_BAD 1   /* a checked thing is bad: config, data, snapshot */
#define EXIT_USAGE 2 /* a usage error */

/* ---- sub-commands ---- */

int cmd_sim(int argc, char **argv);
void sim_help(FILE *out);
int cmd_replay(int argc, char **argv);
void replay_help(FILE *out);
int cmd_inspect(int argc, char **argv);
void inspect_help(FILE *out);

/* ---- arguments ---- */

int tl_is_help(const char *arg);
/* Strict parsers: the whole string, no sign for unsigned; 0 on success. */
int tl_parse_u64(const char *s, uint64_t *out);
int tl_parse_i64(const char *s, int64_t *out);
int tl_parse_double(const char *s, double *out);
/* Print "pacing CMD: message" and "usage: ..." to stderr; return EXIT_USAGE. */
int tl_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the configuration as the tools see it ---- */

#define TL_NAME 32
#define TL_MAX_RULES 64

typedef struct tl_point {
    char name[TL_NAME];
    char policy[TL_NAME];
    uint32_t n_actions;
    const char *actions[64]; /* pacing_action_name(): owned by the context */
    uint64_t quiet;          /* quiet_actions as bits */
    uint32_t context_dim;
} tl_point;

typedef struct tl_rule {
    char module[TL_NAME];
    char point[TL_NAME];     /* "" : every point */
} tl_rule;

typedef struct tl_config {
    pacing_ctx *ctx;
    const char *path;
    uint32_t n_points;
    tl_point *points;
    uint32_t n_rules;
    tl_rule rules[TL_MAX_RULES];
    int has_secret;          /* options.secret is in the file */
    int seed_overridden;     /* options.seed / random_seed were replaced */
} tl_config;

/* The base options of sim and replay for --seed S: decisions seeded with S
 * and, unless the file sets options.secret, pseudonyms keyed with a
 * secret derived from S (so decision ids, which encode the stripe, are
 * the same in every run). */
void tl_seed_options(uint64_t seed, pacing_options *o);

/* Create the context of a YAML file and read what the tools need from it.
 * Flags:
 *   TL_LOAD_OVERRIDE_SEED  options.seed and options.random_seed of the file
 *                          are removed so that base->seed applies (runs are
 *                          reproducible);
 *   TL_LOAD_BIG_LOG        unless the file sets options.log_capacity, the
 *                          decision log holds 2 * pending_capacity + 4096
 *                          entries (at most 2^24), so that the engine, which
 *                          reads it at least every 512 decisions, never
 *                          loses a reward (the log size changes neither the
 *                          decisions nor the snapshot's configuration hash).
 * Errors go to stderr as "pacing CMD: FILE:LINE:COLUMN: message". Returns
 * 0 or EXIT_BAD. */
#define TL_LOAD_OVERRIDE_SEED 1u
#define TL_LOAD_BIG_LOG 2u
int tl_config_load(const char *cmd, const char *path, const pacing_options *base,
                   unsigned flags, tl_config *out);
void tl_config_free(tl_config *c);
/* Index of point `name`, or -1. */
int tl_point_index(const tl_config *c, const char *name);

/* ---- numbers and CSV ---- */

/* The shortest "%.Ng" (N = 15..17) that reads back as exactly v. */
void tl_fmt_double(char *buf, size_t len, double v);
/* Write s as one CSV field (quoted if it needs to be). */
void tl_csv_field(FILE *f, const char *s);

/* One parsed CSV line: fields point into buf (modified in place). */
typedef struct tl_csv {
    FILE *f;
    char *line;
    size_t cap;
    unsigned long lineno;
    char *fields[64];
    size_t n;
} tl_csv;

/* Read the next non-empty line that is not a comment ('#' first); split
 * it. Returns 1 with a line, 0 at the end, -1 on a malformed line
 * (unterminated quote, too many fields) or a read error. */
int tl_csv_next(tl_csv *c);
void tl_csv_free(tl_csv *c);

/* Event and request flags by name ("consent|bot"); 0 or -1. */
int tl_parse_flags(const char *s, int decide, uint32_t *out);
void tl_fmt_flags(char *buf, size_t len, uint32_t flags, int decide);
/* Decision reasons as "explored|vetoed", "" for none. */
void tl_fmt_reasons(char *buf, size_t len, uint32_t reasons);

/* ---- the row engine: events and decide requests applied to a context ---- */

/* One row of an events log: an event, or a decide request ("decide:POINT"). */
typedef struct tl_row {
    int64_t t;               /* time_ms */
    const char *user;
    size_t user_len;
    int decide;              /* 1: a decide request for `point` */
    uint32_t type;           /* event type */
    uint32_t point;          /* point id (decide rows) */
    double value;
    uint64_t target;
    uint32_t channel;
    uint32_t flags;          /* PACING_EVF_* (events) or PACING_REQ_* (decide) */
    int32_t utc_offset_min;
} tl_row;

/* A decision as written to a decisions file. */
typedef struct tl_dec {
    int64_t t;
    char *user;
    uint32_t point;
    int32_t action;          /* -1: every action vetoed, no safe action;
                                -2: the library refused the request */
    double propensity;
    uint64_t id;
    uint32_t reasons;
    int has_reward;
    double reward;           /* the reward the context learned for it */
} tl_dec;

typedef struct tl_engine {
    tl_config *cfg;
    FILE *rows_out;          /* if set, every applied row is written here */
    int started;
    int64_t sec;             /* the minute of the latest settle */
    int64_t last_t;
    size_t since_log;
    double ones[64];         /* the context passed to contextual points */
    tl_dec *dec;
    size_t n_dec, cap_dec;
    uint64_t *map_key;       /* decision id -> index in dec */
    size_t *map_val;
    size_t map_cap, map_n;
    /* counters */
    uint64_t rows, events, events_applied, events_dropped, events_rejected;
    uint64_t decisions, all_vetoed, safe, more_vetoes, log_dropped;
    uint64_t decide_rejected;        /* requests the library refused */
    uint64_t vetoes[TL_MAX_RULES];  /* decisions in which rule r vetoed */
    uint64_t delays[TL_MAX_RULES];  /* ... or delayed an action */
    uint64_t *action_count;  /* per point, 64 each */
    int oom;
} tl_engine;

int tl_engine_init(tl_engine *e, tl_config *cfg, FILE *rows_out);
/* Apply one row. For a decide row *d receives the decision. Returns the
 * library's status. Every decide row is recorded: PACING_E_VETOED (every
 * action vetoed, no safe action) with action -1, any other failure (e.g.
 * PACING_E_TOO_OLD) with action -2. A failure to allocate the engine's
 * own records returns PACING_E_NOMEM with e->oom set. */
int tl_engine_apply(tl_engine *e, const tl_row *r, pacing_decision *d);
/* Settle every pending decision and collect the rewards (end of a run). */
void tl_engine_finish(tl_engine *e);
/* Write the decisions file (header and one line per decision). */
int tl_engine_write_decisions(const tl_engine *e, FILE *f);
void tl_engine_free(tl_engine *e);

/* Write an events-file header. */
void tl_write_events_header(FILE *f);

/* The engine calls pacing_settle() when a row enters a new period of
 * this length (at that row's time). */
#define TL_SETTLE_MS 60000

#define TL_T0_MS 1704110400000LL /* 2024-01-01T12:00:00Z, the sim's start */

#endif /* PACING_TOOLS_H */
