/*
 * The public façade: the proxy object, Config(), the class's methods, the
 * Connections collection, DoEvents and shared loops, and the mapping of
 * azr_err to the class's result codes with a last-error text. The work is
 * in the modules (listener.c, conn.c, certload.c, log.c, proxyroute.c); nothing below
 * calls back up into here.
 */
#include "conn.h"
#include "listener.h"
#include "stats.h"
#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct azr_proxy {
    azr_proxy_state st;
    azr_loop *shared; /* azr_proxy_new_on(): the loop is not ours to free */
};

struct azr_loop {
    azr_reactor *r;
    int users;
    bool watched_ready; /* a watched descriptor woke a turn (azr_loop_watched_ready) */
};

static int code_of(azr_err e)
{
    switch (e) {
    case AZR_OK:
        return 0;
    case AZR_E_ARG:
    case AZR_E_LIMIT:
        return AZR_ERR_SETTING;
    case AZR_E_UNSUPPORTED:
        return AZR_ERR_UNSUPPORTED;
    case AZR_E_STATE:
        return AZR_ERR_STATE;
    case AZR_E_NOMEM:
        return AZR_ERR_NOMEM;
    case AZR_E_TIMEOUT:
        return AZR_ERR_TIMEOUT;
    case AZR_E_TLS:
        return AZR_ERR_TLS;
    case AZR_E_AUTH:
        return AZR_ERR_AUTH;
    case AZR_E_REFUSED:
        return AZR_ERR_REFUSED;
    case AZR_E_PROTO:
        return AZR_ERR_PROTOCOL;
    default:
        return AZR_ERR_IO;
    }
}

static int result(azr_proxy_state *p, int code, const char *fmt, ...) AZR_PRINTF(3, 4);
static int result(azr_proxy_state *p, int code, const char *fmt, ...)
{
    p->last_code = code;
    if (code == 0 || !fmt) {
        p->last_error[0] = '\0';
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->last_error, sizeof p->last_error, fmt, ap);
    va_end(ap);
    return code;
}

azr_proxy *azr_proxy_new(const azr_events *events, void *ud)
{
    azr_proxy *px = calloc(1, sizeof *px);
    if (!px)
        return NULL;
    azr_proxy_state *p = &px->st;
    azr_settings_init(&p->set);
    if (events)
        p->ev = *events;
    p->ud = ud;
    p->lfd = -1;
    p->next_id = 1;
    p->net = &azr_net_os;
    azr_pages_init(&p->pages);
    br_hmac_drbg_init(&p->rng, &br_sha256_vtable, NULL, 0);
    br_prng_seeder seeder = br_prng_seeder_system(NULL);
    if (!seeder || !seeder(&p->rng.vtable)) {
        free(px);
        return NULL; /* no system randomness: masks and keys would be predictable */
    }
    return px;
}

static azr_conn *find(const azr_proxy_state *p, int id)
{
    return azr_listener_find(p, id);
}

/* ------------------------------------------------------------------ config */

