/* order.h - the example programs' own random generator (splitmix64) and the
 * data order of a training epoch. */
#ifndef VAE_EXAMPLE_ORDER_H
#define VAE_EXAMPLE_ORDER_H

#include <stdint.h>

/* splitmix64: small and well mixed. The programs' own generator, for the
 * data order (and vae-image's fixed-seed binarisations), kept apart from
 * the model's generator so that neither disturbs the other's stream. Each
 * call advances *state and returns the next 64-bit draw. */
uint64_t splitmix64(uint64_t *state);

/* The permutation of 0..n-1 that orders epoch `epoch` (1-based) of a run
 * with this seed: a function of (seed, epoch) alone, so a resumed run
 * shuffles epoch e exactly as an uninterrupted one does, without replaying
 * the epochs before it. */
void epoch_order(int64_t *perm, int64_t n, uint64_t seed, long epoch);

#endif
