/* train.h - vae-image's train command, run by one process (vae-image) or
 * by every rank of a data-parallel job (vae-image-mpi, examples/mpi). */
#ifndef VAE_IMAGE_TRAIN_H
#define VAE_IMAGE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

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
    /* Rank 0's len bytes at buf, copied to buf on every other rank. */
    int (*broadcast)(void *ctx, void *buf, size_t len);
};

extern const struct train_comm train_comm_single;

/* Runs train with the flags in `a` (IMAGE_TRAIN_OPTS, images.h). Rank 0
 * alone writes the model file, the metrics and the lines on stderr; every
 * rank reads the data. */
int image_train(const struct args *a, const struct train_comm *comm);

#endif
