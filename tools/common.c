/* Shared pieces of the pacing command: argument parsing, loading a
 * configuration (and reading from its YAML what the public API does not
 * say: point names, quiet actions, context sizes, the rules' modules),
 * CSV reading and writing, and the row engine that sim and replay share.
 *
 * The row engine is why a replay of a log written by `pacing sim`
 * reproduces its decisions: sim does not call the library itself, it
 * hands every event and decide request to tl_engine_apply(), which writes
 * the row to the events file and applies it; replay reads the same rows
 * back and hands them to the same function. Besides push and decide, the
 * engine calls only pacing_settle() (whenever a row enters a new minute of
 * time, at that row's time; push and decide settle their stripe lazily in
 * between), pacing_log_read() (to collect the rewards of
 * settled decisions) and read-only queries, so the same rows in the same
 * order, with the same configuration, seed and secret, give the same
 * decisions.
 *
 * SPDX-License-Identifier: MIT */
#include "tools.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------------ */
/* Arguments                                                           */
/* ------------------------------------------------------------------ */

int tl_is_help(const char *arg)
{
    return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int tl_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || !end || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int tl_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s || *s == ' ')
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int tl_parse_double(const char *s, double *out)
{
    if (!s || !*s || *s == ' ')
        return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno == ERANGE || !end || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int tl_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pacing %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\n(see pacing %s --help)\n", usage, cmd);
    return EXIT_USAGE;
}

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

static uint64_t splitmix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

void tl_seed_options(uint64_t seed, pacing_options *o)
{
    pacing_options_init(o);
    o->seed = seed;
    o->flags |= PACING_OPT_SECRET;
    uint64_t a = splitmix(seed ^ 0x7061636E67736563ULL); /* "pacngsec" */
    uint64_t b = splitmix(a ^ seed);
    for (int i = 0; i < 8; i++) {
        o->secret[i] = (uint8_t)(a >> (8 * i));
        o->secret[8 + i] = (uint8_t)(b >> (8 * i));
    }
}

static yaml_node_t *y_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            !strcmp((const char *)k->data.scalar.value, key))
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static const char *y_str(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                            : NULL;
}

static size_t y_len(yaml_node_t *n)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return 0;
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *y_item(yaml_document_t *doc, yaml_node_t *seq, size_t i)
{
    return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

/* Remove key from a mapping node; 1 if it was there. */
static int y_remove(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return 0;
    int removed = 0;
    yaml_node_pair_t *w = map->data.mapping.pairs.start;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            !strcmp((const char *)k->data.scalar.value, key)) {
            removed = 1;
            continue;
        }
        *w++ = *p;
    }
    map->data.mapping.pairs.top = w;
    return removed;
}

typedef struct ybuf {
    unsigned char *p;
    size_t len, cap;
    int failed;
} ybuf;

static int ybuf_write(void *data, unsigned char *buffer, size_t size)
{
    ybuf *b = data;
    if (b->len + size + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + size + 1)
            cap *= 2;
        unsigned char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            return 0;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, buffer, size);
    b->len += size;
    b->p[b->len] = 0;
    return 1;
}

static void print_config_error(const char *cmd, const char *path, int rc,
                               const pacing_config_error *err)
{
    if (err->line)
        fprintf(stderr, "pacing %s: %s:%u:%u: %s\n", cmd, path, err->line,
                err->column, err->message);
    else if (err->message[0])
        fprintf(stderr, "pacing %s: %s: %s\n", cmd, path, err->message);
    else
        fprintf(stderr, "pacing %s: %s: %s\n", cmd, path, pacing_strerror(rc));
}

