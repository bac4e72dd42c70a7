import { describe, expect, it } from "vitest";
import { ndjson } from "./ndjson.ts";

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe("ndjson", () => {
  it("yields objects split across chunks, a last line without a newline, and skips blank lines", async () => {
    expect(await collect(ndjson(chunks('{"a":1}\n{"b"', ':2}\n\n{"c":"é', '"}')))).toEqual([{ a: 1 }, { b: 2 }, { c: "é" }]);
  });

  it("decodes a multi-byte character split between chunks", async () => {
    const bytes = new TextEncoder().encode('{"t":"→"}\n');
    async function* split() {
      yield bytes.slice(0, 7);
      yield bytes.slice(7);
    }
    expect(await collect(ndjson(split()))).toEqual([{ t: "→" }]);
  });

  it("fails on a line that is not JSON", async () => {
    await expect(collect(ndjson(chunks("<html>\n")))).rejects.toThrow("the server sent a line that is not JSON: <html>");
  });
});
