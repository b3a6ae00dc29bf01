/* Snapshot format 2 for the tests, written from docs/snapshot-format.md
 * (independently of lib/snapshot.c):
 *
 *   - the body is a raw deflate stream (RFC 1951): raw_inflate/raw_deflate;
 *   - user records are compact: snap_expand turns a payload into the same
 *     payload with every user as its whole pc_user record (with the LRU
 *     links and pending chain head zero), the layout the tests edit at
 *     offsetof(pc_user, ...); snap_compact turns it back. Where the
 *     expanded form cannot be parsed (a damaged count), the rest is copied
 *     as it is, so damaged layouts can still be built.
 *
 * Needs internal.h (pc_user, pc_pending, pc_stripe_stats) and zlib.h. */
#ifndef SNAP_CODEC_H
#define SNAP_CODEC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SC_UW (sizeof(pc_user) / 8)
#define SC_UMASK ((SC_UW + 7) / 8)

/* Inflate a raw deflate stream; Z_OK if it ends exactly at the end of src
 * and fits in *dl bytes (*dl gets the length). */
static inline int raw_inflate(uint8_t *dst, uLongf *dl, const uint8_t *src, uLong sl)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return Z_MEM_ERROR;
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)sl;
    z.next_out = dst;
    z.avail_out = (uInt)*dl;
    int zr = inflate(&z, Z_FINISH);
    *dl = z.total_out;
    uInt left = z.avail_in;
    inflateEnd(&z);
    if (zr != Z_STREAM_END)
        return zr == Z_OK || zr == Z_BUF_ERROR ? Z_BUF_ERROR : zr;
    return left == 0 ? Z_OK : Z_DATA_ERROR;
}

static inline uLong raw_bound(uLong n) { return compressBound(n) + 16; }

/* Deflate src as one raw stream into dst (room for raw_bound(sl)). */
static inline int raw_deflate(uint8_t *dst, uLongf *dl, const uint8_t *src, uLong sl,
                              int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return Z_MEM_ERROR;
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)sl;
    z.next_out = dst;
    z.avail_out = (uInt)*dl;
    int zr = deflate(&z, Z_FINISH);
    *dl = z.total_out;
    deflateEnd(&z);
    return zr == Z_STREAM_END ? Z_OK : Z_BUF_ERROR;
}

typedef struct {
    uint8_t *p;
    size_t len, cap;
} sc_buf;

static inline void sc_put(sc_buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

static inline uint32_t sc_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* One compact record at p (at most end): into w (the previous record,
 * which becomes this one); the bytes used, 0 if malformed. */
static inline size_t sc_dec(const uint8_t *p, const uint8_t *end, uint64_t *w)
{
    const uint8_t *q = p;
    if ((size_t)(end - q) < SC_UMASK)
        return 0;
    const uint8_t *mask = q;
    q += SC_UMASK;
    for (size_t i = 0; i < SC_UW; i++) {
        if (!(mask[i / 8] >> (i % 8) & 1))
            continue;
        if (q == end)
            return 0;
        unsigned m = *q++;
        uint64_t x = 0;
        for (unsigned j = 0; j < 8; j++)
            if (m >> j & 1) {
                if (q == end)
                    return 0;
                x |= (uint64_t)*q++ << (8 * j);
            }
        w[i] ^= x;
    }
    return (size_t)(q - p);
}

static inline void sc_enc(sc_buf *b, const uint64_t *cur, const uint64_t *prev)
{
    uint8_t mask[SC_UMASK];
    memset(mask, 0, sizeof mask);
    for (size_t i = 0; i < SC_UW; i++)
        if (cur[i] != prev[i])
            mask[i / 8] |= (uint8_t)(1u << (i % 8));
    sc_put(b, mask, sizeof mask);
    for (size_t i = 0; i < SC_UW; i++) {
        uint64_t x = cur[i] ^ prev[i];
        if (!x)
            continue;
        uint8_t m = 0, bytes[8];
        unsigned n = 0;
        for (unsigned j = 0; j < 8; j++)
            if ((x >> (8 * j)) & 0xFF) {
                m |= (uint8_t)(1u << j);
                bytes[n++] = (uint8_t)(x >> (8 * j));
            }
        sc_put(b, &m, 1);
        sc_put(b, bytes, n);
    }
}

/* dir 1: compact -> expanded; dir 0: expanded -> compact. malloc'd. */
static inline uint8_t *sc_convert(uint32_t n_stripes, const uint8_t *p, size_t plen,
                                  size_t *out_len, int expand)
{
    sc_buf b = {0};
    size_t o = 0;
    const size_t tail = 4 + 4 + 4 + sizeof(pc_stripe_stats); /* seq, ring, counters */
    for (uint32_t i = 0; i < n_stripes; i++) {
        if (plen - o < 4)
            goto rest;
        uint32_t n = sc_rd32(p + o);
        if (!expand && (plen - o - 4) / sizeof(pc_user) < n)
            goto rest;
        size_t b0 = b.len, o0 = o;
        sc_put(&b, p + o, 4);
        o += 4;
        uint64_t prev[SC_UW], cur[SC_UW];
        memset(prev, 0, sizeof prev);
        for (uint32_t k = 0; k < n; k++) {
            if (expand) {
                memcpy(cur, prev, sizeof cur);
                size_t used = sc_dec(p + o, p + plen, cur);
                if (!used) {
                    b.len = b0;
                    o = o0;
                    goto rest;
                }
                sc_put(&b, cur, sizeof cur);
                o += used;
            } else {
                memcpy(cur, p + o, sizeof cur);
                sc_enc(&b, cur, prev);
                o += sizeof cur;
            }
            memcpy(prev, cur, sizeof prev);
        }
        if (plen - o < 4)
            goto rest;
        uint32_t np = sc_rd32(p + o);
        size_t pend = 4 + (size_t)np * (4 + sizeof(pc_pending)) + tail;
        if (np > (1u << 22) || plen - o < pend)
            goto rest;
        sc_put(&b, p + o, pend);
        o += pend;
    }
rest:
    sc_put(&b, p + o, plen - o);
    *out_len = b.len;
    if (!b.p)
        b.p = malloc(1);
    return b.p;
}

static inline uint8_t *snap_expand(uint32_t n_stripes, const uint8_t *p, size_t plen,
                                   size_t *out_len)
{
    return sc_convert(n_stripes, p, plen, out_len, 1);
}

static inline uint8_t *snap_compact(uint32_t n_stripes, const uint8_t *p, size_t plen,
                                    size_t *out_len)
{
    return sc_convert(n_stripes, p, plen, out_len, 0);
}

#endif
