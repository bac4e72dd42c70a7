import { z } from "zod";
import { envDuration, envInt, envString, parseEnv } from "@caravan/protocol";
import { loadSecurityConfig, type SecurityConfig } from "./guard/config.ts";

/** Where to listen: `host:port`, `host`, `:port` or a URL, like OLLAMA_HOST. Default 127.0.0.1:11434. */
export function parseListenAddress(raw: string | undefined): { hostname: string; port: number } | undefined {
  const DEFAULT = { hostname: "127.0.0.1", port: 11434 };
  if (raw === undefined || raw.trim() === "") return DEFAULT;
  let text = raw.trim().replace(/^https?:\/\//, "").replace(/\/$/, "");
  let hostname = DEFAULT.hostname;
  let port = DEFAULT.port;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text); // [::1]:11434
  if (bracketed) {
    hostname = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon !== -1 && text.indexOf(":") === colon) {
      if (colon > 0) hostname = text.slice(0, colon);
      port = Number(text.slice(colon + 1));
      text = text.slice(colon + 1);
      if (!/^\d+$/.test(text)) return undefined;
    } else if (colon === -1) {
      hostname = text;
    } else {
      return undefined; // a bare IPv6 address needs brackets to carry a port
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535 || hostname === "") return undefined;
  return { hostname, port };
}

const GatewayEnv = z.object({
  CARAVAN_HOST: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const address = parseListenAddress(raw);
      if (!address) {
        ctx.addIssue({ code: "custom", message: `must be host:port (e.g. 127.0.0.1:11434), got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      return address;
    }),
  REDIS_URL: envString().pipe(z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" }).optional()),
  CARAVAN_REDIS_PREFIX: envString(),
  CARAVAN_MAX_QUEUE: envInt(1, 512),
  CARAVAN_MAX_QUEUE_PER_MODEL: envInt(1, 0),
  CARAVAN_QUEUE_TIMEOUT: envDuration("2m"),
  CARAVAN_SPILL_BACKLOG: envInt(0, 4),
});

export interface GatewayConfig {
  hostname: string;
  port: number;
  redisUrl: string | undefined;
  redisPrefix: string;
  /** most requests waiting for a worker, in all and per model */
  maxQueue: number;
  maxQueuePerModel: number;
  /** how long a request may wait for a worker before it gets an error */
  queueTimeoutMs: number;
  /** waiting requests per warm copy above which another copy is loaded elsewhere */
  spillBacklog: number;
  /** API keys, per-key limits, and the limits on what a request may be (guard/config.ts) */
  security: SecurityConfig;
}

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  const parsed = parseEnv(GatewayEnv, env);
  return {
    hostname: parsed.CARAVAN_HOST.hostname,
    port: parsed.CARAVAN_HOST.port,
    redisUrl: parsed.REDIS_URL,
    redisPrefix: parsed.CARAVAN_REDIS_PREFIX ?? "caravan",
    maxQueue: parsed.CARAVAN_MAX_QUEUE,
    // 0 (unset) = the overall bound applies to each model too
    maxQueuePerModel: parsed.CARAVAN_MAX_QUEUE_PER_MODEL || parsed.CARAVAN_MAX_QUEUE,
    queueTimeoutMs: parsed.CARAVAN_QUEUE_TIMEOUT,
    spillBacklog: parsed.CARAVAN_SPILL_BACKLOG,
    security: loadSecurityConfig(env),
  };
}
