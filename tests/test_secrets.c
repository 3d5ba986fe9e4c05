/*
 * The daemon's secrets (src/daemon/secrets.c). argv scrubbing and core dumps
 * are checked on a real process: this suite runs itself again as a small
 * helper (--secrets-helper) with keys on its command line, and reads the
 * helper's /proc/PID/cmdline and `ps -o args=` before and after it scrubs,
 * and its dumpable flag. The environment's secrets and their precedence go
 * through the vocabulary (config.c) as the daemon applies them.
 */
#include "testutil.h"
#include "config.h"
#include "daemon/secrets.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

#define KEY  "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="
#define KEY2 "Zm9yd2FyZC1zY29wZWQta2V5LWZvci10aGUtd2ViLWZ3ZA=="
#define KEY3 "Y29ubmVjdGlvbi1zdHJpbmcta2V5LW5vdC1zaG93bg=="
#define PW   "hunter2-proxy-password"
#define PW2  "pem-key-password-42"

/* ---------------------------------------------------------------- helper */

/*
 * The helper: says "before", waits for one byte on stdin, sets its dumpable
 * flag as argv[2] asks (core=off, core=on, core=keep), scrubs its argv, says
 * "after <dumpable before> <after> <names> <args>: <warning>", and waits for
 * stdin to close.
 */
static int helper(int argc, char **argv)
{
    char b;
    printf("before\n");
    fflush(stdout);
    if (read(0, &b, 1) != 1)
        return 2;
    int was = azr_core_dumps_allowed();
    if (strcmp(argv[2], "core=off") == 0 && azr_core_dumps_set(false) != AZR_OK)
        return 3;
    if (strcmp(argv[2], "core=on") == 0 && azr_core_dumps_set(true) != AZR_OK)
        return 3;
    azr_argv_scrubbed s;
    char w[1024];
    azr_argv_scrub(argc, argv, &s);
    azr_argv_scrub_warning(&s, w, sizeof w);
    printf("after %d %d %zu %zu: %s\n", was, azr_core_dumps_allowed(), s.n, s.args, w);
    fflush(stdout);
    while (read(0, &b, 1) > 0)
        ;
    return 0;
}

typedef struct helper_proc {
    pid_t pid;
    int in, out; /* its stdin (we write), its stdout (we read) */
} helper_proc;

