/* The input-validation review of vae.h: every public function called with
 * each kind of bad input it can get (NULL handles and pointers, zero,
 * negative and overflowing sizes, out-of-range ids and constants, graphs
 * wired wrongly). Each call must return its documented status and, where
 * the call has somewhere to put one, a message; the ASan/UBSan and TSan
 * builds add that none of it reads out of bounds or overflows.
 *
 * The op builders, the public functions defined in src/ops, are checked in
 * their op's test file (tests/ops/test_<file>.c, run by test_ops), so that
 * adding an op does not touch this file; every other function is checked
 * here. Every check records the function it called (testutil.h's record).
 * The last test reads the public header and fails if a VAE_API function
 * that is not an op builder has no check, so a new function cannot be
 * added without its validation tests (test_ops's table walk does the same
 * for the builders). With VAE_VALIDATION_TABLE=1 in the environment it
 * prints the markdown table of these functions and their checks; test_ops
 * prints the builders' rows. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* ---- What was checked ---------------------------------------------------- */

/* Short names for the record's macros (testutil.h): this file has hundreds
 * of checks. */
#define EXPECT TU_EXPECT
#define NO_MSG TU_NO_MSG
#define NOTE TU_NOTE

/* Calls that take an `err` buffer: it must receive a message. */
static char ebuf[256];
#define EXPECT_E(what, status, call)                                        \
    do {                                                                    \
        ebuf[0] = '\0';                                                     \
        EXPECT((what), (status), (call), ebuf);                             \
    } while (0)

/* ---- Graph builder ------------------------------------------------------ */

/* The graph under test: every failing call needs a fresh one, as errors
 * are sticky. The builders' own checks are in tests/ops (test_ops). */
static vae_graph *G;

enum { EMPTY, VEC };

/* EMPTY: no nodes. VEC: input [4]. */
static vae_graph *fresh(int kind)
{
    static const int64_t vec[1] = {4};
    vae_graph_free(G);
    G = NULL;
    if (kind == VEC)
        G = tu_graph_input(vec, 1);
    else
        assert_int_equal(vae_graph_new(&G), VAE_OK);
    return G;
}

/* A call on G: status, the same sticky status on G, a message. */
#define EXPECT_G(what, status, call)                                        \
    do {                                                                    \
        EXPECT((what), (status), (call), vae_graph_last_error(G));          \
        assert_int_equal(vae_graph_status(G), (status));                    \
    } while (0)

static void test_graph_basics(void **state)
{
    (void)state;
    EXPECT("NULL out", VAE_ERR_INVALID_ARG, vae_graph_new(NULL), NO_MSG);
    vae_graph_free(NULL);
    NOTE(vae_graph_free(NULL), "NULL is a no-op");
    EXPECT("NULL graph", VAE_ERR_INVALID_ARG, vae_graph_status(NULL), NO_MSG);
    NOTE(vae_graph_last_error(NULL), "NULL graph: a fixed message");
    assert_non_null(vae_graph_last_error(NULL));
    assert_true(vae_graph_last_error(NULL)[0] != '\0');
    fresh(VEC);
    NOTE(vae_graph_last_error(G), "no error yet: empty string");
    assert_string_equal(vae_graph_last_error(G), "");

    /* set_output */
    EXPECT("NULL graph", VAE_ERR_INVALID_ARG, vae_graph_set_output(NULL, 0),
           NO_MSG);
    const int32_t bad_ids[] = {-1, 1, INT32_MAX, INT32_MIN};
    for (int i = 0; i < TU_COUNT(bad_ids); i++) {
        fresh(VEC);
        EXPECT_G("node id naming no node", VAE_ERR_GRAPH,
                 vae_graph_set_output(G, bad_ids[i]));
    }
    fresh(EMPTY);
    EXPECT_G("empty graph", VAE_ERR_GRAPH, vae_graph_set_output(G, 0));
    fresh(VEC);
    assert_int_equal(vae_graph_dense(G, 0, 0), VAE_ERR_RANGE);
    EXPECT_G("after an error: that error (sticky)", VAE_ERR_RANGE,
             vae_graph_set_output(G, 0));

    /* node_size: a const query, so no message; the graph stays usable. */
    EXPECT("NULL graph", VAE_ERR_INVALID_ARG, vae_graph_node_size(NULL, 0),
           NO_MSG);
    fresh(VEC);
    for (int i = 0; i < TU_COUNT(bad_ids); i++)
        EXPECT("node id naming no node (no message: const graph)",
               VAE_ERR_GRAPH, vae_graph_node_size(G, bad_ids[i]), NO_MSG);
    assert_int_equal(vae_graph_status(G), VAE_OK);
    assert_int_equal(vae_graph_node_size(G, 0), 4);
}

/* ---- Models ------------------------------------------------------------- */

enum { D = 4, L = 2, B = 3, T = 5, V = 7, E = 3, H = 4 };

static vae_model *bernoulli_model(void)
{
    static const tu_layer enc[] = {TU_DENSE(5), TU_ACT(VAE_OP_RELU)};
    static const tu_layer dec[] = {TU_DENSE(5), TU_ACT(VAE_OP_TANH),
                                   TU_DENSE(D)};
    return tu_model(D, enc, TU_COUNT(enc), L, dec, TU_COUNT(dec),
                    VAE_LIKELIHOOD_BERNOULLI, 1);
}

static vae_graph *check_graph(vae_graph *g)
{
    if (vae_graph_status(g) != VAE_OK)
        fail_msg("fixture graph: %s", vae_graph_last_error(g));
    return g;
}

/* ids [T] -> embedding -> LSTM over the unpadded steps. */
static vae_graph *text_encoder(void)
{
    const int64_t t = T;
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    int32_t x = vae_graph_input(g, &t, 1);
    int32_t e = vae_graph_embedding(g, x, V, E);
    vae_graph_set_output(g, vae_graph_lstm(g, e, H, -1, x, 0));
    return check_graph(g);
}

/* Teacher forcing: the previous tokens (shared embedding) into an LSTM
 * started from z. */
static vae_graph *text_decoder(void)
{
    const int64_t t = T, l = L;
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    int32_t z = vae_graph_input(g, &l, 1);
    int32_t x = vae_graph_data(g, &t, 1);
    int32_t e = vae_graph_embedding_shared(g, vae_graph_shift_right(g, x, 1.0f),
                                           V, E);
    int32_t init = vae_graph_tanh(g, vae_graph_dense(g, z, 2 * H));
    int32_t h = vae_graph_lstm(g, e, H, init, x, 1);
    vae_graph_set_output(g, vae_graph_dense(g, h, V));
    return check_graph(g);
}

static vae_model *new_model(vae_graph *enc, vae_graph *dec, int32_t lik)
{
    vae_model *m = NULL;
    char err[256] = "";
    if (vae_model_new(enc, dec, L, lik, 1, &m, err, sizeof err) != VAE_OK)
        fail_msg("fixture model: %s", err);
    vae_graph_free(enc);
    vae_graph_free(dec);
    return m;
}

static vae_model *text_model(void)
{
    return new_model(text_encoder(), text_decoder(), VAE_LIKELIHOOD_CATEGORICAL);
}

/* A categorical model whose decoder reshapes (so cannot generate). */
static vae_model *reshaping_text_model(void)
{
    const int64_t l = L, tv[2] = {T, V};
    vae_graph *dec = NULL;
    assert_int_equal(vae_graph_new(&dec), VAE_OK);
    int32_t z = vae_graph_input(dec, &l, 1);
    vae_graph_set_output(dec, vae_graph_reshape(dec, vae_graph_dense(dec, z, T * V),
                                                tv, 2));
    return new_model(text_encoder(), check_graph(dec),
                     VAE_LIKELIHOOD_CATEGORICAL);
}

static void text_data(float *x, int64_t batch)
{
    for (int64_t i = 0; i < batch * T; i++)
        x[i] = (float)(1 + i % (V - 1));
}

/* vae_model_new with one thing wrong at a time. */
static void expect_new(const char *what, int32_t status, const vae_graph *enc,
                       const vae_graph *dec, int64_t latent, int32_t lik)
{
    vae_model *m = NULL;
    EXPECT_E(what, status, vae_model_new(enc, dec, latent, lik, 1, &m, ebuf,
                                         sizeof ebuf));
    assert_null(m);
}

/* A graph [in] -> dense(out), or a bare input when out is 0. */
static vae_graph *mlp(int64_t in, int64_t out)
{
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    int32_t x = vae_graph_input(g, &in, 1);
    vae_graph_set_output(g, out ? vae_graph_dense(g, x, out) : x);
    return check_graph(g);
}

