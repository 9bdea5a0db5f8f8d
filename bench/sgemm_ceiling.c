/* sgemm_ceiling - the fastest matrix products this machine has, in
 * GFLOP/s, at the products of one training step of each benchmark model of
 * issue 6, and at square 1024, for 1 and 2 threads. Two products are timed
 * per shape: OpenBLAS's cblas_sgemm on its own threads
 * (openblas_set_num_threads), and libvae's (src/gemm.c: its own AVX-512
 * product where the CPU has one, else cblas_sgemm, cut into blocks over
 * its worker pool, vae_set_num_threads). The faster of the two is the
 * ceiling vae-bench's GFLOP/s are measured against: with libvae's own
 * product faster than OpenBLAS's, an OpenBLAS-only ceiling would credit
 * libvae's step with work it never did.
 *
 * Each layer contributes the three products of a step (forward, weight
 * gradient, input gradient), with the shapes and transposes libvae's ops
 * use on contiguous operands (src/ops/dense.c, conv2d.c,
 * conv2d_transpose.c, lstm.c): rows are examples (times steps) for dense
 * and LSTM, im2col columns for convolutions; the LSTM runs one input
 * product over all steps and one recurrent product per step. The first
 * layer's input gradient, which a step skips, is listed too, so that each
 * model's products add up to exactly 3 x its forward FLOPs, the analytic
 * count vae-bench divides by. A model's ceiling is those FLOPs over the sum
 * of the products' median times: a step that did nothing but its GEMMs at
 * the faster speed. Operands hold uniform values in [-1, 1]; each distinct
 * shape is timed once per thread count, `reps` calls after one warm-up,
 * median taken.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "gemm.h"
#include "vae.h"

#define PROG "sgemm_ceiling"
#define MAX_GEMMS 96

typedef struct gemm {
    const char *model, *layer, *role;
    int ta, tb; /* 1: operand transposed (CblasTrans) */
    int64_t m, n, k, count; /* C is m x n; count calls per step */
    double openblas, libvae; /* GFLOP/s measured */
    double gflops;           /* the faster */
} gemm;

typedef struct gemm_list {
    gemm g[MAX_GEMMS];
    int n;
} gemm_list;

static void add(gemm_list *l, const char *model, const char *layer,
                const char *role, int ta, int tb, int64_t m, int64_t n,
                int64_t k, int64_t count)
{
    if (l->n == MAX_GEMMS) {
        fprintf(stderr, PROG ": more than %d products\n", MAX_GEMMS);
        exit(1);
    }
    l->g[l->n++] =
        (gemm){model, layer, role, ta, tb, m, n, k, count, 0.0, 0.0, 0.0};
}

/* y = x W^T over `rows` rows: dense.c. */
static void dense(gemm_list *l, const char *model, const char *layer,
                  int64_t rows, int64_t in, int64_t units)
{
    add(l, model, layer, "forward", 0, 1, rows, units, in, 1);
    add(l, model, layer, "dW", 1, 0, units, in, rows, 1);
    add(l, model, layer, "dX", 0, 0, rows, in, units, 1);
}

/* conv2d.c: Y = W col, W out x (C k k), col (C k k) x (batch positions). */
static void conv(gemm_list *l, const char *model, const char *layer,
                 int64_t batch, int64_t cin, int64_t cout, int64_t k,
                 int64_t positions)
{
    int64_t rows = cin * k * k, cols = batch * positions;
    add(l, model, layer, "forward", 0, 0, cout, cols, rows, 1);
    add(l, model, layer, "dW", 0, 1, cout, rows, cols, 1);
    add(l, model, layer, "dX", 1, 0, rows, cols, cout, 1);
}

/* conv2d_transpose.c: col = W^T X, W cin x (out k k), positions are the
 * input's. */
static void convt(gemm_list *l, const char *model, const char *layer,
                  int64_t batch, int64_t cin, int64_t cout, int64_t k,
                  int64_t positions)
{
    int64_t rows = cout * k * k, cols = batch * positions;
    add(l, model, layer, "forward", 1, 0, rows, cols, cin, 1);
    add(l, model, layer, "dW", 0, 1, cin, rows, cols, 1);
    add(l, model, layer, "dX", 0, 0, cin, cols, rows, 1);
}

/* lstm.c: gates G = x W_ih^T over all steps, then h W_hh^T per step. */
static void lstm(gemm_list *l, const char *model, const char *layer,
                 int64_t batch, int64_t t, int64_t f, int64_t h)
{
    int64_t rows = batch * t, g4 = 4 * h;
    add(l, model, layer, "forward input", 0, 1, rows, g4, f, 1);
    add(l, model, layer, "forward recurrent", 0, 1, batch, g4, h, t);
    add(l, model, layer, "dh recurrent", 0, 0, batch, h, g4, t);
    add(l, model, layer, "dW_ih", 1, 0, g4, f, rows, 1);
    add(l, model, layer, "dW_hh", 1, 0, g4, h, rows, 1);
    add(l, model, layer, "dX", 0, 0, rows, f, g4, 1);
}

