/* net.c - running the model's two nets over a batch: the workspace and
 * where each node's buffers lie in it, forward and backward over a net,
 * the decoder output a chunk of examples at a time, and the checks and
 * copies that bring a batch of data in. The objectives (objective.c) and
 * inference (infer.c) are built from these steps. */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "hugepages.h"
#include "likelihood.h"
#include "net.h"
#include "ops/ops.h"
#include "pool.h"
#include "sgemm_avx512.h"
#include "simd.h"

/* ---- Laying nets out in the workspace ----------------------------------- */

/* Elements per example of the values in the arena: all but those of a
 * grad_in_val output (a buffer of its own, place_all) and of nodes that
 * compute over their input's (val_in_input). */
static int64_t val_floats(const vae_node *nodes, int32_t n)
{
    int64_t total = 0;
    for (int32_t i = 0; i < n; i++)
        total +=
            nodes[i].grad_in_val || nodes[i].val_in_input ? 0 : nodes[i].s.size;
    return total;
}

/* 1 when node i has a gradient buffer of its own in the arena: it is
 * first_grad or later, and its gradient is neither its value (grad_in_val)
 * nor its consumer's (grad_in_consumer). */
static int own_grad(const vae_node *nodes, int32_t first_grad, int32_t i)
{
    return i >= first_grad && !nodes[i].grad_in_val &&
           !nodes[i].grad_in_consumer;
}

/* Elements per example of the gradients in the arena. */
static int64_t grad_floats(const vae_node *nodes, int32_t first_grad, int32_t n)
{
    int64_t total = 0;
    for (int32_t i = 0; i < n; i++)
        total += own_grad(nodes, first_grad, i) ? nodes[i].s.size : 0;
    return total;
}

static int64_t op_saved(const vae_node_spec *s)
{
    const vae_op *op = vae_op_get(s->op);
    return op->saved ? op->saved(s) : 0;
}

static int64_t op_state(const vae_node_spec *s)
{
    const vae_op *op = vae_op_get(s->op);
    return op->state ? op->state(s) : 0;
}

/* Elements per example of a net's values, gradients, saved activations and
 * carried state. */
int64_t vae_net_layout_floats(const vae_node *nodes, int32_t n,
                              int32_t first_grad)
{
    int64_t total = val_floats(nodes, n) + grad_floats(nodes, first_grad, n);
    for (int32_t i = 0; i < n; i++)
        total += op_saved(&nodes[i].s) + op_state(&nodes[i].s);
    return total;
}

int64_t vae_net_scratch(const vae_node *nodes, int32_t n, int64_t batch,
                        int32_t slots)
{
    int64_t most = 0;
    for (int32_t i = 0; i < n; i++) {
        const vae_op *op = vae_op_get(nodes[i].s.op);
        int64_t need =
            op->scratch ? op->scratch(&nodes[i].s, batch, slots) : 0;
        most = need > most ? need : most;
    }
    return most;
}

/* Points each node's buffers into the arena: a net's values, then its
 * gradients from node first_grad on (earlier nodes get none), contiguous, so
 * one memset clears a net's gradients; then saved activations and state.
 * Nodes with scratch share the region at `scratch`. val_in_input nodes
 * use their input's values, grad_in_consumer nodes their consumer's
 * gradient; grad_in_val nodes are left to the caller. */
float *vae_place_nodes(vae_node *nodes, int32_t n, int32_t first_grad, float *p,
                       int64_t batch, float *scratch, int32_t slots,
                       const vae_run *run)
{
    for (int32_t i = 0; i < n; i++) {
        int own = !nodes[i].grad_in_val && !nodes[i].val_in_input;
        nodes[i].val = nodes[i].val_in_input ? nodes[nodes[i].s.inputs[0]].val
                       : own                 ? p
                                             : NULL;
        p += own ? nodes[i].s.size * batch : 0;
        nodes[i].scratch = vae_op_get(nodes[i].s.op)->scratch ? scratch : NULL;
        nodes[i].slots = slots;
        nodes[i].run = run;
    }
    for (int32_t i = 0; i < n; i++) {
        int own = own_grad(nodes, first_grad, i);
        nodes[i].grad = own ? p : NULL;
        p += own ? nodes[i].s.size * batch : 0;
    }
    /* Last to first: in a chain of in-place nodes (an activation, then a
     * reshape) each input takes its consumer's gradient once that one has
     * its own. */
    for (int32_t i = n - 1; i >= first_grad; i--)
        if (nodes[i].val_in_input) {
            vae_node *in = &nodes[nodes[i].s.inputs[0]];
            if (in->grad_in_consumer && in - nodes >= first_grad)
                in->grad = nodes[i].grad;
        }
    for (int32_t i = 0; i < n; i++) {
        int64_t saved = op_saved(&nodes[i].s), state = op_state(&nodes[i].s);
        nodes[i].saved = saved ? p : NULL;
        p += saved * batch;
        nodes[i].state = state ? p : NULL;
        p += state * batch;
    }
    return p;
}

