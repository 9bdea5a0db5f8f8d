/* ops.h - the op implementations registered in op_table.c, and the shape
 * helpers several ops share. */
#ifndef VAE_OPS_H
#define VAE_OPS_H

#include "../graph.h"

extern const vae_op vae_op_input;
extern const vae_op vae_op_dense;
extern const vae_op vae_op_relu;
extern const vae_op vae_op_leaky_relu;
extern const vae_op vae_op_tanh;
extern const vae_op vae_op_sigmoid;
extern const vae_op vae_op_softplus;
extern const vae_op vae_op_identity;
extern const vae_op vae_op_conv2d;
extern const vae_op vae_op_conv2d_transpose;
extern const vae_op vae_op_reshape;
extern const vae_op vae_op_data;
extern const vae_op vae_op_embedding;
extern const vae_op vae_op_lstm;
extern const vae_op vae_op_repeat;
extern const vae_op vae_op_concat;
extern const vae_op vae_op_shift_right;
extern const vae_op vae_op_token_dropout;
extern const vae_op vae_op_transpose;

/* Token ids travel as float32, which holds every integer up to 2^24 exactly:
 * vocabularies and the ids ops write stay below this. */
#define VAE_ID_LIMIT ((int64_t)1 << 24)

/* Sets s->size from s->shape[0..rank-1]; fails on overflow past 2^40
 * elements per example (far beyond any model, and keeps batch * size from
 * overflowing int64). */
int32_t vae_shape_finish(vae_node_spec *s, char *err, size_t errlen);
/* Sets rank and shape from iattr (rank, then the dims), as input and reshape
 * store them, then finishes as vae_shape_finish. */
int32_t vae_shape_from_attr(vae_node_spec *s, char *err, size_t errlen);

#endif
