#!/usr/bin/env bash
# test_sentence.sh VAE_SENTENCE - the one-file sentence VAE on a few dozen
# sentences of a small grammar: it learns (the ELBO of the last epoch is
# well above the first's) and generates five sentences of 1 to 15 words,
# every one a word of the training file.
set -uo pipefail
bin=$1
# shellcheck source=../common/test_lib.sh
source "$(dirname "$0")/../common/test_lib.sh"

# 36 sentences, and an empty line the program skips.
for s in "the cat" "a dog" "the old man" "a bird"; do
  for v in "sat on" "ran to" "looked at"; do
    for o in "the mat" "a house" "the green tree"; do
      echo "$s $v $o ."
    done
  done
done > "$tmp/lines.txt"
echo >> "$tmp/lines.txt"

if "$bin" "$tmp/lines.txt" 30 > "$tmp/out" 2> "$tmp/err"; then
  ok "trains 30 epochs"
else
  bad "train: $(cat "$tmp/err")"
fi
if awk '/^epoch [0-9]+  ELBO -?[0-9.]+ nats per sentence$/ { e[++n] = $4 }
        END { exit !(n == 30 && e[30] > e[1] + 5) }' "$tmp/out"; then
  ok "the ELBO rises by more than 5 nats: $(grep -o 'ELBO [-0-9.]*' "$tmp/out" |
     sed -n '1p;$p' | tr '\n' ' ')"
else
  bad "ELBO lines: $(cat "$tmp/out")"
fi

tr ' ' '\n' < "$tmp/lines.txt" | sort -u > "$tmp/vocab"
if [[ $(grep -c '^sample:' "$tmp/out") == 5 ]] &&
   ! grep '^sample:' "$tmp/out" | awk 'NF < 2 || NF > 16' | grep -q . &&
   ! grep '^sample:' "$tmp/out" | cut -d' ' -f2- | tr ' ' '\n' |
     grep -vxFf "$tmp/vocab" | grep -q .; then
  ok "5 sentences of training words: $(grep '^sample:' "$tmp/out" | head -n 2 | cut -d' ' -f2- | paste -sd'/')"
else
  bad "samples: $(grep '^sample:' "$tmp/out")"
fi

expect_error "$bin" "a missing file: the usage" "usage:" \
  "$bin" "$tmp/none.txt" 1
printf '\n  \n' > "$tmp/blank.txt"
expect_error "$bin" "a file without words" "no sentences" \
  "$bin" "$tmp/blank.txt" 1

finish
