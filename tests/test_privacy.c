/* Privacy: raw user ids never outlive the call that carried them, and
 * forgotten or expired users leave no trace.
 *
 *  - Users with recognisable ids push events, get decisions and rewards;
 *    neither a snapshot (its raw bytes and its payload, inflated here with
 *    zlib) nor the decision log nor any block of memory the context holds
 *    (every block is tracked through the allocator hooks) nor an error
 *    message contains an id or its first 8 bytes.
 *  - pacing_forget: the user's scores are gone, its pending decisions can
 *    no longer be rewarded, its log entries are gone, and a new snapshot
 *    (and the context's memory) no longer holds its pseudonym -- also when
 *    the user had been evicted, or evicted and re-created, before.
 *  - A retention TTL: after pacing_expire, idle users are gone and a
 *    snapshot holds none of their pseudonyms.
 *
 * Snapshot layout (docs/snapshot-format.md): a 64-byte header, a zlib
 * stream, a 32-byte trailer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pacing.h"
#include "internal.h" /* pc_user, for snap_codec.h */
#include "snap_codec.h"
#define HELPERS_OWN_TEARDOWN
#include "helpers.h"

#define HEADER_SIZE 64
#define TRAILER_SIZE 32
#define T0 2000000000LL

/* ------------------------------------------------------------------ */
/* An allocator that tracks every live block (to search the context's
 * memory)                                                             */
/* ------------------------------------------------------------------ */

typedef struct block {
    void *p;
    size_t size;
} block;

typedef struct tracker {
    block *b;
    size_t n, cap;
    size_t bytes;
    int bad_free;
} tracker;

static void *t_alloc(void *opaque, size_t size)
{
    tracker *t = opaque;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        block *nb = realloc(t->b, cap * sizeof *nb);
        if (!nb)
            return NULL;
        t->b = nb;
        t->cap = cap;
    }
    void *p = malloc(size ? size : 1);
    if (!p)
        return NULL;
    t->b[t->n].p = p;
    t->b[t->n].size = size;
    t->n++;
    t->bytes += size;
    return p;
}

