#!/usr/bin/env bash
# PDF latency isolation: p50/p99 of small text PDFs posted one at a time to
# the real `ocr` binary, idle and while two clients keep posting pathological
# PDFs (nested forms that take PDFium seconds to draw), with PDF work in the
# serving process (OCR_PDF_WORKERS=0) and in worker processes; one run, side
# by side.
#   scripts/bench-pdf-isolation.sh [--small N] [--depth D] [--fanout F] [--workers W]
# PROFILE=release builds optimised binaries first (default: the dev build,
# whose PDFium and Tesseract are the same optimised libraries).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[[ -d $HOME/.cargo/bin ]] && export PATH=$HOME/.cargo/bin:$PATH
eval "$(bash scripts/services.sh)"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
profile=${PROFILE:-dev}
dir=debug
flags=()
if [[ $profile == release ]]; then flags=(--release); dir=release; fi
cargo build "${flags[@]}" -p folio-ocr --bin ocr -p folio-e2e --bin folio-bench-pdf-isolation >&2
# A database of the bench's own, dropped at the end; migrations applied by the binary.
admin_url=${DATABASE_ADMIN_URL:-${TEST_DATABASE_URL:-$DATABASE_URL}}
db=folio_bench_isolation_$$
psql -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null
trap 'psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
export DATABASE_URL
DATABASE_URL=$(printf '%s' "$admin_url" | sed "s#/[^/]*\$#/$db#")
export AUTO_MIGRATE=true REDIS_KEY_PREFIX="bench-isolation:$$:"
export JWT_SECRET_KEY=bench-secret-bench-secret-bench-secret
export WORKER_TICK_TOKEN=bench-tick-token-123
export OMP_THREAD_LIMIT=1 RUST_LOG=warn OCR_WORKERS=${OCR_WORKERS:-2}
echo "PDF isolation, $profile build, $(getconf _NPROCESSORS_ONLN) cores, OCR_WORKERS=$OCR_WORKERS, $(date -u +%Y-%m-%d), load average $(cut -d" " -f1 /proc/loadavg)"
"$CARGO_TARGET_DIR/$dir/folio-bench-pdf-isolation" "$@"
