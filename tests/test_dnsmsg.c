/*
 * The DNS codec (src/dnsmsg.c). The answers are real: dnsmasq 2.90 wrote
 * them, to queries dig 9.18 wrote (+noedns), captured by
 * tests/dns/capture.sh (a UDP relay between the two; the TCP answer by a
 * plain client sending dig's query). Each is read whole, against a guard
 * page, and as every shorter prefix (which must fail cleanly, except that a
 * truncated answer only needs its header and question). The malformed ones
 * are built by hand from the same bytes: pointer loops, pointers forward and
 * out of bounds, cut headers, wrong ID or question, CNAME loops and chains
 * past the bound.
 */
#include "testutil.h"
#include "dnsmsg.h"

typedef struct vec {
    const char *what;
    const char *query, *answer;
    int ret; /* azr_err */
    uint8_t rcode;
    bool tc;
    size_t naddr, ncname;
    const char *first; /* first address, hex */
    uint32_t ttl;
    const char *name; /* final name as text */
    bool neg_set;
    uint32_t neg_ttl;
    bool more;
} vec;

/* Hex as tests/dns/capture.sh printed it (dnsmasq 2.90, dig 9.18). */
#define Q_WWW_A "ac710120000100000000000003777777076578616d706c6504746573740000010001"
#define A_WWW_A                                                                                    \
    "ac718580000100010000000003777777076578616d706c6504746573740000010001c00c00010001000001"       \
    "2c0004c000020a"
#define Q_WWW_6 "0efa0120000100000000000003777777076578616d706c65047465737400001c0001"
#define A_WWW_6                                                                                    \
    "0efa8580000100010000000003777777076578616d706c65047465737400001c0001c00c001c00010000"         \
    "012c001020010db8000000000000000000000010"
#define Q_ALIAS_A "a92b0120000100000000000005616c696173076578616d706c6504746573740000010001"
#define A_ALIAS_A                                                                                  \
    "a92b8580000100030000000005616c696173076578616d706c6504746573740000010001c00c000500010000012c" \
    "0012036d6964076578616d706c65047465737400c030000500010000012c001203777777076578616d706c650474" \
    "65737400c04e000100010000012c0004c000020a"
#define Q_ONE_6 "c1bb01200001000000000000034f4e45074578616d706c65045445535400001c0001"
#define A_ONE_6                                                                                    \
    "c1bb85800001000200000000034f4e45074578616d706c65045445535400001c0001c00c000500010000012c0012" \
    "03777777076578616d706c65047465737400c02e001c00010000012c001020010db800000000000000000000001"  \
    "0"
#define Q_NOPE "a96a01200001000000000000046e6f7065076578616d706c6504746573740000010001"
#define A_NOPE "a96a81830001000000000000046e6f7065076578616d706c6504746573740000010001"
#define Q_BIG  "b3630120000100000000000003626967076578616d706c6504746573740000010001"
/* the UDP answer: 29 of the 40 records fit in 512 bytes, TC set */
#define A_BIG_UDP                                                                                  \
    "b36387800001001d0000000003626967076578616d706c6504746573740000010001c00c000100010000012c0004" \
    "c6336403c00c000100010000012c0004c6336415c00c000100010000012c0004c633640bc00c000100010000012c" \
    "0004c6336416c00c000100010000012c0004c6336406c00c000100010000012c0004c6336417c00c00010001000"  \
    "0012c0004c633640cc00c000100010000012c0004c6336418c00c000100010000012c0004c6336402c00c000100"  \
    "010000012c0004c6336419c00c000100010000012c0004c633640dc00c000100010000012c0004c633641ac00c00" \
    "0100010000012c0004c6336407c00c000100010000012c0004c633641bc00c000100010000012c0004c633640ec0" \
    "0c000100010000012c0004c633641cc00c000100010000012c0004c6336404c00c000100010000012c0004c63364" \
    "1dc00c000100010000012c0004c633640fc00c000100010000012c0004c633641ec00c000100010000012c0004c6" \
    "336408c00c000100010000012c0004c633641fc00c000100010000012c0004c6336410c00c000100010000012c00" \
    "04c6336420c00c000100010000012c0004c6336401c00c000100010000012c0004c6336421c00c00010001000001" \
    "2c0004c6336411c00c000100010000012c0004c6336422c00c000100010000012c0004c6336409"