static void test_model_new(void **state)
{
    (void)state;
    vae_graph *enc = mlp(D, 3), *dec = mlp(L, D);
    vae_model *m = NULL;
    EXPECT_E("NULL out", VAE_ERR_INVALID_ARG,
             vae_model_new(enc, dec, L, VAE_LIKELIHOOD_BERNOULLI, 1, NULL,
                           ebuf, sizeof ebuf));
    expect_new("NULL encoder", VAE_ERR_INVALID_ARG, NULL, dec, L,
               VAE_LIKELIHOOD_BERNOULLI);
    expect_new("NULL decoder", VAE_ERR_INVALID_ARG, enc, NULL, L,
               VAE_LIKELIHOOD_BERNOULLI);
    const int64_t bad_latent[] = {0, -1, INT64_MIN, ((int64_t)1 << 24) + 1,
                                  INT64_MAX};
    for (int i = 0; i < TU_COUNT(bad_latent); i++)
        expect_new("latent_dim not in 1..2^24", VAE_ERR_RANGE, enc, dec,
                   bad_latent[i], VAE_LIKELIHOOD_BERNOULLI);
    const int32_t bad_lik[] = {0, 5, -1, INT32_MIN, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_lik); i++)
        expect_new("unknown likelihood", VAE_ERR_INVALID_ARG, enc, dec, L,
                   bad_lik[i]);
    expect_new("decoder output not 2 x data (Gaussian learned)", VAE_ERR_SHAPE,
               enc, dec, L, VAE_LIKELIHOOD_GAUSSIAN_LEARNED);
    expect_new("decoder output not [T, V] (categorical)", VAE_ERR_SHAPE, enc,
               dec, L, VAE_LIKELIHOOD_CATEGORICAL);
    expect_new("decoder input size != latent_dim", VAE_ERR_SHAPE, enc, dec,
               L + 1, VAE_LIKELIHOOD_BERNOULLI);
    vae_graph *dec_wide = mlp(L, D + 1);
    expect_new("decoder output size != data size", VAE_ERR_SHAPE, enc,
               dec_wide, L, VAE_LIKELIHOOD_BERNOULLI);
    vae_graph_free(dec_wide);

    /* Graphs that are not ready: an error, no output, nothing at all. */
    vae_graph *broken = mlp(D, 3);
    assert_int_equal(vae_graph_dense(broken, 0, 0), VAE_ERR_RANGE);
    expect_new("encoder carrying a builder error: that error", VAE_ERR_RANGE,
               broken, dec, L, VAE_LIKELIHOOD_BERNOULLI);
    expect_new("decoder carrying a builder error: that error", VAE_ERR_RANGE,
               enc, broken, L, VAE_LIKELIHOOD_BERNOULLI);
    vae_graph *no_out = NULL, *empty = NULL;
    assert_int_equal(vae_graph_new(&empty), VAE_OK);
    assert_int_equal(vae_graph_new(&no_out), VAE_OK);
    const int64_t d = D;
    assert_int_equal(vae_graph_input(no_out, &d, 1), 0);
    expect_new("encoder without output", VAE_ERR_GRAPH, no_out, dec, L,
               VAE_LIKELIHOOD_BERNOULLI);
    expect_new("empty decoder", VAE_ERR_GRAPH, enc, empty, L,
               VAE_LIKELIHOOD_BERNOULLI);

    /* Encoder output of rank 2; Gaussian head wider than dense allows. */
    vae_graph *enc_seq = mlp(D, 0);
    vae_graph_set_output(enc_seq, vae_graph_repeat(enc_seq, 0, 2));
    expect_new("encoder output not a vector", VAE_ERR_SHAPE,
               check_graph(enc_seq), dec, L, VAE_LIKELIHOOD_BERNOULLI);
    vae_graph *enc_huge = mlp((int64_t)1 << 31, 0);
    vae_graph *dec_huge = mlp(1, 0);
    vae_graph_set_output(dec_huge,
                         vae_graph_repeat(dec_huge, 0, (int64_t)1 << 31));
    expect_new("Gaussian head on 2^31 features", VAE_ERR_SHAPE, enc_huge,
               check_graph(dec_huge), 1, VAE_LIKELIHOOD_GAUSSIAN_FIXED);

    /* Sequence wiring: data and shared embeddings only in a decoder, one
     * data node, of the data's shape, a table to share. */
    vae_graph *tenc = text_encoder(), *tdec = text_decoder();
    const int64_t t = T, t1 = T + 1;
    vae_graph *enc_data = text_encoder();
    vae_graph_data(enc_data, &t, 1);
    expect_new("data node in the encoder", VAE_ERR_GRAPH,
               check_graph(enc_data), tdec, L, VAE_LIKELIHOOD_CATEGORICAL);
    vae_graph *enc_shared = text_encoder();
    vae_graph_embedding_shared(enc_shared, 0, V, E);
    expect_new("shared embedding in the encoder", VAE_ERR_GRAPH,
               check_graph(enc_shared), tdec, L, VAE_LIKELIHOOD_CATEGORICAL);
    vae_graph *dec_two = text_decoder();
    vae_graph_data(dec_two, &t, 1);
    expect_new("two data nodes", VAE_ERR_GRAPH, tenc, check_graph(dec_two), L,
               VAE_LIKELIHOOD_CATEGORICAL);
    vae_graph *dec_t1 = mlp(L, 0);
    vae_graph_data(dec_t1, &t1, 1);
    expect_new("data node not of the data's shape", VAE_ERR_SHAPE, tenc,
               check_graph(dec_t1), L, VAE_LIKELIHOOD_CATEGORICAL);
    vae_graph *dec_vocab = text_decoder();
    vae_graph_embedding_shared(dec_vocab, 1, V + 1, E);
    expect_new("shared embedding unlike the encoder's", VAE_ERR_GRAPH, tenc,
               check_graph(dec_vocab), L, VAE_LIKELIHOOD_CATEGORICAL);
    vae_graph *enc_bow = text_encoder();
    vae_graph_bag_of_words(enc_bow, vae_graph_dense(enc_bow, 0, V), 0, 1.0f);
    expect_new("bag-of-words loss in the encoder", VAE_ERR_GRAPH,
               check_graph(enc_bow), tdec, L, VAE_LIKELIHOOD_CATEGORICAL);
    vae_graph *plain_enc = mlp(T, 3);
    expect_new("shared embedding, encoder without one", VAE_ERR_GRAPH,
               plain_enc, tdec, L, VAE_LIKELIHOOD_CATEGORICAL);

    /* The encoder's own posterior: its output, last node, 2 x latent_dim
     * elements, and nowhere else. */
    vae_graph *q_size = mlp(D, 0), *q_inner = mlp(D, 0), *q_dec = mlp(L, 0),
              *q_ok = mlp(D, 0);
    vae_graph_set_output(q_size, vae_graph_gaussian(q_size, 0, 0));
    expect_new("posterior of 2 x 4, latent_dim 2", VAE_ERR_SHAPE,
               check_graph(q_size), dec, L, VAE_LIKELIHOOD_BERNOULLI);
    int32_t q = vae_graph_gaussian(q_inner, vae_graph_dense(q_inner, 0, L),
                                   vae_graph_dense(q_inner, 0, L));
    vae_graph_set_output(q_inner, vae_graph_tanh(q_inner, q));
    expect_new("posterior not the encoder's output", VAE_ERR_SHAPE,
               check_graph(q_inner), dec, L, VAE_LIKELIHOOD_BERNOULLI);
    vae_graph_set_output(q_ok,
                         vae_graph_gaussian(q_ok, vae_graph_dense(q_ok, 0, L),
                                            vae_graph_dense(q_ok, 0, L)));
    vae_graph_dense(q_ok, 0, 1);
    expect_new("posterior not the encoder's last node", VAE_ERR_SHAPE,
               check_graph(q_ok), dec, L, VAE_LIKELIHOOD_BERNOULLI);
    int32_t q_in_dec = vae_graph_gaussian(q_dec, 0, 0);
    vae_graph_set_output(q_dec, vae_graph_dense(q_dec, q_in_dec, D));
    expect_new("posterior in the decoder", VAE_ERR_SHAPE, enc,
               check_graph(q_dec), L, VAE_LIKELIHOOD_BERNOULLI);

    /* The error buffer: optional, truncated to errlen, untouched at 0. */
    NOTE(vae_model_new(enc, dec, 0, 0, 0, &m, NULL, 0),
         "err NULL/0 accepted; short err truncated and terminated");
    assert_int_equal(vae_model_new(enc, dec, 0, VAE_LIKELIHOOD_BERNOULLI, 1,
                                   &m, NULL, 0),
                     VAE_ERR_RANGE);
    char small[6];
    memset(small, 'x', sizeof small);
    assert_int_equal(vae_model_new(enc, dec, 0, VAE_LIKELIHOOD_BERNOULLI, 1,
                                   &m, small, sizeof small),
                     VAE_ERR_RANGE);
    assert_int_equal(strlen(small), sizeof small - 1);
    memset(small, 'x', sizeof small);
    assert_int_equal(vae_model_new(enc, dec, 0, VAE_LIKELIHOOD_BERNOULLI, 1,
                                   &m, small, 0),
                     VAE_ERR_RANGE);
    assert_true(small[0] == 'x');
    assert_null(m);

    vae_graph *all[] = {enc, dec, broken, no_out, empty, enc_seq, enc_huge,
                        dec_huge, tenc, tdec, enc_data, enc_shared, dec_two,
                        dec_t1, dec_vocab, plain_enc, q_size, q_inner, q_dec,
                        q_ok, enc_bow};
    for (int i = 0; i < TU_COUNT(all); i++)
        vae_graph_free(all[i]);
}

