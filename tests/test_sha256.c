/*
 * SHA-256 vectors: FIPS 180-4 / NIST CSRC examples ("abc", the 448-bit and
 * 896-bit messages, one million 'a'), the empty message. Digests were checked
 * with `printf ... | openssl dgst -sha256` (OpenSSL 3.0, Debian bookworm).
 */
#include "testutil.h"
#include "sha256.h"

static void check(const void *msg, size_t len, const char *hex)
{
    uint8_t d[AZR_SHA256_LEN];
    char got[2 * AZR_SHA256_LEN + 1];
    azr_sha256(msg, len, d);
    tu_tohex(d, sizeof d, got);
    assert_string_equal(got, hex);

    /* one byte per update */
    azr_sha256_ctx c;
    azr_sha256_init(&c);
    for (size_t i = 0; i < len; i++)
        azr_sha256_update(&c, (const uint8_t *)msg + i, 1);
    azr_sha256_final(&c, d);
    tu_tohex(d, sizeof d, got);
    assert_string_equal(got, hex);

    /* split at every offset, second half through a context copied mid-stream */
    for (size_t cut = 0; cut <= len; cut++) {
        azr_sha256_ctx a, b;
        azr_sha256_init(&a);
        azr_sha256_update(&a, msg, cut);
        b = a;
        azr_sha256_update(&b, (const uint8_t *)msg + cut, len - cut);
        azr_sha256_final(&b, d);
        tu_tohex(d, sizeof d, got);
        assert_string_equal(got, hex);
    }
}

static void test_sha256_empty(void **s)
{
    (void)s;
    check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_abc(void **s)
{
    (void)s;
    check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_448bit(void **s)
{
    (void)s;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_896bit(void **s)
{
    (void)s;
    const char *m =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
        "klmnopqrlmnopqrsmnopqrstnopqrstu";
    check(m, strlen(m), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_sha256_million_a(void **s)
{
    (void)s;
    uint8_t chunk[1000];
    uint8_t d[AZR_SHA256_LEN];
    char got[65];
    memset(chunk, 'a', sizeof chunk);
    azr_sha256_ctx c;
    azr_sha256_init(&c);
    for (int i = 0; i < 1000; i++)
        azr_sha256_update(&c, chunk, sizeof chunk);
    azr_sha256_final(&c, d);
    tu_tohex(d, sizeof d, got);
    assert_string_equal(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the padding boundary (55, 56, 63, 64, 65 bytes of 'a'),
 * digests from `head -c N /dev/zero | tr '\0' a | openssl dgst -sha256`. */
static void test_sha256_padding_boundaries(void **s)
{
    (void)s;
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
    };
    uint8_t buf[65];
    memset(buf, 'a', sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        check(buf, v[i].n, v[i].hex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_empty),     cmocka_unit_test(test_sha256_abc),
        cmocka_unit_test(test_sha256_448bit),    cmocka_unit_test(test_sha256_896bit),
        cmocka_unit_test(test_sha256_million_a), cmocka_unit_test(test_sha256_padding_boundaries),
    };
    return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
