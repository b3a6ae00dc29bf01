/* pacing replay: an events log through a configuration, and off-policy
 * estimates of the configuration's policy from logged decisions.
 *
 * Events file (CSV, a header line first; '#' lines and blank lines are
 * skipped; fields may be double-quoted, "" inside quotes is a quote):
 *   time_ms   integer, required
 *   user      the host's user id (bytes; pseudonymised by the library)
 *   type      an event type name (pacing_event_type_name: dwell, click,
 *             ...), or decide:POINT for "the host asked POINT now"
 *   value     number (events; empty = 0)            optional column
 *   target    unsigned integer (events; empty = 0)  optional column
 *   channel   0..255 (empty = 0)                    optional column
 *   flags     names joined by '|': consent, no_consent, bot, no_response
 *             (events), consent, no_consent, opted_out (decide); without
 *             the column every row counts as consenting (consent)
 *   utc_offset_min  -1440..1440 (decide rows; empty = 0)  optional column
 * Rows are applied in file order (the library takes out-of-order events
 * and requests within its reorder window). Rows the library refuses are
 * counted (events_rejected, decide_rejected) and the first five reported;
 * a malformed row stops the replay (exit 1).
 *
 * Decisions file (what --out writes and --logged reads):
 *   time_ms,user,point,action,propensity,decision_id,reasons,reward
 * one line per decide row. action is empty when safety vetoed every action
 * of a point without a safe action (reasons "all_vetoed") or when the
 * library refused the request (reasons "rejected", e.g. a time before the
 * user's reorder window; the message goes to stderr); reasons are
 * PACING_DR_* names joined by '|'; reward is the reward the configuration
 * learned for the decision, empty when it learned none (safe decisions,
 * windows that ended without a reward).
 *
 * Off-policy estimates (--logged): the k-th decide row of the events file
 * is the k-th line of the logged file (time, user and point must agree).
 * The configuration (the target) decides each of those rows itself, with a
 * generator seeded independently of any sim/replay run with the same
 * --seed (the seed xor 0x6f70652d6576616c, "ope-eval"), so its choice a'
 * is independent of the logger's draw. With the logged action a, its
 * propensity mu and reward r, and w = [a' = a] / mu (unbiased for
 * pi(a|x)/mu(a|x) because a' is drawn from pi):
 *   IPS    mean of w r
 *   SNIPS  sum w r / sum w
 *   DR     mean of q(a') + w (r - q(a)), q(a) the mean logged reward of
 *          action a at that point (over the used lines; the point's mean
 *          for an action never logged)
 * each with a 95% interval from the normal approximation over the
 * per-decision terms (SNIPS: the delta method, sqrt(sum (w (r - V))^2) /
 * sum w). An empty reward counts as 0. Lines where either side has no
 * action (all vetoed) are skipped.
 * Caveat: the target policy learns online during the replay from the
 * logged events, which followed the logged actions, not its own.
 *
 * SPDX-License-Identifier: MIT */
#include "tools.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const REPLAY_USAGE =
    "pacing replay CONFIG EVENTS.csv [--out DECISIONS.csv] [--seed S]\n"
    "       [--logged DECISIONS.csv]";

#define OPE_SEED_MIX 0x6f70652d6576616cULL /* "ope-eval" */

