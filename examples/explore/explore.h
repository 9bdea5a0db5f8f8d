/* explore.h - vae-explore's model side: a loaded image or text model, the
 * optional data set it is shown with, the basis of the page's sliders and
 * map, and the JSON API over them (docs/explore.md). The API is plain
 * functions of a request body, so the HTTP server (server.h) and the tests
 * call the same code. Not thread-safe: one thread at a time uses an
 * explorer, as libvae's handles require. */
#ifndef VAE_EXPLORE_EXPLORE_H
#define VAE_EXPLORE_EXPLORE_H

#include <stddef.h>
#include <stdint.h>

#include <vae.h>

#include "pca.h"
#include "textmodel.h"

/* Limits that bound every request's work and answer. */
#define EXPLORE_MAX_BODY 65536     /* request body bytes */
#define EXPLORE_MAX_LATENT 4096    /* models with larger latents are refused */
#define EXPLORE_MAX_PIXELS 65536   /* images up to 256 x 256 */
#define EXPLORE_MAX_N 64           /* samples per request */
#define EXPLORE_MAX_STEPS 32       /* interpolation steps */
#define EXPLORE_MAX_SENTENCE 1000  /* bytes of a typed sentence */
#define EXPLORE_MAX_MAP 20000      /* points on the latent map */
#define EXPLORE_SLIDERS 8          /* basis vectors the page has sliders for */
#define EXPLORE_Z_LIMIT 1000.0     /* |z_i| above this is refused */

enum explore_kind { EXPLORE_IMAGE, EXPLORE_TEXT };

struct explore_config {
    const char *model;  /* model file */
    const char *data;   /* image: IDX directory; text: corpus path; or NULL */
    const char *corpus; /* text: brown, aclimdb or lines (default brown) */
    long map_limit;     /* test items on the map (and fitting the basis) */
    uint64_t seed;      /* the explorer's own generator (text samples) */
};

struct explore {
    enum explore_kind kind;
    vae_model *m;         /* the model (tm.m for text) */
    struct text_model tm; /* text: the model file's vocabulary and sizes */
    char *model_name, *data_name; /* base names, for the page's heading */
    int64_t latent, dims[4];
    int32_t rank;
    int64_t item_size; /* floats per example */
    /* The data set's test split (n_items = 0 without --data): images as
     * floats in [0, 1], sentences as token ids. */
    int64_t n_items;
    float *items;
    int *labels;
    int nclass;
    char **class_names;
    const char *legend;
    /* The slider basis: z = mean + sum_j c_j axes_j; the principal axes of
     * the map's posterior means, or the latent's first coordinates without
     * data. scale[j] is the spread along axis j (the page's slider range
     * is +-3 scale). */
    int64_t nbasis;
    double *mean, *axes, *scale, *share;
    int basis_is_pca;
    /* The map: the first n_map items' posterior means in the first two
     * basis coordinates. */
    int64_t n_map;
    float *map_xy;
    uint64_t rng;
};

/* Loads the model (an image model, or a text model when its metadata is
 * vae-text's) and the data, fits the basis and the map. Returns 0, or -1
 * with fail() (cli.h); *e can always be passed to explore_close. */
int explore_open(struct explore *e, const struct explore_config *cfg);
void explore_close(struct explore *e);

/* One API call: method ("GET", "POST", ...) and path ("/api/decode"), the
 * request body (may be NULL when len is 0). Returns the HTTP status and a
 * malloc'd JSON body in *out (the answer, or {"error": "..."}); *out is
 * NULL only when memory ran out (then the status is 500). */
unsigned explore_api(struct explore *e, const char *method, const char *path,
                     const char *body, size_t len, char **out);

#endif
