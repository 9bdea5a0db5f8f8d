/* The data node of src/ops/data.c, a source (no inputs, no parameters,
 * nothing to differentiate): its shape, shape errors and the builder's
 * argument checks. */

#include "op_test.h"

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

/* Builder calls that must fail (test_data_errors). */
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

/* Shape errors through the public builders (ops_expect_failures). */
static void test_data_errors(void **state)
{
    (void)state;
    const ops_bad_case cases[] = {
        {data_rank0, VAE_ERR_SHAPE, "data", "rank"},
        {data_rank5, VAE_ERR_SHAPE, "data", "rank"},
        {data_dim0, VAE_ERR_SHAPE, "data", "dimension 1"},
        {data_null, VAE_ERR_INVALID_ARG, "data", "NULL"},
        {data_with_input, VAE_ERR_GRAPH, "data", "no inputs"},
    };
    ops_expect_failures(cases, TU_COUNT(cases));
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md): its shape as input takes it, a data node before
 * the input. */
static void test_data_arguments(void **state)
{
    (void)state;
    const int64_t four[1] = {4};
    OPS_EXPECT_SHAPE_CHECKS(vae_graph_data, OPS_VEC);
    ops_fresh(OPS_EMPTY);
    OPS_EXPECT_G("data before the input", VAE_ERR_GRAPH,
                 vae_graph_data(ops_g, four, 1));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_data_node),
    cmocka_unit_test(test_data_errors),
    cmocka_unit_test(test_data_arguments),
};
OPS_GROUP(tests)