static int conn_field(azr_proxy_state *p, const char *name, size_t nl, int id, char *out,
                      size_t cap)
{
    azr_conn *c = find(p, id);
    if (!c)
        return result(p, AZR_ERR_NOT_FOUND, "no connection %d", id);
    int n;
    if (azr_text_ieq(name, nl, "RemoteHost"))
        n = snprintf(out, cap, "%s", c->remote_host);
    else if (azr_text_ieq(name, nl, "RemotePort"))
        n = snprintf(out, cap, "%d", c->remote_port);
    else if (azr_text_ieq(name, nl, "LocalAddress"))
        n = snprintf(out, cap, "%s", c->local_addr);
    else if (azr_text_ieq(name, nl, "Connected"))
        n = snprintf(out, cap, "%s", c->phase == AZR_P_OPEN ? "True" : "False");
    else if (azr_text_ieq(name, nl, "IdleTimeout"))
        n = snprintf(out, cap, "%ld", c->idle_timeout);
    else if (azr_text_ieq(name, nl, "Timeout"))
        n = snprintf(out, cap, "%ld", c->timeout);
    else if (azr_text_ieq(name, nl, "BytesIn"))
        n = snprintf(out, cap, "%llu", (unsigned long long)c->bytes_in);
    else if (azr_text_ieq(name, nl, "BytesOut"))
        n = snprintf(out, cap, "%llu", (unsigned long long)c->bytes_out);
    else if (nl > 13 && azr_text_ieq(name, 13, "SSLNegotiated") &&
             azr_tls_info_field(&c->linfo, name + 13, nl - 13, out, cap))
        n = (int)strlen(out);
    else if (nl > 18 && azr_text_ieq(name, 18, "RelaySSLNegotiated") &&
             azr_tls_info_field(&c->rinfo, name + 18, nl - 18, out, cap))
        n = (int)strlen(out);
    else
        return result(p, AZR_ERR_SETTING,
                      "unknown connection field '%.*s' (RemoteHost, RemotePort, LocalAddress, "
                      "Connected, IdleTimeout, Timeout, BytesIn, BytesOut, SSLNegotiatedVersion, "
                      "-Cipher, -CipherSuite, -CipherStrength, -KeyExchange, "
                      "-KeyExchangeStrength, and RelaySSLNegotiated* for the relay side)",
                      (int)(nl < 64 ? nl : 64), name);
    if (n < 0 || (size_t)n >= cap)
        return result(p, AZR_ERR_SETTING, "output buffer too small");
    return result(p, 0, NULL);
}

int azr_proxy_config(azr_proxy *px, const char *setting, char *out, size_t out_len)
{
    azr_proxy_state *p = &px->st;
    char err[AZR_CONF_ERR_MAX];
    size_t len = strlen(setting);
    const char *eq = memchr(setting, '=', len);
    if (px->shared && eq && azr_text_ieq(setting, (size_t)(eq - setting), "EventLoop"))
        return result(p, AZR_ERR_STATE,
                      "EventLoop belongs to the shared loop (chosen by azr_loop_new)");
    if (!eq) {
        const char *br = memchr(setting, '[', len);
        if (br && len > 2 && setting[len - 1] == ']') {
            long id;
            if (azr_config_parse_long(br + 1, (size_t)(setting + len - 1 - br - 1), &id) != AZR_OK)
                return result(p, AZR_ERR_SETTING, "bad connection id in '%s'", setting);
            return conn_field(p, setting, (size_t)(br - setting), (int)id, out, out_len);
        }
        if (azr_text_ieq(setting, len, "ConnectionCount")) {
            snprintf(out, out_len, "%zu", p->nconns);
            return result(p, 0, NULL);
        }
        p->set.listening = p->lfd >= 0;
        if (p->lfd >= 0 && azr_text_ieq(setting, len, "ProxyRoute")) { /* the one in use */
            if ((size_t)snprintf(out, out_len, "%s", p->route.source) >= out_len)
                return result(p, AZR_ERR_SETTING, "ProxyRoute: output buffer too small");
            return result(p, 0, NULL);
        }
        azr_err e = azr_config_get(&p->set, setting, len, (int64_t)time(NULL), out, out_len, err,
                                   sizeof err);
        return e == AZR_OK ? result(p, 0, NULL) : result(p, code_of(e), "%s", err);
    }
    const char *name = setting;
    size_t nl = (size_t)(eq - setting);
    azr_text_trim(&name, &nl);
    if (p->lfd >= 0 && (azr_text_ieq(name, nl, "LocalPort") || azr_text_ieq(name, nl, "LocalHost")))
        return result(p, AZR_ERR_STATE, "%.*s cannot change while listening", (int)nl, name);
    azr_err e = azr_config_apply(&p->set, setting, len, err, sizeof err);
    if (e != AZR_OK)
        return result(p, code_of(e), "%s", err);
    if (err[0]) /* a warning: a secret file others may open, let through by InsecureSecretFiles */
        azr_proxy_log(p, 0, -1, "warning: %s", err);
    if (azr_text_ieq(name, nl, "NamespaceAddress") || azr_text_ieq(name, nl, "ConnectionString") ||
        azr_text_ieq(name, nl, "ConnectionStringFile") || azr_text_ieq(name, nl, "ReuseSSLSession"))
        p->relay_session_ok = false;                        /* a session belongs to one host */
    e = azr_certload_changed(p, name, nl, err, sizeof err); /* TLS material: loaded afresh */
    if (e != AZR_OK)
        return result(p, code_of(e), "%.*s set, but new TLS handshakes will fail: %s", (int)nl,
                      name, err);
    return result(p, 0, NULL);
}

