/* embedding.c - lookup table: ids [T] -> rows of a vocab x dim table [T, dim].
 * Ids arrive as floats, so anything that is not an exact integer in
 * [0, vocab) (a NaN, -1, 2.5, a vocab mismatch between data and model) maps
 * to a zero row and receives no gradient instead of reading out of bounds. */
#include <string.h>

#include "ops.h"

/* iattr; EMB_SHARED 1: the table is the encoder's (model.c borrows it). */
enum { EMB_VOCAB, EMB_DIM, EMB_SHARED };

static int32_t embedding_shape(vae_node_spec *s, const vae_node_spec *const *in,
                               char *err, size_t errlen)
{
    if (s->n_inputs != 1) {
        vae_set_err(err, errlen, "takes exactly one input (the ids)");
        return VAE_ERR_GRAPH;
    }
    int64_t vocab = s->iattr[EMB_VOCAB], dim = s->iattr[EMB_DIM];
    int64_t shared = s->iattr[EMB_SHARED];
    if (in[0]->rank != 1) {
        vae_set_err(err, errlen, "ids must be a node of shape [T], not rank %d",
                    (int)in[0]->rank);
        return VAE_ERR_SHAPE;
    }
    if (vocab < 1 || vocab > VAE_ID_LIMIT) {
        vae_set_err(err, errlen, "vocab %lld not in 1..2^24", (long long)vocab);
        return VAE_ERR_RANGE;
    }
    if (dim < 1 || dim > ((int64_t)1 << 30)) {
        vae_set_err(err, errlen, "dim %lld not in 1..2^30", (long long)dim);
        return VAE_ERR_RANGE;
    }
    if (vocab * dim > ((int64_t)1 << 36)) {
        vae_set_err(err, errlen, "%lld x %lld table: vocab x dim must be at "
                    "most 2^36", (long long)vocab, (long long)dim);
        return VAE_ERR_SHAPE;
    }
    if (shared != 0 && shared != 1) {
        vae_set_err(err, errlen, "shared flag %lld is not 0 or 1",
                    (long long)shared);
        return VAE_ERR_INVALID_ARG;
    }
    s->rank = 2;
    s->shape[0] = in[0]->shape[0];
    s->shape[1] = dim;
    /* A shared node reads the encoder's table: the model points its
     * param_off there, so it owns nothing. */
    s->n_params = shared ? 0 : vocab * dim;
    return vae_shape_finish(s, err, errlen);
}

/* nn.Embedding's default. */
static void embedding_init(const vae_node_spec *s, float *w, vae_rng *r)
{
    vae_rng_init_normal(r, w, s->n_params);
}

/* The table row of id, or -1 when id is not an integer in [0, vocab). */
static int64_t row_of(float id, int64_t vocab)
{
    if (!(id >= 0.0f && id < (float)vocab))
        return -1;
    int64_t row = (int64_t)id;
    return (float)row == id ? row : -1;
}

static void embedding_forward(vae_node *n, vae_node *const *in, const float *w,
                              int64_t batch)
{
    const int64_t vocab = n->s.iattr[EMB_VOCAB], dim = n->s.iattr[EMB_DIM];
    const int64_t ids = batch * n->s.shape[0];
    for (int64_t i = 0; i < ids; i++) {
        int64_t row = row_of(in[0]->val[i], vocab);
        float *y = n->val + i * dim;
        if (row < 0)
            memset(y, 0, (size_t)dim * sizeof *y);
        else
            memcpy(y, w + row * dim, (size_t)dim * sizeof *y);
    }
}

/* Scatter-add: an id that occurs several times collects each gradient. */
static void embedding_backward(vae_node *n, vae_node *const *in, const float *w,
                               float *dw, int64_t batch)
{
    (void)w;
    const int64_t vocab = n->s.iattr[EMB_VOCAB], dim = n->s.iattr[EMB_DIM];
    const int64_t ids = batch * n->s.shape[0];
    for (int64_t i = 0; i < ids; i++) {
        int64_t row = row_of(in[0]->val[i], vocab);
        if (row < 0)
            continue;
        const float *dy = n->grad + i * dim;
        float *d = dw + row * dim;
        for (int64_t j = 0; j < dim; j++)
            d[j] += dy[j];
    }
}

static int embedding_borrows(const vae_node_spec *s)
{
    return s->iattr[EMB_SHARED] != 0;
}

static int embedding_lends_to(const vae_node_spec *owner,
                              const vae_node_spec *s, char *err, size_t errlen)
{
    if (owner && owner->iattr[EMB_VOCAB] == s->iattr[EMB_VOCAB] &&
        owner->iattr[EMB_DIM] == s->iattr[EMB_DIM])
        return 1;
    vae_set_err(err, errlen, "the encoder has no %lld x %lld embedding first",
                (long long)s->iattr[EMB_VOCAB], (long long)s->iattr[EMB_DIM]);
    return 0;
}

const vae_op vae_op_embedding = {
    .name = "embedding",
    .code = VAE_OP_EMBEDDING,
    .shape = embedding_shape,
    .init = embedding_init,
    .forward = embedding_forward,
    .backward = embedding_backward,
    .per_step = 1,
    .borrows = embedding_borrows,
    .lends_to = embedding_lends_to,
};

static int32_t add_embedding(vae_graph *g, int32_t ids, int64_t vocab,
                             int64_t dim, int64_t shared)
{
    int64_t attr[] = {[EMB_VOCAB] = vocab, [EMB_DIM] = dim,
                      [EMB_SHARED] = shared};
    return vae_graph_add(g, &vae_op_embedding, &ids, 1, attr, 3, NULL, 0);
}

VAE_API int32_t vae_graph_embedding(vae_graph *g, int32_t ids, int64_t vocab,
                                    int64_t dim)
{
    return add_embedding(g, ids, vocab, dim, 0);
}

VAE_API int32_t vae_graph_embedding_shared(vae_graph *g, int32_t ids,
                                           int64_t vocab, int64_t dim)
{
    return add_embedding(g, ids, vocab, dim, 1);
}
