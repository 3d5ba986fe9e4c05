/*
 * Shared Access Signature tokens for Azure Relay (relay-protocol.md §4).
 *
 *   SharedAccessSignature sr=<enc(uri)>&sig=<enc(b64(HMAC-SHA256(key, sr "\n"
 * se)))>&se=<se>&skn=<enc(name)>
 *
 * The key is used as the bytes of its text (never base64-decoded). The string
 * signed is the sr value exactly as written into the token, so the hex case of
 * the encoding is part of the signature. No clock inside: the caller passes the
 * expiry (now + TokenValidity). No allocation, no I/O.
 */
#ifndef AZR_SAS_H
#define AZR_SAS_H

#include "bounds.h"
#include "err.h"

/* Resource URI shape and hex case (the TokenAudience setting). */
typedef enum azr_sas_form {
    AZR_SAS_SB_LOWER = 0,   /* sb://host/hc, %2f: the reference class's AccessToken (default) */
    AZR_SAS_SB_UPPER = 1,   /* sb://host/hc, %2F */
    AZR_SAS_HTTP = 2,       /* http://host/hc, %2F: Microsoft's Python helper */
    AZR_SAS_HTTP_SLASH = 3, /* http://host/hc/, %2F: the .NET SDK */
    AZR_SAS_HTTP_PORT = 4   /* http://host:port/hc, %2F: Node hyco-ws */
} azr_sas_form;
#define AZR_SAS_FORM_MAX 4

typedef struct azr_sas_params {
    const char *host;     /* namespace host; written lower-case */
    uint16_t port;        /* used by AZR_SAS_HTTP_PORT only */
    const char *hc;       /* hybrid connection name as configured ('/' allowed) */
    const char *key_name; /* SharedAccessKeyName (skn) */
    const char *key;      /* SharedAccessKey text */
    int64_t expiry;       /* se: seconds since 1970-01-01T00:00:00Z */
    azr_sas_form form;
} azr_sas_params;

/* Write the resource URI before encoding ("sb://host/hc"); NUL-terminated. */
AZR_MUST_CHECK azr_err azr_sas_resource(const azr_sas_params *p, char *out, size_t cap);

/*
 * Write the whole token, NUL-terminated, into out (cap counts the NUL;
 * AZR_SAS_MAX is always enough for inputs within limits.h).
 * AZR_E_ARG: empty host, hc, key name or key, or an expiry <= 0;
 * AZR_E_LIMIT: an input over its limits.h bound or out too small.
 */
AZR_MUST_CHECK azr_err azr_sas_token(const azr_sas_params *p, char *out, size_t cap,
                                     size_t *out_len);

/* ------------------------------------------------------ checking (emulator) */

typedef struct azr_sas_fields {
    char sr[AZR_SAS_MAX + 1];      /* as written in the token (what was signed) */
    char skn[AZR_KEYNAME_MAX + 1]; /* decoded */
    char se_text[24];              /* as written */
    int64_t se;
    uint8_t sig[32]; /* decoded HMAC */
} azr_sas_fields;

/*
 * Split a token the way Microsoft's parser does (relay-protocol.md §4.1):
 * "SharedAccessSignature" (any case), one space, '&'-separated pairs split at
 * their first '=', field names in any case; sr kept raw; sig, se, skn
 * URL-decoded with '+' as space. AZR_E_AUTH with why on anything malformed,
 * missing or repeated.
 */
AZR_MUST_CHECK azr_err azr_sas_parse(const char *token, size_t len, azr_sas_fields *f, char *why,
                                     size_t cap);

/*
 * Check a parsed token for a request to host and hybrid connection path hc:
 * signature (key used as text) -> expiry (se <= now is expired) -> audience
 * (scheme http, https, sb, ws or wss; the host; a path that is a segment
 * prefix of hc, any case, trailing '/' ignored). AZR_E_AUTH with a reason
 * modelled on the service's ("The token has an invalid signature.", ...).
 */
AZR_MUST_CHECK azr_err azr_sas_check(const azr_sas_fields *f, const char *key, int64_t now,
                                     const char *host, const char *hc, char *why, size_t cap);

#endif
