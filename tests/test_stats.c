/*
 * A proxy's counters (azr_proxy_get_stats) and its Connections list
 * (azr_proxy_connection_list), through the public API, against real peers
 * on 127.0.0.1: tests/node/ws-relay.js (Node's ws: echo, refusals with a
 * chosen status, silence), the bundled emulator's azbridge listener, a fake
 * HTTP CONNECT proxy, a closed port, a relay with a certificate nobody
 * trusts and a client that speaks no TLS. Each case checks what the counts
 * say against what the peers did: bytes against the bytes sent, opens
 * against the histogram, each failure in its class, retries as the failed
 * attempts less the one given up on.
 */
#include "harness.h"
#include "fakeproxy.h"

#define CERTS "../build/test-certs/"
#define RULE  "RootManageSharedAccessKey:" KEY

static azr_proxy_stats get(azr_proxy *p)
{
    azr_proxy_stats st;
    memset(&st, 0xa5, sizeof st); /* every field must be written */
    assert_int_equal(azr_proxy_get_stats(p, &st), 0);
    return st;
}

static uint64_t failures(const azr_proxy_stats *st)
{
    uint64_t n = 0;
    for (int i = 0; i < AZR_FAIL_REASONS; i++)
        n += st->relay_failures[i];
    return n;
}

static uint64_t opens(const azr_proxy_stats *st)
{
    uint64_t n = 0;
    for (int i = 0; i <= AZR_STATS_CONNECT_BUCKETS; i++)
        n += st->connect_buckets[i];
    return n;
}

/* Only reason (of the relay failures) has counts. */
static void only(const azr_proxy_stats *st, int reason)
{
    for (int i = 0; i < AZR_FAIL_REASONS; i++)
        if (i != reason && st->relay_failures[i])
            fail_msg("%llu failures counted as '%s', expected '%s' only",
                     (unsigned long long)st->relay_failures[i], azr_relay_failure_name(i),
                     azr_relay_failure_name(reason));
    assert_true(st->relay_failures[reason] > 0);
}

/* A client of port that the proxy ends within limit_ms (the test turns the loop). */
static void refused_client(azr_proxy *p, seen *s, int port, int limit_ms)
{
    int before = s->disconnected;
    int fd = client(port);
    SPIN(p, s->disconnected > before, (uint64_t)limit_ms);
    if (s->disconnected == before)
        fail_msg("the connection did not end within %d ms; log:\n%s", limit_ms, s->log);
    close(fd);
}

/* Two clients, 3000 and 5000 bytes each way through an echo relay: every
 * count, the list while they are open, and the counts once they ended. */
