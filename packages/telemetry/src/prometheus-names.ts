import { DataPointType, type MetricData, type ResourceMetrics } from "@opentelemetry/sdk-metrics";

/** OTel units that become a word at the end of a Prometheus name (OTel's Prometheus compatibility spec). */
const UNIT_WORDS: Record<string, string> = { s: "seconds", ms: "milliseconds", us: "microseconds", ns: "nanoseconds", By: "bytes", KiBy: "kibibytes", MiBy: "mebibytes", GiBy: "gibibytes", "%": "percent" };

/**
 * Names metrics the way the OpenTelemetry Collector's Prometheus exporter does, so that a dashboard
 * reads the same series from /metrics and from a collector: a unit becomes a suffix
 * (`gen_ai.server.time_to_first_token`, unit s → `gen_ai_server_time_to_first_token_seconds`),
 * `{token}`-style annotations are dropped, a gauge of unit 1 ends in `_ratio`. The serializer adds
 * `_total` to counters. The OTLP export keeps the instruments' own names.
 */
export function withUnitSuffixes(resourceMetrics: ResourceMetrics): ResourceMetrics {
  return {
    ...resourceMetrics,
    scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({ ...scope, metrics: scope.metrics.map(renamed) })),
  };
}

function renamed(metric: MetricData): MetricData {
  const { name, unit } = metric.descriptor;
  const word = unit === "1" ? (metric.dataPointType === DataPointType.GAUGE ? "ratio" : undefined) : UNIT_WORDS[unit];
  const annotationOnly = /^\{[^}]*\}$/.test(unit);
  if (!word && !annotationOnly) return metric;
  const suffixed = word && !name.endsWith(`.${word}`) && !name.endsWith(`_${word}`) ? `${name}_${word}` : name;
  return { ...metric, descriptor: { ...metric.descriptor, name: suffixed, unit: word ?? "" } } as MetricData;
}
