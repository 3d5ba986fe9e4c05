/*
 * One client <-> relay pair, and the proxy state the connections share.
 * Private to api.c and conn.c.
 */
#ifndef AZR_CONN_H
#define AZR_CONN_H

#include "azrelay.h"
#include "config.h"
#include "http1.h"
#include "net.h"
#include "ltls.h"
#include "rtls.h"
#include "tls.h"
#include "tlsparams.h"
#include "reactor.h"
#include "socks.h"
#include "ws.h"
#include "xport.h"
#include <bearssl.h>

/* Fixed per-connection buffer sizes (the relay output adds a frame header). */
#define AZR_CONN_IO_BUF   16384
#define AZR_CONN_DRAIN_MS 30000 /* closing may take this long, then it is cut */
#define AZR_MAX_CONNS     4096

typedef enum azr_phase {
    AZR_P_LOCAL_TLS,  /* TLS handshake with the client (SSLEnabled) */
    AZR_P_CONNECTING, /* TCP connect to the relay */
    AZR_P_PROXY,      /* HTTP CONNECT or SOCKS handshake with FirewallHost */
    AZR_P_TLS,        /* TLS handshake with the relay (wss://) */
    AZR_P_UPGRADE,    /* upgrade request sent, waiting for the 101 */
    AZR_P_OPEN,       /* splicing */
    AZR_P_DEAD        /* torn down, waiting to be reaped */
} azr_phase;

typedef struct azr_conn azr_conn;

typedef struct azr_proxy_state {
    azr_settings set;
    azr_events ev;
    void *ud;
    azr_reactor *loop;
    int lfd;
    azr_sockaddr relay_addr;
    azr_tls_anchors anchors;                 /* loaded when listening starts, for wss:// */
    azr_tls_anchors client_cas;              /* SSLClientCACerts, loaded when listening starts */
    br_ssl_session_parameters relay_session; /* ReuseSSLSession: the last one */
    bool relay_session_ok;
    azr_tls_creds local_creds; /* SSLCertStore, loaded when listening starts */
    bool local_tls;            /* clients speak TLS (SSLStartMode 0 or 1) */
    azr_tls_suites suites;     /* SSLEnabledCipherSuites, parsed when listening starts */
    unsigned tls_min, tls_max; /* SSLEnabledProtocols */
    azr_sockaddr proxy_addr;   /* FirewallHost:FirewallPort */
    bool proxy_resolved;
    bool relay_resolved;
    azr_conn **conns; /* by slot */
    size_t nconns, max_conns;
    int next_id;
    br_hmac_drbg_context rng;
    azr_task reap;
    int last_code;
    char last_error[AZR_CONF_ERR_MAX];
} azr_proxy_state;

struct azr_conn {
    azr_proxy_state *p;
    int id;
    size_t slot;
    azr_phase phase;
    int cfd, rfd;
    azr_xport cx, rx;
    azr_ltls *ltls; /* SSLEnabled: the client side's TLS, inside mem[] */
    azr_rtls *tls;  /* wss://: inside mem[] */
    azr_ws_dec dec;
    azr_http1_resp resp; /* the relay's 101, or the proxy's CONNECT answer */
    azr_socks socks;     /* FirewallType 2, 3, 10 */
    uint8_t praw[1024];  /* proxy handshake bytes not yet sent */
    size_t praw_len, praw_off;
    char key[25];
    uint8_t ctrl[2 * (AZR_WS_MAX_CTRL + 6)]; /* pong/close frames waiting for room */
    size_t ctrl_len;
    bool client_eof, client_shut, close_sent, close_rcvd, relay_eof, connected_fired;
    bool client_notify;                   /* TLS close_notify queued towards the client */
    bool relay_resumed;                   /* the relay's TLS session was resumed */
    char client_subject[AZR_CERT_DN_MAX]; /* SSLAuthenticateClients: the client's certificate */
    azr_tls_info linfo, rinfo;            /* negotiated: client side, relay side */
    uint16_t close_code_rcvd;
    char close_reason_rcvd[AZR_WS_MAX_CTRL];
    azr_timer timer;
    azr_task more;         /* work left when a wakeup's budget ran out */
    uint64_t deadline;     /* connect/upgrade, then drain */
    uint64_t last_client;  /* last byte from or to the client */
    uint64_t last_relay;   /* last byte from the relay */
    uint64_t ping_sent_at; /* 0: none outstanding */
    long idle_timeout, timeout;
    uint64_t bytes_in, bytes_out;
    char remote_host[64], local_addr[64];
    int remote_port;
    void *user_data;
    int status;
    char reason[320];
    uint8_t mem[]; /* the four buffers */
};

