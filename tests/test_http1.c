/*
 * HTTP/1.1 upgrade and CONNECT. Vectors: RFC 6455 §1.3 key/accept pair; a
 * second pair and the Basic credentials from openssl:
 *   printf '%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11' HBSGiu9kp91iMyc2Zq3L3g== |
 *     openssl dgst -sha1 -binary | base64            -> Mkod0KT69YlckmjpnHC+vTYQSVk=
 *   printf 'gw-user:s3cr:et' | base64                -> Z3ctdXNlcjpzM2NyOmV0
 *   python3 -c 'import sys;sys.stdout.buffer.write(bytes(range(16)))' | base64
 *                                                    -> AAECAwQFBgcICQoLDA0ODw==
 * Relay refusals follow relay-protocol.md §3.3. Every response runs whole,
 * byte by byte and split at every offset, each piece against a guard page.
 */
#include "testutil.h"
#include "http1.h"

#define KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void test_http1_ws_accept_vectors(void **s)
{
    (void)s;
    char out[29];
    azr_http1_ws_accept(KEY, out);
    assert_string_equal(out, ACCEPT);
    azr_http1_ws_accept("HBSGiu9kp91iMyc2Zq3L3g==", out);
    assert_string_equal(out, "Mkod0KT69YlckmjpnHC+vTYQSVk=");
    uint8_t rnd[16];
    for (int i = 0; i < 16; i++)
        rnd[i] = (uint8_t)i;
    char key[25];
    azr_http1_ws_key(rnd, key);
    assert_string_equal(key, "AAECAwQFBgcICQoLDA0ODw==");
}

static void test_http1_upgrade_request(void **s)
{
    (void)s;
    azr_upgrade_req r = {
        .host = "myrelay.servicebus.windows.net",
        .port = 443,
        .tls = true,
        .target = "/$hc/hc1?sb-hc-action=connect&sb-hc-id=6f1c0c1e",
        .key = KEY,
        .user_agent = "azrelay/0.1.0",
        .token_header = "ServiceBusAuthorization",
        .token = "SharedAccessSignature sr=a&sig=b&se=1&skn=c",
        .other_headers = "X-Site: gw-7\r\n",
    };
    char out[1024];
    size_t n;
    assert_int_equal(azr_http1_upgrade_write(&r, out, sizeof out, &n), AZR_OK);
    assert_string_equal(out,
                        "GET /$hc/hc1?sb-hc-action=connect&sb-hc-id=6f1c0c1e HTTP/1.1\r\n"
                        "Host: myrelay.servicebus.windows.net\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n"
                        "User-Agent: azrelay/0.1.0\r\n"
                        "ServiceBusAuthorization: SharedAccessSignature sr=a&sig=b&se=1&skn=c\r\n"
                        "X-Site: gw-7\r\n"
                        "\r\n");
    assert_int_equal(n, strlen(out));
    /* non-default ports appear in Host; ws:// defaults to 80; IPv6 gets brackets */
    azr_upgrade_req w = {
        .host = "127.0.0.1", .port = 9090, .tls = false, .target = "/x", .key = KEY};
    assert_int_equal(azr_http1_upgrade_write(&w, out, sizeof out, &n), AZR_OK);
    assert_non_null(strstr(out, "\r\nHost: 127.0.0.1:9090\r\n"));
    assert_null(strstr(out, "User-Agent"));
    w.port = 80;
    assert_int_equal(azr_http1_upgrade_write(&w, out, sizeof out, &n), AZR_OK);
    assert_non_null(strstr(out, "\r\nHost: 127.0.0.1\r\n"));
    w.host = "::1";
    w.port = 8080;
    assert_int_equal(azr_http1_upgrade_write(&w, out, sizeof out, &n), AZR_OK);
    assert_non_null(strstr(out, "\r\nHost: [::1]:8080\r\n"));
}

