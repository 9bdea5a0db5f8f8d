/* alloc.h - the library's one way to the heap: every allocation in src/
 * goes through vae_malloc, vae_calloc or vae_realloc (memory is released
 * with plain free).
 *
 * Normal builds, including both installed libraries, define these as inline
 * calls of the C allocator: no symbol, no extra branch. Only a build with
 * VAE_ALLOC_HOOK defined (the test-only library vae_alloc_hooked, see
 * tests/CMakeLists.txt) compiles src/alloc.c, whose allocator can be told
 * to fail, so that a test can drive every allocation's error path. The
 * hook's counters are plain globals: that library is for single-threaded
 * tests only. */
#ifndef VAE_ALLOC_H
#define VAE_ALLOC_H

#include <stdlib.h>

#ifdef VAE_ALLOC_HOOK

void *vae_malloc(size_t n);
void *vae_calloc(size_t count, size_t n);
void *vae_realloc(void *p, size_t n);

/* Arms the hook: the n-th allocation from now on returns NULL (n >= 1), and
 * with `persist` every allocation after it too. n <= 0 disarms it. Either
 * way the counters below restart from 0. */
void vae_alloc_fail_after(long n, int persist);
/* Allocations attempted since the last vae_alloc_fail_after. */
long vae_alloc_count(void);
/* Of those, how many the hook made fail. */
long vae_alloc_failures(void);

#else

static inline void *vae_malloc(size_t n) { return malloc(n); }

static inline void *vae_calloc(size_t count, size_t n)
{
    return calloc(count, n);
}

static inline void *vae_realloc(void *p, size_t n) { return realloc(p, n); }

#endif

#endif
