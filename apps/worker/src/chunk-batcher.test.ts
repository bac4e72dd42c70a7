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

  it("lets logprobs ride with the next chunk, and sends the rest on drain", async () => {
    const { sent, batcher } = collect();
    batcher.logprob(lp("Once"));
    expect(sent).toEqual([]); // a logprob alone sends nothing
    batcher.push("Once");
    await Promise.resolve();
    batcher.logprob(lp(" upon"));
    batcher.push(" upon");
    batcher.logprob(lp("</s>")); // EOS: no text follows
    await batcher.drain();
    expect(sent).toEqual([
      { content: "Once", logprobs: [lp("Once")] },
      { content: " upon", logprobs: [lp(" upon"), lp("</s>")] },
    ]);
  });

  it("sends a tool call whole in its own chunk, after the text before it", async () => {
    const { sent, batcher } = collect();
    batcher.push("Let me check.");
    batcher.push(" One moment.");
    batcher.logprob(lp("||"));
    batcher.toolCall(call);
    await batcher.drain();
    expect(sent).toEqual([{ content: "Let me check." }, { content: " One moment.", logprobs: [lp("||")] }, { content: "", tool_calls: [call] }]);
    batcher.logprob(lp("x"));
    batcher.toolCall(call); // nothing pending but logprobs: they go with the call
    await batcher.drain();
    expect(sent.at(-1)).toEqual({ content: "", tool_calls: [call], logprobs: [lp("x")] });
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
