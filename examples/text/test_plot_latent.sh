#!/usr/bin/env bash
# test_plot_latent.sh VAE_TEXT - vae-text plot-latent on a tiny corpus of
# sentences of many lengths: a PNG by t-SNE and by PCA, --limit, and the
# one-line errors (a language model, a 1-D latent, a bad --limit).
set -uo pipefail
bin=$1
# shellcheck source=../common/test_lib.sh
source "$(dirname "$0")/../common/test_lib.sh"
skip_without_gnuplot

# 200 sentences of 1 to 24 words (so several length classes) from a fixed
# generator; 10 of them form the test split. A word vocabulary: the
# subword model needs at least 300 ids.
LC_ALL=C awk 'BEGIN {
  split("the a cat dog sees likes big small red runs", w, " "); r = 11;
  for (i = 0; i < 200; i++) {
    n = 1 + (i * 7) % 24; line = "";
    for (j = 0; j < n; j++) { r = (r * 69069 + 1) % 4294967296; line = line w[int(r / 65536) % 10 + 1] " " }
    print line "."
  } }' > "$tmp/corpus.txt"
data=(--corpus lines --data "$tmp/corpus.txt")
tiny=(--tokenizer words --embed 8 --hidden 8 --vocab 30 --maxlen 28 --batch 16 --epochs 1 --progress 0)

"$bin" train "${data[@]}" "${tiny[@]}" --latent 3 --out "$tmp/m3.vae" 2> /dev/null &&
  "$bin" train "${data[@]}" "${tiny[@]}" --latent 1 --out "$tmp/m1.vae" 2> /dev/null &&
  "$bin" lm "${data[@]}" "${tiny[@]}" --out "$tmp/lm.vae" > /dev/null 2>&1 ||
  bad "training the fixtures"

if "$bin" plot-latent --model "$tmp/m3.vae" "${data[@]}" --out "$tmp/p.png" \
     > "$tmp/out" 2> "$tmp/err" && is_png "$tmp/p.png" &&
   grep -Eq '^wrote .*p.png: 10 test sentences; t-SNE of their posterior means \(perplexity 3, seed 1\) took [0-9.]+ s$' "$tmp/out"; then
  ok "a PNG of the 10 test sentences by t-SNE, the default"
else
  bad "a PNG by t-SNE: $(cat "$tmp/out" "$tmp/err")"
fi
"$bin" plot-latent --model "$tmp/m3.vae" "${data[@]}" --limit 4 --projection pca \
  --out "$tmp/p4.png" > "$tmp/out" 2>&1 && is_png "$tmp/p4.png" &&
  grep -Eq ': 4 test sentences; the axes explain [0-9.]+% and [0-9.]+% of the variance' "$tmp/out" &&
  ok "--limit 4 by PCA" || bad "--limit 4 by PCA: $(cat "$tmp/out")"

expect_error vae-text "a language model" "language model" \
  "$bin" plot-latent --model "$tmp/lm.vae" "${data[@]}" --out "$tmp/x.png"
expect_error vae-text "1-D latent" "2 or more dimensions" \
  "$bin" plot-latent --model "$tmp/m1.vae" "${data[@]}" --out "$tmp/x.png"
expect_error vae-text "--limit above the test split" "--limit: expected a decimal integer in \\[1, 10\\]" \
  "$bin" plot-latent --model "$tmp/m3.vae" "${data[@]}" --out "$tmp/x.png" --limit 11
expect_error vae-text "missing --corpus" "missing required option --corpus" \
  "$bin" plot-latent --model "$tmp/m3.vae" --data "$tmp/corpus.txt" --out "$tmp/x.png"
[[ ! -e $tmp/x.png ]] && ok "no PNG after the refusals" || bad "no PNG after the refusals"

finish
