/*
 * IMPLEMENTATION NOTES
 * The lifecycle of one client <-> relay pair. A connection owns two sockets
 * and one block of buffers (allocated when the client is accepted), plus a
 * handshake block (hs: parsers, proxy handshakes, the certificate check)
 * allocated when it starts and freed when the WebSocket opens.
 *
 * Phases, in order (skipped ones as the settings say), as the table
 * `phases` below lists them with their deadlines:
 *   ACCEPTED                   not started yet
 *   LOCAL_TLS  (SSLEnabled)    the client's handshake        ConnectionTimeout
 *   BACKOFF    (a retry)       waiting to dial again          \
 *   CONNECTING                 TCP to the relay or proxy       |
 *   PROXY      (FirewallType)  CONNECT / SOCKS                 | one dial budget:
 *   TLS        (wss://)        the relay's handshake           | ConnectionTimeout
 *   UPGRADE                    request out, 101 in            |
 *   PREAMBLE   (PortName)      azbridge's preamble, answer    /
 *   OPEN                       splice.c, half-closes          IdleTimeout, Timeout,
 *                                                             keep-alive, HalfCloseTimeout
 *   DEAD                       torn down, reaped after dispatch by the owner
 * Each phase has an entry and a step (the phase modules: ltls.c, dial.c,
 * outbound.c, rtls.c, upgrade.c, splice.c) that return a verdict: WAIT,
 * NEXT (enter the next phase), RETRY (this attempt at the relay failed:
 * BACKOFF, then dial again while the budget lasts), FAIL or DONE. While
 * the relay is dialled a plain client is only looked at (peek: its bytes
 * wait in its socket) and a TLS client read into its engine, so its leaving
 * ends the dial at once. Only this file closes: end() sends what the relay
 * should still hear (our close frame, TLS close_notify) best effort, resets
 * the client when the stream was cut (abort) or sends FIN when it was not,
 * and fires exactly one Disconnected. Events may call back into the API
 * (even Shutdown): nothing is freed during dispatch, and every step checks
 * for DEAD after anything that can run an event.
 * Deadlines (one timer per connection) are deadline.c's.
 */
#include "conn.h"
#include "pages.h"
#include "stats.h"
#include "text.h"

#include <errno.h>
#include <stdarg.h>

static void io_cb(azr_reactor *r, int fd, unsigned ev, void *ud);
static void more_cb(azr_reactor *r, azr_task *t, void *ud);
static void drive(azr_conn *c, int fd, unsigned ev);
static void end(azr_conn *c);

uint64_t azr_conn_now(const azr_conn *c)
{
    return azr_reactor_now(c->p->loop);
}

azr_verdict azr_conn_fail(azr_conn *c, int status, uint16_t ws_code, bool abort, const char *fmt,
                          ...)
{
    if (c->ending)
        return AZR_V_FAIL; /* the first verdict wins */
    c->ending = true;
    c->status = status;
    c->end_code = ws_code;
    c->abort_client = abort;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    azr_stats_failed(c, status, false);
    return AZR_V_FAIL;
}

azr_verdict azr_conn_fail_errno(azr_conn *c, const char *what)
{
    int e = errno;
    return azr_conn_fail(c, AZR_ERR_IO, AZR_WS_CLOSE_GOING_AWAY, true, "%.200s: %.100s", what,
                         strerror(e));
}

void azr_conn_key_log(azr_conn *c, const br_ssl_engine_context *eng)
{
    const char *path = c->p->set.ssl_key_log_file;
    char err[320];
    if (path[0] && azr_tls_keylog_append(path, eng, err, sizeof err) != AZR_OK)
        azr_proxy_log(c->p, c->id, 1, "%s", err);
}

void azr_conn_ssl_status(azr_conn *c, const char *fmt, ...)
{
    if (!c->p->ev.ssl_status && !azr_proxy_log_on(c->p, 2))
        return; /* nobody reads it: no formatting per handshake */
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    azr_proxy_log(c->p, c->id, 2, "%s", msg);
    if (c->p->ev.ssl_status)
        c->p->ev.ssl_status(c->p->ud, c->id, msg);
}

