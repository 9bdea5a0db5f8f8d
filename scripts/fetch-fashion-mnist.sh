#!/usr/bin/env bash
# Makes Fashion-MNIST available and checks it.
#   fetch-fashion-mnist.sh [ROOT]
# The files come from Debian's package dataset-fashion-mnist, which installs
# the four gzipped IDX files under /usr/share/datasets/fashion-mnist/; the
# script installs the package when it is missing (apt-get, as root or through
# sudo). With ROOT the files are copied to ROOT/fashion-mnist/, else they are
# used where the package put them. The directory is the last line printed on
# stdout (progress goes to stderr), so callers can write
#   dir=$(scripts/fetch-fashion-mnist.sh | tail -n1)
# and pass it to vae-image --data, which reads the .gz files directly.
set -euo pipefail

package=dataset-fashion-mnist
src=/usr/share/datasets/fashion-mnist

# name size sha256 of the decompressed IDX data: Debian recompresses the
# upstream archives (the .gz bytes differ from Zalando's), so the pins are on
# the content, which is the same everywhere.
expected=(
  "train-images-idx3-ubyte 47040016 c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
  "train-labels-idx1-ubyte 60008 bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
  "t10k-images-idx3-ubyte 7840016 5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
  "t10k-labels-idx1-ubyte 10008 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
)

# Prints one line per problem; succeeds only if every file is as expected.
check_dir() {
  local dir=$1 entry name size sum got ok=0
  for entry in "${expected[@]}"; do
    read -r name size sum <<<"$entry"
    if [[ ! -f "$dir/$name.gz" ]]; then
      echo "fetch-fashion-mnist: $dir/$name.gz: missing" >&2; ok=1; continue
    fi
    if ! got=$(gzip -dc "$dir/$name.gz" | wc -c); then
      echo "fetch-fashion-mnist: $dir/$name.gz: not a valid gzip file" >&2
      ok=1; continue
    fi
    if [[ "$got" != "$size" ]]; then
      echo "fetch-fashion-mnist: $dir/$name.gz: holds $got bytes, not $size" >&2
      ok=1; continue
    fi
    if [[ "$(gzip -dc "$dir/$name.gz" | sha256sum | cut -d' ' -f1)" != "$sum" ]]; then
      echo "fetch-fashion-mnist: $dir/$name.gz: sha256 of the content differs" >&2
      ok=1
    fi
  done
  return "$ok"
}

status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
if [[ "$status" != "install ok installed" ]]; then
  if ((EUID == 0)); then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "fetch-fashion-mnist: $package is not installed; as root run:" \
         "apt-get install $package" >&2
    exit 1
  fi
  echo "fetch-fashion-mnist: installing $package (about 30 MB)" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -q >&2
  "${as_root[@]}" apt-get install -y -q --no-install-recommends "$package" >&2
fi

if ! check_dir "$src"; then
  echo "fetch-fashion-mnist: $src does not hold the expected files" \
       "(reinstall with: apt-get install --reinstall $package)" >&2
  exit 1
fi

if (($# == 0)); then
  echo "fetch-fashion-mnist: Fashion-MNIST ready in $src" >&2
  echo "$src"
  exit 0
fi

dest=$1/fashion-mnist
if [[ -d "$dest" ]] && check_dir "$dest" 2>/dev/null; then
  echo "fetch-fashion-mnist: cached in $dest" >&2
  echo "$dest"
  exit 0
fi
[[ -d "$dest" ]] && echo "fetch-fashion-mnist: $dest is incomplete or damaged; copying again" >&2
mkdir -p "$1"
# Copy beside the destination and rename, so an interrupted copy never
# leaves a half-filled fashion-mnist/.
work=$(mktemp -d "$1/.fetch-fashion-mnist.XXXXXX")
trap 'rm -rf "$work"' EXIT
for entry in "${expected[@]}"; do
  read -r name _ <<<"$entry"
  cp "$src/$name.gz" "$work/"
done
check_dir "$work"
chmod 755 "$work" # mktemp -d makes it private
rm -rf "$dest"
mv "$work" "$dest"
trap - EXIT
echo "fetch-fashion-mnist: Fashion-MNIST ready in $dest" >&2
echo "$dest"
