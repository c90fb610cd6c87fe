# shellcheck shell=bash
# Helpers of scripts/test-image.sh: engine choice, the input hash behind --if-changed,
# and the local base images podman builds when no registry is reachable.

log() { printf 'test-image: %s\n' "$*" >&2; }
die() { printf 'test-image: error: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1000000 }'; }

# ENGINE (docker|podman) and E, the command with its global flags; ULIMITS for build/run.
pick_engine() {
  ENGINE=${FOLIO_IMAGE_ENGINE:-}
  if [[ -z $ENGINE ]]; then
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
      ENGINE=docker
    elif command -v podman >/dev/null 2>&1; then
      ENGINE=podman
    else
      die "no container engine: start Docker, or install podman and runc (scripts/install-deps.sh does)"
    fi
  fi
  ULIMITS=()
  case $ENGINE in
    docker) E=(docker) ;;
    podman)
      E=(podman)
      if [[ -n ${FOLIO_PODMAN_FLAGS:-} ]]; then
        read -r -a extra <<<"$FOLIO_PODMAN_FLAGS"
        E+=("${extra[@]}")
      else
        # crun refuses hybrid cgroup hierarchies and a CI container has no systemd:
        # runc with plain cgroupfs runs everywhere podman does.
        local runc
        runc=$(command -v runc || true)
        [[ -n $runc ]] && E+=(--runtime "$runc")
        E+=(--cgroup-manager cgroupfs)
      fi
      # podman's default ulimits can exceed what the host grants (setrlimit: Operation not
      # permitted; in a container even the host's own soft limit can be refused): ask for
      # 4096 of each, or the host's soft limit where that is lower. Plenty for cargo.
      local nofile nproc
      nofile=$(ulimit -Sn)
      nproc=$(ulimit -Su)
      [[ $nofile == unlimited || $nofile -gt 4096 ]] && nofile=4096
      [[ $nproc == unlimited || $nproc -gt 4096 ]] && nproc=4096
      ULIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
      ;;
    *) die "FOLIO_IMAGE_ENGINE must be docker or podman (got '$ENGINE')" ;;
  esac
  command -v "${E[0]}" >/dev/null 2>&1 || die "$ENGINE is not installed"
}

image_exists() { "${E[@]}" image inspect "$1" >/dev/null 2>&1; }

# What the image is made of: the Dockerfile, the manifests, the lock file, the sources of
# the four binaries and of the library, the migrations, the scripts copied into the image,
# this script and its helpers, and the settings that change the result. Tests, examples,
# docs and the local gateway are not in the image, so changing them does not rebuild it.
input_hash() {
  local rust=none
  if [[ $ENGINE == podman && -z ${RUST_IMAGE:-} ]] && command -v rustc >/dev/null 2>&1; then
    rust=$(rustc --version)
  fi
  {
    printf 'engine=%s languages=%s rust=%s bases=%s|%s\n' \
      "$ENGINE" "$LANGS" "$rust" "${RUST_IMAGE:-}" "${RUNTIME_IMAGE:-}"
    {
      printf '%s\n' Dockerfile.cloudrun .dockerignore Cargo.toml Cargo.lock \
        scripts/test-image.sh scripts/fetch-pdfium.sh
      find shared/Cargo.toml shared/build.rs shared/src shared/migrations scripts/image \
        functions/*/Cargo.toml tests/Cargo.toml -type f 2>/dev/null || true
      for f in health ocr quiz worker-tick; do
        find "functions/$f/src" "functions/$f/build.rs" -type f 2>/dev/null || true
      done
    } | LC_ALL=C sort -u | while read -r f; do
      [[ -f $f ]] || continue
      printf '%s  %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"
    done
  } | sha256sum | cut -c1-16
}

# Local base images for podman, with no registry: a minimal Debian bookworm root file
# system (debootstrap) as RUNTIME_IMAGE, and the same plus this machine's Rust toolchain
# as RUST_IMAGE (the Dockerfile installs the C toolchain and headers itself). Built once
# and kept in podman's store; a new rustc version builds a new builder image.
local_bases() {
  command -v rustc >/dev/null 2>&1 || die "rustc is needed on the host: its toolchain goes into the builder image"
  local version sysroot base rust mirror dir
  version=$(rustc --version | awk '{print $2}')
  sysroot=$(rustc --print sysroot)
  base=localhost/folio-bookworm:minbase
  rust=localhost/folio-rust:$version-bookworm
  mirror=${FOLIO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
  if ! image_exists "$base" || ! image_exists "$rust"; then
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap is needed for the local base images (apt-get install debootstrap)"
    [[ $(id -u) == 0 ]] || die "building the local base images (debootstrap) needs root"
    dir=$CACHE/rootfs.$$
    rm -rf "$dir"
    log "building base images $base and $rust (debootstrap bookworm from $mirror)"
    if ! debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
      tail -20 "$CACHE/debootstrap.log" >&2
      rm -rf "$dir"
      die "debootstrap failed (log: $CACHE/debootstrap.log)"
    fi
    {
      echo "deb $mirror bookworm main"
      echo "deb $mirror bookworm-updates main"
      echo "deb ${mirror%/debian}/debian-security bookworm-security main"
    } >"$dir/etc/apt/sources.list"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    local env_path='ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    tar -C "$dir" -c . | "${E[@]}" import -q --change "$env_path" --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["bash"]' - "$base" >/dev/null
    # The builder: rustc, cargo and the standard library under /usr/local (rustc finds its
    # sysroot next to its binary), CARGO_HOME where the Dockerfile's cache mounts expect it.
    cp -a "$sysroot/bin/." "$dir/usr/local/bin/"
    cp -a "$sysroot/lib/." "$dir/usr/local/lib/"
    # The builder trusts the certificate authorities this host added locally (a proxy's,
    # say), so cargo and pip reach their registries as the host does. Installing
    # ca-certificates in the Dockerfile folds them in. The runtime image gets none.
    if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
      mkdir -p "$dir/usr/local/share/ca-certificates"
      cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
    fi
    tar -C "$dir" -c . | "${E[@]}" import -q --change "$env_path" --change 'ENV LANG=C.UTF-8' \
      --change 'ENV CARGO_HOME=/usr/local/cargo' --change 'CMD ["bash"]' - "$rust" >/dev/null
    rm -rf "$dir"
  fi
  RUST_IMAGE=$rust
  RUNTIME_IMAGE=$base
}

# shellcheck source=scripts/image/smoke.sh
source "$(dirname "${BASH_SOURCE[0]}")/smoke.sh"
