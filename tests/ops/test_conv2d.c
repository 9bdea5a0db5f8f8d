/* conv2d (src/ops/conv2d.c): gradients against central differences
 * (OPS_LINEAR_FD_TOL) and accumulation, for strided, 1x1, MNIST-sized and
 * wide-padded kernels; the builder's argument checks. Its reference,
 * adjoint, init and shape tests, shared with conv2d_transpose, are in
 * test_im2col.c. */
#include "op_test.h"

static void test_grads_conv(void **state)
{
    (void)state;
    const int64_t a[3] = {2, 5, 6}, b[3] = {3, 4, 3}, c[3] = {1, 6, 6};
    const tu_layer strided = TU_CONV(3, 3, 2, 1), unit = TU_CONV(2, 1, 1, 0),
                   mnist = TU_CONV(2, 4, 2, 1), wide = TU_CONV(2, 5, 1, 4);
    ops_check_layer_grads(a, 3, &strided, 2, 1, "conv2d k3 s2 p1");
    ops_check_layer_grads(b, 3, &unit, 2, 2, "conv2d k1");
    ops_check_layer_grads(c, 3, &mnist, 2, 3, "conv2d k4 s2 p1");
    ops_check_layer_grads(b, 3, &wide, 2, 4, "conv2d k5 p4");
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_conv2d_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_conv2d, OPS_IMG, , 2, 3, 1, 1);
    OPS_EXPECT_CONV_ATTRS(vae_graph_conv2d);
    ops_fresh(OPS_IMG);
    OPS_EXPECT_G("kernel larger than the padded image", VAE_ERR_SHAPE,
                 vae_graph_conv2d(ops_g, 0, 2, 7, 1, 0));
    const int64_t cube[3] = {1024, 1024, 1024};
    ops_fresh_input(cube, 3);
    OPS_EXPECT_G("im2col space above 2^30 floats", VAE_ERR_SHAPE,
                 vae_graph_conv2d(ops_g, 0, 2, 3, 1, 1));
    const int64_t deep[3] = {(int64_t)1 << 20, 1, 1};
    ops_fresh_input(deep, 3);
    OPS_EXPECT_G("weights above 2^36", VAE_ERR_SHAPE,
                 vae_graph_conv2d(ops_g, 0, (int64_t)1 << 20, 1, 1, 0));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_grads_conv),
    cmocka_unit_test(test_conv2d_arguments),
};
OPS_GROUP(tests)
