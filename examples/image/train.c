/* train.c - see train.h. The train command as one process runs it, top to
 * bottom: the flags, the data, the model, then each epoch's steps, test
 * evaluation and checkpoint. The same code runs on every rank of
 * vae-image-mpi and gives the same model up to the order of float sums:
 * each global batch is split between the ranks (shard_rows), each rank
 * draws its rows' binarisation and z noise from the model's generator
 * exactly as one process would (docs/distributed.md), one sum of the flat
 * gradient buffer over the ranks gives every rank the gradient of the
 * whole batch, and every rank takes the same Adam step from the same
 * state. What only a job of several ranks needs (the same data and model
 * on every rank) is the MPI program's (comm->start, comm->check_params). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <vae.h>

#include "arch.h"
#include "images.h"
#include "loss_watch.h"
#include "models.h"
#include "order.h"
#include "train.h"
#include "trainer.h"

/* ---- One process: one rank whose collective calls do nothing ------------ */

static int single_first_failure(void *ctx, int failed, int *first)
{
    (void)ctx;
    *first = failed ? 0 : -1;
    return 0;
}

static int single_sum_floats(void *ctx, float *v, int64_t n)
{
    (void)ctx, (void)v, (void)n;
    return 0;
}

static int single_sum_doubles(void *ctx, double *v, int64_t n)
{
    (void)ctx, (void)v, (void)n;
    return 0;
}

const struct train_comm train_comm_single = {
    0, 1, NULL, single_first_failure, single_sum_floats, single_sum_doubles,
    NULL, NULL};

int train_agree(const struct train_comm *comm, int failed)
{
    int first = -1;

    if (comm->first_failure(comm->ctx, failed, &first))
        return -1;
    if (first < 0)
        return 0;
    if (!failed)
        fail("stopping: rank %d of %d failed (see its message)", first,
             comm->size);
    return -1;
}

/* ---- The flags ---------------------------------------------------------- */

struct train_cfg {
    const char *data, *out_path, *metrics_path;
    const char *resume; /* NULL: a fresh model */
    const struct arch *arch;
    long latent, epochs, batch;
    double lr, lr_end; /* lr_end 0: a constant rate */
    long warmup;       /* KL warm-up epochs; 0: none */
    long samples;      /* importance samples of the objective; 1: the ELBO */
    int lr_given;
    uint64_t seed;
    enum binarize binarize;
    double progress;
};

static int parse_train(const struct args *a, struct train_cfg *c)
{
    c->data = a->val[OPT_DATA];
    c->resume = a->val[OPT_RESUME];
    c->out_path = a->val[OPT_OUT] ? a->val[OPT_OUT] : c->resume;
    c->metrics_path = a->val[OPT_METRICS];
    c->lr_given = a->val[OPT_LR] != NULL;
    if (!c->out_path)
        return fail("train: missing required option --out (or --resume)");
    c->arch = find_arch(a->val[OPT_ARCH] ? a->val[OPT_ARCH] : "mlp");
    if (!c->arch ||
        get_long(a, OPT_LATENT, c->arch->default_latent, 1, 4096,
                 &c->latent) ||
        get_double(a, OPT_LR, 1e-3, 0.0, 10.0, 1, &c->lr) ||
        get_long(a, OPT_EPOCHS, 10, 1, 100000, &c->epochs) ||
        get_long(a, OPT_BATCH, 128, 1, 65536, &c->batch) ||
        get_double(a, OPT_LR_END, 0.0, 0.0, 10.0, 1, &c->lr_end) ||
        get_long(a, OPT_WARMUP, 0, 0, 100000, &c->warmup) ||
        get_long(a, OPT_TRAIN_SAMPLES, 1, 1, VAE_TRAIN_SAMPLES_MAX,
                 &c->samples) ||
        get_double(a, OPT_PROGRESS, 2.0, 0.0, 86400.0, 0, &c->progress) ||
        get_seed(a, OPT_SEED, 1, &c->seed) || get_binarize(a, &c->binarize))
        return -1;
    if (c->lr_end > 0.0 && !c->lr_given)
        return fail("train: --lr-end needs --lr (the rate of epoch 1)");
    return 0;
}

