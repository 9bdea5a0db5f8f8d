/* generate.h - incremental decoding (generate.c) for callers that already
 * hold the model: the body of vae_model_generate and _generate_tokens,
 * which decode and reconstruct use for teacher-forced decoders. */
#ifndef VAE_GENERATE_H
#define VAE_GENERATE_H

#include "model.h"

int32_t vae_generate(vae_model *m, const float *z, int64_t n,
                     const vae_gen_settings *g, int64_t max_len, float *out,
                     int64_t *steps);

#endif
