/* main.c - vae-image: trains, evaluates and samples a VAE on MNIST-style
 * images. Uses only the public libvae API, like any outside program would. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty, fileno */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vae.h>

#include "idx.h"
#include "png_grid.h"

#define GRID_COLS 8     /* tiles per row in the PNGs */
#define MAX_IMAGES 1024 /* --n limit for sample and reconstruct */

/* ---- Errors: every failure ends as one line "vae-image: <message>". ---- */

static char g_err[1024];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
    return -1;
}

/* A failed library call; the handle's message is more precise than the
 * status string, when there is one. */
static int fail_lib(const char *what, int32_t status, const char *detail)
{
    return fail("%s: %s", what,
                detail && *detail ? detail : vae_status_string(status));
}

/* A failed library call on a file; its message may name the file already. */
static int fail_file(const char *path, int32_t status, const char *detail)
{
    if (detail && *detail && strstr(detail, path))
        return fail("%s", detail);
    return fail_lib(path, status, detail);
}

static void report_error(void)
{
    for (char *p = g_err; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "vae-image: %s\n", g_err);
}

/* ---- Command line ------------------------------------------------------ */

enum opt_id {
    OPT_DATA, OPT_ARCH, OPT_LATENT, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_SEED,
    OPT_OUT, OPT_METRICS, OPT_MODEL, OPT_N, OPT_PROGRESS, OPT_COUNT
};

static const char *const opt_names[OPT_COUNT] = {
    [OPT_DATA] = "--data",       [OPT_ARCH] = "--arch",
    [OPT_LATENT] = "--latent",   [OPT_EPOCHS] = "--epochs",
    [OPT_BATCH] = "--batch",     [OPT_LR] = "--lr",
    [OPT_SEED] = "--seed",       [OPT_OUT] = "--out",
    [OPT_METRICS] = "--metrics", [OPT_MODEL] = "--model",
    [OPT_N] = "--n",             [OPT_PROGRESS] = "--progress",
};

#define OPT(o) (1u << (o))

struct args {
    const char *val[OPT_COUNT]; /* NULL when the flag was not given */
};

struct command {
    const char *name;
    unsigned allowed, required;
    int (*run)(const struct args *a);
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vae-image <command> [options]\n"
        "\n"
        "  train        --data DIR --out MODEL [--arch mlp] [--latent D] [--epochs N]\n"
        "               [--batch B] [--lr LR] [--seed S] [--metrics FILE.jsonl]\n"
        "               [--progress SECONDS]\n"
        "  eval         --data DIR --model MODEL [--metrics FILE.jsonl] [--batch B]\n"
        "               [--seed S]\n"
        "  sample       --model MODEL --out FILE.png [--n N] [--seed S]\n"
        "  reconstruct  --data DIR --model MODEL --out FILE.png [--n N]\n"
        "\n"
        "DIR holds the MNIST IDX files (train-images-idx3-ubyte, ..., raw or .gz).\n"
        "Defaults: --arch mlp --latent 20 --epochs 10 --batch 128 --lr 1e-3 --seed 1\n"
        "--progress 2 (0: no progress lines); --n 64 (sample), 32 (reconstruct).\n"
        "See docs/image.md.\n");
}

static int parse_args(const struct command *cmd, int argc, char **argv,
                      struct args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *flag = argv[i];
        int id = -1;

        for (int o = 0; o < OPT_COUNT; o++)
            if ((cmd->allowed & OPT(o)) && strcmp(flag, opt_names[o]) == 0)
                id = o;
        if (id < 0)
            return fail("%s: unknown option '%s' (see vae-image --help)",
                        cmd->name, flag);
        /* A following flag is a forgotten value, not a value. */
        if (i + 1 >= argc || argv[i + 1][0] == '\0' ||
            strncmp(argv[i + 1], "--", 2) == 0)
            return fail("%s: %s needs a value", cmd->name, flag);
        if (a->val[id])
            return fail("%s: %s given twice", cmd->name, flag);
        a->val[id] = argv[++i];
    }
    for (int o = 0; o < OPT_COUNT; o++)
        if ((cmd->required & OPT(o)) && !a->val[o])
            return fail("%s: missing required option %s", cmd->name,
                        opt_names[o]);
    return 0;
}

