/*
 * The vocabulary table: every setting azrelay knows under the reference
 * class's spelling (type, range, default, field, help text for --help and
 * the README), and the class's names azrelay does not implement, each with
 * a hint. Data only: config.c sets and reads values through it.
 */
#include "config.h"
#include "azrelay.h"
#include "sas.h"

#define OFF(f)    offsetof(azr_settings, f)
#define STRF(f)   OFF(f), sizeof(((azr_settings *)0)->f)
#define NOFIELD   SIZE_MAX, 0
#define LONG_SECS 315360000L /* ten years */
#define MAX_BUFSZ (16L * 1024 * 1024)

/* clang-format off */
const azr_conf_def azr_config_table[] = {
    /* relay */
    {"NamespaceAddress", AZR_CT_STR, AZR_CF_PROPERTY, 0, AZR_HOST_MAX + 15, "", STRF(namespace_address), NULL,
     "Relay namespace: host, host:port, sb://host/, wss://host[:port] or ws://host[:port] (plain "
     "WebSocket, for local emulators only). Port 443 unless given (80 for ws://)."},
    {"HybridConnection", AZR_CT_STR, AZR_CF_PROPERTY, 0, AZR_HC_MAX, "", STRF(hybrid_connection), NULL,
     "Hybrid connection name, exactly as created in the namespace ('/' separates segments)."},
    {"AccessKeyName", AZR_CT_STR, AZR_CF_PROPERTY, 0, AZR_KEYNAME_MAX, "", STRF(access_key_name), NULL,
     "Shared access policy name, e.g. RootManageSharedAccessKey. The policy needs the Send right."},
    {"AccessKey", AZR_CT_STR, AZR_CF_PROPERTY | AZR_CF_SECRET, 0, AZR_KEY_MAX, "", STRF(access_key), NULL,
     "Shared access key of that policy (its base64 text, used as is). Never logged."},
    {"AccessKeyFile", AZR_CT_STR, AZR_CF_OURS, 0, AZR_SECRET_PATH_MAX, "", STRF(access_key_file), NULL,
     "Read AccessKey from the first line of this file (its CR/LF removed, at most 256 "
     "bytes) when the setting is applied, so the key stays off the command line and out of "
     "the config file. A regular file that only its owner may open (chmod 600), unless "
     "InsecureSecretFiles=True. %d/NAME is the systemd credential NAME "
     "(LoadCredential=NAME:PATH in the unit; $CREDENTIALS_DIRECTORY), and so is a relative "
     "path while $CREDENTIALS_DIRECTORY is set. Where the key comes from: the settings apply "
     "in order and the last wins: the daemon's environment first (AZRELAY_CONNECTION_STRING, "
     "then AZRELAY_ACCESS_KEY), then the config file, then the command line; AccessKeyFile "
     "counts as AccessKey given at its place, ConnectionStringFile as ConnectionString."},
    {"ConnectionString", AZR_CT_STR, AZR_CF_OURS | AZR_CF_WRITEONLY | AZR_CF_SECRET, 0, AZR_CONNSTR_MAX, "", NOFIELD, NULL,
     "A connection string as the Azure portal shows it, Endpoint=sb://NS/; "
     "SharedAccessKeyName=NAME; SharedAccessKey=KEY; EntityPath=HC: sets NamespaceAddress, "
     "AccessKeyName, AccessKey and HybridConnection."},
    {"ConnectionStringFile", AZR_CT_STR, AZR_CF_OURS, 0, AZR_SECRET_PATH_MAX, "", STRF(connection_string_file), NULL,
     "Read ConnectionString from the first line of this file, as AccessKeyFile reads "
     "AccessKey: a regular file, chmod 600, %d/NAME for a systemd credential, at most 4096 "
     "bytes, read when the setting is applied."},
    {"InsecureSecretFiles", AZR_CT_BOOL, AZR_CF_OURS, 0, 1, "False", OFF(insecure_secret_files), 0, NULL,
     "False: a file that holds a secret (AccessKeyFile, ConnectionStringFile, and the "
     "daemon's config file when it sets a secret such as AccessKey) and that its group or "
     "others may open is refused, with the chmod 600 to run. True: it is used, with that "
     "text as a warning. Give it before the *File settings it should cover; for the config "
     "file it counts wherever it is given."},
    {"AllowCoreDumps", AZR_CT_BOOL, AZR_CF_OURS, 0, 1, "False", OFF(allow_core_dumps), 0, NULL,
     "azrelay-proxy: False (the default) marks the process not dumpable when it starts "
     "(prctl PR_SET_DUMPABLE 0): a crash leaves no core file with keys in it, and only root "
     "may trace it or read its /proc/PID/environ and mem. True leaves it dumpable, to "
     "debug a crash. The C API stores the value and leaves the process alone."},
    {"AccessToken", AZR_CT_STR, AZR_CF_READONLY | AZR_CF_SECRET, 0, AZR_SAS_MAX, "", NOFIELD, NULL,
     "Read only: a fresh SAS token for HybridConnection, valid TokenValidity seconds."},
    {"TokenValidity", AZR_CT_INT, 0, 1, LONG_SECS, "3600", OFF(token_validity), 0, NULL,
     "Lifetime in seconds of each SAS token; a new token is made for every relay connection."},
    {"TokenAudience", AZR_CT_ENUM, AZR_CF_OURS, 0, AZR_SAS_FORM_MAX, "0", OFF(token_audience), 0,
     "0=sb-lower,1=sb-upper,2=http,3=http-slash,4=http-port",
     "Resource URI signed in the token: 0 sb://ns/hc with lower-case escapes (as the reference "
     "class), 1 the same upper-case, 2 http://ns/hc, 3 http://ns/hc/ (.NET SDK), 4 "
     "http://ns:port/hc (hyco-ws). The service accepts all of them."},
    {"TokenLocation", AZR_CT_ENUM, AZR_CF_OURS, 0, 1, "0", OFF(token_location), 0, "0=header,1=query",
     "Where the token travels: 0 ServiceBusAuthorization header, 1 sb-hc-token query parameter "
     "(for proxies that strip unknown headers)."},
    /* local side */
    {"LocalHost", AZR_CT_STR, AZR_CF_PROPERTY, 0, AZR_HOST_MAX, "", STRF(local_host), NULL,
     "Local address to listen on; empty means all interfaces."},
    {"LocalPort", AZR_CT_INT, AZR_CF_PROPERTY, 0, 65535, "0", OFF(local_port), 0, NULL,
     "Local TCP port to listen on; 0 lets the system choose."},
    {"ConnectionBacklog", AZR_CT_INT, AZR_CF_PROPERTY, 1, 65535, "5", OFF(connection_backlog), 0, NULL,
     "Pending connections the system queues before accept (the class's 5); raise it when "
     "many clients connect at once, or the kernel drops the excess."},
    {"DefaultIdleTimeout", AZR_CT_INT, AZR_CF_PROPERTY, 0, LONG_SECS, "0", OFF(default_idle_timeout), 0, NULL,
     "Seconds without data in either direction before a connection is closed; 0 means never."},
    {"DefaultTimeout", AZR_CT_INT, AZR_CF_PROPERTY, 0, LONG_SECS, "0", OFF(default_timeout), 0, NULL,
     "Initial Timeout of each connection in seconds; 0 means none. With a Timeout, bytes a peer "
     "does not take (its window stays full) cut the connection after that many seconds without "
     "progress (AbsoluteTimeout: after that many seconds in all)."},
    {"AbsoluteTimeout", AZR_CT_BOOL, 0, 0, 1, "False", OFF(absolute_timeout), 0, NULL,
     "False: Timeout is an inactivity timeout (any byte moved restarts it). True: a stalled "
     "transfer is cut Timeout seconds after it stalled, whatever trickles through."},
    {"MaxConnections", AZR_CT_INT, AZR_CF_OURS, 0, 1000000L, "0", OFF(max_connections), 0, NULL,
     "Most client connections open at once (each holds two descriptors); more are accepted and "
     "closed at once. 0: as many as the descriptor limit allows (the soft RLIMIT_NOFILE is raised "
     "to the hard one when listening starts), less the proxy's own descriptors. A larger value "
     "is lowered to that with a warning."},
    {"KeepAlive", AZR_CT_BOOL, AZR_CF_PROPERTY, 0, 1, "False", OFF(keep_alive), 0, NULL,
     "Enable TCP keep-alive probes on accepted connections (same as TCPKeepAlive)."},
    {"Linger", AZR_CT_BOOL, AZR_CF_PROPERTY, 0, 1, "True", OFF(linger), 0, NULL,
     "Close gracefully, sending pending data (False resets connections at close)."},
    {"Listening", AZR_CT_BOOL, AZR_CF_PROPERTY | AZR_CF_READONLY, 0, 1, "False", OFF(listening), 0, NULL,
     "Read only: whether the proxy is listening on LocalPort."},
    /* logging */
    {"LogLevel", AZR_CT_ENUM, 0, 0, 3, "1", OFF(log_level), 0, "0=None,1=Info,2=Verbose,3=Debug",
     "0 none, 1 connections and errors, 2 plus handshakes and headers, 3 plus debug detail. Keys "
     "and signatures are never logged."},
    /* outbound connection */
    {"ConnectionTimeout", AZR_CT_INT, 0, 1, 3600, "30", OFF(connection_timeout), 0, NULL,
     "Seconds one client may wait for its relay connection: name lookup, TCP connect, proxy, "
     "TLS, WebSocket upgrade (and the azbridge preamble with PortName). Inside it a failed "
     "attempt (connection refused or reset, a relay address that does not answer, a DNS server "
     "that does not answer, 404 with no listener yet, 500/502/503/504) is tried again after "
     "100 ms, doubling to 3.2 s, with jitter; the client's bytes wait meanwhile. 401/403, an "
     "unknown name and an unknown hybrid connection are not retried. Each attempt at one "
     "address may take a quarter of it (1 to 10 s) before the next address is tried."},
    {"FirewallType", AZR_CT_ENUM, 0, 0, 10, "0", OFF(firewall_type), 0,
     "0=None,1=Tunnel,2=SOCKS4,3=SOCKS5,10=SOCKS4A",
     "Outbound proxy for the relay connections: 0 none, 1 HTTP CONNECT tunnel (the proxy "
     "ProxyServer names; FirewallPort 80), 2 SOCKS4 (the relay's name is resolved here), 3 "
     "SOCKS5 (the name is sent to the proxy), 10 SOCKS4A (the name is sent to the proxy; "
     "FirewallPort 1080 for the SOCKS types). Read when listening starts, as every proxy "
     "setting."},
    {"FirewallHost", AZR_CT_STR, 0, 0, AZR_HOST_MAX, "", STRF(firewall_host), NULL,
     "Outbound proxy host name or address (used when FirewallType is not 0). For an HTTP "
     "CONNECT proxy the same as ProxyServer: given both, they must name the same host."},
    {"FirewallPort", AZR_CT_INT, 0, 0, 65535, "0", OFF(firewall_port), 0, NULL,
     "Outbound proxy port. Setting FirewallType shows its default here (80 or 1080) unless a "
     "port was given, in either order; 0 takes a given port back. For an HTTP CONNECT proxy "
     "the same as ProxyPort: given both, they must agree."},
    {"FirewallUser", AZR_CT_STR, 0, 0, AZR_SOCKS_MAX_NAME, "", STRF(firewall_user), NULL,
     "Proxy user (HTTP proxy authentication, SOCKS5 user/password, SOCKS4 user id). The same "
     "as ProxyUser: given both, they must agree."},
    {"FirewallPassword", AZR_CT_STR, AZR_CF_SECRET, 0, AZR_SOCKS_MAX_NAME, "", STRF(firewall_password), NULL,
     "Proxy password; the same as ProxyPassword. Never logged."},
    {"FirewallAutoDetect", AZR_CT_BOOL, 0, 0, 1, "False", OFF(firewall_auto_detect), 0, NULL,
     "True: when no proxy is set (FirewallType 0, ProxyServer empty), take one from the "
     "environment when listening starts, the way curl does: for wss:// https_proxy, "
     "HTTPS_PROXY, all_proxy, ALL_PROXY (for ws:// http_proxy, all_proxy, ALL_PROXY), the "
     "first that is set and not empty, as [SCHEME://][USER[:PASSWORD]@]HOST[:PORT] with "
     "SCHEME http (the default; port 80), socks4, socks4a, socks5 (the relay's name resolved "
     "here) or socks5h (the name sent to the proxy; port 1080 for socks), USER and PASSWORD "
     "percent-encoded; no_proxy (or NO_PROXY) names relay hosts that go direct. Without "
     "credentials in the URL, ProxyUser/ProxyPassword or FirewallUser/FirewallPassword apply. "
     "See PROXIES."},
    {"FirewallData", AZR_CT_STR, AZR_CF_MULTILINE | AZR_CF_SECRET, 0, AZR_PROXY_DATA_MAX, "", STRF(firewall_data), NULL,
     "Extra header lines sent to an HTTP CONNECT proxy with each CONNECT request (e.g. for a "
     "custom authentication scheme): 'Name: value' lines separated by newlines (write \\n "
     "in a config file or on the command line), printable text and tabs only, at most "
     "1024 bytes. Ignored, with a warning when listening starts, for a SOCKS proxy. Never "
     "logged."},
    {"ProxyServer", AZR_CT_STR, 0, 0, AZR_HOST_MAX, "", STRF(proxy_server), NULL,
     "HTTP proxy for the relay connections (a CONNECT tunnel): host name or IP address "
     "(IPv6 with or without brackets; the port goes in ProxyPort). The same as FirewallType=1 "
     "with FirewallHost: given both, they must name the same host, and a SOCKS FirewallType "
     "is refused when listening starts."},
    {"ProxyPort", AZR_CT_INT, 0, 1, 65535, "80", OFF(proxy_port), 0, NULL,
     "Port of the HTTP proxy; the same as FirewallPort for FirewallType 1 (given both, they "
     "must agree)."},
    {"ProxyUser", AZR_CT_STR, 0, 0, AZR_SOCKS_MAX_NAME, "", STRF(proxy_user), NULL,
     "User for the HTTP proxy (UTF-8; DOMAIN\\user or user@domain names the NTLM domain; "
     "Basic cannot carry ':', RFC 7617); the same as FirewallUser (given both, they must "
     "agree). Also used for a proxy FirewallAutoDetect finds without a user."},
    {"ProxyPassword", AZR_CT_STR, AZR_CF_SECRET, 0, AZR_SOCKS_MAX_NAME, "", STRF(proxy_password), NULL,
     "Password of ProxyUser; the same as FirewallPassword. Never logged."},
    {"ProxyAuthScheme", AZR_CT_ENUM, 0, 0, 99, "99", OFF(proxy_auth_scheme), 0,
     "0=Basic,1=Digest,3=None,4=NTLM,5=Negotiate,99=Auto",
     "How the user and password reach the HTTP proxy when it asks (407, Proxy-Authenticate): "
     "99 Auto sends nothing until then and answers the strongest scheme the proxy offers, "
     "NTLM, then Digest, then Basic; 0 Basic (RFC 7617) goes with the first CONNECT; 1 Digest "
     "(RFC 7616: MD5 or SHA-256, -sess, qop=auth) answers the proxy's challenge; 4 NTLM "
     "(NTLMv2) starts with the first CONNECT and needs a proxy that keeps the connection "
     "through the handshake; 3 None never sends them; 5 Negotiate (Kerberos) is accepted here "
     "and each connection through the proxy is refused, saying so. The next CONNECT goes on "
     "the same connection when the proxy keeps it, else on a new one. Credentials are sent "
     "once per scheme: a proxy that refuses them ends the connection with 'proxy refused our "
     "credentials (SCHEME)'. ProxyAuthorization, when set, is sent instead. The numbers are "
     "the class's (99 is ours)."},
    {"ProxyAuthorization", AZR_CT_STR, AZR_CF_SECRET, 0, AZR_PROXY_AUTHZ_MAX, "", STRF(proxy_authorization), NULL,
     "A complete Proxy-Authorization header value (e.g. 'Basic Z3c6czNjcmV0', or a token from "
     "another tool), sent as is with each CONNECT instead of one made from the user and "
     "password. Printable text, at most 1024 bytes. Ignored, with a warning, for a SOCKS "
     "proxy. Never logged."},
    {"ProxyExceptionsList", AZR_CT_STR, 0, 0, AZR_PROXY_EXCEPTIONS_MAX, "", STRF(proxy_exceptions), NULL,
     "Relay hosts that bypass any proxy (set or found by FirewallAutoDetect), separated by "
     "';': a host name (exact), *.DOMAIN or .DOMAIN (every name under DOMAIN, not DOMAIN "
     "itself), an IPv4 or IPv6 address, ADDRESS/PREFIX (CIDR), or * (never a proxy). "
     "Case-insensitive; compared with the host as NamespaceAddress writes it, never resolved. "
     "Checked when set."},
    {"ProxyRoute", AZR_CT_STR, AZR_CF_OURS | AZR_CF_READONLY, 0, AZR_ROUTE_SOURCE_MAX, "", NOFIELD, NULL,
     "Read only: how relay connections go (direct, or through which proxy) and which "
     "settings or environment variables decided it; passwords are never shown. While "
     "listening, the route listening started with; otherwise what StartListening would "
     "take now."},
    /* sockets */
    {"TCPKeepAlive", AZR_CT_BOOL, 0, 0, 1, "False", OFF(keep_alive), 0, NULL,
     "Same as KeepAlive."},
    {"KeepAliveTime", AZR_CT_INT, 0, 0, 2147483647L, "0", OFF(keep_alive_time), 0, NULL,
     "Milliseconds of inactivity before the first TCP keep-alive probe (0: system default). "
     "Setting it turns TCPKeepAlive on."},
    {"KeepAliveInterval", AZR_CT_INT, 0, 0, 2147483647L, "0", OFF(keep_alive_interval), 0, NULL,
     "Milliseconds between unanswered TCP keep-alive probes (0: system default). Setting it turns "
     "TCPKeepAlive on."},
    {"KeepAliveRetryCount", AZR_CT_INT, 0, 0, 255, "0", OFF(keep_alive_retry_count), 0, NULL,
     "Unanswered TCP keep-alive probes before the peer counts as gone (0: system default). "
     "Setting it turns TCPKeepAlive on."},
    {"LingerTime", AZR_CT_INT, 0, 0, 65535, "0", OFF(linger_time), 0, NULL,
     "Seconds a closing socket may linger to send pending data (0: system default)."},
    {"TcpNoDelay", AZR_CT_BOOL, 0, 0, 1, "False", OFF(tcp_no_delay), 0, NULL,
     "Disable Nagle's algorithm on the client's socket. The relay's socket always has it "
     "off: azrelay writes whole frames and TLS records and coalesces itself, and Nagle "
     "would only hold the handshake's flights back behind delayed ACKs."},
    {"InBufferSize", AZR_CT_INT, 0, 0, MAX_BUFSZ, "0", OFF(in_buffer_size), 0, NULL,
     "Socket receive buffer in bytes (0: system default)."},
    {"OutBufferSize", AZR_CT_INT, 0, 0, MAX_BUFSZ, "0", OFF(out_buffer_size), 0, NULL,
     "Socket send buffer in bytes (0: system default)."},
    {"SSLOutBufferSize", AZR_CT_INT, 0, 512, 16384, "16384", OFF(ssl_out_buffer_size), 0, NULL,
     "Plaintext bytes per TLS record azrelay writes, on both TLS sides: each TLS engine keeps "
     "a full 16 KiB record buffer in (the peer picks its record size) and this much plus 85 "
     "bytes out. 16384 writes the fewest records, eight to a system call while the relay keeps "
     "up: about a fifth less CPU per GiB over wss:// than 4096 (./build.sh bench); its pages "
     "are touched only as "
     "records fill, so an idle connection costs no more. 4096 saves 12 KiB per busy TLS side "
     "where many connections move data at once. BearSSL writes records of 512, 1024, 2048, "
     "4096 or 16384 bytes: another value counts as the next lower of them."},
    {"UseIPv6", AZR_CT_ENUM, 0, 0, 2, "0", OFF(use_ipv6), 0, "0=IPv4,1=IPv6,2=Both",
     "Address families, on both sides. Towards the relay (or proxy): 0 IPv4 only, 1 IPv6 "
     "only, 2 both, every address of the name tried, IPv6 first and the families "
     "interleaved, the next attempt starting 250 ms after the previous (Happy Eyeballs, RFC "
     "8305); an address that failed lately is tried last for 30 s. Listening with an empty "
     "LocalHost: 0 on 0.0.0.0, 1 on [::] (IPv6 only), 2 on one dual-stack [::] socket, or "
     "0.0.0.0 where the kernel has no IPv6. A named LocalHost resolves to these families."},
    /* upgrade request */
    {"UserAgent", AZR_CT_STR, 0, 0, 255, "azrelay/" AZRELAY_VERSION, STRF(user_agent), NULL,
     "User-Agent header of the WebSocket upgrade request."},
    {"OtherHeaders", AZR_CT_STR, AZR_CF_MULTILINE, 0, AZR_CONF_VALUE_MAX - 1, "", STRF(other_headers), NULL,
     "Extra request headers, 'Name: value' separated by newlines (write \\n in a config file "
     "or on the command line). Refused: CR or LF inside a header, a name that is not an HTTP token."},
    /* WebSocket */
    {"MaxFrameSize", AZR_CT_INT, AZR_CF_OURS, 256, 1048576L, "16384", OFF(max_frame_size), 0, NULL,
     "Largest payload in bytes of a frame sent to the relay."},
    {"RelayKeepAliveInterval", AZR_CT_INT, AZR_CF_OURS, 0, 230, "30", OFF(relay_keep_alive_interval), 0, NULL,
     "Seconds of relay silence before a WebSocket ping (0: never). The service drops "
     "connections idle for about 4 minutes."},
    {"HalfCloseTimeout", AZR_CT_INT, AZR_CF_OURS, 1, 86400L, "30", OFF(half_close_timeout), 0, NULL,
     "Once one side has finished (client FIN, or the relay's close frame), seconds without a "
     "byte moving before the connection is cut (the client gets a reset). A transfer still "
     "flowing in the open direction is never cut."},
    {"SSLCACertFilePaths", AZR_CT_STR, 0, 0, 1023,
     "/etc/ssl/ca-bundle.pem;/etc/pki/tls/certs/ca-bundle.crt;/etc/ssl/certs/ca-certificates.crt;"
     "/etc/pki/tls/cacert.pem",
     STRF(ssl_ca_cert_file_paths), NULL,
     "CA bundles for checking the relay's certificate, separated by ';'. The first file that "
     "exists is loaded; empty loads none."},
    {"SSLServerCACerts", AZR_CT_STR, AZR_CF_MULTILINE, 0, 16383, "", STRF(ssl_server_ca_certs), NULL,
     "More CA certificates for the relay's certificate: PEM text (certificates separated by "
     "newlines) or, in a config file or on the command line, the path of a PEM file."},
    /* local TLS */
    {"SSLEnabled", AZR_CT_BOOL, AZR_CF_PROPERTY, 0, 1, "False", OFF(ssl_enabled), 0, NULL,
     "TLS towards local clients. True sets SSLStartMode to 1 when it was 3; False sets it to 3. "
     "Needs SSLCertStore."},
    {"SSLStartMode", AZR_CT_ENUM, AZR_CF_PROPERTY, 0, 3, "3", OFF(ssl_start_mode), 0,
     "0=Automatic,1=Implicit,2=Explicit,3=None",
     "How local TLS starts: 1 at once on connect; 0 the same (a raw TCP port has no plaintext "
     "convention); 2 needs a STARTTLS command that a raw TCP proxy does not have, so listening "
     "refuses it; 3 no TLS. Setting it sets SSLEnabled."},
    {"SSLCertStore", AZR_CT_STR, AZR_CF_PROPERTY, 0, 1023, "", STRF(ssl_cert_store), NULL,
     "The local TLS certificate: path of a PEM file with the certificate chain (leaf first) and "
     "its private key (RSA or EC; PKCS#1, SEC1 or PKCS#8, unencrypted). The class's SSLCert "
     "certificate object, as a file."},
    {"SSLCertStoreType", AZR_CT_ENUM, AZR_CF_PROPERTY, 0, 99, "99", OFF(ssl_cert_store_type), 0,
     "6=PEMKeyFile,99=Auto",
     "Format of SSLCertStore: 6 a PEM file with key and certificates, 99 detect (PEM is the "
     "only format read). The class's other store types (Windows stores, PFX, JKS, ...) are "
     "not supported."},
    {"SSLCertStorePassword", AZR_CT_STR, AZR_CF_PROPERTY | AZR_CF_SECRET, 0, 255, "",
     STRF(ssl_cert_store_password), NULL,
     "Password of an encrypted private key. BearSSL reads unencrypted keys only: listening "
     "refuses a password; decrypt the key with 'openssl pkey -in key.pem -out plain.pem'."},
    {"SSLCertSubject", AZR_CT_STR, AZR_CF_PROPERTY, 0, 255, "", STRF(ssl_cert_subject), NULL,
     "Which certificate of SSLCertStore to use: empty or '*' the first one; otherwise text "
     "that the first certificate's subject common name (CN) must contain."},
    {"SSLEnabledCipherSuites", AZR_CT_STR, 0, 0, 2047, "", STRF(ssl_enabled_cipher_suites), NULL,
     "Cipher suites offered, both sides, by IANA name in order of preference, separated by "
     "';' (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256). Empty: the safe set, ECDHE key "
     "exchange with AES-GCM or ChaCha20-Poly1305 only; '*': every suite BearSSL has, "
     "including RSA key exchange, CBC and 3DES. For these two the order follows the CPU: "
     "AES-GCM first where it has AES instructions (x86 AES-NI, POWER8), ChaCha20-Poly1305 "
     "first where it has not (BearSSL's software AES is several times slower); a named list "
     "keeps its own order. Our order wins over the client's on the local side; LogLevel 3 "
     "logs the one chosen and why."},
    {"SSLEnabledProtocols", AZR_CT_INT, 0, 0, 16383, "3072", OFF(ssl_enabled_protocols), 0, NULL,
     "TLS versions, both sides, as the class's bits: 3072 (0xC00) TLS 1.2, 768 (0x300) "
     "TLS 1.1, 192 (0xC0) TLS 1.0; add them up. TLS 1.3 (12288) is not available in "
     "BearSSL and is ignored next to others, refused alone; SSL 2 and 3 are refused."},
    {"SSLSecurityFlags", AZR_CT_FLAGS, 0, 0, 0, "0", OFF(ssl_security_flags), 0, NULL,
     "Relay side: certificate checks to skip, as the class's bits (hex or decimal, OR them): "
     "0x1 the validity period (the chain is checked as of the middle of the certificate's "
     "own period), 0x10 an unknown CA (the chain must still be well formed and signed), "
     "0x80000000 a host name that does not match. 0 checks everything. Each loosening is "
     "logged as a warning when listening starts and whenever it lets a certificate pass. "
     "The class's other bits are accepted and have no effect (BearSSL checks no "
     "revocation)."},
    {"ReuseSSLSession", AZR_CT_BOOL, 0, 0, 1, "False", OFF(reuse_ssl_session), 0, NULL,
     "Relay side: offer the last TLS session to the relay again (an abbreviated handshake, "
     "no certificate check or key exchange) while its parameters are kept: until the "
     "relay refuses it, a TLS failure, a change of NamespaceAddress, or Reset."},
    {"SSLAuthenticateClients", AZR_CT_BOOL, AZR_CF_PROPERTY, 0, 1, "False", OFF(ssl_authenticate_clients), 0, NULL,
     "Local TLS: ask each client for a certificate and check it against SSLClientCACerts. "
     "A client with no certificate is refused; one whose certificate does not check is "
     "refused unless the SSLClientAuthentication event (C API) accepts it (the daemon "
     "follows the check)."},
    {"SSLClientCACerts", AZR_CT_STR, AZR_CF_MULTILINE, 0, 16383, "", STRF(ssl_client_ca_certs), NULL,
     "CA certificates that client certificates must chain to (SSLAuthenticateClients): PEM "
     "text or the path of a PEM file. Only these are trusted for clients, never the "
     "system bundle."},
    {"SSLKeyLogFile", AZR_CT_STR, 0, 0, 1023, "", STRF(ssl_key_log_file), NULL,
     "Append each TLS session's secrets, both sides, to this file in the NSS key log format "
     "(CLIENT_RANDOM lines, created mode 0600) so Wireshark can decrypt a capture. For "
     "debugging only: anyone with the file reads the traffic."},
    {"EventLoop", AZR_CT_ENUM, AZR_CF_OURS | AZR_CF_DAEMON, 0, 3, "0", OFF(event_loop), 0,
     "0=auto,1=epoll,2=kqueue,3=poll",
     "Readiness API of the event loop: 0 the platform's best (epoll on Linux, kqueue on BSD "
     "and macOS), 1 epoll, 2 kqueue, 3 poll(). Read when listening starts."},
    {"LogFormat", AZR_CT_ENUM, AZR_CF_OURS | AZR_CF_DAEMON, 0, 1, "0", OFF(log_format), 0,
     "0=Text,1=JSON",
     "The daemon's log lines: 0 text (\"TIME LEVEL [FORWARD] [ID] MESSAGE\"), 1 one JSON "
     "object a line with time, level, forward, conn and msg. For the whole daemon: top level "
     "or command line only; a reload applies a change."},
    {"LogTarget", AZR_CT_STR, AZR_CF_OURS | AZR_CF_DAEMON, 0, 255, "stderr", STRF(log_target),
     NULL,
     "Where the daemon's log lines go: stderr (the journal under systemd, with <N> priority "
     "prefixes), syslog (RFC 5424 datagrams to /dev/log, facility daemon) or syslog:PATH (another "
     "datagram socket). For the whole daemon: top level or command line only."},
    {"DrainTimeout", AZR_CT_INT, AZR_CF_OURS, 0, 86400, "30", OFF(drain_timeout), 0, NULL,
     "azrelay-proxy: seconds the open connections of a forward that stops (SIGTERM, SIGINT, "
     "or a reload that removes or changes it) may go on after it stopped accepting; then "
     "they are closed (1001 to the relay). 0 closes them at once. The C API does not read "
     "it: StopListening and ConnectionCount drain a proxy there."},
    {"StatusSocket", AZR_CT_STR, AZR_CF_OURS | AZR_CF_DAEMON, 0, AZR_STATUS_PATH_MAX, "", STRF(status_socket), NULL,
     "azrelay-proxy: an absolute path where the daemon listens on a unix stream socket (mode "
     "0660, the daemon's user and group) for azrelay-proxy --status: each connection gets "
     "the forwards and the live connections as text, then the daemon closes it. Empty (the "
     "default): no socket. Set for the whole daemon (not in a section); a reload may move it. "
     "Under systemd, RuntimeDirectory=azrelay in the unit makes /run/azrelay for "
     "/run/azrelay/status, the path --status tries when given none."},
    {"MetricsAddress", AZR_CT_STR, AZR_CF_OURS | AZR_CF_DAEMON, 0, AZR_HOSTPORT_MAX, "", STRF(metrics_address), NULL,
     "azrelay-proxy: HOST:PORT (e.g. 127.0.0.1:9464; [::1]:9464) where the daemon serves "
     "Prometheus metrics over HTTP/1.1: GET /metrics (text format 0.0.4: per forward, "
     "connections, relay failures, retries, bytes, connect latency, TLS failures; the process's "
     "descriptors, memory, reloads) and GET /healthz (200 when every forward listens, else "
     "503). No TLS and no authentication: keep it on loopback or a management network. Empty "
     "(the default): off. Set for the whole daemon (not in a section); a reload may move it."},
    {"MaxTransferRate", AZR_CT_INT, 0, 0, 2147483647L, "0", OFF(max_transfer_rate), 0, NULL,
     "Per connection, at most this many bytes per second of the client's data go towards the "
     "relay (WebSocket framing not counted); 0 means no limit. Over the limit the client is "
     "not read until the rate allows more, so TCP flow control slows it down; nothing is "
     "dropped."},
    {"MaxTransferRateIn", AZR_CT_INT, AZR_CF_OURS, 0, 2147483647L, "0", OFF(max_transfer_rate_in), 0, NULL,
     "Per connection, at most this many bytes per second of the relay's data go towards the "
     "client; 0 means no limit. Over the limit the relay connection is not read until the "
     "rate allows more."},
    {"PortName", AZR_CT_STR, AZR_CF_OURS, 0, AZR_PORTNAME_MAX, "", STRF(port_name), NULL,
     "For a hybrid connection served by an azbridge listener with port names (azbridge -T): "
     "the port name each relay connection asks for in azbridge's preamble before any client "
     "byte; the client's bytes wait until the listener accepts. Empty (the default): raw "
     "bytes, no preamble. UTF-8 without control characters, at most 255 bytes."},
    {"StrictUTF8", AZR_CT_BOOL, AZR_CF_OURS, 0, 1, "False", OFF(strict_utf8), 0, NULL,
     "Close the relay connection (1007) on invalid UTF-8 in a text frame instead of passing "
     "the bytes through."},
};
/* clang-format on */
const size_t azr_config_count = sizeof azr_config_table / sizeof azr_config_table[0];