static void test_http1_upgrade_request_refuses_injection(void **s)
{
    (void)s;
    azr_upgrade_req ok = {.host = "ns", .port = 443, .tls = true, .target = "/a", .key = KEY};
    azr_upgrade_req r;
    char out[1024];
    size_t n;
    r = ok;
    r.other_headers = "X-A: 1\r\nX-B: 2"; /* no final CRLF */
    assert_int_equal(azr_http1_upgrade_write(&r, out, sizeof out, &n), AZR_E_ARG);
    r = ok;
    r.other_headers = "X-A: 1\nX-B: 2\r\n"; /* bare LF */
    assert_int_equal(azr_http1_upgrade_write(&r, out, sizeof out, &n), AZR_E_ARG);
    r = ok;
    r.other_headers = "Bad Name: 1\r\n";
    assert_int_equal(azr_http1_upgrade_write(&r, out, sizeof out, &n), AZR_E_ARG);
    r = ok;
    r.user_agent = "ua\r\nEvil: 1";
    assert_int_equal(azr_http1_upgrade_write(&r, out, sizeof out, &n), AZR_E_ARG);
    r = ok;
    r.token = "tok\nEvil: 1";
    r.token_header = "ServiceBusAuthorization";
    assert_int_equal(azr_http1_upgrade_write(&r, out, sizeof out, &n), AZR_E_ARG);
    r = ok;
    r.target = "/a b";
    assert_int_equal(azr_http1_upgrade_write(&r, out, sizeof out, &n), AZR_E_ARG);
    r = ok;
    r.target = "a";
    assert_int_equal(azr_http1_upgrade_write(&r, out, sizeof out, &n), AZR_E_ARG);
    r = ok;
    r.host = "ns\r\nX: y";
    assert_int_equal(azr_http1_upgrade_write(&r, out, sizeof out, &n), AZR_E_ARG);
    /* too small a buffer: an error, not a truncated request */
    assert_int_equal(azr_http1_upgrade_write(&ok, out, 40, &n), AZR_E_LIMIT);
    assert_int_equal(n, 0);
}

static void test_http1_connect_request(void **s)
{
    (void)s;
    char out[512];
    size_t n;
    assert_int_equal(azr_http1_connect_write("myrelay.servicebus.windows.net", 443, "gw-user",
                                             "s3cr:et", NULL, NULL, out, sizeof out, &n),
                     AZR_OK);
    assert_string_equal(out, "CONNECT myrelay.servicebus.windows.net:443 HTTP/1.1\r\n"
                             "Host: myrelay.servicebus.windows.net:443\r\n"
                             "Proxy-Authorization: Basic Z3ctdXNlcjpzM2NyOmV0\r\n"
                             "Proxy-Connection: Keep-Alive\r\n\r\n");
    assert_int_equal(
        azr_http1_connect_write("::1", 9443, NULL, NULL, "azrelay/1", "", out, sizeof out, &n),
        AZR_OK);
    assert_string_equal(out, "CONNECT [::1]:9443 HTTP/1.1\r\nHost: [::1]:9443\r\n"
                             "User-Agent: azrelay/1\r\nProxy-Connection: Keep-Alive\r\n\r\n");
    assert_int_equal(
        azr_http1_connect_write("ns", 443, "a:b", "p", NULL, NULL, out, sizeof out, &n), AZR_E_ARG);
    assert_int_equal(
        azr_http1_connect_write("ns\r\n", 443, NULL, NULL, NULL, NULL, out, sizeof out, &n),
        AZR_E_ARG);
    assert_int_equal(azr_http1_connect_write("ns", 0, NULL, NULL, NULL, NULL, out, sizeof out, &n),
                     AZR_E_ARG);
}

/* FirewallData and ProxyAuthorization travel as extra header lines, after
 * ours and before the blank line (RFC 9112 §3: a request head is lines
 * ending in CRLF, then an empty line). */
