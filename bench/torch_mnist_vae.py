#!/usr/bin/python3
"""PyTorch reference for libvae's `vae-image train --arch mlp|conv`.

--arch mlp (default) reproduces pytorch/examples vae/main.py on the CPU:
784-400-20 MLP VAE, relu, sigmoid decoder output scored with binary
cross-entropy on grey levels (pixels/255, summed), analytic KL, Adam lr 1e-3,
batch 128, shuffled training set, torch.manual_seed(seed) before building the
model.

--arch conv is the convolutional VAE of libvae issue 4, layer for layer:
encoder Conv2d(1,32,4,2,1) relu (28->14), Conv2d(32,64,4,2,1) relu (14->7),
flatten, Linear(3136,256) relu, Linear(256,D) heads for mu and logvar (D = 32
unless --latent); decoder Linear(D,256) relu, Linear(256,3136) relu, view
64x7x7, ConvTranspose2d(64,32,4,2,1) relu, ConvTranspose2d(32,1,4,2,1) giving
Bernoulli logits, scored with binary_cross_entropy_with_logits (summed) plus
the analytic KL. Same optimizer, batch, loaders and RNG handling as mlp.

--binarize dynamic replaces each training batch by torch.bernoulli(grey
levels), a fresh draw from the global RNG every time the batch is used, and
binarises the test set once with a generator of its own seeded with
TEST_BINARIZE_SEED, so the test set is the same for every --seed and the
training stream is not shifted by it (Burda et al. 2015 protocol). libvae
draws its bits from its own RNG, so the two programs see different (equally
distributed) binary images. --binarize none (default) trains on grey levels.

Differences from the example, none of which change the numbers it prints
with --arch mlp --binarize none:
- no torchvision here, so the IDX files are read with numpy; the tensors equal
  what ToTensor() gives (uint8 / 255 as float32);
- batches are gathered with one tensor index per batch instead of one
  __getitem__ per image; the loaders consume the global RNG exactly as the
  example's DataLoader(shuffle=True/False) does, so the same seed gives the
  same shuffles, noise draws and initial weights;
- no PNG output.

Likelihood caveat (mlp only): the example scores the float32 sigmoid output,
not the logits, and F.binary_cross_entropy clamps each log term at -100. A
pixel whose float32 output rounds to exactly 1 (logit above about 17) or 0
(below about -88) on the wrong side therefore costs 100 nats instead of
|logit|, and log(1 - p) loses precision as p nears 1. libvae scores Bernoulli
logits directly, so the two likelihoods agree only up to these effects. conv
scores logits as libvae does.

Metrics, one JSON object per epoch (same keys as vae-image):
  train_elbo   minus the training loss summed over the epoch's batches (taken
               before each optimizer step, as the example does) / 60000
  test_elbo    minus the test loss summed over the test set / 10000, i.e. the
               example's "Test set loss" negated (single-sample ELBO estimate)
  recon, kl    mean log p(x|z) (negative) and mean KL on the test set
  seconds      wall time of the epoch's training loop, test evaluation excluded
"""

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

IMAGE_MAGIC = 0x00000803
# Independent of --seed: every run is scored on the same binary test set.
TEST_BINARIZE_SEED = 0


class VAE(nn.Module):
    """Shared by both architectures: encode to (mu, logvar), sample, decode."""

    def forward(self, x):
        mu, logvar = self.encode(x)
        # The example samples z in eval mode too, so its test loss is a
        # one-sample estimate; keep that.
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


class MlpVAE(VAE):
    # Layers are created in the example's order: that order fixes which
    # random numbers initialise which weights.
    def __init__(self, latent):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, latent)
        self.fc22 = nn.Linear(400, latent)
        self.fc3 = nn.Linear(latent, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    @staticmethod
    def nll(out, x):
        return F.binary_cross_entropy(out, x, reduction="sum")


class ConvVAE(VAE):
    def __init__(self, latent):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, 2, 1)
        self.conv2 = nn.Conv2d(32, 64, 4, 2, 1)
        self.fc1 = nn.Linear(3136, 256)
        self.fc_mu = nn.Linear(256, latent)
        self.fc_logvar = nn.Linear(256, latent)
        self.fc3 = nn.Linear(latent, 256)
        self.fc4 = nn.Linear(256, 3136)
        self.deconv1 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
        self.deconv2 = nn.ConvTranspose2d(32, 1, 4, 2, 1)

    def encode(self, x):
        h = F.relu(self.conv1(x.view(-1, 1, 28, 28)))
        h = F.relu(self.conv2(h))
        h = F.relu(self.fc1(h.flatten(1)))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        h = F.relu(self.fc4(F.relu(self.fc3(z))))
        h = F.relu(self.deconv1(h.view(-1, 64, 7, 7)))
        return self.deconv2(h).flatten(1)

    @staticmethod
    def nll(logits, x):
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum")


# arch -> (model class, default latent size)
ARCHS = {"mlp": (MlpVAE, 20), "conv": (ConvVAE, 32)}


def loss_terms(model, out, x, mu, logvar):
    """Summed -log p(x|z) and summed KL(q(z|x) || N(0, I))."""
    nll = model.nll(out, x)
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return nll, kld


def open_idx(data_dir, name):
    raw = os.path.join(data_dir, name)
    if os.path.exists(raw):
        with open(raw, "rb") as f:
            return f.read()
    with gzip.open(raw + ".gz", "rb") as f:
        return f.read()


