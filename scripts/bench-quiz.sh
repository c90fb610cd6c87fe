#!/usr/bin/env bash
# Quiz benchmarks: extractive generation time for a 5-page text, and a
# repeated workload's cache hit rate and LLM calls saved (real Postgres and
# Redis on their default local ports, the local LLM fake; never the network).
# Usage: scripts/bench-quiz.sh [runs per difficulty, default 101]
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet -p folio-quiz --example bench_quiz -- "$@"
