/*
 * The daemon's command line, run as a real process (build/azrelay-proxy):
 * --help, --version, --check, --get, config files, argument precedence and
 * error messages with exit codes.
 */
#include "testutil.h"
#include <fcntl.h>
#include <sys/wait.h>

#define KEY "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="

static const char *bin(void)
{
    const char *b = getenv("AZR_PROXY_BIN");
    return b ? b : "../build/azrelay-proxy";
}

/* Run the daemon with args (shell words), capture stdout+stderr, return exit code. */
static int run(const char *args, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin(), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_cli_help_lists_every_setting(void **s)
{
    (void)s;
    static char out[100000];
    assert_int_equal(run("--help", out, sizeof out), 0);
    static const char *names[] = {"NamespaceAddress",   "HybridConnection",  "AccessKeyName",
                                  "AccessKey",          "LocalPort",         "LogLevel",
                                  "TokenValidity",      "ConnectionTimeout", "FirewallType",
                                  "DefaultIdleTimeout", "ConnectionString",  "EXIT STATUS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strstr(out, names[i]))
            fail_msg("--help does not mention %s", names[i]);
    assert_non_null(strstr(out, "TokenValidity=N (default 3600)"));
    assert_non_null(strstr(out, "ConnectionBacklog=N (default 5)"));
    assert_non_null(strstr(out, "Values 0=None,1=Info,2=Verbose,3=Debug."));
    /* every line fits a serial console */
    for (char *l = out; *l;) {
        char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (len > 80)
            fail_msg("--help line longer than 80 columns: %.*s", (int)len, l);
        l = e ? e + 1 : l + len;
    }
}

static void test_cli_version(void **s)
{
    (void)s;
    char out[256];
    assert_int_equal(run("--version", out, sizeof out), 0);
    assert_non_null(strstr(out, "azrelay-proxy 0."));
}

static void test_cli_check(void **s)
{
    (void)s;
    static char out[8192];
    assert_int_equal(run("--check", out, sizeof out), 1);
    assert_non_null(strstr(out, "NamespaceAddress is not set"));
    assert_non_null(strstr(out, "LocalPort is 0"));
    assert_int_equal(run("--check LocalPort=5000 'ConnectionString=Endpoint=sb://myrelay."
                         "servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" KEY
                         ";EntityPath=hc1'",
                         out, sizeof out),
                     0);
    assert_non_null(strstr(out, "settings OK"));
    assert_null(strstr(out, KEY)); /* the key is never printed */
    assert_int_equal(run("--check LocalPort=99999", out, sizeof out), 1);
    assert_non_null(strstr(out, "LocalPort: '99999' is not an integer from 0 to 65535"));
    assert_int_equal(run("--check NamespaceAdress=x", out, sizeof out), 1);
    assert_non_null(strstr(out, "did you mean NamespaceAddress?"));
    assert_int_equal(run("--check SSLCipherStrength=128", out, sizeof out), 1);
    assert_non_null(strstr(out, "does not support"));
    assert_non_null(strstr(out, "SSLEnabledCipherSuites"));
    assert_int_equal(run("--bogus", out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown option '--bogus'"));
}

static void test_cli_config_file_and_precedence(void **s)
{
    (void)s;
    char path[] = "/tmp/azrelay-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *conf = "# gateway 7\n"
                       "NamespaceAddress = myrelay.servicebus.windows.net\n"
                       "\n"
                       "HybridConnection=hc1\n"
                       "AccessKeyName=RootManageSharedAccessKey\n"
                       "AccessKey=" KEY "\n"
                       "LocalPort=5000\n";
    assert_int_equal(write(fd, conf, strlen(conf)), (ssize_t)strlen(conf));
    close(fd);
    char args[512], out[4096];
    snprintf(args, sizeof args, "-c %s --get LocalPort", path);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_string_equal(out, "5000\n");
    snprintf(args, sizeof args, "-c %s --get LocalPort LocalPort=6000", path);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_string_equal(out, "6000\n"); /* arguments win over the file */
    snprintf(args, sizeof args, "-c %s --get AccessToken TokenValidity=600", path);
    assert_int_equal(run(args, out, sizeof out), 0);
    const char *prefix = "SharedAccessSignature sr=sb%3a%2f%2fmyrelay.servicebus.windows.net"
                         "%2fhc1&sig=";
    assert_true(strncmp(out, prefix, strlen(prefix)) == 0);
    assert_non_null(strstr(out, "&skn=RootManageSharedAccessKey\n"));
    /* an error names the file and line */
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "LogLevel=7\n", 11), 11);
    close(fd);
    snprintf(args, sizeof args, "-c %s --check", path);
    assert_int_equal(run(args, out, sizeof out), 1);
    char want[128];
    snprintf(want, sizeof want, "%s:8: LogLevel: '7' is not one of", path);
    assert_non_null(strstr(out, want));
    unlink(path);
    assert_int_equal(run("-c /nonexistent/azrelay.conf --check", out, sizeof out), 1);
    assert_non_null(strstr(out, "/nonexistent/azrelay.conf: No such file or directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_help_lists_every_setting),
        cmocka_unit_test(test_cli_version),
        cmocka_unit_test(test_cli_check),
        cmocka_unit_test(test_cli_config_file_and_precedence),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
