/*
 * The route of the relay connections (proxyroute.c): proxy URLs from the
 * environment, the precedence of settings over the environment, where
 * no_proxy and ProxyExceptionsList apply (their patterns: test_bypass.c). The environment is a fake
 * one. Expected values come from curl's documentation and its own test
 * vectors, cited at each case:
 *   [NOPROXY] https://curl.se/libcurl/c/CURLOPT_NOPROXY.html
 *   [ENV]     https://everything.curl.dev/usingcurl/proxies/env
 *   [PROXY]   https://curl.se/libcurl/c/CURLOPT_PROXY.html (schemes)
 *   [PEER]    curl lib/peer.c Curl_peer_from_proxy_url (the scheme's default port)
 */
#include "testutil.h"
#include "config.h"
#include "proxyroute.h"

/* ------------------------------------------------------------ fake environment */

typedef struct fake_env {
    const char *names[8], *values[8];
} fake_env;

static const char *env_get(void *ud, const char *name)
{
    const fake_env *e = ud;
    for (size_t i = 0; i < 8 && e->names[i]; i++)
        if (strcmp(e->names[i], name) == 0)
            return e->values[i];
    return NULL;
}

static void settings(azr_settings *st, const char *const *stmts)
{
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(st);
    for (; stmts && *stmts; stmts++)
        if (azr_config_apply(st, *stmts, strlen(*stmts), err, sizeof err) != AZR_OK)
            fail_msg("%s: %s", *stmts, err);
}

/* The route for wss://ns.servicebus.windows.net (or host) under stmts and env. */
static void route_for(const char *const *stmts, fake_env *env, const char *host, bool tls,
                      azr_route *r)
{
    azr_settings st;
    char err[AZR_CONF_ERR_MAX];
    settings(&st, stmts);
    azr_err e = azr_route_compute(&st, env_get, env, host ? host : "ns.servicebus.windows.net", tls,
                                  r, err, sizeof err);
    if (e != AZR_OK)
        fail_msg("route refused: %s", err);
}

/* The refusal's text for stmts and env. */
static azr_err refused(const char *const *stmts, fake_env *env, char *err, size_t cap)
{
    azr_settings st;
    azr_route r;
    settings(&st, stmts);
    memset(&r, 0x5a, sizeof r);
    azr_err e =
        azr_route_compute(&st, env_get, env, "ns.servicebus.windows.net", true, &r, err, cap);
    /* a refusal leaves no credential behind */
    static const azr_route zero;
    if (e != AZR_OK)
        assert_memory_equal(&r, &zero, sizeof r);
    return e;
}

static const char *const autodetect[] = {"FirewallAutoDetect=True", NULL};

/* ------------------------------------------------------------- proxy URLs */

/* [PROXY]: http:// (the default without a scheme), socks4://, socks4a://,
 * socks5:// (names resolved locally), socks5h:// (the proxy resolves);
 * [PEER]: 80 for http, 1080 for socks when the URL has no port. */
