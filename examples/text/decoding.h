/* decoding.h - how vae-text turns latents into sentences: the decoding
 * flags (--decode, --temperature, --top-k, --top-p, --beam,
 * --no-repeat-ngram) with the default decoding, prior latents, and the
 * generated ids and text. Failures are recorded with fail() (cli.h). */
#ifndef VAE_TEXT_DECODING_H
#define VAE_TEXT_DECODING_H

#include <stdint.h>

#include "cli.h"
#include "textmodel.h"

enum decode_mode { DEC_GREEDY, DEC_SAMPLE, DEC_TOPK, DEC_TOPP, DEC_BEAM,
                   DEC_COUNT };

extern const char *const decode_names[DEC_COUNT];

struct decoding {
    int mode;
    double temperature, top_p;
    long top_k, beam, no_repeat_ngram; /* no_repeat_ngram 0: off */
};

/* The decoding flags of a, each absent one at its default. */
int get_decoding(const struct args *a, struct decoding *d);

/* Greedy decoding with the no-repeat rule of d: what reconstruct and
 * interpolate show and sample-stats scores. */
struct decoding greedy_like(const struct decoding *d);

/* n x D latents z ~ N(0, I) from the program's own generator seeded with
 * `seed` (inversion of 53-bit uniforms), so that the same seed gives the
 * same latents whatever the model's generator does. */
void prior_latents(uint64_t seed, int64_t n, int64_t D, float *z);

/* The `steps` latents evenly spaced from a to b (D floats each), a and b
 * included, into z (steps x D); t receives their positions in [0, 1]
 * (may be NULL). */
void interpolate_latents(const float *a, const float *b, int64_t D,
                         long steps, float *z, float *t);

/* Decodes the n latents z (n x latent) as d says into ids (n x maxlen
 * ints, each sentence ended by <eos> or maxlen, padded with 0); cond: a
 * conditional model's n genre rows (text_genre_rows), else NULL. Draws
 * come from the model's generator. */
int decode_ids(struct text_model *tm, const float *z, const float *cond,
               int64_t n, const struct decoding *d, int32_t *ids);

/* decode_ids, then each sentence as text: texts[i] malloc'd (free with
 * free_texts). */
int decode_texts(struct text_model *tm, const float *z, const float *cond,
                 int64_t n, const struct decoding *d, char **texts);

void free_texts(char **texts, int64_t n);

#endif
