/*
 * The daemon's command line, run as a real process (build/azrelay-proxy):
 * --help, --version, --check, --get, config files, argument precedence and
 * error messages with exit codes; several forwards: --check's line per
 * forward, the documented precedence, and the grammar's errors with FILE:LINE.
 */
#include "testutil.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define KEY "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="

static const char *bin(void)
{
    const char *b = getenv("AZR_PROXY_BIN");
    return b ? b : "../build/azrelay-proxy";
}

/* Run the daemon with args (shell words), capture stdout+stderr, return exit
 * code. Bounded: a daemon still running after 10 s is killed (exit 137). */
static int run(const char *args, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "timeout -s KILL 10 %s %s 2>&1", bin(), args);
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

/* --check loads the CAs a wss:// relay needs, as listening does (issue 14): a
 * firmware image without a CA bundle fails --check, and the daemon stops with
 * the same words before it listens; ws:// needs none. */
static void test_cli_check_needs_relay_cas(void **s)
{
    (void)s;
    static char out[8192];
    const char *base = "LocalPort=5000 NamespaceAddress=myrelay.servicebus.windows.net "
                       "HybridConnection=hc1 AccessKeyName=send AccessKey=" KEY;
    char args[1024];
    snprintf(args, sizeof args, "--check %s 'SSLCACertFilePaths=/nonexistent/ca.pem;/nope.crt'",
             base);
    assert_int_equal(run(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "no CA certificates for wss://"));
    assert_non_null(strstr(out, "/nonexistent/ca.pem;/nope.crt"));
    assert_null(strstr(out, "settings OK"));
    /* the daemon itself stops before listening, with the same words */
    snprintf(args, sizeof args, "%s SSLCACertFilePaths=/nonexistent/ca.pem", base);
    assert_int_equal(run(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "no CA certificates for wss://"));
    /* SSLServerCACerts alone is enough */
    snprintf(args, sizeof args,
             "--check %s SSLCACertFilePaths=/nonexistent/ca.pem "
             "SSLServerCACerts=../build/test-certs/ca.pem",
             base);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "settings OK"));
    /* a bundle that is there but holds no certificate is refused, named */
    char path[] = "/tmp/azrelay-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a certificate\n", 18), 18);
    close(fd);
    snprintf(args, sizeof args, "--check %s SSLCACertFilePaths=%s", base, path);
    assert_int_equal(run(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "SSLCACertFilePaths:"));
    assert_null(strstr(out, "settings OK"));
    unlink(path);
    /* ws:// (an emulator) needs no CA */
    assert_int_equal(run("--check LocalPort=5000 NamespaceAddress=ws://127.0.0.1:9090 "
                         "HybridConnection=hc1 AccessKeyName=send AccessKey=" KEY
                         " SSLCACertFilePaths=/nonexistent/ca.pem",
                         out, sizeof out),
                     0);
    assert_non_null(strstr(out, "settings OK"));
}

/* --check loads what local TLS needs, as listening does: an SSLCertStore
 * that is missing or holds no key is refused, named; a good one passes. */
static void test_cli_check_loads_the_local_certificate(void **s)
{
    (void)s;
    static char out[8192];
    const char *base = "--check LocalPort=5000 NamespaceAddress=ws://127.0.0.1:9090 "
                       "HybridConnection=hc1 AccessKeyName=send AccessKey=" KEY " SSLEnabled=True";
    char args[1024];
    snprintf(args, sizeof args, "%s SSLCertStore=/nonexistent/server.pem", base);
    assert_int_equal(run(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "SSLCertStore /nonexistent/server.pem"));
    assert_null(strstr(out, "settings OK"));
    /* a certificate without its key */
    snprintf(args, sizeof args, "%s SSLCertStore=../build/test-certs/ca.pem", base);
    assert_int_equal(run(args, out, sizeof out), 1);
    assert_null(strstr(out, "settings OK"));
    snprintf(args, sizeof args, "%s SSLCertStore=../build/test-certs/both.pem", base);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "settings OK"));
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