static void test_http1_connect_request_extra_headers(void **s)
{
    (void)s;
    char out[512];
    size_t n;
    assert_int_equal(azr_http1_connect_write("ns.example", 443, NULL, NULL, NULL,
                                             "Proxy-Authorization: Bearer t0k\r\nX-Site: gw-7\r\n",
                                             out, sizeof out, &n),
                     AZR_OK);
    assert_string_equal(out, "CONNECT ns.example:443 HTTP/1.1\r\nHost: ns.example:443\r\n"
                             "Proxy-Connection: Keep-Alive\r\n"
                             "Proxy-Authorization: Bearer t0k\r\nX-Site: gw-7\r\n\r\n");
    assert_int_equal(n, strlen(out));
    /* lines that would end the head early or smuggle a header are refused */
    static const char *const bad[] = {"X-A: 1\n",           "X-A: 1\r\n\r\n",  "X-A: 1",
                                      "X-A: 1\rX-B: 2\r\n", "Bad Name: 1\r\n", ": 1\r\n",
                                      "X-A 1\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
            azr_http1_connect_write("ns", 443, NULL, NULL, NULL, bad[i], out, sizeof out, &n),
            AZR_E_ARG);
        assert_int_equal(n, 0);
    }
    /* too small a buffer for the extra lines: an error, not a cut request */
    assert_int_equal(
        azr_http1_connect_write("ns", 443, NULL, NULL, NULL, "X-A: 1\r\n", out, 60, &n),
        AZR_E_LIMIT);
    assert_int_equal(n, 0);
}

/* ------------------------------------------------------------- response */

typedef struct parsed {
    azr_err e;
    size_t used; /* bytes of input taken by the head */
    azr_http1_resp r;
} parsed;

/* Parse in pieces cut at the given offsets; each piece behind a guard page. */
static void parse_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts, parsed *p)
{
    azr_http1_resp_init(&p->r, 0);
    p->used = 0;
    p->e = AZR_AGAIN;
    size_t start = 0;
    for (size_t c = 0; c <= ncuts && p->e == AZR_AGAIN; c++) {
        size_t stop = c < ncuts ? cuts[c] : len;
        tu_guard g;
        const uint8_t *q = tu_guard_new(&g, in + start, stop - start);
        size_t used = 99;
        p->e = azr_http1_resp_feed(&p->r, q, stop - start, &used);
        assert_true(used <= stop - start);
        if (p->e == AZR_AGAIN)
            assert_int_equal(used, stop - start);
        p->used += used;
        if (p->e == AZR_OK) {
            /* headers point into the parser, not into the freed piece: copy check */
            tu_guard_free(&g);
            break;
        }
        tu_guard_free(&g);
        start = stop;
    }
}

