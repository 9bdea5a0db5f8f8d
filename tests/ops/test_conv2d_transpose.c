/* conv2d_transpose (src/ops/conv2d_transpose.c): gradients against central
 * differences (OPS_LINEAR_FD_TOL) and accumulation, for strided, 1x1,
 * MNIST-sized and wide kernels; the builder's argument checks. Its
 * reference, adjoint, init and shape tests, shared with conv2d, are in
 * test_im2col.c. */
#include "op_test.h"

static void test_grads_conv_transpose(void **state)
{
    (void)state;
    const int64_t a[3] = {2, 3, 4}, b[3] = {3, 4, 3}, c[3] = {2, 3, 3};
    const tu_layer strided = TU_CONVT(3, 3, 2, 1), unit = TU_CONVT(2, 1, 1, 0),
                   mnist = TU_CONVT(1, 4, 2, 1), wide = TU_CONVT(2, 5, 3, 2);
    ops_check_layer_grads(a, 3, &strided, 2, 5, "conv2d_transpose k3 s2 p1");
    ops_check_layer_grads(b, 3, &unit, 2, 6, "conv2d_transpose k1");
    ops_check_layer_grads(c, 3, &mnist, 2, 7, "conv2d_transpose k4 s2 p1");
    ops_check_layer_grads(a, 3, &wide, 2, 8, "conv2d_transpose k5 s3 p2");
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_conv2d_transpose_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_conv2d_transpose, OPS_IMG, , 2, 3, 1, 1);
    OPS_EXPECT_CONV_ATTRS(vae_graph_conv2d_transpose);
    const int64_t dot[3] = {2, 1, 1};
    ops_fresh_input(dot, 3);
    OPS_EXPECT_G("output smaller than 1x1", VAE_ERR_SHAPE,
                 vae_graph_conv2d_transpose(ops_g, 0, 2, 3, 1, 2));
    const int64_t plane[3] = {1, (int64_t)1 << 20, (int64_t)1 << 20};
    ops_fresh_input(plane, 3);
    OPS_EXPECT_G("output beyond 2^40 elements / im2col space", VAE_ERR_SHAPE,
                 vae_graph_conv2d_transpose(ops_g, 0, 1, 1, (int64_t)1 << 20,
                                            0));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_grads_conv_transpose),
    cmocka_unit_test(test_conv2d_transpose_arguments),
};
OPS_GROUP(tests)
