/*
 * One side of a connection as four byte ports, shaped like a BearSSL engine
 * (recvrec/recvapp/sendapp/sendrec, each a _buf and an _ack), so the
 * connection logic drives a plaintext socket and a TLS one the same way.
 * Plaintext: records are application bytes, so recvrec and recvapp share the
 * input buffer, sendapp and sendrec the output one. TLS: the four ports are
 * the BearSSL engine's own. Buffers are the caller's (one block per
 * connection); nothing here allocates.
 */
#ifndef AZR_XPORT_H
#define AZR_XPORT_H

#include "err.h"
#include <bearssl.h>

#define AZR_X_SENDREC 1u  /* bytes are waiting to go to the socket */
#define AZR_X_RECVREC 2u  /* room to read from the socket */
#define AZR_X_SENDAPP 4u  /* room for application bytes */
#define AZR_X_RECVAPP 8u  /* application bytes are waiting to be taken */
#define AZR_X_CLOSED  16u /* TLS engine closed (see azr_xport_error) */

typedef struct azr_xport {
    uint8_t *in, *out;
    size_t in_cap, in_off, in_len;    /* in[in_off .. in_off+in_len) unread */
    size_t out_cap, out_off, out_len; /* out[out_off .. out_off+out_len) unsent */
    br_ssl_engine_context *eng;       /* non-NULL: TLS */
} azr_xport;

void azr_xport_init(azr_xport *x, uint8_t *in, size_t in_cap, uint8_t *out, size_t out_cap);
/* A TLS transport over an engine the caller has set up (buffers, reset). */
void azr_xport_init_tls(azr_xport *x, br_ssl_engine_context *eng);
/* TLS: push buffered application bytes into a record now. Plaintext: no-op. */
void azr_xport_flush(azr_xport *x);
/* Room for application bytes right now. */
size_t azr_xport_sendapp_room(azr_xport *x);
/* TLS: the engine's error code once closed (0: clean close); plaintext: 0. */
int azr_xport_error(const azr_xport *x);
unsigned azr_xport_state(const azr_xport *x);

/* where socket bytes go, and how many landed */
uint8_t *azr_xport_recvrec_buf(azr_xport *x, size_t *len);
void azr_xport_recvrec_ack(azr_xport *x, size_t n);
/* application bytes to take, and how many were taken */
const uint8_t *azr_xport_recvapp_buf(const azr_xport *x, size_t *len);
void azr_xport_recvapp_ack(azr_xport *x, size_t n);
/* room for application bytes, and how many were put */
uint8_t *azr_xport_sendapp_buf(azr_xport *x, size_t *len);
void azr_xport_sendapp_ack(azr_xport *x, size_t n);
/* bytes for the socket, and how many were sent */
const uint8_t *azr_xport_sendrec_buf(const azr_xport *x, size_t *len);
void azr_xport_sendrec_ack(azr_xport *x, size_t n);

/*
 * Records sealed outside the transport's buffer (burst.c: several at once,
 * for one gathered write). A transport with nothing buffered for output
 * and open to application data: azr_xport_seal_room says how much
 * plaintext one record holds (what the transport's own records hold: TLS,
 * SSLOutBufferSize and a negotiated maximum fragment length; plaintext,
 * its output buffer) and the room a sealed record needs around it (*pre
 * before the plaintext, *post after); 0 otherwise. azr_xport_seal turns
 * plaintext pt[0..*len), with that room around it, into a record in place
 * and returns its start (*len: its length): the engine's next record, as
 * its own would be, so the records it makes later follow. Plaintext: the
 * bytes themselves.
 */
size_t azr_xport_seal_room(const azr_xport *x, size_t *pre, size_t *post);
/* Nothing buffered for output: no record waiting for the socket and, TLS,
 * no application bytes in a record still filling. */
bool azr_xport_out_empty(const azr_xport *x);
uint8_t *azr_xport_seal(azr_xport *x, uint8_t *pt, size_t *len);

#endif
