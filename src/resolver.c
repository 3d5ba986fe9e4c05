/*
 * IMPLEMENTATION NOTES
 * A request walks its search list one name at a time (a "step"). In a step
 * each wanted family gets its outcome from the cache, from a query already
 * in flight for the same (name, type), or from a new query; the request
 * counts the queries it waits on (pending) and is linked into each query's
 * waiter list through its own wnext/wprev, so waiting allocates nothing and
 * any number of requests can share one query.
 *
 * When a query ends (resquery.c calls azr_resolver_query_done) its outcome
 * goes into the cache and into every waiter's out[family]; a waiter with
 * nothing left pending ends its step: addresses end the request; NXDOMAIN,
 * NODATA and SERVFAIL move on to the next name of the search list (as
 * glibc's res_search does), and once the list is spent the most telling of
 * them is reported (NODATA over SERVFAIL over NXDOMAIN, glibc's order);
 * a timeout or a local failure ends the request at once.
 *
 * A request never calls back from inside a lookup or a query's event: its
 * end queues its own task and the callback runs from there. So no caller's
 * state machine is re-entered, and a callback may cancel or start lookups
 * (it runs when no list is being walked). Between its end and its task a
 * request is DONE; cancelling it then just dequeues the task.
 */
#include "resolver_priv.h"
#include "text.h"
#include <stdarg.h>
#include <arpa/inet.h>
#include <netinet/in.h>

enum { REQ_IDLE = 0, REQ_RUNNING, REQ_DONE };
enum { FROM_DNS = 1, FROM_CACHE = 2 };

static const uint16_t qtype_of[2] = {AZR_DNS_TYPE_AAAA, AZR_DNS_TYPE_A};

size_t azr_resolver_nservers(const azr_resolver *r)
{
    return r->conf.nns ? r->conf.nns : 1;
}

const azr_sockaddr *azr_resolver_server(const azr_resolver *r, size_t i)
{
    return r->conf.nns ? &r->conf.ns[i % r->conf.nns] : &r->dflt_ns;
}

uint16_t azr_resolver_random16(azr_resolver *r)
{
    uint8_t b[2];
    br_hmac_drbg_generate(&r->rng, b, sizeof b);
    return (uint16_t)(b[0] << 8 | b[1]);
}

size_t azr_res_text(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    if (cap == 0)
        return 0;
    va_start(ap, fmt);
    int k = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (k < 0)
        out[0] = '\0';
    return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
}

static bool wants(const azr_resolve_req *q, size_t f)
{
    return q->fam == 2 || (f == AZR_RES_F6) == (q->fam == 1);
}

/* ------------------------------------------------------------ requests */

static void live_unlink(azr_resolver *r, azr_resolve_req *q)
{
    if (q->live_prev)
        q->live_prev->live_next = q->live_next;
    else
        r->live = q->live_next;
    if (q->live_next)
        q->live_next->live_prev = q->live_prev;
    q->live_next = q->live_prev = NULL;
}

static void deliver(azr_reactor *loop, azr_task *t, void *ud)
{
    azr_resolve_req *q = ud;
    azr_resolver *r = q->r;
    azr_resolve_result res = {0};
    (void)loop;
    (void)t;
    q->state = REQ_IDLE;
    live_unlink(r, q);
    res.status = (azr_resolve_status)q->best;
    res.reason = q->why;
    res.source = q->source;
    res.addrs = r->addrs;
    res.ttl = UINT32_MAX;
    for (size_t f = 0; f < 2 && res.status == AZR_RES_OK; f++) {
        const azr_res_outcome *o = &q->out[f];
        if (!wants(q, f) || o->st != AZR_RES_OK || o->naddr == 0)
            continue;
        res.ttl = o->ttl < res.ttl ? o->ttl : res.ttl;
        for (size_t i = 0; i < o->naddr; i++) {
            azr_sockaddr *a = &r->addrs[res.naddrs++];
            memset(a, 0, sizeof *a);
            if (f == AZR_RES_F6) {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
                s6->sin6_family = AF_INET6;
                memcpy(&s6->sin6_addr, o->addr[i], 16);
                s6->sin6_scope_id = q->scope;
                a->len = sizeof *s6;
            } else {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
                s4->sin_family = AF_INET;
                memcpy(&s4->sin_addr, o->addr[i], 4);
                a->len = sizeof *s4;
            }
        }
    }
    if (res.ttl == UINT32_MAX)
        res.ttl = 0;
    q->cb(q->ud, q, &res);
}

