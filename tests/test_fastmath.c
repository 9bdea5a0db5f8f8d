/* src/fastmath.h against double-precision libm: dense grids over the ranges
 * the library uses, random bit patterns (which reach the tiny magnitudes a
 * grid skips), and the edge cases (signed zeros, infinities, huge values,
 * subnormals, NaN). Then the activation ops and the Bernoulli likelihood,
 * which are built on it, through their own entry points: within the same
 * bounds, and equal to this file's own (baseline, unvectorised) results
 * bit for bit, whichever clone of src/simd.h the CPU runs.
 *
 * Errors are relative to the double result and quoted in units of
 * FLT_EPSILON (2^-23; a correctly rounded float is within 0.5). The
 * polynomials' own errors are 0.03 (exp) and 0.28 (log1p) units, the rest
 * is float rounding. Each bound sits about 1.4-1.6x above the largest error
 * these sweeps measured when the header was written; print_message reports
 * the measured values, so a drift toward a bound shows. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastmath.h"
#include "likelihood.h"
#include "testutil.h"

#define EPS ((double)FLT_EPSILON)
#define GRID 1000001

/* The accuracy fastmath.h documents. */
#define EXP_REL (1.0 * EPS)
#define EXPM1_REL (1.5 * EPS)
#define LOG1P_ABS 1.5e-7
#define LOG1P_REL (2.0 * EPS)
#define TANH_REL (2.0 * EPS)
#define SIGMOID_REL (2.5 * EPS)
#define SOFTPLUS_REL (2.5 * EPS)

typedef float (*f32_fn)(float);
typedef double (*f64_fn)(double);

typedef struct err_stat {
    double rel, abs; /* largest relative and absolute error */
    float rel_at, abs_at;
} err_stat;

static void err_add(err_stat *s, float x, double y, double ref)
{
    double a = fabs(y - ref);
    double r = ref != 0.0 ? a / fabs(ref) : (y == 0.0 ? 0.0 : INFINITY);
    if (!(r <= s->rel)) {
        s->rel = r;
        s->rel_at = x;
    }
    if (!(a <= s->abs)) {
        s->abs = a;
        s->abs_at = x;
    }
}

/* f against ref at n points spread evenly over [lo, hi] (as floats). */
static err_stat sweep(f32_fn f, f64_fn ref, double lo, double hi, int n)
{
    err_stat s = {0.0, 0.0, 0.0f, 0.0f};
    for (int i = 0; i < n; i++) {
        float x = (float)(lo + (hi - lo) * i / (n - 1));
        err_add(&s, x, f(x), ref((double)x));
    }
    return s;
}

/* f against ref at n floats with uniformly random bit patterns, keeping
 * those in [lo, hi]: mostly tiny magnitudes and wide exponent spread. */
static err_stat sweep_bits(f32_fn f, f64_fn ref, float lo, float hi, int n,
                           uint64_t seed)
{
    err_stat s = {0.0, 0.0, 0.0f, 0.0f};
    tu_rng r;
    tu_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)tu_uniform(&r, 0.0, 4294967296.0);
        float x;
        memcpy(&x, &bits, sizeof x);
        if (x >= lo && x <= hi)
            err_add(&s, x, f(x), ref((double)x));
    }
    return s;
}

static void check_rel(const char *what, err_stat s, double bound)
{
    print_message("%-34s max rel error %.3f eps at %.9g (bound %.2f)\n", what,
                  s.rel / EPS, (double)s.rel_at, bound / EPS);
    if (!(s.rel <= bound))
        fail_msg("%s: relative error %.3g at x = %.9g exceeds %.3g", what,
                 s.rel, (double)s.rel_at, bound);
}

static void check_abs(const char *what, err_stat s, double bound)
{
    print_message("%-34s max abs error %.3g at %.9g (bound %.3g)\n", what,
                  s.abs, (double)s.abs_at, bound);
    if (!(s.abs <= bound))
        fail_msg("%s: absolute error %.3g at x = %.9g exceeds %.3g", what,
                 s.abs, (double)s.abs_at, bound);
}

/* ---- double references ------------------------------------------------ */

static double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double ref_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* ---- exp -------------------------------------------------------------- */

