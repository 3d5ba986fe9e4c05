/*
 * IMPLEMENTATION NOTES
 * The rules are in proxyroute.h; this is their order. azr_route_compute
 * first settles the explicit settings (each pair of a Proxy* and a
 * Firewall* setting goes through pick(), so "both given and different" is
 * one refusal everywhere), then, only when nothing explicit names a proxy,
 * asks the environment, then applies the exception lists (bypass.c) to
 * whatever it found. Every exit that turns a proxy into "direct" or into an
 * error starts from a wiped route, so no credential survives in a route
 * that does not use it.
 *
 * The source text is built for people: which kind, which proxy, which
 * settings or variable chose it, and which entry sent the relay direct. It
 * never holds a password: the environment's URL is shown rebuilt from its
 * parsed scheme, host and port, never as given.
 */
#include "proxyroute.h"
#include "bypass.h"
#include "http1.h"
#include "text.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <sys/socket.h>

const char *azr_route_env_os(void *ud, const char *name)
{
    (void)ud;
    return getenv(name);
}

static const char *kind_name(azr_route_kind k)
{
    switch (k) {
    case AZR_ROUTE_CONNECT:
        return "HTTP CONNECT";
    case AZR_ROUTE_SOCKS4:
        return "SOCKS4";
    case AZR_ROUTE_SOCKS4A:
        return "SOCKS4A";
    case AZR_ROUTE_SOCKS5:
        return "SOCKS5";
    case AZR_ROUTE_DIRECT:
        break;
    }
    return "direct";
}

static bool same_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (azr_text_lower(a[i]) != azr_text_lower(b[i]))
            return false;
    return true;
}

