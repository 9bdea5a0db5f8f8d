/* The error paths of every public function: NULL handles and pointers, bad
 * sizes and shapes, out-of-range settings, non-finite data. Each failure
 * must return the documented status, leave a message, change nothing, and
 * leave the handle usable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { D = 4, L = 2, B = 3 };

static const tu_layer ENC[] = {TU_DENSE(5), TU_ACT(VAE_OP_RELU)};
static const tu_layer DEC[] = {TU_DENSE(5), TU_ACT(VAE_OP_TANH), TU_DENSE(D)};

static vae_model *bernoulli_model(void)
{
    return tu_model(D, ENC, TU_COUNT(ENC), L, DEC, TU_COUNT(DEC),
                    VAE_LIKELIHOOD_BERNOULLI, 1);
}

static void data(float *x, int64_t n)
{
    tu_rng r;
    tu_seed(&r, 12);
    tu_fill_uniform(&r, x, n, 0.0, 1.0);
}

/* A model error must come with a message. */
#define EXPECT_MODEL_ERR(m, status, call)                                   \
    do {                                                                    \
        assert_int_equal((call), (status));                                 \
        assert_true(vae_model_last_error(m)[0] != '\0');                    \
    } while (0)

#define EXPECT_ADAM_ERR(o, status, call)                                    \
    do {                                                                    \
        assert_int_equal((call), (status));                                 \
        assert_true(vae_adam_last_error(o)[0] != '\0');                     \
    } while (0)

static void test_status_strings(void **state)
{
    (void)state;
    const int32_t codes[] = {VAE_OK,           VAE_ERR_INVALID_ARG,
                             VAE_ERR_SHAPE,    VAE_ERR_NOMEM,
                             VAE_ERR_IO,       VAE_ERR_FORMAT,
                             VAE_ERR_NONFINITE, VAE_ERR_GRAPH,
                             VAE_ERR_VERSION,  VAE_ERR_RANGE,
                             VAE_ERR_UNSUPPORTED, VAE_ERR_BUSY};
    /* The values are part of the ABI. */
    for (int i = 0; i < TU_COUNT(codes); i++)
        assert_int_equal(codes[i], -i);
    const char *unknown = vae_status_string(1);
    assert_string_equal(unknown, "unknown status");
    for (int i = 0; i < TU_COUNT(codes); i++) {
        const char *s = vae_status_string(codes[i]);
        assert_non_null(s);
        assert_true(s[0] != '\0');
        assert_string_not_equal(s, unknown);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(s, vae_status_string(codes[k]));
    }
    const int32_t bad[] = {-12, 100, INT32_MIN, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad); i++)
        assert_string_equal(vae_status_string(bad[i]), "unknown status");
}

static void test_free_null(void **state)
{
    (void)state;
    vae_graph_free(NULL);
    vae_model_free(NULL);
    vae_adam_free(NULL);
}

static void test_graph_null(void **state)
{
    (void)state;
    const int64_t dims[1] = {3};
    assert_int_equal(vae_graph_new(NULL), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_graph_status(NULL), VAE_ERR_INVALID_ARG);
    assert_non_null(vae_graph_last_error(NULL));
    assert_int_equal(vae_graph_input(NULL, dims, 1), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_graph_dense(NULL, 0, 3), VAE_ERR_INVALID_ARG);
    /* Every op code; each builder call's own NULL check is in
     * test_api_validation. */
    const int32_t x = 0;
    for (int32_t op = VAE_OP_INPUT; op < VAE_OP_COUNT_; op++)
        assert_int_equal(vae_graph_add_code(NULL, op, &x, 1, NULL, 0, NULL, 0),
                         VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_graph_set_output(NULL, 0), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_graph_node_size(NULL, 0), VAE_ERR_INVALID_ARG);
}

/* Starts a graph with input [3]. */
static vae_graph *graph3(void)
{
    const int64_t dims[1] = {3};
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_status(g), VAE_OK);
    assert_string_equal(vae_graph_last_error(g), "");
    assert_int_equal(vae_graph_input(g, dims, 1), 0);
    return g;
}

