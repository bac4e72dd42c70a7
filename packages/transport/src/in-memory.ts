import type { JobEvent, JobMessage, WorkerState } from "@caravan/protocol";
import { createSequencer } from "./sequencer.ts";
import type { GatewayTransport, JobHandler, Submission, WorkerTransport } from "./types.ts";

interface Pending {
  job: JobMessage;
  onEvent: (event: JobEvent) => void;
  controller: AbortController;
  released: boolean;
}

interface ModelLane {
  waiting: Pending[];
  running: number;
}

/**
 * Gateway and worker in one process: per-model FIFO queues with a concurrency limit, events
 * handed straight to the gateway's callback. It keeps the Redis transport's contract (a job
 * waits until a worker serves its model; cancel removes a waiting job or aborts a running one).
 */
export class InMemoryTransport implements GatewayTransport, WorkerTransport {
  private readonly lanes = new Map<string, ModelLane>();
  private handler: JobHandler | undefined;
  private concurrency = 1;
  private state: WorkerState | undefined;
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  async submit(job: JobMessage, onEvent: (event: JobEvent) => void): Promise<Submission> {
    if (this.closed) throw new Error("transport is closed");
    const pending: Pending = { job, onEvent, controller: new AbortController(), released: false };
    this.lane(job.model).waiting.push(pending);
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

  async workers(): Promise<WorkerState[]> {
    return this.state && !this.closed ? [this.state] : [];
  }

  async serve(models: readonly string[], handler: JobHandler, concurrency: number): Promise<void> {
    this.handler = handler;
    this.concurrency = concurrency;
    for (const model of models) this.pump(model);
  }

  async advertise(state: WorkerState): Promise<void> {
    this.state = state;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    // Jobs nobody will run end with an error instead of waiting forever.
    for (const lane of this.lanes.values()) {
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
    if (!lane) this.lanes.set(model, (lane = { waiting: [], running: 0 }));
    return lane;
  }

  private pump(model: string): void {
    const lane = this.lane(model);
    const handler = this.handler;
    while (handler && lane.running < this.concurrency && lane.waiting.length > 0) {
      const pending = lane.waiting.shift()!;
      lane.running++;
      const run = this.run(pending, handler).finally(() => {
        lane.running--;
        this.running.delete(run);
        this.pump(model);
      });
      this.running.add(run);
    }
  }

  private async run(pending: Pending, handler: JobHandler): Promise<void> {
    const stamp = createSequencer(pending.job.id);
    try {
      await handler(pending.job, {
        signal: pending.controller.signal,
        emit: async (body) => {
          if (!pending.released) pending.onEvent(stamp(body));
        },
      });
    } catch (error) {
      // The handler reports its own failures as error events; this is a last resort.
      if (!pending.released) {
        pending.onEvent(stamp({ type: "error", code: "internal", message: error instanceof Error ? error.message : String(error) }));
      }
    }
  }
}
