/* Sequence models end to end: a tiny Bowman-style text VAE (embedding +
 * LSTM encoder; teacher-forced LSTM decoder started from z, sharing the
 * encoder's embedding) and the write-up's "seed" decoder (repeat z + LSTM).
 * Checks the full ELBO gradient against finite differences, that
 * incremental generation agrees with the teacher-forced decoder (greedy
 * step by step, beam search against exhaustive search), that it costs one
 * decoder step per token, word dropout, save/load, and the error paths. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h" /* VAE_LOG_2PI */
#include "testutil.h"

enum { B = 3, T = 5, E = 4, H = 5, L = 3 };
#define BOS 1.0f
#define UNK 3.0f

typedef struct text_cfg {
    int64_t vocab;
    int shared;    /* decoder uses the encoder's embedding table */
    float dropout; /* word dropout rate on the decoder input */
    int64_t latent; /* 0: L */
} text_cfg;

static int64_t latent_of(const text_cfg *c) { return c->latent ? c->latent : L; }

static vae_graph *encoder(int64_t vocab)
{
    vae_graph *g;
    const int64_t t = T;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    int32_t x = vae_graph_input(g, &t, 1);
    int32_t e = vae_graph_embedding(g, x, vocab, E);
    int32_t h = vae_graph_lstm(g, e, H, -1, x, 0);
    vae_graph_set_output(g, h);
    if (vae_graph_status(g) != VAE_OK)
        fail_msg("encoder: %s", vae_graph_last_error(g));
    return g;
}

/* z -> (h0, c0); input at step t: [embed(x_{t-1}); z]. */
static vae_graph *bowman_decoder(const text_cfg *c)
{
    vae_graph *g;
    const int64_t l = latent_of(c), t = T;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    int32_t z = vae_graph_input(g, &l, 1);
    int32_t x = vae_graph_data(g, &t, 1);
    int32_t in = vae_graph_shift_right(g, x, BOS);
    in = vae_graph_token_dropout(g, in, c->dropout, UNK);
    int32_t e = c->shared ? vae_graph_embedding_shared(g, in, c->vocab, E)
                          : vae_graph_embedding(g, in, c->vocab, E);
    int32_t zs = vae_graph_repeat(g, z, T);
    int32_t cat = vae_graph_concat(g, e, zs);
    int32_t init = vae_graph_tanh(g, vae_graph_dense(g, z, 2 * H));
    int32_t h = vae_graph_lstm(g, cat, H, init, x, 1);
    vae_graph_set_output(g, vae_graph_dense(g, h, c->vocab));
    if (vae_graph_status(g) != VAE_OK)
        fail_msg("decoder: %s", vae_graph_last_error(g));
    return g;
}

/* The write-up's decoder made valid: dense(z) repeated T times -> LSTM. */
static vae_graph *seed_decoder(int64_t vocab)
{
    vae_graph *g;
    const int64_t l = L;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    int32_t z = vae_graph_input(g, &l, 1);
    int32_t r = vae_graph_repeat(g, vae_graph_dense(g, z, E), T);
    int32_t h = vae_graph_lstm(g, r, H, -1, -1, 1);
    vae_graph_set_output(g, vae_graph_dense(g, h, vocab));
    if (vae_graph_status(g) != VAE_OK)
        fail_msg("seed decoder: %s", vae_graph_last_error(g));
    return g;
}

static vae_model *build(vae_graph *enc, vae_graph *dec, int64_t latent,
                        uint64_t seed)
{
    vae_model *m = NULL;
    char err[256] = "";
    int32_t st = vae_model_new(enc, dec, latent, VAE_LIKELIHOOD_CATEGORICAL,
                               seed, &m, err, sizeof err);
    vae_graph_free(enc);
    vae_graph_free(dec);
    if (st != VAE_OK)
        fail_msg("vae_model_new: %s", err);
    return m;
}

static vae_model *bowman(const text_cfg *c, uint64_t seed)
{
    return build(encoder(c->vocab), bowman_decoder(c), latent_of(c), seed);
}

/* Sentences of ids in [3, vocab) ending in 2 (eos), padded with 0, of
 * lengths 5, 3 and 1 tokens (so every example pads differently). */
static void sentences(float *x, int64_t vocab)
{
    static const int len[B] = {5, 3, 1};
    tu_rng r;
    tu_seed(&r, 4);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            x[b * T + t] = t < len[b] - 1
                               ? (float)(3 + (int)tu_uniform(&r, 0, vocab - 3))
                               : t == len[b] - 1 ? 2.0f : 0.0f;
}