static void test_model_settings(void **state)
{
    (void)state;
    vae_model *m = bernoulli_model();
    vae_model_free(NULL);
    NOTE(vae_model_free(NULL), "NULL is a no-op");
    NOTE(vae_model_last_error(NULL), "NULL model: a fixed message");
    assert_true(vae_model_last_error(NULL)[0] != '\0');
    NOTE(vae_model_last_error(m), "no error yet: empty string");
    assert_string_equal(vae_model_last_error(m), "");

    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_set_seed(NULL, 1),
           NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_set_beta(NULL, 1.0),
           NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_set_free_bits(NULL, 0.0), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_set_kl_anneal(NULL, VAE_ANNEAL_LINEAR, 10), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_set_obs_logvar(NULL, 0.0), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_set_metadata(NULL, "a", 1), NO_MSG);
    const double bad[] = {-1.0, -1e-300, 2e6, NAN, INFINITY, -INFINITY};
    for (int i = 0; i < TU_COUNT(bad); i++) {
        EXPECT("NaN, Inf or not in [0, 1e6]", VAE_ERR_RANGE,
               vae_model_set_beta(m, bad[i]), vae_model_last_error(m));
        EXPECT("NaN, Inf or not in [0, 1e6]", VAE_ERR_RANGE,
               vae_model_set_free_bits(m, bad[i]), vae_model_last_error(m));
    }
    const double bad_lv[] = {-30.5, 20.5, NAN, INFINITY, -INFINITY};
    for (int i = 0; i < TU_COUNT(bad_lv); i++)
        EXPECT("NaN, Inf or not in [-30, 20]", VAE_ERR_RANGE,
               vae_model_set_obs_logvar(m, bad_lv[i]), vae_model_last_error(m));
    const int32_t bad_kind[] = {-1, 3, INT32_MIN, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_kind); i++)
        EXPECT("unknown schedule", VAE_ERR_INVALID_ARG,
               vae_model_set_kl_anneal(m, bad_kind[i], 10),
               vae_model_last_error(m));
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_set_train_samples(NULL, 2), NO_MSG);
    const int64_t bad_k[] = {0, -1, INT64_MIN, VAE_TRAIN_SAMPLES_MAX + 1,
                             INT64_MAX};
    for (int i = 0; i < TU_COUNT(bad_k); i++)
        EXPECT("k not in 1..VAE_TRAIN_SAMPLES_MAX", VAE_ERR_RANGE,
               vae_model_set_train_samples(m, bad_k[i]),
               vae_model_last_error(m));
    const int64_t bad_steps[] = {0, -1, INT64_MIN};
    for (int i = 0; i < TU_COUNT(bad_steps); i++)
        EXPECT("steps < 1", VAE_ERR_RANGE,
               vae_model_set_kl_anneal(m, VAE_ANNEAL_SIGMOID, bad_steps[i]),
               vae_model_last_error(m));

    /* Metadata: the length is checked before the bytes are read, and a
     * failed call keeps what was there. */
    assert_int_equal(vae_model_set_metadata(m, "abc", 3), VAE_OK);
    EXPECT("NULL data with len > 0", VAE_ERR_INVALID_ARG,
           vae_model_set_metadata(m, NULL, 5), vae_model_last_error(m));
    const size_t bad_len[] = {VAE_METADATA_MAX + 1, SIZE_MAX};
    for (int i = 0; i < TU_COUNT(bad_len); i++)
        EXPECT("len above VAE_METADATA_MAX (not read)", VAE_ERR_RANGE,
               vae_model_set_metadata(m, "x", bad_len[i]),
               vae_model_last_error(m));
    size_t len = 0;
    assert_memory_equal(vae_model_metadata(m, &len), "abc", 3);
    assert_int_equal(len, 3);
    len = 99;
    NOTE(vae_model_metadata(NULL, &len), "NULL model: NULL and len 0");
    assert_null(vae_model_metadata(NULL, &len));
    assert_int_equal(len, 0);
    NOTE(vae_model_metadata(m, NULL), "len NULL accepted");
    assert_non_null(vae_model_metadata(m, NULL));
    vae_model_free(m);
}

static void test_model_queries(void **state)
{
    (void)state;
    vae_model *m = bernoulli_model();
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_data_size(NULL), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_latent_dim(NULL), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_num_params(NULL),
           NO_MSG);
    NOTE(vae_model_params(NULL), "NULL model: NULL");
    assert_null(vae_model_params(NULL));
    NOTE(vae_model_grads(NULL), "NULL model: NULL");
    assert_null(vae_model_grads(NULL));

    int64_t dims[2] = {-7, -7};
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_data_shape(NULL, dims, 2),
           NO_MSG);
    EXPECT("NULL dims with cap > 0 (no message: const model)",
           VAE_ERR_INVALID_ARG, vae_model_data_shape(m, NULL, 1), NO_MSG);
    EXPECT("cap < 0 (no message: const model)", VAE_ERR_INVALID_ARG,
           vae_model_data_shape(m, dims, -1), NO_MSG);
    EXPECT("cap 0: the rank, nothing written", 1,
           vae_model_data_shape(m, NULL, 0), NO_MSG);
    assert_int_equal(dims[0], -7);

    /* A rank-3 model: a cap below the rank writes only cap dims. */
    const tu_layer enc[] = {TU_FLATTEN, TU_DENSE(3)};
    const tu_layer dec[] = {TU_DENSE(12), TU_RESHAPE3(3, 2, 2)};
    const int64_t img[3] = {3, 2, 2};
    vae_graph *ge = tu_graph_nd(img, 3, enc, TU_COUNT(enc));
    vae_graph *gd = tu_graph(L, dec, TU_COUNT(dec));
    vae_model *m3 = new_model(ge, gd, VAE_LIKELIHOOD_GAUSSIAN_FIXED);
    EXPECT("cap below the rank: cap dims written", 3,
           vae_model_data_shape(m3, dims, 1), NO_MSG);
    assert_int_equal(dims[0], 3);
    assert_int_equal(dims[1], -7);

    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_zero_grad(NULL), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_scale_grad(NULL, 1.0),
           NO_MSG);
    float *g0 = tu_dup(vae_model_grads(m), vae_model_num_params(m));
    const double bad_s[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < TU_COUNT(bad_s); i++)
        EXPECT("scale NaN or Inf (gradients unchanged)", VAE_ERR_NONFINITE,
               vae_model_scale_grad(m, bad_s[i]), vae_model_last_error(m));
    assert_memory_equal(vae_model_grads(m), g0,
                        (size_t)vae_model_num_params(m) * sizeof(float));
    free(g0);
    vae_model_free(m3);
    vae_model_free(m);
}

/* The batch sizes every call that runs the model rejects with
 * VAE_ERR_RANGE, given the model's limit (the header's rule). */
static void bad_batches(int64_t limit, int64_t out[5])
{
    out[0] = 0;
    out[1] = -1;
    out[2] = INT64_MIN;
    out[3] = limit + 1;
    out[4] = INT64_MAX;
}

static void test_model_runs(void **state)
{
    (void)state;
    vae_model *m = bernoulli_model();
    const int64_t n = vae_model_num_params(m);
    float x[B * D], out[B * D], mu[B * L], z[B * L];
    double v[B];
    tu_rng r;
    tu_seed(&r, 3);
    tu_fill_uniform(&r, x, B * D, 0.0, 1.0);
    tu_fill_uniform(&r, z, B * L, -1.0, 1.0);

    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_elbo(NULL, x, B, 0, 0, 0),
           NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_elbo_grad(NULL, x, B, 0, 0, 0), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_encode(NULL, x, B, mu, NULL), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_decode(NULL, z, B, out),
           NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_sample(NULL, B, z, out),
           NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_reconstruct(NULL, x, B, out), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_log_likelihood(NULL, z, x, B, v), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_iwae(NULL, x, B, 4, v),
           NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_random_uniform(NULL, 4, out), NO_MSG);

