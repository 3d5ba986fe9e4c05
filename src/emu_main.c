/*
 * azrelay-emu: a local stand-in for the Azure Relay Hybrid Connections
 * service, so the proxy runs and is tested with no Azure account.
 *
 * This first step serves senders only, with built-in listeners:
 *   azrelay-emu [--port N] [--host H] [--rule NAME:KEY]... [--echo HC]...
 * A sender's upgrade on /$hc/<HC>?sb-hc-action=connect is checked like the
 * service does (relay-protocol.md §2-§4): SAS token from sb-hc-token or
 * ServiceBusAuthorization, signature -> expiry -> audience, then the HC and a
 * listener; refusals carry the service's status codes and phrases. An
 * accepted sender gets an echo listener: every data frame comes back,
 * pings are answered, a close is answered with the same code.
 * Listener control channels and rendezvous (hyco-ws) come next.
 */
#include "platform.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "config.h"
#include "http1.h"
#include "net.h"
#include "reactor.h"
#include "sas.h"
#include "text.h"
#include "url.h"
#include "ws.h"

#define PROG     "azrelay-emu"
#define MAX_HC   16
#define MAX_RULE 16
#define BUF      65536

typedef struct rule {
    char name[AZR_KEYNAME_MAX + 1], key[AZR_KEY_MAX + 1];
} rule;

static struct {
    azr_reactor *loop;
    int lfd;
    char host[AZR_HOST_MAX + 1];
    char echo[MAX_HC][AZR_HC_MAX + 1];
    int necho;
    rule rules[MAX_RULE];
    int nrules;
    bool anonymous;
} emu;

typedef struct sess {
    int fd;
    bool upgraded, closing;
    uint8_t in[BUF], out[BUF];
    size_t in_len, out_len, out_off;
    azr_ws_dec dec;
    uint8_t frame[BUF]; /* current data frame, unmasked, echoed when complete */
    size_t frame_len;
    uint8_t opcode;
    bool fin;
} sess;

static volatile sig_atomic_t stop_signal;
static void on_signal(int s)
{
    stop_signal = s;
}

static void logf_(const char *fmt, ...) AZR_PRINTF(1, 2);
static void logf_(const char *fmt, ...)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s " PROG " ", ts);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void sess_close(sess *s)
{
    azr_reactor_del(emu.loop, s->fd);
    close(s->fd);
    free(s);
}

static bool queue(sess *s, const void *p, size_t n)
{
    if (s->out_off && s->out_off == s->out_len)
        s->out_off = s->out_len = 0;
    if (n > sizeof s->out - s->out_len) {
        memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
        s->out_len -= s->out_off;
        s->out_off = 0;
        if (n > sizeof s->out - s->out_len)
            return false;
    }
    memcpy(s->out + s->out_len, p, n);
    s->out_len += n;
    return true;
}

/* An unmasked server frame. */
static bool send_frame(sess *s, uint8_t opcode, bool fin, const uint8_t *p, size_t n)
{
    uint8_t h[AZR_WS_MAX_HDR];
    size_t hl = azr_ws_hdr_write(h, opcode, fin, n, NULL);
    return queue(s, h, hl) && queue(s, p, n);
}

static void respond(sess *s, int status, const char *phrase)
{
    char r[600];
    int n = snprintf(r, sizeof r,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                     "Connection: close\r\n\r\n{}",
                     status, phrase);
    if (n > 0 && (size_t)n < sizeof r)
        (void)queue(s, r, (size_t)n);
    s->closing = true;
    logf_("sender refused: %d %s", status, phrase);
}

/* Value of a header in the request head (NULL when absent). */
static const char *header(char *head, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        char *p = line + 2;
        if (azr_text_ieq(p, nl, name) && p[nl] == ':') {
            char *v = p + nl + 1, *e = strstr(v, "\r\n");
            size_t n = e ? (size_t)(e - v) : strlen(v);
            const char *vv = v;
            azr_text_trim(&vv, &n);
            *vlen = n;
            return vv;
        }
    }
    return NULL;
}

