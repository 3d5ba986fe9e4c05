/*
 * Memory for the per-connection blocks, straight from the kernel: zero
 * pages that cost nothing until touched, and that go back at once when
 * freed. A connection's buffers are big (a TLS record each way) and live as
 * long as it does; from the C heap they would be kept by the process after
 * a burst of connections, and a handshake block freed in the middle of the
 * heap would stay resident. Where anonymous mappings do not exist, and
 * under AddressSanitizer (whose leak check sees only the heap), the heap
 * serves (calloc, wiped at free).
 */
#ifndef AZR_PAGES_H
#define AZR_PAGES_H

#include "platform.h"

/* size bytes, zeroed, page-aligned; NULL when out of memory. */
void *azr_pages_alloc(size_t size);
/* Give back what azr_pages_alloc(size) returned (NULL: nothing). Its
 * contents go with it: the kernel hands out only zeroed pages. */
void azr_pages_free(void *p, size_t size);

#endif
