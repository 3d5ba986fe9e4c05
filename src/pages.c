/*
 * IMPLEMENTATION NOTES
 * A chunk is one anonymous mapping: its header, then n blocks of one size,
 * each `stride` bytes (the size rounded up to 64) from the last. Blocks do
 * not start on page boundaries, so a page may hold the end of one block and
 * the start of the next: such a page goes back to the kernel only when no
 * block in use touches it (and it does not hold the header); until then a
 * freed block's bytes in it are zeroed by hand, which costs nothing more
 * (the page is resident for its neighbour anyway). Every other page of a
 * freed block is released, so it reads as zero when handed out again.
 * Chunks are few (1,000 connections: about 40) and kept in one list.
 */
#include "pages.h"
#include "text.h"

#include <sys/mman.h>
#include <unistd.h>

/* Under AddressSanitizer the heap serves, so its leak check still sees a
 * connection that is never freed (mappings it does not track). */
#if defined(__SANITIZE_ADDRESS__)
#define AZR_PAGES_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AZR_PAGES_HEAP 1
#endif
#endif

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

#define ALIGN       64
#define CHUNK_BYTES (1u << 20) /* a chunk holds at most what fits in 1 MiB (and 64) */

struct azr_pages_chunk {
    azr_pages_chunk *next;
    size_t size, stride, len; /* a block's size and spacing; the mapping's length */
    unsigned n, used;
    uint64_t busy; /* bit i: block i is handed out */
    uint8_t *first;
};

#define HEADER ((sizeof(azr_pages_chunk) + ALIGN - 1) / ALIGN * ALIGN)

void azr_pages_init(azr_pages *a)
{
    memset(a, 0, sizeof *a);
    long pg = sysconf(_SC_PAGESIZE);
    a->page = pg > 0 ? (size_t)pg : 4096;
#if defined(AZR_PAGES_HEAP) || !defined(MAP_ANONYMOUS)
    a->heap = true;
#endif
}

#ifdef MAP_ANONYMOUS