static void test_stats_two_clients_echo(void **st_)
{
    (void)st_;
    relay r;
    relay_start(&r, (const char *const[]){"--mode", "echo", NULL});
    static seen s;
    memset(&s, 0, sizeof s);
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", r.port);
    int port;
    azr_proxy *p = proxy_at(ns, "hc1", &s, NULL, &port);
    azr_proxy_stats st = get(p);
    assert_int_equal(st.accepted, 0);
    assert_int_equal(failures(&st), 0);
    static const uint32_t bounds[AZR_STATS_CONNECT_BUCKETS] = {5,   10,   25,   50,   100,  250,
                                                               500, 1000, 2500, 5000, 10000};
    assert_memory_equal(st.connect_bucket_ms, bounds, sizeof bounds);

    static uint8_t out[2][5000], back[2][5000];
    const size_t len[2] = {3000, 5000};
    int fd[2];
    for (int i = 0; i < 2; i++) {
        fd[i] = client(port);
        random_bytes(out[i], len[i]);
        assert_int_equal(exchange(p, fd[i], out[i], back[i], len[i], false, 10000), len[i]);
        assert_memory_equal(out[i], back[i], len[i]);
    }
    st = get(p);
    assert_int_equal(st.accepted, 2);
    assert_int_equal(st.active, 2);
    assert_int_equal(st.opened, 2);
    assert_int_equal(opens(&st), 2);
    assert_true(st.connect_ms_sum < 20000);
    assert_int_equal(st.bytes_to_relay, 8000);
    assert_int_equal(st.bytes_to_client, 8000);
    assert_int_equal(failures(&st), 0);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.refused_max_connections + st.refused_connection_request, 0);
    assert_int_equal(st.tls_failures_client + st.tls_failures_relay, 0);

    /* the list: both, open, with their bytes, peers and the relay's address */
    usleep(20000);
    assert_int_equal(azr_proxy_do_events(p, 0), 0); /* the age is read at the turn's start */
    azr_connection_info info[4];
    assert_int_equal(azr_proxy_connection_list(p, NULL, 0), 2);
    assert_int_equal(azr_proxy_connection_list(p, info, 1), 2); /* one written, two there */
    assert_int_equal(azr_proxy_connection_list(p, info, 4), 2);
    char relay_addr[32];
    snprintf(relay_addr, sizeof relay_addr, "127.0.0.1:%d", r.port);
    uint64_t sum_in = 0;
    for (int i = 0; i < 2; i++) {
        assert_string_equal(info[i].phase, "open");
        assert_string_equal(info[i].remote_host, "127.0.0.1");
        assert_string_equal(info[i].relay_address, relay_addr);
        assert_int_equal(info[i].connected, 1);
        assert_int_equal(info[i].bytes_in, info[i].bytes_out);
        assert_true(info[i].age_ms >= 20 && info[i].age_ms < 20000);
        sum_in += info[i].bytes_in;
        azr_connection_info one;
        assert_int_equal(azr_proxy_connection_info(p, info[i].id, &one), 0);
        assert_memory_equal(&one, &info[i], sizeof one);
    }
    assert_int_equal(sum_in, 8000);

    /* ended: nothing active, the bytes stay */
    for (int i = 0; i < 2; i++)
        close(fd[i]);
    SPIN(p, s.disconnected == 2, 5000);
    assert_int_equal(s.disconnected, 2);
    st = get(p);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.accepted, 2);
    assert_int_equal(st.bytes_to_relay, 8000);
    assert_int_equal(st.bytes_to_client, 8000);
    assert_int_equal(azr_proxy_connection_list(p, info, 4), 0);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* MaxConnections reached, then ConnectionRequest saying no: refused, not accepted. */
static void test_stats_refusals(void **st_)
{
    (void)st_;
    relay r;
    relay_start(&r, (const char *const[]){"--mode", "echo", NULL});
    static seen s;
    memset(&s, 0, sizeof s);
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", r.port);
    int port;
    azr_proxy *p = proxy_at(ns, "hc1", &s, (const char *const[]){"MaxConnections=1", NULL}, &port);
    int first = client(port);
    SPIN(p, s.connected == 1, 5000);
    int second = client(port);
    uint8_t b[16];
    uint64_t stop = ms() + 5000;
    while (take(second, b, sizeof b) != 0 && ms() < stop)
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
    azr_proxy_stats st = get(p);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.refused_max_connections, 1);
    assert_int_equal(st.refused_connection_request, 0);
    close(second);
    close(first);
    SPIN(p, s.disconnected == 1, 5000);
    s.refuse = 1;
    int third = client(port);
    SPIN(p, s.requests == 3, 5000);
    st = get(p);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.refused_connection_request, 1);
    assert_int_equal(st.refused_max_connections, 1);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.refused_no_memory, 0);
    close(third);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* A proxy for ws-relay.js in mode (args), one client that fails: the counts. */
static azr_proxy_stats failing_upgrade(const char *const *relay_args, const char *const *set)
{
    relay r;
    relay_start(&r, relay_args);
    static seen s;
    memset(&s, 0, sizeof s);
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", r.port);
    int port;
    azr_proxy *p = proxy_at(ns, "hc1", &s, set, &port);
    refused_client(p, &s, port, 10000);
    azr_proxy_stats st = get(p);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.opened, 0);
    assert_int_equal(opens(&st), 0);
    /* every attempt failed; each but the last was tried again */
    assert_int_equal(st.retries + 1, failures(&st));
    azr_proxy_free(p);
    relay_stop(&r);
    return st;
}

