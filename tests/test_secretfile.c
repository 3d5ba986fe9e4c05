/*
 * Files that hold secrets (src/secretfile.c) and the settings that read them
 * (AccessKeyFile, ConnectionStringFile, InsecureSecretFiles in config.c): the
 * first line and its bounds, what is not a regular file (never waited on), the
 * mode check with the exact chmod to run, systemd's $CREDENTIALS_DIRECTORY,
 * and the warning that reaches the Log event through the public API.
 */
#include "testutil.h"
#include "azrelay.h"
#include "config.h"
#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#define KEY "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="

static char dir[64];

static int make_dir(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/azr-secretfile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    unsetenv("CREDENTIALS_DIRECTORY");
    return 0;
}

static int remove_dir(void **st)
{
    (void)st;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    unsetenv("CREDENTIALS_DIRECTORY");
    return 0;
}

/* dir/name holding text[0..len) with mode; returns the path (static: the
 * next call overwrites it) */
static const char *put(const char *name, const char *text, size_t len, mode_t mode)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static azr_err rd(const char *path, size_t max, char *out, size_t *n, char *err)
{
    return azr_secretfile_read("AccessKeyFile", path, false, max, out, AZR_CONNSTR_MAX + 1, n, err,
                               AZR_CONF_ERR_MAX);
}

static void test_secretfile_first_line_without_its_line_end(void **st)
{
    (void)st;
    static const struct {
        const char *text;
        size_t len;
        const char *want;
    } v[] = {
        {KEY "\n", sizeof KEY, KEY},
        {KEY "\r\n", sizeof KEY + 1, KEY},
        {KEY, sizeof KEY - 1, KEY}, /* no line end at all */
        {KEY "\nsecond line is never read\n", sizeof KEY + 27, KEY},
        {KEY "\r\r\n", sizeof KEY + 2, KEY},
        {" spaced \n", 9, " spaced "}, /* trimming is the setter's job */
    };
    char out[AZR_CONNSTR_MAX + 1], err[AZR_CONF_ERR_MAX];
    size_t n;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const char *p = put("key", v[i].text, v[i].len, 0600);
        assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_OK);
        assert_string_equal(out, v[i].want);
        assert_int_equal(n, strlen(v[i].want));
        assert_string_equal(err, ""); /* no warning either */
    }
}

static void test_secretfile_bounds_and_bad_content(void **st)
{
    (void)st;
    char text[AZR_KEY_MAX + 8], out[AZR_CONNSTR_MAX + 1], err[AZR_CONF_ERR_MAX];
    size_t n;
    const char *p = put("key", "", 0, 0600);
    assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
    assert_non_null(strstr(err, "AccessKeyFile "));
    assert_non_null(strstr(err, p)); /* the file is named */
    assert_non_null(strstr(err, "the file is empty"));
    p = put("key", "\n" KEY "\n", sizeof KEY + 1, 0600);
    assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
    assert_non_null(strstr(err, "the first line is empty"));
    p = put("key", "\r\n", 2, 0600);
    assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
    assert_non_null(strstr(err, "the first line is empty"));
    p = put("key", "ab\0cd\n", 6, 0600);
    assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
    assert_non_null(strstr(err, "a NUL byte in the first line"));
    /* exactly max bytes, with CR LF, LF or nothing after them: read */
    memset(text, 'k', sizeof text);
    memcpy(text + AZR_KEY_MAX, "\r\n", 2);
    for (size_t end = 0; end <= 2; end++) {
        p = put("key", text, AZR_KEY_MAX + end, 0600);
        assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_OK);
        assert_int_equal(n, AZR_KEY_MAX);
    }
    /* one more byte: refused, whatever follows */
    text[AZR_KEY_MAX] = 'k';
    memcpy(text + AZR_KEY_MAX + 1, "\r\n", 2);
    for (size_t end = 0; end <= 2; end++) {
        p = put("key", text, AZR_KEY_MAX + 1 + end, 0600);
        assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_E_LIMIT);
        assert_non_null(strstr(err, "the first line is longer than 256 bytes"));
        assert_int_equal(n, 0);
        assert_string_equal(out, "");
    }
    /* a long file whose first line fits: only the first line counts */
    static char big[100000];
    memset(big, 'x', sizeof big);
    memcpy(big, KEY "\n", sizeof KEY);
    p = put("key", big, sizeof big, 0600);
    assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_OK);
    assert_string_equal(out, KEY);
}

