import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { WIRE_VERSION, type JobEvent, type JobMessage } from "@caravan/protocol";
import { InMemoryTransport, type JobHandler } from "@caravan/transport";
import { JobRun } from "./job-run.ts";

/**
 * JobRun over the in-memory transport with a scripted job handler (no engine): every way a
 * request can end ends it exactly once, with done or error.
 */
const log = pino({ level: "silent" });
const limits = { perModel: 10, total: 10, staleAfterMs: 60_000 };
let counter = 0;
const job = (): JobMessage => ({ v: WIRE_VERSION, type: "job", kind: "chat", id: `job-${++counter}`, model: "m:latest", messages: [{ role: "user", content: "hi" }], options: {}, accepted_at: Date.now() });

async function startRun(transport: InMemoryTransport, queueTimeoutMs = 5000) {
  const message = job();
  await transport.admit(message.model, message.id, limits);
  const run = new JobRun(message, { transport, log, queueTimeoutMs, onEnd: () => undefined });
  await run.start();
  return run;
}

async function drain(run: JobRun): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of run) events.push(event);
  return events;
}

const untilStarted = async (run: JobRun) => {
  while (run.workerId === undefined) await new Promise((r) => setTimeout(r, 5));
};

describe("JobRun", () => {
  it("passes chunks and done through and leaves the queue ledger when a worker takes the job", async () => {
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
    const transport = new InMemoryTransport(); // serves nothing
    const run = await startRun(transport, 100);
    const events = await drain(run);
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
    await untilStarted(run);
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
    let ran = false;
    await transport.serve("m:latest", async () => void (ran = true), 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toBe(false);
    expect(await transport.queueStats()).toEqual([]);
  });
});
