/* Ops that change what the model computes beyond their own node, checked
 * through the public API against values computed here in double:
 * batch normalisation (batch statistics while gradients are computed,
 * running statistics otherwise, kept in model files and put back when a
 * gradient pass fails; the BN-VAE lower bound on the KL), the encoder's
 * own posterior (no head appended) and the bag-of-words loss (trained, not
 * reported, 1/k per sample with k train samples). Each op's own gradient
 * is tested in tests/ops; here, the model's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h" /* the running statistics: m->buffers */
#include "testutil.h"

enum { L = 3, B = 8, T = 5, V = 6 };
#define GAMMA 0.7f
#define BN_EPS 1e-5

static vae_graph *new_graph(void)
{
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    return g;
}

static vae_model *new_model(vae_graph *enc, vae_graph *dec, int32_t lik)
{
    char err[256] = "";
    vae_model *m = NULL;
    if (vae_model_new(enc, dec, L, lik, 5, &m, err, sizeof err) != VAE_OK)
        fail_msg("model: %s", err);
    vae_graph_free(enc);
    vae_graph_free(dec);
    return m;
}

/* x [L] -> q(z|x) with mu = batch_norm(x, gamma) and logvar = dense(x):
 * mu is x normalised, which the test can compute. */
static vae_graph *bn_encoder(float gamma)
{
    const int64_t l = L;
    vae_graph *g = new_graph();
    int32_t x = vae_graph_input(g, &l, 1);
    int32_t mu = vae_graph_batch_norm(g, x, gamma);
    vae_graph_set_output(g, vae_graph_gaussian(g, mu, vae_graph_dense(g, x, L)));
    return g;
}

/* z -> tanh(dense 4) -> [batch_norm, learned scale] -> dense L. */
static vae_graph *decoder(int with_bn)
{
    const int64_t l = L;
    vae_graph *g = new_graph();
    int32_t h = vae_graph_tanh(g, vae_graph_dense(g, vae_graph_input(g, &l, 1),
                                                  4));
    if (with_bn)
        h = vae_graph_batch_norm(g, h, 0.0f);
    vae_graph_set_output(g, vae_graph_dense(g, h, L));
    return g;
}

static vae_model *bn_model(int dec_bn)
{
    return new_model(bn_encoder(GAMMA), decoder(dec_bn),
                     VAE_LIKELIHOOD_GAUSSIAN_FIXED);
}

static void fill_normal(float *p, int64_t n, uint64_t seed)
{
    tu_rng r;
    tu_seed(&r, seed);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(0.5 + tu_normal(&r));
}

/* Mean and biased variance of feature j over the batch, in double. */
static void moments(const float *x, int j, double *mean, double *var)
{
    double s = 0.0, ss = 0.0;
    for (int b = 0; b < B; b++)
        s += x[b * L + j];
    *mean = s / B;
    for (int b = 0; b < B; b++)
        ss += (x[b * L + j] - *mean) * (x[b * L + j] - *mean);
    *var = ss / B;
}

/* vae_model_encode's mu against gamma (x - mean) / sqrt(var + eps). */
static void expect_mu(vae_model *m, const float *x, const double *mean,
                      const double *var, const char *what)
{
    float mu[B * L], lv[B * L];
    assert_int_equal(vae_model_encode(m, x, B, mu, lv), VAE_OK);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < L; j++)
            TU_ASSERT_CLOSE(mu[b * L + j],
                            GAMMA * (x[b * L + j] - mean[j]) /
                                sqrt(var[j] + BN_EPS),
                            1e-5, what);
}

