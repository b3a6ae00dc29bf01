// C++ check of the public header: pacing.h must compile as C++11 (extern "C",
// no C-only constructs in the *_INIT macros) and link against the shared
// library. Built and run by `make test` (linked to build/libpacing.so).
#include "pacing.h"

#include <cstdio>
#include <cstring>

static_assert(PACING_VERSION_NUMBER == PACING_VERSION_MAJOR * 10000 +
                                           PACING_VERSION_MINOR * 100 +
                                           PACING_VERSION_PATCH,
              "version macros");
static_assert(PACING_AT_LEAST_VERSION(1, 0, 0), "PACING_AT_LEAST_VERSION");

static int fail(const char *what, int rc) {
    std::fprintf(stderr, "cxx_header: %s: %d (%s)\n", what, rc,
                 pacing_strerror(rc));
    return 1;
}

int main() {
    std::printf("libpacing %s, header %s\n", pacing_version_string(),
                PACING_VERSION_STRING);
    if (std::strcmp(pacing_version_string(), PACING_VERSION_STRING) != 0 ||
        pacing_version_number() != PACING_VERSION_NUMBER) {
        std::fprintf(stderr, "cxx_header: header/library version mismatch\n");
        return 1;
    }

    pacing_options opts = PACING_OPTIONS_INIT;
    opts.flags = PACING_OPT_SINGLE_THREAD;
    opts.capacity = 16;
    pacing_ctx *ctx = nullptr;
    int rc = pacing_ctx_new(&opts, &ctx);
    if (rc != PACING_OK || ctx == nullptr)
        return fail("pacing_ctx_new", rc);

    static const char user[] = "alice";
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = PACING_EV_SESSION_START;
    ev.user = user;
    ev.user_len = sizeof user - 1;
    ev.time_ms = 1000;
    ev.channel = PACING_CH_KIOSK;
    rc = pacing_push(ctx, &ev);
    if (rc < 0) {
        pacing_ctx_free(ctx);
        return fail("pacing_push", rc);
    }

    pacing_stats stats = PACING_STATS_INIT;
    rc = pacing_stats_get(ctx, &stats);
    if (rc != PACING_OK) {
        pacing_ctx_free(ctx);
        return fail("pacing_stats_get", rc);
    }
    pacing_scores scores = PACING_SCORES_INIT;
    (void)scores;

    pacing_ctx_free(ctx);
    pacing_ctx_free(nullptr);
    std::printf("cxx_header: OK\n");
    return 0;
}
