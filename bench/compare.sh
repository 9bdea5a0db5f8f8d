#!/usr/bin/env bash
# libvae against PyTorch and against OpenBLAS's own ceiling, in one run
# (issue 6): for 1 and 2 threads, bench/sgemm_ceiling, then for each model
# (mlp, conv, lstm_text) bench/vae-bench and bench/torch_ref.py one after
# the other, each model in a fresh process. Prints one table (model,
# threads, samples/s of both, their ratio, libvae's GFLOP/s as a fraction of
# the model's sgemm ceiling, peak RSS of both, start-up), the generation
# figures, the issue's targets against the figures, and as its last line one
# JSON object with all figures, the command, commit and machine.
#
# usage: bench/compare.sh [--quick] BUILD_DIR
#   BUILD_DIR  a Release build of libvae with VAE_BUILD_BENCH=ON (the
#              default), VAE_SANITIZE off
#   --quick    smoke run: 3 timed steps after 1 warm-up, 3 calls per GEMM
#              shape, 4 prefixes for the naive generator. Proves the
#              pipeline works; its numbers are not measurements.
# Raw records go to $OUT_DIR (default: a new temporary directory, printed).
#
# The environment is used as it is: nothing is exported, so OpenBLAS and
# torch see the caller's OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
# OPENBLAS_CORETYPE (recorded in the JSON). Each program gets --threads N:
# vae-bench calls vae_set_num_threads(N), torch_ref.py
# torch.set_num_threads(N), as a user would; Debian's torch does its matrix
# products in OpenBLAS, whose pool that call does not resize, so the torch
# records also report OpenBLAS's thread count.
set -euo pipefail

usage() {
    echo "usage: $0 [--quick] BUILD_DIR" >&2
    exit 2
}
quick=0
if [[ ${1:-} == --quick ]]; then
    quick=1
    shift