static void test_proxyroute_env_schemes(void **s)
{
    (void)s;
    static const struct {
        const char *url;
        azr_route_kind kind;
        bool remote_dns;
        const char *host;
        unsigned port;
        const char *source;
    } v[] = {
        {"http://proxy.corp:3128", AZR_ROUTE_CONNECT, true, "proxy.corp", 3128,
         "HTTP CONNECT proxy.corp:3128 (FirewallAutoDetect: https_proxy=http://proxy.corp:3128)"},
        {"proxy.corp:3128", AZR_ROUTE_CONNECT, true, "proxy.corp", 3128, NULL},
        {"proxy.corp", AZR_ROUTE_CONNECT, true, "proxy.corp", 80, NULL},
        {"HTTP://Proxy.Corp:8080/", AZR_ROUTE_CONNECT, true, "Proxy.Corp", 8080, NULL},
        {"http://proxy.corp:", AZR_ROUTE_CONNECT, true, "proxy.corp", 80, NULL},
        {"http://proxy.corp/some/path?q#f", AZR_ROUTE_CONNECT, true, "proxy.corp", 80, NULL},
        {"  http://10.1.2.3:3128  ", AZR_ROUTE_CONNECT, true, "10.1.2.3", 3128, NULL},
        {"socks5://s.corp:1081", AZR_ROUTE_SOCKS5, false, "s.corp", 1081,
         "SOCKS5 s.corp:1081 (FirewallAutoDetect: https_proxy=socks5://s.corp:1081)"},
        {"socks5h://s.corp", AZR_ROUTE_SOCKS5, true, "s.corp", 1080, NULL},
        {"SOCKS5H://s.corp", AZR_ROUTE_SOCKS5, true, "s.corp", 1080, NULL},
        {"socks4://s.corp", AZR_ROUTE_SOCKS4, false, "s.corp", 1080, NULL},
        {"socks://s.corp:9050", AZR_ROUTE_SOCKS4, false, "s.corp", 9050, NULL},
        {"socks4a://s.corp", AZR_ROUTE_SOCKS4A, true, "s.corp", 1080, NULL},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        fake_env env = {{"https_proxy"}, {v[i].url}};
        azr_route r;
        route_for(autodetect, &env, NULL, true, &r);
        if (r.kind != v[i].kind || r.remote_dns != v[i].remote_dns || r.port != v[i].port ||
            strcmp(r.host, v[i].host) != 0)
            fail_msg("%s: kind %d rdns %d %s:%u", v[i].url, r.kind, r.remote_dns, r.host, r.port);
        assert_true(r.from_env);
        if (v[i].source)
            assert_string_equal(r.source, v[i].source);
    }
}