/* ------------------------------------------------------------------ phases */

/* Bytes that came after the proxy's answer (in hs->praw) belong to the
 * layer the tunnel carries: the relay's TLS, or the upgrade's answer. */
static azr_verdict hand_on_tunnel_rest(azr_conn *c)
{
    const uint8_t *rest = c->hs->praw + c->hs->praw_off;
    size_t len = c->hs->praw_len - c->hs->praw_off;
    c->hs->praw_len = c->hs->praw_off = 0;
    while (len > 0) {
        size_t room;
        uint8_t *b = azr_xport_recvrec_buf(&c->rx, &room);
        if (room == 0)
            return azr_conn_fail(c, AZR_ERR_PROTOCOL, 0, true,
                                 "relay sent more than expected after the proxy tunnel opened");
        size_t n = len < room ? len : room;
        memcpy(b, rest, n);
        azr_xport_recvrec_ack(&c->rx, n);
        rest += n;
        len -= n;
    }
    return AZR_V_WAIT;
}

static void hs_free(azr_conn *c)
{
    if (c->hs) {
        azr_dial_end(c);
        azr_outbound_end(c);
        azr_socks_wipe(&c->hs->socks);
        azr_tls_creds_free(&c->hs->alt);
        azr_pages_free(&c->p->pages, c->hs, c->hs_size); /* its secrets go with its pages */
        c->hs = NULL;
    }
}

/* OPEN's entry: the handshakes' state (and any credentials in it) is done. */
static azr_verdict open_ws(azr_conn *c)
{
    hs_free(c);
    azr_certload_reap(c->p, false); /* TLS material set aside while this handshake ran */
    c->last_relay = c->last_client = c->last_io = azr_conn_now(c);
    azr_rate_init(&c->rate_up, (uint64_t)c->p->set.max_transfer_rate, c->last_io);
    azr_rate_init(&c->rate_down, (uint64_t)c->p->set.max_transfer_rate_in, c->last_io);
    c->connected_fired = true;
    azr_stats_opened(c);
    azr_proxy_log(c->p, c->id, 1, "relay connection open for %s:%d", c->remote_host,
                  c->remote_port);
    if (c->p->ev.connected)
        c->p->ev.connected(c->p->ud, c->id, 0, "relay: 101 Switching Protocols");
    return AZR_V_WAIT;
}

/* ------------------------------------------------------------ phase steps */

static azr_verdict step_proxy(azr_conn *c, int fd, unsigned ev)
{
    return azr_outbound_step(c, fd >= 0 && fd == c->rfd ? ev : 0u);
}

/* ----------------------------------------------------- phase interests */

/* Read only when the transport takes records (level-triggered readiness
 * with nobody reading would spin), write when it has records. */
static unsigned xport_interest(const azr_xport *x)
{
    unsigned st = azr_xport_state(x);
    return ((st & AZR_X_RECVREC) ? AZR_READABLE : 0u) | ((st & AZR_X_SENDREC) ? AZR_WRITABLE : 0u);
}

static void want_local_tls(const azr_conn *c, unsigned *cm, unsigned *rm)
{
    *cm = xport_interest(&c->cx) | (azr_conn_flight_pending(c, true) ? AZR_WRITABLE : 0u);
    *rm = 0;
}

static void want_proxy(const azr_conn *c, unsigned *cm, unsigned *rm)
{
    *cm = 0;
    *rm = AZR_READABLE | (azr_outbound_pending(c) ? AZR_WRITABLE : 0u);
}

static void want_relay_handshake(const azr_conn *c, unsigned *cm, unsigned *rm)
{
    *cm = 0;
    *rm = xport_interest(&c->rx) | (azr_conn_flight_pending(c, false) ? AZR_WRITABLE : 0u);
}