/* ---- Data and model ----------------------------------------------------- */

/* What every rank holds during a run. */
struct run {
    const struct train_comm *comm;
    struct train_cfg c;
    idx_dataset train, test;
    int64_t dim; /* pixels per image */
    vae_model *m;
    vae_adam *opt;
    trainer *t;
    struct metrics *metrics; /* rank 0 */
    int64_t *perm;
    float *xb, *ub; /* this rank's rows of a batch; a batch of uniforms */
    long done_epochs;
    double sum_secs; /* this epoch's time in the gradient sums */
    struct loss_watch watch; /* rank 0's rows */
};

/* Every rank: the data, binarised once as the flags say, and the buffers
 * of a batch. */
static int load_data(struct run *r)
{
    struct train_cfg *c = &r->c;
    idx_dataset *train = &r->train, *test = &r->test;

    if (load_split(c->data, IDX_TRAIN, train) ||
        load_split(c->data, IDX_TEST, test))
        return -1;
    if (test->rows != train->rows || test->cols != train->cols)
        return fail("%s: training images are %lldx%lld but test images "
                    "%lldx%lld", c->data, (long long)train->rows,
                    (long long)train->cols, (long long)test->rows,
                    (long long)test->cols);
    if (c->batch > train->count)
        c->batch = (long)train->count;
    r->dim = train->rows * train->cols;
    if (c->binarize != BIN_NONE)
        binarize_fixed(test->pixels, test->count * r->dim, TEST_BINARIZE_SEED);
    if (c->binarize == BIN_STATIC)
        binarize_fixed(train->pixels, train->count * r->dim,
                       TRAIN_BINARIZE_SEED);
    r->perm = malloc((size_t)train->count * sizeof *r->perm);
    r->xb = malloc((size_t)c->batch * (size_t)r->dim * sizeof *r->xb);
    if (c->binarize == BIN_DYNAMIC)
        r->ub = malloc((size_t)c->batch * (size_t)r->dim * sizeof *r->ub);
    if (!r->perm || !r->xb || (c->binarize == BIN_DYNAMIC && !r->ub))
        return fail("out of memory");
    return 0;
}

/* The epochs the resumed model has finished, from its optimizer's step
 * count, into r->done_epochs. */
static int resumed_epochs(struct run *r)
{
    const struct train_cfg *c = &r->c;
    int64_t nbatches = (r->train.count + c->batch - 1) / c->batch;
    int64_t steps = vae_adam_steps(r->opt);

    if (steps < 0 || steps % nbatches != 0)
        return fail("--resume %s: the model has taken %lld optimizer steps, "
                    "not a whole number of %lld-batch epochs; resume with the "
                    "--batch and --data it was trained with", c->resume,
                    (long long)steps, (long long)nbatches);
    r->done_epochs = (long)(steps / nbatches);
    return 0;
}

/* Rank 0: the model and optimizer to train, a fresh model or the model and
 * optimizer state of --resume after checking that they are what the flags
 * describe; the metrics file; and a first save, which proves --out
 * writable before any time goes into training. */
