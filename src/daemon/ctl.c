/*
 * IMPLEMENTATION NOTES
 * Two endpoints on the fleet's loop, each a listening socket and at most
 * CTL_CLIENTS clients: the status socket (unix stream; a client gets the
 * --status report as soon as it connects) and the metrics endpoint (TCP,
 * HTTP/1.1: one request per connection, answered with Connection: close).
 *
 * The loop knows these descriptors only as watches (azr_loop_watch_fd): a
 * readable one ends the loop's wait and azr_ctl_tick(), called after every
 * turn, asks the kernel what is ready with one poll() of timeout 0 and does
 * the work; a turn no watched descriptor woke, with no client being served,
 * costs no system call (the data path's turns). A client is watched while we read from it: its
 * request, or, after the answer was written and our side shut down, the FIN we wait for before
 * closing (closing with its bytes unread would reset the connection and could cut our answer short
 * at the peer). While an answer does not fit the socket the client is not watched (a peer that
 * sends while not reading would keep the loop awake) and azr_ctl_timeout_ms() has the loop come
 * back every CTL_RETRY_MS to try again. Nothing blocks:
 *  - a request must be whole within CTL_REQUEST_MS (else 408), an exchange
 *    is over within CTL_CLIENT_MS, a FIN is awaited CTL_LINGER_MS: past its
 *    deadline a client is closed, read or not;
 *  - a report is built whole when it is asked for, into a buffer of at
 *    most CTL_OUT_MAX bytes, so the reader's pace costs memory once and no
 *    work; the kernel holds at most CTL_SNDBUF of it per client (fixed, so
 *    a reader that does not read cannot make TCP autotune it to MBs); more
 *    clients than CTL_CLIENTS are closed at once.
 * A status socket file is created mode 0660; a stale one (nobody listens)
 * is replaced, a live one or another file is refused; the file is removed
 * at the end only while it is still ours (same device and inode).
 */
#include "ctl.h"

#include "dlog.h"
#include "help.h"
#include "httpreq.h"
#include "net.h"
#include "report.h"

#include <errno.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_CLIENTS     16
#define CTL_REQUEST_MS  5000
#define CTL_CLIENT_MS   10000
#define CTL_LINGER_MS   1000
#define CTL_RETRY_MS    20
#define CTL_OUT_MAX     (8u << 20)
#define CTL_STATUS_ROWS 10000
#define CTL_ACCEPTS     16 /* per endpoint and turn */
#define CTL_SNDBUF      (32 * 1024)

typedef enum ckind { K_STATUS, K_HTTP } ckind;
typedef enum cstate { S_READ, S_WRITE, S_LINGER } cstate;

typedef struct client {
    int fd;
    ckind kind;
    cstate st;
    bool watched;
    uint64_t deadline, req_deadline;
    char head[320]; /* HTTP: the answer's head */
    size_t head_len;
    azr_rbuf body; /* the report, or an HTTP answer's body */
    size_t off;    /* of head + body, written */
    size_t in_len;
    uint8_t in[AZR_HTTPREQ_MAX_HEAD]; /* HTTP: the request head so far */
} client;

typedef struct endpoint {
    int fd;
    ckind kind;
    client *cl[CTL_CLIENTS];
} endpoint;

