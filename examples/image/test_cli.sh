#!/usr/bin/env bash
# test_cli.sh VAE_IMAGE - the vae-image command line end to end on a tiny
# synthetic IDX data set: short training runs (mlp and conv, binarised or
# not, resumed, conditional), eval with the IWAE bound, every picture, and
# the one-line errors of bad invocations.
set -uo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

# shellcheck source=idx_fixture.sh
source "$(dirname "$0")/idx_fixture.sh"
prog=vae-image
# shellcheck source=../common/test_cli_lib.sh
source "$(dirname "$0")/../common/test_cli_lib.sh"

data=$tmp/data
write_idx_dir "$data" 96 40

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
expect_error "zero --train-samples" "$bin" train --data "$data" --out "$m" --train-samples 0
expect_error "unknown flag" "$bin" sample --model "$m" --out "$tmp/x.png" --bogus 1
expect_error "flag without value" "$bin" sample --model "$m" --out
expect_error "missing data dir" "$bin" eval --data "$tmp/none" --model "$m"
printf 'not a model' > "$tmp/junk.vae"
expect_error "garbage model file" "$bin" sample --model "$tmp/junk.vae" --out "$tmp/x.png"
head -c 100 "$m" > "$tmp/short.vae"
expect_error "truncated model file" "$bin" eval --data "$data" --model "$tmp/short.vae"
expect_error "unwritable output" "$bin" sample --model "$m" --out "$tmp/no/such/dir/x.png"

# ---- issue 4: conv, binarisation, IWAE, resume, pictures, threads ----

# png_size FILE: "WIDTHxHEIGHT" from the IHDR chunk (bytes 16..23).
png_size() {
  local b
  read -r -a b < <(od -An -tu1 -j16 -N8 "$1")
  echo "$(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]))x$(((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]))"
}
# One tile is 28 pixels plus the 2-pixel border; the grid has one more border.
grid_size() { echo "$(($1 * 30 + 2))x$(($2 * 30 + 2))"; }

cm=$tmp/conv.vae
if "$bin" train --data "$data" --arch conv --epochs 1 --batch 32 --seed 2 \
    --binarize dynamic --threads 1 --out "$cm" --metrics "$tmp/conv.jsonl" \
    --progress 0 2> "$tmp/conv.err" &&
   grep -q '"epoch":1,"train_elbo":-[0-9.]*,"test_elbo":-[0-9.]*' "$tmp/conv.jsonl"; then
  ok "train --arch conv --binarize dynamic --threads 1"
else
  bad "train --arch conv: $(cat "$tmp/conv.err")"
fi
if "$bin" train --data "$data" --arch mlp2 --epochs 1 --batch 32 --seed 2 \
    --out "$tmp/mlp2.vae" --metrics "$tmp/mlp2.jsonl" --progress 0 2> "$tmp/mlp2.err" &&
   grep -q '"epoch":1,"train_elbo":-[0-9.]*,"test_elbo":-[0-9.]*' "$tmp/mlp2.jsonl"; then
  ok "train --arch mlp2"
else
  bad "train --arch mlp2: $(cat "$tmp/mlp2.err")"
fi
if "$bin" train --data "$data" --arch mlp2 --epochs 1 --batch 32 --seed 2 \
    --train-samples 4 --out "$tmp/mlp2k.vae" --metrics "$tmp/mlp2k.jsonl" \
    --progress 0 2> "$tmp/mlp2k.err" &&
   grep -q '"epoch":1,"train_elbo":-[0-9.]*,"test_elbo":-[0-9.]*' "$tmp/mlp2k.jsonl" &&
   ! cmp -s "$tmp/mlp2.vae" "$tmp/mlp2k.vae"; then
  ok "train --train-samples 4 (a different objective, so different weights)"
else
  bad "train --train-samples 4: $(cat "$tmp/mlp2k.err")"
