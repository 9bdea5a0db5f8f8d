#!/usr/bin/env bash
# reproduce-mnist.sh [mnist|fashion] - the image recipe of docs/results.md:
# Burda et al.'s one-stochastic-layer MLP (--arch mlp2) on dynamically
# binarised MNIST (or Fashion-MNIST): the ELBO with Adam 1e-3, then 3e-4,
# then a few epochs on the importance-weighted bound of 20 samples
# (--train-samples 20), and the IWAE k=5000 log-likelihood of the whole
# 10,000-image test set. Sized to finish in under 30 minutes on 2 cores.
# VAE_REPRO_EPOCHS1 / VAE_REPRO_EPOCHS2 / VAE_REPRO_EPOCHS end the three
# training stages (for a quick check: 2, 3 and 4), VAE_REPRO_SAMPLES is the
# last stage's k, VAE_REPRO_IWAE_K and VAE_REPRO_LIMIT the evaluation.
set -euo pipefail
cd "$(dirname "$0")/.."

dataset=${1:-mnist}
case $dataset in
  mnist) fetch=scripts/fetch-mnist.sh ;;
  fashion) fetch=scripts/fetch-fashion-mnist.sh ;;
  *) echo "usage: $0 [mnist|fashion]" >&2; exit 2 ;;
esac
epochs1=${VAE_REPRO_EPOCHS1:-240}
epochs2=${VAE_REPRO_EPOCHS2:-300}
epochs=${VAE_REPRO_EPOCHS:-307}
samples=${VAE_REPRO_SAMPLES:-20}
iwae_k=${VAE_REPRO_IWAE_K:-5000}
limit=${VAE_REPRO_LIMIT:-10000}

start=$(date +%s)
bash scripts/install-deps.sh demo
data=$(bash "$fetch" | tail -n 1)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVAE_BUILD_TESTS=OFF > /dev/null
cmake --build build -j2 > /dev/null
bin=build/examples/image/vae-image
out=reproduce-$dataset
mkdir -p "$out"
rm -f "$out/metrics.jsonl"
common=(--data "$data" --arch mlp2 --binarize dynamic --batch 100 --seed 1
        --metrics "$out/metrics.jsonl" --progress 30)

echo "== train epochs 1-$epochs1 at lr 1e-3" >&2
"$bin" train "${common[@]}" --epochs "$epochs1" --lr 1e-3 --out "$out/model.vae"
echo "== train epochs $((epochs1 + 1))-$epochs2 at lr 3e-4" >&2
"$bin" train "${common[@]}" --epochs "$epochs2" --lr 3e-4 --resume "$out/model.vae"
echo "== train epochs $((epochs2 + 1))-$epochs at lr 3e-4 on the $samples-sample bound" >&2
"$bin" train "${common[@]}" --epochs "$epochs" --lr 3e-4 --train-samples "$samples" \
    --resume "$out/model.vae"
echo "== IWAE k=$iwae_k on $limit test images" >&2
"$bin" eval --data "$data" --model "$out/model.vae" --binarize dynamic \
    --iwae "$iwae_k" --limit "$limit" --metrics "$out/metrics.jsonl" --progress 60
"$bin" sample --model "$out/model.vae" --n 64 --out "$out/samples.png"
"$bin" reconstruct --data "$data" --model "$out/model.vae" --out "$out/reconstructions.png"
if command -v gnuplot > /dev/null; then
  bash scripts/plot-metrics.sh "$out/metrics.jsonl" "$out/curves.png"
fi
echo "reproduce-mnist: $dataset done in $(( $(date +%s) - start )) s; results in $out/:" >&2
tail -n 1 "$out/metrics.jsonl"
