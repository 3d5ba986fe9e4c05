/*
 * PortName end to end (issue 11, "azbridge listeners"): client -> proxy (in
 * process) -> azrelay-emu (ws://) -> the emulator's built-in `azbridge -T`
 * listener (--azbridge-listener, src/emu/azbridge.c, written from
 * azure-relay-bridge's RemoteForwardBridge.cs), or listeners that are not
 * azbridge at all (echo, sink, source). What the PREAMBLE phase
 * (src/preamble.c) must give the application: the client's bytes only after
 * the listener accepted, nothing of the preamble or the answer in the
 * stream, Connected only then, and every refusal or silence as a clear
 * Connected/Disconnected reason with the client cut, not fed. The reply
 * parser alone is test_azbridge.c; the emulator's listener against a raw
 * sender is test_emu_azbridge.c.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"

#define RULE "RootManageSharedAccessKey:" KEY

static const char *emu_bin(void)
{
    const char *b = getenv("AZR_EMU_BIN");
    return b ? b : "../build/azrelay-emu";
}

/*
 * One emulator for the suite: azb (azbridge, TCP ports ssh and rdp), azbudp
 * (azbridge, ssh forwards UDP), plain (echo), mute (sink: takes everything,
 * answers nothing) and talk (source: speaks first, bytes 00 01 02 ...).
 */
static relay emu;

static int setup(void **st)
{
    (void)st;
    const char *argv[] = {emu_bin(),
                          "--port",
                          "0",
                          "--rule",
                          RULE,
                          "--azbridge-listener",
                          "azb:ssh,rdp",
                          "--azbridge-listener",
                          "azbudp:ssh=udp",
                          "--echo",
                          "plain",
                          "--sink",
                          "mute",
                          "--source",
                          "talk:4096",
                          NULL};
    proc_start(&emu, argv, 2);
    char line[512];
    if (!relay_match(&emu, "listening on ", false, line, sizeof line, 10000))
        fail_msg("%s did not start", emu_bin());
    const char *p = strstr(line, "127.0.0.1:");
    assert_non_null(p);
    emu.port = (int)strtol(p + 10, NULL, 10);
    assert_true(emu.port > 0);
    assert_non_null(strstr(line, "azb (azbridge), azbudp (azbridge)"));
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    relay_stop(&emu);
    procs_kill_all();
    return 0;
}

static seen s;
static azr_proxy *live; /* a failed case's proxy: freed by reap() */

/* A proxy for hc with PortName=port_name (NULL: not set at all). */
static azr_proxy *proxy_pn(const char *hc, const char *port_name, const char *extra, int *port)
{
    char ns[64], pn[300];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", emu.port);
    snprintf(pn, sizeof pn, "PortName=%s", port_name ? port_name : "");
    const char *set[3] = {NULL, NULL, NULL};
    int k = 0;
    if (port_name)
        set[k++] = pn;
    if (extra)
        set[k++] = extra;
    memset(&s, 0, sizeof s);
    live = proxy_at(ns, hc, &s, set, port);
    return live;
}

static void done(azr_proxy *p)
{
    assert_ptr_equal(p, live);
    azr_proxy_free(p);
    live = NULL;
}

/* The emulator logged a line holding needle (lines before it consumed). */
static void emu_said(const char *needle)
{
    char line[512];
    if (!relay_match(&emu, needle, false, line, sizeof line, 3000)) {
        relay_dump(&emu, "azrelay-emu");
        fail_msg("the emulator never said \"%s\"", needle);
    }
}

/* Read fd until EOF or reset, turning the loop; returns the bytes that came
 * (fails when fd stays open for limit_ms). */
static size_t drain_to_end(azr_proxy *p, int fd, uint8_t *buf, size_t cap, uint64_t limit_ms)
{
    size_t got = 0;
    uint8_t scratch[4096];
    uint64_t stop = ms() + limit_ms;
    while (ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        ssize_t n =
            take(fd, got < cap ? buf + got : scratch, got < cap ? cap - got : sizeof scratch);
        if (n == 0)
            return got;
        if (n > 0)
            got += (size_t)n;
    }
    fail_msg("the client's connection stayed open for %llu ms (%zu bytes came)",
             (unsigned long long)limit_ms, got);
    return got;
}

