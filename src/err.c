#include "err.h"

const char *azr_err_name(azr_err e)
{
    switch (e) {
    case AZR_OK:
        return "ok";
    case AZR_AGAIN:
        return "in progress";
    case AZR_E_PROTO:
        return "protocol error";
    case AZR_E_LIMIT:
        return "limit exceeded";
    case AZR_E_ARG:
        return "invalid argument";
    case AZR_E_STATE:
        return "invalid state";
    case AZR_E_NOMEM:
        return "out of memory";
    case AZR_E_IO:
        return "I/O error";
    case AZR_E_TLS:
        return "TLS error";
    case AZR_E_AUTH:
        return "authentication failed";
    case AZR_E_TIMEOUT:
        return "timed out";
    case AZR_E_CLOSED:
        return "connection closed";
    case AZR_E_UNSUPPORTED:
        return "not supported";
    case AZR_E_REFUSED:
        return "refused";
    default:
        return "unknown error";
    }
}
