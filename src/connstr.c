#include "connstr.h"
#include "text.h"

/* Error text: fmt with one "%s" for a (possibly unterminated) argument, printed at most 120 chars.
 */
static void seterr(char *err, size_t cap, const char *fmt, const char *a, size_t alen)
{
    char tmp[128];
    azr_text_printable(a, alen, 120, tmp, sizeof tmp);
    if (cap) {
        /* fmt holds one "%s": substituted here so no format string is built at run time */
        const char *at = strstr(fmt, "%s");
        int pre = at ? (int)(at - fmt) : (int)strlen(fmt);
        snprintf(err, cap, "%.*s%s%s", pre, fmt, at ? tmp : "", at ? at + 2 : "");
    }
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

azr_err azr_endpoint_parse(const char *s, size_t len, azr_endpoint *ep, char *err, size_t errcap)
{
    memset(ep, 0, sizeof *ep);
    azr_text_trim(&s, &len);
    const char *whole = s;
    size_t wlen = len;
    ep->tls = true;
    ep->port = 443;
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < len; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            sep = s + i;
            break;
        }
    if (sep) {
        size_t sl = (size_t)(sep - s);
        if (azr_text_ieq(s, sl, "ws")) {
            ep->tls = false;
            ep->port = 80;
        } else if (!azr_text_ieq(s, sl, "sb") && !azr_text_ieq(s, sl, "wss")) {
            seterr(err, errcap,
                   "NamespaceAddress '%s': scheme must be sb://, wss:// or ws:// (or none)", whole,
                   wlen);
            return AZR_E_ARG;
        }
        len -= sl + 3;
        s = sep + 3;
        /* sb://ns/ and sb://ns behave the same; any other path is refused */
        if (len && s[len - 1] == '/')
            len--;
    }
    if (len == 0) {
        seterr(err, errcap, "NamespaceAddress '%s': no host name", whole, wlen);
        return AZR_E_ARG;
    }
    const char *host = s, *hend;
    const char *rest;
    if (s[0] == '[') { /* RFC 3986 §3.2.2 IP-literal */
        const char *close = memchr(s, ']', len);
        if (!close || close == s + 1) {
            seterr(err, errcap, "NamespaceAddress '%s': unterminated IPv6 literal", whole, wlen);
            return AZR_E_ARG;
        }
        host = s + 1;
        hend = close;
        for (const char *p = host; p < hend; p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                  (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.')) {
                seterr(err, errcap, "NamespaceAddress '%s': bad IPv6 literal", whole, wlen);
                return AZR_E_ARG;
            }
        rest = close + 1;
    } else {
        hend = s;
        while (hend < s + len && host_char(*hend))
            hend++;
        rest = hend;
    }
    const char *end = s + len;
    if (rest < end && *rest == ':') {
        const char *p = rest + 1;
        unsigned long port = 0;
        if (p == end) {
            seterr(err, errcap, "NamespaceAddress '%s': empty port", whole, wlen);
            return AZR_E_ARG;
        }
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            port = port * 10 + (unsigned long)(*p - '0');
            if (port > 65535)
                break;
        }
        if (p != end || port == 0 || port > 65535) {
            seterr(err, errcap, "NamespaceAddress '%s': port must be 1-65535", whole, wlen);
            return AZR_E_ARG;
        }
        ep->port = (uint16_t)port;
        rest = end;
    }
    if (rest != end) {
        if (*rest == '/' || *rest == '?')
            seterr(err, errcap,
                   "NamespaceAddress '%s' has a path or query: give the namespace only and put the "
                   "name in HybridConnection",
                   whole, wlen);
        else
            seterr(err, errcap, "NamespaceAddress '%s': invalid character in host name", whole,
                   wlen);
        return AZR_E_ARG;
    }
    size_t hl = (size_t)(hend - host);
    if (hl == 0 || hl > AZR_HOST_MAX) {
        seterr(err, errcap, "NamespaceAddress '%s': host name empty or longer than 255", whole,
               wlen);
        return AZR_E_ARG;
    }
    memcpy(ep->host, host, hl);
    ep->host[hl] = '\0';
    return AZR_OK;
}

static azr_err copy_val(char *dst, size_t cap, const char *v, size_t vl, const char *key, char *err,
                        size_t errcap)
{
    if (vl >= cap) {
        seterr(err, errcap, "connection string: value of %s is too long", key, strlen(key));
        return AZR_E_LIMIT;
    }
    memcpy(dst, v, vl);
    dst[vl] = '\0';
    return AZR_OK;
}

/* .NET TimeSpan "[d.]hh:mm:ss" or plain seconds. */
static bool parse_timespan(const char *v, size_t vl, long *out)
{
    long parts[4] = {0};
    int np = 0;
    long cur = 0;
    bool digit = false;
    long days = 0;
    for (size_t i = 0; i <= vl; i++) {
        char c = i < vl ? v[i] : ':';
        if (c >= '0' && c <= '9') {
            if (cur > 100000000L)
                return false;
            cur = cur * 10 + (c - '0');
            digit = true;
        } else if (c == ':' || (c == '.' && np == 0 && days == 0)) {
            if (!digit || np >= 3)
                return false;
            if (c == '.') {
                days = cur + 1; /* +1 marks "days given" */
            } else {
                parts[np++] = cur;
            }
            cur = 0;
            digit = false;
        } else {
            return false;
        }
    }
    if (np == 1 && days == 0)
        *out = parts[0];
    else if (np == 3 && parts[1] < 60 && parts[2] < 60)
        *out = (days ? days - 1 : 0) * 86400 + parts[0] * 3600 + parts[1] * 60 + parts[2];
    else
        return false;
    return true;
}