static void t_free(void *opaque, void *ptr, size_t size)
{
    tracker *t = opaque;
    for (size_t i = 0; i < t->n; i++)
        if (t->b[i].p == ptr) {
            if (t->b[i].size != size)
                t->bad_free++;
            t->bytes -= t->b[i].size;
            t->b[i] = t->b[--t->n];
            free(ptr);
            return;
        }
    t->bad_free++;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

typedef struct fixture {
    tracker t;
    pacing_ctx *ctx;
} fixture;

static fixture fx;
static void *bufs[32];

static void *keep(void *p)
{
    assert_non_null(p);
    for (int i = 0; i < 32; i++)
        if (!bufs[i]) {
            bufs[i] = p;
            return p;
        }
    free(p);
    fail_msg("too many buffers");
    return NULL;
}

static int teardown(void **state)
{
    (void)state;
    pacing_ctx_free(fx.ctx);
    fx.ctx = NULL;
    int bad = fx.t.bad_free;
    size_t left = fx.t.n;
    for (size_t i = 0; i < fx.t.n; i++)
        free(fx.t.b[i].p);
    free(fx.t.b);
    memset(&fx.t, 0, sizeof fx.t);
    for (int i = 0; i < 32; i++) {
        free(bufs[i]);
        bufs[i] = NULL;
    }
    return bad || left ? -1 : 0;
}

static const char *const ACT3[] = {"show", "delay", "skip"};

/* A context whose memory is tracked: a thompson point, a linucb point
 * (whose pending decisions keep their context), two rules. */
static pacing_ctx *make_ctx(uint64_t capacity, uint32_t stripes, int64_t ttl_ms)
{
    pacing_options o = PACING_OPTIONS_INIT;
    o.flags = PACING_OPT_SECRET;
    memcpy(o.secret, "privacy-secret-1", 16);
    o.seed = 3;
    o.capacity = capacity;
    o.stripes = stripes;
    o.user_ttl_ms = ttl_ms;
    o.pending_capacity = 128;
    o.log_capacity = 256;
    o.allocator.alloc = t_alloc;
    o.allocator.free = t_free;
    o.allocator.opaque = &fx.t;
    assert_int_equal(pacing_ctx_new(&o, &fx.ctx), PACING_OK);
    pacing_ctx *ctx = fx.ctx;

    pacing_point_spec sp = PACING_POINT_SPEC_INIT;
    static const pacing_reward_rule rw[] = {{"conversion", 1.0}};
    uint32_t id;
    sp.name = "banner";
    sp.actions = ACT3;
    sp.n_actions = 3;
    sp.policy = "thompson";
    sp.quiet_actions = 0x6;
    sp.safe_action = 2;
    sp.rewards = rw;
    sp.n_rewards = 1;
    sp.attribution_ms = 3600000;
    assert_int_equal(pacing_point_add(ctx, &sp, &id), PACING_OK);
    sp = (pacing_point_spec)PACING_POINT_SPEC_INIT;
    sp.name = "offer";
    sp.actions = ACT3;
    sp.n_actions = 3;
    sp.policy = "linucb";
    sp.flags = PACING_PT_SCORES_CONTEXT;
    sp.quiet_actions = 0x6;
    sp.safe_action = 2;
    sp.attribution_ms = 3600000;
    assert_int_equal(pacing_point_add(ctx, &sp, &id), PACING_OK);
    pacing_rule_spec rs = PACING_RULE_SPEC_INIT;
    pacing_param gap[] = {{"gap_ms", 1000}};
    rs.module = "min_gap";
    rs.params = gap;
    rs.n_params = 1;
    assert_int_equal(pacing_rule_add(ctx, &rs, NULL), PACING_OK);
    rs = (pacing_rule_spec)PACING_RULE_SPEC_INIT;
    rs.module = "sensitive_state";
    assert_int_equal(pacing_rule_add(ctx, &rs, NULL), PACING_OK);
    return ctx;
}

static void push(pacing_ctx *ctx, const char *user, uint32_t type, double value,
                 int64_t t)
{
    pacing_event ev = PACING_EVENT_INIT;
    ev.type = type;
    ev.user = user;
    ev.user_len = strlen(user);
    ev.time_ms = t;
    ev.value = value;
    ev.target = 42;
    int rc = pacing_push(ctx, &ev);
    if (rc != PACING_OK && rc != PACING_DROPPED)
        fail_msg("push %s: %d (%s)", user, rc, pacing_errmsg(ctx));
}

static pacing_decision decide(pacing_ctx *ctx, uint32_t point, const char *user,
                              int64_t now)
{
    pacing_request rq = PACING_REQUEST_INIT;
    rq.point = point;
    rq.user = user;
    rq.user_len = strlen(user);
    rq.now_ms = now;
    pacing_decision d = PACING_DECISION_INIT;
    int rc = pacing_decide(ctx, &rq, &d);
    if (rc != PACING_OK)
        fail_msg("decide %s: %d (%s)", user, rc, pacing_errmsg(ctx));
    return d;
}

/* A user's activity: events of many kinds, decisions at both points, a
 * reward for the first, the second left pending. Returns the pending id. */
static uint64_t activity(pacing_ctx *ctx, const char *user, int64_t t)
{
    static const uint32_t types[] = {
        PACING_EV_SESSION_START, PACING_EV_DWELL,        PACING_EV_SCROLL_DEPTH,
        PACING_EV_CLICK,         PACING_EV_INPUT_LATENCY, PACING_EV_READING_SPEED,
        PACING_EV_HOVER,         PACING_EV_TAB_HIDDEN,   PACING_EV_DISMISS,
        PACING_EV_MICRO_CONVERSION, PACING_EV_FORM_SUBMIT, PACING_EV_CUSTOM};
    static const double values[] = {0, 4000, 0.6, 120, 350, 230, 800, 0, 0, 0, 0, 5};
    for (int i = 0; i < 12; i++)
        push(ctx, user, types[i], values[i], t + i * 100);
    pacing_decision a = decide(ctx, 0, user, t + 1500);
    pacing_decision b = decide(ctx, 1, user, t + 3000); /* after min_gap */
    if (a.id)
        assert_int_equal(pacing_reward(ctx, a.id, 1.0, t + 3100), PACING_OK);
    assert_true(b.id != 0);
    return b.id;
}

/* ------------------------------------------------------------------ */
/* Searching bytes                                                     */
/* ------------------------------------------------------------------ */

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle,
                           size_t m)
{
    if (m == 0 || n < m)
        return NULL;
    const uint8_t *nd = needle;
    for (size_t i = 0; i + m <= n; i++)
        if (hay[i] == nd[0] && memcmp(hay + i, nd, m) == 0)
            return hay + i;
    return NULL;
}

/* membuf, mem_write: helpers.h */

