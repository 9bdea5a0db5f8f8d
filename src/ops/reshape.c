/* reshape.c - the same elements under another per-example shape. Where the
 * model can (model.c, plan_in_place), a reshape's values and gradient are
 * its input's, and forward and backward have nothing to do; otherwise
 * they are copied and added. */
#include <string.h>

#include "ops.h"

static int32_t reshape_shape(vae_node_spec *s, const vae_node_spec *const *in,
                             char *err, size_t errlen)
{
    if (s->n_inputs != 1) {
        vae_set_err(err, errlen, "takes exactly one input");
        return VAE_ERR_GRAPH;
    }
    s->n_params = 0;
    int32_t st = vae_shape_from_attr(s, err, errlen);
    if (st != VAE_OK)
        return st;
    if (s->size != in[0]->size) {
        vae_set_err(err, errlen, "input has %lld elements, the new shape %lld",
                    (long long)in[0]->size, (long long)s->size);
        return VAE_ERR_SHAPE;
    }
    return VAE_OK;
}

static void reshape_forward(vae_node *n, vae_node *const *in, const float *w,
                            int64_t batch)
{
    (void)w;
    if (n->val != in[0]->val)
        memcpy(n->val, in[0]->val,
               (size_t)(batch * n->s.size) * sizeof(float));
}

static void reshape_backward(vae_node *n, vae_node *const *in, const float *w,
                             float *dw, int64_t batch)
{
    (void)w, (void)dw;
    if (!in[0]->grad || in[0]->grad == n->grad)
        return;
    int64_t len = batch * n->s.size;
    for (int64_t i = 0; i < len; i++)
        in[0]->grad[i] += n->grad[i];
}

const vae_op vae_op_reshape = {
    .name = "reshape",
    .code = VAE_OP_RESHAPE,
    .shape = reshape_shape,
    .forward = reshape_forward,
    .backward = reshape_backward,
    .forward_in_place = 1,
    .keeps_values = 1,
};

VAE_API int32_t vae_graph_reshape(vae_graph *g, int32_t x, const int64_t *dims,
                                  int32_t rank)
{
    return vae_graph_add_shaped(g, &vae_op_reshape, &x, 1, dims, rank);
}

VAE_API int32_t vae_graph_flatten(vae_graph *g, int32_t x)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (g->status != VAE_OK)
        return g->status;
    if (x < 0 || x >= g->n)
        return vae_graph_fail(g, VAE_ERR_GRAPH,
                              "flatten: input is node %d, which does not exist",
                              (int)x);
    int64_t size = g->nodes[x].size;
    return vae_graph_reshape(g, x, &size, 1);
}
