/*
 * Frames from an upgraded peer. Data and control frames from a sender or a
 * rendezvous leg go to its mate as they arrive: unmasked, FIN, opcode and
 * fragmentation kept, a frame's payload streamed in chunks as the mate's
 * buffer takes them (so nothing here holds a whole message, and a mate
 * that does not read stops its peer being read). Close frames pass
 * unchanged and nobody answers them but the far end (§6.4); the emulator
 * closes both sockets once both closes passed. Built-in listeners take the
 * mate's place: echo sends every frame back, sink counts and drops, source
 * sends a byte pattern then closes, azbridge answers azbridge's preamble
 * and then echoes (azbridge.c). Control channels carry JSON text
 * messages: renewToken is checked, anything else ignored.
 */
#include "emu.h"

#define SOURCE_FRAME 16384

static uint8_t scratch[EMU_BUF];

static void reason_text(const azr_ws_ev *ev, char out[AZR_WS_MAX_CTRL + 1])
{
    size_t n = ev->close_reason_len < AZR_WS_MAX_CTRL ? ev->close_reason_len : AZR_WS_MAX_CTRL;
    memcpy(out, ev->close_reason, n);
    out[n] = '\0';
}

static void protocol_error(emu_peer *p)
{
    emu_log("#%llu broke the WebSocket protocol: %s (close %u)", (unsigned long long)p->serial,
            p->dec.why ? p->dec.why : "?", p->dec.close_code);
    emu_peer *m = p->mate;
    emu_peer_send_close(p, p->dec.close_code, p->dec.why ? p->dec.why : "");
    emu_peer_finish(p);
    if (m) {
        emu_peer_send_close(m, AZR_WS_CLOSE_INTERNAL, "The peer broke the WebSocket protocol.");
        emu_peer_finish(m);
    }
}

/* Decode at most feed bytes of p's input into ev. 1: an event to act on;
 * 0: nothing complete yet, or anything after p's close (nothing counts
 * then); -1: a protocol error, already answered. */
static int next_event(emu_peer *p, const uint8_t *in, size_t feed, azr_ws_ev *ev)
{
    size_t used;
    azr_err e = azr_ws_dec_feed(&p->dec, in, feed, &used, ev);
    azr_xport_recvapp_ack(&p->x, used);
    if (e == AZR_AGAIN)
        return 0;
    if (e != AZR_OK) {
        protocol_error(p);
        return -1;
    }
    return p->close_in ? 0 : 1;
}

/* A close from p: pass it on, or answer it for a built-in listener. */
static void got_close(emu_peer *p, const azr_ws_ev *ev)
{
    char reason[AZR_WS_MAX_CTRL + 1], mine[80];
    reason_text(ev, reason);
    p->close_in = true;
    emu_builtin b = p->kind == EMU_K_SENDER && p->hc ? p->hc->builtin : EMU_B_NONE;
    if (p->mate) {
        emu_peer_send_close(p->mate, ev->close_code, reason);
        if (p->close_out)
            p->flush_then_close = true;
        return;
    }
    if (b == EMU_B_SINK) {
        snprintf(mine, sizeof mine, "sink received %llu bytes", (unsigned long long)p->bytes_in);
        emu_log("#%llu sender %s: %s", (unsigned long long)p->serial, p->id, mine);
        emu_peer_send_close(p, AZR_WS_CLOSE_NORMAL, mine);
    } else if (b == EMU_B_ECHO) {
        emu_peer_send_close(p, ev->close_code, "");
    } else if (b == EMU_B_AZBRIDGE) {
        emu_peer_send_close(p, AZR_WS_CLOSE_NORMAL, "Shutdown"); /* its CloseConnection */
    } else if (b == EMU_B_SOURCE) {
        snprintf(mine, sizeof mine, "source sent %llu bytes", (unsigned long long)p->source_sent);
        emu_peer_send_close(p, AZR_WS_CLOSE_NORMAL, mine);
    } else if (!p->close_out) {
        emu_peer_send_close(p, AZR_WS_CLOSE_NORMAL, "The other side has gone.");
    }
    p->flush_then_close = true;
}

