/* Throughput benchmarks of libpacing: push, decide, reward, memory,
 * snapshots, threads, and how they scale (issue 7; docs/performance.md).
 *
 *   build/bench/pacing_bench [--cpu-clock] [--reps N] [--big] [--quick]
 *                            [--users N] [--list] [NAME ...]
 *
 * NAME selects sub-benchmarks (default: all those not marked optional):
 *   memlat       memlat_ns_*: the machine's cost of a cache miss (a chain of
 *                dependent loads over 1 MB, 32 MB, 256 MB)
 *   push         push_ns: one hot user (user id bytes, locks on); also by
 *                pseudonym, single-threaded, and with every event in a new
 *                drop-off step (push_step_ns)
 *   push_cold    push_cold_ns: 10^6 users, random order
 *   decide_ts    decide_ts_ns (thompson, K=3, the ten built-in rules with
 *                their defaults) and reward_ns
 *   decide       the same with propensity_draws 0, rules off, both, and
 *                single-threaded
 *   linucb       decide_linucb_ns (d=16, K=3, rules on) and
 *                linucb_d10k5_decide_reward_ns (rules on and off)
 *   memory       bytes_per_user (counting allocator) and the breakdown
 *   snapshot     snapshot_save_ms, snapshot_load_ms (10^6 users)
 *   threads      threads1_ops_s, threads2_ops_s, threads_speedup (mixed)
 *   scale        push_ns and decide_ts_ns at 10^3 and 10^5 users (and 10^7
 *                with --big: RSS and bytes held, against 6 GiB)
 *   evict        memory while 10x capacity distinct users arrive; evictions
 *                of a table whose capacity equals its users
 *   actions      decide cost vs K (2, 8, 32, 64): thompson and linucb d=16
 *   dims         decide and reward cost vs d (2, 8, 16, 32): linucb K=3
 * optional (only by name): threads_diag (the mixed workload with a point per
 *   thread, pushes only, a context per thread), threads_push, mixed1 (one
 *   thread of the mixed workload, for profiles), push_hot, decide_linucb,
 *   decide_ts_draws0, linucb_d10k5 (single configurations, for profiles).
 *
 * Output: a first line describing the machine, then key=value lines (the
 * median over --reps repetitions, default 7); lines starting with '#'
 * explain (spread, workload, time taken). Times are CLOCK_MONOTONIC, or
 * with --cpu-clock CLOCK_THREAD_CPUTIME_ID (the calling thread's CPU time:
 * the time other jobs held the CPU is left out, as is the fsync of a
 * snapshot). The threads benchmark always measures wall time (it is a
 * throughput). --quick divides iteration counts by 20 (valgrind runs).
 * --big adds the 10^7-user scale run (about 7 GB of memory, 2 minutes);
 * --users N runs the scale benchmark at N (10^3, 10^5 or 10^7) only. */
#include "internal.h" /* sizeof of the internal records, for the breakdown */
#include "policy.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Options, clocks, output                                             */
/* ------------------------------------------------------------------ */

static clockid_t bench_clock = CLOCK_MONOTONIC;
static int reps = 7;
static int big = 0;
static uint64_t only_users = 0; /* --users N: the scale run at N users only */
static long quick_div = 1;

static double now_ns_clock(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}
static double now_ns(void) { return now_ns_clock(bench_clock); }

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* key=value with the spread as a comment */
static void put_stat(const char *key, double *v, int n, const char *unit)
{
    double m = median(v, n);
    printf("%s=%.1f\n", key, m);
    printf("# %s: median of %d, min %.1f, max %.1f %s\n", key, n, v[0],
           v[n - 1], unit);
    fflush(stdout);
}

static void put(const char *key, const char *fmt, double v)
{
    printf("%s=", key);
    printf(fmt, v);
    printf("\n");
    fflush(stdout);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "pacing_bench: %s: %s (%d)\n", what, pacing_strerror(rc), rc);
    exit(1);
}

#define CHECK(call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ < 0)                                                           \
            die(#call, rc_);                                                   \
    } while (0)

static long scaled(long n)
{
    long m = n / quick_div;
    return m < 1 ? 1 : m;
}

/* splitmix64: the benchmark's own generator */
static uint64_t sm_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double sm_unit(uint64_t *s) { return (double)(sm_next(s) >> 11) * 0x1.0p-53; }