static void test_secretfile_not_a_regular_file(void **st)
{
    (void)st;
    char path[128], out[AZR_CONNSTR_MAX + 1], err[AZR_CONF_ERR_MAX];
    size_t n;
    /* a FIFO with no writer: refused at once, never waited on */
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(5);
    assert_int_equal(rd(path, AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
    alarm(0);
    assert_non_null(strstr(err, "is a FIFO (named pipe), not a file holding a secret"));
    assert_non_null(strstr(err, path));
    assert_int_equal(rd(dir, AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
    assert_non_null(strstr(err, "is a directory"));
    assert_int_equal(rd("/dev/null", AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
    assert_non_null(strstr(err, "/dev/null: is a device"));
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(rd(path, AZR_KEY_MAX, out, &n, err), AZR_E_IO);
    assert_non_null(strstr(err, "missing: No such file or directory"));
    /* a symbolic link to a key file is followed (credential stores use them) */
    const char *key = put("key", KEY "\n", sizeof KEY, 0600);
    snprintf(path, sizeof path, "%s/link", dir);
    assert_int_equal(symlink(key, path), 0);
    assert_int_equal(rd(path, AZR_KEY_MAX, out, &n, err), AZR_OK);
    assert_string_equal(out, KEY);
}

static void test_secretfile_mode_refused_with_the_chmod(void **st)
{
    (void)st;
    char out[AZR_CONNSTR_MAX + 1], err[AZR_CONF_ERR_MAX], want[512];
    size_t n;
    const char *p = put("key", KEY "\n", sizeof KEY, 0644);
    assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
    snprintf(want, sizeof want,
             "AccessKeyFile %s: mode 0644 gives group and others access to a secret; run: "
             "chmod 600 %s (InsecureSecretFiles=True accepts it with a warning)",
             p, p);
    assert_string_equal(err, want);
    assert_string_equal(out, ""); /* nothing was read */
    static const struct {
        mode_t mode;
        const char *who;
    } v[] = {{0640, "mode 0640 gives its group access"},
             {0604, "mode 0604 gives others access"},
             {0620, "mode 0620 gives its group access"},
             {0602, "mode 0602 gives others access"},
             {0666, "mode 0666 gives group and others"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        p = put("key", KEY "\n", sizeof KEY, v[i].mode);
        assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
        assert_non_null(strstr(err, v[i].who));
    }
    /* the owner alone, read-only too (systemd's credentials are 0400) */
    p = put("key", KEY "\n", sizeof KEY, 0400);
    assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_OK);
    /* InsecureSecretFiles: read, and the same facts as a warning */
    p = put("key", KEY "\n", sizeof KEY, 0644);
    assert_int_equal(azr_secretfile_read("AccessKeyFile", p, true, AZR_KEY_MAX, out, sizeof out, &n,
                                         err, sizeof err),
                     AZR_OK);
    assert_string_equal(out, KEY);
    snprintf(want, sizeof want,
             "AccessKeyFile %s: mode 0644 gives group and others access to a secret; used "
             "anyway (InsecureSecretFiles=True); run: chmod 600 %s",
             p, p);
    assert_string_equal(err, want);
    /* the daemon's config file goes through the same check, by path or by fd */
    assert_int_equal(azr_secretfile_check("config file", p, false, err, sizeof err), AZR_E_ARG);
    assert_true(strncmp(err, "config file ", 12) == 0);
    int fd = open(p, O_RDONLY);
    assert_int_equal(azr_secretfile_check_fd(fd, "config file", p, false, err, sizeof err),
                     AZR_E_ARG);
    assert_int_equal(fchmod(fd, 0600), 0);
    assert_int_equal(azr_secretfile_check_fd(fd, "config file", p, false, err, sizeof err), AZR_OK);
    assert_string_equal(err, "");
    close(fd);
}

static void test_secretfile_chmod_path_is_one_shell_word(void **st)
{
    (void)st;
    char out[AZR_CONNSTR_MAX + 1], err[AZR_CONF_ERR_MAX], want[512], cmd[600];
    size_t n;
    const char *p = put("my key's file", KEY "\n", sizeof KEY, 0644);
    assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_E_ARG);
    snprintf(want, sizeof want, "run: chmod 600 '%s/my key'\\''s file' (", dir);
    assert_non_null(strstr(err, want));
    /* and the shell agrees: running the command makes the file readable */
    const char *c = strstr(err, "chmod 600 ");
    const char *e = strstr(c, " (InsecureSecretFiles");
    snprintf(cmd, sizeof cmd, "%.*s", (int)(e - c), c);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(rd(p, AZR_KEY_MAX, out, &n, err), AZR_OK);
    assert_string_equal(out, KEY);
}

static void test_secretfile_credentials_directory(void **st)
{
    (void)st;
    char out[AZR_SECRET_PATH_MAX + 1], err[AZR_CONF_ERR_MAX];
#define PATH_IS(in, want)                                                                          \
    do {                                                                                           \
        assert_int_equal(azr_secretfile_path(in, strlen(in), out, sizeof out, err, sizeof err),    \
                         AZR_OK);                                                                  \
        assert_string_equal(out, want);                                                            \
    } while (0)
    unsetenv("CREDENTIALS_DIRECTORY");
    PATH_IS("/etc/azrelay/relay-key", "/etc/azrelay/relay-key");
    PATH_IS("relay-key", "relay-key"); /* relative to the working directory */
    assert_int_equal(azr_secretfile_path("%d/relay-key", 12, out, sizeof out, err, sizeof err),
                     AZR_E_ARG);
    assert_non_null(strstr(err, "$CREDENTIALS_DIRECTORY is not set (LoadCredential="));
    setenv("CREDENTIALS_DIRECTORY", "/run/credentials/azrelay-proxy.service", 1);
    PATH_IS("%d/relay-key", "/run/credentials/azrelay-proxy.service/relay-key");
    PATH_IS("relay-key", "/run/credentials/azrelay-proxy.service/relay-key");
    PATH_IS("/etc/azrelay/relay-key", "/etc/azrelay/relay-key");
    PATH_IS("%dx", "/run/credentials/azrelay-proxy.service/%dx"); /* only "%d/" is expanded */
    setenv("CREDENTIALS_DIRECTORY", "/run/credentials/x/", 1);
    PATH_IS("%d/relay-key", "/run/credentials/x/relay-key");
    assert_int_equal(azr_secretfile_path("", 0, out, sizeof out, err, sizeof err), AZR_E_ARG);
    assert_int_equal(azr_secretfile_path("a\0b", 3, out, sizeof out, err, sizeof err), AZR_E_ARG);
    static char lng[AZR_SECRET_PATH_MAX + 2];
    memset(lng, 'a', sizeof lng - 1);
    lng[0] = '/';
    assert_int_equal(
        azr_secretfile_path(lng, AZR_SECRET_PATH_MAX, out, sizeof out, err, sizeof err), AZR_OK);
    assert_int_equal(
        azr_secretfile_path(lng, AZR_SECRET_PATH_MAX + 1, out, sizeof out, err, sizeof err),
        AZR_E_LIMIT);
    /* the directory's length counts too */
    assert_int_equal(
        azr_secretfile_path(lng + 1, AZR_SECRET_PATH_MAX - 5, out, sizeof out, err, sizeof err),
        AZR_E_LIMIT);
    unsetenv("CREDENTIALS_DIRECTORY");
#undef PATH_IS
}

static azr_err apply(azr_settings *s, const char *fmt, const char *arg, char *err)
{
    char stmt[512];
    snprintf(stmt, sizeof stmt, fmt, arg);
    return azr_config_apply(s, stmt, strlen(stmt), err, AZR_CONF_ERR_MAX);
}

static const char *get(const azr_settings *s, const char *name)
{
    static char out[AZR_SAS_MAX + 1];
    char err[AZR_CONF_ERR_MAX];
    if (azr_config_get(s, name, strlen(name), 1555365205, out, sizeof out, err, sizeof err) !=
        AZR_OK)
        fail_msg("get %s: %s", name, err);
    return out;
}

static void test_secretfile_access_key_file_sets_access_key(void **st)
{
    (void)st;
    azr_settings a, b;
    char err[AZR_CONF_ERR_MAX], token[AZR_SAS_MAX + 1];
    azr_settings_init(&a);
    azr_settings_init(&b);
    static const char *common[] = {"NamespaceAddress=myrelay.servicebus.windows.net",
                                   "HybridConnection=hc1", "AccessKeyName=send"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(apply(&a, "%s", common[i], err), AZR_OK);
        assert_int_equal(apply(&b, "%s", common[i], err), AZR_OK);
    }
    assert_int_equal(apply(&a, "AccessKey=%s", KEY, err), AZR_OK);
    char p[256];
    snprintf(p, sizeof p, "%s", put("relay-key", KEY "\r\n", sizeof KEY + 1, 0600));
    assert_int_equal(apply(&b, "AccessKeyFile=%s", p, err), AZR_OK);
    assert_string_equal(err, "");
    assert_string_equal(get(&b, "AccessKeyFile"), p); /* the path, as given */
    snprintf(token, sizeof token, "%s", get(&a, "AccessToken"));
    assert_string_equal(get(&b, "AccessToken"), token); /* the same key signed it */
    /* the last source wins, in either order */
    assert_int_equal(apply(&b, "AccessKey=%s", "b3RoZXI=", err), AZR_OK);
    assert_string_equal(get(&b, "AccessKey"), "b3RoZXI=");
    assert_int_equal(apply(&b, "AccessKeyFile=%s", p, err), AZR_OK);
    assert_string_equal(get(&b, "AccessKey"), KEY);
    /* a refused file changes nothing */
    const char *loose = put("loose-key", "bG9vc2U=\n", 9, 0644);
    assert_int_equal(apply(&b, "AccessKeyFile=%s", loose, err), AZR_E_ARG);
    assert_non_null(strstr(err, "run: chmod 600 "));
    assert_string_equal(get(&b, "AccessKey"), KEY);
    assert_string_equal(get(&b, "AccessKeyFile"), p);
    /* InsecureSecretFiles covers the files named after it, with a warning */
    assert_int_equal(apply(&b, "InsecureSecretFiles=%s", "True", err), AZR_OK);
    assert_int_equal(apply(&b, "AccessKeyFile=%s", loose, err), AZR_OK);
    assert_non_null(strstr(err, "used anyway (InsecureSecretFiles=True); run: chmod 600 "));
    assert_string_equal(get(&b, "AccessKey"), "bG9vc2U=");
    /* a first line longer than AccessKey takes: refused, the key not quoted */
    char longkey[AZR_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey);
    longkey[AZR_KEY_MAX + 1] = '\n';
    assert_int_equal(
        apply(&b, "AccessKeyFile=%s", put("long-key", longkey, sizeof longkey, 0600), err),
        AZR_E_LIMIT);
    assert_null(strstr(err, "kkkk")); /* the key is not quoted */
    /* empty: the path is cleared, the key kept */
    assert_int_equal(apply(&b, "AccessKeyFile=%s", "", err), AZR_OK);
    assert_string_equal(get(&b, "AccessKeyFile"), "");
    assert_string_equal(get(&b, "AccessKey"), "bG9vc2U=");
    azr_settings_wipe(&a);
    azr_settings_wipe(&b);
}

static void test_secretfile_connection_string_file(void **st)
{
    (void)st;
    azr_settings s;
    char err[AZR_CONF_ERR_MAX];
    azr_settings_init(&s);
    static const char cs[] = "Endpoint=sb://myrelay.servicebus.windows.net/;SharedAccessKeyName="
                             "send;SharedAccessKey=" KEY ";EntityPath=hc1\n";
    const char *p = put("relay-connstr", cs, sizeof cs - 1, 0600);
    assert_int_equal(apply(&s, "ConnectionStringFile=%s", p, err), AZR_OK);
    assert_string_equal(get(&s, "NamespaceAddress"), "myrelay.servicebus.windows.net:443");
    assert_string_equal(get(&s, "HybridConnection"), "hc1");
    assert_string_equal(get(&s, "AccessKeyName"), "send");
    assert_string_equal(get(&s, "AccessKey"), KEY);
    assert_string_equal(get(&s, "ConnectionStringFile"), p);
    /* a bad string: the file is named, the key is not shown */
    static const char bad[] =
        "Endpoint=sb://myrelay.servicebus.windows.net/;SharedAccessKey=" KEY ";Bogus=1\n";
    p = put("bad-connstr", bad, sizeof bad - 1, 0600);
    assert_int_equal(apply(&s, "ConnectionStringFile=%s", p, err), AZR_E_ARG);
    assert_non_null(strstr(err, "ConnectionStringFile "));
    assert_non_null(strstr(err, "bad-connstr: connection string: unknown key 'Bogus'"));
    assert_null(strstr(err, KEY));
    /* through systemd's credentials directory, %d/ in a config file */
    p = put("relay-connstr", cs, sizeof cs - 1, 0400);
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    azr_settings_init(&s);
    assert_int_equal(apply(&s, "%s", "ConnectionStringFile=%d/relay-connstr", err), AZR_OK);
    assert_string_equal(get(&s, "AccessKey"), KEY);
    azr_settings_init(&s);
    assert_int_equal(apply(&s, "%s", "ConnectionStringFile=relay-connstr", err), AZR_OK);
    assert_string_equal(get(&s, "HybridConnection"), "hc1");
    unsetenv("CREDENTIALS_DIRECTORY");
    assert_int_equal(apply(&s, "%s", "ConnectionStringFile=%d/relay-connstr", err), AZR_E_ARG);
    assert_non_null(strstr(err, "ConnectionStringFile: %d/relay-connstr: %d/ names a systemd "
                                "credential, but $CREDENTIALS_DIRECTORY is not set"));
    azr_settings_wipe(&s);
}

static char logged[4096];

static void on_log(void *ud, int conn_id, int level, const char *msg, const char *type)
{
    (void)ud;
    (void)conn_id;
    (void)level;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof logged - n, "%s: %s\n", type, msg);
}

static void test_secretfile_warning_reaches_the_log(void **st)
{
    (void)st;
    azr_events ev = {0};
    ev.log = on_log;
    azr_proxy *px = azr_proxy_new(&ev, NULL);
    assert_non_null(px);
    char stmt[256];
    const char *p = put("relay-key", KEY "\n", sizeof KEY, 0640);
    snprintf(stmt, sizeof stmt, "AccessKeyFile=%s", p);
    logged[0] = '\0';
    assert_int_not_equal(azr_proxy_config(px, stmt, NULL, 0), 0);
    assert_non_null(strstr(azr_proxy_last_error(px), "mode 0640 gives its group access"));
    assert_non_null(strstr(azr_proxy_last_error(px), "run: chmod 600 "));
    assert_int_equal(azr_proxy_config(px, "InsecureSecretFiles=yes", NULL, 0), 0);
    assert_int_equal(azr_proxy_config(px, stmt, NULL, 0), 0);
    assert_non_null(strstr(logged, "Error: warning: AccessKeyFile "));
    assert_non_null(strstr(logged, "used anyway (InsecureSecretFiles=True); run: chmod 600 "));
    assert_null(strstr(logged, KEY));
    azr_proxy_free(px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_secretfile_first_line_without_its_line_end, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_secretfile_bounds_and_bad_content, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_secretfile_not_a_regular_file, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_secretfile_mode_refused_with_the_chmod, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_secretfile_chmod_path_is_one_shell_word, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_secretfile_credentials_directory, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_secretfile_access_key_file_sets_access_key, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_secretfile_connection_string_file, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_secretfile_warning_reaches_the_log, make_dir,
                                        remove_dir),
    };
    return cmocka_run_group_tests_name("secretfile", tests, NULL, NULL);
}
