# syntax=docker/dockerfile:1
#
# journeysd container image: the binary on a distroless, non-root base
# with glibc and no shell. Build from the repository root:
#
#   docker build --build-arg VERSION=$(git describe --always) -t journeysd .
#
# .ci/run builds the binary with the same flags (no Docker engine in CI).

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that the download layer survives source edits.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=1: with cgo, Pebble allocates its block caches and memtables
# with malloc, outside the Go heap, so the garbage collector neither scans
# nor multiplies them: with 1,000,000 statements stored, RSS ~210 MiB and
# ~31 µs of CPU per statement, against ~330 MiB and ~37 µs without cgo
# (BENCHMARKS.md, issue 10). The base therefore carries glibc (distroless
# base, the same Debian release as the build stage). -trimpath: no build
# paths in the binary, so builds are reproducible.
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
      -o /out/journeysd ./cmd/journeysd \
 && mkdir /out/data

FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/journeysd /journeysd
# The state store (and, with no --mongo-uri, the embedded LRS) lives in
# /data, owned by the nonroot user (65532) so that a fresh volume is
# writable.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
ENV JOURNEYS_DATA_DIR=/data \
    JOURNEYS_LISTEN=0.0.0.0:8080
# The HTTP API, /healthz, /readyz and /metrics.
EXPOSE 8080
USER 65532:65532
# Liveness through the binary itself (the image has no shell or curl). It
# probes /healthz, not /readyz: a daemon waiting for MongoDB or rebuilding
# progress is not broken, and restarting it would not help.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/journeysd", "healthcheck"]
ENTRYPOINT ["/journeysd"]
CMD ["serve"]
