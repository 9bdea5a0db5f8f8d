/* threads.c - the thread count: the library's worker pool (pool.c) and
 * OpenBLAS's, process-wide as both are. With several threads the library
 * splits its own loops and products (gemm.c) and OpenBLAS runs each call
 * on one thread, so the two pools never compete for the cores. Other
 * CBLAS builds have no thread setting to turn off, hence no threads. */
#include <cblas.h>

#include "pool.h"
#include "vae.h"

VAE_API int32_t vae_set_num_threads(int32_t n)
{
    if (n < 1 || n > 1024)
        return VAE_ERR_RANGE;
#ifdef VAE_HAVE_OPENBLAS
    int32_t st = vae_pool_resize(n);
    if (st != VAE_OK)
        return st;
    openblas_set_num_threads(1);
    return VAE_OK;
#else
    return VAE_ERR_UNSUPPORTED;
#endif
}

/* Until vae_set_num_threads, the pool has no workers and products run on
 * OpenBLAS's threads (its own default, or OPENBLAS_NUM_THREADS): that is
 * the count to report then. */
VAE_API int32_t vae_get_num_threads(void)
{
#ifdef VAE_HAVE_OPENBLAS
    int32_t n = vae_pool_threads();
    return n > 1 ? n : openblas_get_num_threads();
#else
    return VAE_ERR_UNSUPPORTED;
#endif
}
