/*
 * RFC 7235 challenge lists: the §4.1 example (several challenges in one
 * value, a quoted-pair escape), token68 values, BWS around '=', empty list
 * elements, malformed values. Each value is lexed against a guard page
 * (reading one byte past it crashes), and so is every prefix of it: a
 * prefix must end in AZR_AGAIN or AZR_E_PROTO, never read beyond itself.
 */
#include "testutil.h"
#include "authchal.h"

/* Lex s into "S:name[=t68]" / "P:name=value[q]" items joined by '|', then
 * "|E:why" on an error; returns the final code. */
static azr_err lex(const char *s, size_t len, char *out, size_t cap)
{
    tu_guard g;
    const char *v = (const char *)tu_guard_new(&g, s, len);
    azr_authchal l;
    azr_authchal_ev ev;
    azr_err e;
    size_t o = 0;
    out[0] = '\0';
    azr_authchal_init(&l, v, len);
    while ((e = azr_authchal_next(&l, &ev)) == AZR_OK) {
        char val[512];
        size_t n;
        assert_int_equal(azr_authchal_unquote(&ev, val, sizeof val, &n), AZR_OK);
        int k = ev.kind == AZR_AUTHCHAL_SCHEME
                    ? snprintf(out + o, cap - o, "%sS:%.*s%s%s", o ? "|" : "", (int)ev.name_len,
                               ev.name, ev.value_len ? "=" : "", val)
                    : snprintf(out + o, cap - o, "%sP:%.*s=%s%s", o ? "|" : "", (int)ev.name_len,
                               ev.name, val, ev.quoted ? "[q]" : "");
        assert_true(k > 0 && (size_t)k < cap - o);
        o += (size_t)k;
    }
    if (e != AZR_AGAIN)
        snprintf(out + o, cap - o, "|E:%s", l.why);
    /* sticky */
    assert_int_equal(azr_authchal_next(&l, &ev), e == AZR_AGAIN ? AZR_AGAIN : e);
    tu_guard_free(&g);
    return e;
}

static void expect(const char *s, azr_err want, const char *events)
{
    char got[2048];
    azr_err e = lex(s, strlen(s), got, sizeof got);
    if (e != want || strcmp(got, events) != 0)
        fail_msg("lexing [%s]: got %d [%s], want %d [%s]", s, e, got, want, events);
    for (size_t cut = 0; cut < strlen(s); cut++) {
        e = lex(s, cut, got, sizeof got);
        assert_true(e == AZR_AGAIN || e == AZR_E_PROTO);
    }
}

/* RFC 7235 §4.1's example: two challenges in one value, an escaped quote. */
static void test_authchal_rfc7235_example(void **s)
{
    (void)s;
    expect(
        "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"",
        AZR_AGAIN,
        "S:Newauth|P:realm=apps[q]|P:type=1|P:title=Login to \"apps\"[q]|S:Basic|P:realm="
        "simple[q]");
}

static void test_authchal_token68(void **s)
{
    (void)s;
    expect("NTLM TlRMTVNTUAACAAAA==", AZR_AGAIN, "S:NTLM=TlRMTVNTUAACAAAA==");
    expect("Negotiate a/b+c.d_e~f-g, NTLM, Basic realm=\"x\"", AZR_AGAIN,
           "S:Negotiate=a/b+c.d_e~f-g|S:NTLM|S:Basic|P:realm=x[q]");
    expect("NTLM abc=  ,Basic", AZR_AGAIN, "S:NTLM=abc=|S:Basic");
    /* "a=b" is a parameter, not the token68 "a=" */
    expect("Foo a=b", AZR_AGAIN, "S:Foo|P:a=b");
    expect("Foo a=", AZR_AGAIN, "S:Foo=a=");
}

