/*
 * IMPLEMENTATION NOTES
 * Reaching the first hop (the relay, or FirewallHost when an outbound proxy
 * is set): the RESOLVE phase finds its addresses, CONNECTING opens TCP to
 * one of them.
 *  - Addresses are ordered as UseIPv6 says (0: IPv4 only, 1: IPv6 only,
 *    2: both, IPv6 first and the families interleaved, RFC 8305 §4), and
 *    addresses that failed lately (the proxy's `bad` list, 30 s) go last.
 *  - Happy Eyeballs (RFC 8305 §5): the first attempt starts at once, the
 *    next one 250 ms later if none has connected, or at once when one
 *    fails; all stay in flight until one connects, which wins and the rest
 *    are closed. An attempt that has not connected within a quarter of
 *    ConnectionTimeout (1 to 10 s) is given up and its address marked bad,
 *    so a relay address that silently drops SYNs does not strand the
 *    connection while another address answers.
 *  - When every address failed the verdict is RETRY: BACKOFF, then RESOLVE
 *    again (the names are looked up afresh), inside the dial budget.
 * The client is not read beyond its buffer until the relay is open.
 * Names never block: the resolver (resolver.c) answers through a callback
 * that records the outcome and runs the connection again; a name that does
 * not exist ends the connection (a setting to fix), a DNS server that does
 * not answer is one more failed attempt.
 */
#include "conn.h"
#include "stats.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/socket.h>

#define STAGGER_MS  250u
#define BAD_FOR_MS  30000u
#define ATTEMPT_MIN 1000u
#define ATTEMPT_MAX 10000u

/* "relay host:port" or "proxy host:port", for messages */
static void peer_name(const azr_conn *c, char *out, size_t cap)
{
    const azr_route *r = &c->p->route;
    if (r->kind != AZR_ROUTE_DIRECT)
        snprintf(out, cap, "proxy %s:%u", r->host, (unsigned)r->port);
    else
        snprintf(out, cap, "relay %s:%u", c->p->set.relay.host, (unsigned)c->p->set.relay.port);
}

azr_net_opts azr_dial_sock_opts(const azr_settings *s, bool client)
{
    azr_net_opts o = {.keep_alive = s->keep_alive,
                      .keep_idle_ms = s->keep_alive_time,
                      .keep_intvl_ms = s->keep_alive_interval,
                      .keep_cnt = s->keep_alive_retry_count,
                      /* towards the relay we write whole frames and records and
                       * coalesce ourselves: Nagle would only hold back the
                       * handshake's flights behind delayed ACKs */
                      .no_delay = client ? s->tcp_no_delay : true,
                      .linger = client ? s->linger : true,
                      .linger_secs = client ? s->linger_time : 0,
                      .rcvbuf = s->in_buffer_size,
                      .sndbuf = s->out_buffer_size};
    return o;
}

static const char *hop_host(const azr_proxy_state *p, uint16_t *port);

/* ------------------------------------------------------ recently failed */

