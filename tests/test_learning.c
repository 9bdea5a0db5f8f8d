/* The model learns: on synthetic data from a few prototypes, 200 Adam steps
 * raise the held-out ELBO well above both its starting value and the best
 * any model that ignores z can reach.
 *
 * Data: 4 random binary prototypes of 16 pixels; each example is one of them
 * with every pixel pulled towards the middle by uniform noise in [0, 0.06]
 * (so values lie in [0, 1] and no variance can collapse to zero). 256
 * training and 128 test examples.
 *
 * The bar: a decoder that ignores z can at best output each pixel's marginal
 * distribution, so its ELBO is at most the "constant baseline" computed here
 * in closed form from the test data (Bernoulli: sum_i m_i log m_i +
 * (1 - m_i) log(1 - m_i), m_i the pixel mean; Gaussian: the per-pixel
 * maximum-likelihood variance, or the fixed one). Beating it requires z to
 * carry which prototype an example came from. We require
 *   final > baseline + 2 nats  and  final > initial + 3 nats.
 * With correct gradients 200 steps reach about baseline + 4.4 (Bernoulli),
 * + 22 (Gaussian learned/fixed); the initial ELBO is ~16 log 2 = 11 nats
 * below the Bernoulli optimum. A model with wrong or stale gradients stays
 * near the baseline (seen with a workspace bug: -8.5 vs baseline -9.1). */
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

enum { D = 16, K = 4, N_TRAIN = 256, N_TEST = 128, BATCH = 32, STEPS = 200 };
#define NOISE 0.06
#define TWO_PI 6.283185307179586

typedef struct dataset {
    float train[N_TRAIN * D];
    float test[N_TEST * D];
} dataset;

static void make_data(dataset *ds)
{
    tu_rng r;
    tu_seed(&r, 2718);
    int on[K][D];
    for (int k = 0; k < K; k++)
        for (int i = 0; i < D; i++)
            on[k][i] = tu_uniform(&r, 0.0, 1.0) < 0.5;
    for (int n = 0; n < N_TRAIN + N_TEST; n++) {
        int k = (int)tu_uniform(&r, 0.0, K);
        float *row = n < N_TRAIN ? &ds->train[n * D]
                                 : &ds->test[(n - N_TRAIN) * D];
        for (int i = 0; i < D; i++) {
            double u = tu_uniform(&r, 0.0, NOISE);
            row[i] = (float)(on[k][i] ? 1.0 - u : u);
        }
    }
}

/* Best mean log-likelihood per example of a model without a latent. */
static double constant_baseline(const float *x, int n, int32_t likelihood,
                                double obs_logvar)
{
    double total = 0.0;
    for (int i = 0; i < D; i++) {
        double mean = 0.0, var = 0.0;
        for (int b = 0; b < n; b++)
            mean += x[b * D + i];
        mean /= n;
        for (int b = 0; b < n; b++)
            var += (x[b * D + i] - mean) * (x[b * D + i] - mean);
        var /= n;
        if (likelihood == VAE_LIKELIHOOD_BERNOULLI)
            /* E[x log m + (1-x) log(1-m)] at m = the pixel mean. */
            total += mean * log(mean) + (1.0 - mean) * log1p(-mean);
        else if (likelihood == VAE_LIKELIHOOD_GAUSSIAN_LEARNED)
            total += -0.5 * (log(TWO_PI) + log(var) + 1.0);
        else
            total += -0.5 * (log(TWO_PI) + obs_logvar +
                             var / exp(obs_logvar));
    }
    return total;
}

/* Held-out ELBO, averaged over a few z draws to keep its noise small. */
static double test_elbo(vae_model *m, const dataset *ds)
{
    double sum = 0.0;
    for (uint64_t s = 0; s < 4; s++) {
        double e;
        assert_int_equal(vae_model_set_seed(m, 1000 + s), VAE_OK);
        assert_int_equal(vae_model_elbo(m, ds->test, N_TEST, &e, NULL, NULL),
                         VAE_OK);
        sum += e;
    }
    return sum / 4.0;
}

static void check_learns(int32_t likelihood, double obs_logvar,
                         const char *name)
{
    dataset *ds = tu_alloc(sizeof *ds);
    make_data(ds);
    int64_t out = likelihood == VAE_LIKELIHOOD_GAUSSIAN_LEARNED ? 2 * D : D;
    const tu_layer enc[] = {TU_DENSE(32), TU_ACT(VAE_OP_TANH)};
    const tu_layer dec[] = {TU_DENSE(32), TU_ACT(VAE_OP_TANH), TU_DENSE(out)};
    vae_model *m = tu_model(D, enc, TU_COUNT(enc), 2, dec, TU_COUNT(dec),
                            likelihood, 11);
    assert_int_equal(vae_model_set_obs_logvar(m, obs_logvar), VAE_OK);
    vae_adam *o = NULL;
    assert_int_equal(vae_adam_new(m, 1e-2, &o, NULL, 0), VAE_OK);

    double before = test_elbo(m, ds);
    double base = constant_baseline(ds->test, N_TEST, likelihood, obs_logvar);
    assert_int_equal(vae_model_set_seed(m, 1), VAE_OK);
    for (int s = 0; s < STEPS; s++) {
        int first = (s * BATCH) % N_TRAIN;
        double e;
        assert_int_equal(vae_model_train_step(m, o, &ds->train[first * D],
                                              BATCH, &e, NULL, NULL),
                         VAE_OK);
        assert_true(isfinite(e));
    }
    double after = test_elbo(m, ds);
    print_message("%s: test ELBO %.3f -> %.3f nats; constant baseline %.3f\n",
                  name, before, after, base);
    assert_true(after > before + 3.0);
    assert_true(after > base + 2.0);
    vae_adam_free(o);
    vae_model_free(m);
    free(ds);
}

static void test_bernoulli(void **state)
{
    (void)state;
    check_learns(VAE_LIKELIHOOD_BERNOULLI, 0.0, "bernoulli");
}

static void test_gaussian_learned(void **state)
{
    (void)state;
    check_learns(VAE_LIKELIHOOD_GAUSSIAN_LEARNED, 0.0, "gaussian learned");
}

static void test_gaussian_fixed(void **state)
{
    (void)state;
    /* Variance 0.05 (noise sd 0.046 and prototype spread 0.4 straddle it),
     * so the reconstruction term is sharp enough to reward using z. */
    check_learns(VAE_LIKELIHOOD_GAUSSIAN_FIXED, log(0.05), "gaussian fixed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bernoulli),
        cmocka_unit_test(test_gaussian_learned),
        cmocka_unit_test(test_gaussian_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
