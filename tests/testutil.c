#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

void tu_seed(tu_rng *r, uint64_t seed) { r->s = seed; }

static uint64_t tu_next(tu_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double tu_uniform(tu_rng *r, double lo, double hi)
{
    double u = (double)(tu_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return lo + (hi - lo) * u;
}

double tu_normal(tu_rng *r)
{
    /* 1 - u keeps the log argument in (0, 1]. */
    double u1 = 1.0 - tu_uniform(r, 0.0, 1.0);
    double u2 = tu_uniform(r, 0.0, 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void tu_fill_uniform(tu_rng *r, float *p, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)tu_uniform(r, lo, hi);
}

int tu_close(double a, double b, double tol)
{
    double scale = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= tol * scale;
}

void *tu_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

float *tu_dup(const float *src, int64_t n)
{
    float *p = tu_alloc((size_t)n * sizeof *p);
    memcpy(p, src, (size_t)n * sizeof *p);
    return p;
}

int32_t tu_add_layer(vae_graph *g, int32_t x, const tu_layer *l)
{
    switch (l->op) {
    case VAE_OP_DENSE: return vae_graph_dense(g, x, l->units);
    case VAE_OP_RELU: return vae_graph_relu(g, x);
    case VAE_OP_LEAKY_RELU: return vae_graph_leaky_relu(g, x, l->slope);
    case VAE_OP_TANH: return vae_graph_tanh(g, x);
    case VAE_OP_SIGMOID: return vae_graph_sigmoid(g, x);
    case VAE_OP_SOFTPLUS: return vae_graph_softplus(g, x);
    case VAE_OP_IDENTITY: return vae_graph_identity(g, x);
    case VAE_OP_CONV2D:
        return vae_graph_conv2d(g, x, l->units, l->kernel, l->stride,
                                l->padding);
    case VAE_OP_CONV2D_TRANSPOSE:
        return vae_graph_conv2d_transpose(g, x, l->units, l->kernel, l->stride,
                                          l->padding);
    case VAE_OP_RESHAPE:
        return l->rank == 0 ? vae_graph_flatten(g, x)
                            : vae_graph_reshape(g, x, l->dims, l->rank);
    default: fail_msg("tu_add_layer: op %d has no builder", (int)l->op);
    }
    return VAE_ERR_INVALID_ARG;
}

vae_graph *tu_graph_nd(const int64_t *dims, int32_t rank,
                       const tu_layer *layers, int n)
{
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    int32_t id = vae_graph_input(g, dims, rank);
    for (int i = 0; i < n; i++)
        id = tu_add_layer(g, id, &layers[i]);
    if (id < 0)
        fail_msg("tu_graph: %s", vae_graph_last_error(g));
    assert_int_equal(vae_graph_set_output(g, id), VAE_OK);
    return g;
}

vae_graph *tu_graph(int64_t in, const tu_layer *layers, int n)
{
    return tu_graph_nd(&in, 1, layers, n);
}

vae_model *tu_model(int64_t data, const tu_layer *enc, int n_enc,
                    int64_t latent, const tu_layer *dec, int n_dec,
                    int32_t likelihood, uint64_t seed)
{
    vae_graph *ge = tu_graph(data, enc, n_enc);
    vae_graph *gd = tu_graph(latent, dec, n_dec);
    vae_model *m = NULL;
    char err[256] = "";
    int32_t st = vae_model_new(ge, gd, latent, likelihood, seed, &m, err,
                               sizeof err);
    vae_graph_free(ge);
    vae_graph_free(gd);
    if (st != VAE_OK)
        fail_msg("tu_model: %s (%s)", vae_status_string(st), err);
    return m;
}

/* ---- Op harness ----------------------------------------------------------- */

int64_t tu_in_count(const tu_harness *h) { return h->batch * h->in.s.size; }

int64_t tu_out_count(const tu_harness *h) { return h->batch * h->node.s.size; }

static void fill_nan(float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = NAN;
}

/* Values with |v| in [0.2, 1.5] and a random sign: away from the kinks. */
static void fill_away_from_zero(tu_rng *r, float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double mag = tu_uniform(r, 0.2, 1.5);
        p[i] = (float)(tu_uniform(r, 0.0, 1.0) < 0.5 ? -mag : mag);
    }
}

void tu_harness_init(tu_harness *h, const int64_t *dims, int32_t rank,
                     const tu_layer *layer, int64_t batch, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    assert_int_equal(vae_graph_new(&h->g), VAE_OK);
    assert_int_equal(vae_graph_input(h->g, dims, rank), 0);
    if (tu_add_layer(h->g, 0, layer) != 1)
        fail_msg("tu_harness_init: %s", vae_graph_last_error(h->g));
    h->op = vae_op_get(layer->op);
    assert_non_null(h->op);
    h->in.s = h->g->nodes[0];
    h->node.s = h->g->nodes[1];
    h->batch = batch;
    h->fd_step = TU_FD_H;

    tu_rng rng;
    tu_seed(&rng, seed);
    h->in.val = tu_alloc((size_t)tu_in_count(h) * sizeof(float));
    h->in.grad = tu_alloc((size_t)tu_in_count(h) * sizeof(float));
    h->node.val = tu_alloc((size_t)tu_out_count(h) * sizeof(float));
    h->node.grad = tu_alloc((size_t)tu_out_count(h) * sizeof(float));
    h->r = tu_alloc((size_t)tu_out_count(h) * sizeof(float));
    h->w = tu_alloc((size_t)h->node.s.n_params * sizeof(float));
    h->dw = tu_alloc((size_t)h->node.s.n_params * sizeof(float));
    if (h->op->scratch) {
        int64_t n = h->op->scratch(&h->node.s, batch);
        assert_true(n >= 0);
        h->node.scratch = tu_alloc((size_t)n * sizeof(float));
        fill_nan(h->node.scratch, n);
    }
    fill_away_from_zero(&rng, h->in.val, tu_in_count(h));
    tu_fill_uniform(&rng, h->w, h->node.s.n_params, -0.8, 0.8);
    tu_fill_uniform(&rng, h->r, tu_out_count(h), -1.0, 1.0);
}

void tu_harness_free(tu_harness *h)
{
    vae_graph_free(h->g);
    free(h->in.val);
    free(h->in.grad);
    free(h->node.val);
    free(h->node.grad);
    free(h->node.scratch);
    free(h->r);
    free(h->w);
    free(h->dw);
}

void tu_forward(tu_harness *h)
{
    vae_node *ins[1] = {&h->in};
    fill_nan(h->node.val, tu_out_count(h));
    h->op->forward(&h->node, ins, h->w, h->batch);
}

static double loss(tu_harness *h)
{
    tu_forward(h);
    double s = 0.0;
    for (int64_t i = 0; i < tu_out_count(h); i++)
        s += (double)h->node.val[i] * (double)h->r[i];
    return s;
}

void tu_backward(tu_harness *h)
{
    vae_node *ins[1] = {&h->in};
    tu_forward(h);
    memcpy(h->node.grad, h->r, (size_t)tu_out_count(h) * sizeof(float));
    h->op->backward(&h->node, ins, h->w, h->dw, h->batch);
}

static double central_diff(tu_harness *h, float *p)
{
    float keep = *p;
    *p = keep + h->fd_step;
    float up = *p;
    double lp = loss(h);
    *p = keep - h->fd_step;
    float down = *p;
    double lm = loss(h);
    *p = keep;
    /* The step actually taken, after rounding to float. */
    return (lp - lm) / ((double)up - (double)down);
}

/* Relative disagreement, as tu_close measures it. */
static double rel_diff(double a, double b)
{
    return fabs(a - b) / fmax(1.0, fmax(fabs(a), fabs(b)));
}

double tu_check_grads(tu_harness *h, const char *what, double tol)
{
    memset(h->in.grad, 0, (size_t)tu_in_count(h) * sizeof(float));
    memset(h->dw, 0, (size_t)h->node.s.n_params * sizeof(float));
    tu_backward(h);
    float *gin = tu_dup(h->in.grad, tu_in_count(h));
    float *gw = tu_dup(h->dw, h->node.s.n_params);

    double biggest = 0.0, worst = 0.0;
    char msg[128];
    for (int64_t i = 0; i < tu_in_count(h); i++) {
        double num = central_diff(h, &h->in.val[i]);
        snprintf(msg, sizeof msg, "%s dL/dx[%lld]", what, (long long)i);
        TU_ASSERT_CLOSE(gin[i], num, tol, msg);
        biggest = fmax(biggest, fabs(gin[i]));
        worst = fmax(worst, rel_diff(gin[i], num));
    }
    for (int64_t k = 0; k < h->node.s.n_params; k++) {
        double num = central_diff(h, &h->w[k]);
        snprintf(msg, sizeof msg, "%s dL/dw[%lld]", what, (long long)k);
        TU_ASSERT_CLOSE(gw[k], num, tol, msg);
        biggest = fmax(biggest, fabs(gw[k]));
        worst = fmax(worst, rel_diff(gw[k], num));
    }
    /* Two all-zero gradients would agree without testing anything. */
    assert_true(biggest > 0.05);
    free(gin);
    free(gw);
    return worst;
}

/* backward must add into existing gradients (a node may feed several
 * consumers, and the model accumulates over calls), never overwrite. */
void tu_check_accumulates(tu_harness *h)
{
    int64_t ni = tu_in_count(h), np = h->node.s.n_params;
    memset(h->in.grad, 0, (size_t)ni * sizeof(float));
    memset(h->dw, 0, (size_t)np * sizeof(float));
    tu_backward(h);
    float *gin = tu_dup(h->in.grad, ni);
    float *gw = tu_dup(h->dw, np);

    tu_rng rng;
    tu_seed(&rng, 99);
    float *base_in = tu_alloc((size_t)ni * sizeof(float));
    float *base_w = tu_alloc((size_t)np * sizeof(float));
    tu_fill_uniform(&rng, base_in, ni, -2.0, 2.0);
    tu_fill_uniform(&rng, base_w, np, -2.0, 2.0);
    memcpy(h->in.grad, base_in, (size_t)ni * sizeof(float));
    memcpy(h->dw, base_w, (size_t)np * sizeof(float));
    tu_backward(h);
    for (int64_t i = 0; i < ni; i++)
        TU_ASSERT_CLOSE(h->in.grad[i], (double)base_in[i] + gin[i], 1e-5,
                        "input grad accumulates");
    for (int64_t k = 0; k < np; k++)
        TU_ASSERT_CLOSE(h->dw[k], (double)base_w[k] + gw[k], 1e-5,
                        "param grad accumulates");

    /* A NULL input gradient (the graph input needs none) is skipped, and the
     * parameter gradient is still computed. */
    memset(h->dw, 0, (size_t)np * sizeof(float));
    float *keep = h->in.grad;
    h->in.grad = NULL;
    tu_backward(h);
    h->in.grad = keep;
    for (int64_t k = 0; k < np; k++)
        TU_ASSERT_CLOSE(h->dw[k], gw[k], 1e-6, "param grad, NULL input grad");

    free(gin);
    free(gw);
    free(base_in);
    free(base_w);
}

void tu_check_init(const int64_t *dims, int32_t rank, const tu_layer *layer,
                   int64_t fan_in, int64_t n_bias, double wfrac)
{
    tu_harness h;
    tu_harness_init(&h, dims, rank, layer, 1, 3);
    assert_non_null(h.op->init);
    vae_rng rng;
    vae_rng_seed(&rng, 42);
    h.op->init(&h.node.s, h.w, &rng);
    int64_t n = h.node.s.n_params, n_w = n - n_bias;
    double bound = 1.0 / sqrt((double)fan_in), wmax = 0.0, bmax = 0.0;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        assert_true(fabs(h.w[i]) <= bound * (1.0 + 1e-6));
        if (i < n_w)
            wmax = fmax(wmax, fabs(h.w[i]));
        else
            bmax = fmax(bmax, fabs(h.w[i]));
        sum += h.w[i];
    }
    assert_true(wmax > wfrac * bound);
    assert_true(bmax > 0.25 * bound);
    assert_true(fabs(sum / (double)n) < 0.25 * bound);
    tu_harness_free(&h);
}
