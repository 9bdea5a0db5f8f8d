/* im2col.c - geometry, validation and data movement shared by the two
 * convolution ops (see im2col.h). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../gemm.h"
#include "../pool.h"
#include "../simd.h"
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
/* Scratch a chunk of examples aims at: 4 MiB (per slot: a pool of n
 * threads runs up to n chunks at once, each in its own). The MNIST
 * layers split a batch of 128 into up to 5 chunks, so memory does not grow
 * with the batch while GEMMs keep over a thousand columns (1,274 for the
 * 64-channel layer). 16 MiB took 10 MB more of the conv benchmark's peak
 * memory; 8 MiB took 2 MB more and was no faster. */
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

/* The lowering goes through the image's "phases": the zero-padded image
 * split by the residue of row and column modulo the stride. Tap (ki, kj)
 * of window (oy, ox) reads padded pixel (oy s + ki, ox s + kj), which is
 * element (oy + ki / s, ox + kj / s) of phase (ki % s, kj % s); so each
 * column row is a block of contiguous phase rows, copied without bounds
 * checks or strided reads: lowering row by row straight from the image
 * spent its time on the bookkeeping of short strided runs (7 floats for
 * the conv benchmark's 32-channel layer).
 * A phase is ph x pw: enough rows and columns for every window. Strides
 * above the kernel use only k of the s residues. */
typedef struct phase_geom {
    int64_t n, ph, pw; /* residues used per axis, phase height and width */
} phase_geom;

static phase_geom phases_of(const vae_conv_geom *g)
{
    int64_t reach = (g->k - 1) / g->s;
    return (phase_geom){.n = g->s < g->k ? g->s : g->k,
                        .ph = g->oh + reach,
                        .pw = g->ow + reach};
}

/* Capped as mul_capped at MAX_EXAMPLE_SCRATCH, so vae_conv_finish can
 * check a geometry before anything multiplies it out. */
static int64_t phase_floats(const vae_conv_geom *g)
{
    phase_geom q = phases_of(g);
    const int64_t L = MAX_EXAMPLE_SCRATCH;
    return mul_capped(mul_capped(mul_capped(g->c, q.n * q.n, L), q.ph, L), q.pw,
                      L);
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
    int64_t per_example =
        mul_capped(rows + g->other, positions, MAX_EXAMPLE_SCRATCH) +
        phase_floats(g);
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
    return (vae_conv_rows(g) + g->other) * vae_conv_positions(g) +
           phase_floats(g);
}

/* The most examples a chunk may hold: what the scratch is sized for. It
 * never shrinks as the batch grows (vae_op.scratch). */
static int64_t max_chunk(const vae_conv_geom *g, int64_t batch)
{
    int64_t chunk = SCRATCH_TARGET / per_example(g);
    if (chunk < 1)
        chunk = 1;
    return chunk < batch ? chunk : batch;
}

/* As few chunks as max_chunk allows, all of one size but the last, which
 * is smaller by less than the number of chunks: no GEMM is left with a
 * remainder of a few examples. 128 examples of the 32-channel layer go as
 * four chunks of 26 and one of 24, not as four of 28 and one of 16. */
static int64_t conv_chunk(const vae_conv_geom *g, int64_t batch)
{
    int64_t most = max_chunk(g, batch), parts = (batch + most - 1) / most;
    return (batch + parts - 1) / parts;
}

/* Floats of one slot: a chunk's space and a weight gradient. */
static int64_t slot_floats(const vae_conv_geom *g, int64_t batch)
{
    return max_chunk(g, batch) * per_example(g) + vae_conv_rows(g) * g->other;
}

/* Chunks in a batch. */
static int64_t chunk_count(const vae_conv_geom *g, int64_t batch)
{
    int64_t size = conv_chunk(g, batch);
    return (batch + size - 1) / size;
}

/* Chunks at once: as many as slots allow, and no more than there are. */
static int64_t slots_used(const vae_conv_geom *g, int64_t batch,
                          int64_t slots)
{
    int64_t chunks = chunk_count(g, batch);
    return slots < 1 ? 1 : slots < chunks ? slots : chunks;
}

int64_t vae_conv_scratch(const vae_conv_geom *g, int64_t batch, int32_t slots)
{
    return slots_used(g, batch, slots) * slot_floats(g, batch);
}

