/* The six elementwise activations of src/ops/activation.c (relu,
 * leaky_relu, tanh, sigmoid, softplus, identity): forward against each
 * formula in double, backward against central differences
 * (OPS_SMOOTH_FD_TOL), accumulation, extreme inputs that must stay
 * finite both ways, and the builders' argument checks. */
#include <math.h>
#include <string.h>

#include "op_test.h"

static double act_ref(int32_t op, double x, double slope)
{
    switch (op) {
    case VAE_OP_RELU: return x > 0 ? x : 0.0;
    case VAE_OP_LEAKY_RELU: return x > 0 ? x : slope * x;
    case VAE_OP_TANH: return tanh(x);
    case VAE_OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case VAE_OP_SOFTPLUS: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    case VAE_OP_IDENTITY: return x;
    default: fail_msg("no reference for op %d", (int)op);
    }
    return 0.0;
}

static void check_activation(const tu_layer *layer, const int64_t *dims,
                             int32_t rank)
{
    tu_harness h;
    tu_harness_init(&h, dims, rank, layer, 3, 1234 + (uint64_t)layer->op);
    const char *name = h.op->name;
    assert_non_null(name);
    assert_int_equal(h.node.s.rank, rank);
    for (int32_t k = 0; k < rank; k++)
        assert_int_equal(h.node.s.shape[k], dims[k]);
    assert_int_equal(h.node.s.size, h.in.s.size);
    assert_int_equal(h.node.s.n_params, 0);

    tu_forward(&h);
    for (int64_t i = 0; i < tu_out_count(&h); i++)
        TU_ASSERT_CLOSE(h.node.val[i],
                        act_ref(layer->op, h.in.val[i], layer->slope), 1e-6,
                        name);
    tu_check_grads(&h, name, OPS_SMOOTH_FD_TOL);
    tu_check_accumulates(&h);
    tu_harness_free(&h);
}

static void test_activations(void **state)
{
    (void)state;
    const tu_layer acts[] = {
        TU_ACT(VAE_OP_RELU),    TU_LEAKY(0.1f),         TU_LEAKY(0.3f),
        TU_ACT(VAE_OP_TANH),    TU_ACT(VAE_OP_SIGMOID), TU_ACT(VAE_OP_SOFTPLUS),
        TU_ACT(VAE_OP_IDENTITY),
    };
    const int64_t flat[1] = {7};
    const int64_t cube[3] = {2, 3, 2};
    for (int i = 0; i < TU_COUNT(acts); i++) {
        check_activation(&acts[i], flat, 1);
        check_activation(&acts[i], cube, 3);
    }
}

/* Extreme inputs must not turn into NaN/Inf in either direction. */
static void test_activation_extremes(void **state)
{
    (void)state;
    const int32_t ops[] = {VAE_OP_TANH, VAE_OP_SIGMOID, VAE_OP_SOFTPLUS};
    const float xs[] = {-1e4f, -100.0f, -30.0f, 30.0f, 100.0f, 1e4f};
    const int64_t dims[1] = {TU_COUNT(xs)};
    for (int i = 0; i < TU_COUNT(ops); i++) {
        tu_layer l = TU_ACT(ops[i]);
        tu_harness h;
        tu_harness_init(&h, dims, 1, &l, 1, 5);
        memcpy(h.in.val, xs, sizeof xs);
        memset(h.in.grad, 0, sizeof xs);
        tu_backward(&h);
        for (int k = 0; k < TU_COUNT(xs); k++) {
            assert_true(isfinite(h.node.val[k]));
            assert_true(isfinite(h.in.grad[k]));
            TU_ASSERT_CLOSE(h.node.val[k], act_ref(ops[i], xs[k], 0.0), 1e-6,
                            h.op->name);
        }
        tu_harness_free(&h);
    }
}

/* The builders' arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_activation_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_relu, OPS_VEC, );
    OPS_EXPECT_NODE_CHECKS(vae_graph_tanh, OPS_VEC, );
    OPS_EXPECT_NODE_CHECKS(vae_graph_sigmoid, OPS_VEC, );
    OPS_EXPECT_NODE_CHECKS(vae_graph_softplus, OPS_VEC, );
    OPS_EXPECT_NODE_CHECKS(vae_graph_identity, OPS_VEC, );
    OPS_EXPECT_NODE_CHECKS(vae_graph_leaky_relu, OPS_VEC, , 0.1f);
    const float bad_slopes[] = {NAN, INFINITY, -INFINITY, -0.1f, 1.0f, 2.0f};
    for (int i = 0; i < TU_COUNT(bad_slopes); i++) {
        ops_fresh(OPS_VEC);
        OPS_EXPECT_G("slope NaN, Inf or not in [0, 1)", VAE_ERR_RANGE,
                     vae_graph_leaky_relu(ops_g, 0, bad_slopes[i]));
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_activations),
    cmocka_unit_test(test_activation_extremes),
    cmocka_unit_test(test_activation_arguments),
};
OPS_GROUP(tests)
