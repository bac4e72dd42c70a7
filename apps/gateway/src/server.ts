import { serve, type ServerType } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Telemetry } from "@caravan/telemetry";
import type { GatewayTransport } from "@caravan/transport";
import type { Logger } from "pino";
import { Redis } from "ioredis";
import { ConfigError } from "@caravan/protocol";
import { createApp } from "./app.ts";
import { KeyRing } from "./auth/key-ring.ts";
import { RedisKeys } from "./auth/redis-keys.ts";
import { isLoopback } from "./guard/host-check.ts";
import { KeyGate } from "./limits/key-gate.ts";
import type { LimitStore } from "./limits/limit-store.ts";
import { MemoryLimitStore } from "./limits/memory-limit-store.ts";
import { RedisLimitStore } from "./limits/redis-limit-store.ts";
import type { GatewayConfig } from "./config.ts";
import { Dispatcher } from "./dispatch/dispatcher.ts";
import { GatewayTelemetry } from "./telemetry/gateway-telemetry.ts";
import { CARAVAN_VERSION } from "./version.ts";

/** How long shutdown waits for running requests before cutting them off. */
const DRAIN_TIMEOUT_MS = 30_000;

export interface RunningGateway {
  /** the actual port (useful with port 0) */
  readonly port: number;
  readonly url: string;
  /** stops accepting connections and waits for running requests (bounded); idempotent */
  close(): Promise<void>;
}

export interface GatewayOptions {
  config: GatewayConfig;
  transport: GatewayTransport;
  log: Logger;
  /** this process's telemetry (startTelemetry); none = nothing traced or measured, /metrics empty */
  telemetry?: Telemetry;
  /**
   * The cluster's Redis, for run-time API keys and the per-key counters every gateway shares;
   * none (one process) = static keys and counters in memory.
   */
  shared?: { redisUrl: string; prefix: string };
}

export async function startGateway({ config, transport, log, telemetry: processTelemetry, shared }: GatewayOptions): Promise<RunningGateway> {
  const { security } = config;
  // Keys and limits are checked on every request: while Redis is away they must fail at once
  // (a 503 the client retries), not wait in ioredis's offline queue for a reconnection.
  const redis = shared ? new Redis(shared.redisUrl, { maxRetriesPerRequest: null, enableOfflineQueue: false, commandTimeout: 5000 }) : undefined;
  redis?.on("error", () => undefined); // reported through the failing calls
  if (redis) await onceReady(redis, 10_000);
  const keys = new KeyRing(security.apiKeys, redis && shared ? new RedisKeys(redis, shared.prefix) : undefined);
  const limitStore: LimitStore = redis && shared ? new RedisLimitStore(redis, shared.prefix) : new MemoryLimitStore();
  try {
    if (!isLoopback(config.hostname) && !security.allowOpen && !(await keys.enabled())) {
      throw new ConfigError(
        `refusing to listen on ${config.hostname} without API keys: set CARAVAN_API_KEYS or CARAVAN_API_KEYS_FILE (or create keys with \`caravan keys create\`), or set CARAVAN_ALLOW_OPEN=1 to serve without authentication`,
      );
    }
  } catch (error) {
    redis?.disconnect();
    throw error;
  }
  const telemetry = processTelemetry ? new GatewayTelemetry(processTelemetry, transport) : GatewayTelemetry.disabled(transport);
  const dispatcher = new Dispatcher({
    transport,
    log,
    maxQueue: config.maxQueue,
    maxQueuePerModel: config.maxQueuePerModel,
    queueTimeoutMs: config.queueTimeoutMs,
    spillBacklog: config.spillBacklog,
    telemetry,
    keyGate: new KeyGate(limitStore, security.keyDefaults, telemetry, log),
    ceilings: security.ceilings,
  });
  dispatcher.start();
  const app = createApp({
    transport,
    dispatcher,
    log,
    version: CARAVAN_VERSION,
    telemetry,
    security: { keys, maxBodyBytes: security.maxBodyBytes, origins: security.origins, boundHost: config.hostname, allowedHosts: security.allowedHosts },
  });
  const options = { hostname: config.hostname, port: config.port, log };
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.hostname, port: options.port }, () => resolve(s));
    s.once("error", reject);
  });
  // Slow clients: a client has this long for its headers, and for its whole request (not the answer).
  (server as Server).headersTimeout = security.headersTimeoutMs;
  (server as Server).requestTimeout = security.requestTimeoutMs;
  const port = (server.address() as AddressInfo).port;
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  const url = `http://${host}:${port}`;
  options.log.info({ url }, "gateway listening");

  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const http = server as Server;
        const force = setTimeout(() => http.closeAllConnections(), DRAIN_TIMEOUT_MS);
        http.close(() => {
          clearTimeout(force);
          dispatcher.close();
          telemetry.close();
          void limitStore.close();
          if (redis) void redis.quit().catch(() => undefined);
          resolve();
        });
        http.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** Resolves when the connection is ready (or after `timeoutMs`: a Redis that is down at start makes requests 503, not the gateway fail). */
function onceReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