typedef struct snap {
    uint8_t *raw;
    size_t raw_len;
    uint8_t *payload; /* the inflated body */
    size_t payload_len;
} snap;

/* Write a snapshot to memory and inflate its body with zlib, without
 * trusting the trailer's lengths. */
static snap take_snapshot(pacing_ctx *ctx)
{
    membuf m = {0};
    int rc = pacing_snapshot_write(ctx, mem_write, &m);
    if (rc != PACING_OK) {
        free(m.p);
        fail_msg("snapshot_write: %d (%s)", rc, pacing_errmsg(ctx));
    }
    keep(m.p);
    snap s = {m.p, m.len, NULL, 0};
    assert_true(s.raw_len > HEADER_SIZE + TRAILER_SIZE);
    assert_memory_equal(s.raw, "PACINGSN", 8);

    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, -15), Z_OK); /* raw deflate */
    size_t cap = 1 << 16, body = s.raw_len - HEADER_SIZE - TRAILER_SIZE;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    z.next_in = s.raw + HEADER_SIZE;
    z.avail_in = (uInt)body;
    int zr;
    do {
        if (z.total_out == cap) {
            cap *= 2;
            uint8_t *no = realloc(out, cap);
            assert_non_null(no);
            out = no;
        }
        z.next_out = out + z.total_out;
        z.avail_out = (uInt)(cap - z.total_out);
        zr = inflate(&z, Z_NO_FLUSH);
    } while (zr == Z_OK);
    size_t total = z.total_out;
    uInt left = z.avail_in;
    inflateEnd(&z);
    keep(out);
    assert_int_equal(zr, Z_STREAM_END);
    assert_int_equal(left, 0); /* the stream ends where the trailer starts */
    /* users expanded to whole records (format 2 stores them compactly,
     * as differences from the previous record): searched as stored */
    s.payload = keep(snap_expand(sc_rd32(s.raw + 40), out, total, &s.payload_len));
    return s;
}

/* Neither the raw snapshot nor its payload holds the bytes. */
static void expect_not_in_snapshot(const snap *s, const void *b, size_t n,
                                   const char *what)
{
    const uint8_t *hit = find(s->raw, s->raw_len, b, n);
    if (hit)
        fail_msg("%s found in the snapshot file at offset %td", what, hit - s->raw);
    hit = find(s->payload, s->payload_len, b, n);
    if (hit)
        fail_msg("%s found in the snapshot payload at offset %td of %zu", what,
                 hit - s->payload, s->payload_len);
}

static int in_snapshot(const snap *s, const void *b, size_t n)
{
    return find(s->payload, s->payload_len, b, n) != NULL;
}

/* No block the context holds contains the bytes. */
static void expect_not_in_memory(const void *b, size_t n, const char *what)
{
    for (size_t i = 0; i < fx.t.n; i++) {
        const uint8_t *hit = find(fx.t.b[i].p, fx.t.b[i].size, b, n);
        if (hit)
            fail_msg("%s found in the context's memory: block %zu of %zu bytes, "
                     "offset %td", what, i, fx.t.b[i].size,
                     hit - (const uint8_t *)fx.t.b[i].p);
    }
}

static int in_memory(const void *b, size_t n)
{
    for (size_t i = 0; i < fx.t.n; i++)
        if (find(fx.t.b[i].p, fx.t.b[i].size, b, n))
            return 1;
    return 0;
}

