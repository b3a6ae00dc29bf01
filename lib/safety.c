/* Safety rules: modules (built-in and registered), rule instances, the
 * view a rule sees, and explanations. The decision path that applies them
 * is in decide.c: every rule that applies to a point checks every eligible
 * showing action before the policy samples; an action vetoed or delayed by
 * any rule sleeps for that decision. docs/safety.md states the semantics. */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the view ---- */

void pc_rule_view_user(const pacing_ctx *ctx, const pc_user *u, int64_t now,
                       pacing_rule_view *v)
{
    v->last_error_ms = v->form_started_ms = v->session_start_ms = -1;
    if (!u)
        return;
    const pc_features *f = &u->feat;
    v->has_user = 1;
    v->last_error_ms = u->last_error_ms;
    v->form_started_ms = u->form_started_ms;
    if (u->flags & USER_IN_SESSION)
        v->session_start_ms = u->session_start_ms;
    v->session_exposures = u->session_exposures;
    v->n_exposures = f->n_expo;
    for (int i = 0; i < f->n_expo; i++) {
        v->exposure_ms[i] = f->expo[i];
        v->exposure_point[i] = f->expo_point[i] ? f->expo_point[i] - 1u : UINT32_MAX;
        v->exposure_channel[i] = f->expo_channel[i];
    }
    uint32_t wc[N_WIN];
    pc_features_window_counts(f, now, wc);
    v->exposures_1m = wc[WIN_MINUTE];
    v->exposures_1h = wc[WIN_HOUR];
    v->exposures_1d = wc[WIN_DAY];
    (void)ctx;
}

/* Exposures in scope: same point and/or channel as the proposal. */
static bool in_scope(const pacing_rule_view *v, int i, double same_point,
                     double same_channel)
{
    if (same_point != 0.0 && v->exposure_point[i] != v->point)
        return false;
    if (same_channel != 0.0 && v->exposure_channel[i] != v->channel)
        return false;
    return true;
}

static void delay(pacing_rule_result *r, uint32_t reason, int64_t retry,
                  double d0, double d1)
{
    r->verdict = PACING_DELAY;
    r->reason = reason;
    r->retry_after_ms = retry;
    r->detail[0] = d0;
    r->detail[1] = d1;
}

static void veto(pacing_rule_result *r, uint32_t reason, double d0, double d1)
{
    r->verdict = PACING_VETO;
    r->reason = reason;
    r->detail[0] = d0;
    r->detail[1] = d1;
}

/* Seconds, as "12.3 s", "5 min", "2 h". */
static void fmt_dur(char *b, size_t n, double ms)
{
    if (ms < 60000) /* exact to the ms: 19.999 s must not read as 20 s */
        snprintf(b, n, "%.6g s", ms / 1000.0);
    else if (ms < 3600000)
        snprintf(b, n, "%.3g min", ms / 60000.0);
    else if (ms < 86400000)
        snprintf(b, n, "%.3g h", ms / 3600000.0);
    else
        snprintf(b, n, "%.3g d", ms / 86400000.0);
}

/* frequency_cap {max, window_ms, same_point, same_channel} */
static int r_cap(void *o, const double *p, const pacing_rule_view *v,
                 pacing_rule_result *r)
{
    (void)o;
    double max = p[0], win = p[1];
    uint32_t count = 0;
    int64_t oldest_in = -1;
    int idx[8], m = 0;
    for (int i = 0; i < (int)v->n_exposures; i++)
        if (v->exposure_ms[i] > v->now_ms - win && v->exposure_ms[i] <= v->now_ms &&
            in_scope(v, i, p[2], p[3]))
            idx[m++] = i;
    count = (uint32_t)m;
    if (p[2] == 0.0 && p[3] == 0.0) { /* every point and channel */
        uint32_t b = win == 60000 ? v->exposures_1m
                   : win == 3600000 ? v->exposures_1h
                   : win == 86400000 ? v->exposures_1d : 0;
        if (b > count)
            count = b;
    }
    if ((double)count < max)
        return 0;
    /* ask again when count - max + 1 exposures have left the window. The
     * count - m oldest are not in the ring and leave first, so the last one
     * that must leave is the ring's (m - max)-th in-window exposure. When
     * that index is negative the ones to wait for are older than the ring:
     * the ring's oldest leaving is then an upper bound. */
    int64_t retry = v->now_ms + (int64_t)ceil(win);
    if (m > 0) {
        int k = m - (int)max;
        oldest_in = v->exposure_ms[idx[k >= 0 ? k : 0]];
        retry = oldest_in + (int64_t)ceil(win);
    }
    delay(r, 1, retry, count, max);
    return 0;
}

