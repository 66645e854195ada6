#!/bin/sh
# Vendors Tom Select (https://tom-select.js.org, Apache-2.0) into coordinator/static/vendor/
# from the npm registry: `make vendor` (or `scripts/vendor-tom-select.sh [version]`).
# The tarball is checked against the registry's published integrity (npm pack does), then its
# built script and Bootstrap 5 stylesheet are copied with the licence; the source-map comments
# are dropped (the maps are not vendored). The version is written in tom-select.VERSION.
set -eu
VERSION="${1:-2.6.2}"
DEST="$(cd "$(dirname "$0")/.." && pwd)/coordinator/static/vendor/tom-select"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "tom-select@$VERSION" >/dev/null && tar xzf "tom-select-$VERSION.tgz")
mkdir -p "$DEST"
sed '/sourceMappingURL=/d' "$WORK/package/dist/js/tom-select.complete.min.js" > "$DEST/tom-select.complete.min.js"
sed 's#/\*\# sourceMappingURL=[^*]*\*/##' "$WORK/package/dist/css/tom-select.bootstrap5.min.css" > "$DEST/tom-select.bootstrap5.min.css"
cp "$WORK/package/LICENSE" "$DEST/LICENSE"
printf 'tom-select %s from https://registry.npmjs.org/tom-select/-/tom-select-%s.tgz\n' "$VERSION" "$VERSION" > "$DEST/VERSION"
echo "Tom Select $VERSION vendored in $DEST"
