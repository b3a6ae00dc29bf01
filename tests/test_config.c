/* YAML configuration: the examples load and apply what they say; broken
 * configurations fail with PACING_E_CONFIG at the right line and column,
 * leak nothing and return no context; the `pacing validate` command. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

static const char *const examples[] = {
    "examples/config/web-checkout.yaml",
    "examples/config/kiosk.yaml",
    "examples/config/game-tips.yaml",
    "examples/config/mobile-notifications.yaml",
};
#define N_EXAMPLES (sizeof examples / sizeof examples[0])

/* ---- a counting allocator ---- */

typedef struct counter {
    size_t allocs, frees;
    size_t bytes_out;
} counter;

static void *count_alloc(void *opaque, size_t size)
{
    counter *c = opaque;
    void *p = malloc(size);
    if (p) {
        c->allocs++;
        c->bytes_out += size;
    }
    return p;
}

static void count_free(void *opaque, void *ptr, size_t size)
{
    counter *c = opaque;
    c->frees++;
    c->bytes_out -= size;
    free(ptr);
}

static pacing_options counting_base(counter *c)
{
    pacing_options o;
    pacing_options_init(&o);
    memset(c, 0, sizeof *c);
    o.allocator.alloc = count_alloc;
    o.allocator.free = count_free;
    o.allocator.opaque = c;
    return o;
}

/* ---- helpers ---- */

static pacing_ctx *load_string(const char *yaml)
{
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    pacing_ctx *ctx = NULL;
    int rc = pacing_ctx_new_from_yaml_string(yaml, strlen(yaml), NULL, &ctx, &err);
    if (rc != PACING_OK)
        fail_msg("load failed (%s): %u:%u: %s", pacing_strerror(rc), err.line,
                 err.column, err.message);
    assert_non_null(ctx);
    return ctx;
}

static pacing_ctx *load_file(const char *path)
{
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    pacing_ctx *ctx = NULL;
    int rc = pacing_ctx_new_from_yaml(path, NULL, &ctx, &err);
    if (rc != PACING_OK)
        fail_msg("%s: %s: %u:%u: %s", path, pacing_strerror(rc), err.line,
                 err.column, err.message);
    assert_non_null(ctx);
    return ctx;
}

static double weight(pacing_ctx *ctx, int kind, int input)
{
    double w = -1;
    assert_int_equal(pacing_weight_get(ctx, kind, input, &w), PACING_OK);
    return w;
}

static uint32_t point_id(pacing_ctx *ctx, const char *name)
{
    uint32_t id = UINT32_MAX;
    assert_int_equal(pacing_point_find(ctx, name, &id), PACING_OK);
    return id;
}

static const char *rule_module(const pacing_ctx *ctx, uint32_t rule)
{
    return ctx->rule_mods[ctx->rules[rule].mod].name;
}

/* The value of parameter `name` of rule instance `rule`. */
static double rule_param(const pacing_ctx *ctx, uint32_t rule, const char *name)
{
    const pc_rule_mod *m = &ctx->rule_mods[ctx->rules[rule].mod];
    for (uint32_t k = 0; k < m->n_params; k++)
        if (!strcmp(m->param_names[k], name))
            return ctx->rules[rule].params[k];
    fail_msg("rule %u (%s) has no parameter %s", rule, m->name, name);
    return NAN;
}

/* ---- the examples ---- */

static void test_examples_load(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        counter c;
        pacing_options base = counting_base(&c);
        pacing_config_error err = PACING_CONFIG_ERROR_INIT;
        pacing_ctx *ctx = NULL;
        int rc = pacing_ctx_new_from_yaml(examples[i], &base, &ctx, &err);
        if (rc != PACING_OK)
            fail_msg("%s: %s: %u:%u: %s", examples[i], pacing_strerror(rc),
                     err.line, err.column, err.message);
        assert_true(c.allocs > 0); /* the context used base.allocator */
        pacing_ctx_free(ctx);
        assert_int_equal(c.allocs, c.frees);
        assert_int_equal(c.bytes_out, 0);
    }
}

static void test_example_web_checkout(void **state)
{
    (void)state;
    pacing_ctx *ctx = load_file("examples/config/web-checkout.yaml");
    uint32_t cta = point_id(ctx, "checkout_cta");
    uint32_t upsell = point_id(ctx, "upsell_banner");
    assert_int_equal(cta, 0);
    assert_int_equal(upsell, 1);
    assert_string_equal(pacing_action_name(ctx, cta, 0), "show_now");
    assert_string_equal(pacing_action_name(ctx, cta, 1), "delay");
    assert_null(pacing_action_name(ctx, cta, 3));
    assert_string_equal(pacing_action_name(ctx, upsell, 2), "none");

    /* options */
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_true(st.capacity >= 100000 && st.capacity < 100100);
    assert_int_equal(ctx->user_ttl_ms, 86400000);
    assert_int_equal(ctx->reorder_window_ms, 120000);
    assert_true(ctx->feature_half_life_ms == 120000.0);
    assert_true(ctx->flags & PACING_OPT_REQUIRE_CONSENT);
    assert_false(ctx->flags & PACING_OPT_SINGLE_THREAD);
    assert_int_equal(ctx->max_points, 8);

    /* weights: set ones and untouched defaults */
    assert_true(weight(ctx, PACING_SCORE_FATIGUE, PACING_IN_DISMISSALS) == 0.4);
    assert_true(weight(ctx, PACING_SCORE_FATIGUE, PACING_IN_RECENT_EXPOSURES) == 0.3);
    assert_true(weight(ctx, PACING_SCORE_FATIGUE, PACING_IN_SLOWER_REACTIONS) == 0.2);
    assert_true(weight(ctx, PACING_SCORE_COGNITIVE_LOAD, PACING_IN_MISCLICKS) == 0.3);

    /* exposure decay: exponential, 5 minutes */
    assert_string_equal(ctx->decay[ctx->expo_decay].name, "exponential");
    assert_true(ctx->expo_decay_params[0] == 300000.0);

    /* rules, in file order */
    assert_int_equal(ctx->n_rules, 4);
    assert_string_equal(rule_module(ctx, 0), "min_gap");
    assert_int_equal(ctx->rules[0].point, (int32_t)cta);
    assert_true(rule_param(ctx, 0, "gap_ms") == 20000.0);
    assert_string_equal(rule_module(ctx, 1), "sensitive_state");
    assert_int_equal(ctx->rules[1].point, -1);
    assert_true(rule_param(ctx, 1, "after_error_ms") == 30000.0);
    assert_true(rule_param(ctx, 1, "form_ms") == 600000.0);
    assert_string_equal(rule_module(ctx, 2), "fatigue_ceiling");
    assert_true(rule_param(ctx, 2, "max") == 0.7);
    assert_true(rule_param(ctx, 2, "delay_ms") == 300000.0);
    assert_string_equal(rule_module(ctx, 3), "frequency_cap");
    assert_int_equal(ctx->rules[3].point, (int32_t)upsell);
    assert_true(rule_param(ctx, 3, "max") == 2.0);
    assert_true(rule_param(ctx, 3, "window_ms") == 3600000.0);
    assert_true(rule_param(ctx, 3, "same_point") == 1.0);

    /* the policies: thompson's arms carry alpha/beta */
    pacing_arm_stats a = PACING_ARM_STATS_INIT;
    assert_int_equal(pacing_arm_stats_get(ctx, cta, 0, &a), PACING_OK);
    assert_non_null(a.param_a_name);
    assert_string_equal(a.param_a_name, "alpha");
    assert_true(a.param_a == 1.0);
    pacing_ctx_free(ctx);
}

