# caravan CPU worker: runs GGUF models from /models with node-llama-cpp's prebuilt CPU binary.
FROM node:20-bookworm-slim
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY . .
RUN pnpm install --frozen-lockfile
ENV CARAVAN_MODELS=/models TURBO_TELEMETRY_DISABLED=1
VOLUME /models
# node directly (not through pnpm) so that SIGTERM reaches caravan and shutdown drains
CMD ["node", "--import", "tsx", "apps/worker/src/main.ts"]