struct azr_ctl {
    azr_fleet *fl;
    azr_loop *loop;
    endpoint status, http;
    char status_path[AZR_STATUS_PATH_MAX + 1]; /* what status.fd listens on */
    dev_t status_dev;
    ino_t status_ino;
    char metrics[AZR_HOSTPORT_MAX + 1]; /* what http.fd listens on, as set */
    /* the values of the configuration the fleet started with (azr_ctl_reloaded) */
    char boot_status[AZR_STATUS_PATH_MAX + 1];
    char boot_metrics[AZR_HOSTPORT_MAX + 1];
    azr_report_proc proc;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---------------------------------------------------------------- clients */

static bool watch(azr_ctl *c, client *k, bool on)
{
    if (on == k->watched)
        return true;
    if (on && azr_loop_watch_fd(c->loop, k->fd) != 0)
        return false;
    if (!on)
        (void)azr_loop_unwatch_fd(c->loop, k->fd);
    k->watched = on;
    return true;
}

static void drop(azr_ctl *c, endpoint *e, size_t i)
{
    client *k = e->cl[i];
    (void)watch(c, k, false);
    close(k->fd);
    azr_rbuf_free(&k->body);
    free(k);
    e->cl[i] = NULL;
}

/* Write what is left of the answer. All of it: shut our side and wait for
 * the peer's FIN (watched); part: try again later (not watched). false: the
 * client is gone. */
static bool flush(azr_ctl *c, client *k)
{
    size_t total = k->head_len + k->body.len;
    while (k->off < total) {
        const uint8_t *p;
        size_t n, w;
        if (k->off < k->head_len) {
            p = (const uint8_t *)k->head + k->off;
            n = k->head_len - k->off;
        } else {
            p = (const uint8_t *)k->body.p + (k->off - k->head_len);
            n = total - k->off;
        }
        azr_err e = azr_net_write(k->fd, p, n, &w);
        if (e == AZR_AGAIN)
            return watch(c, k, false);
        if (e != AZR_OK)
            return false;
        k->off += w;
    }
    azr_rbuf_free(&k->body);
    k->st = S_LINGER;
    shutdown(k->fd, SHUT_WR);
    uint64_t until = now_ms() + CTL_LINGER_MS;
    if (until < k->deadline)
        k->deadline = until;
    return watch(c, k, true);
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Internal Server Error";
    }
}

/* The HTTP answer's head for k->body, and on to writing it. */
static bool answer(azr_ctl *c, client *k, int status, const char *type, const char *extra)
{
    int n = snprintf(k->head, sizeof k->head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                     status, reason_of(status), type, k->body.len, extra);
    k->head_len = n > 0 && (size_t)n < sizeof k->head ? (size_t)n : 0;
    k->off = 0;
    k->st = S_WRITE;
    return flush(c, k);
}

#define TEXT "text/plain; charset=utf-8"

static bool serve(azr_ctl *c, client *k, const azr_httpreq *r, azr_err pe)
{
    if (pe != AZR_OK) {
        azr_rbuf_printf(&k->body, "%s\n", r->why);
        return answer(c, k, r->status, TEXT, "");
    }
    bool metrics = r->path_len == 8 && !memcmp(r->path, "/metrics", 8);
    bool health = r->path_len == 8 && !memcmp(r->path, "/healthz", 8);
    if (!metrics && !health) {
        azr_rbuf_printf(&k->body, "not found: GET /metrics or /healthz\n");
        return answer(c, k, 404, TEXT, "");
    }
    if (r->method_len != 3 || memcmp(r->method, "GET", 3) != 0) {
        azr_rbuf_printf(&k->body, "GET only\n");
        return answer(c, k, 405, TEXT, "Allow: GET\r\n");
    }
    if (health) {
        char why[512];
        bool ok = azr_report_healthy(c->fl, why, sizeof why);
        azr_rbuf_printf(&k->body, "%s\n", ok ? "ok" : why);
        return answer(c, k, ok ? 200 : 503, TEXT, "");
    }
    azr_report_metrics(c->fl, &c->proc, &k->body);
    if (k->body.full) {
        azr_rbuf_free(&k->body);
        azr_rbuf_init(&k->body, 256);
        azr_rbuf_printf(&k->body, "the metrics do not fit %u bytes, or memory ran out\n",
                        CTL_OUT_MAX);
        return answer(c, k, 500, TEXT, "");
    }
    return answer(c, k, 200, "text/plain; version=0.0.4; charset=utf-8", "");
}

