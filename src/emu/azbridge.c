/*
 * IMPLEMENTATION NOTES
 * The built-in azbridge -T listener (--azbridge-listener), written from
 * RemoteForwardBridge.cs, HandleRelayConnectionAsync (Azure/azure-relay-bridge
 * 693a395, src/Microsoft.Azure.Relay.Bridge/), and on purpose not from
 * src/azbridge.c, the proxy's side, so that tests compare two readings of
 * the source. What azbridge does with each relayed connection:
 *   1. read 3 bytes; unless they are 1, 0 and a mode of 0 (stream) or 1
 *      (datagram), answer 00 00 00 and close;
 *   2. read a length byte and that many bytes of UTF-8 port name;
 *   3. look the name up: when the listener has exactly one port and the
 *      name is an integer (C#'s int.TryParse), that port whatever the
 *      number; else the port of exactly that name (an ordinal Dictionary);
 *      none: close without a reply;
 *   4. a UDP port asked for a stream: 00 00 01 and close; a TCP (or socket)
 *      port asked for datagrams: 00 00 FF and close;
 *   5. else answer 01 00 <mode> and hand the stream to the forwarder.
 * Closing is its CloseConnection: a close frame 1000 "Shutdown". Reads are
 * a byte stream, so the preamble may come in any pieces and messages. The
 * forwarder here is an echo; each piece of payload goes back as one binary
 * message (azbridge's pump also writes each read as one message). Port
 * names must match azbridge's Constants.RelayNameRegex, ^[0-9A-Za-z/_\-\.]+$,
 * as its configuration demands.
 */
#include "emu.h"

#include "text.h"

enum { AZB_VERSION, AZB_LEN, AZB_NAME, AZB_ECHO, AZB_DONE };

static bool name_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '/' ||
           c == '_' || c == '-' || c == '.';
}

bool emu_azbridge_add(const char *arg, char *why, size_t cap)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || (size_t)(colon - arg) > AZR_HC_MAX) {
        snprintf(why, cap, "want HC:PORTNAME[,PORTNAME...]");
        return false;
    }
    if (emu.nhc == EMU_MAX_HC) {
        snprintf(why, cap, "more than %d hybrid connections", EMU_MAX_HC);
        return false;
    }
    emu_hc *hc = &emu.hcs[emu.nhc];
    memset(hc, 0, sizeof *hc);
    snprintf(hc->name, sizeof hc->name, "%.*s", (int)(colon - arg), arg);
    hc->builtin = EMU_B_AZBRIDGE;
    for (const char *p = colon + 1;;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        size_t nl = eq ? (size_t)(eq - p) : n;
        bool udp = false;
        if (eq) {
            if (!azr_text_ieq(eq + 1, n - nl - 1, "udp")) {
                snprintf(why, cap, "'%.*s': only =udp may follow a port name", (int)n, p);
                return false;
            }
            udp = true;
        }
        if (nl == 0 || nl > EMU_AZB_MAX_NAME) {
            snprintf(why, cap, "a port name is 1 to %d characters", EMU_AZB_MAX_NAME);
            return false;
        }
        for (size_t i = 0; i < nl; i++)
            if (!name_char(p[i])) {
                snprintf(why, cap,
                         "port name '%.*s': azbridge takes letters, digits and / _ - . only",
                         (int)nl, p);
                return false;
            }
        if (hc->nazb == EMU_AZB_MAX_PORTS) {
            snprintf(why, cap, "more than %d port names", EMU_AZB_MAX_PORTS);
            return false;
        }
        emu_azb_port *pt = &hc->azb[hc->nazb++];
        snprintf(pt->name, sizeof pt->name, "%.*s", (int)nl, p);
        pt->udp = udp;
        if (!p[n])
            break;
        p += n + 1;
    }
    emu.nhc++;
    return true;
}

void emu_azbridge_start(emu_peer *p)
{
    p->azb_state = AZB_VERSION;
    p->azb_have = 0;
    p->azb_need = 3;
}

/* int.TryParse(string) with NumberStyles.Integer: white space around, an
 * optional sign, ASCII digits, within Int32. */
static bool csharp_int(const uint8_t *s, size_t n)
{
    size_t i = 0;
    int64_t v = 0;
    bool neg = false, digits = false;
    while (i < n && (s[i] == ' ' || (s[i] >= 0x09 && s[i] <= 0x0d)))
        i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (s[i] - '0');
        if (v > (int64_t)INT32_MAX + 1)
            return false;
        digits = true;
    }
    while (i < n && (s[i] == ' ' || (s[i] >= 0x09 && s[i] <= 0x0d)))
        i++;
    return digits && i == n && (neg || v <= INT32_MAX);
}

