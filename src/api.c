/*
 * The public API over the modules: the proxy object, Config(), the listener
 * (accept loop, ConnectionRequest, connection ceiling), the Connections
 * collection, DoEvents, logging, and the mapping of azr_err to the class's
 * result codes with a last-error text.
 */
#include "conn.h"
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
};

void azr_conn_start(azr_conn *c);

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

void azr_proxy_log(azr_proxy_state *p, int conn_id, int level, const char *fmt, ...)
{
    bool error = level < 0;
    int lv = error ? 1 : level;
    if (!p->ev.log || lv > p->set.log_level)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    static const char *types[] = {"Info", "Info", "Verbose", "Debug"};
    p->ev.log(p->ud, conn_id, lv, msg, error ? "Error" : types[lv & 3]);
}

static void reap(azr_reactor *r, azr_task *t, void *ud)
{
    (void)r;
    (void)t;
    azr_proxy_state *p = ud;
    for (size_t i = 0; i < p->max_conns; i++) {
        azr_conn *c = p->conns[i];
        if (c && c->phase == AZR_P_DEAD) {
            p->conns[i] = NULL;
            p->nconns--;
            azr_conn_free(c);
        }
    }
}

void azr_proxy_reap_later(azr_proxy_state *p)
{
    azr_task_queue(p->loop, &p->reap, reap, p);
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
    for (size_t i = 0; p->conns && i < p->max_conns; i++)
        if (p->conns[i] && p->conns[i]->id == id && p->conns[i]->phase != AZR_P_DEAD)
            return p->conns[i];
    return NULL;
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
    if (azr_text_ieq(name, nl, "NamespaceAddress") || azr_text_ieq(name, nl, "ConnectionString") ||
        azr_text_ieq(name, nl, "UseIPv6"))
        p->relay_resolved = false;
    if (azr_text_ieq(name, nl, "NamespaceAddress") || azr_text_ieq(name, nl, "ConnectionString") ||
        azr_text_ieq(name, nl, "ReuseSSLSession"))
        p->relay_session_ok = false; /* a session belongs to one host */
    if (azr_text_ieq(name, nl, "SSLClientCACerts"))
        azr_tls_anchors_free(&p->client_cas);
    if (azr_text_ieq(name, nl, "FirewallHost") || azr_text_ieq(name, nl, "FirewallPort") ||
        azr_text_ieq(name, nl, "FirewallType") || azr_text_ieq(name, nl, "UseIPv6"))
        p->proxy_resolved = false;
    if (azr_text_ieq(name, nl, "SSLCACertFilePaths") || azr_text_ieq(name, nl, "SSLServerCACerts"))
        azr_tls_anchors_free(&p->anchors); /* reloaded at the next StartListening */
    if (nl > 7 && azr_text_ieq(name, 7, "SSLCert"))
        azr_tls_creds_free(&p->local_creds); /* SSLCertStore, -Type, -Password, -Subject */
    return result(p, 0, NULL);
}

/* ---------------------------------------------------------------- listener */

static void accept_cb(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)r;
    (void)ev;
    azr_proxy_state *p = ud;
    for (int i = 0; i < 16; i++) {
        int cfd;
        azr_sockaddr peer;
        azr_err e = azr_net_accept(fd, &cfd, &peer);
        if (e == AZR_AGAIN)
            return;
        if (e != AZR_OK) {
            /* EMFILE and friends: say so once per wakeup and let the backlog wait */
            azr_proxy_log(p, 0, -1, "accept failed: %s", strerror(errno));
            if (p->ev.error)
                p->ev.error(p->ud, 0, AZR_ERR_IO, "accept failed");
            return;
        }
        char host[64];
        uint16_t port;
        azr_net_addr_text(&peer, host, sizeof host, &port);
        int accept = 1;
        if (p->ev.connection_request)
            p->ev.connection_request(p->ud, host, port, &accept);
        if (!accept) {
            azr_proxy_log(p, 0, 1, "connection from %s:%u refused by ConnectionRequest", host,
                          (unsigned)port);
            close(cfd);
            continue;
        }
        size_t slot = p->max_conns;
        for (size_t k = 0; k < p->max_conns; k++)
            if (!p->conns[k]) {
                slot = k;
                break;
            }
        azr_conn *c = NULL;
        if (slot == p->max_conns || azr_conn_open(p, cfd, &peer, &c) != AZR_OK) {
            azr_proxy_log(p, 0, -1, "connection from %s:%u refused: %s", host, (unsigned)port,
                          slot == p->max_conns ? "connection limit reached" : "out of memory");
            close(cfd);
            continue;
        }
        c->id = p->next_id++;
        if (p->next_id <= 0)
            p->next_id = 1;
        c->slot = slot;
        p->conns[slot] = c;
        p->nconns++;
        azr_proxy_log(p, c->id, 1, "client %s:%u connected", host, (unsigned)port);
        azr_conn_start(c);
    }
}