/* k is readable. false: the client is done with. */
static bool readable(azr_ctl *c, client *k)
{
    for (int i = 0; i < 16; i++) {
        uint8_t sink[4096];
        uint8_t *at = k->st == S_READ ? k->in + k->in_len : sink;
        size_t room = k->st == S_READ ? sizeof k->in - k->in_len : sizeof sink, n;
        if (room == 0)
            break; /* a full head: the parser has said LIMIT already */
        azr_err e = azr_net_read(k->fd, at, room, &n);
        if (e == AZR_AGAIN)
            return true;
        if (e != AZR_OK)
            return false; /* EOF (before a whole request, or as awaited), or an error */
        if (k->st != S_READ)
            continue;
        k->in_len += n;
        azr_httpreq r;
        azr_err pe = azr_httpreq_parse(k->in, k->in_len, &r);
        if (pe == AZR_AGAIN)
            continue;
        if (!watch(c, k, false))
            return false;
        return serve(c, k, &r, pe);
    }
    return true;
}

static void adopt(azr_ctl *c, endpoint *e, int fd)
{
    size_t i = 0;
    while (i < CTL_CLIENTS && e->cl[i])
        i++;
    client *k = i < CTL_CLIENTS ? calloc(1, sizeof *k) : NULL;
    if (!k) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                   "Connection: close\r\n\r\n";
        size_t w;
        if (e->kind == K_HTTP &&
            azr_net_write(fd, (const uint8_t *)busy, sizeof busy - 1, &w) != AZR_OK)
            w = 0; /* best effort: it is closed either way */
        close(fd);
        return;
    }
    /* the kernel holds at most this much of an answer (no autotuning to
     * megabytes for a reader that does not read); the rest waits here */
    int sndbuf = CTL_SNDBUF;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    uint64_t now = now_ms();
    k->fd = fd;
    k->kind = e->kind;
    k->deadline = now + CTL_CLIENT_MS;
    k->req_deadline = now + CTL_REQUEST_MS;
    azr_rbuf_init(&k->body, CTL_OUT_MAX);
    e->cl[i] = k;
    bool ok;
    if (e->kind == K_STATUS) {
        azr_report_status(c->fl, &c->proc, CTL_STATUS_ROWS, &k->body);
        if (k->body.full)
            azr_rbuf_printf(&k->body, "... (the report stops here: %u bytes at most)\n",
                            CTL_OUT_MAX);
        k->st = S_WRITE;
        ok = flush(c, k);
    } else {
        k->st = S_READ;
        ok = watch(c, k, true);
    }
    if (!ok)
        drop(c, e, i);
}

static void accept_all(azr_ctl *c, endpoint *e)
{
    for (int n = 0; n < CTL_ACCEPTS && e->fd >= 0; n++) {
        int fd;
        azr_sockaddr peer;
        azr_err r = azr_net_accept(e->fd, &fd, &peer);
        if (r != AZR_OK)
            return; /* none waiting; or out of descriptors: the next turn tries again */
        adopt(c, e, fd);
    }
}

/* Past its deadline: a request still coming gets 408 (best effort). */
static void expire(azr_ctl *c, endpoint *e, size_t i, uint64_t now)
{
    client *k = e->cl[i];
    if (k->kind == K_HTTP && k->st == S_READ && now >= k->req_deadline && now < k->deadline) {
        azr_rbuf_printf(&k->body, "the request did not arrive within %u s\n",
                        CTL_REQUEST_MS / 1000u);
        if (watch(c, k, false) && answer(c, k, 408, TEXT, ""))
            return;
    } else if (now < k->deadline) {
        return;
    }
    drop(c, e, i);
}

