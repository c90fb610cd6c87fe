#!/usr/bin/env bash
# Runs the whole of folio on this machine without Docker:
#   1. installs what is missing (scripts/install-deps.sh),
#   2. finds or starts Postgres and Redis (scripts/services.sh),
#   3. creates the `folio` database and dev secrets (kept in .local/dev.env),
#   4. builds and starts `folio-local`: all four functions on one port
#      (default 8000, same paths as in production), migrations applied at start,
#      the worker ticker running inside.
# A `.env` file (see .env.example) overrides anything here.
#
# It builds exactly what scripts/test.sh builds (`cargo build --workspace --bins`, dev
# profile, into ~/.cache/folio/target unless CARGO_TARGET_DIR says otherwise), so running
# one command after the other compiles the workspace once. The dev profile is fast enough
# to run: Tesseract and PDFium are C libraries built by their packagers, and the image
# codecs and hashing are optimised even in dev builds (Cargo.toml). FOLIO_DEV_RELEASE=1
# builds and runs the release profile instead (a second, longer build).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash scripts/install-deps.sh
[[ -d $HOME/.cargo/bin ]] && export PATH=$HOME/.cargo/bin:$PATH

user_db=${DATABASE_URL:-}
eval "$(bash scripts/services.sh)"
if [[ -z $user_db ]]; then
  # Our own database on whichever server services.sh found.
  db=${FOLIO_DEV_DB:-folio}
  if ! psql "$DATABASE_URL" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql "$DATABASE_URL" -qc "CREATE DATABASE \"$db\""
  fi
  export DATABASE_URL="${DATABASE_URL%/*}/$db"
fi

mkdir -p .local
if [[ ! -f .local/dev.env ]]; then
  umask 077
  {
    echo "JWT_SECRET_KEY=$(head -c 36 /dev/urandom | base64 | tr -d '/+=')"
    echo "WORKER_TICK_TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  } > .local/dev.env
fi
set -a
# shellcheck disable=SC1091
source .local/dev.env
# shellcheck disable=SC1091
[[ -f .env ]] && source .env
set +a

export AUTO_MIGRATE=${AUTO_MIGRATE:-true}
export OMP_THREAD_LIMIT=1
export LOG_FORMAT=${LOG_FORMAT:-pretty}
export PORT=${PORT:-8000}
[[ -f $HOME/.local/lib/libpdfium.so && ! -f /usr/local/lib/libpdfium.so ]] && export PDFIUM_LIB_PATH=$HOME/.local/lib/libpdfium.so

# One build folder for this script and scripts/test.sh (builds outlive the checkout).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/folio/target}
if [[ ${FOLIO_DEV_RELEASE:-} == 1 ]]; then
  cargo build --release --locked --bin folio-local
  bin=$CARGO_TARGET_DIR/release/folio-local
else
  # The same command and profile as scripts/test.sh: same features, same artefacts.
  cargo build --workspace --bins --locked
  bin=$CARGO_TARGET_DIR/debug/folio-local
fi
token=$("$bin" token "${FOLIO_DEV_USER:-dev-user}")
cat >&2 <<MSG

folio is starting on http://127.0.0.1:$PORT  (Ctrl-C stops it)
  readiness:  curl -s http://127.0.0.1:$PORT/health/ready
  a token for user ${FOLIO_DEV_USER:-dev-user}, valid 24 h (more: $bin token NAME, with .local/dev.env loaded):
  export TOKEN=$token

MSG
exec "$bin"
