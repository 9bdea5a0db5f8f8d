/* repeat.c - a vector [F] repeated as a sequence [times, F] (Keras'
 * RepeatVector): how a decoder hands z to every time step. */
#include <string.h>

#include "ops.h"

/* iattr */
enum { REPEAT_TIMES };

static int32_t repeat_shape(vae_node_spec *s, const vae_node_spec *const *in,
                            char *err, size_t errlen)
{
    int32_t st = vae_want_inputs(s, 1, err, errlen);
    if (st != VAE_OK)
        return st;
    int64_t times = s->iattr[REPEAT_TIMES];
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

static void repeat_to_step(vae_node_spec *s)
{
    s->iattr[REPEAT_TIMES] = 1;
}

const vae_op vae_op_repeat = {
    .name = "repeat",
    .code = VAE_OP_REPEAT,
    .shape = repeat_shape,
    .forward = repeat_forward,
    .backward = repeat_backward,
    .per_step = 1,
    .to_step = repeat_to_step,
};

VAE_API int32_t vae_graph_repeat(vae_graph *g, int32_t x, int64_t times)
{
    int64_t attr[] = {[REPEAT_TIMES] = times};
    return vae_graph_add(g, &vae_op_repeat, &x, 1, attr, 1, NULL, 0);
}