static void close_shutdown(emu_peer *p)
{
    p->azb_state = AZB_DONE;
    emu_peer_send_close(p, AZR_WS_CLOSE_NORMAL, "Shutdown");
}

static void answer(emu_peer *p, uint8_t a, uint8_t b, uint8_t c)
{
    uint8_t r[3] = {a, b, c};
    if (!emu_peer_send_frame(p, AZR_WS_BINARY, true, r, sizeof r))
        emu_peer_drop(p, "no room for the azbridge reply");
}

static void lookup(emu_peer *p)
{
    const uint8_t *name = p->azb_buf + 4;
    size_t nl = p->azb_buf[3];
    uint8_t mode = p->azb_buf[2];
    char shown[AZR_TEXT_ESCAPED_MAX(EMU_AZB_MAX_NAME)];
    azr_text_escape((const char *)name, nl, EMU_AZB_MAX_NAME, shown, sizeof shown);
    const emu_hc *hc = p->hc;
    const emu_azb_port *pt = NULL;
    const char *by_number = "";
    if (hc->nazb == 1 && csharp_int(name, nl)) {
        pt = &hc->azb[0];
        by_number = " (taken as the only port, as azbridge takes any integer name then)";
    }
    for (int i = 0; !pt && i < hc->nazb; i++)
        if (strlen(hc->azb[i].name) == nl && memcmp(hc->azb[i].name, name, nl) == 0)
            pt = &hc->azb[i];
    unsigned long long id = (unsigned long long)p->serial;
    if (!pt) {
        emu_log("#%llu azbridge listener on %s: no port named '%s': closed without a reply", id,
                hc->name, shown);
        close_shutdown(p);
        return;
    }
    if (pt->udp && mode != 1) {
        emu_log("#%llu azbridge listener on %s: port '%s' forwards UDP, a stream was asked: "
                "answered 00 00 01",
                id, hc->name, shown);
        answer(p, 0, 0, 1);
        close_shutdown(p);
        return;
    }
    if (!pt->udp && mode == 1) {
        emu_log("#%llu azbridge listener on %s: port '%s' forwards TCP, datagrams were asked: "
                "answered 00 00 ff",
                id, hc->name, shown);
        answer(p, 0, 0, 0xff);
        close_shutdown(p);
        return;
    }
    if (!emu.quiet)
        emu_log("#%llu azbridge listener on %s: port '%s' (%s)%s accepted: answered 01 00 %02x, "
                "echoing",
                id, hc->name, shown, pt->udp ? "udp" : "tcp", by_number, mode);
    answer(p, 1, 0, mode);
    p->azb_state = AZB_ECHO;
}

/* azb_buf holds azb_need bytes: act on them. */
static void step(emu_peer *p)
{
    const uint8_t *v = p->azb_buf;
    switch (p->azb_state) {
    case AZB_VERSION:
        if (!(v[0] == 1 && v[1] == 0 && (v[2] == 0 || v[2] == 1))) {
            emu_log("#%llu azbridge listener on %s: preamble version %02x %02x mode %02x not "
                    "understood: answered 00 00 00",
                    (unsigned long long)p->serial, p->hc->name, v[0], v[1], v[2]);
            answer(p, 0, 0, 0);
            close_shutdown(p);
            return;
        }
        p->azb_state = AZB_LEN;
        p->azb_need = 4;
        return;
    case AZB_LEN:
        p->azb_state = AZB_NAME;
        p->azb_need = 4u + v[3];
        if (v[3] == 0)
            lookup(p);
        return;
    case AZB_NAME:
        lookup(p);
        return;
    default:
        return;
    }
}

void emu_azbridge_data(emu_peer *p, uint8_t *d, size_t n)
{
    size_t i = 0;
    while (i < n && p->azb_state < AZB_ECHO && !p->dead) {
        size_t k = p->azb_need - p->azb_have;
        if (k > n - i)
            k = n - i;
        memcpy(p->azb_buf + p->azb_have, d + i, k);
        p->azb_have += k;
        i += k;
        if (p->azb_have == p->azb_need)
            step(p);
    }
    if (p->azb_state == AZB_ECHO && i < n && !p->close_out && !p->dead)
        (void)emu_peer_send_frame(p, AZR_WS_BINARY, true, d + i, n - i);
}
