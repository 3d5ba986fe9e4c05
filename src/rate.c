/*
 * IMPLEMENTATION NOTES
 * Tokens are kept in thousandths of a byte so that a rate that is not a
 * multiple of 1000 bytes/s accrues exactly (64 KiB/s = 65.536 bytes/ms).
 * The bucket starts full: the first burst goes at once.
 */
#include "rate.h"

#define BURST_MIN 1024u

void azr_rate_init(azr_rate *r, uint64_t per_sec, uint64_t now_ms)
{
    r->per_sec = per_sec;
    r->burst = per_sec / 10 > BURST_MIN ? per_sec / 10 : BURST_MIN;
    r->milli = r->burst * 1000u;
    r->last = now_ms;
}

bool azr_rate_limited(const azr_rate *r)
{
    return r->per_sec != 0;
}

static void refill(azr_rate *r, uint64_t now)
{
    if (now <= r->last)
        return;
    uint64_t cap = r->burst * 1000u, dt = now - r->last;
    /* per_sec bytes/s = per_sec milli-bytes per ms */
    r->milli = dt >= cap / r->per_sec + 1 ? cap : r->milli + dt * r->per_sec;
    if (r->milli > cap)
        r->milli = cap;
    r->last = now;
}

size_t azr_rate_allowed(azr_rate *r, uint64_t now_ms)
{
    if (!r->per_sec)
        return SIZE_MAX;
    refill(r, now_ms);
    return (size_t)(r->milli / 1000u);
}

void azr_rate_take(azr_rate *r, size_t n)
{
    if (!r->per_sec)
        return;
    uint64_t m = (uint64_t)n * 1000u;
    r->milli = m > r->milli ? 0 : r->milli - m;
}

uint64_t azr_rate_when(azr_rate *r, uint64_t want, uint64_t now_ms)
{
    if (!r->per_sec)
        return now_ms;
    refill(r, now_ms);
    uint64_t w = want > r->burst ? r->burst : want;
    if (r->milli >= w * 1000u)
        return now_ms;
    uint64_t need = w * 1000u - r->milli;
    return now_ms + (need + r->per_sec - 1) / r->per_sec;
}
