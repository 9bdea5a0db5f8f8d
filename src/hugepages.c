/* hugepages.c - see hugepages.h. */
#define _DEFAULT_SOURCE
#include "hugepages.h"

#include <stdint.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

void vae_advise_hugepages(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* x86-64's and most arm64 kernels' huge page; where it is larger the
     * advice covers no whole huge page and changes nothing. */
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + n) & ~(huge - 1);
    if (p && end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}
