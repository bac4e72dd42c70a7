import { describe, expect, it } from "vitest";
import { GgmlType, GgufFileType } from "node-llama-cpp";
import { formatParameterCount, kvCacheBytesPerToken, quantizationName, readGgufFacts, type AttentionMetadata } from "./gguf-facts.ts";
import { STORIES_260K } from "./test-models.ts";

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

describe("kvCacheBytesPerToken (f16 K+V cache, one sequence)", () => {
  it.each<[string, number, AttentionMetadata]>([
    // 2 × 5 layers × (64 / 8 × 4) × 2 bytes
    ["stories260K: 5 layers, dim 64, 8 heads, 4 KV heads", 640, { block_count: 5, embedding_length: 64, attention: { head_count: 8, head_count_kv: 4 } }],
    // Llama 3 8B: 32 layers, 4096 wide, 32 heads, 8 KV heads → 128 KiB per token
    ["llama3 8B (GQA)", 131_072, { block_count: 32, embedding_length: 4096, attention: { head_count: 32, head_count_kv: 8 } }],
    ["no head_count_kv: every head has its KV", 512, { block_count: 2, embedding_length: 64, attention: { head_count: 8 } }],
    // Gemma-style explicit head widths win over embedding_length / head_count
    ["key_length / value_length", 192, { block_count: 1, embedding_length: 64, attention: { head_count: 8, head_count_kv: 2, key_length: 32, value_length: 16 } }],
    ["per-layer KV heads (0 = no attention in that layer)", 384, { block_count: 3, embedding_length: 64, attention: { head_count: 8, head_count_kv: [4, 0, 8] } }],
    ["per-layer head counts", 128, { block_count: 2, embedding_length: 64, attention: { head_count: [8, 0], head_count_kv: [4, 0] } }],
    ["no attention metadata", 0, { block_count: 5, embedding_length: 64 }],
    ["no block_count", 0, { embedding_length: 64, attention: { head_count: 8, head_count_kv: 4 } }],
    ["no embedding_length", 0, { block_count: 5, attention: { head_count: 8, head_count_kv: 4 } }],
    ["head_count 0", 0, { block_count: 5, embedding_length: 64, attention: { head_count: 0 } }],
    ["empty", 0, {}],
  ])("%s → %d", (_name, expected, arch) => {
    expect(kvCacheBytesPerToken(arch)).toBe(expected);
  });

  it("reads 640 bytes/token from stories260K.gguf", async () => {
    expect((await readGgufFacts(STORIES_260K)).kvBytesPerToken).toBe(640);
  });
});
