/* Snapshots (lib/snapshot.c, docs/snapshot-format.md) through the public
 * API: a round trip through a file and through the write/read callbacks
 * restores scores, arm statistics, counters, pending decisions and the
 * decisions that follow; another secret or another configuration is
 * refused with PACING_E_CONFIG; damaged input of every kind (empty,
 * truncated, a flipped byte in each 64-byte block, a wrong magic, another
 * version, crafted lengths, records that fail their checks) is refused and
 * leaves the context's next decisions, scores and counters equal to those
 * of an untouched twin; I/O failures give PACING_E_IO; saving to a path is
 * atomic (temporary file renamed over the target, nothing left behind).
 *
 * The header and trailer are read and rewritten here with the layout of
 * docs/snapshot-format.md; record sizes come from lib/internal.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"
#include "point.h"
#include "snap_codec.h"

#define HEADER_SIZE 64
#define TRAILER_SIZE 32
/* the pending ring's head and tail, between a stripe's seq and its
 * counters */
#define STRIPE_RING 8

/* ------------------------------------------------------------------ */
/* Contexts freed by the teardown, also when an assertion fails        */
/* ------------------------------------------------------------------ */

/* track, release, live_free_all: helpers.h; also membuf, mem_write,
 * reader, mem_read and next_rand */
#define MAX_LIVE 16
#define HELPERS_OWN_TEARDOWN
#include "helpers.h"

static char tmpdir[256];

/* Buffers freed by the teardown. */
#define MAX_BUFS 256
static void *bufs[MAX_BUFS];

static void *keep(void *p)
{
    assert_non_null(p);
    for (int i = 0; i < MAX_BUFS; i++)
        if (!bufs[i]) {
            bufs[i] = p;
            return p;
        }
    free(p);
    fail_msg("more than %d live buffers", MAX_BUFS);
    return NULL;
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_rf(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/pacing-snap-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    live_free_all();
    for (int i = 0; i < MAX_BUFS; i++) {
        free(bufs[i]);
        bufs[i] = NULL;
    }
    rm_rf(tmpdir);
    return 0;
}

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* Names in a directory, sorted, comma-joined ("" if empty). */
static void list_dir(const char *dir, char *out, size_t n)
{
    char names[64][128];
    int k = 0;
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && k < 64) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t nl = strlen(de->d_name);
        if (nl >= sizeof names[0])
            nl = sizeof names[0] - 1;
        memcpy(names[k], de->d_name, nl);
        names[k++][nl] = '\0';
    }
    closedir(d);
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[128];
            memcpy(t, names[j], sizeof t);
            memcpy(names[j], names[j - 1], sizeof t);
            memcpy(names[j - 1], t, sizeof t);
        }
    for (int i = 0; i < k; i++) {
        if (i)
            strncat(out, ",", n - strlen(out) - 1);
        strncat(out, names[i], n - strlen(out) - 1);
    }
}

/* ------------------------------------------------------------------ */
/* Byte buffers, callbacks, files                                      */
/* ------------------------------------------------------------------ */

static void check_policy_states(pacing_ctx *ctx, const char *what);

/* A snapshot of ctx in memory (kept until teardown). Every policy state it
 * holds is first checked to pass the policy's own check_state, so that a
 * load failing with "bad policy state" is traced to its policy. */
static uint8_t *snap_bytes(pacing_ctx *ctx, size_t *len);
static uint8_t *snap_mem(pacing_ctx *ctx, size_t *len)
{
    check_policy_states(ctx, "before a snapshot");
    return snap_bytes(ctx, len);
}

/* The same without that check (for tests that never load it whole). */
static uint8_t *snap_bytes(pacing_ctx *ctx, size_t *len)
{
    membuf m = {0};
    int rc = pacing_snapshot_write(ctx, mem_write, &m);
    if (rc != PACING_OK) {
        free(m.p);
        fail_msg("snapshot_write: %d (%s)", rc, pacing_errmsg(ctx));
    }
    keep(m.p);
    *len = m.len;
    return m.p;
}

static int load_mem(pacing_ctx *ctx, const uint8_t *p, size_t len, size_t chunk)
{
    reader r = {p, len, 0, chunk, -1};
    return pacing_snapshot_read(ctx, mem_read, &r);
}

static void write_file(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = keep(malloc(n > 0 ? (size_t)n : 1));
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
    uint8_t *q = keep(malloc(len ? len : 1));
    memcpy(q, p, len);
    return q;
}

/* ---- the format (docs/snapshot-format.md) ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void fix_header_crc(uint8_t *s)
{
    wr32(s + 60, (uint32_t)crc32(0, s, 60));
}
static void fix_trailer_crc(uint8_t *s, size_t len)
{
    uint8_t *t = s + len - TRAILER_SIZE;
    wr32(t + 28, (uint32_t)crc32(0, t, 28));
}

/* The decompressed payload of a snapshot with its users expanded to whole
 * records (tests/snap_codec.h; kept until teardown). */
static uint8_t *payload_of(const uint8_t *s, size_t len, size_t *plen)
{
    assert_true(len >= HEADER_SIZE + TRAILER_SIZE);
    const uint8_t *t = s + len - TRAILER_SIZE;
    uint64_t pl = rd64(t), cl = rd64(t + 8);
    assert_int_equal(cl, len - HEADER_SIZE - TRAILER_SIZE);
    uint8_t *out = keep(malloc(pl ? pl : 1));
    uLongf dl = (uLongf)pl;
    assert_int_equal(raw_inflate(out, &dl, s + HEADER_SIZE, (uLong)cl), Z_OK);
    assert_int_equal(dl, pl);
    assert_int_equal(crc32(0, out, (uInt)pl), rd32(t + 16));
    return keep(snap_expand(rd32(s + 40), out, (size_t)pl, plen));
}

/* A well-formed snapshot around a (modified) expanded payload: the
 * original header, the users compacted again, a new raw deflate body, a
 * trailer with correct lengths and checksums. */
static uint8_t *wrap_compact(const uint8_t *orig, const uint8_t *payload,
                             size_t plen, size_t *len);

static uint8_t *rebuild(const uint8_t *orig, const uint8_t *xpayload, size_t xlen,
                        size_t *len)
{
    size_t plen;
    uint8_t *payload = keep(snap_compact(rd32(orig + 40), xpayload, xlen, &plen));
    return wrap_compact(orig, payload, plen, len);
}

/* The same around a compact payload taken as it is (to test encodings a
 * writer never makes). */
static uint8_t *wrap_compact(const uint8_t *orig, const uint8_t *payload,
                             size_t plen, size_t *len)
{
    uLongf cl = raw_bound((uLong)plen);
    uint8_t *s = keep(malloc(HEADER_SIZE + cl + TRAILER_SIZE));
    memcpy(s, orig, HEADER_SIZE);
    assert_int_equal(raw_deflate(s + HEADER_SIZE, &cl, payload, (uLong)plen, 6), Z_OK);
    uint8_t *t = s + HEADER_SIZE + cl;
    wr64(t, plen);
    wr64(t + 8, cl);
    wr32(t + 16, (uint32_t)crc32(0, payload, (uInt)plen));
    wr32(t + 20, (uint32_t)crc32(0, s + HEADER_SIZE, (uInt)cl));
    wr32(t + 24, 0);
    *len = HEADER_SIZE + cl + TRAILER_SIZE;
    fix_trailer_crc(s, *len);
    return s;
}

/* Offsets of the payload's sections (docs/snapshot-format.md). */
typedef struct layout {
    size_t stripe_users[64];  /* offset of each stripe's u32 n_users */
    uint32_t n_users[64];
    size_t stripe_pend[64];   /* offset of each stripe's u32 n_pending */
    uint32_t n_pend[64];
    size_t point[16];         /* offset of each point record */
    size_t point_state[16];   /* offset of each point's policy state */
    size_t hazard;            /* offset of u32 n_bins */
    size_t counters;          /* offset of the u64 counter */
} layout;

static void parse(const pacing_ctx *ctx, const uint8_t *p, size_t plen, layout *L)
{
    size_t o = 0;
    memset(L, 0, sizeof *L);
    assert_true(ctx->n_stripes <= 64 && ctx->n_points <= 16);
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        L->stripe_users[i] = o;
        L->n_users[i] = rd32(p + o);
        o += 4 + (size_t)L->n_users[i] * sizeof(pc_user);
        L->stripe_pend[i] = o;
        L->n_pend[i] = rd32(p + o);
        o += 4 + (size_t)L->n_pend[i] * (4 + sizeof(pc_pending));
        o += 4 + STRIPE_RING + sizeof(pc_stripe_stats);
        assert_true(o <= plen);
    }
    for (uint32_t i = 0; i < ctx->n_points; i++) {
        const pc_point *pt = ctx->points[i];
        L->point[i] = o;
        /* generator, decisions[k], rewards[k], last_update[k], rewards
         * learned, then the policy's state */
        L->point_state[i] = o + sizeof(pc_rng) + (3 * (size_t)pt->k + 1) * 8;
        o = L->point_state[i] + pt->state_size;
    }
    L->hazard = o;
    o += 4 + 8 * (2 * (size_t)rd32(p + o) + 9);
    L->counters = o;
    assert_int_equal(o + 8, plen);
}

