#!/usr/bin/env bash
# test_cli.sh VAE_IMAGE - the vae-image command line end to end on a tiny
# synthetic IDX data set: a short training run, eval, both pictures, and the
# one-line errors of bad invocations.
set -uo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

# IDX file: magic, counts, then bytes from a fixed pattern (so the images
# differ from each other and from run to run of nothing).
be32() { # big-endian 32-bit integer
  local v=$1
  printf "\\x%02x\\x%02x\\x%02x\\x%02x" $((v >> 24 & 255)) $((v >> 16 & 255)) \
    $((v >> 8 & 255)) $((v & 255)) | xargs -0 printf
}
write_idx() { # path kind(3|1) count
  local path=$1 kind=$2 count=$3
  {
    be32 $((0x800 + kind))
    be32 "$count"
    if [[ $kind == 3 ]]; then
      be32 28
      be32 28
      LC_ALL=C awk -v n=$((count * 784)) 'BEGIN {
        s = 7; for (i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648;
        printf "%c", (int(s / 65536) % 4 == 0) ? 255 : 0 } }'
    else
      LC_ALL=C awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++) printf "%c", i % 10 }'
    fi
  } > "$path"
}

data=$tmp/data
mkdir -p "$data"
write_idx "$data/train-images-idx3-ubyte" 3 96
write_idx "$data/train-labels-idx1-ubyte" 1 96
write_idx "$data/t10k-images-idx3-ubyte" 3 40
write_idx "$data/t10k-labels-idx1-ubyte" 1 40

# expect_error NAME CMD...: non-zero exit and exactly one stderr line that
# starts with "vae-image: ".
expect_error() {
  local name=$1
  shift
  local err
  if "$@" 2> "$tmp/err" > /dev/null; then
    bad "$name (exit 0)"
    return
  fi
  err=$(cat "$tmp/err")
  if [[ $(wc -l < "$tmp/err") -eq 1 && $err == "vae-image: "* ]]; then
    ok "$name"
  else
    bad "$name (stderr: $err)"
  fi
}

m=$tmp/model.vae
metrics=$tmp/metrics.jsonl
if "$bin" train --data "$data" --arch mlp --epochs 2 --batch 32 --lr 1e-3 --seed 3 \
    --out "$m" --metrics "$metrics" --progress 0 2> "$tmp/train.err"; then
  ok "train runs"
else
  bad "train runs: $(cat "$tmp/train.err")"
fi
if [[ $(grep -c '"epoch":' "$metrics" 2>/dev/null) == 2 ]] &&
   grep -q '"epoch":2,"train_elbo":-[0-9.]*,"test_elbo":-[0-9.]*,"recon":-[0-9.]*,"kl":[0-9.]*,"seconds":[0-9.]*,"samples_per_s":[0-9.]*}' "$metrics"; then
  ok "train metrics: one JSON line per epoch with every key"
else
  bad "train metrics: $(cat "$metrics" 2>/dev/null)"
fi

if "$bin" eval --data "$data" --model "$m" --metrics "$metrics" > /dev/null 2>&1 &&
   tail -n 1 "$metrics" | grep -q '^{"test_elbo":-[0-9.]*'; then
  ok "eval appends test_elbo"
else
  bad "eval appends test_elbo"
fi

is_png() { [[ -s $1 && $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }
"$bin" sample --model "$m" --n 16 --out "$tmp/s.png" > /dev/null 2>&1
is_png "$tmp/s.png" && ok "sample writes a PNG" || bad "sample writes a PNG"
"$bin" reconstruct --data "$data" --model "$m" --out "$tmp/r.png" > /dev/null 2>&1
is_png "$tmp/r.png" && ok "reconstruct writes a PNG" || bad "reconstruct writes a PNG"

if "$bin" > /dev/null 2>&1; then bad "no arguments fails"; else ok "no arguments fails"; fi
"$bin" --help > /dev/null 2>&1 && ok "--help exits 0" || bad "--help exits 0"
expect_error "unknown command" "$bin" frobnicate
expect_error "missing --data" "$bin" train --out "$m"
expect_error "non-numeric --epochs" "$bin" train --data "$data" --out "$m" --epochs ten
expect_error "zero --batch" "$bin" train --data "$data" --out "$m" --batch 0
expect_error "unknown --arch" "$bin" train --data "$data" --out "$m" --arch nope
expect_error "unknown flag" "$bin" sample --model "$m" --out "$tmp/x.png" --bogus 1
expect_error "flag without value" "$bin" sample --model "$m" --out
expect_error "missing data dir" "$bin" eval --data "$tmp/none" --model "$m"
printf 'not a model' > "$tmp/junk.vae"
expect_error "garbage model file" "$bin" sample --model "$tmp/junk.vae" --out "$tmp/x.png"
head -c 100 "$m" > "$tmp/short.vae"
expect_error "truncated model file" "$bin" eval --data "$data" --model "$tmp/short.vae"
expect_error "unwritable output" "$bin" sample --model "$m" --out "$tmp/no/such/dir/x.png"

echo "vae-image cli: $passed passed, $failed failed"
((failed == 0))
