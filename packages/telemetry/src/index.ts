export { startTelemetry, disabledTelemetry, PROMETHEUS_CONTENT_TYPE, type Telemetry, type TelemetryOptions } from "./telemetry.ts";
export { injectTraceContext, extractTraceContext, contextWithSpan, type TraceCarrier } from "./context.ts";
export { startMetricsServer, type MetricsServer } from "./metrics-server.ts";
export * from "./buckets.ts";
// What the apps need of the API, so that they depend on one telemetry package.
export { SpanKind, SpanStatusCode, ROOT_CONTEXT, type Attributes, type Context, type Counter, type Histogram, type Meter, type ObservableGauge, type Span, type Tracer } from "@opentelemetry/api";
export { ATTR, genAiOperationName, genAiRequestAttributes } from "./gen-ai.ts";
export { inMemoryTelemetry } from "./testing.ts";
export type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