/* Each point's live policy state passes its policy's check_state (what a
 * load of it will ask). */
static void check_policy_states(pacing_ctx *ctx, const char *what)
{
    for (uint32_t i = 0; i < ctx->n_points; i++) {
        const pc_point *p = ctx->points[i];
        void *copy = malloc(p->state_size ? p->state_size : 1);
        assert_non_null(copy);
        memcpy(copy, p->state, p->state_size);
        int bad = p->vt->check_state ? p->vt->check_state(copy, p->k, p->d, p->params)
                                     : -999;
        free(copy);
        if (bad)
            fail_msg("%s: point %u '%s': policy %s rejects its own live state "
                     "(check_state returned %d after %llu rewards): a snapshot "
                     "of it will not load (\"bad policy state\")", what, i,
                     p->name, p->vt->name, bad, (unsigned long long)p->n_learned);
    }
}

/* ------------------------------------------------------------------ */
/* The configuration and its variants                                  */
/* ------------------------------------------------------------------ */

enum {
    V_BASE,
    V_SECRET,      /* another pseudonym secret */
    V_EXTRA_POINT, /* one more point */
    V_PARAM,       /* another policy parameter */
    V_CAPACITY,    /* another user capacity */
    V_STRIPES,     /* another number of stripes */
    V_RULE,        /* another rule parameter */
    V_NO_RULE,     /* one rule fewer */
    V_WEIGHT,      /* another score weight */
    V_DECAY,       /* another exposure decay */
    V_ACTION,      /* an action renamed */
    V_ATTRIB,      /* another attribution window */
    N_VARIANTS
};

static const char *const variant_name[N_VARIANTS] = {
    "base", "secret", "extra point", "policy parameter", "capacity", "stripes",
    "rule parameter", "rule removed", "score weight", "exposure decay",
    "action name", "attribution window"};

#define N_POINTS 8
static const char *const ACT3[] = {"show", "delay", "skip"};
static const char *const ACT3B[] = {"show", "later", "skip"};
static const char *const ACT2[] = {"a", "b"};
static const char *const XYZ[] = {"x", "y", "z"};

static uint32_t add_point(pacing_ctx *ctx, const pacing_point_spec *sp)
{
    uint32_t id = 0;
    int rc = pacing_point_add(ctx, sp, &id);
    if (rc != PACING_OK)
        fail_msg("point_add %s: %d (%s)", sp->name, rc, pacing_errmsg(ctx));
    return id;
}

static void add_rule(pacing_ctx *ctx, const char *module, const char *point,
                     const pacing_param *params, uint32_t n)
{
    pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
    rs.module = module;
    rs.point = point;
    rs.params = params;
    rs.n_params = n;
    int rc = pacing_rule_add(ctx, &rs, NULL);
    if (rc != PACING_OK)
        fail_msg("rule_add %s: %d (%s)", module, rc, pacing_errmsg(ctx));
}

static void options_for(int v, pacing_options *o)
{
    pacing_options_init(o);
    o->flags = PACING_OPT_SECRET;
    memcpy(o->secret, v == V_SECRET ? "another-secret!!" : "0123456789abcdef", 16);
    o->seed = 42;
    o->capacity = v == V_CAPACITY ? 3000 : 2000;
    o->stripes = v == V_STRIPES ? 8 : 4;
    o->pending_capacity = 256;
    o->log_capacity = 4096;
}

static void configure(pacing_ctx *ctx, int v)
{
    /* 0: thompson, quiet delay/skip, safe action skip, implicit rewards,
     * default reward */
    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    static const pacing_reward_rule rw[] = {{"conversion", 1.0},
                                            {"dismiss", 0.5}};
    sp.name = "banner";
    sp.actions = v == V_ACTION ? ACT3B : ACT3;
    sp.n_actions = 3;
    sp.policy = "thompson";
    sp.quiet_actions = 0x6;
    sp.safe_action = 2;
    sp.rewards = rw;
    sp.n_rewards = 2;
    sp.flags = PACING_PT_DEFAULT_REWARD;
    sp.default_reward = 0.0;
    sp.attribution_ms = v == V_ATTRIB ? 90000 : 60000;
    add_point(ctx, &sp);

    /* 1: epsilon-greedy with recovering arms */
    pacing_param eps = {"epsilon", v == V_PARAM ? 0.3 : 0.2};
    static const double rec[4] = {30000, 0, 0, 0};
    sp = (pacing_point_spec)PACING_POINT_SPEC_INIT;
    sp.name = "tip";
    sp.actions = ACT2;
    sp.n_actions = 2;
    sp.policy = "epsilon_greedy";
    sp.params = &eps;
    sp.n_params = 1;
    sp.recovery_decay = "exponential";
    sp.recovery_params = rec;
    sp.attribution_ms = 30000;
    add_point(ctx, &sp);

    /* 2: linucb with two caller features and the scores */
    sp = (pacing_point_spec)PACING_POINT_SPEC_INIT;
    sp.name = "offer";
    sp.actions = XYZ;
    sp.n_actions = 3;
    sp.policy = "linucb";
    sp.context_dim = 2;
    sp.flags = PACING_PT_SCORES_CONTEXT;
    sp.attribution_ms = 120000;
    add_point(ctx, &sp);

    /* 3..7: the other policies */
    static const char *const pol[] = {"gaussian_thompson", "ucb1", "kl_ucb",
                                      "softmax", "linear_thompson"};
    static const char *const nm[] = {"gts", "ucb", "klucb", "soft", "lints"};
    for (int i = 0; i < 5; i++) {
        sp = (pacing_point_spec)PACING_POINT_SPEC_INIT;
        sp.name = nm[i];
        sp.actions = i == 1 ? XYZ : ACT2;
        sp.n_actions = i == 1 ? 3 : 2;
        sp.policy = pol[i];
        sp.context_dim = i == 4 ? 1 : 0;
        sp.attribution_ms = 45000;
        add_point(ctx, &sp);
    }
    if (v == V_EXTRA_POINT) {
        sp = (pacing_point_spec)PACING_POINT_SPEC_INIT;
        sp.name = "extra";
        sp.actions = ACT2;
        sp.n_actions = 2;
        sp.policy = "thompson";
        add_point(ctx, &sp);
    }

    pacing_param gap[] = {{"gap_ms", v == V_RULE ? 6000 : 5000},
                          {"same_point", 1}};
    add_rule(ctx, "min_gap", NULL, gap, 2);
    pacing_param cap[] = {{"max", 4}, {"window_ms", 3600000}};
    add_rule(ctx, "frequency_cap", "banner", cap, 2);
    if (v != V_NO_RULE) {
        pacing_param fat[] = {{"max", 0.9}};
        add_rule(ctx, "fatigue_ceiling", NULL, fat, 1);
    }
    if (v == V_WEIGHT)
        assert_int_equal(pacing_weight_set(ctx, PACING_SCORE_FATIGUE,
                                           PACING_IN_DISMISSALS, 2.5),
                         PACING_OK);
    if (v == V_DECAY) {
        double lp[4] = {600000, 0, 0, 0};
        assert_int_equal(pacing_exposure_decay_set(ctx, "linear", lp), PACING_OK);
    }
}

static pacing_ctx *build_opts(int v, const pacing_options *o)
{
    pacing_ctx *ctx = NULL;
    int rc = pacing_ctx_new(o, &ctx);
    if (rc != PACING_OK)
        fail_msg("ctx_new: %d (%s)", rc, pacing_errmsg(NULL));
    track(ctx);
    configure(ctx, v);
    return ctx;
}

static pacing_ctx *build(int v)
{
    pacing_options o;
    options_for(v, &o);
    return build_opts(v, &o);
}

/* ------------------------------------------------------------------ */
/* A deterministic workload and its trace                              */
/* ------------------------------------------------------------------ */

#define T0 1000000000LL
#define MAX_IDS 64

typedef struct workload {
    uint64_t rng;
    int64_t t;
    int user_base, n_users;
    uint64_t ids[MAX_IDS];
    int n_ids;
} workload;

static workload wl_make(uint64_t seed, int user_base, int n_users, int64_t t)
{
    workload w;
    memset(&w, 0, sizeof w);
    w.rng = seed;
    w.t = t;
    w.user_base = user_base;
    w.n_users = n_users;
    return w;
}

static void user_id(int u, char *buf, size_t n) { snprintf(buf, n, "user-%05d", u); }

