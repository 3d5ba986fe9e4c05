/*
 * azrelay-proxy: the daemon. The command line (this file), the config
 * grammar (daemon/fwdconf.c), loading a configuration (daemon/load.c), the
 * running forwards on one shared loop with reload and drain
 * (daemon/fleet.c), signals (daemon/sig.c), the log (daemon/dlog.c),
 * --help (daemon/help.c), and the status socket and metrics endpoint
 * (daemon/ctl.c, daemon/report.c). Settings go through the vocabulary table in
 * config.c, so names and values mean what they mean in the C API's
 * Config(). Hook points for systemd notification and secrets: daemon/hooks.h.
 */
#include "platform.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "azrelay.h"
#include "config.h"
#include "daemon/ctl.h"
#include "daemon/dlog.h"
#include "daemon/fleet.h"
#include "daemon/help.h"
#include "daemon/hooks.h"
#include "daemon/load.h"
#include "daemon/sdnotify.h"
#include "daemon/sig.h"
#include "text.h"
#include "tls.h"

/* One setting's value as text ("" when it cannot be read). */
static const char *value(azr_proxy *px, const char *name)
{
    static char out[AZR_CONF_VALUE_MAX];
    if (azr_proxy_config(px, name, out, sizeof out) != 0)
        out[0] = '\0';
    return out;
}

/*
 * What a relay connection needs; prints each problem to stderr (prefixed
 * with the forward's name, pre: "NAME: " or ""), returns false if any. With
 * line, the forward's --check line goes to stdout: its name, local address,
 * relay and route (from set, its settings).
 */
static bool check(azr_proxy *px, const azr_settings *set, const char *name, const char *pre,
                  bool line)
{
    bool ok = true;
    if (!value(px, "NamespaceAddress")[0]) {
        fprintf(stderr, PROG ": %sNamespaceAddress is not set (or give ConnectionString)\n", pre);
        ok = false;
    }
    if (!value(px, "HybridConnection")[0]) {
        fprintf(stderr,
                PROG ": %sHybridConnection is not set (or EntityPath in "
                     "ConnectionString)\n",
                pre);
        ok = false;
    }
    if (!strcmp(value(px, "LocalPort"), "0"))
        fprintf(stderr,
                PROG ": %swarning: LocalPort is 0: the system picks a port (the log "
                     "names it); set LocalPort for a port clients can rely on\n",
                pre);
    bool kn = value(px, "AccessKeyName")[0] != '\0', key = value(px, "AccessKey")[0] != '\0';
    if (kn != key) {
        fprintf(stderr, PROG ": %s%s is set but %s is not\n", pre,
                kn ? "AccessKeyName" : "AccessKey", kn ? "AccessKey" : "AccessKeyName");
        ok = false;
    } else if (!kn && ok && !value(px, "AccessToken")[0]) {
        fprintf(stderr,
                PROG ": %swarning: no AccessKeyName/AccessKey: connecting without a "
                     "token works only for hybrid connections that allow anonymous "
                     "senders\n",
                pre);
    }
    /* the proxy settings together (and the environment, with FirewallAutoDetect) */
    char route[AZR_ROUTE_SOURCE_MAX];
    if (azr_proxy_config(px, "ProxyRoute", route, sizeof route) != 0) {
        fprintf(stderr, PROG ": %s%s\n", pre, azr_proxy_last_error(px));
        ok = false;
    }
    /* then all StartListening checks before it binds: TLS parameters, the CA
     * bundle for wss://, SSLCertStore and the client CAs for local TLS: a
     * firmware image that lacks a file learns it here, not at the start */
    if (ok && azr_proxy_check(px) != 0) {
        fprintf(stderr, PROG ": %s%s\n", pre, azr_proxy_last_error(px));
        ok = false;
    }
    if (ok && line) {
        const azr_endpoint *r = &set->relay;
        bool lv6 = strchr(set->local_host, ':') != NULL, rv6 = strchr(r->host, ':') != NULL;
        printf("forward %s: listens on %s%s%s:%ld, relay %s://%s%s%s:%u/$hc/%s, proxy: %s\n", name,
               lv6 ? "[" : "", set->local_host[0] ? set->local_host : "*", lv6 ? "]" : "",
               set->local_port, r->tls ? "wss" : "ws", rv6 ? "[" : "", r->host, rv6 ? "]" : "",
               (unsigned)r->port, set->hybrid_connection, route);
        fflush(stdout);
    }
    return ok;
}