/* -ELBO summed over the batch with the same z draws every time. */
static double loss(vae_model *m, const float *x)
{
    double elbo;
    assert_int_equal(vae_model_set_seed(m, 11), VAE_OK);
    assert_int_equal(vae_model_elbo(m, x, B, &elbo, NULL, NULL), VAE_OK);
    return -B * elbo;
}

/* Every parameter of the whole model (both LSTMs, the shared table, the
 * head) against central differences of the ELBO. */
static void test_elbo_gradient(void **state)
{
    (void)state;
    const text_cfg c = {9, 1, 0.0f, 0};
    vae_model *m = bowman(&c, 3);
    float x[B * T];
    sentences(x, c.vocab);
    double worst = tu_check_model_grads(m, x, B, 11, 1e-2f, 2e-2);
    print_message("text VAE: %lld parameters, worst relative FD error %.2e\n",
                  (long long)vae_model_num_params(m), worst);
    vae_model_free(m);
}

/* The importance-weighted objective repeats each sentence once per sample
 * for the teacher-forced decoder: the same check with k = 2. */
static void test_weighted_gradient(void **state)
{
    (void)state;
    const text_cfg c = {9, 1, 0.0f, 0};
    vae_model *m = bowman(&c, 3);
    float x[B * T];
    sentences(x, c.vocab);
    assert_int_equal(vae_model_set_train_samples(m, 2), VAE_OK);
    double worst = tu_check_model_grads(m, x, B, 11, 1e-2f, 2e-2);
    print_message("text VAE, k = 2: worst relative FD error %.2e\n", worst);
    vae_model_free(m);
}

/* The logits go through a chunk of examples at a time when they are large
 * (model.c's out_chunk); forced to chunks of 2 of the 3 sentences, every
 * result matches the model in one piece, and the chunked gradients (one
 * pass, and two passes for k = 2) match finite differences. */
static void test_output_chunks(void **state)
{
    (void)state;
    const text_cfg c = {9, 1, 0.0f, 0};
    vae_model *whole = bowman(&c, 3), *chunked = bowman(&c, 3);
    float x[B * T];
    sentences(x, c.vocab);
    tu_check_out_chunks(whole, chunked, x, B, 2);
    double worst = tu_check_model_grads(chunked, x, B, 11, 1e-2f, 2e-2);
    assert_int_equal(vae_model_set_train_samples(chunked, 2), VAE_OK);
    worst = fmax(worst, tu_check_model_grads(chunked, x, B, 11, 1e-2f, 2e-2));
    print_message("chunked logits: worst relative FD error %.2e\n", worst);
    vae_model_free(whole);
    vae_model_free(chunked);
}

/* One table serves both: the shared model has vocab x E fewer parameters,
 * and the same init otherwise leaves it a different model (the decoder
 * reads the encoder's vectors). */
static void test_shared_embedding(void **state)
{
    (void)state;
    const text_cfg own = {9, 0, 0.0f, 0}, shared = {9, 1, 0.0f, 0};
    vae_model *a = bowman(&own, 3), *b = bowman(&shared, 3);
    assert_int_equal(vae_model_num_params(a),
                     vae_model_num_params(b) + own.vocab * E);
    vae_model_free(a);
    vae_model_free(b);
}

/* log p(prefix | z) from the teacher-forced decoder: the prefix followed
 * by padding, which adds nothing. */
static double prefix_logp(vae_model *m, const float *z, const float *y,
                          int len)
{
    float x[T] = {0};
    double lp;
    memcpy(x, y, (size_t)len * sizeof *x);
    assert_int_equal(vae_model_log_likelihood(m, z, x, 1, &lp), VAE_OK);
    return lp;
}

/* Greedy generation picks, at every step, the id that maximises the
 * teacher-forced log-probability of the prefix so far: the incremental
 * decoder and the full one compute the same distribution. */
static void test_greedy_matches_teacher_forcing(void **state)
{
    (void)state;
    const text_cfg c = {6, 1, 0.0f, 0};
    vae_model *m = bowman(&c, 5);
    float z[L] = {0.7f, -1.2f, 0.4f}, y[T];
    int64_t steps = -1;
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_GREEDY, 1.0, 0, 0,
                                        -1, T, y, &steps),
                     VAE_OK);
    assert_int_equal(steps, T);
    for (int t = 0; t < T; t++) {
        float cand[T];
        memcpy(cand, y, sizeof cand);
        double best = -INFINITY;
        int arg = -1;
        for (int v = 1; v < c.vocab; v++) {
            cand[t] = (float)v;
            double lp = prefix_logp(m, z, cand, t + 1);
            if (lp > best) {
                best = lp;
                arg = v;
            }
        }
        assert_int_equal((int)y[t], arg);
    }
    /* top-k with k = 1 is greedy whatever the temperature. */
    float y1[T];
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_TOP_K, 2.0, 1, 0,
                                        -1, T, y1, NULL),
                     VAE_OK);
    assert_memory_equal(y, y1, sizeof y);
    vae_model_free(m);
}