/* Slot `slot` of a batch's scratch (whole: see vae_conv_space). */
static vae_conv_space space_in(const vae_conv_geom *g, float *scratch,
                               int64_t batch, int64_t slot, int whole)
{
    int64_t chunk = conv_chunk(g, batch), pos = vae_conv_positions(g);
    float *col = scratch + slot * slot_floats(g, batch);
    float *chan = col + vae_conv_rows(g) * chunk * pos;
    float *phases = chan + g->other * chunk * pos;
    return (vae_conv_space){.col = col,
                            .chan = chan,
                            .phases = phases,
                            .dw = phases + chunk * phase_floats(g),
                            .whole = whole};
}

void vae_conv_sgemm(const vae_conv_space *sp, int ta, int tb, int64_t m,
                    int64_t n, int64_t k, const float *a, int64_t lda,
                    const float *b, int64_t ldb, float beta, float *c,
                    int64_t ldc)
{
    (sp->whole ? vae_sgemm_one : vae_sgemm)(ta, tb, m, n, k, 1.0f, a, lda, b,
                                            ldb, beta, c, ldc);
}

/* A round of chunks from chunk `first` on, one per task and slot. */
typedef struct chunk_round {
    const vae_conv_call *c;
    vae_conv_chunk_fn fn;
    int64_t batch, first;
} chunk_round;

static void run_chunk(const chunk_round *r, int64_t slot, int whole)
{
    const vae_conv_geom *g = &r->c->g;
    int64_t chunk = conv_chunk(g, r->batch), b0 = (r->first + slot) * chunk;
    vae_conv_space sp = space_in(g, r->c->n->scratch, r->batch, slot, whole);
    r->fn(r->c, &sp, b0, r->batch - b0 < chunk ? r->batch - b0 : chunk);
}

static void chunk_task(void *ctx, int64_t t) { run_chunk(ctx, t, 1); }

/* dw += the weight gradients of slots [0, parts), in slot order. */
typedef struct partial_sum {
    float *dw;
    const float *first;
    int64_t stride, parts;
} partial_sum;

VAE_CLONES
static void add_partials(void *ctx, int64_t lo, int64_t hi)
{
    const partial_sum *p = ctx;
    for (int64_t j = 0; j < p->parts; j++) {
        const float *part = p->first + j * p->stride;
        for (int64_t i = lo; i < hi; i++)
            p->dw[i] += part[i];
    }
}

