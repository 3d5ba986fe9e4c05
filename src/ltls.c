/*
 * IMPLEMENTATION NOTES
 * TLS towards a local client (SSLEnabled), one BearSSL server engine per
 * connection, driven by the reactor; the relay is dialled only once the
 * handshake is done, so relay data cannot arrive before the client can
 * take it. The class's SSL events hang on BearSSL's two extension points:
 *  - the server policy (choose) sees the ClientHello: SSLConnectionRequest
 *    fires there, then BearSSL's single-certificate policy for the chosen
 *    certificate takes over (it replaces ours in the context, so the key
 *    exchange and signature go straight to it);
 *  - the X.509 validator (x509v.c) sees the client's chain:
 *    SSLClientAuthentication fires at its end and decides.
 * Events run inside the engine; a handler that disconnects leaves the
 * connection DEAD, which conn.c checks after every step.
 */
#include "conn.h"
#include "certinfo.h"
#include "text.h"

/* ------------------------------------------------------ SSLConnectionRequest */

static void add(char *out, size_t cap, size_t *o, const char *s)
{
    int n = snprintf(out + *o, cap - *o, "%s%s", *o ? "," : "", s);
    if (n > 0 && (size_t)n < cap - *o)
        *o += (size_t)n;
}

/* br_ssl_server_get_client_hashes() bits as the class writes algorithms */
static void sig_algs(uint32_t bits, char *out, size_t cap)
{
    static const char *const hash[7] = {"md5sha1", "md5",    "sha1",  "sha224",
                                        "sha256",  "sha384", "sha512"};
    static const char *const newer[12] = {NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          "rsa-pss-sha256",
                                          "rsa-pss-sha384",
                                          "rsa-pss-sha512",
                                          "ed25519",
                                          "ed448",
                                          "rsa-pss-pss-sha256",
                                          "rsa-pss-pss-sha384",
                                          "rsa-pss-pss-sha512"};
    size_t o = 0;
    char one[32];
    out[0] = '\0';
    for (int h = 6; h >= 0; h--) {
        if (bits & (1u << (8 + h))) {
            snprintf(one, sizeof one, "%s-ecdsa", hash[h]);
            add(out, cap, &o, one);
        }
        if (bits & (1u << h)) {
            snprintf(one, sizeof one, "%s-rsa", hash[h]);
            add(out, cap, &o, one);
        }
    }
    for (int x = 0; x < 12; x++)
        if ((bits & (1u << (16 + x))) && newer[x])
            add(out, cap, &o, newer[x]);
}

/* SSLConnectionRequest: the application may name another certificate,
 * loaded into l->alt (*creds then points at it). false when the handshake
 * must fail. want holds the store's password: wiped on every path. */
static bool request_cert(azr_conn *c, const char *suites, const char *algs,
                         const azr_tls_creds **creds)
{
    azr_proxy_state *p = c->p;
    const azr_settings *s = &p->set;
    azr_ssl_cert want;
    memset(&want, 0, sizeof want);
    want.store_type = (int)s->ssl_cert_store_type;
    snprintf(want.store, sizeof want.store, "%s", s->ssl_cert_store);
    snprintf(want.password, sizeof want.password, "%s", s->ssl_cert_store_password);
    snprintf(want.subject, sizeof want.subject, "%s", s->ssl_cert_subject);
    p->ev.ssl_connection_request(p->ud, c->id, suites, algs, &want);
    bool ok = c->phase != AZR_P_DEAD;
    if (ok && (strcmp(want.store, s->ssl_cert_store) != 0 ||
               strcmp(want.subject, s->ssl_cert_subject) != 0)) {
        char err[400];
        azr_err e = azr_proxy_load_cert(p, want.store_type, want.store, want.password, want.subject,
                                        &c->hs->alt, err, sizeof err);
        if (e == AZR_OK) {
            *creds = &c->hs->alt;
        } else {
            azr_proxy_log(p, c->id, -1, "SSLConnectionRequest: %s", err);
            ok = false;
        }
    }
    azr_wipe(&want, sizeof want);
    return ok;
}

/* Runs inside the engine: what it formats lives on this stack (about 4 KiB
 * with request_cert), never in statics shared by proxies on other threads. */
