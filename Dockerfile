# The image function as a custom container, for regions without custom.debian12 (docs/deployment.md, "Regions").
# It is built from the same package as the code dir: `npm run package`, then
#   docker build -t <registry>/<namespace>/fc-nas-images:<tag> . && docker push ...
# and `s deploy -t s.container.yaml` with FC_IMAGE_URI set to that image. `npm run verify:package` applies this
# file to a clean Debian 12 root filesystem and serves real requests from it (scripts/package/dockerfile.ts).
FROM debian:bookworm-slim
COPY dist/image /code
ENV NAS_ROOT=/mnt/crawler FC_SERVER_PORT=9000
EXPOSE 9000
ENTRYPOINT ["/code/bootstrap"]
