import { GgmlType, GgufFileType, readGgufFileInfo, type GgufTensorInfo } from "node-llama-cpp";
import type { Capability, ModelDetails } from "@caravan/protocol";
import { chatTemplateOf, modelCapabilities } from "./capabilities.ts";

/** What the catalog needs from a GGUF header. */
export interface GgufFacts {
  details: ModelDetails;
  hasChatTemplate: boolean;
  /** what the model can do (see modelCapabilities) */
  capabilities: Capability[];
  /** context length the model was trained with (0 when the header does not say) */
  contextLength: number;
  /** bytes of K+V cache per token of context for one sequence with an f16 cache (0 when the header does not say) */
  kvBytesPerToken: number;
  /** transformer blocks, i.e. GPU-offloadable layers less the output layer (0 when the header does not say) */
  layerCount: number;
}

// Large arrays that nothing here reads; skipping them keeps a scan of big models fast.
const IGNORED_KEYS = ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"];

/** Reads the header of a GGUF file. Throws on a file that is not GGUF. */
export async function readGgufFacts(path: string): Promise<GgufFacts> {
  const info = await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false, ignoreKeys: IGNORED_KEYS });
  const tensors = info.fullTensorInfo ?? [];
  const family = String(info.metadata.general?.architecture ?? "unknown");
  return {
    details: {
      parent_model: "",
      format: "gguf",
      family,
      families: [family],
      parameter_size: formatParameterCount(totalParameters(tensors)),
      quantization_level: quantizationName(info.metadata.general?.file_type, dominantTensorType(tensors)),
    },
    hasChatTemplate: chatTemplateOf(info) !== undefined,
    capabilities: modelCapabilities(info),
    contextLength: Number(info.architectureMetadata.context_length ?? 0),
    kvBytesPerToken: kvCacheBytesPerToken(info.architectureMetadata as AttentionMetadata),
    layerCount: Number((info.architectureMetadata as AttentionMetadata).block_count ?? 0),
  };
}

/** The part of a GGUF's `<architecture>.*` metadata that sizes the KV cache. */
export interface AttentionMetadata {
  block_count?: number;
  embedding_length?: number;
  attention?: {
    /** a number, or one per layer */
    head_count?: number | readonly number[];
    /** a number, or one per layer (0 for layers without attention); absent = head_count (no GQA) */
    head_count_kv?: number | readonly number[];
    /** per-head K and V widths when they differ from embedding_length / head_count (Gemma, MLA) */
    key_length?: number;
    value_length?: number;
  };
}

const F16_BYTES = 2;

/**
 * Bytes of K+V cache that one token of context takes in one sequence with llama.cpp's default
 * f16 cache: per layer, head_count_kv × (K width + V width) × 2 bytes, where a head's width is
 * key_length / value_length or, when absent, embedding_length / head_count. For a plain model this
 * is 2 × block_count × (embedding_length / head_count × head_count_kv) × 2. 0 when the header
 * lacks the numbers. Sliding-window layers are counted at full size: an overestimate, which is the
 * safe side for a memory budget.
 */
export function kvCacheBytesPerToken(arch: AttentionMetadata): number {
  const layers = positive(arch.block_count);
  const embedding = positive(arch.embedding_length);
  const attention = arch.attention;
  if (!layers || !embedding || attention?.head_count === undefined) return 0;
  let perToken = 0;
  for (let layer = 0; layer < layers; layer++) {
    // A per-layer head count of 0 marks a layer without attention (hybrid recurrent models): no cache.
    const heads = positive(perLayer(attention.head_count, layer));
    if (!heads) continue;
    const kvHeads = perLayer(attention.head_count_kv, layer) ?? heads;
    const keyWidth = positive(attention.key_length) ?? embedding / heads;
    const valueWidth = positive(attention.value_length) ?? embedding / heads;
    perToken += Math.max(0, kvHeads) * (keyWidth + valueWidth) * F16_BYTES;
  }
  return Math.round(perToken);
}

function perLayer(value: number | readonly number[] | undefined, layer: number): number | undefined {
  const picked = typeof value === "number" ? value : value?.[layer];
  return picked === undefined || !Number.isFinite(Number(picked)) ? undefined : Number(picked);
}

function positive(value: number | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

// GgufInsights computes the next two the same way, but creating one starts a second, backend-less
// Llama whose console logger then takes over llama.cpp's log output when it is created before the
// engine's. The header alone is enough here.

function elements(tensor: GgufTensorInfo): number {
  return tensor.dimensions.reduce<number>((product, dim) => product * Number(dim), 1);
}

/** Weights in all tensors (Ollama's `general.parameter_count`). */
export function totalParameters(tensors: readonly GgufTensorInfo[]): number {
  return tensors.reduce((sum, tensor) => sum + elements(tensor), 0);
}

/** The tensor type holding the most weights. */
function dominantTensorType(tensors: readonly GgufTensorInfo[]): GgmlType | undefined {
  const weights = new Map<GgmlType, number>();
  for (const tensor of tensors) weights.set(tensor.ggmlType, (weights.get(tensor.ggmlType) ?? 0) + elements(tensor));
  let dominant: GgmlType | undefined;
  for (const [type, count] of weights) if (dominant === undefined || count > weights.get(dominant)!) dominant = type;
  return dominant;
}

/**
 * Ollama's format.HumanNumber, which fills `parameter_size`: whole thousands ("293K"),
 * millions with two decimals ("500.50M"), billions with one ("7.2B"), and no decimals when whole.
 */
export function formatParameterCount(count: number): string {
  const scaled = (value: number, decimals: number, suffix: string) =>
    `${Number.isInteger(value) ? value.toFixed(0) : value.toFixed(decimals)}${suffix}`;
  if (count >= 1e9) return scaled(count / 1e9, 1, "B");
  if (count >= 1e6) return scaled(count / 1e6, 2, "M");
  if (count >= 1e3) return `${(count / 1e3).toFixed(0)}K`;
  return String(Math.trunc(count));
}

/**
 * Ollama's `quantization_level`: the name of `general.file_type` ("Q8_0", "Q4_K_M", "F32"), or,
 * when the header lacks it (stories260K does), the tensor type that holds most of the weights.
 */
export function quantizationName(fileType: GgufFileType | undefined, dominantTensorType: GgmlType | undefined): string {
  if (fileType !== undefined && GgufFileType[fileType] !== undefined) return GgufFileType[fileType].replace(/^(MOSTLY|ALL)_/, "");
  if (dominantTensorType !== undefined && GgmlType[dominantTensorType] !== undefined) return GgmlType[dominantTensorType];
  return "unknown";
}
