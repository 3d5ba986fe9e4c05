/*
 * The HTTP CONNECT handshake with proxy authentication (outbound.c over
 * proxyauth.c's engine), over tests/simnet.h's fake sockets and clock: the
 * test plays the proxy, byte for byte. What is proven: the next CONNECT
 * goes on the same connection when the proxy keeps it (the 407's body read
 * to its end first, in pieces), on a new one when it closes (the engine's
 * state survives the redial), never for NTLM's AUTHENTICATE_MESSAGE; a
 * chunked 407 counts as closing; 502/503/504 dial again, other refusals
 * do not; refusals name the scheme and the settings to check. Answers are
 * squid 5.7's and tinyproxy 1.11.1's, captured; the Basic value is
 * `printf gw:s3cret | base64`.
 */
#include "testutil.h"
#include "simnet.h"

#define BASIC_GW "Basic Z3c6czNjcmV0" /* gw:s3cret */
#define SQUID_NTLM_CHALLENGE                                                                       \
    "NTLM TlRMTVNTUAACAAAACQAJAK6qqqoHgggAHdgQHjiClRAAAAAAAAA6AFdPUktHUk9VUA=="

static sim w;

/* A proxy state whose route is the CONNECT proxy 127.0.0.1:3128, plus settings. */
static void proxy_world(const char *const *extra)
{
    const char *set[16] = {"FirewallType=1", "FirewallHost=127.0.0.1", "FirewallPort=3128",
                           "ConnectionTimeout=10"};
    size_t k = 4;
    for (; extra && *extra && k < 15; extra++)
        set[k++] = *extra;
    set[k] = NULL;
    memset(&w, 0, sizeof w);
    assert_true(sim_init(&w, set));
    w.quiet = getenv("AZR_TEST_VERBOSE") == NULL;
    char err[256];
    assert_int_equal(
        azr_route_compute(&w.p.set, NULL, NULL, "127.0.0.1", false, &w.p.route, err, sizeof err),
        AZR_OK);
    assert_int_equal(w.p.route.kind, AZR_ROUTE_CONNECT);
}

/* The request head we sent on s (taken off the wire), or false when none is whole. */
static bool proxy_reads(sim_sock *s, char *req, size_t cap)
{
    char *end = sim_find((char *)s->out.buf, s->out.len, "\r\n\r\n");
    if (!end)
        return false;
    size_t n = (size_t)(end + 4 - (char *)s->out.buf);
    assert_true(n < cap);
    memcpy(req, s->out.buf, n);
    req[n] = '\0';
    sim_take(&s->out, n);
    return true;
}

static void proxy_says(sim_sock *s, const char *text)
{
    sim_put(&s->in, text, strlen(text));
}

/* The value of the request's Proxy-Authorization ("" for none). */
static const char *authz_of(const char *req, char *out, size_t cap)
{
    const char *h = strstr(req, "\r\nProxy-Authorization: ");
    out[0] = '\0';
    if (h) {
        h += 23;
        size_t n = strcspn(h, "\r");
        assert_true(n < cap);
        memcpy(out, h, n);
        out[n] = '\0';
    }
    return out;
}

/* The tunnel opens: 200, then the relay's 101 through it, and bytes both
 * ways (the client's early ones waited in its buffer). */
static void tunnel_and_upgrade(int id, int cfd)
{
    sim_sock *cl = sim_sock_of(&w, cfd);
    sim_put(&cl->in, "early", 5);
    proxy_says(sim_relay(&w), "HTTP/1.1 200 Connection established\r\n\r\n");
    sim_turns(&w, 3);
    assert_true(sim_upgrade(sim_relay(&w)));
    sim_turns(&w, 3);
    assert_int_equal(w.connected[id], 1);
    assert_int_equal(w.disconnected[id], 0);
    azr_conn *c = azr_listener_find(&w.p, id);
    assert_non_null(c);
    assert_int_equal(c->phase, AZR_P_OPEN);
    assert_null(c->hs); /* the engine, and the password in it, went with the handshake block */
    azr_ws_dec dec;
    azr_ws_dec_init(&dec, 0, false);
    azr_ws_dec_server(&dec);
    sim_seen seen;
    memset(&seen, 0, sizeof seen);
    uint8_t got[16];
    sim_relay_reads(sim_relay(&w), &dec, &seen, got, sizeof got);
    assert_int_equal(seen.data, 5);
    assert_memory_equal(got, "early", 5);
    sim_frame(sim_relay(&w), 0x82, "back", 4);
    sim_turns(&w, 3);
    assert_int_equal(cl->out.len, 4);
    assert_memory_equal(cl->out.buf, "back", 4);
}

