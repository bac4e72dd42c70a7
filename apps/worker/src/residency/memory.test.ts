import { describe, expect, it } from "vitest";
import { ByteSizeError, defaultMemoryBudget, estimateModelBytes, MODEL_OVERHEAD_BYTES, parseByteSize, VRAM_RESERVE_BYTES } from "./memory.ts";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe("estimateModelBytes", () => {
  it("is the file, the KV cache of every sequence, and the fixed overhead", () => {
    // stories260K: 1,185,376 bytes, 640 bytes of KV per token
    expect(estimateModelBytes({ size: 1_185_376, kvBytesPerToken: 640 }, 2048, 4)).toBe(1_185_376 + 640 * 2048 * 4 + MODEL_OVERHEAD_BYTES);
    // Llama 3 8B Q4_K_M, 128 KiB per token, 8192 tokens × 1 sequence: the cache alone is 1 GiB
    expect(estimateModelBytes({ size: 4_920_000_000, kvBytesPerToken: 131_072 }, 8192, 1)).toBe(4_920_000_000 + GiB + MODEL_OVERHEAD_BYTES);
  });

  it("without KV facts, counts the file and the overhead", () => {
    expect(estimateModelBytes({ size: 1000, kvBytesPerToken: 0 }, 4096, 4)).toBe(1000 + MODEL_OVERHEAD_BYTES);
  });
});

describe("defaultMemoryBudget", () => {
  it.each<[string, { total: number; free: number }, { total: number; used: number } | undefined, number]>([
    ["CPU: 75% of RAM", { total: 64 * GiB, free: 60 * GiB }, undefined, 48 * GiB],
    ["CPU: no more than is free", { total: 64 * GiB, free: 20 * GiB }, undefined, 20 * GiB],
    ["CPU: whole bytes", { total: 1001, free: 1001 }, undefined, 750],
    ["GPU: VRAM less the reserve", { total: 64 * GiB, free: 1 * GiB }, { total: 80 * GiB, used: 0 }, 80 * GiB - VRAM_RESERVE_BYTES],
    ["GPU: less what others use", { total: 64 * GiB, free: 60 * GiB }, { total: 24 * GiB, used: 4 * GiB }, 20 * GiB - VRAM_RESERVE_BYTES],
    ["GPU: never negative", { total: 64 * GiB, free: 60 * GiB }, { total: 256 * MiB, used: 0 }, 0],
  ])("%s", (_name, ram, vram, expected) => {
    expect(defaultMemoryBudget(ram, vram)).toBe(expected);
  });
});

describe("parseByteSize", () => {
  it.each([
    ["1073741824", GiB],
    ["0", 0],
    ["8GiB", 8 * GiB],
    ["512MB", 512_000_000],
    ["512MiB", 512 * MiB],
    ["1.5GiB", 1.5 * GiB],
    ["1.1MB", 1_100_000],
    ["0.57KB", 570],
    ["2 TiB", 2 * 1024 * GiB],
    ["4gb", 4_000_000_000],
    ["16kib", 16 * 1024],
    ["100B", 100],
    [" 3GB ", 3_000_000_000],
    ["1.0000000001KB", 1000], // fractions of a byte are dropped
  ])("%s → %d", (text, expected) => {
    expect(parseByteSize(text)).toBe(expected);
  });

  it.each(["", "GiB", "8G", "8M", "8 gigs", "-1GiB", "1e9", "0x10", "1.5", "8GiB8", "1,5GiB", "NaN", "Infinity", "99999999999TiB"])(
    "refuses %j with a message naming the accepted forms",
    (text) => {
      expect(() => parseByteSize(text)).toThrow(ByteSizeError);
      expect(() => parseByteSize(text)).toThrow(/invalid byte size .*GiB.*GB/);
    },
  );
});