static void e_cap(void *o, const double *p, const pacing_veto *x, char *b, size_t n)
{
    (void)o;
    char w[32];
    fmt_dur(w, sizeof w, p[1]);
    snprintf(b, n, "frequency_cap allows %g per %s%s, %g shown", p[0], w,
             p[2] != 0.0 ? " here" : "", x->detail[0]);
}

/* min_gap {gap_ms, same_point, same_channel} */
static int r_gap(void *o, const double *p, const pacing_rule_view *v,
                 pacing_rule_result *r)
{
    (void)o;
    int64_t last = -1;
    for (int i = 0; i < (int)v->n_exposures; i++)
        if (v->exposure_ms[i] <= v->now_ms && in_scope(v, i, p[1], p[2]))
            last = v->exposure_ms[i];
    if (last < 0)
        return 0;
    double since = (double)(v->now_ms - last);
    if (since >= p[0])
        return 0;
    delay(r, 1, last + (int64_t)ceil(p[0]), p[0], since);
    return 0;
}

static void e_gap(void *o, const double *p, const pacing_veto *x, char *b, size_t n)
{
    (void)o;
    (void)p;
    char need[32], ago[32];
    fmt_dur(need, sizeof need, x->detail[0]);
    fmt_dur(ago, sizeof ago, x->detail[1]);
    snprintf(b, n, "min_gap needs %s, last shown %s ago", need, ago);
}

/* quiet_hours {start_min, end_min, delay} in the user's local time */
static int r_quiet(void *o, const double *p, const pacing_rule_view *v,
                   pacing_rule_result *r)
{
    (void)o;
    int64_t minute = v->now_ms / 60000 + v->utc_offset_min;
    int64_t local = ((minute % 1440) + 1440) % 1440;
    int64_t start = (int64_t)p[0], end = (int64_t)p[1];
    bool quiet = start <= end ? (local >= start && local < end)
                              : (local >= start || local < end);
    if (!quiet)
        return 0;
    int64_t wait_min = ((end - local) % 1440 + 1440) % 1440;
    if (p[2] != 0.0) {
        int64_t next_minute = (v->now_ms / 60000 + wait_min) * 60000;
        delay(r, 1, next_minute, (double)local, (double)end);
    } else {
        veto(r, 1, (double)local, (double)end);
    }
    return 0;
}

static void e_quiet(void *o, const double *p, const pacing_veto *x, char *b, size_t n)
{
    (void)o;
    int s = (int)p[0], e = (int)p[1], l = (int)x->detail[0];
    snprintf(b, n, "quiet hours %02d:%02d-%02d:%02d (local time %02d:%02d)",
             s / 60, s % 60, e / 60, e % 60, l / 60, l % 60);
}

