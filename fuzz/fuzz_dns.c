/*
 * Target: azr_dns_answer_parse, azr_dns_query_encode, azr_dns_name_wire,
 * azr_dns_name_text (src/dnsmsg.c); azr_resolvconf_parse, azr_hosts_lookup
 * (src/resolvconf.c).
 * Byte 0 picks the parser (mod 4); for answers byte 1 picks the question
 * (bits 0-2 a name, bit 3 AAAA, bit 4 a wrong ID), the rest is the message,
 * whose own first two bytes give the ID; for hosts byte 1 picks the name and
 * the families. Inputs are copied to an exact-size heap block so ASan sees
 * any read past the end.
 * Invariants: a parse gives the same verdict twice; an error has a reason;
 * an answer holds at most AZR_DNS_MAX_ADDRS addresses and a name of at most
 * 255 wire bytes, whose text is NUL-terminated within its buffer; a wrong ID
 * is never taken; resolv.conf values stay within glibc's ceilings and every
 * search domain is a valid name; hosts counts stay within their bound; a
 * name that azr_dns_name_wire takes prints back as it was written.
 */
#include "dnsmsg.h"
#include "resolvconf.h"
#include <stdlib.h>

static const char *names[8] = {"www.example.test",  "alias.example.test", "ONE.Example.TEST",
                               "nope.example.test", "big.example.test",   "v4only.example.test",
                               "mid.example.test",  "localhost"};

static void answer(uint8_t sel, const uint8_t *m, size_t n)
{
    uint8_t q[AZR_DNS_QUERY_MAX];
    size_t ql;
    const char *why;
    uint16_t id = n >= 2 ? (uint16_t)(m[0] << 8 | m[1]) : 0;
    if (sel & 0x10)
        id ^= 0x0101;
    uint16_t qt = (sel & 8) ? AZR_DNS_TYPE_AAAA : AZR_DNS_TYPE_A;
    if (azr_dns_query_encode(q, sizeof q, &ql, id, names[sel & 7], qt, &why) != AZR_OK)
        abort();
    azr_dns_answer a, b;
    azr_err e = azr_dns_answer_parse(m, n, q, ql, &a);
    azr_err e2 = azr_dns_answer_parse(m, n, q, ql, &b);
    if (e != e2 || a.naddr != b.naddr || a.rcode != b.rcode || a.ttl != b.ttl)
        abort();
    if (e != AZR_OK && (!a.why || a.naddr != 0))
        abort();
    if ((sel & 0x10) && n >= 2 && e == AZR_OK)
        abort(); /* another ID */
    if (a.naddr > AZR_DNS_MAX_ADDRS || a.name_len > AZR_DNS_WIRE_MAX ||
        a.ncname > AZR_DNS_MAX_CNAME || (a.neg_ttl_set && a.neg_ttl > 0x7FFFFFFFu) ||
        a.ttl > 0x7FFFFFFFu)
        abort();
    char t[4 * AZR_DNS_WIRE_MAX + 4];
    size_t tl = azr_dns_name_text(a.name, a.name_len, t, sizeof t);
    if (tl >= sizeof t || t[tl] != '\0' || strlen(t) != tl)
        abort();
}

static void resolv_conf(const char *text, size_t n)
{
    azr_resolvconf c;
    azr_resolvconf_parse(text, n, NULL, &c);
    if (c.nns > AZR_RC_MAX_NS || c.nsearch > AZR_RC_MAX_SEARCH || c.ndots > AZR_RC_NDOTS_MAX ||
        c.timeout < 1 || c.timeout > AZR_RC_TIMEOUT_MAX || c.attempts < 1 ||
        c.attempts > AZR_RC_ATTEMPTS_MAX || !memchr(c.note, '\0', sizeof c.note))
        abort();
    for (size_t i = 0; i < c.nsearch; i++) {
        uint8_t w[AZR_DNS_WIRE_MAX];
        size_t wl;
        const char *why;
        if (azr_dns_name_wire(c.search[i], w, &wl, &why) != AZR_OK)
            abort();
    }
}

static void hosts(uint8_t sel, const char *text, size_t n)
{
    azr_hosts_result h;
    bool found = azr_hosts_lookup(text, n, names[sel & 7], sel & 8, sel & 16, &h);
    if (h.n4 > AZR_DNS_MAX_ADDRS || h.n6 > AZR_DNS_MAX_ADDRS || found != (h.n4 + h.n6 > 0) ||
        (!(sel & 8) && h.n4) || (!(sel & 16) && h.n6))
        abort();
}

static void name(const uint8_t *d, size_t n)
{
    char s[300];
    if (n >= sizeof s)
        return;
    memcpy(s, d, n);
    s[n] = '\0';
    uint8_t w[AZR_DNS_WIRE_MAX];
    size_t wl;
    const char *why;
    if (azr_dns_name_wire(s, w, &wl, &why) != AZR_OK) {
        if (!why)
            abort();
        return;
    }
    char t[4 * AZR_DNS_WIRE_MAX + 4];
    size_t sl = strlen(s);
    if (sl && s[sl - 1] == '.')
        s[--sl] = '\0';
    if (azr_dns_name_text(w, wl, t, sizeof t) != sl || strcmp(s, t) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t n = size - 2;
    uint8_t *m = malloc(n ? n : 1);
    if (!m)
        return 0;
    memcpy(m, data + 2, n);
    switch (data[0] & 3) {
    case 0:
        answer(data[1], m, n);
        break;
    case 1:
        resolv_conf((const char *)m, n);
        break;
    case 2:
        hosts(data[1], (const char *)m, n);
        break;
    default:
        name(m, n);
        break;
    }
    free(m);
    return 0;
}
