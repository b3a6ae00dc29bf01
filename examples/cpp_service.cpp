// cpp_service.cpp: a threaded web service that paces its checkout prompts.
//
// One context, loaded from examples/config/web-checkout.yaml and owned by a
// RAII wrapper, is shared by 4 worker threads (the library locks per user
// stripe). Each worker serves its own shoppers: it pushes what the page saw,
// asks "checkout_cta" whether to show the prompt and pushes what the shopper
// did, which the YAML's reward rules turn into implicit rewards; the
// "upsell_banner" point is rewarded explicitly with pacing_reward().
//
// Build: g++ -std=c++17 -Wall -Wextra -Werror -pthread -Iinclude
//        examples/cpp_service.cpp -Lbuild -lpacing -Wl,-rpath,build
// Run from the repository root (or pass the YAML path as argument).
#include <pacing.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

// RAII: unique_ptr with a deleter that calls pacing_ctx_free.
struct CtxFree {
    void operator()(pacing_ctx *c) const noexcept { pacing_ctx_free(c); }
};
using Ctx = std::unique_ptr<pacing_ctx, CtxFree>;

Ctx load(const char *path) {
    pacing_ctx *raw = nullptr;
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    if (pacing_ctx_new_from_yaml(path, nullptr, &raw, &err) != PACING_OK)
        throw std::runtime_error(std::string(err.file) + ":" + std::to_string(err.line) + ": " + err.message);
    return Ctx(raw);
}

uint32_t point(pacing_ctx *ctx, const char *name) {
    uint32_t id = 0;
    if (pacing_point_find(ctx, name, &id) != PACING_OK)
        throw std::runtime_error(pacing_errmsg(ctx)); // same thread: safe to read
    return id;
}

// Counters of one worker, summed at the end: nothing shared, no locks.
struct Tally { long requests, shown, bought, dismissed, clicks, errors; };

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

const int kThreads = 4, kUsersPerThread = 500, kRounds = 10;

// One worker: each of its shoppers views a page every 30 s of simulated
// time. The library never reads a clock: the time goes into every call.
void worker(pacing_ctx *ctx, int tid, uint32_t cta, uint32_t upsell, Tally *tp) {
    std::mt19937 rng(static_cast<unsigned>(tid) + 1);
    std::uniform_real_distribution<double> u01(0.0, 1.0);
    Tally &t = *tp;
    for (int round = 0; round < kRounds; round++) {
        for (int k = 0; k < kUsersPerThread; k++) {
            const std::string id = "shopper-" + std::to_string(tid * kUsersPerThread + k);
            const int64_t now = int64_t(round) * 30000 + (k % 30) * 1000;
            auto push = [&](uint32_t type, int64_t at, double value) {
                pacing_event ev = PACING_EVENT_INIT;
                ev.type = type, ev.flags = PACING_EVF_CONSENT; // the YAML requires consent
                ev.user = id.data(), ev.user_len = id.size();
                ev.time_ms = at, ev.value = value, ev.channel = PACING_CH_WEB;
                if (pacing_push(ctx, &ev) < 0) t.errors++;
            };
            if (round == 0) push(PACING_EV_SESSION_START, now, 0);
            push(PACING_EV_DWELL, now, 3000 + 4000 * u01(rng));
            push(PACING_EV_SCROLL_DEPTH, now + 10, u01(rng));

            pacing_request rq = PACING_REQUEST_INIT;
            rq.flags = PACING_REQ_CONSENT, rq.now_ms = now + 50;
            rq.user = id.data(), rq.user_len = id.size();
            // The checkout prompt: shown, or held back by the policy or by
            // the safety rules (min_gap, fatigue), which it cannot override.
            rq.point = cta, t.requests++;
            pacing_decision d = PACING_DECISION_INIT;
            if (pacing_decide(ctx, &rq, &d) != PACING_OK) { t.errors++; continue; }
            if (d.action == 0) { // show_now: a fresh shopper may buy, a tired one dismisses
                t.shown++;
                if (u01(rng) < 0.15 * (1.0 - d.fatigue))
                    push(PACING_EV_CONVERSION, now + 2000, 59.0), t.bought++;
                else if (u01(rng) < 0.5 + d.fatigue)
                    push(PACING_EV_DISMISS, now + 1500, 0), t.dismissed++;
            }

            // The upsell banner, rewarded explicitly: 1 if clicked.
            rq.point = upsell;
            pacing_decision b = PACING_DECISION_INIT;
            if (pacing_decide(ctx, &rq, &b) != PACING_OK) { t.errors++; continue; }
            if (b.id != 0) { // safe decisions (id 0) teach nothing
                const double p = b.action == 0 ? 0.08 : b.action == 1 ? 0.12 : 0.0;
                const double reward = u01(rng) < p ? 1.0 : 0.0;
                t.clicks += reward > 0;
                if (pacing_reward(ctx, b.id, reward, now + 900) != PACING_OK) t.errors++;
            }
        }
    }
}

} // namespace

int main(int argc, char **argv) try {
    Ctx ctx = load(argc > 1 ? argv[1] : "examples/config/web-checkout.yaml");
    const uint32_t cta = point(ctx.get(), "checkout_cta"), upsell = point(ctx.get(), "upsell_banner");

    std::vector<Tally> tally(kThreads);
    std::vector<std::thread> pool;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kThreads; i++)
        pool.emplace_back(worker, ctx.get(), i, cta, upsell, &tally[size_t(i)]);
    for (auto &th : pool) th.join();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    Tally s = {};
    for (const Tally &t : tally) {
        s.requests += t.requests, s.shown += t.shown, s.bought += t.bought;
        s.dismissed += t.dismissed, s.clicks += t.clicks, s.errors += t.errors;
    }
    std::printf("%d threads: %ld page views in %.2f s (%.0f decisions/s)\n", kThreads,
                s.requests, secs, 2.0 * double(s.requests) / secs);
    std::printf("checkout_cta: shown %ld times; %ld purchases, %ld dismissals; upsell_banner: %ld clicks\n",
                s.shown, s.bought, s.dismissed, s.clicks);
    for (uint32_t a = 0; a < 3; a++) { // what the policy learned (discounted)
        pacing_arm_stats as = PACING_ARM_STATS_INIT;
        if (pacing_arm_stats_get(ctx.get(), cta, a, &as) == PACING_OK)
            std::printf("  %-9s chosen %6llu, mean reward %.3f\n",
                        pacing_action_name(ctx.get(), cta, a), ull(as.decisions), as.mean);
    }
    uint64_t settled = 0; // close every attribution window still open
    pacing_settle(ctx.get(), int64_t(kRounds) * 30000 + 3600000, &settled);
    pacing_stats st = PACING_STATS_INIT;
    pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
    pacing_stats_get(ctx.get(), &st);
    pacing_decision_stats_get(ctx.get(), &ds);
    std::printf("library: %llu users, %llu events, %llu decisions; rewards: %llu explicit, "
                "%llu implicit, %llu default (%llu settled at the end)\n",
                ull(st.users), ull(st.events_applied), ull(ds.decisions), ull(ds.rewards_explicit),
                ull(ds.rewards_implicit), ull(ds.rewards_default), ull(settled));
    if (s.errors != 0) return std::fprintf(stderr, "cpp_service: %ld calls failed\n", s.errors), 1;
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "cpp_service: %s\n", e.what());
    return 1;
}