/* Read points and rules from the document. */
static int read_info(const char *cmd, yaml_document_t *doc, tl_config *c)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    yaml_node_t *opts = y_get(doc, root, "options");
    c->has_secret = y_get(doc, opts, "secret") != NULL;
    yaml_node_t *pts = y_get(doc, root, "points");
    size_t np = y_len(pts);
    c->points = calloc(np ? np : 1, sizeof *c->points);
    if (!c->points) {
        fprintf(stderr, "pacing %s: out of memory\n", cmd);
        return EXIT_BAD;
    }
    c->n_points = (uint32_t)np;
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *pn = y_item(doc, pts, i);
        tl_point *p = &c->points[i];
        const char *name = y_str(y_get(doc, pn, "name"));
        const char *policy = y_str(y_get(doc, pn, "policy"));
        snprintf(p->name, sizeof p->name, "%s", name ? name : "?");
        snprintf(p->policy, sizeof p->policy, "%s", policy ? policy : "?");
        yaml_node_t *acts = y_get(doc, pn, "actions");
        size_t na = y_len(acts);
        if (na > 64)
            na = 64;
        p->n_actions = (uint32_t)na;
        yaml_node_t *quiet = y_get(doc, pn, "quiet_actions");
        for (size_t q = 0; q < y_len(quiet); q++) {
            const char *qn = y_str(y_item(doc, quiet, q));
            for (size_t a = 0; qn && a < na; a++) {
                const char *an = y_str(y_item(doc, acts, a));
                if (an && !strcmp(qn, an))
                    p->quiet |= 1ULL << a;
            }
        }
        const char *cd = y_str(y_get(doc, pn, "context_dim"));
        uint64_t dim = 0;
        if (cd && tl_parse_u64(cd, &dim) == 0 && dim <= 32)
            p->context_dim = (uint32_t)dim;
    }
    yaml_node_t *rules = y_get(doc, root, "rules");
    size_t nr = y_len(rules);
    if (nr > TL_MAX_RULES)
        nr = TL_MAX_RULES;
    c->n_rules = (uint32_t)nr;
    for (size_t i = 0; i < nr; i++) {
        yaml_node_t *rn = y_item(doc, rules, i);
        const char *m = y_str(y_get(doc, rn, "rule"));
        const char *pt = y_str(y_get(doc, rn, "point"));
        snprintf(c->rules[i].module, TL_NAME, "%s", m ? m : "?");
        snprintf(c->rules[i].point, TL_NAME, "%s", pt ? pt : "");
    }
    return 0;
}

/* Load the file with libyaml; 1 on success. */
static int load_doc(const char *path, yaml_document_t *doc)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    yaml_parser_t ps;
    int loaded = 0;
    if (yaml_parser_initialize(&ps)) {
        yaml_parser_set_input_file(&ps, f);
        loaded = yaml_parser_load(&ps, doc);
        if (loaded && !yaml_document_get_root_node(doc)) {
            yaml_document_delete(doc);
            loaded = 0;
        }
        yaml_parser_delete(&ps);
    }
    fclose(f);
    return loaded;
}

