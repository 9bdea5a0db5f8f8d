/* concat.c - two nodes joined on the last axis: [.., Fa] and [.., Fb] ->
 * [.., Fa + Fb], all other axes equal. */
#include <string.h>

#include "ops.h"

static int32_t concat_shape(vae_node_spec *s, const vae_node_spec *const *in,
                            char *err, size_t errlen)
{
    int32_t st = vae_want_inputs(s, 2, err, errlen);
    if (st != VAE_OK)
        return st;
    const vae_node_spec *a = in[0], *b = in[1];
    if (a->rank != b->rank) {
        vae_set_err(err, errlen, "inputs have ranks %d and %d; they must agree",
                    (int)a->rank, (int)b->rank);
        return VAE_ERR_SHAPE;
    }
    for (int32_t i = 0; i + 1 < a->rank; i++)
        if (a->shape[i] != b->shape[i]) {
            vae_set_err(err, errlen, "axis %d is %lld in the first input and "
                        "%lld in the second; all axes but the last must agree",
                        (int)i, (long long)a->shape[i], (long long)b->shape[i]);
            return VAE_ERR_SHAPE;
        }
    s->rank = a->rank;
    memcpy(s->shape, a->shape, sizeof s->shape);
    s->shape[s->rank - 1] += b->shape[b->rank - 1];
    s->n_params = 0;
    return vae_shape_finish(s, err, errlen);
}

/* The two inputs' feature widths. */
static void concat_widths(vae_node *const *in, int64_t *fa, int64_t *fb)
{
    *fa = in[0]->s.shape[in[0]->s.rank - 1];
    *fb = in[1]->s.shape[in[1]->s.rank - 1];
}

static void concat_forward(vae_node *n, vae_node *const *in, const float *w,
                           int64_t batch)
{
    (void)w;
    int64_t fa, fb;
    concat_widths(in, &fa, &fb);
    const int64_t rows = batch * (in[0]->s.size / fa);
    for (int64_t r = 0; r < rows; r++) {
        float *y = n->val + r * (fa + fb);
        memcpy(y, in[0]->val + r * fa, (size_t)fa * sizeof *y);
        memcpy(y + fa, in[1]->val + r * fb, (size_t)fb * sizeof *y);
    }
}

static void add_rows(float *dst, const float *src, int64_t len)
{
    for (int64_t j = 0; j < len; j++)
        dst[j] += src[j];
}

static void concat_backward(vae_node *n, vae_node *const *in, const float *w,
                            float *dw, int64_t batch)
{
    (void)w, (void)dw;
    int64_t fa, fb;
    concat_widths(in, &fa, &fb);
    const int64_t rows = batch * (in[0]->s.size / fa);
    for (int64_t r = 0; r < rows; r++) {
        const float *dy = n->grad + r * (fa + fb);
        if (in[0]->grad)
            add_rows(in[0]->grad + r * fa, dy, fa);
        if (in[1]->grad)
            add_rows(in[1]->grad + r * fb, dy + fa, fb);
    }
}

const vae_op vae_op_concat = {
    .name = "concat",
    .code = VAE_OP_CONCAT,
    .shape = concat_shape,
    .forward = concat_forward,
    .backward = concat_backward,
    .per_step = 1,
};

VAE_API int32_t vae_graph_concat(vae_graph *g, int32_t a, int32_t b)
{
    int32_t in[2] = {a, b};
    return vae_graph_add(g, &vae_op_concat, in, 2, NULL, 0, NULL, 0);
}
