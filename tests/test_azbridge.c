/*
 * azbridge's connection preamble (src/azbridge.c). The byte vectors come from
 * Microsoft's azbridge, Azure/azure-relay-bridge at commit
 * 693a39570f095750bcc1900a744c18959b78c5eb, src/Microsoft.Azure.Relay.Bridge/:
 *
 * TcpLocalForwardBridge.cs, the sender (lines 204-213, 229; comment markers
 * spaced out here):
 *     byte[] portNameBytes = Encoding.UTF8.GetBytes(PortName);
 *     byte[] preamble =
 *     {
 *         / *major* / 1,
 *         / *minor* / 0,
 *         / *stream mode* / 0,
 *         (byte)portNameBytes.Length
 *     };
 *     await hybridConnectionStream.WriteAsync(preamble, 0, preamble.Length)...
 *     await hybridConnectionStream.WriteAsync(portNameBytes, 0, portNameBytes.Length)...
 *     if (!(replyPreamble[0] == 1 && replyPreamble[1] == 0 && replyPreamble[2] == 0))
 *
 * RemoteForwardBridge.cs, the listener (lines 159-160, 165, 191, 215, 223, 230):
 *     if (versionPreamble[0] == 1 && versionPreamble[1] == 0 &&
 *         (versionPreamble[2] == 0 || versionPreamble[2] == 1))
 *     var portNameBuffer = new byte[256];
 *     versionPreamble = new byte[] { 0, 0, 0 };          (version not understood)
 *     versionPreamble = new byte[] { 0, 0, 1 };          (UDP forwarder, mode != 1)
 *     versionPreamble = new byte[] { 0, 0, 255 };        (other forwarder, mode == 1)
 *     versionPreamble = new byte[] { 1, 0, versionPreamble[2] };   (accepted)
 * and for an unknown port name (line 237) only CloseConnection(), no reply.
 *
 * Port names in the vectors follow CONFIG.md: "rdp" (-T relay:rdp/3389) and
 * the default name, the port number itself ("22"). Replies are fed whole,
 * byte by byte and split at every offset, each piece against a guard page,
 * with service bytes after them that must stay unconsumed.
 */
#include "testutil.h"
#include "azbridge.h"

static void want_preamble(const char *name, const char *hex)
{
    uint8_t w[AZR_AZBRIDGE_PREAMBLE_MAX], out[AZR_AZBRIDGE_PREAMBLE_MAX];
    size_t wn = tu_hex(hex, w, sizeof w), n = 99;
    assert_int_equal(azr_azbridge_preamble(name, out, sizeof out, &n), AZR_OK);
    if (n != wn || memcmp(out, w, n) != 0) {
        char got[2 * AZR_AZBRIDGE_PREAMBLE_MAX + 1];
        tu_tohex(out, n, got);
        fail_msg("preamble for '%s': %s, want %s", name, got, hex);
    }
    /* exactly enough room works, one byte less does not */
    assert_int_equal(azr_azbridge_preamble(name, out, wn, &n), AZR_OK);
    assert_int_equal(azr_azbridge_preamble(name, out, wn - 1, &n), AZR_E_LIMIT);
    assert_int_equal(n, 0);
}

static void test_azbridge_preamble_vectors(void **s)
{
    (void)s;
    want_preamble("rdp", "01 00 00 03 726470");
    want_preamble("22", "01 00 00 02 3232");
    want_preamble("sql/main_1.x-y", "01 00 00 0e 73716c2f6d61696e5f312e782d79");
    /* Encoding.UTF8.GetBytes of "café": the length counts bytes, not characters */
    want_preamble("caf\xc3\xa9", "01 00 00 05 636166c3a9");
    char big[AZR_AZBRIDGE_MAX_NAME + 1], hex[4 * AZR_AZBRIDGE_MAX_NAME + 16];
    memset(big, 'p', AZR_AZBRIDGE_MAX_NAME);
    big[AZR_AZBRIDGE_MAX_NAME] = '\0';
    size_t o = (size_t)snprintf(hex, sizeof hex, "01 00 00 ff ");
    for (size_t i = 0; i < AZR_AZBRIDGE_MAX_NAME; i++)
        o += (size_t)snprintf(hex + o, sizeof hex - o, "70");
    want_preamble(big, hex);
}