static size_t fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 65536;
    return rl.rlim_cur > 65536 ? 65536 : (size_t)rl.rlim_cur;
}

azr_err azr_proxy_load_cert(azr_proxy_state *p, long store_type, const char *store,
                            const char *password, const char *subject, azr_tls_creds *out,
                            char *err, size_t cap)
{
    if (!store[0]) {
        snprintf(err, cap,
                 "SSLEnabled needs SSLCertStore: a PEM file with the certificate chain "
                 "and its private key");
        return AZR_E_STATE;
    }
    if (store_type != 6 && store_type != 99) {
        snprintf(err, cap,
                 "store type %ld is not supported: azrelay reads PEM files "
                 "(6=PEMKeyFile, 99=Auto)",
                 store_type);
        return AZR_E_UNSUPPORTED;
    }
    if (password[0]) {
        snprintf(err, cap,
                 "SSLCertStorePassword: encrypted private keys are not supported "
                 "(BearSSL); decrypt it with 'openssl pkey' and clear the password");
        return AZR_E_UNSUPPORTED;
    }
    char e2[256];
    azr_err e = azr_tls_creds_load_files(out, store, NULL, e2, sizeof e2);
    if (e != AZR_OK) {
        snprintf(err, cap, "SSLCertStore %.300s", e2);
        return e == AZR_E_IO ? AZR_E_IO : AZR_E_ARG;
    }
    char cn[128];
    if (!azr_tls_subject_matches(&out->chain[0], subject, cn, sizeof cn)) {
        snprintf(err, cap,
                 "SSLCertSubject '%.64s' does not match the certificate in %.300s (CN=%s)", subject,
                 store, cn);
        azr_tls_creds_free(out);
        return AZR_E_ARG;
    }
    azr_proxy_log(p, 0, 2, "local TLS certificate CN=%s (%s key, chain of %zu) from %s", cn,
                  out->key_type == BR_KEYTYPE_RSA ? "RSA" : "EC", out->n, store);
    return AZR_OK;
}

/* SSLClientCACerts: PEM text or a file (SSLAuthenticateClients). */
static azr_err load_client_cas(azr_proxy_state *p, char *err, size_t cap)
{
    const char *v = p->set.ssl_client_ca_certs;
    size_t added = 0;
    char why[300];
    if (!v[0]) {
        snprintf(err, cap,
                 "SSLAuthenticateClients needs SSLClientCACerts: the CA certificates (PEM "
                 "text or a file) that client certificates must chain to");
        return AZR_E_STATE;
    }
    azr_err e = strstr(v, "-----BEGIN")
                    ? azr_tls_anchors_add_pem(&p->client_cas, v, strlen(v), &added, why, sizeof why)
                    : azr_tls_anchors_add_file(&p->client_cas, v, &added, why, sizeof why);
    if (e != AZR_OK) {
        snprintf(err, cap, "SSLClientCACerts: %.200s", why);
        azr_tls_anchors_free(&p->client_cas);
        return e;
    }
    azr_proxy_log(p, 0, 2, "client certificates: %zu CA certificates from SSLClientCACerts", added);
    return AZR_OK;
}