/* Whole, byte by byte, every split: same verdict and same consumed count. */
static void parse_all(const char *in, parsed *whole)
{
    static parsed other;
    static size_t cuts[16384];
    size_t len = strlen(in);
    parse_cuts(in, len, NULL, 0, whole);
    for (size_t i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    parse_cuts(in, len, cuts, len ? len - 1 : 0, &other);
    assert_int_equal(other.e, whole->e);
    assert_int_equal(other.used, whole->used);
    assert_int_equal(other.r.status, whole->r.status);
    for (size_t cut = 1; cut < len; cut++) {
        parse_cuts(in, len, &cut, 1, &other);
        assert_int_equal(other.e, whole->e);
        assert_int_equal(other.used, whole->used);
        assert_int_equal(other.r.nheaders, whole->r.nheaders);
    }
}

static void test_http1_101_accepted_and_leftover_kept(void **s)
{
    (void)s;
    static parsed p;
    /* a server frame follows the head in the same read: it must stay with the caller */
    const char *resp = "HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: " ACCEPT "\r\n"
                       "\r\n"
                       "\x82\x02hi";
    parse_all(resp, &p);
    assert_int_equal(p.e, AZR_OK);
    assert_int_equal(p.used, strlen(resp) - 4);
    assert_int_equal(p.r.status, 101);
    assert_int_equal(p.r.minor, 1);
    const char *why;
    assert_int_equal(azr_http1_check_upgrade(&p.r, KEY, &why), AZR_OK);
}

static void test_http1_101_header_variants(void **s)
{
    (void)s;
    static parsed p;
    const char *why;
    /* case-insensitive names and tokens, Connection with a list, bare LF line ends,
     * a folded Connection header */
    parse_all("HTTP/1.1 101 OK\n"
              "upgrade: WebSocket\n"
              "CONNECTION: keep-alive,\n"
              "   Upgrade\n"
              "sec-websocket-accept:" ACCEPT "   \n"
              "\n",
              &p);
    assert_int_equal(p.e, AZR_OK);
    const azr_http1_hdr *h = azr_http1_resp_header(&p.r, "Connection");
    assert_non_null(h);
    assert_int_equal(h->value_len, strlen("keep-alive,    Upgrade"));
    assert_memory_equal(h->value, "keep-alive,    Upgrade", h->value_len);
    assert_int_equal(azr_http1_check_upgrade(&p.r, KEY, &why), AZR_OK);
    /* Connection split over two header lines */
    parse_all("HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
              "Connection: upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
              &p);
    assert_int_equal(azr_http1_check_upgrade(&p.r, KEY, &why), AZR_OK);
}

static void test_http1_bad_101(void **s)
{
    (void)s;
    static const struct {
        const char *resp, *why;
    } v[] = {
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: Mkod0KT69YlckmjpnHC+vTYQSVk=\r\n\r\n",
         "does not match"},
        {"HTTP/1.1 101 x\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
         "Upgrade: websocket"},
        {"HTTP/1.1 101 x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
         "not 'websocket'"},
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
         "Connection: Upgrade"},
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
         "no Sec-WebSocket-Accept"},
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
         "more than one"},
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
         "extension"},
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
         "subprotocol"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        static parsed p;
        const char *why = NULL;
        parse_all(v[i].resp, &p);
        assert_int_equal(p.e, AZR_OK);
        assert_int_equal(azr_http1_check_upgrade(&p.r, KEY, &why), AZR_E_PROTO);
        if (!why || !strstr(why, v[i].why))
            fail_msg("case %zu: why '%s', want '%s'", i, why ? why : "(null)", v[i].why);
    }
}

