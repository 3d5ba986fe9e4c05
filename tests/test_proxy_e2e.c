/*
 * Corporate proxies end to end, in process, over real sockets on 127.0.0.1:
 * the relay stand-in (tests/node/ws-relay.js), tinyproxy (Debian's, its log
 * read for the CONNECTs it served), microsocks, and a fake CONNECT proxy in
 * a thread of this test that records the request head it gets (tinyproxy
 * logs no headers) and then tunnels like a real one. What is proven: the
 * CONNECT request carries FirewallData and ProxyAuthorization as the
 * settings give them; SOCKS ignores them with a warning; Negotiate is
 * refused at connect time; the start line and Config("ProxyRoute") say
 * which route was taken and why, passwords never shown; no_proxy and
 * ProxyExceptionsList send the relay direct (the proxy sees nothing);
 * conflicting settings stop StartListening.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"
#include "bounds.h"
#include "fakeproxy.h"
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

/* ------------------------------------------------------------------ helpers */

/* A few KiB out and back through the proxy. */
static bool echo_ok(azr_proxy *p, int fd)
{
    static uint8_t out[8192], back[8192];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)(i * 7 + 1);
    size_t got = exchange(p, fd, out, back, sizeof out, false, 15000);
    return got == sizeof out && memcmp(out, back, got) == 0;
}

static azr_proxy *proxy_to(relay *r, seen *s, const char *const *set, int *port)
{
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", r->port);
    return proxy_at(ns, "hc1", s, set, port);
}

/* The start line ("listening on ..."). */
static void first_line(const seen *s, char *out, size_t cap)
{
    const char *l = strstr(s->log, "listening on ");
    assert_non_null(l);
    const char *nl = strchr(l, '\n');
    size_t n = nl ? (size_t)(nl - l) : strlen(l);
    snprintf(out, cap, "%.*s", (int)n, l);
}

/* How many CONNECTs tinyproxy's log shows. */
static int tinyproxy_connects(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return 0;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "Request (file descriptor") && strstr(line, ": CONNECT "))
            n++;
    fclose(f);
    return n;
}

static void env_clear(void)
{
    static const char *const names[] = {"https_proxy", "HTTPS_PROXY", "http_proxy", "all_proxy",
                                        "ALL_PROXY",   "no_proxy",    "NO_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
}

static int teardown(void **st)
{
    (void)st;
    env_clear();
    procs_kill_all();
    return 0;
}

/* ------------------------------------------------------------------- cases */

/* The class: "When the firewall is a tunneling proxy, use this property to
 * send custom (additional) headers to the firewall". */
static void test_proxy_e2e_firewall_data_reaches_the_proxy(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    fake_proxy f;
    fake_start(&f, r.port, 200);
    char port[32];
    snprintf(port, sizeof port, "FirewallPort=%d", f.port);
    const char *const set[] = {"FirewallType=1",
                               "FirewallHost=127.0.0.1",
                               port,
                               "FirewallData=X-Gateway: gw-7\\nX-Trace:\ton",
                               "ProxyAuthorization=Bearer t0k3n.s1gn3d",
                               "UserAgent=gw/1",
                               NULL};
    int lport;
    azr_proxy *p = proxy_to(&r, &s, set, &lport);
    int fd = client(lport);
    bool ok = echo_ok(p, fd);
    if (!ok)
        fprintf(stderr, "%s\n", s.log);
    assert_true(ok);
    close(fd);
    azr_proxy_free(p);
    fake_stop(&f); /* its thread has ended: what it recorded is ours to read */
    char want[512];
    snprintf(want, sizeof want,
             "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: gw/1\r\n"
             "Proxy-Connection: Keep-Alive\r\nProxy-Authorization: Bearer t0k3n.s1gn3d\r\n"
             "X-Gateway: gw-7\r\nX-Trace:\ton\r\n\r\n",
             r.port, r.port);
    assert_int_equal(f.requests, 1);
    assert_string_equal(f.head, want);
    /* secrets stay out of the log */
    assert_null(strstr(s.log, "t0k3n"));
    assert_null(strstr(s.log, "gw-7"));
    char line[1024];
    first_line(&s, line, sizeof line);
    snprintf(want, sizeof want,
             "proxy: HTTP CONNECT 127.0.0.1:%d (FirewallType and FirewallHost, FirewallPort))",
             f.port);
    if (!strstr(line, want))
        fail_msg("'%s' does not say '%s'", line, want);
    relay_stop(&r);
}

/* A refusal of the fake proxy names the scheme and the settings to check. */
static void test_proxy_e2e_proxy_refusal_names_the_settings(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    fake_proxy f;
    fake_start(&f, r.port, 407);
    f.challenge = "Basic realm=\"fake\"";
    char port[32];
    snprintf(port, sizeof port, "FirewallPort=%d", f.port);
    const char *const set[] = {
        "FirewallType=1",      "FirewallHost=127.0.0.1", port, "ProxyUser=gw",
        "ProxyPassword=wrong", "ProxyAuthScheme=Basic",  NULL};
    int lport;
    azr_proxy *p = proxy_to(&r, &s, set, &lport);
    int fd = client(lport);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.connected_status, AZR_ERR_AUTH);
    assert_non_null(strstr(s.connected_desc, "407 Refused: proxy refused our credentials (Basic) "
                                             "(check ProxyUser and ProxyPassword)"));
    close(fd);
    azr_proxy_free(p);
    fake_stop(&f);
    assert_non_null(strstr(f.head, "Proxy-Authorization: Basic Z3c6d3Jvbmc=\r\n")); /* gw:wrong */
    relay_stop(&r);
}

