/*
 * A token bucket for MaxTransferRate and MaxTransferRateIn: bytes per
 * second in one direction of one connection, sans-I/O (the caller passes
 * the clock, in ms). Tokens accrue continuously up to a burst of 100 ms of
 * the rate (at least 1 KiB), so the pump moves whole frames of a useful
 * size and the average stays at the rate. A rate of 0 is no limit.
 */
#ifndef AZR_RATE_H
#define AZR_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct azr_rate {
    uint64_t per_sec; /* 0: unlimited */
    uint64_t burst;   /* the bucket's size, bytes */
    uint64_t milli;   /* tokens, in thousandths of a byte (no drift at low rates) */
    uint64_t last;    /* when milli was brought up to date, ms */
} azr_rate;

void azr_rate_init(azr_rate *r, uint64_t per_sec, uint64_t now_ms);
/* Bytes that may move now (SIZE_MAX when unlimited). */
size_t azr_rate_allowed(azr_rate *r, uint64_t now_ms);
/* n bytes moved (at most what azr_rate_allowed said). */
void azr_rate_take(azr_rate *r, size_t n);
/* When `want` bytes (capped to the burst) may move: now_ms or later. */
uint64_t azr_rate_when(azr_rate *r, uint64_t want, uint64_t now_ms);
bool azr_rate_limited(const azr_rate *r);

#endif
