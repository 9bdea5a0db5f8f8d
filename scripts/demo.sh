#!/usr/bin/env bash
# The libvae demo: trains the PyTorch-example VAE (784-400-20, Bernoulli) on
# MNIST and writes a model, samples and reconstructions into ./vae-demo/.
#   bash scripts/demo.sh
# Environment: VAE_DEMO_EPOCHS (default 10) for a quicker run, VAE_DATA for
# where MNIST is cached (default ~/.cache/libvae).
set -euo pipefail

cd "$(dirname "$0")/.."
epochs=${VAE_DEMO_EPOCHS:-10}
out=vae-demo

bash scripts/install-deps.sh demo

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVAE_BUILD_TESTS=OFF \
  -DVAE_BUILD_EXAMPLES=ON
cmake --build build -j2 --target vae-image
bin=build/examples/image/vae-image

data=$(bash scripts/fetch-mnist.sh | tail -n1)

mkdir -p "$out"
# train appends one line per epoch; a fresh demo starts a fresh log.
rm -f "$out/metrics.jsonl"
echo "demo: training for $epochs epochs (progress below)"
"$bin" train --data "$data" --arch mlp --epochs "$epochs" --batch 128 \
  --lr 1e-3 --seed 1 --out "$out/model.vae" --metrics "$out/metrics.jsonl"
"$bin" sample --model "$out/model.vae" --n 64 --out "$out/samples.png"
"$bin" reconstruct --data "$data" --model "$out/model.vae" \
  --out "$out/reconstructions.png"

cat <<MSG

demo: done. In $PWD/$out:
  model.vae            trained model (load it with vae_model_load)
  metrics.jsonl        one JSON line per epoch; last one:
                       $(tail -n1 "$out/metrics.jsonl")
  samples.png          64 digits decoded from z ~ N(0, I)
  reconstructions.png  rows of test digits, each above its reconstruction
MNIST is cached in $data
MSG
