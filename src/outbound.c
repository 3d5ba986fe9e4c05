/*
 * The outbound chain before TLS (FirewallType): an HTTP CONNECT tunnel
 * (Proxy-Authorization: Basic when FirewallUser is set) or a SOCKS4, SOCKS4A
 * or SOCKS5 handshake, driven over the relay socket with the sans-I/O codecs
 * of http1.c and socks.c. When the tunnel is open the connection goes on with
 * TLS or the upgrade; bytes that came after the proxy's answer are handed on.
 */
#include "conn.h"
#include "text.h"

azr_verdict azr_outbound_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    const azr_settings *s = &p->set;
    azr_hs *hs = c->hs;
    const char *user = s->firewall_user, *pass = s->firewall_password;
    if (s->firewall_type == 1) {
        if (azr_http1_connect_write(s->relay.host, s->relay.port, user, pass, s->user_agent,
                                    (char *)hs->praw, sizeof hs->praw, &hs->praw_len) != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_SETTING, 0, true,
                                 "cannot build the CONNECT request from the settings "
                                 "(FirewallUser may not contain ':')");
        hs->praw_off = 0;
        azr_http1_resp_init(&hs->resp, 0);
    } else {
        azr_socks_ver v = s->firewall_type == 2   ? AZR_SOCKS4
                          : s->firewall_type == 3 ? AZR_SOCKS5
                                                  : AZR_SOCKS4A;
        char host[AZR_HOST_MAX + 1];
        snprintf(host, sizeof host, "%s", s->relay.host);
        if (v == AZR_SOCKS4) { /* SOCKS4 carries an IPv4 address: resolve here */
            char err[256];
            azr_sockaddr a;
            if (azr_net_resolve(s->relay.host, s->relay.port, 0, false, &a, err, sizeof err) !=
                AZR_OK)
                return azr_conn_fail(c, AZR_ERR_IO, 0, true, "%s", err);
            azr_net_addr_text(&a, host, sizeof host, NULL);
        }
        if (azr_socks_init(&hs->socks, v, host, s->relay.port, user, pass) != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_SETTING, 0, true, "%s", hs->socks.why);
    }
    azr_proxy_log(p, c->id, 2, "%s handshake with %s:%ld for %s:%u",
                  s->firewall_type == 1 ? "HTTP CONNECT" : "SOCKS", s->firewall_host,
                  s->firewall_port, s->relay.host, (unsigned)s->relay.port);
    return azr_outbound_step(c, 0);
}

static size_t pending(const azr_conn *c, const uint8_t **b)
{
    if (c->p->set.firewall_type == 1) {
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
        if (c->p->set.firewall_type == 1)
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
    azr_hs *hs = c->hs;
    char reason[AZR_HTTP_MAX_REASON];
    size_t used;
    if (s->firewall_type == 1) {
        azr_err e = azr_http1_resp_feed(&hs->resp, in, n, &used);
        if (e == AZR_AGAIN)
            return AZR_V_WAIT;
        if (e != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_PROTOCOL, 0, true,
                                 "proxy %s:%ld: not an HTTP answer to CONNECT (%s)",
                                 s->firewall_host, s->firewall_port, hs->resp.why);
        azr_text_printable(hs->resp.reason, hs->resp.reason_len, 200, reason, sizeof reason);
        e = azr_http1_check_connect(&hs->resp);
        if (e != AZR_OK)
            return azr_conn_fail(
                c, e == AZR_E_AUTH ? AZR_ERR_AUTH : AZR_ERR_REFUSED, 0, true,
                "proxy %.64s:%ld refused CONNECT to %.64s:%u: %d %.120s%s", s->firewall_host,
                s->firewall_port, s->relay.host, (unsigned)s->relay.port, hs->resp.status, reason,
                e != AZR_E_AUTH       ? ""
                : s->firewall_user[0] ? " (check FirewallUser and FirewallPassword)"
                                      : " (set FirewallUser and FirewallPassword)");
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
                                 0, true, "SOCKS proxy %s:%ld: %s", s->firewall_host,
                                 s->firewall_port, hs->socks.why);
        azr_socks_wipe(&hs->socks);
    }
    azr_proxy_log(c->p, c->id, 2, "tunnel through %s:%ld open", s->firewall_host, s->firewall_port);
    memmove(hs->praw, in + used, n - used);
    hs->praw_off = 0;
    hs->praw_len = n - used;
    return AZR_V_NEXT;
}

azr_verdict azr_outbound_step(azr_conn *c, unsigned ev)
{
    const azr_net_ops *net = c->p->net;
    const azr_settings *s = &c->p->set;
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
                             "proxy %s:%ld closed the connection during the handshake",
                             s->firewall_host, s->firewall_port);
    if (e != AZR_OK)
        return azr_conn_fail_errno(c, "proxy read failed");
    azr_verdict v = answer(c, in, n);
    azr_wipe(in, sizeof in);
    return v;
}
