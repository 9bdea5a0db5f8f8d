# idx_fixture.sh - sourced by the example tests: write_idx PATH KIND COUNT
# [SIDE] writes a small synthetic IDX file of SIDE x SIDE images (KIND 3;
# SIDE 28 by default) or labels (KIND 1); write_idx_dir DIR NTRAIN NTEST
# [SIDE] a directory of both splits.

# IDX file: magic, counts, then bytes from a fixed pattern (so the images
# differ from each other and from run to run of nothing): black, white and
# one grey level, which the binarisation tests need.
be32() { # big-endian 32-bit integer
  local v=$1
  # The inner printf spells the bytes as \xHH escapes, the outer one emits
  # them (a NUL included).
  printf "$(printf '\\x%02x' $((v >> 24 & 255)) $((v >> 16 & 255)) \
    $((v >> 8 & 255)) $((v & 255)))"
}
write_idx() { # path kind(3|1) count [side]
  local path=$1 kind=$2 count=$3 side=${4:-28}
  {
    be32 $((0x800 + kind))
    be32 "$count"
    if [[ $kind == 3 ]]; then
      be32 "$side"
      be32 "$side"
      LC_ALL=C awk -v n=$((count * side * side)) 'BEGIN {
        s = 7; for (i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648;
        v = int(s / 65536) % 4; printf "%c", v == 0 ? 255 : v == 1 ? 100 : 0 } }'
    else
      LC_ALL=C awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++) printf "%c", i % 10 }'
    fi
  } > "$path"
}
write_idx_dir() { # dir ntrain ntest [side]
  mkdir -p "$1"
  write_idx "$1/train-images-idx3-ubyte" 3 "$2" "${4:-28}"
  write_idx "$1/train-labels-idx1-ubyte" 1 "$2"
  write_idx "$1/t10k-images-idx3-ubyte" 3 "$3" "${4:-28}"
  write_idx "$1/t10k-labels-idx1-ubyte" 1 "$3"
}
