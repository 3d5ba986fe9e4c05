/*
 * One client <-> relay pair: its lifecycle (conn.c), and the interface the
 * phase modules see. Phase modules (ltls.c, dial.c, outbound.c, rtls.c,
 * upgrade.c, splice.c) do their step and return a verdict; only conn.c
 * closes.
 */
#ifndef AZR_CONN_H
#define AZR_CONN_H

#include "proxy.h"
#include "http1.h"
#include "proxyauth.h"
#include "ltls.h"
#include "rtls.h"
#include "socks.h"
#include "azbridge.h"
#include "rate.h"
#include "ws.h"
#include "x509v.h"
#include "xport.h"

/* Addresses of one name tried per attempt, connects in flight at once. */
#define AZR_DIAL_MAX_ADDRS 16
#define AZR_DIAL_MAX_TRIES 4

/* TLS handshake records gathered to go out in one write (a flight: the
 * server's hello to done, CCS + Finished, a client certificate chain). */
#define AZR_CONN_FLIGHT_MAX 4096

/* Fixed per-connection buffer sizes (the relay output adds a frame header). */
#define AZR_CONN_IO_BUF 16384
/* A CONNECT request: the longest Proxy-Authorization value (an NTLM
 * AUTHENTICATE_MESSAGE), FirewallData, and the rest (outbound.c checks the sum). */
#define AZR_CONN_CONNECT_MAX (AZR_PAUTH_MAX_VALUE + AZR_PROXY_DATA_MAX + 1024)

typedef enum azr_phase {
    AZR_P_ACCEPTED,   /* the client socket, not started yet */
    AZR_P_LOCAL_TLS,  /* TLS handshake with the client (SSLEnabled) */
    AZR_P_BACKOFF,    /* an attempt at the relay failed: waiting to try again */
    AZR_P_RESOLVE,    /* the first hop's addresses (the relay, or FirewallHost) */
    AZR_P_CONNECTING, /* TCP connect to the relay (or FirewallHost) */
    AZR_P_PROXY,      /* HTTP CONNECT or SOCKS handshake with FirewallHost */
    AZR_P_TLS,        /* TLS handshake with the relay (wss://) */
    AZR_P_UPGRADE,    /* upgrade request sent, waiting for the 101 */
    AZR_P_PREAMBLE,   /* PortName: the azbridge preamble sent, waiting for its answer */
    AZR_P_OPEN,       /* splicing, and closing (half-closes, relay-protocol.md §6.4) */
    AZR_P_DEAD        /* torn down, waiting to be reaped */
} azr_phase;

/* The deadline a phase runs under (deadline.c). */
typedef enum azr_deadline {
    AZR_DL_NONE,
    AZR_DL_CLIENT_HANDSHAKE, /* ConnectionTimeout for the client's TLS handshake */
    AZR_DL_DIAL,             /* ConnectionTimeout: one budget from TCP connect to the 101 */
    AZR_DL_OPEN              /* IdleTimeout, Timeout, keep-alive, HalfCloseTimeout */
} azr_deadline;

/* What a phase step says. */
typedef enum azr_verdict {
    AZR_V_WAIT,  /* the phase goes on: wait for I/O or time */
    AZR_V_NEXT,  /* the phase is done: enter the next one */
    AZR_V_FAIL,  /* the connection ends: c->status, c->reason say why (azr_conn_fail) */
    AZR_V_RETRY, /* this attempt at the relay failed: back off, dial again (azr_conn_retry) */
    AZR_V_DONE   /* the connection finished cleanly (c->reason says how) */
} azr_verdict;

/* Keep-alive ping progress (the pong deadline runs only once it is on the wire). */
typedef enum azr_ping { AZR_PING_NONE, AZR_PING_QUEUED, AZR_PING_ON_WIRE } azr_ping;

/* Handshake-only state: allocated when the connection starts, wiped and
 * freed when it opens (or ends). The TLS handshakes run one after the other
 * (the client's, then the relay's) and neither engine renegotiates, so one
 * certificate validator serves both. */
