import { randomUUID } from "node:crypto";
import { WIRE_VERSION, type JobMessage, type ModelOptions } from "@caravan/protocol";
import type { GatewayTransport, QueueLimits, QueueStats } from "@caravan/transport";
import type { Logger } from "pino";
import { badRequest, HttpError, serverBusy } from "../errors.ts";
import type { ApiKeyRecord } from "../auth/key-record.ts";
import { checkOptions, enforceCeilings, NO_CEILINGS, type Ceilings } from "../limits/ceilings.ts";
import { KeyGate, type KeyTicket } from "../limits/key-gate.ts";
import { MemoryLimitStore } from "../limits/memory-limit-store.ts";
import { GatewayTelemetry } from "../telemetry/gateway-telemetry.ts";
import { JobRun } from "./job-run.ts";
import { Placer } from "./placer.ts";

/** How often queued models are re-placed and running jobs' workers checked. */
const TICK_MS = 1000;
const RETRY_MS = 500;

export interface DispatcherOptions {
  transport: GatewayTransport;
  log: Logger;
  maxQueue: number;
  maxQueuePerModel: number;
  queueTimeoutMs: number;
  spillBacklog: number;
  /** the queue-wait span and histogram; none = not measured */
  telemetry?: GatewayTelemetry;
  /** per-key limits and fair share; none = fair share in this process only, no limits */
  keyGate?: KeyGate;
  /** ceilings on num_predict, num_ctx and message count; none = no ceilings */
  ceilings?: Ceilings;
}

/**
 * Everything between an accepted request and a worker: admission against the queue bounds,
 * placement (warm first, a load where needed), the run of each job, and a periodic tick that
 * re-places models whose jobs still wait (their worker died, or had no room) and ends the
 * streams of workers that stopped beating.
 */
