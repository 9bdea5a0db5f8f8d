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
#include "conditioning.h"
#include "fastmath.h"
#include "generate.h"
#include "likelihood.h"
#include "net.h"
#include "ops/ops.h"
#include "pool.h"

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
            s->nodes[i].buf = m->dec[i].buf;
        }
    vae_graph_free(g);
    if (!s->nodes)
        return vae_model_fail(m, VAE_ERR_NOMEM, "generate: out of memory");

    int64_t per_row = vae_net_layout_floats(s->nodes, s->n, s->n);
    int32_t slots = vae_pool_threads();
    int64_t scratch = vae_net_scratch(s->nodes, s->n, rows, slots);
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
                    s->work + per_row * rows, slots, &m->run);
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

/* Sifts element i of the max-heap ids[0..n-1] (ordered by lp, ties by the
 * smaller id) down to its place. */
static void sift_down(int64_t *ids, int64_t n, int64_t i, const double *lp)
{
    for (;;) {
        int64_t top = i, l = 2 * i + 1, r = l + 1;
        if (l < n && (lp[ids[l]] > lp[ids[top]] ||
                      (lp[ids[l]] == lp[ids[top]] && ids[l] < ids[top])))
            top = l;
        if (r < n && (lp[ids[r]] > lp[ids[top]] ||
                      (lp[ids[r]] == lp[ids[top]] && ids[r] < ids[top])))
            top = r;
        if (top == i)
            return;
        int64_t t = ids[i];
        ids[i] = ids[top];
        ids[top] = t;
        i = top;
    }
}

/* Nucleus sampling (Holtzman et al. 2020): draws an id from exp(lp)
 * restricted to the fewest most probable ids whose probabilities add up
 * to at least top_p. A heap pops ids in order of probability, so the cost
 * is O(V) plus O(log V) per id of the nucleus, not a sort of V. ids is
 * scratch of V entries. */
static int64_t draw_nucleus(vae_rng *rng, const double *lp, int64_t V,
                            double top_p, int64_t *ids)
{
    int64_t n = 0;
    double total = 0.0;
    for (int64_t c = 1; c < V; c++)
        if (lp[c] > -INFINITY) {
            ids[n++] = c;
            total += exp(lp[c]);
        }
    for (int64_t i = n / 2 - 1; i >= 0; i--)
        sift_down(ids, n, i, lp);
    /* Pop the most probable ids to the end of ids, in order. */
    double mass = 0.0;
    int64_t kept = 0, heap = n;
    while (heap > 0 && (kept == 0 || mass < top_p * total)) {
        int64_t best = ids[0];
        ids[0] = ids[--heap];
        sift_down(ids, heap, 0, lp);
        ids[n - 1 - kept++] = best;
        mass += exp(lp[best]);
    }
    double u = vae_rng_uniform(rng) * mass;
    for (int64_t j = 0; j < kept; j++) {
        int64_t id = ids[n - 1 - j];
        u -= exp(lp[id]);
        if (u < 0.0)
            return id;
    }
    return ids[n - kept];
}

/* The ids that would repeat an n-gram of the history h[0..len-1]: for
 * every earlier occurrence of its last n - 1 ids, the id that followed.
 * Lists them in list and returns how many; ban (V entries, all 0 on
 * entry) marks them, and the caller clears it again. */
