import { EmbeddingsRequest, EmbedRequest, type EmbedJob, type EmbedResponse, type ModelOptions } from "@caravan/protocol";
import { readBody } from "../body.ts";
import { jobEnvelope } from "../job-fields.ts";
import type { GenerationApi } from "../respond/serve.ts";

/** POST /api/embed: normalized vectors, one per input; no input loads (or unloads) the model. */
export const embed: GenerationApi<EmbedRequest> = {
  read: async (c) => (await readBody(c, EmbedRequest)).body,
  toJob: (request) => embedJob({ ...request, normalize: true }),
  // Ollama checks the model can embed before it loads it, unlike chat and generate.
  loadOnly: { when: (request) => request.input.length === 0, needs: ["embedding"], answer: (c, request) => c.json({ model: request.model, embeddings: [] }) },
  answer: (request, _job, started) => ({
    collect: ({ done }): EmbedResponse => ({
      model: request.model,
      embeddings: done.embeddings ?? [],
      total_duration: started.elapsedNs(),
      load_duration: done.metrics.load_duration,
      prompt_eval_count: done.metrics.prompt_eval_count,
    }),
  }),
};

/** POST /api/embeddings (legacy): one prompt, one vector as the model gives it (not normalized). */
export const embeddings: GenerationApi<EmbeddingsRequest> = {
  read: async (c) => (await readBody(c, EmbeddingsRequest)).body,
  toJob: (request) => embedJob({ ...request, input: request.prompt === "" ? [] : [request.prompt], truncate: true, normalize: false }),
  loadOnly: { when: (request) => request.prompt === "", needs: ["embedding"], answer: (c) => c.json({ embedding: [] }) },
  answer: () => ({ collect: ({ done }) => ({ embedding: done.embeddings?.[0] ?? [] }) }),
};

/** An Ollama embedding request → the job a worker runs. */
function embedJob(request: { model: string; input: string[]; truncate: boolean; dimensions?: number; normalize: boolean; options?: ModelOptions; keep_alive?: number | string }): EmbedJob {
  return {
    ...jobEnvelope(request),
    kind: "embed",
    input: request.input,
    truncate: request.truncate,
    dimensions: request.dimensions,
    // /api/embed and OpenAI normalize; the legacy /api/embeddings does not
    normalize: request.normalize,
  };
}
