/* shape.c - the shape rules several ops share: an element count within
 * bounds, a shape stored as attributes, a fixed number of inputs. */
#include "ops.h"

int32_t vae_shape_finish(vae_node_spec *s, char *err, size_t errlen)
{
    const int64_t limit = (int64_t)1 << 40;
    int64_t size = 1;
    for (int32_t i = 0; i < s->rank; i++) {
        if (s->shape[i] < 1 || s->shape[i] > limit || size > limit / s->shape[i]) {
            vae_set_err(err, errlen, "dimension %d is %lld (must be 1..2^40, "
                        "product too)", (int)i, (long long)s->shape[i]);
            return VAE_ERR_SHAPE;
        }
        size *= s->shape[i];
    }
    s->size = size;
    return VAE_OK;
}

int32_t vae_shape_from_attr(vae_node_spec *s, char *err, size_t errlen)
{
    int64_t rank = s->iattr[VAE_SHAPED_RANK];
    if (rank < 1 || rank > VAE_MAX_RANK) {
        vae_set_err(err, errlen, "rank %lld not in 1..%d", (long long)rank,
                    VAE_MAX_RANK);
        return VAE_ERR_SHAPE;
    }
    s->rank = (int32_t)rank;
    for (int32_t i = 0; i < s->rank; i++)
        s->shape[i] = s->iattr[VAE_SHAPED_DIMS + i];
    return vae_shape_finish(s, err, errlen);
}

int32_t vae_want_inputs(const vae_node_spec *s, int32_t n, char *err,
                        size_t errlen)
{
    if (s->n_inputs == n)
        return VAE_OK;
    vae_set_err(err, errlen, "takes exactly %d input%s, not %d", (int)n,
                n == 1 ? "" : "s", (int)s->n_inputs);
    return VAE_ERR_GRAPH;
}