static void ends_with(int id, int status, const char *why)
{
    assert_int_equal(w.disconnected[id], 1);
    if (w.status[id] != status || !strstr(w.reason[id], why))
        fail_msg("status %d '%s', want %d '%s'", w.status[id], w.reason[id], status, why);
}

/* ------------------------------------------------------------------ cases */

/* Auto: nothing before the first 407; squid keeps the connection, so Basic
 * goes on it once the 3033-byte body is read (here in three pieces). */
static void test_outbound_auto_basic_on_the_same_connection(void **st)
{
    (void)st;
    proxy_world((const char *const[]){"FirewallUser=gw", "FirewallPassword=s3cret",
                                      "FirewallData=X-Site: gw-7", NULL});
    int cfd;
    int id = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    sim_sock *px = sim_relay(&w);
    char req[8192], v[4200];
    assert_true(proxy_reads(px, req, sizeof req));
    assert_true(strncmp(req, "CONNECT 127.0.0.1:9 HTTP/1.1\r\n", 30) == 0);
    assert_string_equal(authz_of(req, v, sizeof v), "");
    assert_non_null(strstr(req, "\r\nX-Site: gw-7\r\n\r\n"));
    static char body[3033];
    memset(body, 'h', sizeof body);
    proxy_says(px, "HTTP/1.1 407 Proxy Authentication Required\r\nServer: squid/5.7\r\n"
                   "Content-Length: 3033\r\nProxy-Authenticate: NTLM\r\n"
                   "Proxy-Authenticate: Digest realm=\"azrelay-digest\", "
                   "nonce=\"1e683e0be9788ce057d9dd96c921edfc\", qop=\"auth\", stale=false\r\n"
                   "Proxy-Authenticate: Basic realm=\"azrelay-basic\"\r\n"
                   "Connection: keep-alive\r\n\r\n");
    sim_put(&px->in, body, 1000);
    sim_turns(&w, 3);
    assert_false(proxy_reads(px, req, sizeof req)); /* not before the body's end */
    sim_put(&px->in, body, 2000);
    sim_turns(&w, 3);
    assert_false(proxy_reads(px, req, sizeof req));
    sim_put(&px->in, body, 33);
    sim_turns(&w, 3);
    assert_true(proxy_reads(px, req, sizeof req));
    assert_int_equal(w.dials, 1);
    /* squid offers NTLM first: Auto answers the strongest, NTLM's NEGOTIATE_MESSAGE */
    assert_true(strncmp(authz_of(req, v, sizeof v), "NTLM TlRMTVNTUAABAAAA", 21) == 0);
    assert_non_null(strstr(req, "\r\nX-Site: gw-7\r\n\r\n"));
    proxy_says(px, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n"
                   "Proxy-Authenticate: " SQUID_NTLM_CHALLENGE "\r\n\r\nabcde");
    sim_turns(&w, 3);
    assert_true(proxy_reads(px, req, sizeof req));
    assert_true(strncmp(authz_of(req, v, sizeof v), "NTLM TlRMTVNTUAADAAAA", 21) == 0);
    assert_int_equal(w.dials, 1);
    tunnel_and_upgrade(id, cfd);
    sim_free(&w);

    /* a proxy that offers only Basic, and keeps the connection */
    proxy_world((const char *const[]){"FirewallUser=gw", "FirewallPassword=s3cret", NULL});
    id = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    px = sim_relay(&w);
    assert_true(proxy_reads(px, req, sizeof req));
    proxy_says(px, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n"
                   "Proxy-Authenticate: Basic realm=\"azrelay-basic\"\r\n\r\n");
    sim_turns(&w, 3);
    assert_true(proxy_reads(px, req, sizeof req));
    assert_string_equal(authz_of(req, v, sizeof v), BASIC_GW);
    tunnel_and_upgrade(id, cfd);
    assert_int_equal(w.dials, 1);
    sim_free(&w);
}