/* "host:port", IPv6 in brackets. */
static void host_port(char *out, size_t cap, const char *host, unsigned port)
{
    bool v6 = strchr(host, ':') != NULL;
    snprintf(out, cap, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

/* The route's description (cut to AZR_ROUTE_SOURCE_MAX when long). */
static void describe(azr_route *r, const char *fmt, ...) AZR_PRINTF(2, 3);
static void describe(azr_route *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->source, sizeof r->source, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ proxy URLs */

/* s[0..len) is an IPv6 address (no brackets). */
static bool ipv6(const char *s, size_t len)
{
    char buf[64];
    uint8_t a[16];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, a) == 1;
}

static const struct {
    const char *name;
    azr_route_kind kind;
    bool remote_dns;
    uint16_t port;
} schemes[] = {
    {"http", AZR_ROUTE_CONNECT, true, 80},     {"socks5h", AZR_ROUTE_SOCKS5, true, 1080},
    {"socks5", AZR_ROUTE_SOCKS5, false, 1080}, {"socks4a", AZR_ROUTE_SOCKS4A, true, 1080},
    {"socks4", AZR_ROUTE_SOCKS4, false, 1080}, {"socks", AZR_ROUTE_SOCKS4, false, 1080},
};

static int hexval(char c)
{
    c = azr_text_lower(c);
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode in[0..len) into out[cap] (NUL-terminated); false on a bad
 * escape, a NUL or no room. */
static bool pct_decode(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi = i + 2 < len ? hexval(in[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(in[i + 2]) : -1;
            if (lo < 0)
                return false;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= cap)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

static azr_err url_fail(azr_proxy_url *u, char *err, size_t errcap, const char *why)
{
    azr_wipe(u, sizeof *u);
    snprintf(err, errcap, "%s", why);
    return AZR_E_ARG;
}

azr_err azr_route_parse_url(const char *v, size_t len, azr_proxy_url *u, char *err, size_t errcap)
{
    memset(u, 0, sizeof *u);
    azr_text_trim(&v, &len);
    u->kind = AZR_ROUTE_CONNECT;
    u->remote_dns = true;
    u->scheme = "http";
    u->port = 80;
    const char *p = v, *end = v + len;
    for (const char *q = v; q + 3 <= end; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            size_t sl = (size_t)(q - v), i;
            for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
                if (strlen(schemes[i].name) == sl && same_ci(v, schemes[i].name, sl))
                    break;
            if (sl == 5 && same_ci(v, "https", 5))
                return url_fail(u, err, errcap,
                                "https:// (TLS to the proxy) is not supported: use http://, "
                                "the tunnel to the relay is TLS already");
            if (i == sizeof schemes / sizeof schemes[0])
                return url_fail(u, err, errcap,
                                "unsupported proxy scheme (http, socks4, socks4a, socks5, "
                                "socks5h)");
            u->kind = schemes[i].kind;
            u->remote_dns = schemes[i].remote_dns;
            u->scheme = schemes[i].name;
            u->port = schemes[i].port;
            u->scheme_given = true;
            p = q + 3;
            break;
        }
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '+' || *q == '-' || *q == '.'))
            break; /* not a scheme: "host:port" */
    }
    /* the authority ends at the path, query or fragment */
    const char *auth_end = p;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
        auth_end++;
    const char *at = NULL;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *ue = colon ? colon : at;
        u->has_user = true;
        if (!pct_decode(p, (size_t)(ue - p), u->user, sizeof u->user) ||
            (colon &&
             !pct_decode(colon + 1, (size_t)(at - colon - 1), u->password, sizeof u->password)))
            return url_fail(u, err, errcap,
                            "the user or password is longer than 255 bytes, holds a NUL or a bad "
                            "%-escape");
        p = at + 1;
    }
    const char *h = p, *he, *port = NULL;
    if (h > auth_end) /* cannot happen ('@' lies inside the authority); said for the compiler */
        return url_fail(u, err, errcap, "no proxy host");
    if (h < auth_end && *h == '[') {
        he = memchr(h, ']', (size_t)(auth_end - h));
        if (!he)
            return url_fail(u, err, errcap, "an IPv6 address without its closing ']'");
        if (!ipv6(h + 1, (size_t)(he - h - 1)))
            return url_fail(u, err, errcap, "not an IPv6 address inside '[...]'");
        if (he + 1 < auth_end && he[1] != ':')
            return url_fail(u, err, errcap, "text after the IPv6 address");
        port = he + 1 < auth_end ? he + 2 : NULL;
        h++;
    } else {
        he = memchr(h, ':', (size_t)(auth_end - h));
        port = he ? he + 1 : NULL;
        he = he ? he : auth_end;
        if (port && memchr(port, ':', (size_t)(auth_end - port)))
            return url_fail(u, err, errcap, "an IPv6 address goes in brackets: [ADDRESS]:PORT");
        for (const char *q = h; q < he; q++) {
            unsigned char c = (unsigned char)*q;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.'))
                return url_fail(u, err, errcap,
                                "the proxy host is not a host name or address (an IPv6 "
                                "address goes in brackets)");
        }
    }
    if (he == h)
        return url_fail(u, err, errcap, "no proxy host");
    if ((size_t)(he - h) > AZR_HOST_MAX)
        return url_fail(u, err, errcap, "the proxy host is longer than 255 characters");
    memcpy(u->host, h, (size_t)(he - h));
    u->host[he - h] = '\0';
    if (port && port < auth_end) { /* "host:" keeps the default, as curl */
        unsigned long n = 0;
        for (const char *q = port; q < auth_end; q++) {
            if (*q < '0' || *q > '9' || n > 65535)
                return url_fail(u, err, errcap, "the port is not a number from 1 to 65535");
            n = n * 10 + (unsigned long)(*q - '0');
        }
        if (n == 0 || n > 65535)
            return url_fail(u, err, errcap, "the port is not a number from 1 to 65535");
        u->port = (uint16_t)n;
    }
    return AZR_OK;
}

/* ----------------------------------------------------------------- route */

static azr_err route_fail(azr_route *r, azr_err e, char *err, size_t errcap, const char *fmt, ...)
    AZR_PRINTF(5, 6);
static azr_err route_fail(azr_route *r, azr_err e, char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;
    azr_route_wipe(r);
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
    return e;
}

/* A host setting without brackets, into out. */
static void unbracket(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n >= 2 && in[0] == '[' && in[n - 1] == ']')
        snprintf(out, cap, "%.*s", (int)(n - 2), in + 1);
    else
        snprintf(out, cap, "%s", in);
}

