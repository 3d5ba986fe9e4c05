/*
 * The outbound chain before TLS (FirewallType): an HTTP CONNECT tunnel
 * (Proxy-Authorization: Basic when FirewallUser is set) or a SOCKS4, SOCKS4A
 * or SOCKS5 handshake, driven over the relay socket with the sans-I/O codecs
 * of http1.c and socks.c. When the tunnel is open the connection goes on with
 * TLS or the upgrade; bytes that came after the proxy's answer are handed on.
 */
#include "conn.h"
#include "text.h"

#include <errno.h>

void azr_outbound_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    const azr_settings *s = &p->set;
    const char *user = s->firewall_user, *pass = s->firewall_password;
    if (s->firewall_type == 1) {
        if (azr_http1_connect_write(s->relay.host, s->relay.port, user, pass, s->user_agent,
                                    (char *)c->praw, sizeof c->praw, &c->praw_len) != AZR_OK) {
            azr_conn_close(c, AZR_ERR_SETTING,
                           "cannot build the CONNECT request from the "
                           "settings (FirewallUser may not contain ':')",
                           false);
            return;
        }
        c->praw_off = 0;
        azr_http1_resp_init(&c->resp, 0);
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
                AZR_OK) {
                azr_conn_close(c, AZR_ERR_IO, err, false);
                return;
            }
            azr_net_addr_text(&a, host, sizeof host, NULL);
        }
        if (azr_socks_init(&c->socks, v, host, s->relay.port, user, pass) != AZR_OK) {
            azr_conn_close(c, AZR_ERR_SETTING, c->socks.why, false);
            return;
        }
    }
    c->phase = AZR_P_PROXY;
    azr_proxy_log(p, c->id, 2, "%s handshake with %s:%ld for %s:%u",
                  s->firewall_type == 1 ? "HTTP CONNECT" : "SOCKS", s->firewall_host,
                  s->firewall_port, s->relay.host, (unsigned)s->relay.port);
}

bool azr_outbound_pending(azr_conn *c, const uint8_t **b, size_t *len)
{
    if (c->p->set.firewall_type == 1) {
        *b = c->praw + c->praw_off;
        *len = c->praw_len - c->praw_off;
    } else {
        *len = azr_socks_pending(&c->socks, b);
    }
    return *len > 0;
}

void azr_outbound_io(azr_conn *c, unsigned ev)
{
    const azr_settings *s = &c->p->set;
    char why[400], reason[AZR_HTTP_MAX_REASON];
    const uint8_t *b;
    size_t len, n;
    while (azr_outbound_pending(c, &b, &len)) {
        azr_err e = azr_net_write(c->rfd, b, len, &n);
        if (e == AZR_AGAIN)
            break;
        if (e != AZR_OK) {
            azr_conn_fail_io(c, "proxy write failed");
            return;
        }
        if (s->firewall_type == 1)
            c->praw_off += n;
        else
            azr_socks_sent(&c->socks, n);
    }
    if (!(ev & AZR_READABLE))
        return;
    uint8_t in[512];
    azr_err e = azr_net_read(c->rfd, in, sizeof in, &n);
    if (e == AZR_AGAIN)
        return;
    if (e == AZR_E_CLOSED) {
        snprintf(why, sizeof why, "proxy %s:%ld closed the connection during the handshake",
                 s->firewall_host, s->firewall_port);
        azr_conn_close(c, AZR_ERR_REFUSED, why, false);
        return;
    }
    if (e != AZR_OK) {
        azr_conn_fail_io(c, "proxy read failed");
        return;
    }
    size_t used;
    if (s->firewall_type == 1) {
        e = azr_http1_resp_feed(&c->resp, in, n, &used);
        if (e == AZR_AGAIN)
            return;
        if (e != AZR_OK) {
            snprintf(why, sizeof why, "proxy %s:%ld: not an HTTP answer to CONNECT (%s)",
                     s->firewall_host, s->firewall_port, c->resp.why);
            azr_conn_close(c, AZR_ERR_PROTOCOL, why, false);
            return;
        }
        azr_text_printable(c->resp.reason, c->resp.reason_len, 200, reason, sizeof reason);
        e = azr_http1_check_connect(&c->resp);
        if (e != AZR_OK) {
            snprintf(why, sizeof why, "proxy %.64s:%ld refused CONNECT to %.64s:%u: %d %.120s%s",
                     s->firewall_host, s->firewall_port, s->relay.host, (unsigned)s->relay.port,
                     c->resp.status, reason,
                     e != AZR_E_AUTH       ? ""
                     : s->firewall_user[0] ? " (check FirewallUser and FirewallPassword)"
                                           : " (set FirewallUser and FirewallPassword)");
            azr_conn_close(c, e == AZR_E_AUTH ? AZR_ERR_AUTH : AZR_ERR_REFUSED, why, false);
            return;
        }
    } else {
        e = azr_socks_feed(&c->socks, in, n, &used);
        if (e == AZR_AGAIN) {
            if (used < n) { /* cannot happen: the codec takes all it is given while waiting */
                azr_conn_close(c, AZR_ERR_PROTOCOL, "SOCKS proxy sent too much", false);
            } else if (azr_outbound_pending(c, &b, &len)) {
                azr_outbound_io(c, 0); /* the next request is due */
            }
            return;
        }
        if (e != AZR_OK) {
            snprintf(why, sizeof why, "SOCKS proxy %s:%ld: %s", s->firewall_host, s->firewall_port,
                     c->socks.why);
            azr_conn_close(c,
                           e == AZR_E_AUTH      ? AZR_ERR_AUTH
                           : e == AZR_E_REFUSED ? AZR_ERR_REFUSED
                                                : AZR_ERR_PROTOCOL,
                           why, false);
            return;
        }
        azr_socks_wipe(&c->socks);
    }
    azr_proxy_log(c->p, c->id, 2, "tunnel through %s:%ld open", s->firewall_host, s->firewall_port);
    azr_conn_after_proxy(c, in + used, n - used);
}
