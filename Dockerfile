# syntax=docker/dockerfile:1
#
# One image holding the three connector services (Ingest, Dispatcher, Replier); compose.yaml
# picks the service with `command:`. Configuration comes only from the environment (and a .env
# file in the working directory, /app): see .env.example and CONTRACT.md section 1.
#
#   docker build -t discord-connector:local .
#   docker run --rm --env-file .env discord-connector:local /app/Replier --check
#
# The project is developed and tested on Swift 6.3.1, and the image builds with the same
# toolchain by default. Override with
#   docker build --build-arg SWIFT_IMAGE=swift:6.3-bookworm .
# Keep the build image on Debian bookworm: the runtime stage is bookworm too.
ARG SWIFT_IMAGE=swift:6.3-bookworm

# ---------------------------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Headers and pkg-config files of the C libraries (CHiredis, CCurl system-library targets).
# Versions are not pinned: bookworm's point releases carry security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libhiredis-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first, so that source edits do not re-fetch them. Package.resolved is
# git-ignored: the bracket glob copies it when present and is skipped when it is not.
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve

# SwiftPM checks every target's directory when it loads the manifest, tests included.
COPY Sources ./Sources
COPY Tests ./Tests

# `swift build` keeps only the last of several --product options, so build them one by one.
# --static-swift-stdlib links the Swift runtime and Foundation into the binaries: the runtime
# image needs no /usr/lib/swift libraries, only the C libraries below.
RUN set -eu; \
    for product in Ingest Dispatcher Replier Interactions; do \
        swift build -c release --static-swift-stdlib --product "$product"; \
    done; \
    bin_path="$(swift build -c release --static-swift-stdlib --show-bin-path)"; \
    mkdir -p /staging; \
    for product in Ingest Dispatcher Replier Interactions; do \
        cp "$bin_path/$product" /staging/; \
        strip /staging/"$product"; \
    done

# ---------------------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# What the binaries link dynamically (readelf -d: NEEDED): libhiredis0.14, libcurl4 and
# libstdc++6 (the static Swift runtime still uses the C++ runtime), plus libc6/libgcc-s1 from
# the base image. ca-certificates: TLS to Discord; tzdata: Foundation's time zones.
# Not pinned (see above).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libhiredis0.14 libcurl4 libstdc++6 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 connector \
    && useradd --system --uid 10001 --gid connector --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin connector

WORKDIR /app
COPY --from=build /staging/ /app/

ENV PATH="/app:${PATH}"
# Numeric, so that runtimes can verify it is not root (e.g. Kubernetes runAsNonRoot).
USER 10001:10001

# No ENTRYPOINT: the command names the service, e.g. `/app/Ingest`, `/app/Dispatcher`,
# `/app/Replier`, optionally with `--check` (validate the configuration and exit) or
# `--healthcheck` (GET the running service's /healthz on METRICS_PORT; compose.yaml's health
# checks use it, as this image has no curl: the binaries' own libcurl client does the request).
# With METRICS_PORT set, each service serves /metrics, /healthz and /readyz on that port.
CMD ["/app/Replier", "--help"]
