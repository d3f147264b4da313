# The quest image: one binary (the Quest standard library is embedded in
# it) on Debian 12 with only the runtime libraries.
#
#   docker build -t quest .
#   docker run --rm -p 3000:3000 quest      (serves /app/index.q: see CMD)
#
# Verified by scripts/container-test (podman build --format docker, then run:
# GET /, non-root user, HEALTHCHECK, SIGTERM exit 0, an app mounted at /app).
# Where no registry is reachable that script builds FROM a debootstrap
# minbase stand-in for debian:bookworm-slim, not Docker Hub's image.

FROM debian:bookworm-slim AS build
# libh2o-dev pulls in none of the headers <h2o.h> includes (uv, openssl,
# zlib, wslay), so every -dev package is named.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc libc6-dev meson ninja-build pkg-config python3 \
      libh2o-dev libuv1-dev libwslay-dev libssl-dev zlib1g-dev \
      libpq-dev libsqlite3-dev libcurl4-openssl-dev libpcre2-dev \
      libgmp-dev libedit-dev libbz2-dev \
      libcmark-gfm-dev libcmark-gfm-extensions-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build -Dbuildtype=release \
 && ninja -C /build quest

FROM debian:bookworm-slim
# Runtime packages (bookworm names); their own dependencies come along.
# curl is for the HEALTHCHECK.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libh2o0.13 libuv1 libwslay1 libssl3 zlib1g \
      libpq5 libsqlite3-0 libcurl4 libpcre2-8-0 \
      libgmp10 libedit2 libbz2-1.0 ca-certificates curl \
      libcmark-gfm0.29.0.gfm.6 libcmark-gfm-extensions0.29.0.gfm.6 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin quest
COPY --from=build /build/quest /usr/local/bin/quest
# The app: a directory with an index.q (replace with your own: COPY app/ /app/).
COPY examples/hello/app.q /app/index.q
WORKDIR /app
USER quest
EXPOSE 3000
# The app must answer GET / with a 2xx.  Shell form, so that a port set with
# QUEST_PORT (docker run -e QUEST_PORT=8080) is the one checked.
HEALTHCHECK --interval=10s --timeout=2s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${QUEST_PORT:-3000}/" >/dev/null || exit 1
CMD ["quest", "serve", "--host", "0.0.0.0", "/app"]
