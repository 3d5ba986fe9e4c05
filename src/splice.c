/*
 * IMPLEMENTATION NOTES
 * The open connection's data pump. A plain client's bytes are copied once,
 * by the kernel, each way:
 *   client socket -recv-> relay output, behind a reserved frame header, then
 *     masked in place (moved down onto the header they got, in the same pass)
 *   relay input (BearSSL's recvapp, or the plain input) -send-> client socket,
 *     the payload sent where it lies: ws.c's peek, then commit what was sent
 * A TLS client's bytes take one more pass, its engine's: a masked copy from
 * its recvapp into the relay output, a copy of the payload into its sendapp.
 * While a plain client has bytes and the relay output is empty, burst.c
 * takes the upload eight frames (or records) per read and per write, in
 * the proxy's scratch; the path below is the one-frame-at-a-time rest.
 * A direction reads only while its destination has room (a client that does
 * not read leaves the relay's bytes in the relay input, so the relay is not
 * read either), so a slow reader stops its peer instead of growing memory.
 *
 * Frames and records: a frame takes what the client had, up to MaxFrameSize
 * and the room; when the room is short of a good frame (AZR_SPLICE_GOOD_FRAME,
 * or the whole input) while earlier output waits, the frame waits for it to
 * drain rather than go out small. TLS records close when full, or once per
 * wakeup when the input is idle (the pump's end), not after every frame.
 *
 * Control frames (our pong, ping and close: ws.c's control queue) go into
 * the relay output ahead of data, and frames are always written whole.
 * MaxTransferRate and MaxTransferRateIn (rate.c's buckets) cap what a
 * direction moves; bytes over the rate wait where they are (the client's
 * socket, the relay input), so the sender is pushed back as by a slow reader,
 * and deadline.c wakes the pump when a frame's worth may go.
 *
 * Half-closes (relay-protocol.md §6.4): client EOF -> close 1000 once its
 * bytes are framed, relay data still delivered; relay close -> its data
 * drained to the client, then close_notify (client TLS) and FIN, client
 * data still framed until the client's EOF (a plain client's: a TLS
 * client's engine takes no more once its close_notify went, as TLS has no
 * half-close). Both closes passed and nothing
 * left to write: done. The relay's TCP ending without a close frame cuts the
 * stream: the client gets what arrived, then a reset (conn.c).
 */
#include "conn.h"
#include "text.h"
#include <errno.h>

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
        c->p->stats.frames_to_relay++;
        if (op == AZR_WS_CLOSE)
            azr_proxy_log(c->p, c->id, 3, "close %u queued for the relay", c->ctrl.close_code);
    }
}

size_t azr_splice_frame_fit(size_t space, size_t limit, size_t *hdr)
{
    size_t n = 0;
    *hdr = 0;
    if (space >= 14 + 65536 && limit >= 65536) {
        n = space - 14;
        *hdr = 14;
    } else if (space >= 8 + 126 && limit >= 126) {
        n = space - 8 < 65535 ? space - 8 : 65535;
        *hdr = 8;
    } else if (space >= 6 + 1 && limit >= 1) {
        n = space - 6 < 125 ? space - 6 : 125;
        *hdr = 6;
    }
    return n < limit ? n : limit;
}

/* What the next upload frame may carry, at most (the input, the rate,
 * MaxFrameSize), 0 when nothing is to be read now (or the rate says wait). */
static size_t up_limit(azr_conn *c)
{
    size_t avail = SIZE_MAX;
    if (our_close(c) || azr_ws_ctrlq_next(&c->ctrl))
        return 0;
    if (c->ltls)
        (void)azr_xport_recvapp_buf(&c->cx, &avail);
    else if (!c->client_ready || c->client_eof)
        return 0;
    size_t limit = (size_t)c->p->set.max_frame_size;
    if (limit > avail)
        limit = avail;
    size_t allow = azr_rate_allowed(&c->rate_up, azr_conn_now(c));
    if (allow < limit && allow < c->rate_up.burst / 4)
        return 0; /* MaxTransferRate: wait for a frame's worth (deadline.c wakes us) */
    return limit < allow ? limit : allow;
}

/* The relay output's room for a frame of up to limit bytes: its payload
 * length (0: wait), and the header's length. A room short of a good frame
 * while earlier output still waits for the socket is not taken: the frame
 * waits for the drain instead of going out small. A TLS record holding a
 * little is closed then (act), so the next frame starts a fresh one. */
