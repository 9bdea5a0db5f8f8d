/* busy.h - the guard that turns two threads' use of one handle into
 * VAE_ERR_BUSY instead of silent corruption.
 *
 * Each model and optimizer has a flag that a public call takes on entry
 * and gives back when it returns, whatever return it takes. A call that
 * finds the flag taken does not wait: a handle shared between threads
 * without a lock is a bug in the caller, and an error it can see beats
 * results that differ from run to run. The acquire/release pair also tells
 * ThreadSanitizer (and the hardware) that one call's writes happen before
 * the next holder's reads. */
#ifndef VAE_BUSY_H
#define VAE_BUSY_H

#include <stdatomic.h>
#include <stddef.h>

/* Clears a new handle's flag: zeroed memory is not a valid atomic_flag. */
static inline void vae_busy_init(atomic_flag *f) { atomic_flag_clear(f); }

/* Takes f and returns it, or NULL when another call holds it. */
static inline atomic_flag *vae_busy_take(atomic_flag *f)
{
    return atomic_flag_test_and_set_explicit(f, memory_order_acquire) ? NULL
                                                                       : f;
}

/* The cleanup of a VAE_HOLD variable: gives back the flag it took. */
static inline void vae_busy_leave(atomic_flag **held)
{
    if (*held)
        atomic_flag_clear_explicit(*held, memory_order_release);
}

#define VAE_HOLD_CAT_(a, b) a##b
#define VAE_HOLD_VAR_(n) VAE_HOLD_CAT_(vae_held_, n)
#define VAE_HOLD_AS_(var, h, on_busy)                                      \
    atomic_flag *var __attribute__((cleanup(vae_busy_leave))) =            \
        (h) ? vae_busy_take(&(h)->busy) : NULL;                            \
    if ((h) && !var)                                                       \
        return (on_busy)

/* Holds handle h (a vae_model * or vae_adam *) until the enclosing block
 * ends, or returns `on_busy` from the enclosing function at once when another
 * call holds it. A NULL h holds nothing. */
#define VAE_HOLD(h, on_busy)                                               \
    VAE_HOLD_AS_(VAE_HOLD_VAR_(__COUNTER__), h, on_busy)

#endif
