/*
 * SHA-1 (FIPS 180-4 examples) through our wrapper over BearSSL's br_sha1.
 * Digests checked with `openssl dgst -sha1`.
 */
#include "testutil.h"
#include "sha1.h"

static void check(const void *msg, size_t len, const char *hex)
{
    uint8_t d[AZR_SHA1_LEN];
    char got[41];
    for (size_t cut = 0; cut <= len; cut++) {
        azr_sha1_ctx c;
        azr_sha1_init(&c);
        azr_sha1_update(&c, msg, cut);
        azr_sha1_update(&c, (const uint8_t *)msg + cut, len - cut);
        azr_sha1_final(&c, d);
        tu_tohex(d, sizeof d, got);
        assert_string_equal(got, hex);
    }
}

static void test_sha1_abc(void **s)
{
    (void)s;
    check("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

static void test_sha1_448bit(void **s)
{
    (void)s;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check(m, strlen(m), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void test_sha1_million_a(void **s)
{
    (void)s;
    uint8_t chunk[1000], d[AZR_SHA1_LEN];
    char got[41];
    memset(chunk, 'a', sizeof chunk);
    azr_sha1_ctx c;
    azr_sha1_init(&c);
    for (int i = 0; i < 1000; i++)
        azr_sha1_update(&c, chunk, sizeof chunk);
    azr_sha1_final(&c, d);
    tu_tohex(d, sizeof d, got);
    assert_string_equal(got, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1_abc),
        cmocka_unit_test(test_sha1_448bit),
        cmocka_unit_test(test_sha1_million_a),
    };
    return cmocka_run_group_tests_name("sha1", tests, NULL, NULL);
}
