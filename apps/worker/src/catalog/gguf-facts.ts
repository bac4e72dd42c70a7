import { GgmlType, GgufFileType, readGgufFileInfo, type GgufTensorInfo } from "node-llama-cpp";
import type { ModelDetails } from "@caravan/protocol";

/** What the catalog needs from a GGUF header. */
export interface GgufFacts {
  details: ModelDetails;
  hasChatTemplate: boolean;
  /** context length the model was trained with (0 when the header does not say) */
  contextLength: number;
}

// Large arrays that nothing here reads; skipping them keeps a scan of big models fast.
const IGNORED_KEYS = ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"];

/** Reads the header of a GGUF file. Throws on a file that is not GGUF. */
export async function readGgufFacts(path: string): Promise<GgufFacts> {
  const info = await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false, ignoreKeys: IGNORED_KEYS });
  const tensors = info.fullTensorInfo ?? [];
  const family = String(info.metadata.general?.architecture ?? "unknown");
  const chatTemplate = (info.metadata.tokenizer as { chat_template?: unknown } | undefined)?.chat_template;
  return {
    details: {
      parent_model: "",
      format: "gguf",
      family,
      families: [family],
      parameter_size: formatParameterCount(totalParameters(tensors)),
      quantization_level: quantizationName(info.metadata.general?.file_type, dominantTensorType(tensors)),
    },
    hasChatTemplate: typeof chatTemplate === "string" && chatTemplate.length > 0,
    contextLength: Number(info.architectureMetadata.context_length ?? 0),
  };
}

// GgufInsights computes the next two the same way, but creating one starts a second, backend-less
// Llama whose console logger then takes over llama.cpp's log output when it is created before the
// engine's. The header alone is enough here.

function elements(tensor: GgufTensorInfo): number {
  return tensor.dimensions.reduce<number>((product, dim) => product * Number(dim), 1);
}

function totalParameters(tensors: readonly GgufTensorInfo[]): number {
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