/* One value named by two settings: either, or both when they agree (ci: any case). */
static bool pick(const char *a, const char *b, bool ci, const char **out)
{
    size_t al = strlen(a);
    if (a[0] && b[0] && !(ci ? (al == strlen(b) && same_ci(a, b, al)) : strcmp(a, b) == 0))
        return false;
    *out = a[0] ? a : b;
    return true;
}

/* User and password from the Proxy* pair or the Firewall* pair. */
static azr_err settings_creds(const azr_settings *s, azr_route *r, char *err, size_t errcap)
{
    const char *user, *pass;
    if (!pick(s->proxy_user, s->firewall_user, false, &user))
        return route_fail(r, AZR_E_ARG, err, errcap,
                          "ProxyUser and FirewallUser name different users: they are one "
                          "setting for the proxy; set one of them");
    if (!pick(s->proxy_password, s->firewall_password, false, &pass))
        return route_fail(r, AZR_E_ARG, err, errcap,
                          "ProxyPassword and FirewallPassword differ: they are one setting for "
                          "the proxy; set one of them");
    snprintf(r->user, sizeof r->user, "%s", user);
    snprintf(r->password, sizeof r->password, "%s", pass);
    /* the pair in use; with neither, the pair of the setting that names the proxy */
    bool proxy_pair = s->proxy_user[0]          ? true
                      : s->firewall_user[0]     ? false
                      : s->proxy_password[0]    ? true
                      : s->firewall_password[0] ? false
                                                : s->proxy_server[0] != '\0';
    snprintf(r->cred_names, sizeof r->cred_names, "%s",
             proxy_pair ? "ProxyUser and ProxyPassword" : "FirewallUser and FirewallPassword");
    return AZR_OK;
}

/* The proxy the settings name, if any (r->kind stays DIRECT when none). */
static azr_err from_settings(const azr_settings *s, azr_route *r, char *err, size_t errcap)
{
    long ft = s->firewall_type;
    bool socks = ft == 2 || ft == 3 || ft == 10;
    char ph[AZR_HOST_MAX + 1], fh[AZR_HOST_MAX + 1], hp[AZR_HOST_MAX + 16];
    const char *host;
    if (socks &&
        (s->proxy_server[0] || s->proxy_port_set || s->proxy_user[0] || s->proxy_password[0]))
        return route_fail(r, AZR_E_ARG, err, errcap,
                          "%s is a setting of the HTTP CONNECT proxy, but FirewallType is %ld "
                          "(%s): set FirewallHost, FirewallPort, FirewallUser and "
                          "FirewallPassword for a SOCKS proxy, or FirewallType=1",
                          s->proxy_server[0]  ? "ProxyServer"
                          : s->proxy_port_set ? "ProxyPort"
                          : s->proxy_user[0]  ? "ProxyUser"
                                              : "ProxyPassword",
                          ft, kind_name((azr_route_kind)ft));
    if (ft == 0 && !s->proxy_server[0])
        return AZR_OK;
    unbracket(s->proxy_server, ph, sizeof ph);
    unbracket(s->firewall_host, fh, sizeof fh);
    if (!pick(ph, fh, true, &host))
        return route_fail(r, AZR_E_ARG, err, errcap,
                          "ProxyServer (%.100s) and FirewallHost (%.100s) name different "
                          "proxies: they are one setting for an HTTP CONNECT proxy; set one "
                          "of them",
                          ph, fh);
    if (!host[0])
        return route_fail(r, AZR_E_STATE, err, errcap,
                          "FirewallType is %ld but FirewallHost is not set", ft);
    long pp = s->proxy_port_set ? s->proxy_port : 0;
    long fp = s->firewall_port_set ? s->firewall_port : 0;
    const char *port_from = pp ? "ProxyPort" : fp ? "FirewallPort" : "default port";
    if (socks) {
        r->kind = (azr_route_kind)ft;
        r->remote_dns = ft == 3;
        r->port = (uint16_t)(fp ? fp : 1080);
    } else {
        if (pp && fp && pp != fp)
            return route_fail(r, AZR_E_ARG, err, errcap,
                              "ProxyPort (%ld) and FirewallPort (%ld) differ: they are one "
                              "setting for an HTTP CONNECT proxy; set one of them",
                              pp, fp);
        r->kind = AZR_ROUTE_CONNECT;
        r->port = (uint16_t)(pp ? pp : fp ? fp : 80);
    }
    snprintf(r->host, sizeof r->host, "%s", host);
    snprintf(r->host_names, sizeof r->host_names, "%s",
             ph[0] ? "ProxyServer and ProxyPort" : "FirewallHost and FirewallPort");
    azr_err e = settings_creds(s, r, err, errcap);
    if (e != AZR_OK)
        return e;
    host_port(hp, sizeof hp, r->host, r->port);
    describe(r, "%s %s (%s, %s%s%s%s)", kind_name(r->kind), hp,
             ph[0] ? "ProxyServer" : "FirewallType and FirewallHost", port_from,
             r->user[0] ? ", user from " : "",
             r->user[0] ? (s->proxy_user[0] ? "ProxyUser" : "FirewallUser") : "",
             s->firewall_auto_detect ? "; FirewallAutoDetect not consulted: the settings win" : "");
    return AZR_OK;
}

