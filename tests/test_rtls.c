/*
 * TLS towards the relay (rtls.c), against openssl s_server standing in for
 * the relay's TLS endpoint (certificates from tests/tls/make-certs.sh):
 * SSLSecurityFlags' three loosenings, each refused without its flag and
 * accepted with it (and only with it), and ReuseSSLSession's resumption,
 * against s_server and against the bundled emulator.
 *
 * s_server -www answers the upgrade request with its status page (HTTP/1.0
 * 200), so a connection whose TLS handshake passed ends as "relay: 200";
 * one whose certificate was refused ends with AZR_ERR_TLS and the reason.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"
#include "tls.h"

#define CERTS "../build/test-certs/"

static relay srv;

static void s_server(const char *cert, const char *key)
{
    /* port 0: s_server prints the one it got ("ACCEPT [::]:40123") */
    const char *argv[] = {"openssl", "s_server", "-accept", "0",       "-cert", cert,
                          "-key",    key,        "-www",    "-tls1_2", NULL};
    proc_start(&srv, argv, 1);
    char line[256];
    assert_true(relay_match(&srv, "ACCEPT", true, line, sizeof line, 10000));
    srv.port = (int)strtol(strrchr(line, ':') + 1, NULL, 10);
    assert_true(srv.port > 0);
}

/* One client through a proxy whose relay is the s_server; how it ended. */
static void one(const char *flags, const char *reuse, seen *s, int conns)
{
    char ns[64], fl[64], ru[64];
    snprintf(ns, sizeof ns, "wss://localhost:%d", srv.port);
    snprintf(fl, sizeof fl, "SSLSecurityFlags=%s", flags);
    snprintf(ru, sizeof ru, "ReuseSSLSession=%s", reuse);
    const char *const set[] = {"SSLCACertFilePaths=",
                               "SSLServerCACerts=" CERTS "ca.pem",
                               fl,
                               ru,
                               "ConnectionTimeout=5",
                               NULL};
    int port;
    memset(s, 0, sizeof *s);
    azr_proxy *p = proxy_at(ns, "hc1", s, set, &port);
    for (int i = 1; i <= conns; i++) {
        int fd = client(port);
        SPIN(p, s->disconnected == i, 10000);
        if (s->disconnected != i)
            fail_msg("connection %d did not end\n%s", i, s->log);
        close(fd);
    }
    azr_proxy_free(p);
}

static void refused(const char *flags, const char *why)
{
    static seen s;
    one(flags, "False", &s, 1);
    assert_int_equal(s.disconnected_status, AZR_ERR_TLS);
    if (!strstr(s.disconnected_desc, why))
        fail_msg("flags %s: '%s' lacks '%s'", flags, s.disconnected_desc, why);
    assert_null(strstr(s.ssl_status, "relay: TLS established"));
}

static void passed(const char *flags, const char *warning)
{
    static seen s;
    one(flags, "False", &s, 1);
    if (s.disconnected_status != 200 || !strstr(s.ssl_status, "relay: TLS established"))
        fail_msg("flags %s: %d %s\n%s", flags, s.disconnected_status, s.disconnected_desc,
                 s.ssl_status);
    if (!strstr(s.log, warning))
        fail_msg("flags %s: no warning '%s' in\n%s", flags, warning, s.log);
}

static void test_rtls_good_certificate(void **st)
{
    (void)st;
    s_server(CERTS "server.pem", CERTS "server.key");
    passed("0", "relay: 200");
    relay_stop(&srv);
}

static void test_rtls_wrong_host_name(void **st)
{
    (void)st;
    s_server(CERTS "wrongname.pem", CERTS "wrongname.key");
    refused("0", "certificate does not match the host name");
    refused("0x10", "certificate does not match the host name");
    refused("0x1", "certificate does not match the host name");
    passed("0x80000000", "warning: SSLSecurityFlags 0x80000000");
    relay_stop(&srv);
}

static void test_rtls_expired(void **st)
{
    (void)st;
    s_server(CERTS "expired.pem", CERTS "expired.key");
    refused("0", "certificate expired or not yet valid");
    refused("0x80000010", "certificate expired or not yet valid");
    passed("0x1", "warning: SSLSecurityFlags 0x1");
    relay_stop(&srv);
}

