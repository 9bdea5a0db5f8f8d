/* idx.c - MNIST IDX loader. zlib's gz* calls read gzip and plain files alike,
 * so one code path serves both, and bytes in memory go through the same
 * checks. */
#define _POSIX_C_SOURCE 200809L /* stat, close */

#include "idx.h"
#include "errmsg.h"
#include "files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_IMAGES_MAGIC 0x00000803u /* unsigned bytes, 3 dimensions */
#define IDX_LABELS_MAGIC 0x00000801u /* unsigned bytes, 1 dimension  */

/* gzread takes an unsigned int length; stay well inside it. */
#define READ_CHUNK ((uint64_t)1 << 30)


static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One IDX file being read: a gzip or plain file through zlib, or bytes
 * already in memory (not decompressed). */
struct idx_file {
    gzFile f;
    int in_memory;
    const unsigned char *mem;
    size_t len, pos;
    const char *path; /* the name in messages */
    uint32_t dims[3];
};

/* zlib's account of why a stream stopped early, or "" if it simply ended
 * (memory never fails). */
static const char *gz_reason(const struct idx_file *x)
{
    int code;
    const char *msg;
    if (x->in_memory)
        return "";
    msg = gzerror(x->f, &code);
    return (code == Z_OK || code == Z_STREAM_END || !msg) ? "" : msg;
}

/* Reads until n bytes or end of data. Returns the count, or -1 on an error
 * of the underlying file or of the gzip stream. */
static int64_t read_upto(struct idx_file *x, unsigned char *buf, uint64_t n)
{
    uint64_t got = 0;
    if (x->in_memory) {
        size_t left = x->len - x->pos;
        got = n < left ? n : left;
        if (got)
            memcpy(buf, x->mem + x->pos, (size_t)got);
        x->pos += (size_t)got;
        return (int64_t)got;
    }
    while (got < n) {
        uint64_t want = n - got < READ_CHUNK ? n - got : READ_CHUNK;
        int r = gzread(x->f, buf + got, (unsigned)want);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (uint64_t)r;
    }
    return (int64_t)got;
}

/* Opens x (a file unless it is in memory), checks its magic number and
 * reads ndims big-endian sizes. */
static int idx_open(struct idx_file *x, uint32_t magic, int ndims, char *err,
                    size_t errlen)
{
    const char *path = x->path;
    unsigned char hdr[16];
    uint64_t hdr_len = 4 + 4 * (uint64_t)ndims;
    int64_t got;

    if (!x->in_memory) {
        int fd;
        if (file_open_input(path, IDX_MAX_FILE_BYTES, &fd, NULL, err,
                            errlen) != 0)
            return -1;
        x->f = gzdopen(fd, "rb");
        if (!x->f) {
            close(fd);
            return errmsg_set(err, errlen, "%s: out of memory", path);
        }
        gzbuffer(x->f, 1u << 17);
    }

    got = read_upto(x, hdr, hdr_len);
    if (got < 0)
        return errmsg_set(err, errlen, "%s: read error: %s", path, gz_reason(x));
    if (got < 4)
        return errmsg_set(err, errlen, "%s: too short to be an IDX file (%lld bytes)",
                    path, (long long)got);
    if (be32(hdr) != magic)
        return errmsg_set(err, errlen,
                    "%s: bad magic number 0x%08x, expected 0x%08x (IDX %s file)",
                    path, (unsigned)be32(hdr), (unsigned)magic,
                    magic == IDX_IMAGES_MAGIC ? "images" : "labels");
    if ((uint64_t)got < hdr_len)
        return errmsg_set(err, errlen, "%s: truncated IDX header (%lld of %llu bytes)",
                    path, (long long)got, (unsigned long long)hdr_len);
    for (int i = 0; i < ndims; i++)
        x->dims[i] = be32(hdr + 4 + 4 * i);
    return 0;
}

/* Reads exactly `size` data bytes and checks that nothing follows them. The
 * buffer grows with the data actually present, so a header that lies about
 * its size cannot make us allocate more than the file holds (plus one step). */
