/*
 * The configuration vocabulary: names, types, ranges, side effects and
 * error texts, as Config("Name=Value") and the daemon see them.
 */
#include "testutil.h"
#include "config.h"

#define KEY "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="

static azr_err apply(azr_settings *s, const char *stmt, char *err)
{
    tu_guard g;
    size_t len = strlen(stmt);
    const char *p = (const char *)tu_guard_new(&g, stmt, len);
    azr_err e = azr_config_apply(s, p, len, err, AZR_CONF_ERR_MAX);
    tu_guard_free(&g);
    return e;
}

static const char *get(const azr_settings *s, const char *name)
{
    static char out[AZR_SAS_MAX + 1];
    char err[AZR_CONF_ERR_MAX];
    azr_err e = azr_config_get(s, name, strlen(name), 1555365205, out, sizeof out, err, sizeof err);
    if (e != AZR_OK)
        fail_msg("get %s: %s", name, err);
    return out;
}

static void test_config_defaults_match_the_class(void **s)
{
    (void)s;
    azr_settings st;
    azr_settings_init(&st);
    /* seed reference: property and config-setting defaults */
    assert_string_equal(get(&st, "ConnectionBacklog"), "5");
    assert_string_equal(get(&st, "DefaultIdleTimeout"), "0");
    assert_string_equal(get(&st, "DefaultTimeout"), "0");
    assert_string_equal(get(&st, "KeepAlive"), "False");
    assert_string_equal(get(&st, "Linger"), "True");
    assert_string_equal(get(&st, "Listening"), "False");
    assert_string_equal(get(&st, "LocalPort"), "0");
    assert_string_equal(get(&st, "LogLevel"), "1");
    assert_string_equal(get(&st, "TokenValidity"), "3600");
    assert_string_equal(get(&st, "FirewallType"), "0");
    assert_string_equal(get(&st, "TcpNoDelay"), "False");
    assert_string_equal(get(&st, "UseIPv6"), "0");
    assert_string_equal(get(&st, "NamespaceAddress"), "");
    /* ours */
    assert_string_equal(get(&st, "ConnectionTimeout"), "30");
    assert_string_equal(get(&st, "MaxFrameSize"), "16384");
    assert_string_equal(get(&st, "TokenAudience"), "0");
    assert_true(strncmp(get(&st, "UserAgent"), "azrelay/", 8) == 0);
}

static void test_config_every_default_is_valid(void **s)
{
    (void)s;
    /* each default must pass its own checks, or azr_settings_init would skip it */
    for (size_t i = 0; i < azr_config_count; i++) {
        const azr_conf_def *d = &azr_config_table[i];
        azr_settings st;
        char err[AZR_CONF_ERR_MAX];
        azr_settings_init(&st);
        if (d->flags & (AZR_CF_READONLY | AZR_CF_WRITEONLY))
            continue;
        if (azr_config_set(&st, d->name, strlen(d->name), d->dflt, strlen(d->dflt), err,
                           sizeof err) != AZR_OK)
            fail_msg("default of %s refused: %s", d->name, err);
        assert_non_null(d->help);
    }
}

static void test_config_names_case_insensitive(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "localport=5000", err), AZR_OK);
    assert_int_equal(apply(&st, "  LOCALHOST =  127.0.0.1 ", err), AZR_OK);
    assert_string_equal(get(&st, "LocalPort"), "5000");
    assert_string_equal(get(&st, "localhost"), "127.0.0.1");
}

static void test_config_booleans(void **s)
{
    (void)s;
    static const struct {
        const char *v;
        const char *want;
    } v[] = {{"True", "True"}, {"false", "False"}, {"YES", "True"},
             {"no", "False"},  {"1", "True"},      {"0", "False"}};
    azr_settings st;
    char err[AZR_CONF_ERR_MAX], stmt[64];
    azr_settings_init(&st);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        snprintf(stmt, sizeof stmt, "TcpNoDelay=%s", v[i].v);
        assert_int_equal(apply(&st, stmt, err), AZR_OK);
        assert_string_equal(get(&st, "TcpNoDelay"), v[i].want);
    }
    assert_int_equal(apply(&st, "TcpNoDelay=2", err), AZR_E_ARG);
    assert_non_null(strstr(err, "TcpNoDelay: '2' is not a boolean"));
    assert_int_equal(apply(&st, "TcpNoDelay=on", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "TcpNoDelay=", err), AZR_E_ARG);
}

