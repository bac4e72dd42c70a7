import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { afterAll, describe, expect, it } from "vitest";
import { contextWithSpan, extractTraceContext, injectTraceContext } from "./context.ts";
import { startTelemetry } from "./telemetry.ts";

const telemetry = startTelemetry({ serviceName: "context-test" });
afterAll(() => telemetry.shutdown());

describe("trace context in a carrier", () => {
  it("round-trips a span's context: a span started from the extracted context is its child", () => {
    const parent = telemetry.tracer.startSpan("parent");
    const carrier = injectTraceContext(parent);
    expect(carrier?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // what a job carries survives JSON (the Redis transport)
    const extracted = extractTraceContext(JSON.parse(JSON.stringify(carrier)));
    expect(trace.getSpanContext(extracted)).toMatchObject({ traceId: parent.spanContext().traceId, spanId: parent.spanContext().spanId, isRemote: true });

    const child = telemetry.tracer.startSpan("child", {}, extracted) as unknown as { parentSpanContext?: { spanId: string }; spanContext(): { traceId: string } };
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    parent.end();
  });

  it("keeps tracestate, and takes a context as well as a span", () => {
    const incoming = extractTraceContext({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: "vendor=abc" });
    expect(injectTraceContext(incoming)).toEqual({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: "vendor=abc" });
    const span = telemetry.tracer.startSpan("s", {}, incoming);
    expect(injectTraceContext(contextWithSpan(span))?.traceparent).toContain("0af7651916cd43dd8448eb211c80319c");
    span.end();
  });

  it("gives the root context for a missing or malformed traceparent, and no carrier for no span", () => {
    expect(extractTraceContext(undefined)).toBe(ROOT_CONTEXT);
    expect(extractTraceContext({})).toBe(ROOT_CONTEXT);
    expect(trace.getSpanContext(extractTraceContext({ traceparent: "not-a-traceparent" }))).toBeUndefined();
    expect(injectTraceContext(ROOT_CONTEXT)).toBeUndefined();
  });
});
