/* lstm.c - LSTM over a sequence [T, F], laid out and initialised like
 * nn.LSTM: W_ih (4H x F), W_hh (4H x H), b_ih (4H), b_hh (4H), gate rows in
 * the order i, f, g, o. For each example and step t:
 *
 *   G_t = x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T
 *   i, f, o = sigmoid(G_t rows), g = tanh(G_t rows)
 *   c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)
 *
 * A masked step (id 0) keeps (h, c), outputs zeros and gets no gradient.
 *
 * Everything stays batch-major like the data ([batch, T, ...]): the rows of
 * one step across the batch then form a matrix with leading dimension
 * T * width, so each step's recurrent product is one sgemm on the arrays in
 * place, with no time-major copies. The input projection x W_ih^T, and in
 * backward dW_ih, dW_hh and dx, are one sgemm each over all batch * T rows.
 *
 * Saved for backward, per example: the gate activations [T, 4H], the state
 * entering each step hprev, cprev [T, H] and tanh(c_t) [T, H]. Keeping the
 * state *entering* each step (rather than the one leaving it) puts h_{t-1}
 * in the same row as dG_t, which is what lets dW_hh be one product. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "../fastmath.h"
#include "../gemm.h"
#include "../pool.h"
#include "../simd.h"
#include "bias.h"
#include "ops.h"

/* iattr: hidden, full_sequence, has_init, has_mask as the builder stores
 * them, then T, recorded by the shape function: the saved and scratch
 * hooks see only the node's spec, and a last-state output [H] does not
 * carry T in its shape. */
enum { A_HIDDEN, A_FULL, A_INIT, A_MASK, A_STEPS };

typedef struct lstm_geom {
    int64_t t, f, h;
} lstm_geom;

static lstm_geom geom(const vae_node_spec *s)
{
    int64_t h = s->iattr[A_HIDDEN];
    return (lstm_geom){.t = s->iattr[A_STEPS],
                       .f = (s->n_params - 4 * h * h - 8 * h) / (4 * h),
                       .h = h};
}

static int32_t lstm_shape(vae_node_spec *s, const vae_node_spec *const *in,
                          char *err, size_t errlen)
{
    int64_t h = s->iattr[A_HIDDEN], full = s->iattr[A_FULL];
    int64_t has_init = s->iattr[A_INIT], has_mask = s->iattr[A_MASK];
    if (full != 0 && full != 1) {
        vae_set_err(err, errlen, "full_sequence is %lld (must be 0 or 1)",
                    (long long)full);
        return VAE_ERR_RANGE;
    }
    if ((has_init != 0 && has_init != 1) || (has_mask != 0 && has_mask != 1) ||
        s->n_inputs != 1 + has_init + has_mask) {
        vae_set_err(err, errlen, "%d inputs with has_init %lld, has_mask %lld "
                    "(expected x, then init and mask if present)",
                    (int)s->n_inputs, (long long)has_init, (long long)has_mask);
        return VAE_ERR_GRAPH;
    }
    if (h < 1 || h > ((int64_t)1 << 20)) {
        vae_set_err(err, errlen, "hidden %lld not in 1..2^20", (long long)h);
        return VAE_ERR_RANGE;
    }
    const vae_node_spec *x = in[0];
    if (x->rank != 2) {
        vae_set_err(err, errlen, "x has rank %d; it must be a sequence [T, F]",
                    (int)x->rank);
        return VAE_ERR_SHAPE;
    }
    int64_t t = x->shape[0], f = x->shape[1];
    /* The weights must fit the parameter buffer comfortably, and a step's
     * rows are T * 4H floats apart, a BLAS int leading dimension. */
    if (f > ((int64_t)1 << 30) || 4 * h * (f + h) > ((int64_t)1 << 36)) {
        vae_set_err(err, errlen, "%lld features and %lld hidden units need "
                    "too many weights", (long long)f, (long long)h);
        return VAE_ERR_SHAPE;
    }
    if (t > INT_MAX / (4 * h)) {
        vae_set_err(err, errlen, "%lld steps of %lld hidden units are too "
                    "many", (long long)t, (long long)h);
        return VAE_ERR_SHAPE;
    }
    if (has_init && in[1]->size != 2 * h) {
        vae_set_err(err, errlen, "init has %lld elements per example; it must "
                    "hold h0 then c0, 2 x %lld", (long long)in[1]->size,
                    (long long)h);
        return VAE_ERR_SHAPE;
    }
    if (has_mask) {
        const vae_node_spec *m = in[1 + has_init];
        if (m->rank != 1 || m->shape[0] != t) {
            vae_set_err(err, errlen, "mask must be [%lld] token ids, one per "
                        "step of x, not %lld elements of rank %d",
                        (long long)t, (long long)m->size, (int)m->rank);
            return VAE_ERR_SHAPE;
        }
    }
    s->iattr[A_STEPS] = t;
    s->rank = full ? 2 : 1;
    s->shape[0] = full ? t : h;
    s->shape[1] = full ? h : 0;
    s->n_params = 4 * h * (f + h) + 8 * h;
    return vae_shape_finish(s, err, errlen);
}

