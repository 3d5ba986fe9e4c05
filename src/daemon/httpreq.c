/*
 * IMPLEMENTATION NOTES
 * One pass over in[0 .. min(len, AZR_HTTPREQ_MAX_HEAD)), from the start at
 * every call (picohttpparser's stateless restart). Running out of input is
 * AZR_AGAIN while the bound leaves room and AZR_E_LIMIT once it does not, so
 * the caller needs no bound of its own; an error is reported as soon as its
 * byte is seen, complete head or not. Every check cites RFC 9112 (message
 * syntax) or RFC 9110 (semantics):
 *  - empty lines before the request line are skipped (§2.2);
 *  - lines end in CRLF, or LF alone (§2.2); a CR not followed by LF is an
 *    error (§2.2: a bare CR is invalid);
 *  - request-line = method SP request-target SP HTTP-version (§3), single
 *    spaces, a token method (RFC 9110 §5.6.2), a target of visible ASCII;
 *    absolute-form (http://host/path) is reduced to its path (§3.2.2);
 *  - header fields: a token name directly followed by ':' (§5.1: no
 *    whitespace before the colon), no obs-fold (§5.2: rejected), values of
 *    SP, HTAB, VCHAR and obs-text only;
 *  - HTTP/1.1 needs exactly one Host (§3.2); a major version other than 1
 *    is 505 (RFC 9110 §15.6.6).
 */
#include "httpreq.h"

#include "text.h"

/* RFC 9110 §5.6.2: tchar */
static bool tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool vchar(uint8_t c)
{
    return c >= 0x21 && c <= 0x7e;
}

typedef struct cur {
    const uint8_t *in;
    size_t len, pos; /* len: what may be read, at most the bound */
    bool capped;     /* len was cut to the bound */
} cur;

/* No byte at c->pos: AGAIN, or LIMIT once the bound is reached. */
static azr_err short_of(const cur *c, azr_httpreq *r, int status)
{
    if (!c->capped)
        return AZR_AGAIN;
    r->status = status;
    snprintf(r->why, sizeof r->why, "request head longer than %d bytes", AZR_HTTPREQ_MAX_HEAD);
    return AZR_E_LIMIT;
}

static azr_err bad(azr_httpreq *r, int status, const char *why)
{
    r->status = status;
    snprintf(r->why, sizeof r->why, "%s", why);
    return status == 431 ? AZR_E_LIMIT : AZR_E_PROTO;
}

/* At a line's end: CRLF or LF. AZR_OK past it; AZR_E_PROTO for a bare CR
 * or another byte; AZR_AGAIN/LIMIT when the input stops first. */
static azr_err eol(cur *c, azr_httpreq *r, int short_status)
{
    if (c->pos >= c->len)
        return short_of(c, r, short_status);
    if (c->in[c->pos] == '\n') {
        c->pos++;
        return AZR_OK;
    }
    if (c->in[c->pos] != '\r')
        return bad(r, 400, "unexpected byte at the end of a line");
    if (c->pos + 1 >= c->len)
        return short_of(c, r, short_status);
    if (c->in[c->pos + 1] != '\n')
        return bad(r, 400, "CR not followed by LF");
    c->pos += 2;
    return AZR_OK;
}