static bool same_addr(const azr_sockaddr *a, const azr_sockaddr *b)
{
    return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static azr_dial_bad *bad_entry(azr_proxy_state *p, const azr_sockaddr *a)
{
    for (size_t i = 0; i < AZR_DIAL_BAD_MAX; i++)
        if (p->dial_bad[i].until && same_addr(&p->dial_bad[i].addr, a))
            return &p->dial_bad[i];
    return NULL;
}

static bool is_bad(azr_proxy_state *p, const azr_sockaddr *a, uint64_t now)
{
    const azr_dial_bad *b = bad_entry(p, a);
    return b && b->until > now;
}

static void mark_bad(azr_conn *c, const azr_sockaddr *a, int e)
{
    azr_proxy_state *p = c->p;
    uint64_t now = azr_conn_now(c);
    azr_dial_bad *b = bad_entry(p, a);
    for (size_t i = 0; !b && i < AZR_DIAL_BAD_MAX; i++)
        if (p->dial_bad[i].until <= now)
            b = &p->dial_bad[i];
    if (!b) /* full of fresh ones: replace the oldest */
        for (size_t i = 0; i < AZR_DIAL_BAD_MAX; i++)
            if (!b || p->dial_bad[i].until < b->until)
                b = &p->dial_bad[i];
    b->addr = *a;
    b->until = now + BAD_FOR_MS;
    char h[64];
    azr_net_addr_text(a, h, sizeof h, NULL);
    azr_proxy_log(p, c->id, 2, "address %s failed (%s): tried last for %u s", h, strerror(e),
                  BAD_FOR_MS / 1000u);
}

/* ------------------------------------------------------------ addresses */

static bool family_ok(int fam, long use_ipv6)
{
    return use_ipv6 == 0 ? fam == AF_INET : use_ipv6 == 1 ? fam == AF_INET6 : true;
}

void azr_dial_set_addrs(azr_conn *c, const azr_sockaddr *in, size_t n, uint16_t port)
{
    azr_hs *hs = c->hs;
    azr_proxy_state *p = c->p;
    uint64_t now = azr_conn_now(c);
    long v6 = p->set.use_ipv6;
    /* IPv6 first (UseIPv6 2), families alternating; fresh failures last */
    const int first = v6 == 0 ? AF_INET : AF_INET6;
    size_t out = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t i6 = 0, i4 = 0;
        bool want_bad = pass == 1;
        for (int turn = 0; out < AZR_DIAL_MAX_ADDRS && (i6 < n || i4 < n); turn ^= 1) {
            int fam = turn == 0 ? first : (first == AF_INET6 ? AF_INET : AF_INET6);
            size_t *k = fam == AF_INET6 ? &i6 : &i4;
            for (; *k < n; (*k)++) {
                azr_sockaddr a = in[*k];
                azr_net_set_port(&a, port);
                if (a.ss.ss_family == fam && family_ok(fam, v6) && is_bad(p, &a, now) == want_bad)
                    break;
            }
            if (*k < n) {
                hs->addrs[out] = in[*k];
                azr_net_set_port(&hs->addrs[out], port);
                out++;
                (*k)++;
            }
        }
    }
    hs->naddrs = out;
}

/* ------------------------------------------------------------- attempts */

/* The connected address, for the Connections list: "host:port", "[v6]:port". */
static void relay_addr_text(azr_conn *c, const azr_sockaddr *a)
{
    char h[48]; /* INET6_ADDRSTRLEN: "[h]:65535" fits relay_addr */
    uint16_t port;
    azr_net_addr_text(a, h, sizeof h, &port);
    bool v6 = strchr(h, ':') != NULL;
    snprintf(c->relay_addr, sizeof c->relay_addr, "%s%s%s:%u", v6 ? "[" : "", h, v6 ? "]" : "",
             (unsigned)port);
}

static void drop_attempt(azr_conn *c, size_t i)
{
    const azr_net_ops *net = c->p->net;
    azr_hs *hs = c->hs;
    azr_reactor_del(c->p->loop, hs->tries[i].fd);
    net->close(net->ud, hs->tries[i].fd, false);
    hs->tries[i] = hs->tries[--hs->ntries];
}

void azr_dial_cancel(azr_conn *c)
{
    while (c->hs && c->hs->ntries > 0)
        drop_attempt(c, c->hs->ntries - 1);
}

static uint64_t attempt_ms(const azr_conn *c)
{
    uint64_t t = (uint64_t)c->p->set.connection_timeout * 250u;
    return t < ATTEMPT_MIN ? ATTEMPT_MIN : t > ATTEMPT_MAX ? ATTEMPT_MAX : t;
}

/* All addresses failed: another attempt after a backoff, names afresh. */
static azr_verdict all_failed(azr_conn *c, int e)
{
    char name[300];
    peer_name(c, name, sizeof name);
    uint16_t port;
    azr_resolver_forget(c->p->resolver, hop_host(c->p, &port)); /* ask afresh next time */
    return azr_conn_retry(
        c, AZR_ERR_IO, "TCP connect to %s failed: %s (check %s)", name, strerror(e),
        c->p->set.firewall_type ? "FirewallHost and FirewallPort"
                                : "NamespaceAddress, and that this host may reach it on that port");
}

