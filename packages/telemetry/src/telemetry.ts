import { diag, DiagLogLevel, metrics, propagation, ProxyTracerProvider, trace, createNoopMeter, type Meter, type Tracer } from "@opentelemetry/api";
import { getBooleanFromEnv, getNumberFromEnv, getStringFromEnv, getStringListFromEnv, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from "@opentelemetry/sdk-metrics";
import { withUnitSuffixes } from "./prometheus-names.ts";
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";

/** Shutdown waits this long for the last export; a collector that is down must not hold up an exit. */
const SHUTDOWN_TIMEOUT_MS = 3000;

export interface TelemetryOptions {
  /** service.name unless OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise */
  serviceName: string;
}

/** This process's OpenTelemetry: where spans and metrics are made, and the Prometheus view of the metrics. */
export interface Telemetry {
  /** false under OTEL_SDK_DISABLED=true: tracer and meter are no-ops, prometheus() is empty */
  readonly enabled: boolean;
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** where spans and metrics go besides /metrics: the OTLP endpoints in use, if any */
  readonly exporting: { traces: boolean; metrics: boolean };
  /** every metric of this process in Prometheus' text format (a fresh collection each call) */
  prometheus(): Promise<string>;
  /** flushes and stops the SDK (bounded; never rejects); idempotent */
  shutdown(): Promise<void>;
}

/** The Content-Type of prometheus()'s text. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

let current: Telemetry | undefined;

/**
 * Starts the OpenTelemetry SDK for this process, once: a second call returns the first one's
 * Telemetry. Spans are made always (their ids reach the logs and the jobs) but leave the
 * process only when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT, or the
 * _TRACES_/_METRICS_ ones): an OTLP exporter with nobody listening retries for seconds at
 * shutdown. Metrics are always readable as Prometheus text. The standard variables apply
 * (OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER,
 * OTEL_BSP_*, OTEL_METRIC_EXPORT_INTERVAL, OTEL_EXPORTER_OTLP_HEADERS, ...); OTEL_TRACES_EXPORTER
 * or OTEL_METRICS_EXPORTER `none` turns that OTLP export off. No auto-instrumentation: spans are
 * made by hand where they mean something.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  current ??= getBooleanFromEnv("OTEL_SDK_DISABLED") ? disabledTelemetry() : createTelemetry(options);
  return current;
}

/** After a shutdown, startTelemetry starts anew (tests; a process normally shuts down once, at exit). */
function forget(telemetry: Telemetry): void {
  if (current === telemetry) current = undefined;
}

/** Telemetry that records nothing (OTEL_SDK_DISABLED, and code run without startTelemetry, such as unit tests). */
export function disabledTelemetry(): Telemetry {
  const telemetry: Telemetry = {
    enabled: false,
    tracer: new ProxyTracerProvider().getTracer("caravan"),
    meter: createNoopMeter(),
    exporting: { traces: false, metrics: false },
    prometheus: async () => "",
    shutdown: async () => forget(telemetry),
  };
  return telemetry;
}

function createTelemetry(options: TelemetryOptions): Telemetry {
  const logLevel = getStringFromEnv("OTEL_LOG_LEVEL")?.toUpperCase() as keyof typeof DiagLogLevel | undefined;
  if (logLevel && logLevel in DiagLogLevel) diag.setLogger({ error: console.error, warn: console.warn, info: console.info, debug: console.debug, verbose: console.debug }, DiagLogLevel[logLevel]);

  // Later resources win: the code's default name, then what the environment and the host say.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": options.serviceName }))
    .merge(detectResources({ detectors: [hostDetector, processDetector, envDetector] }));

  const exportTraces = otlpConfigured("TRACES");
  const exportMetrics = otlpConfigured("METRICS");

  const spanProcessors: SpanProcessor[] = exportTraces ? [new BatchSpanProcessor(new OTLPTraceExporter())] : [];
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors });

  const prometheusReader = new PrometheusExporter({ preventServerStart: true });
  const readers: MetricReader[] = [prometheusReader];
  if (exportMetrics) {
    const interval = getNumberFromEnv("OTEL_METRIC_EXPORT_INTERVAL") ?? 60_000;
    // The reader refuses a timeout longer than the interval (a short interval in tests, say).
    const timeout = Math.min(getNumberFromEnv("OTEL_METRIC_EXPORT_TIMEOUT") ?? 30_000, interval);
    readers.push(new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: interval, exportTimeoutMillis: timeout }));
  }
  const meterProvider = new MeterProvider({ resource, readers });

  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const telemetry = telemetryOf({ tracerProvider, meterProvider, prometheusReader, exporting: { traces: exportTraces, metrics: exportMetrics } });
  const shutdown = telemetry.shutdown;
  telemetry.shutdown = async () => {
    await shutdown();
    trace.disable();
    metrics.disable();
    propagation.disable();
    forget(telemetry);
  };
  return telemetry;
}

/** A Telemetry over these providers; its shutdown is bounded and never rejects. */
export function telemetryOf(parts: {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  prometheusReader: PrometheusExporter;
  exporting: Telemetry["exporting"];
}): Telemetry {
  const { tracerProvider, meterProvider, prometheusReader, exporting } = parts;
  const serializer = new PrometheusSerializer();
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    tracer: tracerProvider.getTracer("caravan"),
    meter: meterProvider.getMeter("caravan"),
    exporting,
    async prometheus() {
      const { resourceMetrics, errors } = await prometheusReader.collect();
      for (const error of errors) diag.warn("metrics collection error", error);
      return serializer.serialize(withUnitSuffixes(resourceMetrics));
    },
    shutdown() {
      stopping ??= (async () => {
        const steps = Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([steps, new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS)))]);
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** Whether an OTLP endpoint is configured for this signal, and its exporter not set to `none`. */
function otlpConfigured(signal: "TRACES" | "METRICS"): boolean {
  if (getStringListFromEnv(`OTEL_${signal}_EXPORTER`)?.includes("none")) return false;
  return Boolean(getStringFromEnv("OTEL_EXPORTER_OTLP_ENDPOINT") ?? getStringFromEnv(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`));
}
