/*
 * One socket that reached the emulator, as a WebSocket server side over a
 * transport (plaintext or a BearSSL server engine). The reactor calls
 * peer_io; peer_run moves bytes: the request head to service.c, frames to
 * splice.c, queued output to the socket. A peer that ends is unhooked at
 * once and freed by a task, so nothing running on the stack can touch
 * freed memory.
 */
#include "emu.h"

#include <errno.h>
#include <unistd.h>

#include "net.h"

#define HEAD_MS   30000 /* a request head must arrive within this */
#define MAX_ROUND 8     /* input/output rounds per wakeup */

static void peer_io(azr_reactor *r, int fd, unsigned ev, void *ud);
static void peer_run(emu_peer *p);

static void free_task(azr_reactor *r, azr_task *t, void *ud)
{
    (void)r;
    (void)t;
    emu_peer *p = ud;
    free(p->sc);
    free(p->iobuf);
    free(p->msg);
    free(p);
}

static void timer_cb(azr_reactor *r, azr_timer *t, void *ud)
{
    (void)r;
    (void)t;
    emu_peer *p = ud;
    if (p->dead)
        return;
    if (p->kind == EMU_K_NEW)
        emu_peer_drop(p, "no request within 30 s");
    else if (p->close_in || p->close_out || p->flush_then_close)
        emu_peer_drop(p, "closing handshake not finished within 30 s");
    else
        emu_service_timer(p);
}

/* Lost without a close frame, the way a load balancer's idle cut looks. */
static void lost(emu_peer *p, const char *why);

static void idle_cb(azr_reactor *r, azr_timer *t, void *ud)
{
    (void)r;
    (void)t;
    emu_peer *p = ud;
    char why[96];
    snprintf(why, sizeof why, "no traffic for %llu s: cut (--idle-timeout)",
             (unsigned long long)(emu.idle_ms / 1000u));
    emu_log("#%llu %s", (unsigned long long)p->serial, why);
    lost(p, why);
}

void emu_peer_active(emu_peer *p)
{
    if (emu.idle_ms && p->upgraded && !p->dead &&
        azr_timer_arm(emu.loop, &p->idle, emu.idle_ms, idle_cb, p) != AZR_OK)
        emu_peer_drop(p, "too many timers");
}

void emu_peer_arm(emu_peer *p, uint64_t ms)
{
    if (azr_timer_arm(emu.loop, &p->timer, ms, timer_cb, p) != AZR_OK)
        emu_peer_drop(p, "too many timers");
}

void emu_peer_accepted(int fd, const char *addr, uint16_t port)
{
    emu_peer *p = calloc(1, sizeof *p);
    if (!p) {
        close(fd);
        return;
    }
    p->fd = fd;
    p->serial = ++emu.serial;
    snprintf(p->addr, sizeof p->addr, "%s", addr);
    p->port = port;
    p->tls = emu.tls;
    if (p->tls) {
        p->sc = calloc(1, sizeof *p->sc);
        p->iobuf = malloc(BR_SSL_BUFSIZE_BIDI);
        if (p->sc && p->iobuf) {
            azr_tls_server_init(p->sc, &emu.creds);
            if (!emu.cache_ready) {
                br_ssl_session_cache_lru_init(&emu.cache, emu.cache_mem, sizeof emu.cache_mem);
                emu.cache_ready = true;
            }
            br_ssl_server_set_cache(p->sc, &emu.cache.vtable);
            br_ssl_engine_set_buffer(&p->sc->eng, p->iobuf, BR_SSL_BUFSIZE_BIDI, 1);
            br_ssl_server_reset(p->sc);
            azr_xport_init_tls(&p->x, &p->sc->eng);
        }
    } else {
        p->iobuf = malloc(2 * EMU_BUF);
        if (p->iobuf)
            azr_xport_init(&p->x, p->iobuf, EMU_BUF, p->iobuf + EMU_BUF, EMU_BUF);
    }
    if (!p->iobuf || (p->tls && !p->sc) ||
        azr_reactor_set(emu.loop, fd, AZR_READABLE, peer_io, p) != AZR_OK ||
        azr_timer_arm(emu.loop, &p->timer, HEAD_MS, timer_cb, p) != AZR_OK) {
        azr_reactor_del(emu.loop, fd);
        close(fd);
        free(p->sc);
        free(p->iobuf);
        free(p);
        return;
    }
    p->next_all = emu.all;
    if (emu.all)
        emu.all->prev_all = p;
    emu.all = p;
}

void emu_peer_drop_all(void)
{
    while (emu.all)
        emu_peer_drop(emu.all, NULL);
}

