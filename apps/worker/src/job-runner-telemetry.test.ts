import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { JobMessage, WIRE_VERSION, type ChatJob } from "@caravan/protocol";
import { inMemoryTelemetry, injectTraceContext, type ReadableSpan } from "@caravan/telemetry";
import type { EventBody } from "@caravan/transport";
import { scanModels, type CatalogEntry } from "./catalog/catalog.ts";
import { TEST_MODELS_DIR } from "./catalog/test-models.ts";
import { LlamaEngine, type LoadedModel } from "./engine/index.ts";
import { runJob } from "./job-runner.ts";
import type { Residency } from "./residency/index.ts";
import { WorkerTelemetry } from "./telemetry/worker-telemetry.ts";
import { engineResidency } from "./testing/engines.ts";

// runJob's spans and metrics on the real engine and tiny model, kept in memory.
const telemetry = inMemoryTelemetry();
const workerTelemetry = new WorkerTelemetry(telemetry, "w1");
let engine: LlamaEngine;
let residency: Residency<LoadedModel>;
let entries: CatalogEntry[];

beforeAll(async () => {
  entries = await scanModels(TEST_MODELS_DIR);
  engine = await LlamaEngine.create({ threads: 1, numParallel: 1, gpu: false, defaultNumCtx: 512 });
  residency = engineResidency(engine, entries, { onLoad: (model, loadDurationNs) => workerTelemetry.recordLoad(model, loadDurationNs) });
  workerTelemetry.observe(() => residency.snapshot());
});
afterAll(async () => {
  workerTelemetry.close();
  await engine?.close();
  await telemetry.shutdown();
});

/** Runs a job under a gateway span of our own; returns its events and the spans of its trace. */
async function run(fields: Partial<ChatJob>): Promise<{ events: EventBody[]; spans: ReadableSpan[]; parent: ReadableSpan }> {
  const gateway = telemetry.tracer.startSpan("caravan.queue.wait");
  const job = JobMessage.parse({
    v: WIRE_VERSION,
    type: "job",
    kind: "chat",
    id: `job-${Math.random()}`,
    model: "stories260k:latest",
    messages: [{ role: "user", content: "Once upon a time" }],
    options: { temperature: 0, num_predict: 10 },
    accepted_at: Date.now(),
    trace: injectTraceContext(gateway),
    ...fields,
  });
  const events: EventBody[] = [];
  await runJob(job, { signal: new AbortController().signal, emit: async (event) => void events.push(event) }, {
    residency,
    catalog: () => entries,
    workerId: "w1",
    log: pino({ level: "silent" }),
    telemetry: workerTelemetry,
  });
  gateway.end();
  const traceId = gateway.spanContext().traceId;
  const spans = telemetry.finishedSpans().filter((s) => s.spanContext().traceId === traceId);
  return { events, spans, parent: spans.find((s) => s.name === "caravan.queue.wait")! };
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const ms = (time: [number, number]) => time[0] * 1e3 + time[1] / 1e6;

describe("runJob telemetry", () => {
  it("traces a cold job: the job span under the carried context, with load, prompt_eval and generate inside it", async () => {
    const { events, spans, parent } = await run({ options: { temperature: 0, top_k: 5, seed: 7, num_predict: 10 } });
    const done = events.at(-1)!;
    if (done.type !== "done") throw new Error(`job failed: ${JSON.stringify(done)}`);
    const [job] = named(spans, "chat stories260k:latest");
    expect(job).toBeDefined();
    expect(job!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(job!.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "stories260k:latest",
      "gen_ai.response.model": "stories260k:latest",
      "gen_ai.request.temperature": 0,
      "gen_ai.request.top_k": 5,
      "gen_ai.request.seed": 7,
      "gen_ai.request.max_tokens": 10,
      "gen_ai.usage.input_tokens": done.metrics.prompt_eval_count,
      "gen_ai.usage.output_tokens": 10,
      "gen_ai.response.finish_reasons": ["length"],
      "caravan.worker.id": "w1",
      "caravan.cold_start": true,
    });
    expect(done.metrics.load_duration).toBeGreaterThan(0);

    const children = ["caravan.model.load", "caravan.prompt_eval", "caravan.generate"].map((name) => named(spans, name));
    for (const [i, found] of children.entries()) expect(found, ["load", "prompt_eval", "generate"][i]).toHaveLength(1);
    const [load, prompt, generate] = children.map((c) => c[0]!);
    for (const child of [load, prompt, generate]) {
      expect(child!.parentSpanContext?.spanId).toBe(job!.spanContext().spanId);
      expect(ms(child!.startTime)).toBeGreaterThanOrEqual(ms(job!.startTime) - 0.01);
      expect(ms(child!.endTime)).toBeLessThanOrEqual(ms(job!.endTime) + 0.01);
    }
    // durations are the engine's measurements
    expect(ms(generate!.endTime) - ms(generate!.startTime)).toBeCloseTo(done.metrics.eval_duration / 1e6, 1);
    expect(ms(prompt!.endTime) - ms(prompt!.startTime)).toBeCloseTo(done.metrics.prompt_eval_duration / 1e6, 1);
    expect(ms(load!.endTime) - ms(load!.startTime)).toBeCloseTo(done.metrics.load_duration / 1e6, 1);
  });

  it("has no load span when the model is warm, and counts tokens and loads per model", async () => {
    const { spans, events } = await run({});
    expect(named(spans, "caravan.model.load")).toHaveLength(0);
    expect(named(spans, "chat stories260k:latest")[0]!.attributes["caravan.cold_start"]).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: "done", metrics: { eval_count: 10, load_duration: 0 } });
    const text = await telemetry.prometheus();
    expect(text).toMatch(/^caravan_model_loads_total\{caravan_worker_id="w1",caravan_engine="llama",gen_ai_request_model="stories260k:latest",otel_scope_name="caravan"\} 1$/m);
    expect(text).toMatch(/^caravan_tokens_generated_total\{caravan_worker_id="w1",caravan_engine="llama",gen_ai_request_model="stories260k:latest",otel_scope_name="caravan"\} 20$/m);
    expect(text).toMatch(/^caravan_models_loaded\{caravan_worker_id="w1",caravan_engine="llama",otel_scope_name="caravan"\} 1$/m);
    expect(text).toMatch(/^caravan_sequences_free\{caravan_worker_id="w1",caravan_engine="llama",gen_ai_request_model="stories260k:latest",otel_scope_name="caravan"\} 1$/m);
  });

  it("marks a failed job with error.type and an error status", async () => {
    const { spans, events } = await run({ model: "missing:latest" });
    expect(events.at(-1)).toMatchObject({ type: "error", code: "model_not_found" });
    const [job] = named(spans, "chat missing:latest");
    expect(job!.attributes["error.type"]).toBe("model_not_found");
    expect(job!.status.code).toBe(2);
  });
});
