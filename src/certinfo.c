/*
 * IMPLEMENTATION NOTES
 * A DER walk over the outer parts of a certificate only (RFC 5280 §4.1):
 *   Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
 *   OPTIONAL, serialNumber, signature, issuer Name, validity, subject Name,
 *   ... }, ... }
 * Every read checks that the length fits inside its parent, so a lie in a
 * length can only end the walk. Names are collected as up to
 * MAX_RDNS slices, then printed last first.
 */
#include "certinfo.h"

#include <string.h>

#include "text.h"

#define MAX_RDNS 64

typedef struct der {
    const uint8_t *p;
    size_t len;
} der;

/* One TLV off the front of d: its tag and contents. */
static bool tlv(der *d, uint8_t *tag, der *content)
{
    if (d->len < 2 || (d->p[0] & 0x1f) == 0x1f)
        return false; /* multi-byte tags do not occur in these parts */
    size_t l = d->p[1], h = 2;
    if (l & 0x80) {
        size_t n = l & 0x7f;
        if (n == 0 || n > 4 || d->len - 2 < n)
            return false;
        l = 0;
        for (size_t i = 0; i < n; i++)
            l = (l << 8) | d->p[2 + i];
        h += n;
    }
    if (l > d->len - h)
        return false;
    *tag = d->p[0];
    content->p = d->p + h;
    content->len = l;
    d->p += h + l;
    d->len -= h + l;
    return true;
}

static bool expect(der *d, uint8_t want, der *content)
{
    uint8_t t;
    return tlv(d, &t, content) && t == want;
}

/* ------------------------------------------------------------------ output */

typedef struct outbuf {
    char *b;
    size_t cap, len;
    bool cut;
} outbuf;

static void put(outbuf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (o->cut || o->len + 4 >= o->cap) { /* keep room for "..." and NUL */
            o->cut = true;
            return;
        }
        o->b[o->len++] = s[i];
    }
}

static void puts_(outbuf *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_num(outbuf *o, uint32_t v)
{
    char t[12];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put(o, &t[--n], 1);
}

static const struct {
    const char *name;
    uint8_t len;
    uint8_t oid[10];
} known[] = {
    {"CN", 3, {0x55, 0x04, 0x03}},
    {"SERIALNUMBER", 3, {0x55, 0x04, 0x05}},
    {"C", 3, {0x55, 0x04, 0x06}},
    {"L", 3, {0x55, 0x04, 0x07}},
    {"S", 3, {0x55, 0x04, 0x08}},
    {"O", 3, {0x55, 0x04, 0x0a}},
    {"OU", 3, {0x55, 0x04, 0x0b}},
    {"E", 9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}},
    {"DC", 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}},
};

static bool put_oid(outbuf *o, der oid)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (oid.len == known[i].len && memcmp(oid.p, known[i].oid, oid.len) == 0) {
            puts_(o, known[i].name);
            return true;
        }
    /* X.690 §8.19: dotted decimal, the first two arcs share a byte */
    uint32_t arc = 0;
    bool first = true;
    if (oid.len == 0)
        return false;
    for (size_t i = 0; i < oid.len; i++) {
        if (arc > (UINT32_MAX >> 7))
            return false;
        arc = (arc << 7) | (oid.p[i] & 0x7fu);
        if (oid.p[i] & 0x80)
            continue;
        if (first) {
            uint32_t x = arc < 80 ? arc / 40 : 2;
            put_num(o, x);
            put(o, ".", 1);
            put_num(o, arc - 40 * x);
            first = false;
        } else {
            put(o, ".", 1);
            put_num(o, arc);
        }
        arc = 0;
    }
    return !(oid.p[oid.len - 1] & 0x80);
}

/* A whole escape sequence or nothing (then the name is cut). */
static void put_unit(outbuf *o, const char *u, size_t n)
{
    if (o->cut || n > o->cap - 4 - o->len) {
        o->cut = true;
        return;
    }
    put(o, u, n);
}

/* The value is the peer's text: escaped as azr_text_escape does, and a
 * quote always as \" so the quoting stays readable. */
static void put_value(outbuf *o, uint8_t tag, der v)
{
    /* BMPString (0x1e) is UTF-16BE: two bytes a character */
    size_t step = tag == 0x1e ? 2 : 1, off = tag == 0x1e ? 1 : 0;
    bool quote = false;
    for (size_t i = off; i < v.len; i += step)
        if ((step == 1 || v.p[i - 1] == 0) && (v.p[i] == ',' || v.p[i] == '+' || v.p[i] == ';'))
            quote = true;
    if (quote)
        put(o, "\"", 1);
    for (size_t i = off; i < v.len; i += step) {
        char u[16];
        size_t n = 0;
        if (step == 2 && (v.p[i - 1] != 0 || v.p[i] >= 0x80)) {
            /* beyond ASCII: its UTF-8 bytes, as a UTF8String would print */
            unsigned cp = (unsigned)v.p[i - 1] << 8 | v.p[i];
            char b[3];
            size_t bl = 0;
            if (cp < 0x800) {
                b[bl++] = (char)(0xc0 | cp >> 6);
            } else {
                b[bl++] = (char)(0xe0 | cp >> 12);
                b[bl++] = (char)(0x80 | (cp >> 6 & 0x3f));
            }
            b[bl++] = (char)(0x80 | (cp & 0x3f));
            n = azr_text_escape(b, bl, bl, u, sizeof u);
        } else if (v.p[i] == '"')
            u[0] = '\\', u[1] = '"', n = 2;
        else
            n = azr_text_escape((const char *)&v.p[i], 1, 1, u, sizeof u);
        put_unit(o, u, n);
    }
    if (quote)
        put(o, "\"", 1);
}

/* Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY } */
static bool name_text(der name, char *out, size_t cap)
{
    der rdn[MAX_RDNS];
    size_t n = 0;
    outbuf o = {out, cap, 0, false};
    while (name.len > 0) {
        if (n == MAX_RDNS || !expect(&name, 0x31, &rdn[n]))
            return false;
        n++;
    }
    while (n > 0) {
        der set = rdn[--n], ava, oid, val;
        bool first_ava = true;
        while (set.len > 0) {
            uint8_t vt;
            if (!expect(&set, 0x30, &ava) || !expect(&ava, 0x06, &oid) || !tlv(&ava, &vt, &val))
                return false;
            if (!first_ava)
                put(&o, "+", 1);
            else if (o.len > 0)
                put(&o, ", ", 2);
            first_ava = false;
            if (!put_oid(&o, oid))
                return false;
            put(&o, "=", 1);
            put_value(&o, vt, val);
        }
    }
    if (o.cut)
        memcpy(out + o.len, "...", 3), o.len += 3;
    out[o.len] = '\0';
    return true;
}

/* ------------------------------------------------------------------- times */

uint32_t azr_certinfo_days(uint32_t y, uint32_t m, uint32_t d)
{
    static const uint16_t before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    /* year 0 is a leap year: leap years before y are ceil(y/4) - ceil(y/100) + ceil(y/400) */
    uint32_t days = 365u * y + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
    return days + before[(m - 1) % 12] + (leap && m > 2 ? 1u : 0u) + d - 1;
}

static bool digits(const uint8_t *p, size_t n, uint32_t *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *v = *v * 10 + (uint32_t)(p[i] - '0');
    }
    return true;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5) */
static bool time_of(der *d, uint32_t *days, uint32_t *secs)
{
    uint8_t t;
    der v;
    uint32_t y, mo, da, h, mi, s;
    if (!tlv(d, &t, &v))
        return false;
    size_t yl = t == 0x17 ? 2 : t == 0x18 ? 4 : 0;
    if (yl == 0 || v.len != yl + 11 || v.p[v.len - 1] != 'Z')
        return false;
    if (!digits(v.p, yl, &y) || !digits(v.p + yl, 2, &mo) || !digits(v.p + yl + 2, 2, &da) ||
        !digits(v.p + yl + 4, 2, &h) || !digits(v.p + yl + 6, 2, &mi) ||
        !digits(v.p + yl + 8, 2, &s))
        return false;
    if (yl == 2)
        y += y >= 50 ? 1900 : 2000;
    if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    *days = azr_certinfo_days(y, mo, da);
    *secs = h * 3600 + mi * 60 + s;
    return true;
}

azr_err azr_certinfo_parse(const uint8_t *in, size_t len, azr_certinfo *out)
{
    der all = {in, len}, cert, tbs, x, validity;
    uint8_t t;
    memset(out, 0, sizeof *out);
    if (!expect(&all, 0x30, &cert) || !expect(&cert, 0x30, &tbs))
        return AZR_E_PROTO;
    if (tbs.len > 0 && tbs.p[0] == 0xa0 && !tlv(&tbs, &t, &x)) /* [0] version */
        return AZR_E_PROTO;
    if (!expect(&tbs, 0x02, &x) || !expect(&tbs, 0x30, &x)) /* serial, signature */
        return AZR_E_PROTO;
    if (!expect(&tbs, 0x30, &x) || !name_text(x, out->issuer, sizeof out->issuer))
        return AZR_E_PROTO;
    if (!expect(&tbs, 0x30, &validity) || !time_of(&validity, &out->nb_days, &out->nb_secs) ||
        !time_of(&validity, &out->na_days, &out->na_secs))
        return AZR_E_PROTO;
    if (!expect(&tbs, 0x30, &x) || !name_text(x, out->subject, sizeof out->subject))
        return AZR_E_PROTO;
    return AZR_OK;
}

bool azr_certinfo_attr(const char *dn, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = dn;
    while (*p) {
        /* p is at the start of an attribute */
        bool hit = strncmp(p, key, kl) == 0 && p[kl] == '=';
        const char *v = p + (hit ? kl + 1 : 0);
        size_t o = 0;
        bool q = false, full = false;
        for (; *v && (q || (*v != ',' && *v != '+')); v++) {
            if (*v == '"') {
                q = !q;
                continue;
            }
            /* \" is a quote; the other escapes (\\, \xNN) stay as printed, whole */
            const char *u = v;
            size_t n = 1;
            if (*v == '\\' && v[1] == '"')
                u = ++v;
            else if (*v == '\\' && v[1] == 'x' && v[2] && v[3])
                n = 4, v += 3;
            else if (*v == '\\' && v[1])
                n = 2, v++;
            if (hit && !full && n < cap - o) {
                memcpy(out + o, u, n);
                o += n;
            } else {
                full = hit;
            }
        }
        if (hit) {
            if (cap)
                out[o] = '\0';
            return true;
        }
        p = v;
        while (*p == ',' || *p == '+' || *p == ' ')
            p++;
    }
    return false;
}
