/* SipHash-2-4 against the reference vectors, and pacing_pseudonym. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The 64-bit outputs of SipHash-2-4 for key 00 01 .. 0f and the messages
 * "", 00, 00 01, ..., 00 01 .. 3e (length i for entry i): vectors_sip64 of
 * the reference implementation (github.com/veorq/SipHash, vectors.h), read
 * as little-endian integers. */
static const uint64_t vectors[64] = {
    0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
    0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
    0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
    0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
    0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
    0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
    0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
    0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
    0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
    0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
    0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
    0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
    0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
    0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
    0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
    0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
    0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
    0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
    0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
    0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
    0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
    0x958a324ceb064572ULL,
};

static uint8_t ref_key[16];
static uint8_t ref_msg[64];

static int setup_ref(void **state)
{
    (void)state;
    for (int i = 0; i < 16; i++)
        ref_key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        ref_msg[i] = (uint8_t)i;
    return 0;
}

static void test_reference_vectors(void **state)
{
    (void)state;
    for (size_t len = 0; len < 64; len++) {
        uint64_t h = pc_siphash24(ref_key, ref_msg, len);
        if (h != vectors[len])
            fail_msg("length %zu: 0x%016llx, expected 0x%016llx", len,
                     (unsigned long long)h, (unsigned long long)vectors[len]);
    }
}

/* The input need not be aligned: the same bytes at every offset. */
static void test_unaligned_input(void **state)
{
    (void)state;
    uint8_t buf[64 + 8];
    for (size_t off = 1; off < 8; off++) {
        memset(buf, 0xEE, sizeof buf);
        memcpy(buf + off, ref_msg, 64);
        for (size_t len = 0; len < 64; len += 5)
            assert_true(pc_siphash24(ref_key, buf + off, len) == vectors[len]);
    }
}

/* Every key byte and the last message byte matter. */
static void test_key_and_message_sensitivity(void **state)
{
    (void)state;
    for (int i = 0; i < 16; i++) {
        uint8_t k[16];
        memcpy(k, ref_key, 16);
        k[i] ^= 0x01;
        assert_true(pc_siphash24(k, ref_msg, 15) != vectors[15]);
    }
    uint8_t m[15];
    memcpy(m, ref_msg, 15);
    m[14] ^= 0x80;
    assert_true(pc_siphash24(ref_key, m, 15) != vectors[15]);
    /* a trailing zero byte is not the same as no byte (length is hashed) */
    uint8_t z[9] = {0, 1, 2, 3, 4, 5, 6, 7, 0};
    assert_true(pc_siphash24(ref_key, z, 9) != pc_siphash24(ref_key, z, 8));
}

/* ---- pacing_pseudonym ---- */

static pacing_ctx *ctx_with_secret(const uint8_t secret[16])
{
    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 16;
    if (secret) {
        o.flags = PACING_OPT_SECRET;
        memcpy(o.secret, secret, 16);
    }
    pacing_ctx *c = NULL;
    assert_int_equal(pacing_ctx_new(&o, &c), PACING_OK);
    assert_non_null(c);
    return c;
}

/* With a set secret the pseudonym is SipHash-2-4 of the id under it. */
static void test_pseudonym_is_keyed_siphash(void **state)
{
    (void)state;
    pacing_ctx *c = ctx_with_secret(ref_key);
    for (size_t len = 1; len < 64; len++) {
        uint64_t p = 0;
        assert_int_equal(pacing_pseudonym(c, ref_msg, len, &p), PACING_OK);
        assert_true(p == vectors[len]);
    }
    pacing_ctx_free(c);
}

static void test_pseudonym_deterministic_per_secret(void **state)
{
    (void)state;
    uint8_t s1[16], s2[16];
    for (int i = 0; i < 16; i++) {
        s1[i] = (uint8_t)(0xA0 + i);
        s2[i] = (uint8_t)(0xA0 + i);
    }
    s2[7] ^= 0x10; /* differs in one bit */
    pacing_ctx *a = ctx_with_secret(s1);
    pacing_ctx *b = ctx_with_secret(s1);
    pacing_ctx *d = ctx_with_secret(s2);
    const char *ids[] = {"alice", "bob", "user-00001", "x"};
    for (size_t i = 0; i < 4; i++) {
        uint64_t pa, pb, pd, pa2;
        size_t len = strlen(ids[i]);
        assert_int_equal(pacing_pseudonym(a, ids[i], len, &pa), PACING_OK);
        assert_int_equal(pacing_pseudonym(a, ids[i], len, &pa2), PACING_OK);
        assert_int_equal(pacing_pseudonym(b, ids[i], len, &pb), PACING_OK);
        assert_int_equal(pacing_pseudonym(d, ids[i], len, &pd), PACING_OK);
        assert_true(pa == pa2);
        assert_true(pa == pb);
        assert_true(pa != pd);
        uint64_t h = pc_siphash24(s1, ids[i], len);
        assert_true(pa == (h ? h : 1));
    }
    /* different ids, different pseudonyms */
    uint64_t p1, p2;
    assert_int_equal(pacing_pseudonym(a, "alice", 5, &p1), PACING_OK);
    assert_int_equal(pacing_pseudonym(a, "alicf", 5, &p2), PACING_OK);
    assert_true(p1 != p2);
    /* the length is part of the id */
    assert_int_equal(pacing_pseudonym(a, "alice", 4, &p2), PACING_OK);
    assert_true(p1 != p2);
    /* an all-zero secret is a valid secret */
    uint8_t zero[16] = {0};
    pacing_ctx *z1 = ctx_with_secret(zero), *z2 = ctx_with_secret(zero);
    assert_int_equal(pacing_pseudonym(z1, "alice", 5, &p1), PACING_OK);
    assert_int_equal(pacing_pseudonym(z2, "alice", 5, &p2), PACING_OK);
    assert_true(p1 == p2);
    assert_true(p1 == pc_siphash24(zero, "alice", 5));
    pacing_ctx_free(z1);
    pacing_ctx_free(z2);
    pacing_ctx_free(a);
    pacing_ctx_free(b);
    pacing_ctx_free(d);
}

