/* model.c - the VAE: encoder + Gaussian head, reparameterised sample,
 * decoder, likelihood and KL; forward and backward over one flat parameter
 * buffer. The data flow, top to bottom:
 *
 *   x -> encoder nodes -> head [mu | logvar] -> z = mu + exp(logvar/2) eps
 *     -> decoder nodes -> likelihood(x | output);  KL(mu, logvar) analytic
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kl.h"
#include "likelihood.h"
#include "model.h"
#include "ops/ops.h"
#include "simd.h"

int32_t vae_model_fail(vae_model *m, int32_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
    return status;
}

VAE_API const char *vae_model_last_error(const vae_model *m)
{
    return m ? m->err : "model is NULL";
}

/* A grad_in_val decoder output larger than this (floats over the batch) is
 * computed, scored and differentiated a chunk of examples at a time: a text
 * model's logits (batch x T x V floats, 128 MB for 32 x 100 x 10000) then
 * never exist for the whole batch. */
#define OUT_CHUNK_FLOATS ((int64_t)1 << 23)

/* ---- Construction ------------------------------------------------------ */

/* Run-time nodes for the specs of g, parameters placed from *off onwards. */
static int32_t make_nodes(const vae_graph *g, vae_node **out, int64_t *off)
{
    vae_node *nodes = vae_calloc((size_t)g->n, sizeof *nodes);
    if (!nodes)
        return VAE_ERR_NOMEM;
    for (int32_t i = 0; i < g->n; i++) {
        nodes[i].s = g->nodes[i];
        nodes[i].param_off = *off;
        *off += g->nodes[i].n_params;
    }
    *out = nodes;
    return VAE_OK;
}

/* An activation may compute over its input's values, saving batch x size
 * floats (a conv model's relus: 10 MB at batch 128), when nothing else
 * reads them: the input has no other consumer, is not the net's output,
 * is not the caller's data (a source node: input or data), and its own
 * backward does not read its value. */
static void plan_in_place(vae_node *nodes, int32_t n, int32_t output)
{
    for (int32_t i = 1; i < n; i++) {
        int32_t j = nodes[i].s.inputs[0], uses = 0;
        if (!vae_op_get(nodes[i].s.op)->forward_in_place || j == output ||
            nodes[j].s.n_inputs == 0 ||
            vae_op_get(nodes[j].s.op)->backward_reads_val ||
            nodes[j].grad_in_val)
            continue;
        for (int32_t k = 1; k < n; k++)
            for (int32_t q = 0; q < nodes[k].s.n_inputs; q++)
                uses += nodes[k].s.inputs[q] == j;
        nodes[i].val_in_input = uses == 1;
    }
}

static void init_params(vae_node *nodes, int32_t n, float *params, vae_rng *r)
{
    for (int32_t i = 0; i < n; i++) {
        const vae_op *op = vae_op_get(nodes[i].s.op);
        if (op->init)
            op->init(&nodes[i].s, params + nodes[i].param_off, r);
    }
}

VAE_API void vae_model_free(vae_model *m)
{
    if (!m)
        return;
    vae_graph_free(m->enc_graph);
    vae_graph_free(m->dec_graph);
    free(m->params);
    free(m->grads);
    free(m->enc);
    free(m->dec);
    free(m->work);
    free(m->out_dw);
    free(m->eps);
    free(m->kl_dim);
    free(m->recon_b);
    free(m->kl_b);
    free(m->rows_x);
    free(m->meta);
    free(m);
}

/* The one data node of a decoder (-1 if none); the encoder may have none:
 * its input already is the data. Nor may it borrow parameters: there is
 * nothing before it to borrow from. */
static int32_t check_data_nodes(const vae_graph *enc, const vae_graph *dec,
                                int32_t *dec_data, char *err, size_t errlen)
{
    for (int32_t i = 0; i < enc->n; i++) {
        const vae_node_spec *s = &enc->nodes[i];
        const vae_op *op = vae_op_get(s->op);
        int borrows = op->borrows && op->borrows(s);
        if (op->reads_data || borrows) {
            vae_set_err(err, errlen, "encoder node %d: a %s%s belongs in "
                        "the decoder", (int)i, borrows ? "shared " : "",
                        op->reads_data ? "data node" : op->name);
            return VAE_ERR_GRAPH;
        }
    }
    const vae_node_spec *x = &enc->nodes[0];
    *dec_data = -1;
    for (int32_t i = 0; i < dec->n; i++) {
        const vae_node_spec *s = &dec->nodes[i];
        if (!vae_op_get(s->op)->reads_data)
            continue;
        if (*dec_data >= 0) {
            vae_set_err(err, errlen, "decoder has two data nodes (%d and %d)",
                        (int)*dec_data, (int)i);
            return VAE_ERR_GRAPH;
        }
        int same = s->rank == x->rank;
        for (int32_t k = 0; same && k < s->rank; k++)
            same = s->shape[k] == x->shape[k];
        if (!same) {
            vae_set_err(err, errlen, "decoder data node %d must have the "
                        "encoder input's shape", (int)i);
            return VAE_ERR_SHAPE;
        }
        *dec_data = i;
    }
    return VAE_OK;
}

/* Checks the two graphs fit together and with the likelihood; returns the
 * data size and (categorical) the number of classes. */
static int32_t check_graphs(const vae_graph *enc, const vae_graph *dec,
                            int64_t latent, int32_t likelihood,
                            int64_t *data_size, int64_t *classes,
                            int32_t *dec_data, char *err, size_t errlen)
{
    int32_t st = vae_graph_check_complete(enc, "encoder", err, errlen);
    if (st == VAE_OK)
        st = vae_graph_check_complete(dec, "decoder", err, errlen);
    if (st == VAE_OK)
        st = check_data_nodes(enc, dec, dec_data, err, errlen);
    if (st != VAE_OK)
        return st;
    if (latent < 1 || latent > ((int64_t)1 << 24)) {
        vae_set_err(err, errlen, "latent_dim %lld not in 1..2^24",
                    (long long)latent);
        return VAE_ERR_RANGE;
    }
    /* The head is dense on the last axis; a vector keeps one mu/logvar row
     * per example. */
    const vae_node_spec *feat = &enc->nodes[enc->output];
    if (feat->rank != 1) {
        vae_set_err(err, errlen, "encoder output must be a vector (rank 1), "
                    "not rank %d", (int)feat->rank);
        return VAE_ERR_SHAPE;
    }
    int64_t d = enc->nodes[0].size;
    const vae_node_spec *out = &dec->nodes[dec->output];
    *classes = 0;
    if (likelihood == VAE_LIKELIHOOD_CATEGORICAL) {
        if (enc->nodes[0].rank != 1 || out->rank != 2 || out->shape[0] != d ||
            out->shape[1] < 2 || out->shape[1] > ((int64_t)1 << 24)) {
            vae_set_err(err, errlen, "categorical likelihood: data must be "
                        "[T] ids and the decoder output [T, V] logits with "
                        "2 <= V <= 2^24 (T = %lld)", (long long)d);
            return VAE_ERR_SHAPE;
        }
        *classes = out->shape[1];
    }
    int64_t want = vae_likelihood_out_size(likelihood, d, *classes);
    if (want < 0) {
        vae_set_err(err, errlen, "unknown likelihood %d", (int)likelihood);
        return VAE_ERR_INVALID_ARG;
    }
    if (dec->nodes[0].size != latent) {
        vae_set_err(err, errlen, "decoder input has %lld elements, latent_dim "
                    "is %lld", (long long)dec->nodes[0].size, (long long)latent);
        return VAE_ERR_SHAPE;
    }
    if (out->size != want) {
        vae_set_err(err, errlen, "decoder output has %lld elements; this "
                    "likelihood needs %lld for %lld-element data",
                    (long long)out->size, (long long)want, (long long)d);
        return VAE_ERR_SHAPE;
    }
    *data_size = d;
    return VAE_OK;
}