static void test_example_kiosk(void **state)
{
    (void)state;
    pacing_ctx *ctx = load_file("examples/config/kiosk.yaml");
    assert_true(ctx->flags & PACING_OPT_SINGLE_THREAD);
    assert_int_equal(ctx->n_stripes, 1);
    assert_int_equal(ctx->seed, 7);
    assert_int_equal(ctx->max_points, 2);
    assert_int_equal(ctx->pending_capacity, 64);
    assert_int_equal(ctx->user_ttl_ms, 15 * 60000);
    assert_true(ctx->feature_half_life_ms == 30000.0);
    assert_int_equal(ctx->hazard_horizon_ms, 30000);
    assert_int_equal(ctx->hazard_bin_ms, 5000);
    assert_int_equal(point_id(ctx, "help_prompt"), 0);
    assert_int_equal(point_id(ctx, "survey_invite"), 1);
    assert_int_equal(ctx->n_rules, 5);
    assert_string_equal(rule_module(ctx, 0), "load_ceiling");
    assert_true(rule_param(ctx, 0, "delay_ms") == 10000.0);
    assert_string_equal(rule_module(ctx, 1), "dropoff_ceiling");
    assert_int_equal(ctx->rules[1].point, 1);
    assert_string_equal(rule_module(ctx, 2), "session_budget");
    assert_true(rule_param(ctx, 2, "max") == 3.0);

    /* the contextual point takes 1 caller feature (+3 scores) */
    pacing_request rq = PACING_REQUEST_INIT;
    pacing_decision d = PACING_DECISION_INIT;
    const double x = 1.0;
    rq.point = 0;
    rq.user = "v";
    rq.user_len = 1;
    rq.now_ms = 1000;
    rq.context = &x;
    rq.context_len = 1;
    assert_int_equal(pacing_decide(ctx, &rq, &d), PACING_OK);
    rq.context_len = 0;
    rq.context = NULL;
    assert_int_not_equal(pacing_decide(ctx, &rq, &d), PACING_OK);
    pacing_ctx_free(ctx);
}

static void test_example_game_tips(void **state)
{
    (void)state;
    pacing_ctx *ctx = load_file("examples/config/game-tips.yaml");
    assert_true(ctx->flags & PACING_OPT_SINGLE_THREAD);
    assert_int_equal(ctx->user_ttl_ms, -1);
    assert_int_equal(ctx->debounce_ms, 20);
    assert_int_equal(ctx->reorder_window_ms, 5000);
    assert_int_equal(ctx->seed, 2024);
    assert_string_equal(ctx->decay[ctx->expo_decay].name, "power_law");
    assert_true(ctx->expo_decay_params[0] == 60000.0);
    assert_true(ctx->expo_decay_params[1] == 1.5);
    assert_true(weight(ctx, PACING_SCORE_FATIGUE, PACING_IN_DISMISSALS) == 0.5);
    assert_true(weight(ctx, PACING_SCORE_COGNITIVE_LOAD, PACING_IN_PAUSES) == 0.05);
    uint32_t tip = point_id(ctx, "gameplay_tip");
    assert_string_equal(pacing_action_name(ctx, tip, 3), "no_tip");
    assert_int_equal(point_id(ctx, "store_offer"), 1);
    assert_int_equal(ctx->n_rules, 4);
    assert_true(rule_param(ctx, 0, "gap_ms") == 45000.0);
    assert_true(rule_param(ctx, 1, "window_ms") == 3600000.0);
    assert_true(rule_param(ctx, 3, "max") == 12.0);
    pacing_ctx_free(ctx);
}

