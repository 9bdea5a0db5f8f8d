/* The small sequence ops: data, embedding, repeat, concat, shift_right and
 * token_dropout. Forward values against hand-written expectations on tiny
 * inputs, central-difference gradients and accumulation for the ops with
 * gradients, the embedding's N(0, 1) initialisation, the id rewriters'
 * training, carry and random behaviour, and shape errors through the public
 * builders.
 *
 * Tolerances (|a - b| <= tol * max(1, |a|, |b|), see tu_close):
 *  - Copies (every forward here) are exact: compared with ==.
 *  - Central differences: embedding, repeat and concat are linear in each
 *    single input and weight, so a central difference has no truncation
 *    error at any step; a step of 0.125 (exact in float) keeps the float32
 *    rounding noise of the loss small. LINEAR_FD_TOL 1e-5; the largest
 *    disagreement measured is 7e-8. A wrong index, an overwritten instead
 *    of accumulated gradient or a lost repeat is off by O(0.1) or more.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "rng.h"
#include "testutil.h"

#define LINEAR_FD_H 0.125f
#define LINEAR_FD_TOL 1e-5

/* An id input [T] whose values the test sets (id_max only shapes the
 * harness's own random fill). */
static tu_input ids_input(int64_t T, int64_t id_max)
{
    tu_input in = {1, {T}, id_max};
    return in;
}

static void expect_exact(const float *got, const float *want, int64_t n,
                         const char *what)
{
    for (int64_t i = 0; i < n; i++)
        if (!(got[i] == want[i]))
            fail_msg("%s[%lld]: %g, want %g", what, (long long)i,
                     (double)got[i], (double)want[i]);
}

static void check_linear_grads(tu_harness *h, const char *what)
{
    h->fd_step = LINEAR_FD_H;
    double worst = tu_check_grads(h, what, LINEAR_FD_TOL);
    printf("  %s: worst relative gradient error %.3g\n", what, worst);
    tu_check_accumulates(h);
}

/* ---- embedding ---------------------------------------------------------- */

static void embedding_harness(tu_harness *h, int64_t T, int64_t vocab,
                              int64_t dim, int64_t shared, int64_t batch,
                              uint64_t seed)
{
    const tu_input in = ids_input(T, vocab);
    const int64_t attr[3] = {vocab, dim, shared};
    tu_harness_init_op(h, &in, 1, VAE_OP_EMBEDDING, attr, 3, NULL, 0, batch,
                       seed);
}

/* Table row r, column j holds 10 r + j, so each output names its source. */
static void numbered_table(float *w, int64_t vocab, int64_t dim)
{
    for (int64_t r = 0; r < vocab; r++)
        for (int64_t j = 0; j < dim; j++)
            w[r * dim + j] = (float)(10 * r + j);
}

static void test_embedding_forward(void **state)
{
    (void)state;
    tu_harness h;
    embedding_harness(&h, 3, 5, 2, 0, 2, 1);
    assert_int_equal(h.node.s.rank, 2);
    assert_int_equal(h.node.s.shape[0], 3);
    assert_int_equal(h.node.s.shape[1], 2);
    assert_int_equal(h.node.s.n_params, 5 * 2);
    numbered_table(h.w, 5, 2);
    const float ids[6] = {3, 0, 4, 1, 1, 2};
    memcpy(h.in.val, ids, sizeof ids);
    tu_forward(&h);
    const float want[12] = {30, 31, 0, 1, 40, 41, 10, 11, 10, 11, 20, 21};
    expect_exact(h.node.val, want, 12, "embedding");
    tu_harness_free(&h);
}

