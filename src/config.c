/*
 * IMPLEMENTATION NOTES
 * The table (conftable.c) is the vocabulary. Each entry names a field of
 * azr_settings by offset; the setters only know the four types. Side
 * effects the reference class documents (setting KeepAliveTime turns
 * TCPKeepAlive on; FirewallType shows its default FirewallPort unless a
 * port was given, in either order; NamespaceAddress is parsed at once so a
 * bad address fails at Config() time, not at connect time) live in
 * post_set() and set_def(). A name the class defines
 * but azrelay lacks is in azr_config_unsupported[] and gets its own error,
 * so "not supported" and "misspelt" never look alike.
 */
#include "config.h"
#include "tlsparams.h"
#include "text.h"
#include "sas.h"
#include "proxyroute.h"
#include "bypass.h"
#include "ws.h"
#include "secretfile.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#define OFF(f) offsetof(azr_settings, f)

static bool same_ci(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (azr_text_lower(a[i]) != azr_text_lower(b[i]))
            return false;
    return true;
}

/* A user string shown in an error text: at most 64 printable characters. */
static const char *shown(const char *s, size_t len, char buf[72])
{
    azr_text_printable(s, len, 64, buf, 72);
    return buf;
}

azr_err azr_config_parse_bool(const char *v, size_t len, bool *out)
{
    static const char *yes[] = {"true", "yes", "1"}, *no[] = {"false", "no", "0"};
    for (int i = 0; i < 3; i++) {
        if (azr_text_ieq(v, len, yes[i])) {
            *out = true;
            return AZR_OK;
        }
        if (azr_text_ieq(v, len, no[i])) {
            *out = false;
            return AZR_OK;
        }
    }
    return AZR_E_ARG;
}

