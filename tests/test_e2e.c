/*
 * The proxy end to end, in process, over real sockets on 127.0.0.1, against
 * an independent WebSocket peer: tests/node/ws-relay.js (Node's ws) playing
 * the relay's sender endpoint and a listener behind it. Every loop is bounded
 * in time; every case checks the events the application sees.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"
#include "sha256.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

static const char *tls_host; /* set: wss://tls_host:port */

static azr_proxy *proxy_for(relay *r, seen *s, const char *const *settings, int *port)
{
    char ns[300];
    if (tls_host)
        snprintf(ns, sizeof ns, "wss://%s:%d", tls_host, r ? r->port : 9);
    else
        snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", r ? r->port : 9);
    return proxy_at(ns, "hc1", s, settings, port);
}

/* ------------------------------------------------------------------ cases */

static void test_e2e_echo_both_ways_and_half_close(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    int port;
    azr_proxy *p = proxy_for(&r, &s, NULL, &port);
    int fd = client(port);
    /* 10 MiB of random bytes out, all of it back, in order (sha256 and bytes equal) */
    static uint8_t out[10 << 20], back[10 << 20];
    FILE *rnd = fopen("/dev/urandom", "rb");
    assert_non_null(rnd);
    assert_int_equal(fread(out, 1, sizeof out, rnd), sizeof out);
    fclose(rnd);
    size_t sent = 0, got = 0;
    bool fin = false;
    uint64_t stop = ms() + 60000;
    while (got < sizeof back && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        if (sent < sizeof out) {
            ssize_t n = write(fd, out + sent, sizeof out - sent);
            if (n > 0)
                sent += (size_t)n;
        } else if (!fin) {
            shutdown(fd, SHUT_WR); /* half-close: the echo must still come back */
            fin = true;
        }
        ssize_t n = take(fd, back + got, sizeof back - got);
        if (n > 0)
            got += (size_t)n;
        if (n == 0)
            break;
    }
    assert_int_equal(got, sizeof out);
    uint8_t h1[32], h2[32];
    azr_sha256(out, sizeof out, h1);
    azr_sha256(back, sizeof back, h2);
    assert_memory_equal(h1, h2, 32);
    assert_memory_equal(back, out, sizeof out);
    /* then EOF from the proxy, and one Disconnected with status 0 */
    uint8_t b;
    ssize_t n = -1;
    stop = ms() + 10000;
    while (n < 0 && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 20), 0);
        n = take(fd, &b, 1);
    }
    assert_int_equal(n, 0);
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.requests, 1);
    assert_int_equal(s.connected, 1);
    assert_int_equal(s.connected_status, 0);
    assert_int_equal(s.disconnected, 1);
    assert_int_equal(s.disconnected_status, 0);
    assert_non_null(strstr(s.disconnected_desc, "client finished"));
    /* what the relay saw: path, action, id, token in the header, no key */
    char line[8192];
    assert_true(relay_line(&r, "REQUEST ", line, sizeof line, 2000));
    assert_non_null(strstr(line, "\"path\":\"/$hc/hc1\""));
    assert_non_null(strstr(line, "\"sb-hc-action\":\"connect\""));
    assert_non_null(strstr(line, "\"sb-hc-id\":\""));
    assert_non_null(strstr(line, "\"servicebusauthorization\":\"SharedAccessSignature "
                                 "sr=sb%3a%2f%2f127.0.0.1%2fhc1&sig="));
    assert_null(strstr(line, KEY));
    assert_null(strstr(line, "sec-websocket-extensions"));
    assert_null(strstr(s.log, KEY));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_e2e_relay_refuses(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--mode", "reject", NULL};
    relay_start(&r, args);
    int port;
    const char *const set[] = {"ConnectionTimeout=1", NULL};
    azr_proxy *p = proxy_for(&r, &s, set, &port);
    int fd = client(port);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.connected, 1);
    assert_int_equal(s.connected_status, 404);
    assert_non_null(strstr(s.connected_desc,
                           "relay: 404 There are no listeners connected for the endpoint. "
                           "TrackingId:test_G13 (no listener connected"));
    assert_int_equal(s.disconnected_status, 404);
    /* the client is closed without a byte */
    uint8_t b;
    ssize_t n = -1;
    uint64_t stop = ms() + 2000;
    while (n < 0 && ms() < stop)
        n = take(fd, &b, 1);
    assert_int_equal(n, 0);
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_e2e_relay_unreachable(void **st)
{
    (void)st;
    static seen s;
    memset(&s, 0, sizeof s);
    int port;
    /* port 9 on loopback: nothing listens there; tried again for 1 s */
    const char *const set[] = {"ConnectionTimeout=1", NULL};
    azr_proxy *p = proxy_for(NULL, &s, set, &port);
    int fd = client(port);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.connected_status, AZR_ERR_IO);
    assert_non_null(
        strstr(s.connected_desc, "TCP connect to relay 127.0.0.1:9 failed: Connection refused"));
    assert_non_null(strstr(s.connected_desc, "attempts"));
    close(fd);
    azr_proxy_free(p);
}

