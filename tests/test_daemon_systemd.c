/*
 * The daemon under systemd's eyes, as real processes (build/azrelay-proxy;
 * the bundled emulator where a relay must check the key): a NOTIFY_SOCKET
 * listener in this suite, as PID 1 has one (a path and an abstract name),
 * receives READY=1 once the daemon listens (a client connects right after
 * it), STATUS= at most once a second as connections come, RELOADING=1 with
 * a MONOTONIC_USEC taken between our SIGHUP and its arrival then READY=1,
 * WATCHDOG=1 every 200 ms for WATCHDOG_USEC=400000 (none when WATCHDOG_PID
 * names another process), STOPPING=1 (and EXTEND_TIMEOUT_USEC when
 * connections drain) on SIGTERM, all in order and all from the daemon's PID.
 * Secrets: a key given on the command line is gone from /proc/PID/cmdline
 * and from ps, with one warning, and a reload still has it; a config file
 * holding a key with mode 0644 is refused with the chmod (at the start and
 * at a reload, which then changes nothing), let through with
 * InsecureSecretFiles=True and a warning, taken at 0600; AZRELAY_ACCESS_KEY
 * is used when nothing sets a key and loses to the file's; the process is
 * not dumpable unless AllowCoreDumps=True (its /proc/PID owned by root);
 * JOURNAL_STREAM matching stderr gives "<N>" lines without timestamps.
 * READY latency and the watchdog's period are printed.
 */
#include "testutil.h"
#include "peers.h"
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define KEY  "8oKRDwkl0s440MlLUi4qHxDL34j1FS6K3t5TRoJ216c="
#define KEY2 "WrongKeyWrongKeyWrongKeyWrongKeyWrongKey123="
#define RULE "RootManageSharedAccessKey:" KEY

static char dir[64]; /* this case's files */
static int seq;      /* abstract socket names of this suite */

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/azr-dsd-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0); /* a daemon run as nobody reads its files */
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[128];
    procs_kill_all();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static const char *bin(void)
{
    const char *b = getenv("AZR_PROXY_BIN");
    return b ? b : "../build/azrelay-proxy";
}

/* ------------------------------------------------------------ the daemon */

typedef struct dproc {
    pid_t pid;
    int log; /* its stderr: an unlinked file we read */
    size_t len;
    char text[1 << 18];
} dproc;

#define D_WDPID   1 /* WATCHDOG_PID set to the daemon's own PID */
#define D_JOURNAL 2 /* JOURNAL_STREAM set to its stderr's device:inode */
#define D_NOBODY  4 /* run as uid/gid 65534 when this suite runs as root */

/* Our environment without what systemd would set (this suite may itself run
 * under systemd), then env ("NAME=value", NULL-terminated) and flags. */
static void d_spawn_as(dproc *d, const char *prog, const char *const *args, const char *const *env,
                       int flags)
{
    char path[] = "/tmp/azr-dsd-log-XXXXXX";
    int w = mkstemp(path);
    assert_true(w >= 0);
    d->log = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(d->log >= 0);
    unlink(path);
    const char *argv[40] = {prog};
    int n = 1;
    for (; args && *args && n < 39; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    d->len = 0;
    d->text[0] = '\0';
    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid == 0) {
        dup2(w, 2);
        static const char *const strip[] = {"NOTIFY_SOCKET",      "WATCHDOG_USEC",
                                            "WATCHDOG_PID",       "JOURNAL_STREAM",
                                            "AZRELAY_ACCESS_KEY", "AZRELAY_CONNECTION_STRING",
                                            "LISTEN_FDS",         "LISTEN_PID"};
        for (size_t i = 0; i < sizeof strip / sizeof strip[0]; i++)
            unsetenv(strip[i]);
        for (; env && *env; env++)
            putenv((char *)*env);
        char v[64];
        if (flags & D_WDPID) {
            snprintf(v, sizeof v, "%d", (int)getpid());
            setenv("WATCHDOG_PID", v, 1);
        }
        if (flags & D_JOURNAL) {
            struct stat s;
            fstat(2, &s);
            snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)s.st_dev,
                     (unsigned long long)s.st_ino);
            setenv("JOURNAL_STREAM", v, 1);
        }
        if ((flags & D_NOBODY) && geteuid() == 0 &&
            (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
            _exit(126);
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    close(w);
    procs_track(d->pid, true);
}

static void d_spawn(dproc *d, const char *const *args, const char *const *env, int flags)
{
    d_spawn_as(d, bin(), args, env, flags);
}

static void d_read(dproc *d)
{
    ssize_t n;
    while (d->len < sizeof d->text - 1 &&
           (n = read(d->log, d->text + d->len, sizeof d->text - 1 - d->len)) > 0)
        d->len += (size_t)n;
    d->text[d->len] = '\0';
}

/* needle in the log within limit_ms, or fail with the log. */
static const char *d_wait_log(dproc *d, const char *needle, int limit_ms)
{
    uint64_t stop = ms() + (uint64_t)limit_ms;
    for (;;) {
        d_read(d);
        const char *at = strstr(d->text, needle);
        if (at)
            return at;
        if (ms() > stop)
            fail_msg("no '%s' in the daemon's log within %d ms:\n%s", needle, limit_ms, d->text);
        usleep(5000);
    }
}

/* The port the daemon logged it listens on. */
static int d_port(dproc *d)
{
    const char *at = d_wait_log(d, "listening on 127.0.0.1:", 10000);
    int port = (int)strtol(at + strlen("listening on 127.0.0.1:"), NULL, 10);
    assert_true(port > 0);
    return port;
}

/* Its exit status within limit_ms (-1: it still runs); a signal fails. */
static int d_exit(dproc *d, int limit_ms)
{
    uint64_t stop = ms() + (uint64_t)limit_ms;
    int st;
    for (;;) {
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid) {
            procs_track(d->pid, false);
            d_read(d);
            close(d->log);
            if (!WIFEXITED(st))
                fail_msg("the daemon ended by signal %d; its log:\n%s", WTERMSIG(st), d->text);
            return WEXITSTATUS(st);
        }
        if (ms() > stop)
            return -1;
        usleep(2000);
    }
}

