/* test_iwae.c - the importance-weighted log-likelihood against a model whose
 * log p(x) is known in closed form.
 *
 * Linear-Gaussian model: z ~ N(0, I_D), x | z ~ N(z, s2 I_D) (decoder =
 * identity, fixed observation variance s2). Then p(x) = N(x; 0, (1+s2) I),
 * and the exact posterior is q*(z|x) = N(x / (1+s2), s2 / (1+s2) I). The
 * encoder is identity + the model's dense head, whose weights the test sets:
 *  - to the exact posterior: every importance weight equals p(x), so the
 *    estimate equals log p(x) for every k (up to float rounding);
 *  - to a wrong posterior: the estimate is a lower bound that rises towards
 *    log p(x) as k grows. */
#include <math.h>
#include <string.h>

#include "testutil.h"

#define D 3
#define LOG_2PI 1.8378770664093453

static vae_model *linear_gaussian(double s2)
{
    const tu_layer ident[] = {TU_ACT(VAE_OP_IDENTITY)};
    vae_model *m = tu_model(D, ident, 1, D, ident, 1,
                            VAE_LIKELIHOOD_GAUSSIAN_FIXED, 5);
    assert_int_equal(vae_model_set_obs_logvar(m, log(s2)), VAE_OK);
    /* The head is the only node with parameters: W (2D x D), then b (2D). */
    assert_int_equal(vae_model_num_params(m), 2 * D * D + 2 * D);
    return m;
}

/* Head: mu = a x + c, logvar = lv (per dimension, no x dependence). */
static void set_head(vae_model *m, double a, double c, double lv)
{
    float *p = vae_model_params(m);
    memset(p, 0, (size_t)vae_model_num_params(m) * sizeof(float));
    for (int j = 0; j < D; j++)
        p[j * D + j] = (float)a;
    float *b = p + 2 * D * D;
    for (int j = 0; j < D; j++) {
        b[j] = (float)c;
        b[D + j] = (float)lv;
    }
}

static double log_px(const float *x, double s2)
{
    double v = 1.0 + s2, lp = 0.0;
    for (int j = 0; j < D; j++)
        lp += -0.5 * (LOG_2PI + log(v) + x[j] * (double)x[j] / v);
    return lp;
}

static const float X[3 * D] = {0.3f, -1.2f, 0.8f, 2.0f, 0.1f, -0.5f,
                               -0.7f, 0.9f, 1.5f};

static void test_exact_posterior_gives_log_px_for_every_k(void **state)
{
    (void)state;
    const double s2 = 0.5;
    vae_model *m = linear_gaussian(s2);
    set_head(m, 1.0 / (1.0 + s2), 0.0, log(s2 / (1.0 + s2)));
    /* k = 300 with 3 examples spans several 256-row chunks. */
    const int64_t ks[] = {1, 7, 300};
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
        double lp[3];
        assert_int_equal(vae_model_iwae(m, X, 3, ks[i], lp), VAE_OK);
        for (int b = 0; b < 3; b++)
            TU_ASSERT_CLOSE(lp[b], log_px(X + b * D, s2), 1e-5, "log p(x)");
    }
    vae_model_free(m);
}

/* Near the exact posterior (a = 2/3, c = 0, v = 1/3) but not at it, so the
 * weights vary yet stay light-tailed (q is wider than the truth). Measured
 * spread of one estimate here: 0.53 nats at k = 1, 0.039 at k = 100, 0.001
 * at k = 100000; the margins below are several standard errors wide. */
#define NEAR_A 0.6
#define NEAR_C 0.05
#define NEAR_V 0.45

static double mean_estimate(vae_model *m, int64_t k, int repeats)
{
    double sum = 0.0, lp[1];
    for (int r = 0; r < repeats; r++) {
        assert_int_equal(vae_model_iwae(m, X, 1, k, lp), VAE_OK);
        sum += lp[0];
    }
    return sum / repeats;
}

