/* poll() backend: portable, O(registered descriptors) per wait. */
#include "reactor_be.h"

#include <errno.h>
#include <poll.h>

typedef struct st {
    struct pollfd *pfd; /* compact array of registered descriptors */
    size_t *index;      /* fd -> position in pfd + 1; 0 when absent */
    size_t n, max;
} st;

static azr_err init(void **out, size_t max_fds)
{
    st *s = calloc(1, sizeof *s);
    if (!s)
        return AZR_E_NOMEM;
    s->pfd = calloc(max_fds ? max_fds : 1, sizeof *s->pfd);
    s->index = calloc(max_fds ? max_fds : 1, sizeof *s->index);
    if (!s->pfd || !s->index) {
        free(s->pfd);
        free(s->index);
        free(s);
        return AZR_E_NOMEM;
    }
    s->max = max_fds;
    *out = s;
    return AZR_OK;
}

static void fini(void *p)
{
    st *s = p;
    free(s->pfd);
    free(s->index);
    free(s);
}

static azr_err set(void *p, int fd, unsigned old_mask, unsigned new_mask)
{
    st *s = p;
    size_t f = (size_t)fd;
    (void)old_mask;
    if (f >= s->max)
        return AZR_E_LIMIT;
    short ev = (short)(((new_mask & AZR_READABLE) ? POLLIN : 0) |
                       ((new_mask & AZR_WRITABLE) ? POLLOUT : 0));
    size_t at = s->index[f];
    if (new_mask == 0) {
        if (at) { /* swap the last entry into the hole */
            size_t last = s->n - 1;
            s->pfd[at - 1] = s->pfd[last];
            s->index[(size_t)s->pfd[at - 1].fd] = at;
            s->index[f] = 0;
            s->n--;
        }
        return AZR_OK;
    }
    if (!at) {
        s->pfd[s->n].fd = fd;
        s->pfd[s->n].revents = 0;
        s->index[f] = ++s->n;
        at = s->n;
    }
    s->pfd[at - 1].events = ev;
    return AZR_OK;
}

static int wait_fn(void *p, int timeout_ms, azr_fired *out, size_t cap)
{
    st *s = p;
    int n = poll(s->pfd, (nfds_t)s->n, timeout_ms);
    if (n < 0)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < s->n && k < cap && n > 0; i++) {
        short re = s->pfd[i].revents;
        if (!re)
            continue;
        n--;
        unsigned m = 0;
        if (re & POLLIN)
            m |= AZR_READABLE;
        if (re & POLLOUT)
            m |= AZR_WRITABLE;
        if (re & (POLLERR | POLLHUP | POLLNVAL))
            m |= AZR_READABLE | AZR_WRITABLE;
        out[k].fd = s->pfd[i].fd;
        out[k].events = m;
        k++;
    }
    return (int)k;
}

static int fd_fn(const void *p)
{
    (void)p;
    return -1;
}

const azr_backend azr_backend_poll = {"poll", init, fini, set, wait_fn, fd_fn};
