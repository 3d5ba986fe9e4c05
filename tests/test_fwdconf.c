/*
 * The daemon's config grammar (src/daemon/fwdconf.c), sans I/O: sections,
 * comments, repeats, names, --forward, the forward "default", precedence
 * order, limits and sticky errors with line numbers. Every line is fed from
 * a buffer ending at a guard page (a read past the line crashes).
 */
#include "testutil.h"
#include "daemon/fwdconf.h"

static azr_err line(azr_fwdconf *c, const char *text, unsigned long lineno)
{
    tu_guard g;
    size_t len = strlen(text);
    const char *p = (const char *)tu_guard_new(&g, text, len);
    azr_err e = azr_fwdconf_file_line(c, p, len, lineno);
    tu_guard_free(&g);
    return e;
}

static azr_err arg(azr_fwdconf *c, const char *text, int argno, bool forward)
{
    tu_guard g;
    size_t len = strlen(text);
    const char *p = (const char *)tu_guard_new(&g, text, len);
    azr_err e = azr_fwdconf_arg(c, p, len, argno, forward);
    tu_guard_free(&g);
    return e;
}

/* Feed a file's lines (split at LF), numbered from 1; the first failing one's result. */
static azr_err feed(azr_fwdconf *c, const char *file)
{
    unsigned long n = 1;
    for (const char *p = file; *p; n++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char buf[512];
        assert_true(len < sizeof buf);
        memcpy(buf, p, len);
        buf[len] = '\0';
        azr_err e = line(c, buf, n);
        if (e != AZR_OK)
            return e;
        p += len + (nl ? 1 : 0);
    }
    return AZR_OK;
}

/* Forward i's statements in precedence order, "|"-joined. */
static azr_err collect(void *ud, const azr_fc_stmt *s)
{
    char *out = ud;
    size_t used = strlen(out);
    snprintf(out + used, 1024 - used, "%s%s", used ? "|" : "", s->text);
    return AZR_OK;
}

static const char *order(const azr_fwdconf *c, size_t i)
{
    static char out[1024];
    out[0] = '\0';
    assert_int_equal(azr_fwdconf_each(c, i, collect, out), AZR_OK);
    return out;
}

/* A file of plain Name=Value lines is one forward, "default": as before sections came. */
static void test_fwdconf_no_section_is_the_default_forward(void **st)
{
    (void)st;
    azr_fwdconf c;
    azr_fwdconf_init(&c);
    assert_int_equal(feed(&c, "# gateway 7\n"
                              "\n"
                              "NamespaceAddress = ns.servicebus.windows.net\n"
                              "  ; a comment with a ; first\n"
                              "\tLocalPort=5000\t\n"
                              "AccessKey=ab#cd;ef=\n"),
                     AZR_OK);
    assert_int_equal(azr_fwdconf_count(&c), 0); /* not finished yet */
    assert_int_equal(azr_fwdconf_finish(&c), AZR_OK);
    assert_int_equal(azr_fwdconf_count(&c), 1);
    assert_string_equal(azr_fwdconf_forward(&c, 0)->name, "default");
    assert_int_equal(azr_fwdconf_forward(&c, 0)->line, 0);
    /* trimmed statements; '#' and ';' inside a value belong to it */
    assert_string_equal(order(&c, 0), "NamespaceAddress = ns.servicebus.windows.net|"
                                      "LocalPort=5000|AccessKey=ab#cd;ef=");
    assert_null(azr_fwdconf_forward(&c, 1));
    assert_int_equal(azr_fwdconf_finish(&c), AZR_E_STATE);
    assert_int_equal(line(&c, "LocalPort=1", 9), AZR_E_STATE);
    azr_fwdconf_free(&c);
}

/* Sections in file order; each one's statements after the defaults, in the
 * documented precedence: file top level, Name=Value arguments, section,
 * --forward arguments. */
