/*
 * azr_proxy_watch_fd / azr_proxy_unwatch_fd (src/watch.c) through the public
 * API: an application descriptor wakes DoEvents and loop runs on both
 * readiness backends, a signal held in a signalfd is not lost, and the
 * proxy's own descriptors, bad numbers and a missing loop are refused;
 * azr_loop_watch_fd: the loop's own watch, outliving its proxies.
 */
#include "testutil.h"
#include "azrelay.h"
#include "peers.h"
#include <errno.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

static azr_proxy *listening_proxy(const char *event_loop)
{
    azr_proxy *px = azr_proxy_new(NULL, NULL);
    assert_non_null(px);
    const char *set[] = {"NamespaceAddress=ws://127.0.0.1:9", "HybridConnection=hc1",
                         "LocalHost=127.0.0.1", "LocalPort=0", event_loop};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        assert_int_equal(azr_proxy_config(px, set[i], NULL, 0), 0);
    assert_int_equal(azr_proxy_start_listening(px), 0);
    return px;
}

/* Milliseconds one azr_proxy_do_events(px, limit) takes. */
static uint64_t turn_ms(azr_proxy *px, int limit)
{
    uint64_t t0 = ms();
    assert_int_equal(azr_proxy_do_events(px, limit), 0);
    return ms() - t0;
}

/* A child writes one byte into fd after delay_ms, then exits. */
static pid_t write_later(int fd, int delay_ms)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        usleep((useconds_t)delay_ms * 1000u);
        _exit(write(fd, "x", 1) == 1 ? 0 : 1);
    }
    return pid;
}

static void test_watch_needs_the_loop(void **st)
{
    (void)st;
    azr_proxy *px = azr_proxy_new(NULL, NULL);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(azr_proxy_watch_fd(px, p[0]), AZR_ERR_STATE);
    assert_non_null(strstr(azr_proxy_last_error(px), "after StartListening"));
    assert_int_equal(azr_proxy_unwatch_fd(px, p[0]), 0);
    azr_proxy_free(px);
    close(p[0]);
    close(p[1]);
}

/* A readable watched descriptor ends the turn; unwatched, it does not. */
static void test_watch_wakes_do_events(void **st)
{
    (void)st;
    const char *loops[] = {"EventLoop=0", "EventLoop=3"};
    for (size_t b = 0; b < 2; b++) {
        azr_proxy *px = listening_proxy(loops[b]);
        int p[2];
        assert_int_equal(pipe(p), 0);
        assert_int_equal(azr_proxy_watch_fd(px, p[0]), 0);
        assert_int_equal(azr_proxy_watch_fd(px, p[0]), 0); /* again: no-op */
        /* written while the loop sleeps (no timeout): the wait returns */
        pid_t child = write_later(p[1], 100);
        uint64_t took = turn_ms(px, -1);
        assert_true(took < 3000);
        assert_int_equal(waitpid(child, NULL, 0), child);
        /* left unread, it keeps waking every turn */
        assert_true(turn_ms(px, 2000) < 1000);
        /* unwatched, the loop sleeps its full time although the pipe is readable */
        assert_int_equal(azr_proxy_unwatch_fd(px, p[0]), 0);
        assert_true(turn_ms(px, 200) >= 150);
        assert_int_equal(azr_proxy_unwatch_fd(px, p[0]), 0); /* not watched: fine */
        azr_proxy_free(px);
        close(p[0]);
        close(p[1]);
    }
}

/* The daemon's use: a signal blocked and held in a signalfd, raised before
 * the wait (after the application's last look), wakes the wait. */
