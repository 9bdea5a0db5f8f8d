/* sequence.c - the small sequence ops: repeat (RepeatVector), concat on the
 * last axis, and the two id rewriters of a text decoder's input,
 * shift_right (teacher forcing) and token_dropout (word dropout). */
#include <math.h>
#include <string.h>

#include "ops.h"

static int32_t want_inputs(const vae_node_spec *s, int32_t n, char *err,
                           size_t errlen)
{
    if (s->n_inputs == n)
        return VAE_OK;
    vae_set_err(err, errlen, "takes exactly %d input%s, not %d", (int)n,
                n == 1 ? "" : "s", (int)s->n_inputs);
    return VAE_ERR_GRAPH;
}

/* ---- repeat: [F] -> [times, F] ----------------------------------------- */

static int32_t repeat_shape(vae_node_spec *s, const vae_node_spec *const *in,
                            char *err, size_t errlen)
{
    int32_t st = want_inputs(s, 1, err, errlen);
    if (st != VAE_OK)
        return st;
    int64_t times = s->iattr[0];
    if (in[0]->rank != 1) {
        vae_set_err(err, errlen, "input must be a vector [F], not rank %d",
                    (int)in[0]->rank);
        return VAE_ERR_SHAPE;
    }
    if (times < 1) {
        vae_set_err(err, errlen, "times %lld must be >= 1", (long long)times);
        return VAE_ERR_RANGE;
    }
    s->rank = 2;
    s->shape[0] = times;
    s->shape[1] = in[0]->shape[0];
    s->n_params = 0;
    return vae_shape_finish(s, err, errlen);
}

static void repeat_forward(vae_node *n, vae_node *const *in, const float *w,
                           int64_t batch)
{
    (void)w;
    const int64_t times = n->s.shape[0], f = n->s.shape[1];
    for (int64_t b = 0; b < batch; b++)
        for (int64_t t = 0; t < times; t++)
            memcpy(n->val + (b * times + t) * f, in[0]->val + b * f,
                   (size_t)f * sizeof(float));
}

/* Each copy passes its gradient back to the one vector. */
static void repeat_backward(vae_node *n, vae_node *const *in, const float *w,
                            float *dw, int64_t batch)
{
    (void)w, (void)dw;
    if (!in[0]->grad)
        return;
    const int64_t times = n->s.shape[0], f = n->s.shape[1];
    for (int64_t b = 0; b < batch; b++) {
        float *dx = in[0]->grad + b * f;
        for (int64_t t = 0; t < times; t++) {
            const float *dy = n->grad + (b * times + t) * f;
            for (int64_t j = 0; j < f; j++)
                dx[j] += dy[j];
        }
    }
}

/* ---- concat on the last axis: [.., Fa] and [.., Fb] -> [.., Fa + Fb] ---- */

static int32_t concat_shape(vae_node_spec *s, const vae_node_spec *const *in,
                            char *err, size_t errlen)
{
    int32_t st = want_inputs(s, 2, err, errlen);
    if (st != VAE_OK)
        return st;
    const vae_node_spec *a = in[0], *b = in[1];
    if (a->rank != b->rank) {
        vae_set_err(err, errlen, "inputs have ranks %d and %d; they must agree",
                    (int)a->rank, (int)b->rank);
        return VAE_ERR_SHAPE;
    }
    for (int32_t i = 0; i + 1 < a->rank; i++)
        if (a->shape[i] != b->shape[i]) {
            vae_set_err(err, errlen, "axis %d is %lld in the first input and "
                        "%lld in the second; all axes but the last must agree",
                        (int)i, (long long)a->shape[i], (long long)b->shape[i]);
            return VAE_ERR_SHAPE;
        }
    s->rank = a->rank;
    memcpy(s->shape, a->shape, sizeof s->shape);
    s->shape[s->rank - 1] += b->shape[b->rank - 1];
    s->n_params = 0;
    return vae_shape_finish(s, err, errlen);
}

/* The two inputs' feature widths. */
static void concat_widths(vae_node *const *in, int64_t *fa, int64_t *fb)
{
    *fa = in[0]->s.shape[in[0]->s.rank - 1];
    *fb = in[1]->s.shape[in[1]->s.rank - 1];
}

static void concat_forward(vae_node *n, vae_node *const *in, const float *w,
                           int64_t batch)
{
    (void)w;
    int64_t fa, fb;
    concat_widths(in, &fa, &fb);
    const int64_t rows = batch * (in[0]->s.size / fa);
    for (int64_t r = 0; r < rows; r++) {
        float *y = n->val + r * (fa + fb);
        memcpy(y, in[0]->val + r * fa, (size_t)fa * sizeof *y);
        memcpy(y + fa, in[1]->val + r * fb, (size_t)fb * sizeof *y);
    }
}

static void add_rows(float *dst, const float *src, int64_t len)
{
    for (int64_t j = 0; j < len; j++)
        dst[j] += src[j];
}

