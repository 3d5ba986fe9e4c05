/*
 * The emulator's built-in azbridge -T listener (--azbridge-listener,
 * src/emu/azbridge.c), driven by a raw sender on Node's ws
 * (tests/node/ws-sender.js) that writes the bytes each case names, split
 * into messages as the case says, and reports every message and the close.
 * Expected answers are azbridge's, from Azure/azure-relay-bridge 693a395,
 * src/Microsoft.Azure.Relay.Bridge/RemoteForwardBridge.cs (lines 159-237):
 * 01 00 <mode> to accept, 00 00 00 for a version or mode byte other than
 * 1, 0, 0|1, 00 00 01 for a stream to a UDP port, 00 00 FF for datagrams to
 * a TCP port, and CloseConnection() alone (close 1000 "Shutdown") for an
 * unknown name. Each answer is then read by the proxy's own reply parser
 * (src/azbridge.c), so the two readings of azbridge's source are compared.
 */
#include "testutil.h"
#include "peers.h"
#include "azbridge.h"

#define RULE_KEY "azbridge-test-key"
#define RULE     "RootManageSharedAccessKey:" RULE_KEY

static const char *emu_bin(void)
{
    const char *b = getenv("AZR_EMU_BIN");
    return b ? b : "../build/azrelay-emu";
}

static relay emu;

/* hc1: two TCP ports and a UDP one; one: a single TCP port (azbridge's
 * "any integer name" rule applies there). */
static int setup(void **st)
{
    (void)st;
    const char *argv[] = {emu_bin(),
                          "--port",
                          "0",
                          "--rule",
                          RULE,
                          "--azbridge-listener",
                          "hc1:ssh,rdp,dns=udp",
                          "--azbridge-listener",
                          "one:ssh",
                          NULL};
    proc_start(&emu, argv, 2);
    char line[512];
    if (!relay_match(&emu, "listening on ", false, line, sizeof line, 10000))
        fail_msg("%s did not start", emu_bin());
    const char *p = strstr(line, "127.0.0.1:");
    assert_non_null(p);
    emu.port = (int)strtol(p + 10, NULL, 10);
    assert_true(emu.port > 0);
    assert_non_null(strstr(line, "hc1 (azbridge), one (azbridge)"));
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    relay_stop(&emu);
    procs_kill_all();
    return 0;
}

typedef struct outcome {
    char msg[8][1200]; /* hex of each message received */
    int nmsg;
    int code;
    char reason[128];
} outcome;

/*
 * One sender on hc: args are ws-sender.js's (--send HEX ..., --fragment).
 * After close_after messages came back (0: never) it closes with 1000;
 * otherwise the emulator must close.
 */
static void send_case(const char *hc, const char *const *args, int close_after, outcome *o)
{
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/$hc/%s", emu.port, hc);
    const char *argv[32] = {
        "node",       "node/ws-sender.js",         "--url",  url,        "--key", RULE_KEY,
        "--key-name", "RootManageSharedAccessKey", "--host", "127.0.0.1"};
    int k = 10;
    for (; args && *args && k < 31; args++)
        argv[k++] = *args;
    argv[k] = NULL;
    relay s;
    proc_start(&s, argv, 1);
    memset(o, 0, sizeof *o);
    o->code = -1;
    char line[1200];
    if (!relay_line(&s, "OPEN", line, sizeof line, 15000)) {
        relay_dump(&s, "ws-sender.js");
        fail_msg("the sender did not connect to %s", hc);
    }
    for (;;) {
        if (!relay_line(&s, "", line, sizeof line, 10000)) {
            relay_dump(&s, "ws-sender.js");
            fail_msg("no close from the emulator on %s", hc);
        }
        if (!strncmp(line, "MSG ", 4)) {
            assert_true(o->nmsg < 8);
            snprintf(o->msg[o->nmsg++], sizeof o->msg[0], "%s", line + 4);
            if (o->nmsg == close_after)
                assert_int_equal(write(s.in, "CLOSE\n", 6), 6);
        } else if (!strncmp(line, "CLOSED ", 7)) {
            char *end;
            o->code = (int)strtol(line + 7, &end, 10);
            snprintf(o->reason, sizeof o->reason, "%s", *end == ' ' ? end + 1 : end);
            break;
        } else if (!strncmp(line, "ERROR ", 6) || !strncmp(line, "REFUSED ", 8)) {
            fail_msg("sender: %s", line);
        }
    }
    relay_stop(&s);
}

/* The proxy's parser reads what the sender got: each message in order,
 * then the close. Returns its result; b holds the verdict and text. */
static azr_err codec_reads(const char *name, const outcome *o, azr_azbridge *b)
{
    assert_int_equal(azr_azbridge_init(b, name), AZR_OK);
    azr_err e = AZR_AGAIN;
    for (int i = 0; i < o->nmsg && e == AZR_AGAIN; i++) {
        uint8_t m[600];
        size_t n = strcmp(o->msg[i], "-") ? tu_hex(o->msg[i], m, sizeof m) : 0, used;
        e = azr_azbridge_feed(b, m, n, &used);
    }
    return e == AZR_AGAIN ? azr_azbridge_closed(b) : e;
}