/* Points each decoder node that borrows parameters (a shared embedding) at
 * those of the encoder's first node of the same op, which must be able to
 * lend them. Both nodes then read and accumulate into one slice of the
 * parameter and gradient buffers. */
static int32_t share_params(vae_model *m, char *err, size_t errlen)
{
    for (int32_t i = 0; i < m->n_dec; i++) {
        vae_node *n = &m->dec[i];
        const vae_op *op = vae_op_get(n->s.op);
        if (!op->borrows || !op->borrows(&n->s))
            continue;
        const vae_node *owner = NULL;
        for (int32_t k = 0; k < m->n_enc && !owner; k++)
            if (m->enc[k].s.op == n->s.op)
                owner = &m->enc[k];
        char why[VAE_ERRLEN];
        if (!op->lends_to(owner ? &owner->s : NULL, &n->s, why, sizeof why)) {
            vae_set_err(err, errlen, "decoder node %d shares the encoder's "
                        "%s, but %s", (int)i, op->name, why);
            return VAE_ERR_GRAPH;
        }
        n->param_off = owner->param_off;
    }
    return VAE_OK;
}

VAE_API int32_t vae_model_new(const vae_graph *encoder, const vae_graph *decoder,
                              int64_t latent_dim, int32_t likelihood,
                              uint64_t seed, vae_model **out,
                              char *err, size_t errlen)
{
    if (!out) {
        vae_set_err(err, errlen, "out is NULL");
        return VAE_ERR_INVALID_ARG;
    }
    *out = NULL;
    int64_t data_size = 0, classes = 0;
    int32_t dec_data = -1;
    int32_t st = check_graphs(encoder, decoder, latent_dim, likelihood,
                              &data_size, &classes, &dec_data, err, errlen);
    if (st != VAE_OK)
        return st;

    vae_model *m = vae_calloc(1, sizeof *m);
    vae_graph *run_enc = NULL;
    if (!m)
        goto nomem;
    vae_busy_init(&m->busy);
    m->latent = latent_dim;
    m->data_size = data_size;
    m->likelihood = likelihood;
    m->classes = classes;
    m->dec_data = dec_data;
    m->beta = 1.0;
    m->train_samples = 1;
    if (vae_graph_copy(encoder, &m->enc_graph) != VAE_OK ||
        vae_graph_copy(decoder, &m->dec_graph) != VAE_OK ||
        vae_graph_copy(encoder, &run_enc) != VAE_OK)
        goto nomem;
    /* The head is an ordinary dense node appended to the encoder. */
    st = vae_graph_dense(run_enc, encoder->output, 2 * latent_dim);
    if (st < 0) {
        vae_set_err(err, errlen, "Gaussian head: %s", run_enc->err);
        vae_graph_free(run_enc);
        vae_model_free(m);
        return st;
    }
    int64_t off = 0;
    if (make_nodes(run_enc, &m->enc, &off) != VAE_OK)
        goto nomem;
    m->n_enc = run_enc->n;
    if (make_nodes(decoder, &m->dec, &off) != VAE_OK)
        goto nomem;
    m->n_dec = decoder->n;
    /* The likelihood writes its gradient over the decoder output, which
     * only the output's own backward could still want to read (the last
     * node has no consumers), and the output may go through in chunks
     * (out_chunk), some computed twice: so no op that reads its value
     * back, carries state or draws random numbers. */
    const vae_op *out_op = vae_op_get(m->dec[m->n_dec - 1].s.op);
    m->dec[m->n_dec - 1].grad_in_val = m->n_dec > 1 &&
                                       decoder->output == m->n_dec - 1 &&
                                       !out_op->backward_reads_val &&
                                       !out_op->state &&
                                       !out_op->draws_random;
    m->out_chunk_floats = OUT_CHUNK_FLOATS;
    plan_in_place(m->enc, m->n_enc, m->n_enc - 1);
    plan_in_place(m->dec, m->n_dec, decoder->output);
    vae_graph_free(run_enc);
    run_enc = NULL;
    st = share_params(m, err, errlen);
    if (st != VAE_OK) {
        vae_model_free(m);
        return st;
    }

    m->n_params = off;
    m->params = vae_calloc((size_t)(off ? off : 1), sizeof(float));
    m->grads = vae_calloc((size_t)(off ? off : 1), sizeof(float));
    m->kl_dim = vae_calloc((size_t)latent_dim, sizeof(double));
    if (!m->params || !m->grads || !m->kl_dim)
        goto nomem;
    vae_rng_seed(&m->rng, seed);
    m->run.rng = &m->rng;
    init_params(m->enc, m->n_enc, m->params, &m->rng);
    init_params(m->dec, m->n_dec, m->params, &m->rng);
    *out = m;
    return VAE_OK;

nomem:
    vae_graph_free(run_enc);
    vae_model_free(m);
    vae_set_err(err, errlen, "out of memory building the model");
    return VAE_ERR_NOMEM;
}

/* ---- Settings and buffers ---------------------------------------------- */

VAE_API int32_t vae_model_set_seed(vae_model *m, uint64_t seed)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    vae_rng_seed(&m->rng, seed);
    return VAE_OK;
}

VAE_API int32_t vae_model_set_beta(vae_model *m, double beta)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!(beta >= 0.0 && beta <= 1e6))
        return vae_model_fail(m, VAE_ERR_RANGE, "beta %g not in [0, 1e6]", beta);
    m->beta = beta;
    return VAE_OK;
}

