"""Uses libvae from Python through ctypes alone, as an FFI user would.

Run with /usr/bin/python3 (Debian's numpy). VAE_LIBRARY names the shared
library to load. Exits non-zero with a message on the first failed check.
"""
import ctypes as C
import os
import sys

import numpy as np

VAE_OK = 0
VAE_LIKELIHOOD_BERNOULLI = 1
DATA, HIDDEN, LATENT, BATCH = 6, 8, 2, 5

i32, i64, u64, f64 = C.c_int32, C.c_int64, C.c_uint64, C.c_double
p_f32 = C.POINTER(C.c_float)
p_f64 = C.POINTER(f64)
handle = C.c_void_p
p_handle = C.POINTER(handle)

# Every call gets an explicit signature: without one ctypes would pass
# 64-bit handles and int64 sizes as C ints.
SIGNATURES = {
    "vae_version_string": (C.c_char_p, []),
    "vae_version_number": (i32, []),
    "vae_status_string": (C.c_char_p, [i32]),
    "vae_graph_new": (i32, [p_handle]),
    "vae_graph_free": (None, [handle]),
    "vae_graph_status": (i32, [handle]),
    "vae_graph_last_error": (C.c_char_p, [handle]),
    "vae_graph_input": (i32, [handle, C.POINTER(i64), i32]),
    "vae_graph_dense": (i32, [handle, i32, i64]),
    "vae_graph_relu": (i32, [handle, i32]),
    "vae_graph_set_output": (i32, [handle, i32]),
    "vae_model_new": (i32, [handle, handle, i64, i32, u64, p_handle,
                            C.c_char_p, C.c_size_t]),
    "vae_model_free": (None, [handle]),
    "vae_model_last_error": (C.c_char_p, [handle]),
    "vae_model_num_params": (i64, [handle]),
    "vae_model_params": (p_f32, [handle]),
    "vae_model_train_step": (i32, [handle, handle, p_f32, i64,
                                   p_f64, p_f64, p_f64]),
    "vae_adam_new": (i32, [handle, f64, p_handle, C.c_char_p, C.c_size_t]),
    "vae_adam_free": (None, [handle]),
    "vae_adam_steps": (i64, [handle]),
}


def check(cond, what):
    if not cond:
        sys.exit(f"ctypes_smoke: FAILED: {what}")


def load(path):
    lib = C.CDLL(path)
    for name, (restype, argtypes) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def build_graph(lib, n_in, n_out):
    g = handle()
    check(lib.vae_graph_new(C.byref(g)) == VAE_OK and g.value,
          "vae_graph_new")
    dims = (i64 * 1)(n_in)
    x = lib.vae_graph_input(g, dims, 1)
    h = lib.vae_graph_relu(g, lib.vae_graph_dense(g, x, HIDDEN))
    lib.vae_graph_set_output(g, lib.vae_graph_dense(g, h, n_out))
    status = lib.vae_graph_status(g)
    check(status == VAE_OK,
          f"graph build: {status} {lib.vae_graph_last_error(g)!r}")
    return g


def main():
    path = os.environ.get("VAE_LIBRARY")
    check(path, "VAE_LIBRARY is not set")
    lib = load(path)

    version = lib.vae_version_string().decode()
    number = lib.vae_version_number()
    major, minor, patch = (int(p) for p in version.split("."))
    check(number == major * 10000 + minor * 100 + patch,
          f"version string {version} vs number {number}")
    check(lib.vae_status_string(VAE_OK), "vae_status_string(VAE_OK)")

    enc = build_graph(lib, DATA, HIDDEN)
    dec = build_graph(lib, LATENT, DATA)
    err = C.create_string_buffer(256)
    model = handle()

    # The error buffer must carry a message back through the FFI boundary:
    # a decoder whose input is not latent_dim wide cannot form a model.
    status = lib.vae_model_new(enc, dec, LATENT + 1, VAE_LIKELIHOOD_BERNOULLI,
                               1, C.byref(model), err, len(err))
    check(status < 0 and err.value, "vae_model_new accepted a bad latent_dim")

    status = lib.vae_model_new(enc, dec, LATENT, VAE_LIKELIHOOD_BERNOULLI, 1,
                               C.byref(model), err, len(err))
    lib.vae_graph_free(enc)
    lib.vae_graph_free(dec)
    check(status == VAE_OK, f"vae_model_new: {status} {err.value!r}")

    opt = handle()
    status = lib.vae_adam_new(model, 1e-2, C.byref(opt), err, len(err))
    check(status == VAE_OK, f"vae_adam_new: {status} {err.value!r}")

    n = lib.vae_model_num_params(model)
    check(n > 0, f"vae_model_num_params = {n}")
    params = np.ctypeslib.as_array(lib.vae_model_params(model), shape=(n,))
    before = params.copy()

    x = np.random.default_rng(0).random((BATCH, DATA), dtype=np.float32)
    elbo, recon, kl = f64(), f64(), f64()
    status = lib.vae_model_train_step(
        model, opt, x.ctypes.data_as(p_f32), BATCH,
        C.byref(elbo), C.byref(recon), C.byref(kl))
    check(status == VAE_OK,
          f"train step: {status} {lib.vae_model_last_error(model)!r}")
    check(lib.vae_adam_steps(opt) == 1, "optimizer step count")
    check(np.isfinite(elbo.value) and kl.value >= 0.0,
          f"elbo {elbo.value} kl {kl.value}")
    check(np.all(np.isfinite(params)), "non-finite parameters after a step")
    check(not np.array_equal(params, before),
          "parameters unchanged by a train step")

    lib.vae_adam_free(opt)
    lib.vae_model_free(model)
    print(f"ctypes_smoke: libvae {version}, elbo {elbo.value:.4f}, "
          f"{n} params updated")


if __name__ == "__main__":
    main()
