/*
 * The whole path through the bundled relay emulator, on 127.0.0.1: client ->
 * proxy (in process) -> azrelay-emu -> a listener. Listeners are Microsoft's
 * hyco-ws (tests/node/hyco-listener.js), an independent one on Node's ws
 * (tests/node/ws-listener.js, for what hyco-ws cannot do: rejects, token
 * renewal, looking at accept messages) and the emulator's built-in ones.
 * Every wait is bounded; every case checks what the application and the
 * peers saw.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"
#include "sha256.h"
#include <bearssl.h> /* an independent sha256 for the streamed case */

#define CERTS "../build/test-certs/"
#define RULE  "RootManageSharedAccessKey:" KEY

static const char *emu_bin(void)
{
    const char *b = getenv("AZR_EMU_BIN");
    return b ? b : "../build/azrelay-emu";
}

/* azrelay-emu with extra arguments; r->port gets its port. */
static void emu_start(relay *r, const char *const *extra)
{
    const char *argv[32] = {emu_bin(), "--port", "0", "--rule", RULE};
    int k = 5;
    for (; extra && *extra && k < 31; extra++)
        argv[k++] = *extra;
    argv[k] = NULL;
    proc_start(r, argv, 2);
    char line[512];
    if (!relay_match(r, "listening on ", false, line, sizeof line, 10000))
        fail_msg("%s did not start", emu_bin());
    const char *p = strstr(line, "127.0.0.1:");
    assert_non_null(p);
    r->port = (int)strtol(p + 10, NULL, 10);
    assert_true(r->port > 0);
}

static bool tls_mode; /* wss:// between everyone */

/* A listener (node script) on hc of the emulator at port. */
static void listener_start(relay *l, const char *script, int port, const char *hc,
                           const char *const *extra)
{
    char url[128];
    snprintf(url, sizeof url, "%s://%s:%d/$hc/%s", tls_mode ? "wss" : "ws",
             tls_mode ? "localhost" : "127.0.0.1", port, hc);
    const char *argv[24] = {"node",  script, "--url",  url,
                            "--key", KEY,    "--host", tls_mode ? "localhost" : "127.0.0.1"};
    int k = 8;
    for (; extra && *extra && k < 23; extra++)
        argv[k++] = *extra;
    argv[k] = NULL;
    if (tls_mode) /* node trusts the test CA this way (hyco-ws passes no TLS options) */
        setenv("NODE_EXTRA_CA_CERTS", CERTS "ca.pem", 1);
    /* "localhost" may resolve to ::1 first; the emulator listens on 127.0.0.1 */
    setenv("NODE_OPTIONS", "--dns-result-order=ipv4first", 1);
    proc_start(l, argv, 1);
    char line[256];
    if (!relay_line(l, "LISTENING", line, sizeof line, 15000))
        fail_msg("%s did not open its control channel", script);
}

static azr_proxy *proxy_to(relay *emu, const char *hc, seen *s, const char *const *settings,
                           int *port)
{
    char ns[128];
    snprintf(ns, sizeof ns, "%s://%s:%d", tls_mode ? "wss" : "ws",
             tls_mode ? "localhost" : "127.0.0.1", emu->port);
    const char *set[16] = {"SSLCACertFilePaths=", "SSLServerCACerts=" CERTS "ca.pem"};
    int k = 2;
    for (; settings && *settings && k < 15; settings++)
        set[k++] = *settings;
    set[k] = NULL;
    return proxy_at(ns, hc, s, set, port);
}

/* ------------------------------------------------------------------ cases */

static void echo_10mib(bool tls)
{
    tls_mode = tls;
    relay emu, l;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const plain[] = {"--hc", "hc1", NULL};
    const char *const wss[] = {"--hc",   "hc1",
                               "--host", "localhost",
                               "--cert", CERTS "server.pem",
                               "--key",  CERTS "server.key",
                               NULL};
    emu_start(&emu, tls ? wss : plain);
    listener_start(&l, "node/hyco-listener.js", emu.port, "hc1", NULL);
    int port;
    azr_proxy *p = proxy_to(&emu, "hc1", &s, NULL, &port);
    int fd = client(port);
    static uint8_t out[10 << 20], back[10 << 20];
    random_bytes(out, sizeof out);
    size_t got = exchange(p, fd, out, back, sizeof out, true, 120000);
    if (got != sizeof out)
        fprintf(stderr, "requests %d, connections %d\n", s.requests, azr_proxy_connection_count(p));
    assert_int_equal(got, sizeof out);
    uint8_t h1[32], h2[32];
    azr_sha256(out, sizeof out, h1);
    azr_sha256(back, sizeof back, h2);
    assert_memory_equal(h1, h2, 32);
    /* client FIN -> close 1000 -> hyco-ws answers -> EOF to the client */
    assert_true(eof_within(p, fd, 10000));
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.connected_status, 0);
    assert_int_equal(s.disconnected_status, 0);
    assert_non_null(strstr(s.disconnected_desc, "client finished"));
    assert_null(strstr(s.log, KEY));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&l);
    char line[512];
    assert_true(relay_match(&emu, "through listener leg", false, line, sizeof line, 2000));
    relay_stop(&emu);
    tls_mode = false;
}

