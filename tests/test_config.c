/*
 * The configuration vocabulary: names, types, ranges, side effects and
 * error texts, as Config("Name=Value") and the daemon see them.
 */
#include "testutil.h"

#include <ctype.h>
#include "config.h"
#include "proxyroute.h"

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
    assert_int_equal(apply(&st, "useproxyautoconfigurl=True", err), AZR_E_UNSUPPORTED);
    assert_non_null(strstr(err, "HTTP client setting"));
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

/* StatusSocket: an absolute path within sun_path; MetricsAddress: HOST:PORT. */
static void test_config_status_and_metrics_addresses(void **s)
{
    (void)s;
    static azr_settings st;
    char err[AZR_CONF_ERR_MAX], host[AZR_HOSTPORT_MAX + 1];
    uint16_t port;
    azr_settings_init(&st);
    assert_string_equal(st.status_socket, "");
    assert_string_equal(st.metrics_address, "");
    assert_int_equal(apply(&st, "StatusSocket=/run/azrelay/status", err), AZR_OK);
    assert_string_equal(st.status_socket, "/run/azrelay/status");
    assert_int_equal(apply(&st, "StatusSocket=run/status", err), AZR_E_ARG);
    assert_string_equal(err, "StatusSocket: 'run/status' is not an absolute path");
    static char path[200] = "StatusSocket=/";
    memset(path + 14, 'p', 107);
    assert_int_equal(apply(&st, path, err), AZR_E_LIMIT); /* 108 bytes: no room for the NUL */
    path[14 + 106] = '\0';
    assert_int_equal(apply(&st, path, err), AZR_OK);
    assert_int_equal(apply(&st, "StatusSocket=", err), AZR_OK); /* off again */
    static const struct {
        const char *v, *host;
        int port;
    } good[] = {{"127.0.0.1:9464", "127.0.0.1", 9464},
                {"[::1]:9464", "::1", 9464},
                {"localhost:0", "localhost", 0},
                {"[fd00::8]:65535", "fd00::8", 65535},
                {"gw-1.example.internal:80", "gw-1.example.internal", 80}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char stmt[128];
        snprintf(stmt, sizeof stmt, "MetricsAddress=%s", good[i].v);
        if (apply(&st, stmt, err) != AZR_OK)
            fail_msg("%s: %s", stmt, err);
        assert_int_equal(azr_config_hostport(good[i].v, strlen(good[i].v), host, sizeof host, &port,
                                             err, sizeof err),
                         AZR_OK);
        assert_string_equal(host, good[i].host);
        assert_int_equal(port, good[i].port);
    }
    static const char *const bad[] = {"127.0.0.1",  "127.0.0.1:",    "127.0.0.1:65536", "::1:9464",
                                      "[::1]",      "[127.0.0.1]:1", ":9464",           "a b:1",
                                      "http://h:1", "127.0.0.1:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char stmt[128];
        snprintf(stmt, sizeof stmt, "MetricsAddress=%s", bad[i]);
        if (apply(&st, stmt, err) != AZR_E_ARG)
            fail_msg("%s was taken", stmt);
        assert_non_null(strstr(err, "MetricsAddress: '"));
    }
    assert_string_equal(st.metrics_address, "gw-1.example.internal:80"); /* the last good one */
    azr_settings_wipe(&st);
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

static void test_config_proxy_settings_defaults(void **s)
{
    (void)s;
    azr_settings st;
    azr_settings_init(&st);
    assert_string_equal(get(&st, "ProxyServer"), "");
    assert_string_equal(get(&st, "ProxyPort"), "80"); /* the class: "default 80" */
    assert_string_equal(get(&st, "ProxyUser"), "");
    assert_string_equal(get(&st, "ProxyPassword"), "");
    assert_string_equal(get(&st, "ProxyAuthScheme"), "99"); /* Auto */
    assert_string_equal(get(&st, "ProxyAuthorization"), "");
    assert_string_equal(get(&st, "ProxyExceptionsList"), "");
    assert_string_equal(get(&st, "FirewallAutoDetect"), "False"); /* the class's default */
    assert_string_equal(get(&st, "FirewallData"), "");
    assert_string_equal(get(&st, "FirewallPort"), "0");
    assert_string_equal(get(&st, "MaxTransferRate"), "0");
    assert_string_equal(get(&st, "MaxTransferRateIn"), "0");
    assert_string_equal(get(&st, "PortName"), "");
    assert_false(st.proxy_port_set); /* the default is not a given port */
    assert_false(st.firewall_port_set);
    /* the secrets are flagged: --help shows no value, logs never show them */
    static const char *const secret[] = {"ProxyPassword", "ProxyAuthorization", "FirewallData",
                                         "FirewallPassword"};
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        assert_true(azr_config_find(secret[i], strlen(secret[i]))->flags & AZR_CF_SECRET);
    /* the class's names are the class's, the rest are flagged as ours */
    assert_false(azr_config_find("MaxTransferRate", 15)->flags & AZR_CF_OURS);
    assert_true(azr_config_find("MaxTransferRateIn", 17)->flags & AZR_CF_OURS);
    assert_true(azr_config_find("PortName", 8)->flags & AZR_CF_OURS);
}

/* Issue 11: FirewallType overwrote a FirewallPort given before it. */
static void test_config_firewall_port_survives_firewall_type(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    /* port first, type second */
    assert_int_equal(apply(&st, "FirewallPort=3128", err), AZR_OK);
    assert_int_equal(apply(&st, "FirewallType=1", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallPort"), "3128");
    assert_int_equal(apply(&st, "FirewallType=SOCKS5", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallPort"), "3128");
    assert_true(st.firewall_port_set);
    /* type first, port second */
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "FirewallType=1", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallPort"), "80");
    assert_false(st.firewall_port_set); /* shown, not given */
    assert_int_equal(apply(&st, "FirewallPort=8080", err), AZR_OK);
    assert_int_equal(apply(&st, "FirewallType=10", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallPort"), "8080");
    /* FirewallPort=0 takes the given port back: the type's default shows again */
    assert_int_equal(apply(&st, "FirewallPort=0", err), AZR_OK);
    assert_false(st.firewall_port_set);
    assert_string_equal(get(&st, "FirewallPort"), "1080");
    assert_int_equal(apply(&st, "FirewallType=Tunnel", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallPort"), "80");
    /* ProxyPort: given or not, whatever its value */
    assert_int_equal(apply(&st, "ProxyPort=80", err), AZR_OK);
    assert_true(st.proxy_port_set);
    azr_settings_init(&st); /* Reset() */
    assert_false(st.proxy_port_set);
}

static void test_config_proxy_ranges_and_enums(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "ProxyPort=0", err), AZR_E_ARG);
    assert_string_equal(err, "ProxyPort: '0' is not an integer from 1 to 65535");
    assert_int_equal(apply(&st, "ProxyPort=65536", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "ProxyPort=3128", err), AZR_OK);
    assert_string_equal(get(&st, "ProxyPort"), "3128");
    /* ProxyAuthScheme by name (any case) or by the class's number; 2 (Proprietary) and
     * 6 are not values here */
    static const struct {
        const char *v, *want;
    } sch[] = {{"Basic", "0"}, {"digest", "1"}, {"NONE", "3"},      {"ntlm", "4"},
               {"4", "4"},     {"auto", "99"},  {"Negotiate", "5"}, {"0", "0"}};
    char stmt[64];
    for (size_t i = 0; i < sizeof sch / sizeof sch[0]; i++) {
        snprintf(stmt, sizeof stmt, "ProxyAuthScheme=%s", sch[i].v);
        assert_int_equal(apply(&st, stmt, err), AZR_OK);
        assert_string_equal(get(&st, "ProxyAuthScheme"), sch[i].want);
    }
    assert_int_equal(apply(&st, "ProxyAuthScheme=2", err), AZR_E_ARG);
    assert_non_null(strstr(err, "0=Basic,1=Digest,3=None,4=NTLM,5=Negotiate,99=Auto"));
    assert_int_equal(apply(&st, "ProxyAuthScheme=Kerberos", err), AZR_E_ARG);
    assert_string_equal(get(&st, "ProxyAuthScheme"), "0");
    assert_int_equal(apply(&st, "FirewallAutoDetect=yes", err), AZR_OK);
    assert_string_equal(get(&st, "FirewallAutoDetect"), "True");
    assert_int_equal(apply(&st, "FirewallAutoDetect=maybe", err), AZR_E_ARG);
    /* rates: bytes per second, 0 for no limit, a 32-bit long's range */
    assert_int_equal(apply(&st, "MaxTransferRate=65536", err), AZR_OK);
    assert_string_equal(get(&st, "MaxTransferRate"), "65536");
    assert_int_equal(apply(&st, "MaxTransferRate=-1", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "MaxTransferRate=2147483648", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "MaxTransferRateIn=2147483647", err), AZR_OK);
    assert_string_equal(get(&st, "MaxTransferRateIn"), "2147483647");
    assert_int_equal(apply(&st, "MaxTransferRateIn=1x", err), AZR_E_ARG);
    /* ProxyRoute is read only */
    assert_int_equal(apply(&st, "ProxyRoute=direct", err), AZR_E_STATE);
}

static void test_config_proxy_server_is_a_host(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    static const char *const good[] = {"proxy.corp.example", "10.0.0.1", "::1", "[fd00::8]",
                                       "squid_1"};
    char stmt[128];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(stmt, sizeof stmt, "ProxyServer=%s", good[i]);
        if (apply(&st, stmt, err) != AZR_OK)
            fail_msg("%s refused: %s", stmt, err);
        assert_string_equal(get(&st, "ProxyServer"), good[i]);
    }
    static const char *const bad[] = {"http://proxy.corp:3128", "proxy.corp:3128", "proxy corp",
                                      "proxy/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(stmt, sizeof stmt, "ProxyServer=%s", bad[i]);
        assert_int_equal(apply(&st, stmt, err), AZR_E_ARG);
        assert_non_null(strstr(err, "the port goes in ProxyPort"));
    }
    assert_string_equal(get(&st, "ProxyServer"), "squid_1"); /* refusals change nothing */
}

static void test_config_proxy_exceptions_checked_when_set(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    const char *ok = "ProxyExceptionsList=www.nsoftware.com; *.servicebus.windows.net;"
                     ".corp.example;10.0.0.0/8;192.168.1.7;fd00::/8;[::1];*;;";
    assert_int_equal(apply(&st, ok, err), AZR_OK);
    static const struct {
        const char *v, *why;
    } bad[] = {
        {"ns.example:443", "a port"},
        {"10.0.0.0/33", "0 to 32 (IPv4) or 0 to 128 (IPv6)"},
        {"fd00::/129", "0 to 32 (IPv4) or 0 to 128 (IPv6)"},
        {"10.0.0.0/", "0 to 32"},
        {"ex*mple.com", "'*' stands alone"},
        {"*example.com", "'*' stands alone"},
        {"a.example b.example", "a blank inside"},
        {"a.example,b.example", "not a host name character"},
        {"host/8", "'/' belongs after an IPv4 or IPv6 address"},
        {"*.", "no name"},
    };
    char stmt[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(stmt, sizeof stmt, "ProxyExceptionsList=good.example;%s", bad[i].v);
        assert_int_equal(apply(&st, stmt, err), AZR_E_ARG);
        if (!strstr(err, bad[i].why) || !strstr(err, "ProxyExceptionsList: entry '"))
            fail_msg("%s: '%s' does not say '%s'", bad[i].v, err, bad[i].why);
    }
    assert_non_null(strstr(get(&st, "ProxyExceptionsList"), "www.nsoftware.com"));
}

static void test_config_firewall_data_lines(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "FirewallData=X-Gateway: gw-7\\nX-Token: a\tb", err), AZR_OK);
    assert_string_equal(st.firewall_data, "X-Gateway: gw-7\r\nX-Token: a\tb\r\n");
    assert_int_equal(azr_config_set(&st, "FirewallData", 12, "A: 1\r\nB: 2\n", 11, err, sizeof err),
                     AZR_OK);
    assert_string_equal(st.firewall_data, "A: 1\r\nB: 2\r\n");
    /* injection, control characters and bad names are refused, the old value stays */
    assert_int_equal(azr_config_set(&st, "FirewallData", 12, "A: 1\rB: 2", 10, err, sizeof err),
                     AZR_E_ARG);
    assert_non_null(strstr(err, "FirewallData line 1: CR, LF or NUL"));
    assert_int_equal(azr_config_set(&st, "FirewallData", 12, "A: 1\x1b[0m", 9, err, sizeof err),
                     AZR_E_ARG);
    assert_non_null(strstr(err, "FirewallData line 1: a control character"));
    assert_int_equal(apply(&st, "FirewallData=Bad Name: x", err), AZR_E_ARG);
    assert_non_null(strstr(err, "FirewallData line 1: header name is not an HTTP token"));
    assert_int_equal(apply(&st, "FirewallData=A: 1\\nnovalue", err), AZR_E_ARG);
    assert_non_null(strstr(err, "FirewallData line 2: expected 'Name: value'"));
    assert_string_equal(st.firewall_data, "A: 1\r\nB: 2\r\n");
    /* bounded: 1024 bytes as stored (CRLF lines) */
    static char v[AZR_PROXY_DATA_MAX + 1];
    memset(v, 'v', sizeof v);
    memcpy(v, "X-Pad: ", 7);
    assert_int_equal(
        azr_config_set(&st, "FirewallData", 12, v, AZR_PROXY_DATA_MAX - 2, err, sizeof err),
        AZR_OK);
    assert_int_equal(strlen(st.firewall_data), AZR_PROXY_DATA_MAX);
    assert_int_equal(
        azr_config_set(&st, "FirewallData", 12, v, AZR_PROXY_DATA_MAX - 1, err, sizeof err),
        AZR_E_LIMIT);
    assert_string_equal(err, "FirewallData longer than 1024 bytes");
    assert_int_equal(azr_config_set(&st, "FirewallData", 12, v, sizeof v, err, sizeof err),
                     AZR_E_LIMIT);
    /* OtherHeaders keeps its own name in its messages */
    assert_int_equal(apply(&st, "OtherHeaders=novalue", err), AZR_E_ARG);
    assert_non_null(strstr(err, "OtherHeaders line 1"));
}

static void test_config_proxy_authorization_and_port_name_text(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "ProxyAuthorization=Basic Z3c6czNjcmV0", err), AZR_OK);
    assert_int_equal(azr_config_set(&st, "ProxyAuthorization", 18, "Bearer\tx", 8, err, sizeof err),
                     AZR_OK);
    assert_int_equal(
        azr_config_set(&st, "ProxyAuthorization", 18, "Basic\x01x", 7, err, sizeof err), AZR_E_ARG);
    assert_string_equal(err, "ProxyAuthorization: a control character at byte 6");
    assert_int_equal(
        azr_config_set(&st, "ProxyAuthorization", 18, "Basic x\r\nX-Evil: 1", 19, err, sizeof err),
        AZR_E_ARG);
    assert_string_equal(st.proxy_authorization, "Bearer\tx");
    /* PortName: UTF-8, printable, at most 255 bytes */
    assert_int_equal(apply(&st, "PortName=rdp-3389", err), AZR_OK);
    assert_int_equal(apply(&st, "PortName=\xd0\xbf\xd0\xbe\xd1\x80\xd1\x82", err), AZR_OK);
    assert_string_equal(get(&st, "PortName"), "\xd0\xbf\xd0\xbe\xd1\x80\xd1\x82");
    assert_int_equal(apply(&st, "PortName=\xc3\x28", err), AZR_E_ARG); /* bad continuation */
    assert_string_equal(err, "PortName: not valid UTF-8");
    assert_int_equal(apply(&st, "PortName=\xed\xa0\x80", err), AZR_E_ARG); /* a surrogate */
    assert_int_equal(apply(&st, "PortName=a\x1b", err), AZR_E_ARG);
    assert_int_equal(apply(&st, "PortName=a\xc2\x85", err), AZR_E_ARG); /* NEL, a C1 control */
    assert_non_null(strstr(err, "control character"));
    assert_int_equal(apply(&st, "PortName=a\tb", err), AZR_E_ARG);
    static char v[AZR_PORTNAME_MAX + 2];
    memset(v, 'p', sizeof v);
    assert_int_equal(azr_config_set(&st, "PortName", 8, v, AZR_PORTNAME_MAX, err, sizeof err),
                     AZR_OK);
    assert_int_equal(azr_config_set(&st, "PortName", 8, v, AZR_PORTNAME_MAX + 1, err, sizeof err),
                     AZR_E_LIMIT);
    assert_int_equal(strlen(st.port_name), AZR_PORTNAME_MAX);
}

static void test_config_proxy_secrets_wiped(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "ProxyPassword=s3cret", err), AZR_OK);
    assert_int_equal(apply(&st, "FirewallPassword=s3cret", err), AZR_OK);
    assert_int_equal(apply(&st, "ProxyAuthorization=Basic Z3c6czNjcmV0", err), AZR_OK);
    assert_int_equal(apply(&st, "FirewallData=X-Token: t0ken", err), AZR_OK);
    azr_settings_wipe(&st);
    static const uint8_t zero[AZR_PROXY_AUTHZ_MAX + 1];
    assert_memory_equal(st.proxy_password, zero, sizeof st.proxy_password);
    assert_memory_equal(st.firewall_password, zero, sizeof st.firewall_password);
    assert_memory_equal(st.proxy_authorization, zero, sizeof st.proxy_authorization);
    assert_memory_equal(st.firewall_data, zero, sizeof st.firewall_data);
}

