/* im2col.c - geometry, validation and data movement shared by the two
 * convolution ops (see im2col.h). */
#include <math.h>
#include <string.h>

#include "../pool.h"
#include "im2col.h"

int32_t vae_conv_add(vae_graph *g, const vae_op *op, int32_t x,
                     int64_t out_channels, int64_t kernel, int64_t stride,
                     int64_t padding)
{
    int64_t attr[CONV_N_ATTR] = {[CONV_OUT] = out_channels,
                                 [CONV_KERNEL] = kernel,
                                 [CONV_STRIDE] = stride, [CONV_PAD] = padding};
    return vae_graph_add(g, op, &x, 1, attr, CONV_N_ATTR, NULL, 0);
}

/* Attribute limits: far above any image model, low enough that products of
 * a few of them cannot overflow int64 before they are checked. */
#define MAX_CHANNELS ((int64_t)1 << 30)
#define MAX_KERNEL ((int64_t)1 << 20)
/* Scratch floats of one example: 4 GiB. Together with SCRATCH_TARGET this
 * bounds every GEMM dimension by 2^30, so the int casts for BLAS are safe. */
#define MAX_EXAMPLE_SCRATCH ((int64_t)1 << 30)
/* Weights of one node, as dense allows. */
#define MAX_WEIGHTS ((int64_t)1 << 36)
/* Scratch a chunk of examples aims at: 4 MiB. The MNIST layers
 * split a batch of 128 into up to 4 chunks, so memory does not grow with
 * the batch while GEMMs keep thousands of columns (1,813 for the 64-channel
 * layer). 16 MiB took 10 MB more of the conv benchmark's peak memory. */
#define SCRATCH_TARGET ((int64_t)1 << 20)

int64_t vae_conv_rows(const vae_conv_geom *g) { return g->c * g->k * g->k; }

int64_t vae_conv_positions(const vae_conv_geom *g) { return g->oh * g->ow; }

/* a * b for a, b >= 0, or limit + 1 when the product exceeds limit; chains
 * of these never overflow. */
static int64_t mul_capped(int64_t a, int64_t b, int64_t limit)
{
    if (a > 0 && b > limit / a)
        return limit + 1;
    return a * b;
}

/* Status codes: VAE_ERR_RANGE for an attribute outside its documented range
 * on its own; VAE_ERR_SHAPE when the input, or the attributes combined with
 * it, give no valid output (wrong rank, empty output, too many elements). */
int32_t vae_conv_check_attrs(const vae_node_spec *s, const vae_node_spec *in,
                             char *err, size_t errlen)
{
    if (s->n_inputs != 1) {
        vae_set_err(err, errlen, "takes exactly one input");
        return VAE_ERR_GRAPH;
    }
    int64_t cout = s->iattr[CONV_OUT], k = s->iattr[CONV_KERNEL];
    int64_t stride = s->iattr[CONV_STRIDE], pad = s->iattr[CONV_PAD];
    if (cout < 1 || cout > MAX_CHANNELS) {
        vae_set_err(err, errlen, "out_channels %lld not in 1..2^30",
                    (long long)cout);
        return VAE_ERR_RANGE;
    }
    if (k < 1 || k > MAX_KERNEL) {
        vae_set_err(err, errlen, "kernel %lld not in 1..2^20", (long long)k);
        return VAE_ERR_RANGE;
    }
    if (stride < 1 || stride > MAX_KERNEL) {
        vae_set_err(err, errlen, "stride %lld not in 1..2^20",
                    (long long)stride);
        return VAE_ERR_RANGE;
    }
    /* padding >= kernel would allow windows made only of padding. */
    if (pad < 0 || pad >= k) {
        vae_set_err(err, errlen, "padding %lld not in 0..kernel-1 (kernel %lld)",
                    (long long)pad, (long long)k);
        return VAE_ERR_RANGE;
    }
    if (in->rank != 3) {
        vae_set_err(err, errlen, "input must be [C, H, W] (rank 3), not rank %d",
                    (int)in->rank);
        return VAE_ERR_SHAPE;
    }
    return VAE_OK;
}