static void d_stop(dproc *d)
{
    kill(d->pid, SIGTERM);
    int rc = d_exit(d, 10000);
    if (rc != 0)
        fail_msg("SIGTERM: exit status %d; its log:\n%s", rc, d->text);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ------------------------------------------------------- the notify socket */

/* A datagram socket as PID 1 has one, sender credentials on; name is a path
 * or "@abstract", as NOTIFY_SOCKET gives it. */
static int listener(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t n = strlen(name);
    assert_true(n < sizeof a.sun_path);
    memcpy(a.sun_path, name, n);
    if (name[0] == '@')
        a.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
    assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
    int one = 1;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);
    /* the kernel's arrival time: this suite's own scheduling does not blur the periods */
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one), 0);
    if (name[0] == '/')
        chmod(name, 0777); /* a daemon run as nobody may send too */
    return fd;
}

static void abstract_name(char *out, size_t cap)
{
    snprintf(out, cap, "@azr-test-dsd-%d-%d", (int)getpid(), ++seq);
}

/* ts (or now) in ms of CLOCK_REALTIME, the clock of SO_TIMESTAMPNS. */
static uint64_t wall_ms(const struct timespec *ts)
{
    struct timespec now;
    if (!ts) {
        clock_gettime(CLOCK_REALTIME, &now);
        ts = &now;
    }
    return (uint64_t)ts->tv_sec * 1000u + (uint64_t)ts->tv_nsec / 1000000u;
}

typedef struct note {
    char text[600];
    uint64_t at; /* ms (CLOCK_REALTIME, the kernel's stamp) when it arrived */
    pid_t from;
} note;

/* The next message within wait_ms: true, or false when none came. */
static bool note_next(int fd, note *n, int wait_ms)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(struct timespec))];
    } ctl;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, wait_ms) != 1)
        return false;
    struct iovec iov = {n->text, sizeof n->text - 1};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl.b;
    m.msg_controllen = sizeof ctl.b;
    ssize_t k = recvmsg(fd, &m, 0);
    assert_true(k >= 0);
    n->text[k] = '\0';
    n->at = wall_ms(NULL);
    n->from = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cr;
            memcpy(&cr, CMSG_DATA(c), sizeof cr);
            n->from = cr.pid;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            n->at = wall_ms(&ts);
        }
    }
    return true;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Every message of one run, in arrival order. */
typedef struct notes {
    note v[256];
    size_t n;
} notes;

/* Messages for wait_ms, or until one starts with until (then true). */
static bool collect(notes *ns, int fd, int wait_ms, const char *until)
{
    uint64_t stop = ms() + (uint64_t)wait_ms;
    for (;;) {
        uint64_t now = ms();
        if (now >= stop)
            return false;
        assert_true(ns->n < sizeof ns->v / sizeof ns->v[0]);
        note *n = &ns->v[ns->n];
        if (!note_next(fd, n, (int)(stop - now)))
            return false;
        ns->n++;
        if (until && starts(n->text, until))
            return true;
    }
}

