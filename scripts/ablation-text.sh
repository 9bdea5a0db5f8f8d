#!/usr/bin/env bash
# ablation-text.sh - the ablation of docs/results.md ("Choosing vae-text's
# defaults"): the sentence VAE trained on Brown with each lever against
# posterior collapse alone and in the chosen combination, every run for
# the same training time with one BLAS thread, two runs at a time; then
# for each the importance-weighted test NLL, KL, MI and active units
# (vae-text eval) and the statistics of 1,000 prior samples with the
# default decoding (vae-text sample-stats). Results go to ablation-text/,
# one line per run in ablation-text/table.tsv.
#   bash scripts/ablation-text.sh [NAME...]     (default: every run)
# Environment: VAE_ABLATION_MINUTES (default 8) training minutes per run,
# VAE_ABLATION_IWAE (default 100) importance samples, VAE_ABLATION_LIMIT
# (default 500) test sentences evaluated (the first of the test split).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${VAE_ABLATION_MINUTES:-8}
iwae_k=${VAE_ABLATION_IWAE:-100}
limit=${VAE_ABLATION_LIMIT:-500}
brown=$(bash scripts/fetch-brown.sh | tail -n 1)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVAE_BUILD_TESTS=OFF > /dev/null
cmake --build build -j2 --target vae-text > /dev/null
bin=build/examples/text/vae-text
out=ablation-text
mkdir -p "$out"
data=(--corpus brown --data "$brown")

# name: the train flags after today's Bowman recipe (--kl-anneal 3000,
# linear, --word-dropout 0.25), which every run starts from. Pre-training
# lasts 0.1 epoch (161 steps on Brown) so that it ends well within a short
# run.
declare -A runs=(
  [bowman-words]="--tokenizer words --vocab 10000"
  [bowman]=""
  [bn]="--bn-gamma 0.7"
  [free-bits]="--free-bits 0.25"
  [pretrain-fb]="--pretrain-epochs 0.1 --free-bits 0.25 --free-bits-mode example"
  [bow]="--bow 1"
  [no-dropout]="--word-dropout 0"
  [sigmoid]="--kl-schedule sigmoid"
  [lm]="LM"
  [bn-bow]="--bn-gamma 0.7 --bow 1"
  [bn-no-anneal]="--bn-gamma 0.7 --kl-anneal 0"
)
order=(bowman-words bowman bn free-bits pretrain-fb bow no-dropout sigmoid lm
       bn-bow bn-no-anneal)
(($# > 0)) && order=("$@")

# Today's recipe spelt out, so that the runs do not follow the defaults
# they choose; a run's own flags replace these.
base=(--kl-anneal 3000 --kl-schedule linear --word-dropout 0.25 --bn-gamma 0
      --bow 0 --free-bits 0 --free-bits-mode batch --pretrain-epochs 0)

# The base flags the run's own do not name, then the run's.
run_flags() { # FLAGS...
  local i own=" $* "
  for ((i = 0; i < ${#base[@]}; i += 2)); do
    [[ $own == *" ${base[i]} "* ]] || printf '%s\n' "${base[i]}" "${base[i + 1]}"
  done
  (($# == 0)) || printf '%s\n' "$@"
}

train() { # NAME
  local name=$1 flags=${runs[$1]}
  if [[ $flags == LM ]]; then
    "$bin" lm "${data[@]}" --out "$out/$name.vae" --minutes "$minutes" \
      --threads 1 --progress 0 --metrics "$out/$name.jsonl" 2> "$out/$name.log" > /dev/null
  else
    local all
    # shellcheck disable=SC2086  # the run's flags are words
    mapfile -t all < <(run_flags $flags)
    "$bin" train "${data[@]}" "${all[@]}" --out "$out/$name.vae" \
      --minutes "$minutes" --threads 1 --progress 0 \
      --metrics "$out/$name.jsonl" 2> "$out/$name.log"
  fi
}

measure() { # NAME
  local name=$1 eval_flags=(--iwae "$iwae_k")
  [[ ${runs[$name]} == LM ]] && eval_flags=()
  "$bin" eval --model "$out/$name.vae" "${data[@]}" "${eval_flags[@]}" \
    --limit "$limit" --threads 1 --progress 0 > "$out/$name.eval"
  "$bin" sample-stats --model "$out/$name.vae" --n 1000 --threads 1 \
    > "$out/$name.stats"
}

# Two runs at a time, each on one core, started together so that each pair
# shares the machine's load alike.
for ((i = 0; i < ${#order[@]}; i += 2)); do
  pair=("${order[@]:i:2}")
  echo "== $(date +%T) training ${pair[*]} ($(uptime | sed 's/.*load/load/'))" >&2
  pids=()
  for n in "${pair[@]}"; do train "$n" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done # a failed run stops the script
  pids=()
  for n in "${pair[@]}"; do measure "$n" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
done

python3 - "$out" "${order[@]}" <<'PY' > "$out/table.tsv"
import json, sys
out, names = sys.argv[1], sys.argv[2:]
print("run\tepochs\ttrain_kl\tvalid_kl\ttest_nll\tkl\tmi\tactive\t"
      "rep3\tdistinct2\tunk\tlen")
for n in names:
    lines = [json.loads(l) for l in open(f"{out}/{n}.jsonl")]
    last = [l for l in lines if "epoch" in l][-1]
    ev = open(f"{out}/{n}.eval").read().split()
    st = json.load(open(f"{out}/{n}.stats"))
    print("\t".join(str(v) for v in [
        n, last["epoch"], last.get("train_kl", 0), last.get("kl", 0),
        ev[1], ev[5], ev[7], ev[9], st["repeated_trigram_rate"],
        st["distinct2"], st["unk_rate"], st["mean_len"]]))
PY
column -t -s $'\t' "$out/table.tsv"
