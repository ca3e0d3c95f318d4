# Berth as an image: the console and the relay built here, shipped as one
# static binary in an otherwise empty image.
#   docker build -t berth .
# Without a registry, `scripts/image` builds the same image from a binary
# built on this machine (Dockerfile.static).

FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools npm \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
# scripts/lib.sh installs trunk, wasm-bindgen and wasm-opt as the README's
# commands do, builds the console (release, wasm-opt, gzip) and then the
# static relay, which carries the console.
RUN bash -c 'source scripts/lib.sh && build_console && build_static_relay' \
    && cp target/x86_64-unknown-linux-musl/release/berth /berth \
    && mkdir /record

FROM scratch
COPY --from=build /berth /berth
# The flight recorder's folder, nobody's, so a named volume there is too.
COPY --from=build --chown=65534:65534 /record/ /var/lib/berth/
# nobody; compose adds the docker socket's group.
USER 65534:65534
ENV BERTH_LISTEN=0.0.0.0:2375
EXPOSE 2375
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/berth", "--health"]
ENTRYPOINT ["/berth"]
