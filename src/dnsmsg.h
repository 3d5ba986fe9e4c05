/*
 * DNS messages for a stub resolver (RFC 1035), sans I/O: a query for A or
 * AAAA with RD set, and the reading of the answer to it. The reader checks
 * that the answer belongs to the query (ID, QR, opcode, the question echoed
 * with its name compared ignoring ASCII case), follows the CNAME chain of the
 * answer section from the question's name (bounded, loops refused), reads
 * compressed names (pointers strictly backwards, so no loop is possible),
 * collects the addresses of the chain's last name and the smallest TTL, and
 * for NXDOMAIN/NODATA the negative TTL of the SOA in authority (RFC 2308 §5).
 *
 * No allocation. Every malformed input gets an azr_err and a fixed text in
 * ->why; nothing is read outside [msg, msg + len). Names are kept in wire
 * form (length-prefixed labels) so a label holding a '.' stays unambiguous;
 * azr_dns_name_text() prints one for messages.
 */
#ifndef AZR_DNSMSG_H
#define AZR_DNSMSG_H

#include "err.h"

/* RFC 1035 §2.3.4: a label, a name in wire form, and the same name as text
 * without its trailing dot. */
#define AZR_DNS_LABEL_MAX 63
#define AZR_DNS_WIRE_MAX  255
#define AZR_DNS_NAME_MAX  253
/* A query: header, the name, type and class. */
#define AZR_DNS_QUERY_MAX (12 + AZR_DNS_WIRE_MAX + 4)
/* RFC 1035 §4.2.1: UDP messages without EDNS (we send none). */
#define AZR_DNS_UDP_MAX 512
/* Largest answer taken over TCP (RFC 7766); a bigger one is refused. */
#define AZR_DNS_TCP_MAX 8192
/* Addresses kept from one answer; more are dropped (->more_addrs). */
#define AZR_DNS_MAX_ADDRS 16
/* CNAME records followed from the question's name (glibc follows about as many). */
#define AZR_DNS_MAX_CNAME 8

#define AZR_DNS_TYPE_A     1
#define AZR_DNS_TYPE_NS    2
#define AZR_DNS_TYPE_CNAME 5
#define AZR_DNS_TYPE_SOA   6
#define AZR_DNS_TYPE_AAAA  28
#define AZR_DNS_CLASS_IN   1

/* RFC 1035 §4.1.1 and RFC 6895 §2.3 */
#define AZR_DNS_NOERROR  0
#define AZR_DNS_FORMERR  1
#define AZR_DNS_SERVFAIL 2
#define AZR_DNS_NXDOMAIN 3
#define AZR_DNS_NOTIMP   4
#define AZR_DNS_REFUSED  5

typedef struct azr_dns_answer {
    uint8_t rcode;  /* RCODE of the header (4 bits) */
    bool tc;        /* truncated: nothing past the question was read; ask over TCP */
    bool aa;        /* authoritative answer */
    uint16_t qtype; /* AZR_DNS_TYPE_A or _AAAA, from the query */
    size_t naddr;   /* addresses of the final name, in message order */
    uint8_t addr[AZR_DNS_MAX_ADDRS][16]; /* 4 (A) or 16 (AAAA) bytes used each */
    bool more_addrs;                     /* the answer held more than AZR_DNS_MAX_ADDRS of them */
    uint32_t ttl;                        /* smallest TTL of the CNAMEs followed and the addresses */
    bool neg_ttl_set;                    /* NXDOMAIN / NODATA with an SOA in authority */
    uint32_t neg_ttl;                    /* RFC 2308 §5: min(SOA TTL, SOA MINIMUM) */
    size_t ncname;                       /* CNAME records followed */
    uint8_t name[AZR_DNS_WIRE_MAX];      /* the final (canonical) name, wire form */
    size_t name_len;
    /* on error */
    bool unrelated;  /* not an answer to this query (ID, QR, opcode, question): keep waiting */
    const char *why; /* fixed text; NULL on success */
} azr_dns_answer;

/*
 * Check a host name given as text and put it in wire form. One trailing dot
 * is allowed (the name is absolute either way). Labels hold 1..63 bytes of
 * letters, digits, '-' and '_' (RFC 1123 §2.1 plus the underscore that
 * service names use) and do not start with '-'; the name holds at most 253
 * bytes. AZR_E_ARG with a fixed text in *why otherwise; wire[] then holds
 * nothing of use.
 */
AZR_MUST_CHECK azr_err azr_dns_name_wire(const char *name, uint8_t wire[AZR_DNS_WIRE_MAX],
                                         size_t *wire_len, const char **why);

/*
 * Write a standard query (opcode QUERY, RD set, one question of qtype, class
 * IN, no EDNS) for name into out[0..cap). *len gets its size (at most
 * AZR_DNS_QUERY_MAX). AZR_E_ARG for a bad name (*why tells) or a qtype other
 * than A and AAAA; AZR_E_LIMIT when cap is too small.
 */
AZR_MUST_CHECK azr_err azr_dns_query_encode(uint8_t *out, size_t cap, size_t *len, uint16_t id,
                                            const char *name, uint16_t qtype, const char **why);

/*
 * Read the answer msg[0..len) to query[0..qlen) (as azr_dns_query_encode
 * wrote it). AZR_OK when it is a well-formed answer to that question, with
 * any RCODE: ans->rcode, ->tc, the addresses and TTLs tell the rest. With TC
 * set only the header and the question are read. AZR_E_PROTO with ->why for
 * a malformed message; ->unrelated also set when it is not an answer to this
 * query at all (wrong ID, not a response, another opcode, another question),
 * which a stub ignores while it waits for the real one. AZR_E_LIMIT for a
 * CNAME chain longer than AZR_DNS_MAX_CNAME. AZR_E_ARG when query is not a
 * query this module wrote. *ans is fully written in every case.
 */
AZR_MUST_CHECK azr_err azr_dns_answer_parse(const uint8_t *msg, size_t len, const uint8_t *query,
                                            size_t qlen, azr_dns_answer *ans);

/*
 * A wire-form name as dotted text without the trailing dot ("." for the
 * root): letters, digits, '-' and '_' as they are, any other byte (a '.'
 * inside a label too) as \DDD, as dig prints them. out is always
 * NUL-terminated when cap > 0 and ends in "..." when cut; returns strlen(out).
 */
size_t azr_dns_name_text(const uint8_t *wire, size_t wire_len, char *out, size_t cap);

/* "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", ...; "RCODE" for unknown ones. */
const char *azr_dns_rcode_name(uint8_t rcode);

#endif
