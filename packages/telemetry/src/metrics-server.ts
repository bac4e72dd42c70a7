import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PROMETHEUS_CONTENT_TYPE, type Telemetry } from "./telemetry.ts";

export interface MetricsServer {
  /** the port it listens on (useful with port 0) */
  readonly port: number;
  /** idempotent */
  close(): Promise<void>;
}

/**
 * A small HTTP server for processes that have no HTTP port of their own (workers): `GET /metrics`
 * answers Prometheus text, anything else 404. Rejects when the port cannot be bound.
 */
export async function startMetricsServer(telemetry: Telemetry, options: { port: number; host?: string }): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    telemetry.prometheus().then(
      (text) => response.writeHead(200, { "Content-Type": PROMETHEUS_CONTENT_TYPE }).end(request.method === "HEAD" ? undefined : text),
      (error: unknown) => response.writeHead(500, { "Content-Type": "text/plain" }).end(`# metrics collection failed: ${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // A scrape must not keep a stopping process alive.
  server.unref();
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
