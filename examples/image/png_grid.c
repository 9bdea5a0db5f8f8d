/* png_grid.c - tile grid writer on libpng. */
#include "png_grid.h"
#include "errmsg.h"
#include "files.h"

#include <errno.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BORDER_GREY 128
/* libpng refuses larger images by default (PNG_USER_WIDTH_MAX). */
#define MAX_SIDE 1000000u

/* Where libpng writes, and where its callbacks report. */
struct png_errctx {
    const char *path;
    char *err;
    size_t errlen;
    FILE *fp;
    int io_error; /* errno of a failed write or flush; 0: none */
};

/* libpng must not return from its error callback: report and jump back to
 * png_write_grid, which cleans up. */
static void on_png_error(png_structp png, png_const_charp msg)
{
    const struct png_errctx *ctx = png_get_error_ptr(png);
    errmsg_set(ctx->err, ctx->errlen, "%s: libpng: %s", ctx->path,
         msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

/* libpng's own writer reports any failure as "Write Error": these keep
 * errno, so the message can say why (a full disk, a file-size limit). */
static void on_png_write(png_structp png, png_bytep data, png_size_t len)
{
    struct png_errctx *ctx = png_get_io_ptr(png);

    errno = 0;
    if (fwrite(data, 1, len, ctx->fp) != len) {
        ctx->io_error = errno ? errno : EIO;
        png_error(png, "write failed");
    }
}

static void on_png_flush(png_structp png)
{
    struct png_errctx *ctx = png_get_io_ptr(png);

    errno = 0;
    if (fflush(ctx->fp) != 0) {
        ctx->io_error = errno ? errno : EIO;
        png_error(png, "flush failed");
    }
}

/* The default handler prints to stderr; a grid writer has no warning worth
 * interrupting the one-line error convention of its callers. */
static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

uint8_t grey_byte(float v)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return 255;
    return (uint8_t)(v * 255.0f + 0.5f);
}

struct layout {
    size_t n, h, w, cols;
    size_t group;         /* tile rows per group */
    size_t gap;           /* pixels between groups, beyond the border */
    size_t width, height; /* whole image, in pixels */
};

static void fill_row(const struct layout *L, const float *const *tiles,
                     size_t y, png_bytep row)
{
    size_t pitch = L->h + PNG_GRID_BORDER;
    size_t group_pitch = L->group * pitch + L->gap;
    size_t in_group, r, ty;

    memset(row, BORDER_GREY, L->width);
    if (y < PNG_GRID_BORDER)
        return;
    in_group = (y - PNG_GRID_BORDER) % group_pitch;
    r = (y - PNG_GRID_BORDER) / group_pitch * L->group + in_group / pitch;
    ty = in_group % pitch;
    if (in_group >= L->group * pitch || ty >= L->h)
        return;
    for (size_t c = 0; c < L->cols; c++) {
        size_t slot = r * L->cols + c;
        png_bytep dst = row + PNG_GRID_BORDER + c * (L->w + PNG_GRID_BORDER);
        const float *src;

        if (slot >= L->n || !tiles[slot])
            continue;
        src = tiles[slot] + ty * L->w;
        for (size_t x = 0; x < L->w; x++)
            dst[x] = grey_byte(src[x]);
    }
}

/* Runs libpng over the whole image. Kept apart from png_write_grid so that
 * nothing alive across setjmp changes after it, as C requires for locals
 * that must survive a longjmp. */
static int encode(const struct layout *L, const float *const *tiles,
                  png_bytep row, struct png_errctx *ctx)
{
    png_structp png;
    png_infop info = NULL;

    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, on_png_error,
                                  on_png_warning);
    if (png)
        info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return errmsg_set(ctx->err, ctx->errlen, "%s: out of memory", ctx->path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, ctx, on_png_write, on_png_flush);
    png_set_IHDR(png, info, (png_uint_32)L->width, (png_uint_32)L->height, 8,
                 PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (size_t y = 0; y < L->height; y++) {
        fill_row(L, tiles, y, row);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int png_write_grid(const char *path, const float *const *tiles, size_t n,
                   size_t h, size_t w, size_t cols, size_t group_rows,
                   char *err, size_t errlen)
{
    struct png_errctx ctx = {path, err, errlen, NULL, 0};
    struct file_replace out;
    struct layout L;
    uint64_t width, height, rows;
    png_bytep row;
    int rc;

    if (!path || !tiles || n == 0 || h == 0 || w == 0 || cols == 0)
        return errmsg_set(err, errlen, "png_write_grid: invalid argument");
    if (h > MAX_SIDE || w > MAX_SIDE || n > MAX_SIDE * (uint64_t)MAX_SIDE)
        return errmsg_set(err, errlen, "%s: grid too large for a PNG", path);
    L.n = n;
    L.h = h;
    L.w = w;
    L.cols = cols < n ? cols : n;
    rows = (n + L.cols - 1) / L.cols;
    L.group = group_rows > 0 && group_rows < rows ? group_rows : (size_t)rows;
    L.gap = L.group < rows ? PNG_GRID_GROUP_GAP : 0;
    /* Every factor is <= 10^12 by the checks above, so no 64-bit overflow. */
    width = (uint64_t)L.cols * (w + PNG_GRID_BORDER) + PNG_GRID_BORDER;
    height = rows * (h + PNG_GRID_BORDER) + PNG_GRID_BORDER +
             (rows - 1) / L.group * L.gap;
    if (width > MAX_SIDE || height > MAX_SIDE)
        return errmsg_set(err, errlen, "%s: grid of %llux%llu pixels too large for a PNG",
                    path, (unsigned long long)width, (unsigned long long)height);
    L.width = (size_t)width;
    L.height = (size_t)height;

    row = malloc(L.width);
    if (!row)
        return errmsg_set(err, errlen, "%s: out of memory", path);
    if (file_replace_begin(&out, path, err, errlen) != 0) {
        free(row);
        return -1;
    }
    ctx.fp = out.fp;
    rc = encode(&L, tiles, row, &ctx);
    free(row);
    if (rc != 0)
        return file_replace_abort(&out, ctx.io_error, err, errlen);
    return file_replace_commit(&out, err, errlen);
}
