#!/usr/bin/python3
"""PyTorch twin of bench/vae-bench: the three benchmark models of libvae issue 6.

Run with Debian's /usr/bin/python3 (python3-torch 1.13). Same models, init,
loss, optimizer, data and timing rule as vae-bench, and the same output
fields, so that bench/compare.sh can set the two side by side:

- mlp and conv are the models of bench/torch_mnist_vae.py (imported from
  there), scored on Bernoulli logits: binary_cross_entropy_with_logits for
  both (that file's mlp applies a sigmoid and F.binary_cross_entropy, as
  pytorch/examples does; libvae and this benchmark use logits).
- lstm_text: nn.Embedding(10000, 256) shared by encoder and decoder;
  encoder nn.LSTM(256, 256), last h -> mu/logvar 32; decoder (h0, c0) =
  split(Linear(32, 512)(z)), input at step t = [embed(x_{t-1}); z] with
  x_{-1} = BOS (id 1), nn.LSTM(288, 256), Linear(256, 10000) logits,
  cross-entropy summed over tokens. T = 100, batch 32.
- PyTorch default init; loss = sum over the batch of the negative ELBO
  (reconstruction summed over pixels/tokens + analytic KL), one
  reparameterised sample; torch.optim.Adam(lr=1e-3) with its defaults.
- Data: random, made before the clock: pixels uniform in [0, 1), token ids
  uniform in 1..9999; a pool of 4 batches used in turn.
- Timing: warm-up steps, then timed steps (zero_grad, forward, loss,
  backward, Adam step); samples/s = batch / median step time; GFLOP/s = the
  issue's analytic FLOPs (3 x forward matrix-product FLOPs, 2 per
  multiply-add) / median step time.
- Peak RSS: resource.getrusage ru_maxrss after the timed steps, in a process
  that built only this model (--model all runs this script once per model).
- start-up: from just before `import torch` to a model and optimizer ready
  to train; with --t0 also launch-to-model (interpreter start included).
- --threads N calls torch.set_num_threads(N) and nothing else, as a user
  runs it: Debian's torch does its matrix products in OpenBLAS, whose own
  pool does not follow that call; the output reports both counts.
"""

import time

# Start-up is measured from here: importing torch is part of the cost a
# user pays before the first step.
_IMPORT_START = time.perf_counter()

import argparse  # noqa: E402
import ctypes  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from torch_mnist_vae import VAE, ConvVAE, MlpVAE, loss_terms  # noqa: E402

POOL = 4
SEED = 1
LR = 1e-3
VOCAB, EMBED, HIDDEN, SEQ_T, TEXT_LATENT, BOS = 10000, 256, 256, 100, 32, 1


class MlpLogitsVAE(MlpVAE):
    """torch_mnist_vae's MLP with the decoder's logits scored directly."""

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))

    nll = staticmethod(ConvVAE.nll)


