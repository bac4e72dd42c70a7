import { describe, expect, it } from "vitest";
import type { Logprob, ToolCall } from "@caravan/protocol";
import { ChunkBatcher, type ChatChunk } from "./chunk-batcher.ts";

const lp = (token: string): Logprob => ({ token, logprob: -1, bytes: [...Buffer.from(token)] });
const call: ToolCall = { id: "call_abcd1234", function: { index: 0, name: "weather", arguments: { city: "Oslo" } } };

function collect(windowMs = 50) {
  const sent: ChatChunk[] = [];
  const batcher = new ChunkBatcher(async (chunk) => void sent.push(chunk), windowMs);
  return { sent, batcher };
}

describe("ChunkBatcher", () => {
  it("sends the first text at once and coalesces what follows within the window", async () => {
    const { sent, batcher } = collect();
    batcher.push("Once");
    await Promise.resolve();
    expect(sent).toEqual([{ content: "Once" }]);
    batcher.push(" upon");
    batcher.push(" a");
    await new Promise((r) => setTimeout(r, 80));
    expect(sent).toEqual([{ content: "Once" }, { content: " upon a" }]);
  });

  it("never puts thinking and content in one chunk, and keeps their order", async () => {
    const { sent, batcher } = collect();
    batcher.thinking("Hmm");
    batcher.thinking(", let me see");
    batcher.push("Yes");
    batcher.push(".");
    batcher.thinking("again");
    await batcher.drain();
    expect(sent).toEqual([{ content: "", thinking: "Hmm" }, { content: "", thinking: ", let me see" }, { content: "Yes." }, { content: "", thinking: "again" }]);
  });

  it("puts the entries given before a text into that text's chunk, never into another", async () => {
    const { sent, batcher } = collect();
    batcher.logprob(lp("Once"));
    expect(sent).toEqual([]); // an entry alone sends nothing
    batcher.push("Once");
    batcher.logprob(lp(" up"));
    batcher.push(" up");
    batcher.logprob(lp("on")); // the next text's: " up" goes out without it
    await batcher.drain();
    batcher.push("on");
    batcher.logprob(lp(" a"));
    batcher.push(" a");
    await batcher.drain();
    expect(sent).toEqual([
      { content: "Once", logprobs: [lp("Once")] },
      { content: " up", logprobs: [lp(" up")] },
      { content: "on a", logprobs: [lp("on"), lp(" a")] },
    ]);
  });

  it("keeps a thought's entries with the thought and a content's with the content", async () => {
    const { sent, batcher } = collect();
    batcher.logprob(lp("Hmm"));
    batcher.thinking("Hmm");
    batcher.logprob(lp("."));
    batcher.thinking(".");
    batcher.logprob(lp("Yes")); // given before the switch to content flushes the thought
    batcher.push("Yes");
    await batcher.drain();
    expect(sent).toEqual([
      { content: "", thinking: "Hmm", logprobs: [lp("Hmm")] },
      { content: "", thinking: ".", logprobs: [lp(".")] },
      { content: "Yes", logprobs: [lp("Yes")] },
    ]);
  });

  it("sends a tool call whole in its own chunk, after the text before it", async () => {
    const { sent, batcher } = collect();
    batcher.push("Let me check.");
    batcher.logprob(lp(" One"));
    batcher.push(" One");
    batcher.push(" moment.");
    batcher.toolCall(call);
    await batcher.drain();
    expect(sent).toEqual([{ content: "Let me check." }, { content: " One moment.", logprobs: [lp(" One")] }, { content: "", tool_calls: [call] }]);
  });

  it("keeps order when a send is slow, and ignores empty text", async () => {
    const sent: ChatChunk[] = [];
    const batcher = new ChunkBatcher(async (chunk) => {
      await new Promise((r) => setTimeout(r, chunk.content === "a" ? 30 : 1));
      sent.push(chunk);
    }, 0);
    batcher.push("a");
    batcher.push("");
    batcher.thinking("b");
    batcher.toolCall(call);
    batcher.push("c");
    await batcher.drain();
    expect(sent.map((c) => c.content + (c.thinking ?? "") + (c.tool_calls ? "[call]" : ""))).toEqual(["a", "b", "[call]", "c"]);
  });
});
