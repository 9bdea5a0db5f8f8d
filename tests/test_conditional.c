/* Conditional models (vae_graph_condition, vae_model_set_condition).
 *
 * Closed form: z ~ N(0, I_D), x | z, c ~ N(z + c, s2 I_D). The decoder is
 * dense([z | c]) with weights [I I] and bias 0; the encoder's head reads
 * [x | c]. Then p(x | c) = N(x; c, (1 + s2) I) and the exact posterior is
 * q*(z | x, c) = N((x - c) / (1 + s2), s2 / (1 + s2) I): with the head set
 * to it, every importance weight is p(x | c), so the IWAE estimate is
 * log p(x | c) for every k, and log p(x | z, c), the decoded mean z + c
 * and the encoder's mu are known. Wrong rows of the condition (another
 * example's, a stale copy, a chunk that starts at the wrong example) change
 * these numbers. Besides: gradients by central differences, the errors of
 * a missing or mis-sized condition, save and load, generation of a
 * conditional sentence decoder, and the statistics over a set encoded in
 * chunks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { D = 3, N = 4 };
#define S2 0.5
#define LOG_2PI 1.8378770664093453

static vae_graph *new_graph(void)
{
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    return g;
}

static vae_model *new_model(vae_graph *enc, vae_graph *dec, int64_t latent,
                            int32_t lik)
{
    char err[256] = "";
    vae_model *m = NULL;
    if (vae_model_new(enc, dec, latent, lik, 3, &m, err, sizeof err) != VAE_OK)
        fail_msg("model: %s", err);
    vae_graph_free(enc);
    vae_graph_free(dec);
    return m;
}

/* Encoder: [x | c] (head appended); decoder: dense([z | c]) -> D. */
static vae_model *linear_gaussian(void)
{
    const int64_t d = D;
    vae_graph *enc = new_graph(), *dec = new_graph();
    int32_t x = vae_graph_input(enc, &d, 1);
    vae_graph_set_output(enc, vae_graph_concat(enc, x,
                                               vae_graph_condition(enc, D)));
    int32_t z = vae_graph_input(dec, &d, 1);
    int32_t zc = vae_graph_concat(dec, z, vae_graph_condition(dec, D));
    vae_graph_set_output(dec, vae_graph_dense(dec, zc, D));
    vae_model *m = new_model(enc, dec, D, VAE_LIKELIHOOD_GAUSSIAN_FIXED);
    assert_int_equal(vae_model_condition_size(m), D);
    assert_int_equal(vae_model_set_obs_logvar(m, log(S2)), VAE_OK);

    /* Head W (2D x 2D) then b (2D); decoder W (D x 2D) then b (D). */
    float *p = vae_model_params(m);
    assert_int_equal(vae_model_num_params(m), 4 * D * D + 2 * D + 2 * D * D + D);
    memset(p, 0, (size_t)vae_model_num_params(m) * sizeof *p);
    float *head_b = p + 4 * D * D, *dec_w = head_b + 2 * D;
    for (int j = 0; j < D; j++) {
        p[j * 2 * D + j] = (float)(1.0 / (1.0 + S2));      /* mu from x */
        p[j * 2 * D + D + j] = (float)(-1.0 / (1.0 + S2)); /* and from c */
        head_b[D + j] = (float)log(S2 / (1.0 + S2));       /* logvar */
        dec_w[j * 2 * D + j] = 1.0f;                       /* z */
        dec_w[j * 2 * D + D + j] = 1.0f;                   /* c */
    }
    return m;
}

static const float X[N * D] = {0.3f,  -1.2f, 0.8f, 2.0f, 0.1f, -0.5f,
                               -0.7f, 0.9f,  1.5f, 0.0f, 0.4f, -2.1f};
static const float C[N * D] = {1.0f, 0.0f, -1.0f, 0.5f, 0.5f, 0.5f,
                               -2.0f, 1.0f, 0.0f, 0.3f, -0.3f, 1.2f};

static double log_px_given_c(const float *x, const float *c)
{
    double v = 1.0 + S2, lp = 0.0;
    for (int j = 0; j < D; j++) {
        double r = x[j] - c[j];
        lp += -0.5 * (LOG_2PI + log(v) + r * r / v);
    }
    return lp;
}