static void expect_graph_err(vae_graph *g, int32_t status, int32_t got)
{
    assert_int_equal(got, status);
    assert_int_equal(vae_graph_status(g), status);
    assert_true(vae_graph_last_error(g)[0] != '\0');
    vae_graph_free(g);
}

static void test_graph_bad_args(void **state)
{
    (void)state;
    const int64_t five[5] = {1, 1, 1, 1, 1}, zero[2] = {2, 0}, neg[1] = {-3};
    const int64_t two[1] = {2};
    vae_graph *g;

    assert_int_equal(vae_graph_new(&g), VAE_OK);
    expect_graph_err(g, VAE_ERR_INVALID_ARG, vae_graph_input(g, NULL, 1));
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    expect_graph_err(g, VAE_ERR_SHAPE, vae_graph_input(g, five, 5));
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    expect_graph_err(g, VAE_ERR_SHAPE, vae_graph_input(g, five, 0));
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    expect_graph_err(g, VAE_ERR_SHAPE, vae_graph_input(g, zero, 2));
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    expect_graph_err(g, VAE_ERR_SHAPE, vae_graph_input(g, neg, 1));

    /* A second input: a graph has exactly one. */
    g = graph3();
    expect_graph_err(g, VAE_ERR_GRAPH, vae_graph_input(g, two, 1));

    g = graph3();
    expect_graph_err(g, VAE_ERR_RANGE, vae_graph_dense(g, 0, 0));
    g = graph3();
    expect_graph_err(g, VAE_ERR_RANGE, vae_graph_dense(g, 0, -4));
    g = graph3();
    expect_graph_err(g, VAE_ERR_GRAPH, vae_graph_dense(g, 1, 4));
    g = graph3();
    expect_graph_err(g, VAE_ERR_GRAPH, vae_graph_tanh(g, -1));
    g = graph3();
    expect_graph_err(g, VAE_ERR_GRAPH, vae_graph_sigmoid(g, 42));
    g = graph3();
    expect_graph_err(g, VAE_ERR_GRAPH, vae_graph_set_output(g, 1));
    g = graph3();
    expect_graph_err(g, VAE_ERR_GRAPH, vae_graph_set_output(g, -1));
    const float bad_slopes[] = {NAN, INFINITY, -0.5f};
    for (int i = 0; i < TU_COUNT(bad_slopes); i++) {
        g = graph3();
        int32_t st = vae_graph_leaky_relu(g, 0, bad_slopes[i]);
        assert_true(st < 0);
        expect_graph_err(g, st, st);
    }

    /* A layer before any input. */
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    expect_graph_err(g, VAE_ERR_GRAPH, vae_graph_relu(g, 0));

    /* node_size of a node that does not exist; the graph stays fine. */
    g = graph3();
    assert_int_equal(vae_graph_node_size(g, 0), 3);
    assert_true(vae_graph_node_size(g, 1) < 0);
    assert_true(vae_graph_node_size(g, -1) < 0);
    vae_graph_free(g);
}

/* The first error is kept: later calls return its status, even when they
 * would fail differently or would succeed, and the message does not change. */
