/* pca.c - see pca.h. Subspace iteration on the covariance matrix, then a
 * Rayleigh-Ritz step (Jacobi rotations on the small projected matrix).
 * Latent spaces are small (tens of dimensions), so forming the covariance
 * costs less than a pass of iterations over the data would, and the
 * iteration needs no LAPACK beside the library's BLAS. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pca.h"

/* Extra vectors iterated beyond the k asked for: the k-th axis converges
 * at the rate var[m] / var[k-1] of the first vector left out, so a few more
 * make near-equal variances converge in far fewer iterations. */
#define EXTRA_VECTORS 4
#define MAX_ITERATIONS 2000
#define TOLERANCE 1e-13
#define JACOBI_SWEEPS 100

void pca_free(struct pca *p)
{
    if (!p)
        return;
    free(p->mean);
    free(p->axes);
    free(p->var);
    memset(p, 0, sizeof *p);
}

static double dot(const double *a, const double *b, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Removes from v its components along the first `count` rows of basis. */
static void project_out(double *v, const double *basis, int64_t count,
                        int64_t dim)
{
    for (int64_t j = 0; j < count; j++) {
        double c = dot(v, basis + j * dim, dim);
        for (int64_t i = 0; i < dim; i++)
            v[i] -= c * basis[j * dim + i];
    }
}

/* Gram-Schmidt (twice, for orthogonality to working precision) on the m
 * rows of v. A row that is (numerically) in the span of the rows before it
 * - rank-deficient data - becomes the unit vector e_i that stands furthest
 * from that span, so the rows always form an orthonormal set. */
static void orthonormalize(double *v, int64_t m, int64_t dim, double *tmp)
{
    for (int64_t r = 0; r < m; r++) {
        double *row = v + r * dim;
        double before = sqrt(dot(row, row, dim)), after;

        project_out(row, v, r, dim);
        project_out(row, v, r, dim);
        after = sqrt(dot(row, row, dim));
        if (!(after > 1e-10 * before) || after == 0.0) {
            double best = -1.0;
            for (int64_t i = 0; i < dim; i++) {
                memset(tmp, 0, (size_t)dim * sizeof *tmp);
                tmp[i] = 1.0;
                project_out(tmp, v, r, dim);
                project_out(tmp, v, r, dim);
                if (dot(tmp, tmp, dim) > best) {
                    best = dot(tmp, tmp, dim);
                    memcpy(row, tmp, (size_t)dim * sizeof *row);
                }
            }
            after = sqrt(best);
        }
        for (int64_t i = 0; i < dim; i++)
            row[i] /= after;
    }
}

/* Eigen-decomposition of the symmetric m x m matrix a (destroyed; its
 * diagonal ends as the eigenvalues) by cyclic Jacobi rotations; q receives
 * the eigenvectors as columns. */
static void jacobi(double *a, double *q, int64_t m)
{
    for (int64_t i = 0; i < m * m; i++)
        q[i] = i % (m + 1) == 0 ? 1.0 : 0.0;
    for (int sweep = 0; sweep < JACOBI_SWEEPS; sweep++) {
        double off = 0.0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = i + 1; j < m; j++)
                off += a[i * m + j] * a[i * m + j];
        if (off == 0.0)
            return;
        for (int64_t p = 0; p < m; p++) {
            for (int64_t r = p + 1; r < m; r++) {
                double apr = a[p * m + r], theta, t, c, s;
                if (apr == 0.0)
                    continue;
                theta = (a[r * m + r] - a[p * m + p]) / (2.0 * apr);
                t = (theta >= 0.0 ? 1.0 : -1.0) /
                    (fabs(theta) + sqrt(theta * theta + 1.0));
                c = 1.0 / sqrt(t * t + 1.0);
                s = t * c;
                for (int64_t k = 0; k < m; k++) {
                    double akp = a[k * m + p], akr = a[k * m + r];
                    a[k * m + p] = c * akp - s * akr;
                    a[k * m + r] = s * akp + c * akr;
                }
                for (int64_t k = 0; k < m; k++) {
                    double apk = a[p * m + k], ark = a[r * m + k];
                    a[p * m + k] = c * apk - s * ark;
                    a[r * m + k] = s * apk + c * ark;
                }
                for (int64_t k = 0; k < m; k++) {
                    double qkp = q[k * m + p], qkr = q[k * m + r];
                    q[k * m + p] = c * qkp - s * qkr;
                    q[k * m + r] = s * qkp + c * qkr;
                }
            }
        }
    }
}

/* w = C v for the symmetric dim x dim matrix c. */
static void covariance_times(const double *c, const double *v, double *w,
                             int64_t dim)
{
    for (int64_t i = 0; i < dim; i++)
        w[i] = dot(c + i * dim, v, dim);
}

/* The m iterated vectors v rotated onto the eigenvectors of C restricted
 * to their span, by decreasing eigenvalue, into p->axes and p->var (the
 * first p->k of them). */
