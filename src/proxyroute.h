/*
 * The route of a proxy's relay connections: direct, or through which proxy
 * (HTTP CONNECT, SOCKS4, SOCKS4A, SOCKS5), with what credentials, chosen by
 * which settings or environment variables. Computed once, when listening
 * starts (one proxy instance talks to one relay host), from the settings,
 * the environment (FirewallAutoDetect) and the relay host. Sans-I/O: the
 * environment comes through a function the caller passes (tests pass a
 * fake one), nothing is resolved, nothing allocated.
 *
 * PRECEDENCE
 *  1. Explicit settings. ProxyServer/ProxyPort/ProxyUser/ProxyPassword and
 *     FirewallType=1 with FirewallHost/FirewallPort/FirewallUser/
 *     FirewallPassword are one mechanism, the HTTP CONNECT proxy: ProxyServer
 *     set means FirewallType=1 with FirewallHost=ProxyServer. Each pair
 *     (ProxyServer/FirewallHost, ProxyPort/FirewallPort, ProxyUser/
 *     FirewallUser, ProxyPassword/FirewallPassword) names one value: either
 *     may be given, and when both are given they must agree, or the route is
 *     refused naming both settings. A port counts as given when it was set
 *     explicitly (FirewallPort=0 takes it back); otherwise 80 for CONNECT and
 *     1080 for SOCKS. Proxy* settings with a SOCKS FirewallType are refused.
 *  2. The environment, only with FirewallAutoDetect=True and no explicit
 *     proxy (FirewallType 0, ProxyServer empty), read the way curl reads it
 *     (curl lib/proxy.c, proxy_detect_proxy and parse_proxy):
 *     - wss:// relays: https_proxy, then HTTPS_PROXY, then all_proxy, then
 *       ALL_PROXY; ws:// relays: http_proxy (lower case only, as curl: the
 *       CGI "Proxy:" header sets HTTP_PROXY), then all_proxy, ALL_PROXY. An
 *       empty variable counts as unset (curl_getenv).
 *     - The value is [scheme://][user[:password]@]host[:port][/...]; schemes
 *       (any case) http (CONNECT, the default without a scheme), socks4 and
 *       socks (SOCKS4), socks4a, socks5 (SOCKS5, the relay's name resolved
 *       here), socks5h (SOCKS5, the name sent to the proxy: FirewallType 3).
 *       https:// (TLS to the proxy) and anything else is refused. The port
 *       defaults to the scheme's: 80 for http, 1080 for the socks schemes
 *       (curl lib/peer.c, Curl_peer_from_proxy_url; CURLOPT_PROXY(3) says
 *       1080 for any proxy, but the code takes the scheme's). user and
 *       password are percent-decoded. An IPv6 host is written in brackets.
 *       A path is ignored.
 *     - Credentials in the URL win; without them, ProxyUser/ProxyPassword or
 *       FirewallUser/FirewallPassword apply (curl: CURLOPT_PROXYUSERPWD).
 *  3. Direct.
 *
 * EXCEPTIONS (the relay host as written in NamespaceAddress; never resolved)
 *  - ProxyExceptionsList applies to every proxy, explicit or found; it is
 *    checked when set.
 *  - no_proxy (then NO_PROXY; empty counts as unset) applies to a proxy
 *    found in the environment only: an explicit setting wins over the whole
 *    environment (curl also applies no_proxy to a proxy set by option).
 *  - A relay host that matches either goes direct, and the route's source
 *    says which entry matched. The two syntaxes are in bypass.h.
 */
#ifndef AZR_PROXYROUTE_H
#define AZR_PROXYROUTE_H

#include "config.h"
#include "proxyauth.h"

/* The kinds carry FirewallType's numbers. */
typedef enum azr_route_kind {
    AZR_ROUTE_DIRECT = 0,
    AZR_ROUTE_CONNECT = 1, /* HTTP CONNECT tunnel */
    AZR_ROUTE_SOCKS4 = 2,
    AZR_ROUTE_SOCKS5 = 3,
    AZR_ROUTE_SOCKS4A = 10
} azr_route_kind;

