/* pacing inspect: a snapshot as YAML, for audits.
 *
 * Without --config only the container is read, by this file itself (the
 * layout of format version 2, lib/snapshot.c): the 64-byte header (magic
 * "PACINGSN", format version, flags, record sizes, configuration hash,
 * secret fingerprint, stripes, points, header CRC32), the 32-byte trailer
 * (payload and compressed lengths, their CRC32s, trailer CRC32), whether
 * the compressed body's CRC matches, whether it inflates to exactly the
 * payload length and whether the payload's CRC matches.
 *
 * With --config the records are interpreted by the library, through the
 * public API only: a context is built from the configuration, the snapshot
 * is loaded into it (pacing_snapshot_load checks every record and the
 * configuration hash), and then pacing_arm_stats_get (every action of
 * every point), pacing_stats_get and pacing_decision_stats_get are
 * printed. The decision log is not part of a snapshot.
 *
 * Privacy: nothing per user is printed, not even pseudonyms: the public
 * API has no way to list users and an audit of the learned state needs
 * only aggregates; raw user ids are never in a snapshot in the first
 * place. The secret fingerprint (SipHash of a constant under the secret)
 * does not reveal the secret; it tells whether two snapshots share one.
 *
 * SPDX-License-Identifier: MIT */
#include "tools.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *const INSPECT_USAGE =
    "pacing inspect SNAPSHOT [--config CONFIG [--secret-file FILE | --seed S]]";

#define HEADER 64
#define TRAILER 32