/* Ids that are not integers in [0, vocab) read nothing and learn nothing. */
static void test_embedding_bad_ids(void **state)
{
    (void)state;
    tu_harness h;
    embedding_harness(&h, 9, 5, 2, 0, 1, 2);
    numbered_table(h.w, 5, 2);
    const float ids[9] = {-1.0f, 5.0f,     2.5f,  NAN,  1e30f,
                          -1e30f, INFINITY, 4.0f, 0.999f};
    memcpy(h.in.val, ids, sizeof ids);
    memset(h.dw, 0, 10 * sizeof(float));
    tu_backward(&h);
    const float want[18] = {0, 0, 0, 0, 0, 0, 0, 0, 0,
                            0, 0, 0, 0, 0, 40, 41, 0, 0};
    expect_exact(h.node.val, want, 18, "embedding of bad ids");
    /* Only row 4 (from position 7) has a gradient. */
    for (int64_t k = 0; k < 10; k++) {
        float expect = k >= 8 ? h.r[7 * 2 + (k - 8)] : 0.0f;
        assert_true(h.dw[k] == expect);
    }
    for (int64_t i = 0; i < 9; i++)
        assert_true(h.in.grad[i] == 0.0f);
    tu_harness_free(&h);
}

/* T x batch = 15 ids over a vocab of 4, each row 3 or 4 times, so the
 * scatter-add must collect several gradients per row, across time steps and
 * examples. Padding id 0 is a row like any other (the LSTM's mask, not the
 * embedding, ignores padding). */
static void test_embedding_grads(void **state)
{
    (void)state;
    tu_harness h;
    embedding_harness(&h, 5, 4, 3, 0, 3, 3);
    for (int64_t i = 0; i < tu_in_count(&h); i++)
        h.in.val[i] = (float)(i * 3 % 4);
    check_linear_grads(&h, "embedding");
    tu_harness_free(&h);
}

/* A shared node owns no parameters and works on whatever table it is
 * given: the same values as an owning node with that table. */
static void test_embedding_shared(void **state)
{
    (void)state;
    tu_harness own, shared;
    embedding_harness(&own, 4, 6, 3, 0, 2, 4);
    embedding_harness(&shared, 4, 6, 3, 1, 2, 4);
    assert_int_equal(shared.node.s.n_params, 0);
    assert_int_equal(shared.node.s.size, own.node.s.size);
    free(shared.w);
    free(shared.dw);
    shared.w = tu_dup(own.w, 18);
    shared.dw = tu_alloc(18 * sizeof(float));
    memcpy(shared.in.val, own.in.val, 8 * sizeof(float));
    memcpy(shared.r, own.r, (size_t)tu_out_count(&own) * sizeof(float));
    memset(own.dw, 0, 18 * sizeof(float));
    memset(shared.dw, 0, 18 * sizeof(float));
    tu_backward(&own);
    tu_backward(&shared);
    expect_exact(shared.node.val, own.node.val, tu_out_count(&own),
                 "shared forward");
    expect_exact(shared.dw, own.dw, 18, "shared backward");
    tu_harness_free(&own);
    tu_harness_free(&shared);
}

/* nn.Embedding's N(0, 1) over a 1000 x 16 table. For n = 16000 normals the
 * sample mean has sd 0.008 and the sample sd has sd 0.0056, so the bounds
 * below sit at about 5 sd; a uniform init with sd 1 fails the tail test
 * (|w| never exceeds 1.74), a constant or unscaled one the moments. */
static void test_embedding_init(void **state)
{
    (void)state;
    const int64_t n = 1000 * 16;
    tu_harness h;
    embedding_harness(&h, 2, 1000, 16, 0, 1, 5);
    assert_int_equal(h.node.s.n_params, n);
    assert_non_null(h.op->init);
    vae_rng rng;
    vae_rng_seed(&rng, 42);
    h.op->init(&h.node.s, h.w, &rng);
    double sum = 0.0, sq = 0.0;
    int64_t within1 = 0, beyond3 = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += h.w[i];
        sq += (double)h.w[i] * h.w[i];
        within1 += fabsf(h.w[i]) < 1.0f;
        beyond3 += fabsf(h.w[i]) > 3.0f;
    }
    double mean = sum / (double)n, sd = sqrt(sq / (double)n - mean * mean);
    printf("  embedding init: mean %.4f sd %.4f, P(|w|<1) %.4f, %lld > 3\n",
           mean, sd, (double)within1 / (double)n, (long long)beyond3);
    assert_true(fabs(mean) < 0.04);
    assert_true(fabs(sd - 1.0) < 0.03);
    /* P(|w| < 1) = 0.6827 (sd of the estimate 0.0037); 43 expected > 3. */
    assert_true(fabs((double)within1 / (double)n - 0.6827) < 0.02);
    assert_true(beyond3 >= 15 && beyond3 <= 80);

    /* Same seed, same table. */
    float *again = tu_alloc((size_t)n * sizeof(float));
    vae_rng_seed(&rng, 42);
    h.op->init(&h.node.s, again, &rng);
    expect_exact(again, h.w, n, "embedding init, same seed");
    free(again);
    tu_harness_free(&h);
}