static void test_wrong_posterior_is_a_bound_that_tightens(void **state)
{
    (void)state;
    const double s2 = 0.5;
    vae_model *m = linear_gaussian(s2);
    set_head(m, NEAR_A, NEAR_C, log(NEAR_V));
    double truth = log_px(X, s2);
    double mean1 = mean_estimate(m, 1, 2000);     /* standard error 0.012 */
    double mean100 = mean_estimate(m, 100, 200);  /* standard error 0.003 */
    double one_big = mean_estimate(m, 100000, 1); /* spread 0.001 */
    assert_true(mean1 < truth - 0.05);
    assert_true(mean1 < mean100 - 0.05);
    TU_ASSERT_CLOSE(mean100, truth, 0.015, "mean of k=100 estimates");
    TU_ASSERT_CLOSE(one_big, truth, 0.01, "k=100000 estimate");
    vae_model_free(m);
}

/* k = 1 is one ELBO sample: its mean over many draws is the ELBO, which for
 * this model is known in closed form too:
 * E_q[log p(x|z)] - KL(q || p) with q = N(mu, v), p(x|z) = N(z, s2). */
static void test_k1_averages_to_the_elbo(void **state)
{
    (void)state;
    const double s2 = 0.5, a = NEAR_A, c = NEAR_C, v = NEAR_V;
    vae_model *m = linear_gaussian(s2);
    set_head(m, a, c, log(v));
    double elbo = 0.0;
    for (int j = 0; j < D; j++) {
        double mu = a * X[j] + c, r = X[j] - mu;
        elbo += -0.5 * (LOG_2PI + log(s2) + (r * r + v) / s2);
        elbo -= 0.5 * (mu * mu + v - 1.0 - log(v));
    }
    /* 20000 draws of spread 0.53: standard error 0.004. */
    TU_ASSERT_CLOSE(mean_estimate(m, 1, 20000), elbo, 0.02, "mean of k=1");
    vae_model_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    vae_model *m = linear_gaussian(0.5);
    double lp[3];
    float bad[D] = {0.0f, NAN, 1.0f};
    assert_int_equal(vae_model_iwae(NULL, X, 1, 5, lp), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_iwae(m, NULL, 1, 5, lp), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_iwae(m, X, 1, 5, NULL), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_iwae(m, X, 0, 5, lp), VAE_ERR_RANGE);
    assert_int_equal(vae_model_iwae(m, X, 1, 0, lp), VAE_ERR_RANGE);
    assert_int_equal(vae_model_iwae(m, X, 1, 1000000001, lp), VAE_ERR_RANGE);
    assert_int_equal(vae_model_iwae(m, bad, 1, 5, lp), VAE_ERR_NONFINITE);
    assert_true(strlen(vae_model_last_error(m)) > 0);
    assert_int_equal(vae_model_iwae(m, X, 3, 5, lp), VAE_OK);
    vae_model_free(m);
}

/* ---- The importance-weighted training objective (set_train_samples) --- */

/* elbo_grad's bound with k samples for the given seed. */
static double weighted_bound(vae_model *m, const float *x, int64_t batch,
                             uint64_t seed)
{
    double bound;
    assert_int_equal(vae_model_set_seed(m, seed), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, x, batch, &bound, NULL, NULL),
                     VAE_OK);
    return bound;
}

/* At the exact posterior every weight is p(x): the k-sample bound that
 * elbo_grad reports is log p(x) whatever the draws. */
static void test_train_bound_is_log_px_at_exact_posterior(void **state)
{
    (void)state;
    const double s2 = 0.5;
    vae_model *m = linear_gaussian(s2);
    set_head(m, 1.0 / (1.0 + s2), 0.0, log(s2 / (1.0 + s2)));
    const int64_t ks[] = {2, 7, 64};
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
        assert_int_equal(vae_model_set_train_samples(m, ks[i]), VAE_OK);
        double want = (log_px(X, s2) + log_px(X + D, s2) + log_px(X + 2 * D, s2)) / 3.0;
        TU_ASSERT_CLOSE(weighted_bound(m, X, 3, 9), want, 1e-5, "bound");
    }
    vae_model_free(m);
}

