import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WIRE_VERSION, type JobEvent, type JobMessage, type WorkerState } from "@caravan/protocol";
import { InMemoryTransport } from "@caravan/transport";
import { loadWorkerConfig } from "./config.ts";
import { startWorker, type RunningWorker } from "./worker.ts";

/**
 * An in-process transport whose advertisements take a round trip, as a SET over Redis does, and
 * can be held (a slow Redis): while one is held, the worker's state keeps changing. Tests wait for
 * an advertisement to have gone out, never for a quiet spell.
 */
class RecordingTransport extends InMemoryTransport {
  readonly advertised: WorkerState[] = [];
  inFlight = 0;
  maxInFlight = 0;
  held: Promise<void> | undefined;
  private readonly watchers = new Set<() => void>();
  private readonly done = new Set<number>();

  override async advertise(state: WorkerState): Promise<void> {
    const index = this.advertised.push(state) - 1;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    await Promise.all([this.held, new Promise((resolve) => setTimeout(resolve, 5))]);
    this.inFlight--;
    await super.advertise(state);
    this.done.add(index);
    for (const watcher of this.watchers) watcher();
  }

  /** Resolves with the index of the first advertisement from `from` on that matches and has gone out. */
  gone(match: (state: WorkerState) => boolean, from = 0): Promise<number> {
    return new Promise((resolve) => {
      const check = () => {
        const index = this.advertised.findIndex((state, i) => i >= from && this.done.has(i) && match(state));
        if (index === -1) return;
        this.watchers.delete(check);
        resolve(index);
      };
      this.watchers.add(check);
      check();
    });
  }
}

/** sim:latest loaded (not loading) and idle: what a worker advertises once a load or its last job is over. */
const idleCopy = (state: WorkerState) => state.busy === 0 && state.loaded.length === 1 && state.loaded[0]!.model === "sim:latest" && !state.loaded[0]!.loading && state.loaded[0]!.busy === 0;

const job = (): JobMessage => ({ v: WIRE_VERSION, type: "job", kind: "chat", id: randomUUID(), model: "sim:latest", messages: [{ role: "user", content: "hi" }], options: { num_predict: 3 }, accepted_at: Date.now() });

function run(transport: InMemoryTransport, message: JobMessage): Promise<JobEvent> {
  return new Promise((resolve, reject) => {
    transport.submit(message, (event) => (event.type === "done" || event.type === "error") && resolve(event)).catch(reject);
  });
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
    // The load's advertisements have gone out: the last one shows the copy ready.
    await transport.gone(idleCopy);
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
    // The one behind the held one starts after every job has ended: it shows the worker idle.
    const behind = await transport.gone(idleCopy, before + 1);
    // A job sent now ends only once its own state has gone out (the next test's subject), and
    // syncs run one after another: by its done, every advertisement queued before has gone out.
    expect((await run(transport, job())).type).toBe("done");
    const made = transport.advertised.length - before;

    // The held one, one waiting behind it that carries every change since, and the last job's
    // one or two (a heartbeat, every 2 s, may add one more). Without coalescing: one per change,
    // 64 or more.
    expect(made).toBeGreaterThanOrEqual(3);
    expect(made).toBeLessThanOrEqual(5);
    expect(transport.maxInFlight).toBe(1);
    expect(behind).toBe(before + 1);
    const last = transport.advertised[behind]!;
    expect(last.busy).toBe(0);
    expect(last.loaded.map((copy) => [copy.model, copy.busy, copy.loading])).toEqual([["sim:latest", 0, false]]);
  });

  it("go out before a job's done: a gateway that reads the state on done sees the job's keep_alive and its end", async () => {
    const transport = new RecordingTransport();
    const config = loadWorkerConfig({ CARAVAN_ENGINE: "simulated", CARAVAN_SIM_MODELS: "sim", CARAVAN_SIM_LOAD_MS: "0", CARAVAN_SIM_TOKENS_PER_SECOND: "1000", CARAVAN_WORKER_ID: "w1" });
    worker = await startWorker(config, transport, pino({ level: "silent" }));
    const load = await transport.command("w1", { v: WIRE_VERSION, type: "load", id: randomUUID(), model: "sim:latest", options: {} }, 5000);
    expect(load.ok).toBe(true);
    await transport.gone(idleCopy);

    // Each advertisement takes 5 ms and the job about 3: without waiting for it, done would come
    // first, while the gateways still read the state from before the job.
    const TEN_MINUTES = 600_000;
    const sentAt = Date.now();
    const done = await run(transport, { ...job(), keep_alive_ms: TEN_MINUTES });
    const doneAt = Date.now();
    expect(done.type).toBe("done");
    const [state] = await transport.workers();
    expect(state!.loaded).toHaveLength(1);
    const copy = state!.loaded[0]!;
    expect(copy).toMatchObject({ model: "sim:latest", keep_alive_ms: TEN_MINUTES, busy: 0 });
    // its idle timer started when the job ended: after it was sent, before its done arrived
    expect(copy.expires_at!).toBeGreaterThanOrEqual(sentAt + TEN_MINUTES);
    expect(copy.expires_at!).toBeLessThanOrEqual(doneAt + TEN_MINUTES);
  });
});