static uint32_t *permutation(uint64_t n, uint64_t seed)
{
    uint32_t *p = malloc(sizeof *p * n);
    if (!p) {
        perror("malloc");
        exit(1);
    }
    for (uint64_t i = 0; i < n; i++)
        p[i] = (uint32_t)i;
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = sm_next(&seed) % (i + 1);
        uint32_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

/* /proc/self/status: VmRSS or VmHWM in kB */
static long proc_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* ------------------------------------------------------------------ */
/* The counting allocator                                              */
/* ------------------------------------------------------------------ */

typedef struct counter {
    _Atomic uint64_t held, peak, allocs;
} counter;

static void *count_alloc(void *opaque, size_t size)
{
    counter *c = opaque;
    void *p = malloc(size ? size : 1);
    if (p) {
        uint64_t h = atomic_fetch_add(&c->held, size) + size;
        uint64_t pk = atomic_load(&c->peak);
        while (h > pk && !atomic_compare_exchange_weak(&c->peak, &pk, h))
            ;
        atomic_fetch_add(&c->allocs, 1);
    }
    return p;
}

static void count_free(void *opaque, void *ptr, size_t size)
{
    counter *c = opaque;
    atomic_fetch_sub(&c->held, size);
    free(ptr);
}

/* ------------------------------------------------------------------ */
/* Contexts, users, events                                             */
/* ------------------------------------------------------------------ */

/* A user id: 16 bytes ("user-id:" and a 64-bit number), hashed by push. */
typedef struct uid {
    uint64_t tag, n;
} uid;

static uid user_id(uint64_t n)
{
    uid u = {0x3a64692d72657375ull, n};
    return u;
}

typedef struct ctx_cfg {
    uint64_t capacity;    /* 0: default */
    uint32_t flags;       /* PACING_OPT_* besides SECRET */
    uint32_t pending;     /* 0: default */
    counter *count;       /* NULL: malloc */
} ctx_cfg;

static pacing_ctx *make_ctx(const ctx_cfg *c)
{
    pacing_options o;
    pacing_options_init(&o);
    o.flags = PACING_OPT_SECRET | c->flags;
    for (int i = 0; i < 16; i++)
        o.secret[i] = (uint8_t)(0xA5 ^ i);
    o.capacity = c->capacity;
    o.pending_capacity = c->pending;
    o.seed = 42;
    if (c->count) {
        o.allocator.alloc = count_alloc;
        o.allocator.free = count_free;
        o.allocator.opaque = c->count;
    }
    pacing_ctx *ctx;
    CHECK(pacing_ctx_new(&o, &ctx));
    return ctx;
}

static void ev_init(pacing_event *ev, const uid *u, uint32_t type, int64_t t,
                    double v, uint64_t target)
{
    pacing_event e = PACING_EVENT_INIT;
    e.type = type;
    e.user = u;
    e.user_len = sizeof *u;
    e.time_ms = t;
    e.value = v;
    e.target = target;
    e.channel = PACING_CH_WEB;
    *ev = e;
}

static void push1(pacing_ctx *ctx, uint64_t user, uint32_t type, int64_t t,
                  double v, uint64_t target)
{
    uid u = user_id(user);
    pacing_event ev;
    ev_init(&ev, &u, type, t, v, target);
    CHECK(pacing_push(ctx, &ev));
}

/* A user's history before a benchmark: a session with reading, scrolling,
 * clicks, reaction times, hovering. */
static void populate_user(pacing_ctx *ctx, uint64_t user, int64_t t, int full)
{
    push1(ctx, user, PACING_EV_SESSION_START, t, 0, 0);
    push1(ctx, user, PACING_EV_DWELL, t + 100, 12000.0 + (double)(user % 977), 0);
    if (!full)
        return;
    push1(ctx, user, PACING_EV_SCROLL_DEPTH, t + 200, 0.4 + 0.1 * (double)(user % 5), 0);
    push1(ctx, user, PACING_EV_CLICK, t + 300, 150, 7 + user % 3);
    push1(ctx, user, PACING_EV_INPUT_LATENCY, t + 400, 350.0 + (double)(user % 101), 0);
    push1(ctx, user, PACING_EV_READING_SPEED, t + 500, 230.0 + (double)(user % 57), 0);
    push1(ctx, user, PACING_EV_HOVER, t + 600, 700, 0);
}

/* The rotation of event types a benchmark pushes: a mix of value and
 * count events; consecutive events of a user always differ, so nothing is
 * debounced. Clicks change target, so no rage clicks are derived. */
static const uint32_t mix_types[8] = {
    PACING_EV_DWELL,         PACING_EV_SCROLL_DEPTH, PACING_EV_CLICK,
    PACING_EV_HOVER,         PACING_EV_INPUT_LATENCY, PACING_EV_TAB_HIDDEN,
    PACING_EV_READING_SPEED, PACING_EV_TAB_VISIBLE,
};

static double mix_value(uint32_t type, uint64_t i)
{
    switch (type) {
    case PACING_EV_DWELL: return 5000.0 + (double)(i % 20000);
    case PACING_EV_SCROLL_DEPTH: return (double)(i % 100) / 100.0;
    case PACING_EV_CLICK: return 80.0 + (double)(i % 200);
    case PACING_EV_HOVER: return 300.0 + (double)(i % 1500);
    case PACING_EV_INPUT_LATENCY: return 250.0 + (double)(i % 400);
    case PACING_EV_READING_SPEED: return 180.0 + (double)(i % 120);
    default: return 0.0;
    }
}

/* ------------------------------------------------------------------ */
/* Machine                                                             */
/* ------------------------------------------------------------------ */

static void machine_line(void)
{
    char model[256] = "unknown", load[128] = "?";
    int procs = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "processor", 9) == 0)
                procs++;
            if (strncmp(line, "model name", 10) == 0 && strcmp(model, "unknown") == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    c++;
                    while (*c == ' ' || *c == '\t')
                        c++;
                    snprintf(model, sizeof model, "%s", c);
                    model[strcspn(model, "\n")] = '\0';
                }
            }
        }
        fclose(f);
    }
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(load, sizeof load, f)) {
            /* the three averages only */
            char *p = load;
            for (int sp = 0; *p; p++)
                if (*p == ' ' && ++sp == 3) {
                    *p = '\0';
                    break;
                }
        }
        fclose(f);
    }
    long mem_kb = -1;
    f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemTotal: %ld kB", &mem_kb) == 1)
                break;
        fclose(f);
    }
    struct utsname un;
    if (uname(&un) != 0)
        strcpy(un.release, "?");
#if defined(__clang__)
    const char *cc = "clang";
#elif defined(__GNUC__)
    const char *cc = "gcc";
#else
    const char *cc = "cc";
#endif
    printf("machine cpu=\"%s\" cores=%d online=%ld mem_gib=%.1f loadavg=\"%s\" "
           "kernel=\"%s\" compiler=\"%s %s\" optimized=%d libpacing=%s "
           "clock=%s reps=%d\n",
           model, procs, sysconf(_SC_NPROCESSORS_ONLN),
           mem_kb > 0 ? (double)mem_kb / 1048576.0 : -1.0, load, un.release, cc,
           __VERSION__,
#ifdef __OPTIMIZE__
           1,
#else
           0,
#endif
           pacing_version_string(),
           bench_clock == CLOCK_MONOTONIC ? "monotonic" : "thread_cputime", reps);
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* push                                                                */
/* ------------------------------------------------------------------ */

enum { PUSH_BYTES, PUSH_PSEUDO, PUSH_SINGLE, PUSH_STEP };

/* One hot user: the mixed event rotation, 5 ms apart (every 2000th event
 * enters a new 10 s step of the drop-off model), or 10 s apart for
 * PUSH_STEP (every event does). */
static void bench_push_hot(int variant, const char *key)
{
    ctx_cfg cc = {0, variant == PUSH_SINGLE ? PACING_OPT_SINGLE_THREAD : 0, 0, NULL};
    pacing_ctx *ctx = make_ctx(&cc);
    uid u = user_id(1);
    int64_t t = 1700000000000LL;
    uint64_t pseudo;
    CHECK(pacing_pseudonym(ctx, &u, sizeof u, &pseudo));
    populate_user(ctx, 1, t, 1);
    t += 1000;
    int64_t dt = variant == PUSH_STEP ? 10000 : 5;
    long n = scaled(variant == PUSH_STEP ? 200000 : 1000000);
    pacing_event evs[64];
    for (int i = 0; i < 64; i++) {
        uint32_t ty = mix_types[i % 8];
        ev_init(&evs[i], &u, ty, 0, mix_value(ty, (uint64_t)i * 7919), (uint64_t)i + 100);
        if (variant == PUSH_PSEUDO || variant == PUSH_SINGLE) {
            evs[i].flags = PACING_EVF_PSEUDONYM;
            evs[i].user = NULL;
            evs[i].user_len = 0;
            evs[i].pseudonym = pseudo;
        }
    }
    double *r = malloc(sizeof *r * (size_t)reps);
    for (int rep = -1; rep < reps; rep++) { /* rep -1: warm-up */
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            pacing_event *ev = &evs[i & 63];
            ev->time_ms = t;
            t += dt;
            if (pacing_push(ctx, ev) != PACING_OK)
                die("push", -1);
        }
        double el = now_ns() - t0;
        if (rep >= 0)
            r[rep] = el / (double)n;
    }
    put_stat(key, r, reps, "ns per push");
    free(r);
    pacing_ctx_free(ctx);
}

/* A capacity that holds n users: stripes fill independently (a user's
 * stripe is a hash of its pseudonym), so a table of capacity exactly n
 * holds only about n - sqrt(n * stripes) of n users and the overflowing
 * stripes evict (see bench_evict). Five standard deviations of a stripe's
 * load are added. */
static uint64_t capacity_for(uint64_t n)
{
    uint64_t s = 64;
    for (;;) {
        uint64_t cap = n + (uint64_t)(5.0 * sqrt((double)n * (double)s)) + 1;
        uint64_t st = 64;
        while (st > 1 && cap / st < 64)
            st >>= 1;
        if (st == s)
            return cap;
        s = st;
    }
}