def load_images(data_dir, name, count):
    """IDX3 images as a (count, 784) float32 tensor of grey levels in [0, 1]."""
    try:
        blob = open_idx(data_dir, name)
    except (OSError, EOFError) as e:
        sys.exit(f"torch_mnist_vae: cannot read {name}[.gz] in {data_dir}: {e}")
    if len(blob) < 16:
        sys.exit(f"torch_mnist_vae: {name}: truncated header")
    magic, n, rows, cols = np.frombuffer(blob, dtype=">u4", count=4)
    if magic != IMAGE_MAGIC or n != count or rows != 28 or cols != 28:
        sys.exit(f"torch_mnist_vae: {name}: expected magic 0x803 and {count}x28x28, "
                 f"got magic {magic:#x} and {n}x{rows}x{cols}")
    if len(blob) != 16 + count * 784:
        sys.exit(f"torch_mnist_vae: {name}: size {len(blob)} != {16 + count * 784}")
    pixels = np.frombuffer(blob, dtype=np.uint8, offset=16).reshape(count, 784)
    return torch.from_numpy(pixels.copy()).float().div(255)


def batch_loader(images, batch, sampler_cls):
    # batch_size=None plus a BatchSampler hands whole index lists to the
    # dataset: the loader still draws its base seed (and RandomSampler its
    # shuffle seed) from the global RNG like the example's loaders.
    ds = TensorDataset(images)
    return DataLoader(ds, batch_size=None, sampler=BatchSampler(sampler_cls(ds), batch, drop_last=False))


def openblas_threads():
    """OpenBLAS's own thread count: torch.set_num_threads does not change it."""
    import ctypes
    try:
        return ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads()
    except (OSError, AttributeError):
        return None


def train_epoch(model, opt, loader, n, epoch, log_interval, binarize):
    model.train()
    total = 0.0
    seen = 0
    start = time.perf_counter()
    for i, (x,) in enumerate(loader, 1):
        if binarize:
            x = torch.bernoulli(x)
        opt.zero_grad()
        recon, mu, logvar = model(x)
        bce, kld = loss_terms(model, recon, x, mu, logvar)
        loss = bce + kld
        loss.backward()
        total += loss.item()
        opt.step()
        seen += len(x)
        if i % log_interval == 0 or seen == n:
            elapsed = time.perf_counter() - start
            rate = seen / elapsed
            print(f"epoch {epoch} batch {i}/{len(loader)} loss {loss.item() / len(x):.4f} "
                  f"{rate:.0f} samples/s eta {(n - seen) / rate:.1f}s", file=sys.stderr)
    return total, time.perf_counter() - start


def evaluate(model, loader):
    model.eval()
    bce_sum = 0.0
    kld_sum = 0.0
    with torch.no_grad():
        for (x,) in loader:
            recon, mu, logvar = model(x)
            bce, kld = loss_terms(model, recon, x, mu, logvar)
            bce_sum += bce.item()
            kld_sum += kld.item()
    return bce_sum, kld_sum


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="directory with the MNIST IDX files (raw or .gz)")
    p.add_argument("--arch", choices=sorted(ARCHS), default="mlp")
    p.add_argument("--latent", type=int, help="latent size (default: 20 for mlp, 32 for conv)")
    p.add_argument("--binarize", choices=("none", "dynamic"), default="none",
                   help="dynamic: resample Bernoulli(grey level) pixels for every training batch")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps torch's default")
    p.add_argument("--metrics", help="append one JSON object per epoch to this file")
    p.add_argument("--log-interval", type=int, default=100, help="batches between progress lines")
    a = p.parse_args()
    if a.latent is None:
        a.latent = ARCHS[a.arch][1]
    for name in ("latent", "epochs", "batch", "log_interval"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if a.threads < 0:
        p.error("--threads must be >= 0")
    if not a.lr > 0:
        p.error("--lr must be > 0")
    return a


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_x = load_images(args.data, "train-images-idx3-ubyte", 60000)
    test_x = load_images(args.data, "t10k-images-idx3-ubyte", 10000)
    binarize = args.binarize == "dynamic"
    if binarize:
        test_x = torch.bernoulli(test_x, generator=torch.Generator().manual_seed(TEST_BINARIZE_SEED))
    train_loader = batch_loader(train_x, args.batch, RandomSampler)
    test_loader = batch_loader(test_x, args.batch, SequentialSampler)

    model = ARCHS[args.arch][0](args.latent)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    print(f"torch {torch.__version__}: intra-op threads {torch.get_num_threads()}, "
          f"OpenBLAS threads {openblas_threads()}, arch {args.arch}, latent {args.latent}, "
          f"binarize {args.binarize}, seed {args.seed}, batch {args.batch}, lr {args.lr}",
          file=sys.stderr)

    n_train, n_test = len(train_x), len(test_x)
    for epoch in range(1, args.epochs + 1):
        train_loss, seconds = train_epoch(model, opt, train_loader, n_train, epoch,
                                          args.log_interval, binarize)
        bce_sum, kld_sum = evaluate(model, test_loader)
        # The example draws 64 prior samples for a PNG after every epoch; the
        # draw advances the global RNG, so keep it to stay on the same stream.
        with torch.no_grad():
            model.decode(torch.randn(64, args.latent))

        rec = {
            "epoch": epoch,
            "train_elbo": -train_loss / n_train,
            "test_elbo": -(bce_sum + kld_sum) / n_test,
            "recon": -bce_sum / n_test,
            "kl": kld_sum / n_test,
            "seconds": seconds,
            "samples_per_s": n_train / seconds,
        }
        print(f"====> epoch {epoch}: train loss {train_loss / n_train:.4f}, "
              f"test loss {(bce_sum + kld_sum) / n_test:.4f} "
              f"(recon {rec['recon']:.4f}, kl {rec['kl']:.4f}), "
              f"{seconds:.2f}s, {rec['samples_per_s']:.0f} samples/s", file=sys.stderr)
        if args.metrics:
            with open(args.metrics, "a") as f:
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
