/* fuzz_idx.c - the IDX loader of examples/image on arbitrary bytes.
 *
 * Input layout: byte 0 chooses the path (bit 0 clear: idx_load_memory;
 * set: both parts are written to temporary files and read back through
 * idx_load_files, which decodes gzip); bytes 1..4 are the length of the
 * images part (little-endian, cut to what is there); the rest is the labels
 * part. A dataset that loads must match its header and hold pixels in
 * [0, 1], and a plain (not gzip) input read from files must give what the
 * same bytes give from memory. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <string.h>

#include "fuzz.h"
#include "idx.h"

static char g_dir[512];
static char g_images[600];
static char g_labels[600];
static volatile uint8_t g_sink;

static void remove_files(void)
{
    remove(g_images);
    remove(g_labels);
    remove(g_dir);
}

/* The files of the file path, made once per process. */
static void make_dir(void)
{
    const char *tmp = getenv("TMPDIR");

    if (g_dir[0])
        return;
    snprintf(g_dir, sizeof g_dir, "%s/fuzz_idx.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(g_dir) != NULL);
    snprintf(g_images, sizeof g_images, "%s/images", g_dir);
    snprintf(g_labels, sizeof g_labels, "%s/labels", g_dir);
    atexit(remove_files);
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    FUZZ_CHECK(fp != NULL);
    FUZZ_CHECK(n == 0 || fwrite(p, 1, n, fp) == n);
    FUZZ_CHECK(fclose(fp) == 0);
}

static int is_gzip(const uint8_t *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* A loaded dataset is what its header says. */
static void check_dataset(const idx_dataset *d)
{
    FUZZ_CHECK(d->count >= 1 && d->rows >= 1 && d->rows <= IDX_MAX_SIDE &&
               d->cols >= 1 && d->cols <= IDX_MAX_SIDE);
    for (int64_t i = 0; i < d->count * d->rows * d->cols; i++)
        FUZZ_CHECK(d->pixels[i] >= 0.0f && d->pixels[i] <= 1.0f);
    /* Reading every label lets the sanitizers check that count exist. */
    for (int64_t i = 0; i < d->count; i++)
        g_sink ^= d->labels[i];
}

static int load(int from_files, const uint8_t *im, size_t ilen,
                const uint8_t *lb, size_t llen, idx_dataset *d)
{
    char err[256] = "";
    int rc;

    if (from_files) {
        make_dir();
        write_file(g_images, im, ilen);
        write_file(g_labels, lb, llen);
        rc = idx_load_files(g_images, g_labels, d, err, sizeof err);
    } else {
        rc = idx_load_memory(im, ilen, lb, llen, d, err, sizeof err);
    }
    if (rc != 0) {
        FUZZ_CHECK(rc == -1 && err[0] != '\0');
        FUZZ_CHECK(d->pixels == NULL && d->labels == NULL && d->count == 0);
    } else {
        check_dataset(d);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *im = data + 5, *lb;
    size_t ilen, llen;
    idx_dataset d, m;
    int rc;

    if (size < 5)
        return 0;
    ilen = (size_t)data[1] | (size_t)data[2] << 8 | (size_t)data[3] << 16 |
           (size_t)data[4] << 24;
    if (ilen > size - 5)
        ilen = size - 5;
    lb = im + ilen;
    llen = size - 5 - ilen;
    rc = load(data[0] & 1, im, ilen, lb, llen, &d);
    /* Plain files and memory go through the same checks: the two must
     * agree on every input that is not gzip. */
    if ((data[0] & 1) && !is_gzip(im, ilen) && !is_gzip(lb, llen)) {
        FUZZ_CHECK(load(0, im, ilen, lb, llen, &m) == rc);
        if (rc == 0) {
            FUZZ_CHECK(m.count == d.count && m.rows == d.rows &&
                       m.cols == d.cols);
            FUZZ_CHECK(memcmp(m.pixels, d.pixels, (size_t)(d.count * d.rows *
                              d.cols) * sizeof *d.pixels) == 0);
            FUZZ_CHECK(memcmp(m.labels, d.labels, (size_t)d.count) == 0);
        }
        idx_free(&m);
    }
    idx_free(&d);
    return 0;
}