/* FNV-1a over explicit values */
typedef struct hash {
    uint64_t h;
} hash;
static void hb(hash *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h->h ^= b[i];
        h->h *= 0x100000001B3ULL;
    }
}
static void hu(hash *h, uint64_t v) { hb(h, &v, sizeof v); }
static void hd(hash *h, double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    hu(h, b);
}

static void hash_decision(hash *h, const pacing_decision *d)
{
    hu(h, d->id);
    hu(h, d->point);
    hu(h, d->action);
    hu(h, d->reasons);
    hd(h, d->propensity);
    hu(h, (uint64_t)d->time_ms);
    hd(h, d->fatigue);
    hd(h, d->cognitive_load);
    hd(h, d->drop_off_risk);
    hd(h, d->attention);
    hd(h, d->engagement);
    hu(h, (uint64_t)d->retry_after_ms);
    hu(h, d->n_vetoes);
    for (uint32_t i = 0; i < d->n_vetoes && i < 4; i++) {
        const pacing_veto *x = &d->vetoes[i];
        hu(h, x->rule);
        hu(h, x->action);
        hu(h, x->verdict);
        hu(h, x->reason);
        hu(h, (uint64_t)x->retry_after_ms);
        hd(h, x->detail[0]);
        hd(h, x->detail[1]);
    }
    for (int i = 0; i < 2; i++) {
        hu(h, (uint64_t)(int64_t)d->fatigue_top.input[i]);
        hd(h, d->fatigue_top.share[i]);
        hu(h, (uint64_t)(int64_t)d->load_top.input[i]);
        hd(h, d->load_top.share[i]);
    }
}

static const uint32_t EV_TYPES[] = {
    PACING_EV_SESSION_START, PACING_EV_DWELL,        PACING_EV_SCROLL_DEPTH,
    PACING_EV_CLICK,         PACING_EV_DISMISS,      PACING_EV_ERROR,
    PACING_EV_INPUT_LATENCY, PACING_EV_READING_SPEED, PACING_EV_TAB_HIDDEN,
    PACING_EV_MICRO_CONVERSION, PACING_EV_CONVERSION, PACING_EV_EXPOSURE,
    PACING_EV_HOVER,         PACING_EV_UNDO,         PACING_EV_SESSION_END};
#define N_EV_TYPES (sizeof EV_TYPES / sizeof EV_TYPES[0])

/* One step: an event, maybe a decision, maybe a reward, sometimes a
 * settle. Returns the step's hash (every status and output). */
static uint64_t step(pacing_ctx *ctx, workload *w)
{
    hash h = {0xCBF29CE484222325ULL};
    char id[32];
    w->t += 200 + (int64_t)(next_rand(&w->rng) % 800);
    int u = w->user_base + (int)(next_rand(&w->rng) % (uint64_t)w->n_users);
    user_id(u, id, sizeof id);

    pacing_event ev = PACING_EVENT_INIT;
    ev.type = EV_TYPES[next_rand(&w->rng) % N_EV_TYPES];
    ev.user = id;
    ev.user_len = strlen(id);
    ev.time_ms = w->t;
    ev.target = next_rand(&w->rng) % 4;
    ev.channel = PACING_CH_WEB;
    uint64_t r = next_rand(&w->rng);
    switch (ev.type) {
    case PACING_EV_DWELL: ev.value = 1000 + (double)(r % 20000); break;
    case PACING_EV_HOVER: ev.value = (double)(r % 3000); break;
    case PACING_EV_SCROLL_DEPTH: ev.value = (double)(r % 101) / 100.0; break;
    case PACING_EV_CLICK: ev.value = (double)(r % 400); break;
    case PACING_EV_INPUT_LATENCY: ev.value = 150 + (double)(r % 900); break;
    case PACING_EV_READING_SPEED: ev.value = 120 + (double)(r % 200); break;
    case PACING_EV_CONVERSION: ev.value = 1.0; break;
    default: ev.value = 0.0; break;
    }
    hu(&h, (uint64_t)(int64_t)pacing_push(ctx, &ev));

    if (next_rand(&w->rng) % 2 == 0) {
        pacing_request rq = PACING_REQUEST_INIT;
        double x[2] = {(double)(next_rand(&w->rng) % 100) / 100.0,
                       (double)(next_rand(&w->rng) % 7)};
        rq.point = (uint32_t)(next_rand(&w->rng) % N_POINTS);
        rq.user = id;
        rq.user_len = strlen(id);
        rq.now_ms = w->t;
        rq.channel = PACING_CH_WEB;
        if (rq.point == 2) {
            rq.context = x;
            rq.context_len = 2;
        } else if (rq.point == 7) {
            rq.context = x;
            rq.context_len = 1;
        }
        pacing_decision d = PACING_DECISION_INIT;
        int rc = pacing_decide(ctx, &rq, &d);
        hu(&h, (uint64_t)(int64_t)rc);
        if (rc == PACING_OK) {
            hash_decision(&h, &d);
            if (d.id != 0) {
                if (w->n_ids == MAX_IDS) {
                    memmove(w->ids, w->ids + 1, sizeof w->ids[0] * (MAX_IDS - 1));
                    w->n_ids--;
                }
                w->ids[w->n_ids++] = d.id;
            }
        }
    }
    if (w->n_ids > 0 && next_rand(&w->rng) % 4 == 0) {
        int k = (int)(next_rand(&w->rng) % (uint64_t)w->n_ids);
        double value = (double)(next_rand(&w->rng) % 3) / 2.0;
        hu(&h, (uint64_t)(int64_t)pacing_reward(ctx, w->ids[k], value, w->t));
        w->ids[k] = w->ids[--w->n_ids];
    }
    if (next_rand(&w->rng) % 50 == 0) {
        uint64_t n = 0;
        hu(&h, (uint64_t)(int64_t)pacing_settle(ctx, w->t, &n));
        hu(&h, n);
    }
    return h.h;
}

static void run(pacing_ctx *ctx, workload *w, int steps)
{
    for (int i = 0; i < steps; i++)
        step(ctx, w);
}

/* The same steps on a and b (each with its own copy of *w, which then
 * advances): every status and output equal. */
static void run_both(pacing_ctx *a, pacing_ctx *b, workload *w, int steps,
                     const char *what)
{
    workload wa = *w, wb = *w;
    for (int i = 0; i < steps; i++) {
        uint64_t ha = step(a, &wa), hb2 = step(b, &wb);
        if (ha != hb2)
            fail_msg("%s: step %d (t=%lld) differs", what, i, (long long)wa.t);
    }
    *w = wa;
}

/* ---- the observable state ---- */