static void test_stats_upgrade_statuses(void **st_)
{
    (void)st_;
    const struct {
        const char *status;
        int reason;
        bool retried;
    } cases[] = {
        {"401", AZR_FAIL_UPGRADE_401, false},   {"403", AZR_FAIL_UPGRADE_403, false},
        {"409", AZR_FAIL_UPGRADE_OTHER, false}, {"503", AZR_FAIL_UPGRADE_5XX, true},
        {"404", AZR_FAIL_UPGRADE_404, true}, /* "no listeners": tried again */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const args[] = {"--mode", "reject", "--status", cases[i].status, NULL};
        azr_proxy_stats st =
            failing_upgrade(args, (const char *const[]){"ConnectionTimeout=1", NULL});
        only(&st, cases[i].reason);
        if (cases[i].retried)
            assert_true(st.retries >= 1);
        else
            assert_int_equal(st.retries, 0);
        print_message("%s: %llu failed attempts, %llu retries\n", cases[i].status,
                      (unsigned long long)failures(&st), (unsigned long long)st.retries);
    }
    /* a relay that never answers the upgrade: no HTTP status at all */
    azr_proxy_stats st = failing_upgrade((const char *const[]){"--mode", "silent", NULL},
                                         (const char *const[]){"ConnectionTimeout=1", NULL});
    only(&st, AZR_FAIL_UPGRADE_NONE);
    assert_int_equal(failures(&st), 1);
    assert_string_equal(azr_relay_failure_name(AZR_FAIL_UPGRADE_NONE), "upgrade none");
    assert_null(azr_relay_failure_name(AZR_FAIL_REASONS));
}

/* Nothing listens on the relay's port: TCP, tried again until ConnectionTimeout. */
static void test_stats_tcp_refused(void **st_)
{
    (void)st_;
    static seen s;
    memset(&s, 0, sizeof s);
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", free_port());
    int port;
    azr_proxy *p =
        proxy_at(ns, "hc1", &s, (const char *const[]){"ConnectionTimeout=1", NULL}, &port);
    refused_client(p, &s, port, 5000);
    azr_proxy_stats st = get(p);
    only(&st, AZR_FAIL_TCP);
    assert_true(st.retries >= 1);
    assert_int_equal(st.retries + 1, failures(&st));
    azr_proxy_free(p);
}

/* wss:// to a relay whose certificate no anchor signs, and a client that
 * does not speak TLS to an SSLEnabled port: one TLS failure on each side. */
static void test_stats_tls_both_sides(void **st_)
{
    (void)st_;
    relay r;
    relay_start(&r, (const char *const[]){"--mode", "echo", "--cert", CERTS "server.pem", "--key",
                                          CERTS "server.key", NULL});
    static seen s;
    memset(&s, 0, sizeof s);
    char ns[64];
    snprintf(ns, sizeof ns, "wss://127.0.0.1:%d", r.port);
    int port;
    azr_proxy *p = proxy_at(ns, "hc1", &s,
                            (const char *const[]){"SSLCACertFilePaths=",
                                                  "SSLServerCACerts=" CERTS "other-ca.pem", NULL},
                            &port);
    refused_client(p, &s, port, 5000);
    azr_proxy_stats st = get(p);
    only(&st, AZR_FAIL_TLS);
    assert_int_equal(st.relay_failures[AZR_FAIL_TLS], 1); /* a certificate is not tried again */
    assert_int_equal(st.tls_failures_relay, 1);
    assert_int_equal(st.tls_failures_client, 0);
    azr_proxy_free(p);

    memset(&s, 0, sizeof s);
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", r.port);
    p = proxy_at(ns, "hc1", &s,
                 (const char *const[]){"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem", NULL},
                 &port);
    int fd = client(port);
    SPIN(p, azr_proxy_connection_count(p) == 1, 5000);
    static const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
    SPIN(p, s.disconnected == 1, 5000);
    st = get(p);
    assert_int_equal(st.tls_failures_client, 1);
    assert_int_equal(st.tls_failures_relay, 0);
    assert_int_equal(failures(&st), 0); /* the relay was never tried */
    close(fd);
    /* Disconnect during the client's handshake is the application's, not a failure */
    fd = client(port);
    SPIN(p, azr_proxy_connection_count(p) == 1, 5000);
    int id;
    assert_int_equal(azr_proxy_connection_ids(p, &id, 1), 1);
    azr_connection_info info;
    assert_int_equal(azr_proxy_connection_info(p, id, &info), 0);
    assert_string_equal(info.phase, "client-tls");
    assert_string_equal(info.relay_address, "");
    assert_int_equal(azr_proxy_disconnect(p, id), 0);
    SPIN(p, s.disconnected == 2, 5000);
    assert_int_equal(get(p).tls_failures_client, 1);
    close(fd);
    azr_proxy_free(p);
    relay_stop(&r);
}

