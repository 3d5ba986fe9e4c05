/*
 * TLS towards the relay (wss://), one BearSSL client engine per connection:
 * setup with SNI, our validator around the X.509 minimal engine
 * (SSLSecurityFlags), session resumption (ReuseSSLSession), and what a
 * finished handshake reports (RelaySSLNegotiated*, SSLKeyLogFile, SSLStatus).
 */
#include "conn.h"
#include "text.h"

#define FLAG_TIME 0x1u
#define FLAG_CA   0x10u
#define FLAG_NAME 0x80000000u

/* The chain is read: an unknown CA passes with 0x10 (a name mismatch and
 * the validity period never reach here: 0x80000000 and 0x1 change what the
 * inner engine checks). */
static int judge(void *ud, azr_x509v *v, int err)
{
    azr_conn *c = ud;
    uint32_t flags = c->sec_flags;
    if (err == BR_ERR_X509_NOT_TRUSTED && (flags & FLAG_CA)) {
        azr_proxy_log(c->p, c->id, 1,
                      "warning: relay certificate from an unknown CA accepted "
                      "(SSLSecurityFlags 0x10)");
        azr_conn_ssl_status(c, "relay: certificate accepted despite an unknown CA");
        return 0;
    }
    if (err == 0 && v->hold)
        azr_conn_ssl_status(c, "relay: certificate checked as of its own validity period "
                               "(SSLSecurityFlags 0x1)");
    if (err == 0 && v->no_name)
        azr_conn_ssl_status(c, "relay: certificate host name not checked "
                               "(SSLSecurityFlags 0x80000000)");
    return err;
}

azr_verdict azr_rtls_start(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    azr_rtls *t = c->tls;
    uint32_t flags = c->sec_flags;
    azr_hs *hs = c->hs;
    azr_tls_client_init(&t->cc, &hs->xm, p->anchors.ta, p->anchors.n);
    azr_x509v_init(&hs->v, &hs->xm, (flags & FLAG_TIME) ? azr_hs_leaf(c) : NULL, sizeof hs->leaf,
                   judge, c);
    hs->v.hold = (flags & FLAG_TIME) != 0;
    hs->v.no_name = (flags & FLAG_NAME) != 0;
    br_ssl_engine_set_x509(&t->cc.eng, &hs->v.vtable);
    br_ssl_engine_set_versions(&t->cc.eng, p->tls_min, p->tls_max);
    br_ssl_engine_set_suites(&t->cc.eng, p->suites.id, p->suites.n);
    br_ssl_engine_add_flags(&t->cc.eng, BR_OPT_NO_RENEGOTIATION);
    br_ssl_engine_set_buffers_bidi(&t->cc.eng, t->io, BR_SSL_BUFSIZE_INPUT,
                                   t->io + BR_SSL_BUFSIZE_INPUT, c->tls_out);
    t->resumed_offer = p->set.reuse_ssl_session && p->relay_session_ok;
    if (t->resumed_offer)
        br_ssl_engine_set_session_parameters(&t->cc.eng, &p->relay_session);
    if (!br_ssl_client_reset(&t->cc, p->set.relay.host, t->resumed_offer))
        return azr_conn_fail(c, AZR_ERR_TLS, 0, true, "TLS setup failed");
    azr_conn_ssl_status(c, "relay: TLS handshake with %s (SNI), %zu trust anchors%s",
                        p->set.relay.host, p->anchors.n,
                        t->resumed_offer ? ", offering the kept session" : "");
    return AZR_V_WAIT;
}

azr_verdict azr_rtls_failed(azr_conn *c)
{
    char why[320];
    int e = azr_xport_error(&c->rx);
    c->p->relay_session_ok = false; /* start afresh next time */
    snprintf(why, sizeof why, "TLS with relay %s failed: %s (BearSSL error %d)",
             c->p->set.relay.host, azr_tls_error_text(e), e);
    c->relay_eof = true; /* the engine is closed: nothing more goes there */
    azr_conn_ssl_status(c, "relay: %s failed: %s", c->phase == AZR_P_OPEN ? "TLS" : "handshake",
                        azr_tls_error_text(e));
    if (c->phase != AZR_P_OPEN && (e == 0 || e == BR_ERR_IO))
        return azr_conn_retry(c, AZR_ERR_TLS, "%s", why); /* cut, not refused */
    return azr_conn_fail(c, AZR_ERR_TLS, 0, true, "%s", why);
}

void azr_rtls_established(azr_conn *c)
{
    azr_proxy_state *p = c->p;
    azr_rtls *t = c->tls;
    br_ssl_session_parameters sp;
    br_ssl_engine_get_session_parameters(&t->cc.eng, &sp);
    /* the server resumed when it took back the session id we offered */
    bool resumed = t->resumed_offer && sp.session_id_len > 0 &&
                   sp.session_id_len == p->relay_session.session_id_len &&
                   memcmp(sp.session_id, p->relay_session.session_id, sp.session_id_len) == 0;
    if (p->set.reuse_ssl_session) {
        p->relay_session = sp;
        p->relay_session_ok = sp.session_id_len > 0;
    }
    azr_wipe(&sp, sizeof sp);
    azr_tls_info_get(&t->cc.eng, &c->rinfo);
    c->relay_resumed = resumed;
    azr_conn_ssl_status(c, "relay: TLS established with %s: TLS 1.%u, %s, %s", p->set.relay.host,
                        c->rinfo.version - BR_TLS10, azr_tls_suite_name(c->rinfo.suite),
                        resumed ? "session resumed" : "full handshake");
    azr_conn_key_log(c, &t->cc.eng);
}

azr_verdict azr_rtls_step(azr_conn *c, int fd, unsigned ev)
{
    azr_verdict v = AZR_V_WAIT;
    if (fd >= 0 && fd == c->rfd && (ev & AZR_READABLE))
        v = azr_conn_read(c, false);
    if (v != AZR_V_FAIL)
        v = azr_conn_flush(c, false);
    if (v == AZR_V_FAIL)
        return v;
    unsigned st = azr_xport_state(&c->rx);
    if (st & AZR_X_CLOSED)
        return azr_rtls_failed(c);
    if (c->relay_eof)
        return azr_conn_retry(c, AZR_ERR_TLS,
                              "relay closed the connection during the TLS handshake");
    if (!(st & AZR_X_SENDAPP))
        return AZR_V_WAIT;
    azr_rtls_established(c);
    return AZR_V_NEXT;
}