static int64_t ngram_bans(const float *h, int64_t len, int64_t ngram,
                          unsigned char *ban, int64_t *list)
{
    int64_t count = 0;
    if (ngram < 1 || len < ngram - 1)
        return 0;
    const float *tail = h + len - (ngram - 1);
    for (int64_t i = 0; i + ngram - 1 < len; i++) {
        int64_t k = 0;
        while (k < ngram - 1 && h[i + k] == tail[k])
            k++;
        int64_t next = (int64_t)h[i + ngram - 1];
        if (k == ngram - 1 && !ban[next]) {
            ban[next] = 1;
            list[count++] = next;
        }
    }
    return count;
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

/* The buffers of one generate call, carved from one allocation: per row
 * (rows = examples x beams) the token fed next, its score and finished
 * flag, its history of up to max_len ids, and the beam bookkeeping. */
typedef struct decode_bufs {
    float *prev, *hist, *tmp;
    double *lp, *score, *nscore;
    int64_t *from, *tok, *ids, *len, *plen, *banned;
    int *done, *pdone;
    unsigned char *ban;
    void *block;
} decode_bufs;

/* The next n elements of `size` bytes at *off in block (8-byte aligned),
 * or NULL while block is NULL and only the offsets are being added up. */
static void *carve(unsigned char *block, size_t *off, int64_t n, size_t size)
{
    void *q = block ? block + *off : NULL;
    *off += ((size_t)n * size + 7) & ~(size_t)7;
    return q;
}

/* Allocates every buffer at once, zeroed; returns 0 when out of memory.
 * The first pass measures, the second hands the block out. */
static int decode_bufs_alloc(decode_bufs *d, int64_t rows, int64_t V,
                             int64_t max_len, int64_t gather)
{
    const int64_t tmp_floats = rows * gather + rows * max_len;
    d->block = NULL;
    for (int pass = 0; pass < 2; pass++) {
        unsigned char *b = d->block;
        size_t off = 0;
        size_t *p = &off;
        d->prev = carve(b, p, rows, sizeof(float));
        d->hist = carve(b, p, rows * max_len, sizeof(float));
        d->tmp = carve(b, p, tmp_floats, sizeof(float));
        d->lp = carve(b, p, rows * V, sizeof(double));
        d->score = carve(b, p, rows, sizeof(double));
        d->nscore = carve(b, p, rows, sizeof(double));
        d->from = carve(b, p, rows, sizeof(int64_t));
        d->tok = carve(b, p, rows, sizeof(int64_t));
        d->ids = carve(b, p, V, sizeof(int64_t));
        d->len = carve(b, p, rows, sizeof(int64_t));
        d->plen = carve(b, p, rows, sizeof(int64_t));
        d->done = carve(b, p, rows, sizeof(int));
        d->pdone = carve(b, p, rows, sizeof(int));
        d->banned = carve(b, p, V, sizeof(int64_t));
        d->ban = carve(b, p, V, 1);
        if (!pass && !(d->block = vae_calloc(1, off)))
            return 0;
    }
    return 1;
}

/* Beam search, one step for all n examples: each example's B rows take
 * their best extensions, and every row then takes over its parent's
 * history, length, finished flag and carried decoder state. */
static void beam_advance(step_net *s, decode_bufs *d, int64_t n, int64_t B,
                         int64_t V, int64_t max_len)
{
    int64_t rows = n * B;
    for (int64_t e = 0; e < n; e++)
        beam_step(d->lp + e * B * V, V, B, d->score + e * B, d->done + e * B,
                  d->nscore + e * B, d->from + e * B, d->tok + e * B);
    /* Parent indices become row indices. */
    for (int64_t r = 0; r < rows; r++)
        d->from[r] += (r / B) * B;
    for (int64_t r = 0; r < rows; r++) {
        memcpy(d->tmp + r * max_len, d->hist + d->from[r] * max_len,
               (size_t)max_len * sizeof *d->hist);
        d->plen[r] = d->len[d->from[r]];
        d->pdone[r] = d->done[d->from[r]];
    }
    memcpy(d->hist, d->tmp, (size_t)(rows * max_len) * sizeof *d->hist);
    memcpy(d->len, d->plen, (size_t)rows * sizeof *d->len);
    memcpy(d->done, d->pdone, (size_t)rows * sizeof *d->done);
    memcpy(d->score, d->nscore, (size_t)rows * sizeof *d->score);
    step_net_gather(s, d->from, rows, d->tmp);
}

/* Keeps row r from repeating an n-gram of its history: the ids that would
 * are set to -inf in row (V values: logits or log-probabilities), unless
 * that would leave no id at all. */
static void block_repeats(decode_bufs *d, const vae_gen_settings *g,
                          int64_t r, int64_t V, int64_t max_len, float *flt,
                          double *dbl)
{
    int64_t n = ngram_bans(d->hist + r * max_len, d->len[r],
                           g->no_repeat_ngram, d->ban, d->banned);
    for (int64_t i = 0; i < n; i++) {
        if (n < V - 1) {
            if (flt)
                flt[d->banned[i]] = -INFINITY;
            else
                dbl[d->banned[i]] = -INFINITY;
        }
        d->ban[d->banned[i]] = 0;
    }
}

/* The next token of every row from the step's logits, by the mode. */
static void choose_tokens(vae_model *m, step_net *s, decode_bufs *d,
                          const vae_gen_settings *g, int64_t n, int64_t B,
                          int64_t max_len)
{
    const int64_t rows = n * B, V = m->classes;
    float *logits = s->nodes[s->out].val;
    int block = g->no_repeat_ngram > 0;
    if (g->mode == VAE_DECODE_GREEDY) {
        /* The largest logit is the most probable id; padding excluded. */
        for (int64_t r = 0; r < rows; r++) {
            if (block)
                block_repeats(d, g, r, V, max_len, logits + r * V, NULL);
            d->tok[r] = 1 + vae_argmax(logits + r * V + 1, V - 1);
        }
        return;
    }
    double temperature = g->mode == VAE_DECODE_BEAM ? 1.0 : g->temperature;
    for (int64_t r = 0; r < rows; r++) {
        log_softmax(logits + r * V, V, temperature, d->lp + r * V);
        if (block)
            block_repeats(d, g, r, V, max_len, NULL, d->lp + r * V);
    }
    if (g->mode == VAE_DECODE_BEAM) {
        beam_advance(s, d, n, B, V, max_len);
        return;
    }
    for (int64_t r = 0; r < rows; r++)
        d->tok[r] = g->mode == VAE_DECODE_TOP_P
                        ? draw_nucleus(&m->rng, d->lp + r * V, V, g->top_p,
                                       d->ids)
                        : draw(&m->rng, d->lp + r * V, V,
                               g->mode == VAE_DECODE_SAMPLE ? V : g->top_k,
                               d->ids);
}

/* Checks the settings a mode uses (the others are ignored). */
static int32_t check_settings(vae_model *m, const vae_gen_settings *g)
{
    if (g->mode < VAE_DECODE_GREEDY || g->mode > VAE_DECODE_TOP_P)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "generate: unknown mode %d", (int)g->mode);
    int draws = g->mode == VAE_DECODE_SAMPLE || g->mode == VAE_DECODE_TOP_K ||
                g->mode == VAE_DECODE_TOP_P;
    if (draws && !(g->temperature > 0.0 && g->temperature <= 1e3))
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: temperature %g "
                              "not in (0, 1000]", g->temperature);
    if (g->mode == VAE_DECODE_TOP_K && g->top_k < 1)
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: top_k %lld < 1",
                              (long long)g->top_k);
    if (g->mode == VAE_DECODE_BEAM && (g->beam < 1 || g->beam > 1024))
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: beam %lld not in "
                              "1..1024", (long long)g->beam);
    if (g->mode == VAE_DECODE_TOP_P && !(g->top_p > 0.0 && g->top_p <= 1.0))
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: top_p %g not in "
                              "(0, 1]", g->top_p);
    return VAE_OK;
}