/*
 * The route of the relay connections (proxyroute.c), from the settings and
 * the process's environment, kept for the connections (outbound.c). A
 * CONNECT request that cannot fit the handshake's buffer is refused here
 * rather than at every connection.
 */
static azr_err route_start(azr_proxy_state *p, char *err, size_t cap)
{
    azr_route r;
    azr_err e = azr_route_compute(&p->set, azr_route_env_os, NULL, p->set.relay.host,
                                  p->set.relay.tls, &r, err, cap);
    if (e != AZR_OK)
        return e;
    if (r.kind == AZR_ROUTE_CONNECT) {
        char req[sizeof((azr_hs *)0)->praw];
        size_t n;
        e = azr_route_connect_write(&r, p->set.relay.host, p->set.relay.port, p->set.user_agent,
                                    req, sizeof req, &n);
        azr_wipe(req, sizeof req);
        if (e == AZR_E_LIMIT)
            snprintf(err, cap,
                     "the CONNECT request to the proxy is longer than %zu bytes: shorten "
                     "FirewallData, ProxyAuthorization, UserAgent or the proxy user and password",
                     sizeof req);
        else if (e != AZR_OK)
            snprintf(err, cap, "the proxy user may not contain ':' (RFC 7617): check %s",
                     r.cred_names);
        if (e != AZR_OK) {
            azr_route_wipe(&r);
            return e;
        }
    }
    azr_route_wipe(&p->route);
    p->route = r;
    azr_route_wipe(&r);
    return AZR_OK;
}

static void route_warnings(azr_proxy_state *p)
{
    const azr_route *r = &p->route;
    if (r->data_ignored)
        azr_proxy_log(p, 0, 1,
                      "warning: FirewallData is ignored: a SOCKS proxy is not an HTTP "
                      "proxy");
    if (r->authz_ignored)
        azr_proxy_log(p, 0, 1,
                      "warning: ProxyAuthorization is ignored: a SOCKS proxy has no "
                      "Proxy-Authorization header");
    if (r->kind == AZR_ROUTE_CONNECT && r->auth_scheme == AZR_PROXY_AUTH_NEGOTIATE &&
        !r->authorization[0])
        azr_proxy_log(p, 0, 1,
                      "warning: ProxyAuthScheme=Negotiate (Kerberos) is not supported: every "
                      "connection through the proxy will be refused");
}

/* What StartListening needs before it binds: the relay named, the route,
 * the TLS parameters, and every certificate and CA file loaded. */
static int prepare(azr_proxy_state *p)
{
    char err[640];
    if (!p->set.relay.host[0])
        return result(p, AZR_ERR_STATE, "NamespaceAddress is not set");
    if (!p->set.hybrid_connection[0])
        return result(p, AZR_ERR_STATE, "HybridConnection is not set");
    azr_err e = route_start(p, err, sizeof err);
    if (e != AZR_OK)
        return result(p, code_of(e), "%s", err);
    e = azr_tls_suites_parse(p->set.ssl_enabled_cipher_suites, &p->suites, err, sizeof err);
    if (e == AZR_OK) {
        char why[200];
        azr_tls_suites_for_cpu(&p->suites, azr_tls_aes_hw(), why, sizeof why);
        azr_proxy_log(p, 0, 3, "TLS cipher suites, both sides: %s", why);
        e = azr_tls_versions(p->set.ssl_enabled_protocols, &p->tls_min, &p->tls_max, err,
                             sizeof err);
    }
    if (e != AZR_OK)
        return result(p, code_of(e), "%s", err);
    if (p->set.ssl_start_mode == 2)
        return result(p, AZR_ERR_SETTING,
                      "SSLStartMode=2 (explicit) needs a STARTTLS command, which a raw TCP proxy "
                      "does not have: use 1 (implicit) or 3 (none)");
    p->local_tls = p->set.ssl_start_mode == 0 || p->set.ssl_start_mode == 1;
    e = azr_certload_all(p, err, sizeof err);
    if (e != AZR_OK)
        return result(p, code_of(e), "%s", err);
    return result(p, 0, NULL);
}

