import { z } from "zod";
import { DoneReason, Format, GenerationMetrics, KeepAliveField, Logprob, ModelField, Think, TopLogprobs } from "./chat.ts";
import { mustBe, nullAsAbsent } from "./fields.ts";
import { ModelOptions } from "./options.ts";

/** POST /api/generate: a completion of one prompt (templated as a user turn unless `raw`). */
export const GenerateRequest = z.object(
  {
    model: ModelField,
    /** empty or absent: load the model (or, with keep_alive 0, unload it) */
    prompt: nullAsAbsent(z.string({ error: mustBe }).default("")),
    /** text after the insertion point (fill-in-the-middle); needs a model with the insert capability */
    suffix: nullAsAbsent(z.string({ error: mustBe }).optional()),
    /** replaces the model's default system prompt */
    system: nullAsAbsent(z.string({ error: mustBe }).optional()),
    /** a Go template overriding the model's; caravan renders with the GGUF's own template instead (logged) */
    template: nullAsAbsent(z.string({ error: mustBe }).optional()),
    /** deprecated token context from an earlier answer; not supported (logged) */
    context: nullAsAbsent(z.array(z.number({ error: mustBe }), { error: mustBe }).optional()),
    /** send the prompt to the model as is, without the chat template */
    raw: nullAsAbsent(z.boolean({ error: mustBe }).default(false)),
    format: nullAsAbsent(Format.optional()),
    images: nullAsAbsent(z.array(z.string({ error: mustBe }), { error: mustBe }).optional()),
    options: nullAsAbsent(ModelOptions.optional()),
    stream: nullAsAbsent(z.boolean({ error: mustBe }).default(true)),
    keep_alive: nullAsAbsent(KeepAliveField.optional()),
    think: nullAsAbsent(Think.optional()),
    logprobs: nullAsAbsent(z.boolean({ error: mustBe }).optional()),
    top_logprobs: nullAsAbsent(TopLogprobs.optional()),
  },
  { error: mustBe },
);
export type GenerateRequest = z.infer<typeof GenerateRequest>;

export const GenerateResponse = z.object({
  model: z.string(),
  created_at: z.string(),
  response: z.string(),
  thinking: z.string().optional(),
  done: z.boolean(),
  done_reason: DoneReason.optional(),
  logprobs: z.array(Logprob).optional(),
  ...GenerationMetrics.partial().shape,
});
export type GenerateResponse = z.infer<typeof GenerateResponse>;
