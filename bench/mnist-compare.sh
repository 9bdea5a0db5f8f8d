#!/usr/bin/env bash
# Train the same MNIST VAE with libvae's vae-image and with the PyTorch
# reference (bench/torch_mnist_vae.py: for mlp a faithful copy of
# pytorch/examples vae/main.py, for conv the layer-for-layer twin of
# `vae-image --arch conv`) on the same data, architecture, latent size,
# binarisation, hyper-parameters, seed and thread count, one after the other,
# then print final test ELBO and throughput of both.
#
# usage: bench/mnist-compare.sh BUILD_DIR DATA_DIR [EPOCHS=10] [THREADS=2] [ARCH=mlp] [BINARIZE=none]
#   ARCH      mlp (latent 20) | conv (latent 32)
#   BINARIZE  none (grey levels) | dynamic (fresh Bernoulli pixels per use)
# Files go to $OUT_DIR (default: a new temporary directory, printed).
#
# Threads: both programs run with OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set
# to THREADS and get --threads THREADS (vae-image: vae_set_num_threads; torch:
# torch.set_num_threads). Debian's torch does its matrix products in OpenBLAS
# (pthread build), whose pool ignores torch.set_num_threads, and its
# convolutions in oneDNN on the OpenMP pool, so both caps matter.
# torch default threads: with no env vars torch here uses 1 intra-op thread
# and 2 OpenBLAS threads (on this 2-core machine), so an unconfigured torch run
# is neither a 1- nor a 2-thread measurement.
# Caution for conv at THREADS=2: the two pools take turns, and libgomp's idle
# workers spin while OpenBLAS works; with other jobs on the machine torch conv
# ran at 127 samples/s at 2 threads against 1000 at 1 (OMP_WAIT_POLICY=passive
# recovered about 3x). Check the load (uptime) before trusting such a number.
set -euo pipefail

usage() {
    echo "usage: $0 BUILD_DIR DATA_DIR [EPOCHS=10] [THREADS=2] [ARCH=mlp] [BINARIZE=none]" >&2
    exit 2
}
[[ $# -ge 2 && $# -le 6 ]] || usage
build=$1 data=$2 epochs=${3:-10} threads=${4:-2} arch=${5:-mlp} binarize=${6:-none}
[[ $epochs =~ ^[1-9][0-9]*$ ]] || { echo "$0: EPOCHS must be a positive integer" >&2; exit 2; }
[[ $threads =~ ^[1-9][0-9]*$ ]] || { echo "$0: THREADS must be a positive integer" >&2; exit 2; }
case $arch in
    mlp) latent=20 ;;
    conv) latent=32 ;;
    *) echo "$0: ARCH must be mlp or conv" >&2; exit 2 ;;
esac
[[ $binarize == none || $binarize == dynamic ]] || { echo "$0: BINARIZE must be none or dynamic" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$build/examples/image/vae-image
py=/usr/bin/python3
[[ -x $bin ]] || { echo "$0: $bin not found; build with VAE_BUILD_EXAMPLES=ON" >&2; exit 1; }
[[ -d $data ]] || { echo "$0: $data is not a directory" >&2; exit 1; }
"$py" -c 'import torch, numpy' 2>/dev/null || { echo "$0: $py cannot import torch and numpy" >&2; exit 1; }

out=${OUT_DIR:-$(mktemp -d /tmp/mnist-compare.XXXXXX)}
mkdir -p "$out"
# Both programs append to their metrics file; start from empty ones.
rm -f "$out/libvae.jsonl" "$out/torch.jsonl"
echo "outputs in $out" >&2

export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
# The latent size is passed explicitly so that a change of either program's
# default cannot make the two models differ silently.
model_args=(--data "$data" --arch "$arch" --latent "$latent" --binarize "$binarize"
            --epochs "$epochs" --batch 128 --lr 1e-3 --seed 1 --threads "$threads")

echo "== libvae: $arch, binarize $binarize, $epochs epochs, $threads threads" >&2
"$bin" train "${model_args[@]}" --out "$out/libvae.model" --metrics "$out/libvae.jsonl"

echo "== torch: $arch, binarize $binarize, $epochs epochs, $threads threads" >&2
"$py" "$here/torch_mnist_vae.py" "${model_args[@]}" --metrics "$out/torch.jsonl"

"$py" - "$out/libvae.jsonl" "$out/torch.jsonl" "$epochs" "$threads" "$arch" "$latent" "$binarize" <<'EOF'
import json, sys

lib_path, torch_path = sys.argv[1], sys.argv[2]
epochs, threads = int(sys.argv[3]), int(sys.argv[4])
arch, latent, binarize = sys.argv[5], int(sys.argv[6]), sys.argv[7]

def summary(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    rows = [r for r in rows if "epoch" in r]
    if len(rows) != epochs:
        sys.exit(f"{path}: {len(rows)} epoch records, expected {epochs}")
    return rows[-1]["test_elbo"], sum(r["samples_per_s"] for r in rows) / len(rows)

lib_elbo, lib_rate = summary(lib_path)
tor_elbo, tor_rate = summary(torch_path)
print(f"arch {arch}, latent {latent}, binarize {binarize}, {epochs} epochs, {threads} threads")
# ELBOs are negative, so they are compared by difference (> 0: libvae better).
print(f"{'':24}{'libvae':>12}{'torch':>12}  compare")
print(f"{'final test_elbo (nats)':24}{lib_elbo:12.3f}{tor_elbo:12.3f}{lib_elbo - tor_elbo:+14.3f} (lib-torch)")
print(f"{'mean samples/s':24}{lib_rate:12.0f}{tor_rate:12.0f}{lib_rate / tor_rate:14.3f} (lib/torch)")
print(json.dumps({"arch": arch, "latent": latent, "binarize": binarize,
                  "epochs": epochs, "threads": threads,
                  "libvae_test_elbo": lib_elbo, "torch_test_elbo": tor_elbo,
                  "elbo_diff": lib_elbo - tor_elbo,
                  "libvae_samples_per_s": lib_rate, "torch_samples_per_s": tor_rate,
                  "speed_ratio": lib_rate / tor_rate}, separators=(",", ":")))
EOF
