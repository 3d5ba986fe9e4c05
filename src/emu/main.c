/*
 * azrelay-emu: a local stand-in for the Azure Relay Hybrid Connections
 * service, so the proxy runs and is tested with no Azure account. See
 * emu.h for the modules and relay-protocol.md §8 and §12 for what it
 * emulates. This file: arguments, the listening socket, the loop.
 */
#include "emu.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"
#include "net.h"
#include "text.h"

emu_state emu;

static volatile sig_atomic_t stop_signal;
static void on_signal(int s)
{
    stop_signal = s;
}

void emu_log(const char *fmt, ...)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s " EMU_PROG " ", ts);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void on_accept(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)r;
    (void)ev;
    (void)ud;
    for (int i = 0; i < 64; i++) {
        int cfd;
        azr_sockaddr peer;
        if (azr_net_accept(fd, &cfd, &peer) != AZR_OK)
            return;
        char host[64];
        uint16_t port;
        /* as Azure's front ends: no Nagle, so a TLS flight written as
         * several records is not held for the peer's delayed ACK */
        azr_net_opts o = {.no_delay = true, .linger = true};
        if (azr_net_set_opts(cfd, &o) != AZR_OK)
            emu_log("socket options not all applied: %s", strerror(errno));
        azr_net_addr_text(&peer, host, sizeof host, &port);
        emu_peer_accepted(cfd, host, port);
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " EMU_PROG " [options]\n"
            "\n"
            "A local Azure Relay Hybrid Connections service on 127.0.0.1, for demos and tests:\n"
            "senders (sb-hc-action=connect), listener control channels (listen, accept\n"
            "messages, renewToken) and rendezvous (accept or reject), with SAS checks and the\n"
            "service's error statuses. ws:// by default, wss:// with --cert and --key.\n"
            "\n"
            "  --host NAME        namespace host name tokens must name (default 127.0.0.1)\n"
            "  --port N           port (default 9090; 0 picks one, the log names it)\n"
            "  --rule NAME:KEY[:RIGHTS]\n"
            "                     a shared access rule; RIGHTS is a comma list of Send,\n"
            "                     Listen, Manage (default: all) (repeatable)\n"
            "  --anonymous        senders need no token (listeners always do)\n"
            "  --hc NAME          a hybrid connection that listeners serve (repeatable)\n"
            "  --echo HC          a hybrid connection whose built-in listener echoes every frame\n"
            "  --sink HC          ... whose built-in listener drops data and, when the sender\n"
            "                     closes, answers close 1000 \"sink received N bytes\"\n"
            "  --source HC:BYTES  ... whose built-in listener sends BYTES bytes (byte i is\n"
            "                     i mod 251) in 16 KiB frames, then close 1000\n"
            "  --azbridge-listener HC:PORTNAME[,PORTNAME...]\n"
            "                     ... whose built-in listener behaves like `azbridge -T`\n"
            "                     (Azure/azure-relay-bridge) with those port names, each TCP\n"
            "                     or, written PORTNAME=udp, UDP. Every sender must first\n"
            "                     write azbridge's preamble: 01 00 MODE LEN NAME (MODE 0\n"
            "                     stream, 1 datagram). Answers: 01 00 MODE, then every byte\n"
            "                     is echoed; 00 00 00 for another version or mode byte;\n"
            "                     00 00 01 for a stream to a UDP port; 00 00 ff for\n"
            "                     datagrams to a TCP port; no answer and close 1000\n"
            "                     \"Shutdown\" for an unknown name. As azbridge, a listener\n"
            "                     with one port takes any integer name for it. Names: 1 to\n"
            "                     255 of A-Z a-z 0-9 / _ - . (azbridge's own rule)\n"
            "  --cert FILE        PEM certificate chain: serve wss:// (with --key)\n"
            "  --key FILE         PEM private key (RSA or EC) for --cert\n"
            "  --accept-host H:P  host:port in accept addresses (default: the Host header of\n"
            "                     the listener's control channel)\n"
            "  --rendezvous-timeout S\n"
            "                     seconds a sender waits for a listener (default 30)\n"
            "  --max-frame N      refuse frames over N bytes with close 1009 (default: no limit)\n"
            "  --idle-timeout S   cut a WebSocket (TCP closed, no close frame) after S seconds\n"
            "                     without traffic, as Azure's load balancer does after about\n"
            "                     240 s (default 0: never)\n"
            "  --quiet            log only starts, refusals and errors\n"
            "\n"
            "Logs go to stderr. SIGINT or SIGTERM stop it.\n");
}