VAE_API int32_t vae_model_set_kl_anneal(vae_model *m, int32_t kind,
                                        int64_t steps)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (kind < VAE_ANNEAL_NONE || kind > VAE_ANNEAL_SIGMOID)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "kl_anneal: unknown schedule %d", (int)kind);
    if (steps < 1)
        return vae_model_fail(m, VAE_ERR_RANGE, "kl_anneal: steps %lld < 1",
                              (long long)steps);
    m->anneal_kind = kind;
    m->anneal_steps = steps;
    return VAE_OK;
}

VAE_API int32_t vae_model_set_free_bits(vae_model *m, double nats)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!(nats >= 0.0 && nats <= 1e6))
        return vae_model_fail(m, VAE_ERR_RANGE, "free bits %g not in [0, 1e6]",
                              nats);
    m->free_bits = nats;
    return VAE_OK;
}

VAE_API int32_t vae_model_set_train_samples(vae_model *m, int64_t k)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (k < 1 || k > VAE_TRAIN_SAMPLES_MAX)
        return vae_model_fail(m, VAE_ERR_RANGE,
                              "train samples %lld not in 1..%d", (long long)k,
                              VAE_TRAIN_SAMPLES_MAX);
    m->train_samples = k;
    return VAE_OK;
}

VAE_API int32_t vae_model_set_obs_logvar(vae_model *m, double logvar)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!(logvar >= VAE_LOGVAR_MIN && logvar <= VAE_LOGVAR_MAX))
        return vae_model_fail(m, VAE_ERR_RANGE, "obs logvar %g not in [%g, %g]",
                              logvar, (double)VAE_LOGVAR_MIN,
                              (double)VAE_LOGVAR_MAX);
    m->obs_logvar = logvar;
    return VAE_OK;
}

VAE_API int32_t vae_model_set_metadata(vae_model *m, const void *data,
                                       size_t len)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (len > VAE_METADATA_MAX)
        return vae_model_fail(m, VAE_ERR_RANGE, "metadata of %zu bytes is "
                              "more than %zu", len, (size_t)VAE_METADATA_MAX);
    if (len && !data)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "metadata is NULL");
    unsigned char *copy = NULL;
    if (len) {
        copy = vae_malloc(len);
        if (!copy)
            return vae_model_fail(m, VAE_ERR_NOMEM,
                                  "out of memory for %zu bytes of metadata",
                                  len);
        memcpy(copy, data, len);
    }
    free(m->meta);
    m->meta = copy;
    m->meta_len = len;
    return VAE_OK;
}

VAE_API const void *vae_model_metadata(const vae_model *m, size_t *len)
{
    if (len)
        *len = m ? m->meta_len : 0;
    return m ? m->meta : NULL;
}

VAE_API int64_t vae_model_data_size(const vae_model *m)
{
    return m ? m->data_size : VAE_ERR_INVALID_ARG;
}

VAE_API int32_t vae_model_data_shape(const vae_model *m, int64_t *dims,
                                     int32_t cap)
{
    if (!m || (!dims && cap > 0) || cap < 0)
        return VAE_ERR_INVALID_ARG;
    const vae_node_spec *in = &m->enc_graph->nodes[0];
    for (int32_t i = 0; i < in->rank && i < cap; i++)
        dims[i] = in->shape[i];
    return in->rank;
}

VAE_API int64_t vae_model_latent_dim(const vae_model *m)
{
    return m ? m->latent : VAE_ERR_INVALID_ARG;
}

VAE_API int64_t vae_model_num_params(const vae_model *m)
{
    return m ? m->n_params : VAE_ERR_INVALID_ARG;
}

VAE_API float *vae_model_params(vae_model *m) { return m ? m->params : NULL; }

VAE_API float *vae_model_grads(vae_model *m) { return m ? m->grads : NULL; }

static void clear_grads(vae_model *m)
{
    memset(m->grads, 0, (size_t)m->n_params * sizeof(float));
}

VAE_API int32_t vae_model_zero_grad(vae_model *m)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    clear_grads(m);
    return VAE_OK;
}

VAE_API int32_t vae_model_scale_grad(vae_model *m, double s)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!isfinite(s))
        return vae_model_fail(m, VAE_ERR_NONFINITE, "scale_grad: scale is %g", s);
    for (int64_t i = 0; i < m->n_params; i++)
        m->grads[i] = (float)(m->grads[i] * s);
    return VAE_OK;
}

/* ---- Workspace --------------------------------------------------------- */

/* The data needs no gradient, so the encoder's gradients start at node 1;
 * the decoder's start at its input, which receives dL/dz. */
#define ENC_FIRST_GRAD 1
#define DEC_FIRST_GRAD 0

/* Elements per example of the values in the arena: all but those of a
 * grad_in_val output (a buffer of its own, place_all) and of nodes that
 * compute over their input's (val_in_input). */
static int64_t val_floats(const vae_node *nodes, int32_t n)
{
    int64_t total = 0;
    for (int32_t i = 0; i < n; i++)
        total += nodes[i].grad_in_val || nodes[i].val_in_input ? 0
                                                               : nodes[i].s.size;
    return total;
}

