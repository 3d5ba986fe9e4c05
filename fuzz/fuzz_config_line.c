/*
 * Target: azr_config_line, azr_config_get, azr_connstr_parse,
 * azr_endpoint_parse, azr_sas_parse + azr_sas_check (src/config.c,
 * src/connstr.c, src/sas.c).
 * Invariants: error texts are NUL-terminated within their buffer; a refused
 * line changes no setting; after any accepted line every readable setting
 * can still be read back (but the computed AccessToken and ProxyRoute), and a
 * parsed endpoint has a host and a port.
 */
#include "config.h"
#include "sas.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static azr_settings s, before;
    static char err[AZR_CONF_ERR_MAX + 1], out[AZR_SAS_MAX + 1];
    azr_settings_init(&s);
    before = s;
    err[AZR_CONF_ERR_MAX] = 0x55;
    azr_err e = azr_config_line(&s, (const char *)data, size, err, AZR_CONF_ERR_MAX);
    if (err[AZR_CONF_ERR_MAX] != 0x55 || memchr(err, '\0', AZR_CONF_ERR_MAX) == NULL)
        abort();
    if (e != AZR_OK && memcmp(&s, &before, sizeof s) != 0)
        abort();
    for (size_t i = 0; i < azr_config_count; i++) {
        const azr_conf_def *d = &azr_config_table[i];
        azr_err g = azr_config_get(&s, d->name, strlen(d->name), 1700000000, out, sizeof out, err,
                                   sizeof err);
        /* AccessToken and ProxyRoute are computed from other settings, and say so
         * when those are incomplete or at odds (FirewallType=3 without FirewallHost) */
        if (g != AZR_OK && !(d->flags & AZR_CF_WRITEONLY) && strcmp(d->name, "AccessToken") != 0 &&
            strcmp(d->name, "ProxyRoute") != 0)
            abort();
    }
    if (s.relay.host[0] == '\0' && s.namespace_address[0] != '\0')
        abort();
    azr_connstr cs;
    if (azr_connstr_parse((const char *)data, size, &cs, err, sizeof err) == AZR_OK &&
        (cs.endpoint.host[0] == '\0' || cs.endpoint.port == 0))
        abort();
    static azr_sas_fields f;
    if (azr_sas_parse((const char *)data, size, &f, err, sizeof err) == AZR_OK &&
        azr_sas_check(&f, "key", 0, "ns", "hc1", err, sizeof err) == AZR_OK)
        abort(); /* a random token cannot carry a valid signature for this key */
    azr_endpoint ep;
    if (azr_endpoint_parse((const char *)data, size, &ep, err, sizeof err) == AZR_OK &&
        (ep.host[0] == '\0' || ep.port == 0))
        abort();
    return 0;
}