static void test_relay_hyco_echo_10mib_ws(void **st)
{
    (void)st;
    echo_10mib(false);
}

static void test_relay_hyco_echo_10mib_wss(void **st)
{
    (void)st;
    echo_10mib(true);
}

#define NCLIENTS 100
#define PAYLOAD  32768

/* 100 clients at once, each with its own bytes, through one hyco-ws listener. */
static void test_relay_hundred_clients(void **st)
{
    (void)st;
    relay emu, l;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--hc", "hc1", NULL};
    emu_start(&emu, args);
    listener_start(&l, "node/hyco-listener.js", emu.port, "hc1", NULL);
    int port;
    /* 100 connects in one burst: the class's default backlog of 5 would make
     * the kernel drop most of them */
    const char *const set[] = {"ConnectionBacklog=128", NULL};
    azr_proxy *p = proxy_to(&emu, "hc1", &s, set, &port);
    static uint8_t out[NCLIENTS][PAYLOAD], back[NCLIENTS][PAYLOAD];
    size_t sent[NCLIENTS] = {0}, got[NCLIENTS] = {0};
    int fd[NCLIENTS];
    random_bytes(&out[0][0], sizeof out);
    for (int i = 0; i < NCLIENTS; i++)
        fd[i] = client(port);
    uint64_t stop = ms() + 60000;
    int done = 0;
    while (done < NCLIENTS && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        done = 0;
        for (int i = 0; i < NCLIENTS; i++) {
            if (sent[i] < PAYLOAD) {
                ssize_t n = write(fd[i], out[i] + sent[i], PAYLOAD - sent[i]);
                if (n > 0)
                    sent[i] += (size_t)n;
            }
            ssize_t n = take(fd[i], back[i] + got[i], PAYLOAD - got[i]);
            if (n > 0)
                got[i] += (size_t)n;
            done += got[i] == PAYLOAD;
        }
    }
    if (done != NCLIENTS) {
        for (int i = 0; i < NCLIENTS; i++)
            if (got[i] != PAYLOAD)
                fprintf(stderr, "client %d: sent %zu, got %zu\n", i, sent[i], got[i]);
        fprintf(stderr, "requests %d, connections %d\n", s.requests, azr_proxy_connection_count(p));
        fail_msg("%d of %d clients got their bytes back (%d connected, %d disconnected: %s)", done,
                 NCLIENTS, s.connected, s.disconnected, s.disconnected_desc);
    }
    assert_int_equal(azr_proxy_connection_count(p), NCLIENTS);
    for (int i = 0; i < NCLIENTS; i++)
        assert_memory_equal(out[i], back[i], PAYLOAD);
    for (int i = 0; i < NCLIENTS; i++)
        close(fd[i]);
    SPIN(p, s.disconnected == NCLIENTS, 15000);
    assert_int_equal(s.disconnected, NCLIENTS);
    assert_int_equal(azr_proxy_connection_count(p), 0);
    azr_proxy_free(p);
    relay_stop(&l);
    relay_stop(&emu);
}

