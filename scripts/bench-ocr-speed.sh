#!/usr/bin/env bash
# CPU per page of scanned documents: folio beside `pdftoppm -r 300` + the
# `tesseract` CLI, in one run on the same files (figures go to
# docs/benchmarks.md, "OCR: CPU per scanned page").
#   documents (ocr_speed make): full letter pages of prose in Times, scanned
#             (skewed 0.3 degrees, sensor noise, JPEG q75), one image per PDF page:
#             dense-300/-200/-400  10.5 pt on 12.5 pt (~4,600 characters a page), PAGES pages at 300/200/400 dpi
#             small-300            7.5 pt on 9 pt, 2 pages at 300 dpi
#             specks-300           dense, 300 dpi, 120 specks of dust per page
#             plus folio's real-capture set (capture_bench; folio only)
#   folio:    its engine in-process (ocr_speed read: one process per document, two
#             workers, OMP_THREAD_LIMIT=1, engines warmed before the clock), the
#             process's own CPU time from /proc/self/stat and its peak RSS (VmHWM);
#             "sizing off" is the same with FOLIO_BENCH_SIZING=off (no x-height
#             reduction, no speck removal: the pipeline before this benchmark).
#   CLI:      pdftoppm -r 300 -gray + tesseract per page, two pages at once,
#             OMP_THREAD_LIMIT=1; CPU (user + system) and peak RSS from GNU time.
# CER: edit distance over the known text's length (shared::ocr::cer), summed over
# pages. Each figure is the median of RUNS runs.
#
#   scripts/bench-ocr-speed.sh     PAGES=20 RUNS=3 by default; PROFILE=release for a release build
#
# Needs: cargo, pdftoppm (poppler-utils), tesseract + tesseract-ocr-eng, GNU time,
# libpdfium.so.
set -euo pipefail

PAGES=${PAGES:-20}
RUNS=${RUNS:-3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/folio-target}
export OMP_THREAD_LIMIT=1 OCR_WORKERS=${OCR_WORKERS:-2}

die() { printf 'bench-ocr-speed: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench-ocr-speed: %s\n' "$*" >&2; }
for tool in cargo pdftoppm tesseract /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
done

# PROFILE=dev (the default) reuses a debug build's dependencies with folio's own
# crates at opt-level 3: the time is Tesseract's (a C library) either way.
PROFILE=${PROFILE:-dev}
extra=()
[[ $PROFILE == dev ]] && extra=(--config 'profile.dev.package.folio-shared.opt-level=3'
                               --config 'profile.dev.package.folio-ocr.opt-level=3')
log "building ($PROFILE)"
(cd "$root" && cargo build --quiet --locked --profile "$PROFILE" "${extra[@]}" -p folio-ocr --example ocr_speed --example capture_bench)
out=$PROFILE; [[ $PROFILE == dev ]] && out=debug
speed=$CARGO_TARGET_DIR/$out/examples/ocr_speed
captures=$CARGO_TARGET_DIR/$out/examples/capture_bench

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results
: >"$results"

log "making the documents ($PAGES pages each)"
"$speed" make "$work" "$PAGES"
docs=(dense-300 dense-200 dense-400 small-300 specks-300)

for run in $(seq 1 "$RUNS"); do
  for doc in "${docs[@]}"; do
    log "run $run/$RUNS: $doc"
    read -r pages cpu wall rss edits chars < <("$speed" read "$work/$doc.pdf")
    printf '%s folio %s %s %s %s %s\n' "$doc" "$pages" "$cpu" "$rss" "$edits" "$chars" >>"$results"
    read -r pages cpu wall rss edits chars < <(FOLIO_BENCH_SIZING=off "$speed" read "$work/$doc.pdf")
    printf '%s off %s %s %s %s %s\n' "$doc" "$pages" "$cpu" "$rss" "$edits" "$chars" >>"$results"
    rm -rf "$work/cli" && mkdir "$work/cli"
    /usr/bin/time -f '%U %S %M' -o "$work/time" bash -c "
      seq 1 $pages | xargs -P2 -I{} sh -c '
        pdftoppm -r 300 -gray -f {} -l {} -singlefile \"$work/$doc.pdf\" \"$work/cli/p-\$(printf %04d {})\" &&
        tesseract \"$work/cli/p-\$(printf %04d {}).pgm\" \"$work/cli/p-\$(printf %04d {})\" >/dev/null 2>&1'"
    read -r user sys rss <"$work/time"
    read -r edits chars < <("$speed" cer "$work/$doc.json" "$work"/cli/p-*.txt)
    printf '%s cli %s %s %s %s %s\n' "$doc" "$pages" "$(echo "$user + $sys" | bc)" "$rss" "$edits" "$chars" >>"$results"
  done
  log "run $run/$RUNS: real captures"
  rm -rf "$work/captures"
  "$captures" make "$work/captures" "$((run - 1))" >/dev/null
  for flag in on off; do
    env_sizing=(); [[ $flag == off ]] && env_sizing=(FOLIO_BENCH_SIZING=off)
    cpu0=$(date +%s.%N)
    env "${env_sizing[@]}" /usr/bin/time -f '%U %S %M' -o "$work/time" "$captures" read "$work/captures" >"$work/captures.out"
    read -r user sys rss <"$work/time"
    n=$(grep -vc '^wall_ms' "$work/captures.out")
    edits=$(awk '$1 != "wall_ms" {e += $2} END {print e}' "$work/captures.out")
    chars=$(awk '$1 != "wall_ms" {c += $3} END {print c}' "$work/captures.out")
    name=folio; [[ $flag == off ]] && name=off
    printf 'captures %s %s %s %s %s %s\n' "$name" "$n" "$(echo "$user + $sys" | bc)" "$rss" "$edits" "$chars" >>"$results"
    : "$cpu0"
  done
done

printf '\nMachine: %s, %s cores, load average %s; %s; %s\n\n' \
  "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" "$(nproc --all)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(tesseract --version 2>&1 | head -1)" "$(pdftoppm -v 2>&1 | head -1)"
printf '| document | pages | folio CPU-s/page | sizing off | CLI | folio CER | sizing off | CLI | folio peak RSS | CLI peak RSS |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for doc in "${docs[@]}" captures; do
  row="| $doc"
  median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
  pages=$(awk -v d="$doc" '$1 == d {print $3; exit}' "$results")
  row+=" | $pages"
  for who in folio off cli; do
    v=$(awk -v d="$doc" -v w="$who" '$1 == d && $2 == w {printf "%.3f\n", $4 / $3}' "$results" | median)
    row+=" | ${v:--}"
  done
  for who in folio off cli; do
    v=$(awk -v d="$doc" -v w="$who" '$1 == d && $2 == w {printf "%.2f\n", 100 * $6 / $7}' "$results" | median)
    row+=" | ${v:+$v %}"
    [[ -z $v ]] && row+="-"
  done
  for who in folio cli; do
    v=$(awk -v d="$doc" -v w="$who" '$1 == d && $2 == w {printf "%.0f\n", $5 / 1024}' "$results" | median)
    row+=" | ${v:+$v MB}"
    [[ -z $v ]] && row+="-"
  done
  printf '%s |\n' "$row"
done
printf '\nRaw lines (document, who, pages, CPU-s, peak RSS KB, edits, characters):\n'
cat "$results"