/* the same question over TCP: all 40 */
#define A_BIG_TCP                                                                                  \
    "b3638580000100280000000003626967076578616d706c6504746573740000010001c00c000100010000012c0004" \
    "c6336415c00c000100010000012c0004c633640bc00c000100010000012c0004c6336416c00c000100010000012c" \
    "0004c6336406c00c000100010000012c0004c6336417c00c000100010000012c0004c633640cc00c00010001000"  \
    "0012c0004c6336418c00c000100010000012c0004c6336402c00c000100010000012c0004c6336419c00c000100"  \
    "010000012c0004c633640dc00c000100010000012c0004c633641ac00c000100010000012c0004c6336407c00c00" \
    "0100010000012c0004c633641bc00c000100010000012c0004c633640ec00c000100010000012c0004c633641cc0" \
    "0c000100010000012c0004c6336404c00c000100010000012c0004c633641dc00c000100010000012c0004c63364" \
    "0fc00c000100010000012c0004c633641ec00c000100010000012c0004c6336408c00c000100010000012c0004c6" \
    "33641fc00c000100010000012c0004c6336410c00c000100010000012c0004c6336420c00c000100010000012c00" \
    "04c6336401c00c000100010000012c0004c6336421c00c000100010000012c0004c6336411c00c00010001000001" \
    "2c0004c6336422c00c000100010000012c0004c6336409c00c000100010000012c0004c6336423c00c0001000100" \
    "00012c0004c6336412c00c000100010000012c0004c6336424c00c000100010000012c0004c6336405c00c000100" \
    "010000012c0004c6336425c00c000100010000012c0004c6336413c00c000100010000012c0004c6336426c00c00" \
    "0100010000012c0004c633640ac00c000100010000012c0004c6336427c00c000100010000012c0004c6336414c0" \
    "0c000100010000012c0004c6336428c00c000100010000012c0004c6336403"
/* the authoritative zone: SOA in authority (TTL 600, MINIMUM 600) */
#define Q_AUTH_NOPE "b5d501200001000000000000046e6f7065076578616d706c6504746573740000010001"
#define A_AUTH_NOPE                                                                                \
    "b5d585030001000000010000046e6f7065076578616d706c6504746573740000010001076578616d706c65047465" \
    "7374000006000100000258003e026e73076578616d706c650474657374000a686f73746d6173746572076578616d" \
    "706c6504746573740078a3f175000004b00000007800093a8000000258"
#define Q_AUTH_V4ONLY "6b87012000010000000000000676346f6e6c79076578616d706c65047465737400001c0001"
#define A_AUTH_V4ONLY                                                                              \
    "6b87850000010000000100000676346f6e6c79076578616d706c65047465737400001c0001076578616d706c6504" \
    "7465737400000600010000025800 "                                                                \
    "3e026e73076578616d706c650474657374000a686f73746d6173746572076578"                             \
    "616d706c6504746573740078a3f175000004b00000007800093a8000000258"
/* an authoritative server does not chase the CNAME: NODATA for mid.example.test */
#define Q_AUTH_ALIAS "b93d0120000100000000000005616c696173076578616d706c6504746573740000010001"
#define A_AUTH_ALIAS                                                                               \
    "b93d8500000100010001000005616c696173076578616d706c6504746573740000010001c00c0005000100000258" \
    "0012036d6964076578616d706c65047465737400076578616d706c6504746573740000020001000002580011026e" \
    "73076578616d706c65047465737400"