/* push over n users in random order (a fresh permutation per repetition),
 * the table's capacity n. Simulated time advances so that each user gets
 * an event every second on average (so one event in ten enters a new
 * drop-off step, whatever n). */
static double push_users(uint64_t n_users, long n_push, const char *key,
                         int report_mem)
{
    ctx_cfg cc = {capacity_for(n_users), 0, 0, NULL};
    counter cnt = {0, 0, 0};
    cc.count = &cnt;
    double s0 = now_ns_clock(CLOCK_MONOTONIC);
    pacing_ctx *ctx = make_ctx(&cc);
    int64_t t0 = 1700000000000LL;
    for (uint64_t i = 0; i < n_users; i++)
        populate_user(ctx, i, t0 + (int64_t)(i * 1000 / n_users), 0);
    double setup_s = (now_ns_clock(CLOCK_MONOTONIC) - s0) / 1e9;
    int64_t t = t0 + 1000;
    uint64_t k = 0;
    double *r = malloc(sizeof *r * (size_t)reps);
    for (int rep = -1; rep < reps; rep++) {
        uint32_t *perm = permutation(n_users, 1234 + (uint64_t)rep);
        double el = 0;
        long done = 0;
        while (done < n_push) {
            /* chunks of at most n_users events (one pass of the permutation) */
            long m = n_push - done < (long)n_users ? n_push - done : (long)n_users;
            double a = now_ns();
            for (long i = 0; i < m; i++, k++) {
                uid u = user_id(perm[i]);
                uint32_t ty = mix_types[(k / n_users + perm[i]) & 7];
                pacing_event ev;
                ev_init(&ev, &u, ty, t + (int64_t)(k * 1000 / n_users),
                        mix_value(ty, k), k + 1);
                if (pacing_push(ctx, &ev) != PACING_OK)
                    die("push", -1);
            }
            el += now_ns() - a;
            done += m;
        }
        free(perm);
        if (rep >= 0)
            r[rep] = el / (double)n_push;
    }
    double m = median(r, reps);
    put_stat(key, r, reps, "ns per push");
    pacing_stats st0 = PACING_STATS_INIT;
    CHECK(pacing_stats_get(ctx, &st0));
    printf("# %s: %llu users, capacity %llu, setup %.1f s, users held %llu, "
           "evicted %llu\n", key, (unsigned long long)n_users,
           (unsigned long long)cc.capacity, setup_s, (unsigned long long)st0.users,
           (unsigned long long)st0.users_evicted_lru);
    if (report_mem) {
        pacing_stats st = PACING_STATS_INIT;
        CHECK(pacing_stats_get(ctx, &st));
        printf("users_1e7_capacity=%llu\n", (unsigned long long)cc.capacity);
        printf("users_1e7_bytes_held=%llu\n", (unsigned long long)atomic_load(&cnt.held));
        printf("users_1e7_rss_kb=%ld\n", proc_status_kb("VmRSS"));
        printf("users_1e7_users_held=%llu\n", (unsigned long long)st.users);
        double gib = (double)atomic_load(&cnt.held) / (1024.0 * 1024.0 * 1024.0);
        printf("users_1e7_bytes_held_gib=%.2f\n", gib);
        printf("users_1e7_fits_6gib=%s\n", gib < 6.0 ? "yes" : "no");
    }
    free(r);
    pacing_ctx_free(ctx);
    return m;
}

/* ------------------------------------------------------------------ */
/* decide and reward                                                   */
/* ------------------------------------------------------------------ */

/* The decide workload. A point with K actions: K-1 showing actions and a
 * quiet "skip" that is the safe action; thompson or a contextual policy.
 * Rules on: the ten built-in rules, global, default parameters. Requests
 * carry the CONSENT flag, the user's id bytes and, for the contextual
 * policies, d uniform(-1, 1) features.
 *
 * Rounds: a batch of users is chosen (all of them when there are no more
 * than `batch`, else the next `batch` of a random permutation); untimed,
 * each pushes SESSION_START and a DWELL (a new session: the session budget
 * starts over, the drop-off model has an open session to score); timed,
 * each is decided; untimed, rewards are drawn (Bernoulli for thompson,
 * linear plus noise for the contextual policies); timed, each decision is
 * rewarded explicitly. The clock then moves 31 minutes on, at local noon
 * (utc_offset_min), so that under the default rules (min_gap 20 s,
 * frequency_cap 3 per hour, session_budget 3, quiet hours 22-07) the
 * decisions are allowed and the policy chooses: the veto share is
 * reported. Before timing, `train` rounds run untimed so that the policy
 * is past its prior. */
typedef struct dcfg {
    const char *policy;
    uint32_t k, d;
    int rules;
    int draws;         /* propensity_draws; -1: the default (16) */
    uint64_t users;    /* users in the rotation */
    uint64_t capacity; /* 0: default (100000) */
    uint32_t batch;
    int train;         /* untimed rounds first */
    long per_rep;      /* decisions per repetition */
    int single;        /* PACING_OPT_SINGLE_THREAD */
} dcfg;

typedef struct dres {
    double decide_ns, reward_ns, both_ns;
    double decide_min, decide_max;
    double vetoed_frac, safe_frac;
} dres;

typedef struct denv {
    pacing_ctx *ctx;
    uint32_t point;
    dcfg c;
    uint32_t *perm;
    uint64_t pos;
    uint64_t *ids;
    uint32_t *users, *acts;
    double *rv, *xs;
    double mu[64], theta[64][33];
    int64_t T;
    uint64_t rng;
    uint64_t n_dec, n_veto, n_safe;
} denv;

static void add_default_rules(pacing_ctx *ctx)
{
    static const char *const mods[] = {
        "frequency_cap", "min_gap", "quiet_hours", "fatigue_ceiling",
        "load_ceiling", "dropoff_ceiling", "session_budget", "sensitive_state",
        "consent", "opt_out"};
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
        rs.module = mods[i];
        CHECK(pacing_rule_add(ctx, &rs, NULL));
    }
}

static void denv_init(denv *e, const dcfg *c)
{
    memset(e, 0, sizeof *e);
    e->c = *c;
    uint32_t B = c->batch;
    ctx_cfg cc = {c->capacity, c->single ? PACING_OPT_SINGLE_THREAD : 0,
                  B > 4096 ? 2 * B : 0, NULL};
    e->ctx = make_ctx(&cc);
    static char names[64][8];
    const char *acts[64];
    for (uint32_t a = 0; a < c->k; a++) {
        snprintf(names[a], sizeof names[a], "a%u", a);
        acts[a] = names[a];
    }
    acts[c->k - 1] = "skip";
    pacing_point_spec ps = PACING_POINT_SPEC_INIT;
    ps.name = "bench";
    ps.actions = acts;
    ps.n_actions = c->k;
    ps.policy = c->policy;
    pacing_param pp = {"propensity_draws", (double)c->draws};
    if (c->draws >= 0) {
        ps.params = &pp;
        ps.n_params = 1;
    }
    ps.context_dim = c->d;
    ps.quiet_actions = 1ull << (c->k - 1);
    ps.safe_action = (int32_t)(c->k - 1);
    CHECK(pacing_point_add(e->ctx, &ps, &e->point));
    if (c->rules)
        add_default_rules(e->ctx);
    e->rng = 0x5eed;
    for (uint32_t a = 0; a < c->k; a++) {
        e->mu[a] = a + 1 == c->k ? 0.04 : 0.06 + 0.04 * sm_unit(&e->rng);
        for (uint32_t j = 0; j <= c->d; j++)
            e->theta[a][j] = (sm_unit(&e->rng) - 0.5) / sqrt((double)c->d + 1.0);
    }
    e->T = 1700000000000LL;
    for (uint64_t i = 0; i < c->users; i++)
        populate_user(e->ctx, i, e->T + (int64_t)(i * 1000 / c->users), c->users <= 1000000);
    e->T += 3600000;
    if (c->users > B)
        e->perm = permutation(c->users, 99);
    e->ids = malloc(sizeof *e->ids * B);
    e->users = malloc(sizeof *e->users * B);
    e->acts = malloc(sizeof *e->acts * B);
    e->rv = malloc(sizeof *e->rv * B);
    e->xs = malloc(sizeof *e->xs * B * (c->d ? c->d : 1));
    if (!e->ids || !e->users || !e->acts || !e->rv || !e->xs) {
        perror("malloc");
        exit(1);
    }
}