#define EXPECT_M(what, status, call)                                        \
    EXPECT((what), (status), (call), vae_model_last_error(m))

    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG, vae_model_elbo(m, NULL, B, 0, 0, 0));
    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG,
             vae_model_elbo_grad(m, NULL, B, 0, 0, 0));
    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG,
             vae_model_encode(m, NULL, B, mu, NULL));
    EXPECT_M("NULL mu", VAE_ERR_INVALID_ARG, vae_model_encode(m, x, B, NULL, NULL));
    EXPECT_M("NULL z", VAE_ERR_INVALID_ARG, vae_model_decode(m, NULL, B, out));
    EXPECT_M("NULL out", VAE_ERR_INVALID_ARG, vae_model_decode(m, z, B, NULL));
    EXPECT_M("NULL out", VAE_ERR_INVALID_ARG, vae_model_sample(m, B, z, NULL));
    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG,
             vae_model_reconstruct(m, NULL, B, out));
    EXPECT_M("NULL out", VAE_ERR_INVALID_ARG,
             vae_model_reconstruct(m, x, B, NULL));
    EXPECT_M("NULL z", VAE_ERR_INVALID_ARG,
             vae_model_log_likelihood(m, NULL, x, B, v));
    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG,
             vae_model_log_likelihood(m, z, NULL, B, v));
    EXPECT_M("NULL logp", VAE_ERR_INVALID_ARG,
             vae_model_log_likelihood(m, z, x, B, NULL));
    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG, vae_model_iwae(m, NULL, B, 4, v));
    EXPECT_M("NULL logpx", VAE_ERR_INVALID_ARG, vae_model_iwae(m, x, B, 4, NULL));
    EXPECT_M("NULL out", VAE_ERR_INVALID_ARG, vae_model_random_uniform(m, 4, NULL));

    /* Batches: < 1, above the model's limit (vectors only: 2^31 - 1), and
     * far above it, which must fail before anything is allocated. */
    int64_t bb[5];
    bad_batches(INT32_MAX, bb);
    float *g0 = tu_dup(vae_model_grads(m), n);
    const char *batch_what = "batch < 1 or above the model's limit";
    for (int i = 0; i < 5; i++) {
        EXPECT_M(batch_what, VAE_ERR_RANGE, vae_model_elbo(m, x, bb[i], 0, 0, 0));
        EXPECT_M(batch_what, VAE_ERR_RANGE,
                 vae_model_elbo_grad(m, x, bb[i], 0, 0, 0));
        EXPECT_M(batch_what, VAE_ERR_RANGE,
                 vae_model_encode(m, x, bb[i], mu, NULL));
        EXPECT_M(batch_what, VAE_ERR_RANGE, vae_model_decode(m, z, bb[i], out));
        EXPECT_M(batch_what, VAE_ERR_RANGE, vae_model_sample(m, bb[i], z, out));
        EXPECT_M(batch_what, VAE_ERR_RANGE,
                 vae_model_reconstruct(m, x, bb[i], out));
        EXPECT_M(batch_what, VAE_ERR_RANGE,
                 vae_model_log_likelihood(m, z, x, bb[i], v));
        EXPECT_M(batch_what, VAE_ERR_RANGE, vae_model_iwae(m, x, bb[i], 4, v));
    }
    const int64_t bad_k[] = {0, -1, INT64_MIN, 1000000001, INT64_MAX};
    for (int i = 0; i < TU_COUNT(bad_k); i++)
        EXPECT_M("k not in 1..1e9", VAE_ERR_RANGE,
                 vae_model_iwae(m, x, B, bad_k[i], v));
    const int64_t bad_n[] = {-1, INT64_MIN};
    for (int i = 0; i < TU_COUNT(bad_n); i++)
        EXPECT_M("n < 0", VAE_ERR_RANGE,
                 vae_model_random_uniform(m, bad_n[i], out));

    /* Data the likelihood cannot score, anywhere in the batch. */
    const float bad_x[] = {NAN, INFINITY, -INFINITY, 1.5f, -0.1f};
    const int32_t bad_code[] = {VAE_ERR_NONFINITE, VAE_ERR_NONFINITE,
                                VAE_ERR_NONFINITE, VAE_ERR_RANGE,
                                VAE_ERR_RANGE};
    const char *const bad_what[] = {
        "x NaN", "x Inf", "x -Inf", "Bernoulli x above 1", "Bernoulli x below 0"};
    for (int i = 0; i < TU_COUNT(bad_x); i++) {
        float xb[B * D];
        memcpy(xb, x, sizeof xb);
        xb[B * D - 1] = bad_x[i];
        EXPECT_M(bad_what[i], bad_code[i], vae_model_elbo(m, xb, B, 0, 0, 0));
        EXPECT_M(bad_what[i], bad_code[i],
                 vae_model_elbo_grad(m, xb, B, 0, 0, 0));
        EXPECT_M(bad_what[i], bad_code[i], vae_model_encode(m, xb, B, mu, NULL));
        EXPECT_M(bad_what[i], bad_code[i],
                 vae_model_reconstruct(m, xb, B, out));
        EXPECT_M(bad_what[i], bad_code[i],
                 vae_model_log_likelihood(m, z, xb, B, v));
        EXPECT_M(bad_what[i], bad_code[i], vae_model_iwae(m, xb, B, 2, v));
    }
    const float bad_z[] = {NAN, INFINITY};
    for (int i = 0; i < TU_COUNT(bad_z); i++) {
        float zb[B * L];
        memcpy(zb, z, sizeof zb);
        zb[B * L - 1] = bad_z[i];
        EXPECT_M("z NaN or Inf", VAE_ERR_NONFINITE, vae_model_decode(m, zb, B, out));
        EXPECT_M("z NaN or Inf", VAE_ERR_NONFINITE,
                 vae_model_log_likelihood(m, zb, x, B, v));
    }
    /* With k importance samples the decoder's batch is batch x k rows, and
     * free bits do not apply. */
    const int64_t k = 4;
    assert_int_equal(vae_model_set_train_samples(m, k), VAE_OK);
    bad_batches(INT32_MAX / k, bb);
    for (int i = 0; i < 5; i++)
        EXPECT_M("batch x train samples < 1 or above the model's limit",
                 VAE_ERR_RANGE, vae_model_elbo_grad(m, x, bb[i], 0, 0, 0));
    assert_int_equal(vae_model_set_free_bits(m, 0.5), VAE_OK);
    EXPECT_M("free bits with train samples > 1", VAE_ERR_INVALID_ARG,
             vae_model_elbo_grad(m, x, B, 0, 0, 0));
    assert_int_equal(vae_model_set_free_bits(m, 0.0), VAE_OK);
    assert_int_equal(vae_model_set_train_samples(m, 1), VAE_OK);
    /* None of it touched the gradients. */
    assert_memory_equal(vae_model_grads(m), g0, (size_t)n * sizeof(float));
    free(g0);
#undef EXPECT_M
    vae_model_free(m);
}

/* Categorical models: token ids as data, the batch limit of a sequence
 * model, and generation. */
static void test_text_runs(void **state)
{
    (void)state;
    vae_model *m = text_model();
    float x[B * T], z[B * L], out[B * T];
    double v[B];
    text_data(x, B);
    memset(z, 0, sizeof z);
#define EXPECT_M(what, status, call)                                        \
    EXPECT((what), (status), (call), vae_model_last_error(m))

    const float bad_ids[] = {(float)V, -1.0f, 1.5f, 1e30f};
    for (int i = 0; i < TU_COUNT(bad_ids); i++) {
        float xb[B * T];
        memcpy(xb, x, sizeof xb);
        xb[2] = bad_ids[i];
        EXPECT_M("token id not an integer in 0..V-1", VAE_ERR_RANGE,
                 vae_model_elbo(m, xb, B, 0, 0, 0));
        EXPECT_M("token id not an integer in 0..V-1", VAE_ERR_RANGE,
                 vae_model_log_likelihood(m, z, xb, B, v));
    }
    /* Sequences of T steps: a dense or LSTM product has batch x T rows. */
    const int64_t limit = INT32_MAX / T;
    EXPECT_M("batch x T above 2^31 - 1", VAE_ERR_RANGE,
             vae_model_elbo(m, x, limit + 1, 0, 0, 0));
    EXPECT_M("batch x T above 2^31 - 1", VAE_ERR_RANGE,
             vae_model_decode(m, z, limit + 1, out));

    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_generate(NULL, z, B, VAE_DECODE_GREEDY, 1.0, 1, 1, 2, T,
                              out, NULL),
           NO_MSG);
    EXPECT_M("NULL z", VAE_ERR_INVALID_ARG,
             vae_model_generate(m, NULL, B, VAE_DECODE_GREEDY, 1.0, 1, 1, 2, T,
                                out, NULL));
    EXPECT_M("NULL out", VAE_ERR_INVALID_ARG,
             vae_model_generate(m, z, B, VAE_DECODE_GREEDY, 1.0, 1, 1, 2, T,
                                NULL, NULL));
    const int32_t bad_mode[] = {0, 5, -1, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_mode); i++)
        EXPECT_M("unknown mode", VAE_ERR_INVALID_ARG,
                 vae_model_generate(m, z, B, bad_mode[i], 1.0, 1, 1, 2, T, out,
                                    NULL));
    int64_t bn[5];
    bad_batches(limit, bn);
    for (int i = 0; i < 5; i++)
        EXPECT_M("n < 1 or above the model's limit", VAE_ERR_RANGE,
                 vae_model_generate(m, z, bn[i], VAE_DECODE_GREEDY, 1.0, 1, 1,
                                    2, T, out, NULL));
    EXPECT_M("n x beam above the model's limit", VAE_ERR_RANGE,
             vae_model_generate(m, z, limit / 1024 + 1, VAE_DECODE_BEAM, 1.0, 1,
                                1024, 2, T, out, NULL));
    const int64_t bad_len[] = {0, -1, ((int64_t)1 << 24) + 1, INT64_MAX};
    for (int i = 0; i < TU_COUNT(bad_len); i++)
        EXPECT_M("max_len not in 1..2^24", VAE_ERR_RANGE,
                 vae_model_generate(m, z, B, VAE_DECODE_GREEDY, 1.0, 1, 1, 2,
                                    bad_len[i], out, NULL));
    const double bad_temp[] = {0.0, -1.0, 1000.5, NAN, INFINITY};
    for (int i = 0; i < TU_COUNT(bad_temp); i++) {
        EXPECT_M("temperature not in (0, 1000] (sample)", VAE_ERR_RANGE,
                 vae_model_generate(m, z, B, VAE_DECODE_SAMPLE, bad_temp[i], 1,
                                    1, 2, T, out, NULL));
        EXPECT_M("temperature not in (0, 1000] (top-k)", VAE_ERR_RANGE,
                 vae_model_generate(m, z, B, VAE_DECODE_TOP_K, bad_temp[i], 2,
                                    1, 2, T, out, NULL));
    }
    const int64_t bad_topk[] = {0, -1, INT64_MIN};
    for (int i = 0; i < TU_COUNT(bad_topk); i++)
        EXPECT_M("top_k < 1", VAE_ERR_RANGE,
                 vae_model_generate(m, z, B, VAE_DECODE_TOP_K, 1.0, bad_topk[i],
                                    1, 2, T, out, NULL));
    const int64_t bad_beam[] = {0, -1, 1025, INT64_MAX, INT64_MIN};
    for (int i = 0; i < TU_COUNT(bad_beam); i++)
        EXPECT_M("beam not in 1..1024", VAE_ERR_RANGE,
                 vae_model_generate(m, z, B, VAE_DECODE_BEAM, 1.0, 1,
                                    bad_beam[i], 2, T, out, NULL));
    z[1] = NAN;
    EXPECT_M("z NaN", VAE_ERR_NONFINITE,
             vae_model_generate(m, z, B, VAE_DECODE_GREEDY, 1.0, 1, 1, 2, T,
                                out, NULL));
    z[1] = 0.0f;
    /* Parameters a mode does not use are ignored, whatever they hold. */
    EXPECT_M("unused temperature, top_k, beam ignored (greedy)", VAE_OK,
             vae_model_generate(m, z, B, VAE_DECODE_GREEDY, NAN, -5, -5, -5, T,
                                out, NULL));
