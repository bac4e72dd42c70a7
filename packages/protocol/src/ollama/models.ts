import { z } from "zod";
import { mustBe, nullAsAbsent } from "./fields.ts";

/** `model`, or the legacy `name` that older clients (the official JS client's pull and delete among them) send. */
function modelOrName<T extends { model?: string; name?: string }>(request: T, ctx: z.RefinementCtx): string {
  const model = request.model || request.name;
  if (!model) {
    ctx.issues.push({ code: "custom", input: request, message: "model is required" });
    return z.NEVER;
  }
  return model;
}

/** POST /api/pull. `model` is a source (see parsePullSource), not an Ollama library name. */
export const PullRequest = z
  .object(
    {
      model: nullAsAbsent(z.string({ error: mustBe }).optional()),
      name: nullAsAbsent(z.string({ error: mustBe }).optional()),
      /** allow http:// sources */
      insecure: nullAsAbsent(z.boolean({ error: mustBe }).default(false)),
      stream: nullAsAbsent(z.boolean({ error: mustBe }).default(true)),
      /** caravan: pull only on these worker ids (default: every live worker) */
      workers: nullAsAbsent(z.array(z.string({ error: mustBe }), { error: mustBe }).optional()),
    },
    { error: mustBe },
  )
  .transform((request, ctx) => ({ model: modelOrName(request, ctx), insecure: request.insecure, stream: request.stream, workers: request.workers }));
export type PullRequest = z.infer<typeof PullRequest>;

/** DELETE /api/delete */
export const DeleteRequest = z
  .object(
    {
      model: nullAsAbsent(z.string({ error: mustBe }).optional()),
      name: nullAsAbsent(z.string({ error: mustBe }).optional()),
    },
    { error: mustBe },
  )
  .transform((request, ctx) => ({ model: modelOrName(request, ctx) }));
export type DeleteRequest = z.infer<typeof DeleteRequest>;

/** POST /api/copy */
export const CopyRequest = z.object(
  {
    source: z.string({ error: mustBe }).min(1, "source is required"),
    destination: z.string({ error: mustBe }).min(1, "destination is required"),
  },
  { error: mustBe },
);
export type CopyRequest = z.infer<typeof CopyRequest>;

/**
 * One line of a pull's progress stream, Ollama's shape: `pulling manifest`, then `pulling <digest>`
 * lines with byte counts, `verifying sha256 digest`, `success`.
 */
export const ProgressResponse = z.object({
  status: z.string(),
  /** the blob being downloaded: `sha256:<hex>` when the source names its digest, else the file name */
  digest: z.string().optional(),
  /** bytes in all */
  total: z.number().int().optional(),
  /** bytes downloaded so far */
  completed: z.number().int().optional(),
});
export type ProgressResponse = z.infer<typeof ProgressResponse>;
