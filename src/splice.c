/*
 * IMPLEMENTATION NOTES
 * The open connection's data pump, each direction copying once:
 *   client socket -> cx -> [frame header + masked copy] -> rx -> relay
 *   relay socket -> rx -> ws decoder -> payload copy -> cx -> client
 * A socket is read only while its transport takes records, and a transport
 * drains only as fast as the other side's output, so a slow reader stops
 * its peer instead of growing memory. Control frames (our pong, ping and
 * close: ws.c's control queue) go into the relay output ahead of data, and
 * frames are always written whole. MaxTransferRate and MaxTransferRateIn
 * (rate.c's buckets) cap what a direction moves; bytes over the rate wait
 * in their buffer, so the sender is pushed back as by a slow reader, and
 * deadline.c wakes the pump when a frame's worth may go.
 *
 * Half-closes (relay-protocol.md §6.4): client EOF -> close 1000 once its
 * bytes are framed, relay data still delivered; relay close -> its data
 * drained to the client, then close_notify (client TLS) and FIN, client
 * data still framed until the client's EOF. Both closes passed and nothing
 * left to write: done. The relay's TCP ending without a close frame cuts the
 * stream: the client gets what arrived, then a reset (conn.c).
 */
#include "conn.h"
#include "text.h"

#define BUDGET 65536 /* bytes per direction per round */
#define ROUNDS 8     /* rounds per wakeup */

static bool our_close(const azr_conn *c)
{
    return (c->ctrl.close_bits & (AZR_WS_CLOSE_QUEUED | AZR_WS_CLOSE_SENT)) != 0;
}

static bool their_close(const azr_conn *c)
{
    return (c->ctrl.close_bits & AZR_WS_CLOSE_RECEIVED) != 0;
}

void azr_splice_mask(azr_proxy_state *p, uint8_t mask[4])
{
    if (p->mask_left < 4) { /* one DRBG call per 64 frames, not per frame */
        br_hmac_drbg_generate(&p->rng, p->mask_pool, sizeof p->mask_pool);
        p->mask_left = sizeof p->mask_pool;
    }
    uint8_t *m = p->mask_pool + sizeof p->mask_pool - p->mask_left;
    memcpy(mask, m, 4);
    azr_wipe(m, 4); /* a mask is used once and not kept */
    p->mask_left -= 4;
}

void azr_splice_ctrl_out(azr_conn *c)
{
    while (azr_ws_ctrlq_next(&c->ctrl)) {
        size_t room, n;
        uint8_t mask[4];
        uint8_t *out = azr_xport_sendapp_buf(&c->rx, &room);
        uint8_t op = azr_ws_ctrlq_next(&c->ctrl);
        azr_splice_mask(c->p, mask);
        if (!out || azr_ws_ctrlq_take(&c->ctrl, out, room, mask, &n) != AZR_OK)
            return;
        azr_xport_sendapp_ack(&c->rx, n);
        if (op == AZR_WS_CLOSE)
            azr_proxy_log(c->p, c->id, 3, "close %u queued for the relay", c->ctrl.close_code);
    }
}

/* Control frames, then client bytes as binary frames, into the relay output. */
static size_t to_relay(azr_conn *c)
{
    size_t moved = 0, room, avail;
    azr_splice_ctrl_out(c);
    while (!our_close(c) && !azr_ws_ctrlq_next(&c->ctrl) && moved < BUDGET) {
        const uint8_t *in = azr_xport_recvapp_buf(&c->cx, &avail);
        uint8_t *out = azr_xport_sendapp_buf(&c->rx, &room);
        if (avail == 0 || room < AZR_WS_MAX_HDR + 1)
            break;
        size_t n = room - AZR_WS_MAX_HDR;
        if (n > avail)
            n = avail;
        size_t allow = azr_rate_allowed(&c->rate_up, azr_conn_now(c));
        if (allow < n && allow < c->rate_up.burst / 4)
            break; /* MaxTransferRate: wait for a frame's worth (deadline.c wakes us) */
        if (n > allow)
            n = allow;
        if (n > (size_t)c->p->set.max_frame_size)
            n = (size_t)c->p->set.max_frame_size;
        uint8_t mask[4];
        azr_splice_mask(c->p, mask);
        size_t h = azr_ws_hdr_write(out, AZR_WS_BINARY, true, n, mask);
        memcpy(out + h, in, n);
        azr_ws_mask(out + h, n, mask, 0);
        azr_xport_sendapp_ack(&c->rx, h + n);
        azr_xport_recvapp_ack(&c->cx, n);
        azr_rate_take(&c->rate_up, n);
        c->bytes_in += n;
        c->p->stats.bytes_to_relay += n;
        moved += n;
    }
    (void)azr_xport_recvapp_buf(&c->cx, &avail);
    if (c->client_eof && avail == 0 && !our_close(c)) {
        (void)azr_ws_ctrlq_close(&c->ctrl, AZR_WS_CLOSE_NORMAL, "client finished");
        azr_proxy_log(c->p, c->id, 2, "client sent FIN: close 1000 to the relay");
        azr_splice_ctrl_out(c);
    }
    return moved;
}

