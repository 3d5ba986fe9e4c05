/*
 * NamespaceAddress forms and connection strings (relay-protocol.md §2.1, §9,
 * conformance list §12.2 item 3). The portal's strings look like
 *   Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=..;SharedAccessKey=..;EntityPath=..
 */
#include "testutil.h"
#include "connstr.h"

#define KEY "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="

static azr_err ep(const char *s, azr_endpoint *e, char *err)
{
    tu_guard g;
    size_t len = strlen(s);
    const char *p = (const char *)tu_guard_new(&g, s, len);
    azr_err r = azr_endpoint_parse(p, len, e, err, 256);
    tu_guard_free(&g);
    return r;
}

static void test_connstr_endpoint_forms(void **s)
{
    (void)s;
    static const struct {
        const char *in, *host;
        unsigned port;
        bool tls;
    } v[] = {
        {"myrelay.servicebus.windows.net", "myrelay.servicebus.windows.net", 443, true},
        {"myrelay.servicebus.windows.net:8443", "myrelay.servicebus.windows.net", 8443, true},
        {"sb://myrelay.servicebus.windows.net/", "myrelay.servicebus.windows.net", 443, true},
        {"sb://myrelay.servicebus.windows.net", "myrelay.servicebus.windows.net", 443, true},
        {"SB://ns:9443/", "ns", 9443, true},
        {"wss://ns", "ns", 443, true},
        {"wss://ns:1234", "ns", 1234, true},
        {"ws://127.0.0.1", "127.0.0.1", 80, false},
        {"ws://127.0.0.1:9090/", "127.0.0.1", 9090, false},
        {"ws://[::1]:9090", "::1", 9090, false},
        {"[fe80::1]", "fe80::1", 443, true},
        {"  ns.example  ", "ns.example", 443, true},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        azr_endpoint e;
        char err[256];
        assert_int_equal(ep(v[i].in, &e, err), AZR_OK);
        assert_string_equal(e.host, v[i].host);
        assert_int_equal(e.port, v[i].port);
        assert_int_equal(e.tls, v[i].tls);
    }
}

