#!/usr/bin/env bash
# Builds Dockerfile.cloudrun and smoke-tests the image, with Docker where an engine runs
# and with podman where none does (no registry needed: the base images are built here).
#
#   scripts/test-image.sh               build, then smoke-test every function
#   scripts/test-image.sh --if-changed  the same, unless the image's inputs are unchanged
#                                       since the last run that passed (what scripts/test.sh runs)
#   scripts/test-image.sh --build-only  build and tag, no smoke test
#   scripts/test-image.sh --smoke-only  smoke-test the image already tagged, no build
#
# Settings (environment):
#   FOLIO_IMAGE          tag to build (default folio:local, the name docker-compose.yml uses)
#   FOLIO_IMAGE_ENGINE   docker or podman (default: docker when `docker info` answers)
#   OCR_LANGUAGES        Tesseract languages baked in (default "eng ind")
#   RUST_IMAGE, RUNTIME_IMAGE  base images; podman's default is to build both locally:
#                        `debootstrap --variant=minbase bookworm`, imported, plus this
#                        machine's own Rust toolchain for the builder
#   DATABASE_URL, REDIS_URL    the host's Postgres (a throwaway database is made on it) and
#                        Redis; found or started by scripts/services.sh when unset
#
# The smoke test starts the image once per function on the host network: GET /health and
# /health/ready all ok (Tesseract, PDFium, every language of OCR_LANGUAGES), a real OCR of a
# PNG and of a scanned PDF page through `ocr`, a tick through `worker-tick`, `id -u` is not
# 0, the image's HEALTHCHECK passes, SIGTERM stops the container with status 0. It prints
# the image size and the time from `run` to the first 200 of each function.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/image/lib.sh
source "$ROOT/scripts/image/lib.sh"

mode=all
case "${1:-}" in
  "") ;;
  --if-changed) mode=if-changed ;;
  --build-only) mode=build-only ;;
  --smoke-only) mode=smoke-only ;;
  *) die "usage: $0 [--if-changed | --build-only | --smoke-only]" ;;
esac

IMAGE=${FOLIO_IMAGE:-folio:local}
LANGS=${OCR_LANGUAGES:-eng ind}
CACHE=${FOLIO_IMAGE_CACHE:-$HOME/.cache/folio/image}
mkdir -p "$CACHE"
pick_engine

if [[ $mode == smoke-only ]]; then
  image_exists "$IMAGE" || die "no image $IMAGE: build it first"
  size=$("${E[@]}" image inspect --format '{{.Size}}' "$IMAGE")
  t0=$(now_ms)
  smoke_test
  log "passed (smoke only, no stamp): $IMAGE ($(mb "$size") MB) with $ENGINE; $(secs $(($(now_ms) - t0))) s"
  exit 0
fi

stamp=$CACHE/stamp-$(printf '%s' "$ENGINE-$IMAGE" | tr -c 'A-Za-z0-9._-' '_')
inputs=$(input_hash)
log "image inputs: $inputs"
if [[ $mode == if-changed && -f $stamp && $(cat "$stamp") == "$inputs" ]] && image_exists "$IMAGE"; then
  log "image inputs unchanged since the last passing run ($inputs): skipped (FOLIO_IMAGE_FORCE=1 or no --if-changed to run)"
  [[ ${FOLIO_IMAGE_FORCE:-} == 1 ]] || exit 0
fi

# ---------------------------------------------------------------- build
t0=$(now_ms)
build_args=(--build-arg "OCR_LANGUAGES=$LANGS")
if [[ $ENGINE == podman ]]; then
  [[ -n ${RUST_IMAGE:-} && -n ${RUNTIME_IMAGE:-} ]] || local_bases
fi
[[ -n ${RUST_IMAGE:-} ]] && build_args+=(--build-arg "RUST_IMAGE=$RUST_IMAGE")
[[ -n ${RUNTIME_IMAGE:-} ]] && build_args+=(--build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
t1=$(now_ms)
log "building $IMAGE with $ENGINE (languages: $LANGS)"
if [[ $ENGINE == podman ]]; then
  # --format docker keeps HEALTHCHECK (the OCI format has no field for it).
  "${E[@]}" build --format docker --layers --network=host "${ULIMITS[@]}" \
    -f Dockerfile.cloudrun -t "$IMAGE" "${build_args[@]}" . >&2
else
  DOCKER_BUILDKIT=1 "${E[@]}" build -f Dockerfile.cloudrun -t "$IMAGE" "${build_args[@]}" . >&2
fi
t2=$(now_ms)
size=$("${E[@]}" image inspect --format '{{.Size}}' "$IMAGE")
log "built $IMAGE: $(mb "$size") MB; base images $(secs $((t1 - t0))) s, image build $(secs $((t2 - t1))) s"
[[ $mode == build-only ]] && exit 0

# ---------------------------------------------------------------- smoke test
smoke_test
printf '%s\n' "$inputs" >"$stamp"
log "passed: $IMAGE ($(mb "$size") MB) with $ENGINE; whole run $(secs $(($(now_ms) - t0))) s"