static void test_sticky(void **state)
{
    (void)state;
    vae_graph *g = graph3();
    assert_int_equal(vae_graph_dense(g, 0, 4), 1);
    assert_int_equal(vae_graph_dense(g, 1, 0), VAE_ERR_RANGE);
    char first[512];
    strncpy(first, vae_graph_last_error(g), sizeof first - 1);
    first[sizeof first - 1] = '\0';
    assert_true(first[0] != '\0');

    const int64_t dims[1] = {2};
    assert_int_equal(vae_graph_relu(g, 99), VAE_ERR_RANGE);   /* would be GRAPH */
    assert_int_equal(vae_graph_relu(g, 1), VAE_ERR_RANGE);    /* would work */
    assert_int_equal(vae_graph_dense(g, 1, 3), VAE_ERR_RANGE);
    assert_int_equal(vae_graph_input(g, dims, 1), VAE_ERR_RANGE);
    assert_int_equal(vae_graph_set_output(g, 1), VAE_ERR_RANGE);
    assert_int_equal(vae_graph_status(g), VAE_ERR_RANGE);
    assert_string_equal(vae_graph_last_error(g), first);

    /* A model refuses a graph carrying an error, and passes its status on. */
    vae_graph *dec = tu_graph(L, DEC, TU_COUNT(DEC));
    vae_model *m = NULL;
    char err[256] = "";
    assert_int_equal(vae_model_new(g, dec, L, VAE_LIKELIHOOD_BERNOULLI, 1, &m,
                                   err, sizeof err),
                     VAE_ERR_RANGE);
    assert_null(m);
    assert_true(err[0] != '\0');
    vae_graph_free(dec);
    vae_graph_free(g);
}

/* vae_model_new with one thing wrong at a time. */
static void expect_new_fails(const vae_graph *enc, const vae_graph *dec,
                             int64_t latent, int32_t lik, int32_t status)
{
    vae_model *m = NULL;
    char err[256] = "";
    assert_int_equal(vae_model_new(enc, dec, latent, lik, 1, &m, err,
                                   sizeof err),
                     status);
    assert_null(m);
    assert_true(err[0] != '\0');
    /* The error buffer is optional. */
    assert_int_equal(vae_model_new(enc, dec, latent, lik, 1, &m, NULL, 0),
                     status);
    assert_null(m);
}