/* Negotiate is stored, warned about when listening starts, and each
 * connection is refused before a byte goes to the proxy. */
static void test_proxy_e2e_negotiate_refused_at_connect(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    fake_proxy f;
    fake_start(&f, r.port, 200);
    char port[32];
    snprintf(port, sizeof port, "FirewallPort=%d", f.port);
    const char *const set[] = {"FirewallType=1", "FirewallHost=127.0.0.1",    port,
                               "ProxyUser=gw",   "ProxyAuthScheme=Negotiate", NULL};
    int lport;
    azr_proxy *p = proxy_to(&r, &s, set, &lport);
    assert_non_null(strstr(s.log, "warning: ProxyAuthScheme=Negotiate (Kerberos) is not "
                                  "supported"));
    int fd = client(lport);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.connected_status, AZR_ERR_UNSUPPORTED);
    assert_non_null(strstr(s.connected_desc, "ProxyAuthScheme=Negotiate (Kerberos) is not "
                                             "supported: use NTLM, Digest, Basic or None"));
    close(fd);
    azr_proxy_free(p);
    fake_stop(&f);
    assert_int_equal(f.requests, 0);
    relay_stop(&r);
}

/* FirewallData and ProxyAuthorization mean nothing to SOCKS: a warning, and
 * the relay is reached all the same. */
static void test_proxy_e2e_socks_ignores_firewall_data(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    int pport;
    pid_t m = microsocks_start(&pport, false);
    procs_track(m, true);
    char port[32];
    snprintf(port, sizeof port, "FirewallPort=%d", pport);
    const char *const set[] = {"FirewallType=SOCKS5",          "FirewallHost=127.0.0.1",     port,
                               "FirewallData=X-Gateway: gw-7", "ProxyAuthorization=Basic x", NULL};
    int lport;
    azr_proxy *p = proxy_to(&r, &s, set, &lport);
    assert_non_null(strstr(s.log, "warning: FirewallData is ignored: a SOCKS proxy is not an "
                                  "HTTP proxy"));
    assert_non_null(strstr(s.log, "warning: ProxyAuthorization is ignored"));
    int fd = client(lport);
    assert_true(echo_ok(p, fd));
    close(fd);
    azr_proxy_free(p);
    procs_track(m, false);
    stop_pid(m);
    relay_stop(&r);
}

/* FirewallAutoDetect with http_proxy (the relay is ws://) and no_proxy naming
 * the relay: direct, the start line says why, tinyproxy sees no CONNECT. */
