/* gaussian.c - the posterior q(z|x) = N(mu, exp(logvar)) given by the
 * encoder itself: two vectors of D elements, mu and logvar, joined as the
 * [2D] row [mu | logvar] that the model's Gaussian head would otherwise
 * compute. An encoder whose output is this node gets no head appended
 * (vae_model_new), so the graph decides how mu and logvar are made: e.g.
 * mu through batch normalisation (BN-VAE) and logvar through a dense
 * layer. */
#include <string.h>

#include "ops.h"

static int32_t gaussian_shape(vae_node_spec *s, const vae_node_spec *const *in,
                              char *err, size_t errlen)
{
    int32_t st = vae_want_inputs(s, 2, err, errlen);
    if (st != VAE_OK)
        return st;
    if (in[0]->rank != 1 || in[1]->rank != 1 ||
        in[0]->shape[0] != in[1]->shape[0]) {
        vae_set_err(err, errlen, "mu and logvar must be vectors of the same "
                    "size");
        return VAE_ERR_SHAPE;
    }
    s->rank = 1;
    s->shape[0] = 2 * in[0]->shape[0];
    s->n_params = 0;
    return vae_shape_finish(s, err, errlen);
}

static void gaussian_forward(vae_node *n, vae_node *const *in, const float *w,
                             int64_t batch)
{
    (void)w;
    const int64_t d = n->s.shape[0] / 2;
    for (int64_t b = 0; b < batch; b++) {
        memcpy(n->val + b * 2 * d, in[0]->val + b * d, (size_t)d * sizeof(float));
        memcpy(n->val + b * 2 * d + d, in[1]->val + b * d,
               (size_t)d * sizeof(float));
    }
}

static void gaussian_backward(vae_node *n, vae_node *const *in,
                              const float *w, float *dw, int64_t batch)
{
    (void)w, (void)dw;
    const int64_t d = n->s.shape[0] / 2;
    for (int k = 0; k < 2; k++) {
        if (!in[k]->grad)
            continue;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t j = 0; j < d; j++)
                in[k]->grad[b * d + j] += n->grad[b * 2 * d + k * d + j];
    }
}

const vae_op vae_op_gaussian = {
    .name = "gaussian",
    .code = VAE_OP_GAUSSIAN,
    .shape = gaussian_shape,
    .forward = gaussian_forward,
    .backward = gaussian_backward,
    .posterior = 1,
};

VAE_API int32_t vae_graph_gaussian(vae_graph *g, int32_t mu, int32_t logvar)
{
    int32_t in[2] = {mu, logvar};
    return vae_graph_add(g, &vae_op_gaussian, in, 2, NULL, 0, NULL, 0);
}
