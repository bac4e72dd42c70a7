import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WIRE_VERSION, type WorkerState } from "@caravan/protocol";
import { RedisWorkerTransport } from "@caravan/transport";
import { freePort } from "../harness/ports.ts";
import { postJson } from "../harness/ndjson.ts";
import { MODELS_DIR, startCaravan, type CaravanProcess } from "../harness/processes.ts";
import { startRedis, type TestRedis } from "../harness/redis.ts";

/**
 * What one gateway process says about the cluster while workers come and go (real redis-server):
 * no worker yet is a 503 to retry, not a 404; a model a worker advertised a moment ago is found,
 * even though the gateway read the workers' states less than its ~1 s cache ago; and /api/ps
 * shows a request's keep_alive as soon as the request has ended.
 */
const MODEL = "stories260k:latest";
const HOUR = 3_600_000;

interface Ps {
  models: Array<{ name: string; worker: string; expires_at: string; busy: number }>;
}

describe("the cluster as one gateway sees it", () => {
  let redis: TestRedis;
  let gateway: CaravanProcess;
  let worker: CaravanProcess | undefined;
  let url: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    redis = await startRedis();
    env = { CARAVAN_MODELS: MODELS_DIR, CARAVAN_THREADS: "1", CARAVAN_NUM_PARALLEL: "2", REDIS_URL: redis.url, CARAVAN_REDIS_PREFIX: `view-${process.pid}` };
    const port = await freePort();
    gateway = await startCaravan("gateway", { ...env, CARAVAN_HOST: `127.0.0.1:${port}` });
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await Promise.allSettled([gateway, worker].map((p) => p?.stop()));
    await redis?.stop();
  });

  const chat = async (body: Record<string, unknown>) => {
    const response = await postJson(`${url}/api/chat`, { model: "stories260K", messages: [{ role: "user", content: "Once upon a time" }], stream: false, ...body });
    return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as Record<string, unknown> };
  };

  it("answers 503 with Retry-After while no worker has registered, not 404", async () => {
    expect(await chat({})).toEqual({ status: 503, retryAfter: "2", body: { error: "no worker available; try again shortly" } });
    const show = await postJson(`${url}/api/show`, { model: "stories260K" });
    expect(show.status).toBe(503);
    expect(show.headers.get("retry-after")).toBe("2");
    const openai = await postJson(`${url}/v1/chat/completions`, { model: "stories260K", messages: [{ role: "user", content: "Hi" }] });
    expect(openai.status).toBe(503);
    expect(await openai.json()).toMatchObject({ error: { message: "no worker available; try again shortly", type: "api_error" } });
  });

  it("finds a model that a worker advertised right after the gateway last read the workers", async () => {
    // The gateway reads the workers now (nobody) and would keep that for ~1 s.
    expect(await (await fetch(`${url}/api/tags`)).json()).toEqual({ models: [] });
    // A worker registers: a stub in this process, with the model loaded, that answers "ok".
    const stub = new RedisWorkerTransport({ url: redis.url, prefix: env.CARAVAN_REDIS_PREFIX!, workerId: "stub" });
    try {
      await stub.onCommand(async () => ({ ok: true, load_duration: 0 }));
      await stub.serve(
        MODEL,
        async (_job, ctx) => {
          await ctx.emit({ type: "started", worker_id: "stub" });
          await ctx.emit({ type: "chunk", content: "ok" });
          await ctx.emit({ type: "done", done_reason: "stop", worker_id: "stub", metrics: { load_duration: 0, prompt_eval_count: 1, prompt_eval_duration: 1, eval_count: 1, eval_duration: 1 } });
        },
        2,
      );
      await stub.advertise(stubState());
      // ...and a request follows at once.
      const answer = await chat({});
      expect(answer).toMatchObject({ status: 200, body: { model: "stories260K", done: true, message: { content: "ok" } } });
    } finally {
      await stub.close();
    }
  });

  it("shows a request's keep_alive in /api/ps on the gateway that served it, at once", async () => {
    worker = await startCaravan("worker", { ...env, CARAVAN_WORKER_ID: "worker-1" });
    // The gateway has just read a state with a one-hour expiry...
    expect(await chat({ keep_alive: "1h", options: { num_predict: 4 } })).toMatchObject({ status: 200, body: { done: true } });
    const before = expiresIn(await ps(), "worker-1");
    expect(Math.abs(before - HOUR)).toBeLessThan(60_000);
    // ...and the next request sets ten minutes: the very next /api/ps says so.
    expect(await chat({ keep_alive: "10m", options: { num_predict: 4 } })).toMatchObject({ status: 200, body: { done: true } });
    const after = expiresIn(await ps(), "worker-1");
    expect(Math.abs(after - 10 * 60_000)).toBeLessThan(60_000);
  });

  async function ps(): Promise<Ps> {
    const response = await fetch(`${url}/api/ps`);
    expect(response.status).toBe(200);
    return (await response.json()) as Ps;
  }

  /** ms from now until the worker's copy of the model expires */
  function expiresIn(state: Ps, workerId: string): number {
    const copy = state.models.find((m) => m.name === MODEL && m.worker === workerId);
    expect(copy, `${MODEL} on ${workerId} in /api/ps`).toBeDefined();
    return Date.parse(copy!.expires_at) - Date.now();
  }
});

function stubState(): WorkerState {
  const now = Date.now();
  return {
    v: WIRE_VERSION,
    worker_id: "stub",
    models: [
      {
        name: MODEL,
        model: MODEL,
        modified_at: new Date(now).toISOString(),
        size: 1,
        digest: "0",
        details: { parent_model: "", format: "gguf", family: "llama", families: ["llama"], parameter_size: "292.80K", quantization_level: "F32" },
        capabilities: ["completion", "embedding"],
      },
    ],
    num_parallel: 2,
    busy: 0,
    started_at: now,
    draining: false,
    loaded: [{ model: MODEL, loading: false, size_bytes: 1, context_length: 512, busy: 0, slots: 2, keep_alive_ms: -1, expires_at: null, last_used_at: now }],
    max_loaded_models: 3,
    memory_budget_bytes: 1e9,
    memory_used_bytes: 0,
    engine: "stub",
    gpu: false,
  };
}
