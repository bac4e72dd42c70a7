import type { Context } from "hono";
import { stream } from "hono/streaming";
import { ChatRequest, unknownOptionKeys, type ChatResponse, type JobEvent } from "@caravan/protocol";
import { readBody } from "../body.ts";
import { JobEvents } from "../chat/job-events.ts";
import { chunkResponse, doneResponse } from "../chat/responses.ts";
import { chatRequestToJob } from "../chat/to-job.ts";
import type { GatewayDeps } from "../deps.ts";
import { HttpError, statusForWorkerError } from "../errors.ts";
import { requireModel } from "../models.ts";

/**
 * POST /api/chat. Waits for the job's first event before answering, so that an error that
 * happens before any token (model failed to load, say) still gets a real status code; after
 * that, errors become a last `{"error"}` line, as in Ollama.
 */
export function chatHandler(deps: GatewayDeps) {
  return async (c: Context) => {
    const startedAt = process.hrtime.bigint();
    const { body: request, raw } = await readBody(c, ChatRequest);
    const unknown = unknownOptionKeys(raw.options);
    if (unknown.length > 0) deps.log.warn({ model: request.model, options: unknown }, "ignoring unknown options");
    const job = chatRequestToJob(request);
    await requireModel(deps.transport, request.model);

    const events = new JobEvents();
    const submission = await deps.transport.submit(job, events.push);
    const signal = c.req.raw.signal;
    const onAbort = () => {
      submission.cancel("client disconnected").catch((error: unknown) => deps.log.warn({ err: error, job: job.id }, "cancel failed"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const finish = () => {
      signal.removeEventListener("abort", onAbort);
      submission.release().catch(() => undefined);
    };
    const elapsedNs = () => Number(process.hrtime.bigint() - startedAt);
    const iterator = events[Symbol.asyncIterator]();

    let first: IteratorResult<JobEvent>;
    try {
      first = await iterator.next();
    } catch (error) {
      finish();
      throw error;
    }
    if (first.done) {
      finish();
      throw new HttpError(500, "internal", "the job ended without an answer");
    }
    if (first.value.type === "error") {
      finish();
      throw new HttpError(statusForWorkerError(first.value.code), first.value.code, first.value.message);
    }

    if (!request.stream) {
      try {
        return c.json(await collect(request.model, first.value, iterator, elapsedNs));
      } finally {
        finish();
      }
    }

    c.header("Content-Type", "application/x-ndjson");
    return stream(c, async (out) => {
      out.onAbort(onAbort);
      const write = (line: object) => out.write(`${JSON.stringify(line)}\n`);
      try {
        for (let event: JobEvent | undefined = first.value; event; event = (await iterator.next()).value) {
          if (out.aborted) break;
          if (event.type === "chunk") await write(chunkResponse(request.model, event));
          else if (event.type === "done") await write(doneResponse(request.model, event, elapsedNs()));
          else await write({ error: event.message });
          if (event.type !== "chunk") break;
        }
      } finally {
        finish();
      }
    });
  };
}

/** stream:false — one object holding the whole answer and the final metrics. */
async function collect(model: string, first: JobEvent, rest: AsyncIterator<JobEvent>, elapsedNs: () => number): Promise<ChatResponse> {
  let content = "";
  let thinking = "";
  const toolCalls: NonNullable<ChatResponse["message"]["tool_calls"]> = [];
  const logprobs: NonNullable<ChatResponse["logprobs"]> = [];
  for (let event: JobEvent | undefined = first; event; event = (await rest.next()).value) {
    if (event.type === "error") throw new HttpError(statusForWorkerError(event.code), event.code, event.message);
    if (event.type === "chunk") {
      content += event.content;
      thinking += event.thinking ?? "";
      toolCalls.push(...(event.tool_calls ?? []));
      logprobs.push(...(event.logprobs ?? []));
      continue;
    }
    const response = doneResponse(model, event, elapsedNs(), content);
    if (thinking) response.message.thinking = thinking;
    if (toolCalls.length > 0) response.message.tool_calls = toolCalls;
    if (logprobs.length > 0) response.logprobs = logprobs;
    return response;
  }
  throw new HttpError(500, "internal", "the job ended without an answer");
}
