#!/usr/bin/env bash
# test_cli.sh VAE_TEXT [VAE_HELLO [TEST_TEXTMODEL]] - the vae-text command
# line end to end on a tiny generated corpus: short training runs (bowman,
# seed, the language model; word and subword vocabularies; the levers
# against posterior collapse), eval with and without the IWAE bound, every
# decoding mode, sample-stats, reconstruct and interpolate, --minutes,
# reproducibility, and the one-line errors of bad invocations. VAE_HELLO
# (examples/hello) supplies a libvae model that is not a vae-text model,
# TEST_TEXTMODEL (test_textmodel --bad-models) models whose vae-text
# metadata is wrong.
set -uo pipefail
bin=$1
hello=${2:-}
textmodel=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
prog=vae-text
# shellcheck source=../common/test_cli_lib.sh
source "$(dirname "$0")/../common/test_cli_lib.sh"

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # NAME CMD...: passes when CMD succeeds
  local name=$1
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}

# 400 sentences from a fixed LCG: subject verb object [adverb] .
LC_ALL=C awk 'BEGIN {
  split("the cat|a dog|my friend|the old man|she|he|the teacher|a bird", s, "|");
  split("sees|likes|eats|finds|wants|paints|reads", v, "|");
  split("the ball|a book|an apple|the house|a letter|the river|music", o, "|");
  split("today|slowly|again|at night|in the park", a, "|");
  r = 7;
  for (i = 0; i < 400; i++) {
    r = (r * 1103515245 + 12345) % 2147483648; x = int(r / 65536);
    line = s[x % 8 + 1] " " v[int(x / 8) % 7 + 1] " " o[int(x / 56) % 7 + 1];
    if (x % 3) line = line " " a[int(x / 392) % 5 + 1];
    print line " ."
  } }' > "$tmp/corpus.txt"
printf 'one sentence .\ntwo sentences .\n' > "$tmp/short.txt"
data=(--corpus lines --data "$tmp/corpus.txt")
tiny=(--tokenizer words --embed 8 --hidden 8 --latent 4 --vocab 50 --maxlen 8 --batch 16 --progress 0)

# expect_error NAME CMD...: non-zero exit and exactly one stderr line that
# starts with "vae-text: ".
expect_error() {
  local name=$1
  shift
  local err
  if "$@" 2> "$tmp/err" > /dev/null; then
    bad "$name (exit 0)"
    return
  fi
  err=$(cat "$tmp/err")
  if [[ $(wc -l < "$tmp/err") -eq 1 && $err == "vae-text: "* ]]; then
    ok "$name"
  else
    bad "$name (stderr: $err)"
  fi
}

num='-?[0-9]+\.[0-9]+'
int='[0-9]+'

# ---- train ----

bm=$tmp/bowman.vae
if "$bin" train "${data[@]}" "${tiny[@]}" --epochs 2 --seed 3 --out "$bm" \
     --metrics "$tmp/bowman.jsonl" 2> "$tmp/train.err"; then
  ok "train --arch bowman runs"
else
  bad "train --arch bowman: $(cat "$tmp/train.err")"
fi
epoch_re="^\{\"epoch\":$int,\"train_elbo\":-[0-9.]+,\"train_kl\":$num,\"valid_nll\":$num,\"valid_ppl\":$num,\"kl\":$num,\"active_units\":$int,\"seconds\":$num,\"tokens_per_s\":$num\}$"
[[ $(grep -Ec "$epoch_re" "$tmp/bowman.jsonl" 2> /dev/null) == 2 &&
   $(wc -l < "$tmp/bowman.jsonl") == 2 ]] &&
  ok "train metrics: one JSON line per epoch with every key" ||
  bad "train metrics: $(cat "$tmp/bowman.jsonl" 2> /dev/null)"
grep -Eq 'corpus.txt: 360 train, 20 valid, 20 test sentences; word vocabulary of [0-9]+ ids' "$tmp/train.err" &&
  ok "train reports the 90/5/5 split of 400 sentences" ||
  bad "train split line: $(head -n 1 "$tmp/train.err")"

sm=$tmp/seed.vae
"$bin" train "${data[@]}" "${tiny[@]}" --arch seed --epochs 2 --out "$sm" \
  --metrics "$tmp/seed.jsonl" 2> "$tmp/seed.err"
[[ $(grep -Ec "$epoch_re" "$tmp/seed.jsonl" 2> /dev/null) == 2 ]] &&
  ok "train --arch seed" || bad "train --arch seed: $(cat "$tmp/seed.err")"

# Same flags, same bytes; another seed, other bytes (so the cmp can fail).
"$bin" train "${data[@]}" "${tiny[@]}" --epochs 2 --seed 3 --out "$tmp/again.vae" 2> /dev/null
"$bin" train "${data[@]}" "${tiny[@]}" --epochs 2 --seed 4 --out "$tmp/other.vae" 2> /dev/null
[[ -s $bm ]] && cmp -s "$bm" "$tmp/again.vae" && ! cmp -s "$bm" "$tmp/other.vae" &&
  ok "train is reproducible from --seed (and the seed matters)" ||
  bad "train reproducibility"