static void test_config_integers_range_checked(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "LocalPort=65535", err), AZR_OK);
    assert_int_equal(apply(&st, "LocalPort=65536", err), AZR_E_ARG);
    assert_string_equal(err, "LocalPort: '65536' is not an integer from 0 to 65535");
    assert_string_equal(get(&st, "LocalPort"), "65535"); /* a refused value changes nothing */
    assert_int_equal(apply(&st, "LocalPort=-1", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "LocalPort=12ab", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "LocalPort=99999999999999999999999", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "LocalPort=0x1F90", err), AZR_OK);
    assert_string_equal(get(&st, "LocalPort"), "8080");
    assert_int_equal(apply(&st, "TokenValidity=0", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "ConnectionBacklog=0", err), AZR_E_ARG);
}

static void test_config_enums_by_number_or_name(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "LogLevel=3", err), AZR_OK);
    assert_string_equal(get(&st, "LogLevel"), "3");
    assert_int_equal(apply(&st, "LogLevel=verbose", err), AZR_OK);
    assert_string_equal(get(&st, "LogLevel"), "2");
    assert_int_equal(apply(&st, "LogLevel=4", err), AZR_E_ARG);
    assert_non_null(strstr(err, "0=None,1=Info,2=Verbose,3=Debug"));
    /* FirewallType is not contiguous: 4 is not a value, 10 is */
    assert_int_equal(apply(&st, "FirewallType=4", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "FirewallType=10", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallType"), "10");
}

static void test_config_side_effects(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    /* FirewallType sets FirewallPort as the class documents */
    assert_int_equal(apply(&st, "FirewallType=1", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallPort"), "80");
    assert_int_equal(apply(&st, "FirewallType=SOCKS5", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallPort"), "1080");
    assert_int_equal(apply(&st, "FirewallPort=3128", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallPort"), "3128");
    /* KeepAliveTime turns TCPKeepAlive on; TCPKeepAlive and KeepAlive are one setting */
    assert_string_equal(get(&st, "TCPKeepAlive"), "False");
    assert_int_equal(apply(&st, "KeepAliveTime=60000", err), AZR_OK);
    assert_string_equal(get(&st, "TCPKeepAlive"), "True");
    assert_string_equal(get(&st, "KeepAlive"), "True");
}

static void test_config_namespace_address_parsed_at_set(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "NamespaceAddress=ws://127.0.0.1:9090", err), AZR_OK);
    assert_string_equal(st.relay.host, "127.0.0.1");
    assert_int_equal(st.relay.port, 9090);
    assert_false(st.relay.tls);
    assert_string_equal(get(&st, "NamespaceAddress"), "ws://127.0.0.1:9090");
    assert_int_equal(apply(&st, "NamespaceAddress=sb://ns/hc1", err), AZR_E_ARG);
    assert_non_null(strstr(err, "HybridConnection"));
    assert_string_equal(st.relay.host, "127.0.0.1"); /* unchanged */
}

static void test_config_unknown_name_suggests(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "NamespaceAdress=x", err), AZR_E_ARG);
    assert_string_equal(err, "unknown setting 'NamespaceAdress'; did you mean NamespaceAddress?");
    assert_int_equal(apply(&st, "localprot=1", err), AZR_E_ARG);
    assert_string_equal(err, "unknown setting 'localprot'; did you mean LocalPort?");
    assert_int_equal(apply(&st, "TokenValidty=1", err), AZR_E_ARG);
    assert_non_null(strstr(err, "did you mean TokenValidity?"));
    assert_int_equal(apply(&st, "Frobnicate=1", err), AZR_E_ARG);
    assert_null(strstr(err, "did you mean"));
    assert_non_null(strstr(err, "--help"));
}

static void test_config_unsupported_names(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX], out[64];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "FollowRedirects=1", err), AZR_E_UNSUPPORTED);
    assert_non_null(strstr(err, "FollowRedirects is a setting of AzureRelayProxy that azrelay "
                                "does not support"));
    assert_int_equal(apply(&st, "proxyserver=10.0.0.1", err), AZR_E_UNSUPPORTED);
    assert_non_null(strstr(err, "FirewallType=1"));
    assert_int_equal(
        azr_config_get(&st, "SSLEnableRenegotiation", 22, 0, out, sizeof out, err, sizeof err),
        AZR_E_UNSUPPORTED);
    assert_non_null(strstr(err, "renegotiation is always refused"));
    /* SSLSecurityFlags: the class's hex bits, the top one included, whatever long's width */
    assert_int_equal(apply(&st, "SSLSecurityFlags=0x80000010", err), AZR_OK);
    assert_int_equal(st.ssl_security_flags, 0x80000010u);
    assert_int_equal(
        azr_config_get(&st, "SSLSecurityFlags", 16, 0, out, sizeof out, err, sizeof err), AZR_OK);
    assert_string_equal(out, "0x80000010");
    assert_int_equal(apply(&st, "SSLSecurityFlags=17", err), AZR_OK);
    assert_int_equal(st.ssl_security_flags, 0x11u);
    assert_int_equal(apply(&st, "SSLSecurityFlags=0x100000000", err), AZR_E_ARG);
    assert_non_null(strstr(err, "not a number from 0 to 0xFFFFFFFF"));
    assert_int_equal(apply(&st, "SSLSecurityFlags=0x", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "SSLSecurityFlags=-1", err), AZR_E_ARG);
    assert_int_equal(st.ssl_security_flags, 0x11u); /* a refused value changes nothing */
    /* every name of the class is either implemented or listed as unsupported */
    for (size_t i = 0; i < azr_config_unsupported_count; i++)
        assert_null(azr_config_find(azr_config_unsupported[i].name,
                                    strlen(azr_config_unsupported[i].name)));
}

