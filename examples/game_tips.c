/* game_tips.c: gameplay tips paced inside a game's 60 fps frame loop.
 *
 * A single-player game embeds libpacing: one thread (SINGLE_THREAD: no
 * locks), a tiny user table, a fixed seed and secret so every run plays the
 * same. The player explores, then fights hard every 75 s; every 2 s the game
 * asks "gameplay_tip" which tip to show, if any. Rules keep tips 45 s apart,
 * out of hard fights (cognitive load) and under a per-session budget; a tip
 * the player follows (a micro-conversion) rewards the softmax policy, a
 * skipped one (a dismissal) costs it. Tip types recover over 10 minutes.
 *
 * A game must not allocate in its frame loop. All allocation happens at
 * setup (context, point, rules); the allocator passed in the options counts
 * every call, and the program fails if the loop allocated anything.
 *
 * Build and run: make examples && build/examples/game_tips */
#include <pacing.h>

#include <stdio.h>
#include <stdlib.h>

/* Counting allocator: the library calls it for all of its memory. */
static size_t n_allocs, n_frees;
static void *count_alloc(void *opaque, size_t size) { (void)opaque; n_allocs++; return malloc(size); }
static void count_free(void *opaque, void *p, size_t size) { (void)opaque, (void)size; n_frees++; free(p); }

static pacing_ctx *ctx;
static uint64_t player; /* the player's pseudonym, hashed once at setup */

static void push(uint32_t type, int64_t t, double value, uint64_t target)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type, ev.flags = PACING_EVF_PSEUDONYM, ev.pseudonym = player;
    ev.time_ms = t, ev.value = value, ev.target = target, ev.channel = PACING_CH_GAME;
    if (pacing_push(ctx, &ev) < 0) fprintf(stderr, "push: %s\n", pacing_errmsg(ctx));
}

static void check(int rc, const char *what)
{
    if (rc < 0) fprintf(stderr, "%s: %s\n", what, pacing_errmsg(ctx)), exit(1);
}