# --minutes stops at a batch boundary of the first epoch, then still
# evaluates and saves (--epochs bounds the run should it not stop).
"$bin" train "${data[@]}" "${tiny[@]}" --minutes 0.000001 --epochs 3 --out "$tmp/min.vae" \
  --metrics "$tmp/min.jsonl" 2> "$tmp/min.err"
[[ $(wc -l < "$tmp/min.jsonl") == 1 ]] && grep -Eq "$epoch_re" "$tmp/min.jsonl" &&
  grep -q 'stopped after' "$tmp/min.err" && [[ -s $tmp/min.vae ]] &&
  ok "--minutes stops training after one batch, evaluates and saves" ||
  bad "--minutes: $(cat "$tmp/min.jsonl" "$tmp/min.err" 2> /dev/null)"

# ---- eval ----

eval_re="^\{\"test_nll\":$num,\"test_ppl\":$num,\"kl\":$num,\"mi\":$num,\"active_units\":$int,\"iwae_k\":K,\"n\":20\}$"
"$bin" eval --model "$bm" "${data[@]}" --iwae 0 --metrics "$tmp/eval.jsonl" > "$tmp/eval.out" 2>&1
"$bin" eval --model "$bm" "${data[@]}" --iwae 5 --seed 2 --metrics "$tmp/eval.jsonl" \
  --threads 1 > /dev/null 2>&1
grep -Eq "${eval_re/K/0}" <(sed -n 1p "$tmp/eval.jsonl") &&
  grep -Eq '^test_nll [0-9.]+  test_ppl [0-9.]+  kl [0-9.]+  mi -?[0-9.]+  active_units [0-9]+  \(-ELBO, 20 test sentences\)$' "$tmp/eval.out" &&
  ok "eval --iwae 0: -ELBO line with every key, iwae_k 0" ||
  bad "eval: $(cat "$tmp/eval.out" "$tmp/eval.jsonl")"
grep -Eq "${eval_re/K/5}" <(sed -n 2p "$tmp/eval.jsonl") &&
  ok "eval --iwae 5 --threads 1: iwae_k 5" || bad "eval --iwae: $(cat "$tmp/eval.jsonl")"
# Perplexity is exp(sum of NLL / tokens): the 20 test sentences (every 20th)
# count their tokens up to maxlen - 1 plus <eos>.
tokens=$(awk 'NR % 20 == 0 { n += (NF < 7 ? NF : 7) + 1 } END { print n }' "$tmp/corpus.txt")
awk -v t="$tokens" -F'[:,]' 'NR == 1 { nll = $2; ppl = $4;
  want = exp(nll * 20 / t); exit !(ppl > 0.999 * want && ppl < 1.001 * want) }' \
  "$tmp/eval.jsonl" && ok "test_ppl = exp(n * test_nll / tokens incl. <eos>)" ||
  bad "test_ppl vs test_nll ($tokens tokens): $(head -n 1 "$tmp/eval.jsonl")"

# ---- lm ----

lm=$tmp/lm.vae
"$bin" lm "${data[@]}" --tokenizer words --embed 8 --hidden 8 --vocab 50 --maxlen 8 --batch 16 \
  --progress 0 --epochs 2 --out "$lm" --metrics "$tmp/lm.jsonl" > "$tmp/lm.out" 2> "$tmp/lm.err"
lm_re="^\{\"epoch\":$int,\"train_nll\":$num,\"valid_nll\":$num,\"valid_ppl\":$num,\"seconds\":$num,\"tokens_per_s\":$num\}$"
[[ $(grep -Ec "$lm_re" "$tmp/lm.jsonl" 2> /dev/null) == 2 ]] &&
  tail -n 1 "$tmp/lm.jsonl" | grep -Eq "^\{\"test_nll\":$num,\"test_ppl\":$num,\"kl\":0.0000,\"mi\":0.0000,\"active_units\":0,\"iwae_k\":0,\"n\":20\}$" &&
  ok "lm: epoch lines, then a test line like eval's" ||
  bad "lm: $(cat "$tmp/lm.jsonl" "$tmp/lm.err" 2> /dev/null)"
"$bin" eval --model "$lm" "${data[@]}" --batch 16 > "$tmp/lme.out" 2>&1
[[ $(sed -n 1p "$tmp/lme.out") == "$(cat "$tmp/lm.out")" ]] &&
  ok "eval of the LM file repeats lm's exact test NLL" ||
  bad "eval LM: '$(cat "$tmp/lme.out")' vs '$(cat "$tmp/lm.out")'"

# ---- generation ----

for mode in greedy sample topk topp beam; do
  "$bin" sample --model "$bm" --n 4 --decode "$mode" --temperature 0.9 --top-k 3 \
    --beam 2 > "$tmp/s.$mode" 2> "$tmp/s.err"
  [[ $(wc -l < "$tmp/s.$mode") == 4 ]] && ! grep -q '^$' "$tmp/s.$mode" &&
    ok "sample --decode $mode: 4 non-empty sentences" ||
    bad "sample --decode $mode: $(cat "$tmp/s.$mode" "$tmp/s.err")"
done
"$bin" sample --model "$bm" --n 4 --decode sample > "$tmp/s1" 2> /dev/null
"$bin" sample --model "$bm" --n 4 --decode sample > "$tmp/s2" 2> /dev/null
"$bin" sample --model "$bm" --n 4 --decode sample --seed 9 > "$tmp/s3" 2> /dev/null
cmp -s "$tmp/s1" "$tmp/s2" && ! cmp -s "$tmp/s1" "$tmp/s3" &&
  ok "sample: same --seed, same sentences; another seed, others" ||
  bad "sample seeding"
