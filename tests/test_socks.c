/*
 * SOCKS4, SOCKS4A and SOCKS5 client handshakes. Expected bytes are written
 * out from the message layouts of RFC 1928 §3-§6, RFC 1929 §2 and the SOCKS4
 * and SOCKS4A protocol descriptions (openssh.com/txt/socks4.protocol,
 * socks4a.protocol). Replies are fed whole, byte by byte and split at every
 * offset, each piece against a guard page, with tunnel bytes after the final
 * reply that must stay unconsumed.
 */
#include "testutil.h"
#include "socks.h"

static void want_out(azr_socks *s, const char *hex)
{
    uint8_t w[600];
    size_t wn = tu_hex(hex, w, sizeof w);
    const uint8_t *p;
    size_t n = azr_socks_pending(s, &p);
    if (n != wn || memcmp(p, w, n) != 0) {
        char got[1300];
        tu_tohex(p, n, got);
        fail_msg("sent %s, want %s", got, hex);
    }
    azr_socks_sent(s, n);
    assert_int_equal(azr_socks_pending(s, &p), 0);
}

/*
 * Run a scripted exchange: steps alternate "we send" / "proxy replies"; the
 * last reply may carry tunnel bytes (tail) that must not be consumed.
 * cut: 0 whole, 1 byte by byte, >1 split each reply at cut-1.
 */
typedef struct step {
    const char *send, *reply;
} step;

static azr_err run(azr_socks_ver v, const char *host, uint16_t port, const char *user,
                   const char *pass, const step *st, size_t nst, size_t tail, size_t cut,
                   azr_socks *s)
{
    assert_int_equal(azr_socks_init(s, v, host, port, user, pass), AZR_OK);
    azr_err e = AZR_AGAIN;
    for (size_t k = 0; k < nst; k++) {
        want_out(s, st[k].send);
        uint8_t r[600];
        size_t rn = tu_hex(st[k].reply, r, sizeof r), off = 0;
        bool last = k + 1 == nst;
        while (off < rn) {
            size_t piece = rn - off;
            if (cut == 1)
                piece = 1;
            else if (cut > 1 && off == 0 && cut - 1 < rn)
                piece = cut - 1;
            tu_guard g;
            const uint8_t *q = tu_guard_new(&g, r + off, piece);
            size_t used = 99;
            e = azr_socks_feed(s, q, piece, &used);
            tu_guard_free(&g);
            assert_true(used <= piece);
            off += used;
            if (e != AZR_AGAIN)
                break;
            assert_int_equal(used, piece);
        }
        if (e != AZR_AGAIN) {
            if (e == AZR_OK)
                assert_int_equal(rn - off, last ? tail : 0);
            return e;
        }
    }
    return e;
}

static void run_all(azr_socks_ver v, const char *host, uint16_t port, const char *user,
                    const char *pass, const step *st, size_t nst, size_t tail, azr_err want,
                    const char *why)
{
    size_t maxlen = 0;
    for (size_t k = 0; k < nst; k++)
        if (strlen(st[k].reply) / 2 > maxlen)
            maxlen = strlen(st[k].reply) / 2;
    for (size_t cut = 0; cut <= maxlen + 1; cut++) {
        azr_socks s;
        azr_err e = run(v, host, port, user, pass, st, nst, tail, cut, &s);
        if (e != want)
            fail_msg("cut %zu: got %d want %d (%s)", cut, e, want, s.why ? s.why : "");
        if (why && (!s.why || !strstr(s.why, why)))
            fail_msg("why '%s', want '%s'", s.why ? s.why : "(null)", why);
    }
}

static void test_socks_socks4_connect(void **s)
{
    (void)s;
    /* VN 4, CD 1, port 443, 10.1.2.3, user "gw", NUL; reply VN 0, CD 90; then TLS bytes */
    const step st[] = {{"04 01 01bb 0a010203 6777 00", "00 5a 0000 00000000 160303"}};
    run_all(AZR_SOCKS4, "10.1.2.3", 443, "gw", NULL, st, 1, 3, AZR_OK, NULL);
}

