/* latent_plot.c - see latent_plot.h. */
#define _POSIX_C_SOURCE 200809L /* posix_spawnp, mkstemp, fdopen, sigaction */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "latent_plot.h"
#include "models.h"
#include "pca.h"
#include "tsne.h"

extern char **environ;

/* gnuplot's transparency of a point (0 opaque, 255 invisible): where
 * thousands of points overlap, the denser class shows through. */
#define POINT_ALPHA 0x50L

int latent_means_cond(vae_model *m, const float *x, const float *cond,
                      int64_t n, int64_t dim, int64_t batch, float *mu)
{
    const int64_t D = vae_model_latent_dim(m);

    for (int64_t i = 0; i < n; i += batch) {
        int64_t b = n - i < batch ? n - i : batch;
        int32_t s;
        if (model_condition(m, cond, i, b))
            return -1;
        s = vae_model_encode(m, x + i * dim, b, mu + i * D, NULL);
        if (s != VAE_OK)
            return fail_lib("vae_model_encode", s, vae_model_last_error(m));
    }
    return 0;
}

int latent_means(vae_model *m, const float *x, int64_t n, int64_t dim,
                 int64_t batch, float *mu)
{
    return latent_means_cond(m, x, NULL, n, dim, batch, mu);
}

const char *latent_plot_colour(int i)
{
    /* Tableau's ten, then ten darker companions: distinct enough for the
     * ten MNIST classes and for a handful of length bins. */
    static const char *const palette[] = {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
        "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
        "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"};
    const int n = (int)(sizeof palette / sizeof *palette);
    return palette[((i % n) + n) % n];
}

/* A gnuplot single-quoted string: only the quote itself needs escaping,
 * by doubling it. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        if (*s != '\n' && *s != '\r')
            fputc(*s, f);
    }
    fputc('\'', f);
}

/* What the picture's axes are, as its labels say and as the program's last
 * line says. */
struct plane_text {
    char title[512], subtitle[256], xlabel[256], ylabel[256], summary[256];
};

static void write_script(FILE *f, const float *xy, int64_t n,
                         const struct latent_plot *p,
                         const struct plane_text *t)
{
    /* pngcairo draws antialiased points; plain png (libgd) is the fallback
     * for gnuplot builds without cairo, as in scripts/plot-metrics.sh. */
    fputs("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
          "  set terminal pngcairo size 1000,820 font ',11'\n"
          "} else {\n"
          "  set terminal png size 1000,820\n"
          "}\n", f);
    fputs("set output ", f);
    put_quoted(f, p->path);
    fputs("\nset title ", f);
    put_quoted(f, t->title);
    fputs(" . \"\\n\" . ", f);
    put_quoted(f, t->subtitle);
    fputs(" noenhanced\nset xlabel ", f);
    put_quoted(f, t->xlabel);
    fputs(" noenhanced\nset ylabel ", f);
    put_quoted(f, t->ylabel);
    fputs(" noenhanced\nset key outside right top box title ", f);
    put_quoted(f, p->legend);
    fputs(" noenhanced\nset size ratio -1\nset grid\n$points << EOD\n", f);
    for (int64_t i = 0; i < n; i++) {
        long rgb = strtol(latent_plot_colour(p->cls[i]) + 1, NULL, 16);
        fprintf(f, "%.6g %.6g %ld\n", xy[2 * i], xy[2 * i + 1],
                POINT_ALPHA << 24 | rgb);
    }
    fputs("EOD\nplot $points using 1:2:3 with points pt 7 ps 0.45 "
          "lc rgb variable notitle", f);
    /* The scatter has no titles of its own; a NaN plot per class makes
     * its legend entry, with a larger marker than the data's. */
    for (int c = 0; c < p->nclass; c++) {
        fprintf(f, ", \\\n  NaN with points pt 7 ps 1.5 lc rgb '%s' title ",
                latent_plot_colour(c));
        put_quoted(f, p->class_names[c]);
        fputs(" noenhanced", f);
    }
    fputs("\n", f);
}