azr_err azr_config_parse_long(const char *v, size_t len, long *out)
{
    size_t i = 0;
    bool neg = false;
    unsigned base = 10;
    unsigned long acc = 0, lim;
    if (i < len && (v[i] == '+' || v[i] == '-'))
        neg = (v[i++] == '-');
    if (len - i > 2 && v[i] == '0' && (v[i + 1] == 'x' || v[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    if (i == len)
        return AZR_E_ARG;
    lim = neg ? (unsigned long)LONG_MAX + 1ul : (unsigned long)LONG_MAX;
    for (; i < len; i++) {
        unsigned d;
        char c = v[i];
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && azr_text_lower(c) >= 'a' && azr_text_lower(c) <= 'f')
            d = (unsigned)(azr_text_lower(c) - 'a' + 10);
        else
            return AZR_E_ARG;
        if (acc > (lim - d) / base)
            return AZR_E_LIMIT;
        acc = acc * base + d;
    }
    if (neg)
        *out = acc == (unsigned long)LONG_MAX + 1ul ? LONG_MIN : -(long)acc;
    else
        *out = (long)acc;
    return AZR_OK;
}

const azr_conf_def *azr_config_find(const char *name, size_t len)
{
    for (size_t i = 0; i < azr_config_count; i++)
        if (azr_text_ieq(name, len, azr_config_table[i].name))
            return &azr_config_table[i];
    return NULL;
}

static const azr_conf_unsupported *find_unsupported(const char *name, size_t len)
{
    for (size_t i = 0; i < azr_config_unsupported_count; i++)
        if (azr_text_ieq(name, len, azr_config_unsupported[i].name))
            return &azr_config_unsupported[i];
    return NULL;
}

/* Case-insensitive edit distance, capped at 64-character names. */
static size_t distance(const char *a, size_t al, const char *b)
{
    size_t bl = strlen(b);
    size_t row[65];
    if (al > 64 || bl > 64)
        return SIZE_MAX;
    for (size_t j = 0; j <= bl; j++)
        row[j] = j;
    for (size_t i = 1; i <= al; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bl; j++) {
            size_t cur = row[j];
            size_t sub = prev + (azr_text_lower(a[i - 1]) != azr_text_lower(b[j - 1]));
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            prev = cur;
        }
    }
    return row[bl];
}

static const char *nearest(const char *name, size_t len)
{
    const char *best = NULL;
    size_t bd = SIZE_MAX;
    size_t allowed = len / 3 > 2 ? len / 3 : 2;
    for (size_t i = 0; i < azr_config_count + azr_config_unsupported_count; i++) {
        const char *cand = i < azr_config_count ? azr_config_table[i].name
                                                : azr_config_unsupported[i - azr_config_count].name;
        size_t cl = strlen(cand);
        if ((cl > len ? cl - len : len - cl) > allowed)
            continue; /* the distance is at least the length difference */
        size_t d = distance(name, len, cand);
        if (d < bd) {
            bd = d;
            best = cand;
        }
    }
    return bd <= allowed ? best : NULL;
}

static azr_err unknown(const char *name, size_t len, char *err, size_t errcap)
{
    char b[72];
    const azr_conf_unsupported *u = find_unsupported(name, len);
    if (u) {
        snprintf(err, errcap,
                 "%s is a setting of AzureRelayProxy that azrelay does not support%s%s", u->name,
                 u->hint ? ": " : "", u->hint ? u->hint : "");
        return AZR_E_UNSUPPORTED;
    }
    const char *near = nearest(name, len);
    if (near)
        snprintf(err, errcap, "unknown setting '%s'; did you mean %s?", shown(name, len, b), near);
    else
        snprintf(err, errcap, "unknown setting '%s' (azrelay-proxy --help lists them all)",
                 shown(name, len, b));
    return AZR_E_ARG;
}

/* FLAGS: decimal or 0x hex, 0 to 0xFFFFFFFF whatever the width of long. */
static bool parse_u32(const char *v, size_t len, uint32_t *out)
{
    size_t i = 0;
    uint32_t base = 10, acc = 0;
    if (len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == len)
        return false;
    for (; i < len; i++) {
        char c = azr_text_lower(v[i]);
        uint32_t dg;
        if (c >= '0' && c <= '9')
            dg = (uint32_t)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            dg = (uint32_t)(c - 'a' + 10);
        else
            return false;
        if (acc > (UINT32_MAX - dg) / base)
            return false;
        acc = acc * base + dg;
    }
    *out = acc;
    return true;
}

/* ENUM: value by number or by name; returns false when not in the list. */
static bool enum_lookup(const char *enums, const char *v, size_t len, long *out)
{
    long num;
    bool is_num = azr_config_parse_long(v, len, &num) == AZR_OK;
    const char *p = enums;
    while (*p) {
        long n = 0;
        while (*p >= '0' && *p <= '9')
            n = n * 10 + (*p++ - '0');
        const char *nm = ++p; /* skip '=' */
        while (*p && *p != ',')
            p++;
        if (is_num ? num == n : ((size_t)(p - nm) == len && same_ci(nm, v, len))) {
            *out = n;
            return true;
        }
        if (*p == ',')
            p++;
    }
    return false;
}

/* OtherHeaders, FirewallData: "Name: value" lines, separated by LF, CRLF or a
 * written "\n", stored as CRLF lines in d's field. FirewallData also refuses
 * control characters other than tab (RFC 9110 §5.5: a field value is
 * visible characters, spaces and tabs). */
static azr_err set_headers(azr_settings *s, const azr_conf_def *d, const char *v, size_t len,
                           char *err, size_t errcap)
{
    char out[AZR_CONF_VALUE_MAX];
    size_t o = 0, i = 0, lineno = 0, cap = d->size < sizeof out ? d->size : sizeof out;
    bool strict = d->offset == OFF(firewall_data);
    while (i < len) {
        size_t j = i;
        while (j < len && v[j] != '\n' && !(v[j] == '\\' && j + 1 < len && v[j + 1] == 'n'))
            j++;
        const char *line = v + i;
        size_t ll = j - i;
        i = (j < len && v[j] == '\\') ? j + 2 : j + 1;
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (ll >= 2 && line[ll - 2] == '\\' && line[ll - 1] == 'r')
            ll -= 2;
        azr_text_trim(&line, &ll);
        lineno++;
        if (ll == 0)
            continue;
        const char *colon = memchr(line, ':', ll);
        if (!colon || colon == line) {
            snprintf(err, errcap, "%s line %zu: expected 'Name: value'", d->name, lineno);
            return AZR_E_ARG;
        }
        for (const char *p = line; p < colon; p++) {
            /* RFC 9110 §5.6.2 token characters */
            unsigned char c = (unsigned char)*p;
            if (!(c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c))) {
                snprintf(err, errcap, "%s line %zu: header name is not an HTTP token", d->name,
                         lineno);
                return AZR_E_ARG;
            }
        }
        for (const char *p = colon + 1; p < line + ll; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '\r' || c == '\n' || c == '\0') {
                snprintf(err, errcap, "%s line %zu: CR, LF or NUL inside a header value", d->name,
                         lineno);
                return AZR_E_ARG;
            }
            if (strict && ((c < 0x20 && c != '\t') || c == 0x7f)) {
                snprintf(err, errcap, "%s line %zu: a control character inside a header value",
                         d->name, lineno);
                return AZR_E_ARG;
            }
        }
        if (ll + 2 > cap - 1 - o) {
            snprintf(err, errcap, "%s longer than %zu bytes", d->name, cap - 1);
            return AZR_E_LIMIT;
        }
        memcpy(out + o, line, ll);
        o += ll;
        out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o] = '\0';
    memcpy((char *)s + d->offset, out, o + 1);
    azr_wipe(out, sizeof out); /* FirewallData may carry credentials */
    return AZR_OK;
}

