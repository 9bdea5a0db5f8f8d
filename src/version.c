/* version.c - version of the library as built. */
#include "vae.h"

#define VAE_STR_(x) #x
#define VAE_STR(x) VAE_STR_(x)

VAE_API const char *vae_version_string(void)
{
    return VAE_STR(VAE_VERSION_MAJOR) "." VAE_STR(VAE_VERSION_MINOR) "."
        VAE_STR(VAE_VERSION_PATCH);
}

VAE_API int32_t vae_version_number(void) { return VAE_VERSION_NUMBER; }