fi
[[ $# -eq 1 ]] || usage
build=$1
command="$0 $*"
[[ $quick == 1 ]] && command="$0 --quick $*"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3
lib_bench=$build/bench/vae-bench
ceiling=$build/bench/sgemm_ceiling
for f in "$lib_bench" "$ceiling"; do
    [[ -x $f ]] || { echo "$0: $f not found; build with VAE_BUILD_BENCH=ON (OpenBLAS needed for sgemm_ceiling)" >&2; exit 1; }
done
"$py" -c 'import torch' 2>/dev/null || { echo "$0: $py cannot import torch" >&2; exit 1; }

cache_value() {
    sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null
}
build_type=$(cache_value CMAKE_BUILD_TYPE)
sanitize=$(cache_value VAE_SANITIZE)
if [[ $build_type != Release || ${sanitize,,} != @(off|no|false|n|0|) ]]; then
    msg="$build is a '$build_type' build (VAE_SANITIZE=${sanitize:-?}); timings need Release without sanitizers"
    if [[ $quick == 1 ]]; then
        echo "$0: warning: $msg" >&2
    else
        echo "$0: $msg" >&2
        exit 1
    fi
fi

out=${OUT_DIR:-$(mktemp -d /tmp/vae-compare.XXXXXX)}
mkdir -p "$out"
rm -f "$out/sgemm.jsonl" "$out/libvae.jsonl" "$out/torch.jsonl"
echo "outputs in $out" >&2

steps=() gen=() reps=()
if [[ $quick == 1 ]]; then
    steps=(--steps 3 --warmup 1)
    gen=(--gen-stride 25)
    reps=(--reps 3)
fi

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for threads in 1 2; do
    echo "== sgemm ceiling, $threads thread(s)" >&2
    "$ceiling" --threads "$threads" "${reps[@]}" --json >>"$out/sgemm.jsonl"
    for model in mlp conv lstm_text; do
        echo "== $model, $threads thread(s): libvae" >&2
        "$lib_bench" --model "$model" --threads "$threads" "${steps[@]}" "${gen[@]}" \
            --json --t0 "${EPOCHREALTIME/,/.}" >>"$out/libvae.jsonl"
        echo "== $model, $threads thread(s): torch" >&2
        "$py" "$here/torch_ref.py" --model "$model" --threads "$threads" "${steps[@]}" \
            --json --t0 "${EPOCHREALTIME/,/.}" >>"$out/torch.jsonl"
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)

"$py" - "$out" "$quick" "$command" "$commit" "$cpu" "$(nproc)" "$(uname -r)" \
    "$load_start" "$load_end" <<'EOF'
import json, os, sys

out, quick, command, commit, cpu, nproc, kernel, load_start, load_end = sys.argv[1:]
quick = quick == "1"

def records(name):
    with open(os.path.join(out, name)) as f:
        return [json.loads(line) for line in f if line.strip()]

lib = {(r["model"], r["threads"]): r for r in records("libvae.jsonl")}
tor = {(r["model"], r["threads"]): r for r in records("torch.jsonl")}
sgemm = {r["threads"]: r for r in records("sgemm.jsonl")}
models = ["mlp", "conv", "lstm_text"]
keys = [(m, t) for t in (1, 2) for m in models]
for k in keys:
    if k not in lib or k not in tor or k[1] not in sgemm:
        sys.exit(f"compare: no record for {k[0]} at {k[1]} thread(s)")
    # Three independent derivations of the issue's FLOP counts must agree.
    f = {lib[k]["flops_per_step"], tor[k]["flops_per_step"],
         sgemm[k[1]]["models"][k[0]]["flops_per_step"]}
    if len(f) != 1:
        sys.exit(f"compare: {k[0]}: FLOPs per step disagree: {sorted(f)}")
    if lib[k]["params"] != tor[k]["params"]:
        sys.exit(f"compare: {k[0]}: {lib[k]['params']} parameters in libvae, "
                 f"{tor[k]['params']} in torch: not the same model")

rows = []
for m, t in keys:
    l, p = lib[(m, t)], tor[(m, t)]
    ceil = sgemm[t]["models"][m]["ceiling_gflops"]
    rows.append({
        "model": m, "threads": t,
        "speed_ratio": l["samples_per_s"] / p["samples_per_s"],
        "ceiling_gflops": ceil,
        "ceiling_fraction": l["gflops"] / ceil,
        "rss_ratio": l["peak_rss_kib"] / p["peak_rss_kib"],
        "libvae": l, "torch": p,
    })

if quick:
    print("SMOKE RUN (--quick): 3 steps, figures are not measurements")
print(f"commit {commit}; {cpu}, {nproc} cores, Linux {kernel}; "
      f"load {load_start} -> {load_end}")
hdr = (f"{'model':<10}{'thr':>4}{'libvae/s':>11}{'torch/s':>10}{'ratio':>7}"
       f"{'lib GF/s':>10}{'ceil GF/s':>10}{'%ceil':>7}{'RSS lib':>9}{'RSS torch':>10}"
       f"{'start lib':>10}{'start torch':>12}")
print(hdr)
for r in rows:
    l, p = r["libvae"], r["torch"]
    print(f"{r['model']:<10}{r['threads']:>4}{l['samples_per_s']:>11.1f}"
          f"{p['samples_per_s']:>10.1f}{r['speed_ratio']:>7.2f}{l['gflops']:>10.2f}"
          f"{r['ceiling_gflops']:>10.2f}{100 * r['ceiling_fraction']:>6.1f}%"
          f"{l['peak_rss_kib'] / 1024:>8.1f}M{p['peak_rss_kib'] / 1024:>9.1f}M"
          f"{l['startup_ms']:>8.2f}ms{p['startup_ms']:>10.1f}ms")
print("RSS: peak resident set (MiB) of a process that trained only that model; "
      "start: first library call (libvae) or `import torch` (torch) to model + optimizer")
for t in (1, 2):
    l = lib[("lstm_text", t)]
    print(f"lstm_text generation, {t} thread(s): greedy {l['gen_ms_per_token']:.3f} ms/token, "
          f"naive prefix re-scoring {l['naive_ms_per_token']:.3f} ms/token "
          f"({l['gen_prefixes']} prefixes): {l['gen_speedup']:.1f}x")
print("sgemm square 1024: " + ", ".join(
    f"{sgemm[t]['square1024_gflops']:.2f} GFLOP/s at {t} thread(s)" for t in (1, 2)))

# The issue's targets, checked against this run's figures.
speed_target = {("mlp", 1): 1.25, ("mlp", 2): 2.0}
ceiling_target = {"mlp": 0.85, "conv": 0.70, "lstm_text": 0.85}
ratio_target = {"conv": 2.5, "lstm_text": 4.0}
targets = []
def target(name, value, goal, met):
    targets.append({"target": name, "value": value, "goal": goal, "met": met})
for r in rows:
    m, t = r["model"], r["threads"]
    goal = speed_target.get((m, t), ratio_target.get(m))
    where = f"{m} {t}t"
    target(f"{where} speed vs torch", r["speed_ratio"], f">= {goal}", r["speed_ratio"] >= goal)
    target(f"{where} GFLOP/s / ceiling", r["ceiling_fraction"], f">= {ceiling_target[m]}",
           r["ceiling_fraction"] >= ceiling_target[m])
    target(f"{where} RSS / torch RSS", r["rss_ratio"], "<= 0.25", r["rss_ratio"] <= 0.25)
    target(f"{where} start-up ms", r["libvae"]["startup_ms"], "< 10", r["libvae"]["startup_ms"] < 10)
for t in (1, 2):
    s = lib[("lstm_text", t)]["gen_speedup"]
    target(f"generation {t}t speed-up per token", s, ">= 10", s >= 10)
print("targets:" + (" (smoke run: not a verdict)" if quick else ""))
for x in targets:
    print(f"  {'met ' if x['met'] else 'MISS'}  {x['target']:<34} {x['value']:>10.3f}  (goal {x['goal']})")

env = {k: os.environ.get(k) for k in
       ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_CORETYPE", "OMP_WAIT_POLICY")}
sg = {t: {"openblas_threads": s["openblas_threads"], "reps": s["reps"],
          "square1024_gflops": s["square1024_gflops"], "models": s["models"]}
      for t, s in sgemm.items()}
print(json.dumps({
    "command": command, "quick": quick, "commit": commit,
    "machine": {"cpu": cpu, "cores": int(nproc), "kernel": kernel,
                "load_start": load_start, "load_end": load_end},
    "env": env, "results": rows, "sgemm": sg, "targets": targets,
}, separators=(",", ":")))
EOF