typedef struct azr_route {
    azr_route_kind kind;
    bool remote_dns;             /* SOCKS5: send the relay's name (socks5h://, FirewallType 3);
                                    false: resolve it here (socks5://) */
    bool from_env;               /* FirewallAutoDetect found it */
    char host[AZR_HOST_MAX + 1]; /* the proxy; an IPv6 address without brackets */
    uint16_t port;               /* 1..65535 unless DIRECT */
    char user[AZR_SOCKS_MAX_NAME + 1]; /* "" for none */
    char password[AZR_SOCKS_MAX_NAME + 1];
    char host_names[48]; /* the settings (or variable) that name the proxy, for a failure's
                            hint: "FirewallHost and FirewallPort", "ProxyServer and ProxyPort",
                            "https_proxy" */
    char cred_names[64]; /* the settings (or variable) that give user and password, for a
                            refusal's hint: "FirewallUser and FirewallPassword", "ProxyUser and
                            ProxyPassword", "the user and password in https_proxy" */
    /* HTTP CONNECT only */
    long auth_scheme; /* ProxyAuthScheme (AZR_PROXY_AUTH_*): proxyauth.c's engine answers the
                         proxy's challenges with user and password as it says */
    char authorization[AZR_PROXY_AUTHZ_MAX + 1]; /* ProxyAuthorization, sent as is; secret */
    char extra[AZR_PROXY_DATA_MAX + 1];          /* FirewallData: "Name: value\r\n" lines; secret */
    /* settings that do not apply to this route, for a warning */
    bool data_ignored;  /* FirewallData with SOCKS */
    bool authz_ignored; /* ProxyAuthorization with SOCKS */
    /* "HTTP CONNECT proxy.corp:3128 from FirewallAutoDetect: https_proxy=http://proxy.corp:3128
       (user from the URL)", "direct: ...": for the log and Config("ProxyRoute"); never a
       password */
    char source[AZR_ROUTE_SOURCE_MAX];
} azr_route;

/* The value of an environment variable, or NULL when unset. */
typedef const char *(*azr_route_env_fn)(void *ud, const char *name);

/* getenv(3), as an azr_route_env_fn (ud unused): the process's environment. */
const char *azr_route_env_os(void *ud, const char *name);

/*
 * The route for relay_host (as in NamespaceAddress, an IPv6 address without
 * brackets; relay_tls: wss://) under the settings s and the environment
 * env(env_ud, name) (consulted only with FirewallAutoDetect). out is filled
 * on success and wiped on failure. Errors, with a sentence in err that
 * names the settings or the variable involved (never a password):
 * AZR_E_STATE a proxy type without a host (FirewallType=1 and no
 * FirewallHost); AZR_E_ARG conflicting settings, an environment value that
 * is not a proxy URL or names an unsupported scheme.
 */
AZR_MUST_CHECK azr_err azr_route_compute(const azr_settings *s, azr_route_env_fn env, void *env_ud,
                                         const char *relay_host, bool relay_tls, azr_route *out,
                                         char *err, size_t errcap);

/*
 * One CONNECT request of a CONNECT route to host:port (the relay):
 * "Proxy-Authorization: authz" when authz is neither NULL nor "" (the value
 * proxyauth.c's engine gave for this request: ProxyAuthorization, Basic,
 * Digest or NTLM), then the FirewallData lines (azr_http1_connect_write).
 * AZR_E_LIMIT when out is too small or authz is longer than
 * AZR_PAUTH_MAX_VALUE; AZR_E_ARG for a control character other than HTAB
 * in authz, or as azr_http1_connect_write. out may hold secrets: the
 * caller wipes it.
 */
AZR_MUST_CHECK azr_err azr_route_connect_request(const azr_route *r, const char *host,
                                                 uint16_t port, const char *user_agent,
                                                 const char *authz, char *out, size_t cap,
                                                 size_t *out_len);

/*
 * StartListening's check that the route's CONNECTs fit a buffer of cap
 * bytes: the request azr_route_connect_request writes with the longest
 * Proxy-Authorization value a connection of this route may send
 * (ProxyAuthorization as set; without it, AZR_PAUTH_MAX_VALUE bytes when a
 * user is set and ProxyAuthScheme is not None; else none), written into out
 * (filler where the value goes). AZR_E_LIMIT when it does not fit, AZR_E_ARG
 * as azr_route_connect_request, and for a user with ':' under
 * ProxyAuthScheme=Basic (RFC 7617: Basic cannot carry it).
 */
AZR_MUST_CHECK azr_err azr_route_connect_write(const azr_route *r, const char *host, uint16_t port,
                                               const char *user_agent, char *out, size_t cap,
                                               size_t *out_len);

/* Forget the credentials a route holds. */
void azr_route_wipe(azr_route *r);

/* A proxy URL as the environment gives it. */
typedef struct azr_proxy_url {
    azr_route_kind kind;
    bool remote_dns;    /* socks5h:// */
    const char *scheme; /* "http", "socks5h", ... as spelt in lower case (static) */
    bool scheme_given;
    char host[AZR_HOST_MAX + 1]; /* IPv6 without brackets */
    uint16_t port;               /* the scheme's default when not given */
    bool has_user;               /* "user@" or "user:password@" */
    char user[AZR_SOCKS_MAX_NAME + 1], password[AZR_SOCKS_MAX_NAME + 1]; /* decoded */
} azr_proxy_url;

/*
 * Parse one proxy URL (see PRECEDENCE 2). AZR_E_ARG with a reason in err
 * (never echoing the credentials): unsupported scheme, empty or bad host,
 * bad port, bad percent-escape, a decoded NUL, an over-long part.
 */
AZR_MUST_CHECK azr_err azr_route_parse_url(const char *v, size_t len, azr_proxy_url *out, char *err,
                                           size_t errcap);

#endif