#undef EXPECT_M

    vae_model *bern = bernoulli_model(), *reshaping = reshaping_text_model();
    EXPECT("model not categorical", VAE_ERR_UNSUPPORTED,
           vae_model_generate(bern, z, B, VAE_DECODE_GREEDY, 1.0, 1, 1, 2, T,
                              out, NULL),
           vae_model_last_error(bern));
    EXPECT("decoder that mixes time steps (reshape)", VAE_ERR_UNSUPPORTED,
           vae_model_generate(reshaping, z, B, VAE_DECODE_GREEDY, 1.0, 1, 1, 2,
                              T, out, NULL),
           vae_model_last_error(reshaping));
    vae_model_free(reshaping);
    vae_model_free(bern);
    vae_model_free(m);
}

/* The additions of issue 16: the noise of the z draws given, the raw
 * decoder output, and the generation settings kept on the model. */
static void test_noise_output_settings(void **state)
{
    (void)state;
    vae_model *m = bernoulli_model();
    float x[B * D], out[B * D], z[B * L], eps[B * L];
    tu_rng r;
    tu_seed(&r, 5);
    tu_fill_uniform(&r, x, B * D, 0.0, 1.0);
    tu_fill_uniform(&r, z, B * L, -1.0, 1.0);
    tu_fill_uniform(&r, eps, B * L, -1.0, 1.0);

    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_elbo_noise(NULL, x, B, eps, 0, 0, 0), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_elbo_grad_noise(NULL, x, B, eps, 0, 0, 0), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_decoder_output(NULL, z, x, B, out), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_output_size(NULL),
           NO_MSG);
    EXPECT("Bernoulli: the output is the data size", D,
           vae_model_output_size(m), NO_MSG);

#define EXPECT_M(what, status, call)                                        \
    EXPECT((what), (status), (call), vae_model_last_error(m))
    float *g0 = tu_dup(vae_model_grads(m), vae_model_num_params(m));
    EXPECT_M("NULL eps", VAE_ERR_INVALID_ARG,
             vae_model_elbo_noise(m, x, B, NULL, 0, 0, 0));
    EXPECT_M("NULL eps", VAE_ERR_INVALID_ARG,
             vae_model_elbo_grad_noise(m, x, B, NULL, 0, 0, 0));
    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG,
             vae_model_elbo_noise(m, NULL, B, eps, 0, 0, 0));
    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG,
             vae_model_elbo_grad_noise(m, NULL, B, eps, 0, 0, 0));
    int64_t bb[5];
    bad_batches(INT32_MAX, bb);
    for (int i = 0; i < 5; i++) {
        EXPECT_M("batch < 1 or above the model's limit", VAE_ERR_RANGE,
                 vae_model_elbo_noise(m, x, bb[i], eps, 0, 0, 0));
        EXPECT_M("batch < 1 or above the model's limit", VAE_ERR_RANGE,
                 vae_model_elbo_grad_noise(m, x, bb[i], eps, 0, 0, 0));
        EXPECT_M("batch < 1 or above the model's limit", VAE_ERR_RANGE,
                 vae_model_decoder_output(m, z, x, bb[i], out));
    }
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < TU_COUNT(bad); i++) {
        float eb[B * L], zb[B * L];
        memcpy(eb, eps, sizeof eb);
        memcpy(zb, z, sizeof zb);
        eb[B * L - 1] = zb[B * L - 1] = bad[i];
        EXPECT_M("eps NaN or Inf", VAE_ERR_NONFINITE,
                 vae_model_elbo_noise(m, x, B, eb, 0, 0, 0));
        EXPECT_M("eps NaN or Inf (gradients unchanged)", VAE_ERR_NONFINITE,
                 vae_model_elbo_grad_noise(m, x, B, eb, 0, 0, 0));
        EXPECT_M("z NaN or Inf", VAE_ERR_NONFINITE,
                 vae_model_decoder_output(m, zb, x, B, out));
    }
    assert_memory_equal(vae_model_grads(m), g0,
                        (size_t)vae_model_num_params(m) * sizeof(float));
    EXPECT_M("NULL z", VAE_ERR_INVALID_ARG,
             vae_model_decoder_output(m, NULL, x, B, out));
    EXPECT_M("NULL out", VAE_ERR_INVALID_ARG,
             vae_model_decoder_output(m, z, x, B, NULL));
    EXPECT_M("x NULL: not read without a data node", VAE_OK,
             vae_model_decoder_output(m, z, NULL, B, out));
    free(g0);
    vae_model_free(m);

    m = text_model();
    float ids[B * T] = {0}, tok[B * T];
    EXPECT_M("x NULL with a data node", VAE_ERR_INVALID_ARG,
             vae_model_decoder_output(m, z, NULL, B, tok));
    ids[0] = (float)V;
    EXPECT_M("x holds an id outside the vocabulary", VAE_ERR_RANGE,
             vae_model_decoder_output(m, z, ids, B, tok));
    EXPECT("categorical: T x V", T * V, vae_model_output_size(m), NO_MSG);

    double v = 0.0;
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_set_generation(NULL, VAE_GEN_MODE, 1), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_get_generation(NULL, VAE_GEN_MODE, &v), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_generate_tokens(NULL, z, B, T, tok, NULL), NO_MSG);
    EXPECT_M("NULL value", VAE_ERR_INVALID_ARG,
             vae_model_get_generation(m, VAE_GEN_MODE, NULL));
    const int32_t bad_key[] = {0, 9, -1, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_key); i++) {
        EXPECT_M("unknown key", VAE_ERR_INVALID_ARG,
                 vae_model_set_generation(m, bad_key[i], 1));
        EXPECT_M("unknown key", VAE_ERR_INVALID_ARG,
                 vae_model_get_generation(m, bad_key[i], &v));
    }
    const struct {
        int32_t key;
        double value;
    } bad_set[] = {
        {VAE_GEN_MODE, 0},           {VAE_GEN_MODE, 7},
        {VAE_GEN_MODE, 1.5},         {VAE_GEN_MODE, NAN},
        {VAE_GEN_TEMPERATURE, 0},    {VAE_GEN_TEMPERATURE, -1},
        {VAE_GEN_TEMPERATURE, 1001}, {VAE_GEN_TEMPERATURE, NAN},
        {VAE_GEN_TOP_K, 0},          {VAE_GEN_TOP_K, 2.5},
        {VAE_GEN_TOP_K, 16777217},   {VAE_GEN_TOP_K, INFINITY},
        {VAE_GEN_BEAM, 0},           {VAE_GEN_BEAM, 1025},
        {VAE_GEN_EOS, -2},           {VAE_GEN_EOS, 16777216},
        {VAE_GEN_EOS, 0.5},          {VAE_GEN_TOP_P, 0},
        {VAE_GEN_TOP_P, 1.01},       {VAE_GEN_TOP_P, NAN},
        {VAE_GEN_NO_REPEAT_NGRAM, -1}, {VAE_GEN_NO_REPEAT_NGRAM, 65},
        {VAE_GEN_NO_REPEAT_NGRAM, 2.5}, {VAE_GEN_LENGTH_PENALTY, -0.1},
        {VAE_GEN_LENGTH_PENALTY, 10.5}, {VAE_GEN_LENGTH_PENALTY, NAN},
        {VAE_GEN_MODE, 6},
    };
    for (int i = 0; i < TU_COUNT(bad_set); i++) {
        EXPECT_M("value outside the key's range (setting unchanged)",
                 VAE_ERR_RANGE,
                 vae_model_set_generation(m, bad_set[i].key,
                                          bad_set[i].value));
        assert_int_equal(vae_model_get_generation(m, bad_set[i].key, &v),
                         VAE_OK);
        assert_false(v == bad_set[i].value);
    }
    EXPECT_M("NULL z", VAE_ERR_INVALID_ARG,
             vae_model_generate_tokens(m, NULL, B, T, tok, NULL));
    EXPECT_M("NULL out", VAE_ERR_INVALID_ARG,
             vae_model_generate_tokens(m, z, B, T, NULL, NULL));
    EXPECT_M("max_len not in 1..2^24", VAE_ERR_RANGE,
             vae_model_generate_tokens(m, z, B, 0, tok, NULL));
    EXPECT_M("n < 1", VAE_ERR_RANGE,
             vae_model_generate_tokens(m, z, 0, T, tok, NULL));
