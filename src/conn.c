/*
 * IMPLEMENTATION NOTES
 * The lifecycle of one client <-> relay pair. A connection owns two sockets
 * and one block of buffers (allocated when the client is accepted), plus a
 * handshake block (hs) that lives only until the WebSocket opens.
 *
 * Phases, in order (skipped ones as the settings say):
 *   LOCAL_TLS  (SSLEnabled)    the client's handshake        ConnectionTimeout
 *   CONNECTING                 TCP to the relay or proxy      \
 *   PROXY      (FirewallType)  CONNECT / SOCKS                 | one dial budget:
 *   TLS        (wss://)        the relay's handshake           | ConnectionTimeout
 *   UPGRADE                    request out, 101 in            /
 *   OPEN                       splice.c, half-closes          IdleTimeout, Timeout,
 *                                                             keep-alive, HalfCloseTimeout
 *   DEAD                       torn down, reaped after dispatch by the owner
 * Each phase has a step (the phase modules: ltls.c, outbound.c, rtls.c,
 * upgrade.c, splice.c) that returns a verdict: WAIT, NEXT (enter the next
 * phase), FAIL or DONE. Only this file closes: end() sends what the relay
 * should still hear (our close frame, TLS close_notify) best effort, resets
 * the client when the stream was cut (abort) or sends FIN when it was not,
 * and fires exactly one Disconnected. Events may call back into the API
 * (even Shutdown): nothing is freed during dispatch, and every step checks
 * for DEAD after anything that can run an event.
 * Deadlines (one timer per connection) are deadline.c's.
 */
#include "conn.h"
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

/* --------------------------------------------------------------- socket I/O */

azr_verdict azr_conn_read(azr_conn *c, bool client)
{
    const azr_net_ops *net = c->p->net;
    azr_xport *x = client ? &c->cx : &c->rx;
    size_t room, n;
    if (client ? c->client_eof : c->relay_eof)
        return AZR_V_WAIT;
    uint8_t *b = azr_xport_recvrec_buf(x, &room);
    if (room == 0)
        return AZR_V_WAIT;
    azr_err e = net->read(net->ud, client ? c->cfd : c->rfd, b, room, &n);
    if (e == AZR_OK) {
        uint64_t now = azr_conn_now(c);
        azr_xport_recvrec_ack(x, n);
        c->last_io = now;
        if (client) {
            c->last_client = now;
        } else {
            c->last_relay = now;
            if (c->ping == AZR_PING_ON_WIRE)
                c->ping = AZR_PING_NONE; /* any frame from the relay counts as life */
        }
    } else if (e == AZR_E_CLOSED) {
        if (client)
            c->client_eof = true;
        else
            c->relay_eof = true;
    } else if (e != AZR_AGAIN) {
        if (client)
            return azr_conn_fail_errno(c, errno == ECONNRESET ? "client reset the connection"
                                                              : "client read failed");
        c->relay_eof = true; /* nothing more can be sent there */
        return azr_conn_fail(c, AZR_ERR_IO, 0, true, "relay connection lost: %s", strerror(errno));
    }
    return AZR_V_WAIT;
}

azr_verdict azr_conn_flush(azr_conn *c, bool client)
{
    const azr_net_ops *net = c->p->net;
    azr_xport *x = client ? &c->cx : &c->rx;
    azr_xport_flush(x);
    for (int i = 0; i < 4; i++) {
        size_t len, n;
        const uint8_t *b = azr_xport_sendrec_buf(x, &len);
        if (len == 0)
            break;
        azr_err e = net->write(net->ud, client ? c->cfd : c->rfd, b, len, &n);
        if (e == AZR_AGAIN)
            break;
        if (e != AZR_OK) {
            if (client)
                return azr_conn_fail_errno(c, "client write failed");
            c->relay_eof = true;
            return azr_conn_fail(c, AZR_ERR_IO, 0, true, "relay write failed: %s", strerror(errno));
        }
        azr_xport_sendrec_ack(x, n);
        c->last_io = azr_conn_now(c);
        if (client)
            c->last_client = c->last_io;
    }
    if (!client && c->ping == AZR_PING_QUEUED && azr_ws_ctrlq_next(&c->ctrl) != AZR_WS_PING &&
        !azr_splice_output_pending(c, false)) {
        c->ping = AZR_PING_ON_WIRE; /* the pong deadline starts now */
        c->ping_sent_at = azr_conn_now(c);
    }
    return AZR_V_WAIT;
}

