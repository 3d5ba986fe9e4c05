/*
 * The proxy in process, for the integration suites: a proxy object wired to
 * callbacks that record what the application sees (seen), loopback clients,
 * and a bounded way to turn the loop until something happens.
 */
#ifndef AZR_TEST_HARNESS_H
#define AZR_TEST_HARNESS_H

#include "testutil.h"
#include "peers.h"
#include "azrelay.h"
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define KEY "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="

typedef struct seen {
    int connected, disconnected, requests;
    int conn_id, connected_status, disconnected_status;
    char connected_desc[400], disconnected_desc[400];
    char log[16384];
    int refuse;
    /* the SSL events */
    char ssl_status[8192];
    int auths, auth_verdict, auth_override; /* override: 0 keep the verdict, 1 refuse, 2 accept */
    size_t auth_cert_len;
    unsigned char auth_cert[8192];
    char auth_subject[512], auth_issuer[512], auth_status[200];
    int conn_requests;
    char req_suites[2048], req_algs[512];
    const char *alt_store; /* SSLConnectionRequest answers with it when no ECDSA suite is offered */
} seen;

static inline void on_ssl_status(void *ud, int id, const char *msg)
{
    seen *s = ud;
    size_t n = strlen(s->ssl_status);
    snprintf(s->ssl_status + n, sizeof s->ssl_status - n, "[%d] %s\n", id, msg);
}

static inline void on_ssl_auth(void *ud, int id, const unsigned char *der, size_t len,
                               const char *subject, const char *issuer, const char *status,
                               int *accept)
{
    seen *s = ud;
    (void)id;
    s->auths++;
    s->auth_verdict = *accept;
    s->auth_cert_len = len;
    assert_true(len <= sizeof s->auth_cert);
    assert_true((der == NULL) == (len == 0));
    if (len)
        memcpy(s->auth_cert, der, len);
    snprintf(s->auth_subject, sizeof s->auth_subject, "%s", subject);
    snprintf(s->auth_issuer, sizeof s->auth_issuer, "%s", issuer);
    snprintf(s->auth_status, sizeof s->auth_status, "%s", status);
    if (s->auth_override)
        *accept = s->auth_override == 2;
}

static inline void on_ssl_request(void *ud, int id, const char *suites, const char *algs,
                                  azr_ssl_cert *cert)
{
    seen *s = ud;
    (void)id;
    s->conn_requests++;
    snprintf(s->req_suites, sizeof s->req_suites, "%s", suites);
    snprintf(s->req_algs, sizeof s->req_algs, "%s", algs);
    assert_int_equal(cert->store_type, 99);
    if (s->alt_store && !strstr(suites, "ECDSA"))
        snprintf(cert->store, sizeof cert->store, "%s", s->alt_store);
}

static inline void on_request(void *ud, const char *address, int port, int *accept)
{
    seen *s = ud;
    s->requests++;
    if (strcmp(address, "::1") != 0) /* IPv4 clients read as such, even on a dual-stack socket */
        assert_string_equal(address, "127.0.0.1");
    assert_true(port > 0);
    if (s->refuse)
        *accept = 0;
}

static inline void on_connected(void *ud, int id, int status, const char *desc)
{
    seen *s = ud;
    s->connected++;
    s->conn_id = id;
    s->connected_status = status;
    snprintf(s->connected_desc, sizeof s->connected_desc, "%s", desc);
}

static inline void on_disconnected(void *ud, int id, int status, const char *desc)
{
    seen *s = ud;
    s->disconnected++;
    s->conn_id = id;
    s->disconnected_status = status;
    snprintf(s->disconnected_desc, sizeof s->disconnected_desc, "%s", desc);
}

static inline void on_log(void *ud, int id, int level, const char *msg, const char *type)
{
    seen *s = ud;
    size_t n = strlen(s->log);
    (void)level;
    snprintf(s->log + n, sizeof s->log - n, "[%d %s] %s\n", id, type, msg);
}

/* Set: proxy_at() puts its proxies on this shared loop. */
static azr_loop *harness_loop;

/* A proxy for ns_address (NamespaceAddress) and hybrid connection hc, with
 * the test key unless settings override it; *port gets its local port. */
