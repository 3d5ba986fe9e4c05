/*
 * The config file line splitter (src/conffile.c): lines, numbers, CRLF, the
 * line and file bounds, NUL bytes, a byte order mark, wiping. Every input
 * runs whole, byte by byte and split at every offset (sampled for the
 * megabyte inputs), from a buffer that ends at a guard page, and every
 * slicing must give the same lines and the same error.
 */
#include "testutil.h"
#include "conffile.h"

#define MAX_LINES 1100

typedef struct result {
    size_t n;
    char *text[MAX_LINES];
    size_t len[MAX_LINES];
    unsigned long lineno[MAX_LINES];
    azr_err end; /* what the last call returned: AZR_E_CLOSED after a clean end */
    unsigned long err_line;
    char why[96];
} result;

static void result_free(result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->text[i]);
    memset(r, 0, sizeof *r);
}

static void keep(result *r, const azr_conffile_line *ev)
{
    assert_true(r->n < MAX_LINES);
    assert_int_equal(ev->text[ev->len], '\0');
    assert_null(memchr(ev->text, '\0', ev->len));
    assert_true(ev->len <= AZR_CONF_LINE_MAX);
    r->text[r->n] = malloc(ev->len + 1);
    assert_non_null(r->text[r->n]);
    memcpy(r->text[r->n], ev->text, ev->len + 1);
    r->len[r->n] = ev->len;
    r->lineno[r->n] = ev->lineno;
    r->n++;
}

/* Feed in[0..len) as a first slice of `first` bytes and then slices of `step`. */
static void split(const uint8_t *in, size_t len, size_t first, size_t step, result *r)
{
    static azr_conffile f;
    azr_conffile_line ev;
    memset(r, 0, sizeof *r);
    azr_conffile_init(&f);
    size_t off = 0, slice = first;
    azr_err e = AZR_AGAIN;
    while (off < len) {
        size_t n = slice < len - off ? slice : len - off;
        size_t used = 0;
        slice = step;
        for (;;) {
            size_t c;
            e = azr_conffile_feed(&f, in + off + used, n - used, &c, &ev);
            assert_true(c <= n - used);
            used += c;
            if (e == AZR_OK) {
                keep(r, &ev);
                continue;
            }
            break;
        }
        if (e != AZR_AGAIN) {
            /* sticky: the same error again, nothing consumed */
            size_t c = 1;
            assert_int_equal(azr_conffile_feed(&f, in + off + used, n - used, &c, &ev), e);
            assert_int_equal(c, 0);
            break;
        }
        assert_int_equal(used, n);
        off += n;
    }
    if (e == AZR_AGAIN || len == 0) {
        e = azr_conffile_end(&f, &ev);
        if (e == AZR_OK) {
            keep(r, &ev);
            e = azr_conffile_end(&f, &ev);
        }
    }
    r->end = e;
    r->err_line = f.err_line;
    snprintf(r->why, sizeof r->why, "%s", f.why);
    azr_conffile_wipe(&f);
}

static void same(const result *a, const result *b, const char *how)
{
    if (a->n != b->n || a->end != b->end || a->err_line != b->err_line ||
        strcmp(a->why, b->why) != 0)
        fail_msg("%s: %zu lines, end %d at line %lu (%s) instead of %zu lines, end %d at line %lu "
                 "(%s)",
                 how, b->n, (int)b->end, b->err_line, b->why, a->n, (int)a->end, a->err_line,
                 a->why);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->len[i], b->len[i]);
        assert_memory_equal(a->text[i], b->text[i], a->len[i]);
        assert_int_equal(a->lineno[i], b->lineno[i]);
    }
}

/* Where to split: every offset of a small input; in a long one, every
 * offset near a CR, LF or NUL, near either end, and a sample in between
 * (splitting a 16 KiB input everywhere costs seconds under ASan). */
static bool split_here(const uint8_t *in, size_t len, size_t k)
{
    if (len <= 4096 || k < 16 || len - k < 16)
        return true;
    if (len > 65536)
        return k % 65521 == 0;
    for (size_t i = k - 2; i <= k + 1 && i < len; i++)
        if (in[i] == '\n' || in[i] == '\r' || in[i] == '\0')
            return true;
    return k % 509 == 0;
}

