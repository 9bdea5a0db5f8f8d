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
#include "pca.h"

extern char **environ;

/* gnuplot's transparency of a point (0 opaque, 255 invisible): where
 * thousands of points overlap, the denser class shows through. */
#define POINT_ALPHA 0x50L

int latent_means(vae_model *m, const float *x, int64_t n, int64_t dim,
                 int64_t batch, float *mu)
{
    const int64_t D = vae_model_latent_dim(m);

    for (int64_t i = 0; i < n; i += batch) {
        int64_t b = n - i < batch ? n - i : batch;
        int32_t s = vae_model_encode(m, x + i * dim, b, mu + i * D, NULL);
        if (s != VAE_OK)
            return fail_lib("vae_model_encode", s, vae_model_last_error(m));
    }
    return 0;
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

static void write_script(FILE *f, const float *xy, int64_t n,
                         const struct latent_plot *p, const char *xlabel,
                         const char *ylabel, const char *subtitle)
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
    put_quoted(f, p->title);
    fputs(" . \"\\n\" . ", f);
    put_quoted(f, subtitle);
    fputs(" noenhanced\nset xlabel ", f);
    put_quoted(f, xlabel);
    fputs(" noenhanced\nset ylabel ", f);
    put_quoted(f, ylabel);
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
                       const char *xlabel, const char *ylabel,
                       const char *subtitle)
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
        write_script(f, xy, n, p, xlabel, ylabel, subtitle);
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

int latent_plot_png(const float *mu, int64_t n, int64_t dim,
                    const struct latent_plot *p, double share[2])
{
    struct pca pca = {0};
    float *xy = NULL;
    char xlabel[128], ylabel[128], subtitle[256];
    double s[2];
    FILE *probe;
    int existed, rc = -1;

    if (dim < 2)
        return fail("plot-latent needs a latent space of 2 or more dimensions; "
                    "this model has %lld", (long long)dim);
    xy = malloc((size_t)(2 * n) * sizeof *xy);
    if (!xy)
        return fail("out of memory");
    if (pca_fit(mu, n, dim, 2, &pca))
        goto done;
    if (dim == 2) {
        /* The latent's own axes: a rotation would only hide them. */
        for (int64_t i = 0; i < 2 * n; i++)
            xy[i] = (float)(mu[i] - pca.mean[i % 2]);
        for (int j = 0; j < 2; j++) {
            double v = 0.0;
            for (int64_t i = 0; i < n; i++)
                v += (xy[2 * i + j]) * (double)xy[2 * i + j];
            s[j] = pca.total_var > 0.0 ? v / (double)n / pca.total_var : 0.0;
        }
        snprintf(xlabel, sizeof xlabel, "z1 (%.1f%% of the variance)",
                 100.0 * s[0]);
        snprintf(ylabel, sizeof ylabel, "z2 (%.1f%% of the variance)",
                 100.0 * s[1]);
        snprintf(subtitle, sizeof subtitle,
                 "posterior means of %lld items, 2-D latent, centred",
                 (long long)n);
    } else {
        pca_project(&pca, mu, n, xy);
        for (int j = 0; j < 2; j++)
            s[j] = pca.total_var > 0.0 ? pca.var[j] / pca.total_var : 0.0;
        snprintf(xlabel, sizeof xlabel,
                 "principal axis 1 (%.1f%% of the variance)", 100.0 * s[0]);
        snprintf(ylabel, sizeof ylabel,
                 "principal axis 2 (%.1f%% of the variance)", 100.0 * s[1]);
        snprintf(subtitle, sizeof subtitle,
                 "posterior means of %lld items, %lld-D latent projected by "
                 "PCA", (long long)n, (long long)dim);
    }
    /* gnuplot creates the file when it starts; only one this call
     * created is removed when drawing fails. */
    probe = fopen(p->path, "rb");
    existed = probe != NULL;
    if (probe)
        fclose(probe);
    if (run_gnuplot(xy, n, p, xlabel, ylabel, subtitle)) {
        if (!existed)
            remove(p->path);
        goto done;
    }
    if (share) {
        share[0] = s[0];
        share[1] = s[1];
    }
    rc = 0;
done:
    pca_free(&pca);
    free(xy);
    return rc;
}
