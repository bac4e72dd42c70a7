import { describe, expect, it } from "vitest";
import { GgmlType, GgufFileType } from "node-llama-cpp";
import { formatParameterCount, quantizationName } from "./gguf-facts.ts";

describe("formatParameterCount (Ollama's format.HumanNumber)", () => {
  it.each([
    [0, "0"],
    [999, "999"],
    [1000, "1K"],
    [1001, "1K"],
    [292_800, "293K"],
    [1_000_000, "1M"],
    [125_000_000, "125M"],
    [500_500_000, "500.50M"],
    [500_550_000, "500.55M"],
    [1_000_000_000, "1B"],
    [2_800_000_000, "2.8B"],
    [2_850_000_000, "2.9B"],
    [7_241_732_096, "7.2B"],
    [1_000_000_000_000, "1000B"],
  ])("%d → %s", (count, expected) => {
    expect(formatParameterCount(count)).toBe(expected);
  });
});

describe("quantizationName", () => {
  it.each([
    [GgufFileType.ALL_F32, undefined, "F32"],
    [GgufFileType.MOSTLY_Q8_0, GgmlType.F32, "Q8_0"],
    [GgufFileType.MOSTLY_Q4_K_M, undefined, "Q4_K_M"],
    [GgufFileType.MOSTLY_BF16, undefined, "BF16"],
    [undefined, GgmlType.F32, "F32"],
    [undefined, GgmlType.Q8_0, "Q8_0"],
    [undefined, undefined, "unknown"],
  ])("file_type %s, dominant %s → %s", (fileType, dominant, expected) => {
    expect(quantizationName(fileType, dominant)).toBe(expected);
  });
});