int32_t vae_conv_finish(vae_node_spec *s, const vae_node_spec *in,
                        const vae_conv_geom *g, int64_t out_channels,
                        int64_t oh, int64_t ow, char *err, size_t errlen)
{
    if (oh < 1 || ow < 1) {
        vae_set_err(err, errlen, "output would be %lld x %lld (input %lld x "
                    "%lld, kernel %lld, stride %lld, padding %lld)",
                    (long long)oh, (long long)ow, (long long)in->shape[1],
                    (long long)in->shape[2], (long long)g->k, (long long)g->s,
                    (long long)g->p);
        return VAE_ERR_SHAPE;
    }
    int64_t rows = mul_capped(g->c, g->k * g->k, MAX_EXAMPLE_SCRATCH);
    int64_t positions = mul_capped(g->oh, g->ow, MAX_EXAMPLE_SCRATCH);
    int64_t per_example = mul_capped(rows + g->other, positions,
                                     MAX_EXAMPLE_SCRATCH);
    if (per_example > MAX_EXAMPLE_SCRATCH) {
        vae_set_err(err, errlen, "%lld channels x %lld x %lld kernel over "
                    "%lld x %lld positions need too much im2col space",
                    (long long)g->c, (long long)g->k, (long long)g->k,
                    (long long)g->oh, (long long)g->ow);
        return VAE_ERR_SHAPE;
    }
    int64_t weights = mul_capped(rows, g->other, MAX_WEIGHTS);
    if (weights > MAX_WEIGHTS) {
        vae_set_err(err, errlen, "%lld x %lld x %lld x %lld weights are too many",
                    (long long)g->c, (long long)g->other, (long long)g->k,
                    (long long)g->k);
        return VAE_ERR_SHAPE;
    }
    s->rank = 3;
    s->shape[0] = out_channels;
    s->shape[1] = oh;
    s->shape[2] = ow;
    s->n_params = weights + out_channels;
    return vae_shape_finish(s, err, errlen);
}

void vae_conv_init(const vae_conv_geom *g, int64_t n_params, float *w,
                   vae_rng *r)
{
    vae_rng_init_uniform(r, w, n_params,
                         (float)(1.0 / sqrt((double)vae_conv_rows(g))));
}

static int64_t per_example(const vae_conv_geom *g)
{
    return (vae_conv_rows(g) + g->other) * vae_conv_positions(g);
}

int64_t vae_conv_chunk(const vae_conv_geom *g, int64_t batch)
{
    int64_t chunk = SCRATCH_TARGET / per_example(g);
    if (chunk < 1)
        chunk = 1;
    return chunk < batch ? chunk : batch;
}

int64_t vae_conv_scratch(const vae_conv_geom *g, int64_t batch)
{
    return vae_conv_chunk(g, batch) * per_example(g);
}

/* Window positions o in [0, n_out) whose tap o*s + off lands inside
 * [0, n): they form one run [*lo, *hi), empty when *lo == *hi. */
static void inside_run(int64_t off, int64_t s, int64_t n, int64_t n_out,
                       int64_t *lo, int64_t *hi)
{
    int64_t first = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t end = n - 1 - off < 0 ? 0 : (n - 1 - off) / s + 1;
    if (end > n_out)
        end = n_out;
    if (first > end)
        first = end;
    *lo = first;
    *hi = end;
}

/* r[o] = im[at + o s] (to_col) or im[at + o s] += r[o], for o in [lo, hi).
 * Strides 1 and 2, the common ones, get loops with the stride known at
 * compile time: that halved im2col of the 32-channel layer at batch
 * 128 (6.8 -> 3.2 ms). */
