/* output_chunks - how fast lstm_text's output layer runs when its rows are
 * split into chunks, as libvae's model computes a large decoder output
 * (src/model.c, out_chunk): the three products of a dense 256 -> 10000
 * layer over 3,200 rows (forward, weight gradient, input gradient, with
 * the transposes of src/ops/dense.c), done chunk by chunk for chunks of
 * 100 to 3,200 rows. Prints the best of five passes per chunk size.
 *
 *   output_chunks [--threads N]   (default 1)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum { ROWS = 3200, IN = 256, OUT = 10000, PASSES = 5 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *filled(size_t n, int mod, float step)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; p && i < n; i++)
        p[i] = (float)(i % (size_t)mod) * step;
    return p;
}

int main(int argc, char **argv)
{
    long threads = 1;
    if (argc == 3 && !strcmp(argv[1], "--threads") &&
        !bench_parse_long(argv[2], 1, 1024, &threads)) {
    } else if (argc != 1) {
        fprintf(stderr, "usage: output_chunks [--threads N]\n");
        return 2;
    }
    openblas_set_num_threads((int)threads);
    float *h = filled((size_t)ROWS * IN, 7, 0.1f);
    float *w = filled((size_t)OUT * IN, 5, 0.01f);
    float *y = filled((size_t)ROWS * OUT, 3, 0.1f);
    float *dw = filled((size_t)OUT * IN, 1, 0.0f);
    float *dh = filled((size_t)ROWS * IN, 1, 0.0f);
    if (!h || !w || !y || !dw || !dh) {
        fprintf(stderr, "output_chunks: out of memory\n");
        return 1;
    }
    const double flops = 3.0 * 2.0 * ROWS * IN * OUT;
    enum { SIZES = 6 };
    const int chunks[SIZES] = {100, 200, 400, 800, 1600, 3200};
    double best[SIZES];
    printf("dense %d -> %d over %d rows, %ld OpenBLAS thread(s)\n", IN, OUT,
           ROWS, threads);
    /* Passes go over every size in turn, so a drift in the machine's speed
     * reaches all sizes alike; the best pass of each is kept. */
    for (int pass = 0; pass < PASSES; pass++)
        for (int k = 0; k < SIZES; k++) {
            int r = chunks[k];
            double t = now();
            for (int r0 = 0; r0 < ROWS; r0 += r) {
                float *yc = y + (size_t)r0 * OUT;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, OUT,
                            IN, 1.0f, h + r0 * IN, IN, w, IN, 0.0f, yc, OUT);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OUT, IN,
                            r, 1.0f, yc, OUT, h + r0 * IN, IN, 1.0f, dw, IN);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, IN,
                            OUT, 1.0f, yc, OUT, w, IN, 1.0f, dh + r0 * IN, IN);
            }
            t = now() - t;
            best[k] = pass == 0 || t < best[k] ? t : best[k];
        }
    for (int k = 0; k < SIZES; k++)
        printf("chunks of %4d rows: %7.1f ms  %6.1f GFLOP/s\n", chunks[k],
               1e3 * best[k], flops / best[k] * 1e-9);
    free(h);
    free(w);
    free(y);
    free(dw);
    free(dh);
    return 0;
}
