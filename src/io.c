/* io.c - saving and loading models (format: docs/file-format.md).
 *
 * One serializer writes the payload to any of three sinks: nowhere (to
 * measure it), memory, or a file. One parser reads a complete in-memory image;
 * file loading checks the header against the file size and then hands the
 * whole file to that parser. Every count read from a file is checked against
 * the bytes that remain before anything is allocated for it, and graphs are
 * rebuilt through vae_graph_add, the builder's own validating path. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adam.h"
#include "alloc.h"
#include "crc32.h"
#include "likelihood.h"
#include "model.h"
#include "ops/ops.h"
#include "replace_file.h"

/* ---- Layout constants (docs/file-format.md) ---------------------------- */

static const unsigned char file_magic[8] = {0x89, 'V', 'A', 'E',
                                            0x0D, 0x0A, 0x1A, 0x0A};
#define FMT_MAJOR 1u
/* The newest minor version this library reads and writes. A file is
 * written as 1.1 unless it needs 1.2 (an op of 1.2 or the buffers
 * section), so older libraries keep reading the files they can. */
#define FMT_MINOR 2u
#define LAST_OP_OF_1_1 VAE_OP_TRANSPOSE
#define FLAG_OPTIMIZER 0x1u
#define FLAG_METADATA 0x2u
#define FLAG_BUFFERS 0x4u
#define KNOWN_FLAGS (FLAG_OPTIMIZER | FLAG_METADATA | FLAG_BUFFERS)
#define HEADER_BYTES 32u
/* The checksum is the header's last field; it covers every byte before it
 * and the whole payload. */
#define HEADER_CRC_OFF 28u
/* op, n_inputs, inputs, iattr, fattr, rank, shape */
#define NODE_BYTES                                                         \
    (4u + 4u + 4u * VAE_MAX_INPUTS + 8u * VAE_N_IATTR + 4u * VAE_N_FATTR + \
     4u + 8u * VAE_MAX_RANK)
/* Floats are encoded in chunks of this many through a stack buffer. */
#define CHUNK_FLOATS 1024

/* ---- Little-endian encoding, independent of the host's byte order ----- */