void replay_help(FILE *out)
{
    fprintf(out, "usage: %s\n", REPLAY_USAGE);
    fputs("\n"
          "Replay an events log through the configuration and write its\n"
          "decisions. EVENTS.csv (or - for standard input) has a header and the\n"
          "columns time_ms,user,type[,value,target,channel,flags,utc_offset_min];\n"
          "type is an event type name or decide:POINT (the host asked POINT).\n"
          "Without a flags column every row counts as consenting.\n"
          "\n"
          "options:\n"
          "  --out FILE     write the decisions there (default: standard output,\n"
          "                 unless --logged is given); columns\n"
          "                 time_ms,user,point,action,propensity,decision_id,\n"
          "                 reasons,reward\n"
          "  --seed S       seeds the configuration's decisions (replacing\n"
          "                 options.seed and options.random_seed) and, unless the\n"
          "                 file sets options.secret, the pseudonym secret; the\n"
          "                 same seed as `pacing sim` reproduces its decisions\n"
          "                 (default 1)\n"
          "  --logged FILE  a decisions file with rewards from the logging policy:\n"
          "                 estimate the configuration's value on the same traffic\n"
          "                 (IPS, self-normalised IPS, doubly robust, each with a\n"
          "                 95% interval), printed as ope.* key=value lines; the\n"
          "                 configuration then decides with a generator seeded\n"
          "                 from S xor 0x6f70652d6576616c, independent of the log\n"
          "\n"
          "Prints key=value counters (rows, events, events_applied,\n"
          "events_dropped, events_rejected, decisions, safe, all_vetoed,\n"
          "decide_rejected, log_dropped) to standard output, or to standard error when the\n"
          "decisions go to standard output.\n"
          "\n"
          "Exit status: 0 success, 1 invalid configuration or input (the\n"
          "message names file and line), 2 usage error.\n",
          out);
}

/* column indices of the events file, -1 if absent */
typedef struct ev_cols {
    int t, user, type, value, target, channel, flags, utc;
} ev_cols;

typedef struct lg_cols {
    int t, user, point, action, propensity, reward;
} lg_cols;

static int col_of(const tl_csv *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->fields[i], name))
            return (int)i;
    return -1;
}

static const char *field(const tl_csv *c, int col)
{
    return col >= 0 && (size_t)col < c->n ? c->fields[col] : "";
}

/* one used line of the logged file */
typedef struct ope_rec {
    uint32_t point;
    int32_t a_log, a_tgt;
    double mu, r;
} ope_rec;

typedef struct ope {
    FILE *f;
    const char *path;
    tl_csv csv;
    lg_cols c;
    ope_rec *rec;
    size_t n, cap;
    uint64_t lines, skipped, unrewarded, matched;
} ope;

static int err_line(const char *path, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int err_line(const char *path, unsigned long line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pacing replay: %s:%lu: ", path, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_BAD;
}

static int action_index(const tl_point *p, const char *name)
{
    for (uint32_t a = 0; a < p->n_actions; a++)
        if (!strcmp(p->actions[a], name))
            return (int)a;
    return -1;
}

/* The next logged line must be this decide row's. */
static int ope_take(ope *o, const tl_config *cfg, const tl_row *r, int32_t a_tgt)
{
    int rc = tl_csv_next(&o->csv);
    if (rc < 0)
        return err_line(o->path, o->csv.lineno, "malformed line");
    if (rc == 0) {
        fprintf(stderr, "pacing replay: %s: fewer decisions than the events file "
                "has decide rows (%" PRIu64 ")\n", o->path, o->lines + 1);
        return EXIT_BAD;
    }
    o->lines++;
    const tl_csv *c = &o->csv;
    int64_t t;
    if (tl_parse_i64(field(c, o->c.t), &t) != 0)
        return err_line(o->path, c->lineno, "time_ms '%s' is not an integer",
                        field(c, o->c.t));
    const char *user = field(c, o->c.user), *point = field(c, o->c.point);
    const tl_point *p = &cfg->points[r->point];
    if (t != r->t || strlen(user) != r->user_len ||
        memcmp(user, r->user, r->user_len) != 0 || strcmp(point, p->name) != 0)
        return err_line(o->path, c->lineno,
                        "does not match decide row %" PRIu64 " of the events file "
                        "(time_ms %" PRId64 ", point %s)", o->lines, r->t, p->name);
    const char *an = field(c, o->c.action);
    if (!an[0] || a_tgt < 0) {
        o->skipped++;
        return 0;
    }
    int a = action_index(p, an);
    if (a < 0)
        return err_line(o->path, c->lineno, "point %s has no action '%s'", p->name, an);
    double mu, rw = 0;
    if (tl_parse_double(field(c, o->c.propensity), &mu) != 0 || !(mu > 0 && mu <= 1))
        return err_line(o->path, c->lineno, "propensity '%s' is not in (0, 1]",
                        field(c, o->c.propensity));
    const char *rs = field(c, o->c.reward);
    if (!rs[0])
        o->unrewarded++;
    else if (tl_parse_double(rs, &rw) != 0)
        return err_line(o->path, c->lineno, "reward '%s' is not a finite number", rs);
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 1024;
        ope_rec *nr = realloc(o->rec, cap * sizeof *nr);
        if (!nr) {
            fprintf(stderr, "pacing replay: out of memory\n");
            return EXIT_BAD;
        }
        o->rec = nr;
        o->cap = cap;
    }
    ope_rec *x = &o->rec[o->n++];
    x->point = r->point;
    x->a_log = a;
    x->a_tgt = a_tgt;
    x->mu = mu;
    x->r = rw;
    if (a == a_tgt)
        o->matched++;
    return 0;
}

