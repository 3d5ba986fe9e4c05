/*
 * Server credentials from PEM files made by openssl (tests/tls/make-certs.sh):
 * EC keys in SEC1 and PKCS#8 form, an RSA key in PKCS#1 form, certificate
 * and key in one file; a key that belongs to another certificate, a file
 * with no key, and a missing file are refused with a reason.
 */
#include "testutil.h"
#include "tls.h"

#define CERTS "../build/test-certs/"
#define OBJ   "../build/test/obj/" /* the sanitizer build this suite links */

static void load_ok(const char *cert, const char *key, int key_type)
{
    azr_tls_creds c;
    char err[256] = "";
    azr_err e = azr_tls_creds_load_files(&c, cert, key, err, sizeof err);
    if (e != AZR_OK)
        fail_msg("%s + %s: %s", cert, key ? key : "(same)", err);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.key_type, key_type);
    /* every leaf here is signed by the EC test CA */
    assert_int_equal(c.issuer_key_type, BR_KEYTYPE_EC);
    assert_non_null(c.key_mem);
    azr_tls_creds_free(&c);
    assert_null(c.key_mem);
    assert_int_equal(c.n, 0);
}

static void test_tls_creds_ec_sec1(void **s)
{
    (void)s;
    load_ok(CERTS "server.pem", CERTS "server.key", BR_KEYTYPE_EC);
}

static void test_tls_creds_ec_pkcs8(void **s)
{
    (void)s;
    load_ok(CERTS "server.pem", CERTS "server.p8", BR_KEYTYPE_EC);
}

static void test_tls_creds_rsa(void **s)
{
    (void)s;
    load_ok(CERTS "rsa.pem", CERTS "rsa.key", BR_KEYTYPE_RSA);
}

static void test_tls_creds_one_file(void **s)
{
    (void)s;
    load_ok(CERTS "both.pem", NULL, BR_KEYTYPE_EC);
    load_ok(CERTS "both.pem", CERTS "both.pem", BR_KEYTYPE_EC);
}

static void refused(const char *cert, const char *key, azr_err want, const char *why)
{
    azr_tls_creds c;
    char err[256] = "";
    assert_int_equal(azr_tls_creds_load_files(&c, cert, key, err, sizeof err), want);
    if (!strstr(err, why))
        fail_msg("error '%s' lacks '%s'", err, why);
    assert_null(c.chain);
    assert_null(c.key_mem);
}

static void test_tls_creds_refusals(void **s)
{
    (void)s;
    refused(CERTS "server.pem", CERTS "other.key", AZR_E_ARG, "does not belong");
    refused(CERTS "rsa.pem", CERTS "server.key", AZR_E_ARG, "does not belong");
    refused(CERTS "server.pem", NULL, AZR_E_ARG, "no PRIVATE KEY");
    refused(CERTS "server.key", NULL, AZR_E_ARG, "no CERTIFICATE");
    refused(CERTS "nonexistent.pem", CERTS "server.key", AZR_E_IO, "nonexistent.pem");
    refused(CERTS "server.pem", CERTS "nonexistent.key", AZR_E_IO, "nonexistent.key");
}

/* PEM text as a setting arrives: trimmed, so the last END line has no
 * newline after it; two certificates separated by CRLF, as the class writes them */
