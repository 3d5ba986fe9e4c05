/*
 * Trust anchors: PEM objects are decoded with br_pem_decoder, each
 * CERTIFICATE's DER goes through br_x509_decoder, and the subject DN and
 * public key are copied into heap memory owned by the anchor list (the
 * decoder's pointers do not outlive it).
 */
#include "tls.h"

#include <errno.h>

#include "certinfo.h"
#include "text.h"

typedef struct grow {
    unsigned char *buf;
    size_t len, cap;
    bool oom;
} grow;

/* Room for len more bytes. The buffer may hold a private key (PEM text,
 * DER): an outgrown one is wiped before it is freed, never realloc'd. */
static bool grow_room(grow *g, size_t len)
{
    if (g->oom)
        return false;
    if (len <= g->cap - g->len)
        return true;
    size_t ncap = g->cap ? g->cap : 1024;
    while (len > ncap - g->len)
        ncap *= 2;
    unsigned char *nb = malloc(ncap);
    if (!nb) {
        g->oom = true;
        return false;
    }
    if (g->buf) {
        memcpy(nb, g->buf, g->len);
        azr_wipe(g->buf, g->cap);
        free(g->buf);
    }
    g->buf = nb;
    g->cap = ncap;
    return true;
}

static void grow_add(void *ctx, const void *data, size_t len)
{
    grow *g = ctx;
    if (len == 0 || !grow_room(g, len))
        return;
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

/*
 * Walk the PEM objects of text[0..len): each object's DER goes to fn with
 * its name. fn returns AZR_OK to go on. AZR_E_ARG with err on broken PEM.
 */
typedef azr_err (*pem_fn)(void *ctx, const char *name, const unsigned char *der, size_t len,
                          char *err, size_t cap);

static azr_err pem_each(const char *pem, size_t len, pem_fn fn, void *ctx, char *err, size_t cap)
{
    br_pem_decoder_context pc;
    grow der = {0};
    char name[128] = ""; /* br_pem_decoder_name() is at most 127 characters */
    azr_err e = AZR_OK;
    br_pem_decoder_init(&pc);
    /* BearSSL ends an object at the newline after its END line: text cut
     * right after "-----END ...-----" (a trimmed setting) gets one */
    bool nl_added = false;
    static const char nl[] = "\n";
    while (e == AZR_OK && (len > 0 || !nl_added)) {
        if (len == 0) {
            pem = nl;
            len = 1;
            nl_added = true;
        }
        size_t used = br_pem_decoder_push(&pc, pem, len);
        pem += used;
        len -= used;
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            snprintf(name, sizeof name, "%s", br_pem_decoder_name(&pc));
            der.len = 0;
            br_pem_decoder_setdest(&pc, grow_add, &der);
            break;
        case BR_PEM_END_OBJ:
            e = der.oom ? AZR_E_NOMEM : fn(ctx, name, der.buf, der.len, err, cap);
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
    if (der.buf)
        azr_wipe(der.buf, der.cap);
    free(der.buf);
    return e;
}

static bool is_cert(const char *name)
{
    return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0;
}

typedef struct anchor_walk {
    azr_tls_anchors *a;
    size_t added;
} anchor_walk;

static azr_err anchor_obj(void *ctx, const char *name, const unsigned char *der, size_t len,
                          char *err, size_t cap)
{
    anchor_walk *w = ctx;
    if (!is_cert(name))
        return AZR_OK;
    azr_err e = add_der(w->a, der, len, err, cap);
    if (e == AZR_OK)
        w->added++;
    return e;
}

azr_err azr_tls_anchors_add_pem(azr_tls_anchors *a, const char *pem, size_t len, size_t *added,
                                char *err, size_t cap)
{
    anchor_walk w = {a, 0};
    azr_err e = pem_each(pem, len, anchor_obj, &w, err, cap);
    *added = w.added;
    if (e == AZR_OK && w.added == 0) {
        snprintf(err, cap, "no CERTIFICATE found in the PEM text");
        e = AZR_E_ARG;
    }
    return e;
}

/* The whole of a (PEM) file, NUL-terminated, at most 64 MiB; free() it. */
static azr_err read_file(const char *path, grow *text, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    memset(text, 0, sizeof *text);
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return AZR_E_IO;
    }
    /* straight into text: no copy of a key in stdio's buffer or on the stack */
    setvbuf(f, NULL, _IONBF, 0);
    size_t n;
    do {
        n = grow_room(text, 4096) ? fread(text->buf + text->len, 1, text->cap - text->len, f) : 0;
        text->len += n;
    } while (n > 0 && text->len < (64u << 20));
    fclose(f);
    grow_add(text, "", 1);
    if (text->oom) {
        if (text->buf)
            azr_wipe(text->buf, text->cap);
        free(text->buf);
        text->buf = NULL;
        return AZR_E_NOMEM;
    }
    text->len--;
    return AZR_OK;
}

azr_err azr_tls_anchors_add_file(azr_tls_anchors *a, const char *path, size_t *added, char *err,
                                 size_t cap)
{
    grow text;
    *added = 0;
    azr_err e = read_file(path, &text, err, cap);
    if (e != AZR_OK)
        return e;
    char e2[200];
    e = azr_tls_anchors_add_pem(a, (const char *)text.buf, text.len, added, e2, sizeof e2);
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

/* ------------------------------------------------------- server credentials */

typedef struct cred_walk {
    azr_tls_creds *c;
    bool key_seen;
} cred_walk;

static azr_err cred_cert(azr_tls_creds *c, const unsigned char *der, size_t len)
{
    br_x509_certificate *nc = realloc(c->chain, (c->n + 1) * sizeof *nc);
    if (!nc)
        return AZR_E_NOMEM;
    c->chain = nc;
    nc[c->n].data = dup_bytes(der, len);
    nc[c->n].data_len = len;
    if (!nc[c->n].data)
        return AZR_E_NOMEM;
    c->n++;
    return AZR_OK;
}

/* Copy the decoded key out of the decoder (whose buffers die with it). */
static azr_err cred_key(azr_tls_creds *c, const unsigned char *der, size_t len, char *err,
                        size_t cap)
{
    br_skey_decoder_context dc;
    br_skey_decoder_init(&dc);
    br_skey_decoder_push(&dc, der, len);
    int kt = br_skey_decoder_key_type(&dc);
    azr_err e = AZR_OK;
    if (kt == BR_KEYTYPE_RSA) {
        const br_rsa_private_key *k = br_skey_decoder_get_rsa(&dc);
        size_t total = k->plen + k->qlen + k->dplen + k->dqlen + k->iqlen;
        unsigned char *m = c->key_mem = malloc(total);
        if (!m) {
            e = AZR_E_NOMEM;
        } else {
            c->key_len = total;
            c->rsa = *k;
            memcpy(c->rsa.p = m, k->p, k->plen), m += k->plen;
            memcpy(c->rsa.q = m, k->q, k->qlen), m += k->qlen;
            memcpy(c->rsa.dp = m, k->dp, k->dplen), m += k->dplen;
            memcpy(c->rsa.dq = m, k->dq, k->dqlen), m += k->dqlen;
            memcpy(c->rsa.iq = m, k->iq, k->iqlen);
        }
    } else if (kt == BR_KEYTYPE_EC) {
        const br_ec_private_key *k = br_skey_decoder_get_ec(&dc);
        c->key_mem = dup_bytes(k->x, k->xlen);
        if (!c->key_mem) {
            e = AZR_E_NOMEM;
        } else {
            c->key_len = k->xlen;
            c->ec.curve = k->curve;
            c->ec.x = c->key_mem;
            c->ec.xlen = k->xlen;
        }
    } else {
        snprintf(err, cap, "private key cannot be decoded (BearSSL error %d)",
                 br_skey_decoder_last_error(&dc));
        e = AZR_E_ARG;
    }
    if (e == AZR_OK)
        c->key_type = kt;
    azr_wipe(&dc, sizeof dc);
    return e;
}

static azr_err cred_obj(void *ctx, const char *name, const unsigned char *der, size_t len,
                        char *err, size_t cap)
{
    cred_walk *w = ctx;
    if (is_cert(name))
        return cred_cert(w->c, der, len);
    if (strcmp(name, "RSA PRIVATE KEY") && strcmp(name, "EC PRIVATE KEY") &&
        strcmp(name, "PRIVATE KEY"))
        return AZR_OK; /* e.g. EC PARAMETERS */
    if (w->key_seen) {
        snprintf(err, cap, "more than one private key");
        return AZR_E_ARG;
    }
    w->key_seen = true;
    return cred_key(w->c, der, len, err, cap);
}

/* The leaf's public key must be the private key's, and the issuer's key type
 * is needed by BearSSL's ECDH suites. */
static azr_err cred_check(azr_tls_creds *c, char *err, size_t cap)
{
    if (c->n == 0) {
        snprintf(err, cap, "no CERTIFICATE found");
        return AZR_E_ARG;
    }
    if (!c->key_type) {
        snprintf(err, cap, "no PRIVATE KEY found");
        return AZR_E_ARG;
    }
    br_x509_decoder_context dc;
    br_x509_decoder_init(&dc, NULL, NULL);
    br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    if (!pk) {
        snprintf(err, cap, "certificate cannot be decoded (BearSSL error %d)",
                 br_x509_decoder_last_error(&dc));
        return AZR_E_ARG;
    }
    if (pk->key_type != c->key_type) {
        snprintf(err, cap, "the private key does not belong to the first certificate");
        return AZR_E_ARG;
    }
    if (pk->key_type == BR_KEYTYPE_EC) {
        unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
        br_ec_public_key pub;
        size_t ql = br_ec_compute_pub(br_ec_get_default(), &pub, q, &c->ec);
        if (!ql || pk->key.ec.curve != c->ec.curve || ql != pk->key.ec.qlen ||
            memcmp(q, pk->key.ec.q, ql) != 0) {
            snprintf(err, cap, "the private key does not belong to the first certificate");
            return AZR_E_ARG;
        }
    } else {
        unsigned char n[4096 / 8]; /* BearSSL RSA keys go up to 4096 bits */
        size_t nl = br_rsa_compute_modulus_get_default()(NULL, &c->rsa);
        if (nl == 0 || nl > sizeof n || br_rsa_compute_modulus_get_default()(n, &c->rsa) != nl) {
            snprintf(err, cap, "the RSA private key is not usable");
            return AZR_E_ARG;
        }
        const unsigned char *pn = pk->key.rsa.n;
        size_t pl = pk->key.rsa.nlen;
        while (pl > 0 && *pn == 0)
            pn++, pl--;
        if (pl != nl || memcmp(n, pn, nl) != 0) {
            snprintf(err, cap, "the private key does not belong to the first certificate");
            return AZR_E_ARG;
        }
    }
    c->issuer_key_type = br_x509_decoder_get_signer_key_type(&dc);
    return AZR_OK;
}

azr_err azr_tls_creds_load_pem(azr_tls_creds *c, const char *pem, size_t len, char *err, size_t cap)
{
    cred_walk w = {c, c->key_type != 0};
    azr_err e = pem_each(pem, len, cred_obj, &w, err, cap);
    return e;
}

azr_err azr_tls_creds_load_files(azr_tls_creds *c, const char *cert_path, const char *key_path,
                                 char *err, size_t cap)
{
    const char *paths[2] = {cert_path, key_path};
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 2; i++) {
        if (!paths[i] || !paths[i][0] || (i == 1 && !strcmp(paths[1], paths[0])))
            continue;
        grow text;
        azr_err e = read_file(paths[i], &text, err, cap);
        if (e == AZR_OK) {
            char e2[200];
            e = azr_tls_creds_load_pem(c, (const char *)text.buf, text.len, e2, sizeof e2);
            if (e != AZR_OK)
                snprintf(err, cap, "%s: %s", paths[i], e2);
            azr_wipe(text.buf, text.cap);
            free(text.buf);
        }
        if (e != AZR_OK) {
            azr_tls_creds_free(c);
            return e;
        }
    }
    azr_err e = cred_check(c, err, cap);
    if (e != AZR_OK)
        azr_tls_creds_free(c);
    return e;
}

void azr_tls_creds_free(azr_tls_creds *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->chain[i].data);
    free(c->chain);
    if (c->key_mem)
        azr_wipe(c->key_mem, c->key_len);
    free(c->key_mem);
    memset(c, 0, sizeof *c);
}

