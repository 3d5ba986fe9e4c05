/*
 * SAS tokens. V1-V5 and N1 are the worked vectors of relay-protocol.md §4.4
 * (computed there with node crypto, openssl and Python, V1/V2/V5 also with
 * Microsoft's hyco-ws). O1/O2 are ours, computed independently with
 *   node -e 'crypto.createHmac("sha256", KEY).update(sr + "\n" + se).digest("base64")'
 *   printf '%s\n%s' "$sr" 1893456000 | openssl dgst -sha256 -hmac "$KEY" -binary | base64
 * (both agree), for an upper-case host, a hierarchical name with a space and
 * a key name with '+'.
 */
#include "testutil.h"
#include "bounds.h"
#include "sas.h"

#define KEY  "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="
#define HOST "myrelay.servicebus.windows.net"
#define SKN  "RootManageSharedAccessKey"

static void token(azr_sas_form form, const char *host, uint16_t port, const char *hc,
                  const char *skn, int64_t se, const char *expect)
{
    azr_sas_params p = {host, port, hc, skn, KEY, se, form};
    char out[AZR_SAS_MAX];
    size_t n;
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_OK);
    assert_string_equal(out, expect);
    assert_int_equal(n, strlen(expect));
}

static void test_sas_v1_http(void **s)
{
    (void)s;
    token(AZR_SAS_HTTP, HOST, 443, "hc1", SKN, 1555368805,
          "SharedAccessSignature sr=http%3A%2F%2Fmyrelay.servicebus.windows.net%2Fhc1"
          "&sig=nnXXHarFTi33u7CXj6Dt5SwsebeVWIvKmIy7BV5F10k%3D&se=1555368805"
          "&skn=RootManageSharedAccessKey");
}

static void test_sas_v2_http_slash(void **s)
{
    (void)s;
    token(AZR_SAS_HTTP_SLASH, HOST, 443, "hc1", SKN, 1555368805,
          "SharedAccessSignature sr=http%3A%2F%2Fmyrelay.servicebus.windows.net%2Fhc1%2F"
          "&sig=vXzj1BLbP7Mc88RdfP1TuE2oQwyDzEUqwdaA9zO0zCI%3D&se=1555368805"
          "&skn=RootManageSharedAccessKey");
}

static void test_sas_v3_sb_lower_default(void **s)
{
    (void)s;
    token(AZR_SAS_SB_LOWER, HOST, 443, "hc1", SKN, 1555368805,
          "SharedAccessSignature sr=sb%3a%2f%2fmyrelay.servicebus.windows.net%2fhc1"
          "&sig=riMD7PbRwev44UFGIzeMKV%2beEtcA9wlWNMbHihoG%2bOY%3d&se=1555368805"
          "&skn=RootManageSharedAccessKey");
    assert_int_equal(AZR_SAS_SB_LOWER, 0); /* the default form is the reference class's */
}

static void test_sas_v4_sb_upper(void **s)
{
    (void)s;
    token(AZR_SAS_SB_UPPER, HOST, 443, "hc1", SKN, 1555368805,
          "SharedAccessSignature sr=sb%3A%2F%2Fmyrelay.servicebus.windows.net%2Fhc1"
          "&sig=lcR9knTFo7eGePXH2aobTyQ1%2F%2FGJf0%2FE%2FHfRAtqKwZY%3D&se=1555368805"
          "&skn=RootManageSharedAccessKey");
}

static void test_sas_v5_http_port(void **s)
{
    (void)s;
    token(AZR_SAS_HTTP_PORT, HOST, 443, "hc1", SKN, 1555368805,
          "SharedAccessSignature sr=http%3A%2F%2Fmyrelay.servicebus.windows.net%3A443%2Fhc1"
          "&sig=ol9ZLjBQAacJy%2Byxe0Q6m85P%2FuBd5ZCkeN0fb32Kf%2FY%3D&se=1555368805"
          "&skn=RootManageSharedAccessKey");
}

