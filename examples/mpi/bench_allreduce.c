/* bench_allreduce.c - vae-allreduce-bench FLOATS [REPS]: the time of one
 * in-place MPI_Allreduce (sum) of FLOATS floats, vae-image-mpi's one
 * collective per step, on the ranks of the job: the median and the fastest
 * of REPS calls (default 50) after 5 unmeasured ones, the slowest rank's
 * figures. The median, not the mean: on a shared machine a few calls wait
 * for a descheduled rank. With FLOATS = the model's parameter count, it is the
 * communication cost of a step on that cluster (docs/distributed.md). */
#include <stdio.h>
#include <stdlib.h>

#include <mpi.h>

#define WARMUP 5

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rank = 0, size = 1, rc = 1;
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    long reps = argc > 2 ? strtol(argv[2], NULL, 10) : 50;
    double mine[2], worst[2], *times = NULL;
    float *v = NULL;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 2 || argc > 3 || n < 1 || n > (1L << 30) || reps < 1) {
        if (rank == 0)
            fputs("usage: vae-allreduce-bench FLOATS [REPS]\n", stderr);
        goto done;
    }
    v = malloc((size_t)n * sizeof *v);
    times = malloc((size_t)reps * sizeof *times);
    if (!v || !times) {
        fprintf(stderr, "vae-allreduce-bench: rank %d: out of memory\n", rank);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (long i = 0; i < n; i++)
        v[i] = 1e-3f * (float)(i % 1000);
    for (long r = 0; r < WARMUP + reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
        if (r >= WARMUP)
            times[r - WARMUP] = MPI_Wtime() - t0;
    }
    qsort(times, (size_t)reps, sizeof *times, by_value);
    mine[0] = times[reps / 2];
    mine[1] = times[0];
    MPI_Reduce(mine, worst, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%d ranks, %ld floats (%.2f MB): all-reduce median %.3f ms, "
               "fastest %.3f ms\n",
               size, n, (double)n * sizeof(float) / 1e6, worst[0] * 1e3,
               worst[1] * 1e3);
    rc = 0;
done:
    free(times);
    free(v);
    MPI_Finalize();
    return rc;
}
