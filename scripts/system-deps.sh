#!/usr/bin/env bash
# Install the Debian packages Coordinator needs when they are missing.
#   scripts/system-deps.sh run    WeasyPrint's libraries and fonts (PDF printing)
#   scripts/system-deps.sh test   the same, plus Chromium for the browser tests
#   scripts/system-deps.sh bench  the same, plus wrk (the HTTP load generator of benchmarks/load.py)
set -euo pipefail
what=${1:-run}
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation2)
case "$what" in
  run) ;;
  test) packages+=(chromium) ;;
  bench) packages+=(wrk) ;;
  *) echo "usage: $0 run | test | bench" >&2; exit 2 ;;
esac
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
  echo "Missing Debian packages (${missing[*]}) and no root rights: install them, then retry." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