static void test_model_new_errors(void **state)
{
    (void)state;
    vae_graph *enc = tu_graph(D, ENC, TU_COUNT(ENC));
    vae_graph *dec = tu_graph(L, DEC, TU_COUNT(DEC));
    const tu_layer wide[] = {TU_DENSE(D + 1)};
    vae_graph *dec_wide = tu_graph(L, wide, 1);      /* output D+1 != D */
    vae_graph *dec_l3 = tu_graph(L + 1, DEC, TU_COUNT(DEC)); /* input 3 */
    vae_graph *enc_d5 = tu_graph(D + 1, ENC, TU_COUNT(ENC)); /* data 5 */
    vae_graph *no_out = graph3();
    assert_int_equal(vae_graph_dense(no_out, 0, 4), 1);
    vae_graph *empty = NULL;
    assert_int_equal(vae_graph_new(&empty), VAE_OK);
    vae_graph *two_inputs = graph3();
    const int64_t dims[1] = {3};
    assert_true(vae_graph_input(two_inputs, dims, 1) < 0);

    expect_new_fails(NULL, dec, L, VAE_LIKELIHOOD_BERNOULLI,
                     VAE_ERR_INVALID_ARG);
    expect_new_fails(enc, NULL, L, VAE_LIKELIHOOD_BERNOULLI,
                     VAE_ERR_INVALID_ARG);
    expect_new_fails(enc, dec, 0, VAE_LIKELIHOOD_BERNOULLI, VAE_ERR_RANGE);
    expect_new_fails(enc, dec, -2, VAE_LIKELIHOOD_BERNOULLI, VAE_ERR_RANGE);
    const int32_t bad_lik[] = {0, 5, -1, 1000};
    for (int i = 0; i < TU_COUNT(bad_lik); i++)
        expect_new_fails(enc, dec, L, bad_lik[i], VAE_ERR_INVALID_ARG);
    /* Gaussian learned needs 2D outputs; this decoder has D. */
    expect_new_fails(enc, dec, L, VAE_LIKELIHOOD_GAUSSIAN_LEARNED,
                     VAE_ERR_SHAPE);
    expect_new_fails(enc, dec_wide, L, VAE_LIKELIHOOD_BERNOULLI, VAE_ERR_SHAPE);
    expect_new_fails(enc, dec_l3, L, VAE_LIKELIHOOD_BERNOULLI, VAE_ERR_SHAPE);
    expect_new_fails(enc_d5, dec, L, VAE_LIKELIHOOD_BERNOULLI, VAE_ERR_SHAPE);
    expect_new_fails(no_out, dec, L, VAE_LIKELIHOOD_BERNOULLI, VAE_ERR_GRAPH);
    expect_new_fails(enc, no_out, L, VAE_LIKELIHOOD_BERNOULLI, VAE_ERR_GRAPH);
    expect_new_fails(empty, dec, L, VAE_LIKELIHOOD_BERNOULLI, VAE_ERR_GRAPH);
    expect_new_fails(two_inputs, dec, L, VAE_LIKELIHOOD_BERNOULLI,
                     VAE_ERR_GRAPH);

    /* NULL out: nothing to return the model through. */
    char err[256] = "";
    assert_int_equal(vae_model_new(enc, dec, L, VAE_LIKELIHOOD_BERNOULLI, 1,
                                   NULL, err, sizeof err),
                     VAE_ERR_INVALID_ARG);
    assert_true(err[0] != '\0');

    /* A short error buffer gets a truncated, terminated message; a zero
     * length one is not written at all. */
    vae_model *m = NULL;
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(vae_model_new(enc, dec, 0, VAE_LIKELIHOOD_BERNOULLI, 1,
                                   &m, small, sizeof small),
                     VAE_ERR_RANGE);
    assert_non_null(memchr(small, '\0', sizeof small));
    assert_true(strlen(small) > 0);
    memset(small, 'x', sizeof small);
    assert_int_equal(vae_model_new(enc, dec, 0, VAE_LIKELIHOOD_BERNOULLI, 1,
                                   &m, small, 0),
                     VAE_ERR_RANGE);
    for (size_t i = 0; i < sizeof small; i++)
        assert_true(small[i] == 'x');

    /* The graphs were only read: they still make a model. */
    assert_int_equal(vae_model_new(enc, dec, L, VAE_LIKELIHOOD_BERNOULLI, 1,
                                   &m, NULL, 0),
                     VAE_OK);
    vae_model_free(m);

    vae_graph *all[] = {enc, dec, dec_wide, dec_l3, enc_d5, no_out, empty,
                        two_inputs};
    for (int i = 0; i < TU_COUNT(all); i++)
        vae_graph_free(all[i]);
}

static void test_model_null(void **state)
{
    (void)state;
    float x[B * D], out[B * D], z[B * L];
    data(x, B * D);
    memset(z, 0, sizeof z);
    double v;
    assert_non_null(vae_model_last_error(NULL));
    assert_int_equal(vae_model_set_seed(NULL, 1), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_set_beta(NULL, 1.0), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_set_free_bits(NULL, 0.0), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_set_obs_logvar(NULL, 0.0), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_data_size(NULL), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_latent_dim(NULL), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_num_params(NULL), VAE_ERR_INVALID_ARG);
    assert_null(vae_model_params(NULL));
    assert_null(vae_model_grads(NULL));
    assert_int_equal(vae_model_zero_grad(NULL), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_scale_grad(NULL, 1.0), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_elbo(NULL, x, B, &v, &v, &v),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_elbo_grad(NULL, x, B, &v, &v, &v),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_encode(NULL, x, B, z, z), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_decode(NULL, z, B, out), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_sample(NULL, B, z, out), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_reconstruct(NULL, x, B, out),
                     VAE_ERR_INVALID_ARG);
}

/* Bad arguments to a working model: errors with messages, nothing changed,
 * and afterwards the model computes exactly what it computed before. */
