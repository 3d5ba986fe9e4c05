/*
 * IMPLEMENTATION NOTES
 * The outbound chain before TLS, as the proxy's route says (p->route,
 * computed when listening starts: proxyroute.c): an HTTP CONNECT tunnel or
 * a SOCKS4, SOCKS4A or SOCKS5 handshake, driven over the relay socket with
 * the sans-I/O codecs of http1.c, proxyauth.c and socks.c. When the tunnel
 * is open the connection goes on with TLS or the upgrade; bytes that came
 * after the proxy's answer are handed on (hs->praw).
 *
 * CONNECT and proxy authentication. proxyauth.c's engine lives in the
 * handshake block (hs->pauth), so it survives the redials it may ask for.
 * The first CONNECT carries what first() gives (ProxyAuthorization as set,
 * Basic or NTLM's NEGOTIATE_MESSAGE when ProxyAuthScheme names them, or
 * nothing), then FirewallData. A 407 (or 401: tinyproxy answers bad Basic
 * credentials with it, and WWW-Authenticate) has every challenge fed to the
 * engine, and next() gives the value for the next CONNECT, or a refusal that
 * ends the connection (AZR_ERR_AUTH, the engine's reason and the settings to
 * check). The next CONNECT goes
 *   - on the same connection when the proxy keeps it (HTTP/1.1 without
 *     "close", a Content-Length body: http1.c's azr_http1_resp_persists),
 *     once the 407's body has been read to its end (T_DRAIN);
 *   - on a new one otherwise: azr_conn_retry() has the core close the
 *     socket, back off and dial again, and pauth_kept tells the next start
 *     to send hs->pauth_out instead of beginning again. The same happens when
 *     the proxy closes a kept connection before answering the next CONNECT.
 * NTLM's AUTHENTICATE_MESSAGE (out.same_conn) belongs to the connection that
 * carried the challenge: a proxy that closes it mid-handshake ends the
 * connection with that said. The engine answers each scheme once, so a 407
 * that keeps coming ends after at most one retry per scheme. 502, 503 and
 * 504 (the proxy cannot reach the relay) are failed attempts: the core
 * dials again, and the engine starts afresh there.
 */
#include "platform.h" /* first: clock_gettime */
#include "conn.h"
#include "text.h"

#include <time.h>

/* hs->tunnel: reading the answer's head, or a 407's body before the next CONNECT */
enum { T_HEAD, T_DRAIN };

/* The longest CONNECT fits the handshake buffer (each sizeof counts a NUL: slack). */
_Static_assert(sizeof "CONNECT [" + AZR_HOST_MAX + sizeof "]:65535 HTTP/1.1\r\n" +
                       sizeof "Host: [" + AZR_HOST_MAX + sizeof "]:65535\r\n" +
                       sizeof "User-Agent: \r\n" + sizeof(((azr_settings *)0)->user_agent) +
                       sizeof "Proxy-Authorization: \r\n" + AZR_PAUTH_MAX_VALUE +
                       sizeof "Proxy-Connection: Keep-Alive\r\n" + AZR_PROXY_DATA_MAX +
                       sizeof "\r\n" <=
                   sizeof(((azr_hs *)0)->praw),
               "a CONNECT with the longest Proxy-Authorization value must fit hs->praw");

/* ProxyAuthScheme's numbers (the class's) as proxyauth.c's names. */
static const char *scheme_name(long scheme)
{
    switch (scheme) {
    case AZR_PROXY_AUTH_BASIC:
        return "Basic";
    case AZR_PROXY_AUTH_DIGEST:
        return "Digest";
    case AZR_PROXY_AUTH_NONE:
        return "None";
    case AZR_PROXY_AUTH_NTLM:
        return "NTLM";
    case AZR_PROXY_AUTH_NEGOTIATE:
        return "Negotiate";
    default:
        return "Auto";
    }
}

/* The engine's random bytes (Digest's cnonce, NTLM's client challenge). */
static void pauth_rand(void *ud, uint8_t *out, size_t n)
{
    br_hmac_drbg_generate(&((azr_proxy_state *)ud)->rng, out, n);
}

