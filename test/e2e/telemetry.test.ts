import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { ndjsonLines, postJson } from "../harness/ndjson.ts";
import { promValue, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../harness/otlp.ts";
import { freePort } from "../harness/ports.ts";
import { copiesOf, getPs, pollUntil, sleep } from "../harness/scenario.ts";

/**
 * Traces, metrics and the request log line, end to end: real gateway and worker processes over a
 * real Redis, exporting to an in-process OTLP/HTTP receiver; and the single process with no
 * OTLP endpoint at all.
 */
const MODEL = "stories260K";
const CANONICAL = "stories260k:latest";
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

type Answer = { prompt_eval_count: number; prompt_cached_count?: number; eval_count: number; done_reason?: string; load_duration: number };

/** A client's traceparent: the request's spans all land in `traceId`. */
function clientTrace() {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, headers: { traceparent: `00-${traceId}-${spanId}-01` } };
}

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Answer & Record<string, unknown> }> {
  const response = await postJson(`${url}${path}`, body, { headers: { "content-type": "application/json", ...headers } });
  return { status: response.status, body: (await response.json()) as Answer & Record<string, unknown> };
}

const chatBody = (numPredict: number, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  stream: false,
  messages: [{ role: "user", content: "Once upon a time" }],
  options: { temperature: 0, top_k: 20, top_p: 0.9, seed: 42, num_predict: numPredict },
  ...extra,
});

