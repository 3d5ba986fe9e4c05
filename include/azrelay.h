/*
 * azrelay: forward local TCP connections to an Azure Relay hybrid connection.
 *
 * This is the only installed header. It mirrors the AzureRelayProxy class:
 * an opaque proxy object, settings through Config("Name=Value") and
 * Config("Name") with the class's names, the methods StartListening,
 * StopListening, Shutdown, Disconnect, Reset and DoEvents, and the events
 * ConnectionRequest, Connected, Disconnected, Error and Log as callbacks.
 *
 * Threading: one thread. Every call on a proxy, and every callback it makes,
 * happens in the thread that calls azr_proxy_do_events(). Callbacks may call
 * back into the proxy (Config, Disconnect, ...), but not azr_proxy_free().
 *
 * The library never exits the process, never writes to stdout or stderr
 * (logging goes through the log callback) and allocates only when a proxy is
 * created, a setting is changed, listening starts, and a connection opens or
 * closes; moving bytes allocates nothing. Every exported symbol starts with
 * azr_, so a static link into firmware cannot collide with the application.
 */
#ifndef AZRELAY_H
#define AZRELAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AZRELAY_VERSION "0.1.0"

/* Result codes. 0 is success; 4001-4003 are the reference class's; azrelay's
 * own follow and are never renumbered. */
#define AZR_ERR_TRANSMIT    4001 /* error transmitting packet */
#define AZR_ERR_CLOSE       4002 /* error sending CLOSE packet */
#define AZR_ERR_PROTOCOL    4003 /* general protocol error */
#define AZR_ERR_SETTING     4101 /* unknown setting or invalid value */
#define AZR_ERR_UNSUPPORTED 4102 /* a class setting azrelay does not implement */
#define AZR_ERR_STATE       4103 /* not valid now (e.g. read-only, or listening) */
#define AZR_ERR_IO          4104 /* system call failed (listen, connect, ...) */
#define AZR_ERR_NOMEM       4105 /* out of memory */
#define AZR_ERR_NOT_FOUND   4106 /* no connection with that id */
#define AZR_ERR_TIMEOUT     4107 /* a deadline passed */
#define AZR_ERR_TLS         4108 /* TLS handshake or record failure */
#define AZR_ERR_AUTH        4109 /* the relay or a proxy refused our credentials */
#define AZR_ERR_REFUSED     4110 /* the relay or a proxy refused the connection */

typedef struct azr_proxy azr_proxy;

/* The certificate SSLConnectionRequest may replace, for one connection:
 * the fields start as SSLCertStoreType, SSLCertStore, SSLCertStorePassword
 * and SSLCertSubject; change store (and subject) to use another PEM file. */
typedef struct azr_ssl_cert {
    int store_type;
    char store[1024];
    char password[256];
    char subject[256];
} azr_ssl_cert;

/* Events. Any member may be NULL. Strings are valid during the call only. */
typedef struct azr_events {
    /* A client connected from address:port; set *accept to 0 to refuse it. */
    void (*connection_request)(void *ud, const char *address, int port, int *accept);
    /* The relay connection for conn_id is open (status_code 0) or failed
     * (status_code: the relay's HTTP status, or an AZR_ERR_* code). */
    void (*connected)(void *ud, int conn_id, int status_code, const char *description);
    /* conn_id ended; status_code 0 for an orderly close. Fires exactly once
     * for every accepted connection. */
    void (*disconnected)(void *ud, int conn_id, int status_code, const char *description);
    /* An error outside the normal flow of a connection. */
    void (*error)(void *ud, int conn_id, int error_code, const char *description);
    /* One log line; log_level 1-3, log_type "Info", "Error", "Verbose" or "Debug". */
    void (*log)(void *ud, int conn_id, int log_level, const char *message, const char *log_type);
    /* SSLStatus: a step of a TLS handshake, either side ("relay: " prefix
     * for the relay's); also logged at LogLevel 2. */
    void (*ssl_status)(void *ud, int conn_id, const char *message);
    /* SSLClientAuthentication (SSLAuthenticateClients): the client's leaf
     * certificate (DER; NULL and 0 when it sent none), its subject and
     * issuer ("CN=..., O=..."), status "OK" or why the check failed, and
     * *accept set to the check's verdict: change it to decide. */
    void (*ssl_client_authentication)(void *ud, int conn_id, const unsigned char *cert_encoded,
                                      size_t cert_len, const char *cert_subject,
                                      const char *cert_issuer, const char *status, int *accept);
    /* SSLConnectionRequest: a client's ClientHello arrived, before our
     * certificate is chosen. supported_cipher_suites: the IANA names of the
     * suites the client offers that SSLEnabledCipherSuites also enables, in
     * our order, comma-separated; supported_signature_algs: what it can
     * verify, "sha256-ecdsa,sha256-rsa,...". Change *cert to answer with
     * another certificate (e.g. RSA for a client without ECDSA). */
    void (*ssl_connection_request)(void *ud, int conn_id, const char *supported_cipher_suites,
                                   const char *supported_signature_algs, azr_ssl_cert *cert);
} azr_events;

