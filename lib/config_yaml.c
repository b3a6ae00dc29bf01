/* The YAML configuration: a whole deployment (options, score weights, the
 * exposure decay, decision points, safety rules) in one file, read with
 * libyaml. Format: docs/config-reference.md.
 *
 * How a load goes:
 *   1. libyaml loads the text into a document (nodes with line/column
 *      marks); a syntax error is reported at libyaml's problem mark.
 *   2. The document is walked section by section (version, options,
 *      scores, exposure_decay, points, rules) and everything is collected
 *      into plain C structures. Types, unknown and duplicate keys, names
 *      and references are checked here, each error at its node.
 *   3. The options are checked by pacing_ctx_new() itself, with an
 *      allocator that refuses everything: it validates every option before
 *      it allocates, so PACING_E_NOMEM means "options fine".
 *   4. Everything else is applied, in file order, to a small scratch
 *      context (one user, the file's max_points): the library's setters
 *      judge ranges, and a failure is reported at the item's node.
 *   5. Only then is the real context created (with base->allocator) and
 *      the same calls repeated on it; they cannot fail for a reason the
 *      scratch context did not already report, except memory.
 * No context is returned unless everything succeeded, so nothing is ever
 * half-applied.
 *
 * Memory: libyaml allocates with malloc and offers no hooks, so the
 * document, the collected structures and the scratch context all use
 * malloc. They live only for the duration of the call. Only the returned
 * context uses base->allocator. (A caller can therefore validate a file
 * without allocating its user table: pass an allocator that always fails;
 * the load returns PACING_E_NOMEM exactly when the file is valid. The
 * `pacing validate` tool does that.) */
#include "internal.h"
#include "policy.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define PATH_LEN 192
#define MAX_MS_D 9007199254740992.0 /* 2^53 */

/* ------------------------------------------------------------------ */
/* Collected configuration                                             */
/* ------------------------------------------------------------------ */

typedef struct slot {
    yaml_node_t *key, *val; /* NULL when the key is absent */
    int alias;              /* written without its _ms suffix */
} slot;

typedef struct cfg_decay {
    char path[PATH_LEN];      /* "exposure_decay", "points[0].recovery" */
    yaml_node_t *node;        /* the whole value */
    yaml_node_t *mod_node;    /* the module name */
    yaml_node_t *params_node; /* the params list, or NULL */
    yaml_node_t *param_node[4];
    const char *module;
    double params[4];         /* the module's defaults where not given */
    uint32_t n_params;        /* given in the file */
} cfg_decay;

/* keys of a point, in the order of point_keys[] */
enum {
    PK_NAME, PK_ACTIONS, PK_QUIET, PK_SAFE, PK_POLICY, PK_PARAMS, PK_CTXDIM,
    PK_SCORES_CTX, PK_RECOVERY, PK_ATTRIBUTION, PK_DEFAULT_REWARD, PK_REWARDS,
    N_PK
};

typedef struct cfg_point {
    char path[32];          /* "points[3]" */
    yaml_node_t *node;
    slot s[N_PK];
    const char *name;
    const char *actions[PC_MAX_ACTIONS];
    uint32_t n_actions;
    uint64_t quiet;
    int32_t safe;
    const char *policy;
    pacing_param params[PC_MAX_PARAMS];
    yaml_node_t *param_key[PC_MAX_PARAMS];
    uint32_t n_params;
    uint32_t context_dim;
    uint32_t flags;
    int has_recovery;
    cfg_decay rec;
    int64_t attribution_ms;
    double default_reward;
    pacing_reward_rule rewards[PACING_MAX_RULES];
    yaml_node_t *reward_node[PACING_MAX_RULES];
    yaml_node_t *weight_node[PACING_MAX_RULES]; /* NULL: weight not given */
    uint32_t n_rewards;
} cfg_point;

typedef struct cfg_rule {
    char path[32];          /* "rules[5]" */
    yaml_node_t *node;
    yaml_node_t *mod_node, *point_node;
    const char *module, *point;
    char pname[PACING_MAX_RULE_PARAMS][PACING_NAME_MAX];
    pacing_param params[PACING_MAX_RULE_PARAMS];
    yaml_node_t *pkey[PACING_MAX_RULE_PARAMS];
    uint32_t n_params;
} cfg_rule;

typedef struct cfg_weight {
    int kind, input;
    double value;
    yaml_node_t *key, *val;
    char path[PATH_LEN];
} cfg_weight;

#define MAX_WEIGHTS (N_KIND * PACING_INPUT_COUNT)

/* Options: every pacing_options field a file may set. */
enum otype { O_U32, O_U64, O_MS, O_HL, O_BOOL, O_SECRET };
typedef struct optdef {
    const char *name;
    int type;
    size_t off;      /* offset in pacing_options */
    uint32_t flag;   /* O_BOOL: the PACING_OPT_* bit */
    int negative_ok; /* O_MS: any negative value is meaningful */
} optdef;

#define OFF(f) offsetof(pacing_options, f)
static const optdef optdefs[] = {
    {"capacity", O_U64, OFF(capacity), 0, 0},
    {"stripes", O_U32, OFF(stripes), 0, 0},
    {"single_thread", O_BOOL, 0, PACING_OPT_SINGLE_THREAD, 0},
    {"require_consent", O_BOOL, 0, PACING_OPT_REQUIRE_CONSENT, 0},
    {"secret", O_SECRET, OFF(secret), PACING_OPT_SECRET, 0},
    {"user_ttl_ms", O_MS, OFF(user_ttl_ms), 0, 1},
    {"reorder_window_ms", O_MS, OFF(reorder_window_ms), 0, 0},
    {"debounce_ms", O_MS, OFF(debounce_ms), 0, 1},
    {"rage_window_ms", O_MS, OFF(rage_window_ms), 0, 0},
    {"rage_clicks", O_U32, OFF(rage_clicks), 0, 0},
    {"dead_click_ms", O_MS, OFF(dead_click_ms), 0, 0},
    {"feature_half_life_ms", O_HL, OFF(feature_half_life_ms), 0, 0},
    {"baseline_half_life_ms", O_HL, OFF(baseline_half_life_ms), 0, 0},
    {"seed", O_U64, OFF(seed), 0, 0},
    {"random_seed", O_BOOL, 0, PACING_OPT_RANDOM_SEED, 0},
    {"max_points", O_U32, OFF(max_points), 0, 0},
    {"pending_capacity", O_U32, OFF(pending_capacity), 0, 0},
    {"hazard_horizon_ms", O_MS, OFF(hazard_horizon_ms), 0, 0},
    {"hazard_bin_ms", O_MS, OFF(hazard_bin_ms), 0, 0},
    {"log_capacity", O_U32, OFF(log_capacity), 0, 0},
};
#undef OFF
#define N_OPTS (sizeof optdefs / sizeof optdefs[0])

typedef struct loader {
    const char *file;          /* for messages */
    const char *src;           /* the text (reader errors give offsets) */
    size_t src_len;
    yaml_document_t doc;
    pacing_config_error *err;
    int status;                /* PACING_OK until the first error */

    pacing_options opts;
    slot opt[N_OPTS];
    yaml_node_t *options_key;
    cfg_weight w[MAX_WEIGHTS];
    size_t n_w;
    int has_expo;
    cfg_decay expo;
    cfg_point *pts;
    size_t n_pts;
    cfg_rule *rules;
    size_t n_rules;
} loader;

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static void set_error_at(loader *ld, int status, uint32_t line, uint32_t col,
                         const char *fmt, va_list ap)
{
    if (ld->status != PACING_OK)
        return; /* the first error wins */
    ld->status = status;
    ld->err->line = line;
    ld->err->column = col;
    vsnprintf(ld->err->message, sizeof ld->err->message, fmt, ap);
}

/* Record an error at node n (NULL: no place) and return false. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static bool fail_st(loader *ld, int status, const yaml_node_t *n,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error_at(ld, status, n ? (uint32_t)n->start_mark.line + 1 : 0,
                 n ? (uint32_t)n->start_mark.column + 1 : 0, fmt, ap);
    va_end(ap);
    return false;
}

#define fail(ld, n, ...) fail_st((ld), PACING_E_CONFIG, (n), __VA_ARGS__)

/* Paths are truncated silently if a file uses absurdly long keys. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void fmt(char *out, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, len, f, ap);
    va_end(ap);
}

static void join(char *out, const char *path, const char *key)
{
    char tmp[PATH_LEN];
    if (path[0])
        fmt(tmp, sizeof tmp, "%s.%s", path, key);
    else
        fmt(tmp, sizeof tmp, "%s", key);
    memcpy(out, tmp, sizeof tmp);
}

static void index_path(char *out, size_t len, const char *path, size_t i)
{
    fmt(out, len, "%s[%zu]", path, i);
}

/* ------------------------------------------------------------------ */
/* Nodes and scalars                                                   */
/* ------------------------------------------------------------------ */

