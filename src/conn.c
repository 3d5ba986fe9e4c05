/*
 * IMPLEMENTATION NOTES
 * A connection owns two sockets and four fixed buffers (one block, allocated
 * when the client is accepted). Phases: CONNECTING (non-blocking TCP connect
 * to the relay), UPGRADE (request written, response head parsed by http1.c;
 * bytes after the head stay in the relay input for the WebSocket decoder),
 * OPEN (splice), DEAD (torn down; the proxy frees it after dispatch).
 *
 * Splice, each direction copying once:
 *   client socket -> cx.in -> [frame header + masked copy] -> rx.out -> relay
 *   relay socket -> rx.in -> ws decoder -> payload copy -> cx.out -> client
 * Interest is recomputed from buffer state after every event: a socket is
 * read only while its input buffer has room, and that buffer drains only as
 * fast as the other side's output drains, so a slow reader stops the other
 * side instead of growing memory. Control frames (pong, close) wait in
 * ctrl[] and are framed ahead of the next data frame; frames are always
 * written whole.
 *
 * Closing (relay-protocol.md §6.4): client EOF -> close 1000 to the relay,
 * relay data still delivered; relay close -> drained to the client, then
 * FIN; both closes seen and buffers empty -> done. A closing connection has
 * AZR_CONN_DRAIN_MS to finish. A TCP error or EOF without a close frame on
 * either side ends both. Every accepted connection ends in exactly one
 * Disconnected event with a reason a person can read.
 */
#include "conn.h"
#include "sas.h"
#include "text.h"
#include "url.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RELAY_OUT_CAP (AZR_CONN_IO_BUF + AZR_WS_MAX_HDR)
#define BUDGET        65536 /* bytes per direction per wakeup */

static void io_cb(azr_reactor *r, int fd, unsigned ev, void *ud);
static void more_cb(azr_reactor *r, azr_task *t, void *ud);
static void timer_cb(azr_reactor *r, azr_timer *t, void *ud);

static uint64_t now_ms(const azr_conn *c)
{
    return azr_reactor_now(c->p->loop);
}

void azr_conn_fail_io(azr_conn *c, const char *what)
{
    char why[320];
    snprintf(why, sizeof why, "%.200s: %.100s", what, strerror(errno));
    azr_conn_close(c, AZR_ERR_IO, why, false);
}

void azr_conn_key_log(azr_conn *c, const br_ssl_engine_context *eng)
{
    const char *path = c->p->set.ssl_key_log_file;
    if (path[0] && !azr_tls_keylog(path, eng))
        azr_proxy_log(c->p, c->id, 1, "SSLKeyLogFile %s: %s", path, strerror(errno));
}

void azr_conn_ssl_status(azr_conn *c, const char *fmt, ...)
{
    if (!c->p->ev.ssl_status && (!c->p->ev.log || c->p->set.log_level < 2))
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

/* ----------------------------------------------------------------- opening */

/* "relay host:port" or "proxy host:port", for messages */
static void peer_name(const azr_conn *c, char *out, size_t cap)
{
    const azr_settings *s = &c->p->set;
    if (s->firewall_type)
        snprintf(out, cap, "proxy %s:%ld", s->firewall_host, s->firewall_port);
    else
        snprintf(out, cap, "relay %s:%u", s->relay.host, (unsigned)s->relay.port);
}

static void start_connect(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    char err[256], what[320], name[300];
    bool via = p->set.firewall_type != 0;
    azr_sockaddr *addr = via ? &p->proxy_addr : &p->relay_addr;
    bool *resolved = via ? &p->proxy_resolved : &p->relay_resolved;
    if (!*resolved) {
        /* blocking resolution: at the first connection and after a failure only */
        azr_err e = via ? azr_net_resolve(p->set.firewall_host, (uint16_t)p->set.firewall_port,
                                          (int)p->set.use_ipv6, false, addr, err, sizeof err)
                        : azr_net_resolve(p->set.relay.host, p->set.relay.port,
                                          (int)p->set.use_ipv6, false, addr, err, sizeof err);
        if (e != AZR_OK) {
            azr_conn_close(c, AZR_ERR_IO, err, false);
            return;
        }
        *resolved = true;
    }
    azr_err e = azr_net_connect(addr, &c->rfd);
    if (e == AZR_E_IO) {
        *resolved = false;
        peer_name(c, name, sizeof name);
        snprintf(what, sizeof what, "cannot reach %s", name);
        azr_conn_fail_io(c, what);
        return;
    }
    azr_net_opts o = {.keep_alive = p->set.keep_alive,
                      .keep_idle_ms = p->set.keep_alive_time,
                      .keep_intvl_ms = p->set.keep_alive_interval,
                      .keep_cnt = p->set.keep_alive_retry_count,
                      .no_delay = p->set.tcp_no_delay,
                      .linger = true,
                      .rcvbuf = p->set.in_buffer_size,
                      .sndbuf = p->set.out_buffer_size};
    if (azr_net_set_opts(c->rfd, &o) != AZR_OK)
        azr_proxy_log(p, c->id, 2, "relay socket options not all applied: %s", strerror(errno));
    c->phase = AZR_P_CONNECTING;
    c->deadline = now_ms(c) + (uint64_t)p->set.connection_timeout * 1000u;
    peer_name(c, name, sizeof name);
    azr_proxy_log(p, c->id, 2, "connecting to %s", name);
}

static size_t align_up(size_t n)
{
    size_t al = _Alignof(max_align_t);
    return (n + al - 1) / al * al;
}

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
    c->last_client = c->last_relay = azr_reactor_now(p->loop);
    *out = c;
    return AZR_OK;
}