/* A proxy with default settings, or NULL when out of memory. */
azr_proxy *azr_proxy_new(const azr_events *events, void *ud);
/* Close every connection and free the proxy. */
void azr_proxy_free(azr_proxy *p);

/*
 * Config("Name=Value") sets; Config("Name") reads into out[out_len] (NUL-
 * terminated). Names are the class's (see azrelay-proxy --help). Connection
 * fields read per connection as "Name[id]", e.g. "RemoteHost[3]".
 * A connection keeps the settings it was accepted with where they shape
 * its memory (SSLOutBufferSize, SSLSecurityFlags). TLS material (SSLCert*,
 * SSLServerCACerts, SSLCACertFilePaths, SSLClientCACerts) set while
 * listening is loaded at once for new connections (handshakes under way
 * finish with the old); when it does not load, the setting stays, the call
 * returns the error, and new TLS handshakes fail until it is fixed.
 */
int azr_proxy_config(azr_proxy *p, const char *setting, char *out, size_t out_len);

/* StartListening: bind LocalHost:LocalPort and accept clients. */
int azr_proxy_start_listening(azr_proxy *p);
/* What StartListening checks before it binds, without binding: the relay
 * and HybridConnection set, the proxy route, the TLS suites and versions,
 * and every file it loads (the CA bundle for wss://, SSLCertStore for local
 * TLS, the client CAs). 0, or the error StartListening would give (with
 * azr_proxy_last_error's text). azrelay-proxy --check runs it per forward. */
int azr_proxy_check(azr_proxy *p);
/* StopListening: stop accepting; open connections go on. */
int azr_proxy_stop_listening(azr_proxy *p);
/* Shutdown: stop listening and close every connection (close 1001 to the relay). */
int azr_proxy_shutdown(azr_proxy *p);
/* Reset: Shutdown, then every setting back to its default. */
int azr_proxy_reset(azr_proxy *p);
/* Disconnect one client (and its relay connection). */
int azr_proxy_disconnect(azr_proxy *p, int conn_id);
/* DoEvents: one turn of the event loop, waiting at most timeout_ms
 * (-1: until something happens). */
int azr_proxy_do_events(azr_proxy *p, int timeout_ms);
/* A descriptor that turns readable when the proxy has work, for an
 * application's own poll()/select(); -1 when not available. */
int azr_proxy_fd(const azr_proxy *p);

/*
 * The other way round: one of the application's descriptors (a signalfd,
 * the read end of a self-pipe, an eventfd, a control socket) joins the
 * proxy's wait, so azr_proxy_do_events(p, -1) (or azr_loop_run() on the
 * proxy's shared loop) returns once fd is readable instead of sleeping on.
 * That is all: the proxy never reads, writes or closes fd and calls nothing
 * for it; the application reads fd after the call returns (while fd stays
 * readable, every turn returns at once). A signal delivered to a signalfd or
 * self-pipe this way cannot be lost between the application's check and the
 * wait.
 *
 * fd stays the application's: azr_proxy_unwatch_fd() before closing it (and
 * before freeing a proxy made by azr_proxy_new_on(), whose loop outlives it).
 * The proxy's loop must exist: call after azr_proxy_start_listening(), or
 * any time for a proxy on a shared loop. Watching a watched fd is a no-op.
 * Returns 0, or AZR_ERR_STATE (no loop yet; fd is one of the proxy's own),
 * AZR_ERR_SETTING (fd negative or beyond the loop's descriptor table) or
 * AZR_ERR_IO (the backend refuses fd, e.g. epoll and a regular file), with
 * the reason in azr_proxy_last_error().
 */
