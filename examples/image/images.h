/* images.h - what vae-image's commands and vae-image-mpi (examples/mpi)
 * share: the flags, loading a split, the binarisations and the checks that
 * a model suits the images. Failures are recorded with fail() (cli.h). */
#ifndef VAE_IMAGE_IMAGES_H
#define VAE_IMAGE_IMAGES_H

#include <stdint.h>

#include <vae.h>

#include "cli.h"
#include "idx.h"

/* Fixed seeds of the once-only binarisations (docs/image.md): the ASCII
 * bytes of "test" and "train", so every run and every command sees the same
 * binarised test set, and --binarize static the same training set. */
#define TEST_BINARIZE_SEED UINT64_C(0x74657374)
#define TRAIN_BINARIZE_SEED UINT64_C(0x747261696e)

enum opt_id {
    OPT_DATA, OPT_ARCH, OPT_LATENT, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_SEED,
    OPT_OUT, OPT_METRICS, OPT_MODEL, OPT_N, OPT_PROGRESS, OPT_BINARIZE,
    OPT_THREADS, OPT_IWAE, OPT_LIMIT, OPT_RESUME, OPT_PAIRS, OPT_STEPS,
    OPT_GRID, OPT_LR_END, OPT_WARMUP, OPT_TRAIN_SAMPLES, OPT_PROJECTION,
    OPT_CONDITIONAL, OPT_LABEL, OPT_COUNT
};

extern const char *const image_opt_names[OPT_COUNT];

/* The flags that take no value (cli_main_switches). */
#define IMAGE_SWITCHES OPT(OPT_CONDITIONAL)

/* The flags of train, and its lines of the usage text. */
#define IMAGE_TRAIN_OPTS                                                     \
    (OPT(OPT_THREADS) | OPT(OPT_DATA) | OPT(OPT_ARCH) | OPT(OPT_LATENT) |    \
     OPT(OPT_EPOCHS) | OPT(OPT_BATCH) | OPT(OPT_LR) | OPT(OPT_SEED) |        \
     OPT(OPT_OUT) | OPT(OPT_METRICS) | OPT(OPT_PROGRESS) |                   \
     OPT(OPT_BINARIZE) | OPT(OPT_RESUME) | OPT(OPT_LR_END) |                 \
     OPT(OPT_WARMUP) | OPT(OPT_TRAIN_SAMPLES) | OPT(OPT_CONDITIONAL))
#define IMAGE_TRAIN_USAGE                                                        \
    "  train        --data DIR --out MODEL [--arch mlp|conv|mlp2|seed]\n"       \
    "               [--latent D] [--epochs N] [--batch B] [--lr LR] [--seed S]\n" \
    "               [--binarize none|dynamic|static] [--metrics FILE.jsonl]\n"  \
    "               [--resume MODEL] [--progress SECONDS]\n"                    \
    "               [--lr-end LR] [--warmup EPOCHS] [--train-samples K]\n"  \
    "               [--conditional]\n"

enum binarize { BIN_NONE, BIN_DYNAMIC, BIN_STATIC };

int get_binarize(const struct args *a, enum binarize *out);

/* Replaces each of the n pixels by a 0/1 draw with its value as the
 * probability, from a generator seeded with `seed`. */
void binarize_fixed(float *px, int64_t n, uint64_t seed);

/* The split of the IDX files in dir. */
int load_split(const char *dir, enum idx_split split, idx_dataset *d);

/* The rows x cols of the grey images a model is built for. */
int image_shape(const vae_model *m, int64_t *rows, int64_t *cols);

/* Fails unless m is built for the images of d (read from dir). */
int check_fits(const vae_model *m, const idx_dataset *d, const char *dir);

/* ---- Conditional models (train --conditional) ------------------------------
 * A conditional model reads its image's label as a one-hot condition of one
 * float per class (Sohn et al. 2015); the classes are 0 to the largest
 * training label. */

/* Labels are bytes, so a model of vae-image has at most this many classes. */
#define IMAGE_MAX_CLASSES 256

/* The classes of the conditional model m (read from path) into *classes,
 * 0 for an unconditional model; fails for a condition that is no one-hot
 * label of vae-image's (more than IMAGE_MAX_CLASSES floats). */
int image_classes(const vae_model *m, const char *path, int64_t *classes);

/* The classes of a conditional model trained on d: its largest label + 1. */
int64_t label_classes(const idx_dataset *d);

/* The one-hot rows of n labels, `classes` floats each, into *out (the
 * caller frees it). The labels must be below `classes`. */
int one_hot(const uint8_t *labels, int64_t n, int64_t classes, float **out);

/* The condition rows of d's images (one-hot labels) for a model of
 * `classes` classes into *cond, or NULL when classes is 0. Fails, naming
 * the split `what` of dir, for a label that is not one of the classes. */
int labels_condition(const idx_dataset *d, int64_t classes, const char *dir,
                     const char *what, float **cond);

#endif
