#!/usr/bin/env bash
# test_plot_latent.sh VAE_IMAGE - vae-image plot-latent on a tiny synthetic
# IDX set: a PNG from a 2-D and from a larger latent, --limit, and the
# one-line errors (a 1-D latent, a bad --limit, no gnuplot on PATH).
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

if "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" \
     --out "$tmp/p4.png" > "$tmp/out" 2> "$tmp/err" && is_png "$tmp/p4.png" &&
   grep -Eq '^wrote .*p4.png: 30 test images; the axes explain [0-9.]+% and [0-9.]+% of the variance' "$tmp/out"; then
  ok "4-D latent: a PNG and the two axes' shares"
else
  bad "4-D latent: $(cat "$tmp/out" "$tmp/err")"
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
expect_error vae-image "--limit above the test set" "--limit: expected an integer in \\[1, 30\\]" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/x.png" --limit 31
expect_error vae-image "missing --out" "missing required option --out" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae"
expect_error vae-image "no gnuplot on PATH" "apt-get install gnuplot-nox" \
  env PATH=/nonexistent "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/x.png"
[[ ! -e $tmp/x.png ]] && ok "no PNG without gnuplot" || bad "no PNG without gnuplot"
expect_error vae-image "unwritable --out" "gnuplot failed" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/no/such/dir.png"

finish
