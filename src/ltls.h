/*
 * TLS towards a local client (SSLEnabled): what one connection keeps for
 * it, in the connection's single block. The functions are in conn.h (they
 * take the connection); ltls.c implements them.
 */
#ifndef AZR_LTLS_H
#define AZR_LTLS_H

#include "tls.h"

struct azr_conn;

/* Our server policy: fires SSLConnectionRequest, then hands the handshake
 * to BearSSL's single-certificate policy for the chosen certificate. */
typedef struct azr_ltls_policy {
    const br_ssl_server_policy_class *vtable;
    struct azr_conn *c;
} azr_ltls_policy;

typedef struct azr_ltls {
    br_ssl_server_context sc;
    azr_ltls_policy pol;
    bool cert_seen;     /* the validator ran (SSLClientAuthentication fired) */
    unsigned char io[]; /* the engine's input, then output buffer (azr_tls_io_size) */
} azr_ltls;

#endif
