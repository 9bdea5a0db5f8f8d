/* conv2d_transpose.c - transposed 2-D convolution: the adjoint of conv2d
 * with respect to its input. Each input pixel adds its value times a
 * k x k kernel into the output, windows `stride` apart, the outer `padding`
 * rows and columns cropped, so the output is (H - 1) stride - 2 padding + k
 * high (likewise wide): exactly the image a conv2d with the same kernel,
 * stride and padding maps back to H x W.
 *
 * W is C_in x out x k x k, as nn.ConvTranspose2d stores it, i.e. a
 * C_in x (out k k) matrix: the weight matrix of that conv2d, read as its
 * adjoint. In im2col terms the output is the image and the input holds the
 * window positions. For a chunk of examples at once (see vae_conv_chunks):
 *
 *   forward:   Xc = x (channel-major);  y = bias + col2im(W^T Xc)
 *   backward:  col = im2col(dy);  dW_chunk = Xc col^T;  dx += W col (as NCHW)
 *
 * and db, dW += the chunks' dW_chunk in order, over the whole batch.
 */

#include "im2col.h"

static int32_t convt_shape(vae_node_spec *s, const vae_node_spec *const *in,
                           char *err, size_t errlen)
{
    int32_t st = vae_conv_check_attrs(s, in[0], err, errlen);
    if (st != VAE_OK)
        return st;
    const vae_node_spec *x = in[0];
    int64_t out = s->iattr[CONV_OUT], k = s->iattr[CONV_KERNEL];
    int64_t stride = s->iattr[CONV_STRIDE], p = s->iattr[CONV_PAD];
    vae_conv_geom g = {.c = out, .k = k, .s = stride, .p = p,
                       .oh = x->shape[1], .ow = x->shape[2],
                       .other = x->shape[0]};
    g.h = (g.oh - 1) * stride - 2 * p + k;
    g.w = (g.ow - 1) * stride - 2 * p + k;
    return vae_conv_finish(s, x, &g, out, g.h, g.w, err, errlen);
}

/* The geometry of a validated node, from its spec alone: the input size
 * follows from the output size, as conv2d's output rule inverts exactly. */
static vae_conv_geom convt_geom(const vae_node_spec *s)
{
    int64_t out = s->shape[0], k = s->iattr[CONV_KERNEL];
    int64_t stride = s->iattr[CONV_STRIDE], p = s->iattr[CONV_PAD];
    return (vae_conv_geom){.c = out, .h = s->shape[1], .w = s->shape[2],
                           .k = k, .s = stride, .p = p,
                           .oh = (s->shape[1] + 2 * p - k) / stride + 1,
                           .ow = (s->shape[2] + 2 * p - k) / stride + 1,
                           .other = (s->n_params - out) / (out * k * k)};
}

/* PyTorch takes fan_in from weight.size(1) * k * k, which for
 * nn.ConvTranspose2d (weight C_in x out x k x k) is out * k * k: the
 * output-side channels, not C_in. That is the column rows here, so
 * vae_conv_init matches it. Checked in torch 1.13's source:
 * _ConvNd.reset_parameters calls kaiming_uniform_(weight, a=sqrt(5)) and
 * bounds the bias by 1/sqrt(fan_in) from _calculate_fan_in_and_fan_out,
 * which multiplies tensor.size(1) by the kernel area. */
static void convt_init(const vae_node_spec *s, float *w, vae_rng *r)
{
    vae_conv_geom g = convt_geom(s);
    vae_conv_init(&g, s->n_params, w, r);
}

static int64_t convt_scratch(const vae_node_spec *s, int64_t batch,
                             int32_t slots)
{
    vae_conv_geom g = convt_geom(s);
    return vae_conv_scratch(&g, batch, slots);
}

static void forward_chunk(const vae_conv_call *c, const vae_conv_space *sp,
                          int64_t b0, int64_t nb)
{
    const vae_conv_geom *g = &c->g;
    int64_t rows = vae_conv_rows(g), pos = vae_conv_positions(g);
    int64_t cin = g->other, cols = nb * pos;
    float *y = c->n->val + b0 * c->n->s.size;
    vae_to_channel_major(c->in[0]->val + b0 * c->in[0]->s.size, nb, cin, pos,
                         sp->chan);
    vae_conv_sgemm(sp, 1, 0, rows, cols, cin, c->w, rows, sp->chan, cols, 0.0f,
                   sp->col, cols);
    vae_col2im(g, sp->col, nb, c->w + cin * rows, y);
}

static void convt_forward(vae_node *n, vae_node *const *in, const float *w,
                          int64_t batch)
{
    vae_conv_call c = {convt_geom(&n->s), n, in, w};
    vae_conv_chunks(&c, batch, forward_chunk, NULL);
}

static void backward_chunk(const vae_conv_call *c, const vae_conv_space *sp,
                           int64_t b0, int64_t nb)
{
    const vae_conv_geom *g = &c->g;
    int64_t rows = vae_conv_rows(g), pos = vae_conv_positions(g);
    int64_t cin = g->other, cols = nb * pos;
    vae_im2col(g, c->n->grad + b0 * c->n->s.size, nb, sp->phases, sp->col);
    vae_to_channel_major(c->in[0]->val + b0 * c->in[0]->s.size, nb, cin, pos,
                         sp->chan);
    vae_conv_sgemm(sp, 0, 1, cin, rows, cols, sp->chan, cols, sp->col, cols,
                   0.0f, sp->dw, rows);
    if (!c->in[0]->grad)
        return;
    /* Xc is used up: its space takes dL/dx, channel-major. */
    vae_conv_sgemm(sp, 0, 0, cin, cols, rows, c->w, rows, sp->col, cols, 0.0f,
                   sp->chan, cols);
    vae_add_from_channel_major(sp->chan, nb, cin, pos,
                               c->in[0]->grad + b0 * c->in[0]->s.size);
}

static void convt_backward(vae_node *n, vae_node *const *in, const float *w,
                           float *dw, int64_t batch)
{
    vae_conv_call c = {convt_geom(&n->s), n, in, w};
    int64_t cin = c.g.other, rows = vae_conv_rows(&c.g);
    vae_add_bias_grad(n->grad, batch, c.g.c, c.g.h * c.g.w, dw + cin * rows);
    vae_conv_chunks(&c, batch, backward_chunk, dw);
}

const vae_op vae_op_conv2d_transpose = {
    .name = "conv2d_transpose",
    .code = VAE_OP_CONV2D_TRANSPOSE,
    .shape = convt_shape,
    .init = convt_init,
    .forward = convt_forward,
    .backward = convt_backward,
    .scratch = convt_scratch,
};

VAE_API int32_t vae_graph_conv2d_transpose(vae_graph *g, int32_t x,
                                           int64_t out_channels, int64_t kernel,
                                           int64_t stride, int64_t padding)
{
    return vae_conv_add(g, &vae_op_conv2d_transpose, x, out_channels, kernel,
                        stride, padding);
}
