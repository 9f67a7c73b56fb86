#!/usr/bin/env bash
# Refreshes the bundled Redoc viewer from the npm registry:
#   httpapi/apidoc/redoc/refresh.sh [VERSION]   (default: the version in VERSION)
# Then update the README's dependency table if the version changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${1:-$(awk '{print $2; exit}' "$here/VERSION")}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "redoc@$version" >/dev/null)
tar -xzf "$tmp/redoc-$version.tgz" -C "$tmp"
cp "$tmp/package/bundles/redoc.standalone.js" "$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" "$here/"
cp "$tmp/package/LICENSE" "$here/LICENSE"
licence="$(node -p "require('$tmp/package/package.json').license")"
echo "redoc $version (npm), $licence licence: bundles/redoc.standalone.js" > "$here/VERSION"
echo "Redoc $version bundled in $here"
