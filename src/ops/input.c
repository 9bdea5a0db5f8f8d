/* input.c - the graph's data entry point: holds what the model copies in. */
#include "ops.h"

static int32_t input_shape(vae_node_spec *s, const vae_node_spec *const *in,
                           char *err, size_t errlen)
{
    (void)in;
    int64_t rank = s->iattr[0];
    if (rank < 1 || rank > VAE_MAX_RANK) {
        vae_set_err(err, errlen, "rank %lld not in 1..%d", (long long)rank,
                    VAE_MAX_RANK);
        return VAE_ERR_SHAPE;
    }
    s->rank = (int32_t)rank;
    for (int32_t i = 0; i < s->rank; i++)
        s->shape[i] = s->iattr[1 + i];
    s->n_params = 0;
    return vae_shape_finish(s, err, errlen);
}

static void input_forward(vae_node *n, vae_node *const *in, const float *w,
                          int64_t batch)
{
    (void)n, (void)in, (void)w, (void)batch;
}

static void input_backward(vae_node *n, vae_node *const *in, const float *w,
                           float *dw, int64_t batch)
{
    (void)n, (void)in, (void)w, (void)dw, (void)batch;
}

const vae_op vae_op_input = {"input", input_shape, NULL, input_forward,
                             input_backward};
