/*
 * TLS on the local side (SSLEnabled): the proxy in process, the relay
 * emulator as a real process, and openssl s_client as the client, an
 * independent TLS implementation that checks our certificate chain against
 * the test CA (tests/tls/make-certs.sh). Also the settings' refusals.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"
#include "tls.h"

#define CERTS "../build/test-certs/"

static relay emu;

static void emu_up(const char *const *extra)
{
    const char *bin = getenv("AZR_EMU_BIN") ? getenv("AZR_EMU_BIN") : "../build/azrelay-emu";
    const char *argv[16] = {bin, "--port", "0", "--rule", "RootManageSharedAccessKey:" KEY};
    int k = 5;
    for (; extra && *extra && k < 15; extra++)
        argv[k++] = *extra;
    argv[k] = NULL;
    proc_start(&emu, argv, 2);
    char line[512];
    assert_true(relay_match(&emu, "listening on ", false, line, sizeof line, 10000));
    emu.port = (int)strtol(strstr(line, "127.0.0.1:") + 10, NULL, 10);
}

/* A fresh record of events, and the emulator with an echo listener on hc1. */
static void emu_echo(seen *s)
{
    const char *const args[] = {"--echo", "hc1", NULL};
    memset(s, 0, sizeof *s);
    emu_up(args);
}

static azr_proxy *tls_proxy(const char *hc, seen *s, const char *const *settings, int *port)
{
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", emu.port);
    return proxy_at(ns, hc, s, settings, port);
}

/* openssl s_client to the proxy, verifying "localhost" against the test CA,
 * with more arguments (a client certificate, a cipher) when given. */
static void s_client_with(relay *c, int port, const char *const *more, int fdno)
{
    char to[32];
    snprintf(to, sizeof to, "127.0.0.1:%d", port);
    const char *argv[32] = {"openssl",
                            "s_client",
                            "-connect",
                            to,
                            "-servername",
                            "localhost",
                            "-verify_hostname",
                            "localhost",
                            "-CAfile",
                            CERTS "ca.pem",
                            "-verify_return_error"};
    int k = 11;
    for (; more && *more && k < 31; more++)
        argv[k++] = *more;
    argv[k] = NULL;
    proc_start(c, argv, fdno);
}

/* Run s_client until it ends (stdin closed once the proxy says the
 * handshake is done, or at once when it fails); its exit status, and its
 * output in out. */
static int s_client_run(azr_proxy *p, seen *s, int port, const char *const *more, char *out,
                        size_t cap)
{
    relay c;
    s_client_with(&c, port, more, 2);
    int status = -1, before = s->disconnected;
    bool closed = false;
    uint64_t stop = ms() + 15000;
    while (ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 10), 0);
        if (!closed &&
            (strstr(s->ssl_status, "client TLS established") || s->disconnected > before)) {
            close(c.in); /* s_client says DONE and ends */
            closed = true;
        }
        if (waitpid(c.pid, &status, WNOHANG) == c.pid)
            break;
    }
    procs_track(c.pid, false);
    if (!closed)
        close(c.in);
    lseek(c.out, 0, SEEK_SET);
    ssize_t n = read(c.out, out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
    close(c.out);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* openssl s_client to the proxy, verifying "localhost" against the test CA. */
static void s_client(relay *c, int port, const char *keylog)
{
    char to[32];
    snprintf(to, sizeof to, "127.0.0.1:%d", port);
    const char *argv[] = {"openssl",
                          "s_client",
                          "-connect",
                          to,
                          "-servername",
                          "localhost",
                          "-verify_hostname",
                          "localhost",
                          "-CAfile",
                          CERTS "ca.pem",
                          "-verify_return_error",
                          "-quiet",
                          "-verify_quiet",
                          keylog ? "-keylogfile" : NULL,
                          keylog,
                          NULL};
    proc_start(c, argv, 1);
}

/* Echo through the proxy with s_client; the negotiated suite as the class
 * reports it (our order decides: AES-128-GCM first, whatever s_client
 * prefers); SSLKeyLogFile's line equal to s_client -keylogfile's. */
static void echo_with(const char *store, const char *key_kind, const char *suite)
{
    static seen s;
    emu_echo(&s);
    char st[160];
    snprintf(st, sizeof st, "SSLCertStore=%s", store);
    char ours[] = "/tmp/azr-keylog-XXXXXX", theirs[] = "/tmp/azr-keylog-ossl-XXXXXX", kl[64];
    close(mkstemp(ours));
    close(mkstemp(theirs));
    snprintf(kl, sizeof kl, "SSLKeyLogFile=%s", ours);
    const char *const set[] = {"SSLEnabled=True", st, kl, NULL};
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, set, &port);
    assert_non_null(strstr(s.log, key_kind));
    relay c;
    s_client(&c, port, theirs);
    assert_int_equal(write(c.in, "hello over tls\n", 15), 15);
    char line[256];
    bool got = false;
    uint64_t stop = ms() + 15000;
    while (!got && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 20), 0);
        got = relay_match(&c, "hello over tls", true, line, sizeof line, 0);
    }
    if (!got)
        fprintf(stderr, "%s\n", s.log);
    assert_true(got);
    assert_non_null(strstr(s.log, "client TLS established: TLS 1.2"));
    char name[64], out[128];
    const char *const fields[][2] = {{"Version", "TLS1.2"},
                                     {"CipherSuite", suite},
                                     {"Cipher", "AES-GCM"},
                                     {"CipherStrength", "128"},
                                     {"KeyExchange", "ECDHE"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        snprintf(name, sizeof name, "SSLNegotiated%s[%d]", fields[i][0], s.conn_id);
        assert_int_equal(azr_proxy_config(p, name, out, sizeof out), 0);
        assert_string_equal(out, fields[i][1]);
    }
    snprintf(name, sizeof name, "SSLNegotiatedKeyExchangeStrength[%d]", s.conn_id);
    assert_int_equal(azr_proxy_config(p, name, out, sizeof out), 0);
    assert_true(strtol(out, NULL, 10) >= 255); /* X25519 or P-256 */
    /* one CLIENT_RANDOM line, the very line openssl logged for the session */
    static char a[4096], b[4096];
    FILE *f = fopen(ours, "r");
    size_t na = fread(a, 1, sizeof a - 1, f);
    fclose(f);
    f = fopen(theirs, "r");
    size_t nb = fread(b, 1, sizeof b - 1, f);
    fclose(f);
    a[na] = b[nb] = '\0';
    unlink(ours);
    unlink(theirs);
    assert_int_equal(na, 14 + 64 + 1 + 96 + 1);
    assert_memory_equal(a, "CLIENT_RANDOM ", 14);
    if (!strstr(b, a))
        fail_msg("our key log line\n%sis not in openssl's:\n%s", a, b);
    /* the client goes away (TCP FIN, no close_notify): the proxy finishes cleanly */
    relay_stop(&c);
    SPIN(p, s.disconnected == 1, 10000);
    if (s.disconnected_status != 0 || !strstr(s.disconnected_desc, "client finished"))
        fail_msg("%d %s\n%s", s.disconnected_status, s.disconnected_desc, s.log);
    azr_proxy_free(p);
    relay_stop(&emu);
}

