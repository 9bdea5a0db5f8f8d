#!/usr/bin/env bash
# test_cli.sh VAE_EXPLORE VAE_IMAGE - what vae-explore refuses before it
# serves anything: a conditional model (vae-image train --conditional),
# whose every decode needs a label the page cannot give.
set -uo pipefail
explore=$1 image=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

# shellcheck source=../image/idx_fixture.sh
source "$(dirname "$0")/../image/idx_fixture.sh"
prog=vae-explore
# shellcheck source=../common/test_cli_lib.sh
source "$(dirname "$0")/../common/test_cli_lib.sh"

write_idx_dir "$tmp/data" 40 20
if "$image" train --data "$tmp/data" --conditional --epochs 1 --batch 20 \
     --out "$tmp/c.vae" --progress 0 2> "$tmp/train.err"; then
  ok "vae-image train --conditional (the fixture)"
else
  bad "vae-image train --conditional: $(cat "$tmp/train.err")"
fi
expect_quick_error "a conditional model is refused, with the reason" \
  "c.vae is a conditional model (trained with --conditional), which vae-explore does not serve" \
  "$explore" --model "$tmp/c.vae" --data "$tmp/data" --port 0

echo "vae-explore cli: $passed passed, $failed failed"
((failed == 0))