"$bin" sample --model "$sm" --n 3 > "$tmp/ss" 2> /dev/null
[[ $(wc -l < "$tmp/ss") == 3 ]] && ok "sample from --arch seed" || bad "sample seed arch"
"$bin" sample --model "$lm" --n 3 --decode sample > "$tmp/sl" 2> /dev/null
[[ $(wc -l < "$tmp/sl") == 3 ]] && ok "sample from the LM" || bad "sample LM"

"$bin" reconstruct --model "$bm" --sentence "The cat EATS an apple!" --decode beam \
  > "$tmp/rec" 2> "$tmp/rec.err"
[[ $(sed -n 1p "$tmp/rec") == "input:  the cat eats an apple <unk>" ]] &&
  grep -Eq '^greedy: .+' <(sed -n 2p "$tmp/rec") &&
  grep -Eq '^beam:   .+' <(sed -n 3p "$tmp/rec") && [[ $(wc -l < "$tmp/rec") == 3 ]] &&
  ok "reconstruct: input as the model sees it (<unk>, maxlen), greedy, beam" ||
  bad "reconstruct: $(cat "$tmp/rec" "$tmp/rec.err")"

"$bin" interpolate --model "$bm" --sentence "the cat eats a book ." \
  --to "she reads music at night ." --steps 3 > "$tmp/int" 2> "$tmp/int.err"
[[ $(sed -n 1p "$tmp/int") == "from  the cat eats a book." &&
   $(sed -n 2p "$tmp/int") == "to    she reads music at night." ]] &&
  [[ $(grep -Ec '^(0\.00|0\.50|1\.00)  .+' "$tmp/int") == 3 && $(wc -l < "$tmp/int") == 5 ]] &&
  ok "interpolate --steps 3: both ends, then t = 0, 0.5, 1" ||
  bad "interpolate: $(cat "$tmp/int" "$tmp/int.err")"

# ---- subword models (the default tokenizer) ----

# A higher --lr than the default: two epochs then make a model that gives
# <unk>, which subwords never have in their data, almost no probability.
spt=(--embed 8 --hidden 8 --vocab 300 --maxlen 40 --batch 16 --lr 0.03 --progress 0)
sp=("${spt[@]}" --latent 4)
spm=$tmp/sub.vae
"$bin" train "${data[@]}" "${sp[@]}" --epochs 2 --out "$spm" \
  --metrics "$tmp/sub.jsonl" 2> "$tmp/sub.err"
grep -Eq 'subword vocabulary of [0-9]+ ids \(0\.00% of training tokens unknown\)' "$tmp/sub.err" &&
  [[ $(grep -Ec "$epoch_re" "$tmp/sub.jsonl" 2> /dev/null) == 2 ]] &&
  ok "train --tokenizer sentencepiece (the default): no unknown tokens" ||
  bad "train subwords: $(cat "$tmp/sub.err" "$tmp/sub.jsonl" 2> /dev/null)"
"$bin" train "${data[@]}" "${sp[@]}" --epochs 2 --out "$tmp/sub2.vae" 2> /dev/null
cmp -s "$spm" "$tmp/sub2.vae" && ok "subword training is reproducible" ||
  bad "subword training reproducibility"
# The model file alone, away from the corpus, is all sample needs.
mkdir -p "$tmp/alone"
cp "$spm" "$tmp/alone/m.vae"
(cd "$tmp/alone" && "$bin" sample --model m.vae --n 5 > out 2> err)
[[ $(wc -l < "$tmp/alone/out") == 5 ]] &&
  ok "sample with only the model file: its tokenizer is inside" ||
  bad "sample alone: $(cat "$tmp/alone/out" "$tmp/alone/err")"
"$bin" reconstruct --model "$spm" --sentence $'A ZEBRA ate caf\u00e9 \u65e5\u672c!' \
  > "$tmp/zrec" 2> "$tmp/zrec.err"
[[ $(sed -n 1p "$tmp/zrec") == $'input:  a zebra ate caf\u00e9 \u65e5\u672c!' ]] &&
  ok "reconstruct: unseen characters come back (byte fallback), no <unk>" ||
  bad "byte fallback: $(cat "$tmp/zrec" "$tmp/zrec.err")"
"$bin" eval --model "$spm" "${data[@]}" --metrics "$tmp/sube.jsonl" > /dev/null 2>&1
grep -Eq "${eval_re/K/100}" "$tmp/sube.jsonl" &&
  ok "eval: IWAE with K = 100 by default, every key" ||
  bad "eval default K: $(cat "$tmp/sube.jsonl")"
"$bin" eval --model "$spm" "${data[@]}" --iwae 5 --limit 7 > "$tmp/lim.out" 2>&1
grep -q '(IWAE k=5, 7 test sentences)' "$tmp/lim.out" &&
  ok "eval --limit 7: the first 7 test sentences" || bad "eval --limit: $(cat "$tmp/lim.out")"