/* ProxyServer: a host name or an IP address (IPv6 with or without brackets). */
static azr_err check_host(const azr_conf_def *d, const char *v, size_t len, char *err,
                          size_t errcap)
{
    char b[72], ip[64];
    size_t n = len;
    const char *h = v;
    if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
        h++;
        n -= 2;
    }
    uint8_t a[16];
    if (n > 0 && n < sizeof ip) {
        memcpy(ip, h, n);
        ip[n] = '\0';
        if (inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1)
            return AZR_OK;
    }
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            snprintf(err, errcap,
                     "%s: '%s' is not a host name or address (no scheme; the port goes in "
                     "ProxyPort)",
                     d->name, shown(v, len, b));
            return AZR_E_ARG;
        }
    }
    return AZR_OK;
}

/* StatusSocket: empty, or an absolute path of printable text. */
static azr_err check_socket_path(const azr_conf_def *d, const char *v, size_t len, char *err,
                                 size_t errcap)
{
    char b[72];
    if (len > 0 && v[0] != '/') {
        snprintf(err, errcap, "%s: '%s' is not an absolute path", d->name, shown(v, len, b));
        return AZR_E_ARG;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
            snprintf(err, errcap, "%s: a control character at byte %zu", d->name, i + 1);
            return AZR_E_ARG;
        }
    return AZR_OK;
}