/* Called by the proxy once the conn has its id and slot. */
void azr_conn_start(azr_conn *c);
void azr_conn_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    azr_net_opts o = {.keep_alive = p->set.keep_alive,
                      .keep_idle_ms = p->set.keep_alive_time,
                      .keep_intvl_ms = p->set.keep_alive_interval,
                      .keep_cnt = p->set.keep_alive_retry_count,
                      .no_delay = p->set.tcp_no_delay,
                      .linger = p->set.linger,
                      .linger_secs = p->set.linger_time,
                      .rcvbuf = p->set.in_buffer_size,
                      .sndbuf = p->set.out_buffer_size};
    if (azr_net_set_opts(c->cfd, &o) != AZR_OK)
        azr_proxy_log(p, c->id, 2, "client socket options not all applied: %s", strerror(errno));
    if (c->ltls) {
        azr_ltls_start(c); /* the client's handshake first; the relay once it is done */
        return;
    }
    azr_conn_relay_start(c);
}

/* Dial the relay; the client is not read until the relay is open (its bytes
 * wait in TCP, or in the TLS engine). */
void azr_conn_relay_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    start_connect(c);
    if (c->phase == AZR_P_DEAD)
        return;
    if (azr_reactor_set(p->loop, c->cfd, 0, io_cb, c) != AZR_OK ||
        azr_reactor_set(p->loop, c->rfd, AZR_WRITABLE, io_cb, c) != AZR_OK) {
        azr_conn_close(c, AZR_ERR_IO, "too many open descriptors for the event loop", false);
        return;
    }
    azr_conn_rearm(c);
}

/* ------------------------------------------------------------ outbound proxy */

static void send_upgrade(azr_conn *c);

/* The tunnel (or the direct connection) is open: TLS or the upgrade next;
 * bytes that came after the proxy's answer belong to that next layer. */
void azr_conn_after_proxy(azr_conn *c, const uint8_t *rest, size_t len)
{
    if (c->tls)
        azr_rtls_start(c);
    else
        send_upgrade(c);
    while (len > 0 && c->phase != AZR_P_DEAD) {
        size_t room;
        uint8_t *b = azr_xport_recvrec_buf(&c->rx, &room);
        if (room == 0) {
            azr_conn_close(c, AZR_ERR_PROTOCOL,
                           "relay sent more than expected after the proxy "
                           "tunnel opened",
                           false);
            return;
        }
        size_t n = len < room ? len : room;
        memcpy(b, rest, n);
        azr_xport_recvrec_ack(&c->rx, n);
        rest += n;
        len -= n;
    }
}

/* ----------------------------------------------------------------- upgrade */

static void append(char *dst, size_t cap, size_t *o, const char *s, size_t n)
{
    if (n < cap - *o) {
        memcpy(dst + *o, s, n);
        *o += n;
        dst[*o] = '\0';
    }
}