/* tinyproxy closes after its 407 (HTTP/1.0, Connection: close): Basic goes
 * on a new connection, and its 401 for wrong credentials is a refusal
 * naming the scheme and the settings: one retry, not more. */
static void test_outbound_closing_proxy_gets_a_new_connection(void **st)
{
    (void)st;
    proxy_world((const char *const[]){"FirewallUser=gw", "FirewallPassword=s3cret", NULL});
    int cfd;
    int id = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    sim_sock *px = sim_relay(&w);
    char req[8192], v[4200];
    assert_true(proxy_reads(px, req, sizeof req));
    assert_string_equal(authz_of(req, v, sizeof v), "");
    proxy_says(px, "HTTP/1.0 407 Proxy Authentication Required\r\nServer: tinyproxy/1.11.1\r\n"
                   "Content-Type: text/html\r\nProxy-Authenticate: Basic realm=\"Tinyproxy\"\r\n"
                   "Connection: close\r\n\r\n<html>");
    sim_turns(&w, 3);
    assert_true(px->closed);
    sim_wait(&w, 200, 10); /* the first backoff: 50..100 ms */
    assert_int_equal(w.dials, 2);
    px = sim_relay(&w);
    assert_true(proxy_reads(px, req, sizeof req));
    assert_string_equal(authz_of(req, v, sizeof v), BASIC_GW);
    proxy_says(px, "HTTP/1.0 401 Unauthorized\r\nServer: tinyproxy/1.11.1\r\n"
                   "WWW-Authenticate: Basic realm=\"Tinyproxy\"\r\nConnection: close\r\n\r\n");
    sim_turns(&w, 3);
    ends_with(id, AZR_ERR_AUTH,
              "proxy 127.0.0.1:3128 answered CONNECT with 401 Unauthorized: proxy refused our "
              "credentials (Basic) (check FirewallUser and FirewallPassword)");
    sim_wait(&w, 500, 50);
    assert_int_equal(w.dials, 2);
    sim_free(&w);

    /* a 407 that keeps the connection, then the proxy closes it before the body's end */
    proxy_world((const char *const[]){"FirewallUser=gw", "FirewallPassword=s3cret", NULL});
    id = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    px = sim_relay(&w);
    assert_true(proxy_reads(px, req, sizeof req));
    proxy_says(px, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 100\r\n"
                   "Proxy-Authenticate: Basic realm=\"b\"\r\n\r\nshort");
    px->in_eof = true;
    sim_turns(&w, 3);
    sim_wait(&w, 200, 10);
    assert_int_equal(w.dials, 2);
    px = sim_relay(&w);
    assert_true(proxy_reads(px, req, sizeof req));
    assert_string_equal(authz_of(req, v, sizeof v), BASIC_GW);
    tunnel_and_upgrade(id, cfd);
    sim_free(&w);

    /* a chunked 407 counts as closing: the next CONNECT goes on a new connection */
    proxy_world((const char *const[]){"FirewallUser=gw", "FirewallPassword=s3cret", NULL});
    id = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    px = sim_relay(&w);
    assert_true(proxy_reads(px, req, sizeof req));
    proxy_says(px, "HTTP/1.1 407 Proxy Authentication Required\r\nTransfer-Encoding: chunked\r\n"
                   "Proxy-Authenticate: Basic realm=\"b\"\r\n\r\n5\r\nabcde\r\n0\r\n\r\n");
    sim_turns(&w, 3);
    assert_true(px->closed);
    sim_wait(&w, 200, 10);
    assert_int_equal(w.dials, 2);
    px = sim_relay(&w);
    assert_true(proxy_reads(px, req, sizeof req));
    assert_string_equal(authz_of(req, v, sizeof v), BASIC_GW);
    tunnel_and_upgrade(id, cfd);
    sim_free(&w);

    /* a kept connection closed instead of answering the next CONNECT: again on a new one */
    proxy_world((const char *const[]){"FirewallUser=gw", "FirewallPassword=s3cret", NULL});
    id = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    px = sim_relay(&w);
    assert_true(proxy_reads(px, req, sizeof req));
    proxy_says(px, "HTTP/1.1 407 x\r\nContent-Length: 0\r\nProxy-Authenticate: Basic realm=b\r\n"
                   "\r\n");
    sim_turns(&w, 3);
    assert_true(proxy_reads(px, req, sizeof req));
    assert_string_equal(authz_of(req, v, sizeof v), BASIC_GW);
    px->in_eof = true;
    sim_turns(&w, 3);
    sim_wait(&w, 200, 10);
    assert_int_equal(w.dials, 2);
    px = sim_relay(&w);
    assert_true(proxy_reads(px, req, sizeof req));
    assert_string_equal(authz_of(req, v, sizeof v), BASIC_GW);
    tunnel_and_upgrade(id, cfd);
    sim_free(&w);
}