static void test_tls_anchors_pem_text_trimmed(void **s)
{
    (void)s;
    static char a[8192], b[8192], text[16384];
    FILE *f = fopen(CERTS "ca.pem", "r");
    assert_non_null(f);
    size_t na = fread(a, 1, sizeof a - 1, f);
    fclose(f);
    f = fopen(CERTS "other-ca.pem", "r");
    assert_non_null(f);
    size_t nb = fread(b, 1, sizeof b - 1, f);
    fclose(f);
    while (na && (a[na - 1] == '\n' || a[na - 1] == '\r'))
        na--;
    while (nb && (b[nb - 1] == '\n' || b[nb - 1] == '\r'))
        nb--;
    a[na] = b[nb] = '\0';
    azr_tls_anchors an = {0};
    size_t added = 0;
    char err[256] = "";
    if (azr_tls_anchors_add_pem(&an, a, na, &added, err, sizeof err) != AZR_OK)
        fail_msg("one certificate, no final newline: %s", err);
    assert_int_equal(added, 1);
    int n = snprintf(text, sizeof text, "%s\r\n%s", a, b);
    assert_int_equal(azr_tls_anchors_add_pem(&an, text, (size_t)n, &added, err, sizeof err),
                     AZR_OK);
    assert_int_equal(added, 2);
    assert_int_equal(an.n, 3);
    azr_tls_anchors_free(&an);
}

/* ASan's allocator hooks (weak: absent outside the sanitizer build). */
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
                                              void (*f)(const volatile void *))
    __attribute__((weak));
size_t __sanitizer_get_allocated_size(const volatile void *p) __attribute__((weak));

/* Pieces of the private key as openssl writes it (PEM) and encodes it
 * (DER), looked for in every block freed while the key is loaded. */
static struct {
    bool on;
    uint8_t needle[2][40];
    size_t len[2];
    int hits[2];
} keyscan;

static void keyscan_malloc(const volatile void *ptr, size_t n)
{
    (void)ptr, (void)n;
}

static void keyscan_free(const volatile void *ptr)
{
    if (!keyscan.on || !ptr)
        return;
    const volatile uint8_t *b = ptr;
    size_t n = __sanitizer_get_allocated_size(ptr);
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i + keyscan.len[k] <= n; i++) {
            size_t j = 0;
            while (j < keyscan.len[k] && b[i + j] == keyscan.needle[k][j])
                j++;
            if (j == keyscan.len[k]) {
                keyscan.hits[k]++;
                break;
            }
        }
}

/* Loading a key leaves no copy of it in freed memory: not in stdio's
 * buffer, not in a buffer outgrown while the PEM text or the DER grew. */
static void test_tls_key_not_left_in_freed_memory(void **s)
{
    (void)s;
    if (!__sanitizer_install_malloc_and_free_hooks || !__sanitizer_get_allocated_size)
        skip(); /* only the sanitizer build can watch free() */
    /* a base64 line from the middle of the PEM key */
    char line[128];
    FILE *f = fopen(CERTS "rsa.key", "r");
    assert_non_null(f);
    for (int i = 0; i < 12; i++)
        assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    memcpy(keyscan.needle[0], line, 40);
    keyscan.len[0] = 40;
    /* 32 bytes of the private exponent's DER, from openssl */
    f = popen("openssl rsa -in " CERTS "rsa.key -outform DER 2>/dev/null", "r");
    assert_non_null(f);
    static uint8_t der[4096];
    size_t dn = fread(der, 1, sizeof der, f);
    assert_int_equal(pclose(f), 0);
    assert_true(dn > 600);
    memcpy(keyscan.needle[1], der + 400, 32);
    keyscan.len[1] = 32;

    assert_true(__sanitizer_install_malloc_and_free_hooks(keyscan_malloc, keyscan_free) > 0);
    keyscan.on = true;
    azr_tls_creds c;
    char err[256] = "";
    azr_err e = azr_tls_creds_load_files(&c, CERTS "rsa-both.pem", NULL, err, sizeof err);
    if (e == AZR_OK)
        azr_tls_creds_free(&c);
    keyscan.on = false;
    assert_int_equal(e, AZR_OK);
    if (keyscan.hits[0] || keyscan.hits[1])
        fail_msg("freed blocks held the key: %d with its PEM text, %d with its DER",
                 keyscan.hits[0], keyscan.hits[1]);
}

/* Issue 13: the AES probe agrees with what the kernel says of this CPU
 * (the "aes" flag of /proc/cpuinfo on x86, where POWER8 code cannot run),
 * and the debug log's sentence names the order and its reason. */