/* Query parameter value (raw), or NULL. */
static const char *param(const char *query, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            *vlen = len - nl - 1;
            return p + nl + 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static void upgrade(sess *s, char *head)
{
    /* request line: GET <target> HTTP/1.1 */
    if (strncmp(head, "GET ", 4) != 0) {
        respond(s, 400, "Bad Request");
        return;
    }
    char *target = head + 4, *sp = strchr(target, ' ');
    if (!sp) {
        respond(s, 400, "Bad Request");
        return;
    }
    *sp = '\0';
    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    if (strncmp(target, "/$hc/", 5) != 0) {
        respond(s, 404, "Endpoint does not exist. TrackingId:emu_G0");
        return;
    }
    uint8_t hc[AZR_HC_MAX + 1];
    size_t hcl;
    if (azr_url_decode(target + 5, strlen(target + 5), hc, sizeof hc, &hcl, 0) != AZR_OK) {
        respond(s, 400, "Bad Request");
        return;
    }
    size_t al;
    const char *action = query ? param(query, "sb-hc-action", &al) : NULL;
    if (action && !(al == 7 && !strncmp(action, "connect", 7))) {
        respond(s, 400, "Unrecognized action.");
        return;
    }
    /* the head was cut after the target: headers follow in the rest */
    size_t kl;
    char *rest = sp + 1;
    const char *key = header(rest, "Sec-WebSocket-Key", &kl);
    if (!key || kl != 24) {
        respond(s, 400, "Bad Request");
        return;
    }
    /* token: query, then header (relay-protocol.md §2.4) */
    char token[AZR_SAS_MAX + 1] = "";
    size_t tl;
    const char *t = query ? param(query, "sb-hc-token", &tl) : NULL;
    if (t) {
        uint8_t dec[AZR_SAS_MAX + 1];
        size_t dl;
        if (tl <= AZR_SAS_MAX &&
            azr_url_decode(t, tl, dec, sizeof dec, &dl, AZR_URL_PLUS_SPACE) == AZR_OK)
            snprintf(token, sizeof token, "%.*s", (int)dl, (const char *)dec);
    } else if ((t = header(rest, "ServiceBusAuthorization", &tl)) != NULL ||
               (t = header(rest, "Authorization", &tl)) != NULL) {
        snprintf(token, sizeof token, "%.*s", (int)(tl < AZR_SAS_MAX ? tl : AZR_SAS_MAX), t);
    }
    if (!emu.anonymous) {
        char why[200];
        azr_sas_fields f;
        if (!token[0]) {
            respond(s, 401, "MissingToken: The request does not carry a token. TrackingId:emu_G1");
            return;
        }
        if (azr_sas_parse(token, strlen(token), &f, why, sizeof why) != AZR_OK) {
            respond(s, 401, why);
            return;
        }
        const rule *ru = NULL;
        for (int i = 0; i < emu.nrules; i++)
            if (!strcmp(emu.rules[i].name, f.skn))
                ru = &emu.rules[i];
        if (!ru) {
            respond(s, 401, "The token has an invalid signature. TrackingId:emu_G3");
            return;
        }
        if (azr_sas_check(&f, ru->key, (int64_t)time(NULL), emu.host, (const char *)hc, why,
                          sizeof why) != AZR_OK) {
            char phrase[260];
            snprintf(phrase, sizeof phrase, "%s TrackingId:emu_G3", why);
            respond(s, 401, phrase);
            return;
        }
    }
    bool echo = false;
    for (int i = 0; i < emu.necho; i++)
        echo = echo || azr_text_ieq((const char *)hc, hcl, emu.echo[i]);
    if (!echo) {
        respond(s, 404, "There are no listeners connected for the endpoint. TrackingId:emu_G13");
        return;
    }
    char k[25], acc[29], r[256];
    snprintf(k, sizeof k, "%.*s", 24, key);
    azr_http1_ws_accept(k, acc);
    int n = snprintf(r, sizeof r,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     acc);
    (void)queue(s, r, (size_t)n);
    s->upgraded = true;
    azr_ws_dec_init(&s->dec, BUF, false);
    azr_ws_dec_server(&s->dec);
    logf_("sender connected to %s (echo listener)", (const char *)hc);
}

/* Echo listener: frames back as they complete. */
static void echo_frames(sess *s)
{
    size_t off = 0;
    while (off < s->in_len && !s->closing) {
        azr_ws_ev ev;
        size_t used;
        /* leave room for the answer: pause when the output is half full */
        if (s->out_len - s->out_off > BUF / 2)
            break;
        azr_err e = azr_ws_dec_feed(&s->dec, s->in + off, s->in_len - off, &used, &ev);
        off += used;
        if (e == AZR_AGAIN)
            break;
        if (e != AZR_OK) {
            uint8_t pl[AZR_WS_MAX_CTRL];
            size_t n = azr_ws_close_payload(pl, s->dec.close_code, s->dec.why);
            (void)send_frame(s, AZR_WS_CLOSE, true, pl, n);
            s->closing = true;
            break;
        }
        if (ev.opcode == AZR_WS_PING) {
            (void)send_frame(s, AZR_WS_PONG, true, ev.data, ev.data_len);
        } else if (ev.opcode == AZR_WS_CLOSE) {
            uint8_t pl[AZR_WS_MAX_CTRL];
            size_t n = ev.close_code == AZR_WS_CLOSE_NO_STATUS
                           ? 0
                           : azr_ws_close_payload(pl, ev.close_code, "");
            (void)send_frame(s, AZR_WS_CLOSE, true, pl, n);
            s->closing = true;
        } else if (ev.opcode != AZR_WS_PONG) {
            if (ev.frame_start) {
                s->frame_len = 0;
                s->opcode = ev.opcode;
                s->fin = ev.fin;
            }
            memcpy(s->frame + s->frame_len, ev.data, ev.data_len);
            azr_ws_mask(s->frame + s->frame_len, ev.data_len, ev.mask, ev.mask_offset);
            s->frame_len += ev.data_len;
            if (ev.frame_end)
                (void)send_frame(s, s->opcode, s->fin, s->frame, s->frame_len);
        }
    }
    memmove(s->in, s->in + off, s->in_len - off);
    s->in_len -= off;
}

static void sess_io(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)r;
    (void)fd;
    sess *s = ud;
    if (ev & AZR_READABLE && s->in_len < sizeof s->in) {
        size_t n;
        azr_err e = azr_net_read(s->fd, s->in + s->in_len, sizeof s->in - s->in_len, &n);
        if (e == AZR_OK)
            s->in_len += n;
        else if (e != AZR_AGAIN) {
            sess_close(s);
            return;
        }
    }
    if (!s->upgraded && !s->closing) {
        uint8_t *end = NULL;
        for (size_t i = 3; i < s->in_len && !end; i++)
            if (!memcmp(s->in + i - 3, "\r\n\r\n", 4))
                end = s->in + i + 1;
        if (end) {
            size_t hl = (size_t)(end - s->in);
            char head[AZR_HTTP_MAX_HEAD + 1];
            memcpy(head, s->in, hl);
            head[hl] = '\0';
            memmove(s->in, end, s->in_len - hl);
            s->in_len -= hl;
            upgrade(s, head);
        } else if (s->in_len >= AZR_HTTP_MAX_HEAD) {
            respond(s, 431, "Request Header Fields Too Large");
        }
    }
    if (s->upgraded)
        echo_frames(s);
    while (s->out_off < s->out_len) {
        size_t n;
        azr_err e = azr_net_write(s->fd, s->out + s->out_off, s->out_len - s->out_off, &n);
        if (e == AZR_AGAIN)
            break;
        if (e != AZR_OK) {
            sess_close(s);
            return;
        }
        s->out_off += n;
    }
    if (s->closing && s->out_off == s->out_len) {
        sess_close(s);
        return;
    }
    unsigned m =
        (s->out_off < s->out_len ? AZR_WRITABLE : 0u) |
        (s->in_len < sizeof s->in && s->out_len - s->out_off <= BUF / 2 ? AZR_READABLE : 0u);
    if (azr_reactor_set(emu.loop, s->fd, m, sess_io, s) != AZR_OK)
        sess_close(s);
}