fi
# The write-up's conv + LSTM model: trains, evaluates, samples 28x28.
sm=$tmp/seed.vae
if "$bin" train --data "$data" --arch seed --epochs 1 --batch 32 --seed 2 \
    --out "$sm" --metrics "$tmp/seed.jsonl" --progress 0 2> "$tmp/seed.err" &&
   grep -q '"epoch":1,"train_elbo":-[0-9.]*,"test_elbo":-[0-9.]*' "$tmp/seed.jsonl" &&
   "$bin" sample --model "$sm" --n 4 --out "$tmp/ss.png" > /dev/null 2>&1 &&
   [[ $(png_size "$tmp/ss.png") == "$(grid_size 4 1)" ]]; then
  ok "train and sample --arch seed"
else
  bad "--arch seed: $(cat "$tmp/seed.err")"
fi
"$bin" sample --model "$cm" --n 8 --out "$tmp/cs.png" > /dev/null 2>&1
[[ $(png_size "$tmp/cs.png" 2>/dev/null) == "$(grid_size 8 1)" ]] &&
  ok "conv model samples 28x28 images (shape from the model)" ||
  bad "conv sample PNG size: $(png_size "$tmp/cs.png" 2>/dev/null)"

# The test set is binarised once with a fixed seed, so dynamic and static
# evaluate the same images, and those differ from the grey ones.
ev() { "$bin" eval --data "$data" --model "$m" --seed 4 "$@" 2>&1 | head -n 1; }
e_none=$(ev) e_dyn=$(ev --binarize dynamic) e_stat=$(ev --binarize static)
[[ $e_dyn == test_elbo* && $e_dyn == "$e_stat" ]] &&
  ok "eval: dynamic and static see one binarised test set" ||
  bad "eval binarised: '$e_dyn' vs '$e_stat'"
[[ $e_none == test_elbo* && $e_none != "$e_dyn" ]] &&
  ok "eval: binarised test set differs from grey levels" ||
  bad "eval none vs dynamic: '$e_none' vs '$e_dyn'"

iw=$tmp/iwae.jsonl
if "$bin" eval --data "$data" --model "$m" --binarize dynamic --iwae 10 --limit 8 \
     --metrics "$iw" --threads 1 > /dev/null 2>&1 &&
   grep -Eq '^\{"test_elbo":-[0-9.]+,.*"test_nll":[0-9.]+,"iwae_k":10,"n":8\}$' "$iw"; then
  ok "eval --iwae 10 --limit 8 appends test_elbo, test_nll, iwae_k, n"
else
  bad "eval --iwae: $(cat "$iw" 2>/dev/null)"
fi
# Three threads share 4 blocks of 10 images (IWAE_PASSES_PER_CALL / k):
# the estimate must not depend on the thread count.
nll_threads() {
  "$bin" eval --data "$data" --model "$m" --binarize dynamic --iwae 2000 \
    --limit 40 --seed 3 --threads "$1" --progress 0 2>&1 | grep '^test_nll' |
    cut -d' ' -f1,2
}
n1=$(nll_threads 1) n3=$(nll_threads 3)
[[ $n1 == test_nll* && $n1 == "$n3" ]] &&
  ok "eval --iwae: the same estimate with 1 and 3 threads ($n1)" ||
  bad "eval --iwae threads: '$n1' vs '$n3'"

# Resume: 2 epochs straight must equal 1 epoch + resume to 2, byte for byte.
# Dynamic binarisation makes the model's generator part of what must carry.
# Without --out the resumed file is continued in place.
run() { "$bin" train --data "$data" --batch 32 --progress 0 "$@" 2> /dev/null; }
run --seed 6 --binarize dynamic --epochs 2 --out "$tmp/r2.vae"
run --seed 6 --binarize dynamic --epochs 1 --out "$tmp/r1.vae"
cp "$tmp/r1.vae" "$tmp/r12.vae"
run --seed 6 --binarize dynamic --epochs 2 --resume "$tmp/r12.vae" --metrics "$tmp/r.jsonl"
if [[ -s $tmp/r2.vae ]] && cmp -s "$tmp/r2.vae" "$tmp/r12.vae"; then
  ok "train 1 epoch + --resume to 2 = 2 epochs straight (cmp)"
else
  bad "resume is not bit-identical"