static void test_example_mobile(void **state)
{
    (void)state;
    pacing_ctx *ctx = load_file("examples/config/mobile-notifications.yaml");
    assert_int_equal(ctx->n_stripes, 128);
    assert_true(ctx->flags & PACING_OPT_RANDOM_SEED);
    assert_true(ctx->flags & PACING_OPT_REQUIRE_CONSENT);
    assert_int_equal(ctx->user_ttl_ms, 30LL * 86400000);
    assert_true(ctx->baseline_half_life_ms == 14.0 * 86400000);
    assert_int_equal(ctx->pending_capacity, 262144);
    assert_true(ctx->expo_decay_params[0] == 6.0 * 3600000);
    assert_int_equal(point_id(ctx, "push_reengagement"), 0);
    assert_int_equal(point_id(ctx, "email_digest"), 1);
    assert_int_equal(point_id(ctx, "in_app_message"), 2);
    assert_int_equal(ctx->n_rules, 7);
    assert_string_equal(rule_module(ctx, 0), "opt_out");
    assert_string_equal(rule_module(ctx, 1), "consent");
    assert_string_equal(rule_module(ctx, 2), "quiet_hours");
    assert_true(rule_param(ctx, 2, "start_min") == 22 * 60);
    assert_true(rule_param(ctx, 2, "end_min") == 7 * 60);
    assert_true(rule_param(ctx, 2, "delay") == 1.0);
    assert_string_equal(rule_module(ctx, 3), "frequency_cap");
    assert_int_equal(ctx->rules[3].point, 0);
    assert_true(rule_param(ctx, 3, "max") == 3.0);
    assert_true(rule_param(ctx, 3, "window_ms") == 86400000.0);
    assert_true(rule_param(ctx, 3, "same_channel") == 1.0);
    assert_true(rule_param(ctx, 3, "same_point") == 1.0); /* the default */
    assert_int_equal(ctx->rules[4].point, 1);
    assert_true(rule_param(ctx, 5, "gap_ms") == 7200000.0);
    pacing_ctx_free(ctx);
}

/* ---- the seed's rule: three lines ---- */

static const char seed_rule_yaml[] =
    "version: 1\n"
    "options: {capacity: 64, single_thread: true, seed: 11}\n"
    "points:\n"
    "  - name: checkout_cta\n"
    "    actions: [show_now, skip]\n"
    "    quiet_actions: [skip]\n"
    "    safe_action: skip\n"
    "    policy: epsilon_greedy\n"
    "    params: {epsilon: 1}\n"
    "rules:\n"
    "  - rule: min_gap\n"
    "    point: checkout_cta\n"
    "    gap: 20s\n";

static void test_seed_rule(void **state)
{
    (void)state;
    pacing_ctx *ctx = load_string(seed_rule_yaml);
    assert_int_equal(ctx->n_rules, 1);
    assert_string_equal(rule_module(ctx, 0), "min_gap");
    assert_true(rule_param(ctx, 0, "gap_ms") == 20000.0);

    /* decide every second for a minute: shows are at least 20 s apart */
    int64_t last_show = -1;
    int shows = 0, held = 0;
    for (int64_t t = 0; t <= 60000; t += 1000) {
        pacing_request rq = PACING_REQUEST_INIT;
        pacing_decision d = PACING_DECISION_INIT;
        rq.point = 0;
        rq.user = "shopper";
        rq.user_len = 7;
        rq.now_ms = t;
        int rc = pacing_decide(ctx, &rq, &d);
        assert_int_equal(rc, PACING_OK);
        if (d.action == 0) {
            if (last_show >= 0)
                assert_true(t - last_show >= 20000);
            last_show = t;
            shows++;
        } else if (d.reasons & PACING_DR_SAFE) {
            held++;
            assert_true(last_show >= 0 && t - last_show < 20000);
        }
    }
    assert_true(shows >= 2);
    assert_true(held >= 10);
    pacing_ctx_free(ctx);

    /* the same rule written with gap_ms */
    char alt[sizeof seed_rule_yaml + 8];
    const char *g = strstr(seed_rule_yaml, "gap: 20s");
    snprintf(alt, sizeof alt, "%.*sgap_ms: 20000\n", (int)(g - seed_rule_yaml),
             seed_rule_yaml);
    ctx = load_string(alt);
    assert_true(rule_param(ctx, 0, "gap_ms") == 20000.0);
    pacing_ctx_free(ctx);
}

/* ---- value forms ---- */

/* Durations, numbers, booleans, anchors, flow and block styles. */
static void test_value_forms(void **state)
{
    (void)state;
    pacing_ctx *ctx = load_string(
        "version: 1\n"
        "options:\n"
        "  capacity: 1e3\n"
        "  user_ttl: 1.5h\n"
        "  debounce_ms: -1\n"
        "  feature_half_life: 1.5s\n"
        "  baseline_half_life_ms: 1234.5\n"
        "  dead_click: 250ms\n"
        "  seed: 0xff\n"
        "  secret: 000102030405060708090a0b0c0d0E0F\n"
        "  single_thread: True\n"
        "  require_consent: false\n"
        "scores: {engagement: {hover: 0}}\n"
        "exposure_decay: linear\n"
        "points:\n"
        "  - name: a\n"
        "    actions: [x, y, z]\n"
        "    quiet_actions: [z]\n"
        "    policy: linucb\n"
        "    params: {intercept: false, alpha: 2}\n"
        "    scores_context: true\n"
        "    attribution_ms: 5000\n"
        "    rewards: &r [dwell, {module: dismiss}]\n"
        "  - name: b\n"
        "    actions: ['x', \"y\"]\n"
        "    policy: thompson\n"
        "    recovery: {module: power_law, params: [30s]}\n"
        "    rewards: *r\n"
        "rules:\n"
        "  - {rule: quiet_hours, start_min: 60, end: '02:30', delay: false}\n"
        "  - rule: frequency_cap\n"
        "    max: 8\n"
        "    window_ms: 600000\n"
        "    same_point: true\n");
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.capacity, 1000);
    assert_int_equal(ctx->user_ttl_ms, 5400000);
    assert_int_equal(ctx->debounce_ms, -1);
    assert_true(ctx->feature_half_life_ms == 1500.0);
    assert_true(ctx->baseline_half_life_ms == 1234.5);
    assert_int_equal(ctx->dead_click_ms, 250);
    assert_int_equal(ctx->seed, 255);
    for (int i = 0; i < 16; i++)
        assert_int_equal(ctx->secret[i], i);
    assert_true(ctx->flags & PACING_OPT_SINGLE_THREAD);
    assert_true(ctx->flags & PACING_OPT_SECRET);
    assert_false(ctx->flags & PACING_OPT_REQUIRE_CONSENT);
    assert_true(weight(ctx, PACING_SCORE_ENGAGEMENT, PACING_IN_HOVER) == 0.0);
    assert_string_equal(ctx->decay[ctx->expo_decay].name, "linear");
    assert_true(ctx->expo_decay_params[0] == 600000.0);
    assert_string_equal(pacing_action_name(ctx, 1, 1), "y");
    assert_true(rule_param(ctx, 0, "start_min") == 60.0);
    assert_true(rule_param(ctx, 0, "end_min") == 150.0);
    assert_true(rule_param(ctx, 0, "delay") == 0.0);
    assert_true(rule_param(ctx, 1, "window_ms") == 600000.0);
    /* a secret given as an option pins pseudonyms */
    uint64_t p1, p2;
    assert_int_equal(pacing_pseudonym(ctx, "u", 1, &p1), PACING_OK);
    pacing_ctx_free(ctx);
    ctx = load_string("version: 1\n"
                      "options: {secret: 000102030405060708090a0b0c0d0e0f}\n");
    assert_int_equal(pacing_pseudonym(ctx, "u", 1, &p2), PACING_OK);
    assert_true(p1 == p2);
    pacing_ctx_free(ctx);
}