void vae_conv_chunks(const vae_conv_call *c, int64_t batch,
                     vae_conv_chunk_fn chunk, float *dw)
{
    const vae_conv_geom *g = &c->g;
    int64_t chunks = chunk_count(g, batch);
    int64_t at_once = slots_used(g, batch, c->n->slots);
    if (at_once > vae_pool_threads())
        at_once = vae_pool_threads();
    vae_conv_space first = space_in(g, c->n->scratch, batch, 0, 0);
    partial_sum sum = {dw, first.dw, slot_floats(g, batch), 0};
    for (int64_t k = 0; k < chunks; k += at_once) {
        chunk_round r = {c, chunk, batch, k};
        sum.parts = chunks - k < at_once ? chunks - k : at_once;
        if (sum.parts == 1)
            run_chunk(&r, 0, 0);
        else
            vae_parallel_for(sum.parts, chunk_task, &r);
        if (dw)
            vae_parallel_ranges(vae_conv_rows(g) * g->other, VAE_POOL_GRAIN,
                                add_partials, &sum);
    }
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

/* r[o] = im[at + o s] (gather) or im[at + o s] += r[o], for o in
 * [lo, hi). Strides 1 and 2, the common ones, get loops with the stride
 * known at compile time: that halved im2col of the 32-channel
 * layer at batch 128 (6.8 -> 3.2 ms). */
static inline void move_run(float *r, float *im, int64_t at, int64_t lo,
                            int64_t hi, int64_t s, int gather)
{
    if (gather) {
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

/* d[0..n) = s[0..n). Rows here are short (7 and 14 floats for MNIST) and
 * of one length all along: a row of n >= 8 floats goes as pieces of 8, the
 * last one ending at n and overlapping the one before; shorter rows as two
 * overlapping pieces of 4 or 2. Two moves for 7 or 14 floats, where pieces
 * of 8, 4, 2 and 1 took three (im2col of the 32-channel layer, 26
 * examples: 0.43 -> 0.33 ms). */
static inline void copy_row(float *restrict d, const float *restrict s,
                            int64_t n)
{
    if (n >= 8) {
        for (int64_t i = 0; i + 8 < n; i += 8)
            memcpy(d + i, s + i, 8 * sizeof(float));
        memcpy(d + n - 8, s + n - 8, 8 * sizeof(float));
    } else if (n >= 4) {
        memcpy(d, s, 4 * sizeof(float));
        memcpy(d + n - 4, s + n - 4, 4 * sizeof(float));
    } else if (n >= 2) {
        memcpy(d, s, 2 * sizeof(float));
        memcpy(d + n - 2, s + n - 2, 2 * sizeof(float));
    } else if (n == 1) {
        d[0] = s[0];
    }
}

/* Stride 2 splits a row of the image into two phase rows, its even and
 * odd columns. Gathering each with a strided loop of a few elements (7 for
 * the conv benchmark's 32-channel layer) was a quarter of im2col's time;
 * instead the row, padded with zeros, goes into a buffer, from which blocks
 * of 8 columns of both phases are taken at once, a pattern the compiler
 * turns into vector shuffles (im2col of the 32-channel layer, 26 examples:
 * 0.33 -> 0.22 ms). Padded rows up to this many floats go this way: */
#define PAIR_BUF 256

/* The phases of one image plane for stride 2 (q->n == 2), as
 * split_phases; 0 when a padded row does not fit in PAIR_BUF. */
static inline int split_pairs(const vae_conv_geom *g, const phase_geom *q,
                              const float *im, float *ph)
{
    const int64_t p = g->p, pw = q->pw, span = 2 * pw;
    if (span > PAIR_BUF || p >= span)
        return 0;
    /* Image columns copied: those under the first span - p of the row. */
    const int64_t n = g->w < span - p ? g->w : span - p;
    float buf[PAIR_BUF];
    memset(buf, 0, (size_t)p * sizeof *buf);
    memset(buf + p + n, 0, (size_t)(PAIR_BUF - p - n) * sizeof *buf);
    for (int64_t r = 0; r < 2; r++) {
        int64_t y_lo, y_hi;
        inside_run(r - p, 2, g->h, q->ph, &y_lo, &y_hi);
        float *even = ph + 2 * r * q->ph * pw, *odd = even + q->ph * pw;
        for (int64_t y = 0; y < q->ph; y++) {
            float *e = even + y * pw, *o = odd + y * pw;
            if (y < y_lo || y >= y_hi) {
                memset(e, 0, (size_t)pw * sizeof *e);
                memset(o, 0, (size_t)pw * sizeof *o);
                continue;
            }
            /* buf[j] is column j - p of image row 2 y + r - p. */
            copy_row(buf + p, im + (2 * y + r - p) * g->w, n);
            int64_t x = 0;
            for (; x + 8 <= pw; x += 8)
                for (int k = 0; k < 8; k++) {
                    e[x + k] = buf[2 * (x + k)];
                    o[x + k] = buf[2 * (x + k) + 1];
                }
            for (; x < pw; x++) {
                e[x] = buf[2 * x];
                o[x] = buf[2 * x + 1];
            }
        }
    }
    return 1;
}

#if VAE_AVX512
/* Stride 2 over rows of at most 32 pixels, the conv benchmark's: a row is
 * two vectors of 16 lanes, split into its even and odd pixels (and joined
 * again) by two permutes. */
enum { PAIR_LANES = 16 };

static int pairs_fit(const vae_conv_geom *g)
{
    return g->s == 2 && g->w <= 2 * PAIR_LANES && g->p < PAIR_LANES &&
           __builtin_cpu_supports("avx512f");
}

__attribute__((target("avx512f"))) static inline void
deinterleave(__m512 a, __m512 z, __m512 *even, __m512 *odd)
{
    const __m512i e = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                        22, 24, 26, 28, 30);
    *even = _mm512_permutex2var_ps(a, e, z);
    *odd =
        _mm512_permutex2var_ps(a, _mm512_add_epi32(e, _mm512_set1_epi32(1)), z);
}

__attribute__((target("avx512f"))) static inline void
interleave(__m512 even, __m512 odd, __m512 *a, __m512 *z)
{
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                         21, 6, 22, 7, 23);
    *a = _mm512_permutex2var_ps(even, lo, odd);
    *z = _mm512_permutex2var_ps(
        even, _mm512_add_epi32(lo, _mm512_set1_epi32(8)), odd);
}

/* split_pairs for pairs_fit geometries: each padded image row is read
 * with two masked loads starting p floats before it (the lanes there are
 * masked off) and split in registers, where split_pairs copies it into a
 * buffer and takes the phases out of that. */
__attribute__((target("avx512f"))) static void
split_pairs_avx512(const vae_conv_geom *g, const phase_geom *q, const float *im,
                   float *ph)
{
    const int64_t p = g->p, pw = q->pw, w = g->w;
    const int64_t hi = p + w < 2 * PAIR_LANES ? p + w : 2 * PAIR_LANES;
    const __mmask16 m_lo = vae_lane_span(p, hi < PAIR_LANES ? hi : PAIR_LANES);
    const __mmask16 m_hi =
        hi > PAIR_LANES ? vae_lane_span(0, hi - PAIR_LANES) : (__mmask16)0;
    const __mmask16 m_out = vae_lane_span(0, pw);
    for (int64_t r = 0; r < 2; r++) {
        int64_t y_lo, y_hi;
        inside_run(r - p, 2, g->h, q->ph, &y_lo, &y_hi);
        float *even = ph + 2 * r * q->ph * pw, *odd = even + q->ph * pw;
        for (int64_t y = 0; y < q->ph; y++) {
            __m512 e = _mm512_setzero_ps(), o = _mm512_setzero_ps();
            if (y >= y_lo && y < y_hi) {
                /* Lane j is column j - p of image row 2 y + r - p. */
                uintptr_t at = (uintptr_t)(im + (2 * y + r - p) * w) -
                               (uintptr_t)p * sizeof(float);
                deinterleave(
                    _mm512_maskz_loadu_ps(m_lo, (const void *)at),
                    _mm512_maskz_loadu_ps(
                        m_hi, (const void *)(at + PAIR_LANES * sizeof(float))),
                    &e, &o);
            }
            _mm512_mask_storeu_ps(even + y * pw, m_out, e);
            _mm512_mask_storeu_ps(odd + y * pw, m_out, o);
        }
    }
}
#endif

/* Asks for the n floats at p to be brought into the cache. The lowering
 * visits one channel's plane of each example in turn, a whole image
 * apart: too far for the hardware prefetcher to see coming, so a task
 * asks for the plane two examples on. */
static inline void prefetch_plane(const float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i += 16)
        __builtin_prefetch(p + i);
}

