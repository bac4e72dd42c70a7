import { describe, expect, it } from "vitest";
import { WIRE_VERSION, type ChunkMessage, type DoneMessage } from "@caravan/protocol";
import { ChatChunker, chatCompletion } from "./chat-response.ts";

const meta = { id: "chatcmpl-1", created: 1700000000, model: "stories260K" };
const metrics = { load_duration: 0, prompt_eval_count: 7, prompt_cached_count: 4, prompt_eval_duration: 1, eval_count: 5, eval_duration: 1 };
const done = (done_reason: DoneMessage["done_reason"] = "stop"): DoneMessage => ({ v: WIRE_VERSION, type: "done", id: "j", seq: 9, done_reason, metrics, worker_id: "w" });
const chunk = (fields: Partial<ChunkMessage>): ChunkMessage => ({ v: WIRE_VERSION, type: "chunk", id: "j", seq: 0, content: "", ...fields });
const call = { id: "call_abc", function: { name: "weather", arguments: { city: "Paris" } } };

describe("chatCompletion (stream: false)", () => {
  it("holds the content, the finish reason and the usage", () => {
    const answer = { content: "Hello", thinking: "", toolCalls: [], logprobs: [], contentLogprobs: [], done: done("length") };
    expect(chatCompletion(meta, answer, false)).toEqual({
      ...meta,
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello" }, logprobs: null, finish_reason: "length" }],
      usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12, prompt_tokens_details: { cached_tokens: 4 } },
    });
  });

  it("turns tool calls into OpenAI's, arguments as a JSON string, finish_reason tool_calls", () => {
    const answer = { content: "", thinking: "hmm", toolCalls: [call, { function: { name: "time", arguments: {} } }], logprobs: [], contentLogprobs: [], done: done() };
    const { message, finish_reason } = chatCompletion(meta, answer, false).choices[0];
    expect(finish_reason).toBe("tool_calls");
    expect(message.content).toBeNull();
    expect(message.reasoning).toBe("hmm");
    expect(message.tool_calls?.[0]).toEqual({ id: "call_abc", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } });
    expect(message.tool_calls?.[1]?.id).toMatch(/^call_[a-z0-9]{8}$/);
  });

  it("maps logprobs to choices[].logprobs.content, with bytes", () => {
    const logprobs = [{ token: "Hi", logprob: -0.5, top_logprobs: [{ token: "Hi", logprob: -0.5 }, { token: "é", logprob: -2, bytes: [195, 169] }] }];
    const result = chatCompletion(meta, { content: "Hi", thinking: "", toolCalls: [], logprobs, contentLogprobs: logprobs, done: done() }, true);
    expect(result.choices[0].logprobs).toEqual({
      content: [{ token: "Hi", logprob: -0.5, bytes: [72, 105], top_logprobs: [{ token: "Hi", logprob: -0.5, bytes: [72, 105] }, { token: "é", logprob: -2, bytes: [195, 169] }] }],
      refusal: null,
    });
  });
});

describe("ChatChunker (stream: true)", () => {
  it("sends the role first, the text as it comes, then the finish reason", () => {
    const chunker = new ChatChunker(meta, { includeUsage: false, logprobs: false });
    const chunks = [chunk({ content: "Once" }), chunk({ content: "" }), chunk({ content: " upon" }), done("length")].flatMap((e) => chunker.next(e));
    expect(chunks.map((c) => c.choices[0])).toEqual([
      { index: 0, delta: { role: "assistant", content: "Once" }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: " upon" }, logprobs: null, finish_reason: null },
      { index: 0, delta: {}, logprobs: null, finish_reason: "length" },
    ]);
    for (const c of chunks) expect(c).toMatchObject({ ...meta, object: "chat.completion.chunk" });
    expect(chunks[0]).not.toHaveProperty("usage");
  });

  it("numbers tool calls across the stream and ends with tool_calls", () => {
    const chunker = new ChatChunker(meta, { includeUsage: false, logprobs: false });
    const chunks = [chunk({ tool_calls: [call] }), chunk({ tool_calls: [call] }), done()].flatMap((e) => chunker.next(e));
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "", tool_calls: [{ index: 0, id: "call_abc", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] });
    expect(chunks[1]?.choices[0]?.delta.tool_calls?.[0]?.index).toBe(1);
    expect(chunks[2]?.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("with include_usage, adds usage: null everywhere and a last chunk with the usage and no choices", () => {
    const chunker = new ChatChunker(meta, { includeUsage: true, logprobs: false });
    const chunks = [chunk({ content: "a" }), done()].flatMap((e) => chunker.next(e));
    expect(chunks.map((c) => c.usage)).toEqual([null, null, { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12, prompt_tokens_details: { cached_tokens: 4 } }]);
    expect(chunks[2]?.choices).toEqual([]);
  });

  it("carries logprobs only when asked for", () => {
    const logprobs = [{ token: "a", logprob: -1 }];
    expect(new ChatChunker(meta, { includeUsage: false, logprobs: true }).next(chunk({ content: "a", logprobs }))[0]?.choices[0]?.logprobs).toEqual({
      content: [{ token: "a", logprob: -1, bytes: [97], top_logprobs: [] }],
      refusal: null,
    });
    expect(new ChatChunker(meta, { includeUsage: false, logprobs: false }).next(chunk({ content: "a", logprobs }))[0]?.choices[0]?.logprobs).toBeNull();
  });

  it("keeps a thought's logprobs out of logprobs.content, which describes the content", () => {
    const chunker = new ChatChunker(meta, { includeUsage: false, logprobs: true });
    const thought = chunker.next(chunk({ content: "", thinking: "hmm", logprobs: [{ token: "hmm", logprob: -1 }] }));
    expect(thought.map((c) => c.choices[0]?.logprobs)).toEqual([null]);
    expect(thought[0]?.choices[0]?.delta.reasoning).toBe("hmm");
  });

  it("still sends the role when the job produced no text", () => {
    const chunks = new ChatChunker(meta, { includeUsage: false, logprobs: false }).next(done());
    expect(chunks[0]?.choices[0]).toEqual({ index: 0, delta: { role: "assistant" }, logprobs: null, finish_reason: "stop" });
  });
});
