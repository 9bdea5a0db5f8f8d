/* conv2d.c - 2-D convolution of [C, H, W] examples with zero padding.
 *
 * W is out x C x k x k, as nn.Conv2d stores it, i.e. an out x (C k k)
 * matrix whose rows match the rows of the im2col columns. For a chunk of
 * examples at once (see vae_conv_chunks):
 *
 *   forward:   col = im2col(x);  Yc = W col;  y = Yc (as NCHW) + bias
 *   backward:  dYc = dy (channel-major);  dW_chunk = dYc col^T;
 *              dx += col2im(W^T dYc)
 *
 * and db, dW += the chunks' dW_chunk in order, over the whole batch.
 *
 * Yc and dYc are channel-major (out x [example, pixel]) because that is what
 * one GEMM over many examples produces and consumes; moving them to and from
 * NCHW copies whole pixel rows. */

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

static int64_t conv2d_scratch(const vae_node_spec *s, int64_t batch,
                              int32_t slots)
{
    vae_conv_geom g = conv2d_geom(s, NULL);
    return vae_conv_scratch(&g, batch, slots);
}

static void forward_chunk(const vae_conv_call *c, const vae_conv_space *sp,
                          int64_t b0, int64_t nb)
{
    const vae_conv_geom *g = &c->g;
    int64_t rows = vae_conv_rows(g), pos = vae_conv_positions(g);
    int64_t out = g->other, cols = nb * pos;
    vae_im2col(g, c->in[0]->val + b0 * c->in[0]->s.size, nb, sp->phases,
               sp->col);
    vae_conv_sgemm(sp, 0, 0, out, cols, rows, c->w, rows, sp->col, cols, 0.0f,
                   sp->chan, cols);
    vae_from_channel_major_bias(sp->chan, c->w + out * rows, nb, out, pos,
                                c->n->val + b0 * c->n->s.size);
}

static void conv2d_forward(vae_node *n, vae_node *const *in, const float *w,
                           int64_t batch)
{
    vae_conv_call c = {conv2d_geom(&n->s, &in[0]->s), n, in, w};
    vae_conv_chunks(&c, batch, forward_chunk, NULL);
}

static void backward_chunk(const vae_conv_call *c, const vae_conv_space *sp,
                           int64_t b0, int64_t nb)
{
    const vae_conv_geom *g = &c->g;
    int64_t rows = vae_conv_rows(g), pos = vae_conv_positions(g);
    int64_t out = g->other, cols = nb * pos;
    vae_to_channel_major(c->n->grad + b0 * c->n->s.size, nb, out, pos,
                         sp->chan);
    /* The forward columns did not survive (scratch is shared). */
    vae_im2col(g, c->in[0]->val + b0 * c->in[0]->s.size, nb, sp->phases,
               sp->col);
    vae_conv_sgemm(sp, 0, 1, out, rows, cols, sp->chan, cols, sp->col, cols,
                   0.0f, sp->dw, rows);
    if (!c->in[0]->grad)
        return;
    /* The columns are used up: their space takes dL/dcol. */
    vae_conv_sgemm(sp, 1, 0, rows, cols, out, c->w, rows, sp->chan, cols,
                   0.0f, sp->col, cols);
    vae_col2im(g, sp->col, nb, NULL, c->in[0]->grad + b0 * c->in[0]->s.size);
}

static void conv2d_backward(vae_node *n, vae_node *const *in, const float *w,
                            float *dw, int64_t batch)
{
    vae_conv_call c = {conv2d_geom(&n->s, &in[0]->s), n, in, w};
    int64_t out = c.g.other, rows = vae_conv_rows(&c.g);
    vae_add_bias_grad(n->grad, batch, out, vae_conv_positions(&c.g),
                      dw + out * rows);
    vae_conv_chunks(&c, batch, backward_chunk, dw);
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