class TextVAE(VAE):
    """Bowman et al. 2016 sentence VAE, as libvae issue 6 defines lstm_text."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED)
        self.enc = nn.LSTM(EMBED, HIDDEN, batch_first=True)
        self.fc_mu = nn.Linear(HIDDEN, TEXT_LATENT)
        self.fc_logvar = nn.Linear(HIDDEN, TEXT_LATENT)
        self.init = nn.Linear(TEXT_LATENT, 2 * HIDDEN)
        self.dec = nn.LSTM(EMBED + TEXT_LATENT, HIDDEN, batch_first=True)
        self.out = nn.Linear(HIDDEN, VOCAB)

    def encode(self, x):
        _, (h, _) = self.enc(self.embed(x))
        return self.fc_mu(h[-1]), self.fc_logvar(h[-1])

    def decode(self, z, x):
        h0, c0 = self.init(z).chunk(2, dim=1)
        prev = torch.cat([torch.full_like(x[:, :1], BOS), x[:, :-1]], dim=1)
        inp = torch.cat([self.embed(prev), z.unsqueeze(1).expand(-1, x.shape[1], -1)], dim=2)
        h, _ = self.dec(inp, (h0.unsqueeze(0).contiguous(), c0.unsqueeze(0).contiguous()))
        return self.out(h)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z, x), mu, logvar

    @staticmethod
    def nll(logits, x):
        return F.cross_entropy(logits.reshape(-1, VOCAB), x.reshape(-1), reduction="sum")


def dense_macs(fan_in, units):
    return fan_in * units


def conv_macs(cin, cout, k, positions):
    """Convolutions, and transposed ones counted over their input positions."""
    return cin * cout * k * k * positions


def lstm_macs(t, f, h):
    return t * 4 * h * (f + h)


# name -> (constructor, batch, forward multiply-adds per example)
MODELS = {
    "mlp": (lambda: MlpLogitsVAE(20), 128,
            dense_macs(784, 400) + dense_macs(400, 40) + dense_macs(20, 400) + dense_macs(400, 784)),
    "conv": (lambda: ConvVAE(32), 128,
             conv_macs(1, 32, 4, 14 * 14) + conv_macs(32, 64, 4, 7 * 7)
             + dense_macs(3136, 256) + dense_macs(256, 64) + dense_macs(32, 256)
             + dense_macs(256, 3136) + conv_macs(64, 32, 4, 7 * 7) + conv_macs(32, 1, 4, 14 * 14)),
    "lstm_text": (TextVAE, 32,
                  lstm_macs(SEQ_T, EMBED, HIDDEN) + dense_macs(HIDDEN, 2 * TEXT_LATENT)
                  + dense_macs(TEXT_LATENT, 2 * HIDDEN) + lstm_macs(SEQ_T, EMBED + TEXT_LATENT, HIDDEN)
                  + SEQ_T * dense_macs(HIDDEN, VOCAB)),
}


def make_batches(name, batch, gen):
    if name == "lstm_text":
        return [torch.randint(1, VOCAB, (batch, SEQ_T), generator=gen) for _ in range(POOL)]
    return [torch.rand(batch, 784, generator=gen) for _ in range(POOL)]


def openblas_threads():
    try:
        return ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads()
    except (OSError, AttributeError):
        return None


def run_model(name, args):
    make, batch, macs = MODELS[name]
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    startup_ms = 1e3 * (time.perf_counter() - _IMPORT_START)
    launch_ms = 1e3 * (time.time() - args.t0) if args.t0 is not None else None

    data = make_batches(name, batch, torch.Generator().manual_seed(SEED))
    times = []
    faults = 0
    for i in range(-args.warmup, args.steps):
        if i == 0:
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        x = data[(i + args.warmup) % POOL]
        t = time.perf_counter()
        opt.zero_grad()
        out, mu, logvar = model(x)
        nll, kld = loss_terms(model, out, x, mu, logvar)
        loss = nll + kld
        loss.backward()
        opt.step()
        t = time.perf_counter() - t
        if i >= 0:
            times.append(t)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    last_loss = loss.item()
    if not math.isfinite(last_loss):
        sys.exit(f"torch_ref: {name}: loss is {last_loss}")

    med = statistics.median(times)
    flops = 6 * batch * macs
    return {
        "impl": "torch", "version": torch.__version__, "model": name,
        "threads": args.threads, "torch_threads": torch.get_num_threads(),
        "blas_threads": openblas_threads(), "batch": batch,
        "steps": args.steps, "warmup": args.warmup,
        "params": sum(p.numel() for p in model.parameters()),
        "median_step_ms": 1e3 * med, "min_step_ms": 1e3 * min(times),
        "max_step_ms": 1e3 * max(times), "samples_per_s": batch / med,
        "flops_per_step": flops, "gflops": 1e-9 * flops / med,
        "peak_rss_kib": usage.ru_maxrss, "startup_ms": startup_ms,
        "launch_to_model_ms": launch_ms,
        "minflt_per_step": (usage.ru_minflt - faults) / args.steps,
        "last_elbo": -last_loss / batch,
    }


def print_text(r):
    print(f"{r['model']:<9} threads {r['threads']} (torch {r['torch_threads']}, "
          f"OpenBLAS {r['blas_threads']})  batch {r['batch']}  {r['steps']} steps "
          f"after {r['warmup']} warm-up")
    print(f"  step      median {r['median_step_ms']:.3f} ms (min {r['min_step_ms']:.3f}, "
          f"max {r['max_step_ms']:.3f})  {r['samples_per_s']:.1f} samples/s  "
          f"{r['gflops']:.2f} GFLOP/s ({1e-9 * r['flops_per_step']:.4g} GFLOP/step)")
    print(f"  memory    peak RSS {r['peak_rss_kib'] / 1024:.1f} MiB  "
          f"{r['minflt_per_step']:.1f} minor faults/step  {r['params']} parameters")
    launch = r["launch_to_model_ms"]
    print(f"  start-up  {r['startup_ms']:.3f} ms (import torch to model + optimizer)"
          + (f", launch to model {launch:.3f} ms" if launch is not None else ""))
    print(f"  last ELBO {r['last_elbo']:.4f} nats/example")


def run_all(args):
    """Each model in a fresh interpreter, so RSS and start-up are its own."""
    rc = 0
    for name in MODELS:
        cmd = [sys.executable, os.path.abspath(__file__), "--model", name,
               "--threads", str(args.threads), "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--t0", repr(time.time())]
        if args.json:
            cmd.append("--json")
        sys.stdout.flush()
        if subprocess.run(cmd).returncode != 0:
            print(f"torch_ref: {name} failed", file=sys.stderr)
            rc = 1
    return rc


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=[*MODELS, "all"], default="all")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads(N)")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before them")
    p.add_argument("--json", action="store_true", help="one JSON object per model")
    p.add_argument("--t0", type=float, help="wall clock (epoch seconds) when the launcher started this process")
    a = p.parse_args()
    if a.threads < 1 or a.steps < 1 or a.warmup < 0:
        p.error("--threads and --steps must be >= 1, --warmup >= 0")
    return a


def main():
    args = parse_args()
    if args.model == "all":
        return run_all(args)
    r = run_model(args.model, args)
    if args.json:
        print(json.dumps(r, separators=(",", ":")))
    else:
        print_text(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