static void test_proxyroute_env_bad_urls_refused(void **s)
{
    (void)s;
    static const struct {
        const char *url, *why;
    } v[] = {
        {"https://proxy.corp:443", "https:// (TLS to the proxy) is not supported"},
        {"ftp://proxy.corp", "unsupported proxy scheme"},
        {"socks6://proxy.corp", "unsupported proxy scheme"},
        {"http://", "no proxy host"},
        {"http://:3128", "no proxy host"},
        {"http://gw:pw@", "no proxy host"},
        {"http://proxy.corp:0", "the port is not a number from 1 to 65535"},
        {"http://proxy.corp:65536", "the port is not a number from 1 to 65535"},
        {"http://proxy.corp:99999999999999999999", "the port is not a number"},
        {"http://proxy.corp:31x8", "the port is not a number"},
        {"http://::1:3128", "an IPv6 address goes in brackets"},
        {"http://[::1:3128", "without its closing ']'"},
        {"http://[proxy.corp]:3128", "not an IPv6 address inside"},
        {"http://[10.0.0.1]:3128", "not an IPv6 address inside"},
        {"http://[::1]x:3128", "text after the IPv6 address"},
        {"http://pro xy:3128", "not a host name or address"},
        {"http://gw:%zzpw@proxy.corp", "bad %-escape"},
        {"http://gw:pw%0@proxy.corp", "bad %-escape"},
        {"http://gw%00:pw@proxy.corp", "holds a NUL"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        fake_env env = {{"https_proxy"}, {v[i].url}};
        char err[AZR_CONF_ERR_MAX];
        assert_int_equal(refused(autodetect, &env, err, sizeof err), AZR_E_ARG);
        if (!strstr(err, v[i].why) ||
            !strstr(err, "FirewallAutoDetect: https_proxy is not a proxy URL"))
            fail_msg("%s: '%s' does not say '%s'", v[i].url, err, v[i].why);
        assert_null(strstr(err, "pw")); /* the value is never echoed: it may hold a password */
    }
}

/* curl percent-decodes the user and password of the proxy URL (lib/proxy.c,
 * parse_proxy: CURLU_URLDECODE); they win over the settings. */
static void test_proxyroute_env_credentials(void **s)
{
    (void)s;
    azr_route r;
    fake_env env = {{"https_proxy"}, {"http://gw%40corp:p%3As%25s%2F3%20cret@proxy.corp:3128"}};
    const char *const set[] = {"FirewallAutoDetect=True", "ProxyUser=other",
                               "ProxyPassword=other-secret", NULL};
    route_for(set, &env, NULL, true, &r);
    assert_string_equal(r.user, "gw@corp");
    assert_string_equal(r.password, "p:s%s/3 cret");
    assert_string_equal(r.cred_names, "the user and password in https_proxy");
    assert_string_equal(r.host_names, "https_proxy");
    assert_int_equal(r.auth_scheme, AZR_PROXY_AUTH_AUTO);
    assert_string_equal(r.source, "HTTP CONNECT proxy.corp:3128 (FirewallAutoDetect: "
                                  "https_proxy=http://proxy.corp:3128, user from the URL)");
    assert_null(strstr(r.source, "cret"));
    assert_null(strstr(r.source, "gw"));
    /* a user without a password, and a user that is only a password */
    env.values[0] = "socks5h://gw@s.corp";
    route_for(autodetect, &env, NULL, true, &r);
    assert_string_equal(r.user, "gw");
    assert_string_equal(r.password, "");
    env.values[0] = "http://:pw@proxy.corp";
    route_for(autodetect, &env, NULL, true, &r);
    assert_string_equal(r.user, "");
    assert_string_equal(r.password, "pw");
    /* no credentials in the URL: the settings' (curl: CURLOPT_PROXYUSERPWD) */
    env.values[0] = "http://proxy.corp:3128";
    route_for(set, &env, NULL, true, &r);
    assert_string_equal(r.user, "other");
    assert_string_equal(r.password, "other-secret");
    assert_string_equal(r.cred_names, "ProxyUser and ProxyPassword");
    assert_non_null(strstr(r.source, ", user from ProxyUser)"));
    const char *const fw[] = {"FirewallAutoDetect=True", "FirewallUser=fw",
                              "FirewallPassword=fw-secret", NULL};
    route_for(fw, &env, NULL, true, &r);
    assert_string_equal(r.user, "fw");
    assert_string_equal(r.cred_names, "FirewallUser and FirewallPassword");
    assert_null(strstr(r.source, "fw-secret"));
    /* a user name over 255 bytes */
    static char longurl[600];
    memset(longurl, 'u', sizeof longurl - 1);
    memcpy(longurl, "http://", 7);
    memcpy(longurl + 400, "@proxy.corp", 12);
    env.values[0] = longurl;
    char err[AZR_CONF_ERR_MAX];
    assert_int_equal(refused(autodetect, &env, err, sizeof err), AZR_E_ARG);
    assert_non_null(strstr(err, "longer than 255 bytes"));
}

/* [PROXY]: "A numerical IPv6 address must be written within [brackets]". */
static void test_proxyroute_env_ipv6_proxies(void **s)
{
    (void)s;
    azr_route r;
    fake_env env = {{"https_proxy"}, {"http://[::1]:3128"}};
    route_for(autodetect, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_CONNECT);
    assert_string_equal(r.host, "::1"); /* FirewallHost's form: no brackets */
    assert_int_equal(r.port, 3128);
    assert_string_equal(r.source, "HTTP CONNECT [::1]:3128 (FirewallAutoDetect: "
                                  "https_proxy=http://[::1]:3128)");
    env.values[0] = "socks5h://gw:pw@[fd00:1::8]";
    route_for(autodetect, &env, NULL, true, &r);
    assert_string_equal(r.host, "fd00:1::8");
    assert_int_equal(r.port, 1080);
    assert_string_equal(r.user, "gw");
    assert_string_equal(r.password, "pw");
}

/* [ENV] and curl lib/proxy.c proxy_detect_proxy: https_proxy (then
 * HTTPS_PROXY) for a TLS origin (wss), http_proxy in lower case only for a
 * plain one (ws), then all_proxy, ALL_PROXY; an empty variable is unset
 * (curl_getenv). */
static void test_proxyroute_env_variable_order(void **s)
{
    (void)s;
    azr_route r;
    fake_env all = {
        {"ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"},
        {"http://p6", "http://p5", "http://p4", "http://p3", "http://p2", "http://p1"}};
    route_for(autodetect, &all, NULL, true, &r);
    assert_string_equal(r.host, "p3");
    assert_non_null(strstr(r.source, "https_proxy=http://p3:80"));
    route_for(autodetect, &all, NULL, false, &r);
    assert_string_equal(r.host, "p1");
    all.values[3] = ""; /* https_proxy set but empty */
    route_for(autodetect, &all, NULL, true, &r);
    assert_string_equal(r.host, "p4");
    assert_non_null(strstr(r.source, "HTTPS_PROXY=http://p4:80"));
    all.names[2] = "x";
    route_for(autodetect, &all, NULL, true, &r);
    assert_string_equal(r.host, "p5");
    all.names[1] = "y";
    route_for(autodetect, &all, NULL, true, &r);
    assert_string_equal(r.host, "p6");
    /* ws://: HTTP_PROXY in upper case is not read (curl: the CGI Proxy: header) */
    fake_env upper = {{"HTTP_PROXY", "https_proxy"}, {"http://p2", "http://p3"}};
    route_for(autodetect, &upper, NULL, false, &r);
    assert_int_equal(r.kind, AZR_ROUTE_DIRECT);
    assert_string_equal(r.source,
                        "direct (FirewallAutoDetect: none of http_proxy, all_proxy, ALL_PROXY "
                        "is set)");
    fake_env none = {{NULL}, {NULL}};
    route_for(autodetect, &none, NULL, true, &r);
    assert_string_equal(r.source, "direct (FirewallAutoDetect: none of https_proxy, "
                                  "HTTPS_PROXY, all_proxy, ALL_PROXY is set)");
}

/* ----------------------------------------------------------------- no_proxy */

/* no_proxy goes with the proxy found in the environment (and only with it). */
static void test_proxyroute_no_proxy_bypasses_env_proxy(void **s)
{
    (void)s;
    azr_route r;
    fake_env env = {{"https_proxy", "no_proxy", "NO_PROXY"},
                    {"http://gw:pw@proxy.corp:3128", "localhost, .Windows.NET", "*"}};
    route_for(autodetect, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_DIRECT);
    assert_string_equal(r.user, "");
    assert_string_equal(r.password, ""); /* wiped: the route does not use them */
    assert_string_equal(r.source,
                        "direct (the relay host ns.servicebus.windows.net matches no_proxy entry "
                        "'.Windows.NET'; not used: HTTP CONNECT proxy.corp:3128 "
                        "(FirewallAutoDetect: https_proxy=http://proxy.corp:3128, user from "
                        "the URL))");
    /* no_proxy set: NO_PROXY is not read; no_proxy empty: it is */
    env.values[1] = "other.example";
    route_for(autodetect, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_CONNECT);
    env.values[1] = "";
    route_for(autodetect, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_DIRECT);
    assert_non_null(strstr(r.source, "matches NO_PROXY entry '*'"));
    /* an address relay and a CIDR */
    env.values[2] = "10.0.0.0/8";
    route_for(autodetect, &env, "10.20.30.40", true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_DIRECT);
    route_for(autodetect, &env, "11.20.30.40", true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_CONNECT);
    env.values[2] = "fd00::/8";
    route_for(autodetect, &env, "fd12::1", true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_DIRECT);
    /* an explicit proxy is not the environment's: no_proxy does not touch it */
    env.values[2] = "*";
    const char *const fw[] = {"FirewallAutoDetect=True", "FirewallType=1",
                              "FirewallHost=squid.corp", NULL};
    route_for(fw, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_CONNECT);
    assert_string_equal(r.host, "squid.corp");
}

/* ---------------------------------------------------------- ProxyExceptionsList */

/* ProxyExceptionsList sends the relay direct whatever named the proxy. */
static void test_proxyroute_exceptions_list_bypasses_every_proxy(void **s)
{
    (void)s;
    azr_route r;
    fake_env env = {{"https_proxy"}, {"socks5h://s.corp"}};
    const char *const set[] = {"FirewallType=1",
                               "FirewallHost=squid.corp",
                               "FirewallUser=gw",
                               "FirewallPassword=s3cret",
                               "ProxyExceptionsList=intranet.corp;*.windows.net",
                               NULL};
    route_for(set, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_DIRECT);
    assert_string_equal(r.password, "");
    assert_string_equal(r.source, "direct (the relay host ns.servicebus.windows.net matches "
                                  "ProxyExceptionsList entry '*.windows.net'; not used: HTTP "
                                  "CONNECT squid.corp:80 (FirewallType and FirewallHost, "
                                  "default port, user from FirewallUser))");
    route_for(set, &env, "ns.example.org", true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_CONNECT);
    const char *const found[] = {"FirewallAutoDetect=True", "ProxyExceptionsList=*", NULL};
    route_for(found, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_DIRECT);
    assert_non_null(strstr(r.source, "ProxyExceptionsList entry '*'; not used: SOCKS5 "
                                     "s.corp:1080 (FirewallAutoDetect"));
}

/* -------------------------------------------------------------- precedence */

static void test_proxyroute_settings_beat_the_environment(void **s)
{
    (void)s;
    azr_route r;
    fake_env env = {{"https_proxy"}, {"http://env.corp:3128"}};
    /* FirewallAutoDetect=False (the class's default): the environment is not read */
    route_for(NULL, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_DIRECT);
    assert_string_equal(r.source, "direct (no proxy is set; FirewallAutoDetect is False)");
    /* explicit SOCKS5 */
    const char *const socks[] = {"FirewallAutoDetect=True", "FirewallType=SOCKS5",
                                 "FirewallHost=s.corp", NULL};
    route_for(socks, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_SOCKS5);
    assert_true(r.remote_dns); /* FirewallType 3 sends the relay's name */
    assert_false(r.from_env);
    assert_string_equal(r.host, "s.corp");
    assert_int_equal(r.port, 1080);
    assert_string_equal(r.source, "SOCKS5 s.corp:1080 (FirewallType and FirewallHost, default "
                                  "port; FirewallAutoDetect not consulted: the settings win)");
    /* explicit ProxyServer */
    const char *const http[] = {"FirewallAutoDetect=True", "ProxyServer=[fd00::3]",
                                "ProxyPort=8080", NULL};
    route_for(http, &env, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_CONNECT);
    assert_string_equal(r.host, "fd00::3");
    assert_int_equal(r.port, 8080);
    assert_string_equal(r.source, "HTTP CONNECT [fd00::3]:8080 (ProxyServer, ProxyPort; "
                                  "FirewallAutoDetect not consulted: the settings win)");
    /* a FirewallHost with FirewallType 0 names no proxy: the environment's is taken */
    const char *const inert[] = {"FirewallAutoDetect=True", "FirewallHost=old.corp", NULL};
    route_for(inert, &env, NULL, true, &r);
    assert_string_equal(r.host, "env.corp");
}

/* ProxyServer/ProxyPort/ProxyUser/ProxyPassword and FirewallType=1 with
 * FirewallHost/FirewallPort/FirewallUser/FirewallPassword are one setting. */
static void test_proxyroute_proxy_and_firewall_settings_are_one(void **s)
{
    (void)s;
    azr_route r;
    char err[AZR_CONF_ERR_MAX];
    const char *const a[] = {"ProxyServer=squid.corp", NULL};
    route_for(a, NULL, NULL, true, &r);
    assert_int_equal(r.kind, AZR_ROUTE_CONNECT);
    assert_int_equal(r.port, 80);
    assert_string_equal(r.source, "HTTP CONNECT squid.corp:80 (ProxyServer, default port)");
    assert_string_equal(r.host_names, "ProxyServer and ProxyPort");
    /* FirewallType=1 and FirewallPort given before it (issue 11's clobbered port) */
    const char *const b[] = {"FirewallPort=3128", "FirewallType=1",       "FirewallHost=squid.corp",
                             "ProxyUser=gw",      "ProxyPassword=s3cret", NULL};
    route_for(b, NULL, NULL, true, &r);
    assert_int_equal(r.port, 3128);
    assert_string_equal(r.user, "gw");
    assert_string_equal(r.cred_names, "ProxyUser and ProxyPassword");
    assert_string_equal(r.host_names, "FirewallHost and FirewallPort");
    assert_string_equal(r.source, "HTTP CONNECT squid.corp:3128 (FirewallType and FirewallHost, "
                                  "FirewallPort, user from ProxyUser)");
    /* ProxyServer with an explicit FirewallPort (ProxyPort left at its default) */
    const char *const c[] = {"ProxyServer=squid.corp", "FirewallPort=8080", NULL};
    route_for(c, NULL, NULL, true, &r);
    assert_int_equal(r.port, 8080);
    /* the same values twice are fine */
    const char *const d[] = {"ProxyServer=squid.corp",  "FirewallType=1",
                             "FirewallHost=SQUID.corp", "ProxyPort=3128",
                             "FirewallPort=3128",       "ProxyUser=gw",
                             "FirewallUser=gw",         "ProxyPassword=pw",
                             "FirewallPassword=pw",     NULL};
    route_for(d, NULL, NULL, true, &r);
    assert_int_equal(r.port, 3128);
    /* different values are refused, naming both settings and no password */
    const char *const e1[] = {"ProxyUser=gw", "FirewallUser=other", "ProxyServer=squid", NULL};
    assert_int_equal(refused(e1, NULL, err, sizeof err), AZR_E_ARG);
    assert_non_null(strstr(err, "ProxyUser and FirewallUser name different users"));
    const char *const e2[] = {"ProxyPassword=pw-one", "FirewallPassword=pw-two",
                              "ProxyServer=squid", NULL};
    assert_int_equal(refused(e2, NULL, err, sizeof err), AZR_E_ARG);
    assert_non_null(strstr(err, "ProxyPassword and FirewallPassword differ"));
    assert_null(strstr(err, "pw-"));
    const char *const e3[] = {"FirewallType=1", NULL};
    assert_int_equal(refused(e3, NULL, err, sizeof err), AZR_E_STATE);
    assert_string_equal(err, "FirewallType is 1 but FirewallHost is not set");
    const char *const e4[] = {"FirewallType=SOCKS4", "FirewallHost=s", "ProxyUser=gw", NULL};
    assert_int_equal(refused(e4, NULL, err, sizeof err), AZR_E_ARG);
    assert_non_null(strstr(err, "ProxyUser is a setting of the HTTP CONNECT proxy, but "
                                "FirewallType is 2 (SOCKS4)"));
    const char *const e5[] = {"FirewallType=10", "FirewallHost=s", "ProxyPort=80", NULL};
    assert_int_equal(refused(e5, NULL, err, sizeof err), AZR_E_ARG);
    assert_non_null(strstr(err, "ProxyPort is a setting"));
    /* the environment's proxy with both credential pairs at odds */
    fake_env env = {{"https_proxy"}, {"http://proxy.corp"}};
    const char *const e6[] = {"FirewallAutoDetect=True", "ProxyUser=a", "FirewallUser=b", NULL};
    assert_int_equal(refused(e6, &env, err, sizeof err), AZR_E_ARG);
}

/* What an HTTP CONNECT carries besides the request line: the value the
 * authentication engine gave (ProxyAuthorization, Basic, Digest, NTLM), then
 * FirewallData; and StartListening's fit check with the longest value. */
static void test_proxyroute_connect_headers(void **s)
{
    (void)s;
    azr_route r;
    const char *const a[] = {"ProxyServer=squid",         "ProxyUser=gw",
                             "ProxyPassword=pw",          "ProxyAuthorization=Bearer abc.def",
                             "FirewallData=X-Site: gw-7", NULL};
    route_for(a, NULL, NULL, true, &r);
    assert_string_equal(r.authorization, "Bearer abc.def");
    assert_string_equal(r.extra, "X-Site: gw-7\r\n");
    char req[8192];
    size_t n;
    assert_int_equal(azr_route_connect_request(&r, "ns.example", 443, "gw/1", r.authorization, req,
                                               sizeof req, &n),
                     AZR_OK);
    assert_string_equal(req, "CONNECT ns.example:443 HTTP/1.1\r\nHost: ns.example:443\r\n"
                             "User-Agent: gw/1\r\nProxy-Connection: Keep-Alive\r\n"
                             "Proxy-Authorization: Bearer abc.def\r\nX-Site: gw-7\r\n\r\n");
    assert_int_equal(n, strlen(req));
    /* no value: FirewallData only; never the user and password themselves */
    assert_int_equal(azr_route_connect_request(&r, "ns", 443, NULL, NULL, req, sizeof req, &n),
                     AZR_OK);
    assert_string_equal(req, "CONNECT ns:443 HTTP/1.1\r\nHost: ns:443\r\n"
                             "Proxy-Connection: Keep-Alive\r\nX-Site: gw-7\r\n\r\n");
    assert_int_equal(azr_route_connect_request(&r, "ns", 443, NULL, "", req, sizeof req, &n),
                     AZR_OK);
    assert_null(strstr(req, "Proxy-Authorization"));
    /* a value cannot add header lines; HTAB is a field value's */
    static const char *const bad[] = {"Basic x\r\nX-Evil: 1", "Basic x\n", "Basic \x7f"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(
            azr_route_connect_request(&r, "ns", 443, NULL, bad[i], req, sizeof req, &n), AZR_E_ARG);
    assert_int_equal(
        azr_route_connect_request(&r, "ns", 443, NULL, "Basic\tx", req, sizeof req, &n), AZR_OK);
    assert_int_equal(r.auth_scheme, AZR_PROXY_AUTH_AUTO);
    /* StartListening's check: with a user and no ProxyAuthorization, room for
     * the longest value the engine sends, whatever the scheme but None; a user
     * with ':' only under ProxyAuthScheme=Basic (RFC 7617 §2) */
    static const struct {
        const char *scheme;
        size_t authz;
        azr_err colon;
    } v[] = {{"Auto", AZR_PAUTH_MAX_VALUE, AZR_OK},
             {"Basic", AZR_PAUTH_MAX_VALUE, AZR_E_ARG},
             {"Digest", AZR_PAUTH_MAX_VALUE, AZR_OK},
             {"NTLM", AZR_PAUTH_MAX_VALUE, AZR_OK},
             {"None", 0, AZR_OK},
             {"Negotiate", AZR_PAUTH_MAX_VALUE, AZR_OK}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char stmt[64];
        snprintf(stmt, sizeof stmt, "ProxyAuthScheme=%s", v[i].scheme);
        const char *const b[] = {"ProxyServer=squid", "ProxyUser=gw", stmt, NULL};
        route_for(b, NULL, NULL, true, &r);
        assert_string_equal(r.extra, "");
        assert_int_equal(azr_route_connect_write(&r, "ns", 443, NULL, req, sizeof req, &n), AZR_OK);
        size_t bare = strlen("CONNECT ns:443 HTTP/1.1\r\nHost: ns:443\r\n"
                             "Proxy-Connection: Keep-Alive\r\n\r\n");
        assert_int_equal(n, bare + (v[i].authz ? 23 + v[i].authz : 0));
        assert_null(strstr(req, "Z3c6")); /* base64("gw:"): no Basic made here */
        const char *const col[] = {"ProxyServer=squid", "ProxyUser=g:w", stmt, NULL};
        route_for(col, NULL, NULL, true, &r);
        assert_int_equal(azr_route_connect_write(&r, "ns", 443, NULL, req, sizeof req, &n),
                         v[i].colon);
    }
    const char *const nouser[] = {"ProxyServer=squid", NULL};
    route_for(nouser, NULL, NULL, true, &r);
    assert_int_equal(azr_route_connect_write(&r, "ns", 443, NULL, req, sizeof req, &n), AZR_OK);
    assert_null(strstr(req, "Proxy-Authorization"));
    /* SOCKS: neither header goes anywhere; flagged for a warning */
    const char *const c[] = {"FirewallType=3", "FirewallHost=s", "FirewallData=X-Site: gw-7",
                             "ProxyAuthorization=Basic eA==", NULL};
    route_for(c, NULL, NULL, true, &r);
    assert_true(r.data_ignored);
    assert_true(r.authz_ignored);
    assert_string_equal(r.extra, "");
    assert_string_equal(r.authorization, "");
    /* the longest of both fit, and so do the longest engine value and FirewallData */
    static char data[AZR_PROXY_DATA_MAX + 32], authz[AZR_PROXY_AUTHZ_MAX + 32];
    memset(data, 'd', 13 + AZR_PROXY_DATA_MAX - 2); /* "FirewallData=" and the value + CRLF */
    memcpy(data, "FirewallData=X: ", 16);
    memset(authz, 'a', AZR_PROXY_AUTHZ_MAX + 19);
    memcpy(authz, "ProxyAuthorization=", 19);
    const char *const d[] = {"ProxyServer=squid", data, authz, NULL};
    route_for(d, NULL, NULL, true, &r);
    assert_int_equal(strlen(r.authorization), AZR_PROXY_AUTHZ_MAX);
    assert_int_equal(strlen(r.extra), AZR_PROXY_DATA_MAX);
    static char big[8192];
    assert_int_equal(azr_route_connect_write(&r, "ns", 443, NULL, big, sizeof big, &n), AZR_OK);
    assert_int_equal(n, 69 + 21 + AZR_PROXY_AUTHZ_MAX + 2 + AZR_PROXY_DATA_MAX + 2);
    assert_int_equal(azr_route_connect_write(&r, "ns", 443, NULL, big, 1024, &n), AZR_E_LIMIT);
    static char longest[AZR_PAUTH_MAX_VALUE + 1];
    memset(longest, 'n', AZR_PAUTH_MAX_VALUE);
    assert_int_equal(azr_route_connect_request(&r, "ns", 443, NULL, longest, big, sizeof big, &n),
                     AZR_OK);
    assert_int_equal(n, 69 + 21 + AZR_PAUTH_MAX_VALUE + 2 + AZR_PROXY_DATA_MAX + 2);
    static char over[AZR_PAUTH_MAX_VALUE + 2];
    memset(over, 'n', AZR_PAUTH_MAX_VALUE + 1); /* one byte over */
    assert_int_equal(azr_route_connect_request(&r, "ns", 443, NULL, over, big, sizeof big, &n),
                     AZR_E_LIMIT);
    azr_route_wipe(&r);
    static const azr_route zero;
    assert_memory_equal(&r, &zero, sizeof r);
}

/* The URL parser against a guard page, whole and cut at every length. */
static void test_proxyroute_parse_url_prefixes(void **s)
{
    (void)s;
    static const char *const urls[] = {"socks5h://gw%40x:p%3Aw@[fd00::1]:1081/path",
                                       "http://user:pw@proxy.corp:3128", "proxy:80"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        size_t len = strlen(urls[i]);
        for (size_t cut = 0; cut <= len; cut++) {
            tu_guard g;
            const char *v = (const char *)tu_guard_new(&g, urls[i], cut);
            azr_proxy_url u;
            char err[200];
            azr_err e = azr_route_parse_url(v, cut, &u, err, sizeof err);
            tu_guard_free(&g);
            /* a cut URL parses or is refused, never read past its end */
            assert_true(e == AZR_OK || e == AZR_E_ARG);
        }
    }
    azr_proxy_url u;
    char err[200];
    const char *w = "socks5h://gw%40x:p%3Aw@[fd00::1]:1081/path";
    assert_int_equal(azr_route_parse_url(w, strlen(w), &u, err, sizeof err), AZR_OK);
    assert_string_equal(u.user, "gw@x");
    assert_string_equal(u.password, "p:w");
    assert_string_equal(u.host, "fd00::1");
    assert_int_equal(u.port, 1081);
    assert_string_equal(u.scheme, "socks5h");
    assert_true(u.scheme_given);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxyroute_env_schemes),
        cmocka_unit_test(test_proxyroute_env_bad_urls_refused),
        cmocka_unit_test(test_proxyroute_env_credentials),
        cmocka_unit_test(test_proxyroute_env_ipv6_proxies),
        cmocka_unit_test(test_proxyroute_env_variable_order),
        cmocka_unit_test(test_proxyroute_no_proxy_bypasses_env_proxy),
        cmocka_unit_test(test_proxyroute_exceptions_list_bypasses_every_proxy),
        cmocka_unit_test(test_proxyroute_settings_beat_the_environment),
        cmocka_unit_test(test_proxyroute_proxy_and_firewall_settings_are_one),
        cmocka_unit_test(test_proxyroute_connect_headers),
        cmocka_unit_test(test_proxyroute_parse_url_prefixes),
    };
    return cmocka_run_group_tests_name("proxyroute", tests, NULL, NULL);
}