static void expect_same_state(pacing_ctx *a, pacing_ctx *b, const workload *w,
                              const char *what)
{
    char id[32];
    for (int u = w->user_base; u < w->user_base + w->n_users; u++) {
        user_id(u, id, sizeof id);
        pacing_scores sa = PACING_SCORES_INIT, sb = PACING_SCORES_INIT;
        int ra = pacing_scores_get(a, id, strlen(id), w->t, &sa);
        int rb = pacing_scores_get(b, id, strlen(id), w->t, &sb);
        if (ra != rb)
            fail_msg("%s: scores of %s: status %d vs %d", what, id, ra, rb);
        if (ra == PACING_OK && memcmp(&sa, &sb, sizeof sa) != 0)
            fail_msg("%s: scores of %s differ (fatigue %.17g vs %.17g, "
                     "drop-off %.17g vs %.17g, last seen %lld vs %lld)",
                     what, id, sa.fatigue, sb.fatigue, sa.drop_off_risk,
                     sb.drop_off_risk, (long long)sa.last_seen_ms,
                     (long long)sb.last_seen_ms);
        for (int kind = 0; kind < 4; kind++) {
            pacing_contribution ca[PACING_INPUT_COUNT], cb[PACING_INPUT_COUNT];
            for (int i = 0; i < PACING_INPUT_COUNT; i++) {
                ca[i] = (pacing_contribution)PACING_CONTRIBUTION_INIT;
                cb[i] = ca[i];
            }
            size_t na = 0, nb = 0;
            ra = pacing_contributions(a, id, strlen(id), w->t, kind, ca,
                                      PACING_INPUT_COUNT, &na);
            rb = pacing_contributions(b, id, strlen(id), w->t, kind, cb,
                                      PACING_INPUT_COUNT, &nb);
            assert_int_equal(ra, rb);
            if (ra == PACING_OK) {
                assert_int_equal(na, nb);
                if (memcmp(ca, cb, sizeof ca[0] * na) != 0)
                    fail_msg("%s: contributions of %s, score %d differ", what, id,
                             kind);
            }
        }
    }
    uint32_t np = a->n_points;
    assert_int_equal(np, b->n_points);
    for (uint32_t p = 0; p < np; p++)
        for (uint32_t k = 0; pacing_action_name(a, p, k); k++) {
            pacing_arm_stats xa = PACING_ARM_STATS_INIT, xb = PACING_ARM_STATS_INIT;
            assert_int_equal(pacing_arm_stats_get(a, p, k, &xa), PACING_OK);
            assert_int_equal(pacing_arm_stats_get(b, p, k, &xb), PACING_OK);
            if (xa.decisions != xb.decisions || xa.rewards != xb.rewards ||
                memcmp(&xa.pulls, &xb.pulls, 5 * sizeof(double)) != 0 ||
                xa.last_update_ms != xb.last_update_ms ||
                strcmp(xa.param_a_name, xb.param_a_name) != 0 ||
                strcmp(xa.param_b_name, xb.param_b_name) != 0)
                fail_msg("%s: arm stats of point %u action %u differ "
                         "(decisions %llu/%llu rewards %llu/%llu pulls %.17g/%.17g "
                         "a %.17g/%.17g)",
                         what, p, k, (unsigned long long)xa.decisions,
                         (unsigned long long)xb.decisions,
                         (unsigned long long)xa.rewards,
                         (unsigned long long)xb.rewards, xa.pulls, xb.pulls,
                         xa.param_a, xb.param_a);
        }
    pacing_decision_stats da = PACING_DECISION_STATS_INIT,
                          db = PACING_DECISION_STATS_INIT;
    assert_int_equal(pacing_decision_stats_get(a, &da), PACING_OK);
    assert_int_equal(pacing_decision_stats_get(b, &db), PACING_OK);
    if (memcmp(&da, &db, sizeof da) != 0)
        fail_msg("%s: decision stats differ (decisions %llu/%llu pending %llu/%llu "
                 "explicit %llu/%llu)", what, (unsigned long long)da.decisions,
                 (unsigned long long)db.decisions, (unsigned long long)da.pending,
                 (unsigned long long)db.pending,
                 (unsigned long long)da.rewards_explicit,
                 (unsigned long long)db.rewards_explicit);
    pacing_stats sa = PACING_STATS_INIT, sb = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(a, &sa), PACING_OK);
    assert_int_equal(pacing_stats_get(b, &sb), PACING_OK);
    if (memcmp(&sa, &sb, sizeof sa) != 0)
        fail_msg("%s: stats differ (users %llu/%llu applied %llu/%llu rejected "
                 "%llu/%llu created %llu/%llu bytes %llu/%llu)", what,
                 (unsigned long long)sa.users, (unsigned long long)sb.users,
                 (unsigned long long)sa.events_applied,
                 (unsigned long long)sb.events_applied,
                 (unsigned long long)sa.events_rejected,
                 (unsigned long long)sb.events_rejected,
                 (unsigned long long)sa.users_created,
                 (unsigned long long)sb.users_created,
                 (unsigned long long)sa.bytes_allocated,
                 (unsigned long long)sb.bytes_allocated);
    for (int64_t age = 0; age <= 120000; age += 10000) {
        double ha = -1, hb2 = -2, ra2 = -1, rb2 = -2;
        assert_int_equal(pacing_hazard_baseline(a, age, &ha, &ra2), PACING_OK);
        assert_int_equal(pacing_hazard_baseline(b, age, &hb2, &rb2), PACING_OK);
        if (memcmp(&ha, &hb2, sizeof ha) != 0 || memcmp(&ra2, &rb2, sizeof ra2) != 0)
            fail_msg("%s: hazard baseline at %lld differs", what, (long long)age);
    }
}

/* ---- the decision log ---- */

#define MAX_ENTRIES 8192
typedef struct entries {
    pacing_log_entry e[MAX_ENTRIES];
    size_t n;
} entries;

static int collect(void *opaque, const pacing_log_entry *e)
{
    entries *l = opaque;
    if (l->n < MAX_ENTRIES)
        l->e[l->n++] = *e;
    return 0;
}

static entries *drain(pacing_ctx *ctx)
{
    entries *l = keep(calloc(1, sizeof *l));
    uint64_t dropped = 99;
    assert_int_equal(pacing_log_read(ctx, collect, l, &dropped), PACING_OK);
    assert_int_equal(dropped, 0);
    return l;
}

static void expect_same_log(const entries *a, const entries *b, const char *what)
{
    if (a->n != b->n)
        fail_msg("%s: %zu vs %zu log entries", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const pacing_log_entry *x = &a->e[i], *y = &b->e[i];
        if (x->id != y->id || x->time_ms != y->time_ms ||
            x->pseudonym != y->pseudonym || x->point != y->point ||
            x->proposed_action != y->proposed_action ||
            x->final_action != y->final_action || x->reasons != y->reasons ||
            memcmp(&x->propensity, &y->propensity, sizeof(double)) != 0 ||
            x->outcome != y->outcome || x->settled_early != y->settled_early ||
            memcmp(&x->reward, &y->reward, sizeof(double)) != 0 ||
            x->reward_time_ms != y->reward_time_ms)
            fail_msg("%s: log entry %zu differs (id %llu/%llu outcome %u/%u)", what,
                     i, (unsigned long long)x->id, (unsigned long long)y->id,
                     x->outcome, y->outcome);
        if (x->policy_version != y->policy_version)
            fail_msg("%s: log entry %zu (decision %llu, point %u): policy_version "
                     "%llu vs %llu", what, i, (unsigned long long)x->id, x->point,
                     (unsigned long long)x->policy_version,
                     (unsigned long long)y->policy_version);
    }
}

static void expect_load_ok(pacing_ctx *ctx, int rc, const char *what)
{
    if (rc != PACING_OK)
        fail_msg("%s: status %d (%s): %s", what, rc, pacing_strerror(rc),
                 pacing_errmsg(ctx));
}

/* ------------------------------------------------------------------ */
/* Round trip                                                          */
/* ------------------------------------------------------------------ */

static void test_round_trip(void **state)
{
    (void)state;
    pacing_ctx *a = build(V_BASE);
    workload w = wl_make(1, 0, 40, T0);
    run(a, &w, 800);

    pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
    assert_int_equal(pacing_decision_stats_get(a, &ds), PACING_OK);
    assert_true(ds.pending > 0);
    assert_true(ds.rewards_explicit > 0);
    assert_true(ds.rewards_implicit + ds.rewards_default + ds.expired_unrewarded > 0);
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(a, &st), PACING_OK);
    assert_int_equal(st.users, 40);

    char path[512];
    path_in(path, sizeof path, "a.snap");
    assert_int_equal(pacing_snapshot_save(a, path), PACING_OK);
    size_t mlen = 0, flen = 0;
    uint8_t *mem = snap_mem(a, &mlen);
    uint8_t *file = read_file(path, &flen);
    /* the same state gives the same bytes, by either route */
    assert_int_equal(mlen, flen);
    assert_memory_equal(mem, file, mlen);
    assert_memory_equal(mem, "PACINGSN", 8);
    assert_int_equal(rd32(mem + 8), 2);

    pacing_ctx *b = build(V_BASE);
    expect_load_ok(b, pacing_snapshot_load(b, path), "load from a path");
    pacing_ctx *c = build(V_BASE);
    expect_load_ok(c, load_mem(c, mem, mlen, 777), "read through a callback");

    entries *la = drain(a);
    assert_true(la->n > 0);
    assert_int_equal(drain(b)->n, 0); /* the log is not in a snapshot */
    assert_int_equal(drain(c)->n, 0);

    expect_same_state(a, b, &w, "after load (path)");
    expect_same_state(a, c, &w, "after load (callback)");

    /* the pending decisions can still be rewarded, with the same effect */
    int ok = 0;
    for (int i = 0; i < w.n_ids; i++) {
        int ra = pacing_reward(a, w.ids[i], 1.0, w.t + 1);
        int rb = pacing_reward(b, w.ids[i], 1.0, w.t + 1);
        int rc = pacing_reward(c, w.ids[i], 1.0, w.t + 1);
        assert_int_equal(ra, rb);
        assert_int_equal(ra, rc);
        ok += ra == PACING_OK;
    }
    assert_true(ok >= 5);
    w.n_ids = 0;
    expect_same_state(a, b, &w, "after rewarding pending decisions");
    expect_same_log(drain(a), drain(b), "log of the pending rewards (path)");
    expect_same_state(a, c, &w, "after rewarding pending decisions (callback)");
    (void)drain(c);

    /* the same requests give the same decisions */
    {
        workload wa = w, wb = w, wc = w;
        for (int i = 0; i < 600; i++) {
            uint64_t ha = step(a, &wa), hb2 = step(b, &wb), hc = step(c, &wc);
            if (ha != hb2)
                fail_msg("decisions after load (path): step %d differs", i);
            if (ha != hc)
                fail_msg("decisions after load (callback): step %d differs", i);
        }
        w = wa;
    }
    expect_same_state(a, b, &w, "after 600 more steps (path)");
    expect_same_state(a, c, &w, "after 600 more steps (callback)");
    entries *l2a = drain(a), *l2b = drain(b), *l2c = drain(c);
    assert_true(l2a->n > 0);
    expect_same_log(l2a, l2b, "log after load (path)");
    expect_same_log(l2a, l2c, "log after load (callback)");

    /* a loaded context saves and loads again */
    path_in(path, sizeof path, "b.snap");
    assert_int_equal(pacing_snapshot_save(b, path), PACING_OK);
    pacing_ctx *d = build(V_BASE);
    expect_load_ok(d, pacing_snapshot_load(d, path), "second generation load");
    expect_same_state(a, d, &w, "second generation");
    run_both(a, d, &w, 200, "second generation decisions");
}

