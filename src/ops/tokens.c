/* tokens.c - the two id rewriters of a text decoder's input: shift_right
 * (teacher forcing: the decoder reads the previous token) and token_dropout
 * (word dropout, Bowman et al. 2016). Both map [T] ids to [T] ids; ids are
 * data, so no gradient flows through them. */
#include <math.h>
#include <string.h>

#include "ops.h"

/* fattr */
enum { SHIFT_BOS };
enum { DROPOUT_RATE, DROPOUT_UNK };

/* The input must be a node of T ids; the output has its shape. */
static int32_t ids_shape(vae_node_spec *s, const vae_node_spec *const *in,
                         char *err, size_t errlen)
{
    int32_t st = vae_want_inputs(s, 1, err, errlen);
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
    return st != VAE_OK ? st
                         : check_token(s->fattr[SHIFT_BOS], "bos", err, errlen);
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
        y[0] = n->s.fattr[SHIFT_BOS];
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
    float rate = s->fattr[DROPOUT_RATE];
    if (!(rate >= 0.0f && rate < 1.0f)) {
        vae_set_err(err, errlen, "rate %g not in [0, 1)", (double)rate);
        return VAE_ERR_RANGE;
    }
    return check_token(s->fattr[DROPOUT_UNK], "unk", err, errlen);
}

/* Each non-padding id becomes unk with probability rate, one uniform draw
 * per such id from the model's generator (so a seed fixes the result);
 * outside training the ids pass unchanged and nothing is drawn. */
static void token_dropout_forward(vae_node *n, vae_node *const *in,
                                  const float *w, int64_t batch)
{
    (void)w;
    const float rate = n->s.fattr[DROPOUT_RATE];
    const float unk = n->s.fattr[DROPOUT_UNK];
    copy_ids(n, in, batch);
    if (!n->run->training || rate == 0.0f)
        return;
    const int64_t len = batch * n->s.size;
    for (int64_t i = 0; i < len; i++)
        if (n->val[i] != 0.0f && vae_rng_uniform(n->run->rng) < (double)rate)
            n->val[i] = unk;
}

static float shift_right_start_id(const vae_node_spec *s)
{
    return s->fattr[SHIFT_BOS];
}

const vae_op vae_op_shift_right = {
    .name = "shift_right",
    .code = VAE_OP_SHIFT_RIGHT,
    .shape = shift_right_shape,
    .forward = shift_right_forward,
    .backward = ids_backward,
    .per_step = 1,
    .start_id = shift_right_start_id,
};

const vae_op vae_op_token_dropout = {
    .name = "token_dropout",
    .code = VAE_OP_TOKEN_DROPOUT,
    .shape = token_dropout_shape,
    .forward = token_dropout_forward,
    .backward = ids_backward,
    .draws_random = 1,
    .per_step = 1,
};

VAE_API int32_t vae_graph_shift_right(vae_graph *g, int32_t ids, float bos)
{
    float attr[] = {[SHIFT_BOS] = bos};
    return vae_graph_add(g, &vae_op_shift_right, &ids, 1, NULL, 0, attr, 1);
}

VAE_API int32_t vae_graph_token_dropout(vae_graph *g, int32_t ids, float rate,
                                        float unk)
{
    float attr[] = {[DROPOUT_RATE] = rate, [DROPOUT_UNK] = unk};
    return vae_graph_add(g, &vae_op_token_dropout, &ids, 1, NULL, 0, attr, 2);
}