static void test_e2e_connection_timeout(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--mode", "silent", NULL};
    const char *const set[] = {"ConnectionTimeout=1", NULL};
    relay_start(&r, args);
    int port;
    azr_proxy *p = proxy_for(&r, &s, set, &port);
    int fd = client(port);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.connected_status, AZR_ERR_TIMEOUT);
    assert_string_equal(s.connected_desc, "relay did not answer within 1 s (ConnectionTimeout), "
                                          "during the WebSocket upgrade");
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_e2e_listener_closes_first(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--mode", "close-first", NULL};
    relay_start(&r, args);
    int port;
    azr_proxy *p = proxy_for(&r, &s, NULL, &port);
    int fd = client(port);
    uint8_t buf[16];
    size_t got = 0;
    ssize_t n = -1;
    uint64_t stop = ms() + 10000;
    while (ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        n = take(fd, buf + got, sizeof buf - got);
        if (n > 0)
            got += (size_t)n;
        if (n == 0)
            break;
    }
    /* the data, then FIN (relay close -> drain -> shutdown) */
    assert_int_equal(n, 0);
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "bye", 3);
    /* our side can still send until we close: then the proxy finishes */
    assert_int_equal(write(fd, "late", 4), 4);
    shutdown(fd, SHUT_WR);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.disconnected_status, 0);
    assert_non_null(strstr(s.disconnected_desc, "relay closed 4001: listener closed first"));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_e2e_relay_drops(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--mode", "drop", NULL};
    relay_start(&r, args);
    int port;
    azr_proxy *p = proxy_for(&r, &s, NULL, &port);
    int fd = client(port);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.disconnected, 1);
    assert_int_not_equal(s.disconnected_status, 0);
    assert_non_null(strstr(s.disconnected_desc, "relay connection lost"));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_e2e_refused_by_application(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    s.refuse = 1;
    relay_start(&r, NULL);
    int port;
    azr_proxy *p = proxy_for(&r, &s, NULL, &port);
    int fd = client(port);
    uint8_t b;
    ssize_t n = -1;
    uint64_t stop = ms() + 5000;
    while (n < 0 && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        n = take(fd, &b, 1);
    }
    assert_int_equal(n, 0);
    assert_int_equal(s.requests, 1);
    assert_int_equal(s.connected + s.disconnected, 0); /* never accepted */
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_e2e_disconnect_and_connections(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    int port;
    azr_proxy *p = proxy_for(&r, &s, NULL, &port);
    int fd = client(port);
    SPIN(p, s.connected == 1, 10000);
    assert_int_equal(s.connected_status, 0);
    assert_int_equal(azr_proxy_connection_count(p), 1);
    int ids[4];
    assert_int_equal(azr_proxy_connection_ids(p, ids, 4), 1);
    azr_connection_info info;
    assert_int_equal(azr_proxy_connection_info(p, ids[0], &info), 0);
    assert_true(info.connected);
    assert_string_equal(info.remote_host, "127.0.0.1");
    char out[64], name[32];
    snprintf(name, sizeof name, "RemoteHost[%d]", ids[0]);
    assert_int_equal(azr_proxy_config(p, name, out, sizeof out), 0);
    assert_string_equal(out, "127.0.0.1");
    assert_int_equal(azr_proxy_disconnect(p, ids[0]), 0);
    assert_int_equal(s.disconnected, 1);
    assert_string_equal(s.disconnected_desc, "disconnected by the application");
    assert_int_equal(azr_proxy_disconnect(p, ids[0]), AZR_ERR_NOT_FOUND);
    assert_int_equal(azr_proxy_last_error_code(p), AZR_ERR_NOT_FOUND);
    SPIN(p, azr_proxy_connection_count(p) == 0, 2000);
    assert_int_equal(azr_proxy_connection_count(p), 0);
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_e2e_idle_timeout(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const set[] = {"DefaultIdleTimeout=1", NULL};
    relay_start(&r, NULL);
    int port;
    azr_proxy *p = proxy_for(&r, &s, set, &port);
    int fd = client(port);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.connected_status, 0);
    assert_int_equal(s.disconnected_status, AZR_ERR_TIMEOUT);
    assert_string_equal(s.disconnected_desc,
                        "idle timeout: no client traffic for 1 s (IdleTimeout)");
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* A client that does not read while the listener sends 16 MiB: the proxy
 * holds only its buffers (the rest waits in TCP), then all of it arrives. */
static void test_e2e_slow_reader_pushes_back(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--mode", "source", "--bytes", "16777216", NULL};
    const char *const set[] = {"OutBufferSize=65536", NULL};
    relay_start(&r, args);
    int port;
    azr_proxy *p = proxy_for(&r, &s, set, &port);
    int fd = client(port);
    SPIN(p, s.connected == 1, 10000);
    uint64_t stop = ms() + 1000;
    while (ms() < stop)
        assert_int_equal(azr_proxy_do_events(p, 20), 0);
    int ids[1];
    assert_int_equal(azr_proxy_connection_ids(p, ids, 1), 1);
    azr_connection_info info;
    assert_int_equal(azr_proxy_connection_info(p, ids[0], &info), 0);
    /* what went to the client is bounded by the socket buffers between us */
    assert_true(info.bytes_out < 2u << 20);
    /* now read everything and compare with what the listener hashed */
    azr_sha256_ctx h;
    azr_sha256_init(&h);
    static uint8_t buf[65536];
    size_t total = 0;
    stop = ms() + 60000;
    while (ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 2), 0);
        ssize_t n = take(fd, buf, sizeof buf);
        if (n > 0) {
            azr_sha256_update(&h, buf, (size_t)n);
            total += (size_t)n;
        }
        if (n == 0)
            break;
    }
    uint8_t d[32];
    char hex[65], line[256];
    azr_sha256_final(&h, d);
    tu_tohex(d, 32, hex);
    if (total != 16777216 && azr_proxy_connection_info(p, ids[0], &info) == 0)
        fprintf(stderr, "bytes_out %llu total %zu\n", (unsigned long long)info.bytes_out, total);
    if (total != 16777216)
        fprintf(stderr, "disconnected: %d %s\nlog:\n%s\n", s.disconnected_status,
                s.disconnected_desc, s.log + (strlen(s.log) > 3000 ? strlen(s.log) - 3000 : 0));
    assert_int_equal(total, 16777216);
    assert_true(relay_line(&r, "SENT ", line, sizeof line, 5000));
    assert_non_null(strstr(line, hex));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* A client that resets its connection: the relay side is closed too, with a reason. */
static void test_e2e_client_reset(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    int port;
    azr_proxy *p = proxy_for(&r, &s, NULL, &port);
    int fd = client(port);
    SPIN(p, s.connected == 1, 10000);
    struct linger l = {1, 0};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
    close(fd); /* RST */
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.disconnected, 1);
    assert_int_not_equal(s.disconnected_status, 0);
    assert_non_null(strstr(s.disconnected_desc, "client reset"));
    SPIN(p, azr_proxy_connection_count(p) == 0, 2000);
    assert_int_equal(azr_proxy_connection_count(p), 0);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* Keep-alive: with RelayKeepAliveInterval=1 an idle connection pings the
 * relay every second; ws answers with pongs, so after 3.5 idle seconds the
 * connection still works. */
static void test_e2e_keepalive_pings_are_answered(void **st)
{
    (void)st;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const set[] = {"RelayKeepAliveInterval=1", NULL};
    relay_start(&r, NULL);
    int port;
    azr_proxy *p = proxy_for(&r, &s, set, &port);
    int fd = client(port);
    SPIN(p, s.connected == 1, 10000);
    uint64_t stop = ms() + 3500;
    while (ms() < stop)
        assert_int_equal(azr_proxy_do_events(p, 50), 0);
    assert_int_equal(s.disconnected, 0);
    assert_non_null(strstr(s.log, "relay silent for 1 s: ping"));
    assert_int_equal(write(fd, "ping?", 5), 5);
    uint8_t buf[8];
    ssize_t n = -1;
    stop = ms() + 5000;
    while (n < 0 && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        n = take(fd, buf, sizeof buf);
    }
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "ping?", 5);
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* ------------------------------------------------------- outbound proxies */

/* Echo a few KiB through the proxy; returns true when all came back. */
static bool echo_small(azr_proxy *p, int fd)
{
    static uint8_t out[8192], back[8192];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)(i * 13);
    size_t sent = 0, got = 0;
    uint64_t stop = ms() + 15000;
    while (got < sizeof back && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        if (sent < sizeof out) {
            ssize_t n = write(fd, out + sent, sizeof out - sent);
            if (n > 0)
                sent += (size_t)n;
        }
        ssize_t n = take(fd, back + got, sizeof back - got);
        if (n > 0)
            got += (size_t)n;
        if (n == 0)
            break;
    }
    return got == sizeof out && memcmp(out, back, got) == 0;
}

