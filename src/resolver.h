/*
 * A stub resolver on the reactor: host names to addresses without blocking
 * the loop, without threads and without the libc resolver. Order of
 * sources for a lookup (as glibc with "hosts: files dns"):
 *   1. an IP literal ("192.0.2.1", "2001:db8::1", "fe80::1%eth0", "[::1]");
 *   2. the hosts file (the name as given, no search list);
 *   3. the cache of earlier answers, per (name, A|AAAA);
 *   4. DNS over UDP to resolv.conf's servers, TCP when an answer is truncated.
 * resolv.conf and the hosts file are read at creation and again when their
 * inode, size or mtime change, looked at no more than once a second, at
 * lookup time.
 *
 * Queries (RFC 1035 over UDP, RFC 7766 over TCP): one fresh connected UDP
 * socket per try, so the kernel picks a random source port and only the
 * server's datagrams arrive; a random 16-bit ID from BearSSL's HMAC-DRBG;
 * A and AAAA in parallel when both families are wanted. An answer must echo
 * the question (ID, name ignoring case, type, class); anything else that
 * arrives is ignored and the wait goes on. Servers in resolv.conf's order
 * (the next one first for each query with "options rotate"); each try waits
 * "timeout" seconds; "attempts" rounds over the servers; SERVFAIL, REFUSED,
 * NOTIMP, FORMERR and a refused port move on to the next server at once.
 * Names with fewer dots than "ndots" go through the search list first, the
 * others are asked as given first (glibc's res_search order); a trailing dot
 * means as given only. NXDOMAIN and NODATA move on to the next search name.
 *
 * Sharing: every lookup of the same (name, type) while a query for it is in
 * flight waits on that query, so 10,000 connections to one relay send one
 * A and one AAAA query.
 *
 * Caching: an answer with addresses is kept for its smallest TTL (at most
 * AZR_RES_TTL_MAX); NXDOMAIN and NODATA for the negative TTL of the SOA in
 * the answer (RFC 2308 §5) capped to AZR_RES_NEG_TTL_MAX, or for
 * AZR_RES_NEG_TTL_NO_SOA without one. Failures (timeouts, SERVFAIL) are not
 * kept. When the cache is full the least recently used entry goes.
 *
 * Memory: azr_resolver_new allocates everything: the cache, the query slots
 * (each with an AZR_DNS_TCP_MAX buffer) and the hosts text (again when the
 * file changes, by its size). A lookup allocates nothing; its state lives in
 * the caller's azr_resolve_req (1688 bytes on x86_64). The reactor needs one timer
 * per query slot (max_queries) and one descriptor per query in flight.
 */
#ifndef AZR_RESOLVER_H
#define AZR_RESOLVER_H

#include "dnsmsg.h"
#include "net.h"
#include "reactor.h"

/* Defaults of azr_resolver_opts and the fixed bounds. */
#define AZR_RES_CACHE_DEFAULT   256
#define AZR_RES_CACHE_MAX       65536
#define AZR_RES_QUERIES_DEFAULT 32
#define AZR_RES_QUERIES_MAX     1024
#define AZR_RES_TTL_MAX         86400 /* seconds a positive answer is kept at most */
#define AZR_RES_NEG_TTL_MAX     60    /* seconds NXDOMAIN / NODATA are kept at most */
#define AZR_RES_NEG_TTL_NO_SOA  5     /* ... when the answer carried no SOA */
#define AZR_RES_RECHECK_MS      1000  /* resolv.conf / hosts looked at no more often */
#define AZR_RES_CONF_FILE_MAX   (64 * 1024)
#define AZR_RES_HOSTS_FILE_MAX  (4 * 1024 * 1024)
#define AZR_RES_REASON_MAX      256
/* Addresses handed to a callback: AZR_DNS_MAX_ADDRS per family. */
#define AZR_RES_MAX_ADDRS (2 * AZR_DNS_MAX_ADDRS)

typedef struct azr_resolver azr_resolver;
typedef struct azr_resolve_req azr_resolve_req;

typedef enum azr_resolve_status {
    AZR_RES_OK = 0,   /* addresses found */
    AZR_RES_NXDOMAIN, /* the name does not exist (NXDOMAIN for every name tried) */
    AZR_RES_NOADDR,   /* the name exists without an address of the wanted families (NODATA) */
    AZR_RES_TIMEOUT,  /* no server answered within timeout x attempts */
    AZR_RES_SERVFAIL, /* the servers answered with an error (SERVFAIL, REFUSED, ...) */
    AZR_RES_BADNAME,  /* not a host name (empty, bad characters, too long) */
    AZR_RES_LIMIT,    /* max_queries distinct queries were in flight already */
    AZR_RES_IO        /* a socket could not be opened or used (the reason has errno's text) */
} azr_resolve_status;

typedef struct azr_resolve_result {
    azr_resolve_status status;
    const azr_sockaddr *addrs; /* naddrs entries, port 0: IPv6 ones first, then IPv4 */
    size_t naddrs;             /* 0 unless status is AZR_RES_OK */
    const char *reason;        /* "DNS: ..." for a log line or an event; never NULL */
    const char *source;        /* "literal", "hosts", "cache" or "dns" */
    uint32_t ttl;              /* seconds the answer stays valid (0 for literals, hosts) */
} azr_resolve_result;

