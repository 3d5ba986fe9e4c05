/*
 * The reactor's backend interface: one small vtable per readiness API.
 * Backends know descriptors and bits only; slots, callbacks, timers and the
 * ready list live in reactor.c.
 */
#ifndef AZR_REACTOR_BE_H
#define AZR_REACTOR_BE_H

#include "reactor.h"

typedef struct azr_fired {
    int fd;
    unsigned events; /* AZR_READABLE | AZR_WRITABLE */
} azr_fired;

typedef struct azr_backend {
    const char *name;
    /* allocate state for descriptors below max_fds; AZR_E_NOMEM / AZR_E_IO */
    azr_err (*init)(void **st, size_t max_fds);
    void (*free)(void *st);
    /* move fd from interest old to interest new (either may be 0) */
    azr_err (*set)(void *st, int fd, unsigned old_mask, unsigned new_mask);
    /* wait; returns the number of entries written to out, or -1 with errno */
    int (*wait)(void *st, int timeout_ms, azr_fired *out, size_t cap);
    /* descriptor an application may poll, or -1 */
    int (*fd)(const void *st);
} azr_backend;

extern const azr_backend azr_backend_poll;
#ifdef __linux__
extern const azr_backend azr_backend_epoll;
#endif
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#define AZR_HAVE_KQUEUE 1
extern const azr_backend azr_backend_kqueue;
#endif

#endif
