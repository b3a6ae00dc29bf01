/* Writes the seed corpus of fuzz_snapshot into the directory given:
 * snapshots of the fixture context (fuzz/snapshot_fixture.h) after each of
 * its histories, their uncompressed payloads (the harness wraps those in a
 * valid header and trailer), and damaged variants: truncated, a flipped
 * body byte, another format version, another secret, another
 * configuration. Deterministic: the same files every run.
 *
 *   make fuzz-corpus      (builds this and runs it on fuzz/corpus/fuzz_snapshot)
 *
 * SPDX-License-Identifier: MIT */
#include "snapshot_fixture.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define HEADER FX_SNAP_HEADER
#define TRAILER FX_SNAP_TRAILER

typedef struct {
    unsigned char *data;
    size_t len, cap;
} buf;

static int buf_write(void *opaque, const void *p, size_t n)
{
    buf *b = opaque;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *nd = realloc(b->data, cap);
        if (!nd)
            return -1;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static const char *g_dir;

static void put(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    printf("  %-28s %6zu bytes\n", name, len);
}

static void snapshot(pacing_ctx *ctx, buf *b)
{
    b->len = 0;
    int rc = pacing_snapshot_write(ctx, buf_write, b);
    if (rc != PACING_OK) {
        fprintf(stderr, "snapshot_write: %d %s\n", rc, pacing_errmsg(ctx));
        exit(1);
    }
}

/* The uncompressed payload of a snapshot. */
static unsigned char *payload_of(const buf *s, size_t *plen)
{
    unsigned char *p = fx_unwrap(s->data, s->len, plen);
    if (!p) {
        fprintf(stderr, "cannot inflate the body: is the layout in "
                "fuzz/snapshot_fixture.h that of lib/snapshot.c?\n");
        exit(1);
    }
    return p;
}

static pacing_ctx *build(int h)
{
    pacing_ctx *ctx = NULL;
    int rc = fx_build(&ctx, NULL, h);
    if (rc != PACING_OK) {
        fprintf(stderr, "fixture history %d: %d\n", h, rc);
        exit(1);
    }
    return ctx;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    char name[64];
    buf s = {0}, basic = {0};

    for (int h = 0; h < FX_N_HISTORIES; h++) {
        pacing_ctx *ctx = build(h);
        snapshot(ctx, &s);
        pacing_ctx_free(ctx);
        snprintf(name, sizeof name, "snap-%s", fx_history_name[h]);
        put(name, s.data, s.len);
        size_t plen;
        unsigned char *p = payload_of(&s, &plen);
        snprintf(name, sizeof name, "payload-%s", fx_history_name[h]);
        put(name, p, plen);
        if (h == FX_BUSY) {
            put("payload-busy-truncated", p, plen - plen / 3);
            unsigned char *q = malloc(plen + 1);
            memcpy(q, p, plen);
            q[plen] = 0;
            put("payload-busy-trailing", q, plen + 1);
            free(q);
        }
        free(p);
        if (h == FX_BASIC)
            buf_write(&basic, s.data, s.len);
    }

    /* damaged copies of the basic snapshot */
    put("bad-truncated-header", basic.data, 40);
    put("bad-truncated-body", basic.data, basic.len / 2);
    unsigned char *c = malloc(basic.len);
    memcpy(c, basic.data, basic.len);
    c[HEADER + 10] ^= 0x5a;
    put("bad-flipped-body", c, basic.len);
    memcpy(c, basic.data, basic.len);
    fx_put32(c + 8, 1); /* format version 1 (before compact users), header checksum fixed */
    fx_put32(c + 60, (uint32_t)crc32(0, c, 60));
    put("bad-version", c, basic.len);
    memcpy(c, basic.data, basic.len);
    c[basic.len - TRAILER + 16] ^= 1; /* the payload CRC, trailer checksum fixed */
    fx_trailer_fix(c + basic.len - TRAILER);
    put("bad-payload-crc", c, basic.len);
    free(c);

    /* another secret, same configuration */
    pacing_options o;
    fx_options(&o, NULL);
    o.secret[0] ^= 1;
    pacing_ctx *ctx = NULL;
    if (pacing_ctx_new(&o, &ctx) != PACING_OK || fx_points(ctx) != PACING_OK ||
        fx_history(ctx, FX_BASIC) != PACING_OK) {
        fprintf(stderr, "other secret: %s\n", pacing_errmsg(ctx));
        return 1;
    }
    snapshot(ctx, &s);
    put("bad-other-secret", s.data, s.len);
    pacing_ctx_free(ctx);

    /* another configuration: the same options, no points */
    fx_options(&o, NULL);
    if (pacing_ctx_new(&o, &ctx) != PACING_OK)
        return 1;
    snapshot(ctx, &s);
    put("bad-other-config", s.data, s.len);
    pacing_ctx_free(ctx);

    free(s.data);
    free(basic.data);
    return 0;
}
