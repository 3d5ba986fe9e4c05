/*
 * IMPLEMENTATION NOTES
 * The decoder is a resumable state machine (after wslay's frame reader):
 * HDR collects the 2 fixed header bytes, then the 2 or 8 extended length
 * bytes, into hdr[] and validates everything a header can break before any
 * payload byte is taken (RFC 6455 §5.2: RSV bits, opcodes, the MASK bit of a
 * server frame, control-frame size and FIN, minimal length encoding,
 * message sequencing, max_frame). DATA hands payload out as it arrives, as
 * pointers into the caller's input; CTRL gathers a control payload (<= 125
 * bytes) into ctrl[] and reports it whole. After a close frame nothing more
 * may arrive. The first error parks the decoder with the close code to send.
 */
#include "ws.h"

enum { S_HDR, S_DATA, S_CTRL, S_CLOSED, S_FAILED };

size_t azr_ws_hdr_write(uint8_t out[AZR_WS_MAX_HDR], uint8_t opcode, bool fin, uint64_t payload_len,
                        const uint8_t mask[4])
{
    size_t n = 0;
    uint8_t m = mask ? 0x80u : 0u;
    out[n++] = (uint8_t)((fin ? 0x80u : 0u) | (opcode & 0x0fu));
    if (payload_len < 126) {
        out[n++] = (uint8_t)(m | payload_len);
    } else if (payload_len <= 0xffff) {
        out[n++] = (uint8_t)(m | 126u);
        out[n++] = (uint8_t)(payload_len >> 8);
        out[n++] = (uint8_t)payload_len;
    } else {
        out[n++] = (uint8_t)(m | 127u);
        for (int s = 56; s >= 0; s -= 8)
            out[n++] = (uint8_t)(payload_len >> s);
    }
    if (!mask)
        return n;
    memcpy(out + n, mask, 4);
    return n + 4;
}

/* RFC 6455 §5.3: byte i of the payload is XORed with mask[i mod 4]. Bytes
 * up to an 8-byte boundary one at a time, then a word at a time with the
 * mask repeated in the word's byte order (memcpy keeps it free of alignment
 * and aliasing traps and compiles to plain loads and stores), then the
 * tail. */
void azr_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
    size_t k = (size_t)(offset & 3u), i = 0;
    while (i < len && ((uintptr_t)(data + i) & 7u) != 0) {
        data[i++] ^= mask[k];
        k = (k + 1) & 3u;
    }
    if (len - i >= 8) {
        uint8_t pat[8];
        for (size_t j = 0; j < 8; j++)
            pat[j] = mask[(k + j) & 3u];
        uint64_t m;
        memcpy(&m, pat, 8);
        for (; len - i >= 8; i += 8) {
            uint64_t w;
            memcpy(&w, data + i, 8);
            w ^= m;
            memcpy(data + i, &w, 8);
        }
    }
    for (; i < len; i++) {
        data[i] ^= mask[k];
        k = (k + 1) & 3u;
    }
}

void azr_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4])
{
    uint8_t pat[8];
    uint64_t m;
    size_t i = 0;
    for (size_t j = 0; j < 8; j++)
        pat[j] = mask[j & 3u];
    memcpy(&m, pat, 8);
    /* each block is loaded before it is stored: safe for dst == src and for a
     * dst below an overlapping src (the shift of a payload towards its header) */
#if defined(__GNUC__) || defined(__clang__)
    /* 32 bytes a step as two 16-byte vectors (SSE2, NEON; plain words where
     * the target has no vector unit): the masking is most of the
     * instructions a ws:// byte costs */
    typedef uint8_t v16 __attribute__((vector_size(16)));
    v16 mv;
    for (size_t j = 0; j < 16; j++)
        mv[j] = mask[j & 3u];
    for (; len - i >= 32; i += 32) {
        v16 a, b;
        memcpy(&a, src + i, 16);
        memcpy(&b, src + i + 16, 16);
        a ^= mv;
        b ^= mv;
        memcpy(dst + i, &a, 16);
        memcpy(dst + i + 16, &b, 16);
    }
#endif
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= m;
        memcpy(dst + i, &w, 8);
    }
    for (; i < len; i++)
        dst[i] = (uint8_t)(src[i] ^ mask[i & 3u]);
}