static void test_relay_listener_closes_first(void **st)
{
    (void)st;
    relay emu, l;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--hc", "hc1", NULL};
    const char *const mode[] = {"--mode", "close-first", NULL};
    emu_start(&emu, args);
    listener_start(&l, "node/hyco-listener.js", emu.port, "hc1", mode);
    int port;
    azr_proxy *p = proxy_to(&emu, "hc1", &s, NULL, &port);
    int fd = client(port);
    uint8_t buf[16];
    size_t got = 0;
    ssize_t n = -1;
    uint64_t stop = ms() + 10000;
    while (ms() < stop && n != 0) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        n = take(fd, buf + got, sizeof buf - got);
        if (n > 0)
            got += (size_t)n;
    }
    assert_int_equal(n, 0); /* "bye", then FIN */
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "bye", 3);
    shutdown(fd, SHUT_WR);
    SPIN(p, s.disconnected == 1, 10000);
    assert_int_equal(s.disconnected_status, 0);
    assert_non_null(strstr(s.disconnected_desc, "relay closed 4001: listener closed first"));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&l);
    relay_stop(&emu);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld %ld", &pages, &res), 2);
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The listener sends 16 MiB as fast as it can; the client reads 1 KiB/s
 * for 5 s. The proxy stops reading the relay (back-pressure): this
 * process's memory stays flat. Then the client reads the rest: every byte
 * arrives (sha256 as the listener computed it). */
static void test_relay_slow_client_back_pressure(void **st)
{
    (void)st;
    relay emu, l;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--hc", "hc1", NULL};
    const char *const mode[] = {"--mode", "source", "--bytes", "16777216", NULL};
    emu_start(&emu, args);
    listener_start(&l, "node/hyco-listener.js", emu.port, "hc1", mode);
    int port;
    azr_proxy *p = proxy_to(&emu, "hc1", &s, NULL, &port);
    int fd = client(port);
    SPIN(p, s.connected == 1, 10000);
    static uint8_t buf[1 << 16];
    br_sha256_context h;
    br_sha256_init(&h);
    size_t total = 0;
    SPIN(p, false, 1000); /* let the buffers fill */
    long before = rss_kib();
    for (int sec = 0; sec < 5; sec++) {
        uint64_t t = ms() + 1000;
        ssize_t n = take(fd, buf, 1024);
        if (n > 0) {
            br_sha256_update(&h, buf, (size_t)n);
            total += (size_t)n;
        }
        while (ms() < t)
            assert_int_equal(azr_proxy_do_events(p, 20), 0);
    }
    long after = rss_kib();
    assert_true(total <= 5 * 1024);
    /* 16 MiB were offered; the proxy may hold its fixed buffers only */
    if (after - before > 2048)
        fail_msg("RSS grew %ld KiB while the client was slow", after - before);
    uint64_t stop = ms() + 60000;
    ssize_t n = -1;
    while (ms() < stop && n != 0) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        n = take(fd, buf, sizeof buf);
        if (n > 0) {
            br_sha256_update(&h, buf, (size_t)n);
            total += (size_t)n;
        }
    }
    if (total != 16777216) {
        relay_dump(&emu, "azrelay-emu");
        relay_dump(&l, "hyco-listener");
        fprintf(stderr, "%s\n", s.log);
        fail_msg("%zu of 16 MiB arrived", total);
    }
    uint8_t d[32];
    char hex[65], line[256];
    br_sha256_out(&h, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    assert_true(relay_line(&l, "SENT ", line, sizeof line, 5000));
    assert_non_null(strstr(line, hex));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&l);
    relay_stop(&emu);
}

/* The proxy's Connected event for one client, with the emulator set up by
 * args and maybe a listener; returns the status, description in s. */
static int refused_with(const char *const *emu_args, const char *script,
                        const char *const *listener_args, const char *const *settings, seen *s)
{
    relay emu, l;
    memset(s, 0, sizeof *s);
    emu_start(&emu, emu_args);
    if (script)
        listener_start(&l, script, emu.port, "hc1", listener_args);
    int port;
    azr_proxy *p = proxy_to(&emu, "hc1", s, settings, &port);
    int fd = client(port);
    SPIN(p, s->disconnected == 1, 15000);
    assert_int_equal(s->connected, 1);
    assert_true(eof_within(p, fd, 2000)); /* the client is closed without a byte */
    assert_null(strstr(s->log, KEY));
    close(fd);
    azr_proxy_free(p);
    if (script)
        relay_stop(&l);
    relay_stop(&emu);
    return s->connected_status;
}

static void want(const seen *s, const char *text)
{
    if (!strstr(s->connected_desc, text))
        fail_msg("'%s' does not say '%s'", s->connected_desc, text);
}