static void test_fwdconf_sections_and_precedence(void **st)
{
    (void)st;
    azr_fwdconf c;
    azr_fwdconf_init(&c);
    assert_int_equal(arg(&c, "LogLevel=2", 1, false), AZR_OK);
    assert_int_equal(feed(&c, "LogLevel=1\n"
                              "[forward ssh]\n"
                              "LocalPort=2222\n"
                              "LogLevel=3\n"
                              "  [ Forward   db.main_1-x ]  # the database\n"
                              "LocalPort=5432\n"
                              "[forward e];\n"),
                     AZR_OK);
    assert_int_equal(arg(&c, "db.main_1-x:LocalPort=6543", 3, true), AZR_OK);
    assert_int_equal(arg(&c, " SSH : TcpNoDelay = True ", 5, true), AZR_OK);
    assert_int_equal(arg(&c, "HybridConnection=hc", 6, false), AZR_OK);
    assert_int_equal(azr_fwdconf_finish(&c), AZR_OK);
    assert_int_equal(azr_fwdconf_count(&c), 3);
    assert_string_equal(azr_fwdconf_forward(&c, 0)->name, "ssh");
    assert_int_equal(azr_fwdconf_forward(&c, 0)->line, 2);
    assert_string_equal(azr_fwdconf_forward(&c, 1)->name, "db.main_1-x");
    assert_int_equal(azr_fwdconf_forward(&c, 1)->line, 5);
    assert_string_equal(azr_fwdconf_forward(&c, 2)->name, "e");
    /* --forward ssh matched ignoring case; its statement trimmed */
    assert_string_equal(order(&c, 0), "LogLevel=1|LogLevel=2|HybridConnection=hc|"
                                      "LocalPort=2222|LogLevel=3|TcpNoDelay = True");
    assert_string_equal(order(&c, 1), "LogLevel=1|LogLevel=2|HybridConnection=hc|"
                                      "LocalPort=5432|LocalPort=6543");
    assert_string_equal(order(&c, 2), "LogLevel=1|LogLevel=2|HybridConnection=hc");
    assert_int_equal(azr_fwdconf_each(&c, 3, collect, NULL), AZR_E_STATE);
    azr_fwdconf_free(&c);
}

/* The walk stops at the first statement its function refuses. */
static azr_err refuse_port(void *ud, const azr_fc_stmt *s)
{
    int *seen = ud;
    (*seen)++;
    if (!strncmp(s->text, "LocalPort", s->name_len)) {
        assert_int_equal(s->origin, AZR_FC_FILE);
        assert_int_equal(s->where, 3);
        return AZR_E_ARG;
    }
    return AZR_OK;
}

static void test_fwdconf_each_stops_at_a_refusal(void **st)
{
    (void)st;
    azr_fwdconf c;
    azr_fwdconf_init(&c);
    assert_int_equal(feed(&c, "A=1\n[forward a]\nLocalPort=1\nB=2\n"), AZR_OK);
    assert_int_equal(azr_fwdconf_finish(&c), AZR_OK);
    int seen = 0;
    assert_int_equal(azr_fwdconf_each(&c, 0, refuse_port, &seen), AZR_E_ARG);
    assert_int_equal(seen, 2);
    azr_fwdconf_free(&c);
}

/* One error, its line and sentence; it sticks. */
static void expect_file_error(const char *file, unsigned long at, const char *why)
{
    azr_fwdconf c;
    azr_fwdconf_init(&c);
    azr_err e = feed(&c, file);
    if (e == AZR_OK)
        e = azr_fwdconf_finish(&c);
    if (e == AZR_OK)
        fail_msg("accepted:\n%s", file);
    if (c.err_line != at || strcmp(c.why, why) != 0)
        fail_msg("for:\n%s\nwant line %lu '%s'\ngot  line %lu '%s'", file, at, why, c.err_line,
                 c.why);
    /* sticky: the next call returns it and changes nothing */
    assert_int_equal(line(&c, "LocalPort=1", 99), e);
    assert_int_equal(c.err_line, at);
    azr_fwdconf_free(&c);
}

