/* What conv2d and conv2d_transpose share (src/ops/im2col.c, which lowers
 * both to GEMMs over columns): forward and backward of both against a naive
 * reference written here from the definitions, the adjoint identity between
 * the two, initialisation, output shapes and shape errors. Each op's
 * central differences are in its own file (test_conv2d.c,
 * test_conv2d_transpose.c).
 *
 * The reference visits every (input pixel, weight, output pixel) link of the
 * convolution directly, in double; the library instead lowers to im2col and
 * GEMMs over chunks of examples, so the two share no code.
 *
 * Tolerances (all |a - b| <= tol * max(1, |a|, |b|), see tu_close):
 *  - REF_TOL 5e-4 against the reference: float32 GEMM sums of up to ~22000
 *    O(1) products (the chunked case). Largest disagreement measured:
 *    4.6e-5 there, 2.6e-6 on the small configurations. An indexing mistake
 *    (wrong tap, flipped kernel, swapped channel roles, a lost chunk) is off
 *    by O(0.1) or more.
 *  - ADJ_TOL 1e-5 for the adjoint identity: two float32 evaluations of one
 *    inner product of a few hundred terms; measured 1.1e-7.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_test.h"
#include "ops/im2col.h"

#define REF_TOL 5e-4
#define ADJ_TOL 1e-5

/* ---- naive reference -------------------------------------------------- */

/* y = conv(x) + bias and, for dL/dy = R, dx, dW and db, all in double.
 * conv2d (W out x C x k x k), over output pixels (Y, X):
 *   y[o][Y][X] += W[o][c][ki][kj] * x[c][Y s - p + ki][X s - p + kj]
 * conv2d_transpose (W C x out x k x k), over input pixels (Y, X):
 *   y[o][Y s - p + ki][X s - p + kj] += W[c][o][ki][kj] * x[c][Y][X]
 * Taps outside the image are skipped (zero padding, cropped output). */
typedef struct ref {
    double *y, *dx, *dw;
} ref;

static void reference(const tu_harness *h, const tu_layer *l, ref *out)
{
    const int transposed = l->op == VAE_OP_CONV2D_TRANSPOSE;
    const int64_t B = h->batch, C = h->in.s.shape[0], H = h->in.s.shape[1],
                  W = h->in.s.shape[2];
    const int64_t O = h->node.s.shape[0], OH = h->node.s.shape[1],
                  OW = h->node.s.shape[2];
    const int64_t k = l->kernel, s = l->stride, p = l->padding;
    const int64_t n_w = O * C * k * k;
    const float *w = h->w, *bias = h->w + n_w, *x = h->in.val, *r = h->r;
    assert_int_equal(h->node.s.n_params, n_w + O);

    out->y = tu_alloc((size_t)(B * O * OH * OW) * sizeof(double));
    out->dx = calloc((size_t)(B * C * H * W), sizeof(double));
    out->dw = calloc((size_t)(n_w + O), sizeof(double));
    assert_non_null(out->dx);
    assert_non_null(out->dw);
    for (int64_t b = 0; b < B; b++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t i = 0; i < OH * OW; i++) {
                int64_t yi = (b * O + o) * OH * OW + i;
                out->y[yi] = bias[o];
                out->dw[n_w + o] += r[yi];
            }

    /* The windows run over the output (conv2d) or the input (transpose). */
    const int64_t wh = transposed ? H : OH, ww = transposed ? W : OW;
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t o = 0; o < O; o++)
                for (int64_t ki = 0; ki < k; ki++)
                    for (int64_t kj = 0; kj < k; kj++)
                        for (int64_t Y = 0; Y < wh; Y++)
                            for (int64_t X = 0; X < ww; X++) {
                                int64_t ty = Y * s - p + ki, tx = X * s - p + kj;
                                int64_t xi, yi, wi;
                                if (transposed) {
                                    if (ty < 0 || ty >= OH || tx < 0 || tx >= OW)
                                        continue;
                                    xi = ((b * C + c) * H + Y) * W + X;
                                    yi = ((b * O + o) * OH + ty) * OW + tx;
                                    wi = ((c * O + o) * k + ki) * k + kj;
                                } else {
                                    if (ty < 0 || ty >= H || tx < 0 || tx >= W)
                                        continue;
                                    xi = ((b * C + c) * H + ty) * W + tx;
                                    yi = ((b * O + o) * OH + Y) * OW + X;
                                    wi = ((o * C + c) * k + ki) * k + kj;
                                }
                                out->y[yi] += (double)w[wi] * x[xi];
                                out->dx[xi] += (double)w[wi] * r[yi];
                                out->dw[wi] += (double)x[xi] * r[yi];
                            }
}

