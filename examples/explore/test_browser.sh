#!/usr/bin/env bash
# test_browser.sh VAE_EXPLORE VAE_IMAGE VAE_TEXT - the explorer's page in a
# real browser: Debian's chromium, headless, driven by npm playwright-core
# (pinned below, installed into the data cache; it downloads no browser).
# Trains a tiny image model and a tiny sentence model, serves each with
# vae-explore on an ephemeral loopback port, runs browser_check.cjs and
# stops the server with SIGTERM, which must end it with status 0.
# Without chromium, node or the npm package this skips (exit 77), except
# under CI=true, where it fails: CI installs chromium (install-deps.sh).
# Environment: VAE_EXPLORE_SHOTS=DIR keeps the screenshots there;
# VAE_EXPLORE_IMAGE="MODEL DIR" and VAE_EXPLORE_TEXT="MODEL KIND PATH" use
# real models instead of the tiny ones (docs/explore.md's screenshots).
set -uo pipefail
explore=$1 image=$2 text=$3
here=$(cd "$(dirname "$0")" && pwd)
playwright_version=1.61.1
tmp=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill -TERM "$pid" 2> /dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

unavailable() {
  if [[ ${CI:-} == true ]]; then
    echo "FAIL: $1; CI must run the browser test"
    exit 1
  fi
  echo "SKIP: $1"
  exit 77
}
chromium=${CHROMIUM:-$(command -v chromium || true)}
[[ -n $chromium && -x $chromium ]] ||
  unavailable "chromium is not installed (apt-get install chromium)"
command -v node > /dev/null && command -v npm > /dev/null ||
  unavailable "node and npm are not installed"
cache=${VAE_DATA:-$HOME/.cache/libvae}/npm
pkg=$cache/playwright-core-$playwright_version
if [[ ! -f $pkg/node_modules/playwright-core/package.json ]]; then
  mkdir -p "$cache"
  staging=$(mktemp -d "$cache/.install.XXXXXX")
  if ! npm install --prefix "$staging" --no-audit --no-fund --loglevel=error \
       "playwright-core@$playwright_version" > "$tmp/npm.log" 2>&1; then
    rm -rf "$staging"
    unavailable "npm could not install playwright-core@$playwright_version: $(tail -n 3 "$tmp/npm.log")"
  fi
  # Another run may have finished first; its copy is as good.
  mv -T "$staging" "$pkg" 2> /dev/null || rm -rf "$staging"
fi
export NODE_PATH=$pkg/node_modules CHROMIUM=$chromium
shots=${VAE_EXPLORE_SHOTS:-$tmp}

# ---- models ----
if [[ -n ${VAE_EXPLORE_IMAGE:-} ]]; then
  read -r image_model image_data <<< "$VAE_EXPLORE_IMAGE"
else
  # shellcheck source=../image/idx_fixture.sh
  source "$here/../image/idx_fixture.sh"
  write_idx_dir "$tmp/idx" 64 60
  image_model=$tmp/image.vae image_data=$tmp/idx
  "$image" train --data "$image_data" --epochs 1 --batch 32 --latent 4 \
    --progress 0 --out "$image_model" > /dev/null 2>&1 || bad "training the image model"
fi
if [[ -n ${VAE_EXPLORE_TEXT:-} ]]; then
  read -r text_model text_kind text_data <<< "$VAE_EXPLORE_TEXT"
else
  words=(the a cat dog bird sees likes finds big small red old today again)
  for ((i = 0; i < 300; i++)); do
    line=""
    for ((j = 0; j < 2 + i % 7; j++)); do line+="${words[(i * 7 + j * 5) % 14]} "; done
    echo "$line."
  done > "$tmp/corpus.txt"
  text_model=$tmp/text.vae text_kind=lines text_data=$tmp/corpus.txt
  # A word vocabulary: a subword model needs at least 300 ids (the API
  # test serves one).
  "$text" train --corpus lines --data "$text_data" --tokenizer words \
    --embed 16 --hidden 16 --latent 4 --vocab 40 --maxlen 12 --epochs 1 \
    --progress 0 \
    --out "$text_model" > /dev/null 2>&1 || bad "training the text model"
fi

# serve KIND ARGS...: starts vae-explore, waits for its URL, runs the
# browser, stops the server with SIGTERM.
# The server prints its URL only once it listens (after
# explore_server_start), so the line is the signal to connect. Each server
# gets its own output files, made empty here before it starts: the shell
# opens a background job's redirections in the child, so a file shared with
# the previous server could still hold that (stopped) server's URL when the
# first look below runs.
serve() {
  local kind=$1 url='' status deadline=$((SECONDS + 120))
  local out=$tmp/$kind.out err=$tmp/$kind.err
  shift
  : > "$out"
  : > "$err"
  "$explore" --port 0 --bind 127.0.0.1 "$@" > "$out" 2> "$err" &
  pid=$!
  while ((SECONDS < deadline)); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$out")
    [[ -n $url ]] && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  if [[ -z $url ]]; then
    kill -TERM "$pid" 2> /dev/null
    wait "$pid"
    status=$?
    pid=
    bad "$kind: vae-explore gave no URL in 120 s (exit $status): $(cat "$err")"
    return
  fi
  if timeout 180 node "$here/browser_check.cjs" "$url" "$kind" "$shots/explore-$kind.png"; then
    ok "$kind: the page in chromium ($shots/explore-$kind.png)"
  else
    bad "$kind: the page in chromium"
  fi
  kill -TERM "$pid"
  wait "$pid"
  status=$?
  pid=
  if [[ $status == 0 ]] && grep -q 'SIGTERM, stopping' "$err"; then
    ok "$kind: SIGTERM stops the server cleanly"
  else
    bad "$kind: SIGTERM: exit $status, $(cat "$err")"
  fi
}
serve image --model "$image_model" --data "$image_data"
serve text --model "$text_model" --corpus "$text_kind" --data "$text_data"

echo "$passed passed, $failed failed"
((failed == 0))
