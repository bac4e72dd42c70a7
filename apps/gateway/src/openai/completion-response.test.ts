import { describe, expect, it } from "vitest";
import { WIRE_VERSION, type ChunkMessage, type DoneMessage } from "@caravan/protocol";
import { TextChunker, textCompletion } from "./completion-response.ts";

const meta = { id: "cmpl-1", created: 1700000000, model: "stories260K" };
const metrics = { load_duration: 0, prompt_eval_count: 3, prompt_eval_duration: 1, eval_count: 2, eval_duration: 1 };
const done: DoneMessage = { v: WIRE_VERSION, type: "done", id: "j", seq: 3, done_reason: "length", metrics, worker_id: "w" };
const chunk = (content: string, logprobs?: ChunkMessage["logprobs"]): ChunkMessage => ({ v: WIRE_VERSION, type: "chunk", id: "j", seq: 0, content, logprobs });

describe("text completions", () => {
  it("answers stream:false with one text_completion", () => {
    const answer = { content: " upon a", thinking: "", toolCalls: [], logprobs: [], contentLogprobs: [], done };
    expect(textCompletion(meta, answer, { logprobs: false, promptLength: 4 })).toEqual({
      ...meta,
      object: "text_completion",
      choices: [{ text: " upon a", index: 0, logprobs: null, finish_reason: "length" }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  it("gives logprobs in the legacy shape, offsets counted from the prompt's start", () => {
    const logprobs = [
      { token: " up", logprob: -1, top_logprobs: [{ token: " up", logprob: -1 }, { token: " a", logprob: -2 }] },
      { token: "on", logprob: -0.5 },
    ];
    const result = textCompletion(meta, { content: " upon", thinking: "", toolCalls: [], logprobs, contentLogprobs: logprobs, done }, { logprobs: true, promptLength: 4 });
    expect(result.choices[0]?.logprobs).toEqual({ tokens: [" up", "on"], token_logprobs: [-1, -0.5], top_logprobs: [{ " up": -1, " a": -2 }, {}], text_offset: [4, 7] });
  });

  it("streams text chunks, a finish chunk and, with include_usage, a usage chunk", () => {
    const chunker = new TextChunker(meta, { includeUsage: true, logprobs: true, promptLength: 4 });
    const chunks = [chunk(" up", [{ token: " up", logprob: -1 }]), chunk(""), chunk("on", [{ token: "on", logprob: -2 }]), done].flatMap((e) => chunker.next(e));
    expect(chunks.map((c) => c.choices[0]?.text)).toEqual([" up", "on", "", undefined]);
    expect(chunks[1]?.choices[0]?.logprobs?.text_offset).toEqual([7]);
    expect(chunks[2]?.choices[0]?.finish_reason).toBe("length");
    expect(chunks.map((c) => c.usage)).toEqual([null, null, null, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { cached_tokens: 0 } }]);
    for (const c of chunks) expect(c.object).toBe("text_completion");
  });
});
