#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo-fuzz, libFuzzer) for a bounded time,
# starting from seeds made by the sample generators (`folio-chaos fuzz-seeds`)
# plus the corpus earlier runs kept (~/.cache/folio/fuzz/corpus/<target>).
#
#   scripts/fuzz.sh                 every target, FUZZ_SECONDS (default 20) each
#   scripts/fuzz.sh jwt multipart   only these
#   FUZZ_SECONDS=3600 scripts/fuzz.sh pdf_plan     a long run of one target
#
# Built without a sanitizer (the code under test is safe Rust; libFuzzer's
# coverage is what matters) and with debug assertions, so integer overflow
# panics. A crash leaves its input in fuzz/artifacts/<target>/ and fails the run;
# reproduce it with `RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -a <target> <file>`.
# Targets: sniff image_header pdf_plan multipart upstash_wire jwt.
# Needs: cargo-fuzz (scripts/install-deps.sh), libpdfium (PDFIUM_LIB_PATH or the
# system library path) for pdf_plan.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-20}
all=(sniff image_header pdf_plan multipart upstash_wire jwt)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")
cache=${FOLIO_CACHE:-$HOME/.cache/folio}/fuzz
fuzz_target_dir=${FUZZ_TARGET_DIR:-$cache/target}
log() { printf 'fuzz: %s\n' "$*" >&2; }
command -v cargo-fuzz >/dev/null || { log "cargo-fuzz is missing (scripts/install-deps.sh)"; exit 1; }
if [[ -z ${PDFIUM_LIB_PATH:-} && ! -f /usr/local/lib/libpdfium.so && -f $HOME/.local/lib/libpdfium.so ]]; then
  export PDFIUM_LIB_PATH=$HOME/.local/lib/libpdfium.so
fi

export RUSTC_BOOTSTRAP=1
log "building the targets (release, debug assertions, no sanitizer)"
cargo fuzz build -s none -a --target-dir "$fuzz_target_dir" >&2

log "making seeds"
cargo build --quiet -p folio-e2e --bin folio-chaos
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
"${CARGO_TARGET_DIR:-$root/target}/debug/folio-chaos" fuzz-seeds "$seeds"

failed=()
for target in "${targets[@]}"; do
  corpus=$cache/corpus/$target
  mkdir -p "$corpus" "fuzz/artifacts/$target"
  log "$target: ${seconds}s"
  # -rss_limit_mb bounds memory per input; -timeout flags an input over 10 s as a hang.
  if ! cargo fuzz run -s none -a --target-dir "$fuzz_target_dir" "$target" "$corpus" "$seeds/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      >"$seeds/$target.log" 2>&1; then
    failed+=("$target")
    tail -40 "$seeds/$target.log" >&2
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' "$seeds/$target.log" |
    sed "s/^/fuzz: $target: /" >&2 || true
done
if ((${#failed[@]})); then
  log "FAILED: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
log "all targets ran ${seconds}s without a crash"
