/* src/rng.c's float initialisers (vae_rng_init_uniform, _init_normal):
 * the moments and tails of a million draws against the distributions'
 * own, the ends of the ranges, how many draws of the model's generator a
 * fill consumes (VAE_RNG_INIT_DRAWS, whatever its length), and same seed,
 * same bytes. Tolerances are
 * about five standard errors of each estimate at N = 2^20, so the test
 * fails on a wrong distribution, not by chance. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "testutil.h"

#define N (1 << 20)

typedef struct moments {
    double mean, var, m4, lo, hi;
} moments;

static moments measure(const float *v, int64_t n)
{
    moments s = {0.0, 0.0, 0.0, INFINITY, -INFINITY};
    for (int64_t i = 0; i < n; i++) {
        s.mean += v[i];
        s.lo = fmin(s.lo, v[i]);
        s.hi = fmax(s.hi, v[i]);
    }
    s.mean /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        double d = v[i] - s.mean;
        s.var += d * d;
        s.m4 += d * d * d * d;
    }
    s.var /= (double)n;
    s.m4 /= (double)n * s.var * s.var;
    return s;
}

static void test_normal_moments(void **state)
{
    (void)state;
    float *v = malloc(N * sizeof *v);
    assert_non_null(v);
    vae_rng r;
    vae_rng_seed(&r, 1);
    vae_rng_init_normal(&r, v, N);
    moments s = measure(v, N);
    print_message("normal: mean %.5f var %.5f kurtosis %.4f range [%.3f, "
                  "%.3f]\n", s.mean, s.var, s.m4, s.lo, s.hi);
    assert_true(fabs(s.mean) < 5e-3);
    assert_true(fabs(s.var - 1.0) < 7e-3);
    assert_true(fabs(s.m4 - 3.0) < 0.025);
    /* Tails: P(|z| > 2) = 0.0455, P(|z| > 3) = 0.0027, and the largest of
     * 2^20 normals is about 5. The radius reaches 6.7 at most. */
    int64_t beyond2 = 0, beyond3 = 0;
    for (int64_t i = 0; i < N; i++) {
        beyond2 += fabsf(v[i]) > 2.0f;
        beyond3 += fabsf(v[i]) > 3.0f;
    }
    assert_true(fabs((double)beyond2 / N - 0.0455003) < 1e-3);
    assert_true(fabs((double)beyond3 / N - 0.0026998) < 2.6e-4);
    assert_true(s.hi > 4.0 && s.hi < 6.8 && s.lo < -4.0 && s.lo > -6.8);
    /* Pairs are independent: the two values of a draw do not correlate. */
    double cross = 0.0;
    for (int64_t i = 0; i < N; i += 2)
        cross += (double)v[i] * v[i + 1];
    assert_true(fabs(cross / (N / 2)) < 7e-3);
    free(v);
}

static void test_uniform_moments(void **state)
{
    (void)state;
    float *v = malloc(N * sizeof *v);
    assert_non_null(v);
    vae_rng r;
    vae_rng_seed(&r, 2);
    const float bound = 0.0625f;
    vae_rng_init_uniform(&r, v, N, bound);
    moments s = measure(v, N);
    print_message("uniform: mean %.6f var %.7f range [%.6f, %.6f]\n", s.mean,
                  s.var, s.lo, s.hi);
    assert_true(s.lo >= -bound && s.hi < bound);
    assert_true(s.lo < -0.999 * bound && s.hi > 0.999 * bound);
    double var = bound * bound / 3.0;
    assert_true(fabs(s.mean) < 5.0 * sqrt(var / N));
    assert_true(fabs(s.var / var - 1.0) < 5e-3);
    assert_true(fabs(s.m4 - 1.8) < 0.01);
    free(v);
}

/* A fill takes VAE_RNG_INIT_DRAWS draws of the generator, whatever n; an
 * odd n's last value is the first of its pair, so a fill of n is the
 * start of a fill of n + 1. */
static void test_draws_per_fill(void **state)
{
    (void)state;
    for (int normal = 0; normal < 2; normal++)
        for (int64_t n = 1; n <= 1100; n += n < 20 ? 1 : 97) {
            vae_rng a, b;
            vae_rng_seed(&a, 3);
            vae_rng_seed(&b, 3);
            float x[1101], y[1101];
            if (normal) {
                vae_rng_init_normal(&a, x, n);
                vae_rng_init_normal(&b, y, n + 1);
            } else {
                vae_rng_init_uniform(&a, x, n, 1.0f);
                vae_rng_init_uniform(&b, y, n + 1, 1.0f);
            }
            assert_memory_equal(x, y, (size_t)n * sizeof *x);
            vae_rng c;
            vae_rng_seed(&c, 3);
            for (int64_t i = 0; i < VAE_RNG_INIT_DRAWS; i++)
                vae_rng_next(&c);
            assert_memory_equal(&a, &c, sizeof a);
        }
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    static float x[5000], y[5000];
    vae_rng a, b;
    vae_rng_seed(&a, 4);
    vae_rng_seed(&b, 4);
    vae_rng_init_normal(&a, x, 5000);
    vae_rng_init_normal(&b, y, 5000);
    assert_memory_equal(x, y, sizeof x);
    vae_rng_init_normal(&a, x, 5000);
    assert_memory_not_equal(x, y, sizeof x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_uniform_moments),
        cmocka_unit_test(test_draws_per_fill),
        cmocka_unit_test(test_same_seed_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