/* ---- repeat and concat -------------------------------------------------- */

static void test_repeat(void **state)
{
    (void)state;
    const tu_input in = {1, {3}, 0};
    const int64_t times = 2;
    tu_harness h;
    tu_harness_init_op(&h, &in, 1, VAE_OP_REPEAT, &times, 1, NULL, 0, 2, 6);
    assert_int_equal(h.node.s.rank, 2);
    assert_int_equal(h.node.s.shape[0], 2);
    assert_int_equal(h.node.s.shape[1], 3);
    const float x[6] = {1, 2, 3, 4, 5, 6};
    memcpy(h.in.val, x, sizeof x);
    tu_forward(&h);
    const float want[12] = {1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6};
    expect_exact(h.node.val, want, 12, "repeat");
    tu_harness_free(&h);

    const int64_t four = 4;
    tu_harness_init_op(&h, &in, 1, VAE_OP_REPEAT, &four, 1, NULL, 0, 3, 7);
    check_linear_grads(&h, "repeat");
    tu_harness_free(&h);
}

static void test_concat_forward(void **state)
{
    (void)state;
    /* Sequences [2, 2] and [2, 1]. */
    const tu_input seq[2] = {{2, {2, 2}, 0}, {2, {2, 1}, 0}};
    tu_harness h;
    tu_harness_init_op(&h, seq, 2, VAE_OP_CONCAT, NULL, 0, NULL, 0, 2, 8);
    assert_int_equal(h.node.s.rank, 2);
    assert_int_equal(h.node.s.shape[0], 2);
    assert_int_equal(h.node.s.shape[1], 3);
    const float a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[4] = {-1, -2, -3, -4};
    memcpy(h.ins[0].val, a, sizeof a);
    memcpy(h.ins[1].val, b, sizeof b);
    tu_forward(&h);
    const float want[12] = {1, 2, -1, 3, 4, -2, 5, 6, -3, 7, 8, -4};
    expect_exact(h.node.val, want, 12, "concat of sequences");
    tu_harness_free(&h);

    /* Vectors [1] and [3]. */
    const tu_input vec[2] = {{1, {1}, 0}, {1, {3}, 0}};
    tu_harness_init_op(&h, vec, 2, VAE_OP_CONCAT, NULL, 0, NULL, 0, 2, 9);
    assert_int_equal(h.node.s.rank, 1);
    assert_int_equal(h.node.s.shape[0], 4);
    const float va[2] = {9, 8}, vb[6] = {1, 2, 3, 4, 5, 6};
    memcpy(h.ins[0].val, va, sizeof va);
    memcpy(h.ins[1].val, vb, sizeof vb);
    tu_forward(&h);
    const float vwant[8] = {9, 1, 2, 3, 8, 4, 5, 6};
    expect_exact(h.node.val, vwant, 8, "concat of vectors");
    tu_harness_free(&h);
}

/* Both inputs' gradients, on sequences of three axes [2, 3, F]. */
static void test_concat_grads(void **state)
{
    (void)state;
    const tu_input in[2] = {{3, {2, 3, 2}, 0}, {3, {2, 3, 3}, 0}};
    tu_harness h;
    tu_harness_init_op(&h, in, 2, VAE_OP_CONCAT, NULL, 0, NULL, 0, 2, 10);
    assert_int_equal(h.node.s.shape[2], 5);
    check_linear_grads(&h, "concat");
    tu_harness_free(&h);
}

/* ---- transpose ---------------------------------------------------------- */

