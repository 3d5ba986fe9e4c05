/*
 * IMPLEMENTATION NOTES
 * Descriptor table: one slot per fd below max_fds (refused above, never
 * grown, as Redis's ae does). A slot records the interest, the callback and
 * the turn in which it was registered; events a wait returned are dropped
 * when the slot was removed, or registered again, after that wait, so a
 * callback that closes a descriptor (and perhaps gets the same number back
 * from accept) never receives another owner's stale event.
 *
 * Timers: a binary min-heap ordered by (when, seq) holding pointers to
 * timers embedded in their owners; each timer knows its heap slot, so
 * re-arming and cancelling are O(log n) and a turn costs O(expired log n),
 * whatever the number of connections. Timers armed while timers fire wait
 * for the next turn, so a timer re-arming itself at 0 ms cannot spin.
 *
 * Tasks: an intrusive FIFO; while it is non-empty the wait does not block.
 * A turn runs as many tasks as were queued when it reached them, so a task
 * that queues itself again runs once per turn, never in a loop.
 */
#include "reactor.h"
#include "reactor_be.h"

#include <errno.h>
#include <time.h>

typedef struct slot {
    unsigned mask;
    bool used;
    uint64_t born; /* turn of the last registration */
    azr_io_fn fn;
    void *ud;
} slot;

struct azr_reactor {
    const azr_backend *be;
    void *be_st;
    slot *slots;
    size_t max_fds;
    azr_timer **heap;
    size_t nheap, max_timers;
    uint64_t seq;
    azr_task *head, *tail;
    size_t ntasks;
    azr_fired fired[256];
    uint64_t now;
    uint64_t turn;
    azr_reactor_sim sim; /* azr_reactor_new_sim(): readiness and clock */
};

static uint64_t os_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t clock_ms_of(const azr_reactor *r)
{
    return r->sim.now ? r->sim.now(r->sim.ud) : os_clock_ms();
}

/* The simulated loop's backend: the turn asks sim.ready() instead. */
static azr_err sim_init(void **st, size_t max_fds)
{
    (void)max_fds;
    *st = NULL;
    return AZR_OK;
}
static void sim_free(void *st)
{
    (void)st;
}
static azr_err sim_set(void *st, int fd, unsigned old_mask, unsigned new_mask)
{
    (void)st, (void)fd, (void)old_mask, (void)new_mask;
    return AZR_OK;
}
static int sim_wait(void *st, int timeout_ms, azr_fired *out, size_t cap)
{
    (void)st, (void)timeout_ms, (void)out, (void)cap;
    return 0;
}
static int sim_fd(const void *st)
{
    (void)st;
    return -1;
}
static const azr_backend sim_backend = {"sim", sim_init, sim_free, sim_set, sim_wait, sim_fd};

static azr_err create(azr_reactor **out, size_t max_fds, size_t max_timers, const azr_backend *be,
                      const azr_reactor_sim *sim);

azr_err azr_reactor_new_sim(azr_reactor **out, size_t max_fds, size_t max_timers,
                            const azr_reactor_sim *sim)
{
    *out = NULL;
    if (!sim || !sim->ready || !sim->now)
        return AZR_E_ARG;
    return create(out, max_fds, max_timers, &sim_backend, sim);
}

azr_err azr_reactor_new(azr_reactor **out, size_t max_fds, size_t max_timers, azr_backend_kind kind)
{
    const azr_backend *be = NULL;
    *out = NULL;
    switch (kind) {
    case AZR_BACKEND_DEFAULT:
#if defined(__linux__)
        be = &azr_backend_epoll;
#elif defined(AZR_HAVE_KQUEUE)
        be = &azr_backend_kqueue;
#else
        be = &azr_backend_poll;
#endif
        break;
    case AZR_BACKEND_EPOLL:
#ifdef __linux__
        be = &azr_backend_epoll;
#endif
        break;
    case AZR_BACKEND_KQUEUE:
#ifdef AZR_HAVE_KQUEUE
        be = &azr_backend_kqueue;
#endif
        break;
    case AZR_BACKEND_POLL:
        be = &azr_backend_poll;
        break;
    default:
        return AZR_E_ARG;
    }
    if (!be)
        return AZR_E_UNSUPPORTED;
    return create(out, max_fds, max_timers, be, NULL);
}