/* --------------------------------------------------------- the phase table */

static bool with_port_name(const azr_conn *c)
{
    return c->p->set.port_name[0] != '\0';
}

static bool retrying(const azr_conn *c)
{
    return c->hs && c->hs->backing_off;
}

static bool with_local_tls(const azr_conn *c)
{
    return c->ltls != NULL;
}

static bool with_proxy(const azr_conn *c)
{
    return c->p->route.kind != AZR_ROUTE_DIRECT;
}

static bool with_relay_tls(const azr_conn *c)
{
    return c->tls != NULL;
}

/* One row per phase, in order: whether it runs for this connection, what
 * entering it does, its step after I/O, the socket events it waits for, and
 * the deadline it runs under (deadline.c). A phase whose deadline differs
 * from the one before starts that deadline afresh. */
typedef struct phase_def {
    const char *doing; /* "during ..." in timeout reasons */
    bool (*wanted)(const azr_conn *c);
    azr_verdict (*enter)(azr_conn *c);
    azr_verdict (*step)(azr_conn *c, int fd, unsigned ev);
    void (*interest)(const azr_conn *c, unsigned *cm, unsigned *rm);
    azr_deadline deadline;
} phase_def;

static azr_verdict step_start(azr_conn *c, int fd, unsigned ev)
{
    (void)c, (void)fd, (void)ev;
    return AZR_V_NEXT;
}

static void want_none(const azr_conn *c, unsigned *cm, unsigned *rm)
{
    (void)c;
    *cm = *rm = 0;
}

static const phase_def phases[AZR_P_DEAD] = {
    [AZR_P_ACCEPTED] = {"the start", NULL, NULL, step_start, want_none, AZR_DL_NONE},
    [AZR_P_LOCAL_TLS] = {"the client's TLS handshake", with_local_tls, azr_ltls_start,
                         azr_ltls_step, want_local_tls, AZR_DL_CLIENT_HANDSHAKE},
    [AZR_P_BACKOFF] = {"the wait before trying again", retrying, azr_dial_backoff,
                       azr_dial_backoff_step, want_none, AZR_DL_DIAL},
    [AZR_P_RESOLVE] = {"the name lookup", NULL, azr_dial_resolve, azr_dial_resolved, want_none,
                       AZR_DL_DIAL},
    [AZR_P_CONNECTING] = {"the TCP connect", NULL, azr_dial_start, azr_dial_step, azr_dial_interest,
                          AZR_DL_DIAL},
    [AZR_P_PROXY] = {"the proxy handshake", with_proxy, azr_outbound_start, step_proxy, want_proxy,
                     AZR_DL_DIAL},
    [AZR_P_TLS] = {"the TLS handshake", with_relay_tls, azr_rtls_start, azr_rtls_step,
                   want_relay_handshake, AZR_DL_DIAL},
    [AZR_P_UPGRADE] = {"the WebSocket upgrade", NULL, azr_upgrade_send, azr_upgrade_step,
                       want_relay_handshake, AZR_DL_DIAL},
    [AZR_P_PREAMBLE] = {"the azbridge preamble", with_port_name, azr_preamble_send,
                        azr_preamble_step, want_relay_handshake, AZR_DL_DIAL},
    [AZR_P_OPEN] = {"the open connection", NULL, open_ws, azr_splice_step, azr_splice_interest,
                    AZR_DL_OPEN},
};

azr_deadline azr_conn_deadline_kind(const azr_conn *c)
{
    return c->phase < AZR_P_DEAD ? phases[c->phase].deadline : AZR_DL_NONE;
}

const char *azr_conn_doing(const azr_conn *c)
{
    return c->phase < AZR_P_DEAD ? phases[c->phase].doing : "the end";
}

/* Enter the first phase from `from` on that this connection runs (an
 * entry that failed an attempt, RETRY, enters BACKOFF). The new phase's
 * step runs next: it may have work already. */
