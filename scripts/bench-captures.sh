#!/usr/bin/env bash
# Real-capture benchmark: folio beside OCRmyPDF, in one run on the same files
# (figures go to docs/benchmarks.md, "Real captures").
#   set:      SETS sets (default 3) of every capture kind made by folio's own
#             generator (`capture_bench make`): EXIF-rotated phone photos,
#             upside-down and sideways scans (with and without /Rotate), scans
#             skewed 2/4/6 degrees, a shadowed low-contrast photo, a 150 dpi
#             bilevel fax, an Indonesian scan; each with its known text.
#   folio:    its OCR engine in-process (release build), default options, the
#             capture's language; two workers.
#   OCRmyPDF: `--rotate-pages --deskew --sidecar F --output-type none`, the same
#             language, images given their dpi; two files at once.
# CER is per capture kind over all sets (whitespace runs count as one space);
# wall time is for one whole set (11 captures) at a time, median over the sets.
#
#   scripts/bench-captures.sh        SETS=3 by default; PROFILE=dev: see below
#
# Needs: cargo, ocrmypdf (PyPI `ocrmypdf`; OCRMYPDF=path to use another), Debian
# ghostscript, tesseract with eng, ind and osd, libpdfium.so.
set -euo pipefail

SETS=${SETS:-3}
OCRMYPDF=${OCRMYPDF:-ocrmypdf}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/folio-target}
export OMP_THREAD_LIMIT=1 OCR_WORKERS=${OCR_WORKERS:-2}

die() { printf 'bench-captures: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench-captures: %s\n' "$*" >&2; }
command -v "$OCRMYPDF" >/dev/null 2>&1 || die "ocrmypdf is missing (pip install ocrmypdf; apt-get install ghostscript)"
command -v gs >/dev/null 2>&1 || die "ghostscript is missing (apt-get install ghostscript)"

# PROFILE=dev reuses a debug build's dependencies (no release build of the whole
# tree) with folio's own crates optimised (opt-level 3); folio's time is then close
# to a release build's (the C libraries, Tesseract above all, are the same either way).
PROFILE=${PROFILE:-release}
extra=()
[[ $PROFILE == dev ]] && extra=(--config 'profile.dev.package.folio-shared.opt-level=3'
                               --config 'profile.dev.package.folio-ocr.opt-level=3')
log "building ($PROFILE)"
(cd "$root" && cargo build --quiet --locked --profile "$PROFILE" "${extra[@]}" ${CARGO_BUILD_TARGET:+--target "$CARGO_BUILD_TARGET"} -p folio-ocr --example capture_bench)
out=$PROFILE; [[ $PROFILE == dev ]] && out=debug
tool=$CARGO_TARGET_DIR/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}$out/examples/capture_bench

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results.tsv
: >"$results"

for set in $(seq 0 $((SETS - 1))); do
  dir=$work/set$set
  "$tool" make "$dir" "$set"

  log "set $set: folio"
  "$tool" read "$dir" | while IFS=$'\t' read -r name edits chars ms; do
    if [[ $name == wall_ms ]]; then
      printf 'wall\tfolio\t%s\n' "$edits" >>"$results"
    else
      printf 'cer\tfolio\t%s\t%s\t%s\n' "${name#s*-}" "$edits" "$chars" >>"$results"
    fi
  done

  log "set $set: OCRmyPDF"
  started=$(date +%s%N)
  for file in "$dir"/*.pdf "$dir"/*.jpg "$dir"/*.png; do
    [[ -e $file ]] || continue
    read -r lang dpi _ <"${file%.*}.meta"
    args=(--rotate-pages --deskew -l "$lang" --sidecar "${file%.*}.ocrmypdf.txt" --output-type none -q)
    [[ $file == *.pdf ]] || args+=(--image-dpi "$dpi")
    "$OCRMYPDF" "${args[@]}" "$file" - >/dev/null 2>"${file%.*}.ocrmypdf.log" &
    while (( $(jobs -rp | wc -l) >= 2 )); do wait -n; done
  done
  wait
  printf 'wall\tocrmypdf\t%s\n' $(( ($(date +%s%N) - started) / 1000000 )) >>"$results"
  for file in "$dir"/*.txt; do
    [[ $file == *.ocrmypdf.txt ]] && continue
    name=$(basename "${file%.txt}")
    read -r edits chars < <("$tool" cer "$file" "${file%.txt}.ocrmypdf.txt")
    printf 'cer\tocrmypdf\t%s\t%s\t%s\n' "${name#s*-}" "$edits" "$chars" >>"$results"
  done
done

log "preparation cost per 300 dpi page (median of 5): kind, look ms, all ms"
"$tool" cost | sed 's/^/  /' >&2

python3 - "$results" "$SETS" <<'PY'
import sys, statistics, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
cer = collections.defaultdict(lambda: [0, 0])
wall = collections.defaultdict(list)
for r in rows:
    if r[0] == "cer":
        cer[(r[2], r[1])][0] += int(r[3]); cer[(r[2], r[1])][1] += int(r[4])
    else:
        wall[r[1]].append(int(r[2]))
kinds = sorted({k for k, _ in cer})
print(f"\nCER per capture kind over {sys.argv[2]} set(s):\n")
print("| capture | folio | OCRmyPDF |\n|---|---|---|")
for k in kinds:
    f = cer[(k, "folio")]; o = cer[(k, "ocrmypdf")]
    print(f"| {k} | {100*f[0]/max(f[1],1):.1f} % | {100*o[0]/max(o[1],1):.1f} % |")
fm, om = statistics.median(wall["folio"]), statistics.median(wall["ocrmypdf"])
print(f"\nWall time per 11-capture set, median of {len(wall['folio'])}: folio {fm/1000:.1f} s, "
      f"OCRmyPDF {om/1000:.1f} s, ratio {fm/om:.2f}x")
PY
