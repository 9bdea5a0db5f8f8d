/* ops.h - the op implementations (one per entry of op_list.h), the table
 * that finds them by code (op_table.c), and the shape rules several ops
 * share (shape.c). */
#ifndef VAE_OPS_H
#define VAE_OPS_H

#include "../graph.h"
#include "../node.h"

#define VAE_OP_DECLARE_(NAME, code, name) extern const vae_op vae_op_##name;
VAE_OP_LIST(VAE_OP_DECLARE_)
#undef VAE_OP_DECLARE_

/* The op of a code, or NULL for a code that names none. */
const vae_op *vae_op_get(int32_t op);
/* vae_graph_add for an op given by its code (as a model file or a spec
 * has it): an unknown code is a sticky VAE_ERR_INVALID_ARG on g. */
int32_t vae_graph_add_code(vae_graph *g, int32_t op, const int32_t *inputs,
                           int32_t n_inputs, const int64_t *iattr,
                           int32_t n_iattr, const float *fattr,
                           int32_t n_fattr);

/* Token ids travel as float32, which holds every integer up to 2^24 exactly:
 * vocabularies and the ids ops write stay below this. */
#define VAE_ID_LIMIT ((int64_t)1 << 24)

/* VAE_OK when s has exactly n inputs, else VAE_ERR_GRAPH and a message. */
int32_t vae_want_inputs(const vae_node_spec *s, int32_t n, char *err,
                        size_t errlen);
/* Sets s->size from s->shape[0..rank-1]; fails on overflow past 2^40
 * elements per example (far beyond any model, and keeps batch * size from
 * overflowing int64). */
int32_t vae_shape_finish(vae_node_spec *s, char *err, size_t errlen);
/* Sets rank and shape from iattr (rank, then the dims), as input and reshape
 * store them, then finishes as vae_shape_finish. */
int32_t vae_shape_from_attr(vae_node_spec *s, char *err, size_t errlen);

#endif