static azr_verdict enter_from(azr_conn *c, azr_phase from)
{
    for (int guard = 0; guard < 2 * AZR_P_DEAD; guard++) {
        azr_phase ph = from;
        while (ph < AZR_P_DEAD && phases[ph].wanted && !phases[ph].wanted(c))
            ph++;
        if (ph == AZR_P_DEAD)
            return AZR_V_WAIT; /* not reached: OPEN always runs */
        azr_deadline before = phases[c->phase].deadline;
        c->phase = ph;
        if (phases[ph].deadline != before)
            c->dial_deadline =
                phases[ph].deadline == AZR_DL_OPEN
                    ? 0
                    : azr_conn_now(c) + (uint64_t)c->p->set.connection_timeout * 1000u;
        azr_verdict v = phases[ph].enter(c);
        if (c->phase == AZR_P_DEAD)
            return AZR_V_FAIL;
        if (v == AZR_V_RETRY) {
            from = AZR_P_BACKOFF; /* its entry is never done at once */
            continue;
        }
        if (v != AZR_V_FAIL && c->hs && c->hs->praw_len > c->hs->praw_off && ph > AZR_P_PROXY)
            v = hand_on_tunnel_rest(c);
        return v;
    }
    return azr_conn_fail(c, AZR_ERR_STATE, 0, true, "phases did not settle");
}

/* dial.c's attempts: their readiness comes here like the two sockets'. */
azr_err azr_conn_watch(azr_conn *c, int fd, unsigned mask)
{
    return azr_reactor_set(c->p->loop, fd, mask, io_cb, c);
}

static void update_interest(azr_conn *c)
{
    unsigned cm = 0, rm = 0;
    if (c->phase == AZR_P_DEAD)
        return;
    phases[c->phase].interest(c, &cm, &rm);
    if (phases[c->phase].deadline == AZR_DL_DIAL && !c->client_eof &&
        (c->ltls ? (azr_xport_state(&c->cx) & AZR_X_RECVREC) != 0 : !c->client_ready))
        cm |= AZR_READABLE; /* its bytes wait (its engine, its socket), its leaving is seen */
    if (azr_reactor_set(c->p->loop, c->cfd, cm, io_cb, c) != AZR_OK ||
        (c->rfd >= 0 && azr_reactor_set(c->p->loop, c->rfd, rm, io_cb, c) != AZR_OK)) {
        (void)azr_conn_fail(c, AZR_ERR_IO, AZR_WS_CLOSE_INTERNAL, true,
                            "too many open descriptors for the event loop");
        end(c);
    }
}

/* After a step or an entry: wait (interest and timer from state), go on,
 * or end. */
static void settle(azr_conn *c, azr_verdict v)
{
    if (c->phase == AZR_P_DEAD)
        return;
    if (v == AZR_V_FAIL || v == AZR_V_DONE) {
        end(c);
        return;
    }
    update_interest(c);
    if (c->phase == AZR_P_DEAD)
        return;
    if (azr_splice_work_left(c)) /* the budget ran out: go on in this turn, after others */
        azr_task_queue(c->p->loop, &c->more, more_cb, c);
    azr_conn_rearm(c);
}

/* While the relay is dialled a plain client is not read (its bytes wait in
 * its socket: back-pressure) but looked at, so one who leaves ends the dial
 * at once; a TLS client is read into its engine (never further). A FIN
 * after some bytes is a half-close, delivered once the relay is open. */
