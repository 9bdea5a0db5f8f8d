/* The library's own AVX-512 matrix product (src/sgemm_avx512.c).
 *
 * Every element against a double-precision sum within float rounding's
 * bound, over all four transpose cases and the shapes around its blocks
 * (tiles of 8 rows, vectors of 16 columns, panels of 48, blocks of 256 k
 * and 384 columns), leading dimensions wider than the matrices, and
 * alpha and beta; C outside the product untouched and, with beta 0, never
 * read (NaN there stays out), nor with bias rows, whose bytes are those
 * of rows filled with the bias and the product added; no read past the
 * operands' ends. Then the property gemm.c's thread blocks
 * rely on: a block of rows or columns computed alone has the whole
 * product's bytes.
 *
 * On a CPU without AVX-512, and in builds without the vector code (the
 * sanitizer builds; valgrind hides AVX-512), the function declines and
 * these tests are skipped, saying so. */
#define _DEFAULT_SOURCE
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "sgemm_avx512.h"
#include "testutil.h"

/* Marks C's elements outside the product. */
#define SENTINEL 12345.0f

/* One product's operands, op(A) m x k and op(B) k x n, stored with
 * leading dimensions wider than their rows. */
typedef struct operands {
    int ta, tb;
    int64_t m, n, k, lda, ldb, ldc;
    float *a, *b, *c;
} operands;

static float elem(const float *x, int64_t ld, int t, int64_t i, int64_t j)
{
    return t ? x[j * ld + i] : x[i * ld + j];
}

static operands make(tu_rng *r, int ta, int tb, int64_t m, int64_t n, int64_t k)
{
    operands o = {ta,    tb,   m,    n,   k, (ta ? m : k) + 3, (tb ? k : n) + 5,
                  n + 2, NULL, NULL, NULL};
    int64_t a_rows = ta ? k : m, b_rows = tb ? n : k;
    o.a = tu_alloc((size_t)(a_rows * o.lda) * sizeof(float));
    o.b = tu_alloc((size_t)(b_rows * o.ldb) * sizeof(float));
    o.c = tu_alloc((size_t)(m * o.ldc) * sizeof(float));
    tu_fill_uniform(r, o.a, a_rows * o.lda, -1.0, 1.0);
    tu_fill_uniform(r, o.b, b_rows * o.ldb, -1.0, 1.0);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < o.ldc; j++)
            o.c[i * o.ldc + j] =
                j < n ? (float)tu_uniform(r, -1.0, 1.0) : SENTINEL;
    return o;
}

static void release(operands *o)
{
    free(o->a);
    free(o->b);
    free(o->c);
}

static int multiply(const operands *o, float alpha, float beta, float *c)
{
    return vae_sgemm_avx512(o->ta, o->tb, o->m, o->n, o->k, alpha, o->a, o->lda,
                            o->b, o->ldb, beta, NULL, NULL, c, o->ldc);
}

/* C against sums in double: each element within (k + 2) float roundings
 * of the sizes it sums, columns past n unchanged. */
static void check(const operands *o, float alpha, float beta, const float *c0,
                  const float *c)
{
    for (int64_t i = 0; i < o->m; i++) {
        for (int64_t j = 0; j < o->n; j++) {
            double s = 0.0, size = 0.0;
            for (int64_t q = 0; q < o->k; q++) {
                double p = (double)elem(o->a, o->lda, o->ta, i, q) *
                           elem(o->b, o->ldb, o->tb, q, j);
                s += p;
                size += fabs(p);
            }
            double c_in = beta != 0.0f ? (double)c0[i * o->ldc + j] : 0.0;
            double want = alpha * s + beta * c_in;
            double tol = (double)(o->k + 2) * FLT_EPSILON *
                         (fabs(alpha) * size + fabs(beta * c_in));
            double got = c[i * o->ldc + j];
            if (!(fabs(got - want) <= tol))
                fail_msg("%c%c %lld x %lld x %lld, alpha %g beta %g: "
                         "C[%lld][%lld] = %.9g, not %.9g (tolerance %.3g)",
                         o->ta ? 'T' : 'N', o->tb ? 'T' : 'N', (long long)o->m,
                         (long long)o->n, (long long)o->k, alpha, beta,
                         (long long)i, (long long)j, got, want, tol);
        }
        for (int64_t j = o->n; j < o->ldc; j++)
            if (c[i * o->ldc + j] != SENTINEL)
                fail_msg("C[%lld][%lld], outside the product, was written",
                         (long long)i, (long long)j);
    }
}

/* Skips the calling test (cmocka's skip() leaves it from here) where the
 * product declines every call. */
static void require_product(void)
{
    float a = 1.0f, b = 2.0f, c = 0.0f;
    if (vae_sgemm_avx512(0, 0, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, NULL, NULL,
                         &c, 1))
        return;
    print_message("no AVX-512 product on this CPU or in this build: "
                  "skipped\n");
    skip();
}