static void test_http1_relay_refusals(void **s)
{
    (void)s;
    /* relay-protocol.md §3.3: the reason phrase carries the diagnostic */
    static const struct {
        const char *line;
        int status;
        const char *reason;
    } v[] = {
        {"HTTP/1.1 400 Rejected by user code", 400, "Rejected by user code"},
        {"HTTP/1.1 401 The token has an invalid signature. TrackingId:4d3c_G3, SystemTracker:"
         "sb://myrelay.servicebus.windows.net/hc1, Timestamp:2026-11-25T10:00:00",
         401,
         "The token has an invalid signature. TrackingId:4d3c_G3, SystemTracker:"
         "sb://myrelay.servicebus.windows.net/hc1, Timestamp:2026-11-25T10:00:00"},
        {"HTTP/1.1 403 Unauthorized access. 'Send' claim(s) are required to perform this "
         "operation.",
         403, "Unauthorized access. 'Send' claim(s) are required to perform this operation."},
        {"HTTP/1.1 404 There are no listeners connected for the endpoint. TrackingId:a_G13", 404,
         "There are no listeners connected for the endpoint. TrackingId:a_G13"},
        {"HTTP/1.1 404 Endpoint does not exist.", 404, "Endpoint does not exist."},
        {"HTTP/1.1 410 Gone", 410, "Gone"},
        {"HTTP/1.1 502 The Listener's custom AcceptHandler threw an exception.", 502,
         "The Listener's custom AcceptHandler threw an exception."},
        {"HTTP/1.1 503 ", 503, ""},
        {"HTTP/1.0 504", 504, ""},
        {"HTTP/1.1 409 rejected: busy \xc3\xa9t\xc3\xa9", 409, "rejected: busy \xc3\xa9t\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        static char resp[1024];
        static parsed p;
        snprintf(resp, sizeof resp,
                 "%s\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{\"error\":\"nope\"}\n",
                 v[i].line);
        parse_all(resp, &p);
        assert_int_equal(p.e, AZR_OK);
        assert_int_equal(p.r.status, v[i].status);
        assert_int_equal(p.r.reason_len, strlen(v[i].reason));
        assert_memory_equal(p.r.reason, v[i].reason, p.r.reason_len);
        const char *why;
        assert_int_equal(azr_http1_check_upgrade(&p.r, KEY, &why), AZR_E_REFUSED);
        /* the body slice for the error message */
        size_t used;
        const char *body = resp + p.used;
        assert_int_equal(azr_http1_resp_body(&p.r, (const uint8_t *)body, strlen(body), &used),
                         AZR_OK);
        assert_int_equal(used, 17);
        assert_int_equal(p.r.body_len, 17);
        assert_memory_equal(p.r.body, "{\"error\":\"nope\"}\n", 17);
    }
}

static void test_http1_body_bounds(void **s)
{
    (void)s;
    static parsed p;
    static uint8_t big[5000];
    size_t used;
    memset(big, 'b', sizeof big);
    /* a 5000-byte body: only AZR_HTTP_MAX_BODY bytes are kept */
    parse_all("HTTP/1.1 500 oops\r\nContent-Length: 5000\r\n\r\n", &p);
    assert_int_equal(azr_http1_resp_body(&p.r, big, 100, &used), AZR_AGAIN);
    assert_int_equal(azr_http1_resp_body(&p.r, big, sizeof big, &used), AZR_OK);
    assert_int_equal(p.r.body_len, AZR_HTTP_MAX_BODY);
    /* no length: read until the slice is full (or the connection ends) */
    parse_all("HTTP/1.1 500 oops\r\n\r\n", &p);
    assert_int_equal(azr_http1_resp_body(&p.r, big, 10, &used), AZR_AGAIN);
    assert_int_equal(used, 10);
    /* Content-Length 3 and more bytes: only 3 are taken */
    parse_all("HTTP/1.1 500 oops\r\nContent-Length: 3\r\n\r\n", &p);
    assert_int_equal(azr_http1_resp_body(&p.r, big, 10, &used), AZR_OK);
    assert_int_equal(used, 3);
    /* 204 has no body */
    parse_all("HTTP/1.1 204 none\r\n\r\n", &p);
    assert_int_equal(azr_http1_resp_body(&p.r, big, 0, &used), AZR_OK);
}

static void test_http1_malformed_heads(void **s)
{
    (void)s;
    static const struct {
        const char *resp;
        azr_err e;
    } v[] = {
        {"HTTP/2 200 OK\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 20 OK\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 2000 OK\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 099 x\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 abc OK\r\n\r\n", AZR_E_PROTO},
        {"SSH-2.0-OpenSSH_9.2\r\n\r\n", AZR_E_PROTO},
        {"\r\n", AZR_E_PROTO},
        {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 200 OK\r\nName : space before colon\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 200 OK\r\n folded first\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 200 O\x01K\r\n\r\n", AZR_E_PROTO},
        {"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", AZR_E_PROTO},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        static parsed p;
        parse_all(v[i].resp, &p);
        if (p.e != v[i].e)
            fail_msg("case %zu: got %d want %d", i, p.e, v[i].e);
        assert_non_null(p.r.why);
    }
}

static void test_http1_limits(void **s)
{
    (void)s;
    static char resp[AZR_HTTP_MAX_HEAD + 200];
    static parsed p;
    /* 33 headers */
    size_t o = (size_t)snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 33; i++)
        o += (size_t)snprintf(resp + o, sizeof resp - o, "X-%d: v\r\n", i);
    snprintf(resp + o, sizeof resp - o, "\r\n");
    parse_all(resp, &p);
    assert_int_equal(p.e, AZR_E_LIMIT);
    /* exactly 32 are fine */
    o = (size_t)snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 32; i++)
        o += (size_t)snprintf(resp + o, sizeof resp - o, "X-%d: v\r\n", i);
    snprintf(resp + o, sizeof resp - o, "\r\n");
    parse_all(resp, &p);
    assert_int_equal(p.e, AZR_OK);
    assert_int_equal(p.r.nheaders, 32);
    /* a head of exactly 8192 bytes passes; one more byte is an error, not a truncation */
    o = (size_t)snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nX: ");
    memset(resp + o, 'v', AZR_HTTP_MAX_HEAD - o - 4);
    memcpy(resp + AZR_HTTP_MAX_HEAD - 4, "\r\n\r\n", 5);
    parse_cuts(resp, strlen(resp), NULL, 0, &p);
    assert_int_equal(p.e, AZR_OK);
    assert_int_equal(p.used, AZR_HTTP_MAX_HEAD);
    memmove(resp + o + 1, resp + o, strlen(resp + o) + 1);
    parse_cuts(resp, strlen(resp), NULL, 0, &p);
    assert_int_equal(p.e, AZR_E_LIMIT);
    assert_non_null(strstr(p.r.why, "larger"));
    /* a smaller configured bound */
    azr_http1_resp r;
    size_t used;
    azr_http1_resp_init(&r, 16);
    assert_int_equal(azr_http1_resp_feed(&r, (const uint8_t *)"HTTP/1.1 200 OK\r\n\r\n", 19, &used),
                     AZR_E_LIMIT);
    /* sticky */
    assert_int_equal(azr_http1_resp_feed(&r, (const uint8_t *)"x", 1, &used), AZR_E_LIMIT);
    assert_int_equal(used, 0);
}

