/*
 * Target: the CONNECT handshake with proxy authentication (src/outbound.c over
 * proxyauth.c, http1.c, proxyroute.c and the connection core) through
 * tests/simnet.h's fake sockets and clock. The first byte picks
 * ProxyAuthScheme, whether a user is set and whether ProxyAuthorization is;
 * the rest is a script of the proxy's doings: raw bytes, canned 407s (keep-
 * alive or closing, each scheme, squid's NTLM challenge, chunked, none),
 * 200, 502..504, EOF, reset, time passing, and reading our requests.
 * Invariants beyond "no crash": no I/O on a closed socket, no double close;
 * every request we send is one CONNECT head for the relay with at most one
 * Proxy-Authorization whose value has no control character; the password
 * never appears as such on the wire; at most one Disconnected, exactly one
 * once the connection is gone, with both sockets closed.
 */
#define SIM_SOCKS 8
#define SIM_PIPE  (1 << 14)
#include "../tests/simnet.h"

#include <stdlib.h>

static sim w;

static const char *const answers[] = {
    "HTTP/1.1 407 A\r\nContent-Length: 3\r\nProxy-Authenticate: Basic realm=\"r\"\r\n\r\nabc",
    "HTTP/1.0 407 A\r\nProxy-Authenticate: Basic realm=\"r\"\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 407 A\r\nContent-Length: 0\r\nProxy-Authenticate: Digest realm=\"d\", "
    "nonce=\"1e683e0be9788ce057d9dd96c921edfc\", qop=\"auth\", stale=false\r\n\r\n",
    "HTTP/1.1 407 A\r\nContent-Length: 0\r\nProxy-Authenticate: Digest realm=\"d\", "
    "nonce=\"2f\", qop=\"auth\", algorithm=SHA-256, stale=true\r\n\r\n",
    "HTTP/1.1 407 A\r\nContent-Length: 0\r\nProxy-Authenticate: NTLM\r\n"
    "Proxy-Authenticate: Digest realm=\"d\", nonce=\"n\"\r\nProxy-Authenticate: Basic "
    "realm=\"b\"\r\n\r\n",
    "HTTP/1.1 407 A\r\nContent-Length: 0\r\nProxy-Authenticate: NTLM "
    "TlRMTVNTUAACAAAACQAJAK6qqqoHgggAHdgQHjiClRAAAAAAAAA6AFdPUktHUk9VUA==\r\n\r\n",
    "HTTP/1.1 407 A\r\nTransfer-Encoding: chunked\r\nProxy-Authenticate: Basic r=1\r\n\r\n",
    "HTTP/1.1 407 A\r\nContent-Length: 0\r\nProxy-Authenticate: Negotiate\r\n\r\n",
    "HTTP/1.1 407 A\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.0 401 U\r\nWWW-Authenticate: Basic realm=\"t\"\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 200 Connection established\r\n\r\n",
    "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
};

static char *find(char *hay, size_t len, const char *needle)
{
    return sim_find(hay, len, needle);
}

/* Our CONNECT heads waiting on s: each checked, then taken off the wire. Past
 * the proxy phase, what follows them is the upgrade's: it stays for case 7. */
static void proxy_reads(sim_sock *s, bool past_proxy)
{
    for (;;) {
        char *b = (char *)s->out.buf, *end = find(b, s->out.len, "\r\n\r\n");
        if (!end)
            return;
        size_t n = (size_t)(end + 4 - b);
        static const char line[] = "CONNECT 127.0.0.1:9 HTTP/1.1\r\n";
        if (n < sizeof line - 1 || memcmp(b, line, sizeof line - 1) != 0) {
            if (past_proxy)
                return;
            abort(); /* not our CONNECT, or bytes before it */
        }
        if (find(b, n, "s3cretPW")) /* Basic carries it in base64, the others never */
            abort();
        char *pa = find(b, n, "\r\nProxy-Authorization: ");
        if (pa) {
            if (find(pa + 2, n - (size_t)(pa + 2 - b), "\r\nProxy-Authorization: "))
                abort(); /* two values */
            for (char *p = pa + 23; p < end && *p != '\r'; p++)
                if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
                    abort();
        }
        for (char *p = b; p < end; p++)
            if (*p == '\0')
                abort();
        sim_take(&s->out, n);
    }
}