/* Whole, byte by byte, and split at every offset (sampled in long inputs,
 * see split_here); every way must agree. The whole run's result goes to *out. */
static void run(const void *data, size_t len, result *out)
{
    tu_guard g;
    const uint8_t *in = tu_guard_new(&g, data, len);
    static result other;
    split(in, len, len, len ? len : 1, out);
    split(in, len, 1, 1, &other);
    same(out, &other, "byte by byte");
    result_free(&other);
    for (size_t k = 1; k < len; k++) {
        if (!split_here(in, len, k))
            continue;
        split(in, len, k, len, &other);
        char how[64];
        snprintf(how, sizeof how, "split at %zu", k);
        same(out, &other, how);
        result_free(&other);
    }
    tu_guard_free(&g);
}

static void test_conffile_lines_lf_crlf_and_a_last_line_without_lf(void **s)
{
    (void)s;
    static result r;
    const char in[] = "NamespaceAddress=ns.servicebus.windows.net\n"
                      "LocalPort=5000\r\n"
                      "\n"
                      "  # comment\r\n"
                      "\r\n"
                      "a=b\rc\n"
                      "LogLevel=2";
    run(in, sizeof in - 1, &r);
    assert_int_equal(r.end, AZR_E_CLOSED);
    assert_int_equal(r.n, 7);
    const char *want[] = {"NamespaceAddress=ns.servicebus.windows.net",
                          "LocalPort=5000",
                          "",
                          "  # comment",
                          "",
                          "a=b\rc",
                          "LogLevel=2"};
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(r.text[i], want[i]);
        assert_int_equal(r.lineno[i], i + 1);
    }
    result_free(&r);
}

static void test_conffile_empty_input_and_calls_after_the_end(void **s)
{
    (void)s;
    static result r;
    run("", 0, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.end, AZR_E_CLOSED);
    run("\n", 1, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "");
    assert_int_equal(r.end, AZR_E_CLOSED);
    result_free(&r);
    /* a lone CR at the end is a CRLF cut short: an empty line */
    run("a=1\r\n\r", 6, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[1], "");
    assert_int_equal(r.lineno[1], 2);
    result_free(&r);

    static azr_conffile f;
    azr_conffile_line ev;
    size_t c = 99;
    azr_conffile_init(&f);
    assert_int_equal(azr_conffile_feed(&f, (const uint8_t *)"x=1", 3, &c, &ev), AZR_AGAIN);
    assert_int_equal(c, 3);
    assert_int_equal(azr_conffile_end(&f, &ev), AZR_OK);
    assert_string_equal(ev.text, "x=1");
    assert_int_equal(azr_conffile_end(&f, &ev), AZR_E_CLOSED);
    assert_int_equal(azr_conffile_feed(&f, (const uint8_t *)"y=2\n", 4, &c, &ev), AZR_E_STATE);
    assert_int_equal(c, 0);
}

/* Lines of exactly AZR_CONF_LINE_MAX bytes pass, with LF, CRLF or at the end. */
static void test_conffile_line_of_the_maximum_length(void **s)
{
    (void)s;
    static char in[3 * (AZR_CONF_LINE_MAX + 2)];
    static result r;
    size_t o = 0;
    memset(in, 'x', sizeof in);
    memcpy(in, "Name=", 5);
    o += AZR_CONF_LINE_MAX;
    in[o++] = '\n';
    o += AZR_CONF_LINE_MAX;
    in[o++] = '\r';
    in[o++] = '\n';
    o += AZR_CONF_LINE_MAX;
    run(in, o, &r);
    assert_int_equal(r.end, AZR_E_CLOSED);
    assert_int_equal(r.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r.len[i], AZR_CONF_LINE_MAX);
        assert_int_equal(r.lineno[i], i + 1);
    }
    assert_int_equal(r.text[0][AZR_CONF_LINE_MAX - 1], 'x');
    result_free(&r);
}