static int open_model(struct run *r)
{
    const struct train_cfg *c = &r->c;
    char e[512] = "";
    int32_t s;

    if (!c->resume) {
        if (make_model(c->arch, r->train.rows, r->train.cols, c->latent,
                       c->seed, &r->m))
            return -1;
        s = vae_adam_new(r->m, c->lr, &r->opt, e, sizeof e);
        if (s != VAE_OK)
            return fail_lib("vae_adam_new", s, e);
    } else {
        if (model_load(c->resume, &r->m, &r->opt) ||
            check_fits(r->m, &r->train, c->data) ||
            check_resume_arch(r->m, c->resume, c->arch, r->train.rows,
                              r->train.cols, c->latent))
            return -1;
        if (!r->opt)
            return fail("--resume %s: the file holds no optimizer state, so "
                        "training cannot continue from it", c->resume);
        /* Without --lr the saved learning rate stays, as an uninterrupted
         * run would have kept it. */
        if (c->lr_given && (s = vae_adam_set_lr(r->opt, c->lr)) != VAE_OK)
            return fail_lib("vae_adam_set_lr", s, vae_adam_last_error(r->opt));
        if (resumed_epochs(r))
            return -1;
    }
    if (r->done_epochs >= c->epochs)
        return fail("--resume %s: the model has finished %ld epoch%s already "
                    "and --epochs (the total) is %ld", c->resume,
                    r->done_epochs, r->done_epochs == 1 ? "" : "s", c->epochs);
    if (c->metrics_path && !(r->metrics = open_metrics(c->metrics_path)))
        return -1;
    return model_save(r->m, r->opt, c->out_path);
}

/* The trainer of one process has a worker per BLAS thread (at most 16); a
 * rank of several computes its share itself, its threads going to BLAS. */
static int make_trainer(struct run *r)
{
    int32_t blas = vae_get_num_threads();
    int workers = r->comm->size == 1 && blas > 1 ? (blas < 16 ? blas : 16) : 1;

    if (trainer_new(r->m, workers, &r->t) ||
        trainer_set_train_samples(r->t, r->c.samples))
        return -1;
    return 0;
}

/* ---- Epochs ------------------------------------------------------------- */

/* The learning rate and KL weight of one epoch, functions of the flags and
 * the epoch number alone, so that a resumed run continues the same schedule.
 * The rate falls geometrically from --lr at epoch 1 to --lr-end at the last
 * epoch: a steady decay keeps Adam's step noise shrinking as the optimum
 * nears, where one late drop gained two nats of ELBO at once. The KL weight
 * rises linearly to 1 over the warm-up (Sonderby et al. 2016), letting the
 * decoder learn to use z before the KL term can switch units off. */
static int apply_schedule(const struct train_cfg *c, trainer *t,
                          vae_adam *opt, long epoch)
{
    int32_t s;

    if (c->lr_end > 0.0) {
        double t = c->epochs > 1 ? (double)(epoch - 1) / (double)(c->epochs - 1)
                                 : 0.0;
        s = vae_adam_set_lr(opt, c->lr * pow(c->lr_end / c->lr, t));
        if (s != VAE_OK)
            return fail_lib("vae_adam_set_lr", s, vae_adam_last_error(opt));
    }
    if (c->warmup > 0) {
        double beta = epoch >= c->warmup ? 1.0
                                         : (double)epoch / (double)c->warmup;
        return trainer_set_beta(t, beta);
    }
    return 0;
}

/* One optimizer step on batch b (0-based) of an epoch, n rows, of which
 * this rank holds rows [first, first + k) in r->xb. One process leaves it
 * to the trainer (its threads); ranks compute their share on one thread
 * each. The gradient buffer sums over the batch, so the sum over the ranks
 * is the whole batch's. */
static int train_step(struct run *r, int64_t n, int64_t first, int64_t k,
                      long epoch, int64_t b, double *elbo)
{
    const struct train_comm *comm = r->comm;
    vae_model *m = r->m;
    int64_t per = r->c.samples * model_draws_per_example(m);
    char where[64];
    int32_t s;

    if (comm->size == 1)
        return trainer_step(r->t, r->opt, r->xb, n, r->dim, epoch, b, elbo);
    snprintf(where, sizeof where, "epoch %ld, batch %lld", epoch,
             (long long)b + 1);
    if ((s = vae_model_zero_grad(m)) != VAE_OK)
        return fail_step(where, s, vae_model_last_error(m));
    if (model_skip_draws(m, first * per))
        return -1;
    if (k > 0 && (s = vae_model_elbo_grad(m, r->xb, k, elbo, NULL, NULL)) !=
                     VAE_OK)
        return fail_step(where, s, vae_model_last_error(m));
    if (model_skip_draws(m, (n - first - k) * per))
        return -1;
    double t0 = now_seconds();
    if (comm->sum_floats(comm->ctx, vae_model_grads(m),
                         vae_model_num_params(m)))
        return -1;
    r->sum_secs += now_seconds() - t0;
    if ((s = vae_adam_step(r->opt, m)) != VAE_OK)
        return fail_step(where, s, vae_adam_last_error(r->opt));
    return 0;
}