azr_err azr_config_hostport(const char *v, size_t len, char *host, size_t cap, uint16_t *port,
                            char *err, size_t errcap)
{
    char b[72];
    const char *colon = NULL;
    for (size_t i = len; i > 0; i--)
        if (v[i - 1] == ':') {
            colon = v + i - 1;
            break;
        }
    long p = -1;
    if (!colon || azr_config_parse_long(colon + 1, len - (size_t)(colon + 1 - v), &p) != AZR_OK ||
        p < 0 || p > 65535) {
        snprintf(err, errcap, "MetricsAddress: '%s' is not HOST:PORT (port 0 to 65535)",
                 shown(v, len, b));
        return AZR_E_ARG;
    }
    const char *h = v;
    size_t hl = (size_t)(colon - v);
    bool bracketed = hl >= 2 && h[0] == '[' && h[hl - 1] == ']';
    if (bracketed) {
        h++;
        hl -= 2;
    }
    uint8_t a[16];
    char ip[64];
    bool v6 = false;
    if (hl > 0 && hl < sizeof ip) {
        memcpy(ip, h, hl);
        ip[hl] = '\0';
        v6 = inet_pton(AF_INET6, ip, a) == 1;
    }
    bool ok = hl > 0 && hl < cap && (bracketed ? v6 : !v6);
    for (size_t i = 0; ok && !bracketed && i < hl; i++) {
        char c = h[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    }
    if (!ok) {
        snprintf(err, errcap,
                 "MetricsAddress: '%s': HOST is a name, an IPv4 address or an IPv6 address in "
                 "brackets ([::1]:9464)",
                 shown(v, len, b));
        return AZR_E_ARG;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return AZR_OK;
}

/* ProxyAuthorization (a header value), PortName (UTF-8): no control characters. */
static azr_err check_text(const azr_conf_def *d, const char *v, size_t len, char *err,
                          size_t errcap)
{
    bool utf8 = d->offset == OFF(port_name);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        bool bad = c < 0x20 || c == 0x7f;
        if (!utf8 && c == '\t')
            bad = false;
        if (utf8 && c == 0xc2 && i + 1 < len && (unsigned char)v[i + 1] < 0xa0)
            bad = true; /* U+0080..U+009F, the C1 controls */
        if (bad) {
            snprintf(err, errcap, "%s: a control character at byte %zu", d->name, i + 1);
            return AZR_E_ARG;
        }
    }
    if (utf8 && !azr_ws_utf8_valid((const uint8_t *)v, len)) {
        snprintf(err, errcap, "%s: not valid UTF-8", d->name);
        return AZR_E_ARG;
    }
    return AZR_OK;
}

static azr_err set_connstr(azr_settings *s, const char *v, size_t len, char *err, size_t errcap)
{
    azr_connstr cs;
    azr_err e = azr_connstr_parse(v, len, &cs, err, errcap);
    if (e != AZR_OK) {
        azr_wipe(&cs, sizeof cs);
        return e;
    }
    s->relay = cs.endpoint;
    /* keep the address the way the string gave it, minus the sb:// decoration */
    snprintf(s->namespace_address, sizeof s->namespace_address, "%s%s%s%s:%u",
             cs.endpoint.tls ? "" : "ws://", strchr(cs.endpoint.host, ':') ? "[" : "",
             cs.endpoint.host, strchr(cs.endpoint.host, ':') ? "]" : "",
             (unsigned)cs.endpoint.port);
    if (cs.has_key_name) {
        memcpy(s->access_key_name, cs.key_name, sizeof cs.key_name);
        memcpy(s->access_key, cs.key, sizeof cs.key);
        s->access_signature[0] = '\0';
    }
    if (cs.has_sas) {
        memcpy(s->access_signature, cs.sas, sizeof cs.sas);
        s->access_key_name[0] = s->access_key[0] = '\0';
    }
    if (cs.has_entity_path)
        memcpy(s->hybrid_connection, cs.entity_path, sizeof cs.entity_path);
    if (cs.operation_timeout > 0)
        s->connection_timeout = cs.operation_timeout > 3600 ? 3600 : cs.operation_timeout;
    azr_wipe(&cs, sizeof cs);
    return AZR_OK;
}

static azr_err set_def(azr_settings *s, const azr_conf_def *d, const char *v, size_t len, char *err,
                       size_t errcap);

/*
 * AccessKeyFile, ConnectionStringFile: the file's first line, read now, sets
 * AccessKey or ConnectionString as if given here; the path is kept as given
 * (Config("AccessKeyFile") shows it). Empty: only the path is cleared. A mode
 * warning (InsecureSecretFiles) is left in err on success. set_def has
 * checked the length and refused CR, LF and NUL already.
 */
static azr_err set_secret_file(azr_settings *s, const azr_conf_def *d, const char *v, size_t len,
                               char *err, size_t errcap)
{
    char *field = (char *)s + d->offset;
    if (len == 0) {
        field[0] = '\0';
        return AZR_OK;
    }
    char path[AZR_SECRET_PATH_MAX + 1], why[AZR_CONF_ERR_MAX];
    azr_err e = azr_secretfile_path(v, len, path, sizeof path, why, sizeof why);
    if (e != AZR_OK) {
        snprintf(err, errcap, "%s: %s", d->name, why);
        return e;
    }
    bool connstr = d->offset == OFF(connection_string_file);
    char line[AZR_CONNSTR_MAX + 1];
    size_t n;
    e = azr_secretfile_read(d->name, path, s->insecure_secret_files,
                            connstr ? (size_t)AZR_CONNSTR_MAX : (size_t)AZR_KEY_MAX, line,
                            sizeof line, &n, why, sizeof why);
    if (e == AZR_OK) {
        char why2[AZR_CONF_ERR_MAX];
        why2[0] = '\0';
        if (connstr)
            e = set_connstr(s, line, n, why2, sizeof why2);
        else
            e = set_def(s, azr_config_find("AccessKey", 9), line, n, why2, sizeof why2);
        if (e != AZR_OK) /* the text may not quote the value: it is a secret */
            snprintf(why, sizeof why, "%s %.300s: %.400s", d->name, path, why2);
    }
    azr_wipe(line, sizeof line);
    if (e != AZR_OK) {
        snprintf(err, errcap, "%s", why);
        return e;
    }
    memcpy(field, v, len);
    field[len] = '\0';
    snprintf(err, errcap, "%s", why); /* a warning, or "" */
    return AZR_OK;
}

static void post_set(azr_settings *s, const azr_conf_def *d)
{
    /* the class keeps SSLEnabled and SSLStartMode in step */
    if (d->offset == OFF(ssl_enabled))
        s->ssl_start_mode = s->ssl_enabled ? (s->ssl_start_mode == 3 ? 1 : s->ssl_start_mode) : 3;
    if (d->offset == OFF(ssl_start_mode))
        s->ssl_enabled = s->ssl_start_mode != 3;
    if (d->offset == OFF(keep_alive_time) || d->offset == OFF(keep_alive_interval) ||
        d->offset == OFF(keep_alive_retry_count))
        s->keep_alive = true;
    /* FirewallType shows its default port unless one was given, whatever the order */
    if (d->offset == OFF(firewall_port))
        s->firewall_port_set = s->firewall_port != 0;
    if ((d->offset == OFF(firewall_type) || d->offset == OFF(firewall_port)) &&
        !s->firewall_port_set)
        s->firewall_port = s->firewall_type == 0 ? 0 : s->firewall_type == 1 ? 80 : 1080;
    if (d->offset == OFF(proxy_port))
        s->proxy_port_set = true;
    if (d->offset == OFF(access_key) || d->offset == OFF(access_key_name))
        s->access_signature[0] = '\0';
}

static azr_err set_def(azr_settings *s, const azr_conf_def *d, const char *v, size_t len, char *err,
                       size_t errcap)
{
    char b[72];
    uint8_t *field = (uint8_t *)s + d->offset;
    switch (d->type) {
    case AZR_CT_BOOL: {
        bool x;
        if (azr_config_parse_bool(v, len, &x) != AZR_OK) {
            snprintf(err, errcap, "%s: '%s' is not a boolean (True/False, Yes/No, 1/0)", d->name,
                     shown(v, len, b));
            return AZR_E_ARG;
        }
        memcpy(field, &x, sizeof x);
        break;
    }
    case AZR_CT_INT: {
        long x;
        if (azr_config_parse_long(v, len, &x) != AZR_OK || x < d->min || x > d->max) {
            snprintf(err, errcap, "%s: '%s' is not an integer from %ld to %ld", d->name,
                     shown(v, len, b), d->min, d->max);
            return AZR_E_ARG;
        }
        unsigned vmin, vmax;
        if (d->offset == OFF(ssl_enabled_protocols)) {
            azr_err e = azr_tls_versions(x, &vmin, &vmax, err, errcap);
            if (e != AZR_OK)
                return e;
        }
        memcpy(field, &x, sizeof x);
        break;
    }
    case AZR_CT_ENUM: {
        long x;
        if (!enum_lookup(d->enums, v, len, &x)) {
            if (d->offset == OFF(ssl_cert_store_type) &&
                azr_config_parse_long(v, len, &x) == AZR_OK && x >= 0 && x <= 99) {
                snprintf(err, errcap,
                         "%s: store type %ld is not supported: azrelay reads PEM files "
                         "(6=PEMKeyFile, 99=Auto)",
                         d->name, x);
                return AZR_E_UNSUPPORTED;
            }
            snprintf(err, errcap, "%s: '%s' is not one of %s", d->name, shown(v, len, b), d->enums);
            return AZR_E_ARG;
        }
        memcpy(field, &x, sizeof x);
        break;
    }
    case AZR_CT_FLAGS: {
        uint32_t x;
        if (!parse_u32(v, len, &x)) {
            snprintf(err, errcap, "%s: '%s' is not a number from 0 to 0xFFFFFFFF", d->name,
                     shown(v, len, b));
            return AZR_E_ARG;
        }
        memcpy(field, &x, sizeof x);
        break;
    }
    case AZR_CT_STR:
        if (len > (size_t)d->max || len >= d->size) {
            snprintf(err, errcap, "%s: value longer than %ld characters", d->name, d->max);
            return AZR_E_LIMIT;
        }
        if (memchr(v, '\0', len) || memchr(v, '\n', len) || memchr(v, '\r', len)) {
            if (!(d->flags & AZR_CF_MULTILINE)) {
                snprintf(err, errcap, "%s: value contains a control character (NUL, CR or LF)",
                         d->name);
                return AZR_E_ARG;
            }
        }
        if (d->offset == OFF(namespace_address)) {
            azr_endpoint ep;
            if (len == 0) {
                memset(&s->relay, 0, sizeof s->relay);
            } else {
                azr_err e = azr_endpoint_parse(v, len, &ep, err, errcap);
                if (e != AZR_OK)
                    return e;
                s->relay = ep;
            }
        }
        if (d->offset == OFF(other_headers) || d->offset == OFF(firewall_data))
            return set_headers(s, d, v, len, err, errcap);
        if (d->offset == OFF(access_key_file) || d->offset == OFF(connection_string_file))
            return set_secret_file(s, d, v, len, err, errcap);
        azr_err ce = AZR_OK;
        if (d->offset == OFF(proxy_server))
            ce = check_host(d, v, len, err, errcap);
        if (d->offset == OFF(proxy_authorization) || d->offset == OFF(port_name))
            ce = check_text(d, v, len, err, errcap);
        if (d->offset == OFF(proxy_exceptions))
            ce = azr_bypass_check(v, len, err, errcap);
        if (d->offset == OFF(status_socket))
            ce = check_socket_path(d, v, len, err, errcap);
        if (d->offset == OFF(metrics_address) && len > 0) {
            char host[AZR_HOSTPORT_MAX + 1];
            uint16_t port;
            ce = azr_config_hostport(v, len, host, sizeof host, &port, err, errcap);
        }
        if (ce != AZR_OK)
            return ce;
        if (d->offset == OFF(ssl_enabled_cipher_suites)) {
            char text[sizeof s->ssl_enabled_cipher_suites];
            azr_tls_suites su;
            memcpy(text, v, len);
            text[len] = '\0';
            azr_err e = azr_tls_suites_parse(text, &su, err, errcap);
            if (e != AZR_OK)
                return e;
        }
        memcpy(field, v, len);
        field[len] = '\0';
        break;
    default:
        snprintf(err, errcap, "%s: internal table error", d->name);
        return AZR_E_STATE;
    }
    post_set(s, d);
    return AZR_OK;
}

void azr_settings_init(azr_settings *s)
{
    char err[AZR_CONF_ERR_MAX];
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < azr_config_count; i++) {
        const azr_conf_def *d = &azr_config_table[i];
        if (d->offset == SIZE_MAX)
            continue;
        /* defaults are checked by the tests; a bad one would stay zero */
        if (set_def(s, d, d->dflt, strlen(d->dflt), err, sizeof err) != AZR_OK)
            continue;
    }
    s->keep_alive = false;     /* the keep-alive timers' defaults must not switch it on */
    s->proxy_port_set = false; /* a default is not a given port */
}

