/* reshape and flatten (src/ops/reshape.c): the same elements in the same
 * order, gradients against central differences (OPS_LINEAR_FD_TOL) and
 * accumulation, shape errors and the builders' argument checks. */
#include "op_test.h"

static void test_grads_reshape(void **state)
{
    (void)state;
    const int64_t img[3] = {2, 3, 4}, flat[1] = {24};
    const tu_layer to_424 = TU_RESHAPE3(4, 2, 3), flatten = TU_FLATTEN,
                   unflatten = TU_RESHAPE3(3, 4, 2);
    tu_harness h;
    tu_harness_init(&h, img, 3, &to_424, 3, 11);
    assert_int_equal(h.node.s.rank, 3);
    assert_int_equal(h.node.s.shape[0], 4);
    assert_int_equal(h.node.s.n_params, 0);
    /* Same elements, same order. */
    tu_forward(&h);
    for (int64_t i = 0; i < tu_out_count(&h); i++)
        assert_true(h.node.val[i] == h.in.val[i]);
    tu_harness_free(&h);

    ops_check_layer_grads(img, 3, &to_424, 3, 12, "reshape");
    ops_check_layer_grads(img, 3, &flatten, 3, 13, "flatten");
    ops_check_layer_grads(flat, 1, &unflatten, 2, 14, "reshape from a vector");
}

/* Reshape to another element count; flatten of a missing node. */
static void test_reshape_errors(void **state)
{
    (void)state;
    const int64_t img[3] = {2, 6, 5};
    vae_graph *g;
    const int64_t wrong[2] = {7, 9}, right[2] = {6, 10};
    g = tu_graph_input(img, 3);
    assert_int_equal(vae_graph_reshape(g, 0, right, 2), 1);
    ops_expect_error(g, vae_graph_reshape(g, 0, wrong, 2), VAE_ERR_SHAPE,
                     "reshape 60 -> 63");
    const int32_t bad_ids[] = {1, 5, -1};
    for (int i = 0; i < TU_COUNT(bad_ids); i++) {
        g = tu_graph_input(img, 3);
        ops_expect_error(g, vae_graph_flatten(g, bad_ids[i]), VAE_ERR_GRAPH,
                         "flatten of a missing node");
    }
}

/* The builders' arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_reshape_arguments(void **state)
{
    (void)state;
    const int64_t d22[2] = {2, 2};
    OPS_EXPECT_NODE_CHECKS(vae_graph_reshape, OPS_VEC, , d22, 2);
    OPS_EXPECT_NODE_CHECKS(vae_graph_flatten, OPS_IMG, );

    ops_fresh(OPS_VEC);
    OPS_EXPECT_G("NULL dims", VAE_ERR_INVALID_ARG,
                 vae_graph_reshape(ops_g, 0, NULL, 1));
    const int64_t ones5[5] = {1, 1, 1, 1, 4};
    const int32_t bad_ranks[] = {0, -1, 5, INT32_MIN};
    for (int i = 0; i < TU_COUNT(bad_ranks); i++) {
        ops_fresh(OPS_VEC);
        OPS_EXPECT_G("rank not in 1..4", VAE_ERR_SHAPE,
                     vae_graph_reshape(ops_g, 0, ones5, bad_ranks[i]));
    }
    const int64_t bad_shapes[][2] = {{3, 1}, {2, 0}, {-2, -2}, {4, INT64_MAX}};
    for (int i = 0; i < TU_COUNT(bad_shapes); i++) {
        ops_fresh(OPS_VEC);
        OPS_EXPECT_G("element count differs or dimension < 1", VAE_ERR_SHAPE,
                     vae_graph_reshape(ops_g, 0, bad_shapes[i], 2));
    }

    ops_fresh(OPS_VEC);
    assert_int_equal(vae_graph_dense(ops_g, 0, -1), VAE_ERR_RANGE);
    OPS_EXPECT_G("after an error: that error (sticky)", VAE_ERR_RANGE,
                 vae_graph_flatten(ops_g, 0));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_grads_reshape),
    cmocka_unit_test(test_reshape_errors),
    cmocka_unit_test(test_reshape_arguments),
};
OPS_GROUP(tests)
