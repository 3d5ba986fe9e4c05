/*
 * IMPLEMENTATION NOTES
 * The answer is read in passes over the same bytes instead of being copied
 * into a record table: one pass checks that every record of the answer and
 * authority sections is whole (so later passes cannot fail on bounds), then
 * the CNAME chain is followed by scanning the answer section once per link,
 * then the addresses of the last name are collected, then authority is
 * searched for an SOA. A pass costs one name read per record; a chain has at
 * most AZR_DNS_MAX_CNAME links, so the work stays linear in the message.
 *
 * Compression (RFC 1035 §4.1.4): a pointer must point strictly before the
 * pointer itself, as every real server writes them. A run of pointers then
 * moves backwards only, and every label read adds to a name that may not
 * pass 255 bytes, so a crafted cycle (a label whose bytes hide the pointer
 * that leads back to it) ends at that bound: a read costs O(len + 255).
 * Names are compared in wire form, ASCII letters folded (RFC 4343 §3).
 * The additional section is never read: a stub has no use for it, and
 * refusing an answer over bytes it would ignore helps nobody.
 */
#include "dnsmsg.h"

#define HDR 12

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool host_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static uint8_t fold(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

azr_err azr_dns_name_wire(const char *name, uint8_t wire[AZR_DNS_WIRE_MAX], size_t *wire_len,
                          const char **why)
{
    *wire_len = 0;
    *why = NULL;
    size_t n = name ? strlen(name) : 0;
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0) {
        *why = "the name is empty";
        return AZR_E_ARG;
    }
    if (n > AZR_DNS_NAME_MAX) {
        *why = "the name is longer than 253 bytes";
        return AZR_E_ARG;
    }
    size_t w = 0;
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && name[j] != '.')
            j++;
        if (j == i) {
            *why = "the name has an empty label (a leading dot or two dots in a row)";
            return AZR_E_ARG;
        }
        if (j - i > AZR_DNS_LABEL_MAX) {
            *why = "a label is longer than 63 bytes";
            return AZR_E_ARG;
        }
        if (name[i] == '-') {
            *why = "a label starts with '-'";
            return AZR_E_ARG;
        }
        wire[w++] = (uint8_t)(j - i);
        for (size_t k = i; k < j; k++) {
            if (!host_char((uint8_t)name[k])) {
                *why = "a host name holds only letters, digits, '-' and '_' between its dots";
                return AZR_E_ARG;
            }
            wire[w++] = (uint8_t)name[k];
        }
        i = j + 1;
    }
    wire[w++] = 0; /* n <= 253 gives w <= 255 */
    *wire_len = w;
    return AZR_OK;
}

azr_err azr_dns_query_encode(uint8_t *out, size_t cap, size_t *len, uint16_t id, const char *name,
                             uint16_t qtype, const char **why)
{
    uint8_t wire[AZR_DNS_WIRE_MAX];
    size_t wl;
    *len = 0;
    azr_err e = azr_dns_name_wire(name, wire, &wl, why);
    if (e != AZR_OK)
        return e;
    if (qtype != AZR_DNS_TYPE_A && qtype != AZR_DNS_TYPE_AAAA) {
        *why = "only A and AAAA queries are written";
        return AZR_E_ARG;
    }
    if (cap < HDR + 4 || wl > cap - HDR - 4) {
        *why = "no room for the query";
        return AZR_E_LIMIT;
    }
    /* RFC 1035 §4.1.1: ID, flags (RD only), QDCOUNT 1, the other counts 0 */
    uint8_t hdr[HDR] = {(uint8_t)(id >> 8), (uint8_t)id, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(out, hdr, HDR);
    memcpy(out + HDR, wire, wl);
    uint8_t *t = out + HDR + wl;
    t[0] = (uint8_t)(qtype >> 8);
    t[1] = (uint8_t)qtype;
    t[2] = 0;
    t[3] = AZR_DNS_CLASS_IN;
    *len = HDR + wl + 4;
    return AZR_OK;
}

/*
 * Read the name at msg[*off]; *off moves past it (past the first pointer
 * when compressed). The uncompressed wire form goes to out (may be NULL).
 */
static const char *read_name(const uint8_t *msg, size_t len, size_t *off, uint8_t *out,
                             size_t *out_len)
{
    size_t p = *off, w = 0, end = 0;
    bool jumped = false;
    for (;;) {
        if (p >= len)
            return "a name runs past the end of the message";
        uint8_t c = msg[p];
        if ((c & 0xC0) == 0xC0) {
            if (p + 1 >= len)
                return "a compression pointer is cut by the end of the message";
            size_t to = (size_t)get16(msg + p) & 0x3FFF;
            if (to >= p) /* also covers a pointer to itself and any way to loop */
                return "a compression pointer does not point backwards";
            if (!jumped)
                end = p + 2;
            jumped = true;
            p = to;
            continue;
        }
        if (c & 0xC0)
            return "a label has a reserved type (0x40 or 0x80)";
        if (c > len - p - 1)
            return "a label runs past the end of the message";
        if (c + 1u > AZR_DNS_WIRE_MAX - w)
            return "a name is longer than 255 bytes";
        if (out)
            memcpy(out + w, msg + p, c + 1u);
        w += c + 1u;
        p += c + 1u;
        if (c == 0)
            break;
    }
    *off = jumped ? end : p;
    if (out_len)
        *out_len = w;
    return NULL;
}

static bool name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (fold(a[i]) != fold(b[i]))
            return false;
    return true;
}

