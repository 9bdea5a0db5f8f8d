/* The embedding of src/ops/embedding.c: forward against a numbered table,
 * ids that are not integers in [0, vocab) reading and learning nothing,
 * gradients against central differences (OPS_COPY_FD_TOL) with several
 * ids per row, the shared node, nn.Embedding's N(0, 1) initialisation,
 * shape errors and both builders' argument checks. Its forward is a copy:
 * compared exactly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_test.h"

static void embedding_harness(tu_harness *h, int64_t T, int64_t vocab,
                              int64_t dim, int64_t shared, int64_t batch,
                              uint64_t seed)
{
    const tu_input in = ops_ids_input(T, vocab);
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
    ops_expect_exact(h.node.val, want, 12, "embedding");
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
    ops_expect_exact(h.node.val, want, 18, "embedding of bad ids");
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
    ops_check_linear_grads(&h, "embedding", OPS_COPY_FD_TOL);
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
    ops_expect_exact(shared.node.val, own.node.val, tu_out_count(&own),
                     "shared forward");
    ops_expect_exact(shared.dw, own.dw, 18, "shared backward");
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
    ops_expect_exact(again, h.w, n, "embedding init, same seed");
    free(again);
    tu_harness_free(&h);
}

/* Builder calls that must fail (test_embedding_errors). */
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

/* Shape errors through the public builders (ops_expect_failures). */
static void test_embedding_errors(void **state)
{
    (void)state;
    const ops_bad_case cases[] = {
        {emb_rank2, VAE_ERR_SHAPE, "embedding", "[T]"},
        {emb_vocab0, VAE_ERR_RANGE, "embedding", "vocab"},
        {emb_vocab_huge, VAE_ERR_RANGE, "embedding", "vocab"},
        {emb_dim0, VAE_ERR_RANGE, "embedding", "dim"},
        {emb_dim_neg, VAE_ERR_RANGE, "embedding", "dim"},
        {emb_table_huge, VAE_ERR_SHAPE, "embedding", "2^36"},
        {emb_no_node, VAE_ERR_GRAPH, "embedding", "does not exist"},
        {emb_bad_flag, VAE_ERR_INVALID_ARG, "embedding", "shared"},
    };
    ops_expect_failures(cases, TU_COUNT(cases));
}

/* Both embeddings take the same attributes. */
#define EXPECT_EMBEDDING_ATTRS(fn)                                          \
    do {                                                                    \
        const int64_t bad_[][2] = {{0, 3}, {-1, 3}, {INT64_MIN, 3},         \
                                   {((int64_t)1 << 24) + 1, 3},             \
                                   {INT64_MAX, 3}, {10, 0}, {10, -1},       \
                                   {10, ((int64_t)1 << 30) + 1},            \
                                   {10, INT64_MAX}};                        \
        for (int i_ = 0; i_ < TU_COUNT(bad_); i_++) {                       \
            ops_fresh(OPS_SEQ);                                             \
            OPS_EXPECT_G("vocab not in 1..2^24 or dim not in 1..2^30",      \
                         VAE_ERR_RANGE,                                     \
                         fn(ops_g, 0, bad_[i_][0], bad_[i_][1]));           \
        }                                                                   \
        ops_fresh(OPS_SEQ);                                                 \
        OPS_EXPECT_G("vocab x dim above 2^36", VAE_ERR_SHAPE,               \
                     fn(ops_g, 0, (int64_t)1 << 24, (int64_t)1 << 14));     \
        ops_fresh(OPS_SEQ);                                                 \
        OPS_EXPECT_G("ids not of shape [T]", VAE_ERR_SHAPE,                 \
                     fn(ops_g, 1, 10, 3));                                  \
    } while (0)

/* The builders' arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_embedding_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_embedding, OPS_SEQ, , 10, 3);
    OPS_EXPECT_NODE_CHECKS(vae_graph_embedding_shared, OPS_SEQ, , 10, 3);
    EXPECT_EMBEDDING_ATTRS(vae_graph_embedding);
    EXPECT_EMBEDDING_ATTRS(vae_graph_embedding_shared);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_embedding_forward),
    cmocka_unit_test(test_embedding_bad_ids),
    cmocka_unit_test(test_embedding_grads),
    cmocka_unit_test(test_embedding_shared),
    cmocka_unit_test(test_embedding_init),
    cmocka_unit_test(test_embedding_errors),
    cmocka_unit_test(test_embedding_arguments),
};
OPS_GROUP(tests)
