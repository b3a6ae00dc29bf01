/* Reward modules: they turn a user's later events into rewards for the
 * decisions that user got. Built-ins are registered in every context;
 * callers add their own with pacing_reward_register(). */
#include "internal.h"

#include <string.h>

/* A conversion ends attribution with reward 1. */
static int rm_conversion(void *o, const pacing_reward_input *in, double *v,
                         int *final)
{
    (void)o;
    if (in->event->type != PACING_EV_CONVERSION)
        return 0;
    *v = 1.0;
    *final = 1;
    return 1;
}

static int rm_micro(void *o, const pacing_reward_input *in, double *v, int *final)
{
    (void)o;
    (void)final;
    if (in->event->type != PACING_EV_MICRO_CONVERSION)
        return 0;
    *v = 1.0;
    return 1;
}

/* Penalties count -1 each; the rule's weight sets their size. */
static int rm_dismiss(void *o, const pacing_reward_input *in, double *v, int *final)
{
    (void)o;
    (void)final;
    if (in->event->type != PACING_EV_DISMISS)
        return 0;
    *v = -1.0;
    return 1;
}

static int rm_rage(void *o, const pacing_reward_input *in, double *v, int *final)
{
    (void)o;
    (void)final;
    if (in->event->type != PACING_EV_RAGE_CLICK)
        return 0;
    *v = -1.0;
    return 1;
}

/* Dwell against the user's baseline: (dwell / baseline - 1) clamped to
 * [-1, 1]; nothing without a baseline. */
static int rm_dwell(void *o, const pacing_reward_input *in, double *v, int *final)
{
    (void)o;
    (void)final;
    if (in->event->type != PACING_EV_DWELL || in->dwell_baseline_ms <= 0.0)
        return 0;
    double r = in->event->value / in->dwell_baseline_ms - 1.0;
    *v = r < -1.0 ? -1.0 : (r > 1.0 ? 1.0 : r);
    return 1;
}

static const pc_reward_mod builtins[] = {
    {"conversion", rm_conversion, NULL},
    {"micro_conversion", rm_micro, NULL},
    {"dismiss", rm_dismiss, NULL},
    {"rage_click", rm_rage, NULL},
    {"dwell", rm_dwell, NULL},
};

void pc_reward_builtins(pacing_ctx *ctx)
{
    memcpy(ctx->rmods, builtins, sizeof builtins);
    ctx->n_rmods = sizeof builtins / sizeof builtins[0];
}

const pc_reward_mod *pc_reward_find(const pacing_ctx *ctx, const char *name)
{
    for (uint32_t i = 0; i < ctx->n_rmods; i++)
        if (strcmp(ctx->rmods[i].name, name) == 0)
            return &ctx->rmods[i];
    return NULL;
}

PACING_API int pacing_reward_register(pacing_ctx *ctx,
                                      const pacing_reward_module *m)
{
    if (!ctx || !m)
        return pc_fail(ctx, PACING_E_NULL, "reward_register: NULL argument");
    if (m->size != sizeof(pacing_reward_module))
        return pc_fail(ctx, PACING_E_SIZE,
                       "reward_register: module size %zu, expected %zu", m->size,
                       sizeof(pacing_reward_module));
    if (!m->name || !pc_valid_name(m->name))
        return pc_fail(ctx, PACING_E_INVAL,
                       "reward_register: name must be 1..31 chars of [a-z0-9_]");
    if (!m->on_event)
        return pc_fail(ctx, PACING_E_INVAL,
                       "reward_register: '%s' has no on_event function", m->name);
    if (pc_reward_find(ctx, m->name))
        return pc_fail(ctx, PACING_E_EXISTS,
                       "reward_register: '%s' is already registered", m->name);
    if (ctx->n_rmods >= PACING_MAX_REWARD_MODULES)
        return pc_fail(ctx, PACING_E_FULL,
                       "reward_register: at most %d reward modules",
                       PACING_MAX_REWARD_MODULES);
    pc_reward_mod *r = &ctx->rmods[ctx->n_rmods++];
    memset(r, 0, sizeof *r);
    strcpy(r->name, m->name);
    r->on_event = m->on_event;
    r->opaque = m->opaque;
    return PACING_OK;
}