/* End q with status st; the reason is in q->why (a success text is made here). */
static void finish(azr_resolver *r, azr_resolve_req *q, azr_resolve_status st, const char *detail)
{
    q->best = (uint8_t)st;
    q->state = REQ_DONE;
    if (st == AZR_RES_OK) {
        char first[INET6_ADDRSTRLEN] = "";
        size_t n = 0;
        for (size_t f = 0; f < 2; f++) {
            const azr_res_outcome *o = &q->out[f];
            if (!wants(q, f) || o->st != AZR_RES_OK)
                continue;
            if (n == 0)
                inet_ntop(f == AZR_RES_F6 ? AF_INET6 : AF_INET, o->addr[0], first, sizeof first);
            n += o->naddr;
        }
        if (!q->source)
            q->source = q->from & FROM_DNS ? "dns" : "cache";
        char more[32] = "";
        if (n > 1)
            azr_res_text(more, sizeof more, " and %zu more", n - 1);
        azr_res_text(q->why, sizeof q->why, "DNS: %s is %s%s (%s)", q->host, first, more,
                     detail ? detail : q->source);
    }
    azr_task_queue(r->loop, &q->task, deliver, q);
}

/* Candidate k of the search list (glibc's res_search order): 1 a name, 0 none left,
 * -1 this one is too long (skip it). */
static int candidate(const azr_resolver *r, const azr_resolve_req *q, size_t k, char *out)
{
    size_t hl = strlen(q->host), dots = 0;
    for (size_t i = 0; i < hl; i++)
        dots += q->host[i] == '.';
    const char *dom[AZR_RC_MAX_SEARCH];
    size_t nd = 0;
    if (!q->absolute && r->conf.search_set)
        for (; nd < r->conf.nsearch; nd++)
            dom[nd] = r->conf.search[nd];
    else if (!q->absolute && r->host_domain[0])
        dom[nd++] = r->host_domain;
    bool as_is_first = dots >= r->conf.ndots;
    if (k > nd)
        return 0;
    if ((as_is_first && k == 0) || (!as_is_first && k == nd)) {
        memcpy(out, q->host, hl + 1);
        return 1;
    }
    const char *d = dom[as_is_first ? k - 1 : k];
    size_t dl = strlen(d);
    if (hl + 1 + dl > AZR_DNS_NAME_MAX)
        return -1;
    memcpy(out, q->host, hl);
    out[hl] = '.';
    memcpy(out + hl + 1, d, dl + 1);
    return 1;
}

static void join(azr_resolver *r, azr_resolve_req *q, size_t f, size_t slot)
{
    azr_resq *s = &r->q[slot];
    q->slot[f] = (uint32_t)slot + 1;
    q->wprev[f] = NULL;
    q->wnext[f] = s->waiters;
    if (s->waiters)
        s->waiters->wprev[f] = q;
    s->waiters = q;
    s->nwait++;
    q->pending++;
}

static void step_done(azr_resolver *r, azr_resolve_req *q);

/* Start step q->cand: every wanted family from the cache, a shared query or a new one. */
static void step_start(azr_resolver *r, azr_resolve_req *q)
{
    char name[AZR_DNS_NAME_MAX + 1];
    int c;
    while ((c = candidate(r, q, q->cand, name)) < 0)
        q->cand++;
    if (c == 0) {
        if (q->why[0] == '\0')
            azr_res_text(q->why, sizeof q->why,
                         "DNS: %s with each search domain is longer than 253 bytes", q->host);
        finish(r, q, (azr_resolve_status)q->best, NULL);
        return;
    }
    uint64_t now = azr_reactor_now(r->loop);
    q->pending = 0;
    for (size_t f = 0; f < 2; f++) {
        if (!wants(q, f))
            continue;
        azr_res_outcome *o = &q->out[f];
        uint16_t qt = qtype_of[f];
        o->st = AZR_RES_OK;
        o->naddr = 0;
        o->reason[0] = '\0';
        const azr_rescache_ent *e = azr_rescache_get(&r->cache, name, qt, now);
        if (e) {
            r->stats.cache_hits++;
            q->from |= FROM_CACHE;
            o->st = e->st;
            o->naddr = e->naddr;
            o->ttl = (uint32_t)((e->expires - now + 999) / 1000);
            memcpy(o->addr, e->addr, sizeof o->addr);
            memcpy(o->reason, e->reason, sizeof o->reason);
            continue;
        }
        long s = azr_resq_find(r, name, qt, azr_rescache_hash(name, qt));
        size_t slot;
        if (s >= 0) {
            r->stats.shared++;
            join(r, q, f, (size_t)s);
            continue;
        }
        azr_err e2 = azr_resq_start(r, name, qt, &slot, o);
        if (e2 == AZR_OK) {
            join(r, q, f, slot);
        } else if (e2 == AZR_E_LIMIT) {
            o->st = AZR_RES_LIMIT;
            azr_res_text(o->reason, sizeof o->reason,
                         "DNS: %zu queries in flight already (max_queries), none left for %s",
                         r->nq, name);
        } /* AZR_E_IO: o holds the failure */
    }
    if (q->pending == 0)
        step_done(r, q);
}

