/*
 * IMPLEMENTATION NOTES
 * The PREAMBLE phase (PortName set): the relay's listener is an azbridge
 * -T listener, which expects on every relayed connection a preamble naming
 * the port (azbridge.c: `01 00 00 <len> <name>`) and answers 3 bytes before
 * any service data. The preamble goes as one binary message; the answer is
 * read through the splice's relay path (control frames answered, a close
 * seen), whose data passes the azbridge parser first (splice.c asks
 * azr_preamble_take); bytes after the answer are the service's and go to
 * the client as in OPEN (a refusal's never do). The client is not read
 * meanwhile (its bytes wait in its socket, or a TLS client's engine, as
 * during the dial). Accepted: OPEN. Refused, or the relay
 * closing first: the reason from the parser, which names the port and what
 * to check; not retried (a setting to fix).
 */
#include "conn.h"

azr_verdict azr_preamble_send(azr_conn *c)
{
    azr_hs *hs = c->hs;
    const char *name = c->p->set.port_name;
    uint8_t pre[AZR_AZBRIDGE_PREAMBLE_MAX];
    size_t n, room;
    if (azr_azbridge_preamble(name, pre, sizeof pre, &n) != AZR_OK ||
        azr_azbridge_init(&hs->azb, name) != AZR_OK)
        return azr_conn_fail(c, AZR_ERR_SETTING, 0, true,
                             "PortName '%.255s' is not a port name azbridge accepts", name);
    uint8_t *out = azr_xport_sendapp_buf(&c->rx, &room);
    if (!out || room < n + AZR_WS_MAX_HDR)
        return azr_conn_fail(c, AZR_ERR_STATE, 0, true, "no room for the azbridge preamble");
    uint8_t mask[4];
    azr_splice_mask(c->p, mask);
    size_t h = azr_ws_hdr_write(out, AZR_WS_BINARY, true, n, mask);
    memcpy(out + h, pre, n);
    azr_ws_mask(out + h, n, mask, 0);
    azr_xport_sendapp_ack(&c->rx, h + n);
    c->p->stats.frames_to_relay++;
    hs->azb_waiting = true;
    azr_proxy_log(c->p, c->id, 2, "azbridge preamble sent for port '%s'", name);
    return AZR_V_WAIT;
}

size_t azr_preamble_take(azr_conn *c, const uint8_t *data, size_t n)
{
    azr_hs *hs = c->hs;
    if (!hs || !hs->azb_waiting)
        return 0;
    size_t used = 0;
    azr_err e = azr_azbridge_feed(&hs->azb, data, n, &used);
    if (e == AZR_AGAIN)
        return used;
    hs->azb_waiting = false;
    /* an echo sends our own preamble back, and it starts with 01 00 00,
     * azbridge's "accepted": the rest of it following says echo */
    uint8_t pre[AZR_AZBRIDGE_PREAMBLE_MAX];
    size_t plen;
    if (e == AZR_OK &&
        azr_azbridge_preamble(c->p->set.port_name, pre, sizeof pre, &plen) == AZR_OK &&
        n - used >= plen - AZR_AZBRIDGE_REPLY_LEN &&
        memcmp(data + used, pre + AZR_AZBRIDGE_REPLY_LEN, plen - AZR_AZBRIDGE_REPLY_LEN) == 0) {
        hs->azb_echoed = true;
        return n; /* none of it is the service's */
    }
    return used;
}

azr_verdict azr_preamble_step(azr_conn *c, int fd, unsigned ev)
{
    azr_hs *hs = c->hs;
    if (fd >= 0 && fd == c->rfd && (ev & AZR_READABLE) && azr_conn_read(c, false) == AZR_V_FAIL)
        return AZR_V_FAIL;
    if (azr_splice_relay_in(c) == AZR_V_FAIL || azr_conn_flush(c, false) == AZR_V_FAIL)
        return AZR_V_FAIL;
    if (hs->azb_echoed)
        return azr_conn_fail(c, AZR_ERR_REFUSED, AZR_WS_CLOSE_NORMAL, true,
                             "the listener sent the azbridge preamble for port '%s' back: it "
                             "echoes, it is not an azbridge -T listener (leave PortName empty "
                             "for it)",
                             c->p->set.port_name);
    if (hs->azb.err == AZR_OK) {
        azr_proxy_log(c->p, c->id, 2, "azbridge listener accepted port '%s'", c->p->set.port_name);
        return AZR_V_NEXT;
    }
    if (hs->azb.err == AZR_AGAIN &&
        (c->relay_eof || c->close_code_rcvd || (azr_xport_state(&c->rx) & AZR_X_CLOSED)))
        if (azr_azbridge_closed(&hs->azb) == AZR_OK) /* never: it closes the answer */
            return AZR_V_WAIT;
    if (hs->azb.err != AZR_AGAIN)
        return azr_conn_fail(c, AZR_ERR_REFUSED, AZR_WS_CLOSE_NORMAL, true, "%s",
                             hs->azb.why ? hs->azb.why : "azbridge listener refused");
    return AZR_V_WAIT;
}

const char *azr_preamble_silent(azr_conn *c)
{
    if (azr_azbridge_timeout(&c->hs->azb) == AZR_OK) /* answered after all */
        return "azbridge listener answered at the deadline";
    return c->hs->azb.why ? c->hs->azb.why : "azbridge listener did not answer the preamble";
}