static size_t up_room(azr_conn *c, size_t limit, uint8_t **out, size_t *hdr, bool act)
{
    size_t room;
    *out = azr_xport_sendapp_buf(&c->rx, &room);
    size_t n = azr_splice_frame_fit(room, limit, hdr);
    if (n >= (limit < AZR_SPLICE_GOOD_FRAME ? limit : AZR_SPLICE_GOOD_FRAME))
        return n;
    if (azr_splice_output_pending(c, false))
        return 0; /* the socket takes it, then the room comes */
    if (!c->tls)
        return n; /* nothing waits: the whole buffer is free */
    if (!act)     /* closing a record that holds bytes is progress; a closed engine has no room */
        return room > 0 ? 1 : 0;
    azr_xport_flush(&c->rx);
    if (azr_splice_output_pending(c, false))
        return 0;                                /* the record it held goes first */
    *out = azr_xport_sendapp_buf(&c->rx, &room); /* it held nothing: this is all there is */
    return azr_splice_frame_fit(room, limit, hdr);
}

/* Control frames, then client bytes as binary frames, into the relay output. */
static azr_verdict to_relay(azr_conn *c, size_t *moved)
{
    const azr_net_ops *net = c->p->net;
    azr_splice_ctrl_out(c);
    for (bool bulk = true; bulk && *moved < BUDGET;) /* burst.c, while it may */
        if (azr_burst_up(c, moved, &bulk) == AZR_V_FAIL)
            return AZR_V_FAIL;
    while (*moved < BUDGET) {
        size_t limit = up_limit(c), hdr, n;
        uint8_t *out, mask[4];
        if (limit == 0 || (n = up_room(c, limit, &out, &hdr, true)) == 0)
            break;
        if (c->ltls) { /* from its engine: a masked copy */
            const uint8_t *in = azr_xport_recvapp_buf(&c->cx, &limit);
            azr_splice_mask(c->p, mask);
            hdr = azr_ws_hdr_write(out, AZR_WS_BINARY, true, n, mask);
            azr_ws_mask_copy(out + hdr, in, n, mask);
            azr_xport_recvapp_ack(&c->cx, n);
        } else { /* from the socket, behind the header, masked in place */
            size_t got;
            azr_err e = net->read(net->ud, c->cfd, out + hdr, n, &got);
            if (e == AZR_E_CLOSED)
                c->client_eof = true;
            if (e != AZR_OK) {
                c->client_ready = false;
                if (e == AZR_AGAIN || e == AZR_E_CLOSED)
                    break;
                return azr_conn_fail_errno(c, errno == ECONNRESET ? "client reset the connection"
                                                                  : "client read failed");
            }
            if (got < n)
                c->client_ready = false; /* drained: its next bytes come with readiness */
            c->last_client = c->last_io = azr_conn_now(c);
            azr_splice_mask(c->p, mask);
            size_t h = azr_ws_hdr_write(out, AZR_WS_BINARY, true, got, mask);
            azr_ws_mask_copy(out + h, out + hdr, got, mask);
            n = got;
            hdr = h;
        }
        azr_xport_sendapp_ack(&c->rx, hdr + n);
        azr_rate_take(&c->rate_up, n);
        c->bytes_in += n;
        c->p->stats.bytes_to_relay += n;
        c->p->stats.frames_to_relay++;
        *moved += n;
    }
    size_t avail = 0;
    if (c->ltls)
        (void)azr_xport_recvapp_buf(&c->cx, &avail);
    if (c->client_eof && avail == 0 && !our_close(c)) {
        (void)azr_ws_ctrlq_close(&c->ctrl, AZR_WS_CLOSE_NORMAL, "client finished");
        azr_proxy_log(c->p, c->id, 2, "client sent FIN: close 1000 to the relay");
        azr_splice_ctrl_out(c);
    }
    return AZR_V_WAIT;
}

/* Payload in[0..n) of a data frame towards the client: the azbridge answer
 * takes it first; then straight to a plain client's socket, or into a TLS
 * client's engine. *used: how much was taken (0: the client or the rate
 * holds it back). */
