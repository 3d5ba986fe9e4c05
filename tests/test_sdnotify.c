/*
 * systemd notification without libsystemd (src/daemon/sdnotify.c), against a
 * NOTIFY_SOCKET listener in this test, as PID 1 would listen: a datagram
 * socket at a path and one in the abstract namespace, each receiving READY,
 * STATUS, RELOADING with MONOTONIC_USEC, WATCHDOG and STOPPING in order, with
 * the sender's PID in the socket credentials (NotifyAccess=main). Also: no
 * NOTIFY_SOCKET means no-ops; a full or vanished socket never blocks;
 * WATCHDOG_USEC/WATCHDOG_PID parsing; JOURNAL_STREAM detection and the
 * "<N>" prefixes.
 */
#include "testutil.h"
#include "daemon/sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

static char dir[64];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/azr-sdnotify-XXXXXX");
    assert_non_null(mkdtemp(dir));
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    unsetenv("JOURNAL_STREAM");
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[128];
    azr_sd_close();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("JOURNAL_STREAM");
    return 0;
}

/* A listener as PID 1 has one: datagrams, sender credentials on. name is a
 * path or "@abstract"; the same text goes to NOTIFY_SOCKET. */
static int listener(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t n = strlen(name);
    assert_true(n < sizeof a.sun_path);
    memcpy(a.sun_path, name, n);
    if (name[0] == '@')
        a.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
    assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
    int one = 1;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);
    return fd;
}

/* The next datagram (NUL-terminated) within 2 s; its sender's PID in *pid. */
static const char *receive(int fd, pid_t *pid)
{
    static char buf[1024];
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 2000) != 1)
        fail_msg("no datagram on the notify socket within 2 s");
    struct iovec iov = {buf, sizeof buf - 1};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl.b;
    m.msg_controllen = sizeof ctl.b;
    ssize_t n = recvmsg(fd, &m, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
    if (pid) {
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        assert_non_null(c);
        assert_int_equal(c->cmsg_type, SCM_CREDENTIALS);
        struct ucred cr;
        memcpy(&cr, CMSG_DATA(c), sizeof cr);
        *pid = cr.pid;
    }
    return buf;
}

static bool nothing_pending(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 100) == 0;
}

static unsigned long long mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
}

/* The daemon's sequence, received in order at the listener named name. */
static void lifecycle(const char *name)
{
    char err[256];
    int l = listener(name);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_OK);
    assert_true(azr_sd_enabled());
    pid_t from = 0;
    assert_int_equal(azr_sd_ready("1 forward, 0 connections"), AZR_OK);
    assert_string_equal(receive(l, &from), "READY=1\nSTATUS=1 forward, 0 connections");
    assert_int_equal(from, getpid()); /* what NotifyAccess=main checks */
    assert_int_equal(azr_sd_status("3 forwards, 12 connections"), AZR_OK);
    assert_string_equal(receive(l, NULL), "STATUS=3 forwards, 12 connections");
    unsigned long long t0 = mono_usec();
    assert_int_equal(azr_sd_reloading("reloading /etc/azrelay/azrelay.conf"), AZR_OK);
    unsigned long long t1 = mono_usec();
    const char *m = receive(l, NULL);
    unsigned long long at = 0;
    char status[128];
    assert_int_equal(sscanf(m, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%127[^\n]", &at, status),
                     2);
    assert_true(at >= t0 && at <= t1); /* CLOCK_MONOTONIC, in microseconds */
    assert_string_equal(status, "reloading /etc/azrelay/azrelay.conf");
    assert_int_equal(azr_sd_ready(NULL), AZR_OK);
    assert_string_equal(receive(l, NULL), "READY=1");
    assert_int_equal(azr_sd_watchdog(), AZR_OK);
    assert_string_equal(receive(l, NULL), "WATCHDOG=1");
    assert_int_equal(azr_sd_stopping("draining 2 connections"), AZR_OK);
    assert_string_equal(receive(l, NULL), "STOPPING=1\nSTATUS=draining 2 connections");
    assert_true(nothing_pending(l));
    azr_sd_close();
    assert_false(azr_sd_enabled());
    close(l);
}

static void test_sdnotify_path_socket_gets_the_messages_in_order(void **st)
{
    (void)st;
    char name[128];
    snprintf(name, sizeof name, "%s/notify", dir);
    lifecycle(name);
}

static void test_sdnotify_abstract_socket_gets_the_messages_in_order(void **st)
{
    (void)st;
    char name[64];
    snprintf(name, sizeof name, "@azr-test-sdnotify-%d", (int)getpid());
    lifecycle(name);
}