stats_re="^\{\"repeated_trigram_rate\":$num,\"distinct1\":$num,\"distinct2\":$num,\"unk_rate\":$num,\"mean_len\":$num,\"n\":50"
"$bin" sample-stats --model "$spm" --n 50 --metrics "$tmp/st.jsonl" > "$tmp/st.out" 2> "$tmp/st.err"
"$bin" sample-stats --model "$spm" --n 50 "${data[@]}" --metrics "$tmp/st.jsonl" \
  > "$tmp/st2.out" 2>> "$tmp/st.err"
grep -Eq "$stats_re\}$" "$tmp/st.out" &&
  grep -Eq "$stats_re,\"recon_accuracy\":$num,\"prior_accuracy\":$num,\"interp_distinct\":$int,\"interp_pairs\":10\}$" "$tmp/st2.out" &&
  [[ $(cat "$tmp/st.out" "$tmp/st2.out") == $(cat "$tmp/st.jsonl") ]] &&
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert all(0 <= d[k] <= 1 for k in ("repeated_trigram_rate", "distinct1",
               "distinct2", "unk_rate", "recon_accuracy", "prior_accuracy")
               if k in d), d
    assert d["unk_rate"] < 0.01 and d["repeated_trigram_rate"] == 0, d
    assert 0 < d["mean_len"] <= 39, d
    assert d.get("interp_distinct", 0) <= d.get("interp_pairs", 0), d
' "$tmp/st.jsonl" &&
  ok "sample-stats: every key, shares in [0, 1], hardly an <unk>, no repeated trigram" ||
  bad "sample-stats: $(cat "$tmp/st.out" "$tmp/st2.out" "$tmp/st.err")"

"$bin" lm "${data[@]}" "${spt[@]}" --epochs 1 --out "$tmp/sublm.vae" > /dev/null 2>&1
"$bin" sample-stats --model "$tmp/sublm.vae" --n 20 > "$tmp/lmst.out" 2>&1
grep -Eq '"n":20\}$' "$tmp/lmst.out" && ok "lm with subwords; sample-stats of an LM" ||
  bad "subword lm: $(cat "$tmp/lmst.out")"

# The levers against posterior collapse, all at once: BN-VAE, the
# bag-of-words loss, per-sentence free bits after autoencoder pre-training
# (23 steps: one epoch of 360 sentences in batches of 16), the sigmoid
# schedule.
"$bin" train "${data[@]}" "${sp[@]}" --epochs 2 --bn-gamma 0.5 --bow 1 \
  --free-bits 0.1 --free-bits-mode example --pretrain-epochs 1 \
  --kl-schedule sigmoid --kl-anneal 10 --out "$tmp/lev.vae" \
  --metrics "$tmp/lev.jsonl" 2> "$tmp/lev.err"
[[ $(grep -Ec "$epoch_re" "$tmp/lev.jsonl" 2> /dev/null) == 2 ]] &&
  grep -q '^autoencoder pre-training done after 23 steps; the decoder starts again$' "$tmp/lev.err" &&
  "$bin" eval --model "$tmp/lev.vae" "${data[@]}" --iwae 3 > "$tmp/lev.out" 2>&1 &&
  "$bin" sample --model "$tmp/lev.vae" --n 2 --decode beam > /dev/null 2>&1 &&
  ok "train with every lever; eval and sample its model" ||
  bad "levers: $(cat "$tmp/lev.err" "$tmp/lev.jsonl" "$tmp/lev.out" 2> /dev/null)"

if [[ -n $textmodel ]]; then
  mkdir -p "$tmp/bad"
  "$textmodel" --bad-models "$tmp/bad"
  for m in "$tmp"/bad/*.vae; do
    expect_error "model with bad metadata: ${m##*/}" "$bin" sample --model "$m"
    grep -qF "$(cat "$m.msg")" "$tmp/err" && grep -qF "$m" "$tmp/err" &&
      ok "... names the file and says '$(cat "$m.msg")'" ||
      bad "bad metadata message: $(cat "$tmp/err")"
  done
fi

# ---- conditional on genre (Brown's cats.txt) ----

# A Brown directory of three genres with words of their own: 90 sentences
# "the NOUN VERB ADVERB ." per file, two files per genre.
brown=$tmp/cbrown
mkdir -p "$brown"
LC_ALL=C awk -v dir="$brown" 'BEGIN {
  split("ca01 ca02 cd01 cd02 ck01 ck02", f, " ");
  split("news news religion religion fiction fiction", g, " ");
  w["news"] = "senate mayor voted taxes budget";
  w["religion"] = "god church faith prayer hope";
  w["fiction"] = "door smiled kissed shadow window";
  r = 11;
  for (k = 1; k <= 6; k++) {
    print f[k] " " g[k] > (dir "/cats.txt");
    split(w[g[k]], v, " ");
    for (i = 0; i < 90; i++) {
      r = (r * 1103515245 + 12345) % 2147483648; x = int(r / 65536);
      printf "\n\tthe/at %s/nn %s/vbd %s/rb ./.\n", v[x % 5 + 1],
        v[int(x / 5) % 5 + 1], v[int(x / 25) % 5 + 1] > (dir "/" f[k])
    }
  } }'