describe("telemetry over Redis (gateway + worker processes, OTLP receiver)", () => {
  let receiver: OtlpReceiver;
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  let url: string;
  let workerMetrics: string;
  const startedAt = Date.now();
  const answers: Array<{ op: "chat" | "text_completion" | "embeddings"; body: Answer }> = [];
  const traces = { cold: clientTrace(), stream: clientTrace(), raw: clientTrace(), embed: clientTrace(), keepAlive0: clientTrace() };

  const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
  const one = (spans: ReceivedSpan[], name: string) => {
    const found = spans.filter((s) => s.name === name);
    expect(found.map((s) => s.name), `spans named ${name} in ${JSON.stringify(spans.map((s) => s.name))}`).toEqual([name]);
    return found[0]!;
  };
  /** Waits until the trace holds the job's spans (they come from two processes, in batches). */
  const waitForTrace = (traceId: string, names: string[]) =>
    pollUntil(async () => spansOf(traceId), (spans) => names.every((n) => spans.some((s) => s.name === n)), 15_000, `spans ${names.join(", ")} of trace ${traceId}`);

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const metricsPort = await freePort();
    cluster = await startRedisCluster({
      gateways: 1,
      workers: 1,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: "100",
        OTEL_METRIC_EXPORT_INTERVAL: "500",
        CARAVAN_METRICS_PORT: String(metricsPort),
      },
    });
    url = cluster.gatewayUrls[0]!;
    workerMetrics = `http://127.0.0.1:${metricsPort}/metrics`;

    // cold (the first request loads the model), then warm ones of every kind, then keep_alive 0
    const cold = await post(url, "/api/chat", chatBody(12), traces.cold.headers);
    expect(cold.status).toBe(200);
    answers.push({ op: "chat", body: cold.body });

    const stream = await postJson(`${url}/api/chat`, { ...chatBody(10), stream: true }, { headers: { "content-type": "application/json", ...traces.stream.headers } });
    let last: Record<string, unknown> = {};
    for await (const line of ndjsonLines(stream)) last = line;
    expect(last).toMatchObject({ done: true });
    answers.push({ op: "chat", body: last as unknown as Answer });

    const raw = await post(url, "/api/generate", { model: MODEL, raw: true, stream: false, prompt: "Once upon a time", options: { temperature: 0, num_predict: 9 } }, traces.raw.headers);
    expect(raw.status).toBe(200);
    answers.push({ op: "text_completion", body: raw.body });

    const embed = await post(url, "/api/embed", { model: MODEL, input: ["a cat", "a dog"] }, traces.embed.headers);
    expect(embed.status).toBe(200);
    answers.push({ op: "embeddings", body: embed.body });

    const keepAlive0 = await post(url, "/api/chat", chatBody(8, { keep_alive: 0 }), traces.keepAlive0.headers);
    expect(keepAlive0.status).toBe(200);
    answers.push({ op: "chat", body: keepAlive0.body });
  });
  afterAll(async () => {
    await cluster?.stop();
    await receiver?.close();
  });

  it("makes one connected trace per request: server span → queue wait → job span → prompt_eval, generate", async () => {
    const { traceId, spanId: clientSpanId } = traces.cold;
    const spans = await waitForTrace(traceId, ["POST /api/chat", "caravan.queue.wait", `chat ${CANONICAL}`, "caravan.prompt_eval", "caravan.generate", "caravan.model.load"]);
    const server = one(spans, "POST /api/chat");
    const wait = one(spans, "caravan.queue.wait");
    const job = one(spans, `chat ${CANONICAL}`);
    const prompt = one(spans, "caravan.prompt_eval");
    const generate = one(spans, "caravan.generate");

    // the client's traceparent is continued; each span's parent is the one before it
    expect(server).toMatchObject({ service: "caravan-gateway", kind: SERVER, parentSpanId: clientSpanId });
    expect(wait).toMatchObject({ service: "caravan-gateway", kind: PRODUCER, parentSpanId: server.spanId });
    expect(job).toMatchObject({ service: "caravan-worker", kind: CONSUMER, parentSpanId: wait.spanId });
    expect(prompt.parentSpanId).toBe(job.spanId);
    expect(generate.parentSpanId).toBe(job.spanId);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));

    const answer = answers[0]!.body;
    expect(server.attributes).toMatchObject({
      "http.request.method": "POST",
      "url.path": "/api/chat",
      "http.route": "/api/chat",
      "http.response.status_code": 200,
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": CANONICAL,
      "caravan.worker.id": "worker-1",
      "caravan.cold_start": true,
    });
    expect(server.attributes["caravan.queue.wait_ms"]).toBeGreaterThan(0);
    expect(wait.attributes).toMatchObject({ "gen_ai.request.model": CANONICAL, "caravan.worker.id": "worker-1" });
    expect(job.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": CANONICAL,
      "gen_ai.response.model": CANONICAL,
      "gen_ai.request.temperature": 0,
      "gen_ai.request.top_p": 0.9,
      "gen_ai.request.top_k": 20,
      "gen_ai.request.seed": 42,
      "gen_ai.request.max_tokens": 12,
      "gen_ai.usage.input_tokens": answer.prompt_eval_count,
      "gen_ai.usage.output_tokens": answer.eval_count,
      "gen_ai.response.finish_reasons": ["length"],
      "caravan.worker.id": "worker-1",
    });
    expect(job.attributes["caravan.job.id"]).toEqual(server.attributes["caravan.job.id"]);
    expect(job.attributes["gen_ai.response.id"]).toEqual(server.attributes["caravan.job.id"]);
    expect(answer.eval_count).toBe(12);

    // built after the fact from measured durations: inside the job span, prompt before generation
    expect(prompt.endMs).toBeCloseTo(generate.startMs, 3);
    expect(prompt.startMs).toBeGreaterThanOrEqual(job.startMs);
    expect(generate.endMs).toBeLessThanOrEqual(job.endMs);
    expect(job.startMs).toBeGreaterThanOrEqual(wait.startMs - 50); // two processes' clocks, one machine
  });

  it("shows the model load in a cold request's trace, and none in a warm one", async () => {
    // The gateway's spans and the worker's reach the receiver in separate exports: wait for each one used.
    const cold = await waitForTrace(traces.cold.traceId, ["POST /api/chat", "caravan.model.load"]);
    const load = one(cold, "caravan.model.load");
    expect(load).toMatchObject({ service: "caravan-worker", parentSpanId: one(cold, "POST /api/chat").spanId });
    expect(load.attributes).toMatchObject({ "gen_ai.request.model": CANONICAL, "caravan.worker.id": "worker-1" });
    expect(load.endMs - load.startMs).toBeGreaterThan(0);

    const warm = await waitForTrace(traces.stream.traceId, ["POST /api/chat", `chat ${CANONICAL}`, "caravan.generate"]);
    expect(warm.map((s) => s.name)).not.toContain("caravan.model.load");
    expect(one(warm, "POST /api/chat").attributes["caravan.cold_start"]).toBe(false);
    expect(one(warm, `chat ${CANONICAL}`).attributes).toMatchObject({ "caravan.cold_start": false, "gen_ai.usage.output_tokens": answers[1]!.body.eval_count });
    // the warm request repeats the cold one's prompt: its sequence held it, and both spans say how much
    expect(answers[1]!.body.prompt_cached_count).toBeGreaterThan(0);
    for (const name of ["POST /api/chat", `chat ${CANONICAL}`]) {
      expect(one(warm, name).attributes).toMatchObject({ "gen_ai.usage.input_tokens": answers[1]!.body.prompt_eval_count, "caravan.usage.cached_input_tokens": answers[1]!.body.prompt_cached_count });
    }
  });

  it("names the job span per GenAI operation: text_completion for raw generate, embeddings without a generate span", async () => {
    const raw = await waitForTrace(traces.raw.traceId, ["POST /api/generate", `text_completion ${CANONICAL}`, "caravan.generate"]);
    expect(one(raw, "POST /api/generate").attributes).toMatchObject({ "gen_ai.operation.name": "text_completion" });
    expect(one(raw, `text_completion ${CANONICAL}`).attributes).toMatchObject({ "gen_ai.usage.output_tokens": 9, "gen_ai.request.max_tokens": 9 });

    const embed = await waitForTrace(traces.embed.traceId, [`embeddings ${CANONICAL}`, "caravan.prompt_eval"]);
    const job = one(embed, `embeddings ${CANONICAL}`);
    expect(job.attributes).toMatchObject({ "gen_ai.usage.input_tokens": answers[3]!.body.prompt_eval_count, "gen_ai.response.finish_reasons": ["stop"] });
    expect(job.attributes["gen_ai.usage.output_tokens"]).toBeUndefined();
    expect(embed.map((s) => s.name)).not.toContain("caravan.generate");
  });

  it("loads again after keep_alive 0, and that request's trace (started by the gateway) has the load", async () => {
    await pollUntil(() => getPs(url), (ps) => copiesOf(ps, MODEL).length === 0, 10_000, "the model unloaded after keep_alive 0");
    const again = await post(url, "/api/chat", chatBody(7));
    expect(again.status).toBe(200);
    answers.push({ op: "chat", body: again.body });
    // no traceparent from the client: the gateway's server span is the root
    const roots = await pollUntil(
      async () => receiver.spans.filter((s) => s.name === "POST /api/chat" && s.parentSpanId === undefined),
      (found) => found.length === 1,
      15_000,
      "the root server span",
    );
    const spans = await waitForTrace(roots[0]!.traceId, ["caravan.model.load", `chat ${CANONICAL}`, "caravan.generate"]);
    expect(one(spans, "POST /api/chat").attributes).toMatchObject({ "caravan.cold_start": true, "gen_ai.usage.output_tokens": 7 });
    expect(one(spans, "caravan.model.load").service).toBe("caravan-worker");
  });

  it("refuses with a reason, and /metrics on the gateway and the worker add up to the requests made", async () => {
    expect((await post(url, "/api/chat", { ...chatBody(4), model: "no-such-model" })).status).toBe(404);
    const tools = [{ type: "function", function: { name: "f", description: "d", parameters: { type: "object", properties: {} } } }];
    expect((await post(url, "/api/chat", chatBody(4, { tools }))).status).toBe(400);
    const elapsedS = (Date.now() - startedAt) / 1000;

    const gateway = await (await fetch(`${url}/metrics`)).text();
    const model = { gen_ai_request_model: CANONICAL };
    const count = (op: string) => answers.filter((a) => a.op === op).length;
    const sum = (pick: (a: Answer) => number, ops = ["chat", "text_completion"]) => answers.filter((a) => ops.includes(a.op)).reduce((n, a) => n + pick(a.body), 0);
    for (const op of ["chat", "text_completion", "embeddings"]) {
      expect(promValue(gateway, "gen_ai_server_request_duration_seconds_count", { ...model, gen_ai_operation_name: op }), op).toBe(count(op));
      expect(promValue(gateway, "caravan_queue_wait_seconds_count", { ...model, gen_ai_operation_name: op }), op).toBe(count(op));
    }
    const generating = count("chat") + count("text_completion");
    expect(promValue(gateway, "gen_ai_server_time_to_first_token_seconds_count", model)).toBe(generating);
    expect(promValue(gateway, "gen_ai_server_time_per_output_token_seconds_count", model)).toBe(generating);
    expect(promValue(gateway, "gen_ai_client_token_usage_sum", { ...model, gen_ai_token_type: "output" })).toBe(sum((a) => a.eval_count));
    expect(promValue(gateway, "gen_ai_client_token_usage_count", { ...model, gen_ai_token_type: "output" })).toBe(generating);
    expect(promValue(gateway, "gen_ai_client_token_usage_sum", { ...model, gen_ai_token_type: "input" })).toBe(sum((a) => a.prompt_eval_count, ["chat", "text_completion", "embeddings"]));
    const cached = sum((a) => a.prompt_cached_count ?? 0);
    expect(cached).toBeGreaterThan(0);
    expect(promValue(gateway, "caravan_prompt_cached_tokens_total", model)).toBe(cached);
    // durations: plausible and consistent (first token before the end; all within the test's time)
    const ttft = promValue(gateway, "gen_ai_server_time_to_first_token_seconds_sum", model);
    const duration = promValue(gateway, "gen_ai_server_request_duration_seconds_sum", model);
    expect(ttft).toBeGreaterThan(0);
    expect(ttft).toBeLessThan(promValue(gateway, "gen_ai_server_request_duration_seconds_sum", { ...model, gen_ai_operation_name: "chat" }) + promValue(gateway, "gen_ai_server_request_duration_seconds_sum", { ...model, gen_ai_operation_name: "text_completion" }));
    expect(duration).toBeLessThan(elapsedS);
    expect(promValue(gateway, "gen_ai_server_time_to_first_token_seconds_bucket", { ...model, le: "+Inf" })).toBe(generating);
    expect(promValue(gateway, "caravan_requests_rejected_total", { caravan_reject_reason: "not_found" })).toBe(1);
    expect(promValue(gateway, "caravan_requests_rejected_total", { caravan_reject_reason: "capability" })).toBe(1);
    expect(promValue(gateway, "caravan_errors_total")).toBe(0);
    expect(gateway).toMatch(/^caravan_queue_depth\{gen_ai_request_model="stories260k:latest",otel_scope_name="caravan"\} 0$/m);

    const worker = await (await fetch(workerMetrics)).text();
    const here = { caravan_worker_id: "worker-1", ...model };
    expect(promValue(worker, "caravan_model_loads_total", here)).toBe(2); // the first request, and the one after keep_alive 0
    expect(promValue(worker, "caravan_model_load_duration_seconds_count", here)).toBe(2);
    const loadS = promValue(worker, "caravan_model_load_duration_seconds_sum", here);
    expect(loadS).toBeGreaterThan(0);
    expect(loadS).toBeLessThan(elapsedS);
    expect(promValue(worker, "caravan_tokens_generated_total", here)).toBe(sum((a) => a.eval_count));
    expect(promValue(worker, "caravan_models_loaded", { caravan_worker_id: "worker-1" })).toBe(1);
    expect(promValue(worker, "caravan_sequences_busy", here)).toBe(0);
    expect(promValue(worker, "caravan_sequences_free", here)).toBe(4);
    // each process has its own metrics: the gateway holds no worker instruments, and back
    expect(gateway).not.toContain("caravan_model_loads_total");
    expect(worker).not.toContain("gen_ai_server_request_duration");
  });

  it("exports metrics over OTLP too, under the instruments' own names", async () => {
    const names = await pollUntil(
      async () => receiver.metricNames,
      (m) => Boolean(m.get("caravan-gateway")?.has("gen_ai.server.request.duration") && m.get("caravan-worker")?.has("caravan.tokens.generated")),
      10_000,
      "OTLP metrics from both processes",
    );
    expect([...names.get("caravan-gateway")!]).toEqual(expect.arrayContaining(["gen_ai.server.time_to_first_token", "caravan.queue.wait", "caravan.queue.depth"]));
    expect([...names.get("caravan-worker")!]).toEqual(expect.arrayContaining(["caravan.model.loads", "caravan.model.load.duration", "caravan.models.loaded"]));
  });
});