static void test_socks_socks4_refusals(void **s)
{
    (void)s;
    const step rejected[] = {{"04 01 01bb 7f000001 00", "00 5b 0000 00000000"}};
    run_all(AZR_SOCKS4, "127.0.0.1", 443, NULL, NULL, rejected, 1, 0, AZR_E_REFUSED,
            "rejected or failed");
    const step identd[] = {{"04 01 01bb 7f000001 00", "00 5c 0000 00000000"}};
    run_all(AZR_SOCKS4, "127.0.0.1", 443, NULL, NULL, identd, 1, 0, AZR_E_REFUSED, "identd");
    const step mismatch[] = {{"04 01 01bb 7f000001 00", "00 5d 0000 00000000"}};
    run_all(AZR_SOCKS4, "127.0.0.1", 443, NULL, NULL, mismatch, 1, 0, AZR_E_REFUSED,
            "different user");
    const step notsocks[] = {{"04 01 01bb 7f000001 00", "48 54 5450 2f312e31"}}; /* "HTTP/1.1" */
    run_all(AZR_SOCKS4, "127.0.0.1", 443, NULL, NULL, notsocks, 1, 0, AZR_E_PROTO, "not a SOCKS4");
    azr_socks x;
    assert_int_equal(azr_socks_init(&x, AZR_SOCKS4, "ns.example", 443, NULL, NULL), AZR_E_ARG);
    assert_non_null(strstr(x.why, "SOCKS4A"));
}

static void test_socks_socks4a_hostname(void **s)
{
    (void)s;
    /* 0.0.0.1 as the address, empty user id, then the name and NUL */
    const step st[] = {{"04 01 01bb 00000001 00 6e732e6578616d706c65 00", "00 5a 0000 00000000"}};
    run_all(AZR_SOCKS4A, "ns.example", 443, NULL, NULL, st, 1, 0, AZR_OK, NULL);
    /* an IPv4 literal goes as an address, as in SOCKS4 */
    const step lit[] = {{"04 01 0050 01020304 00", "00 5a 0000 00000000"}};
    run_all(AZR_SOCKS4A, "1.2.3.4", 80, NULL, NULL, lit, 1, 0, AZR_OK, NULL);
}

static void test_socks_socks5_noauth_domain(void **s)
{
    (void)s;
    const step st[] = {
        {"05 01 00", "05 00"},
        /* CONNECT, ATYP 3, len 30, myrelay.servicebus.windows.net, port 443 */
        {"05 01 00 03 1e 6d7972656c61792e736572766963656275732e77696e646f77732e6e6574 01bb",
         /* reply with an IPv4 bound address, then 2 tunnel bytes */
         "05 00 00 01 c0a80001 1f90 1603"},
    };
    run_all(AZR_SOCKS5, "myrelay.servicebus.windows.net", 443, NULL, NULL, st, 2, 2, AZR_OK, NULL);
}

static void test_socks_socks5_address_types(void **s)
{
    (void)s;
    const step v4[] = {
        {"05 01 00", "05 00"},
        {"05 01 00 01 7f000001 2382", "05 00 00 04 00000000000000000000000000000001 0000"}};
    run_all(AZR_SOCKS5, "127.0.0.1", 9090, NULL, NULL, v4, 2, 0, AZR_OK, NULL);
    const step v6[] = {{"05 01 00", "05 00"},
                       {"05 01 00 04 00000000000000000000000000000001 01bb",
                        "05 00 00 03 07 6578616d706c65 0050"}}; /* bound: domain "example" */
    run_all(AZR_SOCKS5, "::1", 443, NULL, NULL, v6, 2, 0, AZR_OK, NULL);
}

static void test_socks_socks5_userpass(void **s)
{
    (void)s;
    /* RFC 1929: VER 1, ULEN, UNAME, PLEN, PASSWD; status 0 = success */
    const step st[] = {{"05 02 00 02", "05 02"},
                       {"01 02 6777 03 707721", "01 00"},
                       {"05 01 00 03 02 6e73 01bb", "05 00 00 01 00000000 0000"}};
    run_all(AZR_SOCKS5, "ns", 443, "gw", "pw!", st, 3, 0, AZR_OK, NULL);
    /* some servers answer the sub-negotiation with version 5: accepted */
    const step v5[] = {{"05 02 00 02", "05 02"},
                       {"01 02 6777 03 707721", "05 00"},
                       {"05 01 00 03 02 6e73 01bb", "05 00 00 01 00000000 0000"}};
    run_all(AZR_SOCKS5, "ns", 443, "gw", "pw!", v5, 3, 0, AZR_OK, NULL);
    const step bad[] = {{"05 02 00 02", "05 02"}, {"01 02 6777 03 707721", "01 01"}};
    run_all(AZR_SOCKS5, "ns", 443, "gw", "pw!", bad, 2, 0, AZR_E_AUTH, "refused the user");
    /* the proxy may also pick no-auth even when we offer both */
    const step noauth[] = {{"05 02 00 02", "05 00"},
                           {"05 01 00 03 02 6e73 01bb", "05 00 00 01 00000000 0000"}};
    run_all(AZR_SOCKS5, "ns", 443, "gw", "pw!", noauth, 2, 0, AZR_OK, NULL);
}

