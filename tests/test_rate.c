/*
 * The token bucket behind MaxTransferRate: the average over seconds equals
 * the rate, bursts are bounded to 100 ms of it, and the wake-up time it
 * names is when the bytes are really there (a pump that sleeps until then
 * never polls).
 */
#include "testutil.h"
#include "rate.h"

/* A pump that moves as much as allowed every time it is woken, and is woken
 * only when `chunk` bytes are allowed (or at once, as the bucket says). */
static uint64_t run(uint64_t per_sec, size_t chunk, uint64_t ms, unsigned *wakeups)
{
    azr_rate r;
    azr_rate_init(&r, per_sec, 1000);
    uint64_t now = 1000, moved = 0;
    *wakeups = 0;
    while (now < 1000 + ms) {
        size_t n = azr_rate_allowed(&r, now);
        if (n > chunk)
            n = chunk;
        azr_rate_take(&r, n);
        moved += n;
        uint64_t next = azr_rate_when(&r, chunk, now);
        assert_true(next >= now);
        now = next > now ? next : now + 1;
        (*wakeups)++;
    }
    return moved;
}

static void test_rate_average_is_the_rate(void **st)
{
    (void)st;
    const uint64_t rates[] = {1000, 65536, 1048576, 3000000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        unsigned wakeups;
        uint64_t moved = run(rates[i], 16384, 5000, &wakeups);
        /* 5 s at the rate, plus the first burst (the bucket starts full) */
        uint64_t want = rates[i] * 5, burst = rates[i] / 10 > 1024 ? rates[i] / 10 : 1024;
        assert_true(moved >= want - want / 100);
        assert_true(moved <= want + burst + want / 100);
        /* woken per chunk (or per burst when that is smaller), not per ms */
        uint64_t per = burst < 16384 ? burst : 16384;
        assert_true(wakeups <= (moved / per) + 10);
    }
}

static void test_rate_burst_is_bounded(void **st)
{
    (void)st;
    azr_rate r;
    azr_rate_init(&r, 65536, 0);
    assert_int_equal(azr_rate_allowed(&r, 0), 6553);
    azr_rate_take(&r, 6553);
    assert_int_equal(azr_rate_allowed(&r, 0), 0);
    /* an hour idle still allows one burst only */
    assert_int_equal(azr_rate_allowed(&r, 3600000), 6553);
    /* 10 ms at 65.536 bytes/ms */
    azr_rate_take(&r, 6553);
    assert_int_equal(azr_rate_allowed(&r, 3600010), 655);
    assert_int_equal(azr_rate_when(&r, 1000, 3600010),
                     3600016); /* the missing 345 bytes take 5.3 ms */
    assert_int_equal(azr_rate_when(&r, 1 << 20, 3600010), 3600100); /* capped to the burst */
}

static void test_rate_unlimited_and_low(void **st)
{
    (void)st;
    azr_rate r;
    azr_rate_init(&r, 0, 5);
    assert_false(azr_rate_limited(&r));
    assert_int_equal(azr_rate_allowed(&r, 5), SIZE_MAX);
    assert_int_equal(azr_rate_when(&r, 1 << 30, 5), 5);
    azr_rate_init(&r, 1, 0); /* 1 byte/s: the bucket is still 1 KiB */
    assert_int_equal(azr_rate_allowed(&r, 0), 1024);
    azr_rate_take(&r, 1024);
    assert_int_equal(azr_rate_when(&r, 1, 0), 1000);
    assert_int_equal(azr_rate_allowed(&r, 999), 0);
    assert_int_equal(azr_rate_allowed(&r, 1000), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_average_is_the_rate),
        cmocka_unit_test(test_rate_burst_is_bounded),
        cmocka_unit_test(test_rate_unlimited_and_low),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