/* Empty sections and a minimal file. */
static void test_minimal(void **state)
{
    (void)state;
    pacing_ctx *ctx = load_string("version: 1\n");
    assert_string_equal(pacing_errmsg(NULL), ""); /* no stale message */
    assert_int_equal(ctx->n_points, 0);
    assert_int_equal(ctx->n_rules, 0);
    pacing_ctx_free(ctx);
    ctx = load_string("version: 1\noptions:\nscores:\npoints:\nrules: []\n");
    assert_int_equal(ctx->n_rules, 0);
    pacing_ctx_free(ctx);
}

/* base supplies defaults the file overrides. */
static void test_base_options(void **state)
{
    (void)state;
    pacing_options base;
    pacing_options_init(&base);
    base.capacity = 128;
    base.flags = PACING_OPT_SINGLE_THREAD;
    base.seed = 99;
    pacing_ctx *ctx = NULL;
    const char *y = "version: 1\noptions: {seed: 5, single_thread: false}\n";
    assert_int_equal(pacing_ctx_new_from_yaml_string(y, strlen(y), &base, &ctx, NULL),
                     PACING_OK);
    assert_int_equal(ctx->capacity, 128);
    assert_int_equal(ctx->seed, 5);
    assert_false(ctx->flags & PACING_OPT_SINGLE_THREAD);
    pacing_ctx_free(ctx);
}

/* ---- broken configurations ---- */

typedef struct bad_case {
    const char *yaml;
    uint32_t line, column;
    const char *message; /* a substring of err.message */
} bad_case;

#define PT "version: 1\npoints:\n  - name: a\n    actions: [x, y]\n"
#define PTQ PT "    quiet_actions: [y]\n"

