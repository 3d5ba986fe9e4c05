/*
 * The outbound chain before TLS, as the proxy's route says (p->route,
 * computed when listening starts: proxyroute.c): an HTTP CONNECT tunnel
 * (Proxy-Authorization: Basic when the route sends it, then ProxyAuthorization
 * and FirewallData lines) or a SOCKS4, SOCKS4A or SOCKS5 handshake, driven
 * over the relay socket with the sans-I/O codecs of http1.c and socks.c. When
 * the tunnel is open the connection goes on with TLS or the upgrade; bytes
 * that came after the proxy's answer are handed on.
 */
#include "conn.h"
#include "text.h"

azr_verdict azr_outbound_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    const azr_settings *s = &p->set;
    const azr_route *r = &p->route;
    azr_hs *hs = c->hs;
    if (r->kind == AZR_ROUTE_DIRECT) /* conn.c dialled a proxy the route does not name */
        return azr_conn_fail(c, AZR_ERR_STATE, 0, true, "no proxy to talk to: the route is %s",
                             r->source);
    if (r->kind == AZR_ROUTE_CONNECT) {
        if (r->auth_scheme == AZR_PROXY_AUTH_NEGOTIATE && !r->authorization[0])
            return azr_conn_fail(c, AZR_ERR_UNSUPPORTED, 0, true,
                                 "ProxyAuthScheme=Negotiate (Kerberos) is not supported: use "
                                 "NTLM, Digest, Basic or None, or give ProxyAuthorization");
        azr_err e = azr_route_connect_write(r, s->relay.host, s->relay.port, s->user_agent,
                                            (char *)hs->praw, sizeof hs->praw, &hs->praw_len);
        if (e != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_SETTING, 0, true,
                                 "cannot build the CONNECT request from the settings (%s)",
                                 e == AZR_E_LIMIT ? "longer than the handshake buffer"
                                                  : "the proxy user may not contain ':'");
        hs->praw_off = 0;
        azr_http1_resp_init(&hs->resp, 0);
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
    azr_proxy_log(p, c->id, 2, "%s handshake with %s:%u for %s:%u",
                  r->kind == AZR_ROUTE_CONNECT ? "HTTP CONNECT" : "SOCKS", r->host,
                  (unsigned)r->port, s->relay.host, (unsigned)s->relay.port);
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

/* The proxy's answer: NEXT once the tunnel is open (what came after the
 * answer waits in hs->praw for the next layer). */
static azr_verdict answer(azr_conn *c, const uint8_t *in, size_t n)
{
    const azr_settings *s = &c->p->set;
    const azr_route *r = &c->p->route;
    azr_hs *hs = c->hs;
    char reason[AZR_HTTP_MAX_REASON];
    size_t used;
    if (r->kind == AZR_ROUTE_CONNECT) {
        azr_err e = azr_http1_resp_feed(&hs->resp, in, n, &used);
        if (e == AZR_AGAIN)
            return AZR_V_WAIT;
        if (e != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_PROTOCOL, 0, true,
                                 "proxy %s:%u: not an HTTP answer to CONNECT (%s)", r->host,
                                 (unsigned)r->port, hs->resp.why);
        azr_text_printable(hs->resp.reason, hs->resp.reason_len, 200, reason, sizeof reason);
        e = azr_http1_check_connect(&hs->resp);
        if (e != AZR_OK)
            return azr_conn_fail(c, e == AZR_E_AUTH ? AZR_ERR_AUTH : AZR_ERR_REFUSED, 0, true,
                                 "proxy %.64s:%u refused CONNECT to %.64s:%u: %d %.120s%s%s%s",
                                 r->host, (unsigned)r->port, s->relay.host, (unsigned)s->relay.port,
                                 hs->resp.status, reason,
                                 e != AZR_E_AUTH ? ""
                                 : r->user[0]    ? " (check "
                                                 : " (set ",
                                 e == AZR_E_AUTH ? r->cred_names : "", e == AZR_E_AUTH ? ")" : "");
    } else {
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
    }
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
    if (send_pending(c) == AZR_V_FAIL)
        return AZR_V_FAIL;
    if (!(ev & AZR_READABLE))
        return AZR_V_WAIT;
    uint8_t in[512];
    size_t n;
    azr_err e = net->read(net->ud, c->rfd, in, sizeof in, &n);
    if (e == AZR_AGAIN)
        return AZR_V_WAIT;
    if (e == AZR_E_CLOSED)
        return azr_conn_fail(c, AZR_ERR_REFUSED, 0, true,
                             "proxy %s:%u closed the connection during the handshake", r->host,
                             (unsigned)r->port);
    if (e != AZR_OK)
        return azr_conn_fail_errno(c, "proxy read failed");
    azr_verdict v = answer(c, in, n);
    azr_wipe(in, sizeof in);
    return v;
}
