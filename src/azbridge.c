/*
 * IMPLEMENTATION NOTES
 * Source: Azure/azure-relay-bridge 693a395 (src/Microsoft.Azure.Relay.Bridge/):
 * TcpLocalForwardBridge.cs writes {1, 0, 0, (byte)len} then the UTF-8 name
 * and needs exactly 01 00 00 back; RemoteForwardBridge.cs reads 3 bytes,
 * answers 00 00 00 unless they are 1, 0 and a mode of 0 or 1, then reads
 * the length byte and the name (into a 256-byte buffer), looks the name up
 * and answers 00 00 01 (a UDP port asked for a stream), 00 00 FF (a TCP or
 * socket port asked for datagrams) or 01 00 <mode>, or closes without a
 * word when no port has that name.
 *
 * The reply is always 3 bytes, so the parser collects exactly 3 and judges
 * them together: one verdict whatever the split, and the text can show all
 * three (a service that speaks first, such as an SSH server's banner, is
 * then recognisable). Bytes after the third are never taken. The C# sender
 * casts the length to a byte, so a name over 255 bytes would go out with a
 * wrong length; we refuse it instead. Names are checked as UTF-8 and
 * without control characters, which also makes them safe to quote in logs.
 */
#include "azbridge.h"
#include "text.h"
#include "ws.h"
#include <stdarg.h>

static const char *name_problem(const char *name, size_t *len)
{
    *len = 0;
    if (!name || !*name)
        return "azbridge PortName is empty (set the listener's port name, or leave PortName "
               "empty only for listeners that are not azbridge)";
    size_t n = strlen(name);
    if (n > AZR_AZBRIDGE_MAX_NAME)
        return "azbridge PortName is longer than 255 bytes (its preamble has one length byte)";
    if (!azr_ws_utf8_valid((const uint8_t *)name, n))
        return "azbridge PortName is not valid UTF-8";
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)name[i] < 0x20 || (uint8_t)name[i] == 0x7f)
            return "azbridge PortName holds a control character";
    *len = n;
    return NULL;
}

azr_err azr_azbridge_preamble(const char *port_name, uint8_t *out, size_t cap, size_t *len)
{
    size_t n;
    *len = 0;
    if (name_problem(port_name, &n))
        return AZR_E_ARG;
    if (AZR_AZBRIDGE_HDR_LEN + n > cap)
        return AZR_E_LIMIT;
    out[0] = 1; /* major */
    out[1] = 0; /* minor */
    out[2] = 0; /* mode: 0 stream (TCP), 1 datagram (UDP) */
    out[3] = (uint8_t)n;
    memcpy(out + AZR_AZBRIDGE_HDR_LEN, port_name, n);
    *len = AZR_AZBRIDGE_HDR_LEN + n;
    return AZR_OK;
}

azr_err azr_azbridge_init(azr_azbridge *b, const char *port_name)
{
    size_t n;
    memset(b, 0, sizeof *b);
    b->err = AZR_AGAIN;
    const char *why = name_problem(port_name, &n);
    if (why) {
        b->err = AZR_E_ARG;
        b->why = why;
        return b->err;
    }
    memcpy(b->name, port_name, n + 1);
    return AZR_OK;
}

static azr_err decided(azr_azbridge *b, azr_err e, azr_azbridge_verdict v)
{
    b->err = e;
    b->verdict = v;
    b->why = e == AZR_OK ? NULL : b->text;
    return e;
}

/* azbridge's port names: Constants.RelayNameRegex, ^[0-9A-Za-z/_\-\.]+$ */
static bool azbridge_charset(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              *s == '/' || *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

static void say(azr_azbridge *b, const char *fmt, ...) AZR_PRINTF(2, 3);
static void say(azr_azbridge *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->text, sizeof b->text, fmt, ap);
    va_end(ap);
    if (w < 0)
        snprintf(b->text, sizeof b->text, "azbridge listener reply for port '%s'", b->name);
}

