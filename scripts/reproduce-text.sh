#!/usr/bin/env bash
# reproduce-text.sh - the Brown experiment of docs/results.md: the sentence
# VAE (vae-text train, --arch bowman) and the LSTM language model
# (vae-text lm) trained side by side for the same wall-clock time with one
# BLAS thread each, then the test NLL of both (the VAE's also as an IWAE
# bound), 10 greedy and 10 sampled sentences, a reconstruction and an
# interpolation. Results go to reproduce-text/. VAE_REPRO_TEXT_MINUTES
# (default 40) sets the training time of each model, VAE_REPRO_TEXT_IWAE
# (default 20) the number of importance samples.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${VAE_REPRO_TEXT_MINUTES:-40}
iwae_k=${VAE_REPRO_TEXT_IWAE:-20}
start=$(date +%s)
bash scripts/install-deps.sh demo
brown=$(bash scripts/fetch-brown.sh | tail -n 1)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVAE_BUILD_TESTS=OFF > /dev/null
cmake --build build -j2 --target vae-text > /dev/null
bin=build/examples/text/vae-text
out=reproduce-text
mkdir -p "$out"
rm -f "$out"/*.jsonl
data=(--corpus brown --data "$brown")

echo "== training the VAE and the LM side by side, $minutes minutes each" >&2
"$bin" train "${data[@]}" --out "$out/vae.vae" --metrics "$out/vae.jsonl" \
  --minutes "$minutes" --threads 1 --progress 60 2> "$out/vae.log" &
vae_pid=$!
"$bin" lm "${data[@]}" --out "$out/lm.vae" --metrics "$out/lm.jsonl" \
  --minutes "$minutes" --threads 1 --progress 60 2> "$out/lm.log" &
lm_pid=$!
wait "$vae_pid"
wait "$lm_pid"

echo "== test NLL (the LM's is written by lm itself)" >&2
"$bin" eval --model "$out/vae.vae" "${data[@]}" --metrics "$out/vae-eval.jsonl"
"$bin" eval --model "$out/vae.vae" "${data[@]}" --iwae "$iwae_k" \
  --metrics "$out/vae-eval.jsonl"
{
  echo "# 10 greedy sentences from z ~ N(0, I)"
  "$bin" sample --model "$out/vae.vae" --n 10 --decode greedy --seed 1
  echo "# 10 sampled sentences (temperature 1)"
  "$bin" sample --model "$out/vae.vae" --n 10 --decode sample --seed 1
  echo "# beam search, width 5"
  "$bin" sample --model "$out/vae.vae" --n 10 --decode beam --beam 5 --seed 1
  echo "# reconstruction"
  "$bin" reconstruct --model "$out/vae.vae" --decode beam \
    --sentence "the jury said it did not find any evidence ."
  echo "# interpolation"
  "$bin" interpolate --model "$out/vae.vae" --steps 5 \
    --sentence "he said he would go home ." \
    --to "the city council approved the new budget on friday ."
} > "$out/sentences.txt"
echo "reproduce-text: done in $(( $(date +%s) - start )) s; in $out/:" >&2
echo "LM:  $(tail -n 1 "$out/lm.jsonl")"
echo "VAE: $(tail -n 1 "$out/vae-eval.jsonl")"
