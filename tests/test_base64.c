/*
 * Base64: RFC 4648 §10 vectors, all 256 byte values (encoding produced by
 * `python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' | openssl base64 -A`),
 * and the decoder's refusals. Every decode runs against a guard page.
 */
#include "testutil.h"
#include "base64.h"

static const struct {
    const char *raw, *enc;
} RFC4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static const char ALL256[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyM"
                             "zQ1Njc4OTo7PD0+P0BBQkNERUZH"
                             "SElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e"
                             "3x9fn+AgYKDhIWGh4iJiouMjY6P"
                             "kJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/"
                             "wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX"
                             "2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";

static azr_err decode_guarded(const char *enc, uint8_t *out, size_t cap, size_t *n)
{
    tu_guard g;
    size_t len = strlen(enc);
    const char *p = (const char *)tu_guard_new(&g, enc, len);
    azr_err e = azr_b64_decode(p, len, out, cap, n);
    tu_guard_free(&g);
    return e;
}

static void test_base64_rfc4648_encode(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof RFC4648 / sizeof RFC4648[0]; i++) {
        char out[16];
        size_t n;
        assert_int_equal(azr_b64_encode((const uint8_t *)RFC4648[i].raw, strlen(RFC4648[i].raw),
                                        out, sizeof out, &n),
                         AZR_OK);
        assert_string_equal(out, RFC4648[i].enc);
        assert_int_equal(n, strlen(RFC4648[i].enc));
    }
}

static void test_base64_rfc4648_decode(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof RFC4648 / sizeof RFC4648[0]; i++) {
        uint8_t out[16];
        size_t n;
        assert_int_equal(decode_guarded(RFC4648[i].enc, out, sizeof out, &n), AZR_OK);
        assert_int_equal(n, strlen(RFC4648[i].raw));
        assert_memory_equal(out, RFC4648[i].raw, n);
    }
}

static void test_base64_all_bytes(void **s)
{
    (void)s;
    uint8_t raw[256], back[256];
    char enc[400];
    size_t n;
    for (int i = 0; i < 256; i++)
        raw[i] = (uint8_t)i;
    assert_int_equal(azr_b64_encode(raw, 256, enc, sizeof enc, &n), AZR_OK);
    assert_string_equal(enc, ALL256);
    assert_int_equal(decode_guarded(ALL256, back, sizeof back, &n), AZR_OK);
    assert_int_equal(n, 256);
    assert_memory_equal(back, raw, 256);
}

static void test_base64_rejects_bad_input(void **s)
{
    (void)s;
    static const char *bad[] = {
        "Zg=",                                           /* length not a multiple of 4 */
        "Zm9",       "Z",    "Zm9v!mFy",                 /* bad character */
        "Zm9v YmFy",                                     /* whitespace is not skipped */
        "Zm9\nv",    "Zg=a",                             /* '=' not at the end */
        "Z===",      "====", "=Zm9",     "Zm9vYg==Zm9v", /* padding inside */
        "Zh==",                                          /* non-canonical: low 4 bits of 'h' set */
        "Zm9=",                                          /* non-canonical: low 2 bits of '9' set */
        "Zm-v",                                          /* base64url alphabet is not accepted */
        "Zm_v",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[16];
        size_t n = 99;
        assert_int_equal(decode_guarded(bad[i], out, sizeof out, &n), AZR_E_PROTO);
        assert_int_equal(n, 0);
    }
}

static void test_base64_capacity(void **s)
{
    (void)s;
    char out[9];
    size_t n;
    /* "foobar" needs 8 characters plus the NUL */
    assert_int_equal(azr_b64_encode((const uint8_t *)"foobar", 6, out, 8, &n), AZR_E_LIMIT);
    assert_int_equal(azr_b64_encode((const uint8_t *)"foobar", 6, out, 9, &n), AZR_OK);
    uint8_t raw[6];
    assert_int_equal(azr_b64_decode("Zm9vYmFy", 8, raw, 5, &n), AZR_E_LIMIT);
    assert_int_equal(azr_b64_decode("Zm9vYmFy", 8, raw, 6, &n), AZR_OK);
    /* exact fit with padding: 5 bytes */
    assert_int_equal(azr_b64_decode("Zm9vYmE=", 8, raw, 5, &n), AZR_OK);
    assert_int_equal(n, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648_encode),
        cmocka_unit_test(test_base64_rfc4648_decode),
        cmocka_unit_test(test_base64_all_bytes),
        cmocka_unit_test(test_base64_rejects_bad_input),
        cmocka_unit_test(test_base64_capacity),
    };
    return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
