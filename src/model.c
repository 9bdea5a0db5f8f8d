/* model.c - a model's life: building it from two graphs (the Gaussian head
 * appended to the encoder, parameters placed in one flat buffer and
 * initialised, shared parameters and in-place activations planned), its
 * settings, the queries of what it is, and freeing it. Running it is
 * net.c's; the data flow, top to bottom:
 *
 *   x -> encoder nodes -> head [mu | logvar] -> z = mu + exp(logvar/2) eps
 *     -> decoder nodes -> likelihood(x | output);  KL(mu, logvar) analytic
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "hugepages.h"
#include "likelihood.h"
#include "model.h"
#include "ops/ops.h"
#include "pool.h"

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

/* ---- Construction ------------------------------------------------------ */

/* Run-time nodes for the specs of g, parameters placed from *off onwards
 * and buffers from *boff. */
static int32_t make_nodes(const vae_graph *g, vae_node **out, int64_t *off,
                          int64_t *boff)
{
    vae_node *nodes = vae_calloc((size_t)g->n, sizeof *nodes);
    if (!nodes)
        return VAE_ERR_NOMEM;
    for (int32_t i = 0; i < g->n; i++) {
        const vae_op *op = vae_op_get(g->nodes[i].op);
        nodes[i].s = g->nodes[i];
        nodes[i].param_off = *off;
        *off += g->nodes[i].n_params;
        nodes[i].buf_off = *boff;
        *boff += op->buffers ? op->buffers(&g->nodes[i]) : 0;
    }
    *out = nodes;
    return VAE_OK;
}

/* An activation may compute over its input's values, saving batch x size
 * floats (a conv model's relus: 10 MB at batch 128), when nothing else
 * reads them: the input has no other consumer, is not the net's output,
 * is not the caller's data (a source node: input or data), and its own
 * backward does not read its value (unless the values stay as they were:
 * a reshape, which so costs neither memory nor a copy). The input's
 * gradient then needs no buffer either: the activation's backward turns
 * its own gradient into the input's in place (another 10 MB, and one pass
 * less over them), unless the input's gradient is seeded before the
 * backward (aux_loss). A node whose gradient lives in its value buffer
 * (grad_in_val) keeps that buffer. */
static void plan_in_place(vae_node *nodes, int32_t n, int32_t output)
{
    for (int32_t i = 1; i < n; i++) {
        int32_t j = nodes[i].s.inputs[0], uses = 0;
        const vae_op *op = vae_op_get(nodes[i].s.op);
        if (!op->forward_in_place || j == output || nodes[i].grad_in_val ||
            nodes[j].s.n_inputs == 0 ||
            (vae_op_get(nodes[j].s.op)->backward_reads_val &&
             !op->keeps_values) ||
            nodes[j].grad_in_val)
            continue;
        for (int32_t k = 1; k < n; k++)
            for (int32_t q = 0; q < nodes[k].s.n_inputs; q++)
                uses += nodes[k].s.inputs[q] == j;
        nodes[i].val_in_input = uses == 1;
        nodes[j].grad_in_consumer =
            uses == 1 && !vae_op_get(nodes[j].s.op)->aux_loss;
    }
}

/* Initial parameters from r, and initial buffers. */
static void init_params(vae_node *nodes, int32_t n, float *params, vae_rng *r)
{
    for (int32_t i = 0; i < n; i++) {
        const vae_op *op = vae_op_get(nodes[i].s.op);
        if (op->init)
            op->init(&nodes[i].s, params + nodes[i].param_off, r);
        if (op->init_buffers)
            op->init_buffers(&nodes[i].s, nodes[i].buf);
    }
}

/* Points each node that has buffers at its place in m->buffers. */
static void place_buffers(vae_node *nodes, int32_t n, float *buffers)
{
    for (int32_t i = 0; i < n; i++)
        if (vae_op_get(nodes[i].s.op)->buffers)
            nodes[i].buf = buffers + nodes[i].buf_off;
}

VAE_API void vae_model_free(vae_model *m)
{
    if (!m)
        return;
    vae_graph_free(m->enc_graph);
    vae_graph_free(m->dec_graph);
    free(m->params);
    free(m->grads);
    free(m->buffers);
    free(m->enc);
    free(m->dec);
    free(m->work);
    free(m->out_dw);
    free(m->eps);
    free(m->kl_dim);
    free(m->recon_b);
    free(m->kl_b);
    free(m->rows_x);
    free(m->cond);
    free(m->meta);
    free(m);
}