/* The next address's attempt, at once; WAIT while any is in flight. */
static azr_verdict start_next(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    azr_hs *hs = c->hs;
    while (hs->next_addr < hs->naddrs && hs->ntries < AZR_DIAL_MAX_TRIES) {
        const azr_sockaddr *a = &hs->addrs[hs->next_addr++];
        int fd = -1;
        azr_err e = p->net->connect(p->net->ud, a, &fd);
        if (e != AZR_OK && e != AZR_AGAIN) {
            hs->last_errno = errno;
            mark_bad(c, a, errno);
            if (c->phase == AZR_P_DEAD)
                return AZR_V_FAIL;
            continue;
        }
        azr_net_opts o = azr_dial_sock_opts(&p->set, false);
        if (p->net->set_opts(p->net->ud, fd, &o) != AZR_OK)
            azr_proxy_log(p, c->id, 2, "relay socket options not all applied: %s", strerror(errno));
        hs->tries[hs->ntries].fd = fd;
        hs->tries[hs->ntries].addr = hs->next_addr - 1;
        hs->tries[hs->ntries].started = azr_conn_now(c);
        hs->ntries++;
        if (azr_conn_watch(c, fd, AZR_WRITABLE) != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_IO, 0, true,
                                 "too many open descriptors for the event loop");
        if (azr_proxy_log_on(p, 2)) {
            char h[64], name[300];
            azr_net_addr_text(a, h, sizeof h, NULL);
            peer_name(c, name, sizeof name);
            azr_proxy_log(p, c->id, 2, "connecting to %s at %s", name, h);
        }
        break;
    }
    if (hs->ntries == 0)
        return all_failed(c, hs->last_errno ? hs->last_errno : EHOSTUNREACH);
    return AZR_V_WAIT;
}

/* When this phase wants to run again without I/O: the next stagger, or the
 * oldest attempt's end. */
static void plan_wake(azr_conn *c)
{
    azr_hs *hs = c->hs;
    uint64_t w = 0;
    if (hs->next_addr < hs->naddrs && hs->ntries > 0) {
        uint64_t newest = 0;
        for (size_t i = 0; i < hs->ntries; i++)
            if (hs->tries[i].started > newest)
                newest = hs->tries[i].started;
        w = newest + STAGGER_MS;
    }
    for (size_t i = 0; i < hs->ntries; i++) {
        uint64_t end = hs->tries[i].started + attempt_ms(c);
        if (!w || end < w)
            w = end;
    }
    hs->wake_at = w;
}

azr_verdict azr_dial_start(azr_conn *c)
{
    azr_hs *hs = c->hs;
    hs->next_addr = 0;
    hs->last_errno = 0;
    if (hs->naddrs == 0)
        return all_failed(c, EADDRNOTAVAIL);
    azr_verdict v = start_next(c);
    if (v == AZR_V_WAIT)
        plan_wake(c);
    return v;
}

azr_verdict azr_dial_step(azr_conn *c, int fd, unsigned ev)
{
    (void)ev;
    azr_hs *hs = c->hs;
    uint64_t now = azr_conn_now(c);
    for (size_t i = 0; fd >= 0 && i < hs->ntries; i++) {
        if (hs->tries[i].fd != fd)
            continue;
        if (c->p->net->connect_done(c->p->net->ud, fd) == AZR_OK) {
            c->rfd = fd; /* the winner: the others go */
            relay_addr_text(c, &hs->addrs[hs->tries[i].addr]);
            uint64_t won = hs->tries[i].started;
            hs->tries[i] = hs->tries[--hs->ntries];
            for (size_t j = 0; j < hs->ntries; j++)
                if (hs->tries[j].started < won)
                    mark_bad(c, &hs->addrs[hs->tries[j].addr], ETIMEDOUT);
            azr_dial_cancel(c);
            hs->wake_at = 0;
            return AZR_V_NEXT;
        }
        hs->last_errno = errno;
        size_t ai = hs->tries[i].addr;
        drop_attempt(c, i);
        mark_bad(c, &hs->addrs[ai], hs->last_errno); /* a log handler may end the connection */
        if (c->phase == AZR_P_DEAD)
            return AZR_V_FAIL;
        azr_verdict v = start_next(c); /* a failure starts the next one at once */
        if (v != AZR_V_WAIT)
            return v;
        break;
    }
    for (size_t i = 0; i < hs->ntries;) { /* attempts out of time */
        if (now >= hs->tries[i].started + attempt_ms(c)) {
            hs->last_errno = ETIMEDOUT;
            size_t ai = hs->tries[i].addr;
            drop_attempt(c, i);
            mark_bad(c, &hs->addrs[ai], ETIMEDOUT);
            if (c->phase == AZR_P_DEAD)
                return AZR_V_FAIL;
        } else {
            i++;
        }
    }
    if (hs->ntries == 0 || (hs->wake_at && now >= hs->wake_at)) {
        azr_verdict v = start_next(c);
        if (v != AZR_V_WAIT)
            return v;
    }
    plan_wake(c);
    return AZR_V_WAIT;
}

void azr_dial_interest(const azr_conn *c, unsigned *cm, unsigned *rm)
{
    (void)c; /* the attempts' sockets are watched as they start */
    *cm = 0;
    *rm = 0;
}

