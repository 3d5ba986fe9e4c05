/*
 * Which relay hosts bypass a proxy (bypass.c): no_proxy with curl's rules,
 * ProxyExceptionsList with the class's. Every list sits against a guard
 * page. Expected values come from curl, cited at each table:
 *   [NOPROXY] https://curl.se/libcurl/c/CURLOPT_NOPROXY.html
 *   [U1614]   curl tests/unit/unit1614.c (proxy_check_noproxy vectors)
 * and from the class's example "www.google.com;www.nsoftware.com".
 */
#include "testutil.h"
#include "bypass.h"

static void test_bypass_no_proxy_curl_vectors(void **s)
{
    (void)s;
    /* [U1614], every proxy_check_noproxy case of curl's own test */
    static const struct {
        const char *host, *list;
        bool match;
    } v[] = {
        {"www.example.com", "localhost .example.com .example.de", false},
        {"www.example.com", "localhost,.example.com,.example.de", true},
        {"www.example.com.", "localhost,.example.com,.example.de", true},
        {"example.com", "localhost,.example.com,.example.de", true},
        {"example.com.", "localhost,.example.com,.example.de", true},
        {"www.example.com", "localhost,.example.com.,.example.de", true},
        {"www.example.com", "localhost,www.example.com.,.example.de", true},
        {"example.com", "localhost,example.com,.example.de", true},
        {"example.com.", "localhost,example.com,.example.de", true},
        {"nexample.com", "localhost,example.com,.example.de", false},
        {"www.example.com", "localhost,example.com,.example.de", true},
        {"127.0.0.1", "127.0.0.1,localhost", true},
        {"127.0.0.1", "127.0.0.1,localhost,", true},
        {"127.0.0.1", "127.0.0.1/8,localhost,", true},
        {"127.0.0.1", "127.0.0.1/28,localhost,", true},
        {"127.0.0.1", "127.0.0.1/31,localhost,", true},
        {"127.0.0.1", "localhost,127.0.0.1", true},
        {"127.0.0.1",
         "localhost,127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1."
         "127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.",
         false},
        {"localhost", "localhost,127.0.0.1", true},
        {"localhost", "127.0.0.1,localhost", true},
        {"foobar", "barfoo", false},
        {"foobar", "foobar", true},
        {"192.168.0.1", "foobar", false},
        {"192.168.0.1", "192.168.0.0/16", true},
        {"192.168.0.1", "192.168.0.0/16a", false},
        {"192.168.0.1", "192.168.0.0/16 ", true},
        {"192.168.0.1", "192.168.0.0/a16", false},
        {"192.168.0.1", "192.168.0.0/ 16", false},
        {"192.168.0.1", "192.168.0.0/24", true},
        {"192.168.0.1", "192.168.0.0/32", false},
        {"192.168.0.1", "192.168.0.1/32", true},
        {"192.168.0.1", "192.168.0.1/33", false},
        {"192.168.0.1", "192.168.0.0", false},
        {"192.168.1.1", "192.168.0.0/24", false},
        {"192.168.1.1", "192.168.0.0/33", false},
        {"192.168.1.1", "foo, bar, 192.168.0.0/24", false},
        {"192.168.1.1", "foo, bar, 192.168.0.0/16", true},
        {"::1", "foo, bar, 192.168.0.0/16", false},
        {"::1", "foo, bar, ::1/64", true},
        {"::1", "::1/64", true},
        {"::1", "::1/96", true},
        {"::1", "::1/129", false},
        {"::1", "::1/128", true},
        {"::1", "::1/127", true},
        {"::1", "::1/a127", false},
        {"::1", "::1/127a", false},
        {"::1", "::1/ 127", false},
        {"::1", "::1/127 ", true},
        {"::1", "::1/122", true},
        {"2001:db8:8000::1", "2001:db8::/65", false},
        {"2001:db8:8000::1", "2001:db8::/72", false},
        {"2001:db8::1", "2001:db8::/65", true},
        {"2001:db8::1", "2001:db8::/72", true},
        {"bar", "foo, bar, ::1/64", true},
        {"BAr", "foo, bar, ::1/64", true},
        {"BAr", "foo,,,,,              bar, ::1/64", true},
        {"www.example.com", "foo, .example.com", true},
        {"www.example.com", "www2.example.com, .example.net", false},
        {"example.com", ".example.com, .example.net", true},
        {"nonexample.com", ".example.com, .example.net", false},
        /* [NOPROXY]: "ample.com" matches ample.com and www.ample.com, not
         * www.example.com or ample.com.org; "*" alone matches every host;
         * IPv6 addresses without brackets; CIDR since 7.86.0 */
        {"ample.com", "ample.com", true},
        {"www.ample.com", "ample.com", true},
        {"www.example.com", "ample.com", false},
        {"ample.com.org", "ample.com", false},
        {"anything.at.all", "*", true},
        {"10.9.8.7", "*", true},
        {"::1", "example.com,::1,localhost", true},
        {"192.168.44.5", "192.168.0.0/16", true},
        /* curl: "*" only as the whole value, a port never matches, names and
         * addresses do not cross, case does not matter */
        {"example.com", "localhost,*", false},
        {"example.com", " * ", true},
        {"example.com", "example.com:443", false},
        {"10.0.0.1", "10.0.0.1:443", false},
        {"WWW.Example.COM", "EXAMPLE.com", true},
        {"10.0.0.1", "a.example,10.0.0.0/8", true},
        {"example.com", "", false},
        {"example.com", ",,, ,", false},
        /* beyond curl (proxyroute.h): "*." read as ".", /0 is every address of its family,
         * "0:0::1" and "::1" are one address */
        {"www.example.com", "*.example.com", true},
        {"example.com", "*.example.com", true},
        {"203.0.113.9", "0.0.0.0/0", true},
        {"2001:db8::1", "0.0.0.0/0", false},
        {"2001:db8::1", "::/0", true},
        {"::1", "0:0::1", true},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        tu_guard g;
        size_t len = strlen(v[i].list);
        const char *list = (const char *)tu_guard_new(&g, v[i].list, len);
        char entry[300];
        bool m = azr_bypass_match(AZR_BYPASS_CURL, list, len, v[i].host, entry, sizeof entry);
        tu_guard_free(&g);
        if (m != v[i].match)
            fail_msg("no_proxy='%s': %s should %smatch", v[i].list, v[i].host,
                     v[i].match ? "" : "not ");
    }
}