static const char *const MODEL_NAMES[] = {"mlp", "conv", "lstm_text"};
#define N_MODELS (sizeof MODEL_NAMES / sizeof *MODEL_NAMES)

/* The models of issue 6 (vae-bench builds the same ones). */
static void model_gemms(gemm_list *l)
{
    const int64_t B = 128, T = 100, BT = 32, V = 10000;
    dense(l, "mlp", "enc 784-400", B, 784, 400);
    dense(l, "mlp", "head 400-40", B, 400, 40);
    dense(l, "mlp", "dec 20-400", B, 20, 400);
    dense(l, "mlp", "dec 400-784", B, 400, 784);

    conv(l, "conv", "conv 1-32", B, 1, 32, 4, 14 * 14);
    conv(l, "conv", "conv 32-64", B, 32, 64, 4, 7 * 7);
    dense(l, "conv", "enc 3136-256", B, 3136, 256);
    dense(l, "conv", "head 256-64", B, 256, 64);
    dense(l, "conv", "dec 32-256", B, 32, 256);
    dense(l, "conv", "dec 256-3136", B, 256, 3136);
    convt(l, "conv", "convT 64-32", B, 64, 32, 4, 7 * 7);
    convt(l, "conv", "convT 32-1", B, 32, 1, 4, 14 * 14);

    lstm(l, "lstm_text", "enc lstm 256", BT, T, 256, 256);
    dense(l, "lstm_text", "head 256-64", BT, 256, 64);
    dense(l, "lstm_text", "dec init 32-512", BT, 32, 512);
    lstm(l, "lstm_text", "dec lstm 288", BT, T, 288, 256);
    dense(l, "lstm_text", "out 256-10000", BT * T, 256, V);
}

/* ---- Timing ------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *random_matrix(int64_t n, uint64_t *s)
{
    float *p = malloc((size_t)n * sizeof *p);
    if (!p) {
        fprintf(stderr, PROG ": out of memory for %lld floats\n", (long long)n);
        exit(1);
    }
    for (int64_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (float)((double)(*s >> 40) * 0x1.0p-23 - 1.0);
    }
    return p;
}

/* GFLOP/s of C = op(A) op(B) by OpenBLAS (libvae 0) or libvae (1), median
 * of reps calls after one warm-up. */
static double time_gemm(int libvae, int ta, int tb, int64_t m, int64_t n,
                        int64_t k, int reps)
{
    uint64_t s = 1;
    float *a = random_matrix(m * k, &s), *b = random_matrix(k * n, &s);
    float *c = random_matrix(m * n, &s);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!t) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(1);
    }
    /* Row-major: op(A) is m x k, so A is k x m when transposed. */
    int lda = (int)(ta ? m : k), ldb = (int)(tb ? k : n);
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        if (libvae)
            vae_sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
        else
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                        tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                        (int)k, 1.0f, a, lda, b, ldb, 0.0f, c, (int)n);
        if (r >= 0)
            t[r] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    free(a);
    free(b);
    free(c);
    free(t);
    return 2e-9 * (double)m * (double)n * (double)k / med;
}

/* GFLOP/s of every distinct shape by one library; repeated shapes copy
 * the result. */
static void time_all(gemm_list *l, int libvae, int reps)
{
    for (int i = 0; i < l->n; i++) {
        gemm *g = &l->g[i];
        double *v = libvae ? &g->libvae : &g->openblas;
        *v = 0.0;
        for (int j = 0; j < i && *v == 0.0; j++) {
            const gemm *h = &l->g[j];
            if (h->ta == g->ta && h->tb == g->tb && h->m == g->m &&
                h->n == g->n && h->k == g->k)
                *v = libvae ? h->libvae : h->openblas;
        }
        if (*v == 0.0)
            *v = time_gemm(libvae, g->ta, g->tb, g->m, g->n, g->k, reps);
    }
}

static void set_threads(int libvae, int threads)
{
    /* Each library's threads run while the other's sleep: OpenBLAS's
     * spin a while after a product, and would take a core from the
     * pool's. vae_set_num_threads leaves OpenBLAS on one thread. */
    if (vae_set_num_threads(libvae ? threads : 1) != VAE_OK) {
        fprintf(stderr, PROG ": cannot start %d threads\n", threads);
        exit(1);
    }
    if (!libvae)
        openblas_set_num_threads(threads);
}