cb=(--corpus brown --data "$brown")
cm=$tmp/cond.vae
ctiny=(--tokenizer words --embed 16 --hidden 16 --latent 4 --vocab 60 --maxlen 8 --batch 16 --progress 0)
# BN-VAE pinned off, so that the check does not move with the defaults.
# 15 epochs: at 6, the fiction samples of the seed-2 model held only 34
# genre words (of 47) after the initialiser changed; at 15, seeds 2-6 all
# give 57 or more of each genre's 60.
if "$bin" train "${cb[@]}" "${ctiny[@]}" --conditional genre --epochs 15 --lr 1e-2 --seed 2 --bn-gamma 0 \
     --out "$cm" 2> "$tmp/cond.err"; then
  grep -q '^conditional on 3 genres' "$tmp/cond.err" &&
    ok "train --conditional genre on a Brown directory" ||
    bad "train --conditional genre: $(cat "$tmp/cond.err")"
else
  bad "train --conditional genre: $(cat "$tmp/cond.err")"
fi
# words_of GENRE FILE: how many of FILE's words are GENRE's own.
words_of() {
  local re
  case $1 in
    news) re='senate|mayor|voted|taxes|budget' ;;
    religion) re='god|church|faith|prayer|hope' ;;
    fiction) re='door|smiled|kissed|shadow|window' ;;
  esac
  grep -Eow "$re" "$2" | wc -l
}
for genre in news religion fiction; do
  "$bin" sample --model "$cm" --genre "$genre" --n 20 > "$tmp/cs.out" 2> "$tmp/cs.err"
  own=$(words_of "$genre" "$tmp/cs.out")
  all=0
  for g in news religion fiction; do all=$((all + $(words_of "$g" "$tmp/cs.out"))); done
  [[ $(wc -l < "$tmp/cs.out") == 20 ]] && ((own >= 40 && own * 10 >= all * 9)) &&
    ok "sample --genre $genre: $genre's words ($own of $all genre words)" ||
    bad "sample --genre $genre ($own of $all): $(cat "$tmp/cs.out" "$tmp/cs.err")"
done
"$bin" eval --model "$cm" "${cb[@]}" --iwae 0 --progress 0 \
  --metrics "$tmp/ceval.jsonl" > "$tmp/ceval.out" 2>&1
[[ $(grep -Ec "^(news|religion|fiction) +$int +$num +$num +$int$" "$tmp/ceval.out") == 3 ]] &&
  grep -q '^right genre best for 3 of 3$' "$tmp/ceval.out" &&
  grep -Eq "\"right_genre_best\":3,\"genres_scored\":3,\"test_nll\":$num" "$tmp/ceval.jsonl" &&
  grep -Eq "\"nll_right_religion\":$num,\"nll_wrong_mean_religion\":$num,\"wrong_better_religion\":0" "$tmp/ceval.jsonl" &&
  ok "eval of a conditional model: the right genre scores best for each" ||
  bad "conditional eval: $(cat "$tmp/ceval.out" "$tmp/ceval.jsonl")"
# Brown's 15 genres, with their names: eval's metrics line has 3 keys each.
big=$tmp/cbrown15
mkdir -p "$big"
genres15=(news editorial reviews religion hobbies lore belles_lettres government
  learned fiction mystery science_fiction adventure romance humor)
for i in "${!genres15[@]}"; do
  f=$(printf 'c%c01' "$(printf "\\$(printf '%03o' $((97 + i)))")")
  echo "$f ${genres15[i]}" >> "$big/cats.txt"
  for j in $(seq 20); do printf '\n\tthe/at %s/nn %d/cd ./.\n' "${genres15[i]}" "$j"; done > "$big/$f"
done
"$bin" train --corpus brown --data "$big" "${ctiny[@]}" --conditional genre --epochs 1 \
  --out "$tmp/c15.vae" 2> "$tmp/c15.err" &&
  "$bin" eval --model "$tmp/c15.vae" --corpus brown --data "$big" --iwae 0 --progress 0 \
    --metrics "$tmp/c15.jsonl" > "$tmp/c15.out" 2>> "$tmp/c15.err" &&
  [[ $(grep -o '"nll_right_[a-z_]*":' "$tmp/c15.jsonl" | wc -l) == 15 ]] &&
  grep -Eq '^right genre best for [0-9]+ of 15$' "$tmp/c15.out" &&
  grep -q '"nll_right_science_fiction":' "$tmp/c15.jsonl" &&
  ok "eval of a model of 15 genres: every genre in one metrics line" ||
  bad "15 genres: $(cat "$tmp/c15.err" "$tmp/c15.out" "$tmp/c15.jsonl" 2> /dev/null)"
"$bin" reconstruct --model "$cm" --genre fiction --sentence "the door smiled ." \
  > "$tmp/cr.out" 2>&1 && grep -q '^greedy: ' "$tmp/cr.out" &&
  "$bin" interpolate --model "$cm" --genre news --sentence "the senate voted ." \
    --to "the mayor taxes ." --steps 3 > "$tmp/ci.out" 2>&1 &&
  [[ $(wc -l < "$tmp/ci.out") == 5 ]] &&
  "$bin" sample-stats --model "$cm" --genre religion --n 20 "${cb[@]}" \
    > "$tmp/css.out" 2>&1 && grep -q '"interp_pairs":' "$tmp/css.out" &&
  ok "reconstruct, interpolate and sample-stats --genre" ||
  bad "conditional reconstruct/interpolate/sample-stats: $(cat "$tmp/cr.out" "$tmp/ci.out" "$tmp/css.out")"
