/*
 * azrelay-emu internals: a local Azure Relay Hybrid Connections service
 * (relay-protocol.md §8, §12). One reactor, one process; peers are the
 * sockets that reach it (senders, listener control channels, rendezvous
 * legs), each a WebSocket server side over plaintext or TLS.
 *
 *   request.c  the upgrade request's head, query and JSON text (sans-I/O)
 *   peer.c     one socket: reading, writing, frames out, refusals, the end
 *   service.c  who may do what: SAS rules, hybrid connections, listeners,
 *              rendezvous between a sender and a listener
 *   splice.c   frames in, once upgraded: relayed to the mate, the built-in
 *              listeners (echo, sink, source), control-channel messages
 *   azbridge.c the built-in azbridge -T listener: its preamble, then echo
 *   main.c     arguments, the loop, signals
 */
#ifndef AZR_EMU_H
#define AZR_EMU_H

#include "platform.h"

#include "bounds.h"
#include "reactor.h"
#include "tls.h"
#include "ws.h"
#include "xport.h"

#define EMU_PROG          "azrelay-emu"
#define EMU_MAX_HC        32
#define EMU_MAX_RULE      16
#define EMU_MAX_LISTENERS 25 /* per hybrid connection, as the service (§8.1) */
#define EMU_BUF           65536
#define EMU_CTRL_MSG_MAX  65536 /* a control-channel text message (§6.1: 64 kB) */
#define EMU_DRAIN_MS      30000 /* closing handshake bound */
#define EMU_ID_MAX        128
#define EMU_CHUNK_ROOM    (AZR_WS_MAX_HDR + AZR_WS_MAX_CTRL + 16) /* one frame event always fits */
#define EMU_HEADERS_MAX   64
#define EMU_AZB_MAX_PORTS 8   /* port names of one --azbridge-listener */
#define EMU_AZB_MAX_NAME  255 /* azbridge reads one length byte */

/* ------------------------------------------------------------ request.c */

typedef struct emu_req {
    const char *method, *path, *query; /* path: raw (percent-encoded); query: raw or "" */
    size_t nh;
    const char *name[EMU_HEADERS_MAX], *value[EMU_HEADERS_MAX];
} emu_req;

/* Parse a request head (NUL-terminated, ends with an empty line), cutting it
 * in place. false when it is not an HTTP/1.1 request line + headers. */
bool emu_req_parse(char *head, emu_req *r);
/* A header's value (trimmed) or NULL. */
const char *emu_req_header(const emu_req *r, const char *name);
/* A query parameter, percent-decoded ('+' as space) into out; false when
 * absent or undecodable. */
bool emu_query_get(const char *query, const char *name, char *out, size_t cap);
/* Append s as a JSON string (with quotes) to out[*o..cap); false when short. */
bool emu_json_str(char *out, size_t cap, size_t *o, const char *s);
/* The string value of "key" anywhere in a JSON text, unescaped; false when
 * absent or not a string. Enough for {"renewToken":{"token":"..."}}. */
bool emu_json_find_str(const char *json, size_t len, const char *key, char *out, size_t cap);

/* ------------------------------------------------------------ state */

typedef enum emu_builtin {
    EMU_B_NONE,
    EMU_B_ECHO,
    EMU_B_SINK,
    EMU_B_SOURCE,
    EMU_B_AZBRIDGE
} emu_builtin;

typedef enum emu_kind {
    EMU_K_NEW,        /* before the upgrade */
    EMU_K_WAITING,    /* a sender waiting for a listener's rendezvous */
    EMU_K_SENDER,     /* a sender, upgraded */
    EMU_K_CONTROL,    /* a listener's control channel */
    EMU_K_RENDEZVOUS, /* a listener's leg of one connection */
} emu_kind;

typedef struct emu_peer emu_peer;

/* One port of a built-in azbridge listener: a -T mapping's port name, and
 * whether it forwards UDP (datagram mode) or TCP (stream mode). */
typedef struct emu_azb_port {
    char name[EMU_AZB_MAX_NAME + 1];
    bool udp;
} emu_azb_port;

typedef struct emu_hc {
    char name[AZR_HC_MAX + 1];
    emu_builtin builtin;
    uint64_t source_bytes;
    emu_azb_port azb[EMU_AZB_MAX_PORTS]; /* --azbridge-listener */
    int nazb;
    emu_peer *listeners[EMU_MAX_LISTENERS];
    int nlisteners;
} emu_hc;

#define EMU_RIGHT_SEND   1u
#define EMU_RIGHT_LISTEN 2u
#define EMU_RIGHT_MANAGE 4u

typedef struct emu_rule {
    char name[AZR_KEYNAME_MAX + 1], key[AZR_KEY_MAX + 1];
    unsigned rights;
} emu_rule;

