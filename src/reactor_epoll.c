/* epoll backend (Linux). */
#include "reactor_be.h"

#ifdef __linux__
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct st {
    int ep;
    struct epoll_event ev[256];
} st;

static azr_err init(void **out, size_t max_fds)
{
    (void)max_fds;
    st *s = calloc(1, sizeof *s);
    if (!s)
        return AZR_E_NOMEM;
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->ep < 0) {
        free(s);
        return AZR_E_IO;
    }
    *out = s;
    return AZR_OK;
}

static void fini(void *p)
{
    st *s = p;
    close(s->ep);
    free(s);
}

static azr_err set(void *p, int fd, unsigned old_mask, unsigned new_mask)
{
    st *s = p;
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.data.fd = fd;
    e.events = ((new_mask & AZR_READABLE) ? (uint32_t)EPOLLIN : 0u) |
               ((new_mask & AZR_WRITABLE) ? (uint32_t)EPOLLOUT : 0u);
    int op = old_mask == 0 ? EPOLL_CTL_ADD : new_mask == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(s->ep, op, fd, &e) != 0)
        return AZR_E_IO;
    return AZR_OK;
}

static int wait_fn(void *p, int timeout_ms, azr_fired *out, size_t cap)
{
    st *s = p;
    int max = (int)(cap < 256 ? cap : 256);
    int n = epoll_wait(s->ep, s->ev, max, timeout_ms);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        uint32_t ev = s->ev[i].events;
        unsigned m = 0;
        if (ev & EPOLLIN)
            m |= AZR_READABLE;
        if (ev & EPOLLOUT)
            m |= AZR_WRITABLE;
        if (ev & (EPOLLERR | EPOLLHUP)) /* errors go through the normal path */
            m |= AZR_READABLE | AZR_WRITABLE;
        out[i].fd = s->ev[i].data.fd;
        out[i].events = m;
    }
    return n;
}

static int fd_fn(const void *p)
{
    return ((const st *)p)->ep;
}

const azr_backend azr_backend_epoll = {"epoll", init, fini, set, wait_fn, fd_fn};
#else
typedef int azr_reactor_epoll_unused;
#endif