static yaml_node_t *node_at(loader *ld, int index)
{
    return yaml_document_get_node(&ld->doc, index);
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE &&
           n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

enum { SC_NULL, SC_BOOL, SC_INT, SC_FLOAT, SC_STRING };

static bool all_of(const char *s, const char *set)
{
    return *s && strspn(s, set) == strlen(s);
}

/* The YAML 1.2 core-schema type of a plain scalar; quoted and block
 * scalars are strings. */
static int classify(const yaml_node_t *n)
{
    if (!is_plain(n))
        return SC_STRING;
    const char *s = sval(n);
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
        !strcmp(s, "NULL"))
        return SC_NULL;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
        !strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return SC_BOOL;
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (all_of(p, "0123456789"))
        return SC_INT;
    if ((!strncmp(s, "0x", 2) && all_of(s + 2, "0123456789abcdefABCDEF")) ||
        (!strncmp(s, "0o", 2) && all_of(s + 2, "01234567")))
        return SC_INT;
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF") ||
        !strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
        return SC_FLOAT;
    /* [0-9]+(\.[0-9]*)? or \.[0-9]+, then an optional exponent */
    size_t i = strspn(p, "0123456789"), m = i;
    if (p[i] == '.') {
        size_t f = strspn(p + i + 1, "0123456789");
        m += f;
        i += 1 + f;
    }
    if (m == 0)
        return SC_STRING;
    if (p[i] == 'e' || p[i] == 'E') {
        i++;
        if (p[i] == '-' || p[i] == '+')
            i++;
        size_t e = strspn(p + i, "0123456789");
        if (e == 0)
            return SC_STRING;
        i += e;
    }
    return p[i] == '\0' ? SC_FLOAT : SC_STRING;
}

static const char *what(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_SCALAR_NODE:
        switch (classify(n)) {
        case SC_NULL: return "nothing (null)";
        case SC_BOOL: return "a boolean";
        case SC_INT:
        case SC_FLOAT: return "a number";
        default: return "a string";
        }
    default: return "nothing";
    }
}

static bool expect_map(loader *ld, yaml_node_t *n, const char *path)
{
    if (n->type == YAML_MAPPING_NODE)
        return true;
    return fail(ld, n, "%s: expected a mapping (key: value), got %s", path,
                what(n));
}

static bool expect_seq(loader *ld, yaml_node_t *n, const char *path)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return true;
    return fail(ld, n, "%s: expected a list, got %s", path, what(n));
}

/* Text of a scalar; rejects non-scalars, null and embedded NULs. */
static bool get_text(loader *ld, yaml_node_t *n, const char *path,
                     const char *expected, const char **out)
{
    if (n->type != YAML_SCALAR_NODE || classify(n) == SC_NULL)
        return fail(ld, n, "%s: expected %s, got %s", path, expected, what(n));
    if (strlen(sval(n)) != n->data.scalar.length)
        return fail(ld, n, "%s: contains a NUL character", path);
    *out = sval(n);
    return true;
}

/* A name: 1..31 characters of [a-z0-9_]. */
static bool get_name(loader *ld, yaml_node_t *n, const char *path,
                     const char **out)
{
    if (!get_text(ld, n, path, "a name", out))
        return false;
    if (!pc_valid_name(*out))
        return fail(ld, n, "%s: '%.64s' is not a valid name (1 to 31 "
                    "characters of a-z, 0-9 and _)", path, *out);
    return true;
}

typedef struct num {
    int is_int;
    int neg;
    uint64_t mag;  /* integers: the magnitude */
    double d;
} num;

static bool get_num(loader *ld, yaml_node_t *n, const char *path, num *out)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail(ld, n, "%s: expected a number, got %s", path, what(n));
    int c = classify(n);
    if (c != SC_INT && c != SC_FLOAT)
        return fail(ld, n, "%s: expected a number, got %s '%.40s'", path,
                    what(n), sval(n));
    const char *s = sval(n);
    memset(out, 0, sizeof *out);
    if (c == SC_INT) {
        const char *p = s;
        int base = 10;
        out->neg = *p == '-';
        if (*p == '-' || *p == '+')
            p++;
        if (!strncmp(p, "0x", 2)) {
            base = 16;
            p += 2;
        } else if (!strncmp(p, "0o", 2)) {
            base = 8;
            p += 2;
        }
        errno = 0;
        out->mag = strtoull(p, NULL, base);
        if (errno == ERANGE)
            return fail(ld, n, "%s: %.40s is too large", path, s);
        out->is_int = 1;
        out->d = out->neg ? -(double)out->mag : (double)out->mag;
        return true;
    }
    const char *p = s + (*s == '-' || *s == '+');
    if (*p == '.' && (p[1] == 'i' || p[1] == 'I' || p[1] == 'n' || p[1] == 'N'))
        return fail(ld, n, "%s: expected a finite number, got %s", path, s);
    out->d = strtod(s, NULL);
    if (!isfinite(out->d))
        return fail(ld, n, "%s: %.40s is not a finite number", path, s);
    return true;
}

static bool get_double(loader *ld, yaml_node_t *n, const char *path, double *out)
{
    num v;
    if (!get_num(ld, n, path, &v))
        return false;
    *out = v.d;
    return true;
}

/* A whole number in [lo, hi]; floats are accepted when whole (1e5). */
static bool get_int_range(loader *ld, yaml_node_t *n, const char *path,
                          int64_t lo, uint64_t hi, int *neg, uint64_t *mag)
{
    num v;
    if (!get_num(ld, n, path, &v))
        return false;
    if (!v.is_int) {
        if (v.d != floor(v.d))
            return fail(ld, n, "%s: expected a whole number, got %s", path,
                        sval(n));
        if (fabs(v.d) > MAX_MS_D)
            return fail(ld, n, "%s: %s is out of range (write large integers "
                        "in full)", path, sval(n));
        v.neg = v.d < 0;
        v.mag = (uint64_t)fabs(v.d);
    }
    if (v.mag == 0)
        v.neg = 0;
    bool bad = v.neg ? (lo >= 0 || v.mag > (uint64_t)(-(lo + 1)) + 1)
                     : v.mag > hi;
    if (bad) {
        if (v.neg && lo == 0)
            return fail(ld, n, "%s: %s must not be negative", path, sval(n));
        if (lo == INT64_MIN)
            return fail(ld, n, "%s: %s is out of range", path, sval(n));
        return fail(ld, n, "%s: %s is out of range [%lld, %llu]", path, sval(n),
                    (long long)lo, (unsigned long long)hi);
    }
    *neg = v.neg;
    *mag = v.mag;
    return true;
}

static bool get_u64(loader *ld, yaml_node_t *n, const char *path, uint64_t hi,
                    uint64_t *out)
{
    int neg;
    return get_int_range(ld, n, path, 0, hi, &neg, out);
}

