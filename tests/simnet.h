/*
 * A connection's world in memory, for test_conn and fuzz_conn: a proxy state
 * on the reactor's simulated loop (readiness and clock from here), fake
 * sockets with bounded pipes (back-pressure), EOF, resets and failing
 * connects, and a relay side that answers the upgrade and decodes our frames.
 * Checks the connection's manners as it goes: no I/O on a closed socket, no
 * double close, one Disconnected per connection.
 */
#ifndef AZR_TEST_SIMNET_H
#define AZR_TEST_SIMNET_H

#include "conn.h"
#include "listener.h"
#include <errno.h>

#ifndef SIM_SOCKS
#define SIM_SOCKS 16
#endif
#ifndef SIM_PIPE
#define SIM_PIPE (1 << 18)
#endif
#define SIM_FD0   900 /* fake descriptors: far above anything the test opened */
#define SIM_CONNS 8

typedef struct sim_pipe {
    uint8_t buf[SIM_PIPE];
    size_t len, cap;
} sim_pipe;

typedef struct sim_sock {
    bool used, closed, aborted, shut_wr;
    bool in_eof, in_rst; /* the peer sent FIN / RST (after in's bytes) */
    int connect_errno;   /* a dial that fails */
    sim_pipe in, out;    /* in: peer -> proxy, out: proxy -> peer */
    int misuse;          /* I/O after close */
    azr_net_opts opts;   /* the socket options the proxy set */
} sim_sock;

typedef struct sim {
    azr_proxy_state p;
    azr_net_ops ops;
    sim_sock s[SIM_SOCKS];
    uint64_t now;
    int next_connect_errno;
    int dials;    /* connects started */
    int relay_fd; /* the socket dialled last */
    int connected[SIM_CONNS + 2], disconnected[SIM_CONNS + 2];
    int status[SIM_CONNS + 2];
    char reason[SIM_CONNS + 2][320];
    void (*on_disconnected)(struct sim *w, int id);
    bool quiet;
} sim;

static sim_sock *sim_sock_of(sim *w, int fd)
{
    int i = fd - SIM_FD0;
    return i >= 0 && i < SIM_SOCKS && w->s[i].used ? &w->s[i] : NULL;
}

static int sim_new_sock(sim *w, size_t in_cap, size_t out_cap)
{
    for (int i = 0; i < SIM_SOCKS; i++)
        if (!w->s[i].used) {
            memset(&w->s[i], 0, sizeof w->s[i]);
            w->s[i].used = true;
            w->s[i].in.cap = in_cap;
            w->s[i].out.cap = out_cap;
            return SIM_FD0 + i;
        }
    return -1;
}

/* ------------------------------------------------------------- fake sockets */

static azr_err sim_connect(void *ud, const azr_sockaddr *a, int *fd)
{
    sim *w = ud;
    (void)a;
    *fd = sim_new_sock(w, sizeof w->s[0].in.buf, sizeof w->s[0].out.buf);
    if (*fd < 0) {
        errno = EMFILE;
        return AZR_E_IO;
    }
    sim_sock_of(w, *fd)->connect_errno = w->next_connect_errno;
    w->relay_fd = *fd;
    w->dials++;
    return AZR_AGAIN;
}

static azr_err sim_connect_done(void *ud, int fd)
{
    sim_sock *s = sim_sock_of(ud, fd);
    if (!s || s->connect_errno) {
        errno = s ? s->connect_errno : EBADF;
        return AZR_E_IO;
    }
    return AZR_OK;
}

static azr_err sim_read(void *ud, int fd, uint8_t *b, size_t cap, size_t *n)
{
    sim_sock *s = sim_sock_of(ud, fd);
    *n = 0;
    if (!s || s->closed) {
        if (s)
            s->misuse++;
        errno = EBADF;
        return AZR_E_IO;
    }
    if (s->in.len) {
        *n = cap < s->in.len ? cap : s->in.len;
        memcpy(b, s->in.buf, *n);
        memmove(s->in.buf, s->in.buf + *n, s->in.len - *n);
        s->in.len -= *n;
        return AZR_OK;
    }
    if (s->in_rst) {
        errno = ECONNRESET;
        return AZR_E_IO;
    }
    return s->in_eof ? AZR_E_CLOSED : AZR_AGAIN;
}

