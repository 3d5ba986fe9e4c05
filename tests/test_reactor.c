/*
 * The event loop, run once per backend (epoll and poll on Linux) over real
 * socketpairs: readiness, interest changes, stale events after a callback
 * closes or replaces descriptors, the fd ceiling, timer order and
 * cancellation against a reference, tasks that keep the loop awake.
 */
#include "testutil.h"
#include "reactor.h"
#include <poll.h>
#include <sys/socket.h>

static azr_backend_kind kinds[] = {AZR_BACKEND_EPOLL, AZR_BACKEND_POLL};

typedef struct rec {
    int calls;
    unsigned last;
    int fd;
} rec;

static void on_io(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)r;
    rec *x = ud;
    x->calls++;
    x->last = ev;
    x->fd = fd;
}

static azr_reactor *mk(azr_backend_kind k)
{
    azr_reactor *r;
    assert_int_equal(azr_reactor_new(&r, 1024, 64, k), AZR_OK);
    return r;
}

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static void test_reactor_readable_and_writable(void **s)
{
    (void)s;
    for (size_t k = 0; k < 2; k++) {
        azr_reactor *r = mk(kinds[k]);
        int sv[2];
        rec a = {0};
        size_t n;
        pair(sv);
        assert_int_equal(azr_reactor_set(r, sv[0], AZR_READABLE, on_io, &a), AZR_OK);
        assert_int_equal(azr_reactor_turn(r, 0, &n), AZR_OK);
        assert_int_equal(n, 0); /* nothing to read yet */
        assert_int_equal(write(sv[1], "x", 1), 1);
        assert_int_equal(azr_reactor_turn(r, 1000, &n), AZR_OK);
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.last, AZR_READABLE);
        /* writable interest: a fresh socket can take bytes at once */
        assert_int_equal(azr_reactor_set(r, sv[0], AZR_READABLE | AZR_WRITABLE, on_io, &a), AZR_OK);
        assert_int_equal(azr_reactor_mask(r, sv[0]), AZR_READABLE | AZR_WRITABLE);
        assert_int_equal(azr_reactor_turn(r, 1000, &n), AZR_OK);
        assert_int_equal(a.last, AZR_READABLE | AZR_WRITABLE);
        /* mask 0 keeps the slot but reports nothing; the same mask twice is a no-op */
        assert_int_equal(azr_reactor_set(r, sv[0], 0, on_io, &a), AZR_OK);
        assert_int_equal(azr_reactor_set(r, sv[0], 0, on_io, &a), AZR_OK);
        a.calls = 0;
        assert_int_equal(azr_reactor_turn(r, 0, &n), AZR_OK);
        assert_int_equal(a.calls, 0);
        /* back again after mask 0 */
        assert_int_equal(azr_reactor_set(r, sv[0], AZR_READABLE, on_io, &a), AZR_OK);
        assert_int_equal(azr_reactor_turn(r, 1000, &n), AZR_OK);
        assert_int_equal(a.calls, 1);
        azr_reactor_del(r, sv[0]);
        close(sv[0]);
        close(sv[1]);
        azr_reactor_free(r);
    }
}

static void test_reactor_hangup_is_reported(void **s)
{
    (void)s;
    for (size_t k = 0; k < 2; k++) {
        azr_reactor *r = mk(kinds[k]);
        int sv[2];
        rec a = {0};
        pair(sv);
        assert_int_equal(azr_reactor_set(r, sv[0], AZR_READABLE, on_io, &a), AZR_OK);
        close(sv[1]);
        assert_int_equal(azr_reactor_turn(r, 1000, NULL), AZR_OK);
        assert_int_equal(a.calls, 1);
        assert_true(a.last & AZR_READABLE);
        char b;
        assert_int_equal(read(sv[0], &b, 1), 0); /* EOF comes through the normal path */
        azr_reactor_del(r, sv[0]);
        close(sv[0]);
        azr_reactor_free(r);
    }
}

static void test_reactor_fd_ceiling(void **s)
{
    (void)s;
    azr_reactor *r;
    rec a = {0};
    assert_int_equal(azr_reactor_new(&r, 8, 1, AZR_BACKEND_POLL), AZR_OK);
    assert_int_equal(azr_reactor_set(r, 8, AZR_READABLE, on_io, &a), AZR_E_LIMIT);
    assert_int_equal(azr_reactor_set(r, -1, AZR_READABLE, on_io, &a), AZR_E_LIMIT);
    azr_reactor_free(r);
    assert_int_equal(azr_reactor_new(&r, 0, 1, AZR_BACKEND_POLL), AZR_E_ARG);
    assert_int_equal(azr_reactor_new(&r, 8, 1, AZR_BACKEND_KQUEUE), AZR_E_UNSUPPORTED);
}

