/* gemm.c - matrix products over the worker pool.
 *
 * With several threads, vae_set_num_threads sets OpenBLAS to one thread
 * (threads.c) and a product is cut here into one block of C per thread,
 * each a cblas_sgemm of its own. OpenBLAS's own threading splits the small
 * products of these models badly (a 128 x 784 x 400 product gained 16%
 * from a second thread, docs/performance.md), and its pool would compete
 * with the library's workers for the cores. A block is whole columns
 * (split along n) or whole rows (along m), of the larger dimension, so the
 * operand every block re-reads is the smaller one. Each element of C is
 * the same sum of the same k products whatever the block: OpenBLAS blocks
 * k by its own fixed sizes, independent of m and n, which made every
 * product of the benchmark models bit-identical split and whole, with
 * AVX2 and AVX-512 kernels alike (tests/test_threads.c checks whole models
 * across thread counts). */
#include <cblas.h>

#include "gemm.h"
#include "pool.h"

/* Products below this many multiply-adds run whole on the caller: a split
 * costs a wake-up and two smaller, less efficient calls. */
#define SPLIT_MIN_MACS ((int64_t)1 << 18)
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

void vae_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc)
{
    product p = {ta, tb, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c, 1,
                 m > n};
    int64_t len = p.by_rows ? m : n;
    int64_t threads = vae_pool_threads();
    if (threads > 1 && m * n * k >= SPLIT_MIN_MACS && len >= 2 * ALIGN) {
        p.parts = threads < len / ALIGN ? threads : len / ALIGN;
        vae_parallel_for(p.parts, block, &p);
    } else {
        call(&p, m, n, a, b, c);
    }
}
