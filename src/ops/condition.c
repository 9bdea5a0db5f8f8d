/* condition.c - a conditional model's side information (Sohn et al. 2015:
 * a label, one-hot, or any vector per example) as a node of the encoder or
 * the decoder. A source node like the graph input: the model copies each
 * example's condition (vae_model_set_condition) into its values before the
 * net runs, so forward and backward have nothing to do. */
#include "ops.h"

static int32_t condition_shape(vae_node_spec *s, const vae_node_spec *const *in,
                               char *err, size_t errlen)
{
    (void)in;
    if (s->n_inputs != 0) {
        vae_set_err(err, errlen, "takes no inputs (the model fills it with "
                    "the condition)");
        return VAE_ERR_GRAPH;
    }
    if (s->iattr[VAE_SHAPED_RANK] != 1) {
        vae_set_err(err, errlen, "the condition is a vector, not rank %lld",
                    (long long)s->iattr[VAE_SHAPED_RANK]);
        return VAE_ERR_SHAPE;
    }
    int64_t size = s->iattr[VAE_SHAPED_DIMS];
    if (size < 1 || size > ((int64_t)1 << 24)) {
        vae_set_err(err, errlen, "size %lld not in 1..2^24", (long long)size);
        return VAE_ERR_RANGE;
    }
    s->n_params = 0;
    return vae_shape_from_attr(s, err, errlen);
}

static void condition_forward(vae_node *n, vae_node *const *in,
                              const float *w, int64_t batch)
{
    (void)n, (void)in, (void)w, (void)batch;
}

/* The condition is given, not a function of parameters. */
static void condition_backward(vae_node *n, vae_node *const *in,
                               const float *w, float *dw, int64_t batch)
{
    (void)n, (void)in, (void)w, (void)dw, (void)batch;
}

const vae_op vae_op_condition = {
    .name = "condition",
    .code = VAE_OP_CONDITION,
    .shape = condition_shape,
    .forward = condition_forward,
    .backward = condition_backward,
    /* The same vector at every step of a sequence. */
    .per_step = 1,
    .reads_condition = 1,
};

VAE_API int32_t vae_graph_condition(vae_graph *g, int64_t size)
{
    return vae_graph_add_shaped(g, &vae_op_condition, NULL, 0, &size, 1);
}
