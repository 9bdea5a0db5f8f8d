/* tsne.c - see tsne.h. The optimisation follows the reference
 * implementation's choices, which the published maps were made with:
 * affinities P exaggerated 12-fold early on so that clusters form before
 * they are placed, momentum 0.5 then 0.8, per-coordinate gains (grown when
 * the gradient changes sign, shrunk when it keeps it), a random start with
 * a standard deviation of 1e-4, and the map re-centred every iteration. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "normal.h"
#include "order.h"
#include "tsne.h"

#define EXAGGERATION 12.0
#define EARLY_ITERATIONS 250
#define MOMENTUM_EARLY 0.5
#define MOMENTUM_LATE 0.8
#define MIN_GAIN 0.01
#define START_SD 1e-4
/* The learning rate n / EXAGGERATION, as openTSNE sets it (Belkina et
 * al., 2019), but not below MIN_LEARNING_RATE. The reference's fixed 200
 * is too large for a few hundred points (some are thrown out of their
 * cluster early and stay stranded) and too small for many thousands (the
 * early phase ends before their clusters have separated). */
#define MIN_LEARNING_RATE 50.0
#define BISECTION_STEPS 200
#define ENTROPY_TOLERANCE 1e-5
/* Affinities below this are treated as this: log(P / Q) stays finite and
 * no pair is left without any pull. */
#define MIN_AFFINITY 1e-12

double tsne_row_affinities(const double *d2, int64_t m, double perplexity,
                           double *p)
{
    const double target = log(perplexity);
    double beta = 1.0, lo = 0.0, hi = INFINITY, nearest = INFINITY, h = 0.0;
    int64_t i;

    /* The distances are shifted by the nearest one, which changes no p_j
     * but keeps the largest exp() at 1, whatever the data's scale. */
    for (i = 0; i < m; i++)
        nearest = d2[i] < nearest ? d2[i] : nearest;
    for (int step = 0; step < BISECTION_STEPS; step++) {
        double sum = 0.0, mean_d = 0.0;
        for (i = 0; i < m; i++) {
            p[i] = exp(-beta * (d2[i] - nearest));
            sum += p[i];
            mean_d += p[i] * (d2[i] - nearest);
        }
        /* H = log(sum) + beta E[d]: the entropy of p / sum in nats. */
        h = log(sum) + beta * mean_d / sum;
        for (i = 0; i < m; i++)
            p[i] /= sum;
        if (fabs(h - target) < ENTROPY_TOLERANCE)
            break;
        /* Entropy falls as beta grows. Doubling first finds a bracket
         * for any scale of the distances. */
        if (h > target) {
            lo = beta;
            beta = isinf(hi) ? beta * 2.0 : 0.5 * (beta + hi);
        } else {
            hi = beta;
            beta = 0.5 * (beta + lo);
        }
    }
    return exp(h);
}

/* The index of pair (i, j), i < j, in a packed upper triangle: the pairs
 * (i, j > i) row after row. */
static int64_t pair_index(int64_t i, int64_t j, int64_t n)
{
    return i * n - i * (i + 1) / 2 + (j - i - 1);
}

/* The symmetric affinities (p_j|i + p_i|j) / 2n of the n points, packed:
 * the full matrix would need twice the memory for the same numbers. */
static int affinities(const float *x, int64_t n, int64_t dim,
                      double perplexity, float *packed)
{
    double *d2 = malloc((size_t)n * sizeof *d2);
    double *row = malloc((size_t)n * sizeof *row);

    if (!d2 || !row) {
        free(d2);
        free(row);
        return fail("out of memory");
    }
    memset(packed, 0, (size_t)(n * (n - 1) / 2) * sizeof *packed);
    for (int64_t i = 0; i < n; i++) {
        int64_t m = 0;
        for (int64_t j = 0; j < n; j++) {
            double s = 0.0;
            if (j == i)
                continue;
            for (int64_t a = 0; a < dim; a++) {
                double d = (double)x[i * dim + a] - x[j * dim + a];
                s += d * d;
            }
            d2[m++] = s;
        }
        tsne_row_affinities(d2, m, perplexity, row);
        m = 0;
        for (int64_t j = 0; j < n; j++)
            if (j != i)
                packed[j > i ? pair_index(i, j, n) : pair_index(j, i, n)] +=
                    (float)row[m++];
    }
    for (int64_t k = 0; k < n * (n - 1) / 2; k++) {
        double v = packed[k] / (2.0 * (double)n);
        packed[k] = (float)(v > MIN_AFFINITY ? v : MIN_AFFINITY);
    }
    free(row);
    free(d2);
    return 0;
}

/* A standard normal draw, the quantile of a uniform in (0, 1), from the
 * programs' own generator: the start depends on the seed alone. */
static double next_normal(uint64_t *state)
{
    return normal_quantile(((double)(splitmix64(state) >> 11) + 0.5) /
                           9007199254740992.0);
}

/*
 * The gradient of KL(P || Q) at y, times 1/4, into grad:
 *   sum_j (exag p_ij - q_ij) w_ij (y_i - y_j),  w_ij = 1 / (1 + |y_i - y_j|^2),
 * with q_ij = w_ij / Z and Z = sum over pairs of w. Z is known only after
 * every pair has been seen, so one pass gathers the attraction
 * sum p_ij w_ij (y_i - y_j) in attract and the repulsion
 * sum w_ij^2 (y_i - y_j) in repel, each pair visited once for both of its
 * points, and the two are combined after it.
 */