/* NTLM's AUTHENTICATE_MESSAGE belongs to the connection of the challenge: a
 * proxy that closes it ends the connection, saying so; no new dial. */
static void test_outbound_ntlm_needs_the_same_connection(void **st)
{
    (void)st;
    static const char *const closing[] = {
        /* the challenge comes with Connection: close */
        "HTTP/1.1 407 x\r\nContent-Length: 0\r\nConnection: close\r\n"
        "Proxy-Authenticate: " SQUID_NTLM_CHALLENGE "\r\n\r\n",
        /* the proxy closes before the challenge's body ends */
        "HTTP/1.1 407 x\r\nContent-Length: 10\r\n"
        "Proxy-Authenticate: " SQUID_NTLM_CHALLENGE "\r\n\r\nabc",
        /* the proxy closes instead of answering our AUTHENTICATE_MESSAGE */
        "HTTP/1.1 407 x\r\nContent-Length: 0\r\n"
        "Proxy-Authenticate: " SQUID_NTLM_CHALLENGE "\r\n\r\n",
    };
    for (size_t i = 0; i < 3; i++) {
        proxy_world((const char *const[]){"FirewallUser=CORP\\gw", "FirewallPassword=s3cret",
                                          "ProxyAuthScheme=NTLM", NULL});
        int cfd;
        int id = sim_accept(&w, &cfd, 1 << 18);
        sim_turns(&w, 3);
        sim_sock *px = sim_relay(&w);
        char req[8192], v[4200];
        assert_true(proxy_reads(px, req, sizeof req));
        /* NTLM named: its NEGOTIATE_MESSAGE with the first CONNECT */
        assert_true(strncmp(authz_of(req, v, sizeof v), "NTLM TlRMTVNTUAABAAAA", 21) == 0);
        proxy_says(px, closing[i]);
        if (i == 1)
            px->in_eof = true;
        sim_turns(&w, 3);
        if (i == 2) {
            assert_true(proxy_reads(px, req, sizeof req));
            assert_true(strncmp(authz_of(req, v, sizeof v), "NTLM TlRMTVNTUAADAAAA", 21) == 0);
            px->in_eof = true;
            sim_turns(&w, 3);
        }
        ends_with(id, AZR_ERR_AUTH,
                  "proxy 127.0.0.1:3128 closed the connection in the middle of the NTLM "
                  "handshake; set ProxyAuthScheme to Digest or Basic if the proxy offers them");
        sim_wait(&w, 500, 50);
        assert_int_equal(w.dials, 1);
        sim_free(&w);
    }
}

/* 502/503/504: the proxy cannot reach the relay; another dial, with a new
 * engine. Other refusals end the connection at once. */