static void notes_dump(const notes *ns, uint64_t t0)
{
    for (size_t i = 0; i < ns->n; i++)
        fprintf(stderr, "  +%5llu ms  %s\n", (unsigned long long)(ns->v[i].at - t0), ns->v[i].text);
}

/* READY=1 within 10 s, the first message of d (what an earlier daemon sent
 * to the same socket is dropped), or fail with the log. ns holds d's only. */
static note *wait_ready(notes *ns, int fd, dproc *d)
{
    ns->n = 0;
    uint64_t stop = ms() + 10000;
    while (ns->n == 0) {
        uint64_t now = ms();
        if (now >= stop || !note_next(fd, &ns->v[0], (int)(stop - now))) {
            d_read(d);
            fail_msg("no READY=1 within 10 s; the daemon's log:\n%s", d->text);
        }
        if (ns->v[0].from == d->pid) /* NotifyAccess=main */
            ns->n = 1;
    }
    if (!starts(ns->v[0].text, "READY=1"))
        fail_msg("the daemon's first message is not READY=1: %s", ns->v[0].text);
    return &ns->v[0];
}

static unsigned long long mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
}

/* --------------------------------------------------------------- sockets */

static int tcp(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* A relay that takes connections (the kernel's backlog) and never answers:
 * the daemon's connections stay open, waiting for the upgrade. */
static int silent_relay(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 64), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* The emulator with an echo listener on hc1 for RULE; its port. */
static int emu_start(relay *e)
{
    const char *b = getenv("AZR_EMU_BIN") ? getenv("AZR_EMU_BIN") : "../build/azrelay-emu";
    const char *argv[] = {b, "--port", "0", "--rule", RULE, "--echo", "hc1", NULL};
    proc_start(e, argv, 2);
    char line[256];
    assert_true(relay_match(e, "listening on ", false, line, sizeof line, 10000));
    int port = (int)strtol(strstr(line, "127.0.0.1:") + 10, NULL, 10);
    assert_true(port > 0);
    return port;
}

/* text through the daemon on port: true when it came back whole. */
static bool echoes(int port, const char *text)
{
    int fd = tcp(port);
    if (fd < 0)
        return false;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t len = strlen(text), got = 0;
    char buf[256];
    bool ok = write(fd, text, len) == (ssize_t)len;
    while (ok && got < len) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        ok = n > 0;
        got += ok ? (size_t)n : 0;
    }
    close(fd);
    return ok && memcmp(buf, text, len) == 0;
}

/* path with text, mode as given (umask aside). */
static void write_conf(const char *path, const char *text, mode_t mode)
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* ------------------------------------------------------------------ cases */

/*
 * The whole life at one notify socket, in order: READY=1 (the port takes a
 * client at once), WATCHDOG=1 every 200 ms, STATUS= for two clients (not
 * sooner than a second after the last), RELOADING=1 + MONOTONIC_USEC, READY=1,
 * STOPPING=1 (with EXTEND_TIMEOUT_USEC when a connection drains).
 */
static void lifecycle(const char *sock, bool drain)
{
    int rport, rfd = silent_relay(&rport);
    int l = listener(sock);
    char ns_arg[64], env_sock[160];
    snprintf(ns_arg, sizeof ns_arg, "NamespaceAddress=ws://127.0.0.1:%d", rport);
    snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", sock);
    const char *const args[] = {ns_arg,
                                "HybridConnection=hc1",
                                "AccessKeyName=RootManageSharedAccessKey",
                                "LocalHost=127.0.0.1",
                                "LocalPort=0",
                                "DrainTimeout=1",
                                NULL};
    const char *const env[] = {env_sock, "WATCHDOG_USEC=400000", "AZRELAY_ACCESS_KEY=" KEY, NULL};
    static dproc d;
    static notes ns;
    uint64_t t0 = wall_ms(NULL);
    d_spawn(&d, args, env, D_WDPID);
    note *ready = wait_ready(&ns, l, &d);
    uint64_t ready_ms = ready->at - t0;
    assert_string_equal(ready->text, "READY=1\nSTATUS=1 forward, 0 connections");
    /* listening before READY: the port (the log names it) takes two clients at once */
    int port = d_port(&d);
    int a = tcp(port), b = tcp(port);
    if (a < 0 || b < 0)
        fail_msg("the daemon's port %d refused a client right after READY=1: %s", port,
                 strerror(errno));
    collect(&ns, l, 1500, NULL);
    unsigned long long before = mono_usec();
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    assert_true(collect(&ns, l, 5000, "RELOADING=1"));
    unsigned long long after = mono_usec();
    note *rl = &ns.v[ns.n - 1];
    assert_true(collect(&ns, l, 5000, "READY=1"));
    note *rr = &ns.v[ns.n - 1];
    close(a);
    if (!drain)
        close(b);
    collect(&ns, l, 1300, NULL);
    assert_int_equal(kill(d.pid, SIGTERM), 0);
    int rc = -1;
    uint64_t stop = ms() + 10000;
    while (rc < 0 && ms() < stop) {
        collect(&ns, l, 20, NULL);
        rc = d_exit(&d, 0);
    }
    collect(&ns, l, 50, NULL);
    if (rc != 0)
        fail_msg("exit status %d after SIGTERM; its log:\n%s", rc, d.text);
    if (drain)
        close(b);

    /* the events in order, each once, all from the daemon */
    const char *want[] = {"READY=1\n", "RELOADING=1\n", "READY=1\n", "STOPPING=1\n"};
    size_t k = 0, watchdogs = 0, extend = 0;
    uint64_t last_wd = ready->at, gap_min = UINT64_MAX, gap_max = 0, last_status = ready->at;
    bool two = false;
    for (size_t i = 0; i < ns.n; i++) {
        const note *n = &ns.v[i];
        if (n->from != d.pid) {
            notes_dump(&ns, t0);
            fail_msg("message %zu came from PID %d, not the daemon's %d", i, (int)n->from,
                     (int)d.pid);
        }
        if (!strcmp(n->text, "WATCHDOG=1")) {
            uint64_t gap = n->at - last_wd;
            gap_min = gap < gap_min ? gap : gap_min;
            gap_max = gap > gap_max ? gap : gap_max;
            last_wd = n->at;
            watchdogs++;
            continue;
        }
        if (starts(n->text, "EXTEND_TIMEOUT_USEC=")) {
            /* right after STOPPING=1: DrainTimeout=1 and 10 s to close and exit */
            assert_int_equal(k, 4);
            assert_true(starts(ns.v[i - 1].text, "STOPPING=1\n"));
            assert_string_equal(n->text, "EXTEND_TIMEOUT_USEC=11000000");
            extend++;
            continue;
        }
        if (starts(n->text, "STATUS=")) {
            /* counts changed: told, but not sooner than a second after the last */
            if (n->at - last_status < 900) {
                notes_dump(&ns, t0);
                fail_msg("STATUS= %llu ms after the last status",
                         (unsigned long long)(n->at - last_status));
            }
            two = two || !strcmp(n->text, "STATUS=1 forward, 2 connections");
            last_status = n->at;
            continue;
        }
        if (k == 4 || !starts(n->text, want[k])) {
            notes_dump(&ns, t0);
            fail_msg("message %zu out of order: %s", i, n->text);
        }
        last_status = n->at;
        k++;
    }
    if (k != 4) {
        notes_dump(&ns, t0);
        fail_msg("%zu of the 4 events came", k);
    }
    if (!two) {
        notes_dump(&ns, t0);
        fail_msg("no STATUS=1 forward, 2 connections while two clients were connected");
    }
    /* RELOADING's time: CLOCK_MONOTONIC in µs, between our SIGHUP and its arrival */
    unsigned long long at = 0;
    assert_int_equal(sscanf(rl->text, "RELOADING=1\nMONOTONIC_USEC=%llu\n", &at), 1);
    assert_true(at >= before && at <= after);
    assert_non_null(strstr(rl->text, "\nSTATUS=reloading the command line"));
    assert_string_equal(rr->text, "READY=1\nSTATUS=1 forward, 2 connections (reload: +0 ~0 -0)");
    assert_int_equal(extend, drain ? 1 : 0);
    /* WATCHDOG=1 every 200 ms (half of WATCHDOG_USEC), never 400 ms late */
    uint64_t span = last_wd - ready->at;
    print_message("%s: READY=1 %llu ms after the start; %zu WATCHDOG=1 in %llu ms: every %llu ms "
                  "on average (shortest %llu, longest %llu)\n",
                  sock[0] == '@' ? "abstract socket" : "path socket", (unsigned long long)ready_ms,
                  watchdogs, (unsigned long long)span,
                  (unsigned long long)(watchdogs ? span / watchdogs : 0),
                  (unsigned long long)gap_min, (unsigned long long)gap_max);
    assert_true(watchdogs >= 10);
    assert_true(span / watchdogs >= 180 && span / watchdogs <= 260);
    assert_true(gap_min >= 100);
    assert_true(gap_max < 400);
    /* the key came from AZRELAY_ACCESS_KEY: no warning about a missing one */
    assert_null(strstr(d.text, "no AccessKeyName/AccessKey"));
    close(l);
    close(rfd);
}

static void test_daemon_systemd_path_socket_in_order(void **st)
{
    (void)st;
    char sock[128];
    snprintf(sock, sizeof sock, "%s/notify", dir);
    lifecycle(sock, false);
}

static void test_daemon_systemd_abstract_socket_in_order_with_a_drain(void **st)
{
    (void)st;
    char sock[64];
    abstract_name(sock, sizeof sock);
    lifecycle(sock, true);
}

/* A key on the command line: accepted, then gone from what other users see,
 * one warning; a reload re-applies the private copy (the forward unchanged,
 * bytes still go through the emulator, which checks the key). */
static void test_daemon_systemd_key_scrubbed_from_argv(void **st)
{
    (void)st;
    relay e;
    int eport = emu_start(&e);
    char sock[64], env_sock[96], ns_arg[64];
    abstract_name(sock, sizeof sock);
    int l = listener(sock);
    snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", sock);
    snprintf(ns_arg, sizeof ns_arg, "NamespaceAddress=ws://127.0.0.1:%d", eport);
    const char *const args[] = {ns_arg,
                                "HybridConnection=hc1",
                                "AccessKeyName=RootManageSharedAccessKey",
                                "AccessKey=" KEY,
                                "--forward",
                                "default:AccessKey=" KEY,
                                "LocalHost=127.0.0.1",
                                "LocalPort=0",
                                NULL};
    const char *const env[] = {env_sock, NULL};
    static dproc d;
    static notes ns;
    d_spawn(&d, args, env, 0);
    wait_ready(&ns, l, &d);
    int port = d_port(&d);
    /* /proc/PID/cmdline: the arguments, the values overwritten in place */
    char path[64], cmdline[4096];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)d.pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
    close(fd);
    assert_true(n > 0);
    for (ssize_t i = 0; i < n; i++)
        if (cmdline[i] == '\0')
            cmdline[i] = '\n';
    cmdline[n] = '\0';
    if (strstr(cmdline, KEY))
        fail_msg("/proc/PID/cmdline shows the key:\n%s", cmdline);
    assert_non_null(strstr(cmdline, "\nAccessKey=********************************************\n"));
    assert_non_null(strstr(cmdline, "\ndefault:AccessKey=****"));
    assert_non_null(strstr(cmdline, "\nLocalPort=0\n"));
    /* ps, as another user would run it */
    char cmd[128], ps[4096];
    snprintf(cmd, sizeof cmd, "ps -ww -o args= -p %d", (int)d.pid);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t k = fread(ps, 1, sizeof ps - 1, p);
    ps[k] = '\0';
    assert_int_equal(pclose(p), 0);
    if (strstr(ps, KEY) || !strstr(ps, " AccessKey=****"))
        fail_msg("ps -ww shows:\n%s", ps);
    /* one warning, naming the setting and what to use */
    d_read(&d);
    assert_int_equal(count(d.text, "given on the command line"), 1);
    assert_non_null(strstr(d.text, "azrelay-proxy: warning: AccessKey given on the command line: "
                                   "visible to other users until scrubbed; use AccessKeyFile\n"));
    assert_null(strstr(d.text, KEY));
    /* the key still works, and again after a reload from the private copy */
    assert_true(echoes(port, "before the reload"));
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    assert_true(collect(&ns, l, 5000, "READY=1"));
    d_wait_log(&d, "reload: 0 added, 0 changed, 0 removed, 1 unchanged", 5000);
    assert_true(echoes(port, "after the reload"));
    d_stop(&d);
    assert_int_equal(count(d.text, "given on the command line"), 1);
    assert_null(strstr(d.text, KEY));
    close(l);
    relay_stop(&e);
}