static const vec vecs[] = {
    {"A", Q_WWW_A, A_WWW_A, AZR_OK, 0, false, 1, 0, "c000020a", 300, "www.example.test", false, 0,
     false},
    {"AAAA", Q_WWW_6, A_WWW_6, AZR_OK, 0, false, 1, 0, "20010db8000000000000000000000010", 300,
     "www.example.test", false, 0, false},
    {"CNAME chain of two", Q_ALIAS_A, A_ALIAS_A, AZR_OK, 0, false, 1, 2, "c000020a", 300,
     "www.example.test", false, 0, false},
    {"mixed-case question, CNAME", Q_ONE_6, A_ONE_6, AZR_OK, 0, false, 1, 1,
     "20010db8000000000000000000000010", 300, "www.example.test", false, 0, false},
    {"NXDOMAIN without SOA", Q_NOPE, A_NOPE, AZR_OK, AZR_DNS_NXDOMAIN, false, 0, 0, NULL, 0,
     "nope.example.test", false, 0, false},
    {"truncated", Q_BIG, A_BIG_UDP, AZR_OK, 0, true, 0, 0, NULL, 0, "big.example.test", false, 0,
     false},
    {"40 records over TCP", Q_BIG, A_BIG_TCP, AZR_OK, 0, false, 16, 0, "c6336415", 300,
     "big.example.test", false, 0, true},
    {"NXDOMAIN with SOA", Q_AUTH_NOPE, A_AUTH_NOPE, AZR_OK, AZR_DNS_NXDOMAIN, false, 0, 0, NULL, 0,
     "nope.example.test", true, 600, false},
    {"NODATA with SOA", Q_AUTH_V4ONLY, A_AUTH_V4ONLY, AZR_OK, 0, false, 0, 0, NULL, 0,
     "v4only.example.test", true, 600, false},
    {"CNAME not chased", Q_AUTH_ALIAS, A_AUTH_ALIAS, AZR_OK, 0, false, 0, 1, NULL, 600,
     "mid.example.test", false, 0, false},
};

typedef struct buf {
    uint8_t b[AZR_DNS_TCP_MAX];
    size_t n;
} buf;

static void hex(buf *x, const char *h)
{
    x->n = tu_hex(h, x->b, sizeof x->b);
}

static void check_vec(const vec *v, const uint8_t *m, size_t n, const buf *q)
{
    azr_dns_answer a;
    azr_err e = azr_dns_answer_parse(m, n, q->b, q->n, &a);
    if ((int)e != v->ret)
        fail_msg("%s: %d (%s)", v->what, e, a.why ? a.why : "-");
    assert_int_equal(a.rcode, v->rcode);
    assert_int_equal(a.tc, v->tc);
    assert_int_equal(a.naddr, v->naddr);
    assert_int_equal(a.ncname, v->ncname);
    assert_int_equal(a.more_addrs, v->more);
    assert_int_equal(a.neg_ttl_set, v->neg_set);
    if (v->neg_set)
        assert_int_equal(a.neg_ttl, v->neg_ttl);
    if (v->naddr || v->ncname)
        assert_int_equal(a.ttl, v->ttl);
    if (v->first) {
        uint8_t want[16];
        size_t wl = tu_hex(v->first, want, sizeof want);
        assert_memory_equal(a.addr[0], want, wl);
    }
    char t[300];
    azr_dns_name_text(a.name, a.name_len, t, sizeof t);
    assert_string_equal(t, v->name);
    assert_null(a.why);
}

static void test_dnsmsg_real_answers(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        const vec *v = &vecs[i];
        buf q, m;
        hex(&q, v->query);
        hex(&m, v->answer);
        tu_guard g;
        check_vec(v, tu_guard_new(&g, m.b, m.n), m.n, &q);
        tu_guard_free(&g);
        /* header + question: a truncated answer needs no more */
        size_t hq = q.n;
        for (size_t cut = 0; cut < m.n; cut++) {
            azr_dns_answer a;
            uint8_t *p = tu_guard_new(&g, m.b, cut);
            azr_err e = azr_dns_answer_parse(p, cut, q.b, q.n, &a);
            if (v->tc && cut >= hq)
                assert_int_equal(e, AZR_OK);
            else if (e == AZR_OK)
                fail_msg("%s: a prefix of %zu bytes was taken", v->what, cut);
            else
                assert_non_null(a.why);
            tu_guard_free(&g);
        }
    }
}

/* Our query is dig's, but for dig's AD bit (flags 0x0120 against our 0x0100). */
static void test_dnsmsg_query_matches_dig(void **s)
{
    (void)s;
    static const struct {
        const char *dig, *name;
        uint16_t type;
    } q[] = {{Q_WWW_A, "www.example.test", AZR_DNS_TYPE_A},
             {Q_WWW_6, "www.example.test.", AZR_DNS_TYPE_AAAA},
             {Q_ONE_6, "ONE.Example.TEST", AZR_DNS_TYPE_AAAA},
             {Q_BIG, "big.example.test", AZR_DNS_TYPE_A}};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        buf d;
        hex(&d, q[i].dig);
        d.b[3] = 0; /* AD off */
        uint8_t out[AZR_DNS_QUERY_MAX];
        size_t n;
        const char *why;
        uint16_t id = (uint16_t)(d.b[0] << 8 | d.b[1]);
        assert_int_equal(azr_dns_query_encode(out, sizeof out, &n, id, q[i].name, q[i].type, &why),
                         AZR_OK);
        assert_int_equal(n, d.n);
        assert_memory_equal(out, d.b, n);
        /* too small a buffer, by one */
        assert_int_equal(azr_dns_query_encode(out, n - 1, &n, id, q[i].name, q[i].type, &why),
                         AZR_E_LIMIT);
    }
    uint8_t out[AZR_DNS_QUERY_MAX];
    size_t n;
    const char *why;
    assert_int_equal(azr_dns_query_encode(out, sizeof out, &n, 1, "a.b", 5, &why), AZR_E_ARG);
}