static void ref_free(ref *r)
{
    free(r->y);
    free(r->dx);
    free(r->dw);
}

/* Forward and backward (from zeroed gradients) against the reference. */
static void check_against_reference(tu_harness *h, const tu_layer *l,
                                    double *worst)
{
    ref want;
    reference(h, l, &want);
    memset(h->in.grad, 0, (size_t)tu_in_count(h) * sizeof(float));
    memset(h->dw, 0, (size_t)h->node.s.n_params * sizeof(float));
    tu_backward(h);
    for (int64_t i = 0; i < tu_out_count(h); i++)
        tu_expect_close(h->node.val[i], want.y[i], REF_TOL, "forward", worst);
    for (int64_t i = 0; i < tu_in_count(h); i++)
        tu_expect_close(h->in.grad[i], want.dx[i], REF_TOL, "dx", worst);
    for (int64_t i = 0; i < h->node.s.n_params; i++)
        tu_expect_close(h->dw[i], want.dw[i], REF_TOL, "dw", worst);
    ref_free(&want);
}

/* ---- forward and backward against the reference ------------------------ */

/* Every kernel 1..5, stride 1..3 and padding 0..k-1, with channel counts
 * and non-square sizes varying from case to case, 3 examples of different
 * data. conv2d images are big enough for every case; conv2d_transpose
 * inputs are at least k high, which keeps (H-1)s - 2p + k >= 1. */
static void test_reference_configs(void **state)
{
    (void)state;
    static const int64_t chans[][2] = {{1, 1}, {2, 3}, {3, 2}, {4, 1},
                                       {1, 4}, {3, 3}};
    int cases = 0;
    double worst = 0.0;
    for (int64_t k = 1; k <= 5; k++)
        for (int64_t s = 1; s <= 3; s++)
            for (int64_t p = 0; p < k; p++, cases++) {
                const int64_t *ch = chans[cases % TU_COUNT(chans)];
                int64_t conv_in[3] = {ch[0], k + 2 + cases % 3, k + 4};
                int64_t convt_in[3] = {ch[0], k + cases % 2, k + 2};
                tu_layer conv = TU_CONV(ch[1], k, s, p);
                tu_layer convt = TU_CONVT(ch[1], k, s, p);
                tu_harness h;
                tu_harness_init(&h, conv_in, 3, &conv, 3, 100 + (uint64_t)cases);
                check_against_reference(&h, &conv, &worst);
                tu_harness_free(&h);
                tu_harness_init(&h, convt_in, 3, &convt, 3, 500 + (uint64_t)cases);
                check_against_reference(&h, &convt, &worst);
                tu_harness_free(&h);
            }
    assert_int_equal(cases, 45);
    printf("reference, 45 configs: worst relative disagreement %.3g\n", worst);
}

/* Column rows are copied in pieces of 8 floats, the last one overlapping
 * the one before, and rows under 8 as two overlapping pieces: every row
 * length from 1 to 33 (stride 1, 3 x 3 kernel, padding 1: as wide as the
 * image), each piece boundary and overlap among them, and stride 2 over
 * the same images (half as wide), whose rows split into even and odd
 * columns in blocks of 8 and a rest; a 300-wide image takes the general
 * way (its padded rows too long for the buffer of the stride-2 split). */
static void test_reference_row_lengths(void **state)
{
    (void)state;
    double worst = 0.0;
    for (int64_t i = 1; i <= 34; i++)
        for (int64_t s = 1; s <= 2; s++) {
            int64_t w = i <= 33 ? i : 300;
            int64_t dims[3] = {2, 3, w};
            tu_layer conv = TU_CONV(3, 3, s, 1);
            tu_harness h;
            tu_harness_init(&h, dims, 3, &conv, 2, 300 + (uint64_t)(w * s));
            assert_int_equal(h.node.s.shape[2], (w - 1) / s + 1);
            check_against_reference(&h, &conv, &worst);
            tu_harness_free(&h);
        }
    printf("reference, row lengths 1..33, 300: worst relative disagreement "
           "%.3g\n",
           worst);
}

