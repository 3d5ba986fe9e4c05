/*
 * RFC 7235 §4.3 / RFC 9110 §11.6.1 challenge lists (Proxy-Authenticate):
 *   Proxy-Authenticate = 1#challenge
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 * A pull lexer over one header value: each call reports the next challenge
 * (its scheme and token68, if any) or the next auth-param of the current
 * challenge. One value may carry several challenges, and the commas between
 * challenges and between parameters look alike: an element that starts with
 * "token BWS =" is a parameter of the current challenge, anything else starts
 * a new challenge. Empty list elements (",,") are skipped (RFC 9110 §5.6.1).
 * No allocation, no I/O; reported slices point into the caller's value.
 */
#ifndef AZR_AUTHCHAL_H
#define AZR_AUTHCHAL_H

#include "err.h"

typedef enum azr_authchal_kind {
    AZR_AUTHCHAL_SCHEME = 1, /* a new challenge: name = auth-scheme, value = token68 or empty */
    AZR_AUTHCHAL_PARAM       /* name = parameter name, value = its raw value */
} azr_authchal_kind;

typedef struct azr_authchal_ev {
    azr_authchal_kind kind;
    const char *name; /* inside the value given to init; not NUL-terminated */
    size_t name_len;
    const char *value; /* PARAM: without the quotes, escapes still in (see _unquote) */
    size_t value_len;
    bool quoted; /* PARAM: the value was a quoted-string */
} azr_authchal_ev;

typedef struct azr_authchal {
    /* first error */
    azr_err err;
    const char *why; /* static text */
    size_t err_at;   /* offset of the offending byte */
    /* private */
    const char *s;
    size_t len, pos;
    uint8_t state;
} azr_authchal;

/* Start lexing s[0..len) (NUL bytes are errors). s must outlive the lexer's use. */
void azr_authchal_init(azr_authchal *l, const char *s, size_t len);

/*
 * Next event. AZR_OK: ev is filled, its slices stay valid as long as the
 * value. AZR_AGAIN: the value is used up, nothing more to report. AZR_E_PROTO:
 * malformed (why and err_at say what and where); sticky. Events reported
 * before an error were well-formed, but the challenge in progress at the
 * error is incomplete. A value made only of commas and whitespace reports
 * nothing; RFC 9110 calls that invalid but harmless.
 */
AZR_MUST_CHECK azr_err azr_authchal_next(azr_authchal *l, azr_authchal_ev *ev);

/*
 * The value of a parameter as text: a quoted one loses its quoted-pair
 * backslashes (RFC 9110 §5.6.4). Writes out[0..*out_len) plus a NUL.
 * AZR_E_LIMIT when cap cannot hold it and the NUL (out is then "").
 */
AZR_MUST_CHECK azr_err azr_authchal_unquote(const azr_authchal_ev *ev, char *out, size_t cap,
                                            size_t *out_len);

#endif