static void test_dnsmsg_name_checks(void **s)
{
    (void)s;
    char l63[64], l64[65], n253[254], n254[255];
    memset(l63, 'a', 63);
    l63[63] = 0;
    memset(l64, 'b', 64);
    l64[64] = 0;
    /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
    memset(n253, 'c', 253);
    n253[63] = n253[127] = n253[191] = '.';
    n253[253] = 0;
    memcpy(n254, n253, 253);
    n254[253] = 'd';
    n254[254] = 0;
    static const char *good[] = {"a",           "a.",      "relay.example.net",
                                 "x_y.example", "1.2.3.4", "xn--bcher-kva.example",
                                 "a-",          "A.B.C"};
    static const struct {
        const char *name, *why;
    } bad[] = {
        {"", "empty"},
        {".", "empty"},
        {"a..b", "empty label"},
        {".a", "empty label"},
        {"a b", "letters, digits"},
        {"a\x01", "letters, digits"},
        {"b\xc3\xbc"
         "cher.example",
         "letters, digits"},
        {"a/b", "letters, digits"},
        {"-a.example", "starts with '-'"},
        {"a.-b", "starts with '-'"},
        {"a..", "empty label"},
    };
    uint8_t w[AZR_DNS_WIRE_MAX];
    size_t wl;
    const char *why;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(azr_dns_name_wire(good[i], w, &wl, &why), AZR_OK);
    assert_int_equal(azr_dns_name_wire(l63, w, &wl, &why), AZR_OK);
    assert_int_equal(wl, 65);
    assert_int_equal(azr_dns_name_wire(n253, w, &wl, &why), AZR_OK);
    assert_int_equal(wl, 255);
    assert_int_equal(azr_dns_name_wire(l64, w, &wl, &why), AZR_E_ARG);
    assert_non_null(strstr(why, "63"));
    assert_int_equal(azr_dns_name_wire(n254, w, &wl, &why), AZR_E_ARG);
    assert_non_null(strstr(why, "253"));
    assert_int_equal(azr_dns_name_wire(NULL, w, &wl, &why), AZR_E_ARG);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (azr_dns_name_wire(bad[i].name, w, &wl, &why) != AZR_E_ARG)
            fail_msg("'%s' was taken", bad[i].name);
        if (!strstr(why, bad[i].why))
            fail_msg("'%s': %s", bad[i].name, why);
    }
}

/* Answers that are not for our query: ignored by the resolver (unrelated). */
static void test_dnsmsg_unrelated(void **s)
{
    (void)s;
    buf q, m;
    azr_dns_answer a;
    hex(&q, Q_WWW_A);
    static const struct {
        size_t at;
        uint8_t x;
        const char *why;
    } flips[] = {
        {1, 0x01, "ID"},                  /* ID ac70 */
        {2, 0x80, "QR is 0"},             /* a query */
        {2, 0x08, "opcode"},              /* opcode 1 */
        {13, 0x01, "question"},           /* "vww" */
        {31, 0x1d, "question"},           /* type AAAA */
        {33, 0x02, "question"},           /* class CH */
        {5, 0x02, "one question"},        /* QDCOUNT 3 */
        {5, 0x01, "one question"},        /* QDCOUNT 0, NOERROR */
        {13, 0x20, "NOT-UNRELATED-MARK"}, /* "WWW": same name, any case */
    };
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        hex(&m, A_WWW_A);
        m.b[flips[i].at] ^= flips[i].x;
        azr_err e = azr_dns_answer_parse(m.b, m.n, q.b, q.n, &a);
        if (strcmp(flips[i].why, "NOT-UNRELATED-MARK") == 0) {
            assert_int_equal(e, AZR_OK);
            assert_int_equal(a.naddr, 1);
            continue;
        }
        assert_int_equal(e, AZR_E_PROTO);
        assert_true(a.unrelated);
        if (!strstr(a.why, flips[i].why))
            fail_msg("flip %zu: %s", i, a.why);
    }
    /* REFUSED without a question is still an answer to us (same ID) */
    uint8_t refused[12] = {0xac, 0x71, 0x81, 0x85, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(azr_dns_answer_parse(refused, 12, q.b, q.n, &a), AZR_OK);
    assert_int_equal(a.rcode, AZR_DNS_REFUSED);
    /* but NXDOMAIN without one is not */
    refused[3] = 0x83;
    assert_int_equal(azr_dns_answer_parse(refused, 12, q.b, q.n, &a), AZR_E_PROTO);
    assert_true(a.unrelated);
    /* a query not written by us */
    assert_int_equal(azr_dns_answer_parse(m.b, m.n, q.b, 20, &a), AZR_E_ARG);
}