/* azr_reactor_fn names a descriptor's owner: registered with mask 0 too,
 * gone after del, NULL out of range. */
static void test_reactor_fn_names_the_callback(void **s)
{
    (void)s;
    azr_reactor *r;
    rec a = {0};
    assert_int_equal(azr_reactor_new(&r, 8, 1, AZR_BACKEND_POLL), AZR_OK);
    assert_null(azr_reactor_fn(r, 3));
    assert_int_equal(azr_reactor_set(r, 3, 0, on_io, &a), AZR_OK);
    assert_true(azr_reactor_fn(r, 3) == on_io);
    assert_int_equal(azr_reactor_mask(r, 3), 0);
    azr_reactor_del(r, 3);
    assert_null(azr_reactor_fn(r, 3));
    assert_null(azr_reactor_fn(r, -1));
    assert_null(azr_reactor_fn(r, 8));
    azr_reactor_free(r);
}

/* A callback that drops another descriptor, and one that closes its own and
 * registers a new socket that may get the same number. */
typedef struct killer {
    azr_reactor *r;
    int victim;
    rec *victim_rec;
    int calls;
} killer;

static void on_kill(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)fd;
    (void)ev;
    killer *k = ud;
    k->calls++;
    azr_reactor_del(r, k->victim);
}

static void test_reactor_callback_removes_other(void **s)
{
    (void)s;
    for (size_t k = 0; k < 2; k++) {
        azr_reactor *r = mk(kinds[k]);
        int a[2], b[2];
        rec ra = {0}, rb = {0};
        pair(a);
        pair(b);
        killer ka = {r, b[0], &rb, 0}, kb = {r, a[0], &ra, 0};
        /* both readable; whichever runs first removes the other */
        assert_int_equal(azr_reactor_set(r, a[0], AZR_READABLE, on_kill, &ka), AZR_OK);
        assert_int_equal(azr_reactor_set(r, b[0], AZR_READABLE, on_kill, &kb), AZR_OK);
        assert_int_equal(write(a[1], "x", 1), 1);
        assert_int_equal(write(b[1], "x", 1), 1);
        usleep(10000);
        assert_int_equal(azr_reactor_turn(r, 1000, NULL), AZR_OK);
        assert_int_equal(ka.calls + kb.calls, 1);
        close(a[0]);
        close(a[1]);
        close(b[0]);
        close(b[1]);
        azr_reactor_free(r);
    }
}

typedef struct replacer {
    azr_reactor *r;
    int other; /* the second descriptor with a pending event */
    int newfd, newpeer;
    rec *fresh;
    int calls;
} replacer;

static void on_replace(azr_reactor *r, int fd, unsigned ev, void *ud)
{
    (void)ev;
    replacer *x = ud;
    x->calls++;
    /* close the other descriptor and register a new socket: the lowest free
     * number is reused, so the new socket likely has the old number */
    azr_reactor_del(r, x->other);
    close(x->other);
    int sv[2];
    pair(sv);
    x->newfd = sv[0];
    x->newpeer = sv[1];
    assert_int_equal(write(sv[1], "y", 1), 1);
    assert_int_equal(azr_reactor_set(r, sv[0], AZR_READABLE, on_io, x->fresh), AZR_OK);
    azr_reactor_del(r, fd);
}

static void test_reactor_no_stale_event_for_reused_fd(void **s)
{
    (void)s;
    for (size_t k = 0; k < 2; k++) {
        azr_reactor *r = mk(kinds[k]);
        int a[2], b[2];
        rec fresh = {0};
        pair(a);
        pair(b);
        replacer xa = {r, b[0], -1, -1, &fresh, 0}, xb = {r, a[0], -1, -1, &fresh, 0};
        assert_int_equal(azr_reactor_set(r, a[0], AZR_READABLE, on_replace, &xa), AZR_OK);
        assert_int_equal(azr_reactor_set(r, b[0], AZR_READABLE, on_replace, &xb), AZR_OK);
        assert_int_equal(write(a[1], "x", 1), 1);
        assert_int_equal(write(b[1], "x", 1), 1);
        usleep(10000);
        assert_int_equal(azr_reactor_turn(r, 1000, NULL), AZR_OK);
        /* one callback ran; the new socket was not handed the old event */
        assert_int_equal(xa.calls + xb.calls, 1);
        assert_int_equal(fresh.calls, 0);
        /* next turn the new socket's own data is reported */
        assert_int_equal(azr_reactor_turn(r, 1000, NULL), AZR_OK);
        assert_int_equal(fresh.calls, 1);
        replacer *x = xa.calls ? &xa : &xb;
        azr_reactor_del(r, x->newfd);
        close(x->newfd);
        close(x->newpeer);
        close(xa.calls ? a[0] : b[0]);
        close(a[1]);
        close(b[1]);
        azr_reactor_free(r);
    }
}

