/*
 * The shared text helpers: case-insensitive comparison, trimming, printable
 * copies of untrusted text (relay reason phrases, user input in errors).
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

static void test_text_printable(void **s)
{
    (void)s;
    char out[16];
    /* an escape sequence in a reason phrase must not reach a serial console */
    assert_int_equal(azr_text_printable("a\x1b[2Jb\xc3", 7, 64, out, sizeof out), 7);
    assert_string_equal(out, "a?[2Jb?");
    /* cut at max_shown, with a marker */
    assert_int_equal(azr_text_printable("abcdefghij", 10, 4, out, sizeof out), 7);
    assert_string_equal(out, "abcd...");
    /* cut by the buffer: always terminated */
    assert_int_equal(azr_text_printable("abcdefghijklmnopqrstuvwxyz", 26, 100, out, 8), 7);
    assert_string_equal(out, "abcdefg");
    assert_int_equal(azr_text_printable("x", 1, 1, out, 0), 0);
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
        cmocka_unit_test(test_text_printable),
        cmocka_unit_test(test_text_wipe),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