/* [C, H, W] -> [H, W, C]: out[h][w][c] = in[c][h][w], from the index
 * formulas; and the gradient of a rank-4 permutation. */
static void test_transpose(void **state)
{
    (void)state;
    enum { C = 2, H = 3, W = 4 };
    const tu_input in = {3, {C, H, W}, 0};
    const int64_t perm[4] = {3, 1, 2, 0};
    tu_harness h;
    tu_harness_init_op(&h, &in, 1, VAE_OP_TRANSPOSE, perm, 4, NULL, 0, 2, 12);
    assert_int_equal(h.node.s.shape[0], H);
    assert_int_equal(h.node.s.shape[1], W);
    assert_int_equal(h.node.s.shape[2], C);
    tu_forward(&h);
    for (int b = 0; b < 2; b++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < C; c++)
                    assert_true(h.node.val[b * C * H * W + (y * W + x) * C + c] ==
                                h.in.val[b * C * H * W + (c * H + y) * W + x]);
    tu_harness_free(&h);

    const tu_input in4 = {4, {2, 3, 1, 2}, 0};
    const int64_t perm4[5] = {4, 3, 0, 2, 1};
    tu_harness_init_op(&h, &in4, 1, VAE_OP_TRANSPOSE, perm4, 5, NULL, 0, 3, 13);
    assert_int_equal(h.node.s.shape[0], 2);
    assert_int_equal(h.node.s.shape[1], 2);
    assert_int_equal(h.node.s.shape[3], 3);
    check_linear_grads(&h, "transpose");
    tu_harness_free(&h);

    /* Not a permutation, or not one of the input's rank. */
    vae_graph *g;
    const int64_t dims[3] = {C, H, W};
    const int32_t dup[3] = {0, 0, 1}, out_of_range[3] = {0, 1, 3},
                  ok[2] = {1, 0};
    const int32_t *bad[2] = {dup, out_of_range};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(vae_graph_new(&g), VAE_OK);
        assert_int_equal(vae_graph_input(g, dims, 3), 0);
        assert_int_equal(vae_graph_transpose(g, 0, bad[i], 3), VAE_ERR_SHAPE);
        assert_non_null(strstr(vae_graph_last_error(g), "permutation"));
        vae_graph_free(g);
    }
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_input(g, dims, 3), 0);
    assert_int_equal(vae_graph_transpose(g, 0, ok, 2), VAE_ERR_SHAPE);
    vae_graph_free(g);
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_input(g, dims, 3), 0);
    assert_int_equal(vae_graph_transpose(g, 0, NULL, 3), VAE_ERR_INVALID_ARG);
    vae_graph_free(g);
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_input(g, dims, 3), 0);
    assert_int_equal(vae_graph_transpose(g, 0, ok, 5), VAE_ERR_SHAPE);
    vae_graph_free(g);
    assert_int_equal(vae_graph_transpose(NULL, 0, ok, 2), VAE_ERR_INVALID_ARG);
}

/* ---- shift_right -------------------------------------------------------- */

static void shift_harness(tu_harness *h, int64_t T, float bos, int64_t batch)
{
    const tu_input in = ids_input(T, 9);
    tu_harness_init_op(h, &in, 1, VAE_OP_SHIFT_RIGHT, NULL, 0, &bos, 1, batch,
                       11);
}

static void test_shift_right(void **state)
{
    (void)state;
    tu_harness h;
    shift_harness(&h, 4, 2.0f, 2);
    const float ids[8] = {5, 6, 7, 3, 8, 9, 0, 0};
    memcpy(h.in.val, ids, sizeof ids);
    tu_forward(&h);
    const float want[8] = {2, 5, 6, 7, 2, 8, 9, 0};
    expect_exact(h.node.val, want, 8, "shift_right");
    expect_exact(h.in.val, ids, 8, "shift_right leaves its input");
    tu_check_no_grads(&h, "shift_right");

    /* Generation feeds the previous token itself: it passes through. */
    h.run.carry = 1;
    tu_forward(&h);
    expect_exact(h.node.val, ids, 8, "shift_right while carrying");
    tu_harness_free(&h);

    shift_harness(&h, 1, 3.0f, 3);
    const float one[3] = {7, 1, 0};
    memcpy(h.in.val, one, sizeof one);
    tu_forward(&h);
    const float bos3[3] = {3, 3, 3};
    expect_exact(h.node.val, bos3, 3, "shift_right of one step");
    h.run.carry = 1;
    tu_forward(&h);
    expect_exact(h.node.val, one, 3, "shift_right of one step, carrying");
    tu_harness_free(&h);
}