static void test_closed_form(void **state)
{
    (void)state;
    vae_model *m = linear_gaussian();
    assert_int_equal(vae_model_set_condition(m, C, N), VAE_OK);

    /* k = 300 with 4 examples spans several 256-row chunks, which start
     * inside an example's samples. */
    const int64_t ks[] = {1, 7, 300};
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
        double lp[N];
        assert_int_equal(vae_model_iwae(m, X, N, ks[i], lp), VAE_OK);
        for (int b = 0; b < N; b++)
            TU_ASSERT_CLOSE(lp[b], log_px_given_c(X + b * D, C + b * D), 1e-5,
                            "IWAE log p(x | c)");
    }

    /* The training bound with 5 samples per example: the same number. */
    assert_int_equal(vae_model_set_train_samples(m, 5), VAE_OK);
    double bound, want = 0.0;
    for (int b = 0; b < N; b++)
        want += log_px_given_c(X + b * D, C + b * D) / N;
    assert_int_equal(vae_model_elbo_grad(m, X, N, &bound, NULL, NULL), VAE_OK);
    TU_ASSERT_CLOSE(bound, want, 1e-5, "5-sample training bound");

    /* mu = (x - c) / (1 + s2); decoding z gives z + c; log p(x | z, c). */
    float mu[N * D], mean[N * D], z[N * D];
    double lpz[N];
    assert_int_equal(vae_model_encode(m, X, N, mu, NULL), VAE_OK);
    for (int i = 0; i < N * D; i++) {
        TU_ASSERT_CLOSE(mu[i], (X[i] - C[i]) / (1.0 + S2), 1e-6, "mu");
        z[i] = 0.25f * (float)(i % 5) - 0.5f;
    }
    assert_int_equal(vae_model_decode(m, z, N, mean), VAE_OK);
    assert_int_equal(vae_model_log_likelihood(m, z, X, N, lpz), VAE_OK);
    for (int b = 0; b < N; b++) {
        double want_lp = 0.0;
        for (int j = 0; j < D; j++) {
            int i = b * D + j;
            TU_ASSERT_CLOSE(mean[i], z[i] + C[i], 1e-6, "decoded mean");
            double r = X[i] - z[i] - C[i];
            want_lp += -0.5 * (LOG_2PI + log(S2) + r * r / S2);
        }
        TU_ASSERT_CLOSE(lpz[b], want_lp, 1e-5, "log p(x | z, c)");
    }
    vae_model_free(m);
}

/* The statistics over a set encode it STATS_CHUNK (256) examples at a
 * time: each chunk must read its own examples' condition. The variances
 * active_units reports must be those of the means vae_model_encode gives
 * for the whole set at once. */
static void test_statistics_in_chunks(void **state)
{
    (void)state;
    enum { M = 300 };
    vae_model *m = linear_gaussian();
    float *x = tu_alloc(M * D * sizeof *x), *c = tu_alloc(M * D * sizeof *c);
    float *mu = tu_alloc(M * D * sizeof *mu);
    tu_rng r;
    tu_seed(&r, 4);
    for (int i = 0; i < M * D; i++) {
        x[i] = (float)tu_normal(&r);
        /* Conditions that grow with the example: a chunk that read rows
         * 0.. again would have smaller ones. */
        c[i] = (float)(i / D) * 0.01f;
    }
    assert_int_equal(vae_model_set_condition(m, c, M), VAE_OK);
    assert_int_equal(vae_model_encode(m, x, M, mu, NULL), VAE_OK);
    double var[D];
    int64_t count;
    assert_int_equal(vae_model_active_units(m, x, M, 0.01, &count, var),
                     VAE_OK);
    for (int j = 0; j < D; j++) {
        double mean = 0.0, ss = 0.0;
        for (int i = 0; i < M; i++)
            mean += mu[i * D + j] / M;
        for (int i = 0; i < M; i++)
            ss += (mu[i * D + j] - mean) * (mu[i * D + j] - mean);
        TU_ASSERT_CLOSE(var[j], ss / (M - 1), 1e-5, "variance of mu");
    }
    double mi;
    assert_int_equal(vae_model_mutual_info(m, x, M, 1, &mi), VAE_OK);
    assert_true(isfinite(mi) && mi >= 0.0);
    free(x);
    free(c);
    free(mu);
    vae_model_free(m);
}

/* A condition of the wrong size, or none, is refused; clearing it or
 * giving NaN leaves none or the old rows. */
