/*
 * The class's TLS vocabulary on BearSSL (src/tlsparams.c): cipher suite
 * names (IANA registry names; ids from RFC 5289, RFC 7905, RFC 6655),
 * SSLEnabledProtocols bits as the class documents them (0xC0 TLS 1.0,
 * 0x300 TLS 1.1, 0xC00 TLS 1.2, 0x3000 TLS 1.3), SSLNegotiated* fields,
 * and SSLKeyLogFile (NSS key log format; FIFOs, links and modes).
 */
#include "testutil.h"
#include "tlsparams.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

static uint64_t ms_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void test_tlsparams_default_is_ecdhe_aead(void **s)
{
    (void)s;
    azr_tls_suites su;
    char err[256];
    assert_int_equal(azr_tls_suites_parse("", &su, err, sizeof err), AZR_OK);
    assert_int_equal(su.n, 6);
    for (size_t i = 0; i < su.n; i++) {
        const char *n = azr_tls_suite_name(su.id[i]);
        assert_non_null(strstr(n, "TLS_ECDHE_"));
        assert_true(strstr(n, "_GCM_") || strstr(n, "CHACHA20_POLY1305"));
    }
    assert_int_equal(su.id[0], 0xC02B); /* RFC 5289: ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
    assert_int_equal(azr_tls_suites_parse("*", &su, err, sizeof err), AZR_OK);
    assert_true(su.n > 20);
}

/* Issue 13: without AES instructions BearSSL's AES-GCM is constant-time
 * software, several times slower than ChaCha20-Poly1305; the automatic
 * lists then lead with ChaCha20 (ids: RFC 7905), a named list never moves. */
static void test_tlsparams_order_by_cpu(void **s)
{
    (void)s;
    azr_tls_suites su, before;
    char err[256];
    assert_int_equal(azr_tls_suites_parse("", &su, err, sizeof err), AZR_OK);
    assert_true(su.automatic);
    before = su;
    assert_false(azr_tls_suites_order(&su, true)); /* AES hardware: AES-GCM stays first */
    assert_memory_equal(su.id, before.id, sizeof su.id);
    assert_true(azr_tls_suites_order(&su, false));
    assert_int_equal(su.n, 6);
    assert_int_equal(su.id[0], 0xCCA9); /* ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 */
    assert_int_equal(su.id[1], 0xCCA8); /* ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 */
    assert_int_equal(su.id[2], 0xC02B); /* then AES-GCM in its order: RFC 5289 */
    assert_int_equal(su.id[3], 0xC02F);
    assert_int_equal(su.id[4], 0xC02C);
    assert_int_equal(su.id[5], 0xC030);
    assert_true(azr_tls_suites_order(&su, false)); /* idempotent */
    assert_int_equal(su.id[0], 0xCCA9);
    assert_int_equal(su.id[2], 0xC02B);

    /* "*": ChaCha20 first, every other suite after it in the table's order */
    assert_int_equal(azr_tls_suites_parse("*", &su, err, sizeof err), AZR_OK);
    assert_true(su.automatic);
    before = su;
    assert_true(azr_tls_suites_order(&su, false));
    assert_int_equal(su.n, before.n);
    assert_int_equal(su.id[0], 0xCCA9);
    assert_int_equal(su.id[1], 0xCCA8);
    for (size_t i = 0, k = 2; i < before.n; i++)
        if (before.id[i] != 0xCCA9 && before.id[i] != 0xCCA8)
            assert_int_equal(su.id[k++], before.id[i]);

    /* a named list is the user's order, whatever the CPU */
    assert_int_equal(azr_tls_suites_parse("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;"
                                          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                                          &su, err, sizeof err),
                     AZR_OK);
    assert_false(su.automatic);
    assert_false(azr_tls_suites_order(&su, false));
    assert_int_equal(su.id[0], 0xC02F);
    assert_int_equal(su.id[1], 0xCCA8);
    assert_int_equal(azr_tls_suites_parse("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;"
                                          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                          &su, err, sizeof err),
                     AZR_OK);
    assert_true(azr_tls_suites_order(&su, true)); /* named ChaCha20 first stays first */
    assert_int_equal(su.id[0], 0xCCA8);
}

static void test_tlsparams_names(void **s)
{
    (void)s;
    azr_tls_suites su;
    char err[256];
    assert_int_equal(azr_tls_suites_parse(" tls_ecdhe_rsa_with_chacha20_poly1305_sha256 ;"
                                          "TLS_RSA_WITH_AES_128_GCM_SHA256,"
                                          "TLS_RSA_WITH_AES_128_GCM_SHA256",
                                          &su, err, sizeof err),
                     AZR_OK);
    assert_int_equal(su.n, 2);          /* duplicates once */
    assert_int_equal(su.id[0], 0xCCA8); /* RFC 7905 */
    assert_int_equal(su.id[1], 0x009C); /* RFC 5288 */
    assert_int_equal(azr_tls_suites_parse("TLS_DHE_DSS_WITH_AES_128_CBC_SHA", &su, err, sizeof err),
                     AZR_E_ARG);
    assert_non_null(strstr(err, "'TLS_DHE_DSS_WITH_AES_128_CBC_SHA' is not a cipher suite"));
    assert_int_equal(azr_tls_suites_parse(";;", &su, err, sizeof err), AZR_E_ARG);
    assert_string_equal(azr_tls_suite_name(0x1301), "unknown"); /* a TLS 1.3 suite */
}

static void test_tlsparams_protocol_bits(void **s)
{
    (void)s;
    unsigned lo, hi;
    char err[256];
    assert_int_equal(azr_tls_versions(3072, &lo, &hi, err, sizeof err), AZR_OK);
    assert_int_equal(lo, BR_TLS12);
    assert_int_equal(hi, BR_TLS12);
    assert_int_equal(azr_tls_versions(4032, &lo, &hi, err, sizeof err),
                     AZR_OK); /* class client default */
    assert_int_equal(lo, BR_TLS10);
    assert_int_equal(hi, BR_TLS12);
    assert_int_equal(azr_tls_versions(0x3000 | 0xC00, &lo, &hi, err, sizeof err), AZR_OK);
    assert_int_equal(hi, BR_TLS12);
    assert_int_equal(azr_tls_versions(0x3000, &lo, &hi, err, sizeof err), AZR_E_UNSUPPORTED);
    assert_non_null(strstr(err, "TLS 1.3 is not available"));
    assert_int_equal(azr_tls_versions(0xC0 | 0xC00, &lo, &hi, err, sizeof err), AZR_E_UNSUPPORTED);
    assert_int_equal(azr_tls_versions(0x30, &lo, &hi, err, sizeof err), AZR_E_UNSUPPORTED);
    assert_int_equal(azr_tls_versions(0, &lo, &hi, err, sizeof err), AZR_E_UNSUPPORTED);
    assert_int_equal(azr_tls_versions(0x4000, &lo, &hi, err, sizeof err), AZR_E_ARG);
}

static void test_tlsparams_fields(void **s)
{
    (void)s;
    azr_tls_info i = {BR_TLS12, 0xC030, BR_EC_secp256r1};
    char out[96];
    assert_true(azr_tls_info_field(&i, "Version", 7, out, sizeof out));
    assert_string_equal(out, "TLS1.2");
    assert_true(azr_tls_info_field(&i, "CipherSuite", 11, out, sizeof out));
    assert_string_equal(out, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assert_true(azr_tls_info_field(&i, "cipherstrength", 14, out, sizeof out));
    assert_string_equal(out, "256");
    assert_true(azr_tls_info_field(&i, "KeyExchangeStrength", 19, out, sizeof out));
    assert_string_equal(out, "256");
    assert_false(azr_tls_info_field(&i, "Bogus", 5, out, sizeof out));
    azr_tls_info none = {0, 0, 0};
    assert_true(azr_tls_info_field(&none, "CipherSuite", 11, out, sizeof out));
    assert_string_equal(out, ""); /* not a TLS connection */
}

/* ------------------------------------------------------------ SSLKeyLogFile */

/* A session with known secrets: client_random 00..1f, master secret 40..6f. */
static br_ssl_engine_context *keylog_engine(void)
{
    static br_ssl_engine_context eng;
    for (int i = 0; i < 32; i++)
        eng.client_random[i] = (unsigned char)i;
    for (int i = 0; i < 48; i++)
        eng.session.master_secret[i] = (unsigned char)(0x40 + i);
    return &eng;
}

/* The NSS key log line for it, written out by hand from the format:
 * "CLIENT_RANDOM <client random, 64 hex> <master secret, 96 hex>\n". */
static const char keylog_line[] =
    "CLIENT_RANDOM 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f\n";

static char keylog_dir[64];

static const char *in_dir(const char *name)
{
    static char path[128];
    if (!keylog_dir[0]) {
        snprintf(keylog_dir, sizeof keylog_dir, "/tmp/azr-keylog-XXXXXX");
        assert_non_null(mkdtemp(keylog_dir));
    }
    snprintf(path, sizeof path, "%s/%s", keylog_dir, name);
    return path;
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* A FIFO nobody reads used to block open() for ever, and the event loop
 * with it; one somebody reads got the secrets. Both are refused at once. */
static void test_tlsparams_keylog_fifo_refused_at_once(void **s)
{
    (void)s;
    char path[128], err[320] = "";
    snprintf(path, sizeof path, "%s", in_dir("fifo"));
    assert_int_equal(mkfifo(path, 0600), 0);
    /* a guard: without SA_RESTART a blocked open() returns EINTR after 2 s */
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_alarm;
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    alarm(2);
    uint64_t t0 = ms_now();
    azr_err e = azr_tls_keylog_append(path, keylog_engine(), err, sizeof err);
    uint64_t took = ms_now() - t0;
    alarm(0);
    sigaction(SIGALRM, &old, NULL);
    if (took > 500)
        fail_msg("SSLKeyLogFile on a FIFO blocked for %llu ms", (unsigned long long)took);
    assert_int_equal(e, AZR_E_IO);
    if (!strstr(err, path) || !strstr(err, "FIFO"))
        fail_msg("unclear error: %s", err);
    /* with a reader: still refused, and nothing written into it */
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    assert_int_equal(azr_tls_keylog_append(path, keylog_engine(), err, sizeof err), AZR_E_IO);
    char b[256];
    assert_true(read(rd, b, sizeof b) <= 0);
    close(rd);
    unlink(path);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static size_t slurp_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/* An existing 0644 key log stayed readable by everyone while secrets were
 * appended: it is made 0600 first; its lines stay and ours follow in the
 * NSS format. A new file is 0600 whatever the umask. */
static void test_tlsparams_keylog_made_private(void **s)
{
    (void)s;
    char path[128], err[320] = "", text[1024];
    snprintf(path, sizeof path, "%s", in_dir("keys.log"));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# earlier lines\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0644), 0);
    if (azr_tls_keylog_append(path, keylog_engine(), err, sizeof err) != AZR_OK)
        fail_msg("%s", err);
    assert_int_equal(mode_of(path), 0600);
    slurp_text(path, text, sizeof text);
    assert_string_equal(text + 16, keylog_line);
    assert_memory_equal(text, "# earlier lines\n", 16);
    unlink(path);

    mode_t um = umask(0);
    snprintf(path, sizeof path, "%s", in_dir("new.log"));
    azr_err e = azr_tls_keylog_append(path, keylog_engine(), err, sizeof err);
    umask(um);
    assert_int_equal(e, AZR_OK);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(azr_tls_keylog_append(path, keylog_engine(), err, sizeof err), AZR_OK);
    size_t n = slurp_text(path, text, sizeof text);
    assert_int_equal(n, 2 * strlen(keylog_line));
    assert_string_equal(text + strlen(keylog_line), keylog_line);
    unlink(path);
}

/* A symbolic link is not followed (the 0600 change would land on its
 * target); a device or a directory is not a key log either. */
static void test_tlsparams_keylog_not_regular_refused(void **s)
{
    (void)s;
    char target[128], link_path[128], err[320] = "";
    snprintf(target, sizeof target, "%s", in_dir("target"));
    snprintf(link_path, sizeof link_path, "%s", in_dir("link"));
    FILE *f = fopen(target, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(target, 0644), 0);
    assert_int_equal(symlink(target, link_path), 0);
    assert_int_equal(azr_tls_keylog_append(link_path, keylog_engine(), err, sizeof err), AZR_E_IO);
    if (!strstr(err, "symbolic link"))
        fail_msg("unclear error: %s", err);
    assert_int_equal(mode_of(target), 0644);
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_size, 0);
    unlink(link_path);
    unlink(target);

    assert_int_equal(azr_tls_keylog_append("/dev/null", keylog_engine(), err, sizeof err),
                     AZR_E_IO);
    assert_non_null(strstr(err, "SSLKeyLogFile /dev/null: is a device"));
    assert_int_equal(azr_tls_keylog_append(keylog_dir, keylog_engine(), err, sizeof err), AZR_E_IO);
    assert_non_null(strstr(err, "a directory"));
    assert_int_equal(rmdir(keylog_dir), 0);
    keylog_dir[0] = '\0';
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlsparams_default_is_ecdhe_aead),
        cmocka_unit_test(test_tlsparams_order_by_cpu),
        cmocka_unit_test(test_tlsparams_names),
        cmocka_unit_test(test_tlsparams_protocol_bits),
        cmocka_unit_test(test_tlsparams_fields),
        cmocka_unit_test(test_tlsparams_keylog_fifo_refused_at_once),
        cmocka_unit_test(test_tlsparams_keylog_made_private),
        cmocka_unit_test(test_tlsparams_keylog_not_regular_refused),
    };
    return cmocka_run_group_tests_name("tlsparams", tests, NULL, NULL);
}