/* ---- token_dropout ------------------------------------------------------ */

static void dropout_harness(tu_harness *h, int64_t T, float rate, float unk,
                            int64_t batch, uint64_t seed)
{
    const tu_input in = ids_input(T, 50);
    const float attr[2] = {rate, unk};
    tu_harness_init_op(h, &in, 1, VAE_OP_TOKEN_DROPOUT, NULL, 0, attr, 2, batch,
                       seed);
}

/* Ids 2..49 and every fifth one padding, so unk (1) is never an original. */
static void dropout_ids(tu_harness *h)
{
    tu_rng r;
    tu_seed(&r, 77);
    for (int64_t i = 0; i < tu_in_count(h); i++)
        h->in.val[i] = i % 5 == 0 ? 0.0f : (float)floor(tu_uniform(&r, 2, 50));
}

static void test_token_dropout_copies(void **state)
{
    (void)state;
    tu_harness h;
    dropout_harness(&h, 40, 0.0f, 1.0f, 3, 12);
    dropout_ids(&h);
    tu_forward(&h);
    expect_exact(h.node.val, h.in.val, tu_in_count(&h), "rate 0");
    tu_harness_free(&h);

    dropout_harness(&h, 40, 0.5f, 1.0f, 3, 12);
    dropout_ids(&h);
    h.run.training = 0;
    vae_rng before = h.rng;
    tu_forward(&h);
    expect_exact(h.node.val, h.in.val, tu_in_count(&h), "not training");
    /* Nothing drawn: evaluation does not move the model's stream. */
    assert_memory_equal(&before, &h.rng, sizeof before);
    tu_harness_free(&h);
}

/* Over 4000 ids (3200 non-padding) at rate 0.5 the replaced fraction has sd
 * 0.009; the bound is 5 sd. */
static void test_token_dropout_rate(void **state)
{
    (void)state;
    tu_harness h;
    dropout_harness(&h, 1000, 0.5f, 1.0f, 4, 13);
    dropout_ids(&h);
    float *in = tu_dup(h.in.val, tu_in_count(&h));
    tu_forward(&h);
    expect_exact(h.in.val, in, tu_in_count(&h), "token_dropout input");
    int64_t words = 0, dropped = 0;
    for (int64_t i = 0; i < tu_in_count(&h); i++) {
        float y = h.node.val[i];
        if (in[i] == 0.0f) {
            assert_true(y == 0.0f);
            continue;
        }
        words++;
        if (y == 1.0f)
            dropped++;
        else
            assert_true(y == in[i]);
    }
    double frac = (double)dropped / (double)words;
    printf("  token_dropout: %lld of %lld words replaced (%.4f)\n",
           (long long)dropped, (long long)words, frac);
    assert_int_equal(words, 3200);
    assert_true(fabs(frac - 0.5) < 0.045);

    /* Same seed, same result; another seed, another result. */
    tu_harness same, other;
    dropout_harness(&same, 1000, 0.5f, 1.0f, 4, 13);
    dropout_harness(&other, 1000, 0.5f, 1.0f, 4, 14);
    memcpy(same.in.val, in, (size_t)tu_in_count(&h) * sizeof(float));
    memcpy(other.in.val, in, (size_t)tu_in_count(&h) * sizeof(float));
    tu_forward(&same);
    tu_forward(&other);
    expect_exact(same.node.val, h.node.val, tu_out_count(&h), "same seed");
    int64_t differ = 0;
    for (int64_t i = 0; i < tu_out_count(&h); i++)
        differ += other.node.val[i] != h.node.val[i];
    assert_true(differ > 100);
    /* The stream moves on: a second call drops other words. */
    tu_forward(&same);
    differ = 0;
    for (int64_t i = 0; i < tu_out_count(&h); i++)
        differ += same.node.val[i] != h.node.val[i];
    assert_true(differ > 100);
    tu_harness_free(&same);
    tu_harness_free(&other);
    free(in);
    tu_check_no_grads(&h, "token_dropout");
    tu_harness_free(&h);
}