/* ProxyServer and FirewallHost are one setting: different hosts are refused
 * (at StartListening, which computes the route; ProxyRoute computes it too). */
static void test_config_proxy_server_conflicts_refused(void **s)
{
    (void)s;
    azr_settings st;
    char err[AZR_CONF_ERR_MAX], out[AZR_ROUTE_SOURCE_MAX];
    azr_settings_init(&st);
    assert_int_equal(apply(&st, "NamespaceAddress=ns.servicebus.windows.net", err), AZR_OK);
    assert_string_equal(get(&st, "ProxyRoute"), "direct (no proxy is set; FirewallAutoDetect is "
                                                "False)");
    assert_int_equal(apply(&st, "ProxyServer=proxy.corp", err), AZR_OK);
    assert_int_equal(apply(&st, "FirewallType=1", err), AZR_OK);
    assert_int_equal(apply(&st, "FirewallHost=other.corp", err), AZR_OK);
    assert_int_equal(azr_config_get(&st, "ProxyRoute", 10, 0, out, sizeof out, err, sizeof err),
                     AZR_E_ARG);
    assert_string_equal(err, "ProxyServer (proxy.corp) and FirewallHost (other.corp) name "
                             "different proxies: they are one setting for an HTTP CONNECT "
                             "proxy; set one of them");
    /* the same host (any case, with or without brackets) is no conflict */
    assert_int_equal(apply(&st, "FirewallHost=PROXY.corp", err), AZR_OK);
    assert_string_equal(get(&st, "ProxyRoute"),
                        "HTTP CONNECT proxy.corp:80 (ProxyServer, default port)");
    /* ports: an explicit FirewallPort and an explicit ProxyPort must agree */
    assert_int_equal(apply(&st, "FirewallPort=3128", err), AZR_OK);
    assert_int_equal(apply(&st, "ProxyPort=8080", err), AZR_OK);
    assert_int_equal(azr_config_get(&st, "ProxyRoute", 10, 0, out, sizeof out, err, sizeof err),
                     AZR_E_ARG);
    assert_non_null(strstr(err, "ProxyPort (8080) and FirewallPort (3128) differ"));
    /* a SOCKS FirewallType beside ProxyServer */
    assert_int_equal(apply(&st, "ProxyPort=3128", err), AZR_OK);
    assert_int_equal(apply(&st, "FirewallType=SOCKS5", err), AZR_OK);
    assert_int_equal(azr_config_get(&st, "ProxyRoute", 10, 0, out, sizeof out, err, sizeof err),
                     AZR_E_ARG);
    assert_non_null(strstr(err, "ProxyServer is a setting of the HTTP CONNECT proxy, but "
                                "FirewallType is 3 (SOCKS5)"));
}