fi
grep -q '^{"epoch":2,' "$tmp/r.jsonl" 2>/dev/null && [[ $(wc -l < "$tmp/r.jsonl") == 1 ]] &&
  ok "resume trains only the remaining epoch, numbered 2" ||
  bad "resume metrics: $(cat "$tmp/r.jsonl" 2>/dev/null)"
# The check above must be able to fail: another data order gives other bytes.
run --seed 7 --binarize dynamic --epochs 2 --resume "$tmp/r1.vae" --out "$tmp/r17.vae"
[[ -s $tmp/r17.vae ]] && ! cmp -s "$tmp/r2.vae" "$tmp/r17.vae" &&
  ok "resume with another --seed differs (the cmp is sensitive)" ||
  bad "resume with another --seed"
# The schedules are functions of the epoch number, so resuming continues
# them: epoch 1 of a 3-epoch schedule is the whole of a 1-epoch one.
sched=(--seed 6 --lr 1e-3 --lr-end 1e-4 --warmup 2)
run "${sched[@]}" --epochs 3 --out "$tmp/s3.vae"
run "${sched[@]}" --epochs 1 --out "$tmp/s13.vae"
run "${sched[@]}" --epochs 3 --resume "$tmp/s13.vae"
run --seed 6 --lr 1e-3 --warmup 2 --epochs 3 --out "$tmp/s3c.vae"
if [[ -s $tmp/s3.vae ]] && cmp -s "$tmp/s3.vae" "$tmp/s13.vae" &&
   [[ -s $tmp/s3c.vae ]] && ! cmp -s "$tmp/s3.vae" "$tmp/s3c.vae"; then
  ok "--lr-end/--warmup schedules resume bit-identically (and --lr-end matters)"
else
  bad "scheduled resume"
fi
# Static binarisation draws the training set once, not per use.
run --seed 6 --binarize static --epochs 1 --out "$tmp/st.vae"
[[ -s $tmp/st.vae && -s $tmp/r1.vae ]] && ! cmp -s "$tmp/st.vae" "$tmp/r1.vae" &&
  ok "train --binarize static differs from dynamic" ||
  bad "train --binarize static vs dynamic"

"$bin" interpolate --data "$data" --model "$m" --out "$tmp/i.png" --pairs 3 \
  --steps 4 > /dev/null 2>&1
[[ $(png_size "$tmp/i.png" 2>/dev/null) == "$(grid_size 6 3)" ]] &&
  ok "interpolate: 3 rows of image, 4 steps, image" ||
  bad "interpolate PNG size: $(png_size "$tmp/i.png" 2>/dev/null)"

m2=$tmp/latent2.vae
"$bin" train --data "$data" --latent 2 --epochs 1 --batch 96 --out "$m2" \
  --progress 0 2> /dev/null
"$bin" manifold --model "$m2" --out "$tmp/mf.png" --grid 5 > /dev/null 2>&1
[[ $(png_size "$tmp/mf.png" 2>/dev/null) == "$(grid_size 5 5)" ]] &&
  ok "manifold --grid 5 on a 2-D latent model" ||
  bad "manifold PNG size: $(png_size "$tmp/mf.png" 2>/dev/null)"