void azr_settings_wipe(azr_settings *s)
{
    azr_wipe(s->access_key, sizeof s->access_key);
    azr_wipe(s->access_signature, sizeof s->access_signature);
    azr_wipe(s->firewall_password, sizeof s->firewall_password);
    azr_wipe(s->proxy_password, sizeof s->proxy_password);
    azr_wipe(s->proxy_authorization, sizeof s->proxy_authorization);
    azr_wipe(s->firewall_data, sizeof s->firewall_data);
}

/* One table entry's value, the same in a and b? */
static bool field_same(const azr_settings *a, const azr_settings *b, const azr_conf_def *d)
{
    const uint8_t *x = (const uint8_t *)a + d->offset, *y = (const uint8_t *)b + d->offset;
    switch (d->type) {
    case AZR_CT_BOOL:
        return memcmp(x, y, sizeof(bool)) == 0;
    case AZR_CT_INT:
    case AZR_CT_ENUM:
        return memcmp(x, y, sizeof(long)) == 0;
    case AZR_CT_FLAGS:
        return memcmp(x, y, sizeof(uint32_t)) == 0;
    default: /* a string: what follows its NUL is left over from longer values */
        return strncmp((const char *)x, (const char *)y, d->size) == 0;
    }
}

size_t azr_config_diff(const azr_settings *a, const azr_settings *b, char *out, size_t cap)
{
    size_t n = 0, used = 0;
    if (cap)
        out[0] = '\0';
    for (size_t i = 0; i < azr_config_count; i++) {
        const azr_conf_def *d = &azr_config_table[i];
        bool same;
        if (d->flags & (AZR_CF_READONLY | AZR_CF_DAEMON))
            continue; /* a daemon-wide setting is the daemon's to apply, not a forward's */
        if (d->offset == SIZE_MAX) /* ConnectionString: its token has no setting of its own */
            same = !azr_text_ieq(d->name, strlen(d->name), "ConnectionString") ||
                   strcmp(a->access_signature, b->access_signature) == 0;
        else
            same = field_same(a, b, d);
        /* an alias (TCPKeepAlive) shares its field with the name before it */
        for (size_t k = 0; !same && d->offset != SIZE_MAX && k < i; k++)
            same = azr_config_table[k].offset == d->offset &&
                   !(azr_config_table[k].flags & AZR_CF_READONLY);
        if (d->offset == OFF(firewall_port))
            same = same && a->firewall_port_set == b->firewall_port_set;
        if (d->offset == OFF(proxy_port))
            same = same && a->proxy_port_set == b->proxy_port_set;
        if (same)
            continue;
        n++;
        int k =
            cap > used ? snprintf(out + used, cap - used, "%s%s", used ? ", " : "", d->name) : -1;
        if (k > 0 && (size_t)k < cap - used)
            used += (size_t)k;
        else if (cap > used)
            out[used] = '\0'; /* the names that fit, none cut in half */
    }
    return n;
}