static void test_expf_accuracy(void **state)
{
    (void)state;
    /* Callers pass x <= 0; the positive side is checked all the same. */
    check_rel("expf grid [LO, 0]",
              sweep(vae_fast_expf, exp, VAE_FAST_EXP_LO, 0.0, GRID), EXP_REL);
    check_rel("expf grid [0, HI]",
              sweep(vae_fast_expf, exp, 0.0, VAE_FAST_EXP_HI, GRID), EXP_REL);
    check_rel("expf grid [-1, 1]", sweep(vae_fast_expf, exp, -1.0, 1.0, GRID),
              EXP_REL);
    check_rel("expf random bits in [LO, HI]",
              sweep_bits(vae_fast_expf, exp, VAE_FAST_EXP_LO, VAE_FAST_EXP_HI,
                         GRID, 1),
              EXP_REL);
}

static void test_expf_edges(void **state)
{
    (void)state;
    assert_true(vae_fast_expf(0.0f) == 1.0f);
    assert_true(vae_fast_expf(-0.0f) == 1.0f);
    /* Below LO the result would be subnormal: it is +0 instead, and every
     * result near the bottom is either 0 or a normal float. */
    assert_true(vae_fast_expf(-INFINITY) == 0.0f);
    assert_true(vae_fast_expf(-1e30f) == 0.0f);
    assert_true(vae_fast_expf(-100.0f) == 0.0f);
    assert_true(vae_fast_expf(nextafterf(VAE_FAST_EXP_LO, -INFINITY)) == 0.0f);
    assert_true(vae_fast_expf(VAE_FAST_EXP_LO) >= FLT_MIN);
    for (float x = -90.0f; x < -86.0f; x += 1e-4f) {
        float y = vae_fast_expf(x);
        assert_true(y == 0.0f || y >= FLT_MIN);
    }
    /* At HI and above: saturated, finite. */
    float top = vae_fast_expf(VAE_FAST_EXP_HI);
    TU_ASSERT_CLOSE(top, exp((double)VAE_FAST_EXP_HI), EXP_REL, "exp(HI)");
    assert_true(isfinite(top) && top > 2e38f);
    assert_true(vae_fast_expf(89.0f) == top);
    assert_true(vae_fast_expf(1e30f) == top);
    assert_true(vae_fast_expf(INFINITY) == top);
    /* Subnormal and tiny inputs: e^x = 1 to float precision. */
    assert_true(vae_fast_expf(1e-40f) == 1.0f);
    assert_true(vae_fast_expf(-1e-40f) == 1.0f);
    assert_true(vae_fast_expf(-FLT_TRUE_MIN) == 1.0f);
    assert_true(isnan(vae_fast_expf(NAN)));
}

static void test_expm1f(void **state)
{
    (void)state;
    check_rel("expm1f grid [-20, 20]",
              sweep(vae_fast_expm1f, expm1, -20.0, 20.0, GRID), EXPM1_REL);
    check_rel("expm1f grid [-0.5, 0.5]",
              sweep(vae_fast_expm1f, expm1, -0.5, 0.5, GRID), EXPM1_REL);
    check_rel("expm1f random bits in [-88, 88]",
              sweep_bits(vae_fast_expm1f, expm1, -88.0f, 88.0f, GRID, 2),
              EXPM1_REL);
    assert_true(vae_fast_expm1f(0.0f) == 0.0f);
    assert_true(vae_fast_expm1f(-100.0f) == -1.0f);
    assert_true(vae_fast_expm1f(-INFINITY) == -1.0f);
    assert_true(vae_fast_expm1f(1e-40f) == 1e-40f);
    assert_true(isfinite(vae_fast_expm1f(INFINITY)));
    assert_true(isnan(vae_fast_expm1f(NAN)));
}

/* ---- log1p on [0, 1] -------------------------------------------------- */

static void test_log1p_small(void **state)
{
    (void)state;
    err_stat s = sweep(vae_fast_log1p_small, log1p, 0.0, 1.0, GRID);
    check_abs("log1p_small grid [0, 1]", s, LOG1P_ABS);
    check_rel("log1p_small grid [0, 1]", s, LOG1P_REL);
    check_rel("log1p_small random bits in [0, 1]",
              sweep_bits(vae_fast_log1p_small, log1p, 0.0f, 1.0f, GRID, 3),
              LOG1P_REL);
    /* Exact at 0 and for tiny e, where log1p(e) = e in float. */
    assert_true(vae_fast_log1p_small(0.0f) == 0.0f);
    assert_true(vae_fast_log1p_small(1e-40f) == 1e-40f);
    assert_true(vae_fast_log1p_small(1e-20f) == 1e-20f);
    TU_ASSERT_CLOSE(vae_fast_log1p_small(1.0f), log(2.0), LOG1P_ABS, "log 2");
}

