/*
 * Certificate names and validity read from DER, checked against what
 * openssl prints for the same certificates (tests/tls/make-certs.sh):
 * `openssl x509 -subject -nameopt sep_comma_plus_space,dn_rev,sname` for
 * the names (with the class's short names S and E for openssl's ST and
 * emailAddress), `-startdate/-enddate` through libc's timegm() for the
 * dates. Every truncated prefix is refused, against a guard page.
 */
#include "testutil.h"
#include "certinfo.h"
#include <time.h>

#define CERTS "../build/test-certs/"

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: missing (make-certs.sh)", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    assert_true(n > 0 && n < cap);
    return n;
}

/* One line of an openssl command's output, after "prefix". */
static void openssl_line(const char *args, const char *prefix, char *out, size_t cap)
{
    char cmd[512], line[1024];
    snprintf(cmd, sizeof cmd, "openssl %s", args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = '\0';
    while (fgets(line, sizeof line, p))
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            snprintf(out, cap, "%s", line + strlen(prefix));
            out[strcspn(out, "\n")] = '\0';
        }
    assert_int_equal(pclose(p), 0);
    assert_true(out[0] != '\0');
}

/* openssl's short names -> the class's */
static void class_names(char *s)
{
    static const char *from[] = {"emailAddress=", "ST="}, *to[] = {"E=", "S="};
    for (int i = 0; i < 2; i++) {
        char *at;
        while ((at = strstr(s, from[i]))) {
            size_t fl = strlen(from[i]), tl = strlen(to[i]);
            memmove(at + tl, at + fl, strlen(at + fl) + 1);
            memcpy(at, to[i], tl);
        }
    }
}

static void test_certinfo_names_as_openssl_prints_them(void **st)
{
    (void)st;
    static uint8_t der[8192];
    size_t n = slurp(CERTS "client.der", der, sizeof der);
    azr_certinfo ci;
    assert_int_equal(azr_certinfo_parse(der, n, &ci), AZR_OK);
    char want[1024];
    const char *opt = "-nameopt sep_comma_plus_space,dn_rev,sname";
    char args[256];
    snprintf(args, sizeof args, "x509 -in " CERTS "client.pem -noout -subject %s", opt);
    openssl_line(args, "subject=", want, sizeof want);
    class_names(want);
    assert_string_equal(ci.subject, want);
    assert_string_equal(ci.subject, "E=ops@example.com, CN=client one, OU=gateways, "
                                    "O=azrelay test, L=Redmond, S=Washington, C=US");
    snprintf(args, sizeof args, "x509 -in " CERTS "client.pem -noout -issuer %s", opt);
    openssl_line(args, "issuer=", want, sizeof want);
    assert_string_equal(ci.issuer, want);
    char v[64];
    assert_true(azr_certinfo_attr(ci.subject, "CN", v, sizeof v));
    assert_string_equal(v, "client one");
    assert_true(azr_certinfo_attr(ci.subject, "S", v, sizeof v));
    assert_string_equal(v, "Washington");
    assert_false(azr_certinfo_attr(ci.subject, "DC", v, sizeof v));
}

/* The class quotes a value that holds a comma (openssl escapes it: O=Acme\, Inc.) */
static void test_certinfo_comma_quoted(void **st)
{
    (void)st;
    static uint8_t der[8192];
    size_t n = slurp(CERTS "comma.der", der, sizeof der);
    azr_certinfo ci;
    assert_int_equal(azr_certinfo_parse(der, n, &ci), AZR_OK);
    assert_string_equal(ci.subject, "CN=comma test, O=\"Acme, Inc.\", C=US");
    assert_string_equal(ci.issuer, ci.subject); /* self-signed */
    char v[64];
    assert_true(azr_certinfo_attr(ci.subject, "O", v, sizeof v));
    assert_string_equal(v, "Acme, Inc.");
    assert_true(azr_certinfo_attr(ci.subject, "C", v, sizeof v));
    assert_string_equal(v, "US");
}

static uint32_t days_of(const char *openssl_date, uint32_t *secs)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(openssl_date, "%b %d %H:%M:%S %Y GMT", &tm);
    assert_non_null(end);
    time_t t = timegm(&tm);
    *secs = (uint32_t)(t % 86400);
    return (uint32_t)(t / 86400) + 719528u; /* 0000-01-01 to 1970-01-01 */
}

static void dates_match(const char *name)
{
    static uint8_t der[8192];
    char path[256], args[256], nb[64], na[64];
    snprintf(path, sizeof path, CERTS "%s.der", name);
    size_t n = slurp(path, der, sizeof der);
    azr_certinfo ci;
    assert_int_equal(azr_certinfo_parse(der, n, &ci), AZR_OK);
    snprintf(args, sizeof args, "x509 -in " CERTS "%s.pem -noout -startdate -enddate", name);
    openssl_line(args, "notBefore=", nb, sizeof nb);
    openssl_line(args, "notAfter=", na, sizeof na);
    uint32_t s;
    assert_int_equal(ci.nb_days, days_of(nb, &s));
    assert_int_equal(ci.nb_secs, s);
    assert_int_equal(ci.na_days, days_of(na, &s));
    assert_int_equal(ci.na_secs, s);
}

