/*
 * IMPLEMENTATION NOTES
 * Accepting: up to 16 clients per wakeup. Each gets a slot in the table,
 * an id (1..INT_MAX, wrapping), and its connection is started. The ceiling
 * is MaxConnections, or what the descriptor limit leaves after the
 * descriptors the process held when listening started; a client over it is
 * accepted and closed at once (the backlog would only make it wait).
 *
 * Out of descriptors (EMFILE, ENFILE) or memory (ENOBUFS, ENOMEM), accept()
 * fails while the client stays in the backlog, so a level-triggered loop
 * would call it again at once, forever. Instead accepting pauses: the
 * listening socket leaves the loop and a timer brings it back (or the next
 * connection that ends, since that frees descriptors). The log says so once
 * per minute, with a count of what it did not repeat.
 *
 * Connections that end become DEAD during dispatch and are freed by a task
 * after it, so an event handler may call anything in the API (Shutdown,
 * Reset, Disconnect) without a connection being freed under its caller.
 */
#include "listener.h"
#include "conn.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#define ACCEPT_PAUSE_MS 250
#define LOG_EVERY_MS    60000
#define FD_RESERVE      16 /* for CA files, key logs, the daemon's own needs */
#define FD_TABLE_MAX    1048576

size_t azr_listener_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit up = rl;
        up.rlim_cur = rl.rlim_max;
        if (up.rlim_cur == RLIM_INFINITY || up.rlim_cur > FD_TABLE_MAX)
            up.rlim_cur = FD_TABLE_MAX;
        if (up.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl.rlim_cur = up.rlim_cur;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_TABLE_MAX)
        return FD_TABLE_MAX;
    return (size_t)rl.rlim_cur;
}

/* Descriptors the process holds already: the lowest free number is a fair
 * (never low) estimate for a process that opened them at start. */
static size_t fds_in_use(void)
{
    int fd = dup(0);
    if (fd < 0)
        fd = dup(2);
    if (fd < 0)
        return 3;
    close(fd);
    return (size_t)fd;
}

azr_err azr_listener_prepare(azr_proxy_state *p, char *err, size_t cap)
{
    if (p->conns)
        return AZR_OK;
    size_t fds = azr_listener_fd_limit();
    size_t used = fds_in_use() + FD_RESERVE;
    size_t room = fds > used ? (fds - used) / 2 : 1;
    size_t want = p->set.max_connections > 0 ? (size_t)p->set.max_connections : room;
    if (want > room) {
        azr_proxy_log(p, 0, 1,
                      "warning: MaxConnections=%ld but the descriptor limit (%zu, %zu in use) "
                      "allows %zu: using %zu",
                      p->set.max_connections, fds, used - FD_RESERVE, room, room);
        want = room;
    }
    p->max_conns = want ? want : 1;
    p->conns = calloc(p->max_conns, sizeof *p->conns);
    if (!p->conns) {
        snprintf(err, cap, "out of memory");
        return AZR_E_NOMEM;
    }
    /* every timer belongs to a descriptor's owner, so max_fds timers never run out */
    azr_err e = p->loop
                    ? AZR_OK
                    : azr_reactor_new(&p->loop, fds, fds + 64, (azr_backend_kind)p->set.event_loop);
    if (e != AZR_OK) {
        free(p->conns);
        p->conns = NULL;
        snprintf(err, cap, "cannot create the event loop: %s",
                 e == AZR_E_UNSUPPORTED ? "EventLoop not available on this platform"
                                        : strerror(errno));
        return e;
    }
    if (!p->resolver && !(p->resolver = azr_resolver_new(p->loop, NULL))) {
        free(p->conns);
        p->conns = NULL;
        snprintf(err, cap, "cannot set up name resolution: out of memory");
        return AZR_E_NOMEM;
    }
    azr_proxy_log(p, 0, 2, "up to %zu connections (descriptor limit %zu)", p->max_conns, fds);
    return AZR_OK;
}

/* ------------------------------------------------------------------ reaping */

static void reap_cb(azr_reactor *r, azr_task *t, void *ud);
static void resume_cb(azr_reactor *r, azr_timer *t, void *ud);
static void accept_cb(azr_reactor *r, int fd, unsigned ev, void *ud);

void azr_listener_reap(azr_proxy_state *p)
{
    for (size_t i = 0; p->conns && i < p->max_conns; i++) {
        azr_conn *c = p->conns[i];
        if (c && c->phase == AZR_P_DEAD) {
            p->conns[i] = NULL;
            p->nconns--;
            azr_conn_free(c);
        }
    }
    azr_certload_reap(p, false); /* TLS material replaced while handshakes used it */
}

