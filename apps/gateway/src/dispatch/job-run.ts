import { WIRE_VERSION, type ChunkMessage, type CommandReply, type DoneMessage, type ErrorMessage, type JobEvent, type JobMessage } from "@caravan/protocol";
import { ATTR, extractTraceContext, genAiOperationName, injectTraceContext, SpanKind, SpanStatusCode, type Span } from "@caravan/telemetry";
import type { GatewayTransport, Submission } from "@caravan/transport";
import type { Logger } from "pino";
import type { GatewayTelemetry } from "../telemetry/gateway-telemetry.ts";
import { AsyncQueue } from "./async-queue.ts";
import { JobEvents } from "./job-events.ts";

/** How many times a job whose worker died before it produced any text is submitted again. */
const MAX_RESUBMITS = 2;

export interface JobRunDeps {
  transport: GatewayTransport;
  log: Logger;
  queueTimeoutMs: number;
  /** the caravan.queue.wait span and histogram; none = not measured */
  telemetry?: GatewayTelemetry;
  /** called once, when the run has ended in any way */
  onEnd: (run: JobRun) => void;
  /** the job's queue priority (fair share across API keys) */
  priority?: number;
  /** called once, when the job first leaves the queue: `started` by a worker, or given up */
  onQueueLeft?: (started: boolean) => void;
}

/** What a run yields: the answer's events. `started` is the run's own business (see JobRun). */
export type RunEvent = ChunkMessage | DoneMessage | ErrorMessage;

/**
 * One request's job, from admission to its last event, across the attempts it may need.
 * It yields the worker's chunk, done and error events in order and always ends with done or
 * error: on a queue timeout, on cancel, and when its worker is lost. A lost worker that had not
 * yet sent text gets the job again elsewhere (the client cannot tell); one that had ends the
 * stream with an error line — tokens are never replayed into a stream twice. The worker's
 * `started` is consumed here, and only here: it names the worker and ends the queue wait.
 */
export class JobRun implements AsyncIterable<RunEvent> {
  /** the worker running the current attempt, once it said so */
  workerId: string | undefined;
  /** ms from the current attempt's submission until its worker started it */
  queueWaitMs: number | undefined;
  /** its submission placed a model load: the job waits for it */
  coldStart = false;
  /**
   * The load this job's submission placed, and where: a job that then runs on that worker
   * reports the load's time as its load_duration (the worker itself loaded nothing for it).
   */
  placedLoad: { workerId: string; reply: Promise<CommandReply | undefined> } | undefined;
  /** the event the run ended with (done or error), once it has ended */
  last: DoneMessage | ErrorMessage | undefined;
  private readonly out = new AsyncQueue<RunEvent>();
  private leftQueueOnce = false;
  private submission: Submission | undefined;
  private events: JobEvents | undefined;
  private attempt = 0;
  private streamed = false;
  private waiting = true;
  private finished = false;
  private queueTimer: NodeJS.Timeout | undefined;
  /** the current attempt's caravan.queue.wait span, open until a worker starts it */
  private queueSpan: Span | undefined;
  private submittedAt = 0;

  constructor(
    readonly job: JobMessage,
    private readonly deps: JobRunDeps,
  ) {}

  /** Submits the first attempt. The job must already be admitted to the ledger. */
  async start(): Promise<void> {
    await this.submit(this.job.id);
  }

  [Symbol.asyncIterator](): AsyncIterator<RunEvent> {
    return this.out;
  }

  /** The client went away: stop the job wherever it is. */
  async cancel(reason: string): Promise<void> {
    if (this.finished) return;
    const submission = this.submission;
    // End first: the ledger frees the job's place at once, not after the cancel's round trips.
    this.end(this.error("cancelled", "request cancelled"));
    await submission?.cancel(reason).catch((error: unknown) => this.deps.log.warn({ err: error, job: this.job.id }, "cancel failed"));
  }

  /**
   * The load placed for this job was refused for good (its options need more memory than the
   * worker has): it ends now with a 400, if it still waits.
   */
  refuse(message: string): void {
    if (this.finished || !this.waiting) return;
    void this.submission?.cancel("refused").catch(() => undefined);
    this.end(this.error("bad_request", message));
  }

  /** The worker running this job stopped beating. */
  workerLost(): void {
    this.events?.fail(this.error("worker_lost", `worker ${this.workerId} was lost`));
  }