static int64_t workspace_per_example(const vae_model *m)
{
    return vae_net_layout_floats(m->enc, m->n_enc, VAE_ENC_FIRST_GRAD) +
           vae_net_layout_floats(m->dec, m->n_dec, VAE_DEC_FIRST_GRAD);
}

/* The decoder's output node. Only it can be grad_in_val (then it is the
 * decoder's last node), so dec_out(m)->grad_in_val says whether the output
 * has a buffer of its own and goes through in chunks. */
static vae_node *dec_out(const vae_model *m)
{
    return &m->dec[m->dec_graph->output];
}

/* Examples per output chunk for a batch of `rows`: all of them unless the
 * output is grad_in_val and larger than m->out_chunk_floats. */
int64_t vae_out_chunk(const vae_model *m, int64_t rows)
{
    const vae_node *o = dec_out(m);
    if (!o->grad_in_val)
        return rows;
    int64_t c = m->out_chunk_floats / o->s.size;
    return c < 1 ? 1 : c < rows ? c : rows;
}

/* Lays both nets out in the workspace for `batch`: a grad_in_val output's
 * buffer first, then the nets, then the shared scratch region. */
static void place_all(vae_model *m, int64_t batch)
{
    float *nets = m->work + m->out_floats;
    float *scratch = nets + workspace_per_example(m) * batch;
    float *p = vae_place_nodes(m->enc, m->n_enc, VAE_ENC_FIRST_GRAD, nets,
                               batch, scratch, m->cap_slots, &m->run);
    vae_place_nodes(m->dec, m->n_dec, VAE_DEC_FIRST_GRAD, p, batch, scratch,
                    m->cap_slots, &m->run);
    vae_node *o = dec_out(m);
    if (o->grad_in_val)
        o->val = o->grad = m->work;
}

/* Makes the workspace hold `batch` examples and lays the nodes out for that
 * batch (so each net's buffers stay contiguous whatever the batch). Allocates
 * only when the batch is larger than any before, or the pool has more
 * threads than ever before (ops' scratch has a part per thread), so
 * steady-state steps never allocate. On failure the old workspace is
 * kept. */
int32_t vae_ensure_workspace(vae_model *m, int64_t batch)
{
    if (!vae_sgemm_avx512_reserve())
        return vae_model_fail(m, VAE_ERR_NOMEM,
                              "out of memory for the matrix products' "
                              "packing buffer");
    int32_t slots = vae_pool_threads();
    if (batch <= m->cap_batch && slots <= m->cap_slots) {
        place_all(m, batch);
        return VAE_OK;
    }
    int64_t used = batch;
    batch = batch > m->cap_batch ? batch : m->cap_batch;
    slots = slots > m->cap_slots ? slots : m->cap_slots;
    int64_t per_example = workspace_per_example(m);
    if (per_example > 0 && batch > (INT64_MAX / 16) / per_example)
        return vae_model_fail(m, VAE_ERR_NOMEM, "batch %lld is too large",
                              (long long)batch);
    int64_t s_enc = vae_net_scratch(m->enc, m->n_enc, batch, slots);
    int64_t s_dec = vae_net_scratch(m->dec, m->n_dec, batch, slots);
    const vae_node *o = dec_out(m);
    int64_t chunk = vae_out_chunk(m, batch);
    int64_t out_floats = o->grad_in_val ? chunk * o->s.size : 0;
    int64_t floats =
        out_floats + per_example * batch + (s_enc > s_dec ? s_enc : s_dec);
    int split = chunk < batch;
    float *work = vae_malloc((size_t)(floats ? floats : 1) * sizeof(float));
    float *eps = vae_malloc((size_t)(batch * m->latent) * sizeof(float));
    double *recon = vae_malloc((size_t)batch * sizeof(double));
    double *kl_b = vae_malloc((size_t)batch * sizeof(double));
    float *out_dw = split && !m->out_dw
                        ? vae_malloc((size_t)o->s.n_params * sizeof(float))
                        : NULL;
    if (!work || !eps || !recon || !kl_b || (split && !m->out_dw && !out_dw)) {
        free(work);
        free(eps);
        free(recon);
        free(kl_b);
        free(out_dw);
        return vae_model_fail(m, VAE_ERR_NOMEM,
                              "out of memory for a batch of %lld",
                              (long long)batch);
    }
    vae_advise_hugepages(work, (size_t)floats * sizeof(float));
    free(m->work);
    free(m->eps);
    free(m->recon_b);
    free(m->kl_b);
    if (out_dw)
        m->out_dw = out_dw;
    m->out_floats = out_floats;
    m->work = work;
    m->eps = eps;
    m->recon_b = recon;
    m->kl_b = kl_b;
    m->cap_batch = batch;
    m->cap_slots = slots;
    place_all(m, used);
    return VAE_OK;
}

