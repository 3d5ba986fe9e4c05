/*
 * Server credentials from PEM files made by openssl (tests/tls/make-certs.sh):
 * EC keys in SEC1 and PKCS#8 form, an RSA key in PKCS#1 form, certificate
 * and key in one file; a key that belongs to another certificate, a file
 * with no key, and a missing file are refused with a reason.
 */
#include "testutil.h"
#include "tls.h"
#include "tlsparams.h"

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

/* ---------------------------------------- the slim engines, back to back */

typedef struct pair {
    br_ssl_client_context cc;
    br_x509_minimal_context xm;
    br_ssl_server_context sc;
    unsigned char cbuf[BR_SSL_BUFSIZE_BIDI], sbuf[BR_SSL_BUFSIZE_BIDI];
} pair;

/* Records from one engine to the other until neither moves; both open? */
static bool pump(br_ssl_engine_context *a, br_ssl_engine_context *b)
{
    for (int round = 0; round < 1000; round++) {
        bool moved = false;
        br_ssl_engine_context *from[2] = {a, b}, *to[2] = {b, a};
        for (int k = 0; k < 2; k++) {
            size_t n, m;
            unsigned char *out = br_ssl_engine_sendrec_buf(from[k], &n);
            unsigned char *in = out ? br_ssl_engine_recvrec_buf(to[k], &m) : NULL;
            if (in && n > 0 && m > 0) {
                size_t c = n < m ? n : m;
                memcpy(in, out, c);
                br_ssl_engine_sendrec_ack(from[k], c);
                br_ssl_engine_recvrec_ack(to[k], c);
                moved = true;
            }
        }
        if (!moved)
            break;
    }
    return (br_ssl_engine_current_state(a) & BR_SSL_SENDAPP) &&
           (br_ssl_engine_current_state(b) & BR_SSL_SENDAPP);
}

/* One handshake of azr_tls_client_init against azr_tls_server_init offering
 * only suite (resuming params when given); the suite they agreed on, 0 when
 * the handshake failed. */
static uint16_t handshake(pair *pr, const azr_tls_anchors *ta, const azr_tls_creds *cr,
                          uint16_t suite, br_ssl_session_cache_lru *cache,
                          const br_ssl_session_parameters *resume)
{
    azr_tls_client_init(&pr->cc, &pr->xm, ta->ta, ta->n);
    br_ssl_engine_set_suites(&pr->cc.eng, &suite, 1);
    br_ssl_engine_set_buffer(&pr->cc.eng, pr->cbuf, sizeof pr->cbuf, 1);
    if (resume)
        br_ssl_engine_set_session_parameters(&pr->cc.eng, resume);
    assert_true(br_ssl_client_reset(&pr->cc, "localhost", resume != NULL));
    azr_tls_server_init(&pr->sc, cr);
    br_ssl_server_set_cache(&pr->sc, &cache->vtable);
    br_ssl_engine_set_buffer(&pr->sc.eng, pr->sbuf, sizeof pr->sbuf, 1);
    assert_true(br_ssl_server_reset(&pr->sc));
    if (!pump(&pr->cc.eng, &pr->sc.eng)) {
        fprintf(stderr, "  %s: client error %d, server error %d\n", azr_tls_suite_name(suite),
                br_ssl_engine_last_error(&pr->cc.eng), br_ssl_engine_last_error(&pr->sc.eng));
        return 0;
    }
    assert_int_equal(pr->sc.eng.session.cipher_suite, pr->cc.eng.session.cipher_suite);
    return pr->cc.eng.session.cipher_suite;
}

/* Issue 14: the engines azrelay builds without BearSSL's *_init_full
 * profiles still speak every suite of the table ("*"), both directions,
 * including those no openssl here has (3DES) and the RSA key exchange;
 * a session resumes; and TLS 1.0 works where the table allows it. */
