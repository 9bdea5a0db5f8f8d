/* op_table.c - op code -> implementation, generated from op_list.h. */
#include <assert.h>

#include "ops.h"

/* Codes run 1, 2, ... in list order: a gap or a repeated code fails to
 * compile here instead of leaving a hole in the table. */
enum {
#define VAE_OP_POSITION_(NAME, code, name) VAE_OP_POS_##NAME,
    VAE_OP_LIST(VAE_OP_POSITION_)
#undef VAE_OP_POSITION_
    VAE_OP_N_
};
#define VAE_OP_IN_ORDER_(NAME, code, name)                                 \
    static_assert(VAE_OP_##NAME == VAE_OP_POS_##NAME + 1,                  \
                  "op " #name ": codes must run 1, 2, ... in list order");
VAE_OP_LIST(VAE_OP_IN_ORDER_)
#undef VAE_OP_IN_ORDER_
static_assert(VAE_OP_COUNT_ == VAE_OP_N_ + 1, "one table slot per op");

static const vae_op *const table[VAE_OP_COUNT_] = {
#define VAE_OP_ENTRY_(NAME, code, name) [VAE_OP_##NAME] = &vae_op_##name,
    VAE_OP_LIST(VAE_OP_ENTRY_)
#undef VAE_OP_ENTRY_
};

const vae_op *vae_op_get(int32_t op)
{
    if (op <= 0 || op >= VAE_OP_COUNT_)
        return NULL;
    return table[op];
}

int32_t vae_graph_add_code(vae_graph *g, int32_t op, const int32_t *inputs,
                           int32_t n_inputs, const int64_t *iattr,
                           int32_t n_iattr, const float *fattr,
                           int32_t n_fattr)
{
    if (!g)
        return VAE_ERR_INVALID_ARG;
    const vae_op *impl = vae_op_get(op);
    if (!impl)
        return vae_graph_fail(g, VAE_ERR_INVALID_ARG, "unknown op code %d",
                              (int)op);
    return vae_graph_add(g, impl, inputs, n_inputs, iattr, n_iattr, fattr,
                         n_fattr);
}