/* ceilings {max, delay_ms}: veto, or delay by delay_ms when it is > 0 */
static int ceiling(const double *p, double value, const pacing_rule_view *v,
                   pacing_rule_result *r)
{
    if (value <= p[0])
        return 0;
    if (p[1] > 0.0)
        delay(r, 1, v->now_ms + (int64_t)ceil(p[1]), value, p[0]);
    else
        veto(r, 1, value, p[0]);
    return 0;
}
static int r_fatigue(void *o, const double *p, const pacing_rule_view *v,
                     pacing_rule_result *r)
{
    (void)o;
    return ceiling(p, v->fatigue, v, r);
}
static int r_load(void *o, const double *p, const pacing_rule_view *v,
                  pacing_rule_result *r)
{
    (void)o;
    return ceiling(p, v->cognitive_load, v, r);
}
static int r_dropoff(void *o, const double *p, const pacing_rule_view *v,
                     pacing_rule_result *r)
{
    (void)o;
    return ceiling(p, v->drop_off_risk, v, r);
}
static void e_fatigue(void *o, const double *p, const pacing_veto *x, char *b, size_t n)
{
    (void)o;
    (void)p;
    snprintf(b, n, "fatigue %.2f above %.2f", x->detail[0], x->detail[1]);
}
static void e_load(void *o, const double *p, const pacing_veto *x, char *b, size_t n)
{
    (void)o;
    (void)p;
    snprintf(b, n, "cognitive load %.2f above %.2f", x->detail[0], x->detail[1]);
}
static void e_dropoff(void *o, const double *p, const pacing_veto *x, char *b, size_t n)
{
    (void)o;
    (void)p;
    snprintf(b, n, "drop-off risk %.2f above %.2f", x->detail[0], x->detail[1]);
}

/* session_budget {max} exposures per session */
static int r_budget(void *o, const double *p, const pacing_rule_view *v,
                    pacing_rule_result *r)
{
    (void)o;
    if (v->session_start_ms >= 0 && (double)v->session_exposures >= p[0])
        veto(r, 1, v->session_exposures, p[0]);
    return 0;
}
static void e_budget(void *o, const double *p, const pacing_veto *x, char *b, size_t n)
{
    (void)o;
    (void)p;
    snprintf(b, n, "session budget of %g prompts used (%g shown)", x->detail[1],
             x->detail[0]);
}

/* sensitive_state {after_error_ms, form_ms}: no prompts right after an
 * error, nor while a form is in progress (for at most form_ms) */
static int r_sensitive(void *o, const double *p, const pacing_rule_view *v,
                       pacing_rule_result *r)
{
    (void)o;
    int64_t now = v->now_ms;
    if (v->last_error_ms >= 0 && v->last_error_ms <= now &&
        (double)(now - v->last_error_ms) < p[0]) {
        delay(r, 1, v->last_error_ms + (int64_t)ceil(p[0]), p[0],
              (double)(now - v->last_error_ms));
        return 0;
    }
    if (v->form_started_ms >= 0 && v->form_started_ms <= now &&
        (double)(now - v->form_started_ms) < p[1])
        delay(r, 2, v->form_started_ms + (int64_t)ceil(p[1]), p[1],
              (double)(now - v->form_started_ms));
    return 0;
}
static void e_sensitive(void *o, const double *p, const pacing_veto *x, char *b,
                        size_t n)
{
    (void)o;
    (void)p;
    char ago[32];
    fmt_dur(ago, sizeof ago, x->detail[1]);
    if (x->reason == 1)
        snprintf(b, n, "sensitive moment: an error %s ago", ago);
    else
        snprintf(b, n, "sensitive moment: a form in progress for %s", ago);
}

static int r_consent(void *o, const double *p, const pacing_rule_view *v,
                     pacing_rule_result *r)
{
    (void)o;
    (void)p;
    if (!(v->request_flags & PACING_REQ_CONSENT))
        veto(r, 1, 0, 0);
    return 0;
}
static void e_consent(void *o, const double *p, const pacing_veto *x, char *b, size_t n)
{
    (void)o;
    (void)p;
    (void)x;
    snprintf(b, n, "no consent");
}

