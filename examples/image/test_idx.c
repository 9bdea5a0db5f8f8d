/* test_idx.c - the IDX loader on small files written by the tests: valid
 * pairs (raw, gzip, every accepted file name) and damaged ones, which must
 * give an error message and never crash; FIFOs, devices and oversized
 * files, which must be refused at once; and the writer, whose files load
 * back. */
#define _POSIX_C_SOURCE 200809L /* mkfifo, ftruncate, alarm */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "idx.h"
#include "test_dir.h"

/* Three 2x2 images and their labels. */
static const unsigned char PIX[12] = {0, 255, 51, 102, 153, 204,
                                      1, 2,   3,  4,   5,   6};
static const unsigned char LAB[3] = {7, 0, 9};

struct fixture {
    char dir[256];
    char err[512];
};

/* Paths handed out by write_file, reused round-robin; no test keeps more
 * than a few alive at once. */
#define PATH_SLOTS 16
static char g_paths[PATH_SLOTS][512];
static unsigned g_next_path;

struct bytes {
    unsigned char b[64];
    size_t n;
};

static void put32(struct bytes *x, uint32_t v)
{
    x->b[x->n++] = (unsigned char)(v >> 24);
    x->b[x->n++] = (unsigned char)(v >> 16);
    x->b[x->n++] = (unsigned char)(v >> 8);
    x->b[x->n++] = (unsigned char)v;
}

static void put(struct bytes *x, const unsigned char *p, size_t n)
{
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

static struct bytes images(uint32_t magic, uint32_t count, uint32_t rows,
                           uint32_t cols, size_t npix)
{
    struct bytes x = {{0}, 0};
    put32(&x, magic);
    put32(&x, count);
    put32(&x, rows);
    put32(&x, cols);
    put(&x, PIX, npix);
    return x;
}

static struct bytes labels(uint32_t magic, uint32_t count, size_t nlab)
{
    struct bytes x = {{0}, 0};
    put32(&x, magic);
    put32(&x, count);
    put(&x, LAB, nlab);
    return x;
}

static struct bytes good_images(void)
{
    return images(0x803, 3, 2, 2, sizeof PIX);
}

static struct bytes good_labels(void)
{
    return labels(0x801, 3, sizeof LAB);
}

/* Writes data to dir/name, gzip-compressed if gz; returns the path. */
static const char *write_file(const struct fixture *f, const char *name,
                              const void *data, size_t n, int gz)
{
    char *path = g_paths[g_next_path++ % PATH_SLOTS];

    snprintf(path, sizeof g_paths[0], "%s/%s", f->dir, name);
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        if (n)
            assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        if (n)
            assert_int_equal(fwrite(data, 1, n, fp), n);
        assert_int_equal(fclose(fp), 0);
    }
    return path;
}