expect_error "manifold on a 20-D latent model" "$bin" manifold --model "$m" --out "$tmp/x.png"
expect_error "unknown --binarize" "$bin" train --data "$data" --out "$tmp/x.vae" --binarize half
expect_error "eval unknown --binarize" "$bin" eval --data "$data" --model "$m" --binarize yes
expect_error "zero --threads" "$bin" sample --model "$m" --out "$tmp/x.png" --threads 0
expect_error "non-numeric --threads" "$bin" eval --data "$data" --model "$m" --threads all
expect_error "zero --iwae" "$bin" eval --data "$data" --model "$m" --iwae 0
expect_error "zero --limit" "$bin" eval --data "$data" --model "$m" --limit 0
expect_error "--limit beyond the test set" "$bin" eval --data "$data" --model "$m" --limit 41
expect_error "zero --pairs" "$bin" interpolate --data "$data" --model "$m" --out "$tmp/x.png" --pairs 0
expect_error "--pairs beyond the test set" "$bin" interpolate --data "$data" --model "$m" --out "$tmp/x.png" --pairs 21
expect_error "one --steps" "$bin" interpolate --data "$data" --model "$m" --out "$tmp/x.png" --steps 1
expect_error "one --grid" "$bin" manifold --model "$m2" --out "$tmp/x.png" --grid 1
expect_error "--lr-end without --lr" "$bin" train --data "$data" --out "$tmp/x.vae" --lr-end 1e-4
expect_error "--warmup -1" "$bin" train --data "$data" --out "$tmp/x.vae" --warmup -1
expect_error "train without --out or --resume" "$bin" train --data "$data"
expect_error "--resume of a missing file" "$bin" train --data "$data" --resume "$tmp/none.vae"
expect_error "--resume with another --arch" "$bin" train --data "$data" --resume "$m" --arch conv --epochs 5 --out "$tmp/x.vae"
grep -q "is an --arch mlp --latent 20 model" "$tmp/err" &&
  ok "--resume mismatch names the flags the model was trained with" ||
  bad "--resume mismatch message: $(cat "$tmp/err")"
expect_error "--resume with another --latent" "$bin" train --data "$data" --resume "$m" --latent 8 --epochs 5 --out "$tmp/x.vae"
expect_error "--resume with another --batch" "$bin" train --data "$data" --resume "$tmp/r1.vae" --batch 64 --epochs 5 --out "$tmp/x.vae"
expect_error "--resume with nothing left to do" "$bin" train --data "$data" --resume "$tmp/r2.vae" --batch 32 --epochs 2 --out "$tmp/x.vae"

# ---- issue 21: conditional models (--conditional, --label, --grid) ----

c=$tmp/cond.vae
if "$bin" train --data "$data" --conditional --epochs 2 --batch 32 --seed 3 \
     --out "$c" --metrics "$tmp/cond.jsonl" --progress 0 2> "$tmp/cond.err" &&
   [[ $(grep -c '"epoch":' "$tmp/cond.jsonl") == 2 ]]; then
  ok "train --conditional (labels 0..9 of the fixture)"
else
  bad "train --conditional: $(cat "$tmp/cond.err")"
fi
"$bin" sample --model "$c" --label 7 --n 12 --out "$tmp/c7.png" > "$tmp/out" 2>&1
[[ $(png_size "$tmp/c7.png" 2>/dev/null) == "$(grid_size 8 2)" ]] &&
  grep -q "12 samples of label 7" "$tmp/out" &&
  ok "sample --label 7 --n 12: 12 tiles, 8 a row" ||
  bad "sample --label: $(cat "$tmp/out")"
"$bin" sample --model "$c" --grid 5 --out "$tmp/cg.png" > "$tmp/out" 2>&1
[[ $(png_size "$tmp/cg.png" 2>/dev/null) == "$(grid_size 5 10)" ]] &&
  ok "sample --grid 5: 10 rows (one per class) of 5" ||
  bad "sample --grid: $(cat "$tmp/out")"
# IDX output: 16 header bytes and 784 a sample; the labels file says which
# class each sample was drawn for, class-major for --grid.
"$bin" sample --model "$c" --label 3 --n 1 --out "$tmp/c3-images-idx3-ubyte" > /dev/null 2>&1
"$bin" sample --model "$c" --grid 2 --out "$tmp/cg-images-idx3-ubyte" > /dev/null 2>&1
if [[ $(stat -c %s "$tmp/cg-images-idx3-ubyte" 2>/dev/null) == $((16 + 20 * 784)) &&
      $(od -An -tu1 -j8 "$tmp/cg-labels-idx1-ubyte" | tr -s ' \n' ' ') == " 0 0 1 1 2 2 3 3 4 4 5 5 6 6 7 7 8 8 9 9 " &&
      $(od -An -tu1 -j8 "$tmp/c3-labels-idx1-ubyte" | tr -d ' \n') == 3 ]]; then
  ok "sample --out X-images-idx3-ubyte writes IDX images and their labels"
else
  bad "sample to IDX: $(ls -l "$tmp"/c*-ubyte 2>&1)"