static azr_verdict watch_client(azr_conn *c, int fd, unsigned ev)
{
    if (fd < 0 || fd != c->cfd || !(ev & AZR_READABLE))
        return AZR_V_WAIT;
    c->not_relay = true; /* what goes wrong here is the client's, not the relay's */
    size_t held = 0;
    if (c->ltls) {
        azr_verdict v = azr_conn_read(c, true);
        c->not_relay = false;
        if (v == AZR_V_FAIL)
            return AZR_V_FAIL;
        (void)azr_xport_recvapp_buf(&c->cx, &held);
    } else {
        azr_err e = c->p->net->peek(c->p->net->ud, c->cfd);
        if (e == AZR_OK)
            c->client_ready = true; /* read once open; not watched meanwhile */
        else if (e == AZR_E_CLOSED)
            c->client_eof = true;
        else if (e != AZR_AGAIN)
            return azr_conn_fail_errno(c, errno == ECONNRESET ? "client reset the connection"
                                                              : "client read failed");
        c->not_relay = false;
    }
    c->not_relay = c->client_eof && held == 0;
    if (c->not_relay)
        return azr_conn_fail(c, 0, c->phase == AZR_P_PREAMBLE ? AZR_WS_CLOSE_GOING_AWAY : 0, false,
                             "client left during %s, before the relay was open", azr_conn_doing(c));
    return AZR_V_WAIT;
}

/* Run steps until the connection waits, then interest and timer from state. */
static void drive(azr_conn *c, int fd, unsigned ev)
{
    azr_verdict v = AZR_V_WAIT;
    if (phases[c->phase].deadline == AZR_DL_DIAL && watch_client(c, fd, ev) == AZR_V_FAIL) {
        settle(c, AZR_V_FAIL);
        return;
    }
    for (int guard = 0; guard < 16 && c->phase != AZR_P_DEAD; guard++) {
        v = phases[c->phase].step(c, fd, ev);
        fd = -1;
        ev = 0;
        if (c->phase == AZR_P_DEAD)
            return;
        if (v == AZR_V_NEXT)
            v = enter_from(c, (azr_phase)(c->phase + 1));
        else if (v == AZR_V_RETRY)
            v = enter_from(c, AZR_P_BACKOFF);
        else
            break;
        if (v != AZR_V_WAIT && v != AZR_V_NEXT)
            break;
        v = AZR_V_WAIT; /* the new phase may have work already (bytes buffered) */
    }
    settle(c, v);
}

static void io_cb(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)r;
    azr_conn *c = ud;
    if (c->phase != AZR_P_DEAD)
        drive(c, fd, ev);
}

static void more_cb(azr_reactor *r, azr_task *t, void *ud)
{
    (void)r;
    (void)t;
    azr_conn *c = ud;
    if (c->phase != AZR_P_DEAD)
        drive(c, -1, 0);
}

/* ----------------------------------------------------------------- opening */

static size_t align_up(size_t n)
{
    size_t al = _Alignof(max_align_t);
    return (n + al - 1) / al * al;
}

#define RELAY_OUT_CAP (AZR_CONN_IO_BUF + AZR_WS_MAX_HDR)