typedef struct azr_hs {
    azr_http1_resp resp;                /* the relay's 101, or the proxy's CONNECT answer */
    azr_socks socks;                    /* FirewallType 2, 3, 10 */
    uint8_t praw[AZR_CONN_CONNECT_MAX]; /* CONNECT request bytes not yet sent */
    size_t praw_len, praw_off;
    /* outbound.c: the CONNECT's proxy authentication, kept across the redials it asks for */
    azr_pauth *pauth;        /* CONNECT routes only (outbound.c allocates it) */
    azr_pauth_out pauth_out; /* what the next CONNECT carries (its value is in pauth) */
    uint8_t tunnel;          /* outbound.c's progress through the proxy's answers */
    bool pauth_kept;         /* the next dial carries pauth_out: no new engine */
    bool reused;             /* the CONNECT in flight went on a connection after a 407 */
    azr_azbridge azb;        /* PortName: the listener's answer */
    bool azb_waiting;        /* relay data goes to azb first */
    bool azb_echoed;         /* the "answer" was our own preamble coming back */
    char key[25];            /* Sec-WebSocket-Key */
    unsigned attempts;       /* dials so far */
    bool backing_off;        /* BACKOFF until wake_at */
    uint64_t wake_at;        /* the phase runs again then, without I/O (0: no) */
    int retry_status;        /* the last failed attempt's status */
    char retry_why[320];     /* and why it failed */
    /* dial.c: the first hop's addresses and the attempts in flight */
    azr_sockaddr addrs[AZR_DIAL_MAX_ADDRS];
    size_t naddrs, next_addr;
    bool resolved;  /* RESOLVE: the lookup ended (res_status, res_why) */
    int res_status; /* azr_resolve_status */
    char res_why[AZR_RES_REASON_MAX];
    azr_resolve_req req; /* the lookup in flight */
    char target[64];     /* SOCKS4, socks5://: the relay's address, looked up here */
    struct {
        int fd;
        size_t addr;
        uint64_t started;
    } tries[AZR_DIAL_MAX_TRIES];
    size_t ntries;
    int last_errno;
    azr_tls_creds local;        /* p->local_creds as this handshake began (a view: not freed) */
    azr_tls_creds alt;          /* a certificate SSLConnectionRequest chose (n == 0: none) */
    br_x509_minimal_context xm; /* the chain check of the TLS handshake under way */
    azr_x509v v;                /* around xm: the class's checks and events */
    /* a TLS handshake's flight, written in one go (connio.c's azr_conn_write) */
    uint8_t flight[AZR_CONN_FLIGHT_MAX];
    size_t flight_len, flight_off;
    bool flight_client;                    /* whose flight: the client's side or the relay's */
    unsigned char leaf[AZR_CERT_LEAF_MAX]; /* last: left out when no validator keeps the leaf */
} azr_hs;