static void send_upgrade(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    const azr_settings *s = &p->set;
    static char target[AZR_URL_MAX + AZR_SAS_MAX * 3], token[AZR_SAS_MAX + 1];
    char seg[3 * AZR_HC_MAX + 1], id[37];
    size_t o = 0, n;
    uint8_t r[16];

    /* /$hc/<each segment encoded>?sb-hc-action=connect&sb-hc-id=<uuid> */
    append(target, sizeof target, &o, "/$hc/", 5);
    const char *hc = s->hybrid_connection;
    while (*hc) {
        const char *slash = strchr(hc, '/');
        size_t len = slash ? (size_t)(slash - hc) : strlen(hc);
        if (azr_url_encode(hc, len, seg, sizeof seg, &n, 0) == AZR_OK)
            append(target, sizeof target, &o, seg, n);
        if (!slash)
            break;
        append(target, sizeof target, &o, "/", 1);
        hc = slash + 1;
    }
    br_hmac_drbg_generate(&p->rng, r, sizeof r);
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* RFC 9562 version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    snprintf(id, sizeof id, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
    append(target, sizeof target, &o, "?sb-hc-action=connect&sb-hc-id=", 31);
    append(target, sizeof target, &o, id, 36);

    token[0] = '\0';
    if (s->access_signature[0]) {
        snprintf(token, sizeof token, "%s", s->access_signature);
    } else if (s->access_key_name[0] && s->access_key[0]) {
        int64_t now = (int64_t)time(NULL);
        if (now < 1735689600) /* 2025-01-01: an unset clock makes tokens born expired */
            azr_proxy_log(p, c->id, 1,
                          "system clock reads %lld, before this build: set the "
                          "clock (NTP) or the relay will refuse the expired token",
                          (long long)now);
        azr_sas_params sp = {s->relay.host,
                             s->relay.port,
                             s->hybrid_connection,
                             s->access_key_name,
                             s->access_key,
                             now + s->token_validity,
                             (azr_sas_form)s->token_audience};
        if (azr_sas_token(&sp, token, sizeof token, &n) != AZR_OK) {
            azr_conn_close(c, AZR_ERR_SETTING, "cannot build the SAS token from the settings",
                           false);
            return;
        }
    }
    if (token[0] && s->token_location == 1) {
        static char enc[3 * AZR_SAS_MAX + 1];
        if (azr_url_encode(token, strlen(token), enc, sizeof enc, &n, 0) == AZR_OK) {
            append(target, sizeof target, &o, "&sb-hc-token=", 13);
            append(target, sizeof target, &o, enc, n);
        }
    }
    br_hmac_drbg_generate(&p->rng, r, sizeof r);
    azr_http1_ws_key(r, c->key);
    azr_upgrade_req req = {
        .host = s->relay.host,
        .port = s->relay.port,
        .tls = s->relay.tls,
        .target = target,
        .key = c->key,
        .user_agent = s->user_agent,
        .token_header = token[0] && s->token_location == 0 ? "ServiceBusAuthorization" : NULL,
        .token = token,
        .other_headers = s->other_headers[0] ? s->other_headers : NULL};
    size_t room;
    uint8_t *buf = azr_xport_sendapp_buf(&c->rx, &room);
    azr_err e = azr_http1_upgrade_write(&req, (char *)buf, room, &n);
    azr_wipe(token, sizeof token);
    if (e != AZR_OK) {
        azr_conn_close(c, AZR_ERR_SETTING, "cannot build the upgrade request from the settings",
                       false);
        return;
    }
    azr_xport_sendapp_ack(&c->rx, n);
    azr_xport_flush(&c->rx);
    azr_http1_resp_init(&c->resp, 0);
    c->phase = AZR_P_UPGRADE;
    azr_proxy_log(p, c->id, 2, "upgrade request sent: GET /$hc/%s (sb-hc-id %s)",
                  s->hybrid_connection, id);
}

static void upgrade_response(azr_conn *c)
{
    size_t avail, used;
    const uint8_t *in = azr_xport_recvapp_buf(&c->rx, &avail);
    azr_err e = azr_http1_resp_feed(&c->resp, in, avail, &used);
    azr_xport_recvapp_ack(&c->rx, used);
    if (e == AZR_AGAIN)
        return;
    char why[320], reason[AZR_HTTP_MAX_REASON];
    if (e != AZR_OK) {
        snprintf(why, sizeof why, "relay handshake invalid: %s", c->resp.why);
        azr_conn_close(c, AZR_ERR_PROTOCOL, why, false);
        return;
    }
    const char *bad;
    e = azr_http1_check_upgrade(&c->resp, c->key, &bad);
    azr_text_printable(c->resp.reason, c->resp.reason_len, 200, reason, sizeof reason);
    if (e == AZR_E_REFUSED) {
        snprintf(why, sizeof why, "relay: %d %s", c->resp.status, reason);
        azr_conn_close(c, c->resp.status, why, false);
        return;
    }
    if (e != AZR_OK) {
        snprintf(why, sizeof why, "relay handshake invalid: %s", bad);
        azr_conn_close(c, AZR_ERR_PROTOCOL, why, false);
        return;
    }
    c->phase = AZR_P_OPEN;
    c->deadline = 0;
    c->last_relay = c->last_client = now_ms(c);
    c->connected_fired = true;
    azr_proxy_log(c->p, c->id, 1, "relay connection open for %s:%d", c->remote_host,
                  c->remote_port);
    if (c->p->ev.connected)
        c->p->ev.connected(c->p->ud, c->id, 0, "relay: 101 Switching Protocols");
}

/* ------------------------------------------------------------------ splice */

static void queue_ctrl(azr_conn *c, uint8_t opcode, const uint8_t *payload, size_t len)
{
    uint8_t mask[4];
    size_t n;
    br_hmac_drbg_generate(&c->p->rng, mask, sizeof mask);
    if (azr_ws_ctrl_write(c->ctrl + c->ctrl_len, sizeof c->ctrl - c->ctrl_len, opcode, payload, len,
                          mask, &n) == AZR_OK)
        c->ctrl_len += n;
}

static void queue_close(azr_conn *c, uint16_t code, const char *reason)
{
    uint8_t pl[AZR_WS_MAX_CTRL];
    if (c->close_sent)
        return;
    size_t n = azr_ws_close_payload(pl, code, reason);
    queue_ctrl(c, AZR_WS_CLOSE, pl, n);
    c->close_sent = true;
}

/* Control frames, then client bytes as binary frames, into the relay output. */
static size_t pump_to_relay(azr_conn *c)
{
    size_t moved = 0, room;
    uint8_t *out = azr_xport_sendapp_buf(&c->rx, &room);
    if (c->ctrl_len && room >= c->ctrl_len) {
        memcpy(out, c->ctrl, c->ctrl_len);
        azr_xport_sendapp_ack(&c->rx, c->ctrl_len);
        c->ctrl_len = 0;
    }
    while (!c->close_sent && moved < BUDGET) {
        size_t avail;
        const uint8_t *in = azr_xport_recvapp_buf(&c->cx, &avail);
        out = azr_xport_sendapp_buf(&c->rx, &room);
        if (avail == 0 || room < AZR_WS_MAX_HDR + 1)
            break;
        size_t n = room - AZR_WS_MAX_HDR;
        if (n > avail)
            n = avail;
        if (n > (size_t)c->p->set.max_frame_size)
            n = (size_t)c->p->set.max_frame_size;
        uint8_t mask[4];
        br_hmac_drbg_generate(&c->p->rng, mask, sizeof mask);
        size_t h = azr_ws_hdr_write(out, AZR_WS_BINARY, true, n, mask);
        memcpy(out + h, in, n);
        azr_ws_mask(out + h, n, mask, 0);
        azr_xport_sendapp_ack(&c->rx, h + n);
        azr_xport_recvapp_ack(&c->cx, n);
        c->bytes_in += n;
        moved += n;
    }
    if (c->client_eof && !c->close_sent) {
        size_t avail;
        (void)azr_xport_recvapp_buf(&c->cx, &avail);
        if (avail == 0) {
            queue_close(c, AZR_WS_CLOSE_NORMAL, "client finished");
            azr_proxy_log(c->p, c->id, 2, "client sent FIN: close 1000 to the relay");
            return moved + pump_to_relay(c);
        }
    }
    return moved;
}

/* Relay frames into the client output; control frames handled here. */
static size_t pump_to_client(azr_conn *c)
{
    size_t moved = 0;
    /* a client whose TLS engine closed takes nothing more: frames are still
     * decoded (the relay's close must be seen) and their data dropped */
    bool gone = c->ltls && (azr_xport_state(&c->cx) & AZR_X_CLOSED);
    while (!c->close_rcvd && moved < BUDGET) {
        size_t avail, room, used;
        const uint8_t *in = azr_xport_recvapp_buf(&c->rx, &avail);
        uint8_t *out = azr_xport_sendapp_buf(&c->cx, &room);
        if (gone)
            room = avail;
        if (avail == 0 || room == 0)
            break;
        azr_ws_ev ev;
        azr_err e = azr_ws_dec_feed(&c->dec, in, avail < room ? avail : room, &used, &ev);
        azr_xport_recvapp_ack(&c->rx, used);
        if (e == AZR_AGAIN)
            continue;
        if (e != AZR_OK) {
            char why[200];
            snprintf(why, sizeof why, "relay broke the WebSocket protocol: %s", c->dec.why);
            queue_close(c, c->dec.close_code, c->dec.why);
            (void)pump_to_relay(c);
            azr_conn_close(c, AZR_ERR_PROTOCOL, why, false);
            return moved;
        }
        switch (ev.opcode) {
        case AZR_WS_PING:
            if (ev.frame_end)
                queue_ctrl(c, AZR_WS_PONG, ev.data, ev.data_len);
            break;
        case AZR_WS_PONG:
            break;
        case AZR_WS_CLOSE:
            c->close_rcvd = true;
            c->close_code_rcvd = ev.close_code;
            azr_text_printable((const char *)ev.close_reason, ev.close_reason_len,
                               sizeof c->close_reason_rcvd - 4, c->close_reason_rcvd,
                               sizeof c->close_reason_rcvd);
            azr_proxy_log(c->p, c->id, 2, "relay closed %u: %s", ev.close_code,
                          c->close_reason_rcvd);
            break;
        default: /* data: binary or text (and their continuations) */
            if (ev.data_len && !gone) {
                memcpy(out, ev.data, ev.data_len);
                azr_xport_sendapp_ack(&c->cx, ev.data_len);
                c->bytes_out += ev.data_len;
                moved += ev.data_len;
            }
            break;
        }
    }
    return moved;
}

/* Write what is buffered; false when the connection was closed. */
bool azr_conn_flush(azr_conn *c, int fd, azr_xport *x, const char *side)
{
    azr_xport_flush(x);
    for (int i = 0; i < 4; i++) {
        size_t len, n;
        const uint8_t *b = azr_xport_sendrec_buf(x, &len);
        if (len == 0)
            return true;
        azr_err e = azr_net_write(fd, b, len, &n);
        if (e == AZR_AGAIN)
            return true;
        if (e != AZR_OK) {
            char what[64];
            snprintf(what, sizeof what, "%s write failed", side);
            azr_conn_fail_io(c, what);
            return false;
        }
        azr_xport_sendrec_ack(x, n);
        if (x == &c->cx)
            c->last_client = now_ms(c);
    }
    return true;
}

static void closing_checks(azr_conn *c)
{
    size_t cout, rout;
    (void)azr_xport_sendrec_buf(&c->cx, &cout);
    (void)azr_xport_sendrec_buf(&c->rx, &rout);
    if (c->close_rcvd && cout == 0 && c->ltls && !c->client_notify) {
        /* TLS has no half-close: close_notify, then FIN once it is out */
        br_ssl_engine_close(&c->ltls->sc.eng);
        c->client_notify = true;
        if (!azr_conn_flush(c, c->cfd, &c->cx, "client"))
            return;
        (void)azr_xport_sendrec_buf(&c->cx, &cout);
        /* the engine may be closed now, with no socket event to say so */
        azr_task_queue(c->p->loop, &c->more, more_cb, c);
    }
    if (c->close_rcvd && cout == 0 && !c->client_shut) {
        shutdown(c->cfd, SHUT_WR);
        c->client_shut = true;
    }
    if ((c->close_sent || c->close_rcvd || c->relay_eof || c->client_eof) && c->deadline == 0)
        c->deadline = now_ms(c) + AZR_CONN_DRAIN_MS;
    char why[320];
    if (c->close_sent && c->close_rcvd && cout == 0 && rout == 0 && c->ctrl_len == 0) {
        snprintf(why, sizeof why, "closed: %s; relay closed %u%s%s",
                 c->client_eof ? "client finished" : "relay finished first", c->close_code_rcvd,
                 c->close_reason_rcvd[0] ? ": " : "", c->close_reason_rcvd);
        azr_conn_close(c, 0, why, false);
        return;
    }
    if (c->relay_eof && !c->close_rcvd && cout == 0) {
        azr_conn_close(c, AZR_ERR_PROTOCOL,
                       "relay connection lost (TCP closed without a "
                       "close frame)",
                       false);
        return;
    }
}

/* Bytes that could move now without any socket event. */
static bool work_left(const azr_conn *c)
{
    size_t a, b;
    if (c->phase != AZR_P_OPEN)
        return false;
    (void)azr_xport_recvapp_buf(&c->rx, &a);
    b = azr_xport_sendapp_room((azr_xport *)&c->cx);
    if (!c->close_rcvd && a && b)
        return true;
    (void)azr_xport_recvapp_buf(&c->cx, &a);
    b = azr_xport_sendapp_room((azr_xport *)&c->rx);
    return !c->close_sent && a && b > AZR_WS_MAX_HDR;
}

static void more_cb(azr_reactor *r, azr_task *t, void *ud)
{
    (void)t;
    io_cb(r, -1, 0, ud);
}

void azr_conn_update_interest(azr_conn *c)
{
    unsigned cm = 0, rm = 0;
    unsigned cs = azr_xport_state(&c->cx), rs = azr_xport_state(&c->rx);
    if (c->phase == AZR_P_LOCAL_TLS) {
        cm =
            ((cs & AZR_X_RECVREC) ? AZR_READABLE : 0u) | ((cs & AZR_X_SENDREC) ? AZR_WRITABLE : 0u);
        if (azr_reactor_set(c->p->loop, c->cfd, cm, io_cb, c) != AZR_OK)
            azr_conn_fail_io(c, "event loop");
        return;
    }
    if (c->phase == AZR_P_CONNECTING) {
        rm = AZR_WRITABLE;
    } else if (c->phase == AZR_P_PROXY) {
        const uint8_t *b;
        size_t len;
        rm = AZR_READABLE | (azr_outbound_pending(c, &b, &len) ? AZR_WRITABLE : 0u);
    } else if (c->phase == AZR_P_TLS || c->phase == AZR_P_UPGRADE) {
        /* read only when the transport takes records: level-triggered
         * readiness with nobody reading would spin */
        rm =
            ((rs & AZR_X_RECVREC) ? AZR_READABLE : 0u) | ((rs & AZR_X_SENDREC) ? AZR_WRITABLE : 0u);
    } else {
        if (cs & AZR_X_SENDREC)
            cm |= AZR_WRITABLE;
        if (!c->client_eof && !c->close_sent && (cs & AZR_X_RECVREC))
            cm |= AZR_READABLE;
        if (rs & AZR_X_SENDREC)
            rm |= AZR_WRITABLE;
        if (!c->relay_eof && (rs & AZR_X_RECVREC))
            rm |= AZR_READABLE;
    }
    if (azr_reactor_set(c->p->loop, c->cfd, cm, io_cb, c) != AZR_OK ||
        azr_reactor_set(c->p->loop, c->rfd, rm, io_cb, c) != AZR_OK)
        azr_conn_fail_io(c, "event loop");
}

void azr_conn_read(azr_conn *c, int fd, azr_xport *x, bool client)
{
    size_t room, n;
    uint8_t *b = azr_xport_recvrec_buf(x, &room);
    if (room == 0)
        return;
    azr_err e = azr_net_read(fd, b, room, &n);
    if (e == AZR_OK) {
        azr_xport_recvrec_ack(x, n);
        if (client)
            c->last_client = now_ms(c);
        else {
            c->last_relay = now_ms(c);
            c->ping_sent_at = 0; /* any frame from the relay counts as life */
        }
    } else if (e == AZR_E_CLOSED) {
        if (client) {
            c->client_eof = true;
        } else {
            c->relay_eof = true;
        }
    } else if (e != AZR_AGAIN) {
        if (client)
            azr_conn_fail_io(c, errno == ECONNRESET ? "client reset" : "client read failed");
        else
            azr_conn_fail_io(c, "relay connection lost");
    }
}

static void io_cb(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)r;
    azr_conn *c = ud;
    if (c->phase == AZR_P_DEAD)
        return;
    if (c->phase == AZR_P_LOCAL_TLS) {
        azr_ltls_io(c, ev);
        return;
    }
    if (fd == c->rfd && c->phase == AZR_P_CONNECTING) {
        if (azr_net_connect_done(c->rfd) != AZR_OK) {
            char what[320], name[300];
            if (c->p->set.firewall_type)
                c->p->proxy_resolved = false;
            else
                c->p->relay_resolved = false;
            peer_name(c, name, sizeof name);
            snprintf(what, sizeof what, "cannot reach %s", name);
            azr_conn_fail_io(c, what);
            return;
        }
        if (c->p->set.firewall_type) {
            azr_outbound_start(c);
            if (c->phase == AZR_P_PROXY)
                azr_outbound_io(c, 0);
            if (c->phase == AZR_P_PROXY) {
                azr_conn_update_interest(c);
                return;
            }
        } else {
            azr_conn_after_proxy(c, NULL, 0);
        }
    } else if (fd == c->rfd && c->phase == AZR_P_PROXY) {
        azr_outbound_io(c, ev);
        if (c->phase == AZR_P_PROXY) {
            azr_conn_update_interest(c);
            return;
        }
    } else if (ev & AZR_READABLE) {
        if (fd == c->rfd)
            azr_conn_read(c, c->rfd, &c->rx, false);
        else
            azr_conn_read(c, c->cfd, &c->cx, true);
    }
    if (c->phase == AZR_P_DEAD)
        return;
    if (c->phase == AZR_P_TLS) {
        if (!azr_conn_flush(c, c->rfd, &c->rx, "relay"))
            return;
        unsigned st = azr_xport_state(&c->rx);
        if (st & AZR_X_CLOSED) {
            azr_rtls_failed(c);
            return;
        }
        if (c->relay_eof) {
            azr_conn_close(c, AZR_ERR_TLS, "relay closed the connection during the TLS handshake",
                           false);
            return;
        }
        if (st & AZR_X_SENDAPP) {
            azr_rtls_established(c);
            if (c->phase == AZR_P_DEAD)
                return;
            send_upgrade(c);
            if (c->phase == AZR_P_DEAD)
                return;
        } else {
            azr_conn_update_interest(c);
            return;
        }
    }
    if (c->phase == AZR_P_UPGRADE) {
        if (azr_xport_state(&c->rx) & AZR_X_CLOSED) {
            azr_rtls_failed(c);
            return;
        }
        if (!azr_conn_flush(c, c->rfd, &c->rx, "relay"))
            return;
        upgrade_response(c);
        if (c->phase == AZR_P_UPGRADE && c->relay_eof) {
            azr_conn_close(c, AZR_ERR_PROTOCOL,
                           "relay closed the connection before answering the upgrade", false);
            return;
        }
        if (c->phase != AZR_P_OPEN) {
            if (c->phase != AZR_P_DEAD)
                azr_conn_update_interest(c);
            return;
        }
    }
    if (c->phase == AZR_P_OPEN && c->ltls && (azr_xport_state(&c->cx) & AZR_X_CLOSED)) {
        if (azr_xport_error(&c->cx) != 0) {
            azr_ltls_failed(c, "failed");
            return;
        }
        c->client_eof = true; /* close_notify */
    }
    /* OPEN: move bytes until nothing moves or the budget is spent */
    for (int round = 0; round < 8 && c->phase == AZR_P_OPEN; round++) {
        size_t moved = pump_to_client(c);
        if (c->phase == AZR_P_DEAD)
            return;
        moved += pump_to_relay(c);
        if (!azr_conn_flush(c, c->cfd, &c->cx, "client") ||
            !azr_conn_flush(c, c->rfd, &c->rx, "relay"))
            return;
        if (moved == 0)
            break;
    }
    if (c->phase == AZR_P_OPEN && c->ltls && !c->client_eof &&
        (azr_xport_state(&c->cx) & AZR_X_CLOSED))
        azr_task_queue(c->p->loop, &c->more, more_cb, c); /* closed while flushing: go again */
    if (c->phase == AZR_P_OPEN && (azr_xport_state(&c->rx) & AZR_X_CLOSED)) {
        if (azr_xport_error(&c->rx) != 0) {
            azr_rtls_failed(c);
            return;
        }
        c->relay_eof = true; /* close_notify */
    }
    closing_checks(c);
    if (c->phase == AZR_P_DEAD)
        return;
    azr_conn_update_interest(c);
    if (work_left(c)) /* the budget ran out: go on in this turn, after others */
        azr_task_queue(c->p->loop, &c->more, more_cb, c);
    azr_conn_rearm(c);
}

