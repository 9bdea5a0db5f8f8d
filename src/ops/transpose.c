/* transpose.c - a node's axes in another order (per example). Lets a
 * convolution's [C, H, W] output be read as a sequence of H rows of W x C
 * features, as the write-up's image LSTM does. */
#include "ops.h"

/* iattr: the rank, then the permutation (output axis i is input axis
 * iattr[TR_AXES + i]). */
enum { TR_RANK, TR_AXES };

static int32_t transpose_shape(vae_node_spec *s, const vae_node_spec *const *in,
                               char *err, size_t errlen)
{
    if (s->n_inputs != 1) {
        vae_set_err(err, errlen, "takes exactly one input");
        return VAE_ERR_GRAPH;
    }
    const vae_node_spec *x = in[0];
    if (s->iattr[TR_RANK] != x->rank) {
        vae_set_err(err, errlen, "permutation of %lld axes for a rank-%d input",
                    (long long)s->iattr[TR_RANK], (int)x->rank);
        return VAE_ERR_SHAPE;
    }
    int seen[VAE_MAX_RANK] = {0};
    for (int32_t i = 0; i < x->rank; i++) {
        int64_t a = s->iattr[TR_AXES + i];
        if (a < 0 || a >= x->rank || seen[a]) {
            vae_set_err(err, errlen, "axes must be a permutation of 0..%d",
                        (int)x->rank - 1);
            return VAE_ERR_SHAPE;
        }
        seen[a] = 1;
        s->shape[i] = x->shape[a];
    }
    s->rank = x->rank;
    s->n_params = 0;
    return vae_shape_finish(s, err, errlen);
}

/* Calls visit(out_index, in_index) for every element of one example:
 * output axes padded in front to four, each with the input stride of the
 * axis it comes from. */
typedef struct walk {
    int64_t dim[VAE_MAX_RANK], stride[VAE_MAX_RANK];
} walk;

static walk make_walk(const vae_node_spec *s, const vae_node_spec *x)
{
    int64_t in_stride[VAE_MAX_RANK];
    int64_t st = 1;
    for (int32_t a = x->rank - 1; a >= 0; a--) {
        in_stride[a] = st;
        st *= x->shape[a];
    }
    walk w;
    int32_t pad = VAE_MAX_RANK - s->rank;
    for (int32_t i = 0; i < VAE_MAX_RANK; i++) {
        w.dim[i] = i < pad ? 1 : s->shape[i - pad];
        w.stride[i] = i < pad ? 0 : in_stride[s->iattr[TR_AXES + i - pad]];
    }
    return w;
}

/* One function for both directions: forward gathers out[o] = in[i],
 * backward scatters din[i] += dout[o]. */
static void transpose_copy(const walk *w, const float *src, float *dst,
                           int backward)
{
    int64_t o = 0;
    for (int64_t a = 0; a < w->dim[0]; a++)
        for (int64_t b = 0; b < w->dim[1]; b++)
            for (int64_t c = 0; c < w->dim[2]; c++)
                for (int64_t d = 0; d < w->dim[3]; d++, o++) {
                    int64_t i = a * w->stride[0] + b * w->stride[1] +
                                c * w->stride[2] + d * w->stride[3];
                    if (backward)
                        dst[i] += src[o];
                    else
                        dst[o] = src[i];
                }
}

static void transpose_forward(vae_node *n, vae_node *const *in, const float *w,
                              int64_t batch)
{
    (void)w;
    walk wk = make_walk(&n->s, &in[0]->s);
    int64_t size = n->s.size;
    for (int64_t b = 0; b < batch; b++)
        transpose_copy(&wk, in[0]->val + b * size, n->val + b * size, 0);
}

static void transpose_backward(vae_node *n, vae_node *const *in,
                               const float *w, float *dw, int64_t batch)
{
    (void)w, (void)dw;
    if (!in[0]->grad)
        return;
    walk wk = make_walk(&n->s, &in[0]->s);
    int64_t size = n->s.size;
    for (int64_t b = 0; b < batch; b++)
        transpose_copy(&wk, n->grad + b * size, in[0]->grad + b * size, 1);
}

const vae_op vae_op_transpose = {
    .name = "transpose",
    .code = VAE_OP_TRANSPOSE,
    .shape = transpose_shape,
    .forward = transpose_forward,
    .backward = transpose_backward,
};

VAE_API int32_t vae_graph_transpose(vae_graph *g, int32_t x,
                                    const int32_t *axes, int32_t rank)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    if (!axes)
        return vae_graph_fail(g, VAE_ERR_INVALID_ARG,
                              "transpose: axes is NULL");
    if (rank < 1 || rank > VAE_MAX_RANK)
        return vae_graph_fail(g, VAE_ERR_SHAPE,
                              "transpose: rank %d not in 1..%d", (int)rank,
                              VAE_MAX_RANK);
    int64_t attr[VAE_N_IATTR] = {[TR_RANK] = rank};
    for (int32_t i = 0; i < rank; i++)
        attr[TR_AXES + i] = axes[i];
    return vae_graph_add(g, &vae_op_transpose, &x, 1, attr, TR_AXES + rank,
                         NULL, 0);
}
