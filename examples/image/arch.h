/* arch.h - vae-image's architectures: building a model for images of a given
 * size, and telling which architecture a loaded model is. Failures are
 * recorded with fail() (cli.h). */
#ifndef VAE_IMAGE_ARCH_H
#define VAE_IMAGE_ARCH_H

#include <stdint.h>

#include <vae.h>

/* Fills an empty encoder and decoder graph for rows x cols grey images,
 * input shape [1, rows, cols], with a condition node of `cond` floats in
 * each for a conditional model (0: none). Graph errors are sticky, so the
 * caller checks the graphs once; a builder returns -1 (with a message) only
 * for images it cannot handle. */
typedef int (*arch_builder)(vae_graph *enc, vae_graph *dec, int64_t rows,
                            int64_t cols, int64_t latent, int64_t cond);

struct arch {
    const char *name;
    long default_latent;
    arch_builder build;
};

/* The architecture called `name`, or NULL with an error naming the known
 * ones. */
const struct arch *find_arch(const char *name);

/* A new model of architecture `ar` for rows x cols images, conditional on
 * `cond` classes (0: unconditional). */
int make_model(const struct arch *ar, int64_t rows, int64_t cols,
               int64_t latent, int64_t cond, uint64_t seed, vae_model **out);

/* Refuses to resume a model (read from `path`) that --arch, --latent and
 * --conditional (cond classes, or 0) would not build, and names the flags
 * that would, if any. */
int check_resume_arch(const vae_model *m, const char *path,
                      const struct arch *ar, int64_t rows, int64_t cols,
                      long latent, int64_t cond);

#endif
