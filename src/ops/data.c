/* data.c - the model's data x as a node of the decoder, for teacher forcing.
 * A source node like the graph input: the model copies x into its values
 * before the decoder runs, so forward and backward have nothing to do. */
#include "ops.h"

static int32_t data_shape(vae_node_spec *s, const vae_node_spec *const *in,
                          char *err, size_t errlen)
{
    (void)in;
    if (s->n_inputs != 0) {
        vae_set_err(err, errlen, "takes no inputs (the model fills it with x)");
        return VAE_ERR_GRAPH;
    }
    s->n_params = 0;
    return vae_shape_from_attr(s, err, errlen);
}

static void data_forward(vae_node *n, vae_node *const *in, const float *w,
                         int64_t batch)
{
    (void)n, (void)in, (void)w, (void)batch;
}

/* x is data, not a function of parameters: its gradient goes nowhere. */
static void data_backward(vae_node *n, vae_node *const *in, const float *w,
                          float *dw, int64_t batch)
{
    (void)n, (void)in, (void)w, (void)dw, (void)batch;
}

/* One step of a sequence: the time axis (the first) becomes 1. */
static void data_to_step(vae_node_spec *s)
{
    s->iattr[VAE_SHAPED_DIMS] = 1;
}

const vae_op vae_op_data = {
    .name = "data",
    .code = VAE_OP_DATA,
    .shape = data_shape,
    .forward = data_forward,
    .backward = data_backward,
    .per_step = 1,
    .reads_data = 1,
    .to_step = data_to_step,
};

VAE_API int32_t vae_graph_data(vae_graph *g, const int64_t *dims, int32_t rank)
{
    return vae_graph_add_shaped(g, &vae_op_data, NULL, 0, dims, rank);
}