static int get_long(const struct args *a, enum opt_id o, long def, long lo,
                    long hi, long *out)
{
    const char *s = a->val[o];
    char *end;
    long v;

    if (!s) {
        *out = def;
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < lo || v > hi)
        return fail("%s: expected an integer in [%ld, %ld], got '%s'",
                    opt_names[o], lo, hi, s);
    *out = v;
    return 0;
}

/* A finite number in (lo, hi] when lo_open, else in [lo, hi]. */
static int get_double(const struct args *a, enum opt_id o, double def,
                      double lo, double hi, int lo_open, double *out)
{
    const char *s = a->val[o];
    char *end;
    double v;

    if (!s) {
        *out = def;
        return 0;
    }
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v) ||
        (lo_open ? v <= lo : v < lo) || v > hi)
        return fail("%s: expected a number in %c%g, %g], got '%s'",
                    opt_names[o], lo_open ? '(' : '[', lo, hi, s);
    *out = v;
    return 0;
}

static int get_seed(const struct args *a, uint64_t def, uint64_t *out)
{
    const char *s = a->val[OPT_SEED];
    char *end;
    unsigned long long v = 0;
    int ok;

    if (!s) {
        *out = def;
        return 0;
    }
    /* strtoull would quietly wrap "-1"; insist on plain digits. */
    ok = s[0] >= '0' && s[0] <= '9';
    if (ok) {
        errno = 0;
        v = strtoull(s, &end, 10);
        ok = *end == '\0' && errno != ERANGE;
    }
    if (!ok)
        return fail("--seed: expected an integer in [0, 2^64), got '%s'", s);
    *out = (uint64_t)v;
    return 0;
}

/* ---- Small helpers ----------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void format_duration(double s, char *buf, size_t len)
{
    long t;

    if (!(s >= 0.0 && s < 1e8)) {
        snprintf(buf, len, "?");
        return;
    }
    t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

/* splitmix64: small and well mixed; only orders the training set, so it is
 * kept apart from the model's own generator. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n): draws at or above the largest multiple of n are
 * redrawn, so small indices are not favoured. */
static uint64_t uniform_below(uint64_t *state, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = splitmix64(state);
    while (r >= limit);
    return r % n;
}

static void shuffle(int64_t *perm, int64_t n, uint64_t *state)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)uniform_below(state, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* Adds "key":value to a JSON object line; *fields counts the keys written so
 * far. JSON has no Inf or NaN, so those become null. */
static void json_num(FILE *f, int *fields, const char *key, double v,
                     int decimals)
{
    fputs((*fields)++ ? "," : "{", f);
    if (isfinite(v))
        fprintf(f, "\"%s\":%.*f", key, decimals, v);
    else
        fprintf(f, "\"%s\":null", key);
}

static int finish_json_line(FILE *f, const char *path)
{
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f))
        return fail("%s: write failed: %s", path, strerror(errno));
    return 0;
}

static FILE *open_metrics(const char *path)
{
    FILE *f = fopen(path, "a");
    if (!f)
        fail("%s: %s", path, strerror(errno));
    return f;
}

static int load_split(const char *dir, enum idx_split split, idx_dataset *d)
{
    char e[512];
    if (idx_load_dir(dir, split, d, e, sizeof e) != 0)
        return fail("%s", e);
    return 0;
}

static int load_model(const char *path, vae_model **m)
{
    char e[512] = "";
    int32_t s = vae_model_load(path, m, NULL, e, sizeof e);
    if (s != VAE_OK)
        return fail_file(path, s, e);
    return 0;
}

