/*
 * HMAC-SHA256: RFC 4231 §4.2-§4.8 test cases 1-7 (case 5 compares the
 * 128-bit truncation, as the RFC does). The tags were re-checked with
 * `openssl dgst -sha256 -mac HMAC -macopt hexkey:...` and Python's hmac.
 */
#include "testutil.h"
#include "hmac.h"

static void check(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen, const char *hex)
{
    uint8_t tag[AZR_SHA256_LEN];
    char got[65];
    size_t n = strlen(hex) / 2;

    azr_hmac_sha256(key, klen, msg, mlen, tag);
    tu_tohex(tag, n, got);
    assert_string_equal(got, hex);

    /* split the message at every offset */
    for (size_t cut = 0; cut <= mlen; cut++) {
        azr_hmac_ctx c;
        azr_hmac_init(&c, key, klen);
        azr_hmac_update(&c, msg, cut);
        azr_hmac_update(&c, msg + cut, mlen - cut);
        azr_hmac_final(&c, tag);
        tu_tohex(tag, n, got);
        assert_string_equal(got, hex);
    }
}

static void test_hmac_rfc4231_case1(void **s)
{
    (void)s;
    uint8_t k[20];
    memset(k, 0x0b, sizeof k);
    check(k, sizeof k, (const uint8_t *)"Hi There", 8,
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void test_hmac_rfc4231_case2(void **s)
{
    (void)s;
    const char *m = "what do ya want for nothing?";
    check((const uint8_t *)"Jefe", 4, (const uint8_t *)m, strlen(m),
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_hmac_rfc4231_case3(void **s)
{
    (void)s;
    uint8_t k[20], m[50];
    memset(k, 0xaa, sizeof k);
    memset(m, 0xdd, sizeof m);
    check(k, sizeof k, m, sizeof m,
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

static void test_hmac_rfc4231_case4(void **s)
{
    (void)s;
    uint8_t k[25], m[50];
    for (int i = 0; i < 25; i++)
        k[i] = (uint8_t)(i + 1);
    memset(m, 0xcd, sizeof m);
    check(k, sizeof k, m, sizeof m,
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

static void test_hmac_rfc4231_case5_truncated(void **s)
{
    (void)s;
    uint8_t k[20];
    memset(k, 0x0c, sizeof k);
    check(k, sizeof k, (const uint8_t *)"Test With Truncation", 20,
          "a3b6167473100ee06e0c796c2955552b");
}

static void test_hmac_rfc4231_case6_long_key(void **s)
{
    (void)s;
    uint8_t k[131];
    const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
    memset(k, 0xaa, sizeof k);
    check(k, sizeof k, (const uint8_t *)m, strlen(m),
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_hmac_rfc4231_case7_long_key_and_data(void **s)
{
    (void)s;
    uint8_t k[131];
    const char *m = "This is a test using a larger than block-size key and a larger than "
                    "block-size data. The key needs to be hashed before being used by the HMAC "
                    "algorithm.";
    memset(k, 0xaa, sizeof k);
    check(k, sizeof k, (const uint8_t *)m, strlen(m),
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* Exactly one block of key (64 bytes) is used as is, not hashed:
 * `printf data | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf '%0128x' 0 | tr 0 4)`
 * i.e. 64 bytes of 0x44. */
static void test_hmac_block_sized_key(void **s)
{
    (void)s;
    uint8_t k[64];
    memset(k, 0x44, sizeof k);
    check(k, sizeof k, (const uint8_t *)"data", 4,
          "43ed79fcf7d42772e539a89618f372efd525de6c3bd3ceda21287ad713ad7412");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231_case1),
        cmocka_unit_test(test_hmac_rfc4231_case2),
        cmocka_unit_test(test_hmac_rfc4231_case3),
        cmocka_unit_test(test_hmac_rfc4231_case4),
        cmocka_unit_test(test_hmac_rfc4231_case5_truncated),
        cmocka_unit_test(test_hmac_rfc4231_case6_long_key),
        cmocka_unit_test(test_hmac_rfc4231_case7_long_key_and_data),
        cmocka_unit_test(test_hmac_block_sized_key),
    };
    return cmocka_run_group_tests_name("hmac", tests, NULL, NULL);
}
