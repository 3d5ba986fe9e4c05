/*
 * The configuration vocabulary: the only place the reference class's names
 * live. The C API's Config("Name=Value"), the daemon's config file and its
 * command line all go through azr_config_set(), so a name means one thing
 * and every value is checked once, against one table.
 *
 * Values: names are case-insensitive; booleans accept True/False, Yes/No,
 * 1/0 (any case); integers are decimal (or 0x hex) and range-checked;
 * enumerations accept their number or their name. Strings are stored in
 * fixed arrays (no allocation); secrets are wiped by azr_settings_wipe().
 */
#ifndef AZR_CONFIG_H
#define AZR_CONFIG_H

#include "connstr.h"
#include "err.h"
#include "bounds.h"

#define AZR_CONF_ERR_MAX 768

typedef struct azr_settings {
    /* relay (class properties) */
    char namespace_address[AZR_HOST_MAX + 16]; /* as given */
    azr_endpoint relay;                        /* parsed from namespace_address */
    char hybrid_connection[AZR_HC_MAX + 1];
    char access_key_name[AZR_KEYNAME_MAX + 1];
    char access_key[AZR_KEY_MAX + 1];
    char access_signature[AZR_SAS_MAX + 1];        /* ready-made token from a connection string */
    char access_key_file[AZR_SECRET_PATH_MAX + 1]; /* as given; read when set */
    char connection_string_file[AZR_SECRET_PATH_MAX + 1]; /* as given; read when set */
    bool insecure_secret_files; /* loose modes on secret files: warn, do not refuse */
    bool allow_core_dumps;      /* the daemon's: leave the process dumpable */
    /* local listener (class properties) */
    char local_host[AZR_HOST_MAX + 1];
    long local_port;
    long connection_backlog;
    long default_idle_timeout;
    long default_timeout;
    bool keep_alive;
    bool linger;
    bool listening; /* read-only: reported by the proxy */
    /* class config settings */
    long log_level;
    long log_format;      /* the daemon's log lines: 0 text, 1 JSON */
    char log_target[256]; /* "stderr", "syslog" or "syslog:PATH" */
    long token_validity;
    long connection_timeout;
    long firewall_type;
    char firewall_host[AZR_HOST_MAX + 1];
    long firewall_port;
    char firewall_user[AZR_SOCKS_MAX_NAME + 1];
    char firewall_password[AZR_SOCKS_MAX_NAME + 1];
    bool firewall_port_set; /* FirewallPort was given (not FirewallType's default) */
    bool firewall_auto_detect;
    char firewall_data[AZR_PROXY_DATA_MAX + 1]; /* "Name: value\r\n" lines */
    char proxy_server[AZR_HOST_MAX + 1];
    long proxy_port;
    bool proxy_port_set; /* ProxyPort was given (not its default) */
    char proxy_user[AZR_SOCKS_MAX_NAME + 1];
    char proxy_password[AZR_SOCKS_MAX_NAME + 1];
    long proxy_auth_scheme; /* AZR_PROXY_AUTH_* */
    char proxy_authorization[AZR_PROXY_AUTHZ_MAX + 1];
    char proxy_exceptions[AZR_PROXY_EXCEPTIONS_MAX + 1];
    long max_transfer_rate; /* bytes/s towards the relay, 0: no limit */
    long keep_alive_time;
    long keep_alive_interval;
    long keep_alive_retry_count;
    long linger_time;
    bool tcp_no_delay;
    long in_buffer_size;
    long out_buffer_size;
    long ssl_out_buffer_size; /* plaintext bytes per TLS record we write */
    long use_ipv6;
    char user_agent[256];
    char other_headers[AZR_CONF_VALUE_MAX];
    /* azrelay's own settings */
    long token_audience;
    long token_location;
    long max_frame_size;
    long relay_keep_alive_interval;
    long half_close_timeout;              /* seconds of inactivity allowed once a side has closed */
    long max_connections;                 /* 0: from the descriptor limit */
    long max_transfer_rate_in;            /* bytes/s towards the client, 0: no limit */
    char port_name[AZR_PORTNAME_MAX + 1]; /* azbridge listener port, "" for raw bytes */
    bool absolute_timeout; /* Timeout counts from the stall's start, not the last byte */
    bool strict_utf8;
    long event_loop;
    long drain_timeout; /* azrelay-proxy: seconds a stopping forward's connections may finish */
    char status_socket[AZR_STATUS_PATH_MAX + 1]; /* azrelay-proxy: the --status socket, "" off */
    char metrics_address[AZR_HOSTPORT_MAX + 1];  /* azrelay-proxy: HOST:PORT of /metrics, "" off */
    char ssl_ca_cert_file_paths[1024];
    /* local TLS (class properties: SSLEnabled, SSLStartMode, the SSLCert fields) */
    bool ssl_enabled;
    long ssl_start_mode;
    char ssl_cert_store[1024];
    long ssl_cert_store_type;
    char ssl_cert_store_password[256];
    char ssl_cert_subject[256];
    /* TLS, both sides */
    char ssl_enabled_cipher_suites[2048];
    long ssl_enabled_protocols;
    char ssl_key_log_file[1024];
    char ssl_server_ca_certs[16384];
    uint32_t ssl_security_flags; /* relay side: loosened certificate checks */
    bool reuse_ssl_session;      /* relay side: resume the last TLS session */
    /* client certificates (local TLS) */
    bool ssl_authenticate_clients;
    char ssl_client_ca_certs[16384];
} azr_settings;

/* ProxyAuthScheme: the class's numbers, and Auto (ours). */
#define AZR_PROXY_AUTH_BASIC     0
#define AZR_PROXY_AUTH_DIGEST    1
#define AZR_PROXY_AUTH_NONE      3
#define AZR_PROXY_AUTH_NTLM      4
#define AZR_PROXY_AUTH_NEGOTIATE 5
#define AZR_PROXY_AUTH_AUTO      99