static const char *write_bytes(const struct fixture *f, const char *name,
                               struct bytes x, int gz)
{
    return write_file(f, name, x.b, x.n, gz);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    if (test_dir_make(f->dir, sizeof f->dir, "test_idx") != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_dir_remove(f->dir);
    free(f);
    return 0;
}

static void expect_good(const idx_dataset *d)
{
    assert_int_equal(d->count, 3);
    assert_int_equal(d->rows, 2);
    assert_int_equal(d->cols, 2);
    assert_non_null(d->pixels);
    assert_non_null(d->labels);
    assert_true(d->pixels[0] == 0.0f);
    assert_true(d->pixels[1] == 1.0f);
    for (size_t i = 0; i < sizeof PIX; i++)
        assert_true(fabs(d->pixels[i] - PIX[i] / 255.0) < 1e-7);
    assert_memory_equal(d->labels, LAB, sizeof LAB);
}

/* Loading must fail with a message holding `needle`, and leave *d empty. */
static void expect_error(struct fixture *f, const char *images_path,
                         const char *labels_path, const char *needle)
{
    idx_dataset d;
    memset(&d, 0xAB, sizeof d);
    f->err[0] = '\0';
    assert_int_equal(idx_load_files(images_path, labels_path, &d, f->err,
                                    sizeof f->err), -1);
    if (!strstr(f->err, needle))
        fail_msg("error '%s' lacks '%s'", f->err, needle);
    assert_null(d.pixels);
    assert_null(d.labels);
    assert_int_equal(d.count, 0);
    idx_free(&d);
}

static void test_raw_pair(void **state)
{
    struct fixture *f = *state;
    const char *im = write_bytes(f, "im", good_images(), 0);
    const char *lb = write_bytes(f, "lb", good_labels(), 0);
    idx_dataset d;

    assert_int_equal(idx_load_files(im, lb, &d, f->err, sizeof f->err), 0);
    expect_good(&d);
    idx_free(&d);
    assert_null(d.pixels);
}

static void test_gzip_pair(void **state)
{
    struct fixture *f = *state;
    const char *im = write_bytes(f, "im.gz", good_images(), 1);
    const char *lb = write_bytes(f, "lb.gz", good_labels(), 1);
    idx_dataset d;

    assert_int_equal(idx_load_files(im, lb, &d, f->err, sizeof f->err), 0);
    expect_good(&d);
    idx_free(&d);
}

static void test_dir_names(void **state)
{
    struct fixture *f = *state;
    idx_dataset d;

    /* Training split: standard names, one compressed, one not. */
    write_bytes(f, "train-images-idx3-ubyte.gz", good_images(), 1);
    write_bytes(f, "train-labels-idx1-ubyte", good_labels(), 0);
    /* Test split: the dotted spelling some mirrors use. */
    write_bytes(f, "t10k-images.idx3-ubyte", good_images(), 0);
    write_bytes(f, "t10k-labels.idx1-ubyte.gz", good_labels(), 1);

    assert_int_equal(idx_load_dir(f->dir, IDX_TRAIN, &d, f->err, sizeof f->err), 0);
    expect_good(&d);
    idx_free(&d);
    assert_int_equal(idx_load_dir(f->dir, IDX_TEST, &d, f->err, sizeof f->err), 0);
    expect_good(&d);
    idx_free(&d);
}

static void test_bad_magic(void **state)
{
    struct fixture *f = *state;
    const char *lb = write_bytes(f, "lb", good_labels(), 0);
    const char *im = write_bytes(f, "im", images(0x801, 3, 2, 2, 12), 0);
    expect_error(f, im, lb, "magic");

    im = write_bytes(f, "im", good_images(), 0);
    lb = write_bytes(f, "lb", labels(0x803, 3, 3), 0);
    expect_error(f, im, lb, "magic");

    /* Images and labels given the wrong way round. */
    im = write_bytes(f, "im", good_images(), 0);
    lb = write_bytes(f, "lb", good_labels(), 0);
    expect_error(f, lb, im, "magic");
}

static void test_truncated(void **state)
{
    struct fixture *f = *state;
    struct bytes whole = good_images();
    const char *lb = write_bytes(f, "lb", good_labels(), 0);
    const char *im = write_bytes(f, "im", images(0x803, 3, 2, 2, 11), 0);
    expect_error(f, im, lb, "truncated");

    im = write_bytes(f, "im", good_images(), 0);
    lb = write_bytes(f, "lb", labels(0x801, 3, 2), 0);
    expect_error(f, im, lb, "truncated");

    /* Header cut inside the dimensions, and before the magic ends. */
    im = write_file(f, "im", whole.b, 10, 0);
    lb = write_bytes(f, "lb", good_labels(), 0);
    expect_error(f, im, lb, "truncated");
    im = write_file(f, "im", whole.b, 2, 0);
    expect_error(f, im, lb, "too short");
    im = write_file(f, "im", "", 0, 0);
    expect_error(f, im, lb, "too short");
}

static void test_truncated_gzip(void **state)
{
    struct fixture *f = *state;
    const char *lb = write_bytes(f, "lb", good_labels(), 0);
    const char *im = write_bytes(f, "im.gz", good_images(), 1);
    unsigned char whole[256];
    size_t n;
    FILE *fp = fopen(im, "rb");

    assert_non_null(fp);
    n = fread(whole, 1, sizeof whole, fp);
    fclose(fp);
    assert_true(n > 20);
    /* Drop the trailer and part of the deflate stream. */
    im = write_file(f, "im.gz", whole, n - 12, 0);
    expect_error(f, im, lb, "im.gz");
}

static void test_corrupt_gzip(void **state)
{
    struct fixture *f = *state;
    static const unsigned char junk[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
                                         0xde, 0xad, 0xbe, 0xef, 0x55, 0xaa,
                                         0x00, 0xff, 0x12, 0x34};
    const char *lb = write_bytes(f, "lb", good_labels(), 0);
    const char *im = write_file(f, "im.gz", junk, sizeof junk, 0);
    expect_error(f, im, lb, "im.gz");
}

static void test_trailing_data(void **state)
{
    struct fixture *f = *state;
    struct bytes x = good_images();
    const char *lb = write_bytes(f, "lb", good_labels(), 0);
    const char *im;

    x.b[x.n++] = 0;
    im = write_bytes(f, "im", x, 0);
    expect_error(f, im, lb, "trailing");
    im = write_bytes(f, "im.gz", x, 1);
    expect_error(f, im, lb, "trailing");
}

static void test_count_mismatch(void **state)
{
    struct fixture *f = *state;
    const char *im = write_bytes(f, "im", good_images(), 0);
    const char *lb = write_bytes(f, "lb", labels(0x801, 2, 2), 0);
    expect_error(f, im, lb, "3 images");
    expect_error(f, im, lb, "2 labels");
}

static void test_bad_dimensions(void **state)
{
    struct fixture *f = *state;
    const char *lb = write_bytes(f, "lb", good_labels(), 0);
    const char *im = write_bytes(f, "im", images(0x803, 3, 100000, 100000, 12), 0);
    expect_error(f, im, lb, "outside");

    im = write_bytes(f, "im", images(0x803, 3, 0, 2, 12), 0);
    expect_error(f, im, lb, "outside");

    im = write_bytes(f, "im", images(0x803, 0, 2, 2, 0), 0);
    lb = write_bytes(f, "lb", labels(0x801, 0, 0), 0);
    expect_error(f, im, lb, "no images");

    /* Within the per-side limit but 4 TiB in total. */
    im = write_bytes(f, "im", images(0x803, 0xFFFFFFFFu, 1024, 1024, 12), 0);
    lb = write_bytes(f, "lb", labels(0x801, 0xFFFFFFFFu, 3), 0);
    expect_error(f, im, lb, "limit");

    /* Plausible header, tiny file: must fail without trusting the size. */
    im = write_bytes(f, "im", images(0x803, 1000000, 28, 28, 12), 0);
    lb = write_bytes(f, "lb", labels(0x801, 1000000, 3), 0);
    expect_error(f, im, lb, "truncated");
}

static void test_missing(void **state)
{
    struct fixture *f = *state;
    char missing[300];
    idx_dataset d;

    snprintf(missing, sizeof missing, "%s/no-such-dir", f->dir);
    assert_int_equal(idx_load_dir(missing, IDX_TRAIN, &d, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "train-images-idx3-ubyte"));
    assert_non_null(strstr(f->err, "no-such-dir"));
    assert_null(d.pixels);

    /* Images present, labels absent. */
    write_bytes(f, "t10k-images-idx3-ubyte", good_images(), 0);
    assert_int_equal(idx_load_dir(f->dir, IDX_TEST, &d, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "t10k-labels-idx1-ubyte"));

    snprintf(missing, sizeof missing, "%s/nothing", f->dir);
    expect_error(f, missing, missing, "nothing");
}

/* A FIFO with no writer, a device or a directory as either file, or as a
 * file of a data directory, is refused within a second (the alarm turns a
 * hang into a failure), and so is a file beyond IDX_MAX_FILE_BYTES. */
static void test_not_regular(void **state)
{
    struct fixture *f = *state;
    const char *im = write_bytes(f, "im", good_images(), 0);
    const char *lb = write_bytes(f, "lb", good_labels(), 0);
    const char *fifo = write_bytes(f, "t10k-images-idx3-ubyte", good_images(), 0);
    const char *big = write_bytes(f, "big", good_images(), 0);
    idx_dataset d;
    double t0 = test_seconds();

    alarm(10);
    assert_int_equal(unlink(fifo), 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_error(f, fifo, lb, "t10k-images-idx3-ubyte: not a regular file (a FIFO)");
    expect_error(f, im, fifo, "t10k-images-idx3-ubyte: not a regular file (a FIFO)");
    expect_error(f, "/dev/zero", lb, "/dev/zero: not a regular file (a character device)");
    expect_error(f, im, f->dir, "not a regular file (a directory)");
    write_bytes(f, "t10k-labels-idx1-ubyte", good_labels(), 0);
    assert_int_equal(idx_load_dir(f->dir, IDX_TEST, &d, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "t10k-images-idx3-ubyte: not a regular file (a FIFO)"));
    assert_int_equal(idx_load_dir(fifo, IDX_TEST, &d, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "Not a directory"));
    assert_int_equal(truncate(big, (off_t)IDX_MAX_FILE_BYTES + 1), 0);
    expect_error(f, big, lb, "big: too large: more than");
    alarm(0);
    assert_true(test_seconds() - t0 < 1.0);
}

/* The in-memory entry point: the same result and the same checks. */
static void test_memory(void **state)
{
    struct fixture *f = *state;
    struct bytes im = good_images(), lb = good_labels();
    idx_dataset d;

    assert_int_equal(idx_load_memory(im.b, im.n, lb.b, lb.n, &d, f->err,
                                     sizeof f->err), 0);
    expect_good(&d);
    idx_free(&d);

    assert_int_equal(idx_load_memory(im.b, im.n - 1, lb.b, lb.n, &d, f->err,
                                     sizeof f->err), -1);
    assert_non_null(strstr(f->err, "images: truncated"));
    assert_null(d.pixels);
    assert_int_equal(idx_load_memory(im.b, im.n, lb.b, lb.n + 1, &d, f->err,
                                     sizeof f->err), -1);
    assert_non_null(strstr(f->err, "labels: trailing"));
    assert_int_equal(idx_load_memory(im.b, im.n, lb.b, 0, &d, f->err,
                                     sizeof f->err), -1);
    assert_non_null(strstr(f->err, "labels: too short"));
    assert_int_equal(idx_load_memory(NULL, 1, lb.b, lb.n, &d, f->err,
                                     sizeof f->err), -1);
    assert_int_equal(idx_load_memory(im.b, im.n, lb.b, lb.n, NULL, NULL, 0),
                     -1);
}

static void test_error_buffer(void **state)
{
    struct fixture *f = *state;
    char small[8];
    const char *lb = write_bytes(f, "lb", good_labels(), 0);
    const char *im = write_bytes(f, "im", images(0x802, 3, 2, 2, 12), 0);
    idx_dataset d;

    memset(small, 'x', sizeof small);
    assert_int_equal(idx_load_files(im, lb, &d, small, sizeof small), -1);
    assert_true(memchr(small, '\0', sizeof small) != NULL);
    assert_int_equal(idx_load_files(im, lb, &d, NULL, 0), -1);
    assert_int_equal(idx_load_files(NULL, lb, &d, NULL, 0), -1);
    assert_int_equal(idx_load_files(im, lb, NULL, NULL, 0), -1);
    assert_int_equal(idx_load_dir(NULL, IDX_TRAIN, &d, NULL, 0), -1);
    idx_free(NULL);
}

/* idx_write's files load back as they were written, the bytes those of
 * hand-made files; a bad call writes nothing. */
static void test_write(void **state)
{
    struct fixture *f = *state;
    const uint32_t idims[3] = {3, 2, 2}, ldims[1] = {3};
    struct bytes im = good_images(), lb = good_labels();
    char ip[512], lp[512], *got = NULL;
    idx_dataset d;
    FILE *fp;

    snprintf(ip, sizeof ip, "%s/w-images-idx3-ubyte", f->dir);
    snprintf(lp, sizeof lp, "%s/w-labels-idx1-ubyte", f->dir);
    assert_int_equal(idx_write(ip, PIX, idims, 3, f->err, sizeof f->err), 0);
    assert_int_equal(idx_write(lp, LAB, ldims, 1, f->err, sizeof f->err), 0);
    assert_int_equal(idx_load_files(ip, lp, &d, f->err, sizeof f->err), 0);
    expect_good(&d);
    idx_free(&d);
    got = malloc(im.n + 1);
    assert_non_null(got);
    assert_non_null(fp = fopen(ip, "rb"));
    assert_int_equal(fread(got, 1, im.n + 1, fp), im.n);
    assert_int_equal(fclose(fp), 0);
    assert_memory_equal(got, im.b, im.n);
    assert_non_null(fp = fopen(lp, "rb"));
    assert_int_equal(fread(got, 1, lb.n + 1, fp), lb.n);
    assert_int_equal(fclose(fp), 0);
    assert_memory_equal(got, lb.b, lb.n);
    free(got);

    assert_int_equal(idx_write(ip, PIX, idims, 2, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "invalid argument"));
    snprintf(ip, sizeof ip, "%s/no/such/dir/x", f->dir);
    assert_int_equal(idx_write(ip, PIX, idims, 3, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "cannot write"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_dimensions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
