#!/usr/bin/env bash
# test_plot_latent.sh VAE_IMAGE - vae-image plot-latent on a tiny synthetic
# IDX set: a PNG from a 2-D and from a larger latent, by t-SNE (the same
# picture for the same seed) and by PCA, --limit, and the one-line errors
# (a 1-D latent, a bad --limit or --projection, t-SNE's cap, no gnuplot).
set -uo pipefail
bin=$1
# shellcheck source=../common/test_lib.sh
source "$(dirname "$0")/../common/test_lib.sh"
skip_without_gnuplot

# shellcheck source=idx_fixture.sh
source "$(dirname "$0")/idx_fixture.sh"
write_idx_dir "$tmp/data" 64 30

train() { # OUT LATENT
  "$bin" train --data "$tmp/data" --epochs 1 --batch 32 --latent "$2" \
    --progress 0 --out "$1" > /dev/null 2>&1
}
train "$tmp/m4.vae" 4 && train "$tmp/m2.vae" 2 && train "$tmp/m1.vae" 1 ||
  bad "training the fixtures"

# 30 points leave room for a perplexity of 29 / 3 only.
if "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" \
     --out "$tmp/p4.png" > "$tmp/out" 2> "$tmp/err" && is_png "$tmp/p4.png" &&
   grep -Eq '^wrote .*p4.png: 30 test images; t-SNE of their posterior means \(perplexity 9.67, seed 1\) took [0-9.]+ s$' "$tmp/out"; then
  ok "4-D latent: a PNG by t-SNE, the default"
else
  bad "4-D latent by t-SNE: $(cat "$tmp/out" "$tmp/err")"
fi
"$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --seed 1 \
  --projection tsne --out "$tmp/again.png" > /dev/null 2>&1 &&
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --seed 2 \
    --out "$tmp/other.png" > /dev/null 2>&1 &&
  cmp -s "$tmp/p4.png" "$tmp/again.png" && ! cmp -s "$tmp/p4.png" "$tmp/other.png" &&
  ok "t-SNE: the same picture for the same seed, another for another" ||
  bad "t-SNE's seed"
if "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --projection pca \
     --out "$tmp/pca.png" > "$tmp/out" 2> "$tmp/err" && is_png "$tmp/pca.png" &&
   grep -Eq '^wrote .*pca.png: 30 test images; the axes explain [0-9.]+% and [0-9.]+% of the variance' "$tmp/out"; then
  ok "4-D latent: a PNG by PCA and the two axes' shares"
else
  bad "4-D latent by PCA: $(cat "$tmp/out" "$tmp/err")"
fi
if "$bin" plot-latent --data "$tmp/data" --model "$tmp/m2.vae" --limit 12 \
     --out "$tmp/p2.png" > "$tmp/out" 2>&1 && is_png "$tmp/p2.png" &&
   grep -q ': 12 test images' "$tmp/out"; then
  ok "2-D latent with --limit 12"
else
  bad "2-D latent with --limit: $(cat "$tmp/out")"
fi

expect_error vae-image "1-D latent" "2 or more dimensions" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m1.vae" --out "$tmp/p1.png"
[[ ! -e $tmp/p1.png ]] && ok "no PNG after a refusal" || bad "no PNG after a refusal"
expect_error vae-image "--limit 0" "--limit" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/x.png" --limit 0
expect_error vae-image "--limit above the test set" "--limit: expected a decimal integer in \\[1, 30\\]" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/x.png" --limit 31
expect_error vae-image "an unknown --projection" "--projection: expected pca or tsne, got 'umap'" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/x.png" --projection umap
# t-SNE's cap, on 10,001 test images of 4 x 4 pixels; refused before any
# is encoded.
write_idx_dir "$tmp/big" 64 10001 4
"$bin" train --data "$tmp/big" --epochs 1 --batch 32 --latent 3 --progress 0 \
  --out "$tmp/big.vae" > /dev/null 2>&1 || bad "training the 4x4 fixture"
expect_error vae-image "t-SNE above 10,000 points" "t-SNE maps at most 10000 test images.*--projection pca takes all 10001" \
  "$bin" plot-latent --data "$tmp/big" --model "$tmp/big.vae" --out "$tmp/x.png" --projection tsne --limit 10001
expect_error vae-image "missing --out" "missing required option --out" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae"
expect_error vae-image "no gnuplot on PATH" "apt-get install gnuplot-nox" \
  env PATH=/nonexistent "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/x.png"
[[ ! -e $tmp/x.png ]] && ok "no PNG without gnuplot" || bad "no PNG without gnuplot"
expect_error vae-image "unwritable --out" "gnuplot failed" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/no/such/dir.png"

finish