/* An HTTP CONNECT proxy that refuses (403): a proxy failure; then one that
 * tunnels: the relay address listed is the proxy's. */
static void test_stats_proxy(void **st_)
{
    (void)st_;
    relay r;
    relay_start(&r, (const char *const[]){"--mode", "echo", NULL});
    fake_proxy f;
    fake_start(&f, r.port, 403);
    static seen s;
    memset(&s, 0, sizeof s);
    char ns[64], fp[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", r.port);
    snprintf(fp, sizeof fp, "FirewallPort=%d", f.port);
    const char *const set[] = {"FirewallType=1", "FirewallHost=127.0.0.1", fp, NULL};
    int port;
    azr_proxy *p = proxy_at(ns, "hc1", &s, set, &port);
    refused_client(p, &s, port, 5000);
    azr_proxy_stats st = get(p);
    only(&st, AZR_FAIL_PROXY);
    assert_int_equal(failures(&st), 1);
    f.status = 200;
    int fd = client(port);
    static uint8_t out[1000], back[1000];
    random_bytes(out, sizeof out);
    assert_int_equal(exchange(p, fd, out, back, sizeof out, false, 10000), sizeof out);
    azr_connection_info info;
    assert_int_equal(azr_proxy_connection_list(p, &info, 1), 1);
    char want[32];
    snprintf(want, sizeof want, "127.0.0.1:%d", f.port);
    assert_string_equal(info.relay_address, want);
    assert_int_equal(get(p).opened, 1);
    close(fd);
    azr_proxy_free(p);
    fake_stop(&f);
    relay_stop(&r);
}

/* An azbridge listener without the port PortName asks for. */
static void test_stats_azbridge(void **st_)
{
    (void)st_;
    relay emu;
    const char *b = getenv("AZR_EMU_BIN") ? getenv("AZR_EMU_BIN") : "../build/azrelay-emu";
    const char *argv[] = {b, "--port", "0", "--rule", RULE, "--azbridge-listener", "hc1:ssh", NULL};
    proc_start(&emu, argv, 2);
    char line[512];
    if (!relay_match(&emu, "listening on ", false, line, sizeof line, 10000))
        fail_msg("%s did not start", b);
    const char *at = strstr(line, "127.0.0.1:");
    assert_non_null(at);
    static seen s;
    memset(&s, 0, sizeof s);
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", (int)strtol(at + 10, NULL, 10));
    int port;
    azr_proxy *p = proxy_at(ns, "hc1", &s, (const char *const[]){"PortName=rdp", NULL}, &port);
    refused_client(p, &s, port, 5000);
    azr_proxy_stats st = get(p);
    only(&st, AZR_FAIL_AZBRIDGE);
    assert_int_equal(failures(&st), 1);
    azr_proxy_free(p);
    relay_stop(&emu);
}

static int teardown(void **st)
{
    (void)st;
    procs_kill_all();
    return 0;
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_stats_two_clients_echo), T(test_stats_refusals),
        T(test_stats_upgrade_statuses), T(test_stats_tcp_refused),
        T(test_stats_tls_both_sides),   T(test_stats_proxy),
        T(test_stats_azbridge),
    };
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
