/*
 * HTTP Digest access authentication, the client's computations (RFC 7616
 * §3.4.1 - §3.4.4; RFC 2069's form when the challenge has no qop). MD5 via
 * BearSSL's br_md5, SHA-256 via sha256.h. Hashes are lower-case hex, as the
 * RFC requires. No allocation, no I/O; intermediate values are wiped.
 */
#ifndef AZR_DIGEST_H
#define AZR_DIGEST_H

#include "authchal.h"

typedef enum azr_digest_alg {
    AZR_DIGEST_MD5 = 1,
    AZR_DIGEST_MD5_SESS,
    AZR_DIGEST_SHA256,
    AZR_DIGEST_SHA256_SESS
} azr_digest_alg;

/* Longest hex hash (SHA-256) plus the NUL. */
#define AZR_DIGEST_HEX_MAX (2 * 32 + 1)

/* The algorithm named by an algorithm= value (case-insensitive), or 0 when
 * it is one we do not implement (SHA-512-256 and anything else). */
azr_digest_alg azr_digest_alg_parse(const char *s, size_t len);
/* The RFC 7616 §3.3 spelling ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess"). */
const char *azr_digest_alg_name(azr_digest_alg a);

typedef struct azr_digest_in {
    azr_digest_alg alg;
    const char *user, *realm, *password; /* NUL-terminated, sent as UTF-8 bytes */
    const char *method, *uri;            /* A2 = method ":" uri */
    const char *nonce, *cnonce, *nc;     /* nc: 8 hex digits; cnonce, nc unused without qop */
    bool qop_auth;                       /* qop=auth; false: RFC 2069 (no qop), not for -sess */
} azr_digest_in;

/*
 * The request-digest (RFC 7616 §3.4.1):
 *   qop=auth:  KD(H(A1), nonce ":" nc ":" cnonce ":" "auth" ":" H(A2))
 *   no qop:    KD(H(A1), nonce ":" H(A2))            (RFC 2069)
 * with A1 = user ":" realm ":" password, or for -sess
 * H(user ":" realm ":" password) ":" nonce ":" cnonce (§3.4.2). out gets
 * 32 (MD5) or 64 (SHA-256) hex digits and a NUL.
 */
void azr_digest_response(const azr_digest_in *in, char out[AZR_DIGEST_HEX_MAX]);

/* userhash=true (RFC 7616 §3.4.4): H(user ":" realm), hex. */
void azr_digest_userhash(azr_digest_alg alg, const char *user, const char *realm,
                         char out[AZR_DIGEST_HEX_MAX]);

/* ------------------------------------------------------- the challenge */

/* Longest realm, nonce or opaque kept from a challenge. */
#define AZR_DIGEST_MAX_PARAM 256

/* One Digest challenge (RFC 7616 §3.3), collected from its auth-params. */
typedef struct azr_digest_chal {
    uint8_t alg; /* azr_digest_alg; MD5 when not given */
    bool alg_given, qop_given, qop_auth, stale, userhash, opaque_given;
    uint16_t seen;   /* parameters seen, to catch repeats */
    const char *bad; /* static text: why it cannot be answered; NULL: usable */
    char realm[AZR_DIGEST_MAX_PARAM + 1], nonce[AZR_DIGEST_MAX_PARAM + 1],
        opaque[AZR_DIGEST_MAX_PARAM + 1];
} azr_digest_chal;

/* Start collecting a challenge. */
void azr_digest_chal_init(azr_digest_chal *d);
/* One auth-param of it (names case-insensitive; unknown ones are ignored). */
void azr_digest_chal_param(azr_digest_chal *d, const azr_authchal_ev *ev);
/*
 * The challenge is complete: sets bad when it cannot be answered (no realm
 * or nonce, a repeated parameter, a value over AZR_DIGEST_MAX_PARAM, an
 * unknown algorithm, a qop list without "auth", -sess without qop).
 */
void azr_digest_chal_done(azr_digest_chal *d);
/* Preference among challenges: 0 unusable, 1 MD5, 2 SHA-256 (RFC 7616 §3.7). */
int azr_digest_chal_rank(const azr_digest_chal *d);

/*
 * The credentials value answering a usable challenge (RFC 7616 §3.4):
 * Digest username (or its userhash), realm, nonce, uri, algorithm (when the
 * challenge named one), response, opaque (echoed), qop=auth, nc (8 hex
 * digits), cnonce, userhash=true. user must not hold control characters.
 * Writes out[0..*out_len) and a NUL; AZR_E_LIMIT when cap is short,
 * AZR_E_ARG when d is not usable.
 */
AZR_MUST_CHECK azr_err azr_digest_write(const azr_digest_chal *d, const char *user,
                                        const char *password, const char *method, const char *uri,
                                        const char *cnonce, uint32_t nc, char *out, size_t cap,
                                        size_t *out_len);

#endif
