import { resolveChatWrapper, type GgufFileInfo } from "node-llama-cpp";
import type { Capability } from "@caravan/protocol";

/**
 * Encoder-only architectures (llama.cpp's names): they embed but cannot generate. Ollama decides
 * the same way from `<arch>.pooling_type`, which converters write only for embedding models, so
 * that key counts too (it catches embedding models on decoder architectures, e.g. Qwen3-Embedding).
 */
const EMBEDDING_ONLY_ARCHITECTURES = new Set([
  "bert",
  "modern-bert",
  "nomic-bert",
  "nomic-bert-moe",
  "neo-bert",
  "jina-bert-v2",
  "jina-bert-v3",
  "eurobert",
  "t5encoder",
]);

/** The FIM token ids llama.cpp reads, each under its current key or the older one. */
const FIM_ROLES = [
  ["fim_pre_token_id", "prefix_token_id"],
  ["fim_suf_token_id", "suffix_token_id"],
  ["fim_mid_token_id", "middle_token_id"],
] as const;

/** The parts of a GGUF header that decide what a model can do. */
export type CapabilityHeader = Pick<GgufFileInfo, "metadata">;

/**
 * What caravan can do with a model, read from its GGUF header alone (nothing is loaded):
 * "completion" unless the architecture is encoder-only; "embedding" always (the engine embeds with
 * any model); "tools" with a chat template (caravan's plain layout for template-less models has
 * no tool syntax); "insert" with fill-in-the-middle tokens; "thinking" when the chat wrapper
 * node-llama-cpp resolves for the template has a thought segment. Never "vision".
 */
export function modelCapabilities(header: CapabilityHeader): Capability[] {
  const metadata = header.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
  const architecture = String(metadata.general?.architecture ?? "");
  const chatTemplate = chatTemplateOf(header);
  const capabilities: Capability[] = [];
  if (!isEmbeddingOnly(architecture, metadata[architecture])) capabilities.push("completion");
  capabilities.push("embedding");
  if (chatTemplate !== undefined) capabilities.push("tools");
  if (hasFimTokens(metadata.tokenizer?.ggml as Record<string, unknown> | undefined)) capabilities.push("insert");
  if (chatTemplate !== undefined && templateThinks(header)) capabilities.push("thinking");
  return capabilities;
}

/** `tokenizer.chat_template`, when it is a non-blank string. */
export function chatTemplateOf(header: CapabilityHeader): string | undefined {
  const template = (header.metadata.tokenizer as { chat_template?: unknown } | undefined)?.chat_template;
  return typeof template === "string" && template.trim() !== "" ? template : undefined;
}

function isEmbeddingOnly(architecture: string, archMetadata: Record<string, unknown> | undefined): boolean {
  return EMBEDDING_ONLY_ARCHITECTURES.has(architecture) || archMetadata?.pooling_type !== undefined;
}

function hasFimTokens(ggml: Record<string, unknown> | undefined): boolean {
  return FIM_ROLES.every((keys) => keys.some((key) => isTokenId(ggml?.[key])));
}

// Converters write -1 (as uint32: 0xFFFFFFFF) for "no such token".
function isTokenId(value: unknown): boolean {
  const id = Number(value);
  return (typeof value === "number" || typeof value === "bigint") && Number.isInteger(id) && id >= 0 && id !== 0xffff_ffff;
}

/**
 * The engine resolves its wrapper from the loaded model (which adds the tokenizer); from the
 * header alone node-llama-cpp still matches the template text against its specialized wrappers
 * and reads thought segments (`<think>`…) out of a Jinja template. If resolution throws, the
 * template text decides.
 */
function templateThinks(header: CapabilityHeader): boolean {
  try {
    const wrapper = resolveChatWrapper({ fileInfo: header as GgufFileInfo, bosString: null, warningLogs: false });
    return wrapper?.settings.segments?.thought !== undefined;
  } catch {
    return chatTemplateOf(header)?.includes("<think>") ?? false;
  }
}

/** Resolving a wrapper takes up to a second: results per (family, template) are kept. */
const templateCapabilityCache = new Map<string, Capability[]>();

/**
 * The capabilities of a model whose chat template is replaced (a sidecar's TEMPLATE): tools and
 * thinking follow the new template; completion, embedding and insert stay the file's.
 */
export function withTemplate(capabilities: readonly Capability[], family: string, template: string): Capability[] {
  const key = `${family}\0${template}`;
  let fromTemplate = templateCapabilityCache.get(key);
  if (!fromTemplate) {
    fromTemplate = modelCapabilities({ metadata: { general: { architecture: family }, tokenizer: { chat_template: template } } } as unknown as CapabilityHeader);
    templateCapabilityCache.set(key, fromTemplate);
  }
  const kept = capabilities.filter((c) => c !== "tools" && c !== "thinking");
  return [...kept, ...fromTemplate.filter((c) => c === "tools" || c === "thinking")];
}