static int check_fits(const vae_model *m, const idx_dataset *d, const char *dir)
{
    int64_t want = vae_model_data_size(m);
    if (want != d->rows * d->cols)
        return fail("the model expects %lld values per image, but the images "
                    "in %s are %lldx%lld", (long long)want, dir,
                    (long long)d->rows, (long long)d->cols);
    return 0;
}

/* Mean ELBO, reconstruction term and KL per example over the whole set. */
static int evaluate(vae_model *m, const idx_dataset *d, int64_t batch,
                    double *elbo, double *recon, double *kl)
{
    int64_t dim = d->rows * d->cols;
    double se = 0.0, sr = 0.0, sk = 0.0;

    for (int64_t i = 0; i < d->count; i += batch) {
        int64_t b = d->count - i < batch ? d->count - i : batch;
        double e, r, k;
        int32_t s = vae_model_elbo(m, d->pixels + i * dim, b, &e, &r, &k);
        if (s != VAE_OK)
            return fail_lib("vae_model_elbo", s, vae_model_last_error(m));
        se += e * (double)b;
        sr += r * (double)b;
        sk += k * (double)b;
    }
    *elbo = se / (double)d->count;
    *recon = sr / (double)d->count;
    *kl = sk / (double)d->count;
    return 0;
}

/* Writes tiles of h x w grey values as a GRID_COLS-wide PNG, tile rows in
 * groups of group_rows (0: ungrouped). */
static int write_png(const char *path, const float *const *tiles, size_t n,
                     int64_t h, int64_t w, size_t group_rows)
{
    char e[512];
    if (png_write_grid(path, tiles, n, (size_t)h, (size_t)w, GRID_COLS,
                       group_rows, e, sizeof e) != 0)
        return fail("%s", e);
    return 0;
}

/* ---- Architectures ------------------------------------------------------ */

/* Each builder fills an empty encoder and decoder graph for images of
 * rows x cols and returns the likelihood its decoder output is meant for.
 * Graph errors are sticky, so the caller checks the graphs once. */
typedef int32_t (*arch_builder)(vae_graph *enc, vae_graph *dec, int64_t rows,
                                int64_t cols, int64_t latent);

/* The PyTorch examples/vae model: 784-400-(20, 20) / 20-400-784. */
static int32_t build_mlp(vae_graph *enc, vae_graph *dec, int64_t rows,
                         int64_t cols, int64_t latent)
{
    int64_t d = rows * cols;
    int32_t h;

    h = vae_graph_input(enc, &d, 1);
    h = vae_graph_dense(enc, h, 400);
    h = vae_graph_relu(enc, h);
    vae_graph_set_output(enc, h);

    h = vae_graph_input(dec, &latent, 1);
    h = vae_graph_dense(dec, h, 400);
    h = vae_graph_relu(dec, h);
    h = vae_graph_dense(dec, h, d);
    vae_graph_set_output(dec, h);
    return VAE_LIKELIHOOD_BERNOULLI;
}

struct arch {
    const char *name;
    arch_builder build;
};

static const struct arch archs[] = {
    {"mlp", build_mlp},
};

static const struct arch *find_arch(const char *name)
{
    char known[256] = "";
    size_t n = sizeof archs / sizeof *archs;

    for (size_t i = 0; i < n; i++)
        if (strcmp(archs[i].name, name) == 0)
            return &archs[i];
    for (size_t i = 0; i < n; i++) {
        strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
        strncat(known, archs[i].name, sizeof known - strlen(known) - 1);
    }
    fail("--arch: unknown architecture '%s' (known: %s)", name, known);
    return NULL;
}

