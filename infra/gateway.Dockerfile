# caravan gateway: stateless HTTP front end; needs REDIS_URL.
FROM node:20-bookworm-slim
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY . .
RUN pnpm install --frozen-lockfile
ENV CARAVAN_HOST=0.0.0.0:11434 TURBO_TELEMETRY_DISABLED=1
EXPOSE 11434
# node directly (not through pnpm) so that SIGTERM reaches caravan and shutdown drains
CMD ["node", "--import", "tsx", "apps/gateway/src/main.ts"]