expect_error "sample of a conditional model without --genre" "$bin" sample --model "$cm"
grep -qF 'give --genre, one of news, religion, fiction' "$tmp/err" &&
  ok "... lists the model's genres" || bad "no --genre: $(cat "$tmp/err")"
expect_error "unknown --genre" "$bin" sample --model "$cm" --genre humor
grep -qF "'humor' is not a genre of $cm; its genres are news, religion, fiction" "$tmp/err" &&
  ok "... lists the model's genres" || bad "unknown --genre: $(cat "$tmp/err")"
expect_error "--genre on an unconditional model" "$bin" sample --model "$bm" --genre news
grep -qF 'is not a conditional model' "$tmp/err" && ok "... says so" ||
  bad "--genre, unconditional: $(cat "$tmp/err")"
expect_error "reconstruct of a conditional model without --genre" \
  "$bin" reconstruct --model "$cm" --sentence "the door ."
expect_error "--conditional genre on a corpus without genres" \
  "$bin" train "${data[@]}" "${tiny[@]}" --conditional genre --out "$tmp/x.vae"
grep -qF -- '--corpus lines has no genres' "$tmp/err" && ok "... says so" ||
  bad "--conditional, lines: $(cat "$tmp/err")"
expect_error "unknown --conditional" "$bin" train "${cb[@]}" "${ctiny[@]}" --conditional topic --out "$tmp/x.vae"
expect_error "lm takes no --conditional" "$bin" lm "${cb[@]}" --conditional genre --out "$tmp/x.vae"
expect_error "eval of a conditional model on a corpus without genres" \
  "$bin" eval --model "$cm" "${data[@]}"
mv "$brown/cats.txt" "$brown/cats.off"
expect_error "--conditional genre without cats.txt" \
  "$bin" train "${cb[@]}" "${ctiny[@]}" --conditional genre --out "$tmp/x.vae"
grep -qF "$brown/cats.txt" "$tmp/err" && ok "... names it" ||
  bad "no cats.txt: $(cat "$tmp/err")"
printf 'ca01 news\ncz99 news\n' > "$brown/cats.txt"
expect_error "cats.txt naming an unknown file" \
  "$bin" train "${cb[@]}" "${ctiny[@]}" --conditional genre --out "$tmp/x.vae"
grep -qF "cats.txt:2: 'cz99' is not a Brown corpus file" "$tmp/err" &&
  ok "... names the line and the file" || bad "cats.txt cz99: $(cat "$tmp/err")"
mv "$brown/cats.off" "$brown/cats.txt"

# ---- errors ----

if "$bin" > /dev/null 2>&1; then bad "no arguments fails"; else ok "no arguments fails"; fi
"$bin" --help | grep -q '^usage: vae-text' && ok "--help exits 0 with the usage" ||
  bad "--help"
expect_error "unknown command" "$bin" frobnicate
expect_error "unknown flag" "$bin" sample --model "$bm" --bogus 1
expect_error "flag of another command" "$bin" sample --model "$bm" --corpus lines
expect_error "flag without value" "$bin" sample --model
expect_error "flag given twice" "$bin" sample --model "$bm" --n 2 --n 3
expect_error "missing --corpus" "$bin" train --data "$tmp/corpus.txt" --out "$tmp/x.vae"
expect_error "unknown --corpus" "$bin" train --corpus web --data "$tmp/corpus.txt" --out "$tmp/x.vae"
expect_error "unknown --arch" "$bin" train "${data[@]}" --out "$tmp/x.vae" --arch transformer
expect_error "--arch lm is the lm command" "$bin" train "${data[@]}" --out "$tmp/x.vae" --arch lm
expect_error "non-numeric --epochs" "$bin" train "${data[@]}" --out "$tmp/x.vae" --epochs ten
expect_error "--vocab below the specials" "$bin" train "${data[@]}" --out "$tmp/x.vae" --vocab 4
expect_error "--maxlen 1" "$bin" train "${data[@]}" --out "$tmp/x.vae" --maxlen 1
expect_error "--word-dropout 1" "$bin" train "${data[@]}" --out "$tmp/x.vae" --word-dropout 1
expect_error "--word-dropout with --arch seed" "$bin" train "${data[@]}" --out "$tmp/x.vae" --arch seed --word-dropout 0.2
expect_error "negative --free-bits" "$bin" train "${data[@]}" --out "$tmp/x.vae" --free-bits -1
expect_error "zero --minutes" "$bin" train "${data[@]}" --out "$tmp/x.vae" --minutes 0
expect_error "lm takes no --latent" "$bin" lm "${data[@]}" --out "$tmp/x.vae" --latent 4
expect_error "missing corpus file" "$bin" train --corpus lines --data "$tmp/none.txt" --out "$tmp/x.vae"
expect_error "missing brown directory" "$bin" train --corpus brown --data "$tmp/none" --out "$tmp/x.vae"
expect_error "too few sentences to train" "$bin" train --corpus lines --data "$tmp/short.txt" --out "$tmp/x.vae"
expect_error "unwritable --out" "$bin" train "${data[@]}" "${tiny[@]}" --out "$tmp/no/dir/x.vae"
expect_error "no test sentences to eval" "$bin" eval --model "$bm" --corpus lines --data "$tmp/short.txt"
expect_error "negative --iwae" "$bin" eval --model "$bm" "${data[@]}" --iwae -1
expect_error "--iwae on a language model" "$bin" eval --model "$lm" "${data[@]}" --iwae 5
expect_error "unknown --decode" "$bin" sample --model "$bm" --decode nucleus
expect_error "zero --temperature" "$bin" sample --model "$bm" --temperature 0
expect_error "zero --beam" "$bin" sample --model "$bm" --beam 0
expect_error "zero --top-k" "$bin" sample --model "$bm" --top-k 0
expect_error "zero --n" "$bin" sample --model "$bm" --n 0
expect_error "reconstruct without --sentence" "$bin" reconstruct --model "$bm"
expect_error "reconstruct of no tokens" "$bin" reconstruct --model "$bm" --sentence "   "
expect_error "reconstruct of invalid UTF-8" "$bin" reconstruct --model "$bm" --sentence $'caf\xe9'
expect_error "reconstruct with a language model" "$bin" reconstruct --model "$lm" --sentence "a dog"
expect_error "interpolate without --to" "$bin" interpolate --model "$bm" --sentence "a dog"
expect_error "interpolate --steps 1" "$bin" interpolate --model "$bm" --sentence "a" --to "b" --steps 1
expect_error "missing model file" "$bin" sample --model "$tmp/none.vae"
printf 'not a model' > "$tmp/junk.vae"
expect_error "garbage model file" "$bin" sample --model "$tmp/junk.vae"
head -c 300 "$bm" > "$tmp/short.vae"
expect_error "truncated model file" "$bin" eval --model "$tmp/short.vae" "${data[@]}"
if [[ -n $hello ]]; then
  (cd "$tmp" && "$hello" > /dev/null 2>&1)
  expect_error "libvae model without vae-text metadata" "$bin" sample --model "$tmp/hello.vae"
  grep -q 'not a vae-text model' "$tmp/err" && ok "... says it is not a vae-text model" ||
    bad "non-vae-text model message: $(cat "$tmp/err")"