static void test_bypass_exceptions_list_matching(void **s)
{
    (void)s;
    /* the class's example: "www.google.com;www.nsoftware.com" */
    static const struct {
        const char *host, *list;
        bool match;
    } v[] = {
        {"www.nsoftware.com", "www.google.com;www.nsoftware.com", true},
        {"nsoftware.com", "www.google.com;www.nsoftware.com", false},
        {"x.www.nsoftware.com", "www.google.com;www.nsoftware.com", false}, /* exact names */
        {"ns.servicebus.windows.net", "*.servicebus.windows.net", true},
        {"ns.servicebus.windows.net", ".servicebus.windows.net", true},
        {"servicebus.windows.net", "*.servicebus.windows.net", false}, /* below, not itself */
        {"servicebus.windows.net", ".servicebus.windows.net", false},
        {"myservicebus.windows.net", "*.servicebus.windows.net", false},
        {"NS.ServiceBus.Windows.Net", "*.SERVICEBUS.windows.net", true},
        {"ns.servicebus.windows.net.", "*.servicebus.windows.net", true},
        {"ns.servicebus.windows.net", "NS.servicebus.windows.net.", true},
        {"anything", "a.example; * ;b.example", true},
        {"10.1.2.3", "10.0.0.0/8", true},
        {"11.1.2.3", "10.0.0.0/8", false},
        {"192.168.1.7", "192.168.1.7", true},
        {"192.168.1.70", "192.168.1.7", false},
        {"fd12::1", "fd00::/8", true},
        {"fe80::1", "fd00::/8", false},
        {"::1", "[::1]", true},
        {"0:0::1", "::1", true},
        {"10.1.2.3", "*.1.2.3", false}, /* names never match addresses */
        {"10.1.2.3", "10.1.2.3.example", false},
        {"host.example", "10.0.0.0/8;host.example2", false},
        {"host.example", "", false},
        {"host.example", ";;; ;", false},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        tu_guard g;
        size_t len = strlen(v[i].list);
        const char *list = (const char *)tu_guard_new(&g, v[i].list, len);
        bool m = azr_bypass_match(AZR_BYPASS_CLASS, list, len, v[i].host, NULL, 0);
        tu_guard_free(&g);
        if (m != v[i].match)
            fail_msg("ProxyExceptionsList='%s': %s should %smatch", v[i].list, v[i].host,
                     v[i].match ? "" : "not ");
    }
}

/* What azr_bypass_check refuses is in test_config.c (the setting's errors);
 * here: a refused list would match nothing it was not meant to. */
static void test_bypass_check_and_match_agree(void **s)
{
    (void)s;
    char err[200];
    static const char *const good[] = {"*",          "a.example", "*.a.example", ".a.example",
                                       "10.0.0.0/8", "fd00::/8",  "[::1]",       "192.168.1.7"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(azr_bypass_check(good[i], strlen(good[i]), err, sizeof err), AZR_OK);
    static const char *const bad[] = {"a.example:443", "10.0.0.0/33", "a*.example", "a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(azr_bypass_check(bad[i], strlen(bad[i]), err, sizeof err), AZR_E_ARG);
        assert_false(
            azr_bypass_match(AZR_BYPASS_CLASS, bad[i], strlen(bad[i]), "a.example", NULL, 0));
    }
    /* the matching entry is reported escaped */
    char entry[300];
    assert_true(azr_bypass_match(AZR_BYPASS_CURL, "x,\x1b.example", 11, "a.\x1b.example", entry,
                                 sizeof entry));
    assert_string_equal(entry, "\\x1b.example");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bypass_no_proxy_curl_vectors),
        cmocka_unit_test(test_bypass_exceptions_list_matching),
        cmocka_unit_test(test_bypass_check_and_match_agree),
    };
    return cmocka_run_group_tests_name("bypass", tests, NULL, NULL);
}
