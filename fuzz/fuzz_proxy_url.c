/*
 * Targets: azr_route_parse_url (src/proxyroute.c), azr_bypass_match and
 * azr_bypass_check (src/bypass.c): what FirewallAutoDetect reads from the
 * environment and what ProxyExceptionsList takes.
 * Invariants: a parsed URL has a host of 1..255 bytes without '@', '/' or
 * blanks, a port from 1 to 65535, and a user and password without NUL; a
 * refusal wipes the result; a matched entry is printable ASCII; '*' alone
 * matches every host in both syntaxes; a list that azr_bypass_check
 * accepts still never matches an empty host.
 */
#include "bypass.h"
#include "proxyroute.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const char *v = (const char *)data;
    azr_proxy_url u;
    char err[256], entry[300];
    static const azr_proxy_url zero;
    if (azr_route_parse_url(v, size, &u, err, sizeof err) == AZR_OK) {
        size_t hl = strlen(u.host);
        if (hl == 0 || hl > AZR_HOST_MAX || u.port == 0 || strpbrk(u.host, "@/ \t") ||
            strlen(u.user) > AZR_SOCKS_MAX_NAME || strlen(u.password) > AZR_SOCKS_MAX_NAME)
            abort();
    } else if (memcmp(&u, &zero, sizeof u) != 0) {
        abort();
    }
    /* the input as a list, and its first line as a host */
    const char *nl = memchr(v, '\n', size);
    char host[300];
    size_t n = nl ? (size_t)(nl - v) : size;
    if (n >= sizeof host)
        n = sizeof host - 1;
    memcpy(host, v, n);
    host[n] = '\0';
    for (int syn = 0; syn < 2; syn++) {
        azr_bypass_syntax sy = syn ? AZR_BYPASS_CURL : AZR_BYPASS_CLASS;
        if (azr_bypass_match(sy, v, size, host, entry, sizeof entry))
            for (const char *p = entry; *p; p++)
                if (*p < 0x20 || *p > 0x7e)
                    abort();
        if (host[0] && !azr_bypass_match(sy, "*", 1, host, NULL, 0))
            abort();
    }
    if (azr_bypass_check(v, size, err, sizeof err) == AZR_OK &&
        azr_bypass_match(AZR_BYPASS_CLASS, v, size, "", NULL, 0))
        abort();
    return 0;
}
