import { describe, expect, it } from "vitest";
import { ChunkBatcher } from "./chunk-batcher.ts";

describe("ChunkBatcher", () => {
  it("sends the first text at once and coalesces text that follows within the window", async () => {
    const sent: string[] = [];
    const batcher = new ChunkBatcher(async (text) => void sent.push(text), 50);
    batcher.push("Once");
    await Promise.resolve();
    expect(sent).toEqual(["Once"]); // time to first token is not delayed
    batcher.push(" upon");
    batcher.push(" a");
    expect(sent).toEqual(["Once"]);
    await new Promise((r) => setTimeout(r, 80));
    expect(sent).toEqual(["Once", " upon a"]);
    batcher.push(" time");
    await batcher.drain();
    expect(sent.join("")).toBe("Once upon a time");
  });

  it("keeps order when a send is slow, and drain waits for every send", async () => {
    const sent: string[] = [];
    const batcher = new ChunkBatcher(async (text) => {
      await new Promise((r) => setTimeout(r, text === "a" ? 30 : 1));
      sent.push(text);
    }, 0);
    batcher.push("a");
    batcher.push("b");
    batcher.push("c");
    await batcher.drain();
    expect(sent.join("")).toBe("abc");
    expect(sent[0]).toBe("a");
  });

  it("ignores empty text", async () => {
    const sent: string[] = [];
    const batcher = new ChunkBatcher(async (text) => void sent.push(text));
    batcher.push("");
    await batcher.drain();
    expect(sent).toEqual([]);
  });
});
