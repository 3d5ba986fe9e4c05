/*
 * The emulator's request side (src/emu/request.c), sans-I/O: request heads
 * cut in place, query parameters decoded ('+' as space, as the service does
 * for sb-hc-token), JSON strings written and found (renewToken). Inputs
 * follow RFC 7230 request syntax and relay-protocol.md §2.3, §8.5.
 */
#include "testutil.h"
#include "emu/emu.h"

static void test_emu_req_parse(void **s)
{
    (void)s;
    char head[] = "GET /$hc/hc1?sb-hc-action=connect&sb-hc-id=42 HTTP/1.1\r\n"
                  "Host: ns.example\r\nUpgrade:  websocket \r\nConnection: Upgrade\r\n\r\n";
    emu_req r;
    assert_true(emu_req_parse(head, &r));
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.path, "/$hc/hc1");
    assert_string_equal(r.query, "sb-hc-action=connect&sb-hc-id=42");
    assert_int_equal(r.nh, 3);
    assert_string_equal(emu_req_header(&r, "upgrade"), "websocket");
    assert_string_equal(emu_req_header(&r, "HOST"), "ns.example");
    assert_null(emu_req_header(&r, "Sec-WebSocket-Key"));
    char nq[] = "GET / HTTP/1.1\r\n\r\n";
    assert_true(emu_req_parse(nq, &r));
    assert_string_equal(r.query, "");
}

static void test_emu_req_parse_refuses(void **s)
{
    (void)s;
    emu_req r;
    char h10[] = "GET / HTTP/1.0\r\n\r\n";
    char nocolon[] = "GET / HTTP/1.1\r\nHost ns\r\n\r\n";
    char emptyname[] = "GET / HTTP/1.1\r\n: v\r\n\r\n";
    char noline[] = "GET /\r\n\r\n";
    assert_false(emu_req_parse(h10, &r));
    assert_false(emu_req_parse(nocolon, &r));
    assert_false(emu_req_parse(emptyname, &r));
    assert_false(emu_req_parse(noline, &r));
    /* more headers than the emulator keeps */
    char many[2048];
    size_t n = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= EMU_HEADERS_MAX; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "X: y\r\n");
    snprintf(many + n, sizeof many - n, "\r\n");
    assert_false(emu_req_parse(many, &r));
}

static void test_emu_query_get(void **s)
{
    (void)s;
    const char *q = "a=1&sb-hc-token=SharedAccessSignature+sr%3Dx%26sig%3Dy&empty=&bare&ab=2";
    char out[128];
    assert_true(emu_query_get(q, "sb-hc-token", out, sizeof out));
    assert_string_equal(out, "SharedAccessSignature sr=x&sig=y");
    assert_true(emu_query_get(q, "a", out, sizeof out));
    assert_string_equal(out, "1");
    assert_true(emu_query_get(q, "ab", out, sizeof out));
    assert_string_equal(out, "2");
    assert_true(emu_query_get(q, "empty", out, sizeof out));
    assert_string_equal(out, "");
    assert_true(emu_query_get(q, "bare", out, sizeof out));
    assert_string_equal(out, "");
    assert_false(emu_query_get(q, "missing", out, sizeof out));
    assert_false(emu_query_get("x=%zz", "x", out, sizeof out)); /* malformed escape */
    assert_false(emu_query_get("x=%00", "x", out, sizeof out)); /* NUL inside */
    assert_false(emu_query_get("x=123456", "x", out, 4));       /* does not fit */
}

static void test_emu_json(void **s)
{
    (void)s;
    char out[64];
    size_t o = 0;
    assert_true(emu_json_str(out, sizeof out, &o, "a\"b\\c\x01"));
    assert_string_equal(out, "\"a\\\"b\\\\c\\u0001\"");
    o = 0;
    assert_false(emu_json_str(out, 8, &o, "too long for eight"));
    /* JSON.stringify({renewToken:{token:...}}) from node, with escapes */
    const char *msg =
        "{\"renewToken\": {\"token\" : \"SharedAccessSignature sr=a\\u0026b&sig=\\/x\"}}";
    char tok[128];
    assert_true(emu_json_find_str(msg, strlen(msg), "token", tok, sizeof tok));
    assert_string_equal(tok, "SharedAccessSignature sr=a&b&sig=/x");
    assert_false(emu_json_find_str(msg, strlen(msg), "absent", tok, sizeof tok));
    const char *num = "{\"token\":42}";
    assert_false(emu_json_find_str(num, strlen(num), "token", tok, sizeof tok));
    const char *open = "{\"token\":\"unterminated";
    assert_false(emu_json_find_str(open, strlen(open), "token", tok, sizeof tok));
    const char *nul = "{\"token\":\"a\\u0000b\"}";
    assert_false(emu_json_find_str(nul, strlen(nul), "token", tok, sizeof tok));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emu_req_parse),
        cmocka_unit_test(test_emu_req_parse_refuses),
        cmocka_unit_test(test_emu_query_get),
        cmocka_unit_test(test_emu_json),
    };
    return cmocka_run_group_tests_name("emu_request", tests, NULL, NULL);
}
