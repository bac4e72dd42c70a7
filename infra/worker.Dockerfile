# syntax=docker/dockerfile:1
# caravan CPU worker: serves the GGUF files in /models with node-llama-cpp's prebuilt CPU binary
# (@node-llama-cpp/linux-x64, installed by the lockfile). Needs REDIS_URL.
# Build from the repository root: docker build -f infra/worker.Dockerfile -t caravan-worker .
ARG NODE_IMAGE=node:20-bookworm-slim

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
# node-llama-cpp's postinstall finds the prebuilt CPU binary and compiles nothing.
RUN pnpm install --frozen-lockfile

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    TURBO_TELEMETRY_DISABLED=1 \
    CARAVAN_MODELS=/models \
    CARAVAN_GPU=false \
    CARAVAN_METRICS_PORT=9464 \
    OTEL_SERVICE_NAME=caravan-worker
WORKDIR /app
COPY --from=deps /app ./
COPY . .
# Files stay root-owned and read-only to the process; it writes nothing but tsx's cache in /tmp.
USER node
VOLUME ["/models"]
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "infra/healthcheck.mjs", "worker"]
# node itself is PID 1 (not pnpm or a shell), so SIGTERM reaches caravan: the worker stops
# taking jobs, finishes the running ones, unloads and exits.
CMD ["node", "--import", "tsx", "apps/cli/src/server/main.ts", "worker"]
