/* Snapshots: the learned state to and from bytes (docs/snapshot-format.md).
 *
 *   header   64 bytes: magic "PACINGSN", format version, flags, record
 *            sizes, the configuration hash and a secret fingerprint, and
 *            a CRC32 of the header
 *   body     one raw deflate stream (RFC 1951, no zlib wrapper) of the
 *            payload; users are stored compactly (below)
 *   trailer  32 bytes: payload length, compressed length, CRC32 of the
 *            payload, CRC32 of the compressed body, 4 reserved bytes, CRC32
 *            of the trailer
 *
 * Saving streams stripe by stripe through deflate, each stripe under its
 * lock. Loading reads everything, inflates, checks every record, and only
 * then replaces the context's state, which cannot fail by then.
 *
 * A user record is written as its difference from the previous record of
 * the stripe: the record is an array of 64-bit words, XORed with the
 * previous one's words (the first with zeros); a bit mask of the nonzero
 * words follows, then for each such word a byte mask of its nonzero bytes
 * and those bytes. Consecutive users share most words (zeros, -1 times,
 * close timestamps, equal flags), so a 640-byte record takes ~90 bytes and
 * deflate has little left to do: the writer stores (level 0). */
#include "internal.h"
#include "point.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SNAP_MAGIC "PACINGSN"
#define SNAP_VERSION 2u
#define SNAP_LEVEL 0 /* deflate level of the writer (readers take any) */
#define HEADER_SIZE 64
#define TRAILER_SIZE 32
#define MAX_ZLIB_RATIO 1100 /* deflate cannot expand more than ~1032:1 */
#define MAX_SNAPSHOT ((uint64_t)1 << 40)

/* ---- little-endian helpers (the payload is in host order, checked to be
 * little-endian at build time below) ---- */
_Static_assert(sizeof(double) == 8, "IEEE 754 doubles");
_Static_assert(sizeof(pc_user) % 8 == 0, "a user record is whole 64-bit words");

/* ---- the compact user record ---- */
#define UW (sizeof(pc_user) / 8)        /* words in a record */
#define UMASK ((UW + 7) / 8)            /* bytes of the word mask */
#define UMAX (UMASK + 9 * UW)           /* the longest encoded record */

typedef union {
    pc_user u;
    uint64_t w[UW];
} user_words;

/* The record as it is encoded: the fields rebuilt on load zeroed. */
static void user_canon(user_words *r, const pc_user *u)
{
    memcpy(r, u, sizeof *r);
    r->u.lru_prev = 0;
    r->u.lru_next = 0;
    r->u.pending_head = 0;
}

/* Bit j set when byte j of x (least significant first) is nonzero. */
static inline unsigned nonzero_bytes(uint64_t x)
{
    uint64_t hi = (((x & 0x7F7F7F7F7F7F7F7FULL) + 0x7F7F7F7F7F7F7F7FULL) | x) &
                  0x8080808080808080ULL;
    return (unsigned)(((hi >> 7) * 0x0102040810204080ULL) >> 56);
}

/* Encode cur as its difference from prev (both canonical) at o; returns
 * the end. o has room for UMAX bytes (+ 8 of slack). */
static uint8_t *enc_user(uint8_t *o, const uint64_t *cur, const uint64_t *prev)
{
    uint8_t *mask = o;
    memset(mask, 0, UMASK);
    o += UMASK;
    for (size_t i = 0; i < UW; i++) {
        uint64_t x = cur[i] ^ prev[i];
        if (!x)
            continue;
        mask[i / 8] |= (uint8_t)(1u << (i % 8));
        unsigned m = nonzero_bytes(x);
        *o++ = (uint8_t)m;
        if (m == 0xFF) {
            memcpy(o, &x, 8); /* little-endian host */
            o += 8;
            continue;
        }
        for (unsigned mm = m; mm; mm &= mm - 1)
            *o++ = (uint8_t)(x >> (8 * (unsigned)__builtin_ctz(mm)));
    }
    return o;
}

static const uint8_t popcount8[256] = {
#define B2(n) n, n + 1, n + 1, n + 2
#define B4(n) B2(n), B2(n + 1), B2(n + 1), B2(n + 2)
#define B6(n) B4(n), B4(n + 1), B4(n + 1), B4(n + 2)
    B6(0), B6(1), B6(1), B6(2)
#undef B2
#undef B4
#undef B6
};

/* Decode one record from p (at most end) into w, which holds the previous
 * record of the stripe (zeros before the first) and gets this one. NULL if
 * the encoding is bad: truncated, a mask bit past the last word, a word or
 * a byte marked nonzero that is zero (the encoding is canonical). */