azr_err azr_ws_ctrl_write(uint8_t *out, size_t cap, uint8_t opcode, const uint8_t *payload,
                          size_t len, const uint8_t mask[4], size_t *out_len)
{
    *out_len = 0;
    if (!(opcode == AZR_WS_CLOSE || opcode == AZR_WS_PING || opcode == AZR_WS_PONG) ||
        len > AZR_WS_MAX_CTRL)
        return AZR_E_ARG;
    if (cap < 6 + len)
        return AZR_E_LIMIT;
    size_t h = azr_ws_hdr_write(out, opcode, true, len, mask);
    if (len)
        memcpy(out + h, payload, len);
    azr_ws_mask(out + h, len, mask, 0);
    *out_len = h + len;
    return AZR_OK;
}

bool azr_ws_close_code_valid(uint16_t code)
{
    /* RFC 6455 §7.4.1/§7.4.2 and the IANA registry: 1004-1006 and 1015 must
     * not be sent; 1016-2999 are reserved; 3000-4999 are for applications. */
    if (code >= 1000 && code <= 1014)
        return code != 1004 && code != 1005 && code != 1006;
    return code >= 3000 && code <= 4999;
}

/* One step of the RFC 3629 §4 syntax; need/lo/hi carry the state. */
static bool utf8_step(uint8_t *need, uint8_t *lo, uint8_t *hi, uint8_t b)
{
    if (*need == 0) {
        if (b < 0x80)
            return true;
        *lo = 0x80;
        *hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) {
            *need = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
            *need = 2;
            if (b == 0xe0)
                *lo = 0xa0; /* no overlong forms */
            if (b == 0xed)
                *hi = 0x9f; /* no surrogates */
        } else if (b >= 0xf0 && b <= 0xf4) {
            *need = 3;
            if (b == 0xf0)
                *lo = 0x90;
            if (b == 0xf4)
                *hi = 0x8f; /* nothing above U+10FFFF */
        } else {
            return false;
        }
        return true;
    }
    if (b < *lo || b > *hi)
        return false;
    *lo = 0x80;
    *hi = 0xbf;
    (*need)--;
    return true;
}

bool azr_ws_utf8_valid(const uint8_t *s, size_t len)
{
    uint8_t need = 0, lo = 0x80, hi = 0xbf;
    for (size_t i = 0; i < len; i++)
        if (!utf8_step(&need, &lo, &hi, s[i]))
            return false;
    return need == 0;
}

size_t azr_ws_close_payload(uint8_t out[AZR_WS_MAX_CTRL], uint16_t code, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    if (n > AZR_WS_MAX_CTRL - 2) {
        n = AZR_WS_MAX_CTRL - 2;
        /* back up to a character boundary */
        while (n > 0 && ((uint8_t)reason[n] & 0xc0) == 0x80)
            n--;
    }
    if (n)
        memcpy(out + 2, reason, n);
    return n + 2;
}

/* ------------------------------------------------------------ control queue */

/* A ping or pong slot takes the payload (a newer one replaces it); nothing
 * is queued after our close. */
static void slot_put(const azr_ws_ctrlq *q, uint8_t *slot, uint8_t *slot_len, bool *due,
                     const uint8_t *payload, size_t len)
{
    if (q->close_bits & (AZR_WS_CLOSE_QUEUED | AZR_WS_CLOSE_SENT) || len > AZR_WS_MAX_CTRL)
        return;
    if (len)
        memcpy(slot, payload, len);
    *slot_len = (uint8_t)len;
    *due = true;
}