static void test_proxy_e2e_no_proxy_bypasses_the_environment_proxy(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    char conf[128], log[128], url[128];
    int pport;
    snprintf(log, sizeof log, "/tmp/azrelay-tinyproxy-%d.log", (int)getpid());
    unlink(log);
    pid_t tp = tinyproxy_start_logged(&pport, true, conf, sizeof conf, log);
    procs_track(tp, true); /* a failed case leaves it to the teardown */
    snprintf(url, sizeof url, "http://gw:s3cret@127.0.0.1:%d", pport);
    setenv("http_proxy", url, 1);
    setenv("no_proxy", "localhost, 127.0.0.0/8", 1);
    const char *const set[] = {"FirewallAutoDetect=True", NULL};
    int lport;
    azr_proxy *p = proxy_to(&r, &s, set, &lport);
    char line[1024], want[512];
    first_line(&s, line, sizeof line);
    snprintf(want, sizeof want,
             "proxy: direct (the relay host 127.0.0.1 matches no_proxy entry '127.0.0.0/8'; not "
             "used: HTTP CONNECT 127.0.0.1:%d (FirewallAutoDetect: http_proxy=http://"
             "127.0.0.1:%d, user from the URL)))",
             pport, pport);
    if (!strstr(line, want))
        fail_msg("'%s' does not say '%s'", line, want);
    int fd = client(lport);
    assert_true(echo_ok(p, fd));
    assert_int_equal(tinyproxy_connects(log), 0);
    assert_null(strstr(s.log, "s3cret"));
    /* ProxyRoute: the route in use, not what the environment says now */
    char out[AZR_ROUTE_SOURCE_MAX + 1];
    setenv("no_proxy", "", 1);
    assert_int_equal(azr_proxy_config(p, "ProxyRoute", out, sizeof out), 0);
    assert_non_null(strstr(out, "matches no_proxy entry '127.0.0.0/8'"));
    close(fd);
    azr_proxy_free(p);
    env_clear();
    procs_track(tp, false);
    stop_pid(tp);
    unlink(conf);
    unlink(log);
    relay_stop(&r);
}

/* ProxyServer and FirewallHost naming different proxies stop StartListening;
 * so do ProxyPort and FirewallPort at odds. The longest FirewallData,
 * ProxyAuthorization and UserAgent fit one CONNECT. */
