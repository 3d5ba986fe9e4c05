/*
 * What the connections of one proxy share: its settings, events, loop,
 * listening socket and connection table, TLS material loaded when listening
 * starts, the random source and per-proxy scratch. Private; api.c owns the
 * object, the other modules read it.
 */
#ifndef AZR_PROXY_H
#define AZR_PROXY_H

#include "azrelay.h"
#include "config.h"
#include "net.h"
#include "pages.h"
#include "proxyroute.h"
#include "reactor.h"
#include "resolver.h"
#include "tls.h"
#include "tlsparams.h"
#include <bearssl.h>

typedef struct azr_conn azr_conn;
typedef struct azr_proxy_state azr_proxy_state;

/* The bulk upload's scratch (burst.c): frames or records for one gathered
 * write; what the socket did not take pins it to its connection. */
#define AZR_BURST_UNITS 8 /* frames or records per write: 128 KiB at the defaults */
typedef struct azr_burst {
    uint8_t *buf;
    size_t cap;
    azr_conn *owner; /* its unsent bytes are iov[first..niov) */
    azr_iov iov[AZR_BURST_UNITS];
    size_t first, niov;
} azr_burst;

/* Scratch for building one upgrade request at a time (the loop is one
 * thread): per proxy, not static, and wiped after each use. */
typedef struct azr_upgrade_scratch {
    char target[AZR_URL_MAX + AZR_SAS_MAX * 3];
    char token[AZR_SAS_MAX + 1];
    char enc[3 * AZR_SAS_MAX + 1];
} azr_upgrade_scratch;

/* dial.c: an address that failed lately is tried last, for a while. */
#define AZR_DIAL_BAD_MAX 16
typedef struct azr_dial_bad {
    azr_sockaddr addr;
    uint64_t until; /* 0: free */
} azr_dial_bad;

struct azr_proxy_state {
    azr_settings set;
    azr_events ev;
    void *ud;
    azr_reactor *loop;
    const azr_net_ops *net;                  /* the system's sockets, or a test's fakes */
    azr_tls_anchors anchors;                 /* loaded when listening starts, for wss:// */
    azr_tls_anchors client_cas;              /* SSLClientCACerts, loaded when listening starts */
    br_ssl_session_parameters relay_session; /* ReuseSSLSession: the last one */
    bool relay_session_ok;
    azr_tls_creds local_creds;     /* SSLCertStore, loaded when listening starts */
    bool local_tls;                /* clients speak TLS (SSLStartMode 0 or 1) */
    azr_tls_suites suites;         /* SSLEnabledCipherSuites, parsed when listening starts */
    unsigned tls_min, tls_max;     /* SSLEnabledProtocols */
    struct azr_resolver *resolver; /* names, without blocking (resolver.c) */
    azr_resolve_req start_req;     /* StartListening's early lookup of the first hop */
    azr_dial_bad dial_bad[AZR_DIAL_BAD_MAX];
    azr_route route; /* how relay connections go: computed when listening starts */
    /* listener.c: the listening socket and the connections it accepted */
    int lfd;
    azr_conn **conns; /* by slot */
    size_t nconns, max_conns;
    size_t nopen; /* accepted and not ended (not DEAD): ConnectionCount without a scan */
    int next_id;
    azr_task reap;
    azr_timer accept_timer; /* accepting paused (out of descriptors) until it fires */
    bool accept_paused;
    uint64_t fd_log_at;     /* last "out of descriptors" log line (rate limit) */
    unsigned fd_log_missed; /* failures since then */
    uint64_t limit_log_at;  /* last "connection limit reached" log line */
    unsigned limit_log_missed;
    azr_proxy_stats stats; /* stats.c: the counters (active and the bucket bounds: when read) */
    br_hmac_drbg_context rng;
    uint8_t mask_pool[256]; /* WebSocket masks, drawn from rng 64 at a time (splice.c) */
    size_t mask_left;       /* unused bytes at the pool's end */
    azr_pages pages;        /* the connections' blocks (conn.c) */
    azr_burst burst;        /* the bulk upload's scratch (burst.c) */
    struct azr_tls_retired
        *retired; /* TLS material replaced while handshakes used it (certload.c) */
    azr_upgrade_scratch scratch;
    int last_code;
    char last_error[AZR_CONF_ERR_MAX];
};

/* log.c: a Log event at level (1 Info, 2 Verbose, 3 Debug; < 0: an error,
 * shown at level 1) when LogLevel lets it through. */
void azr_proxy_log(azr_proxy_state *p, int conn_id, int level, const char *fmt, ...)
    AZR_PRINTF(4, 5);
/* Whether a line at level would reach anyone (skip costly formatting). */
bool azr_proxy_log_on(const azr_proxy_state *p, int level);

/* certload.c: a local certificate (SSLCertStore and friends) into out,
 * checked against subject; err says what is wrong. */
AZR_MUST_CHECK azr_err azr_proxy_load_cert(azr_proxy_state *p, long store_type, const char *store,
                                           const char *password, const char *subject,
                                           azr_tls_creds *out, char *err, size_t cap);
/* certload.c: the trust anchors listening needs (relay CAs for wss://,
 * SSLClientCACerts) and the local certificate, as the settings say. */
AZR_MUST_CHECK azr_err azr_certload_all(azr_proxy_state *p, char *err, size_t cap);
/* certload.c: a setting naming TLS material changed (azr_proxy_config):
 * the material loaded for it is set aside (a handshake under way may still
 * point into it) and loaded afresh, at once when listening; an error says
 * why that failed (new handshakes then fail with it). */
AZR_MUST_CHECK azr_err azr_certload_changed(azr_proxy_state *p, const char *name, size_t len,
                                            char *err, size_t cap);
/* certload.c: free what was set aside once no connection is in a
 * handshake (the reaper), or all of it (force: the proxy goes). */
void azr_certload_reap(azr_proxy_state *p, bool force);

#endif