void azr_ws_ctrlq_pong(azr_ws_ctrlq *q, const uint8_t *payload, size_t len)
{
    slot_put(q, q->pong, &q->pong_len, &q->pong_due, payload, len);
}

void azr_ws_ctrlq_ping(azr_ws_ctrlq *q, const uint8_t *payload, size_t len)
{
    slot_put(q, q->ping, &q->ping_len, &q->ping_due, payload, len);
}

bool azr_ws_ctrlq_close(azr_ws_ctrlq *q, uint16_t code, const char *reason)
{
    if (q->close_bits & (AZR_WS_CLOSE_QUEUED | AZR_WS_CLOSE_SENT))
        return false;
    q->close_len = (uint8_t)azr_ws_close_payload(q->close, code, reason);
    q->close_code = code;
    q->close_bits |= AZR_WS_CLOSE_QUEUED;
    return true;
}

uint8_t azr_ws_ctrlq_next(const azr_ws_ctrlq *q)
{
    if (q->close_bits & AZR_WS_CLOSE_SENT)
        return 0;
    if (q->pong_due)
        return AZR_WS_PONG;
    if (q->ping_due)
        return AZR_WS_PING;
    return (q->close_bits & AZR_WS_CLOSE_QUEUED) ? AZR_WS_CLOSE : 0;
}

azr_err azr_ws_ctrlq_take(azr_ws_ctrlq *q, uint8_t *out, size_t cap, const uint8_t mask[4],
                          size_t *out_len)
{
    uint8_t op = azr_ws_ctrlq_next(q);
    const uint8_t *pl = op == AZR_WS_PONG ? q->pong : op == AZR_WS_PING ? q->ping : q->close;
    size_t len = op == AZR_WS_PONG ? q->pong_len : op == AZR_WS_PING ? q->ping_len : q->close_len;
    *out_len = 0;
    if (op == 0 || azr_ws_ctrl_write(out, cap, op, pl, len, mask, out_len) != AZR_OK)
        return AZR_AGAIN;
    if (op == AZR_WS_PONG)
        q->pong_due = false;
    else if (op == AZR_WS_PING)
        q->ping_due = false;
    else
        q->close_bits = (q->close_bits & ~AZR_WS_CLOSE_QUEUED) | AZR_WS_CLOSE_SENT;
    return AZR_OK;
}

/* ------------------------------------------------------------------ decoder */

void azr_ws_dec_init(azr_ws_dec *d, uint64_t max_frame, bool strict_utf8)
{
    memset(d, 0, sizeof *d);
    d->state = S_HDR;
    d->hdr_need = 2;
    d->max_frame = max_frame;
    d->strict_utf8 = strict_utf8;
    d->u8_lo = 0x80;
    d->u8_hi = 0xbf;
}

void azr_ws_dec_server(azr_ws_dec *d)
{
    d->server = true;
}

static azr_err fail(azr_ws_dec *d, azr_err e, uint16_t code, const char *why)
{
    d->err = e;
    d->close_code = code;
    d->why = why;
    d->state = S_FAILED;
    return e;
}

static bool is_control(uint8_t op)
{
    return (op & 0x08u) != 0;
}