static void denv_free(denv *e)
{
    pacing_ctx_free(e->ctx);
    free(e->perm);
    free(e->ids);
    free(e->users);
    free(e->acts);
    free(e->rv);
    free(e->xs);
}

/* One round; adds the timed decide and reward nanoseconds. */
static uint32_t round_run(denv *e, double *t_dec, double *t_rew)
{
    const dcfg *c = &e->c;
    uint32_t B = c->users < c->batch ? (uint32_t)c->users : c->batch;
    for (uint32_t i = 0; i < B; i++) {
        if (e->perm) {
            e->users[i] = e->perm[e->pos];
            e->pos = (e->pos + 1) % c->users;
        } else {
            e->users[i] = i;
        }
    }
    int64_t T = e->T;
    for (uint32_t i = 0; i < B; i++) {
        push1(e->ctx, e->users[i], PACING_EV_SESSION_START, T - 3000, 0, 0);
        push1(e->ctx, e->users[i], PACING_EV_DWELL, T - 2000,
              8000.0 + (double)(sm_next(&e->rng) % 8000), 0);
    }
    for (uint64_t i = 0; i < (uint64_t)B * c->d; i++)
        e->xs[i] = 2.0 * sm_unit(&e->rng) - 1.0;
    int32_t off = (int32_t)(720 - (T / 60000) % 1440); /* local noon */
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = e->point;
    rq.flags = PACING_REQ_CONSENT;
    rq.channel = PACING_CH_WEB;
    rq.utc_offset_min = off;
    rq.context_len = c->d;
    pacing_decision d = PACING_DECISION_INIT;
    uid u;
    rq.user = &u;
    rq.user_len = sizeof u;
    double a0 = now_ns();
    for (uint32_t i = 0; i < B; i++) {
        u = user_id(e->users[i]);
        rq.now_ms = T + i;
        rq.context = c->d ? e->xs + (size_t)i * c->d : NULL;
        if (pacing_decide(e->ctx, &rq, &d) != PACING_OK)
            die("decide", -1);
        e->ids[i] = d.id;
        e->acts[i] = d.action;
        e->n_veto += (d.reasons & PACING_DR_VETOED) != 0;
        e->n_safe += (d.reasons & PACING_DR_SAFE) != 0;
    }
    double a1 = now_ns();
    e->n_dec += B;
    for (uint32_t i = 0; i < B; i++) {
        uint32_t a = e->acts[i];
        if (c->d == 0) {
            e->rv[i] = sm_unit(&e->rng) < e->mu[a] ? 1.0 : 0.0;
        } else {
            const double *x = e->xs + (size_t)i * c->d;
            double z = e->theta[a][c->d];
            for (uint32_t j = 0; j < c->d; j++)
                z += e->theta[a][j] * x[j];
            e->rv[i] = z + 0.1 * (sm_unit(&e->rng) - 0.5);
        }
    }
    int64_t tr = T + B + 1000;
    double b0 = now_ns();
    for (uint32_t i = 0; i < B; i++)
        if (e->ids[i] && pacing_reward(e->ctx, e->ids[i], e->rv[i], tr) != PACING_OK)
            die("reward", -1);
    double b1 = now_ns();
    e->T += 31 * 60000;
    *t_dec += a1 - a0;
    *t_rew += b1 - b0;
    return B;
}

static dres bench_decide(const dcfg *c)
{
    denv e;
    denv_init(&e, c);
    double td = 0, tw = 0;
    for (int i = 0; i < c->train; i++)
        round_run(&e, &td, &tw);
    e.n_dec = e.n_veto = e.n_safe = 0;
    double *rd = malloc(sizeof *rd * (size_t)reps), *rr = malloc(sizeof *rr * (size_t)reps),
           *rb = malloc(sizeof *rb * (size_t)reps);
    long per = scaled(c->per_rep);
    for (int rep = 0; rep < reps; rep++) {
        td = tw = 0;
        long n = 0;
        while (n < per)
            n += round_run(&e, &td, &tw);
        rd[rep] = td / (double)n;
        rr[rep] = tw / (double)n;
        rb[rep] = (td + tw) / (double)n;
    }
    dres res;
    res.decide_ns = median(rd, reps);
    res.reward_ns = median(rr, reps);
    res.both_ns = median(rb, reps);
    res.decide_min = rd[0]; /* sorted by median() */
    res.decide_max = rd[reps - 1];
    res.vetoed_frac = (double)e.n_veto / (double)e.n_dec;
    res.safe_frac = (double)e.n_safe / (double)e.n_dec;
    free(rd);
    free(rr);
    free(rb);
    denv_free(&e);
    return res;
}

static dcfg dcfg_ts(void)
{
    dcfg c = {"thompson", 3, 0, 1, -1, 256, 0, 256, 40, 100000, 0};
    return c;
}

static void put_decide(const char *key, const dcfg *c, int with_reward,
                       const char *reward_key)
{
    dres r = bench_decide(c);
    printf("%s=%.1f\n", key, r.decide_ns);
    char draws[32] = "-";
    if (strcmp(c->policy, "linucb") != 0)
        snprintf(draws, sizeof draws, "%d", c->draws < 0 ? 16 : c->draws);
    printf("# %s: policy %s K=%u d=%u rules %s propensity_draws %s, %llu users "
           "(batch %u); median of %d, min %.1f, max %.1f ns; vetoed %.3f safe "
           "%.3f\n",
           key, c->policy, c->k, c->d, c->rules ? "on" : "off",
           draws, (unsigned long long)c->users, c->batch,
           reps, r.decide_min, r.decide_max, r.vetoed_frac, r.safe_frac);
    if (with_reward)
        printf("%s=%.1f\n", reward_key, r.reward_ns);
    fflush(stdout);
}

static void bench_decide_ts(void)
{
    dcfg c = dcfg_ts();
    put_decide("decide_ts_ns", &c, 1, "reward_ns");
}

/* what decide_ts_ns is made of: propensity draws, rules, locks */
static void bench_decide_variants(void)
{
    dcfg c = dcfg_ts();
    c.per_rep = 65536;
    c.draws = 0;
    put_decide("decide_ts_ns_draws0", &c, 1, "reward_ns_draws0");
    c.draws = -1;
    c.rules = 0;
    put_decide("decide_ts_ns_norules", &c, 0, NULL);
    c.draws = 0;
    put_decide("decide_ts_ns_draws0_norules", &c, 0, NULL);
    c = dcfg_ts();
    c.per_rep = 65536;
    c.single = 1;
    put_decide("decide_ts_ns_single_thread", &c, 1, "reward_ns_single_thread");
}