static void reap_cb(azr_reactor *r, azr_task *t, void *ud)
{
    (void)r;
    (void)t;
    azr_proxy_state *p = ud;
    azr_listener_reap(p);
    if (p->accept_paused) /* descriptors came free: try again now */
        resume_cb(p->loop, &p->accept_timer, p);
}

void azr_listener_conn_ended(azr_proxy_state *p)
{
    azr_task_queue(p->loop, &p->reap, reap_cb, p);
}

int azr_listener_next_id(azr_proxy_state *p)
{
    /* ids stay positive ints, and one still in use is never handed out twice */
    int id;
    do {
        id = p->next_id;
        p->next_id = p->next_id == INT_MAX ? 1 : p->next_id + 1;
    } while (azr_listener_find(p, id));
    return id;
}

azr_conn *azr_listener_find(const azr_proxy_state *p, int id)
{
    for (size_t i = 0; p->conns && i < p->max_conns; i++)
        if (p->conns[i] && p->conns[i]->id == id && p->conns[i]->phase != AZR_P_DEAD)
            return p->conns[i];
    return NULL;
}

/* ---------------------------------------------------------------- accepting */

/* One log line per LOG_EVERY_MS for a repeating condition. */
static bool log_due(azr_proxy_state *p, uint64_t *at, unsigned *missed)
{
    uint64_t now = azr_reactor_now(p->loop);
    if (*at && now - *at < LOG_EVERY_MS) {
        (*missed)++;
        return false;
    }
    *at = now ? now : 1;
    return true;
}

static void pause_accepting(azr_proxy_state *p, int err)
{
    if (log_due(p, &p->fd_log_at, &p->fd_log_missed)) {
        azr_proxy_log(p, 0, -1,
                      "accept failed: %s; accepting paused (%zu connections open%s; "
                      "raise the descriptor limit or lower MaxConnections)",
                      strerror(err), p->nconns,
                      p->fd_log_missed ? ", and more failures since the last line" : "");
        p->fd_log_missed = 0;
        if (p->ev.error)
            p->ev.error(p->ud, 0, AZR_ERR_IO, "accept failed: out of descriptors");
    }
    if (p->lfd < 0)
        return;
    p->accept_paused = true;
    if (azr_reactor_set(p->loop, p->lfd, 0, accept_cb, p) != AZR_OK ||
        azr_timer_arm(p->loop, &p->accept_timer, ACCEPT_PAUSE_MS, resume_cb, p) != AZR_OK)
        azr_proxy_log(p, 0, -1, "cannot pause accepting");
}

static void resume_cb(azr_reactor *r, azr_timer *t, void *ud)
{
    (void)r;
    azr_proxy_state *p = ud;
    azr_timer_cancel(p->loop, t);
    if (!p->accept_paused || p->lfd < 0)
        return;
    p->accept_paused = false;
    if (azr_reactor_set(p->loop, p->lfd, AZR_READABLE, accept_cb, p) != AZR_OK)
        azr_proxy_log(p, 0, -1, "cannot resume accepting");
}

static void take(azr_proxy_state *p, int cfd, const azr_sockaddr *peer)
{
    char host[64];
    uint16_t port;
    azr_net_addr_text(peer, host, sizeof host, &port);
    int accept = 1;
    if (p->ev.connection_request)
        p->ev.connection_request(p->ud, host, port, &accept);
    if (!accept) {
        p->stats.refused_connection_request++;
        azr_proxy_log(p, 0, 1, "connection from %s:%u refused by ConnectionRequest", host,
                      (unsigned)port);
        close(cfd);
        return;
    }
    size_t slot = p->max_conns;
    for (size_t k = 0; p->conns && k < p->max_conns; k++)
        if (!p->conns[k]) {
            slot = k;
            break;
        }
    azr_conn *c = NULL;
    if (slot == p->max_conns || azr_conn_open(p, cfd, peer, &c) != AZR_OK) {
        if (slot == p->max_conns)
            p->stats.refused_max_connections++;
        else
            p->stats.refused_no_memory++;
        if (log_due(p, &p->limit_log_at, &p->limit_log_missed)) {
            azr_proxy_log(p, 0, -1,
                          "connection from %s:%u refused: %s (%u more since the last line)", host,
                          (unsigned)port,
                          slot == p->max_conns ? "connection limit reached (MaxConnections)"
                                               : "out of memory",
                          p->limit_log_missed);
            p->limit_log_missed = 0;
        }
        azr_net_close(cfd, true);
        return;
    }
    c->id = azr_listener_next_id(p);
    c->slot = slot;
    p->conns[slot] = c;
    p->nconns++;
    p->nopen++;
    p->stats.accepted++;
    azr_proxy_log(p, c->id, 1, "client %s:%u connected", host, (unsigned)port);
    azr_conn_start(c);
}