static azr_err sim_peek(void *ud, int fd)
{
    sim_sock *s = sim_sock_of(ud, fd);
    if (!s || s->closed) {
        if (s)
            s->misuse++;
        errno = EBADF;
        return AZR_E_IO;
    }
    if (s->in.len)
        return AZR_OK;
    if (s->in_rst) {
        errno = ECONNRESET;
        return AZR_E_IO;
    }
    return s->in_eof ? AZR_E_CLOSED : AZR_AGAIN;
}

static azr_err sim_write(void *ud, int fd, const uint8_t *b, size_t len, size_t *n)
{
    sim_sock *s = sim_sock_of(ud, fd);
    *n = 0;
    if (!s || s->closed || s->shut_wr) {
        if (s)
            s->misuse++;
        errno = EBADF;
        return AZR_E_IO;
    }
    if (s->in_rst) {
        errno = EPIPE;
        return AZR_E_IO;
    }
    size_t room = s->out.cap - s->out.len;
    if (room == 0)
        return AZR_AGAIN;
    *n = len < room ? len : room;
    memcpy(s->out.buf + s->out.len, b, *n);
    s->out.len += *n;
    return AZR_OK;
}

/* Scattered and gathered: the single calls, piece after piece, stopping
 * where one takes less than asked (as readv and writev do) */
typedef azr_err (*sim_io_fn)(void *ud, int fd, uint8_t *b, size_t len, size_t *n);

static azr_err sim_pieces(sim_io_fn io, void *ud, int fd, const azr_iov *iov, size_t niov,
                          size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < niov; i++) {
        size_t k;
        azr_err e = io(ud, fd, iov[i].base, iov[i].len, &k);
        if (e != AZR_OK)
            return *n ? AZR_OK : e;
        *n += k;
        if (k < iov[i].len)
            break;
    }
    return AZR_OK;
}

static azr_err sim_readv(void *ud, int fd, const azr_iov *iov, size_t niov, size_t *n)
{
    return sim_pieces(sim_read, ud, fd, iov, niov, n);
}

static azr_err sim_write_piece(void *ud, int fd, uint8_t *b, size_t len, size_t *n)
{
    return sim_write(ud, fd, b, len, n);
}

static azr_err sim_writev(void *ud, int fd, const azr_iov *iov, size_t niov, size_t *n)
{
    return sim_pieces(sim_write_piece, ud, fd, iov, niov, n);
}

static void sim_shutdown_wr(void *ud, int fd)
{
    sim_sock *s = sim_sock_of(ud, fd);
    if (s && !s->closed)
        s->shut_wr = true;
    else if (s)
        s->misuse++;
}

static void sim_close(void *ud, int fd, bool abort)
{
    sim_sock *s = sim_sock_of(ud, fd);
    if (!s)
        return;
    if (s->closed)
        s->misuse++; /* closed twice */
    s->closed = true;
    s->aborted = abort;
}

static azr_err sim_set_opts(void *ud, int fd, const azr_net_opts *o)
{
    sim_sock *s = sim_sock_of(ud, fd);
    if (s)
        s->opts = *o;
    return AZR_OK;
}

static unsigned sim_ready(void *ud, int fd, unsigned mask)
{
    sim_sock *s = sim_sock_of(ud, fd);
    unsigned ev = 0;
    if (!s || s->closed)
        return 0;
    if (s->in.len || s->in_eof || s->in_rst)
        ev |= AZR_READABLE;
    if (s->out.len < s->out.cap || s->in_rst)
        ev |= AZR_WRITABLE;
    return ev & mask;
}

static uint64_t sim_now(void *ud)
{
    return ((sim *)ud)->now;
}

/* ------------------------------------------------------------------ events */

static void sim_on_connected(void *ud, int id, int status, const char *desc)
{
    sim *w = ud;
    (void)desc;
    if (id > 0 && id <= SIM_CONNS)
        w->connected[id]++;
    (void)status;
}