/* Where needle starts in the proxy's log (fails when absent). */
static size_t log_at(const char *needle)
{
    const char *at = strstr(s.log, needle);
    if (!at)
        fail_msg("the log lacks \"%s\":\n%s", needle, s.log);
    return (size_t)(at - s.log);
}

/* A refusal: the client is cut within limit_ms with nothing delivered;
 * Connected (failed) and Disconnected once each with the same reason, which
 * holds every one of the words. Returns the time it took, ms. */
static uint64_t refused(azr_proxy *p, int fd, int status, uint64_t limit_ms,
                        const char *const *words)
{
    uint64_t t0 = ms();
    uint8_t buf[256];
    size_t got = drain_to_end(p, fd, buf, sizeof buf, limit_ms);
    SPIN(p, s.disconnected == 1, 2000);
    uint64_t took = ms() - t0;
    if (got)
        fail_msg("a refused client got %zu bytes (first %02x %02x %02x); reason: %s", got, buf[0],
                 got > 1 ? buf[1] : 0, got > 2 ? buf[2] : 0, s.disconnected_desc);
    assert_int_equal(s.disconnected, 1);
    assert_int_equal(s.connected, 1); /* the class's Connected, with the failure */
    assert_int_equal(s.connected_status, status);
    assert_int_equal(s.disconnected_status, status);
    assert_string_equal(s.connected_desc, s.disconnected_desc);
    for (; *words; words++)
        if (!strstr(s.disconnected_desc, *words))
            fail_msg("the reason lacks \"%s\": %s", *words, s.disconnected_desc);
    assert_int_equal(azr_proxy_connection_count(p), 0);
    return took;
}

/* ------------------------------------------------------------------ cases */

/*
 * PortName=ssh on a listener with ssh: the client's bytes (written at once,
 * before the answer) come back exactly, then EOF: the preamble went once and
 * before them, the 3-byte answer was taken out, nothing was added either way.
 * Connected (status 0) fires after the answer.
 */
static void test_preamble_accepted_echoes(void **st)
{
    (void)st;
    int port;
    azr_proxy *p = proxy_pn("azb", "ssh", NULL, &port);
    int fd = client(port);
    static uint8_t out[65536], back[65536 + 16];
    random_bytes(out, sizeof out);
    out[0] = 0x01; /* starts as the answer does: must reach the service all the same */
    out[1] = 0x00;
    out[2] = 0x00;
    size_t got = exchange(p, fd, out, back, sizeof out, true, 15000);
    if (got != sizeof out)
        fail_msg("%zu of %zu bytes came back: %s\n%s", got, sizeof out, s.disconnected_desc, s.log);
    assert_memory_equal(out, back, sizeof out);
    size_t extra = drain_to_end(p, fd, back + got, 16, 10000); /* FIN -> close -> EOF */
    assert_int_equal(extra, 0);
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.connected, 1);
    assert_int_equal(s.connected_status, 0);
    assert_int_equal(s.disconnected_status, 0);
    /* preamble out, answer in, then the WebSocket counts as open: Connected */
    size_t sent = log_at("azbridge preamble sent for port 'ssh'");
    size_t ok = log_at("azbridge listener accepted port 'ssh'");
    size_t open = log_at("relay connection open");
    assert_true(sent < ok && ok < open);
    emu_said("azbridge listener on azb: port 'ssh' (tcp) accepted: answered 01 00 00, echoing");
    close(fd);
    done(p);
}

/* The other port of the same listener: the name, not the first port, picks. */
static void test_preamble_second_port(void **st)
{
    (void)st;
    int port;
    azr_proxy *p = proxy_pn("azb", "rdp", NULL, &port);
    int fd = client(port);
    uint8_t back[8];
    assert_int_equal(exchange(p, fd, (const uint8_t *)"rdp-ok", back, 6, true, 10000), 6);
    assert_memory_equal(back, "rdp-ok", 6);
    assert_int_equal(drain_to_end(p, fd, back, sizeof back, 10000), 0);
    emu_said("azbridge listener on azb: port 'rdp' (tcp) accepted");
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.connected_status, 0);
    close(fd);
    done(p);
}

/* No port of that name: azbridge closes without a word; the client is cut
 * at once with a reason that names the port and what to check. */