static void test_outbound_proxy_errors(void **st)
{
    (void)st;
    static const int retried[] = {502, 503, 504};
    for (size_t i = 0; i < 3; i++) {
        proxy_world((const char *const[]){"FirewallUser=gw", "FirewallPassword=s3cret",
                                          "ProxyAuthScheme=Basic", NULL});
        int cfd;
        int id = sim_accept(&w, &cfd, 1 << 18);
        sim_turns(&w, 3);
        sim_sock *px = sim_relay(&w);
        char req[8192], v[4200], ans[128];
        assert_true(proxy_reads(px, req, sizeof req));
        assert_string_equal(authz_of(req, v, sizeof v), BASIC_GW); /* named: preemptive */
        snprintf(ans, sizeof ans, "HTTP/1.1 %d Busy\r\nContent-Length: 0\r\n\r\n", retried[i]);
        proxy_says(px, ans);
        sim_turns(&w, 3);
        assert_int_equal(w.disconnected[id], 0);
        sim_wait(&w, 200, 10);
        assert_int_equal(w.dials, 2);
        px = sim_relay(&w);
        assert_true(proxy_reads(px, req, sizeof req));
        assert_string_equal(authz_of(req, v, sizeof v), BASIC_GW);
        tunnel_and_upgrade(id, cfd);
        sim_free(&w);
    }
    proxy_world(NULL);
    int cfd;
    int id = sim_accept(&w, &cfd, 1 << 18);
    sim_turns(&w, 3);
    char req[8192];
    assert_true(proxy_reads(sim_relay(&w), req, sizeof req));
    proxy_says(sim_relay(&w), "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    sim_turns(&w, 3);
    ends_with(id, AZR_ERR_REFUSED,
              "proxy 127.0.0.1:3128 refused CONNECT to 127.0.0.1:9: 403 "
              "Forbidden");
    sim_wait(&w, 500, 50);
    assert_int_equal(w.dials, 1);
    sim_free(&w);
}

/* Refusals from the engine: no user, a scheme the proxy does not offer,
 * Negotiate only; and a proxy that sends more than its 407 on a kept
 * connection. */
static void test_outbound_refusals(void **st)
{
    (void)st;
    static const struct {
        const char *set[3];
        const char *answer;
        int status;
        const char *why;
    } v[] = {
        {{NULL},
         "HTTP/1.1 407 x\r\nContent-Length: 0\r\nProxy-Authenticate: Basic realm=b\r\n\r\n",
         AZR_ERR_AUTH,
         "407 x: proxy asks for credentials (Basic) but ProxyUser is not set (set FirewallUser "
         "and FirewallPassword)"},
        {{"FirewallUser=gw", "ProxyAuthScheme=Digest"},
         "HTTP/1.1 407 x\r\nContent-Length: 0\r\nProxy-Authenticate: Basic realm=b\r\n\r\n",
         AZR_ERR_AUTH,
         "407 x: ProxyAuthScheme is Digest but the proxy offers only Basic"},
        {{"FirewallUser=gw"},
         "HTTP/1.1 407 x\r\nContent-Length: 0\r\nProxy-Authenticate: Negotiate\r\n\r\n",
         AZR_ERR_AUTH,
         "proxy asks for Negotiate (Kerberos), which azrelay does not speak"},
        {{"FirewallUser=gw"},
         "HTTP/1.1 407 x\r\nContent-Length: 0\r\n\r\n",
         AZR_ERR_AUTH,
         "proxy answered 407 without a Proxy-Authenticate challenge"},
        {{"ProxyAuthorization=Bearer t0k3n"},
         "HTTP/1.1 407 x\r\nContent-Length: 0\r\nProxy-Authenticate: Basic realm=b\r\n\r\n",
         AZR_ERR_AUTH,
         "proxy refused the ProxyAuthorization value (it offers Basic) (check "
         "ProxyAuthorization)"},
        {{"FirewallUser=gw"},
         "HTTP/1.1 407 x\r\nContent-Length: 2\r\nProxy-Authenticate: Basic realm=b\r\n\r\nabHTTP",
         AZR_ERR_PROTOCOL,
         "proxy 127.0.0.1:3128 sent more than its 407 answer"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        proxy_world(v[i].set);
        int cfd;
        int id = sim_accept(&w, &cfd, 1 << 18);
        sim_turns(&w, 3);
        char req[8192];
        assert_true(proxy_reads(sim_relay(&w), req, sizeof req));
        proxy_says(sim_relay(&w), v[i].answer);
        sim_turns(&w, 3);
        ends_with(id, v[i].status, v[i].why);
        assert_int_equal(w.dials, 1);
        assert_false(proxy_reads(sim_relay(&w), req, sizeof req));
        sim_free(&w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outbound_auto_basic_on_the_same_connection),
        cmocka_unit_test(test_outbound_closing_proxy_gets_a_new_connection),
        cmocka_unit_test(test_outbound_ntlm_needs_the_same_connection),
        cmocka_unit_test(test_outbound_proxy_errors),
        cmocka_unit_test(test_outbound_refusals),
    };
    return cmocka_run_group_tests_name("outbound", tests, NULL, NULL);
}
