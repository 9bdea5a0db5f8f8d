#!/usr/bin/env bash
# test_plot_latent.sh VAE_TEXT - vae-text plot-latent on a tiny corpus of
# sentences of many lengths: a PNG, --limit, and the one-line errors (a
# language model, a 1-D latent, a bad --limit).
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

# 200 sentences of 1 to 24 words (so several length classes) from a fixed
# generator; 10 of them form the test split.
LC_ALL=C awk 'BEGIN {
  split("the a cat dog sees likes big small red runs", w, " "); r = 11;
  for (i = 0; i < 200; i++) {
    n = 1 + (i * 7) % 24; line = "";
    for (j = 0; j < n; j++) { r = (r * 69069 + 1) % 4294967296; line = line w[int(r / 65536) % 10 + 1] " " }
    print line "."
  } }' > "$tmp/corpus.txt"
data=(--corpus lines --data "$tmp/corpus.txt")
tiny=(--embed 8 --hidden 8 --vocab 30 --maxlen 28 --batch 16 --epochs 1 --progress 0)

"$bin" train "${data[@]}" "${tiny[@]}" --latent 3 --out "$tmp/m3.vae" 2> /dev/null &&
  "$bin" train "${data[@]}" "${tiny[@]}" --latent 1 --out "$tmp/m1.vae" 2> /dev/null &&
  "$bin" lm "${data[@]}" "${tiny[@]}" --out "$tmp/lm.vae" > /dev/null 2>&1 ||
  bad "training the fixtures"

if "$bin" plot-latent --model "$tmp/m3.vae" "${data[@]}" --out "$tmp/p.png" \
     > "$tmp/out" 2> "$tmp/err" && is_png "$tmp/p.png" &&
   grep -Eq '^wrote .*p.png: 10 test sentences; the axes explain [0-9.]+% and [0-9.]+% of the variance' "$tmp/out"; then
  ok "a PNG of the 10 test sentences"
else
  bad "a PNG: $(cat "$tmp/out" "$tmp/err")"
fi
"$bin" plot-latent --model "$tmp/m3.vae" "${data[@]}" --limit 4 \
  --out "$tmp/p4.png" > "$tmp/out" 2>&1 && is_png "$tmp/p4.png" &&
  grep -q ': 4 test sentences' "$tmp/out" && ok "--limit 4" ||
  bad "--limit 4: $(cat "$tmp/out")"

# expect_error NAME PATTERN CMD...: exit 1, one stderr line matching.
expect_error() {
  local name=$1 pattern=$2
  shift 2
  "$@" > /dev/null 2> "$tmp/err"
  local status=$?
  if [[ $status == 1 && $(wc -l < "$tmp/err") == 1 ]] &&
     grep -Eq "^vae-text: .*$pattern" "$tmp/err"; then
    ok "$name"
  else
    bad "$name (exit $status: $(cat "$tmp/err"))"
  fi
}
expect_error "a language model" "language model" \
  "$bin" plot-latent --model "$tmp/lm.vae" "${data[@]}" --out "$tmp/x.png"
expect_error "1-D latent" "2 or more dimensions" \
  "$bin" plot-latent --model "$tmp/m1.vae" "${data[@]}" --out "$tmp/x.png"
expect_error "--limit above the test split" "exceeds the 10 test sentences" \
  "$bin" plot-latent --model "$tmp/m3.vae" "${data[@]}" --out "$tmp/x.png" --limit 11
expect_error "missing --corpus" "missing required option --corpus" \
  "$bin" plot-latent --model "$tmp/m3.vae" --data "$tmp/corpus.txt" --out "$tmp/x.png"
[[ ! -e $tmp/x.png ]] && ok "no PNG after the refusals" || bad "no PNG after the refusals"

echo "$passed passed, $failed failed"
((failed == 0))
