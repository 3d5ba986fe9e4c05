/*
 * The shared text helpers: case-insensitive comparison, trimming, printable
 * escaping of untrusted text (relay reason phrases, SNI, certificate names).
 */
#include "testutil.h"
#include "text.h"

static void test_text_ieq(void **s)
{
    (void)s;
    assert_true(azr_text_ieq("Content-Length", 14, "content-length"));
    assert_true(azr_text_ieq("", 0, ""));
    assert_false(azr_text_ieq("Content-Lengt", 13, "content-length"));
    assert_false(azr_text_ieq("content-length", 14, "content-lengtH2"));
    /* only ASCII folds: 0xC9 is not 'i' */
    assert_false(azr_text_ieq("\xc9", 1, "i"));
    assert_int_equal(azr_text_lower('Z'), 'z');
    assert_int_equal(azr_text_lower('['), '[');
}

static void test_text_trim(void **s)
{
    (void)s;
    const char *p = " \t a b \r\n";
    size_t n = strlen(p);
    azr_text_trim(&p, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "a b", 3);
    p = "   ";
    n = 3;
    azr_text_trim(&p, &n);
    assert_int_equal(n, 0);
}

/* Peer text for logs: a control byte in an SNI or reason phrase must not
 * reach a log file or serial console raw (a forged line, an ESC sequence),
 * and a backslash is doubled so "\x1b" typed by the peer cannot pass for
 * an escaped ESC. */
static void test_text_escape_controls_and_backslash(void **s)
{
    (void)s;
    char out[64];
    assert_int_equal(azr_text_escape("a\x1b[2Jb\xc3", 7, 64, out, sizeof out), 13);
    assert_string_equal(out, "a\\x1b[2Jb\\xc3");
    azr_text_escape("x\r\n[0 Info] forged", 18, 64, out, sizeof out);
    assert_string_equal(out, "x\\x0d\\x0a[0 Info] forged");
    /* the peer's own "\x1b" (4 characters) is not the byte 0x1b */
    azr_text_escape("\\x1b", 4, 64, out, sizeof out);
    assert_string_equal(out, "\\\\x1b");
    /* NUL and DEL are bytes like any other */
    assert_int_equal(azr_text_escape("a\0b\x7f", 4, 64, out, sizeof out), 10);
    assert_string_equal(out, "a\\x00b\\x7f");
    /* the older name is the same function */
    azr_text_printable("\x1b", 1, 64, out, sizeof out);
    assert_string_equal(out, "\\x1b");
}

static void test_text_escape_cuts_whole_escapes(void **s)
{
    (void)s;
    char out[16];
    /* cut at max_shown, with a marker */
    assert_int_equal(azr_text_escape("abcdefghij", 10, 4, out, sizeof out), 7);
    assert_string_equal(out, "abcd...");
    /* cut by the buffer: marked, always terminated */
    assert_int_equal(azr_text_escape("abcdefghijklmnopqrstuvwxyz", 26, 100, out, 8), 7);
    assert_string_equal(out, "abcd...");
    /* an exact fit is not cut */
    assert_int_equal(azr_text_escape("abcdefg", 7, 100, out, 8), 7);
    assert_string_equal(out, "abcdefg");
    /* an escape is never split: "ab\x01cd" needs 9 bytes */
    assert_int_equal(azr_text_escape("ab\x01"
                                     "cd",
                                     5, 100, out, 8),
                     5);
    assert_string_equal(out, "ab...");
    assert_int_equal(azr_text_escape("a\\b", 3, 100, out, 4), 3);
    assert_string_equal(out, "...");
    assert_int_equal(azr_text_escape("x", 1, 1, out, 0), 0);
    assert_int_equal(azr_text_escape("x", 1, 1, out, 1), 0);
    assert_string_equal(out, "");
}

/* Every byte value, escaped and decoded by bash's printf %b (an
 * independent reader of \\ and \xHH): the original bytes come back, and
 * the escape is printable ASCII only. */
static void test_text_escape_round_trip_through_printf(void **s)
{
    (void)s;
    char in[512];
    static char esc[AZR_TEXT_ESCAPED_MAX(512)];
    for (size_t i = 0; i < 512; i++)
        in[i] = (char)(i < 256 ? i : 511 - i);
    size_t n = azr_text_escape(in, sizeof in, sizeof in, esc, sizeof esc);
    assert_int_equal(strlen(esc), n);
    for (size_t i = 0; i < n; i++)
        assert_true(esc[i] >= 0x20 && esc[i] < 0x7f);
    char path[] = "/tmp/azr-text-esc-XXXXXX", cmd[128];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, esc, n), (ssize_t)n);
    close(fd);
    snprintf(cmd, sizeof cmd, "bash -c 'printf %%b \"$(cat %s)\"'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char back[600];
    size_t got = fread(back, 1, sizeof back, p);
    assert_int_equal(pclose(p), 0);
    unlink(path);
    assert_int_equal(got, sizeof in);
    assert_memory_equal(back, in, sizeof in);
}

static void test_text_wipe(void **s)
{
    (void)s;
    char key[8] = "secret!";
    azr_wipe(key, sizeof key);
    for (size_t i = 0; i < sizeof key; i++)
        assert_int_equal(key[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_ieq),
        cmocka_unit_test(test_text_trim),
        cmocka_unit_test(test_text_escape_controls_and_backslash),
        cmocka_unit_test(test_text_escape_cuts_whole_escapes),
        cmocka_unit_test(test_text_escape_round_trip_through_printf),
        cmocka_unit_test(test_text_wipe),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
