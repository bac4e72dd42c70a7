import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { inMemoryTelemetry } from "@caravan/telemetry";
import { InMemoryTransport } from "@caravan/transport";
import { createApp } from "../app.ts";
import { Dispatcher } from "../dispatch/dispatcher.ts";
import { enginelessWorkerState } from "../testing/engineless-worker.ts";
import { GatewayTelemetry } from "./gateway-telemetry.ts";

/**
 * The request middleware in process: server spans (continuing a client's traceparent), the
 * rejection counter by reason, the "request" log line, and GET /metrics. Requests here are
 * refused before any job exists; the job path is covered end to end (test/e2e/telemetry.test.ts).
 */
const transport = new InMemoryTransport();
await transport.advertise(enginelessWorkerState());
const lines: Array<Record<string, unknown>> = [];
const log = pino(
  { level: "info" },
  new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  }),
);
const telemetry = inMemoryTelemetry();
const gatewayTelemetry = new GatewayTelemetry(telemetry, transport);
const dispatcher = new Dispatcher({ transport, log, maxQueue: 4, maxQueuePerModel: 4, queueTimeoutMs: 1000, spillBacklog: 4, telemetry: gatewayTelemetry });
const app = createApp({ transport, dispatcher, log, version: "9.9.9", telemetry: gatewayTelemetry });

const chat = (body: object, headers: Record<string, string> = {}) =>
  app.request("/api/chat", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });

describe("request telemetry", () => {
  it("continues the client's traceparent in a server span named by route, with the status", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const response = await chat({ model: "nope", messages: [{ role: "user", content: "hi" }] }, { traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    expect(response.status).toBe(404);
    const span = telemetry.finishedSpans().find((s) => s.spanContext().traceId === traceId)!;
    expect(span.name).toBe("POST /api/chat");
    expect(span.kind).toBe(1); // SERVER
    expect(span.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    expect(span.attributes).toMatchObject({ "http.request.method": "POST", "url.path": "/api/chat", "http.route": "/api/chat", "http.response.status_code": 404, "error.type": "model_not_found" });
    expect(span.status.code).toBe(0); // a 4xx is the client's error, not the server span's
  });

  it("counts refusals by reason and writes one log line per request, without the prompt", async () => {
    const secret = "a prompt that must not be logged";
    expect((await chat({ model: "stories260K", messages: [{ role: "user", content: secret, images: ["aGVsbG8="] }] })).status).toBe(400);
    expect((await chat({ model: "stories260K", messages: "not a list" })).status).toBe(400);
    expect((await app.request("/api/nowhere")).status).toBe(404);

    const text = await (await app.request("/metrics")).text();
    expect(text).toMatch(/^caravan_requests_rejected_total\{caravan_reject_reason="capability",otel_scope_name="caravan"\} 1$/m);
    expect(text).toMatch(/^caravan_requests_rejected_total\{caravan_reject_reason="bad_request",otel_scope_name="caravan"\} 1$/m);
    expect(text).toMatch(/^caravan_requests_rejected_total\{caravan_reject_reason="not_found",otel_scope_name="caravan"\} 2$/m);
    expect(text).toMatch(/^caravan_queue_depth\{gen_ai_request_model="stories260k:latest",otel_scope_name="caravan"\} 0$/m);

    const requests = lines.filter((l) => l.msg === "request");
    expect(requests.map((l) => [l.path, l.status])).toEqual([
      ["/api/chat", 404],
      ["/api/chat", 400],
      ["/api/chat", 400],
      ["/api/nowhere", 404],
    ]);
    expect(requests[1]).toMatchObject({ method: "POST", error: '"stories260K" does not support images' });
    for (const line of requests) {
      expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(line.duration_ms).toBeGreaterThanOrEqual(0);
    }
    expect(JSON.stringify(lines)).not.toContain(secret);
    // a scrape is neither a span nor a log line
    expect(telemetry.finishedSpans().some((s) => s.attributes["url.path"] === "/metrics")).toBe(false);
  });
});
