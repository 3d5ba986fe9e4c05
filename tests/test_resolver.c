/*
 * The resolver (src/resolver.c, resquery.c, rescache.c, resconf.c) against
 * a real dnsmasq in a network namespace of the suite's own (resolver_ns.h):
 * A, AAAA and both, CNAME chains, NXDOMAIN and its reason, the hosts file
 * first and read again, one query shared by 100 lookups, cancel, literals,
 * bad names, the search list, forget. Each callback must come later, from
 * the loop, never from inside the lookup.
 */
#include "resolver_ns.h"

/* A, AAAA and both; the second lookup comes from the cache; a query per family. */
static void test_resolver_a_aaaa_both(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    world(&l, &r);
    dns_start(300);
    resolve(l, r, "www.example.test", 0, &g);
    assert_int_equal(g.st, AZR_RES_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(addr(&g, 0), "192.0.2.10");
    assert_string_equal(g.source, "dns");
    assert_string_equal(g.reason, "DNS: www.example.test is 192.0.2.10 (from 127.0.0.1)");
    assert_int_equal(g.ttl, 300);
    resolve(l, r, "WWW.Example.Test.", 1, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(addr(&g, 0), "2001:db8::10");
    resolve(l, r, "www.example.test", 2, &g); /* both cached now */
    assert_int_equal(g.n, 2);
    assert_string_equal(addr(&g, 0), "2001:db8::10"); /* IPv6 first */
    assert_string_equal(addr(&g, 1), "192.0.2.10");
    assert_string_equal(g.source, "cache");
    assert_int_equal(stats(r).udp_sent, 2);
    assert_int_equal(stats(r).cache_hits, 2);
    resolve(l, r, "shared.example.test", 2, &g); /* both asked at once */
    assert_int_equal(g.n, 2);
    assert_string_equal(addr(&g, 1), "192.0.2.30");
    assert_int_equal(count_in_file(QLOG, "query[A] www.example.test"), 1);
    assert_int_equal(count_in_file(QLOG, "query[AAAA] www.example.test"), 1);
    assert_int_equal(count_in_file(QLOG, "query[A] shared.example.test"), 1);
    assert_int_equal(count_in_file(QLOG, "query[AAAA] shared.example.test"), 1);
    end(l, r);
}

static void test_resolver_cname_chain(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    world(&l, &r);
    dns_start(300);
    resolve(l, r, "alias.example.test", 2, &g);
    assert_int_equal(g.st, AZR_RES_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(addr(&g, 0), "2001:db8::10");
    assert_string_equal(addr(&g, 1), "192.0.2.10");
    end(l, r);
}

/* NXDOMAIN: a reason naming the name and the server; kept for 5 s (dnsmasq sends no SOA). */
static void test_resolver_nxdomain(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    world(&l, &r);
    dns_start(300);
    resolve(l, r, "nope.example.test", 0, &g);
    assert_int_equal(g.st, AZR_RES_NXDOMAIN);
    assert_int_equal(g.n, 0);
    assert_string_equal(g.reason,
                        "DNS: nope.example.test does not exist (NXDOMAIN from 127.0.0.1)");
    resolve(l, r, "nope.example.test", 0, &g);
    assert_int_equal(g.st, AZR_RES_NXDOMAIN);
    assert_int_equal(stats(r).cache_hits, 1);
    assert_int_equal(stats(r).udp_sent, 1);
    /* both families: NXDOMAIN for each */
    resolve(l, r, "gone.example.test", 2, &g);
    assert_int_equal(g.st, AZR_RES_NXDOMAIN);
    assert_non_null(strstr(g.reason, "gone.example.test does not exist"));
    end(l, r);
}

/* The hosts file comes first (no query), and is read again when it changes. */
static void test_resolver_hosts_first(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    put_file(HOSTS, "192.0.2.99 www.example.test www\n::1 localhost\n");
    world(&l, &r);
    dns_start(300);
    resolve(l, r, "www.example.test", 2, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(addr(&g, 0), "192.0.2.99");
    assert_string_equal(g.source, "hosts");
    assert_int_equal(stats(r).udp_sent, 0);
    char line[256];
    snprintf(line, sizeof line, "DNS: www.example.test is 192.0.2.99 (from %s line 1)", HOSTS);
    assert_string_equal(g.reason, line);
    put_file(HOSTS, "# moved\n192.0.2.98 www.example.test\n");
    resolve(l, r, "www.example.test", 0, &g); /* within the second: not looked at yet */
    assert_string_equal(addr(&g, 0), "192.0.2.99");
    uint64_t t0 = ms();
    while (ms() - t0 < 1100)
        assert_int_equal(azr_reactor_turn(l, 20, NULL), AZR_OK);
    resolve(l, r, "www.example.test", 0, &g);
    assert_string_equal(addr(&g, 0), "192.0.2.98");
    assert_int_equal(stats(r).reloads, 1);
    assert_int_equal(count_in_file(QLOG, "query["), 0);
    end(l, r);
}

/* 100 lookups of one name at once: one A and one AAAA query; a cancelled sharer is not
 * called, the others are. */
static void test_resolver_shared_inflight(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    static azr_resolve_req q[100];
    static got g[100];
    int calls = 0;
    world(&l, &r);
    dns_start(300);
    memset(q, 0, sizeof q);
    for (int i = 0; i < 100; i++)
        lookup(r, &q[i], "shared.example.test", 2, &g[i]);
    azr_resolver_cancel(r, &q[50]);
    for (uint64_t stop = ms() + 3000; ms() < stop;) {
        calls = 0;
        for (int i = 0; i < 100; i++)
            calls += g[i].calls;
        if (calls == 99)
            break;
        assert_int_equal(azr_reactor_turn(l, 20, NULL), AZR_OK);
    }
    assert_int_equal(calls, 99);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(g[i].calls, i == 50 ? 0 : 1);
        if (i != 50)
            assert_int_equal(g[i].n, 2);
    }
    assert_int_equal(stats(r).udp_sent, 2);
    assert_int_equal(stats(r).shared, 2 * 99);
    assert_int_equal(count_in_file(QLOG, "query[A] shared.example.test"), 1);
    assert_int_equal(count_in_file(QLOG, "query[AAAA] shared.example.test"), 1);
    end(l, r);
}

/* Cancel: no callback, whether the lookup waits on a query, on its task (a literal), or
 * is idle; the query nobody waits for is dropped. */
static void test_resolver_cancel(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    azr_resolve_req q = {0};
    got g;
    world(&l, &r);
    dns_start(300);
    azr_resolver_cancel(r, &q); /* idle */
    lookup(r, &q, "www.example.test", 2, &g);
    assert_int_equal(azr_resolver_lookup(r, &q, "x.example.test", 0, on_res, &g), AZR_E_STATE);
    azr_resolver_cancel(r, &q);
    azr_resolver_cancel(r, &q); /* twice */
    for (size_t i = 0; i < r->nq; i++)
        assert_int_equal(r->q[i].state, AZR_RESQ_FREE);
    lookup(r, &q, "192.0.2.1", 0, &g);
    azr_resolver_cancel(r, &q);
    uint64_t t0 = ms();
    while (ms() - t0 < 300)
        assert_int_equal(azr_reactor_turn(l, 20, NULL), AZR_OK);
    assert_int_equal(g.calls, 0);
    /* the req is reusable after a cancel */
    lookup(r, &q, "www.example.test", 0, &g);
    run_until(l, &g.calls, 1, 3000);
    assert_string_equal(addr(&g, 0), "192.0.2.10");
    assert_int_equal(azr_resolver_lookup(r, &q, "x", 3, on_res, &g), AZR_E_ARG);
    assert_int_equal(azr_resolver_lookup(r, &q, NULL, 0, on_res, &g), AZR_E_ARG);
    end(l, r);
}

/* Literals answer without a query, later, from the loop; bad names through the callback. */
static void test_resolver_literals_and_bad_names(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    world(&l, &r);
    static const struct {
        const char *host, *addr;
    } lit[] = {{"192.0.2.1", "192.0.2.1"}, {"[2001:db8::1]", "2001:db8::1"}, {"::1", "::1"}};
    for (size_t i = 0; i < 3; i++) {
        resolve(l, r, lit[i].host, 0, &g);
        assert_int_equal(g.st, AZR_RES_OK);
        assert_string_equal(addr(&g, 0), lit[i].addr);
        assert_string_equal(g.source, "literal");
    }
    resolve(l, r, "bad name.example", 2, &g);
    assert_int_equal(g.st, AZR_RES_BADNAME);
    assert_string_equal(g.reason, "DNS: 'bad name.example' is not a valid host name: a host name "
                                  "holds only letters, digits, '-' and '_' between its dots");
    resolve(l, r, "", 2, &g);
    assert_int_equal(g.st, AZR_RES_BADNAME);
    assert_int_equal(stats(r).udp_sent, 0);
    end(l, r);
}

/* The search list: "www" has fewer dots than ndots:1, so www.example.test is asked first;
 * "nope" goes through the list and then as given, and the reason is the name as given. */
static void test_resolver_search_list(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    put_file(RESOLV, "nameserver 127.0.0.1\nsearch example.test\noptions timeout:3 attempts:2\n");
    world(&l, &r);
    dns_start(300);
    resolve(l, r, "www", 0, &g);
    assert_int_equal(g.st, AZR_RES_OK);
    assert_string_equal(addr(&g, 0), "192.0.2.10");
    resolve(l, r, "nope", 0, &g);
    assert_int_equal(g.st, AZR_RES_NXDOMAIN);
    assert_int_equal(count_in_file(QLOG, "query[A] nope.example.test"), 1);
    assert_int_equal(count_in_file(QLOG, "query[A] nope from"), 1);
    end(l, r);
}

/* forget: the next lookup asks the server again. */
static void test_resolver_forget(void **s)
{
    (void)s;
    azr_reactor *l;
    azr_resolver *r;
    got g;
    world(&l, &r);
    dns_start(300);
    resolve(l, r, "www.example.test", 2, &g);
    resolve(l, r, "www.example.test", 2, &g);
    assert_int_equal(stats(r).udp_sent, 2);
    azr_resolver_forget(r, "WWW.example.test.");
    resolve(l, r, "www.example.test", 2, &g);
    assert_string_equal(g.source, "dns");
    assert_int_equal(stats(r).udp_sent, 4);
    end(l, r);
}

static int run(void)
{
    const struct CMUnitTest tests[] = {
        T(test_resolver_a_aaaa_both),
        T(test_resolver_cname_chain),
        T(test_resolver_nxdomain),
        T(test_resolver_hosts_first),
        T(test_resolver_shared_inflight),
        T(test_resolver_cancel),
        T(test_resolver_literals_and_bad_names),
        T(test_resolver_search_list),
        T(test_resolver_forget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
    return resolver_ns_main(run);
}
