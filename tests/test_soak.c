/*
 * Long-running: an idle client connection held open for 10 minutes through
 * the relay emulator, which cuts WebSockets idle for 240 s as Azure's load
 * balancer does (relay-protocol.md §6.2). The proxy's relay keep-alive
 * (RelayKeepAliveInterval, default 30 s) must keep it alive: after the 10
 * minutes the connection still echoes. ./build.sh test runs this suite in
 * the background while the others run; AZR_SOAK_SECONDS shortens it by hand.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"

static void test_soak_idle_connection_survives(void **st)
{
    (void)st;
    const char *env = getenv("AZR_SOAK_SECONDS");
    long secs = env ? strtol(env, NULL, 10) : 600;
    const char *bin = getenv("AZR_EMU_BIN") ? getenv("AZR_EMU_BIN") : "../build/azrelay-emu";
    const char *argv[] = {
        bin,   "--port",         "0",   "--rule", "RootManageSharedAccessKey:" KEY, "--echo",
        "hc1", "--idle-timeout", "240", NULL};
    relay emu;
    proc_start(&emu, argv, 2);
    char line[512];
    assert_true(relay_match(&emu, "listening on ", false, line, sizeof line, 10000));
    emu.port = (int)strtol(strstr(line, "127.0.0.1:") + 10, NULL, 10);
    static seen s;
    memset(&s, 0, sizeof s);
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", emu.port);
    int port;
    azr_proxy *p = proxy_at(ns, "hc1", &s, NULL, &port);
    int fd = client(port);
    uint8_t back[16];
    assert_int_equal(exchange(p, fd, (const uint8_t *)"hello", back, 5, false, 10000), 5);
    assert_memory_equal(back, "hello", 5);
    uint64_t until = ms() + (uint64_t)secs * 1000u;
    while (ms() < until && s.disconnected == 0)
        assert_int_equal(azr_proxy_do_events(p, 1000), 0);
    if (s.disconnected)
        fail_msg("cut after less than %ld s: %s", secs, s.disconnected_desc);
    assert_int_equal(exchange(p, fd, (const uint8_t *)"still here", back, 10, false, 10000), 10);
    assert_memory_equal(back, "still here", 10);
    /* the keep-alive pings are what kept it: about one per 30 s */
    fprintf(stderr, "soak: connection idle for %ld s survived\n", secs);
    close(fd);
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.disconnected_status, 0);
    azr_proxy_free(p);
    relay_stop(&emu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soak_idle_connection_survives),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("soak", tests, NULL, NULL);
}
