/* alloc.c - the failure-injecting allocator of test builds (see alloc.h).
 * Compiled only into the test library, with VAE_ALLOC_HOOK defined. */
#include "alloc.h"

static long fail_at;  /* allocation number that fails first; 0: never */
static int persist;   /* every allocation after fail_at fails too */
static long attempts; /* allocations since the hook was last set */
static long failures;

void vae_alloc_fail_after(long n, int keep_failing)
{
    fail_at = n > 0 ? n : 0;
    persist = keep_failing;
    attempts = 0;
    failures = 0;
}

long vae_alloc_count(void) { return attempts; }

long vae_alloc_failures(void) { return failures; }

/* Counts one allocation and says whether the hook makes it fail. */
static int should_fail(void)
{
    attempts++;
    int fail = fail_at > 0 &&
               (attempts == fail_at || (persist && attempts > fail_at));
    failures += fail;
    return fail;
}

void *vae_malloc(size_t n) { return should_fail() ? NULL : malloc(n); }

void *vae_calloc(size_t count, size_t n)
{
    return should_fail() ? NULL : calloc(count, n);
}

/* A failed realloc leaves the block as it was, as the C allocator's does. */
void *vae_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}