/* ---- data --------------------------------------------------------------- */

static void test_data_node(void **state)
{
    (void)state;
    const int64_t enc_in[1] = {7}, seq[2] = {5, 3};
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_input(g, enc_in, 1), 0);
    assert_int_equal(vae_graph_data(g, seq, 2), 1);
    assert_int_equal(vae_graph_node_size(g, 1), 15);
    assert_int_equal(g->nodes[1].rank, 2);
    assert_int_equal(g->nodes[1].shape[0], 5);
    assert_int_equal(g->nodes[1].shape[1], 3);
    assert_int_equal(g->nodes[1].n_params, 0);
    assert_int_equal(vae_graph_status(g), VAE_OK);
    vae_graph_free(g);
}

/* ---- shape errors ------------------------------------------------------- */

/* A builder call that must fail with `status` and a message that names the
 * op and contains `word`. */
static void expect_fail(vae_graph *g, int32_t got, int32_t status,
                        const char *op, const char *word)
{
    const char *msg = vae_graph_last_error(g);
    if (got != status)
        fail_msg("%s: got %d, want %d (%s)", op, (int)got, (int)status, msg);
    assert_int_equal(vae_graph_status(g), status);
    if (strncmp(msg, op, strlen(op)) != 0 || !strstr(msg, word))
        fail_msg("%s: message \"%s\" lacks \"%s\"", op, msg, word);
}

/* A decoder-like graph: input [3] (node 0), the data x as ids [4] (node 1)
 * and the input repeated as a sequence [4, 3] (node 2). */
static vae_graph *three_nodes(void)
{
    const int64_t v[1] = {3}, t[1] = {4};
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_input(g, v, 1), 0);
    assert_int_equal(vae_graph_data(g, t, 1), 1);
    assert_int_equal(vae_graph_repeat(g, 0, 4), 2);
    return g;
}

typedef struct bad_case {
    int32_t (*build)(vae_graph *g);
    int32_t status;
    const char *op, *word;
} bad_case;