static int make_model(const struct arch *ar, int64_t rows, int64_t cols,
                      int64_t latent, uint64_t seed, vae_model **out)
{
    vae_graph *enc = NULL, *dec = NULL;
    char e[512] = "";
    int32_t s, likelihood;
    int rc = -1;

    if ((s = vae_graph_new(&enc)) != VAE_OK ||
        (s = vae_graph_new(&dec)) != VAE_OK) {
        fail_lib("vae_graph_new", s, NULL);
        goto done;
    }
    likelihood = ar->build(enc, dec, rows, cols, latent);
    if ((s = vae_graph_status(enc)) != VAE_OK) {
        fail_lib("encoder graph", s, vae_graph_last_error(enc));
        goto done;
    }
    if ((s = vae_graph_status(dec)) != VAE_OK) {
        fail_lib("decoder graph", s, vae_graph_last_error(dec));
        goto done;
    }
    s = vae_model_new(enc, dec, latent, likelihood, seed, out, e, sizeof e);
    if (s != VAE_OK) {
        fail_lib("vae_model_new", s, e);
        goto done;
    }
    rc = 0;
done:
    vae_graph_free(enc);
    vae_graph_free(dec);
    return rc;
}

/* ---- train -------------------------------------------------------------- */

struct progress {
    double interval; /* seconds between lines; 0 disables them */
    double next;     /* time of the next line */
    int tty;         /* redraw one line in place instead of scrolling */
    int shown;       /* a line is on screen and must be cleared */
};

static void show_progress(struct progress *p, long epoch, long epochs,
                          int64_t batch_i, int64_t nbatches, double elbo,
                          int64_t seen, int64_t per_epoch, double elapsed)
{
    double rate = elapsed > 0.0 ? (double)seen / elapsed : 0.0;
    double left_epoch = rate > 0.0 ? (double)(per_epoch - seen) / rate : -1.0;
    double left_all =
        rate > 0.0 ? left_epoch + (double)(epochs - epoch) * per_epoch / rate
                   : -1.0;
    char eta_epoch[32], eta_all[32];

    format_duration(left_epoch, eta_epoch, sizeof eta_epoch);
    format_duration(left_all, eta_all, sizeof eta_all);
    fprintf(stderr,
            "%sepoch %ld/%ld  batch %lld/%lld  train_elbo %.2f  %.0f samples/s"
            "  ETA %s (epoch %s)%s",
            p->tty ? "\r" : "", epoch, epochs, (long long)batch_i,
            (long long)nbatches, elbo, rate, eta_all, eta_epoch,
            p->tty ? "\033[K" : "\n");
    p->shown = p->tty;
}

static void clear_progress(struct progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = 0;
}

