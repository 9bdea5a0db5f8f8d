#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "model.h"

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

unsigned char *tu_save_image(vae_model *m, const vae_adam *o, size_t *len)
{
    assert_int_equal(vae_model_save_size(m, o, len), VAE_OK);
    unsigned char *buf = tu_alloc(*len);
    size_t written = 0;
    assert_int_equal(vae_model_save_to_buffer(m, o, buf, *len, &written),
                     VAE_OK);
    assert_int_equal(written, *len);
    return buf;
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
    case VAE_OP_DATA: return vae_graph_data(g, l->dims, l->rank);
    case VAE_OP_EMBEDDING: return vae_graph_embedding(g, x, l->vocab, l->units);
    case VAE_OP_LSTM: return vae_graph_lstm(g, x, l->units, -1, -1, 1);
    case VAE_OP_REPEAT: return vae_graph_repeat(g, x, l->units);
    case VAE_OP_CONCAT: return vae_graph_concat(g, x, x);
    case VAE_OP_SHIFT_RIGHT: return vae_graph_shift_right(g, x, l->token);
    case VAE_OP_TOKEN_DROPOUT:
        return vae_graph_token_dropout(g, x, l->slope, l->token);
    case VAE_OP_BATCH_NORM: return vae_graph_batch_norm(g, x, l->slope);
    case VAE_OP_TRANSPOSE: {
        int32_t axes[VAE_MAX_RANK] = {0};
        for (int32_t i = 0; i < l->rank && i < VAE_MAX_RANK; i++)
            axes[i] = (int32_t)l->dims[i];
        return vae_graph_transpose(g, x, axes, l->rank);
    }
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

vae_graph *tu_graph_input(const int64_t *dims, int32_t rank)
{
    vae_graph *g;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_input(g, dims, rank), 0);
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

int64_t tu_input_count(const tu_harness *h, int k)
{
    return h->batch * h->ins[k].s.size;
}

int64_t tu_in_count(const tu_harness *h) { return tu_input_count(h, 0); }

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

static void fill_ids(tu_rng *r, float *p, int64_t n, int64_t id_max)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)floor(tu_uniform(r, 0.0, (double)id_max));
}

/* n floats per example for the batch, NaN so reads before writes show up;
 * NULL when the op asks for none. */
static float *nan_buffer(int64_t (*size)(const vae_node_spec *),
                         const vae_node_spec *s, int64_t batch)
{
    if (!size)
        return NULL;
    int64_t n = size(s) * batch;
    assert_true(n >= 0);
    float *p = tu_alloc((size_t)n * sizeof(float));
    fill_nan(p, n);
    return p;
}

/* The graph's source nodes: ins[0] as its input, the rest as data nodes. */
static void harness_sources(tu_harness *h, const tu_input *ins, int n_in)
{
    memset(h, 0, sizeof *h);
    assert_true(n_in >= 1 && n_in <= VAE_MAX_INPUTS);
    h->n_in = n_in;
    assert_int_equal(vae_graph_new(&h->g), VAE_OK);
    assert_int_equal(vae_graph_input(h->g, ins[0].dims, ins[0].rank), 0);
    for (int k = 1; k < n_in; k++) {
        int64_t attr[VAE_N_IATTR] = {ins[k].rank};
        assert_true(ins[k].rank >= 1 && ins[k].rank <= VAE_MAX_RANK);
        memcpy(attr + 1, ins[k].dims, (size_t)ins[k].rank * sizeof(int64_t));
        if (vae_graph_add_code(h->g, VAE_OP_DATA, NULL, 0, attr,
                               1 + ins[k].rank, NULL, 0) != k)
            fail_msg("tu_harness: input %d: %s", k,
                     vae_graph_last_error(h->g));
    }
    for (int k = 0; k < n_in; k++)
        h->id_max[k] = ins[k].id_max;
}

