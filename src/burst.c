/*
 * IMPLEMENTATION NOTES
 * The upload's bulk path. On a loopback or LAN relay link the proxy's CPU
 * goes mostly to system calls and to the segments and wakeups each write
 * makes, not to copying or crypto: a 16 KiB frame or record per recv and
 * per send costs nearly twice what 128 KiB per call does. A connection's
 * block holds one record (the memory target), so the bulk path borrows the
 * proxy's scratch instead:
 *   one readv of a plain client's bytes into up to UNITS frame slots, each
 *   behind room for its frame header (and a record's header), masked in
 *   place; wss://: each frame sealed as a record by the relay engine's own
 *   record layer (xport.c), sequence numbers in order; one gathered write.
 * The path is taken when it cannot change what the relay sees: the
 * connection is open, nothing of its relay output is buffered (a control
 * frame or a record filling goes first, by the one-record path), no rate
 * applies, and the scratch is free. Frames are those the one-record path
 * would make (MaxFrameSize, SSLOutBufferSize, a negotiated fragment length).
 *
 * What the socket does not take stays in the scratch, pinned to that
 * connection until written (before anything its engine makes later: the
 * records' sequence numbers are fixed), and the relay's writability wakes
 * it: memory stays per proxy, never per connection. Meanwhile the other
 * connections take the one-record path. The pin goes when the connection
 * ends.
 */
#include "conn.h"
#include "text.h"

#include <errno.h>

#define UNITS AZR_BURST_UNITS
_Static_assert(UNITS <= AZR_NET_IOV_MAX, "one readv and one writev take every unit");

bool azr_burst_pending(const azr_conn *c)
{
    return c->p->burst.owner == c;
}

void azr_burst_release(azr_conn *c)
{
    if (c->p->burst.owner == c) {
        c->p->burst.owner = NULL;
        c->p->burst.first = c->p->burst.niov = 0;
    }
}

void azr_burst_done(azr_proxy_state *p)
{
    if (p->burst.buf)
        azr_wipe(p->burst.buf, p->burst.cap);
    free(p->burst.buf);
    memset(&p->burst, 0, sizeof p->burst);
}

/* One write of the pinned bytes: AZR_OK (some or all went), AZR_AGAIN, or
 * the error. The pin goes once everything went. */
static azr_err write_once(azr_conn *c)
{
    const azr_net_ops *net = c->p->net;
    azr_burst *b = &c->p->burst;
    size_t n;
    azr_err e = net->writev(net->ud, c->rfd, b->iov + b->first, b->niov - b->first, &n);
    if (e != AZR_OK)
        return e;
    c->last_io = azr_conn_now(c);
    while (n && b->first < b->niov) {
        azr_iov *v = &b->iov[b->first];
        size_t k = n < v->len ? n : v->len;
        v->base += k;
        v->len -= k;
        n -= k;
        if (v->len == 0)
            b->first++;
    }
    if (b->first == b->niov)
        azr_burst_release(c);
    return AZR_OK;
}

azr_verdict azr_burst_write(azr_conn *c)
{
    while (azr_burst_pending(c)) {
        azr_err e = write_once(c);
        if (e == AZR_AGAIN)
            break;
        if (e != AZR_OK)
            return azr_conn_write_failed(c, false);
    }
    return AZR_V_WAIT;
}

bool azr_burst_flush_now(azr_conn *c)
{
    while (azr_burst_pending(c))
        if (write_once(c) != AZR_OK)
            return false;
    return true;
}

/* Whether the bulk path may take this connection's next bytes now. */
static bool may_burst(const azr_conn *c)
{
    const azr_proxy_state *p = c->p;
    return p->net->readv && p->net->writev && !p->burst.owner && c->phase == AZR_P_OPEN &&
           !c->ltls && c->client_ready && !c->client_eof &&
           !(c->ctrl.close_bits & (AZR_WS_CLOSE_QUEUED | AZR_WS_CLOSE_SENT)) &&
           !azr_ws_ctrlq_next(&c->ctrl) && !azr_rate_limited(&c->rate_up);
}

/* The scratch, for UNITS slots of stride bytes (kept for the proxy's life). */
static bool scratch(azr_burst *b, size_t stride)
{
    if (b->cap >= stride * UNITS)
        return true;
    free(b->buf);
    b->cap = 0;
    if (!(b->buf = malloc(stride * UNITS)))
        return false;
    b->cap = stride * UNITS;
    return true;
}

azr_verdict azr_burst_up(azr_conn *c, size_t *moved, bool *did)
{
    azr_proxy_state *p = c->p;
    const azr_net_ops *net = p->net;
    azr_burst *b = &p->burst;
    size_t pre, post, hmax, got;
    *did = false;
    if (!may_burst(c))
        return AZR_V_WAIT;
    size_t room = azr_xport_seal_room(&c->rx, &pre, &post);
    size_t nmax = azr_splice_frame_fit(room, (size_t)p->set.max_frame_size, &hmax);
    if (nmax < AZR_SPLICE_GOOD_FRAME)
        return AZR_V_WAIT; /* small records (SSLOutBufferSize): one at a time */
    size_t stride = (pre + room + post + 63u) & ~(size_t)63u;
    if (!scratch(b, stride))
        return AZR_V_WAIT;
    azr_iov in[UNITS];
    for (size_t k = 0; k < UNITS; k++)
        in[k] = (azr_iov){b->buf + k * stride + pre + hmax, nmax};
    azr_err e = net->readv(net->ud, c->cfd, in, UNITS, &got);
    if (e != AZR_OK) {
        c->client_ready = false;
        if (e == AZR_E_CLOSED)
            c->client_eof = true;
        if (e == AZR_AGAIN || e == AZR_E_CLOSED)
            return AZR_V_WAIT; /* the one-record path takes the EOF from here */
        return azr_conn_fail_errno(c, errno == ECONNRESET ? "client reset the connection"
                                                          : "client read failed");
    }
    if (got < nmax * UNITS)
        c->client_ready = false; /* drained: its next bytes come with readiness */
    c->last_client = c->last_io = azr_conn_now(c);
    b->first = b->niov = 0;
    for (size_t k = 0, left = got; left; k++) {
        size_t n = left < nmax ? left : nmax, len;
        uint8_t mask[4], *f = b->buf + k * stride + pre;
        left -= n;
        azr_splice_mask(p, mask);
        len = azr_ws_hdr_write(f, AZR_WS_BINARY, true, n, mask);
        azr_ws_mask_copy(f + len, f + hmax, n, mask); /* onto its header: hmax >= its length */
        len += n;
        uint8_t *r = azr_xport_seal(&c->rx, f, &len);
        b->iov[b->niov++] = (azr_iov){r, len};
        p->stats.frames_to_relay++;
    }
    b->owner = c;
    c->bytes_in += got;
    p->stats.bytes_to_relay += got;
    *moved += got;
    *did = true;
    return azr_burst_write(c);
}
