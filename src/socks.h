/*
 * SOCKS client handshakes as incremental state machines: SOCKS4, SOCKS4A
 * (the 4A extension) and SOCKS5 (RFC 1928) with no authentication or
 * user/password (RFC 1929). No allocation, no I/O: the caller sends what
 * azr_socks_pending() shows, acknowledges it, and feeds the proxy's bytes.
 * Every refusal is reported with its meaning.
 */
#ifndef AZR_SOCKS_H
#define AZR_SOCKS_H

#include "bounds.h"
#include "err.h"

typedef enum azr_socks_ver { AZR_SOCKS4 = 4, AZR_SOCKS4A = 40, AZR_SOCKS5 = 5 } azr_socks_ver;

typedef struct azr_socks {
    /* results */
    uint8_t reply;   /* last reply code seen (SOCKS4 CD, SOCKS5 REP / auth status) */
    azr_err err;     /* first error, sticky */
    const char *why; /* its meaning, a fixed text */
    /* private */
    azr_socks_ver ver;
    uint8_t state;
    uint8_t out[3 + 2 * AZR_SOCKS_MAX_NAME + 16];
    size_t out_len, out_off;
    uint8_t in[4 + 1 + AZR_SOCKS_MAX_NAME + 2];
    size_t in_have, in_need;
    char host[AZR_SOCKS_MAX_NAME + 1];
    uint16_t port;
    char user[AZR_SOCKS_MAX_NAME + 1], pass[AZR_SOCKS_MAX_NAME + 1];
} azr_socks;

/*
 * Prepare a handshake asking the proxy for host:port. SOCKS4 needs an IPv4
 * literal (resolve first, or use SOCKS4A/SOCKS5, which pass names to the
 * proxy: relay IPs change, so names are preferred). SOCKS5 sends IPv4 and
 * IPv6 literals as addresses, anything else as a domain name. user is the
 * SOCKS4 user id or the RFC 1929 user (with pass); NULL or "" for none.
 * AZR_E_ARG for an empty or over-long host, a name where SOCKS4 needs an
 * address, port 0, over-long or NUL-containing credentials.
 */
AZR_MUST_CHECK azr_err azr_socks_init(azr_socks *s, azr_socks_ver ver, const char *host,
                                      uint16_t port, const char *user, const char *pass);

/* Bytes to send now (pointer into s); 0 when none are due. */
size_t azr_socks_pending(const azr_socks *s, const uint8_t **out);
/* The caller sent n of the pending bytes. */
void azr_socks_sent(azr_socks *s, size_t n);

/*
 * Feed proxy bytes. *consumed is always set and stops right after the final
 * reply: later bytes belong to the tunnel (TLS). AZR_AGAIN: more to send or to
 * receive; AZR_OK: the tunnel is open; AZR_E_REFUSED (request rejected),
 * AZR_E_AUTH (no acceptable method, bad credentials), AZR_E_PROTO (not a
 * SOCKS reply): s->why says what the proxy meant. Sticky.
 */
AZR_MUST_CHECK azr_err azr_socks_feed(azr_socks *s, const uint8_t *in, size_t len,
                                      size_t *consumed);

/* Meaning of a SOCKS5 REP code (RFC 1928 §6) or a SOCKS4 CD code. */
const char *azr_socks_reply_text(azr_socks_ver ver, uint8_t code);

/* Wipe the credentials kept in s. */
void azr_socks_wipe(azr_socks *s);

#endif
