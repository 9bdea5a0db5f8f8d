/* Same seed, same calls: bit-identical parameters, ELBOs and samples. A
 * different seed: different bytes (so the equality checks are not vacuous).
 * Sizes are large enough (64-wide data, 128 hidden units, batch 64) that
 * the matrix products are real GEMMs rather than degenerate vectors. */
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "testutil.h"

enum { D = 64, HID = 128, L = 8, BATCH = 64, STEPS = 5 };

static vae_model *make(uint64_t seed)
{
    const tu_layer enc[] = {TU_DENSE(HID), TU_ACT(VAE_OP_RELU)};
    const tu_layer dec[] = {TU_DENSE(HID), TU_LEAKY(0.2f), TU_DENSE(D)};
    return tu_model(D, enc, TU_COUNT(enc), L, dec, TU_COUNT(dec),
                    VAE_LIKELIHOOD_BERNOULLI, seed);
}

static float *make_data(void)
{
    float *x = tu_alloc((size_t)BATCH * D * sizeof *x);
    tu_rng r;
    tu_seed(&r, 31);
    tu_fill_uniform(&r, x, BATCH * D, 0.0, 1.0);
    return x;
}

/* Trains STEPS Adam steps with z seed zseed; returns the last ELBO. */
static double train(vae_model *m, const float *x, uint64_t zseed)
{
    vae_adam *o = NULL;
    assert_int_equal(vae_adam_new(m, 1e-2, &o, NULL, 0), VAE_OK);
    assert_int_equal(vae_model_set_seed(m, zseed), VAE_OK);
    double elbo = 0.0;
    for (int s = 0; s < STEPS; s++)
        assert_int_equal(vae_model_train_step(m, o, x, BATCH, &elbo, NULL,
                                              NULL),
                         VAE_OK);
    vae_adam_free(o);
    return elbo;
}

static size_t param_bytes(vae_model *m)
{
    return (size_t)vae_model_num_params(m) * sizeof(float);
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    float *x = make_data();
    vae_model *a = make(42), *b = make(42);
    assert_memory_equal(vae_model_params(a), vae_model_params(b),
                        param_bytes(a));
    double ea = train(a, x, 7), eb = train(b, x, 7);
    assert_memory_equal(&ea, &eb, sizeof ea);
    assert_memory_equal(vae_model_params(a), vae_model_params(b),
                        param_bytes(a));
    assert_memory_equal(vae_model_grads(a), vae_model_grads(b),
                        param_bytes(a));
    vae_model_free(a);
    vae_model_free(b);
    free(x);
}

static void test_different_seed_differs(void **state)
{
    (void)state;
    float *x = make_data();
    vae_model *a = make(42), *b = make(43);
    assert_memory_not_equal(vae_model_params(a), vae_model_params(b),
                            param_bytes(a));
    vae_model_free(b);

    /* Same initial weights, different z samples: training diverges. */
    b = make(42);
    train(a, x, 7);
    train(b, x, 8);
    assert_memory_not_equal(vae_model_params(a), vae_model_params(b),
                            param_bytes(a));
    vae_model_free(a);
    vae_model_free(b);
    free(x);
}

static void test_sample(void **state)
{
    (void)state;
    enum { N = 16 };
    vae_model *a = make(5), *b = make(5);
    float za[N * L], zb[N * L], oa[N * D], ob[N * D];

    assert_int_equal(vae_model_set_seed(a, 9), VAE_OK);
    assert_int_equal(vae_model_sample(a, N, za, oa), VAE_OK);
    assert_int_equal(vae_model_set_seed(b, 9), VAE_OK);
    assert_int_equal(vae_model_sample(b, N, zb, ob), VAE_OK);
    assert_memory_equal(za, zb, sizeof za);
    assert_memory_equal(oa, ob, sizeof oa);

    /* Re-seeding restarts the stream; z_out is optional. */
    assert_int_equal(vae_model_set_seed(a, 9), VAE_OK);
    assert_int_equal(vae_model_sample(a, N, NULL, oa), VAE_OK);
    assert_memory_equal(oa, ob, sizeof oa);

    /* Not re-seeding continues it: new draws. */
    assert_int_equal(vae_model_sample(a, N, za, oa), VAE_OK);
    assert_memory_not_equal(za, zb, sizeof za);

    assert_int_equal(vae_model_set_seed(b, 10), VAE_OK);
    assert_int_equal(vae_model_sample(b, N, za, oa), VAE_OK);
    assert_memory_not_equal(za, zb, sizeof za);
    assert_memory_not_equal(oa, ob, sizeof oa);

    /* The draws look like N(0, 1): mean and variance of 16 x 8 values
     * within generous bounds (4 standard errors). */
    double s = 0.0, s2 = 0.0;
    for (int i = 0; i < N * L; i++) {
        s += za[i];
        s2 += (double)za[i] * za[i];
    }
    double mean = s / (N * L), var = s2 / (N * L) - mean * mean;
    assert_true(mean > -0.36 && mean < 0.36);
    assert_true(var > 0.5 && var < 1.5);
    vae_model_free(a);
    vae_model_free(b);
}