/* Writes the phases of one image plane, the padding as zeros. */
static inline void split_phases(const vae_conv_geom *g, const phase_geom *q,
                                const float *im, float *ph)
{
#if VAE_AVX512
    if (q->n == 2 && q->pw <= PAIR_LANES && pairs_fit(g)) {
        split_pairs_avx512(g, q, im, ph);
        return;
    }
#endif
    if (g->s == 2 && q->n == 2 && split_pairs(g, q, im, ph))
        return;
    const int64_t s = g->s, p = g->p, pw = q->pw;
    for (int64_t r = 0; r < q->n; r++) {
        int64_t y_lo, y_hi;
        inside_run(r - p, s, g->h, q->ph, &y_lo, &y_hi);
        for (int64_t u = 0; u < q->n; u++) {
            float *phase = ph + (r * q->n + u) * q->ph * pw;
            int64_t x_lo, x_hi;
            inside_run(u - p, s, g->w, pw, &x_lo, &x_hi);
            for (int64_t y = 0; y < q->ph; y++) {
                float *row = phase + y * pw;
                if (y < y_lo || y >= y_hi) {
                    memset(row, 0, (size_t)pw * sizeof *row);
                    continue;
                }
                for (int64_t x = 0; x < x_lo; x++)
                    row[x] = 0.0f;
                for (int64_t x = x_hi; x < pw; x++)
                    row[x] = 0.0f;
                /* Element x of this row is pixel at + x s; `at` itself may
                 * lie in the padding, the run's pixels do not. */
                int64_t at = (y * s + r - p) * g->w + u - p;
                move_run(row, (float *)im, at, x_lo, x_hi, s, 1);
            }
        }
    }
}