#define NEGOTIATED "a connection field: read it as Config(\"Name[connection id]\")"
#define HTTP_ONLY  "an HTTP client setting; azrelay speaks WebSocket only"
const azr_conf_unsupported azr_config_unsupported[] = {
    {"Connections", "use the connection functions of the C API"},
    {"SSLCert", "set SSLCertStore (a PEM file), SSLCertStoreType and SSLCertSubject"},
    {"AcceptEncoding", HTTP_ONLY},
    {"AllowHTTPCompression", HTTP_ONLY},
    {"AllowHTTPFallback", HTTP_ONLY},
    {"Append", HTTP_ONLY},
    {"Authorization", "the SAS token is built from AccessKeyName and AccessKey"},
    {"BytesTransferred", HTTP_ONLY},
    {"ChunkSize", HTTP_ONLY},
    {"CompressHTTPRequest", HTTP_ONLY},
    {"EncodeURL", HTTP_ONLY},
    {"FollowRedirects", HTTP_ONLY},
    {"GetOn302Redirect", HTTP_ONLY},
    {"HTTP2HeadersWithoutIndexing", HTTP_ONLY},
    {"HTTPVersion", HTTP_ONLY},
    {"IfModifiedSince", HTTP_ONLY},
    {"KerberosSPN", HTTP_ONLY},
    {"MaxRedirectAttempts", HTTP_ONLY},
    {"NegotiatedHTTPVersion", HTTP_ONLY},
    {"SentHeaders", HTTP_ONLY},
    {"StatusCode", "see the Connected event's status code"},
    {"StatusLine", "see the Connected event's description"},
    {"TransferredData", HTTP_ONLY},
    {"TransferredDataLimit", HTTP_ONLY},
    {"TransferredHeaders", HTTP_ONLY},
    {"TransferredRequest", HTTP_ONLY},
    {"UseChunkedEncoding", HTTP_ONLY},
    {"UseIDNs", NULL},
    {"UsePlatformHTTPClient", HTTP_ONLY},
    {"UseProxyAutoConfigURL", HTTP_ONLY},
    {"MaxLineLength", "azrelay forwards bytes, not lines"},
    {"LogSSLPackets", "decrypt a capture with SSLKeyLogFile instead"},
    {"OpenSSLCADir", "azrelay uses BearSSL: see SSLCACertFilePaths"},
    {"OpenSSLCAFile", "azrelay uses BearSSL: see SSLCACertFilePaths"},
    {"OpenSSLCipherList", "azrelay uses BearSSL: see SSLEnabledCipherSuites"},
    {"OpenSSLPrngSeedData", "BearSSL seeds itself from the system (getrandom, /dev/urandom)"},
    {"SSLCACerts", "put the intermediate certificates in SSLCertStore after the leaf"},
    {"SSLCipherStrength", "choose the suites with SSLEnabledCipherSuites"},
    {"SSLEnableRenegotiation", "renegotiation is always refused, on both sides"},
    {"SSLIncludeCertChain", "the class has no SSLServerAuthentication event"},
    {"SSLNegotiatedCipher", NEGOTIATED},
    {"SSLNegotiatedCipherStrength", NEGOTIATED},
    {"SSLNegotiatedCipherSuite", NEGOTIATED},
    {"SSLNegotiatedKeyExchange", NEGOTIATED},
    {"SSLNegotiatedKeyExchangeStrength", NEGOTIATED},
    {"SSLNegotiatedVersion", NEGOTIATED},
    {"TLS12SignatureAlgorithms", "BearSSL accepts SHA-224 to SHA-512 with RSA and ECDSA"},
    {"TLS12SupportedGroups", "BearSSL offers X25519, P-256, P-384 and P-521"},
    {"TLS13KeyShareGroups", "BearSSL has no TLS 1.3"},
    {"TLS13SignatureAlgorithms", "BearSSL has no TLS 1.3"},
    {"TLS13SupportedGroups", "BearSSL has no TLS 1.3"},
};
const size_t azr_config_unsupported_count =
    sizeof azr_config_unsupported / sizeof azr_config_unsupported[0];