static void test_condition_errors(void **state)
{
    (void)state;
    vae_model *m = linear_gaussian();
    double e;
    float z[N * D] = {0}, out[N * D];
    assert_int_equal(vae_model_elbo(m, X, N, &e, NULL, NULL),
                     VAE_ERR_INVALID_ARG);
    assert_non_null(strstr(vae_model_last_error(m), "set_condition"));
    assert_int_equal(vae_model_set_condition(m, C, N - 1), VAE_OK);
    assert_int_equal(vae_model_elbo(m, X, N, &e, NULL, NULL), VAE_ERR_SHAPE);
    assert_int_equal(vae_model_decode(m, z, N, out), VAE_ERR_SHAPE);
    assert_int_equal(vae_model_sample(m, N, NULL, out), VAE_ERR_SHAPE);
    assert_int_equal(vae_model_elbo(m, X, N - 1, &e, NULL, NULL), VAE_OK);

    float bad[D] = {0.0f, NAN, 0.0f};
    assert_int_equal(vae_model_set_condition(m, bad, 1), VAE_ERR_NONFINITE);
    assert_int_equal(vae_model_elbo(m, X, N - 1, &e, NULL, NULL), VAE_OK);
    assert_int_equal(vae_model_set_condition(m, NULL, 0), VAE_OK);
    assert_int_equal(vae_model_elbo(m, X, N - 1, &e, NULL, NULL),
                     VAE_ERR_INVALID_ARG);
    vae_model_free(m);

    /* Two condition nodes, or two sizes. */
    const int64_t d = D;
    vae_graph *enc = new_graph(), *dec = new_graph();
    vae_graph_input(enc, &d, 1);
    vae_graph_condition(enc, 2);
    vae_graph_set_output(enc, vae_graph_condition(enc, 2));
    vae_graph_input(dec, &d, 1);
    vae_graph_set_output(dec, vae_graph_dense(dec, 0, D));
    char err[256];
    assert_int_equal(vae_model_new(enc, dec, D, VAE_LIKELIHOOD_BERNOULLI, 1,
                                   &m, err, sizeof err),
                     VAE_ERR_GRAPH);
    assert_non_null(strstr(err, "two condition nodes"));
    vae_graph_free(enc);
    enc = new_graph();
    vae_graph_input(enc, &d, 1);
    vae_graph_set_output(enc, vae_graph_condition(enc, 2));
    vae_graph_condition(dec, 3);
    assert_int_equal(vae_model_new(enc, dec, D, VAE_LIKELIHOOD_BERNOULLI, 1,
                                   &m, err, sizeof err),
                     VAE_ERR_SHAPE);
    vae_graph_free(enc);
    vae_graph_free(dec);
}

/* x [D] and c -> tanh(dense([x | c])) -> head; z and c -> tanh(dense) ->
 * dense D: the gradient of the training loss against central
 * differences, with one sample and with three per example. */
static void test_gradients(void **state)
{
    (void)state;
    const int64_t d = D;
    vae_graph *enc = new_graph(), *dec = new_graph();
    int32_t x = vae_graph_input(enc, &d, 1);
    int32_t xc = vae_graph_concat(enc, x, vae_graph_condition(enc, 2));
    vae_graph_set_output(enc, vae_graph_tanh(enc, vae_graph_dense(enc, xc, 5)));
    int32_t z = vae_graph_input(dec, &d, 1);
    int32_t zc = vae_graph_concat(dec, z, vae_graph_condition(dec, 2));
    int32_t h = vae_graph_tanh(dec, vae_graph_dense(dec, zc, 4));
    vae_graph_set_output(dec, vae_graph_dense(dec, h, D));
    vae_model *m = new_model(enc, dec, D, VAE_LIKELIHOOD_BERNOULLI);
    float xs[N * D], c[N * 2];
    tu_rng r;
    tu_seed(&r, 8);
    tu_fill_uniform(&r, xs, N * D, 0.0, 1.0);
    tu_fill_uniform(&r, c, N * 2, -1.0, 1.0);
    assert_int_equal(vae_model_set_condition(m, c, N), VAE_OK);
    double worst = tu_check_model_grads(m, xs, N, 5, 1e-2f, 2e-2);
    assert_int_equal(vae_model_set_train_samples(m, 3), VAE_OK);
    worst = fmax(worst, tu_check_model_grads(m, xs, N, 5, 1e-2f, 2e-2));
    print_message("conditional model: worst relative gradient error %.2g\n",
                  worst);

    /* The condition matters: another one, another ELBO. */
    double e1, e2;
    assert_int_equal(vae_model_set_seed(m, 1), VAE_OK);
    assert_int_equal(vae_model_elbo(m, xs, N, &e1, NULL, NULL), VAE_OK);
    for (int i = 0; i < N * 2; i++)
        c[i] = -c[i];
    assert_int_equal(vae_model_set_condition(m, c, N), VAE_OK);
    assert_int_equal(vae_model_set_seed(m, 1), VAE_OK);
    assert_int_equal(vae_model_elbo(m, xs, N, &e2, NULL, NULL), VAE_OK);
    assert_true(e1 != e2);
    vae_model_free(m);
}

/* A file keeps the condition node (format 1.2); the loaded model needs
 * the condition given again and then scores as the original. */