/* The first line gnuplot wrote to its stderr file, for the error. */
static void first_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (!f)
        return;
    while (fgets(buf, (int)len, f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[strspn(buf, " \t^")] != '\0')
            break;
        buf[0] = '\0';
    }
    fclose(f);
}

/* Runs gnuplot on the script; its stderr goes to a temporary file that
 * supplies the message if it fails. */
static int run_gnuplot(const float *xy, int64_t n, const struct latent_plot *p,
                       const struct plane_text *t)
{
    const char *tmpdir = getenv("TMPDIR");
    char errpath[4096], line[512];
    char *argv[] = {"gnuplot", NULL};
    posix_spawn_file_actions_t fa;
    struct sigaction ign = {0}, old;
    int fds[2], fd, status = 0, rc = -1, e;
    pid_t pid;
    FILE *f;

    snprintf(errpath, sizeof errpath, "%s/vae-gnuplot.XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    fd = mkstemp(errpath);
    if (fd < 0)
        return fail("%s: %s", errpath, strerror(errno));
    close(fd);
    if (pipe(fds) != 0) {
        e = errno;
        remove(errpath);
        return fail("pipe: %s", strerror(e));
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_TRUNC, 0);
    e = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    if (e != 0) {
        close(fds[1]);
        remove(errpath);
        if (e == ENOENT)
            return fail("gnuplot not found; install it with: apt-get install "
                        "gnuplot-nox");
        return fail("gnuplot: %s", strerror(e));
    }
    /* A gnuplot that dies early must not kill this program with SIGPIPE
     * while the script is still being written; its exit status reports. */
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old);
    f = fdopen(fds[1], "w");
    if (f) {
        write_script(f, xy, n, p, t);
        fclose(f);
    } else {
        close(fds[1]);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGPIPE, &old, NULL);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rc = 0;
    } else {
        first_line(errpath, line, sizeof line);
        fail("gnuplot failed%s%s", line[0] ? ": " : "", line);
    }
    remove(errpath);
    return rc;
}

int latent_plot_options(const struct args *a, int o_projection, int o_seed,
                        int o_limit, int64_t dim, int64_t count,
                        struct latent_plot *p, int64_t *limit)
{
    static const char *const names[] = {[LATENT_PCA] = "pca",
                                        [LATENT_TSNE] = "tsne"};
    int projection;
    long n;

    if (count < 1)
        return fail("there are no %s to draw", p->items);
    if (get_choice(a, o_projection, names, 2,
                   dim > 2 ? LATENT_TSNE : LATENT_PCA, &projection) ||
        get_seed(a, o_seed, 1, &p->seed) ||
        get_long(a, o_limit,
                 projection == LATENT_TSNE && count > LATENT_TSNE_LIMIT
                     ? LATENT_TSNE_LIMIT
                     : (long)count,
                 1, (long)count, &n))
        return -1;
    if (projection == LATENT_TSNE && n > TSNE_MAX_POINTS)
        return fail("--limit: t-SNE maps at most %d %s (its time grows as "
                    "the square of their number); --projection pca takes "
                    "all %lld", TSNE_MAX_POINTS, p->items, (long long)count);
    p->projection = (enum latent_projection)projection;
    *limit = n;
    return 0;
}

/* The plane of the picture by PCA (at dim 2, the latent's own axes,
 * centred: a rotation would only hide them), with its labels. */
static int project_pca(const float *mu, int64_t n, int64_t dim, float *xy,
                       struct plane_text *t)
{
    struct pca pca = {0};
    double s[2];

