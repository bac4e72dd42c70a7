import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { WIRE_VERSION, type ChatJob, type CommandProgress, type JobEvent, type WorkerState } from "@caravan/protocol";
import { InMemoryTransport, RedisGatewayTransport, RedisWorkerTransport, type CommandContext, type GatewayTransport, type JobHandler, type WorkerTransport } from "@caravan/transport";
import { startRedis, type TestRedis } from "../harness/redis.ts";

/**
 * The transport contract, run against both implementations with a scripted job handler (no
 * engine): events arrive in order, cancel reaches a waiting and a running job, worker state is
 * visible to the gateway. The Redis side runs on a real redis-server.
 */
interface Pair {
  gateway: GatewayTransport;
  worker: WorkerTransport;
  close(): Promise<void>;
}

const STATE: WorkerState = {
  v: WIRE_VERSION,
  worker_id: "w1",
  models: [],
  num_parallel: 2,
  busy: 0,
  started_at: 1,
  draining: false,
  loaded: [],
  max_loaded_models: 3,
  memory_budget_bytes: 1000,
  memory_used_bytes: 0,
  engine: "scripted",
  gpu: false,
};

const job = (model = "m:latest"): ChatJob => ({ v: WIRE_VERSION, type: "job", kind: "chat", id: randomUUID(), model, messages: [{ role: "user", content: "hi" }], options: {}, accepted_at: Date.now() });

function collect() {
  const events: JobEvent[] = [];
  let resolveEnd: (events: JobEvent[]) => void;
  const ended = new Promise<JobEvent[]>((resolve) => (resolveEnd = resolve));
  return {
    events,
    ended,
    onEvent: (event: JobEvent) => {
      events.push(event);
      if (event.type !== "chunk") resolveEnd(events);
    },
  };
}

/** What happened to each id so far, and a promise per id that resolves when it happens (or has). */
class Seen<V = true> {
  private readonly values = new Map<string, V>();
  private readonly waiters = new Map<string, Array<(value: V) => void>>();

  add(id: string, value: V): void {
    this.values.set(id, value);
    for (const resolve of this.waiters.get(id) ?? []) resolve(value);
    this.waiters.delete(id);
  }

  has(id: string): boolean {
    return this.values.has(id);
  }

  when(id: string): Promise<V> {
    if (this.values.has(id)) return Promise.resolve(this.values.get(id)!);
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }
}

