/*
 * Which relay hosts bypass a proxy: the patterns of ProxyExceptionsList (the
 * class's) and of no_proxy (curl's). Pure functions over the host as written
 * (a name, or an IPv4/IPv6 address without brackets): nothing is resolved,
 * nothing allocated. Both syntaxes are case-insensitive and ignore a
 * trailing dot on the host and on a name entry.
 *
 * ProxyExceptionsList (AZR_BYPASS_CLASS): entries separated by ';', blanks
 * around them ignored; each is
 *   *                  every host (no proxy at all)
 *   name               that name only
 *   *.domain, .domain  every name under domain, not domain itself
 *   address            an IPv4 or IPv6 address (IPv6 with or without [])
 *   address/prefix     a CIDR block (0-32 for IPv4, 0-128 for IPv6)
 * A value is checked when set (azr_bypass_check): a port, a '*' inside a
 * name, a blank inside an entry or a prefix out of range is refused.
 *
 * no_proxy (AZR_BYPASS_CURL), with curl's rules (CURLOPT_NOPROXY(3); curl
 * lib/proxy.c, proxy_check_noproxy; the vectors of its tests/unit/unit1614.c):
 * entries separated by ',' with blanks around them, and reading stops at a
 * blank that no comma follows ("a b,c" is "a"); '*' alone (the whole value)
 * means every host; a name matches itself and every name under it, with or
 * without a leading dot ("example.com" and ".example.com" both match
 * example.com and www.example.com, not nonexample.com); an IPv4 or IPv6
 * address (without brackets) or address/prefix matches address hosts only,
 * and a name never matches an address; an entry with a port ("host:443")
 * matches nothing. Beyond curl: "*." is read like "." (curl matches
 * "*.example.com" against nothing), and a /0 prefix matches every address
 * of its family (curl compares x/0 as x). Entries that are none of these
 * match nothing (the environment is not ours to refuse).
 */
#ifndef AZR_BYPASS_H
#define AZR_BYPASS_H

#include "err.h"

typedef enum azr_bypass_syntax {
    AZR_BYPASS_CLASS, /* ProxyExceptionsList */
    AZR_BYPASS_CURL   /* no_proxy */
} azr_bypass_syntax;

/*
 * Whether host matches list[0..len) under syntax. When it does and entry is
 * not NULL, the matching entry is copied there (escaped, at most 64 bytes
 * of it, cut to entry_cap).
 */
bool azr_bypass_match(azr_bypass_syntax syntax, const char *list, size_t len, const char *host,
                      char *entry, size_t entry_cap);

/*
 * Check a ProxyExceptionsList value. AZR_E_ARG naming the first bad entry
 * and why (err: "ProxyExceptionsList: entry '...': ...").
 */
AZR_MUST_CHECK azr_err azr_bypass_check(const char *list, size_t len, char *err, size_t errcap);

#endif