static int idx_read_data(struct idx_file *x, uint64_t size, unsigned char **out,
                         char *err, size_t errlen)
{
    unsigned char *buf = NULL;
    uint64_t cap = 0, len = 0;
    unsigned char extra;
    int64_t more;

    while (len < size) {
        uint64_t next = cap ? cap * 2 : (uint64_t)1 << 20;
        unsigned char *grown;
        int64_t got;

        if (next > size)
            next = size;
        grown = realloc(buf, (size_t)next);
        if (!grown) {
            free(buf);
            return errmsg_set(err, errlen, "%s: out of memory", x->path);
        }
        buf = grown;
        cap = next;
        got = read_upto(x, buf + len, cap - len);
        if (got < 0) {
            free(buf);
            return errmsg_set(err, errlen, "%s: read error: %s", x->path,
                        gz_reason(x));
        }
        len += (uint64_t)got;
        if (len < cap)
            break;
    }
    if (len < size) {
        const char *why = gz_reason(x);
        free(buf);
        return errmsg_set(err, errlen,
                    "%s: truncated: header announces %llu data bytes, found %llu%s%s",
                    x->path, (unsigned long long)size, (unsigned long long)len,
                    *why ? "; " : "", why);
    }
    more = read_upto(x, &extra, 1);
    if (more != 0) {
        free(buf);
        if (more < 0)
            return errmsg_set(err, errlen, "%s: read error: %s", x->path,
                        gz_reason(x));
        return errmsg_set(err, errlen,
                    "%s: trailing data after the %llu bytes the header announces",
                    x->path, (unsigned long long)size);
    }
    *out = buf;
    return 0;
}

/* The loader both entry points share: im and lb are set up for idx_open. */
static int idx_load(struct idx_file *im, struct idx_file *lb, idx_dataset *out,
                    char *err, size_t errlen)
{
    unsigned char *pix = NULL, *lab = NULL;
    float *pixels = NULL;
    uint64_t count, rows, cols, bytes;
    int rc = -1;

    if (idx_open(im, IDX_IMAGES_MAGIC, 3, err, errlen) != 0 ||
        idx_open(lb, IDX_LABELS_MAGIC, 1, err, errlen) != 0)
        goto done;

    count = im->dims[0];
    rows = im->dims[1];
    cols = im->dims[2];
    if (count == 0) {
        errmsg_set(err, errlen, "%s: holds no images", im->path);
        goto done;
    }
    if (rows == 0 || cols == 0 || rows > IDX_MAX_SIDE || cols > IDX_MAX_SIDE) {
        errmsg_set(err, errlen, "%s: image size %llux%llu outside 1..%d per side",
             im->path, (unsigned long long)rows, (unsigned long long)cols,
             IDX_MAX_SIDE);
        goto done;
    }
    if (lb->dims[0] != count) {
        errmsg_set(err, errlen, "%s holds %llu images but %s holds %llu labels",
             im->path, (unsigned long long)count, lb->path,
             (unsigned long long)lb->dims[0]);
        goto done;
    }
    /* Cannot overflow: count < 2^32 and rows * cols <= 2^20. */
    bytes = count * rows * cols;
    if (bytes > IDX_MAX_BYTES || bytes > SIZE_MAX / sizeof(float)) {
        errmsg_set(err, errlen, "%s: %llu images of %llux%llu exceed the %llu-byte limit",
             im->path, (unsigned long long)count, (unsigned long long)rows,
             (unsigned long long)cols, (unsigned long long)IDX_MAX_BYTES);
        goto done;
    }

    if (idx_read_data(im, bytes, &pix, err, errlen) != 0 ||
        idx_read_data(lb, count, &lab, err, errlen) != 0)
        goto done;

    pixels = malloc((size_t)bytes * sizeof *pixels);
    if (!pixels) {
        errmsg_set(err, errlen, "%s: out of memory", im->path);
        goto done;
    }
    for (uint64_t i = 0; i < bytes; i++)
        pixels[i] = (float)pix[i] / 255.0f;

    out->count = (int64_t)count;
    out->rows = (int64_t)rows;
    out->cols = (int64_t)cols;
    out->pixels = pixels;
    out->labels = lab;
    lab = NULL;
    rc = 0;

done:
    free(pix);
    free(lab);
    return rc;
}

int idx_load_files(const char *images_path, const char *labels_path,
                   idx_dataset *out, char *err, size_t errlen)
{
    struct idx_file im = {0}, lb = {0};
    int rc;

    if (!out)
        return errmsg_set(err, errlen, "idx_load_files: out is NULL");
    memset(out, 0, sizeof *out);
    if (!images_path || !labels_path)
        return errmsg_set(err, errlen, "idx_load_files: path is NULL");
    im.path = images_path;
    lb.path = labels_path;
    rc = idx_load(&im, &lb, out, err, errlen);
    if (im.f)
        gzclose_r(im.f);
    if (lb.f)
        gzclose_r(lb.f);
    return rc;
}

