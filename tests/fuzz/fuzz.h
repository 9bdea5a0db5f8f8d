/* fuzz.h - what every fuzz driver provides and may use. Each driver is
 * linked either with libFuzzer (scripts/fuzz.sh) or with replay.c, which
 * feeds it the files of a corpus in the normal test suite. */
#ifndef VAE_FUZZ_H
#define VAE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libFuzzer's entry point: runs one input; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep (beyond "no crash, no leak"): when it
 * fails the input is a finding, so the process stops the way a sanitizer
 * would and libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__,      \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)

#endif