    if (pca_fit(mu, n, dim, 2, &pca))
        return -1;
    if (dim == 2) {
        for (int64_t i = 0; i < 2 * n; i++)
            xy[i] = (float)(mu[i] - pca.mean[i % 2]);
        for (int j = 0; j < 2; j++) {
            double v = 0.0;
            for (int64_t i = 0; i < n; i++)
                v += (xy[2 * i + j]) * (double)xy[2 * i + j];
            s[j] = pca.total_var > 0.0 ? v / (double)n / pca.total_var : 0.0;
        }
        snprintf(t->xlabel, sizeof t->xlabel, "z1 (%.1f%% of the variance)",
                 100.0 * s[0]);
        snprintf(t->ylabel, sizeof t->ylabel, "z2 (%.1f%% of the variance)",
                 100.0 * s[1]);
        snprintf(t->subtitle, sizeof t->subtitle,
                 "posterior means of %lld items, 2-D latent, centred",
                 (long long)n);
    } else {
        pca_project(&pca, mu, n, xy);
        for (int j = 0; j < 2; j++)
            s[j] = pca.total_var > 0.0 ? pca.var[j] / pca.total_var : 0.0;
        snprintf(t->xlabel, sizeof t->xlabel,
                 "principal axis 1 (%.1f%% of the variance)", 100.0 * s[0]);
        snprintf(t->ylabel, sizeof t->ylabel,
                 "principal axis 2 (%.1f%% of the variance)", 100.0 * s[1]);
        snprintf(t->subtitle, sizeof t->subtitle,
                 "posterior means of %lld items, %lld-D latent projected by "
                 "PCA", (long long)n, (long long)dim);
    }
    snprintf(t->summary, sizeof t->summary,
             "the axes explain %.1f%% and %.1f%% of the variance of their "
             "posterior means", 100.0 * s[0], 100.0 * s[1]);
    pca_free(&pca);
    return 0;
}

/* The plane of the picture by t-SNE, with its labels. */
static int project_tsne(const float *mu, int64_t n, int64_t dim,
                        uint64_t seed, float *xy, struct plane_text *t)
{
    const struct tsne_options o = {0.0, 0, seed};
    const double perplexity = tsne_perplexity(0.0, n);
    double start = now_seconds();

    if (tsne_embed(mu, n, dim, &o, xy))
        return -1;
    /* t-SNE keeps neighbours together; the sizes of its clusters and the
     * gaps between them are not distances of the latent space. */
    snprintf(t->xlabel, sizeof t->xlabel,
             "t-SNE 1 (clusters' sizes and gaps are not to scale)");
    snprintf(t->ylabel, sizeof t->ylabel, "t-SNE 2");
    snprintf(t->subtitle, sizeof t->subtitle,
             "posterior means of %lld items, %lld-D latent mapped by t-SNE "
             "(perplexity %.3g, seed %llu)", (long long)n, (long long)dim,
             perplexity, (unsigned long long)seed);
    snprintf(t->summary, sizeof t->summary,
             "t-SNE of their posterior means (perplexity %.3g, seed %llu) "
             "took %.1f s", perplexity, (unsigned long long)seed,
             now_seconds() - start);
    return 0;
}

int latent_plot_png(const float *mu, int64_t n, int64_t dim,
                    const struct latent_plot *p)
{
    float *xy = NULL;
    struct plane_text t;
    char *model = NULL, *data = NULL;
    FILE *probe;
    int existed, rc = -1;

    if (dim < 2)
        return fail("plot-latent needs a latent space of 2 or more dimensions; "
                    "this model has %lld", (long long)dim);
    model = base_name(p->model);
    data = base_name(p->data);
    xy = malloc((size_t)(2 * n) * sizeof *xy);
    if (!xy || !model || !data) {
        fail("out of memory");
        goto done;
    }
    snprintf(t.title, sizeof t.title, "%s plot-latent: %s, %s of %s",
             p->program, model, p->items, data);
    if (p->projection == LATENT_TSNE
            ? project_tsne(mu, n, dim, p->seed, xy, &t)
            : project_pca(mu, n, dim, xy, &t))
        goto done;
    /* gnuplot creates the file when it starts; only one this call
     * created is removed when drawing fails. */
    probe = fopen(p->path, "rb");
    existed = probe != NULL;
    if (probe)
        fclose(probe);
    if (run_gnuplot(xy, n, p, &t)) {
        if (!existed)
            remove(p->path);
        goto done;
    }
    printf("wrote %s: %lld %s; %s\n", p->path, (long long)n, p->items,
           t.summary);
    rc = 0;
done:
    free(data);
    free(model);
    free(xy);
    return rc;
}