azr_err azr_config_set(azr_settings *s, const char *name, size_t name_len, const char *value,
                       size_t value_len, char *err, size_t errcap)
{
    if (errcap)
        err[0] = '\0';
    azr_text_trim(&name, &name_len);
    azr_text_trim(&value, &value_len);
    const azr_conf_def *d = azr_config_find(name, name_len);
    if (!d)
        return unknown(name, name_len, err, errcap);
    if (d->flags & AZR_CF_READONLY) {
        snprintf(err, errcap, "%s is read-only", d->name);
        return AZR_E_STATE;
    }
    if (azr_text_ieq(d->name, strlen(d->name), "ConnectionString"))
        return set_connstr(s, value, value_len, err, errcap);
    return set_def(s, d, value, value_len, err, errcap);
}

azr_err azr_config_apply(azr_settings *s, const char *stmt, size_t len, char *err, size_t errcap)
{
    const char *eq = memchr(stmt, '=', len);
    if (!eq) {
        const char *n = stmt;
        size_t nl = len;
        char b[72];
        azr_text_trim(&n, &nl);
        if (nl == 0) {
            snprintf(err, errcap, "empty setting");
            return AZR_E_ARG;
        }
        const azr_conf_def *d = azr_config_find(n, nl);
        if (!d)
            return unknown(n, nl, err, errcap);
        snprintf(err, errcap, "'%s' has no value: write %s=VALUE", shown(n, nl, b), d->name);
        return AZR_E_ARG;
    }
    return azr_config_set(s, stmt, (size_t)(eq - stmt), eq + 1, len - (size_t)(eq - stmt) - 1, err,
                          errcap);
}