static void test_sdnotify_without_notify_socket_is_a_noop(void **st)
{
    (void)st;
    char err[256], name[64];
    snprintf(name, sizeof name, "@azr-test-sdnotify-unset-%d", (int)getpid());
    int l = listener(name);
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_OK);
    assert_string_equal(err, "");
    assert_false(azr_sd_enabled());
    assert_int_equal(azr_sd_ready("x"), AZR_OK);
    assert_int_equal(azr_sd_reloading(NULL), AZR_OK);
    assert_int_equal(azr_sd_status("x"), AZR_OK);
    assert_int_equal(azr_sd_watchdog(), AZR_OK);
    assert_int_equal(azr_sd_stopping(NULL), AZR_OK);
    setenv("NOTIFY_SOCKET", "", 1); /* empty: the same */
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_OK);
    assert_false(azr_sd_enabled());
    assert_true(nothing_pending(l));
    close(l);
}

static void test_sdnotify_bad_socket_names_refused(void **st)
{
    (void)st;
    char err[256], lng[200];
    setenv("NOTIFY_SOCKET", "run/systemd/notify", 1);
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_E_ARG);
    assert_non_null(strstr(err, "neither an absolute path nor an abstract socket"));
    assert_false(azr_sd_enabled());
    assert_int_equal(azr_sd_ready(NULL), AZR_OK); /* off: a no-op */
    memset(lng, 'a', sizeof lng - 1);
    lng[0] = '/';
    lng[sizeof lng - 1] = '\0';
    setenv("NOTIFY_SOCKET", lng, 1);
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_E_LIMIT);
    assert_false(azr_sd_enabled());
    setenv("NOTIFY_SOCKET", "@", 1);
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_E_LIMIT);
    /* the longest that fits: sun_path less the path's NUL */
    struct sockaddr_un a;
    char path[sizeof a.sun_path];
    int n = snprintf(path, sizeof path, "%s/", dir);
    memset(path + n, 's', sizeof path - 1 - (size_t)n);
    path[sizeof path - 1] = '\0';
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_OK);
    int l = listener(path);
    assert_int_equal(azr_sd_watchdog(), AZR_OK);
    assert_string_equal(receive(l, NULL), "WATCHDOG=1");
    close(l);
}

static void test_sdnotify_status_is_one_line(void **st)
{
    (void)st;
    char err[256], name[128], big[600];
    snprintf(name, sizeof name, "%s/notify", dir);
    int l = listener(name);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_OK);
    /* a newline in the text must not become a second assignment */
    assert_int_equal(azr_sd_status("evil\nREADY=1\r\t"), AZR_OK);
    assert_string_equal(receive(l, NULL), "STATUS=evil READY=1  ");
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(azr_sd_ready(big), AZR_OK);
    const char *m = receive(l, NULL);
    assert_int_equal(strlen(m), strlen("READY=1\nSTATUS=") + AZR_SD_STATUS_MAX);
    assert_int_equal(azr_sd_notify(""), AZR_E_ARG);
    close(l);
}

static void test_sdnotify_never_blocks_and_survives_a_new_socket(void **st)
{
    (void)st;
    char err[256], name[128];
    snprintf(name, sizeof name, "%s/notify", dir);
    int l = listener(name);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_OK);
    /* nobody reads: the queue fills, and a send then fails at once */
    alarm(10);
    azr_err e = AZR_OK;
    int sent = 0;
    while (e == AZR_OK && sent < 1000000) {
        e = azr_sd_watchdog();
        sent += e == AZR_OK;
    }
    alarm(0);
    assert_int_equal(e, AZR_E_IO);
    assert_true(sent > 0);
    /* systemd re-executed: the socket at the same path is a new one */
    close(l);
    unlink(name);
    assert_int_equal(azr_sd_watchdog(), AZR_E_IO); /* nobody there */
    l = listener(name);
    assert_int_equal(azr_sd_ready("again"), AZR_OK);
    assert_string_equal(receive(l, NULL), "READY=1\nSTATUS=again");
    close(l);
}