static void test_certinfo_validity_as_openssl_prints_it(void **st)
{
    (void)st;
    dates_match("client");  /* UTCTime, now + 10 years */
    dates_match("expired"); /* 2020-01-01 .. 2021-01-01 */
}

/* Day counts against libc's timegm across leap years and centuries. */
static void test_certinfo_day_count(void **st)
{
    (void)st;
    static const int dates[][3] = {{1970, 1, 1},   {2000, 2, 29},  {2000, 3, 1},  {2100, 3, 1},
                                   {1999, 12, 31}, {2024, 12, 31}, {2049, 6, 15}, {1950, 1, 1}};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        struct tm tm = {
            .tm_year = dates[i][0] - 1900, .tm_mon = dates[i][1] - 1, .tm_mday = dates[i][2]};
        time_t t = timegm(&tm);
        assert_int_equal(
            azr_certinfo_days((uint32_t)dates[i][0], (uint32_t)dates[i][1], (uint32_t)dates[i][2]),
            (uint32_t)(t / 86400 + 719528));
    }
    assert_int_equal(azr_certinfo_days(0, 1, 1), 0);
    assert_int_equal(azr_certinfo_days(1, 1, 1), 366); /* year 0 is a leap year */
}

/* Every prefix is refused without reading past it; so is a lying length. */
static void test_certinfo_truncated_and_bad(void **st)
{
    (void)st;
    static uint8_t der[8192];
    size_t n = slurp(CERTS "client.der", der, sizeof der);
    azr_certinfo ci;
    for (size_t k = 0; k < n; k++) {
        tu_guard g;
        uint8_t *p = tu_guard_new(&g, der, k);
        azr_err e = azr_certinfo_parse(p, k, &ci);
        /* the outer SEQUENCE's length always points past a prefix */
        if (e != AZR_E_PROTO)
            fail_msg("prefix of %zu bytes accepted", k);
        tu_guard_free(&g);
    }
    uint8_t bad[8192];
    memcpy(bad, der, n);
    bad[1] = 0x85; /* a 5-byte length */
    assert_int_equal(azr_certinfo_parse(bad, n, &ci), AZR_E_PROTO);
    memcpy(bad, der, n);
    bad[0] = 0x31; /* SET, not SEQUENCE */
    assert_int_equal(azr_certinfo_parse(bad, n, &ci), AZR_E_PROTO);
    assert_int_equal(azr_certinfo_parse(NULL, 0, &ci), AZR_E_PROTO);
}

/* A name longer than the text buffer is cut and says so. */
static void test_certinfo_long_name_cut(void **st)
{
    (void)st;
    /* Certificate{ tbs{ serial, alg, issuer{ 40 x RDN{CN=<20 x 'a'>} }, validity, subject{} } } */
    static uint8_t b[4096];
    size_t o = 0;
    uint8_t rdn[] = {0x31, 29, 0x30, 27, 0x06, 3, 0x55, 4, 3, 0x0c, 20};
    uint8_t issuer[2048];
    size_t il = 0;
    for (int i = 0; i < 40; i++) {
        memcpy(issuer + il, rdn, sizeof rdn);
        il += sizeof rdn;
        memset(issuer + il, 'a', 20);
        il += 20;
    }
    const char *t = "\x17\x0d"
                    "200101000000Z";
    uint8_t tbs[2048];
    size_t tl = 0;
    memcpy(tbs + tl, "\x02\x01\x01\x30\x00", 5), tl += 5;
    tbs[tl++] = 0x30, tbs[tl++] = 0x82, tbs[tl++] = (uint8_t)(il >> 8), tbs[tl++] = (uint8_t)il;
    memcpy(tbs + tl, issuer, il), tl += il;
    tbs[tl++] = 0x30, tbs[tl++] = 30;
    memcpy(tbs + tl, t, 15), tl += 15;
    memcpy(tbs + tl, t, 15), tl += 15;
    tbs[tl++] = 0x30, tbs[tl++] = 0;
    b[o++] = 0x30, b[o++] = 0x82, b[o++] = (uint8_t)((tl + 4) >> 8), b[o++] = (uint8_t)(tl + 4);
    b[o++] = 0x30, b[o++] = 0x82, b[o++] = (uint8_t)(tl >> 8), b[o++] = (uint8_t)tl;
    memcpy(b + o, tbs, tl), o += tl;
    azr_certinfo ci;
    assert_int_equal(azr_certinfo_parse(b, o, &ci), AZR_OK);
    assert_int_equal(strlen(ci.issuer), AZR_CERT_DN_MAX - 1);
    assert_string_equal(ci.issuer + AZR_CERT_DN_MAX - 4, "...");
    assert_memory_equal(ci.issuer, "CN=aaaaaaaaaaaaaaaaaaaa, CN=aaaa", 31);
    assert_string_equal(ci.subject, "");
    assert_int_equal(ci.nb_days, azr_certinfo_days(2020, 1, 1));
}