static void gradient(const double *y, const float *packed, int64_t n,
                     double exag, double *attract, double *repel,
                     double *grad)
{
    double z = 0.0;

    memset(attract, 0, (size_t)(2 * n) * sizeof *attract);
    memset(repel, 0, (size_t)(2 * n) * sizeof *repel);
    for (int64_t i = 0, k = 0; i < n; i++) {
        const double yi0 = y[2 * i], yi1 = y[2 * i + 1];
        double a0 = 0.0, a1 = 0.0, r0 = 0.0, r1 = 0.0, zi = 0.0;
        for (int64_t j = i + 1; j < n; j++, k++) {
            double d0 = yi0 - y[2 * j], d1 = yi1 - y[2 * j + 1];
            double w = 1.0 / (1.0 + d0 * d0 + d1 * d1);
            double pw = packed[k] * w, ww = w * w;
            zi += w;
            a0 += pw * d0;
            a1 += pw * d1;
            r0 += ww * d0;
            r1 += ww * d1;
            attract[2 * j] -= pw * d0;
            attract[2 * j + 1] -= pw * d1;
            repel[2 * j] -= ww * d0;
            repel[2 * j + 1] -= ww * d1;
        }
        attract[2 * i] += a0;
        attract[2 * i + 1] += a1;
        repel[2 * i] += r0;
        repel[2 * i + 1] += r1;
        z += 2.0 * zi;
    }
    for (int64_t i = 0; i < 2 * n; i++)
        grad[i] = exag * attract[i] - repel[i] / z;
}

double tsne_perplexity(double asked, int64_t n)
{
    const double most = (double)(n - 1) / 3.0;
    if (asked <= 0.0)
        asked = TSNE_PERPLEXITY;
    /* A perplexity is an effective number of neighbours: it must stay
     * well below the n - 1 there are, or every point is every point's
     * neighbour and the map has no structure left to show. */
    if (asked > most)
        asked = most;
    return asked > 1.0 ? asked : 1.0;
}

int tsne_embed(const float *x, int64_t n, int64_t dim,
               const struct tsne_options *o, float *y_out)
{
    const double asked = o->perplexity > 0.0 ? o->perplexity : TSNE_PERPLEXITY;
    const int iterations = o->iterations > 0 ? o->iterations : TSNE_ITERATIONS;
    const int early = iterations / 4 < EARLY_ITERATIONS ? iterations / 4
                                                        : EARLY_ITERATIONS;
    const double rate = (double)n / EXAGGERATION > MIN_LEARNING_RATE
                            ? (double)n / EXAGGERATION
                            : MIN_LEARNING_RATE;
    uint64_t state = o->seed;
    float *packed;
    double *y, *update, *gains, *grad, *attract, *repel;
    int rc = -1;

    if (n < 1 || n > TSNE_MAX_POINTS || dim < 1)
        return fail("t-SNE: %lld points of %lld dimensions (1 to %d points)",
                    (long long)n, (long long)dim, TSNE_MAX_POINTS);
    if (!(asked >= 1.0) || !isfinite(asked))
        return fail("t-SNE: perplexity %g (expected 1 or more)", asked);
    if (n == 1) {
        y_out[0] = y_out[1] = 0.0f;
        return 0;
    }
    packed = malloc((size_t)(n * (n - 1) / 2) * sizeof *packed);
    y = malloc((size_t)(2 * n) * sizeof *y);
    update = calloc((size_t)(2 * n), sizeof *update);
    gains = malloc((size_t)(2 * n) * sizeof *gains);
    grad = malloc((size_t)(2 * n) * sizeof *grad);
    attract = malloc((size_t)(2 * n) * sizeof *attract);
    repel = malloc((size_t)(2 * n) * sizeof *repel);
    if (!packed || !y || !update || !gains || !grad || !attract || !repel) {
        fail("out of memory");
        goto done;
    }
    if (affinities(x, n, dim, tsne_perplexity(asked, n), packed))
        goto done;
    for (int64_t i = 0; i < 2 * n; i++) {
        y[i] = START_SD * next_normal(&state);
        gains[i] = 1.0;
    }
    for (int it = 0; it < iterations; it++) {
        const double momentum = it < early ? MOMENTUM_EARLY : MOMENTUM_LATE;
        double mean[2] = {0.0, 0.0};

        gradient(y, packed, n, it < early ? EXAGGERATION : 1.0, attract,
                 repel, grad);
        for (int64_t i = 0; i < 2 * n; i++) {
            /* The true gradient is 4 * grad; the factor is folded into
             * the step. */
            double g = 4.0 * grad[i];
            gains[i] = (g > 0.0) != (update[i] > 0.0) ? gains[i] + 0.2
                                                      : gains[i] * 0.8;
            if (gains[i] < MIN_GAIN)
                gains[i] = MIN_GAIN;
            update[i] = momentum * update[i] - rate * gains[i] * g;
            y[i] += update[i];
            mean[i % 2] += y[i];
        }
        for (int64_t i = 0; i < 2 * n; i++)
            y[i] -= mean[i % 2] / (double)n;
    }
    for (int64_t i = 0; i < 2 * n; i++)
        y_out[i] = (float)y[i];
    rc = 0;
done:
    free(repel);
    free(attract);
    free(grad);
    free(gains);
    free(update);
    free(y);
    free(packed);
    return rc;
}
