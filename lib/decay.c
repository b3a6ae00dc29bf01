/* Decay modules: named curves w(age) used wherever past events are weighted
 * by their age with a configurable shape. Built-ins are registered in every
 * new context; callers add their own with pacing_decay_register(). */
#include "internal.h"
#include "fastexp.h"

#include <math.h>
#include <string.h>

static double w_exponential(const double p[4], double age)
{
    return pc_exp(-PACING_LN2 * age / p[0]);
}
static int c_exponential(const double p[4])
{
    return !(isfinite(p[0]) && p[0] > 0.0);
}

static double w_linear(const double p[4], double age)
{
    double w = 1.0 - age / p[0];
    return w > 0.0 ? w : 0.0;
}
static int c_linear(const double p[4]) { return !(isfinite(p[0]) && p[0] > 0.0); }

static double w_power_law(const double p[4], double age)
{
    return pow(1.0 + age / p[0], -p[1]);
}
static int c_power_law(const double p[4])
{
    return !(isfinite(p[0]) && p[0] > 0.0 && isfinite(p[1]) && p[1] > 0.0 &&
             p[1] <= 100.0);
}

static const pc_decay builtins[] = {
    {"exponential", w_exponential, c_exponential, {120000.0, 0, 0, 0}},
    {"linear", w_linear, c_linear, {600000.0, 0, 0, 0}},
    {"power_law", w_power_law, c_power_law, {60000.0, 1.5, 0, 0}},
};

void pc_decay_builtins(pacing_ctx *ctx)
{
    size_t n = sizeof builtins / sizeof builtins[0];
    memcpy(ctx->decay, builtins, sizeof builtins);
    ctx->n_decay = (uint32_t)n;
    ctx->expo_decay = 0;
    memcpy(ctx->expo_decay_params, builtins[0].default_params,
           sizeof ctx->expo_decay_params);
}

double pc_decay_weight(const pc_decay *d, const double params[4], double age)
{
    double w = d->weight(params, age);
    if (!(w >= 0.0)) /* also NaN from a custom module */
        return 0.0;
    return w > 1.0 ? 1.0 : w;
}

const pc_decay *pc_decay_find(const pacing_ctx *ctx, const char *name)
{
    for (uint32_t i = 0; i < ctx->n_decay; i++)
        if (strcmp(ctx->decay[i].name, name) == 0)
            return &ctx->decay[i];
    return NULL;
}

/* Checks parameters: finite, then the module's own check. */
static int check_params(const pacing_ctx *ctx, const pc_decay *d,
                        const double p[4])
{
    for (int i = 0; i < 4; i++)
        if (!isfinite(p[i]))
            return pc_fail(ctx, PACING_E_NAN,
                           "decay '%s': parameter %d is not finite", d->name, i);
    if (d->check && d->check(p) != 0)
        return pc_fail(ctx, PACING_E_RANGE,
                       "decay '%s': parameters rejected (%g, %g, %g, %g)",
                       d->name, p[0], p[1], p[2], p[3]);
    return PACING_OK;
}

PACING_API int pacing_decay_register(pacing_ctx *ctx,
                                     const pacing_decay_module *m)
{
    if (!ctx || !m)
        return pc_fail(ctx, PACING_E_NULL, "decay_register: NULL argument");
    if (m->size != sizeof(pacing_decay_module))
        return pc_fail(ctx, PACING_E_SIZE,
                       "decay_register: module size %zu, expected %zu", m->size,
                       sizeof(pacing_decay_module));
    if (!m->name || !pc_valid_name(m->name))
        return pc_fail(ctx, PACING_E_INVAL,
                       "decay_register: name must be 1..31 chars of [a-z0-9_]");
    if (!m->weight)
        return pc_fail(ctx, PACING_E_INVAL,
                       "decay_register: '%s' has no weight function", m->name);
    if (pc_decay_find(ctx, m->name))
        return pc_fail(ctx, PACING_E_EXISTS,
                       "decay_register: '%s' is already registered", m->name);
    if (ctx->n_decay >= PACING_MAX_DECAY_MODULES)
        return pc_fail(ctx, PACING_E_FULL,
                       "decay_register: at most %d decay modules",
                       PACING_MAX_DECAY_MODULES);
    pc_decay d;
    memset(&d, 0, sizeof d);
    strcpy(d.name, m->name);
    d.weight = m->weight;
    d.check = m->check;
    memcpy(d.default_params, m->default_params, sizeof d.default_params);
    int rc = check_params(ctx, &d, d.default_params);
    if (rc != PACING_OK)
        return rc;
    ctx->decay[ctx->n_decay++] = d;
    return PACING_OK;
}

PACING_API int pacing_decay_eval(const pacing_ctx *ctx, const char *name,
                                 const double *params, double age_ms,
                                 double *out)
{
    if (!ctx || !name || !out)
        return pc_fail(ctx, PACING_E_NULL, "decay_eval: NULL argument");
    const pc_decay *d = pc_decay_find(ctx, name);
    if (!d)
        return pc_fail(ctx, PACING_E_NOTFOUND,
                       "decay_eval: no decay module '%s'", name);
    if (!isfinite(age_ms))
        return pc_fail(ctx, PACING_E_NAN, "decay_eval: age is not finite");
    if (age_ms < 0)
        return pc_fail(ctx, PACING_E_RANGE, "decay_eval: negative age %g",
                       age_ms);
    const double *p = params ? params : d->default_params;
    int rc = check_params(ctx, d, p);
    if (rc != PACING_OK)
        return rc;
    *out = d->weight(p, age_ms);
    return PACING_OK;
}

PACING_API int pacing_exposure_decay_set(pacing_ctx *ctx, const char *name,
                                         const double *params)
{
    if (!ctx || !name)
        return pc_fail(ctx, PACING_E_NULL, "exposure_decay_set: NULL argument");
    const pc_decay *d = pc_decay_find(ctx, name);
    if (!d)
        return pc_fail(ctx, PACING_E_NOTFOUND,
                       "exposure_decay_set: no decay module '%s'", name);
    const double *p = params ? params : d->default_params;
    int rc = check_params(ctx, d, p);
    if (rc != PACING_OK)
        return rc;
    ctx->expo_decay = (uint32_t)(d - ctx->decay);
    memcpy(ctx->expo_decay_params, p, sizeof ctx->expo_decay_params);
    return PACING_OK;
}