/* Beam search wide enough to keep every prefix finds the most probable of
 * all (vocab - 1)^3 sequences, scored by the teacher-forced decoder. */
static void test_beam_is_exhaustive_when_wide(void **state)
{
    (void)state;
    enum { N = 3 };
    const text_cfg c = {4, 1, 0.0f, 0};
    const int64_t ids = c.vocab - 1;
    vae_model *m = bowman(&c, 8);
    float z[2 * L] = {0.3f, 0.9f, -0.5f, -1.5f, 0.2f, 1.1f};
    float got[2 * N];
    assert_int_equal(vae_model_generate(m, z, 2, VAE_DECODE_BEAM, 1.0, 0,
                                        ids * ids, -1, N, got, NULL),
                     VAE_OK);
    for (int e = 0; e < 2; e++) {
        double best = -INFINITY;
        float arg[N] = {0};
        for (int64_t s = 0; s < ids * ids * ids; s++) {
            float y[N] = {(float)(1 + s % ids), (float)(1 + s / ids % ids),
                          (float)(1 + s / (ids * ids))};
            double lp = prefix_logp(m, z + e * L, y, N);
            if (lp > best) {
                best = lp;
                memcpy(arg, y, sizeof arg);
            }
        }
        assert_memory_equal(got + e * N, arg, sizeof arg);
    }
    vae_model_free(m);
}

/* One decoder step per generated token, whatever the mode: the cost of T
 * tokens is T steps (never 1 + 2 + ... + T). With an eos the run stops as
 * soon as every sequence has ended, and pads after it. */
static void test_steps_are_linear(void **state)
{
    (void)state;
    const text_cfg c = {9, 1, 0.0f, 0};
    vae_model *m = bowman(&c, 2);
    float z[2 * L] = {0.1f, 0.2f, -0.3f, 1.0f, -1.0f, 0.5f};
    float *out = tu_alloc(2 * 64 * sizeof *out);
    const int32_t modes[] = {VAE_DECODE_GREEDY, VAE_DECODE_SAMPLE,
                             VAE_DECODE_TOP_K, VAE_DECODE_BEAM};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
        for (int64_t len = 1; len <= 64; len *= 4) {
            int64_t steps = -1;
            assert_int_equal(vae_model_generate(m, z, 2, modes[i], 0.8, 3, 4,
                                                -1, len, out, &steps),
                             VAE_OK);
            assert_int_equal(steps, len);
            for (int64_t k = 0; k < 2 * len; k++)
                assert_true(out[k] >= 1.0f && out[k] < (float)c.vocab);
        }
    /* Stop at the first eos: use the id greedy decoding emits first. */
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_GREEDY, 1.0, 0, 0,
                                        -1, 8, out, NULL),
                     VAE_OK);
    int64_t eos = (int64_t)out[0], steps = -1;
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_GREEDY, 1.0, 0, 0,
                                        eos, 8, out, &steps),
                     VAE_OK);
    assert_int_equal(steps, 1);
    assert_true(out[0] == (float)eos);
    for (int k = 1; k < 8; k++)
        assert_true(out[k] == 0.0f);
    free(out);
    vae_model_free(m);
}

/* Sampling draws from the model's generator: the same seed repeats. */
static void test_sampling_is_seeded(void **state)
{
    (void)state;
    const text_cfg c = {9, 1, 0.0f, 0};
    vae_model *m = bowman(&c, 2);
    float z[L] = {0.1f, 0.2f, -0.3f}, a[16], b[16], d[16];
    assert_int_equal(vae_model_set_seed(m, 5), VAE_OK);
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_SAMPLE, 5.0, 0, 0,
                                        -1, 16, a, NULL),
                     VAE_OK);
    assert_int_equal(vae_model_set_seed(m, 5), VAE_OK);
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_SAMPLE, 5.0, 0, 0,
                                        -1, 16, b, NULL),
                     VAE_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(vae_model_set_seed(m, 6), VAE_OK);
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_SAMPLE, 5.0, 0, 0,
                                        -1, 16, d, NULL),
                     VAE_OK);
    assert_memory_not_equal(a, d, sizeof a);
    vae_model_free(m);
}