/* Batches too large for one chunk of scratch are split: every chunk, the
 * last one partial, must land in the right examples, and the parameter
 * gradients must sum over all of them. With 3 pool threads the chunks run
 * side by side (vae_conv_chunks), and the bytes must be those of 1. */
static void test_reference_chunked(void **state)
{
    (void)state;
    /* 16 image channels x 5 x 5 rows over 32 x 30 positions: 10 examples a
     * chunk (as long as the scratch target is 2^22 floats). */
    const tu_layer layers[] = {TU_CONV(2, 5, 1, 2), TU_CONVT(16, 5, 1, 2)};
    const int64_t dims[][3] = {{16, 32, 30}, {2, 32, 30}};
    const int64_t batch = 23;
    const int32_t threads[] = {1, 3};
    double worst = 0.0;
    for (int i = 0; i < TU_COUNT(layers); i++) {
        float *first[3] = {NULL, NULL, NULL};
        for (int t = 0; t < TU_COUNT(threads); t++) {
            assert_int_equal(vae_set_num_threads(threads[t]), VAE_OK);
            tu_harness h;
            tu_harness_init(&h, dims[i], 3, &layers[i], batch,
                            900 + (uint64_t)i);
            /* A scratch for more slots than chunks holds one per chunk. */
            int64_t chunks = h.op->scratch(&h.node.s, batch, 64) /
                             h.op->scratch(&h.node.s, batch, 1);
            /* At least 3 chunks, of unequal sizes: the last one partial. */
            assert_true(chunks >= TU_SLOTS);
            assert_true(batch % chunks != 0);
            check_against_reference(&h, &layers[i], &worst);
            const float *got[3] = {h.node.val, h.in.grad, h.dw};
            const int64_t n[3] = {tu_out_count(&h), tu_in_count(&h),
                                  h.node.s.n_params};
            for (int k = 0; k < 3; k++) {
                if (t == 0) {
                    first[k] = tu_alloc((size_t)n[k] * sizeof(float));
                    memcpy(first[k], got[k], (size_t)n[k] * sizeof(float));
                } else if (memcmp(first[k], got[k],
                                  (size_t)n[k] * sizeof(float)) != 0) {
                    fail_msg("%s: %s differs between 1 and %d threads",
                             i ? "conv2d_transpose" : "conv2d",
                             k == 0 ? "y" : k == 1 ? "dx" : "dW",
                             threads[t]);
                }
            }
            tu_harness_free(&h);
        }
        for (int k = 0; k < 3; k++)
            free(first[k]);
    }
    assert_int_equal(vae_set_num_threads(1), VAE_OK);
    printf("reference, chunked: worst relative disagreement %.3g\n", worst);
}

/* ---- the lowerings, bit for bit --------------------------------------------- */

/* im2col moves floats and col2im adds each pixel's terms onto it (or onto
 * its channel's bias) in the order kernel row, then kernel column
 * (im2col.h); both are written out here from those definitions and
 * compared bit for bit. Stride 2 over images up to 32 pixels wide has
 * AVX-512 loops of its own where the CPU has them, which must give the
 * plain loops' bytes: kernels 1..6, every padding, widths 1..33 (33 takes
 * the plain loops everywhere), 1..3 image rows more than the kernel;
 * col2im with and without a bias. Every fifth pixel starts as -0.0, which
 * must stay so where no tap reaches (kernel 1 reaches only even pixels),
 * and every fifth column entry is -0.0 too, as is the first channel's
 * bias. */
static int64_t col_at(const vae_conv_geom *g, int64_t batch, int64_t c,
                      int64_t ki, int64_t kj, int64_t b, int64_t oy, int64_t ox)
{
    return ((c * g->k + ki) * g->k + kj) * batch * g->oh * g->ow +
           (b * g->oh + oy) * g->ow + ox;
}

static void fill_signed_zeros(tu_rng *r, float *p, int64_t n)
{
    tu_fill_uniform(r, p, n, -1.0, 1.0);
    for (int64_t i = 0; i < n; i += 5)
        p[i] = -0.0f;
}

