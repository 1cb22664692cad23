#!/bin/sh
# FC custom runtime entry point of the image function (FC runs /code/bootstrap and forwards HTTP to the port).
# Node and the OpenCV libraries come from this package, so nothing but glibc is taken from the runtime image.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OPENCV_CASCADE_DIR="${OPENCV_CASCADE_DIR:-$here/cascades}"
# The addon is prebuilt: never let opencv4nodejs try to build OpenCV at load time.
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1
export NAS_ROOT="${NAS_ROOT:-/mnt/crawler}"
export FC_SERVER_PORT="${FC_SERVER_PORT:-9000}"
exec "$here/bin/node" "$here/functions/image/server.js"