static int rank(uint8_t st) /* glibc's res_search: NODATA over SERVFAIL over NXDOMAIN */
{
    return st == AZR_RES_NOADDR ? 3 : st == AZR_RES_SERVFAIL ? 2 : 1;
}

static void step_done(azr_resolver *r, azr_resolve_req *q)
{
    const azr_res_outcome *o4 = &q->out[AZR_RES_F4], *o6 = &q->out[AZR_RES_F6];
    bool w4 = wants(q, AZR_RES_F4), w6 = wants(q, AZR_RES_F6);
    if ((w4 && o4->st == AZR_RES_OK) || (w6 && o6->st == AZR_RES_OK)) {
        const char *srv = w6 && o6->st == AZR_RES_OK ? o6->reason : o4->reason;
        char detail[AZR_RES_REASON_MAX];
        azr_res_text(detail, sizeof detail, "%s %.*s", q->from & FROM_DNS ? "from" : "cached, from",
                     INET6_ADDRSTRLEN, srv);
        finish(r, q, AZR_RES_OK, detail);
        return;
    }
    /* the family that says the most: a local or server failure, then NODATA */
    const azr_res_outcome *o = w6 ? o6 : o4;
    if (w4 && w6) {
        bool bad4 = o4->st >= AZR_RES_TIMEOUT, bad6 = o6->st >= AZR_RES_TIMEOUT;
        o = bad6 ? o6 : bad4 ? o4 : rank(o4->st) > rank(o6->st) ? o4 : o6;
    }
    uint8_t st = o->st;
    if (st == AZR_RES_SERVFAIL || st == AZR_RES_NXDOMAIN || st == AZR_RES_NOADDR) {
        char name[AZR_DNS_NAME_MAX + 1];
        bool as_given = candidate(r, q, q->cand, name) == 1 && strcmp(name, q->host) == 0;
        if (q->why[0] == '\0' || rank(st) > rank(q->best) ||
            (rank(st) == rank(q->best) && as_given)) {
            q->best = st;
            memcpy(q->why, o->reason, sizeof q->why);
            if (w4 && w6 && o4->st == AZR_RES_NOADDR && o6->st == AZR_RES_NOADDR) {
                char *p = strstr(q->why, " has no IPv");
                if (p)
                    azr_res_text(
                        p, sizeof q->why - (size_t)(p - q->why),
                        " has no IPv4 or IPv6 address (NOERROR without A or AAAA records)");
            }
        }
        q->cand++;
        step_start(r, q);
        return;
    }
    memcpy(q->why, o->reason, sizeof q->why);
    finish(r, q, (azr_resolve_status)st, NULL);
}

void azr_resolver_query_done(azr_resolver *r, azr_resq *s, azr_res_outcome *o, uint32_t cache_ttl)
{
    size_t f = s->qtype == AZR_DNS_TYPE_A ? AZR_RES_F4 : AZR_RES_F6;
    azr_resolve_req *w = s->waiters;
    azr_rescache_put(&r->cache, s->name, s->qtype, o, cache_ttl, azr_reactor_now(r->loop));
    azr_resq_stop(r, s); /* the waiters are ours now; the slot may serve the next step */
    while (w) {
        azr_resolve_req *next = w->wnext[f];
        w->slot[f] = 0;
        w->wnext[f] = w->wprev[f] = NULL;
        memcpy(&w->out[f], o, sizeof *o);
        w->from |= FROM_DNS;
        if (--w->pending == 0)
            step_done(r, w);
        w = next;
    }
}