/* Build an answer to Q_WWW_A from its first 34 bytes (header, question) and hex records. */
static void craft(buf *m, uint16_t an, uint16_t ns, const char *records)
{
    hex(m, A_WWW_A);
    m->n = 34;
    m->b[7] = (uint8_t)an;
    m->b[9] = (uint8_t)ns;
    m->n += tu_hex(records, m->b + m->n, sizeof m->b - m->n);
}

static void bad(const char *records, uint16_t an, uint16_t ns, azr_err want, const char *why)
{
    buf q, m;
    azr_dns_answer a;
    hex(&q, Q_WWW_A);
    craft(&m, an, ns, records);
    tu_guard g;
    uint8_t *p = tu_guard_new(&g, m.b, m.n);
    azr_err e = azr_dns_answer_parse(p, m.n, q.b, q.n, &a);
    tu_guard_free(&g);
    if (e != want || !a.why || !strstr(a.why, why))
        fail_msg("%s: got %d (%s)", why, e, a.why ? a.why : "-");
    assert_false(a.unrelated);
    assert_int_equal(a.naddr, 0);
}

static void test_dnsmsg_malformed(void **s)
{
    (void)s;
    /* the question's name starts at 12 (0x0c), the record at 34 (0x22) */
    bad("c022 0001 0001 0000012c 0004 c000020a", 1, 0, AZR_E_PROTO, "backwards"); /* itself */
    bad("c030 0001 0001 0000012c 0004 c000020a", 1, 0, AZR_E_PROTO, "backwards"); /* forward */
    bad("cfff 0001 0001 0000012c 0004 c000020a", 1, 0, AZR_E_PROTO, "backwards"); /* far out */
    bad("4000 0001 0001 0000012c 0004 c000020a", 1, 0, AZR_E_PROTO, "reserved");  /* 0x40 */
    bad("8000 0001 0001 0000012c 0004 c000020a", 1, 0, AZR_E_PROTO, "reserved");  /* 0x80 */
    bad("c0", 1, 0, AZR_E_PROTO, "cut by the end");                               /* half */
    bad("3f61", 1, 0, AZR_E_PROTO, "past the end");                               /* label */
    bad("c00c 0001 0001 0000012c", 1, 0, AZR_E_PROTO, "cut by the end");          /* fixed */
    bad("c00c 0001 0001 0000012c 0008 c000020a", 1, 0, AZR_E_PROTO, "past the end");
    bad("c00c 0001 0001 0000012c 0005 c000020a00", 1, 0, AZR_E_PROTO, "not 4 bytes");
    bad("c00c 0001 0001 0000012c 0004 c000020a", 2, 0, AZR_E_PROTO, "past the end"); /* count */
    bad("c00c 0001 0001 0000012c 0004 c000020a", 1, 1, AZR_E_PROTO, "past the end");
    /* a label whose bytes hide the pointer that leads back to it: ends at 255 bytes */
    bad("02 c022 c022 0001 0001 0000012c 0004 c000020a", 1, 0, AZR_E_PROTO, "255");
    /* CNAME www -> a, a -> www: a loop */
    bad("c00c 0005 0001 0000012c 0004 0161 c010"
        "c02e 0005 0001 0000012c 0002 c00c",
        2, 0, AZR_E_PROTO, "loops");
    /* CNAME with bytes after its name */
    bad("c00c 0005 0001 0000012c 0005 0161 c010 00", 1, 0, AZR_E_PROTO, "after its name");
    /* SOA whose numbers are cut */
    bad("c010 0006 0001 0000012c 0006 00 00 00000001 00", 0, 1, AZR_E_PROTO, "five numbers");
    /* nine CNAMEs: www -> 1 -> 2 ... -> 9 (each "0131 c010" style) */
    char chain[1024] = "c00c 0005 0001 0000012c 0004 0130 c010 ";
    size_t n = strlen(chain);
    size_t owner = 34 + 12; /* where the previous target sits */
    for (int i = 1; i < 9; i++) {
        n += (size_t)snprintf(chain + n, sizeof chain - n,
                              "%04zx 0005 0001 0000012c 0004 01%02x c010 ", 0xc000 | owner,
                              0x30 + i);
        owner += 16;
    }
    bad(chain, 9, 0, AZR_E_LIMIT, "longer than 8");
}

