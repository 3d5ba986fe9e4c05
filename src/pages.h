/*
 * Memory for the per-connection blocks, straight from the kernel: zero
 * pages that cost nothing until touched, and that go back when freed. A
 * connection's buffers are big (a TLS record each way) and live as long as
 * it does; from the C heap they would be kept by the process after a burst
 * of connections, and a handshake block freed in the middle of the heap
 * would stay resident.
 *
 * Blocks of one size are packed side by side in chunks (one mapping of 4
 * blocks, growing to 64 as more are in use, up to about 1 MiB; a bigger
 * block has a chunk of its own): a block of 9.5 pages costs 9.5 pages once
 * touched, not 10 as in a mapping of its own. A freed block's pages go back
 * to the kernel (madvise), except a page it shares with a neighbour still in
 * use or with the chunk's header, where its bytes are zeroed instead (the
 * page goes with the neighbour); a chunk with no block left is unmapped.
 *
 * Where anonymous mappings do not exist, and under AddressSanitizer (whose
 * leak check sees only the heap), the heap serves (calloc, wiped at free).
 */
#ifndef AZR_PAGES_H
#define AZR_PAGES_H

#include "platform.h"

typedef struct azr_pages_chunk azr_pages_chunk;

/* One arena per proxy (a proxy lives in one thread). */
typedef struct azr_pages {
    azr_pages_chunk *chunks;
    size_t page;     /* the system's page size */
    bool heap;       /* calloc and free instead (set by azr_pages_init) */
    size_t mappings; /* chunks mapped now (for tests and the curious) */
} azr_pages;

void azr_pages_init(azr_pages *a);
/* size bytes, zeroed, aligned for any object; NULL when out of memory. */
void *azr_pages_alloc(azr_pages *a, size_t size);
/* Give back what azr_pages_alloc(a, size) returned (NULL: nothing). Its
 * contents go with it: the block is handed out again only zeroed. */
void azr_pages_free(azr_pages *a, void *p, size_t size);
/* Unmap what is left (every block should have been freed). */
void azr_pages_done(azr_pages *a);

#endif