static void test_pseudonym_never_zero(void **state)
{
    (void)state;
    pacing_ctx *c = ctx_with_secret(ref_key);
    char id[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(id, sizeof id, "user%d", i);
        uint64_t p = 0;
        assert_int_equal(pacing_pseudonym(c, id, (size_t)n, &p), PACING_OK);
        assert_true(p != 0);
    }
    pacing_ctx_free(c);
}

static void test_pseudonym_errors(void **state)
{
    (void)state;
    pacing_ctx *c = ctx_with_secret(ref_key);
    static uint8_t big[1025];
    memset(big, 'u', sizeof big);
    uint64_t p = 42;
    assert_int_equal(pacing_pseudonym(NULL, "a", 1, &p), PACING_E_NULL);
    assert_int_equal(pacing_pseudonym(c, NULL, 1, &p), PACING_E_NULL);
    assert_int_equal(pacing_pseudonym(c, "a", 1, NULL), PACING_E_NULL);
    assert_int_equal(pacing_pseudonym(c, "a", 0, &p), PACING_E_RANGE);
    assert_true(strlen(pacing_errmsg(c)) > 0);
    assert_int_equal(pacing_pseudonym(c, big, 1025, &p), PACING_E_RANGE);
    assert_int_equal(pacing_pseudonym(c, big, SIZE_MAX, &p), PACING_E_RANGE);
    /* the bounds 1 and 1024 are valid */
    assert_int_equal(pacing_pseudonym(c, big, 1024, &p), PACING_OK);
    assert_true(p == pc_siphash24(ref_key, big, 1024));
    assert_int_equal(pacing_pseudonym(c, big, 1, &p), PACING_OK);
    assert_true(p == pc_siphash24(ref_key, big, 1));
    pacing_ctx_free(c);
}

/* Without PACING_OPT_SECRET each context draws a random secret (and
 * options.secret is ignored). */
static void test_pseudonym_random_secret(void **state)
{
    (void)state;
    pacing_ctx *a = ctx_with_secret(NULL), *b = ctx_with_secret(NULL);
    uint64_t pa, pb;
    assert_int_equal(pacing_pseudonym(a, "alice", 5, &pa), PACING_OK);
    assert_int_equal(pacing_pseudonym(b, "alice", 5, &pb), PACING_OK);
    assert_true(pa != pb);
    /* stable within a context */
    uint64_t pa2;
    assert_int_equal(pacing_pseudonym(a, "alice", 5, &pa2), PACING_OK);
    assert_true(pa == pa2);
    pacing_ctx_free(a);
    pacing_ctx_free(b);

    pacing_options o;
    pacing_options_init(&o);
    o.capacity = 16;
    memcpy(o.secret, ref_key, 16); /* no flag: not used */
    pacing_ctx *c = NULL, *d = NULL;
    assert_int_equal(pacing_ctx_new(&o, &c), PACING_OK);
    assert_int_equal(pacing_ctx_new(&o, &d), PACING_OK);
    uint64_t pc, pd;
    assert_int_equal(pacing_pseudonym(c, ref_msg, 8, &pc), PACING_OK);
    assert_int_equal(pacing_pseudonym(d, ref_msg, 8, &pd), PACING_OK);
    assert_true(pc != pd);
    assert_true(pc != vectors[8]);
    pacing_ctx_free(c);
    pacing_ctx_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_unaligned_input),
        cmocka_unit_test(test_key_and_message_sensitivity),
        cmocka_unit_test(test_pseudonym_is_keyed_siphash),
        cmocka_unit_test(test_pseudonym_deterministic_per_secret),
        cmocka_unit_test(test_pseudonym_never_zero),
        cmocka_unit_test(test_pseudonym_errors),
        cmocka_unit_test(test_pseudonym_random_secret),
    };
    return cmocka_run_group_tests(tests, setup_ref, NULL);
}
