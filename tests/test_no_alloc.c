/* test_no_alloc.c - after the first step at a batch size, training and
 * inference allocate nothing. The test is linked with -Wl,--wrap for malloc,
 * calloc and realloc, so every allocation the (static) library makes passes
 * through the counters below. */
#include <stdlib.h>

#include "testutil.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);

static int counting;
static long allocations;

void *__wrap_malloc(size_t n)
{
    allocations += counting;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    allocations += counting;
    return __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocations += counting;
    return __real_realloc(p, n);
}

static void start_counting(void)
{
    allocations = 0;
    counting = 1;
}

static long stop_counting(void)
{
    counting = 0;
    return allocations;
}

static void test_steady_state_does_not_allocate(void **state)
{
    (void)state;
    const tu_layer enc[] = {TU_DENSE(12), TU_ACT(VAE_OP_RELU)};
    const tu_layer dec[] = {TU_DENSE(12), TU_ACT(VAE_OP_TANH), TU_DENSE(10)};
    vae_model *m = tu_model(10, enc, TU_COUNT(enc), 3, dec, TU_COUNT(dec),
                            VAE_LIKELIHOOD_BERNOULLI, 7);
    vae_adam *opt = NULL;
    assert_int_equal(vae_adam_new(m, 1e-3, &opt, NULL, 0), VAE_OK);
    enum { BIG = 32, SMALL = 16 };
    float x[BIG * 10], out[BIG * 10], mu[BIG * 3], lv[BIG * 3], z[BIG * 3];
    tu_rng r;
    tu_seed(&r, 1);
    tu_fill_uniform(&r, x, BIG * 10, 0.0, 1.0);

    /* First step at SMALL sizes the workspace. */
    assert_int_equal(vae_model_train_step(m, opt, x, SMALL, NULL, NULL, NULL),
                     VAE_OK);
    start_counting();
    for (int i = 0; i < 5; i++)
        assert_int_equal(vae_model_train_step(m, opt, x, SMALL, NULL, NULL, NULL),
                         VAE_OK);
    assert_int_equal(vae_model_train_step(m, opt, x, SMALL / 2, NULL, NULL, NULL),
                     VAE_OK);
    assert_int_equal(vae_model_elbo(m, x, SMALL, NULL, NULL, NULL), VAE_OK);
    assert_int_equal(vae_model_encode(m, x, SMALL, mu, lv), VAE_OK);
    assert_int_equal(vae_model_decode(m, mu, SMALL, out), VAE_OK);
    assert_int_equal(vae_model_sample(m, SMALL, z, out), VAE_OK);
    assert_int_equal(vae_model_reconstruct(m, x, SMALL, out), VAE_OK);
    assert_int_equal(stop_counting(), 0);

    /* A larger batch must grow the workspace: shows the counter sees the
     * library's allocations at all. */
    start_counting();
    assert_int_equal(vae_model_train_step(m, opt, x, BIG, NULL, NULL, NULL),
                     VAE_OK);
    assert_true(stop_counting() > 0);
    start_counting();
    assert_int_equal(vae_model_train_step(m, opt, x, BIG, NULL, NULL, NULL),
                     VAE_OK);
    assert_int_equal(stop_counting(), 0);

    vae_adam_free(opt);
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_state_does_not_allocate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