azr_err azr_config_line(azr_settings *s, const char *line, size_t len, char *err, size_t errcap)
{
    if (len > AZR_CONF_LINE_MAX) {
        snprintf(err, errcap, "line longer than %d characters", AZR_CONF_LINE_MAX);
        return AZR_E_LIMIT;
    }
    const char *p = line;
    size_t n = len;
    azr_text_trim(&p, &n);
    if (n == 0 || p[0] == '#')
        return AZR_OK;
    return azr_config_apply(s, p, n, err, errcap);
}

static azr_err access_token(const azr_settings *s, int64_t now, char *out, size_t cap, char *err,
                            size_t errcap)
{
    size_t n;
    if (s->access_signature[0]) {
        n = strlen(s->access_signature);
        if (n >= cap)
            return AZR_E_LIMIT;
        memcpy(out, s->access_signature, n + 1);
        return AZR_OK;
    }
    const char *missing = !s->relay.host[0]          ? "NamespaceAddress"
                          : !s->hybrid_connection[0] ? "HybridConnection"
                          : !s->access_key_name[0]   ? "AccessKeyName"
                          : !s->access_key[0]        ? "AccessKey"
                                                     : NULL;
    if (missing) {
        snprintf(err, errcap, "AccessToken needs %s to be set", missing);
        return AZR_E_STATE;
    }
    azr_sas_params p = {
        s->relay.host, s->relay.port,           s->hybrid_connection,           s->access_key_name,
        s->access_key, now + s->token_validity, (azr_sas_form)s->token_audience};
    azr_err e = azr_sas_token(&p, out, cap, &n);
    if (e != AZR_OK)
        snprintf(err, errcap, "AccessToken: %s", azr_err_name(e));
    return e;
}

