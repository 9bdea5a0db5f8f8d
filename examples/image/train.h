/* train.h - vae-image's train command, run by one process (vae-image) or
 * by every rank of a data-parallel job (vae-image-mpi, examples/mpi). */
#ifndef VAE_IMAGE_TRAIN_H
#define VAE_IMAGE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include <vae.h>

#include "cli.h"
#include "idx.h"

/* How the ranks of a job work together. Every function is collective: each
 * rank calls it at the same point, whatever happened to it before, so that
 * no rank waits for one that has given up. Each returns 0, or -1 with the
 * error recorded. A single process is one rank whose calls do nothing. */
struct train_comm {
    int rank, size;
    void *ctx;
    /* Every rank says whether it failed; *first receives the lowest rank
     * that did, or -1 if none did. */
    int (*first_failure)(void *ctx, int failed, int *first);
    /* Element-wise sums over the ranks, in place, the same on every rank. */
    int (*sum_floats)(void *ctx, float *v, int64_t n);
    int (*sum_doubles)(void *ctx, double *v, int64_t n);
    /* Called only in a job of several ranks, so a single process leaves
     * them NULL. start: once rank 0 has made or loaded the model, fails
     * unless every rank read rank 0's images from `dir`, then gives every
     * other rank (*m and *opt NULL there) rank 0's model, optimizer and
     * generator state. check_params: after each epoch, fails unless every
     * rank holds rank 0's parameters. */
    int (*start)(const struct train_comm *comm, const char *dir,
                 const idx_dataset *train, const idx_dataset *test,
                 vae_model **m, vae_adam **opt);
    int (*check_params)(const struct train_comm *comm, vae_model *m,
                        long epoch);
};

extern const struct train_comm train_comm_single;

/* Every rank learns whether any rank failed; one that did not records which
 * did. Returns -1 if any did. */
int train_agree(const struct train_comm *comm, int failed);

/* Runs train with the flags in `a` (IMAGE_TRAIN_OPTS, images.h). Rank 0
 * alone writes the model file, the metrics and the lines on stderr; every
 * rank reads the data. */
int image_train(const struct args *a, const struct train_comm *comm);

#endif
