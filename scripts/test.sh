#!/usr/bin/env bash
# The whole test suite, the same command CI runs (.ci/run):
#   1. installs what is missing (scripts/install-deps.sh),
#   2. finds or starts Postgres and Redis, and PgBouncer in front of Postgres
#      (scripts/services.sh),
#   3. checks formatting and lints, builds everything, runs every test
#      (unit, integration, end-to-end, compose check) with cargo-nextest,
#   4. runs the OCR, quiz and job-queue tests a second time through PgBouncer
#      (transaction mode, pool of 4, no prepared statements).
#   5. builds and smoke-tests the container image (scripts/test-image.sh --if-changed: only
#      when the image's inputs changed since the last run that passed).
#
# Extra arguments go to nextest (e.g. `scripts/test.sh -E 'test(ocr)'`).
# FOLIO_SKIP_LINT=1 skips fmt and clippy; FOLIO_SKIP_IMAGE=1 skips the image leg;
# FOLIO_SKIP_CHAOS=1 skips the short chaos run and the fuzz targets.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash scripts/install-deps.sh
[[ -d $HOME/.cargo/bin ]] && export PATH=$HOME/.cargo/bin:$PATH
# pip --user tools (cargo-lambda, cfn-lint); install-deps.sh installed them, so the
# tests that drive them must not skip.
export PATH=$PATH:$HOME/.local/bin FOLIO_REQUIRE_TOOLS=1
eval "$(FOLIO_POOLER=1 bash scripts/services.sh)"

export TEST_DATABASE_URL=$DATABASE_URL
export TEST_REDIS_URL=$REDIS_URL
# PgBouncer 1.18 in transaction mode (no prepared statements), for the pooled leg below
# and the tests that need a pooler.
export TEST_POOLER_URL=$POOLER_URL
# Tesseract must be single-threaded per engine before any process starts.
export OMP_THREAD_LIMIT=1
[[ -f $HOME/.local/lib/libpdfium.so && ! -f /usr/local/lib/libpdfium.so ]] && export PDFIUM_LIB_PATH=$HOME/.local/lib/libpdfium.so
# Builds outlive the checkout: CI clones afresh each run.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/folio/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

# Databases left behind by a killed run.
psql "$TEST_DATABASE_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'folio\_test\_%' OR datname LIKE 'folio\_e2e\_%'" 2>/dev/null |
  while read -r db; do psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done

if ! command -v cargo-nextest >/dev/null; then
  echo "test: installing cargo-nextest" >&2
  cargo install --locked cargo-nextest >&2
fi

if [[ ${FOLIO_SKIP_LINT:-} != 1 ]]; then
  cargo fmt --all -- --check
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi
# The end-to-end tests start the real binaries: build them first (cargo builds
# only the tested package's own binaries for its tests).
cargo build --workspace --bins --locked
# The image leg before the tests, so nextest's summary stays the last word. Its stamp is
# under ~/.cache/folio/image, so an unchanged image costs a hash of its inputs only.
if [[ ${FOLIO_SKIP_IMAGE:-} != 1 ]]; then
  bash scripts/test-image.sh --if-changed
fi
# Chaos under load, short (its own Redis and Postgres; scripts/chaos.sh) and every fuzz
# target for a bounded time (scripts/fuzz.sh); only for a whole-suite run.
if [[ $# -eq 0 && ${FOLIO_SKIP_CHAOS:-} != 1 ]]; then
  bash scripts/chaos.sh short
  bash scripts/fuzz.sh
fi
cargo nextest run --workspace --locked --profile ci "$@"

# The pooled leg: the OCR, quiz and job-queue tests again (the crash test among them),
# with every function reaching its database through PgBouncer in transaction mode.
# The tests written for the pooler ran above already.
echo "test: the pooled leg (through PgBouncer, transaction mode)" >&2
FOLIO_TEST_POOLED=1 cargo nextest run --workspace --locked --profile ci \
  -E '(package(folio-ocr) | package(folio-quiz) | package(folio-worker-tick)) & kind(test)' "$@"
