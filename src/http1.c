/*
 * IMPLEMENTATION NOTES
 * The response parser copies bytes into buf until the empty line that ends
 * the head (CRLF or bare LF), one byte at a time, so *consumed stops exactly
 * after it and the caller keeps what follows. Only then is the head parsed,
 * in place: headers are pointer/length pairs into buf (picohttpparser's
 * shape). A head that does not end within max_head bytes is an error, never a
 * truncation. obs-fold lines are joined into the previous value by turning
 * the line break into spaces, which keeps the value contiguous.
 */
#include "http1.h"
#include "text.h"
#include "base64.h"
#include "sha1.h"

enum { S_HEAD, S_DONE, S_FAILED };

static bool tchar(unsigned char c)
{
    /* RFC 9110 §5.6.2 token characters */
    return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static bool clean(const char *s)
{
    for (; s && *s; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

/* Validate "Name: value\r\n" lines. */
static bool headers_ok(const char *h)
{
    while (h && *h) {
        const char *p = h;
        while (tchar((unsigned char)*p))
            p++;
        if (p == h || *p != ':')
            return false;
        while (*p && *p != '\r' && *p != '\n')
            p++;
        if (p[0] != '\r' || p[1] != '\n')
            return false;
        h = p + 2;
    }
    return true;
}

/* Append formatted text; false when out of room (the output is then unusable). */
static bool add(char *out, size_t cap, size_t *o, const char *a, const char *b, const char *c)
{
    int n = snprintf(out + *o, cap - *o, "%s%s%s", a, b ? b : "", c ? c : "");
    if (n < 0 || (size_t)n >= cap - *o)
        return false;
    *o += (size_t)n;
    return true;
}

static void host_port(char *out, size_t cap, const char *host, uint16_t port, bool with_port)
{
    bool v6 = strchr(host, ':') != NULL;
    if (with_port)
        snprintf(out, cap, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port);
    else
        snprintf(out, cap, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
}

azr_err azr_http1_upgrade_write(const azr_upgrade_req *r, char *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (!r->host || !*r->host || !r->target || r->target[0] != '/' || !r->key || !*r->key)
        return AZR_E_ARG;
    if (strlen(r->host) > AZR_HOST_MAX || !clean(r->host) || !clean(r->target) ||
        strchr(r->target, ' ') || !clean(r->key) || !clean(r->user_agent) || !clean(r->token) ||
        !clean(r->token_header) || !headers_ok(r->other_headers))
        return AZR_E_ARG;
    if (r->token_header) {
        for (const char *p = r->token_header; *p; p++)
            if (!tchar((unsigned char)*p))
                return AZR_E_ARG;
    }
    char hp[AZR_HOST_MAX + 10];
    host_port(hp, sizeof hp, r->host, r->port, r->port != (r->tls ? 443 : 80));
    size_t o = 0;
    bool ok = cap > 0 && add(out, cap, &o, "GET ", r->target, " HTTP/1.1\r\n") &&
              add(out, cap, &o, "Host: ", hp, "\r\n") &&
              add(out, cap, &o, "Upgrade: websocket\r\nConnection: Upgrade\r\n", NULL, NULL) &&
              add(out, cap, &o, "Sec-WebSocket-Key: ", r->key, "\r\n") &&
              add(out, cap, &o, "Sec-WebSocket-Version: 13\r\n", NULL, NULL);
    if (ok && r->user_agent && *r->user_agent)
        ok = add(out, cap, &o, "User-Agent: ", r->user_agent, "\r\n");
    if (ok && r->token_header && *r->token_header)
        ok = add(out, cap, &o, r->token_header, ": ", r->token) && add(out, cap, &o, "\r\n", 0, 0);
    if (ok && r->other_headers)
        ok = add(out, cap, &o, r->other_headers, NULL, NULL);
    if (ok)
        ok = add(out, cap, &o, "\r\n", NULL, NULL);
    if (!ok) {
        if (cap)
            out[0] = '\0';
        return AZR_E_LIMIT;
    }
    *out_len = o;
    return AZR_OK;
}

void azr_http1_ws_key(const uint8_t rnd[16], char out[25])
{
    size_t n;
    if (azr_b64_encode(rnd, 16, out, 25, &n) != AZR_OK)
        out[0] = '\0'; /* cannot happen: 16 bytes encode to 24 characters */
}

void azr_http1_ws_accept(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; /* RFC 6455 §1.3 */
    uint8_t d[AZR_SHA1_LEN];
    azr_sha1_ctx c;
    size_t n;
    azr_sha1_init(&c);
    azr_sha1_update(&c, key, strlen(key));
    azr_sha1_update(&c, guid, sizeof guid - 1);
    azr_sha1_final(&c, d);
    if (azr_b64_encode(d, sizeof d, out, 29, &n) != AZR_OK)
        out[0] = '\0'; /* cannot happen: 20 bytes encode to 28 characters */
}

azr_err azr_http1_connect_write(const char *host, uint16_t port, const char *user,
                                const char *password, const char *user_agent,
                                const char *extra_headers, char *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (!host || !*host || strlen(host) > AZR_HOST_MAX || port == 0 || !clean(host) ||
        strchr(host, ' ') || !clean(user) || !clean(password) || !clean(user_agent) ||
        !headers_ok(extra_headers))
        return AZR_E_ARG;
    if (user && strchr(user, ':')) /* RFC 7617 §2: the user-id cannot contain ':' */
        return AZR_E_ARG;
    char hp[AZR_HOST_MAX + 10];
    host_port(hp, sizeof hp, host, port, true);
    size_t o = 0;
    bool ok = cap > 0 && add(out, cap, &o, "CONNECT ", hp, " HTTP/1.1\r\n") &&
              add(out, cap, &o, "Host: ", hp, "\r\n");
    if (ok && user_agent && *user_agent)
        ok = add(out, cap, &o, "User-Agent: ", user_agent, "\r\n");
    if (ok && user && *user) {
        char cred[2 * AZR_SOCKS_MAX_NAME + 2], b64[AZR_B64_ENC_LEN(sizeof cred) + 1];
        size_t n;
        int cn = snprintf(cred, sizeof cred, "%s:%s", user, password ? password : "");
        ok = cn > 0 && (size_t)cn < sizeof cred &&
             azr_b64_encode((const uint8_t *)cred, (size_t)cn, b64, sizeof b64, &n) == AZR_OK &&
             add(out, cap, &o, "Proxy-Authorization: Basic ", b64, "\r\n");
        azr_wipe(cred, sizeof cred);
        azr_wipe(b64, sizeof b64);
    }
    if (ok)
        ok = add(out, cap, &o, "Proxy-Connection: Keep-Alive\r\n", NULL, NULL);
    if (ok && extra_headers)
        ok = add(out, cap, &o, extra_headers, NULL, NULL);
    if (ok)
        ok = add(out, cap, &o, "\r\n", NULL, NULL);
    if (!ok) {
        if (cap)
            out[0] = '\0';
        return AZR_E_LIMIT;
    }
    *out_len = o;
    return AZR_OK;
}

void azr_http1_resp_init(azr_http1_resp *r, size_t max_head)
{
    memset(r, 0, sizeof *r);
    r->max_head = (max_head == 0 || max_head > AZR_HTTP_MAX_HEAD) ? AZR_HTTP_MAX_HEAD : max_head;
    r->content_length = -1;
    r->state = S_HEAD;
}

static azr_err fail(azr_http1_resp *r, azr_err e, const char *why)
{
    r->err = e;
    r->why = why;
    r->state = S_FAILED;
    return e;
}

/* Length of the line at p (up to end), without its CRLF/LF; *next after it. */
static size_t line_at(const char *p, const char *end, const char **next)
{
    const char *q = memchr(p, '\n', (size_t)(end - p));
    if (!q)
        q = end;
    *next = q < end ? q + 1 : end;
    size_t n = (size_t)(q - p);
    if (n && p[n - 1] == '\r')
        n--;
    return n;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static azr_err parse_status(azr_http1_resp *r, const char *p, size_t n)
{
    /* RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason-phrase] */
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
        return fail(r, AZR_E_PROTO, "not an HTTP/1.x status line");
    for (int i = 9; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return fail(r, AZR_E_PROTO, "status code is not three digits");
    if (n > 12 && p[12] != ' ')
        return fail(r, AZR_E_PROTO, "status code is not three digits");
    if (p[9] == '0')
        return fail(r, AZR_E_PROTO, "status code below 100");
    r->minor = p[7] - '0';
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    r->reason = n > 13 ? p + 13 : p + n;
    r->reason_len = n > 13 ? n - 13 : 0;
    for (size_t i = 0; i < r->reason_len; i++)
        if ((unsigned char)r->reason[i] < 0x20 && r->reason[i] != '\t')
            return fail(r, AZR_E_PROTO, "control character in the reason phrase");
    return AZR_OK;
}

static azr_err parse_head(azr_http1_resp *r)
{
    const char *p = r->buf, *end = r->buf + r->have, *next;
    size_t n = line_at(p, end, &next);
    azr_err e = parse_status(r, p, n);
    if (e != AZR_OK)
        return e;
    for (p = next; p < end; p = next) {
        char *line = (char *)p;
        n = line_at(p, end, &next);
        if (n == 0)
            break;             /* the empty line */
        if (is_ows(line[0])) { /* obs-fold: continue the previous value */
            if (r->nheaders == 0)
                return fail(r, AZR_E_PROTO, "continuation line before any header");
            azr_http1_hdr *h = &r->headers[r->nheaders - 1];
            for (size_t c = 0; c < n; c++)
                if (line[c] == '\0' || line[c] == '\r')
                    return fail(r, AZR_E_PROTO, "NUL or CR inside a header value");
            char *from = (char *)h->value + h->value_len;
            while (from < line)
                *from++ = ' ';
            const char *start = h->value, *stop = line + n;
            if (h->value_len == 0) /* the value begins on the folded line */
                while (start < stop && is_ows(*start))
                    start++;
            while (stop > start && is_ows(stop[-1]))
                stop--;
            h->value = start;
            size_t vl = (size_t)(stop - start);
            h->value_len = vl;
            continue;
        }
        size_t k = 0;
        while (k < n && tchar((unsigned char)line[k]))
            k++;
        if (k == 0 || k == n || line[k] != ':') /* RFC 9112 §5.1: no space before ':' */
            return fail(r, AZR_E_PROTO, "malformed header line");
        if (r->nheaders == AZR_HTTP_MAX_HEADERS)
            return fail(r, AZR_E_LIMIT, "more than 32 header lines");
        azr_http1_hdr *h = &r->headers[r->nheaders++];
        h->name = line;
        h->name_len = k;
        const char *v = line + k + 1, *ve = line + n;
        while (v < ve && is_ows(*v))
            v++;
        while (ve > v && is_ows(ve[-1]))
            ve--;
        for (const char *c = v; c < ve; c++)
            if (*c == '\0' || *c == '\r')
                return fail(r, AZR_E_PROTO, "NUL or CR inside a header value");
        h->value = v;
        h->value_len = (size_t)(ve - v);
    }
    for (size_t i = 0; i < r->nheaders; i++) {
        const azr_http1_hdr *h = &r->headers[i];
        if (azr_text_ieq(h->name, h->name_len, "Content-Length")) {
            int64_t v = 0;
            if (h->value_len == 0 || h->value_len > 15)
                return fail(r, AZR_E_PROTO, "bad Content-Length");
            for (size_t j = 0; j < h->value_len; j++) {
                if (h->value[j] < '0' || h->value[j] > '9')
                    return fail(r, AZR_E_PROTO, "bad Content-Length");
                v = v * 10 + (h->value[j] - '0');
            }
            if (r->content_length >= 0 && r->content_length != v)
                return fail(r, AZR_E_PROTO, "conflicting Content-Length headers");
            r->content_length = v;
        } else if (azr_text_ieq(h->name, h->name_len, "Transfer-Encoding")) {
            r->chunked = true; /* any coding: length unknown, read to the slice's end */
        }
    }
    if (r->chunked)
        r->content_length = -1;
    if (r->status < 200 || r->status == 204 || r->status == 304)
        r->content_length = 0;
    return AZR_OK;
}

azr_err azr_http1_resp_feed(azr_http1_resp *r, const uint8_t *in, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (r->state == S_FAILED)
        return r->err;
    if (r->state == S_DONE)
        return AZR_OK;
    for (size_t i = 0; i < len; i++) {
        if (r->have == r->max_head)
            return fail(r, AZR_E_LIMIT, "response head larger than the limit");
        char c = (char)in[i];
        r->buf[r->have++] = c;
        *consumed = i + 1;
        if (c != '\n')
            continue;
        size_t ll = r->have - 1 - r->line_start;
        if (ll && r->buf[r->have - 2] == '\r')
            ll--;
        bool first = r->line_start == 0;
        r->line_start = r->have;
        if (ll != 0)
            continue;
        if (first)
            return fail(r, AZR_E_PROTO, "empty status line");
        azr_err e = parse_head(r);
        if (e != AZR_OK)
            return e;
        r->state = S_DONE;
        return AZR_OK;
    }
    return AZR_AGAIN;
}

azr_err azr_http1_resp_body(azr_http1_resp *r, const uint8_t *in, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (r->state != S_DONE)
        return r->state == S_FAILED ? r->err : AZR_E_STATE;
    size_t take = len;
    if (r->content_length >= 0) {
        uint64_t left = (uint64_t)r->content_length - r->body_seen;
        if (take > left)
            take = (size_t)left;
    }
    size_t room = sizeof r->body - r->body_len;
    size_t keep = take < room ? take : room;
    if (keep)
        memcpy(r->body + r->body_len, in, keep);
    r->body_len += keep;
    r->body_seen += take;
    *consumed = take;
    if (r->body_len == sizeof r->body)
        return AZR_OK;
    if (r->content_length >= 0 && r->body_seen == (uint64_t)r->content_length)
        return AZR_OK;
    return AZR_AGAIN;
}

azr_err azr_http1_resp_drain(azr_http1_resp *r, const uint8_t *in, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (r->state != S_DONE)
        return r->state == S_FAILED ? r->err : AZR_E_STATE;
    if (r->content_length < 0)
        return AZR_E_STATE; /* only the close ends it */
    uint64_t left = (uint64_t)r->content_length - r->body_seen;
    size_t take = (uint64_t)len > left ? (size_t)left : len;
    size_t room = sizeof r->body - r->body_len;
    size_t keep = take < room ? take : room;
    if (keep)
        memcpy(r->body + r->body_len, in, keep);
    r->body_len += keep;
    r->body_seen += take;
    *consumed = take;
    return r->body_seen == (uint64_t)r->content_length ? AZR_OK : AZR_AGAIN;
}

const azr_http1_hdr *azr_http1_resp_header(const azr_http1_resp *r, const char *name)
{
    return azr_http1_resp_header_next(r, name, NULL);
}

const azr_http1_hdr *azr_http1_resp_header_next(const azr_http1_resp *r, const char *name,
                                                const azr_http1_hdr *after)
{
    size_t i = 0;
    if (after) {
        if (after < r->headers || after >= r->headers + r->nheaders)
            return NULL;
        i = (size_t)(after - r->headers) + 1;
    }
    for (; i < r->nheaders; i++)
        if (azr_text_ieq(r->headers[i].name, r->headers[i].name_len, name))
            return &r->headers[i];
    return NULL;
}

/* True when a comma-separated header value lists token (case-insensitive). */
static bool has_token(const char *v, size_t len, const char *token)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (is_ows(v[i]) || v[i] == ','))
            i++;
        size_t s = i;
        while (i < len && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && is_ows(v[e - 1]))
            e--;
        if (e > s && azr_text_ieq(v + s, e - s, token))
            return true;
    }
    return false;
}

bool azr_http1_resp_persists(const azr_http1_resp *r)
{
    if (r->state != S_DONE || r->chunked || r->content_length < 0)
        return false;
    bool close = false, keep = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        const azr_http1_hdr *h = &r->headers[i];
        if (!azr_text_ieq(h->name, h->name_len, "Connection") &&
            !azr_text_ieq(h->name, h->name_len, "Proxy-Connection"))
            continue;
        close = close || has_token(h->value, h->value_len, "close");
        keep = keep || has_token(h->value, h->value_len, "keep-alive");
    }
    /* RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive" */
    return !close && (r->minor >= 1 || keep);
}

azr_err azr_http1_check_upgrade(const azr_http1_resp *r, const char *key, const char **why)
{
    *why = NULL;
    if (r->state != S_DONE)
        return AZR_E_STATE;
    if (r->status != 101) {
        *why = "status is not 101";
        return AZR_E_REFUSED;
    }
    bool upgrade = false, connection = false;
    const azr_http1_hdr *accept = NULL;
    char want[29];
    azr_http1_ws_accept(key, want);
    for (size_t i = 0; i < r->nheaders; i++) {
        const azr_http1_hdr *h = &r->headers[i];
        if (azr_text_ieq(h->name, h->name_len, "Upgrade")) {
            if (!azr_text_ieq(h->value, h->value_len, "websocket")) {
                *why = "Upgrade header is not 'websocket'";
                return AZR_E_PROTO;
            }
            upgrade = true;
        } else if (azr_text_ieq(h->name, h->name_len, "Connection")) {
            connection = connection || has_token(h->value, h->value_len, "upgrade");
        } else if (azr_text_ieq(h->name, h->name_len, "Sec-WebSocket-Accept")) {
            if (accept) {
                *why = "more than one Sec-WebSocket-Accept header";
                return AZR_E_PROTO;
            }
            accept = h;
        } else if (azr_text_ieq(h->name, h->name_len, "Sec-WebSocket-Extensions") && h->value_len) {
            *why = "server chose an extension we did not offer";
            return AZR_E_PROTO;
        } else if (azr_text_ieq(h->name, h->name_len, "Sec-WebSocket-Protocol") && h->value_len) {
            *why = "server chose a subprotocol we did not offer";
            return AZR_E_PROTO;
        }
    }
    if (!upgrade) {
        *why = "no 'Upgrade: websocket' header in the 101 response";
        return AZR_E_PROTO;
    }
    if (!connection) {
        *why = "no 'Connection: Upgrade' header in the 101 response";
        return AZR_E_PROTO;
    }
    if (!accept) {
        *why = "no Sec-WebSocket-Accept header in the 101 response";
        return AZR_E_PROTO;
    }
    if (accept->value_len != 28 || memcmp(accept->value, want, 28) != 0) {
        *why = "Sec-WebSocket-Accept does not match our key";
        return AZR_E_PROTO;
    }
    return AZR_OK;
}

azr_err azr_http1_check_connect(const azr_http1_resp *r)
{
    if (r->state != S_DONE)
        return AZR_E_STATE;
    if (r->status >= 200 && r->status <= 299)
        return AZR_OK;
    /* 407 is the standard answer; tinyproxy 1.11 answers a CONNECT with bad or
     * missing Basic credentials with 401 */
    return (r->status == 407 || r->status == 401) ? AZR_E_AUTH : AZR_E_REFUSED;
}
