import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { WorkerState } from "@caravan/protocol";
import { InMemoryTransport } from "@caravan/transport";
import { createApp } from "./app.ts";
import { Dispatcher } from "./dispatch/dispatcher.ts";
import { HttpError } from "./errors.ts";
import { requireModel } from "./models.ts";
import { enginelessWorkerState } from "./testing/engineless-worker.ts";

/**
 * The in-process transport with a remembered view, as the Redis one keeps for ~1 s: workers()
 * answers what the last refreshWorkers() read, so a test can hold an old view while a worker
 * registers.
 */
class RememberingTransport extends InMemoryTransport {
  private remembered: WorkerState[] = [];
  override async workers(): Promise<WorkerState[]> {
    return this.remembered;
  }
  override async refreshWorkers(): Promise<WorkerState[]> {
    this.remembered = await super.workers();
    return this.remembered;
  }
}

const log = pino({ level: "silent" });
const appOn = (transport: InMemoryTransport) =>
  createApp({ transport, dispatcher: new Dispatcher({ transport, log, maxQueue: 4, maxQueuePerModel: 4, queueTimeoutMs: 1000, spillBacklog: 4 }), log, version: "9.9.9" });
const post = (app: ReturnType<typeof appOn>, path: string, body: unknown) =>
  app.request(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

describe("a model the cluster view lacks", () => {
  it("is a 503 with Retry-After, not a 404, while no worker has registered", async () => {
    const app = appOn(new InMemoryTransport());
    for (const path of ["/api/chat", "/api/generate", "/api/embed", "/api/show"]) {
      const response = await post(app, path, { model: "stories260K" });
      expect(response.status, path).toBe(503);
      expect(response.headers.get("retry-after"), path).toBe("2");
      expect(await response.json(), path).toEqual({ error: "no worker available; try again shortly" });
    }
    const openai = await post(app, "/v1/chat/completions", { model: "stories260K", messages: [{ role: "user", content: "Hi" }] });
    expect(openai.status).toBe(503);
    expect(await openai.json()).toMatchObject({ error: { message: "no worker available; try again shortly", type: "api_error" } });
  });

  it("is looked up again before a 404: a worker that registered after the last read is found", async () => {
    const transport = new RememberingTransport();
    await transport.refreshWorkers(); // remembers: nobody
    await transport.advertise(enginelessWorkerState());
    expect((await requireModel(transport, "stories260K")).name).toBe("stories260k:latest");
  });

  it("is a 404 when the workers, read again, do not have it", async () => {
    const transport = new RememberingTransport();
    await transport.advertise(enginelessWorkerState());
    const refusal = await requireModel(transport, "llama3").catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(HttpError);
    expect(refusal).toMatchObject({ status: 404, message: "model 'llama3' not found" });
  });
});