/* --------------------------------------------------------- BearSSL engines */

/*
 * The engine's algorithms, what the suite table's suites and versions need:
 * ECDHE (X25519, P-256, P-384, P-521: BearSSL's default EC code) with RSA or
 * ECDSA signatures, both made and verified; AES-GCM, ChaCha20-Poly1305,
 * AES-CCM, AES-CBC and 3DES records; the TLS 1.0/1.1 PRF (MD5 and SHA-1)
 * and TLS 1.2's (SHA-256, SHA-384). SHA-224 and SHA-512 share their code
 * with SHA-256 and SHA-384: registered, they cost nothing and keep the
 * client's signature algorithms what SSLConnectionRequest reports. The
 * _default_ setters take the fastest constant-time code this CPU runs
 * (AES-NI, PCLMUL, SSE2 or portable). Not linked: ECDH (static) and
 * DHE suites, which the table does not name, and BearSSL's other
 * implementations of each primitive; with AZR_TLS_AEAD_ONLY (tlsparams.h)
 * neither CCM, CBC, 3DES, the RSA key exchange nor TLS 1.0/1.1.
 */
static void engine_algos(br_ssl_engine_context *eng)
{
    static const br_hash_class *const hashes[] = {&br_md5_vtable,    &br_sha1_vtable,
                                                  &br_sha224_vtable, &br_sha256_vtable,
                                                  &br_sha384_vtable, &br_sha512_vtable};
    for (int id = br_md5_ID; id <= br_sha512_ID; id++)
        br_ssl_engine_set_hash(eng, id, hashes[id - br_md5_ID]);
    br_ssl_engine_set_versions(eng, AZR_TLS_AEAD_ONLY ? BR_TLS12 : BR_TLS10, BR_TLS12);
#if !AZR_TLS_AEAD_ONLY
    br_ssl_engine_set_prf10(eng, &br_tls10_prf);
#endif
    br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
    br_ssl_engine_set_default_ec(eng);
    br_ssl_engine_set_default_rsavrfy(eng);
    br_ssl_engine_set_default_ecdsa(eng);
    br_ssl_engine_set_default_aes_gcm(eng);
    br_ssl_engine_set_default_chapol(eng);
#if !AZR_TLS_AEAD_ONLY
    br_ssl_engine_set_default_aes_ccm(eng);
    br_ssl_engine_set_default_aes_cbc(eng);
    br_ssl_engine_set_default_des_cbc(eng);
#endif
    azr_tls_suites all;
    if (azr_tls_suites_parse("*", &all, NULL, 0) != AZR_OK)
        all.n = 0; /* never: "*" is the table */
    br_ssl_engine_set_suites(eng, all.id, all.n);
}