static void data_input(emu_peer *p)
{
    emu_builtin b = p->kind == EMU_K_SENDER && p->hc ? p->hc->builtin : EMU_B_NONE;
    for (;;) {
        size_t avail;
        const uint8_t *in = azr_xport_recvapp_buf(&p->x, &avail);
        if (avail == 0 || p->dead || p->flush_then_close)
            return;
        emu_peer *dst = b == EMU_B_ECHO || b == EMU_B_AZBRIDGE ? p : p->mate;
        if (b == EMU_B_SINK || b == EMU_B_SOURCE)
            dst = NULL;
        /* pongs and builtin answers go to p itself: keep room there too */
        size_t room = dst ? emu_peer_room(dst) : EMU_BUF;
        if (emu_peer_room(p) < EMU_CHUNK_ROOM || room < EMU_CHUNK_ROOM)
            return; /* the kick after a flush brings us back */
        size_t feed = avail < room - AZR_WS_MAX_HDR ? avail : room - AZR_WS_MAX_HDR;
        if (b == EMU_B_AZBRIDGE && feed > room - AZR_WS_MAX_HDR - EMU_AZB_EXTRA)
            feed = room - AZR_WS_MAX_HDR - EMU_AZB_EXTRA; /* a reply may go first */
        if (feed > sizeof scratch)
            feed = sizeof scratch;
        azr_ws_ev ev;
        int got = next_event(p, in, feed, &ev);
        if (got < 0)
            return;
        if (got == 0)
            continue;
        switch (ev.opcode) {
        case AZR_WS_PING:
        case AZR_WS_PONG:
            if (p->mate)
                (void)emu_peer_send_frame(p->mate, ev.opcode, true, ev.data, ev.data_len);
            else if (ev.opcode == AZR_WS_PING)
                (void)emu_peer_send_frame(p, AZR_WS_PONG, true, ev.data, ev.data_len);
            break;
        case AZR_WS_CLOSE:
            got_close(p, &ev);
            break;
        default:
            p->bytes_in += ev.data_len;
            if (b == EMU_B_AZBRIDGE) {
                if (ev.data_len) {
                    memcpy(scratch, ev.data, ev.data_len);
                    azr_ws_mask(scratch, ev.data_len, ev.mask, ev.mask_offset);
                    emu_azbridge_data(p, scratch, ev.data_len);
                }
                break;
            }
            if (!dst || dst->close_out)
                break;
            if (ev.frame_start) {
                uint8_t h[AZR_WS_MAX_HDR];
                size_t hl = azr_ws_hdr_write(h, ev.opcode, ev.fin, ev.payload_len, NULL);
                (void)emu_peer_send_raw(dst, h, hl);
            }
            if (ev.data_len) {
                memcpy(scratch, ev.data, ev.data_len);
                azr_ws_mask(scratch, ev.data_len, ev.mask, ev.mask_offset);
                (void)emu_peer_send_raw(dst, scratch, ev.data_len);
            }
            if (dst != p)
                emu_peer_kick(dst);
            break;
        }
    }
}

static void control_message(emu_peer *p)
{
    char token[AZR_SAS_MAX + 1], why[AZR_HTTP_MAX_REASON];
    const char *m = (const char *)p->msg;
    if (p->msg_over) {
        emu_log("#%llu listener sent a control message over %d bytes: ignored",
                (unsigned long long)p->serial, EMU_CTRL_MSG_MAX);
        return;
    }
    if (!memmem(m, p->msg_len, "\"renewToken\"", 12))
        return; /* unknown commands are ignored, as listeners ignore ours */
    if (!emu_json_find_str(m, p->msg_len, "token", token, sizeof token)) {
        emu_peer_send_close(p, AZR_WS_CLOSE_POLICY, "renewToken without a token string.");
        return;
    }
    if (!emu_service_renew(p, token, why, sizeof why)) {
        emu_log("#%llu listener renewToken refused: %s", (unsigned long long)p->serial, why);
        emu_peer_send_close(p, AZR_WS_CLOSE_POLICY, why);
    }
}

