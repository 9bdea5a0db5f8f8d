/* pool.h - the library's worker threads (pool.c): process-wide, sized by
 * vae_set_num_threads, shared by every handle. A parallel loop is a number
 * of independent tasks; the calling thread runs tasks too, and whichever
 * thread runs a task, it computes the same bytes, so results never depend
 * on which or how many threads ran them. */
#ifndef VAE_POOL_H
#define VAE_POOL_H

#include <stdint.h>

/* Task t of a parallel loop. Tasks of one loop must write disjoint memory
 * and read nothing another task of the loop writes. */
typedef void (*vae_task_fn)(void *ctx, int64_t t);

/* Runs fn(ctx, t) for every t in [0, n_tasks) and returns when all have
 * run. On the pool's threads and the caller when the pool has workers and
 * no other thread is using it; otherwise, and for a single task, on the
 * caller alone (two handles' calls at once never oversubscribe: one gets
 * the pool, the other runs on its own thread). Never fails. */
void vae_parallel_for(int64_t n_tasks, vae_task_fn fn, void *ctx);

/* Floats a task of an elementwise loop should cover: tens of microseconds
 * of work, enough to pay for handing it to another thread. */
#define VAE_POOL_GRAIN 32768

/* A loop over [0, n) in ranges of `grain` indices (the last may be
 * shorter): range(ctx, lo, hi). The ranges depend on n and grain only, so
 * a reduction that combines per-range results in range order is as
 * deterministic as a serial one. */
typedef void (*vae_range_fn)(void *ctx, int64_t lo, int64_t hi);
void vae_parallel_ranges(int64_t n, int64_t grain, vae_range_fn range,
                         void *ctx);

/* p[0..n) = 0, in one range per thread (at least 4 * VAE_POOL_GRAIN
 * floats each): megabytes of gradients cleared by all threads at once. */
void vae_parallel_zero(float *p, int64_t n);

/* The thread count set (the caller included, >= 1): what a loop whose
 * split changes its results (gemm.c) splits by, so that they depend on
 * this count alone, not on which threads are free to run the tasks. */
int32_t vae_pool_threads(void);

/* Makes the pool n threads (the caller and n - 1 workers). VAE_OK, or
 * VAE_ERR_NOMEM when a worker could not be started, with the pool as it
 * was. */
int32_t vae_pool_resize(int32_t n);

#endif
