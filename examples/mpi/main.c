/* main.c - vae-image-mpi: vae-image's train command as a data-parallel MPI
 * job, one process per rank (docs/distributed.md). The library knows
 * nothing of MPI: the ranks share the model's flat gradient buffer through
 * one MPI_Allreduce per step, and the training is vae-image's own train
 * (examples/image/train.c); what only several ranks need, starting from
 * the same data and model and checking they stay the same, is here. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "cli.h"
#include "images.h"
#include "train.h"

static const char usage[] =
    "usage: vae-image-mpi train [options]   (one process per rank: mpirun,\n"
    "       srun)\n"
    "\n"
    IMAGE_TRAIN_USAGE
    "\n"
    "vae-image's train as a data-parallel job, with the same flags and\n"
    "defaults (vae-image --help), and --threads N, the BLAS threads of each\n"
    "rank (1 when each rank has a core of its own). Each global batch of\n"
    "--batch B images is split between the ranks; the model equals vae-image\n"
    "train's with the same flags up to the order of float sums. Every rank\n"
    "reads DIR (the same files); rank 0 writes the model, the metrics and the\n"
    "epoch lines. See docs/distributed.md.\n";

struct mpi_ctx {
    MPI_Comm comm;
    int agreed_failure; /* every rank knows that some rank failed */
};

/* MPI counts are ints: longer buffers go in pieces. */
#define MPI_PIECE ((int64_t)1 << 30)

static int mpi_ok(int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;

    if (rc == MPI_SUCCESS)
        return 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "error %d", rc);
    return fail("%s: %s", what, msg);
}

static int first_failure(void *ctx, int failed, int *first)
{
    struct mpi_ctx *c = ctx;
    int rank = 0, mine;

    if (mpi_ok(MPI_Comm_rank(c->comm, &rank), "MPI_Comm_rank"))
        return -1;
    mine = failed ? rank : INT_MAX;
    if (mpi_ok(MPI_Allreduce(&mine, first, 1, MPI_INT, MPI_MIN, c->comm),
               "MPI_Allreduce"))
        return -1;
    if (*first == INT_MAX) {
        *first = -1;
    } else {
        c->agreed_failure = 1;
    }
    return 0;
}

static int sum(void *ctx, void *v, int64_t n, MPI_Datatype type, size_t size)
{
    struct mpi_ctx *c = ctx;
    char *p = v;

    for (int64_t i = 0; i < n; i += MPI_PIECE) {
        int k = (int)(n - i < MPI_PIECE ? n - i : MPI_PIECE);
        if (mpi_ok(MPI_Allreduce(MPI_IN_PLACE, p + (size_t)i * size, k, type,
                                 MPI_SUM, c->comm),
                   "MPI_Allreduce"))
            return -1;
    }
    return 0;
}

static int sum_floats(void *ctx, float *v, int64_t n)
{
    return sum(ctx, v, n, MPI_FLOAT, sizeof *v);
}

static int sum_doubles(void *ctx, double *v, int64_t n)
{
    return sum(ctx, v, n, MPI_DOUBLE, sizeof *v);
}

static int broadcast(void *ctx, void *buf, size_t len)
{
    struct mpi_ctx *c = ctx;
    char *p = buf;

    for (size_t i = 0; i < len; i += (size_t)MPI_PIECE) {
        int k = (int)(len - i < (size_t)MPI_PIECE ? len - i : (size_t)MPI_PIECE);
        if (mpi_ok(MPI_Bcast(p + i, k, MPI_BYTE, 0, c->comm), "MPI_Bcast"))
            return -1;
    }
    return 0;
}

/* ---- Same data and model on every rank ------------------------------------ */

/* FNV-1a over 32-bit words: any single changed word changes the hash, as
 * each step is a bijection of the state. */
#define HASH_BASIS UINT64_C(0xcbf29ce484222325)

static uint64_t hash_words(uint64_t h, const void *p, int64_t nwords)
{
    const unsigned char *b = p;
    for (int64_t i = 0; i < nwords; i++) {
        uint32_t w;
        memcpy(&w, b + 4 * i, 4);
        h = (h ^ w) * UINT64_C(0x100000001b3);
    }
    return h;
}

