/*
 * An idle client connection through the relay emulator, which cuts
 * WebSockets idle for --idle-timeout seconds as Azure's load balancer does
 * after 240 s (relay-protocol.md §6.2). Two proxies hold one idle connection
 * each, side by side: one with RelayKeepAliveInterval=0, which must be cut,
 * and one with keep-alive, which must still echo at the end. The cut proves
 * the hold was long enough for the emulator to act, so the survivor's
 * success is not vacuous.
 *
 * By default (what ./build.sh test runs) the figures are small: a 3 s idle
 * timeout, a ping after 1 s of silence, 10 s of idleness. AZR_SOAK_SECONDS=N
 * runs the real figures instead: Azure's 240 s, the default keep-alive
 * (30 s), N seconds of idleness (N >= 480, twice the idle timeout).
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"

typedef struct side {
    seen s;
    azr_proxy *p;
    int fd;
    uint64_t idle_since;   /* ms() after the last echo */
    uint64_t cut_after_ms; /* idle time when the Disconnected event came; 0 while alive */
} side;

static void side_open(side *d, const char *ns, const char *keepalive)
{
    const char *const set[] = {keepalive, NULL};
    uint8_t back[8];
    int port;
    memset(&d->s, 0, sizeof d->s);
    d->p = proxy_at(ns, "hc1", &d->s, keepalive ? set : NULL, &port);
    d->fd = client(port);
    d->cut_after_ms = 0;
    assert_int_equal(exchange(d->p, d->fd, (const uint8_t *)"hello", back, 5, false, 10000), 5);
    assert_memory_equal(back, "hello", 5);
    d->idle_since = ms();
}

static void test_soak_idle_connection_needs_keepalive(void **st)
{
    (void)st;
    const char *env = getenv("AZR_SOAK_SECONDS");
    long hold = env && *env ? strtol(env, NULL, 10) : 0;
    bool real = hold > 0;
    long idle = real ? 240 : 3;
    if (!real)
        hold = 10;
    else if (hold < 2 * idle)
        fail_msg("AZR_SOAK_SECONDS=%ld: at least %ld (twice the %ld s idle timeout)", hold,
                 2 * idle, idle);
    char idle_arg[16];
    snprintf(idle_arg, sizeof idle_arg, "%ld", idle);
    const char *bin = getenv("AZR_EMU_BIN") ? getenv("AZR_EMU_BIN") : "../build/azrelay-emu";
    const char *argv[] = {
        bin,   "--port",         "0",      "--rule", "RootManageSharedAccessKey:" KEY, "--echo",
        "hc1", "--idle-timeout", idle_arg, NULL};
    relay emu;
    proc_start(&emu, argv, 2);
    char line[512];
    assert_true(relay_match(&emu, "listening on ", false, line, sizeof line, 10000));
    emu.port = (int)strtol(strstr(line, "127.0.0.1:") + 10, NULL, 10);
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", emu.port);
    fprintf(stderr, "soak: emulator cuts after %ld idle s; two connections idle for %ld s\n", idle,
            hold);

    static side off, on;
    side_open(&off, ns, "RelayKeepAliveInterval=0");
    /* the real figures keep the default interval (30 s) */
    side_open(&on, ns, real ? NULL : "RelayKeepAliveInterval=1");
    uint64_t until = on.idle_since + (uint64_t)hold * 1000u;
    while (ms() < until && on.s.disconnected == 0) {
        assert_int_equal(azr_proxy_do_events(off.p, 50), 0);
        assert_int_equal(azr_proxy_do_events(on.p, 50), 0);
        if (off.s.disconnected && !off.cut_after_ms)
            off.cut_after_ms = ms() - off.idle_since;
    }
    if (on.s.disconnected)
        fail_msg("cut despite keep-alive after %llu ms: %s",
                 (unsigned long long)(ms() - on.idle_since), on.s.disconnected_desc);

    /* without keep-alive: cut by the emulator, not before its idle timeout */
    if (!off.s.disconnected)
        fail_msg("without keep-alive the connection lived %ld s: the emulator never cut it", hold);
    assert_non_null(strstr(off.s.disconnected_desc, "relay connection lost"));
    /* the emulator's clock starts when it echoed, a little before idle_since */
    assert_true(off.cut_after_ms + 500u >= (uint64_t)idle * 1000u);
    assert_true(eof_within(off.p, off.fd, 2000));
    snprintf(line, sizeof line, "no traffic for %ld s: cut", idle);
    assert_true(relay_match(&emu, line, false, line, sizeof line, 1000));
    fprintf(stderr, "soak: without keep-alive cut after %.1f s\n",
            (double)off.cut_after_ms / 1000.0);

    /* with keep-alive: the pings kept it, and it still echoes */
    snprintf(line, sizeof line, "relay silent for %s s: ping", real ? "30" : "1");
    assert_non_null(strstr(on.s.log, line));
    uint8_t back[16];
    assert_int_equal(exchange(on.p, on.fd, (const uint8_t *)"still here", back, 10, false, 10000),
                     10);
    assert_memory_equal(back, "still here", 10);
    fprintf(stderr, "soak: with keep-alive idle for %ld s and still echoing\n", hold);

    close(off.fd);
    close(on.fd);
    SPIN(on.p, on.s.disconnected == 1, 5000);
    assert_int_equal(on.s.disconnected_status, 0);
    azr_proxy_free(off.p);
    azr_proxy_free(on.p);
    relay_stop(&emu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soak_idle_connection_needs_keepalive),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("soak", tests, NULL, NULL);
}