static void through(const char *const *set, int proxy_port, bool expect_ok, int want_status,
                    const char *want_text)
{
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_start(&r, NULL);
    char host[64], port[32];
    snprintf(host, sizeof host, "FirewallHost=127.0.0.1");
    snprintf(port, sizeof port, "FirewallPort=%d", proxy_port);
    const char *all[8] = {0};
    int k = 0;
    for (; set[k]; k++)
        all[k] = set[k];
    all[k++] = host;
    all[k++] = port;
    int lport;
    azr_proxy *p = proxy_for(&r, &s, all, &lport);
    int fd = client(lport);
    if (expect_ok) {
        bool ok = echo_small(p, fd);
        if (!ok)
            fprintf(stderr, "%s\n", s.log);
        assert_true(ok);
        assert_int_equal(s.connected_status, 0);
        assert_non_null(strstr(s.log, "tunnel through 127.0.0.1"));
    } else {
        SPIN(p, s.disconnected == 1, 10000);
        if (s.connected_status != want_status)
            fail_msg("status %d, want %d: %s", s.connected_status, want_status, s.connected_desc);
        if (!strstr(s.connected_desc, want_text))
            fail_msg("'%s' does not say '%s'", s.connected_desc, want_text);
    }
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_e2e_http_connect_via_tinyproxy(void **st)
{
    (void)st;
    char conf[128];
    int pport;
    pid_t tp = tinyproxy_start(&pport, true, conf, sizeof conf);
    const char *const good[] = {"FirewallType=1", "FirewallUser=gw", "FirewallPassword=s3cret",
                                NULL};
    through(good, pport, true, 0, NULL);
    const char *const none[] = {"FirewallType=1", NULL};
    /* tinyproxy 1.11 answers 401 (not 407) to a CONNECT without credentials */
    through(none, pport, false, AZR_ERR_AUTH, "set FirewallUser and FirewallPassword");
    const char *const bad[] = {"FirewallType=1", "FirewallUser=gw", "FirewallPassword=wrong", NULL};
    through(bad, pport, false, AZR_ERR_AUTH, "check FirewallUser and FirewallPassword");
    stop_pid(tp);
    unlink(conf);
}

static void test_e2e_socks5_via_microsocks(void **st)
{
    (void)st;
    int pport;
    pid_t ms5 = microsocks_start(&pport, true);
    const char *const good[] = {"FirewallType=SOCKS5", "FirewallUser=gw", "FirewallPassword=s3cret",
                                NULL};
    through(good, pport, true, 0, NULL);
    const char *const none[] = {"FirewallType=SOCKS5", NULL};
    through(none, pport, false, AZR_ERR_AUTH, "set FirewallUser and FirewallPassword");
    const char *const bad[] = {"FirewallType=SOCKS5", "FirewallUser=gw", "FirewallPassword=wrong",
                               NULL};
    through(bad, pport, false, AZR_ERR_AUTH, "refused the user name or password");
    stop_pid(ms5);
    pid_t open5 = microsocks_start(&pport, false);
    const char *const anon[] = {"FirewallType=3", NULL};
    through(anon, pport, true, 0, NULL);
    stop_pid(open5);
}

static void test_e2e_proxy_unreachable(void **st)
{
    (void)st;
    const char *const set[] = {"FirewallType=1", "ConnectionTimeout=1", NULL};
    through(set, 9, false, AZR_ERR_IO,
            "TCP connect to proxy 127.0.0.1:9 failed: Connection refused (check FirewallHost");
}

/* ---------------------------------------------------------------- wss:// */

#define CERTS "../build/test-certs/"

static void tls_relay(relay *r, const char *cert, const char *key)
{
    /* the certificates name "localhost": the machine must resolve it (/etc/hosts) */
    struct addrinfo *ai = NULL;
    if (getaddrinfo("localhost", NULL, NULL, &ai) != 0)
        fail_msg("this machine cannot resolve 'localhost' (no /etc/hosts entry?)");
    freeaddrinfo(ai);
    const char *const args[] = {"--cert", cert, "--key", key, NULL};
    relay_start(r, args);
}

static void wss_echo(const char *out_buffer)
{
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    tls_relay(&r, CERTS "server.pem", CERTS "server.key");
    tls_host = "localhost";
    const char *const set[] = {"SSLCACertFilePaths=", "SSLServerCACerts=" CERTS "ca.pem",
                               out_buffer, NULL};
    int port;
    azr_proxy *p = proxy_for(&r, &s, set, &port);
    tls_host = NULL;
    int fd = client(port);
    static uint8_t out[10 << 20], back[10 << 20];
    FILE *rnd = fopen("/dev/urandom", "rb");
    assert_non_null(rnd);
    assert_int_equal(fread(out, 1, sizeof out, rnd), sizeof out);
    fclose(rnd);
    size_t sent = 0, got = 0;
    uint64_t stop = ms() + 60000;
    while (got < sizeof back && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        if (sent < sizeof out) {
            ssize_t n = write(fd, out + sent, sizeof out - sent);
            if (n > 0)
                sent += (size_t)n;
        }
        ssize_t n = take(fd, back + got, sizeof back - got);
        if (n > 0)
            got += (size_t)n;
        if (n == 0)
            break;
    }
    if (got != sizeof out)
        fprintf(stderr, "%s\n", s.log);
    assert_int_equal(got, sizeof out);
    assert_memory_equal(back, out, sizeof out);
    assert_int_equal(s.connected_status, 0);
    assert_non_null(strstr(s.log, "TLS established with localhost"));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* 10 MiB both ways over wss://, with the default TLS output buffer (4096)
 * and the smallest and largest SSLOutBufferSize (issue 13). */
static void test_e2e_wss_echo(void **st)
{
    (void)st;
    wss_echo("SSLOutBufferSize=4096");
    wss_echo("SSLOutBufferSize=512");
    wss_echo("SSLOutBufferSize=16384");
}

static void tls_refused(const char *cert, const char *key, const char *host, const char *want)
{
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    tls_relay(&r, cert, key);
    tls_host = host;
    const char *const set[] = {"SSLCACertFilePaths=", "SSLServerCACerts=" CERTS "ca.pem", NULL};
    int port;
    azr_proxy *p = proxy_for(&r, &s, set, &port);
    tls_host = NULL;
    int fd = client(port);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.connected_status, AZR_ERR_TLS);
    if (!strstr(s.connected_desc, want))
        fail_msg("'%s' does not say '%s'", s.connected_desc, want);
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_e2e_wss_unknown_ca_refused(void **st)
{
    (void)st;
    tls_refused(CERTS "other.pem", CERTS "other.key", "localhost", "not trusted");
}

static void test_e2e_wss_name_mismatch_refused(void **st)
{
    (void)st;
    tls_refused(CERTS "server.pem", CERTS "server.key", "127.0.0.1",
                "does not match the host name");
}

static void test_e2e_wss_without_anchors(void **st)
{
    (void)st;
    azr_proxy *p = azr_proxy_new(NULL, NULL);
    assert_int_equal(azr_proxy_config(p, "NamespaceAddress=wss://localhost:1", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "HybridConnection=hc1", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "SSLCACertFilePaths=/nonexistent.pem", NULL, 0), 0);
    assert_int_equal(azr_proxy_start_listening(p), AZR_ERR_STATE);
    assert_non_null(strstr(azr_proxy_last_error(p), "no CA certificates for wss://"));
    /* a proxy type without a proxy host is refused */
    assert_int_equal(azr_proxy_config(p, "FirewallType=3", NULL, 0), 0);
    assert_int_equal(azr_proxy_start_listening(p), AZR_ERR_STATE);
    assert_non_null(strstr(azr_proxy_last_error(p), "FirewallHost is not set"));
    assert_int_equal(azr_proxy_config(p, "FirewallType=0", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "SSLServerCACerts=" CERTS "server.key", NULL, 0), 0);
    assert_int_equal(azr_proxy_start_listening(p), AZR_ERR_SETTING);
    assert_non_null(strstr(azr_proxy_last_error(p), "no CERTIFICATE"));
    azr_proxy_free(p);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2e_echo_both_ways_and_half_close),
        cmocka_unit_test(test_e2e_relay_refuses),
        cmocka_unit_test(test_e2e_relay_unreachable),
        cmocka_unit_test(test_e2e_connection_timeout),
        cmocka_unit_test(test_e2e_listener_closes_first),
        cmocka_unit_test(test_e2e_relay_drops),
        cmocka_unit_test(test_e2e_refused_by_application),
        cmocka_unit_test(test_e2e_disconnect_and_connections),
        cmocka_unit_test(test_e2e_idle_timeout),
        cmocka_unit_test(test_e2e_slow_reader_pushes_back),
        cmocka_unit_test(test_e2e_client_reset),
        cmocka_unit_test(test_e2e_keepalive_pings_are_answered),
        cmocka_unit_test(test_e2e_http_connect_via_tinyproxy),
        cmocka_unit_test(test_e2e_socks5_via_microsocks),
        cmocka_unit_test(test_e2e_proxy_unreachable),
        cmocka_unit_test(test_e2e_wss_echo),
        cmocka_unit_test(test_e2e_wss_unknown_ca_refused),
        cmocka_unit_test(test_e2e_wss_name_mismatch_refused),
        cmocka_unit_test(test_e2e_wss_without_anchors),
    };
    return cmocka_run_group_tests_name("e2e", tests, NULL, NULL);
}