#undef EXPECT_M
    vae_model_free(m);
}

/* Conditional models (issue 21): the rows of the next calls, and every
 * call that runs the model refusing a condition that is missing or of
 * another size (the condition node's builder: tests/ops/test_condition.c). */
static vae_model *conditional_model(void)
{
    const int64_t d = D, l = L;
    vae_graph *enc = NULL, *dec = NULL;
    assert_int_equal(vae_graph_new(&enc), VAE_OK);
    assert_int_equal(vae_graph_new(&dec), VAE_OK);
    int32_t x = vae_graph_input(enc, &d, 1);
    vae_graph_set_output(enc, vae_graph_concat(enc, x,
                                               vae_graph_condition(enc, 2)));
    int32_t z = vae_graph_input(dec, &l, 1);
    int32_t zc = vae_graph_concat(dec, z, vae_graph_condition(dec, 2));
    vae_graph_set_output(dec, vae_graph_dense(dec, zc, D));
    return new_model(check_graph(enc), check_graph(dec),
                     VAE_LIKELIHOOD_BERNOULLI);
}

static void test_conditions(void **state)
{
    (void)state;
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_set_condition(NULL, NULL, 0), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_condition_size(NULL),
           NO_MSG);
    vae_model *plain = bernoulli_model(), *m = conditional_model();
    const float c[2 * B] = {1, 0, 0, 1, 1, 1};
    EXPECT("unconditional model", VAE_ERR_INVALID_ARG,
           vae_model_set_condition(plain, c, 1), vae_model_last_error(plain));
    NOTE(vae_model_set_condition(plain, NULL, 0), "rows 0: clears, any model");
    assert_int_equal(vae_model_set_condition(plain, NULL, 0), VAE_OK);
    NOTE(vae_model_condition_size(plain), "unconditional: 0");
    assert_int_equal(vae_model_condition_size(plain), 0);
    assert_int_equal(vae_model_condition_size(m), 2);
    const int64_t bad_rows[] = {-1, INT64_MIN, INT64_MAX};
    for (int i = 0; i < TU_COUNT(bad_rows); i++)
        EXPECT("rows not in 0..2^63/8/size", VAE_ERR_RANGE,
               vae_model_set_condition(m, c, bad_rows[i]),
               vae_model_last_error(m));
    EXPECT("cond NULL, rows > 0", VAE_ERR_INVALID_ARG,
           vae_model_set_condition(m, NULL, 1), vae_model_last_error(m));
    const float nan_c[2] = {0.0f, NAN};
    EXPECT("NaN in cond", VAE_ERR_NONFINITE,
           vae_model_set_condition(m, nan_c, 1), vae_model_last_error(m));

    /* Each call with n examples: no condition, then B - 1 rows. */
    float x[B * D] = {0}, z[B * L] = {0}, out[B * D], mu[B * L];
    double r[B], mi;
    int64_t count;
    for (int pass = 0; pass < 2; pass++) {
        const char *what = pass ? "condition of another size"
                                : "no condition given";
        int32_t want = pass ? VAE_ERR_SHAPE : VAE_ERR_INVALID_ARG;
        assert_int_equal(vae_model_set_condition(m, c, pass ? B - 1 : 0),
                         VAE_OK);
        EXPECT(what, want, vae_model_elbo(m, x, B, r, NULL, NULL),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_elbo_grad(m, x, B, r, NULL, NULL),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_elbo_noise(m, x, B, z, r, NULL, NULL),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_elbo_grad_noise(m, x, B, z, r, NULL, NULL),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_encode(m, x, B, mu, NULL),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_decode(m, z, B, out),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_decoder_output(m, z, NULL, B, out),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_sample(m, B, NULL, out),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_reconstruct(m, x, B, out),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_log_likelihood(m, z, x, B, r),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_iwae(m, x, B, 2, r),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_mutual_info(m, x, B, 1, &mi),
               vae_model_last_error(m));
        EXPECT(what, want, vae_model_active_units(m, x, B, 0.01, &count, NULL),
               vae_model_last_error(m));
    }
    vae_model_free(plain);
    vae_model_free(m);
}

/* The additions of issue 17: free bits per example, a fresh decoder, and
 * the posterior's statistics over a set. */
static void test_text_vae_levers(void **state)
{
    (void)state;
    vae_model *m = bernoulli_model();
    float x[B * D];
    tu_rng r;
    tu_seed(&r, 6);
    tu_fill_uniform(&r, x, B * D, 0.0, 1.0);
    double mi = 0.0, var[L];
    int64_t count = 0;
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_set_free_bits_mode(NULL, VAE_FREE_BITS_EXAMPLE), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_reset_decoder(NULL, 1), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_mutual_info(NULL, x, B, 1, &mi), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_active_units(NULL, x, B, 0.01, &count, var), NO_MSG);
#define EXPECT_M(what, status, call)                                        \
    EXPECT((what), (status), (call), vae_model_last_error(m))
    const int32_t bad_mode[] = {-1, 2, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_mode); i++)
        EXPECT_M("unknown free bits mode", VAE_ERR_INVALID_ARG,
                 vae_model_set_free_bits_mode(m, bad_mode[i]));
    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG,
             vae_model_mutual_info(m, NULL, B, 1, &mi));
    EXPECT_M("NULL mi", VAE_ERR_INVALID_ARG,
             vae_model_mutual_info(m, x, B, 1, NULL));
    EXPECT_M("NULL x", VAE_ERR_INVALID_ARG,
             vae_model_active_units(m, NULL, B, 0.01, &count, var));
    EXPECT_M("NULL count", VAE_ERR_INVALID_ARG,
             vae_model_active_units(m, x, B, 0.01, NULL, var));
    const int64_t bad_n[] = {1, 0, -1, INT64_MIN, INT64_MAX};
    for (int i = 0; i < TU_COUNT(bad_n); i++) {
        EXPECT_M("n not in 2..(a memory limit)", VAE_ERR_RANGE,
                 vae_model_mutual_info(m, x, bad_n[i], 1, &mi));
        EXPECT_M("n not in 2..(a memory limit)", VAE_ERR_RANGE,
                 vae_model_active_units(m, x, bad_n[i], 0.01, &count, var));
    }
    const int64_t bad_samples[] = {0, -1, 1000001, INT64_MAX};
    for (int i = 0; i < TU_COUNT(bad_samples); i++)
        EXPECT_M("samples not in 1..1e6", VAE_ERR_RANGE,
                 vae_model_mutual_info(m, x, B, bad_samples[i], &mi));
    const double bad_threshold[] = {-0.1, NAN, INFINITY};
    for (int i = 0; i < TU_COUNT(bad_threshold); i++)
        EXPECT_M("threshold < 0 or not finite", VAE_ERR_RANGE,
                 vae_model_active_units(m, x, B, bad_threshold[i], &count,
                                        var));
    x[1] = NAN;
    EXPECT_M("x NaN", VAE_ERR_NONFINITE,
             vae_model_mutual_info(m, x, B, 1, &mi));
    EXPECT_M("x NaN", VAE_ERR_NONFINITE,
             vae_model_active_units(m, x, B, 0.01, &count, var));
    x[1] = 1.5f;
    EXPECT_M("Bernoulli x above 1", VAE_ERR_RANGE,
             vae_model_mutual_info(m, x, B, 1, &mi));
    EXPECT_M("any seed is valid", VAE_OK,
             vae_model_reset_decoder(m, UINT64_MAX));
#undef EXPECT_M
    vae_model_free(m);
}

/* ---- Adam and training --------------------------------------------------- */

