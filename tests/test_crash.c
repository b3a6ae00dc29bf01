/* Crash safety of pacing_snapshot_save: a child process writes snapshots
 * of a changing context to one path in a loop and is killed with SIGKILL
 * at random moments, at least 200 times (PACING_CRASH_KILLS overrides the
 * count). After each kill the snapshot at the path must load into a fresh
 * context and be byte for byte one of the snapshots the children wrote:
 * the last one whose save completed, or the one whose save was under way
 * (killed after the rename, before the child could note its completion).
 *
 * How the parent knows the candidates: before each save the child writes
 * the same state through pacing_snapshot_write into memory (the same
 * bytes), and appends "I gen n crc" (intent) to a side file; after the
 * save returns it appends "D gen n crc" (done). Each line is one write(2),
 * which SIGKILL cannot split. Every child first loads the snapshot the
 * previous one left (it must load), so the state keeps growing across
 * kills. The delays come from a fixed seed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "pacing.h"
#define HELPERS_OWN_TEARDOWN
#include "helpers.h"

#define T0 1000000000LL
#define N_USERS 40

static char dir[256];

static const char *const ACT3[] = {"show", "delay", "skip"};
static const char *const ACT2[] = {"a", "b"};

/* The same configuration in every process. NULL on failure. */
static pacing_ctx *make_ctx(void)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.flags = PACING_OPT_SECRET | PACING_OPT_SINGLE_THREAD;
    memcpy(o.secret, "crash-test-key!!", 16);
    o.seed = 99;
    o.capacity = 1000;
    o.pending_capacity = 256;
    o.log_capacity = 64;
    o.user_ttl_ms = -1;
    pacing_ctx *ctx = NULL;
    if (pacing_ctx_new(&o, &ctx) != PACING_OK)
        return NULL;
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    uint32_t id;
    sp.name = "banner";
    sp.actions = ACT3;
    sp.n_actions = 3;
    sp.policy = "thompson";
    sp.quiet_actions = 0x6;
    sp.safe_action = 2;
    sp.attribution_ms = 20000;
    sp.flags = PACING_PT_DEFAULT_REWARD;
    int rc = pacing_point_add(ctx, &sp, &id);
    sp = (pacing_point_spec)PACING_POINT_SPEC_INIT;
    sp.name = "tip";
    sp.actions = ACT2;
    sp.n_actions = 2;
    sp.policy = "epsilon_greedy";
    sp.attribution_ms = 20000;
    if (rc == PACING_OK)
        rc = pacing_point_add(ctx, &sp, &id);
    sp = (pacing_point_spec)PACING_POINT_SPEC_INIT;
    sp.name = "offer";
    sp.actions = ACT3;
    sp.n_actions = 3;
    sp.policy = "linucb";
    sp.flags = PACING_PT_SCORES_CONTEXT;
    sp.attribution_ms = 20000;
    if (rc == PACING_OK)
        rc = pacing_point_add(ctx, &sp, &id);
    pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
    pacing_param gap[] = {{"gap_ms", 2000}};
    rs.module = "min_gap";
    rs.params = gap;
    rs.n_params = 1;
    if (rc == PACING_OK)
        rc = pacing_rule_add(ctx, &rs, NULL);
    if (rc != PACING_OK) {
        pacing_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

/* next_rand, membuf, mem_write: helpers.h */

static int write_line(int fd, char kind, int gen, long n, uint32_t crc)
{
    char line[64];
    int len = snprintf(line, sizeof line, "%c %d %ld %08x\n", kind, gen, n,
                       (unsigned)crc);
    return write(fd, line, (size_t)len) == len ? 0 : -1;
}

/* Child exit codes (it is normally killed before it exits). */
enum { CHILD_SETUP = 2, CHILD_LOAD = 3, CHILD_SAVE = 4, CHILD_WRITE = 5 };

static void child(int gen, const char *path, const char *side)
{
    pacing_ctx *ctx = make_ctx();
    if (!ctx)
        _exit(CHILD_SETUP);
    if (access(path, F_OK) == 0 && pacing_snapshot_load(ctx, path) != PACING_OK)
        _exit(CHILD_LOAD);
    int sfd = open(side, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (sfd < 0)
        _exit(CHILD_SETUP);
    uint64_t rng = 0xC0FFEEULL + (uint64_t)gen;
    int64_t t = T0 + (int64_t)gen * 100000000LL;
    membuf m = {0};
    uint64_t ids[16] = {0};
    for (long n = 0;; n++) {
        /* change the state: events, decisions, a reward */
        for (int i = 0; i < 6; i++) {
            char user[24];
            t += 50 + (int64_t)(next_rand(&rng) % 500);
            snprintf(user, sizeof user, "crash-user-%02d",
                     (int)(next_rand(&rng) % N_USERS));
            pacing_event ev = PACING_EVENT_INIT;
            static const uint32_t types[] = {PACING_EV_DWELL, PACING_EV_CLICK,
                                             PACING_EV_SCROLL_DEPTH,
                                             PACING_EV_DISMISS, PACING_EV_ERROR,
                                             PACING_EV_SESSION_START};
            ev.type = types[next_rand(&rng) % 6];
            ev.user = user;
            ev.user_len = strlen(user);
            ev.time_ms = t;
            ev.value = ev.type == PACING_EV_SCROLL_DEPTH ? 0.5 : 100;
            (void)pacing_push(ctx, &ev);
            if (i % 3 == 0) {
                pacing_request rq = PACING_REQUEST_INIT;
                rq.point = (uint32_t)(next_rand(&rng) % 3);
                rq.user = user;
                rq.user_len = strlen(user);
                rq.now_ms = t;
                pacing_decision d = PACING_DECISION_INIT;
                if (pacing_decide(ctx, &rq, &d) == PACING_OK && d.id)
                    ids[next_rand(&rng) % 16] = d.id;
            }
        }
        uint64_t rid = ids[next_rand(&rng) % 16];
        if (rid)
            (void)pacing_reward(ctx, rid, 1.0, t);

        /* the bytes the save is about to write */
        m.len = 0;
        if (pacing_snapshot_write(ctx, mem_write, &m) != PACING_OK)
            _exit(CHILD_SAVE);
        uint32_t crc = (uint32_t)crc32(0, m.p, (uInt)m.len);
        if (write_line(sfd, 'I', gen, n, crc) != 0)
            _exit(CHILD_WRITE);
        if (pacing_snapshot_save(ctx, path) != PACING_OK)
            _exit(CHILD_SAVE);
        if (write_line(sfd, 'D', gen, n, crc) != 0)
            _exit(CHILD_WRITE);
    }
}

/* ---- the parent's side ---- */

typedef struct side_info {
    int have_done;
    uint32_t done_crc;   /* the last completed save */
    int have_intent;
    uint32_t intent_crc; /* a save begun after it */
    long saves;          /* completed saves in this generation */
} side_info;

static side_info read_side(const char *side, int gen)
{
    side_info si;
    memset(&si, 0, sizeof si);
    FILE *f = fopen(side, "r");
    if (!f)
        return si;
    char line[128];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n == 0 || line[n - 1] != '\n')
            break; /* cannot happen with one write per line; be safe */
        char kind;
        int g;
        long k;
        unsigned crc;
        if (sscanf(line, "%c %d %ld %x", &kind, &g, &k, &crc) != 4 || g != gen)
            fail_msg("side file: bad line '%s'", line);
        if (kind == 'I') {
            si.have_intent = 1;
            si.intent_crc = crc;
        } else if (kind == 'D') {
            if (!si.have_intent || si.intent_crc != crc)
                fail_msg("side file: done without its intent");
            si.have_done = 1;
            si.done_crc = crc;
            si.have_intent = 0;
            si.saves++;
        }
    }
    fclose(f);
    return si;
}