/* One resource record's fixed part, after its owner name (RFC 1035 §4.1.3). */
typedef struct rr {
    uint8_t owner[AZR_DNS_WIRE_MAX];
    size_t owner_len;
    uint16_t type, cls;
    uint32_t ttl;
    size_t rdata, rdlen; /* offset and length of RDATA */
} rr;

static const char *read_rr(const uint8_t *msg, size_t len, size_t *off, rr *r)
{
    const char *why = read_name(msg, len, off, r->owner, &r->owner_len);
    if (why)
        return why;
    if (len - *off < 10)
        return "a record is cut by the end of the message";
    const uint8_t *f = msg + *off;
    r->type = get16(f);
    r->cls = get16(f + 2);
    r->ttl = get32(f + 4);
    if (r->ttl > 0x7FFFFFFFu) /* RFC 2181 §8: a TTL with the top bit set counts as 0 */
        r->ttl = 0;
    r->rdlen = get16(f + 8);
    r->rdata = *off + 10;
    if (r->rdlen > len - r->rdata)
        return "a record's data runs past the end of the message";
    *off = r->rdata + r->rdlen;
    return NULL;
}

static azr_err fail(azr_dns_answer *a, azr_err e, bool unrelated, const char *why)
{
    a->unrelated = unrelated;
    a->why = why;
    a->naddr = 0;
    return e;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* The name in a CNAME's RDATA, which must fill the RDATA exactly. */
static const char *rdata_name(const uint8_t *msg, size_t len, const rr *r, uint8_t *out,
                              size_t *out_len)
{
    size_t o = r->rdata;
    const char *why = read_name(msg, r->rdata + r->rdlen, &o, out, out_len);
    (void)len;
    if (why)
        return why;
    return o == r->rdata + r->rdlen ? NULL : "a CNAME record has bytes after its name";
}

/* RFC 2308 §5: the negative TTL is the smaller of the SOA's TTL and MINIMUM. */
static const char *soa_ttl(const uint8_t *msg, const rr *r, uint32_t *ttl)
{
    size_t end = r->rdata + r->rdlen, o = r->rdata;
    const char *why = read_name(msg, end, &o, NULL, NULL); /* MNAME */
    if (!why)
        why = read_name(msg, end, &o, NULL, NULL); /* RNAME */
    if (why)
        return why;
    if (end - o != 20)
        return "an SOA record's data does not end with its five numbers";
    *ttl = min32(r->ttl, get32(msg + o + 16)); /* r->ttl is at most 2^31 - 1 */
    return NULL;
}

azr_err azr_dns_answer_parse(const uint8_t *msg, size_t len, const uint8_t *query, size_t qlen,
                             azr_dns_answer *a)
{
    memset(a, 0, sizeof *a);
    /* our own query: header, one question */
    size_t qo = HDR, qnl;
    uint8_t qname[AZR_DNS_WIRE_MAX];
    if (qlen < HDR + 5 || read_name(query, qlen, &qo, qname, &qnl) != NULL || qlen - qo != 4 ||
        qo != HDR + qnl)
        return fail(a, AZR_E_ARG, false, "the query is not one azr_dns_query_encode wrote");
    a->qtype = get16(query + qo);
    if (len < HDR)
        return fail(a, AZR_E_PROTO, false, "shorter than the 12-byte DNS header");
    uint8_t f1 = msg[2], f2 = msg[3];
    if (get16(msg) != get16(query))
        return fail(a, AZR_E_PROTO, true, "the ID is not the query's");
    if (!(f1 & 0x80))
        return fail(a, AZR_E_PROTO, true, "a query, not a response (QR is 0)");
    if ((f1 >> 3 & 15) != 0)
        return fail(a, AZR_E_PROTO, true, "the opcode is not QUERY");
    a->aa = (f1 & 0x04) != 0;
    a->tc = (f1 & 0x02) != 0;
    a->rcode = f2 & 15;
    uint16_t qd = get16(msg + 4), an = get16(msg + 6), ns = get16(msg + 8);
    if (qd == 0 && a->rcode != AZR_DNS_NOERROR && a->rcode != AZR_DNS_NXDOMAIN && !a->tc)
        return AZR_OK; /* FORMERR, SERVFAIL, NOTIMP, REFUSED may come without the question */
    if (qd != 1)
        return fail(a, AZR_E_PROTO, true, "the question section does not hold one question");
    size_t off = HDR, nl;
    uint8_t nm[AZR_DNS_WIRE_MAX];
    const char *why = read_name(msg, len, &off, nm, &nl);
    if (why)
        return fail(a, AZR_E_PROTO, false, why);
    if (len - off < 4)
        return fail(a, AZR_E_PROTO, false, "the question is cut by the end of the message");
    if (!name_eq(nm, nl, qname, qnl) || memcmp(msg + off, query + qo, 4) != 0)
        return fail(a, AZR_E_PROTO, true, "the question is not the query's");
    off += 4;
    memcpy(a->name, qname, qnl);
    a->name_len = qnl;
    if (a->tc)
        return AZR_OK; /* RFC 2181 §9: a truncated answer is asked again over TCP */
    /* pass 1: every record of answer and authority is whole */
    size_t an_off = off, ns_off;
    rr r;
    for (unsigned i = 0; i < an; i++)
        if ((why = read_rr(msg, len, &off, &r)) != NULL)
            return fail(a, AZR_E_PROTO, false, why);
    ns_off = off;
    for (unsigned i = 0; i < ns; i++)
        if ((why = read_rr(msg, len, &off, &r)) != NULL)
            return fail(a, AZR_E_PROTO, false, why);
    /* pass 2: the CNAME chain from the question's name (RFC 1034 §3.6.2) */
    uint8_t seen[AZR_DNS_MAX_CNAME + 1][AZR_DNS_WIRE_MAX];
    size_t seen_len[AZR_DNS_MAX_CNAME + 1];
    uint32_t ttl = UINT32_MAX;
    memcpy(seen[0], qname, qnl);
    seen_len[0] = qnl;
    for (bool more = true; more;) {
        more = false;
        off = an_off;
        for (unsigned i = 0; i < an; i++) {
            (void)read_rr(msg, len, &off, &r); /* whole, as pass 1 showed */
            if (r.type != AZR_DNS_TYPE_CNAME || r.cls != AZR_DNS_CLASS_IN ||
                !name_eq(r.owner, r.owner_len, a->name, a->name_len))
                continue;
            if (a->ncname == AZR_DNS_MAX_CNAME)
                return fail(a, AZR_E_LIMIT, false, "the CNAME chain is longer than 8 names");
            if ((why = rdata_name(msg, len, &r, a->name, &a->name_len)) != NULL)
                return fail(a, AZR_E_PROTO, false, why);
            for (size_t k = 0; k <= a->ncname; k++)
                if (name_eq(seen[k], seen_len[k], a->name, a->name_len))
                    return fail(a, AZR_E_PROTO, false, "the CNAME chain loops");
            a->ncname++;
            memcpy(seen[a->ncname], a->name, a->name_len);
            seen_len[a->ncname] = a->name_len;
            ttl = min32(ttl, r.ttl);
            more = true;
            break;
        }
    }
    /* pass 3: the addresses of the last name */
    size_t alen = a->qtype == AZR_DNS_TYPE_A ? 4 : 16;
    off = an_off;
    for (unsigned i = 0; i < an; i++) {
        (void)read_rr(msg, len, &off, &r);
        if (r.type != a->qtype || r.cls != AZR_DNS_CLASS_IN ||
            !name_eq(r.owner, r.owner_len, a->name, a->name_len))
            continue;
        if (r.rdlen != alen)
            return fail(a, AZR_E_PROTO, false,
                        alen == 4 ? "an A record's data is not 4 bytes"
                                  : "an AAAA record's data is not 16 bytes");
        ttl = min32(ttl, r.ttl);
        if (a->naddr == AZR_DNS_MAX_ADDRS) {
            a->more_addrs = true;
            continue;
        }
        memcpy(a->addr[a->naddr++], msg + r.rdata, alen);
    }
    a->ttl = ttl == UINT32_MAX ? 0 : ttl;
    /* pass 4: RFC 2308 §5, the SOA of a negative answer */
    if (a->naddr == 0 && (a->rcode == AZR_DNS_NXDOMAIN || a->rcode == AZR_DNS_NOERROR)) {
        off = ns_off;
        for (unsigned i = 0; i < ns; i++) {
            (void)read_rr(msg, len, &off, &r);
            if (r.type != AZR_DNS_TYPE_SOA || r.cls != AZR_DNS_CLASS_IN)
                continue;
            if ((why = soa_ttl(msg, &r, &a->neg_ttl)) != NULL)
                return fail(a, AZR_E_PROTO, false, why);
            a->neg_ttl_set = true;
            break;
        }
    }
    return AZR_OK;
}

/* Append n bytes when they fit with the NUL; false (and nothing written) otherwise.
 * *safe follows the last end of a whole unit that leaves room for "..." and the NUL. */
static bool put(char *out, size_t cap, size_t *o, size_t *safe, const char *s, size_t n)
{
    if (n >= cap - *o)
        return false;
    memcpy(out + *o, s, n);
    *o += n;
    if (cap - *o >= 4)
        *safe = *o;
    return true;
}

size_t azr_dns_name_text(const uint8_t *wire, size_t wire_len, char *out, size_t cap)
{
    size_t o = 0, safe = 0, i = 0;
    bool ok = true;
    if (cap == 0)
        return 0;
    while (ok && i < wire_len && wire[i] != 0) {
        size_t n = wire[i++];
        if (n > wire_len - i)
            n = wire_len - i;
        if (o > 0)
            ok = put(out, cap, &o, &safe, ".", 1);
        for (size_t k = 0; ok && k < n; k++, i++) {
            uint8_t c = wire[i];
            char esc[4] = {'\\', (char)('0' + c / 100), (char)('0' + c / 10 % 10),
                           (char)('0' + c % 10)};
            ok = host_char(c) ? put(out, cap, &o, &safe, (const char *)&wire[i], 1)
                              : put(out, cap, &o, &safe, esc, 4);
        }
    }
    if (ok && o == 0)
        ok = put(out, cap, &o, &safe, ".", 1);
    if (!ok) { /* cut at a whole unit, "..." after it when it fits */
        o = safe;
        if (cap - o >= 4) {
            memcpy(out + o, "...", 3);
            o += 3;
        }
    }
    out[o] = '\0';
    return o;
}

const char *azr_dns_rcode_name(uint8_t rcode)
{
    switch (rcode) {
    case AZR_DNS_NOERROR:
        return "NOERROR";
    case AZR_DNS_FORMERR:
        return "FORMERR";
    case AZR_DNS_SERVFAIL:
        return "SERVFAIL";
    case AZR_DNS_NXDOMAIN:
        return "NXDOMAIN";
    case AZR_DNS_NOTIMP:
        return "NOTIMP";
    case AZR_DNS_REFUSED:
        return "REFUSED";
    default:
        return "RCODE";
    }
}