fi
# Samples as a test split: the IDX files load like MNIST's.
sd=$tmp/sampled
mkdir -p "$sd"
cp "$data"/train-* "$sd/"
cp "$tmp/cg-images-idx3-ubyte" "$sd/t10k-images-idx3-ubyte"
cp "$tmp/cg-labels-idx1-ubyte" "$sd/t10k-labels-idx1-ubyte"
"$bin" eval --data "$sd" --model "$c" > "$tmp/out" 2>&1 &&
  grep -q "(20 test images)" "$tmp/out" &&
  ok "... which vae-image eval reads back as a data set" ||
  bad "eval on sampled IDX: $(cat "$tmp/out")"
if "$bin" eval --data "$data" --model "$c" --iwae 10 --limit 8 --threads 3 \
     --metrics "$tmp/cond.jsonl" > /dev/null 2>&1 &&
   "$bin" reconstruct --data "$data" --model "$c" --n 8 --out "$tmp/cr.png" > /dev/null 2>&1 &&
   "$bin" interpolate --data "$data" --model "$c" --pairs 2 --steps 3 --out "$tmp/ci.png" > /dev/null 2>&1 &&
   grep -q '"test_nll":[0-9.]*,"iwae_k":10,"n":8}' "$tmp/cond.jsonl" &&
   [[ $(png_size "$tmp/cr.png") == "$(grid_size 8 2)" && $(png_size "$tmp/ci.png") == "$(grid_size 5 2)" ]]; then
  ok "eval --iwae, reconstruct, interpolate give a conditional model the test labels"
else
  bad "conditional eval/reconstruct/interpolate"
