/*
 * IMPLEMENTATION NOTES
 * Two states. S_CHAL expects an auth-scheme (after skipping empty list
 * elements); once the scheme is read it decides between token68 and
 * parameters: the rest of the element is token68 only when it is made of
 * token68 characters, optional trailing '=', then OWS and the end or a comma
 * ("realm=x" reads as the token68 "realm=" followed by 'x', so it is a
 * parameter). After a token68 the next element must be a new challenge
 * (S_AFTER68); after a scheme without one, elements are parameters as long as
 * they start with "token BWS =" (S_PARAMS). Nothing is copied: quoted values
 * are checked here and unescaped on demand by azr_authchal_unquote().
 */
#include "authchal.h"

enum { S_CHAL, S_PARAMS, S_AFTER68, S_DONE };

/* RFC 9110 §5.6.2 tchar. */
static bool tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 §11.2 token68 characters (before the trailing '='). */
static bool t68char(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

static bool ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static azr_err fail(azr_authchal *l, size_t at, const char *why)
{
    l->err = AZR_E_PROTO;
    l->why = why;
    l->err_at = at;
    l->state = S_DONE;
    return AZR_E_PROTO;
}

void azr_authchal_init(azr_authchal *l, const char *s, size_t len)
{
    memset(l, 0, sizeof *l);
    l->s = s;
    l->len = len;
    l->state = S_CHAL;
}

static void skip_ows(azr_authchal *l)
{
    while (l->pos < l->len && ows((unsigned char)l->s[l->pos]))
        l->pos++;
}

static size_t token_end(const azr_authchal *l, size_t i)
{
    while (i < l->len && tchar((unsigned char)l->s[i]))
        i++;
    return i;
}

/* After an element: OWS, then the end or a comma (left for the next call). */
static bool element_ends(azr_authchal *l)
{
    skip_ows(l);
    return l->pos == l->len || l->s[l->pos] == ',';
}

static azr_err scheme(azr_authchal *l, azr_authchal_ev *ev)
{
    size_t start = l->pos, end = token_end(l, start);
    if (end == start)
        return fail(l, start, "expected an auth-scheme");
    memset(ev, 0, sizeof *ev);
    ev->kind = AZR_AUTHCHAL_SCHEME;
    ev->name = l->s + start;
    ev->name_len = end - start;
    l->pos = end;
    l->state = S_PARAMS;
    if (l->pos == l->len || l->s[l->pos] == ',')
        return AZR_OK;
    if (l->s[l->pos] != ' ')
        return fail(l, l->pos, "auth-scheme not followed by a space");
    while (l->pos < l->len && l->s[l->pos] == ' ')
        l->pos++;
    /* token68, when the whole rest of the element is one */
    size_t i = l->pos;
    while (i < l->len && t68char((unsigned char)l->s[i]))
        i++;
    if (i == l->pos)
        return AZR_OK; /* a parameter, a comma or the end follows */
    while (i < l->len && l->s[i] == '=')
        i++;
    size_t t68_end = i;
    while (i < l->len && ows((unsigned char)l->s[i]))
        i++;
    if (i == l->len || l->s[i] == ',') {
        ev->value = l->s + l->pos;
        ev->value_len = t68_end - l->pos;
        l->pos = i;
        l->state = S_AFTER68;
    }
    return AZR_OK;
}

/* RFC 9110 §5.6.4 quoted-string, starting at the DQUOTE. */
static azr_err quoted(azr_authchal *l, azr_authchal_ev *ev)
{
    size_t i = l->pos + 1;
    for (; i < l->len; i++) {
        unsigned char c = (unsigned char)l->s[i];
        if (c == '"')
            break;
        if (c == '\\') {
            if (++i == l->len)
                return fail(l, i - 1, "unterminated quoted-string");
            c = (unsigned char)l->s[i];
            if (c != '\t' && (c < 0x20 || c == 0x7f))
                return fail(l, i, "control character after a backslash in a quoted-string");
        } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
            return fail(l, i, "control character in a quoted-string");
        }
    }
    if (i == l->len)
        return fail(l, l->pos, "unterminated quoted-string");
    ev->value = l->s + l->pos + 1;
    ev->value_len = i - l->pos - 1;
    ev->quoted = true;
    l->pos = i + 1;
    return AZR_OK;
}

azr_err azr_authchal_next(azr_authchal *l, azr_authchal_ev *ev)
{
    if (l->err != AZR_OK)
        return l->err;
    for (;;) {
        if (l->state == S_DONE)
            return AZR_AGAIN;
        /* skip empty list elements and the separator before this element */
        while (l->pos < l->len && (ows((unsigned char)l->s[l->pos]) || l->s[l->pos] == ','))
            l->pos++;
        if (l->pos == l->len) {
            l->state = S_DONE;
            return AZR_AGAIN;
        }
        if (l->s[l->pos] == '\0')
            return fail(l, l->pos, "NUL byte");
        if (l->state == S_CHAL || l->state == S_AFTER68) {
            azr_err e = scheme(l, ev);
            if (e == AZR_OK && l->state == S_PARAMS && !element_ends(l) &&
                !tchar((unsigned char)l->s[l->pos]))
                return fail(l, l->pos, "unexpected character after the auth-scheme");
            return e;
        }
        /* S_PARAMS: a parameter ("token BWS =") or the next challenge */
        size_t start = l->pos, end = token_end(l, start);
        if (end == start)
            return fail(l, start, "expected an auth-param or an auth-scheme");
        size_t i = end;
        while (i < l->len && ows((unsigned char)l->s[i]))
            i++;
        if (i == l->len || l->s[i] != '=') {
            l->state = S_CHAL;
            continue;
        }
        memset(ev, 0, sizeof *ev);
        ev->kind = AZR_AUTHCHAL_PARAM;
        ev->name = l->s + start;
        ev->name_len = end - start;
        l->pos = i + 1;
        skip_ows(l);
        if (l->pos < l->len && l->s[l->pos] == '"') {
            if (quoted(l, ev) != AZR_OK)
                return l->err;
        } else {
            size_t v = token_end(l, l->pos);
            if (v == l->pos)
                return fail(l, l->pos, "auth-param without a token or quoted-string value");
            ev->value = l->s + l->pos;
            ev->value_len = v - l->pos;
            l->pos = v;
        }
        if (!element_ends(l))
            return fail(l, l->pos, "unexpected character after an auth-param");
        return AZR_OK;
    }
}

azr_err azr_authchal_unquote(const azr_authchal_ev *ev, char *out, size_t cap, size_t *out_len)
{
    size_t o = 0;
    *out_len = 0;
    if (cap == 0)
        return AZR_E_LIMIT;
    for (size_t i = 0; i < ev->value_len; i++) {
        char c = ev->value[i];
        if (ev->quoted && c == '\\' && i + 1 < ev->value_len)
            c = ev->value[++i];
        if (o >= cap - 1) {
            out[0] = '\0';
            return AZR_E_LIMIT;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    *out_len = o;
    return AZR_OK;
}