static int32_t emb_rank2(vae_graph *g)
{
    return vae_graph_embedding(g, 2, 10, 4);
}
static int32_t emb_vocab0(vae_graph *g)
{
    return vae_graph_embedding(g, 1, 0, 4);
}
static int32_t emb_vocab_huge(vae_graph *g)
{
    return vae_graph_embedding(g, 1, ((int64_t)1 << 24) + 1, 4);
}
static int32_t emb_dim0(vae_graph *g)
{
    return vae_graph_embedding(g, 1, 10, 0);
}
static int32_t emb_dim_neg(vae_graph *g)
{
    return vae_graph_embedding_shared(g, 1, 10, -3);
}
static int32_t emb_table_huge(vae_graph *g)
{
    return vae_graph_embedding(g, 1, (int64_t)1 << 24, (int64_t)1 << 14);
}
static int32_t emb_no_node(vae_graph *g)
{
    return vae_graph_embedding(g, 9, 10, 4);
}
static int32_t emb_bad_flag(vae_graph *g)
{
    const int64_t attr[3] = {10, 4, 2};
    const int32_t x = 1;
    return vae_graph_add_code(g, VAE_OP_EMBEDDING, &x, 1, attr, 3, NULL, 0);
}
static int32_t rep_rank2(vae_graph *g)
{
    return vae_graph_repeat(g, 2, 3);
}
static int32_t rep_zero(vae_graph *g)
{
    return vae_graph_repeat(g, 0, 0);
}
static int32_t rep_neg(vae_graph *g)
{
    return vae_graph_repeat(g, 0, -5);
}
static int32_t rep_huge(vae_graph *g)
{
    return vae_graph_repeat(g, 0, (int64_t)1 << 40);
}
static int32_t rep_no_node(vae_graph *g)
{
    return vae_graph_repeat(g, -1, 3);
}
static int32_t cat_ranks(vae_graph *g)
{
    return vae_graph_concat(g, 1, 2);
}
static int32_t cat_lead(vae_graph *g)
{
    return vae_graph_concat(g, 2, vae_graph_repeat(g, 0, 5));
}
static int32_t cat_no_node(vae_graph *g)
{
    return vae_graph_concat(g, 2, 3);
}
static int32_t cat_one_input(vae_graph *g)
{
    const int32_t x = 2;
    return vae_graph_add_code(g, VAE_OP_CONCAT, &x, 1, NULL, 0, NULL, 0);
}
static int32_t shift_rank2(vae_graph *g)
{
    return vae_graph_shift_right(g, 2, 2);
}
static int32_t shift_bos0(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, 0);
}
static int32_t shift_bos_neg(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, -2);
}
static int32_t shift_bos_frac(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, 2.5f);
}
static int32_t shift_bos_nan(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, NAN);
}
static int32_t shift_bos_huge(vae_graph *g)
{
    return vae_graph_shift_right(g, 1, 33554432.0f);
}
static int32_t drop_rank2(vae_graph *g)
{
    return vae_graph_token_dropout(g, 2, 0.1f, 1);
}
static int32_t drop_rate_one(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, 1.0f, 1);
}
static int32_t drop_rate_neg(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, -0.1f, 1);
}
static int32_t drop_rate_nan(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, NAN, 1);
}
static int32_t drop_unk0(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, 0.1f, 0);
}
static int32_t drop_unk_frac(vae_graph *g)
{
    return vae_graph_token_dropout(g, 1, 0.1f, 1.5f);
}
static int32_t drop_no_node(vae_graph *g)
{
    return vae_graph_token_dropout(g, 7, 0.1f, 1);
}
static int32_t data_rank0(vae_graph *g)
{
    const int64_t d[1] = {3};
    return vae_graph_data(g, d, 0);
}
static int32_t data_rank5(vae_graph *g)
{
    const int64_t d[5] = {1, 1, 1, 1, 1};
    return vae_graph_data(g, d, 5);
}
static int32_t data_dim0(vae_graph *g)
{
    const int64_t d[2] = {3, 0};
    return vae_graph_data(g, d, 2);
}
static int32_t data_null(vae_graph *g)
{
    return vae_graph_data(g, NULL, 1);
}
static int32_t data_with_input(vae_graph *g)
{
    const int64_t attr[2] = {1, 4};
    const int32_t x = 0;
    return vae_graph_add_code(g, VAE_OP_DATA, &x, 1, attr, 2, NULL, 0);
}