static void test_ltls_echo_ec_key(void **st)
{
    (void)st;
    echo_with(CERTS "both.pem", "EC key", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
}

static void test_ltls_echo_rsa_key(void **st)
{
    (void)st;
    echo_with(CERTS "rsa-both.pem", "RSA key", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
}

/* The relay closes first (a built-in source listener): every byte reaches
 * s_client, then close_notify and EOF. */
static void test_ltls_relay_closes_first(void **st)
{
    (void)st;
    static seen s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--source", "hc1:100000", NULL};
    emu_up(args);
    const char *const set[] = {"SSLStartMode=1", "SSLCertStore=" CERTS "both.pem", NULL};
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, set, &port);
    relay c;
    s_client(&c, port, NULL);
    int status = -1;
    uint64_t stop = ms() + 15000;
    while (ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 20), 0);
        if (waitpid(c.pid, &status, WNOHANG) == c.pid)
            break; /* s_client saw the end of the stream */
    }
    assert_true(WIFEXITED(status));
    off_t size = lseek(c.out, 0, SEEK_END);
    assert_int_equal(size, 100000);
    procs_track(c.pid, false);
    close(c.in);
    close(c.out);
    SPIN(p, s.disconnected == 1, 10000);
    if (s.disconnected != 1)
        fail_msg("still connected:\n%s", s.log);
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* A client that connects and says nothing is cut at ConnectionTimeout; one
 * that speaks plain HTTP gets a TLS error, and the relay is never dialled. */
static void test_ltls_stalled_and_plaintext_clients(void **st)
{
    (void)st;
    static seen s;
    emu_echo(&s);
    const char *const set[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                               "ConnectionTimeout=1", NULL};
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, set, &port);
    int fd = client(port);
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.disconnected_status, AZR_ERR_TIMEOUT);
    assert_string_equal(s.disconnected_desc,
                        "client TLS handshake not finished within 1 s (ConnectionTimeout)");
    close(fd);
    fd = client(port);
    const char *get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    SPIN(p, false, 100);
    assert_int_equal(write(fd, get, strlen(get)), (ssize_t)strlen(get));
    SPIN(p, s.disconnected == 2, 5000);
    assert_int_equal(s.disconnected_status, AZR_ERR_TLS);
    if (!strstr(s.disconnected_desc, "client TLS handshake failed"))
        fail_msg("%s", s.disconnected_desc);
    assert_true(eof_within(p, fd, 2000));
    close(fd);
    assert_null(strstr(s.log, "connecting to relay")); /* never dialled */
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* local TLS with the EC test certificate */
static const char *const ec_set[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem", NULL};

/* Whether the echo of text reached s_client c within 15 s, turning p's loop. */
static bool echoed(azr_proxy *p, relay *c, const char *text)
{
    char line[256];
    uint64_t stop = ms() + 15000;
    while (ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 20), 0);
        if (relay_match(c, text, true, line, sizeof line, 0))
            return true;
    }
    return false;
}

/* SSLCertStore changed while listening (azr_proxy_config): the new
 * certificate answers the next client at once, and one that does not load
 * makes azr_proxy_config say so and the next handshake fail cleanly. On
 * the code before, the loaded certificate was freed and nothing loaded
 * another until StartListening, so the next TLS client crashed the
 * process (found by review). */