struct azr_conn {
    azr_proxy_state *p;
    int id;
    size_t slot;
    azr_phase phase;
    int cfd, rfd;
    azr_xport cx, rx;
    azr_ltls *ltls; /* SSLEnabled: the client side's TLS, inside mem[] */
    azr_rtls *tls;  /* wss://: inside mem[] */
    azr_hs *hs;     /* handshake phases only */
    size_t hs_size;
    size_t tls_out; /* each TLS engine's output room, as the block was sized (SSLOutBufferSize) */
    uint32_t sec_flags; /* SSLSecurityFlags as the connection started: its handshake block is sized
                           for them */
    azr_ws_dec dec;
    azr_ws_ctrlq ctrl;   /* our pong, ping and close towards the relay */
    bool client_eof;     /* the client sent FIN (or TLS close_notify) */
    bool client_shut;    /* we sent FIN to the client */
    bool client_notify;  /* TLS close_notify queued towards the client */
    bool relay_eof;      /* the relay's TCP (or TLS) ended */
    bool client_ready;   /* plain client: readable, not read dry yet (splice.c reads it) */
    bool client_blocked; /* plain client: its socket took less than offered (wait for writable) */
    bool connected_fired, relay_resumed;
    azr_ping ping;
    azr_rate rate_up, rate_down; /* MaxTransferRate, MaxTransferRateIn */
    azr_tls_info linfo, rinfo;   /* negotiated: client side, relay side */
    uint16_t close_code_rcvd;
    char close_reason_rcvd[4 * AZR_WS_MAX_CTRL + 1]; /* escaped */
    azr_timer timer;
    azr_task more;          /* work left when a wakeup's budget ran out */
    uint64_t dial_deadline; /* the handshake phases' deadline (ConnectionTimeout) */
    uint64_t last_client;   /* last byte from or to the client (IdleTimeout) */
    uint64_t last_relay;    /* last byte from the relay, or the last time we chose not to read */
    uint64_t last_io;       /* last byte moved on either socket (Timeout, HalfCloseTimeout) */
    uint64_t opened_at;     /* accepted (the disconnect line's duration) */
    uint64_t stall_since;   /* output waiting for a peer since (0: none) */
    uint64_t ping_sent_at;  /* AZR_PING_ON_WIRE since */
    long idle_timeout, timeout;
    uint64_t bytes_in, bytes_out;
    char remote_host[64], local_addr[64];
    char relay_addr[64]; /* the relay-side socket's peer, "host:port" ("" before the connect) */
    int remote_port;
    void *user_data;
    /* how it ends: the first verdict wins */
    bool ending;       /* a verdict is recorded */
    bool abort_client; /* reset the client (the stream was cut) instead of FIN */
    bool not_relay;    /* the verdict is the client's or the application's: no failure counted */
    uint16_t end_code; /* close code for the relay, 0: none */
    int status;
    char reason[320];
    size_t block_size; /* of this block (pages.h) */
    uint8_t mem[];     /* the buffers */
};

/* ---------------------------------------------------------------- lifecycle */

/* A connection for an accepted client socket (one block); not started. */
AZR_MUST_CHECK azr_err azr_conn_open(azr_proxy_state *p, int cfd, const azr_sockaddr *peer,
                                     azr_conn **out);
/* Start it once it has its id and slot: client TLS, or dial the relay. */
void azr_conn_start(azr_conn *c);
/*
 * End now (application, shutdown, idle): status and reason go to
 * Disconnected. going_away sends close 1001 to the relay when it is open, and
 * the client gets a FIN; otherwise an error status resets the client.
 */
void azr_conn_close(azr_conn *c, int status, const char *reason, bool going_away);
/* Free a DEAD connection (never during its own dispatch: the owner reaps). */
void azr_conn_free(azr_conn *c);
/* deadline.c: the connection's timer from its state (IdleTimeout or
 * Timeout changed: deadlines from now on). */
void azr_conn_rearm(azr_conn *c);
/* For deadline.c: the deadline the current phase runs under, and what it
 * does ("the TLS handshake"), for reasons. */
azr_deadline azr_conn_deadline_kind(const azr_conn *c);
const char *azr_conn_doing(const azr_conn *c);
/* For deadline.c: run the current phase again (a ping was queued), or end
 * with the verdict recorded. */
void azr_conn_run(azr_conn *c);
void azr_conn_end(azr_conn *c);

/* ------------------------------------------------- for the phase modules */

/* Watch one more socket of this connection (dial.c's attempts). */
AZR_MUST_CHECK azr_err azr_conn_watch(azr_conn *c, int fd, unsigned mask);

/* Record why the connection ends (the first call wins) and return
 * AZR_V_FAIL. ws_code: close code for the relay when open (0: none); abort:
 * reset the client. */
azr_verdict azr_conn_fail(azr_conn *c, int status, uint16_t ws_code, bool abort, const char *fmt,
                          ...) AZR_PRINTF(5, 6);
/* This attempt at the relay failed in a way another may not (refused,
 * reset, 404 no listener, 5xx): RETRY with one log line when the dial
 * budget leaves room for a backoff, else FAIL with the reason and the
 * count of attempts. */
azr_verdict azr_conn_retry(azr_conn *c, int status, const char *fmt, ...) AZR_PRINTF(3, 4);
/* The same with ": strerror(errno)" appended; status AZR_ERR_IO, abort. */
azr_verdict azr_conn_fail_errno(azr_conn *c, const char *what);
/* Read what the socket has into x's record port (EOF noted); FAIL on error. */
azr_verdict azr_conn_read(azr_conn *c, bool client);
/* Write what x has for the socket; FAIL on error. azr_conn_flush first
 * closes the TLS record being filled, azr_conn_write sends whole ones only. */