static void le16_put(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void le32_put(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void le64_put(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t le16_get(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32_get(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t le64_get(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Floats travel as their IEEE-754 bit patterns. */
static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double f64_from(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Index of the first non-finite value in a[0..n-1], or -1. */
static int64_t first_nonfinite(const float *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return i;
    return -1;
}

/* ---- Header ------------------------------------------------------------ */

typedef struct header {
    uint32_t major, minor, flags, crc, reserved;
    uint64_t payload_len;
} header;

static void header_encode(unsigned char out[HEADER_BYTES], uint32_t minor,
                          uint32_t flags, uint64_t payload_len)
{
    memcpy(out, file_magic, sizeof file_magic);
    le16_put(out + 8, FMT_MAJOR);
    le16_put(out + 10, minor);
    le32_put(out + 12, flags);
    le64_put(out + 16, payload_len);
    le32_put(out + 24, 0);
    le32_put(out + HEADER_CRC_OFF, 0);
}

/* Validates a header against the total size of the image it starts. Only
 * the header's own bytes are read, so a file can be checked before the rest
 * is read or any memory is allocated for it. */
static int32_t header_check(const unsigned char *p, uint64_t total, header *h,
                            char *err, size_t errlen)
{
    if (total < HEADER_BYTES) {
        vae_set_err(err, errlen, "%llu bytes is shorter than the %u-byte header",
                    (unsigned long long)total, HEADER_BYTES);
        return VAE_ERR_FORMAT;
    }
    if (memcmp(p, file_magic, sizeof file_magic) != 0) {
        vae_set_err(err, errlen, "not a libvae model (bad magic number)");
        return VAE_ERR_FORMAT;
    }
    h->major = le16_get(p + 8);
    h->minor = le16_get(p + 10);
    h->flags = le32_get(p + 12);
    h->payload_len = le64_get(p + 16);
    h->reserved = le32_get(p + 24);
    h->crc = le32_get(p + HEADER_CRC_OFF);
    if (h->major != FMT_MAJOR) {
        vae_set_err(err, errlen, "format version %u.%u; this library reads "
                    "version %u.x", h->major, h->minor, FMT_MAJOR);
        return VAE_ERR_VERSION;
    }
    if (h->flags & ~KNOWN_FLAGS) {
        vae_set_err(err, errlen, "unknown feature flags 0x%x (format %u.%u, "
                    "newer than this library)", h->flags & ~KNOWN_FLAGS,
                    h->major, h->minor);
        return VAE_ERR_VERSION;
    }
    if (h->reserved != 0) {
        vae_set_err(err, errlen, "reserved header field is 0x%x, not 0",
                    h->reserved);
        return VAE_ERR_FORMAT;
    }
    if (h->payload_len != total - HEADER_BYTES) {
        vae_set_err(err, errlen, "header states a %llu-byte payload but %llu "
                    "bytes follow it", (unsigned long long)h->payload_len,
                    (unsigned long long)(total - HEADER_BYTES));
        return VAE_ERR_FORMAT;
    }
    return VAE_OK;
}

/* ---- Serializer -------------------------------------------------------- */

/* Where the payload goes: with neither mem nor fp the writer only counts. */
typedef struct writer {
    unsigned char *mem; /* room for the whole payload, checked by the caller */
    FILE *fp;
    size_t pos;
    uint32_t crc;
    int err; /* errno of the first failed file write, 0 if none */
} writer;

static void put(writer *w, const unsigned char *p, size_t n)
{
    if (w->mem || w->fp)
        w->crc = vae_crc32(w->crc, p, n);
    if (w->mem)
        memcpy(w->mem + w->pos, p, n);
    else if (w->fp && !w->err && fwrite(p, 1, n, w->fp) != n)
        w->err = errno ? errno : EIO;
    w->pos += n;
}

static void put_u32(writer *w, uint32_t v)
{
    unsigned char b[4];
    le32_put(b, v);
    put(w, b, sizeof b);
}

static void put_u64(writer *w, uint64_t v)
{
    unsigned char b[8];
    le64_put(b, v);
    put(w, b, sizeof b);
}

static void put_i32(writer *w, int32_t v) { put_u32(w, (uint32_t)v); }
static void put_i64(writer *w, int64_t v) { put_u64(w, (uint64_t)v); }
static void put_f64(writer *w, double v) { put_u64(w, f64_bits(v)); }

static void put_f32s(writer *w, const float *a, int64_t n)
{
    if (!w->mem && !w->fp) {
        w->pos += (size_t)n * 4u;
        return;
    }
    unsigned char b[4 * CHUNK_FLOATS];
    for (int64_t i = 0; i < n; i += CHUNK_FLOATS) {
        int64_t k = n - i < CHUNK_FLOATS ? n - i : CHUNK_FLOATS;
        for (int64_t j = 0; j < k; j++)
            le32_put(b + 4 * j, f32_bits(a[i + j]));
        put(w, b, (size_t)k * 4u);
    }
}

static void put_node(writer *w, const vae_node_spec *s)
{
    put_i32(w, s->op);
    put_i32(w, s->n_inputs);
    for (int i = 0; i < VAE_MAX_INPUTS; i++)
        put_i32(w, s->inputs[i]);
    for (int i = 0; i < VAE_N_IATTR; i++)
        put_i64(w, s->iattr[i]);
    for (int i = 0; i < VAE_N_FATTR; i++)
        put_u32(w, f32_bits(s->fattr[i]));
    put_i32(w, s->rank);
    for (int i = 0; i < VAE_MAX_RANK; i++)
        put_i64(w, s->shape[i]);
}

static void put_graph(writer *w, const vae_graph *g)
{
    put_u32(w, (uint32_t)g->n);
    put_i32(w, g->output);
    for (int32_t i = 0; i < g->n; i++)
        put_node(w, &g->nodes[i]);
}

static void put_optimizer(writer *w, const vae_adam *opt)
{
    put_f64(w, opt->lr);
    put_f64(w, opt->beta1);
    put_f64(w, opt->beta2);
    put_f64(w, opt->eps);
    put_f64(w, opt->weight_decay);
    put_f64(w, opt->clip_norm);
    put_i32(w, opt->decoupled);
    put_i64(w, opt->t);
    put_u64(w, (uint64_t)opt->n);
    put_f32s(w, opt->m, opt->n);
    put_f32s(w, opt->v, opt->n);
}

/* Which optional sections a save of (m, opt) holds. */
static uint32_t section_flags(const vae_model *m, const vae_adam *opt)
{
    return (opt ? FLAG_OPTIMIZER : 0u) | (m->meta_len ? FLAG_METADATA : 0u) |
           (m->n_buffers ? FLAG_BUFFERS : 0u);
}

static int uses_ops_after_1_1(const vae_graph *g)
{
    for (int32_t i = 0; i < g->n; i++)
        if (g->nodes[i].op > LAST_OP_OF_1_1)
            return 1;
    return 0;
}

/* The oldest minor version that holds everything the save writes. */
static uint32_t file_minor(const vae_model *m)
{
    return m->n_buffers || uses_ops_after_1_1(m->enc_graph) ||
                   uses_ops_after_1_1(m->dec_graph)
               ? 2u
               : 1u;
}

/* The payload layout: the one place it is written down in code. */
static void put_payload(writer *w, const vae_model *m, const vae_adam *opt)
{
    put_i64(w, m->latent);
    put_i32(w, m->likelihood);
    put_f64(w, m->beta);
    put_f64(w, m->free_bits);
    put_f64(w, m->obs_logvar);
    for (int i = 0; i < 4; i++)
        put_u64(w, m->rng.s[i]);
    put_graph(w, m->enc_graph);
    put_graph(w, m->dec_graph);
    put_u64(w, (uint64_t)m->n_params);
    put_f32s(w, m->params, m->n_params);
    if (opt)
        put_optimizer(w, opt);
    if (m->meta_len) {
        put_u64(w, (uint64_t)m->meta_len);
        put(w, m->meta, m->meta_len);
    }
    if (m->n_buffers) {
        put_u64(w, (uint64_t)m->n_buffers);
        put_f32s(w, m->buffers, m->n_buffers);
    }
}

/* Holds m and the optimizer a save reads (if any) until the calling
 * function returns. The flag is the one part of a const handle that
 * changes. */
#define HOLD_SAVED(m, opt)                                                 \
    VAE_HOLD(m, VAE_ERR_BUSY);                                             \
    vae_adam *held_opt_ = (vae_adam *)(opt);                               \
    VAE_HOLD(held_opt_, vae_model_fail(m, VAE_ERR_BUSY, "save: the "       \
                                       "optimizer is in use by another call"))

/* What every save checks first: a file that loading would reject is never
 * written. Returns a status recorded on m. */
static int32_t check_saveable(vae_model *m, const vae_adam *opt)
{
    int64_t bad = first_nonfinite(m->params, m->n_params);
    if (bad >= 0)
        return vae_model_fail(m, VAE_ERR_NONFINITE,
                              "save: parameter %lld is not finite",
                              (long long)bad);
    bad = first_nonfinite(m->buffers, m->n_buffers);
    if (bad >= 0)
        return vae_model_fail(m, VAE_ERR_NONFINITE,
                              "save: buffer value %lld (running statistics) "
                              "is not finite", (long long)bad);
    if (!opt)
        return VAE_OK;
    if (opt->n != m->n_params)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "save: the optimizer has %lld parameters, the "
                              "model %lld", (long long)opt->n,
                              (long long)m->n_params);
    if (first_nonfinite(opt->m, opt->n) >= 0 ||
        first_nonfinite(opt->v, opt->n) >= 0)
        return vae_model_fail(m, VAE_ERR_NONFINITE,
                              "save: optimizer state is not finite");
    return VAE_OK;
}

static size_t payload_size(const vae_model *m, const vae_adam *opt)
{
    writer w = {0};
    put_payload(&w, m, opt);
    return w.pos;
}

/* Encodes the header (checksum still 0) and returns a writer whose checksum
 * already covers the header's first bytes; the caller picks the sink. */
static writer start(unsigned char hdr[HEADER_BYTES], const vae_model *m,
                    const vae_adam *opt, size_t payload_len)
{
    header_encode(hdr, file_minor(m), section_flags(m, opt), payload_len);
    writer w = {0};
    w.crc = vae_crc32(0, hdr, HEADER_CRC_OFF);
    return w;
}

VAE_API int32_t vae_model_save_size(vae_model *m, const vae_adam *opt,
                                    size_t *size)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    HOLD_SAVED(m, opt);
    if (!size)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "save_size: size is NULL");
    *size = 0;
    int32_t st = check_saveable(m, opt);
    if (st != VAE_OK)
        return st;
    *size = HEADER_BYTES + payload_size(m, opt);
    return VAE_OK;
}

VAE_API int32_t vae_model_save_to_buffer(vae_model *m, const vae_adam *opt,
                                         void *buf, size_t cap, size_t *written)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    HOLD_SAVED(m, opt);
    if (!buf || !written)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "save_to_buffer: buf or written is NULL");
    *written = 0;
    int32_t st = check_saveable(m, opt);
    if (st != VAE_OK)
        return st;
    size_t payload_len = payload_size(m, opt);
    size_t need = HEADER_BYTES + payload_len;
    if (cap < need)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "save_to_buffer: capacity %zu < %zu bytes needed "
                              "(see vae_model_save_size)", cap, need);
    unsigned char *out = buf;
    writer w = start(out, m, opt, payload_len);
    w.mem = out + HEADER_BYTES;
    put_payload(&w, m, opt);
    le32_put(out + HEADER_CRC_OFF, w.crc);
    *written = need;
    return VAE_OK;
}

/* Writes the complete file to fp: the header, the payload (its checksum
 * computed on the way), then the checksum over its placeholder. Returns 0 or
 * an errno value. */
typedef struct save_job {
    const vae_model *m;
    const vae_adam *opt;
} save_job;

static int write_file(FILE *fp, const void *ctx)
{
    const save_job *job = ctx;
    unsigned char hdr[HEADER_BYTES];
    writer w = start(hdr, job->m, job->opt, payload_size(job->m, job->opt));
    w.fp = fp;
    if (fwrite(hdr, 1, sizeof hdr, fp) != sizeof hdr)
        return errno ? errno : EIO;
    put_payload(&w, job->m, job->opt);
    if (w.err)
        return w.err;
    le32_put(hdr + HEADER_CRC_OFF, w.crc);
    if (fseek(fp, HEADER_CRC_OFF, SEEK_SET) != 0 ||
        fwrite(hdr + HEADER_CRC_OFF, 1, 4, fp) != 4)
        return errno ? errno : EIO;
    return 0;
}

VAE_API int32_t vae_model_save(vae_model *m, const vae_adam *opt,
                               const char *path)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    HOLD_SAVED(m, opt);
    if (!path)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "save: path is NULL");
    int32_t st = check_saveable(m, opt);
    if (st != VAE_OK)
        return st;
    char msg[VAE_ERRLEN];
    save_job job = {m, opt};
    st = vae_replace_file(path, write_file, &job, msg, sizeof msg);
    return st == VAE_OK ? VAE_OK : vae_model_fail(m, st, "save: %s", msg);
}