static void bench_linucb(void)
{
    dcfg c = {"linucb", 3, 16, 1, -1, 256, 0, 256, 10, 65536, 0};
    put_decide("decide_linucb_ns", &c, 1, "reward_linucb_ns");
    c.k = 5;
    c.d = 10;
    dres r = bench_decide(&c);
    printf("linucb_d10k5_decide_reward_ns=%.1f\n", r.both_ns);
    printf("# linucb_d10k5: decide %.1f + reward %.1f ns (rules on, vetoed %.3f)\n",
           r.decide_ns, r.reward_ns, r.vetoed_frac);
    c.rules = 0;
    r = bench_decide(&c);
    printf("linucb_d10k5_decide_reward_ns_norules=%.1f\n", r.both_ns);
    printf("# linucb_d10k5 rules off: decide %.1f + reward %.1f ns\n", r.decide_ns,
           r.reward_ns);
    fflush(stdout);
}

static void bench_linucb1(void)
{
    dcfg c = {"linucb", 3, 16, 1, -1, 256, 0, 256, 10, 65536, 0};
    put_decide("decide_linucb_ns", &c, 1, "reward_linucb_ns");
}

static void bench_decide_ts_draws0(void)
{
    dcfg c = dcfg_ts();
    c.draws = 0;
    put_decide("decide_ts_ns_draws0", &c, 1, "reward_ns_draws0");
}

static void bench_linucb_d10k5(void)
{
    dcfg c = {"linucb", 5, 10, 1, -1, 256, 0, 256, 10, 65536, 0};
    dres r = bench_decide(&c);
    printf("linucb_d10k5_decide_reward_ns=%.1f\n", r.both_ns);
}

static void bench_actions(void)
{
    static const uint32_t ks[] = {2, 8, 32, 64};
    char key[64];
    for (int i = 0; i < 4; i++) {
        dcfg c = dcfg_ts();
        c.k = ks[i];
        c.per_rep = 8192;
        c.train = ks[i] >= 32 ? 160 : 40;
        snprintf(key, sizeof key, "decide_ts_ns_k%u", ks[i]);
        put_decide(key, &c, 0, NULL);
        c.rules = 0;
        snprintf(key, sizeof key, "decide_ts_ns_k%u_norules", ks[i]);
        put_decide(key, &c, 0, NULL);
    }
    for (int i = 0; i < 4; i++) {
        dcfg c = {"linucb", ks[i], 16, 1, -1, 256, 0, 256, 10, 8192, 0};
        snprintf(key, sizeof key, "decide_linucb_ns_k%u", ks[i]);
        put_decide(key, &c, 0, NULL);
    }
}

static void bench_dims(void)
{
    static const uint32_t ds[] = {2, 8, 16, 32};
    char key[64], rkey[64];
    for (int i = 0; i < 4; i++) {
        dcfg c = {"linucb", 3, ds[i], 1, -1, 256, 0, 256, 10, 16384, 0};
        snprintf(key, sizeof key, "decide_linucb_ns_d%u", ds[i]);
        snprintf(rkey, sizeof rkey, "reward_linucb_ns_d%u", ds[i]);
        put_decide(key, &c, 1, rkey);
    }
}

/* ------------------------------------------------------------------ */
/* memory                                                              */
/* ------------------------------------------------------------------ */

static uint64_t held_for(uint64_t capacity, uint32_t *stripes)
{
    counter cnt = {0, 0, 0};
    ctx_cfg cc = {capacity, 0, 0, &cnt};
    pacing_ctx *ctx = make_ctx(&cc);
    uint64_t h = atomic_load(&cnt.held);
    pacing_stats st = PACING_STATS_INIT;
    CHECK(pacing_stats_get(ctx, &st));
    if (st.bytes_allocated != h)
        fprintf(stderr, "pacing_bench: bytes_allocated %llu != counted %llu\n",
                (unsigned long long)st.bytes_allocated, (unsigned long long)h);
    if (stripes)
        *stripes = ctx->n_stripes;
    pacing_ctx_free(ctx);
    if (atomic_load(&cnt.held) != 0)
        fprintf(stderr, "pacing_bench: %llu bytes not freed\n",
                (unsigned long long)atomic_load(&cnt.held));
    return h;
}

static void bench_memory(void)
{
    uint32_t ns;
    uint64_t h1 = held_for(1000000, &ns);
    uint64_t h2 = held_for(2000000, NULL);
    put("bytes_per_user", "%.1f", (double)h1 / 1e6);
    printf("# bytes_per_user: bytes held by a context of capacity 10^6 (default "
           "options, counting allocator) / capacity; %llu bytes in all\n",
           (unsigned long long)h1);
    put("bytes_per_user_marginal", "%.1f", (double)(h2 - h1) / 1e6);
    /* the breakdown */
    uint64_t per = 1000000 / ns + (1000000 % ns != 0);
    uint64_t isize = 4;
    while (isize < 2 * per)
        isize <<= 1;
    printf("sizeof_pc_user=%zu\n", sizeof(pc_user));
    printf("sizeof_pc_features=%zu\n", sizeof(pc_features));
    printf("index_bytes_per_user=%.1f\n", (double)(ns * isize * 4) / 1e6);
    printf("sizeof_pc_pending=%zu\n", sizeof(pc_pending));
    printf("pending_ring_bytes=%zu\n", (size_t)16384 * sizeof(pc_pending));
    printf("log_bytes=%zu\n", (size_t)4096 * sizeof(pacing_log_entry));
    printf("sizeof_pacing_ctx=%zu\n", sizeof(pacing_ctx));
    printf("sizeof_pc_stripe=%zu\n", sizeof(pc_stripe));
    printf("# user record: identity/times/LRU/flags %zu, click run %zu, "
           "debounce %zu, session/error/form %zu, pending head %zu, recent "
           "%zu, features %zu\n",
           offsetof(pc_user, click_target) - 0,
           offsetof(pc_user, last_ev_hash) - offsetof(pc_user, click_target),
           offsetof(pc_user, session_start_ms) - offsetof(pc_user, last_ev_hash),
           offsetof(pc_user, pending_head) - offsetof(pc_user, session_start_ms),
           offsetof(pc_user, recent_t) - offsetof(pc_user, pending_head),
           offsetof(pc_user, feat) - offsetof(pc_user, recent_t), sizeof(pc_features));
    static const uint64_t caps[] = {1000, 100000, 10000000};
    for (int i = 0; i < 3; i++) {
        if (caps[i] == 10000000 && !big)
            continue;
        uint64_t h = held_for(caps[i], NULL);
        printf("bytes_held_capacity_%s=%llu\n", i == 0 ? "1e3" : i == 1 ? "1e5" : "1e7",
               (unsigned long long)h);
    }
    fflush(stdout);
}