/* Elements per example of the gradients in the arena, nodes first_grad on. */
static int64_t grad_floats(const vae_node *nodes, int32_t first_grad, int32_t n)
{
    int64_t total = 0;
    for (int32_t i = first_grad; i < n; i++)
        total += nodes[i].grad_in_val ? 0 : nodes[i].s.size;
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

int64_t vae_net_scratch(const vae_node *nodes, int32_t n, int64_t batch)
{
    int64_t most = 0;
    for (int32_t i = 0; i < n; i++) {
        const vae_op *op = vae_op_get(nodes[i].s.op);
        int64_t need = op->scratch ? op->scratch(&nodes[i].s, batch) : 0;
        most = need > most ? need : most;
    }
    return most;
}

/* Points each node's buffers into the arena: a net's values, then its
 * gradients from node first_grad on (earlier nodes get none), contiguous, so
 * one memset clears a net's gradients; then saved activations and state.
 * Nodes with scratch share the region at `scratch`. val_in_input nodes
 * use their input's values; grad_in_val nodes are left to the caller. */
float *vae_place_nodes(vae_node *nodes, int32_t n, int32_t first_grad,
                          float *p, int64_t batch, float *scratch,
                          const vae_run *run)
{
    for (int32_t i = 0; i < n; i++) {
        int own = !nodes[i].grad_in_val && !nodes[i].val_in_input;
        nodes[i].val = nodes[i].val_in_input ? nodes[nodes[i].s.inputs[0]].val
                       : own                 ? p
                                             : NULL;
        p += own ? nodes[i].s.size * batch : 0;
        nodes[i].scratch = vae_op_get(nodes[i].s.op)->scratch ? scratch : NULL;
        nodes[i].run = run;
    }
    for (int32_t i = 0; i < n; i++) {
        nodes[i].grad = i < first_grad || nodes[i].grad_in_val ? NULL : p;
        p += i < first_grad || nodes[i].grad_in_val ? 0 : nodes[i].s.size * batch;
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
    return vae_net_layout_floats(m->enc, m->n_enc, ENC_FIRST_GRAD) +
           vae_net_layout_floats(m->dec, m->n_dec, DEC_FIRST_GRAD);
}

/* ---- The decoder output, a chunk of examples at a time ----------------- */

/* The decoder's output node. Only it can be grad_in_val (then it is the
 * decoder's last node), so dec_out(m)->grad_in_val says whether the output
 * has a buffer of its own and goes through in chunks. */
static vae_node *dec_out(const vae_model *m)
{
    return &m->dec[m->dec_graph->output];
}

/* Examples per output chunk for a batch of `rows`: all of them unless the
 * output is grad_in_val and larger than m->out_chunk_floats. */
static int64_t out_chunk(const vae_model *m, int64_t rows)
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
    float *p = vae_place_nodes(m->enc, m->n_enc, ENC_FIRST_GRAD, nets, batch,
                               scratch, &m->run);
    vae_place_nodes(m->dec, m->n_dec, DEC_FIRST_GRAD, p, batch, scratch, &m->run);
    vae_node *o = dec_out(m);
    if (o->grad_in_val)
        o->val = o->grad = m->work;
}

/* Makes the workspace hold `batch` examples and lays the nodes out for that
 * batch (so each net's buffers stay contiguous whatever the batch). Allocates
 * only when the batch is larger than any before, so steady-state steps never
 * allocate. On failure the old workspace is kept. */
static int32_t ensure_workspace(vae_model *m, int64_t batch)
{
    if (batch <= m->cap_batch) {
        place_all(m, batch);
        return VAE_OK;
    }
    int64_t per_example = workspace_per_example(m);
    if (per_example > 0 && batch > (INT64_MAX / 16) / per_example)
        return vae_model_fail(m, VAE_ERR_NOMEM, "batch %lld is too large",
                              (long long)batch);
    int64_t s_enc = vae_net_scratch(m->enc, m->n_enc, batch);
    int64_t s_dec = vae_net_scratch(m->dec, m->n_dec, batch);
    const vae_node *o = dec_out(m);
    int64_t chunk = out_chunk(m, batch);
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
    place_all(m, batch);
    return VAE_OK;
}

/* ---- Forward and backward over a net ----------------------------------- */

void vae_net_forward(vae_node *nodes, int32_t n, const float *params,
                        int64_t batch)
{
    for (int32_t i = 1; i < n; i++) {
        vae_node *in[VAE_MAX_INPUTS];
        for (int32_t k = 0; k < nodes[i].s.n_inputs; k++)
            in[k] = &nodes[nodes[i].s.inputs[k]];
        vae_op_get(nodes[i].s.op)->forward(&nodes[i], in,
                                           params + nodes[i].param_off, batch);
    }
}

/* Expects the gradients of the net's results already in place. */
static void net_backward(vae_node *nodes, int32_t n, const float *params,
                         float *grads, int64_t batch)
{
    for (int32_t i = n - 1; i >= 1; i--) {
        vae_node *in[VAE_MAX_INPUTS];
        for (int32_t k = 0; k < nodes[i].s.n_inputs; k++)
            in[k] = &nodes[nodes[i].s.inputs[k]];
        vae_op_get(nodes[i].s.op)->backward(&nodes[i], in,
                                            params + nodes[i].param_off,
                                            grads + nodes[i].param_off, batch);
    }
}

/* batch: the one the nets are laid out for (ensure_workspace). */
static void net_zero_grads(vae_node *nodes, int32_t n, int32_t first_grad,
                           int64_t batch)
{
    /* The gradients follow the values (vae_place_nodes). */
    memset(nodes[0].val + val_floats(nodes, n) * batch, 0,
           (size_t)(grad_floats(nodes, first_grad, n) * batch) * sizeof(float));
}

/* ---- The decoder output's chunks (out_chunk) ---------------------------- */

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

/* The decoder forward for `rows`, except a grad_in_val output (out_rows). */
static void dec_forward(vae_model *m, int64_t rows)
{
    vae_net_forward(m->dec, m->n_dec - dec_out(m)->grad_in_val, m->params,
                    rows);
}

/* The decoder output of examples [b0, b0 + *nb), the next chunk of `rows`
 * after dec_forward; its gradient, when wanted, goes to dec_out(m)->grad,
 * which then holds the same examples. */
static float *out_rows(vae_model *m, int64_t b0, int64_t rows, int64_t *nb)
{
    int64_t c = out_chunk(m, rows);
    *nb = rows - b0 < c ? rows - b0 : c;
    if (dec_out(m)->grad_in_val)
        out_call(m, b0, *nb, NULL);
    return dec_out(m)->val; /* without grad_in_val, one chunk: b0 is 0 */
}

/* What out_likelihood does with each chunk after scoring it into logp:
 * nothing more; write the loss gradient into dec_out(m)->grad (one chunk
 * only: the caller runs the output's backward later, out_backward_kept);
 * run the output's backward into m->out_dw; or scale each example's
 * gradient by its weight and run the backward into m->grads. */
enum { OUT_SCORE, OUT_GRAD, OUT_GRAD_BACKWARD, OUT_WEIGHTED_BACKWARD };

static void scale_rows(float *g, int64_t rows, int64_t size,
                       const double *weight)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < size; i++)
            g[r * size + i] *= (float)weight[r];
}

/* logp[b] = log p(x_b | decoder output b) for `rows` examples after
 * dec_forward, chunk by chunk, plus what `mode` asks for. */
static void out_likelihood(vae_model *m, const float *x, int64_t rows,
                           int mode, double *logp, const double *weight)
{
    vae_node *o = dec_out(m);
    float *dw = mode == OUT_GRAD_BACKWARD ? m->out_dw : m->grads + o->param_off;
    if (mode == OUT_GRAD_BACKWARD)
        memset(dw, 0, (size_t)o->s.n_params * sizeof(float));
    for (int64_t b0 = 0, nb; b0 < rows; b0 += nb) {
        const float *out = out_rows(m, b0, rows, &nb);
        vae_likelihood(m->likelihood, out, x + b0 * m->data_size, nb,
                       m->data_size, m->classes, m->obs_logvar, logp + b0,
                       mode == OUT_SCORE ? NULL : o->grad);
        if (mode == OUT_WEIGHTED_BACKWARD)
            scale_rows(o->grad, nb, o->s.size, weight + b0);
        if (mode == OUT_GRAD_BACKWARD || mode == OUT_WEIGHTED_BACKWARD)
            out_call(m, b0, nb, dw);
    }
}

/* After out_likelihood(OUT_GRAD): scales each example's gradient by its
 * weight (if any) and runs the output's backward when dec_backward does
 * not (grad_in_val). */