/* --check prints the route relay connections would take, and why (issue 11). */
static void test_cli_check_shows_the_proxy_route(void **s)
{
    (void)s;
    static char out[8192];
#define NS                                                                                         \
    "--check LocalPort=5000 NamespaceAddress=myrelay.servicebus.windows.net HybridConnection=hc1 "
    unsetenv("https_proxy");
    assert_int_equal(run(NS, out, sizeof out), 0);
    assert_non_null(strstr(out, "forward default: listens on *:5000, relay "
                                "wss://myrelay.servicebus.windows.net:443/$hc/hc1, proxy: direct "
                                "(no proxy is set; FirewallAutoDetect is False)\n"));
    assert_int_equal(run(NS "ProxyServer=squid.corp ProxyPort=3128", out, sizeof out), 0);
    assert_non_null(
        strstr(out, ", proxy: HTTP CONNECT squid.corp:3128 (ProxyServer, ProxyPort)\n"));
    /* the daemon's environment, with FirewallAutoDetect; the password is never printed */
    setenv("https_proxy", "http://gw:s3cret@proxy.corp:8080", 1);
    assert_int_equal(run(NS "FirewallAutoDetect=True", out, sizeof out), 0);
    assert_non_null(strstr(out, ", proxy: HTTP CONNECT proxy.corp:8080 "
                                "(FirewallAutoDetect: https_proxy=http://proxy.corp:8080, user "
                                "from the URL)"));
    assert_null(strstr(out, "s3cret"));
    assert_int_equal(
        run(NS "FirewallAutoDetect=True ProxyExceptionsList=*.windows.net", out, sizeof out), 0);
    assert_non_null(strstr(out, "proxy: direct (the relay host myrelay.servicebus.windows.net "
                                "matches ProxyExceptionsList entry '*.windows.net'"));
    assert_int_equal(run("--get ProxyRoute NamespaceAddress=myrelay.servicebus.windows.net "
                         "FirewallAutoDetect=True",
                         out, sizeof out),
                     0);
    assert_string_equal(out, "HTTP CONNECT proxy.corp:8080 (FirewallAutoDetect: "
                             "https_proxy=http://proxy.corp:8080, user from the URL)\n");
    /* a value curl would refuse, and settings at odds: --check fails and says why */
    setenv("https_proxy", "ftp://gw:s3cret@proxy.corp", 1);
    assert_int_equal(run(NS "FirewallAutoDetect=True", out, sizeof out), 1);
    assert_non_null(strstr(out, "FirewallAutoDetect: https_proxy is not a proxy URL"));
    assert_null(strstr(out, "s3cret"));
    unsetenv("https_proxy");
    assert_int_equal(
        run(NS "ProxyServer=squid.corp FirewallType=1 FirewallHost=other.corp", out, sizeof out),
        1);
    assert_non_null(strstr(out, "ProxyServer (squid.corp) and FirewallHost (other.corp) name "
                                "different proxies"));
#undef NS
}