static void test_watch_signalfd_holds_a_signal_for_the_wait(void **st)
{
    (void)st;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    assert_int_equal(sigprocmask(SIG_BLOCK, &set, &old), 0);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    assert_true(sfd >= 0);
    const char *loops[] = {"EventLoop=0", "EventLoop=3"};
    for (size_t b = 0; b < 2; b++) {
        azr_proxy *px = listening_proxy(loops[b]);
        assert_int_equal(azr_proxy_watch_fd(px, sfd), 0);
        assert_int_equal(raise(SIGUSR2), 0);
        assert_true(turn_ms(px, -1) < 3000);
        struct signalfd_siginfo si;
        assert_int_equal(read(sfd, &si, sizeof si), (ssize_t)sizeof si);
        assert_int_equal(si.ssi_signo, SIGUSR2);
        assert_true(turn_ms(px, 100) >= 50); /* read: nothing wakes it any more */
        assert_int_equal(azr_proxy_unwatch_fd(px, sfd), 0);
        azr_proxy_free(px);
    }
    close(sfd);
    assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

static void test_watch_refuses_bad_descriptors(void **st)
{
    (void)st;
    azr_proxy *px = listening_proxy("EventLoop=1");
    assert_int_equal(azr_proxy_watch_fd(px, -1), AZR_ERR_SETTING);
    assert_int_equal(azr_proxy_watch_fd(px, 1 << 24), AZR_ERR_SETTING);
    assert_non_null(strstr(azr_proxy_last_error(px), "beyond"));
    /* the loop's own descriptor */
    assert_int_equal(azr_proxy_watch_fd(px, azr_proxy_fd(px)), AZR_ERR_STATE);
    assert_non_null(strstr(azr_proxy_last_error(px), "belongs to the proxy"));
    /* epoll cannot wait for a regular file */
    char path[] = "/tmp/azrelay-watch-XXXXXX";
    int f = mkstemp(path);
    assert_true(f >= 0);
    unlink(path);
    assert_int_equal(azr_proxy_watch_fd(px, f), AZR_ERR_IO);
    assert_non_null(strstr(azr_proxy_last_error(px), "cannot watch descriptor"));
    close(f);
    azr_proxy_free(px);
}

/* The listening socket is the proxy's: the one socket that appears with it. */
static void test_watch_refuses_the_listening_socket(void **st)
{
    (void)st;
    bool was_socket[64];
    struct stat sb;
    for (int fd = 0; fd < 64; fd++)
        was_socket[fd] = fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
    azr_proxy *px = listening_proxy("EventLoop=0");
    int refused = 0;
    for (int fd = 0; fd < 64; fd++) {
        if (was_socket[fd] || fstat(fd, &sb) != 0 || !S_ISSOCK(sb.st_mode))
            continue;
        assert_int_equal(azr_proxy_watch_fd(px, fd), AZR_ERR_STATE);
        refused++;
    }
    assert_int_equal(refused, 1);
    azr_proxy_free(px);
}

/* On a shared loop a proxy can watch before it listens; azr_loop_run wakes. */
static void test_watch_on_a_shared_loop(void **st)
{
    (void)st;
    azr_loop *l = azr_loop_new(0);
    assert_non_null(l);
    azr_proxy *px = azr_proxy_new_on(l, NULL, NULL);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(azr_proxy_watch_fd(px, p[0]), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    uint64_t t0 = ms();
    assert_int_equal(azr_loop_run(l, 3000), 0);
    assert_true(ms() - t0 < 1000);
    assert_int_equal(azr_proxy_unwatch_fd(px, p[0]), 0);
    t0 = ms();
    assert_int_equal(azr_loop_run(l, 200), 0);
    assert_true(ms() - t0 >= 150);
    azr_proxy_free(px);
    assert_int_equal(azr_loop_free(l), 0);
    close(p[0]);
    close(p[1]);
}

/* azr_loop_watch_fd: the loop's own watch, with no proxy at all, and still
 * there after a proxy came and went (a daemon's reload). */
static void test_watch_on_the_loop_outlives_its_proxies(void **st)
{
    (void)st;
    const int loops[] = {0, 3};
    for (size_t b = 0; b < 2; b++) {
        azr_loop *l = azr_loop_new(loops[b]);
        assert_non_null(l);
        int p[2];
        assert_int_equal(pipe(p), 0);
        assert_int_equal(azr_loop_watch_fd(l, p[0]), 0);
        assert_int_equal(azr_loop_watch_fd(l, p[0]), 0); /* again: no-op */
        assert_int_equal(azr_loop_watch_fd(l, -1), AZR_ERR_SETTING);
        assert_int_equal(azr_loop_watch_fd(NULL, p[0]), AZR_ERR_STATE);
        /* a proxy joins the loop, listens, and is freed */
        azr_proxy *px = azr_proxy_new_on(l, NULL, NULL);
        const char *set[] = {"NamespaceAddress=ws://127.0.0.1:9", "HybridConnection=hc1",
                             "LocalHost=127.0.0.1", "LocalPort=0"};
        for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
            assert_int_equal(azr_proxy_config(px, set[i], NULL, 0), 0);
        assert_int_equal(azr_proxy_start_listening(px), 0);
        azr_proxy_free(px);
        /* a turn the watch did not wake says so (the daemon then reads
         * nothing: no system call for its signals and control sockets) */
        (void)azr_loop_watched_ready(l);
        assert_int_equal(azr_loop_run(l, 0), 0);
        assert_int_equal(azr_loop_watched_ready(l), 0);
        /* the watch is the loop's: it still wakes the wait, and says so once */
        pid_t child = write_later(p[1], 100);
        uint64_t t0 = ms();
        assert_int_equal(azr_loop_run(l, 3000), 0);
        assert_true(ms() - t0 < 2000);
        assert_int_equal(waitpid(child, NULL, 0), child);
        assert_int_equal(azr_loop_watched_ready(l), 1);
        assert_int_equal(azr_loop_watched_ready(l), 0); /* cleared by the asking */
        assert_int_equal(azr_loop_watched_ready(NULL), 0);
        assert_int_equal(azr_loop_unwatch_fd(l, p[0]), 0);
        t0 = ms();
        assert_int_equal(azr_loop_run(l, 200), 0);
        assert_true(ms() - t0 >= 150);
        assert_int_equal(azr_loop_unwatch_fd(l, p[0]), 0); /* not watched: fine */
        assert_int_equal(azr_loop_free(l), 0);
        close(p[0]);
        close(p[1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_needs_the_loop),
        cmocka_unit_test(test_watch_wakes_do_events),
        cmocka_unit_test(test_watch_signalfd_holds_a_signal_for_the_wait),
        cmocka_unit_test(test_watch_refuses_bad_descriptors),
        cmocka_unit_test(test_watch_refuses_the_listening_socket),
        cmocka_unit_test(test_watch_on_a_shared_loop),
        cmocka_unit_test(test_watch_on_the_loop_outlives_its_proxies),
    };
    return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