/* A config file holding a key: 0644 refused with the chmod to run (no READY),
 * InsecureSecretFiles=True lets it through with a warning, 0600 is taken; a
 * reload of a 0644 file is refused, still answered with READY=1, and changes
 * nothing. WATCHDOG_PID naming another process: no WATCHDOG=1 at all. */
static void test_daemon_systemd_config_file_mode(void **st)
{
    (void)st;
    char conf[128], text[512], refusal[512], sock[64], env_sock[96], changed[600];
    snprintf(conf, sizeof conf, "%s/azrelay.conf", dir);
    abstract_name(sock, sizeof sock);
    int l = listener(sock);
    snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", sock);
    snprintf(text, sizeof text,
             "NamespaceAddress=ws://127.0.0.1:9\nHybridConnection=hc1\n"
             "AccessKeyName=RootManageSharedAccessKey\nAccessKey=%s\n"
             "LocalHost=127.0.0.1\nLocalPort=0\n",
             KEY);
    snprintf(refusal, sizeof refusal,
             "config file %s: mode 0644 gives group and others access to a secret; run: chmod "
             "600 %s (InsecureSecretFiles=True accepts it with a warning)",
             conf, conf);
    write_conf(conf, text, 0644);
    const char *const env[] = {env_sock, "WATCHDOG_USEC=400000", "WATCHDOG_PID=1", NULL};
    const char *const plain[] = {"-c", conf, NULL};
    static dproc d;
    static notes ns;
    /* 0644: refused before listening, exit 1, nothing sent */
    ns.n = 0;
    d_spawn(&d, plain, env, 0);
    int rc = d_exit(&d, 10000);
    if (rc != 1 || !strstr(d.text, refusal))
        fail_msg("a 0644 config file with a key: exit %d, log:\n%s", rc, d.text);
    assert_null(strstr(d.text, "listening on"));
    assert_false(collect(&ns, l, 100, NULL));
    /* InsecureSecretFiles=True (on the command line: it counts wherever given) */
    const char *const insecure[] = {"-c", conf, "InsecureSecretFiles=True", NULL};
    d_spawn(&d, insecure, env, 0);
    wait_ready(&ns, l, &d);
    char warning[512];
    snprintf(warning, sizeof warning,
             "azrelay-proxy: warning: config file %s: mode 0644 gives group and others access "
             "to a secret; used anyway (InsecureSecretFiles=True); run: chmod 600 %s\n",
             conf, conf);
    d_read(&d);
    if (!strstr(d.text, warning))
        fail_msg("no warning '%s' in:\n%s", warning, d.text);
    d_stop(&d);
    /* 0600: taken, no word about the mode */
    assert_int_equal(chmod(conf, 0600), 0);
    d_spawn(&d, plain, env, 0);
    wait_ready(&ns, l, &d);
    int port = d_port(&d);
    d_read(&d);
    assert_null(strstr(d.text, "mode 0"));
    /* WATCHDOG_PID names PID 1: these variables are not for the daemon (600 ms: three
     * pings would have come) */
    collect(&ns, l, 600, NULL);
    /* a reload of the file made 0644 (with a change in it): refused, READY=1 all the same */
    snprintf(changed, sizeof changed, "%sLogLevel=2\n", text);
    write_conf(conf, changed, 0644);
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    assert_true(collect(&ns, l, 5000, "RELOADING=1"));
    assert_true(collect(&ns, l, 5000, "READY=1"));
    assert_non_null(
        strstr(ns.v[ns.n - 1].text, "(reload refused, the old settings run on: see the log)"));
    char logged[600];
    snprintf(logged, sizeof logged, "reload: %s; nothing changed", refusal);
    d_wait_log(&d, logged, 5000);
    int fd = tcp(port); /* the old listener goes on */
    assert_true(fd >= 0);
    close(fd);
    /* the same file at 0600: the change was still to come */
    assert_int_equal(chmod(conf, 0600), 0);
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    assert_true(collect(&ns, l, 5000, "RELOADING=1"));
    assert_true(collect(&ns, l, 5000, "READY=1"));
    assert_non_null(strstr(ns.v[ns.n - 1].text, "(reload: +0 ~1 -0)"));
    d_stop(&d);
    collect(&ns, l, 50, NULL);
    for (size_t i = 0; i < ns.n; i++)
        if (!strcmp(ns.v[i].text, "WATCHDOG=1"))
            fail_msg("WATCHDOG=1 sent though WATCHDOG_PID names another process");
    close(l);
}

