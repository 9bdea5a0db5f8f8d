/* generate.c - incremental decoding of sequence models: greedy, sampling,
 * top-k and beam search.
 *
 * The decoder is rebuilt as a "step net": the same nodes and parameters
 * with the time axis set to 1 (data node [1], repeat x1). Each call of the
 * step net advances every sequence by one token; recurrent nodes start from
 * the state their previous call left (vae_run.carry), so a T-token sequence
 * costs T decoder steps and the prefix is never run again. In the step net
 * the data node holds the previous token, which shift_right passes through
 * unchanged while carrying (the first step gets its begin-of-sequence id).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "fastmath.h"
#include "generate.h"
#include "likelihood.h"
#include "net.h"
#include "ops/ops.h"

typedef struct step_net {
    vae_node *nodes;
    int32_t n, data, out;
    float *work;
    /* Fed at step 0, when shift_right emits its own bos whatever it reads:
     * that same bos, so that masks, which only ask whether an id is
     * padding, see a real token. */
    float first_token;
} step_net;

static void step_net_free(step_net *s)
{
    free(s->nodes);
    free(s->work);
}

/* The decoder of m with a time axis of 1, laid out for `rows` sequences. */
static int32_t step_net_build(vae_model *m, int64_t rows, step_net *s)
{
    const vae_graph *dec = m->dec_graph;
    vae_graph *g = NULL;
    int32_t st = vae_graph_new(&g);
    memset(s, 0, sizeof *s);
    s->data = -1;
    s->first_token = 1.0f;
    int have_bos = 0;
    for (int32_t i = 0; st == VAE_OK && i < dec->n; i++) {
        vae_node_spec spec = dec->nodes[i];
        const vae_op *op = vae_op_get(spec.op);
        if (!op->per_step) {
            vae_graph_free(g);
            return vae_model_fail(m, VAE_ERR_UNSUPPORTED,
                                  "generate: decoder node %d (%s) mixes time "
                                  "steps; generation needs ops that act per "
                                  "step", (int)i, op->name);
        }
        if (op->to_step)
            op->to_step(&spec);
        if (op->reads_data)
            s->data = i;
        if (op->start_id && !have_bos) {
            s->first_token = op->start_id(&spec);
            have_bos = 1;
        }
        int32_t id = vae_graph_add_code(g, spec.op, spec.inputs,
                                        spec.n_inputs, spec.iattr, VAE_N_IATTR,
                                        spec.fattr, VAE_N_FATTR);
        st = id < 0 ? id : VAE_OK;
    }
    if (st != VAE_OK) {
        st = vae_model_fail(m, st, "generate: step decoder: %s",
                            g ? g->err : "out of memory");
        vae_graph_free(g);
        return st;
    }
    s->n = g->n;
    s->out = dec->output;
    s->nodes = vae_calloc((size_t)g->n, sizeof *s->nodes);
    if (s->nodes)
        for (int32_t i = 0; i < g->n; i++) {
            s->nodes[i].s = g->nodes[i];
            s->nodes[i].param_off = m->dec[i].param_off;
        }
    vae_graph_free(g);
    if (!s->nodes)
        return vae_model_fail(m, VAE_ERR_NOMEM, "generate: out of memory");

    int64_t per_row = vae_net_layout_floats(s->nodes, s->n, s->n);
    int64_t scratch = vae_net_scratch(s->nodes, s->n, rows);
    if (per_row > 0 && rows > (INT64_MAX / 16 - scratch) / per_row) {
        step_net_free(s);
        return vae_model_fail(m, VAE_ERR_NOMEM, "generate: %lld sequences "
                              "are too many", (long long)rows);
    }
    int64_t floats = per_row * rows + scratch;
    s->work = vae_malloc((size_t)(floats ? floats : 1) * sizeof(float));
    if (!s->work) {
        step_net_free(s);
        return vae_model_fail(m, VAE_ERR_NOMEM, "generate: out of memory");
    }
    vae_place_nodes(s->nodes, s->n, s->n, s->work, rows,
                    s->work + per_row * rows, &m->run);
    return VAE_OK;
}

