/*
 * The class's TLS vocabulary on BearSSL (src/tlsparams.c): cipher suite
 * names (IANA registry names; ids from RFC 5289, RFC 7905, RFC 6655),
 * SSLEnabledProtocols bits as the class documents them (0xC0 TLS 1.0,
 * 0x300 TLS 1.1, 0xC00 TLS 1.2, 0x3000 TLS 1.3), and SSLNegotiated* fields.
 */
#include "testutil.h"
#include "tlsparams.h"

static void test_tlsparams_default_is_ecdhe_aead(void **s)
{
    (void)s;
    azr_tls_suites su;
    char err[256];
    assert_int_equal(azr_tls_suites_parse("", &su, err, sizeof err), AZR_OK);
    assert_int_equal(su.n, 6);
    for (size_t i = 0; i < su.n; i++) {
        const char *n = azr_tls_suite_name(su.id[i]);
        assert_non_null(strstr(n, "TLS_ECDHE_"));
        assert_true(strstr(n, "_GCM_") || strstr(n, "CHACHA20_POLY1305"));
    }
    assert_int_equal(su.id[0], 0xC02B); /* RFC 5289: ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
    assert_int_equal(azr_tls_suites_parse("*", &su, err, sizeof err), AZR_OK);
    assert_true(su.n > 20);
}

static void test_tlsparams_names(void **s)
{
    (void)s;
    azr_tls_suites su;
    char err[256];
    assert_int_equal(azr_tls_suites_parse(" tls_ecdhe_rsa_with_chacha20_poly1305_sha256 ;"
                                          "TLS_RSA_WITH_AES_128_GCM_SHA256,"
                                          "TLS_RSA_WITH_AES_128_GCM_SHA256",
                                          &su, err, sizeof err),
                     AZR_OK);
    assert_int_equal(su.n, 2);          /* duplicates once */
    assert_int_equal(su.id[0], 0xCCA8); /* RFC 7905 */
    assert_int_equal(su.id[1], 0x009C); /* RFC 5288 */
    assert_int_equal(azr_tls_suites_parse("TLS_DHE_DSS_WITH_AES_128_CBC_SHA", &su, err, sizeof err),
                     AZR_E_ARG);
    assert_non_null(strstr(err, "'TLS_DHE_DSS_WITH_AES_128_CBC_SHA' is not a cipher suite"));
    assert_int_equal(azr_tls_suites_parse(";;", &su, err, sizeof err), AZR_E_ARG);
    assert_string_equal(azr_tls_suite_name(0x1301), "unknown"); /* a TLS 1.3 suite */
}

static void test_tlsparams_protocol_bits(void **s)
{
    (void)s;
    unsigned lo, hi;
    char err[256];
    assert_int_equal(azr_tls_versions(3072, &lo, &hi, err, sizeof err), AZR_OK);
    assert_int_equal(lo, BR_TLS12);
    assert_int_equal(hi, BR_TLS12);
    assert_int_equal(azr_tls_versions(4032, &lo, &hi, err, sizeof err),
                     AZR_OK); /* class client default */
    assert_int_equal(lo, BR_TLS10);
    assert_int_equal(hi, BR_TLS12);
    assert_int_equal(azr_tls_versions(0x3000 | 0xC00, &lo, &hi, err, sizeof err), AZR_OK);
    assert_int_equal(hi, BR_TLS12);
    assert_int_equal(azr_tls_versions(0x3000, &lo, &hi, err, sizeof err), AZR_E_UNSUPPORTED);
    assert_non_null(strstr(err, "TLS 1.3 is not available"));
    assert_int_equal(azr_tls_versions(0xC0 | 0xC00, &lo, &hi, err, sizeof err), AZR_E_UNSUPPORTED);
    assert_int_equal(azr_tls_versions(0x30, &lo, &hi, err, sizeof err), AZR_E_UNSUPPORTED);
    assert_int_equal(azr_tls_versions(0, &lo, &hi, err, sizeof err), AZR_E_UNSUPPORTED);
    assert_int_equal(azr_tls_versions(0x4000, &lo, &hi, err, sizeof err), AZR_E_ARG);
}

static void test_tlsparams_fields(void **s)
{
    (void)s;
    azr_tls_info i = {BR_TLS12, 0xC030, BR_EC_secp256r1};
    char out[96];
    assert_true(azr_tls_info_field(&i, "Version", 7, out, sizeof out));
    assert_string_equal(out, "TLS1.2");
    assert_true(azr_tls_info_field(&i, "CipherSuite", 11, out, sizeof out));
    assert_string_equal(out, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assert_true(azr_tls_info_field(&i, "cipherstrength", 14, out, sizeof out));
    assert_string_equal(out, "256");
    assert_true(azr_tls_info_field(&i, "KeyExchangeStrength", 19, out, sizeof out));
    assert_string_equal(out, "256");
    assert_false(azr_tls_info_field(&i, "Bogus", 5, out, sizeof out));
    azr_tls_info none = {0, 0, 0};
    assert_true(azr_tls_info_field(&none, "CipherSuite", 11, out, sizeof out));
    assert_string_equal(out, ""); /* not a TLS connection */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlsparams_default_is_ecdhe_aead),
        cmocka_unit_test(test_tlsparams_names),
        cmocka_unit_test(test_tlsparams_protocol_bits),
        cmocka_unit_test(test_tlsparams_fields),
    };
    return cmocka_run_group_tests_name("tlsparams", tests, NULL, NULL);
}
