import { randomUUID } from "node:crypto";
import { canonicalModelName, WIRE_VERSION, type JobMessage, type ModelOptions } from "@caravan/protocol";
import { keepAliveMs } from "../job-fields.ts";

export interface EmbedJobInput {
  model: string;
  input: string[];
  truncate: boolean;
  dimensions?: number;
  /** /api/embed and OpenAI normalize; the legacy /api/embeddings does not */
  normalize: boolean;
  options?: ModelOptions;
  keep_alive?: number | string;
}

/** An embedding request of any API → the job a worker runs. */
export function embedRequestToJob(request: EmbedJobInput): JobMessage {
  return {
    v: WIRE_VERSION,
    type: "job",
    kind: "embed",
    id: randomUUID(),
    model: canonicalModelName(request.model),
    messages: [],
    input: request.input,
    truncate: request.truncate,
    dimensions: request.dimensions,
    normalize: request.normalize,
    options: request.options ?? {},
    keep_alive_ms: keepAliveMs(request.keep_alive),
    accepted_at: Date.now(),
  };
}
