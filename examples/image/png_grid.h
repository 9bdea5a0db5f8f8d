/* png_grid.h - writes grey images as one PNG grid of tiles. */
#ifndef VAE_IMAGE_PNG_GRID_H
#define VAE_IMAGE_PNG_GRID_H

#include <stddef.h>
#include <stdint.h>

/* Pixels between tiles and around the grid, and between row groups. */
#define PNG_GRID_BORDER 2
#define PNG_GRID_GROUP_GAP 8

/* The byte of a grey value as the PNGs show it: [0, 1] -> 0..255,
 * rounded; values outside are clamped, NaN is black. */
uint8_t grey_byte(float v);

/*
 * Writes n tiles, `cols` per row (fewer if n < cols), each h x w grey
 * values in [0, 1] (row-major; values outside are clamped, NaN is black),
 * as an 8-bit greyscale PNG. tiles[i] == NULL leaves slot i empty, which
 * lets callers line tiles up in rows of their choosing. With group_rows > 0
 * every group of that many tile rows is set apart by a wider gap (e.g. 2 for
 * rows of originals above rows of reconstructions); 0 means no groups.
 * Borders and empty slots are mid grey so that tiles stand apart from black
 * backgrounds.
 * The file is replaced atomically (files.h): on any failure a file already
 * at path keeps its bytes and no partial file is left. path must not name
 * anything but a regular file (a FIFO, a device and a directory are
 * refused). Returns 0, or -1 with a one-line message in err (may be NULL)
 * that gives the reason: "PATH: cannot write: File too large".
 */
int png_write_grid(const char *path, const float *const *tiles, size_t n,
                   size_t h, size_t w, size_t cols, size_t group_rows,
                   char *err, size_t errlen);

#endif