static void test_relay_refusals(void **st)
{
    (void)st;
    static seen s;
    const char *const hc1[] = {"--hc", "hc1", NULL};
    /* no listener: tried again (issue 11) until ConnectionTimeout is spent */
    const char *const short_dial[] = {"ConnectionTimeout=2", NULL};
    assert_int_equal(refused_with(hc1, NULL, NULL, short_dial, &s), 404);
    want(&s, "relay: 404 There are no listeners connected for the endpoint. TrackingId:");
    want(&s, "attempts");
    /* no such hybrid connection: not tried again */
    const char *const other[] = {"--hc", "other", NULL};
    assert_int_equal(refused_with(other, NULL, NULL, NULL, &s), 404);
    want(&s, "relay: 404 Endpoint does not exist.");
    assert_null(strstr(s.connected_desc, "attempt"));
    /* wrong key */
    const char *const wrong[] = {"AccessKey=bm90IHRoZSBrZXk=", NULL};
    assert_int_equal(refused_with(hc1, NULL, NULL, wrong, &s), 401);
    want(&s, "invalid signature");
    /* a rule without Send */
    const char *const listen_only[] = {"--hc", "hc1", "--rule", "listenonly:" KEY ":Listen", NULL};
    const char *const as_listen_only[] = {"AccessKeyName=listenonly", NULL};
    assert_int_equal(refused_with(listen_only, NULL, NULL, as_listen_only, &s), 403);
    want(&s, "'Send' claim(s) are required");
    /* the listener rejects (ws-based listener: hyco-ws's reject path is broken) */
    const char *const reject[] = {"--mode",   "reject",         "--status", "409",
                                  "--reason", "Busy right now", NULL};
    assert_int_equal(refused_with(hc1, "node/ws-listener.js", reject, NULL, &s), 409);
    assert_string_equal(s.connected_desc, "relay: 409 Busy right now");
    /* the listener ignores the accept: the rendezvous times out */
    const char *const quick[] = {"--hc", "hc1", "--rendezvous-timeout", "1", NULL};
    const char *const ignore[] = {"--mode", "ignore", NULL};
    assert_int_equal(refused_with(quick, "node/ws-listener.js", ignore, short_dial, &s), 404);
    want(&s, "None of the connected listeners accepted the connection");
}

/* What a listener is told about a sender: the accept message (§8.2). */
static void test_relay_accept_message(void **st)
{
    (void)st;
    relay emu, l;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--hc", "hc1", NULL};
    emu_start(&emu, args);
    listener_start(&l, "node/ws-listener.js", emu.port, "hc1", NULL);
    int port;
    /* the token in the query this time: the listener must not see it either */
    const char *const set[] = {"TokenLocation=query", NULL};
    azr_proxy *p = proxy_to(&emu, "hc1", &s, set, &port);
    int fd = client(port);
    static uint8_t out[4096], back[4096];
    random_bytes(out, sizeof out);
    assert_int_equal(exchange(p, fd, out, back, sizeof out, false, 10000), sizeof out);
    assert_memory_equal(out, back, sizeof out);
    char line[8192];
    assert_true(relay_line(&l, "ACCEPT ", line, sizeof line, 5000));
    char addr[80];
    snprintf(addr, sizeof addr, "\"address\":\"ws://127.0.0.1:%d/$hc/hc1?sb-hc-action=accept",
             emu.port);
    assert_non_null(strstr(line, addr));
    assert_non_null(strstr(line, "\"Sec-WebSocket-Key\":\""));
    assert_non_null(strstr(line, "\"remoteEndpoint\":{\"address\":\"127.0.0.1\""));
    assert_null(strstr(line, "ServiceBusAuthorization"));
    assert_null(strstr(line, "sb-hc-token"));
    assert_null(strstr(line, "SharedAccessSignature"));
    assert_null(strstr(line, "Sec-WebSocket-Extensions"));
    /* the id the proxy logged is the one the listener got */
    int ids[1];
    assert_int_equal(azr_proxy_connection_ids(p, ids, 1), 1);
    const char *id = strstr(line, "\"id\":\"");
    assert_non_null(id);
    char want_id[48];
    snprintf(want_id, sizeof want_id, "%.36s", id + 6);
    assert_non_null(strstr(s.log, want_id));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&l);
    relay_stop(&emu);
}

/* A listener's token expires: the control channel is closed 1008 unless the
 * listener renews it with renewToken (§8.5). */