/* want = what vae_col2im must leave: each pixel starts from its value in
 * img, or from bias[c] when there is a bias, and adds its terms in order. */
static void col2im_definition(const vae_conv_geom *g, int64_t batch,
                              const float *col, const float *img,
                              const float *bias, float *want)
{
    for (int64_t b = 0; b < batch; b++)
        for (int64_t c = 0; c < g->c; c++)
            for (int64_t y = 0; y < g->h; y++)
                for (int64_t x = 0; x < g->w; x++) {
                    int64_t at = ((b * g->c + c) * g->h + y) * g->w + x;
                    float acc = bias ? bias[c] : img[at];
                    for (int64_t ki = 0; ki < g->k; ki++)
                        for (int64_t kj = 0; kj < g->k; kj++) {
                            int64_t ty = y + g->p - ki, tx = x + g->p - kj;
                            if (ty < 0 || tx < 0 || ty % g->s || tx % g->s ||
                                ty / g->s >= g->oh || tx / g->s >= g->ow)
                                continue;
                            acc += col[col_at(g, batch, c, ki, kj, b,
                                              ty / g->s, tx / g->s)];
                        }
                    want[at] = acc;
                }
}

static void check_lowering(const vae_conv_geom *g, int64_t batch, tu_rng *r)
{
    const int64_t n_img = batch * g->c * g->h * g->w;
    const int64_t n_col = g->c * g->k * g->k * batch * g->oh * g->ow;
    float *img = tu_alloc((size_t)n_img * sizeof(float));
    float *sum = tu_alloc((size_t)n_img * sizeof(float));
    float *want = tu_alloc((size_t)n_img * sizeof(float));
    float *col = tu_alloc((size_t)n_col * sizeof(float));
    float *cols = tu_alloc((size_t)n_col * sizeof(float));
    float *phases = tu_alloc((size_t)(batch * g->c * 4 * (g->oh + g->k) *
                                      (g->ow + g->k)) *
                             sizeof(float));
    float bias[2];
    assert_true(g->c <= 2);
    fill_signed_zeros(r, img, n_img);
    fill_signed_zeros(r, col, n_col);
    fill_signed_zeros(r, bias, g->c);

    /* col2im adding onto the image, then starting from the bias (over
     * an image of other values, which it must ignore). */
    memcpy(sum, img, (size_t)n_img * sizeof(float));
    vae_col2im(g, col, batch, NULL, sum);
    col2im_definition(g, batch, col, img, NULL, want);
    assert_memory_equal(sum, want, (size_t)n_img * sizeof(float));
    vae_col2im(g, col, batch, bias, sum);
    col2im_definition(g, batch, col, img, bias, want);
    assert_memory_equal(sum, want, (size_t)n_img * sizeof(float));

    vae_im2col(g, img, batch, phases, cols);
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t ki = 0; ki < g->k; ki++)
            for (int64_t kj = 0; kj < g->k; kj++)
                for (int64_t b = 0; b < batch; b++)
                    for (int64_t oy = 0; oy < g->oh; oy++)
                        for (int64_t ox = 0; ox < g->ow; ox++) {
                            int64_t y = oy * g->s - g->p + ki;
                            int64_t x = ox * g->s - g->p + kj;
                            int inside =
                                y >= 0 && y < g->h && x >= 0 && x < g->w;
                            float v =
                                inside
                                    ? img[((b * g->c + c) * g->h + y) * g->w + x]
                                    : 0.0f;
                            float got =
                                cols[col_at(g, batch, c, ki, kj, b, oy, ox)];
                            if (memcmp(&got, &v, sizeof v) != 0)
                                fail_msg("im2col k %lld p %lld w %lld: column "
                                         "(%lld %lld %lld) of (%lld %lld %lld) "
                                         "is %a, not %a",
                                         (long long)g->k, (long long)g->p,
                                         (long long)g->w, (long long)c,
                                         (long long)ki, (long long)kj,
                                         (long long)b, (long long)oy,
                                         (long long)ox, (double)got,
                                         (double)v);
                        }
    free(img);
    free(sum);
    free(want);
    free(col);
    free(cols);
    free(phases);
}

