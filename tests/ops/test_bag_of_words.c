/* bag_of_words (src/ops/bag_of_words.c): the loss per example against
 * weight x sum over the counted ids of -log softmax(logits)[id] in double,
 * with padding and ids that are not classes left out; the logits'
 * gradient against central differences, the ids' left alone;
 * accumulation; builder errors and the builder's argument checks. How the
 * model adds it to the training loss is tested in
 * tests/test_objective_ops.c. */
#include <math.h>
#include <string.h>

#include "op_test.h"

enum { V = 5, T = 6 };

static void bow_harness(tu_harness *h, float weight, int64_t batch,
                        uint64_t seed)
{
    const tu_input in[2] = {{1, {V}, 0}, ops_ids_input(T, V)};
    tu_harness_init_op(h, in, 2, VAE_OP_BAG_OF_WORDS, NULL, 0, &weight, 1,
                       batch, seed);
}

static void test_bag_of_words_forward(void **state)
{
    (void)state;
    tu_harness h;
    bow_harness(&h, 0.5f, 2, 41);
    assert_int_equal(h.node.s.rank, 1);
    assert_int_equal(h.node.s.shape[0], 1);
    assert_int_equal(h.node.s.n_params, 0);
    /* Example 0: ids 1, 3, 3, 4 and padding; example 1: only ids that are
     * not classes (V, -1, 2.5, 0) but one 2. */
    const float ids[2 * T] = {1, 3, 0, 3, 4, 0, 5, -1, 2.5f, 0, 2, 0};
    memcpy(h.ins[1].val, ids, sizeof ids);
    tu_forward(&h);
    for (int b = 0; b < 2; b++) {
        const float *l = h.ins[0].val + b * V;
        double z = 0.0, want = 0.0;
        for (int v = 0; v < V; v++)
            z += exp(l[v]);
        for (int t = 0; t < T; t++) {
            float id = ids[b * T + t];
            if (id >= 1 && id < V && id == (int)id)
                want += log(z) - l[(int)id];
        }
        TU_ASSERT_CLOSE(h.node.val[b], 0.5 * want, 1e-6, "bag of words loss");
    }
    tu_harness_free(&h);

    bow_harness(&h, 0.0f, 2, 42);
    tu_forward(&h);
    assert_true(h.node.val[0] == 0.0f && h.node.val[1] == 0.0f);
    tu_harness_free(&h);
}

static void test_bag_of_words_grads(void **state)
{
    (void)state;
    tu_harness h;
    bow_harness(&h, 0.75f, 3, 43);
    double worst = tu_check_grads(&h, "bag_of_words", OPS_SMOOTH_FD_TOL);
    print_message("bag_of_words: worst %.2g\n", worst);
    tu_check_accumulates(&h);
    tu_harness_free(&h);
}

/* Builder calls on ops_three_nodes's graph (input [3], ids [4], sequence
 * [4, 3]) that must fail. */
static int32_t bow_sequence(vae_graph *g)
{
    return vae_graph_bag_of_words(g, 2, 1, 1.0f);
}
static int32_t bow_negative(vae_graph *g)
{
    return vae_graph_bag_of_words(g, 0, 1, -1.0f);
}
static int32_t bow_infinite(vae_graph *g)
{
    return vae_graph_bag_of_words(g, 0, 1, INFINITY);
}
static int32_t bow_no_node(vae_graph *g)
{
    return vae_graph_bag_of_words(g, 0, 8, 1.0f);
}

static void test_bag_of_words_errors(void **state)
{
    (void)state;
    const ops_bad_case cases[] = {
        {bow_sequence, VAE_ERR_SHAPE, "bag_of_words", "ranks"},
        {bow_negative, VAE_ERR_RANGE, "bag_of_words", "weight"},
        {bow_infinite, VAE_ERR_RANGE, "bag_of_words", "weight"},
        {bow_no_node, VAE_ERR_GRAPH, "bag_of_words", "does not exist"},
    };
    ops_expect_failures(cases, TU_COUNT(cases));
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_bag_of_words_arguments(void **state)
{
    (void)state;
    TU_EXPECT("NULL graph", VAE_ERR_INVALID_ARG,
              vae_graph_bag_of_words(NULL, 0, 0, 1.0f), TU_NO_MSG);
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("ids name no node", VAE_ERR_GRAPH,
                 vae_graph_bag_of_words(ops_g, 0, 9, 1.0f));
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("logits not a vector", VAE_ERR_SHAPE,
                 vae_graph_bag_of_words(ops_g, 1, 0, 1.0f));
    const float bad_weight[] = {-1.0f, NAN, INFINITY};
    for (int i = 0; i < TU_COUNT(bad_weight); i++) {
        ops_fresh(OPS_SEQ);
        OPS_EXPECT_G("weight not in [0, 1e6]", VAE_ERR_RANGE,
                     vae_graph_bag_of_words(ops_g, 0, 0, bad_weight[i]));
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bag_of_words_forward),
    cmocka_unit_test(test_bag_of_words_grads),
    cmocka_unit_test(test_bag_of_words_errors),
    cmocka_unit_test(test_bag_of_words_arguments),
};
OPS_GROUP(tests)