static void concat_backward(vae_node *n, vae_node *const *in, const float *w,
                            float *dw, int64_t batch)
{
    (void)w, (void)dw;
    int64_t fa, fb;
    concat_widths(in, &fa, &fb);
    const int64_t rows = batch * (in[0]->s.size / fa);
    for (int64_t r = 0; r < rows; r++) {
        const float *dy = n->grad + r * (fa + fb);
        if (in[0]->grad)
            add_rows(in[0]->grad + r * fa, dy, fa);
        if (in[1]->grad)
            add_rows(in[1]->grad + r * fb, dy + fa, fb);
    }
}

/* ---- id rewriters: [T] ids -> [T] ids, no gradient ---------------------- */

/* The input must be a node of T ids; the output has its shape. */
static int32_t ids_shape(vae_node_spec *s, const vae_node_spec *const *in,
                         char *err, size_t errlen)
{
    int32_t st = want_inputs(s, 1, err, errlen);
    if (st != VAE_OK)
        return st;
    if (in[0]->rank != 1) {
        vae_set_err(err, errlen, "ids must be a node of shape [T], not rank %d",
                    (int)in[0]->rank);
        return VAE_ERR_SHAPE;
    }
    s->rank = 1;
    s->shape[0] = in[0]->shape[0];
    s->n_params = 0;
    return vae_shape_finish(s, err, errlen);
}

/* A token the op writes (bos, unk) must be a real one: an integer id that
 * float32 holds exactly, and not 0, which would turn it into padding. */
static int32_t check_token(float id, const char *what, char *err,
                           size_t errlen)
{
    if (id >= 1.0f && id < (float)VAE_ID_LIMIT && id == floorf(id))
        return VAE_OK;
    vae_set_err(err, errlen, "%s %g is not a token id in 1..2^24-1 (0 is "
                "padding)", what, (double)id);
    return VAE_ERR_RANGE;
}

/* Ids are data, not functions of parameters: no gradient flows into them. */
static void ids_backward(vae_node *n, vae_node *const *in, const float *w,
                         float *dw, int64_t batch)
{
    (void)n, (void)in, (void)w, (void)dw, (void)batch;
}

static void copy_ids(vae_node *n, vae_node *const *in, int64_t batch)
{
    memcpy(n->val, in[0]->val, (size_t)(batch * n->s.size) * sizeof(float));
}

static int32_t shift_right_shape(vae_node_spec *s,
                                 const vae_node_spec *const *in, char *err,
                                 size_t errlen)
{
    int32_t st = ids_shape(s, in, err, errlen);
    return st != VAE_OK ? st : check_token(s->fattr[0], "bos", err, errlen);
}

/* [x0 .. x_{T-1}] -> [bos, x0 .. x_{T-2}]. While generating (carry), the
 * model feeds one step whose id already is the previous token: it passes
 * through, so the same decoder graph serves training and generation. */
static void shift_right_forward(vae_node *n, vae_node *const *in,
                                const float *w, int64_t batch)
{
    (void)w;
    if (n->run->carry) {
        copy_ids(n, in, batch);
        return;
    }
    const int64_t T = n->s.shape[0];
    for (int64_t b = 0; b < batch; b++) {
        float *y = n->val + b * T;
        y[0] = n->s.fattr[0];
        memcpy(y + 1, in[0]->val + b * T, (size_t)(T - 1) * sizeof *y);
    }
}

static int32_t token_dropout_shape(vae_node_spec *s,
                                   const vae_node_spec *const *in, char *err,
                                   size_t errlen)
{
    int32_t st = ids_shape(s, in, err, errlen);
    if (st != VAE_OK)
        return st;
    float rate = s->fattr[0];
    if (!(rate >= 0.0f && rate < 1.0f)) {
        vae_set_err(err, errlen, "rate %g not in [0, 1)", (double)rate);
        return VAE_ERR_RANGE;
    }
    return check_token(s->fattr[1], "unk", err, errlen);
}

/* Each non-padding id becomes unk with probability rate, one uniform draw
 * per such id from the model's generator (so a seed fixes the result);
 * outside training the ids pass unchanged and nothing is drawn. */
static void token_dropout_forward(vae_node *n, vae_node *const *in,
                                  const float *w, int64_t batch)
{
    (void)w;
    const float rate = n->s.fattr[0], unk = n->s.fattr[1];
    copy_ids(n, in, batch);
    if (!n->run->training || rate == 0.0f)
        return;
    const int64_t len = batch * n->s.size;
    for (int64_t i = 0; i < len; i++)
        if (n->val[i] != 0.0f && vae_rng_uniform(n->run->rng) < (double)rate)
            n->val[i] = unk;
}

const vae_op vae_op_repeat = {
    .name = "repeat",
    .shape = repeat_shape,
    .forward = repeat_forward,
    .backward = repeat_backward,
};

const vae_op vae_op_concat = {
    .name = "concat",
    .shape = concat_shape,
    .forward = concat_forward,
    .backward = concat_backward,
};

const vae_op vae_op_shift_right = {
    .name = "shift_right",
    .shape = shift_right_shape,
    .forward = shift_right_forward,
    .backward = ids_backward,
};

const vae_op vae_op_token_dropout = {
    .name = "token_dropout",
    .shape = token_dropout_shape,
    .forward = token_dropout_forward,
    .backward = ids_backward,
};
