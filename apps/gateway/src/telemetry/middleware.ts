import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { extractTraceContext, SpanKind } from "@caravan/telemetry";
import type { Logger } from "pino";
import { CapabilityError } from "../capabilities.ts";
import type { GatewayEnv } from "../deps.ts";
import { HttpError } from "../errors.ts";
import type { GatewayTelemetry } from "./gateway-telemetry.ts";
import { RequestRecord } from "./request-record.ts";

/** Scrapes are not requests worth a span or a log line each. */
const UNTRACED = new Set(["/metrics"]);

/**
 * Wraps every request in a server span (continuing the client's `traceparent`, if it sent one)
 * and a RequestRecord that the handlers and streams fill in; the record writes the metrics and
 * the "request" log line when the response has ended.
 */
export function requestTelemetry(telemetry: GatewayTelemetry, log: Logger): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    if (UNTRACED.has(c.req.path)) return next();
    const method = c.req.method;
    const parent = extractTraceContext({ traceparent: c.req.header("traceparent"), tracestate: c.req.header("tracestate") });
    const span = telemetry.tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "url.path": c.req.path } }, parent);
    const record = new RequestRecord(span, telemetry, log, { method, path: c.req.path });
    c.set("record", record);
    try {
      await next();
    } finally {
      // The route is known once routing ran; unmatched requests keep the bare method as their name.
      const route = routePath(c, -1);
      if (route && route !== "*" && route !== "/*") {
        span.updateName(`${method} ${route}`);
        span.setAttribute("http.route", route);
      }
      const error = c.error;
      record.complete({
        status: c.res.status,
        errorCode: error === undefined ? undefined : error instanceof CapabilityError ? "capability" : error instanceof HttpError ? error.code : "internal",
        errorMessage: error?.message,
      });
    }
  };
}

/** This request's record; a detached one when the middleware is not installed (so callers never check). */
export function recordOf(c: Context<GatewayEnv>, telemetry: GatewayTelemetry, log: Logger): RequestRecord {
  let record = c.get("record");
  if (!record) {
    record = new RequestRecord(telemetry.tracer.startSpan(c.req.method), telemetry, log, { method: c.req.method, path: c.req.path });
    c.set("record", record);
  }
  return record;
}
