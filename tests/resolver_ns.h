/*
 * What the resolver suites share (test_resolver.c, test_resolver_net.c): a
 * network namespace of their own, dnsmasq in it, files and a reactor.
 * resolver_ns_main() forks; the child unshares CLONE_NEWNET, brings lo up
 * and runs the cases there, so port 53 on 127.0.0.0/8 is the suite's and
 * nothing leaves the namespace. Each case starts dnsmasq (no daemon, no
 * resolv.conf, no /etc/hosts, its zone in an addn-hosts file and --cname
 * lines, queries logged to a file the case counts) and its teardown stops
 * it by PID. resolv.conf and hosts are the case's own files, passed through
 * azr_resolver_opts. Not root, no unshare or no dnsmasq: every case fails
 * saying so (CI runs as root).
 */
#ifndef AZR_TEST_RESOLVER_NS_H
#define AZR_TEST_RESOLVER_NS_H

#include "peers.h"
#include "resolver_priv.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>

#define DNSMASQ   "/usr/sbin/dnsmasq"
#define LONG_NAME "many-addresses-for-one-name.truncation.example.test"

static char ns_err[256];
static char dir[64];
static pid_t dnsmasq_pid;
static char path[4][128]; /* resolv.conf, hosts, zone, dnsmasq log */
#define RESOLV path[0]
#define HOSTS  path[1]
#define ZONE   path[2]
#define QLOG   path[3]

static void enter_namespace(void)
{
    if (geteuid() != 0) {
        snprintf(ns_err, sizeof ns_err, "not root (euid %d)", (int)geteuid());
        return;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        snprintf(ns_err, sizeof ns_err, "unshare(CLONE_NEWNET): %s", strerror(errno));
        return;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) != 0))
        snprintf(ns_err, sizeof ns_err, "bringing lo up: %s", strerror(errno));
    if (s >= 0)
        close(s);
    if (!ns_err[0] && access(DNSMASQ, X_OK) != 0)
        snprintf(ns_err, sizeof ns_err, DNSMASQ " missing (apt-get install dnsmasq-base)");
}

static void need_namespace(void)
{
    if (ns_err[0])
        fail_msg("test_resolver needs root, a network namespace of its own and dnsmasq: %s",
                 ns_err);
}

static void put_file(const char *p, const char *text)
{
    /* a new file renamed over the old one: a new inode, as editors and DHCP clients do */
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.new", p);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, p), 0);
}

static size_t count_in_file(const char *p, const char *needle)
{
    char buf[65536];
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f), c = 0;
    fclose(f);
    buf[n] = '\0';
    for (const char *s = buf; (s = strstr(s, needle)) != NULL; s++)
        c++;
    return c;
}

static void zone(int ttl_changing_addr)
{
    char z[8192];
    size_t n = (size_t)snprintf(z, sizeof z,
                                "192.0.2.10 www.example.test\n"
                                "2001:db8::10 www.example.test\n"
                                "192.0.2.30 shared.example.test\n"
                                "2001:db8::30 shared.example.test\n"
                                "192.0.2.%d changing.example.test\n",
                                ttl_changing_addr);
    for (int i = 1; i <= 16; i++)
        n += (size_t)snprintf(z + n, sizeof z - n, "192.0.2.%d %s\n2001:db8::1:%x %s\n", 100 + i,
                              LONG_NAME, i, LONG_NAME);
    put_file(ZONE, z);
}

/* dnsmasq on 127.0.0.1:53 with the zone; local_ttl for its answers. */
static void dns_start(int local_ttl)
{
    char addn[160], log[160], ttl[32];
    snprintf(addn, sizeof addn, "--addn-hosts=%s", ZONE);
    snprintf(log, sizeof log, "--log-facility=%s", QLOG);
    snprintf(ttl, sizeof ttl, "--local-ttl=%d", local_ttl);
    unlink(QLOG);
    const char *argv[] = {DNSMASQ,
                          "--no-daemon",
                          "--port=53",
                          "--listen-address=127.0.0.1",
                          "--bind-interfaces",
                          "--no-resolv",
                          "--no-hosts",
                          "--domain-needed",
                          "--log-queries",
                          log,
                          addn,
                          ttl,
                          "--local=/example.test/",
                          "--cname=alias.example.test,mid.example.test",
                          "--cname=mid.example.test,www.example.test",
                          NULL};
    dnsmasq_pid = spawn_quiet(argv);
    for (int i = 0; i < 300; i++) { /* until it takes TCP on 53 */
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
        close(s);
        if (ok)
            return;
        usleep(10000);
    }
    fail_msg("dnsmasq does not listen on 127.0.0.1:53");
}

