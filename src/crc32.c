/* crc32.c - table-driven CRC-32, one half-byte per table step.
 *
 * A 16-entry table is small enough to be a compile-time constant spelled by
 * macros (a 256-entry one would be 64x larger after preprocessing), so the
 * checksum needs no initialisation and is safe from any thread. Two lookups
 * per byte still checksum far faster than model files are read or written. */
#include "crc32.h"

#define VAE_CRC_POLY 0xEDB88320u
/* One round of the reflected division; the entry for nibble n is n shifted
 * through four rounds. */
#define R1(c) (((c) >> 1) ^ (((c) & 1u) ? VAE_CRC_POLY : 0u))
#define R4(c) R1(R1(R1(R1(c))))
#define E4(n) R4((n) + 0u), R4((n) + 1u), R4((n) + 2u), R4((n) + 3u)

static const uint32_t table[16] = {E4(0), E4(4), E4(8), E4(12)};

uint32_t vae_crc32(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = table[crc & 0xFu] ^ (crc >> 4);
        crc = table[crc & 0xFu] ^ (crc >> 4);
    }
    return ~crc;
}