/* Setting types and flags of the table. */
enum {
    AZR_CT_BOOL = 1,
    AZR_CT_INT,
    AZR_CT_STR,
    AZR_CT_ENUM,
    AZR_CT_FLAGS /* uint32_t bits, 0x hex */
};
#define AZR_CF_SECRET    1u /* never logged; --help shows no value */
#define AZR_CF_READONLY  2u /* Config("Name") only */
#define AZR_CF_OURS      4u /* azrelay's own, not the reference class's */
#define AZR_CF_PROPERTY  8u /* a class property (the rest are config settings) */
#define AZR_CF_WRITEONLY 16u
#define AZR_CF_MULTILINE 32u /* STR: CR/LF allowed (header lines, PEM text) */
#define AZR_CF_DAEMON                                                                              \
    64u /* the daemon's, for every forward at once: top level only, and                            \
           no forward changes with it on a reload */

typedef struct azr_conf_def {
    const char *name;  /* the class's spelling */
    uint8_t type;      /* AZR_CT_* */
    uint8_t flags;     /* AZR_CF_* */
    long min, max;     /* INT: range; STR: max length in min..max */
    const char *dflt;  /* default as text */
    size_t offset;     /* offsetof(azr_settings, field); SIZE_MAX: computed */
    size_t size;       /* STR: array size */
    const char *enums; /* ENUM: "0=None,1=Tunnel,..." */
    const char *help;  /* one paragraph for --help */
} azr_conf_def;

/* The table, and its length. */
extern const azr_conf_def azr_config_table[];
extern const size_t azr_config_count;

/* Names the reference class defines that azrelay does not implement (yet). */
typedef struct azr_conf_unsupported {
    const char *name;
    const char *hint; /* what to use instead, or NULL */
} azr_conf_unsupported;
extern const azr_conf_unsupported azr_config_unsupported[];
extern const size_t azr_config_unsupported_count;

/* Every setting to its default. */
void azr_settings_init(azr_settings *s);
/* Wipe key material (AccessKey, FirewallPassword, ProxyPassword, ProxyAuthorization,
 * tokens) before freeing. */
void azr_settings_wipe(azr_settings *s);

/* Table entry by name (case-insensitive), or NULL. */
const azr_conf_def *azr_config_find(const char *name, size_t len);

/*
 * Set one value. Errors, with a sentence in err (AZR_CONF_ERR_MAX is enough):
 * AZR_E_ARG unknown name (with the nearest known name suggested) or bad value
 * (with the accepted range), AZR_E_UNSUPPORTED a class name azrelay lacks,
 * AZR_E_STATE read-only. ConnectionString=... sets NamespaceAddress,
 * AccessKeyName, AccessKey, HybridConnection (and ConnectionTimeout).
 * AccessKeyFile=PATH and ConnectionStringFile=PATH read the file's first line
 * now (secretfile.h) and set AccessKey or ConnectionString from it (AZR_E_IO
 * when the file cannot be read). On AZR_OK err holds a warning for the log
 * (a secret file others may open, with InsecureSecretFiles=True), or is "".
 */
AZR_MUST_CHECK azr_err azr_config_set(azr_settings *s, const char *name, size_t name_len,
                                      const char *value, size_t value_len, char *err,
                                      size_t errcap);

/*
 * Read one value as text. now (Unix seconds) is used by AccessToken only,
 * which is computed from the settings. Secrets are returned as stored: the
 * caller decides where they may go (never into logs).
 */
AZR_MUST_CHECK azr_err azr_config_get(const azr_settings *s, const char *name, size_t name_len,
                                      int64_t now, char *out, size_t cap, char *err, size_t errcap);

/*
 * One "Name=Value" statement, as Config() and the daemon's argv take it.
 * Whitespace around the name and the value is trimmed. A statement without
 * '=' is refused with a hint (reading is azr_config_get's job).
 */
AZR_MUST_CHECK azr_err azr_config_apply(azr_settings *s, const char *stmt, size_t len, char *err,
                                        size_t errcap);

/*
 * One line of a config file: blank lines and lines starting with '#' are
 * skipped; otherwise as azr_config_apply. Lines over AZR_CONF_LINE_MAX are
 * refused.
 */
AZR_MUST_CHECK azr_err azr_config_line(azr_settings *s, const char *line, size_t len, char *err,
                                       size_t errcap);

/*
 * Which settings differ between a and b (values as stored; read-only
 * settings skipped): their table names, ", "-separated, into out[cap], cut
 * short but NUL-terminated when they do not fit. Returns how many differ, 0
 * when a and b are the same. A connection string's SharedAccessSignature
 * counts as ConnectionString; FirewallPort and ProxyPort also differ when
 * one was given and the other is a default of the same value. Names only:
 * secrets are compared, never written.
 */
size_t azr_config_diff(const azr_settings *a, const azr_settings *b, char *out, size_t cap);

/* Boolean and integer parsers of the vocabulary (exposed for tests and argv). */
AZR_MUST_CHECK azr_err azr_config_parse_bool(const char *v, size_t len, bool *out);
AZR_MUST_CHECK azr_err azr_config_parse_long(const char *v, size_t len, long *out);
/* "HOST:PORT" (MetricsAddress): HOST a name or an IPv4 address, or an IPv6
 * address in brackets; PORT 0 to 65535. host[cap] gets HOST without
 * brackets. AZR_E_ARG with a sentence in err[errcap] otherwise. */
AZR_MUST_CHECK azr_err azr_config_hostport(const char *v, size_t len, char *host, size_t cap,
                                           uint16_t *port, char *err, size_t errcap);

#endif
