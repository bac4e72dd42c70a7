import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WIRE_VERSION, type JobEvent, type JobMessage, type WorkerState } from "@caravan/protocol";
import { InMemoryTransport } from "@caravan/transport";
import { loadWorkerConfig } from "./config.ts";
import { startWorker, type RunningWorker } from "./worker.ts";

/**
 * An in-process transport whose advertisements take a round trip, as a SET over Redis does, and
 * can be held (a slow Redis): while one is held, the worker's state keeps changing.
 */
class RecordingTransport extends InMemoryTransport {
  readonly advertised: WorkerState[] = [];
  inFlight = 0;
  maxInFlight = 0;
  held: Promise<void> | undefined;

  override async advertise(state: WorkerState): Promise<void> {
    this.advertised.push(state);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    await Promise.all([this.held, new Promise((resolve) => setTimeout(resolve, 5))]);
    this.inFlight--;
    return super.advertise(state);
  }
}

const job = (): JobMessage => ({ v: WIRE_VERSION, type: "job", kind: "chat", id: randomUUID(), model: "sim:latest", messages: [{ role: "user", content: "hi" }], options: { num_predict: 3 }, accepted_at: Date.now() });

function run(transport: InMemoryTransport, message: JobMessage): Promise<JobEvent> {
  return new Promise((resolve, reject) => {
    transport.submit(message, (event) => (event.type === "done" || event.type === "error") && resolve(event)).catch(reject);
  });
}

/** Resolves once no advertisement has been made for 50 ms. */
async function settled(transport: RecordingTransport): Promise<void> {
  for (let seen = -1; seen !== transport.advertised.length; ) {
    seen = transport.advertised.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the worker's state advertisements", () => {
  let worker: RunningWorker | undefined;
  afterEach(async () => worker?.close());

  it("coalesce: changes made while one is in flight make one more, and the last shows the state after them", async () => {
    const transport = new RecordingTransport();
    const config = loadWorkerConfig({ CARAVAN_ENGINE: "simulated", CARAVAN_SIM_MODELS: "sim", CARAVAN_SIM_LOAD_MS: "0", CARAVAN_SIM_TOKENS_PER_SECOND: "1000", CARAVAN_NUM_PARALLEL: "16", CARAVAN_WORKER_ID: "w1" });
    worker = await startWorker(config, transport, pino({ level: "silent" }));
    // A gateway loads a model with a command before it sends jobs (the queue is served once loaded).
    const load = await transport.command("w1", { v: WIRE_VERSION, type: "load", id: randomUUID(), model: "sim:latest", options: {} }, 5000);
    expect(load.ok).toBe(true);
    await settled(transport);
    const before = transport.advertised.length;

    // Every job changes the state twice (taken, finished). The first advertisement is held
    // until all 32 jobs have ended, however slow the machine: each job's done waits for the
    // state to go out, at most STATE_WAIT_MS (1 s), so a held one delays the jobs by that much.
    let release = () => {};
    transport.held = new Promise<void>((resolve) => (release = resolve));
    const jobs = 32;
    const ends = await Promise.all(Array.from({ length: jobs }, () => run(transport, job())));
    expect(ends.map((event) => event.type)).toEqual(Array(jobs).fill("done"));
    release();
    transport.held = undefined;
    await settled(transport);

    // The held one and one waiting behind it, which carries every change since (a heartbeat,
    // every 2 s, may add one more). Without coalescing: one per change, 64 or more.
    expect(transport.advertised.length - before).toBeGreaterThanOrEqual(2);
    expect(transport.advertised.length - before).toBeLessThanOrEqual(3);
    expect(transport.maxInFlight).toBe(1);
    const last = transport.advertised.at(-1)!;
    expect(last.busy).toBe(0);
    expect(last.loaded.map((copy) => [copy.model, copy.busy, copy.loading])).toEqual([["sim:latest", 0, false]]);
  });

  it("go out before a job's done: a gateway that reads the state on done sees the job's keep_alive and its end", async () => {
    const transport = new RecordingTransport();
    const config = loadWorkerConfig({ CARAVAN_ENGINE: "simulated", CARAVAN_SIM_MODELS: "sim", CARAVAN_SIM_LOAD_MS: "0", CARAVAN_SIM_TOKENS_PER_SECOND: "1000", CARAVAN_WORKER_ID: "w1" });
    worker = await startWorker(config, transport, pino({ level: "silent" }));
    const load = await transport.command("w1", { v: WIRE_VERSION, type: "load", id: randomUUID(), model: "sim:latest", options: {} }, 5000);
    expect(load.ok).toBe(true);
    await settled(transport);

    // Each advertisement takes 5 ms and the job about 3: without waiting for it, done would come
    // first, while the gateways still read the state from before the job.
    const TEN_MINUTES = 600_000;
    const done = await run(transport, { ...job(), keep_alive_ms: TEN_MINUTES });
    const doneAt = Date.now();
    expect(done.type).toBe("done");
    const [state] = await transport.workers();
    expect(state!.loaded).toHaveLength(1);
    const copy = state!.loaded[0]!;
    expect(copy).toMatchObject({ model: "sim:latest", keep_alive_ms: TEN_MINUTES, busy: 0 });
    expect(Math.abs(copy.expires_at! - (doneAt + TEN_MINUTES))).toBeLessThan(1000);
  });
});