static void test_proxy_e2e_conflicts_stop_start_listening(void **st)
{
    (void)st;
    static const struct {
        const char *set[4];
        int code;
        const char *why;
    } v[] = {
        {{"ProxyServer=squid.corp", "FirewallType=1", "FirewallHost=other.corp"},
         AZR_ERR_SETTING,
         "ProxyServer (squid.corp) and FirewallHost (other.corp) name different proxies"},
        {{"ProxyServer=squid.corp", "ProxyPort=3128", "FirewallPort=8080"},
         AZR_ERR_SETTING,
         "ProxyPort (3128) and FirewallPort (8080) differ"},
        {{"ProxyServer=squid.corp", "FirewallType=SOCKS4A"},
         AZR_ERR_SETTING,
         "ProxyServer is a setting of the HTTP CONNECT proxy, but FirewallType is 10 (SOCKS4A)"},
        {{"FirewallType=Tunnel"}, AZR_ERR_STATE, "FirewallType is 1 but FirewallHost is not set"},
        {{"FirewallAutoDetect=True"},
         AZR_ERR_SETTING,
         "FirewallAutoDetect: http_proxy is not a proxy URL azrelay can use: https:// (TLS to "
         "the proxy) is not supported"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        azr_proxy *p = azr_proxy_new(NULL, NULL);
        assert_non_null(p);
        assert_int_equal(azr_proxy_config(p, "NamespaceAddress=ws://127.0.0.1:9", NULL, 0), 0);
        assert_int_equal(azr_proxy_config(p, "HybridConnection=hc1", NULL, 0), 0);
        assert_int_equal(azr_proxy_config(p, "LocalHost=127.0.0.1", NULL, 0), 0);
        for (size_t k = 0; k < 4 && v[i].set[k]; k++)
            assert_int_equal(azr_proxy_config(p, v[i].set[k], NULL, 0), 0);
        setenv("http_proxy", "https://gw:s3cret@proxy.corp", 1);
        assert_int_equal(azr_proxy_start_listening(p), v[i].code);
        if (!strstr(azr_proxy_last_error(p), v[i].why))
            fail_msg("'%s' does not say '%s'", azr_proxy_last_error(p), v[i].why);
        assert_null(strstr(azr_proxy_last_error(p), "s3cret"));
        char out[8];
        assert_int_equal(azr_proxy_config(p, "Listening", out, sizeof out), 0);
        assert_string_equal(out, "False");
        azr_proxy_free(p);
        env_clear();
    }
    /* the longest FirewallData, ProxyAuthorization and UserAgent fit one CONNECT
     * (so does the longest value the authentication engine makes: test_proxyroute) */
    static char data[AZR_PROXY_DATA_MAX + 32], authz[AZR_PROXY_AUTHZ_MAX + 32], ua[300];
    memset(data, 'd', 13 + AZR_PROXY_DATA_MAX - 2);
    memcpy(data, "FirewallData=X: ", 16);
    memset(authz, 'a', 19 + AZR_PROXY_AUTHZ_MAX);
    memcpy(authz, "ProxyAuthorization=", 19);
    memset(ua, 'u', 10 + 255);
    memcpy(ua, "UserAgent=", 10);
    azr_proxy *p = azr_proxy_new(NULL, NULL);
    assert_int_equal(azr_proxy_config(p, "NamespaceAddress=ws://127.0.0.1:9", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "HybridConnection=hc1", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "LocalHost=127.0.0.1", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "LocalPort=0", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "ProxyServer=127.0.0.1", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, data, NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, authz, NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, ua, NULL, 0), 0);
    if (azr_proxy_start_listening(p) != 0)
        fail_msg("%s", azr_proxy_last_error(p));
    azr_proxy_free(p);
}

/* ------------------------------------- routes the connection core follows */

#define CERTS "../build/test-certs/"

/* FirewallAutoDetect takes https_proxy (wss://) with its credentials: the
 * relay is reached through tinyproxy, whose log shows the CONNECTs (Auto: a
 * 407 for the first, Basic with the second); then
 * no_proxy naming the relay sends it direct and tinyproxy sees nothing more. */
static void test_proxy_e2e_autodetect_through_tinyproxy(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--cert", CERTS "server.pem", "--key", CERTS "server.key", NULL};
    relay_start(&r, args);
    char conf[128], log[128], url[128], ns[64];
    int pport;
    snprintf(log, sizeof log, "/tmp/azrelay-tinyproxy-%d.log", (int)getpid());
    unlink(log);
    pid_t tp = tinyproxy_start_logged(&pport, true, conf, sizeof conf, log);
    procs_track(tp, true);
    snprintf(url, sizeof url, "http://gw:s3cret@127.0.0.1:%d", pport);
    setenv("https_proxy", url, 1);
    setenv("http_proxy", "http://127.0.0.1:9", 1); /* for ws:// only: not this relay's */
    snprintf(ns, sizeof ns, "wss://localhost:%d", r.port);
    const char *const set[] = {"FirewallAutoDetect=True",
                               "SSLCACertFilePaths=", "SSLServerCACerts=" CERTS "ca.pem", NULL};
    int lport;
    azr_proxy *p = proxy_at(ns, "hc1", &s, set, &lport);
    char line[1024], want[512];
    first_line(&s, line, sizeof line);
    snprintf(want, sizeof want,
             "proxy: HTTP CONNECT 127.0.0.1:%d (FirewallAutoDetect: https_proxy=http://"
             "127.0.0.1:%d, user from the URL))",
             pport, pport);
    if (!strstr(line, want))
        fail_msg("'%s' does not say '%s'", line, want);
    int fd = client(lport);
    bool ok = echo_ok(p, fd);
    if (!ok)
        fprintf(stderr, "%s\n", s.log);
    assert_true(ok);
    assert_non_null(strstr(s.log, "TLS established with localhost"));
    assert_int_equal(tinyproxy_connects(log), 2); /* Auto: a 407 first, then Basic */
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    static char text[65536];
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    snprintf(want, sizeof want, ": CONNECT localhost:%d HTTP/1.1", r.port);
    assert_non_null(strstr(text, want));
    assert_null(strstr(s.log, "s3cret"));
    close(fd);
    azr_proxy_free(p);
    /* no_proxy names the relay (curl: "localhost" matches localhost): direct */
    memset(&s, 0, sizeof s);
    setenv("no_proxy", "example.com, localhost", 1);
    p = proxy_at(ns, "hc1", &s, set, &lport);
    first_line(&s, line, sizeof line);
    assert_non_null(strstr(line, "proxy: direct (the relay host localhost matches no_proxy "
                                 "entry 'localhost'"));
    fd = client(lport);
    assert_true(echo_ok(p, fd));
    assert_int_equal(tinyproxy_connects(log), 2); /* none more */
    close(fd);
    azr_proxy_free(p);
    env_clear();
    procs_track(tp, false);
    stop_pid(tp);
    unlink(conf);
    unlink(log);
    relay_stop(&r);
}

/* all_proxy with socks5h:// and credentials, through microsocks. */
static void test_proxy_e2e_autodetect_socks5h(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    int pport;
    pid_t m = microsocks_start(&pport, true);
    procs_track(m, true);
    char url[128];
    snprintf(url, sizeof url, "socks5h://gw:s3cret@127.0.0.1:%d", pport);
    setenv("ALL_PROXY", url, 1);
    const char *const set[] = {"FirewallAutoDetect=True", NULL};
    int lport;
    azr_proxy *p = proxy_to(&r, &s, set, &lport);
    char line[1024], want[256];
    first_line(&s, line, sizeof line);
    snprintf(want, sizeof want,
             "proxy: SOCKS5 127.0.0.1:%d (FirewallAutoDetect: ALL_PROXY=socks5h://127.0.0.1:%d, "
             "user from the URL))",
             pport, pport);
    if (!strstr(line, want))
        fail_msg("'%s' does not say '%s'", line, want);
    int fd = client(lport);
    assert_true(echo_ok(p, fd));
    assert_non_null(strstr(s.log, "tunnel through 127.0.0.1"));
    close(fd);
    azr_proxy_free(p);
    env_clear();
    procs_track(m, false);
    stop_pid(m);
    relay_stop(&r);
}

/* Dante (a second SOCKS server beside microsocks): SOCKS4 (the relay's name
 * looked up here, by the resolver, sent as an IPv4 address), SOCKS4A and
 * SOCKS5 (the name sent to the proxy). */
static void test_proxy_e2e_dante_socks4_4a_5(void **st)
{
    (void)st;
    relay r;
    relay_start(&r, NULL);
    int pport;
    char log[128];
    pid_t d = dante_start(&pport, log, sizeof log);
    procs_track(d, true);
    const char *const types[] = {"FirewallType=2", "FirewallType=10", "FirewallType=3"};
    for (int i = 0; i < 3; i++) {
        static seen s;
        memset(&s, 0, sizeof s);
        char ns[64], host[64], port[32];
        /* SOCKS4 by name: "localhost" comes from /etc/hosts through our
         * resolver (IPv4, UseIPv6=0); the others send the name, and dante
         * would take localhost's ::1 where the relay does not listen */
        snprintf(ns, sizeof ns, "ws://%s:%d", i == 0 ? "localhost" : "127.0.0.1", r.port);
        snprintf(host, sizeof host, "FirewallHost=127.0.0.1");
        snprintf(port, sizeof port, "FirewallPort=%d", pport);
        const char *const set[] = {types[i], host, port, "UseIPv6=0", NULL};
        int lport;
        azr_proxy *p = proxy_at(ns, "hc1", &s, set, &lport);
        int fd = client(lport);
        if (!echo_ok(p, fd))
            fail_msg("%s through dante: %s\n%s", types[i], s.connected_desc, s.log);
        assert_non_null(strstr(s.log, "tunnel through 127.0.0.1"));
        if (i == 0) /* SOCKS4: the relay's name went through the resolver, from /etc/hosts */
            assert_non_null(strstr(s.log, "localhost is 127.0.0.1"));
        close(fd);
        azr_proxy_free(p);
    }
    procs_track(d, false);
    stop_pid(d);
    relay_stop(&r);
}

/* ProxyServer alone (no FirewallType): the CONNECT goes to it, with
 * FirewallData; ProxyAuthScheme Auto sends no credentials to a proxy that
 * does not ask for them. */
static void test_proxy_e2e_proxy_server(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    fake_proxy f;
    fake_start(&f, r.port, 200);
    char port[32];
    snprintf(port, sizeof port, "ProxyPort=%d", f.port);
    const char *const set[] = {
        "ProxyServer=127.0.0.1",        port, "ProxyUser=gw", "ProxyPassword=s3cret",
        "FirewallData=X-Gateway: gw-7", NULL};
    int lport;
    azr_proxy *p = proxy_to(&r, &s, set, &lport);
    int fd = client(lport);
    assert_true(echo_ok(p, fd));
    close(fd);
    azr_proxy_free(p);
    fake_stop(&f);
    assert_int_equal(f.requests, 1);
    assert_null(strstr(f.head, "Proxy-Authorization"));
    assert_non_null(strstr(f.head, "\r\nX-Gateway: gw-7\r\n\r\n"));
    relay_stop(&r);
}

/* ProxyExceptionsList beside FirewallType=1: the relay is reached direct. */
static void test_proxy_e2e_exceptions_list_goes_direct(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    fake_proxy f;
    fake_start(&f, r.port, 200);
    char port[32];
    snprintf(port, sizeof port, "FirewallPort=%d", f.port);
    const char *const set[] = {"FirewallType=1", "FirewallHost=127.0.0.1", port,
                               "ProxyExceptionsList=10.0.0.0/8;127.0.0.0/8", NULL};
    int lport;
    azr_proxy *p = proxy_to(&r, &s, set, &lport);
    int fd = client(lport);
    assert_true(echo_ok(p, fd));
    assert_non_null(strstr(s.log, "matches ProxyExceptionsList entry '127.0.0.0/8'"));
    close(fd);
    azr_proxy_free(p);
    fake_stop(&f);
    assert_int_equal(f.requests, 0);
    relay_stop(&r);
}

/* The daemon with http_proxy in its environment: its start line names the
 * proxy and where it came from, and its client's bytes go through tinyproxy. */
static void test_proxy_e2e_daemon_takes_the_environment_proxy(void **st)
{
    (void)st;
    relay r;
    relay_start(&r, NULL);
    char conf[128], log[128], url[128], ns[64];
    int pport;
    snprintf(log, sizeof log, "/tmp/azrelay-tinyproxy-%d.log", (int)getpid());
    unlink(log);
    pid_t tp = tinyproxy_start_logged(&pport, true, conf, sizeof conf, log);
    procs_track(tp, true);
    snprintf(url, sizeof url, "http://gw:s3cret@127.0.0.1:%d", pport);
    snprintf(ns, sizeof ns, "NamespaceAddress=ws://127.0.0.1:%d", r.port);
    const char *bin = getenv("AZR_PROXY_BIN") ? getenv("AZR_PROXY_BIN") : "../build/azrelay-proxy";
    const char *const argv[] = {bin,
                                ns,
                                "HybridConnection=hc1",
                                "AccessKeyName=RootManageSharedAccessKey",
                                "AccessKey=" KEY,
                                "LocalHost=127.0.0.1",
                                "LocalPort=0",
                                "LogLevel=2",
                                "FirewallAutoDetect=True",
                                NULL};
    setenv("http_proxy", url, 1); /* the daemon inherits it */
    relay d;
    proc_start(&d, argv, 2);
    env_clear();
    char line[1024], want[256];
    if (!relay_match(&d, "listening on 127.0.0.1:", false, line, sizeof line, 10000)) {
        relay_dump(&d, "azrelay-proxy");
        fail_msg("the daemon did not start");
    }
    snprintf(want, sizeof want,
             "proxy: HTTP CONNECT 127.0.0.1:%d (FirewallAutoDetect: http_proxy=http://"
             "127.0.0.1:%d, user from the URL))",
             pport, pport);
    if (!strstr(line, want))
        fail_msg("'%s' does not say '%s'", line, want);
    assert_null(strstr(line, "s3cret"));
    int dport = (int)strtol(strstr(line, "127.0.0.1:") + 10, NULL, 10);
    int fd = tcp_to(dport);
    assert_true(fd >= 0);
    assert_true(write_all(fd, "through tinyproxy", 17));
    char buf[32];
    size_t got = 0;
    struct pollfd pf = {fd, POLLIN, 0};
    while (got < 17 && poll(&pf, 1, 10000) == 1) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    assert_int_equal(got, 17);
    assert_memory_equal(buf, "through tinyproxy", 17);
    close(fd);
    assert_int_equal(tinyproxy_connects(log), 2); /* Auto: a 407 first, then Basic */
    relay_stop(&d);
    procs_track(tp, false);
    stop_pid(tp);
    unlink(conf);
    unlink(log);
    relay_stop(&r);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    env_clear(); /* the suite's own environment decides nothing */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_proxy_e2e_firewall_data_reaches_the_proxy, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_proxy_refusal_names_the_settings, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_negotiate_refused_at_connect, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_socks_ignores_firewall_data, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_no_proxy_bypasses_the_environment_proxy, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_conflicts_stop_start_listening, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_autodetect_through_tinyproxy, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_autodetect_socks5h, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_proxy_server, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_dante_socks4_4a_5, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_exceptions_list_goes_direct, teardown),
        cmocka_unit_test_teardown(test_proxy_e2e_daemon_takes_the_environment_proxy, teardown),
    };
    return cmocka_run_group_tests_name("proxy_e2e", tests, NULL, NULL);
}