/* ---- tanh, sigmoid, softplus from the header -------------------------- */

static void test_tanhf(void **state)
{
    (void)state;
    check_rel("tanhf grid [-20, 20]",
              sweep(vae_fast_tanhf, tanh, -20.0, 20.0, GRID), TANH_REL);
    check_rel("tanhf grid [-0.01, 0.01]",
              sweep(vae_fast_tanhf, tanh, -0.01, 0.01, GRID), TANH_REL);
    check_rel("tanhf random bits in [-1e30, 1e30]",
              sweep_bits(vae_fast_tanhf, tanh, -1e30f, 1e30f, GRID, 4),
              TANH_REL);
    /* Odd, bounded by 1, sign of zero kept. */
    for (float x = -10.0f; x <= 10.0f; x += 1e-3f) {
        float y = vae_fast_tanhf(x);
        assert_true(vae_fast_tanhf(-x) == -y);
        assert_true(fabsf(y) <= 1.0f);
    }
    assert_true(vae_fast_tanhf(0.0f) == 0.0f && !signbit(vae_fast_tanhf(0.0f)));
    assert_true(vae_fast_tanhf(-0.0f) == 0.0f && signbit(vae_fast_tanhf(-0.0f)));
    assert_true(vae_fast_tanhf(INFINITY) == 1.0f);
    assert_true(vae_fast_tanhf(-INFINITY) == -1.0f);
    assert_true(vae_fast_tanhf(1e30f) == 1.0f);
    assert_true(vae_fast_tanhf(-1e30f) == -1.0f);
    assert_true(vae_fast_tanhf(FLT_MAX) == 1.0f);
    assert_true(vae_fast_tanhf(1e-30f) == 1e-30f);
    assert_true(vae_fast_tanhf(-1e-40f) == -1e-40f);
    assert_true(isnan(vae_fast_tanhf(NAN)));
}

static void test_sigmoidf(void **state)
{
    (void)state;
    check_rel("sigmoidf grid [-20, 20]",
              sweep(vae_fast_sigmoidf, ref_sigmoid, -20.0, 20.0, GRID),
              SIGMOID_REL);
    /* The lower tail keeps its relative accuracy down to where e^x stops
     * being a normal float. */
    check_rel("sigmoidf grid [LO, 20]",
              sweep(vae_fast_sigmoidf, ref_sigmoid, VAE_FAST_EXP_LO, 20.0,
                    GRID),
              SIGMOID_REL);
    check_rel("sigmoidf random bits in [LO, 1e30]",
              sweep_bits(vae_fast_sigmoidf, ref_sigmoid, VAE_FAST_EXP_LO,
                         1e30f, GRID, 5),
              SIGMOID_REL);
    assert_true(vae_fast_sigmoidf(0.0f) == 0.5f);
    assert_true(vae_fast_sigmoidf(-0.0f) == 0.5f);
    assert_true(vae_fast_sigmoidf(INFINITY) == 1.0f);
    assert_true(vae_fast_sigmoidf(-INFINITY) == 0.0f);
    assert_true(vae_fast_sigmoidf(1e30f) == 1.0f);
    assert_true(vae_fast_sigmoidf(-1e30f) == 0.0f);
    /* Below LO: 0, against a true value under FLT_MIN. */
    assert_true(vae_fast_sigmoidf(-100.0f) == 0.0f);
    for (float x = -30.0f; x <= 30.0f; x += 1e-3f) {
        float y = vae_fast_sigmoidf(x);
        assert_true(y >= 0.0f && y <= 1.0f);
    }
    assert_true(isnan(vae_fast_sigmoidf(NAN)));
}

static void test_softplusf(void **state)
{
    (void)state;
    check_rel("softplusf grid [-20, 20]",
              sweep(vae_fast_softplusf, ref_softplus, -20.0, 20.0, GRID),
              SOFTPLUS_REL);
    check_rel("softplusf grid [LO, 0]",
              sweep(vae_fast_softplusf, ref_softplus, VAE_FAST_EXP_LO, 0.0,
                    GRID),
              SOFTPLUS_REL);
    check_rel("softplusf random bits in [LO, 1e30]",
              sweep_bits(vae_fast_softplusf, ref_softplus, VAE_FAST_EXP_LO,
                         1e30f, GRID, 6),
              SOFTPLUS_REL);
    assert_true(vae_fast_softplusf(1e30f) == 1e30f);
    assert_true(vae_fast_softplusf(FLT_MAX) == FLT_MAX);
    assert_true(vae_fast_softplusf(INFINITY) == INFINITY);
    assert_true(vae_fast_softplusf(-INFINITY) == 0.0f);
    assert_true(vae_fast_softplusf(-1e30f) == 0.0f);
    assert_true(vae_fast_softplusf(-100.0f) == 0.0f);
    assert_true(isnan(vae_fast_softplusf(NAN)));
}