/* ------------------------------------------------------ retry, BACKOFF */

/* Exponential backoff with jitter: 100 ms doubling to 3.2 s, each drawn
 * from [d/2, d] so that clients cut off together do not return together. */
static uint64_t backoff_ms(azr_proxy_state *p, unsigned attempts)
{
    unsigned shift = attempts > 6 ? 5 : (attempts ? attempts - 1 : 0);
    uint64_t d = 100u << shift;
    uint16_t r;
    br_hmac_drbg_generate(&p->rng, &r, sizeof r);
    return d / 2 + (uint64_t)r % (d / 2 + 1);
}

azr_verdict azr_conn_retry(azr_conn *c, int status, const char *fmt, ...)
{
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (c->ending || !c->hs)
        return azr_conn_fail(c, status, 0, true, "%s", why);
    uint64_t now = azr_conn_now(c), delay = backoff_ms(c->p, c->hs->attempts);
    unsigned n = c->hs->attempts;
    if (now + delay >= c->dial_deadline)
        return azr_conn_fail(c, status, 0, true,
                             "%s (gave up after %u attempt%s in %ld s: ConnectionTimeout)", why, n,
                             n == 1 ? "" : "s", c->p->set.connection_timeout);
    snprintf(c->hs->retry_why, sizeof c->hs->retry_why, "%s", why);
    c->hs->retry_status = status;
    c->hs->backing_off = true;
    azr_stats_failed(c, status, true);
    c->hs->wake_at = now + delay;
    azr_proxy_log(c->p, c->id, 1, "attempt %u failed: %s; trying again in %llu ms", n, why,
                  (unsigned long long)delay);
    return AZR_V_RETRY;
}

/* BACKOFF's entry: the failed attempt's socket and transport state go; the
 * client and its bytes stay. */
azr_verdict azr_dial_backoff(azr_conn *c)
{
    const azr_net_ops *net = c->p->net;
    azr_dial_cancel(c);
    if (c->rfd >= 0) {
        azr_reactor_del(c->p->loop, c->rfd);
        net->close(net->ud, c->rfd, false);
        c->rfd = -1;
    }
    c->relay_eof = false;
    c->relay_addr[0] = '\0';
    if (c->tls)
        azr_xport_init_tls(&c->rx, &c->tls->cc.eng);
    else
        azr_xport_init(&c->rx, c->rx.in, c->rx.in_cap, c->rx.out, c->rx.out_cap);
    c->hs->praw_len = c->hs->praw_off = 0;
    c->hs->flight_len = c->hs->flight_off = 0; /* the cut attempt's flight is not the next one's */
    return AZR_V_WAIT;
}

azr_verdict azr_dial_backoff_step(azr_conn *c, int fd, unsigned ev)
{
    (void)fd, (void)ev;
    if (azr_conn_now(c) < c->hs->wake_at)
        return AZR_V_WAIT;
    c->hs->wake_at = 0;
    c->hs->backing_off = false;
    return AZR_V_NEXT;
}

/* ---------------------------------------------------------------- RESOLVE */

/* The first hop: FirewallHost when a proxy is set, else the relay. */
static const char *hop_host(const azr_proxy_state *p, uint16_t *port)
{
    if (p->route.kind != AZR_ROUTE_DIRECT) {
        *port = p->route.port;
        return p->route.host;
    }
    *port = p->set.relay.port;
    return p->set.relay.host;
}

/* SOCKS4 carries an IPv4 address and socks5:// asks us to resolve: the
 * relay's name is looked up here too, after the proxy's. */
static bool needs_target(const azr_proxy_state *p)
{
    return p->route.kind == AZR_ROUTE_SOCKS4 ||
           (p->route.kind == AZR_ROUTE_SOCKS5 && !p->route.remote_dns);
}

static void target_cb(void *ud, azr_resolve_req *req, const azr_resolve_result *res)
{
    azr_conn *c = ud;
    azr_hs *hs = c->hs;
    (void)req;
    azr_proxy_log(c->p, c->id, 3, "%s (the relay, for the SOCKS proxy)", res->reason);
    if (res->status == AZR_RES_OK && res->naddrs > 0) {
        azr_net_addr_text(&res->addrs[res->naddrs - 1], hs->target, sizeof hs->target, NULL);
        for (size_t i = 0; i < res->naddrs; i++) /* IPv4 first where there is one */
            if (res->addrs[i].ss.ss_family == AF_INET) {
                azr_net_addr_text(&res->addrs[i], hs->target, sizeof hs->target, NULL);
                break;
            }
    } else {
        hs->res_status = (int)res->status;
        snprintf(hs->res_why, sizeof hs->res_why, "%s (the relay's name, for the SOCKS proxy)",
                 res->reason);
    }
    hs->resolved = true;
    azr_conn_run(c);
}

