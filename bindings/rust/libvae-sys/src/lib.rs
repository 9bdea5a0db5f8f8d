//! Raw declarations of libvae's C API, one for one with `vae.h`: every
//! function and every constant, under the C names. The header's comments are
//! the reference for what each call does; the safe interface is the `libvae`
//! crate.
//!
//! The build script links the installed library found by `pkg-config vae`.
//! The tests parse the installed `vae.h` and fail when a declaration here is
//! missing, left over, or has different types.

#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_void};

// Opaque handles: zero-sized, unconstructible outside this crate, and
// neither Send, Sync nor Unpin, as the Rustonomicon recommends for C types
// that are only ever used behind pointers.

/// A network definition (`vae_graph`).
#[repr(C)]
pub struct vae_graph {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// A variational autoencoder (`vae_model`).
#[repr(C)]
pub struct vae_model {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Adam / AdamW optimizer state (`vae_adam`).
#[repr(C)]
pub struct vae_adam {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

// The version of the header these declarations were written from.
pub const VAE_VERSION_MAJOR: i32 = 0;
pub const VAE_VERSION_MINOR: i32 = 1;
pub const VAE_VERSION_PATCH: i32 = 0;
pub const VAE_VERSION_NUMBER: i32 =
    VAE_VERSION_MAJOR * 10000 + VAE_VERSION_MINOR * 100 + VAE_VERSION_PATCH;

// Status codes.
pub const VAE_OK: i32 = 0;
pub const VAE_ERR_INVALID_ARG: i32 = -1;
pub const VAE_ERR_SHAPE: i32 = -2;
pub const VAE_ERR_NOMEM: i32 = -3;
pub const VAE_ERR_IO: i32 = -4;
pub const VAE_ERR_FORMAT: i32 = -5;
pub const VAE_ERR_NONFINITE: i32 = -6;
pub const VAE_ERR_GRAPH: i32 = -7;
pub const VAE_ERR_VERSION: i32 = -8;
pub const VAE_ERR_RANGE: i32 = -9;
pub const VAE_ERR_UNSUPPORTED: i32 = -10;
pub const VAE_ERR_BUSY: i32 = -11;

pub const VAE_LIKELIHOOD_BERNOULLI: i32 = 1;
pub const VAE_LIKELIHOOD_GAUSSIAN_FIXED: i32 = 2;
pub const VAE_LIKELIHOOD_GAUSSIAN_LEARNED: i32 = 3;
pub const VAE_LIKELIHOOD_CATEGORICAL: i32 = 4;

pub const VAE_ANNEAL_NONE: i32 = 0;
pub const VAE_ANNEAL_LINEAR: i32 = 1;
pub const VAE_ANNEAL_SIGMOID: i32 = 2;

pub const VAE_METADATA_MAX: usize = 1 << 30;
pub const VAE_TRAIN_SAMPLES_MAX: i64 = 4096;

pub const VAE_DECODE_GREEDY: i32 = 1;
pub const VAE_DECODE_SAMPLE: i32 = 2;
pub const VAE_DECODE_TOP_K: i32 = 3;
pub const VAE_DECODE_BEAM: i32 = 4;
pub const VAE_DECODE_TOP_P: i32 = 5;
pub const VAE_NO_EOS: i64 = -1;

pub const VAE_NO_NODE: i32 = -1;
pub const VAE_FREE_BITS_BATCH: i32 = 0;
pub const VAE_FREE_BITS_EXAMPLE: i32 = 1;
pub const VAE_LSTM_LAST_STATE: i32 = 0;
pub const VAE_LSTM_SEQUENCE: i32 = 1;

pub const VAE_GEN_MODE: i32 = 1;
pub const VAE_GEN_TEMPERATURE: i32 = 2;
pub const VAE_GEN_TOP_K: i32 = 3;
pub const VAE_GEN_BEAM: i32 = 4;
pub const VAE_GEN_EOS: i32 = 5;
pub const VAE_GEN_TOP_P: i32 = 6;
pub const VAE_GEN_NO_REPEAT_NGRAM: i32 = 7;
pub const VAE_GEN_NGRAM_MAX: i64 = 64;
pub const VAE_GEN_LENGTH_PENALTY: i32 = 8;

extern "C" {
    // Version
    pub fn vae_version_string() -> *const c_char;
    pub fn vae_version_number() -> i32;

    // Status codes
    pub fn vae_status_string(status: i32) -> *const c_char;

    // Threads
    pub fn vae_set_num_threads(n: i32) -> i32;
    pub fn vae_get_num_threads() -> i32;

    // Graph builder
    pub fn vae_graph_new(out: *mut *mut vae_graph) -> i32;
    pub fn vae_graph_free(g: *mut vae_graph);
    pub fn vae_graph_status(g: *const vae_graph) -> i32;
    pub fn vae_graph_last_error(g: *const vae_graph) -> *const c_char;
    pub fn vae_graph_input(g: *mut vae_graph, dims: *const i64, rank: i32) -> i32;
    pub fn vae_graph_dense(g: *mut vae_graph, x: i32, units: i64) -> i32;
    pub fn vae_graph_relu(g: *mut vae_graph, x: i32) -> i32;
    pub fn vae_graph_leaky_relu(g: *mut vae_graph, x: i32, slope: f32) -> i32;
    pub fn vae_graph_tanh(g: *mut vae_graph, x: i32) -> i32;
    pub fn vae_graph_sigmoid(g: *mut vae_graph, x: i32) -> i32;
    pub fn vae_graph_softplus(g: *mut vae_graph, x: i32) -> i32;
    pub fn vae_graph_identity(g: *mut vae_graph, x: i32) -> i32;
    pub fn vae_graph_conv2d(
        g: *mut vae_graph,
        x: i32,
        out_channels: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
    ) -> i32;
    pub fn vae_graph_conv2d_transpose(
        g: *mut vae_graph,
        x: i32,
        out_channels: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
    ) -> i32;
    pub fn vae_graph_reshape(g: *mut vae_graph, x: i32, dims: *const i64, rank: i32) -> i32;
    pub fn vae_graph_transpose(g: *mut vae_graph, x: i32, axes: *const i32, rank: i32) -> i32;
    pub fn vae_graph_flatten(g: *mut vae_graph, x: i32) -> i32;
    pub fn vae_graph_data(g: *mut vae_graph, dims: *const i64, rank: i32) -> i32;
    pub fn vae_graph_embedding(g: *mut vae_graph, ids: i32, vocab: i64, dim: i64) -> i32;
    pub fn vae_graph_embedding_shared(g: *mut vae_graph, ids: i32, vocab: i64, dim: i64) -> i32;
    pub fn vae_graph_lstm(
        g: *mut vae_graph,
        x: i32,
        hidden: i64,
        init: i32,
        mask: i32,
        full_sequence: i32,
    ) -> i32;
    pub fn vae_graph_repeat(g: *mut vae_graph, x: i32, times: i64) -> i32;
    pub fn vae_graph_concat(g: *mut vae_graph, a: i32, b: i32) -> i32;
    pub fn vae_graph_shift_right(g: *mut vae_graph, ids: i32, bos: f32) -> i32;
    pub fn vae_graph_token_dropout(g: *mut vae_graph, ids: i32, rate: f32, unk: f32) -> i32;
    pub fn vae_graph_batch_norm(g: *mut vae_graph, x: i32, gamma: f32) -> i32;
    pub fn vae_graph_gaussian(g: *mut vae_graph, mu: i32, logvar: i32) -> i32;
    pub fn vae_graph_bag_of_words(g: *mut vae_graph, logits: i32, ids: i32, weight: f32) -> i32;
    pub fn vae_graph_condition(g: *mut vae_graph, size: i64) -> i32;
    pub fn vae_graph_set_output(g: *mut vae_graph, node: i32) -> i32;
    pub fn vae_graph_node_size(g: *const vae_graph, node: i32) -> i64;

    // Model
    pub fn vae_model_new(
        encoder: *const vae_graph,
        decoder: *const vae_graph,
        latent_dim: i64,
        likelihood: i32,
        seed: u64,
        out: *mut *mut vae_model,
        err: *mut c_char,
        errlen: usize,
    ) -> i32;
    pub fn vae_model_free(m: *mut vae_model);
    pub fn vae_model_last_error(m: *const vae_model) -> *const c_char;
    pub fn vae_model_set_seed(m: *mut vae_model, seed: u64) -> i32;
    pub fn vae_model_set_beta(m: *mut vae_model, beta: f64) -> i32;
    pub fn vae_model_set_free_bits(m: *mut vae_model, nats: f64) -> i32;
    pub fn vae_model_set_train_samples(m: *mut vae_model, k: i64) -> i32;
    pub fn vae_model_set_kl_anneal(m: *mut vae_model, kind: i32, steps: i64) -> i32;
    pub fn vae_model_set_obs_logvar(m: *mut vae_model, logvar: f64) -> i32;
    pub fn vae_model_set_metadata(m: *mut vae_model, data: *const c_void, len: usize) -> i32;
    pub fn vae_model_metadata(m: *const vae_model, len: *mut usize) -> *const c_void;
    pub fn vae_model_set_condition(m: *mut vae_model, cond: *const f32, rows: i64) -> i32;
    pub fn vae_model_condition_size(m: *const vae_model) -> i64;
    pub fn vae_model_data_size(m: *const vae_model) -> i64;
    pub fn vae_model_data_shape(m: *const vae_model, dims: *mut i64, cap: i32) -> i32;
    pub fn vae_model_latent_dim(m: *const vae_model) -> i64;
    pub fn vae_model_set_free_bits_mode(m: *mut vae_model, mode: i32) -> i32;
    pub fn vae_model_reset_decoder(m: *mut vae_model, seed: u64) -> i32;
    pub fn vae_model_mutual_info(
        m: *mut vae_model,
        x: *const f32,
        n: i64,
        samples: i64,
        mi: *mut f64,
    ) -> i32;
    pub fn vae_model_active_units(
        m: *mut vae_model,
        x: *const f32,
        n: i64,
        threshold: f64,
        count: *mut i64,
        var: *mut f64,
    ) -> i32;
    pub fn vae_model_output_size(m: *const vae_model) -> i64;
    pub fn vae_model_num_params(m: *const vae_model) -> i64;
    pub fn vae_model_params(m: *mut vae_model) -> *mut f32;
    pub fn vae_model_grads(m: *mut vae_model) -> *mut f32;
    pub fn vae_model_zero_grad(m: *mut vae_model) -> i32;
    pub fn vae_model_scale_grad(m: *mut vae_model, s: f64) -> i32;
    pub fn vae_model_elbo(
        m: *mut vae_model,
        x: *const f32,
        batch: i64,
        elbo: *mut f64,
        recon: *mut f64,
        kl: *mut f64,
    ) -> i32;
    pub fn vae_model_elbo_grad(
        m: *mut vae_model,
        x: *const f32,
        batch: i64,
        elbo: *mut f64,
        recon: *mut f64,
        kl: *mut f64,
    ) -> i32;
    pub fn vae_model_encode(
        m: *mut vae_model,
        x: *const f32,
        batch: i64,
        mu: *mut f32,
        logvar: *mut f32,
    ) -> i32;
    pub fn vae_model_elbo_noise(
        m: *mut vae_model,
        x: *const f32,
        batch: i64,
        eps: *const f32,
        elbo: *mut f64,
        recon: *mut f64,
        kl: *mut f64,
    ) -> i32;
    pub fn vae_model_elbo_grad_noise(
        m: *mut vae_model,
        x: *const f32,
        batch: i64,
        eps: *const f32,
        elbo: *mut f64,
        recon: *mut f64,
        kl: *mut f64,
    ) -> i32;
    pub fn vae_model_decode(m: *mut vae_model, z: *const f32, batch: i64, out: *mut f32) -> i32;
    pub fn vae_model_decoder_output(
        m: *mut vae_model,
        z: *const f32,
        x: *const f32,
        batch: i64,
        out: *mut f32,
    ) -> i32;
    pub fn vae_model_sample(m: *mut vae_model, n: i64, z_out: *mut f32, out: *mut f32) -> i32;
    pub fn vae_model_reconstruct(
        m: *mut vae_model,
        x: *const f32,
        batch: i64,
        out: *mut f32,
    ) -> i32;
    pub fn vae_model_log_likelihood(
        m: *mut vae_model,
        z: *const f32,
        x: *const f32,
        batch: i64,
        logp: *mut f64,
    ) -> i32;
    pub fn vae_model_iwae(
        m: *mut vae_model,
        x: *const f32,
        batch: i64,
        k: i64,
        logpx: *mut f64,
    ) -> i32;
    pub fn vae_model_random_uniform(m: *mut vae_model, n: i64, out: *mut f32) -> i32;

    // Generation
    pub fn vae_model_generate(
        m: *mut vae_model,
        z: *const f32,
        n: i64,
        mode: i32,
        temperature: f64,
        top_k: i64,
        beam: i64,
        eos: i64,
        max_len: i64,
        out: *mut f32,
        steps: *mut i64,
    ) -> i32;
    pub fn vae_model_set_generation(m: *mut vae_model, key: i32, value: f64) -> i32;
    pub fn vae_model_get_generation(m: *mut vae_model, key: i32, value: *mut f64) -> i32;
    pub fn vae_model_generate_tokens(
        m: *mut vae_model,
        z: *const f32,
        n: i64,
        max_len: i64,
        out: *mut f32,
        steps: *mut i64,
    ) -> i32;

    // Adam / AdamW
    pub fn vae_adam_new(
        m: *const vae_model,
        lr: f64,
        out: *mut *mut vae_adam,
        err: *mut c_char,
        errlen: usize,
    ) -> i32;
    pub fn vae_adam_free(opt: *mut vae_adam);
    pub fn vae_adam_last_error(opt: *const vae_adam) -> *const c_char;
    pub fn vae_adam_set_lr(opt: *mut vae_adam, lr: f64) -> i32;
    pub fn vae_adam_set_betas(opt: *mut vae_adam, beta1: f64, beta2: f64, eps: f64) -> i32;
    pub fn vae_adam_set_weight_decay(opt: *mut vae_adam, wd: f64, decoupled: i32) -> i32;
    pub fn vae_adam_set_clip_norm(opt: *mut vae_adam, max_norm: f64) -> i32;
    pub fn vae_adam_steps(opt: *const vae_adam) -> i64;
    pub fn vae_adam_step(opt: *mut vae_adam, m: *mut vae_model) -> i32;
    pub fn vae_model_train_step(
        m: *mut vae_model,
        opt: *mut vae_adam,
        x: *const f32,
        batch: i64,
        elbo: *mut f64,
        recon: *mut f64,
        kl: *mut f64,
    ) -> i32;

    // Save / load
    pub fn vae_model_save(m: *mut vae_model, opt: *const vae_adam, path: *const c_char) -> i32;
    pub fn vae_model_save_size(m: *mut vae_model, opt: *const vae_adam, size: *mut usize) -> i32;
    pub fn vae_model_save_to_buffer(
        m: *mut vae_model,
        opt: *const vae_adam,
        buf: *mut c_void,
        cap: usize,
        written: *mut usize,
    ) -> i32;
    pub fn vae_model_load(
        path: *const c_char,
        out: *mut *mut vae_model,
        opt_out: *mut *mut vae_adam,
        err: *mut c_char,
        errlen: usize,
    ) -> i32;
    pub fn vae_model_load_from_buffer(
        buf: *const c_void,
        len: usize,
        out: *mut *mut vae_model,
        opt_out: *mut *mut vae_adam,
        err: *mut c_char,
        errlen: usize,
    ) -> i32;
}