/* What StartListening would take now (the process's environment included). */
static azr_err proxy_route(const azr_settings *s, char *out, size_t cap, char *err, size_t errcap)
{
    azr_route r;
    azr_err e =
        azr_route_compute(s, azr_route_env_os, NULL, s->relay.host, s->relay.tls, &r, err, errcap);
    if (e == AZR_OK && (size_t)snprintf(out, cap, "%s", r.source) >= cap) {
        snprintf(err, errcap, "ProxyRoute: output buffer too small");
        out[0] = '\0';
        e = AZR_E_LIMIT;
    }
    azr_route_wipe(&r);
    return e;
}

azr_err azr_config_get(const azr_settings *s, const char *name, size_t name_len, int64_t now,
                       char *out, size_t cap, char *err, size_t errcap)
{
    if (errcap)
        err[0] = '\0';
    if (cap == 0)
        return AZR_E_LIMIT;
    out[0] = '\0';
    azr_text_trim(&name, &name_len);
    const azr_conf_def *d = azr_config_find(name, name_len);
    if (!d)
        return unknown(name, name_len, err, errcap);
    if (d->flags & AZR_CF_WRITEONLY) {
        snprintf(err, errcap, "%s is write-only", d->name);
        return AZR_E_STATE;
    }
    if (azr_text_ieq(d->name, strlen(d->name), "AccessToken"))
        return access_token(s, now, out, cap, err, errcap);
    if (azr_text_ieq(d->name, strlen(d->name), "ProxyRoute"))
        return proxy_route(s, out, cap, err, errcap);
    const uint8_t *field = (const uint8_t *)s + d->offset;
    int n;
    switch (d->type) {
    case AZR_CT_BOOL: {
        bool x;
        memcpy(&x, field, sizeof x);
        n = snprintf(out, cap, "%s", x ? "True" : "False");
        break;
    }
    case AZR_CT_INT:
    case AZR_CT_ENUM: {
        long x;
        memcpy(&x, field, sizeof x);
        n = snprintf(out, cap, "%ld", x);
        break;
    }
    case AZR_CT_FLAGS: {
        uint32_t x;
        memcpy(&x, field, sizeof x);
        n = snprintf(out, cap, "0x%08lX", (unsigned long)x);
        break;
    }
    case AZR_CT_STR:
        n = snprintf(out, cap, "%s", (const char *)field);
        break;
    default:
        return AZR_E_STATE;
    }
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errcap, "%s: output buffer too small", d->name);
        out[0] = '\0';
        return AZR_E_LIMIT;
    }
    return AZR_OK;
}
