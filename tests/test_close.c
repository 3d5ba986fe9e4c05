/*
 * How connections end, end to end over real sockets on 127.0.0.1, against
 * Node's ws playing the relay (tests/node/ws-relay.js), each case over ws://
 * and wss://: half-closed transfers that outlive the closing bound, keep-alive
 * behind back-pressure, the close code the relay receives (1001, 1002), an
 * aborted relay reaching the client as a reset, and event handlers that shut
 * the proxy down from inside a dispatch (run under ASan).
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>

#define CERTS "../build/test-certs/"

static bool use_tls;

static void relay_up(relay *r, const char *mode, const char *const *more)
{
    const char *args[12] = {"--mode", mode};
    int k = 2;
    if (use_tls) {
        args[k++] = "--cert";
        args[k++] = CERTS "server.pem";
        args[k++] = "--key";
        args[k++] = CERTS "server.key";
    }
    for (; more && *more && k < 11; more++)
        args[k++] = *more;
    args[k] = NULL;
    relay_start(r, args);
}

static azr_proxy *proxy_up(relay *r, seen *s, const char *const *extra, int *port)
{
    const char *set[16];
    int k = 0;
    if (use_tls) {
        set[k++] = "SSLCACertFilePaths=";
        set[k++] = "SSLServerCACerts=" CERTS "ca.pem";
    }
    for (; extra && *extra && k < 15; extra++)
        set[k++] = *extra;
    set[k] = NULL;
    char ns[300];
    snprintf(ns, sizeof ns, "%s://%s:%d", use_tls ? "wss" : "ws",
             use_tls ? "localhost" : "127.0.0.1", r->port);
    return proxy_at(ns, "hc1", s, set, port);
}

/* Read into buf while turning the loop: bytes, 0 at a clean EOF, -2 at a
 * reset (ECONNRESET), -1 when nothing came within limit_ms. */
static ssize_t read_some(azr_proxy *p, int fd, uint8_t *buf, size_t cap, uint64_t limit_ms)
{
    uint64_t stop = ms() + limit_ms;
    while (ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        ssize_t n = read(fd, buf, cap);
        if (n >= 0)
            return n;
        if (errno == ECONNRESET)
            return -2;
    }
    return -1;
}

/* The relay printed "CLOSE <code>" (what it received from us). */
static void relay_got_close(azr_proxy *p, relay *r, const char *code)
{
    char line[512], want[32];
    snprintf(want, sizeof want, "CLOSE %s", code);
    uint64_t stop = ms() + 5000;
    while (ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        if (relay_line(r, "CLOSE ", line, sizeof line, 10)) {
            if (strncmp(line, want, strlen(want)) != 0)
                fail_msg("the relay received '%s', expected '%s'", line, want);
            return;
        }
    }
    relay_dump(r, "ws-relay");
    fail_msg("the relay never received a close frame (wanted %s)", want);
}

/* ---------------------------------------------------------------- cases */

/* Defect 1: the drain bound is inactivity on the open direction, not an
 * absolute deadline: a download that keeps flowing after the client's FIN
 * runs to its end (3 s) past a 1 s HalfCloseTimeout. */