static bool get_u32(loader *ld, yaml_node_t *n, const char *path, uint32_t *out)
{
    uint64_t v;
    if (!get_u64(ld, n, path, UINT32_MAX, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool get_i64(loader *ld, yaml_node_t *n, const char *path, int64_t *out)
{
    int neg;
    uint64_t mag;
    if (!get_int_range(ld, n, path, INT64_MIN, INT64_MAX, &neg, &mag))
        return false;
    *out = neg ? (mag == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)mag)
               : (int64_t)mag;
    return true;
}

static bool get_bool(loader *ld, yaml_node_t *n, const char *path, int *out)
{
    if (n->type != YAML_SCALAR_NODE || classify(n) != SC_BOOL)
        return fail(ld, n, "%s: expected true or false, got %s", path, what(n));
    *out = sval(n)[0] == 't' || sval(n)[0] == 'T';
    return true;
}

/* "250ms", "20s", "1.5m", "2h", "7d" -> milliseconds; -1 if s is not a
 * duration. */
static double parse_duration(const char *s)
{
    size_t i = strspn(s, "0123456789"), m = i;
    if (s[i] == '.') {
        size_t f = strspn(s + i + 1, "0123456789");
        if (f == 0)
            return -1;
        m += f;
        i += 1 + f;
    }
    if (m == 0)
        return -1;
    const char *u = s + i;
    double unit;
    if (!strcmp(u, "ms"))
        unit = 1;
    else if (!strcmp(u, "s"))
        unit = 1000;
    else if (!strcmp(u, "m"))
        unit = 60000;
    else if (!strcmp(u, "h"))
        unit = 3600000;
    else if (!strcmp(u, "d"))
        unit = 86400000;
    else
        return -1;
    double v = strtod(s, NULL) * unit;
    double r = nearbyint(v);
    if (fabs(v - r) <= 1e-9 * (r > 1 ? r : 1))
        v = r;
    return isfinite(v) ? v : -1;
}

/* "HH:MM" -> minutes after midnight; -1 if s is not a time of day. */
static int parse_clock(const char *s)
{
    if (strlen(s) != 5 || s[2] != ':' || !all_of(s + 3, "0123456789"))
        return -1;
    char hh[3] = {s[0], s[1], 0};
    if (!all_of(hh, "0123456789"))
        return -1;
    int h = atoi(hh), m = atoi(s + 3);
    if (h > 23 || m > 59)
        return -1;
    return h * 60 + m;
}

static bool is_duration_node(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && classify(n) == SC_STRING &&
           parse_duration(sval(n)) >= 0;
}

/* The value of a millisecond setting from its slot: `name_ms: <number>`
 * or `name: <duration>`. Whole settings go to *iout, others to *dout. */
static bool get_ms(loader *ld, const slot *s, const char *path, int64_t *iout,
                   double *dout)
{
    yaml_node_t *n = s->val;
    if (s->alias) {
        double v = n->type == YAML_SCALAR_NODE && classify(n) == SC_STRING
                       ? parse_duration(sval(n)) : -1;
        if (v < 0) {
            if (n->type == YAML_SCALAR_NODE &&
                (classify(n) == SC_INT || classify(n) == SC_FLOAT))
                return fail(ld, n, "%s: a duration needs a unit (ms, s, m, h, "
                            "d), e.g. %sms; or write the key with _ms and a "
                            "number of milliseconds", path, sval(n));
            return fail(ld, n, "%s: expected a duration such as 250ms, 20s, 10m, "
                        "1h or 7d, got %s", path, what(n));
        }
        if (iout && v != floor(v))
            return fail(ld, n, "%s: %s is not a whole number of milliseconds",
                        path, sval(n));
        if (v > MAX_MS_D)
            return fail(ld, n, "%s: %s is out of range [0, 2^53] ms", path, sval(n));
        if (iout)
            *iout = (int64_t)v;
        else
            *dout = v;
        return true;
    }
    if (is_duration_node(n))
        return fail(ld, n, "%s: a key ending in _ms takes a number of "
                    "milliseconds; for a duration such as '%s' drop the _ms "
                    "suffix", path, sval(n));
    if (iout)
        return get_i64(ld, n, path, iout);
    return get_double(ld, n, path, dout);
}

/* ------------------------------------------------------------------ */
/* Mappings: keys, duplicates, suggestions                             */
/* ------------------------------------------------------------------ */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

typedef struct suggest {
    const char *best;
    size_t dist;
    char list[160]; /* "a, b, c" */
} suggest;

static void sg_init(suggest *sg)
{
    sg->best = NULL;
    sg->dist = 3; /* suggest at distance 1 or 2 only */
    sg->list[0] = '\0';
}

static void sg_add(suggest *sg, const char *word, const char *cand)
{
    size_t d = edit_distance(word, cand);
    if (d < sg->dist && d < strlen(cand)) {
        sg->best = cand;
        sg->dist = d;
    }
    size_t used = strlen(sg->list);
    if (used + strlen(cand) + 3 < sizeof sg->list)
        snprintf(sg->list + used, sizeof sg->list - used, "%s%s",
                 used ? ", " : "", cand);
}

/* " (did you mean 'x'?)" or " (known: a, b, c)" into buf. */
static const char *sg_hint(const suggest *sg, char *buf, size_t len,
                           const char *known)
{
    if (sg->best)
        snprintf(buf, len, " (did you mean '%s'?)", sg->best);
    else if (sg->list[0])
        snprintf(buf, len, " (%s: %s)", known, sg->list);
    else
        buf[0] = '\0';
    return buf;
}

typedef struct keydef {
    const char *name;
    int ms_alias; /* name ends in _ms and may be written without it */
} keydef;

/* Key text with the duplicate check: every key is a scalar, none appears
 * twice in one mapping. */
static bool check_key(loader *ld, yaml_node_t *map, yaml_node_pair_t *pair,
                      const char *path, yaml_node_t **key_out)
{
    yaml_node_t *k = node_at(ld, pair->key);
    if (k->type != YAML_SCALAR_NODE || classify(k) == SC_NULL)
        return fail(ld, k, "%s: keys must be names, got %s", path[0] ? path : "top level", what(k));
    if (strlen(sval(k)) != k->data.scalar.length)
        return fail(ld, k, "%s: a key contains a NUL character", path);
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
        yaml_node_t *k2 = node_at(ld, q->key);
        if (k2->type == YAML_SCALAR_NODE && !strcmp(sval(k2), sval(k))) {
            char p[PATH_LEN];
            join(p, path, sval(k));
            return fail(ld, k, "%s: duplicate key (first at line %lu)", p,
                        (unsigned long)k2->start_mark.line + 1);
        }
    }
    *key_out = k;
    return true;
}

/* Walk a mapping whose keys are defs[0..n): fill slots[i] for each key
 * found; unknown keys, duplicates and a setting given both as name_ms and
 * as name fail. */
static bool walk_map(loader *ld, yaml_node_t *map, const char *path,
                     const keydef *defs, size_t n, slot *slots)
{
    memset(slots, 0, n * sizeof *slots);
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k;
        if (!check_key(ld, map, pr, path, &k))
            return false;
        const char *key = sval(k);
        size_t i, kl = strlen(key);
        int alias = 0;
        for (i = 0; i < n; i++) {
            if (!strcmp(defs[i].name, key))
                break;
            size_t dl = strlen(defs[i].name);
            if (defs[i].ms_alias && dl == kl + 3 &&
                !strncmp(defs[i].name, key, kl)) {
                alias = 1;
                break;
            }
        }
        char p[PATH_LEN];
        join(p, path, key);
        if (i == n) {
            /* suggest among both spellings of _ms settings */
            char bases[32][PACING_NAME_MAX];
            suggest sg;
            char hint[200];
            sg_init(&sg);
            for (size_t j = 0; j < n; j++) {
                sg_add(&sg, key, defs[j].name);
                if (defs[j].ms_alias && j < 32) {
                    snprintf(bases[j], sizeof bases[j], "%.*s",
                             (int)(strlen(defs[j].name) - 3), defs[j].name);
                    size_t d = edit_distance(key, bases[j]);
                    if (d < sg.dist && d < strlen(bases[j])) {
                        sg.best = bases[j];
                        sg.dist = d;
                    }
                }
            }
            return fail(ld, k, "%s: unknown key%s", p,
                        sg_hint(&sg, hint, sizeof hint, "expected one of"));
        }
        if (slots[i].key) {
            return fail(ld, k, "%s: the same setting as '%s' (line %lu); give "
                        "only one of them", p, sval(slots[i].key),
                        (unsigned long)slots[i].key->start_mark.line + 1);
        }
        slots[i].key = k;
        slots[i].val = node_at(ld, pr->value);
        slots[i].alias = alias;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Parameters by name (policies and rules)                            */
/* ------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int find_name(const char *const *names, uint32_t n, const char *s)
{
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(names[i], s))
            return (int)i;
    return -1;
}

/* One `key: value` of a parameter mapping, against the module's parameter
 * names. Durations ("20s") go to key_ms, times of day ("22:00") to
 * key_min, booleans are 1 and 0. *index receives the parameter. */
static bool resolve_param(loader *ld, const char *path, yaml_node_t *k,
                          yaml_node_t *v, const char *what_mod,
                          const char *const *names, uint32_t n, int *index,
                          double *value)
{
    const char *key = sval(k);
    char target[PACING_NAME_MAX + 8];
    char p[PATH_LEN];
    join(p, path, key);
    snprintf(target, sizeof target, "%s", key);
    if (v->type != YAML_SCALAR_NODE)
        return fail(ld, v, "%s: expected a number, got %s", p, what(v));
    int c = classify(v);
    if (c == SC_STRING) {
        double ms = parse_duration(sval(v));
        int clock = parse_clock(sval(v));
        if (ms >= 0) {
            if (ends_with(key, "_ms") || ends_with(key, "_min"))
                return fail(ld, v, "%s: takes a plain number; for a duration "
                            "such as '%s' drop the _ms suffix", p, sval(v));
            snprintf(target, sizeof target, "%s_ms", key);
            *value = ms;
        } else if (clock >= 0) {
            if (ends_with(key, "_min") || ends_with(key, "_ms"))
                return fail(ld, v, "%s: takes a plain number; for a time of "
                            "day such as '%s' drop the _min suffix", p, sval(v));
            snprintf(target, sizeof target, "%s_min", key);
            *value = clock;
        } else {
            return fail(ld, v, "%s: expected a number, a boolean, a duration "
                        "(20s) or a time of day (22:00), got '%.40s'", p, sval(v));
        }
    } else if (c == SC_BOOL) {
        int b;
        get_bool(ld, v, p, &b);
        *value = b;
    } else if (c == SC_NULL) {
        return fail(ld, v, "%s: expected a number, got %s", p, what(v));
    } else if (!get_double(ld, v, p, value)) {
        return false;
    }
    int i = find_name(names, n, target);
    if (i < 0 && c == SC_STRING && find_name(names, n, key) >= 0)
        return fail(ld, v, "%s: expected a number, got '%.40s' (durations and "
                    "times of day are for parameters ending in _ms and _min)",
                    p, sval(v));
    if (i < 0) {
        char ms[PACING_NAME_MAX + 8], mn[PACING_NAME_MAX + 8];
        snprintf(ms, sizeof ms, "%s_ms", key);
        snprintf(mn, sizeof mn, "%s_min", key);
        if (c != SC_STRING && find_name(names, n, ms) >= 0)
            return fail(ld, v, "%s: a duration needs a unit (ms, s, m, h, d), "
                        "e.g. %s: %sms; or write %s: %s", p, key, sval(v), ms,
                        sval(v));
        if (c != SC_STRING && find_name(names, n, mn) >= 0)
            return fail(ld, v, "%s: expected a time of day such as \"22:00\" "
                        "(or write %s: %s in minutes)", p, mn, sval(v));
        suggest sg;
        char hint[200];
        sg_init(&sg);
        for (uint32_t j = 0; j < n; j++)
            sg_add(&sg, target, names[j]);
        if (n == 0)
            return fail(ld, k, "%s: unknown key: %s takes no parameters", p,
                        what_mod);
        return fail(ld, k, "%s: unknown key: %s has no parameter '%s'%s", p,
                    what_mod, target,
                    sg_hint(&sg, hint, sizeof hint, "its parameters"));
    }
    *index = i;
    return true;
}

/* ------------------------------------------------------------------ */
/* Mapping library errors back to the file                            */
/* ------------------------------------------------------------------ */

/* The library's message without its "function name: " prefix. */
static const char *lib_message(const pacing_ctx *ctx)
{
    const char *m = pacing_errmsg(ctx);
    static const char *const prefixes[] = {"point_add", "rule_add", "weight_set",
                                           "exposure_decay_set", "ctx_new"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t l = strlen(prefixes[i]);
        if (!strncmp(m, prefixes[i], l) && (m[l] == ' ' || m[l] == ':')) {
            const char *c = strstr(m, ": ");
            if (c)
                return c + 2;
        }
    }
    return m;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Does word occur in s as a whole [a-z0-9_] word? */
static bool has_word(const char *s, const char *word)
{
    size_t l = strlen(word);
    if (!l)
        return false;
    for (const char *p = strstr(s, word); p; p = strstr(p + 1, word))
        if ((p == s || !name_char(p[-1])) && !name_char(p[l]))
            return true;
    return false;
}

/* Status for a failed setter: memory stays memory, the rest is config. */
static int map_status(int rc)
{
    return rc == PACING_E_NOMEM ? PACING_E_NOMEM : PACING_E_CONFIG;
}

/* ------------------------------------------------------------------ */
/* Sections                                                            */
/* ------------------------------------------------------------------ */

static bool parse_version(loader *ld, const slot *s, yaml_node_t *root)
{
    if (!s->val)
        return fail(ld, root, "version: required key missing (write 'version: 1')");
    uint64_t v;
    if (!get_u64(ld, s->val, "version", UINT32_MAX, &v))
        return false;
    if (v != 1)
        return fail(ld, s->val, "version: unsupported version %llu (this library "
                    "reads version 1)", (unsigned long long)v);
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void *refuse_alloc(void *opaque, size_t size)
{
    (void)opaque;
    (void)size;
    return NULL;
}
static void refuse_free(void *opaque, void *ptr, size_t size)
{
    (void)opaque;
    (void)ptr;
    (void)size;
}

static bool parse_options(loader *ld, yaml_node_t *key, yaml_node_t *map)
{
    keydef defs[N_OPTS];
    for (size_t i = 0; i < N_OPTS; i++) {
        defs[i].name = optdefs[i].name;
        defs[i].ms_alias = optdefs[i].type == O_MS || optdefs[i].type == O_HL;
    }
    ld->options_key = key;
    if (map->type == YAML_SCALAR_NODE && classify(map) == SC_NULL)
        return true; /* "options:" with nothing under it */
    if (!expect_map(ld, map, "options") ||
        !walk_map(ld, map, "options", defs, N_OPTS, ld->opt))
        return false;
    pacing_options *o = &ld->opts;
    for (size_t i = 0; i < N_OPTS; i++) {
        const slot *s = &ld->opt[i];
        if (!s->val)
            continue;
        char p[PATH_LEN];
        join(p, "options", sval(s->key));
        unsigned char *field = (unsigned char *)o + optdefs[i].off;
        switch (optdefs[i].type) {
        case O_U32: {
            uint32_t v;
            if (!get_u32(ld, s->val, p, &v))
                return false;
            memcpy(field, &v, sizeof v);
            break;
        }
        case O_U64: {
            uint64_t v;
            if (!get_u64(ld, s->val, p, UINT64_MAX, &v))
                return false;
            memcpy(field, &v, sizeof v);
            break;
        }
        case O_MS: {
            int64_t v;
            if (!get_ms(ld, s, p, &v, NULL))
                return false;
            if (v < 0 && !optdefs[i].negative_ok)
                return fail(ld, s->val, "%s: %s must not be negative", p,
                            sval(s->val));
            memcpy(field, &v, sizeof v);
            break;
        }
        case O_HL: {
            double d;
            if (!get_ms(ld, s, p, NULL, &d))
                return false;
            memcpy(field, &d, sizeof d);
            break;
        }
        case O_BOOL: {
            int b;
            if (!get_bool(ld, s->val, p, &b))
                return false;
            if (b)
                o->flags |= optdefs[i].flag;
            else
                o->flags &= ~optdefs[i].flag;
            break;
        }
        case O_SECRET: {
            const char *t;
            if (!get_text(ld, s->val, p, "32 hexadecimal digits", &t))
                return false;
            if (strlen(t) != 32)
                return fail(ld, s->val, "%s: expected 32 hexadecimal digits "
                            "(16 bytes), got %zu characters", p, strlen(t));
            for (int b = 0; b < 16; b++) {
                int hi = hexval(t[2 * b]), lo = hexval(t[2 * b + 1]);
                if (hi < 0 || lo < 0)
                    return fail(ld, s->val, "%s: '%c' is not a hexadecimal digit",
                                p, hi < 0 ? t[2 * b] : t[2 * b + 1]);
                o->secret[b] = (uint8_t)(hi << 4 | lo);
            }
            o->flags |= optdefs[i].flag;
            break;
        }
        }
    }
    return true;
}

/* pacing_ctx_new checks every option before it allocates anything: with an
 * allocator that refuses, PACING_E_NOMEM means the options are valid. */
static bool check_options(loader *ld)
{
    pacing_options probe = ld->opts;
    probe.allocator.alloc = refuse_alloc;
    probe.allocator.free = refuse_free;
    probe.allocator.opaque = NULL;
    pacing_ctx *c = NULL;
    int rc = pacing_ctx_new(&probe, &c);
    if (rc == PACING_E_NOMEM)
        return true;
    if (rc == PACING_OK) { /* cannot happen; be safe */
        pacing_ctx_free(c);
        return true;
    }
    const char *m = pacing_errmsg(NULL);
    /* the first option set in the file that the message names */
    const slot *best = NULL;
    const char *bestpos = NULL;
    for (size_t i = 0; i < N_OPTS; i++) {
        const slot *s = &ld->opt[i];
        if (!s->val)
            continue;
        const char *name = optdefs[i].name;
        for (const char *p = strstr(m, name); p; p = strstr(p + 1, name))
            if ((p == m || !name_char(p[-1])) && !name_char(p[strlen(name)])) {
                if (!bestpos || p < bestpos) {
                    best = s;
                    bestpos = p;
                }
                break;
            }
    }
    if (best) {
        char p[PATH_LEN];
        join(p, "options", sval(best->key));
        const char *msg = m;
        if (!strncmp(msg, "options.", 8)) /* "options.x = 5 is ..." */
            msg += 8;
        return fail_st(ld, map_status(rc), best->val, "%s: %s", p, msg);
    }
    return fail_st(ld, map_status(rc), NULL, "%s", m);
}

static const char *const kind_names[N_KIND] = {"fatigue", "cognitive_load",
                                                "attention", "engagement"};

static bool parse_scores(loader *ld, yaml_node_t *map)
{
    if (map->type == YAML_SCALAR_NODE && classify(map) == SC_NULL)
        return true;
    if (!expect_map(ld, map, "scores"))
        return false;
    keydef defs[N_KIND];
    slot kinds[N_KIND];
    for (int i = 0; i < N_KIND; i++) {
        defs[i].name = kind_names[i];
        defs[i].ms_alias = 0;
    }
    if (!walk_map(ld, map, "scores", defs, N_KIND, kinds))
        return false;
    /* in file order, so errors come in file order too */
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        int kind = 0;
        while (kinds[kind].key != node_at(ld, pr->key))
            kind++;
        yaml_node_t *inner = kinds[kind].val;
        char kp[PATH_LEN];
        join(kp, "scores", kind_names[kind]);
        if (!expect_map(ld, inner, kp))
            return false;
        for (yaml_node_pair_t *q = inner->data.mapping.pairs.start;
             q < inner->data.mapping.pairs.top; q++) {
            yaml_node_t *k;
            if (!check_key(ld, inner, q, kp, &k))
                return false;
            char p[PATH_LEN];
            join(p, kp, sval(k));
            int input = 0;
            while (input < PACING_INPUT_COUNT &&
                   (!pc_input_kind_member[kind][input] ||
                    strcmp(pacing_input_name(input), sval(k)) != 0))
                input++;
            if (input == PACING_INPUT_COUNT) {
                suggest sg;
                char hint[200];
                sg_init(&sg);
                for (int j = 0; j < PACING_INPUT_COUNT; j++)
                    if (pc_input_kind_member[kind][j])
                        sg_add(&sg, sval(k), pacing_input_name(j));
                return fail(ld, k, "%s: unknown key: %s has no input '%s'%s", p,
                            kind_names[kind], sval(k),
                            sg_hint(&sg, hint, sizeof hint, "its inputs"));
            }
            cfg_weight *w = &ld->w[ld->n_w];
            if (!get_double(ld, node_at(ld, q->value), p, &w->value))
                return false;
            w->kind = kind;
            w->input = input;
            w->key = k;
            w->val = node_at(ld, q->value);
            fmt(w->path, sizeof w->path, "%s", p);
            ld->n_w++;
        }
    }
    return true;
}

static bool apply_weights(loader *ld, pacing_ctx *ctx)
{
    for (size_t i = 0; i < ld->n_w; i++) {
        const cfg_weight *w = &ld->w[i];
        int rc = pacing_weight_set(ctx, w->kind, w->input, w->value);
        if (rc != PACING_OK)
            return fail_st(ld, map_status(rc), w->val, "%s: %s", w->path,
                           lib_message(ctx));
    }
    return true;
}

/* A decay: `name` or {module: name, params: [numbers or durations]}. */
static bool parse_decay(loader *ld, yaml_node_t *n, const char *path,
                        pacing_ctx *scratch, cfg_decay *d)
{
    memset(d, 0, sizeof *d);
    fmt(d->path, sizeof d->path, "%s", path);
    d->node = n;
    char mp[PATH_LEN];
    if (n->type == YAML_SCALAR_NODE) {
        d->mod_node = n;
        fmt(mp, sizeof mp, "%s", path);
    } else if (n->type == YAML_MAPPING_NODE) {
        static const keydef defs[] = {{"module", 0}, {"params", 0}};
        slot s[2];
        if (!walk_map(ld, n, path, defs, 2, s))
            return false;
        if (!s[0].val)
            return fail(ld, n, "%s: missing required key 'module'", path);
        d->mod_node = s[0].val;
        d->params_node = s[1].val;
        join(mp, path, "module");
    } else {
        return fail(ld, n, "%s: expected a decay module name or {module: name, "
                    "params: [...]}, got %s", path, what(n));
    }
    if (!get_name(ld, d->mod_node, mp, &d->module))
        return false;
    const pc_decay *dm = pc_decay_find(scratch, d->module);
    if (!dm) {
        suggest sg;
        char hint[200];
        sg_init(&sg);
        for (uint32_t i = 0; i < scratch->n_decay; i++)
            sg_add(&sg, d->module, scratch->decay[i].name);
        return fail(ld, d->mod_node, "%s: unknown decay module '%s'%s", mp,
                    d->module, sg_hint(&sg, hint, sizeof hint, "decay modules"));
    }
    memcpy(d->params, dm->default_params, sizeof d->params);
    if (!d->params_node)
        return true;
    char pp[PATH_LEN];
    join(pp, path, "params");
    if (!expect_seq(ld, d->params_node, pp))
        return false;
    size_t n_items = (size_t)(d->params_node->data.sequence.items.top -
                              d->params_node->data.sequence.items.start);
    if (n_items > 4)
        return fail(ld, d->params_node, "%s: at most 4 parameters, got %zu", pp,
                    n_items);
    for (size_t i = 0; i < n_items; i++) {
        yaml_node_t *e = node_at(ld, d->params_node->data.sequence.items.start[i]);
        char ep[PATH_LEN];
        index_path(ep, sizeof ep, pp, i);
        if (is_duration_node(e))
            d->params[i] = parse_duration(sval(e));
        else if (!get_double(ld, e, ep, &d->params[i]))
            return false;
        d->param_node[i] = e;
    }
    d->n_params = (uint32_t)n_items;
    return true;
}

/* A decay's parameters were rejected: point at the one named, or at the
 * list. */
static yaml_node_t *decay_error_node(const cfg_decay *d, const char *msg,
                                     char *path)
{
    int idx = -1;
    const char *p = strstr(msg, "parameter ");
    if (p && p[10] >= '0' && p[10] <= '3' && !name_char(p[11]))
        idx = p[10] - '0';
    else if ((p = strstr(msg, "params[")) && p[7] >= '0' && p[7] <= '3')
        idx = p[7] - '0';
    if (idx >= 0 && (uint32_t)idx < d->n_params) {
        fmt(path, PATH_LEN, "%s.params[%d]", d->path, idx);
        return d->param_node[idx];
    }
    if (d->params_node) {
        fmt(path, PATH_LEN, "%s.params", d->path);
        return d->params_node;
    }
    fmt(path, PATH_LEN, "%s", d->path);
    return d->node;
}

static bool apply_expo(loader *ld, pacing_ctx *ctx)
{
    if (!ld->has_expo)
        return true;
    int rc = pacing_exposure_decay_set(ctx, ld->expo.module, ld->expo.params);
    if (rc == PACING_OK)
        return true;
    char path[PATH_LEN];
    const char *m = lib_message(ctx);
    yaml_node_t *n = decay_error_node(&ld->expo, m, path);
    return fail_st(ld, map_status(rc), n, "%s: %s", path, m);
}

/* ---- points ---- */

static const keydef point_keys[N_PK] = {
    {"name", 0}, {"actions", 0}, {"quiet_actions", 0}, {"safe_action", 0},
    {"policy", 0}, {"params", 0}, {"context_dim", 0}, {"scores_context", 0},
    {"recovery", 0}, {"attribution_ms", 1}, {"default_reward", 0},
    {"rewards", 0},
};

static int action_index(const cfg_point *p, const char *name)
{
    for (uint32_t a = 0; a < p->n_actions; a++)
        if (!strcmp(p->actions[a], name))
            return (int)a;
    return -1;
}

static bool unknown_action(loader *ld, const cfg_point *p, yaml_node_t *n,
                           const char *path, const char *name)
{
    suggest sg;
    char hint[200];
    sg_init(&sg);
    for (uint32_t a = 0; a < p->n_actions; a++)
        sg_add(&sg, name, p->actions[a]);
    return fail(ld, n, "%s: '%s' is not an action of point '%s'%s", path, name,
                p->name, sg_hint(&sg, hint, sizeof hint, "its actions"));
}

static bool parse_point(loader *ld, yaml_node_t *n, size_t index,
                        pacing_ctx *scratch, cfg_point *p)
{
    memset(p, 0, sizeof *p);
    p->safe = -1;
    p->node = n;
    index_path(p->path, sizeof p->path, "points", index);
    const char *path = p->path;
    char fp[PATH_LEN];
    if (!expect_map(ld, n, path) || !walk_map(ld, n, path, point_keys, N_PK, p->s))
        return false;
    slot *s = p->s;
    static const int required[] = {PK_NAME, PK_ACTIONS, PK_POLICY};
    for (size_t i = 0; i < 3; i++)
        if (!s[required[i]].val)
            return fail(ld, n, "%s: missing required key '%s'", path,
                        point_keys[required[i]].name);

    /* name, unique in the file */
    join(fp, path, "name");
    if (!get_name(ld, s[PK_NAME].val, fp, &p->name))
        return false;
    for (size_t j = 0; j < index; j++)
        if (!strcmp(ld->pts[j].name, p->name))
            return fail(ld, s[PK_NAME].val, "%s: duplicate point name '%s' (first "
                        "at line %lu)", fp, p->name,
                        (unsigned long)ld->pts[j].s[PK_NAME].val->start_mark.line + 1);

    /* actions: 2..64 unique names */
    join(fp, path, "actions");
    yaml_node_t *an = s[PK_ACTIONS].val;
    if (!expect_seq(ld, an, fp))
        return false;
    size_t na = (size_t)(an->data.sequence.items.top - an->data.sequence.items.start);
    if (na < 2 || na > PC_MAX_ACTIONS)
        return fail(ld, an, "%s: a point needs 2 to %d actions, got %zu", fp,
                    PC_MAX_ACTIONS, na);
    for (size_t a = 0; a < na; a++) {
        yaml_node_t *e = node_at(ld, an->data.sequence.items.start[a]);
        char ep[PATH_LEN];
        index_path(ep, sizeof ep, fp, a);
        if (!get_name(ld, e, ep, &p->actions[a]))
            return false;
        for (size_t b = 0; b < a; b++)
            if (!strcmp(p->actions[a], p->actions[b]))
                return fail(ld, e, "%s: duplicate action '%s'", ep, p->actions[a]);
        p->n_actions = (uint32_t)(a + 1);
    }

    /* quiet_actions, safe_action: by name */
    if (s[PK_QUIET].val) {
        join(fp, path, "quiet_actions");
        yaml_node_t *qn = s[PK_QUIET].val;
        if (!expect_seq(ld, qn, fp))
            return false;
        size_t nq = (size_t)(qn->data.sequence.items.top - qn->data.sequence.items.start);
        for (size_t i = 0; i < nq; i++) {
            yaml_node_t *e = node_at(ld, qn->data.sequence.items.start[i]);
            char ep[PATH_LEN];
            const char *name;
            index_path(ep, sizeof ep, fp, i);
            if (!get_name(ld, e, ep, &name))
                return false;
            int a = action_index(p, name);
            if (a < 0)
                return unknown_action(ld, p, e, ep, name);
            if (p->quiet & ((uint64_t)1 << a))
                return fail(ld, e, "%s: duplicate action '%s'", ep, name);
            p->quiet |= (uint64_t)1 << a;
        }
    }
    if (s[PK_SAFE].val) {
        const char *name;
        join(fp, path, "safe_action");
        if (!get_name(ld, s[PK_SAFE].val, fp, &name))
            return false;
        p->safe = action_index(p, name);
        if (p->safe < 0)
            return unknown_action(ld, p, s[PK_SAFE].val, fp, name);
    }

    /* policy and its parameters */
    join(fp, path, "policy");
    if (!get_name(ld, s[PK_POLICY].val, fp, &p->policy))
        return false;
    const pc_policy_vt *vt = pc_policy_find(p->policy);
    if (!vt) {
        suggest sg;
        char hint[200];
        sg_init(&sg);
        for (size_t i = 0; pc_policies[i]; i++)
            sg_add(&sg, p->policy, pc_policies[i]->name);
        return fail(ld, s[PK_POLICY].val, "%s: unknown policy '%s'%s", fp,
                    p->policy, sg_hint(&sg, hint, sizeof hint, "policies"));
    }
    if (s[PK_PARAMS].val) {
        yaml_node_t *pm = s[PK_PARAMS].val;
        join(fp, path, "params");
        if (!expect_map(ld, pm, fp))
            return false;
        const char *names[PC_MAX_PARAMS];
        for (uint32_t i = 0; i < vt->n_params; i++)
            names[i] = vt->params[i].name;
        char what_mod[64];
        snprintf(what_mod, sizeof what_mod, "policy %s", vt->name);
        for (yaml_node_pair_t *q = pm->data.mapping.pairs.start;
             q < pm->data.mapping.pairs.top; q++) {
            yaml_node_t *k;
            int idx;
            double v;
            if (!check_key(ld, pm, q, fp, &k) ||
                !resolve_param(ld, fp, k, node_at(ld, q->value), what_mod, names,
                               vt->n_params, &idx, &v))
                return false;
            for (uint32_t j = 0; j < p->n_params; j++)
                if (!strcmp(p->params[j].name, names[idx])) {
                    char kp[PATH_LEN];
                    join(kp, fp, sval(k));
                    return fail(ld, k, "%s: %s is already given (line %lu)", kp,
                                names[idx],
                                (unsigned long)p->param_key[j]->start_mark.line + 1);
                }
            p->params[p->n_params].name = names[idx];
            p->params[p->n_params].value = v;
            p->param_key[p->n_params++] = k;
        }
    }
    if (s[PK_CTXDIM].val) {
        join(fp, path, "context_dim");
        if (!get_u32(ld, s[PK_CTXDIM].val, fp, &p->context_dim))
            return false;
    }
    if (s[PK_SCORES_CTX].val) {
        int b;
        join(fp, path, "scores_context");
        if (!get_bool(ld, s[PK_SCORES_CTX].val, fp, &b))
            return false;
        if (b)
            p->flags |= PACING_PT_SCORES_CONTEXT;
    }
    if (s[PK_RECOVERY].val) {
        join(fp, path, "recovery");
        if (!parse_decay(ld, s[PK_RECOVERY].val, fp, scratch, &p->rec))
            return false;
        p->has_recovery = 1;
    }
    if (s[PK_ATTRIBUTION].val) {
        join(fp, path, sval(s[PK_ATTRIBUTION].key));
        if (!get_ms(ld, &s[PK_ATTRIBUTION], fp, &p->attribution_ms, NULL))
            return false;
    }
    if (s[PK_DEFAULT_REWARD].val) {
        join(fp, path, "default_reward");
        if (!get_double(ld, s[PK_DEFAULT_REWARD].val, fp, &p->default_reward))
            return false;
        p->flags |= PACING_PT_DEFAULT_REWARD;
    }

    /* rewards: [name, {module: name, weight: w}, ...] */
    if (s[PK_REWARDS].val) {
        yaml_node_t *rn = s[PK_REWARDS].val;
        join(fp, path, "rewards");
        if (!expect_seq(ld, rn, fp))
            return false;
        size_t nr = (size_t)(rn->data.sequence.items.top - rn->data.sequence.items.start);
        if (nr > PACING_MAX_RULES)
            return fail(ld, rn, "%s: at most %d reward rules, got %zu", fp,
                        PACING_MAX_RULES, nr);
        for (size_t i = 0; i < nr; i++) {
            yaml_node_t *e = node_at(ld, rn->data.sequence.items.start[i]);
            char ep[PATH_LEN], mp[PATH_LEN];
            index_path(ep, sizeof ep, fp, i);
            pacing_reward_rule *r = &p->rewards[i];
            yaml_node_t *mn = e;
            r->weight = 1.0;
            fmt(mp, sizeof mp, "%s", ep);
            if (e->type == YAML_MAPPING_NODE) {
                static const keydef defs[] = {{"module", 0}, {"weight", 0}};
                slot rs[2];
                if (!walk_map(ld, e, ep, defs, 2, rs))
                    return false;
                if (!rs[0].val)
                    return fail(ld, e, "%s: missing required key 'module'", ep);
                mn = rs[0].val;
                join(mp, ep, "module");
                if (rs[1].val) {
                    char wp[PATH_LEN];
                    p->weight_node[i] = rs[1].val;
                    join(wp, ep, "weight");
                    if (!get_double(ld, rs[1].val, wp, &r->weight))
                        return false;
                }
            } else if (e->type != YAML_SCALAR_NODE) {
                return fail(ld, e, "%s: expected a reward module name or {module: "
                            "name, weight: w}, got %s", ep, what(e));
            }
            if (!get_name(ld, mn, mp, &r->module))
                return false;
            if (!pc_reward_find(scratch, r->module)) {
                suggest sg;
                char hint[200];
                sg_init(&sg);
                for (uint32_t j = 0; j < scratch->n_rmods; j++)
                    sg_add(&sg, r->module, scratch->rmods[j].name);
                return fail(ld, mn, "%s: unknown reward module '%s'%s", mp,
                            r->module, sg_hint(&sg, hint, sizeof hint,
                                               "reward modules"));
            }
            for (size_t j = 0; j < i; j++)
                if (!strcmp(p->rewards[j].module, r->module))
                    return fail(ld, mn, "%s: duplicate reward module '%s'", mp,
                                r->module);
            p->reward_node[i] = e;
            p->n_rewards = (uint32_t)(i + 1);
        }
    }
    return true;
}

/* A failed pacing_point_add: find the key the message is about. */
static bool point_error(loader *ld, pacing_ctx *ctx, const cfg_point *p, int rc)
{
    const char *m = lib_message(ctx);
    const slot *s = p->s;
    char path[PATH_LEN];
    yaml_node_t *n = p->node;
    fmt(path, sizeof path, "%s", p->path);
#define AT(k, name)                                                            \
    do {                                                                       \
        n = s[k].val;                                                          \
        join(path, p->path, name);                                             \
    } while (0)
    if (strstr(m, "parameter ") && s[PK_PARAMS].val) {
        AT(PK_PARAMS, "params");
        for (uint32_t i = 0; i < p->n_params; i++)
            if (has_word(m, p->params[i].name)) {
                join(path, path, sval(p->param_key[i]));
                /* point at the value: it is the value that is wrong */
                for (yaml_node_pair_t *q = s[PK_PARAMS].val->data.mapping.pairs.start;
                     q < s[PK_PARAMS].val->data.mapping.pairs.top; q++)
                    if (node_at(ld, q->key) == p->param_key[i])
                        n = node_at(ld, q->value);
                break;
            }
    } else if (strstr(m, "recovery") && p->has_recovery) {
        n = decay_error_node(&p->rec, m, path);
    } else if (strstr(m, "attribution") && s[PK_ATTRIBUTION].val) {
        AT(PK_ATTRIBUTION, sval(s[PK_ATTRIBUTION].key));
    } else if (strstr(m, "default_reward") && s[PK_DEFAULT_REWARD].val) {
        AT(PK_DEFAULT_REWARD, "default_reward");
    } else if ((strstr(m, "reward '") || strstr(m, "reward rules")) &&
               s[PK_REWARDS].val) {
        AT(PK_REWARDS, "rewards");
        for (uint32_t i = 0; i < p->n_rewards; i++) {
            char q[PACING_NAME_MAX + 4];
            snprintf(q, sizeof q, "'%s'", p->rewards[i].module);
            if (strstr(m, q)) {
                n = p->reward_node[i];
                fmt(path, sizeof path, "%s.rewards[%u]", p->path, i);
                if (strstr(m, "weight") && p->weight_node[i]) {
                    n = p->weight_node[i];
                    fmt(path, sizeof path, "%s.rewards[%u].weight", p->path, i);
                }
                break;
            }
        }
    } else if (strstr(m, "context")) {
        if (s[PK_CTXDIM].val)
            AT(PK_CTXDIM, "context_dim");
        else if (s[PK_SCORES_CTX].val)
            AT(PK_SCORES_CTX, "scores_context");
        else
            AT(PK_POLICY, "policy");
    } else if (strstr(m, "safe_action") && s[PK_SAFE].val) {
        AT(PK_SAFE, "safe_action");
    } else if (strstr(m, "quiet") && s[PK_QUIET].val) {
        AT(PK_QUIET, "quiet_actions");
    } else if (rc == PACING_E_FULL) {
        AT(PK_NAME, "name");
        return fail_st(ld, PACING_E_CONFIG, n, "%s: %s (options.max_points)",
                       path, m);
    } else if (strstr(m, "action")) {
        AT(PK_ACTIONS, "actions");
    } else if (strstr(m, "policy")) {
        AT(PK_POLICY, "policy");
    }
#undef AT
    return fail_st(ld, map_status(rc), n, "%s: %s", path, m);
}

static bool apply_point(loader *ld, pacing_ctx *ctx, const cfg_point *p)
{
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    sp.name = p->name;
    sp.actions = p->actions;
    sp.n_actions = p->n_actions;
    sp.flags = p->flags;
    sp.policy = p->policy;
    sp.params = p->params;
    sp.n_params = p->n_params;
    sp.context_dim = p->context_dim;
    if (p->has_recovery) {
        sp.recovery_decay = p->rec.module;
        sp.recovery_params = p->rec.params;
    }
    sp.attribution_ms = p->attribution_ms;
    sp.default_reward = p->default_reward;
    sp.rewards = p->rewards;
    sp.n_rewards = p->n_rewards;
    sp.quiet_actions = p->quiet;
    sp.safe_action = p->safe;
    uint32_t id;
    int rc = pacing_point_add(ctx, &sp, &id);
    return rc == PACING_OK || point_error(ld, ctx, p, rc);
}

/* ---- rules ---- */

static const pc_rule_mod *find_rule_mod(const pacing_ctx *ctx, const char *name)
{
    for (uint32_t i = 0; i < ctx->n_rule_mods; i++)
        if (!strcmp(ctx->rule_mods[i].name, name))
            return &ctx->rule_mods[i];
    return NULL;
}

static bool parse_rule(loader *ld, yaml_node_t *n, size_t index,
                       pacing_ctx *scratch, cfg_rule *r)
{
    memset(r, 0, sizeof *r);
    r->node = n;
    index_path(r->path, sizeof r->path, "rules", index);
    const char *path = r->path;
    char fp[PATH_LEN];
    if (!expect_map(ld, n, path))
        return false;
    /* first pass: keys, duplicates, the module */
    for (yaml_node_pair_t *q = n->data.mapping.pairs.start;
         q < n->data.mapping.pairs.top; q++) {
        yaml_node_t *k;
        if (!check_key(ld, n, q, path, &k))
            return false;
        if (!strcmp(sval(k), "rule"))
            r->mod_node = node_at(ld, q->value);
        else if (!strcmp(sval(k), "point"))
            r->point_node = node_at(ld, q->value);
    }
    if (!r->mod_node)
        return fail(ld, n, "%s: missing required key 'rule' (the rule module, "
                    "e.g. rule: min_gap)", path);
    join(fp, path, "rule");
    if (!get_name(ld, r->mod_node, fp, &r->module))
        return false;
    const pc_rule_mod *m = find_rule_mod(scratch, r->module);
    if (!m) {
        suggest sg;
        char hint[200];
        sg_init(&sg);
        for (uint32_t i = 0; i < scratch->n_rule_mods; i++)
            sg_add(&sg, r->module, scratch->rule_mods[i].name);
        return fail(ld, r->mod_node, "%s: unknown rule module '%s'%s", fp,
                    r->module, sg_hint(&sg, hint, sizeof hint, "rule modules"));
    }
    if (r->point_node) {
        join(fp, path, "point");
        if (!get_name(ld, r->point_node, fp, &r->point))
            return false;
        size_t j = 0;
        while (j < ld->n_pts && strcmp(ld->pts[j].name, r->point) != 0)
            j++;
        if (j == ld->n_pts) {
            suggest sg;
            char hint[200];
            sg_init(&sg);
            for (size_t i = 0; i < ld->n_pts; i++)
                sg_add(&sg, r->point, ld->pts[i].name);
            return fail(ld, r->point_node, "%s: no point '%s' in this file%s", fp,
                        r->point, sg_hint(&sg, hint, sizeof hint, "points"));
        }
    }
    /* second pass: the parameters, in file order */
    const char *names[PACING_MAX_RULE_PARAMS];
    for (uint32_t i = 0; i < m->n_params; i++)
        names[i] = m->param_names[i];
    char what_mod[64];
    snprintf(what_mod, sizeof what_mod, "rule %s", m->name);
    for (yaml_node_pair_t *q = n->data.mapping.pairs.start;
         q < n->data.mapping.pairs.top; q++) {
        yaml_node_t *k = node_at(ld, q->key);
        if (!strcmp(sval(k), "rule") || !strcmp(sval(k), "point"))
            continue;
        int idx;
        double v;
        if (!resolve_param(ld, path, k, node_at(ld, q->value), what_mod, names,
                           m->n_params, &idx, &v))
            return false;
        for (uint32_t j = 0; j < r->n_params; j++)
            if (!strcmp(r->pname[j], names[idx])) {
                join(fp, path, sval(k));
                return fail(ld, k, "%s: %s is already given (line %lu)", fp,
                            names[idx],
                            (unsigned long)r->pkey[j]->start_mark.line + 1);
            }
        uint32_t j = r->n_params++;
        snprintf(r->pname[j], sizeof r->pname[j], "%s", names[idx]);
        r->params[j].value = v;
        r->pkey[j] = k;
    }
    for (uint32_t j = 0; j < r->n_params; j++)
        r->params[j].name = r->pname[j];
    return true;
}

static bool apply_rule(loader *ld, pacing_ctx *ctx, const cfg_rule *r)
{
    pacing_rule_spec sp = PACING_RULE_SPEC_INIT;
    sp.module = r->module;
    sp.point = r->point;
    sp.params = r->params;
    sp.n_params = r->n_params;
    int rc = pacing_rule_add(ctx, &sp, NULL);
    if (rc == PACING_OK)
        return true;
    const char *m = lib_message(ctx);
    char path[PATH_LEN];
    fmt(path, sizeof path, "%s", r->path);
    yaml_node_t *n = r->node;
    if (rc == PACING_E_FULL) {
        n = r->mod_node;
    } else {
        /* the first parameter the message names, at its value */
        for (uint32_t j = 0; j < r->n_params; j++)
            if (has_word(m, r->pname[j])) {
                join(path, r->path, sval(r->pkey[j]));
                for (yaml_node_pair_t *q = r->node->data.mapping.pairs.start;
                     q < r->node->data.mapping.pairs.top; q++)
                    if (node_at(ld, q->key) == r->pkey[j])
                        n = node_at(ld, q->value);
                break;
            }
    }
    return fail_st(ld, map_status(rc), n, "%s: %s", path, m);
}

/* ------------------------------------------------------------------ */
/* The load                                                            */
/* ------------------------------------------------------------------ */

enum { TK_VERSION, TK_OPTIONS, TK_SCORES, TK_EXPO, TK_POINTS, TK_RULES, N_TK };
static const keydef top_keys[N_TK] = {
    {"version", 0}, {"options", 0}, {"scores", 0}, {"exposure_decay", 0},
    {"points", 0}, {"rules", 0},
};

static bool syntax_error(loader *ld, const yaml_parser_t *ps)
{
    uint32_t line, col;
    if (ps->error == YAML_READER_ERROR) {
        /* reader errors carry a byte offset, not a mark */
        line = 1;
        col = 1;
        for (size_t i = 0; i < ps->problem_offset && i < ld->src_len; i++) {
            if (ld->src[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)ld->src[i] & 0xC0) != 0x80) {
                col++;
            }
        }
    } else {
        line = (uint32_t)ps->problem_mark.line + 1;
        col = (uint32_t)ps->problem_mark.column + 1;
    }
    const char *problem = ps->problem ? ps->problem : "syntax error";
    char msg[256];
    if (ps->error == YAML_MEMORY_ERROR) {
        return fail_st(ld, PACING_E_NOMEM, NULL, "out of memory while parsing");
    }
    if (ps->context)
        snprintf(msg, sizeof msg, "YAML syntax error: %s %s (line %lu)", problem,
                 ps->context, (unsigned long)ps->context_mark.line + 1);
    else
        snprintf(msg, sizeof msg, "YAML syntax error: %s", problem);
    yaml_node_t fake;
    memset(&fake, 0, sizeof fake);
    fake.start_mark.line = line - 1;
    fake.start_mark.column = col - 1;
    return fail(ld, &fake, "%s", msg);
}

/* Sequence items of a section that may be empty or null. */
static bool section_seq(loader *ld, yaml_node_t *n, const char *path,
                        size_t *count)
{
    *count = 0;
    if (n->type == YAML_SCALAR_NODE && classify(n) == SC_NULL)
        return true;
    if (!expect_seq(ld, n, path))
        return false;
    *count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return true;
}

static bool apply_all(loader *ld, pacing_ctx *ctx)
{
    if (!apply_weights(ld, ctx) || !apply_expo(ld, ctx))
        return false;
    for (size_t i = 0; i < ld->n_pts; i++)
        if (!apply_point(ld, ctx, &ld->pts[i]))
            return false;
    for (size_t i = 0; i < ld->n_rules; i++)
        if (!apply_rule(ld, ctx, &ld->rules[i]))
            return false;
    return true;
}

/* Walk the document; on success everything is in ld, checked against a
 * scratch context. */
static bool load_document(loader *ld, pacing_ctx **scratch_out)
{
    yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
    if (!root) {
        yaml_node_t fake;
        memset(&fake, 0, sizeof fake);
        return fail(ld, &fake, "version: required key missing (the file is "
                    "empty; it needs at least 'version: 1')");
    }
    if (root->type != YAML_MAPPING_NODE)
        return fail(ld, root, "the top level must be a mapping of sections "
                    "(version, options, scores, exposure_decay, points, rules), "
                    "got %s", what(root));
    slot top[N_TK];
    if (!walk_map(ld, root, "", top_keys, N_TK, top) ||
        !parse_version(ld, &top[TK_VERSION], root))
        return false;
    if (top[TK_OPTIONS].val &&
        (!parse_options(ld, top[TK_OPTIONS].key, top[TK_OPTIONS].val) ||
         !check_options(ld)))
        return false;

    /* the scratch context: same modules, the file's point limit, one user */
    pacing_options so;
    pacing_options_init(&so);
    so.flags = PACING_OPT_SINGLE_THREAD | PACING_OPT_SECRET;
    so.capacity = 1;
    so.stripes = 1;
    so.pending_capacity = 1;
    so.max_points = ld->opts.max_points;
    int rc = pacing_ctx_new(&so, scratch_out);
    if (rc != PACING_OK)
        return fail_st(ld, map_status(rc), NULL, "%s", pacing_errmsg(NULL));
    pacing_ctx *scratch = *scratch_out;

    if (top[TK_SCORES].val &&
        (!parse_scores(ld, top[TK_SCORES].val) || !apply_weights(ld, scratch)))
        return false;
    if (top[TK_EXPO].val) {
        if (!parse_decay(ld, top[TK_EXPO].val, "exposure_decay", scratch, &ld->expo))
            return false;
        ld->has_expo = 1;
        if (!apply_expo(ld, scratch))
            return false;
    }
    size_t n;
    if (top[TK_POINTS].val) {
        yaml_node_t *pn = top[TK_POINTS].val;
        if (!section_seq(ld, pn, "points", &n))
            return false;
        if (n > scratch->max_points) /* before allocating for every item */
            return fail(ld, node_at(ld, pn->data.sequence.items.start[scratch->max_points]),
                        "points[%u]: at most %u points (options.max_points)",
                        scratch->max_points, scratch->max_points);
        if (n) {
            ld->pts = calloc(n, sizeof *ld->pts);
            if (!ld->pts)
                return fail_st(ld, PACING_E_NOMEM, NULL, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *e = node_at(ld, pn->data.sequence.items.start[i]);
            if (!parse_point(ld, e, i, scratch, &ld->pts[i]))
                return false;
            ld->n_pts = i + 1;
            if (!apply_point(ld, scratch, &ld->pts[i]))
                return false;
        }
    }
    if (top[TK_RULES].val) {
        yaml_node_t *rn = top[TK_RULES].val;
        if (!section_seq(ld, rn, "rules", &n))
            return false;
        if (n > PACING_MAX_RULE_INSTANCES)
            return fail(ld, node_at(ld, rn->data.sequence.items.start[PACING_MAX_RULE_INSTANCES]),
                        "rules[%d]: at most %d rules", PACING_MAX_RULE_INSTANCES,
                        PACING_MAX_RULE_INSTANCES);
        if (n) {
            ld->rules = calloc(n, sizeof *ld->rules);
            if (!ld->rules)
                return fail_st(ld, PACING_E_NOMEM, NULL, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *e = node_at(ld, rn->data.sequence.items.start[i]);
            if (!parse_rule(ld, e, i, scratch, &ld->rules[i]))
                return false;
            ld->n_rules = i + 1;
            if (!apply_rule(ld, scratch, &ld->rules[i]))
                return false;
        }
    }
    return true;
}

static int load(const char *file, const char *text, size_t len,
                const pacing_options *base, pacing_ctx **out,
                pacing_config_error *err)
{
    loader *ld = calloc(1, sizeof *ld);
    if (!ld)
        return pc_fail(NULL, PACING_E_NOMEM, "%s: out of memory", file);
    ld->file = file;
    ld->src = text;
    ld->src_len = len;
    ld->err = err;
    if (base)
        ld->opts = *base;
    else
        pacing_options_init(&ld->opts);

    yaml_parser_t ps;
    pacing_ctx *scratch = NULL, *ctx = NULL;
    int have_doc = 0;
    if (!yaml_parser_initialize(&ps)) {
        fail_st(ld, PACING_E_NOMEM, NULL, "out of memory");
        goto done;
    }
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    if (!yaml_parser_load(&ps, &ld->doc)) {
        syntax_error(ld, &ps);
        yaml_parser_delete(&ps);
        goto done;
    }
    have_doc = 1;
    if (yaml_document_get_root_node(&ld->doc)) {
        /* exactly one document */
        yaml_document_t next;
        if (!yaml_parser_load(&ps, &next)) {
            syntax_error(ld, &ps);
        } else {
            yaml_node_t *r2 = yaml_document_get_root_node(&next);
            if (r2)
                fail(ld, r2, "a second YAML document: a configuration is one "
                     "document");
            yaml_document_delete(&next);
        }
    }
    yaml_parser_delete(&ps);
    if (ld->status != PACING_OK)
        goto done;

    if (!load_document(ld, &scratch))
        goto done;

    /* everything checked: build the real context */
    int rc = pacing_ctx_new(&ld->opts, &ctx);
    if (rc != PACING_OK) {
        /* the options were checked: only memory or the OS can fail here */
        int st = rc == PACING_E_NOMEM || rc == PACING_E_IO ? rc : PACING_E_CONFIG;
        slot *cap = &ld->opt[0]; /* optdefs[0] is capacity */
        char m[256];
        snprintf(m, sizeof m, "%s", pacing_errmsg(NULL));
        if (cap->val && rc == PACING_E_NOMEM)
            fail_st(ld, st, cap->val, "options.%s: %s", sval(cap->key), m);
        else
            fail_st(ld, st, NULL, "%s", m);
        goto done;
    }
    if (!apply_all(ld, ctx)) {
        pacing_ctx_free(ctx);
        ctx = NULL;
    }

done:
    pacing_ctx_free(scratch);
    if (have_doc)
        yaml_document_delete(&ld->doc);
    free(ld->pts);
    free(ld->rules);
    int status = ld->status;
    free(ld);
    if (status != PACING_OK) {
        if (err->line)
            pc_fail(NULL, status, "%s:%u:%u: %s", err->file, err->line,
                    err->column, err->message);
        else
            pc_fail(NULL, status, "%s: %s", err->file, err->message);
        return status;
    }
    /* the option probe failed on purpose: leave no stale message */
    pc_fail(NULL, PACING_OK, "%s", "");
    *out = ctx;
    return PACING_OK;
}

/* Common argument checks; fills *err with the file name. */
static int begin(const char *file, const pacing_options *base, pacing_ctx **out,
                 pacing_config_error *err)
{
    if (!out)
        return pc_fail(NULL, PACING_E_NULL, "ctx_new_from_yaml: out is NULL");
    *out = NULL;
    if (err && err->size != sizeof(pacing_config_error))
        return pc_fail(NULL, PACING_E_SIZE,
                       "ctx_new_from_yaml: err->size is %zu, expected %zu",
                       err->size, sizeof(pacing_config_error));
    if (base && base->size != sizeof(pacing_options))
        return pc_fail(NULL, PACING_E_SIZE,
                       "ctx_new_from_yaml: base->size is %zu, expected %zu",
                       base->size, sizeof(pacing_options));
    if (err) {
        err->line = err->column = 0;
        snprintf(err->file, sizeof err->file, "%s", file);
        err->message[0] = '\0';
    }
    return PACING_OK;
}

PACING_API int pacing_ctx_new_from_yaml_string(const char *yaml, size_t len,
                                               const pacing_options *base,
                                               pacing_ctx **out,
                                               pacing_config_error *err)
{
    int rc = begin("<string>", base, out, err);
    if (rc != PACING_OK)
        return rc;
    if (!yaml)
        return pc_fail(NULL, PACING_E_NULL, "ctx_new_from_yaml_string: yaml is NULL");
    pacing_config_error local = PACING_CONFIG_ERROR_INIT;
    if (!err) {
        err = &local;
        snprintf(err->file, sizeof err->file, "<string>");
    }
    return load(err->file, yaml, len, base, out, err);
}

PACING_API int pacing_ctx_new_from_yaml(const char *path,
                                        const pacing_options *base,
                                        pacing_ctx **out,
                                        pacing_config_error *err)
{
    if (!path) {
        if (out)
            *out = NULL;
        return pc_fail(NULL, PACING_E_NULL, "ctx_new_from_yaml: path is NULL");
    }
    int rc = begin(path, base, out, err);
    if (rc != PACING_OK)
        return rc;
    pacing_config_error local = PACING_CONFIG_ERROR_INIT;
    if (!err) {
        err = &local;
        snprintf(err->file, sizeof err->file, "%s", path);
    }
    /* read the whole file (libyaml could read a FILE *, but the reader's
     * error offsets are easier against a buffer) */
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->message, sizeof err->message, "cannot open: %s",
                 strerror(errno));
        return pc_fail(NULL, PACING_E_IO, "%s: %s", path, err->message);
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int io_errno = 0;
    while (buf) {
        if (len == cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                io_errno = errno ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (!buf) {
        snprintf(err->message, sizeof err->message, "out of memory reading the file");
        return pc_fail(NULL, PACING_E_NOMEM, "%s: %s", path, err->message);
    }
    if (io_errno) {
        free(buf);
        snprintf(err->message, sizeof err->message, "cannot read: %s",
                 strerror(io_errno));
        return pc_fail(NULL, PACING_E_IO, "%s: %s", path, err->message);
    }
    rc = load(err->file, buf, len, base, out, err);
    free(buf);
    return rc;
}
