"""Train the mlp VAE (784-400-20, as vae-image --arch mlp and PyTorch's
examples/vae) on MNIST for one epoch with libvae, report the test ELBO, and
save a grid of samples from the prior as a greyscale PNG.

    mnist_vae.py [--data DIR] [--limit N] [--out MODEL] [--samples PNG]

DIR holds the raw IDX files (train-images-idx3-ubyte, t10k-images-idx3-ubyte;
scripts/fetch-mnist.sh puts them in ~/.cache/libvae/mnist). --limit uses
only the first N training and test images, for a run of seconds. The PNG
is written with zlib and struct alone.
"""
import argparse
import os
import struct
import sys
import time
import zlib

import numpy as np

import libvae

HIDDEN, LATENT, BATCH, LR = 400, 20, 128, 1e-3
GRID = 8  # samples per side of the picture


def read_images(path, limit):
    """Pixels of an IDX3 file as float32 in [0, 1], shape (n, 1, rows,
    cols): a batch of the model's one-channel examples."""
    with open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">4I", f.read(16))
        if magic != 0x803:
            raise ValueError(f"{path}: not an IDX3 image file")
        n = min(n, limit) if limit else n
        pixels = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8)
    if pixels.size != n * rows * cols:
        raise ValueError(f"{path}: truncated")
    return (pixels.reshape(n, 1, rows, cols) / np.float32(255)).astype(
        np.float32)


def build_model(rows, cols, seed):
    with libvae.Graph() as enc, libvae.Graph() as dec:
        h = enc.flatten(enc.input([1, rows, cols]))
        enc.set_output(enc.relu(enc.dense(h, HIDDEN)))
        h = dec.relu(dec.dense(dec.input([LATENT]), HIDDEN))
        dec.set_output(dec.dense(h, rows * cols))  # Bernoulli logits
        return libvae.Model(enc, dec, LATENT, libvae.LIKELIHOOD_BERNOULLI,
                            seed)


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data)))


def write_png(path, grey):
    """grey: 2-D uint8 array, written as an 8-bit greyscale PNG."""
    height, width = grey.shape
    # Every scan line starts with its filter type, 0 (none).
    lines = np.hstack([np.zeros((height, 1), np.uint8), grey])
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                               0, 0, 0, 0)))
        f.write(png_chunk(b"IDAT", zlib.compress(lines.tobytes(), 9)))
        f.write(png_chunk(b"IEND", b""))


def tile(images):
    """GRID x GRID images (n, rows, cols) in [0, 1] as one uint8 picture."""
    n, rows, cols = images.shape
    grid = images.reshape(GRID, GRID, rows, cols).transpose(0, 2, 1, 3)
    return np.round(grid.reshape(GRID * rows, GRID * cols) * 255).astype(
        np.uint8)


def test_elbo(model, x):
    """Mean ELBO over x, batch by batch."""
    total = 0.0
    for i in range(0, len(x), BATCH):
        batch = x[i:i + BATCH]
        total += model.elbo(batch).elbo * len(batch)
    return total / len(x)


def main():
    default = os.path.join(os.environ.get("VAE_DATA") or os.path.expanduser(
        os.path.join("~", ".cache", "libvae")), "mnist")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=default, help="IDX directory")
    ap.add_argument("--limit", type=int, default=0,
                    help="use only the first N images of each set")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="save the trained model here")
    ap.add_argument("--samples", default="mnist_samples.png",
                    help="PNG of 64 samples from the prior")
    args = ap.parse_args()

    train = read_images(os.path.join(args.data, "train-images-idx3-ubyte"),
                        args.limit)
    test = read_images(os.path.join(args.data, "t10k-images-idx3-ubyte"),
                       args.limit)
    _, _, rows, cols = train.shape
    print(f"libvae {libvae.version()}: {len(train)} training and "
          f"{len(test)} test images of {rows}x{cols}")

    rng = np.random.default_rng(args.seed)
    with build_model(rows, cols, args.seed) as model, \
            libvae.Adam(model, LR) as opt:
        start = time.time()
        order = rng.permutation(len(train))
        total, seen = 0.0, 0
        for step, i in enumerate(range(0, len(train), BATCH), 1):
            # Fancy indexing makes a fresh C-ordered float32 batch.
            batch = train[order[i:i + BATCH]]
            total += model.train_step(opt, batch).elbo * len(batch)
            seen += len(batch)
            if step % 100 == 0:
                print(f"step {step}: mean train ELBO {total / seen:.2f}")
        print(f"epoch 1: train ELBO {total / seen:.2f}, test ELBO "
              f"{test_elbo(model, test):.2f} nats, "
              f"{time.time() - start:.1f} s")

        if args.out:
            model.save(args.out, opt)
            print(f"model saved to {args.out}")
        _, means = model.sample(GRID * GRID)
        write_png(args.samples, tile(means.reshape(-1, rows, cols)))
        print(f"{GRID * GRID} samples written to {args.samples}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
