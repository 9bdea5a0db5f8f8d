/* testutil.h - shared helpers for the cmocka tests: a test-side random
 * generator (independent of the library's, so test data never depends on the
 * code under test), tolerant comparisons, and small graph/model builders. */
#ifndef VAE_TESTUTIL_H
#define VAE_TESTUTIL_H

/* cmocka needs these before its own header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "graph.h" /* VAE_OP_* codes used by tu_layer */
#include "vae.h"

/* splitmix64: tiny and fully specified. */
typedef struct tu_rng {
    uint64_t s;
} tu_rng;

void tu_seed(tu_rng *r, uint64_t seed);
/* Uniform in [lo, hi). */
double tu_uniform(tu_rng *r, double lo, double hi);
/* Standard normal. */
double tu_normal(tu_rng *r);
void tu_fill_uniform(tu_rng *r, float *p, int64_t n, double lo, double hi);

/* |a - b| <= tol * max(1, |a|, |b|): relative for large values, absolute
 * near zero, where a relative test would demand impossible digits. */
int tu_close(double a, double b, double tol);

#define TU_ASSERT_CLOSE(a, b, tol, what)                                   \
    do {                                                                   \
        double tu_a_ = (a), tu_b_ = (b);                                   \
        if (!tu_close(tu_a_, tu_b_, (tol)))                                \
            fail_msg("%s: %.10g vs %.10g (diff %.3g, tol %.3g)", (what),   \
                     tu_a_, tu_b_, tu_a_ - tu_b_, (double)(tol));          \
    } while (0)

/* malloc that fails the test instead of returning NULL; n may be 0. */
void *tu_alloc(size_t n);
/* Array of n floats copied from src. */
float *tu_dup(const float *src, int64_t n);

/* One layer of a test network; op is an internal VAE_OP_* code. */
typedef struct tu_layer {
    int32_t op;
    int64_t units; /* dense only */
    float slope;   /* leaky relu only */
} tu_layer;

#define TU_DENSE(u) {VAE_OP_DENSE, (u), 0.0f}
#define TU_ACT(op) {(op), 0, 0.0f}
#define TU_LEAKY(s) {VAE_OP_LEAKY_RELU, 0, (s)}
#define TU_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Adds one layer through the public builder; returns its node id or status. */
int32_t tu_add_layer(vae_graph *g, int32_t x, const tu_layer *l);
/* Graph: input [in] -> layers in order; the last layer is the output.
 * Fails the test if any builder call fails. */
vae_graph *tu_graph(int64_t in, const tu_layer *layers, int n);
/* Model from two such graphs; fails the test on error. */
vae_model *tu_model(int64_t data, const tu_layer *enc, int n_enc,
                    int64_t latent, const tu_layer *dec, int n_dec,
                    int32_t likelihood, uint64_t seed);

#endif
