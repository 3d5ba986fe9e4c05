/*
 * IMPLEMENTATION NOTES
 * The CONNECTING phase: a TCP connection to the relay, or to FirewallHost
 * when an outbound proxy is set. The client is not read until the relay is
 * open (its bytes wait in TCP, or in the TLS engine).
 */
#include "conn.h"

#include <errno.h>

/* "relay host:port" or "proxy host:port", for messages */
static void peer_name(const azr_conn *c, char *out, size_t cap)
{
    const azr_settings *s = &c->p->set;
    if (s->firewall_type)
        snprintf(out, cap, "proxy %s:%ld", s->firewall_host, s->firewall_port);
    else
        snprintf(out, cap, "relay %s:%u", s->relay.host, (unsigned)s->relay.port);
}

azr_net_opts azr_dial_sock_opts(const azr_settings *s, bool client)
{
    azr_net_opts o = {.keep_alive = s->keep_alive,
                      .keep_idle_ms = s->keep_alive_time,
                      .keep_intvl_ms = s->keep_alive_interval,
                      .keep_cnt = s->keep_alive_retry_count,
                      .no_delay = s->tcp_no_delay,
                      .linger = client ? s->linger : true,
                      .linger_secs = client ? s->linger_time : 0,
                      .rcvbuf = s->in_buffer_size,
                      .sndbuf = s->out_buffer_size};
    return o;
}

/* A TCP connect failed: the hop, the cause and what to check; another
 * attempt may fare better (a listener restarting, a flaky uplink). */
static azr_verdict connect_failed(azr_conn *c, int e)
{
    char name[300];
    peer_name(c, name, sizeof name);
    return azr_conn_retry(
        c, AZR_ERR_IO, "TCP connect to %s failed: %s (check %s)", name, strerror(e),
        c->p->set.firewall_type ? "FirewallHost and FirewallPort"
                                : "NamespaceAddress, and that this host may reach it on that port");
}

azr_verdict azr_dial_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    char err[256], name[300];
    bool via = p->set.firewall_type != 0;
    azr_sockaddr *addr = via ? &p->proxy_addr : &p->relay_addr;
    bool *resolved = via ? &p->proxy_resolved : &p->relay_resolved;
    peer_name(c, name, sizeof name);
    if (!*resolved) {
        /* blocking resolution: at the first connection and after a failure only */
        azr_err e = via ? azr_net_resolve(p->set.firewall_host, (uint16_t)p->set.firewall_port,
                                          (int)p->set.use_ipv6, false, addr, err, sizeof err)
                        : azr_net_resolve(p->set.relay.host, p->set.relay.port,
                                          (int)p->set.use_ipv6, false, addr, err, sizeof err);
        if (e != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_IO, 0, true, "%s", err);
        *resolved = true;
    }
    azr_err e = p->net->connect(p->net->ud, addr, &c->rfd);
    c->hs->attempts++;
    if (e != AZR_OK && e != AZR_AGAIN) {
        *resolved = false;
        return connect_failed(c, errno);
    }
    azr_net_opts o = azr_dial_sock_opts(&p->set, false);
    if (p->net->set_opts(p->net->ud, c->rfd, &o) != AZR_OK)
        azr_proxy_log(p, c->id, 2, "relay socket options not all applied: %s", strerror(errno));
    azr_proxy_log(p, c->id, 2, "connecting to %s", name);
    return AZR_V_WAIT;
}

azr_verdict azr_dial_step(azr_conn *c, int fd, unsigned ev)
{
    (void)ev;
    if (fd < 0 || fd != c->rfd)
        return AZR_V_WAIT;
    if (c->p->net->connect_done(c->p->net->ud, c->rfd) != AZR_OK) {
        int e = errno;
        if (c->p->set.firewall_type)
            c->p->proxy_resolved = false;
        else
            c->p->relay_resolved = false;
        return connect_failed(c, e);
    }
    return AZR_V_NEXT;
}

void azr_dial_interest(const azr_conn *c, unsigned *cm, unsigned *rm)
{
    (void)c;
    *cm = 0;
    *rm = AZR_WRITABLE;
}