static void test_fwdconf_file_errors_name_the_line(void **st)
{
    (void)st;
    /* a repeat is an error, not "last wins", in any section, whatever the case */
    expect_file_error("LocalPort=1\nLogLevel=1\nlocalport = 2\n", 3,
                      "localport is set again in the top level (first at line 1): a setting "
                      "appears once per section");
    expect_file_error("LocalPort=1\n[forward a]\nLocalPort=2\n\nLOCALPORT=3\n", 5,
                      "LOCALPORT is set again in [forward a] (first at line 3): a setting appears "
                      "once per section");
    expect_file_error("[forward a]\nx=1\n[forward b]\n[FORWARD A]\n", 4,
                      "[forward A] again (first at line 1): one section per forward");
    expect_file_error("LocalPort\n", 1,
                      "no '=' in this line: a line is Name=Value, [forward NAME] or a comment "
                      "(# or ;)");
    expect_file_error("# ok\n = 5\n", 2, "no setting name before '='");
    expect_file_error("[forward a\n", 1, "no ']' on this line: a section is [forward NAME]");
    expect_file_error("[forward a] LocalPort=1\n", 1,
                      "text after ']': only a comment (# or ;) may follow [forward NAME]");
    expect_file_error("\n\n[forward]\n", 3, "[forward] needs a name: [forward NAME]");
    expect_file_error("[defaults]\n", 1,
                      "unknown section [defaults]: the only section is [forward NAME]");
    expect_file_error("[forwarder a]\n", 1,
                      "unknown section [forwarder a]: the only section is [forward NAME]");
    expect_file_error("[forward a b]\n", 1,
                      "'a b' is not a forward name: 1 to 32 letters, digits, '.', '_' or '-'");
    expect_file_error("[forward a:b]\n", 1,
                      "'a:b' is not a forward name: 1 to 32 letters, digits, '.', '_' or '-'");
    expect_file_error("[forward 123456789012345678901234567890123]\n", 1,
                      "'123456789012345678901234567890123' is not a forward name: 1 to 32 "
                      "letters, digits, '.', '_' or '-'");
    expect_file_error("EventLoop=3\n[forward a]\nEventLoop=1\n", 3,
                      "EventLoop belongs to the whole daemon (one event loop serves every "
                      "forward): set it at the top level or as a Name=Value argument, not for "
                      "one forward");
    expect_file_error("StatusSocket=/run/a\n[forward a]\nstatussocket=/run/b\n", 3,
                      "StatusSocket belongs to the whole daemon (one socket reports every "
                      "forward): set it at the top level or as a Name=Value argument, not for "
                      "one forward");
    expect_file_error("[forward a]\nMetricsAddress=127.0.0.1:9464\n", 2,
                      "MetricsAddress belongs to the whole daemon (one endpoint serves every "
                      "forward's metrics): set it at the top level or as a Name=Value "
                      "argument, not for one forward");
    /* the longest name is fine */
    azr_fwdconf c;
    azr_fwdconf_init(&c);
    assert_int_equal(line(&c, "[forward 12345678901234567890123456789012]", 1), AZR_OK);
    azr_fwdconf_free(&c);
}

