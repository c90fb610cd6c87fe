#!/usr/bin/env bash
# Job queue benchmark: no-op jobs through claim -> run -> finish against the
# local Postgres (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres),
# per claim batch size, with one-job-at-a-time as the reference, and the
# enqueue rate. Figures go to docs/benchmarks.md ("Job queue").
#
#   scripts/bench-jobs.sh [JOBS] [RUNS] [BATCHES] [CONCURRENCY]
#   defaults:              20000  3     1,100,500,1000,2000,5000 8
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-20000}
runs=${2:-3}
batches=${3:-1,100,500,1000,2000,5000}
concurrency=${4:-8}
cargo build --release --quiet -p folio-worker-tick --example bench_jobs
target=${CARGO_TARGET_DIR:-target}
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$target/release/examples/bench_jobs" "$jobs" "$runs" "$batches" "$concurrency"
