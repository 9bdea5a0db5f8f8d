/* model.h - the internal layout of vae_model: its graphs, settings, flat
 * parameter and gradient buffers, run-time nodes and workspace. model.c
 * builds it; the files above it (net, objective, infer, generate, adam,
 * io) read and run it. */
#ifndef VAE_MODEL_H
#define VAE_MODEL_H

#include <stdatomic.h>

#include "busy.h"
#include "gaussian.h"
#include "graph.h"

/* How vae_model_generate_tokens decodes (vae_model_set_generation). */
typedef struct vae_gen_settings {
    int32_t mode; /* VAE_DECODE_* */
    double temperature, top_p, length_penalty;
    int64_t top_k, beam, eos, no_repeat_ngram;
} vae_gen_settings;

#define VAE_GEN_DEFAULTS                                                   \
    {.mode = VAE_DECODE_GREEDY, .temperature = 1.0, .top_k = 10,           \
     .beam = 5, .eos = VAE_NO_EOS, .top_p = 0.9, .no_repeat_ngram = 0,     \
     .length_penalty = 1.0}

struct vae_model {
    vae_graph *enc_graph; /* copies of the caller's graphs, as given */
    vae_graph *dec_graph;
    int64_t latent;
    int64_t data_size;
    int32_t likelihood;
    int64_t classes;  /* categorical: vocabulary size V; else 0 */
    int32_t dec_data; /* the decoder's data node (teacher forcing), or -1 */
    /* A conditional model: each example's condition has cond_size floats
     * (0: unconditional), read by the condition nodes enc_cond and
     * dec_cond (-1: none in that net). cond holds the rows the caller set
     * last (vae_model_set_condition), cond_rows of them. */
    int64_t cond_size;
    int32_t enc_cond, dec_cond;
    float *cond;
    int64_t cond_rows, cond_cap;
    unsigned char *meta; /* the caller's metadata bytes, saved with the model */
    size_t meta_len;
    double beta, free_bits, obs_logvar;
    int32_t free_bits_mode; /* VAE_FREE_BITS_*: what free bits compare */
    int64_t train_samples; /* importance samples in elbo_grad's objective */
    int32_t anneal_kind; /* VAE_ANNEAL_*, used by vae_model_train_step */
    int64_t anneal_steps;
    vae_gen_settings gen;
    vae_rng rng;
    vae_run run; /* shared by every node; run.rng points at rng */

    /* Parameters of every node, encoder first, then the Gaussian head, then
     * the decoder; gradients in the same layout. */
    int64_t n_params;
    float *params;
    float *grads;
    /* State that is saved but not trained (vae_op.buffers: batch
     * normalisation's running statistics), encoder first; buffers_kept
     * (the second half of the same block) holds them while a gradient
     * pass may change them, to put them back if it fails. */
    int64_t n_buffers;
    float *buffers;
    float *buffers_kept;

    /* Run-time nodes; enc[n_enc - 1] is the head (2 * latent: mu, logvar). */
    vae_node *enc;
    int32_t n_enc;
    vae_node *dec;
    int32_t n_dec;

    /* Workspace for the largest batch seen so far (grown, never per step).
     * A grad_in_val decoder output lives in the first out_floats of work,
     * sized for out_chunk_floats (OUT_CHUNK_FLOATS below; tests lower it
     * to force chunks); out_dw collects its parameter gradient while a batch
     * goes through it in several chunks. */
    int64_t cap_batch;
    int32_t cap_slots; /* the scratch's slots (vae_op.scratch) */
    int64_t out_chunk_floats;
    int64_t out_floats;
    float *out_dw;
    float *work;
    float *eps;      /* cap_batch x latent */
    double *kl_dim;  /* latent: batch-mean KL per dimension */
    double *recon_b; /* cap_batch: log p(x_b|z_b) */
    double *kl_b;    /* cap_batch: KL of each example */
    float *rows_x; /* train_samples > 1: each example's data once per sample */
    int64_t rows_x_cap;

    atomic_flag busy; /* held by the public call using the model (busy.h) */
    char err[VAE_ERRLEN];
};

/* A grad_in_val decoder output larger than this (floats over the batch) is
 * computed, scored and differentiated a chunk of examples at a time: a text
 * model's logits (batch x T x V floats, 128 MB for 32 x 100 x 10000) then
 * never exist for the whole batch. */
#define OUT_CHUNK_FLOATS ((int64_t)1 << 23)

/* Records a message on the model and returns status. */
int32_t vae_model_fail(vae_model *m, int32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets every gradient to 0 (vae_model_zero_grad for a held model). */
void vae_model_clear_grads(vae_model *m);

#endif
