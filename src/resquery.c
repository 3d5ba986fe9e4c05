/*
 * IMPLEMENTATION NOTES
 * One slot asks one (name, type). A try is: a fresh socket, connect() to
 * the server, a new random ID written into the query, one send, a timer of
 * resolv.conf's timeout. Try n goes to server (first + n) mod nservers, so
 * "attempts" rounds visit every server in order (glibc's res_send loop, its
 * exponential back-off left out: each try waits the timeout as written).
 *
 * What ends a try: the timer (no answer); an answer with an RCODE that says
 * "ask someone else" (SERVFAIL, REFUSED, NOTIMP, FORMERR); a refused port
 * (ECONNREFUSED on the connected socket, from ICMP); a failed TCP exchange.
 * What does not: a datagram that is not an answer to the question or does
 * not parse; it is counted and remembered for the reason, and the wait goes
 * on (RFC 5452 §9.1 asks to keep listening, so a forged datagram cannot
 * cut the wait short).
 *
 * TC=1 moves the same try to TCP (RFC 7766 §5): a non-blocking connect to
 * the same server, the query with its 2-byte length, the answer read whole
 * into the slot's buffer (AZR_DNS_TCP_MAX), under the same timeout. Sends
 * are tiny (under 300 bytes), so a partial TCP write is finished on
 * writability without a queue. A try never recurses into the next one:
 * next_try() loops, so a run of failing sockets costs a loop, not a stack.
 */
#include "resolver_priv.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static void close_fd(azr_resolver *r, azr_resq *q)
{
    if (q->fd >= 0) {
        azr_reactor_del(r->loop, q->fd);
        close(q->fd);
        q->fd = -1;
    }
}

void azr_resq_stop(azr_resolver *r, azr_resq *q)
{
    close_fd(r, q);
    azr_timer_cancel(r->loop, &q->timer);
    q->state = AZR_RESQ_FREE;
    q->waiters = NULL;
    q->nwait = 0;
    q->name[0] = '\0';
}

long azr_resq_find(const azr_resolver *r, const char *name, uint16_t qtype, uint32_t hash)
{
    for (size_t i = 0; i < r->nq; i++) {
        const azr_resq *q = &r->q[i];
        if (q->state != AZR_RESQ_FREE && q->hash == hash && q->qtype == qtype &&
            strcmp(q->name, name) == 0)
            return (long)i;
    }
    return -1;
}

static void server_text(const azr_resolver *r, size_t i, char *out, size_t cap)
{
    uint16_t port;
    azr_net_addr_text(azr_resolver_server(r, i), out, cap, &port);
}

static const char *family_name(uint16_t qtype)
{
    return qtype == AZR_DNS_TYPE_A ? "IPv4" : "IPv6";
}

/* The reason of a query whose every try failed, by what matters most. */
static void failure(azr_resolver *r, azr_resq *q, azr_res_outcome *o)
{
    char srv[INET6_ADDRSTRLEN], list[3 * (INET6_ADDRSTRLEN + 2)] = "";
    size_t ns = azr_resolver_nservers(r), shown = q->tries < ns ? q->tries : ns;
    memset(o, 0, sizeof *o);
    for (size_t k = 0, n = 0; k < shown; k++) {
        server_text(r, (q->first + k) % ns, srv, sizeof srv);
        n += azr_res_text(list + n, sizeof list - n, "%s%s", k ? ", " : "", srv);
    }
    unsigned att = r->conf.attempts;
    if (q->err_rcode) {
        server_text(r, q->err_server, srv, sizeof srv);
        o->st = AZR_RES_SERVFAIL;
        azr_res_text(o->reason, sizeof o->reason, "DNS: %s answered %s for %s (%s)%s", srv,
                     azr_dns_rcode_name(q->err_rcode), q->name, family_name(q->qtype),
                     q->timeouts ? "; the other servers did not answer" : "");
    } else if (q->timeouts) {
        o->st = AZR_RES_TIMEOUT;
        size_t w = azr_res_text(o->reason, sizeof o->reason,
                                "DNS: no answer from %s after %u attempt%s of %u s "
                                "(resolv.conf timeout/attempts) for %s (%s)",
                                list, att, att == 1 ? "" : "s", r->conf.timeout, q->name,
                                family_name(q->qtype));
        if (q->ignored)
            azr_res_text(o->reason + w, sizeof o->reason - w, "; ignored %u datagram%s: %s",
                         q->ignored, q->ignored == 1 ? "" : "s", q->ignored_why);
    } else {
        server_text(r, q->server, srv, sizeof srv);
        o->st = AZR_RES_IO;
        azr_res_text(o->reason, sizeof o->reason, "DNS: %s %s: %s (%s for %s)", q->err_what, srv,
                     q->err_errno ? strerror(q->err_errno) : "failed", family_name(q->qtype),
                     q->name);
    }
}