static void test_matches_double_sums(void **state)
{
    (void)state;
    require_product();
    const int64_t ms[] = {1, 7, 8, 9, 23};
    const int64_t ns[] = {1, 15, 16, 17, 48, 49, 100, 385};
    const int64_t ks[] = {1, 3, 256, 257, 600};
    const float alphas[] = {1.0f, -0.5f};
    const float betas[] = {0.0f, 1.0f, 0.25f};
    tu_rng r;
    tu_seed(&r, 7);
    int products = 0;
    for (int t = 0; t < 4; t++)
        for (int im = 0; im < TU_COUNT(ms); im++)
            for (int in = 0; in < TU_COUNT(ns); in++)
                for (int ik = 0; ik < TU_COUNT(ks); ik++) {
                    operands o =
                        make(&r, t >> 1, t & 1, ms[im], ns[in], ks[ik]);
                    size_t bytes = (size_t)(o.m * o.ldc) * sizeof(float);
                    float *c = tu_alloc(bytes);
                    /* Every alpha and beta over the shapes, not every pair
                     * with every shape. */
                    float alpha = alphas[(im + ik) % TU_COUNT(alphas)];
                    float beta = betas[(in + t) % TU_COUNT(betas)];
                    memcpy(c, o.c, bytes);
                    assert_true(multiply(&o, alpha, beta, c));
                    check(&o, alpha, beta, o.c, c);
                    free(c);
                    release(&o);
                    products++;
                }
    print_message("%d products within float rounding of double sums\n",
                  products);
}

/* With beta 0 the product does not read C: NaN there is overwritten. */
static void test_beta_zero_does_not_read_c(void **state)
{
    (void)state;
    require_product();
    tu_rng r;
    tu_seed(&r, 8);
    for (int t = 0; t < 4; t++) {
        operands o = make(&r, t >> 1, t & 1, 13, 70, 300);
        float *c0 = tu_dup(o.c, o.m * o.ldc);
        for (int64_t i = 0; i < o.m; i++)
            for (int64_t j = 0; j < o.n; j++)
                o.c[i * o.ldc + j] = NAN;
        assert_true(multiply(&o, 1.0f, 0.0f, o.c));
        check(&o, 1.0f, 0.0f, c0, o.c);
        free(c0);
        release(&o);
    }
}

/* With bias rows the product stores op(A) op(B) + b1 (+ b2) in every row
 * without reading C: the bytes of filling the rows with b1[j] + b2[j] and
 * adding the product with beta 1, over several blocks of k too. */
static void test_bias_rows(void **state)
{
    (void)state;
    require_product();
    tu_rng r;
    tu_seed(&r, 11);
    const int64_t ks[] = {5, 300};
    for (int t = 0; t < 4; t++)
        for (int ik = 0; ik < TU_COUNT(ks); ik++)
            for (int two = 0; two < 2; two++) {
                operands o = make(&r, t >> 1, t & 1, 19, 101, ks[ik]);
                float *b1 = tu_alloc((size_t)o.n * sizeof(float));
                float *b2 = tu_alloc((size_t)o.n * sizeof(float));
                tu_fill_uniform(&r, b1, o.n, -1.0, 1.0);
                tu_fill_uniform(&r, b2, o.n, -1.0, 1.0);
                float *want = tu_dup(o.c, o.m * o.ldc);
                for (int64_t i = 0; i < o.m; i++)
                    for (int64_t j = 0; j < o.n; j++) {
                        want[i * o.ldc + j] = two ? b1[j] + b2[j] : b1[j];
                        o.c[i * o.ldc + j] = NAN;
                    }
                assert_true(multiply(&o, 1.0f, 1.0f, want));
                assert_true(vae_sgemm_avx512(o.ta, o.tb, o.m, o.n, o.k, 1.0f,
                                             o.a, o.lda, o.b, o.ldb, 0.0f, b1,
                                             two ? b2 : NULL, o.c, o.ldc));
                if (memcmp(o.c, want, (size_t)(o.m * o.ldc) * sizeof(float)))
                    fail_msg("%c%c, k %lld, %s bias row%s: not the bytes of "
                             "the rows filled and the product added",
                             o.ta ? 'T' : 'N', o.tb ? 'T' : 'N', (long long)o.k,
                             two ? "two" : "one", two ? "s" : "");
                free(want);
                free(b1);
                free(b2);
                release(&o);
            }
}

/* The cases it leaves to cblas_sgemm: an empty product, and alpha 0, where
 * BLAS reads neither A nor B. */
