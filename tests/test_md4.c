/*
 * MD4: the RFC 1320 appendix A.5 test suite, plus lengths around the padding
 * boundary and one million 'a'. Every digest was re-checked with
 * `printf '%s' MSG | openssl dgst -md4 -provider legacy -provider default`
 * (OpenSSL 3.0.19, Debian bookworm), and the boundary ones come only from
 * `head -c N /dev/zero | tr '\0' a | openssl dgst -md4 -provider legacy ...`.
 */
#include "testutil.h"
#include "md4.h"

static void check(const void *msg, size_t len, const char *hex)
{
    uint8_t d[AZR_MD4_LEN];
    char got[2 * AZR_MD4_LEN + 1];
    azr_md4(msg, len, d);
    tu_tohex(d, sizeof d, got);
    assert_string_equal(got, hex);

    /* one byte per update */
    azr_md4_ctx c;
    azr_md4_init(&c);
    for (size_t i = 0; i < len; i++)
        azr_md4_update(&c, (const uint8_t *)msg + i, 1);
    azr_md4_final(&c, d);
    tu_tohex(d, sizeof d, got);
    assert_string_equal(got, hex);

    /* split at every offset, second half through a context copied mid-stream */
    for (size_t cut = 0; cut <= len; cut++) {
        azr_md4_ctx a, b;
        azr_md4_init(&a);
        azr_md4_update(&a, msg, cut);
        b = a;
        azr_md4_update(&b, (const uint8_t *)msg + cut, len - cut);
        azr_md4_final(&b, d);
        tu_tohex(d, sizeof d, got);
        assert_string_equal(got, hex);
    }
}

/* RFC 1320 A.5, all seven messages. */
static void test_md4_rfc1320_suite(void **s)
{
    (void)s;
    static const struct {
        const char *msg, *hex;
    } v[] = {
        {"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
        {"a", "bde52cb31de33e46245e05fbdbd6fb24"},
        {"abc", "a448017aaf21d8525fc10ae87aa6729d"},
        {"message digest", "d9130a8164549fe818874806e1c7014b"},
        {"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "043f8582f241db351ce627e153e7f0e4"},
        {"1234567890123456789012345678901234567890123456789012345678901234567890123456789"
         "0",
         "e33b4ddc9c38f2199c3e7b164fcc0536"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        check(v[i].msg, strlen(v[i].msg), v[i].hex);
}

/* 55, 56, 63, 64, 65 bytes of 'a': the length field in the same block as the
 * data, in a block of its own, and a second data block. */
static void test_md4_padding_boundaries(void **s)
{
    (void)s;
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "c889c81dd86c4d2e025778944ea02881"}, {56, "d5f9a9e9257077a5f08b0b92f348b0ad"},
        {63, "7ea3da77432d44c323671097d1348fc8"}, {64, "52f5076fabd22680234a3fa9f9dc5732"},
        {65, "330e377bf231f3cacfecc2c182fe7e5b"},
    };
    uint8_t buf[65];
    memset(buf, 'a', sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        check(buf, v[i].n, v[i].hex);
}

static void test_md4_million_a(void **s)
{
    (void)s;
    uint8_t chunk[1000], d[AZR_MD4_LEN];
    char got[33];
    memset(chunk, 'a', sizeof chunk);
    azr_md4_ctx c;
    azr_md4_init(&c);
    for (int i = 0; i < 1000; i++)
        azr_md4_update(&c, chunk, sizeof chunk);
    azr_md4_final(&c, d);
    tu_tohex(d, sizeof d, got);
    assert_string_equal(got, "bbce80cc6bb65e5c6745e30d4eeca9a4");
}

/* MS-NLMP §4.2.2.1.2: the NT hash of "Password" (UTF-16LE) is the NTOWFv1 of
 * the spec's examples. */
static void test_md4_nt_hash_of_password(void **s)
{
    (void)s;
    static const uint8_t pw[] = {'P', 0, 'a', 0, 's', 0, 's', 0, 'w', 0, 'o', 0, 'r', 0, 'd', 0};
    check(pw, sizeof pw, "a4f49c406510bdcab6824ee7c30fd852");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md4_rfc1320_suite),
        cmocka_unit_test(test_md4_padding_boundaries),
        cmocka_unit_test(test_md4_million_a),
        cmocka_unit_test(test_md4_nt_hash_of_password),
    };
    return cmocka_run_group_tests_name("md4", tests, NULL, NULL);
}