/* ---- Parser ------------------------------------------------------------ */

/* Reads from an image in memory. Every get checks the bytes that remain; on
 * a short read it returns 0 and sets `bad`, so a section is read field by
 * field and checked once at its end. */
typedef struct reader {
    const unsigned char *p;
    size_t len, pos;
    int bad;
} reader;

static size_t remaining(const reader *r) { return r->len - r->pos; }

static const unsigned char *take(reader *r, size_t n)
{
    if (r->bad || n > remaining(r)) {
        r->bad = 1;
        return NULL;
    }
    const unsigned char *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static uint32_t get_u32(reader *r)
{
    const unsigned char *p = take(r, 4);
    return p ? le32_get(p) : 0;
}

static uint64_t get_u64(reader *r)
{
    const unsigned char *p = take(r, 8);
    return p ? le64_get(p) : 0;
}

static int32_t get_i32(reader *r) { return (int32_t)get_u32(r); }
static int64_t get_i64(reader *r) { return (int64_t)get_u64(r); }
static double get_f64(reader *r) { return f64_from(get_u64(r)); }

/* Decodes n floats into dst; the caller has checked 4n <= remaining. */
static void get_f32s(reader *r, float *dst, int64_t n)
{
    const unsigned char *p = take(r, (size_t)n * 4u);
    for (int64_t i = 0; p && i < n; i++)
        dst[i] = f32_from(le32_get(p + 4 * i));
}

static void get_node(reader *r, vae_node_spec *s)
{
    memset(s, 0, sizeof *s);
    s->op = get_i32(r);
    s->n_inputs = get_i32(r);
    for (int i = 0; i < VAE_MAX_INPUTS; i++)
        s->inputs[i] = get_i32(r);
    for (int i = 0; i < VAE_N_IATTR; i++)
        s->iattr[i] = get_i64(r);
    for (int i = 0; i < VAE_N_FATTR; i++)
        s->fattr[i] = f32_from(get_u32(r));
    s->rank = get_i32(r);
    for (int i = 0; i < VAE_MAX_RANK; i++)
        s->shape[i] = get_i64(r);
}

/* True when the rebuilt node is exactly what the record says, including the
 * derived rank and shape and the unused input and dimension slots (which
 * must be 0): an op whose shape rules changed cannot load silently as a
 * different network. */
static int same_node(const vae_node_spec *a, const vae_node_spec *b)
{
    if (a->op != b->op || a->n_inputs != b->n_inputs || a->rank != b->rank)
        return 0;
    for (int i = 0; i < VAE_MAX_INPUTS; i++)
        if (a->inputs[i] != b->inputs[i])
            return 0;
    for (int i = 0; i < VAE_N_IATTR; i++)
        if (a->iattr[i] != b->iattr[i])
            return 0;
    for (int i = 0; i < VAE_N_FATTR; i++)
        if (f32_bits(a->fattr[i]) != f32_bits(b->fattr[i]))
            return 0;
    for (int i = 0; i < VAE_MAX_RANK; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

/* A failure while rebuilding: out of memory stays itself, anything else
 * means the file does not describe a valid model. */
static int32_t content_status(int32_t st)
{
    return st == VAE_ERR_NOMEM ? VAE_ERR_NOMEM : VAE_ERR_FORMAT;
}

/* Rebuilds one graph section through the builder's validating path.
 * `newer`: the file has a higher minor version than this library, so an
 * unknown op code is a version problem rather than damage. */
static int32_t read_graph(reader *r, const char *what, int newer,
                          vae_graph **out, char *err, size_t errlen)
{
    *out = NULL;
    uint32_t n = get_u32(r);
    int32_t output = get_i32(r);
    if (r->bad) {
        vae_set_err(err, errlen, "file ends inside the %s graph header", what);
        return VAE_ERR_FORMAT;
    }
    if (n < 1 || n > VAE_MAX_NODES) {
        vae_set_err(err, errlen, "%s graph has %u nodes (must be 1..%d)", what,
                    n, VAE_MAX_NODES);
        return VAE_ERR_FORMAT;
    }
    if ((uint64_t)n * NODE_BYTES > remaining(r)) {
        vae_set_err(err, errlen, "%s graph claims %u nodes (%llu bytes) but "
                    "only %zu bytes remain", what, n,
                    (unsigned long long)n * NODE_BYTES, remaining(r));
        return VAE_ERR_FORMAT;
    }
    vae_graph *g = NULL;
    int32_t st = vae_graph_new(&g);
    if (st != VAE_OK) {
        vae_set_err(err, errlen, "out of memory for the %s graph", what);
        return st;
    }
    for (uint32_t i = 0; i < n; i++) {
        vae_node_spec rec;
        get_node(r, &rec);
        int32_t id = vae_graph_add_code(g, rec.op, rec.inputs, rec.n_inputs,
                                        rec.iattr, VAE_N_IATTR, rec.fattr,
                                        VAE_N_FATTR);
        if (id < 0 && newer && !vae_op_get(rec.op)) {
            vae_set_err(err, errlen, "%s node %u: op code %d is not known to "
                        "this library (the file's format is newer)", what, i,
                        (int)rec.op);
            vae_graph_free(g);
            return VAE_ERR_VERSION;
        }
        if (id < 0) {
            vae_set_err(err, errlen, "%s node %u: %s", what, i, g->err);
            vae_graph_free(g);
            return content_status(id);
        }
        if (!same_node(&g->nodes[id], &rec)) {
            vae_set_err(err, errlen, "%s node %u: stored shape or unused "
                        "fields disagree with the rebuilt node", what, i);
            vae_graph_free(g);
            return VAE_ERR_FORMAT;
        }
    }
    st = vae_graph_set_output(g, output);
    if (st != VAE_OK) {
        vae_set_err(err, errlen, "%s graph: %s", what, g->err);
        vae_graph_free(g);
        return content_status(st);
    }
    *out = g;
    return VAE_OK;
}

/* The parameter count vae_model_new will derive for these graphs: their
 * nodes plus the Gaussian head it appends, dense(encoder output ->
 * 2 * latent). Known before the model allocates anything, so a file whose
 * architecture needs more floats than it holds is refused first. Returns -1
 * when latent is out of range or the count exceeds `limit`. */
static int64_t expected_params(const vae_graph *enc, const vae_graph *dec,
                               int64_t latent, int64_t limit)
{
    int64_t total = 0;
    for (int32_t i = 0; i < enc->n; i++)
        total += enc->nodes[i].n_params;
    for (int32_t i = 0; i < dec->n; i++)
        total += dec->nodes[i].n_params;
    const vae_node_spec *o = &enc->nodes[enc->output];
    int64_t fan_in = o->shape[o->rank - 1];
    if (latent < 1 || latent > limit || fan_in + 1 > limit / (2 * latent))
        return -1;
    /* An encoder that gives the posterior itself gets no head. */
    const vae_op *out_op = vae_op_get(o->op);
    if (!out_op || !out_op->posterior)
        total += 2 * latent * (fan_in + 1);
    return total <= limit ? total : -1;
}

/* Reads the optimizer section for model m. */
static int32_t read_optimizer(reader *r, vae_model *m, vae_adam **out,
                              char *err, size_t errlen)
{
    *out = NULL;
    double lr = get_f64(r), beta1 = get_f64(r), beta2 = get_f64(r);
    double eps = get_f64(r), wd = get_f64(r), clip = get_f64(r);
    int32_t decoupled = get_i32(r);
    int64_t t = get_i64(r);
    uint64_t n = get_u64(r);
    if (r->bad) {
        vae_set_err(err, errlen, "file ends inside the optimizer settings");
        return VAE_ERR_FORMAT;
    }
    if (n != (uint64_t)m->n_params) {
        vae_set_err(err, errlen, "optimizer state has %llu entries, the model "
                    "%lld parameters", (unsigned long long)n,
                    (long long)m->n_params);
        return VAE_ERR_FORMAT;
    }
    if (n > remaining(r) / 8u) {
        vae_set_err(err, errlen, "optimizer moments need %llu bytes but only "
                    "%zu remain", (unsigned long long)n * 8u, remaining(r));
        return VAE_ERR_FORMAT;
    }
    if (t < 0) {
        vae_set_err(err, errlen, "optimizer step count %lld is negative",
                    (long long)t);
        return VAE_ERR_FORMAT;
    }
    vae_adam *opt = NULL;
    char msg[VAE_ERRLEN] = "";
    int32_t st = vae_adam_new(m, lr, &opt, msg, sizeof msg);
    if (st != VAE_OK) {
        vae_set_err(err, errlen, "optimizer: %s", msg);
        return content_status(st);
    }
    /* The setters hold the range rules; a file cannot bypass them. */
    st = vae_adam_set_betas(opt, beta1, beta2, eps);
    if (st == VAE_OK)
        st = vae_adam_set_weight_decay(opt, wd, decoupled);
    if (st == VAE_OK)
        st = vae_adam_set_clip_norm(opt, clip);
    if (st != VAE_OK) {
        vae_set_err(err, errlen, "optimizer: %s", vae_adam_last_error(opt));
        vae_adam_free(opt);
        return content_status(st);
    }
    opt->t = t;
    get_f32s(r, opt->m, opt->n);
    get_f32s(r, opt->v, opt->n);
    vae_adam_moments_written(opt);
    int64_t bad = first_nonfinite(opt->m, opt->n);
    if (bad < 0)
        bad = first_nonfinite(opt->v, opt->n);
    if (bad >= 0) {
        vae_set_err(err, errlen, "optimizer moment %lld is not finite",
                    (long long)bad);
        vae_adam_free(opt);
        return VAE_ERR_NONFINITE;
    }
    for (int64_t i = 0; i < opt->n; i++) {
        if (opt->v[i] < 0.0f) {
            vae_set_err(err, errlen, "optimizer second moment %lld is "
                        "negative", (long long)i);
            vae_adam_free(opt);
            return VAE_ERR_FORMAT;
        }
    }
    *out = opt;
    return VAE_OK;
}

/* Reads the metadata section into m, which receives its own copy. */
static int32_t read_metadata(reader *r, vae_model *m, char *err, size_t errlen)
{
    uint64_t n = get_u64(r);
    if (r->bad) {
        vae_set_err(err, errlen, "file ends inside the metadata length");
        return VAE_ERR_FORMAT;
    }
    /* The flag announces a non-empty section: a writer with nothing to
     * store leaves the flag clear instead. */
    if (n < 1 || n > VAE_METADATA_MAX) {
        vae_set_err(err, errlen, "metadata length %llu not in 1..%zu",
                    (unsigned long long)n, (size_t)VAE_METADATA_MAX);
        return VAE_ERR_FORMAT;
    }
    if (n > remaining(r)) {
        vae_set_err(err, errlen, "metadata length %llu but only %zu bytes "
                    "remain", (unsigned long long)n, remaining(r));
        return VAE_ERR_FORMAT;
    }
    int32_t st = vae_model_set_metadata(m, take(r, (size_t)n), (size_t)n);
    if (st != VAE_OK) {
        vae_set_err(err, errlen, "metadata: %s", vae_model_last_error(m));
        return content_status(st);
    }
    return VAE_OK;
}

/* Reads the buffers section (running statistics), which must hold exactly
 * the model's count of finite floats. */
static int32_t read_buffers(reader *r, vae_model *m, char *err, size_t errlen)
{
    uint64_t n = get_u64(r);
    if (r->bad || n != (uint64_t)m->n_buffers || n > remaining(r) / 4u) {
        vae_set_err(err, errlen, "buffers section holds %llu values, the "
                    "model has %lld", (unsigned long long)n,
                    (long long)m->n_buffers);
        return VAE_ERR_FORMAT;
    }
    get_f32s(r, m->buffers, m->n_buffers);
    int64_t bad = first_nonfinite(m->buffers, m->n_buffers);
    if (bad >= 0) {
        vae_set_err(err, errlen, "buffer value %lld is not finite",
                    (long long)bad);
        return VAE_ERR_NONFINITE;
    }
    return VAE_OK;
}

/* Settings read before the graphs and applied once the model exists. */
typedef struct settings {
    int64_t latent;
    int32_t likelihood;
    double beta, free_bits, obs_logvar;
    vae_rng rng;
} settings;

static int32_t apply_settings(vae_model *m, const settings *s, char *err,
                              size_t errlen)
{
    int32_t st = vae_model_set_beta(m, s->beta);
    if (st == VAE_OK)
        st = vae_model_set_free_bits(m, s->free_bits);
    if (st == VAE_OK)
        st = vae_model_set_obs_logvar(m, s->obs_logvar);
    if (st != VAE_OK) {
        vae_set_err(err, errlen, "settings: %s", vae_model_last_error(m));
        return content_status(st);
    }
    /* xoshiro256** never leaves the all-zero state: it would emit only 0. */
    if ((s->rng.s[0] | s->rng.s[1] | s->rng.s[2] | s->rng.s[3]) == 0) {
        vae_set_err(err, errlen, "generator state is all zero");
        return VAE_ERR_FORMAT;
    }
    m->rng = s->rng;
    return VAE_OK;
}

/* Reads the parameter count and checks it against the bytes that remain and
 * against what the graphs need, before the model allocates its buffers. */
static int32_t read_param_count(reader *r, const vae_graph *enc,
                                const vae_graph *dec, int64_t latent,
                                int64_t *n_params, char *err, size_t errlen)
{
    uint64_t n = get_u64(r);
    int64_t max_floats = (int64_t)(remaining(r) / 4u);
    if (r->bad || n > (uint64_t)max_floats) {
        vae_set_err(err, errlen, "parameter count %llu needs more than the %zu "
                    "bytes that remain", (unsigned long long)n, remaining(r));
        return VAE_ERR_FORMAT;
    }
    if (expected_params(enc, dec, latent, max_floats) != (int64_t)n) {
        vae_set_err(err, errlen, "%llu parameters stored, but the graphs with "
                    "latent_dim %lld need a different number",
                    (unsigned long long)n, (long long)latent);
        return VAE_ERR_FORMAT;
    }
    *n_params = (int64_t)n;
    return VAE_OK;
}

/* Builds the model from the graph sections, as vae_model_new would for a
 * caller; the parameters it initialises are overwritten by the file's. */
static int32_t read_architecture(reader *r, const settings *s, int newer,
                                 vae_model **out, char *err, size_t errlen)
{
    vae_graph *enc = NULL, *dec = NULL;
    int64_t n_params = 0;
    int32_t st = read_graph(r, "encoder", newer, &enc, err, errlen);
    if (st == VAE_OK)
        st = read_graph(r, "decoder", newer, &dec, err, errlen);
    if (st == VAE_OK)
        st = read_param_count(r, enc, dec, s->latent, &n_params, err, errlen);
    if (st == VAE_OK) {
        char msg[VAE_ERRLEN] = "";
        st = vae_model_new(enc, dec, s->latent, s->likelihood, 0, out, msg,
                           sizeof msg);
        if (st != VAE_OK) {
            vae_set_err(err, errlen, "model: %s", msg);
            st = content_status(st);
        } else if ((*out)->n_params != n_params) {
            vae_set_err(err, errlen, "%lld parameters stored, the model has "
                        "%lld", (long long)n_params, (long long)(*out)->n_params);
            vae_model_free(*out);
            *out = NULL;
            st = VAE_ERR_FORMAT;
        }
    }
    vae_graph_free(enc);
    vae_graph_free(dec);
    return st;
}

/* Everything after the architecture: weights, settings, generator state,
 * the optional optimizer and metadata, then the check that nothing is left
 * over. */
static int32_t read_state(reader *r, const settings *s, uint32_t flags,
                          vae_model *m, vae_adam **opt, char *err,
                          size_t errlen)
{
    get_f32s(r, m->params, m->n_params);
    int64_t bad = first_nonfinite(m->params, m->n_params);
    if (bad >= 0) {
        vae_set_err(err, errlen, "parameter %lld is not finite", (long long)bad);
        return VAE_ERR_NONFINITE;
    }
    int32_t st = apply_settings(m, s, err, errlen);
    if (st == VAE_OK && (flags & FLAG_OPTIMIZER))
        st = read_optimizer(r, m, opt, err, errlen);
    if (st == VAE_OK && (flags & FLAG_METADATA))
        st = read_metadata(r, m, err, errlen);
    if (st == VAE_OK && (flags & FLAG_BUFFERS))
        st = read_buffers(r, m, err, errlen);
    else if (st == VAE_OK && m->n_buffers) {
        vae_set_err(err, errlen, "the model has running statistics (%lld "
                    "values) but the file holds none",
                    (long long)m->n_buffers);
        st = VAE_ERR_FORMAT;
    }
    if (st == VAE_OK && remaining(r) != 0) {
        vae_set_err(err, errlen, "%zu unexpected bytes after the last section",
                    remaining(r));
        st = VAE_ERR_FORMAT;
    }
    return st;
}

/* The one parser: a complete image (header and payload) in memory. */
static int32_t parse(const unsigned char *buf, size_t len, vae_model **out,
                     vae_adam **opt_out, char *err, size_t errlen)
{
    header h;
    int32_t st = header_check(buf, len, &h, err, errlen);
    if (st != VAE_OK)
        return st;
    reader r = {buf + HEADER_BYTES, len - HEADER_BYTES, 0, 0};
    uint32_t crc = vae_crc32(vae_crc32(0, buf, HEADER_CRC_OFF), r.p, r.len);
    if (crc != h.crc) {
        vae_set_err(err, errlen, "checksum mismatch (stored %08x, computed "
                    "%08x): the data are damaged", h.crc, crc);
        return VAE_ERR_FORMAT;
    }

    settings s;
    s.latent = get_i64(&r);
    s.likelihood = get_i32(&r);
    s.beta = get_f64(&r);
    s.free_bits = get_f64(&r);
    s.obs_logvar = get_f64(&r);
    for (int i = 0; i < 4; i++)
        s.rng.s[i] = get_u64(&r);
    if (r.bad) {
        vae_set_err(err, errlen, "file ends inside the settings");
        return VAE_ERR_FORMAT;
    }
    /* Likelihood codes grow like op codes (1.1 added the categorical one):
     * an unknown one from a newer minor version is a version problem. */
    const int newer = h.minor > FMT_MINOR;
    if (newer && vae_likelihood_out_size(s.likelihood, 1, 1) < 0) {
        vae_set_err(err, errlen, "likelihood %d is not known to this library "
                    "(the file's format is newer)", (int)s.likelihood);
        return VAE_ERR_VERSION;
    }

    vae_model *m = NULL;
    vae_adam *opt = NULL;
    st = read_architecture(&r, &s, newer, &m, err, errlen);
    if (st == VAE_OK)
        st = read_state(&r, &s, h.flags, m, &opt, err, errlen);
    if (st != VAE_OK) {
        vae_adam_free(opt);
        vae_model_free(m);
        return st;
    }
    *out = m;
    if (opt_out)
        *opt_out = opt;
    else
        vae_adam_free(opt);
    return VAE_OK;
}

/* Clears the outputs and checks the arguments both loaders share. */
static int32_t load_begin(vae_model **out, vae_adam **opt_out, char *err,
                          size_t errlen)
{
    if (opt_out)
        *opt_out = NULL;
    if (!out) {
        vae_set_err(err, errlen, "load: out is NULL");
        return VAE_ERR_INVALID_ARG;
    }
    *out = NULL;
    return VAE_OK;
}

VAE_API int32_t vae_model_load_from_buffer(const void *buf, size_t len,
                                           vae_model **out, vae_adam **opt_out,
                                           char *err, size_t errlen)
{
    int32_t st = load_begin(out, opt_out, err, errlen);
    if (st != VAE_OK)
        return st;
    if (!buf) {
        vae_set_err(err, errlen, "load: buf is NULL");
        return VAE_ERR_INVALID_ARG;
    }
    return parse(buf, len, out, opt_out, err, errlen);
}

/* Opens path for reading if it is a regular file. The open does not block:
 * a FIFO without a writer (or a device) would otherwise hang the caller
 * before its type could be checked. */
static int32_t open_regular(const char *path, FILE **out, uint64_t *size,
                            char *err, size_t errlen)
{
    errno = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        vae_set_err(err, errlen, "%s", strerror(errno));
        return VAE_ERR_IO;
    }
    struct stat sb;
    int e = fstat(fd, &sb) != 0 ? errno : 0;
    if (!e && !S_ISREG(sb.st_mode)) {
        close(fd);
        vae_set_err(err, errlen, "not a regular file (%s)",
                    S_ISDIR(sb.st_mode)    ? "a directory"
                    : S_ISFIFO(sb.st_mode) ? "a FIFO"
                    : S_ISCHR(sb.st_mode)  ? "a character device"
                    : S_ISSOCK(sb.st_mode) ? "a socket"
                                           : "a special file");
        return VAE_ERR_IO;
    }
    int flags = e ? -1 : fcntl(fd, F_GETFL);
    if (!e && (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0))
        e = errno;
    FILE *fp = e ? NULL : fdopen(fd, "rb");
    if (!fp) {
        e = e ? e : errno ? errno : ENOMEM;
        close(fd);
        vae_set_err(err, errlen, "%s", strerror(e));
        return VAE_ERR_IO;
    }
    *out = fp;
    *size = (uint64_t)sb.st_size;
    return VAE_OK;
}

/* Reads a whole model file of `size` bytes (its size when opened) into
 * memory. The header comes first: its stated length must match the file's
 * size before the rest is read or memory is allocated for it. */
static int32_t read_image(FILE *fp, uint64_t size, unsigned char **out,
                          size_t *len, char *err, size_t errlen)
{
    unsigned char hdr[HEADER_BYTES];
    size_t got = fread(hdr, 1, sizeof hdr, fp);
    /* A short read means a file that shrank since fstat: judge what was read. */
    header h;
    int32_t st = header_check(hdr, got < sizeof hdr ? got : size, &h, err,
                              errlen);
    if (st != VAE_OK)
        return st;
    if (size > SIZE_MAX) {
        vae_set_err(err, errlen, "%llu bytes do not fit in memory",
                    (unsigned long long)size);
        return VAE_ERR_NOMEM;
    }
    unsigned char *buf = vae_malloc((size_t)size);
    if (!buf) {
        vae_set_err(err, errlen, "out of memory for %llu bytes",
                    (unsigned long long)size);
        return VAE_ERR_NOMEM;
    }
    memcpy(buf, hdr, sizeof hdr);
    size_t rest = (size_t)size - sizeof hdr;
    errno = 0;
    if (fread(buf + sizeof hdr, 1, rest, fp) != rest || fgetc(fp) != EOF) {
        vae_set_err(err, errlen, "%s", ferror(fp) && errno ? strerror(errno)
                    : "file changed size while being read");
        free(buf);
        return VAE_ERR_IO;
    }
    *out = buf;
    *len = (size_t)size;
    return VAE_OK;
}

VAE_API int32_t vae_model_load(const char *path, vae_model **out,
                               vae_adam **opt_out, char *err, size_t errlen)
{
    int32_t st = load_begin(out, opt_out, err, errlen);
    if (st != VAE_OK)
        return st;
    if (!path) {
        vae_set_err(err, errlen, "load: path is NULL");
        return VAE_ERR_INVALID_ARG;
    }
    char msg[VAE_ERRLEN] = "";
    unsigned char *buf = NULL;
    size_t len = 0;
    FILE *fp = NULL;
    uint64_t size = 0;
    st = open_regular(path, &fp, &size, msg, sizeof msg);
    if (st == VAE_OK) {
        st = read_image(fp, size, &buf, &len, msg, sizeof msg);
        fclose(fp);
    }
    if (st == VAE_OK)
        st = parse(buf, len, out, opt_out, msg, sizeof msg);
    free(buf);
    char shown[VAE_PATH_SHOWN + 1];
    if (st != VAE_OK)
        vae_set_err(err, errlen, "%s: %s", vae_short_path(path, shown), msg);
    return st;
}