static void test_model_bad_args(void **state)
{
    (void)state;
    vae_model *m = bernoulli_model();
    int64_t n = vae_model_num_params(m);
    float x[B * D], out[B * D], mu[B * L], z[B * L];
    data(x, B * D);
    memset(z, 0, sizeof z);
    double e0, r0, k0;
    assert_int_equal(vae_model_set_seed(m, 5), VAE_OK);
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, x, B, &e0, &r0, &k0), VAE_OK);
    float *p0 = tu_dup(vae_model_params(m), n);
    float *g0 = tu_dup(vae_model_grads(m), n);

    const double bad_settings[] = {-1.0, -1e-9, NAN, INFINITY, -INFINITY};
    for (int i = 0; i < TU_COUNT(bad_settings); i++) {
        EXPECT_MODEL_ERR(m, VAE_ERR_RANGE,
                         vae_model_set_beta(m, bad_settings[i]));
        EXPECT_MODEL_ERR(m, VAE_ERR_RANGE,
                         vae_model_set_free_bits(m, bad_settings[i]));
    }
    EXPECT_MODEL_ERR(m, VAE_ERR_RANGE, vae_model_set_obs_logvar(m, NAN));
    EXPECT_MODEL_ERR(m, VAE_ERR_RANGE, vae_model_set_obs_logvar(m, INFINITY));
    EXPECT_MODEL_ERR(m, VAE_ERR_NONFINITE, vae_model_scale_grad(m, NAN));
    EXPECT_MODEL_ERR(m, VAE_ERR_NONFINITE, vae_model_scale_grad(m, -INFINITY));
    assert_memory_equal(vae_model_grads(m), g0, (size_t)n * sizeof(float));

    const int64_t bad_batch[] = {0, -1, INT64_MIN};
    for (int i = 0; i < TU_COUNT(bad_batch); i++) {
        int64_t bb = bad_batch[i];
        EXPECT_MODEL_ERR(m, VAE_ERR_RANGE, vae_model_elbo(m, x, bb, 0, 0, 0));
        EXPECT_MODEL_ERR(m, VAE_ERR_RANGE,
                         vae_model_elbo_grad(m, x, bb, 0, 0, 0));
        EXPECT_MODEL_ERR(m, VAE_ERR_RANGE, vae_model_encode(m, x, bb, mu, 0));
        EXPECT_MODEL_ERR(m, VAE_ERR_RANGE, vae_model_decode(m, z, bb, out));
        EXPECT_MODEL_ERR(m, VAE_ERR_RANGE, vae_model_sample(m, bb, z, out));
        EXPECT_MODEL_ERR(m, VAE_ERR_RANGE, vae_model_reconstruct(m, x, bb, out));
    }
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG, vae_model_elbo(m, NULL, B, 0, 0, 0));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_elbo_grad(m, NULL, B, 0, 0, 0));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG, vae_model_encode(m, NULL, B, mu, 0));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG, vae_model_encode(m, x, B, NULL, 0));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG, vae_model_decode(m, NULL, B, out));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG, vae_model_decode(m, z, B, NULL));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG, vae_model_sample(m, B, z, NULL));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_reconstruct(m, NULL, B, out));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_reconstruct(m, x, B, NULL));

    /* Non-finite data anywhere in the batch, and Bernoulli targets outside
     * [0, 1]: rejected by every call that reads x. */
    const float bad_x[] = {NAN, INFINITY, -INFINITY, 1.5f, -0.1f};
    const int32_t bad_code[] = {VAE_ERR_NONFINITE, VAE_ERR_NONFINITE,
                                VAE_ERR_NONFINITE, VAE_ERR_RANGE,
                                VAE_ERR_RANGE};
    for (int i = 0; i < TU_COUNT(bad_x); i++) {
        float xb[B * D];
        memcpy(xb, x, sizeof xb);
        xb[B * D - 2] = bad_x[i];
        EXPECT_MODEL_ERR(m, bad_code[i], vae_model_elbo(m, xb, B, 0, 0, 0));
        EXPECT_MODEL_ERR(m, bad_code[i],
                         vae_model_elbo_grad(m, xb, B, 0, 0, 0));
        EXPECT_MODEL_ERR(m, bad_code[i], vae_model_encode(m, xb, B, mu, 0));
        EXPECT_MODEL_ERR(m, bad_code[i],
                         vae_model_reconstruct(m, xb, B, out));
    }
    float zb[B * L];
    memcpy(zb, z, sizeof zb);
    zb[1] = NAN;
    EXPECT_MODEL_ERR(m, VAE_ERR_NONFINITE, vae_model_decode(m, zb, B, out));

    assert_memory_equal(vae_model_params(m), p0, (size_t)n * sizeof(float));
    assert_memory_equal(vae_model_grads(m), g0, (size_t)n * sizeof(float));
    /* Settings were not changed by the failed setters either: same seed,
     * same numbers as before all the errors. */
    double e1, r1, k1;
    assert_int_equal(vae_model_set_seed(m, 5), VAE_OK);
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, x, B, &e1, &r1, &k1), VAE_OK);
    assert_true(e1 == e0 && r1 == r0 && k1 == k0);
    assert_memory_equal(vae_model_grads(m), g0, (size_t)n * sizeof(float));
    free(p0);
    free(g0);
    vae_model_free(m);
}