int tl_config_load(const char *cmd, const char *path, const pacing_options *base,
                   unsigned flags, tl_config *out)
{
    memset(out, 0, sizeof *out);
    out->path = path;
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    pacing_ctx *ctx = NULL;
    pacing_options b = *base;
    yaml_document_t doc;
    int have_doc = load_doc(path, &doc);
    yaml_node_t *opts = NULL;
    if (have_doc) {
        opts = y_get(&doc, yaml_document_get_root_node(&doc), "options");
        if ((flags & TL_LOAD_BIG_LOG) && !y_get(&doc, opts, "log_capacity")) {
            uint64_t pend = 16384;
            const char *pc = y_str(y_get(&doc, opts, "pending_capacity"));
            if (pc && (tl_parse_u64(pc, &pend) != 0 || pend == 0))
                pend = 16384;
            uint64_t cap = 2 * pend + 4096;
            b.log_capacity = (uint32_t)(cap > (1u << 24) ? (1u << 24) : cap);
        }
    }
    int rc = pacing_ctx_new_from_yaml(path, &b, &ctx, &err);
    if (rc != PACING_OK) {
        print_config_error(cmd, path, rc, &err);
        if (have_doc)
            yaml_document_delete(&doc);
        return EXIT_BAD;
    }
    if (!have_doc) { /* the library read it, so this is unlikely */
        fprintf(stderr, "pacing %s: %s: cannot read the file again\n", cmd, path);
        pacing_ctx_free(ctx);
        return EXIT_BAD;
    }
    if (read_info(cmd, &doc, out) != 0) {
        yaml_document_delete(&doc);
        pacing_ctx_free(ctx);
        return EXIT_BAD;
    }
    int removed = 0;
    if (flags & TL_LOAD_OVERRIDE_SEED) {
        removed += y_remove(&doc, opts, "seed");
        removed += y_remove(&doc, opts, "random_seed");
    }
    if (removed) {
        /* emit the document without those keys and load that instead */
        ybuf yb = {0};
        yaml_emitter_t em;
        int ok = yaml_emitter_initialize(&em);
        if (ok) {
            yaml_emitter_set_output(&em, ybuf_write, &yb);
            yaml_emitter_set_unicode(&em, 1);
            ok = yaml_emitter_open(&em) && yaml_emitter_dump(&em, &doc) &&
                 yaml_emitter_close(&em) && !yb.failed;
            yaml_emitter_delete(&em);
        } else {
            yaml_document_delete(&doc);
        }
        /* yaml_emitter_dump destroyed the document */
        pacing_ctx_free(ctx);
        ctx = NULL;
        if (!ok) {
            free(yb.p);
            fprintf(stderr, "pacing %s: %s: cannot rewrite options.seed\n", cmd, path);
            tl_config_free(out);
            return EXIT_BAD;
        }
        err = (pacing_config_error)PACING_CONFIG_ERROR_INIT;
        rc = pacing_ctx_new_from_yaml_string((const char *)yb.p, yb.len, &b, &ctx,
                                             &err);
        free(yb.p);
        if (rc != PACING_OK) {
            fprintf(stderr, "pacing %s: %s without options.seed/random_seed:\n",
                    cmd, path);
            print_config_error(cmd, "<rewritten>", rc, &err);
            tl_config_free(out);
            return EXIT_BAD;
        }
        out->seed_overridden = 1;
    } else {
        yaml_document_delete(&doc);
    }
    out->ctx = ctx;
    if (pacing_point_count(ctx) != out->n_points) {
        fprintf(stderr, "pacing %s: %s: %u points in the file, %u in the context\n",
                cmd, path, out->n_points, pacing_point_count(ctx));
        tl_config_free(out);
        return EXIT_BAD;
    }
    for (uint32_t i = 0; i < out->n_points; i++) {
        tl_point *p = &out->points[i];
        uint32_t id = UINT32_MAX;
        if (pacing_point_find(ctx, p->name, &id) != PACING_OK || id != i) {
            fprintf(stderr, "pacing %s: %s: point %s is not point %u of the "
                    "context\n", cmd, path, p->name, i);
            tl_config_free(out);
            return EXIT_BAD;
        }
        uint32_t n = 0;
        while (n < 64 && pacing_action_name(ctx, i, n)) {
            p->actions[n] = pacing_action_name(ctx, i, n);
            n++;
        }
        p->n_actions = n;
    }
    return 0;
}

void tl_config_free(tl_config *c)
{
    if (!c)
        return;
    pacing_ctx_free(c->ctx);
    free(c->points);
    c->ctx = NULL;
    c->points = NULL;
    c->n_points = 0;
}

int tl_point_index(const tl_config *c, const char *name)
{
    for (uint32_t i = 0; i < c->n_points; i++)
        if (!strcmp(c->points[i].name, name))
            return (int)i;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Numbers and CSV                                                     */
/* ------------------------------------------------------------------ */

void tl_fmt_double(char *buf, size_t len, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            return;
    }
}