int azr_proxy_check(azr_proxy *px)
{
    return px ? prepare(&px->st) : AZR_ERR_STATE;
}

int azr_proxy_start_listening(azr_proxy *px)
{
    azr_proxy_state *p = &px->st;
    char err[640];
    if (p->lfd >= 0)
        return result(p, 0, NULL);
    int rc = prepare(p);
    if (rc != 0)
        return rc;
    azr_err e = azr_listener_prepare(p, err, sizeof err);
    if (e != AZR_OK)
        return result(p, code_of(e), "%s", err);
    if (p->set.relay.tls) {
        uint32_t f = p->set.ssl_security_flags;
        if (f & 0x1u)
            azr_proxy_log(p, 0, 1,
                          "warning: SSLSecurityFlags 0x1: relay certificates are "
                          "accepted outside their validity period");
        if (f & 0x10u)
            azr_proxy_log(p, 0, 1,
                          "warning: SSLSecurityFlags 0x10: relay certificates from "
                          "unknown CAs are accepted");
        if (f & 0x80000000u)
            azr_proxy_log(p, 0, 1,
                          "warning: SSLSecurityFlags 0x80000000: the relay "
                          "certificate's host name is not checked");
    }
    e = azr_listener_start(p, err, sizeof err);
    if (e != AZR_OK)
        return result(p, code_of(e), "%s", err);
    azr_proxy_log(p, 0, 1, "listening on %s:%u for %s://%s:%u/$hc/%s (event loop: %s; proxy: %s)",
                  p->set.local_host[0] ? p->set.local_host : "*", (unsigned)p->set.local_port,
                  p->set.relay.tls ? "wss" : "ws", p->set.relay.host, (unsigned)p->set.relay.port,
                  p->set.hybrid_connection, azr_reactor_backend(p->loop), p->route.source);
    route_warnings(p);
    azr_dial_lookup_early(p); /* a name that does not resolve yet is a warning */
    return result(p, 0, NULL);
}

int azr_proxy_stop_listening(azr_proxy *px)
{
    azr_listener_stop(&px->st);
    return result(&px->st, 0, NULL);
}

/* Safe from an event handler: connections end (close 1001 to the relay) and
 * are freed after the dispatch that runs the handler, never during it. */
int azr_proxy_shutdown(azr_proxy *px)
{
    azr_proxy_state *p = &px->st;
    (void)azr_proxy_stop_listening(px);
    for (size_t i = 0; p->conns && i < p->max_conns; i++)
        if (p->conns[i])
            azr_conn_close(p->conns[i], 0, "proxy shutting down", true);
    return result(p, 0, NULL);
}

int azr_proxy_reset(azr_proxy *px)
{
    (void)azr_proxy_shutdown(px);
    azr_settings_wipe(&px->st.set);
    azr_settings_init(&px->st.set);
    azr_route_wipe(&px->st.route);
    px->st.relay_session_ok = false;
    return result(&px->st, 0, NULL);
}

void azr_proxy_free(azr_proxy *px)
{
    if (!px)
        return;
    (void)azr_proxy_shutdown(px);
    if (px->st.loop)
        azr_task_cancel(px->st.loop, &px->st.reap);
    azr_listener_reap(&px->st);
    azr_resolver_free(px->st.resolver); /* after the connections, before the loop */
    if (px->shared) {
        px->shared->users--;
    } else {
        azr_reactor_free(px->st.loop);
    }
    free(px->st.conns);
    azr_burst_done(&px->st);
    azr_pages_done(&px->st.pages);    /* the connections' blocks all went back above */
    azr_certload_reap(&px->st, true); /* the connections are gone */
    azr_tls_anchors_free(&px->st.anchors);
    azr_tls_anchors_free(&px->st.client_cas);
    azr_wipe(&px->st.relay_session, sizeof px->st.relay_session);
    azr_tls_creds_free(&px->st.local_creds);
    azr_settings_wipe(&px->st.set);
    azr_route_wipe(&px->st.route);
    azr_wipe(&px->st.rng, sizeof px->st.rng);
    free(px);
}

