/* idx.h - loader for MNIST-style IDX image/label files (raw or gzip). */
#ifndef VAE_IMAGE_IDX_H
#define VAE_IMAGE_IDX_H

#include <stddef.h>
#include <stdint.h>

/* Limits that keep a hostile header from asking for absurd sizes. MNIST
 * (28 x 28, 60000 images) and its look-alikes are far inside them. */
#define IDX_MAX_SIDE 1024                   /* rows and cols, each          */
#define IDX_MAX_BYTES ((uint64_t)1 << 31)   /* count * rows * cols, total    */
/* A larger file is refused before it is read: the data and its header,
 * plus room for gzip's framing (stored blocks add 5 bytes per 64 KiB, 160
 * KiB on IDX_MAX_BYTES). */
#define IDX_MAX_FILE_BYTES (IDX_MAX_BYTES + ((uint64_t)1 << 20))

typedef struct idx_dataset {
    int64_t count;   /* number of images (= number of labels) */
    int64_t rows;
    int64_t cols;
    float *pixels;   /* count x rows x cols, row-major, pixel / 255 */
    uint8_t *labels; /* count */
} idx_dataset;

enum idx_split { IDX_TRAIN, IDX_TEST };

/*
 * Loads an images file (magic 0x00000803) and its labels file (0x00000801).
 * Either may be gzip-compressed. The headers are checked (magic, sizes within
 * the limits above, equal counts) and each file must hold exactly the bytes
 * its header announces. Each must be a regular file (a FIFO or a device is
 * refused at once, see files.h) of at most IDX_MAX_FILE_BYTES.
 * Returns 0, or -1 with a one-line message in err
 * (may be NULL); *out is then zeroed, so idx_free(out) is always safe.
 */
int idx_load_files(const char *images_path, const char *labels_path,
                   idx_dataset *out, char *err, size_t errlen);

/*
 * As idx_load_files for the uncompressed bytes of both files already in
 * memory (gzip data is not decoded here); messages call them "images" and
 * "labels". A NULL buffer is an error unless its length is 0.
 */
int idx_load_memory(const void *images, size_t images_len, const void *labels,
                    size_t labels_len, idx_dataset *out, char *err,
                    size_t errlen);

/*
 * Loads a split from a directory holding the usual file names:
 * {train,t10k}-{images-idx3,labels-idx1}-ubyte, optionally ending in ".gz",
 * and the variant spelling with '.' before "idx" (train-images.idx3-ubyte).
 */
int idx_load_dir(const char *dir, enum idx_split split, idx_dataset *out,
                 char *err, size_t errlen);

/*
 * Writes an IDX file of unsigned bytes: images (ndims 3: count, rows, cols)
 * or labels (ndims 1: count), raw (not gzipped), replacing path atomically
 * as files.h describes. Returns 0, or -1 with a one-line message in err
 * ("PATH: cannot write: No space left on device").
 */
int idx_write(const char *path, const uint8_t *data, const uint32_t *dims,
              int ndims, char *err, size_t errlen);

/* Releases the buffers and zeroes *d. NULL is a no-op. */
void idx_free(idx_dataset *d);

#endif
