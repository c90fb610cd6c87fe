#!/usr/bin/env bash
# Refreshes the Swagger UI files that `/docs` serves (shared/assets/swagger-ui),
# from the npm registry's `swagger-ui-dist` package. The binaries embed these
# files at build time, so `/docs` never reaches a CDN.
#
#   scripts/vendor-swagger-ui.sh            # the pinned version, checked against its sha256
#   scripts/vendor-swagger-ui.sh 5.36.0     # another version: prints its sha256 to pin here
set -euo pipefail

PINNED_VERSION=5.32.0
PINNED_SHA256=3c30bfe83d09763d14b4c88df0beade8ca162087a2fa5db3f34472f231ab3ba9

version=${1:-$PINNED_VERSION}
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/shared/assets/swagger-ui
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

url=https://registry.npmjs.org/swagger-ui-dist/-/swagger-ui-dist-$version.tgz
curl -fsSL --retry 3 -o "$work/pkg.tgz" "$url"
sum=$(sha256sum "$work/pkg.tgz" | cut -d' ' -f1)
if [[ $version == "$PINNED_VERSION" && $sum != "$PINNED_SHA256" ]]; then
  echo "swagger-ui-dist $version: sha256 $sum, expected $PINNED_SHA256" >&2
  exit 1
fi
tar -xzf "$work/pkg.tgz" -C "$work"
mkdir -p "$dest"
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
  if [[ -f $work/package/$f ]]; then cp "$work/package/$f" "$dest/$f"; fi
done
cat > "$dest/VERSION" <<INFO
swagger-ui-dist $version
source $url
sha256 $sum
INFO
echo "swagger-ui-dist $version (sha256 $sum) -> shared/assets/swagger-ui"
if [[ $version != "$PINNED_VERSION" ]]; then
  echo "pin it: PINNED_VERSION=$version PINNED_SHA256=$sum in $0"
fi