static void accept_cb(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)r;
    (void)ev;
    azr_proxy_state *p = ud;
    /* a handler may stop listening (or shut down): stop when the socket changed */
    for (int i = 0; i < 16 && p->lfd == fd && !p->accept_paused; i++) {
        int cfd;
        azr_sockaddr peer;
        azr_err e = azr_net_accept(fd, &cfd, &peer);
        if (e == AZR_AGAIN)
            return;
        if (e != AZR_OK) {
            int err = errno;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
                pause_accepting(p, err);
            else if (log_due(p, &p->fd_log_at, &p->fd_log_missed))
                azr_proxy_log(p, 0, -1, "accept failed: %s", strerror(err));
            return;
        }
        take(p, cfd, &peer);
    }
}

/*
 * The listening socket. LocalHost names the address (resolved for the
 * families UseIPv6 allows); an empty one is the wildcard of UseIPv6's
 * families: 0 IPv4 only, 1 IPv6 only, 2 both on one dual-stack socket, or
 * IPv4 alone where the kernel has no IPv6.
 */
static azr_err listen_socket(azr_proxy_state *p, uint16_t *bound, char *err, size_t cap)
{
    azr_sockaddr addr;
    char why[256];
    uint16_t port = (uint16_t)p->set.local_port;
    int backlog = (int)p->set.connection_backlog;
    long v6 = p->set.use_ipv6;
    p->lfd = -1;
    if (p->set.local_host[0]) {
        if (azr_net_resolve(p->set.local_host, port, (int)v6, true, &addr, why, sizeof why) !=
            AZR_OK) {
            snprintf(err, cap, "LocalHost: %s%s", why,
                     v6 == 0   ? " (UseIPv6 is 0: IPv4 addresses only)"
                     : v6 == 1 ? " (UseIPv6 is 1: IPv6 addresses only)"
                               : "");
            return AZR_E_IO;
        }
        if (azr_net_listen_v6(&addr, v6 == 1, backlog, &p->lfd, bound) == AZR_OK)
            return AZR_OK;
    } else if (v6 == 0) {
        azr_net_any(AF_INET, port, &addr);
        if (azr_net_listen(&addr, backlog, &p->lfd, bound) == AZR_OK)
            return AZR_OK;
    } else {
        azr_net_any(AF_INET6, port, &addr);
        if (azr_net_listen_v6(&addr, v6 == 1, backlog, &p->lfd, bound) == AZR_OK)
            return AZR_OK;
        if (v6 == 2 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
            azr_proxy_log(p, 0, 1, "no IPv6 on this host (%s): listening on IPv4 only",
                          strerror(errno));
            azr_net_any(AF_INET, port, &addr);
            if (azr_net_listen(&addr, backlog, &p->lfd, bound) == AZR_OK)
                return AZR_OK;
        }
    }
    snprintf(err, cap, "cannot listen on %s:%ld: %s",
             p->set.local_host[0] ? p->set.local_host : "*", p->set.local_port, strerror(errno));
    return AZR_E_IO;
}

azr_err azr_listener_start(azr_proxy_state *p, char *err, size_t cap)
{
    uint16_t bound;
    if (listen_socket(p, &bound, err, cap) != AZR_OK)
        return AZR_E_IO;
    if (azr_reactor_set(p->loop, p->lfd, AZR_READABLE, accept_cb, p) != AZR_OK) {
        close(p->lfd);
        p->lfd = -1;
        snprintf(err, cap, "cannot register the listening socket");
        return AZR_E_IO;
    }
    p->accept_paused = false;
    p->set.local_port = bound;
    p->set.listening = true;
    return AZR_OK;
}

void azr_listener_stop(azr_proxy_state *p)
{
    if (p->lfd >= 0) {
        azr_reactor_del(p->loop, p->lfd);
        close(p->lfd);
        p->lfd = -1;
        azr_proxy_log(p, 0, 1, "stopped listening");
    }
    if (p->loop)
        azr_timer_cancel(p->loop, &p->accept_timer);
    if (p->resolver)
        azr_resolver_cancel(p->resolver, &p->start_req);
    p->accept_paused = false;
    p->set.listening = false;
}
