/* gaussian (src/ops/gaussian.c): mu and logvar joined per example as
 * [mu | logvar], exactly; both inputs' gradients against central
 * differences (OPS_COPY_FD_TOL) and accumulation; builder errors and the
 * builder's argument checks. Where the node may sit in a model is tested
 * in tests/test_objective_ops.c. */
#include <string.h>

#include "op_test.h"

static void test_gaussian(void **state)
{
    (void)state;
    const tu_input in[2] = {{1, {2}, 0}, {1, {2}, 0}};
    tu_harness h;
    tu_harness_init_op(&h, in, 2, VAE_OP_GAUSSIAN, NULL, 0, NULL, 0, 2, 31);
    assert_int_equal(h.node.s.rank, 1);
    assert_int_equal(h.node.s.shape[0], 4);
    assert_int_equal(h.node.s.n_params, 0);
    const float mu[4] = {1, 2, 3, 4}, lv[4] = {-1, -2, -3, -4};
    memcpy(h.ins[0].val, mu, sizeof mu);
    memcpy(h.ins[1].val, lv, sizeof lv);
    tu_forward(&h);
    const float want[8] = {1, 2, -1, -2, 3, 4, -3, -4};
    ops_expect_exact(h.node.val, want, 8, "gaussian");
    tu_harness_free(&h);

    const tu_input wide[2] = {{1, {5}, 0}, {1, {5}, 0}};
    tu_harness_init_op(&h, wide, 2, VAE_OP_GAUSSIAN, NULL, 0, NULL, 0, 3, 32);
    ops_check_linear_grads(&h, "gaussian", OPS_COPY_FD_TOL);
    tu_harness_free(&h);
}

/* Builder calls on ops_three_nodes's graph (input [3], ids [4], sequence
 * [4, 3]) that must fail. */
static int32_t q_sizes(vae_graph *g)
{
    return vae_graph_gaussian(g, 0, 1);
}
static int32_t q_sequence(vae_graph *g)
{
    return vae_graph_gaussian(g, 2, 2);
}
static int32_t q_no_node(vae_graph *g)
{
    return vae_graph_gaussian(g, 0, 9);
}

static void test_gaussian_errors(void **state)
{
    (void)state;
    const ops_bad_case cases[] = {
        {q_sizes, VAE_ERR_SHAPE, "gaussian", "same size"},
        {q_sequence, VAE_ERR_SHAPE, "gaussian", "vectors"},
        {q_no_node, VAE_ERR_GRAPH, "gaussian", "does not exist"},
    };
    ops_expect_failures(cases, TU_COUNT(cases));
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_gaussian_arguments(void **state)
{
    (void)state;
    TU_EXPECT("NULL graph", VAE_ERR_INVALID_ARG,
              vae_graph_gaussian(NULL, 0, 0), TU_NO_MSG);
    ops_fresh(OPS_VEC);
    OPS_EXPECT_G("logvar names no node", VAE_ERR_GRAPH,
                 vae_graph_gaussian(ops_g, 0, 5));
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("mu not a vector", VAE_ERR_SHAPE,
                 vae_graph_gaussian(ops_g, 1, 1));
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("mu and logvar of different sizes", VAE_ERR_SHAPE,
                 vae_graph_gaussian(ops_g, 0, vae_graph_dense(ops_g, 0, 2)));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gaussian),
    cmocka_unit_test(test_gaussian_errors),
    cmocka_unit_test(test_gaussian_arguments),
};
OPS_GROUP(tests)