/* ------------------------------------------------------------------ API */

azr_resolver *azr_resolver_new(azr_reactor *loop, const azr_resolver_opts *o)
{
    azr_resolver_opts d = {0};
    if (!o)
        o = &d;
    size_t nq = o->max_queries ? o->max_queries : AZR_RES_QUERIES_DEFAULT;
    size_t nc = o->cache_entries ? o->cache_entries : AZR_RES_CACHE_DEFAULT;
    if (!loop || nq > AZR_RES_QUERIES_MAX || nc > AZR_RES_CACHE_MAX)
        return NULL;
    azr_resolver *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->loop = loop;
    r->conf_path = strdup(o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf");
    r->hosts_path = strdup(o->hosts ? o->hosts : "/etc/hosts");
    r->q = calloc(nq, sizeof *r->q);
    r->bufs = malloc(nq * (AZR_DNS_TCP_MAX + 2));
    const br_prng_seeder seeder = br_prng_seeder_system(NULL);
    br_hmac_drbg_init(&r->rng, &br_sha256_vtable, NULL, 0);
    if (!r->conf_path || !r->hosts_path || !r->q || !r->bufs || !seeder ||
        !seeder(&r->rng.vtable) || azr_rescache_init(&r->cache, nc) != AZR_OK) {
        azr_resolver_free(r);
        return NULL;
    }
    r->nq = nq;
    for (size_t i = 0; i < nq; i++) {
        r->q[i].fd = -1;
        r->q[i].buf = r->bufs + i * (AZR_DNS_TCP_MAX + 2);
    }
    if (!azr_rc_ip_literal("127.0.0.1", 9, NULL, 53, &r->dflt_ns))
        abort();
    azr_resolver_host_domain(r);
    azr_resolver_reload(r, true);
    return r;
}

void azr_resolver_free(azr_resolver *r)
{
    if (!r)
        return;
    while (r->live)
        azr_resolver_cancel(r, r->live);
    for (size_t i = 0; i < r->nq; i++)
        if (r->q[i].state != AZR_RESQ_FREE)
            azr_resq_stop(r, &r->q[i]);
    azr_rescache_free(&r->cache);
    free(r->q);
    free(r->bufs);
    free(r->conf_path);
    free(r->hosts_path);
    free(r->hosts);
    free(r);
}

void azr_resolver_cancel(azr_resolver *r, azr_resolve_req *q)
{
    if (!r || !q || q->state == REQ_IDLE || q->r != r)
        return;
    for (size_t f = 0; f < 2; f++) {
        if (!q->slot[f])
            continue;
        azr_resq *s = &r->q[q->slot[f] - 1];
        if (q->wprev[f])
            q->wprev[f]->wnext[f] = q->wnext[f];
        else
            s->waiters = q->wnext[f];
        if (q->wnext[f])
            q->wnext[f]->wprev[f] = q->wprev[f];
        q->wnext[f] = q->wprev[f] = NULL;
        q->slot[f] = 0;
        if (--s->nwait == 0)
            azr_resq_stop(r, s); /* nobody else wants it */
    }
    azr_task_cancel(r->loop, &q->task);
    live_unlink(r, q);
    q->state = REQ_IDLE;
}

/* The host as a literal (brackets allowed around IPv6) or a checked name in q->host. */
static bool take_host(azr_resolve_req *q, const char *host, azr_sockaddr *lit, bool *is_lit)
{
    size_t n = strlen(host);
    const char *h = host;
    *is_lit = false;
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (azr_rc_ip_literal(h, n, azr_resolver_scope, 0, lit)) {
        *is_lit = true;
        return true;
    }
    uint8_t w[AZR_DNS_WIRE_MAX];
    size_t wl;
    const char *why;
    if (azr_dns_name_wire(host, w, &wl, &why) != AZR_OK) {
        char esc[AZR_TEXT_ESCAPED_MAX(64)];
        azr_text_escape(host, strlen(host), 64, esc, sizeof esc);
        azr_res_text(q->why, sizeof q->why, "DNS: '%s' is not a valid host name: %s", esc, why);
        return false;
    }
    n = strlen(host);
    q->absolute = host[n - 1] == '.';
    n -= q->absolute;
    for (size_t i = 0; i < n; i++)
        q->host[i] = azr_text_lower(host[i]);
    q->host[n] = '\0';
    return true;
}

azr_err azr_resolver_lookup(azr_resolver *r, azr_resolve_req *q, const char *host, int family_pref,
                            azr_resolve_cb cb, void *ud)
{
    if (!r || !q || !host || !cb || family_pref < 0 || family_pref > 2)
        return AZR_E_ARG;
    if (q->state != REQ_IDLE)
        return AZR_E_STATE;
    memset(q, 0, offsetof(azr_resolve_req, host));
    q->host[0] = q->why[0] = '\0';
    q->r = r;
    q->cb = cb;
    q->ud = ud;
    q->fam = (uint8_t)family_pref;
    q->state = REQ_RUNNING;
    q->best = AZR_RES_NXDOMAIN;
    q->live_next = r->live;
    if (r->live)
        r->live->live_prev = q;
    r->live = q;
    r->stats.lookups++;
    azr_resolver_reload(r, false);
    azr_sockaddr lit;
    bool is_lit;
    if (!take_host(q, host, &lit, &is_lit)) {
        finish(r, q, AZR_RES_BADNAME, NULL);
        return AZR_OK;
    }
    if (is_lit) {
        size_t f = lit.ss.ss_family == AF_INET6 ? AZR_RES_F6 : AZR_RES_F4;
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&lit.ss;
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&lit.ss;
        q->fam = f == AZR_RES_F6 ? 1 : 0; /* the caller named the address: it is the answer */
        q->out[f].st = AZR_RES_OK;
        q->out[f].naddr = 1;
        memcpy(q->out[f].addr[0], f == AZR_RES_F6 ? (const void *)&s6->sin6_addr : &s4->sin_addr,
               f == AZR_RES_F6 ? 16 : 4);
        q->scope = f == AZR_RES_F6 ? s6->sin6_scope_id : 0;
        snprintf(q->host, sizeof q->host, "%s", host);
        q->source = "literal";
        r->stats.literals++;
        finish(r, q, AZR_RES_OK, "an IP literal");
        return AZR_OK;
    }
    azr_hosts_result h;
    if (r->hosts_len &&
        azr_hosts_lookup(r->hosts, r->hosts_len, q->host, q->fam != 1, q->fam != 0, &h)) {
        q->out[AZR_RES_F4].st = h.n4 ? AZR_RES_OK : AZR_RES_NOADDR;
        q->out[AZR_RES_F4].naddr = (uint8_t)h.n4;
        memcpy(q->out[AZR_RES_F4].addr, h.a4, sizeof h.a4);
        q->out[AZR_RES_F6].st = h.n6 ? AZR_RES_OK : AZR_RES_NOADDR;
        q->out[AZR_RES_F6].naddr = (uint8_t)h.n6;
        memcpy(q->out[AZR_RES_F6].addr, h.a6, sizeof h.a6);
        char detail[64 + 20];
        azr_res_text(detail, sizeof detail, "from %.*s line %zu", 64, r->hosts_path, h.line);
        q->source = "hosts";
        r->stats.hosts++;
        finish(r, q, AZR_RES_OK, detail);
        return AZR_OK;
    }
    step_start(r, q);
    return AZR_OK;
}

void azr_resolver_forget(azr_resolver *r, const char *host)
{
    azr_resolve_req q;
    azr_sockaddr lit;
    bool is_lit;
    char name[AZR_DNS_NAME_MAX + 1];
    if (!r || !host)
        return;
    memset(&q, 0, sizeof q);
    if (!take_host(&q, host, &lit, &is_lit) || is_lit)
        return;
    int c;
    for (size_t k = 0; (c = candidate(r, &q, k, name)) != 0; k++)
        if (c > 0)
            azr_rescache_forget(&r->cache, name);
}

void azr_resolver_stats_get(const azr_resolver *r, azr_resolver_stats *out)
{
    *out = r->stats;
}

const char *azr_resolver_conf_note(const azr_resolver *r)
{
    return r->conf.note;
}
