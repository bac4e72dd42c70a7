import type { Context } from "hono";
import { stream } from "hono/streaming";
import { ChatRequest, ollamaTimestamp, unknownOptionKeys, type ChatResponse, type JobEvent, type JobMessage } from "@caravan/protocol";
import { readBody } from "../body.ts";
import { chunkResponse, doneResponse } from "../chat/responses.ts";
import { chatRequestToJob } from "../chat/to-job.ts";
import type { GatewayDeps } from "../deps.ts";
import { HttpError, statusForWorkerError } from "../errors.ts";
import { requireModel } from "../models.ts";

/**
 * POST /api/chat. Waits for the job's first event before answering, so that an error that
 * happens before any token (queue timeout, model failed to load) still gets a real status code;
 * after that, errors become a last `{"error"}` line, as in Ollama.
 */
export function chatHandler(deps: GatewayDeps) {
  return async (c: Context) => {
    const startedAt = process.hrtime.bigint();
    const { body: request, raw } = await readBody(c, ChatRequest);
    const unknown = unknownOptionKeys(raw.options);
    if (unknown.length > 0) deps.log.warn({ model: request.model, options: unknown }, "ignoring unknown options");
    const job = chatRequestToJob(request);
    await requireModel(deps.transport, request.model);
    if (job.messages.length === 0) return loadOrUnload(c, deps, request, job);

    const run = await deps.dispatcher.submit(job);
    const signal = c.req.raw.signal;
    const onAbort = () => void run.cancel("client disconnected");
    signal.addEventListener("abort", onAbort, { once: true });
    // A client that left while the job was being queued fired its abort before we listened.
    if (signal.aborted) onAbort();
    const elapsedNs = () => Number(process.hrtime.bigint() - startedAt);
    const events = run[Symbol.asyncIterator]();

    const first = await events.next();
    if (first.done) throw new HttpError(500, "internal", "the job ended without an answer");
    if (first.value.type === "error") {
      signal.removeEventListener("abort", onAbort);
      throw new HttpError(statusForWorkerError(first.value.code), first.value.code, first.value.message);
    }

    if (!request.stream) {
      try {
        return c.json(await collect(request.model, first.value, events, elapsedNs));
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    }

    c.header("Content-Type", "application/x-ndjson");
    return stream(c, async (out) => {
      out.onAbort(onAbort);
      const write = (line: object) => out.write(`${JSON.stringify(line)}\n`);
      try {
        for (let event: JobEvent | undefined = first.value; event; event = (await events.next()).value) {
          if (out.aborted) break;
          if (event.type === "chunk") await write(chunkResponse(request.model, event));
          else if (event.type === "done") await write(doneResponse(request.model, event, elapsedNs()));
          else if (event.type === "error") await write({ error: event.message });
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    });
  };
}

/** `messages: []`: load the model (done_reason "load"), or with keep_alive 0 unload it everywhere. */
async function loadOrUnload(c: Context, deps: GatewayDeps, request: ChatRequest, job: JobMessage) {
  const unload = job.keep_alive_ms === 0;
  if (unload) await deps.dispatcher.unloadEverywhere(job.model);
  else await deps.dispatcher.load(job.model, job.keep_alive_ms, job.options);
  const body: ChatResponse = {
    model: request.model,
    created_at: ollamaTimestamp(),
    message: { role: "assistant", content: "" },
    done: true,
    done_reason: unload ? "unload" : "load",
  };
  if (!request.stream) return c.json(body);
  return c.body(`${JSON.stringify(body)}\n`, 200, { "Content-Type": "application/x-ndjson" });
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
    if (event.type !== "done") continue;
    const response = doneResponse(model, event, elapsedNs(), content);
    if (thinking) response.message.thinking = thinking;
    if (toolCalls.length > 0) response.message.tool_calls = toolCalls;
    if (logprobs.length > 0) response.logprobs = logprobs;
    return response;
  }
  throw new HttpError(500, "internal", "the job ended without an answer");
}