/* Loading replaces what a context held: a used context gets exactly the
 * state of the snapshot (its own users gone, its counters replaced). */
static void test_load_replaces_state(void **state)
{
    (void)state;
    pacing_ctx *a = build(V_BASE);
    workload wa = wl_make(11, 0, 30, T0);
    run(a, &wa, 400);
    size_t len;
    uint8_t *s = snap_mem(a, &len);

    pacing_ctx *b = build(V_BASE);
    workload wb = wl_make(12, 500, 30, T0 + 5000);
    run(b, &wb, 500);
    expect_load_ok(b, load_mem(b, s, len, 0), "load into a used context");
    expect_same_state(a, b, &wa, "replaced state");
    char id[32];
    pacing_scores sc = PACING_SCORES_INIT;
    user_id(500, id, sizeof id);
    assert_int_equal(pacing_scores_get(b, id, strlen(id), wb.t, &sc),
                     PACING_E_NOTFOUND);
    (void)drain(a);
    (void)drain(b);
    run_both(a, b, &wa, 300, "decisions after replacing");
}

/* The decision log is not part of the learned state: a load leaves the
 * entries already in it (docs/snapshot-format.md), whoever they are
 * about. */
static void test_load_keeps_log(void **state)
{
    (void)state;
    pacing_ctx *a = build(V_BASE);
    workload wa = wl_make(15, 0, 30, T0);
    run(a, &wa, 300);
    size_t len;
    uint8_t *s = snap_mem(a, &len);

    pacing_ctx *b = build(V_BASE), *c = build(V_BASE);
    workload wb = wl_make(14, 0, 30, T0 + 1000); /* the same users as a */
    run_both(b, c, &wb, 400, "before");
    expect_load_ok(b, load_mem(b, s, len, 0), "load into a used context");
    entries *lb = drain(b), *lc = drain(c);
    assert_true(lc->n > 0);
    if (lb->n != lc->n)
        fail_msg("the load removed %zu of the %zu log entries", lc->n - lb->n,
                 lc->n);
    expect_same_log(lb, lc, "the log after a load");
}

/* Every policy accepts, when loading, every state it reaches itself:
 * many workloads, each state checked every 25 steps and finally loaded. */
static void test_live_states_load(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        pacing_ctx *a = build(V_BASE);
        workload w = wl_make(seed, 0, 30, T0);
        for (int i = 0; i < 12; i++) {
            char what[64];
            run(a, &w, 25);
            snprintf(what, sizeof what, "workload %llu, step %d",
                     (unsigned long long)seed, 25 * (i + 1));
            check_policy_states(a, what);
        }
        size_t len;
        uint8_t *s = snap_mem(a, &len);
        pacing_ctx *b = build(V_BASE);
        expect_load_ok(b, load_mem(b, s, len, 0), "a live state");
        release(a);
        release(b);
    }
}

/* An empty context round-trips too. */
static void test_empty_round_trip(void **state)
{
    (void)state;
    pacing_ctx *a = build(V_BASE);
    size_t len;
    uint8_t *s = snap_mem(a, &len);
    pacing_ctx *b = build(V_BASE);
    expect_load_ok(b, load_mem(b, s, len, 1), "empty snapshot, 1-byte reads");
    workload w = wl_make(5, 0, 20, T0);
    expect_same_state(a, b, &w, "empty");
    run_both(a, b, &w, 300, "decisions from empty");
}

/* ------------------------------------------------------------------ */
/* Another secret or configuration                                     */
/* ------------------------------------------------------------------ */

static void test_other_config(void **state)
{
    (void)state;
    pacing_ctx *a = build(V_BASE);
    workload wa = wl_make(21, 0, 30, T0);
    run(a, &wa, 300);
    size_t len;
    uint8_t *s = snap_mem(a, &len);
    char path[512];
    path_in(path, sizeof path, "base.snap");
    write_file(path, s, len);

    for (int v = 1; v < N_VARIANTS; v++) {
        pacing_ctx *x = build(v), *y = build(v);
        workload w = wl_make(100 + (uint64_t)v, 1000, 25, T0);
        run_both(x, y, &w, 150, variant_name[v]);
        int rc = (v & 1) ? pacing_snapshot_load(x, path) : load_mem(x, s, len, 0);
        if (rc != PACING_E_CONFIG)
            fail_msg("load into a context with another %s: status %d (%s), "
                     "expected PACING_E_CONFIG", variant_name[v], rc,
                     pacing_errmsg(x));
        const char *m = pacing_errmsg(x);
        assert_true(strstr(m, v == V_SECRET ? "secret" : "configuration") != NULL);
        expect_same_state(x, y, &w, variant_name[v]);
        run_both(x, y, &w, 60, variant_name[v]);
        expect_same_state(x, y, &w, variant_name[v]);
        expect_same_log(drain(x), drain(y), variant_name[v]);
        release(x);
        release(y);
    }
    /* options outside the configuration hash do not matter */
    pacing_options o;
    options_for(V_BASE, &o);
    o.user_ttl_ms = 7 * 24 * 3600 * 1000LL;
    o.debounce_ms = 10;
    o.log_capacity = 16;
    pacing_ctx *z = build_opts(V_BASE, &o);
    expect_load_ok(z, load_mem(z, s, len, 0), "another TTL, debounce, log size");
}

/* ------------------------------------------------------------------ */
/* Damaged input leaves the context as it was                          */
/* ------------------------------------------------------------------ */

typedef struct damage_env {
    pacing_ctx *x, *y; /* x gets the bad loads, y is its untouched twin */
    workload w;
    int cases;
    const uint8_t *good; /* the undamaged snapshot */
    size_t good_len;
    /* damaged inputs that were accepted (checked and reported at the end) */
    int accepted, accepted_same_payload;
    char first_accepted[160];
} damage_env;

/* Does the damaged snapshot still decompress to the original payload? */
static int same_payload(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen < HEADER_SIZE + TRAILER_SIZE || blen < HEADER_SIZE + TRAILER_SIZE)
        return 0;
    uLong pa = (uLong)rd64(a + alen - TRAILER_SIZE);
    uint8_t *x = malloc(pa + 1), *y = malloc(pa + 1);
    uLongf xl = pa + 1, yl = pa + 1;
    int same = x && y &&
               raw_inflate(x, &xl, a + HEADER_SIZE, (uLong)(alen - HEADER_SIZE - TRAILER_SIZE)) == Z_OK &&
               raw_inflate(y, &yl, b + HEADER_SIZE, (uLong)(blen - HEADER_SIZE - TRAILER_SIZE)) == Z_OK &&
               xl == yl && memcmp(x, y, xl) == 0;
    free(x);
    free(y);
    return same;
}

static void expect_refused_p(damage_env *e, int rc, int want, const char *what,
                             const uint8_t *p, size_t len)
{
    if (rc == PACING_OK && want != PACING_OK && p) {
        /* accepted: note it, then put the twin in the same state so that
         * the other cases can still be checked */
        if (e->accepted++ == 0)
            snprintf(e->first_accepted, sizeof e->first_accepted, "%s", what);
        e->accepted_same_payload += same_payload(p, len, e->good, e->good_len);
        expect_load_ok(e->y, load_mem(e->y, e->good, e->good_len, 0), "resync");
        expect_same_state(e->x, e->y, &e->w, what);
        rc = want;
    }
    if (rc != want)
        fail_msg("%s: status %d (%s: %s), expected %d (%s)", what, rc,
                 pacing_strerror(rc), pacing_errmsg(e->x), want,
                 pacing_strerror(want));
    /* the next decisions, scores and counters are the twin's */
    run_both(e->x, e->y, &e->w, 3, what);
    expect_same_state(e->x, e->y, &e->w, what);
    e->cases++;
}

static void try_mem(damage_env *e, const uint8_t *p, size_t len, int want,
                    const char *what)
{
    expect_refused_p(e, load_mem(e->x, p, len, (size_t)(e->cases % 3) * 1000),
                     want, what, p, len);
}