static void out_backward_kept(vae_model *m, int64_t rows, const double *weight)
{
    vae_node *o = dec_out(m);
    if (weight)
        scale_rows(o->grad, rows, o->s.size, weight);
    if (o->grad_in_val)
        out_call(m, 0, rows, m->grads + o->param_off);
}

/* After out_likelihood(OUT_GRAD_BACKWARD): the output's parameter gradient
 * joins the others. */
static void out_add_dw(vae_model *m)
{
    vae_node *o = dec_out(m);
    float *g = m->grads + o->param_off;
    for (int64_t i = 0; i < o->s.n_params; i++)
        g[i] += m->out_dw[i];
}

/* The decoder's backward, but for a grad_in_val output (done above). */
static void dec_backward(vae_model *m, int64_t rows)
{
    net_backward(m->dec, m->n_dec - dec_out(m)->grad_in_val, m->params,
                 m->grads, rows);
}

/* ---- Shared steps of the public calls ---------------------------------- */

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
    int64_t enc = most_rows(m->enc, m->n_enc), dec = most_rows(m->dec, m->n_dec);
    return INT32_MAX / (enc > dec ? enc : dec);
}

static int32_t check_batch(vae_model *m, const void *p, int64_t batch,
                           const char *what)
{
    if (!p)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "%s: buffer is NULL", what);
    if (batch < 1 || batch > vae_model_max_batch(m))
        return vae_model_fail(m, VAE_ERR_RANGE, "%s: batch %lld not in 1..%lld",
                              what, (long long)batch,
                              (long long)vae_model_max_batch(m));
    return ensure_workspace(m, batch);
}

/* 1 when every one of v[0..n-1] is finite: one branch-free pass. */
VAE_CLONES
static int all_finite(const float *v, int64_t n)
{
    int ok = 1;
    for (int64_t i = 0; i < n; i++)
        ok &= fabsf(v[i]) <= FLT_MAX;
    return ok;
}

int32_t vae_check_finite(vae_model *m, const float *v, int64_t n,
                         const char *what)
{
    /* A branch-free pass (it vectorises: this runs over every gradient of
     * every step); the element is looked for only once one is known bad. */
    int ok = all_finite(v, n);
    for (int64_t i = 0; !ok && i < n; i++)
        if (!isfinite(v[i]))
            return vae_model_fail(m, VAE_ERR_NONFINITE,
                                  "%s: element %lld is not finite", what,
                                  (long long)i);
    return VAE_OK;
}

/* As vae_check_finite, for per-example results in double. */
static int32_t check_finite_results(vae_model *m, const double *v,
                                    int64_t batch, const char *what)
{
    for (int64_t b = 0; b < batch; b++)
        if (!isfinite(v[b]))
            return vae_model_fail(m, VAE_ERR_NONFINITE,
                                  "%s of example %lld is not finite", what,
                                  (long long)b);
    return VAE_OK;
}

/* Gives a teacher-forced decoder its view of the data. */
static void set_decoder_data(vae_model *m, const float *x, int64_t batch)
{
    if (m->dec_data >= 0)
        memcpy(m->dec[m->dec_data].val, x,
               (size_t)(batch * m->data_size) * sizeof(float));
}

/* Copies x into the encoder input after checking it suits the likelihood. */
static int32_t load_data(vae_model *m, const float *x, int64_t batch)
{
    int64_t n = batch * m->data_size;
    int32_t st = vae_check_finite(m, x, n, "data");
    if (st != VAE_OK)
        return st;
    if (m->likelihood == VAE_LIKELIHOOD_BERNOULLI)
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
    set_decoder_data(m, x, batch);
    return VAE_OK;
}

static vae_node *head(vae_model *m) { return &m->enc[m->n_enc - 1]; }

/* z = mu + exp(logvar / 2) * eps into the decoder input, eps from the RNG:
 * k draws per example, in rows b * k + s. */
static void sample_z(vae_model *m, int64_t batch, int64_t k)
{
    int64_t D = m->latent;
    const float *h = head(m)->val;
    float *z = m->dec[0].val;
    vae_rng_normal_fill(&m->rng, m->eps, batch * k * D);
    for (int64_t r = 0; r < batch * k; r++) {
        const float *mu = h + (r / k) * 2 * D, *lv = mu + D;
        for (int64_t j = 0; j < D; j++)
            z[r * D + j] = mu[j] + expf(0.5f * vae_clamp_logvar(lv[j])) *
                                       m->eps[r * D + j];
    }
}

/* log p(z) - log q(z|x) of one draw z = mu + sigma * eps, where lv is q's
 * logvar row (log 2 pi cancels). */
static double log_prior_ratio(const float *z, const float *eps,
                              const float *lv, int64_t D)
{
    double s = 0.0;
    for (int64_t j = 0; j < D; j++)
        s += -0.5 * ((double)z[j] * z[j] - (double)eps[j] * eps[j] -
                     vae_clamp_logvar(lv[j]));
    return s;
}

/* Gradient of the loss wrt the head output, from dL/dz and the KL term. The
 * KL weight of dimension j is beta, or 0 where free bits hold it constant. */
static void head_backward(vae_model *m, int64_t batch)
{
    int64_t D = m->latent;
    const float *h = head(m)->val;
    float *dh = head(m)->grad;
    const float *dz = m->dec[0].grad;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t j = 0; j < D; j++) {
            float mu = h[b * 2 * D + j], raw = h[b * 2 * D + D + j];
            float lv = vae_clamp_logvar(raw);
            int inside = raw > VAE_LOGVAR_MIN && raw < VAE_LOGVAR_MAX;
            float w = (m->free_bits > 0.0 && m->kl_dim[j] <= m->free_bits)
                          ? 0.0f : (float)m->beta;
            float g = dz[b * D + j];
            float std = expf(0.5f * lv);
            dh[b * 2 * D + j] = g + w * mu;
            dh[b * 2 * D + D + j] =
                inside ? 0.5f * (g * m->eps[b * D + j] * std +
                                 w * (std * std - 1.0f))
                       : 0.0f;
        }
}

/* What run_elbo does with the gradient buffer. GRAD_SET is train_step's
 * zero_grad + elbo_grad, with the zeroing put off until the gradient is
 * certain to be computed: a step refused for memory, data or a non-finite
 * loss leaves the buffer as it was. */
enum { GRAD_NONE, GRAD_ADD, GRAD_SET };

/* Head gradient of the importance-weighted loss. kl_b holds each row's
 * normalised weight w_r; the decoder's dL/dz rows already carry it. With
 * z = mu + sigma eps, row r adds w_r (dz/dmu, dz/dlogvar) . (g + beta z) and
 * beta w_r d log q / d logvar = -beta w_r / 2 (eps held fixed); the weights
 * of an example sum to 1. */
