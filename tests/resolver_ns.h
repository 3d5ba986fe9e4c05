/*
 * What the resolver suites share (test_resolver.c, test_resolver_net.c): a
 * network namespace of their own with dnsmasq in it (netns.h), the zone
 * they ask, a reactor and lookups through the resolver's own API. Each
 * case starts dnsmasq (its zone in an addn-hosts file and --cname lines,
 * queries logged to a file the case counts) and its teardown stops it by
 * PID. resolv.conf and hosts are the case's own files, passed through
 * azr_resolver_opts (no mount namespace: /etc stays the host's).
 */
#ifndef AZR_TEST_RESOLVER_NS_H
#define AZR_TEST_RESOLVER_NS_H

#include "netns.h"
#include "resolver_priv.h"

#define LONG_NAME "many-addresses-for-one-name.truncation.example.test"

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
    dns_stop();
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
    return ns_main(false, run);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

#endif