export class Dispatcher {
  private readonly placer: Placer;
  private readonly runs = new Set<JobRun>();
  private readonly limits: QueueLimits;
  private readonly telemetry: GatewayTelemetry;
  private readonly keyGate: KeyGate;
  private readonly tickets = new WeakMap<JobRun, KeyTicket>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly options: DispatcherOptions) {
    this.placer = new Placer({ transport: options.transport, log: options.log, spillBacklog: options.spillBacklog, loadTimeoutMs: options.queueTimeoutMs });
    this.limits = { perModel: options.maxQueuePerModel, total: options.maxQueue, staleAfterMs: options.queueTimeoutMs * 2 };
    this.telemetry = options.telemetry ?? GatewayTelemetry.disabled(options.transport);
    const unlimited = { maxConcurrent: 0, rpm: 0, tpm: 0 };
    this.keyGate = options.keyGate ?? new KeyGate(new MemoryLimitStore(), unlimited, this.telemetry, options.log);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  /**
   * Checks the job against the ceilings (400) and its caller's limits (429), admits it (503 when
   * a queue is full), places its model, and starts it at its fair-share place in the queue.
   */
  async submit(job: JobMessage, caller?: ApiKeyRecord): Promise<JobRun> {
    const { transport } = this.options;
    enforceCeilings(job, this.options.ceilings ?? NO_CEILINGS);
    const ticket = await this.keyGate.enter(job.model, caller, job.id);
    let admission;
    let queued: Promise<QueueStats[]>;
    try {
      // Asked together: over Redis both travel on one connection in this order, so the
      // statistics placement reads already count this job, and cost no round trip of their own.
      const admitting = transport.admit(job.model, job.id, this.limits);
      queued = transport.queueStats();
      queued.catch(() => undefined); // awaited below, unless admission fails first
      admission = await admitting;
    } catch (error) {
      ticket.end(undefined);
      throw error;
    }
    if (!admission.ok) {
      ticket.end(undefined);
      throw serverBusy();
    }
    try {
      // The load gets the server's default keep_alive: the job's own value (0, say) applies when
      // the job itself runs there; a load with keep_alive 0 would unload before the job arrived.
      const placement = await this.placer.ensureCapacity(job.model, { options: job.options, trace: job.trace }, queued);
      if (placement.action === "unavailable") throw new HttpError(503, "unavailable", `no live worker can serve model '${job.model}' now: ${placement.reason}`);
      const run = new JobRun(job, {
        transport,
        log: this.options.log,
        queueTimeoutMs: this.options.queueTimeoutMs,
        telemetry: this.telemetry,
        onEnd: (r) => this.ended(r),
        priority: ticket.priority,
        onQueueLeft: (started) => ticket.queueLeft(started),
      });
      this.tickets.set(run, ticket);
      // This request's arrival placed a load: it waits for it. (One that joins a load under way
      // cannot be told from one that waits behind busy copies, so it is not counted.)
      run.coldStart = placement.action === "load";
      if (placement.action === "load" && placement.loadReply) {
        run.placedLoad = { workerId: placement.workerId, reply: placement.loadReply };
        // Its own options make the model larger than the worker's memory: waiting would not help.
        void placement.loadReply.then((reply) => {
          if (reply?.code === "too_large") run.refuse(reply.message ?? `model '${job.model}' does not fit in the worker's memory with these options`);
        });
      }
      this.runs.add(run);
      await run.start();
      return run;
    } catch (error) {
      // (Redis may be what failed: the ledger entry then goes stale and is dropped later)
      await transport.leave(job.model, job.id).catch(() => undefined);
      throw error;
    }
  }

  /**
   * `messages: []`: loads the model (or, where loaded, sets its keep_alive) and resolves when a
   * copy is ready, with the load time (0 when it was loaded already).
   */
  async load(model: string, keepAliveMs: number | undefined, options: ModelOptions): Promise<number> {
    checkOptions(options, this.options.ceilings ?? NO_CEILINGS);
    const deadline = Date.now() + this.options.queueTimeoutMs;
    for (;;) {
      const holders = (await this.options.transport.workers()).filter((w) => !w.draining && w.loaded.some((c) => c.model === model));
      if (holders.length > 0) {
        const replies = await Promise.all(holders.map((w) => this.command(w.worker_id, { type: "load", model, options, ...(keepAliveMs !== undefined && { keep_alive_ms: keepAliveMs }) })));
        const ok = replies.filter((r) => r.ok);
        if (ok.length > 0) return Math.max(...ok.map((r) => r.load_duration ?? 0));
        refuseTooLarge(replies);
      } else {
        const decision = await this.placer.decide(model);
        if (decision.action === "unavailable") throw new HttpError(503, "unavailable", `no live worker can serve model '${model}' now: ${decision.reason}`);
        if (decision.action === "load") {
          const reply = await this.placer.load(decision.workerId, model, { keepAliveMs, options }).catch(() => undefined);
          if (reply?.ok) return reply.load_duration ?? 0;
          if (reply) refuseTooLarge([reply]);
        }
      }
      if (Date.now() > deadline) throw new HttpError(503, "queue_timeout", `no worker could load model '${model}' within ${Math.round(this.options.queueTimeoutMs / 1000)}s`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  /**
   * `messages: []` with keep_alive 0: unloads every copy in the cluster, once its requests end.
   * Every worker that has the model on disk is asked, not only those whose last reported state
   * shows it loaded: a copy loaded a moment ago may not be in that state yet, and an unload of a
   * model that is not loaded costs a worker nothing.
   */
  async unloadEverywhere(model: string): Promise<void> {
    const workers = (await this.options.transport.workers()).filter((w) => w.loaded.some((c) => c.model === model) || w.models.some((m) => m.name === model));
    await Promise.all(workers.map((w) => this.command(w.worker_id, { type: "unload", model })));
    this.placer.forget(model);
  }

  private ended(run: JobRun): void {
    this.runs.delete(run);
    this.tickets.get(run)?.end(run.last);
    // A job with keep_alive 0 unloads its model when it ends: a load placed there is gone, not coming.
    if (run.workerId && run.job.keep_alive_ms === 0) this.placer.unloadedBy(run.job.model, run.workerId);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private command(workerId: string, body: { type: "load"; model: string; options: ModelOptions; keep_alive_ms?: number } | { type: "unload"; model: string }) {
    return this.options.transport
      .command(workerId, { v: WIRE_VERSION, id: randomUUID(), ...body }, this.options.queueTimeoutMs)
      .catch((error: unknown) => ({ ok: false as const, load_duration: undefined, code: undefined, message: String(error) }));
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const live = new Set((await this.options.transport.workers()).map((w) => w.worker_id));
      for (const run of this.runs) if (run.workerId !== undefined && !live.has(run.workerId)) run.workerLost();
      for (const queued of await this.options.transport.queueStats()) await this.placer.ensureCapacity(queued.model);
    } catch (error) {
      this.options.log.warn({ err: error }, "dispatcher tick failed");
    } finally {
      this.ticking = false;
    }
  }
}

/** A load refused because its options need more memory than the worker has: the request's error (400), not a wait. */
function refuseTooLarge(replies: readonly { code?: string; message?: string }[]): void {
  const refused = replies.find((r) => r.code === "too_large");
  if (refused) throw badRequest(refused.message ?? "the model does not fit in the worker's memory with these options");
}