/* NTLMv2's time when the challenge carries none: now, as FILETIME. */
static uint64_t pauth_clock(void *ud)
{
    struct timespec ts;
    (void)ud;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return AZR_PAUTH_FILETIME(0, 0);
    return AZR_PAUTH_FILETIME(ts.tv_sec, ts.tv_nsec);
}

/* A new engine for this connection's CONNECTs, and the first one's value. */
static azr_verdict pauth_begin(azr_conn *c)
{
    const azr_route *r = &c->p->route;
    const azr_settings *s = &c->p->set;
    azr_hs *hs = c->hs;
    char target[AZR_PAUTH_MAX_TARGET + 1]; /* Digest's uri: CONNECT's request-target */
    bool v6 = strchr(s->relay.host, ':') != NULL;
    snprintf(target, sizeof target, "%s%s%s:%u", v6 ? "[" : "", s->relay.host, v6 ? "]" : "",
             (unsigned)s->relay.port);
    azr_pauth_cfg cfg = {.user = r->user,
                         .password = r->password,
                         .scheme = scheme_name(r->auth_scheme),
                         .authorization = r->authorization,
                         .target = target,
                         .rand = pauth_rand,
                         .clock = pauth_clock,
                         .ud = c->p};
    if (!hs->pauth && !(hs->pauth = malloc(sizeof *hs->pauth)))
        return azr_conn_fail(c, AZR_ERR_NOMEM, 0, true, "out of memory");
    azr_err e = azr_pauth_init(hs->pauth, &cfg);
    if (e == AZR_OK)
        e = azr_pauth_first(hs->pauth, &hs->pauth_out);
    if (e != AZR_OK)
        return azr_conn_fail(c, e == AZR_E_UNSUPPORTED ? AZR_ERR_UNSUPPORTED : AZR_ERR_SETTING, 0,
                             true, "proxy authentication: %s (check %s)", azr_pauth_why(hs->pauth),
                             r->authorization[0] ? "ProxyAuthorization" : r->cred_names);
    return AZR_V_WAIT;
}

/* The next CONNECT into hs->praw, with hs->pauth_out's value; its answer next. */
static azr_verdict write_connect(azr_conn *c)
{
    const azr_settings *s = &c->p->set;
    const azr_route *r = &c->p->route;
    azr_hs *hs = c->hs;
    azr_err e = azr_route_connect_request(r, s->relay.host, s->relay.port, s->user_agent,
                                          hs->pauth_out.value, (char *)hs->praw, sizeof hs->praw,
                                          &hs->praw_len);
    if (e != AZR_OK)
        return azr_conn_fail(c, AZR_ERR_SETTING, 0, true,
                             "cannot build the CONNECT request from the settings (%s)",
                             e == AZR_E_LIMIT ? "longer than the handshake buffer"
                                              : "a value would break the request");
    hs->praw_off = 0;
    hs->tunnel = T_HEAD;
    azr_http1_resp_init(&hs->resp, 0);
    if (hs->pauth_out.step)
        azr_proxy_log(c->p, c->id, 2, "CONNECT to proxy %s:%u with Proxy-Authorization (%s)",
                      r->host, (unsigned)r->port, hs->pauth_out.step);
    return AZR_V_WAIT;
}