static void test_rtls_unknown_ca(void **st)
{
    (void)st;
    s_server(CERTS "other.pem", CERTS "other.key");
    refused("0", "certificate not trusted");
    refused("0x80000001", "certificate not trusted");
    passed("0x10", "relay certificate from an unknown CA accepted");
    relay_stop(&srv);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Issue 13: towards the relay we offer the order the local side uses.
 * s_server takes the client's order (no -serverpref), so the suite it
 * picks is the first we offer: AES-GCM with AES instructions, ChaCha20
 * without. */
static void test_rtls_offers_cpu_order(void **st)
{
    (void)st;
    static seen s;
    s_server(CERTS "server.pem", CERTS "server.key");
    one("0", "False", &s, 1);
    const char *want = azr_tls_aes_hw()
                           ? "TLS 1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, full handshake"
                           : "TLS 1.2, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, full "
                             "handshake";
    if (!strstr(s.ssl_status, want))
        fail_msg("wanted '%s' in\n%s", want, s.ssl_status);
    relay_stop(&srv);
}

/* ReuseSSLSession against s_server's session cache: the first connection
 * makes a session, the next two resume it; without the setting, none does. */
static void test_rtls_reuse_session_s_server(void **st)
{
    (void)st;
    static seen s;
    s_server(CERTS "server.pem", CERTS "server.key");
    one("0", "True", &s, 3);
    assert_int_equal(count(s.ssl_status, "full handshake"), 1);
    assert_int_equal(count(s.ssl_status, "session resumed"), 2);
    assert_int_equal(count(s.ssl_status, "offering the kept session"), 2);
    one("0", "False", &s, 3);
    assert_int_equal(count(s.ssl_status, "full handshake"), 3);
    assert_int_equal(count(s.ssl_status, "session resumed"), 0);
    relay_stop(&srv);
}

/* The same through the bundled emulator over wss:// (its session cache),
 * with bytes echoed on the resumed session. */
static void test_rtls_reuse_session_emulator(void **st)
{
    (void)st;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *bin = getenv("AZR_EMU_BIN") ? getenv("AZR_EMU_BIN") : "../build/azrelay-emu";
    relay emu;
    const char *argv[] = {bin,
                          "--port",
                          "0",
                          "--rule",
                          "RootManageSharedAccessKey:" KEY,
                          "--cert",
                          CERTS "server.pem",
                          "--key",
                          CERTS "server.key",
                          "--host",
                          "localhost",
                          "--echo",
                          "hc1",
                          NULL};
    proc_start(&emu, argv, 2);
    char line[512];
    assert_true(relay_match(&emu, "listening on ", false, line, sizeof line, 10000));
    int eport = (int)strtol(strstr(line, "127.0.0.1:") + 10, NULL, 10);
    char ns[64];
    snprintf(ns, sizeof ns, "wss://localhost:%d", eport);
    const char *const set[] = {"SSLCACertFilePaths=", "SSLServerCACerts=" CERTS "ca.pem",
                               "ReuseSSLSession=True", NULL};
    int port;
    azr_proxy *p = proxy_at(ns, "hc1", &s, set, &port);
    for (int i = 1; i <= 2; i++) {
        int fd = client(port);
        uint8_t out[4096], back[4096];
        random_bytes(out, sizeof out);
        assert_int_equal(exchange(p, fd, out, back, sizeof out, true, 10000), sizeof out);
        assert_memory_equal(out, back, sizeof out);
        SPIN(p, s.disconnected == i, 10000);
        close(fd);
    }
    assert_int_equal(count(s.ssl_status, "full handshake"), 1);
    assert_int_equal(count(s.ssl_status, "session resumed"), 1);
    azr_proxy_free(p);
    relay_stop(&emu);
}

static int reap(void **st)
{
    (void)st;
    procs_kill_all();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_rtls_good_certificate, reap),
        cmocka_unit_test_teardown(test_rtls_wrong_host_name, reap),
        cmocka_unit_test_teardown(test_rtls_expired, reap),
        cmocka_unit_test_teardown(test_rtls_unknown_ca, reap),
        cmocka_unit_test_teardown(test_rtls_offers_cpu_order, reap),
        cmocka_unit_test_teardown(test_rtls_reuse_session_s_server, reap),
        cmocka_unit_test_teardown(test_rtls_reuse_session_emulator, reap),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("rtls", tests, NULL, NULL);
}