static void sim_on_disconnected(void *ud, int id, int status, const char *desc)
{
    sim *w = ud;
    if (id > 0 && id <= SIM_CONNS) {
        w->disconnected[id]++;
        w->status[id] = status;
        snprintf(w->reason[id], sizeof w->reason[id], "%s", desc);
    }
    if (w->on_disconnected)
        w->on_disconnected(w, id);
}

static void sim_on_log(void *ud, int id, int level, const char *msg, const char *type)
{
    sim *w = ud;
    (void)level;
    if (!w->quiet)
        fprintf(stderr, "  log [%d] %s: %s\n", id, type, msg);
}

/* ------------------------------------------------------------------- setup */

/* A proxy state for ws://127.0.0.1:9/hc1 plus settings ("Name=Value"). */
static bool sim_init(sim *w, const char *const *settings)
{
    static const char *const base[] = {"NamespaceAddress=ws://127.0.0.1:9",
                                       "HybridConnection=hc1",
                                       "AccessKeyName=k",
                                       "AccessKey=a2V5",
                                       "LogLevel=3",
                                       NULL};
    azr_proxy_state *p = &w->p;
    char err[AZR_CONF_ERR_MAX];
    w->now = 1000000;
    azr_settings_init(&p->set);
    for (const char *const *s = base; *s; s++)
        if (azr_config_apply(&p->set, *s, strlen(*s), err, sizeof err) != AZR_OK)
            return false;
    for (; settings && *settings; settings++)
        if (azr_config_apply(&p->set, *settings, strlen(*settings), err, sizeof err) != AZR_OK) {
            fprintf(stderr, "%s: %s\n", *settings, err);
            return false;
        }
    azr_events ev = {0};
    ev.connected = sim_on_connected;
    ev.disconnected = sim_on_disconnected;
    ev.log = sim_on_log;
    p->ev = ev;
    p->ud = w;
    w->ops = (azr_net_ops){sim_connect,
                           sim_connect_done,
                           sim_read,
                           sim_write,
                           sim_shutdown_wr,
                           sim_close,
                           sim_set_opts,
                           sim_peek,
                           sim_readv,
                           sim_writev,
                           w};
    p->net = &w->ops;
    azr_reactor_sim rs = {sim_ready, sim_now, w};
    if (azr_reactor_new_sim(&p->loop, 1024, 1100, &rs) != AZR_OK)
        return false;
    br_hmac_drbg_init(&p->rng, &br_sha256_vtable, "simnet", 6);
    azr_resolver_opts ro = {.resolv_conf = "/nonexistent", .hosts = ""};
    if (!(p->resolver = azr_resolver_new(p->loop, &ro)))
        return false;
    azr_pages_init(&p->pages);
    p->lfd = -1;
    p->next_id = 1;
    p->max_conns = SIM_CONNS;
    p->conns = calloc(SIM_CONNS, sizeof *p->conns);
    return p->conns != NULL;
}

static void sim_free(sim *w)
{
    azr_proxy_state *p = &w->p;
    for (size_t i = 0; i < p->max_conns; i++)
        if (p->conns[i])
            azr_conn_close(p->conns[i], 0, "test over", true);
    azr_task_cancel(p->loop, &p->reap);
    azr_listener_reap(p);
    azr_resolver_free(p->resolver);
    free(p->conns);
    azr_burst_done(p);
    azr_pages_done(&p->pages);
    azr_reactor_free(p->loop);
    azr_settings_wipe(&p->set);
}

/* A client arrives; returns its connection id (its socket: *cfd). */
static int sim_accept(sim *w, int *cfd, size_t client_out_cap)
{
    azr_proxy_state *p = &w->p;
    *cfd = sim_new_sock(w, sizeof w->s[0].in.buf, client_out_cap);
    azr_sockaddr peer;
    char e[64];
    if (*cfd < 0 || azr_net_resolve("127.0.0.1", 5555, 0, false, &peer, e, sizeof e) != AZR_OK)
        return -1;
    for (size_t k = 0; k < p->max_conns; k++)
        if (!p->conns[k]) {
            azr_conn *c;
            if (azr_conn_open(p, *cfd, &peer, &c) != AZR_OK)
                return -1;
            c->id = azr_listener_next_id(p);
            c->slot = k;
            p->conns[k] = c;
            p->nconns++;
            p->nopen++;
            azr_conn_start(c);
            return c->id;
        }
    return -1;
}

