#!/usr/bin/env bash
# Train the MNIST mlp VAE with libvae's vae-image and with the PyTorch reference
# (bench/torch_mnist_vae.py, a faithful copy of pytorch/examples vae/main.py) on
# the same data, hyper-parameters, seed and thread count, one after the other,
# then print final test ELBO and throughput of both.
#
# usage: bench/mnist-mlp-compare.sh BUILD_DIR DATA_DIR [EPOCHS=10] [THREADS=2]
# Files go to $OUT_DIR (default: a new temporary directory, printed).
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR DATA_DIR [EPOCHS=10] [THREADS=2]" >&2; exit 2; }
[[ $# -ge 2 && $# -le 4 ]] || usage
build=$1 data=$2 epochs=${3:-10} threads=${4:-2}
[[ $epochs =~ ^[1-9][0-9]*$ ]] || { echo "$0: EPOCHS must be a positive integer" >&2; exit 2; }
[[ $threads =~ ^[1-9][0-9]*$ ]] || { echo "$0: THREADS must be a positive integer" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$build/examples/image/vae-image
py=/usr/bin/python3
[[ -x $bin ]] || { echo "$0: $bin not found; build with VAE_BUILD_EXAMPLES=ON" >&2; exit 1; }
[[ -d $data ]] || { echo "$0: $data is not a directory" >&2; exit 1; }
"$py" -c 'import torch, numpy' 2>/dev/null || { echo "$0: $py cannot import torch and numpy" >&2; exit 1; }

out=${OUT_DIR:-$(mktemp -d /tmp/mnist-mlp-compare.XXXXXX)}
mkdir -p "$out"
# Both programs append to their metrics file; start from empty ones.
rm -f "$out/libvae.jsonl" "$out/torch.jsonl"
echo "outputs in $out" >&2

echo "== libvae: $epochs epochs, $threads threads" >&2
OPENBLAS_NUM_THREADS=$threads "$bin" train --data "$data" --arch mlp --epochs "$epochs" --batch 128 \
    --lr 1e-3 --seed 1 --out "$out/libvae.model" --metrics "$out/libvae.jsonl"

# Debian's torch does its matrix products in OpenBLAS (pthread build), whose
# pool ignores torch.set_num_threads, so cap it as well.
echo "== torch: $epochs epochs, $threads threads" >&2
OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$py" "$here/torch_mnist_vae.py" --data "$data" \
    --epochs "$epochs" --batch 128 --lr 1e-3 --seed 1 --threads "$threads" --metrics "$out/torch.jsonl"

"$py" - "$out/libvae.jsonl" "$out/torch.jsonl" "$epochs" "$threads" <<'EOF'
import json, sys

lib_path, torch_path, epochs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def summary(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    rows = [r for r in rows if "epoch" in r]
    if len(rows) != epochs:
        sys.exit(f"{path}: {len(rows)} epoch records, expected {epochs}")
    return rows[-1]["test_elbo"], sum(r["samples_per_s"] for r in rows) / len(rows)

lib_elbo, lib_rate = summary(lib_path)
tor_elbo, tor_rate = summary(torch_path)
# ELBOs are negative, so they are compared by difference (> 0: libvae better).
print(f"{'':24}{'libvae':>12}{'torch':>12}  compare")
print(f"{'final test_elbo (nats)':24}{lib_elbo:12.3f}{tor_elbo:12.3f}{lib_elbo - tor_elbo:+14.3f} (lib-torch)")
print(f"{'mean samples/s':24}{lib_rate:12.0f}{tor_rate:12.0f}{lib_rate / tor_rate:14.3f} (lib/torch)")
print(json.dumps({"epochs": epochs, "threads": threads,
                  "libvae_test_elbo": lib_elbo, "torch_test_elbo": tor_elbo,
                  "elbo_diff": lib_elbo - tor_elbo,
                  "libvae_samples_per_s": lib_rate, "torch_samples_per_s": tor_rate,
                  "speed_ratio": lib_rate / tor_rate}, separators=(",", ":")))
EOF
