/*
 * Every fixed bound in azrelay, in one list (after curl's dynbuf.h ceilings).
 * Runtime bounds that users may change live in the config table (config.c)
 * with their own min/max; the constants below are the hard ceilings.
 */
#ifndef AZR_BOUNDS_H
#define AZR_BOUNDS_H

/* HTTP/1.1 response head (status line + headers + blank line), RFC 9112. */
#define AZR_HTTP_MAX_HEAD    8192
#define AZR_HTTP_MAX_HEADERS 32
/* Body bytes of a refused upgrade kept for the error message. */
#define AZR_HTTP_MAX_BODY 1024
/* Reason phrase kept (sanitised) for messages. */
#define AZR_HTTP_MAX_REASON 256
/* Upgrade / CONNECT request we build. */
#define AZR_HTTP_MAX_REQUEST 4096
/* RFC 6455 §5.5: control frame payload. */
#define AZR_WS_MAX_CTRL 125
/* Longest frame header: 2 + 8 (length) + 4 (mask). */
#define AZR_WS_MAX_HDR 14
/* URL we build (path + query), host names. */
#define AZR_URL_MAX  2048
#define AZR_HOST_MAX 255
/* SAS token text and its inputs (key names and keys are <= 256 in the SDKs). */
#define AZR_SAS_MAX     2048
#define AZR_KEYNAME_MAX 256
#define AZR_KEY_MAX     256
/* Hybrid connection name (may hold '/'). */
#define AZR_HC_MAX 512
/* One configuration value and one config-file line. */
#define AZR_CONF_VALUE_MAX 4096
#define AZR_CONF_LINE_MAX  8192
/* A config file, whole: far above any real one (the vocabulary fits in a few KiB),
 * low enough that /dev/zero or a log file named by mistake is refused at once. */
#define AZR_CONF_FILE_MAX (1024 * 1024)
/* Connection string text. */
#define AZR_CONNSTR_MAX 4096
/* A file holding a secret (AccessKeyFile, ConnectionStringFile): the longest
 * path, and the most bytes read looking for the end of its first line (the
 * longest value, a connection string, plus CR LF). */
#define AZR_SECRET_PATH_MAX 1023
#define AZR_SECRET_READ_MAX (AZR_CONNSTR_MAX + 2)
/* SOCKS: RFC 1928 domain and RFC 1929 user/password are one length byte each. */
#define AZR_SOCKS_MAX_NAME 255
/* azbridge (Azure/azure-relay-bridge) port name: one length byte in its
 * preamble, and the listener reads it into a 256-byte buffer (length + 255). */
#define AZR_AZBRIDGE_MAX_NAME 255
/* Proxies: FirewallData (stored as CRLF lines), ProxyAuthorization (a header value),
 * ProxyExceptionsList, and the route's description for logs and Config("ProxyRoute"). */
#define AZR_PROXY_DATA_MAX       1024
#define AZR_PROXY_AUTHZ_MAX      1024
#define AZR_PROXY_EXCEPTIONS_MAX 2047
#define AZR_ROUTE_SOURCE_MAX     512
/* PortName: an azbridge port name (see AZR_AZBRIDGE_MAX_NAME). */
#define AZR_PORTNAME_MAX AZR_AZBRIDGE_MAX_NAME
/* X.509: a distinguished name as text (CN=..., O=...), and a leaf certificate kept
 * whole (client certificates for SSLClientAuthentication; relay leaves when
 * SSLSecurityFlags ignores time validity). */
#define AZR_CERT_DN_MAX   512
#define AZR_CERT_LEAF_MAX 8192
/* azrelay-proxy's metrics endpoint (MetricsAddress): the longest request head
 * it reads (a GET with its headers; what a scraper sends is a few hundred
 * bytes) and the most header lines in it. */
#define AZR_HTTPREQ_MAX_HEAD    4096
#define AZR_HTTPREQ_MAX_HEADERS 64
/* azrelay-proxy's StatusSocket path (a unix socket's sun_path holds 108 bytes
 * with the NUL) and MetricsAddress (HOST:PORT, an IPv6 HOST in brackets). */
#define AZR_STATUS_PATH_MAX 107
#define AZR_HOSTPORT_MAX    (AZR_HOST_MAX + 8)
/* Error text kept by a parser context. */
#define AZR_ERRTEXT_MAX 256

#endif