static void sim_turns(sim *w, int n)
{
    for (int i = 0; i < n; i++)
        if (azr_reactor_turn(w->p.loop, 0, NULL) != AZR_OK)
            return;
}

/* Let time pass in steps of step_ms, turning the loop at each. */
static void sim_wait(sim *w, uint64_t ms_total, uint64_t step_ms)
{
    for (uint64_t t = 0; t < ms_total; t += step_ms) {
        w->now += step_ms;
        sim_turns(w, 3);
    }
}

/* The relay socket of the connection dialled last. */
static sim_sock *sim_relay(sim *w)
{
    return sim_sock_of(w, w->relay_fd);
}

static void sim_put(sim_pipe *p, const void *b, size_t n)
{
    if (n > p->cap - p->len)
        n = p->cap - p->len;
    memcpy(p->buf + p->len, b, n);
    p->len += n;
}

static void sim_take(sim_pipe *p, size_t n)
{
    if (n > p->len)
        n = p->len;
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
}

/* base64 (RFC 4648 §4), here so the accept key is not our own code's output */
static void sim_b64(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
    }
    out[o] = '\0';
}

static char *sim_find(char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

/* Answer the upgrade request waiting in r->out with 101 (RFC 6455 §4.2.2:
 * accept = base64(SHA-1(key + GUID)), SHA-1 from BearSSL). */
static bool sim_upgrade(sim_sock *r)
{
    char *req = (char *)r->out.buf;
    size_t len = r->out.len;
    char *end = sim_find(req, len, "\r\n\r\n");
    char *k = sim_find(req, len, "Sec-WebSocket-Key: ");
    if (!end || !k)
        return false;
    char key[64];
    size_t kl = strcspn(k + 19, "\r");
    if (kl >= sizeof key)
        return false;
    memcpy(key, k + 19, kl);
    key[kl] = '\0';
    br_sha1_context sc;
    uint8_t h[20];
    br_sha1_init(&sc);
    br_sha1_update(&sc, key, kl);
    br_sha1_update(&sc, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    br_sha1_out(&sc, h);
    char acc[32], resp[256];
    sim_b64(h, 20, acc);
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     acc);
    sim_take(&r->out, (size_t)(end + 4 - req));
    sim_put(&r->in, resp, (size_t)n);
    return true;
}

/* A server frame (unmasked) into the relay's side of the pipe. */
static void sim_frame(sim_sock *r, uint8_t first, const void *payload, size_t n)
{
    uint8_t h[AZR_WS_MAX_HDR];
    size_t hl = azr_ws_hdr_write(h, first & 0x0f, (first & 0x80) != 0, n, NULL);
    h[0] = first; /* keep any RSV bits the test asked for */
    sim_put(&r->in, h, hl);
    sim_put(&r->in, payload, n);
}

/* What our frames to the relay said. */
typedef struct sim_seen {
    size_t data; /* payload bytes of data frames */
    int closes, pings, pongs;
    uint16_t close_code;
    char last_pong[AZR_WS_MAX_CTRL + 1];
    bool bad; /* not a valid masked client stream */
} sim_seen;

static void sim_relay_reads(sim_sock *r, azr_ws_dec *d, sim_seen *seen, uint8_t *copy_out,
                            size_t copy_cap)
{
    size_t off = 0;
    while (off < r->out.len && !seen->bad) {
        size_t used;
        azr_ws_ev ev;
        azr_err e = azr_ws_dec_feed(d, r->out.buf + off, r->out.len - off, &used, &ev);
        off += used;
        if (e == AZR_AGAIN)
            break;
        if (e != AZR_OK) {
            seen->bad = true;
            break;
        }
        if (ev.opcode == AZR_WS_CLOSE && ev.frame_end) {
            seen->closes++;
            seen->close_code = ev.close_code;
        } else if (ev.opcode == AZR_WS_PING && ev.frame_end) {
            seen->pings++;
        } else if (ev.opcode == AZR_WS_PONG && ev.frame_end) {
            seen->pongs++;
            memcpy(seen->last_pong, ev.data, ev.data_len);
            seen->last_pong[ev.data_len] = '\0';
        } else if (ev.data_len) {
            if (copy_out && seen->data + ev.data_len <= copy_cap) {
                memcpy(copy_out + seen->data, ev.data, ev.data_len);
                azr_ws_mask(copy_out + seen->data, ev.data_len, ev.mask, ev.mask_offset);
            }
            seen->data += ev.data_len;
        }
    }
    sim_take(&r->out, off);
}

/* ------------------------------------------------- one connection, opened */
#ifdef assert_true /* cmocka suites (the fuzz targets have no cmocka) */

/* A world with one client whose relay connection is open (its upgrade
 * answered), and the relay's decoder for our frames (sim_world_reads). */
/* The relay's side, by hand (RFC 6455 §5.2), not through ws.c: whole masked
 * binary frames taken off the relay socket; their unmasked payload appended
 * to got, their lengths to sizes; pongs counted (with the data bytes before
 * the first). Returns false on anything else. */
typedef struct frames {
    uint8_t *got;
    size_t len, cap;
    size_t sizes[4096];
    size_t n;
    size_t pongs, pong_at; /* pong_at: data bytes before the first pong */
} frames;

static inline bool take_frames(sim_sock *r, frames *f)
{
    size_t off = 0;
    const uint8_t *b = r->out.buf;
    for (;;) {
        size_t have = r->out.len - off;
        if (have < 2)
            break;
        bool pong = b[off] == 0x8a;
        if ((b[off] != 0x82 && !pong) || !(b[off + 1] & 0x80))
            return false; /* FIN + binary or pong, masked */
        uint64_t len = b[off + 1] & 0x7f;
        size_t h = 2;
        if (len == 126) {
            if (have < 4)
                break;
            len = (uint64_t)b[off + 2] << 8 | b[off + 3];
            h = 4;
            if (len < 126)
                return false; /* not the minimal form */
        } else if (len == 127) {
            if (have < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | b[off + 2 + i];
            h = 10;
            if (len < 65536)
                return false;
        }
        if (have < h + 4 + len)
            break;
        const uint8_t *m = b + off + h;
        if (pong) {
            if (f->pongs++ == 0)
                f->pong_at = f->len;
            off += h + 4 + (size_t)len;
            continue;
        }
        if (f->len + len > f->cap || f->n == 4096)
            return false;
        for (size_t i = 0; i < len; i++)
            f->got[f->len + i] = b[off + h + 4 + i] ^ m[i % 4];
        f->len += (size_t)len;
        f->sizes[f->n++] = (size_t)len;
        off += h + 4 + (size_t)len;
    }
    sim_take(&r->out, off);
    return true;
}

typedef struct sim_world {
    sim w;
    int id, cfd;
    sim_sock *client, *relay;
    azr_ws_dec dec; /* the relay's view of our frames */
    sim_seen seen;
} sim_world;

static inline sim_world *sim_world_up(const char *const *settings, size_t client_out_cap)
{
    sim_world *t = calloc(1, sizeof *t);
    assert_non_null(t);
    assert_true(sim_init(&t->w, settings));
    t->w.quiet = getenv("AZR_TEST_VERBOSE") == NULL;
    t->id = sim_accept(&t->w, &t->cfd, client_out_cap);
    assert_true(t->id > 0);
    t->client = sim_sock_of(&t->w, t->cfd);
    sim_turns(&t->w, 3);
    t->relay = sim_relay(&t->w);
    assert_non_null(t->relay);
    assert_true(sim_upgrade(t->relay));
    sim_turns(&t->w, 3);
    assert_int_equal(t->w.connected[t->id], 1);
    azr_ws_dec_init(&t->dec, 0, false);
    azr_ws_dec_server(&t->dec);
    return t;
}

/* Tear down, checking the connection's manners: no I/O on a closed socket,
 * at most one Disconnected. */
static inline void sim_world_down(sim_world *t)
{
    sim_free(&t->w);
    assert_int_equal(t->client->misuse, 0);
    assert_int_equal(t->relay->misuse, 0);
    assert_true(t->w.disconnected[t->id] <= 1);
    free(t);
}

#endif /* assert_true */

#endif
