import { describe, expect, it } from "vitest";
import { KEEP_ALIVE_FOREVER, KeepAliveError, parseKeepAlive } from "./keep-alive.ts";

describe("parseKeepAlive", () => {
  it.each<[unknown, number]>([
    // numbers are seconds
    [300, 300_000],
    [0, 0],
    [-0, 0],
    [1.5, 1_500],
    [0.0004, 0], // below a millisecond rounds to "unload when done"
    [0.0006, 1],
    [-1, KEEP_ALIVE_FOREVER],
    [-0.5, KEEP_ALIVE_FOREVER],
    [-1e9, KEEP_ALIVE_FOREVER],
    [1e9, 1e12], // 31 years still fits a Go duration
    [1e300, KEEP_ALIVE_FOREVER], // longer than any Go duration or timer
    // strings are Go durations
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["300ms", 300],
    ["1.5h", 5_400_000],
    ["2h45m30.5s", 9_930_500],
    ["1us", 0],
    ["1µs", 0],
    ["0", 0],
    ["-0", 0],
    ["-0s", 0],
    ["+5s", 5_000],
    ["-1s", KEEP_ALIVE_FOREVER],
    ["-1ns", KEEP_ALIVE_FOREVER],
    ["-5m", KEEP_ALIVE_FOREVER],
    ["1.s", 1_000],
    [".5s", 500],
  ])("%j → %d ms", (value, ms) => {
    const parsed = parseKeepAlive(value);
    expect(parsed).toBe(ms);
    expect(Number.isInteger(parsed)).toBe(true);
  });

  it.each<[unknown]>([
    [""],
    ["5"],
    ["abc"],
    ["5x"],
    ["m"],
    ["1h 30m"],
    [" 5m"], // Go's parser takes no surrounding spaces either
    ["--5s"],
    [".s"],
    ["2562048h"],
    [null],
    [undefined],
    [true],
    [false],
    [{}],
    [[]],
    [["5m"]],
    [NaN],
    [Infinity],
    [-Infinity],
  ])("%j is a KeepAliveError", (value) => {
    expect(() => parseKeepAlive(value)).toThrow(KeepAliveError);
  });

  it("says what it got and what it accepts", () => {
    let caught: unknown;
    try {
      parseKeepAlive("5x");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KeepAliveError);
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).name).toBe("KeepAliveError");
    expect((caught as Error).message).toBe('invalid keep_alive "5x": use seconds (a number) or a duration such as "5m", "1h30m", "300ms"');
  });

  it.each<[unknown, string]>([
    [undefined, "undefined"],
    [NaN, "NaN"],
    [Infinity, "Infinity"],
    [10n, "10"],
    [null, "null"],
    [{}, "{}"],
  ])("names %s even where JSON cannot print it", (value, shown) => {
    expect(() => parseKeepAlive(value)).toThrow(`invalid keep_alive ${shown}: `);
  });
});