void inspect_help(FILE *out)
{
    fprintf(out, "usage: %s\n", INSPECT_USAGE);
    fputs("\n"
          "Print a libpacing snapshot as YAML, for audits. Without --config:\n"
          "the header (format version, flags, record sizes, configuration hash,\n"
          "secret fingerprint, stripes, points), the lengths, and whether the\n"
          "header and trailer checksums match, the compressed body's CRC\n"
          "matches, the body inflates and the payload's CRC matches.\n"
          "\n"
          "options:\n"
          "  --config CONFIG   also load the snapshot into a context built from\n"
          "                    CONFIG and print, per point and action, the\n"
          "                    learned statistics, and the context's counters\n"
          "  --secret-file FILE  the pseudonym secret (32 hexadecimal digits) the\n"
          "                    snapshot was made with, when CONFIG does not set\n"
          "                    options.secret\n"
          "  --seed S          the snapshot was written by pacing sim/replay\n"
          "                    --seed S (use the secret they derive from S)\n"
          "\n"
          "Nothing per user is printed (no pseudonyms, and a snapshot holds no\n"
          "raw ids).\n"
          "\n"
          "Exit status: 0 the snapshot is intact (and, with --config, loads),\n"
          "1 it is damaged, unreadable or does not match CONFIG, 2 usage error.\n",
          out);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* a YAML double-quoted scalar */
static void yq(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void ynum(double v)
{
    if (isnan(v))
        fputs(".nan", stdout);
    else if (isinf(v))
        fputs(v > 0 ? ".inf" : "-.inf", stdout);
    else {
        char b[40];
        tl_fmt_double(b, sizeof b, v);
        fputs(b, stdout);
    }
}

static uint32_t crc(const uint8_t *p, uint64_t n)
{
    uLong c = crc32(0, NULL, 0);
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

/* Inflate body[0..clen) without keeping the output: *out_len bytes came
 * out, *out_crc their CRC32, *used the input consumed; 1 if the stream
 * ended cleanly. */
static int inflate_check(const uint8_t *body, uint64_t clen, uint64_t *out_len,
                         uint32_t *out_crc, uint64_t *used)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK) /* a raw deflate stream */
        return 0;
    static uint8_t buf[1 << 16];
    uLong c = crc32(0, NULL, 0);
    uint64_t in_left = clen, out = 0;
    const uint8_t *in = body;
    int zr = Z_OK;
    while (zr == Z_OK) {
        uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = ci;
        z.next_out = buf;
        z.avail_out = sizeof buf;
        zr = inflate(&z, Z_NO_FLUSH);
        uInt got = (uInt)(sizeof buf - z.avail_out);
        c = crc32(c, buf, got);
        out += got;
        in += ci - z.avail_in;
        in_left -= ci - z.avail_in;
        if (zr == Z_OK && ci == z.avail_in && got == 0)
            zr = Z_BUF_ERROR; /* no progress: truncated */
    }
    inflateEnd(&z);
    *out_len = out;
    *out_crc = (uint32_t)c;
    *used = clen - in_left;
    return zr == Z_STREAM_END;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        if (n == cap) {
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    int bad = !b || ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

static int read_secret(const char *path, uint8_t secret[16])
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char hex[33];
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) {
        if (isspace(c))
            continue;
        if (!isxdigit(c) || n == 32) {
            fclose(f);
            return -1;
        }
        hex[n++] = (char)c;
    }
    fclose(f);
    if (n != 32)
        return -1;
    for (int i = 0; i < 16; i++) {
        char two[3] = {hex[2 * i], hex[2 * i + 1], 0};
        secret[i] = (uint8_t)strtoul(two, NULL, 16);
    }
    return 0;
}

/* The container; returns 1 if intact. */
static int print_container(const char *path, const uint8_t *b, size_t len)
{
    printf("snapshot:\n  file: ");
    yq(path);
    printf("\n  bytes: %zu\n", len);
    const char *problem = NULL;
    int valid = 1;
    if (len < HEADER + TRAILER) {
        printf("  valid: false\n  problem: \"too short for a snapshot (%d bytes at "
               "least)\"\n", HEADER + TRAILER);
        return 0;
    }
    int magic = memcmp(b, "PACINGSN", 8) == 0;
    printf("  magic: %s\n", magic ? "ok" : "bad");
    if (!magic) {
        printf("  valid: false\n  problem: \"not a libpacing snapshot\"\n");
        return 0;
    }
    int hcrc = get32(b + 60) == crc(b, 60);
    uint32_t version = get32(b + 8);
    printf("  format_version: %" PRIu32 "\n", version);
    printf("  flags: %" PRIu32 "\n", get32(b + 12));
    printf("  user_record_bytes: %" PRIu32 "\n", get32(b + 16));
    printf("  pending_record_bytes: %" PRIu32 "\n", get32(b + 20));
    printf("  config_hash: \"0x%016" PRIx64 "\"\n", get64(b + 24));
    printf("  secret_check: \"0x%016" PRIx64 "\"\n", get64(b + 32));
    printf("  stripes: %" PRIu32 "\n", get32(b + 40));
    printf("  points: %" PRIu32 "\n", get32(b + 44));
    printf("  header_crc: %s\n", hcrc ? "ok" : "mismatch");
    if (!hcrc) {
        valid = 0;
        problem = "header checksum mismatch";
    }
    if (version != 2) {
        valid = 0;
        if (!problem)
            problem = "a format version this tool does not read (it reads 2)";
    }
    const uint8_t *t = b + len - TRAILER;
    int tcrc = get32(t + 28) == crc(t, 28) && get32(t + 24) == 0;
    uint64_t plen = get64(t), clen = get64(t + 8);
    printf("  trailer_crc: %s\n", tcrc ? "ok" : "mismatch");
    printf("  payload_bytes: %" PRIu64 "\n", plen);
    printf("  compressed_bytes: %" PRIu64 "\n", clen);
    if (!tcrc) {
        valid = 0;
        if (!problem)
            problem = "trailer checksum mismatch (truncated?)";
    } else if (clen != len - HEADER - TRAILER) {
        valid = 0;
        printf("  lengths: mismatch\n");
        if (!problem)
            problem = "the compressed length does not match the file size";
    } else {
        int bcrc = get32(t + 20) == crc(b + HEADER, clen);
        printf("  body_crc: %s\n", bcrc ? "ok" : "mismatch");
        uint64_t out_len = 0, used = 0;
        uint32_t pcrc = 0;
        int ended = inflate_check(b + HEADER, clen, &out_len, &pcrc, &used);
        int inflates = ended && out_len == plen && used == clen;
        printf("  inflates: %s\n", inflates ? "true" : "false");
        if (inflates)
            printf("  payload_crc: %s\n", pcrc == get32(t + 16) ? "ok" : "mismatch");
        if (!bcrc && !problem)
            problem = "compressed body checksum mismatch";
        if (!inflates && !problem)
            problem = "the compressed body does not inflate to the payload length";
        if (inflates && pcrc != get32(t + 16) && !problem)
            problem = "payload checksum mismatch";
        if (!bcrc || !inflates || pcrc != get32(t + 16))
            valid = 0;
    }
    printf("  valid: %s\n", valid ? "true" : "false");
    if (problem) {
        printf("  problem: ");
        yq(problem);
        putchar('\n');
    }
    return valid;
}

static int print_state(const tl_config *cfg, const char *snap)
{
    pacing_ctx *ctx = cfg->ctx;
    printf("config:\n  file: ");
    yq(cfg->path);
    putchar('\n');
    int rc = pacing_snapshot_load(ctx, snap);
    if (rc != PACING_OK) {
        printf("  loaded: false\n  error: ");
        yq(pacing_errmsg(ctx));
        printf("\n  status: ");
        yq(pacing_strerror(rc));
        putchar('\n');
        return 0;
    }
    printf("  loaded: true\n");
    printf("points:\n");
    for (uint32_t i = 0; i < cfg->n_points; i++) {
        const tl_point *p = &cfg->points[i];
        printf("  - name: %s\n    policy: %s\n    actions:\n", p->name, p->policy);
        for (uint32_t a = 0; a < p->n_actions; a++) {
            pacing_arm_stats s = PACING_ARM_STATS_INIT;
            if (pacing_arm_stats_get(ctx, i, a, &s) != PACING_OK)
                continue;
            printf("      - name: %s\n", p->actions[a]);
            printf("        quiet: %s\n", (p->quiet >> a) & 1 ? "true" : "false");
            printf("        decisions: %" PRIu64 "\n", s.decisions);
            printf("        rewards: %" PRIu64 "\n", s.rewards);
            printf("        pulls: ");
            ynum(s.pulls);
            printf("\n        reward_sum: ");
            ynum(s.reward_sum);
            printf("\n        mean: ");
            ynum(s.mean);
            putchar('\n');
            if (s.param_a_name) {
                printf("        %s: ", s.param_a_name);
                ynum(s.param_a);
                putchar('\n');
            }
            if (s.param_b_name) {
                printf("        %s: ", s.param_b_name);
                ynum(s.param_b);
                putchar('\n');
            }
            printf("        last_update_ms: %" PRId64 "\n", s.last_update_ms);
        }
    }
    pacing_stats st = PACING_STATS_INIT;
    if (pacing_stats_get(ctx, &st) == PACING_OK) {
        printf("counters:\n");
        printf("  users: %" PRIu64 "\n", st.users);
        printf("  capacity: %" PRIu64 "\n", st.capacity);
        printf("  events_applied: %" PRIu64 "\n", st.events_applied);
        printf("  events_dropped_bot: %" PRIu64 "\n", st.events_dropped_bot);
        printf("  events_dropped_debounce: %" PRIu64 "\n", st.events_dropped_debounce);
        printf("  events_dropped_consent: %" PRIu64 "\n", st.events_dropped_consent);
        printf("  events_rejected: %" PRIu64 "\n", st.events_rejected);
        printf("  derived_rage_clicks: %" PRIu64 "\n", st.derived_rage_clicks);
        printf("  derived_dead_clicks: %" PRIu64 "\n", st.derived_dead_clicks);
        printf("  users_created: %" PRIu64 "\n", st.users_created);
        printf("  users_evicted_lru: %" PRIu64 "\n", st.users_evicted_lru);
        printf("  users_expired: %" PRIu64 "\n", st.users_expired);
        printf("  users_forgotten: %" PRIu64 "\n", st.users_forgotten);
    }
    pacing_decision_stats ds = PACING_DECISION_STATS_INIT;
    if (pacing_decision_stats_get(ctx, &ds) == PACING_OK) {
        printf("decisions:\n");
        printf("  decisions: %" PRIu64 "\n", ds.decisions);
        printf("  rewards_explicit: %" PRIu64 "\n", ds.rewards_explicit);
        printf("  rewards_implicit: %" PRIu64 "\n", ds.rewards_implicit);
        printf("  rewards_default: %" PRIu64 "\n", ds.rewards_default);
        printf("  expired_unrewarded: %" PRIu64 "\n", ds.expired_unrewarded);
        printf("  settled_early: %" PRIu64 "\n", ds.settled_early);
        printf("  pending: %" PRIu64 "\n", ds.pending);
        printf("  reward_rejected: %" PRIu64 "\n", ds.reward_rejected);
        printf("  safe_decisions: %" PRIu64 "\n", ds.safe_decisions);
    }
    return 1;
}

int cmd_inspect(int argc, char **argv)
{
    const char *snap = NULL, *config = NULL, *secret_file = NULL;
    uint64_t seed = 0;
    int have_seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (tl_is_help(a)) {
            inspect_help(stdout);
            return 0;
        }
        if (!strcmp(a, "--config") || !strcmp(a, "--secret-file") ||
            !strcmp(a, "--seed")) {
            const char *v = i + 1 < argc ? argv[i + 1] : NULL;
            if (!v)
                return tl_usage_error("inspect", INSPECT_USAGE, "%s needs a value", a);
            i++;
            if (!strcmp(a, "--config")) {
                config = v;
            } else if (!strcmp(a, "--secret-file")) {
                secret_file = v;
            } else {
                if (tl_parse_u64(v, &seed))
                    return tl_usage_error("inspect", INSPECT_USAGE,
                                          "--seed: '%s' is not an unsigned 64-bit "
                                          "integer", v);
                have_seed = 1;
            }
            continue;
        }
        if (a[0] == '-' && a[1])
            return tl_usage_error("inspect", INSPECT_USAGE, "unknown option '%s'", a);
        if (snap)
            return tl_usage_error("inspect", INSPECT_USAGE, "unexpected argument '%s'", a);
        snap = a;
    }
    if (!snap)
        return tl_usage_error("inspect", INSPECT_USAGE, "no snapshot given");
    if ((secret_file || have_seed) && !config)
        return tl_usage_error("inspect", INSPECT_USAGE,
                              "--secret-file and --seed need --config");
    if (secret_file && have_seed)
        return tl_usage_error("inspect", INSPECT_USAGE,
                              "give --secret-file or --seed, not both");

    pacing_options base;
    if (have_seed) {
        tl_seed_options(seed, &base);
    } else {
        pacing_options_init(&base);
        if (secret_file) {
            if (read_secret(secret_file, base.secret) != 0) {
                fprintf(stderr, "pacing inspect: %s: expected 32 hexadecimal digits\n",
                        secret_file);
                return EXIT_BAD;
            }
            base.flags |= PACING_OPT_SECRET;
        }
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (read_file(snap, &buf, &len) != 0) {
        fprintf(stderr, "pacing inspect: cannot read %s\n", snap);
        return EXIT_BAD;
    }
    tl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (config && tl_config_load("inspect", config, &base, 0, &cfg) != 0) {
        free(buf);
        return EXIT_BAD;
    }
    printf("# pacing inspect (libpacing %s)\n", pacing_version_string());
    int ok = print_container(snap, buf, len);
    free(buf);
    if (config)
        ok = print_state(&cfg, snap) && ok;
    fflush(stdout);
    tl_config_free(&cfg);
    return ok ? 0 : EXIT_BAD;
}
