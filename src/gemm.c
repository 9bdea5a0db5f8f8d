/* gemm.c - matrix products over the worker pool.
 *
 * With several threads, vae_set_num_threads sets OpenBLAS to one thread
 * (threads.c) and a product is cut here into one block of C per thread,
 * each a cblas_sgemm of its own. OpenBLAS's own threading splits the
 * small products of these models badly (a 128 x 784 x 400 product gained
 * 16% from a second thread, docs/performance.md), and its pool would
 * compete with the library's workers for the cores. A block is whole
 * columns (split along n) or whole rows (along m), of the larger
 * dimension, so the operand every block re-reads is the smaller one.
 *
 * The blocks depend on the shape and the thread count alone, never on
 * which threads are free, so a thread count gives the same bytes every
 * time. Across counts they may differ in the last bits, as OpenBLAS's own
 * threading did: whether a product's elements are the same sums split and
 * whole depends on OpenBLAS's kernels. Its AVX-512 (SkylakeX) kernels
 * block k independently of m and n, and every product of the benchmark
 * models was bit-identical split and whole, except where a block falls
 * into one of its routes for small products, which sum differently ("small
 * matrix" kernels up to 100^3 multiply-adds, and for NN products with
 * alpha 1 and beta 0 a "direct" kernel below 28 x 512 x 512, in 0.3.21):
 * so blocks are kept above those sizes, and with those kernels every
 * thread count gives one thread's bytes. Its Haswell (AVX2) kernels give
 * other last bits for most splits. tests/test_pool.c checks both. */
#include <cblas.h>

#include "gemm.h"
#include "pool.h"

/* The fewest multiply-adds a block may have (see above); a product too
 * small to split so runs whole on the caller, where a split would cost
 * more than it saves anyway. */
#define SMALL_MACS ((int64_t)1000000)
#define DIRECT_MACS ((int64_t)28 * 512 * 512)
/* Block edges fall on multiples of this: the kernels' register blocks
 * (16 floats for AVX-512) stay whole. */
#define ALIGN 16

typedef struct product {
    int ta, tb;
    int64_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
    int64_t parts;
    int by_rows;
} product;

static void call(const product *p, int64_t m, int64_t n, const float *a,
                 const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans,
                p->tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)p->k,
                p->alpha, a, (int)p->lda, b, (int)p->ldb, p->beta, c,
                (int)p->ldc);
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
    int64_t len = p->by_rows ? p->m : p->n;
    int64_t lo = edge(t, p->parts, len), hi = edge(t + 1, p->parts, len);
    if (hi <= lo)
        return;
    if (p->by_rows) /* rows lo..hi of op(A), of C */
        call(p, hi - lo, p->n, p->a + (p->ta ? lo : lo * p->lda), p->b,
             p->c + lo * p->ldc);
    else /* columns lo..hi of op(B), of C */
        call(p, p->m, hi - lo, p->a, p->b + (p->tb ? lo * p->ldb : lo),
             p->c + lo);
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
    product p = {ta, tb, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c, 1, 0};
    call(&p, m, n, a, b, c);
}

/* The blocks of a product for the pool's threads. */
static product plan(int ta, int tb, int64_t m, int64_t n, int64_t k,
                    float alpha, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float beta, float *c, int64_t ldc)
{
    product p = {ta, tb, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c, 1,
                 m > n};
    int direct = !ta && !tb && alpha == 1.0f && beta == 0.0f;
    p.parts = parts_for(p.by_rows ? m : n, (p.by_rows ? n : m) * k,
                        direct ? DIRECT_MACS : SMALL_MACS);
    return p;
}

static void run(product *p)
{
    if (p->parts > 1)
        vae_parallel_for(p->parts, block, p);
    else
        call(p, p->m, p->n, p->a, p->b, p->c);
}

void vae_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc)
{
    product p = plan(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    run(&p);
}

static void whole_task(void *ctx, int64_t t)
{
    const product *p = (const product *)ctx + t;
    call(p, p->m, p->n, p->a, p->b, p->c);
}

static product plan_of(const vae_gemm *g)
{
    return plan(g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a, g->lda, g->b,
                g->ldb, g->beta, g->c, g->ldc);
}

void vae_sgemm_pair(const vae_gemm *x, const vae_gemm *y)
{
    product p[2] = {plan_of(x)};
    if (y)
        p[1] = plan_of(y);
    if (y && p[0].parts == 1 && p[1].parts == 1) {
        vae_parallel_for(2, whole_task, p);
        return;
    }
    run(&p[0]);
    if (y)
        run(&p[1]);
}
