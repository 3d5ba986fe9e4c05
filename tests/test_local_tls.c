/*
 * TLS on the local side (SSLEnabled): the proxy in process, the relay
 * emulator as a real process, and openssl s_client as the client, an
 * independent TLS implementation that checks our certificate chain against
 * the test CA (tests/tls/make-certs.sh). Also the settings' refusals.
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"

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

static azr_proxy *tls_proxy(const char *hc, seen *s, const char *const *settings, int *port)
{
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", emu.port);
    return proxy_at(ns, hc, s, settings, port);
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
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--echo", "hc1", NULL};
    emu_up(args);
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
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--echo", "hc1", NULL};
    emu_up(args);
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
        cmocka_unit_test(test_ltls_settings),
        cmocka_unit_test(test_ltls_protocol_and_suite_settings),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("local_tls", tests, NULL, NULL);
}
