/*
 * The resolver's private layouts, shared by its four files: resolver.c
 * (lookups, the search list, results), resquery.c (one query on the wire:
 * UDP tries, TCP after truncation, servers and timers), rescache.c (the TTL
 * cache) and resconf.c (resolv.conf and hosts, read again when they
 * change). Tests include it to look inside; nothing else should.
 */
#ifndef AZR_RESOLVER_PRIV_H
#define AZR_RESOLVER_PRIV_H

#include "resolver.h"
#include "resolvconf.h"
#include <bearssl.h>
#include <sys/stat.h>

/* Family index in azr_resolve_req.out / .slot: IPv6 first, as results list them. */
#define AZR_RES_F6 0
#define AZR_RES_F4 1

/* ------------------------------------------------------------------ cache */

typedef struct azr_rescache_ent {
    char name[AZR_DNS_NAME_MAX + 1]; /* lower case, no trailing dot; "" when free */
    uint16_t qtype;
    uint8_t st; /* AZR_RES_OK, _NXDOMAIN or _NOADDR */
    uint8_t naddr;
    uint8_t addr[AZR_DNS_MAX_ADDRS][16];
    uint64_t expires; /* reactor ms */
    char reason[AZR_RES_REASON_MAX];
    uint32_t hash;
    int32_t hnext, lprev, lnext; /* bucket chain; LRU list (most recent first); -1 none */
} azr_rescache_ent;

typedef struct azr_rescache {
    azr_rescache_ent *ent;
    size_t cap, used;
    int32_t *bucket; /* nbucket heads, a power of two */
    size_t nbucket;
    int32_t lru_head, lru_tail, free_head; /* free entries chain through hnext */
} azr_rescache;

AZR_MUST_CHECK azr_err azr_rescache_init(azr_rescache *c, size_t cap);
void azr_rescache_free(azr_rescache *c);
/* The live entry for (name, qtype), now moved to the front; NULL when none or expired. */
const azr_rescache_ent *azr_rescache_get(azr_rescache *c, const char *name, uint16_t qtype,
                                         uint64_t now);
/* Keep an outcome for ttl_s seconds (0: not kept), replacing one for the same key. */
void azr_rescache_put(azr_rescache *c, const char *name, uint16_t qtype, const azr_res_outcome *o,
                      uint32_t ttl_s, uint64_t now);
void azr_rescache_forget(azr_rescache *c, const char *name);
uint32_t azr_rescache_hash(const char *name, uint16_t qtype);

/* --------------------------------------------------------------- queries */

enum { AZR_RESQ_FREE = 0, AZR_RESQ_UDP, AZR_RESQ_TCP_CONNECT, AZR_RESQ_TCP_IO };

typedef struct azr_resq {
    azr_resolver *r;
    uint8_t state;
    uint16_t qtype;
    int fd;
    azr_timer timer;
    char name[AZR_DNS_NAME_MAX + 1];
    uint32_t hash;
    uint8_t query[AZR_DNS_QUERY_MAX];
    size_t qlen;
    unsigned tries, first;    /* tries started; the server of the first */
    size_t server;            /* the server of this try */
    azr_resolve_req *waiters; /* linked through wnext/wprev[family of qtype] */
    size_t nwait;
    /* what the tries saw, for the reason of a failure */
    unsigned timeouts, ignored;
    const char *ignored_why;
    uint8_t err_rcode; /* last SERVFAIL-like RCODE; 0: none */
    size_t err_server;
    int err_errno;        /* last socket error; 0: none */
    const char *err_what; /* what failed with it */
    /* TCP: 2-byte length then the message, both ways (RFC 7766 §8) */
    size_t out_off, in_len;
    uint8_t *buf; /* AZR_DNS_TCP_MAX + 2 bytes: UDP datagrams, TCP answers */
} azr_resq;

/* Start asking (name, qtype); *slot gets its index. AZR_E_LIMIT when every slot is taken;
 * AZR_E_IO when no try could even be sent (o then holds the reason). */
AZR_MUST_CHECK azr_err azr_resq_start(azr_resolver *r, const char *name, uint16_t qtype,
                                      size_t *slot, azr_res_outcome *o);
/* The slot asking (name, qtype) now, or -1. */
long azr_resq_find(const azr_resolver *r, const char *name, uint16_t qtype, uint32_t hash);
/* Stop a query and free its slot (its waiters are the caller's business). */
void azr_resq_stop(azr_resolver *r, azr_resq *q);
/* resolver.c: the query ended with o; hand it to the waiters and free the slot. */
void azr_resolver_query_done(azr_resolver *r, azr_resq *q, azr_res_outcome *o, uint32_t cache_ttl);

/* -------------------------------------------------------------- resolver */

typedef struct azr_res_stamp {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} azr_res_stamp;

struct azr_resolver {
    azr_reactor *loop;
    char *conf_path, *hosts_path;
    azr_resolvconf conf;
    azr_res_stamp conf_st, hosts_st;
    char host_domain[AZR_DNS_NAME_MAX + 1]; /* after the first dot of gethostname() */
    char *hosts;
    size_t hosts_len, hosts_cap;
    uint64_t checked;
    bool checked_once;
    azr_resq *q;
    size_t nq;
    uint8_t *bufs;
    azr_rescache cache;
    br_hmac_drbg_context rng;
    size_t rotate_next;
    azr_resolve_req *live;
    azr_resolver_stats stats;
    azr_sockaddr dflt_ns;                  /* 127.0.0.1:53 when resolv.conf names none */
    azr_sockaddr addrs[AZR_RES_MAX_ADDRS]; /* a callback's result */
};

/* The servers to ask: resolv.conf's, or 127.0.0.1 when it names none. */
size_t azr_resolver_nservers(const azr_resolver *r);
const azr_sockaddr *azr_resolver_server(const azr_resolver *r, size_t i);
uint16_t azr_resolver_random16(azr_resolver *r);
/* resconf.c: read resolv.conf and hosts again when they changed (at once when force, else
 * at most every AZR_RES_RECHECK_MS); the domain of gethostname() for an empty search list;
 * if_nametoindex for "%scope". */
void azr_resolver_reload(azr_resolver *r, bool force);
void azr_resolver_host_domain(azr_resolver *r);
unsigned azr_resolver_scope(const char *ifname);
/* snprintf for reasons: a text too long for out is cut; returns what was written. */
size_t azr_res_text(char *out, size_t cap, const char *fmt, ...) AZR_PRINTF(3, 4);

#endif
