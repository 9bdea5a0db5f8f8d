/* A whole conv VAE (conv2d, tanh, flatten in the encoder; dense, tanh,
 * reshape, conv2d_transpose in the decoder): the training loss's gradient
 * against central differences through the public API, and the buffers the
 * reshapes share with the layers before them. The ops on their
 * own are tested in tests/ops/ (test_im2col.c, test_conv2d.c,
 * test_conv2d_transpose.c, test_reshape.c).
 *
 * Tolerance: MODEL_FD_TOL 5e-3 for the whole model (tanh, Bernoulli: not
 * linear), h = 1e-3, as in test_elbo.c; measured 1.0e-3.
 */
#include <stdio.h>

#include "model.h"
#include "testutil.h"

#define MODEL_FD_TOL 5e-3

/* ---- the whole model ------------------------------------------------------ */

enum { MB = 3, MLAT = 2, MD = 64 };
#define Z_SEED 77u

/* Encoder: [1, 8, 8] -> conv 1->2 k3 s2 p1 -> tanh -> flatten (32), then the
 * model's Gaussian head. Decoder: z (2) -> dense 32 -> tanh -> reshape
 * [2, 4, 4] -> conv2d_transpose 2->1 k4 s2 p1 -> [1, 8, 8] Bernoulli logits.
 * tanh only: no kinks for the central differences to straddle. */
static vae_model *conv_model(void)
{
    const int64_t img[3] = {1, 8, 8}, z[1] = {MLAT};
    const tu_layer enc[] = {TU_CONV(2, 3, 2, 1), TU_ACT(VAE_OP_TANH),
                            TU_FLATTEN};
    const tu_layer dec[] = {TU_DENSE(32), TU_ACT(VAE_OP_TANH),
                            TU_RESHAPE3(2, 4, 4), TU_CONVT(1, 4, 2, 1)};
    vae_graph *ge = tu_graph_nd(img, 3, enc, TU_COUNT(enc));
    vae_graph *gd = tu_graph_nd(z, 1, dec, TU_COUNT(dec));
    vae_model *m = NULL;
    char err[256] = "";
    int32_t st = vae_model_new(ge, gd, MLAT, VAE_LIKELIHOOD_BERNOULLI, 5, &m,
                               err, sizeof err);
    vae_graph_free(ge);
    vae_graph_free(gd);
    if (st != VAE_OK)
        fail_msg("conv model: %s (%s)", vae_status_string(st), err);
    int64_t dims[4];
    assert_int_equal(vae_model_data_shape(m, dims, 4), 3);
    assert_int_equal(vae_model_data_size(m), MD);
    /* conv 20, head 32*4+4, dense 2*32+32, transpose 2*1*16+1. */
    assert_int_equal(vae_model_num_params(m), 20 + 132 + 96 + 33);
    return m;
}

/* MB images of pixels uniform in [0, 1]. */
static void fill_images(float *x, uint64_t seed)
{
    tu_rng r;
    tu_seed(&r, seed);
    tu_fill_uniform(&r, x, MB * MD, 0.0, 1.0);
}

/* The full training loss's gradient wrt every parameter, through the public
 * API, against central differences. */
static void test_model_grad(void **state)
{
    (void)state;
    vae_model *m = conv_model();
    float x[MB * MD];
    fill_images(x, 8);

    double worst = tu_check_model_grads(m, x, MB, Z_SEED, TU_FD_H,
                                        MODEL_FD_TOL);
    printf("model: worst relative disagreement %.3g over %lld params\n", worst,
           (long long)vae_model_num_params(m));
    vae_model_free(m);
}

/* tanh computes over the layer before it and each reshape over the tanh
 * (model.c, plan_in_place): the three nodes of each chain share one value
 * buffer and one gradient buffer, the gradient placed from the reshape
 * back. test_model_grad runs this model, so a chain placed wrongly (a
 * layer left without its gradient, a reshape adding its gradient onto
 * itself) fails it there. */
static void test_reshape_in_place(void **state)
{
    (void)state;
    vae_model *m = conv_model();
    float x[MB * MD];
    fill_images(x, 9);
    assert_int_equal(vae_model_elbo_grad(m, x, MB, NULL, NULL, NULL), VAE_OK);
    /* Encoder: input, conv, tanh, flatten; decoder: z, dense, tanh,
     * reshape, transpose. */
    const vae_node *chains[2] = {&m->enc[1], &m->dec[1]};
    for (int c = 0; c < 2; c++) {
        const vae_node *layer = chains[c], *act = layer + 1, *shape = layer + 2;
        assert_int_equal(act->s.op, VAE_OP_TANH);
        assert_int_equal(shape->s.op, VAE_OP_RESHAPE);
        assert_true(act->val_in_input);
        assert_true(shape->val_in_input);
        assert_ptr_equal(act->val, layer->val);
        assert_ptr_equal(shape->val, layer->val);
        assert_non_null(shape->grad);
        assert_ptr_equal(act->grad, shape->grad);
        assert_ptr_equal(layer->grad, shape->grad);
    }
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_grad),
        cmocka_unit_test(test_reshape_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
