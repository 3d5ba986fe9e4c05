/*
 * TLS material loaded when listening starts: the local certificate
 * (SSLCertStore and friends; SSLConnectionRequest may pick another per
 * connection), the CAs that check the relay (SSLCACertFilePaths,
 * SSLServerCACerts) and client certificates (SSLClientCACerts).
 */
#include "conn.h"
#include "proxy.h"
#include "text.h"

#include <unistd.h>

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
                 "no CA certificates for wss://: none of SSLCACertFilePaths exists (%.300s) and "
                 "SSLServerCACerts is empty; ship a PEM bundle at one of those paths (Debian: "
                 "ca-certificates) or set either setting",
                 p->set.ssl_ca_cert_file_paths[0] ? p->set.ssl_ca_cert_file_paths : "empty");
        return AZR_E_STATE;
    }
    return AZR_OK;
}

azr_err azr_certload_all(azr_proxy_state *p, char *err, size_t cap)
{
    const azr_settings *s = &p->set;
    if (s->relay.tls && p->anchors.n == 0) {
        azr_err e = load_anchors(p, err, cap);
        if (e != AZR_OK)
            return e;
    }
    if (p->local_tls && p->local_creds.n == 0) {
        azr_err e = azr_proxy_load_cert(p, s->ssl_cert_store_type, s->ssl_cert_store,
                                        s->ssl_cert_store_password, s->ssl_cert_subject,
                                        &p->local_creds, err, cap);
        if (e != AZR_OK)
            return e;
    }
    if (p->local_tls && s->ssl_authenticate_clients && p->client_cas.n == 0) {
        azr_err e = load_client_cas(p, err, cap);
        if (e != AZR_OK)
            return e;
    }
    return AZR_OK;
}

/* ------------------------------------------------- changed while running */

typedef struct azr_tls_retired {
    struct azr_tls_retired *next;
    azr_tls_anchors anchors;
    azr_tls_creds creds;
} azr_tls_retired;

/* Move what *a or *cr holds aside (they are left empty). */
static azr_err retire(azr_proxy_state *p, azr_tls_anchors *a, azr_tls_creds *cr)
{
    if ((a && a->n == 0 && !a->ta) || (cr && cr->n == 0 && !cr->chain && !cr->key_mem))
        return AZR_OK; /* nothing loaded */
    azr_tls_retired *r = calloc(1, sizeof *r);
    if (!r)
        return AZR_E_NOMEM;
    if (a) {
        r->anchors = *a;
        memset(a, 0, sizeof *a);
    }
    if (cr) {
        r->creds = *cr;
        memset(cr, 0, sizeof *cr);
    }
    r->next = p->retired;
    p->retired = r;
    return AZR_OK;
}

azr_err azr_certload_changed(azr_proxy_state *p, const char *name, size_t len, char *err,
                             size_t cap)
{
    azr_err e = AZR_OK;
    err[0] = '\0';
    if (azr_text_ieq(name, len, "SSLClientCACerts"))
        e = retire(p, &p->client_cas, NULL);
    else if (azr_text_ieq(name, len, "SSLCACertFilePaths") ||
             azr_text_ieq(name, len, "SSLServerCACerts"))
        e = retire(p, &p->anchors, NULL);
    else if (len > 7 &&
             azr_text_ieq(name, 7, "SSLCert")) /* SSLCertStore, -Type, -Password, -Subject */
        e = retire(p, NULL, &p->local_creds);
    else
        return AZR_OK;
    if (e != AZR_OK) {
        snprintf(err, cap, "out of memory");
        return e;
    }
    if (p->lfd < 0)
        return AZR_OK;                    /* loaded at the next StartListening */
    return azr_certload_all(p, err, cap); /* new connections take the new material */
}

void azr_certload_reap(azr_proxy_state *p, bool force)
{
    if (!p->retired)
        return;
    for (size_t i = 0; !force && p->conns && i < p->max_conns; i++)
        if (p->conns[i] && p->conns[i]->hs)
            return; /* a handshake may still point into it */
    while (p->retired) {
        azr_tls_retired *r = p->retired;
        p->retired = r->next;
        azr_tls_anchors_free(&r->anchors);
        azr_tls_creds_free(&r->creds);
        free(r);
    }
}