static const uint8_t *dec_user(const uint8_t *p, const uint8_t *end, uint64_t *w)
{
    if ((size_t)(end - p) < UMASK)
        return NULL;
    const uint8_t *mask = p;
    p += UMASK;
    if (UW % 8 && (mask[UMASK - 1] >> (UW % 8)))
        return NULL;
    for (size_t base = 0; base < UMASK; base += 8) {
        uint64_t bits = 0;
        size_t nb = UMASK - base < 8 ? UMASK - base : 8;
        if (nb == 8)
            memcpy(&bits, mask + base, 8); /* little-endian host */
        else
            for (size_t b = 0; b < nb; b++)
                bits |= (uint64_t)mask[base + b] << (8 * b);
        while (bits) {
            size_t i = 8 * base + (size_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (p == end)
                return NULL;
            unsigned m = *p++;
            if (m == 0 || (size_t)(end - p) < popcount8[m])
                return NULL;
            unsigned n = popcount8[m];
            uint64_t x = 0;
            if ((size_t)(end - p) >= 8) { /* one load, then place the bytes */
                uint64_t v;
                memcpy(&v, p, 8); /* little-endian host */
                if ((m & (m + 1)) == 0) { /* bytes 0 .. n-1: the usual case */
                    x = n == 8 ? v : v & ((1ULL << (8 * n)) - 1);
                } else {
                    for (unsigned mm = m; mm; mm &= mm - 1, v >>= 8)
                        x |= (v & 0xFF) << (8 * (unsigned)__builtin_ctz(mm));
                }
            } else {
                const uint8_t *q = p;
                for (unsigned mm = m; mm; mm &= mm - 1)
                    x |= (uint64_t)*q++ << (8 * (unsigned)__builtin_ctz(mm));
            }
            p += n;
            if (nonzero_bytes(x) != m)
                return NULL; /* a byte marked nonzero is zero */
            w[i] ^= x;
        }
    }
    return p;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static bool little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* ---- configuration hash ---- */

typedef struct {
    uint8_t key[16];
    uint64_t h;
} hasher;

static void hmix(hasher *hs, const void *data, size_t len)
{
    /* chain SipHash over pieces: h = sip(key, h || data) would copy; mix
     * the piece's hash into the running one instead */
    uint64_t x = pc_siphash24(hs->key, data, len);
    hs->h = (hs->h ^ x) * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
}
static void hstr(hasher *hs, const char *s) { hmix(hs, s, strlen(s) + 1); }
static void hu64(hasher *hs, uint64_t v) { hmix(hs, &v, sizeof v); }
static void hdbl(hasher *hs, double v) { hmix(hs, &v, sizeof v); }

uint64_t pc_config_hash(const pacing_ctx *ctx)
{
    hasher hs = {{0}, 0x5041434E47u};
    memcpy(hs.key, "pacing-config-v1", 16);
    hu64(&hs, ctx->n_stripes);
    hu64(&hs, ctx->capacity);
    hu64(&hs, ctx->stripes[0].n_pend);
    hu64(&hs, ctx->hazard.n_bins);
    hu64(&hs, (uint64_t)ctx->hazard_bin_ms);
    hdbl(&hs, ctx->feature_half_life_ms);
    hdbl(&hs, ctx->baseline_half_life_ms);
    hmix(&hs, ctx->weights, sizeof ctx->weights);
    hstr(&hs, ctx->decay[ctx->expo_decay].name);
    hmix(&hs, ctx->expo_decay_params, sizeof ctx->expo_decay_params);
    hu64(&hs, ctx->n_points);
    for (uint32_t i = 0; i < ctx->n_points; i++) {
        const pc_point *p = ctx->points[i];
        hstr(&hs, p->name);
        hstr(&hs, p->vt->name);
        hu64(&hs, p->k);
        for (uint32_t a = 0; a < p->k; a++)
            hstr(&hs, p->actions[a]);
        hu64(&hs, p->d);
        hu64(&hs, p->flags);
        hu64(&hs, p->quiet);
        hu64(&hs, (uint64_t)(int64_t)p->safe_action);
        hmix(&hs, p->params, sizeof p->params);
        hu64(&hs, (uint64_t)p->state_size);
        hu64(&hs, (uint64_t)p->recovery);
        if (p->recovery) {
            hstr(&hs, ctx->decay[p->rec_decay].name);
            hmix(&hs, p->rec_params, sizeof p->rec_params);
        }
        hu64(&hs, (uint64_t)p->attribution_ms);
        hdbl(&hs, p->default_reward);
        for (uint32_t r = 0; r < p->n_rules; r++) {
            hstr(&hs, ctx->rmods[p->rules[r].mod].name);
            hdbl(&hs, p->rules[r].weight);
        }
    }
    hu64(&hs, ctx->n_rules);
    for (uint32_t r = 0; r < ctx->n_rules; r++) {
        hstr(&hs, ctx->rule_mods[ctx->rules[r].mod].name);
        hu64(&hs, (uint64_t)(int64_t)ctx->rules[r].point);
        hmix(&hs, ctx->rules[r].params, sizeof ctx->rules[r].params);
    }
    return hs.h;
}

/* A fingerprint of the pseudonym secret that does not reveal it. */
static uint64_t secret_check(const pacing_ctx *ctx)
{
    return pc_siphash24(ctx->secret, "pacing-secret-check", 19);
}

/* ---- writing ---- */

#define STAGE (1u << 18) /* payload bytes gathered before deflate */

typedef struct {
    pacing_ctx *ctx;
    pacing_write_fn write;
    void *opaque;
    z_stream z;
    uint8_t out[1 << 16];
    uint8_t stage[STAGE + UMAX + 8]; /* + room for one record and slack */
    size_t staged;
    uint64_t payload_len, compressed_len;
    uint32_t crc, zcrc;
    int failed; /* a status */
} writer;

static int w_flush(writer *w, int flush)
{
    do {
        w->z.next_out = w->out;
        w->z.avail_out = sizeof w->out;
        int zr = deflate(&w->z, flush);
        if (zr == Z_STREAM_ERROR)
            return PACING_E_IO;
        size_t have = sizeof w->out - w->z.avail_out;
        w->zcrc = (uint32_t)crc32(w->zcrc, w->out, (uInt)have);
        if (have && w->write(w->opaque, w->out, have) != 0)
            return PACING_E_IO;
        w->compressed_len += have;
        if (flush == Z_FINISH && zr == Z_STREAM_END)
            return PACING_OK;
    } while (w->z.avail_out == 0 || flush == Z_FINISH);
    return PACING_OK;
}

/* Payload bytes to the checksum and deflate. */
static void w_deflate(writer *w, const uint8_t *p, size_t len)
{
    while (len > 0 && !w->failed) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        w->crc = (uint32_t)crc32(w->crc, p, chunk);
        w->payload_len += chunk;
        w->z.next_in = (Bytef *)(uintptr_t)p;
        w->z.avail_in = chunk;
        if (w_flush(w, Z_NO_FLUSH) != PACING_OK)
            w->failed = PACING_E_IO;
        p += chunk;
        len -= chunk;
    }
}

static void w_stage_flush(writer *w)
{
    w_deflate(w, w->stage, w->staged);
    w->staged = 0;
}

static void w_put(writer *w, const void *data, size_t len)
{
    if (w->failed || len == 0)
        return;
    if (w->staged + len > STAGE)
        w_stage_flush(w);
    if (len >= STAGE) {
        w_deflate(w, data, len);
        return;
    }
    memcpy(w->stage + w->staged, data, len);
    w->staged += len;
}

static inline void prefetch_user(const pc_user *u)
{
#if defined(__GNUC__)
    for (size_t off = 0; off < sizeof *u; off += PC_CACHE_LINE)
        __builtin_prefetch((const char *)u + off);
#else
    (void)u;
#endif
}

/* A user record, compactly (prev: the stripe's previous record). */
static void w_user(writer *w, user_words *prev, const pc_user *u)
{
    if (w->failed)
        return;
    if (w->staged + UMAX > STAGE)
        w_stage_flush(w);
    user_words cur;
    user_canon(&cur, u);
    uint8_t *end = enc_user(w->stage + w->staged, cur.w, prev->w);
    w->staged = (size_t)(end - w->stage);
    *prev = cur;
}

static void w_u32(writer *w, uint32_t v)
{
    uint8_t b[4];
    put32(b, v);
    w_put(w, b, 4);
}
static void w_u64(writer *w, uint64_t v)
{
    uint8_t b[8];
    put64(b, v);
    w_put(w, b, 8);
}

static void make_header(const pacing_ctx *ctx, uint8_t h[HEADER_SIZE])
{
    memset(h, 0, HEADER_SIZE);
    memcpy(h, SNAP_MAGIC, 8);
    put32(h + 8, SNAP_VERSION);
    put32(h + 12, 0); /* flags */
    put32(h + 16, (uint32_t)sizeof(pc_user));
    put32(h + 20, (uint32_t)sizeof(pc_pending));
    put64(h + 24, pc_config_hash(ctx));
    put64(h + 32, secret_check(ctx));
    put32(h + 40, ctx->n_stripes);
    put32(h + 44, ctx->n_points);
    /* 48..59 reserved, zero */
    put32(h + 60, (uint32_t)crc32(0, h, 60));
}

/* Payload:
 *   per stripe: u32 n_users, users[n] (compact pc_user records),
 *               u32 n_pending, per pending: u32 slot, pc_pending record,
 *               u32 seq, stats (pc_stripe_stats)
 *   per point:  rng (32 bytes), decisions[k], rewards[k], last_update[k],
 *               policy state (state_size bytes)
 *   hazard:     u32 n_bins, at_risk[n], events[n], beta[4], x_mean[4],
 *               n_updates
 *   counters:   u64 events rejected */
static int write_payload(writer *w)
{
    pacing_ctx *ctx = w->ctx;
    for (uint32_t i = 0; i < ctx->n_stripes && !w->failed; i++) {
        pc_stripe *s = &ctx->stripes[i];
        pc_lock(ctx, s);
        w_u32(w, s->used);
        user_words prev;
        memset(&prev, 0, sizeof prev);
        for (uint32_t k = s->lru_tail; k != NONE32 && !w->failed; k = s->slots[k].lru_prev) {
            /* the records are scattered over the slots: fetch the next
             * one while this one is encoded */
            if (s->slots[k].lru_prev != NONE32)
                prefetch_user(&s->slots[s->slots[k].lru_prev]);
            w_user(w, &prev, &s->slots[k]); /* oldest first */
        }
        w_u32(w, s->pend_used);
        for (uint32_t k = 0; k < s->n_pend; k++)
            if (s->pend[k].id != 0) {
                w_u32(w, k);
                w_put(w, &s->pend[k], sizeof(pc_pending));
            }
        w_u32(w, s->seq);
        w_u32(w, s->pend_head);
        w_u32(w, s->pend_tail);
        w_put(w, &s->st, sizeof s->st);
        pc_unlock(ctx, s);
    }
    for (uint32_t i = 0; i < ctx->n_points && !w->failed; i++) {
        pc_point *p = ctx->points[i];
        pc_point_lock(ctx, p, true); /* decisions[] = selects made */
        w_put(w, &p->rng, sizeof p->rng);
        w_put(w, p->decisions, sizeof(uint64_t) * p->k);
        w_put(w, p->rewards, sizeof(uint64_t) * p->k);
        w_put(w, p->last_update, sizeof(int64_t) * p->k);
        w_u64(w, p->n_learned);
        w_put(w, p->state, p->state_size);
        pc_point_unlock(ctx, p);
    }
    pc_hazard *h = &ctx->hazard;
    if (!(ctx->flags & PACING_OPT_SINGLE_THREAD))
        pthread_rwlock_rdlock(&h->lock);
    w_u32(w, h->n_bins);
    w_put(w, h->at_risk, sizeof(double) * h->n_bins);
    w_put(w, h->events, sizeof(double) * h->n_bins);
    w_put(w, h->beta, sizeof h->beta);
    w_put(w, h->x_mean, sizeof h->x_mean);
    w_put(w, &h->n_updates, sizeof h->n_updates);
    if (!(ctx->flags & PACING_OPT_SINGLE_THREAD))
        pthread_rwlock_unlock(&h->lock);
    w_u64(w, atomic_load_explicit(&ctx->rejected, memory_order_relaxed));
    w_stage_flush(w);
    return w->failed;
}

PACING_API int pacing_snapshot_write(pacing_ctx *ctx, pacing_write_fn write,
                                     void *opaque)
{
    if (!ctx || !write)
        return pc_fail(ctx, PACING_E_NULL, "snapshot_write: NULL argument");
    if (!little_endian())
        return pc_fail(ctx, PACING_E_IO, "snapshot_write: big-endian hosts are "
                       "not supported by format version 2");
    writer *w = pc_alloc(ctx, sizeof *w);
    if (!w)
        return pc_fail(ctx, PACING_E_NOMEM, "snapshot_write: out of memory");
    w->ctx = ctx;
    w->write = write;
    w->opaque = opaque;
    w->crc = w->zcrc = (uint32_t)crc32(0, NULL, 0);
    if (deflateInit2(&w->z, SNAP_LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        pc_free(ctx, w, sizeof *w);
        return pc_fail(ctx, PACING_E_NOMEM, "snapshot_write: deflateInit failed");
    }
    uint8_t head[HEADER_SIZE];
    make_header(ctx, head);
    int rc = write(opaque, head, sizeof head) == 0 ? PACING_OK : PACING_E_IO;
    if (rc == PACING_OK)
        rc = write_payload(w);
    if (rc == PACING_OK)
        rc = w_flush(w, Z_FINISH);
    if (rc == PACING_OK) {
        uint8_t t[TRAILER_SIZE];
        put64(t, w->payload_len);
        put64(t + 8, w->compressed_len);
        put32(t + 16, w->crc);
        put32(t + 20, w->zcrc);
        put32(t + 24, 0);
        put32(t + 28, (uint32_t)crc32(0, t, 28));
        if (write(opaque, t, sizeof t) != 0)
            rc = PACING_E_IO;
    }
    deflateEnd(&w->z);
    pc_free(ctx, w, sizeof *w);
    if (rc != PACING_OK)
        return pc_fail(ctx, rc, "snapshot_write: the write callback failed");
    return PACING_OK;
}

static int fd_write(void *opaque, const void *buf, size_t len)
{
    int fd = *(int *)opaque;
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

PACING_API int pacing_snapshot_save(pacing_ctx *ctx, const char *path)
{
    if (!ctx || !path)
        return pc_fail(ctx, PACING_E_NULL, "snapshot_save: NULL argument");
    size_t plen = strlen(path);
    if (plen == 0 || plen > PATH_MAX - 16)
        return pc_fail(ctx, PACING_E_IO, "snapshot_save: bad path length");
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return pc_fail(ctx, PACING_E_IO, "snapshot_save: cannot create %s: %s", tmp,
                       strerror(errno));
    int rc = pacing_snapshot_write(ctx, fd_write, &fd);
    if (rc == PACING_OK && fsync(fd) != 0)
        rc = pc_fail(ctx, PACING_E_IO, "snapshot_save: fsync %s: %s", tmp,
                     strerror(errno));
    if (close(fd) != 0 && rc == PACING_OK)
        rc = pc_fail(ctx, PACING_E_IO, "snapshot_save: close %s: %s", tmp,
                     strerror(errno));
    if (rc == PACING_OK && rename(tmp, path) != 0)
        rc = pc_fail(ctx, PACING_E_IO, "snapshot_save: rename to %s: %s", path,
                     strerror(errno));
    if (rc != PACING_OK) {
        unlink(tmp);
        return rc;
    }
    /* make the rename itself durable */
    char dir[PATH_MAX];
    memcpy(dir, path, plen + 1);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        int r = fsync(dfd);
        close(dfd);
        if (r != 0)
            return pc_fail(ctx, PACING_E_IO, "snapshot_save: fsync directory %s: %s",
                           dir, strerror(errno));
    }
    return PACING_OK;
}

/* ---- reading ---- */

typedef struct {
    const uint8_t *p;
    size_t left;
} cursor;

static bool take(cursor *c, void *out, size_t n)
{
    if (c->left < n)
        return false;
    memcpy(out, c->p, n);
    c->p += n;
    c->left -= n;
    return true;
}
static bool take32(cursor *c, uint32_t *v)
{
    uint8_t b[4];
    if (!take(c, b, 4))
        return false;
    *v = get32(b);
    return true;
}

static bool finite_all(const double *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(d[i]))
            return false;
    return true;
}

static bool finite_allf(const float *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(d[i]))
            return false;
    return true;
}