static void head_backward_weighted(vae_model *m, int64_t batch, int64_t k)
{
    int64_t D = m->latent;
    const float *h = head(m)->val, *z = m->dec[0].val, *dz = m->dec[0].grad;
    float *dh = head(m)->grad;
    float beta = (float)m->beta;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t j = 0; j < D; j++) {
            float raw = h[b * 2 * D + D + j];
            int inside = raw > VAE_LOGVAR_MIN && raw < VAE_LOGVAR_MAX;
            float gmu = 0.0f, glv = 0.0f;
            for (int64_t r = b * k; r < (b + 1) * k; r++) {
                float g = dz[r * D + j] + beta * (float)m->kl_b[r] * z[r * D + j];
                gmu += g;
                glv += g * m->eps[r * D + j];
            }
            float std = expf(0.5f * vae_clamp_logvar(raw));
            dh[b * 2 * D + j] = gmu;
            dh[b * 2 * D + D + j] = inside ? 0.5f * (glv * std - beta) : 0.0f;
        }
}

/* After a backward pass: a finite loss can still overflow on the way back
 * (huge weights multiplying huge upstream gradients). */
static int32_t check_gradient(vae_model *m)
{
    return vae_check_finite(m, m->grads, m->n_params,
                            "elbo_grad: gradient after the backward pass");
}

/* The rest of a backward pass once the decoder output's gradient is in
 * place: decoder, Gaussian head (k samples per example) and encoder, then
 * the gradient's finiteness check. */
static int32_t backward_from_decoder(vae_model *m, int64_t batch, int64_t k)
{
    /* The nets are laid out for the decoder's batch * k rows. */
    dec_backward(m, batch * k);
    net_zero_grads(m->enc, m->n_enc, ENC_FIRST_GRAD, batch * k);
    if (k > 1)
        head_backward_weighted(m, batch, k);
    else
        head_backward(m, batch);
    net_backward(m->enc, m->n_enc, m->params, m->grads, batch);
    return check_gradient(m);
}

/* The per-example figures an ELBO call reports, each where asked for. */
static void put_results(double *elbo, double e, double *recon, double r,
                        double *kl, double k)
{
    if (elbo)
        *elbo = e;
    if (recon)
        *recon = r;
    if (kl)
        *kl = k;
}

/* Grows the buffer of repeated examples to `rows` rows (rarely: it is kept). */
static int32_t ensure_rows_x(vae_model *m, int64_t rows)
{
    if (rows <= m->rows_x_cap)
        return VAE_OK;
    float *p = vae_malloc((size_t)(rows * m->data_size) * sizeof(float));
    if (!p)
        return vae_model_fail(m, VAE_ERR_NOMEM, "out of memory for %lld "
                              "importance-sampled rows", (long long)rows);
    free(m->rows_x);
    m->rows_x = p;
    m->rows_x_cap = rows;
    return VAE_OK;
}

/* elbo_grad with k = train_samples > 1: the importance-weighted bound. The
 * encoder runs on the batch, the decoder on batch * k rows (example b's
 * samples in rows b * k ..), and each row's loss gradient is scaled by its
 * normalised importance weight, which is the bound's gradient. */
static int32_t run_weighted_grad(vae_model *m, const float *x, int64_t batch,
                                 int want_grad, double *elbo, double *recon,
                                 double *kl)
{
    int64_t k = m->train_samples, D = m->latent, d = m->data_size;
    if (m->free_bits > 0.0)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "elbo_grad: free bits do not apply to the "
                              "bound of %lld importance samples", (long long)k);
    /* The decoder's batch is batch x k rows; checked before the product,
     * which a huge or negative batch would overflow. */
    if (batch < 1 || batch > vae_model_max_batch(m) / k)
        return vae_model_fail(m, VAE_ERR_RANGE, "elbo_grad: batch %lld x %lld "
                              "train samples not in 1..%lld rows",
                              (long long)batch, (long long)k,
                              (long long)vae_model_max_batch(m));
    int64_t rows = batch * k;
    int32_t st = check_batch(m, x, rows, "elbo_grad");
    if (st == VAE_OK)
        st = ensure_rows_x(m, rows);
    if (st == VAE_OK)
        st = load_data(m, x, batch);
    if (st != VAE_OK)
        return st;
    for (int64_t r = 0; r < rows; r++)
        memcpy(m->rows_x + r * d, x + (r / k) * d, (size_t)d * sizeof(float));

    m->run.training = 1;
    vae_net_forward(m->enc, m->n_enc, m->params, batch);
    sample_z(m, batch, k);
    set_decoder_data(m, m->rows_x, rows);
    dec_forward(m, rows);
    m->run.training = 0;

    /* A row's gradient needs its weight, known once every row is scored:
     * a chunked output is scored here and computed again below. */
    net_zero_grads(m->dec, m->n_dec, DEC_FIRST_GRAD, rows);
    int split = out_chunk(m, rows) < rows;
    out_likelihood(m, m->rows_x, rows, split ? OUT_SCORE : OUT_GRAD,
                   m->recon_b, NULL);
    /* kl_b[r] = log p(z_r) - log q(z_r|x) first, then the weight of row r. */
    const float *h = head(m)->val, *z = m->dec[0].val;
    double recon_sum = 0.0, ratio_sum = 0.0, bound_sum = 0.0;
    for (int64_t b = 0; b < batch; b++) {
        double top = -INFINITY, top1 = -INFINITY;
        for (int64_t r = b * k; r < (b + 1) * k; r++) {
            m->kl_b[r] = log_prior_ratio(z + r * D, m->eps + r * D,
                                         h + b * 2 * D + D, D);
            recon_sum += m->recon_b[r];
            ratio_sum += m->kl_b[r];
            top = fmax(top, m->recon_b[r] + m->beta * m->kl_b[r]);
            top1 = fmax(top1, m->recon_b[r] + m->kl_b[r]);
        }
        double sum = 0.0, sum1 = 0.0;
        for (int64_t r = b * k; r < (b + 1) * k; r++) {
            double lw = m->recon_b[r] + m->beta * m->kl_b[r];
            sum1 += exp(m->recon_b[r] + m->kl_b[r] - top1);
            m->kl_b[r] = exp(lw - top);
            sum += m->kl_b[r];
        }
        for (int64_t r = b * k; r < (b + 1) * k; r++)
            m->kl_b[r] /= sum;
        bound_sum += top1 + log(sum1) - log((double)k);
    }
    if (!isfinite(bound_sum) || !isfinite(recon_sum) || !isfinite(ratio_sum))
        return vae_model_fail(m, VAE_ERR_NONFINITE,
                              "loss is not finite (recon %g, log-weight "
                              "ratio %g); gradients left unchanged",
                              recon_sum, ratio_sum);

    if (want_grad == GRAD_SET)
        clear_grads(m);
    if (split)
        out_likelihood(m, m->rows_x, rows, OUT_WEIGHTED_BACKWARD, m->recon_b,
                       m->kl_b);
    else
        out_backward_kept(m, rows, m->kl_b);
    st = backward_from_decoder(m, batch, k);
    if (st != VAE_OK)
        return st;
    put_results(elbo, bound_sum / (double)batch, recon,
                recon_sum / (double)rows, kl, -ratio_sum / (double)rows);
    return VAE_OK;
}