/* One epoch of training steps in the order (seed, epoch) fixes. Returns 0
 * and the mean train ELBO and the training time, or -1. The progress line
 * (rank 0's) shows the mean over rank 0's rows. */
static int train_epoch(struct run *r, long epoch, double *mean_elbo,
                       double *secs)
{
    const struct train_cfg *c = &r->c;
    const struct train_comm *comm = r->comm;
    int64_t dim = r->dim, count = r->train.count;
    int64_t nbatches = (count + c->batch - 1) / c->batch;
    struct progress prog;
    double sum = 0.0, t0 = now_seconds();
    int64_t seen = 0, mine = 0;
    int32_t s;

    epoch_order(r->perm, count, c->seed, epoch);
    progress_init(&prog, comm->rank == 0 ? c->progress : 0.0);
    r->sum_secs = 0.0;
    for (int64_t b = 0; b < nbatches; b++) {
        int64_t start = b * c->batch;
        int64_t n = count - start < c->batch ? count - start : c->batch;
        int64_t first, k;
        double elbo = 0.0;

        shard_rows(n, comm->rank, comm->size, &first, &k);
        for (int64_t j = 0; j < k; j++)
            memcpy(r->xb + j * dim,
                   r->train.pixels + r->perm[start + first + j] * dim,
                   (size_t)dim * sizeof *r->xb);
        /* Fresh Bernoulli draws every time an image is used, from the
         * model's generator, whose state the model file carries: the whole
         * batch's, of which this rank's rows take theirs. */
        if (c->binarize == BIN_DYNAMIC) {
            const float *u = r->ub + first * dim;
            s = vae_model_random_uniform(r->m, n * dim, r->ub);
            if (s != VAE_OK) {
                progress_clear(&prog);
                return fail_lib("vae_model_random_uniform", s,
                                vae_model_last_error(r->m));
            }
            for (int64_t i = 0; i < k * dim; i++)
                r->xb[i] = u[i] < r->xb[i] ? 1.0f : 0.0f;
        }
        if (train_step(r, n, first, k, epoch, b, &elbo)) {
            progress_clear(&prog);
            return -1;
        }
        sum += elbo * (double)k;
        seen += n;
        mine += k;
        if (comm->rank == 0)
            loss_watch_batch(&r->watch, -elbo * (double)k, (double)k, epoch,
                             &prog);
        if (progress_due(&prog)) {
            double el = now_seconds() - t0;
            double rate = el > 0.0 ? (double)seen / el : 0.0;
            char eta[32], eta_epoch[32];

            format_etas(el, seen, count, c->epochs - epoch, -1.0, eta,
                        eta_epoch, sizeof eta);
            progress_line(&prog,
                          "epoch %ld/%ld  batch %lld/%lld  train_elbo %.2f  "
                          "%.0f samples/s  ETA %s (epoch %s)",
                          epoch, c->epochs, (long long)b + 1,
                          (long long)nbatches,
                          mine > 0 ? sum / (double)mine : NAN, rate, eta,
                          eta_epoch);
        }
    }
    progress_clear(&prog);
    if (comm->rank == 0)
        loss_watch_end_epoch(&r->watch, epoch, &prog);
    *secs = now_seconds() - t0;
    if (comm->sum_doubles(comm->ctx, &sum, 1))
        return -1;
    *mean_elbo = sum / (double)count;
    return 0;
}