static void test_connstr_endpoint_rejects(void **s)
{
    (void)s;
    static const struct {
        const char *in, *why;
    } v[] = {
        {"", "no host"},
        {"https://ns", "scheme"},
        {"http://ns", "scheme"},
        {"sb://ns/hc1", "path"},
        {"ns/hc1", "path"},
        {"ns?x=1", "path"},
        {"ns:0", "1-65535"},
        {"ns:65536", "1-65535"},
        {"ns:", "empty port"},
        {"ns:12a", "1-65535"},
        {"n s", "invalid character"},
        {"[::1", "unterminated"},
        {"[]", "unterminated"},
        {"[::g]", "IPv6"},
        {"sb://", "no host"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        azr_endpoint e;
        char err[256] = "";
        assert_int_equal(ep(v[i].in, &e, err), AZR_E_ARG);
        if (!strstr(err, v[i].why))
            fail_msg("'%s': error '%s' does not mention '%s'", v[i].in, err, v[i].why);
    }
}

static azr_err cs(const char *s, azr_connstr *c, char *err)
{
    tu_guard g;
    size_t len = strlen(s);
    const char *p = (const char *)tu_guard_new(&g, s, len);
    azr_err r = azr_connstr_parse(p, len, c, err, 256);
    tu_guard_free(&g);
    return r;
}

static void test_connstr_portal_string(void **s)
{
    (void)s;
    azr_connstr c;
    char err[256];
    assert_int_equal(cs("Endpoint=sb://myrelay.servicebus.windows.net/;SharedAccessKeyName="
                        "RootManageSharedAccessKey;SharedAccessKey=" KEY ";EntityPath=hc1",
                        &c, err),
                     AZR_OK);
    assert_string_equal(c.endpoint.host, "myrelay.servicebus.windows.net");
    assert_int_equal(c.endpoint.port, 443);
    assert_string_equal(c.key_name, "RootManageSharedAccessKey");
    assert_string_equal(c.key, KEY); /* '=' inside the value kept */
    assert_string_equal(c.entity_path, "hc1");
    assert_true(c.has_entity_path);
    assert_int_equal(c.operation_timeout, -1);
}

static void test_connstr_variants(void **s)
{
    (void)s;
    azr_connstr c;
    char err[256];
    /* no trailing slash, keys in any case, spaces around items, empty items, no EntityPath */
    assert_int_equal(cs(" endpoint = sb://ns.example ;;sharedaccesskeyname=Send ; "
                        "SHAREDACCESSKEY=abc== ;",
                        &c, err),
                     AZR_OK);
    assert_string_equal(c.endpoint.host, "ns.example");
    assert_string_equal(c.key, "abc==");
    assert_false(c.has_entity_path);
    /* OperationTimeout in .NET TimeSpan syntax and in seconds */
    assert_int_equal(cs("Endpoint=sb://ns/;OperationTimeout=00:01:10", &c, err), AZR_OK);
    assert_int_equal(c.operation_timeout, 70);
    assert_int_equal(cs("Endpoint=sb://ns/;OperationTimeout=1.00:00:05", &c, err), AZR_OK);
    assert_int_equal(c.operation_timeout, 86405);
    assert_int_equal(cs("Endpoint=sb://ns/;OperationTimeout=45", &c, err), AZR_OK);
    assert_int_equal(c.operation_timeout, 45);
    /* a ready-made token */
    assert_int_equal(cs("Endpoint=sb://ns/;SharedAccessSignature=SharedAccessSignature sr=a&sig=b"
                        "&se=1&skn=c",
                        &c, err),
                     AZR_OK);
    assert_string_equal(c.sas, "SharedAccessSignature sr=a&sig=b&se=1&skn=c");
    /* the emulator's plain WebSocket endpoint */
    assert_int_equal(cs("Endpoint=ws://127.0.0.1:9090/;EntityPath=hc1", &c, err), AZR_OK);
    assert_false(c.endpoint.tls);
    assert_int_equal(c.endpoint.port, 9090);
}

static void test_connstr_rejects(void **s)
{
    (void)s;
    static const struct {
        const char *in, *why;
    } v[] = {
        {"SharedAccessKeyName=a;SharedAccessKey=b", "Endpoint is required"},
        {"Endpoint=sb://ns/;SharedAccessKeyName=a", "without SharedAccessKey"},
        {"Endpoint=sb://ns/;SharedAccessKey=a", "without SharedAccessKeyName"},
        {"Endpoint=sb://ns/;Foo=bar", "unknown key 'Foo'"},
        {"Endpoint=sb://ns/;EntityPath", "has no '='"},
        {"Endpoint=sb://ns/;endpoint=sb://other/", "given twice"},
        {"Endpoint=hc://x.biztalk.windows.net/", "BizTalk"},
        {"Endpoint=ns.example", "absolute"},
        {"Endpoint=sb://ns/hc1", "path"},
        {"Endpoint=sb://ns/;OperationTimeout=soon", "OperationTimeout"},
        {"Endpoint=sb://ns/;OperationTimeout=00:61:00", "OperationTimeout"},
        {"Endpoint=sb://ns/;Authentication=Managed Identity", "not supported"},
        {"Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=b;SharedAccessSignature=c",
         "cannot be combined"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        azr_connstr c;
        char err[256] = "";
        assert_int_not_equal(cs(v[i].in, &c, err), AZR_OK);
        if (!strstr(err, v[i].why))
            fail_msg("'%s': error '%s' does not mention '%s'", v[i].in, err, v[i].why);
    }
}

static void test_connstr_bounds(void **s)
{
    (void)s;
    char big[AZR_CONNSTR_MAX + 64];
    azr_connstr c;
    char err[256];
    int n = snprintf(big, sizeof big, "Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=");
    memset(big + n, 'k', AZR_KEY_MAX + 1);
    big[n + AZR_KEY_MAX + 1] = '\0';
    assert_int_equal(cs(big, &c, err), AZR_E_LIMIT);
    assert_non_null(strstr(err, "SharedAccessKey is too long"));
    memset(big, ';', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(cs(big, &c, err), AZR_E_LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connstr_endpoint_forms),
        cmocka_unit_test(test_connstr_endpoint_rejects),
        cmocka_unit_test(test_connstr_portal_string),
        cmocka_unit_test(test_connstr_variants),
        cmocka_unit_test(test_connstr_rejects),
        cmocka_unit_test(test_connstr_bounds),
    };
    return cmocka_run_group_tests_name("connstr", tests, NULL, NULL);
}