static void *map(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Pages [at, at + len) back to the kernel: they read as zero from now on. */
static void release(uint8_t *at, size_t len)
{
#if defined(__linux__) && defined(MADV_DONTNEED)
    /* Linux: private anonymous pages come back zero-filled */
    if (madvise(at, len, MADV_DONTNEED) == 0)
        return;
    azr_wipe(at, len); /* kept, but zero */
#else
    /* elsewhere MADV_DONTNEED may keep the contents: fresh pages in place;
     * a failed MAP_FIXED may have unmapped the range (FreeBSD removes the
     * old mapping first), and a neighbour's bytes share the chunk */
    if (mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
        MAP_FAILED)
        abort();
#endif
}

static azr_pages_chunk *chunk_new(azr_pages *a, size_t size)
{
    /* 4 blocks, then 8, 16, 32, 64 as chunks of this size add up (a
     * gateway with a few connections maps, and commits, little) */
    if (size > SIZE_MAX / 2)
        return NULL; /* no such memory: and the sums below would wrap */
    size_t stride = (size + ALIGN - 1) / ALIGN * ALIGN, have = 0;
    for (const azr_pages_chunk *c = a->chunks; c; c = c->next)
        have += c->size == size;
    size_t n = (size_t)4 << (have < 4 ? have : 4);
    if (n > CHUNK_BYTES / stride)
        n = CHUNK_BYTES / stride;
    if (n < 1)
        n = 1;
    if (stride > (SIZE_MAX - HEADER - a->page) / n)
        return NULL;
    size_t len = (HEADER + n * stride + a->page - 1) / a->page * a->page;
    azr_pages_chunk *ch = map(len);
    if (!ch)
        return NULL;
    ch->size = size;
    ch->stride = stride;
    ch->len = len;
    ch->n = (unsigned)n;
    ch->first = (uint8_t *)ch + HEADER;
    ch->next = a->chunks;
    a->chunks = ch;
    a->mappings++;
    return ch;
}

/* Whether page pg (its address) may go back: no block in use touches it
 * and it does not hold the header. */
static bool page_free(const azr_pages *a, const azr_pages_chunk *ch, const uint8_t *pg)
{
    if (pg < ch->first)
        return false; /* the header's page */
    size_t off = (size_t)(pg - ch->first);
    size_t lo = off / ch->stride, hi = (off + a->page - 1) / ch->stride;
    for (size_t i = lo; i <= hi && i < ch->n; i++) {
        if (!(ch->busy & ((uint64_t)1 << i)))
            continue;
        if (off + a->page > i * ch->stride && off < i * ch->stride + ch->size)
            return false;
    }
    return true;
}

/* Block i is no longer in use: its pages go back, its bytes in pages a
 * neighbour still uses are zeroed. */
static void clear_block(const azr_pages *a, const azr_pages_chunk *ch, size_t i)
{
    uint8_t *lo = ch->first + i * ch->stride, *hi = lo + ch->size;
    uintptr_t mask = (uintptr_t)a->page - 1;
    uint8_t *start = (uint8_t *)((uintptr_t)lo & ~mask);
    uint8_t *end = (uint8_t *)(((uintptr_t)hi + mask) & ~mask);
    if (!page_free(a, ch, start))
        start += a->page;
    if (end > start && !page_free(a, ch, end - a->page))
        end -= a->page;
    if (start >= end || start >= hi || end <= lo) {
        azr_wipe(lo, ch->size);
        return;
    }
    if (start > lo)
        azr_wipe(lo, (size_t)(start - lo));
    if (end < hi)
        azr_wipe(end, (size_t)(hi - end));
    release(start, (size_t)(end - start));
}

static void *pack(azr_pages *a, size_t size)
{
    azr_pages_chunk *ch = a->chunks;
    while (ch && (ch->size != size || ch->used == ch->n))
        ch = ch->next;
    if (!ch && !(ch = chunk_new(a, size)))
        return NULL;
    size_t i = 0;
    while (ch->busy & ((uint64_t)1 << i))
        i++;
    ch->busy |= (uint64_t)1 << i;
    ch->used++;
    return ch->first + i * ch->stride;
}

static void unpack(azr_pages *a, uint8_t *p, size_t size)
{
    azr_pages_chunk **at = &a->chunks, *ch;
    while ((ch = *at) &&
           (ch->size != size || p < ch->first || p >= ch->first + (size_t)ch->n * ch->stride))
        at = &ch->next;
    if (!ch)
        abort(); /* not ours: a bug that must not go on writing memory */
    size_t i = (size_t)(p - ch->first) / ch->stride;
    uint64_t bit = (uint64_t)1 << i;
    if (!(ch->busy & bit) || p != ch->first + i * ch->stride)
        abort(); /* freed twice, or not a block's start: the chunk must not go */
    ch->busy &= ~bit;
    if (--ch->used == 0) {
        *at = ch->next;
        a->mappings--;
        (void)munmap(ch, ch->len);
        return;
    }
    clear_block(a, ch, i);
}

#else /* no anonymous mappings: the heap only */

static void *pack(azr_pages *a, size_t size)
{
    (void)a;
    (void)size;
    return NULL;
}

static void unpack(azr_pages *a, uint8_t *p, size_t size)
{
    (void)a;
    (void)p;
    (void)size;
}

#endif

void *azr_pages_alloc(azr_pages *a, size_t size)
{
    if (size == 0)
        size = 1;
    return a->heap ? calloc(1, size) : pack(a, size);
}

void azr_pages_free(azr_pages *a, void *p, size_t size)
{
    if (!p)
        return;
    if (size == 0)
        size = 1;
    if (a->heap) {
        azr_wipe(p, size);
        free(p);
        return;
    }
    unpack(a, p, size);
}

void azr_pages_done(azr_pages *a)
{
#ifdef MAP_ANONYMOUS
    while (a->chunks) {
        azr_pages_chunk *ch = a->chunks;
        a->chunks = ch->next;
        (void)munmap(ch, ch->len);
    }
#endif
    a->mappings = 0;
}
