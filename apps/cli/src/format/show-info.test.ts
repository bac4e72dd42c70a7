import { describe, expect, it } from "vitest";
import { humanNumber, showInfo } from "./show-info.ts";

// The expected texts are Ollama's own TestShowInfo cases.
describe("showInfo (ollama show)", () => {
  it("bare details", () => {
    expect(showInfo({ details: { family: "test", parameter_size: "7B", quantization_level: "FP16" } }, false)).toBe(
      "  Model\n    architecture    test    \n    parameters      7B      \n    quantization    FP16    \n\n",
    );
  });

  it("model info, capabilities and parameters", () => {
    const text = showInfo(
      {
        model_info: { "general.architecture": "test", "general.parameter_count": 7_000_000_000, "test.context_length": 0, "test.embedding_length": 0 },
        details: { family: "test", parameter_size: "7B", quantization_level: "FP16" },
        capabilities: ["completion", "embedding"],
        parameters: 'stop "<|im_end|>"\ntemperature 0.7',
      },
      false,
    );
    expect(text).toBe(
      "  Model\n" +
        "    architecture        test    \n" +
        "    parameters          7B      \n" +
        "    context length      0       \n" +
        "    embedding length    0       \n" +
        "    quantization        FP16    \n\n" +
        "  Capabilities\n    completion    \n    embedding     \n\n" +
        '  Parameters\n    stop           "<|im_end|>"    \n    temperature    0.7             \n\n',
    );
  });

  it("verbose: metadata sorted, numbers as Go's %g, arrays shortened", () => {
    const text = showInfo(
      {
        details: { family: "test", parameter_size: "8B", quantization_level: "FP16" },
        model_info: { "general.architecture": "test", "general.parameter_count": 8_000_000_000, "some.true_bool": true, "test.context_length": 1000, "x.eps": 1e-5, "x.tokens": ["a", "b", "c", "d", "e"] },
      },
      true,
    );
    expect(text).toContain(
      "  Metadata\n" +
        "    general.architecture       test                  \n" +
        "    general.parameter_count    8e+09                 \n" +
        "    some.true_bool             true                  \n" +
        "    test.context_length        1000                  \n" +
        "    x.eps                      1e-05                 \n" +
        "    x.tokens                   [a b c ...+2 more]    \n\n",
    );
  });

  it("System and License: two lines, then ...", () => {
    expect(showInfo({ details: {}, license: "MIT\n\nline two\nline three" }, false)).toContain("  License\n    MIT         \n    line two    \n    ...         \n\n");
  });

  it.each([
    [7_000_000_000, "7B"],
    [7_240_000_000, "7.2B"],
    [1_500_000, "1.50M"],
    [292_800, "293K"],
    [999, "999"],
  ])("humanNumber %d → %s", (n, text) => expect(humanNumber(n)).toBe(text));
});