/* eviction: a table of 10^5 users sees 10^6 distinct users */
static void bench_evict(void)
{
    counter cnt = {0, 0, 0};
    uint64_t cap = (uint64_t)scaled(100000), n = (uint64_t)scaled(1000000);
    ctx_cfg cc = {cap, 0, 0, &cnt};
    pacing_ctx *ctx = make_ctx(&cc);
    int64_t t = 1700000000000LL;
    for (uint64_t i = 0; i < cap; i++)
        populate_user(ctx, i, t + (int64_t)i, 1);
    uint64_t h0 = atomic_load(&cnt.held);
    long rss0 = proc_status_kb("VmRSS");
    double a = now_ns();
    for (uint64_t i = cap; i < n; i++)
        populate_user(ctx, i, t + (int64_t)i, 1);
    double el = now_ns() - a;
    uint64_t h1 = atomic_load(&cnt.held);
    long rss1 = proc_status_kb("VmRSS");
    pacing_stats st = PACING_STATS_INIT;
    CHECK(pacing_stats_get(ctx, &st));
    printf("evict_capacity=%llu\nevict_users_seen=%llu\nevict_users_held=%llu\n"
           "evict_users_evicted=%llu\nevict_bytes_held_growth=%lld\n"
           "evict_rss_growth_kb=%ld\n",
           (unsigned long long)cap, (unsigned long long)n,
           (unsigned long long)st.users, (unsigned long long)st.users_evicted_lru,
           (long long)(h1 - h0), rss1 - rss0);
    printf("evict_push_ns=%.1f\n", el / (double)((n - cap) * 7));
    printf("# evict: 7 events per new user, each new user evicts the least "
           "recently used one\n");
    fflush(stdout);
    pacing_ctx_free(ctx);

    /* a table of capacity exactly n, n users, each pass of a random
     * permutation pushes once for every user: the stripes that hash more
     * than their share of the n users evict */
    ctx_cfg ce = {cap, 0, 0, NULL};
    ctx = make_ctx(&ce);
    for (uint64_t i = 0; i < cap; i++)
        populate_user(ctx, i, t + (int64_t)i, 0);
    pacing_stats s0 = PACING_STATS_INIT, s1 = PACING_STATS_INIT;
    CHECK(pacing_stats_get(ctx, &s0));
    t += 2 * (int64_t)cap;
    for (int pass = 0; pass < 3; pass++) {
        uint32_t *perm = permutation(cap, 4242 + (uint64_t)pass);
        for (uint64_t i = 0; i < cap; i++, t++)
            push1(ctx, perm[i], PACING_EV_DWELL, t, 1000.0 + (double)(i % 1000), 0);
        free(perm);
    }
    CHECK(pacing_stats_get(ctx, &s1));
    printf("exact_capacity_users_held=%llu\nexact_capacity_evicted_per_push=%.3f\n",
           (unsigned long long)s0.users,
           (double)(s1.users_evicted_lru - s0.users_evicted_lru) / (3.0 * (double)cap));
    printf("# exact_capacity: capacity %llu, %llu users, 3 passes in random order: "
           "share of pushes that evicted a user (and started one afresh)\n",
           (unsigned long long)cap, (unsigned long long)cap);
    fflush(stdout);
    pacing_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* snapshots                                                           */
/* ------------------------------------------------------------------ */

static pacing_ctx *snap_ctx(uint64_t cap)
{
    ctx_cfg cc = {cap, 0, 0, NULL};
    pacing_ctx *ctx = make_ctx(&cc);
    static const char *acts[] = {"show", "later", "skip"};
    pacing_point_spec ps = PACING_POINT_SPEC_INIT;
    ps.name = "cta";
    ps.actions = acts;
    ps.n_actions = 3;
    ps.policy = "thompson";
    ps.quiet_actions = 6;
    ps.safe_action = 2;
    uint32_t pt;
    CHECK(pacing_point_add(ctx, &ps, &pt));
    add_default_rules(ctx);
    return ctx;
}

static void bench_snapshot(void)
{
    uint64_t n = scaled(1000000);
    pacing_ctx *a = snap_ctx(n), *b = snap_ctx(n);
    int64_t t = 1700000000000LL;
    double s0 = now_ns_clock(CLOCK_MONOTONIC);
    for (uint64_t i = 0; i < n; i++)
        populate_user(a, i, t + (int64_t)(i / 10), 1);
    /* some decisions pending */
    pacing_request rq = PACING_REQUEST_INIT;
    pacing_decision d = PACING_DECISION_INIT;
    rq.flags = PACING_REQ_CONSENT;
    rq.utc_offset_min = (int32_t)(720 - ((t + 200000) / 60000) % 1440);
    for (uint64_t i = 0; i < 8000; i++) {
        uid u = user_id(i * 97 % n);
        rq.user = &u;
        rq.user_len = sizeof u;
        rq.now_ms = t + (int64_t)(n / 10) + 1000 + (int64_t)i;
        CHECK(pacing_decide(a, &rq, &d));
    }
    printf("# snapshot: %llu users with 7 events each, 8000 decisions pending; "
           "setup %.1f s\n",
           (unsigned long long)n, (now_ns_clock(CLOCK_MONOTONIC) - s0) / 1e9);
    fflush(stdout);
    char path[256];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/pacing_bench_%ld.snap", dir ? dir : "/tmp",
             (long)getpid());
    int nr = reps < 5 ? reps : 5;
    double *rs = malloc(sizeof *rs * (size_t)nr), *rl = malloc(sizeof *rl * (size_t)nr);
    long size = 0;
    for (int rep = 0; rep < nr; rep++) {
        double x0 = now_ns();
        CHECK(pacing_snapshot_save(a, path));
        double x1 = now_ns();
        CHECK(pacing_snapshot_load(b, path));
        double x2 = now_ns();
        rs[rep] = (x1 - x0) / 1e6;
        rl[rep] = (x2 - x1) / 1e6;
        FILE *f = fopen(path, "rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            size = ftell(f);
            fclose(f);
        }
        fprintf(stderr, "snapshot rep %d: save %.0f ms load %.0f ms\n", rep,
                rs[rep], rl[rep]);
    }
    unlink(path);
    put_stat("snapshot_save_ms", rs, nr, "ms (includes fsync)");
    put_stat("snapshot_load_ms", rl, nr, "ms");
    printf("snapshot_bytes=%ld\n", size);
    printf("snapshot_payload_bytes_per_user=%zu\n", sizeof(pc_user));
    pacing_stats sa = PACING_STATS_INIT, sb = PACING_STATS_INIT;
    CHECK(pacing_stats_get(a, &sa));
    CHECK(pacing_stats_get(b, &sb));
    if (sa.users != sb.users)
        fprintf(stderr, "pacing_bench: loaded %llu users of %llu\n",
                (unsigned long long)sb.users, (unsigned long long)sa.users);
    fflush(stdout);
    free(rs);
    free(rl);
    pacing_ctx_free(a);
    pacing_ctx_free(b);
}

/* ------------------------------------------------------------------ */
/* threads                                                             */
/* ------------------------------------------------------------------ */

static double last_util; /* CPU time / wall time of the last threads_run */

/* The mixed workload: cycles of 10 calls, 8 pushes to random users of the
 * thread's own half of 10^5 users, one decide (thompson, K=3, the default
 * rules) for a random user and one explicit reward of it. Each thread
 * keeps its own simulated clock (1 ms per cycle). One shared context and
 * one shared decision point. */