azr_verdict azr_conn_flush(azr_conn *c, bool client);
/* A write to that side failed (errno): the connection's verdict. */
azr_verdict azr_conn_write_failed(azr_conn *c, bool client);
azr_verdict azr_conn_write(azr_conn *c, bool client);
/* A handshake flight of that side is still going out (handshake block). */
bool azr_conn_flight_pending(const azr_conn *c, bool client);
/* SSLKeyLogFile: this session's secrets, appended. */
void azr_conn_key_log(azr_conn *c, const br_ssl_engine_context *eng);
/* SSLStatus (and the log at Verbose): a step of either side's TLS. */
void azr_conn_ssl_status(azr_conn *c, const char *fmt, ...) AZR_PRINTF(2, 3);
uint64_t azr_conn_now(const azr_conn *c);

/* The TLS engines' buffers: a full record in (BearSSL's 16709 bytes: the
 * peer chooses the record size), SSLOutBufferSize of plaintext per record
 * out plus BearSSL's record overhead. */
#define AZR_TLS_RECORD_OVERHEAD 85
static inline size_t azr_tls_out_size(const azr_proxy_state *p)
{
    /* BearSSL's records are 2^9 to 2^12 or 2^14 bytes (the maximum fragment
     * lengths of RFC 6066, and 16384): the room between them goes unused,
     * so the setting rounds down to one of them */
    size_t want = (size_t)p->set.ssl_out_buffer_size, rec = 16384;
    while (rec > want && rec > 512)
        rec = rec == 16384 ? 4096 : rec / 2;
    return rec + AZR_TLS_RECORD_OVERHEAD;
}
static inline size_t azr_tls_io_size(const azr_proxy_state *p)
{
    return BR_SSL_BUFSIZE_INPUT + azr_tls_out_size(p);
}

/* The handshake block's room for the leaf certificate's DER, NULL when it
 * was made without (hs_size in conn.c: only where a validator keeps it). */
static inline uint8_t *azr_hs_leaf(azr_conn *c)
{
    return c->hs && c->hs_size >= sizeof(azr_hs) ? c->hs->leaf : NULL;
}

/* ltls.c: TLS towards the client (SSLEnabled) */
azr_verdict azr_ltls_start(azr_conn *c);                     /* engine set up */
azr_verdict azr_ltls_step(azr_conn *c, int fd, unsigned ev); /* NEXT once established */
azr_verdict azr_ltls_failed(azr_conn *c, const char *when);

/* rtls.c: TLS towards the relay (wss://) */
azr_verdict azr_rtls_start(azr_conn *c);                     /* engine set up */
azr_verdict azr_rtls_step(azr_conn *c, int fd, unsigned ev); /* NEXT once established */
azr_verdict azr_rtls_failed(azr_conn *c);                    /* the engine closed with an error */
void azr_rtls_established(azr_conn *c); /* handshake done: fields, key log, session */

/* dial.c: RESOLVE and CONNECTING (TCP to the relay or FirewallHost) */
azr_verdict azr_dial_resolve(azr_conn *c);
azr_verdict azr_dial_resolved(azr_conn *c, int fd, unsigned ev); /* NEXT once they are in */
/* The addresses to try, ordered as UseIPv6 says, lately failed ones last. */
void azr_dial_set_addrs(azr_conn *c, const azr_sockaddr *addrs, size_t n, uint16_t port);
azr_verdict azr_dial_start(azr_conn *c);
azr_verdict azr_dial_step(azr_conn *c, int fd, unsigned ev); /* NEXT once connected */
void azr_dial_interest(const azr_conn *c, unsigned *client, unsigned *relay);
void azr_dial_cancel(azr_conn *c); /* close the attempts in flight */
/* BACKOFF: the failed attempt's socket goes (the client and its bytes stay);
 * the step is NEXT once the backoff (azr_conn_retry's) has passed. */