static void test_adam_errors(void **state)
{
    (void)state;
    vae_model *m = bernoulli_model();
    int64_t n = vae_model_num_params(m);
    vae_adam *o = NULL;
    char err[256] = "";

    assert_int_equal(vae_adam_new(NULL, 1e-3, &o, err, sizeof err),
                     VAE_ERR_INVALID_ARG);
    assert_null(o);
    assert_true(err[0] != '\0');
    assert_int_equal(vae_adam_new(m, 1e-3, NULL, NULL, 0), VAE_ERR_INVALID_ARG);
    const double bad_lr[] = {0.0, -1e-3, NAN, INFINITY};
    for (int i = 0; i < TU_COUNT(bad_lr); i++) {
        err[0] = '\0';
        assert_int_equal(vae_adam_new(m, bad_lr[i], &o, err, sizeof err),
                         VAE_ERR_RANGE);
        assert_null(o);
        assert_true(err[0] != '\0');
    }

    assert_non_null(vae_adam_last_error(NULL));
    assert_int_equal(vae_adam_set_lr(NULL, 1e-3), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_adam_set_betas(NULL, 0.9, 0.999, 1e-8),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_adam_set_weight_decay(NULL, 0.0, 0),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_adam_set_clip_norm(NULL, 0.0), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_adam_steps(NULL), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_adam_step(NULL, m), VAE_ERR_INVALID_ARG);

    const double lr = 0.125;
    assert_int_equal(vae_adam_new(m, lr, &o, NULL, 0), VAE_OK);
    assert_string_equal(vae_adam_last_error(o), "");
    for (int i = 0; i < TU_COUNT(bad_lr); i++)
        EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_lr(o, bad_lr[i]));
    EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_betas(o, 1.0, 0.999, 1e-8));
    EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_betas(o, -0.1, 0.999, 1e-8));
    EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_betas(o, 0.9, 1.0, 1e-8));
    EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_betas(o, 0.9, 0.999, 0.0));
    EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_betas(o, NAN, 0.999, 1e-8));
    EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_weight_decay(o, -0.1, 0));
    EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_weight_decay(o, NAN, 1));
    /* decoupled is a 0/1 switch; 2 is rejected (as a range or an argument
     * error: the header does not pin which). */
    int32_t st = vae_adam_set_weight_decay(o, 0.1, 2);
    assert_true(st == VAE_ERR_RANGE || st == VAE_ERR_INVALID_ARG);
    EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_clip_norm(o, -1.0));
    EXPECT_ADAM_ERR(o, VAE_ERR_RANGE, vae_adam_set_clip_norm(o, NAN));
    EXPECT_ADAM_ERR(o, VAE_ERR_INVALID_ARG, vae_adam_step(o, NULL));

    /* An optimizer made for another model (different parameter count). */
    const tu_layer enc2[] = {TU_DENSE(7)};
    vae_model *other = tu_model(D, enc2, 1, L, DEC, TU_COUNT(DEC),
                                VAE_LIKELIHOOD_BERNOULLI, 1);
    assert_int_not_equal(vae_model_num_params(other), n);
    float *po = tu_dup(vae_model_params(other), vae_model_num_params(other));
    EXPECT_ADAM_ERR(o, VAE_ERR_SHAPE, vae_adam_step(o, other));
    assert_memory_equal(vae_model_params(other), po,
                        (size_t)vae_model_num_params(other) * sizeof(float));
    assert_int_equal(vae_adam_steps(o), 0);

    /* train_step's own argument checks report on the model. */
    float x[B * D];
    data(x, B * D);
    assert_int_equal(vae_model_train_step(NULL, o, x, B, 0, 0, 0),
                     VAE_ERR_INVALID_ARG);
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_train_step(m, NULL, x, B, 0, 0, 0));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_train_step(m, o, NULL, B, 0, 0, 0));
    EXPECT_MODEL_ERR(m, VAE_ERR_RANGE,
                     vae_model_train_step(m, o, x, 0, 0, 0, 0));
    EXPECT_MODEL_ERR(other, VAE_ERR_SHAPE,
                     vae_model_train_step(other, o, x, B, 0, 0, 0));
    assert_int_equal(vae_adam_steps(o), 0);

    /* None of the failed setters took effect: the first Adam step moves
     * each parameter by lr * g / (|g| + eps) = lr (to 1e-7 here), with the
     * original lr, and without decay or clipping. */
    float *p0 = tu_dup(vae_model_params(m), n);
    float *g = vae_model_grads(m);
    for (int64_t i = 0; i < n; i++)
        g[i] = (i % 3) ? 2.0f : -0.5f;
    assert_int_equal(vae_adam_step(o, m), VAE_OK);
    for (int64_t i = 0; i < n; i++)
        TU_ASSERT_CLOSE((double)p0[i] - vae_model_params(m)[i],
                        (i % 3) ? lr : -lr, 2e-6, "step after failed setters");
    assert_int_equal(vae_adam_steps(o), 1);

    free(p0);
    free(po);
    vae_model_free(other);
    vae_adam_free(o);
    vae_model_free(m);
}