static int cmd_train(const struct args *a)
{
    const char *out_path = a->val[OPT_OUT];
    const char *metrics_path = a->val[OPT_METRICS];
    const struct arch *ar;
    long epochs = 0, batch = 0, latent = 0;
    double lr = 0.0;
    uint64_t seed = 0, order_state;
    struct progress prog = {0};
    idx_dataset train = {0}, test = {0};
    vae_model *m = NULL;
    vae_adam *opt = NULL;
    FILE *metrics = NULL;
    int64_t *perm = NULL;
    float *xb = NULL;
    int64_t dim, nbatches;
    char e[512] = "";
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_EPOCHS, 10, 1, 100000, &epochs) ||
        get_long(a, OPT_BATCH, 128, 1, 65536, &batch) ||
        get_long(a, OPT_LATENT, 20, 1, 4096, &latent) ||
        get_double(a, OPT_LR, 1e-3, 0.0, 10.0, 1, &lr) ||
        get_double(a, OPT_PROGRESS, 2.0, 0.0, 86400.0, 0, &prog.interval) ||
        get_seed(a, 1, &seed))
        return -1;
    ar = find_arch(a->val[OPT_ARCH] ? a->val[OPT_ARCH] : "mlp");
    if (!ar)
        return -1;
    if (metrics_path && !(metrics = open_metrics(metrics_path)))
        return -1;

    if (load_split(a->val[OPT_DATA], IDX_TRAIN, &train) ||
        load_split(a->val[OPT_DATA], IDX_TEST, &test))
        goto done;
    if (test.rows != train.rows || test.cols != train.cols) {
        fail("%s: training images are %lldx%lld but test images %lldx%lld",
             a->val[OPT_DATA], (long long)train.rows, (long long)train.cols,
             (long long)test.rows, (long long)test.cols);
        goto done;
    }
    if (make_model(ar, train.rows, train.cols, latent, seed, &m))
        goto done;
    s = vae_adam_new(m, lr, &opt, e, sizeof e);
    if (s != VAE_OK) {
        fail_lib("vae_adam_new", s, e);
        goto done;
    }
    /* Saving the untrained model first proves --out writable before any
     * time goes into training. */
    s = vae_model_save(m, opt, out_path);
    if (s != VAE_OK) {
        fail_file(out_path, s, vae_model_last_error(m));
        goto done;
    }

    dim = train.rows * train.cols;
    if (batch > train.count)
        batch = (long)train.count;
    nbatches = (train.count + batch - 1) / batch;
    perm = malloc((size_t)train.count * sizeof *perm);
    xb = malloc((size_t)batch * (size_t)dim * sizeof *xb);
    if (!perm || !xb) {
        fail("out of memory");
        goto done;
    }
    for (int64_t i = 0; i < train.count; i++)
        perm[i] = i;
    /* Distinct from the seed as the model uses it, so the data order and
     * the model's draws are not correlated. */
    order_state = seed ^ UINT64_C(0x5348554646c3a11e);
    prog.tty = isatty(fileno(stderr));

    for (long epoch = 1; epoch <= epochs; epoch++) {
        double sum_elbo = 0.0, t0, secs, te, tr, tk;
        int64_t seen = 0;

        shuffle(perm, train.count, &order_state);
        t0 = now_seconds();
        prog.next = t0 + prog.interval;
        for (int64_t b = 0; b < nbatches; b++) {
            int64_t start = b * batch;
            int64_t n = train.count - start < batch ? train.count - start : batch;
            double elbo;

            for (int64_t j = 0; j < n; j++)
                memcpy(xb + j * dim, train.pixels + perm[start + j] * dim,
                       (size_t)dim * sizeof *xb);
            s = vae_model_train_step(m, opt, xb, n, &elbo, NULL, NULL);
            if (s != VAE_OK) {
                char where[64];
                snprintf(where, sizeof where, "epoch %ld, batch %lld", epoch,
                         (long long)b + 1);
                clear_progress(&prog);
                fail_lib(where, s, vae_model_last_error(m));
                goto done;
            }
            sum_elbo += elbo * (double)n;
            seen += n;
            if (prog.interval > 0.0) {
                double t = now_seconds();
                if (t >= prog.next) {
                    show_progress(&prog, epoch, epochs, b + 1, nbatches,
                                  sum_elbo / (double)seen, seen, train.count,
                                  t - t0);
                    prog.next = t + prog.interval;
                }
            }
        }
        secs = now_seconds() - t0;
        clear_progress(&prog);

        if (evaluate(m, &test, batch, &te, &tr, &tk))
            goto done;
        s = vae_model_save(m, opt, out_path);
        if (s != VAE_OK) {
            fail_file(out_path, s, vae_model_last_error(m));
            goto done;
        }
        if (metrics) {
            int k = 0;
            json_num(metrics, &k, "epoch", (double)epoch, 0);
            json_num(metrics, &k, "train_elbo", sum_elbo / (double)seen, 4);
            json_num(metrics, &k, "test_elbo", te, 4);
            json_num(metrics, &k, "recon", tr, 4);
            json_num(metrics, &k, "kl", tk, 4);
            json_num(metrics, &k, "seconds", secs, 3);
            json_num(metrics, &k, "samples_per_s", (double)seen / secs, 1);
            if (finish_json_line(metrics, metrics_path))
                goto done;
        }
        fprintf(stderr,
                "epoch %ld/%ld  train_elbo %.2f  test_elbo %.2f (recon %.2f, "
                "kl %.2f)  %.1fs  %.0f samples/s\n",
                epoch, epochs, sum_elbo / (double)seen, te, tr, tk, secs,
                (double)seen / secs);
    }
    rc = 0;