static bool add_hc(const char *name, emu_builtin b, uint64_t bytes)
{
    if (emu.nhc == EMU_MAX_HC || !name[0] || strlen(name) > AZR_HC_MAX)
        return false;
    emu_hc *hc = &emu.hcs[emu.nhc++];
    snprintf(hc->name, sizeof hc->name, "%s", name);
    hc->builtin = b;
    hc->source_bytes = bytes;
    return true;
}

static bool add_rule(const char *v)
{
    const char *c1 = strchr(v, ':');
    if (!c1 || c1 == v || emu.nrules == EMU_MAX_RULE)
        return false;
    emu_rule *ru = &emu.rules[emu.nrules];
    const char *key = c1 + 1, *c2 = strrchr(key, ':');
    size_t kl = c2 ? (size_t)(c2 - key) : strlen(key);
    ru->rights = EMU_RIGHT_SEND | EMU_RIGHT_LISTEN | EMU_RIGHT_MANAGE;
    if (c2) {
        ru->rights = 0;
        for (const char *p = c2 + 1; *p;) {
            size_t n = strcspn(p, ",");
            if (azr_text_ieq(p, n, "Send"))
                ru->rights |= EMU_RIGHT_SEND;
            else if (azr_text_ieq(p, n, "Listen"))
                ru->rights |= EMU_RIGHT_LISTEN;
            else if (azr_text_ieq(p, n, "Manage"))
                ru->rights |= EMU_RIGHT_MANAGE;
            else
                return false;
            p += n + (p[n] == ',');
        }
    }
    if ((size_t)(c1 - v) > AZR_KEYNAME_MAX || kl == 0 || kl > AZR_KEY_MAX)
        return false;
    snprintf(ru->name, sizeof ru->name, "%.*s", (int)(c1 - v), v);
    snprintf(ru->key, sizeof ru->key, "%.*s", (int)kl, key);
    emu.nrules++;
    return true;
}

static bool number(const char *v, long lo, long hi, long *out)
{
    return azr_config_parse_long(v, strlen(v), out) == AZR_OK && *out >= lo && *out <= hi;
}

