/* le32.h - the little-endian u32 fields of vae-text's serialised forms
 * (vocabulary, subword model, model metadata). */
#ifndef VAE_TEXT_LE32_H
#define VAE_TEXT_LE32_H

#include <stdint.h>

static inline void le32_put(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t le32_get(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

#endif
