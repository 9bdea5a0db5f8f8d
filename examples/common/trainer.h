/* trainer.h - data-parallel training steps inside one process. With W > 1
 * workers the batch is split into W slices; each worker computes the
 * gradient of its slice on its own copy of the model with one BLAS thread,
 * the gradients are summed into the main model, which takes the Adam step,
 * and the copies take its new parameters. The small products of an MLP
 * step gain little from a second BLAS thread; whole slices in parallel keep
 * both cores busy. Results depend on W (the slices' z draws differ), not on
 * timing; the copies' generators are reseeded from the main model's every
 * step, so the model file alone carries everything a resumed run needs. */
#ifndef VAE_EXAMPLE_TRAINER_H
#define VAE_EXAMPLE_TRAINER_H

#include <stdint.h>

#include <vae.h>

typedef struct trainer trainer;

/* A trainer for m with `workers` workers (1..16); with more than one, BLAS
 * runs one thread until trainer_free. Errors are recorded with fail(). */
int trainer_new(vae_model *m, int workers, trainer **out);
/* Restores the BLAS thread count; frees the copies (not m). NULL is fine. */
void trainer_free(trainer *t);
/* vae_model_set_beta / vae_model_set_train_samples on m and every copy. */
int trainer_set_beta(trainer *t, double beta);
int trainer_set_train_samples(trainer *t, int64_t k);
/* One step on the n examples of dim floats at x: the sum of the slices'
 * gradients, then vae_adam_step. cond: a conditional model's n condition
 * rows (models.h), each slice given its own; NULL for an unconditional
 * model. *elbo: the mean over the n examples of what elbo_grad reports.
 * `epoch` and `b` (0-based) name the step in an error. KL annealing
 * (vae_model_set_kl_anneal) is not applied. */
int trainer_step(trainer *t, vae_adam *opt, const float *x, const float *cond,
                 int64_t n, int64_t dim, long epoch, int64_t b, double *elbo);

#endif
