# Helpers of the tests that run documented commands (sourced, not run).

# copy_checkout SRC DST: the checkout's files as they are in the working
# tree (tracked, and untracked ones git does not ignore), without build
# trees: the commands of the docs run in DST, leaving SRC untouched.
copy_checkout() {
  mkdir -p "$2" &&
    (cd "$1" && git ls-files -z --cached --others --exclude-standard |
       tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
    tar -xf - -C "$2"
}

# doc_script DOC SCENARIO: the scenario's commands as one script
# (tests/docs/blocks.py), which stops at the first failing command.
doc_script() {
  local blocks
  blocks=$(dirname "${BASH_SOURCE[0]}")/blocks.py
  printf 'set -euo pipefail\n' &&
    /usr/bin/python3 "$blocks" script "$1" "$2"
}