/* Everything after the op node (id n_in) has been added to h->g. */
static void harness_buffers(tu_harness *h, int64_t batch, uint64_t seed)
{
    assert_int_equal(h->g->n, h->n_in + 1);
    h->node.s = h->g->nodes[h->n_in];
    h->op = vae_op_get(h->node.s.op);
    assert_non_null(h->op);
    h->batch = batch;
    h->fd_step = TU_FD_H;
    vae_rng_seed(&h->rng, seed);
    h->run.rng = &h->rng;
    h->run.training = 1;
    h->node.run = &h->run;

    tu_rng rng;
    tu_seed(&rng, seed);
    for (int k = 0; k < h->n_in; k++) {
        vae_node *in = &h->ins[k];
        in->s = h->g->nodes[k];
        int64_t n = tu_input_count(h, k);
        in->val = tu_alloc((size_t)n * sizeof(float));
        in->grad = tu_alloc((size_t)n * sizeof(float));
        memset(in->grad, 0, (size_t)n * sizeof(float));
        if (h->id_max[k] > 0)
            fill_ids(&rng, in->val, n, h->id_max[k]);
        else
            fill_away_from_zero(&rng, in->val, n);
    }
    h->node.val = tu_alloc((size_t)tu_out_count(h) * sizeof(float));
    h->node.grad = tu_alloc((size_t)tu_out_count(h) * sizeof(float));
    h->r = tu_alloc((size_t)tu_out_count(h) * sizeof(float));
    h->w = tu_alloc((size_t)h->node.s.n_params * sizeof(float));
    h->dw = tu_alloc((size_t)h->node.s.n_params * sizeof(float));
    if (h->op->scratch) {
        /* Room for chunks side by side, which a pool of several threads
         * uses (vae_conv_chunks). */
        h->node.slots = TU_SLOTS;
        int64_t n = h->op->scratch(&h->node.s, batch, TU_SLOTS);
        assert_true(n >= 0);
        h->node.scratch = tu_alloc((size_t)n * sizeof(float));
        fill_nan(h->node.scratch, n);
    }
    h->node.saved = nan_buffer(h->op->saved, &h->node.s, batch);
    h->node.state = nan_buffer(h->op->state, &h->node.s, batch);
    if (h->op->buffers) {
        int64_t n = h->op->buffers(&h->node.s);
        h->node.buf = tu_alloc((size_t)n * sizeof(float));
        h->op->init_buffers(&h->node.s, h->node.buf);
    }
    tu_fill_uniform(&rng, h->w, h->node.s.n_params, -0.8, 0.8);
    tu_fill_uniform(&rng, h->r, tu_out_count(h), -1.0, 1.0);
}

void tu_harness_init(tu_harness *h, const int64_t *dims, int32_t rank,
                     const tu_layer *layer, int64_t batch, uint64_t seed)
{
    tu_input in = {rank, {0}, 0};
    assert_true(rank >= 1 && rank <= VAE_MAX_RANK);
    memcpy(in.dims, dims, (size_t)rank * sizeof(int64_t));
    harness_sources(h, &in, 1);
    if (tu_add_layer(h->g, 0, layer) != 1)
        fail_msg("tu_harness_init: %s", vae_graph_last_error(h->g));
    harness_buffers(h, batch, seed);
}

void tu_harness_init_op(tu_harness *h, const tu_input *ins, int n_in,
                        int32_t op, const int64_t *iattr, int n_iattr,
                        const float *fattr, int n_fattr, int64_t batch,
                        uint64_t seed)
{
    harness_sources(h, ins, n_in);
    int32_t inputs[VAE_MAX_INPUTS];
    for (int k = 0; k < n_in; k++)
        inputs[k] = k;
    if (vae_graph_add_code(h->g, op, inputs, n_in, iattr, n_iattr, fattr,
                           n_fattr) != n_in)
        fail_msg("tu_harness_init_op: %s", vae_graph_last_error(h->g));
    harness_buffers(h, batch, seed);
}

void tu_harness_free(tu_harness *h)
{
    vae_graph_free(h->g);
    for (int k = 0; k < h->n_in; k++) {
        free(h->ins[k].val);
        free(h->ins[k].grad);
    }
    free(h->node.val);
    free(h->node.grad);
    free(h->node.scratch);
    free(h->node.saved);
    free(h->node.state);
    free(h->node.buf);
    free(h->r);
    free(h->w);
    free(h->dw);
}

