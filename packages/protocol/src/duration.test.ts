import { describe, expect, it } from "vitest";
import { parseGoDuration } from "./duration.ts";

// Expected values follow Go's time.ParseDuration; the comment names Go's answer where it surprises.
describe("parseGoDuration", () => {
  it.each([
    ["0", 0],
    ["-0", 0],
    ["+0", 0],
    ["0s", 0],
    ["-0s", 0],
    ["5s", 5_000],
    ["+5s", 5_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["300ms", 300],
    ["1.5h", 5_400_000],
    ["2h45m30.5s", 9_930_500],
    ["1us", 0.001],
    ["1µs", 0.001], // U+00B5 micro sign
    ["1μs", 0.001], // U+03BC Greek mu
    ["1ns", 0.000001],
    ["1.s", 1_000], // Go: digits before the point are enough
    [".5s", 500], // Go: digits after the point are enough
    ["1.0s", 1_000],
    ["007s", 7_000],
    ["1h1h", 7_200_000], // Go adds repeated units
    ["30s1m", 90_000], // in any order
    ["1m30s500ms", 90_500],
    ["-1s", -1_000],
    ["-1.5h", -5_400_000],
    ["2562047h", 2_562_047 * 3_600_000], // just under Go's int64-nanosecond limit
  ])("%j → %d ms", (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it("never returns negative zero", () => {
    expect(Object.is(parseGoDuration("-0s"), 0)).toBe(true);
    expect(Object.is(parseGoDuration("-0"), 0)).toBe(true);
    expect(Object.is(parseGoDuration("-0.0h"), 0)).toBe(true);
  });

  it.each([
    [""],
    ["+"],
    ["-"],
    ["5"], // Go: missing unit
    ["1.5"],
    ["00"], // only a bare "0" may go without a unit
    ["abc"],
    ["5x"], // unknown unit
    ["5S"], // units are case-sensitive
    ["5H"],
    ["m"], // no number
    [".s"], // a point with no digits on either side
    ["-.s"],
    ["1..5s"],
    ["1h 30m"], // Go allows no spaces anywhere
    [" 5m"],
    ["5m "],
    ["--5s"],
    ["+-5s"],
    ["1h-30m"], // a sign only in front
    ["5mm"],
    ["5msec"],
    ["1m5"], // trailing number without unit
    ["1e3s"], // no exponents
    ["Infinity"],
    ["NaN"],
    ["2562048h"], // Go: overflows int64 nanoseconds
    ["-2562048h"],
  ])("%j is rejected", (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});