done:
    if (metrics && fclose(metrics) != 0 && rc == 0)
        rc = fail("%s: %s", metrics_path, strerror(errno));
    free(xb);
    free(perm);
    vae_adam_free(opt);
    vae_model_free(m);
    idx_free(&train);
    idx_free(&test);
    return rc;
}

/* ---- eval --------------------------------------------------------------- */

static int cmd_eval(const struct args *a)
{
    const char *metrics_path = a->val[OPT_METRICS];
    long batch = 0;
    uint64_t seed = 0;
    idx_dataset test = {0};
    vae_model *m = NULL;
    FILE *metrics = NULL;
    double te, tr, tk;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_BATCH, 128, 1, 65536, &batch) ||
        get_seed(a, 0, &seed))
        return -1;
    if (metrics_path && !(metrics = open_metrics(metrics_path)))
        return -1;
    if (load_model(a->val[OPT_MODEL], &m) ||
        load_split(a->val[OPT_DATA], IDX_TEST, &test) ||
        check_fits(m, &test, a->val[OPT_DATA]))
        goto done;
    /* Without --seed the generator continues from the state saved in the
     * model file, which is just as reproducible. */
    if (a->val[OPT_SEED] && (s = vae_model_set_seed(m, seed)) != VAE_OK) {
        fail_lib("vae_model_set_seed", s, vae_model_last_error(m));
        goto done;
    }
    if (evaluate(m, &test, batch, &te, &tr, &tk))
        goto done;
    printf("test_elbo %.4f  recon %.4f  kl %.4f  (%lld test images)\n", te, tr,
           tk, (long long)test.count);
    if (metrics) {
        int k = 0;
        json_num(metrics, &k, "test_elbo", te, 4);
        json_num(metrics, &k, "recon", tr, 4);
        json_num(metrics, &k, "kl", tk, 4);
        if (finish_json_line(metrics, metrics_path))
            goto done;
    }
    rc = 0;

done:
    if (metrics && fclose(metrics) != 0 && rc == 0)
        rc = fail("%s: %s", metrics_path, strerror(errno));
    vae_model_free(m);
    idx_free(&test);
    return rc;
}

/* ---- sample ------------------------------------------------------------- */

static int cmd_sample(const struct args *a)
{
    long n = 0;
    uint64_t seed = 0;
    vae_model *m = NULL;
    float *x = NULL;
    const float **tiles = NULL;
    int64_t dim, side;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_N, 64, 1, MAX_IMAGES, &n) || get_seed(a, 0, &seed))
        return -1;
    if (load_model(a->val[OPT_MODEL], &m))
        goto done;
    if (a->val[OPT_SEED] && (s = vae_model_set_seed(m, seed)) != VAE_OK) {
        fail_lib("vae_model_set_seed", s, vae_model_last_error(m));
        goto done;
    }
    /* The model file knows the data size, not the image shape: samples are
     * drawn as squares, which holds for MNIST and its look-alikes. */
    dim = vae_model_data_size(m);
    side = (int64_t)(sqrt((double)dim) + 0.5);
    if (dim <= 0 || side * side != dim) {
        fail("the model's data size %lld is not a square image",
             (long long)dim);
        goto done;
    }
    x = malloc((size_t)n * (size_t)dim * sizeof *x);
    tiles = malloc((size_t)n * sizeof *tiles);
    if (!x || !tiles) {
        fail("out of memory");
        goto done;
    }
    s = vae_model_sample(m, n, NULL, x);
    if (s != VAE_OK) {
        fail_lib("vae_model_sample", s, vae_model_last_error(m));
        goto done;
    }
    for (long i = 0; i < n; i++)
        tiles[i] = x + i * dim;
    if (write_png(a->val[OPT_OUT], tiles, (size_t)n, side, side, 0))
        goto done;
    printf("wrote %s: %ld samples\n", a->val[OPT_OUT], n);
    rc = 0;