/* The seed decoder ignores the data, so decode runs it in one pass;
 * generating one step at a time must give the same ids. */
static void test_seed_decoder(void **state)
{
    (void)state;
    vae_model *m = build(encoder(7), seed_decoder(7), L, 4);
    float z[2 * L] = {0.5f, -0.5f, 1.5f, -2.0f, 0.0f, 0.7f};
    float dec[2 * T], gen[2 * T];
    assert_int_equal(vae_model_decode(m, z, 2, dec), VAE_OK);
    assert_int_equal(vae_model_generate(m, z, 2, VAE_DECODE_GREEDY, 1.0, 0, 0,
                                        -1, T, gen, NULL),
                     VAE_OK);
    /* Greedy never emits the padding id the full decode may pick; compare
     * where the full decode's mode is a real id. */
    for (int k = 0; k < 2 * T; k++)
        if (dec[k] != 0.0f)
            assert_true(dec[k] == gen[k]);
    float x[B * T];
    sentences(x, 7);
    double elbo;
    assert_int_equal(vae_model_elbo(m, x, B, &elbo, NULL, NULL), VAE_OK);
    assert_true(isfinite(elbo) && elbo < 0.0);
    vae_model_free(m);
}

/* With one latent dimension, log p(x) = log integral p(x|z) N(z; 0, 1) dz
 * can be computed by quadrature from the decoder alone
 * (vae_model_log_likelihood on a grid of z); the importance-weighted
 * estimate with many samples must agree with it, and the ELBO must lie
 * below it. */
static void test_iwae_matches_quadrature(void **state)
{
    (void)state;
    enum { GRID = 1601 };
    const text_cfg c = {9, 1, 0.0f, 1};
    vae_model *m = bowman(&c, 6);
    float x[B * T];
    sentences(x, c.vocab);
    const double lo = -8.0, dz = 16.0 / (GRID - 1);
    float *z = tu_alloc(GRID * sizeof *z);
    float *xs = tu_alloc((size_t)GRID * T * sizeof *xs);
    double *lp = tu_alloc(GRID * sizeof *lp);
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < GRID; i++) {
            z[i] = (float)(lo + i * dz);
            memcpy(xs + (size_t)i * T, x + b * T, T * sizeof *xs);
        }
        assert_int_equal(vae_model_log_likelihood(m, z, xs, GRID, lp), VAE_OK);
        double mx = -INFINITY, sum = 0.0;
        for (int i = 0; i < GRID; i++) {
            double zi = z[i];
            lp[i] += -0.5 * zi * zi - 0.5 * VAE_LOG_2PI + log(dz);
            mx = fmax(mx, lp[i]);
        }
        for (int i = 0; i < GRID; i++)
            sum += exp(lp[i] - mx);
        double exact = mx + log(sum), iwae, elbo;
        assert_int_equal(vae_model_iwae(m, x + b * T, 1, 20000, &iwae), VAE_OK);
        /* The ELBO is a bound in expectation; one draw can land above
         * log p(x), the mean over the GRID copies does not. */
        assert_int_equal(vae_model_elbo(m, xs, GRID, &elbo, NULL, NULL),
                         VAE_OK);
        print_message("sentence %d: log p(x) by quadrature %.4f, IWAE-20000 "
                      "%.4f, ELBO %.4f\n", b, exact, iwae, elbo);
        assert_true(fabs(iwae - exact) < 0.02);
        assert_true(elbo < exact);
    }
    free(z);
    free(xs);
    free(lp);
    vae_model_free(m);
}

/* Word dropout acts only while gradients are computed: elbo() matches a
 * model without dropout, elbo_grad() does not. */
static void test_word_dropout(void **state)
{
    (void)state;
    const text_cfg plain = {9, 1, 0.0f, 0}, drop = {9, 1, 0.9f, 0};
    vae_model *a = bowman(&plain, 3), *b = bowman(&drop, 3);
    float x[B * T];
    sentences(x, 9);
    assert_true(loss(a, x) == loss(b, x));
    double ea, eb;
    assert_int_equal(vae_model_set_seed(a, 11), VAE_OK);
    assert_int_equal(vae_model_set_seed(b, 11), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(a, x, B, &ea, NULL, NULL), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(b, x, B, &eb, NULL, NULL), VAE_OK);
    assert_true(ea != eb);
    vae_model_free(a);
    vae_model_free(b);
}