static void try_file(damage_env *e, const uint8_t *p, size_t len, int want,
                     const char *what)
{
    char path[512];
    path_in(path, sizeof path, "damaged.snap");
    write_file(path, p, len);
    expect_refused_p(e, pacing_snapshot_load(e->x, path), want, what, p, len);
}

static void test_damaged_inputs(void **state)
{
    (void)state;
    /* z: the source of a valid snapshot with other users */
    pacing_ctx *z = build(V_BASE);
    workload wz = wl_make(7, 100, 40, T0);
    run(z, &wz, 600);
    size_t len;
    const uint8_t *s = snap_mem(z, &len);
    size_t plen;
    const uint8_t *pl = payload_of(s, len, &plen);
    layout L;
    parse(z, pl, plen, &L);

    damage_env e;
    memset(&e, 0, sizeof e);
    e.good = s;
    e.good_len = len;
    e.x = build(V_BASE);
    e.y = build(V_BASE);
    e.w = wl_make(3, 0, 40, T0 + 100000);
    run_both(e.x, e.y, &e.w, 400, "before");
    char what[128];

    /* empty, truncated */
    try_file(&e, s, 0, PACING_E_CORRUPT, "empty file");
    try_mem(&e, s, 0, PACING_E_CORRUPT, "empty stream");
    const size_t cuts[] = {1, 8, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 1,
                           len / 2, len - TRAILER_SIZE, len - 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        snprintf(what, sizeof what, "truncated to %zu of %zu bytes", cuts[i], len);
        if (i % 2)
            try_file(&e, s, cuts[i], PACING_E_CORRUPT, what);
        else
            try_mem(&e, s, cuts[i], PACING_E_CORRUPT, what);
    }

    /* a flipped byte in each 64-byte block (sampled when large, always the
     * header, the start of the body and the trailer) */
    uint8_t *bad = keep(malloc(len + 2 * TRAILER_SIZE));
    size_t blocks = (len + 63) / 64;
    size_t stride = blocks > 400 ? blocks / 400 : 1;
    int flips = 0;
    for (size_t b = 0; b < blocks; b++) {
        if (b % stride != 0 && b > 2 && b + 2 < blocks)
            continue;
        memcpy(bad, s, len);
        size_t off = b * 64 + (b * 37 + 11) % 64;
        if (off >= len)
            off = len - 1;
        bad[off] ^= (uint8_t)(1u << (b % 8));
        snprintf(what, sizeof what, "byte %zu of %zu flipped (block %zu)", off, len,
                 b);
        if (b % 16 == 5)
            try_file(&e, bad, len, PACING_E_CORRUPT, what);
        else
            try_mem(&e, bad, len, PACING_E_CORRUPT, what);
        flips++;
    }
    assert_true(flips >= 3);
    /* and in every byte of the header and the trailer */
    for (size_t off = 0; off < HEADER_SIZE; off += 5) {
        memcpy(bad, s, len);
        bad[off] ^= 0x40;
        snprintf(what, sizeof what, "header byte %zu flipped", off);
        try_mem(&e, bad, len, PACING_E_CORRUPT, what);
    }
    for (size_t off = len - TRAILER_SIZE; off < len; off += 3) {
        memcpy(bad, s, len);
        bad[off] ^= 0x02;
        snprintf(what, sizeof what, "trailer byte %zu flipped", off);
        try_mem(&e, bad, len, PACING_E_CORRUPT, what);
    }

    /* the header's fields, with its checksum recomputed */
    memcpy(bad, s, len);
    memcpy(bad, "PACINGSX", 8);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "wrong magic");
    fix_header_crc(bad);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "wrong magic, header CRC fixed");
    memcpy(bad, s, len);
    memcpy(bad, "GIF89a\0\0", 8);
    try_file(&e, bad, len, PACING_E_CORRUPT, "not a snapshot at all");
    /* 1: the format before compact user records */
    const uint32_t versions[] = {0, 1, 3, 0x100, UINT32_MAX};
    for (int i = 0; i < 5; i++) {
        memcpy(bad, s, len);
        wr32(bad + 8, versions[i]);
        fix_header_crc(bad);
        snprintf(what, sizeof what, "format version %u", versions[i]);
        try_mem(&e, bad, len, PACING_E_VERSION, what);
    }
    memcpy(bad, s, len);
    wr32(bad + 8, 3);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "version 3, header CRC not fixed");
    memcpy(bad, s, len);
    wr32(bad + 12, 1);
    fix_header_crc(bad);
    try_mem(&e, bad, len, PACING_E_VERSION, "unknown flags");
    memcpy(bad, s, len);
    wr32(bad + 16, rd32(s + 16) + 8);
    fix_header_crc(bad);
    try_mem(&e, bad, len, PACING_E_VERSION, "another user record size");
    memcpy(bad, s, len);
    wr32(bad + 20, rd32(s + 20) - 8);
    fix_header_crc(bad);
    try_mem(&e, bad, len, PACING_E_VERSION, "another pending record size");
    memcpy(bad, s, len);
    wr64(bad + 24, rd64(s + 24) ^ 1);
    fix_header_crc(bad);
    try_mem(&e, bad, len, PACING_E_CONFIG, "another configuration hash");
    memcpy(bad, s, len);
    wr64(bad + 32, rd64(s + 32) ^ 0x100);
    fix_header_crc(bad);
    try_mem(&e, bad, len, PACING_E_CONFIG, "another secret fingerprint");
    memcpy(bad, s, len);
    wr32(bad + 40, rd32(s + 40) * 2);
    fix_header_crc(bad);
    try_mem(&e, bad, len, PACING_E_CONFIG, "another stripe count");
    memcpy(bad, s, len);
    wr32(bad + 44, rd32(s + 44) + 1);
    fix_header_crc(bad);
    try_mem(&e, bad, len, PACING_E_CONFIG, "another point count");

    /* the trailer's fields, with its checksum recomputed */
    uint8_t *t = bad + len - TRAILER_SIZE;
    memcpy(bad, s, len);
    wr64(t, plen + 1);
    fix_trailer_crc(bad, len);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "payload length + 1");
    memcpy(bad, s, len);
    wr64(t, plen - 1);
    fix_trailer_crc(bad, len);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "payload length - 1");
    memcpy(bad, s, len);
    wr64(t, 0);
    fix_trailer_crc(bad, len);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "payload length 0");
    memcpy(bad, s, len);
    wr64(t + 8, rd64(t + 8) - 1);
    fix_trailer_crc(bad, len);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "compressed length - 1");
    memcpy(bad, s, len);
    wr32(t + 16, rd32(t + 16) ^ 0x8000);
    fix_trailer_crc(bad, len);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "payload CRC");
    memcpy(bad, s, len);
    wr32(t + 20, rd32(t + 20) ^ 0x10);
    fix_trailer_crc(bad, len);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "compressed body CRC");
    memcpy(bad, s, len);
    wr32(t + 24, 1);
    fix_trailer_crc(bad, len);
    try_mem(&e, bad, len, PACING_E_CORRUPT, "reserved trailer bytes not 0");

    /* extra bytes after the trailer, or two snapshots end to end */
    memcpy(bad, s, len);
    bad[len] = 0;
    try_file(&e, bad, len + 1, PACING_E_CORRUPT, "one byte appended");
    uint8_t *two = keep(malloc(2 * len));
    memcpy(two, s, len);
    memcpy(two + len, s, len);
    try_mem(&e, two, 2 * len, PACING_E_CORRUPT, "two snapshots concatenated");
    /* the body of one snapshot with another's trailer (stale trailer) */
    size_t xlen;
    const uint8_t *xs = snap_bytes(e.x, &xlen);
    if (xlen > TRAILER_SIZE + HEADER_SIZE) {
        memcpy(bad, s, len);
        memcpy(bad + len - TRAILER_SIZE, xs + xlen - TRAILER_SIZE, TRAILER_SIZE);
        try_mem(&e, bad, len, PACING_E_CORRUPT, "another snapshot's trailer");
    }

    /* well-formed snapshots whose records fail their checks */
    uint8_t *p2 = keep(malloc(plen + 64));
    size_t rlen;
    uint8_t *r;
    int si = 0;
    while (si < 4 && L.n_users[si] < 2)
        si++;
    assert_true(si < 4);
    size_t u0 = L.stripe_users[si] + 4; /* first user record of stripe si */

    memcpy(p2, pl, plen);
    r = rebuild(s, p2, plen, &rlen);
    { /* the rebuild itself is accepted by a third context */
        pacing_ctx *q = build(V_BASE);
        expect_load_ok(q, load_mem(q, r, rlen, 0), "rebuilt, unchanged payload");
        release(q);
    }
    memcpy(p2, pl, plen);
    wr64(p2 + u0 + offsetof(pc_user, pseudo), 0);
    r = rebuild(s, p2, plen, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "user with pseudonym 0");

    memcpy(p2, pl, plen);
    memcpy(p2 + u0 + sizeof(pc_user) + offsetof(pc_user, pseudo),
           p2 + u0 + offsetof(pc_user, pseudo), 8);
    r = rebuild(s, p2, plen, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "duplicate user");

    { /* a user in another stripe's list */
        int sj = (si + 1) % 4;
        while (L.n_users[sj] == 0)
            sj = (sj + 1) % 4;
        memcpy(p2, pl, plen);
        memcpy(p2 + u0 + offsetof(pc_user, pseudo),
               pl + L.stripe_users[sj] + 4 + offsetof(pc_user, pseudo), 8);
        r = rebuild(s, p2, plen, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "user in the wrong stripe");
    }

    memcpy(p2, pl, plen);
    {
        double nan = NAN;
        memcpy(p2 + u0 + offsetof(pc_user, feat) + offsetof(pc_features, rate) + 8,
               &nan, 8);
    }
    r = rebuild(s, p2, plen, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "user feature NaN");

    memcpy(p2, pl, plen);
    p2[u0 + offsetof(pc_user, feat) + offsetof(pc_features, n_expo)] = 200;
    r = rebuild(s, p2, plen, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "user exposure count out of range");

    memcpy(p2, pl, plen);
    wr64(p2 + u0 + offsetof(pc_user, last_seen_ms), (uint64_t)-5);
    r = rebuild(s, p2, plen, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "user last seen < 0");

    memcpy(p2, pl, plen);
    wr32(p2 + L.stripe_users[si], 1u << 30);
    r = rebuild(s, p2, plen, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "huge user count");

    memcpy(p2, pl, plen);
    wr32(p2 + L.stripe_users[si], L.n_users[si] + 1);
    r = rebuild(s, p2, plen, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "user count + 1");

    /* compact records a writer never makes (the encoding is canonical):
     * the first user record of stripe 0, in the compact payload itself */
    {
        const uint8_t *t = s + len - TRAILER_SIZE;
        size_t cpl = (size_t)rd64(t);
        uint8_t *cp = keep(malloc(cpl + 16));
        uLongf dl = (uLongf)cpl;
        assert_int_equal(raw_inflate(cp, &dl, s + HEADER_SIZE, (uLong)rd64(t + 8)), Z_OK);
        assert_true(L.n_users[0] >= 1 && rd32(cp) == L.n_users[0]);
        const size_t rec = 4, words = rec + SC_UMASK; /* record, its first word */
        uint8_t *q = keep(malloc(cpl + 16));
        /* the first word with a byte mask other than 0xFF (some byte 0) */
        size_t at = words, wi = 0;
        int found = 0;
        for (size_t i = 0; i < SC_UW && !found; i++) {
            if (!(cp[rec + i / 8] >> (i % 8) & 1))
                continue;
            unsigned m = cp[at];
            if (m != 0xFF) {
                found = 1;
                wi = i;
                break;
            }
            at += 1 + (size_t)__builtin_popcount(m);
        }
        assert_true(found);
        unsigned m = cp[at], n = (unsigned)__builtin_popcount(m);
        (void)wi;

        /* a byte mask of 0 (its bytes removed) */
        memcpy(q, cp, at);
        q[at] = 0;
        memcpy(q + at + 1, cp + at + 1 + n, cpl - at - 1 - n);
        r = wrap_compact(s, q, cpl - n, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "a word's byte mask 0");

        /* a zero byte marked nonzero: the lowest byte not in the mask */
        unsigned j = (unsigned)__builtin_ctz(~m & 0xFFu);
        size_t rank = (size_t)__builtin_popcount(m & ((1u << j) - 1));
        memcpy(q, cp, at);
        q[at] = (uint8_t)(m | 1u << j);
        memcpy(q + at + 1, cp + at + 1, rank);
        q[at + 1 + rank] = 0;
        memcpy(q + at + 2 + rank, cp + at + 1 + rank, cpl - at - 1 - rank);
        r = wrap_compact(s, q, cpl + 1, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "a zero byte marked nonzero");

        /* the control: the unchanged compact payload, wrapped the same
         * way, loads (so the refusals above are the mutations') */
        r = wrap_compact(s, cp, cpl, &rlen);
        {
            pacing_ctx *q2 = build(V_BASE);
            expect_load_ok(q2, load_mem(q2, r, rlen, 0), "compact payload as written");
            release(q2);
        }

        /* a word-mask bit past the record's last word */
        if (SC_UW % 8) {
            memcpy(q, cp, cpl);
            q[rec + SC_UMASK - 1] |= (uint8_t)(0x80u);
            r = wrap_compact(s, q, cpl, &rlen);
            try_mem(&e, r, rlen, PACING_E_CORRUPT, "a word past the record marked");
        }

        /* the payload cut inside the first record: its stripe's user
         * count asks for more records than there are bytes for */
        memcpy(q, cp, cpl);
        r = wrap_compact(s, q, rec + SC_UMASK + 1, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "payload ends in the first record");
    }

    { /* a pending decision with a bad point, action or id */
        int pj = 0;
        while (pj < 4 && L.n_pend[pj] == 0)
            pj++;
        assert_true(pj < 4);
        size_t e0 = L.stripe_pend[pj] + 4 + 4; /* first pending record */
        memcpy(p2, pl, plen);
        wr32(p2 + e0 + offsetof(pc_pending, point), N_POINTS);
        r = rebuild(s, p2, plen, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "pending decision of point 8");
        memcpy(p2, pl, plen);
        p2[e0 + offsetof(pc_pending, action)] = 63;
        r = rebuild(s, p2, plen, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "pending decision of action 63");
        memcpy(p2, pl, plen);
        wr64(p2 + e0 + offsetof(pc_pending, id), 0);
        r = rebuild(s, p2, plen, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "pending decision with id 0");
        memcpy(p2, pl, plen);
        wr32(p2 + e0 - 4, 1u << 20); /* its slot */
        r = rebuild(s, p2, plen, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "pending decision in slot 2^20");
        memcpy(p2, pl, plen);
        {
            double zero = 0.0;
            memcpy(p2 + e0 + offsetof(pc_pending, propensity), &zero, 8);
        }
        r = rebuild(s, p2, plen, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "pending decision propensity 0");
        memcpy(p2, pl, plen);
        wr32(p2 + L.stripe_pend[pj], 1u << 30);
        r = rebuild(s, p2, plen, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "huge pending count");
        /* the ring's head and tail (after the stripe's seq) */
        size_t ring = L.stripe_pend[pj] + 4 +
                      (size_t)L.n_pend[pj] * (4 + sizeof(pc_pending)) + 4;
        memcpy(p2, pl, plen);
        wr32(p2 + ring, 1u << 20);
        r = rebuild(s, p2, plen, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "pending ring head out of range");
        memcpy(p2, pl, plen);
        wr32(p2 + ring + 4, UINT32_MAX);
        r = rebuild(s, p2, plen, &rlen);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, "pending ring tail out of range");
    }

    /* each point's generator and policy state */
    for (uint32_t i = 0; i < N_POINTS; i++) {
        memcpy(p2, pl, plen);
        memset(p2 + L.point[i], 0, sizeof(pc_rng));
        r = rebuild(s, p2, plen, &rlen);
        snprintf(what, sizeof what, "point %u generator state all zero", i);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, what);
        memcpy(p2, pl, plen);
        memset(p2 + L.point_state[i], 0xFF, z->points[i]->state_size);
        r = rebuild(s, p2, plen, &rlen);
        snprintf(what, sizeof what, "point %u (%s) policy state all 0xFF", i,
                 z->points[i]->vt->name);
        try_mem(&e, r, rlen, PACING_E_CORRUPT, what);
    }

    /* the hazard model */
    memcpy(p2, pl, plen);
    wr32(p2 + L.hazard, rd32(pl + L.hazard) + 1);
    r = rebuild(s, p2, plen, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "hazard bin count + 1");
    memcpy(p2, pl, plen);
    {
        double neg = -1.0;
        memcpy(p2 + L.hazard + 4, &neg, 8);
    }
    r = rebuild(s, p2, plen, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "hazard at-risk < 0");

    /* payload too short or too long */
    memcpy(p2, pl, plen);
    r = rebuild(s, p2, plen - 8, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "payload without its counters");
    memcpy(p2, pl, plen);
    memset(p2 + plen, 0, 8);
    r = rebuild(s, p2, plen + 8, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "8 bytes after the payload");
    r = rebuild(s, p2, 0, &rlen);
    try_mem(&e, r, rlen, PACING_E_CORRUPT, "empty payload");

    print_message("%d damaged inputs tried (%zu-byte snapshot, %d flips), %d "
                  "accepted\n", e.cases, len, flips, e.accepted);

    /* sensitivity: the undamaged snapshot is accepted and does change x */
    expect_load_ok(e.x, load_mem(e.x, s, len, 0), "the undamaged snapshot");
    char id[32];
    user_id(0, id, sizeof id);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(e.x, id, strlen(id), e.w.t, &sc),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_scores_get(e.y, id, strlen(id), e.w.t, &sc), PACING_OK);
    expect_same_state(e.x, z, &wz, "x after the good load");
    if (e.accepted)
        fail_msg("%d of %d damaged inputs were loaded (%d of them decompress to "
                 "the original payload); the first: %s", e.accepted, e.cases,
                 e.accepted_same_payload, e.first_accepted);
}