/* Relay frames into the client output; control frames handled here. */
static azr_verdict to_client(azr_conn *c, size_t *moved)
{
    /* a client whose TLS engine closed takes nothing more: frames are still
     * decoded (the relay's close must be seen) and their data dropped */
    bool gone = c->ltls && (azr_xport_state(&c->cx) & AZR_X_CLOSED);
    while (!their_close(c) && *moved < BUDGET) {
        size_t avail, room, used;
        const uint8_t *in = azr_xport_recvapp_buf(&c->rx, &avail);
        uint8_t *out = azr_xport_sendapp_buf(&c->cx, &room);
        if (gone)
            room = avail;
        size_t allow = azr_rate_allowed(&c->rate_down, azr_conn_now(c));
        if (room > allow && !gone) /* MaxTransferRateIn */
            room = allow < c->rate_down.burst / 4 && allow < avail ? 0 : allow;
        if (avail == 0 || room == 0)
            break;
        azr_ws_ev ev;
        azr_err e = azr_ws_dec_feed(&c->dec, in, avail < room ? avail : room, &used, &ev);
        azr_xport_recvapp_ack(&c->rx, used);
        if (e == AZR_AGAIN)
            continue;
        if (e != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_PROTOCOL, c->dec.close_code, true,
                                 "relay broke the WebSocket protocol: %s", c->dec.why);
        switch (ev.opcode) {
        case AZR_WS_PING:
            if (ev.frame_end) /* the latest ping's payload wins (RFC 6455 §5.5.3) */
                azr_ws_ctrlq_pong(&c->ctrl, ev.data, ev.data_len);
            break;
        case AZR_WS_PONG:
            break;
        case AZR_WS_CLOSE:
            c->ctrl.close_bits |= AZR_WS_CLOSE_RECEIVED;
            c->close_code_rcvd = ev.close_code;
            azr_text_printable((const char *)ev.close_reason, ev.close_reason_len, AZR_WS_MAX_CTRL,
                               c->close_reason_rcvd, sizeof c->close_reason_rcvd);
            azr_proxy_log(c->p, c->id, 2, "relay closed %u: %s", ev.close_code,
                          c->close_reason_rcvd);
            break;
        default: { /* data: binary or text (and their continuations) */
            /* PortName: the azbridge answer comes first (preamble.c) */
            size_t k = azr_preamble_take(c, ev.data, ev.data_len);
            if (ev.data_len > k && !gone) {
                memcpy(out, ev.data + k, ev.data_len - k);
                azr_xport_sendapp_ack(&c->cx, ev.data_len - k);
                azr_rate_take(&c->rate_down, ev.data_len - k);
                c->bytes_out += ev.data_len - k;
                c->p->stats.bytes_to_client += ev.data_len - k;
                *moved += ev.data_len - k;
            }
            break;
        }
        }
    }
    return AZR_V_WAIT;
}

azr_verdict azr_splice_relay_in(azr_conn *c)
{
    size_t moved = 0;
    if (to_client(c, &moved) == AZR_V_FAIL)
        return AZR_V_FAIL;
    azr_splice_ctrl_out(c);
    return AZR_V_WAIT;
}

bool azr_splice_output_pending(const azr_conn *c, bool client)
{
    size_t n;
    (void)azr_xport_sendrec_buf(client ? &c->cx : &c->rx, &n);
    return n > 0;
}

/* After the pump: the half-close steps, and whether the connection is done. */
static azr_verdict closing(azr_conn *c)
{
    bool cout = azr_splice_output_pending(c, true), rout = azr_splice_output_pending(c, false);
    if (their_close(c) && !cout && c->ltls && !c->client_notify) {
        /* TLS has no half-close: close_notify, then FIN once it is out */
        br_ssl_engine_close(&c->ltls->sc.eng);
        c->client_notify = true;
        if (azr_conn_flush(c, true) == AZR_V_FAIL)
            return AZR_V_FAIL;
        cout = azr_splice_output_pending(c, true);
    }
    if (their_close(c) && !cout && !c->client_shut) {
        c->p->net->shutdown_wr(c->p->net->ud, c->cfd);
        c->client_shut = true;
    }
    bool sent = (c->ctrl.close_bits & AZR_WS_CLOSE_SENT) && !azr_ws_ctrlq_next(&c->ctrl);
    if (their_close(c) && !cout && (c->relay_eof || (sent && !rout))) {
        snprintf(c->reason, sizeof c->reason, "closed: %s; relay closed %u%s%.240s",
                 c->client_eof ? "client finished" : "relay finished first", c->close_code_rcvd,
                 c->close_reason_rcvd[0] ? ": " : "", c->close_reason_rcvd);
        return AZR_V_DONE;
    }
    if (c->relay_eof && !their_close(c) && !cout)
        return azr_conn_fail(c, AZR_ERR_PROTOCOL, 0, true,
                             "relay connection lost (TCP closed without a close frame)");
    return AZR_V_WAIT;
}