/* nn.LSTM's default: every weight and bias uniform in +-1/sqrt(H). */
static void lstm_init(const vae_node_spec *s, float *w, vae_rng *r)
{
    vae_rng_init_uniform(r, w, s->n_params,
                         (float)(1.0 / sqrt((double)s->iattr[A_HIDDEN])));
}

static int64_t lstm_saved(const vae_node_spec *s)
{
    lstm_geom g = geom(s);
    return 7 * g.t * g.h;
}

static int64_t lstm_state(const vae_node_spec *s)
{
    return 2 * s->iattr[A_HIDDEN];
}

/* Backward's running dL/dh and dL/dc for the batch. */
static int64_t lstm_scratch(const vae_node_spec *s, int64_t batch,
                            int32_t slots)
{
    (void)slots;
    return 2 * batch * s->iattr[A_HIDDEN];
}

/* Where a batch's saved arrays live (see the file comment). */
typedef struct lstm_saved_arrays {
    float *gates, *hprev, *cprev, *tanhc;
} lstm_saved_arrays;

static lstm_saved_arrays saved_arrays(const vae_node *n, int64_t batch)
{
    lstm_geom g = geom(&n->s);
    int64_t seq = batch * g.t * g.h;
    float *p = n->saved;
    return (lstm_saved_arrays){.gates = p, .hprev = p + 4 * seq,
                               .cprev = p + 5 * seq, .tanhc = p + 6 * seq};
}

/* The mask's ids, or NULL when every step is active. */
static const float *mask_ids(const vae_node *n, vae_node *const *in)
{
    return n->s.iattr[A_MASK] ? in[1 + n->s.iattr[A_INIT]]->val : NULL;
}

/* One step of one example: the gate pre-activations g4 (i, f, g, o rows of
 * h) become activations in place; cp is the entering c; hn, cn, tc receive
 * h, c and tanh(c) leaving the step. restrict: the gate rows and the state
 * rows never overlap, and saying so lets GCC vectorise the loop. */
VAE_CLONES
static void cell_forward(float *restrict gi, float *restrict gf,
                         float *restrict gg, float *restrict go,
                         const float *restrict cp, float *restrict hn,
                         float *restrict cn, float *restrict tc, int64_t h)
{
    for (int64_t j = 0; j < h; j++) {
        float i = vae_fast_sigmoidf(gi[j]), f = vae_fast_sigmoidf(gf[j]);
        float g = vae_fast_tanhf(gg[j]), o = vae_fast_sigmoidf(go[j]);
        float c = f * cp[j] + i * g;
        float t = vae_fast_tanhf(c);
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        cn[j] = c;
        tc[j] = t;
        hn[j] = o * t;
    }
}

/* One time step of the batch, for the worker pool: the examples are
 * independent, so a task takes a range of them (forward_rows,
 * backward_rows). */
typedef struct lstm_step {
    vae_node *n;
    lstm_saved_arrays sv;
    const float *ids;
    int64_t t, T, H;
    int full;
    float *dh, *dc; /* backward's running gradients */
} lstm_step;

static void forward_rows(void *ctx, int64_t lo, int64_t hi)
{
    const lstm_step *st = ctx;
    vae_node *n = st->n;
    const lstm_saved_arrays sv = st->sv;
    const int64_t t = st->t, T = st->T, H = st->H, G4 = 4 * H;
    const float *ids = st->ids;
    const int full = st->full;
    for (int64_t b = lo; b < hi; b++) {
        int64_t row = b * T + t;
        const float *hp = sv.hprev + row * H, *cp = sv.cprev + row * H;
        /* The last step's state is the node's state; the others are the
         * next step's entering state. */
        float *hn = t + 1 < T ? sv.hprev + (row + 1) * H
                              : n->state + b * 2 * H;
        float *cn = t + 1 < T ? sv.cprev + (row + 1) * H : hn + H;
        int active = !ids || ids[row] != 0.0f;
        float *g4 = sv.gates + row * G4;
        cell_forward(g4, g4 + H, g4 + 2 * H, g4 + 3 * H, cp, hn, cn,
                     sv.tanhc + row * H, H);
        if (!active) {
            memcpy(hn, hp, (size_t)H * sizeof(float));
            memcpy(cn, cp, (size_t)H * sizeof(float));
        }
        if (full && active)
            memcpy(n->val + row * H, hn, (size_t)H * sizeof(float));
        else if (full)
            memset(n->val + row * H, 0, (size_t)H * sizeof(float));
    }
}

