import type { Context } from "hono";
import type { Logger } from "pino";
import type { z } from "zod";
import { describeZodError, unknownOptionKeys } from "@caravan/protocol";
import { badRequest } from "./errors.ts";
import { assertSafeModelNames } from "./guard/model-name.ts";

/**
 * Reads a JSON body and validates it, turning every client mistake into a 400 that names it.
 * Returns the parsed value and the raw object (for warnings about keys the schema dropped).
 */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<{ body: z.infer<S>; raw: Record<string, unknown> }> {
  const text = await c.req.text();
  if (text.trim() === "") throw badRequest("missing request body");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw badRequest(`invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw badRequest("request body must be a JSON object");
  assertSafeModelNames(raw as Record<string, unknown>);
  const result = schema.safeParse(raw);
  if (!result.success) throw badRequest(describeZodError(result.error));
  return { body: result.data, raw: raw as Record<string, unknown> };
}

/** readBody for Ollama's generation requests: `options` keys caravan does not know are logged, then ignored. */
export async function readWithOptions<S extends z.ZodType<{ model: string }>>(c: Context, schema: S, log: Logger): Promise<z.infer<S>> {
  const { body, raw } = await readBody(c, schema);
  const unknown = unknownOptionKeys(raw.options);
  if (unknown.length > 0) log.warn({ model: body.model, options: unknown }, "ignoring unknown options");
  return body;
}
