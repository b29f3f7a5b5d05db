# syntax=docker/dockerfile:1
# Sunproof images. Targets:
#   runtime (default)  both binaries, static (CGO_ENABLED=0), on Alpine: ~10 MB base + binaries,
#                      non-root (uid 65532); busybox wget serves the compose health checks
#   pki                openssl + deploy/compose/pki/init.sh, for the one-shot pki-init service
# Build: docker build -t sunproof:dev .   (docker-compose.yml builds both targets itself)
# Not built on the project's machines (no Docker engine there): deploy/deploytest checks this
# file's structure, and builds the same two binaries with CGO_ENABLED=0 and checks they are static.

ARG GO_VERSION=1.26.8
ARG ALPINE_VERSION=3.22

FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOOS=linux GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/sunproof ./cmd/sunproof && \
    CGO_ENABLED=0 go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/sunproof-agent ./cmd/sunproof-agent

FROM alpine:${ALPINE_VERSION} AS pki
RUN apk add --no-cache openssl
COPY deploy/compose/pki/init.sh /usr/local/bin/sunproof-pki-init
ENTRYPOINT ["/bin/sh", "/usr/local/bin/sunproof-pki-init"]

FROM alpine:${ALPINE_VERSION} AS runtime
RUN addgroup -S -g 65532 sunproof && adduser -S -D -H -u 65532 -G sunproof sunproof && \
    install -d -o 65532 -g 65532 -m 0750 /var/lib/sunproof
COPY --from=build /out/sunproof /out/sunproof-agent /usr/local/bin/
USER 65532:65532
WORKDIR /var/lib/sunproof
ENTRYPOINT ["/usr/local/bin/sunproof"]
