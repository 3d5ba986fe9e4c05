/*
 * The request head of azrelay-proxy's metrics endpoint (MetricsAddress),
 * sans I/O, after picohttpparser: each call parses the bytes received so far
 * from the start (a head is at most AZR_HTTPREQ_MAX_HEAD bytes, so a
 * trickling client costs little), allocates nothing and points into the
 * caller's buffer. RFC 9112 §2-§5 as a small server needs it: the request
 * line (method, target, HTTP/1.0 or 1.1), header lines counted and checked,
 * Host required in HTTP/1.1, Connection: close noted. A body is not read:
 * the endpoint answers GET only and closes the connection after answering.
 */
#ifndef AZR_DAEMON_HTTPREQ_H
#define AZR_DAEMON_HTTPREQ_H

#include "platform.h"

#include "bounds.h"
#include "err.h"

typedef struct azr_httpreq {
    const char *method; /* a token, inside the input */
    size_t method_len;
    const char *path; /* the target up to '?': starts with '/', or "*", or CONNECT's host:port */
    size_t path_len;
    const char *query; /* after '?', or NULL */
    size_t query_len;
    int minor;       /* HTTP/1.minor: 0 or 1 */
    size_t nheaders; /* header lines */
    bool conn_close; /* Connection: close (or HTTP/1.0 without keep-alive) */
    size_t head_len; /* AZR_OK: the head's bytes, up to its blank line included */
    int status;      /* an error's answer: 400, 414, 431, 505 */
    char why[96];    /* an error's reason, for the log */
} azr_httpreq;

/*
 * Parse the head at the start of in[len]. AZR_OK: a whole head, fields set,
 * out->head_len bytes used (what follows is a body or a pipelined request).
 * AZR_AGAIN: no error so far and the head is not complete: call again with
 * more bytes. AZR_E_PROTO: malformed (out->status 400, or 505 for an HTTP
 * version other than 1.x); AZR_E_LIMIT: the head is longer than
 * AZR_HTTPREQ_MAX_HEAD (431; 414 while still in the request line) or has
 * more than AZR_HTTPREQ_MAX_HEADERS lines (431). The pointers in *out point
 * into in and stay valid while in does.
 */
AZR_MUST_CHECK azr_err azr_httpreq_parse(const uint8_t *in, size_t len, azr_httpreq *out);

#endif
