/* test_normal.c - normal_quantile against published values of the standard
 * normal quantile function and against the CDF it inverts. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "normal.h"

/* Quantiles from standard tables (e.g. Abramowitz & Stegun 26.2, and the
 * 1.96 every statistics course quotes), to the digits published. */
static void test_known_values(void **state)
{
    (void)state;
    assert_true(fabs(normal_quantile(0.975) - 1.959963984540054) < 1e-12);
    assert_true(fabs(normal_quantile(0.025) + 1.959963984540054) < 1e-12);
    assert_true(fabs(normal_quantile(0.95) - 1.6448536269514722) < 1e-12);
    assert_true(fabs(normal_quantile(0.8413447460685429) - 1.0) < 1e-12);
    assert_true(fabs(normal_quantile(0.0013498980316301) + 3.0) < 1e-12);
    assert_true(fabs(normal_quantile(0.5)) < 1e-15);
}

/* Phi(quantile(p)) = p over hundreds of decades of the lower tail, to
 * what the spacing of doubles near z allows (|z| ulp(z) relative). */
static void test_inverts_cdf(void **state)
{
    (void)state;
    for (double p = 1e-300; p < 0.5; p *= 3.7) {
        double z = normal_quantile(p);
        double back = 0.5 * erfc(-z / sqrt(2.0));
        assert_true(fabs(back - p) <= 1e-12 * p);
    }
}

/* The upper half mirrors the lower half. */
static void test_symmetric(void **state)
{
    (void)state;
    for (double p = 1e-3; p < 0.5; p += 0.0137)
        assert_true(fabs(normal_quantile(1.0 - p) + normal_quantile(p)) <
                    1e-12);
}

static void test_monotone(void **state)
{
    double prev = -INFINITY;
    (void)state;
    for (int i = 1; i < 1000; i++) {
        double z = normal_quantile(i / 1000.0);
        assert_true(z > prev);
        prev = z;
    }
}

static void test_outside_domain(void **state)
{
    (void)state;
    assert_true(isnan(normal_quantile(0.0)));
    assert_true(isnan(normal_quantile(1.0)));
    assert_true(isnan(normal_quantile(-0.5)));
    assert_true(isnan(normal_quantile(NAN)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_inverts_cdf),
        cmocka_unit_test(test_symmetric),
        cmocka_unit_test(test_monotone),
        cmocka_unit_test(test_outside_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