static void test_relay_listener_token_renewal(void **st)
{
    (void)st;
    relay emu, renewing, lapsing;
    char line[256];
    const char *const args[] = {"--hc", "hc1", "--hc", "hc2", NULL};
    emu_start(&emu, args);
    const char *const renew[] = {"--token-seconds", "2", "--renew-ms", "700", NULL};
    const char *const lapse[] = {"--token-seconds", "2", NULL};
    listener_start(&renewing, "node/ws-listener.js", emu.port, "hc1", renew);
    listener_start(&lapsing, "node/ws-listener.js", emu.port, "hc2", lapse);
    assert_true(relay_line(&lapsing, "CONTROL CLOSED ", line, sizeof line, 6000));
    assert_non_null(strstr(line, "CONTROL CLOSED 1008 The token has expired."));
    /* the renewing one is still there after its first token's end */
    static seen s;
    memset(&s, 0, sizeof s);
    int port;
    azr_proxy *p = proxy_to(&emu, "hc1", &s, NULL, &port);
    int fd = client(port);
    static uint8_t out[1024], back[1024];
    random_bytes(out, sizeof out);
    assert_int_equal(exchange(p, fd, out, back, sizeof out, false, 10000), sizeof out);
    assert_memory_equal(out, back, sizeof out);
    assert_true(relay_line(&renewing, "RENEWED", line, sizeof line, 1000));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&renewing);
    relay_stop(&lapsing);
    relay_stop(&emu);
}