static void print_ci(const char *key, double mean, double se)
{
    printf("ope.%s=%.6f\n", key, mean);
    printf("ope.%s_ci_low=%.6f\n", key, mean - 1.96 * se);
    printf("ope.%s_ci_high=%.6f\n", key, mean + 1.96 * se);
}

/* mean and standard error of x[0..n) */
static void mean_se(const double *x, size_t n, double *mean, double *se)
{
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m = n ? m / (double)n : NAN;
    for (size_t i = 0; i < n; i++)
        v += (x[i] - m) * (x[i] - m);
    *mean = m;
    *se = n > 1 ? sqrt(v / (double)(n - 1) / (double)n) : NAN;
}

static int ope_report(const ope *o, const tl_config *cfg)
{
    size_t n = o->n;
    printf("ope.lines=%" PRIu64 "\n", o->lines);
    printf("ope.used=%zu\n", n);
    printf("ope.skipped=%" PRIu64 "\n", o->skipped);
    printf("ope.matched=%" PRIu64 "\n", o->matched);
    printf("ope.unrewarded=%" PRIu64 "\n", o->unrewarded);
    /* q(point, action): mean logged reward */
    size_t np = cfg->n_points ? cfg->n_points : 1;
    double *qs = calloc(np * 64, sizeof *qs), *qn = calloc(np * 64, sizeof *qn);
    double *ps = calloc(np, sizeof *ps), *pn = calloc(np, sizeof *pn);
    double *t1 = calloc(n ? n : 1, sizeof *t1), *t2 = calloc(n ? n : 1, sizeof *t2),
           *t3 = calloc(n ? n : 1, sizeof *t3);
    int status = 0;
    if (!qs || !qn || !ps || !pn || !t1 || !t2 || !t3) {
        fprintf(stderr, "pacing replay: out of memory\n");
        status = EXIT_BAD;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const ope_rec *x = &o->rec[i];
        qs[x->point * 64 + (size_t)x->a_log] += x->r;
        qn[x->point * 64 + (size_t)x->a_log] += 1;
        ps[x->point] += x->r;
        pn[x->point] += 1;
    }
    double sw = 0, sw2 = 0, swr = 0;
    for (size_t i = 0; i < n; i++) {
        const ope_rec *x = &o->rec[i];
        double w = x->a_tgt == x->a_log ? 1.0 / x->mu : 0.0;
        size_t kl = x->point * 64 + (size_t)x->a_log, kt = x->point * 64 + (size_t)x->a_tgt;
        double pm = pn[x->point] ? ps[x->point] / pn[x->point] : 0;
        double ql = qn[kl] ? qs[kl] / qn[kl] : pm;
        double qt = qn[kt] ? qs[kt] / qn[kt] : pm;
        t1[i] = x->r;
        t2[i] = w * x->r;
        t3[i] = qt + w * (x->r - ql);
        sw += w;
        sw2 += w * w;
        swr += w * x->r;
    }
    double m, se;
    mean_se(t1, n, &m, &se);
    print_ci("logged_value", m, se);
    mean_se(t2, n, &m, &se);
    print_ci("ips", m, se);
    double sn = sw > 0 ? swr / sw : NAN, sd = 0;
    for (size_t i = 0; i < n; i++) {
        const ope_rec *x = &o->rec[i];
        double w = x->a_tgt == x->a_log ? 1.0 / x->mu : 0.0;
        sd += w * w * (x->r - sn) * (x->r - sn);
    }
    print_ci("snips", sn, sw > 0 ? sqrt(sd) / sw : NAN);
    mean_se(t3, n, &m, &se);
    print_ci("dr", m, se);
    printf("ope.ess=%.1f\n", sw2 > 0 ? sw * sw / sw2 : 0.0);
out:
    free(qs);
    free(qn);
    free(ps);
    free(pn);
    free(t1);
    free(t2);
    free(t3);
    return status;
}