/* AZRELAY_ACCESS_KEY: the key when nothing else sets one (the emulator takes
 * it; a wrong one is refused, so the variable is what reaches the relay),
 * and the lowest precedence: a key in the config file wins over it. */
static void test_daemon_systemd_environment_key(void **st)
{
    (void)st;
    relay e;
    int eport = emu_start(&e);
    char sock[64], env_sock[96], ns_arg[64], conf[128], text[512];
    abstract_name(sock, sizeof sock);
    int l = listener(sock);
    snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", sock);
    snprintf(ns_arg, sizeof ns_arg, "NamespaceAddress=ws://127.0.0.1:%d", eport);
    snprintf(conf, sizeof conf, "%s/key.conf", dir);
    snprintf(text, sizeof text, "AccessKey=%s\n", KEY);
    write_conf(conf, text, 0600);
    const char *const args[] = {ns_arg,
                                "HybridConnection=hc1",
                                "AccessKeyName=RootManageSharedAccessKey",
                                "LocalHost=127.0.0.1",
                                "LocalPort=0",
                                NULL};
    const char *const with_file[] = {"-c",
                                     conf,
                                     ns_arg,
                                     "HybridConnection=hc1",
                                     "AccessKeyName=RootManageSharedAccessKey",
                                     "LocalHost=127.0.0.1",
                                     "LocalPort=0",
                                     NULL};
    const char *const bare[] = {"LocalHost=127.0.0.1", "LocalPort=0", NULL};
    char connstr[256];
    snprintf(connstr, sizeof connstr,
             "AZRELAY_CONNECTION_STRING=Endpoint=ws://127.0.0.1:%d/;SharedAccessKeyName="
             "RootManageSharedAccessKey;SharedAccessKey=%s;EntityPath=hc1",
             eport, KEY);
    const struct {
        const char *env_key;
        const char *const *args;
        bool works;
        const char *what;
    } cases[] = {
        {"AZRELAY_ACCESS_KEY=" KEY, args, true, "the right key, none configured"},
        {"AZRELAY_ACCESS_KEY=" KEY2, args, false, "a wrong key, none configured"},
        {"AZRELAY_ACCESS_KEY=" KEY2, with_file, true, "a wrong key, the right one in the file"},
        {connstr, bare, true, "a whole connection string, nothing configured"},
    };
    static dproc d;
    static notes ns;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const env[] = {env_sock, cases[i].env_key, NULL};
        d_spawn(&d, cases[i].args, env, 0);
        wait_ready(&ns, l, &d);
        int port = d_port(&d);
        bool ok = echoes(port, "which key?");
        d_stop(&d);
        if (ok != cases[i].works)
            fail_msg("%s: the echo %s; the daemon's log:\n%s", cases[i].what,
                     ok ? "came back" : "did not come back", d.text);
        assert_null(strstr(d.text, KEY));
        assert_null(strstr(d.text, "no AccessKeyName/AccessKey"));
    }
    /* a variable longer than the setting takes stops the start, naming it */
    static char big[400];
    snprintf(big, sizeof big, "AZRELAY_ACCESS_KEY=%0300d", 7);
    const char *const env[] = {env_sock, big, NULL};
    d_spawn(&d, args, env, 0);
    assert_int_equal(d_exit(&d, 10000), 1);
    assert_non_null(strstr(d.text, "azrelay-proxy: AZRELAY_ACCESS_KEY: longer than AccessKey "
                                   "takes (at most 256 bytes)\n"));
    close(l);
    relay_stop(&e);
}