static azr_verdict deliver(azr_conn *c, const uint8_t *in, size_t n, bool gone, size_t *used,
                           size_t *moved)
{
    const azr_net_ops *net = c->p->net;
    *used = azr_preamble_take(c, in, n); /* PortName: the azbridge answer comes first */
    if (*used || gone) {
        *used = gone ? n : *used; /* a TLS client that closed takes nothing more */
        return AZR_V_WAIT;
    }
    if (c->phase == AZR_P_PREAMBLE && c->hs->azb.err != AZR_OK)
        return AZR_V_WAIT; /* refused: none of what follows reaches the client */
    size_t allow = azr_rate_allowed(&c->rate_down, azr_conn_now(c));
    if (allow < n) { /* MaxTransferRateIn */
        if (allow < c->rate_down.burst / 4)
            return AZR_V_WAIT;
        n = allow;
    }
    if (c->ltls) {
        size_t room;
        uint8_t *out = azr_xport_sendapp_buf(&c->cx, &room);
        if (n > room)
            n = room;
        if (n)
            memcpy(out, in, n);
        azr_xport_sendapp_ack(&c->cx, n);
    } else {
        size_t w = 0;
        if (c->client_blocked)
            return AZR_V_WAIT;
        azr_err e = net->write(net->ud, c->cfd, in, n, &w);
        if (e != AZR_OK && e != AZR_AGAIN)
            return azr_conn_fail_errno(c, "client write failed");
        if (w < n)
            c->client_blocked = true; /* the rest waits in the relay input */
        if (w)
            c->last_client = c->last_io = azr_conn_now(c);
        n = w;
    }
    azr_rate_take(&c->rate_down, n);
    c->bytes_out += n;
    c->p->stats.bytes_to_client += n;
    *moved += n;
    *used = n;
    return AZR_V_WAIT;
}

