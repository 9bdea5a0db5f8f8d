/* conv2d_transpose (src/ops/conv2d_transpose.c): gradients against central
 * differences (OPS_LINEAR_FD_TOL) and accumulation, for strided, 1x1,
 * MNIST-sized and wide kernels. Its reference, adjoint, init and shape
 * tests, shared with conv2d, are in test_im2col.c. */
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

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_grads_conv_transpose),
};
OPS_GROUP(tests)
