import { z } from "zod";

export const ModelDetails = z.object({
  parent_model: z.string(),
  /** always "gguf" here */
  format: z.string(),
  /** architecture, e.g. "llama" */
  family: z.string(),
  families: z.array(z.string()).nullable(),
  /** e.g. "293K", "7.2B" (Ollama's format) */
  parameter_size: z.string(),
  /** e.g. "Q8_0", "F32" */
  quantization_level: z.string(),
});
export type ModelDetails = z.infer<typeof ModelDetails>;

export const ListedModel = z.object({
  name: z.string(),
  model: z.string(),
  /** RFC 3339 */
  modified_at: z.string(),
  /** file size in bytes */
  size: z.number().int(),
  /** sha256 of the file, hex */
  digest: z.string(),
  details: ModelDetails,
});
export type ListedModel = z.infer<typeof ListedModel>;

export const ListResponse = z.object({ models: z.array(ListedModel) });
export type ListResponse = z.infer<typeof ListResponse>;

export const VersionResponse = z.object({ version: z.string() });
