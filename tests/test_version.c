/* The version the loaded library reports must be the one the header
 * promises, in both forms. */
#include <stdio.h>

#include "testutil.h"

static void test_version_string(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", VAE_VERSION_MAJOR,
             VAE_VERSION_MINOR, VAE_VERSION_PATCH);
    assert_non_null(vae_version_string());
    assert_string_equal(vae_version_string(), want);
    assert_string_equal(vae_version_string(), "0.1.0");
}

static void test_version_number(void **state)
{
    (void)state;
    assert_int_equal(vae_version_number(), VAE_VERSION_NUMBER);
    assert_int_equal(vae_version_number(),
                     VAE_VERSION_MAJOR * 10000 + VAE_VERSION_MINOR * 100 +
                         VAE_VERSION_PATCH);
    assert_int_equal(vae_version_number(), 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_string),
        cmocka_unit_test(test_version_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