/* A user record: every index in range, every number usable. Links and
 * chains are rebuilt on commit, so their values do not matter. */
static bool user_ok(const pacing_ctx *ctx, const pc_user *u)
{
    const pc_features *f = &u->feat;
    if (u->pseudo == 0 || f->n_expo > EXPO_RING || u->click_n >= PACING_RAGE_MAX)
        return false;
    if (u->flags & ~(uint32_t)USER_IN_SESSION || !pc_hazard_user_ok(ctx, u))
        return false;
#define TIME_OK(t) ((t) >= 0 && (t) <= PACING_MAX_TIME_MS)
#define TIME_OR_NONE(t) ((t) == -1 || TIME_OK(t))
    if (!TIME_OK(u->last_ev_ms) ||
        !TIME_OR_NONE(u->last_error_ms) || !TIME_OR_NONE(u->form_started_ms) ||
        !TIME_OR_NONE(u->last_form_end_ms))
        return false;
    for (uint32_t i = 0; i < u->click_n; i++)
        if (!TIME_OK(u->click_t[i]) || (i > 0 && u->click_t[i] < u->click_t[i - 1]))
            return false;
    for (int i = 0; i < RECENT_ARMS; i++)
        if (u->recent_point[i] && !TIME_OK(u->recent_t[i]))
            return false;
#undef TIME_OK
#undef TIME_OR_NONE
    if (u->last_seen_ms < 0 || u->last_seen_ms > PACING_MAX_TIME_MS ||
        f->t_ref < 0 || f->t_ref > PACING_MAX_TIME_MS)
        return false;
    if (!finite_allf(f->rate, N_SIG) || !finite_allf(f->mean_sum, N_MEAN) ||
        !finite_allf(f->mean_w, N_MEAN) || !finite_allf(f->base_sum, N_BASE) ||
        !finite_allf(f->base_w, N_BASE))
        return false;
    for (int i = 0; i < f->n_expo; i++)
        if (f->expo[i] < 0 || f->expo[i] > PACING_MAX_TIME_MS ||
            (i > 0 && f->expo[i] < f->expo[i - 1]) ||
            f->expo_point[i] > ctx->n_points)
            return false;
    for (int i = 0; i < RECENT_ARMS; i++) {
        uint32_t rp = u->recent_point[i];
        if (rp > ctx->n_points ||
            (rp && u->recent_action[i] >= ctx->points[rp - 1]->k))
            return false;
    }
    return true;
}