static int r_optout(void *o, const double *p, const pacing_rule_view *v,
                    pacing_rule_result *r)
{
    (void)o;
    (void)p;
    if (v->request_flags & PACING_REQ_OPTED_OUT)
        veto(r, 1, 0, 0);
    return 0;
}
static void e_optout(void *o, const double *p, const pacing_veto *x, char *b, size_t n)
{
    (void)o;
    (void)p;
    (void)x;
    snprintf(b, n, "the user opted out");
}

/* ---- the built-in table: names, defaults and ranges ---- */

#define DAY_MS 86400000.0
#define YEAR_MS (366.0 * DAY_MS)

typedef struct {
    const char *name;
    int (*check)(void *, const double *, const pacing_rule_view *,
                 pacing_rule_result *);
    void (*explain)(void *, const double *, const pacing_veto *, char *, size_t);
    uint32_t n;
    struct {
        const char *name;
        double def, lo, hi;
    } p[4];
} builtin_rule;

static const builtin_rule builtins[] = {
    {"frequency_cap", r_cap, e_cap, 4,
     {{"max", 3, 1, 1e6}, {"window_ms", 3600000, 1, YEAR_MS},
      {"same_point", 1, 0, 1}, {"same_channel", 0, 0, 1}}},
    {"min_gap", r_gap, e_gap, 3,
     {{"gap_ms", 20000, 1, YEAR_MS}, {"same_point", 0, 0, 1},
      {"same_channel", 0, 0, 1}}},
    {"quiet_hours", r_quiet, e_quiet, 3,
     {{"start_min", 1320, 0, 1439}, {"end_min", 420, 0, 1439}, {"delay", 1, 0, 1}}},
    {"fatigue_ceiling", r_fatigue, e_fatigue, 2,
     {{"max", 0.7, 0, 1}, {"delay_ms", 0, 0, YEAR_MS}}},
    {"load_ceiling", r_load, e_load, 2,
     {{"max", 0.7, 0, 1}, {"delay_ms", 0, 0, YEAR_MS}}},
    {"dropoff_ceiling", r_dropoff, e_dropoff, 2,
     {{"max", 0.8, 0, 1}, {"delay_ms", 0, 0, YEAR_MS}}},
    {"session_budget", r_budget, e_budget, 1, {{"max", 3, 0, 1e6}}},
    {"sensitive_state", r_sensitive, e_sensitive, 2,
     {{"after_error_ms", 30000, 0, YEAR_MS}, {"form_ms", 600000, 0, YEAR_MS}}},
    {"consent", r_consent, e_consent, 0, {{0}}},
    {"opt_out", r_optout, e_optout, 0, {{0}}},
};

/* Scoped frequency caps count only the exposures a user's ring keeps. */
static int v_cap(const double *p, char *why, size_t n)
{
    bool standard = p[1] == 60000 || p[1] == 3600000 || p[1] == 86400000;
    if (p[0] > 8 && (p[2] != 0.0 || p[3] != 0.0 || !standard)) {
        snprintf(why, n, "frequency_cap: max %g > 8 needs same_point 0, "
                 "same_channel 0 and a window of 1 min, 1 h or 1 d", p[0]);
        return -1;
    }
    return 0;
}

void pc_rule_builtins(pacing_ctx *ctx)
{
    size_t n = sizeof builtins / sizeof builtins[0];
    for (size_t i = 0; i < n; i++) {
        pc_rule_mod *m = &ctx->rule_mods[i];
        memset(m, 0, sizeof *m);
        strcpy(m->name, builtins[i].name);
        m->check = builtins[i].check;
        m->explain = builtins[i].explain;
        m->n_params = builtins[i].n;
        for (uint32_t k = 0; k < builtins[i].n; k++) {
            strcpy(m->param_names[k], builtins[i].p[k].name);
            m->param_defaults[k] = builtins[i].p[k].def;
            m->param_lo[k] = builtins[i].p[k].lo;
            m->param_hi[k] = builtins[i].p[k].hi;
        }
        if (strcmp(m->name, "frequency_cap") == 0)
            m->validate = v_cap;
        m->validate_bool = 1;
        m->same_for_all_actions = 1; /* no built-in reads v->action */
    }
    ctx->n_rule_mods = (uint32_t)n;
}

