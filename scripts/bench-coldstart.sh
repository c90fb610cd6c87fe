#!/usr/bin/env bash
# Cold start of each function binary: exec → first 200 on GET /health, and
# peak RSS at that moment, median of N runs (default 15), release builds.
#   scripts/bench-coldstart.sh [RUNS]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
runs=${1:-15}
[[ -d $HOME/.cargo/bin ]] && export PATH=$HOME/.cargo/bin:$PATH
eval "$(bash scripts/services.sh)"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked --bins >&2
bin=$CARGO_TARGET_DIR/release
# Each binary gets a complete configuration (it validates before binding), but
# /health touches no dependency.
export JWT_SECRET_KEY=bench-secret-bench-secret-bench-secret
export WORKER_TICK_TOKEN=bench-tick-token-123
export OMP_THREAD_LIMIT=1 RUST_LOG=warn
echo "cold start, $(getconf _NPROCESSORS_ONLN) cores, $(date -u +%Y-%m-%d), load average $(cut -d" " -f1 /proc/loadavg)"
"$bin/folio-coldstart" --runs "$runs" "$bin/health" "$bin/ocr" "$bin/quiz" "$bin/worker-tick"