void azr_ctl_tick(azr_ctl *c, bool woken)
{
    struct pollfd p[2 + 2 * CTL_CLIENTS];
    client *who[2 + 2 * CTL_CLIENTS];
    endpoint *where[2 + 2 * CTL_CLIENTS];
    size_t slot[2 + 2 * CTL_CLIENTS];
    nfds_t n = 0;
    endpoint *eps[2] = {&c->status, &c->http};
    for (size_t j = 0; j < 2; j++) {
        endpoint *e = eps[j];
        if (e->fd >= 0) {
            p[n] = (struct pollfd){e->fd, POLLIN, 0};
            who[n] = NULL;
            where[n++] = e;
        }
        for (size_t i = 0; i < CTL_CLIENTS; i++)
            if (e->cl[i]) {
                p[n] = (struct pollfd){e->cl[i]->fd, e->cl[i]->st == S_WRITE ? POLLOUT : POLLIN, 0};
                who[n] = e->cl[i];
                where[n] = e;
                slot[n++] = i;
            }
    }
    size_t clients = 0;
    for (nfds_t i = 0; i < n; i++)
        clients += who[i] != NULL;
    /* nothing to ask the kernel when no watched descriptor woke the loop and
     * no client is being served (deadlines, answers waiting for room) */
    if (n == 0 || (!woken && clients == 0) || poll(p, n, 0) < 0)
        return;
    for (nfds_t i = 0; i < n; i++) {
        if (!p[i].revents)
            continue;
        endpoint *e = where[i];
        if (!who[i]) {
            accept_all(c, e);
            continue;
        }
        client *k = who[i];
        bool ok = k->st == S_WRITE ? flush(c, k) : readable(c, k);
        if (!ok)
            drop(c, e, slot[i]);
    }
    uint64_t now = now_ms();
    for (size_t j = 0; j < 2; j++)
        for (size_t i = 0; i < CTL_CLIENTS; i++)
            if (eps[j]->cl[i])
                expire(c, eps[j], i, now);
}

int azr_ctl_timeout_ms(const azr_ctl *c)
{
    uint64_t now = now_ms(), first = UINT64_MAX;
    const endpoint *eps[2] = {&c->status, &c->http};
    for (size_t j = 0; j < 2; j++)
        for (size_t i = 0; i < CTL_CLIENTS; i++) {
            const client *k = eps[j]->cl[i];
            if (!k)
                continue;
            uint64_t at = k->st == S_WRITE ? now + CTL_RETRY_MS : k->deadline;
            if (k->kind == K_HTTP && k->st == S_READ && k->req_deadline < at)
                at = k->req_deadline;
            if (at < first)
                first = at;
        }
    if (first == UINT64_MAX)
        return -1;
    return first <= now ? 0 : first - now > INT_MAX ? INT_MAX : (int)(first - now);
}

/* -------------------------------------------------------------- listening */

static void endpoint_close(azr_ctl *c, endpoint *e)
{
    if (e->fd >= 0) {
        (void)azr_loop_unwatch_fd(c->loop, e->fd);
        close(e->fd);
        e->fd = -1;
    }
}

/* A status socket at path, replacing a stale one: the listening fd, or -1 with err. */
static int status_listen(const char *path, dev_t *dev, ino_t *ino, char *err, size_t cap)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a.sun_path) {
        snprintf(err, cap, "StatusSocket %.200s: longer than a unix socket's path (%zu bytes)",
                 path, sizeof a.sun_path - 1);
        return -1;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, cap, "StatusSocket %.200s: the file exists and is not a socket", path);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int rc = probe >= 0 ? connect(probe, (struct sockaddr *)&a, sizeof a) : -1;
        int why = errno;
        if (probe >= 0)
            close(probe);
        if (rc == 0) {
            snprintf(err, cap,
                     "StatusSocket %s: another process listens there (another azrelay-proxy?)",
                     path);
            return -1;
        }
        if (why != ECONNREFUSED || unlink(path) != 0) {
            snprintf(err, cap, "StatusSocket %.200s: cannot replace the old socket: %s", path,
                     strerror(why != ECONNREFUSED ? why : errno));
            return -1;
        }
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || chmod(path, 0660) != 0 ||
        listen(fd, 16) != 0 || stat(path, &st) != 0) {
        int why = errno;
        snprintf(err, cap, "StatusSocket %.200s: %s%s", path, strerror(why),
                 why == ENOENT ? " (create the directory; under systemd, RuntimeDirectory=)" : "");
        if (fd >= 0) {
            close(fd);
            (void)unlink(path);
        }
        return -1;
    }
    *dev = st.st_dev;
    *ino = st.st_ino;
    return fd;
}

