/*
 * TLS towards the relay (wss://): what one connection keeps for it, in the
 * connection's single block. The functions are in conn.h; rtls.c
 * implements them.
 */
#ifndef AZR_RTLS_H
#define AZR_RTLS_H

#include "tls.h"
#include "x509v.h"

typedef struct azr_rtls {
    br_ssl_client_context cc;
    br_x509_minimal_context xm;
    azr_x509v v;        /* SSLSecurityFlags */
    bool resumed_offer; /* a kept session was offered (ReuseSSLSession) */
    unsigned char io[BR_SSL_BUFSIZE_BIDI];
    unsigned char leaf[AZR_CERT_LEAF_MAX]; /* last: only with SSLSecurityFlags 0x1 */
} azr_rtls;

#endif