/* conn.c */
AZR_MUST_CHECK azr_err azr_conn_open(azr_proxy_state *p, int cfd, const azr_sockaddr *peer,
                                     azr_conn **out);
/* Close now: status and reason go to Disconnected (and Connected when the
 * relay never answered). going_away sends close 1001 first when open. */
void azr_conn_close(azr_conn *c, int status, const char *reason, bool going_away);
void azr_conn_free(azr_conn *c);

void azr_conn_fail_io(azr_conn *c, const char *what);
/* The tunnel (or the direct connection) is open: TLS or the upgrade next;
 * rest[0..len) came after the proxy's answer and belongs to that layer. */
void azr_conn_after_proxy(azr_conn *c, const uint8_t *rest, size_t len);

/* Dial the relay (the client's TLS handshake, if any, is done). */
void azr_conn_relay_start(azr_conn *c);
/* Read what the socket has into x's record port (EOF and errors noted). */
void azr_conn_read(azr_conn *c, int fd, azr_xport *x, bool client);
/* Write what x has for the socket; false when the connection was closed. */
bool azr_conn_flush(azr_conn *c, int fd, azr_xport *x, const char *side);
void azr_conn_update_interest(azr_conn *c);
void azr_conn_rearm(azr_conn *c); /* the connection's timer from its deadlines */
/* SSLKeyLogFile: this session's secrets, appended. */
void azr_conn_key_log(azr_conn *c, const br_ssl_engine_context *eng);
/* SSLStatus (and the log at Verbose): a step of either side's TLS. */
void azr_conn_ssl_status(azr_conn *c, const char *fmt, ...) AZR_PRINTF(2, 3);

/* ltls.c: TLS towards the client (SSLEnabled) */
size_t azr_ltls_size(const azr_proxy_state *p);
void azr_ltls_start(azr_conn *c); /* engine set up, phase AZR_P_LOCAL_TLS */
void azr_ltls_io(azr_conn *c, unsigned ev);
void azr_ltls_failed(azr_conn *c, const char *when);
void azr_ltls_free(azr_ltls *l);

/* rtls.c: TLS towards the relay (wss://) */
size_t azr_rtls_size(const azr_proxy_state *p);
void azr_rtls_start(azr_conn *c);       /* engine set up, phase AZR_P_TLS */
void azr_rtls_failed(azr_conn *c);      /* the engine closed with an error */
void azr_rtls_established(azr_conn *c); /* handshake done: fields, key log, session */

/* outbound.c: the FirewallType handshake */
void azr_outbound_start(azr_conn *c);
void azr_outbound_io(azr_conn *c, unsigned ev);
bool azr_outbound_pending(azr_conn *c, const uint8_t **b, size_t *len);

/* api.c */
void azr_proxy_log(azr_proxy_state *p, int conn_id, int level, const char *fmt, ...)
    AZR_PRINTF(4, 5);
void azr_proxy_reap_later(azr_proxy_state *p);
/* A local certificate (SSLCertStore and friends) into out, checked against
 * subject; err says what is wrong. */
AZR_MUST_CHECK azr_err azr_proxy_load_cert(azr_proxy_state *p, long store_type, const char *store,
                                           const char *password, const char *subject,
                                           azr_tls_creds *out, char *err, size_t cap);

#endif