/* The metrics endpoint on addr (HOST:PORT): the listening fd, or -1 with err. */
static int http_listen(const char *addr, char *shown, size_t shown_cap, char *err, size_t cap)
{
    char host[AZR_HOSTPORT_MAX + 1], why[256];
    uint16_t port, bound;
    azr_sockaddr sa;
    if (azr_config_hostport(addr, strlen(addr), host, sizeof host, &port, why, sizeof why) !=
        AZR_OK) {
        snprintf(err, cap, "%s", why);
        return -1;
    }
    if (azr_net_resolve(host, port, 2, true, &sa, why, sizeof why) != AZR_OK) {
        snprintf(err, cap, "MetricsAddress %s: %s", addr, why);
        return -1;
    }
    int fd = -1;
    azr_err e = sa.ss.ss_family == AF_INET6 ? azr_net_listen_v6(&sa, true, 16, &fd, &bound)
                                            : azr_net_listen(&sa, 16, &fd, &bound);
    if (e != AZR_OK) {
        int why_errno = errno;
        snprintf(err, cap, "MetricsAddress %s: cannot listen: %s", addr, strerror(why_errno));
        errno = why_errno;
        return -1;
    }
    char h[64];
    azr_net_addr_text(&sa, h, sizeof h, NULL);
    bool v6 = strchr(h, ':') != NULL;
    snprintf(shown, shown_cap, "%s%s%s:%u", v6 ? "[" : "", h, v6 ? "]" : "", (unsigned)bound);
    return fd;
}

/* Listen on the status socket path ("" : none), in place of the one before. */
static bool status_set(azr_ctl *c, const char *path, char *err, size_t cap)
{
    dev_t dev = 0;
    ino_t ino = 0;
    int fd = -1;
    if (path[0] && (fd = status_listen(path, &dev, &ino, err, cap)) < 0)
        return false;
    if (fd >= 0 && azr_loop_watch_fd(c->loop, fd) != 0) {
        snprintf(err, cap, "StatusSocket %.200s: the event loop refuses its descriptor", path);
        close(fd);
        (void)unlink(path);
        return false;
    }
    endpoint_close(c, &c->status);
    struct stat st;
    if (c->status_path[0] && strcmp(c->status_path, path) != 0 && lstat(c->status_path, &st) == 0 &&
        st.st_dev == c->status_dev && st.st_ino == c->status_ino)
        (void)unlink(c->status_path);
    c->status.fd = fd;
    c->status_dev = dev;
    c->status_ino = ino;
    snprintf(c->status_path, sizeof c->status_path, "%s", path);
    if (path[0])
        azr_dlog(NULL, 0, "Info", "status socket %s (mode 0660): " PROG " --status %s", path, path);
    return true;
}

static bool http_set(azr_ctl *c, const char *addr, char *err, size_t cap)
{
    char shown[AZR_HOSTPORT_MAX + 16];
    int fd = -1;
    if (addr[0])
        fd = http_listen(addr, shown, sizeof shown, err, cap);
    if (addr[0] && fd < 0 && errno == EADDRINUSE && c->http.fd >= 0) {
        /* the port we hold, written another way ("localhost:9464" for
         * "127.0.0.1:9464", a port given for :0): let it go, try again,
         * and take the old one back if that fails */
        endpoint_close(c, &c->http);
        fd = http_listen(addr, shown, sizeof shown, err, cap);
        if (fd < 0) {
            char again[AZR_HOSTPORT_MAX + 1], ignored[256];
            snprintf(again, sizeof again, "%s", c->metrics);
            c->metrics[0] = '\0';
            (void)http_set(c, again, ignored, sizeof ignored);
            return false;
        }
    }
    if (addr[0] && fd < 0)
        return false;
    if (fd >= 0 && azr_loop_watch_fd(c->loop, fd) != 0) {
        snprintf(err, cap, "MetricsAddress %s: the event loop refuses its descriptor", addr);
        close(fd);
        return false;
    }
    endpoint_close(c, &c->http);
    c->http.fd = fd;
    snprintf(c->metrics, sizeof c->metrics, "%s", addr);
    if (addr[0])
        azr_dlog(NULL, 0, "Info", "metrics on http://%s/metrics (and /healthz)", shown);
    return true;
}