static void test_authchal_bws_and_empty_elements(void **s)
{
    (void)s;
    expect(", ,Basic realm=\"x\",, Digest realm = \"r\" ,nonce= abc ,\tqop=\"auth, auth-int\" ,",
           AZR_AGAIN,
           "S:Basic|P:realm=x[q]|S:Digest|P:realm=r[q]|P:nonce=abc|P:qop=auth, auth-int[q]");
    expect("", AZR_AGAIN, "");
    expect(" , ,", AZR_AGAIN, "");
    expect("Basic", AZR_AGAIN, "S:Basic");
    expect("basic REALM=\"\"", AZR_AGAIN, "S:basic|P:REALM=[q]");
    /* obs-text (UTF-8) and HTAB inside a quoted-string */
    expect("Digest realm=\"caf\xc3\xa9\tbar\"", AZR_AGAIN, "S:Digest|P:realm=caf\xc3\xa9\tbar[q]");
    /* a backslash escapes any character, not only '"' and '\' */
    expect("Digest realm=\"a\\b\\\\c\"", AZR_AGAIN, "S:Digest|P:realm=ab\\c[q]");
}

static void test_authchal_malformed(void **s)
{
    (void)s;
    expect("Basic realm=\"x", AZR_E_PROTO, "S:Basic|E:unterminated quoted-string");
    expect("Basic realm=\"x\\", AZR_E_PROTO, "S:Basic|E:unterminated quoted-string");
    /* "Basic realm=" alone is the token68 "realm="; after a parameter it is one */
    expect("Basic a=b, realm=", AZR_E_PROTO,
           "S:Basic|P:a=b|E:auth-param without a token or quoted-string value");
    expect("Basic realm=\"x\" junk", AZR_E_PROTO,
           "S:Basic|E:unexpected character after an auth-param");
    expect("Basic realm=\"a\rb\"", AZR_E_PROTO, "S:Basic|E:control character in a quoted-string");
    expect("Basic realm=\"a\\\nb\"", AZR_E_PROTO,
           "S:Basic|E:control character after a backslash in a quoted-string");
    expect("=foo", AZR_E_PROTO, "|E:expected an auth-scheme");
    expect("Basic\trealm=x", AZR_E_PROTO, "|E:auth-scheme not followed by a space");
    expect("Basic @", AZR_E_PROTO, "|E:unexpected character after the auth-scheme");
    expect("NTLM abc, realm=x", AZR_E_PROTO, "S:NTLM=abc|E:auth-scheme not followed by a space");
    expect("Basic realm=x, ;", AZR_E_PROTO,
           "S:Basic|P:realm=x|E:expected an auth-param or an auth-scheme");
    /* a NUL byte is never part of a value */
    char got[256];
    assert_int_equal(lex("Basic\0x", 7, got, sizeof got), AZR_E_PROTO);
    assert_int_equal(lex("Basic a=\"\0\"", 11, got, sizeof got), AZR_E_PROTO);
    assert_int_equal(lex("\0", 1, got, sizeof got), AZR_E_PROTO);
}

static void test_authchal_unquote_limit(void **s)
{
    (void)s;
    azr_authchal l;
    azr_authchal_ev ev;
    const char *v = "Digest realm=\"ab\\\"cd\"";
    azr_authchal_init(&l, v, strlen(v));
    assert_int_equal(azr_authchal_next(&l, &ev), AZR_OK);
    assert_int_equal(azr_authchal_next(&l, &ev), AZR_OK);
    char out[6];
    size_t n = 99;
    assert_int_equal(azr_authchal_unquote(&ev, out, 5, &n), AZR_E_LIMIT);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    assert_int_equal(azr_authchal_unquote(&ev, out, 6, &n), AZR_OK);
    assert_string_equal(out, "ab\"cd");
    assert_int_equal(n, 5);
    assert_int_equal(azr_authchal_unquote(&ev, out, 0, &n), AZR_E_LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authchal_rfc7235_example),
        cmocka_unit_test(test_authchal_token68),
        cmocka_unit_test(test_authchal_bws_and_empty_elements),
        cmocka_unit_test(test_authchal_malformed),
        cmocka_unit_test(test_authchal_unquote_limit),
    };
    return cmocka_run_group_tests_name("authchal", tests, NULL, NULL);
}