int main(int argc, char **argv)
{
    long port = 9090, n;
    const char *cert = NULL, *key = NULL;
    snprintf(emu.host, sizeof emu.host, "127.0.0.1");
    emu.rendezvous_ms = 30000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, takes = v != NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--anonymous")) {
            emu.anonymous = true;
            takes = false;
        } else if (!strcmp(a, "--quiet")) {
            emu.quiet = true;
            takes = false;
        } else if (!v) {
            ok = false;
        } else if (!strcmp(a, "--port")) {
            ok = number(v, 0, 65535, &port);
        } else if (!strcmp(a, "--host")) {
            ok = strlen(v) <= AZR_HOST_MAX;
            snprintf(emu.host, sizeof emu.host, "%s", v);
        } else if (!strcmp(a, "--accept-host")) {
            ok = strlen(v) < sizeof emu.accept_host;
            snprintf(emu.accept_host, sizeof emu.accept_host, "%s", v);
        } else if (!strcmp(a, "--rule")) {
            ok = add_rule(v);
        } else if (!strcmp(a, "--hc")) {
            ok = add_hc(v, EMU_B_NONE, 0);
        } else if (!strcmp(a, "--echo")) {
            ok = add_hc(v, EMU_B_ECHO, 0);
        } else if (!strcmp(a, "--sink")) {
            ok = add_hc(v, EMU_B_SINK, 0);
        } else if (!strcmp(a, "--source")) {
            const char *c = strrchr(v, ':');
            char name[AZR_HC_MAX + 1];
            ok = c && c > v && (size_t)(c - v) <= AZR_HC_MAX && number(c + 1, 0, LONG_MAX, &n);
            if (ok) {
                snprintf(name, sizeof name, "%.*s", (int)(c - v), v);
                ok = add_hc(name, EMU_B_SOURCE, (uint64_t)n);
            }
        } else if (!strcmp(a, "--azbridge-listener")) {
            char why[300];
            ok = emu_azbridge_add(v, why, sizeof why);
            if (!ok)
                fprintf(stderr, EMU_PROG ": --azbridge-listener %s: %s\n", v, why);
        } else if (!strcmp(a, "--cert")) {
            cert = v;
        } else if (!strcmp(a, "--key")) {
            key = v;
        } else if (!strcmp(a, "--rendezvous-timeout")) {
            ok = number(v, 1, 3600, &n);
            emu.rendezvous_ms = (uint64_t)n * 1000u;
        } else if (!strcmp(a, "--idle-timeout")) {
            ok = number(v, 0, 86400, &n);
            emu.idle_ms = (uint64_t)n * 1000u;
        } else if (!strcmp(a, "--max-frame")) {
            ok = number(v, 0, LONG_MAX, &n);
            emu.max_frame = (uint64_t)n;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, EMU_PROG ": bad argument '%s%s%s' (see --help)\n", a, takes ? " " : "",
                    takes ? v : "");
            return 2;
        }
        if (takes)
            i++;
    }
    char err[300];
    if (cert || key) {
        if (!cert || !key) {
            fprintf(stderr, EMU_PROG ": --cert and --key go together\n");
            return 2;
        }
        if (azr_tls_creds_load_files(&emu.creds, cert, key, err, sizeof err) != AZR_OK) {
            fprintf(stderr, EMU_PROG ": %s\n", err);
            return 2;
        }
        emu.tls = true;
    }
    br_hmac_drbg_init(&emu.rng, &br_sha256_vtable, NULL, 0);
    br_prng_seeder seeder = br_prng_seeder_system(NULL);
    if (!seeder || !seeder(&emu.rng.vtable)) {
        fprintf(stderr, EMU_PROG ": no system random source\n");
        return 1;
    }
    azr_sockaddr addr;
    uint16_t bound;
    /* as many peers as the descriptor limit (its soft value raised to the hard one) */
    size_t fds = azr_listener_fd_limit();
    if (azr_reactor_new(&emu.loop, fds, 2 * fds, AZR_BACKEND_DEFAULT) != AZR_OK ||
        azr_net_resolve("127.0.0.1", (uint16_t)port, 0, true, &addr, err, sizeof err) != AZR_OK ||
        azr_net_listen(&addr, 128, &emu.lfd, &bound) != AZR_OK ||
        azr_reactor_set(emu.loop, emu.lfd, AZR_READABLE, on_accept, NULL) != AZR_OK) {
        fprintf(stderr, EMU_PROG ": cannot listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
        return 1;
    }
    emu.port = bound;
    char hcs[512] = "";
    size_t o = 0;
    for (int i = 0; i < emu.nhc && o < sizeof hcs - 1; i++) {
        static const char *const kind[] = {"", " (echo)", " (sink)", " (source)", " (azbridge)"};
        int w = snprintf(hcs + o, sizeof hcs - o, "%s%s%s", i ? ", " : "", emu.hcs[i].name,
                         kind[emu.hcs[i].builtin]);
        o += w > 0 ? (size_t)w : 0;
    }
    emu_log("listening on %s://127.0.0.1:%u (namespace host %s, %d rule(s)%s; hybrid "
            "connections: %s)",
            emu.tls ? "wss" : "ws", (unsigned)bound, emu.host, emu.nrules,
            emu.anonymous ? ", anonymous senders" : "", emu.nhc ? hcs : "none");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!stop_signal)
        if (azr_reactor_turn(emu.loop, -1, NULL) != AZR_OK && errno != EINTR)
            break;
    emu_log("stopping");
    emu_peer_drop_all();
    if (azr_reactor_turn(emu.loop, 0, NULL) != AZR_OK) /* runs the tasks that free them */
        emu_log("event loop failed while stopping");
    azr_reactor_del(emu.loop, emu.lfd);
    close(emu.lfd);
    azr_reactor_free(emu.loop);
    azr_tls_creds_free(&emu.creds);
    return 0;
}
