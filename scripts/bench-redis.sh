#!/usr/bin/env bash
# Redis-layer benchmark: rate-limit checks/s and cache hits/s beside
# `redis-benchmark -t get` on the same server in the same run, round trips per
# check, REST (through the local emulator) against TCP per command, and a
# 10-command pipeline against 10 sequential commands.
#
#   scripts/bench-redis.sh [rounds] [seconds-per-measure] [concurrency]
#
# Needs a Redis at REDIS_URL (default redis://127.0.0.1:6379) and
# redis-benchmark (Debian: redis-tools). Prints a markdown table for
# docs/benchmarks.md. Bounded: rounds x 3 measures x seconds, plus
# redis-benchmark and ~5 s of latency samples.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
seconds="${2:-2}"
concurrency="${3:-50}"
command -v redis-benchmark >/dev/null || { echo "redis-benchmark is missing (apt-get install redis-tools)" >&2; exit 1; }
cargo build --release -q -p folio-shared --example bench_redis
target="${CARGO_TARGET_DIR:-target}"
echo "## Redis layer ($(date -u +%Y-%m-%d), $(redis-server --version | awk '{print $3}'), $(nproc) cores)"
echo
echo "Command: \`scripts/bench-redis.sh $rounds $seconds $concurrency\`"
echo
"$target/release/examples/bench_redis" "$rounds" "$seconds" "$concurrency"