/* SSLCACertFilePaths (first file found) plus SSLServerCACerts (PEM or a path). */
static azr_err load_anchors(azr_proxy_state *p, char *err, size_t cap)
{
    size_t added = 0;
    const char *paths = p->set.ssl_ca_cert_file_paths;
    char one[1024], why[300];
    while (*paths) {
        const char *semi = strchr(paths, ';');
        size_t n = semi ? (size_t)(semi - paths) : strlen(paths);
        snprintf(one, sizeof one, "%.*s", (int)n, paths);
        paths += semi ? n + 1 : n;
        if (!one[0] || access(one, R_OK) != 0)
            continue;
        azr_err e = azr_tls_anchors_add_file(&p->anchors, one, &added, why, sizeof why);
        if (e != AZR_OK) {
            snprintf(err, cap, "SSLCACertFilePaths: %.200s", why);
            return e;
        }
        azr_proxy_log(p, 0, 2, "loaded %zu CA certificates from %s", added, one);
        break;
    }
    const char *extra = p->set.ssl_server_ca_certs;
    if (*extra) {
        azr_err e = strstr(extra, "-----BEGIN")
                        ? azr_tls_anchors_add_pem(&p->anchors, extra, strlen(extra), &added, why,
                                                  sizeof why)
                        : azr_tls_anchors_add_file(&p->anchors, extra, &added, why, sizeof why);
        if (e != AZR_OK) {
            snprintf(err, cap, "SSLServerCACerts: %.200s", why);
            return e;
        }
        azr_proxy_log(p, 0, 2, "loaded %zu CA certificates from SSLServerCACerts", added);
    }
    if (p->anchors.n == 0) {
        snprintf(err, cap,
                 "no CA certificates for wss://: none of SSLCACertFilePaths exists and "
                 "SSLServerCACerts is empty");
        return AZR_E_STATE;
    }
    return AZR_OK;
}

int azr_proxy_start_listening(azr_proxy *px)
{
    azr_proxy_state *p = &px->st;
    char err[640];
    if (p->lfd >= 0)
        return result(p, 0, NULL);
    if (!p->set.relay.host[0])
        return result(p, AZR_ERR_STATE, "NamespaceAddress is not set");
    if (!p->set.hybrid_connection[0])
        return result(p, AZR_ERR_STATE, "HybridConnection is not set");
    if (p->set.firewall_type != 0 && !p->set.firewall_host[0])
        return result(p, AZR_ERR_STATE, "FirewallType is %ld but FirewallHost is not set",
                      p->set.firewall_type);
    if (!p->conns) {
        size_t fds = fd_limit();
        p->max_conns = fds / 2 < AZR_MAX_CONNS ? fds / 2 : AZR_MAX_CONNS;
        p->conns = calloc(p->max_conns, sizeof *p->conns);
        if (!p->conns)
            return result(p, AZR_ERR_NOMEM, "out of memory");
        azr_err e = p->loop ? AZR_OK
                            : azr_reactor_new(&p->loop, fds, p->max_conns + 8,
                                              (azr_backend_kind)p->set.event_loop);
        if (e != AZR_OK) {
            free(p->conns);
            p->conns = NULL;
            return result(p, code_of(e), "cannot create the event loop: %s",
                          e == AZR_E_UNSUPPORTED ? "EventLoop not available on this platform"
                                                 : strerror(errno));
        }
    }
    if (p->set.relay.tls && p->anchors.n == 0) {
        azr_err e = load_anchors(p, err, sizeof err);
        if (e != AZR_OK)
            return result(p, code_of(e), "%s", err);
    }
    azr_err te =
        azr_tls_suites_parse(p->set.ssl_enabled_cipher_suites, &p->suites, err, sizeof err);
    if (te == AZR_OK)
        te = azr_tls_versions(p->set.ssl_enabled_protocols, &p->tls_min, &p->tls_max, err,
                              sizeof err);
    if (te != AZR_OK)
        return result(p, code_of(te), "%s", err);
    if (p->set.ssl_start_mode == 2)
        return result(p, AZR_ERR_SETTING,
                      "SSLStartMode=2 (explicit) needs a STARTTLS command, which a raw TCP proxy "
                      "does not have: use 1 (implicit) or 3 (none)");
    p->local_tls = p->set.ssl_start_mode == 0 || p->set.ssl_start_mode == 1;
    if (p->local_tls && p->local_creds.n == 0) {
        const azr_settings *s = &p->set;
        azr_err e = azr_proxy_load_cert(p, s->ssl_cert_store_type, s->ssl_cert_store,
                                        s->ssl_cert_store_password, s->ssl_cert_subject,
                                        &p->local_creds, err, sizeof err);
        if (e != AZR_OK)
            return result(p, code_of(e), "%s", err);
    }
    if (p->local_tls && p->set.ssl_authenticate_clients && p->client_cas.n == 0) {
        azr_err e = load_client_cas(p, err, sizeof err);
        if (e != AZR_OK)
            return result(p, code_of(e), "%s", err);
    }
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
    azr_sockaddr addr;
    if (azr_net_resolve(p->set.local_host, (uint16_t)p->set.local_port, 2, true, &addr, err,
                        sizeof err) != AZR_OK)
        return result(p, AZR_ERR_IO, "LocalHost: %s", err);
    uint16_t bound;
    if (azr_net_listen(&addr, (int)p->set.connection_backlog, &p->lfd, &bound) != AZR_OK)
        return result(p, AZR_ERR_IO, "cannot listen on %s:%ld: %s",
                      p->set.local_host[0] ? p->set.local_host : "*", p->set.local_port,
                      strerror(errno));
    if (azr_reactor_set(p->loop, p->lfd, AZR_READABLE, accept_cb, p) != AZR_OK) {
        close(p->lfd);
        p->lfd = -1;
        return result(p, AZR_ERR_IO, "cannot register the listening socket");
    }
    p->set.local_port = bound;
    p->set.listening = true;
    azr_proxy_log(p, 0, 1, "listening on %s:%u for %s://%s:%u/$hc/%s (event loop: %s)",
                  p->set.local_host[0] ? p->set.local_host : "*", (unsigned)bound,
                  p->set.relay.tls ? "wss" : "ws", p->set.relay.host, (unsigned)p->set.relay.port,
                  p->set.hybrid_connection, azr_reactor_backend(p->loop));
    if (!p->relay_resolved &&
        azr_net_resolve(p->set.relay.host, p->set.relay.port, (int)p->set.use_ipv6, false,
                        &p->relay_addr, err, sizeof err) == AZR_OK)
        p->relay_resolved = true;
    else if (!p->relay_resolved)
        azr_proxy_log(p, 0, -1, "%s (will retry for each client)", err);
    return result(p, 0, NULL);
}