static void test_io_args(void **state)
{
    (void)state;
    vae_model *m = bernoulli_model(), *out = NULL;
    vae_adam *opt = NULL;
    size_t size = 0, written = 0;
    char err[256] = "";
    unsigned char small[16];

    assert_int_equal(vae_model_save(NULL, NULL, "x.vae"), VAE_ERR_INVALID_ARG);
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG, vae_model_save(m, NULL, NULL));
    assert_int_equal(vae_model_save_size(NULL, NULL, &size),
                     VAE_ERR_INVALID_ARG);
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG, vae_model_save_size(m, NULL, NULL));
    assert_int_equal(vae_model_save_to_buffer(NULL, NULL, small, sizeof small,
                                              &written),
                     VAE_ERR_INVALID_ARG);
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_save_to_buffer(m, NULL, NULL, 0, &written));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_save_to_buffer(m, NULL, small, sizeof small,
                                              NULL));
    /* Capacity below the size query. */
    assert_int_equal(vae_model_save_size(m, NULL, &size), VAE_OK);
    assert_true(size > sizeof small);
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_save_to_buffer(m, NULL, small, sizeof small,
                                              &written));

    assert_int_equal(vae_model_load(NULL, &out, &opt, err, sizeof err),
                     VAE_ERR_INVALID_ARG);
    assert_null(out);
    assert_true(err[0] != '\0');
    assert_int_equal(vae_model_load("x.vae", NULL, NULL, NULL, 0),
                     VAE_ERR_INVALID_ARG);
    err[0] = '\0';
    assert_int_equal(vae_model_load("/nonexistent-dir/none.vae", &out, &opt,
                                    err, sizeof err),
                     VAE_ERR_IO);
    assert_null(out);
    assert_null(opt);
    assert_true(err[0] != '\0');
    assert_int_equal(vae_model_load_from_buffer(NULL, 100, &out, NULL, err,
                                                sizeof err),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_load_from_buffer(small, sizeof small, NULL,
                                                NULL, NULL, 0),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_save(m, NULL, "/nonexistent-dir/none.vae"),
                     VAE_ERR_IO);
    vae_model_free(m);
}