/* A crafted trailer that announces a huge payload (with valid checksums)
 * is refused as damaged without asking for that much memory. */
typedef struct capped {
    size_t limit, largest;
} capped;
static void *capped_alloc(void *opaque, size_t size)
{
    capped *c = opaque;
    if (size > c->largest)
        c->largest = size;
    return size > c->limit ? NULL : malloc(size);
}
static void capped_free(void *opaque, void *p, size_t size)
{
    (void)opaque;
    (void)size;
    free(p);
}

static void test_crafted_lengths(void **state)
{
    (void)state;
    capped cap = {64u << 20, 0};
    pacing_options o;
    options_for(V_BASE, &o);
    o.allocator.alloc = capped_alloc;
    o.allocator.free = capped_free;
    o.allocator.opaque = &cap;
    pacing_ctx *x = build_opts(V_BASE, &o);
    pacing_ctx *y = build(V_BASE);
    workload w = wl_make(9, 0, 20, T0);
    run_both(x, y, &w, 200, "before");
    size_t len;
    uint8_t *s = snap_bytes(x, &len);
    uint8_t *bad = dup_bytes(s, len);
    const uint64_t huge[] = {(uint64_t)1 << 39, (uint64_t)1 << 40,
                             ((uint64_t)1 << 40) + 1, UINT64_MAX};
    for (int i = 0; i < 4; i++) {
        memcpy(bad, s, len);
        wr64(bad + len - TRAILER_SIZE, huge[i]);
        fix_trailer_crc(bad, len);
        cap.largest = 0;
        int rc = load_mem(x, bad, len, 0);
        if (rc != PACING_E_CORRUPT)
            fail_msg("payload length %llu announced by a valid trailer: status %d "
                     "(%s: %s), expected PACING_E_CORRUPT; largest allocation "
                     "asked %zu bytes", (unsigned long long)huge[i], rc,
                     pacing_strerror(rc), pacing_errmsg(x), cap.largest);
        assert_true(cap.largest < cap.limit);
        run_both(x, y, &w, 3, "after crafted length");
        expect_same_state(x, y, &w, "after crafted length");
    }
}

