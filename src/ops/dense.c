/* dense.c - fully connected layer on the last axis: y = x W^T + b.
 * W is units x in, as nn.Linear stores it, so weights move between libvae and
 * PyTorch without transposes. Leading axes (time steps) are rows too. */
#include <math.h>

#include "../gemm.h"
#include "bias.h"
#include "ops.h"

/* iattr */
enum { DENSE_UNITS };

static int32_t dense_shape(vae_node_spec *s, const vae_node_spec *const *in,
                           char *err, size_t errlen)
{
    if (s->n_inputs != 1) {
        vae_set_err(err, errlen, "takes exactly one input");
        return VAE_ERR_GRAPH;
    }
    int64_t units = s->iattr[DENSE_UNITS];
    if (units < 1 || units > ((int64_t)1 << 30)) {
        vae_set_err(err, errlen, "units %lld not in 1..2^30", (long long)units);
        return VAE_ERR_RANGE;
    }
    const vae_node_spec *x = in[0];
    int64_t fan_in = x->shape[x->rank - 1];
    if (fan_in > ((int64_t)1 << 30) || units * fan_in > ((int64_t)1 << 36)) {
        vae_set_err(err, errlen, "%lld x %lld weights are too many",
                    (long long)units, (long long)fan_in);
        return VAE_ERR_SHAPE;
    }
    s->rank = x->rank;
    for (int32_t i = 0; i < x->rank; i++)
        s->shape[i] = x->shape[i];
    s->shape[s->rank - 1] = units;
    s->n_params = units * fan_in + units;
    return vae_shape_finish(s, err, errlen);
}

/* nn.Linear's default: W and b uniform in +-1/sqrt(fan_in). */
static void dense_init(const vae_node_spec *s, float *w, vae_rng *r)
{
    int64_t units = s->shape[s->rank - 1];
    int64_t fan_in = (s->n_params - units) / units;
    vae_rng_init_uniform(r, w, s->n_params,
                         (float)(1.0 / sqrt((double)fan_in)));
}

static void dense_forward(vae_node *n, vae_node *const *in, const float *w,
                          int64_t batch)
{
    int64_t units = n->s.shape[n->s.rank - 1];
    int64_t fan_in = (n->s.n_params - units) / units;
    int64_t rows = batch * (n->s.size / units);
    const float *b = w + units * fan_in;
    float *y = n->val;
    vae_sgemm_bias(0, 1, rows, units, fan_in, in[0]->val, fan_in, w, fan_in,
                   b, NULL, y, units);
}

static void dense_backward(vae_node *n, vae_node *const *in, const float *w,
                           float *dw, int64_t batch)
{
    int64_t units = n->s.shape[n->s.rank - 1];
    int64_t fan_in = (n->s.n_params - units) / units;
    int64_t rows = batch * (n->s.size / units);
    const float *dy = n->grad;
    float *db = dw + units * fan_in;
    const vae_gemm dw_product = {1, 0, units, fan_in, rows, 1.0f, dy, units,
                                 in[0]->val, fan_in, 1.0f, dw, fan_in,
                                 NULL, NULL};
    const vae_gemm dx_product = {0, 0, rows, fan_in, units, 1.0f, dy, units,
                                 w, fan_in, 1.0f, in[0]->grad, fan_in,
                                 NULL, NULL};
    vae_sgemm_pair(&dw_product, in[0]->grad ? &dx_product : NULL);
    vae_bias_grad(dy, rows, units, db, NULL);
}

const vae_op vae_op_dense = {
    .name = "dense",
    .code = VAE_OP_DENSE,
    .shape = dense_shape,
    .init = dense_init,
    .forward = dense_forward,
    .backward = dense_backward,
    .per_step = 1,
};

VAE_API int32_t vae_graph_dense(vae_graph *g, int32_t x, int64_t units)
{
    int64_t attr[] = {[DENSE_UNITS] = units};
    return vae_graph_add(g, &vae_op_dense, &x, 1, attr, 1, NULL, 0);
}