/* One decoder step for all rows: feeds prev[r] (ignored by a decoder
 * without a data node) and leaves V logits per row in the output node. */
static void step_net_run(vae_model *m, step_net *s, const float *prev,
                         int64_t rows, int carry)
{
    if (s->data >= 0)
        for (int64_t r = 0; r < rows; r++)
            s->nodes[s->data].val[r] = carry ? prev[r] : s->first_token;
    m->run.carry = carry;
    vae_net_forward(s->nodes, s->n, m->params, rows);
    m->run.carry = 0;
}

/* Floats per row that a beam's row carries from step to step: a
 * recurrent node's state, and z (node 0, whose value no step rewrites). */
static int64_t carried_floats(const step_net *s, int32_t i)
{
    const vae_node *nd = &s->nodes[i];
    if (nd->state)
        return vae_op_get(nd->s.op)->state(&nd->s);
    return i == 0 ? nd->s.size : 0;
}

/* Reorders what every row carries: row r takes that of row from[r]. tmp
 * holds rows x the largest carried_floats. */
static void step_net_gather(step_net *s, const int64_t *from, int64_t rows,
                            float *tmp)
{
    for (int32_t i = 0; i < s->n; i++) {
        int64_t w = carried_floats(s, i);
        float *buf = s->nodes[i].state ? s->nodes[i].state : s->nodes[i].val;
        if (!w)
            continue;
        for (int64_t r = 0; r < rows; r++)
            memcpy(tmp + r * w, buf + from[r] * w, (size_t)w * sizeof(float));
        memcpy(buf, tmp, (size_t)(rows * w) * sizeof(float));
    }
}

static int64_t gather_floats(const step_net *s)
{
    int64_t most = 0;
    for (int32_t i = 0; i < s->n; i++) {
        int64_t w = carried_floats(s, i);
        most = w > most ? w : most;
    }
    return most;
}

/* log-softmax of logits / temperature into lp, with the padding id 0
 * excluded (-inf); V >= 2. Float exponentials, summed in double. */
static void log_softmax(const float *l, int64_t V, double temperature,
                        double *lp)
{
    float inv_t = (float)(1.0 / temperature), mx = l[1] * inv_t;
    double sum = 0.0;
    for (int64_t c = 2; c < V; c++)
        mx = fmaxf(mx, l[c] * inv_t);
    for (int64_t c = 1; c < V; c++)
        sum += (double)vae_fast_expf(l[c] * inv_t - mx);
    double lse = (double)mx + log(sum);
    lp[0] = -INFINITY;
    for (int64_t c = 1; c < V; c++)
        lp[c] = (double)(l[c] * inv_t) - lse;
}

/* Draws an id from exp(lp) restricted to the top_k most probable (top_k
 * >= V: all). ids is scratch of V entries. */
static int64_t draw(vae_rng *rng, const double *lp, int64_t V, int64_t top_k,
                    int64_t *ids)
{
    int64_t n = 0;
    double mass = 0.0;
    if (top_k >= V - 1) {
        for (int64_t c = 1; c < V; c++)
            ids[n++] = c;
    } else {
        /* Partial selection: top_k passes over V, fine for small k. */
        for (int64_t k = 0; k < top_k; k++) {
            int64_t best = -1;
            for (int64_t c = 1; c < V; c++) {
                int taken = 0;
                for (int64_t j = 0; j < n && !taken; j++)
                    taken = ids[j] == c;
                if (!taken && (best < 0 || lp[c] > lp[best]))
                    best = c;
            }
            ids[n++] = best;
        }
    }
    for (int64_t j = 0; j < n; j++)
        mass += exp(lp[ids[j]]);
    double u = vae_rng_uniform(rng) * mass;
    for (int64_t j = 0; j < n; j++) {
        u -= exp(lp[ids[j]]);
        if (u < 0.0)
            return ids[j];
    }
    return ids[n - 1];
}

/* Beam search bookkeeping for one example's B beams at one step: the B
 * best (score, parent, token) extensions; a finished beam extends only by
 * itself (token 0). Writes from[], tok[] and the new scores. */
