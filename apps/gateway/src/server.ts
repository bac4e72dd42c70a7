import { serve, type ServerType } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Telemetry } from "@caravan/telemetry";
import type { GatewayTransport } from "@caravan/transport";
import type { Logger } from "pino";
import { createApp } from "./app.ts";
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
}

export async function startGateway({ config, transport, log, telemetry: processTelemetry }: GatewayOptions): Promise<RunningGateway> {
  const telemetry = processTelemetry ? new GatewayTelemetry(processTelemetry, transport) : GatewayTelemetry.disabled(transport);
  const dispatcher = new Dispatcher({
    transport,
    log,
    maxQueue: config.maxQueue,
    maxQueuePerModel: config.maxQueuePerModel,
    queueTimeoutMs: config.queueTimeoutMs,
    spillBacklog: config.spillBacklog,
    telemetry,
  });
  dispatcher.start();
  const app = createApp({ transport, dispatcher, log, version: CARAVAN_VERSION, telemetry });
  const options = { hostname: config.hostname, port: config.port, log };
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.hostname, port: options.port }, () => resolve(s));
    s.once("error", reject);
  });
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
          resolve();
        });
        http.closeIdleConnections();
      });
      return closing;
    },
  };
}
