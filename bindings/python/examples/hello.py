"""Train a small VAE on two binary patterns with libvae, save it, load it."""
import os
import sys
import tempfile

import numpy as np

import libvae

DIM, LATENT, BATCH = 64, 4, 32


def build_model():
    # The graphs are only needed until the model has copied them.
    with libvae.Graph() as enc, libvae.Graph() as dec:
        h = enc.input([DIM])                 # x: 64 values in [0, 1]
        h = enc.relu(enc.dense(h, 32))
        enc.set_output(h)                    # the model adds (mu, logvar)
        h = dec.input([LATENT])              # z: 4 latents
        h = dec.relu(dec.dense(h, 32))
        dec.set_output(dec.dense(h, DIM))    # Bernoulli logits
        return libvae.Model(enc, dec, LATENT, libvae.LIKELIHOOD_BERNOULLI,
                            seed=42)


def main():
    print("libvae", libvae.version())
    # Two prototypes, so there is something to learn; float32, C order.
    odd_row = np.arange(BATCH)[:, None] % 2 == 1
    left_half = np.arange(DIM)[None, :] < DIM // 2
    x = (odd_row ^ left_half).astype(np.float32)
    with build_model() as model, libvae.Adam(model, lr=1e-3) as opt:
        for step in range(1, 301):
            elbo = model.train_step(opt, x).elbo
            if step % 100 == 0:
                print(f"step {step}  ELBO {elbo:.2f} nats")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "hello.vae")
            model.save(path, opt)
            with libvae.Model.load(path) as copy:
                same = np.array_equal(copy.params, model.params)
                print(f"reloaded {copy.num_params} parameters, "
                      f"identical: {same}")
        try:
            libvae.Model.load(path)  # the directory is gone now
        except libvae.VaeError as e:
            print(f"expected error: {e.message} (status {e.status})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