static void test_azbridge_preamble_invalid_names(void **s)
{
    (void)s;
    static const char *const bad[] = {
        "",
        "\xc3\x28",         /* a lead byte without its continuation */
        "\xc0\xaf",         /* overlong '/' */
        "\xed\xa0\x80",     /* a UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "ab\xe2\x82",       /* truncated at the end */
        "\xff",
        "a\tb",
        "line\nbreak",
        "del\x7f",
    };
    uint8_t out[AZR_AZBRIDGE_PREAMBLE_MAX];
    size_t n = 99;
    azr_azbridge b;
    assert_int_equal(azr_azbridge_preamble(NULL, out, sizeof out, &n), AZR_E_ARG);
    assert_int_equal(n, 0);
    assert_int_equal(azr_azbridge_init(&b, NULL), AZR_E_ARG);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        if (azr_azbridge_preamble(bad[i], out, sizeof out, &n) != AZR_E_ARG)
            fail_msg("name %zu accepted", i);
        assert_int_equal(n, 0);
        assert_int_equal(azr_azbridge_init(&b, bad[i]), AZR_E_ARG);
        assert_non_null(b.why);
        assert_non_null(strstr(b.why, "PortName"));
        /* a context that failed to start stays failed */
        size_t used = 99;
        assert_int_equal(azr_azbridge_feed(&b, (const uint8_t *)"\1\0\0", 3, &used), AZR_E_ARG);
        assert_int_equal(used, 0);
        assert_int_equal(azr_azbridge_closed(&b), AZR_E_ARG);
    }
    char big[AZR_AZBRIDGE_MAX_NAME + 2];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(azr_azbridge_preamble(big, out, sizeof out, &n), AZR_E_ARG);
    assert_int_equal(azr_azbridge_init(&b, big), AZR_E_ARG);
    assert_non_null(strstr(b.why, "255"));
    assert_int_equal(azr_azbridge_init(&b, ""), AZR_E_ARG);
    assert_non_null(strstr(b.why, "empty"));
}

/*
 * Feed reply (hex) followed by tail (hex, the service's bytes). cut: 0 whole,
 * 1 byte by byte, >1 first piece cut-1 bytes. Returns the result; *left gets
 * how many input bytes were not consumed when it was decided.
 */
static azr_err feed_reply(azr_azbridge *b, const char *name, const uint8_t *in, size_t n,
                          size_t cut, size_t *left)
{
    assert_int_equal(azr_azbridge_init(b, name), AZR_OK);
    assert_int_equal(b->err, AZR_AGAIN);
    azr_err e = AZR_AGAIN;
    size_t off = 0;
    while (off < n) {
        size_t piece = n - off;
        if (cut == 1)
            piece = 1;
        else if (cut > 1 && off == 0 && cut - 1 < n)
            piece = cut - 1;
        tu_guard g;
        const uint8_t *q = tu_guard_new(&g, in + off, piece);
        size_t used = 99;
        e = azr_azbridge_feed(b, q, piece, &used);
        tu_guard_free(&g);
        assert_true(used <= piece);
        off += used;
        if (e != AZR_AGAIN)
            break;
        assert_int_equal(used, piece);
        assert_int_equal(b->verdict, AZR_AZBRIDGE_WAITING);
        assert_null(b->why);
    }
    *left = n - off;
    return e;
}

typedef struct reply_case {
    const char *reply, *tail;
    azr_err err;
    azr_azbridge_verdict verdict;
    const char *why; /* a piece of the text, or NULL for none */
} reply_case;