int azr_proxy_watch_fd(azr_proxy *p, int fd);
/* Stop watching fd; 0, also when fd was not watched. */
int azr_proxy_unwatch_fd(azr_proxy *p, int fd);

/*
 * One event loop for several proxies, e.g. one program serving several
 * LocalPort -> HybridConnection forwards: proxies made with
 * azr_proxy_new_on() put their sockets and timers in the loop, and one
 * azr_loop_run() (or azr_proxy_do_events() on any of them) serves them all.
 * event_loop takes EventLoop's values (0 auto, 1 epoll, 2 kqueue, 3 poll);
 * such proxies refuse EventLoop themselves. Free the proxies first:
 * azr_loop_free() refuses (AZR_ERR_STATE) while a proxy still uses the loop.
 */
typedef struct azr_loop azr_loop;
azr_loop *azr_loop_new(int event_loop);
azr_proxy *azr_proxy_new_on(azr_loop *loop, const azr_events *events, void *ud);
/* One turn for every proxy on the loop, waiting at most timeout_ms. */
int azr_loop_run(azr_loop *loop, int timeout_ms);
int azr_loop_fd(const azr_loop *loop);
/*
 * azr_proxy_watch_fd() for the loop itself: the watch belongs to the loop,
 * not to a proxy, so it outlives every proxy on it (a daemon that adds and
 * frees proxies on reload keeps its signalfd watched throughout). The same
 * rules and results as azr_proxy_watch_fd(), returned here without a text;
 * azr_loop_unwatch_fd() before closing fd or freeing the loop.
 */
int azr_loop_watch_fd(azr_loop *loop, int fd);
int azr_loop_unwatch_fd(azr_loop *loop, int fd);
/* 1 when a descriptor watched with azr_loop_watch_fd() was readable in a
 * turn since the last call (which clears it), else 0: the application reads
 * its descriptors only then, instead of after every turn. */
int azr_loop_watched_ready(azr_loop *loop);
int azr_loop_free(azr_loop *loop);

/* The last call's result code and text (GetLastErrorCode / GetLastError). */
int azr_proxy_last_error_code(const azr_proxy *p);
const char *azr_proxy_last_error(const azr_proxy *p);

/* The Connections collection. */
typedef struct azr_connection_info {
    int id;
    int connected;        /* relay WebSocket open */
    char remote_host[64]; /* the client's address */
    int remote_port;
    char local_address[64]; /* our address on the client's connection */
    int idle_timeout;       /* seconds, 0 none */
    int timeout;            /* seconds, 0 none */
    uint64_t bytes_in;      /* from the client */
    uint64_t bytes_out;     /* to the client */
    uint64_t age_ms;        /* since the client was accepted */
    /* Where the connection is: "accepted", "client-tls" (the client's TLS
     * handshake), "backoff" (waiting to try the relay again), "resolve",
     * "connecting", "proxy" (FirewallType's handshake), "tls" (the relay's),
     * "upgrade", "preamble" (PortName), "open", "closing" (open, and one side
     * has finished). */
    char phase[16];
    /* The address ("192.0.2.7:443", "[2001:db8::7]:443") the relay-side
     * socket is connected to: the relay's, or the proxy's when FirewallType
     * routes through one; "" before the TCP connect succeeds. */
    char relay_address[64];
} azr_connection_info;

int azr_proxy_connection_count(const azr_proxy *p);
/* Write up to cap ids; returns how many connections there are. */
int azr_proxy_connection_ids(const azr_proxy *p, int *ids, int cap);
int azr_proxy_connection_info(const azr_proxy *p, int conn_id, azr_connection_info *out);
/*
 * Every live connection at once, for a status page: up to cap entries into
 * out (in no particular order), one pass over the connection table however
 * many there are (calling azr_proxy_connection_info() per id looks each up
 * again). Returns how many connections there are, which may be more than
 * cap; nothing is allocated and out may be NULL when cap is 0.
 */
int azr_proxy_connection_list(const azr_proxy *p, azr_connection_info *out, int cap);
int azr_proxy_set_idle_timeout(azr_proxy *p, int conn_id, int seconds);
int azr_proxy_set_timeout(azr_proxy *p, int conn_id, int seconds);
int azr_proxy_set_user_data(azr_proxy *p, int conn_id, void *user_data);
void *azr_proxy_user_data(const azr_proxy *p, int conn_id);

