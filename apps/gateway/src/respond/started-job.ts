import type { Context } from "hono";
import type { ChunkMessage, DoneMessage, JobMessage } from "@caravan/protocol";
import type { GatewayDeps, GatewayEnv } from "../deps.ts";
import type { RunEvent } from "../dispatch/job-run.ts";
import { HttpError, statusForWorkerError } from "../errors.ts";
import { recordOf } from "../telemetry/middleware.ts";

/** A job that has been submitted and produced its first event without failing. */
export interface StartedJob {
  /** the job's chunk and done events, from the first on; an `error` event can only come after text */
  events: AsyncIterable<ChunkMessage | DoneMessage | { type: "error"; message: string }>;
  /** ns since the request arrived (Ollama's total_duration) */
  elapsedNs(): number;
  /** the response is complete: stop watching the client's connection */
  finish(): void;
  /** the client went away: stop the job wherever it runs */
  cancel(): void;
}

/**
 * Submits `job` and waits for its first event before any byte is written, so that an error
 * before the first token (queue timeout, a model that failed to load, a bad request the worker
 * caught) still gets a real status code: it is thrown as an HttpError. A client that disconnects
 * at any point cancels the job. Every API format (Ollama chat and generate, OpenAI) answers
 * from a StartedJob.
 */
export async function startJob(c: Context<GatewayEnv>, deps: GatewayDeps, job: JobMessage, startedAt: bigint): Promise<StartedJob> {
  // The request's telemetry follows the job: its trace context rides in the job, and the record
  // stays open (for the metrics and the log line) until the answer has been written to its end.
  const record = recordOf(c, deps.telemetry, deps.log);
  job.trace = record.beginJob(job);
  const run = await deps.dispatcher.submit(job, c.get("caller"));
  record.attachRun(run);
  const release = record.hold();
  const signal = c.req.raw.signal;
  const cancel = () => {
    record.failed("cancelled", "client disconnected");
    void run.cancel("client disconnected");
  };
  signal.addEventListener("abort", cancel, { once: true });
  // A client that left while the job was being queued fired its abort before we listened.
  if (signal.aborted) cancel();
  const finish = () => {
    signal.removeEventListener("abort", cancel);
    release();
  };

  const iterator = run[Symbol.asyncIterator]();
  const next = async (): Promise<RunEvent | undefined> => {
    const result = await iterator.next();
    return result.done ? undefined : result.value;
  };
  const first = await next();
  if (!first) {
    finish();
    throw new HttpError(500, "internal", "the job ended without an answer");
  }
  if (first.type === "error") {
    finish();
    throw new HttpError(statusForWorkerError(first.code), first.code, first.message);
  }
  async function* events() {
    for (let event: RunEvent | undefined = first; event; event = await next()) {
      if (event.type === "chunk") record.firstToken();
      else if (event.type === "done") record.finished(event);
      else record.failed(event.code, event.message);
      yield event.type === "error" ? { type: "error" as const, message: event.message } : event;
      if (event.type !== "chunk") return;
    }
  }
  return { events: events(), elapsedNs: () => Number(process.hrtime.bigint() - startedAt), finish, cancel };
}