function contract(name: string, makePair: () => Promise<Pair>) {
  describe(name, () => {
    let pair: Pair;
    const started = new Seen();
    /** the abort reason each hanging job got */
    const aborted = new Seen<string>();
    const handler: JobHandler = async (message, ctx) => {
      started.add(message.id, true);
      const text = message.kind === "chat" ? message.messages[0]!.content : "";
      if (text === "hang") {
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        aborted.add(message.id, String((ctx.signal.reason as Error).message));
        await ctx.emit({ type: "error", code: "cancelled", message: "request cancelled" });
        return;
      }
      // "burst": emits without waiting for each one (as the job runner sends `started`)
      if (text === "burst") for (let i = 0; i < 50; i++) void ctx.emit({ type: "chunk", content: `t${i} ` });
      else for (let i = 0; i < 50; i++) await ctx.emit({ type: "chunk", content: `t${i} ` });
      await ctx.emit({ type: "done", done_reason: "stop", metrics: { load_duration: 0, prompt_eval_count: 1, prompt_eval_duration: 1, eval_count: 50, eval_duration: 1 }, worker_id: "w1" });
    };

    beforeAll(async () => {
      pair = await makePair();
      await pair.worker.serve("m:latest", handler, 2);
      await pair.worker.onCommand(async (command, ctx) => {
        if (command.type === "pull") return scriptedPull(command.id, command.url, ctx);
        return command.type === "load" ? { ok: true, load_duration: 7 } : { ok: false, code: "no_room", message: "model" in command ? command.model : "" };
      });
    });
    afterAll(async () => pair?.close());

    it("delivers every event of a job in order, ending with done", async () => {
      const sink = collect();
      const submission = await pair.gateway.submit(job(), sink.onEvent);
      const events = await sink.ended;
      await submission.release();
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i));
      expect(events.slice(0, 50).map((e) => (e.type === "chunk" ? e.content : "")).join("")).toBe(Array.from({ length: 50 }, (_, i) => `t${i} `).join(""));
      expect(events.at(-1)).toMatchObject({ type: "done", done_reason: "stop", worker_id: "w1" });
    });

    it("keeps the order of events emitted without waiting for each other", async () => {
      const sink = collect();
      const submission = await pair.gateway.submit({ ...job(), messages: [{ role: "user", content: "burst" }] }, sink.onEvent);
      const events = await sink.ended;
      await submission.release();
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i));
      expect(events.slice(0, 50).map((e) => (e.type === "chunk" ? e.content : "")).join("")).toBe(Array.from({ length: 50 }, (_, i) => `t${i} `).join(""));
    });

    it("keeps the events of jobs running side by side apart (over Redis they share the gateway's channel)", async () => {
      const jobs = [job(), job(), job(), job()];
      const sinks = jobs.map(() => collect());
      const submissions = await Promise.all(jobs.map((j, i) => pair.gateway.submit(j, sinks[i]!.onEvent)));
      const all = await Promise.all(sinks.map((s) => s.ended));
      await Promise.all(submissions.map((s) => s.release()));
      all.forEach((events, i) => {
        expect(events.every((e) => e.id === jobs[i]!.id)).toBe(true);
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, n) => n));
        expect(events.at(-1)).toMatchObject({ type: "done" });
      });
    });

    it("aborts a running job on cancel", async () => {
      const message = { ...job(), messages: [{ role: "user" as const, content: "hang" }] };
      const sink = collect();
      const submission = await pair.gateway.submit(message, sink.onEvent);
      await started.when(message.id);
      await submission.cancel("client disconnected");
      const events = await sink.ended;
      await submission.release();
      expect(await aborted.when(message.id)).toBe("client disconnected");
      expect(events.at(-1)).toMatchObject({ type: "error", code: "cancelled" });
    });

    it("never starts a job cancelled while it waits", async () => {
      // Fill both slots with hanging jobs so the third waits in the queue.
      const hangers = [job(), job()].map((j) => ({ ...j, messages: [{ role: "user" as const, content: "hang" }] }));
      const subs = await Promise.all(hangers.map((h) => pair.gateway.submit(h, () => undefined)));
      await Promise.all(hangers.map((h) => started.when(h.id)));
      const waiting = job();
      const sub = await pair.gateway.submit(waiting, () => undefined);
      await sub.cancel("client disconnected");
      for (const s of subs) await s.cancel("done with test");
      await Promise.all(hangers.map((h) => aborted.when(h.id)));
      // The slots are free: a job submitted now runs to its end. The queue hands jobs out in
      // order, so had the cancelled one stayed in it, it would have started first.
      const later = collect();
      const laterSub = await pair.gateway.submit(job(), later.onEvent);
      expect((await later.ended).at(-1)).toMatchObject({ type: "done" });
      expect(started.has(waiting.id)).toBe(false);
      await Promise.all([...subs, sub, laterSub].map((s) => s.release()));
    });

    it("shows the worker's advertised state to the gateway: refreshWorkers at once, and workers() after it", async () => {
      await pair.gateway.workers(); // what the gateway remembers now predates the state below
      await pair.worker.advertise(STATE);
      expect(await pair.gateway.refreshWorkers()).toEqual([STATE]);
      expect(await pair.gateway.workers()).toEqual([STATE]);
      // a state published a moment ago, as a worker does when a job ends
      const busy = { ...STATE, busy: 1 };
      await pair.worker.advertise(busy);
      const [one, two] = await Promise.all([pair.gateway.refreshWorkers(), pair.gateway.refreshWorkers()]);
      expect([one, two]).toEqual([[busy], [busy]]);
      expect(await pair.gateway.workers()).toEqual([busy]);
      await pair.worker.advertise(STATE);
      expect(await pair.gateway.refreshWorkers()).toEqual([STATE]);
    });

    it("carries a command to the worker and its reply back", async () => {
      const load = await pair.gateway.command("w1", { v: WIRE_VERSION, type: "load", id: randomUUID(), model: "m:latest", options: {} }, 5000);
      expect(load).toMatchObject({ type: "reply", ok: true, load_duration: 7, worker_id: "w1" });
      const unload = await pair.gateway.command("w1", { v: WIRE_VERSION, type: "unload", id: randomUUID(), model: "x:latest" }, 5000);
      expect(unload).toMatchObject({ ok: false, code: "no_room", message: "x:latest" });
    });

    it("carries a command's progress before its reply, restarting the idle timeout with each report", async () => {
      const seen: CommandProgress[] = [];
      // The timeout is what is tested, so the scripted worker takes real time, with wide margins:
      // twelve reports 50 ms apart, 600 ms in all, twice the 300 ms timeout that each report
      // restarts; a gap six times shorter than the timeout stays shorter on a busy machine.
      const pull = { v: WIRE_VERSION as typeof WIRE_VERSION, type: "pull" as const, id: randomUUID(), url: "steps:12:50", file: "x.gguf" };
      const reply = await pair.gateway.command("w1", pull, 300, { onProgress: (message) => seen.push(message) });
      expect(reply).toMatchObject({ type: "reply", ok: true, worker_id: "w1", id: pull.id });
      expect(seen.map((m) => m.progress)).toEqual(Array.from({ length: 12 }, (_, i) => ({ status: "pulling x", digest: "x", total: 12, completed: i + 1 })));
      expect(seen.every((m) => m.type === "progress" && m.id === pull.id && m.worker_id === "w1")).toBe(true);
      // Without onProgress the same command keeps its plain timeout.
      await expect(pair.gateway.command("w1", { ...pull, id: randomUUID() }, 300)).rejects.toThrow(/did not answer pull within 300 ms/);
      // A silent worker is still noticed (its first report comes after 1000 ms: timers never fire early).
      await expect(pair.gateway.command("w1", { ...pull, id: randomUUID(), url: "steps:1:1000" }, 300, { onProgress: () => undefined })).rejects.toThrow(/sent nothing about pull for 300 ms/);
    });

    it("aborts a command on the worker when the caller's signal aborts", async () => {
      const controller = new AbortController();
      const pull = { v: WIRE_VERSION as typeof WIRE_VERSION, type: "pull" as const, id: randomUUID(), url: "hang", file: "x.gguf" };
      const answer = pair.gateway.command("w1", pull, 5000, { onProgress: () => controller.abort(new Error("client went away")), signal: controller.signal });
      await expect(answer).rejects.toThrow("client went away");
      await pullAborts.when(pull.id);
    });

    it("admits up to the bounds, per model and in all, and reports the oldest wait", async () => {
      const limits = { perModel: 2, total: 3, staleAfterMs: 60_000 };
      const firstFrom = Date.now();
      expect(await pair.gateway.admit("a", "1", limits)).toEqual({ ok: true });
      const firstTo = Date.now();
      expect(await pair.gateway.admit("a", "1", limits)).toEqual({ ok: true }); // idempotent
      expect(await pair.gateway.admit("a", "2", limits)).toEqual({ ok: true });
      expect(await pair.gateway.admit("a", "3", limits)).toEqual({ ok: false, full: "model" });
      const bFrom = Date.now();
      expect(await pair.gateway.admit("b", "4", limits)).toEqual({ ok: true });
      const bTo = Date.now();
      expect(await pair.gateway.admit("c", "5", limits)).toEqual({ ok: false, full: "total" });
      const stats = await pair.gateway.queueStats();
      expect(stats.map((s) => [s.model, s.waiting]).sort()).toEqual([["a", 2], ["b", 1]]);
      // each model's oldest wait is its first admission (the repeated one kept its time)
      const oldest = Object.fromEntries(stats.map((s) => [s.model, s.oldestAdmittedAt]));
      expect(oldest.a).toBeGreaterThanOrEqual(firstFrom);
      expect(oldest.a).toBeLessThanOrEqual(firstTo);
      expect(oldest.b).toBeGreaterThanOrEqual(bFrom);
      expect(oldest.b).toBeLessThanOrEqual(bTo);
      for (const [model, id] of [["a", "1"], ["a", "2"], ["b", "4"]] as const) await pair.gateway.leave(model, id);
      expect(await pair.gateway.queueStats()).toEqual([]);
      expect(await pair.gateway.admit("c", "5", limits)).toEqual({ ok: true });
      await pair.gateway.leave("c", "5");
    });

    it("grants a placement claim to one caller until it expires", async () => {
      const claimedFrom = Date.now();
      expect(await pair.gateway.claim("m", 200)).toBe(true);
      expect(await pair.gateway.claim("m", 200)).toBe(false);
      // Asked again until granted (expiry is the feature: Redis's own TTL, so no fake clock): the
      // grant comes, and never before the 200 ms are over.
      for (const deadline = Date.now() + 5000; !(await pair.gateway.claim("m", 200)); await new Promise((r) => setTimeout(r, 10))) {
        if (Date.now() > deadline) throw new Error("the claim was never granted again");
      }
      expect(Date.now() - claimedFrom).toBeGreaterThanOrEqual(200);
      await pair.gateway.releaseClaim("m");
      expect(await pair.gateway.claim("m", 5000)).toBe(true);
      await pair.gateway.releaseClaim("m");
    });
  });
}

