#!/usr/bin/env bash
# test_conv.sh VAE_CONV - the one-file convolutional VAE on small synthetic
# IDX files (examples/image/idx_fixture.sh): it learns (the ELBO of the
# last epoch is above the first's), writes a PGM of 16 samples that parses
# and is not blank, follows the images' size, and refuses sides it cannot
# take with one line.
set -uo pipefail
bin=$1
# shellcheck source=../common/test_lib.sh
source "$(dirname "$0")/../common/test_lib.sh"

# shellcheck source=../image/idx_fixture.sh
source "$(dirname "$0")/../image/idx_fixture.sh"
write_idx "$tmp/images" 3 256
write_idx "$tmp/small" 3 32 12
write_idx "$tmp/odd" 3 8 10

# check_pgm NAME FILE WIDTH HEIGHT: a binary PGM of that size, with the
# header and exactly WIDTH x HEIGHT bytes, holding more than 10 grey levels.
check_pgm() {
  local header size levels
  header=$(head -n 3 "$2" 2> /dev/null | tr '\n' ' ')
  size=$(stat -c %s "$2" 2> /dev/null || echo 0)
  levels=$(tail -c $(($3 * $4)) "$2" 2> /dev/null | od -An -v -tu1 | tr -s ' ' '\n' |
           sort -u | grep -c .)
  if [[ $header == "P5 $3 $4 255 " ]] &&
     ((size == ${#header} + $3 * $4 && levels > 10)); then
    ok "$1: a ${3}x$4 PGM, $levels grey levels"
  else
    bad "$1: header '$header', $size bytes, $levels levels"
  fi
}

if "$bin" "$tmp/images" 3 "$tmp/s.pgm" > "$tmp/out" 2> "$tmp/err"; then
  ok "trains 3 epochs on 256 28x28 images"
else
  bad "train: $(cat "$tmp/err")"
fi
if awk '/^epoch [0-9]+  ELBO -?[0-9.]+ nats per image$/ { e[++n] = $4 }
        END { exit !(n == 3 && e[3] > e[1]) }' "$tmp/out"; then
  ok "the ELBO rises: $(grep -o 'ELBO [-0-9.]*' "$tmp/out" | tr '\n' ' ')"
else
  bad "ELBO lines: $(cat "$tmp/out")"
fi
check_pgm "16 samples of 28x28" "$tmp/s.pgm" 28 448

if "$bin" "$tmp/small" 1 "$tmp/small.pgm" > /dev/null 2> "$tmp/err"; then
  check_pgm "12x12 images" "$tmp/small.pgm" 12 192
else
  bad "12x12 images: $(cat "$tmp/err")"
fi

expect_error "$tmp/odd" "10x10 images refused" "divisible by 4" \
  "$bin" "$tmp/odd" 1 "$tmp/odd.pgm"
expect_error "$bin" "no arguments: the usage" "usage:" "$bin"

finish
