/*
 * IMPLEMENTATION NOTES
 * A connection's socket I/O, for every phase: read what a socket has into
 * its side's transport (EOF and errors turned into the connection's state
 * or verdict), and write what a transport has for its socket. During a TLS
 * handshake the records BearSSL makes one at a time are gathered in the
 * handshake block and written in one go (a flight), so Nagle never holds
 * the later ones for the peer's delayed ACK.
 */
#include "conn.h"

#include <errno.h>

azr_verdict azr_conn_read(azr_conn *c, bool client)
{
    const azr_net_ops *net = c->p->net;
    azr_xport *x = client ? &c->cx : &c->rx;
    size_t room, n;
    if (client ? c->client_eof : c->relay_eof)
        return AZR_V_WAIT;
    uint8_t *b = azr_xport_recvrec_buf(x, &room);
    if (room == 0)
        return AZR_V_WAIT;
    azr_err e = net->read(net->ud, client ? c->cfd : c->rfd, b, room, &n);
    if (e == AZR_OK) {
        uint64_t now = azr_conn_now(c);
        azr_xport_recvrec_ack(x, n);
        c->last_io = now;
        if (client) {
            c->last_client = now;
        } else {
            c->last_relay = now;
            if (c->ping == AZR_PING_ON_WIRE)
                c->ping = AZR_PING_NONE; /* any frame from the relay counts as life */
        }
    } else if (e == AZR_E_CLOSED) {
        if (client)
            c->client_eof = true;
        else
            c->relay_eof = true;
    } else if (e != AZR_AGAIN) {
        if (client)
            return azr_conn_fail_errno(c, errno == ECONNRESET ? "client reset the connection"
                                                              : "client read failed");
        c->relay_eof = true; /* nothing more can be sent there */
        if (azr_conn_deadline_kind(c) == AZR_DL_DIAL)
            return azr_conn_retry(c, AZR_ERR_IO, "connection lost during %s: %s", azr_conn_doing(c),
                                  strerror(errno));
        return azr_conn_fail(c, AZR_ERR_IO, 0, true, "relay connection lost: %s", strerror(errno));
    }
    return AZR_V_WAIT;
}

azr_verdict azr_conn_flush(azr_conn *c, bool client)
{
    azr_xport_flush(client ? &c->cx : &c->rx);
    return azr_conn_write(c, client);
}

azr_verdict azr_conn_write_failed(azr_conn *c, bool client)
{
    if (client)
        return azr_conn_fail_errno(c, "client write failed");
    c->relay_eof = true;
    if (azr_conn_deadline_kind(c) == AZR_DL_DIAL)
        return azr_conn_retry(c, AZR_ERR_IO, "connection lost during %s: %s", azr_conn_doing(c),
                              strerror(errno));
    return azr_conn_fail(c, AZR_ERR_IO, 0, true, "relay write failed: %s", strerror(errno));
}

bool azr_conn_flight_pending(const azr_conn *c, bool client)
{
    return c->hs && c->hs->flight_client == client && c->hs->flight_off < c->hs->flight_len;
}

/* During a TLS handshake, the records BearSSL has ready (one at a time: it
 * makes the next once the last is taken) are gathered into the handshake
 * block and written in one go: a flight of several records (ChangeCipherSpec
 * then Finished) in separate writes would leave the later ones to Nagle,
 * held for the peer's delayed ACK (TcpNoDelay is off on the client side by
 * default). A record that does not fit goes after the gathered ones. */
static void gather_flight(azr_conn *c, bool client)
{
    azr_hs *hs = c->hs;
    azr_xport *x = client ? &c->cx : &c->rx;
    if (hs->flight_off < hs->flight_len && hs->flight_client != client)
        return; /* the other side's flight is still going out */
    if (hs->flight_off == hs->flight_len)
        hs->flight_off = hs->flight_len = 0;
    hs->flight_client = client;
    for (;;) {
        size_t len;
        const uint8_t *b = azr_xport_sendrec_buf(x, &len);
        if (len == 0 || len > sizeof hs->flight - hs->flight_len)
            return;
        memcpy(hs->flight + hs->flight_len, b, len);
        hs->flight_len += len;
        azr_xport_sendrec_ack(x, len);
    }
}

azr_verdict azr_conn_write(azr_conn *c, bool client)
{
    const azr_net_ops *net = c->p->net;
    azr_xport *x = client ? &c->cx : &c->rx;
    int fd = client ? c->cfd : c->rfd;
    if (c->hs && x->eng && c->phase == (client ? AZR_P_LOCAL_TLS : AZR_P_TLS))
        gather_flight(c, client);
    while (azr_conn_flight_pending(c, client)) { /* a flight first, whole */
        azr_hs *hs = c->hs;
        size_t n;
        azr_err e = net->write(net->ud, fd, hs->flight + hs->flight_off,
                               hs->flight_len - hs->flight_off, &n);
        if (e == AZR_AGAIN)
            return AZR_V_WAIT;
        if (e != AZR_OK)
            return azr_conn_write_failed(c, client);
        hs->flight_off += n;
        c->last_io = azr_conn_now(c);
    }
    if (!client && azr_burst_write(c) == AZR_V_FAIL)
        return AZR_V_FAIL;
    for (int i = 0; i < 4 && (client || !azr_burst_pending(c)); i++) {
        size_t len, n;
        const uint8_t *b = azr_xport_sendrec_buf(x, &len);
        if (len == 0)
            break;
        azr_err e = net->write(net->ud, fd, b, len, &n);
        if (e == AZR_AGAIN)
            break;
        if (e != AZR_OK)
            return azr_conn_write_failed(c, client);
        azr_xport_sendrec_ack(x, n);
        c->last_io = azr_conn_now(c);
        if (client)
            c->last_client = c->last_io;
    }
    if (!client && c->ping == AZR_PING_QUEUED && azr_ws_ctrlq_next(&c->ctrl) != AZR_WS_PING &&
        !azr_burst_pending(c) && azr_xport_out_empty(&c->rx)) {
        /* nothing buffered at all: over wss:// the ping may still sit in a
         * record the pump's end closes, not yet on the wire */
        c->ping = AZR_PING_ON_WIRE; /* the pong deadline starts now */
        c->ping_sent_at = azr_conn_now(c);
    }
    return AZR_V_WAIT;
}