static const pc_rule_mod *find_mod(const pacing_ctx *ctx, const char *name)
{
    for (uint32_t i = 0; i < ctx->n_rule_mods; i++)
        if (strcmp(ctx->rule_mods[i].name, name) == 0)
            return &ctx->rule_mods[i];
    return NULL;
}

PACING_API int pacing_rule_register(pacing_ctx *ctx, const pacing_rule_module *m)
{
    if (!ctx || !m)
        return pc_fail(ctx, PACING_E_NULL, "rule_register: NULL argument");
    if (m->size != sizeof(pacing_rule_module))
        return pc_fail(ctx, PACING_E_SIZE, "rule_register: module size %zu, expected %zu",
                       m->size, sizeof(pacing_rule_module));
    if (!m->name || !pc_valid_name(m->name))
        return pc_fail(ctx, PACING_E_INVAL,
                       "rule_register: name must be 1..31 chars of [a-z0-9_]");
    if (!m->check)
        return pc_fail(ctx, PACING_E_INVAL, "rule_register: '%s' has no check function",
                       m->name);
    if (m->n_params > PACING_MAX_RULE_PARAMS)
        return pc_fail(ctx, PACING_E_INVAL, "rule_register: '%s' has %u parameters, at most %d",
                       m->name, m->n_params, PACING_MAX_RULE_PARAMS);
    if (m->n_params && (!m->param_names || !m->param_defaults))
        return pc_fail(ctx, PACING_E_NULL,
                       "rule_register: '%s': param_names or param_defaults is NULL",
                       m->name);
    for (uint32_t k = 0; k < m->n_params; k++) {
        if (!m->param_names[k] || !pc_valid_name(m->param_names[k]))
            return pc_fail(ctx, PACING_E_INVAL,
                           "rule_register: '%s': parameter %u name must be 1..31 "
                           "chars of [a-z0-9_]", m->name, k);
        for (uint32_t j = 0; j < k; j++)
            if (strcmp(m->param_names[j], m->param_names[k]) == 0)
                return pc_fail(ctx, PACING_E_INVAL,
                               "rule_register: '%s': parameter '%s' appears twice",
                               m->name, m->param_names[k]);
        if (!isfinite(m->param_defaults[k]))
            return pc_fail(ctx, PACING_E_NAN,
                           "rule_register: '%s': default of '%s' is not finite",
                           m->name, m->param_names[k]);
    }
    if (find_mod(ctx, m->name))
        return pc_fail(ctx, PACING_E_EXISTS, "rule_register: '%s' is already registered",
                       m->name);
    if (ctx->n_rule_mods >= PACING_MAX_RULE_MODULES)
        return pc_fail(ctx, PACING_E_FULL, "rule_register: at most %d rule modules",
                       PACING_MAX_RULE_MODULES);
    pc_rule_mod *r = &ctx->rule_mods[ctx->n_rule_mods++];
    memset(r, 0, sizeof *r);
    strcpy(r->name, m->name);
    r->n_params = m->n_params;
    for (uint32_t k = 0; k < m->n_params; k++) {
        strcpy(r->param_names[k], m->param_names[k]);
        r->param_defaults[k] = m->param_defaults[k];
        r->param_lo[k] = -INFINITY;
        r->param_hi[k] = INFINITY;
    }
    r->check = m->check;
    r->explain = m->explain;
    r->opaque = m->opaque;
    return PACING_OK;
}

