import { z } from "zod";
import { KeepAliveField, ModelField } from "./chat.ts";
import { mustBe, mustBeOneOf, nullAsAbsent } from "./fields.ts";
import { ModelOptions } from "./options.ts";

/**
 * POST /api/embed. `input` absent, `""` or `[]`: load the model and answer with no embeddings, as
 * Ollama does; `[""]` is one input (an empty string embeds as the model's BOS token).
 */
export const EmbedRequest = z.object(
  {
    model: ModelField,
    input: nullAsAbsent(
      z
        .union([z.string().transform((text) => (text === "" ? [] : [text])), z.array(z.string())], { error: mustBeOneOf("a string or an array of strings") })
        .default([]),
    ),
    /** cut inputs longer than the context (default); false makes that an error */
    truncate: nullAsAbsent(z.boolean({ error: mustBe }).default(true)),
    /** keep the first N dimensions (the vector is normalized again) */
    dimensions: nullAsAbsent(z.number({ error: mustBe }).int({ error: mustBe }).min(1, { error: "dimensions must be a positive integer" }).optional()),
    options: nullAsAbsent(ModelOptions.optional()),
    keep_alive: nullAsAbsent(KeepAliveField.optional()),
  },
  { error: mustBe },
);
export type EmbedRequest = z.infer<typeof EmbedRequest>;

export const EmbedResponse = z.object({
  model: z.string(),
  embeddings: z.array(z.array(z.number())),
  total_duration: z.number().int(),
  load_duration: z.number().int(),
  prompt_eval_count: z.number().int(),
});
export type EmbedResponse = z.infer<typeof EmbedResponse>;

/** POST /api/embeddings (legacy): one prompt, one vector, not normalized. */
export const EmbeddingsRequest = z.object(
  {
    model: ModelField,
    prompt: nullAsAbsent(z.string({ error: mustBe }).default("")),
    options: nullAsAbsent(ModelOptions.optional()),
    keep_alive: nullAsAbsent(KeepAliveField.optional()),
  },
  { error: mustBe },
);
export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequest>;