/* ------------------------------------------------------------------ timers */

static uint64_t min_nz(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : (a < b ? a : b);
}

void azr_conn_rearm(azr_conn *c)
{
    uint64_t next = c->deadline;
    if (c->phase == AZR_P_OPEN) {
        if (c->idle_timeout > 0)
            next = min_nz(next, c->last_client + (uint64_t)c->idle_timeout * 1000u);
        long ka = c->p->set.relay_keep_alive_interval;
        if (ka > 0)
            next = min_nz(next, (c->ping_sent_at ? c->ping_sent_at : c->last_relay) +
                                    (uint64_t)ka * 1000u);
    }
    if (next == 0) {
        azr_timer_cancel(c->p->loop, &c->timer);
        return;
    }
    uint64_t now = now_ms(c);
    if (azr_timer_arm(c->p->loop, &c->timer, next > now ? next - now : 0, timer_cb, c) != AZR_OK)
        azr_proxy_log(c->p, c->id, 1, "too many timers: connection deadlines not enforced");
}

static void timer_cb(azr_reactor *r, azr_timer *t, void *ud)
{
    (void)t;
    azr_conn *c = ud;
    uint64_t now = azr_reactor_now(r);
    char why[160];
    if (c->phase == AZR_P_DEAD)
        return;
    if (c->deadline && now >= c->deadline) {
        if (c->phase == AZR_P_LOCAL_TLS) {
            snprintf(why, sizeof why,
                     "client TLS handshake not finished within %ld s (ConnectionTimeout)",
                     c->p->set.connection_timeout);
            azr_conn_close(c, AZR_ERR_TIMEOUT, why, false);
        } else if (c->phase != AZR_P_OPEN) {
            snprintf(why, sizeof why, "relay did not answer within %ld s (ConnectionTimeout)",
                     c->p->set.connection_timeout);
            azr_conn_close(c, AZR_ERR_TIMEOUT, why, false);
        } else {
            azr_conn_close(c, AZR_ERR_TIMEOUT, "closing did not finish within 30 s; connection cut",
                           false);
        }
        return;
    }
    if (c->phase == AZR_P_OPEN && c->idle_timeout > 0 &&
        now >= c->last_client + (uint64_t)c->idle_timeout * 1000u) {
        snprintf(why, sizeof why, "idle timeout %ld s", c->idle_timeout);
        azr_conn_close(c, AZR_ERR_TIMEOUT, why, true);
        return;
    }
    long ka = c->p->set.relay_keep_alive_interval;
    if (c->phase == AZR_P_OPEN && ka > 0) {
        uint64_t iv = (uint64_t)ka * 1000u;
        if (c->rx.in_len > 0) {
            /* relay bytes wait for the client (back-pressure): the relay is
             * alive, we are the ones not reading */
            c->last_relay = now;
            c->ping_sent_at = 0;
        }
        if (c->ping_sent_at && now >= c->ping_sent_at + iv) {
            snprintf(why, sizeof why, "relay not answering (no frame within %ld s of a ping)", ka);
            azr_conn_close(c, AZR_ERR_TIMEOUT, why, false);
            return;
        }
        if (!c->ping_sent_at && now >= c->last_relay + iv && !c->close_sent) {
            queue_ctrl(c, AZR_WS_PING, (const uint8_t *)"azrelay", 7);
            c->ping_sent_at = now;
            azr_proxy_log(c->p, c->id, 3, "relay silent for %ld s: ping", ka);
            io_cb(r, -1, 0, c); /* frame and send it */
            return;
        }
    }
    azr_conn_rearm(c);
}