azr_verdict azr_dial_backoff(azr_conn *c);
azr_verdict azr_dial_backoff_step(azr_conn *c, int fd, unsigned ev);
void azr_dial_end(azr_conn *c); /* the same, and the lookup in flight */
/* StartListening: look the first hop up now (a warning when it fails). */
void azr_dial_lookup_early(azr_proxy_state *p);
/* Socket options from the settings, for the client's or the relay's socket. */
azr_net_opts azr_dial_sock_opts(const azr_settings *s, bool client);

/* outbound.c: the FirewallType handshake; NEXT with the bytes that came
 * after the proxy's answer handed on to the relay transport */
azr_verdict azr_outbound_start(azr_conn *c);
azr_verdict azr_outbound_step(azr_conn *c, unsigned ev);
bool azr_outbound_pending(const azr_conn *c);
void azr_outbound_end(azr_conn *c); /* the proxy authentication's state wiped and freed */

/* upgrade.c: the WebSocket upgrade towards the relay */
azr_verdict azr_upgrade_send(azr_conn *c); /* request into the relay transport */
azr_verdict azr_upgrade_step(azr_conn *c, int fd, unsigned ev); /* NEXT on 101 */

/* preamble.c: the azbridge preamble (PortName) */
azr_verdict azr_preamble_send(azr_conn *c);
azr_verdict azr_preamble_step(azr_conn *c, int fd, unsigned ev); /* NEXT once accepted */
/* For splice.c: relay payload the azbridge answer takes first (bytes used). */
size_t azr_preamble_take(azr_conn *c, const uint8_t *data, size_t n);
/* For deadline.c: the reason when ConnectionTimeout passes without an answer. */
const char *azr_preamble_silent(azr_conn *c);

/* splice.c: the open connection's data pump and half-closes */
azr_verdict azr_splice_step(azr_conn *c, int fd, unsigned ev); /* read what is ready, pump */
azr_verdict azr_splice_pump(azr_conn *c);
/* Relay frames in (data to the client's output, control frames answered),
 * without reading the client: for phases before OPEN. */
azr_verdict azr_splice_relay_in(azr_conn *c);
void azr_splice_interest(const azr_conn *c, unsigned *client, unsigned *relay);
bool azr_splice_work_left(azr_conn *c);
/* When MaxTransferRate(In) lets waiting bytes move (0: nothing waits). */
uint64_t azr_splice_rate_wake(azr_conn *c);
/* A frame shorter than this (or than what the client has) waits for the
 * output to drain rather than take a short room. */
#define AZR_SPLICE_GOOD_FRAME 1024
/* The longest payload <= limit whose frame fits in space bytes (0: none);
 * *hdr: the header's length for it. */
size_t azr_splice_frame_fit(size_t space, size_t limit, size_t *hdr);
/* A fresh WebSocket mask from the proxy's pool (refilled from its DRBG). */
void azr_splice_mask(azr_proxy_state *p, uint8_t mask[4]);
/* Queued control frames into the relay transport (as many as fit). */
void azr_splice_ctrl_out(azr_conn *c);
/* Whether any output waits for a peer that is not taking it. */
bool azr_splice_output_pending(const azr_conn *c, bool client);

/* burst.c: the upload's bulk path (several frames or records per system
 * call, in the proxy's scratch). azr_burst_up: when the connection may take
 * it, one read and one write (*did); else nothing. */
azr_verdict azr_burst_up(azr_conn *c, size_t *moved, bool *did);
/* Its bytes the socket did not take yet (they go before any other output). */
bool azr_burst_pending(const azr_conn *c);
azr_verdict azr_burst_write(azr_conn *c);
/* Best effort, no verdict (the connection is ending): whether none is left. */
bool azr_burst_flush_now(azr_conn *c);
/* The connection ended: the scratch is free again. */
void azr_burst_release(azr_conn *c);
/* The proxy's end: its scratch. */
void azr_burst_done(azr_proxy_state *p);

/* listener.c (the owner): a connection became DEAD; it is freed after dispatch. */
void azr_listener_conn_ended(azr_proxy_state *p);

#endif