static void test_sdnotify_watchdog_interval(void **st)
{
    (void)st;
    static const struct {
        const char *usec;
        long ms;
    } v[] = {{"30000000", 15000}, {"1", 1},    {"1999", 1},      {"2000", 1},
             {"4000", 2},         {"0", 0},    {"abc", 0},       {"-5", 0},
             {" 5", 0},           {"5 ", 0},   {"", 0},          {"99999999999999999999999", 0},
             {"+4000", 0},        {"0x10", 0}, {"3000000", 1500}};
    char pid[32];
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    assert_int_equal(azr_sd_watchdog_interval_ms(), 0);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        setenv("WATCHDOG_USEC", v[i].usec, 1);
        if (azr_sd_watchdog_interval_ms() != v[i].ms)
            fail_msg("WATCHDOG_USEC=%s: %ld, not %ld", v[i].usec, azr_sd_watchdog_interval_ms(),
                     v[i].ms);
    }
    /* WATCHDOG_PID: ours, or the variables were inherited and are not for us */
    setenv("WATCHDOG_USEC", "30000000", 1);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(azr_sd_watchdog_interval_ms(), 15000);
    snprintf(pid, sizeof pid, "%d", (int)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(azr_sd_watchdog_interval_ms(), 0);
    setenv("WATCHDOG_PID", "x", 1);
    assert_int_equal(azr_sd_watchdog_interval_ms(), 0);
    setenv("WATCHDOG_PID", "", 1); /* empty: as unset */
    assert_int_equal(azr_sd_watchdog_interval_ms(), 15000);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

static void stream_env(int fd)
{
    struct stat s;
    char v[64];
    assert_int_equal(fstat(fd, &s), 0);
    snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)s.st_dev, (unsigned long long)s.st_ino);
    setenv("JOURNAL_STREAM", v, 1);
}

static void test_sdnotify_journal_stream_detected(void **st)
{
    (void)st;
    int p[2], q[2];
    char err[256];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(q), 0);
    assert_false(azr_sd_journal_fd(p[1])); /* unset */
    stream_env(p[1]);
    assert_true(azr_sd_journal_fd(p[1]));
    assert_false(azr_sd_journal_fd(q[1])); /* another stream */
    static const char *bad[] = {"", ":", "1:", ":1", "a:b", "1:2:3", "-1:5", "12"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("JOURNAL_STREAM", bad[i], 1);
        assert_false(azr_sd_journal_fd(p[1]));
    }
    /* stderr on the journal's stream: azr_sd_init notes it, the prefixes follow */
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(p[1], 2) == 2);
    stream_env(2);
    azr_err e = azr_sd_init(err, sizeof err);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(e, AZR_OK);
    assert_string_equal(azr_sd_log_prefix(AZR_SD_ERR), "<3>");
    assert_string_equal(azr_sd_log_prefix(AZR_SD_WARNING), "<4>");
    assert_string_equal(azr_sd_log_prefix(AZR_SD_INFO), "<6>");
    assert_string_equal(azr_sd_log_prefix(AZR_SD_DEBUG), "<7>");
    assert_string_equal(azr_sd_log_prefix(99), "<7>");
    assert_string_equal(azr_sd_log_prefix(-1), "<0>");
    /* stderr elsewhere (a terminal, a file, this test's log): no prefixes */
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_OK);
    assert_string_equal(azr_sd_log_prefix(AZR_SD_ERR), "");
    unsetenv("JOURNAL_STREAM");
    assert_int_equal(azr_sd_init(err, sizeof err), AZR_OK);
    assert_string_equal(azr_sd_log_prefix(AZR_SD_INFO), "");
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

static void test_sdnotify_priority_of_log_events(void **st)
{
    (void)st;
    assert_int_equal(azr_sd_priority(1, "Error", "relay refused: 401"), AZR_SD_ERR);
    assert_int_equal(azr_sd_priority(1, "Error", "warning: cannot look up 'x'"), AZR_SD_WARNING);
    assert_int_equal(azr_sd_priority(1, "Info", "listening on 127.0.0.1:5000"), AZR_SD_INFO);
    assert_int_equal(azr_sd_priority(2, "Verbose", "upgrade sent"), AZR_SD_DEBUG);
    assert_int_equal(azr_sd_priority(3, "Debug", "x"), AZR_SD_DEBUG);
    assert_int_equal(azr_sd_priority(1, NULL, NULL), AZR_SD_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sdnotify_path_socket_gets_the_messages_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sdnotify_abstract_socket_gets_the_messages_in_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sdnotify_without_notify_socket_is_a_noop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sdnotify_bad_socket_names_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sdnotify_status_is_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sdnotify_never_blocks_and_survives_a_new_socket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sdnotify_watchdog_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sdnotify_journal_stream_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sdnotify_priority_of_log_events, setup, teardown),
    };
    return cmocka_run_group_tests_name("sdnotify", tests, NULL, NULL);
}