/* A whole file from the source tree (tests run in tests/), NUL-terminated. */
static size_t read_tree_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    if (n == cap - 1 && fgetc(f) != EOF)
        fail_msg("%s is larger than this test's %zu-byte buffer", path, cap - 1);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/*
 * The man pages in dist/man/ are what tools/mangen.c makes of the current
 * table and templates (byte for byte), so a setting added, renamed or
 * re-documented without ./build.sh man fails here. And, whatever the
 * generator does, the committed azrelay.conf.5 has an entry for every
 * setting of the table.
 */
static void test_config_man_pages_match_the_table(void **s)
{
    (void)s;
    const char *bin =
        getenv("AZR_MANGEN_BIN") ? getenv("AZR_MANGEN_BIN") : "../build/azrelay-mangen";
    static const char *const pages[] = {"azrelay-proxy.8", "azrelay.conf.5"};
    static char want[400000], have[400000];
    for (size_t p = 0; p < sizeof pages / sizeof pages[0]; p++) {
        char cmd[1024], path[256];
        snprintf(cmd, sizeof cmd, "'%s' ../tools/man/%s.in", bin, pages[p]);
        FILE *g = popen(cmd, "r");
        assert_non_null(g);
        size_t wn = fread(want, 1, sizeof want - 1, g);
        want[wn] = '\0';
        int st = pclose(g);
        if (st != 0)
            fail_msg("%s failed (status %d): build it with ./build.sh test or ./build.sh man", cmd,
                     st);
        snprintf(path, sizeof path, "../dist/man/%s", pages[p]);
        size_t hn = read_tree_file(path, have, sizeof have);
        if (hn != wn || memcmp(have, want, wn) != 0) {
            size_t i = 0, line = 1, bol = 0;
            while (i < hn && i < wn && have[i] == want[i]) {
                if (have[i] == '\n') {
                    line++;
                    bol = i + 1;
                }
                i++;
            }
            int hl = (int)strcspn(have + bol, "\n"), wl = (int)strcspn(want + bol, "\n");
            fail_msg("dist/man/%s differs from what the table and tools/man/%s.in make, from "
                     "line %zu:\n  committed: %.*s\n  generated: %.*s\nrun ./build.sh man "
                     "and commit dist/man/",
                     pages[p], pages[p], line, hl, have + bol, wl, want + bol);
        }
    }
    read_tree_file("../dist/man/azrelay.conf.5", have, sizeof have);
    for (size_t i = 0; i < azr_config_count; i++) {
        char tag[96];
        snprintf(tag, sizeof tag, ".TP\n\\fB%s\\fR", azr_config_table[i].name);
        if (!strstr(have, tag))
            fail_msg("dist/man/azrelay.conf.5 has no entry for %s", azr_config_table[i].name);
    }
}