static void test_adam(void **state)
{
    (void)state;
    vae_model *m = bernoulli_model(), *other = NULL;
    vae_adam *o = NULL;
    const double bad_lr[] = {0.0, -1e-3, NAN, INFINITY, -INFINITY};

    EXPECT_E("NULL out", VAE_ERR_INVALID_ARG,
             vae_adam_new(m, 1e-3, NULL, ebuf, sizeof ebuf));
    EXPECT_E("NULL model", VAE_ERR_INVALID_ARG,
             vae_adam_new(NULL, 1e-3, &o, ebuf, sizeof ebuf));
    assert_null(o);
    for (int i = 0; i < TU_COUNT(bad_lr); i++) {
        EXPECT_E("lr NaN, Inf or <= 0", VAE_ERR_RANGE,
                 vae_adam_new(m, bad_lr[i], &o, ebuf, sizeof ebuf));
        assert_null(o);
    }
    vae_adam_free(NULL);
    NOTE(vae_adam_free(NULL), "NULL is a no-op");
    NOTE(vae_adam_last_error(NULL), "NULL optimizer: a fixed message");
    assert_true(vae_adam_last_error(NULL)[0] != '\0');

    assert_int_equal(vae_adam_new(m, 0.1, &o, NULL, 0), VAE_OK);
    NOTE(vae_adam_last_error(o), "no error yet: empty string");
    assert_string_equal(vae_adam_last_error(o), "");
#define EXPECT_O(what, status, call)                                        \
    EXPECT((what), (status), (call), vae_adam_last_error(o))
    EXPECT("NULL optimizer", VAE_ERR_INVALID_ARG, vae_adam_set_lr(NULL, 1e-3),
           NO_MSG);
    EXPECT("NULL optimizer", VAE_ERR_INVALID_ARG,
           vae_adam_set_betas(NULL, 0.9, 0.999, 1e-8), NO_MSG);
    EXPECT("NULL optimizer", VAE_ERR_INVALID_ARG,
           vae_adam_set_weight_decay(NULL, 0.0, 0), NO_MSG);
    EXPECT("NULL optimizer", VAE_ERR_INVALID_ARG,
           vae_adam_set_clip_norm(NULL, 1.0), NO_MSG);
    EXPECT("NULL optimizer", VAE_ERR_INVALID_ARG, vae_adam_steps(NULL), NO_MSG);
    EXPECT("NULL optimizer", VAE_ERR_INVALID_ARG, vae_adam_step(NULL, m), NO_MSG);
    for (int i = 0; i < TU_COUNT(bad_lr); i++)
        EXPECT_O("lr NaN, Inf or <= 0", VAE_ERR_RANGE,
                 vae_adam_set_lr(o, bad_lr[i]));
    const double bad_betas[][3] = {
        {1.0, 0.999, 1e-8}, {-0.1, 0.999, 1e-8}, {NAN, 0.999, 1e-8},
        {0.9, 1.0, 1e-8},   {0.9, -1e-9, 1e-8},  {0.9, INFINITY, 1e-8},
        {0.9, 0.999, 0.0},  {0.9, 0.999, -1.0},  {0.9, 0.999, NAN},
        {0.9, 0.999, INFINITY}};
    for (int i = 0; i < TU_COUNT(bad_betas); i++)
        EXPECT_O("betas not in [0, 1) or eps not finite > 0", VAE_ERR_RANGE,
                 vae_adam_set_betas(o, bad_betas[i][0], bad_betas[i][1],
                                    bad_betas[i][2]));
    const double bad_wd[] = {-0.1, NAN, INFINITY};
    for (int i = 0; i < TU_COUNT(bad_wd); i++)
        EXPECT_O("weight decay NaN, Inf or < 0", VAE_ERR_RANGE,
                 vae_adam_set_weight_decay(o, bad_wd[i], 1));
    const int32_t bad_dec[] = {2, -1, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_dec); i++)
        EXPECT_O("decoupled not 0 or 1", VAE_ERR_INVALID_ARG,
                 vae_adam_set_weight_decay(o, 0.1, bad_dec[i]));
    const double bad_clip[] = {-1.0, NAN, INFINITY};
    for (int i = 0; i < TU_COUNT(bad_clip); i++)
        EXPECT_O("max_norm NaN, Inf or < 0", VAE_ERR_RANGE,
                 vae_adam_set_clip_norm(o, bad_clip[i]));

    /* Steps that must not change the model or the optimizer. */
    const tu_layer enc2[] = {TU_DENSE(7)};
    const tu_layer dec2[] = {TU_DENSE(D)};
    other = tu_model(D, enc2, 1, L, dec2, 1, VAE_LIKELIHOOD_BERNOULLI, 1);
    size_t len0 = 0, len1 = 0;
    unsigned char *before = tu_save_image(m, o, &len0);
    EXPECT_O("NULL model", VAE_ERR_INVALID_ARG, vae_adam_step(o, NULL));
    EXPECT_O("model of another size", VAE_ERR_SHAPE, vae_adam_step(o, other));
    float *g = vae_model_grads(m);
    g[3] = NAN;
    EXPECT_O("NaN gradient (parameters and state unchanged)",
             VAE_ERR_NONFINITE, vae_adam_step(o, m));
    g[3] = INFINITY;
    EXPECT_O("Inf gradient (parameters and state unchanged)",
             VAE_ERR_NONFINITE, vae_adam_step(o, m));
    g[3] = 0.0f;
    unsigned char *after = tu_save_image(m, o, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    EXPECT("no step taken", 0, vae_adam_steps(o), NO_MSG);

    /* train_step reports on the model. */
    float x[B * D];
    tu_rng r;
    tu_seed(&r, 9);
    tu_fill_uniform(&r, x, B * D, 0.0, 1.0);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_train_step(NULL, o, x, B, 0, 0, 0), NO_MSG);
#define EXPECT_T(mod, what, status, call)                                   \
    EXPECT((what), (status), (call), vae_model_last_error(mod))
    EXPECT_T(m, "NULL optimizer", VAE_ERR_INVALID_ARG,
             vae_model_train_step(m, NULL, x, B, 0, 0, 0));
    EXPECT_T(m, "NULL x", VAE_ERR_INVALID_ARG,
             vae_model_train_step(m, o, NULL, B, 0, 0, 0));
    int64_t bb[5];
    bad_batches(INT32_MAX, bb);
    for (int i = 0; i < 5; i++)
        EXPECT_T(m, "batch < 1 or above the model's limit", VAE_ERR_RANGE,
                 vae_model_train_step(m, o, x, bb[i], 0, 0, 0));
    x[5] = NAN;
    EXPECT_T(m, "x NaN", VAE_ERR_NONFINITE,
             vae_model_train_step(m, o, x, B, 0, 0, 0));
    x[5] = 0.5f;
    EXPECT_T(other, "optimizer of another model", VAE_ERR_SHAPE,
             vae_model_train_step(other, o, x, B, 0, 0, 0));
    free(after);
    after = tu_save_image(m, o, &len1);
    assert_memory_equal(before, after, len0);
    assert_int_equal(vae_adam_steps(o), 0);
#undef EXPECT_O
#undef EXPECT_T
    free(before);
    free(after);
    vae_model_free(other);
    vae_adam_free(o);
    vae_model_free(m);
}

/* ---- Save and load ------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_io(void **state)
{
    (void)state;
    char dir[] = "/tmp/vae-validation.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[96], missing[128], empty_path[96], junk_path[96], cut_path[96];
    snprintf(path, sizeof path, "%s/m.vae", dir);
    snprintf(missing, sizeof missing, "%s/no-such-dir/m.vae", dir);
    snprintf(empty_path, sizeof empty_path, "%s/empty.vae", dir);
    snprintf(junk_path, sizeof junk_path, "%s/junk.vae", dir);
    snprintf(cut_path, sizeof cut_path, "%s/cut.vae", dir);

    vae_model *m = bernoulli_model(), *out = NULL, *other = NULL;
    vae_adam *o = NULL, *foreign = NULL, *opt_out = NULL;
    assert_int_equal(vae_adam_new(m, 1e-3, &o, NULL, 0), VAE_OK);
    const tu_layer enc2[] = {TU_DENSE(7)};
    const tu_layer dec2[] = {TU_DENSE(D)};
    other = tu_model(D, enc2, 1, L, dec2, 1, VAE_LIKELIHOOD_BERNOULLI, 1);
    assert_int_equal(vae_adam_new(other, 1e-3, &foreign, NULL, 0), VAE_OK);
    size_t size = 0, written = 0, queried = 0;
    unsigned char *good = tu_save_image(m, o, &size);
    unsigned char *buf = tu_alloc(size);

#define EXPECT_M(what, status, call)                                        \
    EXPECT((what), (status), (call), vae_model_last_error(m))
    EXPECT("NULL model", VAE_ERR_INVALID_ARG, vae_model_save(NULL, o, path),
           NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_save_size(NULL, o, &queried), NO_MSG);
    EXPECT("NULL model", VAE_ERR_INVALID_ARG,
           vae_model_save_to_buffer(NULL, o, buf, size, &written), NO_MSG);
    EXPECT_M("NULL path", VAE_ERR_INVALID_ARG, vae_model_save(m, o, NULL));
    EXPECT_M("NULL size", VAE_ERR_INVALID_ARG, vae_model_save_size(m, o, NULL));
    EXPECT_M("NULL buf", VAE_ERR_INVALID_ARG,
             vae_model_save_to_buffer(m, o, NULL, size, &written));
    EXPECT_M("NULL written", VAE_ERR_INVALID_ARG,
             vae_model_save_to_buffer(m, o, buf, size, NULL));
    const size_t bad_cap[] = {0, 1, size - 1};
    for (int i = 0; i < TU_COUNT(bad_cap); i++)
        EXPECT_M("capacity below the size query", VAE_ERR_INVALID_ARG,
                 vae_model_save_to_buffer(m, o, buf, bad_cap[i], &written));
    EXPECT_M("optimizer of another model", VAE_ERR_INVALID_ARG,
             vae_model_save(m, foreign, path));
    EXPECT_M("optimizer of another model", VAE_ERR_INVALID_ARG,
             vae_model_save_size(m, foreign, &queried));
    EXPECT_M("optimizer of another model", VAE_ERR_INVALID_ARG,
             vae_model_save_to_buffer(m, foreign, buf, size, &written));
    EXPECT_M("directory that does not exist", VAE_ERR_IO,
             vae_model_save(m, o, missing));
    EXPECT_M("empty path", VAE_ERR_IO, vae_model_save(m, o, ""));
    EXPECT_M("path is a directory", VAE_ERR_IO, vae_model_save(m, o, dir));
    float *p = vae_model_params(m);
    const float keep = p[2];
    p[2] = NAN;
    EXPECT_M("NaN parameter", VAE_ERR_NONFINITE, vae_model_save(m, o, path));
    EXPECT_M("NaN parameter", VAE_ERR_NONFINITE,
             vae_model_save_size(m, o, &queried));
    EXPECT_M("NaN parameter", VAE_ERR_NONFINITE,
             vae_model_save_to_buffer(m, o, buf, size, &written));
    p[2] = keep;
#undef EXPECT_M

    /* Loads: each fails with no objects returned. */
    assert_int_equal(vae_model_save(m, o, path), VAE_OK);
    write_file(empty_path, "", 0);
    memset(buf, 0xA5, size);
    write_file(junk_path, buf, size);
    write_file(cut_path, good, size - 1);
