import { describe, expect, it } from "vitest";
import { metricsSummary } from "./metrics.ts";

describe("metricsSummary (ollama run --verbose)", () => {
  it("prints Ollama's lines, durations in Go's format, rates with two decimals", () => {
    const text = metricsSummary({
      total_duration: 1_234_567_891,
      load_duration: 2_500_000,
      prompt_eval_count: 26,
      prompt_eval_duration: 130_000_000,
      eval_count: 300,
      eval_duration: 1_000_000_000,
    });
    expect(text).toBe(
      [
        "total duration:       1.234567891s",
        "load duration:        2.5ms",
        "prompt eval count:    26 token(s)",
        "prompt eval duration: 130ms",
        "prompt eval rate:     200.00 tokens/s",
        "eval count:           300 token(s)",
        "eval duration:        1s",
        "eval rate:            300.00 tokens/s",
        "",
      ].join("\n"),
    );
  });

  it("leaves out zero values, as Ollama does (a warm model has no load duration)", () => {
    expect(metricsSummary({ total_duration: 5_000, load_duration: 0, eval_count: 1, eval_duration: 1_000 })).toBe(
      "total duration:       5µs\neval count:           1 token(s)\neval duration:        1µs\neval rate:            1000000.00 tokens/s\n",
    );
  });
});
