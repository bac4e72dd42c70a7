import { describe, expect, it } from "vitest";
import { doneEvent } from "../testing/events.ts";
import { base64Floats, embeddingList } from "./embedding-response.ts";

const done = doneEvent(
  {
    embeddings: [
      [0.6, 0.8],
      [1, 0],
    ],
  },
  { prompt_eval_count: 6, eval_count: 0, eval_duration: 0 },
);

describe("embeddings", () => {
  it("lists one embedding per input, in order, with the prompt tokens as usage", () => {
    expect(embeddingList("m", done, "float")).toEqual({
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: [0.6, 0.8] },
        { object: "embedding", index: 1, embedding: [1, 0] },
      ],
      model: "m",
      usage: { prompt_tokens: 6, total_tokens: 6 },
    });
  });

  it("encodes base64 as little-endian float32s", () => {
    const encoded = base64Floats([1, -2.5]);
    expect(Buffer.from(encoded, "base64")).toEqual(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0]));
    const decoded = new Float32Array(new Uint8Array(Buffer.from(embeddingList("m", done, "base64").data[0]!.embedding as string, "base64")).buffer);
    expect([...decoded].map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0.6, 0.8]);
  });
});
