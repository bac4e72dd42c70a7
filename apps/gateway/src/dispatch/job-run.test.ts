import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WIRE_VERSION, type JobMessage } from "@caravan/protocol";
import { InMemoryTransport, type JobHandler } from "@caravan/transport";
import { JobRun, type RunEvent } from "./job-run.ts";

/**
 * JobRun over the in-memory transport with a scripted job handler (no engine): every way a
 * request can end ends it exactly once, with done or error.
 */
const log = pino({ level: "silent" });
const limits = { perModel: 10, total: 10, staleAfterMs: 60_000 };
let counter = 0;
const job = (): JobMessage => ({ v: WIRE_VERSION, type: "job", kind: "chat", id: `job-${++counter}`, model: "m:latest", messages: [{ role: "user", content: "hi" }], options: {}, accepted_at: Date.now() });

/** Starts a run; `left` resolves when the job leaves the queue (true: a worker started it). */
async function startRun(transport: InMemoryTransport, queueTimeoutMs = 5000) {
  const message = job();
  await transport.admit(message.model, message.id, limits);
  let onQueueLeft: (started: boolean) => void = () => undefined;
  const left = new Promise<boolean>((resolve) => (onQueueLeft = resolve));
  const run = new JobRun(message, { transport, log, queueTimeoutMs, onEnd: () => undefined, onQueueLeft });
  await run.start();
  return Object.assign(run, { left });
}

async function drain(run: JobRun): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of run) events.push(event);
  return events;
}

const DONE = { type: "done", done_reason: "stop", metrics: { load_duration: 0, prompt_eval_count: 1, prompt_eval_duration: 1, eval_count: 1, eval_duration: 1 } } as const;

describe("JobRun", () => {
  afterEach(() => void vi.useRealTimers());

  it("passes chunks and done through (never `started`, its own) and leaves the queue ledger when a worker takes the job", async () => {
    const transport = new InMemoryTransport();
    await transport.serve("m:latest", async (_job, ctx) => {
      await ctx.emit({ type: "started", worker_id: "w1" });
      await ctx.emit({ type: "chunk", content: "a" });
      await ctx.emit({ type: "done", done_reason: "stop", metrics: { load_duration: 0, prompt_eval_count: 1, prompt_eval_duration: 1, eval_count: 1, eval_duration: 1 }, worker_id: "w1" });
    }, 1);
    const run = await startRun(transport);
    const events = await drain(run);
    expect(events.map((e) => e.type)).toEqual(["chunk", "done"]);
    expect(await transport.queueStats()).toEqual([]);
  });

  it("ends with queue_timeout when no worker takes the job in time, and leaves the ledger", async () => {
    // The queue timeout is JobRun's own timer: a fake clock moves it exactly, with no real wait.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const transport = new InMemoryTransport(); // serves nothing
    const run = await startRun(transport, 5000);
    let ended = false;
    const drained = drain(run).finally(() => (ended = true));
    await vi.advanceTimersByTimeAsync(4999);
    expect(ended, "ended before its queue timeout").toBe(false);
    expect(await transport.queueStats()).toMatchObject([{ model: "m:latest", waiting: 1 }]);
    await vi.advanceTimersByTimeAsync(1);
    const events = await drained;
    expect(await run.left).toBe(false);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "error", code: "queue_timeout" });
    expect((events[0] as { message: string }).message).toMatch(/m:latest/);
    expect(await transport.queueStats()).toEqual([]);
  });

  it("submits again when the worker is lost before it sent any text", async () => {
    const transport = new InMemoryTransport();
    const seen: string[] = [];
    const handler: JobHandler = async (message, ctx) => {
      seen.push(message.id);
      await ctx.emit({ type: "started", worker_id: seen.length === 1 ? "dying" : "w2" });
      if (seen.length === 1) {
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        return;
      }
      await ctx.emit({ type: "chunk", content: "hello" });
      await ctx.emit({ type: "done", done_reason: "stop", metrics: { load_duration: 0, prompt_eval_count: 1, prompt_eval_duration: 1, eval_count: 1, eval_duration: 1 }, worker_id: "w2" });
    };
    await transport.serve("m:latest", handler, 2);
    const run = await startRun(transport);
    expect(await run.left).toBe(true);
    expect(run.workerId).toBe("dying");
    run.workerLost();
    const events = await drain(run);
    expect(events.map((e) => e.type)).toEqual(["chunk", "done"]);
    expect(seen).toEqual([run.job.id, `${run.job.id}.1`]);
  });

  it("ends with an error, never a replay, when the worker is lost after sending text", async () => {
    const transport = new InMemoryTransport();
    let runs = 0;
    await transport.serve("m:latest", async (_job, ctx) => {
      runs++;
      await ctx.emit({ type: "started", worker_id: "dying" });
      await ctx.emit({ type: "chunk", content: "partial" });
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    }, 2);
    const run = await startRun(transport);
    const iterator = run[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: "chunk", content: "partial" });
    run.workerLost();
    expect((await iterator.next()).value).toMatchObject({ type: "error", code: "worker_lost" });
    expect((await iterator.next()).done).toBe(true);
    expect(runs).toBe(1);
    await run.cancel("cleanup");
  });

  it("cancel removes a waiting job and ends the run", async () => {
    const transport = new InMemoryTransport();
    const run = await startRun(transport);
    await run.cancel("client disconnected");
    const events = await drain(run);
    expect(events).toEqual([expect.objectContaining({ type: "error", code: "cancelled" })]);
    expect(await run.left).toBe(false);
    // A job submitted after it runs to its end on a one-slot worker: had the cancelled job stayed
    // in the queue, the worker would have taken it first.
    const ran: string[] = [];
    await transport.serve("m:latest", async (message, ctx) => {
      ran.push(message.id);
      await ctx.emit({ type: "started", worker_id: "w1" });
      await ctx.emit({ ...DONE, worker_id: "w1" });
    }, 1);
    const later = await startRun(transport);
    expect((await drain(later)).map((e) => e.type)).toEqual(["done"]);
    expect(ran).toEqual([later.job.id]);
    expect(await transport.queueStats()).toEqual([]);
  });
});
