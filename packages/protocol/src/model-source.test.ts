import { describe, expect, it } from "vitest";
import { ModelSourceError, modelFileStem, parsePullSource } from "./model-source.ts";

describe("parsePullSource", () => {
  it.each([
    [
      "hf:Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf",
      { url: "https://huggingface.co/Qwen/Qwen3-0.6B-GGUF/resolve/main/Qwen3-0.6B-Q8_0.gguf", fileName: "Qwen3-0.6B-Q8_0.gguf", name: "qwen3-0.6b-q8_0:latest" },
    ],
    [
      "hf:owner/repo/sub/dir/Model.gguf@v1.2",
      { url: "https://huggingface.co/owner/repo/resolve/v1.2/sub/dir/Model.gguf", fileName: "Model.gguf", name: "model:latest" },
    ],
    [
      "hf:owner/repo/m.GGUF@refs/pr/1",
      { url: "https://huggingface.co/owner/repo/resolve/refs%2Fpr%2F1/m.GGUF", fileName: "m.GGUF", name: "m:latest" },
    ],
    ["https://example.com/models/stories260K.gguf", { url: "https://example.com/models/stories260K.gguf", fileName: "stories260K.gguf", name: "stories260k:latest" }],
    ["https://example.com/a%20b/tiny.gguf?download=1", { url: "https://example.com/a%20b/tiny.gguf?download=1", fileName: "tiny.gguf", name: "tiny:latest" }],
  ])("%s", (source, expected) => {
    expect(parsePullSource(source)).toEqual(expected);
  });

  it("takes http:// only when insecure", () => {
    expect(() => parsePullSource("http://127.0.0.1:8080/x.gguf")).toThrow(/http:\/\/ is not encrypted.*insecure: true/);
    expect(parsePullSource("http://127.0.0.1:8080/x.gguf", true)).toMatchObject({ url: "http://127.0.0.1:8080/x.gguf", name: "x:latest" });
  });

  it.each([
    ["llama3", /cannot pull 'llama3': caravan pulls GGUF files/],
    ["llama3.2:1b", /caravan pulls GGUF files/],
    ["ftp://example.com/x.gguf", /caravan pulls GGUF files/],
    ["https://example.com/model.bin", /must be a \.gguf/],
    ["https://example.com/.gguf", /must be a \.gguf/],
    ["https://example.com/..%2Fevil.gguf", /cannot be a model name/],
    ["https://example.com/a%2Fb.gguf", /cannot be a model name/],
    ["https://example.com/%00x.gguf", /cannot be a model name/],
    ["https://example.com/.hidden.gguf", /cannot be a model name/],
    ["hf:owner/Model.gguf", /expected hf:OWNER\/REPO/],
    ["hf:owner/repo/../x.gguf", /expected hf:OWNER\/REPO/],
    ["hf:owner/repo/x.gguf@../main", /invalid revision/],
  ])("refuses %j", (source, message) => {
    expect(() => parsePullSource(source)).toThrow(ModelSourceError);
    expect(() => parsePullSource(source)).toThrow(message);
  });
});

describe("modelFileStem", () => {
  it.each([
    ["my-model", "my-model"],
    ["My_Model.v2", "My_Model.v2"],
    ["stories:latest", "stories"],
    ["stories:LATEST", "stories"],
    ["a", "a"],
  ])("%j → %j", (name, stem) => {
    expect(modelFileStem(name)).toBe(stem);
  });

  it.each(["", "../x", "a/b", "a\\b", "/abs", "x\0y", ".hidden", "-dash", "a..b", "x:7b", "x:latest:latest", "a b", "é", "x".repeat(201)])("refuses %j", (name) => {
    expect(() => modelFileStem(name)).toThrow(ModelSourceError);
  });
});