static void control_input(emu_peer *p)
{
    for (;;) {
        size_t avail;
        const uint8_t *in = azr_xport_recvapp_buf(&p->x, &avail);
        if (avail == 0 || p->dead || p->flush_then_close || emu_peer_room(p) < EMU_CHUNK_ROOM)
            return;
        azr_ws_ev ev;
        int got = next_event(p, in, avail, &ev);
        if (got < 0)
            return;
        if (got == 0)
            continue;
        switch (ev.opcode) {
        case AZR_WS_PING:
            (void)emu_peer_send_frame(p, AZR_WS_PONG, true, ev.data, ev.data_len);
            break;
        case AZR_WS_PONG:
            break;
        case AZR_WS_CLOSE: {
            char reason[AZR_WS_MAX_CTRL + 1];
            reason_text(&ev, reason);
            p->close_in = true;
            emu_log("#%llu listener on %s closed its control channel: %u %s",
                    (unsigned long long)p->serial, p->hc ? p->hc->name : "?", ev.close_code,
                    reason);
            emu_peer_send_close(p, ev.close_code, "");
            p->flush_then_close = true;
            break;
        }
        default:
            if (ev.msg_opcode != AZR_WS_TEXT)
                break;
            if (!p->msg && !(p->msg = malloc(EMU_CTRL_MSG_MAX))) {
                emu_peer_drop(p, "out of memory");
                return;
            }
            if (ev.data_len > EMU_CTRL_MSG_MAX - p->msg_len) {
                p->msg_over = true;
            } else {
                memcpy(p->msg + p->msg_len, ev.data, ev.data_len);
                azr_ws_mask(p->msg + p->msg_len, ev.data_len, ev.mask, ev.mask_offset);
                p->msg_len += ev.data_len;
            }
            if (ev.frame_end && ev.fin) {
                control_message(p);
                p->msg_len = 0;
                p->msg_over = false;
            }
            break;
        }
    }
}

void emu_splice_input(emu_peer *p)
{
    if (p->kind == EMU_K_CONTROL)
        control_input(p);
    else if (p->kind == EMU_K_SENDER || p->kind == EMU_K_RENDEZVOUS)
        data_input(p);
}

static bool is_source(const emu_peer *p)
{
    return p->kind == EMU_K_SENDER && p->hc && p->hc->builtin == EMU_B_SOURCE && !p->close_out;
}

bool emu_splice_more_output(emu_peer *p)
{
    return is_source(p) &&
           (p->source_left == 0 || emu_peer_room(p) >= SOURCE_FRAME + AZR_WS_MAX_HDR);
}

void emu_splice_output(emu_peer *p)
{
    if (!is_source(p))
        return;
    while (p->source_left > 0 && emu_peer_room(p) >= SOURCE_FRAME + AZR_WS_MAX_HDR) {
        size_t n = p->source_left < SOURCE_FRAME ? (size_t)p->source_left : SOURCE_FRAME;
        for (size_t i = 0; i < n; i++)
            scratch[i] = (uint8_t)((p->source_sent + i) % 251u);
        (void)emu_peer_send_frame(p, AZR_WS_BINARY, true, scratch, n);
        p->source_sent += n;
        p->source_left -= n;
    }
    if (p->source_left == 0) {
        char why[64];
        snprintf(why, sizeof why, "source sent %llu bytes", (unsigned long long)p->source_sent);
        emu_peer_send_close(p, AZR_WS_CLOSE_NORMAL, why);
    }
}

void emu_splice_lost(emu_peer *p)
{
    emu_peer *m = p->mate;
    if (!m)
        return;
    if (!m->close_out) {
        if (p->kind == EMU_K_SENDER)
            emu_peer_send_close(m, AZR_WS_CLOSE_GOING_AWAY,
                                "The sender client shut down the connection.");
        else
            emu_peer_send_close(m, AZR_WS_CLOSE_NORMAL, "The listener shut down the socket.");
    }
    emu_peer_finish(m);
}
