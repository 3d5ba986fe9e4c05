/* Error names: every azr_err has its own readable name; unknown values do not crash. */
#include "testutil.h"
#include "err.h"

static void test_err_names_distinct(void **s)
{
    (void)s;
    for (int a = AZR_OK; a <= AZR_E_REFUSED; a++) {
        const char *na = azr_err_name((azr_err)a);
        assert_non_null(na);
        assert_true(strlen(na) > 0);
        for (int b = a + 1; b <= AZR_E_REFUSED; b++)
            assert_string_not_equal(na, azr_err_name((azr_err)b));
    }
    assert_string_equal(azr_err_name(AZR_E_PROTO), "protocol error");
    assert_string_equal(azr_err_name((azr_err)999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_err_names_distinct)};
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
