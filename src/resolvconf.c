/*
 * IMPLEMENTATION NOTES
 * Both files are read in place, one line at a time, one token at a time:
 * no line buffer, so no line is too long; only a token that must become a
 * C string (an address, a number) is copied into a small array, and one
 * longer than that array is simply not an address or a number.
 *
 * resolv.conf follows glibc's res_init.c: a keyword counts only at the very
 * start of a line and followed by a space or a tab; "domain" and "search"
 * each replace the list, so the last one wins; options are clamped to
 * glibc's ceilings rather than refused (ndots:99 is ndots:15), and unknown
 * options are ignored. timeout:0 and attempts:0 become 1: glibc's loop
 * would send nothing at all with them, which no one means.
 */
#include "resolvconf.h"
#include "text.h"
#include <arpa/inet.h>
#include <netinet/in.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The next token of [*p, end), which stops at whitespace; false at the end. */
static bool token(const char **p, const char *end, const char **tok, size_t *n)
{
    const char *s = *p;
    while (s < end && is_space(*s))
        s++;
    const char *t = s;
    while (t < end && !is_space(*t))
        t++;
    *p = t;
    *tok = s;
    *n = (size_t)(t - s);
    return *n > 0;
}

/* The next line of text[0..len) from *pos, without its '\n'. */
static bool next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
    if (*pos >= len)
        return false;
    const char *s = text + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    *n = nl ? (size_t)(nl - s) : len - *pos;
    *line = s;
    *pos += *n + 1;
    return true;
}

/* A decimal number of at most 4 digits, nothing else. */
static bool small_number(const char *s, size_t n, unsigned *v)
{
    if (n == 0 || n > 4)
        return false;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return true;
}