azr_verdict azr_outbound_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    const azr_settings *s = &p->set;
    const azr_route *r = &p->route;
    azr_hs *hs = c->hs;
    if (r->kind == AZR_ROUTE_DIRECT) /* conn.c dialled a proxy the route does not name */
        return azr_conn_fail(c, AZR_ERR_STATE, 0, true, "no proxy to talk to: the route is %s",
                             r->source);
    azr_proxy_log(p, c->id, 2, "%s handshake with %s:%u for %s:%u",
                  r->kind == AZR_ROUTE_CONNECT ? "HTTP CONNECT" : "SOCKS", r->host,
                  (unsigned)r->port, s->relay.host, (unsigned)s->relay.port);
    if (r->kind == AZR_ROUTE_CONNECT) {
        if (r->auth_scheme == AZR_PROXY_AUTH_NEGOTIATE && !r->authorization[0])
            return azr_conn_fail(c, AZR_ERR_UNSUPPORTED, 0, true,
                                 "ProxyAuthScheme=Negotiate (Kerberos) is not supported: use "
                                 "NTLM, Digest, Basic or None, or give ProxyAuthorization");
        if (!hs->pauth_kept && pauth_begin(c) == AZR_V_FAIL)
            return AZR_V_FAIL;
        hs->pauth_kept = false;
        hs->reused = false;
        if (write_connect(c) == AZR_V_FAIL)
            return AZR_V_FAIL;
    } else {
        azr_socks_ver v = r->kind == AZR_ROUTE_SOCKS4   ? AZR_SOCKS4
                          : r->kind == AZR_ROUTE_SOCKS5 ? AZR_SOCKS5
                                                        : AZR_SOCKS4A;
        /* SOCKS4 carries an IPv4 address, socks5:// asks us to resolve: dial.c
         * looked the relay up (hs->target) */
        const char *host = hs->target[0] ? hs->target : s->relay.host;
        if (v == AZR_SOCKS4 && !strchr(host, '.'))
            return azr_conn_fail(c, AZR_ERR_SETTING, 0, true,
                                 "SOCKS4 needs an IPv4 address for %s, and it has none (use "
                                 "FirewallType 10, SOCKS4A, or 3, SOCKS5)",
                                 s->relay.host);
        if (azr_socks_init(&hs->socks, v, host, s->relay.port, r->user, r->password) != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_SETTING, 0, true, "%s", hs->socks.why);
    }
    return azr_outbound_step(c, 0);
}

static size_t pending(const azr_conn *c, const uint8_t **b)
{
    if (c->p->route.kind == AZR_ROUTE_CONNECT) {
        *b = c->hs->praw + c->hs->praw_off;
        return c->hs->praw_len - c->hs->praw_off;
    }
    return azr_socks_pending(&c->hs->socks, b);
}

bool azr_outbound_pending(const azr_conn *c)
{
    const uint8_t *b;
    return pending(c, &b) > 0;
}

/* Write what the handshake owes the proxy. */
static azr_verdict send_pending(azr_conn *c)
{
    const azr_net_ops *net = c->p->net;
    const uint8_t *b;
    size_t len, n;
    while ((len = pending(c, &b)) > 0) {
        azr_err e = net->write(net->ud, c->rfd, b, len, &n);
        if (e == AZR_AGAIN)
            break;
        if (e != AZR_OK)
            return azr_conn_fail_errno(c, "proxy write failed");
        if (c->p->route.kind == AZR_ROUTE_CONNECT)
            c->hs->praw_off += n;
        else
            azr_socks_sent(&c->hs->socks, n);
    }
    return AZR_V_WAIT;
}

/* The CONNECT's answer is done with the proxy's socket: the tunnel is open
 * (what came after the answer waits in hs->praw for the next layer). */
static azr_verdict tunnel_open(azr_conn *c, const uint8_t *rest, size_t n)
{
    const azr_route *r = &c->p->route;
    azr_hs *hs = c->hs;
    azr_proxy_log(c->p, c->id, 2, "tunnel through %s:%u open", r->host, (unsigned)r->port);
    memmove(hs->praw, rest, n);
    hs->praw_off = 0;
    hs->praw_len = n;
    return AZR_V_NEXT;
}

/* The proxy closed the connection that was to carry the next CONNECT (after
 * its 407, or instead of answering on a kept one): that value goes on a new
 * connection, except NTLM's AUTHENTICATE_MESSAGE, which cannot. */
static azr_verdict closed_after_407(azr_conn *c)
{
    const azr_route *r = &c->p->route;
    azr_hs *hs = c->hs;
    if (hs->pauth_out.same_conn)
        return azr_conn_fail(c, AZR_ERR_AUTH, 0, true,
                             "proxy %.64s:%u closed the connection in the middle of the NTLM "
                             "handshake; set ProxyAuthScheme to Digest or Basic if the proxy "
                             "offers them",
                             r->host, (unsigned)r->port);
    hs->pauth_kept = true;
    return azr_conn_retry(c, AZR_ERR_AUTH,
                          "proxy %.64s:%u asked for authentication and closed the connection: "
                          "the next CONNECT (%s) goes on a new one",
                          r->host, (unsigned)r->port,
                          hs->pauth_out.step ? hs->pauth_out.step : "no credentials");
}

