/* bag_of_words.c - an auxiliary loss of a text decoder (Zhao et al. 2017):
 * the sentence's words predicted from one vector of logits [V] (e.g. a
 * dense layer on z) without their order, which makes z carry what the
 * sentence says. Its value per example is
 *     weight x -sum_t log softmax(logits)[x_t]   over the non-padding ids,
 * which the model's training objective adds to the loss (the reported
 * ELBO does not include it). Ids outside [0, V) count as padding. */
#include <math.h>

#include "ops.h"

/* fattr */
enum { BOW_WEIGHT };

static int32_t bow_shape(vae_node_spec *s, const vae_node_spec *const *in,
                         char *err, size_t errlen)
{
    int32_t st = vae_want_inputs(s, 2, err, errlen);
    if (st != VAE_OK)
        return st;
    if (in[0]->rank != 1 || in[1]->rank != 1) {
        vae_set_err(err, errlen, "takes logits [V] and ids [T], not ranks %d "
                    "and %d", (int)in[0]->rank, (int)in[1]->rank);
        return VAE_ERR_SHAPE;
    }
    float weight = s->fattr[BOW_WEIGHT];
    if (!(weight >= 0.0f && weight <= 1e6f)) {
        vae_set_err(err, errlen, "weight %g not in [0, 1e6]", (double)weight);
        return VAE_ERR_RANGE;
    }
    s->rank = 1;
    s->shape[0] = 1;
    s->n_params = 0;
    return vae_shape_finish(s, err, errlen);
}

/* The id at x as a class of logits of V, or -1 for padding and ids that
 * are not integers in [1, V). */
static int64_t class_of(float x, int64_t V)
{
    if (!(x >= 1.0f && x < (float)V))
        return -1;
    int64_t c = (int64_t)x;
    return (float)c == x ? c : -1;
}

/* log sum exp of the V logits, in double. */
static double log_norm(const float *l, int64_t V)
{
    double mx = l[0], s = 0.0;
    for (int64_t v = 1; v < V; v++)
        mx = fmax(mx, l[v]);
    for (int64_t v = 0; v < V; v++)
        s += exp(l[v] - mx);
    return mx + log(s);
}

static void bow_forward(vae_node *n, vae_node *const *in, const float *w,
                        int64_t batch)
{
    (void)w;
    const int64_t V = in[0]->s.size, T = in[1]->s.size;
    const float weight = n->s.fattr[BOW_WEIGHT];
    for (int64_t b = 0; b < batch; b++) {
        const float *l = in[0]->val + b * V, *ids = in[1]->val + b * T;
        double lz = log_norm(l, V), nll = 0.0;
        for (int64_t t = 0; t < T; t++) {
            int64_t c = class_of(ids[t], V);
            if (c >= 0)
                nll += lz - l[c];
        }
        n->val[b] = (float)(weight * nll);
    }
}

/* d value / d logit_v = weight (count x softmax_v - count_v), where count
 * is the number of ids that counted and count_v those equal to v. */
static void bow_backward(vae_node *n, vae_node *const *in, const float *w,
                         float *dw, int64_t batch)
{
    (void)w, (void)dw;
    if (!in[0]->grad)
        return;
    const int64_t V = in[0]->s.size, T = in[1]->s.size;
    const float weight = n->s.fattr[BOW_WEIGHT];
    for (int64_t b = 0; b < batch; b++) {
        const float *l = in[0]->val + b * V, *ids = in[1]->val + b * T;
        float *dl = in[0]->grad + b * V;
        double g = (double)n->grad[b] * weight, lz = log_norm(l, V);
        int64_t count = 0;
        for (int64_t t = 0; t < T; t++) {
            int64_t c = class_of(ids[t], V);
            if (c >= 0) {
                dl[c] -= (float)g;
                count++;
            }
        }
        for (int64_t v = 0; count && v < V; v++)
            dl[v] += (float)(g * (double)count * exp(l[v] - lz));
    }
}

const vae_op vae_op_bag_of_words = {
    .name = "bag_of_words",
    .code = VAE_OP_BAG_OF_WORDS,
    .shape = bow_shape,
    .forward = bow_forward,
    .backward = bow_backward,
    .aux_loss = 1,
    .per_step = 1,
};

VAE_API int32_t vae_graph_bag_of_words(vae_graph *g, int32_t logits,
                                       int32_t ids, float weight)
{
    int32_t in[2] = {logits, ids};
    float attr[] = {[BOW_WEIGHT] = weight};
    return vae_graph_add(g, &vae_op_bag_of_words, in, 2, NULL, 0, attr, 1);
}
