/*
 * --help: the text, with the SETTINGS section generated from the vocabulary
 * table (conftable.c), so it cannot drift from what the daemon accepts.
 */
#include "platform.h"

#include "help.h"
#include "config.h"
#include "ctl.h"

static void wrap_hang(FILE *f, const char *text, int indent, int hang, int width)
{
    int col = indent, left = indent;
    fprintf(f, "%*s", indent, "");
    const char *p = text;
    while (*p) {
        const char *w = p;
        while (*w && *w != ' ')
            w++;
        int len = (int)(w - p);
        if (col > left && col + 1 + len > width) {
            fprintf(f, "\n%*s", hang, "");
            col = left = hang;
        } else if (col > left) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", len, p);
        col += len;
        p = *w ? w + 1 : w;
    }
    fputc('\n', f);
}

static void wrap(FILE *f, const char *text, int indent, int width)
{
    wrap_hang(f, text, indent, indent, width);
}

static const char *type_name(const azr_conf_def *d)
{
    switch (d->type) {
    case AZR_CT_BOOL:
        return "True|False";
    case AZR_CT_INT:
        return "N";
    case AZR_CT_ENUM:
        return "N|NAME";
    case AZR_CT_FLAGS:
        return "0xBITS";
    default:
        return "TEXT";
    }
}

void azr_help_usage(FILE *f)
{
    fprintf(f, "usage: " PROG " [-c FILE] [--check | --get [FORWARD:]NAME]\n"
               "           [Name=Value ...] [--forward NAME:Name=Value ...]\n"
               "       " PROG " --status [PATH] [-c FILE]\n"
               "       " PROG " --help | --version\n");
}

