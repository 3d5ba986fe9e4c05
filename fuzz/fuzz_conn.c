/*
 * Target: the connection state machine (src/conn.c, splice.c, upgrade.c,
 * ws.c's control queue) over tests/simnet.h's fake sockets and clock. The
 * input is a script: settings from the first byte, then steps (client or
 * relay bytes, well-formed or raw frames, FIN, RST, windows shut and opened,
 * time passing, the application closing).
 * Invariants beyond "no crash": no read, write or shutdown on a closed
 * socket and no double close; frames we send the relay always decode as a
 * valid masked client stream; at most one Disconnected, exactly one once
 * the connection is gone, and both sockets closed by then; buffers bounded
 * (the pipes refuse more than their capacity, so growth would show as a
 * stall, not as memory).
 */
#define SIM_SOCKS 4
#define SIM_PIPE  (1 << 16)
#include "../tests/simnet.h"

#include <stdlib.h>

static sim w;

static void check(int id, int cfd)
{
    for (int i = 0; i < SIM_SOCKS; i++)
        if (w.s[i].misuse)
            abort(); /* I/O on a closed socket, or closed twice */
    if (w.disconnected[id] > 1)
        abort();
    if (w.disconnected[id] == 1 && !sim_sock_of(&w, cfd)->closed)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t cfg = data[0];
    const char *set[6] = {NULL};
    int k = 0;
    if (cfg & 1)
        set[k++] = "RelayKeepAliveInterval=1";
    if (cfg & 2)
        set[k++] = "DefaultIdleTimeout=3";
    if (cfg & 4)
        set[k++] = "DefaultTimeout=2";
    if (cfg & 8)
        set[k++] = "AbsoluteTimeout=True";
    if (cfg & 16)
        set[k++] = "HalfCloseTimeout=2";
    memset(&w, 0, sizeof w);
    if (!sim_init(&w, set))
        abort();
    w.quiet = true;
    int cfd;
    int id = sim_accept(&w, &cfd, (cfg & 32) ? 512 : SIM_PIPE);
    if (id <= 0)
        abort();
    sim_turns(&w, 2);
    sim_sock *cl = sim_sock_of(&w, cfd), *re = sim_relay(&w);
    static azr_ws_dec dec;
    azr_ws_dec_init(&dec, 0, false);
    azr_ws_dec_server(&dec);
    sim_seen seen;
    memset(&seen, 0, sizeof seen);
    bool upgraded = false;
    size_t i = 1;
    while (i < size) {
        uint8_t op = data[i++];
        uint8_t arg = i < size ? data[i] : 0;
        switch (op % 14) {
        case 0: /* the client sends arg bytes */
            sim_put(&cl->in, data + i, size - i < arg ? size - i : arg);
            i += arg;
            break;
        case 1: /* raw bytes from the relay (after the upgrade) */
            if (re && upgraded)
                sim_put(&re->in, data + i, size - i < arg ? size - i : arg);
            i += arg;
            break;
        case 2: /* a well-formed frame from the relay: opcode from arg */
            if (re && upgraded) {
                static const uint8_t ops[] = {0x82, 0x81, 0x02, 0x80, 0x89, 0x8a, 0x88};
                size_t n = (size_t)(arg >> 3);
                i++;
                if (n > size - i)
                    n = size - i;
                uint8_t first = ops[arg % sizeof ops];
                if ((first & 0x0f) >= 8 && n > 125)
                    n = 125;
                sim_frame(re, first, data + i, n);
                i += n;
            }
            break;
        case 3:
            cl->in_eof = true;
            break;
        case 4:
            cl->in_rst = true;
            break;
        case 5:
            if (re)
                re->in_eof = true;
            break;
        case 6:
            if (re)
                re->in_rst = true;
            break;
        case 7: /* time passes */
            sim_wait(&w, (uint64_t)arg * 40u + 1u, 250);
            i++;
            break;
        case 8: /* the client reads */
            sim_take(&cl->out, (size_t)arg * 64u);
            i++;
            break;
        case 9: /* the relay reads our frames (before the 101: the request stays) */
            if (re && upgraded) {
                sim_relay_reads(re, &dec, &seen, NULL, 0);
                if (seen.bad)
                    abort(); /* we sent something that is not a valid client frame */
            }
            break;
        case 10: /* the relay's window shuts or opens */
            if (re)
                re->out.cap = re->out.cap == SIM_PIPE ? re->out.len : SIM_PIPE;
            break;
        case 11: /* the client's window shuts or opens */
            cl->out.cap = cl->out.cap == cl->out.len ? SIM_PIPE : cl->out.len;
            break;
        case 12: { /* the application ends it */
            azr_conn *c = azr_listener_find(&w.p, id);
            if (c)
                azr_conn_close(c, 0, "application", arg & 1);
            i++;
            break;
        }
        case 13: /* the relay answers the upgrade */
            if (re && !upgraded)
                upgraded = sim_upgrade(re);
            break;
        }
        sim_turns(&w, 2);
        if (sim_relay(&w) != re) { /* a retry dialled again: a new relay socket, a new stream */
            re = sim_relay(&w);
            upgraded = false;
            azr_ws_dec_init(&dec, 0, false);
            azr_ws_dec_server(&dec);
            memset(&seen, 0, sizeof seen);
        }
        check(id, cfd);
    }
    sim_free(&w);
    check(id, cfd);
    if (w.disconnected[id] != 1)
        abort(); /* exactly one Disconnected per accepted connection */
    if (!cl->closed || (re && !re->closed))
        abort(); /* a stuck descriptor */
    return 0;
}
