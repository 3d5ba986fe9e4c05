/*
 * The daemon's log formats and targets (src/daemon/dlog.c), as a real
 * process: LogFormat=JSON lines parse with Python's json module (an
 * independent parser) and carry time, level, forward, conn and msg;
 * LogTarget=syslog:PATH sends RFC 5424 datagrams (facility daemon, the
 * level's severity) to a socket the test binds; both are the whole
 * daemon's and refused inside a [forward] section.
 */
#include "testutil.h"
#include "peers.h"
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

extern char **environ;

#define KEY "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="

static const char *bin(void)
{
    return getenv("AZR_PROXY_BIN") ? getenv("AZR_PROXY_BIN") : "../build/azrelay-proxy";
}

/* The daemon with extra arguments, its stderr into err_path; its PID. */
static pid_t daemon_run(const char *const *extra, const char *err_path)
{
    const char *argv[16] = {bin(),
                            "NamespaceAddress=ws://127.0.0.1:9",
                            "HybridConnection=hc1",
                            "AccessKeyName=RootManageSharedAccessKey",
                            "AccessKey=" KEY,
                            "LocalHost=127.0.0.1",
                            "LocalPort=0",
                            "LogLevel=2"};
    int n = 8;
    for (; extra && *extra && n < 15; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, bin(), &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    procs_track(pid, true);
    return pid;
}

static int stop(pid_t pid)
{
    int st = -1;
    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
    procs_track(pid, false);
    return st;
}

static bool file_has(const char *path, const char *needle, int wait_ms)
{
    for (int t = 0; t <= wait_ms; t += 20) {
        char buf[16384];
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        if (strstr(buf, needle))
            return true;
        usleep(20000);
    }
    return false;
}

static int teardown(void **st)
{
    (void)st;
    procs_kill_all();
    return 0;
}

static void test_dlog_json_lines_parse(void **st)
{
    (void)st;
    const char *log = "/tmp/azrelay-test-dlog.json";
    pid_t pid = daemon_run((const char *const[]){"LogFormat=JSON", NULL}, log);
    assert_true(file_has(log, "listening on 127.0.0.1:", 5000));
    assert_int_equal(stop(pid), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import sys, json\n"
             "lines = [l for l in open(sys.argv[1]).read().splitlines()\n"
             "         if not l.startswith(\"azrelay-proxy: \")]  # before the log is set up\n"
             "assert len(lines) >= 2, lines\n"
             "objs = [json.loads(l) for l in lines]\n"
             "assert all(set(o) == {\"time\", \"level\", \"forward\", \"conn\", \"msg\"} for o in "
             "objs)\n"
             "start = [o for o in objs if o[\"msg\"].startswith(\"listening on 127.0.0.1:\")]\n"
             "assert start and start[0][\"level\"] == \"Info\" and start[0][\"forward\"] == "
             "\"default\"\n"
             "assert start[0][\"time\"].endswith(\"Z\") and start[0][\"conn\"] == 0\n"
             "' %s",
             log);
    assert_int_equal(system(cmd), 0);
    unlink(log);
}

static void test_dlog_syslog_datagrams(void **st)
{
    (void)st;
    const char *sock = "/tmp/azrelay-test-dlog.sock", *log = "/tmp/azrelay-test-dlog.err";
    unlink(sock);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {5, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char target[128];
    snprintf(target, sizeof target, "LogTarget=syslog:%s", sock);
    pid_t pid = daemon_run((const char *const[]){target, NULL}, log);
    regex_t re;
    assert_int_equal(
        regcomp(&re,
                "^<30>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                "[^ ]+ azrelay-proxy [0-9]+ - - Info +\\[default\\] listening on ",
                REG_EXTENDED | REG_NOSUB),
        0);
    bool found = false;
    for (int i = 0; i < 50 && !found; i++) {
        char d[4096];
        ssize_t n = recv(s, d, sizeof d - 1, 0);
        if (n <= 0)
            break;
        d[n] = '\0';
        found = regexec(&re, d, 0, NULL, 0) == 0;
    }
    regfree(&re);
    assert_true(found);
    assert_int_equal(stop(pid), 0);
    assert_false(file_has(log, "listening on", 0)); /* nothing of it on stderr */
    close(s);
    unlink(sock);
    unlink(log);
}

static void test_dlog_whole_daemon_only(void **state)
{
    (void)state;
    const char *cfg = "/tmp/azrelay-test-dlog.conf", *log = "/tmp/azrelay-test-dlog.err";
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f, "[forward a]\nLocalPort=0\nLogFormat=JSON\n");
    fclose(f);
    chmod(cfg, 0600);
    pid_t pid = daemon_run((const char *const[]){"-c", cfg, NULL}, log);
    int st;
    waitpid(pid, &st, 0);
    procs_track(pid, false);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    assert_true(file_has(log, "LogFormat belongs to the whole daemon", 0));
    pid = daemon_run((const char *const[]){"LogTarget=syslog:/nonexistent/sock", NULL}, log);
    waitpid(pid, &st, 0);
    procs_track(pid, false);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    assert_true(file_has(log, "cannot reach the syslog socket /nonexistent/sock", 0));
    unlink(cfg);
    unlink(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_dlog_json_lines_parse, teardown),
        cmocka_unit_test_teardown(test_dlog_syslog_datagrams, teardown),
        cmocka_unit_test_teardown(test_dlog_whole_daemon_only, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
