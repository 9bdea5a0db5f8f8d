/* fuzz_model_load.c - vae_model_load_from_buffer on arbitrary bytes.
 *
 * Every input is loaded twice: as given, and with its header checksum
 * recomputed, since otherwise almost every mutation would stop at the
 * checksum and the parser behind it would go unexplored. A model that
 * loads must then behave: it saves, saving gives back the bytes it was
 * loaded from (every accepted file has one encoding), the saved bytes load
 * again, and a batch of zeros runs through the ELBO (and a training step
 * when the file holds optimizer state) without a crash or an error without
 * a message. */
#include <math.h>
#include <string.h>

#include "crc32.h"
#include "fuzz.h"
#include "graph.h"
#include "model.h"
#include "ops/ops.h"
#include "vae.h"

/* Header layout (docs/file-format.md): the minor version is bytes 10-11,
 * the checksum the last 4 of the 32 and covering everything else. */
#define HEADER_BYTES 32u
#define MINOR_OFF 10u
#define CRC_OFF 28u

/* Running a model is a check here, not the target: networks whose rough
 * size (activations, scratch and multiply-adds of one example) exceeds
 * this are loaded and saved but not run, so that a small file describing a
 * huge network cannot make one execution take seconds. */
#define RUN_COST_LIMIT 4.0e6

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static double run_cost(const vae_model *m)
{
    const vae_node *nets[2] = {m->enc, m->dec};
    const int32_t counts[2] = {m->n_enc, m->n_dec};
    double cost = 0;

    for (int k = 0; k < 2; k++) {
        for (int32_t i = 0; i < counts[k]; i++) {
            const vae_node_spec *s = &nets[k][i].s;
            const vae_op *op = vae_op_get(s->op);
            /* Weights are applied once per position: per channel for
             * [C, H, W], per step for [T, F]. */
            double positions = s->rank > 1 ? (double)s->size / (double)s->shape[0] : 1.0;
            cost += (double)s->size + (double)s->n_params * positions;
            if (op->scratch)
                cost += (double)op->scratch(s, 1, 1);
            if (op->saved)
                cost += (double)op->saved(s);
            if (op->state)
                cost += (double)op->state(s);
        }
    }
    return cost;
}

/* A failed call must say why. */
static void check_status(const vae_model *m, int32_t st, const double *out,
                         int n)
{
    if (st != VAE_OK) {
        FUZZ_CHECK(st < 0 && vae_model_last_error(m)[0] != '\0');
        return;
    }
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(isfinite(out[i]));
}

static void run_zero_batch(vae_model *m, vae_adam *opt)
{
    const int64_t batch = 2;
    int64_t d = vae_model_data_size(m);
    double r[3];
    float *x;

    FUZZ_CHECK(d >= 1);
    if (run_cost(m) > RUN_COST_LIMIT)
        return;
    x = calloc((size_t)(batch * d), sizeof *x);
    FUZZ_CHECK(x != NULL);
    check_status(m, vae_model_elbo(m, x, batch, &r[0], &r[1], &r[2]), r, 3);
    if (opt) {
        size_t n;
        int32_t st = vae_model_train_step(m, opt, x, batch, &r[0], &r[1], &r[2]);
        check_status(m, st, r, 3);
        /* A step that succeeded leaves a model that can be saved. */
        if (st == VAE_OK)
            FUZZ_CHECK(vae_model_save_size(m, opt, &n) == VAE_OK);
    }
    free(x);
}

static void check_saves_back(vae_model *m, const vae_adam *opt,
                             const unsigned char *image, size_t len)
{
    size_t n = 0, written = 0;
    unsigned char *buf;
    vae_model *again = NULL;
    vae_adam *again_opt = NULL;

    FUZZ_CHECK(vae_model_save_size(m, opt, &n) == VAE_OK);
    FUZZ_CHECK(n == len);
    buf = malloc(n);
    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(vae_model_save_to_buffer(m, opt, buf, n, &written) == VAE_OK);
    FUZZ_CHECK(written == n);
    /* Identical but for the minor version (a newer file is written as this
     * library's version) and so the checksum. */
    FUZZ_CHECK(memcmp(buf, image, MINOR_OFF) == 0);
    FUZZ_CHECK(memcmp(buf + MINOR_OFF + 2, image + MINOR_OFF + 2,
                      CRC_OFF - MINOR_OFF - 2) == 0);
    FUZZ_CHECK(memcmp(buf + HEADER_BYTES, image + HEADER_BYTES,
                      n - HEADER_BYTES) == 0);
    FUZZ_CHECK(vae_model_load_from_buffer(buf, n, &again, &again_opt, NULL,
                                          0) == VAE_OK);
    FUZZ_CHECK((again_opt != NULL) == (opt != NULL));
    vae_adam_free(again_opt);
    vae_model_free(again);
    free(buf);
}

static void load_one(const unsigned char *p, size_t n)
{
    vae_model *m = NULL;
    vae_adam *opt = NULL;
    char err[256] = "";
    int32_t st = vae_model_load_from_buffer(p, n, &m, &opt, err, sizeof err);

    if (st != VAE_OK) {
        FUZZ_CHECK(st < 0 && m == NULL && opt == NULL);
        FUZZ_CHECK(strcmp(vae_status_string(st), "unknown status") != 0);
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL);
        return;
    }
    FUZZ_CHECK(m != NULL);
    check_saves_back(m, opt, p, n);
    run_zero_batch(m, opt);
    vae_adam_free(opt);
    vae_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *fixed;
    uint32_t crc;

    load_one(data, size);
    if (size < HEADER_BYTES)
        return 0;
    crc = vae_crc32(vae_crc32(0, data, CRC_OFF), data + HEADER_BYTES,
                    size - HEADER_BYTES);
    if (crc == le32(data + CRC_OFF))
        return 0;
    fixed = malloc(size);
    FUZZ_CHECK(fixed != NULL);
    memcpy(fixed, data, size);
    for (int i = 0; i < 4; i++)
        fixed[CRC_OFF + i] = (unsigned char)(crc >> (8 * i));
    load_one(fixed, size);
    free(fixed);
    return 0;
}