static int pol_choose(const br_ssl_server_policy_class **pctx, const br_ssl_server_context *cc,
                      br_ssl_server_choices *choices)
{
    azr_conn *c = ((const azr_ltls_policy *)(const void *)pctx)->c;
    azr_proxy_state *p = c->p;
    azr_ltls *l = c->ltls;
    size_t n;
    const br_suite_translated *st = br_ssl_server_get_client_suites(cc, &n);
    char suites[AZR_TLS_MAX_SUITES * 48], algs[512];
    size_t o = 0;
    suites[0] = '\0';
    for (size_t i = 0; i < n; i++)
        add(suites, sizeof suites, &o, azr_tls_suite_name(st[i][0]));
    sig_algs(br_ssl_server_get_client_hashes(cc), algs, sizeof algs);
    {
        /* the SNI is the client's text, unauthenticated: escaped for the log */
        const char *sni = br_ssl_engine_get_server_name(&cc->eng);
        char sni_txt[300];
        azr_text_escape(sni, strlen(sni), 255, sni_txt, sizeof sni_txt);
        azr_conn_ssl_status(c, "ClientHello%s%s: %zu suites in common (%s); client verifies %s",
                            sni[0] ? " for " : "", sni_txt, n, n ? suites : "none", algs);
    }
    const azr_tls_creds *creds = &c->hs->local;
    if (p->ev.ssl_connection_request && !request_cert(c, suites, algs, &creds))
        return 0; /* the handshake fails */
    if (creds->n == 0)
        return 0; /* nothing to answer with */
    char cn[128] = "-";
    (void)azr_tls_cert_cn(&creds->chain[0], cn, sizeof cn);
    azr_conn_ssl_status(c, "answering with CN=%s (%s key)", cn,
                        creds->key_type == BR_KEYTYPE_RSA ? "RSA" : "EC");
    /* BearSSL's own policy for that certificate replaces ours from here on */
    if (creds->key_type == BR_KEYTYPE_RSA)
        br_ssl_server_set_single_rsa(&l->sc, creds->chain, creds->n, &creds->rsa,
                                     BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN,
                                     br_rsa_private_get_default(), br_rsa_pkcs1_sign_get_default());
    else
        br_ssl_server_set_single_ec(
            &l->sc, creds->chain, creds->n, &creds->ec, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN,
            (unsigned)creds->issuer_key_type, br_ssl_engine_get_ec(&l->sc.eng),
            br_ecdsa_sign_asn1_get_default());
    return (*l->sc.policy_vtable)->choose(l->sc.policy_vtable, &l->sc, choices);
}

/* Never called: choose() hands the context to BearSSL's policy first. */
static uint32_t pol_keyx(const br_ssl_server_policy_class **pctx, unsigned char *data, size_t *len)
{
    (void)pctx, (void)data, (void)len;
    return 0;
}

static size_t pol_sign(const br_ssl_server_policy_class **pctx, unsigned algo_id,
                       unsigned char *data, size_t hv_len, size_t len)
{
    (void)pctx, (void)algo_id, (void)data, (void)hv_len, (void)len;
    return 0;
}

static const br_ssl_server_policy_class pol_vtable = {sizeof(azr_ltls_policy), pol_choose, pol_keyx,
                                                      pol_sign};

/* --------------------------------------------------- SSLClientAuthentication */

static const char *cert_status(int err)
{
    switch (err) {
    case 0:
        return "OK";
    case BR_ERR_X509_EMPTY_CHAIN:
        return "the client sent no certificate";
    case BR_ERR_X509_NOT_TRUSTED:
        return "not issued by a CA in SSLClientCACerts";
    case BR_ERR_X509_EXPIRED:
        return "expired or not yet valid";
    case BR_ERR_X509_BAD_SIGNATURE:
        return "a signature in the chain does not verify";
    case BR_ERR_X509_LIMIT_EXCEEDED:
        return "the chain is too long or too large";
    default:
        return azr_tls_error_text(err);
    }
}

static int client_judge(void *ud, azr_x509v *v, int err)
{
    azr_conn *c = ud;
    azr_proxy_state *p = c->p;
    size_t len;
    const uint8_t *der = azr_x509v_leaf(v, &len);
    azr_certinfo ci;
    memset(&ci, 0, sizeof ci);
    if (der && azr_certinfo_parse(der, len, &ci) != AZR_OK)
        memset(&ci, 0, sizeof ci);
    if (!der && err == 0)
        err = BR_ERR_X509_LIMIT_EXCEEDED; /* valid, but too large to hand out */
    c->ltls->cert_seen = true;
    const char *status = cert_status(err);
    int accept = err == 0;
    if (p->ev.ssl_client_authentication)
        p->ev.ssl_client_authentication(p->ud, c->id, der, len, ci.subject, ci.issuer, status,
                                        &accept);
    if (c->phase == AZR_P_DEAD)
        return err ? err : BR_ERR_X509_NOT_TRUSTED;
    azr_conn_ssl_status(c, "client certificate %s%s%s: %s; %s", ci.subject[0] ? ci.subject : "-",
                        ci.issuer[0] ? ", issued by " : "", ci.issuer, status,
                        accept ? "accepted" : "refused");
    if (!accept)
        snprintf(c->reason, sizeof c->reason, "client certificate refused: %s",
                 err ? status : "by SSLClientAuthentication");
    return accept ? 0 : (err ? err : BR_ERR_X509_NOT_TRUSTED);
}