/* A 407 (or 401): every challenge to the engine, then its next value on this
 * connection (rest: the body's first bytes) or on a new one, or its refusal. */
static azr_verdict challenged(azr_conn *c, const uint8_t *rest, size_t n);

/* Bytes from the proxy for the CONNECT in flight. */
static azr_verdict connect_in(azr_conn *c, const uint8_t *in, size_t n)
{
    const azr_settings *s = &c->p->set;
    const azr_route *r = &c->p->route;
    azr_hs *hs = c->hs;
    size_t used;
    if (n > 0)
        hs->reused = false; /* the proxy answers: it did keep the connection */
    if (hs->tunnel == T_DRAIN) {
        azr_err e = azr_http1_resp_drain(&hs->resp, in, n, &used);
        if (e == AZR_AGAIN)
            return AZR_V_WAIT;
        if (e != AZR_OK || used < n) /* RFC 9112 §9.3.2: nothing comes before our next request */
            return azr_conn_fail(c, AZR_ERR_PROTOCOL, 0, true,
                                 "proxy %s:%u sent more than its 407 answer", r->host,
                                 (unsigned)r->port);
        if (write_connect(c) == AZR_V_FAIL)
            return AZR_V_FAIL;
        hs->reused = true;
        return send_pending(c);
    }
    azr_err e = azr_http1_resp_feed(&hs->resp, in, n, &used);
    if (e == AZR_AGAIN)
        return AZR_V_WAIT;
    if (e != AZR_OK)
        return azr_conn_fail(c, AZR_ERR_PROTOCOL, 0, true,
                             "proxy %s:%u: not an HTTP answer to CONNECT (%s)", r->host,
                             (unsigned)r->port, hs->resp.why);
    e = azr_http1_check_connect(&hs->resp);
    if (e == AZR_OK)
        return tunnel_open(c, in + used, n - used);
    if (e == AZR_E_AUTH)
        return challenged(c, in + used, n - used);
    char reason[AZR_HTTP_MAX_REASON];
    int st = hs->resp.status;
    azr_text_printable(hs->resp.reason, hs->resp.reason_len, 120, reason, sizeof reason);
    if (st == 502 || st == 503 || st == 504) /* RFC 9110 §15.6: the proxy cannot reach the relay */
        return azr_conn_retry(c, AZR_ERR_REFUSED, "proxy %.64s:%u cannot reach %.64s:%u: %d %s",
                              r->host, (unsigned)r->port, s->relay.host, (unsigned)s->relay.port,
                              st, reason);
    return azr_conn_fail(c, AZR_ERR_REFUSED, 0, true,
                         "proxy %.64s:%u refused CONNECT to %.64s:%u: %d %s", r->host,
                         (unsigned)r->port, s->relay.host, (unsigned)s->relay.port, st, reason);
}

static void feed_all(azr_hs *hs, const char *name)
{
    const azr_http1_hdr *h = NULL;
    while ((h = azr_http1_resp_header_next(&hs->resp, name, h)) != NULL) {
        /* a malformed value is not sticky: next() reports it if nothing usable is left */
        azr_err e = azr_pauth_feed(hs->pauth, h->value, h->value_len);
        (void)e;
    }
}

