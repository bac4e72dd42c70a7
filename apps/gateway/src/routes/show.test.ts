import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { InMemoryTransport } from "@caravan/transport";
import { createApp } from "../app.ts";
import { Dispatcher } from "../dispatch/dispatcher.ts";
import { advertisedModel, enginelessWorkerState } from "../testing/engineless-worker.ts";

const log = pino({ level: "silent" });

function appOn(transport: InMemoryTransport) {
  const dispatcher = new Dispatcher({ transport, log, maxQueue: 4, maxQueuePerModel: 4, queueTimeoutMs: 1000, spillBacklog: 4 });
  return createApp({ transport, dispatcher, log, version: "9.9.9" });
}

const post = (app: ReturnType<typeof appOn>, body: unknown) =>
  app.request("/api/show", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

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
