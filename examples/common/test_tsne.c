/* test_tsne.c - the perplexity calibration at several scales, a map of
 * well-separated Gaussian blobs that must keep them apart, the seed's
 * determinism, and the refusals. Small enough for valgrind (a few s). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "normal.h"
#include "tsne.h"

#define BLOBS 5
#define PER_BLOB 30
#define N (BLOBS * PER_BLOB)
#define DIM 20
#define NEIGHBOURS 5
#define ITERATIONS 500

/* A uniform in (0, 1) from a 64-bit LCG (Knuth's MMIX constants). */
static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
}

/* BLOBS blobs of PER_BLOB points in DIM dimensions: centres 10 apart
 * along the first axes, N(0, 1) noise, so that every point's nearest
 * neighbours in DIM dimensions are of its own blob. */
static void blobs(float x[N][DIM])
{
    uint64_t s = 7;
    for (int i = 0; i < N; i++)
        for (int a = 0; a < DIM; a++)
            x[i][a] = (float)((a == i / PER_BLOB ? 10.0 / sqrt(2.0) : 0.0) +
                              normal_quantile(uniform(&s)));
}

static void embed(uint64_t seed, float y[N][2])
{
    static float x[N][DIM];
    struct tsne_options o = {0, ITERATIONS, seed};
    blobs(x);
    assert_int_equal(tsne_embed(&x[0][0], N, DIM, &o, &y[0][0]), 0);
}

static void calibration_at_any_scale(void **state)
{
    double d2[100], p[100];
    int best = 0;
    (void)state;
    for (double scale = 1e-6; scale <= 1e6; scale *= 100.0) {
        uint64_t s = 3;
        for (int j = 0; j < 100; j++)
            d2[j] = scale * 10.0 * uniform(&s);
        for (double perp = 1.0; perp <= 90.0; perp *= 3.0) {
            double reached = tsne_row_affinities(d2, 100, perp, p), sum = 0.0;
            assert_true(fabs(reached - perp) <= 1e-4 * perp);
            for (int j = 0; j < 100; j++) {
                assert_true(p[j] >= 0.0);
                sum += p[j];
            }
            assert_true(fabs(sum - 1.0) < 1e-12);
            /* The nearest point gets the most. */
            for (int j = 0; j < 100; j++)
                best = d2[j] < d2[best] ? j : best;
            for (int j = 0; j < 100; j++)
                assert_true(p[best] >= p[j]);
        }
    }
}

/* The share of each point's NEIGHBOURS nearest points in the map that
 * are of its own blob, over all points, and the worst point's count. */
static double neighbours_in_blob(float y[N][2], int *worst)
{
    long same = 0;
    *worst = NEIGHBOURS;
    for (int i = 0; i < N; i++) {
        int near[NEIGHBOURS], count = 0;
        double dist[NEIGHBOURS];
        for (int k = 0; k < NEIGHBOURS; k++)
            dist[k] = INFINITY, near[k] = -1;
        for (int j = 0; j < N; j++) {
            double d;
            int k;
            if (j == i)
                continue;
            d = hypot((double)y[i][0] - y[j][0], (double)y[i][1] - y[j][1]);
            for (k = NEIGHBOURS; k > 0 && d < dist[k - 1]; k--) {
                if (k < NEIGHBOURS)
                    dist[k] = dist[k - 1], near[k] = near[k - 1];
            }
            if (k < NEIGHBOURS)
                dist[k] = d, near[k] = j;
        }
        for (int k = 0; k < NEIGHBOURS; k++)
            count += near[k] / PER_BLOB == i / PER_BLOB;
        same += count;
        *worst = count < *worst ? count : *worst;
    }
    return (double)same / (N * NEIGHBOURS);
}

static void blobs_stay_apart(void **state)
{
    static float y[N][2];
    double centre[BLOBS][2] = {{0}}, radius[BLOBS] = {0}, share;
    int worst;
    (void)state;

    embed(1, y);
    for (int i = 0; i < N; i++) {
        assert_true(isfinite(y[i][0]) && isfinite(y[i][1]));
        centre[i / PER_BLOB][0] += y[i][0] / PER_BLOB;
        centre[i / PER_BLOB][1] += y[i][1] / PER_BLOB;
    }
    share = neighbours_in_blob(y, &worst);
    print_message("neighbours of the same blob: %.3f, worst point %d/%d\n",
                  share, worst, NEIGHBOURS);
    assert_true(share >= 0.95);
    assert_true(worst >= 3);
    /* Apart, not only locally pure: every blob lies further from every
     * other blob's centre than twice its own radius. */
    for (int i = 0; i < N; i++) {
        int b = i / PER_BLOB;
        double r = hypot(y[i][0] - centre[b][0], y[i][1] - centre[b][1]);
        radius[b] = r > radius[b] ? r : radius[b];
    }
    for (int b = 0; b < BLOBS; b++)
        for (int c = b + 1; c < BLOBS; c++)
            assert_true(hypot(centre[b][0] - centre[c][0],
                              centre[b][1] - centre[c][1]) >
                        radius[b] + radius[c]);
}

static void the_seed_decides(void **state)
{
    static float a[N][2], b[N][2], c[N][2];
    (void)state;
    embed(42, a);
    embed(42, b);
    embed(43, c);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
}

static void small_and_bad_inputs(void **state)
{
    const float x[4][2] = {{0, 0}, {1, 0}, {0, 1}, {5, 5}};
    float y[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    struct tsne_options o = {0}, half = {0.5, 0, 0};
    (void)state;

    /* Four points leave room for a perplexity of 1 only. */
    assert_int_equal(tsne_embed(&x[0][0], 4, 2, &o, y), 0);
    for (int i = 0; i < 8; i++)
        assert_true(isfinite(y[i]));
    assert_int_equal(tsne_embed(&x[0][0], 1, 2, &o, y), 0);
    assert_true(y[0] == 0.0f && y[1] == 0.0f);
    assert_int_equal(tsne_embed(&x[0][0], 0, 2, &o, y), -1);
    assert_int_equal(tsne_embed(&x[0][0], TSNE_MAX_POINTS + 1, 2, &o, y), -1);
    assert_int_equal(tsne_embed(&x[0][0], 4, 2, &half, y), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calibration_at_any_scale),
        cmocka_unit_test(blobs_stay_apart),
        cmocka_unit_test(the_seed_decides),
        cmocka_unit_test(small_and_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
