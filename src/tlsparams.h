/*
 * The class's TLS vocabulary mapped onto BearSSL: cipher suite names
 * (SSLEnabledCipherSuites, SSLNegotiatedCipherSuite), protocol bits
 * (SSLEnabledProtocols), what a negotiated session reports
 * (SSLNegotiated*), and NSS key log lines (SSLKeyLogFile). No I/O but the
 * key log append.
 */
#ifndef AZR_TLSPARAMS_H
#define AZR_TLSPARAMS_H

#include "err.h"
#include <bearssl.h>

#define AZR_TLS_MAX_SUITES 32

/*
 * A build option for firmware: with AZR_TLS_AEAD_ONLY=1 (CFLAGS=
 * -DAZR_TLS_AEAD_ONLY=1) azrelay speaks ECDHE with AES-GCM or
 * ChaCha20-Poly1305 and TLS 1.2 only. The suite table, "*" and
 * SSLEnabledProtocols shrink to that, and a static link leaves out
 * BearSSL's CBC, CCM and 3DES records, the RSA key exchange and the TLS
 * 1.0/1.1 PRF. The default (0) keeps every suite of the table.
 */
#ifndef AZR_TLS_AEAD_ONLY
#define AZR_TLS_AEAD_ONLY 0
#endif

/* SSLEnabledProtocols bits, as the class defines them */
#define AZR_TLS_PROTO_TLS10 0xC0
#define AZR_TLS_PROTO_TLS11 0x300
#define AZR_TLS_PROTO_TLS12 0xC00
#define AZR_TLS_PROTO_TLS13 0x3000

typedef struct azr_tls_suites {
    uint16_t id[AZR_TLS_MAX_SUITES];
    size_t n;
    bool automatic; /* "" or "*": the order is ours (azr_tls_suites_order may change it) */
} azr_tls_suites;

/*
 * Parse SSLEnabledCipherSuites: names (IANA, e.g.
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) separated by ';' or ',', in order
 * of preference; "" the safe default (ECDHE with AEAD only); "*" every
 * suite BearSSL has. AZR_E_ARG names an unknown or unsupported suite.
 * out->automatic tells the two automatic lists from a named one.
 */
AZR_MUST_CHECK azr_err azr_tls_suites_parse(const char *text, azr_tls_suites *out, char *err,
                                            size_t cap);

/*
 * The automatic order for this CPU: with AES instructions (aes_hw) the
 * list stays as parsed, AES-GCM first; without, the ChaCha20-Poly1305
 * suites move ahead of every other (the rest keep their order), as
 * BearSSL's constant-time software AES-GCM is several times slower than
 * its ChaCha20-Poly1305. A named list (su->automatic false) is the
 * user's order and is left alone. Returns whether ChaCha20 now leads.
 */
bool azr_tls_suites_order(azr_tls_suites *su, bool aes_hw);

/* SSLEnabledProtocols bits -> BearSSL version range. AZR_E_UNSUPPORTED for
 * TLS 1.3 alone, SSL 2/3, or gaps (BearSSL takes a contiguous range). */
AZR_MUST_CHECK azr_err azr_tls_versions(long bits, unsigned *min, unsigned *max, char *err,
                                        size_t cap);

/* What a finished handshake negotiated. */
typedef struct azr_tls_info {
    unsigned version; /* BR_TLS12, ... (0: none) */
    uint16_t suite;
    int curve; /* ECDHE curve id (RFC 8422), 0 when none */
} azr_tls_info;

void azr_tls_info_get(br_ssl_engine_context *eng, azr_tls_info *out);

/* The class's SSLNegotiated* field "name" (Version, Cipher, CipherSuite,
 * CipherStrength, KeyExchange, KeyExchangeStrength) into out; false for an
 * unknown name. */
bool azr_tls_info_field(const azr_tls_info *i, const char *name, size_t nl, char *out, size_t cap);

/* IANA name of a suite ("unknown" when not in BearSSL's list). */
const char *azr_tls_suite_name(uint16_t id);

/*
 * Append "CLIENT_RANDOM <64 hex> <96 hex>" (NSS key log) for eng's session
 * to path (SSLKeyLogFile). It must neither block the loop nor widen who can
 * read the secrets: the file is opened non-blocking, a symbolic link is not
 * followed, and anything but a regular file (a FIFO, a device, a
 * directory, a link) is refused; a new file is created 0600, and an
 * existing one that group or others may access is set to 0600 first
 * (refused when that fails). AZR_E_IO with err[cap] a sentence for the log
 * ("SSLKeyLogFile <path>: <reason>") and errno set (EINVAL for a file that
 * is not a regular one). The line is wiped from memory after use.
 */
AZR_MUST_CHECK azr_err azr_tls_keylog_append(const char *path, const br_ssl_engine_context *eng,
                                             char *err, size_t cap);

#endif