void tu_forward(tu_harness *h)
{
    vae_node *ins[VAE_MAX_INPUTS] = {&h->ins[0], &h->ins[1], &h->ins[2],
                                     &h->ins[3]};
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
    vae_node *ins[VAE_MAX_INPUTS] = {&h->ins[0], &h->ins[1], &h->ins[2],
                                     &h->ins[3]};
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
void tu_expect_close(double got, double want, double tol, const char *what,
                     double *worst)
{
    TU_ASSERT_CLOSE(got, want, tol, what);
    *worst = fmax(*worst, fabs(got - want) /
                              fmax(1.0, fmax(fabs(got), fabs(want))));
}

/* Sets every input gradient and the parameter gradient to 0. */
static void zero_grads(tu_harness *h)
{
    for (int k = 0; k < h->n_in; k++)
        if (h->ins[k].grad)
            memset(h->ins[k].grad, 0,
                   (size_t)tu_input_count(h, k) * sizeof(float));
    memset(h->dw, 0, (size_t)h->node.s.n_params * sizeof(float));
}

/* Per op code, the values check_block has compared (tu_fd_checked). */
static int64_t fd_checked[VAE_OP_COUNT_];

int64_t tu_fd_checked(int32_t op)
{
    return op > 0 && op < VAE_OP_COUNT_ ? fd_checked[op] : 0;
}

/* Compares n analytic gradients with central differences over p[0..n-1]. */
static void check_block(tu_harness *h, const float *analytic, float *p,
                        int64_t n, const char *what, const char *name,
                        double tol, double *biggest, double *worst)
{
    char msg[160];
    for (int64_t i = 0; i < n; i++) {
        double num = central_diff(h, &p[i]);
        snprintf(msg, sizeof msg, "%s %s[%lld]", what, name, (long long)i);
        tu_expect_close(analytic[i], num, tol, msg, worst);
        *biggest = fmax(*biggest, fabs(analytic[i]));
        fd_checked[h->node.s.op]++; /* in range: vae_op_get found it */
    }
}

double tu_check_grads(tu_harness *h, const char *what, double tol)
{
    zero_grads(h);
    tu_backward(h);
    float *gin[VAE_MAX_INPUTS] = {0};
    for (int k = 0; k < h->n_in; k++)
        gin[k] = tu_dup(h->ins[k].grad, tu_input_count(h, k));
    float *gw = tu_dup(h->dw, h->node.s.n_params);

    double biggest = 0.0, worst = 0.0;
    char name[32];
    for (int k = 0; k < h->n_in; k++) {
        if (h->id_max[k] > 0) {
            for (int64_t i = 0; i < tu_input_count(h, k); i++)
                if (gin[k][i] != 0.0f)
                    fail_msg("%s: gradient %g into id input %d [%lld]", what,
                             (double)gin[k][i], k, (long long)i);
            continue;
        }
        if (k == 0)
            snprintf(name, sizeof name, "dL/dx");
        else
            snprintf(name, sizeof name, "dL/dx%d", k);
        check_block(h, gin[k], h->ins[k].val, tu_input_count(h, k), what, name,
                    tol, &biggest, &worst);
    }
    check_block(h, gw, h->w, h->node.s.n_params, what, "dL/dw", tol, &biggest,
                &worst);
    /* Two all-zero gradients would agree without testing anything. */
    assert_true(biggest > 0.05);
    for (int k = 0; k < h->n_in; k++)
        free(gin[k]);
    free(gw);
    return worst;
}

/* Per op code, 1 once tu_check_no_grads has passed. */
static int no_grads_checked[VAE_OP_COUNT_];

int tu_no_grads_checked(int32_t op)
{
    return op > 0 && op < VAE_OP_COUNT_ ? no_grads_checked[op] : 0;
}

void tu_check_no_grads(tu_harness *h, const char *what)
{
    if (h->node.s.n_params != 0)
        fail_msg("%s: %lld parameters: check them with tu_check_grads", what,
                 (long long)h->node.s.n_params);
    for (int k = 0; k < h->n_in; k++)
        if (h->id_max[k] <= 0)
            fail_msg("%s: input %d holds floats: check its gradient with "
                     "tu_check_grads", what, k);
    tu_rng rng;
    tu_seed(&rng, 98);
    float *before[VAE_MAX_INPUTS] = {0};
    for (int k = 0; k < h->n_in; k++) {
        tu_fill_uniform(&rng, h->ins[k].grad, tu_input_count(h, k), -2.0, 2.0);
        before[k] = tu_dup(h->ins[k].grad, tu_input_count(h, k));
    }
    tu_backward(h);
    for (int k = 0; k < h->n_in; k++) {
        for (int64_t i = 0; i < tu_input_count(h, k); i++)
            if (h->ins[k].grad[i] != before[k][i])
                fail_msg("%s: backward changed id input %d's gradient [%lld] "
                         "from %g to %g", what, k, (long long)i,
                         (double)before[k][i], (double)h->ins[k].grad[i]);
        free(before[k]);
    }
    no_grads_checked[h->node.s.op] = 1; /* in range: vae_op_get found it */
}

/* The n floats at got must equal base + delta (base NULL: 0). */
static void expect_sum(const float *got, const float *base, const float *delta,
                       int64_t n, double tol, const char *what)
{
    for (int64_t i = 0; i < n; i++)
        TU_ASSERT_CLOSE(got[i], (base ? (double)base[i] : 0.0) + delta[i], tol,
                        what);
}

/* backward must add into existing gradients (a node may feed several
 * consumers, and the model accumulates over calls), never overwrite. */
void tu_check_accumulates(tu_harness *h)
{
    const int64_t np = h->node.s.n_params;
    zero_grads(h);
    tu_backward(h);
    float *gin[VAE_MAX_INPUTS] = {0}, *base_in[VAE_MAX_INPUTS] = {0};
    for (int k = 0; k < h->n_in; k++)
        gin[k] = tu_dup(h->ins[k].grad, tu_input_count(h, k));
    float *gw = tu_dup(h->dw, np);

    tu_rng rng;
    tu_seed(&rng, 99);
    for (int k = 0; k < h->n_in; k++) {
        int64_t n = tu_input_count(h, k);
        base_in[k] = tu_alloc((size_t)n * sizeof(float));
        tu_fill_uniform(&rng, base_in[k], n, -2.0, 2.0);
        memcpy(h->ins[k].grad, base_in[k], (size_t)n * sizeof(float));
    }
    float *base_w = tu_alloc((size_t)np * sizeof(float));
    tu_fill_uniform(&rng, base_w, np, -2.0, 2.0);
    memcpy(h->dw, base_w, (size_t)np * sizeof(float));
    tu_backward(h);
    for (int k = 0; k < h->n_in; k++)
        expect_sum(h->ins[k].grad, base_in[k], gin[k], tu_input_count(h, k),
                   1e-5, "input grad accumulates");
    expect_sum(h->dw, base_w, gw, np, 1e-5, "param grad accumulates");

    /* A NULL input gradient (a graph input needs none) is skipped, and
     * every other gradient is still computed. */
    for (int null_k = 0; null_k < h->n_in; null_k++) {
        zero_grads(h);
        float *keep = h->ins[null_k].grad;
        h->ins[null_k].grad = NULL;
        tu_backward(h);
        h->ins[null_k].grad = keep;
        for (int k = 0; k < h->n_in; k++)
            if (k != null_k)
                expect_sum(h->ins[k].grad, NULL, gin[k], tu_input_count(h, k),
                           1e-6, "input grad, another input's grad NULL");
        expect_sum(h->dw, NULL, gw, np, 1e-6, "param grad, NULL input grad");
    }

    for (int k = 0; k < h->n_in; k++) {
        free(gin[k]);
        free(base_in[k]);
    }
    free(gw);
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

/* -batch * the bound elbo_grad optimises (the ELBO, or the importance-
 * weighted bound), with the same z draws every time. */
static double model_loss(vae_model *m, const float *x, int64_t batch,
                         uint64_t z_seed)
{
    double elbo;
    assert_int_equal(vae_model_set_seed(m, z_seed), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, x, batch, &elbo, NULL, NULL),
                     VAE_OK);
    return -(double)batch * elbo;
}

double tu_check_model_grads(vae_model *m, const float *x, int64_t batch,
                            uint64_t z_seed, float h, double tol)
{
    int64_t n = vae_model_num_params(m);
    float *p = vae_model_params(m);
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_set_seed(m, z_seed), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, x, batch, NULL, NULL, NULL),
                     VAE_OK);
    float *g = tu_dup(vae_model_grads(m), n);

    double biggest = 0.0, worst = 0.0;
    char msg[64];
    for (int64_t k = 0; k < n; k++) {
        float keep = p[k];
        p[k] = keep + h;
        float up = p[k];
        double lp = model_loss(m, x, batch, z_seed);
        p[k] = keep - h;
        float down = p[k];
        double lm = model_loss(m, x, batch, z_seed);
        p[k] = keep;
        snprintf(msg, sizeof msg, "dL/dp[%lld]", (long long)k);
        tu_expect_close(g[k], (lp - lm) / ((double)up - (double)down), tol,
                        msg, &worst);
        biggest = fmax(biggest, fabs(g[k]));
    }
    /* An all-zero gradient would agree without testing anything. */
    assert_true(biggest > 0.1);
    free(g);
    return worst;
}