static void run_reply(const char *name, const reply_case *c)
{
    uint8_t in[64];
    char all[128];
    snprintf(all, sizeof all, "%s %s", c->reply, c->tail);
    uint8_t t[64];
    size_t tail = tu_hex(c->tail, t, sizeof t), n = tu_hex(all, in, sizeof in);
    for (size_t cut = 0; cut <= n + 1; cut++) {
        azr_azbridge b;
        size_t left;
        azr_err e = feed_reply(&b, name, in, n, cut, &left);
        if (e != c->err)
            fail_msg("reply %s cut %zu: got %d want %d (%s)", c->reply, cut, e, c->err,
                     b.why ? b.why : "");
        assert_int_equal(b.verdict, c->verdict);
        assert_int_equal(left, tail);
        assert_int_equal(b.reply_len, AZR_AZBRIDGE_REPLY_LEN);
        if (!c->why) {
            assert_null(b.why);
        } else if (!b.why || !strstr(b.why, c->why)) {
            fail_msg("reply %s: why '%s', want '%s'", c->reply, b.why ? b.why : "(null)", c->why);
        }
        /* sticky: nothing more is taken, the same answer comes back */
        size_t used = 99;
        assert_int_equal(azr_azbridge_feed(&b, in, n, &used), c->err);
        assert_int_equal(used, 0);
        assert_int_equal(azr_azbridge_closed(&b), c->err);
        assert_int_equal(azr_azbridge_timeout(&b), c->err);
        assert_int_equal(b.verdict, c->verdict);
    }
}

static void test_azbridge_reply_accepted(void **s)
{
    (void)s;
    /* the service's first bytes right behind the reply stay with the caller */
    const reply_case with_data = {"01 00 00", "53 53 48 2d 32 2e 30", AZR_OK, AZR_AZBRIDGE_ACCEPTED,
                                  NULL};
    run_reply("ssh", &with_data);
    const reply_case alone = {"01 00 00", "", AZR_OK, AZR_AZBRIDGE_ACCEPTED, NULL};
    run_reply("rdp", &alone);
    /* a reply that looks like another one after it */
    const reply_case twice = {"01 00 00", "01 00 00", AZR_OK, AZR_AZBRIDGE_ACCEPTED, NULL};
    run_reply("rdp", &twice);
}

