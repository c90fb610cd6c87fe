#!/usr/bin/env bash
# Benchmark of the `ocr` function against the reference pipeline, in one run on
# the same files (figures go to docs/benchmarks.md):
#   folio:      a 20-page scanned PDF (300 dpi) end to end through the HTTP API
#               (release build, real Postgres and Redis), then the same bytes
#               again (cache hit), and a 200-page text-layer PDF;
#   reference:  Poppler `pdftoppm -r 300 -gray` then the `tesseract` CLI per page,
#               (a) one page after another with Tesseract's default threading, as
#               the seeds run it, and (b) tuned: two pages at once, OMP_THREAD_LIMIT=1.
# Every run uses documents of its own, so only the deliberate repeat hits a cache.
# The server runs with OCR_SYNC_MAX_PAGES=200 (answer the whole scan in the request)
# and OCR_MAX_BYTES=64 MiB (the noisy 300-dpi scans are about 15 MB).
#
#   scripts/bench-ocr.sh            RUNS=3 by default; medians are reported
#
# Needs: cargo, curl, psql, pdftoppm (poppler-utils), tesseract + tesseract-ocr-eng,
# GNU time (/usr/bin/time), libpdfium.so (scripts/fetch-pdfium.sh /usr/local/lib),
# Postgres and Redis on their usual local ports (DATABASE_ADMIN_URL, REDIS_URL).
set -euo pipefail

RUNS=${RUNS:-3}
PORT=${BENCH_PORT:-18181}
ADMIN_URL=${DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/folio-target}

die() { printf 'bench-ocr: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench-ocr: %s\n' "$*" >&2; }
for tool in cargo curl psql pdftoppm tesseract /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
done

log "building (release)"
(cd "$root" && cargo build --quiet --release -p folio-ocr --bin ocr --example ocr_bench)
bin=$CARGO_TARGET_DIR/release
tool=$bin/examples/ocr_bench

work=$(mktemp -d)
db=folio_bench_$$
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

log "making $RUNS set(s) of documents in $work"
"$tool" make "$work" "$RUNS"

psql -q "$ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
database_url=$(printf '%s' "$ADMIN_URL" | sed "s#/[^/]*\$#/$db#")
secret=bench-secret-bench-secret-bench-secret
env -i PATH="$PATH" HOME="$HOME" \
  DATABASE_URL="$database_url" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="bench:$$:" \
  JWT_SECRET_KEY="$secret" AUTO_MIGRATE=true PORT="$PORT" RUST_LOG=warn \
  OMP_THREAD_LIMIT=1 OCR_SYNC_MAX_PAGES=200 OCR_MAX_BYTES=67108864 REQUEST_TIMEOUT_SECS=600 \
  ${PDFIUM_LIB_PATH:+PDFIUM_LIB_PATH="$PDFIUM_LIB_PATH"} \
  "$bin/ocr" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$work/server.log" >&2; die "the server did not start"; }
token=$("$tool" token "$secret" bench)
ticks=$(getconf CLK_TCK)

results=$work/results.txt
record() { printf '%s %s\n' "$1" "$2" >>"$results"; }
# CPU seconds used so far by the server (user + system).
server_cpu() { awk -v t="$ticks" '{printf "%.3f", ($14 + $15) / t}' "/proc/$server/stat"; }
# post FILE ANSWER: sets $status and $seconds
post() {
  local out
  out=$(curl -sS -o "$2" -w '%{http_code} %{time_total}' -H "authorization: Bearer $token" \
    -H 'content-type: application/pdf' --data-binary @"$1" "http://127.0.0.1:$PORT/v1/ocr?mode=sync")
  status=${out% *}
  seconds=${out#* }
}
# timed OUT COMMAND... : wall, CPU and peak RSS of a shell pipeline into OUT
timed() {
  local out=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$out" bash -c "$*"
}

record scanned_pages 20
record text_pages 200
for run in $(seq 0 $((RUNS - 1))); do
  pdf=$work/scanned-$run.pdf
  known=$work/scanned-$run.json
  log "run $((run + 1))/$RUNS: folio, 20 scanned pages"
  before=$(server_cpu)
  post "$pdf" "$work/answer.json"
  after=$(server_cpu)
  [[ $status == 200 ]] || { cat "$work/answer.json" >&2; die "folio answered $status"; }
  record ours_scanned_s "$seconds"
  record ours_scanned_cpu_s "$(echo "$after - $before" | bc)"
  record ours_cer "$("$tool" cer-answer "$known" "$work/answer.json")"

  post "$pdf" "$work/again.json"
  [[ $status == 200 ]] && grep -q '"cached":true' "$work/again.json" || die "the repeat was not a cache hit"
  record ours_repeat_s "$seconds"

  log "run $((run + 1))/$RUNS: reference as the seeds run it (sequential, OpenMP default)"
  rm -rf "$work/seq" && mkdir "$work/seq"
  timed "$work/time-seq" "env -u OMP_THREAD_LIMIT bash -c '
    pdftoppm -r 300 -gray \"$pdf\" \"$work/seq/p\"
    for page in \"$work\"/seq/p-*.pgm; do tesseract \"\$page\" \"\${page%.pgm}\" >/dev/null 2>&1; done'"
  read -r wall user sys rss <"$work/time-seq"
  record ref_seq_s "$wall"
  record ref_seq_cpu_s "$(echo "$user + $sys" | bc)"
  record ref_seq_rss_kb "$rss"
  record ref_seq_cer "$("$tool" cer-files "$known" "$work"/seq/p-*.txt)"

  log "run $((run + 1))/$RUNS: reference tuned (two pages at once, OMP_THREAD_LIMIT=1)"
  rm -rf "$work/par" && mkdir "$work/par"
  timed "$work/time-par" "seq -w 1 20 | OMP_THREAD_LIMIT=1 xargs -P2 -I{} sh -c '
    pdftoppm -r 300 -gray -f {} -l {} -singlefile \"$pdf\" \"$work/par/p-{}\" &&
    tesseract \"$work/par/p-{}.pgm\" \"$work/par/p-{}\" >/dev/null 2>&1'"
  read -r wall user sys rss <"$work/time-par"
  record ref_par_s "$wall"
  record ref_par_cpu_s "$(echo "$user + $sys" | bc)"
  record ref_par_rss_kb "$rss"
  record ref_par_cer "$("$tool" cer-files "$known" "$work"/par/p-*.txt)"
done
record ours_rss_kb "$(awk '/VmHWM/ {print $2}' "/proc/$server/status")"

for run in $(seq 0 $((RUNS - 1))); do
  log "text layer, run $((run + 1))/$RUNS: 200 pages"
  post "$work/text-$run.pdf" "$work/text.json"
  [[ $status == 200 ]] || { cat "$work/text.json" >&2; die "folio answered $status"; }
  record text_s "$seconds"
  record text_cer "$("$tool" cer-answer "$work/text-$run.json" "$work/text.json")"
done

printf '\n'
printf 'Machine: %s, %s cores; %s; %s\n\n' \
  "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" "$(nproc)" \
  "$(tesseract --version 2>&1 | head -1)" "$(pdftoppm -v 2>&1 | head -1)"
"$tool" summary "$results"
