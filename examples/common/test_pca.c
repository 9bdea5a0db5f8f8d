/* test_pca.c - pca_fit on data whose principal axes are known exactly, on
 * rank-deficient and tied data, and pca_project. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pca.h"

#define DIM 6

/* An orthonormal basis that is not the coordinate one: the rows of the
 * Householder reflection I - 2 w w^T / |w|^2. */
static void basis(double u[DIM][DIM])
{
    const double w[DIM] = {1.0, -2.0, 0.5, 3.0, -1.0, 0.25};
    double ww = 0.0;
    for (int i = 0; i < DIM; i++)
        ww += w[i] * w[i];
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++)
            u[i][j] = (i == j ? 1.0 : 0.0) - 2.0 * w[i] * w[j] / ww;
}

/* Points c +- s_j u_j: their covariance is sum_j s_j^2 / DIM u_j u_j^T,
 * so axis j is u_j with variance s_j^2 / DIM. */
static void spread(float x[2 * DIM][DIM], const double s[DIM],
                   double u[DIM][DIM])
{
    const double c[DIM] = {0.5, -1.0, 2.0, 0.0, 3.0, -0.25};
    for (int j = 0; j < DIM; j++)
        for (int i = 0; i < DIM; i++) {
            x[2 * j][i] = (float)(c[i] + s[j] * u[j][i]);
            x[2 * j + 1][i] = (float)(c[i] - s[j] * u[j][i]);
        }
}

/* The axes of spread(s) in the Householder basis, fitted with k axes; u
 * receives the basis. */
static void fit_spread(const double s[DIM], int64_t k, double u[DIM][DIM],
                       struct pca *p)
{
    float x[2 * DIM][DIM];

    basis(u);
    spread(x, s, u);
    assert_int_equal(pca_fit(&x[0][0], 2 * DIM, DIM, k, p), 0);
}

static double dot(const double *a, const double *b)
{
    double d = 0.0;
    for (int i = 0; i < DIM; i++)
        d += a[i] * b[i];
    return d;
}

static void test_known_axes(void **state)
{
    const double s[DIM] = {3.0, 0.2, 2.0, 1.0, 0.5, 0.1};
    const int by_size[3] = {0, 2, 3};
    double u[DIM][DIM];
    struct pca p;

    (void)state;
    fit_spread(s, 3, u, &p);
    for (int j = 0; j < 3; j++) {
        const double *axis = p.axes + j * DIM;
        double want = s[by_size[j]] * s[by_size[j]] / DIM;
        assert_true(fabs(p.var[j] - want) < 1e-5 * want);
        assert_true(fabs(fabs(dot(axis, u[by_size[j]])) - 1.0) < 1e-6);
        assert_true(fabs(dot(axis, axis) - 1.0) < 1e-12);
    }
    assert_true(fabs(dot(p.axes, p.axes + DIM)) < 1e-12);
    {
        double total = 0.0;
        for (int j = 0; j < DIM; j++)
            total += s[j] * s[j] / DIM;
        assert_true(fabs(p.total_var - total) < 1e-5 * total);
    }
    pca_free(&p);
}

/* The sign rule: an axis's largest component is positive, so the axes
 * (and pictures) do not flip between runs or machines. */
static void test_signs(void **state)
{
    const double s[DIM] = {3.0, 0.2, 2.0, 1.0, 0.5, 0.1};
    double u[DIM][DIM];
    struct pca p;

    (void)state;
    fit_spread(s, 2, u, &p);
    for (int j = 0; j < 2; j++) {
        int big = 0;
        for (int i = 1; i < DIM; i++)
            if (fabs(p.axes[j * DIM + i]) > fabs(p.axes[j * DIM + big]))
                big = i;
        assert_true(p.axes[j * DIM + big] > 0.0);
    }
    pca_free(&p);
}

/* One point, or all points equal: no variance at all, yet k orthonormal
 * axes (the pictures and sliders still need a basis). */
static void test_degenerate(void **state)
{
    float x[3][DIM];
    struct pca p;

    (void)state;
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < DIM; i++)
            x[r][i] = (float)i;
    assert_int_equal(pca_fit(&x[0][0], 3, DIM, DIM, &p), 0);
    assert_true(p.total_var == 0.0);
    for (int a = 0; a < DIM; a++) {
        assert_true(p.var[a] == 0.0);
        for (int b = 0; b < DIM; b++)
            assert_true(fabs(dot(p.axes + a * DIM, p.axes + b * DIM) -
                             (a == b ? 1.0 : 0.0)) < 1e-12);
    }
    pca_free(&p);
    assert_int_equal(pca_fit(&x[0][0], 1, DIM, 2, &p), 0);
    pca_free(&p);
}

/* Equal variances in every direction: any orthonormal set is right. */
static void test_ties(void **state)
{
    const double s[DIM] = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
    double u[DIM][DIM];
    struct pca p;

    (void)state;
    fit_spread(s, 4, u, &p);
    for (int a = 0; a < 4; a++) {
        assert_true(fabs(p.var[a] - 1.0 / DIM) < 1e-6);
        for (int b = 0; b < 4; b++)
            assert_true(fabs(dot(p.axes + a * DIM, p.axes + b * DIM) -
                             (a == b ? 1.0 : 0.0)) < 1e-12);
    }
    pca_free(&p);
}

static void test_project(void **state)
{
    const double s[DIM] = {3.0, 0.2, 2.0, 1.0, 0.5, 0.1};
    double u[DIM][DIM];
    float x[2 * DIM][DIM], out[2 * DIM * 2];
    struct pca p;

    (void)state;
    basis(u);
    spread(x, s, u);
    assert_int_equal(pca_fit(&x[0][0], 2 * DIM, DIM, 2, &p), 0);
    pca_project(&p, &x[0][0], 2 * DIM, out);
    /* Points 0 and 1 are the mean +- 3 u_0: +-3 on the first axis and
     * nothing on the second; the mean maps to the origin. */
    assert_true(fabs(fabs(out[0]) - 3.0) < 1e-5);
    assert_true(fabs(out[0] + out[2]) < 1e-5);
    assert_true(fabs(out[1]) < 1e-5);
    pca_free(&p);
    pca_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_axes), cmocka_unit_test(test_signs),
        cmocka_unit_test(test_degenerate), cmocka_unit_test(test_ties),
        cmocka_unit_test(test_project),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
