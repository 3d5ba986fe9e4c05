/*
 * URL percent-encoding. Expected values come from Node.js 20:
 *   node -e 'const f=s=>encodeURIComponent(s).replace(/[!'"'"'()*]/g,
 *            c=>"%"+c.charCodeAt(0).toString(16).toUpperCase()); console.log(f(S))'
 * i.e. encodeURIComponent made strict to RFC 3986 (it leaves !'()* alone,
 * which RFC 3986 §2.2 lists as reserved; the plain encodeURIComponent output
 * is recorded too, to show exactly where we differ).
 */
#include "testutil.h"
#include "url.h"

static const struct {
    const char *raw, *strict, *node; /* node = plain encodeURIComponent */
} V[] = {
    {"sb://myrelay.servicebus.windows.net/hc1", "sb%3A%2F%2Fmyrelay.servicebus.windows.net%2Fhc1",
     "sb%3A%2F%2Fmyrelay.servicebus.windows.net%2Fhc1"},
    {"SharedAccessSignature sr=a&b", "SharedAccessSignature%20sr%3Da%26b",
     "SharedAccessSignature%20sr%3Da%26b"},
    {"h\xc3\xa9llo w\xc3\xb6rld/\xe2\x82\xac", "h%C3%A9llo%20w%C3%B6rld%2F%E2%82%AC",
     "h%C3%A9llo%20w%C3%B6rld%2F%E2%82%AC"},
    {"AZaz09-_.~", "AZaz09-_.~", "AZaz09-_.~"},
    {"!*'();:@&=+$,/?#[]", "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D",
     "!*'()%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D"},
    {"key+/=", "key%2B%2F%3D", "key%2B%2F%3D"},
    {"a b%c", "a%20b%25c", "a%20b%25c"},
};

static void test_url_encode_node_vectors(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        char out[128];
        size_t n;
        assert_int_equal(azr_url_encode(V[i].raw, strlen(V[i].raw), out, sizeof out, &n, 0),
                         AZR_OK);
        assert_string_equal(out, V[i].strict);
        assert_int_equal(n, strlen(V[i].strict));
        if (!strpbrk(V[i].raw, "!*'()"))
            assert_string_equal(out, V[i].node);
    }
}

static void test_url_encode_lower_hex(void **s)
{
    (void)s;
    char out[64];
    size_t n;
    /* The reference class's AccessToken example writes sb%3a%2f%2f... */
    assert_int_equal(azr_url_encode("sb://ns/hc1", 11, out, sizeof out, &n, AZR_URL_LOWER_HEX),
                     AZR_OK);
    assert_string_equal(out, "sb%3a%2f%2fns%2fhc1");
}

static void test_url_encode_all_bytes(void **s)
{
    (void)s;
    uint8_t raw[256];
    char out[800], exp[8];
    size_t n;
    for (int i = 0; i < 256; i++)
        raw[i] = (uint8_t)i;
    assert_int_equal(azr_url_encode(raw, 256, out, sizeof out, &n, 0), AZR_OK);
    /* 66 unreserved bytes stay, 190 become %XX */
    assert_int_equal(n, 66 + 190 * 3);
    snprintf(exp, sizeof exp, "%%00%%01");
    assert_memory_equal(out, exp, 6);
    uint8_t back[256];
    assert_int_equal(azr_url_decode(out, n, back, sizeof back, &n, 0), AZR_E_LIMIT);
    uint8_t back2[257];
    assert_int_equal(azr_url_decode(out, strlen(out), back2, sizeof back2, &n, 0), AZR_OK);
    assert_int_equal(n, 256);
    assert_memory_equal(back2, raw, 256);
}

static void test_url_decode_vectors(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        uint8_t out[128];
        size_t n;
        tu_guard g;
        size_t len = strlen(V[i].node);
        const char *p = (const char *)tu_guard_new(&g, V[i].node, len);
        assert_int_equal(azr_url_decode(p, len, out, sizeof out, &n, 0), AZR_OK);
        tu_guard_free(&g);
        assert_int_equal(n, strlen(V[i].raw));
        assert_memory_equal(out, V[i].raw, n);
    }
    /* lower-case hex decodes the same */
    uint8_t out[32];
    size_t n;
    assert_int_equal(azr_url_decode("sb%3a%2f%2fx", 12, out, sizeof out, &n, 0), AZR_OK);
    assert_string_equal((char *)out, "sb://x");
}

static void test_url_decode_plus(void **s)
{
    (void)s;
    uint8_t out[32];
    size_t n;
    assert_int_equal(azr_url_decode("a+b%2B", 6, out, sizeof out, &n, 0), AZR_OK);
    assert_string_equal((char *)out, "a+b+");
    assert_int_equal(azr_url_decode("a+b%2B", 6, out, sizeof out, &n, AZR_URL_PLUS_SPACE), AZR_OK);
    assert_string_equal((char *)out, "a b+");
}

static void test_url_decode_rejects_malformed(void **s)
{
    (void)s;
    static const char *bad[] = {"%", "%2", "abc%", "abc%4", "%zz", "%2g", "%g2", "a%%20"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[32];
        size_t n = 7;
        tu_guard g;
        size_t len = strlen(bad[i]);
        const char *p = (const char *)tu_guard_new(&g, bad[i], len);
        assert_int_equal(azr_url_decode(p, len, out, sizeof out, &n, 0), AZR_E_PROTO);
        assert_int_equal(n, 0);
        tu_guard_free(&g);
    }
}

static void test_url_encode_capacity(void **s)
{
    (void)s;
    char out[6];
    size_t n;
    /* "a b" encodes to 5 characters + NUL */
    assert_int_equal(azr_url_encode("a b", 3, out, 5, &n, 0), AZR_E_LIMIT);
    assert_int_equal(azr_url_encode("a b", 3, out, 6, &n, 0), AZR_OK);
    assert_string_equal(out, "a%20b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_encode_node_vectors),
        cmocka_unit_test(test_url_encode_lower_hex),
        cmocka_unit_test(test_url_encode_all_bytes),
        cmocka_unit_test(test_url_decode_vectors),
        cmocka_unit_test(test_url_decode_plus),
        cmocka_unit_test(test_url_decode_rejects_malformed),
        cmocka_unit_test(test_url_encode_capacity),
    };
    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
