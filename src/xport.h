/*
 * One side of a connection as four byte ports, shaped like a BearSSL engine
 * (recvrec/recvapp/sendapp/sendrec, each a _buf and an _ack), so the
 * connection logic drives a plaintext socket and a TLS one the same way.
 * This is the plaintext transport: records are application bytes, so
 * recvrec and recvapp share the input buffer, sendapp and sendrec the output
 * one. Buffers are the caller's (one block per connection); nothing here
 * allocates.
 */
#ifndef AZR_XPORT_H
#define AZR_XPORT_H

#include "err.h"

#define AZR_X_SENDREC 1u /* bytes are waiting to go to the socket */
#define AZR_X_RECVREC 2u /* room to read from the socket */
#define AZR_X_SENDAPP 4u /* room for application bytes */
#define AZR_X_RECVAPP 8u /* application bytes are waiting to be taken */

typedef struct azr_xport {
    uint8_t *in, *out;
    size_t in_cap, in_off, in_len;    /* in[in_off .. in_off+in_len) unread */
    size_t out_cap, out_off, out_len; /* out[out_off .. out_off+out_len) unsent */
} azr_xport;

void azr_xport_init(azr_xport *x, uint8_t *in, size_t in_cap, uint8_t *out, size_t out_cap);
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

#endif