static void test_preamble_unknown_port(void **st)
{
    (void)st;
    int port;
    azr_proxy *p = proxy_pn("azb", "nope", NULL, &port);
    int fd = client(port);
    assert_int_equal(write(fd, "hello", 5), 5);
    const char *const words[] = {"no port named 'nope'", "without answering the preamble",
                                 "PortName", NULL};
    uint64_t took = refused(p, fd, AZR_ERR_REFUSED, 5000, words);
    printf("  unknown port: refused in %llu ms: %s\n", (unsigned long long)took,
           s.disconnected_desc);
    assert_true(took < 1000);
    emu_said("azbridge listener on azb: no port named 'nope': closed without a reply");
    close(fd);
    done(p);
}

/* A UDP port asked for a stream: 00 00 01, a mode mismatch. */
static void test_preamble_udp_port(void **st)
{
    (void)st;
    int port;
    azr_proxy *p = proxy_pn("azbudp", "ssh", NULL, &port);
    int fd = client(port);
    assert_int_equal(write(fd, "hello", 5), 5);
    const char *const words[] = {"'ssh'", "mode mismatch", "UDP", NULL};
    uint64_t took = refused(p, fd, AZR_ERR_REFUSED, 5000, words);
    printf("  UDP port: refused in %llu ms: %s\n", (unsigned long long)took, s.disconnected_desc);
    assert_true(took < 1000);
    emu_said("azbridge listener on azbudp: port 'ssh' forwards UDP, a stream was asked: "
             "answered 00 00 01");
    close(fd);
    done(p);
}

/* PortName empty (the default, and set empty): raw bytes, no preamble. An
 * echo listener shows it: a preamble would come back ahead of the data. */
static void raw_echo(const char *port_name)
{
    int port;
    azr_proxy *p = proxy_pn("plain", port_name, NULL, &port);
    int fd = client(port);
    static uint8_t out[32768], back[32768 + 16];
    random_bytes(out, sizeof out);
    assert_int_equal(exchange(p, fd, out, back, sizeof out, true, 15000), sizeof out);
    assert_memory_equal(out, back, sizeof out);
    assert_int_equal(drain_to_end(p, fd, back, 16, 10000), 0);
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.connected_status, 0);
    assert_int_equal(s.disconnected_status, 0);
    assert_null(strstr(s.log, "azbridge"));
    close(fd);
    done(p);
}

static void test_preamble_empty_is_raw(void **st)
{
    (void)st;
    raw_echo(NULL);
    raw_echo("");
}

/*
 * PortName against a listener that is not azbridge but echoes: it sends the
 * preamble back, whose first 3 bytes (01 00 00) read as "accepted".
 * azbridge answers with a 3-byte message of its own and never with our
 * preamble, so a reply followed by the rest of the preamble (03 's' 's' 'h')
 * is an echo: the proxy must refuse such a listener with a reason naming
 * the port and PortName, and must not hand the client the rest of its own
 * preamble as service data.
 */
static void test_preamble_echo_listener_refused(void **st)
{
    (void)st;
    int port;
    azr_proxy *p = proxy_pn("plain", "ssh", NULL, &port);
    int fd = client(port);
    uint8_t buf[64];
    size_t got = 0;
    ssize_t n = -1;
    uint64_t stop = ms() + 5000;
    while (s.disconnected == 0 && n != 0 && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        if ((n = take(fd, buf + got, sizeof buf - got)) > 0)
            got += (size_t)n;
    }
    if (got)
        fail_msg("the client got %zu bytes (%02x %02x %02x %02x: the rest of the proxy's own "
                 "preamble) as service data; the echo listener was taken for azbridge "
                 "(Connected %d, status %d, disconnected %d)",
                 got, buf[0], buf[1], buf[2], buf[3], s.connected, s.connected_status,
                 s.disconnected);
    const char *const words[] = {"'ssh'", "PortName", NULL};
    uint64_t took = refused(p, fd, AZR_ERR_REFUSED, 5000, words);
    printf("  echo listener: refused in %llu ms: %s\n", (unsigned long long)took,
           s.disconnected_desc);
    close(fd);
    done(p);
}

/*
 * A listener that takes the preamble and never answers (the sink): the
 * client waits, not read beyond its buffer and not connected, until
 * ConnectionTimeout; then Connected and Disconnected say what to check, and
 * the listener got the preamble only, none of the client's bytes.
 */