/* Validate the 2 fixed bytes; sets hdr_need for the extended length. */
static azr_err header_start(azr_ws_dec *d)
{
    uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
    uint8_t op = b0 & 0x0fu;
    d->fin = (b0 & 0x80u) != 0;
    d->opcode = op;
    if (b0 & 0x70u) /* §5.2: RSV1-3 must be 0 unless an extension says otherwise */
        return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "RSV bit set without an extension");
    if (!(op <= AZR_WS_BINARY || (op >= AZR_WS_CLOSE && op <= AZR_WS_PONG)))
        return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "reserved opcode");
    bool masked = (b1 & 0x80u) != 0;
    if (masked && !d->server) /* §5.1: a client must close on a masked server frame */
        return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "masked frame from the server");
    if (!masked && d->server) /* §5.1: a server must close on an unmasked client frame */
        return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "unmasked frame from the client");
    uint8_t len7 = b1 & 0x7fu;
    if (is_control(op)) {
        if (!d->fin) /* §5.5: control frames must not be fragmented */
            return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "fragmented control frame");
        if (len7 > AZR_WS_MAX_CTRL)
            return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "control frame over 125 bytes");
    } else if (op == AZR_WS_CONT) {
        if (!d->in_message) /* §5.4 */
            return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL,
                        "continuation frame without a message");
    } else if (d->in_message) {
        return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL,
                    "new data frame inside a fragmented message");
    }
    d->hdr_need = (uint8_t)((len7 == 126 ? 4 : len7 == 127 ? 10 : 2) + (masked ? 4 : 0));
    return AZR_OK;
}

/* The whole header is in: payload length, its form and bound. */
static azr_err header_end(azr_ws_dec *d)
{
    uint8_t len7 = d->hdr[1] & 0x7fu;
    uint64_t n = len7;
    if (len7 == 126) {
        n = ((uint64_t)d->hdr[2] << 8) | d->hdr[3];
        if (n < 126) /* §5.2: the minimal number of bytes must be used */
            return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "non-minimal 16-bit length");
    } else if (len7 == 127) {
        n = 0;
        for (int i = 2; i < 10; i++)
            n = (n << 8) | d->hdr[i];
        if (n >> 63)
            return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "64-bit length with top bit set");
        if (n <= 0xffff)
            return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "non-minimal 64-bit length");
    }
    if (d->server) /* the key is the header's last 4 bytes */
        memcpy(d->mask, d->hdr + d->hdr_need - 4, 4);
    if (d->max_frame && n > d->max_frame)
        return fail(d, AZR_E_LIMIT, AZR_WS_CLOSE_TOO_BIG, "frame larger than the limit");
    d->payload_len = d->remaining = n;
    d->started = false;
    d->ctrl_have = 0;
    if (!is_control(d->opcode) && d->opcode != AZR_WS_CONT)
        d->msg_opcode = d->opcode;
    d->state = is_control(d->opcode) ? S_CTRL : S_DATA;
    return AZR_OK;
}

static void next_frame(azr_ws_dec *d)
{
    d->state = S_HDR;
    d->hdr_have = 0;
    d->hdr_need = 2;
}

static azr_err emit_control(azr_ws_dec *d, azr_ws_ev *ev)
{
    if (d->server)
        azr_ws_mask(d->ctrl, d->ctrl_have, d->mask, 0);
    ev->opcode = ev->msg_opcode = d->opcode;
    ev->fin = true;
    ev->frame_start = ev->frame_end = true;
    ev->payload_len = d->payload_len;
    ev->data = d->ctrl;
    ev->data_len = d->ctrl_have;
    if (d->opcode == AZR_WS_CLOSE) {
        if (d->ctrl_have == 1) /* §5.5.1: a body starts with a 2-byte code */
            return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "close frame with a 1-byte body");
        if (d->ctrl_have == 0) {
            ev->close_code = AZR_WS_CLOSE_NO_STATUS;
        } else {
            uint16_t code = (uint16_t)((d->ctrl[0] << 8) | d->ctrl[1]);
            if (!azr_ws_close_code_valid(code)) /* §7.4 */
                return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "invalid close code");
            if (!azr_ws_utf8_valid(d->ctrl + 2, d->ctrl_have - 2u)) /* §5.5.1 */
                return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_BAD_DATA, "close reason is not UTF-8");
            ev->close_code = code;
            ev->close_reason = d->ctrl + 2;
            ev->close_reason_len = d->ctrl_have - 2u;
        }
        d->state = S_CLOSED;
        return AZR_OK;
    }
    next_frame(d);
    return AZR_OK;
}

