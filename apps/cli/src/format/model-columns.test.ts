import { describe, expect, it } from "vitest";
import { processor, shortDigest } from "./model-columns.ts";

describe("model columns", () => {
  it("shortDigest: 12 hex digits, with or without the sha256: prefix", () => {
    expect(shortDigest("270cba1bd5109f42d03350f60406024560464db1")).toBe("270cba1bd510");
    expect(shortDigest("sha256:270cba1bd5109f42")).toBe("270cba1bd510");
    expect(shortDigest(undefined)).toBe("");
  });

  it.each([
    [1000, 0, "100% CPU"],
    [1000, 1000, "100% GPU"],
    [1000, 520, "48%/52% CPU/GPU"],
    [1000, 2000, "Unknown"],
  ])("processor(%d, %d) → %s", (size, vram, text) => expect(processor(size, vram)).toBe(text));
});
