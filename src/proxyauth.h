/*
 * Proxy authentication for the HTTP CONNECT tunnel (ProxyAuthScheme,
 * ProxyUser, ProxyPassword, ProxyAuthorization), sans-I/O: the caller sends
 * the CONNECTs and reads the answers; this engine turns Proxy-Authenticate
 * values into the next Proxy-Authorization value, or into a refusal with a
 * readable reason. Schemes: Basic (RFC 7617), Digest (RFC 7616: MD5,
 * MD5-sess, SHA-256, SHA-256-sess, qop=auth or none, userhash), NTLMv2
 * (MS-NLMP). Negotiate (Kerberos) is recognised and refused. No allocation;
 * secrets are copied in and wiped by azr_pauth_wipe().
 *
 * One engine per tunnel attempt:
 *   azr_pauth_init(&a, &cfg);
 *   azr_pauth_first(&a, &out);   value for the first CONNECT, or none
 *   while the answer is 407:
 *       azr_pauth_feed(&a, v, n) for every Proxy-Authenticate header value
 *       azr_pauth_next(&a, &out) value for the next CONNECT, or a refusal
 *   azr_pauth_wipe(&a);          on success, failure or close
 * out.same_conn: NTLM's AUTHENTICATE_MESSAGE belongs to the connection that
 * carried the CHALLENGE_MESSAGE. The caller must read the 407's body to its
 * end, keep that connection and send the next CONNECT on it; if the proxy
 * closed it, the handshake is lost: report "proxy closed the connection in
 * the middle of the NTLM handshake" rather than retrying. Other values may
 * go on a new connection when the proxy closed the old one (send the NTLM
 * NEGOTIATE_MESSAGE on a connection the proxy keeps open: Proxy-Connection:
 * Keep-Alive).
 *
 * Rules: "Auto" (or "") answers the strongest scheme the proxy offers,
 * NTLM > Digest > Basic, and sends nothing before the first 407. An explicit
 * scheme must be offered; Basic is sent preemptively and NTLM starts with its
 * NEGOTIATE_MESSAGE on the first CONNECT. Each scheme gets one answer: a 407
 * after credentials were sent is a refusal, except that a Digest challenge
 * with stale=true earns one more try with its new nonce. ProxyAuthorization,
 * when set, is sent as is and a 407 after it is a refusal. "None" never sends
 * credentials.
 */
#ifndef AZR_PROXYAUTH_H
#define AZR_PROXYAUTH_H

#include "bounds.h"
#include "digest.h"
#include "err.h"

/* Ceilings (could join bounds.h when the engine is wired in). */
#define AZR_PAUTH_MAX_USER        256 /* ProxyUser bytes (UTF-8), = AZR_NTLM_MAX_TEXT */
#define AZR_PAUTH_MAX_PASSWORD    256 /* ProxyPassword bytes */
#define AZR_PAUTH_MAX_WORKSTATION 64  /* NTLM workstation name */
#define AZR_PAUTH_MAX_TARGET      (AZR_HOST_MAX + 8) /* "[host]:port" */
#define AZR_PAUTH_MAX_NTLM_CHAL   2048               /* a decoded CHALLENGE_MESSAGE */
#define AZR_PAUTH_MAX_VALUE       4096               /* a Proxy-Authorization value we send */
#define AZR_PAUTH_MAX_NAMES       96                 /* offered scheme names kept for messages */

typedef enum azr_pauth_scheme {
    AZR_PAUTH_AUTO = 0, /* "" or "Auto" */
    AZR_PAUTH_BASIC,
    AZR_PAUTH_DIGEST,
    AZR_PAUTH_NTLM,
    AZR_PAUTH_NEGOTIATE, /* accepted as a setting, refused when used */
    AZR_PAUTH_NONE
} azr_pauth_scheme;

/* A ProxyAuthScheme value (ASCII case-insensitive; NULL or "" is Auto).
 * AZR_E_ARG for anything else. */
AZR_MUST_CHECK azr_err azr_pauth_scheme_parse(const char *s, azr_pauth_scheme *out);

/* FILETIME (100 ns since 1601-01-01 UTC) from Unix time, for the clock callback. */
#define AZR_PAUTH_FILETIME(unix_sec, nsec)                                                         \
    (((uint64_t)(unix_sec) + 11644473600u) * 10000000u + (uint64_t)(nsec) / 100u)

typedef struct azr_pauth_cfg {
    const char *user;          /* ProxyUser, UTF-8; "DOMAIN\\user" or "user@domain" name the
                                  NTLM domain (Basic and Digest send the whole text); NULL = "" */
    const char *password;      /* ProxyPassword; NULL = "" */
    const char *scheme;        /* ProxyAuthScheme text; NULL = Auto */
    const char *authorization; /* ProxyAuthorization; non-empty: sent verbatim, no scheme logic */
    const char *workstation;   /* NTLM workstation name; NULL = "" (none sent) */
    const char *target;        /* the CONNECT request-target, "host:port" ("[v6]:port"):
                                  Digest's uri; required unless authorization is set */
    /* n random bytes (Digest cnonce, NTLM client challenge); required */
    void (*rand)(void *ud, uint8_t *out, size_t n);
    /* now as FILETIME (AZR_PAUTH_FILETIME), for NTLMv2 when the challenge has no
     * MsvAvTimestamp; required */
    uint64_t (*clock)(void *ud);
    void *ud;
} azr_pauth_cfg;