azr_err azr_ws_dec_feed(azr_ws_dec *d, const uint8_t *in, size_t len, size_t *consumed,
                        azr_ws_ev *ev)
{
    size_t i = 0;
    azr_err e;
    *consumed = 0;
    memset(ev, 0, sizeof *ev);
    if (d->err != AZR_OK)
        return d->err;
    for (;;) {
        switch (d->state) {
        case S_HDR:
            while (d->hdr_have < d->hdr_need && i < len)
                d->hdr[d->hdr_have++] = in[i++];
            *consumed = i;
            if (d->hdr_have < d->hdr_need)
                return AZR_AGAIN;
            e = d->hdr_have == 2 ? header_start(d) : AZR_OK;
            if (e != AZR_OK)
                return e;
            if (d->hdr_have < d->hdr_need)
                continue;
            e = header_end(d);
            if (e != AZR_OK)
                return e;
            continue;
        case S_CTRL: {
            size_t n = len - i;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            memcpy(d->ctrl + d->ctrl_have, in + i, n);
            d->ctrl_have = (uint8_t)(d->ctrl_have + n);
            d->remaining -= n;
            i += n;
            *consumed = i;
            if (d->remaining > 0)
                return AZR_AGAIN;
            return emit_control(d, ev);
        }
        case S_DATA: {
            if (d->remaining > 0 && i == len)
                return AZR_AGAIN;
            size_t n = len - i;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            bool text = d->msg_opcode == AZR_WS_TEXT && d->strict_utf8;
            uint64_t off = d->payload_len - d->remaining;
            for (size_t k = 0; text && k < n; k++) {
                uint8_t b = in[i + k];
                if (d->server)
                    b ^= d->mask[(off + k) & 3u];
                if (!utf8_step(&d->u8_need, &d->u8_lo, &d->u8_hi, b))
                    return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_BAD_DATA, "text is not UTF-8");
            }
            if (d->server) {
                memcpy(ev->mask, d->mask, 4);
                ev->mask_offset = off;
            }
            ev->opcode = d->opcode;
            ev->msg_opcode = d->msg_opcode;
            ev->fin = d->fin;
            ev->frame_start = !d->started;
            ev->payload_len = d->payload_len;
            ev->data = in + i;
            ev->data_len = n;
            d->started = true;
            d->remaining -= n;
            i += n;
            *consumed = i;
            ev->frame_end = d->remaining == 0;
            if (ev->frame_end) {
                d->in_message = !d->fin;
                if (d->fin && text && d->u8_need != 0)
                    return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_BAD_DATA,
                                "text ends inside a UTF-8 character");
                next_frame(d);
            }
            return AZR_OK;
        }
        case S_CLOSED:
            if (i == len)
                return AZR_AGAIN;
            return fail(d, AZR_E_PROTO, AZR_WS_CLOSE_PROTOCOL, "data after a close frame");
        default:
            return d->err != AZR_OK ? d->err : AZR_E_STATE;
        }
    }
}

size_t azr_ws_dec_peek(const azr_ws_dec *d, const uint8_t *in, size_t len)
{
    if (d->err != AZR_OK || d->state != S_DATA || d->server)
        return 0;
    size_t n = len < d->remaining ? len : (size_t)d->remaining;
    if (d->msg_opcode == AZR_WS_TEXT && d->strict_utf8) {
        uint8_t need = d->u8_need, lo = d->u8_lo, hi = d->u8_hi;
        for (size_t k = 0; k < n; k++)
            if (!utf8_step(&need, &lo, &hi, in[k]))
                return k; /* feed stops at that byte with 1007 */
    }
    return n;
}

size_t azr_ws_dec_step(const azr_ws_dec *d, size_t len)
{
    size_t n = len;
    if (d->state == S_HDR)
        n = (size_t)(d->hdr_need - d->hdr_have);
    else if (d->state == S_CTRL || d->state == S_DATA)
        n = len < d->remaining ? len : (size_t)d->remaining;
    return n < len ? n : len;
}
