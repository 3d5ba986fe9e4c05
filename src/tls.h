/*
 * BearSSL setup: trust anchors from PEM text and files (SSLCACertFilePaths,
 * SSLServerCACerts), and the explanation of BearSSL error codes for logs.
 * Anchors are loaded when listening starts (allocation allowed there) and
 * shared read-only by every connection's X.509 validator.
 */
#ifndef AZR_TLS_H
#define AZR_TLS_H

#include "err.h"
#include <bearssl.h>

typedef struct azr_tls_anchors {
    br_x509_trust_anchor *ta;
    size_t n, cap;
} azr_tls_anchors;

/* Add every CERTIFICATE in pem[0..len); *added counts them. AZR_E_ARG with
 * err when the text holds no certificate or a broken one; AZR_E_NOMEM. */
AZR_MUST_CHECK azr_err azr_tls_anchors_add_pem(azr_tls_anchors *a, const char *pem, size_t len,
                                               size_t *added, char *err, size_t cap);

/* Add the certificates of a PEM file. AZR_E_IO (errno) when unreadable. */
AZR_MUST_CHECK azr_err azr_tls_anchors_add_file(azr_tls_anchors *a, const char *path, size_t *added,
                                                char *err, size_t cap);

void azr_tls_anchors_free(azr_tls_anchors *a);

/* A sentence for a BearSSL error code (engine or X.509), never NULL. */
const char *azr_tls_error_text(int code);

#endif
