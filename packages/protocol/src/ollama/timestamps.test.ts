import { describe, expect, it } from "vitest";
import { ollamaTimestamp } from "./timestamps.ts";

const SHAPE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const BASE = Date.UTC(2025, 9, 26, 17, 21, 21, 196);

describe("ollamaTimestamp", () => {
  it.each([
    [BASE + 0.249, "2025-10-26T17:21:21.196249Z"],
    [BASE, "2025-10-26T17:21:21.196000Z"],
    [BASE + 0.001, "2025-10-26T17:21:21.196001Z"],
    [BASE + 0.999, "2025-10-26T17:21:21.196999Z"],
    [BASE + 0.9999, "2025-10-26T17:21:21.197000Z"], // rounds to the nearest microsecond
    [Date.UTC(2025, 11, 31, 23, 59, 59, 999) + 0.9999, "2026-01-01T00:00:00.000000Z"],
    [0, "1970-01-01T00:00:00.000000Z"],
  ])("%d → %s", (epochMs, text) => {
    expect(ollamaTimestamp(epochMs)).toBe(text);
  });

  it("prints every microsecond of a millisecond exactly", () => {
    for (let micros = 0; micros < 1000; micros++) {
      const text = ollamaTimestamp(BASE + micros / 1000);
      expect(text.slice(-7, -1)).toBe(`196${String(micros).padStart(3, "0")}`);
    }
  });

  it("has Ollama's shape and round-trips through Date within 1 ms", () => {
    const inputs = [BASE + 0.249, Date.now(), Date.now() + 0.5, Date.UTC(2000, 1, 29, 0, 0, 0, 1) + 0.0004];
    for (const epochMs of inputs) {
      const text = ollamaTimestamp(epochMs);
      expect(text).toMatch(SHAPE);
      expect(Math.abs(new Date(text).getTime() - epochMs)).toBeLessThan(1);
    }
  });

  it("defaults to now", () => {
    const before = Date.now();
    const text = ollamaTimestamp();
    const after = Date.now();
    expect(text).toMatch(SHAPE);
    const parsed = new Date(text).getTime();
    // the high-resolution clock may run a little apart from Date.now()
    expect(parsed).toBeGreaterThanOrEqual(before - 50);
    expect(parsed).toBeLessThanOrEqual(after + 50);
  });

  it("differs between calls within one millisecond", () => {
    const texts = new Set(Array.from({ length: 50 }, () => ollamaTimestamp()));
    expect(texts.size).toBeGreaterThan(1);
  });
});
