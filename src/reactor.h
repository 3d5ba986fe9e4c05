/*
 * The event loop: one thread, a fixed descriptor table, readiness from a
 * backend (epoll on Linux, kqueue on BSD/macOS, poll() anywhere), timers in
 * a binary heap, and a ready list of work that must run before the loop may
 * sleep (bytes buffered inside TLS are invisible to the kernel).
 *
 * Memory: everything is allocated by azr_reactor_new() (descriptor table,
 * timer heap, backend arrays); registering, arming and dispatching never
 * allocate. Timers and ready-list entries are embedded in their owner.
 *
 * A callback may change or remove any registration, including its own, and
 * may free its owner after removing it: the loop re-reads a descriptor's slot
 * before each callback and skips events for slots that changed since the
 * wait returned.
 */
#ifndef AZR_REACTOR_H
#define AZR_REACTOR_H

#include "err.h"

#define AZR_READABLE 1u
#define AZR_WRITABLE 2u

typedef struct azr_reactor azr_reactor;

/* fd is ready for the AZR_READABLE / AZR_WRITABLE bits in events. Errors and
 * hang-ups are reported as both, so the next read or write sees errno. */
typedef void (*azr_io_fn)(azr_reactor *r, int fd, unsigned events, void *ud);

typedef struct azr_timer azr_timer;
typedef void (*azr_timer_fn)(azr_reactor *r, azr_timer *t, void *ud);

/* A timer, embedded in its owner. Zero-initialise (or azr_timer_init) once. */
struct azr_timer {
    uint64_t when; /* monotonic ms */
    uint64_t seq;  /* arming order, breaks ties */
    size_t slot;   /* index in the heap + 1; 0 when not armed */
    azr_timer_fn fn;
    void *ud;
};

/* Work to run before the loop sleeps again, embedded in its owner. */
typedef struct azr_task azr_task;
typedef void (*azr_task_fn)(azr_reactor *r, azr_task *t, void *ud);
struct azr_task {
    azr_task *next;
    bool queued;
    azr_task_fn fn;
    void *ud;
};

typedef enum azr_backend_kind {
    AZR_BACKEND_DEFAULT = 0, /* epoll or kqueue where available, else poll */
    AZR_BACKEND_EPOLL,
    AZR_BACKEND_KQUEUE,
    AZR_BACKEND_POLL
} azr_backend_kind;

/*
 * Create a loop for descriptors 0..max_fds-1 and at most max_timers armed
 * timers. AZR_E_UNSUPPORTED when the backend is not built in this platform,
 * AZR_E_NOMEM, AZR_E_IO (errno kept) when the backend cannot start.
 */
AZR_MUST_CHECK azr_err azr_reactor_new(azr_reactor **out, size_t max_fds, size_t max_timers,
                                       azr_backend_kind kind);
void azr_reactor_free(azr_reactor *r);

/*
 * A loop for tests and fuzzers: readiness and time come from the caller and
 * no descriptor is touched, so a connection can run over fake transports on
 * a fake clock. ready(ud, fd, mask) returns the bits of mask fd is ready for
 * (level-triggered, asked once per turn for every registered fd); now(ud) is
 * the monotonic clock in ms. A turn never sleeps.
 */
typedef struct azr_reactor_sim {
    unsigned (*ready)(void *ud, int fd, unsigned mask);
    uint64_t (*now)(void *ud);
    void *ud;
} azr_reactor_sim;
AZR_MUST_CHECK azr_err azr_reactor_new_sim(azr_reactor **out, size_t max_fds, size_t max_timers,
                                           const azr_reactor_sim *sim);

/* "epoll", "kqueue" or "poll". */
const char *azr_reactor_backend(const azr_reactor *r);

/*
 * Set the interest of fd to mask (AZR_READABLE|AZR_WRITABLE, or 0 to keep
 * the slot but wait for nothing). A no-op when nothing changed. AZR_E_LIMIT
 * when fd >= max_fds (refused, never grown); AZR_E_IO from the backend.
 */
AZR_MUST_CHECK azr_err azr_reactor_set(azr_reactor *r, int fd, unsigned mask, azr_io_fn fn,
                                       void *ud);

/* Forget fd (call before close()). Pending events for it are dropped. */
void azr_reactor_del(azr_reactor *r, int fd);

/* Current interest of fd (0 when not registered). */
unsigned azr_reactor_mask(const azr_reactor *r, int fd);

/* The callback fd is registered with; NULL when fd is not registered. */
azr_io_fn azr_reactor_fn(const azr_reactor *r, int fd);

/* Arm t to fire after ms milliseconds (re-arming moves it). AZR_E_LIMIT when
 * max_timers are armed already. */
AZR_MUST_CHECK azr_err azr_timer_arm(azr_reactor *r, azr_timer *t, uint64_t ms, azr_timer_fn fn,
                                     void *ud);
void azr_timer_cancel(azr_reactor *r, azr_timer *t);
bool azr_timer_armed(const azr_timer *t);

/* Queue t to run in this turn, after I/O dispatch; the loop does not sleep
 * while tasks are queued. Queuing a queued task does nothing. */
void azr_task_queue(azr_reactor *r, azr_task *t, azr_task_fn fn, void *ud);
void azr_task_cancel(azr_reactor *r, azr_task *t);

/*
 * One turn: wait for readiness at most timeout_ms (-1: until something
 * happens; 0: do not block; shortened by the next timer and by queued tasks),
 * dispatch I/O, expired timers, then queued tasks. *dispatched (may be NULL)
 * counts the callbacks run. AZR_E_IO when the wait itself fails (EINTR is not
 * a failure).
 */
AZR_MUST_CHECK azr_err azr_reactor_turn(azr_reactor *r, int timeout_ms, size_t *dispatched);

/* Monotonic milliseconds, as read at the start of the current turn. */
uint64_t azr_reactor_now(const azr_reactor *r);
/* Read the clock again (for long callbacks). */
uint64_t azr_reactor_update_now(azr_reactor *r);

/* A descriptor that becomes readable when the loop has work (epoll/kqueue
 * descriptor), for applications that poll it in their own loop; -1 for poll. */
int azr_reactor_fd(const azr_reactor *r);

#endif
