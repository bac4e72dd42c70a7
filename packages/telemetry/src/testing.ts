import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { telemetryOf, type Telemetry } from "./telemetry.ts";

/**
 * For unit tests: a Telemetry of its own (nothing global, nothing exported) that keeps every
 * ended span in memory and serves its metrics as Prometheus text.
 */
export function inMemoryTelemetry(): Telemetry & { finishedSpans(): ReadableSpan[] } {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const prometheusReader = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [prometheusReader] });
  return { ...telemetryOf({ tracerProvider, meterProvider, prometheusReader, exporting: { traces: false, metrics: false } }), finishedSpans: () => exporter.getFinishedSpans() };
}