/* One byte more is an error on that line, whatever ends it. */
static void test_conffile_line_over_the_maximum_is_refused(void **s)
{
    (void)s;
    static char in[2 * AZR_CONF_LINE_MAX + 16];
    static result r;
    const char *ends[] = {"\n", "\r\n", "", "\r\r\n", "xxxx\n"};
    for (size_t k = 0; k < sizeof ends / sizeof ends[0]; k++) {
        size_t o = 0;
        memcpy(in, "a=1\n", 4);
        o += 4;
        memset(in + o, 'y', AZR_CONF_LINE_MAX + 1);
        o += AZR_CONF_LINE_MAX + 1;
        memcpy(in + o, ends[k], strlen(ends[k]));
        o += strlen(ends[k]);
        memcpy(in + o, "b=2\n", 4);
        o += 4;
        run(in, o, &r);
        assert_int_equal(r.end, AZR_E_LIMIT);
        assert_int_equal(r.err_line, 2);
        assert_string_equal(r.why, "line longer than 8192 bytes");
        assert_int_equal(r.n, 1); /* a=1 only: nothing after the long line */
        assert_string_equal(r.text[0], "a=1");
        result_free(&r);
    }
}

/* Issue 10, item 12: fgets split a long comment and its tail became a
 * setting. The tail must never come out as a line. */
static void test_conffile_long_comment_tail_is_not_a_setting(void **s)
{
    (void)s;
    static char in[AZR_CONF_LINE_MAX + 64];
    static result r;
    size_t o = 0;
    in[o++] = '#';
    memset(in + o, '-', AZR_CONF_LINE_MAX);
    o += AZR_CONF_LINE_MAX;
    memcpy(in + o, "LocalPort=4444\nLogLevel=2\n", 26);
    o += 26;
    run(in, o, &r);
    assert_int_equal(r.end, AZR_E_LIMIT);
    assert_int_equal(r.err_line, 1);
    assert_int_equal(r.n, 0);
    result_free(&r);
}

static void test_conffile_nul_byte_is_refused_with_its_column(void **s)
{
    (void)s;
    static result r;
    const char in[] = "LogLevel=2\nLocalPort=4\0"
                      "000\nLogLevel=3\n";
    run(in, sizeof in - 1, &r);
    assert_int_equal(r.end, AZR_E_PROTO);
    assert_int_equal(r.err_line, 2);
    assert_string_equal(r.why, "NUL byte at column 12 (not a text file?)");
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "LogLevel=2");
    result_free(&r);
    /* at the very start, and alone at the end without LF */
    run("\0", 1, &r);
    assert_int_equal(r.end, AZR_E_PROTO);
    assert_int_equal(r.err_line, 1);
    assert_string_equal(r.why, "NUL byte at column 1 (not a text file?)");
    run("a=1\nb=2\n\0", 9, &r);
    assert_int_equal(r.end, AZR_E_PROTO);
    assert_int_equal(r.err_line, 3);
    assert_int_equal(r.n, 2);
    result_free(&r);
}

/* 1 MiB is the most a file may hold: 1024 lines of 1024 bytes pass, one byte
 * more is refused (on the line it starts). */
static void test_conffile_file_of_one_mebibyte_and_one_byte_more(void **s)
{
    (void)s;
    static char in[AZR_CONF_FILE_MAX + 8];
    static result r;
    for (size_t i = 0; i < 1024; i++) {
        char *l = in + i * 1024;
        memset(l, 'z', 1023);
        l[0] = '#';
        l[1023] = '\n';
    }
    assert_int_equal(AZR_CONF_FILE_MAX, 1024 * 1024);
    run(in, AZR_CONF_FILE_MAX, &r);
    assert_int_equal(r.end, AZR_E_CLOSED);
    assert_int_equal(r.n, 1024);
    assert_int_equal(r.lineno[1023], 1024);
    assert_int_equal(r.len[1023], 1023);
    result_free(&r);
    in[AZR_CONF_FILE_MAX] = 'a';
    run(in, AZR_CONF_FILE_MAX + 1, &r);
    assert_int_equal(r.end, AZR_E_LIMIT);
    assert_int_equal(r.err_line, 1025);
    assert_string_equal(r.why, "the file is larger than 1048576 bytes (1 MiB)");
    assert_int_equal(r.n, 1024);
    result_free(&r);
    /* the bound holds without any LF too */
    memset(in, 'x', sizeof in);
    run(in, sizeof in, &r);
    assert_int_equal(r.end, AZR_E_LIMIT);
    assert_int_equal(r.err_line, 1);
    assert_int_equal(r.n, 0);
    result_free(&r);
}