/* A text model saves and loads like any other: same ELBO after. */
static void test_save_load(void **state)
{
    (void)state;
    const text_cfg c = {9, 1, 0.25f, 0};
    vae_model *m = bowman(&c, 3), *back = NULL;
    float x[B * T];
    sentences(x, 9);
    size_t size = 0;
    assert_int_equal(vae_model_save_size(m, NULL, &size), VAE_OK);
    unsigned char *buf = tu_alloc(size);
    assert_int_equal(vae_model_save_to_buffer(m, NULL, buf, size, &size),
                     VAE_OK);
    char err[256];
    assert_int_equal(vae_model_load_from_buffer(buf, size, &back, NULL, err,
                                                sizeof err),
                     VAE_OK);
    assert_true(loss(m, x) == loss(back, x));
    free(buf);
    vae_model_free(m);
    vae_model_free(back);
}

static void test_errors(void **state)
{
    (void)state;
    const text_cfg c = {9, 1, 0.0f, 0};
    vae_model *m = bowman(&c, 3);
    float x[B * T], z[L] = {0}, out[T];
    sentences(x, 9);
    x[2] = 9.0f; /* = vocab: out of range */
    assert_int_equal(vae_model_elbo(m, x, B, NULL, NULL, NULL), VAE_ERR_RANGE);
    assert_non_null(strstr(vae_model_last_error(m), "token id"));
    x[2] = 2.5f;
    assert_int_equal(vae_model_elbo(m, x, B, NULL, NULL, NULL), VAE_ERR_RANGE);
    assert_int_equal(vae_model_generate(m, z, 1, 0, 1.0, 1, 1, -1, T, out,
                                        NULL),
                     VAE_ERR_INVALID_ARG);
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_SAMPLE, 0.0, 1, 1,
                                        -1, T, out, NULL),
                     VAE_ERR_RANGE);
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_TOP_K, 1.0, 0, 1,
                                        -1, T, out, NULL),
                     VAE_ERR_RANGE);
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_BEAM, 1.0, 1, 0,
                                        -1, T, out, NULL),
                     VAE_ERR_RANGE);
    assert_int_equal(vae_model_generate(m, z, 0, VAE_DECODE_GREEDY, 1.0, 1, 1,
                                        -1, T, out, NULL),
                     VAE_ERR_RANGE);
    assert_int_equal(vae_model_generate(m, NULL, 1, VAE_DECODE_GREEDY, 1.0, 1,
                                        1, -1, T, out, NULL),
                     VAE_ERR_INVALID_ARG);
    z[1] = NAN;
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_GREEDY, 1.0, 1, 1,
                                        -1, T, out, NULL),
                     VAE_ERR_NONFINITE);
    assert_int_equal(vae_model_generate(NULL, z, 1, VAE_DECODE_GREEDY, 1.0, 1,
                                        1, -1, T, out, NULL),
                     VAE_ERR_INVALID_ARG);
    vae_model_free(m);

    /* Wiring errors caught when the model is built. */
    vae_model *bad = NULL;
    char err[256];
    vae_graph *enc = encoder(9), *dec;
    const int64_t l = L, t = T, t2 = T + 1;
    assert_int_equal(vae_graph_new(&dec), VAE_OK);
    int32_t zin = vae_graph_input(dec, &l, 1);
    vae_graph_data(dec, &t2, 1); /* not the encoder input's shape */
    vae_graph_set_output(dec, vae_graph_dense(
                                  dec, vae_graph_repeat(dec, zin, T), 9));
    assert_int_equal(vae_model_new(enc, dec, L, VAE_LIKELIHOOD_CATEGORICAL, 1,
                                   &bad, err, sizeof err),
                     VAE_ERR_SHAPE);
    assert_non_null(strstr(err, "data node"));
    vae_graph_free(dec);

    assert_int_equal(vae_graph_new(&dec), VAE_OK);
    zin = vae_graph_input(dec, &l, 1);
    int32_t d = vae_graph_data(dec, &t, 1);
    int32_t e = vae_graph_embedding_shared(dec, d, 9, E + 1); /* wrong dim */
    vae_graph_set_output(dec, vae_graph_dense(dec, e, 9));
    assert_int_equal(vae_model_new(enc, dec, L, VAE_LIKELIHOOD_CATEGORICAL, 1,
                                   &bad, err, sizeof err),
                     VAE_ERR_GRAPH);
    assert_non_null(strstr(err, "shares the encoder's embedding"));
    vae_graph_free(dec);

    /* A Bernoulli model has nothing to generate. */
    vae_graph_free(enc);
    const int64_t five = T;
    vae_graph *e2, *d2;
    assert_int_equal(vae_graph_new(&e2), VAE_OK);
    vae_graph_set_output(e2, vae_graph_dense(e2, vae_graph_input(e2, &five, 1),
                                             4));
    assert_int_equal(vae_graph_new(&d2), VAE_OK);
    vae_graph_set_output(d2, vae_graph_dense(d2, vae_graph_input(d2, &l, 1),
                                             T));
    bad = NULL;
    assert_int_equal(vae_model_new(e2, d2, L, VAE_LIKELIHOOD_BERNOULLI, 1, &bad,
                                   err, sizeof err),
                     VAE_OK);
    z[1] = 0.0f;
    assert_int_equal(vae_model_generate(bad, z, 1, VAE_DECODE_GREEDY, 1.0, 1, 1,
                                        -1, T, out, NULL),
                     VAE_ERR_UNSUPPORTED);
    vae_graph_free(e2);
    vae_graph_free(d2);
    vae_model_free(bad);
}