/* ------------------------------------------------------------------ phases */

/* "relay host:port" or "proxy host:port", for messages */
static void peer_name(const azr_conn *c, char *out, size_t cap)
{
    const azr_settings *s = &c->p->set;
    if (s->firewall_type)
        snprintf(out, cap, "proxy %s:%ld", s->firewall_host, s->firewall_port);
    else
        snprintf(out, cap, "relay %s:%u", s->relay.host, (unsigned)s->relay.port);
}

static azr_net_opts sock_opts(const azr_settings *s, bool client)
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

/* Dial the relay (or FirewallHost): the client is not read until the relay
 * is open (its bytes wait in TCP, or in the TLS engine). */
static azr_verdict dial(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    char err[256], name[300];
    bool via = p->set.firewall_type != 0;
    azr_sockaddr *addr = via ? &p->proxy_addr : &p->relay_addr;
    bool *resolved = via ? &p->proxy_resolved : &p->relay_resolved;
    peer_name(c, name, sizeof name);
    c->hs = calloc(1, sizeof *c->hs);
    if (!c->hs)
        return azr_conn_fail(c, AZR_ERR_NOMEM, 0, true, "out of memory");
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
    if (e != AZR_OK && e != AZR_AGAIN) {
        *resolved = false;
        char what[320];
        snprintf(what, sizeof what, "cannot reach %s", name);
        return azr_conn_fail_errno(c, what);
    }
    azr_net_opts o = sock_opts(&p->set, false);
    if (p->net->set_opts(p->net->ud, c->rfd, &o) != AZR_OK)
        azr_proxy_log(p, c->id, 2, "relay socket options not all applied: %s", strerror(errno));
    c->phase = AZR_P_CONNECTING;
    c->dial_deadline = azr_conn_now(c) + (uint64_t)p->set.connection_timeout * 1000u;
    azr_proxy_log(p, c->id, 2, "connecting to %s", name);
    return AZR_V_WAIT;
}

/* The tunnel (or the direct connection) is open: TLS or the upgrade next;
 * bytes that came after the proxy's answer (in hs->praw) belong to it. */
