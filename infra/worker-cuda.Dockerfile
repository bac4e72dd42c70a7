# syntax=docker/dockerfile:1
# caravan CUDA worker: node-llama-cpp's CUDA prebuilt binaries on NVIDIA's CUDA runtime image.
# Needs REDIS_URL, an NVIDIA driver and the NVIDIA container toolkit on the host
# (docker run --gpus all, or the `gpu` profile of docker-compose.yml).
# Build from the repository root: docker build -f infra/worker-cuda.Dockerfile -t caravan-worker-cuda .
#
# @node-llama-cpp/linux-x64-cuda is built with CUDA 13 (driver >= 580); its -ext package holds a
# CUDA 12 build, loaded when the CUDA 13 one cannot be. The default base is CUDA 12 (works with
# older drivers, through the -ext build); with a driver >= 580 build with
#   --build-arg CUDA_IMAGE=nvidia/cuda:13.0.1-runtime-ubuntu24.04
ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.9.1-runtime-ubuntu24.04

# Only what `pnpm install` reads, so that the dependency layer below is rebuilt when a
# package.json or the lockfile changes, not when a source file does.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && cp package.json pnpm-lock.yaml pnpm-workspace.yaml /manifests/ \
 && find apps packages test -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

FROM ${NODE_IMAGE} AS deps
# The version in package.json's packageManager; corepack cannot verify pnpm on every registry.
RUN npm install -g pnpm@10.34.9
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN pnpm install --frozen-lockfile
# The workspace's overrides keep the CUDA prebuilts out of every install; add them here.
COPY infra/install-node-llama-cpp-cuda.sh /usr/local/bin/
RUN install-node-llama-cpp-cuda.sh

FROM ${CUDA_IMAGE} AS runtime
# Node 20 from the official image (glibc >= 2.28 and libstdc++ are all it needs).
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
# Ubuntu 24.04 images already have uid 1000 (ubuntu); caravan gets its own user.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home caravan
ENV NODE_ENV=production \
    TURBO_TELEMETRY_DISABLED=1 \
    CARAVAN_MODELS=/models \
    CARAVAN_GPU=cuda \
    CARAVAN_METRICS_PORT=9464 \
    OTEL_SERVICE_NAME=caravan-worker-cuda \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
COPY --from=deps /app ./
COPY . .
# Files stay root-owned and read-only to the process; it writes nothing but tsx's cache in /tmp.
USER caravan
VOLUME ["/models"]
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "infra/healthcheck.mjs", "worker"]
# node itself is PID 1 (not pnpm or a shell), so SIGTERM reaches caravan: the worker stops
# taking jobs, finishes the running ones, unloads and exits.
CMD ["node", "--import", "tsx", "apps/cli/src/server/main.ts", "worker"]