static void on_accept(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)r;
    (void)ev;
    (void)ud;
    for (;;) {
        int cfd;
        azr_sockaddr peer;
        if (azr_net_accept(fd, &cfd, &peer) != AZR_OK)
            return;
        sess *s = calloc(1, sizeof *s);
        if (!s || azr_reactor_set(emu.loop, cfd, AZR_READABLE, sess_io, s) != AZR_OK) {
            free(s);
            close(cfd);
            continue;
        }
        s->fd = cfd;
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [--host NAME] [--port N] [--rule NAME:KEY]... [--anonymous] "
            "[--echo HC]...\n"
            "  A local Azure Relay Hybrid Connections stand-in (ws:// on 127.0.0.1).\n"
            "  --host NAME      namespace host name tokens must name (default 127.0.0.1)\n"
            "  --port N         port (default 9090; 0 picks one; the log names it)\n"
            "  --rule NAME:KEY  a shared access policy senders may sign with (repeatable)\n"
            "  --anonymous      accept senders without a token\n"
            "  --echo HC        a hybrid connection with a built-in echo listener (repeatable)\n");
}

int main(int argc, char **argv)
{
    long port = 9090;
    snprintf(emu.host, sizeof emu.host, "127.0.0.1");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--anonymous")) {
            emu.anonymous = true;
        } else if (v && !strcmp(a, "--port")) {
            if (azr_config_parse_long(v, strlen(v), &port) != AZR_OK || port < 0 || port > 65535) {
                fprintf(stderr, PROG ": --port takes 0-65535\n");
                return 2;
            }
            i++;
        } else if (v && !strcmp(a, "--host")) {
            snprintf(emu.host, sizeof emu.host, "%s", v);
            i++;
        } else if (v && !strcmp(a, "--echo") && emu.necho < MAX_HC) {
            snprintf(emu.echo[emu.necho++], sizeof emu.echo[0], "%s", v);
            i++;
        } else if (v && !strcmp(a, "--rule") && emu.nrules < MAX_RULE && strchr(v, ':')) {
            const char *c = strchr(v, ':');
            rule *ru = &emu.rules[emu.nrules++];
            snprintf(ru->name, sizeof ru->name, "%.*s", (int)(c - v), v);
            snprintf(ru->key, sizeof ru->key, "%s", c + 1);
            i++;
        } else {
            fprintf(stderr, PROG ": bad argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    azr_sockaddr addr;
    char err[256];
    uint16_t bound;
    if (azr_reactor_new(&emu.loop, 4096, 16, AZR_BACKEND_DEFAULT) != AZR_OK ||
        azr_net_resolve("127.0.0.1", (uint16_t)port, 0, true, &addr, err, sizeof err) != AZR_OK ||
        azr_net_listen(&addr, 64, &emu.lfd, &bound) != AZR_OK ||
        azr_reactor_set(emu.loop, emu.lfd, AZR_READABLE, on_accept, NULL) != AZR_OK) {
        fprintf(stderr, PROG ": cannot listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
        return 1;
    }
    logf_("listening on ws://127.0.0.1:%u (namespace host %s, %d rule(s)%s, echo listeners: %d)",
          (unsigned)bound, emu.host, emu.nrules, emu.anonymous ? ", anonymous senders" : "",
          emu.necho);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!stop_signal)
        if (azr_reactor_turn(emu.loop, -1, NULL) != AZR_OK && errno != EINTR)
            break;
    logf_("stopping");
    return 0;
}