/* The proxy the environment names, if any. */
static azr_err from_env(const azr_settings *s, azr_route_env_fn env, void *ud, bool tls,
                        azr_route *r, char *err, size_t errcap)
{
    static const char *const wss[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    static const char *const ws[] = {"http_proxy", "all_proxy", "ALL_PROXY"};
    const char *const *names = tls ? wss : ws;
    size_t n = tls ? 4 : 3;
    const char *var = NULL, *val = NULL;
    for (size_t i = 0; i < n && !val; i++) {
        const char *x = env(ud, names[i]);
        if (x && *x) {
            var = names[i];
            val = x;
        }
    }
    if (!val) {
        describe(r, "direct (FirewallAutoDetect: none of %s is set)",
                 tls ? "https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY"
                     : "http_proxy, all_proxy, ALL_PROXY");
        return AZR_OK;
    }
    azr_proxy_url u;
    char why[200], hp[AZR_HOST_MAX + 16];
    if (azr_route_parse_url(val, strlen(val), &u, why, sizeof why) != AZR_OK)
        return route_fail(r, AZR_E_ARG, err, errcap,
                          "FirewallAutoDetect: %s is not a proxy URL azrelay can use: %s", var,
                          why);
    r->kind = u.kind;
    r->remote_dns = u.remote_dns;
    r->from_env = true;
    r->port = u.port;
    memcpy(r->host, u.host, sizeof r->host);
    snprintf(r->host_names, sizeof r->host_names, "%s", var);
    if (u.has_user) {
        memcpy(r->user, u.user, sizeof r->user);
        memcpy(r->password, u.password, sizeof r->password);
        snprintf(r->cred_names, sizeof r->cred_names, "the user and password in %s", var);
    } else {
        azr_err e = settings_creds(s, r, err, errcap);
        if (e != AZR_OK) {
            azr_wipe(&u, sizeof u);
            return e;
        }
    }
    host_port(hp, sizeof hp, r->host, r->port);
    describe(
        r, "%s %s (FirewallAutoDetect: %s=%s://%s%s)", kind_name(r->kind), hp, var, u.scheme, hp,
        u.has_user   ? ", user from the URL"
        : r->user[0] ? (s->proxy_user[0] ? ", user from ProxyUser" : ", user from FirewallUser")
                     : "");
    azr_wipe(&u, sizeof u);
    return AZR_OK;
}

/* The relay host matched an exception: direct, saying why and what was not used. */
static void go_direct(azr_route *r, const char *relay_host, const char *list, const char *entry)
{
    char was[AZR_ROUTE_SOURCE_MAX];
    memcpy(was, r->source, sizeof was);
    azr_route_wipe(r);
    describe(r,
             "direct (the relay host %.255s matches %s entry '%s'; "
             "not used: %.300s)",
             relay_host, list, entry, was);
}

/* CONNECT's headers: ProxyAuthorization, then FirewallData. */
static void connect_extras(const azr_settings *s, azr_route *r)
{
    r->auth_scheme = s->proxy_auth_scheme;
    if (r->kind != AZR_ROUTE_CONNECT) {
        r->data_ignored = s->firewall_data[0] != '\0';
        r->authz_ignored = s->proxy_authorization[0] != '\0';
        return;
    }
    memcpy(r->authorization, s->proxy_authorization, sizeof r->authorization);
    memcpy(r->extra, s->firewall_data, sizeof r->extra);
}

azr_err azr_route_connect_request(const azr_route *r, const char *host, uint16_t port,
                                  const char *user_agent, const char *authz, char *out, size_t cap,
                                  size_t *out_len)
{
    /* room for the longest of each and the header name */
    static const char name[] = "Proxy-Authorization: ";
    char lines[sizeof name + AZR_PAUTH_MAX_VALUE + 2 + AZR_PROXY_DATA_MAX + 1];
    size_t alen = authz ? strlen(authz) : 0;
    *out_len = 0;
    if (alen > AZR_PAUTH_MAX_VALUE)
        return AZR_E_LIMIT;
    for (size_t i = 0; i < alen; i++) /* RFC 9110 §5.5: a field value has no CR, LF or NUL */
        if (((unsigned char)authz[i] < 0x20 && authz[i] != '\t') || authz[i] == 0x7f)
            return AZR_E_ARG;
    int n = snprintf(lines, sizeof lines, "%s%s%s%s", alen ? name : "", alen ? authz : "",
                     alen ? "\r\n" : "", r->extra);
    azr_err e =
        n < 0 || (size_t)n >= sizeof lines
            ? AZR_E_LIMIT
            : azr_http1_connect_write(host, port, NULL, NULL, user_agent, lines, out, cap, out_len);
    azr_wipe(lines, sizeof lines);
    return e;
}

azr_err azr_route_connect_write(const azr_route *r, const char *host, uint16_t port,
                                const char *user_agent, char *out, size_t cap, size_t *out_len)
{
    char filler[AZR_PAUTH_MAX_VALUE + 1];
    const char *authz = r->authorization;
    *out_len = 0;
    if (r->auth_scheme == AZR_PROXY_AUTH_BASIC && !authz[0] && strchr(r->user, ':'))
        return AZR_E_ARG;
    if (!authz[0] && r->user[0] && r->auth_scheme != AZR_PROXY_AUTH_NONE) {
        memset(filler, 'x', AZR_PAUTH_MAX_VALUE);
        filler[AZR_PAUTH_MAX_VALUE] = '\0';
        authz = filler;
    }
    return azr_route_connect_request(r, host, port, user_agent, authz, out, cap, out_len);
}

azr_err azr_route_compute(const azr_settings *s, azr_route_env_fn env, void *env_ud,
                          const char *relay_host, bool relay_tls, azr_route *r, char *err,
                          size_t errcap)
{
    char entry[AZR_TEXT_ESCAPED_MAX(64)];
    memset(r, 0, sizeof *r);
    if (errcap)
        err[0] = '\0';
    azr_err e = from_settings(s, r, err, errcap);
    if (e != AZR_OK)
        return e;
    if (r->kind == AZR_ROUTE_DIRECT) {
        describe(r, "direct (no proxy is set%s)",
                 s->firewall_auto_detect ? "" : "; FirewallAutoDetect is False");
        if (s->firewall_auto_detect && env) {
            e = from_env(s, env, env_ud, relay_tls, r, err, errcap);
            if (e != AZR_OK)
                return e;
        }
    }
    if (r->kind == AZR_ROUTE_DIRECT)
        return AZR_OK;
    if (s->proxy_exceptions[0] &&
        azr_bypass_match(AZR_BYPASS_CLASS, s->proxy_exceptions, strlen(s->proxy_exceptions),
                         relay_host, entry, sizeof entry)) {
        go_direct(r, relay_host, "ProxyExceptionsList", entry);
        return AZR_OK;
    }
    if (r->from_env) {
        const char *var = "no_proxy", *np = env(env_ud, var);
        if (!np || !*np)
            np = env(env_ud, var = "NO_PROXY");
        if (np && *np &&
            azr_bypass_match(AZR_BYPASS_CURL, np, strlen(np), relay_host, entry, sizeof entry)) {
            go_direct(r, relay_host, var, entry);
            return AZR_OK;
        }
    }
    connect_extras(s, r);
    return AZR_OK;
}

void azr_route_wipe(azr_route *r)
{
    azr_wipe(r, sizeof *r);
}
