import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Capability } from "@caravan/protocol";
import { modelCapabilities, type CapabilityHeader } from "./capabilities.ts";
import { deriveGguf } from "./derive-gguf.ts";
import { readGgufFacts } from "./gguf-facts.ts";
import { STORIES_260K, STORIES_260K_CHATML, TEST_MODELS_DIR } from "./test-models.ts";

const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
/** A made-up layout with DeepSeek/Qwen-style `<think>` segments: node-llama-cpp's Jinja wrapper reads a thought segment from it. */
const THINKING =
  "{%- for message in messages %}{%- if message.role == 'assistant' %}{{- 'ASSISTANT: ' }}{%- if message.reasoning_content %}{{- '<think>\\n' + message.reasoning_content + '\\n</think>\\n' }}{%- endif %}{{- message.content + '\\n' }}{%- else %}{{- message.role | upper + ': ' + message.content + '\\n' }}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- 'ASSISTANT: ' }}{%- endif %}";

const header = (metadata: Record<string, unknown>) => ({ metadata }) as unknown as CapabilityHeader;
const llama = (extra: Record<string, unknown> = {}) => header({ general: { architecture: "llama" }, ...extra });

describe("modelCapabilities (from a GGUF header)", () => {
  it.each<[string, CapabilityHeader, Capability[]]>([
    ["a generative model without a template", llama(), ["completion", "embedding"]],
    ["a chat template", llama({ tokenizer: { chat_template: CHATML } }), ["completion", "embedding", "tools"]],
    ["a blank chat template", llama({ tokenizer: { chat_template: "  " } }), ["completion", "embedding"]],
    ["a template with <think> segments", llama({ tokenizer: { chat_template: THINKING } }), ["completion", "embedding", "tools", "thinking"]],
    ["bert", header({ general: { architecture: "bert" }, bert: { pooling_type: 1 } }), ["embedding"]],
    ["nomic-bert", header({ general: { architecture: "nomic-bert" } }), ["embedding"]],
    ["nomic-bert-moe", header({ general: { architecture: "nomic-bert-moe" } }), ["embedding"]],
    ["jina-bert-v2", header({ general: { architecture: "jina-bert-v2" } }), ["embedding"]],
    ["t5encoder", header({ general: { architecture: "t5encoder" } }), ["embedding"]],
    ["a decoder with pooling_type (Qwen3-Embedding)", header({ general: { architecture: "qwen3" }, qwen3: { pooling_type: 3 } }), ["embedding"]],
    ["FIM tokens", llama({ tokenizer: { ggml: { fim_pre_token_id: 5, fim_suf_token_id: 6, fim_mid_token_id: 7 } } }), ["completion", "embedding", "insert"]],
    ["the older FIM keys", llama({ tokenizer: { ggml: { prefix_token_id: 0, suffix_token_id: 1, middle_token_id: 2 } } }), ["completion", "embedding", "insert"]],
    ["FIM prefix only", llama({ tokenizer: { ggml: { fim_pre_token_id: 5 } } }), ["completion", "embedding"]],
    ["FIM ids of -1 (as uint32)", llama({ tokenizer: { ggml: { fim_pre_token_id: 4294967295, fim_suf_token_id: 4294967295, fim_mid_token_id: 4294967295 } } }), ["completion", "embedding"]],
    ["no architecture", header({}), ["completion", "embedding"]],
  ])("%s", (_name, info, expected) => {
    expect(modelCapabilities(info)).toEqual(expected);
  });
});

describe("capabilities of the real test models", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "caravan-capabilities-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [STORIES_260K, ["completion", "embedding"]],
    [STORIES_260K_CHATML, ["completion", "embedding", "tools"]],
    [join(TEST_MODELS_DIR, "TinyStories-656K-Q8_0.gguf"), ["completion", "embedding"]],
  ])("%s", async (path, expected) => {
    expect((await readGgufFacts(path)).capabilities).toEqual(expected);
  });

  it("a copy of stories260K with a thinking template can think", async () => {
    const path = join(dir, "thinking.gguf");
    await deriveGguf(STORIES_260K, path, { "tokenizer.chat_template": THINKING });
    expect((await readGgufFacts(path)).capabilities).toEqual(["completion", "embedding", "tools", "thinking"]);
  });

  it("a copy of stories260K with FIM tokens can insert, and keeps its tensors", async () => {
    const path = join(dir, "fim.gguf");
    await deriveGguf(STORIES_260K, path, { "tokenizer.ggml.fim_pre_token_id": 3, "tokenizer.ggml.fim_suf_token_id": 4, "tokenizer.ggml.fim_mid_token_id": 5 });
    const facts = await readGgufFacts(path);
    expect(facts.capabilities).toEqual(["completion", "embedding", "insert"]);
    expect(facts.details.parameter_size).toBe("293K");
    const [original, derived] = await Promise.all([STORIES_260K, path].map((p) => readGgufFileInfo(p, { sourceType: "filesystem", logWarnings: false })));
    const layout = (info: typeof original) => info!.tensorInfo!.map(({ fileOffset: _, ...tensor }) => tensor);
    expect(layout(derived)).toEqual(layout(original));
    // the weights, byte for byte, where the derived header says they are
    const data = async (p: string, info: typeof original) => (await readFile(p)).subarray(Number(info!.tensorInfo![0]!.fileOffset));
    expect((await data(path, derived)).equals(await data(STORIES_260K, original))).toBe(true);
  });
});