/* What to send next. */
typedef struct azr_pauth_out {
    const char *value; /* Proxy-Authorization value, NUL-terminated, inside the engine and
                          valid until its next call; NULL: send no Proxy-Authorization */
    size_t value_len;
    bool same_conn;   /* must go on the connection that carried the 407 (see above) */
    const char *step; /* static text for logs: "Basic", "Digest", "NTLM negotiate",
                         "NTLM authenticate", "ProxyAuthorization"; NULL with no value */
} azr_pauth_out;

/* The engine. A public type so callers can embed it; fields are private. */
typedef struct azr_pauth {
    azr_err err; /* first error, sticky */
    char why[AZR_ERRTEXT_MAX];
    /* settings */
    uint8_t scheme; /* azr_pauth_scheme */
    bool verbatim;  /* ProxyAuthorization mode */
    char user[AZR_PAUTH_MAX_USER + 1], password[AZR_PAUTH_MAX_PASSWORD + 1];
    char nt_user[AZR_PAUTH_MAX_USER + 1], nt_domain[AZR_PAUTH_MAX_USER + 1];
    char workstation[AZR_PAUTH_MAX_WORKSTATION + 1], target[AZR_PAUTH_MAX_TARGET + 1];
    void (*rand)(void *ud, uint8_t *out, size_t n);
    uint64_t (*clock)(void *ud);
    void *ud;
    /* progress */
    uint8_t phase, tried, ntlm; /* tried: schemes answered (bits); ntlm: handshake step */
    bool stale_used;
    uint32_t nc; /* Digest nonce count for last_nonce */
    char last_nonce[AZR_DIGEST_MAX_PARAM + 1];
    /* the challenges of the 407 being fed */
    uint8_t offered, cur; /* scheme bits; the challenge being lexed */
    char names[AZR_PAUTH_MAX_NAMES];
    char malformed[AZR_ERRTEXT_MAX / 2];
    azr_digest_chal dig, cur_dig; /* best Digest so far; the one being lexed */
    bool have_dig;
    const char *cur_name, *cur_tok; /* the current challenge's scheme and token68 */
    size_t cur_name_len;
    size_t cur_tok_len;
    uint8_t ntlm_msg[AZR_PAUTH_MAX_NTLM_CHAL];
    size_t ntlm_len;
    uint8_t ntlm_tok; /* 0 none, 1 decoded, 2 not base64, 3 too long */
    char out[AZR_PAUTH_MAX_VALUE + 1];
} azr_pauth;

/*
 * Copy the settings in. AZR_E_ARG: unknown scheme, a control character in
 * the user, the workstation, the target or ProxyAuthorization (CR/LF would
 * forge headers), a missing target or callback; AZR_E_LIMIT: a field over its
 * ceiling. azr_pauth_why() says which; the error sticks, so a later call
 * returns it too.
 */
AZR_MUST_CHECK azr_err azr_pauth_init(azr_pauth *a, const azr_pauth_cfg *cfg);

/*
 * The value for the first CONNECT: ProxyAuthorization verbatim; Basic when
 * ProxyAuthScheme is Basic and a user is set; the NTLM NEGOTIATE_MESSAGE when
 * it is NTLM and a user is set; otherwise none (out->value NULL). Once per
 * engine (AZR_E_STATE after). AZR_E_UNSUPPORTED when ProxyAuthScheme is
 * Negotiate; AZR_E_ARG for a user Basic cannot carry (':').
 */
AZR_MUST_CHECK azr_err azr_pauth_first(azr_pauth *a, azr_pauth_out *out);

/*
 * One Proxy-Authenticate header value of the 407 just received (call once
 * per header, in order; the value may hold several challenges). Nothing is
 * kept pointing into v after the call. Challenges complete before a
 * malformed spot count; the rest of that value is dropped and
 * AZR_E_PROTO returned, which is not sticky: feed the other headers, then
 * call next(), which reports the malformation only if nothing usable is left.
 * AZR_E_STATE before first() or after a refusal.
 */
AZR_MUST_CHECK azr_err azr_pauth_feed(azr_pauth *a, const char *v, size_t n);

/*
 * The value for the CONNECT after a 407, from the challenges fed since the
 * last call (which are then forgotten). AZR_OK with out filled, or a refusal,
 * sticky, with azr_pauth_why() for the user:
 *   AZR_E_AUTH         no ProxyUser; credentials (or ProxyAuthorization)
 *                      refused; ProxyAuthScheme None
 *   AZR_E_UNSUPPORTED  the configured scheme is not offered; only Negotiate
 *                      or unknown schemes offered; an unanswerable Digest
 *                      challenge (qop=auth-int only, SHA-512-256, ...)
 *   AZR_E_PROTO        no challenge, malformed challenges, a bad NTLM
 *                      CHALLENGE_MESSAGE or none after our NEGOTIATE_MESSAGE
 *   AZR_E_ARG          a user or password NTLM cannot encode (invalid UTF-8)
 *   AZR_E_LIMIT        the value would not fit AZR_PAUTH_MAX_VALUE
 *   AZR_E_STATE        called before first()
 */
AZR_MUST_CHECK azr_err azr_pauth_next(azr_pauth *a, azr_pauth_out *out);

/* Why the engine failed ("" while it has not); never NULL. */
const char *azr_pauth_why(const azr_pauth *a);

/* Wipe the engine (password, values sent, challenges); init before reuse. */
void azr_pauth_wipe(azr_pauth *a);

#endif