static bool pending_ok(const pacing_ctx *ctx, const pc_stripe *s, uint32_t si,
                       uint32_t slot, const pc_pending *e)
{
    if (e->id == 0 || slot >= s->n_pend || e->point >= ctx->n_points)
        return false;
    if ((e->id >> 54) != si || ((e->id >> 32) & ((1u << 22) - 1)) != slot ||
        (uint32_t)e->id == 0)
        return false;
    const pc_point *p = ctx->points[e->point];
    if (e->t_ms < 0 || e->t_ms > PACING_MAX_TIME_MS ||
        e->deadline_ms != e->t_ms + p->attribution_ms)
        return false;
    if (e->action >= p->k || !isfinite(e->acc) ||
        !(e->propensity > 0.0 && e->propensity <= 1.0))
        return false;
    if (p->vt->contextual && !finite_all(e->x, p->d))
        return false;
    return true;
}

/* Where each stripe's records start in the payload, found by the check. */
typedef struct {
    const uint8_t *users; /* the compact records */
    uint32_t n_users;
    const uint8_t *pend;
    uint32_t n_pend;
    uint32_t seq, pend_head, pend_tail;
    pc_stripe_stats st;
} staged_stripe;

typedef struct {
    staged_stripe *stripes;
    const uint8_t *points;  /* point records */
    const uint8_t *hazard;  /* hazard arrays */
    const uint8_t *end;     /* the payload's end */
    uint64_t rejected;
} staged;