void tl_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && s[0] != '#') {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int tl_csv_next(tl_csv *c)
{
    for (;;) {
        errno = 0;
        ssize_t n = getline(&c->line, &c->cap, c->f);
        if (n < 0)
            return ferror(c->f) ? -1 : 0;
        c->lineno++;
        while (n > 0 && (c->line[n - 1] == '\n' || c->line[n - 1] == '\r'))
            c->line[--n] = 0;
        if (n == 0 || c->line[0] == '#')
            continue;
        if (c->lineno == 1 && (unsigned char)c->line[0] == 0xEF &&
            (unsigned char)c->line[1] == 0xBB && (unsigned char)c->line[2] == 0xBF)
            memmove(c->line, c->line + 3, (size_t)n - 2); /* a UTF-8 BOM */
        /* split in place */
        c->n = 0;
        char *r = c->line, *w = c->line;
        for (;;) {
            if (c->n == sizeof c->fields / sizeof c->fields[0])
                return -1;
            c->fields[c->n++] = w;
            if (*r == '"') {
                r++;
                for (;;) {
                    if (!*r)
                        return -1; /* unterminated quote */
                    if (*r == '"') {
                        if (r[1] == '"') {
                            *w++ = '"';
                            r += 2;
                            continue;
                        }
                        r++;
                        break;
                    }
                    *w++ = *r++;
                }
                if (*r && *r != ',')
                    return -1;
            } else {
                while (*r && *r != ',')
                    *w++ = *r++;
            }
            if (!*r) {
                *w = 0;
                break;
            }
            *w++ = 0; /* w <= r: the comma becomes the terminator */
            r++;
        }
        return 1;
    }
}

void tl_csv_free(tl_csv *c)
{
    free(c->line);
    c->line = NULL;
    c->cap = 0;
}

static const struct {
    const char *name;
    uint32_t bit;
    int decide; /* 0: events only, 1: decide only, 2: both */
} flag_names[] = {
    {"bot", PACING_EVF_BOT, 0},
    {"consent", PACING_EVF_CONSENT, 2},
    {"no_consent", PACING_EVF_NO_CONSENT, 2},
    {"no_response", PACING_EVF_NO_RESPONSE, 0},
    {"opted_out", PACING_REQ_OPTED_OUT, 1},
};
#define N_FLAG_NAMES (sizeof flag_names / sizeof flag_names[0])

int tl_parse_flags(const char *s, int decide, uint32_t *out)
{
    uint32_t f = 0;
    while (*s) {
        const char *end = strchr(s, '|');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        size_t k;
        for (k = 0; k < N_FLAG_NAMES; k++)
            if (strlen(flag_names[k].name) == n && !strncmp(flag_names[k].name, s, n) &&
                (flag_names[k].decide == 2 || flag_names[k].decide == decide))
                break;
        if (k == N_FLAG_NAMES)
            return -1;
        f |= flag_names[k].bit;
        s += n;
        if (*s == '|')
            s++;
    }
    *out = f;
    return 0;
}

void tl_fmt_flags(char *buf, size_t len, uint32_t flags, int decide)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t k = 0; k < N_FLAG_NAMES; k++) {
        if (!(flags & flag_names[k].bit) ||
            !(flag_names[k].decide == 2 || flag_names[k].decide == decide))
            continue;
        int w = snprintf(buf + at, len - at, "%s%s", at ? "|" : "", flag_names[k].name);
        if (w < 0 || (size_t)w >= len - at)
            return;
        at += (size_t)w;
    }
}