/* The uniform stream is the model's generator: reseeding repeats it, and
 * it is well spread (mean near 1/2 over many draws). */
static void test_random_uniform(void **state)
{
    (void)state;
    const tu_layer enc[] = {TU_DENSE(4)};
    const tu_layer dec[] = {TU_DENSE(6)};
    vae_model *m = tu_model(6, enc, 1, 2, dec, 1, VAE_LIKELIHOOD_BERNOULLI, 1);
    enum { N = 4096 };
    static float a[N], b[N];
    assert_int_equal(vae_model_set_seed(m, 11), VAE_OK);
    assert_int_equal(vae_model_random_uniform(m, N, a), VAE_OK);
    assert_int_equal(vae_model_set_seed(m, 11), VAE_OK);
    assert_int_equal(vae_model_random_uniform(m, N, b), VAE_OK);
    assert_memory_equal(a, b, sizeof a);
    double mean = 0.0;
    for (int i = 0; i < N; i++)
        mean += a[i] / N;
    /* Standard error of the mean of N uniforms: 0.29 / 64 = 0.0045. */
    assert_true(fabs(mean - 0.5) < 0.03);
    assert_int_equal(vae_model_random_uniform(m, N, b), VAE_OK);
    assert_memory_not_equal(a, b, sizeof a);
    vae_model_free(m);
}

/* The draw counts vae.h promises for data-parallel ranks: a rank that
 * computes rows [H, BATCH) after skipping 2 x L x H uniforms gets the
 * gradient, bit for bit, of one process that computed rows [0, H) first,
 * and both generators end in step. The two halves together give the whole
 * batch's gradient up to the order of float sums. */
static void test_shard_draws(void **state)
{
    (void)state;
    enum { H = 24, NEXT = 16 };
    vae_model *one = make(3), *rank = make(3), *whole = make(3);
    float *x = make_data();
    int64_t n = vae_model_num_params(one);
    float *skip = tu_alloc(2 * L * H * sizeof *skip);
    float *first = tu_alloc((size_t)n * sizeof *first);
    float ua[NEXT], ub[NEXT];
    double worst = 0.0;

    assert_int_equal(vae_model_set_seed(one, 7), VAE_OK);
    assert_int_equal(vae_model_set_seed(rank, 7), VAE_OK);
    assert_int_equal(vae_model_set_seed(whole, 7), VAE_OK);

    assert_int_equal(vae_model_zero_grad(one), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(one, x, H, NULL, NULL, NULL), VAE_OK);
    memcpy(first, vae_model_grads(one), (size_t)n * sizeof *first);
    assert_int_equal(vae_model_zero_grad(one), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(one, x + H * D, BATCH - H, NULL, NULL,
                                         NULL),
                     VAE_OK);

    assert_int_equal(vae_model_zero_grad(rank), VAE_OK);
    assert_int_equal(vae_model_random_uniform(rank, 2 * L * H, skip), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(rank, x + H * D, BATCH - H, NULL,
                                         NULL, NULL),
                     VAE_OK);
    assert_memory_equal(vae_model_grads(one), vae_model_grads(rank),
                        (size_t)n * sizeof(float));
    assert_int_equal(vae_model_random_uniform(one, NEXT, ua), VAE_OK);
    assert_int_equal(vae_model_random_uniform(rank, NEXT, ub), VAE_OK);
    assert_memory_equal(ua, ub, sizeof ua);

    assert_int_equal(vae_model_zero_grad(whole), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(whole, x, BATCH, NULL, NULL, NULL),
                     VAE_OK);
    const float *g = vae_model_grads(whole), *second = vae_model_grads(one);
    for (int64_t i = 0; i < n; i++)
        tu_expect_close((double)first[i] + (double)second[i], (double)g[i],
                        1e-4, "half + half vs whole batch", &worst);
    print_message("halves vs whole batch: worst relative difference %.2g\n",
                  worst);
    free(first);
    free(skip);
    free(x);
    vae_model_free(whole);
    vae_model_free(rank);
    vae_model_free(one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_different_seed_differs),
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_random_uniform),
        cmocka_unit_test(test_shard_draws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