static void test_ltls_certificate_changed_while_listening(void **st)
{
    (void)st;
    static seen s;
    emu_echo(&s);
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, ec_set, &port);
    assert_int_equal(azr_proxy_config(p, "SSLCertStore=" CERTS "rsa-both.pem", NULL, 0), 0);
    relay c;
    s_client(&c, port, NULL);
    assert_int_equal(write(c.in, "after the change\n", 17), 17);
    if (!echoed(p, &c, "after the change"))
        fail_msg("no echo with the new certificate\n%s\n%s", s.ssl_status, s.log);
    assert_non_null(strstr(s.ssl_status, "(RSA key)")); /* the new one answered */
    relay_stop(&c);
    SPIN(p, s.disconnected == 1, 10000);
    /* a store that does not load: said at once, and new handshakes fail */
    assert_int_not_equal(azr_proxy_config(p, "SSLCertStore=/nonexistent/azr.pem", NULL, 0), 0);
    if (!strstr(azr_proxy_last_error(p), "new TLS handshakes will fail"))
        fail_msg("%s", azr_proxy_last_error(p));
    int fd = client(port);
    const char hello[] = "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00";
    assert_int_equal(write(fd, hello, sizeof hello - 1), (ssize_t)(sizeof hello - 1));
    SPIN(p, s.disconnected == 2, 5000);
    assert_int_equal(s.disconnected_status, AZR_ERR_TLS);
    if (!strstr(s.disconnected_desc, "no certificate loaded"))
        fail_msg("%s", s.disconnected_desc);
    close(fd);
    /* and one that loads again answers again */
    assert_int_equal(azr_proxy_config(p, "SSLCertStore=" CERTS "both.pem", NULL, 0), 0);
    s_client(&c, port, NULL);
    assert_int_equal(write(c.in, "back again\n", 11), 11);
    assert_true(echoed(p, &c, "back again"));
    relay_stop(&c);
    SPIN(p, s.disconnected == 3, 10000);
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* client certificates checked against the test CA */
static const char *const auth_set[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                                       "SSLAuthenticateClients=True",
                                       "SSLClientCACerts=" CERTS "ca.pem", NULL};

static uint8_t der_file[8192];

static size_t read_der(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(der_file, 1, sizeof der_file, f);
    fclose(f);
    return n;
}

/* SSLAuthenticateClients: a certificate from the CA in SSLClientCACerts is
 * accepted; the event gets its DER (byte for byte openssl's), subject,
 * issuer and "OK"; bytes flow. */
static void test_ltls_client_cert_accepted(void **st)
{
    (void)st;
    static seen s;
    emu_echo(&s);
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, auth_set, &port);
    relay c;
    const char *const more[] = {"-cert", CERTS "client.pem", "-key", CERTS "client.key", "-quiet",
                                NULL};
    s_client_with(&c, port, more, 1);
    assert_int_equal(write(c.in, "client cert ok\n", 15), 15);
    char line[256];
    bool got = false;
    uint64_t stop = ms() + 15000;
    while (!got && ms() < stop) {
        assert_int_equal(azr_proxy_do_events(p, 20), 0);
        got = relay_match(&c, "client cert ok", true, line, sizeof line, 0);
    }
    if (!got) {
        fprintf(stderr, "%s", s.log);
        fail_msg("no echo; disconnected %d: %s", s.disconnected, s.disconnected_desc);
    }
    assert_int_equal(s.auths, 1);
    assert_int_equal(s.auth_verdict, 1);
    assert_string_equal(s.auth_status, "OK");
    assert_string_equal(s.auth_subject, "E=ops@example.com, CN=client one, OU=gateways, "
                                        "O=azrelay test, L=Redmond, S=Washington, C=US");
    assert_string_equal(s.auth_issuer, "CN=azrelay test CA");
    size_t n = read_der(CERTS "client.der");
    assert_int_equal(s.auth_cert_len, n);
    assert_memory_equal(s.auth_cert, der_file, n);
    assert_non_null(strstr(s.ssl_status, "client certificate E=ops@example.com"));
    assert_non_null(strstr(s.ssl_status, ": OK; accepted"));
    relay_stop(&c);
    SPIN(p, s.disconnected == 1, 10000);
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* Refusals: a certificate from another CA, no certificate, and a good one
 * the application refuses; and the application accepting the other CA's
 * certificate (its key then comes from our own decoding of the leaf, and
 * must still verify the client's CertificateVerify). */
static void test_ltls_client_cert_refusals(void **st)
{
    (void)st;
    static seen s;
    static char out[16384];
    emu_echo(&s);
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, auth_set, &port);

    const char *const other[] = {"-cert", CERTS "other-client.pem", "-key",
                                 CERTS "other-client.key", NULL};
    assert_int_not_equal(s_client_run(p, &s, port, other, out, sizeof out), 0);
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.auths, 1);
    assert_int_equal(s.auth_verdict, 0);
    assert_string_equal(s.auth_status, "not issued by a CA in SSLClientCACerts");
    assert_string_equal(s.auth_subject, "CN=client two, O=elsewhere");
    assert_string_equal(s.auth_issuer, "CN=azrelay other CA");
    assert_int_equal(s.disconnected_status, AZR_ERR_TLS);
    if (!strstr(s.disconnected_desc, "client certificate refused: not issued by a CA"))
        fail_msg("%s", s.disconnected_desc);
    assert_null(strstr(s.log, "connecting to relay")); /* never dialled */

    assert_int_not_equal(s_client_run(p, &s, port, NULL, out, sizeof out), 0);
    SPIN(p, s.disconnected == 2, 5000);
    assert_int_equal(s.disconnected_status, AZR_ERR_TLS);
    /* BearSSL ends the handshake on an empty Certificate before any
     * validator runs: no event, a clear reason */
    if (!strstr(s.disconnected_desc, "the client sent no certificate"))
        fail_msg("no certificate: %s", s.disconnected_desc);
    assert_int_equal(s.auths, 1);

    s.auth_override = 1; /* refuse a good one */
    const char *const good[] = {"-cert", CERTS "client.pem", "-key", CERTS "client.key", NULL};
    int auths = s.auths;
    assert_int_not_equal(s_client_run(p, &s, port, good, out, sizeof out), 0);
    SPIN(p, s.disconnected == 3, 5000);
    assert_int_equal(s.auths, auths + 1);
    assert_int_equal(s.auth_verdict, 1);
    if (!strstr(s.disconnected_desc, "refused: by SSLClientAuthentication"))
        fail_msg("%s", s.disconnected_desc);

    s.auth_override = 2; /* accept the other CA's */
    assert_int_equal(s_client_run(p, &s, port, other, out, sizeof out), 0);
    SPIN(p, s.disconnected == 4, 5000);
    assert_int_equal(s.auth_verdict, 0);
    assert_non_null(strstr(s.ssl_status, "not issued by a CA in SSLClientCACerts; accepted"));
    if (!strstr(s.log, "relay connection open"))
        fail_msg("accepted client did not reach the relay\n%s", s.log);
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* Nothing in a log line or an SSLStatus text starts a line or holds a
 * control byte; every log record is one "[id type] ..." line. */