static void test_http1_connect_responses(void **s)
{
    (void)s;
    static parsed p;
    parse_all("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03", &p);
    assert_int_equal(azr_http1_check_connect(&p.r), AZR_OK);
    assert_int_equal(p.used, strlen("HTTP/1.1 200 Connection established\r\n\r\n"));
    parse_all("HTTP/1.0 200 OK\r\nProxy-agent: old-squid\r\n\r\n", &p); /* §10: accept 1.0 */
    assert_int_equal(azr_http1_check_connect(&p.r), AZR_OK);
    parse_all("HTTP/1.1 407 Proxy Authentication Required\r\n"
              "Proxy-Authenticate: Basic realm=\"gw\"\r\nContent-Length: 0\r\n\r\n",
              &p);
    assert_int_equal(azr_http1_check_connect(&p.r), AZR_E_AUTH);
    parse_all("HTTP/1.1 401 Unauthorized\r\n\r\n", &p); /* tinyproxy 1.11's answer */
    assert_int_equal(azr_http1_check_connect(&p.r), AZR_E_AUTH);
    parse_all("HTTP/1.1 403 Filtered\r\n\r\n", &p);
    assert_int_equal(azr_http1_check_connect(&p.r), AZR_E_REFUSED);
}

/* Every Proxy-Authenticate of a 407 in order (squid 5.7 sends one header
 * per scheme), and whether the proxy keeps the connection for the next
 * CONNECT (RFC 9112 §9.3). The head is squid 5.7's, captured. */
