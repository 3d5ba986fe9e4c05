/*
 * MaxTransferRate and MaxTransferRateIn measured end to end on 127.0.0.1
 * (issue 11, "MaxTransferRate"): client -> proxy (in process) ->
 * azrelay-emu (ws://) -> its built-in echo or source listener. rate.c's
 * bucket alone is test_rate.c; this suite checks what the pump makes of it
 * over real sockets.
 *
 * The clients are this binary again (--client, a separate process started
 * through peers.h), so they write or read as fast as they can whatever the
 * proxy's loop does, and the CPU time this process spends (getrusage) is the
 * proxy's own. A client times from the first byte it gets back, skips the
 * first 100 ms (the bucket starts full with 100 ms of the rate, and that
 * burst arrives at once) and measures the next window: bytes read over the
 * window's exact length. Upload is measured at the client through the echo
 * listener (MaxTransferRateIn unlimited, so what comes back is what the relay
 * received), download from the source listener (bytes i mod 251, checked).
 */
#include "testutil.h"
#include "peers.h"
#include "harness.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define RULE      "RootManageSharedAccessKey:" KEY
#define WINDOW_MS 5000 /* the 5 s */
#define SKIP_MS   100  /* the first burst: 100 ms of the rate */
#define TOLERANCE 0.10 /* the issue's ±10% */

static char self_exe[PATH_MAX];

/* --------------------------------------------------------- the client */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * --client echo|read PORT WINDOW_MS: connect to the proxy; echo writes as
 * fast as the socket takes (and reads the echo), read only reads and checks
 * the source listener's pattern. Prints one line:
 * RESULT <window us> <bytes in the window> <bytes read> <bytes written> <pattern ok>
 */
static int client_main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    bool echo = strcmp(argv[2], "echo") == 0;
    int port = atoi(argv[3]);
    uint64_t window = (uint64_t)atoi(argv[4]) * 1000u, skip = SKIP_MS * 1000u;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return 3;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    static uint8_t out[65536], in[65536];
    memset(out, 0x5a, sizeof out);
    uint64_t t0 = 0, ta = 0, tb = 0, ba = 0, bb = 0, got = 0, sent = 0;
    uint64_t give_up = now_us() + window + 15000000u; /* no data at all: give up */
    bool pattern = true, eof = false;
    while (!eof) {
        uint64_t now = now_us();
        if (t0 && !ta && now >= t0 + skip) {
            ta = now;
            ba = got;
        }
        if (ta && now >= ta + window) {
            tb = now;
            bb = got;
            break;
        }
        if (now > give_up)
            break;
        uint64_t next = !t0 ? now + 50000u : !ta ? t0 + skip : ta + window;
        int wait = next > now ? (int)((next - now + 999) / 1000) : 0;
        struct pollfd pf = {fd, (short)(POLLIN | (echo ? POLLOUT : 0)), 0};
        poll(&pf, 1, wait > 50 ? 50 : wait);
        ssize_t n;
        while (echo && (n = write(fd, out, sizeof out)) > 0)
            sent += (uint64_t)n;
        while ((n = read(fd, in, sizeof in)) > 0) {
            for (ssize_t i = 0; !echo && pattern && i < n; i++)
                pattern = in[i] == (uint8_t)((got + (uint64_t)i) % 251);
            got += (uint64_t)n;
            if (!t0)
                t0 = now_us();
        }
        eof = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }
    struct linger lg = {1, 0}; /* a reset: the proxy must not drain megabytes at the rate */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    dprintf(1, "RESULT %llu %llu %llu %llu %d\n", (unsigned long long)(tb - ta),
            (unsigned long long)(bb - ba), (unsigned long long)got, (unsigned long long)sent,
            pattern);
    return 0;
}

/* ------------------------------------------------------ the test side */

typedef struct measured {
    double rate;  /* bytes per second over the window */
    double secs;  /* the window */
    uint64_t got; /* bytes the client read in all */
    int pattern;
} measured;

static void client_go(relay *c, const char *mode, int port, int window_ms)
{
    char p[16], w[16];
    snprintf(p, sizeof p, "%d", port);
    snprintf(w, sizeof w, "%d", window_ms);
    const char *argv[] = {self_exe, "--client", mode, p, w, NULL};
    proc_start(c, argv, 1);
}

/* The client printed its result (one write, so whole once there). */
static bool client_done(relay *c)
{
    struct stat st;
    return fstat(c->out, &st) == 0 && st.st_size > 0;
}