int azr_proxy_disconnect(azr_proxy *px, int conn_id)
{
    azr_proxy_state *p = &px->st;
    azr_conn *c = find(p, conn_id);
    if (!c)
        return result(p, AZR_ERR_NOT_FOUND, "no connection %d", conn_id);
    azr_conn_close(c, 0, "disconnected by the application", true);
    return result(p, 0, NULL);
}

int azr_proxy_do_events(azr_proxy *px, int timeout_ms)
{
    azr_proxy_state *p = &px->st;
    if (!p->loop)
        return result(p, 0, NULL);
    if (azr_reactor_turn(p->loop, timeout_ms, NULL) != AZR_OK)
        return result(p, AZR_ERR_IO, "event loop wait failed: %s", strerror(errno));
    return result(p, 0, NULL);
}

azr_loop *azr_loop_new(int event_loop)
{
    azr_loop *l = calloc(1, sizeof *l);
    size_t fds = azr_listener_fd_limit();
    /* every timer belongs to a descriptor's owner: max_fds timers never run out,
     * however many proxies share the loop */
    if (!l || event_loop < 0 || event_loop > 3 ||
        azr_reactor_new(&l->r, fds, fds + 64, (azr_backend_kind)event_loop) != AZR_OK) {
        free(l);
        return NULL;
    }
    return l;
}

azr_proxy *azr_proxy_new_on(azr_loop *l, const azr_events *events, void *ud)
{
    azr_proxy *px = l ? azr_proxy_new(events, ud) : NULL;
    if (px) {
        px->shared = l;
        px->st.loop = l->r;
        l->users++;
    }
    return px;
}

int azr_loop_run(azr_loop *l, int timeout_ms)
{
    return azr_reactor_turn(l->r, timeout_ms, NULL) == AZR_OK ? 0 : AZR_ERR_IO;
}

int azr_loop_fd(const azr_loop *l)
{
    return azr_reactor_fd(l->r);
}

int azr_loop_free(azr_loop *l)
{
    if (!l)
        return 0;
    if (l->users > 0)
        return AZR_ERR_STATE;
    azr_reactor_free(l->r);
    free(l);
    return 0;
}

int azr_proxy_fd(const azr_proxy *px)
{
    return px->st.loop ? azr_reactor_fd(px->st.loop) : -1;
}

int azr_proxy_last_error_code(const azr_proxy *px)
{
    return px->st.last_code;
}

const char *azr_proxy_last_error(const azr_proxy *px)
{
    return px->st.last_error;
}

/* ------------------------------------------------------------- connections */

int azr_proxy_connection_count(const azr_proxy *px)
{
    /* counted as they open and end: a daemon asks after every loop turn */
    return px->st.nopen > INT_MAX ? INT_MAX : (int)px->st.nopen;
}

int azr_proxy_connection_ids(const azr_proxy *px, int *ids, int cap)
{
    int n = 0;
    for (size_t i = 0; px->st.conns && i < px->st.max_conns; i++) {
        const azr_conn *c = px->st.conns[i];
        if (c && c->phase != AZR_P_DEAD) {
            if (n < cap)
                ids[n] = c->id;
            n++;
        }
    }
    return n;
}