void azr_tls_x509_init(br_x509_minimal_context *xc, const br_x509_trust_anchor *ta, size_t n)
{
    /* SHA-256 names the DNs the engine compares */
    br_x509_minimal_init(xc, &br_sha256_vtable, ta, n);
    br_x509_minimal_set_hash(xc, br_sha1_ID, &br_sha1_vtable);
    br_x509_minimal_set_hash(xc, br_sha224_ID, &br_sha224_vtable);
    br_x509_minimal_set_hash(xc, br_sha256_ID, &br_sha256_vtable);
    br_x509_minimal_set_hash(xc, br_sha384_ID, &br_sha384_vtable);
    br_x509_minimal_set_hash(xc, br_sha512_ID, &br_sha512_vtable);
    /* the engine's own verifiers, not a second implementation of each */
    br_x509_minimal_set_rsa(xc, br_rsa_pkcs1_vrfy_get_default());
    br_x509_minimal_set_ecdsa(xc, br_ec_get_default(), br_ecdsa_vrfy_asn1_get_default());
}

void azr_tls_client_init(br_ssl_client_context *cc, br_x509_minimal_context *xc,
                         const br_x509_trust_anchor *ta, size_t n)
{
    br_ssl_client_zero(cc);
    engine_algos(&cc->eng);
#if !AZR_TLS_AEAD_ONLY
    br_ssl_client_set_default_rsapub(cc); /* the TLS_RSA_* suites' key exchange */
#endif
    azr_tls_x509_init(xc, ta, n);
    br_ssl_engine_set_x509(&cc->eng, &xc->vtable);
}

