import { describe, expect, it } from "vitest";
import { KNOWN_OPTION_KEYS, ModelOptions, unknownOptionKeys } from "./options.ts";

const CONTRACT_KEYS = [
  // runtime
  "seed", "num_predict", "top_k", "top_p", "min_p", "typical_p", "repeat_last_n", "temperature",
  "repeat_penalty", "presence_penalty", "frequency_penalty", "stop", "num_keep",
  // load-time
  "num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread",
];

describe("ModelOptions", () => {
  it("knows exactly the contract's keys", () => {
    expect([...KNOWN_OPTION_KEYS].sort()).toEqual([...CONTRACT_KEYS].sort());
  });

  it("drops unknown keys from the parsed value", () => {
    expect(ModelOptions.parse({ temperature: 0, mirostat: 2 })).toEqual({ temperature: 0 });
  });

  it("skips null values, as Ollama's Options.FromMap does", () => {
    expect(ModelOptions.parse({ temperature: null, num_ctx: null, stop: null, use_mmap: null })).toEqual({});
  });

  it.each([
    ["num_predict", 3.7, 3],
    ["num_predict", -1, -1],
    ["seed", -1.9, -1],
    ["top_k", 40.0, 40],
    ["num_thread", 0.5, 0],
  ])("truncates integer option %s: %d → %d", (key, value, expected) => {
    expect(ModelOptions.parse({ [key]: value })).toEqual({ [key]: expected });
  });
});

describe("unknownOptionKeys", () => {
  it.each<[unknown, string[]]>([
    [{ temperature: 0.1, mirostat: 2, tfs_z: 1 }, ["mirostat", "tfs_z"]],
    [{ temperature: 0.1, num_ctx: 8 }, []],
    [{}, []],
    [undefined, []],
    [null, []],
    ["temperature", []],
    [42, []],
    [["temperature"], []], // an array is not an options object (the schema says so)
  ])("%j → %j", (raw, keys) => {
    expect(unknownOptionKeys(raw)).toEqual(keys);
  });
});
