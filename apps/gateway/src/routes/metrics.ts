import { PROMETHEUS_CONTENT_TYPE } from "@caravan/telemetry";
import type { GatewayApp, GatewayDeps } from "../deps.ts";

/**
 * GET /metrics: this process's metrics in Prometheus' text format, on the gateway's own port. In
 * one process (`pnpm start`) the worker's metrics are here too: they share one meter provider.
 */
export function registerMetricsRoute(app: GatewayApp, deps: GatewayDeps): void {
  app.get("/metrics", async (c) => c.body(await deps.telemetry.telemetry.prometheus(), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE }));
}