done:
    free(tiles);
    free(x);
    vae_model_free(m);
    return rc;
}

/* ---- reconstruct -------------------------------------------------------- */

static int cmd_reconstruct(const struct args *a)
{
    long n = 0;
    idx_dataset test = {0};
    vae_model *m = NULL;
    float *x = NULL;
    const float **tiles = NULL;
    int64_t dim;
    size_t groups, slots;
    int32_t s;
    int rc = -1;

    if (get_long(a, OPT_N, 32, 1, MAX_IMAGES, &n))
        return -1;
    if (load_model(a->val[OPT_MODEL], &m) ||
        load_split(a->val[OPT_DATA], IDX_TEST, &test) ||
        check_fits(m, &test, a->val[OPT_DATA]))
        goto done;
    if (n > test.count) {
        fail("--n: %ld exceeds the %lld test images", n, (long long)test.count);
        goto done;
    }
    dim = test.rows * test.cols;
    /* Rows of GRID_COLS originals, each directly above a row of their
     * reconstructions; the PNG sets each such pair of rows apart. */
    groups = ((size_t)n + GRID_COLS - 1) / GRID_COLS;
    slots = groups * 2 * GRID_COLS;
    x = malloc((size_t)n * (size_t)dim * sizeof *x);
    tiles = calloc(slots, sizeof *tiles);
    if (!x || !tiles) {
        fail("out of memory");
        goto done;
    }
    s = vae_model_reconstruct(m, test.pixels, n, x);
    if (s != VAE_OK) {
        fail_lib("vae_model_reconstruct", s, vae_model_last_error(m));
        goto done;
    }
    for (long i = 0; i < n; i++) {
        size_t g = (size_t)i / GRID_COLS, c = (size_t)i % GRID_COLS;
        tiles[(2 * g) * GRID_COLS + c] = test.pixels + i * dim;
        tiles[(2 * g + 1) * GRID_COLS + c] = x + i * dim;
    }
    if (write_png(a->val[OPT_OUT], tiles, slots, test.rows, test.cols, 2))
        goto done;
    printf("wrote %s: %ld test images (odd rows) above their reconstructions "
           "(even rows)\n", a->val[OPT_OUT], n);
    rc = 0;

done:
    free(tiles);
    free(x);
    vae_model_free(m);
    idx_free(&test);
    return rc;
}

/* ---- main --------------------------------------------------------------- */

static const struct command commands[] = {
    {"train",
     OPT(OPT_DATA) | OPT(OPT_ARCH) | OPT(OPT_LATENT) | OPT(OPT_EPOCHS) |
         OPT(OPT_BATCH) | OPT(OPT_LR) | OPT(OPT_SEED) | OPT(OPT_OUT) |
         OPT(OPT_METRICS) | OPT(OPT_PROGRESS),
     OPT(OPT_DATA) | OPT(OPT_OUT), cmd_train},
    {"eval",
     OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_METRICS) | OPT(OPT_BATCH) |
         OPT(OPT_SEED),
     OPT(OPT_DATA) | OPT(OPT_MODEL), cmd_eval},
    {"sample", OPT(OPT_MODEL) | OPT(OPT_OUT) | OPT(OPT_N) | OPT(OPT_SEED),
     OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_sample},
    {"reconstruct", OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT) | OPT(OPT_N),
     OPT(OPT_DATA) | OPT(OPT_MODEL) | OPT(OPT_OUT), cmd_reconstruct},
};

static int is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

int main(int argc, char **argv)
{
    const struct command *cmd = NULL;
    struct args a;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vae-image (libvae %s)\n", vae_version_string());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        fail("unknown command '%s' (see vae-image --help)", argv[1]);
        report_error();
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        if (is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
    }
    if (parse_args(cmd, argc - 2, argv + 2, &a) || cmd->run(&a)) {
        report_error();
        return 1;
    }
    return 0;
}
