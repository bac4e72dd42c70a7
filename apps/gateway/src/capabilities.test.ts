import { describe, expect, it } from "vitest";
import type { AdvertisedModel, Capability } from "@caravan/protocol";
import { assertCapable } from "./capabilities.ts";
import { HttpError } from "./errors.ts";

const model = (capabilities: Capability[]): AdvertisedModel => ({
  name: "stories260k:latest",
  model: "stories260k:latest",
  modified_at: "2025-01-01T00:00:00Z",
  size: 1,
  digest: "0",
  details: { parent_model: "", format: "gguf", family: "llama", families: ["llama"], parameter_size: "293K", quantization_level: "F32" },
  capabilities,
});

function refusal(capabilities: Capability[], needs: Capability[], name = "Stories260K"): HttpError | undefined {
  try {
    assertCapable(model(capabilities), name, needs);
    return undefined;
  } catch (error) {
    return error as HttpError;
  }
}

describe("assertCapable", () => {
  it.each<[Capability, string]>([
    ["tools", '"Stories260K" does not support tools'],
    ["thinking", '"Stories260K" does not support thinking'],
    ["insert", '"Stories260K" does not support insert'],
    ["completion", '"Stories260K" does not support generate'],
    ["embedding", '"Stories260K" does not support embeddings'],
    ["vision", '"Stories260K" does not support images'],
  ])("refuses a missing %s with Ollama's 400", (need, message) => {
    const error = refusal([], [need]);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 400, code: "bad_request", message });
  });

  it("passes when every need is advertised", () => {
    expect(refusal(["completion", "embedding", "tools"], ["completion", "tools"])).toBeUndefined();
    expect(refusal(["embedding"], [])).toBeUndefined();
  });

  it("names the first missing need, with the model as the client wrote it", () => {
    expect(refusal(["completion"], ["completion", "tools", "thinking"], "my-model:Q4")?.message).toBe('"my-model:Q4" does not support tools');
  });
});
