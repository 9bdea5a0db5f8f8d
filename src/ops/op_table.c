/* op_table.c - op code -> implementation. */
#include "ops.h"

static const vae_op *const table[VAE_OP_COUNT_] = {
    [VAE_OP_INPUT] = &vae_op_input,
    [VAE_OP_DENSE] = &vae_op_dense,
    [VAE_OP_RELU] = &vae_op_relu,
    [VAE_OP_LEAKY_RELU] = &vae_op_leaky_relu,
    [VAE_OP_TANH] = &vae_op_tanh,
    [VAE_OP_SIGMOID] = &vae_op_sigmoid,
    [VAE_OP_SOFTPLUS] = &vae_op_softplus,
    [VAE_OP_IDENTITY] = &vae_op_identity,
    [VAE_OP_CONV2D] = &vae_op_conv2d,
    [VAE_OP_CONV2D_TRANSPOSE] = &vae_op_conv2d_transpose,
    [VAE_OP_RESHAPE] = &vae_op_reshape,
    [VAE_OP_DATA] = &vae_op_data,
    [VAE_OP_EMBEDDING] = &vae_op_embedding,
    [VAE_OP_LSTM] = &vae_op_lstm,
    [VAE_OP_REPEAT] = &vae_op_repeat,
    [VAE_OP_CONCAT] = &vae_op_concat,
    [VAE_OP_SHIFT_RIGHT] = &vae_op_shift_right,
    [VAE_OP_TOKEN_DROPOUT] = &vae_op_token_dropout,
    [VAE_OP_TRANSPOSE] = &vae_op_transpose,
};

const vae_op *vae_op_get(int32_t op)
{
    if (op <= 0 || op >= VAE_OP_COUNT_)
        return NULL;
    return table[op];
}

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
    int64_t rank = s->iattr[0];
    if (rank < 1 || rank > VAE_MAX_RANK) {
        vae_set_err(err, errlen, "rank %lld not in 1..%d", (long long)rank,
                    VAE_MAX_RANK);
        return VAE_ERR_SHAPE;
    }
    s->rank = (int32_t)rank;
    for (int32_t i = 0; i < s->rank; i++)
        s->shape[i] = s->iattr[1 + i];
    return vae_shape_finish(s, err, errlen);
}
