/*
 * TLS towards the relay (wss://): what one connection keeps for it, in the
 * connection's single block (the certificate check is in the handshake
 * block). The functions are in conn.h; rtls.c
 * implements them.
 */
#ifndef AZR_RTLS_H
#define AZR_RTLS_H

#include "tls.h"

typedef struct azr_rtls {
    br_ssl_client_context cc;
    bool resumed_offer; /* a kept session was offered (ReuseSSLSession) */
    unsigned char io[]; /* the engine's input, then output buffer (azr_tls_io_size) */
} azr_rtls;

#endif
