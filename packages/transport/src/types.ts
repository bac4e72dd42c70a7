import type { ChunkMessage, CommandProgress, CommandReply, DoneMessage, ErrorMessage, JobEvent, JobMessage, ProgressResponse, StartedMessage, WorkerCommand, WorkerState } from "@caravan/protocol";

/**
 * The seam between gateway and workers. Two implementations: in-process (one Node process, no
 * Redis) and Redis (a BullMQ queue per model, pub/sub streams and commands). Nothing above this
 * interface knows which one it runs on.
 */

/** An event as the worker produces it; the transport stamps version, job id and sequence number. */
export type EventBody =
  | Omit<StartedMessage, "v" | "id" | "seq">
  | Omit<ChunkMessage, "v" | "id" | "seq">
  | Omit<DoneMessage, "v" | "id" | "seq">
  | Omit<ErrorMessage, "v" | "id" | "seq">;

export interface JobContext {
  /** aborts when the gateway cancels the job (its client went away) */
  signal: AbortSignal;
  /**
   * sends one event back to the gateway; resolves once the transport has sent it (at once, or when
   * the window it waited in ended: EVENT_WINDOW_MS over Redis, JOB_WINDOW_MS in one process), so a
   * producer that merges its output waits for this before handing over more. Events leave in the
   * order of the calls, also when the caller does not wait for one before the next.
   */
  emit(event: EventBody): Promise<void>;
}

export type JobHandler = (job: JobMessage, ctx: JobContext) => Promise<void>;
/** What a command handler gets besides the command (load, unload and show need neither). */
export interface CommandContext {
  /** aborts when the gateway gives up on the command (its client went away) */
  signal: AbortSignal;
  /** reports progress to the gateway before the reply; dropped once the reply is sent */
  progress(progress: ProgressResponse): void;
}

export type CommandHandler = (command: WorkerCommand, ctx: CommandContext) => Promise<Omit<CommandReply, "v" | "type" | "id" | "worker_id">>;

export interface CommandOptions {
  /**
   * receives the worker's progress reports; with it, `timeoutMs` is an idle timeout that each
   * report restarts (a download may take hours, a silent worker is still noticed)
   */
  onProgress?: (progress: CommandProgress) => void;
  /** stops waiting (the promise rejects) and tells the worker to abort the command */
  signal?: AbortSignal;
}

/** One submitted job, from the gateway's side. */
export interface Submission {
  /** stop the job: removed if still waiting, aborted if running */
  cancel(reason: string): Promise<void>;
  /** stop listening for events (after done/error, or when giving up) */
  release(): Promise<void>;
}

/** Jobs admitted to a model's queue and not yet taken by a worker. */
export interface QueueStats {
  model: string;
  waiting: number;
  /** epoch ms the oldest of them was admitted */
  oldestAdmittedAt: number;
}

export interface QueueLimits {
  /** most waiting jobs per model */
  perModel: number;
  /** most waiting jobs in all */
  total: number;
  /** entries older than this are a crashed gateway's leftovers and are dropped */
  staleAfterMs: number;
}

export interface SubmitOptions {
  /**
   * Queue order (1 = first; equal priorities keep arrival order): the gateway's fair share across
   * API keys. Absent = after every prioritized job, in arrival order.
   */
  priority?: number;
}

export type Admission = { ok: true } | { ok: false; full: "model" | "total" };

export interface GatewayTransport {
  /**
   * Counts the job as waiting for `model` if the bounds allow it, atomically across gateways.
   * Every admitted job must later `leave()` (when a worker takes it, or it is given up).
   */
  admit(model: string, jobId: string, limits: QueueLimits): Promise<Admission>;
  leave(model: string, jobId: string): Promise<void>;
  /** models with waiting jobs */
  queueStats(): Promise<QueueStats[]>;
  /**
   * Listens for the job's events, then enqueues it — in that order, so that no event is missed.
   * `onEvent` sees the events in the order the worker sent them.
   */
  submit(job: JobMessage, onEvent: (event: JobEvent) => void, options?: SubmitOptions): Promise<Submission>;
  /** sends a command to one worker and waits for its reply (rejects after `timeoutMs`; see CommandOptions) */
  command(workerId: string, command: WorkerCommand, timeoutMs: number, options?: CommandOptions): Promise<CommandReply>;
  /**
   * A short lease that one gateway holds while it places a load for `key`, so that several
   * gateways reacting to the same backlog do not load several copies at once.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** gives a claim back before it expires (the load it guarded has been answered) */
  releaseClaim(key: string): Promise<void>;
  /** the live workers' latest advertised state (at most ~1 s old) */
  workers(): Promise<WorkerState[]>;
  /**
   * The live workers' states read now, not remembered: it sees a worker that registered, or a
   * state one published, before the call. workers() then answers with them. For what must not
   * miss a change of a moment ago (a model not in the remembered view, /api/ps).
   */
  refreshWorkers(): Promise<WorkerState[]>;
  close(): Promise<void>;
}

export interface WorkerTransport {
  /** starts taking jobs from `model`'s queue, at most `concurrency` at a time; idempotent */
  serve(model: string, handler: JobHandler, concurrency: number): Promise<void>;
  /** stops taking new jobs for `model` at once (running ones finish in the background); idempotent */
  stopServing(model: string): Promise<void>;
  /** handles commands addressed to this worker */
  onCommand(handler: CommandHandler): Promise<void>;
  /** publishes this worker's state (models, load) for the gateways' cluster views */
  advertise(state: WorkerState): Promise<void>;
  /** stops taking jobs, waits for running ones, then releases every resource; idempotent */
  close(): Promise<void>;
}
