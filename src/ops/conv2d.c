/* conv2d.c - 2-D convolution of [C, H, W] examples with zero padding.
 *
 * W is out x C x k x k, as nn.Conv2d stores it, i.e. an out x (C k k)
 * matrix whose rows match the rows of the im2col columns. For a chunk of
 * examples at once (see vae_conv_space_in):
 *
 *   forward:   col = im2col(x);  Yc = W col;  y = Yc (as NCHW) + bias
 *   backward:  dYc = dy (channel-major);  dW += dYc col^T;
 *              dx += col2im(W^T dYc)
 *
 * Yc and dYc are channel-major (out x [example, pixel]) because that is what
 * one GEMM over many examples produces and consumes; moving them to and from
 * NCHW copies whole pixel rows. */

#include "../gemm.h"
#include "im2col.h"

static int64_t out_size(int64_t n, int64_t k, int64_t s, int64_t p)
{
    /* No window fits when n + 2p < k (C division would round toward 0). */
    return n + 2 * p < k ? 0 : (n + 2 * p - k) / s + 1;
}

static int32_t conv2d_shape(vae_node_spec *s, const vae_node_spec *const *in,
                            char *err, size_t errlen)
{
    int32_t st = vae_conv_check_attrs(s, in[0], err, errlen);
    if (st != VAE_OK)
        return st;
    const vae_node_spec *x = in[0];
    vae_conv_geom g = {.c = x->shape[0], .h = x->shape[1], .w = x->shape[2],
                       .k = s->iattr[CONV_KERNEL], .s = s->iattr[CONV_STRIDE],
                       .p = s->iattr[CONV_PAD], .other = s->iattr[CONV_OUT]};
    g.oh = out_size(g.h, g.k, g.s, g.p);
    g.ow = out_size(g.w, g.k, g.s, g.p);
    return vae_conv_finish(s, x, &g, g.other, g.oh, g.ow, err, errlen);
}

/* The geometry of a validated node: the image is the input x, whose height
 * and width only im2col needs (the scratch query passes x = NULL). */
static vae_conv_geom conv2d_geom(const vae_node_spec *s,
                                 const vae_node_spec *x)
{
    int64_t out = s->shape[0], k = s->iattr[CONV_KERNEL];
    return (vae_conv_geom){.c = (s->n_params - out) / (out * k * k),
                           .h = x ? x->shape[1] : 0,
                           .w = x ? x->shape[2] : 0,
                           .k = k, .s = s->iattr[CONV_STRIDE],
                           .p = s->iattr[CONV_PAD],
                           .oh = s->shape[1], .ow = s->shape[2],
                           .other = out};
}

static void conv2d_init(const vae_node_spec *s, float *w, vae_rng *r)
{
    vae_conv_geom g = conv2d_geom(s, NULL);
    vae_conv_init(&g, s->n_params, w, r);
}

static int64_t conv2d_scratch(const vae_node_spec *s, int64_t batch)
{
    vae_conv_geom g = conv2d_geom(s, NULL);
    return vae_conv_scratch(&g, batch);
}

static void conv2d_forward(vae_node *n, vae_node *const *in, const float *w,
                           int64_t batch)
{
    vae_conv_geom g = conv2d_geom(&n->s, &in[0]->s);
    int64_t rows = vae_conv_rows(&g), pos = vae_conv_positions(&g);
    int64_t out = g.other;
    const float *bias = w + out * rows;
    vae_conv_space sp = vae_conv_space_in(&g, n->scratch, batch);
    int64_t chunk = sp.chunk;
    float *col = sp.col, *yc = sp.chan;
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        int64_t nb = batch - b0 < chunk ? batch - b0 : chunk, cols = nb * pos;
        float *y = n->val + b0 * n->s.size;
        vae_im2col(&g, in[0]->val + b0 * in[0]->s.size, nb, sp.phases, col);
        vae_sgemm(0, 0, out, cols, rows, 1.0f, w, rows, col, cols, 0.0f, yc,
                  cols);
        vae_from_channel_major_bias(yc, bias, nb, out, pos, y);
    }
}

static void conv2d_backward(vae_node *n, vae_node *const *in, const float *w,
                            float *dw, int64_t batch)
{
    vae_conv_geom g = conv2d_geom(&n->s, &in[0]->s);
    int64_t rows = vae_conv_rows(&g), pos = vae_conv_positions(&g);
    int64_t out = g.other;
    float *db = dw + out * rows;
    vae_conv_space sp = vae_conv_space_in(&g, n->scratch, batch);
    int64_t chunk = sp.chunk;
    float *col = sp.col, *dyc = sp.chan;
    for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
        int64_t nb = batch - b0 < chunk ? batch - b0 : chunk, cols = nb * pos;
        const float *dy = n->grad + b0 * n->s.size;
        vae_add_bias_grad(dy, nb, out, pos, db);
        vae_to_channel_major(dy, nb, out, pos, dyc);
        /* The forward columns did not survive (scratch is shared). */
        vae_im2col(&g, in[0]->val + b0 * in[0]->s.size, nb, sp.phases, col);
        vae_sgemm(0, 1, out, rows, cols, 1.0f, dyc, cols, col, cols, 1.0f, dw,
                  rows);
        if (!in[0]->grad)
            continue;
        /* The columns are used up: their space takes dL/dcol. */
        vae_sgemm(1, 0, rows, cols, out, 1.0f, w, rows, dyc, cols, 0.0f, col,
                  cols);
        vae_col2im_add(&g, col, nb, in[0]->grad + b0 * in[0]->s.size);
    }
}

const vae_op vae_op_conv2d = {
    .name = "conv2d",
    .code = VAE_OP_CONV2D,
    .shape = conv2d_shape,
    .init = conv2d_init,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .scratch = conv2d_scratch,
};

VAE_API int32_t vae_graph_conv2d(vae_graph *g, int32_t x, int64_t out_channels,
                                 int64_t kernel, int64_t stride,
                                 int64_t padding)
{
    return vae_conv_add(g, &vae_op_conv2d, x, out_channels, kernel, stride,
                        padding);
}