/* ----------------------------------------------------------------- closing */

void azr_conn_close(azr_conn *c, int status, const char *reason, bool going_away)
{
    azr_proxy_state *p = c->p;
    if (c->phase == AZR_P_DEAD)
        return;
    if (going_away && c->phase == AZR_P_OPEN && !c->close_sent) {
        /* best effort: one close frame, no waiting */
        queue_close(c, AZR_WS_CLOSE_GOING_AWAY, reason);
        (void)pump_to_relay(c);
        size_t len, n;
        const uint8_t *b = azr_xport_sendrec_buf(&c->rx, &len);
        if (len && azr_net_write(c->rfd, b, len, &n) != AZR_OK)
            azr_proxy_log(p, c->id, 3, "close 1001 not sent: %s", strerror(errno));
    }
    c->phase = AZR_P_DEAD;
    c->status = status;
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    azr_timer_cancel(p->loop, &c->timer);
    azr_task_cancel(p->loop, &c->more);
    if (c->cfd >= 0) {
        azr_reactor_del(p->loop, c->cfd);
        close(c->cfd);
        c->cfd = -1;
    }
    if (c->rfd >= 0) {
        azr_reactor_del(p->loop, c->rfd);
        close(c->rfd);
        c->rfd = -1;
    }
    azr_proxy_log(p, c->id, status ? -1 : 1, "disconnected (%d): %s", status, c->reason);
    if (!c->connected_fired) {
        c->connected_fired = true;
        if (p->ev.connected)
            p->ev.connected(p->ud, c->id, status ? status : AZR_ERR_CLOSE, c->reason);
    }
    if (p->ev.disconnected)
        p->ev.disconnected(p->ud, c->id, status, c->reason);
    azr_proxy_reap_later(p);
}

void azr_conn_free(azr_conn *c)
{
    if (c->ltls)
        azr_ltls_free(c->ltls);
    azr_wipe(&c->resp, sizeof c->resp);
    free(c);
}