/* ------------------------------------------------------------- handshake */

azr_verdict azr_ltls_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    azr_ltls *l = c->ltls;
    if (p->local_creds.n == 0) /* SSLCertStore changed while listening and did not load */
        return azr_conn_fail(c, AZR_ERR_TLS, 0, true,
                             "local TLS: no certificate loaded (SSLCertStore; see the error "
                             "azr_proxy_config returned)");
    c->hs->local = p->local_creds; /* the engine keeps &...->rsa / ->ec: ours, not the proxy's */
    azr_tls_server_init(&l->sc, &c->hs->local);
    l->pol.vtable = &pol_vtable;
    l->pol.c = c;
    br_ssl_server_set_policy(&l->sc, &l->pol.vtable);
    br_ssl_engine_set_versions(&l->sc.eng, p->tls_min, p->tls_max);
    br_ssl_engine_set_suites(&l->sc.eng, p->suites.id, p->suites.n);
    /* our order of suites, not the client's; no renegotiation (a DoS lever) */
    br_ssl_engine_add_flags(&l->sc.eng,
                            BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION);
    if (p->set.ssl_authenticate_clients) {
        azr_hs *hs = c->hs;
        azr_tls_x509_init(&hs->xm, p->client_cas.ta, p->client_cas.n);
        azr_x509v_init(&hs->v, &hs->xm, azr_hs_leaf(c), sizeof hs->leaf, client_judge, c);
        br_ssl_engine_set_x509(&l->sc.eng, &hs->v.vtable);
        br_ssl_server_set_trust_anchor_names_alt(&l->sc, p->client_cas.ta, p->client_cas.n);
    }
    br_ssl_engine_set_buffers_bidi(&l->sc.eng, l->io, BR_SSL_BUFSIZE_INPUT,
                                   l->io + BR_SSL_BUFSIZE_INPUT, c->tls_out);
    if (!br_ssl_server_reset(&l->sc))
        return azr_conn_fail(c, AZR_ERR_TLS, 0, true, "client TLS setup failed");
    return AZR_V_WAIT;
}

azr_verdict azr_ltls_failed(azr_conn *c, const char *when)
{
    char why[320];
    int e = azr_xport_error(&c->cx);
    if (c->reason[0]) /* our own verdict (a refused certificate) says more */
        snprintf(why, sizeof why, "client TLS %s: %.200s", when, c->reason);
    else
        snprintf(why, sizeof why, "client TLS %s: %s (BearSSL error %d)", when,
                 e ? azr_tls_client_error_text(e) : "closed", e);
    azr_conn_ssl_status(c, "%s", why);
    return azr_conn_fail(c, AZR_ERR_TLS, AZR_WS_CLOSE_GOING_AWAY, true, "%s", why);
}

/* The client's handshake, after I/O: NEXT (dial the relay) once it is done. */
static azr_verdict handshake(azr_conn *c)
{
    unsigned st = azr_xport_state(&c->cx);
    if (st & AZR_X_CLOSED)
        return azr_ltls_failed(c, "handshake failed");
    if (c->client_eof)
        return azr_conn_fail(c, AZR_ERR_TLS, 0, true,
                             "client closed the connection during the TLS handshake");
    if (!(st & AZR_X_SENDAPP) || azr_conn_flight_pending(c, true))
        return AZR_V_WAIT; /* (its last flight goes out whole before the dial) */
    azr_tls_info_get(&c->ltls->sc.eng, &c->linfo);
    azr_conn_ssl_status(c, "client TLS established: TLS 1.%u, %s", c->linfo.version - BR_TLS10,
                        azr_tls_suite_name(c->linfo.suite));
    azr_conn_key_log(c, &c->ltls->sc.eng);
    return AZR_V_NEXT;
}

azr_verdict azr_ltls_step(azr_conn *c, int fd, unsigned ev)
{
    azr_verdict v = AZR_V_WAIT;
    if (fd == c->cfd && (ev & AZR_READABLE))
        v = azr_conn_read(c, true);
    if (v != AZR_V_FAIL)
        v = azr_conn_flush(c, true);
    return v == AZR_V_FAIL ? v : handshake(c);
}
