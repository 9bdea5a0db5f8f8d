/* sgemm_avx512.c - a matrix product with AVX-512 multiply-adds.
 *
 * Why the library has one: OpenBLAS picks its kernels for the CPU it finds
 * unless told otherwise (OPENBLAS_CORETYPE), and a build or setting that
 * leaves it on AVX2 halves the speed of every product on an AVX-512 CPU;
 * the products of the benchmark models are also small in one dimension
 * (k = 16 to 64 for the convolutions' column matrices), where OpenBLAS's
 * AVX-512 kernels reach 55-65% of their peak. docs/performance.md has the
 * measurements that decided it.
 *
 * The scheme is the usual one (Goto and van de Geijn): a block of op(B),
 * KC rows by NC columns, is copied into panels of NR columns that stay in
 * L2; each tile of C, MR rows by up to NR columns, is MR x 3 vector
 * accumulators that read one panel row and MR values of op(A) per step of
 * k. op(A) is read where it lies (a row of A, or of A^T, is MR pointers
 * into it), so only B is copied. A tile sums its k in order, KC at a time,
 * adding each block's sum to C: every element's sum depends on k alone,
 * never on how C is cut, which is what gemm.c's thread blocks need. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"
#include "sgemm_avx512.h"
#include "simd.h"

#if VAE_AVX512

enum {
    LANES = 16,     /* floats in a vector */
    MR = 8,         /* rows of a tile */
    NR = 3 * LANES, /* columns of a panel, of a tile at most */
    KC = 256,       /* rows of op(B) in a block */
    NC = 8 * NR     /* columns of op(B) in a block */
};

/* The tile loops are unrolled whole, so that the accumulators are
 * registers. */
#define VAE_UNROLL _Pragma("GCC unroll 8")

/* The first n lanes of a mask, all 16 for n >= 16 (n >= 0). */
static inline __mmask16 first_lanes(int64_t n)
{
    return vae_lane_span(0, n < LANES ? n : LANES);
}

/* The 16 vectors r[0..15] as the columns of the 16 x 16 matrix they were
 * the rows of. */
__attribute__((target("avx512f"))) static inline void transpose16(__m512 *r)
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* Then r[4g + c], lane L: rows 4g..4g+3 of column 4L + c. */
    for (int i = 0; i < 16; i += 4)
        for (int h = 0; h < 2; h++) {
            __m512d x = _mm512_castps_pd(t[i + h]);
            __m512d y = _mm512_castps_pd(t[i + h + 2]);
            r[i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(x, y));
            r[i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(x, y));
        }
    for (int c = 0; c < 4; c++) {
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
        t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
        r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xdd);
    }
}

/* Packs rows [0, kc) and columns [0, nc) of op(B), b pointing at its
 * element (0, 0): panel p holds columns [p NR, p NR + w), w <= NR, as kc
 * rows of `stride` floats, w rounded up to whole vectors (the lanes past
 * nc are 0). */
__attribute__((target("avx512f"))) static void
pack_b(int tb, const float *b, int64_t ldb, int64_t kc, int64_t nc, float *pack)
{
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
        int64_t w = nc - j0 < NR ? nc - j0 : NR;
        int64_t stride = (w + LANES - 1) / LANES * LANES;
        float *panel = pack + j0 * kc;
        if (!tb) { /* rows of B */
            for (int64_t k = 0; k < kc; k++)
                for (int64_t v = 0; v < stride; v += LANES)
                    _mm512_store_ps(
                        panel + k * stride + v,
                        _mm512_maskz_loadu_ps(first_lanes(w - v),
                                              b + k * ldb + j0 + v));
            continue;
        }
        /* Columns of B^T, 16 x 16 at a time: rows j of B are read along k
         * and turned into rows of the panel. */
        for (int64_t v = 0; v < stride; v += LANES)
            for (int64_t k0 = 0; k0 < kc; k0 += LANES) {
                __mmask16 km = first_lanes(kc - k0);
                __m512 r[16];
                for (int64_t i = 0; i < LANES; i++)
                    r[i] = j0 + v + i < nc
                               ? _mm512_maskz_loadu_ps(
                                     km, b + (j0 + v + i) * ldb + k0)
                               : _mm512_setzero_ps();
                transpose16(r);
                for (int64_t q = 0; q < LANES && k0 + q < kc; q++)
                    _mm512_store_ps(panel + (k0 + q) * stride + v, r[q]);
            }
    }
}

