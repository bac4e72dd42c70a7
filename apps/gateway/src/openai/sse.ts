import type { Context } from "hono";
import type { ChunkMessage, DoneMessage } from "@caravan/protocol";
import { HttpError } from "../errors.ts";
import { streamText } from "../respond/node-stream.ts";
import type { StartedJob } from "../respond/started-job.ts";
import { openAiErrorBody } from "./errors.ts";

/** One server-sent event holding `data` (JSON, or a literal such as `[DONE]`). */
export const sseEvent = (data: object | string) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

/** OpenAI's end-of-stream marker. */
export const SSE_DONE = sseEvent("[DONE]");

/**
 * OpenAI's streaming form: each object as a `data:` event as soon as it exists, then
 * `data: [DONE]`. A job that fails after streaming began ends with an error event (OpenAI's
 * error body, which its clients throw as an APIError) and no [DONE]; the status stays 200.
 */
export function streamSse(c: Context, job: StartedJob, frames: (event: ChunkMessage | DoneMessage) => object[]) {
  c.header("Content-Type", "text/event-stream");
  c.header("Cache-Control", "no-cache");
  return streamText(c, job, async (out) => {
    for await (const event of job.events) {
      if (out.closed) return;
      if (event.type === "error") {
        await out.write(sseEvent(openAiErrorBody(new HttpError(500, "engine_error", event.message))));
        return;
      }
      for (const frame of frames(event)) {
        const drained = out.write(sseEvent(frame));
        if (drained) await drained;
      }
      if (event.type === "done") {
        await out.write(SSE_DONE);
        return;
      }
    }
    if (!out.closed) await out.write(sseEvent(openAiErrorBody(new HttpError(500, "internal", "the job ended without an answer"))));
  });
}