static void test_lowering_exact(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 77);
    int cases = 0;
    for (int64_t k = 1; k <= 6; k++)
        for (int64_t p = 0; p < k; p++)
            for (int64_t w = 1; w <= 33; w++) {
                vae_conv_geom g = {.c = 2, .h = k + 1 + w % 3, .w = w,
                                   .k = k, .s = 2, .p = p};
                g.oh = (g.h + 2 * p - k) / 2 + 1;
                g.ow = (w + 2 * p - k) / 2 + 1;
                if (w + 2 * p < k)
                    continue;
                check_lowering(&g, 3, &r);
                cases++;
            }
    assert_true(cases > 600);
}

/* ---- adjoint --------------------------------------------------------------- */

/* conv2d_transpose is the adjoint of conv2d for the same weights (no bias):
 * <conv2d(x; W), y> = <x, conv2d_transpose(y; W)>. The layouts agree: conv
 * W[out][C] is transposed-conv W[C_in = out][C_out = C]. The image size is
 * (Ho - 1)s - 2p + k, the one size both directions map between. */
static void test_adjoint(void **state)
{
    (void)state;
    static const int64_t cfg[][7] = {
        /* C, out, k, s, p, Ho, Wo */
        {1, 1, 1, 1, 0, 3, 4}, {2, 3, 3, 1, 1, 5, 4}, {3, 2, 4, 2, 1, 4, 3},
        {2, 2, 5, 3, 2, 3, 4}, {4, 3, 3, 2, 0, 2, 5}, {1, 4, 2, 2, 1, 6, 5},
    };
    double worst = 0.0;
    for (int i = 0; i < TU_COUNT(cfg); i++) {
        const int64_t C = cfg[i][0], O = cfg[i][1], k = cfg[i][2], s = cfg[i][3],
                      p = cfg[i][4], Ho = cfg[i][5], Wo = cfg[i][6];
        int64_t img[3] = {C, (Ho - 1) * s - 2 * p + k, (Wo - 1) * s - 2 * p + k};
        int64_t pos[3] = {O, Ho, Wo};
        tu_layer conv = TU_CONV(O, k, s, p), convt = TU_CONVT(C, k, s, p);
        tu_harness hc, ht;
        tu_harness_init(&hc, img, 3, &conv, 2, 40 + (uint64_t)i);
        tu_harness_init(&ht, pos, 3, &convt, 2, 70 + (uint64_t)i);
        assert_int_equal(hc.node.s.size, ht.in.s.size);
        assert_int_equal(ht.node.s.size, hc.in.s.size);
        int64_t n_w = O * C * k * k;
        memcpy(ht.w, hc.w, (size_t)n_w * sizeof(float));
        memset(hc.w + n_w, 0, (size_t)O * sizeof(float));
        memset(ht.w + n_w, 0, (size_t)C * sizeof(float));
        tu_forward(&hc);
        tu_forward(&ht);
        double lhs = 0.0, rhs = 0.0;
        for (int64_t j = 0; j < tu_out_count(&hc); j++)
            lhs += (double)hc.node.val[j] * ht.in.val[j];
        for (int64_t j = 0; j < tu_out_count(&ht); j++)
            rhs += (double)hc.in.val[j] * ht.node.val[j];
        tu_expect_close(lhs, rhs, ADJ_TOL, "<conv x, y> vs <x, convT y>", &worst);
        tu_harness_free(&hc);
        tu_harness_free(&ht);
    }
    printf("adjoint: worst relative disagreement %.3g\n", worst);
}

/* ---- initialisation ------------------------------------------------------- */

/* Weights and biases uniform in +-1/sqrt(fan_in), fan_in = C k k for conv2d
 * and out k k for conv2d_transpose (PyTorch's rule for each). C and out
 * differ by 4x in both cases, so taking the other side's channels gives a
 * bound 2x too large (caught by the bound) or 2x too small (caught by the
 * spread). */
/* For a correct init the spread checks fail for a fraction of seeds of
 * about 0.9^128 < 2e-6 (max of >= 128 weights below 0.9 bound), 0.25^8 <
 * 2e-5 (max of 8 biases below 0.25 bound) and < 1e-6 (mean of >= 136
 * draws, sd bound/20, over 5 sd off). */
static void check_init(const int64_t *dims, const tu_layer *l, int64_t fan_in)
{
    tu_check_init(dims, 3, l, fan_in, l->units, 0.9);
}