static void test_model_extras(void **state)
{
    (void)state;
    const tu_layer enc[] = {TU_DENSE(4)};
    const tu_layer dec[] = {TU_DENSE(6)};
    vae_model *m = tu_model(6, enc, 1, 2, dec, 1, VAE_LIKELIHOOD_BERNOULLI, 1);
    int64_t dims[4] = {0};
    float u[64];

    assert_int_equal(vae_model_data_shape(NULL, dims, 4), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_data_shape(m, NULL, 1), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_data_shape(m, dims, -1), VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_data_shape(m, NULL, 0), 1);
    assert_int_equal(vae_model_data_shape(m, dims, 4), 1);
    assert_int_equal(dims[0], 6);

    assert_int_equal(vae_model_random_uniform(NULL, 4, u), VAE_ERR_INVALID_ARG);
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG, vae_model_random_uniform(m, 4, NULL));
    EXPECT_MODEL_ERR(m, VAE_ERR_RANGE, vae_model_random_uniform(m, -1, u));
    assert_int_equal(vae_model_random_uniform(m, 0, u), VAE_OK);
    assert_int_equal(vae_model_random_uniform(m, 64, u), VAE_OK);
    for (int i = 0; i < 64; i++)
        assert_true(u[i] >= 0.0f && u[i] < 1.0f);

    /* log p(x|z): every buffer checked, z finite, x within the
     * likelihood's range. */
    float z[2 * 2] = {0.1f, -0.2f, 0.3f, 0.4f}, x[2 * 6] = {0};
    double lp[2];
    assert_int_equal(vae_model_log_likelihood(NULL, z, x, 2, lp),
                     VAE_ERR_INVALID_ARG);
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_log_likelihood(m, NULL, x, 2, lp));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_log_likelihood(m, z, NULL, 2, lp));
    EXPECT_MODEL_ERR(m, VAE_ERR_INVALID_ARG,
                     vae_model_log_likelihood(m, z, x, 2, NULL));
    EXPECT_MODEL_ERR(m, VAE_ERR_RANGE,
                     vae_model_log_likelihood(m, z, x, 0, lp));
    x[3] = 2.0f;
    EXPECT_MODEL_ERR(m, VAE_ERR_RANGE,
                     vae_model_log_likelihood(m, z, x, 2, lp));
    x[3] = 0.0f;
    z[1] = NAN;
    EXPECT_MODEL_ERR(m, VAE_ERR_NONFINITE,
                     vae_model_log_likelihood(m, z, x, 2, lp));
    z[1] = 0.0f;
    assert_int_equal(vae_model_log_likelihood(m, z, x, 2, lp), VAE_OK);
    assert_true(isfinite(lp[0]) && lp[0] < 0.0);

    assert_int_equal(vae_set_num_threads(0), VAE_ERR_RANGE);
    assert_int_equal(vae_set_num_threads(-3), VAE_ERR_RANGE);
    int32_t before = vae_get_num_threads();
    assert_true(before >= 1);
    assert_int_equal(vae_set_num_threads(1), VAE_OK);
    assert_int_equal(vae_get_num_threads(), 1);
    assert_int_equal(vae_set_num_threads(before), VAE_OK);
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_graph_null),
        cmocka_unit_test(test_graph_bad_args),
        cmocka_unit_test(test_sticky),
        cmocka_unit_test(test_model_new_errors),
        cmocka_unit_test(test_model_null),
        cmocka_unit_test(test_model_bad_args),
        cmocka_unit_test(test_adam_errors),
        cmocka_unit_test(test_io_args),
        cmocka_unit_test(test_model_extras),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
