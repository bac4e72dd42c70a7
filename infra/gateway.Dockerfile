# syntax=docker/dockerfile:1
# caravan gateway: the stateless HTTP front end (Ollama + OpenAI APIs); needs REDIS_URL.
# Build from the repository root: docker build -f infra/gateway.Dockerfile -t caravan-gateway .
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
RUN pnpm install --frozen-lockfile

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    TURBO_TELEMETRY_DISABLED=1 \
    CARAVAN_HOST=0.0.0.0:11434 \
    OTEL_SERVICE_NAME=caravan-gateway
WORKDIR /app
COPY --from=deps /app ./
COPY . .
# Files stay root-owned and read-only to the process; it writes nothing but tsx's cache in /tmp.
USER node
EXPOSE 11434
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "infra/healthcheck.mjs", "gateway"]
# node itself is PID 1 (not pnpm or a shell), so SIGTERM reaches caravan and shutdown drains.
CMD ["node", "--import", "tsx", "apps/cli/src/server/main.ts", "gateway"]
