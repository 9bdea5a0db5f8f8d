#!/usr/bin/env bash
# The libvae demo: trains the PyTorch-example VAE (784-400-20, Bernoulli) on
# MNIST and writes a model, samples and reconstructions into ./vae-demo/;
# then trains a sentence VAE on the Brown corpus for a few minutes and
# writes sentences it generates.
#   bash scripts/demo.sh
# Environment: VAE_DEMO_EPOCHS (default 10) and VAE_DEMO_TEXT_MINUTES
# (default 3; 0 skips the text part) for a quicker run, VAE_DATA for where
# the data are cached (default ~/.cache/libvae).
set -euo pipefail

cd "$(dirname "$0")/.."
epochs=${VAE_DEMO_EPOCHS:-10}
text_minutes=${VAE_DEMO_TEXT_MINUTES:-3}
out=vae-demo

bash scripts/install-deps.sh demo

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVAE_BUILD_TESTS=OFF \
  -DVAE_BUILD_EXAMPLES=ON
cmake --build build -j2 --target vae-image vae-text vae-explore
bin=build/examples/image/vae-image
text_bin=build/examples/text/vae-text

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
"$bin" plot-latent --data "$data" --model "$out/model.vae" \
  --out "$out/latent.png"

if [[ "$text_minutes" != 0 ]]; then
  brown=$(bash scripts/fetch-brown.sh | tail -n1)
  rm -f "$out/text-metrics.jsonl"
  echo "demo: training a sentence VAE on Brown for $text_minutes minutes"
  # vae-text's defaults: subword vocabulary, the levers against posterior
  # collapse and the decoding that docs/results.md chose.
  "$text_bin" train --corpus brown --data "$brown" --minutes "$text_minutes" \
    --out "$out/text.vae" --metrics "$out/text-metrics.jsonl"
  {
    echo "# 10 sentences from z ~ N(0, I), the default decoding (top-p 0.9, no repeated trigram)"
    "$text_bin" sample --model "$out/text.vae" --n 10
    echo "# 10 greedy sentences from z ~ N(0, I) (no repeated trigram)"
    "$text_bin" sample --model "$out/text.vae" --n 10 --decode greedy
  } > "$out/sentences.txt"
fi

cat <<MSG

demo: done. In $PWD/$out:
  model.vae            trained model (load it with vae_model_load)
  metrics.jsonl        one JSON line per epoch; last one:
                       $(tail -n1 "$out/metrics.jsonl")
  samples.png          64 digits decoded from z ~ N(0, I)
  reconstructions.png  rows of test digits, each above its reconstruction
  latent.png           the test digits' latent space, one colour per digit
MSG
if [[ "$text_minutes" != 0 ]]; then
  cat <<MSG
  text.vae             sentence VAE trained on Brown for $text_minutes minutes
  text-metrics.jsonl   its validation NLL, perplexity, KL and active units
  sentences.txt        10 sampled and 10 greedy sentences (a few minutes of
                       training gives short, frequent-word sentences; see
                       docs/results.md for longer runs)
MSG
fi
echo "Data are cached in ${VAE_DATA:-$HOME/.cache/libvae}"
echo "Explore the model in a browser (docs/explore.md):"
echo "  build/examples/explore/vae-explore --model $out/model.vae --data $data"

