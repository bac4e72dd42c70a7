import { describe, expect, it } from "vitest";
import type { Logprob, ToolCall } from "@caravan/protocol";
import { ChunkBatcher, type ChatChunk } from "./chunk-batcher.ts";

const lp = (token: string): Logprob => ({ token, logprob: -1, bytes: [...Buffer.from(token)] });
const call: ToolCall = { id: "call_abcd1234", function: { index: 0, name: "weather", arguments: { city: "Oslo" } } };

/**
 * A batcher over a transport that holds what it is handed until `window()` (its window's end)
 * sends it all: when each send resolves is the test's to say, no clock involved.
 */
function collect() {
  const sent: ChatChunk[] = [];
  let held: Array<() => void> = [];
  const batcher = new ChunkBatcher((chunk) => {
    sent.push(chunk);
    return new Promise<void>((resolve) => held.push(resolve));
  });
  const window = async () => {
    const sending = held;
    held = [];
    for (const resolve of sending) resolve();
    for (let i = 0; i < 5; i++) await Promise.resolve(); // the batcher's reaction runs on promises
  };
  /** drain() with the transport sending as it is handed things */
  const drain = async () => {
    const drained = batcher.drain();
    await window();
    await drained;
  };
  return { sent, batcher, window, drain };
}

describe("ChunkBatcher", () => {
  it("hands the first text over at once and merges what follows until the transport has sent it", async () => {
    const { sent, batcher, window } = collect();
    batcher.push("Once");
    expect(sent).toEqual([{ content: "Once" }]);
    expect(batcher.ready()).toBeInstanceOf(Promise);
    batcher.push(" upon");
    batcher.push(" a");
    expect(sent).toHaveLength(1);
    await window();
    expect(sent).toEqual([{ content: "Once" }, { content: " upon a" }]);
    await window();
    expect(batcher.ready()).toBeUndefined(); // nothing held: the next text goes at once
    batcher.push(" time");
    expect(sent.at(-1)).toEqual({ content: " time" });
  });

  it("settles ready() once the transport takes more, with what came meanwhile handed over", async () => {
    const { sent, batcher, window } = collect();
    batcher.push("a");
    const ready = batcher.ready()!;
    let settled = false;
    void ready.then(() => (settled = true));
    batcher.push("b");
    await Promise.resolve();
    expect(settled).toBe(false);
    await window();
    expect(settled).toBe(true);
    expect(sent.map((c) => c.content)).toEqual(["a", "b"]);
  });

  it("never puts thinking and content in one chunk, and keeps their order", async () => {
    const { sent, batcher, drain } = collect();
    batcher.thinking("Hmm");
    batcher.thinking(", let me see");
    batcher.push("Yes");
    batcher.push(".");
    batcher.thinking("again");
    await drain();
    expect(sent).toEqual([{ content: "", thinking: "Hmm" }, { content: "", thinking: ", let me see" }, { content: "Yes." }, { content: "", thinking: "again" }]);
  });

  it("puts the entries given before a text into that text's chunk, never into another", async () => {
    const { sent, batcher, window, drain } = collect();
    batcher.logprob(lp("Once"));
    expect(sent).toEqual([]); // an entry alone sends nothing
    batcher.push("Once");
    batcher.logprob(lp(" up"));
    batcher.push(" up");
    batcher.logprob(lp("on")); // the next text's: " up" goes out without it
    await window();
    batcher.push("on");
    batcher.logprob(lp(" a"));
    batcher.push(" a");
    await drain();
    expect(sent).toEqual([
      { content: "Once", logprobs: [lp("Once")] },
      { content: " up", logprobs: [lp(" up")] },
      { content: "on a", logprobs: [lp("on"), lp(" a")] },
    ]);
  });

  it("keeps a thought's entries with the thought and a content's with the content", async () => {
    const { sent, batcher, drain } = collect();
    batcher.logprob(lp("Hmm"));
    batcher.thinking("Hmm");
    batcher.logprob(lp("."));
    batcher.thinking(".");
    batcher.logprob(lp("Yes")); // given before the switch to content
    batcher.push("Yes");
    await drain();
    expect(sent).toEqual([
      { content: "", thinking: "Hmm", logprobs: [lp("Hmm")] },
      { content: "", thinking: ".", logprobs: [lp(".")] },
      { content: "Yes", logprobs: [lp("Yes")] },
    ]);
  });

  it("sends a tool call whole in its own chunk, after the text before it", async () => {
    const { sent, batcher, drain } = collect();
    batcher.push("Let me check.");
    batcher.logprob(lp(" One"));
    batcher.push(" One");
    batcher.push(" moment.");
    batcher.toolCall(call);
    batcher.push(" Done.");
    await drain();
    expect(sent).toEqual([{ content: "Let me check." }, { content: " One moment.", logprobs: [lp(" One")] }, { content: "", tool_calls: [call] }, { content: " Done." }]);
  });

  it("drain hands over what waits at once, and waits until the transport has sent it; empty text is ignored", async () => {
    const { sent, batcher, window } = collect();
    batcher.push("a");
    batcher.push("");
    batcher.thinking("b");
    batcher.toolCall(call);
    batcher.push("c");
    let drained = false;
    const draining = batcher.drain().then(() => (drained = true));
    expect(sent.map((c) => c.content + (c.thinking ?? "") + (c.tool_calls ? "[call]" : ""))).toEqual(["a", "b", "[call]", "c"]);
    await Promise.resolve();
    expect(drained).toBe(false);
    await window();
    await draining;
    expect(sent).toHaveLength(4);
  });
});
