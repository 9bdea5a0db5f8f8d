/* The graph input of src/ops/input.c, a source: no inputs, no parameters,
 * nothing to differentiate. Its shapes: ranks 1 to 4 and positive
 * dimensions, others refused with a sticky error; the builder's argument
 * checks. */
#include "op_test.h"

static void test_input_shapes(void **state)
{
    (void)state;
    const int64_t v[1] = {4};
    const int64_t five[5] = {1, 2, 1, 2, 1};
    const int64_t zero_dim[2] = {3, 0};
    const int64_t neg_dim[1] = {-2};
    vae_graph *g;

    struct {
        const int64_t *dims;
        int32_t rank;
    } bad_inputs[] = {{five, 5}, {v, 0}, {v, -1}, {zero_dim, 2}, {neg_dim, 1}};
    for (int i = 0; i < TU_COUNT(bad_inputs); i++) {
        assert_int_equal(vae_graph_new(&g), VAE_OK);
        ops_expect_sticky_failure(
            g, vae_graph_input(g, bad_inputs[i].dims, bad_inputs[i].rank));
        vae_graph_free(g);
    }

    /* Rank 4 is the documented maximum and must work. */
    const int64_t four[4] = {2, 1, 3, 2};
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_input(g, four, 4), 0);
    assert_int_equal(vae_graph_dense(g, 0, 5), 1);
    assert_int_equal(vae_graph_node_size(g, 1), 2 * 1 * 3 * 5);
    assert_int_equal(vae_graph_status(g), VAE_OK);
    assert_string_equal(vae_graph_last_error(g), "");
    vae_graph_free(g);
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md): its shape as data takes it, an overflowing
 * product, a second input. */
static void test_input_arguments(void **state)
{
    (void)state;
    const int64_t four[1] = {4};
    const int64_t overflow4[4] = {(int64_t)1 << 20, (int64_t)1 << 20,
                                  (int64_t)1 << 20, (int64_t)1 << 20};
    OPS_EXPECT_SHAPE_CHECKS(vae_graph_input, OPS_EMPTY);
    ops_fresh(OPS_EMPTY);
    OPS_EXPECT_G("product of 4 dims overflowing int64", VAE_ERR_SHAPE,
                 vae_graph_input(ops_g, overflow4, 4));
    ops_fresh(OPS_VEC);
    OPS_EXPECT_G("second input", VAE_ERR_GRAPH,
                 vae_graph_input(ops_g, four, 1));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_input_shapes),
    cmocka_unit_test(test_input_arguments),
};
OPS_GROUP(tests)