static inline azr_proxy *proxy_at(const char *ns_address, const char *hc, seen *s,
                                  const char *const *settings, int *port)
{
    azr_events ev = {on_request, on_connected,  on_disconnected, NULL,
                     on_log,     on_ssl_status, on_ssl_auth,     on_ssl_request};
    azr_proxy *p = harness_loop ? azr_proxy_new_on(harness_loop, &ev, s) : azr_proxy_new(&ev, s);
    assert_non_null(p);
    char stmt[600], out[64];
    snprintf(stmt, sizeof stmt, "NamespaceAddress=%s", ns_address);
    assert_int_equal(azr_proxy_config(p, stmt, NULL, 0), 0);
    snprintf(stmt, sizeof stmt, "HybridConnection=%s", hc);
    assert_int_equal(azr_proxy_config(p, stmt, NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "AccessKeyName=RootManageSharedAccessKey", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "AccessKey=" KEY, NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "LocalHost=127.0.0.1", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "LogLevel=3", NULL, 0), 0);
    /* ./build.sh test runs the integration suites once per event-loop backend */
    const char *loop = harness_loop ? NULL : getenv("AZR_TEST_EVENT_LOOP");
    if (loop) {
        snprintf(stmt, sizeof stmt, "EventLoop=%s", loop);
        assert_int_equal(azr_proxy_config(p, stmt, NULL, 0), 0);
    }
    for (; settings && *settings; settings++)
        if (azr_proxy_config(p, *settings, NULL, 0) != 0)
            fail_msg("%s: %s", *settings, azr_proxy_last_error(p));
    if (azr_proxy_start_listening(p) != 0)
        fail_msg("StartListening: %s", azr_proxy_last_error(p));
    assert_int_equal(azr_proxy_config(p, "LocalPort", out, sizeof out), 0);
    *port = (int)strtol(out, NULL, 10);
    assert_true(*port > 0);
    assert_int_equal(azr_proxy_config(p, "Listening", out, sizeof out), 0);
    assert_string_equal(out, "True");
    if (loop)
        assert_non_null(strstr(s->log, loop)); /* "event loop: poll" in the first line */
    return p;
}

static inline int client(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    assert_true(rc == 0 || errno == EINPROGRESS);
    return fd;
}

/* Turn the loop until cond holds or ms pass. */
#define SPIN(p, cond, limit_ms)                                                                    \
    do {                                                                                           \
        uint64_t _stop = ms() + (limit_ms);                                                        \
        while (!(cond) && ms() < _stop)                                                            \
            assert_int_equal(azr_proxy_do_events((p), 20), 0);                                     \
    } while (0)

/* Read what is there now; returns bytes, 0 at EOF, -1 when nothing yet. */
static inline ssize_t take(int fd, uint8_t *buf, size_t cap)
{
    ssize_t n = read(fd, buf, cap);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -1;
    if (n < 0 && errno == ECONNRESET)
        return 0;
    return n;
}

/*
 * Send len bytes of out through fd while reading what comes back into back
 * (half-closing after the last byte when fin), turning the proxy's loop;
 * stops at EOF, when len bytes came back, or after limit_ms. Returns the
 * bytes received.
 */
static inline size_t exchange(azr_proxy *p, int fd, const uint8_t *out, uint8_t *back, size_t len,
                              bool fin, uint64_t limit_ms)
{
    size_t sent = 0, got = 0;
    bool shut = false;
    uint64_t stop = ms() + limit_ms;
    while (got < len && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 5), 0);
        if (sent < len) {
            ssize_t n = write(fd, out + sent, len - sent);
            if (n > 0)
                sent += (size_t)n;
        } else if (fin && !shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        ssize_t n = take(fd, back + got, len - got);
        if (n > 0)
            got += (size_t)n;
        if (n == 0)
            break;
    }
    return got;
}

/* Wait for EOF on fd (true) while turning the loop, at most limit_ms. */
static inline bool eof_within(azr_proxy *p, int fd, uint64_t limit_ms)
{
    uint8_t b[4096];
    uint64_t stop = ms() + limit_ms;
    while (ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        ssize_t n = take(fd, b, sizeof b);
        if (n == 0)
            return true;
    }
    return false;
}

static inline void random_bytes(uint8_t *b, size_t n)
{
    FILE *f = fopen("/dev/urandom", "rb");
    assert_non_null(f);
    assert_int_equal(fread(b, 1, n, f), n);
    fclose(f);
}

#endif