azr_err azr_conn_open(azr_proxy_state *p, int cfd, const azr_sockaddr *peer, azr_conn **out)
{
    /* one block: the client side's TLS (a plain client needs no buffer:
     * splice.c reads and writes its socket straight), then the relay side
     * (plaintext buffers, or its TLS) */
    size_t al = _Alignof(max_align_t);
    /* the engines' buffers are set later (after the dial, maybe after
     * retries) from this, not from the setting then */
    size_t tls_out = azr_tls_out_size(p);
    size_t client = p->local_tls ? sizeof(azr_ltls) + BR_SSL_BUFSIZE_INPUT + tls_out : 0;
    size_t r0 = align_up(client);
    size_t mem = r0 + (p->set.relay.tls ? sizeof(azr_rtls) + BR_SSL_BUFSIZE_INPUT + tls_out
                                        : AZR_CONN_IO_BUF + RELAY_OUT_CAP);
    /* zero pages from the kernel (pages.h): the buffers' pages are touched
     * only as bytes arrive, so an idle connection costs what it uses, and
     * its pages go back when the connection ends */
    size_t block = sizeof(azr_conn) + mem + al;
    azr_conn *c = azr_pages_alloc(&p->pages, block);
    *out = NULL;
    if (!c)
        return AZR_E_NOMEM;
    c->block_size = block;
    c->tls_out = tls_out;
    c->p = p;
    c->cfd = cfd;
    c->rfd = -1;
    uint8_t *m = c->mem;
    size_t skew = (size_t)((uintptr_t)m % al);
    if (skew)
        m += al - skew;
    if (p->local_tls) {
        c->ltls = (azr_ltls *)(void *)m;
        azr_xport_init_tls(&c->cx, &c->ltls->sc.eng);
    } else {
        azr_xport_init(&c->cx, NULL, 0, NULL, 0); /* splice.c: its socket, straight */
    }
    if (p->set.relay.tls) {
        c->tls = (azr_rtls *)(void *)(m + r0);
        azr_xport_init_tls(&c->rx, &c->tls->cc.eng);
    } else {
        azr_xport_init(&c->rx, m + r0, AZR_CONN_IO_BUF, m + r0 + AZR_CONN_IO_BUF, RELAY_OUT_CAP);
    }
    azr_ws_dec_init(&c->dec, 0, p->set.strict_utf8);
    c->idle_timeout = p->set.default_idle_timeout;
    c->timeout = p->set.default_timeout;
    uint16_t port;
    azr_net_addr_text(peer, c->remote_host, sizeof c->remote_host, &port);
    c->remote_port = port;
    azr_sockaddr local;
    if (azr_net_local(cfd, &local) == AZR_OK)
        azr_net_addr_text(&local, c->local_addr, sizeof c->local_addr, NULL);
    c->last_client = c->last_relay = c->last_io = c->opened_at = azr_reactor_now(p->loop);
    *out = c;
    return AZR_OK;
}

/* The handshake block's size: the leaf's room only where a validator keeps
 * it (SSLAuthenticateClients hands it to the event; SSLSecurityFlags 0x1
 * reads its dates). */
static size_t hs_size(const azr_conn *c)
{
    const azr_proxy_state *p = c->p;
    bool leaf = (p->local_tls && p->set.ssl_authenticate_clients) ||
                (p->set.relay.tls && (c->sec_flags & 0x1u));
    return leaf ? sizeof(azr_hs) : offsetof(azr_hs, leaf);
}

void azr_conn_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    if (c->phase == AZR_P_DEAD)
        return; /* ended by a handler of the accept's own log line */
    azr_net_opts o = azr_dial_sock_opts(&p->set, true);
    if (p->net->set_opts(p->net->ud, c->cfd, &o) != AZR_OK)
        azr_proxy_log(p, c->id, 2, "client socket options not all applied: %s", strerror(errno));
    /* the relay's TLS starts after the dial (maybe after retries): it
     * keeps to the flags its block was sized for, whatever
     * azr_proxy_config says in between */
    c->sec_flags = p->set.ssl_security_flags;
    c->hs_size = hs_size(c);
    c->hs = azr_pages_alloc(&p->pages, c->hs_size);
    if (!c->hs) {
        settle(c, azr_conn_fail(c, AZR_ERR_NOMEM, 0, true, "out of memory"));
        return;
    }
    drive(c, -1, 0); /* ACCEPTED's step: on to the first phase */
}

/* ----------------------------------------------------------------- closing */

/* Write what one side's transport holds, as far as the socket takes it now:
 * no waiting, no verdict (the connection is ending anyway). */
static void write_now(azr_conn *c, bool client)
{
    const azr_net_ops *net = c->p->net;
    azr_xport *x = client ? &c->cx : &c->rx;
    if (!client && !azr_burst_flush_now(c))
        return; /* the bulk path's records go first, or nothing does */
    for (int i = 0; i < 8; i++) {
        size_t len, n;
        const uint8_t *b = azr_xport_sendrec_buf(x, &len);
        if (len == 0 || net->write(net->ud, client ? c->cfd : c->rfd, b, len, &n) != AZR_OK)
            break;
        azr_xport_sendrec_ack(x, n);
    }
}

