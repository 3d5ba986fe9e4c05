/*
 * BearSSL setup: trust anchors from PEM text and files (SSLCACertFilePaths,
 * SSLServerCACerts), and the explanation of BearSSL error codes for logs.
 * Anchors are loaded when listening starts (allocation allowed there) and
 * shared read-only by every connection's X.509 validator.
 */
#ifndef AZR_TLS_H
#define AZR_TLS_H

#include "err.h"
#include "tlsparams.h"
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

/*
 * A server's certificate chain and private key (RSA or EC), from PEM: the
 * chain's CERTIFICATE objects in order (leaf first) and one RSA PRIVATE KEY,
 * EC PRIVATE KEY or PKCS#8 PRIVATE KEY. Key material is wiped when freed.
 */
typedef struct azr_tls_creds {
    br_x509_certificate *chain;
    size_t n;
    int key_type;        /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC; 0 before a key is loaded */
    int issuer_key_type; /* the key type that signed the leaf */
    br_rsa_private_key rsa;
    br_ec_private_key ec;
    unsigned char *key_mem;
    size_t key_len;
} azr_tls_creds;

/* Load certificates and key from cert_path, then key_path (NULL or equal to
 * cert_path: one file holds both); checks the key matches the leaf.
 * AZR_E_IO / AZR_E_ARG with err naming the file and the reason. */
AZR_MUST_CHECK azr_err azr_tls_creds_load_files(azr_tls_creds *c, const char *cert_path,
                                                const char *key_path, char *err, size_t cap);
/* Add the objects of PEM text (no matching check: load_files does it). */
AZR_MUST_CHECK azr_err azr_tls_creds_load_pem(azr_tls_creds *c, const char *pem, size_t len,
                                              char *err, size_t cap);
void azr_tls_creds_free(azr_tls_creds *c);

/*
 * BearSSL contexts with only what azrelay offers (what the suite table in
 * tlsparams.c can name), so a static link leaves the rest of BearSSL out,
 * where br_ssl_*_init_full and br_x509_minimal_init_full link every
 * algorithm it has. The suites are every one of the table ("*"), TLS 1.0
 * to 1.2: the caller narrows both (SSLEnabledCipherSuites,
 * SSLEnabledProtocols), then sets buffers and resets.
 */
/* A server answering with the credentials' chain and key (RSA or EC); c
 * must outlive the context. Verifies RSA and ECDSA signatures (a client's
 * CertificateVerify) once an X.509 engine is set. */
void azr_tls_server_init(br_ssl_server_context *sc, const azr_tls_creds *c);
/* A client whose X.509 engine is xc (azr_tls_x509_init with the anchors),
 * already set in the engine; ta must outlive both. */
void azr_tls_client_init(br_ssl_client_context *cc, br_x509_minimal_context *xc,
                         const br_x509_trust_anchor *ta, size_t n);
/* An X.509 validator over the anchors: RSA and ECDSA (P-256, P-384, P-521)
 * signatures with SHA-1 to SHA-512 (BearSSL refuses MD5 in chains). */
void azr_tls_x509_init(br_x509_minimal_context *xc, const br_x509_trust_anchor *ta, size_t n);

/* The same for errors on our server side (local TLS): what the client did. */
const char *azr_tls_client_error_text(int code);

/* The subject common name (CN) of a certificate, escaped as certinfo.h
 * prints names; false when it has none. */
bool azr_tls_cert_cn(const br_x509_certificate *cert, char *out, size_t cap);

/* SSLCertSubject against a leaf: empty or "*" matches any; "K=V, K=V" (the
 * class's form) needs every named field equal, ASCII case ignored; other
 * text must be contained in the CN. Values compare as certinfo.h prints
 * them (escaped: a backslash twice, bytes beyond printable ASCII \xNN).
 * cn gets the leaf's CN ("none"), escaped the same way. */
bool azr_tls_subject_matches(const br_x509_certificate *leaf, const char *want, char *cn,
                             size_t cap);

/* Whether BearSSL has AES instructions on this CPU (x86 AES-NI, POWER8):
 * its AES-NI and POWER8 CTR vtable getters (the AES-GCM code) return NULL
 * where they cannot run. */
bool azr_tls_aes_hw(void);

/* The cipher suite order for this CPU: azr_tls_suites_order(su, aes_hw)
 * (pass azr_tls_aes_hw()), and why[cap] a sentence for the debug log
 * saying which suite leads and why (the CPU, or SSLEnabledCipherSuites
 * naming the order). */
void azr_tls_suites_for_cpu(azr_tls_suites *su, bool aes_hw, char *why, size_t cap);

/* A sentence for a BearSSL error code (engine or X.509), never NULL. */
const char *azr_tls_error_text(int code);

#endif