static azr_err create(azr_reactor **out, size_t max_fds, size_t max_timers, const azr_backend *be,
                      const azr_reactor_sim *sim)
{
    if (max_fds == 0 || max_fds > (size_t)INT_MAX)
        return AZR_E_ARG;
    azr_reactor *r = calloc(1, sizeof *r);
    if (!r)
        return AZR_E_NOMEM;
    r->slots = calloc(max_fds, sizeof *r->slots);
    r->heap = calloc(max_timers ? max_timers : 1, sizeof *r->heap);
    if (!r->slots || !r->heap) {
        free(r->slots);
        free(r->heap);
        free(r);
        return AZR_E_NOMEM;
    }
    r->be = be;
    if (sim)
        r->sim = *sim;
    r->max_fds = max_fds;
    r->max_timers = max_timers;
    azr_err e = be->init(&r->be_st, max_fds);
    if (e != AZR_OK) {
        free(r->slots);
        free(r->heap);
        free(r);
        return e;
    }
    r->now = clock_ms_of(r);
    *out = r;
    return AZR_OK;
}

void azr_reactor_free(azr_reactor *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nheap; i++)
        r->heap[i]->slot = 0;
    r->be->free(r->be_st);
    free(r->slots);
    free(r->heap);
    free(r);
}

const char *azr_reactor_backend(const azr_reactor *r)
{
    return r->be->name;
}

azr_err azr_reactor_set(azr_reactor *r, int fd, unsigned mask, azr_io_fn fn, void *ud)
{
    if (fd < 0 || (size_t)fd >= r->max_fds)
        return AZR_E_LIMIT;
    slot *s = &r->slots[fd];
    mask &= AZR_READABLE | AZR_WRITABLE;
    if (!s->used) {
        s->used = true;
        s->mask = 0;
        s->born = r->turn;
    }
    s->fn = fn;
    s->ud = ud;
    if (s->mask == mask)
        return AZR_OK;
    azr_err e = r->be->set(r->be_st, fd, s->mask, mask);
    if (e != AZR_OK)
        return e;
    s->mask = mask;
    return AZR_OK;
}

void azr_reactor_del(azr_reactor *r, int fd)
{
    if (fd < 0 || (size_t)fd >= r->max_fds || !r->slots[fd].used)
        return;
    slot *s = &r->slots[fd];
    if (s->mask)
        (void)r->be->set(r->be_st, fd, s->mask, 0); /* fails only if fd is already closed */
    memset(s, 0, sizeof *s);
}

unsigned azr_reactor_mask(const azr_reactor *r, int fd)
{
    if (fd < 0 || (size_t)fd >= r->max_fds)
        return 0;
    return r->slots[fd].mask;
}

azr_io_fn azr_reactor_fn(const azr_reactor *r, int fd)
{
    if (fd < 0 || (size_t)fd >= r->max_fds || !r->slots[fd].used)
        return NULL;
    return r->slots[fd].fn;
}

/* ------------------------------------------------------------------ timers */

static bool before(const azr_timer *a, const azr_timer *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(azr_reactor *r, size_t i, azr_timer *t)
{
    r->heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(azr_reactor *r, size_t i)
{
    azr_timer *t = r->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(t, r->heap[parent]))
            break;
        place(r, i, r->heap[parent]);
        i = parent;
    }
    place(r, i, t);
}

static void sift_down(azr_reactor *r, size_t i)
{
    azr_timer *t = r->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->nheap)
            break;
        if (c + 1 < r->nheap && before(r->heap[c + 1], r->heap[c]))
            c++;
        if (!before(r->heap[c], t))
            break;
        place(r, i, r->heap[c]);
        i = c;
    }
    place(r, i, t);
}

static void heap_remove(azr_reactor *r, azr_timer *t)
{
    size_t i = t->slot - 1;
    t->slot = 0;
    r->nheap--;
    if (i == r->nheap)
        return;
    azr_timer *last = r->heap[r->nheap];
    place(r, i, last);
    if (i > 0 && before(last, r->heap[(i - 1) / 2]))
        sift_up(r, i);
    else
        sift_down(r, i);
}

azr_err azr_timer_arm(azr_reactor *r, azr_timer *t, uint64_t ms, azr_timer_fn fn, void *ud)
{
    if (t->slot)
        heap_remove(r, t);
    else if (r->nheap == r->max_timers)
        return AZR_E_LIMIT;
    t->when = r->now + ms;
    t->seq = r->seq++;
    t->fn = fn;
    t->ud = ud;
    r->heap[r->nheap] = t;
    t->slot = ++r->nheap;
    sift_up(r, r->nheap - 1);
    return AZR_OK;
}

