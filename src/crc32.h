/* crc32.h - CRC-32 (IEEE 802.3 / zlib / PNG: reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF), the checksum of model
 * files. Incremental: crc = vae_crc32(crc, part, n) over consecutive parts,
 * starting from 0, gives the checksum of the concatenation. */
#ifndef VAE_CRC32_H
#define VAE_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t vae_crc32(uint32_t crc, const void *data, size_t n);

#endif
