/* order.c - see order.h. */
#include "order.h"

uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n): draws at or above the largest multiple of n are
 * redrawn, so small indices are not favoured. */
static uint64_t uniform_below(uint64_t *state, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = splitmix64(state);
    while (r >= limit);
    return r % n;
}

/* Both inputs pass through the mixer, so neighbouring epochs (or seeds)
 * start far apart instead of one step along the same stream. */
static uint64_t epoch_order_state(uint64_t seed, long epoch)
{
    uint64_t s = seed ^ UINT64_C(0x5348554646c3a11e);
    s = splitmix64(&s) ^ (uint64_t)epoch;
    return splitmix64(&s);
}

void epoch_order(int64_t *perm, int64_t n, uint64_t seed, long epoch)
{
    uint64_t state = epoch_order_state(seed, epoch);

    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    /* Fisher-Yates, from the top. */
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)uniform_below(&state, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