describe("telemetry in one process with no OTLP endpoint", () => {
  let single: Deployment;
  let url: string;
  beforeAll(async () => {
    single = await startSingleProcess();
    url = single.gatewayUrls[0]!;
  });
  afterAll(async () => single?.stop());

  it("serves the gateway's and the worker's metrics at /metrics, and logs one line per request without any text", async () => {
    const prompt = "Zebras dance under purple moons";
    const chat = await post(url, "/api/chat", { ...chatBody(6), messages: [{ role: "user", content: prompt }] });
    expect(chat.status).toBe(200);
    const missing = await post(url, "/api/chat", { ...chatBody(6), model: "absent-model" });
    expect(missing.status).toBe(404);

    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(promValue(text, "gen_ai_server_request_duration_seconds_count", { gen_ai_request_model: CANONICAL })).toBe(1);
    expect(promValue(text, "caravan_tokens_generated_total", { gen_ai_request_model: CANONICAL })).toBe(6);
    expect(promValue(text, "caravan_model_loads_total", { gen_ai_request_model: CANONICAL })).toBe(1);
    expect(promValue(text, "caravan_requests_rejected_total", { caravan_reject_reason: "not_found" })).toBe(1);
    expect(text).toMatch(/^target_info\{.*service_name="caravan"/m);

    // The "request" log line is the feature under test here (its fields, and no prompt or output
    // text in it), so the log is the oracle; metrics are checked above.
    const proc = single.workers[0]!;
    const line = await proc.waitForLog((l) => l.msg === "request" && l.path === "/api/chat" && l.status === 200, 5000);
    expect(line).toMatchObject({
      method: "POST",
      model: CANONICAL,
      status: 200,
      done_reason: "length",
      prompt_tokens: chat.body.prompt_eval_count,
      output_tokens: 6,
    });
    expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(line.trace_id).not.toBe("0".repeat(32));
    expect(typeof line.worker).toBe("string");
    for (const key of ["ttft_ms", "duration_ms", "queue_wait_ms"]) expect(line[key], key).toBeGreaterThanOrEqual(0);
    expect(line.ttft_ms as number).toBeLessThanOrEqual(line.duration_ms as number);
    expect(line.error).toBeUndefined();
    const raw = JSON.stringify(line);
    expect(raw).not.toContain(prompt);
    expect(raw).not.toContain((chat.body.message as { content: string }).content);
    // the worker's line for the same job carries the same trace id
    const finished = await proc.waitForLog((l) => l.msg === "job finished" && l.trace_id === line.trace_id, 5000);
    expect(finished.eval_count).toBe(6);

    const refused = await proc.waitForLog((l) => l.msg === "request" && l.status === 404, 5000);
    expect(refused).toMatchObject({ method: "POST", path: "/api/chat" });
    expect(String(refused.error)).toContain("absent-model");
    // scrapes are not requests
    expect(proc.logs.some((l) => l.msg === "request" && l.path === "/metrics")).toBe(false);
  });

  it("stops promptly: nothing waits on an exporter", async () => {
    const started = Date.now();
    expect(await single.workers[0]!.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