static int setup(void **s)
{
    (void)s;
    zone(40);
    put_file(RESOLV, "nameserver 127.0.0.1\nsearch .\noptions timeout:3 attempts:2\n");
    put_file(HOSTS, "127.0.0.1 localhost\n");
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    if (dnsmasq_pid > 0)
        proc_end(dnsmasq_pid);
    dnsmasq_pid = 0;
    return 0;
}

/* ---------------------------------------------------------------- runs */

typedef struct got {
    int calls;
    azr_resolve_status st;
    size_t n;
    azr_sockaddr a[AZR_RES_MAX_ADDRS];
    char reason[AZR_RES_REASON_MAX], source[16];
    uint32_t ttl;
    bool inside; /* called while lookup() was running */
} got;

static bool in_lookup;

static void on_res(void *ud, azr_resolve_req *req, const azr_resolve_result *res)
{
    got *g = ud;
    (void)req;
    g->calls++;
    g->inside = in_lookup;
    g->st = res->status;
    g->n = res->naddrs;
    memcpy(g->a, res->addrs, res->naddrs * sizeof *res->addrs);
    snprintf(g->reason, sizeof g->reason, "%s", res->reason);
    snprintf(g->source, sizeof g->source, "%s", res->source);
    g->ttl = res->ttl;
}

static void lookup(azr_resolver *r, azr_resolve_req *q, const char *host, int fam, got *g)
{
    memset(g, 0, sizeof *g);
    in_lookup = true;
    assert_int_equal(azr_resolver_lookup(r, q, host, fam, on_res, g), AZR_OK);
    in_lookup = false;
    assert_int_equal(g->calls, 0); /* never from inside lookup */
}

static void run_until(azr_reactor *l, const int *calls, int want, int limit_ms)
{
    uint64_t stop = ms() + (uint64_t)limit_ms;
    while (*calls < want && ms() < stop)
        assert_int_equal(azr_reactor_turn(l, 20, NULL), AZR_OK);
    if (*calls < want)
        fail_msg("no callback within %d ms", limit_ms);
}

static void resolve(azr_reactor *l, azr_resolver *r, const char *host, int fam, got *g)
{
    azr_resolve_req q;
    memset(&q, 0, sizeof q);
    lookup(r, &q, host, fam, g);
    run_until(l, &g->calls, 1, 5000);
    assert_int_equal(g->calls, 1);
    assert_false(g->inside);
}

static const char *addr(const got *g, size_t i)
{
    static char t[64];
    uint16_t port;
    assert_true(i < g->n);
    azr_net_addr_text(&g->a[i], t, sizeof t, &port);
    assert_int_equal(port, 0);
    return t;
}

static void world(azr_reactor **l, azr_resolver **r)
{
    need_namespace();
    assert_int_equal(azr_reactor_new(l, 1024, 256, AZR_BACKEND_DEFAULT), AZR_OK);
    azr_resolver_opts o = {.resolv_conf = RESOLV, .hosts = HOSTS};
    *r = azr_resolver_new(*l, &o);
    assert_non_null(*r);
}

static void end(azr_reactor *l, azr_resolver *r)
{
    azr_resolver_free(r);
    azr_reactor_free(l);
}

static azr_resolver_stats stats(const azr_resolver *r)
{
    azr_resolver_stats s;
    azr_resolver_stats_get(r, &s);
    return s;
}

/* Fork, enter the namespace in the child and run the cases there; the child's status. */
static int resolver_ns_main(int (*run)(void))
{
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        enter_namespace();
        snprintf(dir, sizeof dir, "/tmp/azr-resolver-XXXXXX");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "resolver suite: mkdtemp %s: %s\n", dir, strerror(errno));
            exit(1);
        }
        static const char *names[] = {"resolv.conf", "hosts", "zone", "dnsmasq.log"};
        for (int i = 0; i < 4; i++)
            snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
        int rc = run();
        for (int i = 0; i < 4; i++) {
            unlink(path[i]);
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s.new", path[i]);
            unlink(tmp);
        }
        rmdir(dir);
        exit(rc);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

#endif