static void test_http1_407_challenges_and_persistence(void **s)
{
    (void)s;
    static parsed p;
    parse_all("HTTP/1.1 407 Proxy Authentication Required\r\n"
              "Server: squid/5.7\r\n"
              "Content-Type: text/html;charset=utf-8\r\n"
              "Content-Length: 3033\r\n"
              "X-Squid-Error: ERR_CACHE_ACCESS_DENIED 0\r\n"
              "Proxy-Authenticate: NTLM\r\n"
              "Proxy-Authenticate: Digest realm=\"azrelay-digest\", "
              "nonce=\"1e683e0be9788ce057d9dd96c921edfc\", qop=\"auth\", stale=false\r\n"
              "proxy-authenticate: Basic realm=\"azrelay-basic\"\r\n"
              "Via: 1.1 vm (squid/5.7)\r\n"
              "Connection: keep-alive\r\n\r\n",
              &p);
    assert_int_equal(p.e, AZR_OK);
    static const char *const want[] = {"NTLM", "Digest realm=", "Basic realm=\"azrelay-basic\""};
    const azr_http1_hdr *h = NULL;
    for (size_t i = 0; i < 3; i++) {
        h = azr_http1_resp_header_next(&p.r, "Proxy-Authenticate", h);
        assert_non_null(h);
        assert_true(h->value_len >= strlen(want[i]));
        assert_memory_equal(h->value, want[i], strlen(want[i]));
    }
    assert_null(azr_http1_resp_header_next(&p.r, "Proxy-Authenticate", h));
    assert_ptr_equal(azr_http1_resp_header(&p.r, "proxy-authenticate"),
                     azr_http1_resp_header_next(&p.r, "Proxy-Authenticate", NULL));
    assert_null(azr_http1_resp_header_next(&p.r, "Server", &p.r.headers[1]));
    assert_true(azr_http1_resp_persists(&p.r));
    static const struct {
        const char *resp;
        bool persists;
    } v[] = {
        {"HTTP/1.1 407 x\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.1 407 x\r\nContent-Length: 5\r\nConnection: Close\r\n\r\n", false},
        {"HTTP/1.1 407 x\r\nContent-Length: 5\r\nProxy-Connection: close\r\n\r\n", false},
        {"HTTP/1.1 407 x\r\nContent-Length: 5\r\nConnection: te, close\r\n\r\n", false},
        /* tinyproxy 1.11.1 */
        {"HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
         "realm=\"Tinyproxy\"\r\nConnection: close\r\n\r\n",
         false},
        {"HTTP/1.0 407 x\r\nContent-Length: 5\r\n\r\n", false},
        {"HTTP/1.0 407 x\r\nContent-Length: 5\r\nProxy-Connection: Keep-Alive\r\n\r\n", true},
        {"HTTP/1.1 407 x\r\n\r\n", false}, /* the close ends the body */
        {"HTTP/1.1 407 x\r\nTransfer-Encoding: chunked\r\n\r\n", false},
        {"HTTP/1.1 407 x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false},
        {"HTTP/1.1 204 x\r\n\r\n", true},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        parse_all(v[i].resp, &p);
        assert_int_equal(p.e, AZR_OK);
        if (azr_http1_resp_persists(&p.r) != v[i].persists)
            fail_msg("%s: persists should be %d", v[i].resp, v[i].persists);
    }
    azr_http1_resp r;
    azr_http1_resp_init(&r, 0);
    assert_false(azr_http1_resp_persists(&r)); /* no head yet */
}

/* A 407's body read to its end, whatever its size, so the connection can
 * carry the next CONNECT; what follows the body is left alone. */
static void test_http1_drain(void **s)
{
    (void)s;
    static parsed p;
    static uint8_t big[5000];
    size_t used;
    memset(big, 'b', sizeof big);
    parse_all("HTTP/1.1 407 x\r\nContent-Length: 3033\r\n\r\n", &p);
    assert_int_equal(azr_http1_resp_drain(&p.r, big, 1000, &used), AZR_AGAIN);
    assert_int_equal(used, 1000);
    assert_int_equal(azr_http1_resp_drain(&p.r, big, 2000, &used), AZR_AGAIN);
    assert_int_equal(p.r.body_len, AZR_HTTP_MAX_BODY); /* the slice is full: reading goes on */
    assert_int_equal(azr_http1_resp_drain(&p.r, big, sizeof big, &used), AZR_OK);
    assert_int_equal(used, 33);
    assert_int_equal(azr_http1_resp_drain(&p.r, big, sizeof big, &used), AZR_OK);
    assert_int_equal(used, 0);
    /* byte by byte */
    parse_all("HTTP/1.1 407 x\r\nContent-Length: 7\r\n\r\n", &p);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(azr_http1_resp_drain(&p.r, (const uint8_t *)"abcdefgHTTP", 1, &used),
                         AZR_AGAIN);
        assert_int_equal(used, 1);
    }
    assert_int_equal(azr_http1_resp_drain(&p.r, (const uint8_t *)"gHTTP", 5, &used), AZR_OK);
    assert_int_equal(used, 1);
    /* an empty body is whole at once */
    parse_all("HTTP/1.1 407 x\r\nContent-Length: 0\r\n\r\n", &p);
    assert_int_equal(azr_http1_resp_drain(&p.r, big, 0, &used), AZR_OK);
    /* only the close ends these */
    parse_all("HTTP/1.1 407 x\r\n\r\n", &p);
    assert_int_equal(azr_http1_resp_drain(&p.r, big, 10, &used), AZR_E_STATE);
    assert_int_equal(used, 0);
    parse_all("HTTP/1.1 407 x\r\nTransfer-Encoding: chunked\r\n\r\n", &p);
    assert_int_equal(azr_http1_resp_drain(&p.r, big, 10, &used), AZR_E_STATE);
    azr_http1_resp r;
    azr_http1_resp_init(&r, 0);
    assert_int_equal(azr_http1_resp_drain(&r, big, 10, &used), AZR_E_STATE);
}