static void test_declines_what_blas_defines_otherwise(void **state)
{
    (void)state;
    require_product();
    float a[4] = {NAN, 1.0f, 2.0f, 3.0f}, b[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    float c[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    assert_false(vae_sgemm_avx512(0, 0, 2, 2, 2, 0.0f, a, 2, b, 2, 1.0f, NULL,
                                  NULL, c, 2));
    assert_false(vae_sgemm_avx512(0, 0, 0, 2, 2, 1.0f, a, 2, b, 2, 1.0f, NULL,
                                  NULL, c, 2));
    assert_false(vae_sgemm_avx512(0, 0, 2, 0, 2, 1.0f, a, 2, b, 2, 1.0f, NULL,
                                  NULL, c, 2));
    assert_false(vae_sgemm_avx512(0, 0, 2, 2, 0, 1.0f, a, 2, b, 2, 1.0f, NULL,
                                  NULL, c, 2));
    for (int i = 0; i < 4; i++)
        assert_true(c[i] == 1.0f);
}

/* gemm.c cuts C into blocks of rows or columns, one per thread: each must
 * be the whole product's bytes. The cuts here are not multiples of the
 * tile or vector sizes. */
static void test_blocks_give_the_whole_products_bytes(void **state)
{
    (void)state;
    require_product();
    tu_rng r;
    tu_seed(&r, 9);
    for (int t = 0; t < 4; t++) {
        operands o = make(&r, t >> 1, t & 1, 37, 450, 700);
        size_t bytes = (size_t)(o.m * o.ldc) * sizeof(float);
        float *whole = tu_dup(o.c, o.m * o.ldc);
        float *cut = tu_dup(o.c, o.m * o.ldc);
        assert_true(multiply(&o, 1.0f, 1.0f, whole));
        const int64_t col_cut = 203, row_cut = 11;
        /* Columns [0, col_cut) and [col_cut, n). */
        assert_true(vae_sgemm_avx512(o.ta, o.tb, o.m, col_cut, o.k, 1.0f, o.a,
                                     o.lda, o.b, o.ldb, 1.0f, NULL, NULL, cut,
                                     o.ldc));
        assert_true(
            vae_sgemm_avx512(o.ta, o.tb, o.m, o.n - col_cut, o.k, 1.0f, o.a,
                             o.lda, o.b + (o.tb ? col_cut * o.ldb : col_cut),
                             o.ldb, 1.0f, NULL, NULL, cut + col_cut, o.ldc));
        if (memcmp(cut, whole, bytes))
            fail_msg("%c%c: column blocks differ from the whole product",
                     o.ta ? 'T' : 'N', o.tb ? 'T' : 'N');
        /* Rows [0, row_cut) and [row_cut, m). */
        memcpy(cut, o.c, bytes);
        assert_true(vae_sgemm_avx512(o.ta, o.tb, row_cut, o.n, o.k, 1.0f, o.a,
                                     o.lda, o.b, o.ldb, 1.0f, NULL, NULL, cut,
                                     o.ldc));
        assert_true(vae_sgemm_avx512(o.ta, o.tb, o.m - row_cut, o.n, o.k, 1.0f,
                                     o.a + (o.ta ? row_cut : row_cut * o.lda),
                                     o.lda, o.b, o.ldb, 1.0f, NULL, NULL,
                                     cut + row_cut * o.ldc, o.ldc));
        if (memcmp(cut, whole, bytes))
            fail_msg("%c%c: row blocks differ from the whole product",
                     o.ta ? 'T' : 'N', o.tb ? 'T' : 'N');
        free(whole);
        free(cut);
        release(&o);
    }
}

/* n floats ending where an inaccessible page begins: a read past the end
 * is a crash, not a silent read of whatever the heap holds next (the
 * sanitizer builds, which would see it, have no AVX-512 code). */
static float *before_guard(int64_t n, void **map, size_t *map_len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t bytes = (size_t)n * sizeof(float);
    size_t data = (bytes + page - 1) / page * page;
    *map_len = data + page;
    *map = mmap(NULL, *map_len, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(*map != MAP_FAILED);
    assert_int_equal(mprotect((char *)*map + data, page, PROT_NONE), 0);
    return (float *)((char *)*map + data - bytes);
}

/* Operands stored tight (leading dimension = row length) against a guard
 * page, with m, n and k off the tile, vector and block sizes: the rows of
 * the last tile past m, the lanes past n and the k past the last block are
 * never read. */
static void test_reads_stay_inside_operands(void **state)
{
    (void)state;
    require_product();
    tu_rng r;
    tu_seed(&r, 10);
    const int64_t m = 13, n = 37, k = 261;
    for (int t = 0; t < 4; t++) {
        int ta = t >> 1, tb = t & 1;
        void *map_a, *map_b;
        size_t len_a, len_b;
        float *a = before_guard(m * k, &map_a, &len_a);
        float *b = before_guard(k * n, &map_b, &len_b);
        tu_fill_uniform(&r, a, m * k, -1.0, 1.0);
        tu_fill_uniform(&r, b, k * n, -1.0, 1.0);
        operands o = {ta, tb, m, n, k, ta ? m : k, tb ? k : n, n, a, b, NULL};
        o.c = tu_alloc((size_t)(m * n) * sizeof(float));
        assert_true(multiply(&o, 1.0f, 0.0f, o.c));
        check(&o, 1.0f, 0.0f, o.c, o.c);
        free(o.c);
        munmap(map_a, len_a);
        munmap(map_b, len_b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_double_sums),
        cmocka_unit_test(test_beta_zero_does_not_read_c),
        cmocka_unit_test(test_bias_rows),
        cmocka_unit_test(test_declines_what_blas_defines_otherwise),
        cmocka_unit_test(test_blocks_give_the_whole_products_bytes),
        cmocka_unit_test(test_reads_stay_inside_operands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