/* Examples per task of a step: one share per thread. A step's cells are a
 * few microseconds per example, too little for the elementwise grain, and
 * examples are independent, so the split does not change any result. */
static int64_t step_grain(int64_t batch)
{
    int64_t threads = vae_pool_threads();
    return (batch + threads - 1) / threads;
}

static void lstm_forward(vae_node *n, vae_node *const *in, const float *w,
                         int64_t batch)
{
    lstm_geom g = geom(&n->s);
    const int64_t T = g.t, H = g.h, G4 = 4 * H;
    const float *w_ih = w, *w_hh = w + G4 * g.f, *b_ih = w_hh + G4 * H;
    const float *b_hh = b_ih + G4, *ids = mask_ids(n, in);
    const int full = (int)n->s.iattr[A_FULL];
    lstm_saved_arrays sv = saved_arrays(n, batch);

    vae_sgemm_bias(0, 1, batch * T, G4, g.f, in[0]->val, g.f, w_ih, g.f,
                   b_ih, b_hh, sv.gates, G4);

    for (int64_t b = 0; b < batch; b++) {
        float *h0 = sv.hprev + b * T * H, *c0 = sv.cprev + b * T * H;
        if (n->run->carry) {
            memcpy(h0, n->state + b * 2 * H, (size_t)H * sizeof(float));
            memcpy(c0, n->state + b * 2 * H + H, (size_t)H * sizeof(float));
        } else if (n->s.iattr[A_INIT]) {
            memcpy(h0, in[1]->val + b * 2 * H, (size_t)H * sizeof(float));
            memcpy(c0, in[1]->val + b * 2 * H + H, (size_t)H * sizeof(float));
        } else {
            memset(h0, 0, (size_t)H * sizeof(float));
            memset(c0, 0, (size_t)H * sizeof(float));
        }
    }

    lstm_step st = {.n = n, .sv = sv, .ids = ids, .T = T, .H = H,
                    .full = full};
    int64_t grain = step_grain(batch);
    for (int64_t t = 0; t < T; t++) {
        vae_sgemm(0, 1, batch, G4, H, 1.0f, sv.hprev + t * H, T * H, w_hh, H,
                  1.0f, sv.gates + t * G4, T * G4);
        st.t = t;
        vae_parallel_ranges(batch, grain, forward_rows, &st);
    }
    if (!full)
        for (int64_t b = 0; b < batch; b++)
            memcpy(n->val + b * H, n->state + b * 2 * H,
                   (size_t)H * sizeof(float));
}

/* One active step of one example: dh (all of dL/dh_t) and dc (dL/dc_t from
 * later steps) in; the gate activations (rows as in cell_forward) become
 * dL/dG_t in place and dc becomes dL/dc_{t-1}. */
VAE_CLONES
static void cell_backward(float *restrict gi, float *restrict gf,
                          float *restrict gg, float *restrict go,
                          const float *restrict cp, const float *restrict tc,
                          const float *restrict dh, float *restrict dc,
                          int64_t h)
{
    for (int64_t j = 0; j < h; j++) {
        float i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tc[j];
        float dct = dc[j] + dh[j] * o * (1.0f - t * t);
        gi[j] = dct * g * i * (1.0f - i);
        gf[j] = dct * cp[j] * f * (1.0f - f);
        gg[j] = dct * i * (1.0f - g * g);
        go[j] = dh[j] * t * o * (1.0f - o);
        dc[j] = dct * f;
    }
}

static void backward_rows(void *ctx, int64_t lo, int64_t hi)
{
    const lstm_step *st = ctx;
    const vae_node *n = st->n;
    const lstm_saved_arrays sv = st->sv;
    const int64_t t = st->t, T = st->T, H = st->H, G4 = 4 * H;
    for (int64_t b = lo; b < hi; b++) {
        int64_t row = b * T + t;
        float *gate = sv.gates + row * G4, *dhb = st->dh + b * H;
        if (st->ids && st->ids[row] == 0.0f) {
            memset(gate, 0, (size_t)G4 * sizeof(float));
            continue;
        }
        if (st->full)
            for (int64_t j = 0; j < H; j++)
                dhb[j] += n->grad[row * H + j];
        cell_backward(gate, gate + H, gate + 2 * H, gate + 3 * H,
                      sv.cprev + row * H, sv.tanhc + row * H, dhb,
                      st->dc + b * H, H);
        /* The sgemm after the step adds dG_t W_hh, all of this row's
         * dh_{t-1}. */
        memset(dhb, 0, (size_t)H * sizeof(float));
    }
}