/* A task is one image channel of examples [b0, b1): it alone writes that
 * channel's column rows and phases (im2col) or image planes (col2im), so
 * the worker pool changes no byte. */
typedef struct lower_loop {
    const vae_conv_geom *g;
    float *img, *col, *phases;
    const float *bias;
    int64_t batch, per_task, b_tasks;
} lower_loop;

typedef struct task_span {
    int64_t c, b0, b1;
} task_span;

static task_span span_of(const lower_loop *l, int64_t t)
{
    int64_t b0 = t % l->b_tasks * l->per_task;
    return (task_span){t / l->b_tasks, b0,
                       b0 + l->per_task < l->batch ? b0 + l->per_task
                                                   : l->batch};
}

VAE_CLONES
static void im2col_task(void *ctx, int64_t t)
{
    const lower_loop *l = ctx;
    const vae_conv_geom *g = l->g;
    const phase_geom q = phases_of(g);
    const task_span sp = span_of(l, t);
    const int64_t k = g->k, s = g->s, oh = g->oh, ow = g->ow, pw = q.pw;
    const int64_t n_cols = l->batch * oh * ow, plane = q.n * q.n * q.ph * pw;
    const int64_t image = g->h * g->w;
    for (int64_t b = sp.b0; b < sp.b1; b++) {
        float *ph = l->phases + (b * g->c + sp.c) * plane;
        const float *im = l->img + (b * g->c + sp.c) * image;
        if (b + 2 < sp.b1)
            prefetch_plane(im + 2 * g->c * image, image);
        split_phases(g, &q, im, ph);
        for (int64_t ki = 0; ki < k; ki++)
            for (int64_t kj = 0; kj < k; kj++) {
                float *out =
                    l->col + ((sp.c * k + ki) * k + kj) * n_cols + b * oh * ow;
                const float *in = ph + ((ki % s) * q.n + kj % s) * q.ph * pw +
                                  ki / s * pw + kj / s;
                for (int64_t oy = 0; oy < oh; oy++)
                    copy_row(out + oy * ow, in + oy * pw, ow);
            }
    }
}

#if VAE_AVX512
/* col2im_task for pairs_fit geometries: a row of the image is held as its
 * even and its odd pixels. Every tap that reaches the row adds its run of
 * window positions to one of them with a masked add, lane o + d taking
 * position o (a masked load from d floats before the run: masked-off lanes
 * are not read); then the two go back interleaved. One load and one store
 * per image row, where col2im_task adds 7-float runs at stride 2 into
 * memory, one float at a time. Each pixel gets its terms in the same order
 * (kernel row, then column), so the bytes are col2im_task's. */
enum { PAIR_KERNEL = 16 };

