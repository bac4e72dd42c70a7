import { randomUUID } from "node:crypto";
import { WIRE_VERSION, type CommandReply, type ModelOptions, type TraceContext, type WorkerState } from "@caravan/protocol";
import type { GatewayTransport, QueueStats } from "@caravan/transport";
import type { Logger } from "pino";
import { place, type Placement } from "../routing/placement.ts";

/** How long a load this gateway asked for counts as a copy before workers report it. */
const PENDING_GRACE_MS = 2500;
/** How long one gateway holds the right to place a load of a model on a worker. */
const CLAIM_MS = 3000;

/** What a load is asked with: keep_alive and load options, and the trace of the request that caused it. */
export interface LoadHint {
  keepAliveMs?: number;
  options?: ModelOptions;
  trace?: TraceContext;
}

export interface PlacerOptions {
  transport: GatewayTransport;
  log: Logger;
  spillBacklog: number;
  /** how long to wait for a worker to answer a load */
  loadTimeoutMs: number;
}

/**
 * The I/O around the pure placement function: it reads the cluster's state, asks place() what
 * to do for a model, and sends the load command it calls for. Loads in flight count as copies
 * (pendingLoads) so that a burst of requests does not load the model on every worker.
 */
export class Placer {
  private readonly pending = new Map<string, Map<string, number>>();
  /**
   * Copies a keep_alive 0 job just unloaded (`model\0worker` → until when): worker state seen
   * through the ~1 s cache may still show them, and a request must not wait behind a copy that
   * is gone. Forgotten once the state stops showing them, or after the grace period.
   */
  private readonly gone = new Map<string, number>();

  constructor(private readonly options: PlacerOptions) {}

  /**
   * Makes sure `model` has (or gets) capacity for its waiting jobs. Does not wait for a load:
   * the jobs wait in the queue, and the loaded copy starts taking them. `queued`: the queue
   * statistics when the caller has already asked for them (otherwise they are read here).
   */
  async ensureCapacity(model: string, hint: LoadHint = {}, queued?: Promise<QueueStats[]>): Promise<Placement & { loadReply?: Promise<CommandReply | undefined> }> {
    const decision = await this.decide(model, queued);
    // Gateways that see the same state pick the same worker (place() is deterministic), so a
    // claim per model and worker stops duplicates without stopping a spill to another worker.
    const claim = decision.action === "load" ? `load:${model}:${decision.workerId}` : undefined;
    if (decision.action === "load" && claim && (await this.options.transport.claim(claim, CLAIM_MS))) {
      // Once the worker has answered, its own state tells other gateways; the claim can go.
      const loadReply = this.load(decision.workerId, model, hint)
        .catch(() => undefined)
        .finally(() => void this.options.transport.releaseClaim(claim).catch(() => undefined));
      return { ...decision, loadReply };
    }
    return decision;
  }

  /** What place() says for `model` now (with `known` as the queue statistics, if given). */
  async decide(model: string, known?: Promise<QueueStats[]>): Promise<Placement> {
    const [seen, stats] = await Promise.all([this.options.transport.workers(), known ?? this.options.transport.queueStats()]);
    const workers = this.withoutGoneCopies(model, seen);
    const queued = stats.find((s) => s.model === model);
    return place({
      model,
      waiting: Math.max(queued?.waiting ?? 0, 1),
      oldestWaitMs: queued ? Date.now() - queued.oldestAdmittedAt : 0,
      workers,
      spillBacklog: this.options.spillBacklog,
      pendingLoads: this.pendingFor(model, workers),
    });
  }

  /** Sends a load command and waits for the reply; the load counts as a copy meanwhile. */
  async load(workerId: string, model: string, hint: LoadHint): Promise<CommandReply> {
    const pending = this.pending.get(model) ?? new Map<string, number>();
    this.pending.set(model, pending);
    pending.set(workerId, Infinity);
    this.options.log.info({ model, worker: workerId }, "placing model");
    try {
      const reply = await this.options.transport.command(
        workerId,
        {
          v: WIRE_VERSION,
          type: "load",
          id: randomUUID(),
          model,
          options: hint.options ?? {},
          ...(hint.keepAliveMs !== undefined && { keep_alive_ms: hint.keepAliveMs }),
          ...(hint.trace && { trace: hint.trace }),
        },
        this.options.loadTimeoutMs,
      );
      if (!reply.ok) this.options.log.warn({ model, worker: workerId, code: reply.code, reason: reply.message }, "worker refused the load");
      // Until its heartbeat shows the copy, keep counting it (or stop at once if it was refused).
      // A keep_alive 0 job may already have run and unloaded it (unloadedBy): then it stays gone.
      if (pending.get(workerId) === Infinity) pending.set(workerId, reply.ok ? Date.now() + PENDING_GRACE_MS : 0);
      return reply;
    } catch (error) {
      pending.set(workerId, 0);
      this.options.log.warn({ model, worker: workerId, err: error }, "load command failed");
      throw error;
    }
  }

  /**
   * This gateway's loads of `model` not yet visible in worker state. An answered load that a
   * worker already reports is dropped at once: from then on its state, not our memory, says
   * whether the copy is there (it may have been unloaded since).
   */
  /**
   * A job with keep_alive 0 ran on `workerId` and unloaded `model` there: a load placed there is
   * no longer on its way. Without this, a copy loaded and unloaded again between two looks at
   * worker state counts as coming until the grace period ends, and the next request waits for
   * the tick to place a load.
   */
  unloadedBy(model: string, workerId: string): void {
    // (even a load whose reply is still on its way: the job ran there, so the load is done)
    this.pending.get(model)?.delete(workerId);
    this.gone.set(`${model}\0${workerId}`, Date.now() + PENDING_GRACE_MS);
  }

  /**
   * The model was unloaded on purpose: a load this gateway placed earlier is not "on its way"
   * any more, so the next request must place a new one at once (not wait out the grace period).
   */
  forget(model: string): void {
    const pending = this.pending.get(model);
    if (!pending) return;
    // a load still in flight (Infinity) is left to its own answer
    for (const [workerId, until] of pending) if (until !== Infinity) pending.delete(workerId);
  }

  private withoutGoneCopies(model: string, workers: WorkerState[]): WorkerState[] {
    const now = Date.now();
    return workers.map((worker) => {
      const key = `${model}\0${worker.worker_id}`;
      const until = this.gone.get(key);
      if (until === undefined) return worker;
      const shown = worker.loaded.some((copy) => copy.model === model);
      if (until <= now || !shown) {
        this.gone.delete(key);
        return worker;
      }
      return { ...worker, loaded: worker.loaded.filter((copy) => copy.model !== model) };
    });
  }

  private pendingFor(model: string, workers: readonly WorkerState[]): string[] {
    const pending = this.pending.get(model);
    if (!pending) return [];
    const now = Date.now();
    for (const [workerId, until] of pending) {
      const reported = workers.some((w) => w.worker_id === workerId && w.loaded.some((c) => c.model === model && !c.loading));
      if (until <= now || (until !== Infinity && reported)) pending.delete(workerId);
    }
    return [...pending.keys()];
  }
}