/* Largest |a - b| / max(1, |b|) over n floats. */
static double max_rel_diff(const float *a, const float *b, int64_t n)
{
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]) / fmax(1.0, fabs(b[i])));
    return worst;
}

/* The gradient of elbo_grad with z_seed on a cleared buffer, copied. */
static float *grad_of(vae_model *m, const float *x, int64_t batch,
                      uint64_t z_seed)
{
    assert_int_equal(vae_model_zero_grad(m), VAE_OK);
    assert_int_equal(vae_model_set_seed(m, z_seed), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(m, x, batch, NULL, NULL, NULL),
                     VAE_OK);
    return tu_dup(vae_model_grads(m), vae_model_num_params(m));
}

void tu_check_out_chunks(vae_model *whole, vae_model *chunked, const float *x,
                         int64_t batch, int64_t chunk)
{
    const vae_node *o = &chunked->dec[chunked->n_dec - 1];
    assert_true(o->grad_in_val);
    assert_true(chunk >= 1 && chunk < batch);
    chunked->out_chunk_floats = chunk * o->s.size;
    int64_t n = vae_model_num_params(whole), D = vae_model_latent_dim(whole);
    int64_t d = vae_model_data_size(whole);
    assert_int_equal(vae_model_num_params(chunked), n);
    assert_memory_equal(vae_model_params(whole), vae_model_params(chunked),
                        (size_t)n * sizeof(float));

    /* The ELBO and its parts. */
    double e[2][3];
    vae_model *ms[2] = {whole, chunked};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(vae_model_set_seed(ms[i], 5), VAE_OK);
        assert_int_equal(vae_model_elbo(ms[i], x, batch, &e[i][0], &e[i][1],
                                        &e[i][2]), VAE_OK);
    }
    /* The chunked path ran: its output buffer holds `chunk` examples. */
    assert_int_equal(chunked->out_floats, chunk * o->s.size);
    assert_int_equal(whole->out_floats, batch * o->s.size);
    for (int j = 0; j < 3; j++)
        TU_ASSERT_CLOSE(e[1][j], e[0][j], 1e-5, "chunked ELBO term");

    /* The gradient, and elbo_grad adding to what the buffer holds. */
    float *gw = grad_of(whole, x, batch, 6), *gc = grad_of(chunked, x, batch, 6);
    assert_true(max_rel_diff(gc, gw, n) < 1e-5);
    assert_int_equal(vae_model_set_seed(chunked, 6), VAE_OK);
    assert_int_equal(vae_model_elbo_grad(chunked, x, batch, NULL, NULL, NULL),
                     VAE_OK);
    for (int64_t k = 0; k < n; k++)
        gc[k] *= 2.0f;
    assert_true(max_rel_diff(vae_model_grads(chunked), gc, n) < 1e-5);
    free(gw);
    free(gc);

    /* The importance-weighted objective (two passes over the chunks). */
    for (int i = 0; i < 2; i++)
        assert_int_equal(vae_model_set_train_samples(ms[i], 3), VAE_OK);
    gw = grad_of(whole, x, batch, 7);
    gc = grad_of(chunked, x, batch, 7);
    assert_true(max_rel_diff(gc, gw, n) < 1e-5);
    free(gw);
    free(gc);
    for (int i = 0; i < 2; i++)
        assert_int_equal(vae_model_set_train_samples(ms[i], 1), VAE_OK);

    /* log p(x|z), the IWAE estimate and reconstructions. */
    float *z = tu_alloc((size_t)(batch * D) * sizeof(float));
    tu_rng r;
    tu_seed(&r, 8);
    for (int64_t i = 0; i < batch * D; i++)
        z[i] = (float)tu_normal(&r);
    double *lp[2], *iw[2];
    float *rec[2];
    for (int i = 0; i < 2; i++) {
        lp[i] = tu_alloc((size_t)batch * sizeof(double));
        iw[i] = tu_alloc((size_t)batch * sizeof(double));
        rec[i] = tu_alloc((size_t)(batch * d) * sizeof(float));
        assert_int_equal(vae_model_log_likelihood(ms[i], z, x, batch, lp[i]),
                         VAE_OK);
        assert_int_equal(vae_model_set_seed(ms[i], 9), VAE_OK);
        assert_int_equal(vae_model_iwae(ms[i], x, batch, 4, iw[i]), VAE_OK);
        assert_int_equal(vae_model_reconstruct(ms[i], x, batch, rec[i]),
                         VAE_OK);
    }
    for (int64_t b = 0; b < batch; b++) {
        TU_ASSERT_CLOSE(lp[1][b], lp[0][b], 1e-5, "chunked log p(x|z)");
        TU_ASSERT_CLOSE(iw[1][b], iw[0][b], 1e-5, "chunked IWAE estimate");
    }
    assert_true(max_rel_diff(rec[1], rec[0], batch * d) < 1e-5);
    for (int i = 0; i < 2; i++) {
        free(lp[i]);
        free(iw[i]);
        free(rec[i]);
    }
    free(z);
}