int32_t vae_generate(vae_model *m, const float *z, int64_t n,
                     const vae_gen_settings *g, int64_t max_len, float *out,
                     int64_t *steps)
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
    int32_t st = check_settings(m, g);
    if (st != VAE_OK)
        return st;
    /* Every beam is a row of the step decoder's products. */
    int64_t B = g->mode == VAE_DECODE_BEAM ? g->beam : 1;
    if (n < 1 || n > vae_model_max_batch(m) / B)
        return vae_model_fail(m, VAE_ERR_RANGE, "generate: n %lld (x %lld "
                              "beams) not in 1..%lld rows", (long long)n,
                              (long long)B, (long long)vae_model_max_batch(m));
    st = vae_check_finite(m, z, n * m->latent, "generate: z");
    if (st == VAE_OK)
        st = vae_check_condition(m, n, "generate");
    if (st != VAE_OK)
        return st;

    int64_t rows = n * B, V = m->classes, D = m->latent;
    step_net s;
    st = step_net_build(m, rows, &s);
    if (st != VAE_OK)
        return st;
    decode_bufs d;
    if (!decode_bufs_alloc(&d, rows, V, max_len, gather_floats(&s))) {
        step_net_free(&s);
        return vae_model_fail(m, VAE_ERR_NOMEM, "generate: out of memory");
    }
    for (int64_t r = 0; r < rows; r++) {
        memcpy(s.nodes[0].val + r * D, z + (r / B) * D,
               (size_t)D * sizeof(float));
        /* Beams of one example start identical: only the first is live, so
         * the first step does not pick the same token B times. */
        d.score[r] = r % B == 0 ? 0.0 : -INFINITY;
    }
    /* Like z, the condition is the same at every step: set once. */
    if (m->dec_cond >= 0)
        vae_put_condition(m, &s.nodes[m->dec_cond], 0, rows, B);

    int64_t taken = 0;
    for (int64_t t = 0; t < max_len; t++) {
        int all_done = 1;
        for (int64_t r = 0; r < rows && all_done; r++)
            all_done = d.done[r];
        if (all_done)
            break;
        step_net_run(m, &s, d.prev, rows, t > 0);
        taken++;
        choose_tokens(m, &s, &d, g, n, B, max_len);
        for (int64_t r = 0; r < rows; r++) {
            if (d.done[r] || d.tok[r] == 0)
                continue;
            d.hist[r * max_len + d.len[r]++] = (float)d.tok[r];
            d.prev[r] = (float)d.tok[r];
            d.done[r] = d.tok[r] == g->eos;
        }
    }
    /* The best beam by log-probability / length^alpha: raw sums (alpha 0)
     * favour short sentences, alpha 1 ranks by the mean per token. */
    for (int64_t e = 0; e < n; e++) {
        int64_t best = e * B;
        double top = -INFINITY;
        for (int64_t r = e * B; r < (e + 1) * B; r++) {
            double len = (double)(d.len[r] ? d.len[r] : 1);
            double v = d.score[r] / pow(len, g->length_penalty);
            if (r == e * B || v > top) {
                top = v;
                best = r;
            }
        }
        memcpy(out + e * max_len, d.hist + best * max_len,
               (size_t)max_len * sizeof *out);
    }
    if (steps)
        *steps = taken;
    step_net_free(&s);
    free(d.block);
    return VAE_OK;
}

