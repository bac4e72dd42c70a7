import type { ChunkMessage, DoneMessage, ErrorMessage, JobEvent, JobMessage, WorkerState } from "@caravan/protocol";

/**
 * The seam between gateway and workers. Two implementations: in-process (one Node process, no
 * Redis) and Redis (BullMQ queues, pub/sub streams). Nothing above this interface knows which.
 */

/** An event as the worker produces it; the transport stamps version, job id and sequence number. */
export type EventBody =
  | Omit<ChunkMessage, "v" | "id" | "seq">
  | Omit<DoneMessage, "v" | "id" | "seq">
  | Omit<ErrorMessage, "v" | "id" | "seq">;

export interface JobContext {
  /** aborts when the gateway cancels the job (its client went away) or the worker shuts down */
  signal: AbortSignal;
  /** sends one event back to the gateway; resolves when it is handed to the transport */
  emit(event: EventBody): Promise<void>;
}

export type JobHandler = (job: JobMessage, ctx: JobContext) => Promise<void>;

/** One submitted job, from the gateway's side. */
export interface Submission {
  /** stop the job: removed if still waiting, aborted if running */
  cancel(reason: string): Promise<void>;
  /** stop listening for events (after done/error, or when giving up) */
  release(): Promise<void>;
}

export interface GatewayTransport {
  /**
   * Listens for the job's events, then enqueues it — in that order, so that no event is missed.
   * `onEvent` sees the events in the order the worker sent them.
   */
  submit(job: JobMessage, onEvent: (event: JobEvent) => void): Promise<Submission>;
  /** the live workers' latest advertised state */
  workers(): Promise<WorkerState[]>;
  close(): Promise<void>;
}

export interface WorkerTransport {
  /** starts taking jobs for `models`, at most `concurrency` at a time per model */
  serve(models: readonly string[], handler: JobHandler, concurrency: number): Promise<void>;
  /** publishes this worker's state (models, load) for the gateways' cluster views */
  advertise(state: WorkerState): Promise<void>;
  /** stops taking jobs, waits for running ones, then releases every resource; idempotent */
  close(): Promise<void>;
}