static const struct {
    uint32_t bit;
    const char *name;
} reason_names[] = {
    {PACING_DR_EXPLORED, "explored"},       {PACING_DR_EXPLOITED, "exploited"},
    {PACING_DR_INELIGIBLE, "ineligible"},   {PACING_DR_RECOVERING, "recovering"},
    {PACING_DR_NO_USER, "no_user"},         {PACING_DR_PENDING_FULL, "pending_full"},
    {PACING_DR_VETOED, "vetoed"},           {PACING_DR_SAFE, "safe"},
    {PACING_DR_MORE_VETOES, "more_vetoes"},
};

void tl_fmt_reasons(char *buf, size_t len, uint32_t reasons)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t k = 0; k < sizeof reason_names / sizeof reason_names[0]; k++) {
        if (!(reasons & reason_names[k].bit))
            continue;
        int w = snprintf(buf + at, len - at, "%s%s", at ? "|" : "", reason_names[k].name);
        if (w < 0 || (size_t)w >= len - at)
            return;
        at += (size_t)w;
    }
}

/* ------------------------------------------------------------------ */
/* The row engine                                                      */
/* ------------------------------------------------------------------ */

void tl_write_events_header(FILE *f)
{
    fputs("time_ms,user,type,value,target,channel,flags\n", f);
}

static void write_row(FILE *f, const tl_config *cfg, const tl_row *r)
{
    char user[1100], num[40], flags[64];
    size_t n = r->user_len < sizeof user - 1 ? r->user_len : sizeof user - 1;
    memcpy(user, r->user, n);
    user[n] = 0;
    fprintf(f, "%" PRId64 ",", r->t);
    tl_csv_field(f, user);
    tl_fmt_flags(flags, sizeof flags, r->flags, r->decide);
    if (r->decide) {
        fprintf(f, ",decide:%s,,,%u,%s\n", cfg->points[r->point].name, r->channel,
                flags);
    } else {
        tl_fmt_double(num, sizeof num, r->value);
        const char *tn = pacing_event_type_name((int)r->type);
        fprintf(f, ",%s,%s,%" PRIu64 ",%u,%s\n", tn ? tn : "?", num, r->target,
                r->channel, flags);
    }
}

int tl_engine_init(tl_engine *e, tl_config *cfg, FILE *rows_out)
{
    memset(e, 0, sizeof *e);
    e->cfg = cfg;
    e->rows_out = rows_out;
    for (int i = 0; i < 64; i++)
        e->ones[i] = 1.0;
    e->action_count = calloc((size_t)(cfg->n_points ? cfg->n_points : 1) * 64,
                             sizeof *e->action_count);
    e->map_cap = 1024;
    e->map_key = calloc(e->map_cap, sizeof *e->map_key);
    e->map_val = calloc(e->map_cap, sizeof *e->map_val);
    if (!e->action_count || !e->map_key || !e->map_val) {
        tl_engine_free(e);
        return PACING_E_NOMEM;
    }
    return PACING_OK;
}

void tl_engine_free(tl_engine *e)
{
    for (size_t i = 0; i < e->n_dec; i++)
        free(e->dec[i].user);
    free(e->dec);
    free(e->map_key);
    free(e->map_val);
    free(e->action_count);
    memset(e, 0, sizeof *e);
}

static size_t map_slot(const tl_engine *e, uint64_t id)
{
    return (size_t)(splitmix(id) & (e->map_cap - 1));
}

static int map_put(tl_engine *e, uint64_t id, size_t idx)
{
    if ((e->map_n + 1) * 2 > e->map_cap) {
        size_t cap = e->map_cap * 2;
        uint64_t *k = calloc(cap, sizeof *k);
        size_t *v = calloc(cap, sizeof *v);
        if (!k || !v) {
            free(k);
            free(v);
            return -1;
        }
        uint64_t *ok = e->map_key;
        size_t *ov = e->map_val, ocap = e->map_cap;
        e->map_key = k;
        e->map_val = v;
        e->map_cap = cap;
        e->map_n = 0;
        for (size_t i = 0; i < ocap; i++)
            if (ok[i])
                map_put(e, ok[i], ov[i]);
        free(ok);
        free(ov);
    }
    size_t s = map_slot(e, id);
    while (e->map_key[s] && e->map_key[s] != id)
        s = (s + 1) & (e->map_cap - 1);
    if (!e->map_key[s])
        e->map_n++;
    e->map_key[s] = id;
    e->map_val[s] = idx;
    return 0;
}