static void want(const outcome *o, int nmsg, const char *m0, const char *m1)
{
    if (o->nmsg != nmsg)
        fail_msg("%d messages came back (first: %s), want %d", o->nmsg,
                 o->nmsg ? o->msg[0] : "none", nmsg);
    if (m0)
        assert_string_equal(o->msg[0], m0);
    if (m1)
        assert_string_equal(o->msg[1], m1);
    /* azbridge's CloseConnection: ShutdownAsync is CloseOutputAsync(NormalClosure, "Shutdown") */
    assert_int_equal(o->code, 1000);
    assert_string_equal(o->reason, "Shutdown");
}

static void want_log(const char *needle)
{
    char line[600];
    if (!relay_match(&emu, needle, false, line, sizeof line, 5000))
        fail_msg("the emulator did not log '%s'", needle);
}

/* ------------------------------------------------------------------ cases */

static void test_emu_azbridge_accepts_and_echoes(void **st)
{
    (void)st;
    outcome o;
    azr_azbridge b;
    /* as azbridge's TcpLocalForwardBridge writes it: header, then the name, as two messages */
    const char *const two[] = {"--send", "01000003",   "--send", "737368",
                               "--send", "68656c6c6f", NULL};
    send_case("hc1", two, 2, &o);
    want(&o, 2, "010000", "68656c6c6f");
    assert_int_equal(codec_reads("ssh", &o, &b), AZR_OK);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_ACCEPTED);
    want_log("port 'ssh' (tcp) accepted: answered 01 00 00");

    /* preamble and the client's first bytes in one message: the rest is echoed */
    const char *const one[] = {"--send", "01 00 00 03 726470 68656c6c6f", NULL};
    send_case("hc1", one, 2, &o);
    want(&o, 2, "010000", "68656c6c6f");
    assert_int_equal(codec_reads("rdp", &o, &b), AZR_OK);

    /* one byte per fragment of a single message: the listener reads a byte stream */
    const char *const frag[] = {"--send", "01",   "--send",     "00", "--send", "00",
                                "--send", "03",   "--send",     "73", "--send", "7368",
                                "--send", "6869", "--fragment", NULL};
    send_case("hc1", frag, 2, &o);
    want(&o, 2, "010000", "6869");
}

static void test_emu_azbridge_unknown_port_closes_without_reply(void **st)
{
    (void)st;
    outcome o;
    azr_azbridge b;
    const char *const telnet[] = {"--send", "01000006", "--send", "74656c6e6574", NULL};
    send_case("hc1", telnet, 0, &o);
    want(&o, 0, NULL, NULL);
    assert_int_equal(codec_reads("telnet", &o, &b), AZR_E_CLOSED);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_NO_PORT);
    assert_string_equal(b.why, "azbridge listener closed the connection without answering the "
                               "preamble: no port named 'telnet' on that listener (check "
                               "PortName against the listener's -T mapping)");
    want_log("no port named 'telnet': closed without a reply");

    /* names are matched exactly (an ordinal Dictionary): case counts */
    const char *const upper[] = {"--send", "01000003 535348", NULL};
    send_case("hc1", upper, 0, &o);
    want(&o, 0, NULL, NULL);

    /* an empty name is looked up too, and is nobody's */
    const char *const empty[] = {"--send", "01000000", NULL};
    send_case("hc1", empty, 0, &o);
    want(&o, 0, NULL, NULL);
}

static void test_emu_azbridge_bad_version(void **st)
{
    (void)st;
    outcome o;
    azr_azbridge b;
    const char *const v2[] = {"--send", "02000003737368", NULL};
    send_case("hc1", v2, 0, &o);
    want(&o, 1, "000000", NULL);
    assert_int_equal(codec_reads("ssh", &o, &b), AZR_E_REFUSED);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_BAD_VERSION);
    assert_non_null(strstr(b.why, "'ssh': protocol version mismatch"));
    want_log("preamble version 02 00 mode 00 not understood: answered 00 00 00");

    /* minor version 1, and a mode byte other than 0 or 1, get the same answer,
     * before the name is even read */
    const char *const minor[] = {"--send", "010100", NULL};
    send_case("hc1", minor, 0, &o);
    want(&o, 1, "000000", NULL);
    const char *const mode2[] = {"--send", "01000203737368", NULL};
    send_case("hc1", mode2, 0, &o);
    want(&o, 1, "000000", NULL);
}