static void resolved_cb(void *ud, azr_resolve_req *req, const azr_resolve_result *res)
{
    azr_conn *c = ud;
    azr_hs *hs = c->hs;
    uint16_t port;
    (void)req;
    (void)hop_host(c->p, &port);
    hs->res_status = (int)res->status;
    snprintf(hs->res_why, sizeof hs->res_why, "%s", res->reason);
    if (res->status == AZR_RES_OK)
        azr_dial_set_addrs(c, res->addrs, res->naddrs, port);
    azr_proxy_log(c->p, c->id, 3, "%s", res->reason);
    if (res->status == AZR_RES_OK && needs_target(c->p) &&
        azr_resolver_lookup(c->p->resolver, &hs->req, c->p->set.relay.host,
                            c->p->route.kind == AZR_ROUTE_SOCKS4 ? 0 : (int)c->p->set.use_ipv6,
                            target_cb, c) == AZR_OK)
        return; /* target_cb goes on */
    hs->resolved = true;
    azr_conn_run(c);
}

/* RESOLVE's entry: the first hop's addresses, from the resolver (literals,
 * the hosts file, its cache, or DNS); the step goes on once they are in. */
azr_verdict azr_dial_resolve(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    uint16_t port;
    const char *host = hop_host(p, &port);
    c->hs->resolved = false;
    c->hs->target[0] = '\0';
    c->hs->attempts++; /* a round: resolve, connect, and the handshakes */
    if (azr_resolver_lookup(p->resolver, &c->hs->req, host, (int)p->set.use_ipv6, resolved_cb, c) !=
        AZR_OK)
        return azr_conn_fail(c, AZR_ERR_SETTING, 0, true, "cannot look up '%s'", host);
    return AZR_V_WAIT;
}

azr_verdict azr_dial_resolved(azr_conn *c, int fd, unsigned ev)
{
    (void)fd, (void)ev;
    azr_hs *hs = c->hs;
    if (!hs->resolved)
        return AZR_V_WAIT;
    hs->resolved = false;
    const char *what =
        c->p->route.kind != AZR_ROUTE_DIRECT ? c->p->route.host_names : "NamespaceAddress";
    switch ((azr_resolve_status)hs->res_status) {
    case AZR_RES_OK:
        if (hs->naddrs > 0)
            return AZR_V_NEXT;
        return azr_conn_fail(c, AZR_ERR_IO, 0, true,
                             "%s, but none of the family UseIPv6=%ld allows", hs->res_why,
                             c->p->set.use_ipv6);
    case AZR_RES_NXDOMAIN:
    case AZR_RES_NOADDR:
    case AZR_RES_BADNAME:
        return azr_conn_fail(c, AZR_ERR_IO, 0, true, "%s (check %s)", hs->res_why, what);
    case AZR_RES_TIMEOUT:
    case AZR_RES_SERVFAIL:
    case AZR_RES_LIMIT:
    case AZR_RES_IO:
        break;
    }
    return azr_conn_retry(c, AZR_ERR_IO, "%s (check the nameservers in /etc/resolv.conf)",
                          hs->res_why);
}

void azr_dial_end(azr_conn *c)
{
    azr_dial_cancel(c);
    azr_resolver_cancel(c->p->resolver, &c->hs->req);
}

static void early_cb(void *ud, azr_resolve_req *req, const azr_resolve_result *res)
{
    azr_proxy_state *p = ud;
    (void)req;
    if (res->status == AZR_RES_OK)
        azr_proxy_log(p, 0, 2, "%s", res->reason);
    else
        azr_proxy_log(p, 0, -1, "warning: %s (each client's connection will look again)",
                      res->reason);
}

void azr_dial_lookup_early(azr_proxy_state *p)
{
    uint16_t port;
    const char *host = hop_host(p, &port);
    azr_resolver_cancel(p->resolver, &p->start_req);
    if (azr_resolver_lookup(p->resolver, &p->start_req, host, (int)p->set.use_ipv6, early_cb, p) !=
        AZR_OK)
        azr_proxy_log(p, 0, -1, "warning: cannot look up '%s'", host);
}
