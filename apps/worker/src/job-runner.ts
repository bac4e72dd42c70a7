import type { JobMessage } from "@caravan/protocol";
import type { JobContext } from "@caravan/transport";
import type { Logger } from "pino";
import { findModel, type CatalogEntry } from "./catalog/index.ts";
import { withModelDefaults } from "./model-defaults.ts";
import { GenerationAbortedError, type LoadedModel } from "./engine/index.ts";
import { wireError } from "./errors.ts";
import { ChunkBatcher } from "./chunk-batcher.ts";
import type { Residency } from "./residency/index.ts";
import { JobSpan } from "./telemetry/job-span.ts";
import { WorkerTelemetry } from "./telemetry/worker-telemetry.ts";

export interface JobRunnerDeps {
  /** lends each job the loaded copy of its model, which the job runs on */
  residency: Residency<LoadedModel>;
  /** the current models on disk */
  catalog: () => CatalogEntry[];
  workerId: string;
  log: Logger;
  /** the job's spans and token count; none = not traced or measured */
  telemetry?: WorkerTelemetry;
  /**
   * Publishes this worker's state as it is now; resolves once gateways can read it. A job that
   * succeeds releases its model and awaits this before its `done` (for at most STATE_WAIT_MS), so
   * that the client's next /api/ps already shows what the request set (keep_alive, expiry).
   */
  publishState?: () => Promise<void>;
}

/** The longest a `done` waits for the worker's state to go out (Redis may be slow or away). */
export const STATE_WAIT_MS = 1000;

/**
 * Runs one job and reports it through the transport: `started` at once (the gateway then knows
 * which worker holds it), chunks as text appears, then exactly one `done` or `error`. The job
 * runs on the loaded copy its residency lease holds, so its model is never evicted under it and
 * its keep_alive timer starts only when the last such job ends. Every failure becomes an error
 * event, never a throw. Its span (a child of the gateway's, through the job's trace context)
 * ends with it.
 */
export async function runJob(job: JobMessage, ctx: JobContext, deps: JobRunnerDeps): Promise<void> {
  const span = new JobSpan(deps.telemetry ?? WorkerTelemetry.disabled(deps.workerId), job);
  try {
    await execute(job, span.watch(ctx), deps, span);
  } finally {
    span.end();
  }
}

async function execute(job: JobMessage, ctx: JobContext, deps: JobRunnerDeps, span: JobSpan): Promise<void> {
  const { residency, workerId, log } = deps;
  // Not awaited: the engine starts while `started` travels (over Redis a round trip less before
  // the first token). Transports send a job's events in the order they were emitted.
  ctx.emit({ type: "started", worker_id: workerId }).catch(() => undefined);
  const entry = findModel(deps.catalog(), job.model);
  if (!entry) {
    await ctx.emit({ type: "error", code: "model_not_found", message: `model '${job.model}' not found` });
    return;
  }
  job = withModelDefaults(job, entry.sidecar);
  if (ctx.signal.aborted) {
    await ctx.emit({ type: "error", code: "cancelled", message: "request cancelled" });
    return;
  }

  const batcher = new ChunkBatcher((chunk) => ctx.emit({ type: "chunk", ...chunk }));
  let lease: Awaited<ReturnType<Residency<LoadedModel>["acquire"]>> | undefined;
  try {
    const acquiredFrom = span.now();
    lease = await residency.acquire(entry.name, { keepAliveMs: job.keep_alive_ms, options: job.options });
    const leaseLoadNs = lease.loadDurationNs;
    const held = lease;
    const model = lease.handle;
    // The model's results carry no load time: the load (if any) is this job's lease's.
    const withLoad = <M extends { load_duration: number }>(metrics: M): M => ({ ...metrics, load_duration: leaseLoadNs });
    // The request's end as the cluster sees it (idle timer started, sequence free) goes out before its done.
    const settle = async () => {
      held.release();
      await publishWithin(deps.publishState, STATE_WAIT_MS);
    };
    const engineFrom = span.now();
    if (job.kind === "embed") {
      const result = await model.embed({
        inputs: job.input,
        truncate: job.truncate,
        normalize: job.normalize,
        dimensions: job.dimensions,
        signal: ctx.signal,
      });
      const metrics = withLoad(result.metrics);
      span.phases({ acquiredFrom, leaseLoadNs, engineFrom, engineTo: span.now(), metrics });
      log.info({ job: job.id, trace_id: span.traceId, model: entry.name, kind: job.kind, inputs: result.vectors.length, ...metrics }, "job finished");
      await settle();
      await ctx.emit({ type: "done", done_reason: "stop", metrics, worker_id: workerId, embeddings: result.vectors });
      return;
    }
    const onText = (text: string) => batcher.push(text);
    const ready = () => batcher.ready();
    const result =
      job.kind === "completion"
        ? await model.complete({
            prompt: job.prompt,
            suffix: job.suffix,
            options: job.options,
            format: job.format,
            signal: ctx.signal,
            onText,
            logprobs: job.logprobs,
            topLogprobs: job.top_logprobs,
            onLogprob: (entry) => batcher.logprob(entry),
            ready,
          })
        : await model.generate({
            messages: job.messages,
            options: job.options,
            format: job.format,
            signal: ctx.signal,
            onText,
            tools: job.tools,
            toolChoice: job.tool_choice,
            think: job.think,
            onThinking: (text) => batcher.thinking(text),
            onToolCall: (call) => batcher.toolCall(call),
            logprobs: job.logprobs,
            topLogprobs: job.top_logprobs,
            onLogprob: (entry) => batcher.logprob(entry),
            ready,
          });
    const engineTo = span.now();
    await batcher.drain();
    const metrics = withLoad(result.metrics);
    span.phases({ acquiredFrom, leaseLoadNs, engineFrom, engineTo, metrics });
    log.info({ job: job.id, trace_id: span.traceId, model: entry.name, done_reason: result.doneReason, ...metrics }, "job finished");
    await settle();
    await ctx.emit({ type: "done", done_reason: result.doneReason, metrics, worker_id: workerId });
  } catch (thrown) {
    await batcher.drain();
    // Whatever the engine threw once the client had gone, the job was cancelled.
    const error = ctx.signal.aborted && !(thrown instanceof GenerationAbortedError) ? new GenerationAbortedError(ctx.signal.reason) : thrown;
    const wire = wireError(error, "job");
    if (error instanceof GenerationAbortedError) {
      // Logged with what had been generated, so a stop is visible on the worker's side.
      const evalCount = error.partial?.metrics.eval_count ?? 0;
      span.partial(evalCount);
      log.info({ job: job.id, model: entry.name, eval_count: evalCount }, "generation stopped: request cancelled");
    } else if (wire.code === "engine_error") {
      log.error({ job: job.id, model: entry.name, err: error }, "generation failed");
    }
    await ctx.emit({ type: "error", ...wire });
  } finally {
    lease?.release();
  }
}

/** Runs `publish` and waits for it, for at most `ms`. */
async function publishWithin(publish: (() => Promise<void>) | undefined, ms: number): Promise<void> {
  if (!publish) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([publish().catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}