static azr_err judge(azr_azbridge *b)
{
    const uint8_t *r = b->reply;
    const char *n = b->name;
    if (r[0] == 1 && r[1] == 0 && r[2] == 0)
        return decided(b, AZR_OK, AZR_AZBRIDGE_ACCEPTED);
    if (r[0] == 0 && r[1] == 0 && r[2] == 0) {
        say(b,
            "azbridge listener refused the port name '%s': protocol version mismatch (it "
            "answered 00 00 00: it does not take preamble version 1.0 in stream mode; check "
            "the azbridge version on the listener's side)",
            n);
        return decided(b, AZR_E_REFUSED, AZR_AZBRIDGE_BAD_VERSION);
    }
    if (r[0] == 0 && r[1] == 0 && r[2] == 1) {
        say(b,
            "azbridge listener refused the port name '%s': mode mismatch (the listener "
            "forwards UDP on that port, not TCP; azrelay carries TCP only: name a TCP port of "
            "the listener's -T mapping)",
            n);
        return decided(b, AZR_E_REFUSED, AZR_AZBRIDGE_PORT_IS_UDP);
    }
    if (r[0] == 0 && r[1] == 0 && r[2] == 0xff) {
        say(b,
            "azbridge listener refused the port name '%s': mode mismatch (the listener "
            "forwards TCP on that port but was asked for UDP datagrams)",
            n);
        return decided(b, AZR_E_REFUSED, AZR_AZBRIDGE_PORT_IS_STREAM);
    }
    if (r[0] == 0) {
        say(b,
            "azbridge listener refused the port name '%s' with a reply azrelay does not know "
            "(%02x %02x %02x)",
            n, r[0], r[1], r[2]);
        return decided(b, AZR_E_REFUSED, AZR_AZBRIDGE_REFUSED_OTHER);
    }
    if (r[0] == 1 && r[1] == 0) {
        say(b,
            "azbridge listener accepted the port name '%s' in mode %u (01 00 %02x), but the "
            "preamble asked for a TCP stream (mode 0): an incompatible listener",
            n, r[2], r[2]);
        return decided(b, AZR_E_PROTO, AZR_AZBRIDGE_UNEXPECTED);
    }
    char shown[AZR_TEXT_ESCAPED_MAX(AZR_AZBRIDGE_REPLY_LEN)];
    azr_text_escape((const char *)r, AZR_AZBRIDGE_REPLY_LEN, AZR_AZBRIDGE_REPLY_LEN, shown,
                    sizeof shown);
    say(b,
        "the listener's first bytes (%02x %02x %02x, \"%s\") are no azbridge reply to the "
        "preamble for port '%s': the listener seems to be the service itself, not azbridge "
        "-T (leave PortName empty for such a listener)",
        r[0], r[1], r[2], shown, n);
    return decided(b, AZR_E_PROTO, AZR_AZBRIDGE_UNEXPECTED);
}

azr_err azr_azbridge_feed(azr_azbridge *b, const uint8_t *in, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (b->err != AZR_AGAIN)
        return b->err;
    size_t n = AZR_AZBRIDGE_REPLY_LEN - b->reply_len;
    if (n > len)
        n = len;
    if (n > 0)
        memcpy(b->reply + b->reply_len, in, n);
    b->reply_len += n;
    *consumed = n;
    return b->reply_len < AZR_AZBRIDGE_REPLY_LEN ? AZR_AGAIN : judge(b);
}

static void got_so_far(const azr_azbridge *b, char *out, size_t cap)
{
    int w = snprintf(out, cap, "%zu of 3 reply bytes", b->reply_len);
    for (size_t i = 0; i < b->reply_len && w > 0 && (size_t)w < cap; i++) {
        int k = snprintf(out + w, cap - (size_t)w, "%s%02x", i ? " " : ": ", b->reply[i]);
        w = k > 0 ? w + k : -1;
    }
}

azr_err azr_azbridge_closed(azr_azbridge *b)
{
    if (b->err != AZR_AGAIN)
        return b->err;
    if (b->reply_len == 0) {
        say(b,
            "azbridge listener closed the connection without answering the preamble: no port "
            "named '%s' on that listener (check PortName against the listener's -T "
            "mapping%s)",
            b->name,
            azbridge_charset(b->name)
                ? ""
                : "; azbridge port names hold only letters, digits and / _ - . so this one "
                  "can never match");
        return decided(b, AZR_E_CLOSED, AZR_AZBRIDGE_NO_PORT);
    }
    char got[40];
    got_so_far(b, got, sizeof got);
    say(b,
        "azbridge listener closed the connection in the middle of its reply to the preamble "
        "for port '%s' (%s)",
        b->name, got);
    return decided(b, AZR_E_CLOSED, AZR_AZBRIDGE_CUT);
}

azr_err azr_azbridge_timeout(azr_azbridge *b)
{
    if (b->err != AZR_AGAIN)
        return b->err;
    char got[40];
    got_so_far(b, got, sizeof got);
    say(b,
        "no answer in time to the azbridge preamble for port '%s' (%s): is the listener "
        "azbridge -T? A listener that is the service itself waits for the client to speak "
        "first; leave PortName empty for such a listener",
        b->name, got);
    return decided(b, AZR_E_TIMEOUT, AZR_AZBRIDGE_SILENT);
}
