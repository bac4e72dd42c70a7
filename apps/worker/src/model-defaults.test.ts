import { describe, expect, it } from "vitest";
import { WIRE_VERSION, type ChatJob, type CompletionJob } from "@caravan/protocol";
import { parseSidecar } from "./catalog/index.ts";
import { withModelDefaults } from "./model-defaults.ts";

const envelope = { v: WIRE_VERSION, type: "job", id: "j", model: "m:latest", options: {}, accepted_at: 0 } as const;
const job = (extra: Partial<ChatJob>): ChatJob => ({ ...envelope, kind: "chat", messages: [{ role: "user", content: "Hi" }], ...extra });
const sidecar = parseSidecar(["PARAMETER temperature 0.1", "PARAMETER num_predict 9", "SYSTEM Be brief.", "MESSAGE user Hi", "MESSAGE assistant Hello"].join("\n"));

describe("withModelDefaults", () => {
  it("puts the sidecar's parameters under the request's options", () => {
    expect(withModelDefaults(job({ options: { num_predict: 3 } }), sidecar).options).toEqual({ temperature: 0.1, num_predict: 3 });
  });

  it("adds the sidecar's system prompt and example turns before the conversation", () => {
    const out = withModelDefaults(job({ messages: [{ role: "user", content: "Tell a story" }] }), sidecar);
    expect(out.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Tell a story" },
    ]);
  });

  it("keeps the conversation's own system prompt instead of the sidecar's", () => {
    const out = withModelDefaults(job({ messages: [{ role: "system", content: "Be long." }, { role: "user", content: "Go" }] }), sidecar);
    expect(out.messages.map((m) => m.content)).toEqual(["Be long.", "Hi", "Hello", "Go"]);
  });

  it("applies only the options to completions and embeddings, and nothing without a sidecar", () => {
    const completion: CompletionJob = { ...envelope, kind: "completion", prompt: "Once" };
    expect(withModelDefaults(completion, sidecar)).toEqual({ ...completion, options: { temperature: 0.1, num_predict: 9 } });
    expect(withModelDefaults(completion, undefined)).toBe(completion);
  });
});