/* ---- the activation ops use them -------------------------------------- */

/* The library's hot loops run in the clone this CPU picks (src/simd.h:
 * AVX-512, AVX2 or the baseline); this file is compiled for the baseline
 * alone, so its own calls of fastmath.h are the baseline code, and the
 * library's results must equal them bit for bit, whichever clone ran. */
static void report_clone(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    print_message("this CPU runs the %s clones (in optimised builds)\n",
                  __builtin_cpu_supports("avx512f") ? "AVX-512"
                  : __builtin_cpu_supports("avx2")  ? "AVX2"
                                                    : "baseline");
#endif
}

static void check_op(int32_t op, f32_fn base, f64_fn ref, double bound,
                     const char *what)
{
    enum { N = 100001 };
    const int64_t dims[1] = {N};
    const tu_layer layer = TU_ACT(op);
    tu_harness h;
    tu_harness_init(&h, dims, 1, &layer, 1, 11);
    for (int i = 0; i < N; i++)
        h.in.val[i] = (float)(-20.0 + 40.0 * i / (N - 1));
    /* Extremes at both ends of the buffer, away from the vector body. */
    h.in.val[0] = -1e30f;
    h.in.val[N - 1] = 1e30f;
    tu_forward(&h);
    err_stat s = {0.0, 0.0, 0.0f, 0.0f};
    for (int i = 0; i < N; i++) {
        assert_true(isfinite(h.node.val[i]));
        float want = base(h.in.val[i]);
        assert_memory_equal(&h.node.val[i], &want, sizeof want);
        err_add(&s, h.in.val[i], h.node.val[i], ref((double)h.in.val[i]));
    }
    check_rel(what, s, bound);
    tu_harness_free(&h);
}

static void test_activation_ops(void **state)
{
    (void)state;
    report_clone();
    check_op(VAE_OP_TANH, vae_fast_tanhf, tanh, TANH_REL,
             "tanh op [-20, 20]");
    check_op(VAE_OP_SIGMOID, vae_fast_sigmoidf, ref_sigmoid, SIGMOID_REL,
             "sigmoid op [-20, 20]");
    check_op(VAE_OP_SOFTPLUS, vae_fast_softplusf, ref_softplus, SOFTPLUS_REL,
             "softplus op [-20, 20]");
}

/* ---- Bernoulli likelihood --------------------------------------------- */

/* x * log sigmoid(l) + (1 - x) * log sigmoid(-l) in long double. */
static double bernoulli_ref(double x, double l)
{
    long double ls = l >= 0 ? -log1pl(expl(-(long double)l))
                            : (long double)l - log1pl(expl((long double)l));
    long double lm = ls - (long double)l; /* log sigmoid(-l) */
    return (double)((long double)x * ls + (1.0L - (long double)x) * lm);
}

/* Per-element error bound of log p: the term is x*l - softplus(l) in
 * float, so softplus's error plus the rounding of x*l and of the
 * difference, each relative to the larger of |x*l| and softplus(l). */
static double bernoulli_bound(double x, double l)
{
    return 3.0 * EPS * fmax(1.0, fmax(fabs(x * l), ref_softplus(l)));
}

/* One element per row (batch = n, d = 1), then the same elements as one
 * row of length n, which goes through the chunked, laned sum. */