static void test_azbridge_reply_refusals(void **s)
{
    (void)s;
    const reply_case cases[] = {
        {"00 00 00", "", AZR_E_REFUSED, AZR_AZBRIDGE_BAD_VERSION,
         "azbridge listener refused the port name 'ssh': protocol version mismatch"},
        {"00 00 01", "", AZR_E_REFUSED, AZR_AZBRIDGE_PORT_IS_UDP,
         "azbridge listener refused the port name 'ssh': mode mismatch (the listener forwards UDP "
         "on that port, not TCP"},
        {"00 00 ff", "", AZR_E_REFUSED, AZR_AZBRIDGE_PORT_IS_STREAM,
         "azbridge listener refused the port name 'ssh': mode mismatch (the listener forwards TCP "
         "on that port but was asked for UDP datagrams)"},
        {"00 00 02", "", AZR_E_REFUSED, AZR_AZBRIDGE_REFUSED_OTHER, "does not know (00 00 02)"},
        {"00 07 00", "", AZR_E_REFUSED, AZR_AZBRIDGE_REFUSED_OTHER, "(00 07 00)"},
        /* a refusal is followed by azbridge's close; bytes after it are not taken */
        {"00 00 01", "ff ff", AZR_E_REFUSED, AZR_AZBRIDGE_PORT_IS_UDP, "mode mismatch"},
        /* 01 00 01 is azbridge accepting a datagram (UDP) preamble: never ours */
        {"01 00 01", "", AZR_E_PROTO, AZR_AZBRIDGE_UNEXPECTED,
         "accepted the port name 'ssh' in mode 1 (01 00 01), but the preamble asked for a TCP "
         "stream"},
        /* an SSH server's banner: the listener is the service, not azbridge */
        {"53 53 48", "2d 32 2e 30 0d 0a", AZR_E_PROTO, AZR_AZBRIDGE_UNEXPECTED,
         "first bytes (53 53 48, \"SSH\") are no azbridge reply to the preamble for port 'ssh'"},
        {"02 00 00", "", AZR_E_PROTO, AZR_AZBRIDGE_UNEXPECTED, "(02 00 00, \"\\x02\\x00\\x00\")"},
        {"01 01 00", "", AZR_E_PROTO, AZR_AZBRIDGE_UNEXPECTED, "leave PortName empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_reply("ssh", &cases[i]);
}

static void test_azbridge_closed_before_reply(void **s)
{
    (void)s;
    azr_azbridge b;
    assert_int_equal(azr_azbridge_init(&b, "X"), AZR_OK);
    assert_int_equal(azr_azbridge_closed(&b), AZR_E_CLOSED);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_NO_PORT);
    assert_string_equal(b.why, "azbridge listener closed the connection without answering the "
                               "preamble: no port named 'X' on that listener (check PortName "
                               "against the listener's -T mapping)");
    /* sticky */
    size_t used = 99;
    assert_int_equal(azr_azbridge_feed(&b, (const uint8_t *)"\1\0\0", 3, &used), AZR_E_CLOSED);
    assert_int_equal(used, 0);
    assert_int_equal(azr_azbridge_timeout(&b), AZR_E_CLOSED);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_NO_PORT);

    /* a name azbridge's configuration cannot hold gets a hint */
    assert_int_equal(azr_azbridge_init(&b, "my port"), AZR_OK);
    assert_int_equal(azr_azbridge_closed(&b), AZR_E_CLOSED);
    assert_non_null(strstr(b.why, "no port named 'my port'"));
    assert_non_null(strstr(b.why, "can never match"));
    assert_int_equal(azr_azbridge_init(&b, "sql/main_1.x-y"), AZR_OK);
    assert_int_equal(azr_azbridge_closed(&b), AZR_E_CLOSED);
    assert_null(strstr(b.why, "can never match"));

    /* an empty feed changes nothing */
    assert_int_equal(azr_azbridge_init(&b, "ssh"), AZR_OK);
    assert_int_equal(azr_azbridge_feed(&b, NULL, 0, &used), AZR_AGAIN);
    assert_int_equal(used, 0);
    assert_int_equal(b.reply_len, 0);
}

static void test_azbridge_closed_mid_reply(void **s)
{
    (void)s;
    azr_azbridge b;
    size_t used;
    assert_int_equal(azr_azbridge_init(&b, "ssh"), AZR_OK);
    assert_int_equal(azr_azbridge_feed(&b, (const uint8_t *)"\1", 1, &used), AZR_AGAIN);
    assert_int_equal(azr_azbridge_closed(&b), AZR_E_CLOSED);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_CUT);
    assert_non_null(strstr(b.why, "in the middle of its reply"));
    assert_non_null(strstr(b.why, "(1 of 3 reply bytes: 01)"));
    assert_int_equal(azr_azbridge_init(&b, "ssh"), AZR_OK);
    assert_int_equal(azr_azbridge_feed(&b, (const uint8_t *)"\0\0", 2, &used), AZR_AGAIN);
    assert_int_equal(azr_azbridge_closed(&b), AZR_E_CLOSED);
    assert_non_null(strstr(b.why, "(2 of 3 reply bytes: 00 00)"));
    /* after acceptance a close is the service's business */
    assert_int_equal(azr_azbridge_init(&b, "ssh"), AZR_OK);
    assert_int_equal(azr_azbridge_feed(&b, (const uint8_t *)"\1\0\0", 3, &used), AZR_OK);
    assert_int_equal(azr_azbridge_closed(&b), AZR_OK);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_ACCEPTED);
    assert_null(b.why);
}