/* The raw decoder output of a teacher-forced model is the logits of each
 * step given the previous tokens of x: the log-softmax at x's ids, summed
 * over the unpadded steps, is log p(x|z) as vae_model_log_likelihood
 * computes it. */
static void test_decoder_output_logits(void **state)
{
    (void)state;
    const text_cfg c = {9, 1, 0.0f, 0};
    vae_model *m = bowman(&c, 4);
    const int64_t V = c.vocab;
    assert_int_equal(vae_model_output_size(m), T * V);
    float x[B * T], z[B * L], logits[B * T * 9];
    double logp[B];
    sentences(x, V);
    tu_rng r;
    tu_seed(&r, 8);
    tu_fill_uniform(&r, z, B * L, -1.0, 1.0);
    assert_int_equal(vae_model_decoder_output(m, z, x, B, logits), VAE_OK);
    assert_int_equal(vae_model_log_likelihood(m, z, x, B, logp), VAE_OK);
    for (int b = 0; b < B; b++) {
        double sum = 0.0;
        for (int t = 0; t < T; t++) {
            int id = (int)x[b * T + t];
            if (id == 0)
                continue;
            const float *l = logits + (b * T + t) * V;
            double mx = l[0], se = 0.0;
            for (int v = 1; v < V; v++)
                mx = fmax(mx, l[v]);
            for (int v = 0; v < V; v++)
                se += exp(l[v] - mx);
            sum += l[id] - mx - log(se);
        }
        TU_ASSERT_CLOSE(sum, logp[b], 1e-5, "log-softmax of the raw output");
    }
    vae_model_free(m);
}

/* Generation settings on the model: documented defaults, each read back
 * as set, vae_model_generate_tokens equal to vae_model_generate with the
 * same settings and seed, and vae_model_generate leaves them alone. */