static void test_config_readonly_and_writeonly(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX], out[64];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "Listening=True", err), AZR_E_STATE);
    assert_string_equal(err, "Listening is read-only");
    assert_int_equal(apply(&st, "AccessToken=x", err), AZR_E_STATE);
    assert_int_equal(
        azr_config_get(&st, "ConnectionString", 16, 0, out, sizeof out, err, sizeof err),
        AZR_E_STATE);
}

static void test_config_connection_string(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st,
                           "ConnectionString=Endpoint=sb://myrelay.servicebus.windows.net/;"
                           "SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" KEY
                           ";EntityPath=hc1",
                           err),
                     AZR_OK);
    assert_string_equal(get(&st, "AccessKeyName"), "RootManageSharedAccessKey");
    assert_string_equal(get(&st, "AccessKey"), KEY);
    assert_string_equal(get(&st, "HybridConnection"), "hc1");
    assert_string_equal(st.relay.host, "myrelay.servicebus.windows.net");
    assert_int_equal(apply(&st, "ConnectionString=Endpoint=sb://x/;Bogus=1", err), AZR_E_ARG);
    assert_non_null(strstr(err, "unknown key 'Bogus'"));
}

/* AccessToken = V3 of relay-protocol.md §4.4 when now + TokenValidity = 1555368805. */
static void test_config_access_token(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX], out[64];
    azr_settings_init(&st);
    assert_int_equal(azr_config_get(&st, "AccessToken", 11, 0, out, sizeof out, err, sizeof err),
                     AZR_E_STATE);
    assert_string_equal(err, "AccessToken needs NamespaceAddress to be set");
    assert_int_equal(apply(&st, "NamespaceAddress=myrelay.servicebus.windows.net", err), AZR_OK);
    assert_int_equal(apply(&st, "HybridConnection=hc1", err), AZR_OK);
    assert_int_equal(apply(&st, "AccessKeyName=RootManageSharedAccessKey", err), AZR_OK);
    assert_int_equal(apply(&st, "AccessKey=" KEY, err), AZR_OK);
    assert_string_equal(get(&st, "AccessToken"),
                        "SharedAccessSignature sr=sb%3a%2f%2fmyrelay.servicebus.windows.net%2fhc1"
                        "&sig=riMD7PbRwev44UFGIzeMKV%2beEtcA9wlWNMbHihoG%2bOY%3d&se=1555368805"
                        "&skn=RootManageSharedAccessKey");
    assert_int_equal(apply(&st, "TokenAudience=http-slash", err), AZR_OK);
    assert_non_null(strstr(get(&st, "AccessToken"), "vXzj1BLbP7Mc88RdfP1TuE2oQwyDzEUqwdaA9zO0zCI"));
}

static void test_config_other_headers(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "OtherHeaders=X-Site: gw-7\\nX-Trace: on", err), AZR_OK);
    assert_string_equal(st.other_headers, "X-Site: gw-7\r\nX-Trace: on\r\n");
    assert_int_equal(azr_config_set(&st, "OtherHeaders", 12, "A: 1\r\nB: 2\n", 11, err, sizeof err),
                     AZR_OK);
    assert_string_equal(st.other_headers, "A: 1\r\nB: 2\r\n");
    /* header injection and bad names are refused, the old value stays */
    assert_int_equal(azr_config_set(&st, "OtherHeaders", 12, "A: 1\rB: 2", 10, err, sizeof err),
                     AZR_E_ARG);
    assert_non_null(strstr(err, "CR, LF or NUL"));
    assert_int_equal(apply(&st, "OtherHeaders=Bad Name: x", err), AZR_E_ARG);
    assert_non_null(strstr(err, "not an HTTP token"));
    assert_int_equal(apply(&st, "OtherHeaders=novalue", err), AZR_E_ARG);
    assert_string_equal(st.other_headers, "A: 1\r\nB: 2\r\n");
    /* other strings refuse control characters */
    assert_int_equal(azr_config_set(&st, "UserAgent", 9, "a\r\nX-Evil: 1", 13, err, sizeof err),
                     AZR_E_ARG);
}

