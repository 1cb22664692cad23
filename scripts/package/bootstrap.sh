#!/bin/sh
# FC custom.debian12 entry point of the image function (FC runs /code/bootstrap and forwards HTTP to the port).
# Node and the OpenCV libraries come from this package, so nothing but glibc is taken from the runtime image.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OPENCV_CASCADE_DIR="${OPENCV_CASCADE_DIR:-$here/cascades}"
# The addon is prebuilt: never let opencv4nodejs try to build OpenCV at load time.
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1
exec "$here/bin/node" "$here/src/local/cli.js" serve \
  --nas "${NAS_ROOT:-/mnt/crawler}" --host 0.0.0.0 --port "${FC_SERVER_PORT:-9000}"
