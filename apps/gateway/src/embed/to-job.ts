import type { JobMessage, ModelOptions } from "@caravan/protocol";
import { jobEnvelope } from "../job-fields.ts";

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
    ...jobEnvelope(request),
    kind: "embed",
    messages: [],
    input: request.input,
    truncate: request.truncate,
    dimensions: request.dimensions,
    normalize: request.normalize,
  };
}