static void test_batch_norm_modes(void **state)
{
    (void)state;
    vae_model *m = bn_model(0);
    float x[B * L], eps[B * L], mu[B * L], lv[B * L];
    fill_normal(x, B * L, 1);
    fill_normal(eps, B * L, 2);

    /* A new model's running statistics are mean 0, variance 1. */
    double mean0[L] = {0}, var1[L] = {1, 1, 1};
    expect_mu(m, x, mean0, var1, "mu before training");
    assert_int_equal(vae_model_encode(m, x, B, mu, lv), VAE_OK);

    /* A gradient pass normalises with the batch's own statistics: its KL
     * is the closed form with those, and at least L gamma^2 / 2 (BN-VAE),
     * since exp(lv) - lv - 1 >= 0 and mu^2 averages gamma^2 var/(var+eps)
     * per dimension. */
    double mean[L], var[L], kl_want = 0.0, kl;
    for (int j = 0; j < L; j++)
        moments(x, j, &mean[j], &var[j]);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < L; j++) {
            double u = GAMMA * (x[b * L + j] - mean[j]) / sqrt(var[j] + BN_EPS);
            double v = lv[b * L + j];
            kl_want += 0.5 * (u * u + exp(v) - v - 1.0) / B;
        }
    assert_int_equal(vae_model_elbo_grad_noise(m, x, B, eps, NULL, NULL, &kl),
                     VAE_OK);
    TU_ASSERT_CLOSE(kl, kl_want, 1e-5, "KL with the batch's statistics");
    assert_true(kl >= 0.5 * L * GAMMA * GAMMA * (1.0 - 1e-3));

    /* ... and moves the running ones a tenth of the way to the batch's
     * (the variance unbiased), which every other call then uses. */
    double run_mean[L], run_var[L];
    for (int j = 0; j < L; j++) {
        run_mean[j] = 0.1 * mean[j];
        run_var[j] = 0.9 + 0.1 * var[j] * B / (B - 1);
    }
    expect_mu(m, x, run_mean, run_var, "mu after one gradient pass");
    double e1, e2;
    assert_int_equal(vae_model_elbo_noise(m, x, B, eps, &e1, NULL, NULL),
                     VAE_OK);
    assert_int_equal(vae_model_elbo_noise(m, x, B, eps, &e2, NULL, NULL),
                     VAE_OK);
    assert_true(e1 == e2);
    expect_mu(m, x, run_mean, run_var, "mu after evaluations");

    /* A gradient pass that fails after its forward pass (a decoder weight
     * so large the loss overflows) leaves the running statistics alone. */
    float *p = vae_model_params(m);
    int64_t last = vae_model_num_params(m) - L - 1; /* a decoder weight */
    float keep = p[last];
    p[last] = 1e30f;
    assert_int_equal(vae_model_elbo_grad_noise(m, x, B, eps, NULL, NULL, NULL),
                     VAE_ERR_NONFINITE);
    p[last] = keep;
    expect_mu(m, x, run_mean, run_var, "mu after a failed gradient pass");

    /* Model files keep them, in format 1.2. */
    size_t len = 0;
    unsigned char *img = tu_save_image(m, NULL, &len);
    assert_int_equal(img[10] | img[11] << 8, 2);
    vae_model *back = NULL;
    assert_int_equal(vae_model_load_from_buffer(img, len, &back, NULL, NULL, 0),
                     VAE_OK);
    expect_mu(back, x, run_mean, run_var, "mu of the loaded model");
    free(img);
    vae_model_free(back);
    vae_model_free(m);
}

/* reset_decoder starts the decoder's statistics afresh, not the
 * encoder's. */
static void test_reset_decoder_statistics(void **state)
{
    (void)state;
    vae_model *m = bn_model(1);
    float x[B * L];
    fill_normal(x, B * L, 3);
    int64_t n = m->n_buffers;
    assert_int_equal(n, 2 * L + 2 * 4);
    assert_int_equal(vae_model_elbo_grad(m, x, B, NULL, NULL, NULL), VAE_OK);
    float *before = tu_dup(m->buffers, n);
    assert_int_equal(vae_model_reset_decoder(m, 9), VAE_OK);
    for (int64_t i = 0; i < n; i++) {
        /* Encoder first: L means, L variances; then the decoder's 4 + 4. */
        float fresh = i < 2 * L + 4 ? 0.0f : 1.0f;
        assert_true(m->buffers[i] == (i < 2 * L ? before[i] : fresh));
    }
    assert_true(before[0] != 0.0f && before[2 * L] != 0.0f);
    free(before);
    vae_model_free(m);
}

