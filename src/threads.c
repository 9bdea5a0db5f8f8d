/* threads.c - the BLAS thread count. OpenBLAS keeps it process-wide, so the
 * setting is process-wide here too; other CBLAS builds have no such call. */
#include <cblas.h>

#include "vae.h"

VAE_API int32_t vae_set_num_threads(int32_t n)
{
    if (n < 1 || n > 1024)
        return VAE_ERR_RANGE;
#ifdef VAE_HAVE_OPENBLAS
    openblas_set_num_threads(n);
    return VAE_OK;
#else
    return VAE_ERR_UNSUPPORTED;
#endif
}

VAE_API int32_t vae_get_num_threads(void)
{
#ifdef VAE_HAVE_OPENBLAS
    return openblas_get_num_threads();
#else
    return VAE_ERR_UNSUPPORTED;
#endif
}