static void test_init(void **state)
{
    (void)state;
    const int64_t conv_in[3] = {2, 8, 8}, convt_in[3] = {2, 4, 4};
    const tu_layer conv = TU_CONV(8, 3, 1, 1), convt = TU_CONVT(8, 3, 2, 1);
    check_init(conv_in, &conv, 2 * 3 * 3);
    check_init(convt_in, &convt, 8 * 3 * 3);
}

/* ---- shapes --------------------------------------------------------------- */

static const vae_node_spec *spec(const vae_graph *g, int32_t id)
{
    assert_true(id >= 0 && id < g->n);
    return &g->nodes[id];
}

static void expect_shape(const vae_graph *g, int32_t id, int64_t c, int64_t h,
                         int64_t w, int64_t n_params)
{
    const vae_node_spec *s = spec(g, id);
    assert_int_equal(s->rank, 3);
    assert_int_equal(s->shape[0], c);
    assert_int_equal(s->shape[1], h);
    assert_int_equal(s->shape[2], w);
    assert_int_equal(s->n_params, n_params);
    assert_int_equal(vae_graph_node_size(g, id), c * h * w);
}

/* The issue's MNIST architecture: 28 -> 14 -> 7 and back. */
static void test_issue_shapes(void **state)
{
    (void)state;
    const int64_t img[3] = {1, 28, 28}, code[3] = {64, 7, 7};
    vae_graph *g;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    int32_t x = vae_graph_input(g, img, 3);
    int32_t c1 = vae_graph_conv2d(g, x, 32, 4, 2, 1);
    int32_t c2 = vae_graph_conv2d(g, vae_graph_relu(g, c1), 64, 4, 2, 1);
    int32_t f = vae_graph_flatten(g, c2);
    assert_int_equal(vae_graph_status(g), VAE_OK);
    expect_shape(g, c1, 32, 14, 14, 32 * 1 * 16 + 32);
    expect_shape(g, c2, 64, 7, 7, 64 * 32 * 16 + 64);
    assert_int_equal(spec(g, f)->rank, 1);
    assert_int_equal(vae_graph_node_size(g, f), 3136);
    vae_graph_free(g);

    assert_int_equal(vae_graph_new(&g), VAE_OK);
    x = vae_graph_input(g, code, 3);
    int32_t t1 = vae_graph_conv2d_transpose(g, x, 32, 4, 2, 1);
    int32_t t2 = vae_graph_conv2d_transpose(g, vae_graph_relu(g, t1), 1, 4, 2, 1);
    assert_int_equal(vae_graph_status(g), VAE_OK);
    expect_shape(g, t1, 32, 14, 14, 64 * 32 * 16 + 32);
    expect_shape(g, t2, 1, 28, 28, 32 * 1 * 16 + 1);
    vae_graph_free(g);

    /* The output rules, including floors and unequal sides. */
    const int64_t odd[3] = {2, 9, 6};
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    x = vae_graph_input(g, odd, 3);
    expect_shape(g, vae_graph_conv2d(g, x, 3, 3, 2, 0), 3, 4, 2, 3 * 2 * 9 + 3);
    expect_shape(g, vae_graph_conv2d(g, x, 1, 5, 3, 2), 1, 3, 2, 1 * 2 * 25 + 1);
    expect_shape(g, vae_graph_conv2d_transpose(g, x, 4, 3, 2, 1), 4, 17, 11,
                 2 * 4 * 9 + 4);
    expect_shape(g, vae_graph_conv2d_transpose(g, x, 1, 2, 3, 0), 1, 26, 17,
                 2 * 1 * 4 + 1);
    assert_int_equal(vae_graph_status(g), VAE_OK);
    vae_graph_free(g);
}

static int32_t add_conv(vae_graph *g, int transposed, int32_t x, int64_t out,
                        int64_t k, int64_t s, int64_t p)
{
    return transposed ? vae_graph_conv2d_transpose(g, x, out, k, s, p)
                      : vae_graph_conv2d(g, x, out, k, s, p);
}

/* VAE_ERR_RANGE: an attribute outside its documented range on its own.
 * VAE_ERR_SHAPE: the input, or attributes combined with it, give no valid
 * output. VAE_ERR_GRAPH: a node that does not exist. */