static int corrupt(const pacing_ctx *ctx, const char *what)
{
    return pc_fail(ctx, PACING_E_CORRUPT, "snapshot: %s", what);
}

/* pc_alloc without the zeroing, through the same allocator hooks and byte
 * count (pc_free frees it): for buffers that are filled before use. */
/* Whether a[0..n) holds a value twice; sorts a, using tmp (n values).
 * LSD radix sort, 8 passes of 8 bits: O(n) whatever the data (a crafted
 * snapshot cannot make it slow), no branch on the keys. */
static bool has_duplicate(uint64_t *a, uint64_t *tmp, size_t n)
{
    if (n < 2)
        return false;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((a[i] >> shift) & 0xFF) + 1]++;
        if (count[((a[0] >> shift) & 0xFF) + 1] == n)
            continue; /* all keys share this byte */
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            tmp[count[(a[i] >> shift) & 0xFF]++] = a[i];
        memcpy(a, tmp, sizeof *a * n);
    }
    for (size_t i = 1; i < n; i++)
        if (a[i] == a[i - 1])
            return true;
    return false;
}

/* Check the whole payload against the context; fill *sg. */
static int check_payload(pacing_ctx *ctx, cursor c, staged *sg)
{
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        pc_stripe *s = &ctx->stripes[i];
        staged_stripe *ss = &sg->stripes[i];
        if (!take32(&c, &ss->n_users) || ss->n_users > s->n_slots ||
            c.left / UMASK < ss->n_users)
            return corrupt(ctx, "bad user count");
        ss->users = c.p;
        /* Duplicates: the pseudonyms are collected and sorted. The error
         * reported is the one of the first bad record in order, as if each
         * record were compared with the ones before it: at a bad record,
         * the records before it are searched for a duplicate first. */
        size_t kbytes = 2 * sizeof(uint64_t) * ss->n_users; /* keys, scratch */
        uint64_t *keys = NULL;
        if (ss->n_users > 1 && !(keys = pc_alloc_raw(ctx, kbytes)))
            return pc_fail(ctx, PACING_E_NOMEM, "snapshot: out of memory");
        user_words u;
        memset(&u, 0, sizeof u);
        const uint8_t *end = c.p + c.left;
        for (uint32_t k = 0; k < ss->n_users; k++) {
            const uint8_t *next = dec_user(c.p, end, u.w);
            const char *bad = !next                  ? "bad user record encoding"
                              : !user_ok(ctx, &u.u) ? "bad user record"
                              : pc_stripe_of(ctx, u.u.pseudo) != s
                                  ? "user in the wrong stripe"
                                  : NULL;
            if (bad) {
                bool dup = keys && has_duplicate(keys, keys + ss->n_users, k);
                pc_free(ctx, keys, kbytes);
                return corrupt(ctx, dup ? "duplicate user" : bad);
            }
            c.left -= (size_t)(next - c.p);
            c.p = next;
            if (keys)
                keys[k] = u.u.pseudo;
        }
        bool dup = keys && has_duplicate(keys, keys + ss->n_users, ss->n_users);
        pc_free(ctx, keys, kbytes);
        if (dup)
            return corrupt(ctx, "duplicate user");
        if (!take32(&c, &ss->n_pend) || ss->n_pend > s->n_pend ||
            c.left / (4 + sizeof(pc_pending)) < ss->n_pend)
            return corrupt(ctx, "bad pending count");
        ss->pend = c.p;
        uint32_t prev_slot = 0;
        for (uint32_t k = 0; k < ss->n_pend; k++) {
            uint32_t slot;
            pc_pending e;
            take32(&c, &slot);
            take(&c, &e, sizeof e);
            if ((k > 0 && slot <= prev_slot) || !pending_ok(ctx, s, i, slot, &e))
                return corrupt(ctx, "bad pending decision");
            prev_slot = slot;
        }
        if (!take32(&c, &ss->seq) || !take32(&c, &ss->pend_head) ||
            !take32(&c, &ss->pend_tail) || !take(&c, &ss->st, sizeof ss->st))
            return corrupt(ctx, "truncated stripe");
        if (ss->pend_head >= s->n_pend || ss->pend_tail >= s->n_pend)
            return corrupt(ctx, "bad pending ring position");
        const pc_stripe_stats *st = &ss->st;
        if (st->created != (uint64_t)ss->n_users + st->evicted + st->expired +
                               st->forgotten)
            return corrupt(ctx, "stripe counters do not add up");
    }
    sg->points = c.p;
    for (uint32_t i = 0; i < ctx->n_points; i++) {
        const pc_point *p = ctx->points[i];
        size_t need = sizeof(pc_rng) + (3 * (size_t)p->k + 1) * sizeof(uint64_t) +
                      p->state_size;
        if (c.left < need)
            return corrupt(ctx, "truncated point");
        const uint8_t *st = c.p + sizeof(pc_rng) + (3 * (size_t)p->k + 1) * sizeof(uint64_t);
        pc_rng rng;
        memcpy(&rng, c.p, sizeof rng);
        if ((rng.s[0] | rng.s[1] | rng.s[2] | rng.s[3]) == 0)
            return corrupt(ctx, "bad generator state");
        /* the policy checks its own state, aligned in a scratch copy */
        void *copy = pc_alloc(ctx, p->state_size);
        if (!copy)
            return pc_fail(ctx, PACING_E_NOMEM, "snapshot: out of memory");
        memcpy(copy, st, p->state_size);
        int bad = p->vt->check_state ? p->vt->check_state(copy, p->k, p->d, p->params)
                                     : 1;
        pc_free(ctx, copy, p->state_size);
        if (bad)
            return corrupt(ctx, "bad policy state");
        c.p += need;
        c.left -= need;
    }
    sg->hazard = c.p;
    uint32_t nb;
    pc_hazard *h = &ctx->hazard;
    if (!take32(&c, &nb) || nb != h->n_bins)
        return corrupt(ctx, "bad hazard model");
    size_t hn = sizeof(double) * (2 * (size_t)nb + 9);
    if (c.left < hn)
        return corrupt(ctx, "truncated hazard model");
    double *tmp = pc_alloc(ctx, hn);
    if (!tmp)
        return pc_fail(ctx, PACING_E_NOMEM, "snapshot: out of memory");
    take(&c, tmp, hn);
    bool ok = finite_all(tmp, hn / sizeof(double));
    for (size_t k = 0; ok && k < 2 * (size_t)nb; k++)
        ok = tmp[k] >= 0.0;
    for (size_t k = 0; ok && k < nb; k++)
        ok = tmp[nb + k] <= tmp[k]; /* events <= at risk */
    pc_free(ctx, tmp, hn);
    if (!ok)
        return corrupt(ctx, "bad hazard model");
    uint8_t b[8];
    if (!take(&c, b, 8))
        return corrupt(ctx, "truncated counters");
    sg->rejected = get64(b);
    if (c.left != 0)
        return corrupt(ctx, "trailing bytes in the payload");
    return PACING_OK;
}