static void beam_step(const double *lp_rows, int64_t V, int64_t B,
                     const double *score, const int *done, double *nscore,
                     int64_t *from, int64_t *tok)
{
    for (int64_t k = 0; k < B; k++) {
        nscore[k] = -INFINITY;
        from[k] = 0;
        tok[k] = 0;
    }
    for (int64_t p = 0; p < B; p++) {
        if (score[p] == -INFINITY)
            continue;
        int64_t c0 = done[p] ? 0 : 1, c1 = done[p] ? 1 : V;
        for (int64_t c = c0; c < c1; c++) {
            double v = score[p] + (done[p] ? 0.0 : lp_rows[p * V + c]);
            if (v <= nscore[B - 1])
                continue;
            int64_t k = B - 1;
            while (k > 0 && nscore[k - 1] < v) {
                nscore[k] = nscore[k - 1];
                from[k] = from[k - 1];
                tok[k] = tok[k - 1];
                k--;
            }
            nscore[k] = v;
            from[k] = p;
            tok[k] = c;
        }
    }
}

int32_t vae_generate(vae_model *m, const float *z, int64_t n, int32_t mode,
                     double temperature, int64_t top_k, int64_t beam,
                     int64_t eos, int64_t max_len, float *out, int64_t *steps)
{
    if (!z || !out)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "generate: z or out is NULL");
    if (m->likelihood != VAE_LIKELIHOOD_CATEGORICAL)
        return vae_model_fail(m, VAE_ERR_UNSUPPORTED, "generate: the model's "
                              "likelihood is not categorical");
    if (max_len < 1 || max_len > ((int64_t)1 << 24))
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: max_len %lld not "
                              "in 1..2^24", (long long)max_len);
    if (mode < VAE_DECODE_GREEDY || mode > VAE_DECODE_BEAM)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "generate: unknown mode %d", (int)mode);
    if ((mode == VAE_DECODE_SAMPLE || mode == VAE_DECODE_TOP_K) &&
        !(temperature > 0.0 && temperature <= 1e3))
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: temperature %g "
                              "not in (0, 1000]", temperature);
    if (mode == VAE_DECODE_TOP_K && top_k < 1)
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: top_k %lld < 1",
                              (long long)top_k);
    if (mode == VAE_DECODE_BEAM && (beam < 1 || beam > 1024))
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: beam %lld not in "
                              "1..1024", (long long)beam);
    /* Every beam is a row of the step decoder's products. */
    int64_t B = mode == VAE_DECODE_BEAM ? beam : 1;
    if (n < 1 || n > vae_model_max_batch(m) / B)
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: n %lld (x %lld "
                              "beams) not in 1..%lld rows", (long long)n,
                              (long long)B, (long long)vae_model_max_batch(m));
    int32_t st = vae_check_finite(m, z, n * m->latent, "generate: z");
    if (st != VAE_OK)
        return st;

    int64_t rows = n * B, V = m->classes, D = m->latent;
    if (mode != VAE_DECODE_SAMPLE && mode != VAE_DECODE_TOP_K)
        temperature = 1.0;
    if (mode == VAE_DECODE_SAMPLE)
        top_k = V;

    step_net s;
    st = step_net_build(m, rows, &s);
    if (st != VAE_OK)
        return st;
    float *prev = vae_calloc((size_t)rows, sizeof *prev);
    double *lp = vae_malloc((size_t)(rows * V) * sizeof *lp);
    double *score = vae_malloc((size_t)rows * sizeof *score);
    double *nscore = vae_malloc((size_t)rows * sizeof *nscore);
    int64_t *from = vae_malloc((size_t)rows * sizeof *from);
    int64_t *tok = vae_malloc((size_t)rows * sizeof *tok);
    int64_t *ids = vae_malloc((size_t)V * sizeof *ids);
    int *done = vae_calloc((size_t)rows, sizeof *done);
    int64_t *len = vae_calloc((size_t)rows, sizeof *len);
    int64_t *plen = vae_malloc((size_t)rows * sizeof *plen);
    int *pdone = vae_malloc((size_t)rows * sizeof *pdone);
    float *hist = vae_calloc((size_t)(rows * max_len), sizeof *hist);
    float *tmp = vae_malloc((size_t)(rows * gather_floats(&s) +
                                     rows * max_len) * sizeof *tmp);
    if (!prev || !lp || !score || !nscore || !from || !tok || !ids || !done ||
        !len || !plen || !pdone || !hist || !tmp) {
        st = vae_model_fail(m, VAE_ERR_NOMEM, "generate: out of memory");
        goto cleanup;
    }
    for (int64_t r = 0; r < rows; r++) {
        memcpy(s.nodes[0].val + r * D, z + (r / B) * D,
               (size_t)D * sizeof(float));
        /* Beams of one example start identical: only the first is live, so
         * the first step does not pick the same token B times. */
        score[r] = r % B == 0 ? 0.0 : -INFINITY;
    }

    int64_t taken = 0;
    for (int64_t t = 0; t < max_len; t++) {
        int all_done = 1;
        for (int64_t r = 0; r < rows && all_done; r++)
            all_done = done[r];
        if (all_done)
            break;
        step_net_run(m, &s, prev, rows, t > 0);
        taken++;
        const float *logits = s.nodes[s.out].val;
        if (mode == VAE_DECODE_GREEDY) {
            /* The largest logit is the most probable id; padding excluded. */
            for (int64_t r = 0; r < rows; r++)
                tok[r] = 1 + vae_argmax(logits + r * V + 1, V - 1);
        } else {
            for (int64_t r = 0; r < rows; r++)
                log_softmax(logits + r * V, V, temperature, lp + r * V);
        }
        if (mode == VAE_DECODE_BEAM) {
            for (int64_t e = 0; e < n; e++)
                beam_step(lp + e * B * V, V, B, score + e * B, done + e * B,
                          nscore + e * B, from + e * B, tok + e * B);
            /* Parent indices become row indices; each row takes over its
             * parent's history, length and finished flag. */
            for (int64_t r = 0; r < rows; r++)
                from[r] += (r / B) * B;
            for (int64_t r = 0; r < rows; r++) {
                memcpy(tmp + r * max_len, hist + from[r] * max_len,
                       (size_t)max_len * sizeof *hist);
                plen[r] = len[from[r]];
                pdone[r] = done[from[r]];
            }
            memcpy(hist, tmp, (size_t)(rows * max_len) * sizeof *hist);
            memcpy(len, plen, (size_t)rows * sizeof *len);
            memcpy(done, pdone, (size_t)rows * sizeof *done);
            memcpy(score, nscore, (size_t)rows * sizeof *score);
            step_net_gather(&s, from, rows, tmp);
        } else if (mode != VAE_DECODE_GREEDY) {
            for (int64_t r = 0; r < rows; r++)
                tok[r] = draw(&m->rng, lp + r * V, V, top_k, ids);
        }
        for (int64_t r = 0; r < rows; r++) {
            if (done[r] || tok[r] == 0)
                continue;
            hist[r * max_len + len[r]++] = (float)tok[r];
            prev[r] = (float)tok[r];
            done[r] = tok[r] == eos;
        }
    }
    /* The best beam by mean log-probability per token (raw sums favour
     * short sentences). */
    for (int64_t e = 0; e < n; e++) {
        int64_t best = e * B;
        for (int64_t r = e * B + 1; r < (e + 1) * B; r++)
            if (score[r] / (double)(len[r] ? len[r] : 1) >
                score[best] / (double)(len[best] ? len[best] : 1))
                best = r;
        memcpy(out + e * max_len, hist + best * max_len,
               (size_t)max_len * sizeof *out);
    }
    if (steps)
        *steps = taken;
cleanup:
    step_net_free(&s);
    free(prev);
    free(lp);
    free(score);
    free(nscore);
    free(from);
    free(tok);
    free(ids);
    free(done);
    free(len);
    free(plen);
    free(pdone);
    free(hist);
    free(tmp);
    return st;
}

VAE_API int32_t vae_model_generate(vae_model *m, const float *z, int64_t n,
                                   int32_t mode, double temperature,
                                   int64_t top_k, int64_t beam, int64_t eos,
                                   int64_t max_len, float *out, int64_t *steps)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    return vae_generate(m, z, n, mode, temperature, top_k, beam, eos, max_len,
                        out, steps);
}