static uint32_t file_crc(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t buf[65536];
    uint32_t crc = (uint32_t)crc32(0, NULL, 0);
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        crc = (uint32_t)crc32(crc, buf, (uInt)n);
        total += n;
    }
    fclose(f);
    *len = total;
    return crc;
}

/* Remove what a killed save left behind (its temporary file); count. */
static int sweep_temps(const char *base)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int n = 0;
    char prefix[64], p[512];
    snprintf(prefix, sizeof prefix, "%s.tmp", base);
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            assert_int_equal(unlink(p), 0);
            n++;
        } else if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                   strcmp(de->d_name, base) != 0 && strcmp(de->d_name, "side") != 0) {
            fail_msg("unexpected file %s in the snapshot directory", de->d_name);
        }
    }
    closedir(d);
    return n;
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/pacing-crash-XXXXXX",
             base && *base ? base : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        char p[512];
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(dir);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_kill_during_saves(void **state)
{
    (void)state;
    int kills = 200;
    const char *env = getenv("PACING_CRASH_KILLS");
    if (env && atoi(env) > 0)
        kills = atoi(env);
    char path[512], side[512];
    snprintf(path, sizeof path, "%s/state.snap", dir);
    snprintf(side, sizeof side, "%s/side", dir);

    /* how long one save cycle takes here, to aim the kills */
    double t_start = now_s();
    uint64_t rng = 12345;
    int have_last = 0;
    uint32_t last_crc = 0; /* the snapshot the path holds */
    int temps = 0, inflight = 0, empty_gens = 0, window_empty = 0;
    long saves = 0;
    /* delays from 0 to max_us; max_us adapts so that most children
     * complete a few saves and many kills land inside one */
    unsigned max_us = 4000;
    for (int gen = 0; gen < kills; gen++) {
        assert_int_equal(truncate(side, 0) == 0 || errno == ENOENT, 1);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child(gen, path, side); /* never returns */
        unsigned delay = (unsigned)(next_rand(&rng) % (max_us + 1));
        struct timespec ts = {0, (long)delay * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status))
            fail_msg("generation %d: the child exited with status %d (%s) before "
                     "it was killed", gen, WEXITSTATUS(status),
                     WEXITSTATUS(status) == CHILD_LOAD ? "the snapshot left by "
                     "the previous kill did not load" : "setup, save or write "
                     "failed");
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        side_info si = read_side(side, gen);
        saves += si.saves;
        if (si.saves == 0) {
            empty_gens++;
            window_empty++;
        }
        /* aim the kills: if most of the last 20 children completed no
         * save (slow machine, sanitizers, valgrind), wait longer; if
         * nearly all did, kill sooner */
        if (gen % 20 == 19) {
            if (window_empty >= 14 && max_us < 512000)
                max_us *= 2;
            else if (window_empty <= 3 && max_us > 500)
                max_us = max_us * 3 / 4;
            window_empty = 0;
        }
        temps += sweep_temps("state.snap");

        struct stat st;
        if (stat(path, &st) != 0) {
            /* nothing was ever saved */
            assert_false(have_last);
            assert_false(si.have_done);
            continue;
        }
        size_t len = 0;
        uint32_t crc = file_crc(path, &len);
        int ok = 0;
        if (si.have_done && crc == si.done_crc)
            ok = 1; /* the last completed save */
        else if (!si.have_done && have_last && crc == last_crc)
            ok = 1; /* this child completed none: still the previous one */
        else if (si.have_intent && crc == si.intent_crc) {
            ok = 1; /* renamed, killed before it could say so */
            inflight++;
        }
        if (!ok)
            fail_msg("generation %d (killed after %u us): the snapshot at the "
                     "path (%zu bytes, crc %08x) is none of the writes (last done "
                     "%08x, in flight %08x, before %08x)", gen, delay, len,
                     (unsigned)crc, si.have_done ? (unsigned)si.done_crc : 0u,
                     si.have_intent ? (unsigned)si.intent_crc : 0u,
                     have_last ? (unsigned)last_crc : 0u);
        have_last = 1;
        last_crc = crc;

        pacing_ctx *ctx = make_ctx();
        assert_non_null(ctx);
        int rc = pacing_snapshot_load(ctx, path);
        if (rc != PACING_OK) {
            const char *m = pacing_errmsg(ctx);
            char msg[300];
            snprintf(msg, sizeof msg, "%s", m);
            pacing_ctx_free(ctx);
            fail_msg("generation %d: the snapshot at the path does not load: %d "
                     "(%s)", gen, rc, msg);
        }
        pacing_stats stt = PACING_STATS_INIT;
        assert_int_equal(pacing_stats_get(ctx, &stt), PACING_OK);
        assert_true(stt.users > 0 && stt.users <= N_USERS);
        pacing_ctx_free(ctx);
    }
    print_message("%d kills in %.1f s: %ld saves completed, %d kills left a "
                  "temporary file (inside a save), %d right after the rename, "
                  "%d children completed no save (max delay %u us)\n",
                  kills, now_s() - t_start, saves, temps, inflight, empty_gens,
                  max_us);
    assert_true(have_last);
    assert_true(saves > 0);
    /* the kills did land inside saves, not only between them */
    assert_true(temps > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_during_saves, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
