/*
 * One error enum for every module. Parsers keep their first error; the public
 * API maps these to the class's numeric codes (see err.c).
 */
#ifndef AZR_ERR_H
#define AZR_ERR_H

#include "platform.h"

typedef enum azr_err {
    AZR_OK = 0,
    AZR_AGAIN,         /* not an error: more input or more room is needed */
    AZR_E_PROTO,       /* the peer broke the protocol */
    AZR_E_LIMIT,       /* a named bound was hit */
    AZR_E_ARG,         /* caller error: bad argument or bad setting value */
    AZR_E_STATE,       /* call not valid in the current state */
    AZR_E_NOMEM,       /* allocation failed */
    AZR_E_IO,          /* system call failed (errno saved by the caller) */
    AZR_E_TLS,         /* TLS engine failure */
    AZR_E_AUTH,        /* authentication refused */
    AZR_E_TIMEOUT,     /* a deadline passed */
    AZR_E_CLOSED,      /* the peer closed */
    AZR_E_UNSUPPORTED, /* defined by the reference class, not implemented */
    AZR_E_REFUSED      /* the peer refused (HTTP status, SOCKS reply) */
} azr_err;

/* Short fixed name of an error ("protocol error", ...); never NULL. */
const char *azr_err_name(azr_err e);

#endif