/* Same seed, same draws (both fill eps for rows b * k + s in one go when
 * batch * k fits one IWAE chunk): the training bound and the evaluation
 * estimate are one number computed by two code paths. */
static void test_train_bound_matches_iwae(void **state)
{
    (void)state;
    const double s2 = 0.5;
    vae_model *m = linear_gaussian(s2);
    set_head(m, NEAR_A, NEAR_C, log(NEAR_V));
    assert_int_equal(vae_model_set_train_samples(m, 5), VAE_OK);
    double lp[3];
    assert_int_equal(vae_model_set_seed(m, 21), VAE_OK);
    assert_int_equal(vae_model_iwae(m, X, 3, 5, lp), VAE_OK);
    TU_ASSERT_CLOSE(weighted_bound(m, X, 3, 21), (lp[0] + lp[1] + lp[2]) / 3.0,
                    1e-5, "bound vs iwae");
    vae_model_free(m);
}

/* The gradient of the k-sample bound against central differences of it,
 * with the same draws each time: the linear-Gaussian head alone, then a
 * two-layer tanh MLP with a Bernoulli decoder. */
static void test_train_bound_gradient(void **state)
{
    (void)state;
    vae_model *lg = linear_gaussian(0.5);
    set_head(lg, NEAR_A, NEAR_C, log(NEAR_V));
    assert_int_equal(vae_model_set_train_samples(lg, 4), VAE_OK);
    double worst = tu_check_model_grads(lg, X, 3, 5, 1e-2f, 1e-3);
    vae_model_free(lg);

    const tu_layer enc[] = {TU_DENSE(5), TU_ACT(VAE_OP_TANH)};
    const tu_layer dec[] = {TU_DENSE(5), TU_ACT(VAE_OP_TANH), TU_DENSE(6)};
    vae_model *m = tu_model(6, enc, 2, 2, dec, 3, VAE_LIKELIHOOD_BERNOULLI, 3);
    assert_int_equal(vae_model_set_train_samples(m, 3), VAE_OK);
    const float x[2 * 6] = {0, 1, 1, 0, 0.5f, 1, 1, 0, 0, 0.25f, 1, 0};
    worst = fmax(worst, tu_check_model_grads(m, x, 2, 7, 1e-2f, 2e-2));
    print_message("IWAE training objective: worst relative FD error %.2e\n",
                  worst);
    vae_model_free(m);
}

static void test_train_samples_errors(void **state)
{
    (void)state;
    vae_model *m = linear_gaussian(0.5);
    assert_int_equal(vae_model_set_train_samples(NULL, 2), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_set_train_samples(m, 0), VAE_ERR_RANGE);
    assert_int_equal(vae_model_set_train_samples(m, VAE_TRAIN_SAMPLES_MAX + 1),
                     VAE_ERR_RANGE);
    assert_int_equal(vae_model_set_train_samples(m, 3), VAE_OK);
    assert_int_equal(vae_model_set_free_bits(m, 0.5), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, X, 1, NULL, NULL, NULL),
                     VAE_ERR_INVALID_ARG);
    assert_true(strlen(vae_model_last_error(m)) > 0);
    assert_int_equal(vae_model_set_free_bits(m, 0.0), VAE_OK);
    float bad[D] = {0.0f, INFINITY, 1.0f};
    assert_int_equal(vae_model_elbo_grad(m, bad, 1, NULL, NULL, NULL),
                     VAE_ERR_NONFINITE);
    assert_int_equal(vae_model_elbo_grad(m, X, 3, NULL, NULL, NULL), VAE_OK);
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_posterior_gives_log_px_for_every_k),
        cmocka_unit_test(test_wrong_posterior_is_a_bound_that_tightens),
        cmocka_unit_test(test_k1_averages_to_the_elbo),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_train_bound_is_log_px_at_exact_posterior),
        cmocka_unit_test(test_train_bound_matches_iwae),
        cmocka_unit_test(test_train_bound_gradient),
        cmocka_unit_test(test_train_samples_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