/* ------------------------------------------------------------------ timers */

typedef struct tlog {
    int order[2000];
    int n;
    azr_reactor *r;
    uint64_t fired_at[2000];
} tlog;

typedef struct tt {
    azr_timer t;
    int id;
    tlog *log;
} tt;

static void on_timer(azr_reactor *r, azr_timer *t, void *ud)
{
    (void)t;
    tt *x = ud;
    x->log->fired_at[x->log->n] = azr_reactor_now(r);
    x->log->order[x->log->n++] = x->id;
}

static void test_reactor_timers_fire_in_order(void **s)
{
    (void)s;
    azr_reactor *r = mk(AZR_BACKEND_POLL);
    static tlog log;
    static tt t[4];
    memset(&log, 0, sizeof log);
    memset(t, 0, sizeof t);
    uint64_t start = azr_reactor_update_now(r);
    int delay[4] = {30, 10, 20, 10};
    for (int i = 0; i < 4; i++) {
        t[i].id = i;
        t[i].log = &log;
        assert_int_equal(azr_timer_arm(r, &t[i].t, (uint64_t)delay[i], on_timer, &t[i]), AZR_OK);
    }
    azr_timer_cancel(r, &t[2].t);
    assert_false(azr_timer_armed(&t[2].t));
    while (log.n < 3)
        assert_int_equal(azr_reactor_turn(r, -1, NULL), AZR_OK);
    /* equal deadlines fire in arming order; the cancelled one never fires */
    assert_int_equal(log.order[0], 1);
    assert_int_equal(log.order[1], 3);
    assert_int_equal(log.order[2], 0);
    /* never early */
    assert_true(log.fired_at[0] >= start + 10);
    assert_true(log.fired_at[2] >= start + 30);
    assert_int_equal(azr_reactor_turn(r, 0, NULL), AZR_OK);
    assert_int_equal(log.n, 3);
    azr_reactor_free(r);
}

static void test_reactor_timer_heap_against_reference(void **s)
{
    (void)s;
    azr_reactor *r;
    assert_int_equal(azr_reactor_new(&r, 16, 1000, AZR_BACKEND_POLL), AZR_OK);
    static tlog log;
    static tt t[1000];
    static uint64_t when[1000];
    memset(&log, 0, sizeof log);
    memset(t, 0, sizeof t);
    srand(7);
    /* arm all with deadlines 0..49 ms, re-arm a third, cancel a fifth */
    for (int i = 0; i < 1000; i++) {
        t[i].id = i;
        t[i].log = &log;
        uint64_t d = (uint64_t)(rand() % 50);
        assert_int_equal(azr_timer_arm(r, &t[i].t, d, on_timer, &t[i]), AZR_OK);
        when[i] = t[i].t.when;
    }
    static tt extra;
    assert_int_equal(azr_timer_arm(r, &extra.t, 1, on_timer, &extra), AZR_E_LIMIT);
    for (int i = 0; i < 1000; i += 3) {
        assert_int_equal(azr_timer_arm(r, &t[i].t, (uint64_t)(rand() % 50), on_timer, &t[i]),
                         AZR_OK);
        when[i] = t[i].t.when;
    }
    int expected = 0;
    for (int i = 0; i < 1000; i++) {
        if (i % 5 == 0)
            azr_timer_cancel(r, &t[i].t);
        else
            expected++;
    }
    while (log.n < expected)
        assert_int_equal(azr_reactor_turn(r, -1, NULL), AZR_OK);
    assert_int_equal(azr_reactor_turn(r, 0, NULL), AZR_OK);
    assert_int_equal(log.n, expected);
    /* fired in deadline order, each once, none cancelled */
    static bool seen[1000];
    memset(seen, 0, sizeof seen);
    for (int k = 0; k < log.n; k++) {
        int id = log.order[k];
        assert_false(id % 5 == 0);
        assert_false(seen[id]);
        seen[id] = true;
        if (k)
            assert_true(when[log.order[k - 1]] <= when[id]);
    }
    azr_reactor_free(r);
}