int idx_load_memory(const void *images, size_t images_len, const void *labels,
                    size_t labels_len, idx_dataset *out, char *err,
                    size_t errlen)
{
    struct idx_file im = {0}, lb = {0};

    if (!out)
        return errmsg_set(err, errlen, "idx_load_memory: out is NULL");
    memset(out, 0, sizeof *out);
    if ((!images && images_len) || (!labels && labels_len))
        return errmsg_set(err, errlen, "idx_load_memory: buffer is NULL");
    im.in_memory = lb.in_memory = 1;
    im.mem = images;
    im.len = images_len;
    im.path = "images";
    lb.mem = labels;
    lb.len = labels_len;
    lb.path = "labels";
    return idx_load(&im, &lb, out, err, errlen);
}

/* Returns a malloc'd path to the first accepted spelling of PREFIX-KIND-IDX
 * in dir that exists. A candidate that exists but cannot be read (no
 * permission, not a regular file, dir not a directory) is returned too, so
 * the loader reports the real reason. Only stat looks at it here: opening
 * a FIFO to see whether it exists would block. */
static char *find_file(const char *dir, const char *prefix, const char *kind,
                       const char *idx, char *err, size_t errlen)
{
    static const char seps[] = {'-', '.'};
    static const char *const suffixes[] = {"", ".gz"};
    size_t dlen = strlen(dir);
    const char *slash = dir[dlen - 1] == '/' ? "" : "/";
    size_t cap = dlen + strlen(prefix) + strlen(kind) + strlen(idx) + 16;
    char *path = malloc(cap);

    if (!path) {
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t s = 0; s < sizeof seps; s++) {
        for (size_t x = 0; x < sizeof suffixes / sizeof *suffixes; x++) {
            struct stat st;
            snprintf(path, cap, "%s%s%s-%s%c%s-ubyte%s", dir, slash, prefix,
                     kind, seps[s], idx, suffixes[x]);
            if (stat(path, &st) == 0 || errno != ENOENT)
                return path;
        }
    }
    free(path);
    errmsg_set(err, errlen, "cannot find %s-%s-%s-ubyte (or .gz) in '%s'", prefix,
         kind, idx, dir);
    return NULL;
}

int idx_load_dir(const char *dir, enum idx_split split, idx_dataset *out,
                 char *err, size_t errlen)
{
    const char *prefix = split == IDX_TRAIN ? "train" : "t10k";
    char *images = NULL, *labels = NULL;
    int rc = -1;

    if (!out)
        return errmsg_set(err, errlen, "idx_load_dir: out is NULL");
    memset(out, 0, sizeof *out);
    if (!dir)
        return errmsg_set(err, errlen, "idx_load_dir: dir is NULL");
    if (!*dir)
        dir = ".";
    images = find_file(dir, prefix, "images", "idx3", err, errlen);
    if (images)
        labels = find_file(dir, prefix, "labels", "idx1", err, errlen);
    if (labels)
        rc = idx_load_files(images, labels, out, err, errlen);
    free(images);
    free(labels);
    return rc;
}

void idx_free(idx_dataset *d)
{
    if (!d)
        return;
    free(d->pixels);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

int idx_write(const char *path, const uint8_t *data, const uint32_t *dims,
              int ndims, char *err, size_t errlen)
{
    struct file_replace out;
    unsigned char hdr[16];
    size_t hlen = 4 + 4 * (size_t)ndims;
    uint64_t size = 1;

    if (!path || !data || !dims || (ndims != 1 && ndims != 3))
        return errmsg_set(err, errlen, "idx_write: invalid argument");
    /* Magic: two zero bytes, 0x08 (unsigned bytes), then the dimensions. */
    put_be32(hdr, 0x800u + (uint32_t)ndims);
    for (int i = 0; i < ndims; i++) {
        put_be32(hdr + 4 + 4 * i, dims[i]);
        size *= dims[i];
    }
    if (file_replace_begin(&out, path, err, errlen) != 0)
        return -1;
    errno = 0;
    if (fwrite(hdr, 1, hlen, out.fp) != hlen ||
        fwrite(data, 1, (size_t)size, out.fp) != (size_t)size)
        return file_replace_abort(&out, errno ? errno : EIO, err, errlen);
    return file_replace_commit(&out, err, errlen);
}