fi
# The label must matter to the IWAE bound: a model that ignored it would
# score the same under every labelling.
nll_of() { "$bin" eval --data "$1" --model "$c" --iwae 50 --seed 2 --threads 1 2>&1 | grep '^test_nll' | cut -d' ' -f2; }
wrong=$tmp/wrong
mkdir -p "$wrong"
cp "$data"/* "$wrong/"
{ be32 $((0x801)); be32 40
  LC_ALL=C awk 'BEGIN { for (i = 0; i < 40; i++) printf "%c", (i + 1) % 10 }'; } \
  > "$wrong/t10k-labels-idx1-ubyte"
n_right=$(nll_of "$data") n_wrong=$(nll_of "$wrong")
[[ -n $n_right && -n $n_wrong && $n_right != "$n_wrong" ]] &&
  ok "eval of a conditional model depends on the labels ($n_right vs $n_wrong)" ||
  bad "eval with other labels: '$n_right' vs '$n_wrong'"
for arch in conv mlp2; do
  if "$bin" train --data "$data" --arch "$arch" --conditional --epochs 1 --batch 48 \
       --threads 1 --out "$tmp/c$arch.vae" --progress 0 2> "$tmp/c$arch.err" &&
     "$bin" sample --model "$tmp/c$arch.vae" --grid 1 --out "$tmp/c$arch.png" > /dev/null 2>&1 &&
     [[ $(png_size "$tmp/c$arch.png") == "$(grid_size 1 10)" ]]; then
    ok "train --arch $arch --conditional, sample --grid 1"
  else
    bad "--arch $arch --conditional: $(cat "$tmp/c$arch.err")"
  fi
done
c2=$tmp/cond2d.vae
"$bin" train --data "$data" --conditional --latent 2 --epochs 1 --batch 96 \
  --out "$c2" --progress 0 2> /dev/null
"$bin" manifold --model "$c2" --label 4 --grid 3 --out "$tmp/cm.png" > /dev/null 2>&1
[[ $(png_size "$tmp/cm.png" 2>/dev/null) == "$(grid_size 3 3)" ]] &&
  ok "manifold --label 4 of a conditional 2-D model" || bad "conditional manifold"
# Save and load: 1 epoch + --resume to 2 = 2 epochs straight, byte for byte.
crun() { "$bin" train --data "$data" --conditional --batch 32 --seed 8 --binarize dynamic \
  --progress 0 "$@" 2> /dev/null; }
crun --epochs 2 --out "$tmp/c2.vae"
crun --epochs 1 --out "$tmp/c12.vae"
crun --epochs 2 --resume "$tmp/c12.vae"
[[ -s $tmp/c2.vae ]] && cmp -s "$tmp/c2.vae" "$tmp/c12.vae" &&
  ok "conditional: 1 epoch + --resume to 2 = 2 epochs straight (cmp)" ||
  bad "conditional resume is not bit-identical"

expect_quick_error "sample --label beyond the classes" "--label: expected a decimal integer in [0, 9], got '10'" \
  "$bin" sample --model "$c" --label 10 --out "$tmp/x.png"
expect_quick_error "sample --label -1" "--label: expected a decimal integer in [0, 9]" \
  "$bin" sample --model "$c" --label -1 --out "$tmp/x.png"
expect_quick_error "a conditional model's sample without a label" \
  "cond.vae is a conditional model of 10 classes: give --label L (0..9) or --grid N" \
  "$bin" sample --model "$c" --out "$tmp/x.png"
expect_quick_error "a conditional model's manifold without a label" \
  "is a conditional model of 10 classes: give --label L (0..9)" \
  "$bin" manifold --model "$c2" --out "$tmp/x.png"
expect_quick_error "--grid with --label" "--grid N draws N of every class: give it without --n and --label" \
  "$bin" sample --model "$c" --grid 2 --label 1 --out "$tmp/x.png"
expect_quick_error "--grid 0" "--grid: expected a decimal integer in [1, 1024]" \
  "$bin" sample --model "$c" --grid 0 --out "$tmp/x.png"
expect_quick_error "an unconditional model given --label" \
  "--label: $m is not a conditional model (it was trained without --conditional)" \
  "$bin" sample --model "$m" --label 3 --out "$tmp/x.png"
expect_quick_error "an unconditional model given --grid" \
  "--grid: $m is not a conditional model" "$bin" sample --model "$m" --grid 3 --out "$tmp/x.png"
expect_quick_error "an unconditional manifold given --label" \
  "--label: $m2 is not a conditional model" "$bin" manifold --model "$m2" --label 1 --out "$tmp/x.png"
expect_quick_error "--conditional given twice" "train: --conditional given twice" \
  "$bin" train --data "$data" --conditional --conditional --out "$tmp/x.vae"
expect_quick_error "a value after the switch --conditional" \
  "train: --conditional takes no value (given: 'yes')" \
  "$bin" train --data "$data" --conditional yes --out "$tmp/x.vae"
expect_quick_error "--resume of a conditional model without --conditional" \
  "the model is conditional (10 classes); resume it with --conditional" \
  "$bin" train --data "$data" --resume "$c" --epochs 5 --out "$tmp/x.vae"
expect_quick_error "--resume --conditional of an unconditional model" \
  "the model is not conditional; resume it without --conditional" \
  "$bin" train --data "$data" --conditional --resume "$m" --epochs 5 --out "$tmp/x.vae"
nolab=$tmp/nolabels
mkdir -p "$nolab"
cp "$data"/*images* "$data/train-labels-idx1-ubyte" "$nolab/"
expect_quick_error "train --conditional without the test labels file" \
  "cannot find t10k-labels-idx1-ubyte (or .gz) in '$nolab'" \
  "$bin" train --data "$nolab" --conditional --out "$tmp/x.vae"
expect_quick_error "eval of a conditional model without the labels file" \
  "cannot find t10k-labels-idx1-ubyte" "$bin" eval --data "$nolab" --model "$c"
# A test label the model has no class for (the training labels are 0..9).
big=$tmp/biglabel
mkdir -p "$big"
cp "$data"/* "$big/"
printf '\014' | dd of="$big/t10k-labels-idx1-ubyte" bs=1 seek=12 conv=notrunc 2> /dev/null
expect_quick_error "train --conditional with a test label beyond the training classes" \
  "$big: test label 12 (image 5) is not one of the model's 10 classes 0..9" \
  "$bin" train --data "$big" --conditional --out "$tmp/x.vae"
expect_quick_error "reconstruct with a test label beyond the model's classes" \
  "test label 12 (image 5) is not one of the model's 10 classes" \
  "$bin" reconstruct --data "$big" --model "$c" --out "$tmp/x.png"
"$bin" eval --data "$big" --model "$m" > /dev/null 2>&1 &&
  ok "... while an unconditional model ignores the labels" ||
  bad "unconditional eval with label 12"

# ---- inputs that are not regular files: refused at once, never a hang ----

fifo=$tmp/fifo
mkfifo "$fifo"
fd=$tmp/fifodata
cp -r "$data" "$fd"
rm "$fd/train-images-idx3-ubyte" "$fd/t10k-labels-idx1-ubyte"
mkfifo "$fd/train-images-idx3-ubyte"
ln -s /dev/zero "$fd/t10k-labels-idx1-ubyte"
expect_quick_error "train --data FIFO" "$fifo/train-images-idx3-ubyte: Not a directory" \
  "$bin" train --data "$fifo" --out "$tmp/x.vae"
expect_quick_error "train --data with a FIFO for the images" \
  "train-images-idx3-ubyte: not a regular file (a FIFO)" "$bin" train --data "$fd" --out "$tmp/x.vae"
expect_quick_error "eval --data with /dev/zero for the labels" \
  "t10k-labels-idx1-ubyte: not a regular file (a character device)" \
  "$bin" eval --data "$fd" --model "$m"
expect_quick_error "sample --model FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" sample --model "$fifo" --out "$tmp/x.png"
expect_quick_error "eval --model FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" eval --data "$data" --model "$fifo"
expect_quick_error "train --resume FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" train --data "$data" --resume "$fifo"
expect_quick_error "reconstruct --model /dev/zero" "not a regular file (a character device)" \
  "$bin" reconstruct --data "$data" --model /dev/zero --out "$tmp/x.png"

# ---- a failed PNG write leaves the old PNG as it was ----

png=$tmp/keep.png
"$bin" sample --model "$m" --n 64 --out "$png" > /dev/null 2>&1
cp "$png" "$tmp/keep.orig"
if [[ $(stat -c %s "$png") -gt 8192 ]] &&
   ! fsize_limited 4 "$bin" sample --model "$m" --n 64 --seed 9 --out "$png" \
       > /dev/null 2> "$tmp/err" &&
   [[ $(cat "$tmp/err") == "vae-image: $png: cannot write: File too large" ]] &&
   cmp -s "$png" "$tmp/keep.orig" && no_temp_files "$png"; then
  ok "sample into a 4 KiB file-size limit: the reason, the old PNG intact, no temp file"
else
  bad "sample under a file-size limit: $(cat "$tmp/err"); $(ls "$tmp")"
fi
fsize_limited 4 "$bin" reconstruct --data "$data" --model "$m" --n 32 --out "$png" \
  > /dev/null 2> "$tmp/err"
grep -q 'cannot write: File too large' "$tmp/err" && cmp -s "$png" "$tmp/keep.orig" &&
  no_temp_files "$png" && ok "reconstruct under the limit: the old PNG intact" ||
  bad "reconstruct under a file-size limit: $(cat "$tmp/err")"
"$bin" sample --model "$m" --n 4 --seed 9 --out "$png" > /dev/null 2>&1
is_png "$png" && ! cmp -s "$png" "$tmp/keep.orig" && no_temp_files "$png" &&
  ok "sample replaces an existing PNG" || bad "sample over an existing PNG"
expect_quick_error "sample --out FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" sample --model "$m" --out "$fifo"
expect_quick_error "train --out FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" train --data "$data" --out "$fifo"
[[ -p $fifo ]] && ok "... and the FIFO is still a FIFO" || bad "train --out replaced the FIFO"
expect_quick_error "manifold --out a directory" "$tmp: not a regular file (a directory)" \
  "$bin" manifold --model "$m2" --out "$tmp"

# ---- a metrics line that cannot be appended whole is not appended at all ----

mj=$tmp/limit.jsonl
padded_metrics "$mj"
cp "$mj" "$tmp/limit.orig"
fsize_limited 1 "$bin" eval --data "$data" --model "$m" --metrics "$mj" \
  > /dev/null 2> "$tmp/err"
[[ $(cat "$tmp/err") == "vae-image: $mj: cannot append: File too large" ]] &&
  cmp -s "$mj" "$tmp/limit.orig" &&
  ok "eval --metrics past a 1 KiB file-size limit: the reason, no partial line" ||
  bad "eval --metrics under a file-size limit: $(cat "$tmp/err"); $(tail -c 80 "$mj")"
"$bin" eval --data "$data" --model "$m" --metrics "$mj" > /dev/null 2>&1
[[ $(head -c 988 "$mj") == "$(cat "$tmp/limit.orig")" ]] &&
  tail -n 1 "$mj" | grep -q '^{"test_elbo":-[0-9.]*,.*}$' &&
  ok "... and the next eval appends its line after the old ones" ||
  bad "eval after the failed append: $(tail -n 2 "$mj")"
expect_quick_error "eval --metrics FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" eval --data "$data" --model "$m" --metrics "$fifo"
expect_quick_error "train --metrics a directory" "$tmp: not a regular file (a directory)" \
  "$bin" train --data "$data" --out "$tmp/x.vae" --metrics "$tmp"

# ---- numbers are plain decimal: no spaces, signs +, hex, inf or nan ----

tr=("$bin" train --data "$data" --out "$tmp/x.vae" --epochs 1)
expect_bad_numbers --batch " 5" "5 " "+5" "0x10" "5.0" "1e2" "5x" -- "${tr[@]}"
expect_bad_numbers --lr "0x1p-3" " 1e-3" "1e-3 " "inf" "nan" "-inf" "1e-3x" "1e" "." \
  "+0.001" "1e-999" "1e999" -- "${tr[@]}"
expect_bad_numbers --seed " 1" "-1" "0x10" "1.0" "18446744073709551616" -- "${tr[@]}"
expect_bad_numbers --threads " 2" "2.0" -- "$bin" sample --model "$m" --out "$tmp/x.png"
expect_bad_numbers --progress "0x1" "NaN" -- "$bin" eval --data "$data" --model "$m"
"$bin" sample --model "$m" --n 007 --seed 00 --threads 01 --out "$tmp/n.png" \
  > /dev/null 2>&1 && is_png "$tmp/n.png" &&
  ok "leading zeros are plain decimal (--n 007 --seed 00 --threads 01)" ||
  bad "--n 007 refused"
"$bin" eval --data "$data" --model "$m" --progress .5 --limit 4 > /dev/null 2>&1 &&
  "$bin" eval --data "$data" --model "$m" --progress 2E-1 --limit 4 > /dev/null 2>&1 &&
  ok "--progress .5 and 2E-1 are plain decimal numbers" || bad "--progress .5 or 2E-1 refused"

# ---- a loss that explodes is reported once; a normal run says nothing ----

"$bin" train --data "$data" --epochs 3 --batch 32 --lr 10 --out "$tmp/x.vae" \
  --progress 0 2> "$tmp/lr.err"
warned_once "train --lr 10: one warning, after epoch 1, to try a smaller --lr" "$tmp/lr.err"
normal=("$tmp"/{train,conv,mlp2,mlp2k,seed}.err)
! grep -q warning "${normal[@]}" && [[ -s $tmp/train.err && -s $tmp/seed.err ]] &&
  ok "the normal runs (mlp, conv, mlp2, seed; --lr 1e-3): no warning" ||
  bad "a normal run warned: $(grep warning "${normal[@]}")"
# A step whose update would overflow is an error that says why.
expect_error "train --arch conv --lr 10 stops at a non-finite update" \
  "$bin" train --data "$data" --arch conv --epochs 1 --batch 32 --lr 10 --threads 1 \
  --out "$tmp/x.vae" --progress 0
grep -q 'epoch 1, batch 2: .*overflow.*; the training diverged: try a smaller --lr$' "$tmp/err" &&
  ok "... with a hint to try a smaller --lr" || bad "non-finite step message: $(cat "$tmp/err")"

echo "vae-image cli: $passed passed, $failed failed"
((failed == 0))
