/*
 * IMPLEMENTATION NOTES
 * The relay host is classified once (an address, or a name without its
 * trailing dot); each entry then decides by its own shape: '*', an address
 * or address/prefix (compared as bytes after inet_pton, so "::1" and
 * "0:0::1" are one address), or a name. A name entry never matches an
 * address host and an address entry never matches a name, as in curl.
 * Nothing is resolved: the route is computed when listening starts, where a
 * lookup would block the loop. The two syntaxes differ only in their
 * separators and in what a bare name and a leading '.' or '*.' mean.
 */
#include "bypass.h"
#include "text.h"

#include <arpa/inet.h>
#include <sys/socket.h>

static bool same_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (azr_text_lower(a[i]) != azr_text_lower(b[i]))
            return false;
    return true;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* ------------------------------------------------------------- addresses */

typedef struct addr {
    int family; /* 4, 6; 0: not an address */
    uint8_t b[16];
} addr;

static bool parse_addr(const char *s, size_t len, addr *a)
{
    char buf[64];
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s++;
        len -= 2;
    }
    a->family = 0;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, a->b) == 1)
        a->family = 4;
    else if (inet_pton(AF_INET6, buf, a->b) == 1)
        a->family = 6;
    return a->family != 0;
}

static bool prefix_equal(const addr *x, const addr *y, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (x->family != y->family || memcmp(x->b, y->b, bytes) != 0)
        return false;
    return rest == 0 || ((x->b[bytes] ^ y->b[bytes]) & (uint8_t)(0xFFu << (8 - rest))) == 0;
}

typedef enum { IP_NOT, IP_OK, IP_BAD_PREFIX } ip_entry;

/* An address entry, "addr" or "addr/bits" (IPv6 with or without brackets). */
static ip_entry parse_ip_entry(const char *e, size_t len, addr *net, unsigned *bits)
{
    const char *slash = memchr(e, '/', len);
    size_t alen = slash ? (size_t)(slash - e) : len;
    if (!parse_addr(e, alen, net))
        return IP_NOT;
    unsigned max = net->family == 4 ? 32u : 128u, v = 0;
    *bits = max;
    if (!slash)
        return IP_OK;
    if (alen + 1 == len || len - alen - 1 > 3)
        return IP_BAD_PREFIX;
    for (size_t i = alen + 1; i < len; i++) {
        if (e[i] < '0' || e[i] > '9')
            return IP_BAD_PREFIX;
        v = v * 10u + (unsigned)(e[i] - '0');
    }
    if (v > max)
        return IP_BAD_PREFIX;
    *bits = v;
    return IP_OK;
}

/* ------------------------------------------------------------- patterns */

/* The relay host, classified once. */
typedef struct target {
    addr ip;
    const char *name; /* names only: without a trailing dot */
    size_t len;
} target;

static void target_of(const char *host, target *t)
{
    size_t n = strlen(host);
    t->name = host;
    t->len = n;
    if (parse_addr(host, n, &t->ip))
        return;
    if (n && host[n - 1] == '.')
        t->len--;
}

/* name ends in "." + dom */
static bool below(const target *t, const char *dom, size_t dl)
{
    return dl > 0 && t->len > dl && t->name[t->len - dl - 1] == '.' &&
           same_ci(t->name + t->len - dl, dom, dl);
}

static bool exactly(const target *t, const char *dom, size_t dl)
{
    return dl > 0 && t->len == dl && same_ci(t->name, dom, dl);
}

static bool entry_matches(azr_bypass_syntax syn, const char *e, size_t len, const target *t)
{
    addr net;
    unsigned bits;
    if (syn == AZR_BYPASS_CLASS && len == 1 && e[0] == '*')
        return true;
    ip_entry ipe = parse_ip_entry(e, len, &net, &bits);
    if (ipe != IP_NOT)
        return ipe == IP_OK && t->ip.family && prefix_equal(&t->ip, &net, bits);
    if (t->ip.family)
        return false; /* a name never matches an address */
    if (len && e[len - 1] == '.')
        len--;
    bool sub_only = false;
    if (len >= 2 && e[0] == '*' && e[1] == '.') {
        e += 2;
        len -= 2;
        sub_only = true;
    } else if (len >= 1 && e[0] == '.') {
        e++;
        len--;
        sub_only = true;
    }
    if (syn == AZR_BYPASS_CLASS)
        return sub_only ? below(t, e, len) : exactly(t, e, len);
    return exactly(t, e, len) || below(t, e, len); /* curl: with or without the dot */
}

