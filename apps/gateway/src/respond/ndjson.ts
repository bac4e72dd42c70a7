import type { Context } from "hono";
import type { ChunkMessage, DoneMessage } from "@caravan/protocol";
import { streamText } from "./node-stream.ts";
import type { StartedJob } from "./started-job.ts";

/**
 * Ollama's streaming form: one JSON object per line as soon as it exists, the last one
 * `done:true` or, if the job failed after streaming began, `{"error": ...}` (status stays 200).
 */
export function streamNdjson(c: Context, job: StartedJob, line: (event: ChunkMessage | DoneMessage) => object) {
  c.header("Content-Type", "application/x-ndjson");
  return streamText(c, job, async (out) => {
    for await (const event of job.events) {
      if (out.closed) break;
      const drained = out.write(`${JSON.stringify(event.type === "error" ? { error: event.message } : line(event))}\n`);
      if (drained) await drained;
    }
  });
}

/** A whole answer in the form the request asked for: one NDJSON line (`stream`) or a JSON object. */
export function ndjsonOrJson(c: Context, stream: boolean, body: object): Response {
  return stream ? c.body(`${JSON.stringify(body)}\n`, 200, { "Content-Type": "application/x-ndjson" }) : c.json(body);
}