  private async submit(jobId: string): Promise<void> {
    const events = new JobEvents();
    this.events = events;
    this.workerId = undefined;
    this.queueWaitMs = undefined;
    this.waiting = true;
    this.armQueueTimer();
    // The worker's spans are children of this attempt's wait: the job carries its context.
    this.queueSpan = this.deps.telemetry?.tracer.startSpan(
      "caravan.queue.wait",
      { kind: SpanKind.PRODUCER, attributes: { [ATTR.requestModel]: this.job.model, [ATTR.operationName]: genAiOperationName(this.job.kind), [ATTR.jobId]: jobId } },
      extractTraceContext(this.job.trace),
    );
    this.submittedAt = performance.now();
    const trace = this.queueSpan ? injectTraceContext(this.queueSpan) : this.job.trace;
    this.submission = await this.deps.transport.submit({ ...this.job, id: jobId, trace }, events.push, { priority: this.deps.priority });
    const submission = this.submission;
    events.deliverTo((event) => this.onEvent(event, submission));
  }

  /** One event of the current attempt, in order; nothing comes after its done or error. */
  private onEvent(event: JobEvent, submission: Submission): void {
    if (this.finished) return;
    if (event.type === "started") {
      this.workerId = event.worker_id;
      this.leaveQueue();
      return;
    }
    if (event.type === "chunk") {
      this.streamed = true;
      this.out.push(event);
      return;
    }
    void this.settle(event, submission);
  }

  /** The attempt ended: submit the job again (its worker died before any text), or end the run. */
  private async settle(event: DoneMessage | ErrorMessage, submission: Submission): Promise<void> {
    await submission.release();
    if (event.type === "error" && event.code === "worker_lost" && !this.streamed && this.attempt < MAX_RESUBMITS) {
      this.attempt++;
      this.deps.log.warn({ job: this.job.id, worker: this.workerId, attempt: this.attempt }, "worker lost before any text: submitting the job again");
      // The ledger counts it as waiting again; a resubmission is never refused for space.
      await this.deps.transport.admit(this.job.model, this.job.id, { perModel: Infinity, total: Infinity, staleAfterMs: this.deps.queueTimeoutMs * 2 });
      await this.submit(`${this.job.id}.${this.attempt}`);
      return;
    }
    this.end(event.type === "done" ? await this.withPlacedLoad(event) : event);
  }

  private async withPlacedLoad(event: DoneMessage): Promise<DoneMessage> {
    if (!this.placedLoad || this.placedLoad.workerId !== event.worker_id) return event;
    const loadNs = (await this.placedLoad.reply)?.load_duration ?? 0;
    return loadNs > 0 ? { ...event, metrics: { ...event.metrics, load_duration: event.metrics.load_duration + loadNs } } : event;
  }

  private armQueueTimer(): void {
    clearTimeout(this.queueTimer);
    this.queueTimer = setTimeout(() => {
      if (!this.waiting || this.finished) return;
      void this.submission?.cancel("queue timeout").catch(() => undefined);
      const seconds = Math.round(this.deps.queueTimeoutMs / 1000);
      this.end(this.error("queue_timeout", `no worker could run model '${this.job.model}' within ${seconds}s; try again later`));
    }, this.deps.queueTimeoutMs);
  }

  private leaveQueue(): void {
    if (!this.waiting) return;
    this.waiting = false;
    clearTimeout(this.queueTimer);
    this.queueWaitMs = performance.now() - this.submittedAt;
    if (!this.leftQueueOnce) {
      this.leftQueueOnce = true;
      this.deps.onQueueLeft?.(this.workerId !== undefined);
    }
    this.queueSpan?.setAttributes({ [ATTR.queueWaitMs]: this.queueWaitMs, ...(this.workerId && { [ATTR.workerId]: this.workerId }) });
    this.queueSpan?.end();
    if (this.workerId) {
      this.deps.telemetry?.queueWait.record(this.queueWaitMs / 1000, { [ATTR.requestModel]: this.job.model, [ATTR.operationName]: genAiOperationName(this.job.kind) });
    }
    this.deps.transport.leave(this.job.model, this.job.id).catch((error: unknown) => this.deps.log.warn({ err: error }, "ledger leave failed"));
  }

  private end(last: DoneMessage | ErrorMessage): void {
    if (this.finished) return;
    this.finished = true;
    this.last = last;
    // Ended while still waiting (timeout, cancel): the wait span says how it ended.
    if (this.waiting && last.type === "error") {
      this.queueSpan?.setAttribute(ATTR.errorType, last.code);
      this.queueSpan?.setStatus({ code: SpanStatusCode.ERROR, message: last.message });
    }
    this.leaveQueue();
    void this.submission?.release().catch(() => undefined);
    this.out.push(last);
    this.out.end();
    this.deps.onEnd(this);
  }

  private error(code: ErrorMessage["code"], message: string): ErrorMessage {
    return { v: WIRE_VERSION, type: "error", id: this.job.id, seq: -1, code, message };
  }
}
