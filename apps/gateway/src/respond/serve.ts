import type { Context } from "hono";
import { JobInput, type Capability, type JobMessage } from "@caravan/protocol";
import type { Logger } from "pino";
import { assertCapable, capabilitiesFor } from "../capabilities.ts";
import type { GatewayDeps, GatewayEnv } from "../deps.ts";
import { badRequest } from "../errors.ts";
import { requireModel } from "../models.ts";
import { collectAnswer, type CollectedAnswer } from "./collect.ts";
import { startJob, type StartedJob } from "./started-job.ts";

/**
 * One HTTP API that runs a job (Ollama's chat, generate and embed, OpenAI's /v1 ones), described
 * for serve(): everything that differs between them, and nothing that does not.
 */
export interface GenerationApi<R extends { model: string }, J extends JobMessage = JobMessage> {
  /** the validated body (a 400 naming the problem otherwise); logs what it ignores */
  read(c: Context, log: Logger): Promise<R>;
  /** the job a worker runs; what no worker could do is refused here, before the model is looked up */
  toJob(request: R): J;
  /** what the model must be able to do, where the job alone does not tell (default: capabilitiesFor) */
  needs?(request: R, job: J): Capability[];
  /** Ollama's requests with nothing to generate: they load the model (or, with keep_alive 0, unload it everywhere) */
  loadOnly?: {
    when(request: R): boolean;
    /** what the model must still be able to do (Ollama checks embed's, and nothing for chat or generate) */
    needs?: Capability[];
    answer(c: Context, request: R, done: "load" | "unload"): Response;
  };
  /** how this request is answered once its job has started; `arrivedAt` is the request's arrival (ms) */
  answer(request: R, job: J, started: StartedJob, arrivedAt: number): Answer;
}

/** A stream written as the job runs, or one object rendered from the whole answer once it has ended. */
export type Answer = { stream(c: Context): Response } | { collect(answer: CollectedAnswer): object };

/**
 * Serves any GenerationApi: read → job → model → capabilities → start → stream or collect. Every
 * refusal is thrown before the job is queued (a job without what its kind runs on is a 400, by
 * the wire schema's rule), and an error before its first event still gets a real status (see
 * startJob); the app's error handlers give it the API's shape.
 */
export function serve<R extends { model: string }, J extends JobMessage>(api: GenerationApi<R, J>, deps: GatewayDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const arrivedAt = Date.now();
    const startedAt = process.hrtime.bigint();
    const request = await api.read(c, deps.log);
    const job = api.toJob(request);
    const model = await requireModel(deps.transport, request.model);
    const loadOnly = api.loadOnly?.when(request) ? api.loadOnly : undefined;
    assertCapable(model, request.model, loadOnly ? (loadOnly.needs ?? []) : (api.needs?.(request, job) ?? capabilitiesFor(job)));
    if (loadOnly) return loadOnly.answer(c, request, await loadOrUnload(deps, job));
    const runnable = JobInput.safeParse(job);
    if (!runnable.success) throw badRequest(runnable.error.issues[0]!.message);

    const started = await startJob(c, deps, job, startedAt);
    const answer = api.answer(request, job, started, arrivedAt);
    return "stream" in answer ? answer.stream(c) : c.json(answer.collect(await collectAnswer(started)));
  };
}

/** An empty request loads the model, or with keep_alive 0 unloads it on every worker; says which it did. */
async function loadOrUnload(deps: GatewayDeps, job: JobMessage): Promise<"load" | "unload"> {
  if (job.keep_alive_ms === 0) {
    await deps.dispatcher.unloadEverywhere(job.model);
    return "unload";
  }
  await deps.dispatcher.load(job.model, job.keep_alive_ms, job.options);
  return "load";
}