/* The lookup's end. res and everything it points to are valid only during the call; copy
 * what is needed. req is idle again: the callback may start a new lookup with it, cancel
 * or start others, or free req's owner. It must not free the resolver. */
typedef void (*azr_resolve_cb)(void *ud, azr_resolve_req *req, const azr_resolve_result *res);

/* One family's outcome inside a request (private). */
typedef struct azr_res_outcome {
    uint8_t st; /* azr_resolve_status */
    uint8_t naddr;
    uint32_t ttl;
    uint8_t addr[AZR_DNS_MAX_ADDRS][16];
    char reason[AZR_RES_REASON_MAX];
} azr_res_outcome;

/*
 * A lookup's state, owned by the caller (embed it in the connection).
 * Zero-initialise it once; between lookups it is idle and may be reused or
 * freed. While a lookup runs, neither move nor free it without
 * azr_resolver_cancel. All fields are private.
 */
struct azr_resolve_req {
    azr_resolver *r;
    azr_resolve_cb cb;
    void *ud;
    azr_task task;
    azr_resolve_req *live_next, *live_prev; /* the resolver's running lookups */
    azr_resolve_req *wnext[2], *wprev[2];   /* waiters of a query, per family */
    uint32_t slot[2];                       /* query waited on per family + 1; 0 none */
    uint8_t state, fam, cand, pending, absolute, from, best;
    uint32_t scope; /* an IPv6 literal's scope */
    const char *source;
    char host[AZR_DNS_NAME_MAX + 1]; /* lower case, no trailing dot */
    char why[AZR_RES_REASON_MAX];    /* the reason handed to the callback */
    azr_res_outcome out[2];          /* [0] AAAA, [1] A */
};

typedef struct azr_resolver_opts {
    const char *resolv_conf; /* NULL: "/etc/resolv.conf"; missing: 127.0.0.1, glibc defaults */
    const char *hosts;       /* NULL: "/etc/hosts"; "": no hosts file */
    size_t cache_entries;    /* 0: AZR_RES_CACHE_DEFAULT; 1..AZR_RES_CACHE_MAX */
    size_t max_queries;      /* 0: AZR_RES_QUERIES_DEFAULT; distinct queries in flight */
} azr_resolver_opts;

/* Counters since creation (for tests and a status line). */
typedef struct azr_resolver_stats {
    uint64_t lookups;     /* azr_resolver_lookup calls accepted */
    uint64_t literals;    /* answered as IP literals */
    uint64_t hosts;       /* answered from the hosts file */
    uint64_t cache_hits;  /* (name, type) answered from the cache */
    uint64_t shared;      /* (name, type) that joined a query already in flight */
    uint64_t udp_sent;    /* UDP datagrams sent (one per try) */
    uint64_t tcp_queries; /* queries asked again over TCP after TC */
    uint64_t ignored;     /* datagrams ignored: not an answer to the question, malformed */
    uint64_t timeouts;    /* tries that saw no answer in time */
    uint64_t reloads;     /* resolv.conf or hosts read again after a change */
} azr_resolver_stats;

/*
 * A resolver on loop. o may be NULL (all defaults). The configuration files
 * are read now; a missing one is not an error (see the opts). NULL when
 * memory or the random seed cannot be had.
 */
azr_resolver *azr_resolver_new(azr_reactor *loop, const azr_resolver_opts *o);

/* Free r; lookups still running end without their callbacks. NULL is fine. */
void azr_resolver_free(azr_resolver *r);

/*
 * Start resolving host for family_pref (UseIPv6: 0 IPv4 only, 1 IPv6 only,
 * 2 both; an IP literal is its own answer whatever family_pref says). host
 * is copied; "name." asks for name only, without the search list.
 * cb(ud, req, res) runs exactly once, later, from the reactor (a
 * task or an I/O or timer event), never from inside this call, unless
 * azr_resolver_cancel comes first. Every outcome, a bad name included, comes
 * through cb. AZR_E_ARG for a NULL argument or family_pref out of range,
 * AZR_E_STATE when req is running a lookup already; then cb never runs.
 */
AZR_MUST_CHECK azr_err azr_resolver_lookup(azr_resolver *r, azr_resolve_req *req, const char *host,
                                           int family_pref, azr_resolve_cb cb, void *ud);

/* Stop req's lookup: its callback will not run. A query nobody else waits
 * for is dropped. Safe on an idle req (zeroed, finished or cancelled). */
void azr_resolver_cancel(azr_resolver *r, azr_resolve_req *req);

/* Drop what the cache holds for host (every name of the search list that
 * host would be tried as, both families), so the next lookup asks again: for
 * when none of host's addresses could be connected to. */
void azr_resolver_forget(azr_resolver *r, const char *host);

void azr_resolver_stats_get(const azr_resolver *r, azr_resolver_stats *out);

/* What the last read of resolv.conf ignored ("line 3: ..."), "" when nothing. */
const char *azr_resolver_conf_note(const azr_resolver *r);

#endif