static const bad_case bad_cases[] = {
    /* the document */
    {"", 1, 1, "version: required key missing"},
    {"# only a comment\n", 1, 1, "version: required key missing"},
    {"options: {}\n", 1, 1, "version: required key missing"},
    {"version: 2\n", 1, 10, "unsupported version 2"},
    {"version: '1'\n", 1, 10, "version: expected a number, got a string"},
    {"- version: 1\n", 1, 1, "top level must be a mapping"},
    {"version: 1\nversion: 1\n", 2, 1, "version: duplicate key (first at line 1)"},
    {"version: 1\nopts: {}\n", 2, 1, "opts: unknown key (expected one of: version, options"},
    {"version: 1\noption: {}\n", 2, 1, "option: unknown key (did you mean 'options'?)"},
    {"version: 1\n---\nversion: 1\n", 3, 1, "a second YAML document"},
    {"version: 1\npoints: [a, b\n", 3, 1, "YAML syntax error"},
    {"version: 1\n\tpoints: []\n", 2, 1, "YAML syntax error"},
    {"version: 1\nrules: [\"\xff\"]\n", 2, 10, "YAML syntax error"},
    {"version: 1\n? [a]\n: 1\n", 2, 3, "keys must be names"},
    /* options */
    {"version: 1\noptions: [1]\n", 2, 10, "options: expected a mapping"},
    {"version: 1\noptions:\n  capacity: 3000000000\n", 3, 13,
     "options.capacity: capacity = 3000000000 exceeds 2^31"},
    {"version: 1\noptions:\n  capacity: -1\n", 3, 13, "must not be negative"},
    {"version: 1\noptions:\n  capacity: lots\n", 3, 13,
     "options.capacity: expected a number, got a string 'lots'"},
    {"version: 1\noptions:\n  capacity: 1.5\n", 3, 13, "expected a whole number"},
    {"version: 1\noptions:\n  seed: 1e300\n", 3, 9, "1e300 is out of range"},
    {"version: 1\noptions:\n  stripes: 3\n", 3, 12, "not a power of two"},
    {"version: 1\noptions:\n  capacity: 4\n  stripes: 8\n", 4, 12,
     "exceeds capacity"},
    {"version: 1\noptions:\n  rage_clicks: 9\n", 3, 16, "rage_clicks = 9"},
    {"version: 1\noptions:\n  max_points: 5000\n", 3, 15, "max_points = 5000"},
    {"version: 1\noptions:\n  capacity: 10\n  capacity: 20\n", 4, 3,
     "options.capacity: duplicate key (first at line 3)"},
    {"version: 1\noptions:\n  capacty: 10\n", 3, 3,
     "options.capacty: unknown key (did you mean 'capacity'?)"},
    {"version: 1\noptions:\n  user_tl: 1d\n", 3, 3, "did you mean 'user_ttl'?"},
    {"version: 1\noptions:\n  user_ttl: 1d\n  user_ttl_ms: 5\n", 4, 3,
     "the same setting as 'user_ttl' (line 3)"},
    {"version: 1\noptions:\n  reorder_window: 20\n", 3, 19,
     "a duration needs a unit"},
    {"version: 1\noptions:\n  reorder_window: 20x\n", 3, 19,
     "expected a duration such as"},
    {"version: 1\noptions:\n  reorder_window: -5s\n", 3, 19,
     "expected a duration such as"},
    {"version: 1\noptions:\n  reorder_window_ms: 20s\n", 3, 22, "drop the _ms suffix"},
    {"version: 1\noptions:\n  reorder_window_ms: -5\n", 3, 22, "must not be negative"},
    {"version: 1\noptions:\n  debounce: 0.5ms\n", 3, 13,
     "not a whole number of milliseconds"},
    {"version: 1\noptions:\n  feature_half_life: 0.5ms\n", 3, 22,
     "feature_half_life_ms = 0.5 is out of range"},
    {"version: 1\noptions:\n  feature_half_life_ms: .inf\n", 3, 25,
     "expected a finite number"},
    {"version: 1\noptions:\n  secret: abc\n", 3, 11, "expected 32 hexadecimal digits"},
    {"version: 1\noptions:\n  secret: 000102030405060708090a0b0c0d0e0g\n", 3, 11,
     "'g' is not a hexadecimal digit"},
    {"version: 1\noptions:\n  single_thread: yes\n", 3, 18, "expected true or false"},
    {"version: 1\noptions:\n  seed: 18446744073709551616\n", 3, 9, "too large"},
    /* scores */
    {"version: 1\nscores:\n  fatige: {dismissals: 1}\n", 3, 3,
     "scores.fatige: unknown key (did you mean 'fatigue'?)"},
    {"version: 1\nscores:\n  fatigue: {pauses: 1}\n", 3, 13,
     "fatigue has no input 'pauses'"},
    {"version: 1\nscores:\n  fatigue: {dismissals: 2000}\n", 3, 25,
     "scores.fatigue.dismissals: weight 2000 not in [0, 1000]"},
    {"version: 1\nscores:\n  fatigue: {dismissals: high}\n", 3, 25,
     "expected a number"},
    {"version: 1\nscores:\n  attention: {scroll_depth: 0, dwell_ratio: 0, visibility: 0}\n",
     3, 60, "cannot all be 0"},
    {"version: 1\nscores:\n  fatigue: [1]\n", 3, 12, "scores.fatigue: expected a mapping"},
    /* exposure decay */
    {"version: 1\nexposure_decay: exponentail\n", 2, 17,
     "unknown decay module 'exponentail' (did you mean 'exponential'?)"},
    {"version: 1\nexposure_decay: {module: exponential, params: [0]}\n", 2, 47,
     "exposure_decay.params: decay 'exponential': parameters rejected"},
    {"version: 1\nexposure_decay: {module: linear, params: [1, 2, 3, 4, 5]}\n", 2, 42,
     "at most 4 parameters"},
    {"version: 1\nexposure_decay: {params: [1]}\n", 2, 17, "missing required key 'module'"},
    {"version: 1\nexposure_decay: {module: linear, params: [1m, x]}\n", 2, 47,
     "exposure_decay.params[1]: expected a number"},
    /* points */
    {"version: 1\npoints: {a: 1}\n", 2, 9, "points: expected a list"},
    {"version: 1\npoints: [a]\n", 2, 10, "points[0]: expected a mapping"},
    {"version: 1\npoints: &p [*p]\n", 2, 9, "points[0]: expected a mapping"},
    {PT, 3, 5, "points[0]: missing required key 'policy'"},
    {"version: 1\npoints:\n  - actions: [x, y]\n    policy: thompson\n", 3, 5,
     "missing required key 'name'"},
    {PT "    polcy: thompson\n", 5, 5,
     "points[0].polcy: unknown key (did you mean 'policy'?)"},
    {PT "    policy: thompsn\n", 5, 13,
     "points[0].policy: unknown policy 'thompsn' (did you mean 'thompson'?)"},
    {PT "    policy: [thompson]\n", 5, 13, "expected a name, got a list"},
    {PT "    policy: thompson\n  - name: a\n    actions: [x, y]\n    policy: ucb1\n",
     6, 11, "points[1].name: duplicate point name 'a' (first at line 3)"},
    {"version: 1\npoints:\n  - name: Checkout\n    actions: [x, y]\n    policy: ucb1\n",
     3, 11, "'Checkout' is not a valid name"},
    {"version: 1\npoints:\n  - name: a\n    actions: [x, y, x]\n    policy: ucb1\n",
     4, 21, "points[0].actions[2]: duplicate action 'x'"},
    {"version: 1\npoints:\n  - name: a\n    actions: [x]\n    policy: ucb1\n", 4, 14,
     "a point needs 2 to 64 actions, got 1"},
    {"version: 1\npoints:\n  - name: a\n    actions: x\n    policy: ucb1\n", 4, 14,
     "points[0].actions: expected a list, got a string"},
    {PT "    policy: thompson\n    params: {prior_alfa: 2}\n", 6, 14,
     "policy thompson has no parameter 'prior_alfa' (did you mean 'prior_alpha'?)"},
    {PT "    policy: thompson\n    params: {prior_alpha: -1}\n", 6, 27,
     "points[0].params.prior_alpha: parameter prior_alpha = -1 not in"},
    {PT "    policy: thompson\n    params: {prior_alpha: 2s}\n", 6, 27,
     "points[0].params.prior_alpha: expected a number, got '2s'"},
    {PT "    policy: thompson\n    params: [1]\n", 6, 13,
     "points[0].params: expected a mapping"},
    {PT "    policy: thompson\n    quiet_actions: [z]\n", 6, 21,
     "points[0].quiet_actions[0]: 'z' is not an action of point 'a'"},
    {PT "    policy: thompson\n    quiet_actions: [y, y]\n", 6, 24, "duplicate action 'y'"},
    {PT "    policy: thompson\n    quiet_actions: [x, y]\n", 6, 20, "every action is quiet"},
    {PT "    policy: thompson\n    safe_action: x\n", 6, 18,
     "points[0].safe_action: safe_action 'x' must be a quiet action"},
    {PT "    policy: thompson\n    safe_action: w\n", 6, 18,
     "'w' is not an action of point 'a'"},
    {PTQ "    policy: softmax\n    context_dim: 2\n", 7, 18,
     "points[0].context_dim: policy softmax takes no context"},
    {PTQ "    policy: softmax\n    context_dim: -2\n", 7, 18, "must not be negative"},
    {PTQ "    policy: linucb\n", 6, 13, "needs context_dim >= 1"},
    {PTQ "    policy: ucb1\n    scores_context: 1\n", 7, 21, "expected true or false"},
    {PTQ "    policy: ucb1\n    recovery: {module: cubic}\n", 7, 24,
     "points[0].recovery.module: unknown decay module 'cubic'"},
    {PTQ "    policy: ucb1\n    recovery: {module: power_law, params: [1m, 200]}\n", 7,
     43, "points[0].recovery.params: recovery_params rejected by 'power_law'"},
    {PTQ "    policy: ucb1\n    recovery: {module: linear, decay: 1}\n", 7, 32,
     "points[0].recovery.decay: unknown key"},
    {PTQ "    policy: ucb1\n    attribution: 10\n", 7, 18, "a duration needs a unit"},
    {PTQ "    policy: ucb1\n    attribution: 10m\n    attribution_ms: 5\n", 8, 5,
     "give only one"},
    {PTQ "    policy: ucb1\n    default_reward: 2\n", 7, 21,
     "points[0].default_reward: default_reward 2 not in [0, 1]"},
    {PTQ "    policy: ucb1\n    default_reward: null\n", 7, 21,
     "expected a number, got nothing (null)"},
    {PTQ "    policy: ucb1\n    rewards: [conversoin]\n", 7, 15,
     "unknown reward module 'conversoin' (did you mean 'conversion'?)"},
    {PTQ "    policy: ucb1\n    rewards: [dismiss, {module: dismiss}]\n", 7, 33,
     "duplicate reward module 'dismiss'"},
    {PTQ "    policy: ucb1\n    rewards: [{module: dismiss, weight: 2000}]\n", 7, 41,
     "points[0].rewards[0].weight: reward 'dismiss' weight 2000 not in"},
    {PTQ "    policy: ucb1\n    rewards: [{weight: 1}]\n", 7, 15,
     "points[0].rewards[0]: missing required key 'module'"},
    {PTQ "    policy: ucb1\n    rewards: [a, b, c, d, e, f, g, h, i]\n", 7, 14,
     "at most 8 reward rules"},
    {"version: 1\noptions: {max_points: 1}\npoints:\n"
     "  - {name: a, actions: [x, y], policy: ucb1}\n"
     "  - {name: b, actions: [x, y], policy: ucb1}\n",
     5, 5, "points[1]: at most 1 points (options.max_points)"},
    /* rules */
    {"version: 1\nrules: {rule: min_gap}\n", 2, 8, "rules: expected a list"},
    {"version: 1\nrules:\n  - gap: 20s\n", 3, 5,
     "rules[0]: missing required key 'rule'"},
    {"version: 1\nrules:\n  - rule: min_gapp\n", 3, 11,
     "unknown rule module 'min_gapp' (did you mean 'min_gap'?)"},
    {"version: 1\nrules:\n  - rule: min_gap\n    rule: min_gap\n", 4, 5,
     "rules[0].rule: duplicate key (first at line 3)"},
    {PTQ "    policy: ucb1\nrules:\n  - rule: min_gap\n    point: b\n", 9, 12,
     "rules[0].point: no point 'b' in this file"},
    {"version: 1\nrules:\n  - rule: min_gap\n    gapp: 20s\n", 4, 5,
     "rules[0].gapp: unknown key: rule min_gap has no parameter 'gapp_ms'"},
    {"version: 1\nrules:\n  - rule: min_gap\n    gap: 20000\n", 4, 10,
     "rules[0].gap: a duration needs a unit"},
    {"version: 1\nrules:\n  - rule: min_gap\n    gap_ms: 0\n", 4, 13,
     "rules[0].gap_ms: gap_ms = 0 not in [1,"},
    {"version: 1\nrules:\n  - rule: min_gap\n    gap_ms: 20s\n", 4, 13,
     "drop the _ms suffix"},
    {"version: 1\nrules:\n  - rule: min_gap\n    gap: 20s\n    gap_ms: 5\n", 5, 5,
     "gap_ms is already given (line 4)"},
    {"version: 1\nrules:\n  - rule: min_gap\n    same_point: [1]\n", 4, 17,
     "rules[0].same_point: expected a number, got a list"},
    {"version: 1\nrules:\n  - rule: frequency_cap\n    max: 10\n    window: 2h\n", 4, 10,
     "max 10 > 8 needs same_point 0"},
    {"version: 1\nrules:\n  - rule: quiet_hours\n    start: '25:00'\n", 4, 12,
     "or a time of day (22:00), got '25:00'"},
    {"version: 1\nrules:\n  - rule: quiet_hours\n    start: 1320\n", 4, 12,
     "expected a time of day such as \"22:00\" (or write start_min: 1320"},
    {"version: 1\nrules:\n  - rule: quiet_hours\n    start_min: 2000\n", 4, 16,
     "start_min = 2000 not in [0, 1439]"},
    {"version: 1\nrules:\n  - rule: consent\n    max: 1\n", 4, 5,
     "rule consent takes no parameters"},
    {"version: 1\nrules:\n  - rule: fatigue_ceiling\n    max: 1.5\n", 4, 10,
     "max = 1.5 not in [0, 1]"},
    {"version: 1\nrules:\n  - rule: ~\n", 3, 11, "rules[0].rule: expected a name"},
};

