/*
 * A network namespace of the suite's own, with dnsmasq in it: what the
 * suites that need a real DNS server share (resolver_ns.h for the resolver
 * suites, test_dial.c for the proxy). ns_main() forks; the child unshares
 * CLONE_NEWNET, brings lo up (any 127/8 address and ::1 then answer) and
 * runs the cases there, so port 53 on 127.0.0.0/8 is the suite's and
 * nothing leaves the namespace. With own_etc the child also unshares the
 * mount namespace and bind-mounts its resolv.conf and hosts over /etc's,
 * for code that reads those paths (the proxy does); the files stay the
 * suite's: write them with put_file_in_place() (a bind mount pins the
 * inode). dns_start() runs dnsmasq (no daemon, no resolv.conf, no
 * /etc/hosts, its zone in an addn-hosts file, queries logged to a file the
 * case counts); the case's teardown stops it by PID with dns_stop(). Not
 * root, no unshare or no dnsmasq: every case fails saying so (CI runs as
 * root).
 */
#ifndef AZR_TEST_NETNS_H
#define AZR_TEST_NETNS_H

#include "peers.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define DNSMASQ "/usr/sbin/dnsmasq"

static char ns_err[256];
static char dir[64];
static pid_t dnsmasq_pid;
static char path[4][128]; /* resolv.conf, hosts, zone, dnsmasq log */
#define RESOLV path[0]
#define HOSTS  path[1]
#define ZONE   path[2]
#define QLOG   path[3]

static inline void enter_namespace(bool own_etc)
{
    if (geteuid() != 0) {
        snprintf(ns_err, sizeof ns_err, "not root (euid %d)", (int)geteuid());
        return;
    }
    int flags = CLONE_NEWNET | (own_etc ? CLONE_NEWNS : 0);
    if (unshare(flags) != 0) {
        snprintf(ns_err, sizeof ns_err, "unshare(CLONE_NEWNET%s): %s",
                 own_etc ? " | CLONE_NEWNS" : "", strerror(errno));
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

static inline void need_namespace(void)
{
    if (ns_err[0])
        fail_msg("%s needs root, a network namespace of its own and dnsmasq: %s",
                 program_invocation_short_name, ns_err);
}

static inline void put_file(const char *p, const char *text)
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

/* The same file rewritten (same inode): for files bind-mounted over /etc's. */
static inline void put_file_in_place(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static inline size_t count_in_file(const char *p, const char *needle)
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

/* dnsmasq on 127.0.0.1:53 with ZONE as its hosts; local_ttl for its answers.
 * It reads ZONE again on SIGHUP. */
static inline void dns_start(int local_ttl)
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

static inline void dns_stop(void)
{
    if (dnsmasq_pid > 0)
        proc_end(dnsmasq_pid);
    dnsmasq_pid = 0;
}

/* /etc/<name> becomes the suite's file p (both exist; the mount namespace is ours). */
static inline void etc_over(const char *p, const char *name)
{
    char target[64];
    struct stat a, b;
    snprintf(target, sizeof target, "/etc/%s", name);
    if (mount(p, target, NULL, MS_BIND, NULL) != 0) {
        snprintf(ns_err, sizeof ns_err, "bind-mounting %s over %s: %s", p, target, strerror(errno));
        return;
    }
    if (stat(p, &a) != 0 || stat(target, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        snprintf(ns_err, sizeof ns_err, "%s is not %s after the bind mount", target, p);
}

/* Fork, enter the namespace in the child and run the cases there; the
 * child's status. own_etc: RESOLV and HOSTS are mounted over /etc/resolv.conf
 * and /etc/hosts (holding "nameserver 127.0.0.1" and localhost until a case
 * rewrites them in place). */
static inline int ns_main(bool own_etc, int (*run)(void))
{
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        enter_namespace(own_etc);
        snprintf(dir, sizeof dir, "/tmp/azr-netns-XXXXXX");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "%s: mkdtemp %s: %s\n", program_invocation_short_name, dir,
                    strerror(errno));
            exit(1);
        }
        static const char *names[] = {"resolv.conf", "hosts", "zone", "dnsmasq.log"};
        for (int i = 0; i < 4; i++)
            snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
        if (own_etc && !ns_err[0]) {
            put_file(RESOLV, "nameserver 127.0.0.1\n");
            put_file(HOSTS, "127.0.0.1 localhost\n");
            /* the mounts stay in this namespace: none propagates back to the host's */
            if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
                snprintf(ns_err, sizeof ns_err, "mount(/, MS_REC | MS_PRIVATE): %s",
                         strerror(errno));
            if (!ns_err[0])
                etc_over(RESOLV, "resolv.conf");
            if (!ns_err[0])
                etc_over(HOSTS, "hosts");
        }
        int rc = run(); /* the mounts end with this process's namespace */
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

#endif