static void no_raw_control_bytes(const seen *s)
{
    const char *texts[2] = {s->log, s->ssl_status};
    for (int t = 0; t < 2; t++) {
        const char *x = texts[t];
        for (const char *line = x; *line;) {
            if (*line != '[')
                fail_msg("a line not written by the harness (forged?):\n%s", x);
            for (; *line && *line != '\n'; line++)
                if ((unsigned char)*line < 0x20 || *line == 0x7f)
                    fail_msg("raw byte 0x%02x in:\n%s", (unsigned)*line, x);
            line += *line == '\n';
        }
    }
}

/* The client's SNI is the peer's text: a name holding a newline, an ESC
 * sequence and a backslash reaches the log and SSLStatus escaped (what an
 * unauthenticated client could otherwise write into a log file). */
static void test_ltls_sni_escaped(void **st)
{
    (void)st;
    static seen s;
    static char out[16384];
    emu_echo(&s);
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, ec_set, &port);
    const char *const evil[] = {"-servername", "x\n[0 Info] forged\x1b[2J\\x41", "-brief", NULL};
    if (s_client_run(p, &s, port, evil, out, sizeof out) != 0)
        fail_msg("s_client failed:\n%s\n%s", out, s.log);
    if (!strstr(s.ssl_status, "ClientHello for x\\x0a[0 Info] forged\\x1b[2J\\\\x41: "))
        fail_msg("SNI not escaped as expected:\n%s", s.ssl_status);
    no_raw_control_bytes(&s);
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* Run argv (openssl making a certificate) to its end; its exit status. */
static int run_quiet(const char *const *argv)
{
    int status = -1;
    pid_t pid = spawn_quiet(argv);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A client certificate's names are the peer's text too: a CN with a newline
 * and an ESC sequence, an O with a backslash (made by openssl, signed by
 * the test CA) reach SSLClientAuthentication and SSLStatus escaped. */
static void test_ltls_client_cert_names_escaped(void **st)
{
    (void)st;
    static seen s;
    static char out[16384];
    char dir[] = "/tmp/azr-evil-cert-XXXXXX", key[64], csr[64], crt[64], ext[64];
    assert_non_null(mkdtemp(dir));
    snprintf(key, sizeof key, "%s/c.key", dir);
    snprintf(csr, sizeof csr, "%s/c.csr", dir);
    snprintf(crt, sizeof crt, "%s/c.pem", dir);
    snprintf(ext, sizeof ext, "%s/c.ext", dir);
    FILE *f = fopen(ext, "w");
    assert_non_null(f);
    fputs("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n", f);
    fclose(f);
    const char *const genkey[] = {"openssl", "ecparam", "-name", "prime256v1", "-genkey",
                                  "-noout",  "-out",    key,     NULL};
    /* openssl -subj reads "\\" as one backslash */
    const char *const req[] = {
        "openssl", "req", "-new", "-key", key, "-subj", "/O=gw\\\\x41/CN=x\n[0 Info] forged\x1b[2J",
        "-out",    csr,   NULL};
    const char *const sign[] = {
        "openssl", "x509",         "-req",  "-in", csr,        "-CA", CERTS "ca.pem",
        "-CAkey",  CERTS "ca.key", "-days", "1",   "-extfile", ext,   "-set_serial",
        "4242",    "-out",         crt,     NULL};
    assert_int_equal(run_quiet(genkey), 0);
    assert_int_equal(run_quiet(req), 0);
    assert_int_equal(run_quiet(sign), 0);

    emu_echo(&s);
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, auth_set, &port);
    const char *const more[] = {"-cert", crt, "-key", key, "-brief", NULL};
    if (s_client_run(p, &s, port, more, out, sizeof out) != 0)
        fail_msg("s_client failed:\n%s\n%s", out, s.log);
    unlink(key), unlink(csr), unlink(crt), unlink(ext), rmdir(dir);
    assert_int_equal(s.auths, 1);
    assert_string_equal(s.auth_subject, "CN=x\\x0a[0 Info] forged\\x1b[2J, O=gw\\\\x41");
    assert_string_equal(s.auth_issuer, "CN=azrelay test CA");
    if (!strstr(s.ssl_status, "client certificate CN=x\\x0a[0 Info] forged\\x1b[2J, O=gw\\\\x41, "
                              "issued by CN=azrelay test CA: OK; accepted"))
        fail_msg("subject not escaped as expected:\n%s", s.ssl_status);
    no_raw_control_bytes(&s);
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* SSLConnectionRequest: the client's suites and signature algorithms
 * before our certificate is chosen; answering an RSA-only client with the
 * RSA certificate while the configured one is EC. */
static void test_ltls_connection_request_picks_certificate(void **st)
{
    (void)st;
    static seen s;
    static char out[16384];
    emu_echo(&s);
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, ec_set, &port);
    const char *const rsa_only[] = {"-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384", "-brief",
                                    NULL};
    /* no alternative: an EC certificate cannot serve this client */
    assert_int_not_equal(s_client_run(p, &s, port, rsa_only, out, sizeof out), 0);
    SPIN(p, s.disconnected == 1, 5000);
    assert_int_equal(s.conn_requests, 1);
    assert_string_equal(s.req_suites, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assert_non_null(strstr(s.req_algs, "sha256-rsa"));
    assert_non_null(strstr(s.req_algs, "sha256-ecdsa"));
    /* with it: the RSA certificate, and a TLS session openssl verifies */
    s.alt_store = CERTS "rsa-both.pem";
    if (s_client_run(p, &s, port, rsa_only, out, sizeof out) != 0)
        fail_msg("s_client failed:\n%s\n%s", out, s.ssl_status);
    assert_non_null(strstr(out, "Ciphersuite: ECDHE-RSA-AES256-GCM-SHA384"));
    assert_non_null(strstr(s.ssl_status, "answering with CN=localhost (RSA key)"));
    SPIN(p, s.disconnected == 2, 5000);
    /* a client that offers ECDSA gets the configured EC certificate */
    const char *const any[] = {"-tls1_2", "-brief", NULL};
    assert_int_equal(s_client_run(p, &s, port, any, out, sizeof out), 0);
    assert_non_null(strstr(s.req_suites, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
    assert_non_null(strstr(out, "Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256"));
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* Every suite that both BearSSL (SSLEnabledCipherSuites=*) and openssl
 * speak in TLS 1.2, one s_client handshake each, with the key it needs. */
static void test_ltls_each_enabled_suite(void **st)
{
    (void)st;
    static seen s;
    static char out[16384], names[65536], line[256];
    emu_echo(&s);
    /* openssl's TLS 1.2 suites with their IANA names, from openssl itself */
    FILE *f = popen("openssl ciphers -stdname -tls1_2 'ALL:@SECLEVEL=0'", "r");
    assert_non_null(f);
    names[0] = '\n';
    size_t nn = fread(names + 1, 1, sizeof names - 2, f);
    names[nn + 1] = '\0';
    pclose(f);
    azr_tls_suites all;
    char err[200];
    assert_int_equal(azr_tls_suites_parse("*", &all, err, sizeof err), AZR_OK);
    int tried = 0, ok = 0;
    const char *const stores[2] = {CERTS "both.pem", CERTS "rsa-both.pem"};
    for (int k = 0; k < 2; k++) {
        char store[128];
        snprintf(store, sizeof store, "SSLCertStore=%s", stores[k]);
        const char *const set[] = {"SSLEnabled=True", store, "SSLEnabledCipherSuites=*", NULL};
        int port;
        memset(&s, 0, sizeof s);
        azr_proxy *p = tls_proxy("hc1", &s, set, &port);
        for (size_t i = 0; i < all.n; i++) {
            const char *iana = azr_tls_suite_name(all.id[i]);
            bool ecdsa = strstr(iana, "_ECDHE_ECDSA_") != NULL;
            bool rsa = strstr(iana, "_ECDHE_RSA_") || strncmp(iana, "TLS_RSA_", 8) == 0;
            if ((k == 0 && !ecdsa) || (k == 1 && !rsa))
                continue;
            /* lines "<IANA>   - <openssl name>   TLSv1.2 Kx=..." */
            char key[128], ossl[96] = "";
            snprintf(key, sizeof key, "\n%s ", iana);
            const char *at = strstr(names, key);
            if (!at || sscanf(at + strlen(key), " - %95s", ossl) != 1) {
                fprintf(stderr, "  %s: openssl lacks it, not tried\n", iana);
                continue;
            }
            char cipher[128];
            snprintf(cipher, sizeof cipher, "%s:@SECLEVEL=0", ossl);
            const char *const more[] = {"-tls1_2", "-cipher", cipher, "-brief", NULL};
            tried++;
            memset(s.ssl_status, 0, sizeof s.ssl_status);
            int rc = s_client_run(p, &s, port, more, out, sizeof out);
            snprintf(line, sizeof line, "client TLS established: TLS 1.2, %s\n", iana);
            snprintf(key, sizeof key, "Ciphersuite: %s\n", ossl);
            if (rc == 0 && strstr(s.ssl_status, line) && strstr(out, key))
                ok++;
            else
                fprintf(stderr, "  %s (%s): s_client %d\n%s%s\n", iana, ossl, rc, out,
                        s.ssl_status);
        }
        azr_proxy_free(p);
    }
    fprintf(stderr, "  %d of %d suites negotiated with openssl s_client\n", ok, tried);
    assert_true(tried >= 12); /* ECDHE-ECDSA, ECDHE-RSA, RSA: GCM, CBC, ChaCha20 */
    assert_int_equal(ok, tried);
    relay_stop(&emu);
}

/* Issue 13: our order wins (BR_OPT_ENFORCE_SERVER_PREFERENCES) and follows
 * the CPU: AES-GCM first with AES instructions, ChaCha20-Poly1305 first
 * without, whichever of the two s_client prefers; a named
 * SSLEnabledCipherSuites keeps its own order. The debug log says which. */
static void test_ltls_suite_order_by_cpu(void **st)
{
    (void)st;
    static seen s;
    static char out[16384];
    emu_echo(&s);
    bool hw = azr_tls_aes_hw();
    const char *want = hw ? "Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256\n"
                          : "Ciphersuite: ECDHE-ECDSA-CHACHA20-POLY1305\n";
    static const char *const orders[2] = {
        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305"};
    int port;
    azr_proxy *p = tls_proxy("hc1", &s, ec_set, &port);
    assert_non_null(strstr(s.log, hw ? "TLS cipher suites, both sides: AES-GCM first"
                                     : "TLS cipher suites, both sides: ChaCha20-Poly1305 first"));
    for (int i = 0; i < 2; i++) {
        const char *const more[] = {"-tls1_2", "-cipher", orders[i], "-brief", NULL};
        int rc = s_client_run(p, &s, port, more, out, sizeof out);
        if (rc != 0 || !strstr(out, want))
            fail_msg("client order %s: s_client %d, wanted %s%s", orders[i], rc, want, out);
    }
    azr_proxy_free(p);

    /* a named list wins over the automatic order, on any CPU */
    const char *const named[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                                 "SSLEnabledCipherSuites=TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_"
                                 "SHA256;TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                 NULL};
    memset(&s, 0, sizeof s);
    p = tls_proxy("hc1", &s, named, &port);
    assert_non_null(strstr(s.log, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 first, as "
                                  "SSLEnabledCipherSuites names them"));
    const char *const more[] = {"-tls1_2", "-cipher", orders[1], "-brief", NULL};
    int rc = s_client_run(p, &s, port, more, out, sizeof out);
    if (rc != 0 || !strstr(out, "Ciphersuite: ECDHE-ECDSA-CHACHA20-POLY1305\n"))
        fail_msg("named order: s_client %d\n%s", rc, out);
    azr_proxy_free(p);
    relay_stop(&emu);
}

/* The other branch on a real CPU without AES instructions: the release
 * daemon under qemu-user as a qemu64 CPU (no AES-NI, no PCLMUL), s_client
 * preferring AES-GCM; ChaCha20-Poly1305 is chosen and the debug log says
 * why. Needs qemu-x86_64-static (qemu-user-static, which build.sh installs). */
static void test_ltls_suite_order_without_aes_instructions(void **st)
{
    (void)st;
#if !defined(__x86_64__)
    skip();
#endif
    const char *qemu = "/usr/bin/qemu-x86_64-static";
    const char *bin = getenv("AZR_PROXY_BIN") ? getenv("AZR_PROXY_BIN") : "../build/azrelay-proxy";
    if (access(qemu, X_OK) != 0 || access(bin, X_OK) != 0) /* build.sh installs qemu-user-static */
        fail_msg("%s or %s missing: apt-get install qemu-user-static", qemu, bin);
    static seen s;
    emu_echo(&s);
    int port = free_port();
    char ns[64], lp[32], to[32], line[512];
    snprintf(ns, sizeof ns, "NamespaceAddress=ws://127.0.0.1:%d", emu.port);
    snprintf(lp, sizeof lp, "LocalPort=%d", port);
    snprintf(to, sizeof to, "127.0.0.1:%d", port);
    const char *const argv[] = {qemu,
                                "-cpu",
                                "qemu64",
                                bin,
                                ns,
                                "HybridConnection=hc1",
                                "AccessKeyName=RootManageSharedAccessKey",
                                "AccessKey=" KEY,
                                "LocalHost=127.0.0.1",
                                lp,
                                "LogLevel=3",
                                "SSLEnabled=True",
                                "SSLCertStore=" CERTS "both.pem",
                                NULL};
    relay d;
    proc_start(&d, argv, 2);
    if (!relay_match(&d, "TLS cipher suites, both sides: ", false, line, sizeof line, 30000)) {
        relay_dump(&d, "azrelay-proxy under qemu");
        fail_msg("no cipher suite line in the daemon's log");
    }
    assert_non_null(strstr(line, "ChaCha20-Poly1305 first"));
    assert_non_null(strstr(line, "no AES instructions"));
    assert_true(relay_match(&d, "listening on", false, line, sizeof line, 30000));
    const char *const cargv[] = {"openssl",
                                 "s_client",
                                 "-connect",
                                 to,
                                 "-CAfile",
                                 CERTS "ca.pem",
                                 "-verify_return_error",
                                 "-tls1_2",
                                 "-cipher",
                                 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
                                 "-brief",
                                 NULL};
    relay c;
    proc_start(&c, cargv, 2);
    close(c.in); /* s_client ends after the handshake */
    c.in = open("/dev/null", O_RDONLY);
    bool chose = relay_match(&c, "Ciphersuite: ", false, line, sizeof line, 60000);
    relay_stop(&c);
    relay_stop(&d);
    relay_stop(&emu);
    if (!chose)
        fail_msg("s_client reported no cipher suite");
    assert_string_equal(line, "Ciphersuite: ECDHE-ECDSA-CHACHA20-POLY1305");
}

static int start_with(const char *const *set, char *err, size_t cap)
{
    azr_proxy *p = azr_proxy_new(NULL, NULL);
    assert_non_null(p);
    assert_int_equal(azr_proxy_config(p, "NamespaceAddress=ws://127.0.0.1:9", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "HybridConnection=hc1", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "LocalHost=127.0.0.1", NULL, 0), 0);
    for (; *set; set++)
        if (azr_proxy_config(p, *set, NULL, 0) != 0)
            fail_msg("%s: %s", *set, azr_proxy_last_error(p));
    int rc = azr_proxy_start_listening(p);
    snprintf(err, cap, "%s", azr_proxy_last_error(p));
    azr_proxy_free(p);
    return rc;
}

static void test_ltls_settings(void **st)
{
    (void)st;
    char err[640], out[64];
    /* SSLEnabled and SSLStartMode move together, as the class's do */
    azr_proxy *p = azr_proxy_new(NULL, NULL);
    assert_int_equal(azr_proxy_config(p, "SSLStartMode", out, sizeof out), 0);
    assert_string_equal(out, "3");
    assert_int_equal(azr_proxy_config(p, "SSLEnabled=True", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "SSLStartMode", out, sizeof out), 0);
    assert_string_equal(out, "1");
    assert_int_equal(azr_proxy_config(p, "SSLStartMode=3", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "SSLEnabled", out, sizeof out), 0);
    assert_string_equal(out, "False");
    assert_int_equal(azr_proxy_config(p, "SSLStartMode=Automatic", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "SSLEnabled", out, sizeof out), 0);
    assert_string_equal(out, "True");
    assert_int_equal(azr_proxy_config(p, "SSLCertStoreType=2", NULL, 0), AZR_ERR_UNSUPPORTED);
    assert_non_null(strstr(azr_proxy_last_error(p), "store type 2 is not supported"));
    assert_int_equal(azr_proxy_config(p, "SSLCertStoreType=PEMKeyFile", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(p, "SSLCert=x", NULL, 0), AZR_ERR_UNSUPPORTED);
    assert_non_null(strstr(azr_proxy_last_error(p), "SSLCertStore"));
    azr_proxy_free(p);

    const char *const explicit_mode[] = {"SSLStartMode=2", NULL};
    assert_int_equal(start_with(explicit_mode, err, sizeof err), AZR_ERR_SETTING);
    assert_non_null(strstr(err, "STARTTLS"));
    const char *const no_store[] = {"SSLEnabled=True", NULL};
    assert_int_equal(start_with(no_store, err, sizeof err), AZR_ERR_STATE);
    assert_non_null(strstr(err, "SSLEnabled needs SSLCertStore"));
    const char *const password[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                                    "SSLCertStorePassword=secret", NULL};
    assert_int_equal(start_with(password, err, sizeof err), AZR_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "encrypted private keys are not supported"));
    assert_null(strstr(err, "secret"));
    const char *const no_key[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "server.pem", NULL};
    assert_int_equal(start_with(no_key, err, sizeof err), AZR_ERR_SETTING);
    assert_non_null(strstr(err, "no PRIVATE KEY"));
    const char *const missing[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "nonexistent.pem",
                                   NULL};
    assert_int_equal(start_with(missing, err, sizeof err), AZR_ERR_IO);
    assert_non_null(strstr(err, "nonexistent.pem"));
    const char *const subject[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                                   "SSLCertSubject=gateway.example", NULL};
    assert_int_equal(start_with(subject, err, sizeof err), AZR_ERR_SETTING);
    assert_non_null(strstr(err, "(CN=localhost)"));
    const char *const no_cas[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                                  "SSLAuthenticateClients=True", NULL};
    assert_int_equal(start_with(no_cas, err, sizeof err), AZR_ERR_STATE);
    assert_non_null(strstr(err, "SSLAuthenticateClients needs SSLClientCACerts"));
    const char *const bad_cas[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                                   "SSLAuthenticateClients=True",
                                   "SSLClientCACerts=" CERTS "server.key", NULL};
    assert_int_equal(start_with(bad_cas, err, sizeof err), AZR_ERR_SETTING);
    assert_non_null(strstr(err, "SSLClientCACerts"));
    /* the class's form: the certificates' PEM text, newline separated */
    static char pem[8192], stmt[8300];
    FILE *f = fopen(CERTS "ca.pem", "r");
    assert_non_null(f);
    size_t pn = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    pem[pn] = '\0';
    snprintf(stmt, sizeof stmt, "SSLClientCACerts=%s", pem);
    const char *const pem_cas[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                                   "SSLAuthenticateClients=True", stmt, NULL};
    if (start_with(pem_cas, err, sizeof err) != 0)
        fail_msg("PEM text: %s", err);
    /* the class's DN form: every named field must match */
    const char *const dn_bad[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                                  "SSLCertSubject=CN=localhost, O=elsewhere", NULL};
    assert_int_equal(start_with(dn_bad, err, sizeof err), AZR_ERR_SETTING);
    const char *const dn_good[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "client-both.pem",
                                   "SSLCertSubject=cn=client one, O=azrelay test, C=US", NULL};
    assert_int_equal(start_with(dn_good, err, sizeof err), 0);
    const char *const good[] = {"SSLEnabled=True", "SSLCertStore=" CERTS "both.pem",
                                "SSLCertSubject=localhost", NULL};
    assert_int_equal(start_with(good, err, sizeof err), 0);
}

static void test_ltls_protocol_and_suite_settings(void **st)
{
    (void)st;
    azr_proxy *p = azr_proxy_new(NULL, NULL);
    assert_int_equal(azr_proxy_config(p, "SSLEnabledProtocols=12288", NULL, 0),
                     AZR_ERR_UNSUPPORTED);
    assert_non_null(strstr(azr_proxy_last_error(p), "TLS 1.3 is not available"));
    assert_int_equal(azr_proxy_config(p, "SSLEnabledProtocols=48", NULL, 0), AZR_ERR_UNSUPPORTED);
    assert_int_equal(azr_proxy_config(p, "SSLEnabledProtocols=3264", NULL, 0),
                     AZR_ERR_UNSUPPORTED); /* TLS 1.0 + 1.2 without 1.1 */
    assert_int_equal(azr_proxy_config(p, "SSLEnabledProtocols=15360", NULL, 0), 0); /* 1.2 + 1.3 */
    assert_int_equal(azr_proxy_config(p, "SSLEnabledCipherSuites=TLS_FOO", NULL, 0),
                     AZR_ERR_SETTING);
    assert_non_null(strstr(azr_proxy_last_error(p), "'TLS_FOO' is not a cipher suite"));
    azr_proxy_free(p);
}

/* A TLS handshake's flight goes out in one write, on both sides (issue 13):
 * a ChangeCipherSpec record is never written alone, so Nagle (TcpNoDelay is
 * off on the client side by default) cannot hold the Finished behind it for
 * the peer's delayed ACK, ~40 ms a handshake before. Seen from outside: the
 * release daemon with strace attached, a TLS 1.2 client (Python's ssl, OpenSSL)
 * through its local TLS side to a wss:// emulator; every write that starts
 * with a ChangeCipherSpec record (14 03 03 00 01 01) is longer than it. */
static void test_ltls_handshake_flights_go_out_whole(void **st)
{
    (void)st;
    const char *bin = getenv("AZR_PROXY_BIN") ? getenv("AZR_PROXY_BIN") : "../build/azrelay-proxy";
    const char *const eargs[] = {"--host",           "localhost", "--cert",
                                 CERTS "server.pem", "--key",     CERTS "server.key",
                                 "--echo",           "hc1",       NULL};
    emu_up(eargs);
    char trace[] = "/tmp/azr-flight-XXXXXX";
    int tfd = mkstemp(trace);
    assert_true(tfd >= 0);
    close(tfd);
    int port = free_port();
    char ns[64], lp[32], line[512];
    snprintf(ns, sizeof ns, "NamespaceAddress=wss://localhost:%d", emu.port);
    snprintf(lp, sizeof lp, "LocalPort=%d", port);
    const char *const argv[] = {bin,
                                ns,
                                "SSLCACertFilePaths=",
                                "SSLServerCACerts=" CERTS "ca.pem",
                                "HybridConnection=hc1",
                                "AccessKeyName=RootManageSharedAccessKey",
                                "AccessKey=" KEY,
                                "LocalHost=127.0.0.1",
                                lp,
                                "SSLEnabled=True",
                                "SSLCertStore=" CERTS "both.pem",
                                "LogLevel=1",
                                NULL};
    relay d, t;
    proc_start(&d, argv, 2);
    assert_true(relay_match(&d, "listening on", false, line, sizeof line, 30000));
    /* strace attaches to the running daemon (and detaches when stopped) */
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)d.pid);
    const char *const targv[] = {"strace", "-f",          "-e",  "trace=sendto,write,writev",
                                 "-e",     "signal=none", "-xx", "-s",
                                 "16",     "-o",          trace, "-p",
                                 pid,      NULL};
    proc_start(&t, targv, 2);
    if (!relay_match(&t, "attached", false, line, sizeof line, 10000)) {
        relay_dump(&t, "strace");
        fail_msg("strace did not attach to the daemon");
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "timeout 30 python3 -c 'import socket, ssl\n"
             "c = ssl.create_default_context(cafile=\"%sca.pem\")\n"
             "c.maximum_version = ssl.TLSVersion.TLSv1_2\n"
             "s = c.wrap_socket(socket.create_connection((\"127.0.0.1\", %d)), "
             "server_hostname=\"localhost\")\n"
             "s.sendall(b\"x\")\n"
             "assert s.recv(1) == b\"x\"\n"
             "s.close()'",
             CERTS, port);
    assert_int_equal(system(cmd), 0);
    bool ended = relay_match(&d, "disconnected", false, line, sizeof line, 10000);
    relay_stop(&t);
    relay_stop(&d);
    relay_stop(&emu);
    assert_true(ended);
    /* each write: its first bytes (strace -xx: \xHH) and its length */
    FILE *f = fopen(trace, "r");
    assert_non_null(f);
    static char l[4096];
    int alone = 0, gathered = 0;
    while (fgets(l, sizeof l, f)) {
        const char *q = strstr(l, "(");
        q = q ? strchr(q, '"') : NULL;
        if (!q)
            continue;
        uint8_t b[16];
        size_t nb = 0;
        for (q++; nb < sizeof b && q[0] == '\\' && q[1] == 'x'; q += 4)
            b[nb++] = (uint8_t)strtol((char[]){q[2], q[3], 0}, NULL, 16);
        if (*q != '"' || nb < 5 || (b[0] != 0x14 && b[0] != 0x16) || b[1] != 3)
            continue; /* not a TLS handshake-time record */
        q += strncmp(q + 1, "...", 3) == 0 ? 4 : 1;
        if (strncmp(q, ", ", 2) != 0)
            continue;
        long len = strtol(q + 2, NULL, 10), rec = 5 + (b[3] << 8 | b[4]);
        print_message("  a write of %ld bytes starting with a %s record of %ld\n", len,
                      b[0] == 0x14 ? "ChangeCipherSpec" : "handshake", rec);
        alone += b[0] == 0x14 && len == rec; /* a ChangeCipherSpec by itself */
        gathered += len > rec;               /* more records after the first */
    }
    fclose(f);
    unlink(trace);
    /* ours to the client (CCS + Finished) and ours to the relay (key
     * exchange + CCS + Finished) each went as one write */
    assert_int_equal(alone, 0);
    assert_true(gathered >= 2);
}

static int reap(void **st)
{
    (void)st;
    procs_kill_all();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ltls_echo_ec_key, reap),
        cmocka_unit_test_teardown(test_ltls_echo_rsa_key, reap),
        cmocka_unit_test_teardown(test_ltls_relay_closes_first, reap),
        cmocka_unit_test_teardown(test_ltls_stalled_and_plaintext_clients, reap),
        cmocka_unit_test_teardown(test_ltls_certificate_changed_while_listening, reap),
        cmocka_unit_test_teardown(test_ltls_client_cert_accepted, reap),
        cmocka_unit_test_teardown(test_ltls_client_cert_refusals, reap),
        cmocka_unit_test_teardown(test_ltls_sni_escaped, reap),
        cmocka_unit_test_teardown(test_ltls_client_cert_names_escaped, reap),
        cmocka_unit_test_teardown(test_ltls_connection_request_picks_certificate, reap),
        cmocka_unit_test_teardown(test_ltls_each_enabled_suite, reap),
        cmocka_unit_test_teardown(test_ltls_suite_order_by_cpu, reap),
        cmocka_unit_test_teardown(test_ltls_suite_order_without_aes_instructions, reap),
        cmocka_unit_test_teardown(test_ltls_handshake_flights_go_out_whole, reap),
        cmocka_unit_test(test_ltls_settings),
        cmocka_unit_test(test_ltls_protocol_and_suite_settings),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("local_tls", tests, NULL, NULL);
}