static inline void move_run(float *r, float *im, int64_t at, int64_t lo,
                            int64_t hi, int64_t s, int to_col)
{
    if (to_col) {
        if (s == 1)
            for (int64_t o = lo; o < hi; o++)
                r[o] = im[at + o];
        else if (s == 2)
            for (int64_t o = lo; o < hi; o++)
                r[o] = im[at + 2 * o];
        else
            for (int64_t o = lo; o < hi; o++)
                r[o] = im[at + o * s];
    } else {
        if (s == 1)
            for (int64_t o = lo; o < hi; o++)
                im[at + o] += r[o];
        else if (s == 2)
            for (int64_t o = lo; o < hi; o++)
                im[at + 2 * o] += r[o];
        else
            for (int64_t o = lo; o < hi; o++)
                im[at + o * s] += r[o];
    }
}

/* One loop nest serves both directions, so im2col and its adjoint cannot
 * disagree about which pixel a column entry belongs to. to_col: copy image
 * pixels into the columns (zeros where the tap is in the padding);
 * otherwise add the columns into the image. Rows are short (7 or 14 for
 * MNIST), so zeros are written by plain loops: a memset call per few floats
 * cost more than the copy.
 *
 * A task is one image channel of examples [b0, b1): it alone writes that
 * channel's column rows (to_col) or image planes (the adjoint), and adds
 * into a pixel in the serial loop's order (kernel row, then column), so
 * the worker pool changes no byte. */
typedef struct lower_loop {
    const vae_conv_geom *g;
    float *img, *col;
    int64_t batch, per_task, b_tasks;
    int to_col;
} lower_loop;

static void lower_task(void *ctx, int64_t t)
{
    const lower_loop *l = ctx;
    const vae_conv_geom *g = l->g;
    const int64_t k = g->k, s = g->s, p = g->p, oh = g->oh, ow = g->ow;
    const int64_t plane = g->h * g->w, n_cols = l->batch * oh * ow;
    const int64_t c = t / l->b_tasks, b0 = t % l->b_tasks * l->per_task;
    const int64_t b1 = b0 + l->per_task < l->batch ? b0 + l->per_task
                                                   : l->batch;
    const int to_col = l->to_col;
    for (int64_t ki = 0; ki < k; ki++)
        for (int64_t kj = 0; kj < k; kj++) {
            float *row = l->col + ((c * k + ki) * k + kj) * n_cols;
            int64_t y_lo, y_hi, x_lo, x_hi;
            inside_run(ki - p, s, g->h, oh, &y_lo, &y_hi);
            inside_run(kj - p, s, g->w, ow, &x_lo, &x_hi);
            for (int64_t b = b0; b < b1; b++) {
                float *im = l->img + (b * g->c + c) * plane;
                float *out = row + b * oh * ow;
                for (int64_t oy = 0; oy < oh; oy++) {
                    float *r = out + oy * ow;
                    if (oy < y_lo || oy >= y_hi) {
                        if (to_col)
                            for (int64_t ox = 0; ox < ow; ox++)
                                r[ox] = 0.0f;
                        continue;
                    }
                    if (to_col) {
                        for (int64_t ox = 0; ox < x_lo; ox++)
                            r[ox] = 0.0f;
                        for (int64_t ox = x_hi; ox < ow; ox++)
                            r[ox] = 0.0f;
                    }
                    /* Window ox reads im[at + ox s]; `at` itself may lie
                     * in the padding, the taps of the run do not. */
                    int64_t at = (oy * s - p + ki) * g->w + kj - p;
                    move_run(r, im, at, x_lo, x_hi, s, to_col);
                }
            }
        }
}

static void lower(const vae_conv_geom *g, float *img, int64_t batch,
                  float *col, int to_col)
{
    int64_t per_channel = g->k * g->k * g->oh * g->ow;
    int64_t per = per_channel < VAE_POOL_GRAIN ? VAE_POOL_GRAIN / per_channel
                                               : 1;
    per = per < batch ? per : batch;
    lower_loop l = {g, img, col, batch, per, (batch + per - 1) / per, to_col};
    vae_parallel_for(g->c * l.b_tasks, lower_task, &l);
}

