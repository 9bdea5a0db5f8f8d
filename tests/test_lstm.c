/* test_lstm.c - the training gradient of a whole model with an LSTM in the
 * encoder and one in the decoder, through the public API, against central
 * differences. The LSTM op itself is tested in tests/ops/test_lstm.c.
 *
 * Tolerance (|a - b| <= tol * max(1, |a|, |b|), see tu_close):
 *  - MODEL_FD_TOL 5e-3 and step 1e-3 as test_conv.c's whole-model check;
 *    measured 1.5e-4.
 */
#include <stdio.h>

#include "testutil.h"

#define MODEL_FD_TOL 5e-3

/* ---- the whole model --------------------------------------------------- */

enum { MB = 3, MT = 4, MF = 3, MH = 3, MLAT = 2 };
#define Z_SEED 91u

/* Encoder: x [4, 3] -> lstm 3, last state -> the model's Gaussian head.
 * Decoder: z -> dense 12 -> [4, 3] as a sequence, and z -> dense 6 as
 * (h0, c0) -> lstm 3, full sequence -> dense 3 per step -> [4, 3] means of
 * a fixed-variance Gaussian. */
static vae_model *lstm_model(void)
{
    const int64_t x[2] = {MT, MF}, z[1] = {MLAT}, seq[2] = {MT, MF};
    vae_graph *ge = tu_graph_input(x, 2);
    assert_int_equal(vae_graph_lstm(ge, 0, MH, -1, -1, 0), 1);
    assert_int_equal(vae_graph_set_output(ge, 1), VAE_OK);
    vae_graph *gd = tu_graph_input(z, 1);
    assert_int_equal(vae_graph_dense(gd, 0, MT * MF), 1);
    assert_int_equal(vae_graph_reshape(gd, 1, seq, 2), 2);
    assert_int_equal(vae_graph_dense(gd, 0, 2 * MH), 3);
    assert_int_equal(vae_graph_lstm(gd, 2, MH, 3, -1, 1), 4);
    assert_int_equal(vae_graph_dense(gd, 4, MF), 5);
    assert_int_equal(vae_graph_set_output(gd, 5), VAE_OK);
    vae_model *m = NULL;
    char err[256] = "";
    int32_t st = vae_model_new(ge, gd, MLAT, VAE_LIKELIHOOD_GAUSSIAN_FIXED, 6,
                               &m, err, sizeof err);
    vae_graph_free(ge);
    vae_graph_free(gd);
    if (st != VAE_OK)
        fail_msg("lstm model: %s (%s)", vae_status_string(st), err);
    const int64_t lstm_params = 4 * MH * (MF + MH) + 8 * MH;
    assert_int_equal(vae_model_num_params(m),
                     lstm_params + (MH * 2 * MLAT + 2 * MLAT) +
                         (MLAT * MT * MF + MT * MF) + (MLAT * 2 * MH + 2 * MH) +
                         lstm_params + (MH * MF + MF));
    return m;
}

/* The training loss's gradient wrt every parameter, through the public API
 * (the model lays out the saved and state buffers), against central
 * differences. */
static void test_model_grad(void **state)
{
    (void)state;
    vae_model *m = lstm_model();
    float x[MB * MT * MF];
    tu_rng r;
    tu_seed(&r, 12);
    tu_fill_uniform(&r, x, MB * MT * MF, -1.0, 1.0);

    double worst = tu_check_model_grads(m, x, MB, Z_SEED, TU_FD_H,
                                        MODEL_FD_TOL);
    printf("model: worst relative disagreement %.3g over %lld params\n", worst,
           (long long)vae_model_num_params(m));
    vae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_grad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