/* The test ELBO and its terms, each rank evaluating its share. */
static int evaluate(struct run *r, double *elbo, double *recon, double *kl)
{
    const struct train_comm *comm = r->comm;
    double sums[3], n = (double)r->test.count;

    if (model_evaluate_shard(r->m, r->test.pixels, NULL, r->test.count,
                             r->dim, r->c.batch, comm->rank, comm->size,
                             sums) ||
        comm->sum_doubles(comm->ctx, sums, 3))
        return -1;
    *elbo = sums[0] / n;
    *recon = sums[1] / n;
    *kl = sums[2] / n;
    return 0;
}

/* Rank 0: the checkpoint, the metrics line and the epoch line. Saved after
 * the evaluation, whose z draws advance the model's generator: a resumed
 * run starts from exactly this state. */
static int report_epoch(struct run *r, long epoch, double train_elbo,
                        double secs, double te, double tr, double tk)
{
    const struct train_cfg *c = &r->c;
    double rate = (double)r->train.count / secs;

    if (model_save(r->m, r->opt, c->out_path))
        return -1;
    if (r->metrics) {
        json_num(r->metrics, "epoch", (double)epoch, 0);
        json_num(r->metrics, "train_elbo", train_elbo, 4);
        json_num(r->metrics, "test_elbo", te, 4);
        json_num(r->metrics, "recon", tr, 4);
        json_num(r->metrics, "kl", tk, 4);
        json_num(r->metrics, "seconds", secs, 3);
        json_num(r->metrics, "samples_per_s", rate, 1);
        if (finish_json_line(r->metrics))
            return -1;
    }
    fprintf(stderr,
            "epoch %ld/%ld  train_elbo %.2f  test_elbo %.2f (recon %.2f, "
            "kl %.2f)  %.1fs  %.0f samples/s",
            epoch, c->epochs, train_elbo, te, tr, tk, secs, rate);
    /* The all-reduce's share of the time, waiting for slower ranks
     * included: what the ranks lose to each other. */
    if (r->comm->size > 1)
        fprintf(stderr, "  (%d ranks, %.2fs in all-reduce)", r->comm->size,
                r->sum_secs);
    fputc('\n', stderr);
    return 0;
}

/* ---- The command -------------------------------------------------------- */

int image_train(const struct args *a, const struct train_comm *comm)
{
    struct run r = {0};
    int bad, rc = -1;

    r.comm = comm;
    loss_watch_init(&r.watch, "image");
    bad = parse_train(a, &r.c) || load_data(&r);
    if (!bad && comm->rank == 0)
        bad = open_model(&r);
    if (train_agree(comm, bad))
        goto done;
    /* The other ranks count the finished epochs of the model they were
     * given; rank 0 has. */
    if (comm->size > 1 &&
        (comm->start(comm, r.c.data, &r.train, &r.test, &r.m, &r.opt) ||
         train_agree(comm, comm->rank != 0 && r.c.resume &&
                               resumed_epochs(&r))))
        goto done;
    if (make_trainer(&r))
        goto done;

    for (long epoch = r.done_epochs + 1; epoch <= r.c.epochs; epoch++) {
        double train_elbo = 0.0, secs = 0.0, te, tr, tk;

        if (apply_schedule(&r.c, r.t, r.opt, epoch) ||
            train_epoch(&r, epoch, &train_elbo, &secs) ||
            evaluate(&r, &te, &tr, &tk) ||
            (comm->size > 1 && comm->check_params(comm, r.m, epoch)) ||
            (comm->rank == 0 &&
             report_epoch(&r, epoch, train_elbo, secs, te, tr, tk)))
            goto done;
    }
    rc = 0;

done:
    rc = close_metrics(r.metrics, rc);
    free(r.ub);
    free(r.xb);
    free(r.perm);
    trainer_free(r.t);
    vae_adam_free(r.opt);
    vae_model_free(r.m);
    idx_free(&r.train);
    idx_free(&r.test);
    return rc;
}