static void test_socks_socks5_refusals(void **s)
{
    (void)s;
    const step nomethod[] = {{"05 01 00", "05 ff"}};
    run_all(AZR_SOCKS5, "ns", 443, NULL, NULL, nomethod, 1, 0, AZR_E_AUTH, "FirewallUser");
    const step gssapi[] = {{"05 01 00", "05 01"}};
    run_all(AZR_SOCKS5, "ns", 443, NULL, NULL, gssapi, 1, 0, AZR_E_PROTO, "did not offer");
    const step notsocks[] = {{"05 01 00", "48 54"}};
    run_all(AZR_SOCKS5, "ns", 443, NULL, NULL, notsocks, 1, 0, AZR_E_PROTO, "not a SOCKS5");
    static const char *text[] = {NULL,
                                 "general SOCKS server failure",
                                 "not allowed by ruleset",
                                 "network unreachable",
                                 "host unreachable",
                                 "connection refused",
                                 "TTL expired",
                                 "command not supported",
                                 "address type not supported",
                                 "unassigned"};
    for (int rep = 1; rep <= 9; rep++) {
        char reply[64];
        snprintf(reply, sizeof reply, "05 %02x 00 01 00000000 0000", rep);
        const step st[] = {{"05 01 00", "05 00"}, {"05 01 00 03 02 6e73 01bb", reply}};
        run_all(AZR_SOCKS5, "ns", 443, NULL, NULL, st, 2, 0, AZR_E_REFUSED, text[rep]);
    }
    const step atyp[] = {{"05 01 00", "05 00"}, {"05 01 00 03 02 6e73 01bb", "05 00 00 09 00"}};
    run_all(AZR_SOCKS5, "ns", 443, NULL, NULL, atyp, 2, 0, AZR_E_PROTO, "address type");
}

static void test_socks_bounds_and_args(void **s)
{
    (void)s;
    azr_socks x;
    char name[300];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(azr_socks_init(&x, AZR_SOCKS5, name, 443, NULL, NULL), AZR_E_ARG);
    assert_int_equal(azr_socks_init(&x, AZR_SOCKS5, "", 443, NULL, NULL), AZR_E_ARG);
    assert_int_equal(azr_socks_init(&x, AZR_SOCKS5, "ns", 0, NULL, NULL), AZR_E_ARG);
    assert_int_equal(azr_socks_init(&x, AZR_SOCKS5, "ns", 443, name, "p"), AZR_E_ARG);
    name[255] = '\0'; /* 255 is the longest name RFC 1928 can carry */
    assert_int_equal(azr_socks_init(&x, AZR_SOCKS5, name, 443, name, name), AZR_OK);
    /* errors are sticky */
    const uint8_t bad[2] = {5, 0xff};
    size_t used;
    assert_int_equal(azr_socks_feed(&x, bad, 2, &used), AZR_E_AUTH);
    assert_int_equal(azr_socks_feed(&x, bad, 2, &used), AZR_E_AUTH);
    assert_int_equal(used, 0);
    azr_socks_wipe(&x);
    assert_int_equal(x.pass[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_socks_socks4_connect),
        cmocka_unit_test(test_socks_socks4_refusals),
        cmocka_unit_test(test_socks_socks4a_hostname),
        cmocka_unit_test(test_socks_socks5_noauth_domain),
        cmocka_unit_test(test_socks_socks5_address_types),
        cmocka_unit_test(test_socks_socks5_userpass),
        cmocka_unit_test(test_socks_socks5_refusals),
        cmocka_unit_test(test_socks_bounds_and_args),
    };
    return cmocka_run_group_tests_name("socks", tests, NULL, NULL);
}