/* Where a block's sums go: C's rows [0, m) at c, and how. On the first
 * block of k, C = alpha sum + bias row when b1 is not NULL (b1[j], plus
 * b2[j] when not NULL: C is not read), else alpha sum + beta C (C unread
 * when beta is 0); on later blocks, C += alpha sum. */
typedef struct output {
    float *c;
    int64_t ldc;
    float alpha, beta;
    const float *b1, *b2;
    int first;
} output;

/* One tile: rows i of op(A) at ar[i][k * ks], k in [0, kc), times a panel
 * of nv vectors per row, into C's `rows` rows from row i0, column j0;
 * lanes `last` of the last vector. */
__attribute__((target("avx512f"), always_inline)) static inline void
tile(int nv, const float *const *ar, int64_t ks, int64_t kc, const float *panel,
     const output *o, int64_t i0, int64_t j0, int64_t rows, __mmask16 last)
{
    __m512 acc[MR][3];
    VAE_UNROLL
    for (int i = 0; i < MR; i++) {
        VAE_UNROLL
        for (int v = 0; v < nv; v++)
            acc[i][v] = _mm512_setzero_ps();
    }
    for (int64_t k = 0; k < kc; k++) {
        const float *row = panel + k * nv * LANES;
        __m512 bv[3];
        VAE_UNROLL
        for (int v = 0; v < nv; v++)
            bv[v] = _mm512_load_ps(row + v * LANES);
        VAE_UNROLL
        for (int i = 0; i < MR; i++) {
            __m512 x = _mm512_set1_ps(ar[i][k * ks]);
            VAE_UNROLL
            for (int v = 0; v < nv; v++)
                acc[i][v] = _mm512_fmadd_ps(x, bv[v], acc[i][v]);
        }
    }
    __m512 va = _mm512_set1_ps(o->alpha), vb = _mm512_set1_ps(o->beta);
    __m512 bias[3];
    VAE_UNROLL
    for (int v = 0; v < nv; v++) {
        __mmask16 mask = v == nv - 1 ? last : 0xffff;
        bias[v] = _mm512_setzero_ps();
        if (o->first && o->b1) {
            bias[v] = _mm512_maskz_loadu_ps(mask, o->b1 + j0 + v * LANES);
            if (o->b2)
                bias[v] = _mm512_add_ps(
                    bias[v],
                    _mm512_maskz_loadu_ps(mask, o->b2 + j0 + v * LANES));
        }
    }
    VAE_UNROLL
    for (int i = 0; i < MR; i++) {
        if (i >= rows)
            break;
        VAE_UNROLL
        for (int v = 0; v < nv; v++) {
            __mmask16 mask = v == nv - 1 ? last : 0xffff;
            float *p = o->c + (i0 + i) * o->ldc + j0 + v * LANES;
            __m512 s = _mm512_mul_ps(va, acc[i][v]);
            if (!o->first)
                s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(mask, p));
            else if (o->b1)
                s = _mm512_add_ps(s, bias[v]);
            else if (o->beta != 0.0f)
                s = _mm512_add_ps(
                    s, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask, p)));
            _mm512_mask_storeu_ps(p, mask, s);
        }
    }
}

/* tile() for a panel of 1 to 3 vectors, each width its own body so that
 * the accumulators are registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
tile_of_width(int nv, const float *const *ar, int64_t ks, int64_t kc,
              const float *panel, const output *o, int64_t i0, int64_t j0,
              int64_t rows, __mmask16 last)
{
    if (nv == 3)
        tile(3, ar, ks, kc, panel, o, i0, j0, rows, last);
    else if (nv == 2)
        tile(2, ar, ks, kc, panel, o, i0, j0, rows, last);
    else
        tile(1, ar, ks, kc, panel, o, i0, j0, rows, last);
}

/* The tiles of one packed block against rows [0, m) of op(A). a points at
 * op(A)'s element (0, 0) of the block; row i, step k of op(A) is
 * a[i * rs + k * ks]. Rows past m repeat row m - 1 and are not stored. */
