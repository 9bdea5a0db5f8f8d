/* The dense layer of src/ops/dense.c: forward against y = x W^T + b on
 * the last axis, backward against central differences (OPS_SMOOTH_FD_TOL)
 * on vectors, sequences and images, accumulation, the per-row equivalence,
 * nn.Linear's initialisation, refused unit counts and the builder's
 * argument checks. */
#include <string.h>

#include "op_test.h"

/* y = x W^T + b on the last axis, W units x in (nn.Linear), then b. */
static void check_dense_forward(tu_harness *h, int64_t units)
{
    int64_t in = h->in.s.shape[h->in.s.rank - 1];
    int64_t rows = h->batch * (h->in.s.size / in);
    const float *W = h->w, *b = h->w + units * in;
    tu_forward(h);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t u = 0; u < units; u++) {
            double s = b[u];
            for (int64_t k = 0; k < in; k++)
                s += (double)W[u * in + k] * h->in.val[r * in + k];
            TU_ASSERT_CLOSE(h->node.val[r * units + u], s, 1e-5,
                            "dense forward");
        }
}

static void check_dense(const int64_t *dims, int32_t rank, int64_t units,
                        int64_t batch)
{
    tu_layer l = TU_DENSE(units);
    tu_harness h;
    tu_harness_init(&h, dims, rank, &l, batch, 77 + (uint64_t)rank);
    int64_t in = dims[rank - 1];
    assert_int_equal(h.node.s.rank, rank);
    for (int32_t k = 0; k < rank - 1; k++)
        assert_int_equal(h.node.s.shape[k], dims[k]);
    assert_int_equal(h.node.s.shape[rank - 1], units);
    assert_int_equal(h.node.s.size, h.in.s.size / in * units);
    assert_int_equal(h.node.s.n_params, units * in + units);
    assert_int_equal(vae_graph_node_size(h.g, 1), h.node.s.size);

    check_dense_forward(&h, units);
    tu_check_grads(&h, "dense", OPS_SMOOTH_FD_TOL);
    tu_check_accumulates(&h);
    tu_harness_free(&h);
}

static void test_dense(void **state)
{
    (void)state;
    const int64_t v[1] = {6};
    const int64_t seq[2] = {3, 4};    /* [T, F]: applied to each of T rows */
    const int64_t img[3] = {2, 3, 4};
    check_dense(v, 1, 5, 4);
    check_dense(v, 1, 1, 1);
    check_dense(seq, 2, 5, 2);
    check_dense(img, 3, 2, 2);
}

/* Dense on [T, F] equals dense on each [F] row with the same weights. */
static void test_dense_per_row(void **state)
{
    (void)state;
    const int64_t seq[2] = {3, 4}, row[1] = {4};
    tu_layer l = TU_DENSE(5);
    tu_harness hs, hr;
    tu_harness_init(&hs, seq, 2, &l, 2, 11);
    tu_harness_init(&hr, row, 1, &l, 6, 12);
    assert_int_equal(hs.node.s.n_params, hr.node.s.n_params);
    memcpy(hr.w, hs.w, (size_t)hs.node.s.n_params * sizeof(float));
    memcpy(hr.in.val, hs.in.val, (size_t)tu_in_count(&hs) * sizeof(float));
    assert_int_equal(tu_out_count(&hs), tu_out_count(&hr));
    tu_forward(&hs);
    tu_forward(&hr);
    for (int64_t i = 0; i < tu_out_count(&hs); i++)
        TU_ASSERT_CLOSE(hs.node.val[i], hr.node.val[i], 1e-6, "per row");
    tu_harness_free(&hs);
    tu_harness_free(&hr);
}

/* nn.Linear's default: W and b uniform in +-1/sqrt(fan_in). For a correct
 * init the spread checks fail for a fraction of seeds of about 0.8^128 <
 * 1e-12 (max of 128 weights), 0.25^8 < 2e-5 (max of 8 biases) and < 1e-6
 * (mean of 136 draws, sd bound/20, more than 5 sd off). */
static void test_dense_init(void **state)
{
    (void)state;
    const int64_t v[1] = {16};
    tu_layer l = TU_DENSE(8);
    tu_check_init(v, 1, &l, 16, 8, 0.8);
}

/* Units must be positive; the failure is sticky. */
static void test_dense_bad_units(void **state)
{
    (void)state;
    const int64_t v[1] = {4};
    vae_graph *g;

    const int64_t bad_units[] = {0, -1, INT64_MIN};
    for (int i = 0; i < TU_COUNT(bad_units); i++) {
        assert_int_equal(vae_graph_new(&g), VAE_OK);
        assert_int_equal(vae_graph_input(g, v, 1), 0);
        ops_expect_sticky_failure(g, vae_graph_dense(g, 0, bad_units[i]));
        vae_graph_free(g);
    }
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_dense_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_dense, OPS_VEC, , 3);
    const int64_t bad_units[] = {0, -1, INT64_MIN, ((int64_t)1 << 30) + 1,
                                 INT64_MAX};
    for (int i = 0; i < TU_COUNT(bad_units); i++) {
        ops_fresh(OPS_VEC);
        OPS_EXPECT_G("units not in 1..2^30", VAE_ERR_RANGE,
                     vae_graph_dense(ops_g, 0, bad_units[i]));
    }
    const int64_t wide = (int64_t)1 << 20, wider = (int64_t)1 << 31;
    ops_fresh_input(&wide, 1);
    OPS_EXPECT_G("units x in > 2^36 weights", VAE_ERR_SHAPE,
                 vae_graph_dense(ops_g, 0, wide));
    ops_fresh_input(&wider, 1);
    OPS_EXPECT_G("input wider than 2^30", VAE_ERR_SHAPE,
                 vae_graph_dense(ops_g, 0, 1));
    /* Sticky: a valid call after an error returns the error. */
    ops_fresh(OPS_VEC);
    assert_int_equal(vae_graph_dense(ops_g, 0, 0), VAE_ERR_RANGE);
    OPS_EXPECT_G("after an error: that error (sticky)", VAE_ERR_RANGE,
                 vae_graph_dense(ops_g, 0, 3));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_dense),
    cmocka_unit_test(test_dense_per_row),
    cmocka_unit_test(test_dense_init),
    cmocka_unit_test(test_dense_bad_units),
    cmocka_unit_test(test_dense_arguments),
};
OPS_GROUP(tests)
