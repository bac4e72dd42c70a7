import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** One span as an OTLP/HTTP JSON exporter sent it, flattened: attributes as plain values, the sender's service.name. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  /** 0 unset, 1 ok, 2 error */
  statusCode: number;
}

export interface OtlpReceiver {
  /** what OTEL_EXPORTER_OTLP_ENDPOINT should be */
  url: string;
  spans: ReceivedSpan[];
  /** names of the metrics received on /v1/metrics, by service */
  metricNames: Map<string, Set<string>>;
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: OtlpValue[] } };
type OtlpAttribute = { key: string; value: OtlpValue };
type OtlpResource = { resource?: { attributes?: OtlpAttribute[] } };

function plain(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  return undefined;
}

const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, plain(a.value)]));
const serviceOf = (resource: OtlpResource) => String(attributesOf(resource.resource?.attributes)["service.name"] ?? "");

/**
 * An in-process OTLP/HTTP receiver (what an OpenTelemetry Collector listens for on 4318), taking
 * the JSON bodies that @opentelemetry/exporter-*-otlp-http POST to /v1/traces and /v1/metrics.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metricNames = new Map<string, Set<string>>();
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      try {
        const parsed = JSON.parse(body) as Record<string, unknown>;
        if (request.url === "/v1/traces") {
          for (const rs of (parsed.resourceSpans ?? []) as Array<OtlpResource & { scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>) {
            for (const scope of rs.scopeSpans ?? []) {
              for (const span of scope.spans ?? []) {
                spans.push({
                  service: serviceOf(rs),
                  traceId: String(span.traceId),
                  spanId: String(span.spanId),
                  parentSpanId: span.parentSpanId ? String(span.parentSpanId) : undefined,
                  name: String(span.name),
                  kind: Number(span.kind),
                  startMs: Number(BigInt(String(span.startTimeUnixNano)) / 1000n) / 1000,
                  endMs: Number(BigInt(String(span.endTimeUnixNano)) / 1000n) / 1000,
                  attributes: attributesOf(span.attributes as OtlpAttribute[]),
                  statusCode: Number((span.status as { code?: number } | undefined)?.code ?? 0),
                });
              }
            }
          }
        } else if (request.url === "/v1/metrics") {
          for (const rm of (parsed.resourceMetrics ?? []) as Array<OtlpResource & { scopeMetrics?: Array<{ metrics?: Array<{ name: string }> }> }>) {
            const names = metricNames.get(serviceOf(rm)) ?? new Set<string>();
            metricNames.set(serviceOf(rm), names);
            for (const scope of rm.scopeMetrics ?? []) for (const metric of scope.metrics ?? []) names.add(metric.name);
          }
        }
        response.writeHead(200, { "Content-Type": "application/json" }).end("{}");
      } catch {
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    metricNames,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The sum of the values of every sample of `name` in Prometheus text whose labels include
 * `labels` (0 when none matches).
 */
export function promValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) sum += Number(match[3]);
  }
  return sum;
}