static azr_verdict challenged(azr_conn *c, const uint8_t *rest, size_t n)
{
    const azr_route *r = &c->p->route;
    azr_hs *hs = c->hs;
    int st = hs->resp.status;
    char reason[AZR_HTTP_MAX_REASON];
    azr_text_printable(hs->resp.reason, hs->resp.reason_len, 60, reason, sizeof reason);
    /* RFC 9110 §11.7.1; a 401 to CONNECT (tinyproxy) challenges like an origin */
    feed_all(hs, "Proxy-Authenticate");
    if (st == 401)
        feed_all(hs, "WWW-Authenticate");
    azr_err e = azr_pauth_next(hs->pauth, &hs->pauth_out);
    if (e != AZR_OK) {
        bool hint = e == AZR_E_AUTH;
        return azr_conn_fail(c, AZR_ERR_AUTH, 0, true,
                             "proxy %.64s:%u answered CONNECT with %d %s: %s%s%s%s", r->host,
                             (unsigned)r->port, st, reason, azr_pauth_why(hs->pauth),
                             !hint                 ? ""
                             : r->authorization[0] ? " (check "
                             : r->user[0]          ? " (check "
                                                   : " (set ",
                             !hint                 ? ""
                             : r->authorization[0] ? "ProxyAuthorization"
                                                   : r->cred_names,
                             hint ? ")" : "");
    }
    if (!azr_http1_resp_persists(&hs->resp))
        return closed_after_407(c);
    azr_proxy_log(c->p, c->id, 2,
                  "proxy %s:%u asks for authentication (%d): %s on the same connection", r->host,
                  (unsigned)r->port, st, hs->pauth_out.step);
    hs->tunnel = T_DRAIN;
    return connect_in(c, rest, n);
}

/* SOCKS: NEXT once the tunnel is open. */
static azr_verdict socks_in(azr_conn *c, const uint8_t *in, size_t n)
{
    const azr_route *r = &c->p->route;
    azr_hs *hs = c->hs;
    size_t used;
    azr_err e = azr_socks_feed(&hs->socks, in, n, &used);
    if (e == AZR_AGAIN) {
        if (used < n) /* cannot happen: the codec takes all it is given while waiting */
            return azr_conn_fail(c, AZR_ERR_PROTOCOL, 0, true, "SOCKS proxy sent too much");
        return send_pending(c); /* the next request may be due */
    }
    if (e != AZR_OK)
        return azr_conn_fail(c,
                             e == AZR_E_AUTH      ? AZR_ERR_AUTH
                             : e == AZR_E_REFUSED ? AZR_ERR_REFUSED
                                                  : AZR_ERR_PROTOCOL,
                             0, true, "SOCKS proxy %s:%u: %s", r->host, (unsigned)r->port,
                             hs->socks.why);
    azr_socks_wipe(&hs->socks);
    azr_proxy_log(c->p, c->id, 2, "tunnel through %s:%u open", r->host, (unsigned)r->port);
    memmove(hs->praw, in + used, n - used);
    hs->praw_off = 0;
    hs->praw_len = n - used;
    return AZR_V_NEXT;
}

azr_verdict azr_outbound_step(azr_conn *c, unsigned ev)
{
    const azr_net_ops *net = c->p->net;
    const azr_route *r = &c->p->route;
    bool connect = r->kind == AZR_ROUTE_CONNECT;
    if (send_pending(c) == AZR_V_FAIL)
        return AZR_V_FAIL;
    if (!(ev & AZR_READABLE))
        return AZR_V_WAIT;
    uint8_t in[1024];
    azr_verdict v = AZR_V_WAIT;
    for (int i = 0; i < 16 && v == AZR_V_WAIT; i++) { /* a 407's body: a few KiB at once */
        size_t n;
        azr_err e = net->read(net->ud, c->rfd, in, sizeof in, &n);
        if (e == AZR_AGAIN)
            break;
        if (e == AZR_E_CLOSED && connect && (c->hs->tunnel == T_DRAIN || c->hs->reused))
            v = closed_after_407(c);
        else if (e == AZR_E_CLOSED)
            v = azr_conn_fail(c, AZR_ERR_REFUSED, 0, true,
                              "proxy %s:%u closed the connection during the handshake", r->host,
                              (unsigned)r->port);
        else if (e != AZR_OK)
            v = azr_conn_fail_errno(c, "proxy read failed");
        else
            v = connect ? connect_in(c, in, n) : socks_in(c, in, n);
        if (e != AZR_OK)
            break;
    }
    azr_wipe(in, sizeof in);
    return v;
}

void azr_outbound_end(azr_conn *c)
{
    if (c->hs && c->hs->pauth) {
        azr_pauth_wipe(c->hs->pauth);
        azr_wipe(c->hs->pauth, sizeof *c->hs->pauth);
        free(c->hs->pauth);
        c->hs->pauth = NULL;
    }
}