/* Both libraries' GFLOP/s on `threads` threads, the faster counting. */
static void measure(gemm_list *l, int threads, int reps)
{
    for (int libvae = 1; libvae >= 0; libvae--) {
        set_threads(libvae, threads);
        time_all(l, libvae, reps);
    }
    for (int i = 0; i < l->n; i++) {
        gemm *g = &l->g[i];
        g->gflops = g->openblas > g->libvae ? g->openblas : g->libvae;
    }
}

static double gemm_flops(const gemm *g)
{
    return 2.0 * (double)g->m * (double)g->n * (double)g->k * (double)g->count;
}

/* FLOPs per step and ceiling GFLOP/s of one model. */
static void model_ceiling(const gemm_list *l, const char *model,
                          double *flops, double *ceiling)
{
    double f = 0.0, secs = 0.0;
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->g[i].model, model)) {
            f += gemm_flops(&l->g[i]);
            secs += 1e-9 * gemm_flops(&l->g[i]) / l->g[i].gflops;
        }
    *flops = f;
    *ceiling = 1e-9 * f / secs;
}

static void report(const gemm_list *l, int threads, int reps, double square,
                   int json)
{
    double flops[N_MODELS], ceiling[N_MODELS];
    for (size_t k = 0; k < N_MODELS; k++)
        model_ceiling(l, MODEL_NAMES[k], &flops[k], &ceiling[k]);
    if (!json) {
        printf("threads %d (OpenBLAS reports %d), median of %d calls\n",
               threads, openblas_get_num_threads(), reps);
        printf("  %-10s %-17s %-18s %2s %6s %6s %6s %5s %9s %9s\n",
               "model", "layer", "product", "T", "M", "N", "K", "calls",
               "OpenBLAS", "libvae");
        for (int i = 0; i < l->n; i++) {
            const gemm *g = &l->g[i];
            printf("  %-10s %-17s %-18s %c%c %6lld %6lld %6lld %5lld %9.2f "
                   "%9.2f\n",
                   g->model, g->layer, g->role, g->ta ? 'T' : 'N',
                   g->tb ? 'T' : 'N', (long long)g->m, (long long)g->n,
                   (long long)g->k, (long long)g->count, g->openblas,
                   g->libvae);
        }
        for (size_t k = 0; k < N_MODELS; k++)
            printf("  ceiling %-10s %8.4f GFLOP/step  %9.2f GFLOP/s\n",
                   MODEL_NAMES[k], 1e-9 * flops[k], ceiling[k]);
        printf("  square 1024 NN, OpenBLAS %23.2f GFLOP/s\n", square);
        return;
    }
    printf("{\"threads\":%d,\"openblas_threads\":%d,\"reps\":%d,"
           "\"square1024_gflops\":%.6g,\"models\":{",
           threads, openblas_get_num_threads(), reps, square);
    for (size_t k = 0; k < N_MODELS; k++)
        printf("%s\"%s\":{\"flops_per_step\":%.0f,\"ceiling_gflops\":%.6g}",
               k ? "," : "", MODEL_NAMES[k], flops[k], ceiling[k]);
    printf("},\"gemms\":[");
    for (int i = 0; i < l->n; i++) {
        const gemm *g = &l->g[i];
        printf("%s{\"model\":\"%s\",\"layer\":\"%s\",\"product\":\"%s\","
               "\"trans\":\"%c%c\",\"m\":%lld,\"n\":%lld,\"k\":%lld,"
               "\"calls\":%lld,\"openblas_gflops\":%.6g,"
               "\"libvae_gflops\":%.6g,\"gflops\":%.6g}",
               i ? "," : "", g->model, g->layer, g->role, g->ta ? 'T' : 'N',
               g->tb ? 'T' : 'N', (long long)g->m, (long long)g->n,
               (long long)g->k, (long long)g->count, g->openblas, g->libvae,
               g->gflops);
    }
    printf("]}\n");
}

/* bench_parse_long into an int. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
    long v;
    if (bench_parse_long(s, lo, hi, &v))
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    int reps = 11, json = 0, threads[2] = {1, 2}, n_threads = 2;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--reps") && !parse_int(v, 1, 10000, &reps)) {
            i++;
        } else if (!strcmp(argv[i], "--threads") &&
                   !parse_int(v, 1, 1024, &threads[0])) {
            n_threads = 1;
            i++;
        } else {
            fprintf(stderr,
                    "usage: " PROG " [--threads N] [--reps N] [--json]\n"
                    "  --threads N  only N threads (default: 1, then 2)\n"
                    "  --reps N     timed calls per shape, default 11\n"
                    "  --json       one JSON object per thread count\n");
            return 2;
        }
    }
    gemm_list l = {.n = 0};
    model_gemms(&l);
    for (int t = 0; t < n_threads; t++) {
        measure(&l, threads[t], reps);
        double square = time_gemm(0, 0, 0, 1024, 1024, 1024, reps);
        report(&l, threads[t], reps, square, json);
        fflush(stdout);
    }
    return 0;
}