azr_verdict azr_splice_pump(azr_conn *c)
{
    if (c->ltls && !c->client_eof && (azr_xport_state(&c->cx) & AZR_X_CLOSED)) {
        if (azr_xport_error(&c->cx) != 0)
            return azr_ltls_failed(c, "failed");
        c->client_eof = true; /* close_notify */
    }
    for (int round = 0; round < ROUNDS; round++) {
        size_t moved = 0;
        if (to_client(c, &moved) == AZR_V_FAIL)
            return AZR_V_FAIL;
        moved += to_relay(c);
        if (azr_conn_flush(c, true) == AZR_V_FAIL || azr_conn_flush(c, false) == AZR_V_FAIL)
            return AZR_V_FAIL;
        if (moved == 0)
            break;
    }
    if (!c->relay_eof && (azr_xport_state(&c->rx) & AZR_X_CLOSED)) {
        if (azr_xport_error(&c->rx) != 0)
            return azr_rtls_failed(c);
        c->relay_eof = true; /* close_notify */
    }
    return closing(c);
}

void azr_splice_interest(const azr_conn *c, unsigned *client, unsigned *relay)
{
    unsigned cs = azr_xport_state(&c->cx), rs = azr_xport_state(&c->rx);
    *client = (cs & AZR_X_SENDREC) ? AZR_WRITABLE : 0u;
    *relay = (rs & AZR_X_SENDREC) ? AZR_WRITABLE : 0u;
    if (!c->client_eof && !our_close(c) && (cs & AZR_X_RECVREC))
        *client |= AZR_READABLE;
    if (!c->relay_eof && (rs & AZR_X_RECVREC))
        *relay |= AZR_READABLE;
}

/* When a rate-limited direction may move a frame's worth of what waits in
 * it, given room on the other side (0: nothing waits on a rate). */
static uint64_t rate_at(azr_conn *c, bool up, uint64_t now)
{
    azr_rate *r = up ? &c->rate_up : &c->rate_down;
    size_t waiting, room;
    if (!azr_rate_limited(r) || (up ? our_close(c) : their_close(c)))
        return 0;
    (void)azr_xport_recvapp_buf(up ? &c->cx : &c->rx, &waiting);
    room = azr_xport_sendapp_room(up ? &c->rx : &c->cx);
    if (waiting == 0 || room <= (up ? AZR_WS_MAX_HDR : 0))
        return 0;
    return azr_rate_when(r, waiting < r->burst / 4 ? waiting : r->burst / 4, now);
}

uint64_t azr_splice_rate_wake(azr_conn *c)
{
    uint64_t now = azr_conn_now(c), u = rate_at(c, true, now), d = rate_at(c, false, now);
    return u == 0 ? d : d == 0 ? u : (u < d ? u : d);
}

bool azr_splice_work_left(azr_conn *c)
{
    size_t a, b;
    if (c->phase != AZR_P_OPEN)
        return false;
    if (c->ltls && !c->client_eof && (azr_xport_state(&c->cx) & AZR_X_CLOSED))
        return true; /* closed while flushing: its close_notify is still to be seen */
    (void)azr_xport_recvapp_buf(&c->rx, &a);
    b = azr_xport_sendapp_room((azr_xport *)&c->cx);
    uint64_t now = azr_conn_now(c), t;
    /* a direction the rate holds back is not work: deadline.c wakes it */
    if (!their_close(c) && a && b && ((t = rate_at(c, false, now)) == 0 || t <= now))
        return true;
    (void)azr_xport_recvapp_buf(&c->cx, &a);
    b = azr_xport_sendapp_room((azr_xport *)&c->rx);
    return !our_close(c) && a && b > AZR_WS_MAX_HDR &&
           ((t = rate_at(c, true, now)) == 0 || t <= now);
}

azr_verdict azr_splice_step(azr_conn *c, int fd, unsigned ev)
{
    azr_verdict v = AZR_V_WAIT;
    if (fd >= 0 && fd == c->rfd && (ev & AZR_READABLE))
        v = azr_conn_read(c, false);
    if (fd >= 0 && fd == c->cfd && (ev & AZR_READABLE))
        v = azr_conn_read(c, true);
    return v == AZR_V_FAIL ? v : azr_splice_pump(c);
}