__attribute__((target("avx512f"))) static void
col2im_pairs(const lower_loop *l, const task_span *sp)
{
    const vae_conv_geom *g = l->g;
    const int64_t k = g->k, p = g->p, oh = g->oh, ow = g->ow, w = g->w;
    const int64_t n_cols = l->batch * oh * ow;
    /* Tap column kj: the lanes it adds to, the lane of position 0 and
     * whether it reaches the odd pixels. */
    __mmask16 lanes[PAIR_KERNEL];
    int64_t shift[PAIR_KERNEL], odd[PAIR_KERNEL];
    for (int64_t kj = 0; kj < k; kj++) {
        int64_t lo, hi;
        inside_run(kj - p, 2, w, ow, &lo, &hi);
        odd[kj] = (kj - p) & 1;
        shift[kj] = (kj - p - odd[kj]) / 2;
        lanes[kj] = hi > lo ? vae_lane_span(lo + shift[kj], hi + shift[kj]) : 0;
    }
    const int64_t first = w < PAIR_LANES ? w : PAIR_LANES;
    const __mmask16 m_lo = vae_lane_span(0, first),
                    m_hi = vae_lane_span(0, w - first);
    const int64_t plane = g->h * w, step = g->c * plane;
    for (int64_t b = sp->b0; b < sp->b1; b++) {
        float *im = l->img + (b * g->c + sp->c) * plane;
        if (b + 2 < sp->b1 && !l->bias)
            prefetch_plane(im + 2 * step, plane);
        /* Even rows, then odd ones: a masked store's vector still spans
         * the start of the next row, and a load right after it there
         * waits for the store to complete. */
        for (int64_t half = 0; half < 2; half++)
            for (int64_t y = half; y < g->h; y += 2) {
                float *row = im + y * w;
                __m512 ev, od;
                if (l->bias)
                    ev = od = _mm512_set1_ps(l->bias[sp->c]);
                else
                    deinterleave(_mm512_maskz_loadu_ps(m_lo, row),
                                 _mm512_maskz_loadu_ps(m_hi, row + first),
                                 &ev, &od);
                /* Window row oy reaches image row y through kernel row ki
                 * when 2 oy - p + ki = y. */
                for (int64_t ki = (y + p) & 1; ki < k && ki <= y + p;
                     ki += 2) {
                    int64_t oy = (y + p - ki) / 2;
                    if (oy >= oh)
                        continue;
                    const float *run = l->col + (sp->c * k + ki) * k * n_cols +
                                       (b * oh + oy) * ow;
                    for (int64_t kj = 0; kj < k; kj++, run += n_cols) {
                        uintptr_t at = (uintptr_t)run -
                                       (uintptr_t)shift[kj] * sizeof(float);
                        __m512 t =
                            _mm512_maskz_loadu_ps(lanes[kj], (const void *)at);
                        if (odd[kj])
                            od = _mm512_mask_add_ps(od, lanes[kj], od, t);
                        else
                            ev = _mm512_mask_add_ps(ev, lanes[kj], ev, t);
                    }
                }
                __m512 a, z;
                interleave(ev, od, &a, &z);
                _mm512_mask_storeu_ps(row, m_lo, a);
                _mm512_mask_storeu_ps(row + first, m_hi, z);
            }
    }
}
#endif

/* The adjoint adds straight into the image, each pixel's terms in the
 * order kernel row, then column. (Through the phases it was slower: taps
 * of one phase add into overlapping rows, and vector loads that straddle
 * the previous stores stall.) */
static void col2im_task(void *ctx, int64_t t)
{
    const lower_loop *l = ctx;
    const vae_conv_geom *g = l->g;
    const task_span sp = span_of(l, t);
#if VAE_AVX512
    if (pairs_fit(g) && g->k <= PAIR_KERNEL) {
        col2im_pairs(l, &sp);
        return;
    }
#endif
    const int64_t k = g->k, s = g->s, p = g->p, oh = g->oh, ow = g->ow;
    const int64_t plane = g->h * g->w, n_cols = l->batch * oh * ow;
    if (l->bias)
        for (int64_t b = sp.b0; b < sp.b1; b++) {
            float *im = l->img + (b * g->c + sp.c) * plane;
            for (int64_t i = 0; i < plane; i++)
                im[i] = l->bias[sp.c];
        }
    for (int64_t ki = 0; ki < k; ki++)
        for (int64_t kj = 0; kj < k; kj++) {
            float *row = l->col + ((sp.c * k + ki) * k + kj) * n_cols;
            int64_t y_lo, y_hi, x_lo, x_hi;
            inside_run(ki - p, s, g->h, oh, &y_lo, &y_hi);
            inside_run(kj - p, s, g->w, ow, &x_lo, &x_hi);
            for (int64_t b = sp.b0; b < sp.b1; b++) {
                float *im = l->img + (b * g->c + sp.c) * plane;
                for (int64_t oy = y_lo; oy < y_hi; oy++) {
                    int64_t at = (oy * s - p + ki) * g->w + kj - p;
                    move_run(row + (b * oh + oy) * ow, im, at, x_lo, x_hi, s,
                             0);
                }
            }
        }
}

static void lower(const vae_conv_geom *g, float *img, int64_t batch,
                  float *phases, float *col, const float *bias,
                  vae_task_fn task)
{
    int64_t per_channel = g->k * g->k * g->oh * g->ow;
    int64_t per = per_channel < VAE_POOL_GRAIN ? VAE_POOL_GRAIN / per_channel
                                               : 1;
    per = per < batch ? per : batch;
    lower_loop l = {g,     img, col, phases, bias,
                    batch, per, (batch + per - 1) / per};
    vae_parallel_for(g->c * l.b_tasks, task, &l);
}

