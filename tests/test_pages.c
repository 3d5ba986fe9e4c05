/*
 * pages.c: the connections' blocks. Residency is read with mincore(2), so
 * every figure here is a count of pages, not a time. The suite runs under
 * AddressSanitizer, where the proxy's arenas use the heap; the arenas here
 * are switched to the kernel's pages, which is what a release build uses.
 */
#include "pages.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* About a wss:// connection's block in a release build: the connection,
 * the relay's BearSSL context and its two buffers (16709 in, 16469 out). */
#define CONN_BLOCK 39050u

static azr_pages kernel_arena(void)
{
    azr_pages a;
    azr_pages_init(&a);
    a.heap = false;
    return a;
}

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Resident pages among those [p, p + len) touches; -1 when unmapped. */
static long resident(const void *p, size_t len)
{
    size_t pg = page_size();
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(pg - 1);
    uintptr_t hi = ((uintptr_t)p + len + pg - 1) & ~(uintptr_t)(pg - 1);
    size_t n = (hi - lo) / pg;
    unsigned char *vec = calloc(n, 1);
    assert_non_null(vec);
    if (mincore((void *)lo, hi - lo, vec) != 0) {
        assert_int_equal(errno, ENOMEM);
        free(vec);
        return -1;
    }
    long count = 0;
    for (size_t i = 0; i < n; i++)
        count += vec[i] & 1;
    free(vec);
    return count;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* 200 connection blocks, each written whole, cost their bytes rounded up
 * to whole pages once overall (plus a header page per chunk), not each:
 * 9.53 pages per block where a mapping of its own took 10 (40 KiB). */
static void test_pages_blocks_are_packed(void **st)
{
    (void)st;
    enum { N = 200 };
    azr_pages a = kernel_arena();
    static uint8_t *b[N];
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (size_t i = 0; i < N; i++) {
        b[i] = azr_pages_alloc(&a, CONN_BLOCK);
        assert_non_null(b[i]);
        assert_int_equal((uintptr_t)b[i] % 16, 0);
        assert_true(all_zero(b[i], CONN_BLOCK));
        memset(b[i], 0xa5, CONN_BLOCK);
    }
    /* count each resident page once: the chunks' ranges, page by page */
    long pages = 0;
    size_t pg = page_size();
    for (size_t i = 0; i < N; i++) {
        uintptr_t s = (uintptr_t)b[i] & ~(uintptr_t)(pg - 1);
        uintptr_t e = ((uintptr_t)b[i] + CONN_BLOCK + pg - 1) & ~(uintptr_t)(pg - 1);
        for (uintptr_t q = s; q < e; q += pg) {
            bool seen = false; /* a page shared with an earlier block */
            for (size_t j = 0; j < i && !seen; j++) {
                uintptr_t js = (uintptr_t)b[j] & ~(uintptr_t)(pg - 1);
                uintptr_t je = ((uintptr_t)b[j] + CONN_BLOCK + pg - 1) & ~(uintptr_t)(pg - 1);
                seen = q >= js && q < je;
            }
            if (!seen)
                pages += resident((void *)q, 1);
        }
        if ((uintptr_t)b[i] < lo)
            lo = (uintptr_t)b[i];
        if ((uintptr_t)b[i] + CONN_BLOCK > hi)
            hi = (uintptr_t)b[i] + CONN_BLOCK;
    }
    double per = (double)pages * (double)pg / N;
    printf("# %d blocks of %u B: %ld pages resident, %.1f B per block, %zu chunks\n", N, CONN_BLOCK,
           pages, per, a.mappings);
    assert_true(per < CONN_BLOCK + 2.0 * (double)pg * (double)a.mappings / N);
    assert_true(per < 40.0 * 1024); /* a mapping each: 10 pages, 40960 B */
    for (size_t i = 0; i < N; i++)
        azr_pages_free(&a, b[i], CONN_BLOCK);
    assert_int_equal(a.mappings, 0);
    azr_pages_done(&a);
}

/* A freed block between two in use: its own pages leave (not resident),
 * the pages it shares with them stay and its bytes there read zero; handed
 * out again it is all zero. */
static void test_pages_free_gives_back_and_zeroes(void **st)
{
    (void)st;
    azr_pages a = kernel_arena();
    uint8_t *b[3];
    for (int i = 0; i < 3; i++) {
        b[i] = azr_pages_alloc(&a, CONN_BLOCK);
        assert_non_null(b[i]);
        memset(b[i], 0x5a, CONN_BLOCK);
    }
    assert_int_equal(a.mappings, 1);
    assert_true(b[1] > b[0] && b[2] > b[1]);
    assert_true((size_t)(b[1] - b[0]) < 40960); /* side by side, not a mapping each */
    size_t pg = page_size();
    long before = resident(b[1], CONN_BLOCK);
    assert_int_equal(
        before, (long)((((uintptr_t)b[1] + CONN_BLOCK + pg - 1) / pg) - ((uintptr_t)b[1] / pg)));
    azr_pages_free(&a, b[1], CONN_BLOCK);
    /* the first and last page are shared with b[0] and b[2]: only they stay */
    assert_int_equal(resident(b[1], CONN_BLOCK), 2);
    assert_true(all_zero(b[1], CONN_BLOCK)); /* (reads of released pages: no residency) */
    assert_int_equal(b[0][CONN_BLOCK - 1], 0x5a);
    assert_int_equal(b[2][0], 0x5a); /* the neighbours keep their bytes */
    uint8_t *again = azr_pages_alloc(&a, CONN_BLOCK);
    assert_ptr_equal(again, b[1]);
    assert_true(all_zero(again, CONN_BLOCK));
    memset(again, 0x77, CONN_BLOCK);
    /* both neighbours of the page b[0] and b[1] share gone: it goes too */
    azr_pages_free(&a, again, CONN_BLOCK);
    azr_pages_free(&a, b[0], CONN_BLOCK);
    long left = resident(b[0], 2 * CONN_BLOCK);
    assert_true(left >= 0 && left <= 2); /* the header's page, and the one b[2] shares */
    azr_pages_free(&a, b[2], CONN_BLOCK);
    assert_int_equal(a.mappings, 0);
    assert_int_equal(resident(b[2], CONN_BLOCK), -1); /* the chunk is unmapped */
    azr_pages_done(&a);
}

/* Sizes keep to their own chunks; small blocks (several per page) come
 * back zeroed too; a full chunk opens another. */
static void test_pages_sizes_small_blocks_and_full_chunks(void **st)
{
    (void)st;
    enum { N = 300 };
    azr_pages a = kernel_arena();
    static uint8_t *s[N];
    uint8_t *big = azr_pages_alloc(&a, 40704);
    assert_non_null(big);
    for (size_t i = 0; i < N; i++) {
        s[i] = azr_pages_alloc(&a, 100);
        assert_non_null(s[i]);
        assert_true(all_zero(s[i], 100));
        memset(s[i], (int)(i & 0xff) | 1, 100);
        assert_true(s[i] + 100 <= big || s[i] >= big + 40704);
    }
    assert_true(a.mappings >= 1 + (N + 63) / 64); /* at most 64 blocks a chunk */
    for (size_t i = 0; i < N; i += 2)
        azr_pages_free(&a, s[i], 100);
    for (size_t i = 1; i < N; i += 2)
        assert_int_equal(s[i][99], (int)(i & 0xff) | 1);
    for (size_t i = 0; i < N; i += 2) {
        s[i] = azr_pages_alloc(&a, 100);
        assert_true(all_zero(s[i], 100));
    }
    for (size_t i = 0; i < N; i++)
        azr_pages_free(&a, s[i], 100);
    assert_int_equal(a.mappings, 1);
    azr_pages_free(&a, big, 40704);
    assert_int_equal(a.mappings, 0);
    azr_pages_done(&a);
}

/* Chunks start small and grow: 4 blocks, then 8, 16, ... so a gateway
 * with a few connections maps (and, under strict overcommit, commits)
 * little; at most 1 MiB a chunk. */
static void test_pages_chunks_grow(void **st)
{
    (void)st;
    azr_pages a = kernel_arena();
    uint8_t *b[40];
    size_t maps[40];
    for (size_t i = 0; i < 40; i++) {
        b[i] = azr_pages_alloc(&a, CONN_BLOCK);
        assert_non_null(b[i]);
        maps[i] = a.mappings;
    }
    assert_int_equal(maps[3], 1); /* 4 in the first */
    assert_int_equal(maps[4], 2); /* then 8 */
    assert_int_equal(maps[11], 2);
    assert_int_equal(maps[12], 3); /* then 16 */
    assert_int_equal(maps[27], 3);
    assert_int_equal(maps[28], 4); /* then 26: 1 MiB / 39,104 */
    assert_int_equal(maps[39], 4);
    for (size_t i = 0; i < 40; i++)
        azr_pages_free(&a, b[i], CONN_BLOCK);
    assert_int_equal(a.mappings, 0);
    azr_pages_done(&a);
}

/* Random allocations and frees of several sizes (under a page, about one,
 * several, a connection's): every block comes zeroed, none overlaps
 * another, and freeing one (its pages released, its shared bytes zeroed)
 * never changes a byte of the blocks still in use. */
static void test_pages_random_use_keeps_live_blocks_intact(void **st)
{
    (void)st;
    enum { SLOTS = 160, STEPS = 3000 };
    static const size_t sizes[] = {24, 700, 4096, 5000, 12288, 39050};
    static uint8_t *blk[SLOTS];
    static size_t len[SLOTS];
    static uint8_t tag[SLOTS];
    azr_pages a = kernel_arena();
    uint32_t r = 12345;
    for (int step = 0; step < STEPS; step++) {
        r = r * 1103515245u + 12345u;
        size_t k = (r >> 8) % SLOTS;
        if (blk[k]) {
            azr_pages_free(&a, blk[k], len[k]);
            blk[k] = NULL;
            for (size_t j = 0; j < SLOTS; j++) /* the others are untouched */
                if (blk[j]) {
                    for (size_t i = 0; i < len[j]; i += 61)
                        if (blk[j][i] != tag[j])
                            fail_msg("step %d: block %zu changed at %zu", step, j, i);
                    assert_int_equal(blk[j][len[j] - 1], tag[j]);
                }
            continue;
        }
        len[k] = sizes[(r >> 20) % (sizeof sizes / sizeof sizes[0])];
        blk[k] = azr_pages_alloc(&a, len[k]);
        assert_non_null(blk[k]);
        assert_true(all_zero(blk[k], len[k]));
        for (size_t j = 0; j < SLOTS; j++)
            if (j != k && blk[j])
                assert_true(blk[k] + len[k] <= blk[j] || blk[j] + len[j] <= blk[k]);
        tag[k] = (uint8_t)(step | 1);
        memset(blk[k], tag[k], len[k]);
    }
    for (size_t j = 0; j < SLOTS; j++)
        azr_pages_free(&a, blk[j], len[j]);
    assert_int_equal(a.mappings, 0);
    azr_pages_done(&a);
}

/* Misuse stops the process rather than corrupt memory: a size no memory
 * holds is NULL (as from the heap); a block freed twice, or a pointer
 * inside a block, aborts (the chunk would otherwise be unmapped under its
 * other blocks). */
static void test_pages_misuse(void **st)
{
    (void)st;
    azr_pages a = kernel_arena();
    assert_null(azr_pages_alloc(&a, SIZE_MAX - 10));
    assert_null(azr_pages_alloc(&a, SIZE_MAX / 2 + 1));
    for (int kind = 0; kind < 2; kind++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            uint8_t *p = azr_pages_alloc(&a, 5000), *q = azr_pages_alloc(&a, 5000);
            if (!p || !q)
                _exit(3);
            if (kind == 0) {
                azr_pages_free(&a, p, 5000);
                azr_pages_free(&a, p, 5000);
            } else {
                azr_pages_free(&a, p + 64, 5000);
            }
            _exit(0); /* not stopped: the test fails */
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);
    }
    azr_pages_done(&a);
}

/* The heap (ASan builds, systems without anonymous mappings): the same
 * contract, zeroed blocks. */
static void test_pages_heap_serves_zeroed_blocks(void **st)
{
    (void)st;
    azr_pages a;
    azr_pages_init(&a);
    a.heap = true;
    uint8_t *p = azr_pages_alloc(&a, 5000);
    assert_non_null(p);
    assert_true(all_zero(p, 5000));
    memset(p, 1, 5000);
    azr_pages_free(&a, p, 5000);
    azr_pages_free(&a, NULL, 5000);
    assert_int_equal(a.mappings, 0);
    azr_pages_done(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_blocks_are_packed),
        cmocka_unit_test(test_pages_free_gives_back_and_zeroes),
        cmocka_unit_test(test_pages_sizes_small_blocks_and_full_chunks),
        cmocka_unit_test(test_pages_chunks_grow),
        cmocka_unit_test(test_pages_random_use_keeps_live_blocks_intact),
        cmocka_unit_test(test_pages_misuse),
        cmocka_unit_test(test_pages_heap_serves_zeroed_blocks),
    };
    return cmocka_run_group_tests_name("pages", tests, NULL, NULL);
}
