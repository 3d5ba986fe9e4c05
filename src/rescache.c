/*
 * IMPLEMENTATION NOTES
 * A fixed table of entries, allocated once. Entries are found through
 * chained buckets (indices, -1 ends a chain) keyed by FNV-1a over the name
 * and the type, and ordered in an LRU list: a hit moves the entry to the
 * front, a put into a full table takes the tail. Expired entries are
 * dropped when met (a get, or the slot they hold being wanted); nothing
 * scans the table on a timer, so an idle cache costs nothing.
 */
#include "resolver_priv.h"

uint32_t azr_rescache_hash(const char *name, uint16_t qtype)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ (qtype & 0xFFu)) * 16777619u;
    return (h ^ (qtype >> 8)) * 16777619u;
}

azr_err azr_rescache_init(azr_rescache *c, size_t cap)
{
    memset(c, 0, sizeof *c);
    if (cap == 0 || cap > AZR_RES_CACHE_MAX)
        return AZR_E_ARG;
    size_t nb = 1;
    while (nb < cap * 2)
        nb <<= 1;
    c->ent = calloc(cap, sizeof *c->ent);
    c->bucket = malloc(nb * sizeof *c->bucket);
    if (!c->ent || !c->bucket) {
        azr_rescache_free(c);
        return AZR_E_NOMEM;
    }
    c->cap = cap;
    c->nbucket = nb;
    for (size_t i = 0; i < nb; i++)
        c->bucket[i] = -1;
    for (size_t i = 0; i < cap; i++)
        c->ent[i].hnext = i + 1 < cap ? (int32_t)(i + 1) : -1;
    c->free_head = 0;
    c->lru_head = c->lru_tail = -1;
    return AZR_OK;
}

void azr_rescache_free(azr_rescache *c)
{
    free(c->ent);
    free(c->bucket);
    memset(c, 0, sizeof *c);
}

static void lru_unlink(azr_rescache *c, int32_t i)
{
    azr_rescache_ent *e = &c->ent[i];
    if (e->lprev >= 0)
        c->ent[e->lprev].lnext = e->lnext;
    else
        c->lru_head = e->lnext;
    if (e->lnext >= 0)
        c->ent[e->lnext].lprev = e->lprev;
    else
        c->lru_tail = e->lprev;
}

static void lru_front(azr_rescache *c, int32_t i)
{
    azr_rescache_ent *e = &c->ent[i];
    e->lprev = -1;
    e->lnext = c->lru_head;
    if (c->lru_head >= 0)
        c->ent[c->lru_head].lprev = i;
    c->lru_head = i;
    if (c->lru_tail < 0)
        c->lru_tail = i;
}

/* Take entry i out of its bucket and the LRU list, onto the free chain. */
static void drop(azr_rescache *c, int32_t i)
{
    azr_rescache_ent *e = &c->ent[i];
    int32_t *pp = &c->bucket[e->hash & (c->nbucket - 1)];
    while (*pp != i)
        pp = &c->ent[*pp].hnext;
    *pp = e->hnext;
    lru_unlink(c, i);
    e->name[0] = '\0';
    e->hnext = c->free_head;
    c->free_head = i;
    c->used--;
}

static int32_t find(const azr_rescache *c, const char *name, uint16_t qtype, uint32_t h)
{
    for (int32_t i = c->bucket[h & (c->nbucket - 1)]; i >= 0; i = c->ent[i].hnext) {
        const azr_rescache_ent *e = &c->ent[i];
        if (e->hash == h && e->qtype == qtype && strcmp(e->name, name) == 0)
            return i;
    }
    return -1;
}

const azr_rescache_ent *azr_rescache_get(azr_rescache *c, const char *name, uint16_t qtype,
                                         uint64_t now)
{
    if (!c->ent)
        return NULL;
    int32_t i = find(c, name, qtype, azr_rescache_hash(name, qtype));
    if (i < 0)
        return NULL;
    if (c->ent[i].expires <= now) {
        drop(c, i);
        return NULL;
    }
    lru_unlink(c, i);
    lru_front(c, i);
    return &c->ent[i];
}

void azr_rescache_put(azr_rescache *c, const char *name, uint16_t qtype, const azr_res_outcome *o,
                      uint32_t ttl_s, uint64_t now)
{
    size_t nl = strlen(name);
    if (!c->ent || ttl_s == 0 || nl > AZR_DNS_NAME_MAX)
        return;
    uint32_t h = azr_rescache_hash(name, qtype);
    int32_t i = find(c, name, qtype, h);
    if (i >= 0)
        drop(c, i);
    if (c->free_head < 0) /* full: the least recently used goes */
        drop(c, c->lru_tail);
    i = c->free_head;
    azr_rescache_ent *e = &c->ent[i];
    c->free_head = e->hnext;
    memcpy(e->name, name, nl + 1);
    e->qtype = qtype;
    e->st = o->st;
    e->naddr = o->naddr;
    memcpy(e->addr, o->addr, sizeof e->addr);
    memcpy(e->reason, o->reason, sizeof e->reason);
    e->expires = now + (uint64_t)ttl_s * 1000u;
    e->hash = h;
    int32_t *b = &c->bucket[h & (c->nbucket - 1)];
    e->hnext = *b;
    *b = i;
    lru_front(c, i);
    c->used++;
}

void azr_rescache_forget(azr_rescache *c, const char *name)
{
    static const uint16_t types[] = {AZR_DNS_TYPE_A, AZR_DNS_TYPE_AAAA};
    if (!c->ent)
        return;
    for (size_t t = 0; t < 2; t++) {
        int32_t i = find(c, name, types[t], azr_rescache_hash(name, types[t]));
        if (i >= 0)
            drop(c, i);
    }
}