void azr_help_print(FILE *f)
{
    fprintf(f, "NAME\n    " PROG " - forward local TCP connections to Azure Relay\n"
               "    hybrid connections\n\nSYNOPSIS\n");
    fprintf(f, "    " PROG " [-c FILE] [Name=Value ...] [--forward NAME:Name=Value ...]\n"
               "    " PROG " --check [-c FILE] [Name=Value ...] [--forward ...]\n"
               "    " PROG " --get [FORWARD:]NAME [-c FILE] [Name=Value ...]\n"
               "    " PROG " --status [PATH] [-c FILE]\n"
               "    " PROG " --help | --version\n\n");
    fprintf(f, "DESCRIPTION\n");
    wrap(f,
         "Serves one or more forwards on one event loop. Each forward listens on "
         "LocalHost:LocalPort; for every accepted client it opens its own wss:// connection "
         "to NamespaceAddress as a sender on HybridConnection, authenticated with a Shared "
         "Access Signature made from AccessKeyName and AccessKey, and forwards bytes both ways "
         "as binary WebSocket frames. One client, one relay connection.",
         4, 78);
    fputc('\n', f);
    wrap(f,
         "Settings use the names of the AzureRelayProxy class. Names are case-insensitive; "
         "booleans accept True/False, Yes/No, 1/0; enumerations accept their number or their "
         "name. Every line of the log of a forward starts with its name in brackets "
         "([NAME]), and every connection ends in one line with its peer, duration, bytes each "
         "way and reason.",
         4, 78);
    fprintf(f, "\nCONFIG FILE\n");
    wrap(f,
         "One Name=Value per line. Blank lines and lines whose first character is # or ; "
         "are comments (a whole line only: a value may contain # and ;). A line "
         "[forward NAME] starts the section of one forward (NAME: 1 to 32 letters, digits, "
         "'.', '_' or '-'; compared ignoring case); the Name=Value lines after it, up to the "
         "next section, are that forward's. The lines before the first section are defaults "
         "for every forward. A file without sections is one forward named default.",
         4, 78);
    fputc('\n', f);
    fprintf(f, "        NamespaceAddress=myrelay.servicebus.windows.net\n"
               "        AccessKeyName=send\n"
               "        AccessKey=KEY\n"
               "        [forward ssh]\n"
               "        HybridConnection=ssh\n"
               "        LocalPort=2222\n"
               "        [forward db]\n"
               "        HybridConnection=db\n"
               "        LocalHost=127.0.0.1\n"
               "        LocalPort=5432\n"
               "        DrainTimeout=300\n\n");
    wrap(f,
         "A setting may appear once per section (the top level counts as one): a repeat is "
         "an error, not \"last wins\". A NAME heads one section only, two forwards may not "
         "listen on the same LocalHost:LocalPort (an empty LocalHost takes every address), "
         "and EventLoop is set for the whole daemon only, never in a section. FILE must be a "
         "regular file of at most 1 MiB, in lines of at most 8192 bytes (LF or CRLF), with no "
         "NUL byte. Every error names the file and line (FILE:LINE: ...).",
         4, 78);
    fputc('\n', f);
    wrap(f,
         "Precedence, lowest first: the defaults below; the file's top level; Name=Value "
         "arguments; the forward's [forward NAME] section; --forward NAME:Name=Value "
         "arguments. A section thus beats a Name=Value argument, and --forward beats both.",
         4, 78);
    fprintf(f, "\nOPTIONS\n");
    fprintf(f, "    -c FILE, --config FILE\n");
    wrap(f, "Read settings from FILE (see CONFIG FILE). SIGHUP reads it again.", 8, 78);
    fprintf(f, "    Name=Value\n");
    wrap(f, "A default for every forward, over the file's top level (once per name).", 8, 78);
    fprintf(f, "    --forward NAME:Name=Value\n");
    wrap(f,
         "Set Name for the forward NAME only, over everything else. NAME must be a forward "
         "of the file (default when it has no sections).",
         8, 78);
    fprintf(f, "    --check\n");
    wrap(f,
         "Validate every forward, say what is missing for a relay connection, print one line "
         "per forward (its name, local address, relay and proxy route) and exit: 0 when all "
         "can be used, 1 otherwise. It loads every file the start would (the CA bundle for "
         "wss://, SSLCertStore and the client CAs for local TLS), so an image that lacks one "
         "learns it here.",
         8, 78);
    fprintf(f, "    --get [FORWARD:]NAME\n");
    wrap(f,
         "Apply the settings, print the value of NAME for FORWARD (needed when there are "
         "several) and exit; for example --get AccessToken prints a fresh SAS token.",
         8, 78);
    fprintf(f, "    --status [PATH]\n");
    wrap(f,
         "Print a running daemon's report from its status socket (see STATUS AND METRICS) "
         "and exit: 0 when it answered, 1 when not. PATH defaults to the StatusSocket of the "
         "configuration that -c and Name=Value give, else " AZR_STATUS_DEFAULT_PATH ".",
         8, 78);
    fprintf(f, "    -h, --help\n");
    wrap(f, "Show this text.", 8, 78);
    fprintf(f, "    -V, --version\n");
    wrap(f, "Show the version.", 8, 78);
    fprintf(f, "\nSETTINGS\n");
    for (size_t i = 0; i < azr_config_count; i++) {
        const azr_conf_def *d = &azr_config_table[i];
        if (d->flags & AZR_CF_READONLY)
            fprintf(f, "    %s (read only)\n", d->name);
        else if (d->flags & AZR_CF_SECRET || !d->dflt[0])
            fprintf(f, "    %s=%s\n", d->name, type_name(d));
        else if (strlen(d->name) + strlen(d->dflt) < 56)
            fprintf(f, "    %s=%s (default %s)\n", d->name, type_name(d), d->dflt);
        else /* a long default (a list) gets its own lines */
            fprintf(f, "    %s=%s (default below)\n", d->name, type_name(d));
        wrap(f, d->help, 8, 78);
        if (d->type == AZR_CT_INT)
            fprintf(f, "        Range %ld to %ld.\n", d->min, d->max);
        if (d->type == AZR_CT_ENUM)
            fprintf(f, "        Values %s.\n", d->enums);
        if (!(d->flags & (AZR_CF_SECRET | AZR_CF_READONLY)) && d->dflt[0] &&
            strlen(d->name) + strlen(d->dflt) >= 56) {
            fprintf(f, "        Default:\n");
            for (const char *q = d->dflt; *q;) {
                const char *semi = strchr(q, ';');
                int n = semi ? (int)(semi - q) : (int)strlen(q);
                fprintf(f, "          %.*s%s\n", n, q, semi ? ";" : "");
                q += semi ? n + 1 : n;
            }
        }
    }
    fprintf(f, "\nPROXIES\n");
    wrap(f,
         "Relay connections go direct or through one proxy, chosen when listening starts, in "
         "this order:",
         4, 78);
    wrap_hang(f,
              "1. The settings. ProxyServer (with ProxyPort, ProxyUser, ProxyPassword) names an "
              "HTTP proxy that opens CONNECT tunnels: it is FirewallType=1 with FirewallHost "
              "(FirewallPort, FirewallUser, FirewallPassword) under other names. Give either name "
              "of each pair; given both, they must agree, or listening is refused naming both. "
              "FirewallType 2, 3 and 10 name a SOCKS proxy, and the Proxy* settings are then "
              "refused.",
              6, 9, 78);
    wrap_hang(f,
              "2. With FirewallAutoDetect=True and no proxy set, the environment, as curl reads it "
              "(see FirewallAutoDetect). no_proxy (or NO_PROXY) lists relay hosts that go direct, "
              "separated by commas: * alone means every host; NAME and .NAME match NAME and every "
              "name under it; an IPv4 or IPv6 address, or ADDRESS/PREFIX, matches a relay given by "
              "address; an entry with a port matches nothing.",
              6, 9, 78);
    wrap(f, "3. Otherwise, direct.", 6, 78);
    wrap(f,
         "ProxyExceptionsList sends the relay hosts it matches direct, whatever chose the "
         "proxy. The relay's host is compared as NamespaceAddress writes it, never resolved. "
         "The start line (\"listening on ...\") says which route was taken and why, --check "
         "prints it, and --get ProxyRoute reads it; passwords are never shown.",
         4, 78);
    wrap(f,
         "An HTTP proxy that asks for credentials (407) gets them as ProxyAuthScheme says: "
         "under Auto, by the strongest scheme it offers (NTLM, Digest, Basic), on the same "
         "connection when it keeps it, else on a new one; a refusal names the scheme and the "
         "settings to check.",
         4, 78);
    fprintf(f, "\n");
    wrap(f,
         "Names of the AzureRelayProxy class that azrelay does not implement are refused with "
         "\"not supported\":",
         4, 78);
    char line[4096];
    size_t o = 0;
    for (size_t i = 0; i < azr_config_unsupported_count; i++) {
        int n = snprintf(line + o, sizeof line - o, "%s%s", i ? ", " : "",
                         azr_config_unsupported[i].name);
        if (n < 0 || (size_t)n >= sizeof line - o)
            break;
        o += (size_t)n;
    }
    wrap(f, line, 8, 78);
    fprintf(f, "\nSIGNALS\n");
    wrap(f,
         "SIGHUP: reload. FILE is read again and the command line applied again. A forward "
         "whose effective settings are the same keeps its listener and its connections; one "
         "whose LogLevel or DrainTimeout alone changed takes them in place; a changed one "
         "stops listening, its connections drain (as below), and a new proxy with the new "
         "settings listens (on the same port too: the old one lets go first); an added one "
         "starts; a removed one stops listening and drains. A file that does not load changes "
         "nothing and the log says why; a forward whose new settings do not start keeps its "
         "old ones. One line sums each reload up: \"reload: 1 added (c), 1 changed (b), 1 "
         "removed (x), 2 unchanged\". EventLoop changes only with a restart. Under systemd "
         "it is RELOADING=1 before and READY=1 after, a refused reload included.",
         4, 78);
    fputc('\n', f);
    wrap(f,
         "SIGINT, SIGTERM: drain and exit 0. Every forward stops accepting; open connections "
         "go on for DrainTimeout seconds (default 30), then the rest are closed (close 1001 to "
         "the relay). The daemon exits once the last one ended. A second SIGINT or SIGTERM "
         "closes them all at once and exits 0. Under systemd the first sends STOPPING=1 and, "
         "while connections drain, EXTEND_TIMEOUT_USEC (the drain plus 10 s), so a "
         "DrainTimeout longer than the unit's TimeoutStopSec is not cut short.",
         4, 78);
    fputc('\n', f);
    wrap(f,
         "SIGUSR1, SIGUSR2 (and SIGALRM, SIGIO, SIGPROF, SIGPWR, SIGVTALRM, real-time "
         "signals): logged and ignored.",
         4, 78);
    fprintf(f, "\nENVIRONMENT\n");
    fprintf(f, "    AZRELAY_CONNECTION_STRING, AZRELAY_ACCESS_KEY\n");
    wrap(f,
         "A connection string or a key for every forward, at the lowest precedence: applied "
         "before the file (the string first, then the key), so a key in the file or on the "
         "command line wins. Read again at every reload.",
         8, 78);
    fprintf(f, "    NOTIFY_SOCKET\n");
    wrap(f,
         "systemd's notification socket (a path, or @NAME for an abstract one), for a unit "
         "of Type=notify: READY=1 once every forward listens, RELOADING=1 (with "
         "MONOTONIC_USEC) and READY=1 around a reload, STOPPING=1, and STATUS= lines "
         "(\"2 forwards, 5 connections\", at most one a second).",
         8, 78);
    fprintf(f, "    WATCHDOG_USEC, WATCHDOG_PID\n");
    wrap(f,
         "WATCHDOG=1 every half of WATCHDOG_USEC, sent from the event loop, unless "
         "WATCHDOG_PID names another process.",
         8, 78);
    fprintf(f, "    JOURNAL_STREAM\n");
    wrap(f,
         "When it names standard error (systemd's journal), every log line starts with its "
         "priority, <3> errors, <4> warnings, <6> events, <7> detail, and has no timestamp.",
         8, 78);
    fprintf(f, "    CREDENTIALS_DIRECTORY\n");
    wrap(f, "Where %d/NAME (AccessKeyFile, ConnectionStringFile) is looked up.", 8, 78);
    fprintf(f, "    https_proxy, http_proxy, all_proxy, no_proxy\n");
    wrap(f, "With FirewallAutoDetect=True: see PROXIES.", 8, 78);
    fprintf(f, "\nSECURITY\n");
    wrap(f,
         "A secret given on the command line (AccessKey=..., ConnectionString=..., a proxy "
         "password) is used, then overwritten with * in the process's arguments, with one "
         "warning: ps and /proc/PID/cmdline showed it until then. Prefer AccessKeyFile, "
         "ConnectionStringFile or the environment.",
         4, 78);
    fputc('\n', f);
    wrap(f,
         "A config file that sets a secret and that its group or others may open is refused, "
         "at the start and at a reload, with the chmod 600 to run (InsecureSecretFiles=True: "
         "a warning). The process is not dumpable (no core file, no ptrace by its user, "
         "/proc/PID/environ readable by root only) unless AllowCoreDumps=True.",
         4, 78);
    fprintf(f, "\nSTATUS AND METRICS\n");
    wrap(f,
         "StatusSocket=PATH: a unix socket (mode 0660) where each connection gets a text "
         "report and is closed: the forwards (state, local address, relay, open connections, "
         "accepted, refused, failed relay attempts, retries, bytes each way), then the live "
         "connections (forward, id, peer, age, phase, bytes in and out, the relay address "
         "reached). " PROG " --status prints it.",
         4, 78);
    fputc('\n', f);
    wrap(f,
         "MetricsAddress=HOST:PORT (off by default; e.g. 127.0.0.1:9464): HTTP/1.1, GET only, "
         "one request per connection. /metrics: the Prometheus text format 0.0.4, per forward "
         "(label forward): azrelay_connections_accepted_total, _active, "
         "_refused_total{reason}, azrelay_relay_connect_failures_total{reason,status}, "
         "azrelay_retries_total, azrelay_bytes_total{direction}, the histogram "
         "azrelay_connect_seconds (accept to relay open), "
         "azrelay_tls_handshake_failures_total{side}, azrelay_forward_listening; and "
         "azrelay_open_fds, azrelay_resident_memory_bytes, azrelay_reloads_total{result}, "
         "azrelay_start_time_seconds, azrelay_build_info. /healthz: 200 ok while every "
         "forward listens, else 503. No authentication, no TLS: keep it on loopback.",
         4, 78);
    fputc('\n', f);
    wrap(f,
         "Neither holds up the forwards: a request must arrive within 5 s and a client is "
         "done within 10 s or closed, reading or not. Both are set for the whole daemon "
         "(not in a section) and move with a reload.",
         4, 78);
    fprintf(f, "\nEXIT STATUS\n");
    wrap(f,
         "0 on success (and after SIGINT or SIGTERM), 1 on a settings error (or a forward, "
         "StatusSocket or MetricsAddress that cannot start; for --status, no answer), 2 on a "
         "usage error.",
         4, 78);
    fprintf(f, "\nEXAMPLES\n");
    fprintf(f, "    " PROG " --check -c /etc/azrelay.conf\n");
    fprintf(f, "    " PROG " LocalPort=5000 NamespaceAddress=NS.servicebus.windows.net \\\n"
               "        HybridConnection=hc1 AccessKeyName=send AccessKey=KEY\n");
    fprintf(f, "    " PROG " -c /etc/azrelay.conf LogLevel=2 --forward db:LogLevel=3\n");
    fprintf(f, "    " PROG " --get db:AccessToken -c /etc/azrelay.conf TokenValidity=600\n");
    fprintf(f, "    kill -HUP $(pidof " PROG ")      # reload /etc/azrelay.conf\n");
    fprintf(f, "    " PROG " --status -c /etc/azrelay.conf    # forwards and connections\n");
    fprintf(f,
            "    curl -s http://127.0.0.1:9464/metrics   # with MetricsAddress=127.0.0.1:9464\n");
    fprintf(f, "    https_proxy=http://proxy.corp:3128 no_proxy=.internal \\\n"
               "        " PROG " -c /etc/azrelay.conf FirewallAutoDetect=True\n");
}
