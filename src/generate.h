/* generate.h - incremental decoding (generate.c) for callers that already
 * hold the model: vae_model_generate's body, which decode and reconstruct
 * use for teacher-forced decoders. */
#ifndef VAE_GENERATE_H
#define VAE_GENERATE_H

#include "model.h"

int32_t vae_generate(vae_model *m, const float *z, int64_t n, int32_t mode,
                     double temperature, int64_t top_k, int64_t beam,
                     int64_t eos, int64_t max_len, float *out, int64_t *steps);

#endif