size_t emu_peer_room(emu_peer *p)
{
    return p->dead ? 0 : azr_xport_sendapp_room(&p->x);
}

bool emu_peer_send_raw(emu_peer *p, const void *data, size_t len)
{
    if (p->dead || emu_peer_room(p) < len)
        return false;
    const uint8_t *d = data;
    while (len > 0) {
        size_t room;
        uint8_t *b = azr_xport_sendapp_buf(&p->x, &room);
        if (room == 0)
            return false;
        size_t n = len < room ? len : room;
        memcpy(b, d, n);
        azr_xport_sendapp_ack(&p->x, n);
        d += n;
        len -= n;
    }
    return true;
}

bool emu_peer_send_frame(emu_peer *p, uint8_t opcode, bool fin, const void *data, size_t len)
{
    uint8_t h[AZR_WS_MAX_HDR];
    size_t hl = azr_ws_hdr_write(h, opcode, fin, len, NULL);
    if (emu_peer_room(p) < hl + len)
        return false;
    return emu_peer_send_raw(p, h, hl) && emu_peer_send_raw(p, data, len);
}

void emu_peer_send_close(emu_peer *p, uint16_t code, const char *reason)
{
    if (p->dead || p->close_out)
        return;
    uint8_t pl[AZR_WS_MAX_CTRL];
    size_t n = code == AZR_WS_CLOSE_NO_STATUS ? 0 : azr_ws_close_payload(pl, code, reason);
    p->close_out = true;
    if (!emu_peer_send_frame(p, AZR_WS_CLOSE, true, pl, n)) {
        emu_peer_drop(p, "no room for a close frame");
        return;
    }
    if (p->close_in)
        p->flush_then_close = true;
    emu_peer_arm(p, EMU_DRAIN_MS);
    emu_peer_kick(p);
}

void emu_peer_refuse(emu_peer *p, int status, const char *phrase)
{
    char body[400], r[900];
    size_t bl = 0;
    int n = snprintf(body, sizeof body, "{\"error\":{\"code\":%d,\"message\":", status);
    bl = n > 0 ? (size_t)n : 0;
    if (!emu_json_str(body, sizeof body - 2, &bl, phrase))
        bl =
            (size_t)snprintf(body, sizeof body, "{\"error\":{\"code\":%d,\"message\":\"\"", status);
    memcpy(body + bl, "}}", 3);
    bl += 2;
    n = snprintf(r, sizeof r,
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n%s",
                 status, phrase, bl, body);
    if (n > 0 && (size_t)n < sizeof r)
        (void)emu_peer_send_raw(p, r, (size_t)n);
    emu_log("#%llu %s:%u refused: %d %s", (unsigned long long)p->serial, p->addr, p->port, status,
            phrase);
    emu_peer_finish(p);
}

void emu_peer_finish(emu_peer *p)
{
    if (p->dead)
        return;
    p->flush_then_close = true;
    if (!azr_timer_armed(&p->timer) || p->kind == EMU_K_NEW || p->kind == EMU_K_WAITING)
        emu_peer_arm(p, EMU_DRAIN_MS);
    emu_peer_kick(p);
}

void emu_peer_drop(emu_peer *p, const char *why)
{
    if (p->dead)
        return;
    p->dead = true;
    if (p->prev_all)
        p->prev_all->next_all = p->next_all;
    else
        emu.all = p->next_all;
    if (p->next_all)
        p->next_all->prev_all = p->prev_all;
    if (why && !emu.quiet)
        emu_log("#%llu %s:%u closed: %s", (unsigned long long)p->serial, p->addr, p->port, why);
    emu_service_forget(p);
    if (p->mate) {
        p->mate->mate = NULL;
        p->mate = NULL;
    }
    azr_timer_cancel(emu.loop, &p->timer);
    azr_timer_cancel(emu.loop, &p->idle);
    azr_reactor_del(emu.loop, p->fd);
    close(p->fd);
    p->fd = -1;
    azr_task_queue(emu.loop, &p->kick, free_task, p);
}

static void kick_task(azr_reactor *r, azr_task *t, void *ud)
{
    (void)r;
    (void)t;
    peer_run(ud);
}

void emu_peer_kick(emu_peer *p)
{
    if (!p->dead)
        azr_task_queue(emu.loop, &p->kick, kick_task, p);
}

/* The socket ended: tell the mate (§6.4), then go. */
static void lost(emu_peer *p, const char *why)
{
    if (p->upgraded && !p->flush_then_close)
        emu_splice_lost(p);
    emu_peer_drop(p, why);
}