static measured client_result(relay *c)
{
    char line[256];
    measured m = {0};
    unsigned long long us, bytes, got, sent;
    if (!relay_line(c, "RESULT ", line, sizeof line, 2000))
        fail_msg("the client printed no result");
    assert_int_equal(
        sscanf(line, "RESULT %llu %llu %llu %llu %d", &us, &bytes, &got, &sent, &m.pattern), 5);
    relay_stop(c);
    if (us == 0)
        fail_msg("the client got no data in time (read %llu bytes, wrote %llu)", got, sent);
    m.secs = (double)us / 1e6;
    m.rate = (double)bytes / m.secs;
    m.got = got;
    return m;
}

static double cpu_secs(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static const char *emu_bin(void)
{
    const char *b = getenv("AZR_EMU_BIN");
    return b ? b : "../build/azrelay-emu";
}

/* azrelay-emu: hc "echo" echoes, hc "src" sends 1 GiB (more than any case
 * takes at its rate). */
static relay emu;

static int setup(void **st)
{
    (void)st;
    const char *argv[] = {emu_bin(),  "--port",         "0",       "--rule", RULE, "--echo", "echo",
                          "--source", "src:1073741824", "--quiet", NULL};
    proc_start(&emu, argv, 2);
    char line[512];
    if (!relay_match(&emu, "listening on ", false, line, sizeof line, 10000))
        fail_msg("%s did not start", emu_bin());
    const char *p = strstr(line, "127.0.0.1:");
    assert_non_null(p);
    emu.port = (int)strtol(p + 10, NULL, 10);
    assert_true(emu.port > 0);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    relay_stop(&emu);
    procs_kill_all();
    return 0;
}

/* A failed case's proxies and loop: freed by reap(). */
static azr_proxy *live[2];
static azr_loop *live_loop;

static void drop(azr_proxy *p)
{
    for (int i = 0; i < 2; i++)
        if (live[i] == p)
            live[i] = NULL;
    azr_proxy_free(p);
}

static azr_proxy *proxy_rate(const char *hc, seen *s, const char *setting, int *port)
{
    char ns[64];
    snprintf(ns, sizeof ns, "ws://127.0.0.1:%d", emu.port);
    const char *const set[] = {"LogLevel=1", setting, NULL};
    memset(s, 0, sizeof *s);
    azr_proxy *p = proxy_at(ns, hc, s, set, port); /* setting NULL: none */
    live[live[0] ? 1 : 0] = p;
    return p;
}

/*
 * One connection at `rate` bytes/s: up (MaxTransferRate, echo listener) or
 * down (MaxTransferRateIn, source listener). Returns the measurement; *cpu
 * gets the process's CPU time over the run.
 */
static measured one_direction(bool up, long rate, double *cpu)
{
    static seen s;
    char setting[64];
    int port;
    snprintf(setting, sizeof setting, "%s=%ld", up ? "MaxTransferRate" : "MaxTransferRateIn", rate);
    azr_proxy *p = proxy_rate(up ? "echo" : "src", &s, setting, &port);
    relay c;
    double c0 = cpu_secs();
    client_go(&c, up ? "echo" : "read", port, WINDOW_MS);
    SPIN(p, client_done(&c), WINDOW_MS + 20000);
    *cpu = cpu_secs() - c0;
    measured m = client_result(&c);
    SPIN(p, s.disconnected == 1, 5000); /* the client's reset ends it */
    drop(p);
    assert_int_equal(s.connected, 1);
    assert_int_equal(s.connected_status, 0);
    assert_int_equal(s.disconnected, 1);
    if (!up)
        assert_int_equal(m.pattern, 1); /* the source's bytes, in order */
    double err = (m.rate - (double)rate) / (double)rate;
    /* all bytes from the first: the burst (100 ms of the rate) plus the rate */
    double burst = (double)rate / 10, whole = ((double)m.got - burst) / (m.secs + SKIP_MS / 1e3);
    printf("  %s %ld B/s: %.0f B/s over %.3f s (%+.2f%%); from the first byte, %llu bytes = "
           "burst + %.0f B/s (%+.2f%%); proxy CPU %.3f s\n",
           up ? "MaxTransferRate  " : "MaxTransferRateIn", rate, m.rate, m.secs, 100.0 * err,
           (unsigned long long)m.got, whole, 100.0 * (whole / (double)rate - 1), *cpu);
    if (err > TOLERANCE || err < -TOLERANCE)
        fail_msg("%s=%ld: measured %.0f B/s, %+.1f%% off",
                 up ? "MaxTransferRate" : "MaxTransferRateIn", rate, m.rate, 100.0 * err);
    return m;
}

/* ------------------------------------------------------------------ cases */

/* 64 KiB/s towards the relay, and no busy polling while the client is held
 * back: the loop sleeps until the bucket has a frame's worth. */
static void test_rate_up_64k(void **st)
{
    (void)st;
    double cpu;
    (void)one_direction(true, 65536, &cpu);
    if (cpu >= 0.5)
        fail_msg("the proxy used %.3f s of CPU in a 5 s throttled upload: busy polling", cpu);
}

static void test_rate_up_1m(void **st)
{
    (void)st;
    double cpu;
    (void)one_direction(true, 1048576, &cpu);
}

static void test_rate_down_64k(void **st)
{
    (void)st;
    double cpu;
    (void)one_direction(false, 65536, &cpu);
    if (cpu >= 0.5)
        fail_msg("the proxy used %.3f s of CPU in a 5 s throttled download: busy polling", cpu);
}

static void test_rate_down_1m(void **st)
{
    (void)st;
    double cpu;
    (void)one_direction(false, 1048576, &cpu);
}

/*
 * Other connections are not slowed: two connections of a proxy with
 * MaxTransferRate=65536 each get the whole rate (a bucket per connection,
 * not one shared), while an unlimited proxy on the same loop moves at least
 * ten times that at the same time.
 */
#define ISO_MS 3000

static void test_rate_others_not_slowed(void **st)
{
    (void)st;
    static seen sl, su;
    azr_loop *loop = azr_loop_new(0);
    assert_non_null(loop);
    harness_loop = live_loop = loop;
    int pl, pu;
    azr_proxy *lim = proxy_rate("echo", &sl, "MaxTransferRate=65536", &pl);
    azr_proxy *unl = proxy_rate("echo", &su, NULL, &pu);
    harness_loop = NULL;
    relay c1, c2, cu;
    client_go(&c1, "echo", pl, ISO_MS);
    client_go(&c2, "echo", pl, ISO_MS);
    client_go(&cu, "echo", pu, ISO_MS);
    SPIN(lim, client_done(&c1) && client_done(&c2) && client_done(&cu), ISO_MS + 20000);
    measured m1 = client_result(&c1), m2 = client_result(&c2), mu = client_result(&cu);
    SPIN(lim, sl.disconnected == 2 && su.disconnected == 1, 5000);
    int lim_conns = sl.connected, unl_conns = su.connected,
        ends = sl.disconnected + su.disconnected;
    drop(lim);
    drop(unl);
    live_loop = NULL;
    assert_int_equal(azr_loop_free(loop), 0);
    printf("  limited 65536 B/s: %.0f and %.0f B/s (%+.2f%%, %+.2f%%); unlimited on the same loop "
           "meanwhile: %.0f B/s (%.0fx the limit)\n",
           m1.rate, m2.rate, 100.0 * (m1.rate / 65536 - 1), 100.0 * (m2.rate / 65536 - 1), mu.rate,
           mu.rate / 65536);
    assert_int_equal(lim_conns, 2);
    assert_int_equal(unl_conns, 1);
    assert_int_equal(ends, 3);
    assert_true(m1.rate > 65536 * (1 - TOLERANCE) && m1.rate < 65536 * (1 + TOLERANCE));
    assert_true(m2.rate > 65536 * (1 - TOLERANCE) && m2.rate < 65536 * (1 + TOLERANCE));
    assert_true(mu.rate >= 10.0 * 65536);
}

static int reap(void **st)
{
    (void)st;
    harness_loop = NULL;
    for (int i = 0; i < 2; i++)
        if (live[i])
            drop(live[i]);
    if (live_loop)
        (void)azr_loop_free(live_loop);
    live_loop = NULL;
    return 0;
}

#define CASE(f) cmocka_unit_test_setup_teardown(f, NULL, reap)

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--client") == 0)
        return client_main(argc, argv);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        return 1;
    self_exe[n] = '\0';
    const struct CMUnitTest tests[] = {
        CASE(test_rate_up_64k),
        CASE(test_rate_up_1m),
        CASE(test_rate_down_64k),
        CASE(test_rate_down_1m),
        CASE(test_rate_others_not_slowed),
    };
    signal(SIGPIPE, SIG_IGN);
    if (getenv("AZR_TEST_ONLY"))
        cmocka_set_test_filter(getenv("AZR_TEST_ONLY"));
    return cmocka_run_group_tests_name("rate_e2e", tests, setup, teardown);
}
