/* transpose (src/ops/transpose.c): a permutation of the axes against the
 * index formulas, gradients against central differences
 * (OPS_COPY_FD_TOL) and accumulation, refused permutations and the
 * builder's argument checks. */
#include <string.h>

#include "op_test.h"

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
    ops_check_linear_grads(&h, "transpose", OPS_COPY_FD_TOL);
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

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_transpose_arguments(void **state)
{
    (void)state;
    const int32_t axes[3] = {1, 2, 0};
    OPS_EXPECT_NODE_CHECKS(vae_graph_transpose, OPS_IMG, , axes, 3);

    ops_fresh(OPS_IMG);
    OPS_EXPECT_G("NULL axes", VAE_ERR_INVALID_ARG,
                 vae_graph_transpose(ops_g, 0, NULL, 3));
    const int32_t axes5[5] = {0, 1, 2, 3, 4};
    const int32_t bad_ranks[] = {0, -1, 5, INT32_MIN};
    for (int i = 0; i < TU_COUNT(bad_ranks); i++) {
        ops_fresh(OPS_IMG);
        OPS_EXPECT_G("rank not in 1..4", VAE_ERR_SHAPE,
                     vae_graph_transpose(ops_g, 0, axes5, bad_ranks[i]));
    }
    ops_fresh(OPS_IMG);
    OPS_EXPECT_G("rank differs from the input's", VAE_ERR_SHAPE,
                 vae_graph_transpose(ops_g, 0, axes5, 2));
    const int32_t bad_axes[][3] = {{0, 0, 1}, {0, 1, 3}, {-1, 0, 1},
                                   {INT32_MIN, 1, 2}, {2, 1, INT32_MAX}};
    for (int i = 0; i < TU_COUNT(bad_axes); i++) {
        ops_fresh(OPS_IMG);
        OPS_EXPECT_G("axes not a permutation", VAE_ERR_SHAPE,
                     vae_graph_transpose(ops_g, 0, bad_axes[i], 3));
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_transpose),
    cmocka_unit_test(test_transpose_arguments),
};
OPS_GROUP(tests)