__attribute__((target("avx512f"))) static void
block(const float *a, int64_t rs, int64_t ks, int64_t m, int64_t kc, int64_t nc,
      const float *pack, const output *o)
{
    for (int64_t i0 = 0; i0 < m; i0 += MR) {
        const float *ar[MR];
        for (int64_t i = 0; i < MR; i++)
            ar[i] = a + (i0 + i < m ? i0 + i : m - 1) * rs;
        for (int64_t j0 = 0; j0 < nc; j0 += NR) {
            int64_t w = nc - j0 < NR ? nc - j0 : NR;
            int nv = (int)((w + LANES - 1) / LANES);
            __mmask16 last = first_lanes(w - (nv - 1) * LANES);
            const float *panel = pack + j0 * kc;
            /* A row of A that steps by 1 (not transposed) gets bodies of
             * its own, with a constant step. */
            if (ks == 1)
                tile_of_width(nv, ar, 1, kc, panel, o, i0, j0, m - i0, last);
            else
                tile_of_width(nv, ar, ks, kc, panel, o, i0, j0, m - i0, last);
        }
    }
}

/* Each thread's block of B, allocated on its first product and freed when
 * it exits: 384 KiB, too much for a stack, and a product allocates
 * nothing once its thread has one. */
static pthread_key_t pack_key;
static pthread_once_t pack_once = PTHREAD_ONCE_INIT;
static int pack_key_made;

static void make_pack_key(void)
{
    pack_key_made = pthread_key_create(&pack_key, free) == 0;
}

static float *thread_pack(void)
{
    pthread_once(&pack_once, make_pack_key);
    if (!pack_key_made)
        return NULL;
    char *mem = pthread_getspecific(pack_key);
    if (!mem) {
        mem = vae_malloc(KC * NC * sizeof(float) + 64);
        if (mem && pthread_setspecific(pack_key, mem) != 0) {
            free(mem);
            mem = NULL;
        }
        if (!mem)
            return NULL;
    }
    return (float *)(mem + (64 - (uintptr_t)mem % 64));
}

int vae_sgemm_avx512_reserve(void)
{
    return !__builtin_cpu_supports("avx512f") || thread_pack() != NULL;
}

int vae_sgemm_avx512(int ta, int tb, int64_t m, int64_t n, int64_t k,
                     float alpha, const float *a, int64_t lda, const float *b,
                     int64_t ldb, float beta, const float *b1, const float *b2,
                     float *c, int64_t ldc)
{
    /* alpha 0: BLAS reads neither A nor B (NaN there stays out). */
    if (m <= 0 || n <= 0 || k <= 0 || alpha == 0.0f ||
        !__builtin_cpu_supports("avx512f"))
        return 0;
    float *pack = thread_pack();
    if (!pack)
        return 0;
    int64_t rs = ta ? 1 : lda, ks = ta ? lda : 1;
    for (int64_t j0 = 0; j0 < n; j0 += NC) {
        int64_t nc = n - j0 < NC ? n - j0 : NC;
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            int64_t kc = k - k0 < KC ? k - k0 : KC;
            pack_b(tb, b + (tb ? j0 * ldb + k0 : k0 * ldb + j0), ldb, kc, nc,
                   pack);
            const output o = {c + j0,
                              ldc,
                              alpha,
                              beta,
                              b1 ? b1 + j0 : NULL,
                              b2 ? b2 + j0 : NULL,
                              k0 == 0};
            block(a + k0 * ks, rs, ks, m, kc, nc, pack, &o);
        }
    }
    return 1;
}

#else

int vae_sgemm_avx512_reserve(void)
{
    return 1;
}

int vae_sgemm_avx512(int ta, int tb, int64_t m, int64_t n, int64_t k,
                     float alpha, const float *a, int64_t lda, const float *b,
                     int64_t ldb, float beta, const float *b1, const float *b2,
                     float *c, int64_t ldc)
{
    (void)ta, (void)tb, (void)m, (void)n, (void)k, (void)alpha, (void)a;
    (void)lda, (void)b, (void)ldb, (void)beta, (void)b1, (void)b2, (void)c;
    (void)ldc;
    return 0;
}

#endif