/* Whether the kernel lets a process be dumped shows from outside: its
 * /proc/PID/environ (and mem, maps, ...) is owned by root when it is not, by
 * the process's user when it is. So the daemon runs as a user other than
 * root (nobody when this suite runs as root, from a copy of the binary in
 * our 0755 directory), beside a program that leaves the flag alone (sleep)
 * as the control. Off by default, on with AllowCoreDumps=True, off again
 * after a reload that drops it. */
static uid_t environ_owner(pid_t pid)
{
    char path[64];
    struct stat s;
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    assert_int_equal(stat(path, &s), 0);
    return s.st_uid;
}

static void test_daemon_systemd_core_dumps(void **st)
{
    (void)st;
    char prog[128], conf[128], cmd[512];
    uid_t as = geteuid() == 0 ? 65534 : geteuid();
    snprintf(prog, sizeof prog, "%s/azrelay-proxy", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 755 '%s'", bin(), prog, prog);
    assert_int_equal(system(cmd), 0);
    snprintf(conf, sizeof conf, "%s/cores.conf", dir);
    static dproc d;
    /* the control: the same user, nothing turns the flag off */
    const char *const nap[] = {"10", NULL};
    d_spawn_as(&d, "/bin/sleep", nap, NULL, D_NOBODY);
    uint64_t stop = ms() + 5000;
    while (environ_owner(d.pid) != as && ms() < stop) /* until exec is done */
        usleep(5000);
    assert_int_equal(environ_owner(d.pid), as);
    kill(d.pid, SIGKILL);
    waitpid(d.pid, NULL, 0);
    procs_track(d.pid, false);
    close(d.log);
    const char *const args[] = {"-c",
                                conf,
                                "NamespaceAddress=ws://127.0.0.1:9",
                                "HybridConnection=hc1",
                                "LocalHost=127.0.0.1",
                                "LocalPort=0",
                                NULL};
    for (int on = 0; on < 2; on++) {
        write_conf(conf, on ? "AllowCoreDumps=True\n" : "# nothing\n", 0644);
        d_spawn_as(&d, prog, args, NULL, D_NOBODY);
        d_port(&d);
        uid_t owner = environ_owner(d.pid);
        if (owner != (on ? as : 0))
            fail_msg("AllowCoreDumps=%s: /proc/PID/environ owned by uid %d, not %d (the daemon "
                     "runs as %d)",
                     on ? "True" : "False", (int)owner, on ? (int)as : 0, (int)as);
        if (on) { /* a reload that drops it: off again */
            write_conf(conf, "# nothing\n", 0644);
            assert_int_equal(kill(d.pid, SIGHUP), 0);
            d_wait_log(&d, "reload: ", 5000);
            assert_int_equal(environ_owner(d.pid), 0);
        }
        d_stop(&d);
    }
}

/* stderr on the journal's stream (JOURNAL_STREAM its device:inode): each
 * line starts with its priority and has no timestamp; <3> errors, <4>
 * warnings, <6> events, <7> detail. Another stream: timestamps, no "<". */
static void test_daemon_systemd_journal_prefixes(void **st)
{
    (void)st;
    char lp[32];
    snprintf(lp, sizeof lp, "LocalPort=%d", free_port());
    const char *const args[] = {"NamespaceAddress=ws://127.0.0.1:9",
                                "HybridConnection=hc1",
                                "AccessKeyName=RootManageSharedAccessKey",
                                "AccessKey=" KEY,
                                "LocalHost=127.0.0.1",
                                lp,
                                "LogLevel=2",
                                "ConnectionTimeout=1",
                                NULL};
    static dproc d;
    for (int journal = 1; journal >= 0; journal--) {
        const char *const other[] = {"JOURNAL_STREAM=1:1", NULL};
        d_spawn(&d, args, journal ? NULL : other, journal ? D_JOURNAL : 0);
        int port = d_port(&d);
        assert_false(echoes(port, "x")); /* nothing at 127.0.0.1:9: an error line */
        d_wait_log(&d, "Error", 5000);
        assert_int_equal(kill(d.pid, SIGHUP), 0);
        d_wait_log(&d, "reload: ", 5000);
        d_stop(&d);
        size_t lines = 0, by[8] = {0};
        for (const char *ln = d.text; *ln;) {
            const char *nl = strchr(ln, '\n');
            size_t len = nl ? (size_t)(nl - ln) : strlen(ln);
            lines++;
            if (journal) {
                if (len < 4 || ln[0] != '<' || ln[1] < '0' || ln[1] > '7' || ln[2] != '>' ||
                    !strncmp(ln + 3, "20", 2))
                    fail_msg("a line without its priority, or with a timestamp: %.*s\nlog:\n%s",
                             (int)len, ln, d.text);
                by[ln[1] - '0']++;
                if (strstr(ln, "warning:") && ln[1] != '4')
                    fail_msg("a warning at <%c>: %.*s", ln[1], (int)len, ln);
                if (!strncmp(ln + 3, "Error   ", 8) && !strstr(ln, "warning:") && ln[1] != '3')
                    fail_msg("an error at <%c>: %.*s", ln[1], (int)len, ln);
            } else if (ln[0] == '<') {
                fail_msg("a priority though stderr is not the journal: %.*s", (int)len, ln);
            }
            ln += len + (nl != NULL);
        }
        if (journal) {
            print_message("journal: %zu lines: <3> %zu, <4> %zu, <6> %zu, <7> %zu\n", lines, by[3],
                          by[4], by[6], by[7]);
            assert_true(by[3] > 0 && by[4] > 0 && by[6] > 0 && by[7] > 0);
            assert_non_null(strstr(d.text, "<4>azrelay-proxy: warning: AccessKey given on the "
                                           "command line"));
            assert_non_null(strstr(d.text, "<6>Info    [default] listening on 127.0.0.1:"));
        } else {
            assert_true(lines > 3);
            assert_non_null(strstr(d.text, "Z Info    [default] listening on 127.0.0.1:"));
        }
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_daemon_systemd_path_socket_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_systemd_abstract_socket_in_order_with_a_drain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_systemd_key_scrubbed_from_argv, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_daemon_systemd_config_file_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_systemd_environment_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_systemd_core_dumps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_systemd_journal_prefixes, setup, teardown),
    };
    return cmocka_run_group_tests_name("daemon_systemd", tests, NULL, NULL);
}