static void le64(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t pseudo(pacing_ctx *ctx, const char *user)
{
    uint64_t p = 0;
    assert_int_equal(pacing_pseudonym(ctx, user, strlen(user), &p), PACING_OK);
    return p;
}

/* ---- the log ---- */

#define MAX_E 256
typedef struct entries {
    pacing_log_entry e[MAX_E];
    size_t n;
} entries;

static int collect(void *opaque, const pacing_log_entry *e)
{
    entries *l = opaque;
    if (l->n < MAX_E)
        l->e[l->n++] = *e;
    return 0;
}

static entries *read_log(pacing_ctx *ctx)
{
    entries *l = keep(calloc(1, sizeof *l));
    assert_int_equal(pacing_log_read(ctx, collect, l, NULL), PACING_OK);
    return l;
}

static size_t log_count(const entries *l, uint64_t p)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->e[i].pseudonym == p;
    return n;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static const char *const IDS[] = {
    "alice@example.com",
    "USER-SECRET-123456",
    "bob.smith+newsletter@corp.example.org",
    "\x01\x02\x03\x04\x05\x06\x07\x08 binary id 9f8e7d6c5b4a",
};
#define N_IDS 4

static void test_no_raw_ids(void **state)
{
    (void)state;
    pacing_ctx *ctx = make_ctx(1000, 4, 0);
    /* a long id too */
    char long_id[600];
    memset(long_id, 0, sizeof long_id);
    for (size_t i = 0; i + 1 < sizeof long_id; i++)
        long_id[i] = (char)('A' + (i * 7) % 26);
    memcpy(long_id, "LONG-ID:", 8);

    int64_t t = T0;
    for (int i = 0; i < N_IDS; i++, t += 10000)
        activity(ctx, IDS[i], t);
    activity(ctx, long_id, t);
    t += 10000;
    /* calls that fail on these ids: the messages do not quote them */
    for (int i = 0; i < N_IDS; i++) {
        pacing_event ev = PACING_EVENT_INIT;
        ev.type = PACING_EV_DWELL;
        ev.user = IDS[i];
        ev.user_len = strlen(IDS[i]);
        ev.time_ms = 1; /* too old */
        ev.value = 10;
        assert_int_equal(pacing_push(ctx, &ev), PACING_E_TOO_OLD);
        assert_null(strstr(pacing_errmsg(ctx), IDS[i]));
        ev.time_ms = t;
        ev.value = -1; /* out of range */
        assert_int_equal(pacing_push(ctx, &ev), PACING_E_RANGE);
        assert_null(strstr(pacing_errmsg(ctx), IDS[i]));
        pacing_scores sc = PACING_SCORES_INIT;
        assert_int_equal(pacing_scores_get(ctx, IDS[i], strlen(IDS[i]), 5, &sc),
                         PACING_E_TOO_OLD);
        assert_null(strstr(pacing_errmsg(ctx), IDS[i]));
    }

    snap s = take_snapshot(ctx);
    for (int i = 0; i <= N_IDS; i++) {
        const char *id = i < N_IDS ? IDS[i] : long_id;
        char what[64];
        snprintf(what, sizeof what, "user id %d", i);
        expect_not_in_snapshot(&s, id, strlen(id), what);
        expect_not_in_snapshot(&s, id, 8, "the first 8 bytes of a user id");
        expect_not_in_snapshot(&s, id + strlen(id) - 8, 8,
                               "the last 8 bytes of a user id");
        expect_not_in_memory(id, strlen(id), what);
        expect_not_in_memory(id, 8, "the first 8 bytes of a user id");
        /* what the snapshot does hold: the pseudonym (the search works) */
        uint8_t pb[8];
        le64(pb, pseudo(ctx, id));
        assert_true(in_snapshot(&s, pb, 8));
        assert_true(in_memory(pb, 8));
    }

    /* the log: pseudonyms only */
    entries *l = read_log(ctx);
    assert_true(l->n >= 5);
    for (int i = 0; i <= N_IDS; i++) {
        const char *id = i < N_IDS ? IDS[i] : long_id;
        const uint8_t *raw = (const uint8_t *)l->e;
        assert_null(find(raw, l->n * sizeof l->e[0], id, 8));
        assert_int_equal(log_count(l, pseudo(ctx, id)), 1);
    }
}

/* A user is forgotten: scores, pending decisions, log entries, and every
 * later snapshot. */
static void test_forget(void **state)
{
    (void)state;
    pacing_ctx *ctx = make_ctx(1000, 4, 0);
    const char *alice = IDS[0], *bob = IDS[1];
    uint64_t pa = pseudo(ctx, alice), pb = pseudo(ctx, bob);
    uint8_t ba[8], bb[8];
    le64(ba, pa);
    le64(bb, pb);

    uint64_t a1 = activity(ctx, alice, T0);
    uint64_t b1 = activity(ctx, bob, T0 + 100);
    assert_true(a1 != 0 && b1 != 0);
    uint64_t a2 = activity(ctx, alice, T0 + 20000);
    /* alice's pending decisions hold her pseudonym: the snapshot has it */
    snap s = take_snapshot(ctx);
    assert_true(in_snapshot(&s, ba, 8));
    assert_true(in_snapshot(&s, bb, 8));

    assert_int_equal(pacing_forget(ctx, alice, strlen(alice)), PACING_OK);
    assert_int_equal(pacing_forget(ctx, alice, strlen(alice)), PACING_E_NOTFOUND);

    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, alice, strlen(alice), T0 + 30000, &sc),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_scores_get_pseudonym(ctx, pa, T0 + 30000, &sc),
                     PACING_E_NOTFOUND);
    assert_int_equal(pacing_reward(ctx, a1, 1.0, T0 + 30000), PACING_E_NOTFOUND);
    assert_int_equal(pacing_reward(ctx, a2, 1.0, T0 + 30000), PACING_E_NOTFOUND);

    s = take_snapshot(ctx);
    expect_not_in_snapshot(&s, ba, 8, "the forgotten user's pseudonym");
    expect_not_in_memory(ba, 8, "the forgotten user's pseudonym");
    assert_true(in_snapshot(&s, bb, 8));

    entries *l = read_log(ctx);
    assert_int_equal(log_count(l, pa), 0);
    assert_int_equal(log_count(l, pb), 1);

    /* bob is untouched */
    assert_int_equal(pacing_scores_get(ctx, bob, strlen(bob), T0 + 30000, &sc),
                     PACING_OK);
    assert_int_equal(pacing_reward(ctx, b1, 1.0, T0 + 30000), PACING_OK);
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.users_forgotten, 1);
    assert_int_equal(st.users, 1);
}