#define N_BAD (sizeof bad_cases / sizeof bad_cases[0])

static void test_bad_configs(void **state)
{
    (void)state;
    assert_true(N_BAD >= 30);
    int failures = 0;
    for (size_t i = 0; i < N_BAD; i++) {
        const bad_case *b = &bad_cases[i];
        pacing_config_error err = PACING_CONFIG_ERROR_INIT;
        pacing_ctx *ctx = (pacing_ctx *)&err; /* must be reset to NULL */
        counter c;
        pacing_options base = counting_base(&c);
        int rc = pacing_ctx_new_from_yaml_string(b->yaml, strlen(b->yaml), &base,
                                                 &ctx, &err);
        char expect[600];
        snprintf(expect, sizeof expect, "<string>:%u:%u: %s", err.line, err.column,
                 err.message);
        bool ok = rc == PACING_E_CONFIG && ctx == NULL && err.line == b->line &&
                  err.column == b->column && strstr(err.message, b->message) &&
                  !strcmp(err.file, "<string>") &&
                  !strcmp(pacing_errmsg(NULL), expect) &&
                  c.allocs == c.frees && c.bytes_out == 0;
        if (!ok) {
            print_error("case %zu:\n%s\n  expected %u:%u '%s'\n  got rc %d "
                        "%u:%u '%s' (ctx %p, allocs %zu frees %zu)\n  errmsg '%s'\n",
                        i, b->yaml, b->line, b->column, b->message, rc, err.line,
                        err.column, err.message, (void *)ctx, c.allocs, c.frees,
                        pacing_errmsg(NULL));
            failures++;
            pacing_ctx_free(ctx == (pacing_ctx *)&err ? NULL : ctx);
        }
    }
    assert_int_equal(failures, 0);
}