typedef struct tjob {
    pacing_ctx *ctx;
    uint32_t point;
    int push_only;
    uint64_t first, n_users;
    long cycles;
    pthread_barrier_t *bar;
    double wall;
} tjob;

static void *thread_main(void *arg)
{
    tjob *j = arg;
    uint64_t rng = 777 + j->first;
    int64_t t = 1700000000000LL + 3600000;
    pacing_request rq = PACING_REQUEST_INIT;
    pacing_decision d = PACING_DECISION_INIT;
    rq.point = j->point;
    rq.flags = PACING_REQ_CONSENT;
    rq.channel = PACING_CH_WEB;
    pthread_barrier_wait(j->bar);
    uint64_t k = 0;
    for (long c = 0; c < j->cycles; c++, t++) {
        for (int i = 0; i < 8; i++, k++) {
            uid u = user_id(j->first + sm_next(&rng) % j->n_users);
            uint32_t ty = mix_types[k & 7];
            pacing_event ev;
            ev_init(&ev, &u, ty, t, mix_value(ty, k), k + 1);
            pacing_push(j->ctx, &ev);
        }
        if (j->push_only) {
            for (int i = 0; i < 2; i++, k++) {
                uid v = user_id(j->first + sm_next(&rng) % j->n_users);
                uint32_t ty = mix_types[k & 7];
                pacing_event ev;
                ev_init(&ev, &v, ty, t, mix_value(ty, k), k + 1);
                pacing_push(j->ctx, &ev);
            }
            continue;
        }
        uid u = user_id(j->first + sm_next(&rng) % j->n_users);
        rq.user = &u;
        rq.user_len = sizeof u;
        rq.now_ms = t;
        rq.utc_offset_min = (int32_t)(720 - (t / 60000) % 1440);
        if (pacing_decide(j->ctx, &rq, &d) == PACING_OK && d.id)
            pacing_reward(j->ctx, d.id, sm_unit(&rng) < 0.1 ? 1.0 : 0.0, t);
    }
    return NULL;
}

static pacing_ctx *threads_ctx(uint32_t pt[2])
{
    ctx_cfg cc = {100000, 0, 0, NULL};
    pacing_ctx *ctx = make_ctx(&cc);
    static const char *acts[] = {"show_a", "show_b", "skip"};
    pacing_point_spec ps = PACING_POINT_SPEC_INIT;
    ps.name = "cta";
    ps.actions = acts;
    ps.n_actions = 3;
    ps.policy = "thompson";
    ps.quiet_actions = 4;
    ps.safe_action = 2;
    CHECK(pacing_point_add(ctx, &ps, &pt[0]));
    ps.name = "cta2";
    CHECK(pacing_point_add(ctx, &ps, &pt[1]));
    add_default_rules(ctx);
    for (uint64_t i = 0; i < 100000; i++)
        populate_user(ctx, i, 1700000000000LL + (int64_t)(i / 100), 0);
    return ctx;
}

/* mode 0: one shared decision point; 1: a point per thread; 2: pushes
 * only (10 per cycle); 3: the mixed workload with a context per thread
 * (nothing shared: what the machine gives two threads) */
static double threads_run(int nt, long cycles, int mode)
{
    uint32_t pt[2];
    pacing_ctx *ctxs[2] = {threads_ctx(pt), NULL};
    if (mode == 3 && nt == 2)
        ctxs[1] = threads_ctx(pt);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)nt + 1);
    tjob jobs[2];
    pthread_t th[2];
    for (int i = 0; i < nt; i++) {
        jobs[i].ctx = ctxs[mode == 3 ? i : 0];
        jobs[i].point = pt[mode == 1 ? i : 0];
        jobs[i].push_only = mode == 2;
        jobs[i].first = (uint64_t)i * 50000;
        jobs[i].n_users = 50000;
        jobs[i].cycles = cycles;
        jobs[i].bar = &bar;
        pthread_create(&th[i], NULL, thread_main, &jobs[i]);
    }
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = now_ns_clock(CLOCK_MONOTONIC);
    pthread_barrier_wait(&bar);
    for (int i = 0; i < nt; i++)
        pthread_join(th[i], NULL);
    double wall = now_ns_clock(CLOCK_MONOTONIC) - t0;
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec +
                          r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e9 +
                 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec +
                          r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) * 1e3;
    pthread_barrier_destroy(&bar);
    pacing_ctx_free(ctxs[0]);
    pacing_ctx_free(ctxs[1]);
    fprintf(stderr, "threads %d mode %d: %.0f ms wall, cpu/wall %.2f\n", nt, mode,
            wall / 1e6, cpu / wall);
    last_util = cpu / wall;
    return (double)nt * (double)cycles * 10.0 / (wall / 1e9);
}

static void threads_mode(int mode, const char *k1, const char *k2,
                         const char *ks, long cycles, int n)
{
    double *r1 = malloc(sizeof *r1 * (size_t)n), *r2 = malloc(sizeof *r2 * (size_t)n);
    double *sp = malloc(sizeof *sp * (size_t)n), *u1 = malloc(sizeof *u1 * (size_t)n),
           *u2 = malloc(sizeof *u2 * (size_t)n);
    threads_run(1, cycles / 4, mode); /* warm-up */
    for (int rep = 0; rep < n; rep++) {
        /* alternate, so that a change in the machine's load hits both */
        r1[rep] = threads_run(1, cycles, mode);
        u1[rep] = last_util;
        r2[rep] = threads_run(2, cycles, mode);
        u2[rep] = last_util;
        sp[rep] = r2[rep] / r1[rep];
    }
    double m1 = median(r1, n), m2 = median(r2, n);
    double msp = median(sp, n), mu1 = median(u1, n), mu2 = median(u2, n);
    printf("%s=%.0f\n%s=%.0f\n", k1, m1, k2, m2);
    printf("%s=%.2f\n", ks, m2 / m1);
    printf("# %s: wall clock, %ld calls per thread; speedup per repetition: "
           "median %.2f, min %.2f, max %.2f; CPU time / wall time: 1 thread "
           "%.2f, 2 threads %.2f (medians)\n",
           ks, cycles * 10, msp, sp[0], sp[n - 1], mu1, mu2);
    fflush(stdout);
    free(r1);
    free(r2);
    free(sp);
    free(u1);
    free(u2);
}

/* one thread of the mixed workload, for a profile */
static void bench_mixed1(void)
{
    double r = threads_run(1, scaled(200000), 0);
    printf("mixed1_ops_s=%.0f\n", r);
}

static void bench_threads_push(void)
{
    threads_mode(2, "threads1_push_ops_s", "threads2_push_ops_s",
                 "threads_push_speedup", scaled(200000), reps);
}

static void bench_threads(void)
{
    threads_mode(0, "threads1_ops_s", "threads2_ops_s", "threads_speedup",
                 scaled(50000), reps);
    printf("# threads: the mixed workload, push/decide/reward 8:1:1, one shared "
           "decision point\n");
}

