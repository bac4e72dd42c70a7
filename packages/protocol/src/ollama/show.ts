import { z } from "zod";
import { mustBe, nullAsAbsent } from "./fields.ts";
import { ModelDetails } from "./tags.ts";

/**
 * What a model can do, in Ollama's words. caravan derives them from the GGUF: "completion" for
 * generative models, "embedding" for any model the engine can embed with, "tools" for models with
 * a chat template, "thinking" where the template has thought segments, "insert" with FIM tokens.
 * "vision" never (the engine has no multimodal path).
 */
export const Capability = z.enum(["completion", "embedding", "tools", "thinking", "insert", "vision"]);
export type Capability = z.infer<typeof Capability>;

/** POST /api/show. Old clients send `name` instead of `model`. */
export const ShowRequest = z
  .object(
    {
      model: nullAsAbsent(z.string({ error: mustBe }).optional()),
      name: nullAsAbsent(z.string({ error: mustBe }).optional()),
      /** include large metadata arrays (tokenizer vocab, merges) in model_info */
      verbose: nullAsAbsent(z.boolean({ error: mustBe }).default(false)),
    },
    { error: mustBe },
  )
  .transform((request, ctx) => {
    const model = request.model || request.name;
    if (!model) {
      ctx.issues.push({ code: "custom", input: request, message: "model is required" });
      return z.NEVER;
    }
    return { model, verbose: request.verbose };
  });
export type ShowRequest = z.infer<typeof ShowRequest>;

/** What a worker answers about one of its models (the gateway adds nothing but the name). */
export const ShowInfo = z.object({
  /** a Modelfile describing the model as caravan runs it */
  modelfile: z.string(),
  /** default parameters, one `name value` per line (Modelfile syntax) */
  parameters: z.string(),
  /** the chat template (a sidecar's, the GGUF's Jinja template, or a description of caravan's plain layout) */
  template: z.string(),
  /** the default system prompt (from the model's sidecar NAME.modelfile) */
  system: z.string().optional(),
  /** the license text (from the sidecar) */
  license: z.string().optional(),
  details: ModelDetails,
  /** the GGUF's metadata, flattened to dotted keys */
  model_info: z.record(z.string(), z.unknown()),
  capabilities: z.array(Capability),
  /** RFC 3339 */
  modified_at: z.string(),
});
export type ShowInfo = z.infer<typeof ShowInfo>;
export const ShowResponse = ShowInfo;
export type ShowResponse = ShowInfo;