/* What vae_model_new learns of the graphs it checks. */
typedef struct graph_facts {
    int64_t data_size, classes; /* classes: categorical V, else 0 */
    int32_t dec_data;           /* the decoder's data node, or -1 */
    int32_t enc_cond, dec_cond; /* the condition nodes, or -1 */
    int64_t cond_size;          /* 0: unconditional */
} graph_facts;

/* The one data node of a decoder (-1 if none); the encoder may have none:
 * its input already is the data. Nor may it borrow parameters (there is
 * nothing before it to borrow from) or add an auxiliary loss (a decoder's
 * word prediction from z). */
static int32_t check_data_nodes(const vae_graph *enc, const vae_graph *dec,
                                int32_t *dec_data, char *err, size_t errlen)
{
    for (int32_t i = 0; i < enc->n; i++) {
        const vae_node_spec *s = &enc->nodes[i];
        const vae_op *op = vae_op_get(s->op);
        int borrows = op->borrows && op->borrows(s);
        if (op->reads_data || borrows || op->aux_loss) {
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

/* A posterior node (q(z|x) given by the encoder itself) may only be the
 * encoder's output and last node, holding mu and logvar of latent_dim
 * each: anywhere else nothing would read it as the posterior. */
static int32_t check_posterior(const vae_graph *enc, const vae_graph *dec,
                               int64_t latent, char *err, size_t errlen)
{
    const vae_graph *graphs[] = {enc, dec};
    for (int k = 0; k < 2; k++) {
        for (int32_t i = 0; i < graphs[k]->n; i++) {
            const vae_node_spec *s = &graphs[k]->nodes[i];
            if (!vae_op_get(s->op)->posterior)
                continue;
            if (k == 0 && i == enc->output && i == enc->n - 1 &&
                s->size == 2 * latent)
                continue;
            vae_set_err(err, errlen, "%s node %d (%s): a posterior must be "
                        "the encoder's output and last node, with 2 x "
                        "latent_dim = %lld elements", k ? "decoder" : "encoder",
                        (int)i, vae_op_get(s->op)->name,
                        (long long)(2 * latent));
            return VAE_ERR_SHAPE;
        }
    }
    return VAE_OK;
}

/* The condition node of a graph (-1 if none); more than one is an
 * error. */
static int32_t find_condition(const vae_graph *g, const char *what,
                              int32_t *node, char *err, size_t errlen)
{
    *node = -1;
    for (int32_t i = 0; i < g->n; i++) {
        if (!vae_op_get(g->nodes[i].op)->reads_condition)
            continue;
        if (*node >= 0) {
            vae_set_err(err, errlen, "%s has two condition nodes (%d and %d); "
                        "a model has one condition", what, (int)*node, (int)i);
            return VAE_ERR_GRAPH;
        }
        *node = i;
    }
    return VAE_OK;
}

/* A conditional model's condition nodes: in either graph or both, of the
 * same size, which is the model's condition size (0: unconditional). */
static int32_t check_condition(const vae_graph *enc, const vae_graph *dec,
                               graph_facts *f, char *err, size_t errlen)
{
    int32_t st = find_condition(enc, "encoder", &f->enc_cond, err, errlen);
    if (st == VAE_OK)
        st = find_condition(dec, "decoder", &f->dec_cond, err, errlen);
    if (st != VAE_OK)
        return st;
    int64_t e = f->enc_cond >= 0 ? enc->nodes[f->enc_cond].size : 0;
    int64_t d = f->dec_cond >= 0 ? dec->nodes[f->dec_cond].size : 0;
    if (e && d && e != d) {
        vae_set_err(err, errlen, "the encoder's condition has %lld elements, "
                    "the decoder's %lld: a model has one condition",
                    (long long)e, (long long)d);
        return VAE_ERR_SHAPE;
    }
    f->cond_size = e ? e : d;
    return VAE_OK;
}

/* Checks the two graphs fit together and with the likelihood, and finds
 * what the model needs to know of them. */
static int32_t check_graphs(const vae_graph *enc, const vae_graph *dec,
                            int64_t latent, int32_t likelihood,
                            graph_facts *f, char *err, size_t errlen)
{
    int32_t st = vae_graph_check_complete(enc, "encoder", err, errlen);
    if (st == VAE_OK)
        st = vae_graph_check_complete(dec, "decoder", err, errlen);
    if (st == VAE_OK)
        st = check_data_nodes(enc, dec, &f->dec_data, err, errlen);
    if (st == VAE_OK)
        st = check_condition(enc, dec, f, err, errlen);
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
    st = check_posterior(enc, dec, latent, err, errlen);
    if (st != VAE_OK)
        return st;
    int64_t d = enc->nodes[0].size;
    const vae_node_spec *out = &dec->nodes[dec->output];
    f->classes = 0;
    if (likelihood == VAE_LIKELIHOOD_CATEGORICAL) {
        if (enc->nodes[0].rank != 1 || out->rank != 2 || out->shape[0] != d ||
            out->shape[1] < 2 || out->shape[1] > ((int64_t)1 << 24)) {
            vae_set_err(err, errlen, "categorical likelihood: data must be "
                        "[T] ids and the decoder output [T, V] logits with "
                        "2 <= V <= 2^24 (T = %lld)", (long long)d);
            return VAE_ERR_SHAPE;
        }
        f->classes = out->shape[1];
    }
    int64_t want = vae_likelihood_out_size(likelihood, d, f->classes);
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
    f->data_size = d;
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
    graph_facts f;
    int32_t st = check_graphs(encoder, decoder, latent_dim, likelihood, &f,
                              err, errlen);
    if (st != VAE_OK)
        return st;

    vae_model *m = vae_calloc(1, sizeof *m);
    vae_graph *run_enc = NULL;
    if (!m)
        goto nomem;
    vae_busy_init(&m->busy);
    m->latent = latent_dim;
    m->data_size = f.data_size;
    m->likelihood = likelihood;
    m->classes = f.classes;
    m->dec_data = f.dec_data;
    m->cond_size = f.cond_size;
    m->enc_cond = f.enc_cond;
    m->dec_cond = f.dec_cond;
    m->beta = 1.0;
    m->train_samples = 1;
    m->gen = (vae_gen_settings)VAE_GEN_DEFAULTS;
    if (vae_graph_copy(encoder, &m->enc_graph) != VAE_OK ||
        vae_graph_copy(decoder, &m->dec_graph) != VAE_OK ||
        vae_graph_copy(encoder, &run_enc) != VAE_OK)
        goto nomem;
    /* The head is an ordinary dense node appended to the encoder, unless
     * the encoder gives the posterior itself. */
    if (!vae_op_get(encoder->nodes[encoder->output].op)->posterior)
        st = vae_graph_dense(run_enc, encoder->output, 2 * latent_dim);
    if (st < 0) {
        vae_set_err(err, errlen, "Gaussian head: %s", run_enc->err);
        vae_graph_free(run_enc);
        vae_model_free(m);
        return st;
    }
    int64_t off = 0, boff = 0;
    if (make_nodes(run_enc, &m->enc, &off, &boff) != VAE_OK)
        goto nomem;
    m->n_enc = run_enc->n;
    if (make_nodes(decoder, &m->dec, &off, &boff) != VAE_OK)
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
                                       !out_op->draws_random &&
                                       !out_op->batch_coupled;
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
    m->n_buffers = boff;
    m->buffers = vae_calloc((size_t)(boff ? 2 * boff : 1), sizeof(float));
    m->buffers_kept = m->buffers ? m->buffers + boff : NULL;
    if (!m->params || !m->grads || !m->kl_dim || !m->buffers)
        goto nomem;
    vae_advise_hugepages(m->params, (size_t)off * sizeof(float));
    vae_advise_hugepages(m->grads, (size_t)off * sizeof(float));
    vae_advise_hugepages(m->buffers, (size_t)(2 * boff) * sizeof(float));
    place_buffers(m->enc, m->n_enc, m->buffers);
    place_buffers(m->dec, m->n_dec, m->buffers);
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

VAE_API int32_t vae_model_set_free_bits_mode(vae_model *m, int32_t mode)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (mode != VAE_FREE_BITS_BATCH && mode != VAE_FREE_BITS_EXAMPLE)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "free_bits_mode: unknown mode %d", (int)mode);
    m->free_bits_mode = mode;
    return VAE_OK;
}

VAE_API int32_t vae_model_reset_decoder(vae_model *m, uint64_t seed)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    /* A generator of its own: the model's stream (z draws, saved with the
     * model) goes on as it was. Nodes that borrow the encoder's parameters
     * own none, so the encoder is left as it is. Buffers (running
     * statistics) start afresh too. */
    vae_rng r;
    vae_rng_seed(&r, seed);
    init_params(m->dec, m->n_dec, m->params, &r);
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

VAE_API int64_t vae_model_output_size(const vae_model *m)
{
    return m ? m->dec[m->dec_graph->output].s.size : VAE_ERR_INVALID_ARG;
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

void vae_model_clear_grads(vae_model *m)
{
    vae_parallel_zero(m->grads, m->n_params);
}

VAE_API int32_t vae_model_zero_grad(vae_model *m)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    vae_model_clear_grads(m);
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