static void info_of(const azr_conn *c, azr_connection_info *out)
{
    memset(out, 0, sizeof *out);
    out->id = c->id;
    out->connected = c->phase == AZR_P_OPEN;
    snprintf(out->remote_host, sizeof out->remote_host, "%s", c->remote_host);
    out->remote_port = c->remote_port;
    snprintf(out->local_address, sizeof out->local_address, "%s", c->local_addr);
    out->idle_timeout = (int)c->idle_timeout;
    out->timeout = (int)c->timeout;
    out->bytes_in = c->bytes_in;
    out->bytes_out = c->bytes_out;
    uint64_t now = azr_reactor_now(c->p->loop);
    out->age_ms = now > c->opened_at ? now - c->opened_at : 0;
    snprintf(out->phase, sizeof out->phase, "%s", azr_stats_phase_name(c));
    snprintf(out->relay_address, sizeof out->relay_address, "%s", c->relay_addr);
}

int azr_proxy_connection_info(const azr_proxy *px, int conn_id, azr_connection_info *out)
{
    const azr_conn *c = find(&px->st, conn_id);
    if (!c)
        return AZR_ERR_NOT_FOUND;
    info_of(c, out);
    return 0;
}

int azr_proxy_connection_list(const azr_proxy *px, azr_connection_info *out, int cap)
{
    int n = 0;
    for (size_t i = 0; px->st.conns && i < px->st.max_conns; i++) {
        const azr_conn *c = px->st.conns[i];
        if (c && c->phase != AZR_P_DEAD) {
            if (n < cap)
                info_of(c, &out[n]);
            n++;
        }
    }
    return n;
}

int azr_proxy_get_stats(const azr_proxy *px, azr_proxy_stats *out)
{
    azr_stats_get(&px->st, out);
    return 0;
}

int azr_proxy_set_idle_timeout(azr_proxy *px, int conn_id, int seconds)
{
    azr_conn *c = find(&px->st, conn_id);
    if (!c)
        return result(&px->st, AZR_ERR_NOT_FOUND, "no connection %d", conn_id);
    if (seconds < 0)
        return result(&px->st, AZR_ERR_SETTING, "IdleTimeout must be 0 or more");
    c->idle_timeout = seconds;
    azr_conn_rearm(c); /* the new deadline counts at once */
    return result(&px->st, 0, NULL);
}

int azr_proxy_set_timeout(azr_proxy *px, int conn_id, int seconds)
{
    azr_conn *c = find(&px->st, conn_id);
    if (!c)
        return result(&px->st, AZR_ERR_NOT_FOUND, "no connection %d", conn_id);
    if (seconds < 0)
        return result(&px->st, AZR_ERR_SETTING, "Timeout must be 0 or more");
    c->timeout = seconds;
    azr_conn_rearm(c);
    return result(&px->st, 0, NULL);
}

int azr_proxy_set_user_data(azr_proxy *px, int conn_id, void *user_data)
{
    azr_conn *c = find(&px->st, conn_id);
    if (!c)
        return result(&px->st, AZR_ERR_NOT_FOUND, "no connection %d", conn_id);
    c->user_data = user_data;
    return result(&px->st, 0, NULL);
}

void *azr_proxy_user_data(const azr_proxy *px, int conn_id)
{
    const azr_conn *c = find(&px->st, conn_id);
    return c ? c->user_data : NULL;
}

/* -------------------------------------- the application's descriptors (watch.c) */

#include "watch.h"

int azr_proxy_watch_fd(azr_proxy *px, int fd)
{
    char err[160];
    azr_err e = azr_watch_add(px->st.loop, fd, NULL, err, sizeof err);
    return e == AZR_OK ? result(&px->st, 0, NULL) : result(&px->st, code_of(e), "%s", err);
}

int azr_proxy_unwatch_fd(azr_proxy *px, int fd)
{
    azr_watch_del(px->st.loop, fd);
    return result(&px->st, 0, NULL);
}

int azr_loop_watch_fd(azr_loop *l, int fd)
{
    char err[160];
    return l ? code_of(azr_watch_add(l->r, fd, &l->watched_ready, err, sizeof err)) : AZR_ERR_STATE;
}

int azr_loop_watched_ready(azr_loop *l)
{
    bool was = l && l->watched_ready;
    if (l)
        l->watched_ready = false;
    return was ? 1 : 0;
}

int azr_loop_unwatch_fd(azr_loop *l, int fd)
{
    if (l)
        azr_watch_del(l->r, fd);
    return 0;
}