static void test_azbridge_timeout(void **s)
{
    (void)s;
    azr_azbridge b;
    size_t used;
    assert_int_equal(azr_azbridge_init(&b, "ssh"), AZR_OK);
    assert_int_equal(azr_azbridge_timeout(&b), AZR_E_TIMEOUT);
    assert_int_equal(b.verdict, AZR_AZBRIDGE_SILENT);
    assert_non_null(strstr(b.why, "port 'ssh' (0 of 3 reply bytes)"));
    assert_non_null(strstr(b.why, "leave PortName empty"));
    assert_int_equal(azr_azbridge_closed(&b), AZR_E_TIMEOUT);
    assert_int_equal(azr_azbridge_init(&b, "ssh"), AZR_OK);
    assert_int_equal(azr_azbridge_feed(&b, (const uint8_t *)"\0\0", 2, &used), AZR_AGAIN);
    assert_int_equal(azr_azbridge_timeout(&b), AZR_E_TIMEOUT);
    assert_non_null(strstr(b.why, "(2 of 3 reply bytes: 00 00)"));
}

/* Every text holds the longest name whole, with its ending. */
static void test_azbridge_texts_fit_longest_name(void **s)
{
    (void)s;
    char big[AZR_AZBRIDGE_MAX_NAME + 1];
    memset(big, 'p', AZR_AZBRIDGE_MAX_NAME);
    big[AZR_AZBRIDGE_MAX_NAME] = '\0';
    static const char *const replies[] = {"\0\0\0", "\0\0\1", "\0\0\xff",
                                          "\0\0\2", "\1\0\1", "SSH"};
    azr_azbridge b;
    size_t used;
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        assert_int_equal(azr_azbridge_init(&b, big), AZR_OK);
        assert_int_not_equal(azr_azbridge_feed(&b, (const uint8_t *)replies[i], 3, &used),
                             AZR_AGAIN);
        assert_non_null(strstr(b.why, big));
        assert_true(strlen(b.why) < sizeof b.text - 1);
        size_t l = strlen(b.why);
        assert_true(b.why[l - 1] == ')' || b.why[l - 1] == 'r');
    }
    assert_int_equal(azr_azbridge_init(&b, big), AZR_OK);
    assert_int_equal(azr_azbridge_closed(&b), AZR_E_CLOSED);
    assert_true(strlen(b.why) < sizeof b.text - 1);
    assert_non_null(strstr(b.why, "-T mapping)"));
    char odd[AZR_AZBRIDGE_MAX_NAME + 1];
    memset(odd, ' ', AZR_AZBRIDGE_MAX_NAME);
    odd[AZR_AZBRIDGE_MAX_NAME] = '\0';
    assert_int_equal(azr_azbridge_init(&b, odd), AZR_OK);
    assert_int_equal(azr_azbridge_closed(&b), AZR_E_CLOSED);
    assert_true(strlen(b.why) < sizeof b.text - 1);
    assert_non_null(strstr(b.why, "can never match)"));
    assert_int_equal(azr_azbridge_init(&b, big), AZR_OK);
    assert_int_equal(azr_azbridge_feed(&b, (const uint8_t *)"\0\0", 2, &used), AZR_AGAIN);
    assert_int_equal(azr_azbridge_timeout(&b), AZR_E_TIMEOUT);
    assert_true(strlen(b.why) < sizeof b.text - 1);
    assert_non_null(strstr(b.why, "for such a listener"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_azbridge_preamble_vectors),
        cmocka_unit_test(test_azbridge_preamble_invalid_names),
        cmocka_unit_test(test_azbridge_reply_accepted),
        cmocka_unit_test(test_azbridge_reply_refusals),
        cmocka_unit_test(test_azbridge_closed_before_reply),
        cmocka_unit_test(test_azbridge_closed_mid_reply),
        cmocka_unit_test(test_azbridge_timeout),
        cmocka_unit_test(test_azbridge_texts_fit_longest_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
