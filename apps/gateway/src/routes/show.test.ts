import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShowInfo } from "@caravan/protocol";
import { InMemoryTransport } from "@caravan/transport";
import { loadWorkerConfig, startWorker, type RunningWorker } from "@caravan/worker";
import { createApp } from "../app.ts";
import { Dispatcher } from "../dispatch/dispatcher.ts";
import { advertisedModel, enginelessWorkerState } from "../testing/engineless-worker.ts";

const MODELS_DIR = process.env.CARAVAN_TEST_MODELS_DIR ?? fileURLToPath(new URL("../../../../../shared/models", import.meta.url));
const log = pino({ level: "silent" });

function appOn(transport: InMemoryTransport) {
  const dispatcher = new Dispatcher({ transport, log, maxQueue: 4, maxQueuePerModel: 4, queueTimeoutMs: 1000, spillBacklog: 4 });
  return createApp({ transport, dispatcher, log, version: "9.9.9" });
}

const post = (app: ReturnType<typeof appOn>, body: unknown) =>
  app.request("/api/show", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

describe("POST /api/show, in process with a real worker", () => {
  const transport = new InMemoryTransport();
  const app = appOn(transport);
  let worker: RunningWorker;
  beforeAll(async () => {
    const config = loadWorkerConfig({ CARAVAN_MODELS: MODELS_DIR, CARAVAN_GPU: "false", CARAVAN_THREADS: "1", CARAVAN_WORKER_ID: "w1" });
    worker = await startWorker(config, transport, log);
  });
  afterAll(async () => worker?.close());

  it("describes a model from its file, without loading it", async () => {
    const response = await post(app, { model: "Stories260K" });
    expect(response.status).toBe(200);
    const info = ShowInfo.parse(await response.json());
    expect(info.capabilities).toEqual(["completion", "embedding"]);
    expect(info.model_info).toMatchObject({ "general.architecture": "llama", "llama.context_length": 2048, "tokenizer.ggml.tokens": null });
    expect(info.details.family).toBe("llama");
    expect(worker.residency.snapshot()).toEqual([]);
  });

  it("accepts the old `name` field and verbose", async () => {
    const response = await post(app, { name: "stories260k-chatml:latest", verbose: true });
    expect(response.status).toBe(200);
    const info = (await response.json()) as ShowInfo;
    expect(info.capabilities).toEqual(["completion", "embedding", "tools"]);
    expect(info.template).toContain("<|im_start|>");
    expect(info.model_info["tokenizer.ggml.tokens"]).toHaveLength(512);
  });

  it.each([
    ["an unknown model", { model: "llama3" }, 404, "model 'llama3' not found"],
    ["a missing model", {}, 400, "model is required"],
    ["verbose of the wrong type", { model: "stories260K", verbose: "yes" }, 400, /verbose/],
  ])("answers %s with %d", async (_name, body, status, message) => {
    const response = await post(app, body);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it("answers GET with 405", async () => {
    expect((await app.request("/api/show")).status).toBe(405);
  });

  it("keeps capabilities out of /api/tags", async () => {
    const tags = (await (await app.request("/api/tags")).json()) as { models: Record<string, unknown>[] };
    expect(tags.models.length).toBeGreaterThan(0);
    for (const model of tags.models) expect(model).not.toHaveProperty("capabilities");
  });
});

describe("POST /api/show when no worker answers", () => {
  it("is a 503 that says why", async () => {
    // Advertised but with no command handler: the transport cannot reach a worker.
    const transport = new InMemoryTransport();
    const state = enginelessWorkerState([advertisedModel("stories260k:latest", { modified_at: "2025-01-01T00:00:00Z" })], { worker_id: "silent" });
    await transport.advertise(state);
    const response = await post(appOn(transport), { model: "stories260K" });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: string }).error).toMatch(/^no worker could describe model 'stories260K' \(silent: no worker\)$/);
  });
});