void vae_im2col(const vae_conv_geom *g, const float *img, int64_t batch,
                float *phases, float *col)
{
    /* im2col_task only reads img. */
    lower(g, (float *)img, batch, phases, col, NULL, im2col_task);
}

void vae_col2im(const vae_conv_geom *g, const float *col, int64_t batch,
                const float *bias, float *img)
{
    lower(g, img, batch, NULL, (float *)col, bias, col2im_task);
}

/* The permutes and the bias gradient below, split across the
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

/* dst += src, or dst = src + bias when there is a bias: the conv2d
 * forward's output in one pass rather than a bias fill and an add (the
 * same sums: a float addition does not depend on its order of operands). */
VAE_CLONES
static void from_channel_major(void *ctx, int64_t lo, int64_t hi)
{
    const plane_loop *l = ctx;
    int64_t batch = l->batch, channels = l->channels, n = l->n;
    for (int64_t b = lo; b < hi; b++)
        for (int64_t c = 0; c < channels; c++) {
            const float *s = l->src + (c * batch + b) * n;
            float *d = l->dst + (b * channels + c) * n;
            if (l->bias)
                for (int64_t i = 0; i < n; i++)
                    d[i] = s[i] + l->bias[c];
            else
                for (int64_t i = 0; i < n; i++)
                    d[i] += s[i];
        }
}

void vae_add_from_channel_major(const float *src, int64_t batch,
                                int64_t channels, int64_t n, float *dst)
{
    plane_loop l = {src, dst, NULL, batch, channels, n};
    vae_parallel_ranges(batch, example_grain(channels, n), from_channel_major,
                        &l);
}

void vae_from_channel_major_bias(const float *src, const float *bias,
                                 int64_t batch, int64_t channels, int64_t n,
                                 float *dst)
{
    plane_loop l = {src, dst, bias, batch, channels, n};
    vae_parallel_ranges(batch, example_grain(channels, n), from_channel_major,
                        &l);
}

/* Eight double lanes per channel, each row's element i into lane i % 8,
 * then the lanes in order: the compiler keeps a channel's lanes in vector
 * registers while it adds a row, where one running sum waited for each
 * addition before the next (2.9% of the conv benchmark's step). dy is
 * read in its own order, examples outer and a block of channels inner,
 * the block's lanes in L1: a channel at a time jumped a whole example
 * ahead for every plane of a few hundred bytes, and at two threads took
 * twice the time it took at one. A fixed order per channel: the sums do
 * not depend on the thread count. */
enum { BIAS_BLOCK = 64 };

VAE_CLONES
static void add_bias_grad(void *ctx, int64_t lo, int64_t hi)
{
    const plane_loop *l = ctx;
    int64_t batch = l->batch, channels = l->channels, n = l->n;
    for (int64_t c0 = lo; c0 < hi; c0 += BIAS_BLOCK) {
        int64_t c1 = hi - c0 < BIAS_BLOCK ? hi : c0 + BIAS_BLOCK;
        double lane[BIAS_BLOCK][8] = {{0}};
        for (int64_t b = 0; b < batch; b++)
            for (int64_t c = c0; c < c1; c++) {
                const float *d = l->src + (b * channels + c) * n;
                double *sum = lane[c - c0];
                int64_t i = 0;
                for (; i + 8 <= n; i += 8)
                    for (int k = 0; k < 8; k++)
                        sum[k] += d[i + k];
                for (int k = 0; i + k < n; k++)
                    sum[k] += d[i + k];
            }
        for (int64_t c = c0; c < c1; c++) {
            double sum = 0.0;
            for (int k = 0; k < 8; k++)
                sum += lane[c - c0][k];
            l->dst[c] += (float)sum;
        }
    }
}

void vae_add_bias_grad(const float *dy, int64_t batch, int64_t channels,
                       int64_t n, float *db)
{
    plane_loop l = {dy, db, NULL, batch, channels, n};
    int64_t threads = vae_pool_threads();
    vae_parallel_ranges(channels, (channels + threads - 1) / threads,
                        add_bias_grad, &l);
}