static void check(int id, int cfd)
{
    for (int i = 0; i < SIM_SOCKS; i++)
        if (w.s[i].misuse)
            abort();
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
    static const char *const schemes[] = {"ProxyAuthScheme=Auto", "ProxyAuthScheme=Basic",
                                          "ProxyAuthScheme=Digest", "ProxyAuthScheme=NTLM",
                                          "ProxyAuthScheme=None"};
    uint8_t cfg = data[0];
    const char *set[10] = {"FirewallType=1", "FirewallHost=127.0.0.1", "FirewallPort=3128",
                           "ConnectionTimeout=3", schemes[cfg % 5]};
    size_t k = 5;
    if (cfg & 8) {
        set[k++] = (cfg & 32) ? "ProxyUser=CORP\\gw" : "ProxyUser=gw";
        set[k++] = "ProxyPassword=s3cretPW";
    }
    if (cfg & 16)
        set[k++] = "ProxyAuthorization=Bearer t0k3n";
    set[k] = NULL;
    memset(&w, 0, sizeof w);
    if (!sim_init(&w, set))
        abort();
    w.quiet = true;
    char err[256];
    if (azr_route_compute(&w.p.set, NULL, NULL, "127.0.0.1", false, &w.p.route, err, sizeof err) !=
            AZR_OK ||
        w.p.route.kind != AZR_ROUTE_CONNECT)
        abort();
    int cfd;
    int id = sim_accept(&w, &cfd, SIM_PIPE);
    if (id <= 0)
        abort();
    sim_turns(&w, 2);
    sim_sock *cl = sim_sock_of(&w, cfd), *px = sim_relay(&w), *up = NULL;
    static azr_ws_dec dec;
    sim_seen seen;
    memset(&seen, 0, sizeof seen);
    size_t i = 1;
    while (i < size && w.disconnected[id] == 0) {
        uint8_t op = data[i++];
        uint8_t arg = i < size ? data[i] : 0;
        switch (op % 8) {
        case 0: /* raw bytes from the proxy */
            if (px) {
                size_t n = size - i < arg ? size - i : arg;
                sim_put(&px->in, data + i, n);
            }
            i += arg;
            break;
        case 1: /* a canned answer */
            if (px)
                sim_put(&px->in, answers[arg % (sizeof answers / sizeof answers[0])],
                        strlen(answers[arg % (sizeof answers / sizeof answers[0])]));
            i++;
            break;
        case 2:
            if (px)
                px->in_eof = true;
            break;
        case 3:
            if (px)
                px->in_rst = true;
            break;
        case 4: /* time passes */
            sim_wait(&w, (uint64_t)arg * 20u + 1u, 50);
            i++;
            break;
        case 5: /* time passes a little */
            sim_wait(&w, 10, 10);
            break;
        case 6: /* the client leaves */
            if (arg & 1)
                cl->in_eof = true;
            i++;
            break;
        case 7: /* the relay answers the upgrade through the tunnel, then talks */
            if (px && px != up && sim_upgrade(px)) {
                up = px;
                azr_ws_dec_init(&dec, 0, false);
                azr_ws_dec_server(&dec);
                memset(&seen, 0, sizeof seen);
            } else if (px && px == up) {
                sim_frame(px, 0x82, data, 1);
                sim_relay_reads(px, &dec, &seen, NULL, 0);
                if (seen.bad)
                    abort(); /* through the tunnel, our frames are a valid client stream */
            }
            break;
        }
        sim_turns(&w, 2);
        px = sim_relay(&w);
        const azr_conn *c = azr_listener_find(&w.p, id);
        if (px && !px->closed) /* a closed one may hold the upgrade of a tunnel lost since */
            proxy_reads(px, !c || c->phase > AZR_P_PROXY);
        check(id, cfd);
    }
    sim_free(&w);
    check(id, cfd);
    if (w.disconnected[id] != 1)
        abort();
    if (!cl->closed || (px && !px->closed))
        abort();
    return 0;
}