static void test_bernoulli_grid(void **state)
{
    (void)state;
    enum { N = 100003 }; /* not a multiple of the chunk or lane count */
    float *l = tu_alloc(N * sizeof *l), *x = tu_alloc(N * sizeof *x);
    float *g = tu_alloc(N * sizeof *g), *g1 = tu_alloc(N * sizeof *g1);
    double *lp = tu_alloc(N * sizeof *lp), row;
    const float xs[] = {0.0f, 1.0f, 0.3f, 0.75f};
    for (int i = 0; i < N; i++) {
        l[i] = (float)(-30.0 + 60.0 * i / (N - 1));
        x[i] = xs[i % TU_COUNT(xs)];
    }
    l[1] = -100.0f;
    l[2] = 100.0f;

    vae_likelihood(VAE_LIKELIHOOD_BERNOULLI, l, x, N, 1, 0, 0.0, lp, g1);
    err_stat sg = {0.0, 0.0, 0.0f, 0.0f};
    double sum = 0.0, ref_sum = 0.0, bound_sum = 0.0, worst = 0.0;
    for (int i = 0; i < N; i++) {
        double want = bernoulli_ref(x[i], l[i]);
        double bound = bernoulli_bound(x[i], l[i]);
        worst = fmax(worst, fabs(lp[i] - want) / bound);
        err_add(&sg, l[i], g1[i], ref_sigmoid(l[i]) - x[i]);
        /* The clone's gradient is the baseline's, bit for bit. */
        float base = vae_fast_sigmoidf(l[i]) - x[i];
        assert_memory_equal(&g1[i], &base, sizeof base);
        sum += lp[i];
        ref_sum += want;
        bound_sum += bound;
    }
    print_message("%-34s max error %.3f of its bound\n",
                  "bernoulli logp per element", worst);
    assert_true(worst <= 1.0);
    check_abs("bernoulli gradient", sg, 1.5 * EPS);

    vae_likelihood(VAE_LIKELIHOOD_BERNOULLI, l, x, 1, N, 0, 0.0, &row, g);
    /* The same terms in another order of double additions. */
    TU_ASSERT_CLOSE(row, sum, 1e-12, "one row vs per-element rows");
    assert_true(fabs(row - ref_sum) <= bound_sum);
    for (int i = 0; i < N; i++)
        TU_ASSERT_CLOSE(g[i], g1[i], 1e-7, "one row vs per-element rows");
    double again;
    vae_likelihood(VAE_LIKELIHOOD_BERNOULLI, l, x, 1, N, 0, 0.0, &again, NULL);
    TU_ASSERT_CLOSE(again, row, 1e-15, "without vs with the gradient");
    free(l);
    free(x);
    free(g);
    free(g1);
    free(lp);
}

/* Logits of +-1e30 and +-inf: finite (or, for inf, the exact limit) log p
 * where x makes it finite, and a gradient of sigmoid(l) - x. */
static void test_bernoulli_huge(void **state)
{
    (void)state;
    const float l[] = {1e30f, -1e30f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX};
    const float x[] = {1.0f, 0.0f, 0.0f, 1.0f, 1.0f, 0.0f};
    const double want[] = {0.0, 0.0, -1e30, -1e30, 0.0, 0.0};
    const float grad[] = {0.0f, 0.0f, 1.0f, -1.0f, 0.0f, 0.0f};
    for (int i = 0; i < TU_COUNT(l); i++) {
        double lp;
        float g;
        vae_likelihood(VAE_LIKELIHOOD_BERNOULLI, &l[i], &x[i], 1, 1, 0, 0.0, &lp,
                       &g);
        TU_ASSERT_CLOSE(lp, want[i], 1e-7, "log p at a huge logit");
        assert_true(g == grad[i]);
    }
}

static void test_bernoulli_mean(void **state)
{
    (void)state;
    enum { B = 3, D = 33337 };
    float *l = tu_alloc(B * D * sizeof *l), *m = tu_alloc(B * D * sizeof *m);
    for (int i = 0; i < B * D; i++)
        l[i] = (float)(-80.0 + 160.0 * i / (B * D - 1));
    vae_likelihood_mean(VAE_LIKELIHOOD_BERNOULLI, l, B, D, 0, m);
    err_stat s = {0.0, 0.0, 0.0f, 0.0f};
    for (int i = 0; i < B * D; i++)
        err_add(&s, l[i], m[i], ref_sigmoid(l[i]));
    check_rel("likelihood mean [-80, 80]", s, SIGMOID_REL);
    free(l);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expf_accuracy),
        cmocka_unit_test(test_expf_edges),
        cmocka_unit_test(test_expm1f),
        cmocka_unit_test(test_log1p_small),
        cmocka_unit_test(test_tanhf),
        cmocka_unit_test(test_sigmoidf),
        cmocka_unit_test(test_softplusf),
        cmocka_unit_test(test_activation_ops),
        cmocka_unit_test(test_bernoulli_grid),
        cmocka_unit_test(test_bernoulli_huge),
        cmocka_unit_test(test_bernoulli_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
