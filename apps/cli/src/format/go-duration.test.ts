import { describe, expect, it } from "vitest";
import { goDuration } from "./go-duration.ts";

describe("goDuration (Go's time.Duration.String)", () => {
  it.each([
    [0, "0s"],
    [1, "1ns"],
    [999, "999ns"],
    [1_100, "1.1µs"],
    [2_200_000, "2.2ms"],
    [123_456_789, "123.456789ms"],
    [1_000_000_000, "1s"],
    [1_500_000_000, "1.5s"],
    [61_000_000_000, "1m1s"],
    [120_000_000_000, "2m0s"],
    [3_723_004_000_000, "1h2m3.004s"],
    [3_600_000_000_000, "1h0m0s"],
    [-1_500_000_000, "-1.5s"],
  ])("%d ns → %s", (ns, text) => expect(goDuration(ns)).toBe(text));
});
