#!/usr/bin/env bash
# Idempotent set-up for `npm start` and `npm test`: Debian packages when missing, `npm ci` when the lockfile
# changed, and the OpenCV addon build (the postinstall step). Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for arg in "$@"; do [ "$arg" = "--test" ] && want_test=1; done

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
pkg-config --exists opencv4 2>/dev/null || missing+=(libopencv-dev)
[ -f /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml ] || missing+=(opencv-data)
command -v pkg-config >/dev/null || missing+=(pkg-config)
if [ "$want_test" = 1 ]; then
  # The browser test, the bench smoke tests (Python baseline, wget, GNU time, a real documentation site; nginx is
  # optional) and the clean-rootfs package check.
  for pkg in chromium python3-opencv python3-wand wget time debian-reference-en debootstrap; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

# npm ci only when node_modules is missing or older than the lockfile it was installed from.
stamp=node_modules/.fc-nas-images-lock.sha256
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  echo "setup: npm ci (builds the OpenCV addon against Debian's OpenCV, about 3 minutes the first time)" >&2
  npm ci --no-audit --no-fund >&2
  echo "$lock_sum" > "$stamp"
fi
# A node_modules kept from an earlier run may lack the addon (e.g. an interrupted build).
[ -f node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node ] || npm run build:opencv >&2

# The compiled CLI that bin/fc-nas-images.cjs prefers (dist/cli), rebuilt only when a source is newer than it.
node -e "process.exit(require('./scripts/compiled-cli.cjs').isFresh() ? 0 : 1)" || npm run build --silent >&2