/* A file with `len` bytes of `data` under a fresh name (path[64]). */
static void write_conf(char *path, const void *data, size_t len)
{
    snprintf(path, 64, "/tmp/azrelay-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

/* "-c PATH" followed by more words. */
static int run_conf(const char *path, const char *more, char *out, size_t cap)
{
    char args[512];
    snprintf(args, sizeof args, "-c %s %s", path, more);
    return run(args, out, cap);
}

/* Settings with which the daemon would start listening at once. */
#define RUNNABLE                                                                                   \
    "NamespaceAddress=ws://127.0.0.1:9 HybridConnection=hc1 LocalHost=127.0.0.1 LocalPort=0"

/* Issue 10, item 12: fgets split lines over 8192 bytes and applied the tail,
 * even a comment's: a long comment set LocalPort=4444. */
static void test_cli_config_line_over_the_limit_is_refused(void **s)
{
    (void)s;
    static char conf[8192 + 64], out[8192];
    char path[64];
    size_t o = 0;
    conf[o++] = '#';
    memset(conf + o, '-', 8192);
    o += 8192;
    memcpy(conf + o, "LocalPort=4444\n", 15);
    o += 15;
    write_conf(path, conf, o);
    assert_int_equal(run_conf(path, "--get LocalPort", out, sizeof out), 1);
    char want[128];
    snprintf(want, sizeof want, "azrelay-proxy: %s:1: line longer than 8192 bytes\n", path);
    assert_string_equal(out, want);
    /* the daemon does not start */
    assert_int_equal(run_conf(path, RUNNABLE, out, sizeof out), 1);
    assert_string_equal(out, want);
    unlink(path);
    /* a setting line of 8193 bytes after a good one is refused; 8192 bytes are read (and
     * judged by the vocabulary) */
    memcpy(conf, "LogLevel=2\nUserAgent=", 21);
    memset(conf + 21, 'u', 8192 - 10);
    conf[21 + 8192 - 10] = 'u';
    conf[21 + 8192 - 10 + 1] = '\n';
    write_conf(path, conf, 21 + 8192 - 10 + 2);
    assert_int_equal(run_conf(path, "--get LogLevel", out, sizeof out), 1);
    snprintf(want, sizeof want, "azrelay-proxy: %s:2: line longer than 8192 bytes\n", path);
    assert_string_equal(out, want);
    unlink(path);
    write_conf(path, conf, 21 + 8192 - 10); /* no LF after the last line: read all the same */
    assert_int_equal(run_conf(path, "--get LogLevel", out, sizeof out), 1);
    snprintf(want, sizeof want,
             "azrelay-proxy: %s:2: UserAgent: value longer than 255 characters\n", path);
    assert_string_equal(out, want);
    unlink(path);
}

/* Issue 10, item 12: a directory read as an empty config, /dev/zero was read
 * forever, a FIFO blocked the start. Only a regular file is a config file. */
static void test_cli_config_must_be_a_regular_file(void **s)
{
    (void)s;
    static char out[8192];
    char dir[] = "/tmp/azrelay-test-dir-XXXXXX", fifo[128];
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    char want[256];
    assert_int_equal(run_conf(dir, "--check", out, sizeof out), 1);
    snprintf(want, sizeof want,
             "azrelay-proxy: %s: a directory, not a config file (a regular file is needed)\n", dir);
    assert_string_equal(out, want);
    assert_int_equal(run_conf(dir, RUNNABLE, out, sizeof out), 1);
    assert_string_equal(out, want);
    assert_int_equal(run_conf(fifo, RUNNABLE, out, sizeof out), 1);
    snprintf(want, sizeof want,
             "azrelay-proxy: %s: a FIFO, not a config file (a regular file is needed)\n", fifo);
    assert_string_equal(out, want);
    assert_int_equal(run_conf("/dev/zero", RUNNABLE, out, sizeof out), 1);
    assert_string_equal(out, "azrelay-proxy: /dev/zero: a character device, not a config file (a "
                             "regular file is needed)\n");
    unlink(fifo);
    rmdir(dir);
}

/* A regular file may hold at most 1 MiB (AZR_CONF_FILE_MAX). */
static void test_cli_config_file_size_bound(void **s)
{
    (void)s;
    static char conf[(1 << 20) + 1], out[8192];
    char path[64], want[256];
    for (size_t i = 0; i < 1 << 20; i += 64) {
        memset(conf + i, '#', 63);
        conf[i + 63] = '\n';
    }
    conf[1 << 20] = '#';
    write_conf(path, conf, 1 << 20); /* exactly 1 MiB of comments: fine */
    assert_int_equal(run_conf(path, "--get LogLevel", out, sizeof out), 0);
    assert_string_equal(out, "1\n");
    unlink(path);
    write_conf(path, conf, sizeof conf);
    assert_int_equal(run_conf(path, RUNNABLE, out, sizeof out), 1);
    snprintf(want, sizeof want,
             "azrelay-proxy: %s: 1048577 bytes; a config file may hold at most 1048576 (1 MiB)\n",
             path);
    assert_string_equal(out, want);
    unlink(path);
}

/* Issue 10, item 12: a NUL byte cut the value short without a word. */
static void test_cli_config_nul_byte_is_refused(void **s)
{
    (void)s;
    static char out[8192];
    char path[64], want[256];
    const char conf[] = "LogLevel=2\nLocalPort=4\0"
                        "000\n";
    write_conf(path, conf, sizeof conf - 1);
    assert_int_equal(run_conf(path, "--get LocalPort", out, sizeof out), 1);
    snprintf(want, sizeof want, "azrelay-proxy: %s:2: NUL byte at column 12 (not a text file?)\n",
             path);
    assert_string_equal(out, want);
    assert_int_equal(run_conf(path, RUNNABLE, out, sizeof out), 1);
    assert_string_equal(out, want);
    unlink(path);
}

/* Issue 10, item 12: a line without '=' was read as Config("Name") and
 * failed with an empty message. The same for an argument. */
static void test_cli_config_line_without_equals_is_named(void **s)
{
    (void)s;
    static char out[8192];
    char path[64], want[256];
    const char conf[] = "LogLevel=2\n\n  LocalPort  \r\n";
    write_conf(path, conf, sizeof conf - 1);
    assert_int_equal(run_conf(path, "--check", out, sizeof out), 1);
    snprintf(want, sizeof want,
             "azrelay-proxy: %s:3: no '=' in this line: a line is Name=Value, [forward NAME] or "
             "a comment (# or ;)\n",
             path);
    assert_string_equal(out, want);
    assert_int_equal(run_conf(path, RUNNABLE, out, sizeof out), 1);
    assert_string_equal(out, want);
    unlink(path);
    assert_int_equal(run("--check LocalPort", out, sizeof out), 1);
    assert_string_equal(out, "azrelay-proxy: 'LocalPort' is not Name=Value (--get NAME reads a "
                             "setting)\n");
}

/* CRLF line ends, a byte order mark and a last line without LF are read. */
static void test_cli_config_crlf_bom_and_last_line(void **s)
{
    (void)s;
    static char out[8192];
    char path[64];
    const char conf[] = "\xEF\xBB\xBF# written on Windows\r\nLogLevel=2\r\nLocalPort=5001";
    write_conf(path, conf, sizeof conf - 1);
    assert_int_equal(run_conf(path, "--get LocalPort", out, sizeof out), 0);
    assert_string_equal(out, "5001\n");
    assert_int_equal(run_conf(path, "--get LogLevel", out, sizeof out), 0);
    assert_string_equal(out, "2\n");
    unlink(path);
}

/* Several forwards: --check prints one line each (name, local address, relay,
 * route) to stdout; precedence as documented, read back with --get. */
static void test_cli_forwards_check_and_precedence(void **s)
{
    (void)s;
    static char out[8192];
    char path[64], args[256], want[512];
    const char conf[] = "# defaults for every forward\n"
                        "NamespaceAddress=wss://myrelay.servicebus.windows.net\n"
                        "AccessKeyName=send\n"
                        "AccessKey=" KEY "\n"
                        "LogLevel=1\n"
                        "; ssh on every address\n"
                        "[forward ssh]\n"
                        "HybridConnection=ssh\n"
                        "LocalPort=2222\n"
                        "LogLevel=3\n"
                        "\n"
                        "[forward db]   # the database\n"
                        "HybridConnection=db\n"
                        "LocalHost=127.0.0.1\n"
                        "LocalPort=5432\n"
                        "[forward v6]\n"
                        "HybridConnection=v6\n"
                        "LocalHost=::1\n"
                        "LocalPort=2222\n"
                        "NamespaceAddress=ws://127.0.0.1:9090\n";
    write_conf(path, conf, sizeof conf - 1);
    /* ssh and v6 share port 2222: an empty LocalHost takes every address */
    assert_int_equal(run_conf(path, "--check", out, sizeof out), 1);
    snprintf(want, sizeof want,
             "azrelay-proxy: %s:16: [forward v6] listens on ::1:2222, as [forward ssh] (line 7) "
             "does (an empty LocalHost takes every address): give each forward its own "
             "LocalHost:LocalPort\n",
             path);
    assert_string_equal(out, want);
    /* moved with --forward (over the section), everything checks */
    assert_int_equal(
        run_conf(path, "--check LogLevel=2 --forward v6:LocalPort=2223", out, sizeof out), 0);
    assert_string_equal(out, "forward ssh: listens on *:2222, relay "
                             "wss://myrelay.servicebus.windows.net:443/$hc/ssh, proxy: direct (no "
                             "proxy is set; FirewallAutoDetect is False)\n"
                             "forward db: listens on 127.0.0.1:5432, relay "
                             "wss://myrelay.servicebus.windows.net:443/$hc/db, proxy: direct (no "
                             "proxy is set; FirewallAutoDetect is False)\n"
                             "forward v6: listens on [::1]:2223, relay ws://127.0.0.1:9090/$hc/v6, "
                             "proxy: direct (no proxy is set; FirewallAutoDetect is False)\n"
                             "azrelay-proxy: settings OK (3 forwards)\n");
    assert_null(strstr(out, KEY));
    /* precedence: top level < Name=Value < section < --forward */
    const char *more = "--forward v6:LocalPort=2223 LogLevel=2 --forward db:LogLevel=0";
    static const struct {
        const char *get, *value;
    } reads[] = {{"ssh:LogLevel", "3\n"},    /* the section beats the argument */
                 {"db:LogLevel", "0\n"},     /* --forward beats both */
                 {"v6:LogLevel", "2\n"},     /* the argument beats the top level */
                 {"V6:LocalPort", "2223\n"}, /* names ignore case */
                 {"ssh:AccessKeyName", "send\n"} /* a default */};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        snprintf(args, sizeof args, "--get %s %s", reads[i].get, more);
        assert_int_equal(run_conf(path, args, out, sizeof out), 0);
        if (strcmp(out, reads[i].value) != 0)
            fail_msg("--get %s: '%s', want '%s'", reads[i].get, out, reads[i].value);
    }
    /* with several forwards --get needs one */
    assert_int_equal(run_conf(path, "--get LogLevel --forward v6:LocalPort=2223", out, sizeof out),
                     1);
    assert_string_equal(out, "azrelay-proxy: --get LogLevel: there are 3 forwards; say which: "
                             "--get ssh:LogLevel\n");
    assert_int_equal(
        run_conf(path, "--get x:LogLevel --forward v6:LocalPort=2223", out, sizeof out), 1);
    assert_string_equal(out, "azrelay-proxy: --get x:LogLevel: no forward is named 'x'\n");
    /* a forward's problems carry its name */
    assert_int_equal(
        run_conf(path, "--check --forward v6:LocalPort=2223 --forward db:HybridConnection=", out,
                 sizeof out),
        1);
    assert_non_null(strstr(out, "azrelay-proxy: db: HybridConnection is not set"));
    assert_null(strstr(out, "settings OK"));
    unlink(path);
}

/* Every error of the grammar and of the values names the file and line,
 * the argument, or the --forward it came from; exit 1. */
static void test_cli_forwards_errors_say_where(void **s)
{
    (void)s;
    static char out[8192];
    char path[64], want[512];
    static const struct {
        const char *conf, *more;
        const char *why; /* after "azrelay-proxy: FILE:" unless it starts with '!' */
    } cases[] = {
        {"LocalPort=1\nLogLevel=1\nLocalPort=2\n", "",
         "3: LocalPort is set again in the top level (first at line 1): a setting appears once "
         "per section"},
        {"[forward a]\nLocalPort=1\n[forward b]\nLocalPort=2\n[forward a]\n", "",
         "5: [forward a] again (first at line 1): one section per forward"},
        {"[forward a]\nLocalPort=99999\n", "",
         "2: LocalPort: '99999' is not an integer from 0 to 65535"},
        {"LogLevel=1\n[forward a]\nLocalPort=5001\n[forward b]\nLocalHost=127.0.0.1\n"
         "LocalPort=5001\n",
         "",
         "4: [forward b] listens on 127.0.0.1:5001, as [forward a] (line 2) does (an empty "
         "LocalHost takes every address): give each forward its own LocalHost:LocalPort"},
        {"[forward a]\nLocalHost=127.0.0.1\n[forward b]\nLocalHost=127.0.0.1\n", "LocalPort=5002",
         "3: [forward b] listens on 127.0.0.1:5002, as [forward a] (line 1) does: give each "
         "forward its own LocalHost:LocalPort"},
        {"[forward a]\nEventLoop=3\n", "",
         "2: EventLoop belongs to the whole daemon (one event loop serves every forward): set it "
         "at the top level or as a Name=Value argument, not for one forward"},
        {"[server a]\n", "", "1: unknown section [server a]: the only section is [forward NAME]"},
        {"[forward a]\n", "--forward b:LocalPort=1",
         "!--forward b: no forward is named 'b' (the only forward: a)"},
        {"[forward a]\n", "--forward a:LocalPort=x",
         "!--forward a: LocalPort: 'x' is not an integer from 0 to 65535"},
        {"LocalPort=1\n", "LogLevel=2 LocalPort=3 LogLevel=1",
         "!LogLevel is set again in the Name=Value arguments (first at argument 4): a setting "
         "appears once per section"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_conf(path, cases[i].conf, strlen(cases[i].conf));
        char more[256];
        snprintf(more, sizeof more, "--check %s", cases[i].more);
        assert_int_equal(run_conf(path, more, out, sizeof out), 1);
        if (cases[i].why[0] == '!')
            snprintf(want, sizeof want, "azrelay-proxy: %s\n", cases[i].why + 1);
        else
            snprintf(want, sizeof want, "azrelay-proxy: %s:%s\n", path, cases[i].why);
        if (strcmp(out, want) != 0)
            fail_msg("case %zu:\n got: %s want: %s", i, out, want);
        /* the daemon does not start either, with the same words */
        assert_int_equal(run_conf(path, cases[i].more, out, sizeof out), 1);
        if (!strstr(want, "(first at argument")) /* argv indexes differ without --check */
            assert_string_equal(out, want);
        unlink(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_help_lists_every_setting),
        cmocka_unit_test(test_cli_version),
        cmocka_unit_test(test_cli_check),
        cmocka_unit_test(test_cli_check_shows_the_proxy_route),
        cmocka_unit_test(test_cli_check_needs_relay_cas),
        cmocka_unit_test(test_cli_check_loads_the_local_certificate),
        cmocka_unit_test(test_cli_config_file_and_precedence),
        cmocka_unit_test(test_cli_config_line_over_the_limit_is_refused),
        cmocka_unit_test(test_cli_config_must_be_a_regular_file),
        cmocka_unit_test(test_cli_config_file_size_bound),
        cmocka_unit_test(test_cli_config_nul_byte_is_refused),
        cmocka_unit_test(test_cli_config_line_without_equals_is_named),
        cmocka_unit_test(test_cli_config_crlf_bom_and_last_line),
        cmocka_unit_test(test_cli_forwards_check_and_precedence),
        cmocka_unit_test(test_cli_forwards_errors_say_where),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
