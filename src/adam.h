/* adam.h - the optimizer's state (adam.c) and its update of a model's
 * parameters, for the files that save it (io.c) or step it (objective.c's
 * training step). */
#ifndef VAE_ADAM_H
#define VAE_ADAM_H

#include <stdatomic.h>

#include "model.h"

struct vae_adam {
    int64_t n;
    double lr, beta1, beta2, eps, weight_decay, clip_norm;
    int32_t decoupled;
    int64_t t;
    float *m, *v;
    /* At least every |m| and every v; infinite when unknown. */
    float m_bound, v_bound;
    atomic_flag busy; /* held by the public call using it (busy.h) */
    char err[VAE_ERRLEN];
};

/* After m or v were written other than by an update (a loaded file): their
 * bounds are unknown until the next update measures them. */
void vae_adam_moments_written(vae_adam *o);

/* vae_adam_step for an optimizer and a model the caller holds. */
int32_t vae_adam_update(vae_adam *o, vae_model *m);

#endif