/* Batch norm in both nets: the gradient of the training loss, whose every
 * example depends on the whole batch, against central differences of it
 * (tu_check_model_grads evaluates the loss through elbo_grad, in training
 * mode). */
static void test_batch_norm_model_gradient(void **state)
{
    (void)state;
    vae_model *m = bn_model(1);
    float x[B * L];
    fill_normal(x, B * L, 4);
    double worst = tu_check_model_grads(m, x, B, 7, 1e-2f, 2e-2);
    print_message("batch norm model: worst relative gradient error %.2g\n",
                  worst);
    vae_model_free(m);
}

/* An encoder that ends in vae_graph_gaussian gets no head: mu is what the
 * graph computes (here the data itself), and the gradient flows through
 * it. */
static void test_own_posterior(void **state)
{
    (void)state;
    const int64_t l = L;
    vae_graph *enc = new_graph();
    int32_t x = vae_graph_input(enc, &l, 1);
    int32_t lv = vae_graph_dense(enc, vae_graph_tanh(enc, x), L);
    vae_graph_set_output(enc, vae_graph_gaussian(enc, x, lv));
    vae_model *m = new_model(enc, decoder(0), VAE_LIKELIHOOD_GAUSSIAN_FIXED);
    /* Encoder: the logvar dense (L x L + L); decoder: 4L + 4, 4L + L. */
    assert_int_equal(vae_model_num_params(m), L * L + L + 4 * L + 4 + 4 * L + L);

    float data[B * L], mu[B * L];
    fill_normal(data, B * L, 5);
    assert_int_equal(vae_model_encode(m, data, B, mu, NULL), VAE_OK);
    assert_memory_equal(mu, data, sizeof mu);
    double worst = tu_check_model_grads(m, data, B, 3, 1e-2f, 2e-2);
    print_message("own posterior: worst relative gradient error %.2g\n",
                  worst);
    vae_model_free(m);
}

/* ---- Bag of words ------------------------------------------------------ */

/* ids [T] -> embedding (2 per id) -> tanh of the flattened sequence ->
 * an ordinary head. */
static vae_graph *text_encoder(void)
{
    const int64_t t = T;
    vae_graph *g = new_graph();
    int32_t e = vae_graph_embedding(g, vae_graph_input(g, &t, 1), V, 2);
    vae_graph_set_output(g, vae_graph_tanh(g, vae_graph_flatten(g, e)));
    return g;
}

/* z -> logits [T, V] that ignore the words; the bag-of-words loss on a
 * dense layer of z, its parameters the model's last V x L + V. */
static vae_graph *bow_decoder(float weight)
{
    const int64_t l = L, t = T, tv[2] = {T, V};
    vae_graph *g = new_graph();
    int32_t z = vae_graph_input(g, &l, 1);
    int32_t ids = vae_graph_data(g, &t, 1);
    int32_t out = vae_graph_reshape(g, vae_graph_dense(g, z, T * V), tv, 2);
    vae_graph_bag_of_words(g, vae_graph_dense(g, z, V), ids, weight);
    vae_graph_set_output(g, out);
    return g;
}

static vae_model *bow_model(float weight)
{
    return new_model(text_encoder(), bow_decoder(weight),
                     VAE_LIKELIHOOD_CATEGORICAL);
}

/* Sentences of 1..T ids in 1..V-1, padded with 0. */
static void sentences(float *x)
{
    tu_rng r;
    tu_seed(&r, 6);
    for (int b = 0; b < B; b++) {
        int len = 1 + b % T;
        for (int t = 0; t < T; t++)
            x[b * T + t] = t < len ? (float)(1 + (int)tu_uniform(&r, 0, V - 1))
                                   : 0.0f;
    }
}

/* The bias gradient of logits that are the bias alone (weights 0):
 * weight x sum_b (count_b softmax(bias) - count_bv). */