#define EXPECT_LOAD(what, status, call)                                     \
    do {                                                                    \
        out = (vae_model *)&out;                                            \
        opt_out = (vae_adam *)&opt_out;                                     \
        EXPECT_E((what), (status), (call));                                 \
        assert_null(out);                                                   \
        assert_null(opt_out);                                               \
    } while (0)
    EXPECT_E("NULL out", VAE_ERR_INVALID_ARG,
             vae_model_load(path, NULL, &opt_out, ebuf, sizeof ebuf));
    EXPECT_E("NULL out", VAE_ERR_INVALID_ARG,
             vae_model_load_from_buffer(good, size, NULL, &opt_out, ebuf,
                                        sizeof ebuf));
    EXPECT_LOAD("NULL path", VAE_ERR_INVALID_ARG,
                vae_model_load(NULL, &out, &opt_out, ebuf, sizeof ebuf));
    EXPECT_LOAD("file that does not exist", VAE_ERR_IO,
                vae_model_load(missing, &out, &opt_out, ebuf, sizeof ebuf));
    EXPECT_LOAD("path is a directory", VAE_ERR_IO,
                vae_model_load(dir, &out, &opt_out, ebuf, sizeof ebuf));
    EXPECT_LOAD("empty file", VAE_ERR_FORMAT,
                vae_model_load(empty_path, &out, &opt_out, ebuf, sizeof ebuf));
    EXPECT_LOAD("junk bytes", VAE_ERR_FORMAT,
                vae_model_load(junk_path, &out, &opt_out, ebuf, sizeof ebuf));
    EXPECT_LOAD("file one byte short", VAE_ERR_FORMAT,
                vae_model_load(cut_path, &out, &opt_out, ebuf, sizeof ebuf));
    EXPECT_LOAD("NULL buf", VAE_ERR_INVALID_ARG,
                vae_model_load_from_buffer(NULL, size, &out, &opt_out, ebuf,
                                           sizeof ebuf));
    EXPECT_LOAD("len 0", VAE_ERR_FORMAT,
                vae_model_load_from_buffer(good, 0, &out, &opt_out, ebuf,
                                           sizeof ebuf));
    EXPECT_LOAD("junk bytes", VAE_ERR_FORMAT,
                vae_model_load_from_buffer(buf, size, &out, &opt_out, ebuf,
                                           sizeof ebuf));
    const size_t cut[] = {1, 8, size / 2, size - 1};
    for (int i = 0; i < TU_COUNT(cut); i++)
        EXPECT_LOAD("truncated", VAE_ERR_FORMAT,
                    vae_model_load_from_buffer(good, cut[i], &out, &opt_out,
                                               ebuf, sizeof ebuf));
#undef EXPECT_LOAD
    /* The good bytes still load; without opt_out the optimizer is skipped. */
    assert_int_equal(vae_model_load_from_buffer(good, size, &out, NULL, NULL, 0),
                     VAE_OK);
    vae_model_free(out);
    assert_int_equal(vae_model_load(path, &out, NULL, NULL, 0), VAE_OK);
    vae_model_free(out);

    /* No failed save left a file behind. */
    const char *left[] = {path, empty_path, junk_path, cut_path};
    for (int i = 0; i < TU_COUNT(left); i++)
        assert_int_equal(unlink(left[i]), 0);
    assert_int_equal(rmdir(dir), 0);
    free(buf);
    free(good);
    vae_adam_free(foreign);
    vae_model_free(other);
    vae_adam_free(o);
    vae_model_free(m);
}

/* ---- Version, status strings, threads ------------------------------------ */

static void test_misc(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", VAE_VERSION_MAJOR,
             VAE_VERSION_MINOR, VAE_VERSION_PATCH);
    NOTE(vae_version_string(), "no arguments: the header's version");
    assert_string_equal(vae_version_string(), want);
    EXPECT("no arguments: the header's version", VAE_VERSION_NUMBER,
           vae_version_number(), NO_MSG);

    const int32_t unknown[] = {1, -12, 100, INT32_MIN, INT32_MAX};
    for (int i = 0; i < TU_COUNT(unknown); i++) {
        NOTE(vae_status_string(unknown[i]), "unknown status: fixed text");
        assert_string_equal(vae_status_string(unknown[i]), "unknown status");
    }

    int32_t before = vae_get_num_threads();
    EXPECT("no arguments: the current count", before, vae_get_num_threads(),
           NO_MSG);
    assert_true(before >= 1);
    const int32_t bad_n[] = {0, -1, 1025, INT32_MIN, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_n); i++)
        EXPECT("n not in 1..1024 (count unchanged)", VAE_ERR_RANGE,
               vae_set_num_threads(bad_n[i]), NO_MSG);
    assert_int_equal(vae_get_num_threads(), before);
}

/* ---- Every public function has checks ------------------------------------ */

/* Every public function but the op builders has checks here, and none of
 * the builders has: theirs are in tests/ops/test_<file>.c, beside the op
 * (its src/ops/<file>.c), where test_ops's table walk requires them. The
 * builders are found in src/ops, so a new op needs no edit here. */
static void test_every_function_checked(void **state)
{
    (void)state;
    enum { MAX_BUILDERS = 64 };
    tu_builder builders[MAX_BUILDERS];
    int n_builders = tu_op_builders(VAE_OPS_SRC_DIR, builders, MAX_BUILDERS);
    char *header = tu_read_text(VAE_HEADER_PATH);
    const char *text = header;
    char name[TU_NAME_LEN];
    int declared = 0, left = 0, missing = 0;
    while (tu_next_api_function(&text, name, sizeof name)) {
        declared++;
        if (tu_is_op_builder(name, builders, n_builders))
            left++;
        else if (tu_checks_of(name) == 0) {
            print_error("no validation check for %s\n", name);
            missing++;
        }
    }
    free(header);
    int misplaced = 0;
    for (int i = 0; i < n_builders; i++)
        if (tu_checks_of(builders[i].name) > 0) {
            print_error("%s is an op builder (src/ops/%s.c): its checks "
                        "belong in tests/ops/test_%s.c\n", builders[i].name,
                        builders[i].stem, builders[i].stem);
            misplaced++;
        }
    assert_int_equal(missing, 0);
    assert_int_equal(misplaced, 0);
    /* Every builder found in src/ops is declared in the header, and every
     * function recorded here is (no check of a misspelt name). */
    assert_int_equal(left, n_builders);
    assert_int_equal(declared - left, tu_checked_count());
    tu_checks_table();
}

static int teardown(void **state)
{
    (void)state;
    vae_graph_free(G);
    G = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_misc),
        cmocka_unit_test(test_graph_basics),
        cmocka_unit_test(test_model_new),
        cmocka_unit_test(test_model_settings),
        cmocka_unit_test(test_model_queries),
        cmocka_unit_test(test_model_runs),
        cmocka_unit_test(test_text_runs),
        cmocka_unit_test(test_noise_output_settings),
        cmocka_unit_test(test_text_vae_levers),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_io),
        cmocka_unit_test(test_every_function_checked),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