/* ---- Forward and backward over a net ------------------------------------ */

void vae_net_forward(vae_node *nodes, int32_t n, const float *params,
                     int64_t batch)
{
    for (int32_t i = 1; i < n; i++) {
        vae_node *in[VAE_MAX_INPUTS];
        for (int32_t k = 0; k < nodes[i].s.n_inputs; k++)
            in[k] = &nodes[nodes[i].s.inputs[k]];
        vae_op_get(nodes[i].s.op)
            ->forward(&nodes[i], in, params + nodes[i].param_off, batch);
    }
}

/* Expects the gradients of the net's results already in place. */
void vae_net_backward(vae_node *nodes, int32_t n, const float *params,
                      float *grads, int64_t batch)
{
    for (int32_t i = n - 1; i >= 1; i--) {
        vae_node *in[VAE_MAX_INPUTS];
        for (int32_t k = 0; k < nodes[i].s.n_inputs; k++)
            in[k] = &nodes[nodes[i].s.inputs[k]];
        vae_op_get(nodes[i].s.op)
            ->backward(&nodes[i], in, params + nodes[i].param_off,
                       grads + nodes[i].param_off, batch);
    }
}

/* batch: the one the nets are laid out for (vae_ensure_workspace). */
void vae_net_zero_grads(vae_node *nodes, int32_t n, int32_t first_grad,
                        int64_t batch)
{
    /* The gradients follow the values (vae_place_nodes); megabytes of
     * them, cleared by the worker pool's threads together. */
    vae_parallel_zero(nodes[0].val + val_floats(nodes, n) * batch,
                      grad_floats(nodes, first_grad, n) * batch);
}

/* ---- The decoder and its output, a chunk of examples at a time ---------- */

/* Runs the output node's forward (dw NULL) or backward (adding its
 * parameter gradient into dw) on examples [b0, b0 + nb): the node's own
 * buffer holds those examples, its inputs are seen from example b0 on. */
static void out_call(vae_model *m, int64_t b0, int64_t nb, float *dw)
{
    vae_node *o = dec_out(m);
    vae_node view[VAE_MAX_INPUTS], *in[VAE_MAX_INPUTS];
    for (int32_t k = 0; k < o->s.n_inputs; k++) {
        view[k] = m->dec[o->s.inputs[k]];
        view[k].val += b0 * view[k].s.size;
        if (view[k].grad)
            view[k].grad += b0 * view[k].s.size;
        in[k] = &view[k];
    }
    vae_node self = *o;
    if (self.saved)
        self.saved += b0 * op_saved(&o->s);
    const vae_op *op = vae_op_get(o->s.op);
    if (dw)
        op->backward(&self, in, m->params + o->param_off, dw, nb);
    else
        op->forward(&self, in, m->params + o->param_off, nb);
}

/* The decoder forward for `rows`, except a grad_in_val output
 * (vae_out_rows). */
void vae_dec_forward(vae_model *m, int64_t rows)
{
    vae_net_forward(m->dec, m->n_dec - dec_out(m)->grad_in_val, m->params,
                    rows);
}

/* The decoder output of examples [b0, b0 + *nb), the next chunk of `rows`
 * after vae_dec_forward; its gradient, when wanted, goes to dec_out(m)->grad,
 * which then holds the same examples. */