/* where the threads' time goes: variants of the mixed workload */
static void bench_threads_diag(void)
{
    long cycles = scaled(50000);
    int n = reps < 5 ? reps : 5;
    threads_mode(1, "threads1_ownpoint_ops_s", "threads2_ownpoint_ops_s",
                 "threads_ownpoint_speedup", cycles, n);
    threads_mode(2, "threads1_push_ops_s", "threads2_push_ops_s",
                 "threads_push_speedup", cycles, n);
    threads_mode(3, "threads1_separate_ops_s", "threads2_separate_ops_s",
                 "threads_separate_speedup", cycles, n);
    printf("# threads: ownpoint = a decision point per thread; push = pushes "
           "only; separate = a context per thread, nothing shared (the "
           "machine's own scaling)\n");
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* scale                                                               */
/* ------------------------------------------------------------------ */

static void bench_scale(void)
{
    static const uint64_t ns[] = {1000, 100000, 10000000};
    static const char *nm[] = {"1e3", "1e5", "1e7"};
    char key[64];
    for (int i = 0; i < 3; i++) {
        if (only_users && ns[i] != only_users)
            continue;
        if (ns[i] == 10000000 && !big && !only_users) {
            printf("# scale: 10^7 users skipped (--big)\n");
            continue;
        }
        snprintf(key, sizeof key, "push_ns_users_%s", nm[i]);
        push_users(ns[i], scaled(500000), key, ns[i] == 10000000);
        dcfg c = dcfg_ts();
        c.users = ns[i];
        c.capacity = capacity_for(ns[i]);
        c.batch = ns[i] <= 1000 ? 1000 : 65536;
        c.per_rep = ns[i] <= 1000 ? 100000 : 65536;
        c.train = ns[i] <= 1000 ? 10 : 1;
        snprintf(key, sizeof key, "decide_ts_ns_users_%s", nm[i]);
        double h0 = now_ns_clock(CLOCK_MONOTONIC);
        char rkey[64];
        snprintf(rkey, sizeof rkey, "reward_ns_users_%s", nm[i]);
        put_decide(key, &c, 1, rkey);
        if (ns[i] == 10000000)
            printf("# decide at 10^7 users: %.1f s in all; VmHWM %ld kB\n",
                   (now_ns_clock(CLOCK_MONOTONIC) - h0) / 1e9,
                   proc_status_kb("VmHWM"));
    }
}

/* ------------------------------------------------------------------ */
/* memory latency of the machine                                       */
/* ------------------------------------------------------------------ */

/* Dependent loads at random 64-byte lines of a buffer from malloc (as
 * the library's tables, 4 KiB pages unless the host asks otherwise): what
 * a cache miss costs on this machine, to read the cold figures by. */
static volatile size_t sink;

static void bench_memlat(void)
{
    static const size_t mb[] = {1, 32, 256};
    for (int i = 0; i < 3; i++) {
        size_t n = (mb[i] << 20) / 64;
        uint64_t *a = malloc(mb[i] << 20);
        uint32_t *perm = permutation(n, 5 + (uint64_t)i);
        if (!a) {
            perror("malloc");
            exit(1);
        }
        for (size_t j = 0; j < n; j++)
            a[(size_t)perm[j] * 8] = (uint64_t)perm[(j + 1) % n] * 8;
        free(perm);
        long m = scaled(mb[i] == 1 ? 2000000 : 500000);
        size_t p = 0;
        double *r = malloc(sizeof *r * 3);
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_ns();
            for (long j = 0; j < m; j++)
                p = a[p];
            r[rep] = (now_ns() - t0) / (double)m;
        }
        char key[64];
        snprintf(key, sizeof key, "memlat_ns_%zumb", mb[i]);
        sink = p;
        printf("%s=%.1f\n", key, median(r, 3));
        free(r);
        free(a);
    }
    printf("# memlat: one dependent load at a random line of a malloc'd buffer "
           "of that size, median of 3\n");
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

typedef struct sub {
    const char *name;
    void (*run)(void);
    int optional;
} sub;

static void run_push(void)
{
    bench_push_hot(PUSH_BYTES, "push_ns");
    bench_push_hot(PUSH_PSEUDO, "push_ns_pseudonym");
    bench_push_hot(PUSH_SINGLE, "push_ns_single_thread");
    bench_push_hot(PUSH_STEP, "push_step_ns");
}
static void run_push_hot1(void) { bench_push_hot(PUSH_BYTES, "push_ns"); }
static void run_push_cold(void) { push_users(1000000, scaled(500000), "push_cold_ns", 0); }

static const sub subs[] = {
    {"memlat", bench_memlat, 0},
    {"push", run_push, 0},          {"push_hot", run_push_hot1, 1},
    {"push_cold", run_push_cold, 0},
    {"decide_ts", bench_decide_ts, 0}, {"decide", bench_decide_variants, 0},
    {"linucb", bench_linucb, 0},    {"decide_linucb", bench_linucb1, 1},
    {"decide_ts_draws0", bench_decide_ts_draws0, 1},
    {"linucb_d10k5", bench_linucb_d10k5, 1},
    {"memory", bench_memory, 0},    {"snapshot", bench_snapshot, 0},
    {"threads", bench_threads, 0},  {"threads_push", bench_threads_push, 1},
    {"threads_diag", bench_threads_diag, 1},
    {"mixed1", bench_mixed1, 1},  {"scale", bench_scale, 0},
    {"evict", bench_evict, 0},      {"actions", bench_actions, 0},
    {"dims", bench_dims, 0},
};
#define N_SUBS (sizeof subs / sizeof subs[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: pacing_bench [--cpu-clock] [--reps N] [--big] [--quick] "
               "[--users 1000|100000|10000000] [--list] [NAME ...]\nnames:");
    for (size_t i = 0; i < N_SUBS; i++)
        fprintf(f, " %s", subs[i].name);
    fprintf(f, "\n");
}

int main(int argc, char **argv)
{
    int want[N_SUBS] = {0}, any = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--cpu-clock"))
            bench_clock = CLOCK_THREAD_CPUTIME_ID;
        else if (!strcmp(a, "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(a, "--big"))
            big = 1;
        else if (!strcmp(a, "--users") && i + 1 < argc)
            only_users = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--quick"))
            quick_div = 20;
        else if (!strcmp(a, "--list")) {
            for (size_t k = 0; k < N_SUBS; k++)
                printf("%s\n", subs[k].name);
            return 0;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            size_t k = 0;
            while (k < N_SUBS && strcmp(subs[k].name, a) != 0)
                k++;
            if (k == N_SUBS) {
                usage(stderr);
                return 2;
            }
            want[k] = any = 1;
        }
    }
    if (reps < 1)
        reps = 1;
    if (reps < 5 && quick_div == 1)
        fprintf(stderr, "pacing_bench: fewer than 5 repetitions\n");
    machine_line();
    for (size_t k = 0; k < N_SUBS; k++)
        if (any ? want[k] : !subs[k].optional) {
            double t0 = now_ns_clock(CLOCK_MONOTONIC);
            double c0 = now_ns_clock(CLOCK_PROCESS_CPUTIME_ID);
            subs[k].run();
            printf("# %s: %.1f s wall, %.1f s CPU\n", subs[k].name,
                   (now_ns_clock(CLOCK_MONOTONIC) - t0) / 1e9,
                   (now_ns_clock(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e9);
            fflush(stdout);
        }
    printf("# done; load average now: ");
    FILE *f = fopen("/proc/loadavg", "r");
    char load[128] = "?";
    if (f) {
        if (!fgets(load, sizeof load, f))
            strcpy(load, "?\n");
        fclose(f);
    }
    printf("%s", load);
    return 0;
}
