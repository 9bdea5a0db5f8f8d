/* input.c - the graph's data entry point: holds what the model copies in. */
#include "ops.h"

static int32_t input_shape(vae_node_spec *s, const vae_node_spec *const *in,
                           char *err, size_t errlen)
{
    (void)in;
    s->n_params = 0;
    return vae_shape_from_attr(s, err, errlen);
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

const vae_op vae_op_input = {
    .name = "input",
    .code = VAE_OP_INPUT,
    .shape = input_shape,
    .forward = input_forward,
    .backward = input_backward,
    .per_step = 1,
};

VAE_API int32_t vae_graph_input(vae_graph *g, const int64_t *dims, int32_t rank)
{
    return vae_graph_add_shaped(g, &vae_op_input, NULL, 0, dims, rank);
}
