/*
 * The plaintext transport's four ports: bytes go in and out in order, the
 * state bits follow the buffers, and a writer short of contiguous room gets
 * it back by compaction once the buffer has drained a little. (The TLS side
 * is covered end to end by test_e2e's wss:// cases.)
 */
#include "testutil.h"
#include "xport.h"

static void test_xport_ports_and_state(void **s)
{
    (void)s;
    uint8_t in[16], out[16];
    azr_xport x;
    azr_xport_init(&x, in, sizeof in, out, sizeof out);
    assert_int_equal(azr_xport_state(&x), AZR_X_RECVREC | AZR_X_SENDAPP);
    size_t n;
    uint8_t *b = azr_xport_recvrec_buf(&x, &n);
    assert_int_equal(n, 16);
    memcpy(b, "hello", 5);
    azr_xport_recvrec_ack(&x, 5);
    assert_true(azr_xport_state(&x) & AZR_X_RECVAPP);
    const uint8_t *r = azr_xport_recvapp_buf(&x, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(r, "hello", 5);
    azr_xport_recvapp_ack(&x, 5);
    assert_false(azr_xport_state(&x) & AZR_X_RECVAPP);
    b = azr_xport_sendapp_buf(&x, &n);
    memcpy(b, "world", 5);
    azr_xport_sendapp_ack(&x, 5);
    assert_true(azr_xport_state(&x) & AZR_X_SENDREC);
    r = azr_xport_sendrec_buf(&x, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(r, "world", 5);
    azr_xport_sendrec_ack(&x, 5);
    assert_int_equal(azr_xport_state(&x), AZR_X_RECVREC | AZR_X_SENDAPP);
    assert_int_equal(azr_xport_error(&x), 0);
}

static void test_xport_full_and_compaction(void **s)
{
    (void)s;
    uint8_t in[16], out[16];
    azr_xport x;
    size_t n;
    azr_xport_init(&x, in, sizeof in, out, sizeof out);
    /* fill the output: no room, SENDAPP off (the reader of the other side pauses) */
    uint8_t *b = azr_xport_sendapp_buf(&x, &n);
    memset(b, 'a', 16);
    azr_xport_sendapp_ack(&x, 16);
    assert_false(azr_xport_state(&x) & AZR_X_SENDAPP);
    assert_int_equal(azr_xport_sendapp_room(&x), 0);
    /* send 14: the 2 left move to the front, so 14 contiguous bytes are free */
    azr_xport_sendrec_ack(&x, 14);
    b = azr_xport_sendapp_buf(&x, &n);
    assert_int_equal(n, 14);
    memcpy(b, "bbbbbbbbbbbbbb", 14);
    azr_xport_sendapp_ack(&x, 14);
    const uint8_t *r = azr_xport_sendrec_buf(&x, &n);
    assert_int_equal(n, 16);
    assert_memory_equal(r, "aabbbbbbbbbbbbbb", 16);
    /* the input side likewise: full -> RECVREC off */
    b = azr_xport_recvrec_buf(&x, &n);
    memset(b, 'c', n);
    azr_xport_recvrec_ack(&x, n);
    assert_false(azr_xport_state(&x) & AZR_X_RECVREC);
    assert_null(azr_xport_recvrec_buf(&x, &n));
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xport_ports_and_state),
        cmocka_unit_test(test_xport_full_and_compaction),
    };
    return cmocka_run_group_tests_name("xport", tests, NULL, NULL);
}
