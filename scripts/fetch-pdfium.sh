#!/usr/bin/env bash
# Install libpdfium.so into DEST_DIR (used by Dockerfile.cloudrun and the local scripts).
#
#   scripts/fetch-pdfium.sh DEST_DIR
#
# PDFium has no Debian package. The pypdfium2 wheel on PyPI carries a prebuilt
# libpdfium.so that needs only glibc, so we take that one file out of a pinned wheel.
# pypdfium2 5.15.2 is PDFium build 8149: it binds with pdfium-render's `pdfium_8125`
# feature. Bumping the version means updating all four hashes below and checking that
# feature again (binding fails at start if the feature is newer than the library).
#
# Idempotent: when DEST_DIR/libpdfium.so already has the pinned sha256, nothing happens.
# pip is only used to download (never to install), so PEP 668 does not get in the way;
# PIP_INDEX_URL and the other PIP_* variables are honoured for mirrors.
set -euo pipefail

PYPDFIUM2_VERSION=5.15.2

die() { printf 'fetch-pdfium: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'fetch-pdfium: %s\n' "$*" >&2; }

[[ $# -eq 1 && -n $1 ]] || die "usage: $0 DEST_DIR"
dest=$1

[[ $(uname -s) == Linux ]] || die "libpdfium.so from the pypdfium2 wheel is for Linux only (this is $(uname -s))"

# Hashes of the wheels as published on PyPI, and of the library inside each.
case "$(uname -m)" in
  x86_64 | amd64)
    platform=manylinux_2_17_x86_64
    wheel_sha256=dc31aea5b0fb9fefc9b537a65f4113980b2c40798445736a7e6565bc85161e37
    lib_sha256=c76dc0f7839644bfa7c3e3107a6068df714e339c861bb7d4519907b821d427f9
    ;;
  aarch64 | arm64)
    platform=manylinux_2_17_aarch64
    wheel_sha256=dd46e93c0c3a73f6cea8489baff6d77a5d0759dd53fbbce0aeb49c91830176fc
    lib_sha256=4378615ad9710397c96c112611be9018629bbfe38805d91a2663a534b99c28ca
    ;;
  *) die "no pinned pypdfium2 wheel for architecture $(uname -m) (supported: x86_64, aarch64)" ;;
esac

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  fi
}

target=$dest/libpdfium.so
if [[ -f $target ]] && [[ $(sha256_of "$target") == "$lib_sha256" ]]; then
  log "already installed: $target (pypdfium2 $PYPDFIUM2_VERSION, $platform)"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 is required (Debian/Ubuntu: apt-get install -y python3-pip)"
if ! python3 -m pip --version >/dev/null 2>&1; then
  if [[ -r /etc/debian_version ]]; then
    die "pip is missing for python3: on Debian/Ubuntu run 'apt-get install -y python3-pip' (as root)"
  fi
  die "pip is missing for python3: install pip (e.g. 'python3 -m ensurepip --user')"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

log "downloading pypdfium2 $PYPDFIUM2_VERSION for $platform"
# --python-version only narrows pip's search; the wheel itself is py3-none-<platform>.
python3 -m pip download --quiet --no-deps --only-binary=:all: \
  --platform "$platform" --python-version 3.11 \
  --dest "$tmp" "pypdfium2==$PYPDFIUM2_VERSION" >&2 \
  || die "pip could not download pypdfium2==$PYPDFIUM2_VERSION (network, proxy or index settings?)"

shopt -s nullglob
wheels=("$tmp"/pypdfium2-"$PYPDFIUM2_VERSION"-*"$platform"*.whl)
shopt -u nullglob
[[ ${#wheels[@]} -eq 1 ]] || die "expected one wheel for $platform in the download, found ${#wheels[@]}"
wheel=${wheels[0]}

got=$(sha256_of "$wheel")
[[ $got == "$wheel_sha256" ]] \
  || die "sha256 mismatch for $(basename "$wheel"): expected $wheel_sha256, got $got"

# Extract the single member with python's zipfile (no unzip needed).
python3 - "$wheel" "$tmp/libpdfium.so" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("pypdfium2_raw/libpdfium.so") as src, \
        open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY

got=$(sha256_of "$tmp/libpdfium.so")
[[ $got == "$lib_sha256" ]] \
  || die "sha256 mismatch for libpdfium.so inside the wheel: expected $lib_sha256, got $got"

mkdir -p "$dest" || die "cannot create $dest"
# Copy next to the target then rename, so a running process never sees half a file.
install -m 0644 "$tmp/libpdfium.so" "$dest/.libpdfium.so.$$" || die "cannot write to $dest"
mv -f "$dest/.libpdfium.so.$$" "$target"

log "installed $target (pypdfium2 $PYPDFIUM2_VERSION, $platform, sha256 $lib_sha256)"
log "point the functions at it with: PDFIUM_LIB_PATH=$(cd "$dest" && pwd)/libpdfium.so"