static void test_config_file_lines(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(azr_config_line(&st, "", 0, err, sizeof err), AZR_OK);
    assert_int_equal(azr_config_line(&st, "   # a comment", 14, err, sizeof err), AZR_OK);
    assert_int_equal(azr_config_line(&st, "LocalPort = 7000\r", 17, err, sizeof err), AZR_OK);
    assert_string_equal(get(&st, "LocalPort"), "7000");
    assert_int_equal(azr_config_line(&st, "LocalPort", 9, err, sizeof err), AZR_E_ARG);
    assert_string_equal(err, "'LocalPort' has no value: write LocalPort=VALUE");
    static char big[AZR_CONF_LINE_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    assert_int_equal(azr_config_line(&st, big, sizeof big - 1, err, sizeof err), AZR_E_LIMIT);
}

static void test_config_string_bounds(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    static char v[AZR_KEY_MAX + 2];
    azr_settings_init(&st);
    memset(v, 'k', AZR_KEY_MAX);
    assert_int_equal(azr_config_set(&st, "AccessKey", 9, v, AZR_KEY_MAX, err, sizeof err), AZR_OK);
    assert_int_equal(azr_config_set(&st, "AccessKey", 9, v, AZR_KEY_MAX + 1, err, sizeof err),
                     AZR_E_LIMIT);
    assert_string_equal(err, "AccessKey: value longer than 256 characters");
    azr_settings_wipe(&st);
    assert_string_equal(st.access_key, "");
}

static void test_config_number_parsers(void **s)
{
    (void)s;
    long x;
    bool b;
    assert_int_equal(azr_config_parse_long("9223372036854775807", 19, &x), AZR_OK);
    assert_true(x == LONG_MAX);
    assert_int_equal(azr_config_parse_long("9223372036854775808", 19, &x), AZR_E_LIMIT);
    assert_int_equal(azr_config_parse_long("-9223372036854775808", 20, &x), AZR_OK);
    assert_true(x == LONG_MIN);
    assert_int_equal(azr_config_parse_long("-", 1, &x), AZR_E_ARG);
    assert_int_equal(azr_config_parse_long("0x", 2, &x), AZR_E_ARG);
    assert_int_equal(azr_config_parse_long("", 0, &x), AZR_E_ARG);
    assert_int_equal(azr_config_parse_long("0xfF", 4, &x), AZR_OK);
    assert_int_equal(x, 255);
    assert_int_equal(azr_config_parse_bool("TRUE", 4, &b), AZR_OK);
    assert_true(b);
    assert_int_equal(azr_config_parse_bool("tru", 3, &b), AZR_E_ARG);
}

/* The README's settings table names every setting of the table. */
static void test_config_readme_lists_every_setting(void **s)
{
    (void)s;
    FILE *f = fopen("../README.md", "r");
    assert_non_null(f);
    static char text[200000];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    for (size_t i = 0; i < azr_config_count; i++) {
        char want[80];
        snprintf(want, sizeof want, "| `%s`", azr_config_table[i].name);
        if (!strstr(text, want))
            fail_msg("README.md settings table lacks %s", azr_config_table[i].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_match_the_class),
        cmocka_unit_test(test_config_every_default_is_valid),
        cmocka_unit_test(test_config_names_case_insensitive),
        cmocka_unit_test(test_config_booleans),
        cmocka_unit_test(test_config_integers_range_checked),
        cmocka_unit_test(test_config_enums_by_number_or_name),
        cmocka_unit_test(test_config_side_effects),
        cmocka_unit_test(test_config_namespace_address_parsed_at_set),
        cmocka_unit_test(test_config_unknown_name_suggests),
        cmocka_unit_test(test_config_unsupported_names),
        cmocka_unit_test(test_config_readonly_and_writeonly),
        cmocka_unit_test(test_config_connection_string),
        cmocka_unit_test(test_config_access_token),
        cmocka_unit_test(test_config_other_headers),
        cmocka_unit_test(test_config_file_lines),
        cmocka_unit_test(test_config_string_bounds),
        cmocka_unit_test(test_config_number_parsers),
        cmocka_unit_test(test_config_readme_lists_every_setting),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