fi
expect_error "zero --threads" "$bin" sample --model "$bm" --threads 0
expect_error "unknown --tokenizer" "$bin" train "${data[@]}" --out "$tmp/x.vae" --tokenizer bpe
expect_error "subword --vocab below 300" "$bin" train "${data[@]}" --out "$tmp/x.vae" --vocab 299
printf '%s\n' {a..z}{A..Z}' '$'\u03b1\u03b2\u03b3\u03b4\u03b5\u03b6\u03b7\u03b8\u03b9\u03ba\u03bb\u03bc\u03bd\u03be\u03bf\u03c0' > "$tmp/chars.txt"
expect_error "subword --vocab too small for the characters" "$bin" train --corpus lines \
  --data "$tmp/chars.txt" --out "$tmp/x.vae" --vocab 300
expect_error "negative --bn-gamma" "$bin" train "${data[@]}" --out "$tmp/x.vae" --bn-gamma -1
expect_error "unknown --free-bits-mode" "$bin" train "${data[@]}" --out "$tmp/x.vae" --free-bits-mode sometimes
expect_error "unknown --kl-schedule" "$bin" train "${data[@]}" --out "$tmp/x.vae" --kl-schedule cubic
expect_error "--bow with --arch seed" "$bin" train "${data[@]}" --out "$tmp/x.vae" --arch seed --word-dropout 0 --bow 1
expect_error "negative --pretrain-epochs" "$bin" train "${data[@]}" --out "$tmp/x.vae" --pretrain-epochs -1
expect_error "lm takes no --bn-gamma" "$bin" lm "${data[@]}" --out "$tmp/x.vae" --bn-gamma 0.5
expect_error "zero --top-p" "$bin" sample --model "$bm" --top-p 0
expect_error "--top-p above 1" "$bin" sample --model "$bm" --top-p 1.5
expect_error "--no-repeat-ngram above 64" "$bin" sample --model "$bm" --no-repeat-ngram 65
expect_error "sample-stats --corpus without --data" "$bin" sample-stats --model "$bm" --corpus lines
expect_error "sample-stats --corpus with a language model" "$bin" sample-stats --model "$lm" "${data[@]}"
expect_error "sample-stats of too few test sentences" "$bin" sample-stats --model "$bm" --corpus lines --data "$tmp/short.txt"
expect_error "missing sotu directory" "$bin" train --corpus sotu --data "$tmp/none" --out "$tmp/x.vae"

# ---- inputs that are not regular files: refused at once, never a hang ----

fifo=$tmp/fifo
mkfifo "$fifo"
mkdir -p "$tmp/brown" "$tmp/acl"/{train,test}/{neg,pos}
mkfifo "$tmp/brown/ca01"
for d in "$tmp/acl"/{train,test}/{neg,pos}; do echo "A review." > "$d/1_1.txt"; done
mkfifo "$tmp/acl/test/pos/2_9.txt"
expect_quick_error "train --corpus lines --data FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" train --corpus lines --data "$fifo" --out "$tmp/x.vae"
expect_quick_error "lm --corpus lines --data /dev/zero" \
  "/dev/zero: not a regular file (a character device)" \
  "$bin" lm --corpus lines --data /dev/zero --out "$tmp/x.vae"
expect_quick_error "train --corpus lines --data /dev/urandom" "(a character device)" \
  "$bin" train --corpus lines --data /dev/urandom --out "$tmp/x.vae"