/* Out of memory at every step of building the real context (the context
 * itself, its tables, each point's policy state): PACING_E_NOMEM, no
 * context, and everything allocated so far is freed. */
typedef struct stingy {
    int budget;
    size_t allocs, frees, out;
} stingy;

static void *stingy_alloc(void *o, size_t n)
{
    stingy *s = o;
    if (s->budget-- <= 0)
        return NULL;
    s->allocs++;
    s->out += n;
    return malloc(n);
}

static void stingy_free(void *o, void *p, size_t n)
{
    stingy *s = o;
    s->frees++;
    s->out -= n;
    free(p);
}

static void test_nomem_half_way(void **state)
{
    (void)state;
    /* find how many allocations a full load needs, then fail each one */
    stingy s = {1 << 30, 0, 0, 0};
    pacing_options base;
    pacing_options_init(&base);
    base.allocator.alloc = stingy_alloc;
    base.allocator.free = stingy_free;
    base.allocator.opaque = &s;
    pacing_ctx *ctx = NULL;
    const char *file = "examples/config/game-tips.yaml";
    assert_int_equal(pacing_ctx_new_from_yaml(file, &base, &ctx, NULL), PACING_OK);
    int needed = (int)s.allocs;
    pacing_ctx_free(ctx);
    assert_true(needed > 3);
    for (int k = 0; k < needed; k++) {
        memset(&s, 0, sizeof s);
        s.budget = k;
        pacing_config_error err = PACING_CONFIG_ERROR_INIT;
        ctx = NULL;
        int rc = pacing_ctx_new_from_yaml(file, &base, &ctx, &err);
        assert_int_equal(rc, PACING_E_NOMEM);
        assert_null(ctx);
        assert_int_equal(s.allocs, s.frees);
        assert_int_equal(s.out, 0);
        assert_true(err.message[0] != '\0');
    }
}

/* Long lists are cut at the library's limits before anything is
 * allocated per item; a list of aliases is not expanded. */
static void test_limits(void **state)
{
    (void)state;
    size_t cap = 200000;
    char *y = malloc(cap);
    assert_non_null(y);
    size_t n = (size_t)snprintf(y, cap, "version: 1\nrules:\n");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(y + n, cap - n, "  - rule: consent\n");
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new_from_yaml_string(y, n, NULL, &ctx, &err),
                     PACING_E_CONFIG);
    assert_int_equal(err.line, 67);
    assert_int_equal(err.column, 5);
    assert_string_equal(err.message, "rules[64]: at most 64 rules");
    /* 64 are fine */
    n -= strlen("  - rule: consent\n");
    assert_int_equal(pacing_ctx_new_from_yaml_string(y, n, NULL, &ctx, &err),
                     PACING_OK);
    assert_int_equal(ctx->n_rules, 64);
    pacing_ctx_free(ctx);

    /* 20000 aliases of one point: stopped at max_points (64) */
    n = (size_t)snprintf(y, cap, "version: 1\npoints: [&p {name: a, actions: "
                         "[x, y], policy: ucb1}");
    for (int i = 0; i < 20000; i++)
        n += (size_t)snprintf(y + n, cap - n, ", *p");
    n += (size_t)snprintf(y + n, cap - n, "]\n");
    assert_int_equal(pacing_ctx_new_from_yaml_string(y, n, NULL, &ctx, &err),
                     PACING_E_CONFIG);
    assert_non_null(strstr(err.message, "points[64]: at most 64 points"));
    free(y);
}

/* ---- files and arguments ---- */

static void test_missing_file(void **state)
{
    (void)state;
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    pacing_ctx *ctx = NULL;
    const char *path = "tests/configs/no-such-file.yaml";
    assert_int_equal(pacing_ctx_new_from_yaml(path, NULL, &ctx, &err), PACING_E_IO);
    assert_null(ctx);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "No such file"));
    assert_non_null(strstr(pacing_errmsg(NULL), path));
    /* a directory cannot be read either */
    assert_int_equal(pacing_ctx_new_from_yaml("tests", NULL, &ctx, &err), PACING_E_IO);
    assert_null(ctx);
}

