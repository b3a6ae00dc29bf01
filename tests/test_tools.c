/* The pacing command's sub-commands sim, replay and inspect (validate is
 * tested in test_config.c): run as a program, named by PACING_TOOL (the
 * Makefile and meson set it) or build/pacing, from the repository root.
 *
 *   - every --help exits 0 with its usage line; bad arguments exit 2 with
 *     a message
 *   - sim prints its keys, is deterministic for a seed and depends on it
 *   - sim -> replay: a replay of sim's events with the same seed writes
 *     the same decisions file, byte for byte (also for a contextual point
 *     of a file with its own options.seed)
 *   - replay --logged prints the off-policy estimates with intervals;
 *     mismatched or malformed inputs exit 1 naming file and line
 *   - inspect reads a snapshot made here with the library: header, checks,
 *     per-action statistics matching what was done, no user ids or
 *     pseudonyms; a damaged snapshot and a foreign configuration exit 1 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pacing.h>

static char tmpdir[64];
static const char *tool;

#define WEB "examples/config/web-checkout.yaml"
#define KIOSK "examples/config/kiosk.yaml"

/* ---- helpers ---- */

/* Run `tool ARGS`, capture stdout (and stderr if both), return the exit
 * status (-1 if it did not exit). *out is malloc'd. */
static int run(char **out, int both, const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "PACING_NO_PROGRESS=1 %s %s %s", tool, args,
             both ? "2>&1" : "2>/dev/null");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t k = fread(buf + n, 1, cap - n - 1, p);
        if (k == 0)
            break;
        n += k;
    }
    buf[n] = 0;
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *path(const char *name)
{
    static char buf[8][256];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", tmpdir, name);
    return b;
}

static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        fail_msg("cannot open %s", p);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return b;
}

static void spit(const char *p, const char *text)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* The value of "key=" in key=value output, or NULL (static buffer). */
static const char *kv(const char *out, const char *key)
{
    static char val[256];
    size_t kl = strlen(key);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, key, kl) && l[kl] == '=') {
            const char *e = strchr(l, '\n');
            size_t n = e ? (size_t)(e - l - kl - 1) : strlen(l + kl + 1);
            if (n >= sizeof val)
                n = sizeof val - 1;
            memcpy(val, l + kl + 1, n);
            val[n] = 0;
            return val;
        }
    }
    return NULL;
}

static double kvd(const char *out, const char *key)
{
    const char *v = kv(out, key);
    if (!v)
        fail_msg("no key %s in:\n%s", key, out);
    return strtod(v, NULL);
}