float *vae_out_rows(vae_model *m, int64_t b0, int64_t rows, int64_t *nb)
{
    int64_t c = vae_out_chunk(m, rows);
    *nb = rows - b0 < c ? rows - b0 : c;
    if (dec_out(m)->grad_in_val)
        out_call(m, b0, *nb, NULL);
    return dec_out(m)->val; /* without grad_in_val, one chunk: b0 is 0 */
}

static void scale_rows(float *g, int64_t rows, int64_t size,
                       const double *weight)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < size; i++)
            g[r * size + i] *= (float)weight[r];
}

/* logp[b] = log p(x_b | decoder output b) for `rows` examples after
 * vae_dec_forward, chunk by chunk, plus what `mode` asks for. */
void vae_out_likelihood(vae_model *m, const float *x, int64_t rows, int mode,
                        double *logp, const double *weight)
{
    vae_node *o = dec_out(m);
    float *dw =
        mode == VAE_OUT_GRAD_BACKWARD ? m->out_dw : m->grads + o->param_off;
    if (mode == VAE_OUT_GRAD_BACKWARD)
        memset(dw, 0, (size_t)o->s.n_params * sizeof(float));
    for (int64_t b0 = 0, nb; b0 < rows; b0 += nb) {
        const float *out = vae_out_rows(m, b0, rows, &nb);
        vae_likelihood(m->likelihood, out, x + b0 * m->data_size, nb,
                       m->data_size, m->classes, m->obs_logvar, logp + b0,
                       mode == VAE_OUT_SCORE ? NULL : o->grad);
        if (mode == VAE_OUT_WEIGHTED_BACKWARD)
            scale_rows(o->grad, nb, o->s.size, weight + b0);
        if (mode == VAE_OUT_GRAD_BACKWARD || mode == VAE_OUT_WEIGHTED_BACKWARD)
            out_call(m, b0, nb, dw);
    }
}

/* After vae_out_likelihood(VAE_OUT_GRAD): scales each example's gradient by
 * its weight (if any) and runs the output's backward when vae_dec_backward
 * does not (grad_in_val). */
void vae_out_backward_kept(vae_model *m, int64_t rows, const double *weight)
{
    vae_node *o = dec_out(m);
    if (weight)
        scale_rows(o->grad, rows, o->s.size, weight);
    if (o->grad_in_val)
        out_call(m, 0, rows, m->grads + o->param_off);
}

/* After vae_out_likelihood(VAE_OUT_GRAD_BACKWARD): the output's parameter
 * gradient joins the others. */
static void add_dw_range(void *ctx, int64_t lo, int64_t hi)
{
    vae_model *m = ctx;
    float *g = m->grads + dec_out(m)->param_off;
    for (int64_t i = lo; i < hi; i++)
        g[i] += m->out_dw[i];
}

void vae_out_add_dw(vae_model *m)
{
    vae_parallel_ranges(dec_out(m)->s.n_params, VAE_POOL_GRAIN, add_dw_range,
                        m);
}

/* The decoder's backward, but for a grad_in_val output (done above). */
void vae_dec_backward(vae_model *m, int64_t rows)
{
    vae_net_backward(m->dec, m->n_dec - dec_out(m)->grad_in_val, m->params,
                     m->grads, rows);
}

/* ---- Bringing a batch in: its size, its values, its data ---------------- */

static int64_t most_rows(const vae_node *nodes, int32_t n)
{
    int64_t most = 1;
    for (int32_t i = 0; i < n; i++) {
        int64_t rows = nodes[i].s.size / nodes[i].s.shape[nodes[i].s.rank - 1];
        most = rows > most ? rows : most;
    }
    return most;
}

int64_t vae_model_max_batch(const vae_model *m)
{
    int64_t enc = most_rows(m->enc, m->n_enc),
            dec = most_rows(m->dec, m->n_dec);
    return INT32_MAX / (enc > dec ? enc : dec);
}

int32_t vae_check_batch(vae_model *m, const void *p, int64_t batch,
                        const char *what)
{
    if (!p)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "%s: buffer is NULL",
                              what);
    if (batch < 1 || batch > vae_model_max_batch(m))
        return vae_model_fail(m, VAE_ERR_RANGE, "%s: batch %lld not in 1..%lld",
                              what, (long long)batch,
                              (long long)vae_model_max_batch(m));
    return vae_ensure_workspace(m, batch);
}