static void test_generation_settings(void **state)
{
    (void)state;
    const text_cfg c = {9, 1, 0.0f, 0};
    vae_model *m = bowman(&c, 2);
    const int32_t keys[] = {VAE_GEN_MODE, VAE_GEN_TEMPERATURE, VAE_GEN_TOP_K,
                            VAE_GEN_BEAM, VAE_GEN_EOS};
    const double defaults[] = {VAE_DECODE_GREEDY, 1.0, 10, 5, VAE_NO_EOS};
    const double chosen[] = {VAE_DECODE_TOP_K, 0.7, 3, 2, 2};
    double v;
    for (int i = 0; i < TU_COUNT(keys); i++) {
        assert_int_equal(vae_model_get_generation(m, keys[i], &v), VAE_OK);
        assert_true(v == defaults[i]);
        assert_int_equal(vae_model_set_generation(m, keys[i], chosen[i]),
                         VAE_OK);
    }
    float z[2 * L] = {0.1f, 0.2f, -0.3f, 0.5f, -0.4f, 0.0f};
    float a[2 * 16], b[2 * 16];
    int64_t sa = 0, sb = 0;
    assert_int_equal(vae_model_set_seed(m, 5), VAE_OK);
    assert_int_equal(vae_model_generate_tokens(m, z, 2, 16, a, &sa), VAE_OK);
    assert_int_equal(vae_model_set_seed(m, 5), VAE_OK);
    assert_int_equal(vae_model_generate(m, z, 2, VAE_DECODE_TOP_K, 0.7, 3, 2,
                                        2, 16, b, &sb),
                     VAE_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(sa, sb);
    /* Beam through the settings, as the old call does it. */
    assert_int_equal(vae_model_set_generation(m, VAE_GEN_MODE, VAE_DECODE_BEAM),
                     VAE_OK);
    assert_int_equal(vae_model_generate_tokens(m, z, 2, 16, a, &sa), VAE_OK);
    assert_int_equal(vae_model_generate(m, z, 2, VAE_DECODE_BEAM, 1.0, 1, 2, 2,
                                        16, b, &sb),
                     VAE_OK);
    assert_memory_equal(a, b, sizeof a);
    for (int i = 1; i < TU_COUNT(keys); i++) {
        assert_int_equal(vae_model_get_generation(m, keys[i], &v), VAE_OK);
        assert_true(v == chosen[i]);
    }
    vae_model_free(m);
}

/* Whether row y (len ids) repeats an n-gram of its own. */
static int repeats_ngram(const float *y, int64_t len, int64_t n)
{
    for (int64_t i = 0; i + n <= len; i++)
        for (int64_t j = i + 1; j + n <= len; j++) {
            int64_t k = 0;
            while (k < n && y[i + k] == y[j + k])
                k++;
            if (k == n)
                return 1;
        }
    return 0;
}

/* Set VAE_GEN_NO_REPEAT_NGRAM to n and no generated sequence repeats an
 * n-gram, in every mode; without it the same untrained model repeats
 * itself (so the check can fail). Sequences run to max_len: no eos. The
 * vocabulary is larger than the length, so no id can have had every other
 * id after it (then the constraint would have to give way). */
static void test_no_repeat_ngram(void **state)
{
    (void)state;
    enum { N = 4, LEN = 24 };
    const text_cfg c = {32, 1, 0.0f, 0};
    vae_model *m = bowman(&c, 3);
    float z[N * L], y[N * LEN];
    tu_rng r;
    tu_seed(&r, 12);
    tu_fill_uniform(&r, z, N * L, -1.5, 1.5);
    const int32_t modes[] = {VAE_DECODE_GREEDY, VAE_DECODE_SAMPLE,
                             VAE_DECODE_TOP_K, VAE_DECODE_TOP_P,
                             VAE_DECODE_BEAM};
    int unconstrained = 0;
    for (int i = 0; i < TU_COUNT(modes); i++) {
        assert_int_equal(vae_model_set_generation(m, VAE_GEN_MODE, modes[i]),
                         VAE_OK);
        for (int64_t n = 0; n <= 3; n++) {
            if (n == 1)
                continue; /* 1 would need LEN <= vocab - 1 distinct ids */
            assert_int_equal(
                vae_model_set_generation(m, VAE_GEN_NO_REPEAT_NGRAM, n),
                VAE_OK);
            assert_int_equal(vae_model_generate_tokens(m, z, N, LEN, y, NULL),
                             VAE_OK);
            for (int e = 0; e < N; e++) {
                int rep = repeats_ngram(y + e * LEN, LEN, n ? n : 2);
                if (n && rep)
                    fail_msg("mode %d, n %lld: sequence %d repeats itself",
                             (int)modes[i], (long long)n, e);
                else if (!n)
                    unconstrained += rep;
            }
        }
    }
    assert_true(unconstrained > 0);
    vae_model_free(m);
}

/* Nucleus sampling: with a tiny top_p the nucleus is the most probable id
 * alone, so it decodes greedily; with top_p = 0.5 every first token drawn
 * is in the nucleus computed here from the step's logits (the decoder's
 * raw output at step 0 depends only on z and bos), and more than one
 * member of a nucleus of several gets drawn. */
static void test_top_p(void **state)
{
    (void)state;
    enum { N = 200 };
    const text_cfg c = {9, 1, 0.0f, 0};
    const int64_t V = c.vocab;
    vae_model *m = bowman(&c, 7);
    float z[L] = {0.2f, -0.1f, 0.05f}, g[T], y[T];
    assert_int_equal(vae_model_generate(m, z, 1, VAE_DECODE_GREEDY, 1.0, 0, 0,
                                        -1, T, g, NULL),
                     VAE_OK);
    assert_int_equal(vae_model_set_generation(m, VAE_GEN_MODE,
                                              VAE_DECODE_TOP_P),
                     VAE_OK);
    assert_int_equal(vae_model_set_generation(m, VAE_GEN_TOP_P, 1e-9), VAE_OK);
    assert_int_equal(vae_model_generate_tokens(m, z, 1, T, y, NULL), VAE_OK);
    assert_memory_equal(y, g, sizeof y);

    /* The nucleus of step 0 at top_p 0.5, padding (id 0) excluded. */
    float x[T] = {1, 1, 1, 1, 1}, logits[T * 9];
    assert_int_equal(vae_model_decoder_output(m, z, x, 1, logits), VAE_OK);
    double p[9], total = 0.0;
    for (int v = 1; v < V; v++)
        total += p[v] = exp((double)logits[v]);
    int in[9] = {0}, members = 0;
    double mass = 0.0;
    while (mass < 0.5 * total) {
        int best = 0;
        for (int v = 1; v < V; v++)
            if (!in[v] && (!best || p[v] > p[best]))
                best = v;
        in[best] = 1;
        members++;
        mass += p[best];
    }
    assert_int_equal(vae_model_set_generation(m, VAE_GEN_TOP_P, 0.5), VAE_OK);
    float *zs = tu_alloc(N * L * sizeof *zs), *ys = tu_alloc(N * sizeof *ys);
    for (int i = 0; i < N; i++)
        memcpy(zs + i * L, z, sizeof z);
    assert_int_equal(vae_model_generate_tokens(m, zs, N, 1, ys, NULL), VAE_OK);
    int seen[9] = {0}, distinct = 0;
    for (int i = 0; i < N; i++) {
        int id = (int)ys[i];
        assert_true(id >= 1 && id < V && in[id]);
        distinct += !seen[id]++;
    }
    print_message("top_p 0.5: a nucleus of %d ids, %d drawn\n", members,
                  distinct);
    assert_true(members < 2 || distinct > 1);
    free(zs);
    free(ys);
    vae_model_free(m);
}

/* Beam search as wide as every candidate finds, among all sequences that
 * end at the eos id or run to N ids, the best by log p / length^alpha for
 * each alpha: 0 (raw sum), 1 (the default, mean per token) and 2. */
static void test_length_penalty(void **state)
{
    (void)state;
    enum { N = 3 };
    const text_cfg c = {4, 1, 0.0f, 0};
    const int ids = (int)c.vocab - 1, eos = 1;
    vae_model *m = bowman(&c, 8);
    float z[L] = {0.3f, 0.9f, -0.5f};
    assert_int_equal(vae_model_set_generation(m, VAE_GEN_MODE,
                                              VAE_DECODE_BEAM),
                     VAE_OK);
    assert_int_equal(vae_model_set_generation(m, VAE_GEN_BEAM, 27), VAE_OK);
    assert_int_equal(vae_model_set_generation(m, VAE_GEN_EOS, eos), VAE_OK);
    const double alphas[] = {0.0, 1.0, 2.0};
    for (int a = 0; a < TU_COUNT(alphas); a++) {
        assert_int_equal(vae_model_set_generation(m, VAE_GEN_LENGTH_PENALTY,
                                                  alphas[a]),
                         VAE_OK);
        float got[N];
        assert_int_equal(vae_model_generate_tokens(m, z, 1, N, got, NULL),
                         VAE_OK);
        double best = -INFINITY;
        float arg[N] = {0};
        for (int s = 0; s < ids * ids * ids; s++) {
            float y[N] = {(float)(1 + s % ids), (float)(1 + s / ids % ids),
                          (float)(1 + s / (ids * ids))};
            int len = 1;
            while (len < N && y[len - 1] != eos)
                len++;
            for (int k = len; k < N; k++)
                y[k] = 0.0f; /* the same sequence, met again: scored alike */
            double v = prefix_logp(m, z, y, len) / pow(len, alphas[a]);
            if (v > best) {
                best = v;
                memcpy(arg, y, sizeof arg);
            }
        }
        if (memcmp(got, arg, sizeof arg) != 0)
            fail_msg("alpha %g: beam %g %g %g, best %g %g %g", alphas[a],
                     got[0], got[1], got[2], arg[0], arg[1], arg[2]);
    }
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elbo_gradient),
        cmocka_unit_test(test_weighted_gradient),
        cmocka_unit_test(test_output_chunks),
        cmocka_unit_test(test_shared_embedding),
        cmocka_unit_test(test_greedy_matches_teacher_forcing),
        cmocka_unit_test(test_beam_is_exhaustive_when_wide),
        cmocka_unit_test(test_steps_are_linear),
        cmocka_unit_test(test_sampling_is_seeded),
        cmocka_unit_test(test_decoder_output_logits),
        cmocka_unit_test(test_generation_settings),
        cmocka_unit_test(test_no_repeat_ngram),
        cmocka_unit_test(test_top_p),
        cmocka_unit_test(test_length_penalty),
        cmocka_unit_test(test_seed_decoder),
        cmocka_unit_test(test_iwae_matches_quadrature),
        cmocka_unit_test(test_word_dropout),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
