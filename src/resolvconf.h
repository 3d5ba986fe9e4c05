/*
 * The system's resolver configuration as text, sans I/O: /etc/resolv.conf
 * (resolv.conf(5), read the way glibc reads it) and /etc/hosts (hosts(5)).
 * The caller reads the files; these only read bytes. No allocation.
 *
 * resolv.conf: "nameserver" (IPv4, IPv6, IPv6%scope; the first 3 count),
 * "domain" and "search" (the last of them wins), "options" ndots:N
 * timeout:N attempts:N rotate. Keywords start the line and are followed by
 * a space or a tab; lines starting with ';' or '#' are comments; anything
 * else is ignored, as glibc ignores it, and counted with a note saying what.
 */
#ifndef AZR_RESOLVCONF_H
#define AZR_RESOLVCONF_H

#include "bounds.h"
#include "dnsmsg.h"
#include "net.h"

/* glibc's MAXNS; the search list as glibc kept it before 2.26 (MAXDNSRCH). */
#define AZR_RC_MAX_NS     3
#define AZR_RC_MAX_SEARCH 6
/* glibc's defaults and ceilings: RES_DFLRETRY/RES_MAXRETRY, RES_TIMEOUT/RES_MAXRETRANS,
 * ndots 1/RES_MAXNDOTS. */
#define AZR_RC_ATTEMPTS_DEFAULT 2
#define AZR_RC_ATTEMPTS_MAX     5
#define AZR_RC_TIMEOUT_DEFAULT  5
#define AZR_RC_TIMEOUT_MAX      30
#define AZR_RC_NDOTS_DEFAULT    1
#define AZR_RC_NDOTS_MAX        15

typedef struct azr_resolvconf {
    azr_sockaddr ns[AZR_RC_MAX_NS]; /* port 53 */
    size_t nns;                     /* 0: the caller uses 127.0.0.1 (glibc's default) */
    char search[AZR_RC_MAX_SEARCH][AZR_DNS_NAME_MAX + 1]; /* no trailing dot */
    size_t nsearch;
    bool search_set;   /* a domain or search line was seen (none: glibc uses the host's domain) */
    unsigned ndots;    /* 0..15 */
    unsigned timeout;  /* seconds per try, 1..30 */
    unsigned attempts; /* rounds over the servers, 1..5 */
    bool rotate;       /* start each query at the next server */
    unsigned ignored;  /* lines or values passed over */
    char note[AZR_ERRTEXT_MAX]; /* the first of them: "line 4: ..." ("" when none) */
} azr_resolvconf;

/* Interface name to index for "fe80::1%eth0" (if_nametoindex); 0 when unknown. */
typedef unsigned (*azr_rc_scope_fn)(const char *ifname);

/*
 * An IP address literal s[0..n): dotted IPv4 (inet_pton's four decimal
 * parts), or IPv6 with an optional %scope (numeric, or an interface name
 * through scope when it is not NULL). True and *out (with port) when it is one.
 */
bool azr_rc_ip_literal(const char *s, size_t n, azr_rc_scope_fn scope, uint16_t port,
                       azr_sockaddr *out);

/*
 * Read resolv.conf text[0..len) (NUL bytes end nothing; a line is up to
 * '\n'). Never fails: what it cannot use is ignored and counted. scope may be
 * NULL, and then only numeric scopes are taken.
 */
void azr_resolvconf_parse(const char *text, size_t len, azr_rc_scope_fn scope, azr_resolvconf *c);

/* The state with no file: no server, no search list, glibc's default options. */
void azr_resolvconf_defaults(azr_resolvconf *c);

typedef struct azr_hosts_result {
    size_t n4, n6; /* in file order, duplicates dropped, AZR_DNS_MAX_ADDRS each */
    uint8_t a4[AZR_DNS_MAX_ADDRS][4];
    uint8_t a6[AZR_DNS_MAX_ADDRS][16];
    size_t line; /* the first line that named the host (1-based) */
} azr_hosts_result;

/*
 * Look name up in hosts text[0..len): every line whose canonical name or an
 * alias equals name (ASCII case ignored, a trailing dot on either side too)
 * gives its address when its family is wanted. '#' starts a comment
 * anywhere; lines whose address does not parse are passed over. True when
 * at least one address was found.
 */
bool azr_hosts_lookup(const char *text, size_t len, const char *name, bool want4, bool want6,
                      azr_hosts_result *out);

#endif
