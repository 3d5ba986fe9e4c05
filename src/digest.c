/*
 * One small hash wrapper picks br_md5 or azr_sha256 by algorithm; every
 * H() of RFC 7616 is built from colon-joined parts fed straight into it, so
 * no joined string (which would hold the password) exists in memory.
 */
#include "digest.h"
#include "sha256.h"
#include "text.h"

#include <bearssl.h>
#include <stdarg.h>

typedef struct hctx {
    bool sha;
    br_md5_context md5;
    azr_sha256_ctx sha256;
} hctx;

static bool is_sha(azr_digest_alg a)
{
    return a == AZR_DIGEST_SHA256 || a == AZR_DIGEST_SHA256_SESS;
}

static bool is_sess(azr_digest_alg a)
{
    return a == AZR_DIGEST_MD5_SESS || a == AZR_DIGEST_SHA256_SESS;
}

azr_digest_alg azr_digest_alg_parse(const char *s, size_t len)
{
    for (int a = AZR_DIGEST_MD5; a <= AZR_DIGEST_SHA256_SESS; a++)
        if (azr_text_ieq(s, len, azr_digest_alg_name((azr_digest_alg)a)))
            return (azr_digest_alg)a;
    return (azr_digest_alg)0;
}

const char *azr_digest_alg_name(azr_digest_alg a)
{
    switch (a) {
    case AZR_DIGEST_MD5:
        return "MD5";
    case AZR_DIGEST_MD5_SESS:
        return "MD5-sess";
    case AZR_DIGEST_SHA256:
        return "SHA-256";
    case AZR_DIGEST_SHA256_SESS:
        return "SHA-256-sess";
    default:
        return "?";
    }
}

static void h_init(hctx *h, azr_digest_alg a)
{
    h->sha = is_sha(a);
    if (h->sha)
        azr_sha256_init(&h->sha256);
    else
        br_md5_init(&h->md5);
}

static void h_add(hctx *h, const char *s)
{
    size_t n = strlen(s);
    if (h->sha)
        azr_sha256_update(&h->sha256, s, n);
    else
        br_md5_update(&h->md5, s, n);
}

/* Several parts joined by ':' (the list ends with NULL). */
static void h_join(hctx *h, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    h_add(h, first);
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *)) {
        h_add(h, ":");
        h_add(h, p);
    }
    va_end(ap);
}

/* The digest in lower-case hex; the context is wiped. */
static void h_hex(hctx *h, char out[AZR_DIGEST_HEX_MAX])
{
    static const char hx[] = "0123456789abcdef";
    uint8_t d[32];
    size_t n = 16;
    if (h->sha) {
        azr_sha256_final(&h->sha256, d);
        n = 32;
    } else {
        br_md5_out(&h->md5, d);
    }
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = '\0';
    azr_wipe(d, sizeof d);
    azr_wipe(h, sizeof *h);
}

void azr_digest_response(const azr_digest_in *in, char out[AZR_DIGEST_HEX_MAX])
{
    hctx h;
    char ha1[AZR_DIGEST_HEX_MAX], ha2[AZR_DIGEST_HEX_MAX];
    /* §3.4.2 A1 */
    h_init(&h, in->alg);
    h_join(&h, in->user, in->realm, in->password, (const char *)NULL);
    h_hex(&h, ha1);
    if (is_sess(in->alg)) {
        h_init(&h, in->alg);
        h_join(&h, ha1, in->nonce, in->cnonce, (const char *)NULL);
        h_hex(&h, ha1);
    }
    /* §3.4.3 A2 for qop=auth (and RFC 2069) */
    h_init(&h, in->alg);
    h_join(&h, in->method, in->uri, (const char *)NULL);
    h_hex(&h, ha2);
    /* §3.4.1 KD(secret, data) = H(secret ":" data) */
    h_init(&h, in->alg);
    if (in->qop_auth)
        h_join(&h, ha1, in->nonce, in->nc, in->cnonce, "auth", ha2, (const char *)NULL);
    else
        h_join(&h, ha1, in->nonce, ha2, (const char *)NULL);
    h_hex(&h, out);
    azr_wipe(ha1, sizeof ha1);
}

void azr_digest_userhash(azr_digest_alg alg, const char *user, const char *realm,
                         char out[AZR_DIGEST_HEX_MAX])
{
    hctx h;
    h_init(&h, alg);
    h_join(&h, user, realm, (const char *)NULL);
    h_hex(&h, out);
}

/* ------------------------------------------------------- the challenge */

static const char *const dparams[] = {"realm", "nonce", "opaque",  "algorithm",
                                      "qop",   "stale", "userhash"};
enum { D_REALM, D_NONCE, D_OPAQUE, D_ALG, D_QOP, D_STALE, D_USERHASH, D_COUNT };

void azr_digest_chal_init(azr_digest_chal *d)
{
    memset(d, 0, sizeof *d);
}