static void test_emu_azbridge_mode_mismatch(void **st)
{
    (void)st;
    outcome o;
    azr_azbridge b;
    /* a stream (what azrelay asks for) to a UDP port */
    const char *const to_udp[] = {"--send", "01000003646e73", NULL};
    send_case("hc1", to_udp, 0, &o);
    want(&o, 1, "000001", NULL);
    assert_int_equal(codec_reads("dns", &o, &b), AZR_E_REFUSED);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_PORT_IS_UDP);
    assert_non_null(strstr(b.why, "azbridge listener refused the port name 'dns': mode mismatch "
                                  "(the listener forwards UDP on that port, not TCP"));
    want_log("port 'dns' forwards UDP, a stream was asked: answered 00 00 01");

    /* datagrams (what azbridge's UdpLocalForwardBridge asks for) to a TCP port */
    const char *const to_tcp[] = {"--send", "01000103737368", NULL};
    send_case("hc1", to_tcp, 0, &o);
    want(&o, 1, "0000ff", NULL);
    assert_int_equal(codec_reads("ssh", &o, &b), AZR_E_REFUSED);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_PORT_IS_STREAM);
    want_log("port 'ssh' forwards TCP, datagrams were asked: answered 00 00 ff");

    /* datagrams to a UDP port are accepted with the mode echoed: 01 00 01,
     * which a stream sender must not take for a yes */
    const char *const dgram[] = {"--send", "01000103646e73", "--send", "0002 6869", NULL};
    send_case("hc1", dgram, 2, &o);
    want(&o, 2, "010001", "00026869");
    assert_int_equal(codec_reads("dns", &o, &b), AZR_E_PROTO);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_UNEXPECTED);
}

/* RemoteForwardBridge.cs line 198: with a single forwarder, any name that
 * int.TryParse accepts selects it (a -L side's default name is its port). */
static void test_emu_azbridge_single_port_takes_integers(void **st)
{
    (void)st;
    outcome o;
    const char *const n22[] = {"--send", "01000002 3232", "--send", "6869", NULL};
    send_case("one", n22, 2, &o);
    want(&o, 2, "010000", "6869");
    want_log("port '22' (tcp) (taken as the only port");
    const char *const signed_ws[] = {"--send", "01000004 202d3720", "--send", "6869", NULL};
    send_case("one", signed_ws, 2, &o); /* " -7 " */
    want(&o, 2, "010000", "6869");
    const char *const named[] = {"--send", "01000003 737368", "--send", "6869", NULL};
    send_case("one", named, 2, &o);
    want(&o, 2, "010000", "6869");
    const char *const other[] = {"--send", "01000003 726470", NULL};
    send_case("one", other, 0, &o);
    want(&o, 0, NULL, NULL);
    /* 2147483648 does not fit an Int32 */
    const char *const big[] = {"--send", "0100000a 32313437343833363438", NULL};
    send_case("one", big, 0, &o);
    want(&o, 0, NULL, NULL);
    /* with several ports the rule is off: 22 is just an unknown name */
    const char *const several[] = {"--send", "01000002 3232", NULL};
    send_case("hc1", several, 0, &o);
    want(&o, 0, NULL, NULL);
}

/* Exit status of the emulator with these arguments; its stderr into err. */
static int emu_args_status(const char *const *extra, char *err, size_t cap)
{
    const char *argv[16] = {emu_bin(), "--port", "0"};
    int k = 3;
    for (; extra && *extra && k < 15; extra++)
        argv[k++] = *extra;
    argv[k] = NULL;
    relay r;
    proc_start(&r, argv, 2);
    int status = -1;
    for (int i = 0; i < 500 && waitpid(r.pid, &status, WNOHANG) == 0; i++)
        usleep(10000);
    procs_track(r.pid, false);
    if (!WIFEXITED(status)) {
        proc_end(r.pid);
        fail_msg("the emulator did not refuse its arguments");
    }
    ssize_t n = read(r.out, err, cap - 1);
    err[n > 0 ? n : 0] = '\0';
    close(r.in);
    close(r.out);
    return WEXITSTATUS(status);
}

static void test_emu_azbridge_option_syntax(void **st)
{
    (void)st;
    char err[1024];
    static const char *const bad[] = {"hc1",
                                      ":ssh",
                                      "hc1:",
                                      "hc1:ssh,",
                                      "hc1:my port",
                                      "hc1:ssh=tcp",
                                      "hc1:caf\xc3\xa9",
                                      "hc1:a,b,c,d,e,f,g,h,i"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *const args[] = {"--azbridge-listener", bad[i], NULL};
        if (emu_args_status(args, err, sizeof err) != 2)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err, "--azbridge-listener"));
    }
    relay r;
    const char *argv[] = {emu_bin(), "--help", NULL};
    proc_start(&r, argv, 1);
    char line[256];
    assert_true(relay_match(&r, "--azbridge-listener HC:PORTNAME[,PORTNAME...]", false, line,
                            sizeof line, 5000));
    assert_true(relay_match(&r, "PORTNAME=udp", false, line, sizeof line, 5000));
    relay_stop(&r);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_azbridge_accepts_and_echoes),
        cmocka_unit_test(test_emu_azbridge_unknown_port_closes_without_reply),
        cmocka_unit_test(test_emu_azbridge_bad_version),
        cmocka_unit_test(test_emu_azbridge_mode_mismatch),
        cmocka_unit_test(test_emu_azbridge_single_port_takes_integers),
        cmocka_unit_test(test_emu_azbridge_option_syntax),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