const pullAborts = new Seen();

/** A scripted long command: `steps:N:MS` reports N steps MS apart; `hang` reports once, then waits for its abort. */
async function scriptedPull(id: string, script: string, ctx: CommandContext): Promise<{ ok: boolean; message?: string }> {
  if (script === "hang") {
    ctx.progress({ status: "pulling x" });
    if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    pullAborts.add(id, true);
    return { ok: false, message: "aborted" };
  }
  const [, steps, gap] = script.split(":").map(Number);
  for (let completed = 1; completed <= steps!; completed++) {
    await new Promise((r) => setTimeout(r, gap));
    ctx.progress({ status: "pulling x", digest: "x", total: steps!, completed });
  }
  return { ok: true };
}

contract("in-memory transport", async () => {
  const transport = new InMemoryTransport();
  return { gateway: transport, worker: transport, close: () => transport.close() };
});

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => redis?.stop());

contract("Redis transport", async () => {
  const prefix = `contract-${randomUUID()}`;
  const gateway = new RedisGatewayTransport({ url: redis.url, prefix });
  const worker = new RedisWorkerTransport({ url: redis.url, prefix, workerId: "w1" });
  // The gateway side refuses work while its connections are still opening (it fails fast rather
  // than queue requests): on a busy machine the first test could otherwise start too early.
  let up = false;
  while (!up) up = await gateway.queueStats().then(() => true, () => new Promise<boolean>((r) => setTimeout(() => r(false), 10)));
  return { gateway, worker, close: async () => void (await Promise.allSettled([gateway.close(), worker.close()])) };
});