void azr_digest_chal_param(azr_digest_chal *d, const azr_authchal_ev *ev)
{
    unsigned k = 0;
    while (k < D_COUNT && !azr_text_ieq(ev->name, ev->name_len, dparams[k]))
        k++;
    if (k == D_COUNT || d->bad)
        return;
    if (d->seen & (1u << k)) { /* RFC 7235 §2.1: each parameter once per challenge */
        d->bad = "a parameter appears twice";
        return;
    }
    d->seen = (uint16_t)(d->seen | (1u << k));
    char v[AZR_DIGEST_MAX_PARAM + 1];
    size_t n;
    if (azr_authchal_unquote(ev, v, sizeof v, &n) != AZR_OK) {
        d->bad = "a parameter is longer than 256 bytes";
        return;
    }
    switch (k) {
    case D_REALM:
        memcpy(d->realm, v, n + 1);
        break;
    case D_NONCE:
        memcpy(d->nonce, v, n + 1);
        break;
    case D_OPAQUE:
        memcpy(d->opaque, v, n + 1);
        d->opaque_given = true;
        break;
    case D_ALG:
        d->alg_given = true;
        d->alg = (uint8_t)azr_digest_alg_parse(v, n);
        if (!d->alg)
            d->bad = "its algorithm is not MD5, MD5-sess, SHA-256 or SHA-256-sess";
        break;
    case D_QOP: /* a quoted list of tokens: "auth", "auth-int", ... */
        d->qop_given = true;
        for (const char *p = v; *p;) {
            p += strspn(p, " \t,");
            size_t t = strcspn(p, " \t,");
            if (azr_text_ieq(p, t, "auth"))
                d->qop_auth = true;
            p += t;
        }
        break;
    case D_STALE:
        d->stale = azr_text_ieq(v, n, "true");
        break;
    default:
        d->userhash = azr_text_ieq(v, n, "true");
        break;
    }
}

void azr_digest_chal_done(azr_digest_chal *d)
{
    if (!d->alg_given)
        d->alg = AZR_DIGEST_MD5; /* RFC 7616 §3.3: the default */
    if (d->bad)
        return;
    if (!(d->seen & (1u << D_REALM)) || !(d->seen & (1u << D_NONCE)))
        d->bad = "it has no realm or no nonce";
    else if (d->qop_given && !d->qop_auth)
        d->bad = "it offers no qop=auth (qop=auth-int is not supported)";
    else if (!d->qop_given && is_sess((azr_digest_alg)d->alg))
        d->bad = "it names a -sess algorithm without qop";
}

int azr_digest_chal_rank(const azr_digest_chal *d)
{
    if (d->bad || !d->alg)
        return 0;
    return is_sha((azr_digest_alg)d->alg) ? 2 : 1;
}

/* ---------------------------------------------------------- the answer */

typedef struct wr {
    char *p;
    size_t cap, len;
    bool ok;
} wr;

static void put(wr *w, const char *s)
{
    size_t n = strlen(s);
    if (!w->ok || w->len >= w->cap || n >= w->cap - w->len) {
        w->ok = false;
        return;
    }
    memcpy(w->p + w->len, s, n + 1);
    w->len += n;
}

/* s as the inside of a quoted-string (RFC 9110 §5.6.4). */
static void put_q(wr *w, const char *s)
{
    for (; *s && w->ok; s++) {
        char c[3] = {'\\', *s, 0};
        put(w, (*s == '"' || *s == '\\') ? c : c + 1);
    }
}

azr_err azr_digest_write(const azr_digest_chal *d, const char *user, const char *password,
                         const char *method, const char *uri, const char *cnonce, uint32_t nc,
                         char *out, size_t cap, size_t *out_len)
{
    static const char hx[] = "0123456789abcdef";
    char ncs[9], uhash[AZR_DIGEST_HEX_MAX], resp[AZR_DIGEST_HEX_MAX];
    *out_len = 0;
    if (cap)
        out[0] = '\0';
    if (azr_digest_chal_rank(d) == 0)
        return AZR_E_ARG;
    for (unsigned i = 0; i < 8; i++)
        ncs[i] = hx[(nc >> (28 - 4 * i)) & 15];
    ncs[8] = '\0';
    azr_digest_alg alg = (azr_digest_alg)d->alg;
    azr_digest_in in = {alg, user,     d->realm, password, method,
                        uri, d->nonce, cnonce,   ncs,      d->qop_auth};
    azr_digest_response(&in, resp);
    if (d->userhash)
        azr_digest_userhash(alg, user, d->realm, uhash);
    wr w = {out, cap, 0, cap > 0};
    put(&w, "Digest username=\"");
    put_q(&w, d->userhash ? uhash : user);
    put(&w, "\", realm=\"");
    put_q(&w, d->realm);
    put(&w, "\", nonce=\"");
    put_q(&w, d->nonce);
    put(&w, "\", uri=\"");
    put_q(&w, uri);
    put(&w, "\"");
    if (d->alg_given) {
        put(&w, ", algorithm=");
        put(&w, azr_digest_alg_name(alg));
    }
    put(&w, ", response=\"");
    put(&w, resp);
    put(&w, "\"");
    if (d->opaque_given) {
        put(&w, ", opaque=\"");
        put_q(&w, d->opaque);
        put(&w, "\"");
    }
    if (d->qop_auth) {
        put(&w, ", qop=auth, nc=");
        put(&w, ncs);
        put(&w, ", cnonce=\"");
        put_q(&w, cnonce);
        put(&w, "\"");
    }
    if (d->userhash)
        put(&w, ", userhash=true");
    azr_wipe(resp, sizeof resp);
    if (!w.ok) {
        if (cap)
            out[0] = '\0';
        return AZR_E_LIMIT;
    }
    *out_len = w.len;
    return AZR_OK;
}
