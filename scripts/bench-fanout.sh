#!/usr/bin/env bash
# Fan-out benchmark (figures go to docs/benchmarks.md, "OCR fan-out"): the same
# scanned PDF (PAGES pages at 300 dpi, made by folio's sample generator) as an
# async OCR job, drained by real `worker-tick --every` processes, each with one
# single-threaded engine (OCR_WORKERS=1, OMP_THREAD_LIMIT=1): once as one job on
# one process (the reference), then fanned out in parts of PER_PART pages over
# 1, 2 and 4 processes. Wall time from enqueue to success, the workers' total
# CPU (from /proc), and whether the text equals the one-job text. Then OCRmyPDF
# on the same file with -j 2 (skipped if `ocrmypdf` is missing).
#
#   scripts/bench-fanout.sh [PAGES=40] [PER_PART=8] [RUNS=1]
#
# Needs the local Postgres and Redis (TEST_DATABASE_URL, TEST_REDIS_URL, as
# the tests use), libpdfium.so, Tesseract with eng; PROFILE=dev (default)
# builds folio's own crates at opt-level 3 over debug dependencies,
# PROFILE=release a release build, PROFILE=debug the plain debug build the
# tests use (folio's page preparation unoptimised; Tesseract is the system's).
set -euo pipefail
PAGES=${1:-40}
PER_PART=${2:-8}
RUNS=${3:-1}
OCRMYPDF=${OCRMYPDF:-ocrmypdf}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OMP_THREAD_LIMIT=1
PROFILE=${PROFILE:-dev}
extra=()
[[ $PROFILE == dev ]] && extra=(--config 'profile.dev.package.folio-shared.opt-level=3'
                               --config 'profile.dev.package.folio-worker-tick.opt-level=3')
[[ $PROFILE == debug ]] && PROFILE=dev
cd "$root"
cargo build --quiet --profile "$PROFILE" "${extra[@]}" -p folio-worker-tick --bin worker-tick --example bench_fanout
out=$PROFILE; [[ $PROFILE == dev ]] && out=debug
target=${CARGO_TARGET_DIR:-$root/target}/$out
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$target/examples/bench_fanout" "$target/worker-tick" "$work/scan.pdf" "$PAGES" "$PER_PART" "$RUNS"
if command -v "$OCRMYPDF" >/dev/null 2>&1; then
  echo "OCRmyPDF $("$OCRMYPDF" --version) -j 2 --output-type none --sidecar (same scan):"
  started=$(date +%s%N)
  /usr/bin/env time -f 'ocrmypdf cpu_s %U+%S' "$OCRMYPDF" -j 2 --output-type none -q \
    --sidecar "$work/ocrmypdf.txt" "$work/scan.pdf" - >/dev/null
  echo "ocrmypdf wall_s $(( ($(date +%s%N) - started) / 1000000 ))e-3 pages $PAGES"
else
  echo "ocrmypdf: not installed (pip install ocrmypdf; apt-get install ghostscript)"
fi