static void test_tls_slim_engines_speak_every_suite(void **s)
{
    (void)s;
    static pair pr;
    static unsigned char cache_mem[4096];
    br_ssl_session_cache_lru cache;
    br_ssl_session_cache_lru_init(&cache, cache_mem, sizeof cache_mem);
    azr_tls_anchors ta = {0};
    size_t added;
    char err[256];
    assert_int_equal(azr_tls_anchors_add_file(&ta, CERTS "ca.pem", &added, err, sizeof err),
                     AZR_OK);
    azr_tls_creds ec, rsa;
    assert_int_equal(azr_tls_creds_load_files(&ec, CERTS "both.pem", NULL, err, sizeof err),
                     AZR_OK);
    assert_int_equal(azr_tls_creds_load_files(&rsa, CERTS "rsa-both.pem", NULL, err, sizeof err),
                     AZR_OK);
    azr_tls_suites all;
    assert_int_equal(azr_tls_suites_parse("*", &all, err, sizeof err), AZR_OK);
    int ok = 0;
    for (size_t i = 0; i < all.n; i++) {
        const char *name = azr_tls_suite_name(all.id[i]);
        const azr_tls_creds *cr = strstr(name, "_ECDSA_") ? &ec : &rsa;
        if (handshake(&pr, &ta, cr, all.id[i], &cache, NULL) == all.id[i])
            ok++;
    }
    assert_int_equal(ok, (int)all.n);

    /* ReuseSSLSession's path: the kept parameters, offered again */
    uint16_t gcm = BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    assert_int_equal(handshake(&pr, &ta, &ec, gcm, &cache, NULL), gcm);
    br_ssl_session_parameters sp;
    br_ssl_engine_get_session_parameters(&pr.cc.eng, &sp);
    assert_true(sp.session_id_len > 0);
    assert_int_equal(handshake(&pr, &ta, &ec, gcm, &cache, &sp), gcm);
    br_ssl_session_parameters again;
    br_ssl_engine_get_session_parameters(&pr.cc.eng, &again);
    assert_memory_equal(again.session_id, sp.session_id, sp.session_id_len);

#if !AZR_TLS_AEAD_ONLY
    /* TLS 1.0 (the MD5/SHA-1 PRF), with a CBC suite */
    azr_tls_client_init(&pr.cc, &pr.xm, ta.ta, ta.n);
    uint16_t cbc = BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA;
    br_ssl_engine_set_versions(&pr.cc.eng, BR_TLS10, BR_TLS10);
    br_ssl_engine_set_suites(&pr.cc.eng, &cbc, 1);
    br_ssl_engine_set_buffer(&pr.cc.eng, pr.cbuf, sizeof pr.cbuf, 1);
    assert_true(br_ssl_client_reset(&pr.cc, "localhost", 0));
    azr_tls_server_init(&pr.sc, &rsa);
    br_ssl_engine_set_buffer(&pr.sc.eng, pr.sbuf, sizeof pr.sbuf, 1);
    assert_true(br_ssl_server_reset(&pr.sc));
    assert_true(pump(&pr.cc.eng, &pr.sc.eng));
    assert_int_equal(br_ssl_engine_get_version(&pr.cc.eng), BR_TLS10);
#endif
    azr_tls_creds_free(&ec);
    azr_tls_creds_free(&rsa);
    azr_tls_anchors_free(&ta);
}

/* Issue 14: no azrelay object asks for BearSSL's "full" profiles, which
 * would link every algorithm BearSSL has (nm -u: what each object needs). */
static void test_tls_no_full_profiles(void **s)
{
    (void)s;
    FILE *p = popen("nm -u " OBJ "*.o 2>&1", "r");
    assert_non_null(p);
    char line[512];
    int bad = 0, lines = 0;
    while (fgets(line, sizeof line, p)) {
        lines++;
        if (strstr(line, "_init_full")) {
            fprintf(stderr, "  %s", line);
            bad++;
        }
    }
    assert_int_equal(pclose(p), 0);
    assert_true(lines > 100);
    assert_int_equal(bad, 0);
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
        cmocka_unit_test(test_tls_slim_engines_speak_every_suite),
        cmocka_unit_test(test_tls_no_full_profiles),
        cmocka_unit_test(test_tls_no_writable_statics),
        cmocka_unit_test(test_tls_key_not_left_in_freed_memory),
    };
    return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