PACING_API int pacing_rule_add(pacing_ctx *ctx, const pacing_rule_spec *sp,
                               uint32_t *rule_id)
{
    if (!ctx || !sp)
        return pc_fail(ctx, PACING_E_NULL, "rule_add: NULL argument");
    if (sp->size != sizeof(pacing_rule_spec))
        return pc_fail(ctx, PACING_E_SIZE, "rule_add: spec size %zu, expected %zu",
                       sp->size, sizeof(pacing_rule_spec));
    if (!sp->module)
        return pc_fail(ctx, PACING_E_NULL, "rule_add: module is NULL");
    const pc_rule_mod *m = find_mod(ctx, sp->module);
    if (!m)
        return pc_fail(ctx, PACING_E_NOTFOUND, "rule_add: no rule module '%s'",
                       sp->module);
    if (sp->reserved0 != 0)
        return pc_fail(ctx, PACING_E_INVAL, "rule_add %s: reserved0 must be 0", m->name);
    int32_t point = -1;
    if (sp->point) {
        uint32_t id;
        if (pacing_point_find(ctx, sp->point, &id) != PACING_OK)
            return pc_fail(ctx, PACING_E_NOTFOUND, "rule_add %s: no point '%s'",
                           m->name, sp->point);
        point = (int32_t)id;
    }
    pc_rule r;
    memset(&r, 0, sizeof r);
    r.mod = (uint32_t)(m - ctx->rule_mods);
    r.point = point;
    memcpy(r.params, m->param_defaults, sizeof r.params);
    if (sp->n_params && !sp->params)
        return pc_fail(ctx, PACING_E_NULL, "rule_add %s: params is NULL", m->name);
    for (uint32_t j = 0; j < sp->n_params; j++) {
        const pacing_param *pp = &sp->params[j];
        if (!pp->name)
            return pc_fail(ctx, PACING_E_NULL, "rule_add %s: params[%u].name is NULL",
                           m->name, j);
        uint32_t k = 0;
        while (k < m->n_params && strcmp(m->param_names[k], pp->name) != 0)
            k++;
        if (k == m->n_params)
            return pc_fail(ctx, PACING_E_INVAL, "rule_add %s: no parameter '%s'",
                           m->name, pp->name);
        if (!isfinite(pp->value))
            return pc_fail(ctx, PACING_E_NAN, "rule_add %s: %s is not finite",
                           m->name, pp->name);
        if (pp->value < m->param_lo[k] || pp->value > m->param_hi[k])
            return pc_fail(ctx, PACING_E_RANGE, "rule_add %s: %s = %g not in [%g, %g]",
                           m->name, pp->name, pp->value, m->param_lo[k],
                           m->param_hi[k]);
        /* the built-ins' switches (same_point, same_channel, delay) are 0 or 1 */
        if (m->validate_bool && (strncmp(pp->name, "same_", 5) == 0 ||
                                 strcmp(pp->name, "delay") == 0) &&
            pp->value != 0.0 && pp->value != 1.0)
            return pc_fail(ctx, PACING_E_RANGE, "rule_add %s: %s = %g must be 0 or 1",
                           m->name, pp->name, pp->value);
        r.params[k] = pp->value;
    }
    char why[160];
    if (m->validate && m->validate(r.params, why, sizeof why) != 0)
        return pc_fail(ctx, PACING_E_RANGE, "rule_add %s", why);
    if (ctx->n_rules >= PACING_MAX_RULE_INSTANCES)
        return pc_fail(ctx, PACING_E_FULL, "rule_add %s: at most %d rules", m->name,
                       PACING_MAX_RULE_INSTANCES);
    ctx->rules[ctx->n_rules] = r;
    if (rule_id)
        *rule_id = ctx->n_rules;
    ctx->n_rules++;
    return PACING_OK;
}

/* ---- explanations ---- */

typedef struct {
    char *buf;
    size_t len, need;
} sink;