/* The emulator's built-in listeners: sink counts, source sends a pattern. */
static void test_relay_builtin_sink_and_source(void **st)
{
    (void)st;
    relay emu;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--sink", "hc1", "--source", "src:1000000", NULL};
    emu_start(&emu, args);
    int port;
    azr_proxy *p = proxy_to(&emu, "hc1", &s, NULL, &port);
    int fd = client(port);
    static uint8_t out[1 << 20];
    random_bytes(out, sizeof out);
    size_t sent = 0;
    uint64_t stop = ms() + 20000;
    while (sent < sizeof out && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        ssize_t n = write(fd, out + sent, sizeof out - sent);
        if (n > 0)
            sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    assert_true(eof_within(p, fd, 10000));
    SPIN(p, s.disconnected == 1, 5000);
    assert_non_null(strstr(s.disconnected_desc, "relay closed 1000: sink received 1048576 bytes"));
    close(fd);
    azr_proxy_free(p);

    memset(&s, 0, sizeof s);
    p = proxy_to(&emu, "src", &s, NULL, &port);
    fd = client(port);
    static uint8_t in[1000000 + 1];
    size_t got = 0;
    ssize_t n = -1;
    stop = ms() + 20000;
    while (ms() < stop && n != 0) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        n = take(fd, in + got, sizeof in - got);
        if (n > 0)
            got += (size_t)n;
    }
    assert_int_equal(got, 1000000);
    for (size_t i = 0; i < got; i++)
        if (in[i] != (uint8_t)(i % 251))
            fail_msg("byte %zu is %u, want %zu", i, in[i], i % 251);
    shutdown(fd, SHUT_WR);
    SPIN(p, s.disconnected == 1, 5000);
    assert_non_null(strstr(s.disconnected_desc, "source sent 1000000 bytes"));
    close(fd);
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* The emulator cuts WebSockets idle for 2 s, as Azure's load balancer does
 * after about 4 minutes: without keep-alive an idle connection dies; with
 * RelayKeepAliveInterval=1 it lives. (test_soak: the real figures.) */
static void test_relay_idle_cut_and_keepalive(void **st)
{
    (void)st;
    relay emu;
    static seen s;
    const char *const args[] = {"--echo", "hc1", "--idle-timeout", "2", NULL};
    emu_start(&emu, args);
    uint8_t back[16];
    for (int keepalive = 0; keepalive <= 1; keepalive++) {
        memset(&s, 0, sizeof s);
        const char *const off[] = {"RelayKeepAliveInterval=0", NULL};
        const char *const on[] = {"RelayKeepAliveInterval=1", NULL};
        int port;
        azr_proxy *p = proxy_to(&emu, "hc1", &s, keepalive ? on : off, &port);
        int fd = client(port);
        assert_int_equal(exchange(p, fd, (const uint8_t *)"hi", back, 2, false, 5000), 2);
        SPIN(p, s.disconnected == 1, 5000);
        if (keepalive) {
            if (s.disconnected)
                fail_msg("cut despite keep-alive: %s", s.disconnected_desc);
            assert_int_equal(exchange(p, fd, (const uint8_t *)"still", back, 5, false, 5000), 5);
            assert_memory_equal(back, "still", 5);
            close(fd);
        } else {
            assert_int_equal(s.disconnected, 1);
            assert_non_null(strstr(s.disconnected_desc, "relay connection lost"));
            assert_true(eof_within(p, fd, 2000));
            close(fd);
        }
        azr_proxy_free(p);
    }
    char line[512];
    assert_true(relay_match(&emu, "no traffic for 2 s: cut", false, line, sizeof line, 1000));
    relay_stop(&emu);
}

/* Two proxies (two forwards) on one shared loop: one turn serves both. */
static void test_relay_two_proxies_one_loop(void **st)
{
    (void)st;
    relay emu;
    static seen s1, s2;
    memset(&s1, 0, sizeof s1);
    memset(&s2, 0, sizeof s2);
    const char *const args[] = {"--echo", "hc1", "--sink", "hc2", NULL};
    emu_start(&emu, args);
    const char *kind = getenv("AZR_TEST_EVENT_LOOP");
    azr_loop *l = azr_loop_new(kind && !strcmp(kind, "poll") ? 3 : 0);
    assert_non_null(l);
    if (!kind) /* epoll has a descriptor to offer; poll has none (-1) */
        assert_true(azr_loop_fd(l) >= 0);
    harness_loop = l;
    int port1, port2;
    azr_proxy *p1 = proxy_to(&emu, "hc1", &s1, NULL, &port1);
    azr_proxy *p2 = proxy_to(&emu, "hc2", &s2, NULL, &port2);
    harness_loop = NULL;
    assert_int_equal(azr_proxy_config(p1, "EventLoop=poll", NULL, 0), AZR_ERR_STATE);
    assert_int_equal(azr_proxy_fd(p1), azr_proxy_fd(p2));
    int fd1 = client(port1), fd2 = client(port2);
    /* only p1's DoEvents turns the loop: p2's client is served all the same */
    static uint8_t out[65536], back[65536];
    random_bytes(out, sizeof out);
    assert_int_equal(write(fd2, out, 1000), 1000);
    shutdown(fd2, SHUT_WR);
    assert_int_equal(exchange(p1, fd1, out, back, sizeof out, false, 10000), sizeof out);
    assert_memory_equal(out, back, sizeof out);
    SPIN(p1, s2.disconnected == 1, 5000);
    assert_non_null(strstr(s2.disconnected_desc, "sink received 1000 bytes"));
    assert_int_equal(s1.disconnected, 0);
    close(fd1);
    close(fd2);
    azr_proxy_free(p1);
    assert_int_equal(azr_loop_free(l), AZR_ERR_STATE); /* p2 still uses it */
    azr_proxy_free(p2);
    assert_int_equal(azr_loop_free(l), 0);
    relay_stop(&emu);
}

static void test_relay_unknown_ca_refused(void **st)
{
    (void)st;
    tls_mode = true;
    static seen s;
    const char *const args[] = {"--hc",   "hc1",
                                "--host", "localhost",
                                "--cert", CERTS "other.pem",
                                "--key",  CERTS "other.key",
                                NULL};
    assert_int_equal(refused_with(args, NULL, NULL, NULL, &s), AZR_ERR_TLS);
    want(&s, "not trusted");
    tls_mode = false;
}

static int fresh(void **st)
{
    (void)st;
    tls_mode = false;
    return 0;
}

static int reap(void **st)
{
    (void)st;
    harness_loop = NULL;
    procs_kill_all();
    tls_mode = false;
    return 0;
}

#define CASE(f) cmocka_unit_test_setup_teardown(f, fresh, reap)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(test_relay_hyco_echo_10mib_ws),
        CASE(test_relay_hyco_echo_10mib_wss),
        CASE(test_relay_hundred_clients),
        CASE(test_relay_listener_closes_first),
        CASE(test_relay_slow_client_back_pressure),
        CASE(test_relay_refusals),
        CASE(test_relay_accept_message),
        CASE(test_relay_listener_token_renewal),
        CASE(test_relay_builtin_sink_and_source),
        CASE(test_relay_idle_cut_and_keepalive),
        CASE(test_relay_two_proxies_one_loop),
        CASE(test_relay_unknown_ca_refused),
    };
    signal(SIGPIPE, SIG_IGN);
    if (getenv("AZR_TEST_ONLY")) /* e.g. AZR_TEST_ONLY='*hundred*' while working on one case */
        cmocka_set_test_filter(getenv("AZR_TEST_ONLY"));
    return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
