import type { Context } from "hono";
import { stream } from "hono/streaming";
import type { ChunkMessage, DoneMessage } from "@caravan/protocol";
import type { StartedJob } from "./started-job.ts";

/**
 * Ollama's streaming form: one JSON object per line as soon as it exists, the last one
 * `done:true` or, if the job failed after streaming began, `{"error": ...}` (status stays 200).
 */
export function streamNdjson(c: Context, job: StartedJob, line: (event: ChunkMessage | DoneMessage) => object) {
  c.header("Content-Type", "application/x-ndjson");
  return stream(c, async (out) => {
    out.onAbort(job.cancel);
    try {
      for await (const event of job.events) {
        if (out.aborted) break;
        await out.write(`${JSON.stringify(event.type === "error" ? { error: event.message } : line(event))}\n`);
      }
    } finally {
      job.finish();
    }
  });
}
