import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LATENCY_BUCKETS_S } from "./buckets.ts";
import { startMetricsServer } from "./metrics-server.ts";
import { startTelemetry, type Telemetry } from "./telemetry.ts";

// startTelemetry is once per process; shutdown() lets the next test start it again with other variables.
let telemetry: Telemetry | undefined;
const saved = { ...process.env };
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
  process.env = { ...saved };
});

describe("startTelemetry", () => {
  it("starts once per process and honours OTEL_SERVICE_NAME", async () => {
    process.env.OTEL_SERVICE_NAME = "from-env";
    telemetry = startTelemetry({ serviceName: "caravan-test" });
    expect(startTelemetry({ serviceName: "other" })).toBe(telemetry);
    expect(telemetry.enabled).toBe(true);
    expect(telemetry.exporting).toEqual({ traces: false, metrics: false });
    expect(await telemetry.prometheus()).toMatch(/target_info\{service_name="from-env"/);
  });

  it("writes Prometheus names as the collector does: unit suffixes, _total on counters, no {token}", async () => {
    telemetry = startTelemetry({ serviceName: "caravan-test" });
    const { meter } = telemetry;
    const attributes = { "gen_ai.request.model": "m:latest", "gen_ai.operation.name": "chat" };
    meter.createHistogram("gen_ai.server.time_to_first_token", { unit: "s", advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S } }).record(0.3, attributes);
    meter.createHistogram("gen_ai.client.token.usage", { unit: "{token}" }).record(7, { ...attributes, "gen_ai.token.type": "output" });
    meter.createCounter("caravan.tokens.generated", { unit: "{token}" }).add(5, { "caravan.worker.id": "w1" });
    meter.createObservableGauge("caravan.queue.depth").addCallback((result) => result.observe(2, { "gen_ai.request.model": "m:latest" }));

    const text = await telemetry.prometheus();
    expect(text).toContain('gen_ai_server_time_to_first_token_seconds_bucket{gen_ai_request_model="m:latest",gen_ai_operation_name="chat",otel_scope_name="caravan",le="0.005"} 0');
    expect(text).toContain('gen_ai_server_time_to_first_token_seconds_bucket{gen_ai_request_model="m:latest",gen_ai_operation_name="chat",otel_scope_name="caravan",le="0.5"} 1');
    expect(text).toContain('gen_ai_server_time_to_first_token_seconds_count{gen_ai_request_model="m:latest",gen_ai_operation_name="chat",otel_scope_name="caravan"} 1');
    expect(text).toMatch(/^gen_ai_client_token_usage_sum\{.*gen_ai_token_type="output".*\} 7$/m);
    expect(text).toMatch(/^caravan_tokens_generated_total\{caravan_worker_id="w1",otel_scope_name="caravan"\} 5$/m);
    expect(text).toMatch(/^caravan_queue_depth\{gen_ai_request_model="m:latest",otel_scope_name="caravan"\} 2$/m);
    expect(text).not.toContain("{token}");
  });

  it("exports spans over OTLP/HTTP when an endpoint is set, and only then", async () => {
    const bodies: unknown[] = [];
    const receiver: Server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk)).on("end", () => {
        if (request.url === "/v1/traces") bodies.push(JSON.parse(body));
        response.writeHead(200, { "Content-Type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      process.env.OTEL_METRICS_EXPORTER = "none";
      telemetry = startTelemetry({ serviceName: "caravan-test" });
      expect(telemetry.exporting).toEqual({ traces: true, metrics: false });
      telemetry.tracer.startSpan("exported", { attributes: { "caravan.job.id": "j1" } }).end();
      await telemetry.shutdown(); // flushes
      const spans = JSON.stringify(bodies);
      expect(spans).toContain('"name":"exported"');
      expect(spans).toContain('"caravan.job.id"');
    } finally {
      receiver.close();
    }
  });

  it("shuts down at once with no endpoint; OTEL_SDK_DISABLED gives no-op telemetry", async () => {
    const started = Date.now();
    await startTelemetry({ serviceName: "caravan-test" }).shutdown();
    expect(Date.now() - started).toBeLessThan(1000);
    process.env.OTEL_SDK_DISABLED = "true";
    telemetry = startTelemetry({ serviceName: "caravan-test" });
    expect(telemetry.enabled).toBe(false);
    telemetry.meter.createCounter("x").add(1);
    expect(telemetry.tracer.startSpan("x").isRecording()).toBe(false);
    expect(await telemetry.prometheus()).toBe("");
  });
});

describe("startMetricsServer", () => {
  it("serves GET /metrics, 404 elsewhere, and refuses a port that is taken", async () => {
    telemetry = startTelemetry({ serviceName: "caravan-test" });
    telemetry.meter.createCounter("caravan.model.loads").add(3);
    const server = await startMetricsServer(telemetry, { port: 0, host: "127.0.0.1" });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      expect(await response.text()).toMatch(/^caravan_model_loads_total\{otel_scope_name="caravan"\} 3$/m);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
      await expect(startMetricsServer(telemetry, { port: server.port, host: "127.0.0.1" })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await server.close();
      await server.close();
    }
  });
});
