import type { DoneMessage, Logprob, ToolCall } from "@caravan/protocol";
import { HttpError } from "../errors.ts";
import type { StartedJob } from "./started-job.ts";

/** A whole answer, for the non-streaming form of every API. */
export interface CollectedAnswer {
  content: string;
  thinking: string;
  toolCalls: ToolCall[];
  /** every chunk's, in order: the thought's tokens and the content's (Ollama's `logprobs`) */
  logprobs: Logprob[];
  /** the content's tokens only (OpenAI's `logprobs.content`): they join to `content` */
  contentLogprobs: Logprob[];
  done: DoneMessage;
}

/** Reads a started job to its end. An error after the first event becomes a 500 (nothing was written yet). */
export async function collectAnswer(job: StartedJob): Promise<CollectedAnswer> {
  let content = "";
  let thinking = "";
  const toolCalls: ToolCall[] = [];
  const logprobs: Logprob[] = [];
  const contentLogprobs: Logprob[] = [];
  try {
    for await (const event of job.events) {
      if (event.type === "error") throw new HttpError(500, "engine_error", event.message);
      if (event.type === "done") return { content, thinking, toolCalls, logprobs, contentLogprobs, done: event };
      content += event.content;
      thinking += event.thinking ?? "";
      toolCalls.push(...(event.tool_calls ?? []));
      logprobs.push(...(event.logprobs ?? []));
      // A chunk carries content or thinking, never both, and its logprobs are its text's.
      if (!event.thinking) contentLogprobs.push(...(event.logprobs ?? []));
    }
  } finally {
    job.finish();
  }
  throw new HttpError(500, "internal", "the job ended without an answer");
}
