/* kiosk.c: one visitor at a self-service kiosk, simulated second by second.
 *
 * A kiosk embeds libpacing with one user, no threads and no allocation
 * after start. The visitor reads calmly, then struggles (reading slows,
 * errors appear), then calms down again. Every second the kiosk asks the
 * decision point "help_prompt" whether to show its help prompt now, delay
 * it or skip it, and prints what was decided and why. A safety rule keeps
 * prompts at least 20 s apart. When the prompt is shown, a struggling
 * visitor tends to accept it and a tired one dismisses it; the answer goes
 * back to the policy as a reward. Every 15 s the demo prints the visitor's
 * scores and the signals that drive them.
 *
 * Build and run: make demo */
#include <pacing.h>

#include <stdio.h>

static uint64_t rng_state = 42; /* deterministic: every run tells one story */
static double rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static pacing_ctx *ctx;
static uint64_t visitor; /* the visitor's pseudonym, hashed once */

static void push(int type, int64_t t, double v)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = (uint32_t)type;
    ev.flags = PACING_EVF_PSEUDONYM;
    ev.pseudonym = visitor;
    ev.time_ms = t;
    ev.value = v;
    ev.channel = PACING_CH_KIOSK;
    if (pacing_push(ctx, &ev) < 0)
        fprintf(stderr, "push: %s\n", pacing_errmsg(ctx));
}

static void print_scores(int s, int64_t t)
{
    pacing_scores sc = PACING_SCORES_INIT;
    if (pacing_scores_get_pseudonym(ctx, visitor, t, &sc) != PACING_OK)
        return;
    printf("-- t=%3ds scores: fatigue %.2f  load %.2f  attention %.2f\n", s,
           sc.fatigue, sc.cognitive_load, sc.attention);
    const int kinds[2] = {PACING_SCORE_FATIGUE, PACING_SCORE_COGNITIVE_LOAD};
    for (int k = 0; k < 2; k++) {
        pacing_contribution c[6];
        for (int i = 0; i < 6; i++)
            c[i].size = sizeof c[i]; /* size-first structs: set by the caller */
        size_t n = 0;
        if (pacing_contributions_pseudonym(ctx, visitor, t, kinds[k], c, 6, &n) != PACING_OK)
            continue;
        printf("          %-8s from:", k == 0 ? "fatigue" : "load");
        for (size_t i = 0; i < 2 && i < n; i++)
            if (c[i].contribution > 0.005)
                printf("  %s %.2f", pacing_input_name(c[i].input), c[i].contribution);
        printf("\n");
    }
}

int main(void)
{
    pacing_options opts;
    pacing_options_init(&opts);
    opts.flags = PACING_OPT_SINGLE_THREAD; /* one visitor, one thread */
    opts.capacity = opts.pending_capacity = 16;
    opts.max_points = 1;
    opts.feature_half_life_ms = 30000; /* a kiosk visit is short */
    opts.seed = 7;
    if (pacing_ctx_new(&opts, &ctx) != PACING_OK)
        return fprintf(stderr, "ctx_new: %s\n", pacing_errmsg(NULL)), 1;
    pacing_pseudonym(ctx, "visitor-1", 9, &visitor);

    /* LinUCB over a bias term plus the visitor's fatigue, load and
     * drop-off risk, which the library appends to the context. */
    static const char *const actions[] = {"show_now", "delay", "skip"};
    pacing_point_spec spec = PACING_POINT_SPEC_INIT;
    spec.name = "help_prompt", spec.actions = actions, spec.n_actions = 3;
    spec.policy = "linucb";
    spec.context_dim = 1;
    spec.flags = PACING_PT_SCORES_CONTEXT;
    spec.attribution_ms = 5000;
    spec.quiet_actions = 0x6; /* delay and skip show nothing */
    spec.safe_action = 1;     /* when safety says no: delay */
    uint32_t point;
    if (pacing_point_add(ctx, &spec, &point) != PACING_OK)
        return fprintf(stderr, "point_add: %s\n", pacing_errmsg(ctx)), 1;
    /* the safety layer: never two prompts within 20 s */
    pacing_param gap = {"gap_ms", 20000};
    pacing_rule_spec rule = PACING_RULE_SPEC_INIT;
    rule.module = "min_gap";
    rule.params = &gap;
    rule.n_params = 1;
    if (pacing_rule_add(ctx, &rule, NULL) != PACING_OK)
        return fprintf(stderr, "rule_add: %s\n", pacing_errmsg(ctx)), 1;

    const double bias = 1.0;
    push(PACING_EV_SESSION_START, 0, 0);
    for (int s = 0; s < 150; s++) {
        int64_t t = (int64_t)s * 1000;
        int struggling = s >= 50 && s < 110;
        if (s % 3 == 0) /* reading speed, words per minute */
            push(PACING_EV_READING_SPEED, t, struggling ? 120 + 20 * rnd() : 230 + 20 * rnd());
        if (s % 5 == 0)
            push(PACING_EV_SCROLL_DEPTH, t, struggling ? 0.25 : 0.7);
        if (s % 4 == 0)
            push(PACING_EV_INPUT_LATENCY, t, 450 + 50 * rnd());
        if (struggling && rnd() < 0.1)
            push(PACING_EV_ERROR, t + 300, 0);

        pacing_request rq = PACING_REQUEST_INIT;
        rq.point = point;
        rq.flags = PACING_REQ_PSEUDONYM;
        rq.pseudonym = visitor;
        rq.now_ms = t + 500;
        rq.context = &bias;
        rq.context_len = 1;
        pacing_decision d = PACING_DECISION_INIT;
        if (pacing_decide(ctx, &rq, &d) != PACING_OK)
            return fprintf(stderr, "decide: %s\n", pacing_errmsg(ctx)), 1;

        /* the visitor's answer, and the reward it earns (a decision that
         * shows the prompt already counts as an exposure) */
        double reward = d.action == 1 ? 0.3 : d.action == 2 ? 0.2 : 0.0;
        const char *outcome = "";
        if (d.action == 0) {
            if (rnd() < 2.0 * d.cognitive_load - 0.5 * d.fatigue) {
                reward = 1.0, outcome = ", accepted";
                push(PACING_EV_MICRO_CONVERSION, t + 900, 0);
            } else {
                outcome = ", dismissed";
                push(PACING_EV_DISMISS, t + 1200, 0);
            }
        }
        if (d.id != 0) /* safe decisions (id 0) teach the policy nothing */
            pacing_reward(ctx, d.id, reward, t + 1300);
        char why[200];
        pacing_explain(ctx, &d, why, sizeof why);
        printf("t=%3ds %-10s %s%s\n", s, struggling ? "struggling" : "calm", why,
               outcome);
        if (s % 15 == 14)
            print_scores(s, t + 1500);
    }
    pacing_ctx_free(ctx);
    return 0;
}