static void bow_bias_grad(const float *x, const float *bias, float weight,
                          double *want)
{
    double top = bias[0], norm = 0.0;
    for (int v = 1; v < V; v++)
        top = fmax(top, bias[v]);
    for (int v = 0; v < V; v++)
        norm += exp(bias[v] - top);
    for (int v = 0; v < V; v++)
        want[v] = 0.0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int id = (int)x[b * T + t];
            if (id == 0)
                continue;
            for (int v = 0; v < V; v++)
                want[v] += weight * exp(bias[v] - top) / norm;
            want[id] -= weight;
        }
}

static void test_bag_of_words(void **state)
{
    (void)state;
    const float weight = 0.5f;
    vae_model *m = bow_model(weight), *plain = bow_model(0.0f);
    int64_t n = vae_model_num_params(m);
    float x[B * T], eps[3 * B * L];
    sentences(x);
    fill_normal(eps, 3 * B * L, 7);

    /* Logits of the bag of words: weights 0, a known bias. */
    float *w = vae_model_params(m) + n - (V * L + V), *bias = w + V * L;
    for (int i = 0; i < V * L; i++)
        w[i] = 0.0f;
    fill_normal(bias, V, 8);
    memcpy(vae_model_params(plain), vae_model_params(m), (size_t)n * 4);
    double want[V];
    bow_bias_grad(x, bias, weight, want);

    /* The reported ELBO leaves the auxiliary loss out. */
    double e_eval, e_grad, e_plain;
    assert_int_equal(vae_model_elbo_noise(m, x, B, eps, &e_eval, NULL, NULL),
                     VAE_OK);
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_elbo_grad_noise(m, x, B, eps, &e_grad, NULL,
                                               NULL),
                     VAE_OK);
    assert_int_equal(vae_model_zero_grad(plain), VAE_OK);
    assert_int_equal(vae_model_elbo_grad_noise(plain, x, B, eps, &e_plain,
                                               NULL, NULL),
                     VAE_OK);
    assert_true(e_grad == e_eval && e_plain == e_eval);

    /* Its gradient reaches its logits; with weights 0 nothing flows back
     * into z, so every other gradient is the plain model's. */
    const float *g = vae_model_grads(m), *g0 = vae_model_grads(plain);
    for (int v = 0; v < V; v++)
        TU_ASSERT_CLOSE(g[n - V + v], want[v], 1e-5, "bias gradient");
    for (int64_t i = 0; i < n - (V * L + V); i++)
        assert_true(g[i] == g0[i]);
    for (int64_t i = n - (V * L + V); i < n; i++)
        assert_true(g0[i] == 0.0f);

    /* With 3 samples per example each counts a third: the same gradient. */
    assert_int_equal(vae_model_set_train_samples(m, 3), VAE_OK);
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_elbo_grad_noise(m, x, B, eps, NULL, NULL, NULL),
                     VAE_OK);
    for (int v = 0; v < V; v++)
        TU_ASSERT_CLOSE(g[n - V + v], want[v], 1e-5, "bias gradient, k = 3");

    /* With weights, the loss reaches the encoder through z. */
    assert_int_equal(vae_model_set_train_samples(m, 1), VAE_OK);
    fill_normal(w, V * L, 9);
    memcpy(vae_model_params(plain), vae_model_params(m), (size_t)n * 4);
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_elbo_grad_noise(m, x, B, eps, NULL, NULL, NULL),
                     VAE_OK);
    assert_int_equal(vae_model_zero_grad(plain), VAE_OK);
    assert_int_equal(vae_model_elbo_grad_noise(plain, x, B, eps, NULL, NULL,
                                               NULL),
                     VAE_OK);
    int differ = 0; /* among the encoder's: embedding and head */
    for (int64_t i = 0; i < V * 2 + 2 * L * (T * 2) + 2 * L; i++)
        differ |= g[i] != g0[i];
    assert_true(differ);
    vae_model_free(m);
    vae_model_free(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_norm_modes),
        cmocka_unit_test(test_reset_decoder_statistics),
        cmocka_unit_test(test_batch_norm_model_gradient),
        cmocka_unit_test(test_own_posterior),
        cmocka_unit_test(test_bag_of_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
