/* im2col.h - what conv2d and conv2d_transpose share. Both lower a
 * convolution to GEMMs over "columns": one column per window position, one
 * row per (image channel, kernel row, kernel column). conv2d reads its input
 * image into columns (im2col); conv2d_transpose, its adjoint, scatters
 * columns back into its output image (col2im). So the two ops describe the
 * same geometry from opposite ends:
 *
 *   conv2d:            image = input,  positions = output
 *   conv2d_transpose:  image = output, positions = input
 *
 * Activations are NCHW per example ([batch][channel][pixel]), while a GEMM
 * over the whole batch wants channel-major data ([channel][batch][pixel]);
 * the permutes below move between the two a whole channel plane at a time. */
#ifndef VAE_IM2COL_H
#define VAE_IM2COL_H

#include "ops.h"

/* iattr of both convolutions, in this order. */
enum { CONV_OUT, CONV_KERNEL, CONV_STRIDE, CONV_PAD, CONV_N_ATTR };

/* Adds a conv node of op (conv2d or conv2d_transpose) on x. */
int32_t vae_conv_add(vae_graph *g, const vae_op *op, int32_t x,
                     int64_t out_channels, int64_t kernel, int64_t stride,
                     int64_t padding);

typedef struct vae_conv_geom {
    int64_t c, h, w; /* the image: channels, height, width */
    int64_t k, s, p; /* kernel, stride, padding */
    int64_t oh, ow;  /* window positions: floor((h + 2p - k) / s) + 1 each */
    int64_t other;   /* channels on the positions' side */
} vae_conv_geom;

/* Rows of the column matrix: c * k * k. */
int64_t vae_conv_rows(const vae_conv_geom *g);
/* Window positions per example: oh * ow. */
int64_t vae_conv_positions(const vae_conv_geom *g);

/* Validates what both ops require: one input of rank 3 and the attributes
 * (CONV_OUT, CONV_KERNEL, CONV_STRIDE, CONV_PAD) in range. */
int32_t vae_conv_check_attrs(const vae_node_spec *s, const vae_node_spec *in,
                             char *err, size_t errlen);
/* Finishes the shape of a conv node with input `in`, geometry g and output
 * [out_channels, oh, ow]: checks the output is not empty and that weights
 * and scratch stay within bounds that keep every BLAS dimension an int, and
 * sets n_params to c * other * k * k weights plus out_channels biases. */
int32_t vae_conv_finish(vae_node_spec *s, const vae_node_spec *in,
                        const vae_conv_geom *g, int64_t out_channels,
                        int64_t oh, int64_t ow, char *err, size_t errlen);

/* nn.Conv2d's and nn.ConvTranspose2d's default init (kaiming_uniform with
 * a = sqrt(5), which is uniform in +-1/sqrt(fan_in)) for the n_params
 * weights and biases of a node with geometry g: fan_in is the column rows. */
void vae_conv_init(const vae_conv_geom *g, int64_t n_params, float *w,
                   vae_rng *r);

/* The scratch floats a node needs for `batch` examples, up to `slots`
 * chunks at once: a batch goes through a conv in chunks of examples, so
 * that the scratch stays bounded, and a chunk needs its columns, one
 * channel-major copy of the positions' side, the image's phases that
 * lowering goes through, and a weight gradient of its own. */
int64_t vae_conv_scratch(const vae_conv_geom *g, int64_t batch, int32_t slots);

/* One chunk's part of that scratch: the columns, the channel-major copy,
 * the lowering's working space and the chunk's weight gradient (c k k x
 * other floats); whole: the chunk is one task of a parallel loop. */
typedef struct vae_conv_space {
    float *col, *chan, *phases, *dw;
    int whole;
} vae_conv_space;

/* A conv node's call, for its chunks. */
typedef struct vae_conv_call {
    vae_conv_geom g;
    vae_node *n;
    vae_node *const *in;
    const float *w;
} vae_conv_call;

/* Examples [b0, b0 + nb) of a call, in space sp. */
typedef void (*vae_conv_chunk_fn)(const vae_conv_call *c,
                                  const vae_conv_space *sp, int64_t b0,
                                  int64_t nb);

/* Runs chunk over the batch's chunks, as many at once as the node's slots
 * and the pool's threads allow, each on a thread of its own with a space of
 * its own (two threads lowering and multiplying a chunk each beat both
 * working on every chunk: fewer hand-offs, whole products); a lone chunk
 * has the pool's threads to itself. With dw, every chunk leaves its weight
 * gradient in sp->dw (it does not add) and they are added into dw in chunk
 * order, so the bytes depend on neither the slots nor the threads. */
void vae_conv_chunks(const vae_conv_call *c, int64_t batch,
                     vae_conv_chunk_fn chunk, float *dw);

/* vae_sgemm for a chunk in space sp: one call on this thread when the chunk
 * is a task of a parallel loop (sp->whole), where blocks would only run one
 * after the other. */
void vae_conv_sgemm(const vae_conv_space *sp, int ta, int tb, int64_t m,
                    int64_t n, int64_t k, const float *a, int64_t lda,
                    const float *b, int64_t ldb, float beta, float *c,
                    int64_t ldc);

/* col[(c, ki, kj)][b, oy, ox] = img[b][c][oy*s - p + ki][ox*s - p + kj],
 * zero outside the image, for `batch` examples of img, using `phases`
 * (a vae_conv_space's) as working space. */
void vae_im2col(const vae_conv_geom *g, const float *img, int64_t batch,
                float *phases, float *col);
/* The adjoint of vae_im2col: adds each column entry into the image pixel it
 * was read from (entries that fell in the padding are dropped), each
 * pixel's terms in the order kernel row, then kernel column. With a bias,
 * the pixels of channel c start from bias[c] instead of their values. */
void vae_col2im(const vae_conv_geom *g, const float *col, int64_t batch,
                const float *bias, float *img);

/* dst[c][b][:] = src[b][c][:], rows of n floats. */
void vae_to_channel_major(const float *src, int64_t batch, int64_t channels,
                          int64_t n, float *dst);
/* dst[b][c][:] += src[c][b][:], rows of n floats. */
void vae_add_from_channel_major(const float *src, int64_t batch,
                                int64_t channels, int64_t n, float *dst);
/* dst[b][c][:] = src[c][b][:] + bias[c], rows of n floats. */
void vae_from_channel_major_bias(const float *src, const float *bias,
                                 int64_t batch, int64_t channels, int64_t n,
                                 float *dst);
/* db[c] += sum over b and the row of dy[b][c][:], summed in double
 * (in eight lanes, a fixed order). */
void vae_add_bias_grad(const float *dy, int64_t batch, int64_t channels,
                       int64_t n, float *db);

#endif
