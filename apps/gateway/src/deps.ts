import type { GatewayTransport } from "@caravan/transport";
import type { Logger } from "pino";
import type { Dispatcher } from "./dispatch/dispatcher.ts";
import type { GatewayTelemetry } from "./telemetry/gateway-telemetry.ts";

/** What the HTTP layer needs from the rest of the gateway. */
export interface GatewayDeps {
  transport: GatewayTransport;
  dispatcher: Dispatcher;
  log: Logger;
  version: string;
  /** spans, metrics and the per-request log line; /metrics reads it */
  telemetry: GatewayTelemetry;
}
