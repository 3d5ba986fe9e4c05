/* kqueue backend (BSD, macOS). Built only there; Linux CI cannot run it. */
#include "reactor_be.h"

#ifdef AZR_HAVE_KQUEUE
#include <errno.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct st {
    int kq;
    struct kevent ev[256];
} st;

static azr_err init(void **out, size_t max_fds)
{
    (void)max_fds;
    st *s = calloc(1, sizeof *s);
    if (!s)
        return AZR_E_NOMEM;
    s->kq = kqueue();
    if (s->kq < 0) {
        free(s);
        return AZR_E_IO;
    }
    *out = s;
    return AZR_OK;
}

static void fini(void *p)
{
    st *s = p;
    close(s->kq);
    free(s);
}

static azr_err set(void *p, int fd, unsigned old_mask, unsigned new_mask)
{
    st *s = p;
    struct kevent ch[2];
    int n = 0;
    unsigned add = new_mask & ~old_mask, del = old_mask & ~new_mask;
    if (add & AZR_READABLE)
        EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_READ, EV_ADD, 0, 0, NULL);
    if (del & AZR_READABLE)
        EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
    if (add & AZR_WRITABLE)
        EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_WRITE, EV_ADD, 0, 0, NULL);
    if (del & AZR_WRITABLE)
        EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
    if (n && kevent(s->kq, ch, n, NULL, 0, NULL) < 0)
        return AZR_E_IO;
    return AZR_OK;
}

static int wait_fn(void *p, int timeout_ms, azr_fired *out, size_t cap)
{
    st *s = p;
    struct timespec ts, *tp = NULL;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
        tp = &ts;
    }
    int max = (int)(cap < 256 ? cap : 256);
    int n = kevent(s->kq, NULL, 0, s->ev, max, tp);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        unsigned m = s->ev[i].filter == EVFILT_READ ? AZR_READABLE : AZR_WRITABLE;
        if (s->ev[i].flags & (EV_EOF | EV_ERROR))
            m |= AZR_READABLE | AZR_WRITABLE;
        out[i].fd = (int)s->ev[i].ident;
        out[i].events = m;
    }
    return n;
}

static int fd_fn(const void *p)
{
    return ((const st *)p)->kq;
}

const azr_backend azr_backend_kqueue = {"kqueue", init, fini, set, wait_fn, fd_fn};
#else
typedef int azr_reactor_kqueue_unused;
#endif