static int rearm_count;
static void on_rearm(azr_reactor *r, azr_timer *t, void *ud)
{
    (void)ud;
    rearm_count++;
    assert_int_equal(azr_timer_arm(r, t, 0, on_rearm, NULL), AZR_OK);
}

static void test_reactor_timer_rearm_zero_does_not_spin(void **s)
{
    (void)s;
    azr_reactor *r = mk(AZR_BACKEND_EPOLL);
    azr_timer t = {0};
    rearm_count = 0;
    assert_int_equal(azr_timer_arm(r, &t, 0, on_rearm, NULL), AZR_OK);
    assert_int_equal(azr_reactor_turn(r, 0, NULL), AZR_OK);
    assert_int_equal(rearm_count, 1);
    assert_int_equal(azr_reactor_turn(r, 0, NULL), AZR_OK);
    assert_int_equal(rearm_count, 2);
    azr_timer_cancel(r, &t);
    azr_reactor_free(r);
}

/* ------------------------------------------------------------------- tasks */

static int task_runs;
static void on_task(azr_reactor *r, azr_task *t, void *ud)
{
    (void)ud;
    task_runs++;
    azr_task_queue(r, t, on_task, NULL); /* wants to run again */
}

static void test_reactor_tasks_keep_loop_awake(void **s)
{
    (void)s;
    for (size_t k = 0; k < 2; k++) {
        azr_reactor *r = mk(kinds[k]);
        azr_task t = {0}, u = {0};
        task_runs = 0;
        azr_task_queue(r, &t, on_task, NULL);
        azr_task_queue(r, &t, on_task, NULL); /* queued once only */
        /* -1 would block forever without the task; it must return at once */
        assert_int_equal(azr_reactor_turn(r, -1, NULL), AZR_OK);
        assert_int_equal(task_runs, 1);
        assert_int_equal(azr_reactor_turn(r, -1, NULL), AZR_OK);
        assert_int_equal(task_runs, 2);
        azr_task_cancel(r, &t);
        azr_task_queue(r, &u, on_task, NULL);
        azr_task_cancel(r, &u);
        size_t n;
        assert_int_equal(azr_reactor_turn(r, 0, &n), AZR_OK);
        assert_int_equal(n, 0);
        assert_int_equal(task_runs, 2);
        azr_reactor_free(r);
    }
}

static void test_reactor_embedding_fd(void **s)
{
    (void)s;
    azr_reactor *r = mk(AZR_BACKEND_EPOLL);
    int sv[2];
    rec a = {0};
    pair(sv);
    assert_int_equal(azr_reactor_set(r, sv[0], AZR_READABLE, on_io, &a), AZR_OK);
    int efd = azr_reactor_fd(r);
    assert_true(efd >= 0);
    struct pollfd p = {efd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(poll(&p, 1, 1000), 1); /* an application's poll() sees the loop's work */
    assert_int_equal(azr_reactor_turn(r, 0, NULL), AZR_OK);
    assert_int_equal(a.calls, 1);
    assert_string_equal(azr_reactor_backend(r), "epoll");
    azr_reactor_del(r, sv[0]);
    close(sv[0]);
    close(sv[1]);
    azr_reactor_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reactor_readable_and_writable),
        cmocka_unit_test(test_reactor_hangup_is_reported),
        cmocka_unit_test(test_reactor_fd_ceiling),
        cmocka_unit_test(test_reactor_fn_names_the_callback),
        cmocka_unit_test(test_reactor_callback_removes_other),
        cmocka_unit_test(test_reactor_no_stale_event_for_reused_fd),
        cmocka_unit_test(test_reactor_timers_fire_in_order),
        cmocka_unit_test(test_reactor_timer_heap_against_reference),
        cmocka_unit_test(test_reactor_timer_rearm_zero_does_not_spin),
        cmocka_unit_test(test_reactor_tasks_keep_loop_awake),
        cmocka_unit_test(test_reactor_embedding_fd),
    };
    return cmocka_run_group_tests_name("reactor", tests, NULL, NULL);
}