/* Consumes the saved gates (they become dL/dG), so each backward needs its
 * own forward, as the model always runs them. */
static void lstm_backward(vae_node *n, vae_node *const *in, const float *w,
                          float *dw, int64_t batch)
{
    lstm_geom g = geom(&n->s);
    const int64_t T = g.t, H = g.h, G4 = 4 * H;
    const float *w_ih = w, *w_hh = w + G4 * g.f, *ids = mask_ids(n, in);
    float *dw_ih = dw, *dw_hh = dw + G4 * g.f, *db_ih = dw_hh + G4 * H;
    float *db_hh = db_ih + G4;
    const int full = (int)n->s.iattr[A_FULL];
    float *init_grad = n->s.iattr[A_INIT] ? in[1]->grad : NULL;
    lstm_saved_arrays sv = saved_arrays(n, batch);
    /* dh, dc: dL/d(state entering step t+1) while step t runs. A last-state
     * output is the state after the final step (masked steps pass it on
     * unchanged), so its gradient starts there. */
    float *dh = n->scratch, *dc = dh + batch * H;
    if (full)
        memset(dh, 0, (size_t)(batch * H) * sizeof(float));
    else
        memcpy(dh, n->grad, (size_t)(batch * H) * sizeof(float));
    memset(dc, 0, (size_t)(batch * H) * sizeof(float));

    lstm_step st = {.n = n, .sv = sv, .ids = ids, .T = T, .H = H,
                    .full = full, .dh = dh, .dc = dc};
    int64_t grain = step_grain(batch);
    for (int64_t t = T - 1; t >= 0; t--) {
        st.t = t;
        vae_parallel_ranges(batch, grain, backward_rows, &st);
        if (t > 0 || init_grad)
            vae_sgemm(0, 0, batch, H, G4, 1.0f, sv.gates + t * G4, T * G4,
                      w_hh, H, 1.0f, dh, H);
    }
    if (init_grad)
        for (int64_t b = 0; b < batch; b++)
            for (int64_t j = 0; j < H; j++) {
                init_grad[b * 2 * H + j] += dh[b * H + j];
                init_grad[b * 2 * H + H + j] += dc[b * H + j];
            }

    const int rows = (int)(batch * T);
    vae_sgemm(1, 0, G4, g.f, rows, 1.0f, sv.gates, G4, in[0]->val, g.f, 1.0f,
              dw_ih, g.f);
    vae_sgemm(1, 0, G4, H, rows, 1.0f, sv.gates, G4, sv.hprev, H, 1.0f, dw_hh,
              H);
    vae_bias_grad(sv.gates, batch * T, G4, db_ih, db_hh);
    if (in[0]->grad)
        vae_sgemm(0, 0, rows, g.f, G4, 1.0f, sv.gates, G4, w_ih, g.f, 1.0f,
                  in[0]->grad, g.f);
}

const vae_op vae_op_lstm = {
    .name = "lstm",
    .code = VAE_OP_LSTM,
    .shape = lstm_shape,
    .init = lstm_init,
    .forward = lstm_forward,
    .backward = lstm_backward,
    .scratch = lstm_scratch,
    .saved = lstm_saved,
    .state = lstm_state,
    .per_step = 1,
};

/* Inputs: x, then init if given, then mask if given. The shape rule adds T
 * in A_STEPS (its buffer sizes need it, and a last-state output does not
 * show it). Only -1 means "none": any other id is an input, so one that
 * names no node (-2, say) fails like every other unknown input. */
VAE_API int32_t vae_graph_lstm(vae_graph *g, int32_t x, int64_t hidden,
                               int32_t init, int32_t mask,
                               int32_t full_sequence)
{
    int32_t in[3] = {x};
    int32_t n = 1;
    if (init != -1)
        in[n++] = init;
    if (mask != -1)
        in[n++] = mask;
    int64_t attr[] = {[A_HIDDEN] = hidden, [A_FULL] = full_sequence,
                      [A_INIT] = init != -1, [A_MASK] = mask != -1};
    return vae_graph_add(g, &vae_op_lstm, in, n, attr, A_STEPS, NULL, 0);
}
