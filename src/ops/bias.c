/* bias.c - the bias gradient of dense and lstm (see bias.h), split across
 * the worker pool by columns, so each sum still adds its rows in order:
 * the same bytes as one thread. (The bias itself goes in with the forward
 * product, vae_sgemm_bias.) */
#include "bias.h"
#include "../pool.h"
#include "../simd.h"

typedef struct bias_loop {
    const float *dy;
    int64_t rows, width;
    float *db1, *db2;
} bias_loop;

VAE_CLONES
static void sum_columns(void *ctx, int64_t lo, int64_t hi)
{
    const bias_loop *l = ctx;
    int64_t w = l->width;
    for (int64_t r = 0; r < l->rows; r++) {
        const float *d = l->dy + r * w;
        for (int64_t j = lo; j < hi; j++)
            l->db1[j] += d[j];
        if (l->db2)
            for (int64_t j = lo; j < hi; j++)
                l->db2[j] += d[j];
    }
}

void vae_bias_grad(const float *dy, int64_t rows, int64_t width, float *db1,
                   float *db2)
{
    bias_loop l = {.dy = dy, .rows = rows, .width = width, .db1 = db1,
                   .db2 = db2};
    /* Columns per task: whole cache lines, tasks of at least about the
     * grain, and no more tasks than threads need. A task walks down its
     * strip row by row, so a narrow strip of many rows reads a cache line
     * or two per page: in strips of 48 columns, the lstm_text benchmark's
     * output bias gradient (800 x 10,000 logits a chunk) took 6.3% of its
     * step at two threads (docs/performance.md). */
    int64_t grain = rows < VAE_POOL_GRAIN ? VAE_POOL_GRAIN / rows : 1;
    int64_t threads = vae_pool_threads();
    int64_t even = (width + threads - 1) / threads;
    grain = grain > even ? grain : even;
    grain = (grain + 15) / 16 * 16;
    vae_parallel_ranges(width, grain, sum_columns, &l);
}