/* N1: the signature made with the base64-decoded key must never come out. */
static void test_sas_n1_key_is_text(void **s)
{
    (void)s;
    azr_sas_params p = {HOST, 443, "hc1", SKN, KEY, 1555368805, AZR_SAS_HTTP};
    char out[AZR_SAS_MAX];
    size_t n;
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_OK);
    assert_null(strstr(out, "dcoz"));
}

/* The string to sign of V1, byte for byte (relay-protocol.md §4.4). */
static void test_sas_v1_string_to_sign(void **s)
{
    (void)s;
    uint8_t want[128];
    size_t wn = tu_hex("687474702533412532462532466d7972656c61792e736572766963656275732e77696e64"
                       "6f77732e6e65742532466863310a31353535333638383035",
                       want, sizeof want);
    azr_sas_params p = {HOST, 443, "hc1", SKN, KEY, 1555368805, AZR_SAS_HTTP};
    char out[AZR_SAS_MAX], sts[256];
    size_t n;
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_OK);
    const char *sr = strstr(out, "sr=") + 3;
    size_t srl = (size_t)(strchr(sr, '&') - sr);
    const char *se = strstr(out, "&se=") + 4;
    size_t sel = (size_t)(strchr(se, '&') - se);
    memcpy(sts, sr, srl);
    sts[srl] = '\n';
    memcpy(sts + srl + 1, se, sel);
    assert_int_equal(srl + 1 + sel, wn);
    assert_memory_equal(sts, want, wn);
}

static void test_sas_own_vectors(void **s)
{
    (void)s;
    token(AZR_SAS_SB_LOWER, "GW-Relay.servicebus.windows.net", 443, "site/a b", "Send+Listen",
          1893456000,
          "SharedAccessSignature sr=sb%3a%2f%2fgw-relay.servicebus.windows.net%2fsite%2fa%20b"
          "&sig=krL51eoY6%2bKN59%2bbAnkRvz6AN9nnyMWDjAgL7N09%2bL8%3d&se=1893456000"
          "&skn=Send%2bListen");
    token(AZR_SAS_HTTP_SLASH, "gw-relay.servicebus.windows.net", 443, "site/a b", "Send+Listen",
          1893456000,
          "SharedAccessSignature sr=http%3A%2F%2Fgw-relay.servicebus.windows.net%2Fsite%2Fa%20b%2F"
          "&sig=V9ccI8iPLLYk74Wtyao7zKI6D3SrQV5aYTI%2BskMGs9g%3D&se=1893456000"
          "&skn=Send%2BListen");
}

static void test_sas_resource_forms(void **s)
{
    (void)s;
    static const char *want[] = {"sb://ns.example/a/b", "sb://ns.example/a/b",
                                 "http://ns.example/a/b", "http://ns.example/a/b/",
                                 "http://ns.example:9443/a/b"};
    for (int f = 0; f <= AZR_SAS_FORM_MAX; f++) {
        azr_sas_params p = {"NS.Example", 9443, "a/b", SKN, KEY, 1, (azr_sas_form)f};
        char out[128];
        assert_int_equal(azr_sas_resource(&p, out, sizeof out), AZR_OK);
        assert_string_equal(out, want[f]);
    }
}

static void test_sas_rejects_bad_params(void **s)
{
    (void)s;
    char out[AZR_SAS_MAX], longkey[AZR_KEY_MAX + 2];
    size_t n;
    azr_sas_params ok = {HOST, 443, "hc1", SKN, KEY, 1555368805, AZR_SAS_SB_LOWER};
    azr_sas_params p = ok;
    p.host = "";
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_E_ARG);
    p = ok;
    p.hc = NULL;
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_E_ARG);
    p = ok;
    p.key_name = "";
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_E_ARG);
    p = ok;
    p.key = "";
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_E_ARG);
    p = ok;
    p.expiry = 0;
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_E_ARG);
    p = ok;
    p.form = (azr_sas_form)9;
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_E_ARG);
    p = ok;
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    p.key = longkey;
    assert_int_equal(azr_sas_token(&p, out, sizeof out, &n), AZR_E_LIMIT);
    /* too small an output buffer is an error, never a truncated token */
    assert_int_equal(azr_sas_token(&ok, out, 40, &n), AZR_E_LIMIT);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
}