/* The images and their labels, which a conditional model reads too. */
static uint64_t hash_images(const idx_dataset *d)
{
    const uint32_t dims[3] = {(uint32_t)d->count, (uint32_t)d->rows,
                              (uint32_t)d->cols};
    uint64_t h = hash_words(hash_words(HASH_BASIS, dims, 3), d->pixels,
                            d->count * d->rows * d->cols);

    for (int64_t i = 0; i < d->count; i++)
        h = (h ^ d->labels[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* Every rank must read the same images: a rank takes its rows of every
 * batch by index, so one with another copy of the data would train on it
 * without any error. */
static int same_data(const struct train_comm *comm, const char *dir,
                     const idx_dataset *train, const idx_dataset *test)
{
    uint64_t mine[2] = {hash_images(train), hash_images(test)};
    uint64_t root[2] = {mine[0], mine[1]};
    int bad = 0;

    if (broadcast(comm->ctx, root, sizeof root))
        return -1;
    if (root[0] != mine[0] || root[1] != mine[1])
        bad = fail("the %s images or labels in %s differ from those rank 0 "
                   "read; every rank must read the same data",
                   root[0] != mine[0] ? "training" : "test", dir);
    return train_agree(comm, bad);
}

/* Rank 0's model, optimizer and generator state, as a model file, to every
 * other rank. */
static int share_model(const struct train_comm *comm, vae_model **m,
                       vae_adam **opt)
{
    uint64_t len = 0;
    unsigned char *buf = NULL;
    char e[512] = "";
    int32_t s;
    int bad = 0, rc = -1;

    if (comm->rank == 0) {
        size_t n = 0;
        if ((s = vae_model_save_size(*m, *opt, &n)) != VAE_OK)
            bad = fail_lib("vae_model_save_size", s, vae_model_last_error(*m));
        else if (!(buf = malloc(n)))
            bad = fail("out of memory");
        else if ((s = vae_model_save_to_buffer(*m, *opt, buf, n, &n)) !=
                 VAE_OK)
            bad = fail_lib("vae_model_save_to_buffer", s,
                           vae_model_last_error(*m));
        len = n;
    }
    if (train_agree(comm, bad) || broadcast(comm->ctx, &len, sizeof len))
        goto done;
    if (comm->rank != 0 && !(buf = malloc((size_t)len)))
        bad = fail("out of memory");
    if (train_agree(comm, bad) || broadcast(comm->ctx, buf, (size_t)len))
        goto done;
    if (comm->rank != 0) {
        s = vae_model_load_from_buffer(buf, (size_t)len, m, opt, e, sizeof e);
        if (s != VAE_OK)
            bad = fail_lib("the model from rank 0", s, e);
    }
    rc = train_agree(comm, bad);
done:
    free(buf);
    return rc;
}

static int start(const struct train_comm *comm, const char *dir,
                 const idx_dataset *train, const idx_dataset *test,
                 vae_model **m, vae_adam **opt)
{
    return same_data(comm, dir, train, test) || share_model(comm, m, opt);
}

/* Every rank must hold rank 0's parameters after each epoch: that holds only
 * if the sums over the ranks are the same on every rank, which MPI
 * recommends but does not promise. */
static int check_params(const struct train_comm *comm, vae_model *m,
                        long epoch)
{
    uint64_t mine = hash_words(HASH_BASIS, vae_model_params(m),
                               vae_model_num_params(m));
    uint64_t root = mine;

    if (broadcast(comm->ctx, &root, sizeof root))
        return -1;
    return train_agree(comm, root != mine ?
                       fail("after epoch %ld the parameters differ from rank "
                            "0's: the sums over the ranks were not the same "
                            "on every rank", epoch) : 0);
}

static struct mpi_ctx g_ctx;
static struct train_comm g_comm;

static int cmd_train(const struct args *a)
{
    return image_train(a, &g_comm);
}

int main(int argc, char **argv)
{
    static const struct command commands[] = {
        {"train", IMAGE_TRAIN_OPTS, OPT(OPT_DATA), cmd_train},
    };
    char error_name[64];
    struct program prog = {
        "vae-image-mpi", usage, image_opt_names, OPT_COUNT, OPT_THREADS,
        commands, sizeof commands / sizeof *commands, error_name,
        IMAGE_SWITCHES};
    int rank = 0, size = 1, rc;

    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fputs("vae-image-mpi: MPI_Init failed\n", stderr);
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    g_ctx.comm = MPI_COMM_WORLD;
    g_comm = (struct train_comm){rank, size, &g_ctx, first_failure,
                                 sum_floats, sum_doubles, start,
                                 check_params};
    snprintf(error_name, sizeof error_name, "vae-image-mpi: rank %d", rank);

    rc = cli_main(&prog, argc, argv);
    /* A failure the other ranks have not learnt of leaves them waiting in a
     * collective call: the message is out, so end the whole job. */
    if (rc != 0 && size > 1 && !g_ctx.agreed_failure) {
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    MPI_Finalize();
    return rc;
}