/* ------------------------------------------------------------------ */
/* I/O                                                                 */
/* ------------------------------------------------------------------ */

static void test_io_errors(void **state)
{
    (void)state;
    pacing_ctx *x = build(V_BASE), *y = build(V_BASE);
    workload w = wl_make(31, 0, 20, T0);
    run_both(x, y, &w, 200, "before");
    size_t len;
    uint8_t *s = snap_bytes(x, &len);

    /* the read callback fails: at once, in the header, in the body, at the
     * very end */
    const long fail_at[] = {0, 10, (long)len / 2, (long)len - 1, (long)len};
    for (int i = 0; i < 5; i++) {
        reader r = {s, len, 0, 100, fail_at[i]};
        int rc = pacing_snapshot_read(x, mem_read, &r);
        if (rc != PACING_E_IO)
            fail_msg("read callback failing after %ld bytes: status %d, expected "
                     "PACING_E_IO", fail_at[i], rc);
        run_both(x, y, &w, 3, "after a failing read callback");
    }
    expect_same_state(x, y, &w, "after failing reads");

    /* the write callback fails: on its first call, on a later one */
    for (int k = 1; k <= 3; k++) {
        membuf m = {0};
        m.fail_at_call = k;
        assert_int_equal(pacing_snapshot_write(x, mem_write, &m), PACING_E_IO);
        free(m.p);
    }
    expect_same_state(x, y, &w, "after failing writes");

    /* NULL arguments */
    assert_int_equal(pacing_snapshot_save(NULL, "x"), PACING_E_NULL);
    assert_int_equal(pacing_snapshot_save(x, NULL), PACING_E_NULL);
    assert_int_equal(pacing_snapshot_load(NULL, "x"), PACING_E_NULL);
    assert_int_equal(pacing_snapshot_load(x, NULL), PACING_E_NULL);
    assert_int_equal(pacing_snapshot_write(NULL, mem_write, NULL), PACING_E_NULL);
    assert_int_equal(pacing_snapshot_write(x, NULL, NULL), PACING_E_NULL);
    assert_int_equal(pacing_snapshot_read(NULL, mem_read, NULL), PACING_E_NULL);
    assert_int_equal(pacing_snapshot_read(x, NULL, NULL), PACING_E_NULL);

    /* loading: no such file, a directory */
    char path[512], before[4096], after[4096];
    path_in(path, sizeof path, "no-such.snap");
    assert_int_equal(pacing_snapshot_load(x, path), PACING_E_IO);
    assert_int_equal(pacing_snapshot_load(x, tmpdir), PACING_E_IO);
    run_both(x, y, &w, 3, "after failed loads");
    expect_same_state(x, y, &w, "after failed loads");

    /* saving into a directory that does not exist: nothing is created */
    list_dir(tmpdir, before, sizeof before);
    path_in(path, sizeof path, "missing-dir/x.snap");
    assert_int_equal(pacing_snapshot_save(x, path), PACING_E_IO);
    struct stat st;
    path_in(path, sizeof path, "missing-dir");
    assert_int_equal(stat(path, &st), -1);
    list_dir(tmpdir, after, sizeof after);
    assert_string_equal(before, after);
    assert_int_equal(pacing_snapshot_save(x, ""), PACING_E_IO);

    /* saving over a path that cannot be replaced (a non-empty directory):
     * PACING_E_IO, the directory untouched, no temporary file left */
    char sub[512], inner[600];
    path_in(sub, sizeof sub, "occupied");
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(inner, sizeof inner, "%s/keep", sub);
    write_file(inner, "k", 1);
    list_dir(tmpdir, before, sizeof before);
    assert_int_equal(pacing_snapshot_save(x, sub), PACING_E_IO);
    list_dir(tmpdir, after, sizeof after);
    assert_string_equal(before, after);
    assert_int_equal(stat(inner, &st), 0);
    run_both(x, y, &w, 3, "after failed saves");
    expect_same_state(x, y, &w, "after failed saves");
}

static void test_atomic_save(void **state)
{
    (void)state;
    char dir[512], path[600], names[4096];
    path_in(dir, sizeof dir, "atomic");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/state.snap", dir);

    pacing_ctx *a = build(V_BASE);
    workload w = wl_make(41, 0, 20, T0);
    run(a, &w, 100);
    assert_int_equal(pacing_snapshot_save(a, path), PACING_OK);
    list_dir(dir, names, sizeof names);
    assert_string_equal(names, "state.snap");
    struct stat st1, st2;
    assert_int_equal(stat(path, &st1), 0);
    assert_int_equal(st1.st_mode & 077, 0); /* not readable by others */
    size_t len1, mlen1;
    uint8_t *f1 = read_file(path, &len1);
    uint8_t *m1 = snap_mem(a, &mlen1);
    assert_int_equal(len1, mlen1);
    assert_memory_equal(f1, m1, len1);

    /* a reader holding the old file keeps reading the old snapshot while
     * the new one replaces the name */
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    run(a, &w, 100);
    assert_int_equal(pacing_snapshot_save(a, path), PACING_OK);
    list_dir(dir, names, sizeof names);
    assert_string_equal(names, "state.snap");
    assert_int_equal(stat(path, &st2), 0);
    assert_true(st1.st_ino != st2.st_ino); /* a new file renamed over it */
    size_t len2, mlen2;
    uint8_t *f2 = read_file(path, &len2);
    uint8_t *m2 = snap_mem(a, &mlen2);
    assert_int_equal(len2, mlen2);
    assert_memory_equal(f2, m2, len2);
    uint8_t *old = keep(malloc(len1));
    assert_int_equal(read(fd, old, len1), (ssize_t)len1);
    close(fd);
    assert_memory_equal(old, m1, len1);

    /* both generations load */
    pacing_ctx *b = build(V_BASE);
    expect_load_ok(b, load_mem(b, f1, len1, 0), "first generation");
    expect_load_ok(b, pacing_snapshot_load(b, path), "second generation");
    expect_same_state(a, b, &w, "second generation");

    /* a relative path (directory ".") */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    int rc = pacing_snapshot_save(a, "rel.snap");
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, PACING_OK);
    list_dir(dir, names, sizeof names);
    assert_string_equal(names, "rel.snap,state.snap");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_replaces_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_keeps_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_states_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crafted_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_save, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