static int setup(void **state)
{
    (void)state;
    tool = getenv("PACING_TOOL");
    if (!tool || !*tool)
        tool = "build/pacing";
    if (access(tool, X_OK) != 0) {
        fprintf(stderr, "test_tools: %s is not an executable (build it, or set "
                "PACING_TOOL)\n", tool);
        return -1;
    }
    strcpy(tmpdir, "/tmp/pacing-tools-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- help and usage ---- */

static void test_help(void **state)
{
    (void)state;
    static const char *const cmds[] = {"sim", "replay", "inspect", "validate"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *out, want[64];
        snprintf(want, sizeof want, "usage: pacing %s", cmds[i]);
        assert_int_equal(run(&out, 0, "%s --help", cmds[i]), 0);
        if (!strstr(out, want))
            fail_msg("%s --help: no '%s' in:\n%s", cmds[i], want, out);
        free(out);
        assert_int_equal(run(&out, 0, "%s -h", cmds[i]), 0);
        assert_non_null(strstr(out, want));
        free(out);
        assert_int_equal(run(&out, 0, "help %s", cmds[i]), 0);
        assert_non_null(strstr(out, want));
        free(out);
    }
    char *out;
    assert_int_equal(run(&out, 0, "--help"), 0);
    assert_non_null(strstr(out, "sim"));
    assert_non_null(strstr(out, "replay"));
    assert_non_null(strstr(out, "inspect"));
    free(out);
    /* a help option anywhere wins */
    assert_int_equal(run(&out, 0, "sim " WEB " --users 5 --help"), 0);
    assert_non_null(strstr(out, "usage: pacing sim"));
    free(out);
}

static void bad(const char *args, const char *want)
{
    char *out;
    int rc = run(&out, 1, "%s", args);
    if (rc != 2 || !strstr(out, want) || !strstr(out, "usage:"))
        fail_msg("pacing %s: exit %d (want 2), want '%s' and a usage line in:\n%s",
                 args, rc, want, out);
    free(out);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    bad("sim", "pacing sim: no configuration given");
    bad("sim " WEB " --users 0", "--users");
    bad("sim " WEB " --users many", "--users");
    bad("sim " WEB " --users", "--users needs a value");
    bad("sim " WEB " --seconds -5", "--seconds");
    bad("sim " WEB " --seed -1", "--seed");
    bad("sim " WEB " --interval 0", "--interval");
    bad("sim " WEB " --bogus", "unknown option '--bogus'");
    bad("sim " WEB " " KIOSK, "unexpected argument");
    bad("sim " WEB " --point nope", "no point 'nope'");
    bad("replay " WEB, "no events file given");
    bad("replay", "no configuration given");
    bad("replay " WEB " x.csv --seed 1x", "--seed");
    bad("replay " WEB " x.csv --out", "--out needs a value");
    bad("replay " WEB " x.csv y.csv", "unexpected argument");
    bad("inspect", "no snapshot given");
    bad("inspect snap --seed 1", "need --config");
    bad("inspect snap --frobnicate", "unknown option");
    char *out;
    assert_int_equal(run(&out, 1, "nosuch"), 2);
    assert_non_null(strstr(out, "unknown command 'nosuch'"));
    free(out);
    /* an invalid configuration is not a usage error */
    assert_int_equal(run(&out, 1, "sim tests/configs/bad/unknown-key.yaml"), 1);
    assert_non_null(strstr(out, "unknown-key.yaml:"));
    free(out);
}

/* ---- sim ---- */

static void test_sim_keys(void **state)
{
    (void)state;
    char *a, *b, *c;
    assert_int_equal(run(&a, 0, "sim " WEB " --users 120 --seconds 400 --seed 3"), 0);
    static const char *const keys[] = {
        "config", "point", "users", "seconds", "seed", "baseline_interval_s",
        "policy.opportunities", "policy.exposures", "policy.conversions",
        "policy.dismissals", "policy.ignored", "policy.conversion_rate",
        "policy.conversions_per_dismissal", "policy.decisions", "policy.safe",
        "policy.action.show_now", "policy.action.delay", "policy.action.skip",
        "policy.rule.0.min_gap.vetoed", "policy.rule.0.min_gap.delayed",
        "policy.rule.1.sensitive_state.delayed",
        "policy.rule.2.fatigue_ceiling.delayed",
        "policy.rule.3.frequency_cap.vetoed", "baseline.opportunities",
        "baseline.exposures", "baseline.conversions", "baseline.dismissals",
        "baseline.conversions_per_dismissal", "better"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!kv(a, keys[i]))
            fail_msg("sim: no key %s in:\n%s", keys[i], a);
    assert_string_equal(kv(a, "point"), "checkout_cta");
    assert_string_equal(kv(a, "users"), "120");
    /* the figures add up */
    double expo = kvd(a, "policy.exposures");
    assert_true(expo > 0);
    assert_true(kvd(a, "policy.conversions") + kvd(a, "policy.dismissals") +
                    kvd(a, "policy.ignored") <= expo);
    assert_true(kvd(a, "policy.action.show_now") == expo);
    assert_true(kvd(a, "policy.decisions") == kvd(a, "policy.opportunities"));
    assert_true(kvd(a, "policy.action.show_now") + kvd(a, "policy.action.delay") +
                    kvd(a, "policy.action.skip") == kvd(a, "policy.decisions"));
    assert_true(kvd(a, "baseline.exposures") > 0);
    const char *better = kv(a, "better");
    assert_true(!strcmp(better, "policy") || !strcmp(better, "baseline") ||
                !strcmp(better, "tie"));
    /* deterministic for a seed (argument order does not matter) */
    assert_int_equal(run(&b, 0, "sim --seed 3 --seconds 400 " WEB " --users 120"), 0);
    assert_string_equal(a, b);
    /* and depends on it */
    assert_int_equal(run(&c, 0, "sim " WEB " --users 120 --seconds 400 --seed 4"), 0);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
    /* another point; a baseline interval */
    assert_int_equal(run(&a, 0, "sim " WEB " --users 60 --seconds 300 --point "
                     "upsell_banner --interval 90"), 0);
    assert_string_equal(kv(a, "point"), "upsell_banner");
    assert_string_equal(kv(a, "baseline_interval_s"), "90");
    assert_non_null(kv(a, "appeal.warranty"));
    assert_non_null(kv(a, "appeal.accessories"));
    assert_null(kv(a, "appeal.none")); /* a quiet action shows nothing */
    free(a);
}

/* The figure the tool is for: web-checkout beats the baseline. */
static void test_sim_web_checkout_beats_baseline(void **state)
{
    (void)state;
    char *a;
    assert_int_equal(run(&a, 0, "sim " WEB " --users 400 --seconds 1200"), 0);
    double p = kvd(a, "policy.conversions_per_dismissal");
    double b = kvd(a, "baseline.conversions_per_dismissal");
    if (!(p > b) || strcmp(kv(a, "better"), "policy"))
        fail_msg("policy %g vs baseline %g:\n%s", p, b, a);
    /* the rules kept prompts out of forms and error moments */
    assert_true(kvd(a, "policy.interrupting") < kvd(a, "baseline.interrupting"));
    assert_true(kvd(a, "policy.rule.1.sensitive_state.delayed") > 0);
    free(a);
}

/* ---- sim -> replay ---- */

static void round_trip(const char *config, const char *seed)
{
    char *out;
    const char *ev = path("ev.csv"), *d1 = path("d1.csv"), *d2 = path("d2.csv"),
               *d3 = path("d3.csv");
    assert_int_equal(run(&out, 1, "sim %s --users 80 --seconds 400 --seed %s "
                     "--events-out %s --decisions-out %s", config, seed, ev, d1), 0);
    free(out);
    assert_int_equal(run(&out, 1, "replay %s %s --seed %s --out %s", config, ev,
                     seed, d2), 0);
    assert_non_null(kv(out, "decisions"));
    assert_string_equal(kv(out, "events_rejected"), "0");
    assert_string_equal(kv(out, "log_dropped"), "0");
    free(out);
    size_t n1, n2;
    char *a = slurp(d1, &n1), *b = slurp(d2, &n2);
    assert_true(n1 > 100);
    assert_non_null(strstr(a, "time_ms,user,point,action,propensity,decision_id,"
                              "reasons,reward\n"));
    if (n1 != n2 || memcmp(a, b, n1) != 0)
        fail_msg("%s seed %s: the replay's decisions differ from sim's", config, seed);
    free(b);
    /* decisions to standard output, counters to standard error */
    assert_int_equal(run(&b, 0, "replay %s %s --seed %s", config, ev, seed), 0);
    assert_string_equal(a, b);
    free(b);
    /* another seed decides otherwise */
    assert_int_equal(run(&out, 1, "replay %s %s --seed 999 --out %s", config, ev, d3),
                     0);
    free(out);
    b = slurp(d3, &n2);
    assert_false(n1 == n2 && memcmp(a, b, n1) == 0);
    free(a);
    free(b);
}

static void test_sim_replay_round_trip(void **state)
{
    (void)state;
    round_trip(WEB, "11");
    /* a contextual (linucb) point and a file with its own options.seed */
    round_trip(KIOSK, "5");
}

static void test_replay_logged(void **state)
{
    (void)state;
    char *out;
    const char *ev = path("ev.csv"), *d1 = path("d1.csv");
    assert_int_equal(run(&out, 1, "sim " WEB " --users 150 --seconds 600 --seed 2 "
                     "--events-out %s --decisions-out %s", ev, d1), 0);
    free(out);
    assert_int_equal(run(&out, 0, "replay " WEB " %s --seed 2 --logged %s", ev, d1), 0);
    static const char *const est[] = {"logged_value", "ips", "snips", "dr"};
    for (size_t i = 0; i < 4; i++) {
        char k[64];
        snprintf(k, sizeof k, "ope.%s", est[i]);
        double v = kvd(out, k);
        snprintf(k, sizeof k, "ope.%s_ci_low", est[i]);
        double lo = kvd(out, k);
        snprintf(k, sizeof k, "ope.%s_ci_high", est[i]);
        double hi = kvd(out, k);
        if (!(lo <= v && v <= hi && lo < hi))
            fail_msg("%s: %g not in [%g, %g]\n%s", est[i], v, lo, hi, out);
    }
    assert_true(kvd(out, "ope.used") > 100);
    assert_true(kvd(out, "ope.matched") > 0);
    assert_true(kvd(out, "ope.ess") > 0);
    assert_true(kvd(out, "ope.lines") == kvd(out, "decisions"));
    free(out);

    /* a logged file that does not belong to the events */
    size_t n;
    char *d = slurp(d1, &n);
    char *second = strchr(strchr(d, '\n') + 1, '\n') + 1; /* drop line 2 */
    char *bad = malloc(n + 1);
    assert_non_null(bad);
    size_t head = (size_t)(strchr(d, '\n') + 1 - d);
    memcpy(bad, d, head);
    strcpy(bad + head, second);
    spit(path("bad.csv"), bad);
    assert_int_equal(run(&out, 1, "replay " WEB " %s --logged %s", ev, path("bad.csv")),
                     1);
    assert_non_null(strstr(out, "bad.csv:2: does not match decide row 1"));
    free(out);
    free(bad);
    free(d);
}

static void test_replay_bad_input(void **state)
{
    (void)state;
    char *out;
    spit(path("e1.csv"), "time_ms,user,type,value\n1000,u1,session_start,0\n"
                         "2000,u1,sesion_start,0\n");
    assert_int_equal(run(&out, 1, "replay " WEB " %s", path("e1.csv")), 1);
    assert_non_null(strstr(out, "e1.csv:3: unknown type 'sesion_start'"));
    free(out);
    spit(path("e2.csv"), "time_ms,user,type,colour\n");
    assert_int_equal(run(&out, 1, "replay " WEB " %s", path("e2.csv")), 1);
    assert_non_null(strstr(out, "e2.csv:1: unknown column 'colour'"));
    free(out);
    spit(path("e3.csv"), "time_ms,user,type\n1000,u1,decide:nowhere\n");
    assert_int_equal(run(&out, 1, "replay " WEB " %s", path("e3.csv")), 1);
    assert_non_null(strstr(out, "e3.csv:2: no point 'nowhere'"));
    free(out);
    spit(path("e4.csv"), "time_ms,user,type,value\nsoon,u1,click,3\n");
    assert_int_equal(run(&out, 1, "replay " WEB " %s", path("e4.csv")), 1);
    assert_non_null(strstr(out, "e4.csv:2: time_ms 'soon'"));
    free(out);
    assert_int_equal(run(&out, 1, "replay " WEB " %s", path("missing.csv")), 1);
    assert_non_null(strstr(out, "cannot open"));
    free(out);
    /* a small hand-written log: quoted ids, comments, flags, no value column */
    spit(path("e5.csv"),
         "# a hand-written log\n"
         "time_ms,type,user,flags\n"
         "1000,session_start,\"doe, jane\",consent\n"
         "\n"
         "1500,decide:checkout_cta,\"doe, jane\",consent\n"
         "2000,decide:checkout_cta,bob,no_consent\n");
    assert_int_equal(run(&out, 0, "replay " WEB " %s", path("e5.csv")), 0);
    assert_non_null(strstr(out, "1500,\"doe, jane\",checkout_cta,"));
    assert_non_null(strstr(out, "2000,bob,checkout_cta,"));
    free(out);
    /* a request the library refuses (older than the user's reorder
     * window) is counted, reported and still gets its line */
    spit(path("e6.csv"), "time_ms,user,type,value\n"
                         "1000000,u1,click,150\n"
                         "1000,u1,decide:checkout_cta,\n"
                         "1000001,u1,decide:checkout_cta,\n");
    assert_int_equal(run(&out, 0, "replay " WEB " %s --out %s", path("e6.csv"),
                         path("d6.csv")), 0);
    assert_string_equal(kv(out, "decide_rejected"), "1");
    assert_string_equal(kv(out, "decisions"), "1");
    free(out);
    char *d6 = slurp(path("d6.csv"), NULL);
    assert_non_null(strstr(d6, "\n1000,u1,checkout_cta,,,0,rejected,\n1000001,u1,"));
    free(d6);
    assert_int_equal(run(&out, 1, "replay " WEB " %s --out %s", path("e6.csv"),
                         path("d6.csv")), 0);
    assert_non_null(strstr(out, "e6.csv:3: decide request refused"));
    free(out);
}

/* ---- inspect ---- */

static const char *const SNAP_CONFIG =
    "version: 1\n"
    "options:\n"
    "  capacity: 256\n"
    "  secret: 000102030405060708090a0b0c0d0e0f\n"
    "points:\n"
    "  - name: cta\n"
    "    actions: [show_now, skip]\n"
    "    quiet_actions: [skip]\n"
    "    safe_action: skip\n"
    "    policy: thompson\n"
    "rules:\n"
    "  - rule: min_gap\n"
    "    gap: 20s\n";

static void test_inspect(void **state)
{
    (void)state;
    const char *cfg = path("snap.yaml"), *snap = path("state.snap");
    spit(cfg, SNAP_CONFIG);
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    pacing_ctx *ctx = NULL;
    assert_int_equal(pacing_ctx_new_from_yaml(cfg, NULL, &ctx, &err), PACING_OK);
    static const char *const users[] = {"alice@example.com", "bob@example.com",
                                        "carol@example.com"};
    uint64_t shown = 0, skipped = 0, rewarded = 0;
    for (int i = 0; i < 30; i++) {
        const char *u = users[i % 3];
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = PACING_EV_CLICK;
        ev.user = u;
        ev.user_len = strlen(u);
        ev.time_ms = 1000000 + i * 7000;
        ev.value = 120;
        assert_true(pacing_push(ctx, &ev) >= 0);
        pacing_request rq = PACING_REQUEST_INIT;
        rq.user = u;
        rq.user_len = strlen(u);
        rq.now_ms = ev.time_ms + 1;
        pacing_decision d = PACING_DECISION_INIT;
        assert_int_equal(pacing_decide(ctx, &rq, &d), PACING_OK);
        if (d.reasons & PACING_DR_SAFE)
            continue; /* the safe action: not counted in the arm's decisions */
        if (d.action == 0)
            shown++;
        else
            skipped++;
        if (i % 2 == 0 && pacing_reward(ctx, d.id, 1.0, rq.now_ms + 10) == PACING_OK)
            rewarded++;
    }
    assert_int_equal(pacing_snapshot_save(ctx, snap), PACING_OK);
    uint64_t pseudo = 0;
    assert_int_equal(pacing_pseudonym(ctx, users[0], strlen(users[0]), &pseudo),
                     PACING_OK);
    pacing_ctx_free(ctx);

    /* the container alone */
    char *out;
    assert_int_equal(run(&out, 0, "inspect %s", snap), 0);
    assert_non_null(strstr(out, "snapshot:\n"));
    assert_non_null(strstr(out, "  magic: ok\n"));
    assert_non_null(strstr(out, "  format_version: 2\n"));
    assert_non_null(strstr(out, "  header_crc: ok\n"));
    assert_non_null(strstr(out, "  trailer_crc: ok\n"));
    assert_non_null(strstr(out, "  body_crc: ok\n"));
    assert_non_null(strstr(out, "  inflates: true\n"));
    assert_non_null(strstr(out, "  payload_crc: ok\n"));
    assert_non_null(strstr(out, "  points: 1\n"));
    assert_non_null(strstr(out, "  valid: true\n"));
    assert_null(strstr(out, "points:\n  - name")); /* no state without --config */
    free(out);

    /* with the configuration: the learned statistics */
    assert_int_equal(run(&out, 0, "inspect %s --config %s", snap, cfg), 0);
    assert_non_null(strstr(out, "  loaded: true\n"));
    assert_non_null(strstr(out, "  - name: cta\n    policy: thompson\n"));
    char want[256];
    snprintf(want, sizeof want, "      - name: show_now\n        quiet: false\n"
             "        decisions: %" PRIu64 "\n", shown);
    if (!strstr(out, want))
        fail_msg("want\n%s\nin\n%s", want, out);
    snprintf(want, sizeof want, "      - name: skip\n        quiet: true\n"
             "        decisions: %" PRIu64 "\n", skipped);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "        alpha: "));
    assert_non_null(strstr(out, "counters:\n  users: 3\n"));
    snprintf(want, sizeof want, "  rewards_explicit: %" PRIu64 "\n", rewarded);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "decisions:\n  decisions: 30\n"));
    /* privacy: no user ids, no pseudonyms */
    assert_null(strstr(out, "example.com"));
    char hex[32], dec[32];
    snprintf(hex, sizeof hex, "%016" PRIx64, pseudo);
    snprintf(dec, sizeof dec, "%" PRIu64, pseudo);
    assert_null(strstr(out, hex));
    assert_null(strstr(out, dec));
    free(out);

    /* a configuration it was not made with */
    assert_int_equal(run(&out, 0, "inspect %s --config " WEB, snap), 1);
    assert_non_null(strstr(out, "  valid: true\n"));
    assert_non_null(strstr(out, "  loaded: false\n"));
    free(out);

    /* damage one byte of the compressed body */
    size_t n;
    char *b = slurp(snap, &n);
    b[64 + (n - 96) / 2] ^= 0x10;
    FILE *f = fopen(path("damaged.snap"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(run(&out, 0, "inspect %s", path("damaged.snap")), 1);
    assert_non_null(strstr(out, "  body_crc: mismatch\n"));
    assert_non_null(strstr(out, "  valid: false\n"));
    free(out);
    assert_int_equal(run(&out, 0, "inspect %s --config %s", path("damaged.snap"), cfg),
                     1);
    assert_non_null(strstr(out, "  loaded: false\n"));
    free(out);
    /* truncated, and not a snapshot at all */
    f = fopen(path("short.snap"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n - 5, f), n - 5);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(run(&out, 0, "inspect %s", path("short.snap")), 1);
    assert_non_null(strstr(out, "  valid: false\n"));
    free(out);
    assert_int_equal(run(&out, 0, "inspect %s", cfg), 1);
    assert_non_null(strstr(out, "  valid: false\n"));
    free(out);
    free(b);
    assert_int_equal(run(&out, 1, "inspect %s", path("nothing.snap")), 1);
    assert_non_null(strstr(out, "cannot read"));
    free(out);
}

static void test_inspect_sim_snapshot(void **state)
{
    (void)state;
    char *out;
    const char *snap = path("sim.snap"), *sec = path("secret.txt");
    assert_int_equal(run(&out, 1, "sim " WEB " --users 50 --seconds 300 --seed 9 "
                     "--snapshot-out %s", snap), 0);
    free(out);
    assert_int_equal(run(&out, 0, "inspect %s --config " WEB " --seed 9", snap), 0);
    assert_non_null(strstr(out, "  loaded: true\n"));
    assert_non_null(strstr(out, "  - name: checkout_cta\n"));
    assert_non_null(strstr(out, "  - name: upsell_banner\n"));
    free(out);
    /* another seed means another secret: the library refuses */
    assert_int_equal(run(&out, 0, "inspect %s --config " WEB " --seed 8", snap), 1);
    assert_non_null(strstr(out, "another pseudonym secret"));
    free(out);
    /* a secret file: malformed */
    spit(sec, "not hex at all\n");
    assert_int_equal(run(&out, 1, "inspect %s --config " WEB " --secret-file %s", snap,
                     sec), 1);
    assert_non_null(strstr(out, "32 hexadecimal digits"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_sim_keys),
        cmocka_unit_test(test_sim_web_checkout_beats_baseline),
        cmocka_unit_test(test_sim_replay_round_trip),
        cmocka_unit_test(test_replay_logged),
        cmocka_unit_test(test_replay_bad_input),
        cmocka_unit_test(test_inspect),
        cmocka_unit_test(test_inspect_sim_snapshot),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