static void test_preamble_silent_listener(void **st)
{
    (void)st;
    int port;
    azr_proxy *p = proxy_pn("mute", "ssh", "ConnectionTimeout=1", &port);
    int fd = client(port);
    assert_int_equal(write(fd, "hello", 5), 5);
    uint64_t t0 = ms();
    SPIN(p, strstr(s.log, "azbridge preamble sent for port 'ssh'") != NULL, 2000);
    SPIN(p, s.connected || s.disconnected, 800); /* waiting for the answer: no event */
    assert_int_equal(s.connected, 0);
    assert_int_equal(s.disconnected, 0);
    const char *const words[] = {"no answer in time to the azbridge preamble for port 'ssh'",
                                 "0 of 3 reply bytes", "ConnectionTimeout", NULL};
    (void)refused(p, fd, AZR_ERR_TIMEOUT, 4000, words);
    uint64_t took = ms() - t0;
    printf("  silent listener: cut after %llu ms: %s\n", (unsigned long long)took,
           s.disconnected_desc);
    assert_true(took >= 900 && took < 3000);
    emu_said("sink received 7 bytes"); /* 01 00 00 03 s s h, not "hello" */
    close(fd);
    done(p);
}

/* A listener that is the service itself and speaks first (the source, bytes
 * 00 01 02 ...): no azbridge answer, a refusal showing the bytes; none of
 * them reach the client. */
static void test_preamble_service_speaks_first(void **st)
{
    (void)st;
    int port;
    azr_proxy *p = proxy_pn("talk", "ssh", NULL, &port);
    int fd = client(port);
    const char *const words[] = {"'ssh'", "00 01 02", NULL};
    uint64_t took = refused(p, fd, AZR_ERR_REFUSED, 5000, words);
    printf("  service speaking first: refused in %llu ms: %s\n", (unsigned long long)took,
           s.disconnected_desc);
    assert_true(took < 1000);
    close(fd);
    done(p);
}

/* The client leaves while the answer is awaited: the attempt ends at once
 * (not at ConnectionTimeout) and the relay leg goes with it (no rendezvous
 * left behind; today without a close frame: the emulator sees the TCP end). */
static void test_preamble_client_leaves_while_waiting(void **st)
{
    (void)st;
    int port;
    azr_proxy *p = proxy_pn("mute", "ssh", NULL, &port); /* ConnectionTimeout 30 s */
    int fd = client(port);
    SPIN(p, strstr(s.log, "azbridge preamble sent for port 'ssh'") != NULL, 3000);
    assert_non_null(strstr(s.log, "azbridge preamble sent for port 'ssh'"));
    uint64_t t0 = ms();
    close(fd);
    SPIN(p, s.disconnected == 1, 3000);
    uint64_t took = ms() - t0;
    assert_int_equal(s.disconnected, 1);
    assert_non_null(strstr(s.disconnected_desc, "client left during the azbridge preamble"));
    assert_true(took < 1000);
    char line[512];
    uint64_t stop = ms() + 3000;
    for (;;) {
        if (ms() > stop || !relay_line(&emu, "", line, sizeof line, 3000))
            fail_msg("the emulator never saw the relay leg end");
        if (strstr(line, "sink received 7 bytes") || strstr(line, "closed: peer closed the TCP"))
            break;
    }
    done(p);
}

static int reap(void **st)
{
    (void)st;
    if (live)
        azr_proxy_free(live);
    live = NULL;
    return 0;
}

#define CASE(f) cmocka_unit_test_teardown(f, reap)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(test_preamble_accepted_echoes),
        CASE(test_preamble_second_port),
        CASE(test_preamble_unknown_port),
        CASE(test_preamble_udp_port),
        CASE(test_preamble_empty_is_raw),
        CASE(test_preamble_echo_listener_refused),
        CASE(test_preamble_silent_listener),
        CASE(test_preamble_service_speaks_first),
        CASE(test_preamble_client_leaves_while_waiting),
    };
    signal(SIGPIPE, SIG_IGN);
    if (getenv("AZR_TEST_ONLY"))
        cmocka_set_test_filter(getenv("AZR_TEST_ONLY"));
    return cmocka_run_group_tests_name("preamble", tests, setup, teardown);
}