azr_ctl *azr_ctl_new(azr_fleet *fl, const azr_settings *set, char *err, size_t cap)
{
    azr_ctl *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    c->fl = fl;
    c->loop = azr_fleet_loop(fl);
    c->status.fd = c->http.fd = -1;
    c->status.kind = K_STATUS;
    c->http.kind = K_HTTP;
    c->proc.start_time = (int64_t)time(NULL);
    snprintf(c->boot_status, sizeof c->boot_status, "%s", set->status_socket);
    snprintf(c->boot_metrics, sizeof c->boot_metrics, "%s", set->metrics_address);
    if (!status_set(c, set->status_socket, err, cap) ||
        !http_set(c, set->metrics_address, err, cap)) {
        azr_ctl_free(c);
        return NULL;
    }
    return c;
}

void azr_ctl_free(azr_ctl *c)
{
    if (!c)
        return;
    endpoint *eps[2] = {&c->status, &c->http};
    for (size_t j = 0; j < 2; j++) {
        for (size_t i = 0; i < CTL_CLIENTS; i++)
            if (eps[j]->cl[i])
                drop(c, eps[j], i);
        endpoint_close(c, eps[j]);
    }
    char none[1] = "";
    (void)status_set(c, none, NULL, 0); /* removes the file while it is ours */
    free(c);
}

void azr_ctl_reloaded(azr_ctl *c, azr_load *l)
{
    char err[AZR_CONF_ERR_MAX + 128];
    if (!l) {
        c->proc.reloads_refused++;
        return;
    }
    c->proc.reloads_applied++;
    const azr_settings *s = &l->f[0].set;
    if (strcmp(s->status_socket, c->status_path) != 0 &&
        !status_set(c, s->status_socket, err, sizeof err))
        azr_dlog(NULL, 0, "Error", "reload: %s; the status socket stays at %s", err,
                 c->status_path[0] ? c->status_path : "(none)");
    if (strcmp(s->metrics_address, c->metrics) != 0 &&
        !http_set(c, s->metrics_address, err, sizeof err))
        azr_dlog(NULL, 0, "Error", "reload: %s; the metrics endpoint stays at %s", err,
                 c->metrics[0] ? c->metrics : "(none)");
    for (size_t i = 0; i < l->n; i++) {
        snprintf(l->f[i].set.status_socket, sizeof l->f[i].set.status_socket, "%s", c->boot_status);
        snprintf(l->f[i].set.metrics_address, sizeof l->f[i].set.metrics_address, "%s",
                 c->boot_metrics);
    }
}

/* ----------------------------------------------------------------- client */

int azr_ctl_status_print(const char *path, FILE *out, FILE *err)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a.sun_path) {
        fprintf(err, PROG ": --status %s: longer than a unix socket's path\n", path);
        return 1;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS &&
                   errno != EAGAIN)) {
        int why = errno;
        fprintf(err, PROG ": --status %s: %s%s\n", path, strerror(why),
                why == ENOENT         ? " (is " PROG " running with StatusSocket set to it?)"
                : why == ECONNREFUSED ? " (nobody listens: a socket left by a daemon that ended)"
                : why == EACCES       ? " (the socket is mode 0660: run as the daemon's user or "
                                        "group, or root)"
                                      : "");
        if (fd >= 0)
            close(fd);
        return 1;
    }
    uint64_t stop = now_ms() + CTL_CLIENT_MS;
    char buf[16384];
    for (;;) {
        uint64_t now = now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        int r = now < stop ? poll(&p, 1, (int)(stop - now)) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(err, PROG ": --status %s: %s\n", path,
                    r == 0 ? "no complete answer within 10 s" : strerror(errno));
            close(fd);
            return 1;
        }
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            fprintf(err, PROG ": --status %s: %s\n", path, strerror(errno));
            close(fd);
            return 1;
        }
        if (n == 0)
            break;
        fwrite(buf, 1, (size_t)n, out);
    }
    close(fd);
    fflush(out);
    return ferror(out) ? 1 : 0;
}