/* Replace the state; cannot fail. Caller made sure nobody else runs. */
static void commit(pacing_ctx *ctx, const staged *sg)
{
    for (uint32_t i = 0; i < ctx->n_stripes; i++) {
        pc_stripe *s = &ctx->stripes[i];
        const staged_stripe *ss = &sg->stripes[i];
        pc_users_clear(ctx, s, ss->n_users);
        memset(s->pend, 0, sizeof(pc_pending) * s->n_pend);
        s->pend_used = 0;
        s->pend_head = s->pend_tail = 0;
        /* users, oldest first, so the LRU order comes back */
        user_words rec;
        memset(&rec, 0, sizeof rec);
        const uint8_t *up = ss->users;
        for (uint32_t k = 0; k < ss->n_users; k++) {
            up = dec_user(up, sg->end, rec.w); /* checked: cannot fail */
            pc_user_insert(s, &rec.u); /* checked: no duplicates, fits */
        }
        const uint8_t *q = ss->pend;
        for (uint32_t k = 0; k < ss->n_pend; k++) {
            uint32_t slot = get32(q);
            pc_pending *e = &s->pend[slot];
            memcpy(e, q + 4, sizeof *e);
            q += 4 + sizeof *e;
            e->next = NONE32;
            e->chained = 0;
            pc_user *u = e->pseudo ? pc_user_find(s, e->pseudo) : NULL;
            if (u) {
                e->next = u->pending_head;
                e->chained = 1;
                u->pending_head = slot;
            }
            s->pend_used++;
        }
        s->seq = ss->seq;
        s->pend_head = ss->pend_head;
        s->pend_tail = ss->pend_tail;
        s->st = ss->st; /* counters as saved */
    }
    const uint8_t *q = sg->points;
    for (uint32_t i = 0; i < ctx->n_points; i++) {
        pc_point *p = ctx->points[i];
        memcpy(&p->rng, q, sizeof p->rng);
        q += sizeof p->rng;
        memcpy(p->decisions, q, sizeof(uint64_t) * p->k);
        q += sizeof(uint64_t) * p->k;
        memcpy(p->rewards, q, sizeof(uint64_t) * p->k);
        q += sizeof(uint64_t) * p->k;
        memcpy(p->last_update, q, sizeof(int64_t) * p->k);
        q += sizeof(int64_t) * p->k;
        p->n_learned = get64(q);
        q += 8;
        memcpy(p->state, q, p->state_size);
        q += p->state_size;
        pc_point_loaded(p);
    }
    pc_hazard *h = &ctx->hazard;
    q = sg->hazard + 4;
    memcpy(h->at_risk, q, sizeof(double) * h->n_bins);
    q += sizeof(double) * h->n_bins;
    memcpy(h->events, q, sizeof(double) * h->n_bins);
    q += sizeof(double) * h->n_bins;
    memcpy(h->beta, q, sizeof h->beta);
    q += sizeof h->beta;
    memcpy(h->x_mean, q, sizeof h->x_mean);
    q += sizeof h->x_mean;
    memcpy(&h->n_updates, q, sizeof h->n_updates);
    pc_hazard_loaded(h);
    atomic_store_explicit(&ctx->rejected, sg->rejected, memory_order_relaxed);
}