static int32_t run_elbo(vae_model *m, const float *x, int64_t batch,
                        int want_grad, double *elbo, double *recon, double *kl)
{
    if (want_grad && m->train_samples > 1)
        return run_weighted_grad(m, x, batch, want_grad, elbo, recon, kl);
    int32_t st = check_batch(m, x, batch, want_grad ? "elbo_grad" : "elbo");
    if (st == VAE_OK)
        st = load_data(m, x, batch);
    if (st != VAE_OK)
        return st;

    m->run.training = want_grad != GRAD_NONE;
    vae_net_forward(m->enc, m->n_enc, m->params, batch);
    sample_z(m, batch, 1);
    dec_forward(m, batch);
    m->run.training = 0;

    /* A chunked output's backward runs chunk by chunk here, into out_dw:
     * the gradient buffer is touched only once the loss is known finite. */
    int split = out_chunk(m, batch) < batch;
    if (want_grad)
        net_zero_grads(m->dec, m->n_dec, DEC_FIRST_GRAD, batch);
    out_likelihood(m, x, batch,
                   !want_grad ? OUT_SCORE : split ? OUT_GRAD_BACKWARD : OUT_GRAD,
                   m->recon_b, NULL);
    double recon_sum = 0.0, kl_sum = 0.0;
    for (int64_t b = 0; b < batch; b++)
        recon_sum += m->recon_b[b];
    vae_kl_normal(head(m)->val, head(m)->val + m->latent, 2 * m->latent, batch,
                  m->latent, m->kl_b, m->kl_dim);
    for (int64_t b = 0; b < batch; b++)
        kl_sum += m->kl_b[b];

    double kl_term = kl_sum;
    if (m->free_bits > 0.0) {
        kl_term = 0.0;
        for (int64_t j = 0; j < m->latent; j++)
            kl_term += fmax(m->free_bits, m->kl_dim[j]);
        kl_term *= (double)batch;
    }
    double loss = -recon_sum + m->beta * kl_term;
    if (!isfinite(loss) || !isfinite(recon_sum) || !isfinite(kl_sum))
        return vae_model_fail(m, VAE_ERR_NONFINITE,
                              "loss is not finite (recon %g, kl %g); "
                              "gradients left unchanged", recon_sum, kl_sum);

    if (want_grad == GRAD_SET)
        clear_grads(m);
    if (want_grad) {
        if (split)
            out_add_dw(m);
        else
            out_backward_kept(m, batch, NULL);
        st = backward_from_decoder(m, batch, 1);
        if (st != VAE_OK)
            return st;
    }
    put_results(elbo, (recon_sum - kl_sum) / (double)batch, recon,
                recon_sum / (double)batch, kl, kl_sum / (double)batch);
    return VAE_OK;
}

VAE_API int32_t vae_model_elbo(vae_model *m, const float *x, int64_t batch,
                               double *elbo, double *recon, double *kl)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    return run_elbo(m, x, batch, GRAD_NONE, elbo, recon, kl);
}

VAE_API int32_t vae_model_elbo_grad(vae_model *m, const float *x, int64_t batch,
                                    double *elbo, double *recon, double *kl)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    return run_elbo(m, x, batch, GRAD_ADD, elbo, recon, kl);
}

int32_t vae_model_train_grad(vae_model *m, const float *x, int64_t batch,
                             double *elbo, double *recon, double *kl)
{
    return run_elbo(m, x, batch, GRAD_SET, elbo, recon, kl);
}

/* ---- Encode, decode, sample, reconstruct ------------------------------- */

/* Copies `cols` floats from each of `rows` rows of src into dst. */
static void copy_rows(float *dst, int64_t dst_stride, const float *src,
                      int64_t src_stride, int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++)
        memcpy(dst + r * dst_stride, src + r * src_stride,
               (size_t)cols * sizeof(float));
}

/* Checks x and the output buffer, loads x and runs the encoder, after which
 * each head row holds mu then logvar. */
static int32_t run_encoder(vae_model *m, const float *x, int64_t batch,
                           const void *out, const char *what)
{
    if (!out)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "%s: output is NULL", what);
    int32_t st = check_batch(m, x, batch, what);
    if (st == VAE_OK)
        st = load_data(m, x, batch);
    if (st != VAE_OK)
        return st;
    vae_net_forward(m->enc, m->n_enc, m->params, batch);
    return vae_check_finite(m, head(m)->val, batch * 2 * m->latent,
                            "encoder output (mu, logvar)");
}

VAE_API int32_t vae_model_encode(vae_model *m, const float *x, int64_t batch,
                                 float *mu, float *logvar)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    int32_t st = run_encoder(m, x, batch, mu, "encode");
    if (st != VAE_OK)
        return st;
    int64_t D = m->latent;
    copy_rows(mu, D, head(m)->val, 2 * D, batch, D);
    if (logvar)
        copy_rows(logvar, D, head(m)->val + D, 2 * D, batch, D);
    return VAE_OK;
}

/* Decodes the latents already in the decoder input into out. A decoder
 * that reads the data (teacher forcing) has no data to read here: it
 * decodes greedily, one step at a time, instead. */
static int32_t decode_loaded(vae_model *m, int64_t batch, float *out)
{
    if (m->dec_data >= 0)
        return vae_generate(m, m->dec[0].val, batch, VAE_DECODE_GREEDY, 1.0,
                            1, 1, -1, m->data_size, out, NULL);
    dec_forward(m, batch);
    for (int64_t b0 = 0, nb; b0 < batch; b0 += nb) {
        const float *o = out_rows(m, b0, batch, &nb);
        vae_likelihood_mean(m->likelihood, o, nb, m->data_size, m->classes,
                            out + b0 * m->data_size);
    }
    return vae_check_finite(m, out, batch * m->data_size, "decoded mean");
}

VAE_API int32_t vae_model_decode(vae_model *m, const float *z, int64_t batch,
                                 float *out)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    int32_t st = check_batch(m, z, batch, "decode");
    if (st == VAE_OK && !out)
        st = vae_model_fail(m, VAE_ERR_INVALID_ARG, "decode: out is NULL");
    if (st == VAE_OK)
        st = vae_check_finite(m, z, batch * m->latent, "decode: z");
    if (st != VAE_OK)
        return st;
    memcpy(m->dec[0].val, z, (size_t)(batch * m->latent) * sizeof(float));
    return decode_loaded(m, batch, out);
}

