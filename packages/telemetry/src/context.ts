import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, type Context, type Span } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

/** W3C trace context as it travels in a job or in HTTP headers. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

// W3C on purpose, not the global propagator: the job's field is a traceparent whatever
// OTEL_PROPAGATORS says, and this works before (or without) startTelemetry.
const w3c = new W3CTraceContextPropagator();

/** The W3C trace context of `span` (or of the span in `context`); undefined when there is no valid one. */
export function injectTraceContext(from: Span | Context): TraceCarrier | undefined {
  const context = "spanContext" in from ? trace.setSpan(ROOT_CONTEXT, from) : from;
  const carrier: Record<string, string> = {};
  w3c.inject(context, carrier, defaultTextMapSetter);
  if (!carrier.traceparent) return undefined;
  return carrier.tracestate ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate } : { traceparent: carrier.traceparent };
}

/**
 * A context whose parent is the span that `carrier` names (a job's trace field, or request headers
 * given as `{ traceparent, tracestate }`); the root context when it names none or a malformed one.
 */
export function extractTraceContext(carrier: { traceparent?: string | undefined; tracestate?: string | undefined } | undefined): Context {
  if (!carrier?.traceparent) return ROOT_CONTEXT;
  const fields: Record<string, string> = { traceparent: carrier.traceparent };
  if (carrier.tracestate) fields.tracestate = carrier.tracestate;
  return w3c.extract(ROOT_CONTEXT, fields, defaultTextMapGetter);
}

/** `parent` as a context to start a child span in. */
export const contextWithSpan = (parent: Span): Context => trace.setSpan(ROOT_CONTEXT, parent);
