import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig, startGateway, type RunningGateway } from "@caravan/gateway";
import { ShowInfo } from "@caravan/protocol";
import { InMemoryTransport } from "@caravan/transport";
import { loadWorkerConfig, startWorker, type RunningWorker } from "@caravan/worker";
import { MODELS_DIR } from "../harness/processes.ts";

// /api/show answered by a real worker from the model's file, in one process as `pnpm start` runs
// it (gateway and worker meet only here, over the in-memory transport).
const log = pino({ level: "silent" });

describe("POST /api/show, in process with a real worker", () => {
  let worker: RunningWorker;
  let gateway: RunningGateway;
  beforeAll(async () => {
    const transport = new InMemoryTransport();
    worker = await startWorker(loadWorkerConfig({ CARAVAN_MODELS: MODELS_DIR, CARAVAN_GPU: "false", CARAVAN_THREADS: "1", CARAVAN_WORKER_ID: "w1" }), transport, log);
    gateway = await startGateway({ config: loadGatewayConfig({ CARAVAN_HOST: "127.0.0.1:0" }), transport, log });
  });
  afterAll(async () => {
    await gateway?.close();
    await worker?.close();
  });

  const post = (body: unknown) => fetch(`${gateway.url}/api/show`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

  it("describes a model from its file, without loading it", async () => {
    const response = await post({ model: "Stories260K" });
    expect(response.status).toBe(200);
    const info = ShowInfo.parse(await response.json());
    expect(info.capabilities).toEqual(["completion", "embedding"]);
    expect(info.model_info).toMatchObject({ "general.architecture": "llama", "llama.context_length": 2048, "tokenizer.ggml.tokens": null });
    expect(info.details.family).toBe("llama");
    expect(worker.residency.snapshot()).toEqual([]);
  });

  it("accepts the old `name` field and verbose", async () => {
    const response = await post({ name: "stories260k-chatml:latest", verbose: true });
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
    const response = await post(body);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it("answers GET with 405", async () => {
    expect((await fetch(`${gateway.url}/api/show`)).status).toBe(405);
  });

  it("keeps capabilities out of /api/tags", async () => {
    const tags = (await (await fetch(`${gateway.url}/api/tags`)).json()) as { models: Record<string, unknown>[] };
    expect(tags.models.length).toBeGreaterThan(0);
    for (const model of tags.models) expect(model).not.toHaveProperty("capabilities");
  });
});