int cmd_replay(int argc, char **argv)
{
    const char *config = NULL, *events = NULL, *out = NULL, *logged = NULL;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (tl_is_help(a)) {
            replay_help(stdout);
            return 0;
        }
        if (!strcmp(a, "--out") || !strcmp(a, "--seed") || !strcmp(a, "--logged")) {
            const char *v = i + 1 < argc ? argv[i + 1] : NULL;
            if (!v)
                return tl_usage_error("replay", REPLAY_USAGE, "%s needs a value", a);
            i++;
            if (!strcmp(a, "--seed")) {
                if (tl_parse_u64(v, &seed))
                    return tl_usage_error("replay", REPLAY_USAGE,
                                          "--seed: '%s' is not an unsigned 64-bit "
                                          "integer", v);
            } else if (!strcmp(a, "--out")) {
                out = v;
            } else {
                logged = v;
            }
            continue;
        }
        if (a[0] == '-' && a[1])
            return tl_usage_error("replay", REPLAY_USAGE, "unknown option '%s'", a);
        if (!config)
            config = a;
        else if (!events)
            events = a;
        else
            return tl_usage_error("replay", REPLAY_USAGE, "unexpected argument '%s'", a);
    }
    if (!config || !events)
        return tl_usage_error("replay", REPLAY_USAGE, "%s",
                              !config ? "no configuration given"
                                      : "no events file given");

    pacing_options base;
    tl_seed_options(seed, &base);
    if (logged)
        base.seed = (uint64_t)(seed ^ OPE_SEED_MIX); /* same secret, independent draws */
    tl_config cfg;
    if (tl_config_load("replay", config, &base, TL_LOAD_OVERRIDE_SEED | TL_LOAD_BIG_LOG,
                       &cfg) != 0)
        return EXIT_BAD;

    int status = 0;
    tl_engine e;
    memset(&e, 0, sizeof e);
    ope o;
    memset(&o, 0, sizeof o);
    tl_csv in;
    memset(&in, 0, sizeof in);
    FILE *outf = NULL;
    int to_stdout = !out && !logged;
    FILE *info = to_stdout ? stderr : stdout;
    const char *evname = strcmp(events, "-") ? events : "<stdin>";
    in.f = strcmp(events, "-") ? fopen(events, "r") : stdin;
    if (!in.f) {
        fprintf(stderr, "pacing replay: cannot open %s\n", events);
        status = EXIT_BAD;
        goto done;
    }
    ev_cols ec;
    int rc = tl_csv_next(&in);
    if (rc <= 0) {
        fprintf(stderr, "pacing replay: %s: %s\n", evname,
                rc == 0 ? "empty file: no header line" : "malformed header line");
        status = EXIT_BAD;
        goto done;
    }
    ec.t = col_of(&in, "time_ms");
    ec.user = col_of(&in, "user");
    ec.type = col_of(&in, "type");
    ec.value = col_of(&in, "value");
    ec.target = col_of(&in, "target");
    ec.channel = col_of(&in, "channel");
    ec.flags = col_of(&in, "flags");
    ec.utc = col_of(&in, "utc_offset_min");
    for (size_t i = 0; i < in.n; i++) {
        static const char *const known[] = {"time_ms", "user", "type", "value",
                                            "target", "channel", "flags",
                                            "utc_offset_min"};
        size_t k = 0;
        while (k < 8 && strcmp(in.fields[i], known[k]))
            k++;
        if (k == 8) {
            status = err_line(evname, in.lineno, "unknown column '%s' (columns: "
                              "time_ms,user,type,value,target,channel,flags,"
                              "utc_offset_min)", in.fields[i]);
            goto done;
        }
    }
    if (ec.t < 0 || ec.user < 0 || ec.type < 0) {
        status = err_line(evname, in.lineno, "the header needs time_ms, user and type");
        goto done;
    }
    if (logged) {
        o.path = logged;
        o.f = fopen(logged, "r");
        if (!o.f) {
            fprintf(stderr, "pacing replay: cannot open %s\n", logged);
            status = EXIT_BAD;
            goto done;
        }
        o.csv.f = o.f;
        rc = tl_csv_next(&o.csv);
        if (rc <= 0) {
            fprintf(stderr, "pacing replay: %s: no header line\n", logged);
            status = EXIT_BAD;
            goto done;
        }
        o.c.t = col_of(&o.csv, "time_ms");
        o.c.user = col_of(&o.csv, "user");
        o.c.point = col_of(&o.csv, "point");
        o.c.action = col_of(&o.csv, "action");
        o.c.propensity = col_of(&o.csv, "propensity");
        o.c.reward = col_of(&o.csv, "reward");
        if (o.c.t < 0 || o.c.user < 0 || o.c.point < 0 || o.c.action < 0 ||
            o.c.propensity < 0 || o.c.reward < 0) {
            status = err_line(logged, o.csv.lineno, "the header needs time_ms, user, "
                              "point, action, propensity and reward");
            goto done;
        }
    }
    if (tl_engine_init(&e, &cfg, NULL) != PACING_OK) {
        fprintf(stderr, "pacing replay: out of memory\n");
        status = EXIT_BAD;
        goto done;
    }
    unsigned warned = 0;
    while ((rc = tl_csv_next(&in)) > 0) {
        tl_row r;
        memset(&r, 0, sizeof r);
        if (tl_parse_i64(field(&in, ec.t), &r.t) != 0) {
            status = err_line(evname, in.lineno, "time_ms '%s' is not an integer",
                              field(&in, ec.t));
            goto done;
        }
        const char *user = field(&in, ec.user);
        r.user = user;
        r.user_len = strlen(user);
        const char *type = field(&in, ec.type);
        if (!strncmp(type, "decide:", 7)) {
            int pi = tl_point_index(&cfg, type + 7);
            if (pi < 0) {
                status = err_line(evname, in.lineno, "no point '%s' in %s", type + 7,
                                  config);
                goto done;
            }
            r.decide = 1;
            r.point = (uint32_t)pi;
        } else {
            int t;
            for (t = 1; t <= PACING_EV_TYPE_MAX; t++)
                if (pacing_event_type_name(t) && !strcmp(pacing_event_type_name(t), type))
                    break;
            if (t > PACING_EV_TYPE_MAX) {
                status = err_line(evname, in.lineno, "unknown type '%s' (an event type "
                                  "name or decide:POINT)", type);
                goto done;
            }
            r.type = (uint32_t)t;
        }
        const char *v = field(&in, ec.value);
        if (v[0] && tl_parse_double(v, &r.value) != 0) {
            status = err_line(evname, in.lineno, "value '%s' is not a finite number", v);
            goto done;
        }
        v = field(&in, ec.target);
        if (v[0] && tl_parse_u64(v, &r.target) != 0) {
            status = err_line(evname, in.lineno, "target '%s' is not an unsigned "
                              "integer", v);
            goto done;
        }
        v = field(&in, ec.channel);
        uint64_t ch = 0;
        if (v[0] && (tl_parse_u64(v, &ch) != 0 || ch > 255)) {
            status = err_line(evname, in.lineno, "channel '%s' is not in 0..255", v);
            goto done;
        }
        r.channel = (uint32_t)ch;
        if (ec.flags < 0) {
            r.flags = r.decide ? PACING_REQ_CONSENT : PACING_EVF_CONSENT;
        } else if (tl_parse_flags(field(&in, ec.flags), r.decide, &r.flags) != 0) {
            status = err_line(evname, in.lineno, "flags '%s': use %s joined by '|'",
                              field(&in, ec.flags),
                              r.decide ? "consent, no_consent, opted_out"
                                       : "consent, no_consent, bot, no_response");
            goto done;
        }
        v = field(&in, ec.utc);
        int64_t utc = 0;
        if (v[0] && (tl_parse_i64(v, &utc) != 0 || utc < -1440 || utc > 1440)) {
            status = err_line(evname, in.lineno, "utc_offset_min '%s' is not in "
                              "-1440..1440", v);
            goto done;
        }
        r.utc_offset_min = (int32_t)utc;
        if (!r.user_len && (!r.decide || !(r.flags & PACING_REQ_NO_CONSENT))) {
            status = err_line(evname, in.lineno, "empty user");
            goto done;
        }
        pacing_decision d = PACING_DECISION_INIT;
        int prc = tl_engine_apply(&e, &r, &d);
        if (prc == PACING_E_NOMEM && e.oom) {
            fprintf(stderr, "pacing replay: out of memory\n");
            status = EXIT_BAD;
            goto done;
        }
        if (prc < 0 && prc != PACING_E_VETOED && warned++ < 5)
            fprintf(stderr, "pacing replay: %s:%lu: %s: %s\n", evname, in.lineno,
                    r.decide ? "decide request refused" : "event not applied",
                    pacing_errmsg(cfg.ctx));
        if (r.decide && logged &&
            (status = ope_take(&o, &cfg, &r, prc == PACING_OK ? (int32_t)d.action : -1)))
            goto done;
    }
    if (rc < 0) {
        status = err_line(evname, in.lineno, "malformed line (an unterminated "
                          "quote or more than 64 fields) or read error");
        goto done;
    }
    if (logged) {
        rc = tl_csv_next(&o.csv);
        if (rc != 0) {
            status = err_line(logged, o.csv.lineno, "more decisions than the events "
                              "file has decide rows (%" PRIu64 ")", o.lines);
            goto done;
        }
    }
    tl_engine_finish(&e);
    if (out || to_stdout) {
        outf = out ? fopen(out, "w") : stdout;
        if (!outf || tl_engine_write_decisions(&e, outf) != 0 ||
            (out && fclose(outf) != 0)) {
            fprintf(stderr, "pacing replay: cannot write %s\n", out ? out : "<stdout>");
            if (out && outf)
                fclose(outf);
            outf = NULL;
            status = EXIT_BAD;
            goto done;
        }
        outf = NULL;
    }
    fprintf(info, "rows=%" PRIu64 "\n", e.rows);
    fprintf(info, "events=%" PRIu64 "\n", e.events);
    fprintf(info, "events_applied=%" PRIu64 "\n", e.events_applied);
    fprintf(info, "events_dropped=%" PRIu64 "\n", e.events_dropped);
    fprintf(info, "events_rejected=%" PRIu64 "\n", e.events_rejected);
    fprintf(info, "decisions=%" PRIu64 "\n", e.decisions);
    fprintf(info, "safe=%" PRIu64 "\n", e.safe);
    fprintf(info, "all_vetoed=%" PRIu64 "\n", e.all_vetoed);
    fprintf(info, "decide_rejected=%" PRIu64 "\n", e.decide_rejected);
    fprintf(info, "log_dropped=%" PRIu64 "\n", e.log_dropped);
    if (e.log_dropped)
        fprintf(stderr, "pacing replay: warning: the decision log overflowed; %" PRIu64
                " rewards are missing (raise options.log_capacity)\n", e.log_dropped);
    if (logged) {
        printf("ope.seed=%" PRIu64 "\n", (uint64_t)(seed ^ OPE_SEED_MIX));
        status = ope_report(&o, &cfg);
    }
    fflush(stdout);
done:
    if (in.f && in.f != stdin)
        fclose(in.f);
    tl_csv_free(&in);
    if (o.f)
        fclose(o.f);
    tl_csv_free(&o.csv);
    free(o.rec);
    tl_engine_free(&e);
    tl_config_free(&cfg);
    return status;
}