expect_quick_error "train --corpus brown --data FIFO" "$fifo: Not a directory" \
  "$bin" train --corpus brown --data "$fifo" --out "$tmp/x.vae"
expect_quick_error "train --corpus brown with a FIFO corpus file" \
  "brown/ca01: not a regular file (a FIFO)" \
  "$bin" train --corpus brown --data "$tmp/brown" --out "$tmp/x.vae"
expect_quick_error "train --corpus aclimdb --data FIFO" "$fifo/train/neg: Not a directory" \
  "$bin" train --corpus aclimdb --data "$fifo" --out "$tmp/x.vae"
expect_quick_error "eval --corpus aclimdb with a FIFO review" \
  "acl/test/pos/2_9.txt: not a regular file (a FIFO)" \
  "$bin" eval --model "$bm" --corpus aclimdb --data "$tmp/acl"
expect_quick_error "sample --model FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" sample --model "$fifo"
expect_quick_error "eval --model FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" eval --model "$fifo" "${data[@]}"
expect_quick_error "train --out FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" train "${data[@]}" "${tiny[@]}" --out "$fifo"
[[ -p $fifo ]] && ok "... and the FIFO is still a FIFO" || bad "train --out replaced the FIFO"
expect_quick_error "interpolate --model /dev/zero" "(a character device)" \
  "$bin" interpolate --model /dev/zero --sentence a --to b

# ---- a metrics line that cannot be appended whole is not appended at all ----

mj=$tmp/limit.jsonl
padded_metrics "$mj"
cp "$mj" "$tmp/limit.orig"
fsize_limited 1 "$bin" eval --model "$bm" "${data[@]}" --metrics "$mj" \
  > /dev/null 2> "$tmp/err"
[[ $(cat "$tmp/err") == "vae-text: $mj: cannot append: File too large" ]] &&
  cmp -s "$mj" "$tmp/limit.orig" &&
  ok "eval --metrics past a 1 KiB file-size limit: the reason, no partial line" ||
  bad "eval --metrics under a file-size limit: $(cat "$tmp/err"); $(tail -c 80 "$mj")"
expect_quick_error "eval --metrics FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" eval --model "$bm" "${data[@]}" --metrics "$fifo"
expect_quick_error "lm --metrics FIFO" "$fifo: not a regular file (a FIFO)" \
  "$bin" lm "${data[@]}" --out "$tmp/x.vae" --metrics "$fifo"

# ---- sentences on a full disk: an error, not exit status 0 ----

if [[ -w /dev/full ]]; then
  if "$bin" sample --model "$bm" --n 3 > /dev/full 2> "$tmp/err"; then
    bad "sample > /dev/full exits 0"
  else
    [[ $(cat "$tmp/err") == "vae-text: standard output: cannot write: No space left on device" ]] &&
      ok "sample > /dev/full: the reason, exit 1" || bad "sample > /dev/full: $(cat "$tmp/err")"
  fi
fi

# ---- numbers are plain decimal: no spaces, signs +, hex, inf or nan ----

tr=("$bin" train "${data[@]}" --out "$tmp/x.vae")
expect_bad_numbers --batch " 5" "5 " "+5" "0x10" "5.0" -- "${tr[@]}"
expect_bad_numbers --lr "0x1p-3" " 1e-3" "inf" "nan" "1e-3x" -- "${tr[@]}"
expect_bad_numbers --minutes "1e999" "0x1p0" " 1" -- "${tr[@]}"
expect_bad_numbers --word-dropout "0x0.4p0" "nan" -- "${tr[@]}"
expect_bad_numbers --temperature "inf" " 0.5" "0.5 " -- "$bin" sample --model "$bm"
expect_bad_numbers --n " 3" "3e0" -- "$bin" sample --model "$bm"
expect_bad_numbers --seed "-1" "+1" -- "$bin" sample --model "$bm"
[[ $("$bin" sample --model "$bm" --n 02 --temperature .5 --decode sample 2> /dev/null |
     wc -l) == 2 ]] && ok "--n 02 --temperature .5 are plain decimal" ||
  bad "--n 02 --temperature .5 refused"

# ---- a loss that explodes is reported once; a normal run says nothing ----

"$bin" train "${data[@]}" "${tiny[@]}" --epochs 3 --lr 10 --out "$tmp/x.vae" 2> "$tmp/lr.err"
warned_once "train --lr 10: one warning, after epoch 1, to try a smaller --lr" "$tmp/lr.err"
"$bin" lm "${data[@]}" --tokenizer words --embed 8 --hidden 8 --vocab 50 --maxlen 8 --batch 16 \
  --progress 0 --epochs 2 --lr 10 --out "$tmp/x.vae" > /dev/null 2> "$tmp/lr.err"
warned_once "lm --lr 10: one warning" "$tmp/lr.err"
normal=("$tmp"/{train,seed,lm}.err)
! grep -q warning "${normal[@]}" && [[ -s $tmp/train.err && -s $tmp/seed.err ]] &&
  ok "the normal runs (bowman, seed, lm; --lr 1e-3): no warning" ||
  bad "a normal run warned: $(grep warning "${normal[@]}")"

echo "vae-text cli: $passed passed, $failed failed"
((failed == 0))
