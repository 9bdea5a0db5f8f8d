/* main.c - vae-image-mpi: vae-image's train command as a data-parallel MPI
 * job, one process per rank (docs/distributed.md). The library knows
 * nothing of MPI: the ranks share the model's flat gradient buffer through
 * one MPI_Allreduce per step, everything else is vae-image's own train
 * (examples/image/train.c). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

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
        commands, sizeof commands / sizeof *commands, error_name};
    int rank = 0, size = 1, rc;

    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fputs("vae-image-mpi: MPI_Init failed\n", stderr);
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    g_ctx.comm = MPI_COMM_WORLD;
    g_comm = (struct train_comm){rank, size, &g_ctx, first_failure,
                                 sum_floats, sum_doubles, broadcast};
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