/* DER tag, length (short or long form, X.690 §8.1.3) and contents at b + *o. */
static void der_put(uint8_t *b, size_t *o, uint8_t tag, const void *v, size_t len)
{
    b[(*o)++] = tag;
    if (len < 128) {
        b[(*o)++] = (uint8_t)len;
    } else {
        b[(*o)++] = 0x82;
        b[(*o)++] = (uint8_t)(len >> 8);
        b[(*o)++] = (uint8_t)len;
    }
    memcpy(b + *o, v, len);
    *o += len;
}

/* One RDN, SET { SEQUENCE { 2.5.4.<attr>, value } }, appended to a Name. */
static void rdn_put(uint8_t *name, size_t *nl, uint8_t attr, uint8_t vtag, const void *v,
                    size_t len)
{
    uint8_t ava[600], set[600];
    size_t a = 0, st = 0;
    const uint8_t oid[3] = {0x55, 0x04, attr};
    der_put(ava, &a, 0x06, oid, 3);
    der_put(ava, &a, vtag, v, len);
    der_put(set, &st, 0x30, ava, a);
    der_put(name, nl, 0x31, set, st);
}

/* Certificate { tbs { serial, alg, issuer, validity, subject } } from two Names. */
static size_t cert_of(uint8_t *b, const uint8_t *issuer, size_t il, const uint8_t *subject,
                      size_t sl)
{
    static uint8_t tbs[4096], val[64];
    size_t t = 0, v = 0, o = 0;
    const char *time = "200101000000Z";
    der_put(val, &v, 0x17, time, 13);
    der_put(val, &v, 0x17, time, 13);
    der_put(tbs, &t, 0x02, "\x01", 1);
    der_put(tbs, &t, 0x30, "", 0);
    der_put(tbs, &t, 0x30, issuer, il);
    der_put(tbs, &t, 0x30, val, v);
    der_put(tbs, &t, 0x30, subject, sl);
    uint8_t cert[4200];
    size_t c = 0;
    der_put(cert, &c, 0x30, tbs, t);
    der_put(b, &o, 0x30, cert, c);
    return o;
}

/* Names are the peer's text: a CN with a newline, an ESC sequence and a
 * backslash, quotes, a BMPString beyond ASCII print escaped (no control
 * byte can reach a log through SSLClientAuthentication or SSLStatus), and
 * the attributes read back with their quoting undone. */
static void test_certinfo_names_escaped(void **st)
{
    (void)st;
    static const char cn[] = "evil\n[0 Info] x\x1b[2J\\y";
    static const uint8_t bmp[] = {0x00, 0xe9, 0x4e, 0x2d, 0x00, 'A'}; /* U+00E9, U+4E2D, A */
    uint8_t subject[1024], issuer[64], b[4096];
    size_t sl = 0, il = 0;
    rdn_put(subject, &sl, 0x0a, 0x0c, "say \"hi\", ok", 12); /* O */
    rdn_put(subject, &sl, 0x0b, 0x0c, "a\"b", 3);            /* OU */
    rdn_put(subject, &sl, 0x03, 0x0c, cn, sizeof cn - 1);    /* CN */
    rdn_put(subject, &sl, 0x07, 0x1e, bmp, sizeof bmp);      /* L */
    rdn_put(issuer, &il, 0x03, 0x13, "ca\x7f", 3);
    size_t n = cert_of(b, issuer, il, subject, sl);
    azr_certinfo ci;
    assert_int_equal(azr_certinfo_parse(b, n, &ci), AZR_OK);
    assert_string_equal(ci.subject,
                        "L=\\xc3\\xa9\\xe4\\xb8\\xadA, CN=evil\\x0a[0 Info] x\\x1b[2J\\\\y, "
                        "OU=a\\\"b, O=\"say \\\"hi\\\", ok\"");
    assert_string_equal(ci.issuer, "CN=ca\\x7f");
    char v[64];
    assert_true(azr_certinfo_attr(ci.subject, "CN", v, sizeof v));
    assert_string_equal(v, "evil\\x0a[0 Info] x\\x1b[2J\\\\y");
    assert_true(azr_certinfo_attr(ci.subject, "O", v, sizeof v));
    assert_string_equal(v, "say \"hi\", ok");
    assert_true(azr_certinfo_attr(ci.subject, "OU", v, sizeof v));
    assert_string_equal(v, "a\"b");
    assert_true(azr_certinfo_attr(ci.subject, "L", v, sizeof v));
    assert_string_equal(v, "\\xc3\\xa9\\xe4\\xb8\\xadA");
    /* a value cut by the caller's buffer never ends inside an escape */
    assert_true(azr_certinfo_attr(ci.subject, "CN", v, 7));
    assert_string_equal(v, "evil");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_certinfo_names_as_openssl_prints_them),
        cmocka_unit_test(test_certinfo_comma_quoted),
        cmocka_unit_test(test_certinfo_validity_as_openssl_prints_it),
        cmocka_unit_test(test_certinfo_day_count),
        cmocka_unit_test(test_certinfo_truncated_and_bad),
        cmocka_unit_test(test_certinfo_long_name_cut),
        cmocka_unit_test(test_certinfo_names_escaped),
    };
    return cmocka_run_group_tests_name("certinfo", tests, NULL, NULL);
}
