#!/usr/bin/env bash
# npm run verify:package: proves dist/image runs outside this machine. In a clean Debian 12 root filesystem
# (debootstrap --variant=minbase bookworm, what custom.debian12 and the Dockerfile's debian:bookworm-slim are built
# from, cached in .rootfs/bookworm), with nothing copied in but the package (which carries its own Node 20 and
# OpenCV libraries), placed as the Dockerfile places it, it starts /code/bootstrap as FC would and asks for a real
# facedetect on a real photo over 127.0.0.1.
# Needs root (debootstrap, chroot, mount). A run takes seconds once the rootfs is cached; building it, minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'verify-package: %s\n' "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, mount /proc)"
[ -x dist/image/bootstrap ] || fail "dist/image is missing: run npm run package first"

base=.rootfs/bookworm
if [ ! -x "$base/bin/sh" ]; then
  say "building a clean Debian 12 rootfs in $base (debootstrap --variant=minbase bookworm; minutes, once)"
  rm -rf "$base.partial"
  debootstrap --variant=minbase bookworm "$base.partial" http://deb.debian.org/debian > .rootfs/debootstrap.log 2>&1 ||
    fail "debootstrap failed; see .rootfs/debootstrap.log"
  mv "$base.partial" "$base"
fi

# A free port on the host: the chroot shares the host's network.
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
run="$(mktemp -d .rootfs/run.XXXXXX)"
root="$run/root"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if mountpoint -q "$root/proc"; then umount "$root/proc"; fi
  rm -rf "$run"
}
trap cleanup EXIT

# A fresh copy each run, so nothing a run leaves behind can make the next one pass. The package goes in as the
# Dockerfile puts it (COPY dist/image /code), so this one rootfs is both custom.debian12's view of the code dir and
# the custom container's root filesystem; the server then starts with the Dockerfile's ENV and ENTRYPOINT.
cp -a "$base" "$root"
say "Dockerfile: $(npx tsx scripts/package/dockerfile.ts Dockerfile "$root" "$run")"
[ -x "$root/code/bootstrap" ] || fail "the Dockerfile did not put the package's bootstrap at /code/bootstrap"
mkdir -p "$root/mnt/crawler/img"
cp assets/photos/astronaut.png "$root/mnt/crawler/img/astronaut.png"
mount -t proc proc "$root/proc"
say "rootfs: $(. "$root/etc/os-release" && echo "$PRETTY_NAME"), glibc $(chroot "$root" ldd --version | head -1 | awk '{print $NF}'), $(du -sh "$base" | cut -f1); package: $(du -sh dist/image | cut -f1)"
say "rootfs has no node, no OpenCV: node=$(chroot "$root" sh -c 'command -v node || echo none'), libopencv=$(find "$root/usr" -name 'libopencv_core*' | wc -l)"

addon=/code/node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node
for binary in /code/bin/node "$addon"; do
  missing=$(chroot "$root" env -i LD_LIBRARY_PATH=/code/lib ldd "$binary" | grep 'not found' || true)
  [ -z "$missing" ] || fail "$binary has unresolved libraries in the clean rootfs: $missing"
done
say "ldd: node and the OpenCV addon resolve every library from /code/lib and the rootfs"

# FC's custom runtime: it runs the configured command with the function's env and forwards HTTP to the port.
started=$(date +%s%N)
mapfile -t container_env < "$run/container.env"
chroot "$root" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp "${container_env[@]}" NAS_ROOT=/mnt/crawler FC_SERVER_PORT="$port" LOG_LEVEL=info \
  "$(cat "$run/entrypoint")" > "$run/server.out" 2> "$run/server.err" &
server_pid=$!

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if curl -s -o /dev/null "$url/"; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$run/server.err" >&2; fail "the bootstrap exited before listening"; }
  sleep 0.2
done
say "bootstrap listening on $url $(( ($(date +%s%N) - started) / 1000000 )) ms after start"

# FC's Initializer, as FC 3.0 calls it: 200 only once OpenCV and the classifier are loaded.
read -r status seconds < <(curl -s -o "$run/initialize.txt" -w '%{http_code} %{time_total}\n' -X POST -H 'x-fc-request-id: verify-initialize' "$url/initialize")
[ "$status" = 200 ] || { tail -20 "$run/server.err" >&2; fail "POST /initialize answered HTTP $status: $(cat "$run/initialize.txt")"; }
curl -s "$url/healthz" > "$run/healthz.json"
node -e 'const h = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit(h.openCvLoaded && h.nas.readable ? 0 : 1)' "$run/healthz.json" ||
  fail "after /initialize, /healthz does not report OpenCV loaded and the NAS readable: $(cat "$run/healthz.json")"
say "POST /initialize -> HTTP 200 in ${seconds}s (loads OpenCV and the classifier); GET /healthz: $(cat "$run/healthz.json")"

request="$url/img/astronaut.png?action=facedetect&format=json"
read -r status seconds < <(curl -s -o "$run/facedetect.json" -w '%{http_code} %{time_total}\n' -H 'x-fc-request-id: verify-package-1' "$request")
say "GET /img/astronaut.png?action=facedetect&format=json -> HTTP $status in ${seconds}s: $(head -c 400 "$run/facedetect.json")"
[ "$status" = 200 ] || { tail -20 "$run/server.err" >&2; fail "facedetect answered HTTP $status"; }
faces=$(node -e '
  const body = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const faces = Array.isArray(body.faces) ? body.faces : [];
  process.stdout.write(String(faces.length));
' "$run/facedetect.json") || fail "facedetect did not answer JSON"
[ "$faces" -ge 1 ] || fail "facedetect found no face on astronaut.png"
read -r status type < <(curl -s -o "$run/gallery.html" -w '%{http_code} %{content_type}\n' "$url/")
[ "$status" = 200 ] && [[ "$type" == text/html* ]] || fail "the gallery (GET /) answered HTTP $status, $type"
grep -q 'astronaut.png' "$run/gallery.html" || fail "the gallery does not list img/astronaut.png"
say "GET / -> HTTP 200 $type: the gallery lists img/astronaut.png"
say "OK: $faces face(s) found on astronaut.png inside a clean Debian 12 rootfs (the code dir and the Dockerfile's container)"