int azr_proxy_stop_listening(azr_proxy *px)
{
    azr_proxy_state *p = &px->st;
    if (p->lfd >= 0) {
        azr_reactor_del(p->loop, p->lfd);
        close(p->lfd);
        p->lfd = -1;
        azr_proxy_log(p, 0, 1, "stopped listening");
    }
    p->set.listening = false;
    return result(p, 0, NULL);
}

int azr_proxy_shutdown(azr_proxy *px)
{
    azr_proxy_state *p = &px->st;
    (void)azr_proxy_stop_listening(px);
    for (size_t i = 0; p->conns && i < p->max_conns; i++)
        if (p->conns[i])
            azr_conn_close(p->conns[i], 0, "proxy shutting down", true);
    if (p->loop) {
        azr_task_cancel(p->loop, &p->reap);
        reap(p->loop, &p->reap, p);
    }
    return result(p, 0, NULL);
}

int azr_proxy_reset(azr_proxy *px)
{
    (void)azr_proxy_shutdown(px);
    azr_settings_wipe(&px->st.set);
    azr_settings_init(&px->st.set);
    px->st.relay_resolved = false;
    px->st.relay_session_ok = false;
    return result(&px->st, 0, NULL);
}

void azr_proxy_free(azr_proxy *px)
{
    if (!px)
        return;
    (void)azr_proxy_shutdown(px);
    if (px->shared) {
        if (px->st.loop)
            azr_task_cancel(px->st.loop, &px->st.reap);
        px->shared->users--;
    } else {
        azr_reactor_free(px->st.loop);
    }
    free(px->st.conns);
    azr_tls_anchors_free(&px->st.anchors);
    azr_tls_anchors_free(&px->st.client_cas);
    azr_wipe(&px->st.relay_session, sizeof px->st.relay_session);
    azr_tls_creds_free(&px->st.local_creds);
    azr_settings_wipe(&px->st.set);
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
    size_t fds = fd_limit();
    /* every connection holds two descriptors and one timer */
    if (!l || event_loop < 0 || event_loop > 3 ||
        azr_reactor_new(&l->r, fds, fds / 2 + 64, (azr_backend_kind)event_loop) != AZR_OK) {
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
    int n = 0;
    for (size_t i = 0; px->st.conns && i < px->st.max_conns; i++)
        if (px->st.conns[i] && px->st.conns[i]->phase != AZR_P_DEAD)
            n++;
    return n;
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

int azr_proxy_connection_info(const azr_proxy *px, int conn_id, azr_connection_info *out)
{
    const azr_conn *c = find(&px->st, conn_id);
    if (!c)
        return AZR_ERR_NOT_FOUND;
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
    azr_err e = azr_watch_add(px->st.loop, fd, err, sizeof err);
    return e == AZR_OK ? result(&px->st, 0, NULL) : result(&px->st, code_of(e), "%s", err);
}

int azr_proxy_unwatch_fd(azr_proxy *px, int fd)
{
    azr_watch_del(px->st.loop, fd);
    return result(&px->st, 0, NULL);
}