static int map_get(const tl_engine *e, uint64_t id, size_t *idx)
{
    size_t s = map_slot(e, id);
    while (e->map_key[s]) {
        if (e->map_key[s] == id) {
            *idx = e->map_val[s];
            return 1;
        }
        s = (s + 1) & (e->map_cap - 1);
    }
    return 0;
}

static int on_log(void *opaque, const pacing_log_entry *le)
{
    tl_engine *e = opaque;
    size_t idx;
    if (le->id == 0 || !map_get(e, le->id, &idx))
        return 0;
    if (le->outcome == PACING_OUT_REWARDED || le->outcome == PACING_OUT_IMPLICIT ||
        le->outcome == PACING_OUT_DEFAULT) {
        e->dec[idx].has_reward = 1;
        e->dec[idx].reward = le->reward;
    }
    return 0;
}

static void collect_log(tl_engine *e)
{
    uint64_t dropped = 0;
    pacing_log_read(e->cfg->ctx, on_log, e, &dropped);
    e->log_dropped += dropped;
    e->since_log = 0;
}

static int record(tl_engine *e, const tl_row *r, const pacing_decision *d,
                  int32_t failed)
{
    if (e->n_dec == e->cap_dec) {
        size_t cap = e->cap_dec ? e->cap_dec * 2 : 1024;
        tl_dec *nd = realloc(e->dec, cap * sizeof *nd);
        if (!nd)
            return -1;
        e->dec = nd;
        e->cap_dec = cap;
    }
    tl_dec *x = &e->dec[e->n_dec];
    memset(x, 0, sizeof *x);
    x->user = malloc(r->user_len + 1);
    if (!x->user)
        return -1;
    memcpy(x->user, r->user, r->user_len);
    x->user[r->user_len] = 0;
    x->t = r->t;
    x->point = r->point;
    if (failed) {
        x->action = failed;
    } else {
        x->action = (int32_t)d->action;
        x->propensity = d->propensity;
        x->id = d->id;
        x->reasons = d->reasons;
        if (d->id && map_put(e, d->id, e->n_dec) != 0) {
            free(x->user);
            return -1;
        }
    }
    e->n_dec++;
    return 0;
}