static void test_shape_errors(void **state)
{
    (void)state;
    const int64_t img[3] = {2, 6, 5}, vec[1] = {16}, mat[2] = {4, 4},
                  four[4] = {1, 2, 4, 4}, tiny[3] = {1, 2, 2},
                  dot[3] = {1, 1, 1}, deep[3] = {1 << 20, 2, 2},
                  huge[3] = {1, 1 << 15, 1 << 15};
    struct {
        int64_t out, k, s, p;
    } bad_attrs[] = {
        {0, 3, 1, 1},  {-1, 3, 1, 1}, {2, 0, 1, 0},         {2, -2, 1, 0},
        {2, 3, 0, 1},  {2, 3, -1, 1}, {2, 3, 1, 3},         {2, 3, 1, 4},
        {2, 3, 1, -1}, {2, 1, 1, 1},  {INT64_MAX, 3, 1, 1}, {2, INT64_MAX, 1, 0},
        {2, 3, INT64_MAX, 0},
    };
    char what[96];
    for (int t = 0; t < 2; t++) {
        const char *name = t ? "conv2d_transpose" : "conv2d";
        for (int i = 0; i < TU_COUNT(bad_attrs); i++) {
            vae_graph *g = tu_graph_input(img, 3);
            snprintf(what, sizeof what, "%s attrs #%d", name, i);
            ops_expect_error(g,
                             add_conv(g, t, 0, bad_attrs[i].out, bad_attrs[i].k,
                                      bad_attrs[i].s, bad_attrs[i].p),
                             VAE_ERR_RANGE, what);
        }
        /* Input not [C, H, W]. */
        vae_graph *g = tu_graph_input(vec, 1);
        ops_expect_error(g, add_conv(g, t, 0, 2, 3, 1, 1), VAE_ERR_SHAPE, name);
        g = tu_graph_input(mat, 2);
        ops_expect_error(g, add_conv(g, t, 0, 2, 3, 1, 1), VAE_ERR_SHAPE, name);
        g = tu_graph_input(four, 4);
        ops_expect_error(g, add_conv(g, t, 0, 2, 3, 1, 1), VAE_ERR_SHAPE, name);
        /* Too many weights, and too much im2col space for one example
         * (these must fail at build time, before anything is allocated). */
        g = tu_graph_input(deep, 3);
        ops_expect_error(g, add_conv(g, t, 0, 1 << 20, 1, 1, 0), VAE_ERR_SHAPE,
                         name);
        g = tu_graph_input(huge, 3);
        ops_expect_error(g, add_conv(g, t, 0, 1, 3, 1, 1), VAE_ERR_SHAPE, name);
        /* A node that does not exist. */
        g = tu_graph_input(img, 3);
        ops_expect_error(g, add_conv(g, t, 3, 2, 3, 1, 1), VAE_ERR_GRAPH, name);
    }
    /* Output smaller than 1 x 1. conv2d: 2 + 2 - 5 < 0. transpose:
     * (1 - 1) 1 - 2 * 2 + 3 = -1; (1 - 1) 1 - 2 * 1 + 2 = 0. */
    vae_graph *g = tu_graph_input(tiny, 3);
    ops_expect_error(g, vae_graph_conv2d(g, 0, 1, 5, 1, 1), VAE_ERR_SHAPE,
                     "conv2d output < 1");
    g = tu_graph_input(tiny, 3);
    ops_expect_error(g, vae_graph_conv2d(g, 0, 1, 4, 3, 0), VAE_ERR_SHAPE,
                     "conv2d output < 1 (window larger than the image)");
    g = tu_graph_input(dot, 3);
    ops_expect_error(g, vae_graph_conv2d_transpose(g, 0, 1, 3, 1, 2),
                     VAE_ERR_SHAPE, "conv2d_transpose output < 1");
    g = tu_graph_input(dot, 3);
    ops_expect_error(g, vae_graph_conv2d_transpose(g, 0, 1, 2, 1, 1),
                     VAE_ERR_SHAPE, "conv2d_transpose output 0");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reference_configs),
    cmocka_unit_test(test_reference_row_lengths),
    cmocka_unit_test(test_reference_chunked),
    cmocka_unit_test(test_lowering_exact),
    cmocka_unit_test(test_adjoint),
    cmocka_unit_test(test_init),
    cmocka_unit_test(test_issue_shapes),
    cmocka_unit_test(test_shape_errors),
};
OPS_GROUP(tests)