azr_err azr_connstr_parse(const char *s, size_t len, azr_connstr *cs, char *err, size_t errcap)
{
    memset(cs, 0, sizeof *cs);
    cs->operation_timeout = -1;
    bool has_endpoint = false, has_timeout = false;
    if (len > AZR_CONNSTR_MAX) {
        seterr(err, errcap, "connection string longer than %s characters", "4096", 4);
        return AZR_E_LIMIT;
    }
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && s[j] != ';')
            j++;
        const char *item = s + i;
        size_t il = j - i;
        i = j + 1;
        azr_text_trim(&item, &il);
        if (il == 0)
            continue;
        const char *eq = memchr(item, '=', il);
        if (!eq) {
            seterr(err, errcap, "connection string: item '%s' has no '='", item, il);
            return AZR_E_ARG;
        }
        const char *k = item, *v = eq + 1;
        size_t kl = (size_t)(eq - item), vl = il - kl - 1;
        azr_text_trim(&k, &kl);
        azr_text_trim(&v, &vl);
        azr_err e = AZR_OK;
        bool dup = false;
        if (azr_text_ieq(k, kl, "Endpoint")) {
            dup = has_endpoint;
            has_endpoint = true;
            if (vl >= 5 && azr_text_ieq(v, 5, "hc://")) {
                seterr(err, errcap,
                       "connection string: Endpoint '%s' is a BizTalk Services address, not an "
                       "Azure Relay namespace (sb://...)",
                       v, vl);
                return AZR_E_ARG;
            }
            if (!memchr(v, ':', vl)) {
                seterr(err, errcap,
                       "connection string: Endpoint '%s' must be an absolute sb:// URI", v, vl);
                return AZR_E_ARG;
            }
            e = azr_endpoint_parse(v, vl, &cs->endpoint, err, errcap);
        } else if (azr_text_ieq(k, kl, "SharedAccessKeyName")) {
            dup = cs->has_key_name;
            cs->has_key_name = true;
            e = copy_val(cs->key_name, sizeof cs->key_name, v, vl, "SharedAccessKeyName", err,
                         errcap);
        } else if (azr_text_ieq(k, kl, "SharedAccessKey")) {
            dup = cs->has_key;
            cs->has_key = true;
            e = copy_val(cs->key, sizeof cs->key, v, vl, "SharedAccessKey", err, errcap);
        } else if (azr_text_ieq(k, kl, "EntityPath")) {
            dup = cs->has_entity_path;
            cs->has_entity_path = true;
            e = copy_val(cs->entity_path, sizeof cs->entity_path, v, vl, "EntityPath", err, errcap);
        } else if (azr_text_ieq(k, kl, "SharedAccessSignature")) {
            dup = cs->has_sas;
            cs->has_sas = true;
            e = copy_val(cs->sas, sizeof cs->sas, v, vl, "SharedAccessSignature", err, errcap);
        } else if (azr_text_ieq(k, kl, "OperationTimeout")) {
            dup = has_timeout;
            has_timeout = true;
            if (!parse_timespan(v, vl, &cs->operation_timeout)) {
                seterr(err, errcap,
                       "connection string: OperationTimeout '%s' is not hh:mm:ss or seconds", v,
                       vl);
                return AZR_E_ARG;
            }
        } else if (azr_text_ieq(k, kl, "Authentication")) {
            seterr(err, errcap,
                   "connection string: Authentication=%s (Entra ID) is not supported: use a "
                   "SharedAccessKeyName and SharedAccessKey",
                   v, vl);
            return AZR_E_UNSUPPORTED;
        } else {
            seterr(err, errcap, "connection string: unknown key '%s'", k, kl);
            return AZR_E_ARG;
        }
        if (e != AZR_OK)
            return e;
        if (dup) {
            seterr(err, errcap, "connection string: key '%s' given twice", k, kl);
            return AZR_E_ARG;
        }
    }
    if (!has_endpoint) {
        seterr(err, errcap, "connection string: %s is required", "Endpoint", 8);
        return AZR_E_ARG;
    }
    if (cs->has_key_name != cs->has_key) {
        const char *m = cs->has_key ? "SharedAccessKey given without SharedAccessKeyName"
                                    : "SharedAccessKeyName given without SharedAccessKey";
        seterr(err, errcap, "connection string: %s", m, strlen(m));
        return AZR_E_ARG;
    }
    if (cs->has_sas && cs->has_key) {
        const char *m = "SharedAccessSignature cannot be combined with SharedAccessKeyName/Key";
        seterr(err, errcap, "connection string: %s", m, strlen(m));
        return AZR_E_ARG;
    }
    return AZR_OK;
}
