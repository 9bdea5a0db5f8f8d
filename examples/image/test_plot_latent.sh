#!/usr/bin/env bash
# test_plot_latent.sh VAE_IMAGE - vae-image plot-latent on a tiny synthetic
# IDX set: a PNG from a 2-D and from a larger latent, --limit, and the
# one-line errors (a 1-D latent, a bad --limit, no gnuplot on PATH).
set -uo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
is_png() { [[ -s $1 && $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }

if ! command -v gnuplot > /dev/null; then
  echo "SKIP: gnuplot is not installed (apt-get install gnuplot-nox)"
  exit 77
fi

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

# expect_error NAME PATTERN CMD...: exit 1, one stderr line matching.
expect_error() {
  local name=$1 pattern=$2
  shift 2
  "$@" > /dev/null 2> "$tmp/err"
  local status=$?
  if [[ $status == 1 && $(wc -l < "$tmp/err") == 1 ]] &&
     grep -Eq "^vae-image: .*$pattern" "$tmp/err"; then
    ok "$name"
  else
    bad "$name (exit $status: $(cat "$tmp/err"))"
  fi
}
expect_error "1-D latent" "2 or more dimensions" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m1.vae" --out "$tmp/p1.png"
[[ ! -e $tmp/p1.png ]] && ok "no PNG after a refusal" || bad "no PNG after a refusal"
expect_error "--limit 0" "--limit" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/x.png" --limit 0
expect_error "--limit above the test set" "exceeds the 30 test images" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/x.png" --limit 31
expect_error "missing --out" "missing required option --out" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae"
expect_error "no gnuplot on PATH" "apt-get install gnuplot-nox" \
  env PATH=/nonexistent "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/x.png"
[[ ! -e $tmp/x.png ]] && ok "no PNG without gnuplot" || bad "no PNG without gnuplot"
expect_error "unwritable --out" "gnuplot failed" \
  "$bin" plot-latent --data "$tmp/data" --model "$tmp/m4.vae" --out "$tmp/no/such/dir.png"

echo "$passed passed, $failed failed"
((failed == 0))