static void test_dnsmsg_ttls(void **s)
{
    (void)s;
    buf q, m;
    azr_dns_answer a;
    hex(&q, Q_WWW_A);
    /* RFC 2181 §8: TTL 0x80000001 counts as 0; the smallest TTL wins */
    craft(&m, 2, 0,
          "c00c 0001 0001 80000001 0004 c000020a"
          "c00c 0001 0001 00000010 0004 c000020b");
    assert_int_equal(azr_dns_answer_parse(m.b, m.n, q.b, q.n, &a), AZR_OK);
    assert_int_equal(a.naddr, 2);
    assert_int_equal(a.ttl, 0);
    craft(&m, 2, 0,
          "c00c 0001 0001 00000100 0004 c000020a"
          "c00c 0001 0001 00000010 0004 c000020b");
    assert_int_equal(azr_dns_answer_parse(m.b, m.n, q.b, q.n, &a), AZR_OK);
    assert_int_equal(a.ttl, 16);
    /* records of other types, classes and names are passed over */
    craft(&m, 3, 0,
          "c00c 001c 0001 00000100 0010 20010db8000000000000000000000010"
          "c00c 0001 0003 00000100 0004 c000020a"
          "c010 0001 0001 00000100 0004 c000020b");
    assert_int_equal(azr_dns_answer_parse(m.b, m.n, q.b, q.n, &a), AZR_OK);
    assert_int_equal(a.naddr, 0);
    /* SOA MINIMUM below its TTL */
    craft(&m, 0, 1,
          "c010 0006 0001 00000e10 0016 00 00 00000001 00000002 00000003 00000004 0000001e");
    m.b[3] = 0x83;
    assert_int_equal(azr_dns_answer_parse(m.b, m.n, q.b, q.n, &a), AZR_OK);
    assert_true(a.neg_ttl_set);
    assert_int_equal(a.neg_ttl, 30);
}

static void test_dnsmsg_name_text(void **s)
{
    (void)s;
    static const uint8_t w[] = {3, 'w', 'w', 'w', 3, 'a', '.', 'b', 2, 0xff, 'X', 0};
    char out[64];
    assert_int_equal(azr_dns_name_text(w, sizeof w, out, sizeof out), 16);
    assert_string_equal(out, "www.a\\046b.\\255X");
    /* cut: never half an escape, "..." after a whole unit */
    for (size_t cap = 1; cap < 17; cap++) {
        size_t n = azr_dns_name_text(w, sizeof w, out, cap);
        assert_int_equal(n, strlen(out));
        assert_true(n < cap);
        if (cap >= 4)
            assert_non_null(strstr(out, "..."));
        assert_int_equal(strncmp(out, "www.a\\046b.\\255X", n >= 3 ? n - 3 : 0), 0);
    }
    static const uint8_t root[] = {0};
    assert_int_equal(azr_dns_name_text(root, 1, out, sizeof out), 1);
    assert_string_equal(out, ".");
    assert_string_equal(azr_dns_rcode_name(3), "NXDOMAIN");
    assert_string_equal(azr_dns_rcode_name(9), "RCODE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dnsmsg_real_answers), cmocka_unit_test(test_dnsmsg_query_matches_dig),
        cmocka_unit_test(test_dnsmsg_name_checks),  cmocka_unit_test(test_dnsmsg_unrelated),
        cmocka_unit_test(test_dnsmsg_malformed),    cmocka_unit_test(test_dnsmsg_ttls),
        cmocka_unit_test(test_dnsmsg_name_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
