/*
 * HTTP/1.1 as azrelay needs it (RFC 9110, RFC 9112, RFC 6455 §4): the
 * WebSocket upgrade request and the proxy CONNECT request we send, and an
 * incremental parser for the response head (plus a bounded slice of the body
 * of a refusal, for the error message). No allocation, no I/O: the parser
 * copies the head into its own bounded buffer and says exactly how many input
 * bytes it used, so bytes after the head (WebSocket frames after a 101, TLS
 * after a CONNECT 200) stay with the caller.
 */
#ifndef AZR_HTTP1_H
#define AZR_HTTP1_H

#include "bounds.h"
#include "err.h"

/* ------------------------------------------------------------- requests */

typedef struct azr_upgrade_req {
    const char *host;          /* Host header; IPv6 literals without brackets */
    uint16_t port;             /* written only when not the scheme's default */
    bool tls;                  /* default port 443 (wss) or 80 (ws) */
    const char *target;        /* origin-form path and query, already encoded */
    const char *key;           /* Sec-WebSocket-Key, see azr_http1_ws_key() */
    const char *user_agent;    /* NULL or "" to omit */
    const char *token_header;  /* e.g. "ServiceBusAuthorization"; NULL to omit */
    const char *token;         /* its value */
    const char *other_headers; /* "Name: value\r\n" lines appended verbatim, or NULL */
} azr_upgrade_req;

/*
 * Write the upgrade request. AZR_E_ARG when a field would break the request
 * (CR/LF/NUL in any value, a target not starting with '/', OtherHeaders not
 * made of "token: value\r\n" lines); AZR_E_LIMIT when out is too small.
 */
AZR_MUST_CHECK azr_err azr_http1_upgrade_write(const azr_upgrade_req *r, char *out, size_t cap,
                                               size_t *out_len);

/* Sec-WebSocket-Key from 16 caller-supplied random bytes: 24 chars + NUL. */
void azr_http1_ws_key(const uint8_t rnd[16], char out[25]);

/* RFC 6455 §4.2.2: base64(SHA-1(key + GUID)): 28 chars + NUL. */
void azr_http1_ws_accept(const char *key, char out[29]);

/*
 * Write "CONNECT host:port HTTP/1.1" with Host and, when user is non-empty,
 * Proxy-Authorization: Basic (RFC 7617), then extra_headers ("Name:
 * value\r\n" lines appended verbatim: FirewallData, a ProxyAuthorization
 * header; NULL or "" for none). AZR_E_ARG for CR/LF/NUL in a field, ':' in
 * the user name, extra_headers not made of "token: value\r\n" lines;
 * AZR_E_LIMIT when out is too small.
 */
AZR_MUST_CHECK azr_err azr_http1_connect_write(const char *host, uint16_t port, const char *user,
                                               const char *password, const char *user_agent,
                                               const char *extra_headers, char *out, size_t cap,
                                               size_t *out_len);

/* ------------------------------------------------------------- response */

typedef struct azr_http1_hdr {
    const char *name, *value; /* inside the parser's buffer, not NUL-terminated */
    size_t name_len, value_len;
} azr_http1_hdr;

typedef struct azr_http1_resp {
    /* results, valid once the head is complete */
    int minor;          /* HTTP/1.<minor> */
    int status;         /* 100-999 */
    const char *reason; /* reason phrase (raw; sanitise before logging) */
    size_t reason_len;
    azr_http1_hdr headers[AZR_HTTP_MAX_HEADERS];
    size_t nheaders;
    int64_t content_length; /* -1 when absent */
    bool chunked;
    uint8_t body[AZR_HTTP_MAX_BODY]; /* first bytes of the body (raw) */
    size_t body_len;
    /* first error */
    azr_err err;
    const char *why;
    /* private */
    char buf[AZR_HTTP_MAX_HEAD];
    size_t have, max_head, line_start;
    uint8_t state;
    uint64_t body_seen;
} azr_http1_resp;

/* Start a parser; max_head bounds the head (0 or > AZR_HTTP_MAX_HEAD: the maximum). */
void azr_http1_resp_init(azr_http1_resp *r, size_t max_head);

/*
 * Feed response bytes. *consumed is always set. AZR_AGAIN: all input used,
 * head incomplete. AZR_OK: the head is complete and parsed; input after
 * *consumed was not touched. AZR_E_PROTO (malformed) or AZR_E_LIMIT (head
 * over max_head, over AZR_HTTP_MAX_HEADERS headers): r->why says which.
 * Sticky. Accepts bare LF line ends and obs-fold continuation lines (folded
 * into one value, RFC 9112 §5.2).
 */
AZR_MUST_CHECK azr_err azr_http1_resp_feed(azr_http1_resp *r, const uint8_t *in, size_t len,
                                           size_t *consumed);

/*
 * After the head: keep up to AZR_HTTP_MAX_BODY body bytes for the error
 * message. AZR_OK when the body is complete or the slice full (stop reading),
 * AZR_AGAIN when more may come. Bytes are consumed up to Content-Length.
 */
AZR_MUST_CHECK azr_err azr_http1_resp_body(azr_http1_resp *r, const uint8_t *in, size_t len,
                                           size_t *consumed);

/*
 * After the head, when the connection is to be used again: consume the body
 * to its end (Content-Length), keeping its first AZR_HTTP_MAX_BODY bytes as
 * azr_http1_resp_body does. AZR_OK once the body is whole (input after
 * *consumed is not the body's), AZR_AGAIN when more is due, AZR_E_STATE
 * before the head or when only the connection's close can end the body
 * (chunked or no Content-Length: see azr_http1_resp_persists).
 */
AZR_MUST_CHECK azr_err azr_http1_resp_drain(azr_http1_resp *r, const uint8_t *in, size_t len,
                                            size_t *consumed);

/*
 * Whether the peer keeps the connection open after this response, so the
 * next request may go on it (RFC 9112 §9.3): HTTP/1.1 without a "close"
 * token in Connection (or Proxy-Connection, which proxies still send), or
 * HTTP/1.0 with "keep-alive" in either, and a body whose end is known without
 * the close (Content-Length, or none by the status). A chunked body counts as
 * closing: azrelay does not decode chunks. False before the head.
 */
bool azr_http1_resp_persists(const azr_http1_resp *r);

/* First header named name (case-insensitive), or NULL. */
const azr_http1_hdr *azr_http1_resp_header(const azr_http1_resp *r, const char *name);

/* The next header named name after `after` (a header of r; NULL: the first),
 * or NULL: every Proxy-Authenticate of a 407, in order. */
const azr_http1_hdr *azr_http1_resp_header_next(const azr_http1_resp *r, const char *name,
                                                const azr_http1_hdr *after);

/*
 * RFC 6455 §4.1 client checks of a complete head: status 101, Upgrade:
 * websocket, a Connection header with the "upgrade" token, exactly one
 * Sec-WebSocket-Accept equal to the value for key, no extension and no
 * subprotocol (we offer none). AZR_E_REFUSED for another status (the caller
 * reports status and reason); AZR_E_PROTO for a bad 101, with why set.
 */
AZR_MUST_CHECK azr_err azr_http1_check_upgrade(const azr_http1_resp *r, const char *key,
                                               const char **why);

/*
 * Proxy CONNECT answer: any HTTP/1.x 2xx is success (older proxies answer
 * HTTP/1.0 200). AZR_E_AUTH for 407 (and 401, which tinyproxy sends),
 * AZR_E_REFUSED for anything else.
 */
AZR_MUST_CHECK azr_err azr_http1_check_connect(const azr_http1_resp *r);

#endif