static void helper_start(helper_proc *h, const char *const *args)
{
    int i[2], o[2];
    assert_int_equal(pipe(i), 0);
    assert_int_equal(pipe(o), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, i[0], 0);
    posix_spawn_file_actions_adddup2(&fa, o[1], 1);
    posix_spawn_file_actions_addclose(&fa, i[1]);
    posix_spawn_file_actions_addclose(&fa, o[0]);
    const char *argv[32] = {"/proc/self/exe", "--secrets-helper"};
    int n = 2;
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    assert_int_equal(
        posix_spawn(&h->pid, "/proc/self/exe", &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(i[0]);
    close(o[1]);
    h->in = i[1];
    h->out = o[0];
}

/* The helper's next line (without its LF), within 10 s. */
static const char *helper_line(helper_proc *h)
{
    static char line[2048];
    size_t n = 0;
    while (n < sizeof line - 1) {
        struct pollfd p = {h->out, POLLIN, 0};
        if (poll(&p, 1, 10000) != 1)
            fail_msg("the helper said nothing within 10 s (so far: %.*s)", (int)n, line);
        if (read(h->out, line + n, 1) != 1)
            fail_msg("the helper ended (so far: %.*s)", (int)n, line);
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    return line;
}

static void helper_end(helper_proc *h)
{
    int st;
    close(h->in);
    assert_int_equal(waitpid(h->pid, &st, 0), h->pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    close(h->out);
}

/* /proc/PID/cmdline with its NULs as '\n'; *args the number of arguments. */
static const char *cmdline(pid_t pid, int *args)
{
    static char buf[8192];
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    assert_true(n > 0);
    *args = 0;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0') {
            buf[i] = '\n';
            (*args)++;
        }
    buf[n] = '\0';
    return buf;
}

/* What `ps -o args= -p PID` shows. */
static const char *ps_args(pid_t pid)
{
    static char buf[8192];
    char cmd[96];
    snprintf(cmd, sizeof cmd, "ps -ww -o args= -p %d", (int)pid);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    assert_int_equal(pclose(f), 0);
    return buf;
}

/* ----------------------------------------------------------------- cases */

static void test_secrets_argv_scrubbed_in_a_real_process(void **st)
{
    (void)st;
    static const char *const args[] = {"core=keep",
                                       "-c",
                                       "/etc/azrelay/azrelay.conf",
                                       "NamespaceAddress=ws://127.0.0.1:9090",
                                       "AccessKeyName=RootManageSharedAccessKey",
                                       "AccessKey=" KEY,
                                       "LocalPort=5000",
                                       "web:ProxyPassword=" PW,
                                       "--forward=web:AccessKey=" KEY2,
                                       "ConnectionString=Endpoint=sb://ns.example/;"
                                       "SharedAccessKeyName=send;SharedAccessKey=" KEY3,
                                       "SSLCertStorePassword=" PW2,
                                       "AccessKeyFile=/run/credentials/x/relay-key",
                                       NULL};
    static const char *const secrets[] = {KEY, KEY2, KEY3, PW, PW2, "ns.example"};
    helper_proc h;
    int n_before, n_after;
    helper_start(&h, args);
    assert_string_equal(helper_line(&h), "before");
    /* the control: before the scrub, everyone sees the secrets */
    const char *c = cmdline(h.pid, &n_before);
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (!strstr(c, secrets[i]))
            fail_msg("before the scrub, /proc/PID/cmdline lacks %s:\n%s", secrets[i], c);
    assert_non_null(strstr(ps_args(h.pid), KEY));
    assert_int_equal(write(h.in, "g", 1), 1);
    const char *said = helper_line(&h);
    assert_string_equal(said, "after 1 1 4 5: AccessKey, ProxyPassword, ConnectionString and "
                              "SSLCertStorePassword given on the command line: visible to "
                              "other users until scrubbed; use AccessKeyFile and "
                              "ConnectionStringFile, and for ProxyPassword and "
                              "SSLCertStorePassword a config file only its owner may read "
                              "(chmod 600)");
    c = cmdline(h.pid, &n_after);
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(c, secrets[i]))
            fail_msg("after the scrub, /proc/PID/cmdline still shows %s:\n%s", secrets[i], c);
    assert_int_equal(n_after, n_before); /* the same arguments, none split or lost */
    assert_non_null(strstr(c, "\nAccessKey=********************************************\n"));
    assert_non_null(strstr(c, "\nweb:ProxyPassword=**********************\n"));
    assert_non_null(strstr(c, "\n--forward=web:AccessKey=***"));
    assert_non_null(strstr(c, "\nConnectionString=*****"));
    assert_non_null(strstr(c, "\nSSLCertStorePassword=*******************\n"));
    /* what is not a secret is left alone */
    assert_non_null(strstr(c, "\n-c\n/etc/azrelay/azrelay.conf\n"));
    assert_non_null(strstr(c, "\nNamespaceAddress=ws://127.0.0.1:9090\n"));
    assert_non_null(strstr(c, "\nAccessKeyName=RootManageSharedAccessKey\n"));
    assert_non_null(strstr(c, "\nLocalPort=5000\n"));
    assert_non_null(strstr(c, "\nAccessKeyFile=/run/credentials/x/relay-key\n"));
    const char *ps = ps_args(h.pid);
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(ps, secrets[i]))
            fail_msg("after the scrub, ps still shows %s:\n%s", secrets[i], ps);
    assert_non_null(strstr(ps, " AccessKey=****"));
    assert_non_null(strstr(ps, " LocalPort=5000 "));
    helper_end(&h);
}

static void test_secrets_core_dumps_off_in_a_real_process(void **st)
{
    (void)st;
    static const char *const off[] = {"core=off", NULL};
    static const char *const keep[] = {"core=keep", NULL};
    static const char *const on[] = {"core=on", NULL};
    helper_proc h;
    struct stat s;
    char path[64];
    /* off: dumpable was 1 (a fresh process), now 0 */
    helper_start(&h, off);
    assert_string_equal(helper_line(&h), "before");
    assert_int_equal(write(h.in, "g", 1), 1);
    assert_string_equal(helper_line(&h), "after 1 0 0 0: ");
    /* seen from outside: a process that is not dumpable has its /proc files owned
     * by root (only visible when this suite does not run as root) */
    snprintf(path, sizeof path, "/proc/%d/environ", (int)h.pid);
    assert_int_equal(stat(path, &s), 0);
    assert_int_equal(s.st_uid, 0);
    helper_end(&h);
    helper_start(&h, keep);
    assert_string_equal(helper_line(&h), "before");
    assert_int_equal(write(h.in, "g", 1), 1);
    assert_string_equal(helper_line(&h), "after 1 1 0 0: ");
    snprintf(path, sizeof path, "/proc/%d/environ", (int)h.pid);
    assert_int_equal(stat(path, &s), 0);
    assert_int_equal(s.st_uid, geteuid());
    helper_end(&h);
    helper_start(&h, on);
    assert_string_equal(helper_line(&h), "before");
    assert_int_equal(write(h.in, "g", 1), 1);
    assert_string_equal(helper_line(&h), "after 1 1 0 0: ");
    helper_end(&h);
    /* in this process: off, then back on (AllowCoreDumps=True after the start) */
    assert_int_equal(azr_core_dumps_set(false), AZR_OK);
    assert_false(azr_core_dumps_allowed());
    assert_int_equal(azr_core_dumps_set(true), AZR_OK);
    assert_true(azr_core_dumps_allowed());
}

static void test_secrets_argv_scrub_forms(void **st)
{
    (void)st;
    char a[][96] = {"azrelay-proxy", /* argv[0] is never touched */
                    "accesskey=abc",
                    " AccessKey = abc ",
                    "AccessKeyName=send",
                    "AccessKeyFile=/etc/azrelay/relay-key",
                    "AccessKey=",
                    "FirewallData=X-Auth: t0ken",
                    "AccessToken=SharedAccessSignature sr=x",
                    "LocalPort=5000",
                    "AccessKey=again",
                    "--forward",
                    "web:FirewallPassword=pw",
                    "ProxyAuthorization=Basic Z3c6czNjcmV0"};
    char *argv[sizeof a / sizeof a[0] + 1];
    int argc = (int)(sizeof a / sizeof a[0]);
    for (int i = 0; i < argc; i++)
        argv[i] = a[i];
    argv[argc] = NULL;
    azr_argv_scrubbed s;
    azr_argv_scrub(argc, argv, &s);
    assert_string_equal(a[0], "azrelay-proxy");
    assert_string_equal(a[1], "accesskey=***");
    assert_string_equal(a[2], " AccessKey =*****");
    assert_string_equal(a[3], "AccessKeyName=send");
    assert_string_equal(a[4], "AccessKeyFile=/etc/azrelay/relay-key");
    assert_string_equal(a[5], "AccessKey=");
    assert_string_equal(a[6], "FirewallData=*************");
    assert_string_equal(a[7], "AccessToken=**************************");
    assert_string_equal(a[8], "LocalPort=5000");
    assert_string_equal(a[9], "AccessKey=*****");
    assert_string_equal(a[10], "--forward");
    assert_string_equal(a[11], "web:FirewallPassword=**");
    assert_string_equal(a[12], "ProxyAuthorization=******************");
    assert_int_equal(s.args, 7);
    assert_int_equal(s.n, 5); /* AccessKey once */
    assert_string_equal(s.names[0], "AccessKey");
    assert_string_equal(s.names[1], "FirewallData");
    assert_string_equal(s.names[2], "AccessToken");
    assert_string_equal(s.names[3], "FirewallPassword");
    assert_string_equal(s.names[4], "ProxyAuthorization");
    /* every secret of the table is covered, and nothing else */
    for (size_t i = 0; i < azr_config_count; i++) {
        const azr_conf_def *d = &azr_config_table[i];
        char arg[128], *v[3] = {"x", arg, NULL};
        snprintf(arg, sizeof arg, "%s=value", d->name);
        azr_argv_scrub(2, v, &s);
        bool scrubbed = strstr(arg, "=*****") != NULL;
        if (scrubbed != ((d->flags & AZR_CF_SECRET) != 0))
            fail_msg("%s: scrubbed %d, secret %d", d->name, scrubbed,
                     (d->flags & AZR_CF_SECRET) != 0);
    }
    /* nothing to scrub: no warning */
    char w[256] = "x";
    s.n = 0;
    assert_int_equal(azr_argv_scrub_warning(&s, w, sizeof w), 0);
    assert_string_equal(w, "");
    /* the warning alone for the key */
    s.n = 1;
    s.names[0] = "AccessKey";
    azr_argv_scrub_warning(&s, w, sizeof w);
    assert_string_equal(w, "AccessKey given on the command line: visible to other users until "
                           "scrubbed; use AccessKeyFile");
    s.names[0] = "ProxyPassword";
    azr_argv_scrub_warning(&s, w, sizeof w);
    assert_string_equal(w, "ProxyPassword given on the command line: visible to other users "
                           "until scrubbed; use for ProxyPassword a config file only its owner "
                           "may read (chmod 600)");
    /* cut to fit, always terminated */
    assert_int_equal(azr_argv_scrub_warning(&s, w, 10), 9);
    assert_string_equal(w, "ProxyPass");
}

/* apply for the tests: into an azr_settings, recording the statements' names */
typedef struct env_sink {
    azr_settings set;
    char seen[256];
} env_sink;

static azr_err sink_apply(void *ud, const char *stmt)
{
    env_sink *k = ud;
    char err[AZR_CONF_ERR_MAX];
    const char *eq = strchr(stmt, '=');
    size_t n = strlen(k->seen);
    snprintf(k->seen + n, sizeof k->seen - n, "%.*s;", (int)(eq - stmt), stmt);
    return azr_config_apply(&k->set, stmt, strlen(stmt), err, sizeof err);
}

static const char *get(const azr_settings *s, const char *name)
{
    static char out[AZR_SAS_MAX + 1];
    char err[AZR_CONF_ERR_MAX];
    if (azr_config_get(s, name, strlen(name), 0, out, sizeof out, err, sizeof err) != AZR_OK)
        fail_msg("get %s: %s", name, err);
    return out;
}

static void test_secrets_environment_lowest_precedence(void **st)
{
    (void)st;
    static env_sink k;
    unsigned applied;
    const char *failed;
    char err[AZR_CONF_ERR_MAX];
    unsetenv("AZRELAY_CONNECTION_STRING");
    unsetenv("AZRELAY_ACCESS_KEY");
    azr_settings_init(&k.set);
    k.seen[0] = '\0';
    assert_int_equal(azr_secret_env_apply(sink_apply, &k, &applied, &failed), AZR_OK);
    assert_int_equal(applied, 0);
    assert_null(failed);
    assert_string_equal(k.seen, "");
    /* both: the string first, then the key alone replaces the string's key */
    setenv("AZRELAY_CONNECTION_STRING",
           "Endpoint=sb://myrelay.servicebus.windows.net/;SharedAccessKeyName=send;"
           "SharedAccessKey=" KEY3 ";EntityPath=hc1",
           1);
    setenv("AZRELAY_ACCESS_KEY", KEY, 1);
    assert_int_equal(azr_secret_env_apply(sink_apply, &k, &applied, &failed), AZR_OK);
    assert_int_equal(applied, AZR_SECRET_ENV_CONNSTR | AZR_SECRET_ENV_KEY);
    assert_string_equal(k.seen, "ConnectionString;AccessKey;");
    assert_string_equal(get(&k.set, "AccessKey"), KEY);
    assert_string_equal(get(&k.set, "HybridConnection"), "hc1");
    /* the daemon's order: environment, config file, command line; the last wins */
    char line[] = "AccessKey=" KEY2;
    assert_int_equal(azr_config_line(&k.set, line, strlen(line), err, sizeof err), AZR_OK);
    assert_string_equal(get(&k.set, "AccessKey"), KEY2); /* the file beats the environment */
    assert_string_equal(get(&k.set, "HybridConnection"), "hc1");
    /* empty: as unset */
    setenv("AZRELAY_CONNECTION_STRING", "", 1);
    k.seen[0] = '\0';
    assert_int_equal(azr_secret_env_apply(sink_apply, &k, &applied, &failed), AZR_OK);
    assert_int_equal(applied, AZR_SECRET_ENV_KEY);
    assert_string_equal(k.seen, "AccessKey;");
    /* a bad string: named, and nothing after it applied */
    setenv("AZRELAY_CONNECTION_STRING", "Endpoint=sb://x/;Bogus=1", 1);
    k.seen[0] = '\0';
    assert_int_equal(azr_secret_env_apply(sink_apply, &k, &applied, &failed), AZR_E_ARG);
    assert_string_equal(failed, "AZRELAY_CONNECTION_STRING");
    assert_int_equal(applied, 0);
    assert_string_equal(k.seen, "ConnectionString;");
    /* too long for AccessKey: refused before apply */
    unsetenv("AZRELAY_CONNECTION_STRING");
    char lng[AZR_KEY_MAX + 2];
    memset(lng, 'k', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    setenv("AZRELAY_ACCESS_KEY", lng, 1);
    k.seen[0] = '\0';
    assert_int_equal(azr_secret_env_apply(sink_apply, &k, &applied, &failed), AZR_E_LIMIT);
    assert_string_equal(failed, "AZRELAY_ACCESS_KEY");
    assert_string_equal(k.seen, "");
    lng[AZR_KEY_MAX] = '\0'; /* exactly AccessKey's bound */
    setenv("AZRELAY_ACCESS_KEY", lng, 1);
    assert_int_equal(azr_secret_env_apply(sink_apply, &k, &applied, &failed), AZR_OK);
    unsetenv("AZRELAY_ACCESS_KEY");
    azr_settings_wipe(&k.set);
}

static void test_secrets_which_statements_hold_a_secret(void **st)
{
    (void)st;
    static const struct {
        const char *stmt;
        bool secret;
    } v[] = {{"AccessKey=x", true},
             {"  accesskey = x ", true},
             {"ConnectionString=Endpoint=sb://x/", true},
             {"ProxyPassword=p", true},
             {"FirewallPassword=p", true},
             {"ProxyAuthorization=Basic x", true},
             {"SSLCertStorePassword=p", true},
             {"FirewallData=X-A: 1", true},
             {"AccessKey=", false},
             {"AccessKey=   ", false},
             {"# AccessKey=x", false},
             {"AccessKeyFile=/etc/azrelay/relay-key", false},
             {"AccessKeyName=send", false},
             {"LocalPort=5000", false},
             {"Bogus=1", false},
             {"AccessKey", false},
             {"", false}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (azr_secret_stmt(v[i].stmt, strlen(v[i].stmt)) != v[i].secret)
            fail_msg("'%s': secret should be %d", v[i].stmt, v[i].secret);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--secrets-helper") == 0)
        return helper(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_argv_scrubbed_in_a_real_process),
        cmocka_unit_test(test_secrets_core_dumps_off_in_a_real_process),
        cmocka_unit_test(test_secrets_argv_scrub_forms),
        cmocka_unit_test(test_secrets_environment_lowest_precedence),
        cmocka_unit_test(test_secrets_which_statements_hold_a_secret),
    };
    return cmocka_run_group_tests_name("secrets", tests, NULL, NULL);
}
