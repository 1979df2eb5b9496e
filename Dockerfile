# syntax=docker/dockerfile:1
#
# The support-operator image: one static binary on a distroless base.
#
#   docker build -t registry.example.com/support-operator:0.1.0 .
#   docker push registry.example.com/support-operator:0.1.0
#   helm install support-operator charts/support-operator -n support-operator --create-namespace \
#     --set image.repository=registry.example.com/support-operator
#
# * Stage 1 builds on Alpine, whose Rust target is musl: the binary is linked
#   statically (no libc, no loader), so it runs on a base with nothing in it.
#   TLS is rustls with ring (no OpenSSL); the time-zone database is compiled
#   into the binary (jiff's bundled tzdb), so the image needs no /usr/share/zoneinfo.
# * Stage 2 is distroless "static" (CA certificates, /etc/passwd, no shell, no
#   package manager), run as the nonroot user 65532 — the user the Helm chart's
#   securityContext expects (runAsNonRoot, runAsUser 65532, read-only root
#   file system: the operator writes no files).
#
# Not built by hack/test: the development machine has no container engine.
# The chart test (tests/chart) runs the same binary out of cluster instead.
# Pin the base images by digest in your own pipeline (`FROM image@sha256:...`).

ARG RUST_VERSION=1.89
FROM rust:${RUST_VERSION}-alpine AS build
RUN apk add --no-cache musl-dev gcc binutils
WORKDIR /src
# Cargo.toml declares no bench or test targets by path; if it ever does, copy
# their folders too (Cargo checks that every declared target exists).
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
# The commit for `--version` and support_operator_build_info (the build
# context has no .git): docker build --build-arg SUPPORT_OPERATOR_COMMIT=$(git rev-parse --short=12 HEAD)
ARG SUPPORT_OPERATOR_COMMIT=unknown
ENV SUPPORT_OPERATOR_COMMIT=${SUPPORT_OPERATOR_COMMIT}
# A stripped release build; caches keep the registry and target folder
# between builds (BuildKit).
ENV CARGO_PROFILE_RELEASE_STRIP=symbols \
    CARGO_PROFILE_RELEASE_LTO=thin \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin support-operator \
 && cp target/release/support-operator /support-operator
# Fail the build if the binary is not static, or cannot run.
RUN ! readelf -d /support-operator | grep -q NEEDED \
 && /support-operator --version

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="support-operator" \
      org.opencontainers.image.description="Support tiers, SLA policies and workspaces as live cluster state" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /support-operator /usr/local/bin/support-operator
USER 65532:65532
# /healthz, /readyz and /metrics (--health-addr).
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/support-operator"]
CMD ["run"]
