import type { DoneMessage } from "@caravan/protocol";

/** Worker embeddings → OpenAI's embedding list. */

export interface EmbeddingList {
  object: "list";
  data: Array<{ object: "embedding"; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** A vector as little-endian float32s, base64-encoded (OpenAI's `encoding_format: "base64"`). */
export function base64Floats(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString("base64");
}

export function embeddingList(model: string, done: DoneMessage, encoding: "float" | "base64"): EmbeddingList {
  const tokens = done.metrics.prompt_eval_count;
  return {
    object: "list",
    data: (done.embeddings ?? []).map((vector, index) => ({ object: "embedding", index, embedding: encoding === "base64" ? base64Floats(vector) : vector })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
