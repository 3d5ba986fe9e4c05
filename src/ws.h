/*
 * WebSocket framing, RFC 6455 §5, for the client side of a connection:
 * an encoder for (always masked) client frames and a streaming decoder for
 * (never masked) server frames. No allocation, no I/O, no clock.
 */
#ifndef AZR_WS_H
#define AZR_WS_H

#include "bounds.h"
#include "err.h"

/* RFC 6455 §5.2 opcodes */
#define AZR_WS_CONT   0x0
#define AZR_WS_TEXT   0x1
#define AZR_WS_BINARY 0x2
#define AZR_WS_CLOSE  0x8
#define AZR_WS_PING   0x9
#define AZR_WS_PONG   0xA

/* RFC 6455 §7.4.1 close codes we send or report */
#define AZR_WS_CLOSE_NORMAL     1000
#define AZR_WS_CLOSE_GOING_AWAY 1001
#define AZR_WS_CLOSE_PROTOCOL   1002
#define AZR_WS_CLOSE_NO_STATUS  1005 /* never on the wire: "close frame had no code" */
#define AZR_WS_CLOSE_BAD_DATA   1007
#define AZR_WS_CLOSE_POLICY     1008
#define AZR_WS_CLOSE_TOO_BIG    1009
#define AZR_WS_CLOSE_INTERNAL   1011

/* ------------------------------------------------------------------ encoder */

/*
 * Write a client frame header (FIN/opcode byte, masked length in its minimal
 * form, 4 mask bytes) into out; returns its length, 6 to 14. The caller
 * copies the payload after it through azr_ws_mask(). mask comes from the
 * caller's random source (RFC 6455 §5.3: fresh and unpredictable per frame).
 * mask NULL writes an unmasked server frame header (2 to 10 bytes), as the
 * relay emulator sends.
 */
size_t azr_ws_hdr_write(uint8_t out[AZR_WS_MAX_HDR], uint8_t opcode, bool fin, uint64_t payload_len,
                        const uint8_t mask[4]);

/*
 * Mask (or unmask) len bytes in place. offset is the position of data[0]
 * within the frame's payload, so a payload can be masked in pieces.
 */
void azr_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);

/*
 * Masked copy of a whole payload (its first byte at offset 0): dst[i] =
 * src[i] ^ mask[i % 4], a word at a time. dst may be src (in place) or lie
 * below an overlapping src (a payload read behind a reserved header moves
 * down to the header it got), never above it.
 */
void azr_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4]);

/*
 * Write a whole masked control frame (ping, pong, close) with a payload of at
 * most 125 bytes into out[cap]. AZR_E_ARG for a non-control opcode or a
 * payload over 125 bytes; AZR_E_LIMIT when cap is too small.
 */
AZR_MUST_CHECK azr_err azr_ws_ctrl_write(uint8_t *out, size_t cap, uint8_t opcode,
                                         const uint8_t *payload, size_t len, const uint8_t mask[4],
                                         size_t *out_len);

/*
 * Build a close payload: 2-byte code + reason (truncated to 123 bytes at a
 * UTF-8 character boundary). out must hold AZR_WS_MAX_CTRL bytes. Returns its
 * length. code must be one a sender may use (RFC 6455 §7.4).
 */
size_t azr_ws_close_payload(uint8_t out[AZR_WS_MAX_CTRL], uint16_t code, const char *reason);

/* True when code may appear in a close frame (RFC 6455 §7.4.1, §7.4.2). */
bool azr_ws_close_code_valid(uint16_t code);

/* True when s[0..len) is well-formed UTF-8 (RFC 3629). */
bool azr_ws_utf8_valid(const uint8_t *s, size_t len);

/* ------------------------------------------------------------ control queue */

/*
 * Control frames waiting for room in the output, one slot per kind (wslay's
 * close bits and control queue): a pong (RFC 6455 §5.5.3: answering the
 * latest ping is enough, so a newer ping's payload replaces an older one), a
 * ping, and a close. They go out ahead of data, pong first, close last; once
 * the close is taken nothing else is. No allocation; zero-initialise.
 */
#define AZR_WS_CLOSE_QUEUED   1u /* a close waits in the queue */
#define AZR_WS_CLOSE_SENT     2u /* our close was taken for the wire */
#define AZR_WS_CLOSE_RECEIVED 4u /* the peer's close arrived (set by the caller) */

typedef struct azr_ws_ctrlq {
    uint8_t pong[AZR_WS_MAX_CTRL], ping[AZR_WS_MAX_CTRL], close[AZR_WS_MAX_CTRL];
    uint8_t pong_len, ping_len, close_len;
    bool pong_due, ping_due;
    unsigned close_bits;
    uint16_t close_code; /* the code queued or sent (0: none) */
} azr_ws_ctrlq;

/* Queue a pong (replacing one not yet taken) or a ping; len <= 125. Ignored
 * once our close was queued. */
