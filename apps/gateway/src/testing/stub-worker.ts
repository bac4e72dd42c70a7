import type { Capability, JobMessage } from "@caravan/protocol";
import type { InMemoryTransport } from "@caravan/transport";
import { advertisedModel, enginelessWorkerState } from "./engineless-worker.ts";

/**
 * Test support: a worker with `model` loaded and no engine, on an InMemoryTransport. It answers
 * every job at once with "ok" (or no embeddings) and keeps the jobs it took, so that a gateway
 * test can check what a request became on the wire.
 */
export async function stubWorker(transport: InMemoryTransport, model: string, capabilities: Capability[] = ["completion", "embedding"]): Promise<JobMessage[]> {
  const jobs: JobMessage[] = [];
  const now = Date.now();
  await transport.advertise(
    enginelessWorkerState([advertisedModel(model, { capabilities })], {
      worker_id: "stub",
      num_parallel: 4,
      loaded: [{ model, loading: false, size_bytes: 1, context_length: 512, busy: 0, slots: 4, keep_alive_ms: -1, expires_at: null, last_used_at: now }],
    }),
  );
  await transport.onCommand(async () => ({ ok: true, load_duration: 0 }));
  await transport.serve(
    model,
    async (job, ctx) => {
      jobs.push(job);
      await ctx.emit({ type: "started", worker_id: "stub" });
      if (job.kind !== "embed") await ctx.emit({ type: "chunk", content: "ok" });
      await ctx.emit({
        type: "done",
        worker_id: "stub",
        done_reason: "stop",
        metrics: { load_duration: 0, prompt_eval_count: 1, prompt_eval_duration: 1, eval_count: 1, eval_duration: 1 },
        ...(job.kind === "embed" && { embeddings: job.input.map(() => [1]) }),
      });
    },
    4,
  );
  return jobs;
}