static void io_error(azr_resq *q, const char *what, int err)
{
    q->err_what = what;
    q->err_errno = err;
}

static void on_udp(azr_reactor *loop, int fd, unsigned ev, void *ud);
static void on_tcp(azr_reactor *loop, int fd, unsigned ev, void *ud);
static void on_timer(azr_reactor *loop, azr_timer *t, void *ud);

static int new_socket(int family, int type)
{
#ifdef SOCK_NONBLOCK
    return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    int fd = socket(family, type, 0);
    if (fd >= 0 && (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
#endif
}

/* Start the next try. False when none is left: o then holds the failure. */
static bool next_try(azr_resolver *r, azr_resq *q, azr_res_outcome *o)
{
    size_t ns = azr_resolver_nservers(r);
    for (;;) {
        close_fd(r, q);
        azr_timer_cancel(r->loop, &q->timer);
        if (q->tries >= r->conf.attempts * ns) {
            failure(r, q, o);
            return false;
        }
        q->server = (q->first + q->tries++) % ns;
        const azr_sockaddr *sa = azr_resolver_server(r, q->server);
        uint16_t id = azr_resolver_random16(r);
        q->query[0] = (uint8_t)(id >> 8);
        q->query[1] = (uint8_t)id;
        q->fd = new_socket(sa->ss.ss_family, SOCK_DGRAM);
        if (q->fd < 0) {
            io_error(q, "cannot open a UDP socket to", errno);
            continue;
        }
        if (connect(q->fd, (const struct sockaddr *)&sa->ss, sa->len) != 0) {
            io_error(q, "cannot connect a UDP socket to", errno);
            continue;
        }
        if (azr_reactor_set(r->loop, q->fd, AZR_READABLE, on_udp, q) != AZR_OK) {
            io_error(q, "no room in the reactor for a socket to", EMFILE);
            continue;
        }
        if (send(q->fd, q->query, q->qlen, MSG_NOSIGNAL) != (ssize_t)q->qlen) {
            io_error(q, "cannot send a query to", errno);
            continue;
        }
        r->stats.udp_sent++;
        if (azr_timer_arm(r->loop, &q->timer, (uint64_t)r->conf.timeout * 1000u, on_timer, q) !=
            AZR_OK) {
            io_error(q, "no timer left in the reactor for", 0);
            continue;
        }
        q->state = AZR_RESQ_UDP;
        return true;
    }
}

static void advance(azr_resolver *r, azr_resq *q)
{
    azr_res_outcome o;
    if (!next_try(r, q, &o))
        azr_resolver_query_done(r, q, &o, 0);
}

static uint32_t neg_ttl(const azr_dns_answer *a)
{
    if (!a->neg_ttl_set)
        return AZR_RES_NEG_TTL_NO_SOA;
    return a->neg_ttl < AZR_RES_NEG_TTL_MAX ? a->neg_ttl : AZR_RES_NEG_TTL_MAX;
}

/* A well-formed answer to the question, not truncated. */
static void answered(azr_resolver *r, azr_resq *q, const azr_dns_answer *a)
{
    azr_res_outcome o;
    char srv[INET6_ADDRSTRLEN];
    uint32_t ttl;
    if (a->rcode != AZR_DNS_NOERROR && a->rcode != AZR_DNS_NXDOMAIN) {
        q->err_rcode = a->rcode;
        q->err_server = q->server;
        advance(r, q); /* the next server may do better */
        return;
    }
    memset(&o, 0, sizeof o);
    server_text(r, q->server, srv, sizeof srv);
    if (a->rcode == AZR_DNS_NXDOMAIN) {
        o.st = AZR_RES_NXDOMAIN;
        azr_res_text(o.reason, sizeof o.reason, "DNS: %s does not exist (NXDOMAIN from %s)",
                     q->name, srv);
        ttl = neg_ttl(a);
    } else if (a->naddr == 0) {
        o.st = AZR_RES_NOADDR;
        azr_res_text(o.reason, sizeof o.reason,
                     "DNS: %s has no %s address (NOERROR without %s from %s)", q->name,
                     family_name(q->qtype), q->qtype == AZR_DNS_TYPE_A ? "A" : "AAAA", srv);
        ttl = neg_ttl(a);
    } else {
        o.st = AZR_RES_OK;
        o.naddr = (uint8_t)a->naddr;
        memcpy(o.addr, a->addr, sizeof o.addr);
        azr_res_text(o.reason, sizeof o.reason, "%s", srv); /* the server, for the success text */
        ttl = a->ttl < AZR_RES_TTL_MAX ? a->ttl : AZR_RES_TTL_MAX;
    }
    o.ttl = ttl;
    azr_resolver_query_done(r, q, &o, ttl);
}

static void start_tcp(azr_resolver *r, azr_resq *q)
{
    const azr_sockaddr *sa = azr_resolver_server(r, q->server);
    close_fd(r, q);
    r->stats.tcp_queries++;
    q->fd = new_socket(sa->ss.ss_family, SOCK_STREAM);
    if (q->fd < 0) {
        io_error(q, "cannot open a TCP socket (the answer was truncated) to", errno);
        advance(r, q);
        return;
    }
    if (connect(q->fd, (const struct sockaddr *)&sa->ss, sa->len) != 0 && errno != EINPROGRESS) {
        io_error(q, "cannot connect over TCP (the answer was truncated) to", errno);
        advance(r, q);
        return;
    }
    q->buf[0] = (uint8_t)(q->qlen >> 8);
    q->buf[1] = (uint8_t)q->qlen;
    memcpy(q->buf + 2, q->query, q->qlen);
    q->out_off = q->in_len = 0;
    q->state = AZR_RESQ_TCP_CONNECT;
    if (azr_reactor_set(r->loop, q->fd, AZR_WRITABLE, on_tcp, q) != AZR_OK ||
        azr_timer_arm(r->loop, &q->timer, (uint64_t)r->conf.timeout * 1000u, on_timer, q) !=
            AZR_OK) {
        io_error(q, "no room in the reactor for a TCP socket to", 0);
        advance(r, q);
    }
}

static void on_udp(azr_reactor *loop, int fd, unsigned ev, void *ud)
{
    azr_resq *q = ud;
    azr_resolver *r = q->r;
    (void)loop;
    (void)ev;
    for (int n = 0; n < 64; n++) { /* a flood of junk cannot keep the loop here */
        ssize_t got = recv(fd, q->buf, AZR_DNS_TCP_MAX, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            io_error(q,
                     errno == ECONNREFUSED ? "no DNS server listens on port 53 of"
                                           : "cannot receive from",
                     errno);
            advance(r, q);
            return;
        }
        azr_dns_answer a;
        if (azr_dns_answer_parse(q->buf, (size_t)got, q->query, q->qlen, &a) != AZR_OK) {
            q->ignored++;
            q->ignored_why = a.why;
            r->stats.ignored++;
            continue;
        }
        if (a.tc)
            start_tcp(r, q);
        else
            answered(r, q, &a);
        return;
    }
}

static void on_tcp(azr_reactor *loop, int fd, unsigned ev, void *ud)
{
    azr_resq *q = ud;
    azr_resolver *r = q->r;
    (void)ev;
    if (q->state == AZR_RESQ_TCP_CONNECT) {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
            err = errno;
        if (err) {
            io_error(q, "cannot connect over TCP (the answer was truncated) to", err);
            advance(r, q);
            return;
        }
        q->state = AZR_RESQ_TCP_IO;
    }
    size_t total = q->qlen + 2;
    while (q->out_off < total) {
        ssize_t w = send(fd, q->buf + q->out_off, total - q->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w <= 0) {
            io_error(q, "cannot send a query over TCP to", errno);
            advance(r, q);
            return;
        }
        q->out_off += (size_t)w;
        if (q->out_off == total && azr_reactor_set(loop, fd, AZR_READABLE, on_tcp, q) != AZR_OK) {
            io_error(q, "no room in the reactor for a TCP socket to", 0);
            advance(r, q);
            return;
        }
    }
    for (;;) {
        size_t need = q->in_len < 2 ? 2 : 2u + ((size_t)q->buf[0] << 8 | q->buf[1]);
        if (q->in_len == 2 && need - 2 > AZR_DNS_TCP_MAX) {
            io_error(q, "an answer over TCP larger than 8192 bytes came from", 0);
            advance(r, q);
            return;
        }
        if (q->in_len == need)
            break;
        ssize_t got = recv(fd, q->buf + q->in_len, need - q->in_len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (got <= 0) {
            io_error(q,
                     got == 0 ? "the TCP connection closed before the answer was whole, from"
                              : "cannot receive over TCP from",
                     got == 0 ? 0 : errno);
            advance(r, q);
            return;
        }
        q->in_len += (size_t)got;
    }
    azr_dns_answer a;
    if (azr_dns_answer_parse(q->buf + 2, q->in_len - 2, q->query, q->qlen, &a) != AZR_OK) {
        r->stats.ignored++;
        q->ignored++;
        q->ignored_why = a.why;
        io_error(q, "a bad answer over TCP came from", 0);
        advance(r, q);
    } else if (a.tc) {
        io_error(q, "an answer truncated even over TCP came from", 0);
        advance(r, q);
    } else {
        answered(r, q, &a);
    }
}

static void on_timer(azr_reactor *loop, azr_timer *t, void *ud)
{
    azr_resq *q = ud;
    (void)loop;
    (void)t;
    q->timeouts++;
    q->r->stats.timeouts++;
    advance(q->r, q);
}

azr_err azr_resq_start(azr_resolver *r, const char *name, uint16_t qtype, size_t *slot,
                       azr_res_outcome *o)
{
    azr_resq *q = NULL;
    for (size_t i = 0; i < r->nq && !q; i++)
        if (r->q[i].state == AZR_RESQ_FREE) {
            q = &r->q[i];
            *slot = i;
        }
    if (!q)
        return AZR_E_LIMIT;
    const char *why;
    uint8_t *buf = q->buf;
    memset(q, 0, sizeof *q);
    q->buf = buf;
    q->r = r;
    q->fd = -1;
    q->qtype = qtype;
    if (azr_dns_query_encode(q->query, sizeof q->query, &q->qlen, 0, name, qtype, &why) != AZR_OK)
        return AZR_E_ARG; /* the caller checked the name */
    memcpy(q->name, name, strlen(name) + 1);
    q->hash = azr_rescache_hash(name, qtype);
    size_t ns = azr_resolver_nservers(r);
    q->first = r->conf.rotate ? (unsigned)(r->rotate_next++ % ns) : 0;
    q->state = AZR_RESQ_UDP;
    if (!next_try(r, q, o)) {
        azr_resq_stop(r, q);
        return AZR_E_IO;
    }
    return AZR_OK;
}