/* The command line: Name=Value once each, --forward NAME:Name=Value once per forward. */
static void test_fwdconf_command_line(void **st)
{
    (void)st;
    azr_fwdconf c;
    azr_fwdconf_init(&c);
    assert_int_equal(arg(&c, "LocalPort", 2, false), AZR_E_ARG);
    assert_int_equal(c.err_line, 0);
    assert_string_equal(c.why, "'LocalPort' is not Name=Value (--get NAME reads a setting)");
    azr_fwdconf_free(&c);

    azr_fwdconf_init(&c);
    assert_int_equal(arg(&c, "LocalPort=1", 2, false), AZR_OK);
    assert_int_equal(arg(&c, "EventLoop=3", 3, false), AZR_OK); /* the whole daemon's: fine */
    assert_int_equal(arg(&c, "localPort=2", 4, false), AZR_E_ARG);
    assert_string_equal(c.why, "localPort is set again in the Name=Value arguments (first at "
                               "argument 2): a setting appears once per section");
    azr_fwdconf_free(&c);

    azr_fwdconf_init(&c);
    assert_int_equal(feed(&c, "[forward a]\n[forward b]\n"), AZR_OK);
    assert_int_equal(arg(&c, "a:LocalPort=1", 2, true), AZR_OK);
    assert_int_equal(arg(&c, "b:LocalPort=1", 4, true), AZR_OK); /* another forward: fine */
    assert_int_equal(arg(&c, "A:LOCALPORT=2", 6, true), AZR_E_ARG);
    assert_string_equal(c.why, "LOCALPORT is set again in --forward A (first at argument 2): a "
                               "setting appears once per section");
    azr_fwdconf_free(&c);

    static const struct {
        const char *arg, *why;
    } bad[] = {
        {"LocalPort=1", "--forward 'LocalPort=1': not NAME:Name=Value"},
        {"a:LocalPort", "--forward 'a:LocalPort': not NAME:Name=Value"},
        {"LocalPort=a:b", "--forward 'LocalPort=a:b': not NAME:Name=Value"},
        {":LocalPort=1", "--forward ':LocalPort=1': the forward's name is 1 to 32 letters, "
                         "digits, '.', '_' or '-'"},
        {"a b:LocalPort=1", "--forward 'a b:LocalPort=1': the forward's name is 1 to 32 "
                            "letters, digits, '.', '_' or '-'"},
        {"a:=1", "no setting name before '='"},
        {"a:EventLoop=1", "EventLoop belongs to the whole daemon (one event loop serves every "
                          "forward): set it at the top level or as a Name=Value argument, not "
                          "for one forward"},
        {"a:MetricsAddress=[::1]:1", "MetricsAddress belongs to the whole daemon (one endpoint "
                                     "serves every forward's metrics): set it at the top level "
                                     "or as a Name=Value argument, not for one forward"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        azr_fwdconf_init(&c);
        assert_int_equal(arg(&c, bad[i].arg, 1, true), AZR_E_ARG);
        if (strcmp(c.why, bad[i].why) != 0)
            fail_msg("--forward %s: '%s'", bad[i].arg, c.why);
        azr_fwdconf_free(&c);
    }
}

/* --forward must name a forward; "default" when the file has no section. */
static void test_fwdconf_forward_must_exist(void **st)
{
    (void)st;
    azr_fwdconf c;
    azr_fwdconf_init(&c);
    assert_int_equal(feed(&c, "[forward a]\n[forward b]\n"), AZR_OK);
    assert_int_equal(arg(&c, "c:LocalPort=1", 3, true), AZR_OK);
    assert_int_equal(azr_fwdconf_finish(&c), AZR_E_ARG);
    assert_string_equal(c.why, "--forward c: no forward is named 'c' (the forwards: a, b)");
    assert_int_equal(azr_fwdconf_count(&c), 0);
    azr_fwdconf_free(&c);

    azr_fwdconf_init(&c);
    assert_int_equal(arg(&c, "x:LocalPort=1", 3, true), AZR_OK);
    assert_int_equal(azr_fwdconf_finish(&c), AZR_E_ARG);
    assert_string_equal(c.why, "--forward x: no forward is named 'x' (the only forward: "
                               "default)");
    azr_fwdconf_free(&c);

    azr_fwdconf_init(&c);
    assert_int_equal(arg(&c, "LocalPort=1", 1, false), AZR_OK);
    assert_int_equal(arg(&c, "Default:LocalPort=2", 3, true), AZR_OK);
    assert_int_equal(azr_fwdconf_finish(&c), AZR_OK);
    assert_string_equal(order(&c, 0), "LocalPort=1|LocalPort=2");
    azr_fwdconf_free(&c);
}

/* AZR_FC_FORWARDS_MAX sections, AZR_FC_STMTS_MAX settings in one. */
static void test_fwdconf_limits(void **st)
{
    (void)st;
    azr_fwdconf c;
    char text[64];
    azr_fwdconf_init(&c);
    for (int i = 0; i < AZR_FC_FORWARDS_MAX; i++) {
        snprintf(text, sizeof text, "[forward f%d]", i);
        assert_int_equal(line(&c, text, (unsigned long)i + 1), AZR_OK);
    }
    assert_int_equal(line(&c, "[forward one-more]", 100), AZR_E_LIMIT);
    assert_int_equal(c.err_line, 100);
    assert_string_equal(c.why, "more than 64 forwards");
    azr_fwdconf_free(&c);

    azr_fwdconf_init(&c);
    assert_int_equal(line(&c, "[forward a]", 1), AZR_OK);
    for (int i = 0; i < AZR_FC_STMTS_MAX; i++) {
        snprintf(text, sizeof text, "Name%d=%d", i, i);
        assert_int_equal(line(&c, text, (unsigned long)i + 2), AZR_OK);
    }
    assert_int_equal(line(&c, "Last=1", 1000), AZR_E_LIMIT);
    assert_string_equal(c.why, "more than 256 settings in [forward a]");
    azr_fwdconf_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fwdconf_no_section_is_the_default_forward),
        cmocka_unit_test(test_fwdconf_sections_and_precedence),
        cmocka_unit_test(test_fwdconf_each_stops_at_a_refusal),
        cmocka_unit_test(test_fwdconf_file_errors_name_the_line),
        cmocka_unit_test(test_fwdconf_command_line),
        cmocka_unit_test(test_fwdconf_forward_must_exist),
        cmocka_unit_test(test_fwdconf_limits),
    };
    return cmocka_run_group_tests_name("fwdconf", tests, NULL, NULL);
}