/*
 * Settings dist/azrelay.conf.example leaves to azrelay.conf(5). Every other
 * writable setting of the table must appear in it, set or shown at its
 * default ("#Name=Value"), so a new setting is a decision: the example, or
 * this list.
 */
static const char *const example_leaves_out[] = {
    "TokenAudience",       "TokenLocation",
    "AbsoluteTimeout",     "Linger",
    "FirewallUser",        "FirewallPassword",
    "FirewallData",        "ProxyAuthScheme",
    "ProxyAuthorization",  "TCPKeepAlive",
    "KeepAliveTime",       "KeepAliveInterval",
    "KeepAliveRetryCount", "LingerTime",
    "InBufferSize",        "OutBufferSize",
    "SSLOutBufferSize",    "UserAgent",
    "OtherHeaders",        "MaxFrameSize",
    "SSLServerCACerts",    "SSLStartMode",
    "SSLCertStoreType",    "SSLCertStorePassword",
    "SSLCertSubject",      "SSLEnabledCipherSuites",
    "SSLEnabledProtocols", "SSLSecurityFlags",
    "ReuseSSLSession",     "SSLAuthenticateClients",
    "SSLClientCACerts",    "SSLKeyLogFile",
    "EventLoop",           "StrictUTF8",
};

typedef struct example_fwd {
    char name[64];
    char addr[AZR_HOST_MAX + 16];
} example_fwd;