/*
 * The next entry of a list, false at its end. ProxyExceptionsList: entries
 * between ';', blanks around them trimmed. no_proxy, as curl reads it
 * (proxy_check_noproxy): blanks, an entry, blanks, then a ',' (any number)
 * or the end of the list: whatever follows a blank that is not followed by
 * a comma is not read.
 */
static bool next_entry(azr_bypass_syntax syn, const char *list, size_t len, size_t *pos,
                       const char **e, size_t *elen)
{
    size_t i = *pos;
    if (syn == AZR_BYPASS_CLASS) {
        while (i < len && (list[i] == ';' || blank(list[i])))
            i++;
        size_t start = i;
        while (i < len && list[i] != ';')
            i++;
        size_t end = i;
        while (end > start && blank(list[end - 1]))
            end--;
        *pos = i;
        *e = list + start;
        *elen = end - start;
        return end > start;
    }
    for (;;) {
        while (i < len && blank(list[i]))
            i++;
        size_t start = i;
        while (i < len && !blank(list[i]) && list[i] != ',')
            i++;
        *e = list + start;
        *elen = i - start;
        while (i < len && blank(list[i]))
            i++;
        if (i < len && list[i] == ',') {
            while (i < len && list[i] == ',')
                i++;
        } else {
            i = len; /* the end, or a blank without a comma: curl reads no further */
        }
        *pos = i;
        if (*elen)
            return true;
        if (i == len)
            return false;
    }
}

bool azr_bypass_match(azr_bypass_syntax syntax, const char *list, size_t len, const char *host,
                      char *entry, size_t entry_cap)
{
    target t;
    const char *e;
    size_t elen, pos = 0;
    if (!host || !*host)
        return false;
    target_of(host, &t);
    if (syntax == AZR_BYPASS_CURL) {
        const char *w = list;
        size_t wl = len;
        azr_text_trim(&w, &wl);
        if (wl == 1 && w[0] == '*') { /* curl: "*" alone means every host */
            if (entry && entry_cap)
                snprintf(entry, entry_cap, "*");
            return true;
        }
    }
    while (next_entry(syntax, list, len, &pos, &e, &elen))
        if (entry_matches(syntax, e, elen, &t)) {
            if (entry && entry_cap)
                azr_text_escape(e, elen, 64, entry, entry_cap);
            return true;
        }
    return false;
}

azr_err azr_bypass_check(const char *list, size_t len, char *err, size_t errcap)
{
    const char *e;
    size_t elen, pos = 0;
    while (next_entry(AZR_BYPASS_CLASS, list, len, &pos, &e, &elen)) {
        char shown[AZR_TEXT_ESCAPED_MAX(48)];
        const char *why = NULL;
        addr net;
        unsigned bits;
        azr_text_escape(e, elen, 48, shown, sizeof shown);
        if (elen == 1 && e[0] == '*')
            continue;
        ip_entry ipe = parse_ip_entry(e, elen, &net, &bits);
        if (ipe == IP_BAD_PREFIX)
            why = "the prefix after '/' must be 0 to 32 (IPv4) or 0 to 128 (IPv6)";
        if (ipe == IP_NOT) {
            size_t i = 0;
            if (elen >= 2 && e[0] == '*' && e[1] == '.')
                i = 2;
            else if (elen >= 1 && e[0] == '.')
                i = 1;
            if (i == elen)
                why = "no name";
            for (; !why && i < elen; i++) {
                unsigned char c = (unsigned char)e[i];
                if (c == ':')
                    why = "a port, or an IPv6 address that does not parse (the relay has one "
                          "port: list the host alone)";
                else if (c == '/')
                    why = "'/' belongs after an IPv4 or IPv6 address (CIDR)";
                else if (c == '*')
                    why = "'*' stands alone or as '*.' before a domain";
                else if (blank((char)c))
                    why = "a blank inside the entry (separate entries with ';')";
                else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
                    why = "not a host name character (letters, digits, '-', '_', '.')";
            }
        }
        if (why) {
            snprintf(err, errcap, "ProxyExceptionsList: entry '%s': %s", shown, why);
            return AZR_E_ARG;
        }
    }
    return AZR_OK;
}