static void test_shape_errors(void **state)
{
    (void)state;
    const bad_case cases[] = {
        {emb_rank2, VAE_ERR_SHAPE, "embedding", "[T]"},
        {emb_vocab0, VAE_ERR_RANGE, "embedding", "vocab"},
        {emb_vocab_huge, VAE_ERR_RANGE, "embedding", "vocab"},
        {emb_dim0, VAE_ERR_RANGE, "embedding", "dim"},
        {emb_dim_neg, VAE_ERR_RANGE, "embedding", "dim"},
        {emb_table_huge, VAE_ERR_SHAPE, "embedding", "2^36"},
        {emb_no_node, VAE_ERR_GRAPH, "embedding", "does not exist"},
        {emb_bad_flag, VAE_ERR_INVALID_ARG, "embedding", "shared"},
        {rep_rank2, VAE_ERR_SHAPE, "repeat", "vector"},
        {rep_zero, VAE_ERR_RANGE, "repeat", "times"},
        {rep_neg, VAE_ERR_RANGE, "repeat", "times"},
        {rep_huge, VAE_ERR_SHAPE, "repeat", "2^40"},
        {rep_no_node, VAE_ERR_GRAPH, "repeat", "does not exist"},
        {cat_ranks, VAE_ERR_SHAPE, "concat", "ranks"},
        {cat_lead, VAE_ERR_SHAPE, "concat", "axis 0"},
        {cat_no_node, VAE_ERR_GRAPH, "concat", "does not exist"},
        {cat_one_input, VAE_ERR_GRAPH, "concat", "2 inputs"},
        {shift_rank2, VAE_ERR_SHAPE, "shift_right", "[T]"},
        {shift_bos0, VAE_ERR_RANGE, "shift_right", "bos"},
        {shift_bos_neg, VAE_ERR_RANGE, "shift_right", "bos"},
        {shift_bos_frac, VAE_ERR_RANGE, "shift_right", "bos"},
        {shift_bos_nan, VAE_ERR_RANGE, "shift_right", "bos"},
        {shift_bos_huge, VAE_ERR_RANGE, "shift_right", "bos"},
        {drop_rank2, VAE_ERR_SHAPE, "token_dropout", "[T]"},
        {drop_rate_one, VAE_ERR_RANGE, "token_dropout", "rate"},
        {drop_rate_neg, VAE_ERR_RANGE, "token_dropout", "rate"},
        {drop_rate_nan, VAE_ERR_RANGE, "token_dropout", "rate"},
        {drop_unk0, VAE_ERR_RANGE, "token_dropout", "unk"},
        {drop_unk_frac, VAE_ERR_RANGE, "token_dropout", "unk"},
        {drop_no_node, VAE_ERR_GRAPH, "token_dropout", "does not exist"},
        {data_rank0, VAE_ERR_SHAPE, "data", "rank"},
        {data_rank5, VAE_ERR_SHAPE, "data", "rank"},
        {data_dim0, VAE_ERR_SHAPE, "data", "dimension 1"},
        {data_null, VAE_ERR_INVALID_ARG, "data", "NULL"},
        {data_with_input, VAE_ERR_GRAPH, "data", "no inputs"},
    };
    for (int i = 0; i < TU_COUNT(cases); i++) {
        vae_graph *g = three_nodes();
        expect_fail(g, cases[i].build(g), cases[i].status, cases[i].op,
                    cases[i].word);
        /* Sticky: a valid call afterwards returns the same error. */
        assert_int_equal(vae_graph_relu(g, 0), cases[i].status);
        vae_graph_free(g);
    }
}

/* The builders wire the documented shapes. */
static void test_builder_shapes(void **state)
{
    (void)state;
    vae_graph *g = three_nodes();
    int32_t drop = vae_graph_token_dropout(g, 1, 0.25f, 1);
    int32_t shift = vae_graph_shift_right(g, drop, 2);
    int32_t emb = vae_graph_embedding(g, shift, 10, 4);
    int32_t shared = vae_graph_embedding_shared(g, 1, 10, 4);
    int32_t cat = vae_graph_concat(g, emb, 2);
    int32_t both = vae_graph_concat(g, 0, 0);
    assert_int_equal(vae_graph_status(g), VAE_OK);
    assert_int_equal(vae_graph_node_size(g, drop), 4);
    assert_int_equal(vae_graph_node_size(g, shift), 4);
    assert_int_equal(vae_graph_node_size(g, emb), 16);
    assert_int_equal(g->nodes[emb].n_params, 40);
    assert_int_equal(g->nodes[shared].n_params, 0);
    assert_int_equal(vae_graph_node_size(g, 2), 12);
    assert_int_equal(g->nodes[cat].rank, 2);
    assert_int_equal(g->nodes[cat].shape[0], 4);
    assert_int_equal(g->nodes[cat].shape[1], 7);
    assert_int_equal(vae_graph_node_size(g, both), 6);
    vae_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedding_forward),
        cmocka_unit_test(test_embedding_bad_ids),
        cmocka_unit_test(test_embedding_grads),
        cmocka_unit_test(test_embedding_shared),
        cmocka_unit_test(test_embedding_init),
        cmocka_unit_test(test_repeat),
        cmocka_unit_test(test_concat_forward),
        cmocka_unit_test(test_concat_grads),
        cmocka_unit_test(test_transpose),
        cmocka_unit_test(test_shift_right),
        cmocka_unit_test(test_token_dropout_copies),
        cmocka_unit_test(test_token_dropout_rate),
        cmocka_unit_test(test_data_node),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_builder_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