/* ---------------------------------------------------------------- checking */

static azr_err check(const char *token, int64_t now, const char *host, const char *hc, char *why)
{
    azr_sas_fields f;
    azr_err e = azr_sas_parse(token, strlen(token), &f, why, 128);
    if (e != AZR_OK)
        return e;
    return azr_sas_check(&f, KEY, now, host, hc, why, 128);
}

#define V1_TOKEN                                                                                   \
    "SharedAccessSignature sr=http%3A%2F%2Fmyrelay.servicebus.windows.net%2Fhc1"                   \
    "&sig=nnXXHarFTi33u7CXj6Dt5SwsebeVWIvKmIy7BV5F10k%3D&se=1555368805"                            \
    "&skn=RootManageSharedAccessKey"
#define V3_TOKEN                                                                                   \
    "SharedAccessSignature sr=sb%3a%2f%2fmyrelay.servicebus.windows.net%2fhc1"                     \
    "&sig=riMD7PbRwev44UFGIzeMKV%2beEtcA9wlWNMbHihoG%2bOY%3d&se=1555368805"                        \
    "&skn=RootManageSharedAccessKey"

static void test_sas_check_accepts_vectors(void **s)
{
    (void)s;
    char why[128];
    /* the protocol notes' V1-V4 verify one second before se */
    assert_int_equal(check(V1_TOKEN, 1555368804, HOST, "hc1", why), AZR_OK);
    assert_int_equal(check(V3_TOKEN, 1555368804, HOST, "hc1", why), AZR_OK);
    assert_int_equal(
        check("SharedAccessSignature sr=http%3A%2F%2Fmyrelay.servicebus.windows.net%2Fhc1%2F"
              "&sig=vXzj1BLbP7Mc88RdfP1TuE2oQwyDzEUqwdaA9zO0zCI%3D&se=1555368805"
              "&skn=RootManageSharedAccessKey",
              1555368804, HOST, "hc1", why),
        AZR_OK);
    /* field order is free, names in any case */
    assert_int_equal(check("sharedaccesssignature SIG=nnXXHarFTi33u7CXj6Dt5SwsebeVWIvKmIy7BV5F10k"
                           "%3D&Se=1555368805&SKN=RootManageSharedAccessKey&SR=http%3A%2F%2F"
                           "myrelay.servicebus.windows.net%2Fhc1",
                           1555368804, HOST, "hc1", why),
                     AZR_OK);
    /* a hierarchical name under the audience */
    assert_int_equal(check(V1_TOKEN, 1555368804, HOST, "hc1/sub", why), AZR_OK);
}