/* A proxy (not started) with forward i's settings; NULL after printing why. */
static azr_proxy *forward_proxy(const azr_load *l, size_t i)
{
    azr_proxy *px = azr_proxy_new(NULL, NULL);
    char err[AZR_LOAD_ERR_MAX];
    if (!px) {
        fprintf(stderr, PROG ": cannot start: out of memory or no system random source\n");
        return NULL;
    }
    if (!azr_load_configure(l, i, px, false, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        azr_proxy_free(px);
        return NULL;
    }
    return px;
}

/* "NAME: " before a forward's problems, unless it is the only one, "default". */
static const char *prefix(const azr_load *l, size_t i, char *out, size_t cap)
{
    const char *name = l->f[i].sec->name;
    if (l->n == 1 && !strcmp(name, "default"))
        snprintf(out, cap, "%s", "");
    else
        snprintf(out, cap, "%s: ", name);
    return out;
}

/* --check: every forward, one line each; 0 when all can be used. */
static int do_check(const azr_load *l)
{
    bool all = true;
    char pre[AZR_FC_NAME_MAX + 4];
    for (size_t i = 0; i < l->n; i++) {
        azr_proxy *px = forward_proxy(l, i);
        all = px &&
              check(px, &l->f[i].set, l->f[i].sec->name, prefix(l, i, pre, sizeof pre), true) &&
              all;
        azr_proxy_free(px);
    }
    if (all)
        fprintf(stderr, PROG ": settings OK (%zu forward%s)\n", l->n, l->n == 1 ? "" : "s");
    return all ? 0 : 1;
}

/* --get [FORWARD:]NAME */
static int do_get(const azr_load *l, const char *get)
{
    const char *colon = strchr(get, ':');
    size_t which = 0;
    if (colon) {
        size_t nl = (size_t)(colon - get);
        for (which = 0; which < l->n; which++)
            if (azr_text_ieq(get, nl, l->f[which].sec->name))
                break;
        if (which == l->n) {
            fprintf(stderr, PROG ": --get %s: no forward is named '%.*s'\n", get, (int)nl, get);
            return 1;
        }
        get = colon + 1;
    } else if (l->n > 1) {
        fprintf(stderr, PROG ": --get %s: there are %zu forwards; say which: --get %s:%s\n", get,
                l->n, l->f[0].sec->name, get);
        return 1;
    }
    azr_proxy *px = forward_proxy(l, which);
    if (!px)
        return 1;
    static char out[AZR_CONF_VALUE_MAX + AZR_SAS_MAX];
    int rc = azr_proxy_config(px, get, out, sizeof out) == 0 ? 0 : 1;
    if (rc == 0)
        printf("%s\n", out);
    else
        fprintf(stderr, PROG ": %s\n", azr_proxy_last_error(px));
    azr_wipe(out, sizeof out);
    azr_proxy_free(px);
    return rc;
}

/* --status [PATH]: PATH, else the configuration's StatusSocket (when -c or
 * Name=Value arguments are given), else AZR_STATUS_DEFAULT_PATH. */
static int status(const char *path, const char *cfg, azr_cmdline *cl)
{
    static azr_load l;
    int rc = 1;
    if (!path && (cfg || cl->n)) {
        if (!azr_load_read(&l, cfg, cl)) {
            fprintf(stderr, PROG ": %s (or give the socket: --status PATH)\n", l.err);
            goto out;
        }
        if (l.f[0].set.status_socket[0])
            path = l.f[0].set.status_socket;
    }
    rc = azr_ctl_status_print(path ? path : AZR_STATUS_DEFAULT_PATH, stdout, stderr);
out:
    azr_load_free(&l);
    azr_cmdline_free(cl);
    return rc;
}

/* ------------------------------------------------------------------ running */

typedef struct daemon_state {
    const char *cfg;
    const azr_cmdline *cl;
    azr_fleet *fl;
    azr_ctl *ctl; /* StatusSocket, MetricsAddress */
    long event_loop;
    long log_format;
    char log_target[256];
    bool stopping;
} daemon_state;

/* LogFormat and LogTarget (the whole daemon's) as s says, when they differ
 * from what is in use; a target that cannot be reached keeps the old one. */
static void log_setup(daemon_state *d, const azr_settings *s, const char *when)
{
    char err[320];
    if (s->log_format == d->log_format && strcmp(s->log_target, d->log_target) == 0)
        return;
    if (azr_dlog_setup(s->log_format, s->log_target, err, sizeof err) != AZR_OK) {
        azr_dlog(NULL, 0, "Error", "%s%s; the log stays as it was", when, err);
        return;
    }
    d->log_format = s->log_format;
    snprintf(d->log_target, sizeof d->log_target, "%s", s->log_target);
    if (when[0])
        azr_dlog(NULL, 0, "Info", "%slog: %s to %s", when, s->log_format ? "JSON" : "text",
                 s->log_target);
}

/* SIGHUP: the file again, and the command line again; a configuration that
 * does not load changes nothing. */
static void reload(daemon_state *d)
{
    char status[128], summary[AZR_LOAD_ERR_MAX + 64];
    azr_hook_reloading();
    static azr_load l;
    if (!azr_load_read(&l, d->cfg, d->cl)) {
        snprintf(summary, sizeof summary, "reload: %s; nothing changed", l.err);
        azr_dlog(NULL, 0, "Error", "%s", summary);
        azr_ctl_reloaded(d->ctl, NULL);
    } else {
        for (const char *w = l.warn; *w;) { /* one log line each */
            size_t n = strcspn(w, "\n");
            azr_dlog(NULL, 0, "Info", "reload: %.*s", (int)n, w);
            w += n + (w[n] == '\n');
        }
        log_setup(d, &l.f[0].set, "reload: ");
        if (l.f[0].set.event_loop != d->event_loop) {
            azr_dlog(NULL, 0, "Info",
                     "reload: EventLoop=%ld takes effect at the next start (the loop in use "
                     "stays)",
                     l.f[0].set.event_loop);
            for (size_t i = 0; i < l.n; i++) /* not a change of any forward's */
                l.f[i].set.event_loop = d->event_loop;
        }
        azr_ctl_reloaded(d->ctl, &l); /* before the fleet compares settings */
        azr_fleet_reload(d->fl, &l, summary, sizeof summary);
    }
    azr_load_free(&l);
    azr_fleet_status(d->fl, status, sizeof status);
    azr_hook_reloaded(status, summary);
}

/* SIGINT or SIGTERM: the first drains, the next closes everything now. */
static void on_stop(daemon_state *d, const char *name)
{
    char status[128];
    if (d->stopping) {
        size_t n = azr_fleet_close_all(d->fl);
        azr_dlog(NULL, 0, "Info", "%s again: closing %zu connection%s now (1001 to the relay)",
                 name, n, n == 1 ? "" : "s");
        return;
    }
    d->stopping = true;
    long longest;
    size_t n = azr_fleet_open(d->fl, &longest);
    if (n == 0)
        azr_dlog(NULL, 0, "Info", "%s: shutting down (no open connection)", name);
    else
        azr_dlog(NULL, 0, "Info",
                 "%s: shutting down: no new connections; %zu open connection%s may finish "
                 "within %ld s (DrainTimeout); %s again closes them now",
                 name, n, n == 1 ? "" : "s", longest, name);
    azr_fleet_stop(d->fl);
    azr_fleet_status(d->fl, status, sizeof status);
    azr_hook_stopping(status, n ? longest : 0);
}

/* Every pending signal: SIGINT/SIGTERM stop, SIGHUP reloads (once, after
 * the batch, unless stopping), the others are logged and ignored. */
static void take_signals(daemon_state *d, int fd)
{
    int sig;
    bool hup = false;
    char name[32];
    while ((sig = azr_sig_next(fd)) != 0) {
        azr_sig_name(sig, name, sizeof name);
        if (sig == SIGINT || sig == SIGTERM)
            on_stop(d, name);
        else if (sig == SIGHUP && !d->stopping)
            hup = true;
        else if (sig == SIGHUP)
            azr_dlog(NULL, 0, "Info", "SIGHUP: ignored while shutting down");
        else
            azr_dlog(NULL, 0, "Info", "%s: no action is assigned to it; ignored", name);
    }
    if (hup && !d->stopping)
        reload(d);
}

static int run(daemon_state *d, const azr_load *l, int sigfd)
{
    char err[AZR_LOAD_ERR_MAX], status[128];
    d->event_loop = l->f[0].set.event_loop;
    d->log_format = 0;
    snprintf(d->log_target, sizeof d->log_target, "stderr");
    if (l->f[0].set.log_format != 0 || strcmp(l->f[0].set.log_target, "stderr") != 0) {
        if (azr_dlog_setup(l->f[0].set.log_format, l->f[0].set.log_target, err, sizeof err) !=
            AZR_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            return 1;
        }
        d->log_format = l->f[0].set.log_format;
        snprintf(d->log_target, sizeof d->log_target, "%s", l->f[0].set.log_target);
    }
    d->fl = azr_fleet_new(d->event_loop, err, sizeof err);
    if (!d->fl) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    azr_loop *loop = azr_fleet_loop(d->fl);
    if (azr_loop_watch_fd(loop, sigfd) != 0) {
        fprintf(stderr, PROG ": cannot watch signals\n");
        azr_fleet_free(d->fl);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (!azr_fleet_start(d->fl, l, err, sizeof err) ||
        !(d->ctl = azr_ctl_new(d->fl, &l->f[0].set, err, sizeof err))) {
        fprintf(stderr, PROG ": %s\n", err);
        azr_loop_unwatch_fd(loop, sigfd);
        azr_fleet_free(d->fl);
        return 1;
    }
    azr_fleet_status(d->fl, status, sizeof status);
    azr_hook_ready(status);
    int rc = 0;
    while (!d->stopping || !azr_fleet_idle(d->fl)) {
        int t = azr_fleet_timeout_ms(d->fl), h = azr_hook_timeout_ms();
        int c = azr_ctl_timeout_ms(d->ctl);
        if (h >= 0 && (t < 0 || h < t))
            t = h;
        if (c >= 0 && (t < 0 || c < t))
            t = c;
        if (azr_loop_run(loop, t) != 0) {
            azr_dlog(NULL, 0, "Error", "event loop wait failed: %s", strerror(errno));
            rc = 1;
            break;
        }
        /* the signal descriptor and the control sockets are read only when
         * one of them woke the loop, not after every data-path turn */
        bool woken = azr_loop_watched_ready(loop) != 0;
        if (woken)
            take_signals(d, sigfd);
        azr_fleet_tick(d->fl);
        azr_ctl_tick(d->ctl, woken);
        if (azr_sd_enabled()) { /* the STATUS= line, made only where systemd reads it */
            azr_fleet_status(d->fl, status, sizeof status);
            azr_hook_tick(status);
        }
    }
    azr_loop_unwatch_fd(loop, sigfd);
    azr_ctl_free(d->ctl);
    d->ctl = NULL;
    azr_fleet_free(d->fl);
    d->fl = NULL;
    return rc;
}

int main(int argc, char **argv)
{
    azr_hook_start();
    const char *cfg = NULL, *get = NULL, *status_path = NULL;
    bool do_chk = false, do_status = false;
    static azr_cmdline cl;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool ok = true;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            azr_help_print(stdout);
            return 0;
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf(PROG " %s (azrelay, BearSSL)\n", azr_version());
            return 0;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--config") || !strcmp(a, "--get") ||
                   !strcmp(a, "--forward")) {
            if (++i == argc) {
                fprintf(stderr, PROG ": %s needs %s\n", a,
                        !strcmp(a, "--get")       ? "a setting name"
                        : !strcmp(a, "--forward") ? "NAME:Name=Value"
                                                  : "a file name");
                azr_help_usage(stderr);
                return 2;
            }
            if (!strcmp(a, "--get"))
                get = argv[i];
            else if (!strcmp(a, "--forward"))
                ok = azr_cmdline_add(&cl, argv[i], i, true);
            else
                cfg = argv[i];
        } else if (!strcmp(a, "--check")) {
            do_chk = true;
        } else if (!strcmp(a, "--status")) {
            do_status = true; /* PATH: the next argument, unless an option or Name=Value */
            if (i + 1 < argc && argv[i + 1][0] != '-' && !strchr(argv[i + 1], '='))
                status_path = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, PROG ": unknown option '%s'\n", a);
            azr_help_usage(stderr);
            return 2;
        } else {
            ok = azr_cmdline_add(&cl, a, i, false);
        }
        if (!ok) {
            fprintf(stderr, PROG ": out of memory\n");
            return 1;
        }
    }
    if (do_status)
        return status(status_path, cfg, &cl);
    /* the statements are ours now: a reload re-applies this copy */
    azr_hook_args(argc, argv);
    /* the daemon takes its signals before anything else, so none is missed or kills it */
    int sigfd = -1;
    if (!get && !do_chk && (sigfd = azr_sig_open()) < 0) {
        fprintf(stderr, PROG ": cannot set up signal handling: %s\n", strerror(errno));
        return 1;
    }
    static azr_load l;
    int rc;
    bool loaded = azr_load_read(&l, cfg, &cl);
    for (const char *w = loaded ? l.warn : ""; *w;) { /* "[FILE:LINE: ]warning: ..." lines */
        size_t n = strcspn(w, "\n");
        fprintf(stderr, PROG ": %.*s\n", (int)n, w);
        w += n + (w[n] == '\n');
    }
    if (!loaded) {
        fprintf(stderr, PROG ": %s\n", l.err);
        rc = 1;
    } else if (get) {
        rc = do_get(&l, get);
    } else if (do_chk) {
        rc = do_check(&l);
    } else {
        /* what --check would refuse stops the start, with the same words */
        bool ok = true;
        char pre[AZR_FC_NAME_MAX + 4];
        for (size_t i = 0; i < l.n && ok; i++) {
            azr_proxy *px = forward_proxy(&l, i);
            ok = px &&
                 check(px, &l.f[i].set, l.f[i].sec->name, prefix(&l, i, pre, sizeof pre), false);
            azr_proxy_free(px);
        }
        static daemon_state d;
        d.cfg = cfg;
        d.cl = &cl;
        rc = ok ? run(&d, &l, sigfd) : 1;
    }
    azr_load_free(&l);
    azr_cmdline_free(&cl);
    azr_hook_exit();
    return rc;
}