static void rayleigh_ritz(const double *c, const double *v, int64_t m,
                          struct pca *p, double *h, double *q, double *w,
                          int64_t *order)
{
    const int64_t dim = p->dim;

    for (int64_t j = 0; j < m; j++)
        covariance_times(c, v + j * dim, w + j * dim, dim);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < m; j++)
            h[i * m + j] = 0.5 * (dot(v + i * dim, w + j * dim, dim) +
                                  dot(v + j * dim, w + i * dim, dim));
    jacobi(h, q, m);
    for (int64_t i = 0; i < m; i++)
        order[i] = i;
    /* m is small: insertion sort by decreasing eigenvalue, stable. */
    for (int64_t i = 1; i < m; i++)
        for (int64_t j = i; j > 0 && h[order[j] * m + order[j]] >
                                         h[order[j - 1] * m + order[j - 1]];
             j--) {
            int64_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int64_t a = 0; a < p->k; a++) {
        int64_t e = order[a], big = 0;
        double *axis = p->axes + a * dim;
        for (int64_t i = 0; i < dim; i++) {
            axis[i] = 0.0;
            for (int64_t j = 0; j < m; j++)
                axis[i] += q[j * m + e] * v[j * dim + i];
        }
        for (int64_t i = 1; i < dim; i++)
            if (fabs(axis[i]) > fabs(axis[big]))
                big = i;
        if (axis[big] < 0.0)
            for (int64_t i = 0; i < dim; i++)
                axis[i] = -axis[i];
        p->var[a] = h[e * m + e] > 0.0 ? h[e * m + e] : 0.0;
    }
}

int pca_fit(const float *x, int64_t n, int64_t dim, int64_t k,
            struct pca *out)
{
    const int64_t m = k + EXTRA_VECTORS < dim ? k + EXTRA_VECTORS : dim;
    double *c, *v, *w, *h, *q, *tmp;
    int64_t *order;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (n < 1 || dim < 1 || k < 1 || k > dim)
        return fail("pca_fit: invalid sizes");
    out->dim = dim;
    out->k = k;
    out->mean = calloc((size_t)dim, sizeof *out->mean);
    out->axes = calloc((size_t)(k * dim), sizeof *out->axes);
    out->var = calloc((size_t)k, sizeof *out->var);
    c = calloc((size_t)(dim * dim), sizeof *c);
    v = malloc((size_t)(m * dim) * sizeof *v);
    w = malloc((size_t)(m * dim) * sizeof *w);
    h = malloc((size_t)(m * m) * sizeof *h);
    q = malloc((size_t)(m * m) * sizeof *q);
    tmp = malloc((size_t)dim * sizeof *tmp);
    order = malloc((size_t)m * sizeof *order);
    if (!out->mean || !out->axes || !out->var || !c || !v || !w || !h || !q ||
        !tmp || !order) {
        fail("out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t a = 0; a < dim; a++)
            out->mean[a] += x[i * dim + a];
    for (int64_t a = 0; a < dim; a++)
        out->mean[a] /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        const float *row = x + i * dim;
        for (int64_t a = 0; a < dim; a++) {
            double da = row[a] - out->mean[a];
            for (int64_t b = a; b < dim; b++)
                c[a * dim + b] += da * (row[b] - out->mean[b]);
        }
    }
    for (int64_t a = 0; a < dim; a++) {
        for (int64_t b = a; b < dim; b++) {
            c[a * dim + b] /= (double)n;
            c[b * dim + a] = c[a * dim + b];
        }
        out->total_var += c[a * dim + a];
    }
    /* A fixed start that no axis is orthogonal to in practice: row j
     * leans on coordinate j and a little on every other. */
    for (int64_t j = 0; j < m; j++)
        for (int64_t i = 0; i < dim; i++)
            v[j * dim + i] = (i == j ? 1.0 : 0.0) +
                             0.01 * cos((double)(j * dim + i) + 1.0);
    orthonormalize(v, m, dim, tmp);
    for (int it = 0; it < MAX_ITERATIONS; it++) {
        double change = 0.0;
        for (int64_t j = 0; j < m; j++)
            covariance_times(c, v + j * dim, w + j * dim, dim);
        orthonormalize(w, m, dim, tmp);
        for (int64_t j = 0; j < k; j++) {
            double d = 1.0 - fabs(dot(v + j * dim, w + j * dim, dim));
            change = d > change ? d : change;
        }
        memcpy(v, w, (size_t)(m * dim) * sizeof *v);
        if (change < TOLERANCE)
            break;
    }
    rayleigh_ritz(c, v, m, out, h, q, w, order);
    rc = 0;
done:
    free(order);
    free(tmp);
    free(q);
    free(h);
    free(w);
    free(v);
    free(c);
    if (rc != 0)
        pca_free(out);
    return rc;
}

void pca_project(const struct pca *p, const float *x, int64_t n, float *out)
{
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < p->k; j++) {
            double s = 0.0;
            for (int64_t a = 0; a < p->dim; a++)
                s += (x[i * p->dim + a] - p->mean[a]) * p->axes[j * p->dim + a];
            out[i * p->k + j] = (float)s;
        }
    }
}