/* Forgetting a user the table no longer holds (evicted by LRU) still
 * removes its pending decisions and log entries. */
static void test_forget_after_eviction(void **state)
{
    (void)state;
    pacing_ctx *ctx = make_ctx(4, 1, 0);
    const char *alice = IDS[0];
    uint64_t pa = pseudo(ctx, alice);
    uint8_t ba[8];
    le64(ba, pa);
    uint64_t pend = activity(ctx, alice, T0);
    char other[16];
    for (int i = 0; i < 4; i++) {
        snprintf(other, sizeof other, "filler-%d", i);
        push(ctx, other, PACING_EV_DWELL, 100, T0 + 5000 + i);
    }
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.users_evicted_lru, 1); /* alice */

    (void)pacing_forget(ctx, alice, strlen(alice)); /* OK or NOTFOUND */
    assert_int_equal(pacing_reward(ctx, pend, 1.0, T0 + 6000), PACING_E_NOTFOUND);
    entries *l = read_log(ctx);
    if (log_count(l, pa) != 0)
        fail_msg("forget of an evicted user left %zu log entries with its "
                 "pseudonym", log_count(l, pa));
    snap s = take_snapshot(ctx);
    expect_not_in_snapshot(&s, ba, 8,
                           "the pseudonym of a forgotten (earlier evicted) user");
}

/* Evicted, back again, then forgotten: the decisions from before the
 * eviction go too. */
static void test_forget_after_return(void **state)
{
    (void)state;
    pacing_ctx *ctx = make_ctx(4, 1, 0);
    const char *alice = IDS[0];
    uint64_t pa = pseudo(ctx, alice);
    uint8_t ba[8];
    le64(ba, pa);
    uint64_t old = activity(ctx, alice, T0);
    char other[16];
    for (int i = 0; i < 4; i++) {
        snprintf(other, sizeof other, "filler-%d", i);
        push(ctx, other, PACING_EV_DWELL, 100, T0 + 5000 + i);
    }
    uint64_t fresh = activity(ctx, alice, T0 + 10000);
    assert_int_equal(pacing_forget(ctx, alice, strlen(alice)), PACING_OK);
    assert_int_equal(pacing_reward(ctx, fresh, 1.0, T0 + 20000), PACING_E_NOTFOUND);
    if (pacing_reward(ctx, old, 1.0, T0 + 20000) != PACING_E_NOTFOUND)
        fail_msg("a decision made before the user was evicted can still be "
                 "rewarded after pacing_forget");
    entries *l = read_log(ctx);
    assert_int_equal(log_count(l, pa), 0);
    snap s = take_snapshot(ctx);
    expect_not_in_snapshot(&s, ba, 8,
                           "the pseudonym of a forgotten (evicted, returned) user");
}

