/*
 * Trust anchors: PEM objects are decoded with br_pem_decoder, each
 * CERTIFICATE's DER goes through br_x509_decoder, and the subject DN and
 * public key are copied into heap memory owned by the anchor list (the
 * decoder's pointers do not outlive it).
 */
#include "tls.h"

#include <errno.h>

typedef struct grow {
    unsigned char *buf;
    size_t len, cap;
    bool oom;
} grow;

static void grow_add(void *ctx, const void *data, size_t len)
{
    grow *g = ctx;
    if (g->oom || len == 0)
        return;
    if (len > g->cap - g->len) {
        size_t ncap = g->cap ? g->cap : 1024;
        while (len > ncap - g->len)
            ncap *= 2;
        unsigned char *nb = realloc(g->buf, ncap);
        if (!nb) {
            g->oom = true;
            return;
        }
        g->buf = nb;
        g->cap = ncap;
    }
    memcpy(g->buf + g->len, data, len);
    g->len += len;
}

static void *dup_bytes(const void *p, size_t n)
{
    void *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static azr_err add_der(azr_tls_anchors *a, const unsigned char *der, size_t len, char *err,
                       size_t cap)
{
    br_x509_decoder_context dc;
    grow dn = {0};
    br_x509_decoder_init(&dc, grow_add, &dn);
    br_x509_decoder_push(&dc, der, len);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    if (!pk || dn.oom) {
        free(dn.buf);
        if (dn.oom)
            return AZR_E_NOMEM;
        snprintf(err, cap, "certificate cannot be decoded (BearSSL error %d)",
                 br_x509_decoder_last_error(&dc));
        return AZR_E_ARG;
    }
    if (a->n == a->cap) {
        size_t ncap = a->cap ? 2 * a->cap : 64;
        br_x509_trust_anchor *nt = realloc(a->ta, ncap * sizeof *nt);
        if (!nt) {
            free(dn.buf);
            return AZR_E_NOMEM;
        }
        a->ta = nt;
        a->cap = ncap;
    }
    br_x509_trust_anchor *t = &a->ta[a->n];
    memset(t, 0, sizeof *t);
    t->dn.data = dn.buf;
    t->dn.len = dn.len;
    /* a root is trusted as a CA; a server certificate given directly is pinned */
    t->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
    t->pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        t->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
        t->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        t->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
        t->pkey.key.rsa.elen = pk->key.rsa.elen;
        if (!t->pkey.key.rsa.n || !t->pkey.key.rsa.e)
            return AZR_E_NOMEM;
    } else if (pk->key_type == BR_KEYTYPE_EC) {
        t->pkey.key.ec.curve = pk->key.ec.curve;
        t->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
        t->pkey.key.ec.qlen = pk->key.ec.qlen;
        if (!t->pkey.key.ec.q)
            return AZR_E_NOMEM;
    } else {
        free(dn.buf);
        snprintf(err, cap, "certificate with an unsupported key type");
        return AZR_E_ARG;
    }
    a->n++;
    return AZR_OK;
}

azr_err azr_tls_anchors_add_pem(azr_tls_anchors *a, const char *pem, size_t len, size_t *added,
                                char *err, size_t cap)
{
    br_pem_decoder_context pc;
    grow der = {0};
    bool in_cert = false;
    azr_err e = AZR_OK;
    *added = 0;
    br_pem_decoder_init(&pc);
    while (len > 0 && e == AZR_OK) {
        size_t used = br_pem_decoder_push(&pc, pem, len);
        pem += used;
        len -= used;
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            in_cert = strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") == 0 ||
                      strcmp(br_pem_decoder_name(&pc), "X509 CERTIFICATE") == 0;
            der.len = 0;
            br_pem_decoder_setdest(&pc, in_cert ? grow_add : NULL, in_cert ? &der : NULL);
            break;
        case BR_PEM_END_OBJ:
            if (in_cert) {
                if (der.oom) {
                    e = AZR_E_NOMEM;
                    break;
                }
                e = add_der(a, der.buf, der.len, err, cap);
                if (e == AZR_OK)
                    (*added)++;
            }
            in_cert = false;
            break;
        case BR_PEM_ERROR:
            snprintf(err, cap, "malformed PEM text");
            e = AZR_E_ARG;
            break;
        default:
            if (used == 0) /* no progress and no event: the rest is not PEM */
                len = 0;
            break;
        }
    }
    free(der.buf);
    if (e == AZR_OK && *added == 0) {
        snprintf(err, cap, "no CERTIFICATE found in the PEM text");
        e = AZR_E_ARG;
    }
    return e;
}

azr_err azr_tls_anchors_add_file(azr_tls_anchors *a, const char *path, size_t *added, char *err,
                                 size_t cap)
{
    FILE *f = fopen(path, "rb");
    *added = 0;
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return AZR_E_IO;
    }
    grow text = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len < (64u << 20))
        grow_add(&text, chunk, n);
    fclose(f);
    if (text.oom) {
        free(text.buf);
        return AZR_E_NOMEM;
    }
    char e2[200];
    azr_err e = azr_tls_anchors_add_pem(a, (const char *)text.buf, text.len, added, e2, sizeof e2);
    if (e != AZR_OK)
        snprintf(err, cap, "%s: %s", path, e2);
    free(text.buf);
    return e;
}

void azr_tls_anchors_free(azr_tls_anchors *a)
{
    for (size_t i = 0; i < a->n; i++) {
        br_x509_trust_anchor *t = &a->ta[i];
        free(t->dn.data);
        if (t->pkey.key_type == BR_KEYTYPE_RSA) {
            free(t->pkey.key.rsa.n);
            free(t->pkey.key.rsa.e);
        } else {
            free(t->pkey.key.ec.q);
        }
    }
    free(a->ta);
    memset(a, 0, sizeof *a);
}

const char *azr_tls_error_text(int code)
{
    if (code >= BR_ERR_SEND_FATAL_ALERT)
        return "we sent a fatal alert";
    if (code >= BR_ERR_RECV_FATAL_ALERT) {
        switch (code - BR_ERR_RECV_FATAL_ALERT) {
        case 40:
            return "the server refused the handshake (handshake_failure alert)";
        case 70:
            return "the server refused the protocol version (TLS 1.3 only?)";
        case 112:
            return "the server does not know the name we asked for (SNI)";
        default:
            return "the server sent a fatal alert";
        }
    }
    switch (code) {
    case BR_ERR_OK:
        return "no error";
    case BR_ERR_UNSUPPORTED_VERSION:
        return "the server wants a TLS version we do not speak (BearSSL has TLS 1.2, no 1.3)";
    case BR_ERR_BAD_VERSION:
        return "unexpected TLS version from the server";
    case BR_ERR_IO:
        return "connection lost during TLS";
    case BR_ERR_X509_EXPIRED:
        return "certificate expired or not yet valid (is the clock set?)";
    case BR_ERR_X509_BAD_SERVER_NAME:
        return "certificate does not match the host name";
    case BR_ERR_X509_NOT_TRUSTED:
        return "certificate not trusted (unknown CA: see SSLCACertFilePaths, SSLServerCACerts)";
    case BR_ERR_X509_NOT_CA:
        return "a certificate in the chain is not a CA";
    case BR_ERR_X509_BAD_SIGNATURE:
        return "certificate signature does not verify";
    case BR_ERR_X509_WEAK_PUBLIC_KEY:
        return "certificate key too weak";
    case BR_ERR_NO_CLIENT_AUTH:
        return "the server asked for a client certificate";
    default:
        return code >= 32 && code < 64 ? "certificate invalid" : "TLS protocol error";
    }
}
