#include "pages.h"
#include "text.h"

#include <sys/mman.h>

/* Under AddressSanitizer the heap serves, so its leak check still sees a
 * connection that is never freed (mappings it does not track). */
#if defined(__SANITIZE_ADDRESS__)
#define AZR_PAGES_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AZR_PAGES_HEAP 1
#endif
#endif

#if (defined(MAP_ANONYMOUS) || defined(MAP_ANON)) && !defined(AZR_PAGES_HEAP)
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

void *azr_pages_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void azr_pages_free(void *p, size_t size)
{
    if (p)
        (void)munmap(p, size);
}

#else

void *azr_pages_alloc(size_t size)
{
    return calloc(1, size);
}

void azr_pages_free(void *p, size_t size)
{
    if (p)
        azr_wipe(p, size);
    free(p);
}

#endif
