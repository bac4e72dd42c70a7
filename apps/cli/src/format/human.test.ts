import { describe, expect, it } from "vitest";
import { humanBytes, humanDuration, humanTime } from "./human.ts";

describe("humanBytes (Ollama's format.HumanBytes)", () => {
  it.each([
    [0, "0 B"],
    [512, "512 B"],
    [1000, "1 KB"],
    [1024, "1.0 KB"],
    [2048, "2.0 KB"],
    [1_185_376, "1.2 MB"],
    [749_728, "749 KB"],
    [274_863_712, "274 MB"],
    [2_019_393_189, "2.0 GB"],
    [4_700_000_000, "4.7 GB"],
    [27_000_000_000, "27 GB"],
    [1_500_000_000_000, "1.5 TB"],
  ])("%d → %s", (bytes, text) => expect(humanBytes(bytes)).toBe(text));
});

describe("humanTime (Ollama's format.HumanTime)", () => {
  const now = Date.parse("2026-01-10T12:00:00Z");
  const ago = (ms: number) => new Date(now - ms).toISOString();
  it.each([
    [500, "Less than a second ago"],
    [1_000, "1 second ago"],
    [45_000, "45 seconds ago"],
    [90_000, "About a minute ago"],
    [120_000, "2 minutes ago"],
    [3_600_000, "About an hour ago"],
    [24 * 3_600_000, "24 hours ago"],
    [48 * 3_600_000, "2 days ago"],
    [15 * 24 * 3_600_000, "2 weeks ago"],
    [90 * 24 * 3_600_000, "3 months ago"],
    [800 * 24 * 3_600_000, "2 years ago"],
    [-4 * 60_000 - 59_000, "4 minutes from now"],
  ])("%d ms ago → %s", (ms, text) => expect(humanTime(ago(ms), now, "Never")).toBe(text));

  it("says Forever past 20 years ahead (a model kept loaded forever) and the zero value for no time", () => {
    expect(humanTime("2318-01-01T00:00:00Z", now, "Never")).toBe("Forever");
    expect(humanTime(undefined, now, "Never")).toBe("Never");
    expect(humanTime("0001-01-01T00:00:00Z", now, "Never")).toBe("Never");
  });

  it("rounds hours as Go does", () => expect(humanDuration(90 * 60_000)).toBe("2 hours"));
});