/* TTL: idle users expire and no snapshot holds them any more. */
static void test_ttl(void **state)
{
    (void)state;
    pacing_ctx *ctx = make_ctx(1000, 4, 1000);
    char id[32];
    uint8_t b[8][8];
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof id, "idle-user-%d@example.com", i);
        push(ctx, id, PACING_EV_SESSION_START, 0, T0 + i);
        push(ctx, id, PACING_EV_DWELL, 2000, T0 + 100 + i);
        push(ctx, id, PACING_EV_SCROLL_DEPTH, 0.5, T0 + 200 + i);
        le64(b[i], pseudo(ctx, id));
    }
    push(ctx, "active@example.com", PACING_EV_DWELL, 1000, T0 + 4500);
    uint8_t bact[8];
    le64(bact, pseudo(ctx, "active@example.com"));
    snap s = take_snapshot(ctx);
    for (int i = 0; i < 8; i++)
        assert_true(in_snapshot(&s, b[i], 8));

    uint64_t n = 0;
    assert_int_equal(pacing_expire(ctx, T0 + 5000, &n), PACING_OK);
    assert_int_equal(n, 8);
    pacing_scores sc = PACING_SCORES_INIT;
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof id, "idle-user-%d@example.com", i);
        assert_int_equal(pacing_scores_get(ctx, id, strlen(id), T0 + 5000, &sc),
                         PACING_E_NOTFOUND);
    }
    assert_int_equal(pacing_scores_get(ctx, "active@example.com", 18, T0 + 5000,
                                       &sc), PACING_OK);
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.users, 1);
    assert_int_equal(st.users_expired, 8);
    assert_int_equal(st.users_created,
                     st.users + st.users_evicted_lru + st.users_expired +
                         st.users_forgotten);

    s = take_snapshot(ctx);
    for (int i = 0; i < 8; i++)
        expect_not_in_snapshot(&s, b[i], 8, "an expired user's pseudonym");
    assert_true(in_snapshot(&s, bact, 8));
    for (int i = 0; i < 8; i++)
        expect_not_in_memory(b[i], 8, "an expired user's pseudonym");
}

/* TTL for users that got decisions: the pending decisions may stay
 * rewardable by id, but no longer under the expired user's pseudonym. */
static void test_ttl_with_decisions(void **state)
{
    (void)state;
    pacing_ctx *ctx = make_ctx(1000, 4, 1000);
    const char *carol = "carol@example.com";
    uint8_t bc[8];
    le64(bc, pseudo(ctx, carol));
    (void)activity(ctx, carol, T0);
    push(ctx, "active@example.com", PACING_EV_DWELL, 1000, T0 + 9500);
    uint64_t n = 0;
    assert_int_equal(pacing_expire(ctx, T0 + 10000, &n), PACING_OK);
    assert_int_equal(n, 1);
    pacing_scores sc = PACING_SCORES_INIT;
    assert_int_equal(pacing_scores_get(ctx, carol, strlen(carol), T0 + 10000, &sc),
                     PACING_E_NOTFOUND);
    snap s = take_snapshot(ctx);
    expect_not_in_snapshot(&s, bc, 8,
                           "the pseudonym of an expired user with pending decisions");
}

/* TTL for a user evicted once (for room), back, then expired: the
 * decisions of its first stay are anonymised too. */
static void test_ttl_after_eviction(void **state)
{
    (void)state;
    pacing_ctx *ctx = make_ctx(4, 1, 1000);
    const char *dora = "dora@example.com";
    uint8_t bd[8];
    le64(bd, pseudo(ctx, dora));
    uint64_t first = activity(ctx, dora, T0); /* pending, 1 h window */
    char other[16];
    for (int i = 0; i < 4; i++) { /* dora, least recent, is evicted */
        snprintf(other, sizeof other, "filler-%d", i);
        push(ctx, other, PACING_EV_DWELL, 100, T0 + 3500 + i);
    }
    pacing_stats st = PACING_STATS_INIT;
    assert_int_equal(pacing_stats_get(ctx, &st), PACING_OK);
    assert_int_equal(st.users_evicted_lru, 1);
    push(ctx, dora, PACING_EV_DWELL, 100, T0 + 3600); /* back */
    uint64_t n = 0;
    assert_int_equal(pacing_expire(ctx, T0 + 10000, &n), PACING_OK);
    assert_int_equal(n, 4); /* dora and three fillers */
    snap s = take_snapshot(ctx);
    expect_not_in_snapshot(&s, bd, 8,
                           "the pseudonym of an expired user (evicted once before)");
    /* the decision itself can still be rewarded by id */
    assert_int_equal(pacing_reward(ctx, first, 1.0, T0 + 10001), PACING_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_no_raw_ids, teardown),
        cmocka_unit_test_teardown(test_forget, teardown),
        cmocka_unit_test_teardown(test_forget_after_eviction, teardown),
        cmocka_unit_test_teardown(test_forget_after_return, teardown),
        cmocka_unit_test_teardown(test_ttl, teardown),
        cmocka_unit_test_teardown(test_ttl_with_decisions, teardown),
        cmocka_unit_test_teardown(test_ttl_after_eviction, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
