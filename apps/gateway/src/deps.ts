import type { Hono } from "hono";
import type { GatewayTransport } from "@caravan/transport";
import type { Logger } from "pino";
import type { ApiKeyRecord } from "./auth/key-record.ts";
import type { Dispatcher } from "./dispatch/dispatcher.ts";
import type { GatewayTelemetry } from "./telemetry/gateway-telemetry.ts";
import type { RequestRecord } from "./telemetry/request-record.ts";

/** What the HTTP layer needs from the rest of the gateway. */
export interface GatewayDeps {
  transport: GatewayTransport;
  dispatcher: Dispatcher;
  log: Logger;
  version: string;
  /** spans, metrics and the per-request log line; /metrics reads it */
  telemetry: GatewayTelemetry;
}

/** The gateway's Hono environment: what the middleware leaves on a request's context (c.set) for the handlers (c.get). */
export interface GatewayEnv {
  Variables: {
    /** this request's telemetry (telemetry/middleware.ts); unset on paths that are not traced */
    record?: RequestRecord;
    /** the key the request was authenticated with (auth/middleware.ts); unset while auth is off */
    caller?: ApiKeyRecord;
  };
}

export type GatewayApp = Hono<GatewayEnv>;