static void test_save_load(void **state)
{
    (void)state;
    vae_model *m = linear_gaussian();
    size_t len = 0;
    unsigned char *img = tu_save_image(m, NULL, &len);
    assert_int_equal(img[10], 2);
    vae_model *b = NULL;
    assert_int_equal(vae_model_load_from_buffer(img, len, &b, NULL, NULL, 0),
                     VAE_OK);
    assert_int_equal(vae_model_condition_size(b), D);
    double lp[N], want[N];
    assert_int_equal(vae_model_iwae(b, X, N, 3, lp), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_set_condition(b, C, N), VAE_OK);
    assert_int_equal(vae_model_set_condition(m, C, N), VAE_OK);
    assert_int_equal(vae_model_iwae(b, X, N, 3, lp), VAE_OK);
    assert_int_equal(vae_model_iwae(m, X, N, 3, want), VAE_OK);
    assert_memory_equal(lp, want, sizeof lp);
    free(img);
    vae_model_free(b);
    vae_model_free(m);
}

/* ---- A conditional sentence decoder ------------------------------------- */

enum { T = 5, V = 7, L = 2, K = 3 };

/* ids [T] -> embedding -> LSTM -> head; z and a one-hot class of K start
 * the decoder's LSTM and join every step's input. */
static vae_model *sentence_model(void)
{
    const int64_t t = T, l = L;
    vae_graph *enc = new_graph(), *dec = new_graph();
    int32_t ids = vae_graph_input(enc, &t, 1);
    vae_graph_set_output(enc, vae_graph_lstm(enc, vae_graph_embedding(enc, ids,
                                                                      V, 4),
                                             6, VAE_NO_NODE, ids,
                                             VAE_LSTM_LAST_STATE));
    int32_t z = vae_graph_input(dec, &l, 1);
    int32_t x = vae_graph_data(dec, &t, 1);
    int32_t zc = vae_graph_concat(dec, z, vae_graph_condition(dec, K));
    int32_t prev = vae_graph_embedding(dec, vae_graph_shift_right(dec, x, 1.0f),
                                       V, 4);
    int32_t steps = vae_graph_concat(dec, prev, vae_graph_repeat(dec, zc, T));
    int32_t init = vae_graph_tanh(dec, vae_graph_dense(dec, zc, 12));
    int32_t h = vae_graph_lstm(dec, steps, 6, init, VAE_NO_NODE,
                               VAE_LSTM_SEQUENCE);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, V));
    return new_model(enc, dec, L, VAE_LIKELIHOOD_CATEGORICAL);
}

/* Each example of a batch is generated with its own condition, in every
 * mode: the batch gives what each example alone gives, and a greedy
 * sequence is the teacher-forced decoder's argmax at every step. */
static void test_generation(void **state)
{
    (void)state;
    vae_model *m = sentence_model();
    const float z[2 * L] = {0.3f, -0.8f, 0.3f, -0.8f};
    const float c[2 * K] = {1, 0, 0, 0, 0, 1};
    const int32_t modes[] = {VAE_DECODE_GREEDY, VAE_DECODE_BEAM};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        assert_int_equal(vae_model_set_generation(m, VAE_GEN_MODE, modes[i]),
                         VAE_OK);
        assert_int_equal(vae_model_set_generation(m, VAE_GEN_BEAM, 3), VAE_OK);
        float both[2 * T], one[T];
        assert_int_equal(vae_model_set_condition(m, c, 2), VAE_OK);
        assert_int_equal(vae_model_generate_tokens(m, z, 2, T, both, NULL),
                         VAE_OK);
        for (int b = 0; b < 2; b++) {
            assert_int_equal(vae_model_set_condition(m, c + b * K, 1), VAE_OK);
            assert_int_equal(vae_model_generate_tokens(m, z + b * L, 1, T, one,
                                                       NULL),
                             VAE_OK);
            assert_memory_equal(one, both + b * T, sizeof one);
        }
    }

    /* Greedy: at step t the id is the argmax of the teacher-forced logits
     * at t given the prefix, with the same condition. */
    assert_int_equal(vae_model_set_generation(m, VAE_GEN_MODE,
                                              VAE_DECODE_GREEDY),
                     VAE_OK);
    assert_int_equal(vae_model_set_condition(m, c + K, 1), VAE_OK);
    float y[T], logits[T * V];
    assert_int_equal(vae_model_generate_tokens(m, z, 1, T, y, NULL), VAE_OK);
    assert_int_equal(vae_model_decoder_output(m, z, y, 1, logits), VAE_OK);
    for (int t = 0; t < T; t++) {
        int arg = 1;
        for (int v = 2; v < V; v++)
            if (logits[t * V + v] > logits[t * V + arg])
                arg = v;
        assert_int_equal((int)y[t], arg);
    }
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form),
        cmocka_unit_test(test_statistics_in_chunks),
        cmocka_unit_test(test_condition_errors),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_generation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