static void put(sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sink *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = s->need < s->len ? s->len - s->need : 0;
    int n = vsnprintf(room ? s->buf + s->need : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->need += (size_t)n;
}

static void put_input(sink *s, int input)
{
    const char *name = pacing_input_name(input);
    for (const char *c = name; c && *c; c++)
        put(s, "%c", *c == '_' ? ' ' : *c);
}

static void put_score(sink *s, const char *label, double score,
                      const pacing_top_inputs *top)
{
    put(s, "%s %.2f", label, score);
    int shown = 0;
    for (int i = 0; i < 2; i++) {
        if (top->input[i] < 0 || top->share[i] < 0.005)
            continue;
        put(s, shown ? ", " : " (");
        put_input(s, top->input[i]);
        put(s, " %.0f%%", 100.0 * top->share[i]);
        shown = 1;
    }
    if (shown)
        put(s, ")");
}

PACING_API int pacing_explain(const pacing_ctx *ctx, const pacing_decision *d,
                              char *buf, size_t len)
{
    if (!ctx || !d || (len > 0 && !buf))
        return pc_fail(ctx, PACING_E_NULL, "explain: NULL argument");
    if (d->size != sizeof(pacing_decision))
        return pc_fail(ctx, PACING_E_SIZE, "explain: decision size %zu, expected %zu",
                       d->size, sizeof(pacing_decision));
    const char *action = pacing_action_name(ctx, d->point, d->action);
    if (!action || d->n_vetoes > 4)
        return pc_fail(ctx, PACING_E_NOTFOUND, "explain: no point %u action %u",
                       d->point, d->action);
    for (uint32_t i = 0; i < d->n_vetoes; i++)
        if (!pacing_action_name(ctx, d->point, d->vetoes[i].action) ||
            d->vetoes[i].rule >= ctx->n_rules)
            return pc_fail(ctx, PACING_E_NOTFOUND,
                           "explain: veto %u names no rule or action of this "
                           "context", i);
    const char *pname = pc_point_name(ctx, d->point);
    sink s = {buf, len, 0};
    if (len > 0)
        buf[0] = '\0';

    if (d->reasons & PACING_DR_SAFE) {
        bool delayed = false;
        for (uint32_t i = 0; i < d->n_vetoes; i++)
            delayed |= d->vetoes[i].verdict == PACING_DELAY;
        put(&s, "%s %s (%s)", delayed ? "delayed" : "held back", pname, action);
    } else {
        put(&s, "%s: %s (%s, p=%.2f)", pname, action,
            (d->reasons & PACING_DR_EXPLORED) ? "exploring" : "best estimate",
            d->propensity);
    }
    /* each distinct veto once: rule and phrase */
    for (uint32_t i = 0; i < d->n_vetoes; i++) {
        const pacing_veto *v = &d->vetoes[i];
        bool dup = false;
        for (uint32_t j = 0; j < i; j++)
            dup |= d->vetoes[j].rule == v->rule && d->vetoes[j].reason == v->reason;
        if (dup || v->rule >= ctx->n_rules)
            continue;
        const pc_rule *r = &ctx->rules[v->rule];
        const pc_rule_mod *m = &ctx->rule_mods[r->mod];
        char phrase[160];
        phrase[0] = '\0';
        if (m->explain)
            m->explain(m->opaque, r->params, v, phrase, sizeof phrase);
        if (!phrase[0])
            snprintf(phrase, sizeof phrase, "%s %s", m->name,
                     v->verdict == PACING_DELAY ? "asks to wait" : "vetoed");
        put(&s, i == 0 ? ": %s" : "; %s", phrase);
        if (!(d->reasons & PACING_DR_SAFE))
            put(&s, " (not %s)", pacing_action_name(ctx, d->point, v->action));
    }
    if (d->reasons & PACING_DR_MORE_VETOES)
        put(&s, "; more rules objected");
    if (!(d->reasons & PACING_DR_NO_USER)) {
        put(&s, "; ");
        put_score(&s, "fatigue", d->fatigue, &d->fatigue_top);
        if (d->cognitive_load >= 0.05) {
            put(&s, "; ");
            put_score(&s, "load", d->cognitive_load, &d->load_top);
        }
    } else {
        put(&s, "; no personal data used");
    }
    return s.need > (size_t)INT32_MAX ? INT32_MAX : (int)s.need;
}