struct emu_peer {
    int fd;
    uint64_t serial; /* for the log */
    char addr[64];
    uint16_t port;
    emu_kind kind;
    bool tls, upgraded, dead, flush_then_close;
    azr_xport x;
    br_ssl_server_context *sc;
    uint8_t *iobuf; /* TLS engine buffer, or in+out for plaintext */
    char head[AZR_HTTP_MAX_HEAD + 1];
    size_t head_len;
    azr_ws_dec dec;
    emu_hc *hc;
    emu_peer *mate;                /* the other leg of a connection (may be NULL) */
    emu_peer *next;                /* waiting senders list */
    emu_peer *prev_all, *next_all; /* every live peer, for shutdown */
    bool close_in;                 /* this peer sent its close frame */
    bool close_out;                /* a close frame went to this peer */
    bool relay_frame;              /* the current data frame goes to dst (header written) */
    azr_timer timer;               /* rendezvous wait; token expiry; drain */
    azr_timer idle;                /* --idle-timeout: no bytes either way for that long */
    azr_task kick;                 /* run again: the mate has room now */
    char id[EMU_ID_MAX + 1];
    char rv[33];                     /* waiting sender: the rendezvous key */
    char wskey[25];                  /* waiting sender: its Sec-WebSocket-Key */
    char host_hdr[AZR_HOST_MAX + 8]; /* control channel: its Host, for accept addresses */
    uint64_t bytes_in;               /* sink: payload received */
    uint64_t source_left;            /* source: payload still to send */
    uint64_t source_sent;
    uint8_t azb_state;                     /* azbridge listener: where its preamble is */
    uint8_t azb_buf[4 + EMU_AZB_MAX_NAME]; /* ... the preamble so far */
    size_t azb_have, azb_need;
    int64_t token_expiry; /* control channel */
    uint8_t *msg;         /* control channel: the text message being assembled */
    size_t msg_len;
    bool msg_over;
};

typedef struct emu_state {
    azr_reactor *loop;
    int lfd;
    uint16_t port;
    char host[AZR_HOST_MAX + 1];
    char accept_host[AZR_HOST_MAX + 8];
    emu_hc hcs[EMU_MAX_HC];
    int nhc;
    emu_rule rules[EMU_MAX_RULE];
    int nrules;
    bool anonymous, quiet;
    uint64_t rendezvous_ms;
    uint64_t idle_ms; /* cut upgraded connections idle this long (0: never) */
    uint64_t max_frame;
    bool tls;
    azr_tls_creds creds;
    /* TLS session cache shared by every peer (session-id resumption, as
     * senders with ReuseSSLSession ask for it) */
    br_ssl_session_cache_lru cache;
    unsigned char cache_mem[32768];
    bool cache_ready;
    emu_peer *waiting;
    emu_peer *all;
    uint64_t serial;
    br_hmac_drbg_context rng;
} emu_state;

extern emu_state emu;

void emu_log(const char *fmt, ...) AZR_PRINTF(1, 2);

/* ------------------------------------------------------------ peer.c */

void emu_peer_accepted(int fd, const char *addr, uint16_t port);
/* Drop every peer (at exit). */
void emu_peer_drop_all(void);
/* Queue raw bytes (a response head); false when they do not fit. */
bool emu_peer_send_raw(emu_peer *p, const void *data, size_t len);
/* Queue a whole unmasked frame; false when it does not fit. */
bool emu_peer_send_frame(emu_peer *p, uint8_t opcode, bool fin, const void *data, size_t len);
/* Queue a close frame (once); the peer is dropped when it has gone out and
 * the close came back, or at the drain deadline. */
void emu_peer_send_close(emu_peer *p, uint16_t code, const char *reason);
/* Room for application bytes now. */
size_t emu_peer_room(emu_peer *p);
/* An HTTP refusal: status line, small JSON body, then close. */
void emu_peer_refuse(emu_peer *p, int status, const char *phrase);
/* Flush what is queued, then close the socket. */
void emu_peer_finish(emu_peer *p);
/* Close now (the mate is told per §6.4). */
void emu_peer_drop(emu_peer *p, const char *why);
/* (Re)arm p's single timer; when it fires, service.c or the closing logic
 * decides what it meant. */
void emu_peer_arm(emu_peer *p, uint64_t ms);
/* Traffic on p: restart its --idle-timeout clock. */
void emu_peer_active(emu_peer *p);
/* Run p again soon (from another peer's progress). */
void emu_peer_kick(emu_peer *p);

/* ------------------------------------------------------------ service.c */

/* A complete request head arrived on a new peer. */
void emu_service_request(emu_peer *p, char *head);
/* p is going away: unlink it from listeners and waiting senders. */
void emu_service_forget(emu_peer *p);
/* p's timer fired (waiting sender: rendezvous timeout; control channel:
 * token expiry). */
void emu_service_timer(emu_peer *p);
/* A control channel's renewToken message; false: close 1008. */
bool emu_service_renew(emu_peer *p, const char *token, char *why, size_t cap);

/* ------------------------------------------------------------ splice.c */

/* Frames arrived on an upgraded peer; returns when input or output room is
 * exhausted. */
void emu_splice_input(emu_peer *p);
/* Output room opened on p (built-in source listeners write more). */
void emu_splice_output(emu_peer *p);
/* True when emu_splice_output would write something now. */
bool emu_splice_more_output(emu_peer *p);
/* p's socket ended (EOF or error) without its close handshake. */
void emu_splice_lost(emu_peer *p);

/* ------------------------------------------------------------ azbridge.c */

/* Parse "HC:PORTNAME[,PORTNAME...]" (a PORTNAME may end in "=udp") and add
 * the hybrid connection; false with why set when it is not that. */
bool emu_azbridge_add(const char *arg, char *why, size_t cap);
/* A sender reached an azbridge hybrid connection: wait for its preamble. */
void emu_azbridge_start(emu_peer *p);
/* Unmasked payload bytes from the sender; answers the preamble, then
 * echoes. d may be changed (it is the caller's scratch copy). */
void emu_azbridge_data(emu_peer *p, uint8_t *d, size_t n);
/* Room an answer may need on top of echoing n bytes. */
#define EMU_AZB_EXTRA (2 * AZR_WS_MAX_HDR + 3)

#endif