VAE_API int32_t vae_model_sample(vae_model *m, int64_t n, float *z_out,
                                 float *out)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    int32_t st = check_batch(m, out, n, "sample");
    if (st != VAE_OK)
        return st;
    vae_rng_normal_fill(&m->rng, m->dec[0].val, n * m->latent);
    if (z_out)
        memcpy(z_out, m->dec[0].val, (size_t)(n * m->latent) * sizeof(float));
    return decode_loaded(m, n, out);
}

VAE_API int32_t vae_model_reconstruct(vae_model *m, const float *x,
                                      int64_t batch, float *out)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    int32_t st = run_encoder(m, x, batch, out, "reconstruct");
    if (st != VAE_OK)
        return st;
    int64_t D = m->latent;
    copy_rows(m->dec[0].val, D, head(m)->val, 2 * D, batch, D);
    return decode_loaded(m, batch, out);
}

VAE_API int32_t vae_model_random_uniform(vae_model *m, int64_t n, float *out)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!out)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "random_uniform: out is NULL");
    if (n < 0)
        return vae_model_fail(m, VAE_ERR_RANGE, "random_uniform: n %lld < 0",
                              (long long)n);
    /* 24 random bits: every value is exact in float and below 1. */
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)(vae_rng_next(&m->rng) >> 40) * 0x1.0p-24f;
    return VAE_OK;
}

/* ---- log p(x|z) and the importance-weighted log-likelihood -------------- */

/* logp[r] = log p(x_r | z_r) for the latents already in the decoder input. */
static void decoder_logp(vae_model *m, const float *x, int64_t rows,
                         double *logp)
{
    set_decoder_data(m, x, rows);
    dec_forward(m, rows);
    out_likelihood(m, x, rows, OUT_SCORE, logp, NULL);
}

VAE_API int32_t vae_model_log_likelihood(vae_model *m, const float *z,
                                         const float *x, int64_t batch,
                                         double *logp)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!logp)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "log_likelihood: logp is NULL");
    int32_t st = check_batch(m, z, batch, "log_likelihood");
    if (st == VAE_OK)
        st = vae_check_finite(m, z, batch * m->latent, "log_likelihood: z");
    if (st == VAE_OK && !x)
        st = vae_model_fail(m, VAE_ERR_INVALID_ARG, "log_likelihood: x is NULL");
    if (st == VAE_OK)
        st = load_data(m, x, batch);
    if (st != VAE_OK)
        return st;
    memcpy(m->dec[0].val, z, (size_t)(batch * m->latent) * sizeof(float));
    decoder_logp(m, x, batch, logp);
    return check_finite_results(m, logp, batch, "log_likelihood: log p(x|z)");
}

/* Rows (example, sample) decoded per pass: enough to keep the GEMMs
 * efficient, small enough that memory does not depend on k. */
#define IWAE_CHUNK 256


/* Running log-sum-exp of one example's log-weights, in double. */
typedef struct lse {
    double max, sum;
} lse;

static void lse_add(lse *a, double v)
{
    if (v > a->max) {
        a->sum = a->sum * exp(a->max - v) + 1.0;
        a->max = v;
    } else {
        a->sum += exp(v - a->max);
    }
}

/* Decodes `rows` consecutive (example, sample) pairs starting at pair r0 and
 * adds their log-weights to acc. mulv holds each example's mu|logvar row;
 * xs and logw are scratch of IWAE_CHUNK rows. */
static void iwae_chunk(vae_model *m, const float *x, const float *mulv,
                       int64_t k, int64_t r0, int64_t rows, float *xs,
                       double *logw, lse *acc)
{
    int64_t D = m->latent, d = m->data_size;
    float *z = m->dec[0].val;
    vae_rng_normal_fill(&m->rng, m->eps, rows * D);
    for (int64_t r = 0; r < rows; r++) {
        int64_t b = (r0 + r) / k;
        const float *mu = mulv + b * 2 * D, *lv = mu + D;
        const float *eps = m->eps + r * D;
        for (int64_t j = 0; j < D; j++)
            z[r * D + j] = mu[j] + expf(0.5f * vae_clamp_logvar(lv[j])) * eps[j];
        logw[r] = log_prior_ratio(z + r * D, eps, lv, D);
        memcpy(xs + r * d, x + b * d, (size_t)d * sizeof(float));
    }
    decoder_logp(m, xs, rows, m->recon_b);
    for (int64_t r = 0; r < rows; r++)
        lse_add(&acc[(r0 + r) / k], logw[r] + m->recon_b[r]);
}

VAE_API int32_t vae_model_iwae(vae_model *m, const float *x, int64_t batch,
                               int64_t k, double *logpx)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (k < 1 || k > 1000000000)
        return vae_model_fail(m, VAE_ERR_RANGE, "iwae: k %lld not in 1..1e9",
                              (long long)k);
    int32_t st = run_encoder(m, x, batch, logpx, "iwae");
    if (st != VAE_OK)
        return st;

    int64_t D = m->latent, d = m->data_size;
    float *mulv = vae_malloc((size_t)(batch * 2 * D) * sizeof(float));
    float *xs = vae_malloc((size_t)(IWAE_CHUNK * d) * sizeof(float));
    double *logw = vae_malloc(IWAE_CHUNK * sizeof(double));
    lse *acc = vae_malloc((size_t)batch * sizeof(lse));
    if (!mulv || !xs || !logw || !acc) {
        st = vae_model_fail(m, VAE_ERR_NOMEM, "iwae: out of memory");
        goto done;
    }
    /* The head's values are copied out: the decoder workspace is laid out
     * for chunk-sized batches next, which moves the encoder's buffers. */
    memcpy(mulv, head(m)->val, (size_t)(batch * 2 * D) * sizeof(float));
    for (int64_t b = 0; b < batch; b++)
        acc[b] = (lse){-INFINITY, 0.0};
    int64_t total = batch * k;
    int64_t chunk = total < IWAE_CHUNK ? total : IWAE_CHUNK;
    st = ensure_workspace(m, chunk);
    for (int64_t r0 = 0; st == VAE_OK && r0 < total; r0 += chunk) {
        int64_t rows = total - r0 < chunk ? total - r0 : chunk;
        iwae_chunk(m, x, mulv, k, r0, rows, xs, logw, acc);
    }
    if (st == VAE_OK) {
        for (int64_t b = 0; b < batch; b++)
            logpx[b] = acc[b].max + log(acc[b].sum) - log((double)k);
        st = check_finite_results(m, logpx, batch, "iwae: log p(x)");
    }
done:
    free(mulv);
    free(xs);
    free(logw);
    free(acc);
    return st;
}
