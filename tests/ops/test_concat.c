/* concat (src/ops/concat.c): sequences and vectors joined on the last
 * axis, exactly; both inputs' gradients against central differences
 * (OPS_COPY_FD_TOL) and accumulation; shape errors; the builder's
 * argument checks; and the shapes the builders give the text decoder's
 * inputs, which end in a concat. */
#include <string.h>

#include "op_test.h"

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
    ops_expect_exact(h.node.val, want, 12, "concat of sequences");
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
    ops_expect_exact(h.node.val, vwant, 8, "concat of vectors");
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
    ops_check_linear_grads(&h, "concat", OPS_COPY_FD_TOL);
    tu_harness_free(&h);
}

/* Builder calls that must fail (test_concat_errors). */
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

/* Shape errors through the public builders (ops_expect_failures). */
static void test_concat_errors(void **state)
{
    (void)state;
    const ops_bad_case cases[] = {
        {cat_ranks, VAE_ERR_SHAPE, "concat", "ranks"},
        {cat_lead, VAE_ERR_SHAPE, "concat", "axis 0"},
        {cat_no_node, VAE_ERR_GRAPH, "concat", "does not exist"},
        {cat_one_input, VAE_ERR_GRAPH, "concat", "2 inputs"},
    };
    ops_expect_failures(cases, TU_COUNT(cases));
}

/* The builders wire the documented shapes. */
static void test_builder_shapes(void **state)
{
    (void)state;
    vae_graph *g = ops_three_nodes();
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

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_concat_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_concat, OPS_VEC, , 0);
    const int32_t bad_b[] = {-1, 1, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_b); i++) {
        ops_fresh(OPS_VEC);
        OPS_EXPECT_G("second node id naming no node", VAE_ERR_GRAPH,
                     vae_graph_concat(ops_g, 0, bad_b[i]));
    }
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("ranks differ", VAE_ERR_SHAPE, vae_graph_concat(ops_g, 0, 1));
    ops_fresh(OPS_VEC);
    int32_t a = vae_graph_repeat(ops_g, 0, 5);
    int32_t b = vae_graph_repeat(ops_g, 0, 3);
    assert_true(a > 0 && b > 0);
    OPS_EXPECT_G("leading axes differ", VAE_ERR_SHAPE,
                 vae_graph_concat(ops_g, a, b));
    const int64_t huge = (int64_t)1 << 40;
    ops_fresh_input(&huge, 1);
    OPS_EXPECT_G("joined width above 2^40", VAE_ERR_SHAPE,
                 vae_graph_concat(ops_g, 0, 0));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_concat_forward),
    cmocka_unit_test(test_concat_grads),
    cmocka_unit_test(test_concat_errors),
    cmocka_unit_test(test_builder_shapes),
    cmocka_unit_test(test_concat_arguments),
};
OPS_GROUP(tests)