static azr_err request_line(cur *c, azr_httpreq *r)
{
    /* §2.2: empty lines before the request line */
    while (c->pos < c->len && (c->in[c->pos] == '\r' || c->in[c->pos] == '\n')) {
        azr_err e = eol(c, r, 414);
        if (e != AZR_OK)
            return e;
    }
    size_t start = c->pos;
    while (c->pos < c->len && tchar(c->in[c->pos]))
        c->pos++;
    if (c->pos >= c->len)
        return short_of(c, r, 414);
    if (c->pos == start || c->in[c->pos] != ' ')
        return bad(r, 400, "the method is not a token followed by one space");
    r->method = (const char *)c->in + start;
    r->method_len = c->pos - start;
    start = ++c->pos;
    while (c->pos < c->len && vchar(c->in[c->pos]))
        c->pos++;
    if (c->pos >= c->len)
        return short_of(c, r, 414);
    if (c->pos == start || c->in[c->pos] != ' ')
        return bad(r, 400, "the target is not visible ASCII followed by one space");
    const char *t = (const char *)c->in + start;
    size_t tl = c->pos - start;
    c->pos++;
    /* §3.2.2: absolute-form: the path after scheme://authority */
    for (size_t k = 0; k + 3 <= tl && t[0] != '/'; k++)
        if (t[k] == ':' && t[k + 1] == '/' && t[k + 2] == '/') {
            size_t p = k + 3;
            while (p < tl && t[p] != '/' && t[p] != '?')
                p++;
            t += p;
            tl -= p;
            if (tl == 0) {
                t = "/";
                tl = 1;
            }
            break;
        }
    /* §3.2: origin-form starts with '/'; "*" (OPTIONS) and authority-form
     * (CONNECT) are the other forms a server sees */
    bool connect = azr_text_ieq(r->method, r->method_len, "CONNECT");
    if (t[0] != '/' && !(tl == 1 && t[0] == '*') && !connect)
        return bad(r, 400, "the target is neither a path nor an absolute URI");
    const char *q = connect ? NULL : memchr(t, '?', tl);
    r->path = t;
    r->path_len = q ? (size_t)(q - t) : tl;
    r->query = q ? q + 1 : NULL;
    r->query_len = q ? tl - r->path_len - 1 : 0;
    static const char ver[] = "HTTP/";
    for (size_t k = 0; k < 5; k++, c->pos++) {
        if (c->pos >= c->len)
            return short_of(c, r, 414);
        if (c->in[c->pos] != (uint8_t)ver[k])
            return bad(r, 400, "no HTTP-version after the target");
    }
    /* DIGIT "." DIGIT */
    for (size_t k = 0; k < 3; k++) {
        if (c->pos + k >= c->len)
            return short_of(c, r, 414);
        uint8_t b = c->in[c->pos + k];
        if (k == 1 ? b != '.' : (b < '0' || b > '9'))
            return bad(r, 400, "bad HTTP-version");
    }
    if (c->in[c->pos] != '1')
        return bad(r, 505, "HTTP version not supported (1.0 and 1.1 are)");
    r->minor = c->in[c->pos + 2] == '0' ? 0 : 1;
    c->pos += 3;
    return eol(c, r, 414);
}

/* A Connection value's comma-separated tokens: close, keep-alive. */
static void connection_tokens(const char *v, size_t n, bool *close, bool *keep)
{
    while (n > 0) {
        size_t k = 0;
        while (k < n && v[k] != ',')
            k++;
        const char *tok = v;
        size_t tl = k;
        azr_text_trim(&tok, &tl);
        if (azr_text_ieq(tok, tl, "close"))
            *close = true;
        else if (azr_text_ieq(tok, tl, "keep-alive"))
            *keep = true;
        v += k < n ? k + 1 : k;
        n -= k < n ? k + 1 : k;
    }
}

azr_err azr_httpreq_parse(const uint8_t *in, size_t len, azr_httpreq *r)
{
    memset(r, 0, sizeof *r);
    cur c = {in, len > AZR_HTTPREQ_MAX_HEAD ? AZR_HTTPREQ_MAX_HEAD : len, 0,
             len >= AZR_HTTPREQ_MAX_HEAD};
    azr_err e = request_line(&c, r);
    if (e != AZR_OK)
        return e;
    size_t hosts = 0;
    bool close = false, keep = false;
    for (;;) {
        if (c.pos >= c.len)
            return short_of(&c, r, 431);
        uint8_t b = in[c.pos];
        if (b == '\r' || b == '\n') {
            e = eol(&c, r, 431);
            if (e != AZR_OK)
                return e;
            break;
        }
        if (b == ' ' || b == '\t')
            return bad(r, 400, "obsolete line folding (a header line starting with whitespace)");
        if (r->nheaders == AZR_HTTPREQ_MAX_HEADERS)
            return bad(r, 431, "too many header lines");
        size_t start = c.pos;
        while (c.pos < c.len && tchar(in[c.pos]))
            c.pos++;
        if (c.pos >= c.len)
            return short_of(&c, r, 431);
        if (c.pos == start || in[c.pos] != ':')
            return bad(r, 400, "a header name is not a token followed by ':'");
        const char *name = (const char *)in + start;
        size_t nl = c.pos - start;
        start = ++c.pos;
        while (c.pos < c.len &&
               (in[c.pos] == ' ' || in[c.pos] == '\t' || vchar(in[c.pos]) || in[c.pos] >= 0x80))
            c.pos++;
        if (c.pos >= c.len)
            return short_of(&c, r, 431);
        const char *v = (const char *)in + start;
        size_t vl = c.pos - start;
        e = eol(&c, r, 431);
        if (e != AZR_OK)
            return e;
        r->nheaders++;
        azr_text_trim(&v, &vl);
        if (azr_text_ieq(name, nl, "Host"))
            hosts++;
        else if (azr_text_ieq(name, nl, "Connection"))
            connection_tokens(v, vl, &close, &keep);
    }
    if (r->minor == 1 && hosts != 1)
        return bad(r, 400, hosts ? "more than one Host header" : "HTTP/1.1 without Host");
    r->conn_close = close || (r->minor == 0 && !keep);
    r->head_len = c.pos;
    return AZR_OK;
}