/* What the relay should still hear, best effort and without waiting: our
 * close frame (with the code the verdict chose), then TLS close_notify. */
static void relay_last_words(azr_conn *c)
{
    if (c->rfd < 0 || c->relay_eof || c->phase < AZR_P_TLS)
        return; /* nothing of ours is on that wire yet */
    if (c->phase == AZR_P_OPEN || c->phase == AZR_P_PREAMBLE) { /* the WebSocket is open */
        if (c->end_code)
            (void)azr_ws_ctrlq_close(&c->ctrl, c->end_code, c->reason);
        azr_splice_ctrl_out(c);
    }
    azr_xport_flush(&c->rx);
    if (c->tls)
        br_ssl_engine_close(&c->tls->cc.eng);
    write_now(c, false);
}

/* A clean end towards a TLS client: close_notify, best effort. */
static void client_last_words(azr_conn *c)
{
    if (!c->ltls || c->phase != AZR_P_OPEN || c->client_notify)
        return;
    br_ssl_engine_close(&c->ltls->sc.eng);
    write_now(c, true);
}

void azr_conn_run(azr_conn *c)
{
    if (c->phase != AZR_P_DEAD)
        drive(c, -1, 0);
}

void azr_conn_end(azr_conn *c)
{
    end(c);
}

static void end(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    const azr_net_ops *net = p->net;
    if (c->phase == AZR_P_DEAD)
        return;
    relay_last_words(c);
    if (!c->abort_client)
        client_last_words(c);
    c->phase = AZR_P_DEAD;
    p->nopen--;
    azr_timer_cancel(p->loop, &c->timer);
    azr_task_cancel(p->loop, &c->more);
    if (c->cfd >= 0) {
        azr_reactor_del(p->loop, c->cfd);
        net->close(net->ud, c->cfd, c->abort_client);
        c->cfd = -1;
    }
    if (c->rfd >= 0) {
        azr_reactor_del(p->loop, c->rfd);
        net->close(net->ud, c->rfd, false);
        c->rfd = -1;
    }
    azr_burst_release(c);
    /* an event handler may end the connection from inside a handshake step
     * (a log line, a certificate check) that goes on with the block when
     * the handler returns: the attempts' sockets and the lookup go now, the
     * block (and the secrets in it) at reaping, azr_conn_free */
    if (c->hs)
        azr_dial_end(c);
    /* one line says it all: who, how long, how much, why */
    uint64_t age = azr_reactor_now(p->loop) - c->opened_at;
    bool v6 = strchr(c->remote_host, ':') != NULL;
    azr_proxy_log(p, c->id, c->status ? -1 : 1,
                  "disconnected (%d): %s (peer %s%s%s:%d, %llu.%03u s, %llu bytes in, %llu out)",
                  c->status, c->reason, v6 ? "[" : "", c->remote_host, v6 ? "]" : "",
                  c->remote_port, (unsigned long long)(age / 1000u), (unsigned)(age % 1000u),
                  (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out);
    if (!c->connected_fired) {
        c->connected_fired = true;
        if (p->ev.connected)
            p->ev.connected(p->ud, c->id, c->status ? c->status : AZR_ERR_CLOSE, c->reason);
    }
    if (p->ev.disconnected)
        p->ev.disconnected(p->ud, c->id, c->status, c->reason);
    azr_listener_conn_ended(p);
}

void azr_conn_close(azr_conn *c, int status, const char *reason, bool going_away)
{
    if (c->phase == AZR_P_DEAD)
        return;
    c->not_relay = true; /* the application's (or the daemon's) decision */
    (void)azr_conn_fail(c, status, going_away ? AZR_WS_CLOSE_GOING_AWAY : AZR_WS_CLOSE_INTERNAL,
                        !going_away && status != 0, "%s", reason);
    end(c);
}

void azr_conn_free(azr_conn *c)
{
    azr_burst_release(c);
    hs_free(c);
    azr_pages_free(&c->p->pages, c, c->block_size);
}
