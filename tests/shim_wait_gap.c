/*
 * An LD_PRELOAD shim for test_daemon (compiled by the test itself, not a
 * suite): each epoll_wait() or poll() that may block first sleeps
 * AZR_SHIM_GAP_MS milliseconds (default 300). A signal that arrives in that
 * gap falls exactly between the daemon's last look at its signals and its
 * wait, the window in which issue 10 (item 9) lost a SIGTERM: its handler
 * cuts the sleep short and the wait then blocks for good. A daemon that
 * takes its signals through a watched descriptor wakes anyway.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

static void gap(int timeout_ms)
{
    if (timeout_ms == 0)
        return;
    const char *e = getenv("AZR_SHIM_GAP_MS");
    long ms = e ? strtol(e, NULL, 10) : 300;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* EINTR: a handler ran; the wait comes next all the same */
}

int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout_ms)
{
    static int (*real)(int, struct epoll_event *, int, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "epoll_wait");
    gap(timeout_ms);
    return real(ep, ev, max, timeout_ms);
}

int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    static int (*real)(struct pollfd *, nfds_t, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "poll");
    gap(timeout_ms);
    return real(fds, n, timeout_ms);
}
