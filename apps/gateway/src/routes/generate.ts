import type { Context } from "hono";
import { GenerateRequest, unknownOptionKeys } from "@caravan/protocol";
import { readBody } from "../body.ts";
import { assertCapable, capabilitiesFor } from "../capabilities.ts";
import type { GatewayDeps } from "../deps.ts";
import { generateChunk, generateDone } from "../generate/responses.ts";
import { generateRequestToJob } from "../generate/to-job.ts";
import { requireModel } from "../models.ts";
import { collectAnswer } from "../respond/collect.ts";
import { loadOrUnload } from "../respond/load-unload.ts";
import { streamNdjson } from "../respond/ndjson.ts";
import { startJob } from "../respond/started-job.ts";

/** POST /api/generate: like /api/chat, for one prompt; an empty prompt loads (or unloads) the model. */
export function generateHandler(deps: GatewayDeps) {
  return async (c: Context) => {
    const startedAt = process.hrtime.bigint();
    const { body: request, raw } = await readBody(c, GenerateRequest);
    const unknown = unknownOptionKeys(raw.options);
    if (unknown.length > 0) deps.log.warn({ model: request.model, options: unknown }, "ignoring unknown options");
    // Go templates cannot be rendered by the engine, and token contexts are an Ollama-runner detail.
    if (request.template !== undefined) deps.log.warn({ model: request.model }, "ignoring `template`: the model's own chat template is used");
    if (request.context !== undefined) deps.log.warn({ model: request.model }, "ignoring `context`: send the conversation to /api/chat instead");
    const job = generateRequestToJob(request);
    const model = await requireModel(deps.transport, request.model);
    const empty = request.prompt === "" && request.suffix === undefined;
    assertCapable(model, request.model, empty ? [] : capabilitiesFor(job, (request.images?.length ?? 0) > 0));
    if (empty) {
      const body = generateDone(request.model, { done_reason: await loadOrUnload(deps, job), metrics: emptyMetrics }, 0);
      return request.stream ? c.body(`${JSON.stringify(body)}\n`, 200, { "Content-Type": "application/x-ndjson" }) : c.json(body);
    }

    const started = await startJob(c, deps, job, startedAt);
    if (request.stream) {
      return streamNdjson(c, started, (event) => (event.type === "chunk" ? generateChunk(request.model, event) : generateDone(request.model, event, started.elapsedNs())));
    }
    const answer = await collectAnswer(started);
    const response = generateDone(request.model, answer.done, started.elapsedNs(), answer.content);
    if (answer.thinking) response.thinking = answer.thinking;
    if (answer.logprobs.length > 0) response.logprobs = answer.logprobs;
    return c.json(response);
  };
}

const emptyMetrics = { load_duration: 0, prompt_eval_count: 0, prompt_eval_duration: 0, eval_count: 0, eval_duration: 0 };
