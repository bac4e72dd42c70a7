import type { JobMessage } from "@caravan/protocol";
import type { JobContext } from "@caravan/transport";
import type { Logger } from "pino";
import { findModel, type CatalogEntry } from "./catalog/index.ts";
import { GenerationAbortedError, type LlamaEngine } from "./engine/index.ts";
import { ChunkBatcher } from "./chunk-batcher.ts";

export interface JobRunnerDeps {
  engine: LlamaEngine;
  /** the current models on disk */
  catalog: () => Promise<CatalogEntry[]>;
  workerId: string;
  log: Logger;
}

const ZERO_METRICS = { load_duration: 0, prompt_eval_count: 0, prompt_eval_duration: 0, eval_count: 0, eval_duration: 0 };

/**
 * Runs one job on the engine and reports it through the transport: chunks as text appears,
 * then exactly one `done` or `error`. Every failure becomes an error event, never a throw.
 */
export async function runJob(job: JobMessage, ctx: JobContext, deps: JobRunnerDeps): Promise<void> {
  const { engine, workerId, log } = deps;
  const entry = findModel(await deps.catalog(), job.model);
  if (!entry) {
    await ctx.emit({ type: "error", code: "model_not_found", message: `model '${job.model}' not found` });
    return;
  }
  if (ctx.signal.aborted) {
    await ctx.emit({ type: "error", code: "cancelled", message: "request cancelled" });
    return;
  }

  try {
    // An empty conversation asks only to load the model, or with keep_alive 0 to unload it.
    if (job.messages.length === 0) {
      if (job.keep_alive_ms === 0) {
        await engine.unload(entry.name);
        await ctx.emit({ type: "done", done_reason: "unload", metrics: ZERO_METRICS, worker_id: workerId });
      } else {
        const { loadDurationNs } = await engine.ensureLoaded(entry, job.options);
        await ctx.emit({ type: "done", done_reason: "load", metrics: { ...ZERO_METRICS, load_duration: loadDurationNs }, worker_id: workerId });
      }
      return;
    }

    const batcher = new ChunkBatcher((content) => ctx.emit({ type: "chunk", content }));
    try {
      const result = await engine.generate({
        entry,
        messages: job.messages,
        options: job.options,
        signal: ctx.signal,
        onText: (text) => batcher.push(text),
      });
      await batcher.drain();
      log.info({ job: job.id, model: entry.name, done_reason: result.doneReason, ...result.metrics }, "job finished");
      await ctx.emit({ type: "done", done_reason: result.doneReason, metrics: result.metrics, worker_id: workerId });
    } finally {
      await batcher.drain();
    }
  } catch (error) {
    if (error instanceof GenerationAbortedError || ctx.signal.aborted) {
      // Logged with what had been generated, so a stop is visible on the worker's side.
      const partial = error instanceof GenerationAbortedError ? error.partial : undefined;
      log.info({ job: job.id, model: entry.name, eval_count: partial?.metrics.eval_count ?? 0 }, "generation stopped: request cancelled");
      await ctx.emit({ type: "error", code: "cancelled", message: "request cancelled" });
      return;
    }
    log.error({ job: job.id, model: entry.name, err: error }, "generation failed");
    await ctx.emit({ type: "error", code: "engine_error", message: error instanceof Error ? error.message : String(error) });
  }
}