void azr_timer_cancel(azr_reactor *r, azr_timer *t)
{
    if (t->slot)
        heap_remove(r, t);
}

bool azr_timer_armed(const azr_timer *t)
{
    return t->slot != 0;
}

/* ------------------------------------------------------------------- tasks */

void azr_task_queue(azr_reactor *r, azr_task *t, azr_task_fn fn, void *ud)
{
    t->fn = fn;
    t->ud = ud;
    if (t->queued)
        return;
    t->queued = true;
    t->next = NULL;
    r->ntasks++;
    if (r->tail)
        r->tail->next = t;
    else
        r->head = t;
    r->tail = t;
}

void azr_task_cancel(azr_reactor *r, azr_task *t)
{
    if (!t->queued)
        return;
    azr_task **pp = &r->head, *prev = NULL;
    while (*pp && *pp != t) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = t->next;
        if (r->tail == t)
            r->tail = prev;
        r->ntasks--;
    }
    t->queued = false;
    t->next = NULL;
}

/* -------------------------------------------------------------------- turn */

uint64_t azr_reactor_now(const azr_reactor *r)
{
    return r->now;
}

uint64_t azr_reactor_update_now(azr_reactor *r)
{
    r->now = clock_ms_of(r);
    return r->now;
}

int azr_reactor_fd(const azr_reactor *r)
{
    return r->be->fd(r->be_st);
}

/* The simulated wait: every registered fd the caller says is ready. */
static int sim_poll(azr_reactor *r)
{
    int n = 0;
    size_t cap = sizeof r->fired / sizeof r->fired[0];
    for (size_t fd = 0; fd < r->max_fds && (size_t)n < cap; fd++) {
        const slot *s = &r->slots[fd];
        unsigned ev = s->used && s->mask ? r->sim.ready(r->sim.ud, (int)fd, s->mask) & s->mask : 0u;
        if (ev) {
            r->fired[n].fd = (int)fd;
            r->fired[n].events = ev;
            n++;
        }
    }
    return n;
}

azr_err azr_reactor_turn(azr_reactor *r, int timeout_ms, size_t *dispatched)
{
    size_t count = 0;
    r->now = clock_ms_of(r);
    if (r->head) {
        timeout_ms = 0;
    } else if (r->nheap) {
        uint64_t due = r->heap[0]->when;
        uint64_t wait = due > r->now ? due - r->now : 0;
        if (wait > (uint64_t)INT_MAX)
            wait = (uint64_t)INT_MAX;
        if (timeout_ms < 0 || (uint64_t)timeout_ms > wait)
            timeout_ms = (int)wait;
    }
    int n = r->sim.ready
                ? sim_poll(r)
                : r->be->wait(r->be_st, timeout_ms, r->fired, sizeof r->fired / sizeof r->fired[0]);
    if (n < 0 && errno != EINTR) {
        if (dispatched)
            *dispatched = 0;
        return AZR_E_IO;
    }
    uint64_t waited = r->turn++;
    r->now = clock_ms_of(r);
    for (int i = 0; i < n; i++) {
        int fd = r->fired[i].fd;
        if (fd < 0 || (size_t)fd >= r->max_fds)
            continue;
        slot *s = &r->slots[fd];
        /* dropped or registered again since the wait returned: stale */
        if (!s->used || s->born > waited)
            continue;
        unsigned ev = r->fired[i].events & s->mask;
        if (!ev || !s->fn)
            continue;
        s->fn(r, fd, ev, s->ud);
        count++;
    }
    /* timers due now; those armed from here on wait for the next turn */
    uint64_t seq_limit = r->seq;
    while (r->nheap && r->heap[0]->when <= r->now && r->heap[0]->seq < seq_limit) {
        azr_timer *t = r->heap[0];
        heap_remove(r, t);
        t->fn(r, t, t->ud);
        count++;
    }
    /* tasks queued until now; those queued by them run next turn */
    for (size_t pending = r->ntasks; pending > 0 && r->head; pending--) {
        azr_task *t = r->head;
        r->head = t->next;
        if (!r->head)
            r->tail = NULL;
        r->ntasks--;
        t->queued = false;
        t->next = NULL;
        t->fn(r, t, t->ud);
        count++;
    }
    if (dispatched)
        *dispatched = count;
    return AZR_OK;
}
