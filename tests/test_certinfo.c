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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_certinfo_names_as_openssl_prints_them),
        cmocka_unit_test(test_certinfo_comma_quoted),
        cmocka_unit_test(test_certinfo_validity_as_openssl_prints_it),
        cmocka_unit_test(test_certinfo_day_count),
        cmocka_unit_test(test_certinfo_truncated_and_bad),
        cmocka_unit_test(test_certinfo_long_name_cut),
    };
    return cmocka_run_group_tests_name("certinfo", tests, NULL, NULL);
}