/* A UTF-8 byte order mark (EF BB BF) is dropped at the start of the file only. */
static void test_conffile_byte_order_mark_at_the_start_only(void **s)
{
    (void)s;
    static result r;
    const char in[] = "\xEF\xBB\xBFLocalPort=5000\n\xEF\xBB\xBFLogLevel=2\n";
    run(in, sizeof in - 1, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[0], "LocalPort=5000");
    assert_string_equal(r.text[1], "\xEF\xBB\xBFLogLevel=2");
    result_free(&r);
    run("\xEF\xBB\xBF", 3, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.end, AZR_E_CLOSED);
    run("\xEF\xBB\xBF\n", 4, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "");
    result_free(&r);
    run("\xEF\xBBx\n", 4, &r); /* not a whole mark: kept as text */
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "\xEF\xBBx");
    result_free(&r);
}

static bool holds(const void *mem, size_t len, const char *needle)
{
    return memmem(mem, len, needle, strlen(needle)) != NULL;
}

/* A reported line is wiped when the next starts; wipe clears the rest. */
static void test_conffile_lines_are_wiped(void **s)
{
    (void)s;
    static azr_conffile f;
    azr_conffile_line ev;
    size_t c;
    const char *in = "AccessKey=s3cretKEYs3cretKEY\nLogLevel=1\nAccessKey=partialKEY";
    size_t len = strlen(in);
    azr_conffile_init(&f);
    assert_int_equal(azr_conffile_feed(&f, (const uint8_t *)in, len, &c, &ev), AZR_OK);
    assert_string_equal(ev.text, "AccessKey=s3cretKEYs3cretKEY");
    size_t used = c;
    assert_int_equal(azr_conffile_feed(&f, (const uint8_t *)in + used, len - used, &c, &ev),
                     AZR_OK);
    assert_string_equal(ev.text, "LogLevel=1");
    assert_false(holds(&f, sizeof f, "s3cretKEY"));
    used += c;
    assert_int_equal(azr_conffile_feed(&f, (const uint8_t *)in + used, len - used, &c, &ev),
                     AZR_AGAIN);
    assert_true(holds(&f, sizeof f, "partialKEY"));
    azr_conffile_wipe(&f);
    assert_false(holds(&f, sizeof f, "partialKEY"));
    /* an error wipes what it held */
    azr_conffile_init(&f);
    assert_int_equal(azr_conffile_feed(&f, (const uint8_t *)"AccessKey=abcdefKEY\0", 20, &c, &ev),
                     AZR_E_PROTO);
    assert_false(holds(&f, sizeof f, "abcdefKEY"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conffile_lines_lf_crlf_and_a_last_line_without_lf),
        cmocka_unit_test(test_conffile_empty_input_and_calls_after_the_end),
        cmocka_unit_test(test_conffile_line_of_the_maximum_length),
        cmocka_unit_test(test_conffile_line_over_the_maximum_is_refused),
        cmocka_unit_test(test_conffile_long_comment_tail_is_not_a_setting),
        cmocka_unit_test(test_conffile_nul_byte_is_refused_with_its_column),
        cmocka_unit_test(test_conffile_file_of_one_mebibyte_and_one_byte_more),
        cmocka_unit_test(test_conffile_byte_order_mark_at_the_start_only),
        cmocka_unit_test(test_conffile_lines_are_wiped),
    };
    return cmocka_run_group_tests_name("conffile", tests, NULL, NULL);
}
