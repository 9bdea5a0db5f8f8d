/* conditioning.h - a conditional model's condition (conditioning.c): the
 * rows the caller set, checked against each call and copied into the
 * condition nodes. Above net.h, below the objectives, inference and
 * generation. */
#ifndef VAE_CONDITIONING_H
#define VAE_CONDITIONING_H

#include "net.h"

/* VAE_OK for an unconditional model, or a conditional one whose condition
 * holds exactly n rows (the call's examples); else the status recorded on
 * m, `what` naming the call. */
int32_t vae_check_condition(vae_model *m, int64_t n, const char *what);
/* Fills `rows` rows of node's values, the rows row0.. of a batch that
 * holds k consecutive rows per example (k samples, or k beams): row r gets
 * the condition of example (row0 + r) / k. Nothing for a NULL node. */
void vae_put_condition(const vae_model *m, vae_node *node, int64_t row0,
                       int64_t rows, int64_t k);
/* The encoder's and the decoder's condition node, or NULL. */
vae_node *vae_enc_condition(vae_model *m);
vae_node *vae_dec_condition(vae_model *m);

#endif