static uint64_t rng = 2024; /* the game's own deterministic randomness */
static double rnd(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* The decision log is read through a callback, one entry at a time. */
struct log_tally { unsigned n, by_outcome[6]; double reward; };
static int log_cb(void *opaque, const pacing_log_entry *e)
{
    struct log_tally *lt = opaque;
    lt->n++, lt->by_outcome[e->outcome < 6 ? e->outcome : 0]++, lt->reward += e->reward;
    return 0;
}

int main(void)
{
    /* ---- setup: every allocation happens here ---- */
    pacing_options o = PACING_OPTIONS_INIT;
    o.flags = PACING_OPT_SINGLE_THREAD | PACING_OPT_SECRET;
    for (int i = 0; i < 16; i++) o.secret[i] = (uint8_t)(i * 17 + 3);
    o.capacity = 2, o.max_points = 1, o.pending_capacity = 32, o.log_capacity = 256;
    o.feature_half_life_ms = 45000, o.seed = 2024, o.user_ttl_ms = -1;
    o.allocator.alloc = count_alloc, o.allocator.free = count_free;
    if (pacing_ctx_new(&o, &ctx) != PACING_OK)
        return fprintf(stderr, "ctx_new: %s\n", pacing_errmsg(NULL)), 1;
    check(pacing_pseudonym(ctx, "player-1", 8, &player), "pseudonym");

    static const char *const tips[] = {"combat_tip", "crafting_tip", "map_tip", "no_tip"};
    const pacing_param temp = {"temperature", 0.2};
    const pacing_reward_rule rewards[] = {{"micro_conversion", 1.0}, {"dismiss", 0.5}};
    pacing_point_spec spec = PACING_POINT_SPEC_INIT;
    spec.name = "gameplay_tip", spec.actions = tips, spec.n_actions = 4, spec.policy = "softmax";
    spec.params = &temp, spec.n_params = 1, spec.recovery_decay = "exponential";
    const double recovery[4] = {600000, 0, 0, 0}; /* half the value back in 10 min */
    spec.recovery_params = recovery, spec.rewards = rewards, spec.n_rewards = 2;
    spec.attribution_ms = 60000, spec.flags = PACING_PT_DEFAULT_REWARD, spec.default_reward = 0;
    spec.quiet_actions = 1u << 3, spec.safe_action = 3; /* no_tip */
    uint32_t pt;
    check(pacing_point_add(ctx, &spec, &pt), "point_add");

    const pacing_param gap = {"gap_ms", 30000}, budget = {"max", 4};
    const pacing_param load[] = {{"max", 0.25}, {"delay_ms", 20000}};
    const char *const rule_names[] = {"min_gap", "load_ceiling", "session_budget"};
    const pacing_param *rule_params[] = {&gap, load, &budget};
    const uint32_t rule_n[] = {1, 2, 1};
    for (int r = 0; r < 3; r++) {
        pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
        rs.module = rule_names[r], rs.params = rule_params[r], rs.n_params = rule_n[r];
        check(pacing_rule_add(ctx, &rs, NULL), "rule_add");
    }
    const size_t allocs_at_start = n_allocs;

    /* ---- the frame loop: 5 minutes at 60 fps, no allocation allowed ---- */
    unsigned by_action[4] = {0}, safe = 0, vetoes[3] = {0};
    int64_t react_at = -1; uint32_t react_type = 0; /* the player's pending reaction */
    const long frames = 5 * 60 * 60;
    push(PACING_EV_SESSION_START, 0, 0, 0);
    for (long f = 0; f < frames; f++) {
        const int64_t t = f * 1000 / 60;
        const int fighting = (t / 1000) % 75 >= 45;
        if (f % (fighting ? 9 : 30) == 0) /* frantic input in fights, some misclicks */
            push(fighting && rnd() < 0.01 ? PACING_EV_DEAD_CLICK : PACING_EV_CLICK, t, 40 + 60 * rnd(), 1 + f / 9 % 7);
        if (fighting && f % 1800 == 0) push(PACING_EV_ERROR, t, 0, 0); /* took a hit */
        if (f % 120 == 60) push(PACING_EV_INPUT_LATENCY, t, fighting ? 600 : 250 + 50 * rnd(), 0);
        if (react_at >= 0 && t >= react_at) { push(react_type, t, 0, 0); react_at = -1; }
        if (f % 120 != 0) continue; /* a tip opportunity every 2 s */

        pacing_request rq = PACING_REQUEST_INIT;
        rq.point = pt, rq.flags = PACING_REQ_PSEUDONYM, rq.pseudonym = player;
        rq.now_ms = t, rq.channel = PACING_CH_GAME;
        pacing_decision d = PACING_DECISION_INIT;
        check(pacing_decide(ctx, &rq, &d), "decide");
        by_action[d.action]++;
        safe += (d.reasons & PACING_DR_SAFE) != 0;
        for (uint32_t v = 0; v < d.n_vetoes && v < 4; v++) vetoes[d.vetoes[v].rule]++;
        if (d.action == 3) continue;
        /* A tip is on screen: a calm player often follows it, a busy one skips it. */
        const int follows = rnd() < (fighting ? 0.1 : 0.6);
        react_type = follows ? PACING_EV_MICRO_CONVERSION : PACING_EV_DISMISS;
        react_at = t + (follows ? 3000 : 800);
        char why[256];
        pacing_explain(ctx, &d, why, sizeof why);
        printf("%3lds %-8s %-12s p=%.2f %s: %s\n", (long)(t / 1000), fighting ? "fight" : "explore",
               tips[d.action], d.propensity, follows ? "followed" : "skipped ", why);
    }
    check(pacing_settle(ctx, frames * 1000 / 60 + 60000, NULL), "settle");

    /* ---- the decision log: every settled decision and its outcome ---- */
    struct log_tally lt = {0, {0}, 0};
    check(pacing_log_read(ctx, log_cb, &lt, NULL), "log_read");

    if (n_allocs != allocs_at_start) {
        printf("FAIL: %zu allocations during the frame loop\n", n_allocs - allocs_at_start);
        return 1;
    }
    printf("\n%ld frames, %u tip opportunities: combat %u, crafting %u, map %u, no tip %u (%u by safety)\n",
           frames, by_action[0] + by_action[1] + by_action[2] + by_action[3], by_action[0], by_action[1],
           by_action[2], by_action[3], safe);
    printf("safety verdicts: min_gap %u, load_ceiling %u, session_budget %u\n", vetoes[0], vetoes[1], vetoes[2]);
    printf("log: %u decisions; %u rewarded by events, %u default reward, %u safe; total reward %.2f\n",
           lt.n, lt.by_outcome[PACING_OUT_IMPLICIT], lt.by_outcome[PACING_OUT_DEFAULT],
           lt.by_outcome[PACING_OUT_SAFE], lt.reward);
    printf("allocations: %zu at setup, 0 in the frame loop\n", allocs_at_start);
    pacing_ctx_free(ctx);
    return n_allocs == n_frees ? 0 : (printf("FAIL: %zu allocations not freed\n", n_allocs - n_frees), 1);
}