bool azr_rc_ip_literal(const char *s, size_t n, azr_rc_scope_fn scope, uint16_t port,
                       azr_sockaddr *out)
{
    char a[INET6_ADDRSTRLEN + 1 + 16]; /* the address, '%', an interface name (IFNAMSIZ) */
    if (n == 0 || n >= sizeof a || memchr(s, '\0', n))
        return false;
    memcpy(a, s, n);
    a[n] = '\0';
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
    if (inet_pton(AF_INET, a, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out->len = sizeof *v4;
        return true;
    }
    char *pct = strchr(a, '%');
    unsigned idx = 0;
    if (pct) {
        *pct++ = '\0';
        size_t pl = strlen(pct);
        if (!small_number(pct, pl, &idx) && (!scope || pl == 0 || (idx = scope(pct)) == 0))
            return false;
    }
    if (inet_pton(AF_INET6, a, &v6->sin6_addr) != 1)
        return false;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    v6->sin6_scope_id = idx;
    out->len = sizeof *v6;
    return true;
}

static void note(azr_resolvconf *c, size_t lineno, const char *what, const char *tok, size_t n)
{
    c->ignored++;
    if (c->note[0])
        return;
    char esc[AZR_TEXT_ESCAPED_MAX(64)];
    azr_text_escape(tok, n, 64, esc, sizeof esc);
    int k = snprintf(c->note, sizeof c->note, "line %zu: %s '%s'", lineno, what, esc);
    if (k < 0)
        c->note[0] = '\0';
}

void azr_resolvconf_defaults(azr_resolvconf *c)
{
    memset(c, 0, sizeof *c);
    c->ndots = AZR_RC_NDOTS_DEFAULT;
    c->timeout = AZR_RC_TIMEOUT_DEFAULT;
    c->attempts = AZR_RC_ATTEMPTS_DEFAULT;
}

/* "keyword" at the start of the line, then a space or a tab (glibc's MATCH). */
static bool keyword(const char *line, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    return n > k && memcmp(line, kw, k) == 0 && (line[k] == ' ' || line[k] == '\t');
}

static void add_search(azr_resolvconf *c, size_t lineno, const char *tok, size_t n)
{
    char name[AZR_DNS_NAME_MAX + 2];
    uint8_t wire[AZR_DNS_WIRE_MAX];
    size_t wl;
    const char *why;
    if (n == 1 && tok[0] == '.')
        return; /* the root: the name as given is tried anyway */
    bool ok = n < sizeof name;
    if (ok) {
        memcpy(name, tok, n);
        name[n] = '\0';
        ok = azr_dns_name_wire(name, wire, &wl, &why) == AZR_OK;
    }
    if (!ok) {
        note(c, lineno, "not a domain name:", tok, n);
        return;
    }
    if (c->nsearch == AZR_RC_MAX_SEARCH) {
        note(c, lineno, "more than 6 search domains, from", tok, n);
        return;
    }
    if (name[n - 1] == '.')
        name[n - 1] = '\0';
    memcpy(c->search[c->nsearch++], name, strlen(name) + 1);
}

static void option(azr_resolvconf *c, size_t lineno, const char *tok, size_t n)
{
    const struct {
        const char *name;
        unsigned min, max;
        unsigned *dst;
    } num[] = {
        {"ndots:", 0, AZR_RC_NDOTS_MAX, &c->ndots},
        {"timeout:", 1, AZR_RC_TIMEOUT_MAX, &c->timeout},
        {"attempts:", 1, AZR_RC_ATTEMPTS_MAX, &c->attempts},
    };
    for (size_t i = 0; i < sizeof num / sizeof num[0]; i++) {
        size_t k = strlen(num[i].name);
        if (n < k || memcmp(tok, num[i].name, k) != 0)
            continue;
        unsigned v = 0;
        for (size_t d = k; d < n; d++) {
            if (tok[d] < '0' || tok[d] > '9') {
                note(c, lineno, "not a number:", tok, n);
                return;
            }
            if (v < 10000) /* saturates: glibc clamps big values, so do we */
                v = v * 10 + (unsigned)(tok[d] - '0');
        }
        if (n == k) {
            note(c, lineno, "not a number:", tok, n);
            return;
        }
        *num[i].dst = v < num[i].min ? num[i].min : v > num[i].max ? num[i].max : v;
        return;
    }
    if (n == 6 && memcmp(tok, "rotate", 6) == 0)
        c->rotate = true;
    /* the other glibc options (edns0, single-request, use-vc, trust-ad, ...) change
     * nothing here; anything else glibc ignores too */
}

void azr_resolvconf_parse(const char *text, size_t len, azr_rc_scope_fn scope, azr_resolvconf *c)
{
    azr_resolvconf_defaults(c);
    const char *line, *tok;
    size_t n, tl, pos = 0, lineno = 0;
    while (next_line(text, len, &pos, &line, &n)) {
        const char *p, *end = line + n;
        lineno++;
        if (n == 0 || line[0] == ';' || line[0] == '#')
            continue;
        if (keyword(line, n, "nameserver")) {
            p = line + 10;
            if (!token(&p, end, &tok, &tl)) {
                note(c, lineno, "nameserver without an address", "", 0);
            } else if (c->nns == AZR_RC_MAX_NS) {
                note(c, lineno, "more than 3 nameservers, from", tok, tl);
            } else if (!azr_rc_ip_literal(tok, tl, scope, 53, &c->ns[c->nns])) {
                note(c, lineno, "not an IP address:", tok, tl);
            } else {
                c->nns++;
            }
        } else if (keyword(line, n, "domain") || keyword(line, n, "search")) {
            bool domain = line[0] == 'd';
            p = line + 6;
            c->nsearch = 0;
            c->search_set = true;
            while (token(&p, end, &tok, &tl)) {
                add_search(c, lineno, tok, tl);
                if (domain)
                    break; /* "domain" names one */
            }
        } else if (keyword(line, n, "options")) {
            p = line + 7;
            while (token(&p, end, &tok, &tl))
                option(c, lineno, tok, tl);
        } else if (!keyword(line, n, "sortlist")) {
            p = line;
            if (token(&p, end, &tok, &tl))
                note(c, lineno, "unknown keyword", tok, tl);
        }
    }
}

/* One field equals name (both without a trailing dot), ASCII case ignored. */
static bool same_name(const char *f, size_t fl, const char *name, size_t nl)
{
    if (fl > 1 && f[fl - 1] == '.')
        fl--;
    if (fl != nl)
        return false;
    for (size_t i = 0; i < nl; i++)
        if (azr_text_lower(f[i]) != azr_text_lower(name[i]))
            return false;
    return true;
}

/* Append an address of alen bytes to the rows of base unless it is there. */
static void add_addr(uint8_t *base, size_t *n, const void *a, size_t alen)
{
    for (size_t i = 0; i < *n; i++)
        if (memcmp(base + i * alen, a, alen) == 0)
            return;
    if (*n < AZR_DNS_MAX_ADDRS)
        memcpy(base + (*n)++ * alen, a, alen);
}

bool azr_hosts_lookup(const char *text, size_t len, const char *name, bool want4, bool want6,
                      azr_hosts_result *out)
{
    memset(out, 0, sizeof *out);
    size_t nl = strlen(name), pos = 0, lineno = 0, n, tl;
    if (nl > 1 && name[nl - 1] == '.')
        nl--;
    if (nl == 0)
        return false;
    const char *line, *tok;
    while (next_line(text, len, &pos, &line, &n)) {
        lineno++;
        const char *hash = memchr(line, '#', n);
        const char *p = line, *end = hash ? hash : line + n;
        const char *at;
        size_t al;
        azr_sockaddr sa;
        if (!token(&p, end, &at, &al))
            continue;
        bool match = false;
        while (!match && token(&p, end, &tok, &tl))
            match = same_name(tok, tl, name, nl);
        if (!match || !azr_rc_ip_literal(at, al, NULL, 0, &sa) || memchr(at, '%', al))
            continue;
        if (out->line == 0)
            out->line = lineno;
        if (sa.ss.ss_family == AF_INET && want4)
            add_addr(out->a4[0], &out->n4, &((const struct sockaddr_in *)&sa.ss)->sin_addr, 4);
        else if (sa.ss.ss_family == AF_INET6 && want6)
            add_addr(out->a6[0], &out->n6, &((const struct sockaddr_in6 *)&sa.ss)->sin6_addr, 16);
    }
    return out->n4 + out->n6 > 0;
}