VAE_API int32_t vae_model_generate(vae_model *m, const float *z, int64_t n,
                                   int32_t mode, double temperature,
                                   int64_t top_k, int64_t beam, int64_t eos,
                                   int64_t max_len, float *out, int64_t *steps)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    /* The positional form has no argument for the newer modes. */
    if (mode > VAE_DECODE_BEAM)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "generate: unknown "
                              "mode %d (newer modes: vae_model_set_generation)",
                              (int)mode);
    vae_gen_settings g = VAE_GEN_DEFAULTS;
    g.mode = mode;
    g.temperature = temperature;
    g.top_k = top_k;
    g.beam = beam;
    g.eos = eos;
    return vae_generate(m, z, n, &g, max_len, out, steps);
}

/* ---- Generation settings kept on the model ------------------------------ */

VAE_API int32_t vae_model_generate_tokens(vae_model *m, const float *z,
                                          int64_t n, int64_t max_len,
                                          float *out, int64_t *steps)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    return vae_generate(m, z, n, &m->gen, max_len, out, steps);
}

/* Vocabularies hold at most 2^24 ids (float32 carries them exactly). */
#define ID_LIMIT 16777216.0

/* An integer in [lo, hi] held exactly by a double. */
static int whole_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

VAE_API int32_t vae_model_set_generation(vae_model *m, int32_t key,
                                         double value)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    vae_gen_settings *g = &m->gen;
    switch (key) {
    case VAE_GEN_MODE:
        if (!whole_in(value, VAE_DECODE_GREEDY, VAE_DECODE_TOP_P))
            break;
        g->mode = (int32_t)value;
        return VAE_OK;
    case VAE_GEN_TEMPERATURE:
        if (!(value > 0.0 && value <= 1e3))
            break;
        g->temperature = value;
        return VAE_OK;
    case VAE_GEN_TOP_K:
        if (!whole_in(value, 1, ID_LIMIT))
            break;
        g->top_k = (int64_t)value;
        return VAE_OK;
    case VAE_GEN_BEAM:
        if (!whole_in(value, 1, 1024))
            break;
        g->beam = (int64_t)value;
        return VAE_OK;
    case VAE_GEN_EOS:
        if (!whole_in(value, VAE_NO_EOS, ID_LIMIT - 1))
            break;
        g->eos = (int64_t)value;
        return VAE_OK;
    case VAE_GEN_TOP_P:
        if (!(value > 0.0 && value <= 1.0))
            break;
        g->top_p = value;
        return VAE_OK;
    case VAE_GEN_NO_REPEAT_NGRAM:
        if (!whole_in(value, 0, VAE_GEN_NGRAM_MAX))
            break;
        g->no_repeat_ngram = (int64_t)value;
        return VAE_OK;
    case VAE_GEN_LENGTH_PENALTY:
        if (!(value >= 0.0 && value <= 10.0))
            break;
        g->length_penalty = value;
        return VAE_OK;
    default:
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "set_generation: unknown key %d", (int)key);
    }
    return vae_model_fail(m, VAE_ERR_RANGE, "set_generation: %g is not a "
                          "valid value for key %d (vae.h, VAE_GEN_*)", value,
                          (int)key);
}

VAE_API int32_t vae_model_get_generation(vae_model *m, int32_t key,
                                         double *value)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (!value)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "get_generation: value is NULL");
    const vae_gen_settings *g = &m->gen;
    switch (key) {
    case VAE_GEN_MODE: *value = g->mode; return VAE_OK;
    case VAE_GEN_TEMPERATURE: *value = g->temperature; return VAE_OK;
    case VAE_GEN_TOP_K: *value = (double)g->top_k; return VAE_OK;
    case VAE_GEN_BEAM: *value = (double)g->beam; return VAE_OK;
    case VAE_GEN_EOS: *value = (double)g->eos; return VAE_OK;
    case VAE_GEN_TOP_P: *value = g->top_p; return VAE_OK;
    case VAE_GEN_NO_REPEAT_NGRAM: *value = (double)g->no_repeat_ngram;
        return VAE_OK;
    case VAE_GEN_LENGTH_PENALTY: *value = g->length_penalty; return VAE_OK;
    default:
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "get_generation: unknown key %d", (int)key);
    }
}