static azr_verdict tunnel_open(azr_conn *c)
{
    azr_verdict v;
    if (c->tls) {
        v = azr_rtls_start(c);
        c->phase = AZR_P_TLS;
    } else {
        v = azr_upgrade_send(c);
        c->phase = AZR_P_UPGRADE;
    }
    const uint8_t *rest = c->hs->praw + c->hs->praw_off;
    size_t len = c->hs->praw_len - c->hs->praw_off;
    while (v != AZR_V_FAIL && len > 0) {
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
    c->hs->praw_len = c->hs->praw_off = 0;
    return v == AZR_V_FAIL ? v : AZR_V_WAIT;
}

static void hs_free(azr_conn *c)
{
    if (c->hs) {
        azr_socks_wipe(&c->hs->socks);
        azr_wipe(c->hs, sizeof *c->hs);
        free(c->hs);
        c->hs = NULL;
    }
}

static azr_verdict open_ws(azr_conn *c)
{
    hs_free(c); /* the handshake's state (and any credentials in it) is done */
    c->phase = AZR_P_OPEN;
    c->dial_deadline = 0;
    c->last_relay = c->last_client = c->last_io = azr_conn_now(c);
    c->connected_fired = true;
    azr_proxy_log(c->p, c->id, 1, "relay connection open for %s:%d", c->remote_host,
                  c->remote_port);
    if (c->p->ev.connected)
        c->p->ev.connected(c->p->ud, c->id, 0, "relay: 101 Switching Protocols");
    return AZR_V_WAIT;
}

/* The current phase's step, after a socket event (fd, ev) or none (-1, 0). */
static azr_verdict step(azr_conn *c, int fd, unsigned ev)
{
    bool relay_ev = fd >= 0 && fd == c->rfd, client_ev = fd >= 0 && fd == c->cfd;
    azr_verdict v = AZR_V_WAIT;
    switch (c->phase) {
    case AZR_P_LOCAL_TLS:
        if (client_ev && (ev & AZR_READABLE))
            v = azr_conn_read(c, true);
        if (v != AZR_V_FAIL)
            v = azr_conn_flush(c, true);
        return v == AZR_V_FAIL ? v : azr_ltls_step(c);
    case AZR_P_CONNECTING:
        if (!relay_ev)
            return AZR_V_WAIT;
        if (c->p->net->connect_done(c->p->net->ud, c->rfd) != AZR_OK) {
            char what[320], name[300];
            if (c->p->set.firewall_type)
                c->p->proxy_resolved = false;
            else
                c->p->relay_resolved = false;
            peer_name(c, name, sizeof name);
            snprintf(what, sizeof what, "cannot reach %s", name);
            return azr_conn_fail_errno(c, what);
        }
        return AZR_V_NEXT;
    case AZR_P_PROXY:
        return azr_outbound_step(c, relay_ev ? ev : 0u);
    case AZR_P_TLS: {
        if (relay_ev && (ev & AZR_READABLE))
            v = azr_conn_read(c, false);
        if (v != AZR_V_FAIL)
            v = azr_conn_flush(c, false);
        if (v == AZR_V_FAIL)
            return v;
        unsigned st = azr_xport_state(&c->rx);
        if (st & AZR_X_CLOSED)
            return azr_rtls_failed(c);
        if (c->relay_eof)
            return azr_conn_fail(c, AZR_ERR_TLS, 0, true,
                                 "relay closed the connection during the TLS handshake");
        if (!(st & AZR_X_SENDAPP))
            return AZR_V_WAIT;
        azr_rtls_established(c);
        return AZR_V_NEXT;
    }
    case AZR_P_UPGRADE:
        if (relay_ev && (ev & AZR_READABLE))
            v = azr_conn_read(c, false);
        if (v == AZR_V_FAIL)
            return v;
        if (azr_xport_state(&c->rx) & AZR_X_CLOSED)
            return azr_rtls_failed(c);
        if (azr_conn_flush(c, false) == AZR_V_FAIL)
            return AZR_V_FAIL;
        return azr_upgrade_step(c);
    case AZR_P_OPEN:
        if (relay_ev && (ev & AZR_READABLE))
            v = azr_conn_read(c, false);
        if (client_ev && (ev & AZR_READABLE))
            v = azr_conn_read(c, true);
        return v == AZR_V_FAIL ? v : azr_splice_pump(c);
    case AZR_P_DEAD:
        break;
    }
    return AZR_V_WAIT;
}

/* Enter the phase after the current one. */
static azr_verdict advance(azr_conn *c)
{
    switch (c->phase) {
    case AZR_P_LOCAL_TLS:
        return dial(c);
    case AZR_P_CONNECTING:
        if (c->p->set.firewall_type) {
            c->phase = AZR_P_PROXY;
            return azr_outbound_start(c);
        }
        return tunnel_open(c);
    case AZR_P_PROXY:
        return tunnel_open(c);
    case AZR_P_TLS:
        c->phase = AZR_P_UPGRADE;
        return azr_upgrade_send(c);
    case AZR_P_UPGRADE:
        return open_ws(c);
    case AZR_P_OPEN:
    case AZR_P_DEAD:
        break;
    }
    return AZR_V_WAIT;
}

static void update_interest(azr_conn *c)
{
    unsigned cm = 0, rm = 0;
    unsigned cs = azr_xport_state(&c->cx), rs = azr_xport_state(&c->rx);
    switch (c->phase) {
    case AZR_P_LOCAL_TLS:
        /* read only when the transport takes records: level-triggered
         * readiness with nobody reading would spin */
        cm =
            ((cs & AZR_X_RECVREC) ? AZR_READABLE : 0u) | ((cs & AZR_X_SENDREC) ? AZR_WRITABLE : 0u);
        break;
    case AZR_P_CONNECTING:
        rm = AZR_WRITABLE;
        break;
    case AZR_P_PROXY:
        rm = AZR_READABLE | (azr_outbound_pending(c) ? AZR_WRITABLE : 0u);
        break;
    case AZR_P_TLS:
    case AZR_P_UPGRADE:
        rm =
            ((rs & AZR_X_RECVREC) ? AZR_READABLE : 0u) | ((rs & AZR_X_SENDREC) ? AZR_WRITABLE : 0u);
        break;
    case AZR_P_OPEN:
        azr_splice_interest(c, &cm, &rm);
        break;
    case AZR_P_DEAD:
        return;
    }
    if (azr_reactor_set(c->p->loop, c->cfd, cm, io_cb, c) != AZR_OK ||
        (c->rfd >= 0 && azr_reactor_set(c->p->loop, c->rfd, rm, io_cb, c) != AZR_OK)) {
        (void)azr_conn_fail(c, AZR_ERR_IO, AZR_WS_CLOSE_INTERNAL, true,
                            "too many open descriptors for the event loop");
        end(c);
    }
}

/* Run steps until the connection waits, then interest and timer from state. */
static void drive(azr_conn *c, int fd, unsigned ev)
{
    for (int guard = 0; guard < 16; guard++) {
        azr_verdict v = step(c, fd, ev);
        fd = -1;
        ev = 0;
        if (c->phase == AZR_P_DEAD)
            return;
        if (v == AZR_V_NEXT) {
            v = advance(c);
            if (c->phase == AZR_P_DEAD)
                return;
            if (v == AZR_V_WAIT || v == AZR_V_NEXT)
                continue; /* the new phase may have work already (bytes buffered) */
        }
        if (v == AZR_V_FAIL || v == AZR_V_DONE) {
            end(c);
            return;
        }
        break;
    }
    update_interest(c);
    if (c->phase == AZR_P_DEAD)
        return;
    if (azr_splice_work_left(c)) /* the budget ran out: go on in this turn, after others */
        azr_task_queue(c->p->loop, &c->more, more_cb, c);
    azr_conn_rearm(c);
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
    /* one block: the client side (plaintext buffers, or its TLS), then the
     * relay side (plaintext buffers, or its TLS) */
    size_t al = _Alignof(max_align_t);
    size_t client = p->local_tls ? azr_ltls_size(p) : 2 * AZR_CONN_IO_BUF;
    size_t r0 = align_up(client);
    size_t mem = r0 + (p->set.relay.tls ? azr_rtls_size(p) : AZR_CONN_IO_BUF + RELAY_OUT_CAP);
    azr_conn *c = calloc(1, sizeof *c + mem + al);
    *out = NULL;
    if (!c)
        return AZR_E_NOMEM;
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
        azr_xport_init(&c->cx, m, AZR_CONN_IO_BUF, m + AZR_CONN_IO_BUF, AZR_CONN_IO_BUF);
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
    c->last_client = c->last_relay = c->last_io = azr_reactor_now(p->loop);
    *out = c;
    return AZR_OK;
}

void azr_conn_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    azr_net_opts o = sock_opts(&p->set, true);
    if (p->net->set_opts(p->net->ud, c->cfd, &o) != AZR_OK)
        azr_proxy_log(p, c->id, 2, "client socket options not all applied: %s", strerror(errno));
    azr_verdict v;
    if (c->ltls) {
        /* the client's handshake first; the relay once it is done */
        c->phase = AZR_P_LOCAL_TLS;
        c->dial_deadline = azr_conn_now(c) + (uint64_t)p->set.connection_timeout * 1000u;
        v = azr_ltls_start(c);
    } else {
        v = dial(c);
    }
    if (c->phase == AZR_P_DEAD)
        return;
    if (v == AZR_V_FAIL) {
        end(c);
        return;
    }
    update_interest(c);
    if (c->phase != AZR_P_DEAD)
        azr_conn_rearm(c);
}

/* ----------------------------------------------------------------- closing */

/* Write what one side's transport holds, as far as the socket takes it now:
 * no waiting, no verdict (the connection is ending anyway). */
static void write_now(azr_conn *c, bool client)
{
    const azr_net_ops *net = c->p->net;
    azr_xport *x = client ? &c->cx : &c->rx;
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
    if (c->phase == AZR_P_OPEN) {
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
    hs_free(c);
    azr_proxy_log(p, c->id, c->status ? -1 : 1, "disconnected (%d): %s (%llu bytes in, %llu out)",
                  c->status, c->reason, (unsigned long long)c->bytes_in,
                  (unsigned long long)c->bytes_out);
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
    (void)azr_conn_fail(c, status, going_away ? AZR_WS_CLOSE_GOING_AWAY : AZR_WS_CLOSE_INTERNAL,
                        !going_away && status != 0, "%s", reason);
    end(c);
}

void azr_conn_free(azr_conn *c)
{
    if (c->ltls)
        azr_ltls_free(c->ltls);
    hs_free(c);
    free(c);
}