void azr_tls_server_init(br_ssl_server_context *sc, const azr_tls_creds *c)
{
    br_ssl_server_zero(sc);
    engine_algos(&sc->eng);
    if (c->key_type == BR_KEYTYPE_RSA)
        br_ssl_server_set_single_rsa(sc, c->chain, c->n, &c->rsa, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN,
                                     br_rsa_private_get_default(), br_rsa_pkcs1_sign_get_default());
    else
        br_ssl_server_set_single_ec(sc, c->chain, c->n, &c->ec, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN,
                                    (unsigned)c->issuer_key_type, br_ssl_engine_get_ec(&sc->eng),
                                    br_ecdsa_sign_asn1_get_default());
}

/* ------------------------------------------------------ cipher order by CPU */

bool azr_tls_aes_hw(void)
{
    /* GCM's CTR vtables; the CTR+CBC-MAC ones (CCM) need the same
     * instructions, and asking them would link CCM's code into every build */
    return br_aes_x86ni_ctr_get_vtable() || br_aes_pwr8_ctr_get_vtable();
}

void azr_tls_suites_for_cpu(azr_tls_suites *su, bool hw, char *why, size_t cap)
{
    bool chacha = azr_tls_suites_order(su, hw);
    const char *first = su->n ? azr_tls_suite_name(su->id[0]) : "none";
    const char *cpu = hw ? "the CPU has AES instructions (AES-NI or POWER8)"
                         : "the CPU has no AES instructions BearSSL can use";
    if (!su->automatic)
        snprintf(why, cap, "%s first, as SSLEnabledCipherSuites names them (%s)", first, cpu);
    else if (chacha)
        snprintf(why, cap, "ChaCha20-Poly1305 first (%s): %s", first, cpu);
    else
        snprintf(why, cap, "AES-GCM first (%s): %s", first, cpu);
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

const char *azr_tls_client_error_text(int code)
{
    if (code >= BR_ERR_SEND_FATAL_ALERT)
        return "we sent a fatal alert";
    if (code >= BR_ERR_RECV_FATAL_ALERT) {
        switch (code - BR_ERR_RECV_FATAL_ALERT) {
        case 40:
            return "the client refused the handshake (handshake_failure alert)";
        case 42:
        case 46:
        case 48:
            return "the client does not trust our certificate (see SSLCertStore)";
        case 70:
            return "the client refused the protocol version";
        default:
            return "the client sent a fatal alert";
        }
    }
    switch (code) {
    case BR_ERR_UNSUPPORTED_VERSION:
    case BR_ERR_BAD_VERSION:
        return "the client does not speak TLS 1.2 (or not TLS at all)";
    case BR_ERR_BAD_CIPHER_SUITE:
        return "no cipher suite in common with the client";
    case BR_ERR_IO:
        return "connection lost during TLS";
    case BR_ERR_BAD_MAC:
        return "a record failed its integrity check";
    case BR_ERR_NO_CLIENT_AUTH:
        return "the client sent no certificate (SSLAuthenticateClients)";
    default:
        return code >= 32 && code < 64 ? "client certificate invalid" : "TLS protocol error";
    }
}

bool azr_tls_cert_cn(const br_x509_certificate *cert, char *out, size_t cap)
{
    azr_certinfo ci;
    return azr_certinfo_parse(cert->data, cert->data_len, &ci) == AZR_OK &&
           azr_certinfo_attr(ci.subject, "CN", out, cap);
}

/* SSLCertSubject: empty or "*" any; "K=V, K=V" every named field equal
 * (the class's form, ASCII case ignored); other text: contained in the CN. */
bool azr_tls_subject_matches(const br_x509_certificate *leaf, const char *want, char *cn,
                             size_t cap)
{
    azr_certinfo ci;
    bool parsed = azr_certinfo_parse(leaf->data, leaf->data_len, &ci) == AZR_OK;
    snprintf(cn, cap, "none");
    if (parsed)
        (void)azr_certinfo_attr(ci.subject, "CN", cn, cap);
    if (!want[0] || strcmp(want, "*") == 0)
        return true;
    if (!parsed)
        return false;
    if (!strchr(want, '='))
        return strstr(cn, want) != NULL;
    /* each of the wanted fields, in the printed form of azr_certinfo */
    const char *w = want;
    char key[32], val[256], have[256];
    while (*w) {
        while (*w == ' ' || *w == ',')
            w++;
        size_t kl = strcspn(w, "=");
        if (!w[kl] || kl == 0 || kl >= sizeof key)
            return false;
        memcpy(key, w, kl);
        key[kl] = '\0';
        w += kl + 1;
        size_t vl = 0;
        bool q = *w == '"';
        w += q;
        while (*w && (q ? *w != '"' : *w != ',')) {
            if (vl + 1 < sizeof val)
                val[vl++] = *w;
            w++;
        }
        w += (q && *w == '"');
        while (vl > 0 && val[vl - 1] == ' ')
            vl--;
        val[vl] = '\0';
        for (char *k = key; *k; k++)
            *k = (char)(*k >= 'a' && *k <= 'z' ? *k - 32 : *k);
        if (!azr_certinfo_attr(ci.subject, key, have, sizeof have) ||
            !azr_text_ieq(have, strlen(have), val))
            return false;
    }
    return true;
}