static void half_closed_download_outlives_the_bound(void)
{
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const more[] = {"--seconds", "3", NULL};
    relay_up(&r, "trickle", more);
    const char *const set[] = {"HalfCloseTimeout=1", NULL};
    int port;
    azr_proxy *p = proxy_up(&r, &s, set, &port);
    int fd = client(port);
    SPIN(p, s.connected == 1, 5000);
    assert_int_equal(s.connected_status, 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    size_t got = 0;
    ssize_t n;
    static uint8_t buf[1 << 16];
    while ((n = read_some(p, fd, buf, sizeof buf, 3000)) > 0)
        got += (size_t)n;
    assert_int_equal(n, 0); /* a clean EOF, not a reset or a stall */
    char line[128];
    assert_true(relay_line(&r, "SENT ", line, sizeof line, 2000));
    assert_int_equal(got, strtoul(line + 5, NULL, 10));
    assert_true(got >= 20 * 1024); /* it really flowed for seconds */
    SPIN(p, s.disconnected == 1, 3000);
    assert_int_equal(s.disconnected_status, 0);
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_close_half_closed_download_ws(void **st)
{
    (void)st;
    use_tls = false;
    half_closed_download_outlives_the_bound();
}

static void test_close_half_closed_download_wss(void **st)
{
    (void)st;
    use_tls = true;
    half_closed_download_outlives_the_bound();
}

/* Defect 2: a client that stops reading is back-pressure, not relay
 * silence: with a 1 s keep-alive, 4 s without reading lose nothing. */
static void paused_reader_keeps_its_stream(void)
{
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const more[] = {"--bytes", "8388608", NULL};
    relay_up(&r, "source", more);
    const char *const set[] = {"RelayKeepAliveInterval=1", NULL};
    int port;
    azr_proxy *p = proxy_up(&r, &s, set, &port);
    int fd = client(port);
    SPIN(p, s.connected == 1, 5000);
    assert_int_equal(s.connected_status, 0);
    uint64_t until = ms() + 4000;
    while (ms() < until) /* the client reads nothing for 4 s */
        assert_int_equal(azr_proxy_do_events(p, 20), 0);
    assert_int_equal(s.disconnected, 0);
    size_t got = 0;
    ssize_t n;
    static uint8_t buf[1 << 16];
    while ((n = read_some(p, fd, buf, sizeof buf, 5000)) > 0)
        got += (size_t)n;
    if (n != 0 || got != 8388608)
        fprintf(stderr, "%s\n", s.log);
    assert_int_equal(n, 0);
    assert_int_equal(got, 8388608);
    SPIN(p, s.disconnected == 1, 3000);
    assert_int_equal(s.disconnected_status, 0);
    assert_null(strstr(s.log, "not answering"));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_close_paused_reader_keepalive_ws(void **st)
{
    (void)st;
    use_tls = false;
    paused_reader_keeps_its_stream();
}

static void test_close_paused_reader_keepalive_wss(void **st)
{
    (void)st;
    use_tls = true;
    paused_reader_keeps_its_stream();
}

/* Defect 3: the relay receives close 1001 when the proxy ends a connection
 * (idle timeout, then Shutdown), and 1002 after a protocol error. */
static void relay_hears_1001_on_idle(void)
{
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_up(&r, "echo", NULL);
    const char *const set[] = {"DefaultIdleTimeout=1", NULL};
    int port;
    azr_proxy *p = proxy_up(&r, &s, set, &port);
    int fd = client(port);
    uint8_t b[8];
    assert_int_equal(write(fd, "x", 1), 1);
    assert_int_equal(read_some(p, fd, b, sizeof b, 5000), 1);
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.disconnected_status, AZR_ERR_TIMEOUT);
    assert_non_null(strstr(s.disconnected_desc, "IdleTimeout"));
    relay_got_close(p, &r, "1001");
    assert_int_equal(read_some(p, fd, b, sizeof b, 2000), 0); /* idle: a FIN, not a reset */
    close(fd);
    /* Shutdown: the same close code for every open connection */
    memset(&s, 0, sizeof s);
    assert_int_equal(azr_proxy_config(p, "DefaultIdleTimeout=0", NULL, 0), 0);
    fd = client(port);
    assert_int_equal(write(fd, "y", 1), 1);
    assert_int_equal(read_some(p, fd, b, sizeof b, 5000), 1);
    assert_int_equal(azr_proxy_shutdown(p), 0);
    assert_int_equal(s.disconnected, 1);
    relay_got_close(p, &r, "1001");
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_close_idle_and_shutdown_send_1001_ws(void **st)
{
    (void)st;
    use_tls = false;
    relay_hears_1001_on_idle();
}

static void test_close_idle_and_shutdown_send_1001_wss(void **st)
{
    (void)st;
    use_tls = true;
    relay_hears_1001_on_idle();
}

static void relay_hears_1002(void)
{
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_up(&r, "bad-frame", NULL);
    int port;
    azr_proxy *p = proxy_up(&r, &s, NULL, &port);
    int fd = client(port);
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.disconnected_status, AZR_ERR_PROTOCOL);
    relay_got_close(p, &r, "1002");
    uint8_t b[8];
    assert_int_equal(read_some(p, fd, b, sizeof b, 2000), -2); /* cut: the client is reset */
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_close_protocol_error_sends_1002_ws(void **st)
{
    (void)st;
    use_tls = false;
    relay_hears_1002();
}

static void test_close_protocol_error_sends_1002_wss(void **st)
{
    (void)st;
    use_tls = true;
    relay_hears_1002();
}

/* Defect 7: the relay's TCP ending without a close frame cuts the stream:
 * the client gets the bytes that came, then a reset, never a clean EOF. */
static void relay_drop_resets_client(void)
{
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_up(&r, "drop", NULL);
    int port;
    azr_proxy *p = proxy_up(&r, &s, NULL, &port);
    int fd = client(port);
    uint8_t b[16];
    size_t got = 0;
    ssize_t n;
    while (got < 3 && (n = read_some(p, fd, b + got, sizeof b - got, 5000)) > 0)
        got += (size_t)n;
    assert_int_equal(got, 3);
    assert_memory_equal(b, "bye", 3);
    assert_int_equal(read_some(p, fd, b, sizeof b, 5000), -2);
    SPIN(p, s.disconnected == 1, 3000);
    assert_true(s.disconnected_status != 0);
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

static void test_close_relay_drop_resets_client_ws(void **st)
{
    (void)st;
    use_tls = false;
    relay_drop_resets_client();
}

static void test_close_relay_drop_resets_client_wss(void **st)
{
    (void)st;
    use_tls = true;
    relay_drop_resets_client();
}

/* Defect 4: handlers may call Shutdown and Reset; nothing is freed under
 * the dispatch that runs them (ASan would see it). */
static azr_proxy *reentrant;
static int reentrant_calls;

static void shut_on_connected(void *ud, int id, int status, const char *desc)
{
    on_connected(ud, id, status, desc);
    reentrant_calls++;
    assert_int_equal(azr_proxy_shutdown(reentrant), 0);
}

static void reset_on_disconnected(void *ud, int id, int status, const char *desc)
{
    on_disconnected(ud, id, status, desc);
    reentrant_calls++;
    assert_int_equal(azr_proxy_reset(reentrant), 0);
}

static void test_close_handlers_may_shut_down(void **st)
{
    (void)st;
    use_tls = false;
    relay r;
    static seen s;
    memset(&s, 0, sizeof s);
    relay_up(&r, "echo", NULL);
    azr_events ev = {0};
    ev.connection_request = on_request;
    ev.connected = shut_on_connected;
    ev.disconnected = reset_on_disconnected;
    ev.log = on_log;
    reentrant = azr_proxy_new(&ev, &s);
    assert_non_null(reentrant);
    char stmt[300], out[32];
    snprintf(stmt, sizeof stmt, "NamespaceAddress=ws://127.0.0.1:%d", r.port);
    assert_int_equal(azr_proxy_config(reentrant, stmt, NULL, 0), 0);
    assert_int_equal(azr_proxy_config(reentrant, "HybridConnection=hc1", NULL, 0), 0);
    assert_int_equal(
        azr_proxy_config(reentrant, "AccessKeyName=RootManageSharedAccessKey", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(reentrant, "AccessKey=" KEY, NULL, 0), 0);
    assert_int_equal(azr_proxy_config(reentrant, "LocalHost=127.0.0.1", NULL, 0), 0);
    assert_int_equal(azr_proxy_start_listening(reentrant), 0);
    assert_int_equal(azr_proxy_config(reentrant, "LocalPort", out, sizeof out), 0);
    int fd = client((int)strtol(out, NULL, 10));
    SPIN(reentrant, s.disconnected == 1, 5000);
    assert_int_equal(s.connected, 1);
    assert_int_equal(s.disconnected, 1);
    assert_int_equal(reentrant_calls, 2);
    for (int i = 0; i < 5; i++) /* the reaping turn */
        assert_int_equal(azr_proxy_do_events(reentrant, 10), 0);
    assert_int_equal(azr_proxy_connection_count(reentrant), 0);
    close(fd);
    azr_proxy_free(reentrant);
    relay_stop(&r);
}

int main(void)
{
    /* the certificates name "localhost": the machine must resolve it */
    struct addrinfo *ai = NULL;
    if (getaddrinfo("localhost", NULL, NULL, &ai) != 0) {
        fprintf(stderr, "this machine cannot resolve 'localhost'\n");
        return 1;
    }
    freeaddrinfo(ai);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_half_closed_download_ws),
        cmocka_unit_test(test_close_half_closed_download_wss),
        cmocka_unit_test(test_close_paused_reader_keepalive_ws),
        cmocka_unit_test(test_close_paused_reader_keepalive_wss),
        cmocka_unit_test(test_close_idle_and_shutdown_send_1001_ws),
        cmocka_unit_test(test_close_idle_and_shutdown_send_1001_wss),
        cmocka_unit_test(test_close_protocol_error_sends_1002_ws),
        cmocka_unit_test(test_close_protocol_error_sends_1002_wss),
        cmocka_unit_test(test_close_relay_drop_resets_client_ws),
        cmocka_unit_test(test_close_relay_drop_resets_client_wss),
        cmocka_unit_test(test_close_handlers_may_shut_down),
    };
    int rc = cmocka_run_group_tests_name("close", tests, NULL, NULL);
    procs_kill_all();
    return rc;
}
