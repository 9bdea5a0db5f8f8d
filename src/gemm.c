/* gemm.c - matrix products over the worker pool.
 *
 * A product runs as libvae's own AVX-512 product (sgemm_avx512.c) where
 * the CPU has AVX-512 and the build has the vector code, else as
 * cblas_sgemm. With several threads, vae_set_num_threads sets OpenBLAS to
 * one thread (threads.c) and a product is cut here into one block of C
 * per thread, each a product of its own. OpenBLAS's own threading splits
 * the small products of these models badly (a 128 x 784 x 400 product
 * gained 16% from a second thread, docs/performance.md), and its pool
 * would compete with the library's workers for the cores. A block is
 * whole columns (split along n) or whole rows (along m), of the larger
 * dimension, so the operand every block re-reads is the smaller one.
 *
 * The blocks depend on the shape and the thread count alone, never on
 * which threads are free, so a thread count gives the same bytes every
 * time. Across counts: libvae's own product sums each element in an order
 * that depends on k alone, so every count gives one thread's bytes. With
 * OpenBLAS, whether a product's elements are the same sums split and
 * whole depends on its kernels. Its AVX-512 (SkylakeX) kernels block k
 * independently of m and n, and every product of the benchmark models was
 * bit-identical split and whole, except where a block falls into one of
 * its routes for small products, which sum differently ("small matrix"
 * kernels up to 100^3 multiply-adds, and for NN products with alpha 1 and
 * beta 0 a "direct" kernel below 28 x 512 x 512, in 0.3.21): so blocks are
 * kept above those sizes, and with those kernels every thread count gives
 * one thread's bytes. Its Haswell (AVX2) kernels give other last bits for
 * most splits. tests/test_pool.c checks both. */
#include <cblas.h>

#include "gemm.h"
#include "pool.h"
#include "sgemm_avx512.h"

/* The fewest multiply-adds a block may have (see above); a product too
 * small to split so runs whole on the caller, where a split would cost
 * more than it saves anyway. */
#define SMALL_MACS ((int64_t)1000000)
#define DIRECT_MACS ((int64_t)28 * 512 * 512)
/* Block edges fall on multiples of this: the kernels' register blocks
 * (16 floats for AVX-512) stay whole. */
#define ALIGN 16

/* A product and its blocks for the pool's threads. */
typedef struct product {
    vae_gemm g;
    int64_t parts;
    int by_rows;
} product;

/* Rows and columns m x n of g's product, from a, b into c, the bias rows
 * (if any) from b1, b2. */
static void call(const vae_gemm *g, int64_t m, int64_t n, const float *a,
                 const float *b, const float *b1, const float *b2, float *c)
{
    if (vae_sgemm_avx512(g->ta, g->tb, m, n, g->k, g->alpha, a, g->lda, b,
                         g->ldb, g->beta, b1, b2, c, g->ldc))
        return;
    if (b1) /* then beta is 1: the product adds to the bias */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * g->ldc + j] = b2 ? b1[j] + b2[j] : b1[j];
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                g->tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)g->k,
                g->alpha, a, (int)g->lda, b, (int)g->ldb, g->beta, c,
                (int)g->ldc);
}

/* The whole product, one call on this thread. */
static void whole(const vae_gemm *g)
{
    call(g, g->m, g->n, g->a, g->b, g->b1, g->b2, g->c);
}

/* Start of block t of `parts` over `len`, on ALIGN boundaries. */
static int64_t edge(int64_t t, int64_t parts, int64_t len)
{
    if (t >= parts)
        return len;
    int64_t e = len * t / parts / ALIGN * ALIGN;
    return e < len ? e : len;
}

static void block(void *ctx, int64_t t)
{
    const product *p = ctx;
    const vae_gemm *g = &p->g;
    int64_t len = p->by_rows ? g->m : g->n;
    int64_t lo = edge(t, p->parts, len), hi = edge(t + 1, p->parts, len);
    if (hi <= lo)
        return;
    if (p->by_rows) /* rows lo..hi of op(A), of C */
        call(g, hi - lo, g->n, g->a + (g->ta ? lo : lo * g->lda), g->b, g->b1,
             g->b2, g->c + lo * g->ldc);
    else /* columns lo..hi of op(B), of C, of the bias rows */
        call(g, g->m, hi - lo, g->a, g->b + (g->tb ? lo * g->ldb : lo),
             g->b1 ? g->b1 + lo : NULL, g->b2 ? g->b2 + lo : NULL,
             g->c + lo);
}

/* Blocks for the pool's threads: as many as threads, fewer when the
 * smallest block would have `least` multiply-adds or fewer (or no whole
 * ALIGN of the split dimension). */
static int64_t parts_for(int64_t len, int64_t macs_per_line, int64_t least)
{
    int64_t parts = vae_pool_threads();
    for (; parts > 1; parts--) {
        int64_t smallest = len;
        for (int64_t t = 0; t < parts; t++) {
            int64_t w = edge(t + 1, parts, len) - edge(t, parts, len);
            smallest = w < smallest ? w : smallest;
        }
        if (smallest >= ALIGN && smallest * macs_per_line > least)
            break;
    }
    return parts;
}

void vae_sgemm_one(int ta, int tb, int64_t m, int64_t n, int64_t k,
                   float alpha, const float *a, int64_t lda, const float *b,
                   int64_t ldb, float beta, float *c, int64_t ldc)
{
    const vae_gemm g = {ta, tb,  m,    n, k,   alpha, a,    lda,
                        b,  ldb, beta, c, ldc, NULL,  NULL};
    whole(&g);
}

/* The blocks of g for the pool's threads. */
static product plan(const vae_gemm *g)
{
    product p = {*g, 1, g->m > g->n};
    int direct = !g->ta && !g->tb && g->alpha == 1.0f && g->beta == 0.0f;
    p.parts = parts_for(p.by_rows ? g->m : g->n,
                        (p.by_rows ? g->n : g->m) * g->k,
                        direct ? DIRECT_MACS : SMALL_MACS);
    return p;
}

static void run(product *p)
{
    if (p->parts > 1)
        vae_parallel_for(p->parts, block, p);
    else
        whole(&p->g);
}

void vae_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc)
{
    const vae_gemm g = {ta, tb,  m,    n, k,   alpha, a,    lda,
                        b,  ldb, beta, c, ldc, NULL,  NULL};
    product p = plan(&g);
    run(&p);
}

void vae_sgemm_bias(int ta, int tb, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, const float *b, int64_t ldb,
                    const float *b1, const float *b2, float *c, int64_t ldc)
{
    const vae_gemm g = {ta, tb,  m,    n, k,   1.0f, a,  lda,
                        b,  ldb, 1.0f, c, ldc, b1,   b2};
    product p = plan(&g);
    run(&p);
}

static void whole_task(void *ctx, int64_t t)
{
    whole(&((const product *)ctx)[t].g);
}

void vae_sgemm_pair(const vae_gemm *x, const vae_gemm *y)
{
    product p[2] = {plan(x)};
    if (y)
        p[1] = plan(y);
    if (y && p[0].parts == 1 && p[1].parts == 1) {
        vae_parallel_for(2, whole_task, p);
        return;
    }
    run(&p[0]);
    if (y)
        run(&p[1]);
}