/*
 * Counters of one proxy, for monitoring: since azr_proxy_new(), never reset
 * (Reset and StopListening leave them), kept with a few additions per event
 * and no allocation. Counters only grow; a sum over proxies is a sum.
 */

/* Why an attempt at the relay failed: the step it failed in. An attempt is a
 * round of name lookup, TCP connect, proxy handshake, TLS, WebSocket upgrade
 * and azbridge preamble; it fails on an error, a refusal or a timeout in one
 * of them (a client that leaves, or Disconnect and Shutdown, are not relay
 * failures). Upgrades are split by the relay's HTTP status. */
enum azr_relay_failure {
    AZR_FAIL_DNS,           /* the name lookup (NamespaceAddress, or FirewallHost) */
    AZR_FAIL_TCP,           /* the TCP connect, to the relay or the proxy */
    AZR_FAIL_PROXY,         /* the HTTP CONNECT or SOCKS handshake (FirewallType) */
    AZR_FAIL_TLS,           /* the relay's TLS handshake */
    AZR_FAIL_UPGRADE_401,   /* the upgrade: 401 (the token: key, key name, clock) */
    AZR_FAIL_UPGRADE_403,   /* 403 (the policy lacks Send) */
    AZR_FAIL_UPGRADE_404,   /* 404 (no listener, or no such hybrid connection) */
    AZR_FAIL_UPGRADE_5XX,   /* 500-599 (the service) */
    AZR_FAIL_UPGRADE_OTHER, /* another HTTP status */
    AZR_FAIL_UPGRADE_NONE,  /* no valid answer (closed, timed out, not HTTP, a bad accept key) */
    AZR_FAIL_AZBRIDGE,      /* the azbridge preamble (PortName): refused or unanswered */
    AZR_FAIL_REASONS
};

/* Connect latency (client accepted -> relay connection open) histogram: the
 * upper bounds of its buckets in ms, 5, 10, 25, 50, 100, 250, 500, 1000,
 * 2500, 5000 and 10000; one more bucket counts what took longer. */
#define AZR_STATS_CONNECT_BUCKETS 11

typedef struct azr_proxy_stats {
    uint64_t accepted; /* clients taken on (each got a connection id) */
    uint64_t active;   /* of those, not ended yet (ConnectionCount) */
    /* clients accepted and closed at once: MaxConnections (or the
     * descriptor limit) reached, the ConnectionRequest event said no, no
     * memory for the connection */
    uint64_t refused_max_connections, refused_connection_request, refused_no_memory;
    uint64_t opened;                           /* relay connections that opened (101, preamble) */
    uint64_t relay_failures[AZR_FAIL_REASONS]; /* failed attempts, by azr_relay_failure */
    uint64_t retries;                          /* failed attempts tried again after a backoff */
    uint64_t bytes_to_relay, bytes_to_client;  /* payload, ended and live connections */
    uint32_t connect_bucket_ms[AZR_STATS_CONNECT_BUCKETS];   /* the upper bounds above */
    uint64_t connect_buckets[AZR_STATS_CONNECT_BUCKETS + 1]; /* opens per bucket (not cumulative) */
    uint64_t connect_ms_sum; /* ms from accept to open, summed over the opens */
    /* TLS handshakes that did not complete: the client's (SSLEnabled: a
     * connection that ended during it, whatever the reason but Disconnect
     * and Shutdown) and the relay's (attempts that failed during it, as
     * relay_failures[AZR_FAIL_TLS]) */
    uint64_t tls_failures_client, tls_failures_relay;
    /* WebSocket frames written to the relay (data and control) and whole
     * frames read from it: bytes_* / frames_* is the average frame */
    uint64_t frames_to_relay, frames_to_client;
} azr_proxy_stats;

/* The counters now into *out; 0. */
int azr_proxy_get_stats(const azr_proxy *p, azr_proxy_stats *out);
/* A reason's name: "dns", "tcp", "proxy", "tls", "upgrade 401", "upgrade
 * 403", "upgrade 404", "upgrade 5xx", "upgrade other", "upgrade none",
 * "azbridge" (NULL outside the enum); static strings. */
const char *azr_relay_failure_name(int reason);

/* The library's version, "MAJOR.MINOR.PATCH"; a static string. */
const char *azr_version(void);

#ifdef __cplusplus
}
#endif

#endif