static void test_bad_file(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        uint32_t line, column;
        const char *message;
    } files[] = {
        {"tests/configs/bad/unknown-key.yaml", 6, 5, "points[0].polcy: unknown key"},
        {"tests/configs/bad/syntax.yaml", 6, 11, "YAML syntax error"},
        {"tests/configs/bad/bad-rule.yaml", 11, 10, "rules[0].gap: a duration needs a unit"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        pacing_config_error err = PACING_CONFIG_ERROR_INIT;
        pacing_ctx *ctx = NULL;
        int rc = pacing_ctx_new_from_yaml(files[i].path, NULL, &ctx, &err);
        assert_int_equal(rc, PACING_E_CONFIG);
        assert_null(ctx);
        assert_string_equal(err.file, files[i].path);
        if (err.line != files[i].line || err.column != files[i].column)
            fail_msg("%s: got %u:%u %s", files[i].path, err.line, err.column,
                     err.message);
        assert_non_null(strstr(err.message, files[i].message));
        char expect[600];
        snprintf(expect, sizeof expect, "%s:%u:%u: %s", files[i].path, err.line,
                 err.column, err.message);
        assert_string_equal(pacing_errmsg(NULL), expect);
        /* without err, the thread's message still says where */
        assert_int_equal(pacing_ctx_new_from_yaml(files[i].path, NULL, &ctx, NULL),
                         PACING_E_CONFIG);
        assert_string_equal(pacing_errmsg(NULL), expect);
    }
}

static void test_arguments(void **state)
{
    (void)state;
    pacing_ctx *ctx = NULL;
    const char *y = "version: 1\n";
    assert_int_equal(pacing_ctx_new_from_yaml_string(y, strlen(y), NULL, NULL, NULL),
                     PACING_E_NULL);
    assert_int_equal(pacing_ctx_new_from_yaml_string(NULL, 0, NULL, &ctx, NULL),
                     PACING_E_NULL);
    assert_int_equal(pacing_ctx_new_from_yaml(NULL, NULL, &ctx, NULL), PACING_E_NULL);
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    err.size = 12;
    assert_int_equal(pacing_ctx_new_from_yaml_string(y, strlen(y), NULL, &ctx, &err),
                     PACING_E_SIZE);
    pacing_options base;
    pacing_options_init(&base);
    base.size = 8;
    assert_int_equal(pacing_ctx_new_from_yaml_string(y, strlen(y), &base, &ctx, NULL),
                     PACING_E_SIZE);
    assert_null(ctx);
    /* the length bounds the text: what follows is not read */
    const char *two = "version: 1\nversion: 2\n";
    assert_int_equal(pacing_ctx_new_from_yaml_string(two, 11, NULL, &ctx, NULL),
                     PACING_OK);
    pacing_ctx_free(ctx);
}

/* ---- the pacing command ---- */

static const char *tool(void)
{
    const char *t = getenv("PACING_TOOL");
    return t && *t ? t : "build/pacing";
}

/* Run a shell command; *out receives its output (up to cap); returns the
 * exit status. */
static int run(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_cli_validate(void **state)
{
    (void)state;
    const char *t = tool();
    if (access(t, X_OK) != 0)
        fail_msg("%s is not there: `make test` builds it", t);
    char cmd[1024], out[8192];

    /* the examples: exit 0, one ok line each on stdout */
    int n = snprintf(cmd, sizeof cmd, "%s validate", t);
    for (size_t i = 0; i < N_EXAMPLES; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s", examples[i]);
    snprintf(cmd + n, sizeof cmd - (size_t)n, " 2>&1");
    assert_int_equal(run(cmd, out, sizeof out), 0);
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s: ok: ", examples[i]);
        if (!strstr(out, line))
            fail_msg("no '%s' in:\n%s", line, out);
    }
    assert_non_null(strstr(out, "web-checkout.yaml: ok: 2 points, 4 rules, "
                                "capacity 100000\n"));

    /* a bad file among good ones: exit 1, file:line:column on stderr, and
     * the good file after it is still checked */
    snprintf(cmd, sizeof cmd,
             "%s validate tests/configs/bad/unknown-key.yaml %s 2>&1 >/dev/null",
             t, examples[0]);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "tests/configs/bad/unknown-key.yaml:6:5: "
                                "points[0].polcy: unknown key"));
    snprintf(cmd, sizeof cmd,
             "%s validate tests/configs/bad/unknown-key.yaml %s 2>/dev/null", t,
             examples[0]);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "web-checkout.yaml: ok"));

    /* a missing file */
    snprintf(cmd, sizeof cmd, "%s validate tests/configs/nope.yaml 2>&1", t);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "tests/configs/nope.yaml: cannot open"));

    /* help and usage errors */
    snprintf(cmd, sizeof cmd, "%s --help", t);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "validate"));
    snprintf(cmd, sizeof cmd, "%s validate --help", t);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: pacing validate FILE..."));
    snprintf(cmd, sizeof cmd, "%s validate 2>&1", t);
    assert_int_equal(run(cmd, out, sizeof out), 2);
    snprintf(cmd, sizeof cmd, "%s frobnicate 2>&1", t);
    assert_int_equal(run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown command 'frobnicate'"));
    snprintf(cmd, sizeof cmd, "%s 2>&1", t);
    assert_int_equal(run(cmd, out, sizeof out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_load),
        cmocka_unit_test(test_example_web_checkout),
        cmocka_unit_test(test_example_kiosk),
        cmocka_unit_test(test_example_game_tips),
        cmocka_unit_test(test_example_mobile),
        cmocka_unit_test(test_seed_rule),
        cmocka_unit_test(test_value_forms),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_base_options),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_nomem_half_way),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_bad_file),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_cli_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