static void test_tls_aes_probe_and_order(void **s)
{
    (void)s;
#if defined(__x86_64__) || defined(__i386__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[4096];
        bool flag = false, seen = false;
        while (!seen && fgets(line, sizeof line, f)) {
            if (strncmp(line, "flags", 5) == 0) {
                seen = true;
                flag = strstr(line, " aes ") || strstr(line, " aes\n");
            }
        }
        fclose(f);
        if (seen)
            assert_int_equal(azr_tls_aes_hw(), flag);
    }
#endif
    azr_tls_suites su;
    char err[200], why[200];
    assert_int_equal(azr_tls_suites_parse("", &su, err, sizeof err), AZR_OK);
    azr_tls_suites_for_cpu(&su, true, why, sizeof why);
    assert_int_equal(su.id[0], BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    assert_non_null(strstr(why, "AES-GCM first"));
    assert_non_null(strstr(why, "has AES instructions"));
    azr_tls_suites_for_cpu(&su, false, why, sizeof why);
    assert_int_equal(su.id[0], BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
    assert_non_null(strstr(why, "ChaCha20-Poly1305 first"));
    assert_non_null(strstr(why, "no AES instructions"));
    assert_int_equal(
        azr_tls_suites_parse("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", &su, err, sizeof err),
        AZR_OK);
    azr_tls_suites_for_cpu(&su, false, why, sizeof why);
    assert_int_equal(su.id[0], BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384);
    assert_non_null(strstr(why, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 first, as "
                                "SSLEnabledCipherSuites names them"));
}

/* The TLS code runs inside BearSSL's callbacks, once per connection, for
 * proxies that may live on different threads: it keeps no writable statics
 * (they held a certificate password and a client's names between
 * connections, shared by every proxy). nm lists no object of these modules
 * in .data or .bss (.data.rel.ro is read-only once relocated; __odr_asan
 * markers are ASan's). */
static void test_tls_no_writable_statics(void **s)
{
    (void)s;
    static const char *const mods[] = {"tls",      "ltls",  "rtls", "tlsparams",
                                       "certinfo", "x509v", "text"};
    int bad = 0;
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        char cmd[256], line[512];
        snprintf(cmd, sizeof cmd, "nm --format=sysv " OBJ "%s.o 2>&1", mods[i]);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof line, p)) {
            /* name|value|class|type|size|line|section */
            char *f[7] = {line}, *c = line;
            int k = 1;
            while (k < 7 && (c = strchr(c, '|')))
                *c++ = '\0', f[k++] = c;
            if (k < 7 || !strstr(f[3], "OBJECT"))
                continue;
            const char *sec = f[6] + strspn(f[6], " ");
            bool writable = (strncmp(sec, ".data", 5) == 0 && strncmp(sec, ".data.rel.ro", 12)) ||
                            strncmp(sec, ".bss", 4) == 0;
            if (writable && strncmp(line, "__odr_asan", 10) != 0) {
                fprintf(stderr, "  %s.o: writable static %s in %s", mods[i], line, sec);
                bad++;
            }
        }
        if (pclose(p) != 0)
            fail_msg("%s failed (objects from ./build.sh test expected in " OBJ ")", cmd);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_creds_ec_sec1),
        cmocka_unit_test(test_tls_creds_ec_pkcs8),
        cmocka_unit_test(test_tls_creds_rsa),
        cmocka_unit_test(test_tls_creds_one_file),
        cmocka_unit_test(test_tls_creds_refusals),
        cmocka_unit_test(test_tls_anchors_pem_text_trimmed),
        cmocka_unit_test(test_tls_aes_probe_and_order),
        cmocka_unit_test(test_tls_no_writable_statics),
        cmocka_unit_test(test_tls_key_not_left_in_freed_memory),
    };
    return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
