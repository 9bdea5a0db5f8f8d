/* models.h - model handling the example programs share: building from a
 * graph builder, loading, and evaluating the ELBO and the IWAE bound over a
 * data set in batches. Failures are recorded with fail() (cli.h). */
#ifndef VAE_EXAMPLE_MODELS_H
#define VAE_EXAMPLE_MODELS_H

#include <stdint.h>

#include <vae.h>

/* Fills an empty encoder and decoder graph; ctx is the caller's. Graph
 * errors are sticky, so model_build checks the graphs afterwards; a builder
 * returns -1 (with fail()) only for a request it cannot build at all. */
typedef int (*graph_builder)(vae_graph *enc, vae_graph *dec, const void *ctx);

/* A new model from the graphs `build` makes. */
int model_build(graph_builder build, const void *ctx, int64_t latent,
                int32_t likelihood, uint64_t seed, vae_model **out);

/* Loads a model file; opt_out, when not NULL, receives its optimizer state
 * (NULL if it has none). */
int model_load(const char *path, vae_model **m, vae_adam **opt_out);

/* An independent copy of m (architecture, parameters, generator state,
 * metadata) through the file format; settings that are not saved (beta,
 * train samples, ...) start at their defaults. */
int model_clone(vae_model *m, vae_model **out);

/* vae_model_save (opt may be NULL) with the error recorded; a path that
 * exists but is not a regular file (a FIFO, a device) is refused rather
 * than replaced. */
int model_save(vae_model *m, const vae_adam *opt, const char *path);

/* A failed step of training at `where` ("epoch 1, batch 2"), recorded as
 * fail_lib does; a non-finite loss, gradient or update (VAE_ERR_NONFINITE)
 * adds that the training diverged and to try a smaller --lr, its usual
 * cause with these programs' finite inputs. */
int fail_step(const char *where, int32_t status, const char *detail);

/* vae_model_train_step on batch b (0-based) of an epoch; an error names
 * both. */
int model_train_step(vae_model *m, vae_adam *opt, const float *x, int64_t n,
                     long epoch, int64_t b, double *elbo, double *recon);

/* vae_model_set_seed with the error recorded. */
int model_set_seed(vae_model *m, uint64_t seed);

/* ---- Conditional models ---------------------------------------------------
 * The helpers below that take `cond` read a conditional model's condition
 * from it: one row of vae_model_condition_size(m) floats per example, row i
 * for example i of x. cond is NULL for an unconditional model. */

/* Gives m rows [first, first + n) of cond (vae_model_set_condition) for
 * its next call on n examples; does nothing when cond is NULL. */
int model_condition(vae_model *m, const float *cond, int64_t first,
                    int64_t n);

/* Mean ELBO, reconstruction term and KL per example over the n examples of
 * dim floats at x, in batches of `batch`; one z sample per example. */
int model_evaluate_cond(vae_model *m, const float *x, const float *cond,
                        int64_t n, int64_t dim, int64_t batch, double *elbo,
                        double *recon, double *kl);
/* model_evaluate_cond of an unconditional model. */
int model_evaluate(vae_model *m, const float *x, int64_t n, int64_t dim,
                   int64_t batch, double *elbo, double *recon, double *kl);

/* ---- Data parallelism (docs/distributed.md) ------------------------------
 * Each of `size` ranks computes its share of every batch with the noise that
 * one process computing the whole batch would draw for those rows: before
 * its rows it skips the draws of the rows of the ranks before it, after them
 * those of the ranks after it, so every rank's generator stays where the one
 * process's would be. */

/* Rank `rank` of `size` takes the n rows [*first, *first + *count) of a
 * batch: contiguous shares whose sizes differ by at most one. */
void shard_rows(int64_t n, int rank, int size, int64_t *first,
                int64_t *count);

/* Draws of m's generator per example for its z sample in vae_model_elbo:
 * two per latent element (vae_model_random_uniform in vae.h); elbo_grad
 * with k train samples takes k times as many. */
int64_t model_draws_per_example(const vae_model *m);

/* Advances m's generator by n draws, as n numbers of
 * vae_model_random_uniform would. */
int model_skip_draws(vae_model *m, int64_t n);

/* model_evaluate's sums (not means) of the ELBO, reconstruction term and KL
 * over this rank's share (shard_rows) of each batch; every rank's generator
 * ends where one process's would. */
int model_evaluate_shard(vae_model *m, const float *x, const float *cond,
                         int64_t n, int64_t dim, int64_t batch, int rank,
                         int size, double sums[3]);

/* Mean over the n examples of the IWAE bound on log p(x) with k samples
 * (vae_model_iwae), in blocks of about `passes` decoder passes each (at most
 * 100 examples), so that a progress line naming the examples `unit` can
 * show every `progress` seconds (0: none). With N > 1 BLAS threads
 * (vae_get_num_threads), N threads each evaluate whole blocks on their own
 * copy of the model with one BLAS thread. Block j draws from seed
 * splitmix64(s + j), s taken from m's generator: the result depends on m's
 * seed, not on the thread count. */
int model_iwae_mean_cond(vae_model *m, const float *x, const float *cond,
                         int64_t n, int64_t dim, long k, int64_t passes,
                         double progress, const char *unit,
                         double *mean_logpx);
/* model_iwae_mean_cond of an unconditional model. */
int model_iwae_mean(vae_model *m, const float *x, int64_t n, int64_t dim,
                    long k, int64_t passes, double progress, const char *unit,
                    double *mean_logpx);

#endif