/* 1 when lo <= v[i] <= hi for every i (so a NaN fails): one branch-free
 * pass. Within +-FLT_MAX is finite. */
VAE_CLONES
static int all_within(const float *v, int64_t n, float lo, float hi)
{
    int ok = 1;
    for (int64_t i = 0; i < n; i++)
        ok &= (v[i] >= lo) & (v[i] <= hi);
    return ok;
}

/* all_within over the worker pool: the verdicts of the ranges combine by
 * AND, whatever the split. */
typedef struct within_loop {
    const float *v;
    float lo, hi;
    atomic_int ok;
} within_loop;

static void within_range(void *ctx, int64_t lo, int64_t hi)
{
    within_loop *l = ctx;
    if (!all_within(l->v + lo, hi - lo, l->lo, l->hi))
        atomic_store_explicit(&l->ok, 0, memory_order_relaxed);
}

static int values_within(const float *v, int64_t n, float lo, float hi)
{
    within_loop l = {.v = v, .lo = lo, .hi = hi};
    atomic_init(&l.ok, 1);
    vae_parallel_ranges(n, VAE_POOL_GRAIN, within_range, &l);
    return atomic_load(&l.ok);
}

int32_t vae_check_finite(vae_model *m, const float *v, int64_t n,
                         const char *what)
{
    /* A branch-free pass (it vectorises: this runs over every gradient of
     * every step); the element is looked for only once one is known bad. */
    int ok = values_within(v, n, -FLT_MAX, FLT_MAX);
    for (int64_t i = 0; !ok && i < n; i++)
        if (!isfinite(v[i]))
            return vae_model_fail(m, VAE_ERR_NONFINITE,
                                  "%s: element %lld is not finite", what,
                                  (long long)i);
    return VAE_OK;
}

/* As vae_check_finite, for per-example results in double. */
int32_t vae_check_finite_results(vae_model *m, const double *v, int64_t batch,
                                 const char *what)
{
    for (int64_t b = 0; b < batch; b++)
        if (!isfinite(v[b]))
            return vae_model_fail(m, VAE_ERR_NONFINITE,
                                  "%s of example %lld is not finite", what,
                                  (long long)b);
    return VAE_OK;
}

/* Gives a teacher-forced decoder its view of the data. */
void vae_set_decoder_data(vae_model *m, const float *x, int64_t batch)
{
    if (m->dec_data >= 0)
        memcpy(m->dec[m->dec_data].val, x,
               (size_t)(batch * m->data_size) * sizeof(float));
}

/* Copies x into the encoder input after checking it suits the likelihood. */
int32_t vae_load_data(vae_model *m, const float *x, int64_t batch)
{
    int64_t n = batch * m->data_size;
    /* Bernoulli targets in [0, 1] are finite too, so one vectorised pass
     * over the pool clears the usual batch; the checks below, one element
     * at a time, only run to name what is wrong. */
    int clear = m->likelihood == VAE_LIKELIHOOD_BERNOULLI &&
                values_within(x, n, 0.0f, 1.0f);
    int32_t st = clear ? VAE_OK : vae_check_finite(m, x, n, "data");
    if (st != VAE_OK)
        return st;
    if (m->likelihood == VAE_LIKELIHOOD_BERNOULLI && !clear)
        for (int64_t i = 0; i < n; i++)
            if (x[i] < 0.0f || x[i] > 1.0f)
                return vae_model_fail(m, VAE_ERR_RANGE,
                                      "data: element %lld is %g; Bernoulli "
                                      "targets must be in [0, 1]",
                                      (long long)i, (double)x[i]);
    if (m->likelihood == VAE_LIKELIHOOD_CATEGORICAL)
        for (int64_t i = 0; i < n; i++)
            if (!(x[i] >= 0.0f && x[i] < (float)m->classes) ||
                x[i] != floorf(x[i]))
                return vae_model_fail(m, VAE_ERR_RANGE,
                                      "data: element %lld is %g, not a token "
                                      "id in 0..%lld", (long long)i,
                                      (double)x[i], (long long)m->classes - 1);
    memcpy(m->enc[0].val, x, (size_t)n * sizeof(float));
    vae_set_decoder_data(m, x, batch);
    return VAE_OK;
}