static void test_sas_check_refusals(void **s)
{
    (void)s;
    char why[128];
    /* checked in the emulator's order: signature, expiry, audience */
    assert_int_equal(check(V1_TOKEN, 1555368805, HOST, "hc1", why), AZR_E_AUTH);
    assert_string_equal(why, "ExpiredToken: The token is expired.");
    assert_int_equal(check(V1_TOKEN, 1555368804, "other.servicebus.windows.net", "hc1", why),
                     AZR_E_AUTH);
    assert_non_null(strstr(why, "InvalidAudience"));
    assert_int_equal(check(V1_TOKEN, 1555368804, HOST, "hc2", why), AZR_E_AUTH);
    assert_non_null(strstr(why, "InvalidAudience"));
    assert_int_equal(check(V1_TOKEN, 1555368804, HOST, "hc10", why), AZR_E_AUTH);
    /* N1 (signed with the decoded key) and V3 with a raw '+' (decoded as space) */
    assert_int_equal(
        check("SharedAccessSignature sr=http%3A%2F%2Fmyrelay.servicebus.windows.net%2Fhc1"
              "&sig=dcoz%2FRRUIF4w4EfzhVE5rACZg3K4m1Z1rF7YGv4iD70%3D&se=1555368805"
              "&skn=RootManageSharedAccessKey",
              1555368804, HOST, "hc1", why),
        AZR_E_AUTH);
    assert_string_equal(why, "The token has an invalid signature.");
    assert_int_equal(
        check("SharedAccessSignature sr=sb%3a%2f%2fmyrelay.servicebus.windows.net%2fhc1"
              "&sig=riMD7PbRwev44UFGIzeMKV+eEtcA9wlWNMbHihoG+OY%3d&se=1555368805"
              "&skn=RootManageSharedAccessKey",
              1555368804, HOST, "hc1", why),
        AZR_E_AUTH);
    /* malformed */
    static const char *bad[] = {
        "",
        "Bearer abc",
        "SharedAccessSignature",
        "SharedAccessSignature sr=a&sig=b",
        "SharedAccessSignature sr=a&sr=a&sig=b&se=1&skn=c",
        "SharedAccessSignature sr=a&sig=%zz&se=1&skn=c",
        "SharedAccessSignature sr=a&sig=b&se=12x&skn=c",
        "SharedAccessSignature sr&sig=b&se=1&skn=c",
        /* found by fuzz_config_line: a 19+ digit se overflowed int64 */
        "SharedAccessSignature sr=a&sig=nnXXHarFTi33u7CXj6Dt5SwsebeVWIvKmIy7BV5F10k%3D"
        "&se=15553688055553655538805&skn=c",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(check(bad[i], 0, HOST, "hc1", why), AZR_E_AUTH);
}

/* Tokens we make, in every form, pass the checker (and fail with another key). */
static void test_sas_check_roundtrip_all_forms(void **s)
{
    (void)s;
    for (int form = 0; form <= AZR_SAS_FORM_MAX; form++) {
        azr_sas_params p = {HOST, 443, "site/hc1", SKN, KEY, 2000000000, (azr_sas_form)form};
        char tok[AZR_SAS_MAX], why[128];
        size_t n;
        azr_sas_fields f;
        assert_int_equal(azr_sas_token(&p, tok, sizeof tok, &n), AZR_OK);
        assert_int_equal(azr_sas_parse(tok, n, &f, why, sizeof why), AZR_OK);
        assert_string_equal(f.skn, SKN);
        assert_int_equal(azr_sas_check(&f, KEY, 1999999999, HOST, "site/hc1", why, sizeof why),
                         AZR_OK);
        assert_int_equal(
            azr_sas_check(&f, "other-key", 1999999999, HOST, "site/hc1", why, sizeof why),
            AZR_E_AUTH);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sas_v1_http),
        cmocka_unit_test(test_sas_v2_http_slash),
        cmocka_unit_test(test_sas_v3_sb_lower_default),
        cmocka_unit_test(test_sas_v4_sb_upper),
        cmocka_unit_test(test_sas_v5_http_port),
        cmocka_unit_test(test_sas_n1_key_is_text),
        cmocka_unit_test(test_sas_v1_string_to_sign),
        cmocka_unit_test(test_sas_own_vectors),
        cmocka_unit_test(test_sas_resource_forms),
        cmocka_unit_test(test_sas_rejects_bad_params),
        cmocka_unit_test(test_sas_check_accepts_vectors),
        cmocka_unit_test(test_sas_check_refusals),
        cmocka_unit_test(test_sas_check_roundtrip_all_forms),
    };
    return cmocka_run_group_tests_name("sas", tests, NULL, NULL);
}