/* Found by fuzz_http1_resp / fuzz_connect_resp: an empty header value continued
 * by a whitespace-only obs-fold line made the value length wrap around. */
static void test_http1_regression_fold_of_empty_value(void **s)
{
    (void)s;
    static parsed p;
    parse_all("HTTP/1.1 101 x\nUpgrade: \n  \n\n", &p);
    assert_int_equal(p.e, AZR_OK);
    const azr_http1_hdr *h = azr_http1_resp_header(&p.r, "Upgrade");
    assert_non_null(h);
    assert_int_equal(h->value_len, 0);
    parse_all("HTTP/1.1 101 x\nUpgrade:\n \t \n   websocket \n\n", &p);
    assert_int_equal(p.e, AZR_OK);
    h = azr_http1_resp_header(&p.r, "Upgrade");
    assert_int_equal(h->value_len, 9);
    assert_memory_equal(h->value, "websocket", 9);
    /* the fuzzer's inputs, verbatim */
    static const char *crash[] = {
        "HTTP/1.1 407 Prexaoyh: 0ed\r\nPr: =0e=0ed\r\n Ba 0eP/1.1 200 ConecPr: 1ed\r\n \"\r\n"
        "Content-:\n \n Basi\xc7 0ed\r\nPr: 1ed\r\n \nContent-:\r\nContent\xff\xff\xff\xff  "
        "\r\n\r\n",
        "HTTP/1.1 101 x\nupgzaVe: GGGGGGGGGGGGGGGGGGGGG: a,\nept:  \n  a,\x0c"
        "ction: a,\nept:  \n  \nu:\x0e\xba\x37uOo=\n\n",
    };
    for (size_t i = 0; i < 2; i++) {
        parse_all(crash[i], &p);
        for (size_t k = 0; k < p.r.nheaders; k++)
            assert_true(p.r.headers[k].value + p.r.headers[k].value_len <= p.r.buf + p.r.have);
    }
    /* CR inside a folded line is refused like in a first line */
    parse_all("HTTP/1.1 200 x\nA: b\n c\rd\n\n", &p);
    assert_int_equal(p.e, AZR_E_PROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http1_ws_accept_vectors),
        cmocka_unit_test(test_http1_upgrade_request),
        cmocka_unit_test(test_http1_upgrade_request_refuses_injection),
        cmocka_unit_test(test_http1_connect_request),
        cmocka_unit_test(test_http1_connect_request_extra_headers),
        cmocka_unit_test(test_http1_101_accepted_and_leftover_kept),
        cmocka_unit_test(test_http1_101_header_variants),
        cmocka_unit_test(test_http1_bad_101),
        cmocka_unit_test(test_http1_relay_refusals),
        cmocka_unit_test(test_http1_body_bounds),
        cmocka_unit_test(test_http1_malformed_heads),
        cmocka_unit_test(test_http1_limits),
        cmocka_unit_test(test_http1_connect_responses),
        cmocka_unit_test(test_http1_407_challenges_and_persistence),
        cmocka_unit_test(test_http1_drain),
        cmocka_unit_test(test_http1_regression_fold_of_empty_value),
    };
    return cmocka_run_group_tests_name("http1", tests, NULL, NULL);
}