/* Check and apply a whole snapshot held in memory. */
static int load_bytes(pacing_ctx *ctx, const uint8_t *buf, size_t len)
{
    if (len < HEADER_SIZE + TRAILER_SIZE)
        return corrupt(ctx, "too short");
    if (memcmp(buf, SNAP_MAGIC, 8) != 0)
        return corrupt(ctx, "not a libpacing snapshot (bad magic)");
    if (get32(buf + 60) != (uint32_t)crc32(0, buf, 60))
        return corrupt(ctx, "header checksum mismatch");
    if (get32(buf + 8) != SNAP_VERSION)
        return pc_fail(ctx, PACING_E_VERSION,
                       "snapshot: format version %u, this library reads only "
                       "version %u (no conversion: start from an empty state, "
                       "or load it with the library that wrote it)",
                       get32(buf + 8), SNAP_VERSION);
    for (int i = 48; i < 60; i++)
        if (buf[i] != 0)
            return corrupt(ctx, "reserved header bytes are not zero");
    if (get32(buf + 12) != 0 || get32(buf + 16) != sizeof(pc_user) ||
        get32(buf + 20) != sizeof(pc_pending))
        return pc_fail(ctx, PACING_E_VERSION,
                       "snapshot: flags or record sizes of another build");
    if (get64(buf + 32) != secret_check(ctx))
        return pc_fail(ctx, PACING_E_CONFIG,
                       "snapshot: made with another pseudonym secret");
    if (get64(buf + 24) != pc_config_hash(ctx) || get32(buf + 40) != ctx->n_stripes ||
        get32(buf + 44) != ctx->n_points)
        return pc_fail(ctx, PACING_E_CONFIG,
                       "snapshot: made with another configuration");
    const uint8_t *t = buf + len - TRAILER_SIZE;
    if (get32(t + 28) != (uint32_t)crc32(0, t, 28) || get32(t + 24) != 0)
        return corrupt(ctx, "trailer checksum mismatch (truncated?)");
    uint64_t plen = get64(t), clen = get64(t + 8);
    if (clen != len - HEADER_SIZE - TRAILER_SIZE || plen > MAX_SNAPSHOT ||
        plen > SIZE_MAX / 2 || plen > clen * MAX_ZLIB_RATIO + 1024)
        return corrupt(ctx, "bad lengths");
    /* the compressed bytes themselves: a flipped bit that inflate would
     * not notice is caught here */
    uint32_t zcrc = (uint32_t)crc32(0, NULL, 0);
    for (uint64_t off = 0; off < clen;) {
        uInt n = clen - off > (1u << 30) ? (1u << 30) : (uInt)(clen - off);
        zcrc = (uint32_t)crc32(zcrc, buf + HEADER_SIZE + off, n);
        off += n;
    }
    if (zcrc != get32(t + 20))
        return corrupt(ctx, "compressed body checksum mismatch");
    uint8_t *payload = pc_alloc_raw(ctx, plen ? plen : 1); /* inflate fills it */
    if (!payload)
        return pc_fail(ctx, PACING_E_NOMEM, "snapshot: out of memory (%llu bytes)",
                       (unsigned long long)plen);
    z_stream z;
    memset(&z, 0, sizeof z);
    int rc = PACING_OK;
    if (inflateInit2(&z, -15) != Z_OK) {
        pc_free(ctx, payload, plen ? plen : 1);
        return pc_fail(ctx, PACING_E_NOMEM, "snapshot: inflateInit failed");
    }
    const uint8_t *in = buf + HEADER_SIZE;
    uint64_t in_left = clen, out_done = 0;
    int zr = Z_OK;
    while (zr == Z_OK) {
        uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
        uint64_t out_room = plen - out_done;
        uInt co = out_room > (1u << 30) ? (1u << 30) : (uInt)out_room;
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = ci;
        z.next_out = payload + out_done;
        z.avail_out = co;
        zr = inflate(&z, Z_NO_FLUSH);
        in += ci - z.avail_in;
        in_left -= ci - z.avail_in;
        out_done += co - z.avail_out;
        if (zr == Z_OK && ci == z.avail_in && co == z.avail_out)
            zr = Z_BUF_ERROR; /* no progress */
    }
    inflateEnd(&z);
    if (zr != Z_STREAM_END || out_done != plen || in_left != 0)
        rc = corrupt(ctx, "the compressed body is damaged");
    if (rc == PACING_OK) {
        uint32_t crc = (uint32_t)crc32(0, NULL, 0);
        for (uint64_t off = 0; off < plen;) {
            uInt n = plen - off > (1u << 30) ? (1u << 30) : (uInt)(plen - off);
            crc = (uint32_t)crc32(crc, payload + off, n);
            off += n;
        }
        if (crc != get32(t + 16))
            rc = corrupt(ctx, "payload checksum mismatch");
    }
    if (rc == PACING_OK) {
        staged sg;
        memset(&sg, 0, sizeof sg);
        size_t ssz = sizeof(staged_stripe) * ctx->n_stripes;
        sg.stripes = pc_alloc(ctx, ssz);
        if (!sg.stripes) {
            rc = pc_fail(ctx, PACING_E_NOMEM, "snapshot: out of memory");
        } else {
            cursor c = {payload, (size_t)plen};
            sg.end = payload + plen;
            rc = check_payload(ctx, c, &sg);
            if (rc == PACING_OK)
                commit(ctx, &sg);
            pc_free(ctx, sg.stripes, ssz);
        }
    }
    pc_free(ctx, payload, plen ? plen : 1);
    return rc;
}