/* Relay frames to the client; control frames handled here. */
static azr_verdict to_client(azr_conn *c, size_t *moved)
{
    /* a client whose TLS engine closed takes nothing more: frames are still
     * decoded (the relay's close must be seen) and their data dropped */
    bool gone = c->ltls && (azr_xport_state(&c->cx) & AZR_X_CLOSED);
    while (!their_close(c) && *moved < BUDGET) {
        size_t avail, used;
        const uint8_t *in = azr_xport_recvapp_buf(&c->rx, &avail);
        if (avail == 0)
            break;
        size_t pk = azr_ws_dec_peek(&c->dec, in, avail);
        if (pk) { /* payload: used where it lies, then committed */
            if (deliver(c, in, pk, gone, &used, moved) == AZR_V_FAIL)
                return AZR_V_FAIL;
            if (used == 0)
                break;
        } else {
            used = azr_ws_dec_step(&c->dec, avail);
        }
        azr_ws_ev ev;
        azr_err e = azr_ws_dec_feed(&c->dec, in, used, &used, &ev);
        azr_xport_recvapp_ack(&c->rx, used);
        if (e == AZR_AGAIN)
            continue;
        if (e != AZR_OK)
            return azr_conn_fail(c, AZR_ERR_PROTOCOL, c->dec.close_code, true,
                                 "relay broke the WebSocket protocol: %s", c->dec.why);
        if (ev.frame_end)
            c->p->stats.frames_to_client++;
        switch (ev.opcode) {
        case AZR_WS_PING:
            if (ev.frame_end) /* the latest ping's payload wins (RFC 6455 §5.5.3) */
                azr_ws_ctrlq_pong(&c->ctrl, ev.data, ev.data_len);
            break;
        case AZR_WS_CLOSE:
            c->ctrl.close_bits |= AZR_WS_CLOSE_RECEIVED;
            c->close_code_rcvd = ev.close_code;
            azr_text_printable((const char *)ev.close_reason, ev.close_reason_len, AZR_WS_MAX_CTRL,
                               c->close_reason_rcvd, sizeof c->close_reason_rcvd);
            azr_proxy_log(c->p, c->id, 2, "relay closed %u: %s", ev.close_code,
                          c->close_reason_rcvd);
            break;
        default: /* pong; data was delivered before its commit */
            break;
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
    if (client && !c->ltls)
        return c->client_blocked; /* relay payload waits for the client's socket */
    if (!client && azr_burst_pending(c))
        return true;
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
    size_t rin; /* what the relay sent before its end, still to decode (the rate may hold it) */
    (void)azr_xport_recvapp_buf(&c->rx, &rin);
    if (c->relay_eof && !their_close(c) && !cout && rin == 0)
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
        if (to_client(c, &moved) == AZR_V_FAIL || to_relay(c, &moved) == AZR_V_FAIL)
            return AZR_V_FAIL;
        /* full records and plain bytes now; a record still filling waits */
        if (azr_conn_write(c, true) == AZR_V_FAIL || azr_conn_write(c, false) == AZR_V_FAIL)
            return AZR_V_FAIL;
        if (moved == 0)
            break;
    }
    /* the input is idle (or the budget spent): what the records hold goes */
    if (azr_conn_flush(c, true) == AZR_V_FAIL || azr_conn_flush(c, false) == AZR_V_FAIL)
        return AZR_V_FAIL;
    if (!c->relay_eof && (azr_xport_state(&c->rx) & AZR_X_CLOSED)) {
        if (azr_xport_error(&c->rx) != 0)
            return azr_rtls_failed(c);
        c->relay_eof = true; /* close_notify */
    }
    return closing(c);
}

/* A plain client is read by the pump while it is readable (client_ready),
 * and written to until its socket is full (client_blocked); a TLS client
 * through its engine's records. */
void azr_splice_interest(const azr_conn *c, unsigned *client, unsigned *relay)
{
    unsigned cs = azr_xport_state(&c->cx), rs = azr_xport_state(&c->rx);
    *relay = (rs & AZR_X_SENDREC) || azr_burst_pending(c) ? AZR_WRITABLE : 0u;
    if (!c->relay_eof && (rs & AZR_X_RECVREC))
        *relay |= AZR_READABLE;
    bool reading = !c->client_eof && !our_close(c);
    if (c->ltls) {
        *client = (cs & AZR_X_SENDREC) ? AZR_WRITABLE : 0u;
        if (reading && (cs & AZR_X_RECVREC))
            *client |= AZR_READABLE;
    } else {
        *client = c->client_blocked ? AZR_WRITABLE : 0u;
        if (reading && !c->client_ready)
            *client |= AZR_READABLE;
    }
}

/* Bytes the client has for the relay, as far as known (a plain client's
 * socket: "some" while it is readable), and room towards the client. */
static size_t up_waiting(const azr_conn *c)
{
    size_t n = 0;
    if (c->ltls)
        (void)azr_xport_recvapp_buf(&c->cx, &n);
    else if (c->client_ready && !c->client_eof)
        n = SIZE_MAX;
    return n;
}

static size_t down_room(const azr_conn *c)
{
    if (c->ltls)
        return azr_xport_sendapp_room((azr_xport *)&c->cx);
    return c->client_blocked ? 0 : SIZE_MAX;
}

/* When a rate-limited direction may move a frame's worth of what waits in
 * it, given room on the other side (0: nothing waits on a rate). */
static uint64_t rate_at(azr_conn *c, bool up, uint64_t now)
{
    azr_rate *r = up ? &c->rate_up : &c->rate_down;
    size_t waiting, room;
    if (!azr_rate_limited(r) || (up ? our_close(c) : their_close(c)))
        return 0;
    if (up) {
        uint8_t *out;
        size_t hdr, lim = (size_t)c->p->set.max_frame_size;
        if (azr_ws_ctrlq_next(&c->ctrl))
            return 0; /* a control frame goes first: the relay's writability wakes it */
        waiting = up_waiting(c);
        if (waiting < lim)
            lim = waiting;
        /* the room the pump would take (up_room): a short one waits for the
         * relay to drain, which its writability (not the rate) reports */
        room = waiting ? up_room(c, lim, &out, &hdr, false) : 0;
        if (room)
            room = AZR_WS_MAX_HDR + 1;
    } else {
        (void)azr_xport_recvapp_buf(&c->rx, &waiting);
        room = down_room(c);
    }
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
    size_t a, hdr, limit;
    uint8_t *out;
    if (c->phase != AZR_P_OPEN)
        return false;
    if (c->ltls && !c->client_eof && (azr_xport_state(&c->cx) & AZR_X_CLOSED))
        return true; /* closed while flushing: its close_notify is still to be seen */
    (void)azr_xport_recvapp_buf(&c->rx, &a);
    uint64_t now = azr_conn_now(c), t;
    /* a direction the rate holds back is not work: deadline.c wakes it */
    if (!their_close(c) && a && down_room(c) && ((t = rate_at(c, false, now)) == 0 || t <= now))
        return true;
    if (azr_ws_ctrlq_next(&c->ctrl) && !(c->ctrl.close_bits & AZR_WS_CLOSE_SENT) &&
        azr_xport_sendapp_room(&c->rx) >= AZR_WS_MAX_HDR + AZR_WS_MAX_CTRL)
        return true; /* a control frame that waited for room has it */
    return (limit = up_limit(c)) > 0 && up_room(c, limit, &out, &hdr, false) > 0;
}

azr_verdict azr_splice_step(azr_conn *c, int fd, unsigned ev)
{
    azr_verdict v = AZR_V_WAIT;
    if (fd >= 0 && fd == c->rfd && (ev & AZR_READABLE))
        v = azr_conn_read(c, false);
    if (fd >= 0 && fd == c->cfd && c->ltls && (ev & AZR_READABLE))
        v = azr_conn_read(c, true);
    if (fd >= 0 && fd == c->cfd && !c->ltls) { /* the pump reads and writes it */
        if (ev & AZR_READABLE)
            c->client_ready = true;
        if (ev & AZR_WRITABLE)
            c->client_blocked = false;
    }
    return v == AZR_V_FAIL ? v : azr_splice_pump(c);
}