/* A forward of the example is complete: the relay, the hybrid connection, a
 * fixed port, and a LocalHost:LocalPort no other forward has. */
static void example_forward_done(const azr_settings *f, example_fwd *fw, size_t n)
{
    if (!f->namespace_address[0] || !f->hybrid_connection[0] || !f->local_port)
        fail_msg("example: [forward %s] lacks NamespaceAddress, HybridConnection or LocalPort",
                 fw[n].name);
    snprintf(fw[n].addr, sizeof fw[n].addr, "%s:%ld", f->local_host, f->local_port);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(fw[i].addr, fw[n].addr))
            fail_msg("example: [forward %s] and [forward %s] both listen on %s", fw[i].name,
                     fw[n].name, fw[n].addr);
}

/*
 * dist/azrelay.conf.example parses as settings: the top level's Name=Value
 * lines apply (azr_config_apply) to the defaults, each [forward NAME]
 * section's to a copy of them; a name appears once per section, spelt as the
 * table spells it; each "#Name=Value" line names a setting and shows its
 * default exactly; there are at least two forwards, on distinct addresses.
 */
static void test_config_example_file_parses(void **s)
{
    (void)s;
    static char text[65536], err[AZR_CONF_ERR_MAX];
    static azr_settings base, fwd, scratch;
    static bool mentioned[512], seen[512];
    static example_fwd fw[16];
    size_t nfwd = 0;
    bool in_fwd = false;
    assert_true(azr_config_count <= 512);
    read_tree_file("../dist/azrelay.conf.example", text, sizeof text);
    azr_settings_init(&base);
    unsigned long lineno = 0;
    for (char *ln = text, *next; ln && *ln; ln = next) {
        lineno++;
        next = strchr(ln, '\n');
        size_t len = next ? (size_t)(next - ln) : strlen(ln);
        if (next)
            next++;
        const char *p = ln;
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
            len--;
        if (!len)
            continue;
        if (*p == '[') {
            /* "[forward NAME]": the header itself is no setting */
            if (len < 11 || memcmp(p, "[forward ", 9) != 0 || p[len - 1] != ']')
                fail_msg("example:%lu: a section is [forward NAME]: %.*s", lineno, (int)len, p);
            if (in_fwd)
                example_forward_done(&fwd, fw, nfwd++);
            assert_true(nfwd < sizeof fw / sizeof fw[0]);
            snprintf(fw[nfwd].name, sizeof fw[nfwd].name, "%.*s", (int)(len - 10), p + 9);
            for (size_t i = 0; i < nfwd; i++)
                if (!strcmp(fw[i].name, fw[nfwd].name))
                    fail_msg("example:%lu: a second [forward %s]", lineno, fw[i].name);
            fwd = base;
            in_fwd = true;
            memset(seen, 0, sizeof seen);
            continue;
        }
        bool shown = *p == '#';
        if (shown) {
            /* "#Name=Value" shows a default; "# text" and "#" are prose */
            size_t n = 1;
            while (n < len && isalnum((unsigned char)p[n]))
                n++;
            if (n == 1 || n == len || p[n] != '=')
                continue;
            p++, len--;
        }
        const char *eq = memchr(p, '=', len);
        if (!eq)
            fail_msg("example:%lu: neither a comment, a section nor Name=Value: %.*s", lineno,
                     (int)len, p);
        size_t nl = (size_t)(eq - p);
        while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
            nl--;
        const azr_conf_def *d = azr_config_find(p, nl);
        if (!d)
            fail_msg("example:%lu: %.*s is not a setting", lineno, (int)nl, p);
        if (strlen(d->name) != nl || memcmp(d->name, p, nl) != 0)
            fail_msg("example:%lu: write %.*s as the table spells it, %s", lineno, (int)nl, p,
                     d->name);
        size_t idx = (size_t)(d - azr_config_table);
        mentioned[idx] = true;
        if (shown) {
            const char *v = eq + 1;
            size_t vl = len - (size_t)(v - p);
            if (vl != strlen(d->dflt) || memcmp(v, d->dflt, vl) != 0)
                fail_msg("example:%lu: #%s=%.*s: the default is '%s'", lineno, d->name, (int)vl, v,
                         d->dflt);
            /* an empty default means "not set" (ConnectionString= is no connection string) */
            azr_settings_init(&scratch);
            if (vl && azr_config_apply(&scratch, p, len, err, sizeof err) != AZR_OK)
                fail_msg("example:%lu: #%.*s: %s", lineno, (int)len, p, err);
            continue;
        }
        if (seen[idx])
            fail_msg("example:%lu: %s appears twice in one section", lineno, d->name);
        seen[idx] = true;
        if (azr_config_apply(in_fwd ? &fwd : &base, p, len, err, sizeof err) != AZR_OK)
            fail_msg("example:%lu: %.*s: %s", lineno, (int)len, p, err);
    }
    if (in_fwd)
        example_forward_done(&fwd, fw, nfwd++);
    if (nfwd < 2)
        fail_msg("example: %zu [forward NAME] sections; it shows two", nfwd);

    size_t nleft = sizeof example_leaves_out / sizeof example_leaves_out[0];
    for (size_t k = 0; k < nleft; k++) {
        const azr_conf_def *d =
            azr_config_find(example_leaves_out[k], strlen(example_leaves_out[k]));
        if (!d)
            fail_msg("example_leaves_out names %s, which the table lacks", example_leaves_out[k]);
        if (mentioned[d - azr_config_table])
            fail_msg("%s is in the example and in example_leaves_out", d->name);
    }
    for (size_t i = 0; i < azr_config_count; i++) {
        const azr_conf_def *d = &azr_config_table[i];
        bool left = false;
        for (size_t k = 0; k < nleft; k++)
            left = left || !strcmp(example_leaves_out[k], d->name);
        if (!mentioned[i] && !left && !(d->flags & AZR_CF_READONLY))
            fail_msg("dist/azrelay.conf.example neither sets nor shows %s: add '#%s=%s' under "
                     "a line saying what it does, or name it in example_leaves_out",
                     d->name, d->name, d->dflt);
    }
    azr_settings_wipe(&base);
    azr_settings_wipe(&fwd);
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

/* azr_config_diff: what a daemon reload compares. Values, not statements:
 * the same value written another way is no change; a leftover of a longer
 * earlier string is not one either; names only, secrets never written. */
static void test_config_diff_names_what_differs(void **s)
{
    (void)s;
    static azr_settings a, b;
    char err[AZR_CONF_ERR_MAX], out[256];
    azr_settings_init(&a);
    azr_settings_init(&b);
    assert_int_equal(azr_config_diff(&a, &b, out, sizeof out), 0);
    assert_string_equal(out, "");
    /* LogLevel=Info is LogLevel=1; a longer value first leaves bytes after the NUL */
    assert_int_equal(apply(&a, "LogLevel=Info", err), AZR_OK);
    assert_int_equal(apply(&a, "HybridConnection=a-long-name", err), AZR_OK);
    assert_int_equal(apply(&a, "HybridConnection=hc", err), AZR_OK);
    assert_int_equal(apply(&b, "HybridConnection=hc", err), AZR_OK);
    assert_int_equal(azr_config_diff(&a, &b, out, sizeof out), 0);
    /* two settings; the key compared but never written */
    assert_int_equal(apply(&b, "LocalPort=5000", err), AZR_OK);
    assert_int_equal(apply(&b, "AccessKey=s3cret-key", err), AZR_OK);
    assert_int_equal(azr_config_diff(&a, &b, out, sizeof out), 2);
    assert_string_equal(out, "AccessKey, LocalPort");
    /* an alias counts once (TCPKeepAlive is KeepAlive) */
    azr_settings_init(&b);
    assert_int_equal(apply(&b, "HybridConnection=hc", err), AZR_OK);
    assert_int_equal(apply(&b, "TCPKeepAlive=True", err), AZR_OK);
    assert_int_equal(azr_config_diff(&a, &b, out, sizeof out), 1);
    assert_string_equal(out, "KeepAlive");
    /* a ProxyPort given equal to its default still differs (it takes part in the
     * ProxyPort/FirewallPort agreement check) */
    azr_settings_init(&b);
    assert_int_equal(apply(&b, "HybridConnection=hc", err), AZR_OK);
    assert_int_equal(apply(&b, "ProxyPort=80", err), AZR_OK);
    assert_int_equal(azr_config_diff(&a, &b, out, sizeof out), 1);
    assert_string_equal(out, "ProxyPort");
    /* a connection string's SharedAccessSignature has no setting: ConnectionString */
    azr_settings_init(&b);
    assert_int_equal(apply(&b, "HybridConnection=hc", err), AZR_OK);
    assert_int_equal(apply(&b,
                           "ConnectionString=Endpoint=sb://ns.servicebus.windows.net/;"
                           "SharedAccessSignature=SharedAccessSignature sr=x&sig=y&se=1&skn=k",
                           err),
                     AZR_OK);
    size_t n = azr_config_diff(&a, &b, out, sizeof out);
    assert_int_equal(n, 2);
    assert_string_equal(out, "NamespaceAddress, ConnectionString");
    /* a short buffer: the names that fit, whole, and the full count */
    assert_int_equal(azr_config_diff(&a, &b, out, 20), 2);
    assert_string_equal(out, "NamespaceAddress");
    assert_int_equal(azr_config_diff(&a, &b, NULL, 0), 2);
    azr_settings_wipe(&a);
    azr_settings_wipe(&b);
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
        cmocka_unit_test(test_config_status_and_metrics_addresses),
        cmocka_unit_test(test_config_proxy_settings_defaults),
        cmocka_unit_test(test_config_firewall_port_survives_firewall_type),
        cmocka_unit_test(test_config_proxy_ranges_and_enums),
        cmocka_unit_test(test_config_proxy_server_is_a_host),
        cmocka_unit_test(test_config_proxy_exceptions_checked_when_set),
        cmocka_unit_test(test_config_firewall_data_lines),
        cmocka_unit_test(test_config_proxy_authorization_and_port_name_text),
        cmocka_unit_test(test_config_proxy_secrets_wiped),
        cmocka_unit_test(test_config_proxy_server_conflicts_refused),
        cmocka_unit_test(test_config_man_pages_match_the_table),
        cmocka_unit_test(test_config_example_file_parses),
        cmocka_unit_test(test_config_readme_lists_every_setting),
        cmocka_unit_test(test_config_diff_names_what_differs),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