/* Collect the request head from the transport; hand it over when complete. */
static bool read_head(emu_peer *p)
{
    size_t avail;
    const uint8_t *in = azr_xport_recvapp_buf(&p->x, &avail);
    if (avail == 0)
        return false;
    size_t i = 0;
    bool done = false;
    while (i < avail && p->head_len < AZR_HTTP_MAX_HEAD && !done) {
        p->head[p->head_len++] = (char)in[i++];
        done = p->head_len >= 4 && !memcmp(p->head + p->head_len - 4, "\r\n\r\n", 4);
    }
    azr_xport_recvapp_ack(&p->x, i);
    if (done) {
        p->head[p->head_len] = '\0';
        azr_timer_cancel(emu.loop, &p->timer);
        emu_service_request(p, p->head);
    } else if (p->head_len >= AZR_HTTP_MAX_HEAD) {
        emu_peer_refuse(p, 431, "Request Header Fields Too Large");
    }
    return true;
}

/* Write what the transport holds; false when the socket failed. */
static bool flush(emu_peer *p, bool *wrote)
{
    azr_xport_flush(&p->x);
    for (int i = 0; i < 4; i++) {
        size_t len, n;
        const uint8_t *b = azr_xport_sendrec_buf(&p->x, &len);
        if (len == 0)
            return true;
        azr_err e = azr_net_write(p->fd, b, len, &n);
        if (e == AZR_AGAIN)
            return true;
        if (e != AZR_OK)
            return false;
        azr_xport_sendrec_ack(&p->x, n);
        *wrote = true;
        emu_peer_active(p);
    }
    return true;
}

static void peer_run(emu_peer *p)
{
    for (int round = 0; round < MAX_ROUND && !p->dead; round++) {
        size_t before, after;
        (void)azr_xport_recvapp_buf(&p->x, &before);
        if (p->kind == EMU_K_NEW && !p->flush_then_close)
            (void)read_head(p);
        if (!p->dead && p->upgraded && !p->flush_then_close) {
            emu_splice_input(p);
            if (!p->dead)
                emu_splice_output(p);
        }
        if (p->dead)
            return;
        bool wrote = false;
        if (!flush(p, &wrote)) {
            lost(p, errno == ECONNRESET || errno == EPIPE ? "connection reset" : "write failed");
            return;
        }
        if (wrote && p->mate)
            emu_peer_kick(p->mate); /* room again for what the mate relays to us */
        (void)azr_xport_recvapp_buf(&p->x, &after);
        if (!wrote && after == before)
            break;
    }
    if (p->dead)
        return;
    size_t left;
    (void)azr_xport_recvapp_buf(&p->x, &left);
    if (left && p->upgraded && !p->flush_then_close && emu_peer_room(p) >= EMU_CHUNK_ROOM &&
        (!p->mate || emu_peer_room(p->mate) >= EMU_CHUNK_ROOM))
        emu_peer_kick(p); /* the round budget ran out, not the room */
    else if (p->upgraded && !p->flush_then_close && emu_splice_more_output(p))
        emu_peer_kick(p); /* a built-in source has more to write and room for it */
    size_t pending;
    (void)azr_xport_sendrec_buf(&p->x, &pending);
    unsigned st = azr_xport_state(&p->x);
    if (p->flush_then_close && pending == 0) {
        emu_peer_drop(p, NULL);
        return;
    }
    if (p->tls && (st & AZR_X_CLOSED)) {
        int err = azr_xport_error(&p->x);
        lost(p, err ? azr_tls_error_text(err) : "TLS closed");
        return;
    }
    unsigned m = 0;
    if (st & AZR_X_SENDREC)
        m |= AZR_WRITABLE;
    if ((st & AZR_X_RECVREC) && !p->flush_then_close)
        m |= AZR_READABLE;
    if (azr_reactor_set(emu.loop, p->fd, m, peer_io, p) != AZR_OK)
        emu_peer_drop(p, "event loop refused the descriptor");
}

static void peer_io(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)r;
    (void)fd;
    emu_peer *p = ud;
    if (p->dead)
        return;
    if (ev & AZR_READABLE) {
        size_t room, n;
        uint8_t *b = azr_xport_recvrec_buf(&p->x, &room);
        if (room > 0) {
            azr_err e = azr_net_read(p->fd, b, room, &n);
            if (e == AZR_OK) {
                azr_xport_recvrec_ack(&p->x, n);
                emu_peer_active(p);
            } else if (e != AZR_AGAIN) {
                lost(p, e == AZR_E_CLOSED ? "peer closed the TCP connection" : "connection reset");
                return;
            }
        }
    }
    peer_run(p);
}
