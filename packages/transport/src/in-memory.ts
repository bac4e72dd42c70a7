import { WIRE_VERSION, type CommandReply, type JobEvent, type JobMessage, type WorkerCommand, type WorkerState } from "@caravan/protocol";
import { MemoryLedger } from "./memory-ledger.ts";
import { createSequencer } from "./sequencer.ts";
import { waitForCommand } from "./command-wait.ts";
import { EventWindow } from "./event-window.ts";
import type { Admission, CommandContext, CommandHandler, CommandOptions, GatewayTransport, JobHandler, QueueLimits, QueueStats, Submission, SubmitOptions, WorkerTransport } from "./types.ts";

interface Pending {
  job: JobMessage;
  onEvent: (event: JobEvent) => void;
  controller: AbortController;
  released: boolean;
  /** queue order as over Redis: lowest first, ties in arrival order, unprioritized last */
  priority: number;
}

interface ModelLane {
  waiting: Pending[];
  running: number;
  /** set while the worker serves this model */
  serving: { handler: JobHandler; concurrency: number } | undefined;
}

/**
 * Gateway and worker in one process: per-model FIFO queues, taken only while the worker serves
 * the model (as over Redis), commands handed straight across, a job's events through the one
 * window (EventWindow, per job). It keeps the Redis transport's contract, so the gateway's routing
 * and the worker's residency run unchanged.
 */
export class InMemoryTransport implements GatewayTransport, WorkerTransport {
  private readonly lanes = new Map<string, ModelLane>();
  private readonly ledger = new MemoryLedger();
  private readonly claims = new Map<string, number>();
  private commandHandler: CommandHandler | undefined;
  private state: WorkerState | undefined;
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  async admit(model: string, jobId: string, limits: QueueLimits): Promise<Admission> {
    return this.ledger.admit(model, jobId, limits);
  }

  async leave(model: string, jobId: string): Promise<void> {
    this.ledger.leave(model, jobId);
  }

  async queueStats(): Promise<QueueStats[]> {
    return this.ledger.stats();
  }

  async submit(job: JobMessage, onEvent: (event: JobEvent) => void, options: SubmitOptions = {}): Promise<Submission> {
    if (this.closed) throw new Error("transport is closed");
    const pending: Pending = { job, onEvent, controller: new AbortController(), released: false, priority: options.priority ?? Infinity };
    const waiting = this.lane(job.model).waiting;
    const after = waiting.findIndex((p) => p.priority > pending.priority);
    waiting.splice(after === -1 ? waiting.length : after, 0, pending);
    this.pump(job.model);
    return {
      cancel: async (reason) => {
        const lane = this.lane(job.model);
        const index = lane.waiting.indexOf(pending);
        if (index !== -1) lane.waiting.splice(index, 1);
        pending.controller.abort(new Error(reason));
      },
      release: async () => {
        pending.released = true;
      },
    };
  }

  async command(_workerId: string, command: WorkerCommand, timeoutMs: number, options: CommandOptions = {}): Promise<CommandReply> {
    const handler = this.commandHandler;
    if (!handler || this.closed) throw new Error("no worker");
    const workerId = this.state?.worker_id ?? "local";
    const controller = new AbortController();
    const wait = waitForCommand(workerId, command, timeoutMs, options, () => controller.abort(options.signal?.reason));
    const context: CommandContext = {
      signal: controller.signal,
      progress: (progress) => wait.progress({ v: WIRE_VERSION, type: "progress", id: command.id, worker_id: workerId, progress }),
    };
    handler(command, context).then(
      (body) => wait.reply({ ...body, v: WIRE_VERSION, type: "reply", id: command.id, worker_id: workerId }),
      (error: unknown) => wait.fail(error instanceof Error ? error : new Error(String(error))),
    );
    try {
      return await wait.result();
    } finally {
      wait.dispose();
    }
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    if ((this.claims.get(key) ?? 0) > now) return false;
    this.claims.set(key, now + ttlMs);
    return true;
  }

  async releaseClaim(key: string): Promise<void> {
    this.claims.delete(key);
  }

  async workers(): Promise<WorkerState[]> {
    return this.state && !this.closed ? [this.state] : [];
  }

  /** Nothing is remembered here: the state is the worker's own, as it last advertised it. */
  refreshWorkers(): Promise<WorkerState[]> {
    return this.workers();
  }

  async serve(model: string, handler: JobHandler, concurrency: number): Promise<void> {
    this.lane(model).serving = { handler, concurrency };
    this.pump(model);
  }

  async stopServing(model: string): Promise<void> {
    this.lane(model).serving = undefined;
  }

  async onCommand(handler: CommandHandler): Promise<void> {
    this.commandHandler = handler;
  }

  async advertise(state: WorkerState): Promise<void> {
    this.state = state;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Jobs nobody will run end with an error instead of waiting forever.
    for (const lane of this.lanes.values()) {
      lane.serving = undefined;
      for (const pending of lane.waiting.splice(0)) {
        if (!pending.released) {
          pending.onEvent(createSequencer(pending.job.id)({ type: "error", code: "worker_lost", message: "caravan is shutting down" }));
        }
      }
    }
    await Promise.allSettled(this.running);
  }

  private lane(model: string): ModelLane {
    let lane = this.lanes.get(model);
    if (!lane) this.lanes.set(model, (lane = { waiting: [], running: 0, serving: undefined }));
    return lane;
  }

  private pump(model: string): void {
    const lane = this.lane(model);
    while (lane.serving && lane.running < lane.serving.concurrency && lane.waiting.length > 0) {
      const pending = lane.waiting.shift()!;
      lane.running++;
      const run = this.run(pending, lane.serving.handler).finally(() => {
        lane.running--;
        this.running.delete(run);
        this.pump(model);
      });
      this.running.add(run);
    }
  }

  private async run(pending: Pending, handler: JobHandler): Promise<void> {
    const stamp = createSequencer(pending.job.id);
    const events = new EventWindow((event) => {
      if (!pending.released) pending.onEvent(event);
    });
    try {
      await handler(pending.job, { signal: pending.controller.signal, emit: (body) => events.send(stamp(body)) });
    } catch (error) {
      // The handler reports its own failures as error events; this is a last resort.
      await events.send(stamp({ type: "error", code: "internal", message: error instanceof Error ? error.message : String(error) }));
    }
  }
}
