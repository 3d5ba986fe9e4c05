/*
 * The sender's side of azbridge's connection preamble (Microsoft's
 * Azure/azure-relay-bridge, "azbridge -T" listeners): what a sender writes
 * first on every relayed connection, and the listener's 3-byte answer. It is
 * azbridge's protocol on top of the relay's WebSocket, not the relay's
 * (relay-protocol.md §1). No allocation, no I/O.
 *
 * Wire (TcpLocalForwardBridge.cs, RemoteForwardBridge.cs):
 *   sender:   01 00 00 <len> <port name, len bytes of UTF-8>
 *             major 1, minor 0, mode 0 = stream (1 = datagram, UDP bridges),
 *             len one byte (1..255)
 *   listener: 01 00 00  accepted; the service's bytes follow
 *             00 00 00  version (or mode byte) not understood
 *             00 00 01  the port forwards UDP, a stream was asked
 *             00 00 FF  the port forwards TCP or a socket, datagrams were asked
 *             nothing, then close: no port of that name
 * The listener reads the preamble as a byte stream, so how it is split into
 * WebSocket messages does not matter (azbridge itself writes it as two binary
 * messages, header then name); its reply is one 3-byte binary message.
 * Its reads return 0 for an empty message and take that as the end of the
 * stream, so nothing may ever send azbridge an empty data message.
 */
#ifndef AZR_AZBRIDGE_H
#define AZR_AZBRIDGE_H

#include "bounds.h"
#include "err.h"

/* Preamble header bytes before the name: major, minor, mode, length. */
#define AZR_AZBRIDGE_HDR_LEN 4
/* The longest preamble azr_azbridge_preamble writes. */
#define AZR_AZBRIDGE_PREAMBLE_MAX (AZR_AZBRIDGE_HDR_LEN + AZR_AZBRIDGE_MAX_NAME)
/* The listener's reply. */
#define AZR_AZBRIDGE_REPLY_LEN 3
/* Room for any text the reply parser writes (the name is quoted in it). */
#define AZR_AZBRIDGE_TEXT_MAX (400 + AZR_AZBRIDGE_MAX_NAME)

/* What the listener's answer meant. */
typedef enum azr_azbridge_verdict {
    AZR_AZBRIDGE_WAITING = 0,    /* the reply is not complete yet */
    AZR_AZBRIDGE_ACCEPTED,       /* 01 00 00 */
    AZR_AZBRIDGE_BAD_VERSION,    /* 00 00 00 */
    AZR_AZBRIDGE_PORT_IS_UDP,    /* 00 00 01: mode mismatch, the port forwards UDP */
    AZR_AZBRIDGE_PORT_IS_STREAM, /* 00 00 FF: mode mismatch, the port forwards TCP/a socket */
    AZR_AZBRIDGE_REFUSED_OTHER,  /* 00 00 xx, any other xx: a refusal this code does not know */
    AZR_AZBRIDGE_UNEXPECTED,     /* 3 bytes azbridge never answers to a stream preamble */
    AZR_AZBRIDGE_NO_PORT,        /* closed before any reply byte: no such port name */
    AZR_AZBRIDGE_CUT,            /* closed after 1 or 2 reply bytes */
    AZR_AZBRIDGE_SILENT          /* the caller's deadline passed before the reply was whole */
} azr_azbridge_verdict;

typedef struct azr_azbridge {
    /* results */
    azr_err err;                  /* AZR_AGAIN while waiting; then the verdict's code, sticky */
    azr_azbridge_verdict verdict; /* AZR_AZBRIDGE_WAITING until decided */
    uint8_t reply[AZR_AZBRIDGE_REPLY_LEN];
    size_t reply_len; /* reply bytes received so far (at most 3) */
    const char *why;  /* NULL while waiting or accepted; else the text, in b */
    /* private */
    char name[AZR_AZBRIDGE_MAX_NAME + 1];
    char text[AZR_AZBRIDGE_TEXT_MAX];
} azr_azbridge;

/*
 * Write the stream-mode preamble for port_name (NUL-terminated) into
 * out[cap]; *len gets its length, 5 to AZR_AZBRIDGE_PREAMBLE_MAX (0 on
 * error). The caller sends it, in one binary message or several, before any
 * client byte. AZR_E_ARG for a NULL or empty name, a name over
 * AZR_AZBRIDGE_MAX_NAME bytes, one that is not UTF-8 (RFC 3629) or holds a
 * control character (C0 or DEL); AZR_E_LIMIT when cap is too small.
 */
AZR_MUST_CHECK azr_err azr_azbridge_preamble(const char *port_name, uint8_t *out, size_t cap,
                                             size_t *len);

/*
 * Start waiting for the reply to the preamble sent for port_name (copied,
 * for the texts). AZR_E_ARG (b->why says why) when azr_azbridge_preamble
 * would refuse the name.
 */
AZR_MUST_CHECK azr_err azr_azbridge_init(azr_azbridge *b, const char *port_name);

/*
 * Feed bytes from the listener (WebSocket payload, in any pieces; message
 * boundaries do not matter). *consumed is always set and never passes the
 * end of the 3-byte reply: the bytes after it are the service's and stay
 * with the caller. AZR_AGAIN: all input taken, the reply is incomplete;
 * AZR_OK: accepted; AZR_E_REFUSED: the listener refused (verdict and why
 * say how); AZR_E_PROTO: bytes azbridge never answers (why shows them). Once
 * decided, the result is sticky and nothing more is consumed.
 */
AZR_MUST_CHECK azr_err azr_azbridge_feed(azr_azbridge *b, const uint8_t *in, size_t len,
                                         size_t *consumed);

/*
 * The relay connection ended (a close frame or a lost socket) while the
 * reply was incomplete. Before any reply byte this is how azbridge says "no
 * port of that name" (verdict NO_PORT); after 1 or 2 it is CUT. Both return
 * AZR_E_CLOSED with why set. Once the reply was decided, nothing changes and
 * that result is returned again.
 */
AZR_MUST_CHECK azr_err azr_azbridge_closed(azr_azbridge *b);

/*
 * The caller's deadline for the reply passed (verdict SILENT, AZR_E_TIMEOUT,
 * why set). The usual cause is a listener that is not azbridge at all but
 * the service itself, waiting for the client to speak first. Once the reply
 * was decided, nothing changes and that result is returned again.
 */
AZR_MUST_CHECK azr_err azr_azbridge_timeout(azr_azbridge *b);

#endif