int tl_engine_apply(tl_engine *e, const tl_row *r, pacing_decision *d)
{
    pacing_ctx *ctx = e->cfg->ctx;
    if (e->rows_out)
        write_row(e->rows_out, e->cfg, r);
    e->rows++;
    int64_t sec = r->t >= 0 ? r->t / TL_SETTLE_MS : -1;
    if (!e->started || sec > e->sec) {
        if (r->t >= 0 && r->t <= ((int64_t)1 << 53))
            pacing_settle(ctx, r->t, NULL);
        e->started = 1;
        e->sec = sec;
        collect_log(e);
    } else if (e->since_log >= 512) {
        collect_log(e);
    }
    if (r->t > e->last_t)
        e->last_t = r->t;
    if (!r->decide) {
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = r->type;
        ev.flags = r->flags;
        ev.user = r->user;
        ev.user_len = r->user_len;
        ev.time_ms = r->t;
        ev.value = r->value;
        ev.target = r->target;
        ev.channel = r->channel;
        e->events++;
        int rc = pacing_push(ctx, &ev);
        if (rc == PACING_OK)
            e->events_applied++;
        else if (rc == PACING_DROPPED)
            e->events_dropped++;
        else
            e->events_rejected++;
        return rc;
    }
    const tl_point *p = &e->cfg->points[r->point];
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = r->point;
    rq.flags = r->flags;
    rq.user = r->user;
    rq.user_len = r->user_len;
    rq.now_ms = r->t;
    rq.context = p->context_dim ? e->ones : NULL;
    rq.context_len = p->context_dim;
    rq.channel = r->channel;
    rq.utc_offset_min = r->utc_offset_min;
    pacing_decision dd = PACING_DECISION_INIT;
    int rc = pacing_decide(ctx, &rq, &dd);
    int32_t failed = rc == PACING_OK ? 0 : rc == PACING_E_VETOED ? -1 : -2;
    if (record(e, r, &dd, failed) != 0) {
        e->oom = 1;
        return PACING_E_NOMEM;
    }
    if (rc != PACING_OK) {
        if (rc == PACING_E_VETOED)
            e->all_vetoed++;
        else
            e->decide_rejected++;
        return rc;
    }
    e->decisions++;
    e->since_log++;
    e->action_count[(size_t)r->point * 64 + dd.action]++;
    if (dd.reasons & PACING_DR_SAFE)
        e->safe++;
    if (dd.reasons & PACING_DR_MORE_VETOES)
        e->more_vetoes++;
    uint64_t v = 0, dl = 0;
    for (uint32_t i = 0; i < dd.n_vetoes && i < 4; i++) {
        uint32_t rule = dd.vetoes[i].rule;
        if (rule >= TL_MAX_RULES)
            continue;
        if (dd.vetoes[i].verdict == PACING_DELAY)
            dl |= 1ULL << rule;
        else
            v |= 1ULL << rule;
    }
    for (uint32_t k = 0; k < TL_MAX_RULES; k++) {
        if (v & (1ULL << k))
            e->vetoes[k]++;
        if (dl & (1ULL << k))
            e->delays[k]++;
    }
    if (d)
        *d = dd;
    return PACING_OK;
}

void tl_engine_finish(tl_engine *e)
{
    if (!e->started)
        return;
    /* The log ended: close every attribution window. Settle 1, 2, 4, ...
     * minutes after the last row until nothing is pending (at most about
     * a year later), so that rewards are stamped near when their windows
     * really end. */
    const int64_t max_t = (int64_t)1 << 53;
    for (int64_t step = TL_SETTLE_MS; step <= 512LL * 86400000LL; step *= 2) {
        pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
        if (pacing_decision_stats_get(e->cfg->ctx, &ds) != PACING_OK || ds.pending == 0)
            break;
        int64_t t = e->last_t > max_t - step ? max_t : e->last_t + step;
        if (t < 0)
            break;
        pacing_settle(e->cfg->ctx, t, NULL);
        collect_log(e);
        if (t == max_t)
            break;
    }
    collect_log(e);
}

int tl_engine_write_decisions(const tl_engine *e, FILE *f)
{
    fputs("time_ms,user,point,action,propensity,decision_id,reasons,reward\n", f);
    char num[40], reasons[160], rw[40];
    for (size_t i = 0; i < e->n_dec; i++) {
        const tl_dec *x = &e->dec[i];
        const tl_point *p = &e->cfg->points[x->point];
        fprintf(f, "%" PRId64 ",", x->t);
        tl_csv_field(f, x->user);
        if (x->action < 0) {
            fprintf(f, ",%s,,,0,%s,\n", p->name,
                    x->action == -1 ? "all_vetoed" : "rejected");
            continue;
        }
        tl_fmt_double(num, sizeof num, x->propensity);
        tl_fmt_reasons(reasons, sizeof reasons, x->reasons);
        rw[0] = 0;
        if (x->has_reward)
            tl_fmt_double(rw, sizeof rw, x->reward);
        fprintf(f, ",%s,%s,%s,%" PRIu64 ",%s,%s\n", p->name,
                p->actions[x->action], num, x->id, reasons, rw);
    }
    fflush(f);
    return ferror(f) ? -1 : 0;
}