void vae_im2col(const vae_conv_geom *g, const float *img, int64_t batch,
                float *col)
{
    /* lower() only reads img when to_col is set. */
    lower(g, (float *)img, batch, col, 1);
}

void vae_col2im_add(const vae_conv_geom *g, const float *col, int64_t batch,
                    float *img)
{
    lower(g, img, batch, (float *)col, 0);
}

/* The permutes, bias fill and bias gradient below, split across the
 * worker pool by example (each writes its own examples' planes) or, for
 * the bias gradient, by channel (each sum in its serial order). */
typedef struct plane_loop {
    const float *src;
    float *dst;
    const float *bias;
    int64_t batch, channels, n;
} plane_loop;

/* Examples per task for planes of channels x n floats. */
static int64_t example_grain(int64_t channels, int64_t n)
{
    int64_t per = channels * n;
    return per < VAE_POOL_GRAIN ? VAE_POOL_GRAIN / per : 1;
}

static void to_channel_major(void *ctx, int64_t lo, int64_t hi)
{
    const plane_loop *l = ctx;
    int64_t batch = l->batch, channels = l->channels, n = l->n;
    for (int64_t b = lo; b < hi; b++)
        for (int64_t c = 0; c < channels; c++)
            memcpy(l->dst + (c * batch + b) * n,
                   l->src + (b * channels + c) * n, (size_t)n * sizeof(float));
}

void vae_to_channel_major(const float *src, int64_t batch, int64_t channels,
                          int64_t n, float *dst)
{
    plane_loop l = {src, dst, NULL, batch, channels, n};
    vae_parallel_ranges(batch, example_grain(channels, n), to_channel_major,
                        &l);
}

static void add_from_channel_major(void *ctx, int64_t lo, int64_t hi)
{
    const plane_loop *l = ctx;
    int64_t batch = l->batch, channels = l->channels, n = l->n;
    for (int64_t b = lo; b < hi; b++)
        for (int64_t c = 0; c < channels; c++) {
            const float *s = l->src + (c * batch + b) * n;
            float *d = l->dst + (b * channels + c) * n;
            for (int64_t i = 0; i < n; i++)
                d[i] += s[i];
        }
}

void vae_add_from_channel_major(const float *src, int64_t batch,
                                int64_t channels, int64_t n, float *dst)
{
    plane_loop l = {src, dst, NULL, batch, channels, n};
    vae_parallel_ranges(batch, example_grain(channels, n),
                        add_from_channel_major, &l);
}

static void fill_bias(void *ctx, int64_t lo, int64_t hi)
{
    const plane_loop *l = ctx;
    int64_t channels = l->channels, n = l->n;
    for (int64_t b = lo; b < hi; b++)
        for (int64_t c = 0; c < channels; c++) {
            float *d = l->dst + (b * channels + c) * n;
            for (int64_t i = 0; i < n; i++)
                d[i] = l->bias[c];
        }
}

void vae_fill_bias(const float *bias, int64_t batch, int64_t channels,
                   int64_t n, float *dst)
{
    plane_loop l = {NULL, dst, bias, batch, channels, n};
    vae_parallel_ranges(batch, example_grain(channels, n), fill_bias, &l);
}

static void add_bias_grad(void *ctx, int64_t c)
{
    const plane_loop *l = ctx;
    int64_t batch = l->batch, channels = l->channels, n = l->n;
    double sum = 0.0;
    for (int64_t b = 0; b < batch; b++) {
        const float *d = l->src + (b * channels + c) * n;
        for (int64_t i = 0; i < n; i++)
            sum += d[i];
    }
    l->dst[c] += (float)sum;
}

void vae_add_bias_grad(const float *dy, int64_t batch, int64_t channels,
                       int64_t n, float *db)
{
    plane_loop l = {dy, db, NULL, batch, channels, n};
    vae_parallel_for(channels, add_bias_grad, &l);
}
