/*
 * Relay addresses and connection strings (relay-protocol.md §2.1, §9).
 * Pure parsers: text in, fields or an error text out. No allocation.
 */
#ifndef AZR_CONNSTR_H
#define AZR_CONNSTR_H

#include "err.h"
#include "bounds.h"

typedef struct azr_endpoint {
    char host[AZR_HOST_MAX + 1]; /* without brackets for IPv6 literals */
    uint16_t port;               /* 443 for wss/sb, 80 for ws, unless given */
    bool tls;                    /* false only for ws:// (emulators and tests) */
} azr_endpoint;

/*
 * Parse a NamespaceAddress: host, host:port, [v6]:port, sb://host[:port][/],
 * wss://host[:port][/], ws://host[:port][/]. A path other than "/" is refused
 * (the name goes in HybridConnection). AZR_E_ARG with a reason in err.
 */
AZR_MUST_CHECK azr_err azr_endpoint_parse(const char *s, size_t len, azr_endpoint *ep, char *err,
                                          size_t errcap);

typedef struct azr_connstr {
    azr_endpoint endpoint;
    char key_name[AZR_KEYNAME_MAX + 1];
    char key[AZR_KEY_MAX + 1];
    char entity_path[AZR_HC_MAX + 1];
    char sas[AZR_SAS_MAX + 1]; /* SharedAccessSignature: a ready-made token */
    long operation_timeout;    /* seconds; -1 when absent */
    bool has_key_name, has_key, has_entity_path, has_sas;
} azr_connstr;

/*
 * Parse Endpoint=sb://ns/;SharedAccessKeyName=..;SharedAccessKey=..;EntityPath=..
 * the way Microsoft's RelayConnectionStringBuilder does: items split on ';',
 * empty items ignored, each split at its first '=', keys case-insensitive,
 * whitespace around items and keys trimmed. Refused, with the offending key
 * named in err: an item without '=', an unknown or repeated key, a missing
 * Endpoint, a key name without a key (or the reverse), a token together with
 * a key, a value over its bound.
 */
AZR_MUST_CHECK azr_err azr_connstr_parse(const char *s, size_t len, azr_connstr *cs, char *err,
                                         size_t errcap);

#endif