/* Read everything from a callback into a buffer of `hint` + 1 bytes that
 * grows (doubling) if the input is longer; then check and apply it. */
static int read_all(pacing_ctx *ctx, pacing_read_fn read, void *opaque, size_t hint)
{
    size_t cap = hint + 1, len = 0;
    uint8_t *buf = pc_alloc_raw(ctx, cap);
    if (!buf)
        return pc_fail(ctx, PACING_E_NOMEM, "snapshot_read: out of memory");
    for (;;) {
        if (len == cap) {
            if (cap > MAX_SNAPSHOT / 2) {
                pc_free(ctx, buf, cap);
                return corrupt(ctx, "larger than any snapshot");
            }
            uint8_t *nb = pc_alloc_raw(ctx, cap * 2);
            if (!nb) {
                pc_free(ctx, buf, cap);
                return pc_fail(ctx, PACING_E_NOMEM, "snapshot_read: out of memory");
            }
            memcpy(nb, buf, len);
            pc_free(ctx, buf, cap);
            buf = nb;
            cap *= 2;
        }
        long n = read(opaque, buf + len, cap - len);
        if (n < 0) {
            pc_free(ctx, buf, cap);
            return pc_fail(ctx, PACING_E_IO, "snapshot_read: the read callback failed");
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    int rc = load_bytes(ctx, buf, len);
    pc_free(ctx, buf, cap);
    return rc;
}

PACING_API int pacing_snapshot_read(pacing_ctx *ctx, pacing_read_fn read,
                                    void *opaque)
{
    if (!ctx || !read)
        return pc_fail(ctx, PACING_E_NULL, "snapshot_read: NULL argument");
    return read_all(ctx, read, opaque, (1u << 16) - 1);
}

static long fd_read(void *opaque, void *buf, size_t len)
{
    int fd = *(int *)opaque;
    for (;;) {
        ssize_t n = read(fd, buf, len > (1u << 30) ? (1u << 30) : len);
        if (n < 0 && errno == EINTR)
            continue;
        return (long)n;
    }
}

PACING_API int pacing_snapshot_load(pacing_ctx *ctx, const char *path)
{
    if (!ctx || !path)
        return pc_fail(ctx, PACING_E_NULL, "snapshot_load: NULL argument");
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return pc_fail(ctx, PACING_E_IO, "snapshot_load: cannot open %s: %s", path,
                       strerror(errno));
    /* a regular file's size is known: one buffer of that size (+1 to see
     * the end), growing only if the file grows meanwhile */
    struct stat st;
    size_t hint = (1u << 16) - 1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size <= MAX_SNAPSHOT)
        hint = (size_t)st.st_size;
    int rc = read_all(ctx, fd_read, &fd, hint);
    close(fd);
    return rc;
}