void azr_ws_ctrlq_pong(azr_ws_ctrlq *q, const uint8_t *payload, size_t len);
void azr_ws_ctrlq_ping(azr_ws_ctrlq *q, const uint8_t *payload, size_t len);
/* Queue our close (the first one wins); false when one was queued before. */
bool azr_ws_ctrlq_close(azr_ws_ctrlq *q, uint16_t code, const char *reason);
/* Opcode of the frame azr_ws_ctrlq_take() would write next, 0 for none. */
uint8_t azr_ws_ctrlq_next(const azr_ws_ctrlq *q);
/*
 * Write the next frame, masked with mask, into out[cap]. AZR_AGAIN when
 * nothing is due or it does not fit (it stays queued: frames are written
 * whole or not at all).
 */
AZR_MUST_CHECK azr_err azr_ws_ctrlq_take(azr_ws_ctrlq *q, uint8_t *out, size_t cap,
                                         const uint8_t mask[4], size_t *out_len);

/* ------------------------------------------------------------------ decoder */

typedef struct azr_ws_ev {
    uint8_t opcode;       /* of this frame (AZR_WS_CONT for continuations) */
    uint8_t msg_opcode;   /* TEXT or BINARY for data frames, else = opcode */
    bool fin;             /* FIN bit of this frame */
    bool frame_start;     /* first chunk of this frame */
    bool frame_end;       /* this chunk completes the frame */
    uint64_t payload_len; /* whole frame, as announced by the header */
    const uint8_t *data;  /* data frames: inside the caller's input; control: the ctx's slot */
    size_t data_len;
    /* server mode: the frame's mask and data[0]'s offset in the payload; the
     * caller unmasks a copy with azr_ws_mask(copy, data_len, mask, mask_offset).
     * Control payloads (ctrl slot) and close reasons are unmasked already. */
    uint8_t mask[4];
    uint64_t mask_offset;
    /* close frames only (frame_end set): code (1005 if the frame had none) and reason */
    uint16_t close_code;
    const uint8_t *close_reason;
    size_t close_reason_len;
} azr_ws_ev;

typedef struct azr_ws_dec {
    /* private */
    uint8_t state;
    uint8_t hdr[AZR_WS_MAX_HDR];
    uint8_t hdr_have, hdr_need;
    uint8_t opcode, msg_opcode;
    bool fin, in_message, started;
    uint64_t payload_len, remaining;
    uint8_t ctrl[AZR_WS_MAX_CTRL];
    uint8_t ctrl_have;
    uint8_t u8_need, u8_lo, u8_hi; /* streaming UTF-8 check of text messages */
    uint8_t mask[4];               /* server mode: the current frame's key */
    /* settings */
    uint64_t max_frame; /* 0: no limit */
    bool strict_utf8;   /* check text messages (close reasons are always checked) */
    bool server;        /* decode client frames: masked, RFC 6455 §5.1 (the emulator) */
    /* first error: what to answer in our close frame, and why */
    azr_err err;
    uint16_t close_code;
    const char *why;
} azr_ws_dec;

/*
 * Start a decoder. max_frame bounds a single frame's payload (0: none;
 * exceeded -> 1009). strict_utf8 validates text messages (-> 1007).
 */
void azr_ws_dec_init(azr_ws_dec *d, uint64_t max_frame, bool strict_utf8);

/* Decode client frames instead (for a server such as the relay emulator):
 * every frame must be masked, and data chunks come with their mask. */
void azr_ws_dec_server(azr_ws_dec *d);

/*
 * Feed server bytes. *consumed is always set. Returns:
 *   AZR_OK     ev holds one event (a payload chunk of a data frame, or a whole
 *              control frame); call again with the rest of the input;
 *   AZR_AGAIN  all input used, nothing to report yet;
 *   AZR_E_PROTO / AZR_E_LIMIT  the stream is broken: d->close_code is the
 *              code to send (1002, 1007, 1009), d->why a fixed text. Sticky.
 * Data chunks point into in and stay valid while in does; control payloads
 * point into d and stay valid until the next call. A data frame of N bytes
 * never yields more than N bytes, and needs no N-byte buffer.
 */
AZR_MUST_CHECK azr_err azr_ws_dec_feed(azr_ws_dec *d, const uint8_t *in, size_t len,
                                       size_t *consumed, azr_ws_ev *ev);

/*
 * Zero-copy reading, peek then commit. azr_ws_dec_peek(): how many of the next
 * len input bytes are payload of the current data frame that may be used as
 * they are (client mode; text under strict_utf8 only up to its first invalid
 * byte), 0 when the decoder is not inside such a payload. The caller uses
 * what it can straight from its input, then commits exactly those bytes with
 * azr_ws_dec_feed(), which yields them as one data event. When peek says 0,
 * feed at most azr_ws_dec_step(d, len) bytes: that completes a header or a
 * control frame without running into a payload the caller may want to peek.
 */
size_t azr_ws_dec_peek(const azr_ws_dec *d, const uint8_t *in, size_t len);
size_t azr_ws_dec_step(const azr_ws_dec *d, size_t len);

#endif
